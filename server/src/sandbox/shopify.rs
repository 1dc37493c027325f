//! A local fake of Shopify's Admin API for reading products (`shared/platforms.md`, section 8):
//! the install consent of a shop, the token endpoint (offline tokens that never expire, or
//! expiring ones with a rotating refresh token), and the GraphQL endpoint answering the three
//! queries Picscripterai sends (a page of products, one product, the shop), with Shopify's
//! query cost and leaky bucket.
//!
//! Every shop lives under its own first path segment (`/{shop}/admin/...`), because tests set
//! `SHOPIFY_SHOP_URL_TEMPLATE` to `http://127.0.0.1:PORT/{shop}` and `--sandbox` nests the fake
//! at `/sandbox/shopify`. A shop comes into being when it first consents, with a made-up
//! [`Catalogue`] ([`ShopifyFake::set_catalogue_size`], 10,000 products in USD by default) that
//! tests change between syncs through [`ShopifyFake::with_catalogue`]. Product images are served
//! by the fake itself at [`FakeImage::path`](super::kit::catalogue::FakeImage::path), as absolute
//! URLs built from [`ShopifyFake::set_base_url`] or, without it, from the request.
//!
//! Where Shopify is strict, so is the fake: the shop must match Shopify's pattern, the consent
//! must ask for `read_products`, codes are single use and redeem only at the shop they were
//! issued for, a refresh spends its refresh token, the callback carries Shopify's `hmac` (so a
//! client that skips the check is caught by a tampering test), every API call needs
//! `X-Shopify-Access-Token`, `first` is 1 to 250, cursors must be ones the fake issued, a query
//! costing over 1,000 points is refused, and a query finding fewer points in its shop's bucket
//! than it asks for is throttled.
//!
//! What this fake does not do, by choice: it does not parse GraphQL. It recognises the query by
//! its fields (`products(`, `product(`, `shop {`), reads the arguments of those fields and of
//! `media(` and `variants(` (literals or `$variables`), and answers every field Picscripterai
//! may select, whatever was selected. Products are always in id order: `sortKey` and `reverse`
//! are ignored. The product search understands only `updated_at:>'<RFC 3339>'` (and `>=`), and
//! refuses anything else so a client's typo shows. Facts platforms.md does not give (the code
//! lifetime, error wordings beyond the 401) are this fake's defaults and say so where declared.
//!
//! It trusts whoever reaches it and never logs a token, a code or the client secret.

#![allow(clippy::result_large_err)] // a fake's errors are whole HTTP answers, made once per refused request

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use regex::Regex;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::Sha256;
use url::form_urlencoded;

use super::kit::catalogue::{Catalogue, FakeProduct, FakeProductState, image_png};
use super::kit::consent::{Decision, direct_consent};
use super::kit::control::{
    Control, ControlChoice, Recent, back_to_control, chosen_failure, control_page,
};
use super::kit::oauth::{
    AuthorizationServer, AuthorizeRequest, BearerError, CodeRedemption, IssuedTokens, OAuthConfig,
    OAuthError, Pkce, RefreshPolicy, Rotation,
};
use super::kit::pages::{escape_html, found, page, refusal_page, stylesheet};
use super::kit::request::{
    Params, form_credentials, own_base_url, parse_form, parse_query, with_query,
};
use super::kit::script::{Failure, Refusal, Script, answer};
use super::kit::{FakeControls, KitWorld};
use crate::clock::{SharedClock, SystemClock};
use crate::stores::api::currency_exponent;

const PLATFORM: &str = "Shopify";
/// Under the shop's own segment: `/{shop}/admin/oauth/authorize`.
const AUTHORIZE_PATH: &str = "/admin/oauth/authorize";
const ACCESS_TOKEN_HEADER: &str = "x-shopify-access-token";
const API_VERSION_HEADER: &str = "x-shopify-api-version";
const SHOP_SUFFIX: &str = ".myshopify.com";

/// The one scope Picscripterai needs, and the one the consent insists on.
const REQUIRED_SCOPE: &str = "read_products";
/// Every access scope the fake knows; anything else is refused at consent (Shopify lists many
/// more; these are the ones an app like ours could plausibly ask for).
const KNOWN_SCOPES: &[&str] = &[
    "read_products",
    "write_products",
    "read_product_listings",
    "read_inventory",
    "write_inventory",
    "read_orders",
    "write_orders",
    "read_customers",
    "write_customers",
    "read_locations",
    "read_content",
    "write_content",
    "read_files",
    "write_files",
    "read_publications",
    "write_publications",
    "read_themes",
    "write_themes",
];

/// Shopify does not document it (unverified): ten minutes, RFC 6749's recommended maximum.
const CODE_LIFETIME_SECS: i64 = 600;
/// Expiring offline tokens: an hour, and 90 days for their refresh token (platforms.md).
const EXPIRING_ACCESS_TOKEN_SECS: i64 = 3600;
const REFRESH_TOKEN_LIFETIME_SECS: i64 = 7_776_000;
/// The sentence Shopify's token endpoint answers an unknown or spent code with.
const CODE_NOT_FOUND: &str = "The authorization code was not found or was already used";
/// What Shopify answers every unusable access token with, expired and revoked alike.
const INVALID_TOKEN: &str =
    "[API] Invalid API key or access token (unrecognized login or wrong password)";

const DEFAULT_CATALOGUE_SIZE: usize = 10_000;
const DEFAULT_CURRENCY: &str = "USD";
/// Shopify Plus's bucket: 10,000 points, restoring 1,000 a second.
const DEFAULT_BUCKET_MAXIMUM: f64 = 10_000.0;
const DEFAULT_RESTORE_PER_SEC: f64 = 1_000.0;
/// The most one query may cost, whatever the bucket holds.
const MAX_QUERY_COST: u64 = 1_000;
/// The largest `first` of any connection.
const MAX_FIRST: u64 = 250;
/// What a query pays before its connections: the query and the products connection itself.
const BASE_QUERY_COST: u64 = 2;
/// A query for the shop alone: one object.
const SHOP_QUERY_COST: u64 = 1;

/// Stylesheet hrefs relative to each page: `/{shop}/admin/oauth/authorize`, `/_control`.
const CONSENT_STYLESHEET: &str = "../../../sandbox.css";
const CONTROL_STYLESHEET: &str = "sandbox.css";

/// The fields the fake recognises a query by, and reads the arguments of.
static PRODUCTS_FIELD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bproducts\s*\(([^)]*)\)").expect("the pattern is valid"));
static PRODUCT_FIELD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bproduct\s*\(([^)]*)\)").expect("the pattern is valid"));
static SHOP_FIELD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bshop\s*\{").expect("the pattern is valid"));
static MEDIA_FIELD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bmedia\s*\(([^)]*)\)").expect("the pattern is valid"));
static VARIANTS_FIELD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bvariants\s*\(([^)]*)\)").expect("the pattern is valid"));
/// One `name: value` argument: a variable, a string, a number, or a bare word.
static ARGUMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(\w+)\s*:\s*(\$\w+|"[^"]*"|-?\d+|\w+)"#).expect("the pattern is valid")
});
/// The one product search the fake understands.
static UPDATED_AT_SEARCH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^updated_at\s*:\s*(>=?)\s*(?:'([^']*)'|"([^"]*)"|(\S+))$"#)
        .expect("the pattern is valid")
});

/// The fake's endpoints, for scripting failures and counting requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `GET /{shop}/admin/oauth/authorize` (the consent page), and
    /// [`ShopifyFake::authorize_directly`].
    Authorize,
    /// `POST /{shop}/admin/oauth/access_token`, codes and refreshes alike.
    Token,
    /// `POST /{shop}/admin/api/{version}/graphql.json`, whatever the query.
    GraphQl,
}

/// A handle on one fake Shopify that knows one app. Clones share the same world.
#[derive(Clone)]
pub struct ShopifyFake {
    world: Arc<Mutex<World>>,
    clock: SharedClock,
}

impl fmt::Debug for ShopifyFake {
    // The world holds tokens; printing them would gain a failing test nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShopifyFake").finish_non_exhaustive()
    }
}

impl ShopifyFake {
    /// A fake Shopify whose one app has these credentials (the secret also signs callbacks),
    /// telling the real time.
    pub fn new(client_id: &str, client_secret: &str) -> Self {
        Self::with_clock(client_id, client_secret, Arc::new(SystemClock))
    }

    /// As [`ShopifyFake::new`], telling time by `clock`: a `ManualClock` expires codes and
    /// tokens and refills cost buckets without waiting. (Latency still sleeps in real time, and
    /// a client that sleeps out a throttle sleeps in real time too.)
    pub fn with_clock(client_id: &str, client_secret: &str, clock: SharedClock) -> Self {
        Self {
            world: Arc::new(Mutex::new(World::new(client_id, client_secret))),
            clock,
        }
    }

    /// All the fake's routes, relative to wherever the router is served or nested.
    pub fn router(&self) -> Router {
        Router::new()
            .route(
                "/{shop}/admin/oauth/authorize",
                get(show_consent).post(record_decision),
            )
            .route("/{shop}/admin/oauth/access_token", post(access_token))
            .route("/{shop}/admin/api/{version}/graphql.json", post(graphql))
            .route("/images/{product_id}/{file}", get(product_image))
            .route("/sandbox.css", get(stylesheet))
            .route("/_control", get(show_control).post(arm_control))
            .with_state(self.clone())
    }

    /// The absolute URL the fake is reached at (`http://127.0.0.1:4321`, or
    /// `https://app.example/sandbox/shopify`), for the image URLs in product answers. Without
    /// it, they are built from each GraphQL request's Host and path.
    pub fn set_base_url(&self, base_url: &str) {
        self.lock().base_url = Some(base_url.trim_end_matches('/').to_owned());
    }

    /// How many products a shop has when it first consents (default 10,000).
    pub fn set_catalogue_size(&self, products: usize) {
        self.lock().catalogue_size = products;
    }

    /// Runs `f` on `shop`'s catalogue (the `*.myshopify.com` domain), to sell out, reprice,
    /// archive, remove or add products between syncs; `None` until the shop has consented.
    /// `f` runs with the world locked: it must not call the fake.
    pub fn with_catalogue<R>(&self, shop: &str, f: impl FnOnce(&mut Catalogue) -> R) -> Option<R> {
        let shop = shop.to_ascii_lowercase();
        let mut world = self.lock();
        world
            .shops
            .get_mut(&shop)
            .map(|state| f(&mut state.catalogue))
    }

