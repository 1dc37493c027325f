//! A local fake of Squarespace's OAuth and Commerce API 1.0, product read (`shared/platforms.md`,
//! section 10): the consent screen, the token endpoint, the site behind a token, the product list
//! with its cursor and its `modifiedAfter`/`modifiedBefore` filter, products by id, and the
//! products' images.
//!
//! It owns one in-memory world (the OAuth server of [`kit::oauth`](super::kit::oauth), and one
//! [`Catalogue`] per site, made when the site's owner first consents) behind
//! [`SquarespaceFake`], a cheap handle tests keep to change a catalogue between syncs
//! ([`SquarespaceFake::with_catalogue`]), to script failures ([`SquarespaceFake::fail_next`]) and
//! to turn the limits. One router serves both of Squarespace's hosts (login and API): tests point
//! `SQUARESPACE_AUTH_URL` and `SQUARESPACE_API_URL` at the same address. The absolute URLs it
//! hands out (`nextPageUrl`, image URLs) come from [`SquarespaceFake::set_base_url`], else from
//! the request, so they point back at the fake however it is reached.
//!
//! Where Squarespace is strict, so is the fake: every API and token request needs a descriptive
//! `User-Agent` (none, or a library's default, is refused), the token endpoint takes JSON only
//! and the client only as HTTP Basic, codes are single use, a refresh token is spent by its use
//! and only `access_type=offline` earns one, scopes are comma-separated, `cursor` cannot be
//! combined with the filters, the filters come in pairs, and each site may make
//! [`DEFAULT_REQUESTS_PER_MINUTE`] requests a minute (a sliding minute on the fake's clock), past
//! which it meets a 429 and a minute's cooldown. Squarespace documents no rate headers, so none
//! are sent. Facts platforms.md does not give (the error `type` values, the code lifetime, the
//! extra website fields, the list of default User-Agents) are this fake's choices and say so
//! where declared.
//!
//! It trusts whoever reaches it and never logs a token or a code.

#![allow(clippy::result_large_err)] // a fake's errors are whole HTTP answers, made once per refused request

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::kit::catalogue::{Catalogue, FakeProduct, FakeProductState, image_png};
use super::kit::consent::{Consent, Decision, UsernameRule, consent_page, direct_consent};
use super::kit::control::{
    Control, ControlChoice, Recent, back_to_control, chosen_failure, control_page,
};
use super::kit::ids::random_hex;
use super::kit::oauth::{
    Access, AuthorizationServer, AuthorizeRequest, BearerError, IssuedTokens, OAuthConfig,
    OAuthError, Pkce, RefreshPolicy, Rotation,
};
use super::kit::pages::{found, refusal_page, stylesheet};
use super::kit::request::{
    Params, basic_credentials, bearer_token, own_base_url, parse_form, parse_query,
};
use super::kit::script::{Failure, Refusal, Script, answer};
use super::kit::{FakeControls, KitWorld};
use crate::clock::{SharedClock, SystemClock};

const STORE: &str = "Squarespace";
/// On `login.squarespace.com`.
const AUTHORIZE_PATH: &str = "/api/1/login/oauth/provider/authorize";
const TOKEN_PATH: &str = "/api/1/login/oauth/provider/tokens";
/// On `api.squarespace.com`.
const WEBSITE_PATH: &str = "/1.0/authorization/website";
const PRODUCTS_PATH: &str = "/1.0/commerce/products";

/// platforms.md gives these from memory of the OAuth guide: about 30 minutes and 7 days.
const ACCESS_TOKEN_LIFETIME_SECS: i64 = 30 * 60;
const REFRESH_TOKEN_LIFETIME_SECS: i64 = 7 * 86_400;
/// Squarespace does not document it: ten minutes, RFC 6749's recommended maximum.
const CODE_LIFETIME_SECS: i64 = 600;

/// Products per page of the list (Squarespace's fixed page size).
const PAGE_SIZE: usize = 50;
/// How many ids one `GET /1.0/commerce/products/{ids}` may name.
const MAX_IDS_PER_READ: usize = 50;
pub const DEFAULT_CATALOGUE_SIZE: usize = 10_000;
/// platforms.md: about 300 requests a minute per site (an older page says 120).
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 300;
const RATE_WINDOW_SECS: i64 = 60;
/// After the limit is passed, every request of the site is refused for this long.
const COOLDOWN_SECS: i64 = 60;
const CATALOGUE_CURRENCY: &str = "USD";
/// Every catalogue product is a physical one.
const PRODUCT_TYPE: &str = "PHYSICAL";
const PRODUCT_TYPES: &[&str] = &["PHYSICAL", "DIGITAL", "SERVICE", "GIFT_CARD"];
/// The catalogue's PNGs are this many pixels square.
const IMAGE_SIZE_PX: u32 = 64;

/// The scopes Squarespace's OAuth knows (from its OAuth guide, as remembered); anything else is
/// refused at the consent screen.
const KNOWN_SCOPES: &[&str] = &[
    "website.orders",
    "website.orders.read",
    "website.transactions.read",
    "website.inventory",
    "website.inventory.read",
    "website.products",
    "website.products.read",
];
/// Either lets a token read products: the read-write scope includes reading.
const PRODUCT_SCOPES: &[&str] = &["website.products.read", "website.products"];

/// User-Agents that name a library rather than an app: Squarespace refuses requests without a
/// descriptive one. Which defaults it recognises is not documented; these are the common ones,
/// compared case-insensitively as prefixes.
const GENERIC_USER_AGENTS: &[&str] = &[
    "curl/",
    "wget/",
    "python-requests/",
    "python-urllib/",
    "python-httpx/",
    "aiohttp/",
    "reqwest/",
    "go-http-client/",
    "okhttp/",
    "axios/",
    "node-fetch/",
    "undici",
    "java/",
    "apache-httpclient/",
    "libwww-perl/",
    "postmanruntime/",
];

/// The error envelope's `type` values. platforms.md marks the envelope's fields as remembered,
/// not confirmed; the values are this fake's, in Squarespace's style.
const INVALID_REQUEST: &str = "INVALID_REQUEST_ERROR";
const AUTHORIZATION: &str = "AUTHORIZATION_ERROR";
const NOT_FOUND: &str = "NOT_FOUND";
const CONFLICT: &str = "CONFLICT";
const RATE_LIMITED: &str = "TOO_MANY_REQUESTS";
const INTERNAL: &str = "INTERNAL_ERROR";

/// Site identifiers: lowercase letters, digits and hyphens (typed in any case, kept lowercase).
const USERNAMES: UsernameRule = UsernameRule {
    max_len: 30,
    extra_chars: "-",
    default: "sandbox-shop",
};

/// Stylesheet hrefs relative to each page: the authorize page is five directories deep.
const CONSENT_STYLESHEET: &str = "../../../../../sandbox.css";
const CONTROL_STYLESHEET: &str = "sandbox.css";

/// What kind of thing an id names: its first byte, so ids of different kinds never collide.
const WEBSITE_KIND: u8 = 0x5a;
const PRODUCT_KIND: u8 = 0x5b;
const VARIANT_KIND: u8 = 0x5c;
const IMAGE_KIND: u8 = 0x5d;
const STORE_PAGE_KIND: u8 = 0x5e;

/// The fake's API endpoints, for scripting failures and counting requests. The consent screen,
/// the images and the control page are not among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST /api/1/login/oauth/provider/tokens`, both grant types.
    Token,
    /// `GET /1.0/authorization/website`.
    Website,
    /// `GET /1.0/commerce/products`.
    Products,
    /// `GET /1.0/commerce/products/{ids}`.
    Product,
}

/// A handle on one fake Squarespace that knows one confidential app. Clones share the same
/// world.
#[derive(Clone)]
pub struct SquarespaceFake {
    world: Arc<Mutex<World>>,
    clock: SharedClock,
}

impl fmt::Debug for SquarespaceFake {
    // The world holds tokens; printing them would gain a failing test nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SquarespaceFake").finish_non_exhaustive()
    }
}

impl SquarespaceFake {
    /// A fake Squarespace whose one registered app has these credentials, telling the real time.
    pub fn new(client_id: &str, client_secret: &str) -> Self {
        Self::with_clock(client_id, client_secret, Arc::new(SystemClock))
    }

    /// As [`SquarespaceFake::new`], telling time by `clock`: a `ManualClock` lets a test expire
    /// tokens, end a cooldown or date a product change without waiting. (`Slow` failures and
    /// latency still sleep in real time.)
    pub fn with_clock(client_id: &str, client_secret: &str, clock: SharedClock) -> Self {
        Self {
            world: Arc::new(Mutex::new(World::new(client_id, client_secret))),
            clock,
        }
    }

