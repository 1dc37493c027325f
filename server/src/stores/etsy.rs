//! Etsy (Open API v3), as `shared/platforms.md` section 9 describes it: OAuth with mandatory
//! PKCE, where the token endpoint takes the keystring alone; the shop behind a token; the shop's
//! listings read by state with offset paging; one listing read fresh; and the classification of
//! Etsy's answers. Nothing outside this file knows an Etsy URL or error body.
//!
//! Etsy's API has no "changed since" filter, so an incremental walk sorts by last change,
//! newest first, and stops at the first listing older than the last sync. A full walk reads the
//! `active` listings, then the `sold_out` ones, then the `inactive` ones, so a listing that sold
//! out or was deactivated is seen as such rather than missed and taken for removed. Each state is paged by offset until the offset
//! reaches Etsy's `count`; the cursor is `"{state}:{offset}"`.
//!
//! Etsy limits calls per app, per second and per day, and says how many remain in every answer.
//! The client keeps to it: when this second's allowance is spent, the next call waits a second;
//! a 429 that asks for at most `SHORT_WAIT` is waited out here (up to `SHORT_WAITS` times);
//! a longer one goes back to the sync job as `Retryable { wait }`.
//!
//! The shared secret travels in `x-api-key` on API calls only, never to the token endpoint (the
//! `oauth2` crate's `RequestBody` mode would put it in the form, so token requests are made by
//! hand), and never into an error's text.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use app::types::Store;

use super::api::{
    ProductPage, RemoteProduct, RemoteState, RemoteVariant, StoreAccount, StoreApi, SyncScope,
    currency_exponent, plain_text, read_json, send, transport_error,
};
use crate::config::{ClientCredentials, PlatformApp};
use crate::platforms::answers::retry_after;
use crate::platforms::oauth::{self, ClientAuth, OAuthClient, TokenAnswer};
use crate::platforms::{AuthorizationStart, PlatformError, TokenSet, join_url};

const STORE: Store = Store::Etsy;
/// Reading listings and the shop: all a product sync needs.
const SCOPES: [&str; 2] = ["listings_r", "shops_r"];
const AUTHORIZE_PATH: &str = "/oauth/connect";
const TOKEN_PATH: &str = "/v3/public/oauth/token";
/// The header every API call carries: `keystring:shared_secret`.
const API_KEY_HEADER: &str = "x-api-key";
/// Etsy's largest page.
const PAGE_SIZE: u64 = 100;
/// A throttle asking for this long or less is waited out inside the call...
const SHORT_WAIT: Duration = Duration::from_secs(5);
/// ...this many times at most for one call; then the sync job reschedules itself.
const SHORT_WAITS: u32 = 3;
/// How long to hold back once Etsy says this second's allowance is spent.
const SPENT_SECOND: Duration = Duration::from_secs(1);
/// How much of Etsy's error message a person is shown.
const MESSAGE_CHARS: usize = 300;

pub struct EtsyStore {
    credentials: ClientCredentials,
    /// For the consent URL only (PKCE, scopes, state); token requests are made by hand.
    oauth: OAuthClient,
    api_url: http::Uri,
    http: reqwest::Client,
    /// No API call before then: Etsy said this second's allowance was spent. Shared by every
    /// sync, as the allowance is the app's.
    hold_until: Mutex<Option<Instant>>,
}

impl EtsyStore {
    /// `None` when the operator has not configured Etsy's keystring and shared secret.
    pub fn from_config(app: &PlatformApp, http: reqwest::Client) -> Option<Self> {
        let credentials = app.credentials.clone()?;
        let oauth = oauth::client(
            &credentials,
            join_url(&app.auth_url, AUTHORIZE_PATH),
            join_url(&app.api_url, TOKEN_PATH),
            ClientAuth::InBody,
        );
        Some(Self {
            credentials,
            oauth,
            api_url: app.api_url.clone(),
            http,
            hold_until: Mutex::new(None),
        })
    }

    fn api(&self, path: &str) -> String {
        join_url(&self.api_url, path)
    }

    /// `keystring:shared_secret`, marked sensitive so no log shows it.
    fn api_key(&self) -> Result<HeaderValue, PlatformError> {
        let mut value = HeaderValue::from_str(&format!(
            "{}:{}",
            self.credentials.client_id,
            self.credentials.client_secret.expose_secret()
        ))
        .map_err(|_| {
            PlatformError::permanent(
                "Etsy's API key cannot be sent: ETSY_CLIENT_ID or ETSY_CLIENT_SECRET holds characters a header cannot carry; the operator should check them.",
            )
        })?;
        value.set_sensitive(true);
        Ok(value)
    }

