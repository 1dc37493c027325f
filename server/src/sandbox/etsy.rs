//! A local fake of Etsy's Open API v3 for reading a shop's listings (`shared/platforms.md`,
//! section 9): the consent screen (`/oauth/connect`, PKCE S256 mandatory), the token endpoint
//! (`/v3/public/oauth/token`, the keystring in the form and no secret, rotating refresh tokens),
//! `users/me`, the shop, the shop's listings by state with Etsy's offset paging and sorting, one
//! listing, and the listing images themselves.
//!
//! It owns one in-memory world (sandbox users with one shop each, every shop's
//! [`Catalogue`], the per-app rate limits and the OAuth server of
//! [`kit::oauth`](super::kit::oauth)) behind [`EtsyFake`], a cheap handle tests keep to script
//! failures ([`EtsyFake::fail_next`]), to change a shop between syncs
//! ([`EtsyFake::with_catalogue`]) and to read the counters ([`FakeControls`]). The router has its
//! state baked in, so it can be served at the root (tests point `ETSY_AUTH_URL` and
//! `ETSY_API_URL` at the same address) or nested under `/sandbox/etsy` (`--sandbox`).
//!
//! Where Etsy is strict, so is the fake: every `/v3/application` call needs
//! `x-api-key: keystring:shared_secret` (the keystring alone has been refused since 2026-02-09)
//! and a live bearer token carrying the call's scope; a shop answers only to its owner's token;
//! `limit` is 1 to 100; unknown states, sorts and includes are refused; the token endpoint takes
//! the keystring as `client_id`, wants the PKCE verifier, and refuses a `client_secret` in the
//! form (Etsy's public-client flow never needs it, so sending it is a client bug that would leak
//! the secret). Etsy's access tokens start with the user id (`12345.xyz`); the fake issues the
//! kit's opaque token behind that prefix and checks both halves.
//!
//! Rate limits are per app on the fake's clock: calls within one UTC second and one UTC day are
//! counted, every answer carries `x-limit-per-second`, `x-remaining-this-second`,
//! `x-limit-per-day` and `x-remaining-today`, and a call over either limit is a 429 with
//! `retry-after` (1 s, or the seconds to midnight UTC). Refused calls do not spend the allowance.
//!
//! Facts platforms.md does not give (the code lifetime, the error sentences, the scopes each
//! call needs) are this fake's defaults and say so where declared. It trusts whoever reaches it
//! and never logs a token, a code or the shared secret.

#![allow(clippy::result_large_err)] // a fake's errors are whole HTTP answers, made once per refused request

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use super::kit::catalogue::{Catalogue, FakeProduct, FakeProductState, image_png};
use super::kit::consent::{Consent, Decision, UsernameRule, consent_page, direct_consent};
use super::kit::control::{
    Control, ControlChoice, Recent, back_to_control, chosen_failure, control_page, standard_choices,
};
use super::kit::oauth::{
    AuthorizationServer, BearerError, CodeRedemption, IssuedTokens, OAuthConfig, OAuthError, Pkce,
    RefreshPolicy, Rotation,
};
use super::kit::pages::{found, refusal_page, stylesheet};
use super::kit::request::{Params, bearer_token, own_base_url, parse_form, parse_query};
use super::kit::script::{Refusal, Script, Turn, answer};
use super::kit::{FakeControls, KitWorld};
use crate::clock::{SharedClock, SystemClock};
use crate::stores::api::currency_exponent;

pub use super::kit::script::Failure;

const PLATFORM: &str = "Etsy";
/// `https://www.etsy.com/oauth/connect`.
const AUTHORIZE_PATH: &str = "/oauth/connect";

const ACCESS_TOKEN_LIFETIME_SECS: i64 = 3600;
const REFRESH_TOKEN_LIFETIME_SECS: i64 = 90 * 86_400;
/// Etsy does not document it (unverified): ten minutes, RFC 6749's recommended maximum.
const CODE_LIFETIME_SECS: i64 = 600;

/// Etsy's default allowance per app (platforms.md: about 10 a second and 10,000 a day).
const DEFAULT_PER_SECOND: u32 = 10;
const DEFAULT_PER_DAY: u32 = 10_000;
const SECONDS_PER_DAY: i64 = 86_400;

const DEFAULT_CATALOGUE_SIZE: usize = 10_000;
const DEFAULT_CURRENCY: &str = "USD";
/// `getListingsByShop`: 25 unless asked, at most 100.
const DEFAULT_LIMIT: usize = 25;
const MAX_LIMIT: usize = 100;
/// The states `getListingsByShop` filters on.
const LISTING_STATES: [&str; 5] = ["active", "inactive", "sold_out", "draft", "expired"];
/// What `includes` may name; only `Images` changes the fake's answer.
const KNOWN_INCLUDES: [&str; 7] = [
    "Shipping",
    "Images",
    "Shop",
    "User",
    "Translations",
    "Inventory",
    "Videos",
];
/// Every image of the fake is the one 64×64 PNG of [`image_png`].
const IMAGE_SIDE: u32 = 64;

/// Ids look like Etsy's numbers, so clients that parse or store them meet realistic values.
const FIRST_USER_ID: u64 = 412_000_001;
const FIRST_SHOP_ID: u64 = 31_000_001;

/// Every scope Etsy's OAuth knows; anything else is refused at the consent screen.
const KNOWN_SCOPES: &[&str] = &[
    "address_r",
    "address_w",
    "billing_r",
    "cart_r",
    "cart_w",
    "email_r",
    "favorites_r",
    "favorites_w",
    "feedback_r",
    "listings_d",
    "listings_r",
    "listings_w",
    "profile_r",
    "profile_w",
    "recommend_r",
    "recommend_w",
    "shops_r",
    "shops_w",
    "transactions_r",
    "transactions_w",
];
/// The scope each call needs (the fake's reading of Etsy's reference: `getMe` and `getShop`
/// under `shops_r`, listings under `listings_r`).
const SHOP_SCOPES: &[&str] = &["shops_r"];
const LISTING_SCOPES: &[&str] = &["listings_r"];

/// Etsy user names: letters and digits (the fake's rule; Etsy's own allows up to 20).
const USERNAMES: UsernameRule = UsernameRule {
    max_len: 20,
    extra_chars: "",
    default: "sandboxmaker",
};

/// Stylesheet hrefs relative to each page: `/oauth/connect`, `/_control`.
const CONSENT_STYLESHEET: &str = "../sandbox.css";
const CONTROL_STYLESHEET: &str = "sandbox.css";

/// Control-page actions that happen at once instead of arming a failure.
const REVOKE_ALL: &str = "revoke_all";
const SELL_OUT_FIRST: &str = "sell_out_first";

/// The fake's API endpoints, for scripting failures and counting requests. The consent screen,
/// the control page and the images are not API calls, so they are not among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST /v3/public/oauth/token`, both grant types.
    Token,
    /// `GET /v3/application/users/me`.
    Me,
    /// `GET /v3/application/shops/{shop_id}`.
    Shop,
    /// `GET /v3/application/shops/{shop_id}/listings`.
    Listings,
    /// `GET /v3/application/listings/{listing_id}`.
    Listing,
}

/// A handle on one fake Etsy that knows one app (its keystring and shared secret). Clones share
/// the same world.
#[derive(Clone)]
pub struct EtsyFake {
    world: Arc<Mutex<World>>,
    clock: SharedClock,
}

impl fmt::Debug for EtsyFake {
    // The world holds tokens; printing them would gain a failing test nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EtsyFake").finish_non_exhaustive()
    }
}

impl EtsyFake {
    /// A fake Etsy whose one app has this keystring and shared secret, telling the real time.
    pub fn new(keystring: &str, shared_secret: &str) -> Self {
        Self::with_clock(keystring, shared_secret, Arc::new(SystemClock))
    }

    /// As [`EtsyFake::new`], telling time by `clock`: a `ManualClock` expires codes and tokens,
    /// and moves the rate-limit windows, without waiting. (`Slow` failures and latency still
    /// sleep in real time.)
    pub fn with_clock(keystring: &str, shared_secret: &str, clock: SharedClock) -> Self {
        Self {
            world: Arc::new(Mutex::new(World::new(keystring, shared_secret))),
            clock,
        }
    }

    /// All the fake's routes, relative to wherever the router is served or nested. The consent
    /// page lives on the API's host here: configure both base URLs with the fake's address.
    pub fn router(&self) -> Router {
        Router::new()
            .route(AUTHORIZE_PATH, get(show_consent).post(record_decision))
            .route("/v3/public/oauth/token", post(exchange_token))
            .route("/v3/application/users/me", get(users_me))
            .route("/v3/application/shops/{shop_id}", get(shop))
            .route("/v3/application/shops/{shop_id}/listings", get(listings))
            .route("/v3/application/listings/{listing_id}", get(listing))
            .route("/images/{product_id}/{file}", get(image))
            .route("/sandbox.css", get(stylesheet))
            .route("/_control", get(show_control).post(arm_control))
            .with_state(self.clone())
    }

