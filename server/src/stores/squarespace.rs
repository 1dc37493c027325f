//! Squarespace (OAuth and Commerce API 1.0, product read), as `shared/platforms.md` section 10
//! describes it: consent with offline access and no PKCE, the token endpoint (HTTP Basic, a JSON
//! body, tokens dated rather than counted, a refresh token spent by every refresh), the site a
//! token acts for, the product list walked by its cursor (filtered by `modifiedAfter` and
//! `modifiedBefore` for an incremental sync), one product read fresh, and the sorting of
//! Squarespace's answers. Nothing outside this file knows a Squarespace URL or error body.
//!
//! Every request names the app in its `User-Agent`: Squarespace refuses, or throttles harder,
//! requests that do not. The shared HTTP client already sends `Picscripterai/<version>`; it is set
//! again on each request here so the requirement is visible where the requests are made.
//!
//! Squarespace throttles a site for a minute once it passes about 300 requests a minute, and
//! sends no rate headers: a 429 is handed to the sync as `Retryable` with a minute's wait rather
//! than slept through. Only a `Retry-After` of a few seconds, should Squarespace ever send one, is
//! waited out here.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, HeaderMap, USER_AGENT};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use app::types::Store;

use super::api::{
    ProductPage, RemoteProduct, RemoteState, RemoteVariant, StoreAccount, StoreApi, SyncScope,
    currency_exponent, minor_units, plain_text, read_json, send, transport_error,
};
use crate::config::{ClientCredentials, PlatformApp};
use crate::platforms::answers::retry_after;
use crate::platforms::{AuthorizationStart, PlatformError, TokenSet, join_url};

/// Reading products is all the app does at Squarespace.
const SCOPES: [&str; 1] = ["website.products.read"];
const AUTHORIZE_PATH: &str = "/api/1/login/oauth/provider/authorize";
const TOKEN_PATH: &str = "/api/1/login/oauth/provider/tokens";
const WEBSITE_PATH: &str = "/1.0/authorization/website";
const PRODUCTS_PATH: &str = "/1.0/commerce/products";
/// The same name the shared HTTP client gives itself.
const APP_USER_AGENT: &str = concat!("Picscripterai/", env!("CARGO_PKG_VERSION"));
/// How long a throttled site is paused: the wait a 429 asks for when it says nothing.
const COOLDOWN: Duration = Duration::from_secs(60);
/// A throttle asking for this long at most is waited out here, at most this many times in a
/// row; anything longer goes back to the sync, which gives its worker back meanwhile.
const SHORT_WAIT: Duration = Duration::from_secs(5);
const SHORT_WAITS: u32 = 3;
/// Squarespace's own words are kept to this many characters in our messages.
const MAX_MESSAGE_CHARS: usize = 300;
/// ISO 4217's code for "no currency": a product without variants has no price to be in one.
const NO_CURRENCY: &str = "XXX";

pub struct SquarespaceStore {
    credentials: ClientCredentials,
    /// The login host (`https://login.squarespace.com`).
    auth_url: http::Uri,
    /// The API host (`https://api.squarespace.com`).
    api_url: http::Uri,
    http: reqwest::Client,
}

impl SquarespaceStore {
    /// `None` when the operator has not configured Squarespace's credentials. `http` is the
    /// shared client of `platforms::http_client`.
    pub fn from_config(app: &PlatformApp, http: reqwest::Client) -> Option<Self> {
        Some(Self {
            credentials: app.credentials.clone()?,
            auth_url: app.auth_url.clone(),
            api_url: app.api_url.clone(),
            http,
        })
    }

    fn api(&self, path: &str) -> String {
        join_url(&self.api_url, path)
    }