    /// One call to the token endpoint: the keystring as `client_id`, no secret (PKCE proves
    /// the app).
    async fn token_request(&self, form: &[(&str, &str)]) -> Result<TokenSet, PlatformError> {
        let request = self.http.post(self.api(TOKEN_PATH)).form(form);
        // A token request whose answer never arrived may still have spent the refresh token
        // (Etsy rotates it), so the retry must know it may have been done.
        let answer = read_token_answer(request)
            .await
            .map_err(|error| error.with_maybe_done(true))?;
        Ok(answer.into_tokens(&SCOPES))
    }

    /// A GET of the API as JSON, keeping to Etsy's rate limit. `Ok(None)` when Etsy answers
    /// 404, which only some callers expect.
    async fn get_optional<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        token: &SecretString,
    ) -> Result<Option<T>, PlatformError> {
        let url = self.api(path);
        let api_key = self.api_key()?;
        let mut short_waits = 0;
        loop {
            self.hold_back().await;
            let response = self
                .http
                .get(&url)
                .query(query)
                .header(API_KEY_HEADER, api_key.clone())
                .bearer_auth(token.expose_secret())
                .send()
                .await
                .map_err(|error| transport_error(STORE, &error))?;
            self.note_allowance(response.headers());
            let status = response.status();
            if status.is_success() {
                return read_json(STORE, response).await.map(Some);
            }
            if status == StatusCode::NOT_FOUND {
                return Ok(None);
            }
            let headers = response.headers().clone();
            if status == StatusCode::TOO_MANY_REQUESTS
                && short_waits < SHORT_WAITS
                && let Some(wait) = throttle_wait(&headers).filter(|wait| *wait <= SHORT_WAIT)
            {
                short_waits += 1;
                tokio::time::sleep(wait).await;
                continue;
            }
            let body = response.text().await.unwrap_or_default();
            return Err(classify(status, &headers, &body, Utc::now()));
        }
    }

    /// As [`EtsyStore::get_optional`], for calls where 404 means the shop is gone.
    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        token: &SecretString,
    ) -> Result<T, PlatformError> {
        self.get_optional(path, query, token)
            .await?
            .ok_or_else(shop_not_found)
    }

    /// Waits out the rest of a second whose allowance Etsy said was spent.
    async fn hold_back(&self) {
        if let Some(until) = self.held_until() {
            let left = until.saturating_duration_since(Instant::now());
            if !left.is_zero() {
                tokio::time::sleep(left).await;
            }
        }
    }

    fn held_until(&self) -> Option<Instant> {
        *self
            .hold_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Remembers to hold back a second when `x-remaining-this-second` says none are left.
    fn note_allowance(&self, headers: &HeaderMap) {
        if header_number(headers, "x-remaining-this-second") == Some(0) {
            *self
                .hold_until
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now() + SPENT_SECOND);
        }
    }
}

async fn read_token_answer(request: reqwest::RequestBuilder) -> Result<TokenAnswer, PlatformError> {
    let response = send(STORE, request, classify_token).await?;
    read_json(STORE, response).await
}

fn shop_not_found() -> PlatformError {
    PlatformError::permanent(
        "Etsy cannot find this shop (404): it may have been closed. Disconnect it, or connect it again if it reopened.",
    )
}

#[async_trait]
impl StoreApi for EtsyStore {
    fn store(&self) -> Store {
        STORE
    }

    /// Etsy asks no shop first: the consent itself picks the account.
    fn start_authorization(
        &self,
        _shop: Option<&str>,
        redirect_uri: &str,
        state: &str,
    ) -> Result<AuthorizationStart, PlatformError> {
        Ok(oauth::authorize_with_pkce(
            &self.oauth,
            &SCOPES,
            redirect_uri,
            state,
            &[],
        ))
    }

    async fn exchange_code(
        &self,
        _shop: Option<&str>,
        code: &str,
        pkce_verifier: &SecretString,
        redirect_uri: &str,
    ) -> Result<TokenSet, PlatformError> {
        self.token_request(&[
            ("grant_type", "authorization_code"),
            ("client_id", self.credentials.client_id.as_str()),
            ("redirect_uri", redirect_uri),
            ("code", code),
            ("code_verifier", pkce_verifier.expose_secret()),
        ])
        .await
    }