    /// All the fake's routes, relative to wherever the router is served or nested: the login
    /// host's and the API host's alike.
    pub fn router(&self) -> Router {
        Router::new()
            .route(AUTHORIZE_PATH, get(show_consent).post(record_decision))
            .route(TOKEN_PATH, post(exchange_token))
            .route(WEBSITE_PATH, get(website))
            .route(PRODUCTS_PATH, get(list_products))
            .route("/1.0/commerce/products/{ids}", get(read_products))
            .route("/images/{product_id}/{file}", get(product_image))
            .route("/sandbox.css", get(stylesheet))
            .route("/_control", get(show_control).post(arm_control))
            .with_state(self.clone())
    }

    /// The absolute URL the fake is reached at (e.g. `http://127.0.0.1:4321`, or
    /// `https://app.example/sandbox/squarespace`), for `nextPageUrl` and image URLs. Without it,
    /// they are built from each request's Host and path.
    pub fn set_base_url(&self, base_url: &str) {
        self.lock().base_url = Some(base_url.trim_end_matches('/').to_owned());
    }

    /// How long access tokens issued from now on live (default 30 minutes; 0 or less issues
    /// tokens that are already expired).
    pub fn set_access_token_lifetime(&self, secs: i64) {
        self.lock()
            .oauth
            .set_access_token_lifetime(Some(TimeDelta::seconds(secs)));
    }

    /// How many products the catalogue of a site gets when its owner first consents (default
    /// [`DEFAULT_CATALOGUE_SIZE`]); sites that exist keep theirs.
    pub fn set_catalogue_size(&self, size: usize) {
        self.lock().catalogue_size = size;
    }

    /// How many API requests each site may make in any minute (default
    /// [`DEFAULT_REQUESTS_PER_MINUTE`]); the next one meets a 429 and a minute's cooldown.
    pub fn set_requests_per_minute(&self, limit: u32) {
        self.lock().requests_per_minute = limit;
    }

    /// Queues `failures` for `endpoint`: each later request to it takes the next one, in order.
    /// A scripted `RateLimited` is one 429 (its reset is not sent: Squarespace sends no rate
    /// headers); a real cooldown comes from [`SquarespaceFake::set_requests_per_minute`].
    pub fn fail_next(&self, endpoint: Endpoint, failures: impl IntoIterator<Item = Failure>) {
        // Collected first, so a caller's iterator never runs while the world is locked.
        let failures: Vec<Failure> = failures.into_iter().collect();
        self.lock().script.fail_next(endpoint, failures);
    }

    /// For tests without a browser: checks `authorize_url` (the URL our app sends the owner to)
    /// exactly as the consent screen does, lets the site `username` allow it, and returns the
    /// redirect the browser would have followed (`redirect_uri?code=..&state=..`). The error is
    /// the sentence the consent screen would have shown.
    pub fn authorize_directly(
        &self,
        authorize_url: &str,
        username: &str,
    ) -> Result<String, String> {
        let params = direct_consent(authorize_url, AUTHORIZE_PATH, username)?;
        let now = self.now();
        self.lock().decide(&params, now)
    }

    /// The website id of the site `username` (what `GET /1.0/authorization/website` answers as
    /// `id`), once its owner has consented.
    pub fn website_id(&self, username: &str) -> Option<String> {
        self.lock()
            .site_named(username)
            .map(|site| site.website_id.clone())
    }

    /// The id the API shows for the catalogue product `catalogue_id` of the site `username`.
    pub fn product_id(&self, username: &str, catalogue_id: u64) -> Option<String> {
        self.lock()
            .site_named(username)
            .map(|site| site.object_id(PRODUCT_KIND, catalogue_id))
    }

    /// Runs `f` on the catalogue of the site `username` (`None` before its owner consented), so a
    /// test can sell out, reprice, archive, remove or add products between syncs, dated by the
    /// time it passes.
    pub fn with_catalogue<R>(
        &self,
        username: &str,
        f: impl FnOnce(&mut Catalogue) -> R,
    ) -> Option<R> {
        let mut world = self.lock();
        let site = world.site_named_mut(username)?;
        Some(f(&mut site.catalogue))
    }

    /// Marks a product's stock as unlimited (or counted again), as Squarespace's "unlimited"
    /// box does. The catalogue has no such notion, so this does not move the product's
    /// `modifiedOn`: set it before the sync that should see it. Whether the product exists is
    /// returned.
    pub fn set_unlimited_stock(&self, username: &str, catalogue_id: u64, unlimited: bool) -> bool {
        let mut world = self.lock();
        let Some(site) = world.site_named_mut(username) else {
            return false;
        };
        if site.catalogue.get(catalogue_id).is_none() {
            return false;
        }
        if unlimited {
            site.unlimited_stock.insert(catalogue_id);
        } else {
            site.unlimited_stock.remove(&catalogue_id);
        }
        true
    }

