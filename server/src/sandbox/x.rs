//! A local fake of the X API v2 with OAuth 2.0 user context (`shared/platforms.md`, section 4):
//! the consent screen, the token and revoke endpoints, `users/me`, simple media upload, creating
//! a post, a user's recent posts, looking posts up with their metrics, and the public page a
//! published post's link points at.
//!
//! It owns one in-memory world (accounts, codes, tokens, media, posts) behind [`XFake`], a cheap
//! handle tests keep to script failures ([`XFake::fail_next`]) and to look inside ([`XFake::posts`]
//! and the counters). The router has its state baked in, so it can be served at the root (tests)
//! or nested under a prefix such as `/sandbox/x` (`--sandbox`); nothing in it builds an absolute
//! URL to itself.
//!
//! Where X is strict, so is the fake, because a lenient fake would let client bugs through: PKCE
//! S256 is checked, codes are single use and live 30 s, refresh tokens rotate, every API call
//! needs the scopes X documents for it, text is measured with the same weighted-length rule the
//! composer uses ([`app::types::fits_x`]), identical text from one author is refused as duplicate
//! content, and every `/2/` answer carries the rate headers. A post's metrics grow with its age
//! on the fake's clock ([`kit::engagement`](super::kit::engagement)); `non_public_metrics` are
//! shown only to the author's own token and only for posts younger than 30 days, as at X; a
//! lookup asking them of any other post is refused whole (how X words that is not in
//! platforms.md: the refusal is the fake's). Facts platforms.md marks unverified
//! (code lifetime, image size limit) are this fake's defaults. The chunked (video) upload is not
//! faked yet.
//!
//! It trusts whoever reaches it and never logs a token or a code.

#![allow(clippy::result_large_err)] // a fake's errors are whole HTTP answers, made once per refused request

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::body::{Body, Bytes};
// Renamed because this file's own world is called `State`.
use axum::extract::State as Shared;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, RawQuery, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use rand::RngCore as _;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use app::types::fits_x;

use super::kit::engagement::Engagement;
use crate::clock::{SharedClock, SystemClock};

/// X's access tokens live two hours.
const DEFAULT_ACCESS_TOKEN_LIFETIME_SECS: i64 = 7200;
/// "About 30 s" (unverified): short enough that a client which delays the exchange fails here.
const CODE_LIFETIME_SECS: i64 = 30;
/// What X answers as `expires_after_secs` for an uploaded image.
const MEDIA_EXPIRES_AFTER_SECS: i64 = 86_400;
const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
const MAX_GIF_BYTES: usize = 15 * 1024 * 1024;
/// Above the largest accepted file, so an oversized file meets X's 400 rather than axum's 413.
const UPLOAD_BODY_LIMIT: usize = 16 * 1024 * 1024;
const DEFAULT_MEDIA_CATEGORY: &str = "tweet_image";
const MAX_MEDIA_PER_POST: usize = 4;
/// A generous per-endpoint quota: tests that want a 429 script one instead of spending this.
const DEFAULT_RATE_LIMIT: u32 = 300;
const RATE_WINDOW_SECS: i64 = 15 * 60;
const RECENT_POSTS_DEFAULT: usize = 10;
const RECENT_POSTS_MIN: usize = 5;
const RECENT_POSTS_MAX: usize = 100;
/// `GET /2/tweets` takes 1 to 100 ids.
const LOOKUP_MAX_IDS: usize = 100;
/// X shows `non_public_metrics` for posts no older than this.
const NON_PUBLIC_METRICS_DAYS: i64 = 30;
/// Ids look like X's snowflakes, so clients that parse or store them meet realistic values.
const FIRST_ACCOUNT_ID: u64 = 1_000_000_000_000_000_001;
const FIRST_POST_ID: u64 = 1_800_000_000_000_000_001;
const FIRST_MEDIA_ID: u64 = 1_870_000_000_000_000_001;
/// base64url without padding of a SHA-256 digest.
const S256_CHALLENGE_LEN: usize = 43;
const MAX_STATE_LEN: usize = 500;
const MAX_USERNAME_LEN: usize = 15;
const DEFAULT_SANDBOX_USERNAME: &str = "sandbox_user";

/// Every scope X's OAuth 2.0 knows; anything else is refused at the consent screen, which catches
/// a typo in the scopes we ask for.
const KNOWN_SCOPES: &[&str] = &[
    "tweet.read",
    "tweet.write",
    "tweet.moderate.write",
    "users.email",
    "users.read",
    "follows.read",
    "follows.write",
    "offline.access",
    "space.read",
    "mute.read",
    "mute.write",
    "like.read",
    "like.write",
    "list.read",
    "list.write",
    "block.read",
    "block.write",
    "bookmark.read",
    "bookmark.write",
    "dm.read",
    "dm.write",
    "media.write",
];
/// The scopes X's documentation lists for each call.
const USERS_ME_SCOPES: &[&str] = &["tweet.read", "users.read"];
const MEDIA_UPLOAD_SCOPES: &[&str] = &["media.write"];
const CREATE_POST_SCOPES: &[&str] = &["tweet.read", "tweet.write", "users.read"];
const RECENT_POSTS_SCOPES: &[&str] = &["tweet.read", "users.read"];
const LOOKUP_SCOPES: &[&str] = &["tweet.read", "users.read"];

const ABOUT_BLANK: &str = "about:blank";
const INVALID_REQUEST_TYPE: &str = "https://api.twitter.com/2/problems/invalid-request";
const USAGE_CAPPED_TYPE: &str = "https://api.twitter.com/2/problems/usage-capped";
const DUPLICATE_CONTENT: &str = "You are not allowed to create a Tweet with duplicate content.";

/// The fake's API endpoints, for scripting failures and counting requests. The consent screen and
/// the post page are pages, not API calls, so they are not among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST /2/oauth2/token`, both grant types.
    Token,
    /// `POST /2/oauth2/revoke`.
    Revoke,
    /// `GET /2/users/me`.
    UsersMe,
    /// `POST /2/media/upload`.
    MediaUpload,
    /// `POST /2/tweets`.
    CreatePost,
    /// `GET /2/users/{id}/tweets`.
    RecentPosts,
    /// `GET /2/tweets?ids=..`: posts looked up, with their metrics.
    LookupPosts,
}

/// What one request to an endpoint meets instead of, or on top of, the normal answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// This status (503 when the number is not a 5xx) with a "Service Unavailable" problem.
    ServerError(u16),
    /// 429 with `x-rate-limit-remaining: 0` and `x-rate-limit-reset` this many seconds ahead.
    RateLimited { reset_in_secs: i64 },
    /// Wait this long, then answer normally.
    Slow(Duration),
    /// Do the work (create the post), then answer 201 with a body that breaks off, so the client
    /// cannot learn the result. Other endpoints also do their work and lose the answer: a refresh
    /// whose answer is lost has still spent the old refresh token.
    CreatedThenDropped,
    /// Do the work, then wait this long before answering (a client timeout leaves the outcome
    /// unknown).
    CreatedThenSlow(Duration),
    /// The 401 of an expired access token; on `Token`, 400 `invalid_grant`.
    ExpiredToken,
    /// 400 invalid-request problem with this message; on `Token` and `Revoke`, 400
    /// `invalid_request` with it as the description.
    Validation(String),
    /// X's 429 for a spent monthly usage cap.
    UsageCapped,
}

/// A post as the fake stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakePost {
    pub id: String,
    pub author_id: String,
    pub author_username: String,
    pub text: String,
    pub media_ids: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// An uploaded file as the fake stored it (only its size: the bytes are not kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeMedia {
    pub id: String,
    pub owner_id: String,
    pub category: String,
    pub size_bytes: usize,
    pub expires_at: DateTime<Utc>,
}

/// A handle on one fake X that knows one confidential app. Clones share the same world.
#[derive(Clone)]
pub struct XFake {
    state: Arc<Mutex<State>>,
    clock: SharedClock,
}

impl fmt::Debug for XFake {
    // The world holds tokens; printing them would gain a failing test nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XFake").finish_non_exhaustive()
    }
}

impl XFake {
    /// A fake X whose one registered app has these credentials, telling the real time.
    pub fn new(client_id: &str, client_secret: &str) -> Self {
        Self::with_clock(client_id, client_secret, Arc::new(SystemClock))
    }

    /// As [`XFake::new`], telling time by `clock`: a `ManualClock` lets a test expire codes,
    /// tokens and media without waiting. (`Slow` failures still sleep in real time.)
    pub fn with_clock(client_id: &str, client_secret: &str, clock: SharedClock) -> Self {
        Self {
            state: Arc::new(Mutex::new(State::new(client_id, client_secret))),
            clock,
        }
    }

    /// All the fake's routes, relative to wherever the router is served or nested.
    pub fn router(&self) -> Router {
        Router::new()
            .route(
                "/i/oauth2/authorize",
                get(show_consent).post(record_decision),
            )
            .route("/2/oauth2/token", post(exchange_token))
            .route("/2/oauth2/revoke", post(revoke_token))
            .route("/2/users/me", get(users_me))
            .route("/2/users/{id}/tweets", get(recent_posts))
            .route(
                "/2/media/upload",
                post(upload_media).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
            )
            .route("/2/tweets", get(lookup_posts).post(create_post))
            .route("/sandbox.css", get(stylesheet))
            .route("/_control", get(show_control).post(arm_control))
            // Three segments like `/2/users/me`, but "users" is not "status": no overlap.
            .route("/{username}/status/{id}", get(show_post))
            .with_state(self.clone())
    }

    /// How long access tokens issued from now on live (default 7200 s; 0 or less issues tokens
    /// that are already expired).
    pub fn set_access_token_lifetime(&self, secs: i64) {
        self.lock().access_token_lifetime_secs = secs;
    }