    /// Etsy answers a new refresh token every time; the old one is spent.
    async fn refresh(
        &self,
        _account_id: &str,
        refresh_token: &SecretString,
    ) -> Result<TokenSet, PlatformError> {
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("client_id", self.credentials.client_id.as_str()),
            ("refresh_token", refresh_token.expose_secret()),
        ])
        .await
    }

    /// `users/me` names the shop; the shop names itself.
    async fn account(
        &self,
        _shop: Option<&str>,
        access_token: &SecretString,
    ) -> Result<StoreAccount, PlatformError> {
        let me: Me = self
            .get("/v3/application/users/me", &[], access_token)
            .await?;
        let shop_id = me.shop_id.ok_or_else(|| {
            PlatformError::permanent(
                "This Etsy account has no shop: open one on Etsy first, then connect it here.",
            )
        })?;
        let shop: Shop = self
            .get(
                &format!("/v3/application/shops/{shop_id}"),
                &[],
                access_token,
            )
            .await?;
        Ok(StoreAccount {
            account_id: shop.shop_id.to_string(),
            name: shop.shop_name,
            url: shop.url.filter(|url| !url.is_empty()),
        })
    }

    async fn products(
        &self,
        account_id: &str,
        access_token: &SecretString,
        scope: SyncScope,
        cursor: Option<&str>,
    ) -> Result<ProductPage, PlatformError> {
        let shop_id = shop_id(account_id)?;
        let position = WalkPosition::parse(cursor)?;
        let page: ListingPage = self
            .get(
                &format!("/v3/application/shops/{shop_id}/listings"),
                &listings_query(position, scope),
                access_token,
            )
            .await?;
        let read = page.results.len() as u64;
        let mut products = Vec::with_capacity(page.results.len());
        let mut reached_unchanged = false;
        for listing in page.results {
            if let SyncScope::ChangedSince(since) = scope
                && listing.unchanged_since(since)
            {
                reached_unchanged = true;
                break;
            }
            products.push(remote_product(listing)?);
        }
        let next = position.after(read, page.count, reached_unchanged);
        Ok(ProductPage {
            products,
            next: next.map(WalkPosition::cursor),
            total: Some(page.count),
        })
    }

    async fn product(
        &self,
        _account_id: &str,
        access_token: &SecretString,
        external_id: &str,
    ) -> Result<Option<RemoteProduct>, PlatformError> {
        let listing_id: u64 = external_id.parse().map_err(|_| {
            PlatformError::permanent(format!(
                "`{external_id}` is not an Etsy listing id; sync the shop again to refresh its products."
            ))
        })?;
        let listing: Option<Listing> = self
            .get_optional(
                &format!("/v3/application/listings/{listing_id}"),
                &[("includes", "Images".to_owned())],
                access_token,
            )
            .await?;
        listing.map(remote_product).transpose()
    }
}

/// The shop id a connection stores, as the number Etsy's paths take.
fn shop_id(account_id: &str) -> Result<u64, PlatformError> {
    account_id.parse().map_err(|_| {
        PlatformError::permanent(format!(
            "`{account_id}` is not an Etsy shop id; connect the shop again."
        ))
    })
}

// ---------------------------------------------------------------------------------------------
// Walking the listings.

/// The listing states a walk reads, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WalkState {
    Active,
    SoldOut,
    Inactive,
}

impl WalkState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::SoldOut => "sold_out",
            Self::Inactive => "inactive",
        }
    }

    /// The state read after this one; `None` after the last.
    fn next(self) -> Option<Self> {
        match self {
            Self::Active => Some(Self::SoldOut),
            Self::SoldOut => Some(Self::Inactive),
            Self::Inactive => None,
        }
    }
}

/// Where a walk is: a state and the offset of the next page in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WalkPosition {
    state: WalkState,
    offset: u64,
}

impl WalkPosition {
    const START: Self = Self {
        state: WalkState::Active,
        offset: 0,
    };

    /// The position a cursor this file wrote names; `None` is the start.
    fn parse(cursor: Option<&str>) -> Result<Self, PlatformError> {
        let Some(cursor) = cursor else {
            return Ok(Self::START);
        };
        let unreadable = || {
            PlatformError::permanent(format!(
                "The saved Etsy sync position `{cursor}` cannot be read; start a full sync of the shop again."
            ))
        };
        let (state, offset) = cursor.split_once(':').ok_or_else(unreadable)?;
        let state = match state {
            "active" => WalkState::Active,
            "sold_out" => WalkState::SoldOut,
            "inactive" => WalkState::Inactive,
            _ => return Err(unreadable()),
        };
        let offset = offset.parse().map_err(|_| unreadable())?;
        Ok(Self { state, offset })
    }