    /// Every shop's cost bucket from now on: `maximum` points, restoring `restore_per_sec` a
    /// second of the fake's clock (default 10,000 and 1,000, Shopify Plus). A bucket holding more
    /// than the new maximum is cut down to it; negative or non-finite values count as 0.
    pub fn set_bucket(&self, maximum: f64, restore_per_sec: f64) {
        let sane = |value: f64| {
            if value.is_finite() {
                value.max(0.0)
            } else {
                0.0
            }
        };
        let limits = BucketLimits {
            maximum: sane(maximum),
            restore_per_sec: sane(restore_per_sec),
        };
        let mut world = self.lock();
        world.limits = limits;
        for state in world.shops.values_mut() {
            state.bucket.available = state.bucket.available.min(limits.maximum);
        }
    }

    /// The points `shop`'s bucket holds now (refilled to the fake's clock); `None` until the
    /// shop has consented.
    pub fn bucket_available(&self, shop: &str) -> Option<f64> {
        let now = self.now();
        let shop = shop.to_ascii_lowercase();
        let mut world = self.lock();
        let limits = world.limits;
        world
            .shops
            .get_mut(&shop)
            .map(|state| state.bucket.refill(limits, now))
    }

    /// How long expiring access tokens issued from now on live (default 3,600 s; 0 or less
    /// issues tokens that are already expired). Tokens asked for without `expiring=1` never
    /// expire, whatever this says.
    pub fn set_access_token_lifetime(&self, secs: i64) {
        self.lock().expiring_lifetime = TimeDelta::seconds(secs);
    }

    /// Queues `failures` for `endpoint`: each later request to it takes the next one, in order.
    pub fn fail_next(&self, endpoint: Endpoint, failures: impl IntoIterator<Item = Failure>) {
        // Collected first, so a caller's iterator never runs while the world is locked.
        let failures: Vec<Failure> = failures.into_iter().collect();
        self.lock().script.fail_next(endpoint, failures);
    }

    /// For tests without a browser: checks `authorize_url` (where our app sends the person)
    /// exactly as the consent page does, checks that it is `shop`'s, installs the app there and
    /// returns the redirect the browser would follow
    /// (`redirect_uri?code=..&hmac=..&host=..&shop=..&state=..&timestamp=..`). Any failure armed
    /// for [`Endpoint::Authorize`] refuses it (the kind of failure only shows over HTTP). The
    /// error is the sentence the page would show.
    pub fn authorize_directly(&self, authorize_url: &str, shop: &str) -> Result<String, String> {
        let params = direct_consent(authorize_url, AUTHORIZE_PATH, shop)?;
        let url_shop = shop_in_authorize_url(authorize_url)
            .ok_or_else(|| format!("{authorize_url} names no shop before {AUTHORIZE_PATH}."))?;
        if !url_shop.eq_ignore_ascii_case(shop) {
            return Err(format!(
                "The authorize URL is for the shop {url_shop}, not {shop}."
            ));
        }
        let now = self.now();
        let mut world = self.lock();
        let armed = world.script.armed(Endpoint::Authorize) > 0;
        drop(world.script.begin(Endpoint::Authorize));
        if armed {
            return Err("Sandbox Shopify was told to fail the next authorize request.".to_owned());
        }
        world.decide(url_shop, &params, now)
    }