    /// Requests each endpoint accepts per 15-minute window before it answers 429 (default 300).
    pub fn set_rate_limit(&self, requests_per_window: u32) {
        self.lock().rate_limit = requests_per_window;
    }

    /// Every access and refresh token the fake ever issued: tests look for them where they
    /// must never appear (logs, pages, API answers).
    pub fn issued_tokens(&self) -> Vec<String> {
        let state = self.lock();
        state
            .access_tokens
            .keys()
            .chain(state.refresh_tokens.keys())
            .cloned()
            .collect()
    }

    /// How long every API answer takes (default none): a stand-in for the network and X's own
    /// work, for benchmarks.
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// Queues `failures` for `endpoint`: each later request to it takes the next one, in order.
    pub fn fail_next(&self, endpoint: Endpoint, failures: impl IntoIterator<Item = Failure>) {
        // Collected first, so a caller's iterator never runs while the world is locked.
        let failures: Vec<Failure> = failures.into_iter().collect();
        self.lock()
            .failures
            .entry(endpoint)
            .or_default()
            .extend(failures);
    }

    /// What the user revoking the app at X does: every access and refresh token of that account
    /// stops working. Not counted by [`XFake::revoked_count`], which counts API revocations.
    pub fn revoke_all_tokens_of(&self, username: &str) {
        self.lock().revoke_account(username);
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
        let without_fragment = authorize_url.split('#').next().unwrap_or_default();
        let (path, query) = without_fragment
            .split_once('?')
            .unwrap_or((without_fragment, ""));
        if !path.ends_with("/i/oauth2/authorize") {
            return Err(format!(
                "{path} is not X's authorize endpoint (/i/oauth2/authorize)."
            ));
        }
        let mut params = parse_form(query);
        params.insert("username".to_owned(), username.to_owned());
        params.insert("decision".to_owned(), "allow".to_owned());
        let now = self.now();
        self.lock().decide(&params, now)
    }

    /// Every post created so far, oldest first.
    pub fn posts(&self) -> Vec<FakePost> {
        self.lock().posts.clone()
    }

    pub fn post_count(&self) -> usize {
        self.lock().posts.len()
    }

    /// Every file uploaded so far, oldest first.
    pub fn media(&self) -> Vec<FakeMedia> {
        self.lock().media.clone()
    }

    pub fn media_count(&self) -> usize {
        self.lock().media.len()
    }

    /// The id of the sandbox account with this username (case-insensitive, as at X), once it
    /// has authorized the app.
    pub fn account_id(&self, username: &str) -> Option<String> {
        self.lock()
            .account_named(username)
            .map(|account| account.id.clone())
    }

    /// Requests that reached `endpoint`, whatever they were answered.
    pub fn request_count(&self, endpoint: Endpoint) -> usize {
        self.lock().requests.get(&endpoint).copied().unwrap_or(0)
    }

    /// Token requests with `grant_type=authorization_code`, whatever they were answered.
    pub fn code_exchange_count(&self) -> usize {
        self.lock().code_exchanges
    }

    /// Token requests with `grant_type=refresh_token`, whatever they were answered.
    pub fn refresh_count(&self) -> usize {
        self.lock().refreshes
    }