    /// The absolute URL the fake is reached at (e.g. `http://127.0.0.1:4321`), for the image
    /// URLs in listings. Without it, the URL is taken from each request's Host and path.
    pub fn set_base_url(&self, base_url: &str) {
        self.lock().base_url = Some(base_url.trim_end_matches('/').to_owned());
    }

    /// How long access tokens issued from now on live (default 3,600 s; 0 or less issues tokens
    /// that are already expired).
    pub fn set_access_token_lifetime(&self, secs: i64) {
        self.lock()
            .oauth
            .set_access_token_lifetime(Some(TimeDelta::seconds(secs)));
    }

    /// How many products the shop of a user who consents from now on starts with (default
    /// 10,000). Shops made before keep theirs.
    pub fn set_catalogue_size(&self, products: usize) {
        self.lock().catalogue_size = products;
    }

    /// The app's allowance: calls per UTC second and per UTC day (default 10 and 10,000).
    /// What was spent in the current windows stays spent.
    pub fn set_rate_limits(&self, per_second: u32, per_day: u32) {
        let mut world = self.lock();
        world.rate.per_second = per_second;
        world.rate.per_day = per_day;
    }

    /// Queues `failures` for `endpoint`: each later request to it that gets past the API key
    /// and the rate limit takes the next one, in order.
    pub fn fail_next(&self, endpoint: Endpoint, failures: impl IntoIterator<Item = Failure>) {
        // Collected first, so a caller's iterator never runs while the world is locked.
        let failures: Vec<Failure> = failures.into_iter().collect();
        self.lock().script.fail_next(endpoint, failures);
    }

    /// For tests without a browser: checks `authorize_url` (the URL our app sends the user to)
    /// exactly as the consent screen does, lets `username` allow it, and returns the redirect the
    /// browser would have followed (`redirect_uri?code=..&state=..`). The error is the sentence
    /// the consent screen would have shown.
    pub fn authorize_directly(
        &self,
        authorize_url: &str,
        username: &str,
    ) -> Result<String, String> {
        let params = direct_consent(authorize_url, AUTHORIZE_PATH, username)?;
        let now = self.now();
        self.lock().decide(&params, now)
    }

    /// Runs `change` on the catalogue of `username`'s shop (case-insensitive), once the user has
    /// consented: sell out, reprice, archive, remove or add products between two syncs. Times
    /// passed to the catalogue should come from [`EtsyFake::now`].
    pub fn with_catalogue<R>(
        &self,
        username: &str,
        change: impl FnOnce(&mut Catalogue) -> R,
    ) -> Option<R> {
        let mut world = self.lock();
        let account = world.account_named_mut(username)?;
        Some(change(&mut account.catalogue))
    }

    /// The shop id of `username`'s shop, once the user has consented.
    pub fn shop_id(&self, username: &str) -> Option<u64> {
        self.lock()
            .account_named(username)
            .map(|account| account.shop_id)
    }

    /// The Etsy user id of `username` (the prefix of their tokens), once they have consented.
    pub fn user_id(&self, username: &str) -> Option<u64> {
        self.lock()
            .account_named(username)
            .map(|account| account.user_id)
    }

    /// The fake's time: what catalogue changes should be dated with.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn lock(&self) -> MutexGuard<'_, World> {
        // A test that panicked mid-request must not turn every later request into a panic.
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Where the images of a listing answer point: the configured base URL, else the address
    /// this request reached the fake at.
    fn base_url(&self, headers: &HeaderMap, original: &Uri, seen: &Uri) -> String {
        let configured = self.lock().base_url.clone();
        configured.unwrap_or_else(|| own_base_url(headers, original, seen))
    }

    /// Runs one `/v3/application` call: the API key and the rate limit first (as Etsy's gateway
    /// does, before the call is looked at), then the next scripted failure for `endpoint`
    /// around `work`, and the rate headers on whatever the answer is.
    async fn api(
        &self,
        endpoint: Endpoint,
        headers: &HeaderMap,
        work: impl Future<Output = Response>,
    ) -> Response {
        let now = self.now();
        let admitted = self.lock().admit(endpoint, headers, now);
        let (allowance, turn) = match admitted {
            Ok(admitted) => admitted,
            Err(refusal) => return refusal,
        };
        let mut response = answer(turn, api_refusal, work).await;
        stamp_rate_headers(response.headers_mut(), &allowance);
        response
    }

    /// Revokes every token of every shop: what the control page's "revoke" does.
    fn revoke_every_shop(&self) {
        let mut world = self.lock();
        let user_ids: Vec<String> = world
            .accounts
            .iter()
            .map(|account| account.user_id.to_string())
            .collect();
        for user_id in user_ids {
            world.oauth.revoke_account(&user_id);
        }
    }