    /// The fake's time: what catalogue edits should be dated with.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn lock(&self) -> MutexGuard<'_, World> {
        // A test that panicked mid-request must not turn every later request into a panic.
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one request: counts it, and applies the next scripted failure for `endpoint` around
    /// `work`, in Shopify's shape for that endpoint.
    async fn answer(&self, endpoint: Endpoint, work: impl Future<Output = Response>) -> Response {
        let turn = self.lock().script.begin(endpoint);
        answer(turn, |refusal| scripted_refusal(endpoint, refusal), work).await
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers: parse the request, hand the work to `ShopifyFake::answer`.

async fn show_consent(
    State(fake): State<ShopifyFake>,
    Path(shop): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = parse_query(query.as_deref());
    fake.answer(Endpoint::Authorize, async {
        fake.lock().consent_page(&shop, &params)
    })
    .await
}

async fn record_decision(
    State(fake): State<ShopifyFake>,
    Path(shop): Path<String>,
    body: Bytes,
) -> Response {
    let params = parse_form(&body);
    let now = fake.now();
    let outcome = fake.lock().decide(&shop, &params, now);
    match outcome {
        Ok(location) => found(&location),
        Err(problem) => refusal_page(PLATFORM, &problem, CONSENT_STYLESHEET),
    }
}

async fn access_token(
    State(fake): State<ShopifyFake>,
    Path(shop): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = match token_params(&headers, &body) {
        Ok(params) => params,
        Err(refusal) => return refusal,
    };
    // Shopify's code exchange names no grant type; a refresh does.
    let grant_type = params
        .get("grant_type")
        .map_or("authorization_code", String::as_str);
    fake.lock().oauth.count_token_request(Some(grant_type));
    fake.answer(Endpoint::Token, async {
        let now = fake.now();
        fake.lock().token(&shop, &params, now)
    })
    .await
}

async fn graphql(
    State(fake): State<ShopifyFake>,
    Path((shop, version)): Path<(String, String)>,
    OriginalUri(original): OriginalUri,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reached_at = own_base_url(&headers, &original, &uri);
    let mut response = fake
        .answer(Endpoint::GraphQl, async {
            let now = fake.now();
            fake.lock()
                .graphql(&shop, &headers, &body, &reached_at, now)
        })
        .await;
    // Every answer says which version served it, refusals included.
    if let Ok(version) = HeaderValue::from_str(&version) {
        response.headers_mut().insert(API_VERSION_HEADER, version);
    }
    response
}

async fn product_image(
    State(fake): State<ShopifyFake>,
    Path((product_id, file)): Path<(String, String)>,
) -> Response {
    let Some((product_id, rank)) = image_address(&product_id, &file) else {
        return not_found();
    };
    let exists = fake.lock().has_image(product_id, rank);
    if !exists {
        return not_found();
    }
    let png = image_png(product_id, rank);
    ([(header::CONTENT_TYPE, "image/png")], png).into_response()
}

/// `1001` and `0.png` as a product id and an image rank.
fn image_address(product_id: &str, file: &str) -> Option<(u64, u32)> {
    let rank = file.strip_suffix(".png")?;
    if rank.is_empty() || !rank.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    Some((product_id.parse().ok()?, rank.parse().ok()?))
}

/// The failures the control page arms for the next GraphQL request (during a sync, the next
/// products page), by form value.
fn control_choices() -> Vec<ControlChoice> {
    vec![
        ControlChoice {
            value: "server_error",
            label: "Shopify is down (503): the sync retries with backoff",
            failure: Failure::ServerError(503),
        },
        ControlChoice {
            value: "rate_limited",
            label: "Rate limited (429, Retry-After 30 s): the sync waits, then resumes",
            failure: Failure::RateLimited { reset_in_secs: 30 },
        },
        ControlChoice {
            value: "revoked_token",
            label: "Token refused once (401): the shop is marked for reconnecting",
            failure: Failure::RevokedToken,
        },
    ]
}

/// What the control page does to the shops themselves rather than to the next request.
const OWN_CHOICES: &[(&str, &str)] = &[
    (
        "drain_bucket",
        "Every cost bucket runs dry (THROTTLED): the sync waits for it to refill",
    ),
    (
        "uninstall",
        "The app is uninstalled from every shop: its tokens stop working for good",
    ),
    (
        "sell_out_first",
        "Each shop's first product sells out: the next sync shows it out of stock",
    ),
];

/// `GET /_control`: arm a failure, see the shops the sandbox holds.
async fn show_control(State(fake): State<ShopifyFake>) -> Response {
    let choices = control_choices();
    let (armed, recent) = {
        let world = fake.lock();
        (
            world.script.armed(Endpoint::GraphQl),
            world.shop_summaries(),
        )
    };
    Html(control_page(&Control {
        platform: PLATFORM,
        item: "products request",
        choices: &choices,
        own_choices: OWN_CHOICES,
        armed,
        recent: &recent,
        stylesheet: CONTROL_STYLESHEET,
    }))
    .into_response()
}

async fn arm_control(State(fake): State<ShopifyFake>, body: Bytes) -> Response {
    let params = parse_form(&body);
    if let Some(failure) = chosen_failure(&control_choices(), &params) {
        fake.fail_next(Endpoint::GraphQl, [failure]);
        return back_to_control();
    }
    let now = fake.now();
    match params.get("failure").map(String::as_str) {
        Some("drain_bucket") => fake.lock().drain_buckets(now),
        Some("uninstall") => fake.lock().uninstall_everywhere(),
        Some("sell_out_first") => fake.lock().sell_out_first_products(now),
        _ => {
            return refusal_page(
                PLATFORM,
                "Pick one of the listed failures.",
                CONTROL_STYLESHEET,
            );
        }
    }
    back_to_control()
}

// ---------------------------------------------------------------------------------------------
// The world.

pub struct World {
    oauth: AuthorizationServer,
    script: Script<Endpoint>,
    base_url: Option<String>,
    /// By `*.myshopify.com` domain, lowercase.
    shops: BTreeMap<String, Shop>,
    /// What each code was issued for: Shopify's token request names neither the shop (it is
    /// the host) nor the redirect URI, so the fake remembers them.
    codes: HashMap<String, IssuedCode>,
    /// The shop each refresh token was issued for, so one never refreshes at another shop.
    refresh_shops: HashMap<String, String>,
    catalogue_size: usize,
    limits: BucketLimits,
    expiring_lifetime: TimeDelta,
}

impl fmt::Debug for World {
    // Codes and refresh tokens are map keys here; printing them would gain a failing test
    // nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("World")
            .field("oauth", &self.oauth)
            .field("shops", &self.shops.keys().collect::<Vec<_>>())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
struct IssuedCode {
    shop: String,
    redirect_uri: String,
}

/// One shop that installed the app: its products and its cost bucket (per app and shop, and
/// the fake knows one app).
#[derive(Debug)]
struct Shop {
    catalogue: Catalogue,
    bucket: Bucket,
}

#[derive(Debug, Clone, Copy)]
struct BucketLimits {
    maximum: f64,
    restore_per_sec: f64,
}

/// Shopify's leaky bucket, kept as what it held when last looked at.
#[derive(Debug)]
struct Bucket {
    available: f64,
    checked_at: DateTime<Utc>,
}

impl Bucket {
    fn full(limits: BucketLimits, now: DateTime<Utc>) -> Self {
        Self {
            available: limits.maximum,
            checked_at: now,
        }
    }

    /// Restores the points earned since it was last looked at, and says what it holds.
    fn refill(&mut self, limits: BucketLimits, now: DateTime<Utc>) -> f64 {
        let elapsed = (now - self.checked_at).num_milliseconds().max(0) as f64 / 1000.0;
        self.available = (self.available + elapsed * limits.restore_per_sec).min(limits.maximum);
        self.checked_at = self.checked_at.max(now);
        self.available
    }
}

/// The body of a GraphQL request.
#[derive(Debug, Deserialize)]
struct GraphQlRequest {
    query: String,
    #[serde(default)]
    variables: Option<Map<String, Value>>,
}

impl World {
    fn new(client_id: &str, client_secret: &str) -> Self {
        Self {
            oauth: AuthorizationServer::new(OAuthConfig {
                client_id: client_id.to_owned(),
                client_secret: client_secret.to_owned(),
                known_scopes: KNOWN_SCOPES,
                scope_separator: ',',
                pkce: Pkce::NotUsed,
                state_required: true,
                code_lifetime: TimeDelta::seconds(CODE_LIFETIME_SECS),
                // Set per token request (`issue_as`): Shopify decides the kind per exchange.
                access_token_lifetime: None,
                refresh: None,
                access_token_prefix: "shpat_",
                refresh_token_prefix: "shprt_",
            }),
            script: Script::default(),
            base_url: None,
            shops: BTreeMap::new(),
            codes: HashMap::new(),
            refresh_shops: HashMap::new(),
            catalogue_size: DEFAULT_CATALOGUE_SIZE,
            limits: BucketLimits {
                maximum: DEFAULT_BUCKET_MAXIMUM,
                restore_per_sec: DEFAULT_RESTORE_PER_SEC,
            },
            expiring_lifetime: TimeDelta::seconds(EXPIRING_ACCESS_TOKEN_SECS),
        }
    }

    // --- Consent ------------------------------------------------------------------------------

    /// The authorize request's checks, Shopify's way: the shop, then OAuth's (client, redirect
    /// URI, known scopes, state), then `read_products` among the scopes. Shopify's authorize
    /// takes no `response_type`, so the kit's check is given the one it expects.
    fn check_authorize(
        &self,
        shop: &str,
        params: &Params,
    ) -> Result<(String, AuthorizeRequest), String> {
        let domain = shop_domain(shop).ok_or_else(|| {
            format!("`{shop}` is not a shop address like your-shop.myshopify.com.")
        })?;
        let mut params = params.clone();
        params
            .entry("response_type".to_owned())
            .or_insert_with(|| "code".to_owned());
        let request = self.oauth.check_authorize(&params)?;
        if !request.scopes.contains(REQUIRED_SCOPE) {
            return Err(format!(
                "scope must include {REQUIRED_SCOPE} (scopes are separated by commas)."
            ));
        }
        Ok((domain, request))
    }

    fn consent_page(&self, shop: &str, params: &Params) -> Response {
        match self.check_authorize(shop, params) {
            Ok((domain, request)) => {
                let hidden = self.oauth.consent_fields(&request);
                Html(consent_html(&domain, &request, &hidden)).into_response()
            }
            Err(problem) => refusal_page(PLATFORM, &problem, CONSENT_STYLESHEET),
        }
    }

    /// The consent's outcome, as the URL Shopify would redirect the browser to. Shared by the
    /// form and [`ShopifyFake::authorize_directly`], so both check the same things.
    fn decide(
        &mut self,
        shop: &str,
        params: &Params,
        now: DateTime<Utc>,
    ) -> Result<String, String> {
        let (domain, request) = self.check_authorize(shop, params)?;
        match Decision::from_form(params)? {
            Decision::Deny => Ok(request.denied_location()),
            Decision::Allow { .. } => self.install(&domain, request, now),
        }
    }

    /// Opens the shop (with its catalogue) on its first install, issues a code bound to it and
    /// returns the signed callback.
    fn install(
        &mut self,
        domain: &str,
        request: AuthorizeRequest,
        now: DateTime<Utc>,
    ) -> Result<String, String> {
        self.open_shop(domain, now);
        let redirect_uri = request.redirect_uri.clone();
        let state = request.state.clone();
        let location = self.oauth.approve(request, domain, now);
        let code = issued_code(&location)
            .ok_or_else(|| "The sandbox could not issue a code.".to_owned())?;
        self.codes.insert(
            code.clone(),
            IssuedCode {
                shop: domain.to_owned(),
                redirect_uri: redirect_uri.clone(),
            },
        );
        let secret = &self.oauth.config().client_secret;
        Ok(signed_callback(
            &redirect_uri,
            &code,
            domain,
            state.as_deref(),
            now,
            secret,
        ))
    }

    fn open_shop(&mut self, domain: &str, now: DateTime<Utc>) {
        let (size, limits) = (self.catalogue_size, self.limits);
        self.shops.entry(domain.to_owned()).or_insert_with(|| Shop {
            catalogue: Catalogue::generate(size, DEFAULT_CURRENCY, now),
            bucket: Bucket::full(limits, now),
        });
    }

    // --- Tokens -------------------------------------------------------------------------------

    /// `POST /{shop}/admin/oauth/access_token`: the app's credentials in the body, then a code
    /// (no `grant_type`) or `grant_type=refresh_token`.
    fn token(&mut self, shop: &str, params: &Params, now: DateTime<Utc>) -> Response {
        let Some(domain) = shop_domain(shop) else {
            return not_found();
        };
        if let Err(refusal) = self.oauth.check_client(form_credentials(params).as_ref()) {
            return oauth_refusal(&refusal);
        }
        let issued = match params.get("grant_type").map(String::as_str) {
            None | Some("authorization_code") => self.redeem_code(&domain, params, now),
            Some("refresh_token") => self.refresh(&domain, params, now),
            Some(other) => Err(OAuthError::UnsupportedGrantType(other.to_owned())),
        };
        match issued {
            Ok(tokens) => {
                if let Some(refresh) = tokens.refresh.as_ref().filter(|refresh| refresh.is_new) {
                    self.refresh_shops
                        .insert(refresh.token.clone(), domain.clone());
                }
                Json(token_json(&tokens)).into_response()
            }
            Err(refusal) => oauth_refusal(&refusal),
        }
    }

    /// A code issued for this shop, spent once: a token that never expires, or with
    /// `expiring=1` an hour's token and a refresh token.
    fn redeem_code(
        &mut self,
        domain: &str,
        params: &Params,
        now: DateTime<Utc>,
    ) -> Result<IssuedTokens, OAuthError> {
        let code = non_empty(params, "code")?;
        let issued = self
            .codes
            .get(code)
            .filter(|issued| issued.shop == domain)
            .cloned()
            .ok_or_else(|| OAuthError::InvalidRequest(CODE_NOT_FOUND.to_owned()))?;
        let expiring = params
            .get("expiring")
            .is_some_and(|value| value == "1" || value == "true");
        self.issue_as(expiring);
        self.oauth
            .exchange_code(
                CodeRedemption {
                    code,
                    redirect_uri: &issued.redirect_uri,
                    client_id: params.get("client_id").map(String::as_str),
                    code_verifier: None,
                },
                now,
            )
            .map_err(|refusal| match refusal {
                // Shopify words every unusable code the same way.
                OAuthError::InvalidGrant(_) => {
                    OAuthError::InvalidRequest(CODE_NOT_FOUND.to_owned())
                }
                other => other,
            })
    }

    /// A refresh token of this shop, spent for a new access token and a new refresh token.
    fn refresh(
        &mut self,
        domain: &str,
        params: &Params,
        now: DateTime<Utc>,
    ) -> Result<IssuedTokens, OAuthError> {
        let refresh_token = non_empty(params, "refresh_token")?;
        if self
            .refresh_shops
            .get(refresh_token)
            .is_some_and(|shop| shop != domain)
        {
            return Err(OAuthError::InvalidGrant(
                "The refresh token was issued for another shop.".to_owned(),
            ));
        }
        self.issue_as(true);
        self.oauth.refresh(refresh_token, None, now)
    }

    /// Sets the authorization server up for the kind of token the next issue makes: Shopify
    /// decides per request (`expiring=1`) what the kit holds as one configuration.
    fn issue_as(&mut self, expiring: bool) {
        if expiring {
            self.oauth
                .set_access_token_lifetime(Some(self.expiring_lifetime));
            self.oauth.set_refresh(Some(RefreshPolicy {
                lifetime: Some(TimeDelta::seconds(REFRESH_TOKEN_LIFETIME_SECS)),
                rotation: Rotation::Rotate,
                only_with_scope: None,
            }));
        } else {
            self.oauth.set_access_token_lifetime(None);
            self.oauth.set_refresh(None);
        }
    }

    // --- GraphQL ------------------------------------------------------------------------------

    /// One GraphQL request: the token (of this very shop), the body, the query's plan, then the
    /// shop's answer.
    fn graphql(
        &mut self,
        shop: &str,
        headers: &HeaderMap,
        body: &[u8],
        reached_at: &str,
        now: DateTime<Utc>,
    ) -> Response {
        let Some(domain) = shop_domain(shop) else {
            return not_found();
        };
        let token = headers
            .get(ACCESS_TOKEN_HEADER)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .filter(|token| !token.is_empty());
        match self.oauth.authenticate(token, &[REQUIRED_SCOPE], now) {
            Ok(grant) if grant.account_id == domain => {}
            Err(BearerError::MissingScope(scope)) => {
                return graphql_error(
                    &format!(
                        "Access denied for products field. Required access: `{scope}` access scope."
                    ),
                    "ACCESS_DENIED",
                );
            }
            // A token of another shop is as unknown here as a made-up one.
            Ok(_) | Err(_) => return invalid_token(),
        }
        let Ok(request) = serde_json::from_slice::<GraphQlRequest>(body) else {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({ "errors": { "query": "Required parameter missing or invalid" } })),
            )
                .into_response();
        };
        let variables = request.variables.unwrap_or_default();
        let plan = match Plan::read(&request.query, &variables) {
            Ok(plan) => plan,
            Err(message) => return graphql_error(&message, "BAD_REQUEST"),
        };
        let base_url = self
            .base_url
            .clone()
            .unwrap_or_else(|| reached_at.to_owned());
        let limits = self.limits;
        match self.shops.get_mut(&domain) {
            Some(state) => state.run(&domain, &plan, limits, &base_url, now),
            None => not_found(),
        }
    }

    fn has_image(&self, product_id: u64, rank: u32) -> bool {
        self.shops.values().any(|state| {
            state
                .catalogue
                .get(product_id)
                .is_some_and(|product| product.images.iter().any(|image| image.rank == rank))
        })
    }

    // --- The control page ---------------------------------------------------------------------

    /// A line per shop: how many products it has and its first product (the one "sell out"
    /// changes), linking to that product's first picture.
    fn shop_summaries(&self) -> Vec<Recent> {
        self.shops
            .iter()
            .filter_map(|(domain, state)| {
                let first = state.catalogue.products().first()?;
                let image = first.images.first()?;
                Some(Recent {
                    href: image.path().trim_start_matches('/').to_owned(),
                    text: format!(
                        "{domain}: {} products; the first, {}, has {} in stock",
                        state.catalogue.len(),
                        first.title,
                        first.total_quantity()
                    ),
                })
            })
            .collect()
    }

    fn drain_buckets(&mut self, now: DateTime<Utc>) {
        let limits = self.limits;
        for state in self.shops.values_mut() {
            state.bucket.refill(limits, now);
            state.bucket.available = 0.0;
        }
    }

    fn uninstall_everywhere(&mut self) {
        let domains: Vec<String> = self.shops.keys().cloned().collect();
        for domain in &domains {
            self.oauth.revoke_account(domain);
        }
    }

    fn sell_out_first_products(&mut self, now: DateTime<Utc>) {
        for state in self.shops.values_mut() {
            if let Some(id) = state.catalogue.id_at(0) {
                state.catalogue.sell_out(id, now);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reading a query.

/// What a query asks for, read from its text and variables.
#[derive(Debug)]
struct Plan {
    selection: Selection,
    /// `shop { ... }` is selected too (the product queries ask for its currency).
    with_shop: bool,
    /// `media(first: N)` and `variants(first: M)`; 0 when not selected.
    media: u64,
    variants: u64,
}

#[derive(Debug)]
enum Selection {
    Products(ProductsArgs),
    /// The numeric id of `product(id: "gid://shopify/Product/N")`.
    Product(u64),
    ShopOnly,
}

#[derive(Debug)]
struct ProductsArgs {
    first: u64,
    /// The id the `after` cursor names: products after it.
    after: Option<u64>,
    since: Option<UpdatedSince>,
}

/// `updated_at:>'…'` (or `>=`).
#[derive(Debug, Clone, Copy)]
struct UpdatedSince {
    at: DateTime<Utc>,
    inclusive: bool,
}

impl UpdatedSince {
    fn admits(self, updated_at: DateTime<Utc>) -> bool {
        if self.inclusive {
            updated_at >= self.at
        } else {
            updated_at > self.at
        }
    }
}

impl Plan {
    /// Reads the query; the error is the GraphQL error's message.
    fn read(query: &str, variables: &Map<String, Value>) -> Result<Self, String> {
        let with_shop = SHOP_FIELD.is_match(query);
        let media = sub_connection_size(query, &MEDIA_FIELD, "media", variables)?;
        let variants = sub_connection_size(query, &VARIANTS_FIELD, "variants", variables)?;
        let selection = if let Some(args) = field_arguments(query, &PRODUCTS_FIELD, variables) {
            Selection::Products(ProductsArgs::read(&args)?)
        } else if let Some(args) = field_arguments(query, &PRODUCT_FIELD, variables) {
            Selection::Product(product_id(args.get("id"))?)
        } else if with_shop {
            Selection::ShopOnly
        } else {
            return Err(
                "The sandbox answers products(...), product(id: ...) and shop { ... } queries only."
                    .to_owned(),
            );
        };
        Ok(Self {
            selection,
            with_shop,
            media,
            variants,
        })
    }

    /// What one product of the answer may cost: itself, its images and its variants.
    fn per_product(&self) -> u64 {
        1 + self.media + self.variants
    }

    /// `requestedQueryCost`: every connection assumed full.
    fn requested_cost(&self) -> u64 {
        match &self.selection {
            Selection::Products(args) => BASE_QUERY_COST + args.first * self.per_product(),
            Selection::Product(_) => BASE_QUERY_COST + self.per_product(),
            Selection::ShopOnly => SHOP_QUERY_COST,
        }
    }

    /// What one product in the answer actually costs.
    fn product_cost(&self, product: &FakeProduct) -> u64 {
        let images = (product.images.len() as u64).min(self.media);
        let variants = (product.variants.len() as u64).min(self.variants);
        1 + images + variants
    }
}

impl ProductsArgs {
    fn read(args: &HashMap<String, Value>) -> Result<Self, String> {
        let first = args
            .get("first")
            .and_then(Value::as_u64)
            .filter(|first| (1..=MAX_FIRST).contains(first))
            .ok_or_else(|| {
                format!("The products connection needs `first` between 1 and {MAX_FIRST}.")
            })?;
        let after = match args.get("after") {
            None | Some(Value::Null) => None,
            Some(Value::String(cursor)) if cursor.is_empty() => None,
            Some(Value::String(cursor)) => Some(
                decode_cursor(cursor)
                    .ok_or_else(|| "Invalid cursor for current pagination.".to_owned())?,
            ),
            Some(_) => return Err("`after` must be a cursor string.".to_owned()),
        };
        let since = match args.get("query") {
            None | Some(Value::Null) => None,
            Some(Value::String(search)) if search.trim().is_empty() => None,
            Some(Value::String(search)) => Some(updated_since(search)?),
            Some(_) => return Err("`query` must be a search string.".to_owned()),
        };
        Ok(Self {
            first,
            after,
            since,
        })
    }
}

/// The arguments of the first `field(...)` in `query`, `$variables` resolved; `None` when the
/// field is not in the query.
fn field_arguments(
    query: &str,
    field: &Regex,
    variables: &Map<String, Value>,
) -> Option<HashMap<String, Value>> {
    let inside = field.captures(query)?.get(1)?.as_str();
    Some(
        ARGUMENT
            .captures_iter(inside)
            .filter_map(|argument| {
                let name = argument.get(1)?.as_str().to_owned();
                let value = argument_value(argument.get(2)?.as_str(), variables);
                Some((name, value))
            })
            .collect(),
    )
}

fn argument_value(raw: &str, variables: &Map<String, Value>) -> Value {
    if let Some(name) = raw.strip_prefix('$') {
        return variables.get(name).cloned().unwrap_or(Value::Null);
    }
    if let Some(text) = raw
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    {
        return Value::from(text);
    }
    if let Ok(number) = raw.parse::<i64>() {
        return Value::from(number);
    }
    match raw {
        "null" => Value::Null,
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        // An enum value such as `UPDATED_AT`.
        word => Value::from(word),
    }
}

/// `first` of a connection inside each product (`media`, `variants`): 0 when not selected.
fn sub_connection_size(
    query: &str,
    field: &Regex,
    name: &str,
    variables: &Map<String, Value>,
) -> Result<u64, String> {
    let Some(args) = field_arguments(query, field, variables) else {
        return Ok(0);
    };
    args.get("first")
        .and_then(Value::as_u64)
        .filter(|first| (1..=MAX_FIRST).contains(first))
        .ok_or_else(|| format!("The {name} connection needs `first` between 1 and {MAX_FIRST}."))
}

/// `gid://shopify/Product/1001` as 1001.
fn product_id(id: Option<&Value>) -> Result<u64, String> {
    let id = id.and_then(Value::as_str).unwrap_or_default();
    id.strip_prefix("gid://shopify/Product/")
        .and_then(|number| number.parse().ok())
        .ok_or_else(|| format!("Invalid global id '{id}'"))
}

fn updated_since(search: &str) -> Result<UpdatedSince, String> {
    let understood = || {
        format!(
            "The sandbox's product search understands only updated_at:>'<RFC 3339 time>', not `{search}`."
        )
    };
    let found = UPDATED_AT_SEARCH
        .captures(search.trim())
        .ok_or_else(understood)?;
    let raw = found
        .get(2)
        .or_else(|| found.get(3))
        .or_else(|| found.get(4))
        .map_or("", |time| time.as_str());
    let at = DateTime::parse_from_rfc3339(raw)
        .map_err(|_| format!("`{raw}` in the product search is not an RFC 3339 time."))?
        .with_timezone(&Utc);
    Ok(UpdatedSince {
        at,
        inclusive: found
            .get(1)
            .is_some_and(|operator| operator.as_str() == ">="),
    })
}

/// Shopify's cursors are base64 of the last item's id and sort value; so are the fake's.
fn encode_cursor(product_id: u64) -> String {
    STANDARD
        .encode(json!({ "last_id": product_id, "last_value": product_id.to_string() }).to_string())
}

fn decode_cursor(cursor: &str) -> Option<u64> {
    let bytes = STANDARD.decode(cursor).ok()?;
    serde_json::from_slice::<Value>(&bytes).ok()?["last_id"].as_u64()
}

// ---------------------------------------------------------------------------------------------
// Answering a query.

impl Shop {
    /// Costs the plan, checks it against the single-query limit and the bucket, then answers
    /// and spends what the answer actually cost.
    fn run(
        &mut self,
        domain: &str,
        plan: &Plan,
        limits: BucketLimits,
        base_url: &str,
        now: DateTime<Utc>,
    ) -> Response {
        let requested = plan.requested_cost();
        let available = self.bucket.refill(limits, now);
        if requested > MAX_QUERY_COST {
            let message = format!(
                "Query cost is {requested}, which exceeds the single query max cost limit ({MAX_QUERY_COST})."
            );
            return Json(json!({
                "errors": [{ "message": message, "extensions": { "code": "MAX_COST_EXCEEDED" } }],
                "extensions": { "cost": cost_json(requested, None, limits, available) },
            }))
            .into_response();
        }
        if available < requested as f64 {
            return Json(json!({
                "errors": [{
                    "message": "Throttled",
                    "extensions": {
                        "code": "THROTTLED",
                        "documentation": "https://shopify.dev/api/usage/rate-limits",
                    },
                }],
                "extensions": { "cost": cost_json(requested, None, limits, available) },
            }))
            .into_response();
        }
        let (data, actual) = self.data(domain, plan, base_url);
        self.bucket.available -= actual as f64;
        Json(json!({
            "data": data,
            "extensions": {
                "cost": cost_json(requested, Some(actual), limits, self.bucket.available),
            },
        }))
        .into_response()
    }

    /// The answer's `data` and its actual cost.
    fn data(&self, domain: &str, plan: &Plan, base_url: &str) -> (Value, u64) {
        let render = ProductRender {
            domain,
            currency: &self.catalogue.currency,
            base_url,
            media: plan.media,
            variants: plan.variants,
        };
        let mut data = Map::new();
        let actual = match &plan.selection {
            Selection::Products(args) => {
                let (connection, cost) = self.products_page(args, plan, &render);
                data.insert("products".to_owned(), connection);
                BASE_QUERY_COST + cost
            }
            Selection::Product(id) => match self.catalogue.get(*id) {
                Some(product) => {
                    data.insert("product".to_owned(), render.product(product));
                    BASE_QUERY_COST + plan.product_cost(product)
                }
                None => {
                    data.insert("product".to_owned(), Value::Null);
                    BASE_QUERY_COST
                }
            },
            Selection::ShopOnly => SHOP_QUERY_COST,
        };
        if plan.with_shop {
            data.insert(
                "shop".to_owned(),
                shop_json(domain, &self.catalogue.currency),
            );
        }
        (Value::Object(data), actual)
    }

    /// Up to `first` products in id order after the cursor, filtered by the search, and what
    /// they cost.
    fn products_page(
        &self,
        args: &ProductsArgs,
        plan: &Plan,
        render: &ProductRender<'_>,
    ) -> (Value, u64) {
        let first = usize::try_from(args.first).unwrap_or(usize::MAX);
        let mut page: Vec<&FakeProduct> = self
            .catalogue
            .products()
            .iter()
            .filter(|product| args.after.is_none_or(|after| product.id > after))
            .filter(|product| {
                args.since
                    .is_none_or(|since| since.admits(product.updated_at))
            })
            .take(first.saturating_add(1))
            .collect();
        let has_next_page = page.len() > first;
        page.truncate(first);
        let cost: u64 = page.iter().map(|product| plan.product_cost(product)).sum();
        let nodes: Vec<Value> = page.iter().map(|product| render.product(product)).collect();
        let connection = json!({
            "nodes": nodes,
            "pageInfo": {
                "hasNextPage": has_next_page,
                "hasPreviousPage": args.after.is_some(),
                "startCursor": page.first().map(|product| encode_cursor(product.id)),
                "endCursor": page.last().map(|product| encode_cursor(product.id)),
            },
        });
        (connection, cost)
    }
}

/// How products are written in one answer.
struct ProductRender<'a> {
    domain: &'a str,
    currency: &'a str,
    base_url: &'a str,
    media: u64,
    variants: u64,
}

impl ProductRender<'_> {
    /// Every field Picscripterai may select, with at most `media` images and `variants`
    /// variants.
    fn product(&self, product: &FakeProduct) -> Value {
        let exponent = currency_exponent(self.currency);
        let take = |limit: u64| usize::try_from(limit).unwrap_or(usize::MAX);
        let media: Vec<Value> = product
            .images
            .iter()
            .take(take(self.media))
            .map(|image| {
                json!({
                    "mediaContentType": "IMAGE",
                    "image": {
                        "url": format!("{}{}", self.base_url, image.path()),
                        "altText": image.alt,
                    },
                })
            })
            .collect();
        let variants: Vec<Value> = product
            .variants
            .iter()
            .take(take(self.variants))
            .map(|variant| {
                json!({
                    "id": format!("gid://shopify/ProductVariant/{}", variant.id),
                    "sku": variant.sku,
                    "price": decimal(variant.price_minor, exponent),
                    "inventoryQuantity": variant.quantity,
                    "inventoryItem": { "tracked": true },
                })
            })
            .collect();
        let active = product.state == FakeProductState::Active;
        json!({
            "id": format!("gid://shopify/Product/{}", product.id),
            "title": product.title,
            "handle": product.handle,
            "status": status_name(product.state),
            "descriptionHtml": product.description_html,
            "onlineStoreUrl": active.then(|| format!("https://{}/products/{}", self.domain, product.handle)),
            "createdAt": timestamp(product.created_at),
            "updatedAt": timestamp(product.updated_at),
            "tags": product.tags,
            "totalInventory": product.total_quantity(),
            "media": { "nodes": media },
            "variants": { "nodes": variants },
        })
    }
}

fn status_name(state: FakeProductState) -> &'static str {
    match state {
        FakeProductState::Active => "ACTIVE",
        FakeProductState::Archived => "ARCHIVED",
        FakeProductState::Draft => "DRAFT",
    }
}

/// `1999` in a currency of 2 minor digits as `19.99`, as Shopify's `Money` scalar reads.
fn decimal(minor: i64, exponent: u32) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let magnitude = minor.unsigned_abs();
    if exponent == 0 {
        return format!("{sign}{magnitude}");
    }
    let scale = 10u64.pow(exponent);
    format!(
        "{sign}{}.{:0width$}",
        magnitude / scale,
        magnitude % scale,
        width = exponent as usize
    )
}

/// RFC 3339 in UTC to the second, as Shopify writes `updatedAt`.
fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn shop_json(domain: &str, currency: &str) -> Value {
    json!({
        "name": shop_name(domain),
        "myshopifyDomain": domain,
        "primaryDomain": { "url": format!("https://{domain}"), "host": domain },
        "currencyCode": currency,
    })
}

/// `test-shop.myshopify.com` is called "Test Shop".
fn shop_name(domain: &str) -> String {
    let handle = domain.split('.').next().unwrap_or(domain);
    handle
        .split('-')
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut letters = word.chars();
            letters.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(letters).collect()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `extensions.cost`: what was asked, what was spent (`null` when refused) and the bucket.
fn cost_json(requested: u64, actual: Option<u64>, limits: BucketLimits, available: f64) -> Value {
    json!({
        "requestedQueryCost": requested,
        "actualQueryCost": actual,
        "throttleStatus": {
            "maximumAvailable": limits.maximum,
            "currentlyAvailable": available.max(0.0).floor() as u64,
            "restoreRate": limits.restore_per_sec,
        },
    })
}

// ---------------------------------------------------------------------------------------------
// Shops, callbacks and token requests.

/// A shop's domain, lowercase, when it matches `^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$`.
fn shop_domain(raw: &str) -> Option<String> {
    let domain = raw.to_ascii_lowercase();
    let name = domain.strip_suffix(SHOP_SUFFIX)?;
    let mut characters = name.chars();
    let first_ok = characters.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = characters.all(|c| c.is_ascii_alphanumeric() || c == '-');
    (first_ok && rest_ok).then_some(domain)
}

/// The path segment before `/admin/oauth/authorize` in an authorize URL.
fn shop_in_authorize_url(url: &str) -> Option<&str> {
    let path = url.split(['?', '#']).next()?;
    path.strip_suffix(AUTHORIZE_PATH)?
        .rsplit('/')
        .next()
        .filter(|shop| !shop.is_empty())
}

/// The code in the kit's redirect; the last one, in case the redirect URI carried its own.
fn issued_code(location: &str) -> Option<String> {
    let (_, query) = location.split_once('?')?;
    form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| name == "code")
        .map(|(_, value)| value.into_owned())
        .last()
}

/// Where the browser goes after an install: the redirect URI with `code, hmac, host, shop,
/// state, timestamp`, the `hmac` signing every other parameter the callback carries (the
/// redirect URI's own included), as platforms.md section 8 says.
fn signed_callback(
    redirect_uri: &str,
    code: &str,
    domain: &str,
    state: Option<&str>,
    now: DateTime<Utc>,
    secret: &str,
) -> String {
    let host = STANDARD.encode(format!("{domain}/admin"));
    let timestamp = now.timestamp().to_string();
    let mut ours: Vec<(&str, &str)> =
        vec![("code", code), ("host", host.as_str()), ("shop", domain)];
    if let Some(state) = state {
        ours.push(("state", state));
    }
    ours.push(("timestamp", timestamp.as_str()));
    let existing: Vec<(String, String)> = redirect_uri
        .split_once('?')
        .map(|(_, query)| {
            form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let signed: Vec<(&str, &str)> = existing
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .chain(ours.iter().copied())
        .collect();
    let hmac = callback_hmac(&signed, secret);
    let mut pairs = ours;
    pairs.insert(1, ("hmac", hmac.as_str()));
    with_query(redirect_uri, &pairs)
}

/// Shopify's callback signature: the parameters sorted by name, `name=value` joined by `&`,
/// HMAC-SHA256 with the client secret, in hex.
fn callback_hmac(params: &[(&str, &str)], secret: &str) -> String {
    let mut sorted = params.to_vec();
    sorted.sort_unstable();
    let message = sorted
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The token request's parameters, from a JSON body (what Picscripterai sends) or a form.
fn token_params(headers: &HeaderMap, body: &[u8]) -> Result<Params, Response> {
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|content_type| content_type.starts_with("application/json"));
    if !json_body {
        return Ok(parse_form(body));
    }
    let object: Map<String, Value> = serde_json::from_slice(body)
        .map_err(|_| oauth_error("invalid_request", "The request body is not a JSON object."))?;
    Ok(object
        .into_iter()
        .filter_map(|(name, value)| {
            let text = match value {
                Value::Null => return None,
                Value::String(text) => text,
                other => other.to_string(),
            };
            Some((name, text))
        })
        .collect())
}

fn non_empty<'a>(params: &'a Params, name: &str) -> Result<&'a str, OAuthError> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|value| !value.trim().is_empty())
        .ok_or_else(|| OAuthError::InvalidRequest(format!("{name} is missing.")))
}

/// A non-expiring offline token is `{access_token, scope}`; an expiring one adds its lifetime
/// and its refresh token's.
fn token_json(tokens: &IssuedTokens) -> Value {
    let scope = tokens.grant.scopes.join(',');
    match (&tokens.refresh, tokens.expires_in) {
        (Some(refresh), Some(expires_in)) => json!({
            "access_token": tokens.access_token,
            "expires_in": expires_in,
            "refresh_token": refresh.token,
            "refresh_token_expires_in": refresh.expires_in,
            "scope": scope,
        }),
        _ => json!({ "access_token": tokens.access_token, "scope": scope }),
    }
}

// ---------------------------------------------------------------------------------------------
// Answers in Shopify's shapes.

/// The token endpoint's error: 400 `{"error", "error_description"}` whatever went wrong.
fn oauth_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

fn oauth_refusal(refusal: &OAuthError) -> Response {
    match refusal {
        OAuthError::InvalidRequest(message) => oauth_error("invalid_request", message),
        OAuthError::InvalidClient => {
            oauth_error("invalid_client", "Client credentials are invalid.")
        }
        OAuthError::InvalidGrant(message) => oauth_error("invalid_grant", message),
        OAuthError::UnsupportedGrantType(_) => {
            oauth_error("unsupported_grant_type", &refusal.to_string())
        }
    }
}

/// Shopify's 401 for a missing, unknown, expired or revoked token.
fn invalid_token() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({ "errors": INVALID_TOKEN })),
    )
        .into_response()
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "errors": "Not Found" })),
    )
        .into_response()
}

