//! A local fake of TikTok's Login Kit v2 and Content Posting API (`shared/platforms.md`,
//! section 3): the consent screen, the token and revocation endpoints, the user's profile, the
//! creator info a direct post must ask for, the three init calls (direct video, photos, inbox
//! video), the chunked `FILE_UPLOAD` that follows, the status of a publish, the user's video list
//! for reconciliation, the video query that reports a post's counts (growing with its age on the
//! fake's clock, [`kit::engagement`](super::kit::engagement)), and the page a post's link opens.
//!
//! It owns one in-memory world (accounts with their creator settings, posts, and the OAuth server
//! of [`kit::oauth`](super::kit::oauth)) behind [`TikTokFake`], a cheap handle tests keep to script
//! failures ([`TikTokFake::fail_next`]), break uploads ([`TikTokFake::interrupt_next_upload_after`]),
//! script publish statuses ([`TikTokFake::set_status_sequence`]) and look inside
//! ([`TikTokFake::posts`], the counters). Both of TikTok's hosts (www.tiktok.com and
//! open.tiktokapis.com) and the upload host are this one router, served at the root (tests) or
//! nested under a prefix (`--sandbox`). The `upload_url` and `share_url` it hands out are built
//! from the request's own address (or [`TikTokFake::set_base_url`]), so they point back at the fake
//! however it is reached.
//!
//! The init call is the commit point (platforms.md's "never double-post"): the post exists from
//! then on, whatever happens to the answer, and [`TikTokFake::post_count`] counts every direct post
//! whose media all arrived and whose scripted status does not end in `FAILED`, whether or not a
//! client ever asked for its status. Upload bodies are streamed, counted and hashed, never held.
//! Pulled media (`PULL_FROM_URL`) is recorded and treated as downloaded, unless
//! [`TikTokFake::set_fetch_pulled_media`] makes the fake really GET it.
//!
//! Facts section 3 does not give are this fake's choices:
//! - Usernames are 1 to 24 letters, digits, `_` or `.` (TikTok's rule).
//! - Codes live 10 minutes; `state` is required; PKCE is optional and base64url S256 only (the
//!   reported hex quirk is not imitated); a redirect URI may be http (tests listen on loopback)
//!   but must have no query or fragment.
//! - OAuth errors are 400 (401 for a bad client); revoking ends the user's whole grant and
//!   answers 200 `{}` whether the token was known or not (RFC 7009).
//! - `user.info.basic` opens every field the app reads, `username` included; live TikTok may ask
//!   `user.info.profile` for it (unverified). `creator_info` takes `video.publish`; status fetch
//!   takes `video.publish` or `video.upload`; a `MEDIA_UPLOAD` photo post takes `video.upload`.
//! - "MB" is read leniently: chunks are 5,000,000 bytes to 64 MiB, the last at most 128 MiB; a
//!   file under 5,000,000 bytes goes whole. Each chunk must be exactly the size the init
//!   announced (the last takes the remainder), start where the received bytes end (416
//!   otherwise) and carry `Content-Length`. The upload URL alone authorizes its PUTs, and it does
//!   not expire. A broken chunk keeps nothing: it is sent again whole.
//! - Video length is not probed (the bytes are not parsed); script
//!   `StatusStep::Failed("duration_check_failed")` to see that refusal. `creator_info` is not
//!   enforced before a post, but counted ([`TikTokFake::request_count`]).
//! - Rate limits are fixed one-minute windows per endpoint and token, on the fake's clock, with a
//!   `Retry-After` header TikTok does not document. A scripted duplicate is 403
//!   `spam_risk_too_many_posts` (TikTok refuses no duplicate as such). An unknown `publish_id` is
//!   400 `invalid_params`; an unknown upload is 404.
//! - Video-list `cursor` is the numeric id of the next post to list (TikTok calls it a
//!   timestamp; clients pass it back as given); photo posts are listed too.
//! - Video query takes 1 to 20 ids, as strings or numbers, and answers only the caller's own
//!   posts that are on the account; other ids are left out of `videos` without an error.
//!
//! It trusts whoever reaches it and never logs a token, a code or an upload URL.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, TimeDelta, Utc};
use futures_util::{Stream, StreamExt as _};
use serde::Deserialize;
use serde_json::{Value, json};

use super::kit::consent::{Consent, Decision, UsernameRule, consent_page, direct_consent};
use super::kit::control::{
    Control, ControlChoice, Recent, back_to_control, chosen_failure, control_page, standard_choices,
};
use super::kit::engagement::Engagement;
use super::kit::ids::{IdSequence, random_hex, random_token};
use super::kit::oauth::{
    AuthorizationServer, AuthorizeRequest, BearerError, IssuedTokens, OAuthConfig, OAuthError,
    Pkce, RefreshPolicy, Rotation, Scopes,
};
use super::kit::pages::{avatar_data_url, escape_html, found, page, refusal_page, stylesheet};
use super::kit::request::{
    Params, bearer_token, form_credentials, own_base_url, parse_form, parse_query,
};
use super::kit::script::{Failure, Refusal, Script, Turn, answer, lose_body};
use super::kit::upload::{ContentRange, ReceivedBytes};
use super::kit::{FakeControls, KitWorld};
use crate::clock::{SharedClock, SystemClock};

const PLATFORM: &str = "TikTok";
/// `https://www.tiktok.com/v2/auth/authorize/`.
const AUTHORIZE_PATH: &str = "/v2/auth/authorize/";
const VIDEO_INIT_PATH: &str = "/v2/post/publish/video/init/";
const CONTENT_INIT_PATH: &str = "/v2/post/publish/content/init/";
const INBOX_VIDEO_INIT_PATH: &str = "/v2/post/publish/inbox/video/init/";
/// Where `upload_url` points, on the fake itself (live: `open-upload.tiktokapis.com/video/`).
const UPLOAD_PATH: &str = "/video/";

/// platforms.md: `expires_in:86400`, `refresh_expires_in:31536000`.
const ACCESS_TOKEN_LIFETIME_SECS: i64 = 86_400;
const REFRESH_TOKEN_LIFETIME_SECS: i64 = 31_536_000;
/// TikTok does not say (unverified): ten minutes, RFC 6749's recommended maximum.
const CODE_LIFETIME_SECS: i64 = 600;

/// platforms.md: chunks 5–64 MB, 1–1000 chunks (see the module doc for how "MB" is read). Its
/// "last chunk up to 128 MB" follows: the last is a chunk plus a remainder smaller than a chunk.
const MIN_CHUNK_BYTES: u64 = 5_000_000;
const MAX_CHUNK_BYTES: u64 = 64 * 1024 * 1024;
const MAX_CHUNKS: u64 = 1000;
const VIDEO_CONTENT_TYPES: &[&str] = &["video/mp4", "video/quicktime", "video/webm"];

/// platforms.md's text and photo limits (the photo count is unverified there).
const MAX_VIDEO_TITLE_CHARS: usize = 2200;
const MAX_PHOTO_TITLE_CHARS: usize = 90;
const MAX_PHOTO_DESCRIPTION_CHARS: usize = 4000;
const MAX_PHOTOS: usize = 35;

const DEFAULT_PRIVACY_OPTIONS: &[&str] = &[
    "PUBLIC_TO_EVERYONE",
    "MUTUAL_FOLLOW_FRIENDS",
    "FOLLOWER_OF_CREATOR",
    "SELF_ONLY",
];
const PRIVATE: &str = "SELF_ONLY";
const DEFAULT_MAX_VIDEO_DURATION_SECS: u32 = 600;
/// Video list: TikTok's default and maximum `max_count`.
const DEFAULT_LIST_COUNT: usize = 10;
const MAX_LIST_COUNT: usize = 20;
/// Video query: at most this many ids.
const MAX_QUERY_IDS: usize = 20;
const RATE_WINDOW_SECS: i64 = 60;

/// Ids look like TikTok's: 19-digit video ids that fit an int64.
const FIRST_POST_ID: u64 = 7_350_000_000_000_000_001;
const FIRST_PUBLISH_NUMBER: u64 = 1_000_001;

const SCOPE_USER_BASIC: &str = "user.info.basic";
const SCOPE_PUBLISH: &str = "video.publish";
const SCOPE_UPLOAD: &str = "video.upload";
const SCOPE_LIST: &str = "video.list";
const KNOWN_SCOPES: &[&str] = &[
    SCOPE_USER_BASIC,
    "user.info.profile",
    "user.info.stats",
    SCOPE_PUBLISH,
    SCOPE_UPLOAD,
    SCOPE_LIST,
];
/// `GET /v2/user/info/` fields, all opened by `user.info.basic` (see the module doc).
const USER_FIELDS: &[&str] = &[
    "open_id",
    "union_id",
    "avatar_url",
    "avatar_url_100",
    "avatar_large_url",
    "display_name",
    "username",
];
/// `POST /v2/video/list/` fields.
const VIDEO_FIELDS: &[&str] = &[
    "id",
    "create_time",
    "cover_image_url",
    "share_url",
    "video_description",
    "duration",
    "height",
    "width",
    "title",
    "embed_html",
    "embed_link",
    "like_count",
    "comment_count",
    "share_count",
    "view_count",
];

const USERNAMES: UsernameRule = UsernameRule {
    max_len: 24,
    extra_chars: "_.",
    default: "sandbox_creator",
};

/// Stylesheet hrefs relative to each page: `/v2/auth/authorize/`, `/@{user}/video/{id}`,
/// `/_control`.
const CONSENT_STYLESHEET: &str = "../../../sandbox.css";
const VIDEO_PAGE_STYLESHEET: &str = "../../sandbox.css";
const CONTROL_STYLESHEET: &str = "sandbox.css";

/// The fake's API endpoints, for scripting failures and counting requests. Pages are not among
/// them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST /v2/oauth/token/`, both grant types.
    Token,
    /// `POST /v2/oauth/revoke/`.
    Revoke,
    /// `GET /v2/user/info/`.
    UserInfo,
    /// `POST /v2/post/publish/creator_info/query/`.
    CreatorInfo,
    /// `POST /v2/post/publish/video/init/`: a direct video post.
    VideoInit,
    /// `POST /v2/post/publish/content/init/`: a photo post.
    ContentInit,
    /// `POST /v2/post/publish/inbox/video/init/`: a video sent to the user's inbox.
    InboxVideoInit,
    /// `PUT {upload_url}`: one chunk.
    UploadChunk,
    /// `POST /v2/post/publish/status/fetch/`.
    StatusFetch,
    /// `POST /v2/video/list/`.
    VideoList,
    /// `POST /v2/video/query/`.
    VideoQuery,
}

impl Endpoint {
    fn is_init(self) -> bool {
        matches!(
            self,
            Self::VideoInit | Self::ContentInit | Self::InboxVideoInit
        )
    }
}

/// Requests per minute and access token (`None`: unlimited). Default: platforms.md's 6 per init
/// endpoint and 30 for status fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub init_per_minute: Option<u32>,
    pub status_fetch_per_minute: Option<u32>,
}

impl RateLimits {
    pub const OFF: Self = Self {
        init_per_minute: None,
        status_fetch_per_minute: None,
    };

    fn of(self, endpoint: Endpoint) -> Option<u32> {
        match endpoint {
            Endpoint::StatusFetch => self.status_fetch_per_minute,
            _ if endpoint.is_init() => self.init_per_minute,
            _ => None,
        }
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            init_per_minute: Some(6),
            status_fetch_per_minute: Some(30),
        }
    }
}

/// A creator's comment, duet and stitch switches: what `creator_info` reports, and what a post
/// asked for (`disable_*`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Interactions {
    pub comment_disabled: bool,
    pub duet_disabled: bool,
    pub stitch_disabled: bool,
}

/// Direct post or inbox (the user finishes in the app).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostMode {
    DirectPost,
    Inbox,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Video,
    Photo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    FileUpload,
    PullFromUrl,
}

/// A status fetch's `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishStatus {
    ProcessingUpload,
    ProcessingDownload,
    SendToUserInbox,
    PublishComplete,
    Failed,
}

impl PublishStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProcessingUpload => "PROCESSING_UPLOAD",
            Self::ProcessingDownload => "PROCESSING_DOWNLOAD",
            Self::SendToUserInbox => "SEND_TO_USER_INBOX",
            Self::PublishComplete => "PUBLISH_COMPLETE",
            Self::Failed => "FAILED",
        }
    }
}

/// One step of the status sequence a post walks through on successive status fetches once its
/// media has arrived ([`TikTokFake::set_status_sequence`]); the last step stays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusStep {
    /// `PROCESSING_UPLOAD` for an uploaded file, `PROCESSING_DOWNLOAD` for pulled media.
    Processing,
    /// `PUBLISH_COMPLETE` with an empty id list: the post is in moderation.
    Moderating,
    /// `PUBLISH_COMPLETE` with the post's id (inbox posts: `SEND_TO_USER_INBOX`).
    Complete,
    /// `FAILED` with this `fail_reason`.
    Failed(String),
}

/// What a real GET of a pulled URL brought ([`TikTokFake::set_fetch_pulled_media`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// `None`: no answer at all (connection refused, timeout).
    pub status: Option<u16>,
    pub bytes: u64,
    pub sha256_hex: String,
}

impl Fetched {
    fn succeeded(&self) -> bool {
        self.status
            .is_some_and(|status| (200..300).contains(&status))
    }
}

/// A URL TikTok was told to pull from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledMedia {
    pub url: String,
    /// `None` while pulling is off: the URL was recorded and counts as downloaded.
    pub fetched: Option<Fetched>,
}

/// A post as the fake holds it: what the init asked for, what arrived, where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakePost {
    pub publish_id: String,
    /// Its id on the account (video list `id`), revealed by status fetch only at
    /// `PUBLISH_COMPLETE` after moderation.
    pub post_id: String,
    pub owner_username: String,
    pub open_id: String,
    pub mode: PostMode,
    pub media_type: MediaType,
    pub source: SourceKind,
    pub title: String,
    /// Photo posts only.
    pub description: String,
    /// `None` for inbox posts, which take none.
    pub privacy_level: Option<String>,
    pub interactions: Interactions,
    pub pulled: Vec<PulledMedia>,
    /// `FILE_UPLOAD` only.
    pub video_size: Option<u64>,
    pub bytes_received: u64,
    /// SHA-256 of the uploaded video, lowercase hex, once every byte arrived.
    pub sha256_hex: Option<String>,
    /// What the last status fetch reported (before any: where the post starts).
    pub status: PublishStatus,
    pub fail_reason: Option<String>,
    /// Whether a person would see it on the account: a direct post whose media all arrived and
    /// whose status sequence does not end in `FAILED`.
    pub on_account: bool,
    pub created_at: DateTime<Utc>,
}

impl FakePost {
    pub fn pulled_urls(&self) -> Vec<&str> {
        self.pulled.iter().map(|media| media.url.as_str()).collect()
    }
}