    /// Revoke requests that were answered `{"revoked":true}`.
    pub fn revoked_count(&self) -> usize {
        self.lock().revocations
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A test that panicked mid-request must not turn every later request into a panic.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Runs one API request: counts it against the rate window, applies the next scripted
    /// failure for `endpoint` around `work`, and stamps the rate headers on whatever answers.
    async fn answer(&self, endpoint: Endpoint, work: impl Future<Output = Response>) -> Response {
        let now = self.now().timestamp();
        let (rate, failure, latency) = {
            let mut state = self.lock();
            let (rate, failure) = state.begin_request(endpoint, now);
            (rate, failure, state.latency)
        };
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let plan = if rate.exceeded {
            Plan::Respond(too_many_requests(rate.reset_at))
        } else if let Some(failure) = failure {
            tracing::debug!(?endpoint, ?failure, "sandbox x: scripted failure");
            plan_for(endpoint, failure, now)
        } else {
            Plan::Proceed
        };
        let mut response = match plan {
            Plan::Proceed => work.await,
            Plan::Respond(response) => response,
            Plan::DelayThenProceed(delay) => {
                tokio::time::sleep(delay).await;
                work.await
            }
            Plan::ProceedThenLoseAnswer => lose_body(work.await),
            Plan::ProceedThenDelay(delay) => {
                let response = work.await;
                tokio::time::sleep(delay).await;
                response
            }
        };
        stamp_rate_headers(response.headers_mut(), rate);
        response
    }

    fn authenticate(&self, headers: &HeaderMap, scopes: &[&str]) -> Result<Account, Response> {
        let now = self.now();
        self.lock().authenticate(headers, scopes, now)
    }

    /// The upload's work: the token is checked before the body is read, as X does.
    async fn receive_upload(&self, request: Request) -> Response {
        let uploader = match self.authenticate(request.headers(), MEDIA_UPLOAD_SCOPES) {
            Ok(account) => account,
            Err(refusal) => return refusal,
        };
        let upload = match read_upload(request).await {
            Ok(upload) => upload,
            Err(refusal) => return refusal,
        };
        let now = self.now();
        self.lock().store_media(&uploader, upload, now)
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers: parse the request, hand the work to `XFake::answer`.

async fn show_consent(Shared(fake): Shared<XFake>, RawQuery(query): RawQuery) -> Response {
    let params = parse_form(query.as_deref().unwrap_or_default());
    let checked = fake.lock().authorize_request(&params);
    match checked {
        Ok(request) => Html(consent_page(&request)).into_response(),
        Err(problem) => refusal_page(&problem),
    }
}

async fn record_decision(Shared(fake): Shared<XFake>, body: Bytes) -> Response {
    let params = parse_form(&String::from_utf8_lossy(&body));
    let now = fake.now();
    let outcome = fake.lock().decide(&params, now);
    match outcome {
        Ok(location) => found(&location),
        Err(problem) => refusal_page(&problem),
    }
}

async fn exchange_token(Shared(fake): Shared<XFake>, headers: HeaderMap, body: Bytes) -> Response {
    let params = parse_form(&String::from_utf8_lossy(&body));
    fake.lock()
        .count_grant(params.get("grant_type").map(String::as_str));
    fake.answer(Endpoint::Token, async {
        let now = fake.now();
        fake.lock().exchange(&headers, &params, now)
    })
    .await
}

async fn revoke_token(Shared(fake): Shared<XFake>, headers: HeaderMap, body: Bytes) -> Response {
    let params = parse_form(&String::from_utf8_lossy(&body));
    fake.answer(Endpoint::Revoke, async {
        fake.lock().revoke(&headers, &params)
    })
    .await
}

async fn users_me(
    Shared(fake): Shared<XFake>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = parse_form(query.as_deref().unwrap_or_default());
    fake.answer(Endpoint::UsersMe, async {
        let now = fake.now();
        fake.lock().me(&headers, &query, now)
    })
    .await
}

async fn upload_media(Shared(fake): Shared<XFake>, request: Request) -> Response {
    fake.answer(Endpoint::MediaUpload, fake.receive_upload(request))
        .await
}

async fn create_post(Shared(fake): Shared<XFake>, headers: HeaderMap, body: Bytes) -> Response {
    fake.answer(Endpoint::CreatePost, async {
        let now = fake.now();
        fake.lock().create_post(&headers, &body, now)
    })
    .await
}

async fn recent_posts(
    Shared(fake): Shared<XFake>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = parse_form(query.as_deref().unwrap_or_default());
    fake.answer(Endpoint::RecentPosts, async {
        let now = fake.now();
        fake.lock().recent_posts(&headers, &user_id, &query, now)
    })
    .await
}

async fn lookup_posts(
    Shared(fake): Shared<XFake>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = parse_form(query.as_deref().unwrap_or_default());
    fake.answer(Endpoint::LookupPosts, async {
        let now = fake.now();
        fake.lock().lookup_posts(&headers, &query, now)
    })
    .await
}

async fn show_post(
    Shared(fake): Shared<XFake>,
    Path((username, id)): Path<(String, String)>,
) -> Response {
    let shown = fake.lock().find_post(&username, &id);
    match shown {
        Some((post, author)) => Html(post_page(&post, &author)).into_response(),
        None => (StatusCode::NOT_FOUND, Html(missing_post_page())).into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// The world.

/// Query or form parameters, decoded; the first of repeated names wins.
type Params = HashMap<String, String>;

#[derive(Debug)]
struct State {
    client_id: String,
    client_secret: String,
    access_token_lifetime_secs: i64,
    rate_limit: u32,
    latency: Duration,
    accounts: Vec<Account>,
    next_account_id: u64,
    codes: HashMap<String, IssuedCode>,
    access_tokens: HashMap<String, AccessToken>,
    refresh_tokens: HashMap<String, RefreshToken>,
    media: Vec<FakeMedia>,
    next_media_id: u64,
    posts: Vec<FakePost>,
    /// (author id, text) of every post: the duplicate-content check, without a scan.
    texts: HashSet<(String, String)>,
    next_post_id: u64,
    failures: HashMap<Endpoint, VecDeque<Failure>>,
    /// How far ahead of the clock posts' numbers are read (the control page's fast-forward),
    /// so a person trying the Analytics page sees what days of engagement look like now.
    numbers_ahead: TimeDelta,
    requests: HashMap<Endpoint, usize>,
    windows: HashMap<Endpoint, RateWindow>,
    code_exchanges: usize,
    refreshes: usize,
    revocations: usize,
}

#[derive(Debug, Clone)]
struct Account {
    id: String,
    username: String,
    name: String,
}

impl Account {
    /// A picture that needs no network: the account's initial on a colour of its own, as an
    /// SVG data URL (real X answers with a `pbs.twimg.com` address).
    fn profile_image_url(&self) -> String {
        let initial = self
            .username
            .chars()
            .next()
            .map_or('?', |c| c.to_ascii_uppercase());
        let hue = self.username.bytes().fold(0u32, |sum, byte| {
            sum.wrapping_mul(31).wrapping_add(u32::from(byte))
        }) % 360;
        let svg = format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48"><rect width="48" height="48" rx="24" fill="hsl({hue},55%,45%)"/><text x="24" y="31" font-family="sans-serif" font-size="22" text-anchor="middle" fill="#fff">{initial}</text></svg>"##
        );
        format!("data:image/svg+xml;base64,{}", STANDARD.encode(svg))
    }
}

/// What a token stands for: an account and the scopes it granted.
#[derive(Debug, Clone)]
struct Grant {
    account_id: String,
    scope: String,
}

#[derive(Debug)]
struct IssuedCode {
    request: AuthorizeRequest,
    account_id: String,
    expires_at: DateTime<Utc>,
    spent: bool,
}

#[derive(Debug)]
struct AccessToken {
    grant: Grant,
    expires_at: DateTime<Utc>,
    revoked: bool,
}

#[derive(Debug)]
struct RefreshToken {
    grant: Grant,
    /// Used once: rotation issued its successor.
    spent: bool,
    revoked: bool,
}

#[derive(Debug, Clone, Copy)]
struct RateWindow {
    started_at: i64,
    used: u32,
}

/// What the rate headers say after one request.
#[derive(Debug, Clone, Copy)]
struct RateStatus {
    limit: u32,
    remaining: u32,
    reset_at: i64,
    exceeded: bool,
}

/// The parts of a simple upload the fake looks at.
#[derive(Debug)]
struct Upload {
    size_bytes: Option<usize>,
    category: Option<String>,
}

/// The body of `POST /2/tweets`; fields the fake does not check (`reply`, ...) are ignored.
#[derive(Debug, Deserialize)]
struct NewPost {
    text: Option<String>,
    media: Option<NewPostMedia>,
}

#[derive(Debug, Deserialize)]
struct NewPostMedia {
    #[serde(default)]
    media_ids: Vec<String>,
}

impl State {
    fn new(client_id: &str, client_secret: &str) -> Self {
        Self {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            access_token_lifetime_secs: DEFAULT_ACCESS_TOKEN_LIFETIME_SECS,
            rate_limit: DEFAULT_RATE_LIMIT,
            latency: Duration::ZERO,
            accounts: Vec::new(),
            next_account_id: FIRST_ACCOUNT_ID,
            codes: HashMap::new(),
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            media: Vec::new(),
            next_media_id: FIRST_MEDIA_ID,
            posts: Vec::new(),
            texts: HashSet::new(),
            next_post_id: FIRST_POST_ID,
            failures: HashMap::new(),
            numbers_ahead: TimeDelta::zero(),
            requests: HashMap::new(),
            windows: HashMap::new(),
            code_exchanges: 0,
            refreshes: 0,
            revocations: 0,
        }
    }

    /// Counts a request, spends one unit of its endpoint's window and takes its next scripted
    /// failure (left queued when the window is spent: the 429 comes first).
    fn begin_request(&mut self, endpoint: Endpoint, now: i64) -> (RateStatus, Option<Failure>) {
        *self.requests.entry(endpoint).or_default() += 1;
        let window = self.windows.entry(endpoint).or_insert(RateWindow {
            started_at: now,
            used: 0,
        });
        if now >= window.started_at + RATE_WINDOW_SECS {
            *window = RateWindow {
                started_at: now,
                used: 0,
            };
        }
        window.used = window.used.saturating_add(1);
        let rate = RateStatus {
            limit: self.rate_limit,
            remaining: self.rate_limit.saturating_sub(window.used),
            reset_at: window.started_at + RATE_WINDOW_SECS,
            exceeded: window.used > self.rate_limit,
        };
        let failure = if rate.exceeded {
            None
        } else {
            self.failures
                .get_mut(&endpoint)
                .and_then(VecDeque::pop_front)
        };
        (rate, failure)
    }

    fn count_grant(&mut self, grant_type: Option<&str>) {
        match grant_type {
            Some("authorization_code") => self.code_exchanges += 1,
            Some("refresh_token") => self.refreshes += 1,
            _ => {}
        }
    }

    // --- Consent -----------------------------------------------------------------------------

    fn authorize_request(&self, params: &Params) -> Result<AuthorizeRequest, String> {
        AuthorizeRequest::parse(params, &self.client_id)
    }

    /// The consent's outcome, as the URL X would redirect the browser to. Shared by the form
    /// handler and [`XFake::authorize_directly`], so both check exactly the same things.
    fn decide(&mut self, params: &Params, now: DateTime<Utc>) -> Result<String, String> {
        let request = self.authorize_request(params)?;
        match params.get("decision").map(String::as_str) {
            Some("allow") => {
                let username = params.get("username").map_or("", |name| name.trim());
                check_username(username)?;
                let account = self.account_for(username);
                let code = random_token();
                let location = with_query(
                    &request.redirect_uri,
                    &[("code", code.as_str()), ("state", request.state.as_str())],
                );
                self.codes.insert(
                    code,
                    IssuedCode {
                        request,
                        account_id: account.id,
                        expires_at: now + TimeDelta::seconds(CODE_LIFETIME_SECS),
                        spent: false,
                    },
                );
                Ok(location)
            }
            Some("deny") => Ok(with_query(
                &request.redirect_uri,
                &[
                    ("error", "access_denied"),
                    ("state", request.state.as_str()),
                ],
            )),
            _ => Err("decision must be \"allow\" or \"deny\".".to_owned()),
        }
    }

    fn account_named(&self, username: &str) -> Option<&Account> {
        self.accounts
            .iter()
            .find(|account| account.username.eq_ignore_ascii_case(username))
    }

    /// The sandbox account with this username, created on first consent with a stable id.
    fn account_for(&mut self, username: &str) -> Account {
        if let Some(account) = self.account_named(username) {
            return account.clone();
        }
        let account = Account {
            id: next_id(&mut self.next_account_id),
            username: username.to_owned(),
            name: display_name(username),
        };
        self.accounts.push(account.clone());
        account
    }

    // --- Tokens ------------------------------------------------------------------------------

    fn exchange(&mut self, headers: &HeaderMap, params: &Params, now: DateTime<Utc>) -> Response {
        if !self.is_own_client(headers) {
            return invalid_client();
        }
        let grant = match params.get("grant_type").map(String::as_str) {
            Some("authorization_code") => self.redeem_code(params, now),
            Some("refresh_token") => self.spend_refresh_token(params),
            Some(_) => Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token.",
            )),
            None => Err(invalid_oauth_request(
                "Missing required parameter [grant_type].",
            )),
        };
        match grant {
            Ok(grant) => self.issue_tokens(grant, now),
            Err(refusal) => refusal,
        }
    }

    /// Whether the request carries `Authorization: Basic base64(client_id:client_secret)`.
    fn is_own_client(&self, headers: &HeaderMap) -> bool {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Basic "))
            .and_then(|encoded| STANDARD.decode(encoded.trim()).ok())
            .and_then(|decoded| String::from_utf8(decoded).ok());
        presented.is_some_and(|credentials| {
            credentials.split_once(':')
                == Some((self.client_id.as_str(), self.client_secret.as_str()))
        })
    }

    /// Spends a live code whose redirect URI and PKCE verifier match the consent it came from.
    fn redeem_code(&mut self, params: &Params, now: DateTime<Utc>) -> Result<Grant, Response> {
        let code = required_oauth(params, "code")?;
        let redirect_uri = required_oauth(params, "redirect_uri")?;
        let verifier = required_oauth(params, "code_verifier")?;
        let issued = self
            .codes
            .get_mut(code)
            .filter(|issued| !issued.spent && now < issued.expires_at)
            .ok_or_else(|| invalid_grant("Value passed for the authorization code was invalid."))?;
        if issued.request.redirect_uri != redirect_uri {
            return Err(invalid_grant(
                "redirect_uri does not match the one the code was issued for.",
            ));
        }
        if params
            .get("client_id")
            .is_some_and(|client_id| *client_id != issued.request.client_id)
        {
            return Err(invalid_grant("The code was issued to another client."));
        }
        if s256(verifier) != issued.request.code_challenge {
            return Err(invalid_grant(
                "code_verifier does not match the code_challenge.",
            ));
        }
        issued.spent = true;
        Ok(Grant {
            account_id: issued.account_id.clone(),
            scope: issued.request.scope.clone(),
        })
    }

    /// Rotation: a live refresh token is spent by its one use; its successor comes with the answer.
    fn spend_refresh_token(&mut self, params: &Params) -> Result<Grant, Response> {
        let token = required_oauth(params, "refresh_token")?;
        let refresh = self
            .refresh_tokens
            .get_mut(token)
            .filter(|refresh| !refresh.spent && !refresh.revoked)
            .ok_or_else(|| invalid_grant("Value passed for the token was invalid."))?;
        refresh.spent = true;
        Ok(refresh.grant.clone())
    }

    fn issue_tokens(&mut self, grant: Grant, now: DateTime<Utc>) -> Response {
        let lifetime = self.access_token_lifetime_secs;
        let access_token = random_token();
        let mut body = json!({
            "token_type": "bearer",
            "expires_in": lifetime,
            "access_token": access_token,
            "scope": grant.scope,
        });
        // X issues a refresh token only to apps that asked for offline access.
        if has_scope(&grant.scope, "offline.access") {
            let refresh_token = random_token();
            body["refresh_token"] = Value::from(refresh_token.as_str());
            self.refresh_tokens.insert(
                refresh_token,
                RefreshToken {
                    grant: grant.clone(),
                    spent: false,
                    revoked: false,
                },
            );
        }
        self.access_tokens.insert(
            access_token,
            AccessToken {
                grant,
                expires_at: now + TimeDelta::seconds(lifetime),
                revoked: false,
            },
        );
        Json(body).into_response()
    }

    /// Revokes the token whichever kind it is (`token_type_hint` is only a hint). An unknown
    /// token is still answered `revoked: true`, as OAuth revocation (RFC 7009) prescribes.
    fn revoke(&mut self, headers: &HeaderMap, params: &Params) -> Response {
        if !self.is_own_client(headers) {
            return invalid_client();
        }
        let token = match required_oauth(params, "token") {
            Ok(token) => token,
            Err(refusal) => return refusal,
        };
        if let Some(access) = self.access_tokens.get_mut(token) {
            access.revoked = true;
        }
        if let Some(refresh) = self.refresh_tokens.get_mut(token) {
            refresh.revoked = true;
        }
        self.revocations += 1;
        Json(json!({ "revoked": true })).into_response()
    }

    fn revoke_account(&mut self, username: &str) {
        let Some(account_id) = self
            .account_named(username)
            .map(|account| account.id.clone())
        else {
            return;
        };
        for access in self.access_tokens.values_mut() {
            if access.grant.account_id == account_id {
                access.revoked = true;
            }
        }
        for refresh in self.refresh_tokens.values_mut() {
            if refresh.grant.account_id == account_id {
                refresh.revoked = true;
            }
        }
    }

    /// The account behind a live bearer token carrying `scopes`, or X's 401 (missing, unknown,
    /// revoked or expired token: X does not say which) or a 403 for a missing scope.
    fn authenticate(
        &self,
        headers: &HeaderMap,
        scopes: &[&str],
        now: DateTime<Utc>,
    ) -> Result<Account, Response> {
        let token = bearer_token(headers).ok_or_else(unauthorized)?;
        let access = self
            .access_tokens
            .get(token)
            .filter(|access| !access.revoked && now < access.expires_at)
            .ok_or_else(unauthorized)?;
        if let Some(missing) = scopes
            .iter()
            .find(|scope| !has_scope(&access.grant.scope, scope))
        {
            return Err(problem(
                StatusCode::FORBIDDEN,
                "Forbidden",
                &format!("The access token was not granted the {missing} scope."),
                ABOUT_BLANK,
            ));
        }
        self.accounts
            .iter()
            .find(|account| account.id == access.grant.account_id)
            .cloned()
            .ok_or_else(unauthorized)
    }

    // --- API ---------------------------------------------------------------------------------

    fn me(&self, headers: &HeaderMap, query: &Params, now: DateTime<Utc>) -> Response {
        let account = match self.authenticate(headers, USERS_ME_SCOPES, now) {
            Ok(account) => account,
            Err(refusal) => return refusal,
        };
        let mut data = json!({
            "id": account.id,
            "name": account.name,
            "username": account.username,
        });
        if field_requested(query, "user.fields", "profile_image_url") {
            data["profile_image_url"] = Value::from(account.profile_image_url());
        }
        Json(json!({ "data": data })).into_response()
    }

    fn store_media(&mut self, owner: &Account, upload: Upload, now: DateTime<Utc>) -> Response {
        let Some(size) = upload.size_bytes else {
            return invalid_request("The media field is required.", json!({ "media": [] }));
        };
        let category = upload
            .category
            .unwrap_or_else(|| DEFAULT_MEDIA_CATEGORY.to_owned());
        let Some(limit) = size_limit(&category) else {
            return invalid_request(
                &format!(
                    "media_category {category} cannot be sent in one request; use the chunked upload."
                ),
                json!({ "media_category": [category] }),
            );
        };
        if size == 0 || size > limit {
            return invalid_request(
                &format!(
                    "File size must be between 1 and {limit} bytes for {category}; it is {size}."
                ),
                json!({ "media": [] }),
            );
        }
        let id = next_id(&mut self.next_media_id);
        let media_key = format!("{}_{id}", media_key_prefix(&category));
        self.media.push(FakeMedia {
            id: id.clone(),
            owner_id: owner.id.clone(),
            category,
            size_bytes: size,
            expires_at: now + TimeDelta::seconds(MEDIA_EXPIRES_AFTER_SECS),
        });
        Json(json!({
            "data": {
                "id": id,
                "media_key": media_key,
                "expires_after_secs": MEDIA_EXPIRES_AFTER_SECS,
            }
        }))
        .into_response()
    }

    fn create_post(&mut self, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>) -> Response {
        let author = match self.authenticate(headers, CREATE_POST_SCOPES, now) {
            Ok(account) => account,
            Err(refusal) => return refusal,
        };
        let request: NewPost = match serde_json::from_slice(body) {
            Ok(request) => request,
            Err(error) => {
                return invalid_request(
                    &format!("The body is not a valid post: {error}"),
                    json!({}),
                );
            }
        };
        let text = request.text.unwrap_or_default();
        let media_ids = request
            .media
            .map(|media| media.media_ids)
            .unwrap_or_default();
        if let Err(refusal) = self.check_new_post(&author, &text, &media_ids, now) {
            return refusal;
        }
        let post = self.store_post(&author, text, media_ids, now);
        let data = json!({ "id": post.id, "text": post.text, "edit_history_tweet_ids": [post.id] });
        (StatusCode::CREATED, Json(json!({ "data": data }))).into_response()
    }

    /// X's checks on a new post, in X's order; the first that fails is the answer.
    fn check_new_post(
        &self,
        author: &Account,
        text: &str,
        media_ids: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), Response> {
        check_text(text, media_ids)?;
        self.check_media(author, media_ids, now)?;
        // X's dedupe is on identical text only (platforms.md); a media-only post has none.
        let duplicate =
            !text.trim().is_empty() && self.texts.contains(&(author.id.clone(), text.to_owned()));
        if duplicate {
            return Err(problem(
                StatusCode::FORBIDDEN,
                "Forbidden",
                DUPLICATE_CONTENT,
                ABOUT_BLANK,
            ));
        }
        Ok(())
    }

    /// At most four items; each one uploaded by this author and not expired; a GIF alone.
    fn check_media(
        &self,
        owner: &Account,
        media_ids: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), Response> {
        if media_ids.len() > MAX_MEDIA_PER_POST {
            return Err(invalid_request(
                &format!(
                    "Your media IDs are invalid: a Tweet may have a maximum of {MAX_MEDIA_PER_POST} items."
                ),
                json!({ "media.media_ids": media_ids }),
            ));
        }
        let mut animated = false;
        for id in media_ids {
            let Some(media) = self.media.iter().find(|media| {
                media.id == *id && media.owner_id == owner.id && now < media.expires_at
            }) else {
                return Err(invalid_request(
                    "Your media IDs are invalid.",
                    json!({ "media.media_ids": [id] }),
                ));
            };
            animated |= media.category.ends_with("_gif");
        }
        if animated && media_ids.len() > 1 {
            return Err(invalid_request(
                "Your media IDs are invalid: a GIF must be a Tweet's only media item.",
                json!({ "media.media_ids": media_ids }),
            ));
        }
        Ok(())
    }

    fn store_post(
        &mut self,
        author: &Account,
        text: String,
        media_ids: Vec<String>,
        now: DateTime<Utc>,
    ) -> FakePost {
        let post = FakePost {
            id: next_id(&mut self.next_post_id),
            author_id: author.id.clone(),
            author_username: author.username.clone(),
            text,
            media_ids,
            created_at: now,
        };
        self.texts
            .insert((post.author_id.clone(), post.text.clone()));
        self.posts.push(post.clone());
        post
    }

    /// The author's posts, newest first (posts are stored in creation order).
    fn recent_posts(
        &self,
        headers: &HeaderMap,
        user_id: &str,
        query: &Params,
        now: DateTime<Utc>,
    ) -> Response {
        let reader = match self.authenticate(headers, RECENT_POSTS_SCOPES, now) {
            Ok(account) => account,
            Err(refusal) => return refusal,
        };
        if reader.id != user_id {
            return problem(
                StatusCode::FORBIDDEN,
                "Forbidden",
                "Sandbox X shows a user's posts only to that user's own token.",
                ABOUT_BLANK,
            );
        }
        let max_results = match max_results(query) {
            Ok(max_results) => max_results,
            Err(refusal) => return refusal,
        };
        let start_time = match query.get("start_time") {
            None => None,
            Some(raw) => match DateTime::parse_from_rfc3339(raw) {
                Ok(at) => Some(at.with_timezone(&Utc)),
                Err(_) => {
                    return invalid_request(
                        &format!(
                            "Invalid 'start_time':'{raw}'. 'start_time' must be a valid RFC 3339 timestamp."
                        ),
                        json!({ "start_time": [raw] }),
                    );
                }
            },
        };
        // The token is the id of the newest post of the page it asks for, as opaque to the
        // client as X's.
        let before = query.get("pagination_token").cloned();
        let with_created_at = field_requested(query, "tweet.fields", "created_at");
        let mut matching = self
            .posts
            .iter()
            .rev()
            .filter(|post| post.author_id == user_id)
            .filter(|post| start_time.is_none_or(|start| post.created_at >= start))
            .skip_while(|post| before.as_ref().is_some_and(|token| post.id != *token));
        let posts: Vec<&FakePost> = matching.by_ref().take(max_results).collect();
        let next = matching.next();
        let (Some(newest), Some(oldest)) = (posts.first(), posts.last()) else {
            return Json(json!({ "meta": { "result_count": 0 } })).into_response();
        };
        let data: Vec<Value> = posts
            .iter()
            .map(|post| post_json(post, with_created_at))
            .collect();
        let mut meta = json!({
            "result_count": posts.len(),
            "newest_id": newest.id,
            "oldest_id": oldest.id,
        });
        if let Some(next) = next {
            meta["next_token"] = Value::from(next.id.as_str());
        }
        Json(json!({ "data": data, "meta": meta })).into_response()
    }

    /// The posts named by `ids`, with the fields asked for: the ones found under `data`, the
    /// others under `errors`, as X answers a lookup that finds some. Asking for
    /// `non_public_metrics` of a post that is not the reader's own, or older than 30 days,
    /// refuses the whole lookup (403).
    fn lookup_posts(&self, headers: &HeaderMap, query: &Params, now: DateTime<Utc>) -> Response {
        let reader = match self.authenticate(headers, LOOKUP_SCOPES, now) {
            Ok(account) => account,
            Err(refusal) => return refusal,
        };
        let raw = query.get("ids").map(String::as_str).unwrap_or_default();
        let ids: Vec<&str> = raw
            .split(',')
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .collect();
        if ids.is_empty() || ids.len() > LOOKUP_MAX_IDS {
            return invalid_request(
                &format!(
                    "The `ids` query parameter value [{raw}] must name 1 to {LOOKUP_MAX_IDS} posts."
                ),
                json!({ "ids": [raw] }),
            );
        }
        if let Some(bad) = ids
            .iter()
            .find(|id| !id.bytes().all(|b| b.is_ascii_digit()))
        {
            return invalid_request(
                &format!("The `ids` query parameter value [{bad}] is not valid."),
                json!({ "ids": [bad] }),
            );
        }
        let private = field_requested(query, "tweet.fields", "non_public_metrics");
        let public = field_requested(query, "tweet.fields", "public_metrics");
        let with_created_at = field_requested(query, "tweet.fields", "created_at");
        let mut data = Vec::new();
        let mut errors = Vec::new();
        for id in ids {
            let Some(post) = self.posts.iter().find(|post| post.id == id) else {
                errors.push(json!({
                    "value": id,
                    "detail": format!("Could not find tweet with ids: [{id}]."),
                    "title": "Not Found Error",
                    "resource_type": "tweet",
                    "parameter": "ids",
                    "resource_id": id,
                    "type": "https://api.twitter.com/2/problems/resource-not-found",
                }));
                continue;
            };
            let young = now - post.created_at <= TimeDelta::days(NON_PUBLIC_METRICS_DAYS);
            if private && (post.author_id != reader.id || !young) {
                return problem(
                    StatusCode::FORBIDDEN,
                    "Forbidden",
                    &format!(
                        "Sorry, you are not authorized to access 'non_public_metrics' on the Tweet with ids: [{id}]."
                    ),
                    ABOUT_BLANK,
                );
            }
            let mut json = post_json(post, with_created_at);
            let numbers = Engagement::of(&post.id, post.created_at, now + self.numbers_ahead);
            if public {
                // Quotes are a small part of what X counts as passed on.
                let quotes = numbers.shares / 4;
                json["public_metrics"] = json!({
                    "retweet_count": numbers.shares - quotes,
                    "reply_count": numbers.comments,
                    "like_count": numbers.likes,
                    "quote_count": quotes,
                    "bookmark_count": numbers.likes / 10,
                    "impression_count": numbers.views,
                });
            }
            if private {
                let mut metrics = json!({
                    "impression_count": numbers.views,
                    "user_profile_clicks": numbers.clicks - numbers.link_clicks,
                });
                // X has the field only for a post that carries a link.
                if has_link(&post.text) {
                    metrics["url_link_clicks"] = Value::from(numbers.link_clicks);
                }
                json["non_public_metrics"] = metrics;
            }
            data.push(json);
        }
        let mut body = serde_json::Map::new();
        if !data.is_empty() {
            body.insert("data".to_owned(), Value::Array(data));
        }
        if !errors.is_empty() {
            body.insert("errors".to_owned(), Value::Array(errors));
        }
        Json(Value::Object(body)).into_response()
    }

    /// The post at `/{username}/status/{id}`. Unlike x.com, which shows a post under any
    /// username, the fake insists on the author's, so a link built with the wrong one is caught.
    fn find_post(&self, username: &str, id: &str) -> Option<(FakePost, Account)> {
        let post = self
            .posts
            .iter()
            .find(|post| post.id == id && post.author_username.eq_ignore_ascii_case(username))?;
        let author = self
            .accounts
            .iter()
            .find(|account| account.id == post.author_id)?;
        Some((post.clone(), author.clone()))
    }
}

// ---------------------------------------------------------------------------------------------
// The authorize request.

/// An authorize query that passed X's checks; the fields are what the code remembers.
#[derive(Debug, Clone)]
struct AuthorizeRequest {
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: String,
    code_challenge: String,
}

impl AuthorizeRequest {
    /// Checks an authorize query the way X does before it shows consent. The error is the
    /// sentence the 400 page shows: with a bad client or redirect URI there is nowhere safe to
    /// send the user back to, so nothing here redirects.
    fn parse(params: &Params, known_client_id: &str) -> Result<Self, String> {
        let client_id = required(params, "client_id")?;
        if client_id != known_client_id {
            return Err(format!(
                "client_id \"{client_id}\" is not a registered app."
            ));
        }
        let redirect_uri = required(params, "redirect_uri")?;
        check_redirect_uri(redirect_uri)?;
        if params.get("response_type").map(String::as_str) != Some("code") {
            return Err("response_type must be \"code\".".to_owned());
        }
        if params.get("code_challenge_method").map(String::as_str) != Some("S256") {
            return Err("code_challenge_method must be \"S256\": PKCE is mandatory.".to_owned());
        }
        let code_challenge = required(params, "code_challenge")?;
        check_code_challenge(code_challenge)?;
        let scope = required(params, "scope")?;
        check_scopes(scope)?;
        let state = required(params, "state")?;
        if state.len() > MAX_STATE_LEN {
            return Err(format!("state must be at most {MAX_STATE_LEN} characters."));
        }
        Ok(Self {
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            scope: scope.to_owned(),
            state: state.to_owned(),
            code_challenge: code_challenge.to_owned(),
        })
    }

    /// The query again, for the consent form's hidden fields.
    fn fields(&self) -> [(&'static str, &str); 7] {
        [
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("scope", self.scope.as_str()),
            ("state", self.state.as_str()),
            ("code_challenge", self.code_challenge.as_str()),
            ("code_challenge_method", "S256"),
        ]
    }
}

fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, String> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|value| !value.trim().is_empty())
        .ok_or_else(|| format!("{name} is missing."))
}

fn check_redirect_uri(uri: &str) -> Result<(), String> {
    let absolute = uri.starts_with("https://") || uri.starts_with("http://");
    // It goes back out in a Location header, which takes visible ASCII only.
    let printable = uri.bytes().all(|byte| byte.is_ascii_graphic());
    if absolute && printable && !uri.contains('#') {
        Ok(())
    } else {
        Err("redirect_uri must be an absolute http(s) URL without a fragment.".to_owned())
    }
}

fn check_code_challenge(challenge: &str) -> Result<(), String> {
    let base64url = challenge
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if challenge.len() == S256_CHALLENGE_LEN && base64url {
        Ok(())
    } else {
        Err(format!(
            "code_challenge must be the SHA-256 of the verifier in base64url without padding \
             ({S256_CHALLENGE_LEN} characters)."
        ))
    }
}

fn check_scopes(scope: &str) -> Result<(), String> {
    match scope
        .split_whitespace()
        .find(|scope| !KNOWN_SCOPES.contains(scope))
    {
        Some(unknown) => Err(format!("scope \"{unknown}\" is not an X scope.")),
        None => Ok(()),
    }
}

/// X usernames: 1 to 15 letters, digits or underscores.
fn check_username(username: &str) -> Result<(), String> {
    let valid = (1..=MAX_USERNAME_LEN).contains(&username.len())
        && username
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "The sandbox account name must be 1 to {MAX_USERNAME_LEN} letters, digits or underscores."
        ))
    }
}