/// A GraphQL error: HTTP 200, no data.
fn graphql_error(message: &str, code: &str) -> Response {
    Json(json!({ "errors": [{ "message": message, "extensions": { "code": code } }] }))
        .into_response()
}

/// A scripted failure, as Shopify would answer it at `endpoint`.
fn scripted_refusal(endpoint: Endpoint, refusal: Refusal) -> Response {
    match endpoint {
        Endpoint::Authorize => authorize_refusal(refusal),
        Endpoint::Token => token_refusal(refusal),
        Endpoint::GraphQl => api_refusal(refusal),
    }
}

/// The consent page fails as a page.
fn authorize_refusal(refusal: Refusal) -> Response {
    let (status, problem) = match refusal {
        Refusal::ServerError(status) => (status, "Shopify is unavailable right now.".to_owned()),
        Refusal::RateLimited { .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests: try again in a moment.".to_owned(),
        ),
        Refusal::ExpiredToken | Refusal::RevokedToken => (
            StatusCode::UNAUTHORIZED,
            "Your Shopify session ended: log in again.".to_owned(),
        ),
        Refusal::Validation(message) => (StatusCode::BAD_REQUEST, message),
        Refusal::Duplicate => (
            StatusCode::CONFLICT,
            "The app is being installed already.".to_owned(),
        ),
    };
    let mut response = refusal_page(PLATFORM, &problem, CONSENT_STYLESHEET);
    *response.status_mut() = status;
    response
}