/// A handle on one fake TikTok that knows one app. Clones share the same world.
#[derive(Clone)]
pub struct TikTokFake {
    world: Arc<Mutex<World>>,
    /// Every byte that reached an upload PUT; outside the world so streaming never takes the
    /// lock per frame.
    bytes_received: Arc<AtomicU64>,
    /// Pulls media when [`TikTokFake::set_fetch_pulled_media`] is on.
    http: reqwest::Client,
    clock: SharedClock,
}

impl fmt::Debug for TikTokFake {
    // The world holds tokens; printing them would gain a failing test nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TikTokFake").finish_non_exhaustive()
    }
}

impl TikTokFake {
    /// A fake TikTok whose one registered app has these credentials, telling the real time.
    pub fn new(client_key: &str, client_secret: &str) -> Self {
        Self::with_clock(client_key, client_secret, Arc::new(SystemClock))
    }

    /// As [`TikTokFake::new`], telling time by `clock`: a `ManualClock` expires codes and tokens
    /// and moves rate windows without waiting.
    pub fn with_clock(client_key: &str, client_secret: &str, clock: SharedClock) -> Self {
        Self {
            world: Arc::new(Mutex::new(World::new(client_key, client_secret))),
            bytes_received: Arc::new(AtomicU64::new(0)),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
            clock,
        }
    }

    /// All the fake's routes, relative to wherever the router is served or nested. The
    /// authorize, API and upload hosts are all this router.
    pub fn router(&self) -> Router {
        Router::new()
            .route(AUTHORIZE_PATH, get(show_consent).post(record_decision))
            .route("/v2/oauth/token/", post(exchange_token))
            .route("/v2/oauth/revoke/", post(revoke))
            .route("/v2/user/info/", get(user_info))
            .route("/v2/post/publish/creator_info/query/", post(creator_info))
            .route(VIDEO_INIT_PATH, post(init))
            .route(CONTENT_INIT_PATH, post(init))
            .route(INBOX_VIDEO_INIT_PATH, post(init))
            .route("/v2/post/publish/status/fetch/", post(status_fetch))
            .route("/v2/video/list/", post(video_list))
            .route("/v2/video/query/", post(video_query))
            // The PUT takes its body as a stream, to which axum's body limit does not apply.
            .route(UPLOAD_PATH, axum::routing::put(put_chunk))
            .route("/{handle}/video/{post_id}", get(show_post))
            .route("/sandbox.css", get(stylesheet))
            .route("/_control", get(show_control).post(arm_control))
            .with_state(self.clone())
    }

    /// The absolute URL the fake is reached at (e.g. `http://127.0.0.1:4321`), for the
    /// `upload_url` and `share_url` it hands out. Without it, each request's own address is used.
    pub fn set_base_url(&self, base_url: &str) {
        self.lock().base_url = Some(base_url.trim_end_matches('/').to_owned());
    }

    /// How long access tokens issued from now on live (default 86,400 s; 0 or less issues tokens
    /// that are already expired).
    pub fn set_access_token_lifetime(&self, secs: i64) {
        self.lock()
            .oauth
            .set_access_token_lifetime(Some(TimeDelta::seconds(secs)));
    }

    /// Per-token limits of the inits and of status fetch (default on: 6 and 30 a minute, on the
    /// fake's clock); [`RateLimits::OFF`] lifts them.
    pub fn set_rate_limits(&self, limits: RateLimits) {
        self.lock().rate_limits = limits;
    }

    /// Queues `failures` for `endpoint`: each later request to it takes the next one, in order.
    pub fn fail_next(&self, endpoint: Endpoint, failures: impl IntoIterator<Item = Failure>) {
        // Collected first, so a caller's iterator never runs while the world is locked.
        let failures: Vec<Failure> = failures.into_iter().collect();
        self.lock().script.fail_next(endpoint, failures);
    }

    /// Breaks the next upload PUT after `bytes` bytes of its body: the connection drops, and the
    /// chunk is not kept (a PUT carrying no more than that is not broken; the break is spent).
    pub fn interrupt_next_upload_after(&self, bytes: u64) {
        self.lock().interruptions.push_back(bytes);
    }

    /// What posts created from now on report on successive status fetches once their media has
    /// arrived; the last step stays. Default `[Processing, Complete]`. An empty sequence leaves
    /// posts processing.
    pub fn set_status_sequence(&self, steps: Vec<StatusStep>) {
        self.lock().status_sequence = steps;
    }

    /// Shorthand for the sequence `[Processing, Moderating × fetches, Complete]`: posts answer
    /// `PUBLISH_COMPLETE` without an id for `fetches` fetches before the id appears.
    pub fn set_moderation_delay(&self, fetches: usize) {
        let mut steps = vec![StatusStep::Processing];
        steps.extend(std::iter::repeat_n(StatusStep::Moderating, fetches));
        steps.push(StatusStep::Complete);
        self.set_status_sequence(steps);
    }

    /// While on, each init really GETs its pulled URLs before answering, and a URL that does not
    /// answer 2xx fails the post with `video_pull_failed` or `photo_pull_failed`. Off by default:
    /// URLs are recorded and count as downloaded.
    pub fn set_fetch_pulled_media(&self, fetch: bool) {
        self.lock().fetch_pulled_media = fetch;
    }

    /// Expects PKCE challenges in hex, as some report TikTok's desktop flow does, instead of
    /// base64url: the app's `TIKTOK_PKCE_CHALLENGE=hex` must then be set.
    pub fn set_hex_pkce(&self, hex: bool) {
        self.lock().oauth.expect_hex_challenges(hex);
    }

    /// An unaudited app: creators offer only `SELF_ONLY`, and any other privacy level is refused
    /// with `unaudited_client_can_only_post_to_private_accounts`.
    pub fn set_unaudited(&self, unaudited: bool) {
        self.lock().unaudited = unaudited;
    }

    /// The privacy levels `username`'s creator info offers (the account is made if new).
    pub fn set_privacy_options(&self, username: &str, options: &[&str]) {
        self.with_account(username, |account| {
            account.privacy_options = options.iter().map(|&option| option.to_owned()).collect();
        });
    }

    /// `username`'s `max_video_post_duration_sec` (default 600); reported, not enforced.
    pub fn set_max_video_duration(&self, username: &str, secs: u32) {
        self.with_account(username, |account| account.max_video_duration_secs = secs);
    }

    /// The comment, duet and stitch switches `username`'s creator info reports.
    pub fn set_interactions(&self, username: &str, interactions: Interactions) {
        self.with_account(username, |account| account.interactions = interactions);
    }

    /// For tests without a browser: checks `authorize_url` exactly as the consent screen does,
    /// lets `username` allow it, and returns the redirect the browser would have followed
    /// (`redirect_uri?code=..&state=..`). The error is the sentence the consent screen shows.
    pub fn authorize_directly(
        &self,
        authorize_url: &str,
        username: &str,
    ) -> Result<String, String> {
        let params = direct_consent(authorize_url, AUTHORIZE_PATH, username)?;
        let now = self.now();
        self.lock().decide(params, now)
    }

    /// The `open_id` of the sandbox account with this username (case-insensitive), once it
    /// exists.
    pub fn open_id(&self, username: &str) -> Option<String> {
        self.lock().open_id(username)
    }

    /// Every post created so far, oldest first, inbox and failed ones included.
    pub fn posts(&self) -> Vec<FakePost> {
        self.lock().posts.iter().map(PostRecord::snapshot).collect()
    }

    /// Posts a person would see on their accounts ([`FakePost::on_account`]), whoever made them
    /// and whether or not anyone fetched their status.
    pub fn post_count(&self) -> usize {
        let world = self.lock();
        world
            .posts
            .iter()
            .filter(|record| record.on_account())
            .count()
    }

    /// Every byte that reached an upload PUT, kept or not: re-sent chunks count again.
    pub fn bytes_received_total(&self) -> u64 {
        self.bytes_received.load(Ordering::Relaxed)
    }

    fn lock(&self) -> MutexGuard<'_, World> {
        // A test that panicked mid-request must not turn every later request into a panic.
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn with_account(&self, username: &str, change: impl FnOnce(&mut Account)) {
        let mut world = self.lock();
        let index = world.account_index(username);
        change(&mut world.accounts[index]);
    }

    /// Runs one API request: counts it and applies the next scripted failure around `work`, in
    /// TikTok's envelope (OAuth's on the token endpoints).
    async fn answer(&self, endpoint: Endpoint, work: impl Future<Output = Response>) -> Response {
        let turn = self.lock().begin(endpoint);
        answer(turn, |refusal| scripted_refusal(endpoint, refusal), work).await
    }

    /// An init: the post is committed under the lock, then its URLs are pulled (when pulling is
    /// on) without it, before the answer goes out.
    async fn init(
        &self,
        endpoint: Endpoint,
        headers: &HeaderMap,
        body: &[u8],
        reached_at: &str,
    ) -> Response {
        let now = self.now();
        let committed = self.lock().init(endpoint, headers, body, reached_at, now);
        match committed {
            Ok(committed) => {
                if !committed.to_pull.is_empty() {
                    self.pull_and_record(&committed.publish_id, committed.to_pull)
                        .await;
                }
                success(committed.data)
            }
            Err(refusal) => refusal.into_response(),
        }
    }

    async fn pull_and_record(&self, publish_id: &str, urls: Vec<String>) {
        let mut fetched = Vec::with_capacity(urls.len());
        for url in &urls {
            fetched.push(pull(&self.http, url).await);
        }
        self.lock().record_pulls(publish_id, fetched);
    }

    // --- Upload chunks ------------------------------------------------------------------------

    /// A PUT: checks its headers against the upload, streams the chunk (counted, hashed, never
    /// held), and keeps it only once every byte of it arrived.
    async fn receive_chunk(&self, query: &Params, headers: &HeaderMap, body: Body) -> Response {
        let opened = self.lock().open_chunk(query, headers);
        let chunk = match opened {
            Ok(chunk) => chunk,
            Err(refusal) => {
                // Reading what the client sends lets it see the answer.
                self.drain(body.into_data_stream()).await;
                return refusal.into_response();
            }
        };
        let break_at = chunk.interruption.filter(|after| *after < chunk.len);
        let mut stored = chunk.stored;
        let mut arrived: u64 = 0;
        let mut stream = body.into_data_stream();
        while let Some(frame) = stream.next().await {
            let Ok(mut data) = frame else {
                // The client broke off; nobody reads this answer.
                return StatusCode::BAD_REQUEST.into_response();
            };
            if let Some(after) = break_at {
                data.truncate(usize::try_from(after - arrived).unwrap_or(usize::MAX));
            }
            let len = data.len() as u64;
            self.bytes_received.fetch_add(len, Ordering::Relaxed);
            if arrived + len > chunk.len {
                self.drain(stream).await;
                return ApiError::upload(format!(
                    "The chunk carries more than the {} bytes its Content-Range announced.",
                    chunk.len
                ))
                .into_response();
            }
            stored.append(&data);
            arrived += len;
            if break_at == Some(arrived) {
                return lose_body(ApiError::internal().into_response());
            }
        }
        if arrived < chunk.len {
            return ApiError::upload(format!(
                "The chunk ended after {arrived} of its {} bytes; send it again whole.",
                chunk.len
            ))
            .into_response();
        }
        self.lock()
            .land_chunk(&chunk.publish_id, chunk.first, stored)
            .unwrap_or_else(IntoResponse::into_response)
    }

    /// Reads the rest of a body, counting its bytes and keeping none.
    async fn drain(&self, mut stream: impl Stream<Item = Result<Bytes, axum::Error>> + Unpin) {
        while let Some(Ok(data)) = stream.next().await {
            self.bytes_received
                .fetch_add(data.len() as u64, Ordering::Relaxed);
        }
    }
}