    fn lock(&self) -> MutexGuard<'_, World> {
        // A test that panicked mid-request must not turn every later request into a panic.
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Runs one API request: counts it, and applies the next scripted failure for `endpoint`
    /// around `work`, in Squarespace's envelope.
    async fn answer(&self, endpoint: Endpoint, work: impl Future<Output = Response>) -> Response {
        let turn = self.lock().script.begin(endpoint);
        answer(turn, |refusal| scripted_refusal(endpoint, refusal), work).await
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers: parse the request, hand the work to `SquarespaceFake::answer`.

async fn show_consent(State(fake): State<SquarespaceFake>, RawQuery(query): RawQuery) -> Response {
    let params = parse_query(query.as_deref());
    let world = fake.lock();
    match world.check_authorize(&params) {
        Ok((request, access)) => {
            let mut hidden = world.oauth.consent_fields(&request);
            // The kit's fields are OAuth's; Squarespace's offline access rides along.
            if access == Access::Offline {
                hidden.push(("access_type", "offline".to_owned()));
            }
            Html(consent_page(&Consent {
                platform: STORE,
                app: &request.client_id,
                scopes: &request.scopes,
                hidden: &hidden,
                usernames: USERNAMES,
                stylesheet: CONSENT_STYLESHEET,
            }))
            .into_response()
        }
        Err(problem) => refusal_page(STORE, &problem, CONSENT_STYLESHEET),
    }
}

async fn record_decision(State(fake): State<SquarespaceFake>, body: Bytes) -> Response {
    let params = parse_form(&body);
    let now = fake.now();
    let outcome = fake.lock().decide(&params, now);
    match outcome {
        Ok(location) => found(&location),
        Err(problem) => refusal_page(STORE, &problem, CONSENT_STYLESHEET),
    }
}

async fn exchange_token(
    State(fake): State<SquarespaceFake>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = json_params(&body);
    // Counted before any scripted failure, so the count says what clients attempted.
    fake.lock().oauth.count_token_request(
        params
            .as_ref()
            .ok()
            .and_then(|params| params.get("grant_type"))
            .map(String::as_str),
    );
    fake.answer(Endpoint::Token, async {
        if let Err(refusal) = check_user_agent(&headers) {
            return refusal;
        }
        if !is_json(&headers) {
            return invalid("The request body must be JSON: send Content-Type: application/json.");
        }
        let params = match params {
            Ok(params) => params,
            Err(problem) => return invalid(&problem),
        };
        let now = fake.now();
        fake.lock().token(&headers, &params, now)
    })
    .await
}

async fn website(State(fake): State<SquarespaceFake>, headers: HeaderMap) -> Response {
    fake.answer(Endpoint::Website, async {
        let now = fake.now();
        fake.lock().website(&headers, now)
    })
    .await
}

async fn list_products(
    State(fake): State<SquarespaceFake>,
    OriginalUri(original): OriginalUri,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let reached_at = own_base_url(&headers, &original, &uri);
    let query = parse_query(query.as_deref());
    fake.answer(Endpoint::Products, async {
        let now = fake.now();
        fake.lock()
            .list_products(&headers, &query, &reached_at, now)
    })
    .await
}

async fn read_products(
    State(fake): State<SquarespaceFake>,
    Path(ids): Path<String>,
    OriginalUri(original): OriginalUri,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    // The nested router sees `/1.0/commerce/products/{ids}`; the base is what comes before it.
    let reached_at = own_base_url(&headers, &original, &uri);
    fake.answer(Endpoint::Product, async {
        let now = fake.now();
        fake.lock().read_products(&headers, &ids, &reached_at, now)
    })
    .await
}

/// `GET /images/{product_id}/{rank}.png`: a product's picture, as the CDN would serve it.
async fn product_image(
    State(fake): State<SquarespaceFake>,
    Path((product_id, file)): Path<(String, String)>,
) -> Response {
    let Some((product_id, rank)) = image_key(&product_id, &file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !fake.lock().has_image(product_id, rank) {
        return StatusCode::NOT_FOUND.into_response();
    }
    // Encoded after the lock is let go.
    (
        [(header::CONTENT_TYPE, "image/png")],
        image_png(product_id, rank),
    )
        .into_response()
}

/// The failures the control page offers for the next product list, by form value.
fn control_choices() -> Vec<ControlChoice> {
    vec![
        ControlChoice {
            value: "rate_limited",
            label: "Throttled (429): the sync pauses a minute, then resumes",
            failure: Failure::RateLimited {
                reset_in_secs: COOLDOWN_SECS,
            },
        },
        ControlChoice {
            value: "server_error",
            label: "Squarespace is down (503): the sync tries again later",
            failure: Failure::ServerError(503),
        },
        ControlChoice {
            value: "revoked_token",
            label: "The token is refused (401): the site needs reconnecting",
            failure: Failure::RevokedToken,
        },
    ]
}

/// What the control page does to the world rather than to one answer.
const REVOKE_ALL: &str = "revoke_all";
const SELL_OUT_FIRST: &str = "sell_out_first";
const OWN_CHOICES: &[(&str, &str)] = &[
    (
        REVOKE_ALL,
        "Revoke every site's tokens (the owner removed the app): the sites need reconnecting",
    ),
    (
        SELL_OUT_FIRST,
        "Sell out the first product of every site: the next sync shows it sold out",
    ),
];

/// `GET /_control`: arm a failure for the next product list, see what changed last.
async fn show_control(State(fake): State<SquarespaceFake>) -> Response {
    let choices = control_choices();
    let (armed, recent) = {
        let world = fake.lock();
        (
            world.script.armed(Endpoint::Products),
            world.recently_changed(),
        )
    };
    Html(control_page(&Control {
        platform: STORE,
        item: "product list",
        choices: &choices,
        own_choices: OWN_CHOICES,
        armed,
        recent: &recent,
        stylesheet: CONTROL_STYLESHEET,
    }))
    .into_response()
}

async fn arm_control(State(fake): State<SquarespaceFake>, body: Bytes) -> Response {
    let params = parse_form(&body);
    if let Some(failure) = chosen_failure(&control_choices(), &params) {
        fake.fail_next(Endpoint::Products, [failure]);
        return back_to_control();
    }
    match params.get("failure").map(String::as_str) {
        Some(REVOKE_ALL) => {
            fake.lock().revoke_every_site();
            back_to_control()
        }
        Some(SELL_OUT_FIRST) => {
            let now = fake.now();
            fake.lock().sell_out_first_products(now);
            back_to_control()
        }
        _ => refusal_page(
            STORE,
            "Pick one of the listed failures.",
            CONTROL_STYLESHEET,
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// The world.

#[derive(Debug)]
pub struct World {
    oauth: AuthorizationServer,
    script: Script<Endpoint>,
    base_url: Option<String>,
    catalogue_size: usize,
    requests_per_minute: u32,
    sites: Vec<Site>,
}

/// One Squarespace site: its owner's username, its products, and its place in the rate limit.
#[derive(Debug)]
struct Site {
    /// From 1, in the order sites were made; part of every id the site hands out.
    serial: u32,
    website_id: String,
    /// Lowercase.
    username: String,
    catalogue: Catalogue,
    /// Catalogue ids whose stock is unlimited.
    unlimited_stock: HashSet<u64>,
    /// When each API request of the last minute arrived, oldest first.
    recent_requests: VecDeque<DateTime<Utc>>,
    cooldown_until: Option<DateTime<Utc>>,
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
                access_token_lifetime: Some(TimeDelta::seconds(ACCESS_TOKEN_LIFETIME_SECS)),
                refresh: Some(RefreshPolicy {
                    lifetime: Some(TimeDelta::seconds(REFRESH_TOKEN_LIFETIME_SECS)),
                    rotation: Rotation::Rotate,
                    only_with_scope: None,
                }),
                // Squarespace's tokens are opaque; the prefixes make a leaked one recognisable.
                access_token_prefix: "sqsp_at_",
                refresh_token_prefix: "sqsp_rt_",
            }),
            script: Script::default(),
            base_url: None,
            catalogue_size: DEFAULT_CATALOGUE_SIZE,
            requests_per_minute: DEFAULT_REQUESTS_PER_MINUTE,
            sites: Vec::new(),
        }
    }

    // --- Consent and sites --------------------------------------------------------------------

    /// The authorize query's checks: the kit's (client, redirect URI, scopes, state), with
    /// `response_type=code` implied, as Squarespace's authorize URL does not carry it; then
    /// `access_type`, which decides whether the code earns a refresh token.
    fn check_authorize(&self, params: &Params) -> Result<(AuthorizeRequest, Access), String> {
        let mut params = params.clone();
        params
            .entry("response_type".to_owned())
            .or_insert_with(|| "code".to_owned());
        let request = self.oauth.check_authorize(&params)?;
        let access = match params.get("access_type").map(String::as_str) {
            Some("offline") => Access::Offline,
            None | Some("" | "online") => Access::Online,
            Some(other) => {
                return Err(format!(
                    "access_type \"{other}\" is neither offline nor online."
                ));
            }
        };
        Ok((request, access))
    }

    /// The consent's outcome, as the URL Squarespace would redirect the browser to. Shared by
    /// the form handler and [`SquarespaceFake::authorize_directly`], so both check the same
    /// things.
    fn decide(&mut self, params: &Params, now: DateTime<Utc>) -> Result<String, String> {
        let (request, access) = self.check_authorize(params)?;
        match Decision::from_form(params)? {
            Decision::Deny => Ok(request.denied_location()),
            Decision::Allow { username } => {
                USERNAMES.check(&username)?;
                let website_id = self.site_for(&username, now);
                Ok(self.oauth.approve_for(request, &website_id, access, now))
            }
        }
    }

    fn site_named(&self, username: &str) -> Option<&Site> {
        self.sites
            .iter()
            .find(|site| site.username.eq_ignore_ascii_case(username))
    }

    fn site_named_mut(&mut self, username: &str) -> Option<&mut Site> {
        self.sites
            .iter_mut()
            .find(|site| site.username.eq_ignore_ascii_case(username))
    }

    /// The website id of the site `username`, made on first consent with its catalogue.
    fn site_for(&mut self, username: &str, now: DateTime<Utc>) -> String {
        if let Some(site) = self.site_named(username) {
            return site.website_id.clone();
        }
        let serial = u32::try_from(self.sites.len() + 1).unwrap_or(u32::MAX);
        let site = Site {
            serial,
            website_id: object_id(WEBSITE_KIND, serial, 1),
            username: username.to_ascii_lowercase(),
            catalogue: Catalogue::generate(self.catalogue_size, CATALOGUE_CURRENCY, now),
            unlimited_stock: HashSet::new(),
            recent_requests: VecDeque::new(),
            cooldown_until: None,
        };
        let website_id = site.website_id.clone();
        self.sites.push(site);
        website_id
    }

    /// Lets an API request in: a descriptive User-Agent, a live token (and one that may read
    /// products, when `reads_products`), and room in the site's rate limit. The site's index,
    /// or Squarespace's refusal.
    fn admit(
        &mut self,
        headers: &HeaderMap,
        reads_products: bool,
        now: DateTime<Utc>,
    ) -> Result<usize, Response> {
        check_user_agent(headers)?;
        let grant = self
            .oauth
            .authenticate(bearer_token(headers), &[], now)
            .map_err(bearer_refusal)?;
        let index = self
            .sites
            .iter()
            .position(|site| site.website_id == grant.account_id)
            .ok_or_else(|| bearer_refusal(BearerError::Unknown))?;
        if reads_products
            && !PRODUCT_SCOPES
                .iter()
                .any(|scope| grant.scopes.contains(scope))
        {
            return Err(error(
                StatusCode::FORBIDDEN,
                AUTHORIZATION,
                "The access token was not granted the website.products.read scope.",
            ));
        }
        let limit = self.requests_per_minute;
        if !self.sites[index].take_request(limit, now) {
            return Err(error(
                StatusCode::TOO_MANY_REQUESTS,
                RATE_LIMITED,
                "Too many requests: this site passed its rate limit and is paused for a minute.",
            ));
        }
        Ok(index)
    }

    fn base_url(&self, reached_at: &str) -> String {
        self.base_url
            .clone()
            .unwrap_or_else(|| reached_at.to_owned())
    }

    // --- Tokens -------------------------------------------------------------------------------

    fn token(&mut self, headers: &HeaderMap, params: &Params, now: DateTime<Utc>) -> Response {
        let client = basic_credentials(headers);
        match self.oauth.token_request(client.as_ref(), params, None, now) {
            Ok(tokens) => Json(token_json(&tokens, now)).into_response(),
            Err(refusal) => oauth_refusal(&refusal),
        }
    }

    // --- API ----------------------------------------------------------------------------------

    fn website(&mut self, headers: &HeaderMap, now: DateTime<Utc>) -> Response {
        let index = match self.admit(headers, false, now) {
            Ok(index) => index,
            Err(refusal) => return refusal,
        };
        let site = &self.sites[index];
        Json(json!({
            "id": site.website_id,
            "url": site.site_url(),
            // Not in platforms.md: the site's name, as remembered from the API reference.
            "siteTitle": site.title(),
        }))
        .into_response()
    }

    fn list_products(
        &mut self,
        headers: &HeaderMap,
        query: &Params,
        reached_at: &str,
        now: DateTime<Utc>,
    ) -> Response {
        let index = match self.admit(headers, true, now) {
            Ok(index) => index,
            Err(refusal) => return refusal,
        };
        let base = self.base_url(reached_at);
        let site = &self.sites[index];
        let walk = match Walk::from_query(query, &site.website_id) {
            Ok(walk) => walk,
            Err(problem) => return invalid(&problem),
        };
        let mut matching = site
            .catalogue
            .products()
            .iter()
            .filter(|product| walk.includes(product));
        let page: Vec<&FakeProduct> = matching.by_ref().take(PAGE_SIZE).collect();
        let more = matching.next().is_some();
        let next_cursor = match (more, page.last()) {
            (true, Some(last)) => Some(walk.after(last.id).encode()),
            _ => None,
        };
        let products: Vec<Value> = page
            .iter()
            .map(|product| site.product_json(product, &base))
            .collect();
        let next_page_url = next_cursor
            .as_ref()
            .map(|cursor| format!("{base}{PRODUCTS_PATH}?cursor={cursor}"));
        Json(json!({
            "products": products,
            "pagination": {
                "hasNextPage": next_cursor.is_some(),
                "nextPageCursor": next_cursor,
                "nextPageUrl": next_page_url,
            },
        }))
        .into_response()
    }

    /// `ids` is one id or several joined by commas; any unknown one makes the answer a 404.
    fn read_products(
        &mut self,
        headers: &HeaderMap,
        ids: &str,
        reached_at: &str,
        now: DateTime<Utc>,
    ) -> Response {
        let index = match self.admit(headers, true, now) {
            Ok(index) => index,
            Err(refusal) => return refusal,
        };
        let base = self.base_url(reached_at);
        let site = &self.sites[index];
        let ids: Vec<&str> = ids.split(',').map(str::trim).collect();
        if ids.len() > MAX_IDS_PER_READ {
            return invalid(&format!(
                "At most {MAX_IDS_PER_READ} product ids may be read at once; {} were given.",
                ids.len()
            ));
        }
        let mut products = Vec::with_capacity(ids.len());
        for id in ids {
            let product = site
                .catalogue_id(id)
                .and_then(|catalogue_id| site.catalogue.get(catalogue_id));
            match product {
                Some(product) => products.push(site.product_json(product, &base)),
                None => {
                    return error(
                        StatusCode::NOT_FOUND,
                        NOT_FOUND,
                        &format!("Product {id} was not found."),
                    );
                }
            }
        }
        Json(json!({ "products": products })).into_response()
    }

    fn has_image(&self, product_id: u64, rank: u32) -> bool {
        self.sites.iter().any(|site| {
            site.catalogue
                .get(product_id)
                .is_some_and(|product| product.images.iter().any(|image| image.rank == rank))
        })
    }

    // --- The control page ---------------------------------------------------------------------

    /// Each site's five most recently changed products, linked to their first image.
    fn recently_changed(&self) -> Vec<Recent> {
        let mut recent = Vec::new();
        for site in &self.sites {
            let mut products: Vec<&FakeProduct> = site.catalogue.products().iter().collect();
            products.sort_by_key(|product| std::cmp::Reverse(product.updated_at));
            let currency = &site.catalogue.currency;
            recent.extend(products.into_iter().take(5).map(|product| Recent {
                href: format!("images/{}/0.png", product.id),
                text: format!(
                    "{}: {} ({} in stock, from {} {currency})",
                    site.username,
                    product.title,
                    product.total_quantity(),
                    decimal(product.lowest_price(), currency),
                ),
            }));
        }
        recent
    }

    fn revoke_every_site(&mut self) {
        let website_ids: Vec<String> = self
            .sites
            .iter()
            .map(|site| site.website_id.clone())
            .collect();
        for website_id in website_ids {
            self.oauth.revoke_account(&website_id);
        }
    }

    fn sell_out_first_products(&mut self, now: DateTime<Utc>) {
        for site in &mut self.sites {
            if let Some(first) = site.catalogue.id_at(0) {
                site.catalogue.sell_out(first, now);
            }
        }
    }
}

impl Site {
    /// An id of this site's, of `kind`, for the thing numbered `number`.
    fn object_id(&self, kind: u8, number: u64) -> String {
        object_id(kind, self.serial, number)
    }

    /// The catalogue id behind a product id this site handed out; `None` for anything else.
    fn catalogue_id(&self, product_id: &str) -> Option<u64> {
        let lower_hex = product_id
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
        if product_id.len() != 24 || !lower_hex {
            return None;
        }
        let (prefix, number) = product_id.split_at(8);
        let own = self.object_id(PRODUCT_KIND, 0);
        if own.get(..8) != Some(prefix) {
            return None;
        }
        u64::from_str_radix(number, 16).ok()
    }

    fn site_url(&self) -> String {
        format!("https://{}.squarespace.com", self.username)
    }

    fn title(&self) -> String {
        format!("Sandbox shop {}", self.username)
    }

    /// Takes one request from the sliding minute; `false` (and a minute's cooldown) when the
    /// minute is full, or while a cooldown lasts.
    fn take_request(&mut self, limit: u32, now: DateTime<Utc>) -> bool {
        if self.cooldown_until.is_some_and(|until| now < until) {
            return false;
        }
        let window_start = now - TimeDelta::seconds(RATE_WINDOW_SECS);
        while self
            .recent_requests
            .front()
            .is_some_and(|at| *at <= window_start)
        {
            self.recent_requests.pop_front();
        }
        if self.recent_requests.len() >= limit as usize {
            self.cooldown_until = Some(now + TimeDelta::seconds(COOLDOWN_SECS));
            return false;
        }
        self.recent_requests.push_back(now);
        true
    }

    /// A product in the API's shape. `base` is where the fake serves its images.
    fn product_json(&self, product: &FakeProduct, base: &str) -> Value {
        let currency = self.catalogue.currency.as_str();
        let unlimited = self.unlimited_stock.contains(&product.id);
        let several = product.variants.len() > 1;
        let variants: Vec<Value> = product
            .variants
            .iter()
            .map(|variant| {
                // Sizes are the SKU's last part (`SKU-1001-L`); a single variant has none.
                let attributes = match variant.sku.rsplit('-').next() {
                    Some(size) if several => json!({ "Size": size }),
                    _ => json!({}),
                };
                // Squarespace reports 0 for an unlimited stock.
                let quantity = if unlimited { 0 } else { variant.quantity };
                json!({
                    "id": self.object_id(VARIANT_KIND, variant.id),
                    "sku": variant.sku,
                    "pricing": {
                        "basePrice": money(variant.price_minor, currency),
                        "onSale": false,
                        "salePrice": money(0, currency),
                    },
                    "stock": { "quantity": quantity, "unlimited": unlimited },
                    "attributes": attributes,
                })
            })
            .collect();
        let images: Vec<Value> = product
            .images
            .iter()
            .map(|image| {
                json!({
                    "id": self.object_id(IMAGE_KIND, image.id),
                    "url": format!("{base}{}", image.path()),
                    "altText": image.alt,
                    "originalSize": { "width": IMAGE_SIZE_PX, "height": IMAGE_SIZE_PX },
                    "availableFormats": [],
                })
            })
            .collect();
        json!({
            "id": self.object_id(PRODUCT_KIND, product.id),
            "type": PRODUCT_TYPE,
            "storePageId": self.object_id(STORE_PAGE_KIND, 1),
            "name": product.title,
            "description": product.description_html,
            "url": format!("{}/shop/p/{}", self.site_url(), product.handle),
            "urlSlug": product.handle,
            "tags": product.tags,
            "isVisible": product.state == FakeProductState::Active,
            "variants": variants,
            "images": images,
            "createdOn": squarespace_time(product.created_at),
            "modifiedOn": squarespace_time(product.updated_at),
        })
    }
}

/// A 24-hex id like Squarespace's (they are MongoDB object ids): the kind, the site's serial,
/// then the number, so ids are stable per product and never shared between sites.
fn object_id(kind: u8, site: u32, number: u64) -> String {
    format!("{kind:02x}{site:06x}{number:016x}")
}

// ---------------------------------------------------------------------------------------------
// Paging.

/// Where a product list stands, and what it is filtered by: the content of a cursor. A cursor
/// names the last product handed out, not a snapshot (Squarespace's cursors are dynamic), so
/// products removed between two pages neither break the walk nor shift it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Walk {
    #[serde(rename = "s")]
    website_id: String,
    /// Catalogue id of the last product handed out; 0 before the first page.
    #[serde(rename = "k")]
    after_id: u64,
    #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
    modified_after: Option<DateTime<Utc>>,
    #[serde(rename = "b", default, skip_serializing_if = "Option::is_none")]
    modified_before: Option<DateTime<Utc>>,
    #[serde(rename = "t", default, skip_serializing_if = "Option::is_none")]
    types: Option<Vec<String>>,
}

impl Walk {
    /// The walk a request asks for: from its cursor, or from the start with its filters.
    fn from_query(query: &Params, website_id: &str) -> Result<Self, String> {
        let given = |name: &str| {
            query
                .get(name)
                .map(String::as_str)
                .filter(|value| !value.is_empty())
        };
        if let Some(cursor) = given("cursor") {
            if ["modifiedAfter", "modifiedBefore", "type"]
                .into_iter()
                .any(|name| given(name).is_some())
            {
                return Err(
                    "cursor cannot be combined with modifiedAfter, modifiedBefore or type: the cursor carries the filters of the first page."
                        .to_owned(),
                );
            }
            return Self::decode(cursor)
                .filter(|walk| walk.website_id == website_id)
                .ok_or_else(|| "The cursor is invalid.".to_owned());
        }
        let (modified_after, modified_before) =
            match (given("modifiedAfter"), given("modifiedBefore")) {
                (None, None) => (None, None),
                (Some(after), Some(before)) => {
                    let after = parse_time("modifiedAfter", after)?;
                    let before = parse_time("modifiedBefore", before)?;
                    if after > before {
                        return Err(
                            "modifiedAfter must not be later than modifiedBefore.".to_owned()
                        );
                    }
                    (Some(after), Some(before))
                }
                _ => {
                    return Err(
                        "modifiedAfter and modifiedBefore must be given together.".to_owned()
                    );
                }
            };
        let types = given("type").map(parse_types).transpose()?;
        Ok(Self {
            website_id: website_id.to_owned(),
            after_id: 0,
            modified_after,
            modified_before,
            types,
        })
    }

