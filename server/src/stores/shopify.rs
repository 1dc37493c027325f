//! Shopify (GraphQL Admin API, product read), as `shared/platforms.md` section 8 describes it:
//! the install consent of one shop (no PKCE, an offline token), the callback's `hmac` check, the
//! token endpoint (a token that never expires, or with `SHOPIFY_EXPIRING_TOKENS` an hour's token
//! and a refresh token that rotates on every use), and products read a page at a time over
//! GraphQL, with Shopify's query cost and throttling. Nothing outside this file knows a Shopify
//! URL, query or error body.
//!
//! Every shop is its own host: URLs come from the configured templates with `{shop}` filled in
//! by the shop's `*.myshopify.com` domain, which is also the connection's account id.
//!
//! Throttling: Shopify meters each app and shop with a bucket of query-cost points. A throttled
//! answer says what the query asked for, what the bucket holds and how fast it refills; a wait
//! of a few seconds is slept out here (at most three times per call), a longer one is
//! handed back as `Retryable { wait }` so the sync job gives its worker back meanwhile.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sha2::Sha256;

use app::types::Store;

use super::api::{
    self, ProductPage, RemoteProduct, RemoteState, RemoteVariant, StoreAccount, StoreApi,
    SyncScope, currency_exponent, minor_units, plain_text, transport_error,
};
use crate::config::{ClientCredentials, ShopifyApp};
use crate::platforms::oauth::TokenAnswer;
use crate::platforms::{AuthorizationStart, PlatformError, TokenSet};

/// The one access scope a product read needs.
const SCOPE: &str = "read_products";
const SHOP_SUFFIX: &str = ".myshopify.com";
const ACCESS_TOKEN_HEADER: &str = "X-Shopify-Access-Token";
const PRODUCT_GID_PREFIX: &str = "gid://shopify/Product/";

/// Products per page, and the images and variants read with each. Shopify refuses a query
/// asking for more than [`MAX_QUERY_COST`] points, and asks for `2 + first × (1 + images +
/// variants)`: 932 here, so the page fits with room to spare. The numbers are written into
/// [`PRODUCTS_QUERY`] too (a test keeps the two in step).
const PAGE_SIZE: u32 = 30;
const IMAGES_PER_PRODUCT: u32 = 5;
const VARIANTS_PER_PRODUCT: u32 = 25;
const MAX_QUERY_COST: u32 = 1_000;
const _: () = assert!(
    2 + PAGE_SIZE * (1 + IMAGES_PER_PRODUCT + VARIANTS_PER_PRODUCT) <= MAX_QUERY_COST,
    "a page of products must cost at most Shopify's single-query limit"
);

/// The longest throttle waited out inside a call, and how many times one call may wait.
const LONGEST_INLINE_WAIT: Duration = Duration::from_secs(5);
const INLINE_WAITS: u32 = 3;
/// When Shopify throttles without saying for how long (a 429 without `Retry-After`, a
/// THROTTLED error without the bucket's state).
const UNSTATED_THROTTLE_WAIT: Duration = Duration::from_secs(2);
/// A computed wait never below this: a bucket a rounding short of the query is still short.
const SHORTEST_THROTTLE_WAIT: Duration = Duration::from_millis(250);
/// A callback older than this (or this far in the future) is refused even when signed.
const CALLBACK_MAX_AGE_SECS: u64 = 24 * 3600;
/// How much of Shopify's own error text is kept in a message.
const MESSAGE_CHARS: usize = 200;

/// Every field of a product the sync keeps. `media` and `variants` must ask for
/// [`IMAGES_PER_PRODUCT`] and [`VARIANTS_PER_PRODUCT`].
macro_rules! product_fields {
    () => {
        "id title status descriptionHtml onlineStoreUrl updatedAt tags \
         media(first: 5) { nodes { ... on MediaImage { image { url altText } } } } \
         variants(first: 25) { nodes { id sku price inventoryQuantity inventoryItem { tracked } } }"
    };
}

/// A page of products in id order, with the shop's currency (prices come without one).
const PRODUCTS_QUERY: &str = concat!(
    "query Products($first: Int!, $after: String, $query: String) { shop { currencyCode } \
     products(first: $first, after: $after, query: $query, sortKey: ID) { nodes { ",
    product_fields!(),
    " } pageInfo { hasNextPage endCursor } } }"
);
const PRODUCT_QUERY: &str = concat!(
    "query Product($id: ID!) { shop { currencyCode } product(id: $id) { ",
    product_fields!(),
    " } }"
);
const SHOP_QUERY: &str =
    "query Shop { shop { name myshopifyDomain primaryDomain { url } currencyCode } }";

pub struct ShopifyStore {
    credentials: ClientCredentials,
    auth_url_template: String,
    api_url_template: String,
    api_version: String,
    expiring_tokens: bool,
    http: reqwest::Client,
}

/// A shop's `*.myshopify.com` domain, lowercase, matching Shopify's pattern
/// `^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$`: the only thing ever put into a URL template.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ShopDomain(String);

impl ShopDomain {
    /// A domain as Shopify or our own records give it.
    fn parse(domain: &str) -> Option<Self> {
        let domain = domain.to_ascii_lowercase();
        let name = domain.strip_suffix(SHOP_SUFFIX)?;
        let mut characters = name.chars();
        let starts_well = characters.next().is_some_and(|c| c.is_ascii_alphanumeric());
        let rest_is_fine = characters.all(|c| c.is_ascii_alphanumeric() || c == '-');
        (starts_well && rest_is_fine).then_some(Self(domain))
    }

    /// What a person typed to name their shop: `my-shop`, `my-shop.myshopify.com` or
    /// `https://my-shop.myshopify.com/`, in any case, with spaces around.
    fn from_input(typed: &str) -> Result<Self, PlatformError> {
        let typed = typed.trim();
        if typed.is_empty() {
            return Err(PlatformError::permanent(
                "Enter your Shopify shop's address (your-shop.myshopify.com) to connect it.",
            ));
        }
        let lower = typed.to_ascii_lowercase();
        let without_scheme = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"))
            .unwrap_or(&lower);
        let host = without_scheme
            .split(['/', '?', '#'])
            .next()
            .unwrap_or_default();
        let domain = if host.contains('.') {
            host.to_owned()
        } else {
            format!("{host}{SHOP_SUFFIX}")
        };
        Self::parse(&domain).ok_or_else(|| {
            let shown: String = typed.chars().take(100).collect();
            PlatformError::permanent(format!(
                "`{shown}` is not a Shopify shop address: enter it as your-shop.myshopify.com"
            ))
        })
    }