/// GETs one pulled URL, counting and hashing what comes back.
async fn pull(http: &reqwest::Client, url: &str) -> Fetched {
    let mut received = ReceivedBytes::new();
    let status = match http.get(url).send().await {
        Ok(mut response) => {
            while let Ok(Some(chunk)) = response.chunk().await {
                received.append(&chunk);
            }
            Some(response.status().as_u16())
        }
        Err(_) => None,
    };
    Fetched {
        status,
        bytes: received.len(),
        sha256_hex: received.sha256_hex(),
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers: parse the request, hand the work to `TikTokFake::answer`.

async fn show_consent(State(fake): State<TikTokFake>, RawQuery(query): RawQuery) -> Response {
    let params = with_client_id(parse_query(query.as_deref()));
    let world = fake.lock();
    match world.check_authorize(&params) {
        Ok(request) => {
            // The form posts the request back under TikTok's own parameter name.
            let hidden: Vec<(&'static str, String)> = world
                .oauth
                .consent_fields(&request)
                .into_iter()
                .map(|(name, value)| match name {
                    "client_id" => ("client_key", value),
                    _ => (name, value),
                })
                .collect();
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

async fn record_decision(State(fake): State<TikTokFake>, body: Bytes) -> Response {
    let now = fake.now();
    let outcome = fake.lock().decide(parse_form(&body), now);
    match outcome {
        Ok(location) => found(&location),
        Err(problem) => refusal_page(PLATFORM, &problem, CONSENT_STYLESHEET),
    }
}

async fn exchange_token(State(fake): State<TikTokFake>, body: Bytes) -> Response {
    let params = with_client_id(parse_form(&body));
    fake.lock()
        .oauth
        .count_token_request(params.get("grant_type").map(String::as_str));
    fake.answer(Endpoint::Token, async {
        let now = fake.now();
        fake.lock().token(&params, now)
    })
    .await
}

async fn revoke(State(fake): State<TikTokFake>, body: Bytes) -> Response {
    let params = with_client_id(parse_form(&body));
    fake.answer(Endpoint::Revoke, async { fake.lock().revoke(&params) })
        .await
}

async fn user_info(
    State(fake): State<TikTokFake>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = parse_query(query.as_deref());
    fake.answer(Endpoint::UserInfo, async {
        let now = fake.now();
        api_answer(fake.lock().user_info(&headers, &query, now))
    })
    .await
}

async fn creator_info(State(fake): State<TikTokFake>, headers: HeaderMap) -> Response {
    fake.answer(Endpoint::CreatorInfo, async {
        let now = fake.now();
        api_answer(fake.lock().creator_info(&headers, now))
    })
    .await
}

/// The three inits: one handler, as they differ only in what `World::init` checks.
async fn init(
    State(fake): State<TikTokFake>,
    OriginalUri(original): OriginalUri,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reached_at = own_base_url(&headers, &original, &uri);
    let endpoint = match uri.path() {
        CONTENT_INIT_PATH => Endpoint::ContentInit,
        INBOX_VIDEO_INIT_PATH => Endpoint::InboxVideoInit,
        _ => Endpoint::VideoInit,
    };
    fake.answer(endpoint, fake.init(endpoint, &headers, &body, &reached_at))
        .await
}

/// `PUT {upload_url}`. A body the answer does not need is still read (and counted) first.
async fn put_chunk(
    State(fake): State<TikTokFake>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let query = parse_query(query.as_deref());
    let mut body = Some(body);
    let response = fake
        .answer(Endpoint::UploadChunk, async {
            let body = body.take().unwrap_or_default();
            fake.receive_chunk(&query, &headers, body).await
        })
        .await;
    if let Some(unread) = body {
        fake.drain(unread.into_data_stream()).await;
    }
    response
}

async fn status_fetch(State(fake): State<TikTokFake>, headers: HeaderMap, body: Bytes) -> Response {
    fake.answer(Endpoint::StatusFetch, async {
        let now = fake.now();
        api_answer(fake.lock().status_fetch(&headers, &body, now))
    })
    .await
}

async fn video_list(
    State(fake): State<TikTokFake>,
    OriginalUri(original): OriginalUri,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reached_at = own_base_url(&headers, &original, &uri);
    let query = parse_query(uri.query());
    fake.answer(Endpoint::VideoList, async {
        let now = fake.now();
        api_answer(
            fake.lock()
                .video_list(&headers, &query, &body, &reached_at, now),
        )
    })
    .await
}

async fn video_query(
    State(fake): State<TikTokFake>,
    OriginalUri(original): OriginalUri,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reached_at = own_base_url(&headers, &original, &uri);
    let query = parse_query(uri.query());
    fake.answer(Endpoint::VideoQuery, async {
        let now = fake.now();
        api_answer(
            fake.lock()
                .video_query(&headers, &query, &body, &reached_at, now),
        )
    })
    .await
}

/// `/@{username}/video/{id}`: where a post's link lands in the sandbox.
async fn show_post(
    State(fake): State<TikTokFake>,
    Path((handle, post_id)): Path<(String, String)>,
) -> Response {
    let username = handle.strip_prefix('@').unwrap_or_default();
    let post = fake
        .lock()
        .posts
        .iter()
        .map(PostRecord::snapshot)
        .find(|post| post.post_id == post_id && post.owner_username.eq_ignore_ascii_case(username));
    match post {
        Some(post) => Html(post_page(&post)).into_response(),
        None => missing_page(VIDEO_PAGE_STYLESHEET),
    }
}

/// The failures the control page offers, by form value.
fn control_choices() -> Vec<ControlChoice> {
    standard_choices("Invalid parameters: post_info.title is longer than 2200 characters.")
}

/// `GET /_control`: arm a failure for the next post, see what the sandbox holds.
async fn show_control(State(fake): State<TikTokFake>) -> Response {
    let choices = control_choices();
    let (armed, recent) = {
        let world = fake.lock();
        let recent: Vec<Recent> = world
            .posts
            .iter()
            .rev()
            .take(20)
            .map(|record| {
                let post = record.snapshot();
                Recent {
                    href: format!("@{}/video/{}", post.owner_username, post.post_id),
                    text: format!(
                        "{}: {} ({})",
                        post.owner_username,
                        post.title,
                        post.status.as_str()
                    ),
                }
            })
            .collect();
        (world.next_post_failures.len(), recent)
    };
    Html(control_page(&Control {
        platform: PLATFORM,
        item: "post",
        choices: &choices,
        own_choices: &[],
        armed,
        recent: &recent,
        stylesheet: CONTROL_STYLESHEET,
    }))
    .into_response()
}

/// Arms the failure for the next init, whichever of the three it is: a person clicking through
/// does not know which one the app will call.
async fn arm_control(State(fake): State<TikTokFake>, body: Bytes) -> Response {
    match chosen_failure(&control_choices(), &parse_form(&body)) {
        Some(failure) => {
            fake.lock().next_post_failures.push_back(failure);
            back_to_control()
        }
        None => refusal_page(
            PLATFORM,
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
    /// Armed on the control page for the next init, whichever endpoint it is.
    next_post_failures: VecDeque<Failure>,
    /// For the next upload PUTs: break after this many bytes.
    interruptions: VecDeque<u64>,
    base_url: Option<String>,
    unaudited: bool,
    fetch_pulled_media: bool,
    status_sequence: Vec<StatusStep>,
    rate_limits: RateLimits,
    rate_windows: HashMap<(Endpoint, String), RateWindow>,
    accounts: Vec<Account>,
    posts: Vec<PostRecord>,
    post_ids: IdSequence,
    publish_numbers: IdSequence,
}

#[derive(Debug, Clone)]
struct Account {
    /// Also the account id its tokens are granted to.
    open_id: String,
    union_id: String,
    username: String,
    privacy_options: Vec<String>,
    max_video_duration_secs: u32,
    interactions: Interactions,
}

#[derive(Debug, Clone, Copy)]
struct RateWindow {
    started_at: DateTime<Utc>,
    used: u32,
}

#[derive(Debug)]
struct PostRecord {
    post: FakePost,
    upload: Option<Upload>,
    /// The steps later status fetches will report, front first; the last one stays.
    upcoming: VecDeque<StatusStep>,
}

#[derive(Debug)]
struct Upload {
    id: String,
    token: String,
    plan: ChunkPlan,
    /// Every whole chunk kept so far.
    stored: ReceivedBytes,
}

/// A chunk whose headers matched its upload, ready to stream.
#[derive(Debug)]
struct OpenChunk {
    publish_id: String,
    first: u64,
    len: u64,
    /// The upload's bytes so far, continued by this chunk.
    stored: ReceivedBytes,
    interruption: Option<u64>,
}

/// A committed init: its answer, and the URLs still to pull when pulling is on.
#[derive(Debug)]
struct Committed {
    publish_id: String,
    data: Value,
    to_pull: Vec<String>,
}

impl PostRecord {
    fn media_arrived(&self) -> bool {
        self.upload
            .as_ref()
            .is_none_or(|upload| upload.stored.len() == upload.plan.video_size)
    }

    fn pull_failed(&self) -> bool {
        self.post.pulled.iter().any(|media| {
            media
                .fetched
                .as_ref()
                .is_some_and(|fetched| !fetched.succeeded())
        })
    }

    fn on_account(&self) -> bool {
        self.post.mode == PostMode::DirectPost
            && self.media_arrived()
            && !self.pull_failed()
            && matches!(
                self.upcoming.back(),
                Some(StatusStep::Moderating | StatusStep::Complete)
            )
    }

    fn snapshot(&self) -> FakePost {
        FakePost {
            on_account: self.on_account(),
            ..self.post.clone()
        }
    }

    /// One status fetch: where the post stands now, moving it along its sequence once its media
    /// has arrived. Returns the ids it may reveal.
    fn advance(&mut self) -> Vec<String> {
        let (status, reason, revealed) = if self.pull_failed() {
            let reason = match self.post.media_type {
                MediaType::Video => "video_pull_failed",
                MediaType::Photo => "photo_pull_failed",
            };
            (PublishStatus::Failed, Some(reason.to_owned()), false)
        } else if !self.media_arrived() {
            (PublishStatus::ProcessingUpload, None, false)
        } else {
            let step = if self.upcoming.len() > 1 {
                self.upcoming.pop_front()
            } else {
                self.upcoming.front().cloned()
            };
            step_status(step, self.post.mode, self.post.source)
        };
        self.post.status = status;
        self.post.fail_reason = reason;
        if revealed {
            vec![self.post.post_id.clone()]
        } else {
            Vec::new()
        }
    }
}

/// What a step of the sequence reports: status, fail reason, and whether the id shows.
fn step_status(
    step: Option<StatusStep>,
    mode: PostMode,
    source: SourceKind,
) -> (PublishStatus, Option<String>, bool) {
    let published = |revealed: bool| match mode {
        PostMode::DirectPost => (PublishStatus::PublishComplete, None, revealed),
        PostMode::Inbox => (PublishStatus::SendToUserInbox, None, false),
    };
    match step {
        None | Some(StatusStep::Processing) => (processing(source), None, false),
        Some(StatusStep::Moderating) => published(false),
        Some(StatusStep::Complete) => published(true),
        Some(StatusStep::Failed(reason)) => (PublishStatus::Failed, Some(reason), false),
    }
}

fn processing(source: SourceKind) -> PublishStatus {
    match source {
        SourceKind::FileUpload => PublishStatus::ProcessingUpload,
        SourceKind::PullFromUrl => PublishStatus::ProcessingDownload,
    }
}

impl World {
    fn new(client_key: &str, client_secret: &str) -> Self {
        Self {
            oauth: AuthorizationServer::new(OAuthConfig {
                client_id: client_key.to_owned(),
                client_secret: client_secret.to_owned(),
                known_scopes: KNOWN_SCOPES,
                scope_separator: ',',
                pkce: Pkce::Optional,
                state_required: true,
                code_lifetime: TimeDelta::seconds(CODE_LIFETIME_SECS),
                access_token_lifetime: Some(TimeDelta::seconds(ACCESS_TOKEN_LIFETIME_SECS)),
                refresh: Some(RefreshPolicy {
                    lifetime: Some(TimeDelta::seconds(REFRESH_TOKEN_LIFETIME_SECS)),
                    rotation: Rotation::Rotate,
                    only_with_scope: None,
                }),
                access_token_prefix: "act.",
                refresh_token_prefix: "rft.",
            }),
            script: Script::default(),
            next_post_failures: VecDeque::new(),
            interruptions: VecDeque::new(),
            base_url: None,
            unaudited: false,
            fetch_pulled_media: false,
            status_sequence: vec![StatusStep::Processing, StatusStep::Complete],
            rate_limits: RateLimits::default(),
            rate_windows: HashMap::new(),
            accounts: Vec::new(),
            posts: Vec::new(),
            post_ids: IdSequence::starting_at(FIRST_POST_ID),
            publish_numbers: IdSequence::starting_at(FIRST_PUBLISH_NUMBER),
        }
    }

    /// Counts a request and deals it its next scripted failure; an init with none of its own
    /// takes one armed on the control page.
    fn begin(&mut self, endpoint: Endpoint) -> Turn {
        if endpoint.is_init()
            && self.script.armed(endpoint) == 0
            && let Some(failure) = self.next_post_failures.pop_front()
        {
            self.script.fail_next(endpoint, vec![failure]);
        }
        self.script.begin(endpoint)
    }

    // --- Consent and accounts -----------------------------------------------------------------

    /// The kit's checks, in TikTok's words, plus TikTok's static redirect URI.
    fn check_authorize(&self, params: &Params) -> Result<AuthorizeRequest, String> {
        if params
            .get("redirect_uri")
            .is_some_and(|uri| uri.contains('?'))
        {
            return Err(
                "redirect_uri must be a static URL without a query or fragment.".to_owned(),
            );
        }
        self.oauth
            .check_authorize(params)
            .map_err(|problem| problem.replace("client_id", "client_key"))
    }

    /// The consent's outcome, as the URL TikTok would redirect the browser to. Shared by the form
    /// and [`TikTokFake::authorize_directly`], so both check the same things.
    fn decide(&mut self, params: Params, now: DateTime<Utc>) -> Result<String, String> {
        let params = with_client_id(params);
        let request = self.check_authorize(&params)?;
        match Decision::from_form(&params)? {
            Decision::Deny => Ok(request.denied_location()),
            Decision::Allow { username } => {
                USERNAMES.check(&username)?;
                let index = self.account_index(&username);
                let open_id = self.accounts[index].open_id.clone();
                Ok(self.oauth.approve(request, &open_id, now))
            }
        }
    }

    fn account_named(&self, username: &str) -> Option<&Account> {
        self.accounts
            .iter()
            .find(|account| account.username.eq_ignore_ascii_case(username))
    }

    fn open_id(&self, username: &str) -> Option<String> {
        self.account_named(username)
            .map(|account| account.open_id.clone())
    }

    /// The index of the account with this username, made with default creator settings if new.
    fn account_index(&mut self, username: &str) -> usize {
        if let Some(index) = self
            .accounts
            .iter()
            .position(|account| account.username.eq_ignore_ascii_case(username))
        {
            return index;
        }
        self.accounts.push(Account {
            open_id: random_token("-000"),
            union_id: random_token("u."),
            username: username.to_owned(),
            privacy_options: DEFAULT_PRIVACY_OPTIONS
                .iter()
                .map(|&option| option.to_owned())
                .collect(),
            max_video_duration_secs: DEFAULT_MAX_VIDEO_DURATION_SECS,
            interactions: Interactions::default(),
        });
        self.accounts.len() - 1
    }

    /// The account behind a live bearer token granted any one of `any_of`.
    fn authenticate(
        &self,
        headers: &HeaderMap,
        any_of: &[&str],
        now: DateTime<Utc>,
    ) -> Result<Account, ApiError> {
        let grant = self
            .oauth
            .authenticate(bearer_token(headers), &[], now)
            .map_err(bearer_refusal)?;
        require_scope(&grant.scopes, any_of)?;
        self.accounts
            .iter()
            .find(|account| account.open_id == grant.account_id)
            .cloned()
            .ok_or_else(|| bearer_refusal(BearerError::Unknown))
    }

    /// Counts the request in its token's window for `endpoint`, or refuses it with a 429.
    fn admit(
        &mut self,
        endpoint: Endpoint,
        headers: &HeaderMap,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let Some(limit) = self.rate_limits.of(endpoint) else {
            return Ok(());
        };
        let token = bearer_token(headers).unwrap_or_default().to_owned();
        let fresh = RateWindow {
            started_at: now,
            used: 0,
        };
        let window = self.rate_windows.entry((endpoint, token)).or_insert(fresh);
        let ends_at = window.started_at + TimeDelta::seconds(RATE_WINDOW_SECS);
        if now >= ends_at {
            *window = fresh;
        } else if window.used >= limit {
            return Err(ApiError::rate_limited((ends_at - now).num_seconds().max(1)));
        }
        window.used += 1;
        Ok(())
    }

    /// An unaudited app's creators can only post privately.
    fn privacy_options(&self, account: &Account) -> Vec<String> {
        if self.unaudited {
            vec![PRIVATE.to_owned()]
        } else {
            account.privacy_options.clone()
        }
    }

    // --- Tokens -------------------------------------------------------------------------------

    fn token(&mut self, params: &Params, now: DateTime<Utc>) -> Response {
        let client = form_credentials(params);
        match self.oauth.token_request(client.as_ref(), params, None, now) {
            Ok(tokens) => Json(token_json(&tokens)).into_response(),
            Err(error) => oauth_refusal(&error),
        }
    }

    /// Revoking any token of a grant ends the user's whole authorization of the app.
    fn revoke(&mut self, params: &Params) -> Response {
        if let Err(error) = self.oauth.check_client(form_credentials(params).as_ref()) {
            return oauth_refusal(&error);
        }
        let Some(token) = params.get("token").filter(|token| !token.is_empty()) else {
            return oauth_refusal(&OAuthError::InvalidRequest("token is missing.".to_owned()));
        };
        self.oauth.revoke_grant(token);
        Json(json!({})).into_response()
    }

    // --- Reads --------------------------------------------------------------------------------

    /// `fields` is required and names only known fields.
    fn user_info(
        &self,
        headers: &HeaderMap,
        query: &Params,
        now: DateTime<Utc>,
    ) -> Result<Value, ApiError> {
        let account = self.authenticate(headers, &[SCOPE_USER_BASIC], now)?;
        let mut user = serde_json::Map::new();
        for field in requested_fields(query, USER_FIELDS)? {
            let value = match field {
                "open_id" => account.open_id.clone(),
                "union_id" => account.union_id.clone(),
                "display_name" | "username" => account.username.clone(),
                _ => avatar_data_url(&account.username),
            };
            user.insert(field.to_owned(), Value::from(value));
        }
        Ok(json!({ "user": user }))
    }

    fn creator_info(&self, headers: &HeaderMap, now: DateTime<Utc>) -> Result<Value, ApiError> {
        let account = self.authenticate(headers, &[SCOPE_PUBLISH], now)?;
        Ok(json!({
            "creator_username": account.username,
            "creator_nickname": account.username,
            "creator_avatar_url": avatar_data_url(&account.username),
            "privacy_level_options": self.privacy_options(&account),
            "comment_disabled": account.interactions.comment_disabled,
            "duet_disabled": account.interactions.duet_disabled,
            "stitch_disabled": account.interactions.stitch_disabled,
            "max_video_post_duration_sec": account.max_video_duration_secs,
        }))
    }

    /// One status fetch of the caller's own post: it moves along its sequence.
    fn status_fetch(
        &mut self,
        headers: &HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Value, ApiError> {
        let owner = self.authenticate(headers, &[SCOPE_PUBLISH, SCOPE_UPLOAD], now)?;
        self.admit(Endpoint::StatusFetch, headers, now)?;
        #[derive(Deserialize)]
        struct StatusRequest {
            publish_id: Option<String>,
        }
        let request: StatusRequest = parse_json(body)?;
        let publish_id = request
            .publish_id
            .ok_or_else(|| ApiError::invalid("publish_id is required."))?;
        let record = self
            .posts
            .iter_mut()
            .find(|record| {
                record.post.publish_id == publish_id && record.post.open_id == owner.open_id
            })
            .ok_or_else(|| {
                ApiError::invalid(format!(
                    "publish_id \"{publish_id}\" is not a publish of this user."
                ))
            })?;
        let revealed: Vec<Value> = record.advance().iter().map(|id| numeric_id(id)).collect();
        let post = &record.post;
        let downloaded: u64 = post
            .pulled
            .iter()
            .filter_map(|media| media.fetched.as_ref())
            .map(|fetched| fetched.bytes)
            .sum();
        let mut data = json!({
            "status": post.status.as_str(),
            "publicaly_available_post_id": revealed,
            "uploaded_bytes": post.bytes_received,
            "downloaded_bytes": downloaded,
        });
        if let Some(reason) = &post.fail_reason {
            data["fail_reason"] = Value::from(reason.as_str());
        }
        Ok(data)
    }

    /// The caller's posts on the account, newest first: what reconciliation reads.
    fn video_list(
        &self,
        headers: &HeaderMap,
        query: &Params,
        body: &[u8],
        reached_at: &str,
        now: DateTime<Utc>,
    ) -> Result<Value, ApiError> {
        let owner = self.authenticate(headers, &[SCOPE_LIST], now)?;
        let fields = requested_fields(query, VIDEO_FIELDS)?;
        #[derive(Deserialize, Default)]
        struct ListRequest {
            max_count: Option<usize>,
            cursor: Option<u64>,
        }
        let request: ListRequest = if body.is_empty() {
            ListRequest::default()
        } else {
            parse_json(body)?
        };
        let max_count = request.max_count.unwrap_or(DEFAULT_LIST_COUNT);
        if !(1..=MAX_LIST_COUNT).contains(&max_count) {
            return Err(ApiError::invalid(format!(
                "max_count must be 1 to {MAX_LIST_COUNT}."
            )));
        }
        // 0 is what clients send for "from the start".
        let cursor = request.cursor.filter(|cursor| *cursor > 0);
        let listed: Vec<&FakePost> = self
            .posts
            .iter()
            .rev()
            .filter(|record| record.post.open_id == owner.open_id && record.on_account())
            .map(|record| &record.post)
            .filter(|post| cursor.is_none_or(|cursor| post_number(post) <= cursor))
            .collect();
        let base = self.base_url.as_deref().unwrap_or(reached_at);
        let videos: Vec<Value> = listed
            .iter()
            .take(max_count)
            .map(|post| video_json(post, &fields, base, now))
            .collect();
        let next = listed.get(max_count).map(|post| post_number(post));
        Ok(json!({
            "videos": videos,
            "cursor": next.unwrap_or(0),
            "has_more": next.is_some(),
        }))
    }

    /// The caller's posts among `filters.video_ids`, with the fields asked for.
    fn video_query(
        &self,
        headers: &HeaderMap,
        query: &Params,
        body: &[u8],
        reached_at: &str,
        now: DateTime<Utc>,
    ) -> Result<Value, ApiError> {
        let owner = self.authenticate(headers, &[SCOPE_LIST], now)?;
        let fields = requested_fields(query, VIDEO_FIELDS)?;
        #[derive(Deserialize)]
        struct QueryRequest {
            filters: Option<Filters>,
        }
        #[derive(Deserialize)]
        struct Filters {
            #[serde(default)]
            video_ids: Vec<Value>,
        }
        let request: QueryRequest = parse_json(body)?;
        let ids: Vec<String> = request
            .filters
            .map(|filters| filters.video_ids)
            .unwrap_or_default()
            .iter()
            .filter_map(|id| match id {
                Value::String(text) => Some(text.clone()),
                Value::Number(number) => Some(number.to_string()),
                _ => None,
            })
            .collect();
        if ids.is_empty() || ids.len() > MAX_QUERY_IDS {
            return Err(ApiError::invalid(format!(
                "filters.video_ids must list 1 to {MAX_QUERY_IDS} video ids."
            )));
        }
        let base = self.base_url.as_deref().unwrap_or(reached_at);
        let videos: Vec<Value> = self
            .posts
            .iter()
            .filter(|record| record.post.open_id == owner.open_id && record.on_account())
            .map(|record| &record.post)
            .filter(|post| ids.contains(&post.post_id))
            .map(|post| video_json(post, &fields, base, now))
            .collect();
        Ok(json!({ "videos": videos, "cursor": 0, "has_more": false }))
    }

    // --- Posting ------------------------------------------------------------------------------

    /// The commit point: token, scope, rate, body, privacy; then the post exists.
    fn init(
        &mut self,
        endpoint: Endpoint,
        headers: &HeaderMap,
        body: &[u8],
        reached_at: &str,
        now: DateTime<Utc>,
    ) -> Result<Committed, ApiError> {
        let owner = self.authenticate(headers, &[init_scope(endpoint, body)], now)?;
        self.admit(endpoint, headers, now)?;
        let mut draft = parse_init(endpoint, body)?;
        if draft.mode == PostMode::DirectPost {
            draft.privacy_level = Some(self.check_privacy(&owner, draft.privacy_level.as_deref())?);
        }
        Ok(self.commit(&owner, draft, reached_at, now))
    }

    fn check_privacy(&self, owner: &Account, level: Option<&str>) -> Result<String, ApiError> {
        let Some(level) = level else {
            return Err(ApiError::invalid(
                "post_info.privacy_level is required for a direct post.",
            ));
        };
        if self.unaudited && level != PRIVATE {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "unaudited_client_can_only_post_to_private_accounts",
                "Unaudited clients can only post with SELF_ONLY privacy.",
            ));
        }
        if !self
            .privacy_options(owner)
            .iter()
            .any(|option| option == level)
        {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "privacy_level_option_mismatch",
                format!(
                    "privacy_level \"{level}\" is not one of the creator's privacy_level_options."
                ),
            ));
        }
        Ok(level.to_owned())
    }

    fn commit(
        &mut self,
        owner: &Account,
        draft: Draft,
        reached_at: &str,
        now: DateTime<Utc>,
    ) -> Committed {
        let (kind, source) = match (&draft.media_type, &draft.source) {
            (MediaType::Photo, _) => ("p_pub_url", SourceKind::PullFromUrl),
            (MediaType::Video, DraftSource::File(_)) => ("v_pub_file", SourceKind::FileUpload),
            (MediaType::Video, DraftSource::Pull(_)) => ("v_pub_url", SourceKind::PullFromUrl),
        };
        let publish_id = format!("{kind}~v2-1.{}", self.publish_numbers.next_id());
        let mut data = json!({ "publish_id": publish_id });
        let (upload, pulled) = match draft.source {
            DraftSource::File(plan) => {
                let upload = Upload {
                    id: random_token(""),
                    token: random_token(""),
                    plan,
                    stored: ReceivedBytes::new(),
                };
                let base = self.base_url.as_deref().unwrap_or(reached_at);
                data["upload_url"] = Value::from(format!(
                    "{base}{UPLOAD_PATH}?upload_id={}&upload_token={}",
                    upload.id, upload.token
                ));
                (Some(upload), Vec::new())
            }
            DraftSource::Pull(urls) => {
                let pulled = urls
                    .into_iter()
                    .map(|url| PulledMedia { url, fetched: None })
                    .collect();
                (None, pulled)
            }
        };
        let to_pull: Vec<String> = if self.fetch_pulled_media {
            pulled
                .iter()
                .map(|media: &PulledMedia| media.url.clone())
                .collect()
        } else {
            Vec::new()
        };
        let post = FakePost {
            publish_id: publish_id.clone(),
            post_id: self.post_ids.next_id(),
            owner_username: owner.username.clone(),
            open_id: owner.open_id.clone(),
            mode: draft.mode,
            media_type: draft.media_type,
            source,
            title: draft.title,
            description: draft.description,
            privacy_level: draft.privacy_level,
            interactions: draft.interactions,
            pulled,
            video_size: upload.as_ref().map(|upload| upload.plan.video_size),
            bytes_received: 0,
            sha256_hex: None,
            status: processing(source),
            fail_reason: None,
            on_account: false,
            created_at: now,
        };
        self.posts.push(PostRecord {
            post,
            upload,
            upcoming: self.status_sequence.clone().into(),
        });
        Committed {
            publish_id,
            data,
            to_pull,
        }
    }

    /// What the real GETs brought, in the order of the post's URLs. A failed pull fails the post
    /// at once.
    fn record_pulls(&mut self, publish_id: &str, fetched: Vec<Fetched>) {
        let Some(record) = self
            .posts
            .iter_mut()
            .find(|record| record.post.publish_id == publish_id)
        else {
            return;
        };
        for (media, fetched) in record.post.pulled.iter_mut().zip(fetched) {
            media.fetched = Some(fetched);
        }
        if record.pull_failed() {
            record.advance();
        }
    }

    // --- Upload chunks ------------------------------------------------------------------------

    /// Checks a PUT's headers against its upload: the next chunk, in order, of the announced size.
    fn open_chunk(&mut self, query: &Params, headers: &HeaderMap) -> Result<OpenChunk, ApiError> {
        let named = |name: &str| query.get(name).map(String::as_str).unwrap_or_default();
        let (publish_id, upload) = self
            .posts
            .iter()
            .find_map(|record| {
                let upload = record.upload.as_ref()?;
                (upload.id == named("upload_id") && upload.token == named("upload_token"))
                    .then_some((record.post.publish_id.clone(), upload))
            })
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "invalid_params",
                    "The upload URL is not one this sandbox handed out.",
                )
            })?;
        check_video_content_type(headers)?;
        let range =
            header_str(headers, header::CONTENT_RANGE.as_str()).and_then(ContentRange::parse);
        let Some(ContentRange::Bytes { first, last, total }) = range else {
            return Err(ApiError::invalid(
                "Content-Range must read bytes {first}-{last}/{total}.",
            ));
        };
        let len = upload
            .plan
            .expect_chunk(upload.stored.len(), first, last, total)?;
        let declared = header_str(headers, header::CONTENT_LENGTH.as_str())
            .and_then(|value| value.trim().parse::<u64>().ok());
        if declared != Some(len) {
            return Err(ApiError::invalid(format!(
                "Content-Length must be the chunk's {len} bytes."
            )));
        }
        let stored = upload.stored.clone();
        Ok(OpenChunk {
            publish_id,
            first,
            len,
            stored,
            interruption: self.interruptions.pop_front(),
        })
    }

    /// Keeps a whole chunk: 206 until the file is complete, then 201. A chunk another PUT landed
    /// first is refused like any out-of-order chunk.
    fn land_chunk(
        &mut self,
        publish_id: &str,
        first: u64,
        stored: ReceivedBytes,
    ) -> Result<Response, ApiError> {
        let record = self
            .posts
            .iter_mut()
            .find(|record| record.post.publish_id == publish_id);
        let Some((post, upload)) =
            record.and_then(|record| Some((&mut record.post, record.upload.as_mut()?)))
        else {
            return Err(ApiError::internal());
        };
        if upload.stored.len() != first {
            return Err(ApiError::out_of_order(format!(
                "Bytes from {first} arrived meanwhile by another request; {} bytes are held.",
                upload.stored.len()
            )));
        }
        upload.stored = stored;
        post.bytes_received = upload.stored.len();
        if upload.stored.len() < upload.plan.video_size {
            return Ok(StatusCode::PARTIAL_CONTENT.into_response());
        }
        post.sha256_hex = Some(upload.stored.sha256_hex());
        Ok(StatusCode::CREATED.into_response())
    }
}

// ---------------------------------------------------------------------------------------------
// Checking a request.

/// TikTok names the app `client_key`; the kit reads `client_id`. Only `client_key` counts: a
/// client that sends `client_id` instead is refused, as TikTok would refuse it.
fn with_client_id(mut params: Params) -> Params {
    params.remove("client_id");
    if let Some(key) = params.get("client_key").cloned() {
        params.insert("client_id".to_owned(), key);
    }
    params
}

fn require_scope(scopes: &Scopes, any_of: &[&str]) -> Result<(), ApiError> {
    if any_of.is_empty() || any_of.iter().any(|scope| scopes.contains(scope)) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::UNAUTHORIZED,
        "scope_not_authorized",
        format!(
            "The user did not authorize the scope required for completing this request: {}.",
            any_of.join(" or ")
        ),
    ))
}