    /// Sells out the first product of every shop, now.
    fn sell_out_first_products(&self) {
        let now = self.now();
        let mut world = self.lock();
        for account in &mut world.accounts {
            if let Some(first) = account.catalogue.id_at(0) {
                account.catalogue.sell_out(first, now);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers: parse the request, hand the work to the world.

async fn show_consent(State(fake): State<EtsyFake>, RawQuery(query): RawQuery) -> Response {
    let params = parse_query(query.as_deref());
    let world = fake.lock();
    match world.oauth.check_authorize(&params) {
        Ok(request) => {
            let hidden = world.oauth.consent_fields(&request);
            Html(consent_page(&Consent {
                platform: PLATFORM,
                app: &request.client_id,
                scopes: &request.scopes,
                hidden: &hidden,
                usernames: USERNAMES,
                stylesheet: CONSENT_STYLESHEET,
            }))
            .into_response()
        }
        Err(problem) => refusal_page(PLATFORM, &problem, CONSENT_STYLESHEET),
    }
}

async fn record_decision(State(fake): State<EtsyFake>, body: Bytes) -> Response {
    let params = parse_form(&body);
    let now = fake.now();
    let outcome = fake.lock().decide(&params, now);
    match outcome {
        Ok(location) => found(&location),
        Err(problem) => refusal_page(PLATFORM, &problem, CONSENT_STYLESHEET),
    }
}

async fn exchange_token(State(fake): State<EtsyFake>, body: Bytes) -> Response {
    let params = parse_form(&body);
    let turn = {
        let mut world = fake.lock();
        world
            .oauth
            .count_token_request(params.get("grant_type").map(String::as_str));
        world.script.begin(Endpoint::Token)
    };
    answer(turn, token_refusal, async {
        let now = fake.now();
        fake.lock().token(&params, now)
    })
    .await
}

async fn users_me(State(fake): State<EtsyFake>, headers: HeaderMap) -> Response {
    fake.api(Endpoint::Me, &headers, async {
        let now = fake.now();
        fake.lock().users_me(&headers, now)
    })
    .await
}

async fn shop(
    State(fake): State<EtsyFake>,
    Path(shop_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    fake.api(Endpoint::Shop, &headers, async {
        let now = fake.now();
        fake.lock().shop(&headers, &shop_id, now)
    })
    .await
}

async fn listings(
    State(fake): State<EtsyFake>,
    Path(shop_id): Path<String>,
    OriginalUri(original): OriginalUri,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = parse_query(query.as_deref());
    let base_url = fake.base_url(&headers, &original, &uri);
    fake.api(Endpoint::Listings, &headers, async {
        let now = fake.now();
        fake.lock()
            .listings(&headers, &shop_id, &query, &base_url, now)
    })
    .await
}

async fn listing(
    State(fake): State<EtsyFake>,
    Path(listing_id): Path<String>,
    OriginalUri(original): OriginalUri,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = parse_query(query.as_deref());
    let base_url = fake.base_url(&headers, &original, &uri);
    fake.api(Endpoint::Listing, &headers, async {
        let now = fake.now();
        fake.lock()
            .listing(&headers, &listing_id, &query, &base_url, now)
    })
    .await
}

/// `GET /images/{product_id}/{rank}.png`: the picture of a listing's image, as long as the
/// listing has it. (Etsy serves images from its CDN, without tokens; so does the fake.)
async fn image(
    State(fake): State<EtsyFake>,
    Path((product_id, file)): Path<(String, String)>,
) -> Response {
    let Some((product_id, rank)) = image_address(&product_id, &file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let exists = fake.lock().has_image(product_id, rank);
    if !exists {
        return StatusCode::NOT_FOUND.into_response();
    }
    let png = image_png(product_id, rank);
    ([(header::CONTENT_TYPE, "image/png")], png).into_response()
}

/// `1001` and `0.png` as a product id and an image rank.
fn image_address(product_id: &str, file: &str) -> Option<(u64, u32)> {
    let rank = file.strip_suffix(".png")?;
    if !rank.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    Some((product_id.parse().ok()?, rank.parse().ok()?))
}

/// The failures the control page arms for the next listings page, by form value.
fn control_choices() -> Vec<ControlChoice> {
    let mut choices = standard_choices("Expected int <= 100 for limit.");
    choices.push(ControlChoice {
        value: "throttled_briefly",
        label: "Throttled for a second (429, retry-after 1 s): waited out within the sync",
        failure: Failure::RateLimited { reset_in_secs: 1 },
    });
    choices
}

/// What the control page does at once rather than arming.
const CONTROL_ACTIONS: &[(&str, &str)] = &[
    (
        REVOKE_ALL,
        "Revoke every shop's tokens now: the store needs a reconnect",
    ),
    (
        SELL_OUT_FIRST,
        "Sell out the first product of every shop now: the next sync shows it sold out",
    ),
];

/// `GET /_control`: arm a failure for the next listings page, see the sandbox shops.
async fn show_control(State(fake): State<EtsyFake>) -> Response {
    let choices = control_choices();
    let (armed, recent) = {
        let world = fake.lock();
        let recent: Vec<Recent> = world
            .accounts
            .iter()
            .rev()
            .map(|account| Recent {
                href: "_control".to_owned(),
                text: format!(
                    "{}: shop {} ({}), {} products",
                    account.username,
                    account.shop_name,
                    account.shop_id,
                    account.catalogue.len()
                ),
            })
            .collect();
        (world.script.armed(Endpoint::Listings), recent)
    };
    Html(control_page(&Control {
        platform: PLATFORM,
        item: "listings page",
        choices: &choices,
        own_choices: CONTROL_ACTIONS,
        armed,
        recent: &recent,
        stylesheet: CONTROL_STYLESHEET,
    }))
    .into_response()
}

async fn arm_control(State(fake): State<EtsyFake>, body: Bytes) -> Response {
    let params = parse_form(&body);
    match params.get("failure").map(String::as_str) {
        Some(REVOKE_ALL) => {
            fake.revoke_every_shop();
            back_to_control()
        }
        Some(SELL_OUT_FIRST) => {
            fake.sell_out_first_products();
            back_to_control()
        }
        _ => match chosen_failure(&control_choices(), &params) {
            Some(failure) => {
                fake.fail_next(Endpoint::Listings, [failure]);
                back_to_control()
            }
            None => refusal_page(
                PLATFORM,
                "Pick one of the listed failures.",
                CONTROL_STYLESHEET,
            ),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// The world.

#[derive(Debug)]
pub struct World {
    oauth: AuthorizationServer,
    script: Script<Endpoint>,
    base_url: Option<String>,
    accounts: Vec<Account>,
    catalogue_size: usize,
    rate: RateLimit,
    /// Calls refused by the API key or the rate limit, which never reach the script.
    gate_refusals: HashMap<Endpoint, usize>,
    /// Every token as the client received it (`<user_id>.<token>`).
    issued: Vec<String>,
    next_user_id: u64,
    next_shop_id: u64,
}

/// A sandbox user and their shop.
#[derive(Debug)]
struct Account {
    user_id: u64,
    shop_id: u64,
    username: String,
    shop_name: String,
    created_at: DateTime<Utc>,
    catalogue: Catalogue,
}

/// The app's per-second and per-day windows, by UTC second and UTC day.
#[derive(Debug)]
struct RateLimit {
    per_second: u32,
    per_day: u32,
    second: i64,
    used_this_second: u32,
    day: i64,
    used_today: u32,
}

/// Where the allowance stands after one call, for the rate headers; `retry_after_secs` when the
/// call was over a limit.
#[derive(Debug, Clone, Copy)]
struct Allowance {
    per_second: u32,
    remaining_this_second: u32,
    per_day: u32,
    remaining_today: u32,
    retry_after_secs: Option<i64>,
}

impl RateLimit {
    fn new() -> Self {
        Self {
            per_second: DEFAULT_PER_SECOND,
            per_day: DEFAULT_PER_DAY,
            second: i64::MIN,
            used_this_second: 0,
            day: i64::MIN,
            used_today: 0,
        }
    }

    /// Spends one call at `now` if both windows have room; a refused call spends nothing.
    fn spend(&mut self, now: DateTime<Utc>) -> Allowance {
        let second = now.timestamp();
        let day = second.div_euclid(SECONDS_PER_DAY);
        if self.second != second {
            self.second = second;
            self.used_this_second = 0;
        }
        if self.day != day {
            self.day = day;
            self.used_today = 0;
        }
        let retry_after_secs = if self.used_today >= self.per_day {
            Some(SECONDS_PER_DAY - second.rem_euclid(SECONDS_PER_DAY))
        } else if self.used_this_second >= self.per_second {
            Some(1)
        } else {
            self.used_this_second += 1;
            self.used_today += 1;
            None
        };
        Allowance {
            per_second: self.per_second,
            remaining_this_second: self.per_second.saturating_sub(self.used_this_second),
            per_day: self.per_day,
            remaining_today: self.per_day.saturating_sub(self.used_today),
            retry_after_secs,
        }
    }
}

/// A listing's state as Etsy names it, from the catalogue's product.
fn listing_state(product: &FakeProduct) -> &'static str {
    match product.state {
        FakeProductState::Active if product.sold_out() => "sold_out",
        FakeProductState::Active => "active",
        FakeProductState::Archived => "inactive",
        FakeProductState::Draft => "draft",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortOn {
    Created,
    Updated,
    Price,
    Title,
}

/// The query of `getListingsByShop`, checked.
#[derive(Debug, Clone, Copy)]
struct ListingsQuery {
    state: &'static str,
    limit: usize,
    offset: usize,
    images: bool,
    sort_on: SortOn,
    descending: bool,
}

impl ListingsQuery {
    /// Etsy's defaults (`active`, 25, 0, newest first); anything it would not take is a 400.
    fn read(query: &Params) -> Result<Self, Response> {
        let state = match query.get("state") {
            None => "active",
            Some(raw) => LISTING_STATES
                .iter()
                .copied()
                .find(|known| *known == raw.as_str())
                .ok_or_else(|| {
                    bad_request(&format!(
                        "state must be one of {}; it is '{raw}'.",
                        LISTING_STATES.join(", ")
                    ))
                })?,
        };
        let limit = match query.get("limit") {
            None => DEFAULT_LIMIT,
            Some(raw) => raw
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|limit| (1..=MAX_LIMIT).contains(limit))
                .ok_or_else(|| {
                    bad_request(&format!(
                        "Expected int >= 1 and <= {MAX_LIMIT} for limit; it is '{raw}'."
                    ))
                })?,
        };
        let offset = match query.get("offset") {
            None => 0,
            Some(raw) => raw.trim().parse::<usize>().map_err(|_| {
                bad_request(&format!("Expected int >= 0 for offset; it is '{raw}'."))
            })?,
        };
        let sort_on = match query.get("sort_on").map(String::as_str) {
            None | Some("created") => SortOn::Created,
            Some("updated") => SortOn::Updated,
            Some("price") => SortOn::Price,
            Some("title") => SortOn::Title,
            Some(other) => {
                return Err(bad_request(&format!(
                    "sort_on must be one of created, price, updated, title; it is '{other}'."
                )));
            }
        };
        let descending = match query.get("sort_order").map(String::as_str) {
            None | Some("desc" | "descending" | "down") => true,
            Some("asc" | "ascending" | "up") => false,
            Some(other) => {
                return Err(bad_request(&format!(
                    "sort_order must be asc or desc; it is '{other}'."
                )));
            }
        };
        Ok(Self {
            state,
            limit,
            offset,
            images: wants_images(query)?,
            sort_on,
            descending,
        })
    }

    /// The order Etsy lists in; ties by listing id, so offsets page through a fixed order.
    fn order(&self, a: &FakeProduct, b: &FakeProduct) -> Ordering {
        let ordering = match self.sort_on {
            SortOn::Created => a.created_at.cmp(&b.created_at),
            SortOn::Updated => a.updated_at.cmp(&b.updated_at),
            SortOn::Price => a.lowest_price().cmp(&b.lowest_price()),
            SortOn::Title => a.title.to_lowercase().cmp(&b.title.to_lowercase()),
        }
        .then(a.id.cmp(&b.id));
        if self.descending {
            ordering.reverse()
        } else {
            ordering
        }
    }
}

/// Whether `includes` (comma-separated) asks for `Images`; an association Etsy does not have is
/// a 400.
fn wants_images(query: &Params) -> Result<bool, Response> {
    let Some(raw) = query.get("includes") else {
        return Ok(false);
    };
    let mut images = false;
    for include in raw
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        let Some(known) = KNOWN_INCLUDES
            .iter()
            .find(|known| known.eq_ignore_ascii_case(include))
        else {
            return Err(bad_request(&format!(
                "includes may name {}; '{include}' is not one of them.",
                KNOWN_INCLUDES.join(", ")
            )));
        };
        images |= *known == "Images";
    }
    Ok(images)
}

impl World {
    fn new(keystring: &str, shared_secret: &str) -> Self {
        Self {
            oauth: AuthorizationServer::new(OAuthConfig {
                client_id: keystring.to_owned(),
                client_secret: shared_secret.to_owned(),
                known_scopes: KNOWN_SCOPES,
                scope_separator: ' ',
                pkce: Pkce::Required,
                state_required: true,
                code_lifetime: TimeDelta::seconds(CODE_LIFETIME_SECS),
                access_token_lifetime: Some(TimeDelta::seconds(ACCESS_TOKEN_LIFETIME_SECS)),
                refresh: Some(RefreshPolicy {
                    lifetime: Some(TimeDelta::seconds(REFRESH_TOKEN_LIFETIME_SECS)),
                    rotation: Rotation::Rotate,
                    only_with_scope: None,
                }),
                // The user id goes in front when a token is handed out (`token_json`).
                access_token_prefix: "",
                refresh_token_prefix: "",
            }),
            script: Script::default(),
            base_url: None,
            accounts: Vec::new(),
            catalogue_size: DEFAULT_CATALOGUE_SIZE,
            rate: RateLimit::new(),
            gate_refusals: HashMap::new(),
            issued: Vec::new(),
            next_user_id: FIRST_USER_ID,
            next_shop_id: FIRST_SHOP_ID,
        }
    }

    // --- Consent and accounts -----------------------------------------------------------------

    /// The consent's outcome, as the URL Etsy would redirect the browser to. Shared by the form
    /// handler and [`EtsyFake::authorize_directly`], so both check the same things.
    fn decide(&mut self, params: &Params, now: DateTime<Utc>) -> Result<String, String> {
        let request = self.oauth.check_authorize(params)?;
        match Decision::from_form(params)? {
            Decision::Deny => Ok(request.denied_location()),
            Decision::Allow { username } => {
                USERNAMES.check(&username)?;
                let user_id = self.account_for(&username, now);
                Ok(self.oauth.approve(request, &user_id.to_string(), now))
            }
        }
    }

    fn account_named(&self, username: &str) -> Option<&Account> {
        self.accounts
            .iter()
            .find(|account| account.username.eq_ignore_ascii_case(username))
    }

    fn account_named_mut(&mut self, username: &str) -> Option<&mut Account> {
        self.accounts
            .iter_mut()
            .find(|account| account.username.eq_ignore_ascii_case(username))
    }

    /// The user id of the sandbox user with this name, made on first consent with a shop of
    /// [`World::catalogue_size`] products.
    fn account_for(&mut self, username: &str, now: DateTime<Utc>) -> u64 {
        if let Some(account) = self.account_named(username) {
            return account.user_id;
        }
        let account = Account {
            user_id: self.next_user_id,
            shop_id: self.next_shop_id,
            username: username.to_owned(),
            shop_name: shop_name(username),
            created_at: now,
            catalogue: Catalogue::generate(self.catalogue_size, DEFAULT_CURRENCY, now),
        };
        self.next_user_id += 1;
        self.next_shop_id += 1;
        let user_id = account.user_id;
        self.accounts.push(account);
        user_id
    }

    fn has_image(&self, product_id: u64, rank: u32) -> bool {
        self.accounts.iter().any(|account| {
            account
                .catalogue
                .get(product_id)
                .is_some_and(|product| product.images.iter().any(|image| image.rank == rank))
        })
    }

    // --- The gateway: API key and rate limit ----------------------------------------------------

    /// Lets a call through the API key check and the rate limit, and deals it its scripted turn;
    /// otherwise the 403 or 429 Etsy's gateway answers.
    fn admit(
        &mut self,
        endpoint: Endpoint,
        headers: &HeaderMap,
        now: DateTime<Utc>,
    ) -> Result<(Allowance, Turn), Response> {
        if let Err(refusal) = self.check_api_key(headers) {
            *self.gate_refusals.entry(endpoint).or_default() += 1;
            return Err(refusal);
        }
        let allowance = self.rate.spend(now);
        if let Some(retry_after) = allowance.retry_after_secs {
            *self.gate_refusals.entry(endpoint).or_default() += 1;
            return Err(over_the_limit(&allowance, retry_after));
        }
        Ok((allowance, self.script.begin(endpoint)))
    }

    /// `x-api-key: keystring:shared_secret`, required on every call since 2026-02-09.
    fn check_api_key(&self, headers: &HeaderMap) -> Result<(), Response> {
        let Some(presented) = headers
            .get("x-api-key")
            .and_then(|value| value.to_str().ok())
        else {
            return Err(forbidden(
                "Missing x-api-key header: send the app's keystring and shared secret as x-api-key: keystring:shared_secret.",
            ));
        };
        let config = self.oauth.config();
        match presented.split_once(':') {
            Some((keystring, secret))
                if keystring == config.client_id && secret == config.client_secret =>
            {
                Ok(())
            }
            None if presented == config.client_id => Err(forbidden(
                "The x-api-key header must carry the shared secret too (keystring:shared_secret); the keystring alone is no longer accepted.",
            )),
            _ => Err(forbidden(
                "Invalid API key: x-api-key does not match an app's keystring and shared secret.",
            )),
        }
    }

    /// The account behind a live `Authorization: Bearer <user_id>.<token>` carrying `scopes`, or
    /// Etsy's 401/403.
    fn authenticate(
        &self,
        headers: &HeaderMap,
        scopes: &[&str],
        now: DateTime<Utc>,
    ) -> Result<&Account, Response> {
        let Some(presented) = bearer_token(headers) else {
            return Err(bearer_refusal(BearerError::Missing));
        };
        let (user_id, token) = presented
            .split_once('.')
            .ok_or_else(|| bearer_refusal(BearerError::Unknown))?;
        let grant = self
            .oauth
            .authenticate(Some(token), scopes, now)
            .map_err(bearer_refusal)?;
        if grant.account_id != user_id {
            return Err(bearer_refusal(BearerError::Unknown));
        }
        self.accounts
            .iter()
            .find(|account| account.user_id.to_string() == grant.account_id)
            .ok_or_else(|| bearer_refusal(BearerError::Unknown))
    }

    // --- Tokens -------------------------------------------------------------------------------

    fn token(&mut self, params: &Params, now: DateTime<Utc>) -> Response {
        match self.check_token_request(params) {
            Ok(grant_type) => match self.redeem(grant_type, params, now) {
                Ok(tokens) => {
                    let body = token_json(&tokens);
                    for field in ["access_token", "refresh_token"] {
                        if let Some(token) = body[field].as_str() {
                            self.issued.push(token.to_owned());
                        }
                    }
                    Json(body).into_response()
                }
                Err(error) => oauth_refusal(&error),
            },
            Err(error) => oauth_refusal(&error),
        }
    }

    /// The checks before either grant: the keystring as `client_id`, no secret, a known grant.
    fn check_token_request<'a>(&self, params: &'a Params) -> Result<&'a str, OAuthError> {
        let client_id = required(params, "client_id")?;
        if client_id != self.oauth.config().client_id {
            return Err(OAuthError::InvalidClient);
        }
        if params.contains_key("client_secret") {
            return Err(OAuthError::InvalidRequest(
                "client_secret must not be sent: Etsy's token endpoint takes the keystring as client_id, and PKCE proves the app."
                    .to_owned(),
            ));
        }
        match params.get("grant_type").map(String::as_str) {
            Some(grant @ ("authorization_code" | "refresh_token")) => Ok(grant),
            Some(other) => Err(OAuthError::UnsupportedGrantType(other.to_owned())),
            None => Err(OAuthError::InvalidRequest(
                "grant_type is missing.".to_owned(),
            )),
        }
    }

    fn redeem(
        &mut self,
        grant_type: &str,
        params: &Params,
        now: DateTime<Utc>,
    ) -> Result<IssuedTokens, OAuthError> {
        if grant_type == "authorization_code" {
            let redemption = CodeRedemption {
                code: required(params, "code")?,
                redirect_uri: required(params, "redirect_uri")?,
                client_id: params.get("client_id").map(String::as_str),
                code_verifier: params.get("code_verifier").map(String::as_str),
            };
            return self.oauth.exchange_code(redemption, now);
        }
        let presented = required(params, "refresh_token")?;
        let (user_id, token) = presented
            .split_once('.')
            .ok_or_else(|| OAuthError::InvalidGrant("The refresh token is invalid.".to_owned()))?;
        let tokens = self.oauth.refresh(token, None, now)?;
        if tokens.grant.account_id != user_id {
            return Err(OAuthError::InvalidGrant(
                "The refresh token is invalid.".to_owned(),
            ));
        }
        Ok(tokens)
    }

    // --- User, shop, listings -----------------------------------------------------------------

    fn users_me(&self, headers: &HeaderMap, now: DateTime<Utc>) -> Response {
        match self.authenticate(headers, SHOP_SCOPES, now) {
            Ok(account) => Json(json!({
                "user_id": account.user_id,
                "shop_id": account.shop_id,
            }))
            .into_response(),
            Err(refusal) => refusal,
        }
    }

    fn shop(&self, headers: &HeaderMap, shop_id: &str, now: DateTime<Utc>) -> Response {
        let account = match self.authenticate(headers, SHOP_SCOPES, now) {
            Ok(account) => account,
            Err(refusal) => return refusal,
        };
        if let Err(refusal) = own_shop(account, shop_id) {
            return refusal;
        }
        let active = account
            .catalogue
            .products()
            .iter()
            .filter(|product| listing_state(product) == "active")
            .count();
        Json(json!({
            "shop_id": account.shop_id,
            "user_id": account.user_id,
            "shop_name": account.shop_name,
            "login_name": account.username,
            "title": format!("Handmade by {}", account.username),
            "url": shop_url(&account.shop_name),
            "currency_code": account.catalogue.currency,
            "listing_active_count": active,
            "digital_listing_count": 0,
            "is_vacation": false,
            "create_date": account.created_at.timestamp(),
            "created_timestamp": account.created_at.timestamp(),
        }))
        .into_response()
    }

    fn listings(
        &self,
        headers: &HeaderMap,
        shop_id: &str,
        query: &Params,
        base_url: &str,
        now: DateTime<Utc>,
    ) -> Response {
        let account = match self.authenticate(headers, LISTING_SCOPES, now) {
            Ok(account) => account,
            Err(refusal) => return refusal,
        };
        if let Err(refusal) = own_shop(account, shop_id) {
            return refusal;
        }
        let wanted = match ListingsQuery::read(query) {
            Ok(wanted) => wanted,
            Err(refusal) => return refusal,
        };
        let mut matching: Vec<&FakeProduct> = account
            .catalogue
            .products()
            .iter()
            .filter(|product| listing_state(product) == wanted.state)
            .collect();
        matching.sort_by(|a, b| wanted.order(a, b));
        let results: Vec<Value> = matching
            .iter()
            .skip(wanted.offset)
            .take(wanted.limit)
            .map(|product| listing_json(product, account, base_url, wanted.images))
            .collect();
        Json(json!({ "count": matching.len(), "results": results })).into_response()
    }

    fn listing(
        &self,
        headers: &HeaderMap,
        listing_id: &str,
        query: &Params,
        base_url: &str,
        now: DateTime<Utc>,
    ) -> Response {
        let account = match self.authenticate(headers, LISTING_SCOPES, now) {
            Ok(account) => account,
            Err(refusal) => return refusal,
        };
        let Ok(listing_id) = listing_id.parse::<u64>() else {
            return bad_request(&format!(
                "Expected a positive integer for listing_id; it is '{listing_id}'."
            ));
        };
        let images = match wants_images(query) {
            Ok(images) => images,
            Err(refusal) => return refusal,
        };
        match account.catalogue.get(listing_id) {
            Some(product) => Json(listing_json(product, account, base_url, images)).into_response(),
            None => error(StatusCode::NOT_FOUND, "Listing not found"),
        }
    }
}

/// Refuses a shop id that is not a number (400) or not the token's own shop (403).
fn own_shop(account: &Account, shop_id: &str) -> Result<(), Response> {
    let Ok(shop_id) = shop_id.parse::<u64>() else {
        return Err(bad_request(&format!(
            "Expected a positive integer for shop_id; it is '{shop_id}'."
        )));
    };
    if shop_id == account.shop_id {
        Ok(())
    } else {
        Err(forbidden(&format!(
            "This access token belongs to another shop; it cannot read shop {shop_id}."
        )))
    }
}

/// `ann` → `AnnStudio`: Etsy shop names are one word.
fn shop_name(username: &str) -> String {
    let mut characters = username.chars();
    let first = characters
        .next()
        .map(|first| first.to_ascii_uppercase().to_string())
        .unwrap_or_default();
    format!("{first}{}Studio", characters.as_str())
}

fn shop_url(shop_name: &str) -> String {
    format!("https://www.etsy.com/shop/{shop_name}")
}

/// The catalogue's HTML description as Etsy keeps descriptions: plain text, paragraphs apart.
fn plain_description(html: &str) -> String {
    let spaced = html.replace("</p>", "\n\n").replace("<br>", "\n");
    let mut text = String::with_capacity(spaced.len());
    let mut in_tag = false;
    for character in spaced.chars() {
        match character {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(character),
            _ => {}
        }
    }
    text.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
        .trim()
        .to_owned()
}

// ---------------------------------------------------------------------------------------------
// Answers in Etsy's shapes.

/// Etsy's error envelope.
fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, message)
}

fn forbidden(message: &str) -> Response {
    error(StatusCode::FORBIDDEN, message)
}

/// Etsy answers an unusable token with 401 `invalid_token`; the description is the fake's, so a
/// failing test says which case it met.
fn bearer_refusal(refusal: BearerError) -> Response {
    let description = match refusal {
        BearerError::Missing => "No access token was sent: this call needs OAuth.",
        BearerError::Unknown => "The access token is not valid.",
        BearerError::Revoked => "The access token was revoked.",
        BearerError::Expired => "The access token is expired.",
        BearerError::MissingScope(scope) => {
            return forbidden(&format!(
                "insufficient_scope: the access token was not granted the {scope} scope."
            ));
        }
    };
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({ "error": "invalid_token", "error_description": description })),
    )
        .into_response()
}

/// The token endpoint's OAuth-shaped errors.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

fn oauth_refusal(refusal: &OAuthError) -> Response {
    let description = refusal.to_string();
    match refusal {
        OAuthError::InvalidClient => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client_id is not the keystring of an app.",
        ),
        OAuthError::InvalidGrant(_) => {
            oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", &description)
        }
        OAuthError::UnsupportedGrantType(_) => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &description,
        ),
        OAuthError::InvalidRequest(_) => {
            oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &description)
        }
    }
}