fn display_name(username: &str) -> String {
    let mut chars = username.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Small rules.

fn has_scope(granted: &str, wanted: &str) -> bool {
    granted.split_whitespace().any(|scope| scope == wanted)
}

/// Whether a comma-separated fields parameter (`user.fields`, `tweet.fields`) names `field`.
fn field_requested(query: &Params, parameter: &str, field: &str) -> bool {
    query
        .get(parameter)
        .is_some_and(|fields| fields.split(',').any(|name| name.trim() == field))
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|token| !token.is_empty())
}

/// The text rule: weighted length by the composer's own function; blank only with media.
fn check_text(text: &str, media_ids: &[String]) -> Result<(), Response> {
    if text.trim().is_empty() {
        return if media_ids.is_empty() {
            Err(invalid_request(
                "A Tweet needs text or media.",
                json!({ "text": [text] }),
            ))
        } else {
            Ok(())
        };
    }
    if fits_x(text) {
        Ok(())
    } else {
        Err(invalid_request("Your Tweet text is too long.", json!({})))
    }
}

/// Whether a post's text carries a web link.
fn has_link(text: &str) -> bool {
    text.split_whitespace()
        .any(|word| word.starts_with("http://") || word.starts_with("https://"))
}

/// `max_results`: default 10, clamped to 5..=100.
fn max_results(query: &Params) -> Result<usize, Response> {
    let Some(value) = query.get("max_results") else {
        return Ok(RECENT_POSTS_DEFAULT);
    };
    value
        .trim()
        .parse::<usize>()
        .map(|wanted| wanted.clamp(RECENT_POSTS_MIN, RECENT_POSTS_MAX))
        .map_err(|_| {
            invalid_request(
                &format!("The `max_results` query parameter value [{value}] is not a number."),
                json!({ "max_results": [value] }),
            )
        })
}