    /// The shop of a connection or of an authorization under way (the callback's `shop`, or
    /// what was typed to start it): a shop that reads as neither is our own bug, not the
    /// person's.
    fn known(shop: Option<&str>) -> Result<Self, PlatformError> {
        shop.and_then(|shop| Self::from_input(shop).ok())
            .ok_or_else(|| {
                PlatformError::permanent(
                    "The Shopify shop of this connection is missing or not a myshopify.com address: connect the shop again.",
                )
            })
    }

    fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why one GraphQL call did not give its data: a throttle (which may be waited out here) or
/// anything else.
#[derive(Debug)]
enum Refused {
    Throttled(Duration),
    Failed(PlatformError),
}

impl Refused {
    fn into_error(self) -> PlatformError {
        match self {
            Self::Throttled(wait) => PlatformError::Retryable {
                wait: Some(wait),
                maybe_done: false,
                detail: format!(
                    "Shopify's query budget for this shop is used up for now; the sync resumes in about {} s",
                    wait.as_secs().max(1)
                ),
            },
            Self::Failed(error) => error,
        }
    }
}

impl ShopifyStore {
    /// `None` when the operator has not configured Shopify's credentials.
    pub fn from_config(app: &ShopifyApp, http: reqwest::Client) -> Option<Self> {
        Some(Self {
            credentials: app.credentials.clone()?,
            auth_url_template: app.auth_url_template.clone(),
            api_url_template: app.api_url_template.clone(),
            api_version: app.api_version.clone(),
            expiring_tokens: app.expiring_tokens,
            http,
        })
    }

    fn authorize_url(&self, shop: &ShopDomain) -> String {
        let base = ShopifyApp::shop_url(&self.auth_url_template, shop.as_str());
        format!("{base}/admin/oauth/authorize")
    }

    fn token_url(&self, shop: &ShopDomain) -> String {
        let base = ShopifyApp::shop_url(&self.auth_url_template, shop.as_str());
        format!("{base}/admin/oauth/access_token")
    }

    fn graphql_url(&self, shop: &ShopDomain) -> String {
        let base = ShopifyApp::shop_url(&self.api_url_template, shop.as_str());
        format!("{base}/admin/api/{}/graphql.json", self.api_version)
    }

    /// One token request: the app's credentials and `fields` as JSON.
    async fn token_request(
        &self,
        shop: &ShopDomain,
        mut body: Value,
    ) -> Result<TokenSet, PlatformError> {
        body["client_id"] = Value::from(self.credentials.client_id.as_str());
        body["client_secret"] = Value::from(self.credentials.client_secret.expose_secret());
        let response = api::send(
            Store::Shopify,
            self.http.post(self.token_url(shop)).json(&body),
            classify_token,
        )
        .await?;
        let answer: TokenAnswer = api::read_json(Store::Shopify, response).await?;
        Ok(answer.into_tokens(&[SCOPE]))
    }

    /// A GraphQL query's `data`, throttles of a few seconds waited out.
    async fn graphql<T: DeserializeOwned>(
        &self,
        shop: &ShopDomain,
        access_token: &SecretString,
        query: &str,
        variables: Value,
    ) -> Result<T, PlatformError> {
        let url = self.graphql_url(shop);
        let token = token_header(access_token)?;
        let body = json!({ "query": query, "variables": variables });
        let mut waits = 0;
        loop {
            match self.graphql_once(&url, &token, &body).await {
                Ok(data) => return Ok(data),
                Err(Refused::Throttled(wait))
                    if wait <= LONGEST_INLINE_WAIT && waits < INLINE_WAITS =>
                {
                    waits += 1;
                    tokio::time::sleep(wait).await;
                }
                Err(refused) => return Err(refused.into_error()),
            }
        }
    }

    async fn graphql_once<T: DeserializeOwned>(
        &self,
        url: &str,
        token: &HeaderValue,
        body: &Value,
    ) -> Result<T, Refused> {
        let transport =
            |error: reqwest::Error| Refused::Failed(transport_error(Store::Shopify, &error));
        let response = self
            .http
            .post(url)
            .header(ACCESS_TOKEN_HEADER, token.clone())
            .json(body)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.map_err(transport)?;
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(Refused::Throttled(throttle_of_429(&headers, &text)));
        }
        if !status.is_success() {
            return Err(Refused::Failed(classify(
                status,
                &headers,
                &text,
                Utc::now(),
            )));
        }
        let answer: GraphQlAnswer = serde_json::from_str(&text)
            .map_err(|error| Refused::Failed(unreadable(&error.to_string())))?;
        read_answer(answer)
    }
}

#[async_trait]
impl StoreApi for ShopifyStore {
    fn store(&self) -> Store {
        Store::Shopify
    }

    /// Shopify has no PKCE, and an authorize request without `grant_options[]=per-user` gets an
    /// offline token: one that acts for the shop, not for the person who installed the app.
    fn start_authorization(
        &self,
        shop: Option<&str>,
        redirect_uri: &str,
        state: &str,
    ) -> Result<AuthorizationStart, PlatformError> {
        let shop = ShopDomain::from_input(shop.unwrap_or_default())?;
        let mut url = url::Url::parse(&self.authorize_url(&shop)).map_err(|_| {
            PlatformError::permanent(
                "SHOPIFY_AUTH_URL does not make a valid address for this shop: the operator should check it.",
            )
        })?;
        url.query_pairs_mut()
            .append_pair("client_id", &self.credentials.client_id)
            .append_pair("scope", SCOPE)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", state);
        Ok(AuthorizationStart {
            url: url.to_string(),
            pkce_verifier: SecretString::from(String::new()),
        })
    }