/// A scripted failure at the token endpoint, in OAuth's shape.
fn token_refusal(refusal: Refusal) -> Response {
    match refusal {
        Refusal::ServerError(status) => oauth_error(
            status,
            "server_error",
            "The authorization server is temporarily unavailable.",
        ),
        Refusal::RateLimited { reset_in_secs } => {
            let mut response = oauth_error(
                StatusCode::TOO_MANY_REQUESTS,
                "temporarily_unavailable",
                "Too many requests.",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(reset_in_secs.max(0)));
            response
        }
        Refusal::ExpiredToken => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The refresh token has expired.",
        ),
        Refusal::RevokedToken => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The refresh token was revoked.",
        ),
        Refusal::Validation(message) => {
            oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &message)
        }
        Refusal::Duplicate => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request was already made.",
        ),
    }
}

/// A scripted failure at an API call, in Etsy's `{"error"}` envelope.
fn api_refusal(refusal: Refusal) -> Response {
    match refusal {
        Refusal::ServerError(status) => error(status, "Server error. Please try again later."),
        Refusal::RateLimited { reset_in_secs } => {
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                "You have exceeded your quota of requests.",
            );
            let headers = response.headers_mut();
            headers.insert(header::RETRY_AFTER, HeaderValue::from(reset_in_secs.max(0)));
            // A wait of a second is the per-second window; a longer one, the day's.
            let spent = if reset_in_secs <= 1 {
                "x-remaining-this-second"
            } else {
                "x-remaining-today"
            };
            headers.insert(spent, HeaderValue::from(0u32));
            response
        }
        Refusal::ExpiredToken => bearer_refusal(BearerError::Expired),
        Refusal::RevokedToken => bearer_refusal(BearerError::Revoked),
        Refusal::Validation(message) => bad_request(&message),
        Refusal::Duplicate => error(
            StatusCode::CONFLICT,
            "This request conflicts with one already made.",
        ),
    }
}