    /// The consent URL for `state`: Squarespace takes no PKCE, and `access_type=offline` is what
    /// earns a refresh token.
    fn authorize_url(&self, redirect_uri: &str, state: &str) -> Result<String, PlatformError> {
        let mut url = url::Url::parse(&join_url(&self.auth_url, AUTHORIZE_PATH)).map_err(|_| {
            PlatformError::permanent(
                "SQUARESPACE_AUTH_URL is not a URL: the operator should correct it.",
            )
        })?;
        url.query_pairs_mut()
            .append_pair("client_id", &self.credentials.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", &SCOPES.join(","))
            .append_pair("state", state)
            .append_pair("access_type", "offline");
        Ok(url.to_string())
    }

    /// One call to the token endpoint. By hand rather than through `oauth2`: Squarespace wants
    /// a JSON body, dates its tokens (`access_token_expires_at`) instead of counting their
    /// seconds, and answers errors in its own envelope.
    async fn token_request(&self, body: Value) -> Result<TokenSet, PlatformError> {
        let request = self
            .http
            .post(join_url(&self.auth_url, TOKEN_PATH))
            .basic_auth(
                &self.credentials.client_id,
                Some(self.credentials.client_secret.expose_secret()),
            )
            .header(USER_AGENT, APP_USER_AGENT)
            .header(ACCEPT, "application/json")
            // Sets `Content-Type: application/json`, which the endpoint insists on.
            .json(&body);
        let response = send(Store::Squarespace, request, classify_token).await?;
        let answer: TokenAnswer = read_json(Store::Squarespace, response).await?;
        Ok(answer.into_tokens(Utc::now()))
    }

    /// A GET to the API with the token. A 429 that asks for a short wait is waited out and the
    /// request sent again; any other answer is returned as it came, for the caller to read.
    async fn get(
        &self,
        url: &str,
        query: &[(&str, String)],
        access_token: &SecretString,
    ) -> Result<reqwest::Response, PlatformError> {
        let mut short_waits = 0;
        loop {
            let response = self
                .http
                .get(url)
                .query(query)
                .bearer_auth(access_token.expose_secret())
                .header(USER_AGENT, APP_USER_AGENT)
                .header(ACCEPT, "application/json")
                .send()
                .await
                .map_err(|error| transport_error(Store::Squarespace, &error))?;
            if response.status() != StatusCode::TOO_MANY_REQUESTS {
                return Ok(response);
            }
            let wait = throttle_wait(response.headers());
            if wait > SHORT_WAIT || short_waits == SHORT_WAITS {
                return Err(refusal(response).await);
            }
            short_waits += 1;
            tokio::time::sleep(wait).await;
        }
    }
}

#[async_trait]
impl StoreApi for SquarespaceStore {
    fn store(&self) -> Store {
        Store::Squarespace
    }

    fn start_authorization(
        &self,
        _shop: Option<&str>,
        redirect_uri: &str,
        state: &str,
    ) -> Result<AuthorizationStart, PlatformError> {
        Ok(AuthorizationStart {
            url: self.authorize_url(redirect_uri, state)?,
            // Squarespace has no PKCE.
            pkce_verifier: SecretString::from(String::new()),
        })
    }

    async fn exchange_code(
        &self,
        _shop: Option<&str>,
        code: &str,
        _pkce_verifier: &SecretString,
        redirect_uri: &str,
    ) -> Result<TokenSet, PlatformError> {
        self.token_request(json!({
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
        }))
        .await
    }

    /// Every refresh spends the refresh token and returns its successor.
    async fn refresh(
        &self,
        _account_id: &str,
        refresh_token: &SecretString,
    ) -> Result<TokenSet, PlatformError> {
        self.token_request(json!({
            "grant_type": "refresh_token",
            "refresh_token": refresh_token.expose_secret(),
        }))
        .await
    }

    async fn account(
        &self,
        _shop: Option<&str>,
        access_token: &SecretString,
    ) -> Result<StoreAccount, PlatformError> {
        let response = self.get(&self.api(WEBSITE_PATH), &[], access_token).await?;
        let website: Website = read_json(Store::Squarespace, successful(response).await?).await?;
        Ok(website.into_account())
    }

    async fn products(
        &self,
        _account_id: &str,
        access_token: &SecretString,
        scope: SyncScope,
        cursor: Option<&str>,
    ) -> Result<ProductPage, PlatformError> {
        let query = page_query(scope, cursor, Utc::now());
        let response = self
            .get(&self.api(PRODUCTS_PATH), &query, access_token)
            .await?;
        let page: ProductList = read_json(Store::Squarespace, successful(response).await?).await?;
        page.into_page()
    }

    async fn product(
        &self,
        _account_id: &str,
        access_token: &SecretString,
        external_id: &str,
    ) -> Result<Option<RemoteProduct>, PlatformError> {
        // The id goes into the path, where a comma would ask for several products and a slash
        // for another resource: Squarespace's ids are letters and digits only.
        if external_id.is_empty() || !external_id.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
            return Ok(None);
        }
        let url = self.api(&format!("{PRODUCTS_PATH}/{external_id}"));
        let response = self.get(&url, &[], access_token).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let list: ProductList = read_json(Store::Squarespace, successful(response).await?).await?;
        list.products
            .into_iter()
            .find(|product| product.id == external_id)
            .map(SquarespaceProduct::into_remote)
            .transpose()
    }
}