    /// The callback's `hmac` (signed with our client secret), its shop and its age. `state` is
    /// the caller's to check, as for every store.
    fn verify_callback(&self, query: &[(String, String)]) -> Result<(), PlatformError> {
        let secret = self.credentials.client_secret.expose_secret().as_bytes();
        check_callback(query, secret, Utc::now()).map_err(|why| {
            PlatformError::permanent(format!(
                "Shopify's answer failed its signature check ({why}): start connecting the shop again."
            ))
        })
    }

    async fn exchange_code(
        &self,
        shop: Option<&str>,
        code: &str,
        _pkce_verifier: &SecretString,
        _redirect_uri: &str,
    ) -> Result<TokenSet, PlatformError> {
        let shop = ShopDomain::known(shop)?;
        let mut body = json!({ "code": code });
        if self.expiring_tokens {
            // platforms.md: the token endpoint takes `expiring` as a parameter.
            body["expiring"] = json!(1);
        }
        self.token_request(&shop, body).await
    }

    /// Shopify spends the refresh token and answers a new one every time.
    async fn refresh(
        &self,
        account_id: &str,
        refresh_token: &SecretString,
    ) -> Result<TokenSet, PlatformError> {
        let shop = ShopDomain::known(Some(account_id))?;
        let body = json!({
            "grant_type": "refresh_token",
            "refresh_token": refresh_token.expose_secret(),
        });
        self.token_request(&shop, body).await
    }

    async fn account(
        &self,
        shop: Option<&str>,
        access_token: &SecretString,
    ) -> Result<StoreAccount, PlatformError> {
        let shop = ShopDomain::known(shop)?;
        let data: ShopData = self
            .graphql(&shop, access_token, SHOP_QUERY, json!({}))
            .await?;
        Ok(StoreAccount {
            account_id: data.shop.myshopify_domain.to_ascii_lowercase(),
            name: data.shop.name,
            url: data.shop.primary_domain.map(|domain| domain.url),
        })
    }

    async fn products(
        &self,
        account_id: &str,
        access_token: &SecretString,
        scope: SyncScope,
        cursor: Option<&str>,
    ) -> Result<ProductPage, PlatformError> {
        let shop = ShopDomain::known(Some(account_id))?;
        let search = match scope {
            SyncScope::Full => None,
            SyncScope::ChangedSince(since) => Some(changed_since(since)),
        };
        let variables = json!({ "first": PAGE_SIZE, "after": cursor, "query": search });
        let data: ProductsData = self
            .graphql(&shop, access_token, PRODUCTS_QUERY, variables)
            .await?;
        products_page(data)
    }

    async fn product(
        &self,
        account_id: &str,
        access_token: &SecretString,
        external_id: &str,
    ) -> Result<Option<RemoteProduct>, PlatformError> {
        let shop = ShopDomain::known(Some(account_id))?;
        if !external_id.starts_with(PRODUCT_GID_PREFIX) {
            return Err(PlatformError::permanent(format!(
                "`{external_id}` is not a Shopify product id ({PRODUCT_GID_PREFIX}…): sync the shop again."
            )));
        }
        let data: ProductData = self
            .graphql(
                &shop,
                access_token,
                PRODUCT_QUERY,
                json!({ "id": external_id }),
            )
            .await?;
        let currency = data.shop.currency_code;
        Ok(data.product.map(|node| remote_product(node, &currency)))
    }
}