/// The scope an init takes: `video.upload` for the inbox and a `MEDIA_UPLOAD` photo post,
/// `video.publish` for a direct post.
fn init_scope(endpoint: Endpoint, body: &[u8]) -> &'static str {
    let media_upload = || {
        serde_json::from_slice::<Value>(body)
            .is_ok_and(|request| request["post_mode"] == "MEDIA_UPLOAD")
    };
    match endpoint {
        Endpoint::InboxVideoInit => SCOPE_UPLOAD,
        Endpoint::ContentInit if media_upload() => SCOPE_UPLOAD,
        _ => SCOPE_PUBLISH,
    }
}

/// The comma-separated `fields` query parameter: required, each one of `known`.
fn requested_fields<'a>(query: &'a Params, known: &[&str]) -> Result<Vec<&'a str>, ApiError> {
    let fields: Vec<&str> = query
        .get("fields")
        .map(|fields| {
            fields
                .split(',')
                .map(str::trim)
                .filter(|field| !field.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if fields.is_empty() {
        return Err(ApiError::invalid("fields is required."));
    }
    if let Some(unknown) = fields.iter().find(|field| !known.contains(field)) {
        return Err(ApiError::invalid(format!(
            "fields: \"{unknown}\" is not a known field."
        )));
    }
    Ok(fields)
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|error| ApiError::invalid(format!("The request body is not valid: {error}")))
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn check_video_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let media_type = header_str(headers, header::CONTENT_TYPE.as_str())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if VIDEO_CONTENT_TYPES.contains(&media_type.as_str()) {
        Ok(())
    } else {
        Err(ApiError::upload(format!(
            "Content-Type must be one of {}; it is \"{media_type}\".",
            VIDEO_CONTENT_TYPES.join(", ")
        )))
    }
}

/// Characters, not bytes.
fn check_length(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.chars().count() > max {
        return Err(ApiError::invalid(format!(
            "{field} is longer than {max} characters."
        )));
    }
    Ok(())
}

/// Any absolute http(s) URL: the fake records it (and pulls it only when told to).
fn check_url(field: &str, value: &str) -> Result<(), ApiError> {
    match url::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(()),
        _ => Err(ApiError::invalid(format!(
            "{field} is not an http(s) URL: \"{value}\"."
        ))),
    }
}