/// The largest file one simple upload accepts for `category`; `None` when X wants the chunked
/// upload (video).
fn size_limit(category: &str) -> Option<usize> {
    match category {
        "tweet_image" | "dm_image" => Some(MAX_IMAGE_BYTES),
        "tweet_gif" | "dm_gif" => Some(MAX_GIF_BYTES),
        _ => None,
    }
}

/// X's media keys start with the media type: 3 for photos, 16 for animated GIFs.
fn media_key_prefix(category: &str) -> u8 {
    if category.ends_with("_gif") { 16 } else { 3 }
}

async fn read_upload(request: Request) -> Result<Upload, Response> {
    let unreadable = |error: &dyn fmt::Display| {
        invalid_request(
            &format!("The multipart body could not be read: {error}"),
            json!({}),
        )
    };
    let mut multipart = <Multipart as FromRequest<()>>::from_request(request, &())
        .await
        .map_err(|rejection| unreadable(&rejection))?;
    let mut upload = Upload {
        size_bytes: None,
        category: None,
    };
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|error| unreadable(&error))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "media" => {
                let bytes = field.bytes().await.map_err(|error| unreadable(&error))?;
                upload.size_bytes = Some(bytes.len());
            }
            "media_category" => {
                let category = field.text().await.map_err(|error| unreadable(&error))?;
                upload.category = Some(category.trim().to_owned());
            }
            _ => {}
        }
    }
    Ok(upload)
}