/// The gateway's 429 for a call over the per-second or per-day allowance.
fn over_the_limit(allowance: &Allowance, retry_after: i64) -> Response {
    let message = if retry_after > 1 {
        format!(
            "You have exceeded your daily quota of {} requests; it resets at midnight UTC.",
            allowance.per_day
        )
    } else {
        format!(
            "You have exceeded your quota of {} requests per second.",
            allowance.per_second
        )
    };
    let mut response = error(StatusCode::TOO_MANY_REQUESTS, &message);
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    stamp_rate_headers(headers, allowance);
    response
}

/// Etsy's four rate headers, leaving any an answer already set.
fn stamp_rate_headers(headers: &mut HeaderMap, allowance: &Allowance) {
    headers
        .entry("x-limit-per-second")
        .or_insert(HeaderValue::from(allowance.per_second));
    headers
        .entry("x-remaining-this-second")
        .or_insert(HeaderValue::from(allowance.remaining_this_second));
    headers
        .entry("x-limit-per-day")
        .or_insert(HeaderValue::from(allowance.per_day));
    headers
        .entry("x-remaining-today")
        .or_insert(HeaderValue::from(allowance.remaining_today));
}

/// The token answer: Etsy's tokens start with the user id and a dot.
fn token_json(tokens: &IssuedTokens) -> Value {
    let user_id = &tokens.grant.account_id;
    let mut body = json!({
        "access_token": format!("{user_id}.{}", tokens.access_token),
        "token_type": "Bearer",
        "expires_in": tokens.expires_in,
    });
    if let Some(refresh) = &tokens.refresh {
        body["refresh_token"] = Value::from(format!("{user_id}.{}", refresh.token));
    }
    body
}