/// An init's body; fields the fake does not check (brand toggles, `is_aigc`, cover timestamp,
/// `auto_add_music`) are ignored.
#[derive(Debug, Deserialize)]
struct InitRequest {
    post_info: Option<PostInfo>,
    source_info: Option<SourceInfo>,
    post_mode: Option<String>,
    media_type: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct PostInfo {
    title: Option<String>,
    description: Option<String>,
    privacy_level: Option<String>,
    #[serde(default)]
    disable_comment: bool,
    #[serde(default)]
    disable_duet: bool,
    #[serde(default)]
    disable_stitch: bool,
}

impl PostInfo {
    fn interactions(&self) -> Interactions {
        Interactions {
            comment_disabled: self.disable_comment,
            duet_disabled: self.disable_duet,
            stitch_disabled: self.disable_stitch,
        }
    }
}

#[derive(Debug, Deserialize)]
struct SourceInfo {
    source: Option<String>,
    video_size: Option<u64>,
    chunk_size: Option<u64>,
    total_chunk_count: Option<u64>,
    video_url: Option<String>,
    photo_images: Option<Vec<String>>,
    photo_cover_index: Option<usize>,
}

/// An init's body, checked as far as it can be without the world.
#[derive(Debug)]
struct Draft {
    mode: PostMode,
    media_type: MediaType,
    source: DraftSource,
    title: String,
    description: String,
    privacy_level: Option<String>,
    interactions: Interactions,
}

#[derive(Debug)]
enum DraftSource {
    File(ChunkPlan),
    Pull(Vec<String>),
}

fn parse_init(endpoint: Endpoint, body: &[u8]) -> Result<Draft, ApiError> {
    let request: InitRequest = parse_json(body)?;
    let source = request
        .source_info
        .ok_or_else(|| ApiError::invalid("source_info is required."))?;
    match endpoint {
        Endpoint::ContentInit => parse_photo_post(
            request.post_info.unwrap_or_default(),
            source,
            request.post_mode.as_deref(),
            request.media_type.as_deref(),
        ),
        // platforms.md: the inbox init ignores post_info.
        Endpoint::InboxVideoInit => Ok(Draft {
            mode: PostMode::Inbox,
            media_type: MediaType::Video,
            source: video_source(source)?,
            title: String::new(),
            description: String::new(),
            privacy_level: None,
            interactions: Interactions::default(),
        }),
        _ => {
            let info = request
                .post_info
                .ok_or_else(|| ApiError::invalid("post_info is required for a direct post."))?;
            let title = info.title.clone().unwrap_or_default();
            check_length("post_info.title", &title, MAX_VIDEO_TITLE_CHARS)?;
            Ok(Draft {
                mode: PostMode::DirectPost,
                media_type: MediaType::Video,
                source: video_source(source)?,
                title,
                description: String::new(),
                interactions: info.interactions(),
                privacy_level: info.privacy_level,
            })
        }
    }
}

fn video_source(source: SourceInfo) -> Result<DraftSource, ApiError> {
    match source.source.as_deref() {
        Some("FILE_UPLOAD") => {
            let required = |value: Option<u64>, name: &str| {
                value.ok_or_else(|| {
                    ApiError::invalid(format!("source_info.{name} is required for FILE_UPLOAD."))
                })
            };
            let plan = ChunkPlan::check(
                required(source.video_size, "video_size")?,
                required(source.chunk_size, "chunk_size")?,
                required(source.total_chunk_count, "total_chunk_count")?,
            )
            .map_err(ApiError::invalid)?;
            Ok(DraftSource::File(plan))
        }
        Some("PULL_FROM_URL") => {
            let url = source.video_url.ok_or_else(|| {
                ApiError::invalid("source_info.video_url is required for PULL_FROM_URL.")
            })?;
            check_url("source_info.video_url", &url)?;
            Ok(DraftSource::Pull(vec![url]))
        }
        _ => Err(ApiError::invalid(
            "source_info.source must be FILE_UPLOAD or PULL_FROM_URL.",
        )),
    }
}

fn parse_photo_post(
    info: PostInfo,
    source: SourceInfo,
    post_mode: Option<&str>,
    media_type: Option<&str>,
) -> Result<Draft, ApiError> {
    if media_type != Some("PHOTO") {
        return Err(ApiError::invalid("media_type must be \"PHOTO\"."));
    }
    let mode = match post_mode {
        Some("DIRECT_POST") => PostMode::DirectPost,
        Some("MEDIA_UPLOAD") => PostMode::Inbox,
        _ => {
            return Err(ApiError::invalid(
                "post_mode must be DIRECT_POST or MEDIA_UPLOAD.",
            ));
        }
    };
    if source.source.as_deref() != Some("PULL_FROM_URL") {
        return Err(ApiError::invalid(
            "Photos are only pulled: source_info.source must be PULL_FROM_URL.",
        ));
    }
    let images = source.photo_images.unwrap_or_default();
    if !(1..=MAX_PHOTOS).contains(&images.len()) {
        return Err(ApiError::invalid(format!(
            "source_info.photo_images has {} URLs; it takes 1 to {MAX_PHOTOS}.",
            images.len()
        )));
    }
    for url in &images {
        check_url("source_info.photo_images", url)?;
    }
    if source.photo_cover_index.unwrap_or(0) >= images.len() {
        return Err(ApiError::invalid(
            "source_info.photo_cover_index is past the last photo.",
        ));
    }
    let title = info.title.clone().unwrap_or_default();
    let description = info.description.clone().unwrap_or_default();
    check_length("post_info.title", &title, MAX_PHOTO_TITLE_CHARS)?;
    check_length(
        "post_info.description",
        &description,
        MAX_PHOTO_DESCRIPTION_CHARS,
    )?;
    Ok(Draft {
        mode,
        media_type: MediaType::Photo,
        source: DraftSource::Pull(images),
        title,
        description,
        interactions: info.interactions(),
        privacy_level: info.privacy_level,
    })
}

/// A `FILE_UPLOAD`'s announced sizes, checked by platforms.md's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ChunkPlan {
    video_size: u64,
    chunk_size: u64,
    total_chunk_count: u64,
}

impl ChunkPlan {
    /// A file under the minimum chunk goes whole; a bigger one in chunks of 5 MB to 64 MB, as
    /// many as `floor(video_size / chunk_size)` (1 to 1000), the last taking the remainder.
    fn check(video_size: u64, chunk_size: u64, total_chunk_count: u64) -> Result<Self, String> {
        let plan = Self {
            video_size,
            chunk_size,
            total_chunk_count,
        };
        if video_size == 0 {
            return Err("source_info.video_size must be more than 0.".to_owned());
        }
        if video_size < MIN_CHUNK_BYTES {
            return if chunk_size == video_size && total_chunk_count == 1 {
                Ok(plan)
            } else {
                Err(format!(
                    "A video under {MIN_CHUNK_BYTES} bytes goes whole: chunk_size = video_size \
                     ({video_size}) and total_chunk_count = 1."
                ))
            };
        }
        if !(MIN_CHUNK_BYTES..=MAX_CHUNK_BYTES).contains(&chunk_size) || chunk_size > video_size {
            return Err(format!(
                "chunk_size must be {MIN_CHUNK_BYTES} to {MAX_CHUNK_BYTES} bytes and at most \
                 video_size; it is {chunk_size}."
            ));
        }
        let expected = video_size / chunk_size;
        if total_chunk_count != expected {
            return Err(format!(
                "total_chunk_count must be floor(video_size / chunk_size) = {expected}; it is \
                 {total_chunk_count}."
            ));
        }
        if expected > MAX_CHUNKS {
            return Err(format!(
                "A video takes 1 to {MAX_CHUNKS} chunks; this one {expected}."
            ));
        }
        Ok(plan)
    }

    /// The size of chunk `index` (from 0): the last takes the remainder.
    fn chunk_len(&self, index: u64) -> u64 {
        if index + 1 >= self.total_chunk_count {
            self.video_size - self.chunk_size * (self.total_chunk_count - 1)
        } else {
            self.chunk_size
        }
    }

    /// The length of the chunk a PUT announces, if it is the next one whole.
    fn expect_chunk(
        &self,
        held: u64,
        first: u64,
        last: u64,
        total: Option<u64>,
    ) -> Result<u64, ApiError> {
        if total != Some(self.video_size) {
            return Err(ApiError::upload(format!(
                "Content-Range must end in /{}, the video_size the init announced.",
                self.video_size
            )));
        }
        if held == self.video_size {
            return Err(ApiError::out_of_order("Every chunk has arrived already."));
        }
        if first != held {
            return Err(ApiError::out_of_order(format!(
                "This chunk starts at byte {first}, but {held} bytes have arrived: chunks go in \
                 order, and the next starts at {held}."
            )));
        }
        let index = held / self.chunk_size;
        let len = self.chunk_len(index);
        if last + 1 != first + len {
            return Err(ApiError::upload(format!(
                "Chunk {} of {} is bytes {first}-{}.",
                index + 1,
                self.total_chunk_count,
                first + len - 1
            )));
        }
        Ok(len)
    }
}

/// A post id as TikTok sends ids: an int64.
fn numeric_id(id: &str) -> Value {
    id.parse::<u64>()
        .map_or_else(|_| Value::from(id), Value::from)
}

fn post_number(post: &FakePost) -> u64 {
    post.post_id.parse().unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Answers in TikTok's shapes.

/// TikTok's API error: `{"data":{},"error":{"code","message","log_id"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after_secs: Option<i64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_params", message)
    }

    /// A chunk that breaks the upload's rules.
    fn upload(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_file_upload", message)
    }

    /// A chunk that does not start where the received bytes end.
    fn out_of_order(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "invalid_file_upload",
            message,
        )
    }

    fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Something went wrong. Please try again later.",
        )
    }

    fn rate_limited(retry_after_secs: i64) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_exceeded",
                "The API rate limit was exceeded. Please try again later.",
            )
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "data": {},
            "error": { "code": self.code, "message": self.message, "log_id": log_id() },
        });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(0)));
        }
        response
    }
}

fn success(data: Value) -> Response {
    Json(json!({
        "data": data,
        "error": { "code": "ok", "message": "", "log_id": log_id() },
    }))
    .into_response()
}

fn api_answer(result: Result<Value, ApiError>) -> Response {
    result.map_or_else(IntoResponse::into_response, success)
}

/// TikTok's log ids are long uppercase hex-like strings, unique per request.
fn log_id() -> String {
    random_hex(16).to_ascii_uppercase()
}

/// TikTok answers every unusable token with 401 `access_token_invalid`; the sentence is the
/// fake's, so a failing test says which case it met.
fn bearer_refusal(refusal: BearerError) -> ApiError {
    let detail = match refusal {
        BearerError::Missing => "No access token was sent.",
        BearerError::Unknown => "The access token is invalid or not found in the request.",
        BearerError::Revoked => "The access token was revoked.",
        BearerError::Expired => "The access token has expired.",
        BearerError::MissingScope(scope) => {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "scope_not_authorized",
                format!("The user did not authorize the scope {scope}."),
            );
        }
    };
    ApiError::new(StatusCode::UNAUTHORIZED, "access_token_invalid", detail)
}

/// OAuth's shape, which TikTok's token and revoke endpoints answer in.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = json!({ "error": error, "error_description": description, "log_id": log_id() });
    (status, Json(body)).into_response()
}

fn oauth_refusal(refusal: &OAuthError) -> Response {
    let (status, error) = match refusal {
        OAuthError::InvalidClient => (StatusCode::UNAUTHORIZED, "invalid_client"),
        OAuthError::InvalidGrant(_) => (StatusCode::BAD_REQUEST, "invalid_grant"),
        OAuthError::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
        OAuthError::UnsupportedGrantType(_) => (StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    };
    let description = refusal.to_string().replace("client_id", "client_key");
    oauth_error(status, error, &description)
}

/// A scripted failure as TikTok would answer it: OAuth's shape on the token endpoints, the
/// envelope everywhere else (the upload host included).
fn scripted_refusal(endpoint: Endpoint, refusal: Refusal) -> Response {
    if matches!(endpoint, Endpoint::Token | Endpoint::Revoke) {
        return scripted_oauth_refusal(refusal);
    }
    match refusal {
        Refusal::ServerError(status) => ApiError {
            status,
            ..ApiError::internal()
        }
        .into_response(),
        Refusal::RateLimited { reset_in_secs } => {
            ApiError::rate_limited(reset_in_secs).into_response()
        }
        Refusal::ExpiredToken => bearer_refusal(BearerError::Expired).into_response(),
        Refusal::RevokedToken => bearer_refusal(BearerError::Revoked).into_response(),
        Refusal::Validation(message) => ApiError::invalid(message).into_response(),
        Refusal::Duplicate => ApiError::new(
            StatusCode::FORBIDDEN,
            "spam_risk_too_many_posts",
            "The daily post cap from the API is reached for the current user.",
        )
        .into_response(),
    }
}

fn scripted_oauth_refusal(refusal: Refusal) -> Response {
    let bad_request = StatusCode::BAD_REQUEST;
    let (status, error, description) = match &refusal {
        Refusal::ServerError(status) => (*status, "server_error", "Something went wrong."),
        Refusal::RateLimited { .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_exceeded",
            "The API rate limit was exceeded.",
        ),
        Refusal::ExpiredToken => (
            bad_request,
            "invalid_grant",
            "The refresh token has expired.",
        ),
        Refusal::RevokedToken => (
            bad_request,
            "invalid_grant",
            "The refresh token was revoked.",
        ),
        Refusal::Validation(message) => (bad_request, "invalid_request", message.as_str()),
        Refusal::Duplicate => (
            bad_request,
            "invalid_request",
            "The request was already made.",
        ),
    };
    let mut response = oauth_error(status, error, description);
    if let Refusal::RateLimited { reset_in_secs } = refusal {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(reset_in_secs.max(0)));
    }
    response
}