fn token_refusal(refusal: Refusal) -> Response {
    match refusal {
        Refusal::ServerError(_) | Refusal::RateLimited { .. } => api_refusal(refusal),
        Refusal::ExpiredToken => oauth_error("invalid_grant", "The refresh token has expired."),
        Refusal::RevokedToken => oauth_error("invalid_grant", "The refresh token was revoked."),
        Refusal::Validation(message) => oauth_error("invalid_request", &message),
        Refusal::Duplicate => oauth_error("invalid_request", CODE_NOT_FOUND),
    }
}

/// 5xx with Shopify's `{"errors": "..."}`; 429 with `Retry-After` in Shopify's `N.0` form and
/// a THROTTLED body; 401 for both token failures (Shopify does not tell them apart).
fn api_refusal(refusal: Refusal) -> Response {
    match refusal {
        Refusal::ServerError(status) => (
            status,
            Json(json!({ "errors": status.canonical_reason().unwrap_or("Internal Server Error") })),
        )
            .into_response(),
        Refusal::RateLimited { reset_in_secs } => {
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                Json(json!({
                    "errors": [{ "message": "Throttled", "extensions": { "code": "THROTTLED" } }],
                })),
            )
                .into_response();
            if let Ok(wait) = HeaderValue::from_str(&format!("{}.0", reset_in_secs.max(0))) {
                response.headers_mut().insert(header::RETRY_AFTER, wait);
            }
            response
        }
        Refusal::ExpiredToken | Refusal::RevokedToken => invalid_token(),
        Refusal::Validation(message) => {
            (StatusCode::BAD_REQUEST, Json(json!({ "errors": message }))).into_response()
        }
        Refusal::Duplicate => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "errors": "The request conflicts with the shop's current state." })),
        )
            .into_response(),
    }
}