/// A catalogue product as an Etsy listing: one price (the lowest variant's), one quantity (the
/// total), the variants' SKUs, and its images only when `includes=Images` asked.
fn listing_json(product: &FakeProduct, account: &Account, base_url: &str, images: bool) -> Value {
    let currency = account.catalogue.currency.as_str();
    let divisor = 10i64.pow(currency_exponent(currency));
    let skus: Vec<&str> = product
        .variants
        .iter()
        .map(|variant| variant.sku.as_str())
        .collect();
    let created = product.created_at.timestamp();
    let updated = product.updated_at.timestamp();
    let mut listing = json!({
        "listing_id": product.id,
        "user_id": account.user_id,
        "shop_id": account.shop_id,
        "title": product.title,
        "description": plain_description(&product.description_html),
        "state": listing_state(product),
        "url": format!("https://www.etsy.com/listing/{}/{}", product.id, product.handle),
        "quantity": product.total_quantity(),
        "tags": product.tags,
        "skus": skus,
        "price": {
            "amount": product.lowest_price(),
            "divisor": divisor,
            "currency_code": currency,
        },
        "has_variations": product.variants.len() > 1,
        "is_digital": false,
        "who_made": "i_did",
        "when_made": "made_to_order",
        "featured_rank": -1,
        "views": 0,
        "num_favorers": 0,
        "creation_timestamp": created,
        "created_timestamp": created,
        "original_creation_timestamp": created,
        "last_modified_timestamp": updated,
        "updated_timestamp": updated,
        "state_timestamp": updated,
    });
    if images {
        let base_url = base_url.trim_end_matches('/');
        let images: Vec<Value> = product
            .images
            .iter()
            .map(|image| {
                let url = format!("{base_url}{}", image.path());
                json!({
                    "listing_id": product.id,
                    "listing_image_id": image.id,
                    // Etsy ranks images from 1.
                    "rank": image.rank + 1,
                    "url_75x75": url,
                    "url_170x135": url,
                    "url_570xN": url,
                    "url_fullxfull": url,
                    "full_height": IMAGE_SIDE,
                    "full_width": IMAGE_SIDE,
                    "alt_text": image.alt,
                    "created_timestamp": created,
                })
            })
            .collect();
        listing["images"] = Value::from(images);
    }
    listing
}

fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, OAuthError> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|value| !value.trim().is_empty())
        .ok_or_else(|| OAuthError::InvalidRequest(format!("{name} is missing.")))
}

impl KitWorld for World {
    type Endpoint = Endpoint;

    fn oauth(&mut self) -> &mut AuthorizationServer {
        &mut self.oauth
    }

    fn script(&mut self) -> &mut Script<Endpoint> {
        &mut self.script
    }

    /// The kit's grants are to the Etsy user id.
    fn account_id(&self, username: &str) -> Option<String> {
        self.account_named(username)
            .map(|account| account.user_id.to_string())
    }
}

impl FakeControls for EtsyFake {
    type World = World;