fn post_json(post: &FakePost, with_created_at: bool) -> Value {
    let mut json = json!({
        "id": post.id,
        "text": post.text,
        "edit_history_tweet_ids": [post.id],
    });
    if with_created_at {
        json["created_at"] = Value::from(x_timestamp(post.created_at));
    }
    json
}

/// X's timestamps: RFC 3339, milliseconds, `Z`.
fn x_timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn next_id(counter: &mut u64) -> String {
    let id = counter.to_string();
    *counter += 1;
    id
}

/// An opaque token or code: 32 random bytes, base64url.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// PKCE S256: base64url-without-padding of the verifier's SHA-256.
fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

// ---------------------------------------------------------------------------------------------
// Scripted failures and rate headers.

/// How one request is answered, decided before its work runs.
enum Plan {
    Proceed,
    Respond(Response),
    DelayThenProceed(Duration),
    ProceedThenLoseAnswer,
    ProceedThenDelay(Duration),
}

/// The answer a scripted failure stands for. The OAuth endpoints answer in OAuth's error shape,
/// the API in X's problem shape, as the real ones do.
fn plan_for(endpoint: Endpoint, failure: Failure, now: i64) -> Plan {
    let oauth = matches!(endpoint, Endpoint::Token | Endpoint::Revoke);
    match failure {
        Failure::ServerError(status) => Plan::Respond(service_unavailable(status)),
        Failure::RateLimited { reset_in_secs } => {
            Plan::Respond(too_many_requests(now + reset_in_secs))
        }
        Failure::Slow(delay) => Plan::DelayThenProceed(delay),
        Failure::CreatedThenDropped => Plan::ProceedThenLoseAnswer,
        Failure::CreatedThenSlow(delay) => Plan::ProceedThenDelay(delay),
        Failure::ExpiredToken if oauth => {
            Plan::Respond(invalid_grant("Value passed for the token was invalid."))
        }
        Failure::ExpiredToken => Plan::Respond(unauthorized()),
        Failure::Validation(message) if oauth => Plan::Respond(invalid_oauth_request(&message)),
        Failure::Validation(message) => Plan::Respond(invalid_request(&message, json!({}))),
        Failure::UsageCapped => Plan::Respond(usage_capped()),
    }
}

/// Keeps the status and headers but swaps the body for one that fails at once: the client
/// learns "201" and then loses the connection before it can read what was created.
fn lose_body(response: Response) -> Response {
    let (parts, _) = response.into_parts();
    let broken = futures_util::stream::iter([Err::<Bytes, std::io::Error>(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "sandbox x: the answer was dropped on purpose",
    ))]);
    Response::from_parts(parts, Body::from_stream(broken))
}

/// Adds the three rate headers, leaving any a 429 already set.
fn stamp_rate_headers(headers: &mut HeaderMap, rate: RateStatus) {
    headers
        .entry("x-rate-limit-limit")
        .or_insert(HeaderValue::from(rate.limit));
    headers
        .entry("x-rate-limit-remaining")
        .or_insert(HeaderValue::from(rate.remaining));
    headers
        .entry("x-rate-limit-reset")
        .or_insert(HeaderValue::from(rate.reset_at));
}

// ---------------------------------------------------------------------------------------------
// Answers in X's shapes.

/// X's v2 problem JSON.
fn problem_body(status: StatusCode, title: &str, detail: &str, kind: &str) -> Value {
    json!({ "title": title, "detail": detail, "type": kind, "status": status.as_u16() })
}

fn problem(status: StatusCode, title: &str, detail: &str, kind: &str) -> Response {
    (status, Json(problem_body(status, title, detail, kind))).into_response()
}

fn unauthorized() -> Response {
    problem(
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
        "Unauthorized",
        ABOUT_BLANK,
    )
}

/// X's validation problem: a generic detail, the specifics in `errors`.
fn invalid_request(message: &str, parameters: Value) -> Response {
    let mut body = problem_body(
        StatusCode::BAD_REQUEST,
        "Invalid Request",
        "One or more parameters to your request was invalid.",
        INVALID_REQUEST_TYPE,
    );
    body["errors"] = json!([{ "message": message, "parameters": parameters }]);
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

fn service_unavailable(status: u16) -> Response {
    let status = StatusCode::from_u16(status)
        .ok()
        .filter(StatusCode::is_server_error)
        .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    problem(
        status,
        "Service Unavailable",
        "Service Unavailable",
        ABOUT_BLANK,
    )
}

fn too_many_requests(reset_at: i64) -> Response {
    let mut response = problem(
        StatusCode::TOO_MANY_REQUESTS,
        "Too Many Requests",
        "Too Many Requests",
        ABOUT_BLANK,
    );
    let headers = response.headers_mut();
    headers.insert("x-rate-limit-remaining", HeaderValue::from(0u32));
    headers.insert("x-rate-limit-reset", HeaderValue::from(reset_at));
    response
}

fn usage_capped() -> Response {
    let mut body = problem_body(
        StatusCode::TOO_MANY_REQUESTS,
        "UsageCapExceeded",
        "Usage cap exceeded: Monthly product cap",
        USAGE_CAPPED_TYPE,
    );
    body["period"] = Value::from("Monthly");
    body["scope"] = Value::from("Product");
    (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response()
}

/// The token and revoke endpoints' error shape (OAuth 2.0, not X's problem JSON).
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

fn invalid_client() -> Response {
    oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "Missing valid authorization header.",
    )
}

fn invalid_grant(description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

fn invalid_oauth_request(description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_request", description)
}

fn required_oauth<'a>(params: &'a Params, name: &str) -> Result<&'a str, Response> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| invalid_oauth_request(&format!("Missing required parameter [{name}].")))
}

/// X answers a redirect with 302 (axum's `Redirect` offers 303, 307 and 308).
fn found(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
        Err(_) => refusal_page("The redirect_uri cannot be sent back in a Location header."),
    }
}

// ---------------------------------------------------------------------------------------------
// Pages: self-contained HTML, every echoed value escaped.