/// The install page: which app asks, for which shop, for what. The form posts back to this very
/// URL (no `action`), wherever the fake is mounted.
fn consent_html(
    domain: &str,
    request: &AuthorizeRequest,
    hidden: &[(&'static str, String)],
) -> String {
    let app = escape_html(&request.client_id);
    let shop = escape_html(domain);
    let scopes: String = request
        .scopes
        .iter()
        .map(|scope| format!("<li><code>{}</code></li>", escape_html(scope)))
        .collect();
    let hidden: String = hidden
        .iter()
        .map(|(name, value)| {
            format!(
                r#"<input type="hidden" name="{name}" value="{}">"#,
                escape_html(value)
            )
        })
        .collect();
    let body = format!(
        r#"<h1>Sandbox Shopify — install {app} on {shop}?</h1>
<p class="hint">This is Picscripterai's local stand-in for Shopify. Nothing leaves this machine.</p>
<p id="scopes">{app} asks to:</p>
<ul aria-labelledby="scopes">{scopes}</ul>
<form method="post">
{hidden}
<button type="submit" class="primary" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Cancel</button>
</form>"#
    );
    page(
        &format!(
            "Sandbox Shopify — install {} on {domain}?",
            request.client_id
        ),
        &body,
        CONSENT_STYLESHEET,
    )
}

impl KitWorld for World {
    type Endpoint = Endpoint;

    fn oauth(&mut self) -> &mut AuthorizationServer {
        &mut self.oauth
    }

    fn script(&mut self) -> &mut Script<Endpoint> {
        &mut self.script
    }

    /// Tokens are issued to the shop's domain.
    fn account_id(&self, shop: &str) -> Option<String> {
        let domain = shop.to_ascii_lowercase();
        self.shops.contains_key(&domain).then_some(domain)
    }
}

impl FakeControls for ShopifyFake {
    type World = World;

    fn world(&self) -> MutexGuard<'_, World> {
        self.lock()
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use reqwest::StatusCode as Status;

    use super::*;
    use crate::clock::ManualClock;

    const CLIENT_ID: &str = "shopify-client";
    const SECRET: &str = "shopify-secret";
    const SHOP: &str = "test-shop.myshopify.com";
    const OTHER_SHOP: &str = "other-shop.myshopify.com";
    const REDIRECT: &str = "http://127.0.0.1:3000/stores/shopify/callback";
    const VERSION: &str = "2026-07";
    const PRODUCTS: &str = "query Products($first: Int!, $after: String, $query: String) { \
        shop { currencyCode } \
        products(first: $first, after: $after, query: $query, sortKey: ID) { \
          nodes { id title status updatedAt onlineStoreUrl tags \
            media(first: 5) { nodes { ... on MediaImage { image { url altText } } } } \
            variants(first: 25) { nodes { id sku price inventoryQuantity } } } \
          pageInfo { hasNextPage endCursor } } }";
    /// 2 + 30 × (1 + 5 + 25).
    const PAGE_OF_30_COST: u64 = 932;

    /// The fake served on a loopback port, with a client that does not follow redirects.
    struct Served {
        fake: ShopifyFake,
        base: String,
        http: reqwest::Client,
        server: tokio::task::JoinHandle<()>,
    }

    impl Drop for Served {
        fn drop(&mut self) {
            self.server.abort();
        }
    }

    impl Served {
        async fn start(fake: ShopifyFake) -> Self {
            let (address, server) = crate::sandbox::serve(fake.router())
                .await
                .expect("a loopback port");
            let http = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a client");
            Self {
                fake,
                base: format!("http://{address}"),
                http,
                server,
            }
        }

        fn authorize_url(&self, shop: &str, scope: &str) -> String {
            with_query(
                &format!("{}/{shop}{AUTHORIZE_PATH}", self.base),
                &[
                    ("client_id", CLIENT_ID),
                    ("scope", scope),
                    ("redirect_uri", REDIRECT),
                    ("state", "st4te"),
                ],
            )
        }

        /// Consent at `shop`: the callback's parameters.
        fn consent(&self, shop: &str) -> Vec<(String, String)> {
            let location = self
                .fake
                .authorize_directly(&self.authorize_url(shop, REQUIRED_SCOPE), shop)
                .expect("the consent is granted");
            assert!(location.starts_with(REDIRECT), "{location}");
            query_pairs(&location)
        }

        async fn token(&self, shop: &str, body: Value) -> (Status, Value) {
            let response = self
                .http
                .post(format!("{}/{shop}/admin/oauth/access_token", self.base))
                .json(&body)
                .send()
                .await
                .expect("the fake answers");
            let status = response.status();
            (status, response.json().await.unwrap_or(Value::Null))
        }

        /// Consent plus code exchange: the token answer.
        async fn connect(&self, shop: &str, expiring: bool) -> Value {
            let code = param(&self.consent(shop), "code");
            let mut body = json!({ "client_id": CLIENT_ID, "client_secret": SECRET, "code": code });
            if expiring {
                body["expiring"] = json!(1);
            }
            let (status, tokens) = self.token(shop, body).await;
            assert_eq!(status, Status::OK, "{tokens}");
            tokens
        }

        async fn access_token(&self, shop: &str) -> String {
            self.connect(shop, false).await["access_token"]
                .as_str()
                .expect("an access token")
                .to_owned()
        }

        async fn graphql(
            &self,
            shop: &str,
            token: Option<&str>,
            query: &str,
            variables: Value,
        ) -> (Status, reqwest::header::HeaderMap, Value) {
            let mut request = self
                .http
                .post(format!(
                    "{}/{shop}/admin/api/{VERSION}/graphql.json",
                    self.base
                ))
                .json(&json!({ "query": query, "variables": variables }));
            if let Some(token) = token {
                request = request.header(ACCESS_TOKEN_HEADER, token);
            }
            let response = request.send().await.expect("the fake answers");
            let status = response.status();
            let headers = response.headers().clone();
            (
                status,
                headers,
                response.json().await.unwrap_or(Value::Null),
            )
        }

        async fn page(
            &self,
            token: &str,
            first: u64,
            after: Option<&str>,
            search: Option<&str>,
        ) -> Value {
            let variables = json!({ "first": first, "after": after, "query": search });
            let (status, _, body) = self.graphql(SHOP, Some(token), PRODUCTS, variables).await;
            assert_eq!(status, Status::OK, "{body}");
            body
        }
    }

    fn query_pairs(location: &str) -> Vec<(String, String)> {
        let (_, query) = location.split_once('?').expect("the redirect has a query");
        form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect()
    }

    fn param(pairs: &[(String, String)], name: &str) -> String {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .unwrap_or_else(|| panic!("no {name} in {pairs:?}"))
    }

    fn ids_of(page: &Value) -> Vec<String> {
        page["data"]["products"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|node| node["id"].as_str().expect("an id").to_owned())
            .collect()
    }

    fn fake_at(start: DateTime<Utc>) -> (ShopifyFake, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::starting_at(start));
        (
            ShopifyFake::with_clock(CLIENT_ID, SECRET, clock.clone()),
            clock,
        )
    }

    #[test]
    fn the_callback_signature_is_shopifys() {
        // The example of Shopify's documentation, secret "hush".
        let params = [
            ("code", "0907a61c0c8d55e99db179b68161bc00"),
            ("timestamp", "1337178173"),
            ("shop", "some-shop.myshopify.com"),
            ("state", "0.6784241404160823"),
        ];
        assert_eq!(
            callback_hmac(&params, "hush"),
            "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf"
        );
        assert_eq!(
            shop_domain("My-Shop.myshopify.com").as_deref(),
            Some("my-shop.myshopify.com")
        );
        assert!(shop_domain("-shop.myshopify.com").is_none());
        assert!(shop_domain("shop.example.com").is_none());
        assert!(shop_domain(".myshopify.com").is_none());
        assert_eq!(shop_name(SHOP), "Test Shop");
        assert_eq!(decimal(1999, 2), "19.99");
        assert_eq!(decimal(700, 2), "7.00");
        assert_eq!(decimal(1500, 0), "1500");
    }

    #[tokio::test]
    async fn a_consent_comes_back_signed_with_a_code_that_redeems_once() {
        let served = Served::start(ShopifyFake::new(CLIENT_ID, SECRET)).await;
        served.fake.set_catalogue_size(5);
        let callback = served.consent(SHOP);
        let names: Vec<&str> = callback.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            ["code", "hmac", "host", "shop", "state", "timestamp"]
        );
        assert_eq!(param(&callback, "shop"), SHOP);
        assert_eq!(param(&callback, "state"), "st4te");
        let host = STANDARD.decode(param(&callback, "host")).unwrap();
        assert_eq!(host, format!("{SHOP}/admin").as_bytes());
        let signed: Vec<(&str, &str)> = callback
            .iter()
            .filter(|(name, _)| name != "hmac")
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        assert_eq!(callback_hmac(&signed, SECRET), param(&callback, "hmac"));
        assert_eq!(
            served
                .fake
                .with_catalogue(SHOP, |catalogue| catalogue.len()),
            Some(5)
        );

        let code = param(&callback, "code");
        let body = json!({ "client_id": CLIENT_ID, "client_secret": SECRET, "code": code });
        let (status, tokens) = served.token(SHOP, body.clone()).await;
        assert_eq!(status, Status::OK, "{tokens}");
        assert!(
            tokens["access_token"]
                .as_str()
                .unwrap()
                .starts_with("shpat_")
        );
        assert_eq!(tokens["scope"], REQUIRED_SCOPE);
        assert!(tokens.get("expires_in").is_none() && tokens.get("refresh_token").is_none());

        let (status, again) = served.token(SHOP, body).await;
        assert_eq!(status, Status::BAD_REQUEST);
        assert_eq!(again["error"], "invalid_request");
        assert_eq!(again["error_description"], CODE_NOT_FOUND);
        assert_eq!(served.fake.code_exchange_count(), 2);
    }

    #[tokio::test]
    async fn a_code_redeems_only_at_its_own_shop_with_the_apps_secret() {
        let served = Served::start(ShopifyFake::new(CLIENT_ID, SECRET)).await;
        served.fake.set_catalogue_size(1);
        let code = param(&served.consent(SHOP), "code");
        let (status, refused) = served
            .token(
                OTHER_SHOP,
                json!({ "client_id": CLIENT_ID, "client_secret": SECRET, "code": code }),
            )
            .await;
        assert_eq!(
            (status, refused["error"].as_str()),
            (Status::BAD_REQUEST, Some("invalid_request"))
        );
        let (status, refused) = served
            .token(
                SHOP,
                json!({ "client_id": CLIENT_ID, "client_secret": "wrong", "code": code }),
            )
            .await;
        assert_eq!(
            (status, refused["error"].as_str()),
            (Status::BAD_REQUEST, Some("invalid_client"))
        );
        let (status, _) = served
            .token(
                SHOP,
                json!({ "client_id": CLIENT_ID, "client_secret": SECRET, "code": code }),
            )
            .await;
        assert_eq!(status, Status::OK, "the refusals did not spend the code");
    }

    #[tokio::test]
    async fn an_expiring_token_comes_with_a_refresh_token_that_rotates() {
        let served = Served::start(ShopifyFake::new(CLIENT_ID, SECRET)).await;
        served.fake.set_catalogue_size(1);
        let tokens = served.connect(SHOP, true).await;
        assert_eq!(tokens["expires_in"], 3600);
        assert_eq!(
            tokens["refresh_token_expires_in"],
            REFRESH_TOKEN_LIFETIME_SECS
        );
        let first_refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

        // A form body works as well as JSON.
        let refresh = |token: String| {
            served
                .http
                .post(format!("{}/{SHOP}/admin/oauth/access_token", served.base))
                .form(&[
                    ("client_id", CLIENT_ID),
                    ("client_secret", SECRET),
                    ("grant_type", "refresh_token"),
                    ("refresh_token", token.as_str()),
                ])
                .send()
        };
        let renewed: Value = refresh(first_refresh.clone())
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let second_refresh = renewed["refresh_token"]
            .as_str()
            .expect("a new refresh token")
            .to_owned();
        assert_ne!(second_refresh, first_refresh);
        assert_ne!(renewed["access_token"], tokens["access_token"]);
        assert_eq!(renewed["expires_in"], 3600);

        let spent = refresh(first_refresh).await.unwrap();
        assert_eq!(spent.status(), Status::BAD_REQUEST);
        assert_eq!(
            spent.json::<Value>().await.unwrap()["error"],
            "invalid_grant"
        );
        let at_other_shop = served
            .token(
                OTHER_SHOP,
                json!({ "client_id": CLIENT_ID, "client_secret": SECRET, "grant_type": "refresh_token", "refresh_token": second_refresh }),
            )
            .await;
        assert_eq!(at_other_shop.0, Status::BAD_REQUEST);
        assert_eq!(refresh(second_refresh).await.unwrap().status(), Status::OK);
        assert_eq!(served.fake.refresh_count(), 4);
    }

    #[tokio::test]
    async fn the_authorize_request_is_checked_before_consent() {
        let served = Served::start(ShopifyFake::new(CLIENT_ID, SECRET)).await;
        let fake = &served.fake;
        let bad_shop = served.authorize_url("shop.example.com", REQUIRED_SCOPE);
        assert!(
            fake.authorize_directly(&bad_shop, "shop.example.com")
                .is_err()
        );
        let no_products = served.authorize_url(SHOP, "read_orders");
        assert!(
            fake.authorize_directly(&no_products, SHOP)
                .unwrap_err()
                .contains(REQUIRED_SCOPE)
        );
        let unknown_scope = served.authorize_url(SHOP, "read_products,read_everything");
        assert!(fake.authorize_directly(&unknown_scope, SHOP).is_err());
        let good = served.authorize_url(SHOP, REQUIRED_SCOPE);
        assert!(
            fake.authorize_directly(&good, OTHER_SHOP)
                .unwrap_err()
                .contains(SHOP)
        );
        let wrong_client = good.replace(CLIENT_ID, "someone-else");
        assert!(fake.authorize_directly(&wrong_client, SHOP).is_err());

        fake.fail_next(Endpoint::Authorize, [Failure::ServerError(503)]);
        assert!(fake.authorize_directly(&good, SHOP).is_err());
        fake.set_catalogue_size(1);
        assert!(fake.authorize_directly(&good, SHOP).is_ok());

        let page = served.http.get(&good).send().await.unwrap();
        assert_eq!(page.status(), Status::OK);
        let html = page.text().await.unwrap();
        assert!(
            html.contains("install shopify-client on test-shop.myshopify.com?"),
            "{html}"
        );
        assert!(html.contains("<code>read_products</code>"));
        let refused = served.http.get(&bad_shop).send().await.unwrap();
        assert_eq!(refused.status(), Status::BAD_REQUEST);
    }

    #[tokio::test]
    async fn pages_reach_every_product_once_in_id_order() {
        let served = Served::start(ShopifyFake::new(CLIENT_ID, SECRET)).await;
        served.fake.set_catalogue_size(120);
        let token = served.access_token(SHOP).await;
        let mut seen: Vec<String> = Vec::new();
        let mut after: Option<String> = None;
        let mut pages = 0;
        loop {
            let page = served.page(&token, 30, after.as_deref(), None).await;
            pages += 1;
            seen.extend(ids_of(&page));
            let info = &page["data"]["products"]["pageInfo"];
            if !info["hasNextPage"].as_bool().unwrap() {
                break;
            }
            after = Some(info["endCursor"].as_str().unwrap().to_owned());
        }
        assert_eq!(pages, 4);
        let expected: Vec<String> = served
            .fake
            .with_catalogue(SHOP, |catalogue| {
                catalogue
                    .products()
                    .iter()
                    .map(|product| format!("gid://shopify/Product/{}", product.id))
                    .collect()
            })
            .unwrap();
        assert_eq!(seen, expected, "every product once, in id order");

        let page = served.page(&token, 2, None, None).await;
        assert_eq!(page["data"]["shop"]["currencyCode"], "USD");
        let product = &page["data"]["products"]["nodes"][0];
        assert_eq!(product["status"], "ACTIVE");
        let handle = served
            .fake
            .with_catalogue(SHOP, |c| c.products()[0].handle.clone())
            .unwrap();
        assert_eq!(
            product["onlineStoreUrl"],
            format!("https://{SHOP}/products/{handle}")
        );
        let image_url = product["media"]["nodes"][0]["image"]["url"]
            .as_str()
            .unwrap();
        assert!(image_url.starts_with(&served.base), "{image_url}");
        let image = served.http.get(image_url).send().await.unwrap();
        assert_eq!(image.status(), Status::OK);
        assert_eq!(image.headers()[header::CONTENT_TYPE], "image/png");
        assert!(image.bytes().await.unwrap().starts_with(b"\x89PNG"));
        let missing = served
            .http
            .get(format!("{}/images/1/0.png", served.base))
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), Status::NOT_FOUND);
        assert_eq!(
            product["variants"]["nodes"][0]["price"]
                .as_str()
                .map(|price| price.contains('.')),
            Some(true)
        );
    }

    #[tokio::test]
    async fn bad_arguments_are_graphql_errors() {
        let served = Served::start(ShopifyFake::new(CLIENT_ID, SECRET)).await;
        served.fake.set_catalogue_size(3);
        let token = served.access_token(SHOP).await;
        let error_of = |body: &Value| {
            body["errors"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        };
        for variables in [
            json!({ "first": 0 }),
            json!({ "first": 251 }),
            json!({ "first": 10, "after": "bm90IGEgY3Vyc29y" }),
            json!({ "first": 10, "query": "title:mug" }),
            json!({ "first": 10, "query": "updated_at:>'yesterday'" }),
        ] {
            let (status, _, body) = served
                .graphql(SHOP, Some(&token), PRODUCTS, variables.clone())
                .await;
            assert_eq!(status, Status::OK);
            assert!(body.get("data").is_none(), "{variables}: {body}");
            assert!(!error_of(&body).is_empty(), "{variables}: {body}");
        }
        let costly = PRODUCTS.replace("media(first: 5)", "media(first: 50)");
        let (_, _, body) = served
            .graphql(SHOP, Some(&token), &costly, json!({ "first": 30 }))
            .await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "MAX_COST_EXCEEDED");
        assert!(error_of(&body).starts_with("Query cost is 2282,"), "{body}");
        let (status, _, _) = served
            .graphql(
                SHOP,
                Some(&token),
                "{ orders(first: 1) { nodes { id } } }",
                json!({}),
            )
            .await;
        assert_eq!(status, Status::OK);
    }

    #[tokio::test]
    async fn the_incremental_filter_returns_only_what_changed() {
        let start = Utc::now();
        let (fake, clock) = fake_at(start);
        fake.set_catalogue_size(50);
        let served = Served::start(fake).await;
        let token = served.access_token(SHOP).await;
        clock.advance(Duration::minutes(5));
        let changed_at = served.fake.now();
        let (sold_out, repriced) = served
            .fake
            .with_catalogue(SHOP, |catalogue| {
                let sold_out = catalogue.id_at(3).unwrap();
                let repriced = catalogue.id_at(7).unwrap();
                catalogue.sell_out(sold_out, changed_at);
                catalogue.set_price(repriced, 999, changed_at);
                (sold_out, repriced)
            })
            .unwrap();
        let since = format!("updated_at:>'{}'", timestamp(start));
        let page = served.page(&token, 30, None, Some(since.as_str())).await;
        assert_eq!(
            ids_of(&page),
            [
                format!("gid://shopify/Product/{sold_out}"),
                format!("gid://shopify/Product/{repriced}")
            ]
        );
        let nodes = &page["data"]["products"]["nodes"];
        assert_eq!(nodes[0]["variants"]["nodes"][0]["inventoryQuantity"], 0);
        assert_eq!(nodes[1]["variants"]["nodes"][0]["price"], "9.99");
        assert_eq!(nodes[0]["updatedAt"], timestamp(changed_at));
        let later = format!(
            "updated_at:>'{}'",
            timestamp(changed_at + Duration::seconds(1))
        );
        assert!(ids_of(&served.page(&token, 30, None, Some(later.as_str())).await).is_empty());
    }

    #[tokio::test]
    async fn queries_spend_the_shops_bucket_and_are_throttled_when_it_runs_low() {
        let (fake, clock) = fake_at(Utc::now());
        fake.set_catalogue_size(100);
        fake.set_bucket(1_000.0, 100.0);
        let served = Served::start(fake).await;
        let token = served.access_token(SHOP).await;

        let first = served.page(&token, 30, None, None).await;
        let cost = &first["extensions"]["cost"];
        assert_eq!(cost["requestedQueryCost"], PAGE_OF_30_COST);
        let actual = cost["actualQueryCost"].as_u64().unwrap();
        assert!(actual > 30 && actual < PAGE_OF_30_COST, "{cost}");
        assert_eq!(cost["throttleStatus"]["currentlyAvailable"], 1_000 - actual);

        let throttled = served.page(&token, 30, None, None).await;
        assert!(throttled.get("data").is_none(), "{throttled}");
        assert_eq!(throttled["errors"][0]["extensions"]["code"], "THROTTLED");
        let status = &throttled["extensions"]["cost"]["throttleStatus"];
        assert_eq!(status["maximumAvailable"], 1_000.0);
        assert_eq!(status["restoreRate"], 100.0);
        assert_eq!(status["currentlyAvailable"], 1_000 - actual);
        assert!(throttled["extensions"]["cost"]["actualQueryCost"].is_null());

        clock.advance(Duration::seconds(10));
        let after_the_wait = served.page(&token, 30, None, None).await;
        assert!(after_the_wait.get("errors").is_none(), "{after_the_wait}");
        assert_eq!(
            served.fake.bucket_available(SHOP),
            Some(1_000.0 - actual as f64)
        );
    }

    #[tokio::test]
    async fn a_token_is_needed_live_and_for_this_very_shop() {
        let served = Served::start(ShopifyFake::new(CLIENT_ID, SECRET)).await;
        served.fake.set_catalogue_size(2);
        let token = served.access_token(SHOP).await;
        let other = served.access_token(OTHER_SHOP).await;
        let shop_query = "{ shop { name myshopifyDomain primaryDomain { url } currencyCode } }";

        let (status, headers, body) = served.graphql(SHOP, None, shop_query, json!({})).await;
        assert_eq!(status, Status::UNAUTHORIZED);
        assert_eq!(body["errors"], INVALID_TOKEN);
        assert_eq!(headers[API_VERSION_HEADER], VERSION);
        let (status, _, _) = served
            .graphql(SHOP, Some(&other), shop_query, json!({}))
            .await;
        assert_eq!(status, Status::UNAUTHORIZED);

        let (status, headers, body) = served
            .graphql(SHOP, Some(&token), shop_query, json!({}))
            .await;
        assert_eq!(status, Status::OK);
        assert_eq!(headers[API_VERSION_HEADER], VERSION);
        assert_eq!(body["data"]["shop"]["name"], "Test Shop");
        assert_eq!(body["data"]["shop"]["myshopifyDomain"], SHOP);
        assert_eq!(
            body["data"]["shop"]["primaryDomain"]["url"],
            format!("https://{SHOP}")
        );

        served.fake.set_access_token_lifetime(0);
        let expired = served.connect(SHOP, true).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let (status, _, _) = served
            .graphql(SHOP, Some(&expired), shop_query, json!({}))
            .await;
        assert_eq!(status, Status::UNAUTHORIZED);

        served.fake.revoke_all_tokens_of(SHOP);
        let (status, _, _) = served
            .graphql(SHOP, Some(&token), shop_query, json!({}))
            .await;
        assert_eq!(status, Status::UNAUTHORIZED);
        let (status, _, _) = served
            .graphql(OTHER_SHOP, Some(&other), shop_query, json!({}))
            .await;
        assert_eq!(status, Status::OK, "another shop's tokens live on");
    }

    #[tokio::test]
    async fn one_product_is_read_by_its_gid() {
        let served = Served::start(ShopifyFake::new(CLIENT_ID, SECRET)).await;
        served.fake.set_catalogue_size(3);
        let token = served.access_token(SHOP).await;
        let query = "query Product($id: ID!) { shop { currencyCode } product(id: $id) { id title \
            media(first: 5) { nodes { ... on MediaImage { image { url } } } } \
            variants(first: 25) { nodes { id price } } } }";
        let id = served
            .fake
            .with_catalogue(SHOP, |c| c.id_at(1).unwrap())
            .unwrap();
        let gid = format!("gid://shopify/Product/{id}");
        let (_, _, body) = served
            .graphql(SHOP, Some(&token), query, json!({ "id": gid }))
            .await;
        assert_eq!(body["data"]["product"]["id"], gid.as_str());
        assert_eq!(body["data"]["shop"]["currencyCode"], "USD");
        assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 2 + 31);

        served.fake.with_catalogue(SHOP, |c| c.remove(id)).unwrap();
        let (_, _, body) = served
            .graphql(SHOP, Some(&token), query, json!({ "id": gid }))
            .await;
        assert!(body["data"]["product"].is_null(), "{body}");
        let (_, _, body) = served
            .graphql(SHOP, Some(&token), query, json!({ "id": "17" }))
            .await;
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("Invalid global id")
        );
    }

    #[tokio::test]
    async fn scripted_failures_answer_in_shopifys_shapes() {
        let served = Served::start(ShopifyFake::new(CLIENT_ID, SECRET)).await;
        served.fake.set_catalogue_size(2);
        let token = served.access_token(SHOP).await;
        served.fake.fail_next(
            Endpoint::GraphQl,
            [
                Failure::RateLimited { reset_in_secs: 7 },
                Failure::ServerError(503),
                Failure::ExpiredToken,
            ],
        );
        let variables = json!({ "first": 1 });
        let (status, headers, body) = served
            .graphql(SHOP, Some(&token), PRODUCTS, variables.clone())
            .await;
        assert_eq!(status, Status::TOO_MANY_REQUESTS);
        assert_eq!(headers[header::RETRY_AFTER], "7.0");
        assert_eq!(headers[API_VERSION_HEADER], VERSION);
        assert_eq!(body["errors"][0]["extensions"]["code"], "THROTTLED");
        let (status, _, _) = served
            .graphql(SHOP, Some(&token), PRODUCTS, variables.clone())
            .await;
        assert_eq!(status, Status::SERVICE_UNAVAILABLE);
        let (status, _, body) = served
            .graphql(SHOP, Some(&token), PRODUCTS, variables.clone())
            .await;
        assert_eq!(
            (status, &body["errors"]),
            (Status::UNAUTHORIZED, &json!(INVALID_TOKEN))
        );
        let (status, _, _) = served
            .graphql(SHOP, Some(&token), PRODUCTS, variables)
            .await;
        assert_eq!(status, Status::OK);
        assert_eq!(served.fake.request_count(Endpoint::GraphQl), 4);

        served
            .fake
            .fail_next(Endpoint::Token, [Failure::ServerError(502)]);
        let code = param(&served.consent(SHOP), "code");
        let (status, _) = served
            .token(
                SHOP,
                json!({ "client_id": CLIENT_ID, "client_secret": SECRET, "code": code }),
            )
            .await;
        assert_eq!(status, Status::BAD_GATEWAY);
    }

    #[tokio::test]
    async fn the_control_page_arms_failures_and_changes_shops() {
        let served = Served::start(ShopifyFake::new(CLIENT_ID, SECRET)).await;
        served.fake.set_catalogue_size(3);
        let token = served.access_token(SHOP).await;
        let arm = |choice: &'static str| {
            served
                .http
                .post(format!("{}/_control", served.base))
                .form(&[("failure", choice)])
                .send()
        };
        assert_eq!(
            arm("sell_out_first").await.unwrap().status(),
            Status::SEE_OTHER
        );
        let first_stock = served
            .fake
            .with_catalogue(SHOP, |c| c.products()[0].total_quantity());
        assert_eq!(first_stock, Some(0));

        assert_eq!(
            arm("server_error").await.unwrap().status(),
            Status::SEE_OTHER
        );
        let html = served
            .http
            .get(format!("{}/_control", served.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("1 failure(s) armed."), "{html}");
        assert!(
            html.contains("test-shop.myshopify.com: 3 products"),
            "{html}"
        );
        let (status, _, _) = served
            .graphql(SHOP, Some(&token), PRODUCTS, json!({ "first": 1 }))
            .await;
        assert_eq!(status, Status::SERVICE_UNAVAILABLE);

        assert_eq!(
            arm("drain_bucket").await.unwrap().status(),
            Status::SEE_OTHER
        );
        let (_, _, body) = served
            .graphql(SHOP, Some(&token), PRODUCTS, json!({ "first": 1 }))
            .await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "THROTTLED");

        assert_eq!(arm("uninstall").await.unwrap().status(), Status::SEE_OTHER);
        let (status, _, _) = served
            .graphql(SHOP, Some(&token), PRODUCTS, json!({ "first": 1 }))
            .await;
        assert_eq!(status, Status::UNAUTHORIZED);
        assert_eq!(arm("nonsense").await.unwrap().status(), Status::BAD_REQUEST);
    }
}