    fn world(&self) -> MutexGuard<'_, World> {
        self.lock()
    }

    /// Every request that reached `endpoint`, those the API key or the rate limit refused
    /// included.
    fn request_count(&self, endpoint: Endpoint) -> usize {
        let world = self.lock();
        world.script.request_count(endpoint)
            + world.gate_refusals.get(&endpoint).copied().unwrap_or(0)
    }

    /// Takes the token as the client holds it (`<user_id>.<token>`) or as the kit issued it.
    fn revoke_token(&self, token: &str) {
        let kit_token = token.split_once('.').map_or(token, |(_, rest)| rest);
        self.lock().oauth.revoke(kit_token);
    }

    /// Every token as the client received it (`<user_id>.<token>`).
    fn issued_tokens(&self) -> Vec<String> {
        self.lock().issued.clone()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use chrono::TimeZone as _;

    use super::*;
    use crate::clock::ManualClock;
    use crate::sandbox::kit::oauth::s256;
    use crate::sandbox::kit::request::with_query;

    const KEYSTRING: &str = "etsykeystring";
    const SHARED_SECRET: &str = "etsy-shared-secret";
    const REDIRECT: &str = "http://127.0.0.1:3000/stores/etsy/callback";
    const VERIFIER: &str = "a-pkce-verifier-of-at-least-43-characters-0123456789";
    const SCOPES: &str = "listings_r shops_r";

    /// The fake on a loopback port, on a clock that moves only when told (from noon UTC, so no
    /// test crosses a day), with a no-redirect client.
    struct Harness {
        fake: EtsyFake,
        clock: Arc<ManualClock>,
        base: String,
        http: reqwest::Client,
        server: tokio::task::JoinHandle<()>,
    }

    impl Drop for Harness {
        fn drop(&mut self) {
            self.server.abort();
        }
    }

    /// `products` per shop, and rate limits no test meets unless it lowers them.
    async fn harness(products: usize) -> Harness {
        let start = Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap();
        let clock = Arc::new(ManualClock::starting_at(start));
        let fake = EtsyFake::with_clock(KEYSTRING, SHARED_SECRET, clock.clone());
        fake.set_catalogue_size(products);
        fake.set_rate_limits(10_000, 1_000_000);
        let (address, server) = crate::sandbox::serve(fake.router()).await.unwrap();
        Harness {
            fake,
            clock,
            base: format!("http://{address}"),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            server,
        }
    }

    fn code_in(location: &str) -> String {
        let (_, query) = location.split_once('?').expect("the redirect has a query");
        parse_query(Some(query))["code"].clone()
    }

    impl Harness {
        fn authorize_url(&self) -> String {
            let challenge = s256(VERIFIER);
            let pairs = [
                ("response_type", "code"),
                ("client_id", KEYSTRING),
                ("redirect_uri", REDIRECT),
                ("scope", SCOPES),
                ("state", "st4te"),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ];
            with_query(&format!("{}{AUTHORIZE_PATH}", self.base), &pairs)
        }

        async fn token(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
            let response = self
                .http
                .post(format!("{}/v3/public/oauth/token", self.base))
                .form(form)
                .send()
                .await
                .unwrap();
            let status = response.status();
            (status, response.json().await.unwrap_or(Value::Null))
        }

        /// Consent as `username`, then the code exchange: the token answer.
        async fn connect(&self, username: &str) -> Value {
            let location = self
                .fake
                .authorize_directly(&self.authorize_url(), username)
                .unwrap();
            let code = code_in(&location);
            let (status, tokens) = self
                .token(&[
                    ("grant_type", "authorization_code"),
                    ("client_id", KEYSTRING),
                    ("redirect_uri", REDIRECT),
                    ("code", &code),
                    ("code_verifier", VERIFIER),
                ])
                .await;
            assert_eq!(status, StatusCode::OK, "{tokens}");
            tokens
        }

        async fn access_token(&self, username: &str) -> String {
            self.connect(username).await["access_token"]
                .as_str()
                .unwrap()
                .to_owned()
        }

        /// A call as the client makes it, or without the API key or bearer token.
        async fn call(
            &self,
            path: &str,
            token: Option<&str>,
            api_key: Option<&str>,
        ) -> (StatusCode, HeaderMap, Value) {
            let mut request = self.http.get(format!("{}{path}", self.base));
            if let Some(api_key) = api_key {
                request = request.header("x-api-key", api_key);
            }
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            let (status, headers) = (response.status(), response.headers().clone());
            (
                status,
                headers,
                response.json().await.unwrap_or(Value::Null),
            )
        }

        async fn get(&self, path: &str, token: &str) -> (StatusCode, HeaderMap, Value) {
            let api_key = format!("{KEYSTRING}:{SHARED_SECRET}");
            self.call(path, Some(token), Some(&api_key)).await
        }

        fn listings_path(&self, username: &str, query: &str) -> String {
            let shop_id = self.fake.shop_id(username).unwrap();
            format!("/v3/application/shops/{shop_id}/listings?{query}")
        }
    }

    fn ids_of(page: &Value) -> Vec<u64> {
        page["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|listing| listing["listing_id"].as_u64().unwrap())
            .collect()
    }

    #[tokio::test]
    async fn a_consent_yields_tokens_that_start_with_the_user_id() {
        let h = harness(12).await;
        let tokens = h.connect("ann").await;
        let user_id = h.fake.user_id("ann").unwrap();
        let prefix = format!("{user_id}.");
        assert!(
            tokens["access_token"]
                .as_str()
                .unwrap()
                .starts_with(&prefix)
        );
        assert!(
            tokens["refresh_token"]
                .as_str()
                .unwrap()
                .starts_with(&prefix)
        );
        assert_eq!(tokens["token_type"], "Bearer");
        assert_eq!(tokens["expires_in"], 3600);
        assert_eq!(h.fake.code_exchange_count(), 1);
        assert_eq!(h.fake.issued_tokens().len(), 2);

        let token = tokens["access_token"].as_str().unwrap();
        let (status, headers, me) = h.get("/v3/application/users/me", token).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["user_id"], user_id);
        let shop_id = h.fake.shop_id("ann").unwrap();
        assert_eq!(me["shop_id"], shop_id);
        assert!(headers.contains_key("x-remaining-this-second"));

        let (status, _, shop) = h
            .get(&format!("/v3/application/shops/{shop_id}"), token)
            .await;
        assert_eq!(status, StatusCode::OK, "{shop}");
        assert_eq!(shop["shop_name"], "AnnStudio");
        assert_eq!(shop["currency_code"], "USD");
        assert_eq!(shop["url"], "https://www.etsy.com/shop/AnnStudio");
        assert!(shop["listing_active_count"].as_u64().unwrap() > 0);
    }

    #[tokio::test]
    async fn the_token_endpoint_wants_pkce_and_the_keystring_without_the_secret() {
        let h = harness(1).await;
        let without_pkce = with_query(
            &format!("{}{AUTHORIZE_PATH}", h.base),
            &[
                ("response_type", "code"),
                ("client_id", KEYSTRING),
                ("redirect_uri", REDIRECT),
                ("scope", SCOPES),
                ("state", "s"),
            ],
        );
        let refused = h.fake.authorize_directly(&without_pkce, "ann").unwrap_err();
        assert!(refused.contains("code_challenge"), "{refused}");

        let location = h
            .fake
            .authorize_directly(&h.authorize_url(), "ann")
            .unwrap();
        assert!(location.starts_with(REDIRECT) && location.ends_with("state=st4te"));
        let code = code_in(&location);
        let form = |client_id: &'static str, verifier: &'static str| {
            vec![
                ("grant_type", "authorization_code"),
                ("client_id", client_id),
                ("redirect_uri", REDIRECT),
                ("code", code.as_str()),
                ("code_verifier", verifier),
            ]
        };
        let mut with_secret = form(KEYSTRING, VERIFIER);
        with_secret.push(("client_secret", SHARED_SECRET));
        let (status, body) = h.token(&with_secret).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "invalid_request");
        let (status, body) = h.token(&form("someone-else", VERIFIER)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"], "invalid_client");
        let wrong = "another-verifier-of-43-characters-000000000";
        let (status, body) = h.token(&form(KEYSTRING, wrong)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant"))
        );

        assert_eq!(h.token(&form(KEYSTRING, VERIFIER)).await.0, StatusCode::OK);
        let (status, body) = h.token(&form(KEYSTRING, VERIFIER)).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "a code is spent by one use"
        );
        assert_eq!(body["error"], "invalid_grant");
        assert_eq!(h.fake.code_exchange_count(), 5);
    }

    #[tokio::test]
    async fn a_refresh_rotates_both_tokens_and_spends_the_old_one() {
        let h = harness(1).await;
        let first = h.connect("ann").await;
        let refresh = [
            ("grant_type", "refresh_token"),
            ("client_id", KEYSTRING),
            ("refresh_token", first["refresh_token"].as_str().unwrap()),
        ];
        let (status, second) = h.token(&refresh).await;
        assert_eq!(status, StatusCode::OK, "{second}");
        assert_ne!(second["access_token"], first["access_token"]);
        assert_ne!(second["refresh_token"], first["refresh_token"]);
        let (status, body) = h.token(&refresh).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "invalid_grant");
        assert_eq!(h.fake.refresh_count(), 2);

        let token = second["access_token"].as_str().unwrap();
        assert_eq!(
            h.get("/v3/application/users/me", token).await.0,
            StatusCode::OK
        );
    }

    #[tokio::test]
    async fn paging_by_offset_reaches_every_listing_once_across_states() {
        let h = harness(120).await;
        let token = h.access_token("ann").await;
        let mut seen: Vec<u64> = Vec::new();
        for state in ["active", "sold_out"] {
            let mut offset = 0;
            loop {
                let query = format!(
                    "state={state}&limit=100&offset={offset}&includes=Images&sort_on=created&sort_order=asc"
                );
                let (status, _, page) = h.get(&h.listings_path("ann", &query), &token).await;
                assert_eq!(status, StatusCode::OK, "{page}");
                let count = page["count"].as_u64().unwrap();
                for listing in page["results"].as_array().unwrap() {
                    assert_eq!(listing["state"], state);
                    assert_eq!(listing["quantity"].as_i64().unwrap() > 0, state == "active");
                }
                let ids = ids_of(&page);
                offset += ids.len() as u64;
                seen.extend(ids);
                if offset >= count {
                    break;
                }
            }
        }
        let unique: HashSet<u64> = seen.iter().copied().collect();
        assert_eq!(unique.len(), seen.len(), "no listing twice");
        let all: HashSet<u64> = h
            .fake
            .with_catalogue("ann", |catalogue| {
                catalogue
                    .products()
                    .iter()
                    .map(|product| product.id)
                    .collect()
            })
            .unwrap();
        assert_eq!(unique, all);
    }

    #[tokio::test]
    async fn listings_carry_etsys_fields_and_images_only_when_included() {
        let h = harness(5).await;
        let token = h.access_token("ann").await;
        let (_, _, bare) = h.get(&h.listings_path("ann", "limit=1"), &token).await;
        assert!(bare["results"][0].get("images").is_none());

        // The catalogue's first product starts sold out, in two variants (4.50 and 9.50).
        let (_, _, page) = h
            .get(
                &h.listings_path(
                    "ann",
                    "state=sold_out&includes=Images&sort_on=created&sort_order=asc",
                ),
                &token,
            )
            .await;
        let first_id = h
            .fake
            .with_catalogue("ann", |c| c.id_at(0).unwrap())
            .unwrap();
        let listing = page["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|listing| listing["listing_id"] == first_id)
            .expect("the first product starts sold out")
            .clone();
        assert_eq!(listing["price"]["amount"], 450);
        assert_eq!(listing["price"]["divisor"], 100);
        assert_eq!(listing["price"]["currency_code"], "USD");
        assert_eq!(listing["skus"].as_array().unwrap().len(), 2);
        assert!(
            listing["description"]
                .as_str()
                .unwrap()
                .contains("little different & ships")
        );
        assert!(
            listing["url"]
                .as_str()
                .unwrap()
                .starts_with(&format!("https://www.etsy.com/listing/{first_id}/"))
        );
        let image = &listing["images"][0];
        assert_eq!(image["rank"], 1);
        let url = image["url_fullxfull"].as_str().unwrap();
        assert_eq!(url, format!("{}/images/{first_id}/0.png", h.base));

        let response = h.http.get(url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "image/png");
        assert!(response.bytes().await.unwrap().starts_with(b"\x89PNG"));
        let missing = format!("{}/images/{first_id}/9.png", h.base);
        assert_eq!(
            h.http.get(missing).send().await.unwrap().status(),
            StatusCode::NOT_FOUND
        );
    }

    #[tokio::test]
    async fn sorting_by_update_puts_the_latest_changes_first() {
        let h = harness(30).await;
        let token = h.access_token("ann").await;
        h.clock.advance(TimeDelta::minutes(30));
        let now = h.fake.now();
        let (sold, repriced) = h
            .fake
            .with_catalogue("ann", |catalogue| {
                let sold = catalogue.id_at(5).unwrap();
                let repriced = catalogue.id_at(7).unwrap();
                catalogue.sell_out(sold, now);
                catalogue.set_price(repriced, 999, now + TimeDelta::seconds(1));
                (sold, repriced)
            })
            .unwrap();
        let by_update = "sort_on=updated&sort_order=desc&limit=100";
        let (_, _, active) = h
            .get(
                &h.listings_path("ann", &format!("state=active&{by_update}")),
                &token,
            )
            .await;
        assert_eq!(ids_of(&active)[0], repriced);
        assert_eq!(active["results"][0]["price"]["amount"], 999);
        let stamps: Vec<i64> = active["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|listing| listing["last_modified_timestamp"].as_i64().unwrap())
            .collect();
        assert!(stamps.windows(2).all(|pair| pair[0] >= pair[1]));
        let (_, _, sold_out) = h
            .get(
                &h.listings_path("ann", &format!("state=sold_out&{by_update}")),
                &token,
            )
            .await;
        assert_eq!(ids_of(&sold_out)[0], sold);
        assert_eq!(
            sold_out["results"][0]["last_modified_timestamp"],
            now.timestamp()
        );
    }

    #[tokio::test]
    async fn the_rate_limits_answer_429_with_etsys_headers() {
        let h = harness(1).await;
        let token = h.access_token("ann").await;
        h.fake.set_rate_limits(2, 3);
        let me = "/v3/application/users/me";
        let (status, headers, _) = h.get(me, &token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["x-limit-per-second"], "2");
        assert_eq!(headers["x-remaining-this-second"], "1");
        assert_eq!(headers["x-limit-per-day"], "3");
        assert_eq!(headers["x-remaining-today"], "2");
        let (_, headers, _) = h.get(me, &token).await;
        assert_eq!(headers["x-remaining-this-second"], "0");
        let (status, headers, body) = h.get(me, &token).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(headers[header::RETRY_AFTER], "1");
        assert!(body["error"].as_str().unwrap().contains("per second"));

        h.clock.advance(TimeDelta::seconds(1));
        let (status, headers, _) = h.get(me, &token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["x-remaining-today"], "0");
        h.clock.advance(TimeDelta::seconds(1));
        let (status, headers, body) = h.get(me, &token).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        // Noon plus two seconds: the day resets at midnight UTC.
        assert_eq!(
            headers[header::RETRY_AFTER],
            (12 * 3600 - 2).to_string().as_str()
        );
        assert!(body["error"].as_str().unwrap().contains("daily"));
        assert_eq!(h.fake.request_count(Endpoint::Me), 5);
    }

    #[tokio::test]
    async fn every_api_call_needs_the_shared_secret_in_x_api_key() {
        let h = harness(1).await;
        let token = h.access_token("ann").await;
        let me = "/v3/application/users/me";
        let (status, _, body) = h.call(me, Some(&token), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(body["error"].as_str().unwrap().contains("x-api-key"));
        let (status, _, body) = h.call(me, Some(&token), Some(KEYSTRING)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(body["error"].as_str().unwrap().contains("shared secret"));
        let wrong = format!("{KEYSTRING}:not-the-secret");
        let (status, _, body) = h.call(me, Some(&token), Some(&wrong)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(body["error"].as_str().unwrap().contains("Invalid API key"));
        let right = format!("{KEYSTRING}:{SHARED_SECRET}");
        let (status, _, body) = h.call(me, None, Some(&right)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"], "invalid_token");
        assert_eq!(h.fake.request_count(Endpoint::Me), 4);
    }

    #[tokio::test]
    async fn expired_and_revoked_tokens_are_refused_with_invalid_token() {
        let h = harness(1).await;
        h.fake.set_access_token_lifetime(60);
        let tokens = h.connect("ann").await;
        let token = tokens["access_token"].as_str().unwrap();
        let me = "/v3/application/users/me";
        h.clock.advance(TimeDelta::seconds(61));
        let (status, _, body) = h.get(me, token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"], "invalid_token");
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .contains("expired")
        );

        let refresh = tokens["refresh_token"].as_str().unwrap();
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", KEYSTRING),
            ("refresh_token", refresh),
        ];
        let (status, renewed) = h.token(&form).await;
        assert_eq!(status, StatusCode::OK);
        let renewed_token = renewed["access_token"].as_str().unwrap();
        assert_eq!(h.get(me, renewed_token).await.0, StatusCode::OK);
        // A token whose user-id prefix was changed is not the same token.
        let forged = format!("1.{}", renewed_token.split_once('.').unwrap().1);
        assert_eq!(h.get(me, &forged).await.0, StatusCode::UNAUTHORIZED);

        h.fake.revoke_all_tokens_of("ann");
        let (status, _, body) = h.get(me, renewed_token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .contains("revoked")
        );
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", KEYSTRING),
            ("refresh_token", renewed["refresh_token"].as_str().unwrap()),
        ];
        assert_eq!(h.token(&form).await.1["error"], "invalid_grant");
    }

    #[tokio::test]
    async fn a_listing_reads_alone_until_removed_and_only_from_its_own_shop() {
        let h = harness(3).await;
        let token = h.access_token("ann").await;
        let id = h
            .fake
            .with_catalogue("ann", |c| c.id_at(1).unwrap())
            .unwrap();
        let path = format!("/v3/application/listings/{id}?includes=Images");
        let (status, _, listing) = h.get(&path, &token).await;
        assert_eq!(status, StatusCode::OK, "{listing}");
        assert_eq!(listing["listing_id"], id);
        assert_eq!(listing["images"].as_array().unwrap().len(), 2);

        h.fake.with_catalogue("ann", |c| c.remove(id)).unwrap();
        let (status, _, body) = h.get(&path, &token).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"], "Listing not found");

        h.connect("bob").await;
        let bobs = h.fake.shop_id("bob").unwrap();
        let (status, _, body) = h
            .get(&format!("/v3/application/shops/{bobs}/listings"), &token)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(body["error"].as_str().unwrap().contains("another shop"));
    }

    #[tokio::test]
    async fn paging_parameters_etsy_would_not_take_are_refused() {
        let h = harness(3).await;
        let token = h.access_token("ann").await;
        for query in [
            "limit=101",
            "limit=0",
            "offset=-1",
            "state=gone",
            "includes=Images,Nope",
            "sort_on=colour",
            "sort_order=sideways",
        ] {
            let (status, _, body) = h.get(&h.listings_path("ann", query), &token).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
            assert!(body["error"].is_string(), "{query}");
        }
        let (status, _, page) = h
            .get(&h.listings_path("ann", "limit=100&offset=500"), &token)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(ids_of(&page).is_empty());
    }

    #[tokio::test]
    async fn scripted_failures_answer_in_etsys_envelope_in_order() {
        let h = harness(3).await;
        let token = h.access_token("ann").await;
        h.fake.fail_next(
            Endpoint::Listings,
            [
                Failure::ServerError(503),
                Failure::RateLimited { reset_in_secs: 30 },
                Failure::ExpiredToken,
            ],
        );
        let path = h.listings_path("ann", "limit=10");
        let (status, _, body) = h.get(&path, &token).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body["error"].is_string());
        let (status, headers, _) = h.get(&path, &token).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(headers[header::RETRY_AFTER], "30");
        assert_eq!(headers["x-remaining-today"], "0");
        let (status, _, body) = h.get(&path, &token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"], "invalid_token");
        assert_eq!(h.get(&path, &token).await.0, StatusCode::OK);
        assert_eq!(h.fake.request_count(Endpoint::Listings), 4);

        h.fake
            .fail_next(Endpoint::Token, [Failure::ServerError(500)]);
        let (status, body) = h
            .token(&[("grant_type", "refresh_token"), ("client_id", KEYSTRING)])
            .await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"], "server_error");
    }

    #[tokio::test]
    async fn the_consent_page_shows_the_scopes_and_allowing_redirects_with_a_code() {
        let h = harness(1).await;
        let page = h.http.get(h.authorize_url()).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("<code>listings_r</code>"));
        let challenge = s256(VERIFIER);
        let decided = h
            .http
            .post(h.authorize_url())
            .form(&[
                ("response_type", "code"),
                ("client_id", KEYSTRING),
                ("redirect_uri", REDIRECT),
                ("scope", SCOPES),
                ("state", "st4te"),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
                ("username", "ann"),
                ("decision", "allow"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(decided.status(), StatusCode::FOUND);
        let location = decided.headers()[header::LOCATION].to_str().unwrap();
        assert!(location.starts_with(REDIRECT) && location.contains("code="));
        assert!(h.fake.shop_id("ann").is_some());
    }

    #[tokio::test]
    async fn the_control_page_arms_failures_and_acts_on_every_shop() {
        let h = harness(3).await;
        let token = h.access_token("ann").await;
        let control = format!("{}/_control", h.base);
        let arm =
            |failure: &'static str| h.http.post(&control).form(&[("failure", failure)]).send();
        assert_eq!(
            arm("server_error").await.unwrap().status(),
            StatusCode::SEE_OTHER
        );
        let html = h
            .http
            .get(&control)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("1 failure(s) armed."));
        assert!(html.contains("AnnStudio"));
        let path = h.listings_path("ann", "state=active&limit=100");
        assert_eq!(
            h.get(&path, &token).await.0,
            StatusCode::SERVICE_UNAVAILABLE
        );

        // The first product starts sold out; restock it so selling it out shows.
        let first = h
            .fake
            .with_catalogue("ann", |c| {
                let first = c.id_at(0).unwrap();
                c.restock(first, 4, h.fake.now());
                first
            })
            .unwrap();
        assert!(ids_of(&h.get(&path, &token).await.2).contains(&first));
        arm(SELL_OUT_FIRST).await.unwrap();
        assert!(!ids_of(&h.get(&path, &token).await.2).contains(&first));

        arm(REVOKE_ALL).await.unwrap();
        assert_eq!(h.get(&path, &token).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(
            arm("no_such_failure").await.unwrap().status(),
            StatusCode::BAD_REQUEST
        );
    }
}