/// The query of one product page: the cursor alone when there is one (Squarespace refuses it
/// with filters; it carries the first page's), otherwise the filter of an incremental sync. The
/// window is written to the second, widened rather than narrowed (`modifiedAfter` rounded
/// down, `modifiedBefore` up), so a change is read twice rather than missed; and it never ends
/// before it starts, which Squarespace would refuse, should `since` come from a clock ahead of
/// ours.
fn page_query(
    scope: SyncScope,
    cursor: Option<&str>,
    now: DateTime<Utc>,
) -> Vec<(&'static str, String)> {
    match (cursor.filter(|cursor| !cursor.is_empty()), scope) {
        (Some(cursor), _) => vec![("cursor", cursor.to_owned())],
        (None, SyncScope::Full) => Vec::new(),
        (None, SyncScope::ChangedSince(since)) => {
            let until = now.max(since) + TimeDelta::seconds(1);
            vec![
                ("modifiedAfter", to_the_second(since)),
                ("modifiedBefore", to_the_second(until)),
            ]
        }
    }
}

/// ISO 8601 in UTC, whole seconds (the fraction dropped): `2026-05-01T12:00:00Z`.
fn to_the_second(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The answer itself when it succeeded; the classified error otherwise.
async fn successful(response: reqwest::Response) -> Result<reqwest::Response, PlatformError> {
    if response.status().is_success() {
        Ok(response)
    } else {
        Err(refusal(response).await)
    }
}

async fn refusal(response: reqwest::Response) -> PlatformError {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap_or_default();
    classify(status, &headers, &body, Utc::now())
}

/// What a 429 asks for: `Retry-After` if Squarespace ever sends it, else its documented
/// one-minute cooldown.
fn throttle_wait(headers: &HeaderMap) -> Duration {
    retry_after(headers).unwrap_or(COOLDOWN)
}

// ---------------------------------------------------------------------------------------------
// Answers.

/// The token endpoint's answer. Not `Debug`: it holds tokens.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    /// Epoch seconds, fractional; read from a number or from text.
    #[serde(default)]
    access_token_expires_at: Option<Value>,
    /// Absent when the consent was not for offline access.
    #[serde(default)]
    refresh_token: Option<String>,
}

impl TokenAnswer {
    /// The tokens, with the access token's date turned into the lifetime left at `now`.
    fn into_tokens(self, now: DateTime<Utc>) -> TokenSet {
        TokenSet {
            access: SecretString::from(self.access_token),
            refresh: self
                .refresh_token
                .filter(|token| !token.is_empty())
                .map(SecretString::from),
            expires_in: self
                .access_token_expires_at
                .as_ref()
                .and_then(epoch_seconds)
                .and_then(|expires_at| lifetime_left(expires_at, now)),
            scopes: SCOPES.join(" "),
        }
    }
}