const PAGE_STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f5f8fa;color:#0f1419;margin:0}\
main{max-width:32rem;margin:3rem auto;padding:1.5rem;background:#fff;border:1px solid #cfd9de;border-radius:1rem}\
label{display:block;font-weight:600;margin-top:1rem}\
input[type=text]{font:inherit;padding:.5rem;width:100%;box-sizing:border-box}\
button{font:inherit;padding:.5rem 1.25rem;margin:1rem .5rem 0 0;border-radius:2rem;border:1px solid #0f1419;background:#fff;color:#0f1419;cursor:pointer}\
button[value=allow]{background:#0f1419;color:#fff}\
.hint,.meta{color:#536471;font-size:.9rem}.text{white-space:pre-wrap;font-size:1.2rem}";

/// A page of the fake at depth three (`/i/oauth2/authorize`, `/{user}/status/{id}`): its
/// stylesheet is two levels up, wherever the fake is mounted. A file, not inline, so the app's
/// Content-Security-Policy (`style-src 'self'`) lets it through under `--sandbox`.
fn page(title: &str, body: &str) -> String {
    page_with_style(title, body, "../../sandbox.css")
}

fn page_with_style(title: &str, body: &str, stylesheet: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{stylesheet}">
</head>
<body><main>
{body}
</main></body>
</html>"#,
        title = escape_html(title),
    )
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        PAGE_STYLE,
    )
        .into_response()
}

/// The failures the control page can arm, by form value.
const CONTROL_FAILURES: &[(&str, &str)] = &[
    ("server_error", "X is down (503): retried with backoff"),
    (
        "rate_limited",
        "Rate limited (429, 30 s): retried after the reset",
    ),
    (
        "validation",
        "Refused as invalid (400): fails; retry it from the Posts page",
    ),
    ("usage_capped", "Monthly cap reached: fails"),
    (
        "created_then_dropped",
        "Posted, but the answer is lost: the next attempt finds it",
    ),
    (
        "expired_token",
        "Token refused (401): the account needs a reconnect",
    ),
];

fn control_failure(value: &str) -> Option<Failure> {
    Some(match value {
        "server_error" => Failure::ServerError(503),
        "rate_limited" => Failure::RateLimited { reset_in_secs: 30 },
        "validation" => Failure::Validation("The Tweet contains an invalid URL.".into()),
        "usage_capped" => Failure::UsageCapped,
        "created_then_dropped" => Failure::CreatedThenDropped,
        "expired_token" => Failure::ExpiredToken,
        _ => return None,
    })
}

/// `GET /_control`: arm a failure for the next post, see what the sandbox holds.
/// The furthest the control page fast-forwards posts' numbers: a month, after which the
/// platforms stop reporting them to us anyway.
const MAX_AHEAD_DAYS: i64 = 30;

async fn show_control(Shared(fake): Shared<XFake>) -> Response {
    let options: String = CONTROL_FAILURES
        .iter()
        .map(|(value, label)| format!(r#"<option value="{value}">{}</option>"#, escape_html(label)))
        .collect();
    let (armed, posts, ahead) = {
        let state = fake.lock();
        let ahead = state.numbers_ahead.num_days();
        let armed = state
            .failures
            .get(&Endpoint::CreatePost)
            .map_or(0, VecDeque::len);
        let posts: Vec<FakePost> = state.posts.iter().rev().take(20).cloned().collect();
        (armed, posts, ahead)
    };
    let rows: String = posts
        .iter()
        .map(|post| {
            format!(
                r#"<li><a href="{user}/status/{id}">@{user}</a>: {text}</li>"#,
                user = escape_html(&post.author_username),
                id = escape_html(&post.id),
                text = escape_html(&post.text.chars().take(80).collect::<String>()),
            )
        })
        .collect();
    let body = format!(
        r#"<h1>Sandbox X control</h1>
<p class="hint">Make X misbehave to see what Picscripterai does about it. Failures apply to the next posts, in order.</p>
<form method="post">
<label for="failure">Make the next post</label>
<select id="failure" name="failure">{options}</select>
<button type="submit">Arm this failure</button>
</form>
<form method="post">
<label for="ahead">Report posts' numbers as if this many days had passed</label>
<input id="ahead" name="ahead_days" type="number" min="0" max="{MAX_AHEAD_DAYS}" value="{ahead}">
<button type="submit">Fast-forward the numbers</button>
</form>
<p role="status">{armed} failure(s) armed.</p>
<h2>Recent sandbox posts</h2>
<ul>{rows}</ul>"#
    );
    Html(page_with_style("Sandbox X control", &body, "sandbox.css")).into_response()
}

async fn arm_control(Shared(fake): Shared<XFake>, body: Bytes) -> Response {
    let params = parse_form(&String::from_utf8_lossy(&body));
    if let Some(days) = params.get("ahead_days") {
        return match days.trim().parse::<i64>() {
            Ok(days) if (0..=MAX_AHEAD_DAYS).contains(&days) => {
                fake.lock().numbers_ahead = TimeDelta::days(days);
                (StatusCode::SEE_OTHER, [(header::LOCATION, "_control")]).into_response()
            }
            _ => refusal_page(&format!(
                "Pick a whole number of days from 0 to {MAX_AHEAD_DAYS}."
            )),
        };
    }
    match params
        .get("failure")
        .and_then(|value| control_failure(value))
    {
        Some(failure) => {
            fake.fail_next(Endpoint::CreatePost, [failure]);
            (StatusCode::SEE_OTHER, [(header::LOCATION, "_control")]).into_response()
        }
        None => refusal_page("Pick one of the listed failures."),
    }
}

fn consent_page(request: &AuthorizeRequest) -> String {
    let app = escape_html(&request.client_id);
    let scopes: String = request
        .scope
        .split_whitespace()
        .map(|scope| format!("<li><code>{}</code></li>", escape_html(scope)))
        .collect();
    let hidden: String = request
        .fields()
        .iter()
        .map(|(name, value)| {
            format!(
                r#"<input type="hidden" name="{name}" value="{}">"#,
                escape_html(value)
            )
        })
        .collect();
    // No `action`: the form posts back to this very URL, wherever the fake is mounted.
    let body = format!(
        r#"<h1>Sandbox X — authorize {app}?</h1>
<p class="hint">This is picscripter's local stand-in for X. Nothing leaves this machine.</p>
<p id="scopes">{app} asks for:</p>
<ul aria-labelledby="scopes">{scopes}</ul>
<form method="post">
{hidden}
<label for="username">Sandbox account</label>
<input type="text" id="username" name="username" value="{DEFAULT_SANDBOX_USERNAME}" required
  maxlength="{MAX_USERNAME_LEN}" pattern="[A-Za-z0-9_]{{1,{MAX_USERNAME_LEN}}}" autocomplete="username"
  aria-describedby="username-hint">
<p id="username-hint" class="hint">Letters, digits or underscores. A new name creates a new sandbox account.</p>
<button type="submit" name="decision" value="allow">Authorize app</button>
<button type="submit" name="decision" value="deny" formnovalidate>Cancel</button>
</form>"#
    );
    page(
        &format!("Sandbox X — authorize {}?", request.client_id),
        &body,
    )
}

fn refusal_page(problem: &str) -> Response {
    let body = format!(
        r#"<h1>Sandbox X cannot authorize this request</h1>
<p role="alert">{}</p>"#,
        escape_html(problem)
    );
    (
        StatusCode::BAD_REQUEST,
        Html(page("Sandbox X — bad authorization request", &body)),
    )
        .into_response()
}

fn post_page(post: &FakePost, author: &Account) -> String {
    let media = match post.media_ids.len() {
        0 => "No media".to_owned(),
        1 => "1 media item".to_owned(),
        count => format!("{count} media items"),
    };
    let body = format!(
        r#"<article aria-labelledby="author">
<h1 id="author">{name}</h1>
<p class="meta">@{username}</p>
<p class="text">{text}</p>
<p class="meta">{media}</p>
<p class="meta"><time datetime="{datetime}">{shown}</time> · Sandbox post {id}</p>
</article>"#,
        name = escape_html(&author.name),
        username = escape_html(&author.username),
        text = escape_html(&post.text),
        datetime = x_timestamp(post.created_at),
        shown = post.created_at.format("%-d %b %Y, %H:%M UTC"),
        id = escape_html(&post.id),
    );
    page(
        &format!("{} (@{}) on Sandbox X", author.name, author.username),
        &body,
    )
}

fn missing_post_page() -> String {
    page(
        "Sandbox X — post not found",
        "<h1>This post does not exist in the sandbox</h1>\n<p>It was never created here, or the link names another account.</p>",
    )
}

fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

// ---------------------------------------------------------------------------------------------
// URL encoding: just enough for query strings (no url/serde_urlencoded dependency here).

/// Decodes `a=1&b=x%20y+z` into parameters; `+` is a space, a malformed `%` stays literal.
fn parse_form(input: &str) -> Params {
    let mut params = Params::new();
    for pair in input.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        params
            .entry(percent_decode(name))
            .or_insert_with(|| percent_decode(value));
    }
    params
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&high), Some(&low)) => hex_value(high).zip(hex_value(low)),
            _ => None,
        };
        match (escaped, bytes[i]) {
            (Some((high, low)), _) => {
                decoded.push((high << 4) | low);
                i += 3;
            }
            (None, b'+') => {
                decoded.push(b' ');
                i += 1;
            }
            (None, byte) => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push('%');
            encoded.push(char::from(HEX[usize::from(byte >> 4)]));
            encoded.push(char::from(HEX[usize::from(byte & 0x0F)]));
        }
    }
    encoded
}

/// `uri` with `pairs` appended to its query (it may already have one).
fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = uri.to_owned();
    for (name, value) in pairs {
        out.push(if out.contains('?') { '&' } else { '?' });
        out.push_str(name);
        out.push('=');
        out.push_str(&percent_encode(value));
    }
    out
}

#[cfg(test)]
mod tests {
    use axum::body::to_bytes;
    use tower::ServiceExt as _;

    use super::*;

    const VERIFIER: &str = "a-pkce-verifier-of-at-least-43-characters-0123456789";
    const REDIRECT: &str = "http://127.0.0.1:3000/connections/x/callback";
    const SCOPES: &str = "tweet.read tweet.write users.read offline.access media.write";

    fn fake() -> XFake {
        XFake::new("client", "secret")
    }

    fn authorize_url() -> String {
        format!(
            "https://x.test/i/oauth2/authorize?response_type=code&client_id=client&redirect_uri={}\
             &scope={}&state=st4te&code_challenge={}&code_challenge_method=S256",
            percent_encode(REDIRECT),
            percent_encode(SCOPES),
            s256(VERIFIER),
        )
    }

    fn code_in(location: &str) -> String {
        let (_, query) = location.split_once('?').expect("the redirect has a query");
        parse_form(query)["code"].clone()
    }

    fn token_request(form: String) -> Request {
        http::Request::builder()
            .method("POST")
            .uri("/2/oauth2/token")
            .header(
                header::AUTHORIZATION,
                format!("Basic {}", STANDARD.encode("client:secret")),
            )
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap()
    }

    fn exchange_form(code: &str, verifier: &str) -> String {
        format!(
            "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={}",
            percent_encode(code),
            percent_encode(REDIRECT),
            percent_encode(verifier),
        )
    }

    fn refresh_form(refresh_token: &Value) -> String {
        format!(
            "grant_type=refresh_token&refresh_token={}",
            percent_encode(refresh_token.as_str().unwrap())
        )
    }