    fn includes(&self, product: &FakeProduct) -> bool {
        product.id > self.after_id
            && self
                .modified_after
                .is_none_or(|after| product.updated_at > after)
            && self
                .modified_before
                .is_none_or(|before| product.updated_at <= before)
            && self
                .types
                .as_ref()
                .is_none_or(|types| types.iter().any(|kind| kind == PRODUCT_TYPE))
    }

    /// The same walk, past `catalogue_id`.
    fn after(&self, catalogue_id: u64) -> Self {
        Self {
            after_id: catalogue_id,
            ..self.clone()
        }
    }

    fn encode(&self) -> String {
        let json = serde_json::to_vec(self).expect("a walk serialises to JSON");
        URL_SAFE_NO_PAD.encode(json)
    }

    fn decode(cursor: &str) -> Option<Self> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()
    }
}

/// An ISO 8601 time with its offset (`2026-05-01T12:00:00Z`, fractions allowed).
fn parse_time(name: &str, value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| {
            format!("{name} must be an ISO 8601 date and time such as 2026-05-01T12:00:00Z.")
        })
}

/// `PHYSICAL,SERVICE`: each one of Squarespace's product types.
fn parse_types(raw: &str) -> Result<Vec<String>, String> {
    raw.split(',')
        .map(str::trim)
        .map(|kind| {
            if PRODUCT_TYPES.contains(&kind) {
                Ok(kind.to_owned())
            } else {
                Err(format!(
                    "type \"{kind}\" is not one of {}.",
                    PRODUCT_TYPES.join(", ")
                ))
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Reading requests.

/// The token endpoint's JSON body as parameters: every value must be a string.
fn json_params(body: &[u8]) -> Result<Params, String> {
    let object: serde_json::Map<String, Value> = serde_json::from_slice(body)
        .map_err(|_| "The request body is not a JSON object.".to_owned())?;
    object
        .into_iter()
        .map(|(name, value)| match value {
            Value::String(text) => Ok((name, text)),
            _ => Err(format!("{name} must be a string.")),
        })
        .collect()
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case("application/json"))
}

/// Squarespace refuses requests whose User-Agent is missing or a library's default.
fn check_user_agent(headers: &HeaderMap) -> Result<(), Response> {
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .unwrap_or_default();
    let lower = agent.to_ascii_lowercase();
    if agent.is_empty()
        || GENERIC_USER_AGENTS
            .iter()
            .any(|generic| lower.starts_with(generic))
    {
        return Err(invalid(
            "A descriptive User-Agent header is required: name your app and its version, such as MyApp/1.2.",
        ));
    }
    Ok(())
}

/// `{product_id}/{rank}.png` of an image path.
fn image_key(product_id: &str, file: &str) -> Option<(u64, u32)> {
    let rank = file.strip_suffix(".png")?;
    Some((product_id.parse().ok()?, rank.parse().ok()?))
}

// ---------------------------------------------------------------------------------------------
// Answers in Squarespace's shapes.

/// Squarespace's error envelope; `contextId` is a fresh random id, as its support asks for.
fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    (
        status,
        Json(json!({
            "type": kind,
            "subtype": null,
            "message": message,
            "details": null,
            "contextId": random_hex(8).to_ascii_uppercase(),
        })),
    )
        .into_response()
}

fn invalid(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, INVALID_REQUEST, message)
}

/// Every unusable token is a 401; the sentence says which case it was, so a failing test does.
fn bearer_refusal(refusal: BearerError) -> Response {
    let message = match refusal {
        BearerError::Missing => "No access token was sent: send Authorization: Bearer <token>.",
        BearerError::Unknown => "The access token is not valid.",
        BearerError::Revoked => "The access token was revoked.",
        BearerError::Expired => "The access token has expired.",
        BearerError::MissingScope(_) => {
            return error(
                StatusCode::FORBIDDEN,
                AUTHORIZATION,
                "The access token was not granted the scope this call needs.",
            );
        }
    };
    error(StatusCode::UNAUTHORIZED, AUTHORIZATION, message)
}

/// The token endpoint's refusals, with RFC 6749's statuses: a refused client is 401, a refused
/// code or refresh token 400 (Squarespace's own statuses are not documented).
fn oauth_refusal(refusal: &OAuthError) -> Response {
    match refusal {
        OAuthError::InvalidClient => error(
            StatusCode::UNAUTHORIZED,
            AUTHORIZATION,
            "Client authentication failed: send the app's client id and secret as HTTP Basic.",
        ),
        OAuthError::InvalidGrant(message) => invalid(message),
        OAuthError::InvalidRequest(_) | OAuthError::UnsupportedGrantType(_) => {
            invalid(&refusal.to_string())
        }
    }
}

/// A scripted failure, as Squarespace would answer it.
fn scripted_refusal(endpoint: Endpoint, refusal: Refusal) -> Response {
    let token_endpoint = endpoint == Endpoint::Token;
    match refusal {
        Refusal::ServerError(status) => error(
            status,
            INTERNAL,
            "An internal error occurred. Please try again later.",
        ),
        Refusal::RateLimited { .. } => error(
            StatusCode::TOO_MANY_REQUESTS,
            RATE_LIMITED,
            "Too many requests: this site passed its rate limit and is paused for a minute.",
        ),
        Refusal::ExpiredToken if token_endpoint => invalid("The refresh token has expired."),
        Refusal::RevokedToken if token_endpoint => {
            invalid("The refresh token was revoked or already used.")
        }
        Refusal::ExpiredToken => bearer_refusal(BearerError::Expired),
        Refusal::RevokedToken => bearer_refusal(BearerError::Revoked),
        Refusal::Validation(message) => invalid(&message),
        Refusal::Duplicate => error(
            StatusCode::CONFLICT,
            CONFLICT,
            "The request conflicts with the current state of the resource.",
        ),
    }
}

/// Squarespace dates its tokens rather than counting their seconds: epoch seconds, fractional.
fn token_json(tokens: &IssuedTokens, now: DateTime<Utc>) -> Value {
    let expires_at = |secs: i64| epoch_seconds(now) + secs as f64;
    let mut body = json!({
        "token_type": "bearer",
        "access_token": tokens.access_token,
    });
    if let Some(secs) = tokens.expires_in {
        body["access_token_expires_at"] = json!(expires_at(secs));
    }
    if let Some(refresh) = &tokens.refresh {
        body["refresh_token"] = json!(refresh.token);
        if let Some(secs) = refresh.expires_in {
            body["refresh_token_expires_at"] = json!(expires_at(secs));
        }
    }
    body
}

fn epoch_seconds(at: DateTime<Utc>) -> f64 {
    at.timestamp_millis() as f64 / 1000.0
}

/// ISO 8601 in UTC, to the millisecond, as Squarespace writes `createdOn` and `modifiedOn`.
fn squarespace_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn money(minor: i64, currency: &str) -> Value {
    json!({ "currency": currency, "value": decimal(minor, currency) })
}

/// Minor units as Squarespace's decimal text: `1999` USD is `19.99`, `1500` JPY is `1500`.
/// Kept apart from the client's own arithmetic, so a mistake there is not mirrored here.
fn decimal(minor: i64, currency: &str) -> String {
    let digits: u32 = match currency {
        "JPY" | "KRW" => 0,
        _ => 2,
    };
    let sign = if minor < 0 { "-" } else { "" };
    let amount = minor.unsigned_abs();
    if digits == 0 {
        return format!("{sign}{amount}");
    }
    let scale = 10u64.pow(digits);
    format!(
        "{sign}{}.{:0width$}",
        amount / scale,
        amount % scale,
        width = digits as usize
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

    fn account_id(&self, username: &str) -> Option<String> {
        self.site_named(username)
            .map(|site| site.website_id.clone())
    }
}

impl FakeControls for SquarespaceFake {
    type World = World;

    fn world(&self) -> MutexGuard<'_, World> {
        self.lock()
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use chrono::Duration;
    use tokio::task::JoinHandle;

    use super::*;
    use crate::clock::{Clock as _, ManualClock};
    use crate::sandbox::kit::request::with_query;

    const REDIRECT: &str = "http://127.0.0.1:3000/stores/squarespace/callback";
    const SCOPE: &str = "website.products.read";
    const AGENT: &str = "PicscripteraiTests/1.0";

    /// The fake served on a loopback port, and a client that names itself and follows no
    /// redirects (the consent's answer is a redirect to read, not to follow).
    struct Served {
        fake: SquarespaceFake,
        base: String,
        http: reqwest::Client,
        server: JoinHandle<()>,
    }

    impl Drop for Served {
        fn drop(&mut self) {
            self.server.abort();
        }
    }

    async fn serve(fake: SquarespaceFake) -> Served {
        let (address, server): (SocketAddr, JoinHandle<()>) =
            crate::sandbox::serve(fake.router()).await.unwrap();
        Served {
            fake,
            base: format!("http://{address}"),
            http: reqwest::Client::builder()
                .user_agent(AGENT)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            server,
        }
    }

    fn small_fake(products: usize) -> SquarespaceFake {
        let fake = SquarespaceFake::new("client", "secret");
        fake.set_catalogue_size(products);
        fake
    }

    fn authorize_url(scope: &str, offline: bool) -> String {
        let mut pairs = vec![
            ("client_id", "client"),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            ("state", "st4te"),
        ];
        if offline {
            pairs.push(("access_type", "offline"));
        }
        with_query(
            &format!("https://login.squarespace.test{AUTHORIZE_PATH}"),
            &pairs,
        )
    }

    fn code_in(location: &str) -> String {
        let (_, query) = location.split_once('?').expect("the redirect has a query");
        parse_query(Some(query))["code"].clone()
    }

    impl Served {
        async fn token(&self, body: Value) -> (StatusCode, Value) {
            let response = self
                .http
                .post(format!("{}{TOKEN_PATH}", self.base))
                .basic_auth("client", Some("secret"))
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = response.status();
            (status, response.json().await.unwrap_or(Value::Null))
        }

        /// Consent as `username` with `scope`, then the code's exchange: the token answer.
        async fn connect(&self, username: &str, scope: &str, offline: bool) -> Value {
            let location = self
                .fake
                .authorize_directly(&authorize_url(scope, offline), username)
                .unwrap();
            let code = code_in(&location);
            let (status, tokens) = self
                .token(json!({
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": REDIRECT,
                }))
                .await;
            assert_eq!(status, StatusCode::OK, "{tokens}");
            tokens
        }

        async fn access_token(&self, username: &str) -> String {
            self.connect(username, SCOPE, true).await["access_token"]
                .as_str()
                .unwrap()
                .to_owned()
        }

        async fn get(&self, path_and_query: &str, token: &str) -> (StatusCode, Value) {
            self.get_url(&format!("{}{path_and_query}", self.base), token)
                .await
        }

        async fn get_url(&self, url: &str, token: &str) -> (StatusCode, Value) {
            let response = self.http.get(url).bearer_auth(token).send().await.unwrap();
            let status = response.status();
            (status, response.json().await.unwrap_or(Value::Null))
        }

        /// Every product id of a walk from `first` (a path and query), page by page.
        async fn walk(&self, first: &str, token: &str) -> (Vec<String>, usize) {
            let mut ids = Vec::new();
            let mut pages = 0;
            let (mut status, mut page) = self.get(first, token).await;
            loop {
                assert_eq!(status, StatusCode::OK, "{page}");
                pages += 1;
                for product in page["products"].as_array().unwrap() {
                    ids.push(product["id"].as_str().unwrap().to_owned());
                }
                if page["pagination"]["hasNextPage"] != true {
                    assert!(page["pagination"]["nextPageCursor"].is_null());
                    return (ids, pages);
                }
                let cursor = page["pagination"]["nextPageCursor"].as_str().unwrap();
                (status, page) = self
                    .get(&format!("{PRODUCTS_PATH}?cursor={cursor}"), token)
                    .await;
            }
        }
    }

    #[tokio::test]
    async fn an_offline_consent_earns_a_refresh_token_that_rotates() {
        let served = serve(small_fake(3)).await;
        let before = epoch_seconds(Utc::now());
        let tokens = served.connect("alice", SCOPE, true).await;
        assert_eq!(tokens["token_type"], "bearer");
        assert!(
            tokens["access_token"]
                .as_str()
                .unwrap()
                .starts_with("sqsp_at_")
        );
        let expires_at = tokens["access_token_expires_at"].as_f64().unwrap();
        assert!((expires_at - before - 1800.0).abs() < 5.0, "{expires_at}");
        let refresh_expires_at = tokens["refresh_token_expires_at"].as_f64().unwrap();
        assert!((refresh_expires_at - before - 7.0 * 86_400.0).abs() < 5.0);
        let first_refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

        let refresh =
            |token: &str| json!({ "grant_type": "refresh_token", "refresh_token": token });
        let (status, refreshed) = served.token(refresh(first_refresh.as_str())).await;
        assert_eq!(status, StatusCode::OK, "{refreshed}");
        let second_refresh = refreshed["refresh_token"].as_str().unwrap();
        assert_ne!(second_refresh, first_refresh);
        let (status, spent) = served.token(refresh(first_refresh.as_str())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(spent["type"], INVALID_REQUEST);
        assert!(spent["contextId"].is_string());
        assert_eq!(
            served.token(refresh(second_refresh)).await.0,
            StatusCode::OK
        );
        assert_eq!(served.fake.refresh_count(), 3);

        let online = served.connect("bob", SCOPE, false).await;
        assert!(online["access_token"].is_string());
        assert!(online.get("refresh_token").is_none(), "{online}");
    }

    #[tokio::test]
    async fn a_code_is_spent_once_and_only_for_this_apps_basic_credentials() {
        let served = serve(small_fake(3)).await;
        let location = served
            .fake
            .authorize_directly(&authorize_url(SCOPE, true), "alice")
            .unwrap();
        assert!(location.starts_with(REDIRECT) && location.ends_with("&state=st4te"));
        let exchange = json!({
            "grant_type": "authorization_code",
            "code": code_in(&location),
            "redirect_uri": REDIRECT,
        });
        let url = format!("{}{TOKEN_PATH}", served.base);
        let wrong_secret = served
            .http
            .post(&url)
            .basic_auth("client", Some("wrong"))
            .json(&exchange)
            .send()
            .await
            .unwrap();
        assert_eq!(wrong_secret.status(), StatusCode::UNAUTHORIZED);

        let as_form = served
            .http
            .post(&url)
            .basic_auth("client", Some("secret"))
            .form(&[("grant_type", "authorization_code")])
            .send()
            .await
            .unwrap();
        assert_eq!(as_form.status(), StatusCode::BAD_REQUEST);
        let body: Value = as_form.json().await.unwrap();
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("application/json")
        );

        assert_eq!(served.token(exchange.clone()).await.0, StatusCode::OK);
        assert_eq!(served.token(exchange).await.0, StatusCode::BAD_REQUEST);
        assert_eq!(served.fake.code_exchange_count(), 3);
    }

    #[tokio::test]
    async fn the_consent_screen_carries_offline_access_through_its_form() {
        let served = serve(small_fake(3)).await;
        let path = authorize_url(SCOPE, true).replace("https://login.squarespace.test", "");
        let page = served
            .http
            .get(format!("{}{path}", served.base))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("<code>website.products.read</code>"));
        assert!(html.contains(r#"name="access_type" value="offline""#));
        assert!(html.contains(CONSENT_STYLESHEET));

        let form = [
            ("client_id", "client"),
            ("redirect_uri", REDIRECT),
            ("scope", SCOPE),
            ("state", "st4te"),
            ("access_type", "offline"),
            ("username", "Alice"),
            ("decision", "allow"),
        ];
        let decided = served
            .http
            .post(format!("{}{path}", served.base))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(decided.status(), StatusCode::FOUND);
        let location = decided.headers()[header::LOCATION].to_str().unwrap();
        assert!(location.starts_with(REDIRECT));
        assert!(served.fake.website_id("alice").is_some());

        let refused = served.fake.authorize_directly(
            &authorize_url("website.products.read website.orders", true),
            "alice",
        );
        assert!(refused.unwrap_err().contains("not a known scope"));
    }

    #[tokio::test]
    async fn the_website_is_the_one_the_owner_consented_as() {
        let served = serve(small_fake(3)).await;
        let token = served.access_token("alice").await;
        let (status, website) = served.get(WEBSITE_PATH, &token).await;
        assert_eq!(status, StatusCode::OK, "{website}");
        let id = website["id"].as_str().unwrap();
        assert_eq!(Some(id.to_owned()), served.fake.website_id("alice"));
        assert_eq!(id.len(), 24);
        assert_eq!(website["url"], "https://alice.squarespace.com");
        assert_eq!(website["siteTitle"], "Sandbox shop alice");
    }

    #[tokio::test]
    async fn paging_walks_the_whole_catalogue_once() {
        let served = serve(small_fake(120)).await;
        let token = served.access_token("alice").await;
        let (ids, pages) = served.walk(PRODUCTS_PATH, &token).await;
        assert_eq!(pages, 3);
        assert_eq!(ids.len(), 120);
        assert_eq!(
            ids.iter().collect::<HashSet<_>>().len(),
            120,
            "no duplicates"
        );
        assert!(ids.iter().all(|id| id.len() == 24));

        let (_, first) = served.get(PRODUCTS_PATH, &token).await;
        let next_page_url = first["pagination"]["nextPageUrl"].as_str().unwrap();
        assert!(next_page_url.starts_with(&format!("{}{PRODUCTS_PATH}?cursor=", served.base)));
        let (status, second) = served.get_url(next_page_url, &token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(second["products"][0]["id"], ids[50].as_str());

        let product = &first["products"][0];
        assert_eq!(product["type"], "PHYSICAL");
        assert_eq!(product["isVisible"], true);
        let price = &product["variants"][0]["pricing"]["basePrice"];
        assert_eq!(price["currency"], "USD");
        assert!(price["value"].as_str().unwrap().contains('.'));
        assert!(
            product["url"]
                .as_str()
                .unwrap()
                .starts_with("https://alice.squarespace.com/shop/p/")
        );
        let image = product["images"][0]["url"].as_str().unwrap();
        assert!(
            image.starts_with(&served.base) && image.ends_with("/0.png"),
            "{image}"
        );
    }

    #[tokio::test]
    async fn a_product_removed_mid_walk_does_not_break_the_cursor() {
        let served = serve(small_fake(120)).await;
        let token = served.access_token("alice").await;
        let (_, first) = served.get(PRODUCTS_PATH, &token).await;
        let cursor = first["pagination"]["nextPageCursor"]
            .as_str()
            .unwrap()
            .to_owned();
        served.fake.with_catalogue("alice", |catalogue| {
            let last_seen = catalogue.id_at(49).unwrap();
            let next = catalogue.id_at(50).unwrap();
            assert!(catalogue.remove(last_seen) && catalogue.remove(next));
        });
        let (status, second) = served
            .get(&format!("{PRODUCTS_PATH}?cursor={cursor}"), &token)
            .await;
        assert_eq!(status, StatusCode::OK, "{second}");
        assert_eq!(second["products"].as_array().unwrap().len(), 50);
    }

    #[tokio::test]
    async fn the_filter_returns_what_changed_and_its_cursor_keeps_it() {
        let start = Utc::now();
        let clock = Arc::new(ManualClock::starting_at(start));
        let fake = SquarespaceFake::with_clock("client", "secret", clock.clone());
        fake.set_catalogue_size(120);
        let served = serve(fake).await;
        let token = served.access_token("alice").await;

        clock.advance(Duration::minutes(5));
        let changed_at = clock.now();
        let changed: Vec<u64> = served
            .fake
            .with_catalogue("alice", |catalogue| {
                (0..60)
                    .map(|index| {
                        let id = catalogue.id_at(index * 2).unwrap();
                        catalogue.set_price(id, 1234, changed_at);
                        id
                    })
                    .collect::<Vec<u64>>()
            })
            .unwrap();
        clock.advance(Duration::minutes(1));
        let since = (start + Duration::seconds(1)).to_rfc3339_opts(SecondsFormat::Secs, true);
        let until = clock.now().to_rfc3339_opts(SecondsFormat::Millis, true);
        let filtered = format!("{PRODUCTS_PATH}?modifiedAfter={since}&modifiedBefore={until}");
        let (ids, pages) = served.walk(&filtered, &token).await;
        assert_eq!(pages, 2, "the cursor carries the filter to the second page");
        let expected: Vec<String> = changed
            .iter()
            .map(|id| served.fake.product_id("alice", *id).unwrap())
            .collect();
        assert_eq!(ids, expected);

        let (status, body) = served
            .get(&format!("{PRODUCTS_PATH}?modifiedAfter={since}"), &token)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body["message"].as_str().unwrap().contains("together"));
        let (_, first) = served.get(&filtered, &token).await;
        let cursor = first["pagination"]["nextPageCursor"].as_str().unwrap();
        let combined = format!("{filtered}&cursor={cursor}");
        assert_eq!(
            served.get(&combined, &token).await.0,
            StatusCode::BAD_REQUEST
        );
        let backwards = format!("{PRODUCTS_PATH}?modifiedAfter={until}&modifiedBefore={since}");
        assert_eq!(
            served.get(&backwards, &token).await.0,
            StatusCode::BAD_REQUEST
        );
        let (_, none) = served
            .get(&format!("{PRODUCTS_PATH}?type=DIGITAL,SERVICE"), &token)
            .await;
        assert_eq!(none["products"].as_array().unwrap().len(), 0);
        assert_eq!(
            served
                .get(&format!("{PRODUCTS_PATH}?type=BOOK"), &token)
                .await
                .0,
            StatusCode::BAD_REQUEST
        );
    }

    #[tokio::test]
    async fn products_are_read_by_id_until_they_are_gone() {
        let served = serve(small_fake(10)).await;
        let token = served.access_token("alice").await;
        let (first, second) = served
            .fake
            .with_catalogue("alice", |catalogue| {
                (catalogue.id_at(0).unwrap(), catalogue.id_at(1).unwrap())
            })
            .unwrap();
        let first_id = served.fake.product_id("alice", first).unwrap();
        let second_id = served.fake.product_id("alice", second).unwrap();
        let (status, both) = served
            .get(&format!("{PRODUCTS_PATH}/{first_id},{second_id}"), &token)
            .await;
        assert_eq!(status, StatusCode::OK, "{both}");
        assert_eq!(both["products"][1]["id"], second_id.as_str());

        assert!(served.fake.set_unlimited_stock("alice", first, true));
        served.fake.with_catalogue("alice", |catalogue| {
            catalogue.archive(second, Utc::now());
        });
        let (_, read) = served
            .get(&format!("{PRODUCTS_PATH}/{first_id}"), &token)
            .await;
        assert_eq!(
            read["products"][0]["variants"][0]["stock"]["unlimited"],
            true
        );
        let (_, archived) = served
            .get(&format!("{PRODUCTS_PATH}/{second_id}"), &token)
            .await;
        assert_eq!(archived["products"][0]["isVisible"], false);

        served
            .fake
            .with_catalogue("alice", |catalogue| catalogue.remove(first));
        let (status, gone) = served
            .get(&format!("{PRODUCTS_PATH}/{first_id}"), &token)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(gone["type"], NOT_FOUND);

        // Another site's ids are not this site's products.
        let bobs_token = served.access_token("bob").await;
        assert_eq!(
            served
                .get(&format!("{PRODUCTS_PATH}/{second_id}"), &bobs_token)
                .await
                .0,
            StatusCode::NOT_FOUND
        );
    }

    #[tokio::test]
    async fn images_are_served_as_png() {
        let served = serve(small_fake(3)).await;
        let token = served.access_token("alice").await;
        let (_, page) = served.get(PRODUCTS_PATH, &token).await;
        let url = page["products"][0]["images"][0]["url"].as_str().unwrap();
        let image = served.http.get(url).send().await.unwrap();
        assert_eq!(image.status(), StatusCode::OK);
        assert_eq!(image.headers()[header::CONTENT_TYPE], "image/png");
        assert!(image.bytes().await.unwrap().starts_with(b"\x89PNG"));
        let missing = served
            .http
            .get(format!("{}/images/1/99.png", served.base))
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn a_site_over_its_limit_waits_out_a_minute_of_cooldown() {
        let clock = Arc::new(ManualClock::starting_at(Utc::now()));
        let fake = SquarespaceFake::with_clock("client", "secret", clock.clone());
        fake.set_catalogue_size(3);
        fake.set_requests_per_minute(3);
        let served = serve(fake).await;
        let token = served.access_token("alice").await;
        for _ in 0..3 {
            assert_eq!(served.get(PRODUCTS_PATH, &token).await.0, StatusCode::OK);
        }
        let (status, body) = served.get(PRODUCTS_PATH, &token).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(body["type"], RATE_LIMITED);
        let other_site = served.access_token("bob").await;
        assert_eq!(
            served.get(PRODUCTS_PATH, &other_site).await.0,
            StatusCode::OK
        );

        clock.advance(Duration::seconds(59));
        assert_eq!(
            served.get(WEBSITE_PATH, &token).await.0,
            StatusCode::TOO_MANY_REQUESTS
        );
        clock.advance(Duration::seconds(1));
        assert_eq!(served.get(WEBSITE_PATH, &token).await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_missing_or_generic_user_agent_is_refused() {
        let served = serve(small_fake(3)).await;
        let token = served.access_token("alice").await;
        let url = format!("{}{PRODUCTS_PATH}", served.base);
        // reqwest sends no User-Agent unless told to.
        let anonymous = reqwest::Client::new()
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), StatusCode::BAD_REQUEST);
        let body: Value = anonymous.json().await.unwrap();
        assert!(body["message"].as_str().unwrap().contains("User-Agent"));
        for generic in [
            "curl/8.5.0",
            "python-requests/2.32",
            "Go-http-client/2.0",
            "reqwest/0.12",
        ] {
            let refused = reqwest::Client::new()
                .get(&url)
                .bearer_auth(&token)
                .header(header::USER_AGENT, generic)
                .send()
                .await
                .unwrap();
            assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{generic}");
        }
        let token_request = reqwest::Client::new()
            .post(format!("{}{TOKEN_PATH}", served.base))
            .basic_auth("client", Some("secret"))
            .json(&json!({ "grant_type": "refresh_token", "refresh_token": "x" }))
            .send()
            .await
            .unwrap();
        assert_eq!(token_request.status(), StatusCode::BAD_REQUEST);
        assert_eq!(served.get(PRODUCTS_PATH, &token).await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn expired_revoked_and_narrow_tokens_are_refused() {
        let served = serve(small_fake(3)).await;
        served.fake.set_access_token_lifetime(0);
        let expired = served.access_token("alice").await;
        let (status, body) = served.get(PRODUCTS_PATH, &expired).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["message"], "The access token has expired.");

        served.fake.set_access_token_lifetime(1800);
        let live = served.access_token("alice").await;
        assert_eq!(served.get(PRODUCTS_PATH, &live).await.0, StatusCode::OK);
        served.fake.revoke_all_tokens_of("Alice");
        assert_eq!(
            served.get(PRODUCTS_PATH, &live).await.0,
            StatusCode::UNAUTHORIZED
        );

        let orders_only = served.connect("carol", "website.orders.read", true).await;
        let orders_only = orders_only["access_token"].as_str().unwrap();
        assert_eq!(
            served.get(PRODUCTS_PATH, orders_only).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            served.get(WEBSITE_PATH, orders_only).await.0,
            StatusCode::OK
        );
        assert_eq!(
            served.get(PRODUCTS_PATH, "never-issued").await.0,
            StatusCode::UNAUTHORIZED
        );
    }

    #[tokio::test]
    async fn scripted_failures_answer_in_squarespaces_envelope_in_order() {
        let served = serve(small_fake(3)).await;
        let token = served.access_token("alice").await;
        served.fake.fail_next(
            Endpoint::Products,
            [
                Failure::RateLimited { reset_in_secs: 60 },
                Failure::ServerError(503),
                Failure::RevokedToken,
            ],
        );
        for (status, kind) in [
            (StatusCode::TOO_MANY_REQUESTS, RATE_LIMITED),
            (StatusCode::SERVICE_UNAVAILABLE, INTERNAL),
            (StatusCode::UNAUTHORIZED, AUTHORIZATION),
        ] {
            let (got, body) = served.get(PRODUCTS_PATH, &token).await;
            assert_eq!((got, body["type"].as_str()), (status, Some(kind)));
        }
        assert_eq!(served.get(PRODUCTS_PATH, &token).await.0, StatusCode::OK);
        assert_eq!(served.fake.request_count(Endpoint::Products), 4);

        served
            .fake
            .fail_next(Endpoint::Token, [Failure::ExpiredToken]);
        let (status, body) = served
            .token(json!({ "grant_type": "refresh_token", "refresh_token": "x" }))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["message"], "The refresh token has expired.");
    }

    #[tokio::test]
    async fn the_control_page_arms_a_failure_and_sells_out_a_product() {
        let served = serve(small_fake(3)).await;
        let token = served.access_token("alice").await;
        let control = format!("{}/_control", served.base);
        let armed = served
            .http
            .post(&control)
            .form(&[("failure", "server_error")])
            .send()
            .await
            .unwrap();
        assert_eq!(armed.status(), StatusCode::SEE_OTHER);
        let page = served
            .http
            .get(&control)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("1 failure(s) armed."));
        assert_eq!(
            served.get(PRODUCTS_PATH, &token).await.0,
            StatusCode::SERVICE_UNAVAILABLE
        );

        served
            .http
            .post(&control)
            .form(&[("failure", SELL_OUT_FIRST)])
            .send()
            .await
            .unwrap();
        let (_, page) = served.get(PRODUCTS_PATH, &token).await;
        for variant in page["products"][0]["variants"].as_array().unwrap() {
            assert_eq!(variant["stock"]["quantity"], 0);
        }

        served
            .http
            .post(&control)
            .form(&[("failure", REVOKE_ALL)])
            .send()
            .await
            .unwrap();
        assert_eq!(
            served.get(PRODUCTS_PATH, &token).await.0,
            StatusCode::UNAUTHORIZED
        );
    }

    #[test]
    fn prices_are_written_as_decimal_text() {
        assert_eq!(decimal(1999, "USD"), "19.99");
        assert_eq!(decimal(5, "EUR"), "0.05");
        assert_eq!(decimal(1500, "JPY"), "1500");
        assert_eq!(decimal(0, "USD"), "0.00");
    }
}