fn epoch_seconds(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// From `now` until the epoch second `expires_at`; none left when it has passed.
fn lifetime_left(expires_at: f64, now: DateTime<Utc>) -> Option<Duration> {
    let left = expires_at - now.timestamp_millis() as f64 / 1000.0;
    Duration::try_from_secs_f64(left.max(0.0)).ok()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Website {
    id: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    site_title: Option<String>,
}

impl Website {
    /// Named by its title, else by its address's host, else by its id.
    fn into_account(self) -> StoreAccount {
        let url = self.url.filter(|url| !url.trim().is_empty());
        let host = url
            .as_deref()
            .and_then(|url| url::Url::parse(url).ok())
            .and_then(|url| url.host_str().map(str::to_owned));
        let name = self
            .site_title
            .map(|title| title.trim().to_owned())
            .filter(|title| !title.is_empty())
            .or(host)
            .unwrap_or_else(|| self.id.clone());
        StoreAccount {
            account_id: self.id,
            name,
            url,
        }
    }
}

/// A page of `GET /1.0/commerce/products`, or the answer of `GET .../products/{id}`.
#[derive(Deserialize)]
struct ProductList {
    #[serde(default, deserialize_with = "null_as_default")]
    products: Vec<SquarespaceProduct>,
    #[serde(default)]
    pagination: Option<Pagination>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Pagination {
    #[serde(default)]
    has_next_page: bool,
    #[serde(default)]
    next_page_cursor: Option<String>,
}

impl ProductList {
    fn into_page(self) -> Result<ProductPage, PlatformError> {
        let next = match self.pagination {
            Some(pagination) if pagination.has_next_page => Some(
                pagination
                    .next_page_cursor
                    .filter(|cursor| !cursor.is_empty())
                    // Ending the walk here would take the products not yet read for removed.
                    .ok_or_else(|| PlatformError::Retryable {
                        wait: None,
                        maybe_done: false,
                        detail: "Squarespace said more products follow but gave no cursor to them"
                            .into(),
                    })?,
            ),
            _ => None,
        };
        let products = self
            .products
            .into_iter()
            .map(SquarespaceProduct::into_remote)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ProductPage {
            products,
            next,
            total: None,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SquarespaceProduct {
    id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    name: String,
    /// HTML.
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    tags: Vec<String>,
    #[serde(default)]
    is_visible: Option<bool>,
    #[serde(default, deserialize_with = "null_as_default")]
    variants: Vec<SquarespaceVariant>,
    #[serde(default, deserialize_with = "null_as_default")]
    images: Vec<SquarespaceImage>,
    #[serde(default)]
    modified_on: Option<String>,
}

#[derive(Deserialize)]
struct SquarespaceVariant {
    id: String,
    #[serde(default)]
    sku: Option<String>,
    #[serde(default)]
    pricing: Option<Pricing>,
    #[serde(default)]
    stock: Option<Stock>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Pricing {
    base_price: Money,
    #[serde(default)]
    on_sale: bool,
    #[serde(default)]
    sale_price: Option<Money>,
}

#[derive(Deserialize)]
struct Money {
    currency: String,
    /// Decimal text (`"19.99"`); a number is read as its text.
    #[serde(deserialize_with = "decimal_text")]
    value: String,
}

#[derive(Deserialize)]
struct Stock {
    #[serde(default)]
    quantity: i64,
    #[serde(default)]
    unlimited: bool,
}

#[derive(Deserialize)]
struct SquarespaceImage {
    #[serde(default, deserialize_with = "null_as_default")]
    url: String,
}

impl SquarespaceProduct {
    /// The product as the sync keeps it: visible means on sale, hidden means archived; the
    /// currency is the first variant's; images in Squarespace's order, the main one first.
    fn into_remote(self) -> Result<RemoteProduct, PlatformError> {
        let currency = self
            .variants
            .first()
            .and_then(|variant| variant.pricing.as_ref())
            .map_or_else(
                || NO_CURRENCY.to_owned(),
                |pricing| pricing.base_price.currency.clone(),
            );
        let variants = self
            .variants
            .iter()
            .map(|variant| variant.to_remote(&self.name))
            .collect::<Result<Vec<_>, _>>()?;
        let state = if self.is_visible.unwrap_or(false) {
            RemoteState::Active
        } else {
            RemoteState::Archived
        };
        Ok(RemoteProduct {
            external_id: self.id,
            title: self.name,
            description: plain_text(self.description.as_deref().unwrap_or_default()),
            url: self.url.filter(|url| !url.trim().is_empty()),
            state,
            currency,
            variants,
            images: self
                .images
                .into_iter()
                .map(|image| image.url)
                .filter(|url| !url.is_empty())
                .collect(),
            tags: self.tags,
            updated_at: self.modified_on.as_deref().and_then(squarespace_time),
        })
    }
}

impl SquarespaceVariant {
    /// The price a shopper pays (the sale price while on sale), in minor units; the stock,
    /// unless it is unlimited.
    fn to_remote(&self, product_name: &str) -> Result<RemoteVariant, PlatformError> {
        let price = self
            .pricing
            .as_ref()
            .map(Pricing::charged)
            .ok_or_else(|| unreadable_price(product_name, "no price"))?;
        let price_minor = minor_units(&price.value, currency_exponent(&price.currency))
            .ok_or_else(|| unreadable_price(product_name, &price.value))?;
        Ok(RemoteVariant {
            id: self.id.clone(),
            sku: self
                .sku
                .as_deref()
                .map(str::trim)
                .filter(|sku| !sku.is_empty())
                .map(str::to_owned),
            price_minor,
            stock: self.stock.as_ref().and_then(Stock::counted),
        })
    }
}

impl Pricing {
    fn charged(&self) -> &Money {
        match &self.sale_price {
            Some(sale) if self.on_sale => sale,
            _ => &self.base_price,
        }
    }
}

impl Stock {
    fn counted(&self) -> Option<i64> {
        (!self.unlimited).then_some(self.quantity)
    }
}

/// A price the sync cannot store: better to stop than to record a wrong one.
fn unreadable_price(product_name: &str, price: &str) -> PlatformError {
    let name: String = product_name.chars().take(80).collect();
    let price: String = price.chars().take(40).collect();
    PlatformError::permanent(format!(
        "Squarespace sent a price we cannot read for the product \u{201c}{name}\u{201d} ({price}); check its price in Squarespace, then sync again."
    ))
}

/// `modifiedOn`: ISO 8601 with an offset.
fn squarespace_time(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw.trim())
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// A field Squarespace may send as `null` reads as its empty value.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A price's `value` as text, whether it came as `"19.99"` or as `19.99`.
fn decimal_text<'de, D>(deserializer: D) -> Result<String, D::Error>
where
    D: Deserializer<'de>,
{
    match Value::deserialize(deserializer)? {
        Value::String(text) => Ok(text),
        Value::Number(number) => Ok(number.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "a price is text or a number, not {other}"
        ))),
    }
}

// ---------------------------------------------------------------------------------------------
// Errors.

/// Squarespace's error envelope, `{type, subtype, message, details, contextId}`: only the
/// message is shown to people.
#[derive(Deserialize, Default)]
struct ErrorEnvelope {
    #[serde(default)]
    message: Option<String>,
}

/// Squarespace's own sentence from an error body, trimmed and kept short.
fn store_message(body: &str) -> Option<String> {
    let message = serde_json::from_str::<ErrorEnvelope>(body).ok()?.message?;
    let message: String = message.trim().chars().take(MAX_MESSAGE_CHARS).collect();
    (!message.is_empty()).then_some(message)
}

/// Sorts an unsuccessful API answer into the closed set of outcomes.
pub fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    _now: DateTime<Utc>,
) -> PlatformError {
    let message = store_message(body);
    match status.as_u16() {
        401 => PlatformError::Reauth {
            detail: "Squarespace no longer accepts this site's authorization: connect the site again"
                .into(),
        },
        403 => PlatformError::permanent(
            "Squarespace refused to show this site's products: the connection may not read them (website.products.read). Connect the site again and allow access to products.",
        ),
        404 => PlatformError::permanent(match message {
            Some(message) => format!(
                "Squarespace could not find what was asked for ({message}); if the site or its store was closed, disconnect it."
            ),
            None => "Squarespace could not find what was asked for; if the site or its store was closed, disconnect it.".to_owned(),
        }),
        429 => PlatformError::Retryable {
            wait: Some(throttle_wait(headers)),
            maybe_done: false,
            detail: "Squarespace's rate limit was reached; it pauses the site's requests for a minute"
                .into(),
        },
        500..=599 => PlatformError::Retryable {
            wait: retry_after(headers),
            maybe_done: false,
            detail: format!("Squarespace had a server error ({})", status.as_u16()),
        },
        _ => PlatformError::permanent(match message {
            Some(message) => format!("Squarespace refused the request: {message}"),
            None => format!("Squarespace refused the request ({}).", status.as_u16()),
        }),
    }
}

/// Sorts an unsuccessful answer from the token endpoint, read with RFC 6749's statuses
/// (Squarespace documents none of its own): a refused code or refresh token (400) takes the
/// site's owner, refused app credentials (401) the operator. Anything else is the API's
/// sorting, except that a retry must allow for a refresh whose answer was lost having spent
/// the refresh token.
fn classify_token(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    now: DateTime<Utc>,
) -> PlatformError {
    match status.as_u16() {
        400 => PlatformError::Reauth {
            detail: match store_message(body) {
                Some(message) => format!(
                    "Squarespace no longer accepts this site's authorization ({message}): connect the site again"
                ),
                None => "Squarespace no longer accepts this site's authorization: connect the site again"
                    .to_owned(),
            },
        },
        401 | 403 => PlatformError::permanent(
            "Squarespace refused this app's credentials: the operator should check SQUARESPACE_CLIENT_ID and SQUARESPACE_CLIENT_SECRET.",
        ),
        _ => classify(status, headers, body, now).with_maybe_done(true),
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    const SITE_ID: &str = "5a0000010000000000000001";

    fn store() -> SquarespaceStore {
        let app = PlatformApp {
            credentials: Some(ClientCredentials {
                client_id: "client id".to_owned(),
                client_secret: SecretString::from("secret".to_owned()),
            }),
            auth_url: "http://127.0.0.1:4000/sandbox/squarespace/"
                .parse()
                .unwrap(),
            api_url: "https://api.squarespace.test".parse().unwrap(),
        };
        SquarespaceStore::from_config(&app, reqwest::Client::new()).unwrap()
    }

    /// A product as Squarespace lists it: on sale in one variant, unlimited in the other.
    fn product_json() -> Value {
        json!({
            "id": "5b0000010000000000000419",
            "type": "PHYSICAL",
            "storePageId": "5e0000010000000000000001",
            "name": "Speckled Mug",
            "description": "<p>Hand-thrown,&nbsp;350&nbsp;ml</p><p>Tom &amp; Jo</p>",
            "url": "https://alice.squarespace.com/shop/p/speckled-mug",
            "urlSlug": "speckled-mug",
            "tags": ["handmade", "mug"],
            "isVisible": true,
            "variants": [
                {
                    "id": "v1",
                    "sku": "MUG-S",
                    "pricing": {
                        "basePrice": { "currency": "USD", "value": "19.99" },
                        "onSale": true,
                        "salePrice": { "currency": "USD", "value": "15.00" }
                    },
                    "stock": { "quantity": 7, "unlimited": false },
                    "attributes": { "Size": "S" }
                },
                {
                    "id": "v2",
                    "sku": "",
                    "pricing": {
                        "basePrice": { "currency": "USD", "value": "24.5" },
                        "onSale": false,
                        "salePrice": { "currency": "USD", "value": "0.00" }
                    },
                    "stock": { "quantity": 0, "unlimited": true },
                    "attributes": { "Size": "L" }
                }
            ],
            "images": [
                { "id": "i1", "url": "https://images.test/main.png", "altText": "front" },
                { "id": "i2", "url": "https://images.test/side.png", "altText": null }
            ],
            "createdOn": "2026-01-02T10:00:00.000Z",
            "modifiedOn": "2026-03-04T05:06:07.250Z"
        })
    }

    fn product_from(value: Value) -> Result<RemoteProduct, PlatformError> {
        serde_json::from_value::<SquarespaceProduct>(value)
            .unwrap()
            .into_remote()
    }

    #[test]
    fn a_product_maps_with_sale_prices_stock_and_plain_text() {
        let product = product_from(product_json()).unwrap();
        assert_eq!(product.external_id, "5b0000010000000000000419");
        assert_eq!(product.title, "Speckled Mug");
        assert_eq!(product.description, "Hand-thrown, 350 ml Tom & Jo");
        assert_eq!(
            product.url.as_deref(),
            Some("https://alice.squarespace.com/shop/p/speckled-mug")
        );
        assert_eq!(product.state, RemoteState::Active);
        assert_eq!(product.currency, "USD");
        assert_eq!(
            product.variants,
            vec![
                RemoteVariant {
                    id: "v1".into(),
                    sku: Some("MUG-S".into()),
                    price_minor: 1500,
                    stock: Some(7),
                },
                RemoteVariant {
                    id: "v2".into(),
                    sku: None,
                    price_minor: 2450,
                    stock: None,
                },
            ]
        );
        assert_eq!(
            product.images,
            [
                "https://images.test/main.png",
                "https://images.test/side.png"
            ]
        );
        assert_eq!(product.tags, ["handmade", "mug"]);
        assert_eq!(
            product
                .updated_at
                .unwrap()
                .to_rfc3339_opts(SecondsFormat::Millis, true),
            "2026-03-04T05:06:07.250Z"
        );
    }

    #[test]
    fn a_hidden_product_is_archived_and_one_without_variants_has_no_currency() {
        let mut hidden = product_json();
        hidden["isVisible"] = json!(false);
        hidden["variants"] = json!(null);
        hidden["tags"] = json!(null);
        hidden["description"] = json!(null);
        let product = product_from(hidden).unwrap();
        assert_eq!(product.state, RemoteState::Archived);
        assert_eq!(product.currency, NO_CURRENCY);
        assert!(product.variants.is_empty() && product.tags.is_empty());
        assert_eq!(product.description, "");
    }

    #[test]
    fn prices_follow_their_currency_and_an_unreadable_one_stops_the_sync() {
        let mut yen = product_json();
        yen["variants"][0]["pricing"] = json!({
            "basePrice": { "currency": "JPY", "value": 1500 },
            "onSale": false,
            "salePrice": null
        });
        let product = product_from(yen).unwrap();
        assert_eq!(product.currency, "JPY");
        assert_eq!(product.variants[0].price_minor, 1500);

        let mut broken = product_json();
        broken["variants"][1]["pricing"]["basePrice"]["value"] = json!("about 20");
        match product_from(broken) {
            Err(PlatformError::Permanent { reason }) => {
                assert!(
                    reason.contains("Speckled Mug") && reason.contains("about 20"),
                    "{reason}"
                );
            }
            other => panic!("an unreadable price must stop the sync: {other:?}"),
        }
    }

    #[test]
    fn a_page_says_where_the_next_one_starts() {
        let page = |pagination: Value| {
            serde_json::from_value::<ProductList>(json!({
                "products": [product_json()],
                "pagination": pagination,
            }))
            .unwrap()
            .into_page()
        };
        let more = page(json!({
            "hasNextPage": true,
            "nextPageCursor": "abc",
            "nextPageUrl": "https://api.squarespace.test/1.0/commerce/products?cursor=abc"
        }))
        .unwrap();
        assert_eq!(more.next.as_deref(), Some("abc"));
        assert_eq!(more.products.len(), 1);
        assert_eq!(more.total, None);
        let last = page(json!({ "hasNextPage": false, "nextPageCursor": null })).unwrap();
        assert_eq!(last.next, None);
        assert!(matches!(
            page(json!({ "hasNextPage": true, "nextPageCursor": null })),
            Err(PlatformError::Retryable { .. })
        ));
    }

    #[test]
    fn the_query_is_a_cursor_or_a_window_of_whole_seconds() {
        let now = DateTime::parse_from_rfc3339("2026-05-01T12:00:00.700Z")
            .unwrap()
            .with_timezone(&Utc);
        let since = DateTime::parse_from_rfc3339("2026-04-30T08:15:30.900Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(page_query(SyncScope::Full, None, now).is_empty());
        assert_eq!(
            page_query(SyncScope::ChangedSince(since), Some("c1"), now),
            [("cursor", "c1".to_owned())]
        );
        assert_eq!(
            page_query(SyncScope::ChangedSince(since), None, now),
            [
                ("modifiedAfter", "2026-04-30T08:15:30Z".to_owned()),
                ("modifiedBefore", "2026-05-01T12:00:01Z".to_owned()),
            ]
        );
        // `since` from a clock ahead of ours still makes a window Squarespace accepts.
        let ahead = now + TimeDelta::hours(1);
        let window = page_query(SyncScope::ChangedSince(ahead), None, now);
        assert!(window[0].1 < window[1].1, "{window:?}");
    }

    #[test]
    fn the_consent_url_asks_for_offline_product_reading_without_pkce() {
        let start = store()
            .start_authorization(
                None,
                "https://app.test/stores/squarespace/callback",
                "st&te",
            )
            .unwrap();
        let url = url::Url::parse(&start.url).unwrap();
        assert_eq!(
            url.path(),
            "/sandbox/squarespace/api/1/login/oauth/provider/authorize"
        );
        let query: std::collections::HashMap<String, String> =
            url.query_pairs().into_owned().collect();
        assert_eq!(query["client_id"], "client id");
        assert_eq!(
            query["redirect_uri"],
            "https://app.test/stores/squarespace/callback"
        );
        assert_eq!(query["scope"], "website.products.read");
        assert_eq!(query["state"], "st&te");
        assert_eq!(query["access_type"], "offline");
        assert!(!query.contains_key("code_challenge"));
        assert!(start.pkce_verifier.expose_secret().is_empty());
        assert_eq!(
            store().api(PRODUCTS_PATH),
            "https://api.squarespace.test/1.0/commerce/products"
        );

        let unconfigured = PlatformApp {
            credentials: None,
            auth_url: "https://login.squarespace.com".parse().unwrap(),
            api_url: "https://api.squarespace.com".parse().unwrap(),
        };
        assert!(SquarespaceStore::from_config(&unconfigured, reqwest::Client::new()).is_none());
    }

    #[test]
    fn a_token_answer_is_dated_and_its_refresh_token_kept() {
        let now = Utc::now();
        let in_half_an_hour = now.timestamp_millis() as f64 / 1000.0 + 1800.0;
        let answer: TokenAnswer = serde_json::from_value(json!({
            "token_type": "bearer",
            "access_token": "at",
            "access_token_expires_at": in_half_an_hour,
            "refresh_token": "rt",
            "refresh_token_expires_at": in_half_an_hour + 7.0 * 86_400.0,
        }))
        .unwrap();
        let tokens = answer.into_tokens(now);
        assert_eq!(tokens.access.expose_secret(), "at");
        assert_eq!(tokens.refresh.unwrap().expose_secret(), "rt");
        let left = tokens.expires_in.unwrap().as_secs_f64();
        assert!((left - 1800.0).abs() < 0.01, "{left}");
        assert_eq!(tokens.scopes, "website.products.read");

        let as_text: TokenAnswer = serde_json::from_value(json!({
            "access_token": "at",
            "access_token_expires_at": format!("{}", now.timestamp() - 10),
        }))
        .unwrap();
        let tokens = as_text.into_tokens(now);
        assert_eq!(tokens.expires_in, Some(Duration::ZERO), "already expired");
        assert!(tokens.refresh.is_none());
    }

    #[test]
    fn a_site_is_named_by_its_title_or_its_host() {
        let website = |value: Value| {
            serde_json::from_value::<Website>(value)
                .unwrap()
                .into_account()
        };
        let titled = website(json!({
            "id": SITE_ID,
            "url": "https://alice.squarespace.com",
            "siteTitle": "Alice's Pottery"
        }));
        assert_eq!(
            titled,
            StoreAccount {
                account_id: SITE_ID.into(),
                name: "Alice's Pottery".into(),
                url: Some("https://alice.squarespace.com".into()),
            }
        );
        let untitled = website(
            json!({ "id": SITE_ID, "url": "https://alice.squarespace.com", "siteTitle": " " }),
        );
        assert_eq!(untitled.name, "alice.squarespace.com");
        assert_eq!(website(json!({ "id": SITE_ID })).name, SITE_ID);
    }

    #[test]
    fn api_answers_are_sorted_into_the_closed_set() {
        let now = Utc::now();
        let none = HeaderMap::new();
        let envelope = |message: &str| {
            json!({
                "type": "INVALID_REQUEST_ERROR",
                "subtype": null,
                "message": message,
                "details": null,
                "contextId": "ABC123"
            })
            .to_string()
        };
        assert!(matches!(
            classify(StatusCode::UNAUTHORIZED, &none, &envelope("expired"), now),
            PlatformError::Reauth { .. }
        ));
        let scope = classify(StatusCode::FORBIDDEN, &none, "", now);
        assert!(
            scope.to_string().contains("website.products.read"),
            "{scope}"
        );
        assert!(matches!(
            classify(
                StatusCode::NOT_FOUND,
                &none,
                &envelope("Product not found."),
                now
            ),
            PlatformError::Permanent { .. }
        ));
        assert_eq!(
            classify(
                StatusCode::BAD_REQUEST,
                &none,
                &envelope("The cursor is invalid."),
                now
            ),
            PlatformError::permanent("Squarespace refused the request: The cursor is invalid.")
        );
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, &none, &envelope("Too many"), now),
            PlatformError::Retryable {
                wait: Some(Duration::from_secs(60)),
                maybe_done: false,
                detail: "Squarespace's rate limit was reached; it pauses the site's requests for a minute".into(),
            }
        );
        let mut told = HeaderMap::new();
        told.insert("retry-after", "2".parse().unwrap());
        assert!(matches!(
            classify(StatusCode::TOO_MANY_REQUESTS, &told, "", now),
            PlatformError::Retryable { wait: Some(wait), .. } if wait == Duration::from_secs(2)
        ));
        assert!(matches!(
            classify(StatusCode::SERVICE_UNAVAILABLE, &none, "<html>", now),
            PlatformError::Retryable {
                wait: None,
                maybe_done: false,
                ..
            }
        ));
    }

    #[test]
    fn token_answers_tell_the_owner_from_the_operator() {
        let now = Utc::now();
        let none = HeaderMap::new();
        let refused = classify_token(
            StatusCode::BAD_REQUEST,
            &none,
            r#"{"type":"INVALID_REQUEST_ERROR","message":"The refresh token was revoked or already used."}"#,
            now,
        );
        match refused {
            PlatformError::Reauth { detail } => {
                assert!(detail.contains("already used"), "{detail}")
            }
            other => panic!("a refused refresh token is a reconnection: {other:?}"),
        }
        let credentials = classify_token(StatusCode::UNAUTHORIZED, &none, "{}", now);
        assert!(
            credentials
                .to_string()
                .contains("SQUARESPACE_CLIENT_SECRET")
        );
        assert!(matches!(
            classify_token(StatusCode::BAD_GATEWAY, &none, "", now),
            PlatformError::Retryable {
                maybe_done: true,
                ..
            }
        ));
    }
}