/// Rotation always issues a refresh token, so every answer carries one.
fn token_json(tokens: &IssuedTokens) -> Value {
    let refresh = tokens.refresh.as_ref();
    json!({
        "open_id": tokens.grant.account_id,
        "scope": tokens.grant.scopes.join(','),
        "access_token": tokens.access_token,
        "expires_in": tokens.expires_in,
        "refresh_token": refresh.map(|refresh| refresh.token.as_str()),
        "refresh_expires_in": refresh.and_then(|refresh| refresh.expires_in),
        "token_type": "Bearer",
    })
}

fn share_url(base: &str, post: &FakePost) -> String {
    format!("{base}/@{}/video/{}", post.owner_username, post.post_id)
}

/// One video of the list, with the fields asked for; known fields the fake has no value for
/// (`duration`, `height`, `width`, `embed_html`) are left out. Counts are the post's at `now`.
fn video_json(post: &FakePost, fields: &[&str], base: &str, now: DateTime<Utc>) -> Value {
    let numbers = Engagement::of(&post.post_id, post.created_at, now);
    let mut video = serde_json::Map::new();
    for &field in fields {
        let value = match field {
            "id" => numeric_id(&post.post_id),
            "create_time" => Value::from(post.created_at.timestamp()),
            "title" => Value::from(post.title.as_str()),
            "video_description" if post.media_type == MediaType::Photo => {
                Value::from(post.description.as_str())
            }
            "video_description" => Value::from(post.title.as_str()),
            "share_url" | "embed_link" => Value::from(share_url(base, post)),
            "cover_image_url" => Value::from(avatar_data_url(&post.title)),
            "view_count" => Value::from(numbers.views),
            "like_count" => Value::from(numbers.likes),
            "comment_count" => Value::from(numbers.comments),
            "share_count" => Value::from(numbers.shares),
            _ => continue,
        };
        video.insert(field.to_owned(), value);
    }
    Value::Object(video)
}

// ---------------------------------------------------------------------------------------------
// Pages.

/// `/@{username}/video/{id}`. The post is described, not played: the fake keeps no bytes.
fn post_page(post: &FakePost) -> String {
    let visibility = if post.on_account {
        format!(
            "On the account · privacy {}",
            post.privacy_level.as_deref().unwrap_or("—")
        )
    } else {
        format!("Not on the account: {}", post.status.as_str())
    };
    let media = match (&post.sha256_hex, post.media_type) {
        (Some(sha256), _) => format!(
            "{} bytes uploaded · SHA-256 <code>{sha256}</code>",
            post.bytes_received
        ),
        (None, MediaType::Photo) => format!("{} photo(s) pulled", post.pulled.len()),
        (None, MediaType::Video) => format!("{} pulled video", post.pulled.len()),
    };
    let urls: String = post
        .pulled
        .iter()
        .map(|media| format!("<li>{}</li>", escape_html(&media.url)))
        .collect();
    let body = format!(
        r#"<article aria-labelledby="title">
<h1 id="title">{title}</h1>
<p class="meta">Posted by @{username}</p>
<p class="text">{description}</p>
<p class="meta">{visibility}</p>
<p class="meta">{media}</p>
<ul class="urls">{urls}</ul>
<p class="meta"><time datetime="{datetime}">{shown}</time> · Sandbox post {id}</p>
</article>"#,
        title = escape_html(&post.title),
        username = escape_html(&post.owner_username),
        description = escape_html(&post.description),
        visibility = escape_html(&visibility),
        datetime = post.created_at.to_rfc3339(),
        shown = post.created_at.format("%-d %b %Y, %H:%M UTC"),
        id = escape_html(&post.post_id),
    );
    page(
        &format!("{} - Sandbox TikTok", post.title),
        &body,
        VIDEO_PAGE_STYLESHEET,
    )
}

fn missing_page(stylesheet: &str) -> Response {
    let html = page(
        "Sandbox TikTok — not found",
        "<h1>This does not exist in the sandbox</h1>",
        stylesheet,
    );
    (StatusCode::NOT_FOUND, Html(html)).into_response()
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
        self.open_id(username)
    }
}

impl FakeControls for TikTokFake {
    type World = World;

    fn world(&self) -> MutexGuard<'_, World> {
        self.lock()
    }
}

#[cfg(test)]
mod tests {
    use axum::routing::get;
    use sha2::{Digest as _, Sha256};
    use tokio::task::JoinHandle;

    use super::*;
    use crate::clock::ManualClock;
    use crate::sandbox::kit::oauth::s256;
    use crate::sandbox::kit::request::with_query;

    const REDIRECT: &str = "http://127.0.0.1:3000/connections/tiktok/callback";
    const VERIFIER: &str = "a-pkce-verifier-of-at-least-43-characters-0123456789";
    const ALL_SCOPES: &str = "user.info.basic,video.publish,video.upload,video.list";
    const CREATOR_INFO: &str = "/v2/post/publish/creator_info/query/";
    const STATUS: &str = "/v2/post/publish/status/fetch/";
    const LIST: &str = "/v2/video/list/?fields=id,create_time,title,share_url";
    const MB: u64 = 1_000_000;

    /// A file of `len` bytes that is not a repeating pattern of any chunk size.
    fn file(len: u64) -> Vec<u8> {
        (0..len as usize)
            .map(|n| (n.wrapping_mul(31) ^ (n >> 11)) as u8)
            .collect()
    }

    fn sha256_hex(data: &[u8]) -> String {
        hex::encode(Sha256::digest(data))
    }

    fn direct_video(source_info: Value) -> Value {
        let post_info = json!({ "title": "A video", "privacy_level": "PUBLIC_TO_EVERYONE",
                                "disable_duet": true, "brand_content_toggle": false });
        json!({ "post_info": post_info, "source_info": source_info })
    }

    fn file_upload(size: u64, chunk: u64, count: u64) -> Value {
        direct_video(
            json!({ "source": "FILE_UPLOAD", "video_size": size, "chunk_size": chunk,
                             "total_chunk_count": count }),
        )
    }

    fn pulled(url: &str) -> Value {
        direct_video(json!({ "source": "PULL_FROM_URL", "video_url": url }))
    }

    fn photos(urls: &[&str], post_mode: &str) -> Value {
        json!({
            "post_info": { "title": "Photos", "description": "Some photos", "privacy_level": "SELF_ONLY" },
            "source_info": { "source": "PULL_FROM_URL", "photo_cover_index": 0, "photo_images": urls },
            "post_mode": post_mode,
            "media_type": "PHOTO",
        })
    }

    fn inbox(url: &str) -> Value {
        json!({ "source_info": { "source": "PULL_FROM_URL", "video_url": url } })
    }

    /// A refusal's status and code: TikTok's envelope, or OAuth's `error`.
    fn assert_refused(answer: &(StatusCode, Value), status: StatusCode, code: &str) {
        let error = &answer.1["error"];
        let found = error.get("code").unwrap_or(error);
        assert_eq!(
            (answer.0, found.as_str()),
            (status, Some(code)),
            "{}",
            answer.1
        );
    }

    /// The fake on a loopback port, with a client: uploads need a real connection to be streamed
    /// and broken.
    struct Harness {
        fake: TikTokFake,
        base: String,
        http: reqwest::Client,
        server: JoinHandle<()>,
    }

    impl Drop for Harness {
        fn drop(&mut self) {
            self.server.abort();
        }
    }

    async fn harness() -> Harness {
        serve(TikTokFake::new("key", "secret")).await
    }

    async fn serve(fake: TikTokFake) -> Harness {
        let (address, server) = crate::sandbox::serve(fake.router()).await.unwrap();
        let base = format!("http://{address}");
        let http = reqwest::Client::new();
        Harness {
            fake,
            base,
            http,
            server,
        }
    }

    fn authorize_url(scopes: &str, extra: &[(&str, &str)]) -> String {
        let mut pairs = vec![
            ("client_key", "key"),
            ("response_type", "code"),
            ("scope", scopes),
            ("redirect_uri", REDIRECT),
            ("state", "st4te"),
        ];
        pairs.extend_from_slice(extra);
        with_query(&format!("https://www.tiktok.test{AUTHORIZE_PATH}"), &pairs)
    }

    fn code_in(location: &str) -> String {
        let (_, query) = location.split_once('?').unwrap();
        parse_query(Some(query))["code"].clone()
    }

    async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A request's body, or the error of sending it or of reading its body.
    async fn outcome(sent: reqwest::Result<reqwest::Response>) -> reqwest::Result<Bytes> {
        sent?.bytes().await
    }

    impl Harness {
        async fn token(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
            let url = format!("{}/v2/oauth/token/", self.base);
            json_of(self.http.post(url).form(form).send().await.unwrap()).await
        }

        async fn exchange(&self, code: &str, verifier: Option<&str>) -> (StatusCode, Value) {
            let mut form = vec![
                ("client_key", "key"),
                ("client_secret", "secret"),
                ("code", code),
                ("grant_type", "authorization_code"),
                ("redirect_uri", REDIRECT),
            ];
            form.extend(verifier.map(|verifier| ("code_verifier", verifier)));
            self.token(&form).await
        }

        async fn refresh(&self, refresh_token: &Value) -> (StatusCode, Value) {
            self.token(&[
                ("client_key", "key"),
                ("client_secret", "secret"),
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.as_str().unwrap()),
            ])
            .await
        }

        /// Consent as `username` for `scopes`, then the code exchange: the access token.
        async fn connect(&self, username: &str, scopes: &str) -> String {
            let url = authorize_url(scopes, &[]);
            let location = self.fake.authorize_directly(&url, username).unwrap();
            let (status, tokens) = self.exchange(&code_in(&location), None).await;
            assert_eq!(status, StatusCode::OK, "{tokens}");
            tokens["access_token"].as_str().unwrap().to_owned()
        }

        async fn post(&self, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
            let url = format!("{}{path}", self.base);
            let request = self.http.post(url).bearer_auth(token).json(body);
            json_of(request.send().await.unwrap()).await
        }

        /// A call that must succeed: its `data`.
        async fn data(&self, path: &str, token: &str, body: &Value) -> Value {
            let (status, answer) = self.post(path, token, body).await;
            assert_eq!(
                (status, &answer["error"]["code"]),
                (StatusCode::OK, &json!("ok"))
            );
            answer["data"].clone()
        }

        async fn status(&self, token: &str, publish_id: &Value) -> Value {
            let body = json!({ "publish_id": publish_id });
            self.data(STATUS, token, &body).await
        }