/// The access token as a header value marked sensitive, so no debug output shows it. A token
/// that cannot be a header value was not issued by Shopify.
fn token_header(access_token: &SecretString) -> Result<HeaderValue, PlatformError> {
    let mut value =
        HeaderValue::from_str(access_token.expose_secret()).map_err(|_| PlatformError::Reauth {
            detail: "The stored Shopify token is unusable: connect the shop again".into(),
        })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Shopify's product search for "changed after `since`". Seconds only, cut rather than rounded,
/// so the search asks for a little more than needed, never less.
fn changed_since(since: DateTime<Utc>) -> String {
    format!(
        "updated_at:>'{}'",
        since.to_rfc3339_opts(SecondsFormat::Secs, true)
    )
}

// ---------------------------------------------------------------------------------------------
// The callback.

/// Shopify's signature over the callback: every parameter but `hmac` and `signature`, sorted by
/// name, `name=value` joined by `&`, HMAC-SHA256 with the client secret, compared in constant
/// time; then the shop's pattern and the timestamp's age. The error says what failed.
fn check_callback(
    query: &[(String, String)],
    secret: &[u8],
    now: DateTime<Utc>,
) -> Result<(), &'static str> {
    let value = |name: &str| {
        query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let signature = value("hmac").ok_or("it carries no signature")?;
    let shop = value("shop").ok_or("it names no shop")?;
    let given = hex::decode(signature).map_err(|_| "its signature is not hexadecimal")?;
    let mut signed: Vec<(&str, &str)> = query
        .iter()
        .filter(|(key, _)| key != "hmac" && key != "signature")
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    signed.sort_unstable();
    let message = signed
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(message.as_bytes());
    mac.verify_slice(&given)
        .map_err(|_| "the signature does not match")?;
    if ShopDomain::parse(shop).is_none() {
        return Err("the shop is not a myshopify.com address");
    }
    if let Some(timestamp) = value("timestamp") {
        let sent: i64 = timestamp
            .parse()
            .map_err(|_| "its timestamp is not a number")?;
        if now.timestamp().abs_diff(sent) > CALLBACK_MAX_AGE_SECS {
            return Err("it is more than a day old");
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// GraphQL answers.

/// A GraphQL answer at HTTP 200: data, errors, or both, and the query's cost.
#[derive(Debug, Deserialize)]
struct GraphQlAnswer {
    #[serde(default)]
    data: Option<Value>,
    /// A list of `{message, extensions: {code}}` (at HTTP 200), or a sentence.
    #[serde(default)]
    errors: Option<Value>,
    #[serde(default)]
    extensions: Option<Extensions>,
}

#[derive(Debug, Deserialize)]
struct Extensions {
    #[serde(default)]
    cost: Option<QueryCost>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryCost {
    #[serde(default)]
    requested_query_cost: Option<f64>,
    #[serde(default)]
    throttle_status: Option<ThrottleStatus>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThrottleStatus {
    currently_available: f64,
    restore_rate: f64,
}

impl QueryCost {
    /// How long until the bucket holds what the query asked for:
    /// `(requested − currentlyAvailable) / restoreRate` seconds.
    fn wait(&self) -> Option<Duration> {
        let status = self.throttle_status.as_ref()?;
        let missing = self.requested_query_cost? - status.currently_available;
        let seconds = (missing / status.restore_rate).max(0.0);
        Duration::try_from_secs_f64(seconds)
            .ok()
            .map(|wait| wait.max(SHORTEST_THROTTLE_WAIT))
    }
}

/// One GraphQL error: its message and `extensions.code`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct GraphQlError {
    message: String,
    code: Option<String>,
}

fn graphql_errors(errors: &Value) -> Vec<GraphQlError> {
    match errors {
        Value::Array(items) => items
            .iter()
            .map(|item| GraphQlError {
                message: item["message"].as_str().unwrap_or_default().to_owned(),
                code: item["extensions"]["code"].as_str().map(str::to_owned),
            })
            .collect(),
        Value::String(message) => vec![GraphQlError {
            message: message.clone(),
            code: None,
        }],
        Value::Null => Vec::new(),
        other => vec![GraphQlError {
            message: other.to_string(),
            code: None,
        }],
    }
}

/// A 200's outcome: THROTTLED wins; then the data when it reads (errors beside readable data
/// concern fields we can do without); then the errors.
fn read_answer<T: DeserializeOwned>(answer: GraphQlAnswer) -> Result<T, Refused> {
    let errors = answer
        .errors
        .as_ref()
        .map(graphql_errors)
        .unwrap_or_default();
    if errors
        .iter()
        .any(|error| error.code.as_deref() == Some("THROTTLED"))
    {
        let wait = answer
            .extensions
            .as_ref()
            .and_then(|extensions| extensions.cost.as_ref())
            .and_then(QueryCost::wait)
            .unwrap_or(UNSTATED_THROTTLE_WAIT);
        return Err(Refused::Throttled(wait));
    }
    match answer.data.filter(|data| !data.is_null()) {
        Some(data) => match serde_json::from_value::<T>(data) {
            Ok(read) => Ok(read),
            Err(_) if !errors.is_empty() => Err(Refused::Failed(classify_graphql(&errors))),
            Err(error) => Err(Refused::Failed(unreadable(&error.to_string()))),
        },
        None if !errors.is_empty() => Err(Refused::Failed(classify_graphql(&errors))),
        None => Err(Refused::Failed(unreadable(
            "it carried neither data nor errors",
        ))),
    }
}

/// GraphQL errors without usable data, sorted into the closed set.
fn classify_graphql(errors: &[GraphQlError]) -> PlatformError {
    let code = errors.iter().find_map(|error| error.code.as_deref());
    let message = shortened(
        &errors
            .iter()
            .map(|error| error.message.as_str())
            .filter(|message| !message.is_empty())
            .collect::<Vec<_>>()
            .join("; "),
    );
    match code {
        Some("ACCESS_DENIED") => PlatformError::permanent(
            "Shopify says the app may not read this shop's products (it lacks read_products): connect the shop again and approve product access.",
        ),
        Some("MAX_COST_EXCEEDED") => PlatformError::permanent(format!(
            "Shopify refused the product query as too costly ({message}); this needs a fix in Picscripterai."
        )),
        Some("INTERNAL_SERVER_ERROR" | "SERVICE_UNAVAILABLE" | "TIMEOUT") => {
            PlatformError::Retryable {
                wait: None,
                maybe_done: false,
                detail: format!("Shopify had a server error: {message}"),
            }
        }
        Some("SHOP_INACTIVE") => PlatformError::permanent(
            "Shopify says this shop is inactive (closed or frozen): products can be read again once it is active.",
        ),
        _ if message.is_empty() => PlatformError::permanent("Shopify refused the product query."),
        _ => PlatformError::permanent(format!("Shopify refused the product query: {message}")),
    }
}

/// A 429's wait: `Retry-After` (Shopify writes `2.0`), else the bucket in the body, else a
/// default.
fn throttle_of_429(headers: &HeaderMap, body: &str) -> Duration {
    retry_after(headers)
        .or_else(|| {
            serde_json::from_str::<GraphQlAnswer>(body)
                .ok()?
                .extensions?
                .cost?
                .wait()
        })
        .unwrap_or(UNSTATED_THROTTLE_WAIT)
}

/// `Retry-After` in seconds, whole or decimal.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds: f64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    if !seconds.is_finite() || seconds < 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(seconds).ok()
}

fn unreadable(why: &str) -> PlatformError {
    PlatformError::Retryable {
        wait: None,
        maybe_done: false,
        detail: format!(
            "Shopify answered in a shape we could not read ({})",
            shortened(why)
        ),
    }
}

fn shortened(text: &str) -> String {
    text.chars().take(MESSAGE_CHARS).collect()
}

/// The sentence of a REST-style error body: `{"errors": "…" | [..] | {field: [..]}}`, or the
/// token endpoint's `{"error_description"}`.
fn error_message(body: &str) -> String {
    let Ok(parsed) = serde_json::from_str::<Value>(body) else {
        return String::new();
    };
    let text = match (&parsed["errors"], &parsed["error_description"]) {
        (Value::String(message), _) => message.clone(),
        (Value::Null, Value::String(description)) => description.clone(),
        (Value::Null, _) => String::new(),
        (errors @ Value::Array(_), _) => graphql_errors(errors)
            .into_iter()
            .map(|error| error.message)
            .collect::<Vec<_>>()
            .join("; "),
        (other, _) => other.to_string(),
    };
    shortened(&text)
}

/// Sorts an unsuccessful answer from Shopify's API into the closed set of outcomes.
pub fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    _now: DateTime<Utc>,
) -> PlatformError {
    let message = error_message(body);
    match status.as_u16() {
        401 => PlatformError::Reauth {
            detail: "Shopify no longer accepts this shop's authorization (the app was uninstalled or its access revoked): connect the shop again".into(),
        },
        402 => PlatformError::permanent(
            "Shopify says this shop is frozen (an unpaid bill): products can be read again once the shop is active.",
        ),
        403 => PlatformError::permanent(
            "Shopify refused access to this shop's products (the app lacks read_products): connect the shop again and approve product access.",
        ),
        404 => PlatformError::permanent(
            "Shopify does not know this shop (closed, or its address changed): connect it again.",
        ),
        423 => PlatformError::permanent(
            "Shopify says this shop is locked: products can be read again once Shopify unlocks it.",
        ),
        429 => PlatformError::Retryable {
            wait: retry_after(headers),
            maybe_done: false,
            detail: "Shopify's request limit for this shop was reached".into(),
        },
        500..=599 => PlatformError::Retryable {
            wait: retry_after(headers),
            maybe_done: false,
            detail: format!("Shopify had a server error ({})", status.as_u16()),
        },
        _ if message.is_empty() => {
            PlatformError::permanent(format!("Shopify refused the request ({}).", status.as_u16()))
        }
        _ => PlatformError::permanent(format!("Shopify refused the request: {message}")),
    }
}

/// Sorts an unsuccessful answer from the token endpoint: refused app credentials are the
/// operator's to fix; a refused code or refresh token (spent, expired, or the app uninstalled)
/// the shop owner's, by connecting again; a refresh whose answer was lost may have been spent.
fn classify_token(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    now: DateTime<Utc>,
) -> PlatformError {
    let error = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|parsed| parsed["error"].as_str().map(str::to_owned));
    match (status.as_u16(), error.as_deref()) {
        (_, Some("invalid_client" | "unauthorized_client")) => PlatformError::permanent(
            "Shopify refused this app's credentials: the operator should check SHOPIFY_CLIENT_ID and SHOPIFY_CLIENT_SECRET.",
        ),
        (404, _) => classify(status, headers, body, now),
        (429 | 500..=599, _) => classify(status, headers, body, now).with_maybe_done(true),
        (400..=499, _) => PlatformError::Reauth {
            detail: "Shopify no longer accepts this shop's authorization: connect the shop again"
                .into(),
        },
        _ => classify(status, headers, body, now),
    }
}

// ---------------------------------------------------------------------------------------------
// Products.

#[derive(Deserialize)]
struct ShopData {
    shop: ShopNode,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShopNode {
    name: String,
    myshopify_domain: String,
    #[serde(default)]
    primary_domain: Option<Domain>,
}

#[derive(Deserialize)]
struct Domain {
    url: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShopCurrency {
    currency_code: String,
}

#[derive(Deserialize)]
struct ProductsData {
    shop: ShopCurrency,
    products: ProductConnection,
}

#[derive(Deserialize)]
struct ProductData {
    shop: ShopCurrency,
    product: Option<ProductNode>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProductConnection {
    #[serde(default)]
    nodes: Vec<ProductNode>,
    page_info: PageInfo,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
    #[serde(default)]
    end_cursor: Option<String>,
}

/// A connection's nodes (`media`, `variants`).
#[derive(Deserialize)]
struct Nodes<T> {
    #[serde(default = "Vec::new")]
    nodes: Vec<T>,
}

impl<T> Default for Nodes<T> {
    fn default() -> Self {
        Self { nodes: Vec::new() }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProductNode {
    id: String,
    #[serde(default)]
    title: String,
    /// `ACTIVE`, `ARCHIVED`, `DRAFT` (and whatever Shopify adds: not on sale).
    #[serde(default)]
    status: String,
    #[serde(default)]
    description_html: Option<String>,
    /// `null` unless the product is published to the online store.
    #[serde(default)]
    online_store_url: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    media: Nodes<MediaNode>,
    #[serde(default)]
    variants: Nodes<VariantNode>,
}

/// A media node: `image` only for a `MediaImage` (videos and 3D models answer `{}`).
#[derive(Deserialize)]
struct MediaNode {
    #[serde(default)]
    image: Option<ImageNode>,
}

#[derive(Deserialize)]
struct ImageNode {
    url: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VariantNode {
    id: String,
    #[serde(default)]
    sku: Option<String>,
    /// The `Money` scalar: a decimal string such as `"19.99"`.
    #[serde(default)]
    price: Option<Value>,
    #[serde(default)]
    inventory_quantity: Option<i64>,
    #[serde(default)]
    inventory_item: Option<InventoryItem>,
}

#[derive(Deserialize)]
struct InventoryItem {
    #[serde(default)]
    tracked: Option<bool>,
}

/// The page's products and where the next page starts. Shopify saying "more" without a
/// cursor would end the walk early and mark the rest gone, so that is an error.
fn products_page(data: ProductsData) -> Result<ProductPage, PlatformError> {
    let currency = data.shop.currency_code;
    let info = data.products.page_info;
    let next = match (info.has_next_page, info.end_cursor) {
        (false, _) => None,
        (true, Some(cursor)) if !cursor.is_empty() => Some(cursor),
        (true, _) => {
            return Err(unreadable(
                "it said more products follow but gave no cursor to them",
            ));
        }
    };
    Ok(ProductPage {
        products: data
            .products
            .nodes
            .into_iter()
            .map(|node| remote_product(node, &currency))
            .collect(),
        next,
        total: None,
    })
}

/// A product as the sync keeps it. A product without stock stays `Active`: the sync tells
/// sold out from the variants' stock.
fn remote_product(node: ProductNode, currency: &str) -> RemoteProduct {
    let exponent = currency_exponent(currency);
    let external_id = node.id;
    let variants = node
        .variants
        .nodes
        .into_iter()
        .filter_map(|variant| remote_variant(variant, exponent, &external_id))
        .collect();
    RemoteProduct {
        title: node.title,
        description: node
            .description_html
            .as_deref()
            .map(plain_text)
            .unwrap_or_default(),
        url: node.online_store_url,
        state: match node.status.as_str() {
            "ACTIVE" => RemoteState::Active,
            _ => RemoteState::Archived,
        },
        currency: currency.to_owned(),
        variants,
        images: node
            .media
            .nodes
            .into_iter()
            .filter_map(|media| media.image)
            .map(|image| image.url)
            .collect(),
        tags: node.tags,
        updated_at: node
            .updated_at
            .as_deref()
            .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
            .map(|at| at.with_timezone(&Utc)),
        external_id,
    }
}

/// A variant, with its stock only when Shopify counts it. One whose price cannot be read is
/// left out (and logged) rather than kept at a made-up price.
fn remote_variant(variant: VariantNode, exponent: u32, product_id: &str) -> Option<RemoteVariant> {
    let price = match &variant.price {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(number)) => number.to_string(),
        _ => String::new(),
    };
    let Some(price_minor) = price_minor(&price, exponent) else {
        tracing::warn!(
            product = %product_id,
            variant = %variant.id,
            "a Shopify variant's price could not be read; the variant is left out"
        );
        return None;
    };
    let tracked = variant
        .inventory_item
        .as_ref()
        .and_then(|item| item.tracked)
        .unwrap_or(true);
    Some(RemoteVariant {
        id: variant.id,
        sku: variant.sku.filter(|sku| !sku.trim().is_empty()),
        price_minor,
        stock: if tracked {
            variant.inventory_quantity
        } else {
            None
        },
    })
}

/// A `Money` decimal in minor units. Shopify may write more zeros than the currency has
/// digits (`1500.0` yen, `7.00` dollars), so trailing zeros of the fraction go first.
fn price_minor(price: &str, exponent: u32) -> Option<i64> {
    let price = price.trim();
    let normal = match price.split_once('.') {
        Some((whole, fraction)) => {
            let fraction = fraction.trim_end_matches('0');
            if fraction.is_empty() {
                whole.to_owned()
            } else {
                format!("{whole}.{fraction}")
            }
        }
        None => price.to_owned(),
    };
    minor_units(&normal, exponent)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REDIRECT: &str = "http://127.0.0.1:3000/stores/shopify/callback";

    fn app(credentials: bool) -> ShopifyApp {
        ShopifyApp {
            credentials: credentials.then(|| ClientCredentials {
                client_id: "shopify-client".to_owned(),
                client_secret: SecretString::from("hush".to_owned()),
            }),
            auth_url_template: "http://127.0.0.1:9/{shop}/".to_owned(),
            api_url_template: "http://127.0.0.1:8/{shop}".to_owned(),
            api_version: "2026-07".to_owned(),
            expiring_tokens: true,
        }
    }

    fn store() -> ShopifyStore {
        ShopifyStore::from_config(&app(true), reqwest::Client::new()).expect("configured")
    }

    fn pairs(raw: &[(&str, &str)]) -> Vec<(String, String)> {
        raw.iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn shop_addresses_are_read_the_way_people_type_them() {
        let read = |typed: &str| ShopDomain::from_input(typed).map(|shop| shop.0);
        assert_eq!(read("my-shop").unwrap(), "my-shop.myshopify.com");
        assert_eq!(
            read(" My-Shop.MyShopify.com ").unwrap(),
            "my-shop.myshopify.com"
        );
        assert_eq!(
            read("https://my-shop.myshopify.com/").unwrap(),
            "my-shop.myshopify.com"
        );
        assert_eq!(
            read("http://my-shop.myshopify.com/admin").unwrap(),
            "my-shop.myshopify.com"
        );
        let refused = read("shop.example.com").unwrap_err().to_string();
        assert_eq!(
            refused,
            "`shop.example.com` is not a Shopify shop address: enter it as your-shop.myshopify.com"
        );
        assert!(read("-shop").is_err());
        assert!(read("my shop").is_err());
        assert!(
            read("   ")
                .unwrap_err()
                .to_string()
                .contains("Enter your Shopify shop")
        );
    }

    #[test]
    fn the_consent_url_is_the_shops_and_asks_for_read_products_only() {
        assert!(ShopifyStore::from_config(&app(false), reqwest::Client::new()).is_none());
        let start = store()
            .start_authorization(Some("My-Shop"), REDIRECT, "st4te")
            .unwrap();
        let url = url::Url::parse(&start.url).unwrap();
        assert_eq!(
            url.as_str().split('?').next(),
            Some("http://127.0.0.1:9/my-shop.myshopify.com/admin/oauth/authorize")
        );
        let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(
            query,
            pairs(&[
                ("client_id", "shopify-client"),
                ("scope", "read_products"),
                ("redirect_uri", REDIRECT),
                ("state", "st4te"),
            ])
        );
        assert!(start.pkce_verifier.expose_secret().is_empty());
        assert!(store().start_authorization(None, REDIRECT, "s").is_err());

        let shop = ShopDomain::parse("my-shop.myshopify.com").unwrap();
        assert_eq!(
            store().token_url(&shop),
            "http://127.0.0.1:9/my-shop.myshopify.com/admin/oauth/access_token"
        );
        assert_eq!(
            store().graphql_url(&shop),
            "http://127.0.0.1:8/my-shop.myshopify.com/admin/api/2026-07/graphql.json"
        );
    }

    #[test]
    fn a_callback_must_carry_shopifys_signature() {
        // The example of Shopify's documentation, signed with the secret "hush".
        let signed = pairs(&[
            ("code", "0907a61c0c8d55e99db179b68161bc00"),
            (
                "hmac",
                "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf",
            ),
            ("shop", "some-shop.myshopify.com"),
            ("state", "0.6784241404160823"),
            ("timestamp", "1337178173"),
        ]);
        let sent_at = DateTime::from_timestamp(1_337_178_173, 0).unwrap();
        let now = sent_at + chrono::Duration::minutes(1);
        assert_eq!(check_callback(&signed, b"hush", now), Ok(()));

        let mut with_signature = signed.clone();
        with_signature.push(("signature".to_owned(), "ignored".to_owned()));
        assert_eq!(check_callback(&with_signature, b"hush", now), Ok(()));

        let mut tampered = signed.clone();
        tampered[3].1 = "0.1".to_owned();
        assert_eq!(
            check_callback(&tampered, b"hush", now),
            Err("the signature does not match")
        );
        assert!(check_callback(&signed, b"another secret", now).is_err());
        let stale = sent_at + chrono::Duration::days(2);
        assert_eq!(
            check_callback(&signed, b"hush", stale),
            Err("it is more than a day old")
        );
        let unsigned: Vec<(String, String)> = signed
            .iter()
            .filter(|(name, _)| name != "hmac")
            .cloned()
            .collect();
        assert!(check_callback(&unsigned, b"hush", now).is_err());

        // Through the trait, with the real clock: the example is years old.
        let refused = store().verify_callback(&signed).unwrap_err();
        assert!(
            refused
                .to_string()
                .starts_with("Shopify's answer failed its signature check"),
            "{refused}"
        );
    }

    #[test]
    fn the_page_query_keeps_under_shopifys_cost_limit() {
        assert!(PRODUCTS_QUERY.contains(&format!("media(first: {IMAGES_PER_PRODUCT})")));
        assert!(PRODUCTS_QUERY.contains(&format!("variants(first: {VARIANTS_PER_PRODUCT})")));
        assert!(PRODUCTS_QUERY.contains("products(first: $first, after: $after, query: $query"));
        assert!(PRODUCT_QUERY.contains("product(id: $id)"));
        let at = DateTime::parse_from_rfc3339("2026-05-01T12:00:00.750Z").unwrap();
        assert_eq!(
            changed_since(at.with_timezone(&Utc)),
            "updated_at:>'2026-05-01T12:00:00Z'"
        );
    }

    fn products_answer() -> Value {
        json!({
            "shop": { "currencyCode": "USD" },
            "products": {
                "nodes": [
                    {
                        "id": "gid://shopify/Product/1001",
                        "title": "Speckled Mug",
                        "status": "ACTIVE",
                        "descriptionHtml": "<p>Hand-thrown <b>mug</b>,&nbsp;350&nbsp;ml</p>",
                        "onlineStoreUrl": "https://my-shop.myshopify.com/products/speckled-mug",
                        "updatedAt": "2026-05-01T12:00:00Z",
                        "tags": ["handmade", "mug"],
                        "media": { "nodes": [
                            { "image": { "url": "https://cdn.example/1.png", "altText": null } },
                            {},
                            { "image": { "url": "https://cdn.example/2.png", "altText": "Side" } }
                        ] },
                        "variants": { "nodes": [
                            { "id": "gid://shopify/ProductVariant/1", "sku": "MUG-S", "price": "19.99",
                              "inventoryQuantity": 3, "inventoryItem": { "tracked": true } },
                            { "id": "gid://shopify/ProductVariant/2", "sku": "", "price": "24.00",
                              "inventoryQuantity": 0, "inventoryItem": { "tracked": false } },
                            { "id": "gid://shopify/ProductVariant/3", "sku": "MUG-X", "price": "n/a",
                              "inventoryQuantity": 1 }
                        ] }
                    },
                    {
                        "id": "gid://shopify/Product/1002",
                        "title": "Linen Tote",
                        "status": "DRAFT",
                        "descriptionHtml": "",
                        "onlineStoreUrl": null,
                        "updatedAt": "2026-05-02T08:30:00Z",
                        "tags": [],
                        "media": { "nodes": [] },
                        "variants": { "nodes": [] }
                    }
                ],
                "pageInfo": { "hasNextPage": true, "endCursor": "eyJsYXN0X2lkIjoxMDAyfQ==" }
            }
        })
    }

    #[test]
    fn products_become_remote_products() {
        let data: ProductsData = serde_json::from_value(products_answer()).unwrap();
        let page = products_page(data).unwrap();
        assert_eq!(page.next.as_deref(), Some("eyJsYXN0X2lkIjoxMDAyfQ=="));
        assert_eq!(page.total, None);
        let mug = &page.products[0];
        assert_eq!(mug.external_id, "gid://shopify/Product/1001");
        assert_eq!(mug.title, "Speckled Mug");
        assert_eq!(mug.description, "Hand-thrown mug, 350 ml");
        assert_eq!(
            mug.url.as_deref(),
            Some("https://my-shop.myshopify.com/products/speckled-mug")
        );
        assert_eq!(mug.state, RemoteState::Active);
        assert_eq!(mug.currency, "USD");
        assert_eq!(
            mug.images,
            ["https://cdn.example/1.png", "https://cdn.example/2.png"]
        );
        assert_eq!(mug.tags, ["handmade", "mug"]);
        assert_eq!(
            mug.updated_at,
            Some(
                DateTime::parse_from_rfc3339("2026-05-01T12:00:00Z")
                    .unwrap()
                    .with_timezone(&Utc)
            )
        );
        assert_eq!(
            mug.variants,
            [
                RemoteVariant {
                    id: "gid://shopify/ProductVariant/1".to_owned(),
                    sku: Some("MUG-S".to_owned()),
                    price_minor: 1999,
                    stock: Some(3),
                },
                RemoteVariant {
                    id: "gid://shopify/ProductVariant/2".to_owned(),
                    sku: None,
                    price_minor: 2400,
                    stock: None,
                },
            ],
            "an unreadable price leaves its variant out; untracked stock is not counted"
        );
        let tote = &page.products[1];
        assert_eq!(tote.state, RemoteState::Archived);
        assert_eq!(tote.url, None);
        assert!(tote.variants.is_empty() && tote.images.is_empty());
    }

    #[test]
    fn the_last_page_has_no_next_and_more_without_a_cursor_is_an_error() {
        let mut answer = products_answer();
        answer["products"]["pageInfo"] = json!({ "hasNextPage": false, "endCursor": "x" });
        let data: ProductsData = serde_json::from_value(answer.clone()).unwrap();
        assert_eq!(products_page(data).unwrap().next, None);
        answer["products"]["pageInfo"] = json!({ "hasNextPage": true, "endCursor": null });
        let data: ProductsData = serde_json::from_value(answer).unwrap();
        assert!(matches!(
            products_page(data),
            Err(PlatformError::Retryable { .. })
        ));
    }

    #[test]
    fn prices_are_read_in_the_currencys_digits() {
        assert_eq!(price_minor("19.99", 2), Some(1999));
        assert_eq!(price_minor("7.00", 2), Some(700));
        assert_eq!(price_minor("1500.0", 0), Some(1500));
        assert_eq!(price_minor("1.250", 3), Some(1250));
        assert_eq!(price_minor("19.995", 2), None);
        assert_eq!(price_minor("", 2), None);
    }

    fn answer_of(body: Value) -> GraphQlAnswer {
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn a_throttled_answer_waits_for_the_bucket_to_hold_the_query() {
        let throttled = answer_of(json!({
            "errors": [{ "message": "Throttled", "extensions": { "code": "THROTTLED" } }],
            "extensions": { "cost": {
                "requestedQueryCost": 932, "actualQueryCost": null,
                "throttleStatus": { "maximumAvailable": 1000.0, "currentlyAvailable": 500, "restoreRate": 100.0 }
            } }
        }));
        match read_answer::<Value>(throttled) {
            Err(Refused::Throttled(wait)) => {
                assert!((wait.as_secs_f64() - 4.32).abs() < 0.001, "{wait:?}");
            }
            other => panic!("not a throttle: {other:?}"),
        }
        let unstated = answer_of(json!({
            "errors": [{ "message": "Throttled", "extensions": { "code": "THROTTLED" } }]
        }));
        assert!(matches!(
            read_answer::<Value>(unstated),
            Err(Refused::Throttled(wait)) if wait == UNSTATED_THROTTLE_WAIT
        ));
        let long = Refused::Throttled(Duration::from_secs(40)).into_error();
        assert!(matches!(
            long,
            PlatformError::Retryable { wait: Some(wait), maybe_done: false, .. } if wait == Duration::from_secs(40)
        ));

        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("2.0"));
        assert_eq!(throttle_of_429(&headers, ""), Duration::from_secs(2));
        assert_eq!(
            throttle_of_429(&HeaderMap::new(), "{}"),
            UNSTATED_THROTTLE_WAIT
        );
    }

    #[test]
    fn graphql_errors_are_sorted_into_the_closed_set() {
        let with_code = |code: &str, message: &str| {
            answer_of(json!({ "errors": [{ "message": message, "extensions": { "code": code } }] }))
        };
        let denied = match read_answer::<Value>(with_code("ACCESS_DENIED", "Access denied")) {
            Err(Refused::Failed(error)) => error,
            other => panic!("{other:?}"),
        };
        assert!(matches!(denied, PlatformError::Permanent { .. }));
        assert!(denied.to_string().contains("read_products"), "{denied}");
        let costly = read_answer::<Value>(with_code("MAX_COST_EXCEEDED", "Query cost is 2282"));
        assert!(matches!(
            costly,
            Err(Refused::Failed(PlatformError::Permanent { .. }))
        ));
        let down = read_answer::<Value>(with_code("INTERNAL_SERVER_ERROR", "Oops"));
        assert!(matches!(
            down,
            Err(Refused::Failed(PlatformError::Retryable { .. }))
        ));
        let bad = match read_answer::<Value>(with_code("BAD_REQUEST", "Invalid global id '17'")) {
            Err(Refused::Failed(error)) => error.to_string(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            bad,
            "Shopify refused the product query: Invalid global id '17'"
        );
        let empty = read_answer::<Value>(answer_of(json!({})));
        assert!(matches!(
            empty,
            Err(Refused::Failed(PlatformError::Retryable { .. }))
        ));
        let data: Value =
            read_answer(answer_of(json!({ "data": { "shop": { "name": "A" } } }))).unwrap();
        assert_eq!(data["shop"]["name"], "A");
    }

    #[test]
    fn unsuccessful_answers_are_sorted_into_the_closed_set() {
        let now = Utc::now();
        let none = HeaderMap::new();
        let invalid = r#"{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}"#;
        assert!(matches!(
            classify(StatusCode::UNAUTHORIZED, &none, invalid, now),
            PlatformError::Reauth { .. }
        ));
        let mut wait = HeaderMap::new();
        wait.insert(RETRY_AFTER, HeaderValue::from_static("2.0"));
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, &wait, "{}", now),
            PlatformError::Retryable {
                wait: Some(Duration::from_secs(2)),
                maybe_done: false,
                detail: "Shopify's request limit for this shop was reached".into(),
            }
        );
        assert!(matches!(
            classify(StatusCode::SERVICE_UNAVAILABLE, &none, "<html>", now),
            PlatformError::Retryable { wait: None, .. }
        ));
        let forbidden = classify(StatusCode::FORBIDDEN, &none, "{}", now).to_string();
        assert!(forbidden.contains("read_products"), "{forbidden}");
        assert!(matches!(
            classify(
                StatusCode::NOT_FOUND,
                &none,
                r#"{"errors":"Not Found"}"#,
                now
            ),
            PlatformError::Permanent { .. }
        ));
        assert_eq!(
            classify(
                StatusCode::BAD_REQUEST,
                &none,
                r#"{"errors":{"query":"Required parameter missing or invalid"}}"#,
                now
            )
            .to_string(),
            r#"Shopify refused the request: {"query":"Required parameter missing or invalid"}"#
        );
    }

    #[test]
    fn token_refusals_tell_the_operator_from_the_shop_owner() {
        let now = Utc::now();
        let none = HeaderMap::new();
        let spent = r#"{"error":"invalid_grant","error_description":"The refresh token was revoked or already used."}"#;
        assert!(matches!(
            classify_token(StatusCode::BAD_REQUEST, &none, spent, now),
            PlatformError::Reauth { .. }
        ));
        let code = r#"{"error":"invalid_request","error_description":"The authorization code was not found or was already used"}"#;
        assert!(matches!(
            classify_token(StatusCode::BAD_REQUEST, &none, code, now),
            PlatformError::Reauth { .. }
        ));
        let client =
            r#"{"error":"invalid_client","error_description":"Client credentials are invalid."}"#;
        let refused = classify_token(StatusCode::BAD_REQUEST, &none, client, now);
        assert!(
            refused.to_string().contains("SHOPIFY_CLIENT_ID"),
            "{refused}"
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