    fn cursor(self) -> String {
        format!("{}:{}", self.state.as_str(), self.offset)
    }

    /// Where the walk goes after a page of `read` listings from a state holding `count`: on in
    /// this state, on to the next state, or nowhere (the walk is over). An incremental walk
    /// leaves a state at its first unchanged listing.
    fn after(self, read: u64, count: u64, reached_unchanged: bool) -> Option<Self> {
        let offset = self.offset.saturating_add(read);
        // An empty page ends the state too, so a count that shrank mid-walk cannot loop.
        if reached_unchanged || read == 0 || offset >= count {
            return self.state.next().map(|state| Self { state, offset: 0 });
        }
        Some(Self { offset, ..self })
    }
}

/// The query of one listings page. A full walk goes oldest first, so listings made during the
/// walk land after it instead of shifting the offsets of those not yet read; an incremental one
/// newest change first, so it can stop early.
fn listings_query(position: WalkPosition, scope: SyncScope) -> Vec<(&'static str, String)> {
    let (sort_on, sort_order) = match scope {
        SyncScope::Full => ("created", "asc"),
        SyncScope::ChangedSince(_) => ("updated", "desc"),
    };
    vec![
        ("state", position.state.as_str().to_owned()),
        ("limit", PAGE_SIZE.to_string()),
        ("offset", position.offset.to_string()),
        ("includes", "Images".to_owned()),
        ("sort_on", sort_on.to_owned()),
        ("sort_order", sort_order.to_owned()),
    ]
}

// ---------------------------------------------------------------------------------------------
// Etsy's answers.

#[derive(Deserialize)]
struct Me {
    #[serde(default)]
    shop_id: Option<u64>,
}

#[derive(Deserialize)]
struct Shop {
    shop_id: u64,
    shop_name: String,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize)]
struct ListingPage {
    count: u64,
    #[serde(default)]
    results: Vec<Listing>,
}

/// A listing, with the fields a product needs. Etsy sends `null` for some lists, so they are
/// optional here.
#[derive(Debug, Deserialize)]
struct Listing {
    listing_id: u64,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    quantity: Option<i64>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    skus: Option<Vec<String>>,
    #[serde(default)]
    price: Option<Money>,
    #[serde(default)]
    last_modified_timestamp: Option<i64>,
    #[serde(default)]
    updated_timestamp: Option<i64>,
    #[serde(default)]
    images: Option<Vec<ListingImage>>,
}

impl Listing {
    /// Epoch seconds of the listing's last change, as Etsy says it.
    fn changed_at(&self) -> Option<i64> {
        self.last_modified_timestamp.or(self.updated_timestamp)
    }

    /// Whether the listing last changed before the second `since` falls in. A listing changed
    /// within that very second is read again rather than risk missing it (Etsy's timestamps
    /// are whole seconds); one without a timestamp counts as changed.
    fn unchanged_since(&self, since: DateTime<Utc>) -> bool {
        self.changed_at()
            .is_some_and(|changed| changed < since.timestamp())
    }
}

/// Etsy's money: `amount / divisor` in `currency_code`.
#[derive(Debug, Deserialize)]
struct Money {
    amount: i64,
    divisor: i64,
    currency_code: String,
}

impl Money {
    /// The price in the currency's minor unit (cents, or yen), rounded to the nearest when the
    /// divisor is finer than the currency; `None` for a divisor or amount that makes no sense.
    fn minor_units(&self) -> Option<i64> {
        if self.divisor <= 0 || self.amount < 0 {
            return None;
        }
        let scale = 10i128.checked_pow(currency_exponent(&self.currency_code))?;
        let divisor = i128::from(self.divisor);
        let scaled = i128::from(self.amount).checked_mul(scale)?;
        i64::try_from((scaled + divisor / 2) / divisor).ok()
    }
}

#[derive(Debug, Deserialize)]
struct ListingImage {
    #[serde(default)]
    rank: Option<i64>,
    #[serde(default)]
    url_fullxfull: Option<String>,
    #[serde(default, rename = "url_570xN")]
    url_570x_n: Option<String>,
}