        async fn put_chunk(
            &self,
            upload_url: &Value,
            data: &[u8],
            first: u64,
            total: u64,
        ) -> reqwest::Result<reqwest::Response> {
            let range = format!("bytes {first}-{}/{total}", first + data.len() as u64 - 1);
            let request = self.http.put(upload_url.as_str().unwrap());
            let request = request.header(header::CONTENT_TYPE, "video/mp4");
            let request = request.header(header::CONTENT_RANGE, range);
            request.body(data.to_vec()).send().await
        }
    }

    #[tokio::test]
    async fn a_pkce_code_redeems_once_with_its_verifier_into_tiktoks_token_answer() {
        let h = harness().await;
        let challenge = s256(VERIFIER);
        let pkce = [
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        let url = authorize_url(ALL_SCOPES, &pkce);
        let location = h.fake.authorize_directly(&url, "alice").unwrap();
        assert!(location.starts_with(REDIRECT) && location.ends_with("&state=st4te"));
        let code = code_in(&location);

        let without = h.exchange(&code, None).await;
        assert_refused(&without, StatusCode::BAD_REQUEST, "invalid_request");
        assert!(without.1["log_id"].is_string());
        let wrong = "another-verifier-of-43-characters-000000000";
        let refused = h.exchange(&code, Some(wrong)).await;
        assert_refused(&refused, StatusCode::BAD_REQUEST, "invalid_grant");

        let (status, tokens) = h.exchange(&code, Some(VERIFIER)).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        assert_eq!(tokens["open_id"], h.fake.open_id("alice").unwrap().as_str());
        assert_eq!(tokens["scope"], ALL_SCOPES);
        assert_eq!(tokens["expires_in"], 86_400);
        assert_eq!(tokens["refresh_expires_in"], 31_536_000);
        assert_eq!(tokens["token_type"], "Bearer");
        assert!(tokens["refresh_token"].is_string());
        let again = h.exchange(&code, Some(VERIFIER)).await;
        assert_refused(&again, StatusCode::BAD_REQUEST, "invalid_grant");
        assert_eq!(h.fake.code_exchange_count(), 4);

        // A web flow without a challenge needs no verifier; `client_id` is not TikTok's name.
        let url = authorize_url(ALL_SCOPES, &[]);
        let code = code_in(&h.fake.authorize_directly(&url, "alice").unwrap());
        let wrong_name = [
            ("client_id", "key"),
            ("client_secret", "secret"),
            ("code", code.as_str()),
            ("grant_type", "authorization_code"),
            ("redirect_uri", REDIRECT),
        ];
        let refused = h.token(&wrong_name).await;
        assert_refused(&refused, StatusCode::UNAUTHORIZED, "invalid_client");
        assert_eq!(h.exchange(&code, None).await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_refresh_rotates_the_refresh_token_and_revoke_ends_the_grant() {
        let h = harness().await;
        let url = authorize_url(ALL_SCOPES, &[]);
        let location = h.fake.authorize_directly(&url, "alice").unwrap();
        let (_, first) = h.exchange(&code_in(&location), None).await;
        let (status, second) = h.refresh(&first["refresh_token"]).await;
        assert_eq!(status, StatusCode::OK, "{second}");
        assert_ne!(second["refresh_token"], first["refresh_token"]);
        assert_eq!(second["open_id"], first["open_id"]);
        let spent = h.refresh(&first["refresh_token"]).await;
        assert_refused(&spent, StatusCode::BAD_REQUEST, "invalid_grant");
        assert_eq!(h.fake.refresh_count(), 2);

        let access = second["access_token"].as_str().unwrap();
        let form = [
            ("client_key", "key"),
            ("client_secret", "secret"),
            ("token", access),
        ];
        let revoke = h.http.post(format!("{}/v2/oauth/revoke/", h.base));
        let revoked = revoke.form(&form).send().await.unwrap();
        assert_eq!(revoked.status(), StatusCode::OK);
        let refused = h.post(CREATOR_INFO, access, &json!({})).await;
        assert_refused(&refused, StatusCode::UNAUTHORIZED, "access_token_invalid");
        let refused = h.refresh(&second["refresh_token"]).await;
        assert_refused(&refused, StatusCode::BAD_REQUEST, "invalid_grant");
    }

    #[tokio::test]
    async fn the_consent_page_speaks_client_key_and_refuses_a_redirect_with_a_query() {
        let h = harness().await;
        let url = authorize_url("video.publish,user.info.basic", &[]);
        let path = &url[url.find(AUTHORIZE_PATH).unwrap()..];
        let page = h
            .http
            .get(format!("{}{path}", h.base))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains(r#"name="client_key" value="key""#));
        assert!(html.contains("<code>video.publish</code>"));

        let no_redirects = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut form = parse_query(url.split_once('?').map(|(_, query)| query));
        form.insert("username".to_owned(), "bob.tok".to_owned());
        form.insert("decision".to_owned(), "allow".to_owned());
        let allow = no_redirects.post(format!("{}{AUTHORIZE_PATH}", h.base));
        let allowed = allow.form(&form).send().await.unwrap();
        assert_eq!(allowed.status(), StatusCode::FOUND);
        assert!(h.fake.open_id("bob.tok").is_some());

        let with_query = url.replace("callback", "callback%3Fx%3D1");
        let refused = h.fake.authorize_directly(&with_query, "bob").unwrap_err();
        assert!(refused.contains("without a query"), "{refused}");
        let unknown = url.replace("client_key=key", "client_key=other");
        let refused = h.fake.authorize_directly(&unknown, "bob").unwrap_err();
        assert!(refused.contains("client_key"), "{refused}");
        assert!(h.fake.authorize_directly(&url, "has space").is_err());
    }

    #[tokio::test]
    async fn creator_info_reports_each_accounts_settings_and_init_holds_posts_to_them() {
        let h = harness().await;
        let token = h.connect("alice", ALL_SCOPES).await;
        let info = h.data(CREATOR_INFO, &token, &json!({})).await;
        assert_eq!(info["creator_username"], "alice");
        assert_eq!(
            info["privacy_level_options"],
            json!(DEFAULT_PRIVACY_OPTIONS)
        );
        assert_eq!(info["max_video_post_duration_sec"], 600);
        assert_eq!(info["comment_disabled"], false);

        let options = ["FOLLOWER_OF_CREATOR", "SELF_ONLY"];
        h.fake.set_privacy_options("alice", &options);
        h.fake.set_max_video_duration("alice", 180);
        let stitch_off = Interactions {
            stitch_disabled: true,
            ..Interactions::default()
        };
        h.fake.set_interactions("alice", stitch_off);
        let info = h.data(CREATOR_INFO, &token, &json!({})).await;
        assert_eq!(info["privacy_level_options"], json!(options));
        assert_eq!(info["max_video_post_duration_sec"], 180);
        assert_eq!(info["stitch_disabled"], true);

        let public = pulled("https://cdn.test/v.mp4");
        let mismatch = h.post(VIDEO_INIT_PATH, &token, &public).await;
        assert_refused(
            &mismatch,
            StatusCode::BAD_REQUEST,
            "privacy_level_option_mismatch",
        );
        assert_eq!(mismatch.1["data"], json!({}));

        h.fake.set_unaudited(true);
        let info = h.data(CREATOR_INFO, &token, &json!({})).await;
        assert_eq!(info["privacy_level_options"], json!(["SELF_ONLY"]));
        let refused = h.post(VIDEO_INIT_PATH, &token, &public).await;
        let unaudited = "unaudited_client_can_only_post_to_private_accounts";
        assert_refused(&refused, StatusCode::FORBIDDEN, unaudited);
        let mut private = public.clone();
        private["post_info"]["privacy_level"] = json!("SELF_ONLY");
        h.data(VIDEO_INIT_PATH, &token, &private).await;
        let post = &h.fake.posts()[0];
        assert_eq!(post.privacy_level.as_deref(), Some("SELF_ONLY"));
        assert!(post.interactions.duet_disabled && !post.interactions.comment_disabled);
        assert_eq!(h.fake.request_count(Endpoint::VideoInit), 3);
    }

    #[test]
    fn chunk_plans_follow_the_media_transfer_rules() {
        let ok = |size, chunk, count| ChunkPlan::check(size, chunk, count).is_ok();
        // Under 5 MB: whole, in one chunk.
        assert!(ok(1_000, 1_000, 1));
        assert!(!ok(1_000, 500, 2) && !ok(1_000, 1_000, 0) && !ok(0, 0, 1));
        // Chunks of 5 to 64 MB, floor(size / chunk) of them, the last taking the remainder.
        assert!(ok(11 * MB, 5 * MB, 2));
        assert!(
            !ok(11 * MB, 5 * MB, 3),
            "the remainder joins the last chunk"
        );
        assert!(ok(6 * MB, 6 * MB, 1));
        assert!(!ok(11 * MB, 4 * MB, 2), "chunks under 5 MB");
        assert!(!ok(100 * MB, 65 * 1024 * 1024, 1), "chunks over 64 MiB");
        assert!(
            ok(100 * MB, 64 * 1024 * 1024, 1),
            "a last chunk up to 128 MB"
        );
        assert!(!ok(6 * MB, 7 * MB, 1), "a chunk larger than the file");
        assert!(ok(5000 * MB, 5 * MB, 1000));
        assert!(!ok(5005 * MB, 5 * MB, 1001), "more than 1000 chunks");

        let plan = ChunkPlan::check(11 * MB, 5 * MB, 2).unwrap();
        assert_eq!((plan.chunk_len(0), plan.chunk_len(1)), (5 * MB, 6 * MB));
        let total = Some(11 * MB);
        assert_eq!(plan.expect_chunk(0, 0, 5 * MB - 1, total), Ok(5 * MB));
        let skipped = plan
            .expect_chunk(0, 5 * MB, 11 * MB - 1, total)
            .unwrap_err();
        assert_eq!(skipped.status, StatusCode::RANGE_NOT_SATISFIABLE);
        assert!(plan.expect_chunk(0, 0, MB, total).is_err(), "wrong size");
        assert!(
            plan.expect_chunk(0, 0, 5 * MB - 1, Some(MB)).is_err(),
            "wrong total"
        );
    }

    #[tokio::test]
    async fn a_chunked_upload_reaches_publish_complete_and_the_account() {
        let h = harness().await;
        let token = h.connect("alice", ALL_SCOPES).await;
        let (size, chunk) = (11 * MB + 123, 5 * MB);
        let data = file(size);
        let init = h
            .data(VIDEO_INIT_PATH, &token, &file_upload(size, chunk, 2))
            .await;
        let upload_url = &init["upload_url"];
        let expected_start = format!("{}{UPLOAD_PATH}?upload_id=", h.base);
        assert!(upload_url.as_str().unwrap().starts_with(&expected_start));
        assert!(
            init["publish_id"]
                .as_str()
                .unwrap()
                .starts_with("v_pub_file~v2-1.")
        );
        assert_eq!(h.fake.posts().len(), 1, "the init is the commit point");
        assert_eq!(
            h.fake.post_count(),
            0,
            "nothing reaches the account before its bytes"
        );
        let status = h.status(&token, &init["publish_id"]).await;
        assert_eq!(
            (&status["status"], &status["uploaded_bytes"]),
            (&json!("PROCESSING_UPLOAD"), &json!(0))
        );

        let (head, tail) = data.split_at(chunk as usize);
        let first = h.put_chunk(upload_url, head, 0, size).await.unwrap();
        assert_eq!(first.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(
            h.status(&token, &init["publish_id"]).await["uploaded_bytes"],
            chunk
        );
        let last = h.put_chunk(upload_url, tail, chunk, size).await.unwrap();
        assert_eq!(last.status(), StatusCode::CREATED);
        assert_eq!(h.fake.post_count(), 1);

        let processing = h.status(&token, &init["publish_id"]).await;
        assert_eq!(processing["status"], "PROCESSING_UPLOAD");
        assert_eq!(processing["publicaly_available_post_id"], json!([]));
        let done = h.status(&token, &init["publish_id"]).await;
        assert_eq!(
            (&done["status"], &done["uploaded_bytes"]),
            (&json!("PUBLISH_COMPLETE"), &json!(size))
        );
        assert!(done.get("fail_reason").is_none());
        let post = &h.fake.posts()[0];
        let id = numeric_id(&post.post_id);
        assert_eq!(done["publicaly_available_post_id"], json!([id]));
        assert_eq!(post.sha256_hex, Some(sha256_hex(&data)));
        assert_eq!(
            (post.source, post.status),
            (SourceKind::FileUpload, PublishStatus::PublishComplete)
        );
        assert_eq!(h.fake.bytes_received_total(), size);

        let page_url = format!("{}/@alice/video/{}", h.base, post.post_id);
        let page = h.http.get(page_url).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("A video") && html.contains(&sha256_hex(&data)));
        let elsewhere = format!("{}/@bob/video/{}", h.base, post.post_id);
        let missing = h.http.get(elsewhere).send().await.unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn chunks_go_in_order_and_a_broken_chunk_is_sent_again_whole() {
        let h = harness().await;
        let token = h.connect("alice", ALL_SCOPES).await;
        let (size, chunk) = (10 * MB + 7, 5 * MB);
        let data = file(size);
        let init = h
            .data(VIDEO_INIT_PATH, &token, &file_upload(size, chunk, 2))
            .await;
        let upload_url = &init["upload_url"];
        let (head, tail) = data.split_at(chunk as usize);

        let skipped = json_of(h.put_chunk(upload_url, tail, chunk, size).await.unwrap()).await;
        assert_refused(
            &skipped,
            StatusCode::RANGE_NOT_SATISFIABLE,
            "invalid_file_upload",
        );
        let wrong_type = h.http.put(upload_url.as_str().unwrap());
        let wrong_type = wrong_type
            .header(header::CONTENT_TYPE, "image/png")
            .header(
                header::CONTENT_RANGE,
                format!("bytes 0-{}/{size}", chunk - 1),
            )
            .body(head.to_vec());
        let refused = json_of(wrong_type.send().await.unwrap()).await;
        assert_refused(&refused, StatusCode::BAD_REQUEST, "invalid_file_upload");

        h.fake.interrupt_next_upload_after(MB / 2);
        let broken = outcome(h.put_chunk(upload_url, head, 0, size).await).await;
        assert!(
            broken.is_err(),
            "the client must meet a network error: {broken:?}"
        );
        assert_eq!(
            h.status(&token, &init["publish_id"]).await["uploaded_bytes"],
            0
        );

        let resent = h.put_chunk(upload_url, head, 0, size).await.unwrap();
        assert_eq!(resent.status(), StatusCode::PARTIAL_CONTENT);
        let repeated = h.put_chunk(upload_url, head, 0, size).await.unwrap();
        assert_eq!(repeated.status(), StatusCode::RANGE_NOT_SATISFIABLE);
        let last = h.put_chunk(upload_url, tail, chunk, size).await.unwrap();
        assert_eq!(last.status(), StatusCode::CREATED);
        assert_eq!(h.fake.posts()[0].sha256_hex, Some(sha256_hex(&data)));
        assert!(h.fake.bytes_received_total() >= size + MB / 2);

        let unknown = format!("{}{UPLOAD_PATH}?upload_id=nope&upload_token=nope", h.base);
        let response = h.put_chunk(&json!(unknown), head, 0, size).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn pulled_urls_are_recorded_and_count_as_downloaded() {
        let h = harness().await;
        let token = h.connect("alice", ALL_SCOPES).await;
        let signed = "https://media.test/v.mp4?sig=abc";
        let video = h.data(VIDEO_INIT_PATH, &token, &pulled(signed)).await;
        assert!(video.get("upload_url").is_none());
        let urls = ["https://media.test/1.jpg", "https://media.test/2.webp"];
        let photo = h
            .data(CONTENT_INIT_PATH, &token, &photos(&urls, "DIRECT_POST"))
            .await;
        assert!(
            photo["publish_id"]
                .as_str()
                .unwrap()
                .starts_with("p_pub_url")
        );
        let sent = h
            .data(
                INBOX_VIDEO_INIT_PATH,
                &token,
                &inbox("https://media.test/i.mp4"),
            )
            .await;

        let posts = h.fake.posts();
        assert_eq!(posts[0].pulled_urls(), [signed]);
        assert_eq!(posts[1].pulled_urls(), urls);
        assert_eq!(
            (posts[1].media_type, posts[1].description.as_str()),
            (MediaType::Photo, "Some photos")
        );
        assert_eq!(posts[2].mode, PostMode::Inbox);
        assert!(
            posts
                .iter()
                .flat_map(|post| &post.pulled)
                .all(|media| media.fetched.is_none())
        );
        assert_eq!(h.fake.post_count(), 2, "an inbox video is not published");

        assert_eq!(
            h.status(&token, &video["publish_id"]).await["status"],
            "PROCESSING_DOWNLOAD"
        );
        assert_eq!(
            h.status(&token, &video["publish_id"]).await["status"],
            "PUBLISH_COMPLETE"
        );
        h.status(&token, &sent["publish_id"]).await;
        assert_eq!(
            h.status(&token, &sent["publish_id"]).await["status"],
            "SEND_TO_USER_INBOX"
        );

        let too_many = vec!["https://media.test/x.jpg"; MAX_PHOTOS + 1];
        let refused = h
            .post(CONTENT_INIT_PATH, &token, &photos(&too_many, "DIRECT_POST"))
            .await;
        assert_refused(&refused, StatusCode::BAD_REQUEST, "invalid_params");
        let refused = h.post(VIDEO_INIT_PATH, &token, &pulled("media.mp4")).await;
        assert_refused(&refused, StatusCode::BAD_REQUEST, "invalid_params");
    }

    #[tokio::test]
    async fn pulled_media_is_fetched_when_asked_and_a_failed_pull_fails_the_post() {
        let media = Router::new().route("/ok.mp4", get(|| async { vec![7u8; 4096] }));
        let (address, media_server) = crate::sandbox::serve(media).await.unwrap();
        let h = harness().await;
        h.fake.set_fetch_pulled_media(true);
        let token = h.connect("alice", ALL_SCOPES).await;

        let good = format!("http://{address}/ok.mp4");
        let video = h.data(VIDEO_INIT_PATH, &token, &pulled(&good)).await;
        let fetched = h.fake.posts()[0].pulled[0].fetched.clone().unwrap();
        assert_eq!((fetched.status, fetched.bytes), (Some(200), 4096));
        assert_eq!(fetched.sha256_hex, sha256_hex(&[7u8; 4096]));
        let status = h.status(&token, &video["publish_id"]).await;
        assert_eq!(status["downloaded_bytes"], 4096);

        let missing = format!("http://{address}/expired-signature.jpg");
        let body = photos(&[&good, &missing], "DIRECT_POST");
        let photo = h.data(CONTENT_INIT_PATH, &token, &body).await;
        let post = &h.fake.posts()[1];
        assert_eq!(post.pulled[1].fetched.as_ref().unwrap().status, Some(404));
        assert_eq!(post.status, PublishStatus::Failed);
        let status = h.status(&token, &photo["publish_id"]).await;
        assert_eq!(
            (&status["status"], &status["fail_reason"]),
            (&json!("FAILED"), &json!("photo_pull_failed"))
        );
        assert_eq!(h.fake.post_count(), 1);
        media_server.abort();
    }

    #[tokio::test]
    async fn moderation_delays_the_id_and_a_scripted_failure_ends_in_failed() {
        let h = harness().await;
        let token = h.connect("alice", ALL_SCOPES).await;
        h.fake.set_moderation_delay(2);
        let moderated = h
            .data(VIDEO_INIT_PATH, &token, &pulled("https://m.test/a.mp4"))
            .await;
        let mut seen = Vec::new();
        for _ in 0..5 {
            let status = h.status(&token, &moderated["publish_id"]).await;
            seen.push((
                status["status"].clone(),
                status["publicaly_available_post_id"].clone(),
            ));
        }
        let id = numeric_id(&h.fake.posts()[0].post_id);
        let complete = json!("PUBLISH_COMPLETE");
        let expected = [
            (json!("PROCESSING_DOWNLOAD"), json!([])),
            (complete.clone(), json!([])),
            (complete.clone(), json!([])),
            (complete.clone(), json!([id])),
            (complete, json!([id])),
        ];
        assert_eq!(seen, expected);
        assert_eq!(h.fake.post_count(), 1, "on the account while in moderation");

        let reason = "duration_check_failed".to_owned();
        h.fake
            .set_status_sequence(vec![StatusStep::Processing, StatusStep::Failed(reason)]);
        let failing = h
            .data(VIDEO_INIT_PATH, &token, &pulled("https://m.test/b.mp4"))
            .await;
        assert_eq!(
            h.fake.post_count(),
            1,
            "a post bound to fail never reaches the account"
        );
        h.status(&token, &failing["publish_id"]).await;
        let failed = h.status(&token, &failing["publish_id"]).await;
        assert_eq!(
            (&failed["status"], &failed["fail_reason"]),
            (&json!("FAILED"), &json!("duration_check_failed"))
        );
        assert_eq!(h.fake.posts()[1].status, PublishStatus::Failed);

        let unknown = h
            .post(STATUS, &token, &json!({ "publish_id": "v_pub_url~nope" }))
            .await;
        assert_refused(&unknown, StatusCode::BAD_REQUEST, "invalid_params");
    }

    #[tokio::test]
    async fn a_video_query_reports_the_callers_posts_with_counts_that_grow() {
        let clock = Arc::new(ManualClock::starting_at(Utc::now()));
        let h = serve(TikTokFake::with_clock("key", "secret", clock.clone())).await;
        let token = h.connect("alice", ALL_SCOPES).await;
        let other = h.connect("bob", ALL_SCOPES).await;
        h.data(VIDEO_INIT_PATH, &token, &pulled("https://m.test/a.mp4"))
            .await;
        let post_id = h.fake.posts()[0].post_id.clone();
        let query = "/v2/video/query/?fields=id,view_count,like_count,comment_count,share_count";
        let body = json!({ "filters": { "video_ids": [post_id, "7350000000000009999"] } });
        clock.advance(TimeDelta::hours(3));
        let early = h.data(query, &token, &body).await;
        let videos = early["videos"].as_array().unwrap();
        assert_eq!(videos.len(), 1, "{early}");
        assert_eq!(videos[0]["id"], numeric_id(&post_id));
        assert!(
            videos[0]["view_count"]
                .as_u64()
                .is_some_and(|views| views > 0)
        );
        clock.advance(TimeDelta::hours(6));
        let later = h.data(query, &token, &body).await;
        assert!(later["videos"][0]["view_count"].as_u64() > videos[0]["view_count"].as_u64());
        assert!(later["videos"][0]["like_count"].as_u64() >= videos[0]["like_count"].as_u64());

        let theirs = h.data(query, &other, &body).await;
        assert_eq!(theirs["videos"], json!([]), "another creator's post");
        let too_many: Vec<String> = (0..21).map(|n| format!("73500000000000{n:05}")).collect();
        let refused = h
            .post(
                query,
                &token,
                &json!({ "filters": { "video_ids": too_many } }),
            )
            .await;
        assert_refused(&refused, StatusCode::BAD_REQUEST, "invalid_params");
    }

    #[tokio::test]
    async fn the_video_list_pages_newest_first() {
        let h = harness().await;
        let token = h.connect("alice", ALL_SCOPES).await;
        let other = h.connect("bob", ALL_SCOPES).await;
        for n in 1..=3 {
            let mut body = pulled(&format!("https://m.test/{n}.mp4"));
            body["post_info"]["title"] = json!(format!("Video {n}"));
            h.data(VIDEO_INIT_PATH, &token, &body).await;
        }
        h.data(VIDEO_INIT_PATH, &other, &pulled("https://m.test/b.mp4"))
            .await;

        let first = h.data(LIST, &token, &json!({ "max_count": 2 })).await;
        let titles: Vec<&Value> = first["videos"]
            .as_array()
            .unwrap()
            .iter()
            .map(|video| &video["title"])
            .collect();
        assert_eq!(titles, [&json!("Video 3"), &json!("Video 2")]);
        assert_eq!(first["has_more"], true);
        let newest = &first["videos"][0];
        let post_id = &h.fake.posts()[2].post_id;
        assert_eq!(newest["id"], numeric_id(post_id));
        assert_eq!(
            newest["share_url"],
            format!("{}/@alice/video/{post_id}", h.base)
        );
        assert!(newest["create_time"].is_i64());

        let next = json!({ "max_count": 2, "cursor": first["cursor"] });
        let second = h.data(LIST, &token, &next).await;
        assert_eq!(second["videos"][0]["title"], "Video 1");
        assert_eq!(
            (
                second["videos"].as_array().unwrap().len(),
                &second["has_more"]
            ),
            (1, &json!(false))
        );

        let refused = h.post(LIST, &token, &json!({ "max_count": 21 })).await;
        assert_refused(&refused, StatusCode::BAD_REQUEST, "invalid_params");
        let no_list = h.connect("carol", "user.info.basic,video.publish").await;
        let refused = h.post(LIST, &no_list, &json!({})).await;
        assert_refused(&refused, StatusCode::UNAUTHORIZED, "scope_not_authorized");
    }

    #[tokio::test]
    async fn tokens_and_scopes_are_checked_per_endpoint() {
        let clock = Arc::new(ManualClock::starting_at(Utc::now()));
        let h = serve(TikTokFake::with_clock("key", "secret", clock.clone())).await;
        let basic = h.connect("alice", "user.info.basic,video.upload").await;
        let fields = "open_id,union_id,avatar_url,display_name,username";
        let info = h
            .http
            .get(format!("{}/v2/user/info/?fields={fields}", h.base));
        let (status, answer) = json_of(info.bearer_auth(&basic).send().await.unwrap()).await;
        assert_eq!(
            (status, &answer["error"]["code"]),
            (StatusCode::OK, &json!("ok"))
        );
        assert_eq!(answer["error"]["message"], "");
        let user = &answer["data"]["user"];
        assert_eq!(user["open_id"], h.fake.open_id("alice").unwrap().as_str());
        assert_eq!(
            (&user["username"], &user["display_name"]),
            (&json!("alice"), &json!("alice"))
        );
        assert!(
            user["avatar_url"]
                .as_str()
                .unwrap()
                .starts_with("data:image/svg+xml")
        );
        let unknown = h.http.get(format!("{}/v2/user/info/?fields=bio", h.base));
        let refused = json_of(unknown.bearer_auth(&basic).send().await.unwrap()).await;
        assert_refused(&refused, StatusCode::BAD_REQUEST, "invalid_params");

        let needs_publish = h
            .post(VIDEO_INIT_PATH, &basic, &pulled("https://m.test/v.mp4"))
            .await;
        assert_refused(
            &needs_publish,
            StatusCode::UNAUTHORIZED,
            "scope_not_authorized",
        );
        let needs_publish = h.post(CREATOR_INFO, &basic, &json!({})).await;
        assert_refused(
            &needs_publish,
            StatusCode::UNAUTHORIZED,
            "scope_not_authorized",
        );
        h.data(
            INBOX_VIDEO_INIT_PATH,
            &basic,
            &inbox("https://m.test/i.mp4"),
        )
        .await;
        let publisher = h.connect("bob", "video.publish").await;
        let needs_upload = h
            .post(
                INBOX_VIDEO_INIT_PATH,
                &publisher,
                &inbox("https://m.test/i.mp4"),
            )
            .await;
        assert_refused(
            &needs_upload,
            StatusCode::UNAUTHORIZED,
            "scope_not_authorized",
        );

        for token in ["nope", ""] {
            let refused = h.post(CREATOR_INFO, token, &json!({})).await;
            assert_refused(&refused, StatusCode::UNAUTHORIZED, "access_token_invalid");
        }
        clock.advance(TimeDelta::seconds(ACCESS_TOKEN_LIFETIME_SECS));
        let expired = h.post(CREATOR_INFO, &publisher, &json!({})).await;
        assert_refused(&expired, StatusCode::UNAUTHORIZED, "access_token_invalid");
        let fresh = h.connect("bob", "video.publish").await;
        h.fake.revoke_all_tokens_of("bob");
        let revoked = h.post(CREATOR_INFO, &fresh, &json!({})).await;
        assert_refused(&revoked, StatusCode::UNAUTHORIZED, "access_token_invalid");
        h.fake.set_access_token_lifetime(0);
        let stillborn = h.connect("carol", "video.publish").await;
        let expired = h.post(CREATOR_INFO, &stillborn, &json!({})).await;
        assert_refused(&expired, StatusCode::UNAUTHORIZED, "access_token_invalid");
    }

    #[tokio::test]
    async fn a_dropped_init_answer_still_creates_the_post_and_failures_speak_tiktok() {
        let h = harness().await;
        let token = h.connect("alice", ALL_SCOPES).await;
        let failures = [
            Failure::ServerError(503),
            Failure::RateLimited { reset_in_secs: 30 },
            Failure::Validation("Bad title.".to_owned()),
            Failure::ExpiredToken,
            Failure::CreatedThenDropped,
        ];
        h.fake.fail_next(Endpoint::VideoInit, failures);
        let expected = [
            (StatusCode::SERVICE_UNAVAILABLE, "internal_error"),
            (StatusCode::TOO_MANY_REQUESTS, "rate_limit_exceeded"),
            (StatusCode::BAD_REQUEST, "invalid_params"),
            (StatusCode::UNAUTHORIZED, "access_token_invalid"),
        ];
        let body = pulled("https://m.test/lost.mp4");
        let send = || {
            let url = format!("{}{VIDEO_INIT_PATH}", h.base);
            h.http.post(url).bearer_auth(&token).json(&body).send()
        };
        for (status, code) in expected {
            let response = send().await.unwrap();
            let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
            assert_refused(&json_of(response).await, status, code);
            if status == StatusCode::TOO_MANY_REQUESTS {
                assert_eq!(retry_after.unwrap(), "30");
            }
        }
        assert!(h.fake.posts().is_empty(), "refusals create nothing");

        assert!(
            outcome(send().await).await.is_err(),
            "the answer must be lost"
        );
        assert_eq!(h.fake.post_count(), 1, "the init committed the post");
        let listed = h.data(LIST, &token, &json!({ "max_count": 20 })).await;
        assert_eq!(listed["videos"][0]["title"], "A video");
        assert_eq!(h.fake.request_count(Endpoint::VideoInit), 5);

        h.fake.fail_next(Endpoint::Token, [Failure::RevokedToken]);
        let refused = h.refresh(&json!("anything")).await;
        assert_refused(&refused, StatusCode::BAD_REQUEST, "invalid_grant");
    }

    #[tokio::test]
    async fn init_and_status_fetch_are_rate_limited_per_token_on_the_fakes_clock() {
        let clock = Arc::new(ManualClock::starting_at(Utc::now()));
        let h = serve(TikTokFake::with_clock("key", "secret", clock.clone())).await;
        let token = h.connect("alice", ALL_SCOPES).await;
        let other = h.connect("bob", ALL_SCOPES).await;
        let body = pulled("https://m.test/v.mp4");
        let mut publish_id = Value::Null;
        for _ in 0..6 {
            publish_id = h.data(VIDEO_INIT_PATH, &token, &body).await["publish_id"].clone();
        }
        let limited = h.post(VIDEO_INIT_PATH, &token, &body).await;
        assert_refused(
            &limited,
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_exceeded",
        );
        h.data(VIDEO_INIT_PATH, &other, &body).await;
        clock.advance(TimeDelta::seconds(RATE_WINDOW_SECS));
        h.data(VIDEO_INIT_PATH, &token, &body).await;

        for _ in 0..30 {
            h.status(&token, &publish_id).await;
        }
        let limited = h
            .post(STATUS, &token, &json!({ "publish_id": publish_id }))
            .await;
        assert_refused(
            &limited,
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_exceeded",
        );
        h.fake.set_rate_limits(RateLimits::OFF);
        h.status(&token, &publish_id).await;
    }

    #[tokio::test]
    async fn the_control_page_arms_a_failure_for_the_next_post() {
        let h = harness().await;
        let control = format!("{}/_control", h.base);
        let arm = h
            .http
            .post(&control)
            .form(&[("failure", "created_then_dropped")]);
        let page = arm.send().await.unwrap().text().await.unwrap();
        assert!(page.contains("1 failure(s) armed."));
        let token = h.connect("alice", ALL_SCOPES).await;
        let url = format!("{}{CONTENT_INIT_PATH}", h.base);
        let body = photos(&["https://m.test/1.jpg"], "DIRECT_POST");
        let lost = h
            .http
            .post(url)
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await;
        assert!(outcome(lost).await.is_err());
        assert_eq!(h.fake.post_count(), 1);
        let page = h
            .http
            .get(&control)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("0 failure(s) armed.") && page.contains("alice: Photos"));
        assert!(page.contains(&format!("@alice/video/{}", h.fake.posts()[0].post_id)));
    }
}