    fn api(method: &str, uri: &str, token: &str, body: Option<Value>) -> Request {
        let builder = http::Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        let request = match body {
            Some(json) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json.to_string())),
            None => builder.body(Body::empty()),
        };
        request.unwrap()
    }

    async fn send(fake: &XFake, request: Request) -> (StatusCode, HeaderMap, Value) {
        let response = fake.router().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = to_bytes(body, usize::MAX).await.unwrap();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (parts.status, parts.headers, json)
    }

    /// Consent plus code exchange: the token answer.
    async fn connect(fake: &XFake, username: &str) -> Value {
        let location = fake.authorize_directly(&authorize_url(), username).unwrap();
        let (status, _, tokens) = send(
            fake,
            token_request(exchange_form(&code_in(&location), VERIFIER)),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        tokens
    }

    async fn access_token(fake: &XFake, username: &str) -> String {
        connect(fake, username).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn post_text(fake: &XFake, token: &str, text: &str) -> (StatusCode, Value) {
        let request = api("POST", "/2/tweets", token, Some(json!({ "text": text })));
        let (status, _, body) = send(fake, request).await;
        (status, body)
    }

    #[tokio::test]
    async fn a_lookup_shows_metrics_that_grow_and_private_ones_to_the_author_only() {
        let clock = std::sync::Arc::new(crate::clock::ManualClock::starting_at(Utc::now()));
        let fake = XFake::with_clock("client", "secret", clock.clone());
        // Tokens that outlive the month the clock moves through.
        fake.set_access_token_lifetime(90 * 86_400);
        let alice = access_token(&fake, "alice").await;
        let bob = access_token(&fake, "bob").await;
        let (_, created) = post_text(&fake, &alice, "Mugs https://shop.example/mugs").await;
        let id = created["data"]["id"].as_str().unwrap().to_owned();
        let fields = "tweet.fields=public_metrics,non_public_metrics";
        let lookup = |token: &str| {
            api(
                "GET",
                &format!("/2/tweets?ids={id},1799999999999999999&{fields}"),
                token,
                None,
            )
        };
        clock.advance(TimeDelta::hours(3));
        let (status, _, early) = send(&fake, lookup(&alice)).await;
        assert_eq!(status, StatusCode::OK, "{early}");
        assert_eq!(early["data"][0]["id"], id.as_str());
        assert_eq!(early["errors"][0]["resource_id"], "1799999999999999999");
        clock.advance(TimeDelta::hours(6));
        let (_, _, later) = send(&fake, lookup(&alice)).await;
        let number = |body: &Value, group: &str, name: &str| body["data"][0][group][name].as_u64();
        for (group, name) in [
            ("public_metrics", "impression_count"),
            ("public_metrics", "like_count"),
            ("non_public_metrics", "url_link_clicks"),
        ] {
            assert!(
                number(&later, group, name) >= number(&early, group, name),
                "{group}.{name}: {early} then {later}"
            );
        }
        assert!(
            number(&later, "public_metrics", "impression_count")
                > number(&early, "public_metrics", "impression_count")
        );
        let (status, _, refused) = send(&fake, lookup(&bob)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
        clock.advance(TimeDelta::days(31));
        let (status, _, _) = send(&fake, lookup(&alice)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "too old for private metrics");
        let public_only = api(
            "GET",
            &format!("/2/tweets?ids={id}&tweet.fields=public_metrics"),
            &bob,
            None,
        );
        let (status, _, body) = send(&fake, public_only).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body["data"][0]["non_public_metrics"].is_null());
    }

    #[tokio::test]
    async fn a_wrong_pkce_verifier_is_refused() {
        let fake = fake();
        let location = fake.authorize_directly(&authorize_url(), "alice").unwrap();
        assert!(location.starts_with(REDIRECT) && location.ends_with("&state=st4te"));
        let wrong = exchange_form(
            &code_in(&location),
            "another-verifier-of-at-least-43-characters-000",
        );
        let (status, _, body) = send(&fake, token_request(wrong)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "invalid_grant");
    }

    #[tokio::test]
    async fn a_code_is_exchanged_once_only() {
        let fake = fake();
        let location = fake.authorize_directly(&authorize_url(), "alice").unwrap();
        let form = exchange_form(&code_in(&location), VERIFIER);
        let (status, _, tokens) = send(&fake, token_request(form.clone())).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(tokens["token_type"], "bearer");
        assert_eq!(tokens["expires_in"], 7200);
        assert!(tokens["refresh_token"].is_string());
        let (status, _, body) = send(&fake, token_request(form)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "invalid_grant");
        assert_eq!(fake.code_exchange_count(), 2);
    }

    #[tokio::test]
    async fn a_refresh_token_is_spent_by_its_use() {
        let fake = fake();
        let first = connect(&fake, "alice").await;
        let (status, _, second) =
            send(&fake, token_request(refresh_form(&first["refresh_token"]))).await;
        assert_eq!(status, StatusCode::OK);
        assert_ne!(second["refresh_token"], first["refresh_token"]);
        let (status, _, body) =
            send(&fake, token_request(refresh_form(&first["refresh_token"]))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "invalid_grant");
        let (status, _, _) =
            send(&fake, token_request(refresh_form(&second["refresh_token"]))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(fake.refresh_count(), 3);
    }

    #[tokio::test]
    async fn identical_text_from_the_same_author_is_refused_as_duplicate() {
        let fake = fake();
        let token = access_token(&fake, "alice").await;
        assert_eq!(
            post_text(&fake, &token, "hello").await.0,
            StatusCode::CREATED
        );
        let (status, body) = post_text(&fake, &token, "hello").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["detail"], DUPLICATE_CONTENT);
        assert_eq!(fake.post_count(), 1);
    }

    #[tokio::test]
    async fn text_over_the_weighted_limit_is_refused() {
        let fake = fake();
        let token = access_token(&fake, "alice").await;
        // 141 CJK characters weigh 282.
        let (status, body) = post_text(&fake, &token, &"字".repeat(141)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["errors"][0]["message"], "Your Tweet text is too long.");
        assert_eq!(fake.post_count(), 0);
    }

    #[tokio::test]
    async fn a_dropped_answer_still_creates_the_post() {
        let fake = fake();
        let token = access_token(&fake, "alice").await;
        fake.fail_next(Endpoint::CreatePost, [Failure::CreatedThenDropped]);
        let request = api(
            "POST",
            "/2/tweets",
            &token,
            Some(json!({ "text": "lost answer" })),
        );
        let response = fake.router().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        assert!(to_bytes(response.into_body(), usize::MAX).await.is_err());
        assert_eq!(fake.posts()[0].text, "lost answer");
    }

    #[tokio::test]
    async fn every_api_answer_carries_the_rate_headers() {
        let fake = fake();
        let (status, headers, _) = send(&fake, api("GET", "/2/users/me", "unknown", None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        for name in [
            "x-rate-limit-limit",
            "x-rate-limit-remaining",
            "x-rate-limit-reset",
        ] {
            assert!(headers.contains_key(name), "{name}");
        }
        fake.fail_next(
            Endpoint::UsersMe,
            [Failure::RateLimited { reset_in_secs: 60 }],
        );
        let (status, headers, body) = send(&fake, api("GET", "/2/users/me", "unknown", None)).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(headers["x-rate-limit-remaining"], "0");
        assert_eq!(body["title"], "Too Many Requests");
    }

    #[tokio::test]
    async fn recent_posts_come_newest_first() {
        let fake = fake();
        let token = access_token(&fake, "alice").await;
        for text in ["one", "two", "three"] {
            assert_eq!(post_text(&fake, &token, text).await.0, StatusCode::CREATED);
        }
        let id = fake.account_id("alice").unwrap();
        let uri = format!("/2/users/{id}/tweets?max_results=5&tweet.fields=created_at,text");
        let (status, _, body) = send(&fake, api("GET", &uri, &token, None)).await;
        assert_eq!(status, StatusCode::OK);
        let texts: Vec<&str> = body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|post| post["text"].as_str().unwrap())
            .collect();
        assert_eq!(texts, ["three", "two", "one"]);
        assert_eq!(body["meta"]["newest_id"], body["data"][0]["id"]);
        assert!(
            body["data"][0]["created_at"]
                .as_str()
                .unwrap()
                .ends_with('Z')
        );
    }

    #[tokio::test]
    async fn recent_posts_come_in_pages_and_from_a_start_time() {
        let fake = fake();
        let token = access_token(&fake, "alice").await;
        for n in 0..7 {
            assert_eq!(
                post_text(&fake, &token, &format!("post {n}")).await.0,
                StatusCode::CREATED
            );
        }
        let id = fake.account_id("alice").unwrap();
        let page = |token_param: &str| {
            format!("/2/users/{id}/tweets?max_results=5&tweet.fields=text{token_param}")
        };
        let (_, _, first) = send(&fake, api("GET", &page(""), &token, None)).await;
        assert_eq!(first["meta"]["result_count"], 5);
        let next = first["meta"]["next_token"].as_str().unwrap().to_owned();
        let (_, _, second) = send(
            &fake,
            api(
                "GET",
                &page(&format!("&pagination_token={next}")),
                &token,
                None,
            ),
        )
        .await;
        let texts: Vec<&str> = second["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|post| post["text"].as_str().unwrap())
            .collect();
        assert_eq!(texts, ["post 1", "post 0"]);
        assert!(second["meta"].get("next_token").is_none(), "the last page");

        let later = (Utc::now() + chrono::Duration::minutes(1)).format("%Y-%m-%dT%H:%M:%SZ");
        let (status, _, none) = send(
            &fake,
            api("GET", &page(&format!("&start_time={later}")), &token, None),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(none["meta"]["result_count"], 0);
        let (status, _, _) = send(
            &fake,
            api("GET", &page("&start_time=yesterday"), &token, None),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
}