/// A listing as a product: one variant carrying the listing's price, first SKU and quantity
/// (an Etsy listing has one of each), images by rank.
fn remote_product(listing: Listing) -> Result<RemoteProduct, PlatformError> {
    let price = listing
        .price
        .as_ref()
        .ok_or_else(|| unreadable_price(listing.listing_id))?;
    let price_minor = price
        .minor_units()
        .ok_or_else(|| unreadable_price(listing.listing_id))?;
    let currency = price.currency_code.to_ascii_uppercase();
    let updated_at = listing
        .changed_at()
        .and_then(|seconds| DateTime::from_timestamp(seconds, 0));
    let mut images = listing.images.unwrap_or_default();
    images.sort_by_key(|image| image.rank.unwrap_or(i64::MAX));
    let id = listing.listing_id.to_string();
    Ok(RemoteProduct {
        variants: vec![RemoteVariant {
            id: id.clone(),
            sku: listing
                .skus
                .unwrap_or_default()
                .into_iter()
                .map(|sku| sku.trim().to_owned())
                .find(|sku| !sku.is_empty()),
            price_minor,
            stock: listing.quantity,
        }],
        external_id: id,
        // Etsy escapes titles as HTML (`&quot;`); descriptions are plain text already.
        title: plain_text(listing.title.as_deref().unwrap_or_default()),
        description: plain_text(listing.description.as_deref().unwrap_or_default()),
        url: listing.url.filter(|url| !url.is_empty()),
        state: remote_state(listing.state.as_deref().unwrap_or_default()),
        currency,
        images: images
            .into_iter()
            .filter_map(|image| image.url_fullxfull.or(image.url_570x_n))
            .collect(),
        tags: listing.tags.unwrap_or_default(),
        updated_at,
    })
}

/// Etsy's listing states: `inactive`, `draft`, `expired` (and anything new) are not on sale.
fn remote_state(state: &str) -> RemoteState {
    match state {
        "active" => RemoteState::Active,
        "sold_out" => RemoteState::SoldOut,
        _ => RemoteState::Archived,
    }
}

fn unreadable_price(listing_id: u64) -> PlatformError {
    PlatformError::Retryable {
        wait: None,
        maybe_done: false,
        detail: format!("Etsy answered with a price we could not read for listing {listing_id}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Classifying Etsy's refusals.

/// Etsy's error body: `{"error": "..."}`, with `error_description` at the token endpoint.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

impl ErrorBody {
    fn read(body: &str) -> Self {
        serde_json::from_str(body).unwrap_or_default()
    }

    /// Etsy's own words, shortened for a person to read.
    fn message(&self) -> String {
        let message = match (self.error.trim(), self.error_description.trim()) {
            (error, "") => error.to_owned(),
            ("", description) => description.to_owned(),
            (error, description) => format!("{error}: {description}"),
        };
        message.chars().take(MESSAGE_CHARS).collect()
    }
}

/// How long a throttled call should wait: `retry-after`, else a second when this second's
/// allowance is what ran out.
fn throttle_wait(headers: &HeaderMap) -> Option<Duration> {
    retry_after(headers).or_else(|| {
        (header_number(headers, "x-remaining-this-second") == Some(0)).then_some(SPENT_SECOND)
    })
}

fn header_number(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// Sorts an unsuccessful answer from Etsy's API into the closed set of outcomes.
pub fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    _now: DateTime<Utc>,
) -> PlatformError {
    let message = ErrorBody::read(body).message();
    let lower = message.to_lowercase();
    match status.as_u16() {
        401 => PlatformError::Reauth {
            detail: "Etsy no longer accepts this shop's authorization (expired or revoked): connect the shop again".into(),
        },
        403 if lower.contains("api key") || lower.contains("x-api-key") || lower.contains("shared secret") => {
            PlatformError::permanent(
                "Etsy refused this app's API key: the operator should check ETSY_CLIENT_ID (the keystring) and ETSY_CLIENT_SECRET (the shared secret, which Etsy requires on every call).",
            )
        }
        403 if lower.contains("scope") => PlatformError::permanent(
            "Etsy did not give this app permission to read the shop's listings: connect the shop again and allow access to its listings and shop details.",
        ),
        403 => PlatformError::permanent(format!("Etsy refused access to this shop: {message}")),
        404 => shop_not_found(),
        429 => PlatformError::Retryable {
            wait: throttle_wait(headers),
            maybe_done: false,
            detail: "Etsy's rate limit for this app was reached".into(),
        },
        500..=599 => PlatformError::Retryable {
            wait: retry_after(headers),
            maybe_done: false,
            detail: format!("Etsy had a server error ({})", status.as_u16()),
        },
        _ if message.is_empty() => PlatformError::permanent(format!(
            "Etsy refused the request ({}).",
            status.as_u16()
        )),
        _ => PlatformError::permanent(format!("Etsy refused the request: {message}")),
    }
}

/// Sorts an unsuccessful answer from Etsy's token endpoint: a spent or revoked grant means the
/// shop must be connected again; a refused keystring is the operator's to fix.
pub fn classify_token(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    now: DateTime<Utc>,
) -> PlatformError {
    let answer = ErrorBody::read(body);
    match (status.as_u16(), answer.error.as_str()) {
        (_, "invalid_grant") => PlatformError::Reauth {
            detail: "Etsy no longer accepts this shop's authorization: connect the shop again"
                .into(),
        },
        (401, _) | (_, "invalid_client" | "unauthorized_client") => PlatformError::permanent(
            "Etsy refused this app's keystring: the operator should check ETSY_CLIENT_ID",
        ),
        (400, _) => PlatformError::permanent(format!(
            "Etsy refused the authorization: {}",
            answer.message()
        )),
        _ => classify(status, headers, body, now).with_maybe_done(true),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn store() -> EtsyStore {
        let app = PlatformApp {
            credentials: Some(ClientCredentials {
                client_id: "keystring".to_owned(),
                client_secret: SecretString::from("shared-secret"),
            }),
            auth_url: "https://www.etsy.test".parse().unwrap(),
            api_url: "https://api.etsy.test/".parse().unwrap(),
        };
        EtsyStore::from_config(&app, reqwest::Client::new()).unwrap()
    }

    fn listing(value: serde_json::Value) -> Listing {
        serde_json::from_value(value).unwrap()
    }

    fn sample() -> serde_json::Value {
        json!({
            "listing_id": 1001,
            "title": "Speckled Mug &quot;No. 1&quot;",
            "description": "Made by hand.\n\nShips in 2 days.",
            "state": "sold_out",
            "url": "https://www.etsy.com/listing/1001/speckled-mug-1",
            "quantity": 0,
            "tags": ["handmade", "mug"],
            "skus": ["", "SKU-1001-S", "SKU-1001-L"],
            "price": { "amount": 450, "divisor": 100, "currency_code": "USD" },
            "last_modified_timestamp": 1_772_452_800,
            "updated_timestamp": 1_772_452_800,
            "images": [
                { "rank": 2, "url_570xN": "https://i.etsy.test/2-570.png", "url_fullxfull": "https://i.etsy.test/2.png" },
                { "rank": 1, "url_570xN": "https://i.etsy.test/1-570.png", "url_fullxfull": null }
            ]
        })
    }

    #[test]
    fn a_listing_becomes_a_product_with_one_variant() {
        let product = remote_product(listing(sample())).unwrap();
        assert_eq!(product.external_id, "1001");
        assert_eq!(product.title, "Speckled Mug \"No. 1\"");
        assert_eq!(product.description, "Made by hand. Ships in 2 days.");
        assert_eq!(product.state, RemoteState::SoldOut);
        assert_eq!(product.currency, "USD");
        assert_eq!(
            product.url.as_deref(),
            Some("https://www.etsy.com/listing/1001/speckled-mug-1")
        );
        assert_eq!(
            product.variants,
            [RemoteVariant {
                id: "1001".to_owned(),
                sku: Some("SKU-1001-S".to_owned()),
                price_minor: 450,
                stock: Some(0),
            }]
        );
        assert_eq!(
            product.images,
            ["https://i.etsy.test/1-570.png", "https://i.etsy.test/2.png"]
        );
        assert_eq!(product.tags, ["handmade", "mug"]);
        assert_eq!(
            product.updated_at,
            DateTime::from_timestamp(1_772_452_800, 0)
        );
    }

    #[test]
    fn nulls_and_missing_lists_read_as_empty() {
        let product = remote_product(listing(json!({
            "listing_id": 7,
            "title": "Bare",
            "state": "draft",
            "tags": null,
            "skus": null,
            "images": null,
            "price": { "amount": 1500, "divisor": 1, "currency_code": "JPY" },
        })))
        .unwrap();
        assert_eq!(product.state, RemoteState::Archived);
        assert!(product.images.is_empty() && product.tags.is_empty());
        assert_eq!(product.variants[0].sku, None);
        assert_eq!(product.variants[0].stock, None);
        assert_eq!(product.variants[0].price_minor, 1500);
        assert_eq!(product.updated_at, None);
        assert!(remote_product(listing(json!({ "listing_id": 8 }))).is_err());
    }

    #[test]
    fn prices_become_minor_units_of_the_currency() {
        let money = |amount: i64, divisor: i64, currency: &str| Money {
            amount,
            divisor,
            currency_code: currency.to_owned(),
        };
        assert_eq!(money(1999, 100, "USD").minor_units(), Some(1999));
        assert_eq!(money(19990, 1000, "EUR").minor_units(), Some(1999));
        assert_eq!(money(1500, 1, "JPY").minor_units(), Some(1500));
        assert_eq!(money(150000, 100, "JPY").minor_units(), Some(1500));
        assert_eq!(money(1234, 1000, "KWD").minor_units(), Some(1234));
        assert_eq!(money(1999, 0, "USD").minor_units(), None);
        assert_eq!(money(-5, 100, "USD").minor_units(), None);
        for state in ["inactive", "expired", "removed"] {
            assert_eq!(remote_state(state), RemoteState::Archived);
        }
        assert_eq!(remote_state("active"), RemoteState::Active);
    }

    #[test]
    fn a_walk_reads_active_then_sold_out_then_inactive_and_ends() {
        let start = WalkPosition::parse(None).unwrap();
        assert_eq!(start.cursor(), "active:0");
        let second = start.after(100, 150, false).unwrap();
        assert_eq!(second.cursor(), "active:100");
        let sold_out = second.after(50, 150, false).unwrap();
        assert_eq!(sold_out.cursor(), "sold_out:0");
        let inactive = sold_out.after(3, 3, false).unwrap();
        assert_eq!(inactive.cursor(), "inactive:0");
        assert_eq!(inactive.after(3, 3, false), None);
        assert_eq!(
            inactive.after(0, 9, false),
            None,
            "an empty page ends the state"
        );
        assert_eq!(
            start.after(100, 500, true).map(WalkPosition::cursor),
            Some("sold_out:0".to_owned()),
            "an incremental walk leaves a state at its first unchanged listing"
        );
        assert_eq!(
            WalkPosition::parse(Some("sold_out:200")).unwrap(),
            WalkPosition {
                state: WalkState::SoldOut,
                offset: 200
            }
        );
        for broken in ["", "active", "draft:0", "active:-1", "active:x"] {
            assert!(WalkPosition::parse(Some(broken)).is_err(), "{broken}");
        }
    }

    #[test]
    fn the_listings_query_sorts_by_what_the_walk_needs() {
        let position = WalkPosition {
            state: WalkState::SoldOut,
            offset: 200,
        };
        let full = listings_query(position, SyncScope::Full);
        let value = |query: &[(&str, String)], name: &str| {
            query
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.clone())
        };
        assert_eq!(value(&full, "state").as_deref(), Some("sold_out"));
        assert_eq!(value(&full, "limit").as_deref(), Some("100"));
        assert_eq!(value(&full, "offset").as_deref(), Some("200"));
        assert_eq!(value(&full, "includes").as_deref(), Some("Images"));
        assert_eq!(value(&full, "sort_on").as_deref(), Some("created"));
        assert_eq!(value(&full, "sort_order").as_deref(), Some("asc"));
        let changed = listings_query(position, SyncScope::ChangedSince(Utc::now()));
        assert_eq!(value(&changed, "sort_on").as_deref(), Some("updated"));
        assert_eq!(value(&changed, "sort_order").as_deref(), Some("desc"));
    }

    #[test]
    fn an_incremental_walk_rereads_a_listing_changed_in_the_same_second() {
        let changed = listing(sample());
        let at = DateTime::from_timestamp(1_772_452_800, 0).unwrap();
        assert!(!changed.unchanged_since(at + chrono::Duration::milliseconds(700)));
        assert!(!changed.unchanged_since(at));
        assert!(changed.unchanged_since(at + chrono::Duration::seconds(1)));
        assert!(!listing(json!({ "listing_id": 1 })).unchanged_since(at));
    }

    #[test]
    fn the_consent_url_asks_for_listings_with_pkce() {
        let store = store();
        let start = store
            .start_authorization(None, "https://app.test/stores/etsy/callback", "st4te")
            .unwrap();
        let url = url::Url::parse(&start.url).unwrap();
        assert_eq!(url.host_str(), Some("www.etsy.test"));
        assert_eq!(url.path(), "/oauth/connect");
        let query: std::collections::HashMap<String, String> =
            url.query_pairs().into_owned().collect();
        assert_eq!(query["response_type"], "code");
        assert_eq!(query["client_id"], "keystring");
        assert_eq!(query["scope"], "listings_r shops_r");
        assert_eq!(query["state"], "st4te");
        assert_eq!(query["code_challenge_method"], "S256");
        assert_eq!(query["code_challenge"].len(), 43);
        assert_eq!(
            query["redirect_uri"],
            "https://app.test/stores/etsy/callback"
        );
        assert!(!start.url.contains("shared-secret"));
        assert!(!start.pkce_verifier.expose_secret().is_empty());
        assert_eq!(
            store.api("/v3/application/users/me"),
            "https://api.etsy.test/v3/application/users/me"
        );
        assert_eq!(
            store.api_key().unwrap().to_str().unwrap(),
            "keystring:shared-secret"
        );
        assert!(store.api_key().unwrap().is_sensitive());
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn etsys_refusals_are_sorted_into_what_the_sync_does_next() {
        let now = Utc::now();
        let none = HeaderMap::new();
        let classify = |status: u16, headers: &HeaderMap, body: &str| {
            classify(StatusCode::from_u16(status).unwrap(), headers, body, now)
        };
        assert!(matches!(
            classify(401, &none, r#"{"error":"invalid_token"}"#),
            PlatformError::Reauth { .. }
        ));
        let key = classify(
            403,
            &none,
            r#"{"error":"The x-api-key header must carry the shared secret too"}"#,
        );
        assert!(key.to_string().contains("ETSY_CLIENT_SECRET"), "{key}");
        let scope = classify(
            403,
            &none,
            r#"{"error":"insufficient_scope: the access token was not granted the listings_r scope."}"#,
        );
        assert!(
            scope.to_string().contains("connect the shop again"),
            "{scope}"
        );
        let other = classify(
            403,
            &none,
            r#"{"error":"This access token belongs to another shop"}"#,
        );
        assert!(matches!(other, PlatformError::Permanent { .. }));
        assert!(other.to_string().contains("another shop"));
        assert!(matches!(
            classify(404, &none, r#"{"error":"Not found"}"#),
            PlatformError::Permanent { .. }
        ));
        assert!(matches!(
            classify(400, &none, r#"{"error":"Expected int <= 100 for limit"}"#),
            PlatformError::Permanent { reason } if reason.contains("limit")
        ));
        assert_eq!(
            classify(429, &headers(&[("retry-after", "1")]), "{}"),
            PlatformError::Retryable {
                wait: Some(Duration::from_secs(1)),
                maybe_done: false,
                detail: "Etsy's rate limit for this app was reached".into(),
            }
        );
        let spent_second = headers(&[("x-remaining-this-second", "0")]);
        assert!(matches!(
            classify(429, &spent_second, "{}"),
            PlatformError::Retryable { wait: Some(wait), .. } if wait == SPENT_SECOND
        ));
        assert!(matches!(
            classify(503, &none, "<html>down</html>"),
            PlatformError::Retryable {
                wait: None,
                maybe_done: false,
                ..
            }
        ));
        let long = format!(r#"{{"error":"{}"}}"#, "x".repeat(1000));
        assert!(classify(400, &none, &long).to_string().len() < 400);
    }

    #[test]
    fn token_refusals_say_reconnect_or_check_the_keystring() {
        let now = Utc::now();
        let none = HeaderMap::new();
        let classify = |status: u16, body: &str| {
            classify_token(StatusCode::from_u16(status).unwrap(), &none, body, now)
        };
        assert!(matches!(
            classify(
                400,
                r#"{"error":"invalid_grant","error_description":"The refresh token was revoked."}"#
            ),
            PlatformError::Reauth { .. }
        ));
        let client = classify(401, r#"{"error":"invalid_client"}"#);
        assert!(client.to_string().contains("ETSY_CLIENT_ID"));
        assert!(matches!(
            classify(400, r#"{"error":"invalid_request","error_description":"code_verifier is missing."}"#),
            PlatformError::Permanent { reason } if reason.contains("code_verifier")
        ));
        assert!(matches!(
            classify(503, "{}"),
            PlatformError::Retryable {
                maybe_done: true,
                ..
            }
        ));
    }
}
