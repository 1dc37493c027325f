//! A local fake of Meta's Graph API for Facebook Login, Facebook Pages and Instagram professional
//! accounts (`shared/platforms.md`, sections 1 and 2): the OAuth dialog and token endpoint (a
//! code, then `fb_exchange_token` for a long-lived user token), `/me`, `/me/permissions` and the
//! disconnect that deletes them, `/me/accounts` with a page token per page, Instagram publishing
//! (containers with scriptable status sequences and a 24-hour life, `media_publish`, the rolling
//! publishing quota, recent media), Page posts (text, link, photos published alone or attached,
//! videos with their processing status, scheduled posts), a Page's recent posts for
//! reconciliation, the counts and insights of published posts (growing with their age on the
//! fake's clock, [`kit::engagement`](super::kit::engagement)), and the public pages that
//! permalinks point at.
//!
//! One fake serves both platforms: the app's INSTAGRAM and FACEBOOK platforms may share `META_*`
//! credentials, and `--sandbox` nests this router under both `/sandbox/facebook` and
//! `/sandbox/instagram`, sharing one world. Every Graph path starts with its API version
//! (`/v20.0/me`): any `v<major>.<minor>` is taken, anything else is code 2500. The world (users,
//! the pages they administer, the Instagram accounts linked to pages, containers, posts, and the
//! OAuth server of [`kit::oauth`](super::kit::oauth)) sits behind [`MetaFake`], a cheap handle
//! tests keep to script failures and to look inside.
//!
//! Where Meta is strict, so is the fake: codes are single use and bound to their redirect URI;
//! there is no refresh token; page tokens fetched with a long-lived user token never expire;
//! every Page edge wants that page's own token (a user token is code 210); permissions are
//! checked per call (code 10 on Instagram, 200 on Pages); removing the app kills user and page
//! tokens alike (190/458, expiry is 190/463); a caption is at most 2,200 characters (2207010) and
//! a Page message 63,206; a carousel has 2 to 10 children that are unused carousel items of the
//! same account; only a FINISHED container publishes (9007/2207027), an unpublished one expires
//! 24 hours after creation (2207008); the rolling 24-hour quota counts a carousel once
//! (9/2207042); an unpublished photo is attached once (1366051); the same Page message again is
//! code 506; insights want `instagram_manage_insights` or `read_insights` (code 10 or 200
//! without) and refuse retired metrics such as `impressions` (code 100); unknown nodes, edges
//! and fields are refused as Graph refuses them. The token is read
//! from the `access_token` query parameter, form field or JSON field, or `Authorization: Bearer`.
//! Every API answer carries `X-App-Usage` and `X-Business-Use-Case-Usage`.
//!
//! Meta downloads media by URL. By default the fake records each URL as fetched without fetching
//! it; [`MetaFake::set_fetch_pulled_media`] makes it really GET each one, and a non-2xx answer
//! fails as Meta fails (an Instagram container in ERROR 2207003, a Page upload refused with
//! 2061006), so tests can prove signed media URLs work.
//!
//! Facts platforms.md does not give are this fake's choices, stated where declared: HTTP statuses
//! (400 for token, parameter and throttling errors, as Meta signals throttling by code and usage
//! headers rather than 429; 403 for permissions; 500 and 503 for codes 1 and 2), the lifetimes of
//! codes and short-lived tokens (page tokens fetched with a short-lived user token expire with
//! it), the duplicate window, the scheduling range, the codes of refusals Meta does not document
//! (a second `media_publish` is 9007 without a subcode), the container `status` wording, when a
//! Page video's post appears (when a poll moves it to ready), permalink shapes, paging (forward
//! cursors only), the usage headers' figures, and which failures the control page offers (for the
//! platform whose nest it is reached under).
//!
//! It trusts whoever reaches it and never logs a token or a code.

#![allow(clippy::result_large_err)] // a fake's errors are whole HTTP answers, made once per refused request

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::kit::consent::{Consent, Decision, UsernameRule, consent_page, direct_consent};
use super::kit::control::{
    Control, ControlChoice, Recent, back_to_control, chosen_failure, control_page, standard_choices,
};
use super::kit::cursor::page_of;
use super::kit::engagement::Engagement;
use super::kit::ids::{IdSequence, random_token};
use super::kit::oauth::{
    AuthorizationServer, BearerError, ClientCredentials, CodeRedemption, Grant, OAuthConfig,
    OAuthError, Pkce,
};
use super::kit::pages::{avatar_data_url, escape_html, found, page, refusal_page, stylesheet};
use super::kit::request::{Params, bearer_token, own_base_url, parse_form, parse_query};
use super::kit::script::{Failure, Refusal, Script, answer};
use super::kit::{FakeControls, KitWorld};
use crate::clock::{SharedClock, SystemClock};

const PLATFORM: &str = "Facebook";
/// The dialog's path after the version, as `www.facebook.com/{ver}/dialog/oauth` has it.
const AUTHORIZE_PATH: &str = "/dialog/oauth";

/// Not in platforms.md: Meta calls short-lived tokens "about an hour or two"; one hour here.
const SHORT_LIVED_SECS: i64 = 3_600;
/// About 60 days, what Meta's long-lived exchange answers.
const LONG_LIVED_SECS: i64 = 5_184_000;
/// Not in platforms.md: ten minutes, RFC 6749's recommended maximum.
const CODE_LIFETIME_SECS: i64 = 600;
const CONTAINER_LIFETIME_SECS: i64 = 86_400;
const QUOTA_WINDOW_SECS: i64 = 86_400;
const DEFAULT_QUOTA_TOTAL: u32 = 100;
const MAX_CAPTION_CHARS: usize = 2_200;
const MAX_MESSAGE_CHARS: usize = 63_206;
const MIN_CAROUSEL_CHILDREN: usize = 2;
const MAX_CAROUSEL_CHILDREN: usize = 10;
/// Not in platforms.md ("approximately"): the same message on the same page within an hour.
const DUPLICATE_WINDOW_SECS: i64 = 3_600;
/// Not in platforms.md: Meta has documented 10 minutes to 75 days (and later 30 days); the
/// wider range here, so the fake never refuses what Meta may take.
const SCHEDULE_MIN_SECS: i64 = 600;
const SCHEDULE_MAX_SECS: i64 = 75 * 86_400;
/// Graph's paging: 25 by default, at most 100 (more is capped, as Graph caps it).
const DEFAULT_LIMIT: usize = 25;
const MAX_LIMIT: usize = 100;
/// How long a real download of pulled media may take.
const PULL_TIMEOUT: Duration = Duration::from_secs(10);
/// `call_count` (percent) in the usage headers of an answer that is not throttled.
const DEFAULT_USAGE_PERCENT: u32 = 1;

/// Ids look like Meta's numeric strings (Instagram account ids start `17841`), so clients that
/// parse or store them meet realistic values.
const FIRST_USER_ID: u64 = 10_160_000_000_000_001;
const FIRST_PAGE_ID: u64 = 100_200_000_000_001;
const FIRST_INSTAGRAM_ID: u64 = 17_841_400_000_000_001;
const FIRST_CONTAINER_ID: u64 = 17_890_000_000_000_001;
const FIRST_MEDIA_ID: u64 = 17_920_000_000_000_001;
const FIRST_POST_NUMBER: u64 = 122_100_000_000_000_001;
const FIRST_PHOTO_ID: u64 = 122_200_000_000_000_001;
const FIRST_VIDEO_ID: u64 = 1_050_000_000_000_001;

/// Graph error codes the fake sends. 1, 2, 4, 9, 10, 17, 32, 100, 190, 200, 506, 613 and the
/// subcodes are Meta's (platforms.md); 101, 104, 210, 324, 2500 and 9007 are Meta's for the
/// cases the fake uses them for, from its error reference rather than platforms.md.
const CODE_UNKNOWN: u32 = 1;
const CODE_SERVICE: u32 = 2;
const CODE_APP_THROTTLED: u32 = 4;
const CODE_PUBLISHING_LIMIT: u32 = 9;
const CODE_PERMISSION: u32 = 10;
const CODE_USER_THROTTLED: u32 = 17;
const CODE_PAGE_THROTTLED: u32 = 32;
const CODE_INVALID_PARAMETER: u32 = 100;
const CODE_INVALID_APP: u32 = 101;
const CODE_TOKEN_MISSING: u32 = 104;
const CODE_TOKEN: u32 = 190;
const CODE_PAGE_PERMISSION: u32 = 200;
const CODE_PAGE_TOKEN_REQUIRED: u32 = 210;
const CODE_UPLOAD_REQUIRED: u32 = 324;
const CODE_DUPLICATE: u32 = 506;
const CODE_CALL_THROTTLED: u32 = 613;
const CODE_UNKNOWN_PATH: u32 = 2_500;
const CODE_MEDIA_NOT_AVAILABLE: u32 = 9_007;
const SUBCODE_UNSUPPORTED: u32 = 33;
const SUBCODE_REVOKED: u32 = 458;
const SUBCODE_EXPIRED: u32 = 463;
const SUBCODE_DOWNLOAD_FAILED: u32 = 2_207_003;
const SUBCODE_MEDIA_NOT_FOUND: u32 = 2_207_006;
const SUBCODE_CONTAINER_EXPIRED: u32 = 2_207_008;
const SUBCODE_CAPTION_TOO_LONG: u32 = 2_207_010;
const SUBCODE_UNKNOWN_MEDIA_TYPE: u32 = 2_207_023;
const SUBCODE_NOT_READY: u32 = 2_207_027;
const SUBCODE_CAROUSEL: u32 = 2_207_028;
const SUBCODE_QUOTA: u32 = 2_207_042;
const SUBCODE_BAD_URL: u32 = 2_061_006;
const SUBCODE_PHOTO_USED: u32 = 1_366_051;

const INSTAGRAM_BASIC: &str = "instagram_basic";
const INSTAGRAM_PUBLISH: &str = "instagram_content_publish";
const PAGES_SHOW_LIST: &str = "pages_show_list";
const PAGES_READ: &str = "pages_read_engagement";
const PAGES_MANAGE_POSTS: &str = "pages_manage_posts";
const READ_INSIGHTS: &str = "read_insights";
const INSTAGRAM_INSIGHTS: &str = "instagram_manage_insights";
/// Every scope Facebook Login knows for these products; anything else is refused at consent.
const KNOWN_SCOPES: &[&str] = &[
    "public_profile",
    "email",
    PAGES_SHOW_LIST,
    PAGES_READ,
    PAGES_MANAGE_POSTS,
    "pages_manage_engagement",
    "pages_manage_metadata",
    "pages_read_user_content",
    READ_INSIGHTS,
    "business_management",
    INSTAGRAM_BASIC,
    INSTAGRAM_PUBLISH,
    "instagram_manage_comments",
    INSTAGRAM_INSIGHTS,
];
const IG_READ_SCOPES: &[&str] = &[INSTAGRAM_BASIC];
const IG_PUBLISH_SCOPES: &[&str] = &[INSTAGRAM_BASIC, INSTAGRAM_PUBLISH];
const ACCOUNTS_SCOPES: &[&str] = &[PAGES_SHOW_LIST];
const PAGE_READ_SCOPES: &[&str] = &[PAGES_READ];
const PAGE_PUBLISH_SCOPES: &[&str] = &[PAGES_READ, PAGES_MANAGE_POSTS];
const IG_INSIGHTS_SCOPES: &[&str] = &[INSTAGRAM_BASIC, INSTAGRAM_INSIGHTS];
const PAGE_INSIGHTS_SCOPES: &[&str] = &[PAGES_READ, READ_INSIGHTS];
/// The media insights the fake knows; `impressions` and `plays` were retired in 2025.
const IG_METRICS: &[&str] = &[
    "views",
    "reach",
    "likes",
    "comments",
    "shares",
    "saved",
    "total_interactions",
];
/// The post insights the fake knows; `post_impressions` was retired in November 2025.
const POST_METRICS: &[&str] = &[
    "post_media_view",
    "post_total_media_view_unique",
    "post_clicks",
    "post_clicks_by_type",
    "post_reactions_by_type_total",
];

/// Fields a node answers when the call names none, as Graph's defaults.
const ACCOUNT_FIELDS: &[&str] = &["id", "name", "access_token", "category", "tasks"];
const NAME_FIELDS: &[&str] = &["id", "name"];
const ID_FIELDS: &[&str] = &["id"];

const USERNAMES: UsernameRule = UsernameRule {
    max_len: 50,
    extra_chars: "",
    default: "sandboxuser",
};

/// Stylesheet hrefs relative to each page: `/{ver}/dialog/oauth`, `/p/{code}/`,
/// `/permalink.php` and `/_control`.
const CONSENT_STYLESHEET: &str = "../../sandbox.css";
const INSTAGRAM_PAGE_STYLESHEET: &str = "../../sandbox.css";
const ROOT_STYLESHEET: &str = "sandbox.css";

/// The fake's API calls, for scripting failures and counting requests. The dialog and the
/// public pages are pages, not API calls, so they are not among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `GET /{ver}/oauth/access_token`: the code exchange and `fb_exchange_token` alike.
    Token,
    /// `GET /{ver}/me`.
    Me,
    /// `GET /{ver}/me/permissions`.
    Permissions,
    /// `DELETE /{ver}/me/permissions`: the app's disconnect.
    RevokePermissions,
    /// `GET /{ver}/me/accounts`.
    Accounts,
    /// `GET /{ver}/{ig-user-id}`.
    InstagramUser,
    /// `POST /{ver}/{ig-user-id}/media`.
    CreateContainer,
    /// `GET /{ver}/{container-id}`.
    ContainerStatus,
    /// `POST /{ver}/{ig-user-id}/media_publish`: Instagram's commit point.
    Publish,
    /// `GET /{ver}/{ig-media-id}`.
    InstagramMedia,
    /// `GET /{ver}/{ig-media-id}/insights`.
    MediaInsights,
    /// `GET /{ver}/{ig-user-id}/media`.
    RecentMedia,
    /// `GET /{ver}/{ig-user-id}/content_publishing_limit`.
    PublishingLimit,
    /// `GET /{ver}/{page-id}`.
    Page,
    /// `POST /{ver}/{page-id}/feed`: Facebook's commit point.
    FeedPost,
    /// `POST /{ver}/{page-id}/photos`.
    Photo,
    /// `POST /{ver}/{page-id}/videos`.
    Video,
    /// `GET /{ver}/{video-id}`.
    VideoStatus,
    /// `GET /{ver}/{post-id}`.
    FacebookPost,
    /// `GET /{ver}/{post-id}/insights`.
    PostInsights,
    /// `GET /{ver}/{page-id}/published_posts` (and `/feed`).
    PublishedPosts,
}

/// What a container holds, for its status sequence: `Video` covers reels and video carousel
/// items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContainerKind {
    Image,
    Video,
    Carousel,
}

/// A container's `status_code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerStatus {
    InProgress,
    Finished,
    /// Processing failed; `status` carries the subcode.
    Error {
        subcode: u32,
    },
    /// Not published within 24 hours of its creation (on the fake's clock).
    Expired,
    Published,
}

impl ContainerStatus {
    pub fn status_code(self) -> &'static str {
        match self {
            Self::InProgress => "IN_PROGRESS",
            Self::Finished => "FINISHED",
            Self::Error { .. } => "ERROR",
            Self::Expired => "EXPIRED",
            Self::Published => "PUBLISHED",
        }
    }

    /// The `status` text. Meta's wording is not documented; the subcode of an ERROR is in it,
    /// as platforms.md says.
    fn description(self) -> String {
        match self {
            Self::InProgress => "In Progress: the media is still being processed.".to_owned(),
            Self::Finished => "Finished: the media is ready to be published.".to_owned(),
            Self::Error { subcode } => {
                format!("Error: the media could not be processed (error_subcode {subcode}).")
            }
            Self::Expired => "Expired: the container was not published within 24 hours.".to_owned(),
            Self::Published => "Published: the media has been published.".to_owned(),
        }
    }
}

/// An Instagram media container as the fake stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeContainer {
    pub id: String,
    pub ig_user_id: String,
    pub kind: ContainerKind,
    /// `IMAGE`, `REELS`, `VIDEO` (a carousel item) or `CAROUSEL`.
    pub media_type: &'static str,
    pub is_carousel_item: bool,
    /// `None` on carousel items, whose captions Meta ignores.
    pub caption: Option<String>,
    /// The `image_url` or `video_url`.
    pub media_url: Option<String>,
    pub cover_url: Option<String>,
    pub share_to_feed: Option<bool>,
    pub children: Vec<String>,
    /// What the next poll reports (after expiry is applied).
    pub status: ContainerStatus,
    pub created_at: DateTime<Utc>,
    /// The media it was published as (for a carousel item: the carousel's).
    pub media_id: Option<String>,
}

/// What an Instagram post is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstagramKind {
    Image,
    Reel,
    Carousel,
}

impl InstagramKind {
    fn media_type(self) -> &'static str {
        match self {
            Self::Image => "IMAGE",
            Self::Reel => "VIDEO",
            Self::Carousel => "CAROUSEL_ALBUM",
        }
    }

    fn product_type(self) -> &'static str {
        match self {
            Self::Reel => "REELS",
            Self::Image | Self::Carousel => "FEED",
        }
    }

    /// The permalink's path segment: reels live under `/reel/`.
    fn path(self) -> &'static str {
        match self {
            Self::Reel => "reel",
            Self::Image | Self::Carousel => "p",
        }
    }
}

/// A published Instagram post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstagramPost {
    pub id: String,
    pub ig_user_id: String,
    pub username: String,
    pub container_id: String,
    pub kind: InstagramKind,
    pub caption: Option<String>,
    /// The image or video URL, or each carousel child's, in order.
    pub media_urls: Vec<String>,
    pub shortcode: String,
    /// `{base}/p/{shortcode}/` (reels `/reel/`), a page the fake serves.
    pub permalink: String,
    pub published_at: DateTime<Utc>,
}

/// What a Page post is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FacebookKind {
    Status,
    Link,
    Photo,
    Video,
}

impl FacebookKind {
    fn status_type(self) -> &'static str {
        match self {
            Self::Status => "mobile_status_update",
            Self::Link => "shared_story",
            Self::Photo => "added_photos",
            Self::Video => "added_video",
        }
    }
}

/// A Page post, whether from `/feed`, a published photo or a processed video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacebookPost {
    /// `{page_id}_{post_number}`.
    pub id: String,
    pub page_id: String,
    pub page_name: String,
    pub kind: FacebookKind,
    /// The message, photo caption or video description.
    pub message: Option<String>,
    pub link: Option<String>,
    pub media_urls: Vec<String>,
    pub created_time: DateTime<Utc>,
    /// False for an unpublished or scheduled post.
    pub published: bool,
    pub scheduled_for: Option<DateTime<Utc>>,
    /// `{base}/permalink.php?story_fbid=..&id=..`, a page the fake serves.
    pub permalink: String,
}

impl FacebookPost {
    /// Published, or scheduled for a time that has come.
    pub fn is_visible(&self, now: DateTime<Utc>) -> bool {
        self.published || self.scheduled_for.is_some_and(|at| at <= now)
    }
}

/// A Page video's `status.video_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoStatus {
    Processing,
    Ready,
    Error,
}

/// One URL Meta would have downloaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledMedia {
    pub url: String,
    /// Whether the fake really sent a GET ([`MetaFake::set_fetch_pulled_media`]).
    pub fetched: bool,
    /// The answer's status; `None` when nothing was fetched or the request failed.
    pub status: Option<u16>,
    pub bytes: u64,
    pub error: Option<String>,
}

impl PulledMedia {
    /// Whether Meta would have got the media.
    pub fn succeeded(&self) -> bool {
        !self.fetched
            || self
                .status
                .is_some_and(|status| (200..300).contains(&status))
    }
}

/// What [`MetaFake::add_page`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageIds {
    pub page_id: String,
    pub instagram_id: Option<String>,
}

/// A page and its linked Instagram account, as [`MetaFake::pages_of`] shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakePage {
    pub id: String,
    pub name: String,
    pub owner_username: String,
    pub instagram_id: Option<String>,
    pub instagram_username: Option<String>,
}

/// A Graph error: the `{"error":{..}}` envelope and its HTTP status. Public so tests can script
/// any code and subcode ([`MetaFake::fail_next_graph`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError {
    pub status: StatusCode,
    /// `type`: `OAuthException` unless said otherwise.
    pub kind: &'static str,
    pub code: u32,
    pub subcode: Option<u32>,
    pub message: String,
    pub user_title: Option<String>,
    pub user_msg: Option<String>,
    pub transient: bool,
    /// Minutes until a throttled caller may call again, for the usage headers.
    pub regain_minutes: Option<u32>,
}

impl GraphError {
    /// A 400 `OAuthException` with this code and message.
    pub fn new(code: u32, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: "OAuthException",
            code,
            subcode: None,
            message: message.into(),
            user_title: None,
            user_msg: None,
            transient: false,
            regain_minutes: None,
        }
    }

    /// Meta's throttling answer for `code` (4 app, 17 user, 32 page, 613 call rate; anything
    /// else gets a generic message), with the usage headers at 100% for five minutes.
    pub fn throttled(code: u32) -> Self {
        let message = match code {
            CODE_APP_THROTTLED => "(#4) Application request limit reached",
            CODE_USER_THROTTLED => "(#17) User request limit reached",
            CODE_PAGE_THROTTLED => "(#32) Page request limit reached",
            CODE_CALL_THROTTLED => "(#613) Calls to this api have exceeded the rate limit.",
            _ => "Request limit reached",
        };
        let mut error = Self::new(code, message);
        error.transient = true;
        error.regain_minutes = Some(5);
        error
    }

    pub fn with_subcode(mut self, subcode: u32) -> Self {
        self.subcode = Some(subcode);
        self
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn with_user_message(mut self, title: &str, message: &str) -> Self {
        self.user_title = Some(title.to_owned());
        self.user_msg = Some(message.to_owned());
        self
    }

    fn transient(mut self) -> Self {
        self.transient = true;
        self
    }

    fn envelope(&self) -> Value {
        let mut error = json!({
            "message": self.message,
            "type": self.kind,
            "code": self.code,
            "is_transient": self.transient,
            "fbtrace_id": random_token("A").chars().take(23).collect::<String>(),
        });
        if let Some(subcode) = self.subcode {
            error["error_subcode"] = json!(subcode);
        }
        if let (Some(title), Some(message)) = (&self.user_title, &self.user_msg) {
            error["error_user_title"] = json!(title);
            error["error_user_msg"] = json!(message);
        }
        json!({ "error": error })
    }
}

/// Marks a throttled answer, so the usage headers say 100%.
#[derive(Debug, Clone, Copy)]
struct Throttled {
    regain_minutes: u32,
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.envelope())).into_response();
        if self.code == CODE_TOKEN {
            let challenge = format!(
                "OAuth \"Facebook Platform\" \"invalid_token\" \"{}\"",
                self.message.replace('"', "'")
            );
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
        }
        if let Some(regain_minutes) = self.regain_minutes {
            response
                .extensions_mut()
                .insert(Throttled { regain_minutes });
        }
        response
    }
}

/// A failure queued for one endpoint: the kit's, or any Graph error.
#[derive(Debug, Clone)]
enum Scripted {
    Kit(Failure),
    Graph(GraphError),
}

/// A handle on one fake Meta that knows one app. Clones share the same world.
#[derive(Clone)]
pub struct MetaFake {
    world: Arc<Mutex<World>>,
    clock: SharedClock,
    http: reqwest::Client,
}

impl fmt::Debug for MetaFake {
    // The world holds tokens; printing them would gain a failing test nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetaFake").finish_non_exhaustive()
    }
}

impl MetaFake {
    /// A fake Meta whose one app has these credentials, telling the real time.
    pub fn new(app_id: &str, app_secret: &str) -> Self {
        Self::with_clock(app_id, app_secret, Arc::new(SystemClock))
    }

    /// As [`MetaFake::new`], telling time by `clock`: a `ManualClock` lets a test expire tokens
    /// and containers and roll the quota window without waiting.
    pub fn with_clock(app_id: &str, app_secret: &str, clock: SharedClock) -> Self {
        let http = reqwest::Client::builder()
            .timeout(PULL_TIMEOUT)
            .build()
            .expect("a client with only a timeout set always builds");
        Self {
            world: Arc::new(Mutex::new(World::new(app_id, app_secret))),
            clock,
            http,
        }
    }

    /// All the fake's routes, relative to wherever the router is served or nested: the dialog,
    /// the token endpoint and the API under `/{ver}/`, the public post pages, the control page.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/{ver}/{node}", any(graph))
            .route("/{ver}/{node}/{edge}", any(graph))
            .route("/p/{code}/", get(show_instagram_post))
            .route("/reel/{code}/", get(show_instagram_post))
            .route("/permalink.php", get(show_facebook_post))
            .route("/sandbox.css", get(stylesheet))
            .route("/_control", get(show_control).post(arm_control))
            .with_state(self.clone())
    }

    /// The absolute URL the fake is reached at (`http://127.0.0.1:4321`, or
    /// `https://app.example/sandbox/instagram`), for the permalinks and `paging.next` URLs it
    /// hands out. Without it, each comes from the Host and path of the request that made it.
    pub fn set_base_url(&self, base_url: &str) {
        self.lock().base_url = Some(base_url.trim_end_matches('/').to_owned());
    }

    /// How long long-lived user tokens issued from now on live (default 60 days; 0 or less
    /// issues tokens that are already expired).
    pub fn set_access_token_lifetime(&self, secs: i64) {
        self.lock().long_lived_lifetime = TimeDelta::seconds(secs);
    }

    /// Queues `failures` for `endpoint`: each later request to it takes the next one, in order,
    /// rendered as Graph errors (server errors as codes 1 and 2, rate limits as code 4,
    /// validation as 100, tokens as 190).
    pub fn fail_next(&self, endpoint: Endpoint, failures: impl IntoIterator<Item = Failure>) {
        // Collected first, so a caller's iterator never runs while the world is locked.
        let failures: Vec<Scripted> = failures.into_iter().map(Scripted::Kit).collect();
        self.lock().queue(endpoint, failures);
    }

    /// Queues Graph errors for `endpoint`, in the same queue as [`MetaFake::fail_next`]: any
    /// code and subcode ([`GraphError::throttled`] for throttling).
    pub fn fail_next_graph(
        &self,
        endpoint: Endpoint,
        errors: impl IntoIterator<Item = GraphError>,
    ) {
        let errors: Vec<Scripted> = errors.into_iter().map(Scripted::Graph).collect();
        self.lock().queue(endpoint, errors);
    }

    /// What containers of `kind` created from now on report on successive status polls: each
    /// poll reports the next, the last stays. Defaults: images and carousels `[Finished]`,
    /// videos `[InProgress, Finished]` (IN_PROGRESS for one poll). `[InProgress, Error {
    /// subcode }]` makes processing fail. A container can be published while its current status
    /// is FINISHED. Empty means `[Finished]`.
    pub fn set_container_sequence(&self, kind: ContainerKind, statuses: Vec<ContainerStatus>) {
        self.lock().container_sequences.insert(kind, statuses);
    }

    /// What Page videos uploaded from now on report on successive polls, as for containers.
    /// Default `[Processing, Ready]`; the video's post appears when it turns ready.
    pub fn set_video_sequence(&self, statuses: Vec<VideoStatus>) {
        self.lock().video_sequence = statuses;
    }

    /// Posts an Instagram account may publish per rolling 24 hours (default 100).
    pub fn set_publishing_quota(&self, total: u32) {
        self.lock().quota_total = total;
    }

    /// The `call_count` percentage the usage headers report on answers that are not throttled
    /// (default 1).
    pub fn set_usage_percent(&self, percent: u32) {
        self.lock().usage_percent = percent.min(100);
    }

    /// Whether the fake really downloads each media URL (default false: recorded as fetched).
    pub fn set_fetch_pulled_media(&self, fetch: bool) {
        self.lock().fetch_pulled_media = fetch;
    }

    /// For tests without a browser: checks `authorize_url` (the URL our app sends the user to)
    /// exactly as the dialog does, lets `username` allow it, and returns the redirect the
    /// browser would have followed (`redirect_uri?code=..&state=..`). The error is the sentence
    /// the dialog would have shown.
    pub fn authorize_directly(
        &self,
        authorize_url: &str,
        username: &str,
    ) -> Result<String, String> {
        let params = direct_consent(authorize_url, AUTHORIZE_PATH, username)?;
        let now = self.now();
        self.lock().decide(&params, now)
    }

    /// The Facebook user id of `username` (case-insensitive), once the user exists.
    pub fn user_id(&self, username: &str) -> Option<String> {
        self.lock().user_named(username).map(|user| user.id.clone())
    }

    /// Adds a page administered by `username` (made if new, with its default page first), with
    /// a linked Instagram professional account when `with_instagram`.
    pub fn add_page(&self, username: &str, name: &str, with_instagram: bool) -> PageIds {
        let mut world = self.lock();
        let owner = world.user_for(username);
        world.store_page(&owner.id, name, with_instagram)
    }

    /// The pages `username` administers, oldest first (the order `/me/accounts` lists them).
    pub fn pages_of(&self, username: &str) -> Vec<FakePage> {
        let world = self.lock();
        let Some(owner) = world.user_named(username) else {
            return Vec::new();
        };
        world
            .pages
            .iter()
            .filter(|page| page.owner_id == owner.id)
            .map(|page| FakePage {
                id: page.id.clone(),
                name: page.name.clone(),
                owner_username: owner.username.clone(),
                instagram_id: page.instagram.as_ref().map(|ig| ig.id.clone()),
                instagram_username: page.instagram.as_ref().map(|ig| ig.username.clone()),
            })
            .collect()
    }

    /// Every Instagram post published so far, oldest first.
    pub fn instagram_posts(&self) -> Vec<InstagramPost> {
        self.lock().instagram_posts.clone()
    }

    pub fn instagram_post_count(&self) -> usize {
        self.lock().instagram_posts.len()
    }

    /// Every Page post so far (published, scheduled or not), oldest first.
    pub fn facebook_posts(&self) -> Vec<FacebookPost> {
        self.lock().facebook_posts.clone()
    }

    pub fn facebook_post_count(&self) -> usize {
        self.lock().facebook_posts.len()
    }

    /// Every container created so far, oldest first, with the status its next poll reports.
    pub fn containers(&self) -> Vec<FakeContainer> {
        let now = self.now();
        self.lock()
            .containers
            .iter()
            .map(|record| FakeContainer {
                status: record.effective_status(now),
                ..record.container.clone()
            })
            .collect()
    }

    /// Every media URL Meta would have downloaded, in order.
    pub fn pulled_media(&self) -> Vec<PulledMedia> {
        self.lock().pulled.clone()
    }

    /// Token requests with `grant_type=fb_exchange_token`, whatever they were answered.
    pub fn exchange_count(&self) -> usize {
        self.lock().exchanges
    }

    fn lock(&self) -> MutexGuard<'_, World> {
        // A test that panicked mid-request must not turn every later request into a panic.
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Runs one API call: counts it, applies the next scripted failure for `endpoint` around
    /// the work, and adds the usage headers.
    async fn answer(&self, endpoint: Endpoint, call: &Call) -> Response {
        let (turn, scripted_error, business) = {
            let mut world = self.lock();
            world.count(endpoint, call);
            let scripted_error = match world.next_scripted(endpoint) {
                Some(Scripted::Kit(failure)) => {
                    // Handed to the kit's script just in time, so the kit plays it.
                    world.script.fail_next(endpoint, vec![failure]);
                    None
                }
                Some(Scripted::Graph(error)) => Some(error),
                None => None,
            };
            (
                world.script.begin(endpoint),
                scripted_error,
                world.business_of(&call.node),
            )
        };
        let render = |refusal: Refusal| refusal_error(refusal).into_response();
        let response = match scripted_error {
            Some(error) => answer(turn, render, async { error.into_response() }).await,
            None => {
                let work = async {
                    match self.work(endpoint, call).await {
                        Ok(value) => Json(value).into_response(),
                        Err(error) => error.into_response(),
                    }
                };
                answer(turn, render, work).await
            }
        };
        self.with_usage(response, business)
    }

    /// The call's work. Uploads are checked, then their media pulled with the world unlocked,
    /// then stored.
    async fn work(&self, endpoint: Endpoint, call: &Call) -> Result<Value, GraphError> {
        let now = self.now();
        let handled = self.lock().handle(endpoint, call, now)?;
        let upload = match handled {
            Handled::Done(value) => return Ok(value),
            Handled::Pull(upload) => upload,
        };
        let pulled = self.pull(upload.urls()).await;
        let now = self.now();
        self.lock().store_upload(upload, pulled, call, now)
    }

    /// Records each URL as Meta's download of it, really fetching it when switched on.
    async fn pull(&self, urls: Vec<String>) -> Vec<PulledMedia> {
        let fetch = self.lock().fetch_pulled_media;
        let mut pulled = Vec::with_capacity(urls.len());
        for url in urls {
            pulled.push(if fetch {
                self.fetch(url).await
            } else {
                PulledMedia {
                    url,
                    fetched: false,
                    status: None,
                    bytes: 0,
                    error: None,
                }
            });
        }
        pulled
    }

    /// One GET, counting the body's bytes as they stream in without keeping them.
    async fn fetch(&self, url: String) -> PulledMedia {
        let mut pulled = PulledMedia {
            url,
            fetched: true,
            status: None,
            bytes: 0,
            error: None,
        };
        let mut response = match self.http.get(&pulled.url).send().await {
            Ok(response) => response,
            Err(error) => {
                pulled.error = Some(error.to_string());
                return pulled;
            }
        };
        pulled.status = Some(response.status().as_u16());
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => pulled.bytes += chunk.len() as u64,
                Ok(None) => break,
                Err(error) => {
                    pulled.error = Some(error.to_string());
                    break;
                }
            }
        }
        pulled
    }

    /// Adds `X-App-Usage` and `X-Business-Use-Case-Usage` (keyed by the page or Instagram
    /// account the call is about; `{}` for calls about no business object).
    fn with_usage(
        &self,
        mut response: Response,
        business: Option<(String, &'static str)>,
    ) -> Response {
        let (percent, regain) = match response.extensions().get::<Throttled>() {
            Some(throttled) => (100, throttled.regain_minutes),
            None => (self.lock().usage_percent, 0),
        };
        let app = json!({ "call_count": percent, "total_cputime": percent, "total_time": percent });
        let mut buc = Map::new();
        if let Some((id, kind)) = business {
            buc.insert(
                id,
                json!([{
                    "type": kind,
                    "call_count": percent,
                    "total_cputime": percent,
                    "total_time": percent,
                    "estimated_time_to_regain_access": regain,
                }]),
            );
        }
        for (name, value) in [
            ("x-app-usage", app),
            ("x-business-use-case-usage", Value::Object(buc)),
        ] {
            if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers: read the call, route it by node and edge as Graph does, hand it to `answer`.

/// One Graph request, read once: its route, its parameters (form or JSON body over the query)
/// and its token.
#[derive(Debug)]
struct Call {
    method: Method,
    node: String,
    edge: Option<String>,
    params: Params,
    /// The query alone, for `paging.next`.
    query: Params,
    token: Option<String>,
    /// Where the fake was reached ([`MetaFake::set_base_url`] if set), for the URLs it hands
    /// out.
    base: String,
    /// The path as the router saw it, for `paging.next`.
    path: String,
}

impl Call {
    fn read(
        mut segments: HashMap<String, String>,
        method: Method,
        original: &Uri,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Self, GraphError> {
        let version = segments.remove("ver").unwrap_or_default();
        if !is_version(&version) {
            return Err(GraphError::new(
                CODE_UNKNOWN_PATH,
                format!("Unknown path components: {}", uri.path()),
            ));
        }
        let query = parse_query(uri.query());
        let mut params = body_params(headers, body)?;
        for (name, value) in &query {
            params.entry(name.clone()).or_insert_with(|| value.clone());
        }
        let token = params
            .get("access_token")
            .filter(|token| !token.is_empty())
            .cloned()
            .or_else(|| bearer_token(headers).map(str::to_owned));
        Ok(Self {
            method,
            node: segments.remove("node").unwrap_or_default(),
            edge: segments.remove("edge"),
            params,
            query,
            token,
            base: own_base_url(headers, original, uri),
            path: uri.path().to_owned(),
        })
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.trim().is_empty())
    }
}

/// `v20.0`: a `v`, then digits, a dot, digits.
fn is_version(segment: &str) -> bool {
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
    segment
        .strip_prefix('v')
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(major, minor)| digits(major) && digits(minor))
}

/// A form body, or a JSON object whose non-string values become their JSON text (so
/// `attached_media` reads the same either way).
fn body_params(headers: &HeaderMap, body: &[u8]) -> Result<Params, GraphError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if body.is_empty() || !is_json {
        return Ok(parse_form(body));
    }
    let object: Map<String, Value> = serde_json::from_slice(body)
        .map_err(|error| invalid(&format!("(#100) The body is not a JSON object: {error}")))?;
    Ok(object
        .into_iter()
        .filter_map(|(name, value)| match value {
            Value::Null => None,
            Value::String(text) => Some((name, text)),
            other => Some((name, other.to_string())),
        })
        .collect())
}

async fn graph(
    State(fake): State<MetaFake>,
    Path(segments): Path<HashMap<String, String>>,
    method: Method,
    OriginalUri(original): OriginalUri,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut call = match Call::read(segments, method, &original, &uri, &headers, &body) {
        Ok(call) => call,
        Err(error) => return fake.with_usage(error.into_response(), None),
    };
    if let Some(base) = fake.lock().base_url.clone() {
        call.base = base;
    }
    if call.node == "dialog" && call.edge.as_deref() == Some("oauth") {
        return dialog(&fake, &call);
    }
    let route = fake.lock().route(&call);
    match route {
        Ok(endpoint) => fake.answer(endpoint, &call).await,
        Err(error) => fake.with_usage(error.into_response(), None),
    }
}

/// The OAuth dialog: the consent page on GET, the decision on POST (the form posts back to the
/// dialog's own URL, query included).
fn dialog(fake: &MetaFake, call: &Call) -> Response {
    let now = fake.now();
    let mut world = fake.lock();
    if call.method == Method::POST {
        return match world.decide(&call.params, now) {
            Ok(location) => found(&location),
            Err(problem) => refusal_page(PLATFORM, &problem, CONSENT_STYLESHEET),
        };
    }
    match world.oauth.check_authorize(&call.params) {
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

/// `/p/{code}/` and `/reel/{code}/`, where an Instagram permalink lands.
async fn show_instagram_post(State(fake): State<MetaFake>, Path(code): Path<String>) -> Response {
    let world = fake.lock();
    let post = world
        .instagram_posts
        .iter()
        .find(|post| post.shortcode == code);
    post_page(
        post.map(|post| ShownPost {
            site: "Instagram",
            account: format!("@{}", post.username),
            text: post.caption.clone(),
            kind: post.kind.media_type(),
            urls: post.media_urls.clone(),
            at: post.published_at,
            id: post.id.clone(),
        }),
        INSTAGRAM_PAGE_STYLESHEET,
    )
}

/// `/permalink.php?story_fbid=..&id=..`, where a Page post's permalink lands.
async fn show_facebook_post(State(fake): State<MetaFake>, RawQuery(query): RawQuery) -> Response {
    let query = parse_query(query.as_deref());
    let part = |name: &str| query.get(name).map_or("", String::as_str);
    let id = format!("{}_{}", part("id"), part("story_fbid"));
    let world = fake.lock();
    let post = world.facebook_posts.iter().find(|post| post.id == id);
    post_page(
        post.map(|post| ShownPost {
            site: "Facebook",
            account: post.page_name.clone(),
            text: post.message.clone(),
            kind: post.kind.status_type(),
            urls: post.media_urls.clone(),
            at: post.created_time,
            id: post.id.clone(),
        }),
        ROOT_STYLESHEET,
    )
}

/// Which platform a control page is for: the fake nested under a path ending in `facebook`
/// shows Facebook's, otherwise Instagram's (the same world either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Instagram,
    Facebook,
}

impl Target {
    fn of(headers: &HeaderMap, original: &Uri, seen: &Uri) -> Self {
        if own_base_url(headers, original, seen).ends_with("facebook") {
            Self::Facebook
        } else {
            Self::Instagram
        }
    }

    /// The commit point whose next calls the page's failures apply to (for Facebook the
    /// `/feed` post, which multi-photo posts go through too).
    fn endpoint(self) -> Endpoint {
        match self {
            Self::Instagram => Endpoint::Publish,
            Self::Facebook => Endpoint::FeedPost,
        }
    }
}

/// The failures the control page offers: the kit's, worded for Meta (which has no refresh
/// token), plus Facebook's duplicate refusal.
fn control_choices(target: Target) -> Vec<ControlChoice> {
    let mut choices: Vec<ControlChoice> =
        standard_choices("(#100) The media could not be fetched from its URL.")
            .into_iter()
            .map(|choice| {
                let label = match choice.value {
                    "server_error" => "Meta is down (503, code 2): retried with backoff",
                    "rate_limited" => "Throttled (code 4, usage at 100%): retried later",
                    "expired_token" => "Token expired (190/463): the account needs a reconnect",
                    "revoked_token" => "App removed (190/458): the account needs a reconnect",
                    _ => choice.label,
                };
                ControlChoice { label, ..choice }
            })
            .collect();
    if target == Target::Facebook {
        choices.push(ControlChoice {
            value: "duplicate",
            label: "Duplicate status message (506): the app looks for the post",
            failure: Failure::Duplicate,
        });
    }
    choices
}

/// `GET /_control`: arm a failure for the next publish, see the recent posts.
async fn show_control(
    State(fake): State<MetaFake>,
    OriginalUri(original): OriginalUri,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let target = Target::of(&headers, &original, &uri);
    let choices = control_choices(target);
    let (armed, recent) = {
        let world = fake.lock();
        let recent: Vec<Recent> = match target {
            Target::Instagram => world
                .instagram_posts
                .iter()
                .rev()
                .take(20)
                .map(|post| Recent {
                    href: format!("{}/{}/", post.kind.path(), post.shortcode),
                    text: format!("@{}: {}", post.username, excerpt(post.caption.as_deref())),
                })
                .collect(),
            Target::Facebook => world
                .facebook_posts
                .iter()
                .rev()
                .take(20)
                .map(|post| Recent {
                    href: post
                        .permalink
                        .rsplit_once('/')
                        .map_or_else(String::new, |(_, href)| href.to_owned()),
                    text: format!("{}: {}", post.page_name, excerpt(post.message.as_deref())),
                })
                .collect(),
        };
        (world.armed(target.endpoint()), recent)
    };
    let platform = match target {
        Target::Instagram => "Instagram",
        Target::Facebook => "Facebook",
    };
    Html(control_page(&Control {
        platform,
        item: "post",
        choices: &choices,
        own_choices: &[],
        armed,
        recent: &recent,
        stylesheet: ROOT_STYLESHEET,
    }))
    .into_response()
}

async fn arm_control(
    State(fake): State<MetaFake>,
    OriginalUri(original): OriginalUri,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = Target::of(&headers, &original, &uri);
    match chosen_failure(&control_choices(target), &parse_form(&body)) {
        Some(failure) => {
            fake.fail_next(target.endpoint(), [failure]);
            back_to_control()
        }
        None => refusal_page(
            PLATFORM,
            "Pick one of the listed failures.",
            ROOT_STYLESHEET,
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// The world.

#[derive(Debug)]
pub struct World {
    oauth: AuthorizationServer,
    script: Script<Endpoint>,
    /// Failures queued per endpoint, the kit's and Graph's in one order.
    scripted: HashMap<Endpoint, VecDeque<Scripted>>,
    base_url: Option<String>,
    users: Vec<User>,
    pages: Vec<PageRecord>,
    /// Long-lived user tokens: the page tokens they fetch never expire.
    long_lived: HashSet<String>,
    long_lived_lifetime: TimeDelta,
    containers: Vec<ContainerRecord>,
    container_sequences: HashMap<ContainerKind, Vec<ContainerStatus>>,
    instagram_posts: Vec<InstagramPost>,
    facebook_posts: Vec<FacebookPost>,
    photos: Vec<PhotoRecord>,
    videos: Vec<VideoRecord>,
    video_sequence: Vec<VideoStatus>,
    quota_total: u32,
    usage_percent: u32,
    fetch_pulled_media: bool,
    pulled: Vec<PulledMedia>,
    exchanges: usize,
    ids: Ids,
}

#[derive(Debug)]
struct Ids {
    users: IdSequence,
    pages: IdSequence,
    instagram: IdSequence,
    containers: IdSequence,
    media: IdSequence,
    posts: IdSequence,
    photos: IdSequence,
    videos: IdSequence,
}

#[derive(Debug, Clone)]
struct User {
    id: String,
    username: String,
}

#[derive(Debug, Clone)]
struct PageRecord {
    id: String,
    owner_id: String,
    name: String,
    instagram: Option<InstagramAccount>,
}

#[derive(Debug, Clone)]
struct InstagramAccount {
    id: String,
    username: String,
}

#[derive(Debug)]
struct ContainerRecord {
    container: FakeContainer,
    /// The statuses later polls move to, front first.
    upcoming: VecDeque<ContainerStatus>,
}

impl ContainerRecord {
    fn effective_status(&self, now: DateTime<Utc>) -> ContainerStatus {
        let expired =
            now >= self.container.created_at + TimeDelta::seconds(CONTAINER_LIFETIME_SECS);
        match self.container.status {
            ContainerStatus::Published => ContainerStatus::Published,
            _ if expired => ContainerStatus::Expired,
            status => status,
        }
    }
}

#[derive(Debug, Clone)]
struct PhotoRecord {
    id: String,
    page_id: String,
    url: String,
    caption: Option<String>,
    published: bool,
    /// The post it became or was attached to: an unpublished photo is attached once.
    post_id: Option<String>,
}

#[derive(Debug, Clone)]
struct VideoRecord {
    id: String,
    page_id: String,
    file_url: String,
    title: Option<String>,
    description: Option<String>,
    published: bool,
    status: VideoStatus,
    upcoming: VecDeque<VideoStatus>,
    post_id: Option<String>,
    /// Where the upload reached the fake, for its post's permalink.
    base: String,
    created_at: DateTime<Utc>,
}

/// Who a token stands for: a user, or one page (a page token).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Account {
    User(String),
    Page(String),
}

#[derive(Debug, Clone)]
struct Caller {
    account: Account,
    grant: Grant,
}

/// What a Graph id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    OAuth,
    Me,
    Page,
    InstagramUser,
    Container,
    InstagramMedia,
    FacebookPost,
    Video,
    Unknown,
}

/// A checked upload whose media Meta downloads before it is stored.
#[derive(Debug)]
enum Upload {
    Container(FakeContainer),
    Photo(PhotoRecord),
    Video(VideoRecord),
}

impl Upload {
    fn urls(&self) -> Vec<String> {
        match self {
            Self::Container(container) => container
                .media_url
                .iter()
                .chain(&container.cover_url)
                .cloned()
                .collect(),
            Self::Photo(photo) => vec![photo.url.clone()],
            Self::Video(video) => vec![video.file_url.clone()],
        }
    }
}

/// What a call's work under the lock came to.
#[derive(Debug)]
enum Handled {
    Done(Value),
    Pull(Upload),
}

impl World {
    fn new(app_id: &str, app_secret: &str) -> Self {
        Self {
            oauth: AuthorizationServer::new(OAuthConfig {
                client_id: app_id.to_owned(),
                client_secret: app_secret.to_owned(),
                known_scopes: KNOWN_SCOPES,
                scope_separator: ',',
                pkce: Pkce::NotUsed,
                state_required: false,
                code_lifetime: TimeDelta::seconds(CODE_LIFETIME_SECS),
                access_token_lifetime: Some(TimeDelta::seconds(SHORT_LIVED_SECS)),
                refresh: None,
                // Meta's tokens start `EAA`.
                access_token_prefix: "EAA",
                refresh_token_prefix: "",
            }),
            script: Script::default(),
            scripted: HashMap::new(),
            base_url: None,
            users: Vec::new(),
            pages: Vec::new(),
            long_lived: HashSet::new(),
            long_lived_lifetime: TimeDelta::seconds(LONG_LIVED_SECS),
            containers: Vec::new(),
            container_sequences: HashMap::from([
                (ContainerKind::Image, vec![ContainerStatus::Finished]),
                (
                    ContainerKind::Video,
                    vec![ContainerStatus::InProgress, ContainerStatus::Finished],
                ),
                (ContainerKind::Carousel, vec![ContainerStatus::Finished]),
            ]),
            instagram_posts: Vec::new(),
            facebook_posts: Vec::new(),
            photos: Vec::new(),
            videos: Vec::new(),
            video_sequence: vec![VideoStatus::Processing, VideoStatus::Ready],
            quota_total: DEFAULT_QUOTA_TOTAL,
            usage_percent: DEFAULT_USAGE_PERCENT,
            fetch_pulled_media: false,
            pulled: Vec::new(),
            exchanges: 0,
            ids: Ids {
                users: IdSequence::starting_at(FIRST_USER_ID),
                pages: IdSequence::starting_at(FIRST_PAGE_ID),
                instagram: IdSequence::starting_at(FIRST_INSTAGRAM_ID),
                containers: IdSequence::starting_at(FIRST_CONTAINER_ID),
                media: IdSequence::starting_at(FIRST_MEDIA_ID),
                posts: IdSequence::starting_at(FIRST_POST_NUMBER),
                photos: IdSequence::starting_at(FIRST_PHOTO_ID),
                videos: IdSequence::starting_at(FIRST_VIDEO_ID),
            },
        }
    }

    // --- Scripting and routing ----------------------------------------------------------------

    fn queue(&mut self, endpoint: Endpoint, failures: Vec<Scripted>) {
        self.scripted.entry(endpoint).or_default().extend(failures);
    }

    fn next_scripted(&mut self, endpoint: Endpoint) -> Option<Scripted> {
        self.scripted.get_mut(&endpoint)?.pop_front()
    }

    fn armed(&self, endpoint: Endpoint) -> usize {
        self.scripted.get(&endpoint).map_or(0, VecDeque::len)
    }

    /// Token requests are counted by grant before any scripted failure, so the counters say
    /// what clients attempted.
    fn count(&mut self, endpoint: Endpoint, call: &Call) {
        if endpoint != Endpoint::Token {
            return;
        }
        if call.param("grant_type") == Some("fb_exchange_token") {
            self.exchanges += 1;
        } else {
            self.oauth.count_token_request(Some("authorization_code"));
        }
    }

    fn node(&self, id: &str) -> Node {
        match id {
            "oauth" => Node::OAuth,
            "me" => Node::Me,
            _ if self.pages.iter().any(|page| page.id == id) => Node::Page,
            _ if self.instagram_page(id).is_some() => Node::InstagramUser,
            _ if self.container(id).is_some() => Node::Container,
            _ if self.instagram_posts.iter().any(|post| post.id == id) => Node::InstagramMedia,
            _ if self.facebook_posts.iter().any(|post| post.id == id) => Node::FacebookPost,
            _ if self.videos.iter().any(|video| video.id == id) => Node::Video,
            _ => Node::Unknown,
        }
    }

    /// The endpoint a call is for, or Graph's refusal of an unknown node or edge.
    fn route(&self, call: &Call) -> Result<Endpoint, GraphError> {
        let edge = call.edge.as_deref();
        Ok(match (self.node(&call.node), call.method.as_str(), edge) {
            (Node::OAuth, "GET" | "POST", Some("access_token")) => Endpoint::Token,
            (Node::Me, "GET", None) => Endpoint::Me,
            (Node::Me, "GET", Some("permissions")) => Endpoint::Permissions,
            (Node::Me, "DELETE", Some("permissions")) => Endpoint::RevokePermissions,
            (Node::Me, "GET", Some("accounts")) => Endpoint::Accounts,
            (Node::InstagramUser, "GET", None) => Endpoint::InstagramUser,
            (Node::InstagramUser, "POST", Some("media")) => Endpoint::CreateContainer,
            (Node::InstagramUser, "GET", Some("media")) => Endpoint::RecentMedia,
            (Node::InstagramUser, "POST", Some("media_publish")) => Endpoint::Publish,
            (Node::InstagramUser, "GET", Some("content_publishing_limit")) => {
                Endpoint::PublishingLimit
            }
            (Node::Container, "GET", None) => Endpoint::ContainerStatus,
            (Node::InstagramMedia, "GET", None) => Endpoint::InstagramMedia,
            (Node::InstagramMedia, "GET", Some("insights")) => Endpoint::MediaInsights,
            (Node::Page, "GET", None) => Endpoint::Page,
            (Node::Page, "POST", Some("feed")) => Endpoint::FeedPost,
            (Node::Page, "POST", Some("photos")) => Endpoint::Photo,
            (Node::Page, "POST", Some("videos")) => Endpoint::Video,
            (Node::Page, "GET", Some("published_posts" | "feed")) => Endpoint::PublishedPosts,
            (Node::FacebookPost, "GET", None) => Endpoint::FacebookPost,
            (Node::FacebookPost, "GET", Some("insights")) => Endpoint::PostInsights,
            (Node::Video, "GET", None) => Endpoint::VideoStatus,
            _ => return Err(unsupported(call)),
        })
    }

    /// The page or Instagram account a call is about, for the business usage header.
    fn business_of(&self, id: &str) -> Option<(String, &'static str)> {
        let page = |page_id: &str| Some((page_id.to_owned(), "pages"));
        let instagram = |ig_id: &str| Some((ig_id.to_owned(), "instagram"));
        match self.node(id) {
            Node::Page => page(id),
            Node::InstagramUser => instagram(id),
            Node::Container => instagram(&self.container(id)?.container.ig_user_id),
            Node::InstagramMedia => {
                instagram(&self.instagram_posts.iter().find(|p| p.id == id)?.ig_user_id)
            }
            Node::FacebookPost => page(id.split_once('_')?.0),
            Node::Video => page(&self.videos.iter().find(|v| v.id == id)?.page_id),
            Node::OAuth | Node::Me | Node::Unknown => None,
        }
    }

    fn handle(
        &mut self,
        endpoint: Endpoint,
        call: &Call,
        now: DateTime<Utc>,
    ) -> Result<Handled, GraphError> {
        let done = match endpoint {
            Endpoint::Token => self.token(call, now),
            Endpoint::Me => self.me(call, now),
            Endpoint::Permissions => self.permissions(call, now),
            Endpoint::RevokePermissions => self.revoke_permissions(call, now),
            Endpoint::Accounts => self.accounts(call, now),
            Endpoint::InstagramUser => self.instagram_user(call, now),
            Endpoint::CreateContainer => return self.plan_container(call, now).map(Handled::Pull),
            Endpoint::ContainerStatus => self.poll_container(call, now),
            Endpoint::Publish => self.publish(call, now),
            Endpoint::InstagramMedia => self.instagram_media(call, now),
            Endpoint::MediaInsights => self.media_insights(call, now),
            Endpoint::RecentMedia => self.recent_media(call, now),
            Endpoint::PublishingLimit => self.publishing_limit(call, now),
            Endpoint::Page => self.page_node(call, now),
            Endpoint::FeedPost => self.feed_post(call, now),
            Endpoint::Photo => return self.plan_photo(call, now).map(Handled::Pull),
            Endpoint::Video => return self.plan_video(call, now).map(Handled::Pull),
            Endpoint::VideoStatus => self.poll_video(call, now),
            Endpoint::FacebookPost => self.facebook_post(call, now),
            Endpoint::PostInsights => self.post_insights(call, now),
            Endpoint::PublishedPosts => self.published_posts(call, now),
        };
        done.map(Handled::Done)
    }

    // --- Users, pages, consent ----------------------------------------------------------------

    /// The dialog's outcome, as the URL Meta would redirect the browser to. Shared by the form
    /// and [`MetaFake::authorize_directly`], so both check the same things.
    fn decide(&mut self, params: &Params, now: DateTime<Utc>) -> Result<String, String> {
        let request = self.oauth.check_authorize(params)?;
        match Decision::from_form(params)? {
            Decision::Deny => Ok(request.denied_location()),
            Decision::Allow { username } => {
                USERNAMES.check(&username)?;
                let user = self.user_for(&username);
                Ok(self.oauth.approve(request, &user.id, now))
            }
        }
    }

    fn user_named(&self, username: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|user| user.username.eq_ignore_ascii_case(username))
    }

    /// The user with this username, made on first use with one page linked to an Instagram
    /// account, so a plain consent can publish on both platforms.
    fn user_for(&mut self, username: &str) -> User {
        if let Some(user) = self.user_named(username) {
            return user.clone();
        }
        let user = User {
            id: self.ids.users.next_id(),
            username: username.to_owned(),
        };
        self.users.push(user.clone());
        self.store_page(&user.id, &format!("{username} Sandbox Page"), true);
        user
    }

    fn store_page(&mut self, owner_id: &str, name: &str, with_instagram: bool) -> PageIds {
        let instagram = with_instagram.then(|| InstagramAccount {
            id: self.ids.instagram.next_id(),
            username: instagram_username(name),
        });
        let page = PageRecord {
            id: self.ids.pages.next_id(),
            owner_id: owner_id.to_owned(),
            name: name.to_owned(),
            instagram,
        };
        let ids = PageIds {
            page_id: page.id.clone(),
            instagram_id: page.instagram.as_ref().map(|ig| ig.id.clone()),
        };
        self.pages.push(page);
        ids
    }

    fn page(&self, id: &str) -> Option<&PageRecord> {
        self.pages.iter().find(|page| page.id == id)
    }

    fn instagram_page(&self, ig_id: &str) -> Option<&PageRecord> {
        self.pages
            .iter()
            .find(|page| page.instagram.as_ref().is_some_and(|ig| ig.id == ig_id))
    }

    fn container(&self, id: &str) -> Option<&ContainerRecord> {
        self.containers
            .iter()
            .find(|record| record.container.id == id)
    }

    /// Removing the app: the user's tokens and every page token of their pages die.
    fn revoke_user(&mut self, user_id: &str) {
        self.oauth.revoke_account(user_id);
        let pages: Vec<String> = self
            .pages
            .iter()
            .filter(|page| page.owner_id == user_id)
            .map(|page| page.id.clone())
            .collect();
        for page_id in pages {
            self.oauth.revoke_account(&page_id);
        }
    }

    // --- Who is calling -----------------------------------------------------------------------

    /// The account behind the call's token, which must carry `scopes` (else `missing_code`).
    fn caller(
        &self,
        call: &Call,
        scopes: &[&str],
        missing_code: u32,
        now: DateTime<Utc>,
    ) -> Result<Caller, GraphError> {
        let grant = self
            .oauth
            .authenticate(call.token.as_deref(), scopes, now)
            .map_err(|refusal| bearer_error(refusal, missing_code))?;
        let account = if self.users.iter().any(|user| user.id == grant.account_id) {
            Account::User(grant.account_id.clone())
        } else if self.page(&grant.account_id).is_some() {
            Account::Page(grant.account_id.clone())
        } else {
            return Err(bearer_error(BearerError::Unknown, missing_code));
        };
        Ok(Caller { account, grant })
    }

    /// A user token's user: `/me` edges that pages do not have.
    fn user_caller(
        &self,
        call: &Call,
        scopes: &[&str],
        now: DateTime<Utc>,
    ) -> Result<(String, Grant), GraphError> {
        let caller = self.caller(call, scopes, CODE_PAGE_PERMISSION, now)?;
        match caller.account {
            Account::User(id) => Ok((id, caller.grant)),
            Account::Page(_) => Err(nonexisting_field(
                call.edge.as_deref().unwrap_or("me"),
                "Page",
            )),
        }
    }

    /// The page for a call on one of its edges, which needs that page's own token: a user token
    /// is code 210, another page's token code 200.
    fn page_token_for(
        &self,
        call: &Call,
        scopes: &[&str],
        now: DateTime<Utc>,
    ) -> Result<PageRecord, GraphError> {
        let caller = self.caller(call, scopes, CODE_PAGE_PERMISSION, now)?;
        let page = self.page(&call.node).ok_or_else(|| unsupported(call))?;
        match caller.account {
            Account::Page(id) if id == page.id => Ok(page.clone()),
            Account::Page(_) => Err(forbidden(
                CODE_PAGE_PERMISSION,
                "(#200) The page access token belongs to another Page.",
            )),
            Account::User(_) => Err(forbidden(
                CODE_PAGE_TOKEN_REQUIRED,
                "(#210) A page access token is required to request this resource.",
            )),
        }
    }

    /// Reading `page_id` or one of its objects: its page token, or a user token of its admin.
    fn page_reader(
        &self,
        call: &Call,
        page_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Caller, GraphError> {
        self.page_reader_with(call, page_id, PAGE_READ_SCOPES, now)
    }

    /// [`World::page_reader`] for a read that needs `scopes`.
    fn page_reader_with(
        &self,
        call: &Call,
        page_id: &str,
        scopes: &[&str],
        now: DateTime<Utc>,
    ) -> Result<Caller, GraphError> {
        let caller = self.caller(call, scopes, CODE_PAGE_PERMISSION, now)?;
        let allowed = match &caller.account {
            Account::Page(id) => id == page_id,
            Account::User(id) => self.page(page_id).is_some_and(|page| &page.owner_id == id),
        };
        if allowed {
            Ok(caller)
        } else {
            Err(unsupported(call))
        }
    }

    /// The Instagram account `ig_id`, for a token of its page's admin or of its page. Anyone
    /// else is told it does not exist, as Graph tells them.
    fn instagram_account(
        &self,
        call: &Call,
        ig_id: &str,
        scopes: &[&str],
        now: DateTime<Utc>,
    ) -> Result<InstagramAccount, GraphError> {
        let caller = self.caller(call, scopes, CODE_PERMISSION, now)?;
        self.instagram_page(ig_id)
            .filter(|page| match &caller.account {
                Account::User(id) => &page.owner_id == id,
                Account::Page(id) => &page.id == id,
            })
            .and_then(|page| page.instagram.clone())
            .ok_or_else(|| unsupported(call))
    }

    // --- Tokens and the user ------------------------------------------------------------------

    /// `GET /oauth/access_token`: a code for a short-lived token, or `fb_exchange_token` for a
    /// long-lived one. The app is checked first, by id then secret, as Meta words it.
    fn token(&mut self, call: &Call, now: DateTime<Utc>) -> Result<Value, GraphError> {
        let client = ClientCredentials {
            id: call.param("client_id").unwrap_or_default().to_owned(),
            secret: call.param("client_secret").unwrap_or_default().to_owned(),
        };
        if self.oauth.check_client(Some(&client)).is_err() {
            return Err(if client.id == self.oauth.config().client_id {
                GraphError::new(CODE_UNKNOWN, "Error validating client secret.")
            } else {
                GraphError::new(
                    CODE_INVALID_APP,
                    "Error validating application. Invalid application ID.",
                )
            });
        }
        let tokens = match call.param("grant_type") {
            Some("fb_exchange_token") => {
                let short = required(call, "fb_exchange_token")?;
                let grant = self
                    .oauth
                    .authenticate(Some(short), &[], now)
                    .map_err(|refusal| bearer_error(refusal, CODE_PERMISSION))?;
                if !self.users.iter().any(|user| user.id == grant.account_id) {
                    return Err(invalid(
                        "(#100) fb_exchange_token must be a user access token.",
                    ));
                }
                let tokens =
                    self.oauth
                        .issue_access_token(grant, Some(self.long_lived_lifetime), now);
                self.long_lived.insert(tokens.access_token.clone());
                tokens
            }
            None | Some("authorization_code") => {
                let redemption = CodeRedemption {
                    code: required(call, "code")?,
                    redirect_uri: required(call, "redirect_uri")?,
                    client_id: Some(&client.id),
                    code_verifier: None,
                };
                self.oauth
                    .exchange_code(redemption, now)
                    .map_err(|refusal| code_error(&refusal))?
            }
            Some(other) => return Err(invalid(&format!("(#100) Unsupported grant_type: {other}"))),
        };
        Ok(json!({
            "access_token": tokens.access_token,
            "token_type": "bearer",
            "expires_in": tokens.expires_in,
        }))
    }

    /// `/me`: the user, or with a page token the page.
    fn me(&mut self, call: &Call, now: DateTime<Utc>) -> Result<Value, GraphError> {
        let caller = self.caller(call, &[], CODE_PERMISSION, now)?;
        match &caller.account {
            Account::User(id) => {
                let name = self
                    .users
                    .iter()
                    .find(|user| &user.id == id)
                    .map_or_else(String::new, |user| user.username.clone());
                let all = json!({ "id": id, "name": name, "picture": picture_json(&name) });
                select("User", all, call, NAME_FIELDS)
            }
            Account::Page(id) => {
                let page = self.page(id).cloned().ok_or_else(|| unsupported(call))?;
                self.page_fields(&page, call, None, NAME_FIELDS, now)
            }
        }
    }

    /// `GET /me/permissions`: what was granted (`public_profile` always is).
    fn permissions(&self, call: &Call, now: DateTime<Utc>) -> Result<Value, GraphError> {
        let (_, grant) = self.user_caller(call, &[], now)?;
        let mut names = vec!["public_profile"];
        names.extend(
            grant
                .scopes
                .iter()
                .filter(|scope| *scope != "public_profile"),
        );
        let data: Vec<Value> = names
            .into_iter()
            .map(|permission| json!({ "permission": permission, "status": "granted" }))
            .collect();
        Ok(json!({ "data": data }))
    }

    /// `DELETE /me/permissions`: the app is removed, every token of the user and their pages
    /// dies.
    fn revoke_permissions(&mut self, call: &Call, now: DateTime<Utc>) -> Result<Value, GraphError> {
        let (user_id, _) = self.user_caller(call, &[], now)?;
        self.revoke_user(&user_id);
        Ok(json!({ "success": true }))
    }

    /// `GET /me/accounts`: the user's pages, each with a page token when asked for. A page
    /// token fetched with a long-lived user token never expires; with a short-lived one it
    /// lives as long as short-lived tokens do.
    fn accounts(&mut self, call: &Call, now: DateTime<Utc>) -> Result<Value, GraphError> {
        let (user_id, grant) = self.user_caller(call, ACCOUNTS_SCOPES, now)?;
        let ids: Vec<String> = self
            .pages
            .iter()
            .filter(|page| page.owner_id == user_id)
            .map(|page| page.id.clone())
            .collect();
        paged(call, &ids, |id| {
            let page = self.page(id).cloned().ok_or_else(|| unsupported(call))?;
            self.page_fields(&page, call, Some(&grant), ACCOUNT_FIELDS, now)
        })
    }

    /// A page's fields; `admin` (the admin's grant) lets `access_token` mint a page token.
    fn page_fields(
        &mut self,
        page: &PageRecord,
        call: &Call,
        admin: Option<&Grant>,
        default: &[&str],
        now: DateTime<Utc>,
    ) -> Result<Value, GraphError> {
        let access_token = match admin {
            Some(grant) if wants(call, "access_token", default) => {
                let long_lived = call
                    .token
                    .as_ref()
                    .is_some_and(|token| self.long_lived.contains(token));
                let lifetime = if long_lived {
                    None
                } else {
                    self.oauth.config().access_token_lifetime
                };
                let page_grant = Grant {
                    account_id: page.id.clone(),
                    scopes: grant.scopes.clone(),
                };
                Value::from(
                    self.oauth
                        .issue_access_token(page_grant, lifetime, now)
                        .access_token,
                )
            }
            _ => Value::Null,
        };
        let instagram = page.instagram.as_ref().map_or(Value::Null, |ig| {
            json!({ "id": ig.id, "username": ig.username, "name": page.name, "profile_picture_url": avatar_data_url(&ig.username) })
        });
        let all = json!({
            "id": page.id,
            "name": page.name,
            "access_token": access_token,
            "category": "Brand",
            "tasks": ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE", "MANAGE"],
            "picture": picture_json(&page.name),
            "instagram_business_account": instagram,
        });
        select("Page", all, call, default)
    }

    /// `GET /{page-id}`.
    fn page_node(&mut self, call: &Call, now: DateTime<Utc>) -> Result<Value, GraphError> {
        let caller = self.page_reader(call, &call.node, now)?;
        let page = self
            .page(&call.node)
            .cloned()
            .ok_or_else(|| unsupported(call))?;
        let admin = matches!(caller.account, Account::User(_)).then_some(&caller.grant);
        self.page_fields(&page, call, admin, NAME_FIELDS, now)
    }
}

// Instagram.
impl World {
    /// `GET /{ig-user-id}`.
    fn instagram_user(&self, call: &Call, now: DateTime<Utc>) -> Result<Value, GraphError> {
        let ig = self.instagram_account(call, &call.node, IG_READ_SCOPES, now)?;
        let media_count = self
            .instagram_posts
            .iter()
            .filter(|post| post.ig_user_id == ig.id)
            .count();
        let all = json!({
            "id": ig.id,
            "username": ig.username,
            "name": ig.username,
            "profile_picture_url": avatar_data_url(&ig.username),
            "media_count": media_count,
            "followers_count": 0,
            "follows_count": 0,
            "biography": "",
        });
        select("IGUser", all, call, ID_FIELDS)
    }

    /// `POST /{ig-user-id}/media`, checked: an image, a reel, a carousel item or a carousel.
    /// Stories are not modelled (refused as an unknown media type), nor is the retired
    /// `media_type=VIDEO` for a single video (Meta makes those reels). Captions on carousel
    /// items are ignored, as Meta ignores them.
    fn plan_container(&self, call: &Call, now: DateTime<Utc>) -> Result<Upload, GraphError> {
        let ig = self.instagram_account(call, &call.node, IG_PUBLISH_SCOPES, now)?;
        let is_item = flag(call, "is_carousel_item")?.unwrap_or(false);
        let media_type = call.param("media_type").map(str::to_ascii_uppercase);
        let (kind, media_type, url_field) = match (media_type.as_deref(), is_item) {
            (None | Some("IMAGE"), _) => (ContainerKind::Image, "IMAGE", "image_url"),
            (Some("REELS"), false) => (ContainerKind::Video, "REELS", "video_url"),
            (Some("VIDEO"), true) => (ContainerKind::Video, "VIDEO", "video_url"),
            (Some("CAROUSEL"), false) => (ContainerKind::Carousel, "CAROUSEL", ""),
            (Some(other), _) => {
                return Err(invalid(&format!(
                    "(#100) The media type {other} is not supported here."
                ))
                .with_subcode(SUBCODE_UNKNOWN_MEDIA_TYPE)
                .with_user_message(
                    "Unsupported media type",
                    "Use IMAGE, REELS or CAROUSEL (VIDEO only for carousel items).",
                ));
            }
        };
        let caption = if is_item {
            None
        } else {
            call.param("caption").map(str::to_owned)
        };
        if caption
            .as_ref()
            .is_some_and(|caption| caption.chars().count() > MAX_CAPTION_CHARS)
        {
            return Err(invalid("(#100) The caption is too long.")
                .with_subcode(SUBCODE_CAPTION_TOO_LONG)
                .with_user_message(
                    "Caption too long",
                    "The caption can have at most 2,200 characters.",
                ));
        }
        let children = if kind == ContainerKind::Carousel {
            self.carousel_children(call, &ig.id, now)?
        } else {
            Vec::new()
        };
        let media_url =
            match url_field {
                "" => None,
                field => Some(url_param(call, field)?.ok_or_else(|| {
                    invalid(&format!("(#100) The parameter {field} is required."))
                })?),
            };
        let cover_url = if media_type == "REELS" {
            url_param(call, "cover_url")?
        } else {
            None
        };
        Ok(Upload::Container(FakeContainer {
            id: String::new(),
            ig_user_id: ig.id,
            kind,
            media_type,
            is_carousel_item: is_item,
            caption,
            media_url,
            cover_url,
            share_to_feed: if media_type == "REELS" {
                flag(call, "share_to_feed")?
            } else {
                None
            },
            children,
            status: ContainerStatus::InProgress,
            created_at: now,
            media_id: None,
        }))
    }

    /// A carousel's `children`: 2 to 10 unused, unexpired carousel items of this account.
    fn carousel_children(
        &self,
        call: &Call,
        ig_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, GraphError> {
        let children: Vec<String> = call
            .param("children")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .collect();
        if !(MIN_CAROUSEL_CHILDREN..=MAX_CAROUSEL_CHILDREN).contains(&children.len()) {
            return Err(carousel_error(&format!(
                "The carousel has too little or too many attachments: {} children, it takes 2 to 10.",
                children.len()
            )));
        }
        for child in &children {
            let usable = self.container(child).is_some_and(|record| {
                record.container.ig_user_id == ig_id
                    && record.container.is_carousel_item
                    && !matches!(
                        record.effective_status(now),
                        ContainerStatus::Published | ContainerStatus::Expired
                    )
            });
            if !usable {
                return Err(carousel_error(&format!(
                    "{child} is not an unpublished, unexpired carousel item of this account."
                )));
            }
        }
        Ok(children)
    }

    fn store_container(&mut self, mut container: FakeContainer, download_failed: bool) -> Value {
        container.id = self.ids.containers.next_id();
        let mut statuses: VecDeque<ContainerStatus> = if download_failed {
            VecDeque::from([ContainerStatus::Error {
                subcode: SUBCODE_DOWNLOAD_FAILED,
            }])
        } else {
            self.container_sequences
                .get(&container.kind)
                .cloned()
                .unwrap_or_default()
                .into()
        };
        container.status = statuses.pop_front().unwrap_or(ContainerStatus::Finished);
        let id = container.id.clone();
        self.containers.push(ContainerRecord {
            container,
            upcoming: statuses,
        });
        json!({ "id": id })
    }

    /// `GET /{container-id}`: reports the current status, then moves to the next of its
    /// sequence.
    fn poll_container(&mut self, call: &Call, now: DateTime<Utc>) -> Result<Value, GraphError> {
        let owner = self
            .container(&call.node)
            .map(|record| record.container.ig_user_id.clone())
            .unwrap_or_default();
        self.instagram_account(call, &owner, IG_READ_SCOPES, now)?;
        let record = self
            .containers
            .iter_mut()
            .find(|record| record.container.id == call.node)
            .ok_or_else(|| unsupported(call))?;
        let status = record.effective_status(now);
        if !matches!(
            status,
            ContainerStatus::Published | ContainerStatus::Expired
        ) && let Some(next) = record.upcoming.pop_front()
        {
            record.container.status = next;
        }
        let all = json!({ "id": call.node, "status_code": status.status_code(), "status": status.description() });
        select("IGContainer", all, call, ID_FIELDS)
    }

    /// Why `record` cannot be published now, if it cannot.
    fn check_publishable(record: &ContainerRecord, now: DateTime<Utc>) -> Result<(), GraphError> {
        let unavailable = |subcode: Option<u32>, message: &str| {
            let error = GraphError::new(CODE_MEDIA_NOT_AVAILABLE, message);
            match subcode {
                Some(subcode) => error.with_subcode(subcode),
                None => error,
            }
        };
        match record.effective_status(now) {
            ContainerStatus::Finished => Ok(()),
            ContainerStatus::InProgress => Err(unavailable(
                Some(SUBCODE_NOT_READY),
                "Media ID is not available",
            )
            .with_user_message(
                "Media Not Ready for Publishing",
                "The media is not ready for publishing, please wait for a moment",
            )),
            ContainerStatus::Expired => Err(unavailable(
                Some(SUBCODE_CONTAINER_EXPIRED),
                "The media container has expired.",
            )
            .with_user_message(
                "Media container expired",
                "Containers must be published within 24 hours. Create a new one.",
            )),
            ContainerStatus::Error { subcode } => Err(unavailable(
                Some(subcode),
                "The media could not be processed.",
            )),
            // No subcode: Meta's is undocumented. A client reads the container's PUBLISHED.
            ContainerStatus::Published => Err(unavailable(
                None,
                "The media container has already been published.",
            )),
        }
    }

    /// `POST /{ig-user-id}/media_publish`: the commit point.
    fn publish(&mut self, call: &Call, now: DateTime<Utc>) -> Result<Value, GraphError> {
        let ig = self.instagram_account(call, &call.node, IG_PUBLISH_SCOPES, now)?;
        let creation_id = required(call, "creation_id")?;
        let record = self
            .container(creation_id)
            .filter(|record| record.container.ig_user_id == ig.id)
            .ok_or_else(|| {
                invalid(&format!(
                    "(#100) {creation_id} is not a media container of this account."
                ))
                .with_subcode(SUBCODE_MEDIA_NOT_FOUND)
            })?;
        if record.container.is_carousel_item {
            return Err(carousel_error(
                "A carousel item is published through its carousel.",
            ));
        }
        Self::check_publishable(record, now)?;
        let container = record.container.clone();
        let mut media_urls = Vec::new();
        for child in &container.children {
            let child = self
                .container(child)
                .ok_or_else(|| carousel_error("A child container is gone."))?;
            Self::check_publishable(child, now)?;
            media_urls.extend(child.container.media_url.clone());
        }
        media_urls.extend(container.media_url.clone());
        if self.quota_usage(&ig.id, now) >= self.quota_total as usize {
            return Err(GraphError::new(
                CODE_PUBLISHING_LIMIT,
                "(#9) The account has reached its limit of published posts for 24 hours.",
            )
            .with_subcode(SUBCODE_QUOTA)
            .with_user_message(
                "Publishing limit reached",
                "Try again when the 24-hour window has rolled on.",
            ));
        }
        let kind = match container.kind {
            ContainerKind::Image => InstagramKind::Image,
            ContainerKind::Video => InstagramKind::Reel,
            ContainerKind::Carousel => InstagramKind::Carousel,
        };
        let shortcode: String = random_token("")
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(11)
            .collect();
        let post = InstagramPost {
            id: self.ids.media.next_id(),
            ig_user_id: ig.id,
            username: ig.username,
            container_id: container.id.clone(),
            kind,
            caption: container.caption.clone(),
            media_urls,
            permalink: format!("{}/{}/{shortcode}/", call.base, kind.path()),
            shortcode,
            published_at: now,
        };
        for record in &mut self.containers {
            if record.container.id == container.id
                || container.children.contains(&record.container.id)
            {
                record.container.status = ContainerStatus::Published;
                record.container.media_id = Some(post.id.clone());
                record.upcoming.clear();
            }
        }
        let id = post.id.clone();
        self.instagram_posts.push(post);
        Ok(json!({ "id": id }))
    }

    /// Posts published in the rolling 24 hours before `now` (a carousel is one post).
    fn quota_usage(&self, ig_id: &str, now: DateTime<Utc>) -> usize {
        let since = now - TimeDelta::seconds(QUOTA_WINDOW_SECS);
        self.instagram_posts
            .iter()
            .filter(|post| post.ig_user_id == ig_id && post.published_at > since)
            .count()
    }

    fn instagram_media_json(post: &InstagramPost, now: DateTime<Utc>) -> Value {
        let numbers = Engagement::of(&post.id, post.published_at, now);
        json!({
            "id": post.id,
            "caption": post.caption,
            "timestamp": graph_time(post.published_at),
            "permalink": post.permalink,
            "shortcode": post.shortcode,
            "media_type": post.kind.media_type(),
            "media_product_type": post.kind.product_type(),
            "media_url": post.media_urls.first(),
            "username": post.username,
            "like_count": numbers.likes,
            "comments_count": numbers.comments,
        })
    }

    /// `GET /{ig-media-id}`.
    fn instagram_media(&self, call: &Call, now: DateTime<Utc>) -> Result<Value, GraphError> {
        let post = self
            .instagram_posts
            .iter()
            .find(|post| post.id == call.node)
            .ok_or_else(|| unsupported(call))?;
        self.instagram_account(call, &post.ig_user_id, IG_READ_SCOPES, now)?;
        select(
            "IGMedia",
            Self::instagram_media_json(post, now),
            call,
            ID_FIELDS,
        )
    }

    /// `GET /{ig-user-id}/media`: newest first, paged.
    fn recent_media(&self, call: &Call, now: DateTime<Utc>) -> Result<Value, GraphError> {
        let ig = self.instagram_account(call, &call.node, IG_READ_SCOPES, now)?;
        let ids: Vec<String> = self
            .instagram_posts
            .iter()
            .rev()
            .filter(|post| post.ig_user_id == ig.id)
            .map(|post| post.id.clone())
            .collect();
        paged(call, &ids, |id| {
            let post = self
                .instagram_posts
                .iter()
                .find(|post| post.id == id)
                .ok_or_else(|| unsupported(call))?;
            select(
                "IGMedia",
                Self::instagram_media_json(post, now),
                call,
                ID_FIELDS,
            )
        })
    }

    /// `GET /{ig-media-id}/insights?metric=..`: lifetime values, for the account's admin.
    fn media_insights(&self, call: &Call, now: DateTime<Utc>) -> Result<Value, GraphError> {
        let post = self
            .instagram_posts
            .iter()
            .find(|post| post.id == call.node)
            .ok_or_else(|| unsupported(call))?;
        self.instagram_account(call, &post.ig_user_id, IG_INSIGHTS_SCOPES, now)?;
        let numbers = Engagement::of(&post.id, post.published_at, now);
        let saved = numbers.likes / 8;
        insights(call, IG_METRICS, |metric| {
            Value::from(match metric {
                "views" => numbers.views,
                "reach" => numbers.views * 7 / 10,
                "likes" => numbers.likes,
                "comments" => numbers.comments,
                "shares" => numbers.shares,
                "saved" => saved,
                _ => numbers.likes + numbers.comments + numbers.shares + saved,
            })
        })
    }

    /// `GET /{ig-user-id}/content_publishing_limit`.
    fn publishing_limit(&self, call: &Call, now: DateTime<Utc>) -> Result<Value, GraphError> {
        let ig = self.instagram_account(call, &call.node, IG_READ_SCOPES, now)?;
        let all = json!({
            "quota_usage": self.quota_usage(&ig.id, now),
            "config": { "quota_total": self.quota_total, "quota_duration": QUOTA_WINDOW_SECS },
        });
        let item = select(
            "ContentPublishingLimit",
            all,
            call,
            &["quota_usage", "config"],
        )?;
        Ok(json!({ "data": [item] }))
    }
}

// Facebook Pages.
impl World {
    /// `POST /{page-id}/feed`: text, a link, attached unpublished photos; published now,
    /// unpublished, or scheduled. The commit point.
    fn feed_post(&mut self, call: &Call, now: DateTime<Utc>) -> Result<Value, GraphError> {
        let page = self.page_token_for(call, PAGE_PUBLISH_SCOPES, now)?;
        let message = check_message(call.param("message"))?;
        let link = url_param(call, "link")?;
        let attached = attached_media(call.param("attached_media"))?;
        if message.is_none() && link.is_none() && attached.is_empty() {
            return Err(invalid("(#100) Missing message or attachment."));
        }
        let published = flag(call, "published")?.unwrap_or(true);
        let scheduled_for = scheduled_time(call, published, now)?;
        let mut media_urls = Vec::new();
        for fbid in &attached {
            let photo = self
                .photos
                .iter()
                .find(|photo| &photo.id == fbid && photo.page_id == page.id)
                .ok_or_else(|| {
                    invalid(&format!(
                        "(#100) media_fbid {fbid} is not a photo of this page."
                    ))
                })?;
            if photo.published || photo.post_id.is_some() {
                return Err(invalid("(#100) This photo was already posted.")
                    .with_subcode(SUBCODE_PHOTO_USED)
                    .with_user_message(
                        "Photos already posted",
                        "An unpublished photo can be attached to one post only.",
                    ));
            }
            media_urls.push(photo.url.clone());
        }
        let since = now - TimeDelta::seconds(DUPLICATE_WINDOW_SECS);
        if message.is_some()
            && self.facebook_posts.iter().any(|post| {
                post.page_id == page.id && post.message == message && post.created_time > since
            })
        {
            return Err(duplicate());
        }
        let kind = match (attached.is_empty(), &link) {
            (false, _) => FacebookKind::Photo,
            (true, Some(_)) => FacebookKind::Link,
            (true, None) => FacebookKind::Status,
        };
        let id = self.add_facebook_post(
            &page,
            kind,
            message,
            link,
            media_urls,
            published,
            scheduled_for,
            &call.base,
            now,
        );
        for photo in &mut self.photos {
            if attached.contains(&photo.id) {
                photo.post_id = Some(id.clone());
            }
        }
        Ok(json!({ "id": id }))
    }

    #[allow(clippy::too_many_arguments)] // one post's fields, from three kinds of upload
    fn add_facebook_post(
        &mut self,
        page: &PageRecord,
        kind: FacebookKind,
        message: Option<String>,
        link: Option<String>,
        media_urls: Vec<String>,
        published: bool,
        scheduled_for: Option<DateTime<Utc>>,
        base: &str,
        now: DateTime<Utc>,
    ) -> String {
        let number = self.ids.posts.next_id();
        let post = FacebookPost {
            id: format!("{}_{number}", page.id),
            page_id: page.id.clone(),
            page_name: page.name.clone(),
            kind,
            message,
            link,
            media_urls,
            created_time: now,
            published,
            scheduled_for,
            permalink: format!("{base}/permalink.php?story_fbid={number}&id={}", page.id),
        };
        let id = post.id.clone();
        self.facebook_posts.push(post);
        id
    }

    /// `POST /{page-id}/photos`, checked: by URL only (a `source` upload is not modelled).
    fn plan_photo(&self, call: &Call, now: DateTime<Utc>) -> Result<Upload, GraphError> {
        let page = self.page_token_for(call, PAGE_PUBLISH_SCOPES, now)?;
        let url = url_param(call, "url")?
            .ok_or_else(|| GraphError::new(CODE_UPLOAD_REQUIRED, "(#324) Requires upload file"))?;
        Ok(Upload::Photo(PhotoRecord {
            id: String::new(),
            page_id: page.id,
            url,
            caption: check_message(call.param("caption"))?,
            published: flag(call, "published")?.unwrap_or(true),
            post_id: None,
        }))
    }

    /// `POST /{page-id}/videos`, checked: by `file_url` only.
    fn plan_video(&self, call: &Call, now: DateTime<Utc>) -> Result<Upload, GraphError> {
        let page = self.page_token_for(call, PAGE_PUBLISH_SCOPES, now)?;
        let file_url = url_param(call, "file_url")?
            .ok_or_else(|| invalid("(#100) The parameter file_url is required."))?;
        Ok(Upload::Video(VideoRecord {
            id: String::new(),
            page_id: page.id,
            file_url,
            title: call.param("title").map(str::to_owned),
            description: check_message(call.param("description"))?,
            published: flag(call, "published")?.unwrap_or(true),
            status: VideoStatus::Processing,
            upcoming: VecDeque::new(),
            post_id: None,
            base: call.base.clone(),
            created_at: now,
        }))
    }

    /// Stores an upload whose media Meta downloaded. A failed download is an ERROR container
    /// on Instagram, and a refusal (2061006) on a Page.
    fn store_upload(
        &mut self,
        upload: Upload,
        pulled: Vec<PulledMedia>,
        call: &Call,
        now: DateTime<Utc>,
    ) -> Result<Value, GraphError> {
        let failed = pulled.iter().any(|media| !media.succeeded());
        self.pulled.extend(pulled);
        if failed && !matches!(upload, Upload::Container(_)) {
            return Err(
                invalid("(#100) The media could not be fetched from its URL.")
                    .with_subcode(SUBCODE_BAD_URL)
                    .with_user_message(
                        "Media URL unreachable",
                        "Meta could not download the media from the URL given.",
                    ),
            );
        }
        match upload {
            Upload::Container(container) => Ok(self.store_container(container, failed)),
            Upload::Photo(mut photo) => {
                photo.id = self.ids.photos.next_id();
                let mut answer = json!({ "id": photo.id });
                if photo.published {
                    let page = self
                        .page(&photo.page_id)
                        .cloned()
                        .ok_or_else(|| unsupported(call))?;
                    let post_id = self.add_facebook_post(
                        &page,
                        FacebookKind::Photo,
                        photo.caption.clone(),
                        None,
                        vec![photo.url.clone()],
                        true,
                        None,
                        &call.base,
                        now,
                    );
                    answer["post_id"] = json!(post_id);
                    photo.post_id = Some(post_id);
                }
                self.photos.push(photo);
                Ok(answer)
            }
            Upload::Video(mut video) => {
                video.id = self.ids.videos.next_id();
                let mut statuses: VecDeque<VideoStatus> = self.video_sequence.clone().into();
                video.status = statuses.pop_front().unwrap_or(VideoStatus::Ready);
                video.upcoming = statuses;
                let id = video.id.clone();
                self.videos.push(video);
                self.settle_video(&id, now);
                Ok(json!({ "id": id }))
            }
        }
    }

    /// A published video that turned ready becomes a post.
    fn settle_video(&mut self, video_id: &str, now: DateTime<Utc>) {
        let Some(video) = self
            .videos
            .iter()
            .find(|video| video.id == video_id)
            .cloned()
        else {
            return;
        };
        if video.status != VideoStatus::Ready || !video.published || video.post_id.is_some() {
            return;
        }
        let Some(page) = self.page(&video.page_id).cloned() else {
            return;
        };
        let post_id = self.add_facebook_post(
            &page,
            FacebookKind::Video,
            video.description.clone(),
            None,
            vec![video.file_url.clone()],
            true,
            None,
            &video.base,
            now,
        );
        if let Some(video) = self.videos.iter_mut().find(|video| video.id == video_id) {
            video.post_id = Some(post_id);
        }
    }

    /// `GET /{video-id}`: reports the current status, then moves to the next of its sequence.
    fn poll_video(&mut self, call: &Call, now: DateTime<Utc>) -> Result<Value, GraphError> {
        let video = self
            .videos
            .iter()
            .find(|video| video.id == call.node)
            .cloned()
            .ok_or_else(|| unsupported(call))?;
        self.page_reader(call, &video.page_id, now)?;
        let (post_id, permalink) = match (&video.post_id, video.status) {
            (Some(id), VideoStatus::Ready) => (
                json!(id),
                json!(
                    self.facebook_posts
                        .iter()
                        .find(|post| &post.id == id)
                        .map(|post| &post.permalink)
                ),
            ),
            _ => (Value::Null, Value::Null),
        };
        let all = json!({
            "id": video.id,
            "status": video_status_json(video.status),
            "title": video.title,
            "description": video.description,
            "published": video.published,
            "created_time": graph_time(video.created_at),
            "post_id": post_id,
            "permalink_url": permalink,
        });
        if let Some(record) = self.videos.iter_mut().find(|record| record.id == video.id)
            && let Some(next) = record.upcoming.pop_front()
        {
            record.status = next;
            self.settle_video(&video.id, now);
        }
        select("Video", all, call, ID_FIELDS)
    }

    fn facebook_post_json(post: &FacebookPost, now: DateTime<Utc>) -> Value {
        let numbers = Engagement::of(&post.id, post.created_time, now);
        // Graph leaves `shares` out of a post nobody shared (`Null` is left out by `select`).
        let shares = if numbers.shares > 0 {
            json!({ "count": numbers.shares })
        } else {
            Value::Null
        };
        json!({
            "id": post.id,
            "message": post.message,
            "created_time": graph_time(post.created_time),
            "permalink_url": post.permalink,
            "is_published": post.is_visible(now),
            "scheduled_publish_time": post.scheduled_for.map(|at| at.timestamp()),
            "full_picture": post.media_urls.first(),
            "status_type": post.kind.status_type(),
            "reactions": {
                "data": [],
                "summary": { "total_count": numbers.likes, "viewer_reaction": "NONE" },
            },
            "comments": {
                "data": [],
                "summary": {
                    "order": "ranked",
                    "total_count": numbers.comments,
                    "can_comment": true,
                },
            },
            "shares": shares,
        })
    }

    /// `GET /{post-id}/insights?metric=..`: lifetime values, for the page's token or admin.
    fn post_insights(&self, call: &Call, now: DateTime<Utc>) -> Result<Value, GraphError> {
        let post = self
            .facebook_posts
            .iter()
            .find(|post| post.id == call.node)
            .ok_or_else(|| unsupported(call))?;
        self.page_reader_with(call, &post.page_id, PAGE_INSIGHTS_SCOPES, now)?;
        let numbers = Engagement::of(&post.id, post.created_time, now);
        let link_clicks = if post.link.is_some() {
            numbers.link_clicks
        } else {
            0
        };
        insights(call, POST_METRICS, |metric| match metric {
            "post_media_view" => Value::from(numbers.views),
            "post_total_media_view_unique" => Value::from(numbers.views * 7 / 10),
            "post_clicks" => Value::from(numbers.clicks),
            "post_clicks_by_type" => {
                // Graph leaves out the kinds nobody clicked.
                let mut kinds = Map::new();
                if link_clicks > 0 {
                    kinds.insert("link clicks".to_owned(), Value::from(link_clicks));
                }
                kinds.insert(
                    "other clicks".to_owned(),
                    Value::from(numbers.clicks - numbers.link_clicks),
                );
                Value::Object(kinds)
            }
            _ => json!({ "like": numbers.likes }),
        })
    }

    /// `GET /{post-id}`.
    fn facebook_post(&self, call: &Call, now: DateTime<Utc>) -> Result<Value, GraphError> {
        let post = self
            .facebook_posts
            .iter()
            .find(|post| post.id == call.node)
            .ok_or_else(|| unsupported(call))?;
        self.page_reader(call, &post.page_id, now)?;
        select(
            "Post",
            Self::facebook_post_json(post, now),
            call,
            &["id", "message", "created_time"],
        )
    }

    /// `GET /{page-id}/published_posts`: visible posts, newest first, paged; the page's token
    /// only.
    fn published_posts(&self, call: &Call, now: DateTime<Utc>) -> Result<Value, GraphError> {
        let page = self.page_token_for(call, PAGE_READ_SCOPES, now)?;
        let ids: Vec<String> = self
            .facebook_posts
            .iter()
            .rev()
            .filter(|post| post.page_id == page.id && post.is_visible(now))
            .map(|post| post.id.clone())
            .collect();
        paged(call, &ids, |id| {
            let post = self
                .facebook_posts
                .iter()
                .find(|post| post.id == id)
                .ok_or_else(|| unsupported(call))?;
            select(
                "Post",
                Self::facebook_post_json(post, now),
                call,
                &["id", "message", "created_time"],
            )
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Reading parameters and answering in Graph's shapes.

fn invalid(message: &str) -> GraphError {
    GraphError::new(CODE_INVALID_PARAMETER, message)
}

fn forbidden(code: u32, message: &str) -> GraphError {
    GraphError::new(code, message).with_status(StatusCode::FORBIDDEN)
}

fn carousel_error(message: &str) -> GraphError {
    invalid(&format!("(#100) {message}"))
        .with_subcode(SUBCODE_CAROUSEL)
        .with_user_message("Carousel validation failed", message)
}

fn duplicate() -> GraphError {
    GraphError::new(CODE_DUPLICATE, "Duplicate status message").with_user_message(
        "Duplicate Status Update",
        "This status update is identical to the last one you posted. Try posting something different, or delete your previous update.",
    )
}

/// Graph's answer to a node it cannot find, or may not show this caller.
fn unsupported(call: &Call) -> GraphError {
    let mut error = invalid(&format!(
        "Unsupported {} request. Object with ID '{}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
        call.method.as_str().to_ascii_lowercase(),
        call.node
    ))
    .with_subcode(SUBCODE_UNSUPPORTED);
    error.kind = "GraphMethodException";
    error
}

fn nonexisting_field(field: &str, node_type: &str) -> GraphError {
    invalid(&format!(
        "(#100) Tried accessing nonexisting field ({field}) on node type ({node_type})"
    ))
}

fn required<'a>(call: &'a Call, name: &str) -> Result<&'a str, GraphError> {
    call.param(name)
        .ok_or_else(|| invalid(&format!("(#100) The parameter {name} is required")))
}

/// `true`/`false` (or `1`/`0`), as Graph reads booleans from a form or a JSON body.
fn flag(call: &Call, name: &str) -> Result<Option<bool>, GraphError> {
    match call.param(name) {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(_) => Err(invalid(&format!("(#100) Param {name} must be a boolean"))),
    }
}

/// An absolute http(s) URL. Any host is taken: the fake fetches only when told to.
fn url_param(call: &Call, name: &str) -> Result<Option<String>, GraphError> {
    let Some(value) = call.param(name) else {
        return Ok(None);
    };
    match url::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(Some(value.to_owned())),
        _ => Err(
            invalid(&format!("(#100) {name} should represent a valid URL"))
                .with_subcode(SUBCODE_BAD_URL),
        ),
    }
}

/// A Page message, caption or description: at most 63,206 characters.
fn check_message(text: Option<&str>) -> Result<Option<String>, GraphError> {
    match text {
        Some(text) if text.chars().count() > MAX_MESSAGE_CHARS => Err(invalid(
            "(#100) The message is too long: a post has at most 63,206 characters.",
        )),
        text => Ok(text.map(str::to_owned)),
    }
}

/// `attached_media`: a JSON array of `{"media_fbid": id}`, sent as JSON or as its text.
fn attached_media(raw: Option<&str>) -> Result<Vec<String>, GraphError> {
    #[derive(Deserialize)]
    struct Attached {
        media_fbid: Value,
    }
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let refused = || invalid("(#100) attached_media must be an array of {\"media_fbid\": id}");
    let items: Vec<Attached> = serde_json::from_str(raw).map_err(|_| refused())?;
    items
        .into_iter()
        .map(|item| match item.media_fbid {
            Value::String(id) => Ok(id),
            Value::Number(id) => Ok(id.to_string()),
            _ => Err(refused()),
        })
        .collect()
}

/// `scheduled_publish_time` (Unix seconds or RFC 3339): only on an unpublished post, 10 minutes
/// to 75 days ahead.
fn scheduled_time(
    call: &Call,
    published: bool,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, GraphError> {
    let Some(raw) = call.param("scheduled_publish_time") else {
        return Ok(None);
    };
    if published {
        return Err(invalid(
            "(#100) A post with a scheduled_publish_time must have published=false.",
        ));
    }
    let at = raw
        .parse::<i64>()
        .ok()
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
        .or_else(|| {
            DateTime::parse_from_rfc3339(raw)
                .ok()
                .map(|at| at.with_timezone(&Utc))
        })
        .ok_or_else(|| invalid("(#100) scheduled_publish_time is not a time."))?;
    let ahead = (at - now).num_seconds();
    if (SCHEDULE_MIN_SECS..=SCHEDULE_MAX_SECS).contains(&ahead) {
        Ok(Some(at))
    } else {
        Err(invalid(
            "(#100) The specified scheduled publish time is invalid: it must be 10 minutes to 75 days ahead.",
        ))
    }
}

/// The top-level names in `fields`. Expansions (`picture{url}`) and modifiers (`.limit(5)`)
/// are read past: the fake answers whole sub-objects.
fn requested_fields(call: &Call) -> Option<Vec<String>> {
    let raw = call.param("fields")?;
    let mut names = vec![String::new()];
    let (mut depth, mut modifier) = (0usize, false);
    for c in raw.chars() {
        match c {
            '{' | '(' => depth += 1,
            '}' | ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                names.push(String::new());
                modifier = false;
            }
            '.' if depth == 0 => modifier = true,
            c if depth == 0 && !modifier && !c.is_whitespace() => {
                names.last_mut().expect("never empty").push(c);
            }
            _ => {}
        }
    }
    names.retain(|name| !name.is_empty());
    Some(names)
}

fn wants(call: &Call, field: &str, default: &[&str]) -> bool {
    requested_fields(call).map_or_else(
        || default.contains(&field),
        |names| names.iter().any(|name| name == field),
    )
}

/// The fields of `all` the call asked for (`default` when it named none), `id` always. A
/// field the node does not have is refused; one it has without a value (null) is left out.
fn select(node_type: &str, all: Value, call: &Call, default: &[&str]) -> Result<Value, GraphError> {
    let Value::Object(all) = all else {
        return Ok(all);
    };
    let names = requested_fields(call)
        .unwrap_or_else(|| default.iter().map(|name| (*name).to_owned()).collect());
    let mut chosen = Map::new();
    if let Some(id) = all.get("id") {
        chosen.insert("id".to_owned(), id.clone());
    }
    for name in names {
        match all.get(&name) {
            None => return Err(nonexisting_field(&name, node_type)),
            Some(Value::Null) => {}
            Some(value) => {
                chosen.insert(name, value.clone());
            }
        }
    }
    Ok(Value::Object(chosen))
}

/// An insights answer: each metric the call's `metric` names (all of them `known`, or the call
/// is refused as Graph refuses an unknown or retired metric) with its lifetime `value`.
fn insights(
    call: &Call,
    known: &[&str],
    value: impl Fn(&str) -> Value,
) -> Result<Value, GraphError> {
    let wanted: Vec<&str> = call
        .param("metric")
        .map(|raw| {
            raw.split(',')
                .map(str::trim)
                .filter(|metric| !metric.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if wanted.is_empty() {
        return Err(invalid("(#100) The parameter metric is required"));
    }
    if let Some((index, unknown)) = wanted
        .iter()
        .enumerate()
        .find(|(_, metric)| !known.contains(*metric))
    {
        return Err(invalid(&format!(
            "(#100) metric[{index}] must be one of the following values: {} ({unknown} is not)",
            known.join(", ")
        )));
    }
    let data: Vec<Value> = wanted
        .iter()
        .map(|&metric| {
            json!({
                "name": metric,
                "period": "lifetime",
                "values": [{ "value": value(metric) }],
                "id": format!("{}/insights/{metric}/lifetime", call.node),
            })
        })
        .collect();
    Ok(json!({ "data": data }))
}

/// One page of `ids` (already in Graph's order) from the call's `after` cursor, `limit` long,
/// in Graph's `{data, paging}`. Only forward paging: `cursors.after` and `next`.
fn paged(
    call: &Call,
    ids: &[String],
    mut render: impl FnMut(&str) -> Result<Value, GraphError>,
) -> Result<Value, GraphError> {
    let limit = match call.param("limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|limit| *limit > 0)
            .ok_or_else(|| invalid("(#100) limit must be a positive integer"))?
            .min(MAX_LIMIT),
    };
    let page = page_of(ids, String::as_str, limit, call.param("after"))
        .map_err(|_| invalid("(#100) The after cursor was not issued for this list."))?;
    let data = page
        .items
        .iter()
        .map(|id| render(id))
        .collect::<Result<Vec<Value>, GraphError>>()?;
    let mut body = json!({ "data": data });
    if let Some(after) = page.next {
        let mut query = call.query.clone();
        query.insert("after".to_owned(), after.clone());
        query.insert("limit".to_owned(), limit.to_string());
        let mut pairs: Vec<(&String, &String)> = query.iter().collect();
        pairs.sort();
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        body["paging"] = json!({
            "cursors": { "after": after },
            "next": format!("{}{}?{encoded}", call.base, call.path),
        });
    }
    Ok(body)
}

/// A token the fake cannot use, in Graph's words. Missing permissions are `missing_code`: 10
/// on Instagram, 200 on Pages.
fn bearer_error(refusal: BearerError, missing_code: u32) -> GraphError {
    match refusal {
        BearerError::Missing => GraphError::new(
            CODE_TOKEN_MISSING,
            "An access token is required to request this resource.",
        ),
        BearerError::Unknown => GraphError::new(
            CODE_TOKEN,
            "Invalid OAuth access token - Cannot parse access token",
        ),
        BearerError::Revoked => revoked_token(),
        BearerError::Expired => expired_token(),
        BearerError::MissingScope(scope) => forbidden(
            missing_code,
            &format!("(#{missing_code}) Requires {scope} permission for this action"),
        ),
    }
}

fn expired_token() -> GraphError {
    GraphError::new(
        CODE_TOKEN,
        "Error validating access token: Session has expired.",
    )
    .with_subcode(SUBCODE_EXPIRED)
}

fn revoked_token() -> GraphError {
    GraphError::new(
        CODE_TOKEN,
        "Error validating access token: The user has not authorized the application.",
    )
    .with_subcode(SUBCODE_REVOKED)
}

/// A code that cannot be redeemed. Meta answers 100 with its own subcodes for used, expired
/// and mismatched codes; the kit does not tell them apart, so the message does.
fn code_error(refusal: &OAuthError) -> GraphError {
    invalid(&format!("Error validating verification code: {refusal}"))
}

/// A scripted kit failure as Graph answers it.
fn refusal_error(refusal: Refusal) -> GraphError {
    match refusal {
        Refusal::ServerError(status) if status == StatusCode::SERVICE_UNAVAILABLE => {
            GraphError::new(
                CODE_SERVICE,
                "An unexpected error has occurred. Please retry your request later.",
            )
            .with_status(status)
            .transient()
        }
        Refusal::ServerError(status) => {
            GraphError::new(CODE_UNKNOWN, "An unknown error has occurred.")
                .with_status(status)
                .transient()
        }
        Refusal::RateLimited { reset_in_secs } => {
            let mut error = GraphError::throttled(CODE_APP_THROTTLED);
            error.regain_minutes = Some(u32::try_from((reset_in_secs + 59) / 60).unwrap_or(0));
            error
        }
        Refusal::ExpiredToken => expired_token(),
        Refusal::RevokedToken => revoked_token(),
        Refusal::Validation(message) => {
            invalid("Invalid parameter").with_user_message("Invalid parameter", &message)
        }
        Refusal::Duplicate => duplicate(),
    }
}

fn picture_json(name: &str) -> Value {
    json!({ "data": { "height": 50, "width": 50, "is_silhouette": false, "url": avatar_data_url(name) } })
}

fn video_status_json(status: VideoStatus) -> Value {
    let (video_status, progress) = match status {
        VideoStatus::Processing => ("processing", 50),
        VideoStatus::Ready => ("ready", 100),
        VideoStatus::Error => ("error", 0),
    };
    json!({ "video_status": video_status, "processing_progress": progress })
}

/// An Instagram username from a page name: lowercase letters and digits, words joined by `_`.
fn instagram_username(page_name: &str) -> String {
    page_name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("_")
}

/// Graph's time format: `2024-05-01T12:34:56+0000`.
fn graph_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%z").to_string()
}

fn excerpt(text: Option<&str>) -> String {
    text.map_or_else(
        || "(no text)".to_owned(),
        |text| text.chars().take(80).collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// Pages.

/// What a post's public page shows.
struct ShownPost {
    site: &'static str,
    account: String,
    text: Option<String>,
    kind: &'static str,
    urls: Vec<String>,
    at: DateTime<Utc>,
    id: String,
}

/// Where a permalink lands in the sandbox (404 for a post that does not exist). Media are
/// listed as links, not shown: the app's Content-Security-Policy would block them under
/// `--sandbox`.
fn post_page(post: Option<ShownPost>, stylesheet: &str) -> Response {
    let Some(post) = post else {
        let body =
            "<h1>This post does not exist in the sandbox</h1>\n<p>It was never published here.</p>";
        let html = page("Sandbox — post not found", body, stylesheet);
        return (StatusCode::NOT_FOUND, Html(html)).into_response();
    };
    let urls: String = post
        .urls
        .iter()
        .map(|url| format!("<li>{}</li>", escape_html(url)))
        .collect();
    let body = format!(
        r#"<article aria-labelledby="title">
<h1 id="title">{account} on Sandbox {site}</h1>
<p class="text">{text}</p>
<p class="meta">{kind}</p>
<ul class="urls">{urls}</ul>
<p class="meta"><time datetime="{datetime}">{shown}</time> · Sandbox {site} post {id}</p>
</article>"#,
        account = escape_html(&post.account),
        site = post.site,
        text = escape_html(post.text.as_deref().unwrap_or_default()),
        kind = post.kind,
        datetime = graph_time(post.at),
        shown = post.at.format("%-d %b %Y, %H:%M UTC"),
        id = escape_html(&post.id),
    );
    let title = format!("{} on Sandbox {}", post.account, post.site);
    Html(page(&title, &body, stylesheet)).into_response()
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
        self.user_named(username).map(|user| user.id.clone())
    }
}

impl FakeControls for MetaFake {
    type World = World;

    fn world(&self) -> MutexGuard<'_, World> {
        self.lock()
    }

    /// What the user removing the app does: every user and page token of theirs dies (190/458).
    fn revoke_all_tokens_of(&self, username: &str) {
        let mut world = self.lock();
        if let Some(id) = world.account_id(username) {
            world.revoke_user(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use tower::ServiceExt as _;

    use super::*;
    use crate::clock::ManualClock;
    use crate::sandbox::kit::request::with_query;

    const REDIRECT: &str = "http://127.0.0.1:3000/connections/instagram/callback";
    const SCOPES: &str = "instagram_basic,instagram_content_publish,pages_show_list,\
                          pages_read_engagement,pages_manage_posts,business_management";
    const FORM: &str = "application/x-www-form-urlencoded";
    const IMAGE: (&str, &str) = ("image_url", "https://media.test/a.jpg");

    fn clocked() -> (MetaFake, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::starting_at(Utc::now()));
        (MetaFake::with_clock("app", "secret", clock.clone()), clock)
    }

    /// One request through the router: `body` is `(content type, text)`, the token a Bearer.
    async fn send(
        fake: &MetaFake,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<(&str, String)>,
    ) -> (StatusCode, HeaderMap, Value) {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = match body {
            Some((content_type, text)) => request
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(text)),
            None => request.body(Body::empty()),
        };
        let response = fake.router().oneshot(request.unwrap()).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = to_bytes(body, usize::MAX).await.unwrap();
        let json = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (parts.status, parts.headers, json)
    }

    fn form(pairs: &[(&str, &str)]) -> Option<(&'static str, String)> {
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        Some((FORM, encoded))
    }

    /// An answer's `(code, error_subcode)`, after checking it is Graph's envelope.
    fn error(body: &Value) -> (u64, Option<u64>) {
        assert!(body["error"]["fbtrace_id"].is_string(), "{body}");
        let error = &body["error"];
        (
            error["code"].as_u64().unwrap(),
            error["error_subcode"].as_u64(),
        )
    }

    fn code_in(location: &str) -> String {
        let (_, query) = location.split_once('?').expect("a query");
        parse_query(Some(query))["code"].clone()
    }

    async fn token_call(fake: &MetaFake, pairs: &[(&str, &str)]) -> (StatusCode, Value) {
        let mut all = vec![("client_id", "app"), ("client_secret", "secret")];
        all.extend_from_slice(pairs);
        let uri = with_query("/v20.0/oauth/access_token", &all);
        let (status, _, body) = send(fake, "GET", &uri, None, None).await;
        (status, body)
    }

    async fn short_lived(fake: &MetaFake, username: &str, scopes: &str) -> String {
        let url = with_query(
            "https://www.facebook.test/v20.0/dialog/oauth",
            &[
                ("client_id", "app"),
                ("redirect_uri", REDIRECT),
                ("state", "st4te"),
            ]
            .into_iter()
            .chain([("scope", scopes), ("response_type", "code")])
            .collect::<Vec<_>>(),
        );
        let code = code_in(&fake.authorize_directly(&url, username).unwrap());
        let (_, body) = token_call(fake, &[("redirect_uri", REDIRECT), ("code", &code)]).await;
        body["access_token"].as_str().expect("a token").to_owned()
    }

    async fn long_lived(fake: &MetaFake, short: &str) -> (StatusCode, Value) {
        let exchange = [
            ("grant_type", "fb_exchange_token"),
            ("fb_exchange_token", short),
        ];
        token_call(fake, &exchange).await
    }

    /// A connected user: a long-lived user token, and the first page's token and IG account.
    /// Paths given to its calls may say `{ig}` and `{page}`.
    struct Session {
        fake: MetaFake,
        user_token: String,
        page: String,
        page_token: String,
        ig: String,
    }

    impl Session {
        async fn connect(fake: &MetaFake, username: &str) -> Self {
            Self::connect_with(fake, username, SCOPES).await
        }

        /// [`Session::connect`] with a consent to `scopes`.
        async fn connect_with(fake: &MetaFake, username: &str, scopes: &str) -> Self {
            let short = short_lived(fake, username, scopes).await;
            let user_token = long_lived(fake, &short).await.1["access_token"]
                .as_str()
                .unwrap()
                .to_owned();
            let uri = "/v20.0/me/accounts?fields=id,access_token,instagram_business_account";
            let (_, _, accounts) = send(fake, "GET", uri, Some(&user_token), None).await;
            let first = &accounts["data"][0];
            Self {
                fake: fake.clone(),
                user_token,
                page: first["id"].as_str().unwrap().to_owned(),
                page_token: first["access_token"].as_str().unwrap().to_owned(),
                ig: first["instagram_business_account"]["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            }
        }

        fn uri(&self, path: &str) -> String {
            let path = path.replace("{ig}", &self.ig).replace("{page}", &self.page);
            format!("/v20.0/{path}")
        }

        /// As the user.
        async fn get(&self, path: &str) -> (StatusCode, Value) {
            let (status, _, body) = send(
                &self.fake,
                "GET",
                &self.uri(path),
                Some(&self.user_token),
                None,
            )
            .await;
            (status, body)
        }

        async fn post(&self, path: &str, pairs: &[(&str, &str)]) -> (StatusCode, Value) {
            let (status, _, body) = send(
                &self.fake,
                "POST",
                &self.uri(path),
                Some(&self.user_token),
                form(pairs),
            )
            .await;
            (status, body)
        }

        /// As the page.
        async fn page_get(&self, path: &str) -> (StatusCode, Value) {
            let (status, _, body) = send(
                &self.fake,
                "GET",
                &self.uri(path),
                Some(&self.page_token),
                None,
            )
            .await;
            (status, body)
        }

        async fn page_post(&self, path: &str, pairs: &[(&str, &str)]) -> (StatusCode, Value) {
            let (status, _, body) = send(
                &self.fake,
                "POST",
                &self.uri(path),
                Some(&self.page_token),
                form(pairs),
            )
            .await;
            (status, body)
        }

        /// A container that must be created; its id.
        async fn container(&self, pairs: &[(&str, &str)]) -> String {
            let (status, body) = self.post("{ig}/media", pairs).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body["id"].as_str().unwrap().to_owned()
        }

        async fn publish(&self, creation_id: &str) -> (StatusCode, Value) {
            self.post("{ig}/media_publish", &[("creation_id", creation_id)])
                .await
        }

        async fn status(&self, container_id: &str) -> Value {
            self.get(&format!("{container_id}?fields=status_code,status"))
                .await
                .1
        }

        async fn messages(&self) -> Vec<String> {
            let path = "{page}/published_posts?fields=id,message,created_time,permalink_url";
            let (_, listed) = self.page_get(path).await;
            let data = listed["data"].as_array().unwrap().iter();
            data.map(|post| post["message"].as_str().unwrap().to_owned())
                .collect()
        }

        async fn html(&self, url: &str) -> (StatusCode, Value) {
            let path = url.strip_prefix("http://localhost").unwrap_or(url);
            let (status, _, body) = send(&self.fake, "GET", path, None, None).await;
            (status, body)
        }
    }

    #[tokio::test]
    async fn a_code_becomes_a_short_lived_token_then_a_long_lived_one() {
        let (fake, clock) = clocked();
        let url = with_query(
            "https://www.facebook.test/v20.0/dialog/oauth",
            &[
                ("client_id", "app"),
                ("redirect_uri", REDIRECT),
                ("scope", SCOPES),
                ("response_type", "code"),
                ("state", "s"),
            ],
        );
        let location = fake.authorize_directly(&url, "alice").unwrap();
        assert!(location.starts_with(REDIRECT) && location.ends_with("&state=s"));
        let redeem = [("redirect_uri", REDIRECT), ("code", &code_in(&location))];
        let (status, short) = token_call(&fake, &redeem).await;
        assert_eq!(
            (status, &short["token_type"], &short["expires_in"]),
            (StatusCode::OK, &json!("bearer"), &json!(SHORT_LIVED_SECS))
        );
        assert_eq!(
            error(&token_call(&fake, &redeem).await.1),
            (100, None),
            "a code is spent once"
        );
        let short = short["access_token"].as_str().unwrap();

        let (_, long) = long_lived(&fake, short).await;
        assert_eq!(long["expires_in"], LONG_LIVED_SECS);
        assert!(long.get("refresh_token").is_none());
        assert_eq!((fake.code_exchange_count(), fake.exchange_count()), (2, 1));
        let bad_secret = "/v20.0/oauth/access_token?client_id=app&client_secret=nope&code=x";
        assert_eq!(
            error(&send(&fake, "GET", bad_secret, None, None).await.2),
            (1, None)
        );
        assert_eq!(error(&long_lived(&fake, "EAAnope").await.1), (190, None));
        let long = long["access_token"].as_str().unwrap();

        let (status, _, me) = send(
            &fake,
            "GET",
            "/v21.0/me?fields=id,name,picture",
            Some(long),
            None,
        )
        .await;
        assert_eq!((status, &me["name"]), (StatusCode::OK, &json!("alice")));
        assert_eq!(me["id"], fake.user_id("alice").unwrap().as_str());
        assert!(
            me["picture"]["data"]["url"]
                .as_str()
                .unwrap()
                .starts_with("data:image/svg+xml")
        );
        let (_, _, granted) = send(&fake, "GET", "/v20.0/me/permissions", Some(long), None).await;
        let publish = json!({ "permission": "instagram_content_publish", "status": "granted" });
        assert!(granted["data"].as_array().unwrap().contains(&publish));
        assert_eq!(
            error(&send(&fake, "GET", "/x20/me", Some(long), None).await.2),
            (2500, None)
        );

        clock.advance(TimeDelta::seconds(SHORT_LIVED_SECS));
        assert_eq!(
            error(&send(&fake, "GET", "/v20.0/me", Some(short), None).await.2),
            (190, Some(463))
        );
        clock.advance(TimeDelta::seconds(LONG_LIVED_SECS));
        let (status, _, expired) = send(&fake, "GET", "/v20.0/me", Some(long), None).await;
        assert_eq!(
            (status, error(&expired)),
            (StatusCode::BAD_REQUEST, (190, Some(463)))
        );
    }

    #[tokio::test]
    async fn me_accounts_gives_page_tokens_and_instagram_ids_a_page_at_a_time() {
        let (fake, clock) = clocked();
        let alice = Session::connect(&fake, "alice").await;
        let second = fake.add_page("alice", "Second Page", false);
        assert_eq!(
            fake.pages_of("alice")[0].instagram_id.as_deref(),
            Some(alice.ig.as_str())
        );

        let (_, first) = alice
            .get("me/accounts?fields=id,access_token,picture,instagram_business_account&limit=1")
            .await;
        assert_eq!(first["data"].as_array().unwrap().len(), 1);
        let next = first["paging"]["next"]
            .as_str()
            .unwrap()
            .strip_prefix("http://localhost/v20.0/")
            .unwrap();
        let (_, rest) = alice.get(next).await;
        assert_eq!(rest["data"][0]["id"], second.page_id.as_str());
        assert!(
            rest["data"][0].get("instagram_business_account").is_none()
                && rest.get("paging").is_none()
        );

        let (_, ig) = alice
            .page_get("{ig}?fields=id,username,name,profile_picture_url")
            .await;
        assert_eq!(ig["username"], "alice_sandbox_page");
        assert_eq!(
            error(&alice.get("{ig}?fields=id,followers").await.1),
            (100, None)
        );

        // Page tokens fetched with a long-lived user token outlive it.
        clock.advance(TimeDelta::seconds(LONG_LIVED_SECS + 1));
        assert_eq!(error(&alice.get("me").await.1), (190, Some(463)));
        assert_eq!(
            alice.page_get("me?fields=id,name").await.1["id"],
            alice.page.as_str()
        );
    }

    #[tokio::test]
    async fn a_single_image_publishes_with_a_permalink_the_fake_serves() {
        let alice = Session::connect(&MetaFake::new("app", "secret"), "alice").await;
        let container_id = alice
            .container(&[IMAGE, ("caption", "Hello <Instagram>")])
            .await;
        assert_eq!(alice.status(&container_id).await["status_code"], "FINISHED");
        let (status, published) = alice.publish(&container_id).await;
        assert_eq!(status, StatusCode::OK, "{published}");
        assert_eq!(
            alice.status(&container_id).await["status_code"],
            "PUBLISHED"
        );
        assert_eq!(
            error(&alice.publish(&container_id).await.1),
            (9007, None),
            "published once"
        );

        let (_, media) = alice
            .get(&format!(
                "{}?fields=permalink,caption",
                published["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(media["caption"], "Hello <Instagram>");
        let permalink = media["permalink"].as_str().unwrap();
        assert!(permalink.starts_with("http://localhost/p/") && permalink.ends_with('/'));
        let (status, page) = alice.html(permalink).await;
        alice
            .fake
            .set_base_url("https://app.test/sandbox/instagram/");
        let again = alice.container(&[IMAGE]).await;
        let (_, published) = alice.publish(&again).await;
        let (_, media) = alice
            .get(&format!(
                "{}?fields=permalink",
                published["id"].as_str().unwrap()
            ))
            .await;
        assert!(
            media["permalink"]
                .as_str()
                .unwrap()
                .starts_with("https://app.test/sandbox/instagram/p/")
        );
        assert_eq!(status, StatusCode::OK);
        assert!(page.as_str().unwrap().contains("Hello &lt;Instagram&gt;"));
        assert_eq!(alice.html("/p/nothing/").await.0, StatusCode::NOT_FOUND);
        let post = &alice.fake.instagram_posts()[0];
        assert_eq!(
            (post.kind, post.media_urls.as_slice()),
            (InstagramKind::Image, [IMAGE.1.to_owned()].as_slice())
        );
    }

    #[tokio::test]
    async fn a_carousel_takes_two_to_ten_items_and_its_caption() {
        let alice = Session::connect(&MetaFake::new("app", "secret"), "alice").await;
        let mut items = Vec::new();
        for _ in 0..11 {
            items.push(
                alice
                    .container(&[IMAGE, ("is_carousel_item", "true"), ("caption", "ignored")])
                    .await,
            );
        }
        let single = alice.container(&[IMAGE]).await;
        for children in [
            items[..1].join(","),
            items.join(","),
            format!("{},{single}", items[0]),
        ] {
            let (status, body) = alice
                .post(
                    "{ig}/media",
                    &[("media_type", "CAROUSEL"), ("children", &children)],
                )
                .await;
            assert_eq!(
                (status, error(&body)),
                (StatusCode::BAD_REQUEST, (100, Some(2_207_028)))
            );
        }
        let (_, eleven) = alice
            .post(
                "{ig}/media",
                &[("media_type", "CAROUSEL"), ("children", &items.join(","))],
            )
            .await;
        assert!(
            eleven["error"]["message"]
                .as_str()
                .unwrap()
                .contains("too little or too many attachments")
        );

        let carousel = alice
            .container(&[
                ("media_type", "CAROUSEL"),
                ("children", &items[..3].join(",")),
                ("caption", "Three"),
            ])
            .await;
        assert_eq!(alice.publish(&carousel).await.0, StatusCode::OK);
        let post = &alice.fake.instagram_posts()[0];
        assert_eq!(
            (post.kind, post.caption.as_deref(), post.media_urls.len()),
            (InstagramKind::Carousel, Some("Three"), 3)
        );
        let containers = alice.fake.containers();
        assert_eq!(
            (containers[0].caption.as_deref(), containers[0].status),
            (None, ContainerStatus::Published)
        );
        assert_eq!(
            error(&alice.publish(&items[4]).await.1),
            (100, Some(2_207_028)),
            "an item is not a post"
        );
        let long = "x".repeat(MAX_CAPTION_CHARS + 1);
        assert_eq!(
            error(
                &alice
                    .post("{ig}/media", &[IMAGE, ("caption", &long)])
                    .await
                    .1
            ),
            (100, Some(2_207_010))
        );
    }

    #[tokio::test]
    async fn a_reel_is_in_progress_until_polled_and_cannot_be_published_before() {
        let alice = Session::connect(&MetaFake::new("app", "secret"), "alice").await;
        let reel = [
            ("media_type", "REELS"),
            ("video_url", "https://media.test/r.mp4"),
            ("share_to_feed", "true"),
            ("cover_url", "https://media.test/c.jpg"),
        ];
        let container_id = alice.container(&reel).await;
        let (status, early) = alice.publish(&container_id).await;
        assert_eq!(
            (status, error(&early)),
            (StatusCode::BAD_REQUEST, (9007, Some(2_207_027)))
        );
        assert_eq!(
            alice.status(&container_id).await["status_code"],
            "IN_PROGRESS"
        );
        assert_eq!(alice.status(&container_id).await["status_code"], "FINISHED");
        assert_eq!(alice.publish(&container_id).await.0, StatusCode::OK);
        assert!(alice.fake.instagram_posts()[0].permalink.contains("/reel/"));
        assert_eq!(
            alice.fake.pulled_media().len(),
            2,
            "the video and its cover"
        );

        let failing = vec![
            ContainerStatus::InProgress,
            ContainerStatus::Error { subcode: 2_207_026 },
        ];
        alice
            .fake
            .set_container_sequence(ContainerKind::Video, failing);
        let container_id = alice.container(&reel).await;
        assert_eq!(
            alice.status(&container_id).await["status_code"],
            "IN_PROGRESS"
        );
        let errored = alice.status(&container_id).await;
        assert_eq!(errored["status_code"], "ERROR");
        assert!(errored["status"].as_str().unwrap().contains("2207026"));
        let single_video = [
            ("media_type", "VIDEO"),
            ("video_url", "https://media.test/r.mp4"),
        ];
        assert_eq!(
            error(&alice.post("{ig}/media", &single_video).await.1),
            (100, Some(2_207_023))
        );
    }

    #[tokio::test]
    async fn a_container_expires_24_hours_after_creation() {
        let (fake, clock) = clocked();
        let alice = Session::connect(&fake, "alice").await;
        let container_id = alice.container(&[IMAGE]).await;
        clock.advance(TimeDelta::seconds(CONTAINER_LIFETIME_SECS));
        assert_eq!(alice.status(&container_id).await["status_code"], "EXPIRED");
        assert_eq!(
            error(&alice.publish(&container_id).await.1),
            (9007, Some(2_207_008))
        );
        assert_eq!(fake.containers()[0].status, ContainerStatus::Expired);
        assert_eq!(fake.instagram_post_count(), 0);
    }

    #[tokio::test]
    async fn the_publishing_quota_rolls_over_24_hours() {
        let (fake, clock) = clocked();
        let alice = Session::connect(&fake, "alice").await;
        fake.set_publishing_quota(2);
        for caption in ["one", "two"] {
            let container_id = alice.container(&[IMAGE, ("caption", caption)]).await;
            assert_eq!(alice.publish(&container_id).await.0, StatusCode::OK);
        }
        let third = alice.container(&[IMAGE, ("caption", "three")]).await;
        assert_eq!(error(&alice.publish(&third).await.1), (9, Some(2_207_042)));
        let limit = "{ig}/content_publishing_limit?fields=quota_usage,config";
        let config = json!({ "quota_total": 2, "quota_duration": 86_400 });
        assert_eq!(
            alice.get(limit).await.1,
            json!({ "data": [{ "quota_usage": 2, "config": config }] })
        );

        clock.advance(TimeDelta::seconds(QUOTA_WINDOW_SECS));
        assert_eq!(alice.get(limit).await.1["data"][0]["quota_usage"], 0);
        let fresh = alice.container(&[IMAGE, ("caption", "three")]).await;
        assert_eq!(alice.publish(&fresh).await.0, StatusCode::OK);
        let (_, recent) = alice
            .get("{ig}/media?fields=id,caption,timestamp,permalink&limit=2")
            .await;
        let captions: Vec<&Value> = recent["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| &m["caption"])
            .collect();
        assert_eq!(captions, [&json!("three"), &json!("two")]);
        assert!(recent["paging"]["next"].is_string());
    }

    #[tokio::test]
    async fn counts_and_insights_grow_and_insights_need_their_permission() {
        let (fake, clock) = clocked();
        let scopes = format!("{SCOPES},{INSTAGRAM_INSIGHTS},{READ_INSIGHTS}");
        let bob = Session::connect_with(&fake, "bob", &scopes).await;
        let alice = Session::connect(&fake, "alice").await;
        async fn published_media(session: &Session, caption: &str) -> String {
            let container = session.container(&[IMAGE, ("caption", caption)]).await;
            let (status, published) = session.publish(&container).await;
            assert_eq!(status, StatusCode::OK, "{published}");
            published["id"].as_str().unwrap().to_owned()
        }
        let media = published_media(&bob, "Mugs").await;
        let hers = published_media(&alice, "Her mugs").await;
        let (status, post) = bob
            .page_post(
                "{page}/feed",
                &[
                    ("message", "Mugs on the page"),
                    ("link", "https://shop.example/m"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{post}");
        let post = post["id"].as_str().unwrap().to_owned();

        clock.advance(TimeDelta::hours(3));
        let views = |body: &Value| body["data"][0]["values"][0]["value"].as_u64();
        let media_insights = format!("{media}/insights?metric=views,shares");
        let (status, early) = bob.page_get(&media_insights).await;
        assert_eq!(status, StatusCode::OK, "{early}");
        assert_eq!(early["data"][1]["name"], "shares");
        assert!(views(&early).is_some_and(|seen| seen > 0));
        let (_, counts) = bob
            .page_get(&format!("{media}?fields=like_count,comments_count"))
            .await;
        assert!(counts["like_count"].is_u64() && counts["comments_count"].is_u64());
        let post_insights = format!("{post}/insights?metric=post_media_view,post_clicks_by_type");
        let (status, clicks) = bob.page_get(&post_insights).await;
        assert_eq!(status, StatusCode::OK, "{clicks}");
        assert!(clicks["data"][1]["values"][0]["value"]["other clicks"].is_u64());
        let fields =
            "reactions.limit(0).summary(total_count),comments.limit(0).summary(total_count)";
        let (status, summed) = bob.page_get(&format!("{post}?fields={fields}")).await;
        assert_eq!(status, StatusCode::OK, "{summed}");
        assert!(summed["reactions"]["summary"]["total_count"].is_u64());
        assert!(summed["comments"]["summary"]["total_count"].is_u64());

        clock.advance(TimeDelta::hours(6));
        let (_, later) = bob.page_get(&media_insights).await;
        assert!(views(&later) > views(&early), "{early} then {later}");
        let (_, retired) = bob
            .page_get(&format!("{media}/insights?metric=impressions"))
            .await;
        assert_eq!(error(&retired).0, 100);
        let (_, refused) = alice
            .page_get(&format!("{hers}/insights?metric=views"))
            .await;
        assert_eq!(error(&refused).0, 10, "without instagram_manage_insights");
    }

    #[tokio::test]
    async fn a_page_post_takes_text_or_a_link_and_lists_newest_first() {
        let alice = Session::connect(&MetaFake::new("app", "secret"), "alice").await;
        let body =
            json!({ "message": "Hello", "link": "https://example.com/a", "published": true })
                .to_string();
        let (status, _, linked) = send(
            &alice.fake,
            "POST",
            &alice.uri("{page}/feed"),
            Some(&alice.page_token),
            Some(("application/json", body)),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{linked}");
        assert!(
            linked["id"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{}_", alice.page))
        );
        assert_eq!(
            alice
                .page_post("{page}/feed", &[("message", "Just text")])
                .await
                .0,
            StatusCode::OK
        );
        let later = (Utc::now() + TimeDelta::hours(2)).timestamp().to_string();
        let scheduled = [
            ("message", "Later"),
            ("published", "false"),
            ("scheduled_publish_time", later.as_str()),
        ];
        assert_eq!(
            alice.page_post("{page}/feed", &scheduled).await.0,
            StatusCode::OK
        );
        let too_long = "m".repeat(MAX_MESSAGE_CHARS + 1);
        assert_eq!(
            error(
                &alice
                    .page_post("{page}/feed", &[("message", &too_long)])
                    .await
                    .1
            ),
            (100, None)
        );
        assert_eq!(
            error(&alice.page_post("{page}/feed", &[]).await.1),
            (100, None)
        );

        assert_eq!(alice.messages().await, ["Just text", "Hello"]);
        let posts = alice.fake.facebook_posts();
        assert_eq!(
            (posts[0].kind, posts[1].kind, posts[2].published),
            (FacebookKind::Link, FacebookKind::Status, false)
        );
        let (_, read) = alice
            .page_get(&format!("{}?fields=permalink_url", posts[0].id))
            .await;
        let (status, page) = alice.html(read["permalink_url"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.as_str().unwrap().contains("alice Sandbox Page"));
    }

    #[tokio::test]
    async fn photos_are_published_alone_or_attached_once() {
        let alice = Session::connect(&MetaFake::new("app", "secret"), "alice").await;
        let (status, single) = alice
            .page_post(
                "{page}/photos",
                &[("url", IMAGE.1), ("caption", "One photo")],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{single}");
        assert!(single["post_id"].as_str().unwrap().starts_with(&alice.page));
        let mut attached = Vec::new();
        for n in 2..4 {
            let url = format!("https://media.test/{n}.jpg");
            let (_, photo) = alice
                .page_post("{page}/photos", &[("url", &url), ("published", "false")])
                .await;
            assert!(photo.get("post_id").is_none());
            attached.push(json!({ "media_fbid": photo["id"] }));
        }
        let attached = Value::from(attached).to_string();
        let post = [
            ("message", "Two photos"),
            ("attached_media", attached.as_str()),
        ];
        assert_eq!(
            alice.page_post("{page}/feed", &post).await.0,
            StatusCode::OK
        );
        let again = [("message", "Again"), ("attached_media", attached.as_str())];
        assert_eq!(
            error(&alice.page_post("{page}/feed", &again).await.1),
            (100, Some(1_366_051))
        );
        let posts = alice.fake.facebook_posts();
        assert_eq!(
            (posts.len(), posts[1].kind, posts[1].media_urls.len()),
            (2, FacebookKind::Photo, 2)
        );
        assert_eq!(
            error(
                &alice
                    .page_post("{page}/photos", &[("caption", "no url")])
                    .await
                    .1
            ),
            (324, None)
        );
    }

    #[tokio::test]
    async fn a_page_video_processes_then_becomes_a_post() {
        let alice = Session::connect(&MetaFake::new("app", "secret"), "alice").await;
        let upload = [
            ("file_url", "https://media.test/v.mp4"),
            ("description", "A video"),
        ];
        let (_, video) = alice.page_post("{page}/videos", &upload).await;
        let poll = format!(
            "{}?fields=status,permalink_url",
            video["id"].as_str().unwrap()
        );
        let (_, first) = alice.page_get(&poll).await;
        assert_eq!(first["status"]["video_status"], "processing");
        assert!(first.get("permalink_url").is_none());
        let (_, second) = alice.page_get(&poll).await;
        assert_eq!(second["status"]["video_status"], "ready");
        let post = &alice.fake.facebook_posts()[0];
        assert_eq!(
            (&second["permalink_url"], post.kind),
            (&json!(post.permalink), FacebookKind::Video)
        );

        alice
            .fake
            .set_video_sequence(vec![VideoStatus::Processing, VideoStatus::Error]);
        let (_, failing) = alice.page_post("{page}/videos", &upload).await;
        let poll = format!("{}?fields=status", failing["id"].as_str().unwrap());
        alice.page_get(&poll).await;
        assert_eq!(
            alice.page_get(&poll).await.1["status"]["video_status"],
            "error"
        );
        assert_eq!(alice.fake.facebook_post_count(), 1);
    }

    #[tokio::test]
    async fn the_same_page_message_again_is_a_duplicate() {
        let (fake, clock) = clocked();
        let alice = Session::connect(&fake, "alice").await;
        assert_eq!(
            alice
                .page_post("{page}/feed", &[("message", "Same")])
                .await
                .0,
            StatusCode::OK
        );
        let (status, again) = alice.page_post("{page}/feed", &[("message", "Same")]).await;
        assert_eq!(
            (status, error(&again)),
            (StatusCode::BAD_REQUEST, (506, None))
        );
        assert_eq!(again["error"]["message"], "Duplicate status message");
        assert_eq!(
            alice
                .page_post("{page}/feed", &[("message", "Other")])
                .await
                .0,
            StatusCode::OK
        );
        clock.advance(TimeDelta::seconds(DUPLICATE_WINDOW_SECS + 1));
        assert_eq!(
            alice
                .page_post("{page}/feed", &[("message", "Same")])
                .await
                .0,
            StatusCode::OK
        );
    }

    #[tokio::test]
    async fn pulled_media_is_fetched_when_switched_on() {
        let media = Router::new().route(
            "/ok.jpg",
            axum::routing::get(|| async { vec![0xFFu8; 1234] }),
        );
        let (address, server) = crate::sandbox::serve(media).await.unwrap();
        let (ok, missing) = (
            format!("http://{address}/ok.jpg"),
            format!("http://{address}/missing.jpg"),
        );
        let alice = Session::connect(&MetaFake::new("app", "secret"), "alice").await;
        alice.container(&[("image_url", &ok)]).await;
        assert!(!alice.fake.pulled_media()[0].fetched, "off by default");

        alice.fake.set_fetch_pulled_media(true);
        let fetched = alice.container(&[("image_url", &ok)]).await;
        assert_eq!(alice.status(&fetched).await["status_code"], "FINISHED");
        let broken = alice.container(&[("image_url", &missing)]).await;
        let errored = alice.status(&broken).await;
        assert_eq!(errored["status_code"], "ERROR");
        assert!(errored["status"].as_str().unwrap().contains("2207003"));
        assert_eq!(
            error(&alice.publish(&broken).await.1),
            (9007, Some(2_207_003))
        );
        assert_eq!(
            error(
                &alice
                    .page_post("{page}/photos", &[("url", &missing)])
                    .await
                    .1
            ),
            (100, Some(2_061_006))
        );

        let pulled = alice.fake.pulled_media();
        assert_eq!(
            (pulled[1].status, pulled[1].bytes, pulled[1].succeeded()),
            (Some(200), 1234, true)
        );
        assert_eq!(
            (pulled[2].status, pulled[2].succeeded()),
            (Some(404), false)
        );
        assert_eq!(
            (pulled[3].url.as_str(), pulled[3].fetched),
            (missing.as_str(), true)
        );
        assert_eq!(alice.fake.facebook_post_count(), 0);
        server.abort();
    }

    #[tokio::test]
    async fn a_user_token_or_a_missing_permission_is_refused_on_page_calls() {
        let fake = MetaFake::new("app", "secret");
        let alice = Session::connect(&fake, "alice").await;
        let (status, body) = alice
            .post("{page}/feed", &[("message", "as the user")])
            .await;
        assert_eq!((status, error(&body)), (StatusCode::FORBIDDEN, (210, None)));
        assert_eq!(
            error(&alice.get("{page}/published_posts").await.1),
            (210, None)
        );
        let other = fake.add_page("alice", "Other", false).page_id;
        assert_eq!(
            error(
                &alice
                    .page_post(&format!("{other}/feed"), &[("message", "x")])
                    .await
                    .1
            ),
            (200, None)
        );

        let bob = Session {
            user_token: short_lived(
                &fake,
                "bob",
                "pages_show_list,pages_read_engagement,instagram_basic",
            )
            .await,
            ..Session::connect(&fake, "bob").await
        };
        let (_, accounts) = bob.get("me/accounts").await;
        let bob = Session {
            page_token: accounts["data"][0]["access_token"]
                .as_str()
                .unwrap()
                .to_owned(),
            ..bob
        };
        let (status, body) = bob.page_post("{page}/feed", &[("message", "x")]).await;
        assert_eq!((status, error(&body)), (StatusCode::FORBIDDEN, (200, None)));
        assert_eq!(error(&bob.post("{ig}/media", &[IMAGE]).await.1), (10, None));
        assert_eq!(
            error(&bob.get(&alice.ig).await.1),
            (100, Some(33)),
            "alice's account is hidden"
        );
        assert_eq!(fake.facebook_post_count(), 0);
    }

    #[tokio::test]
    async fn removing_the_app_kills_user_and_page_tokens() {
        let fake = MetaFake::new("app", "secret");
        let alice = Session::connect(&fake, "alice").await;
        let bob = Session::connect(&fake, "bob").await;
        let (status, _, body) = send(
            &fake,
            "DELETE",
            "/v20.0/me/permissions",
            Some(&alice.user_token),
            None,
        )
        .await;
        assert_eq!((status, body), (StatusCode::OK, json!({ "success": true })));
        for token in [&alice.user_token, &alice.page_token] {
            let (status, headers, body) = send(&fake, "GET", "/v20.0/me", Some(token), None).await;
            assert_eq!(
                (status, error(&body)),
                (StatusCode::BAD_REQUEST, (190, Some(458)))
            );
            assert!(headers.contains_key(header::WWW_AUTHENTICATE));
        }
        assert_eq!(
            bob.page_post("{page}/feed", &[("message", "still here")])
                .await
                .0,
            StatusCode::OK
        );
        fake.revoke_all_tokens_of("BOB");
        assert_eq!(
            error(&bob.page_post("{page}/feed", &[("message", "gone")]).await.1),
            (190, Some(458))
        );
        assert_eq!(error(&bob.get("me").await.1), (190, Some(458)));
    }

    #[tokio::test]
    async fn the_token_is_read_from_the_query_a_form_a_json_body_or_the_header() {
        let fake = MetaFake::new("app", "secret");
        let alice = Session::connect(&fake, "alice").await;
        let (uri, token) = (alice.uri("{page}/feed"), alice.page_token.as_str());
        let in_query = format!("{uri}?access_token={token}&message=query");
        assert_eq!(
            send(&fake, "POST", &in_query, None, None).await.0,
            StatusCode::OK
        );
        let in_form = format!("access_token={token}&message=form");
        assert_eq!(
            send(&fake, "POST", &uri, None, Some((FORM, in_form)))
                .await
                .0,
            StatusCode::OK
        );
        let in_json = json!({ "access_token": token, "message": "json" }).to_string();
        assert_eq!(
            send(
                &fake,
                "POST",
                &uri,
                None,
                Some(("application/json", in_json))
            )
            .await
            .0,
            StatusCode::OK
        );
        assert_eq!(
            alice
                .page_post("{page}/feed", &[("message", "header")])
                .await
                .0,
            StatusCode::OK
        );
        assert_eq!(
            error(&send(&fake, "POST", &uri, None, None).await.2),
            (104, None)
        );
        assert_eq!(fake.facebook_post_count(), 4);
    }

    #[tokio::test]
    async fn a_dropped_answer_still_publishes_and_the_lists_show_it() {
        let fake = MetaFake::new("app", "secret");
        let alice = Session::connect(&fake, "alice").await;
        let container_id = alice.container(&[IMAGE, ("caption", "Lost answer")]).await;
        fake.fail_next(Endpoint::Publish, [Failure::CreatedThenDropped]);
        fake.fail_next(Endpoint::FeedPost, [Failure::CreatedThenDropped]);
        let calls = [
            format!(
                "{ig}/media_publish?creation_id={container_id}",
                ig = alice.ig
            ),
            format!("{}/feed?message=Lost", alice.page),
        ];
        for (call, token) in calls.iter().zip([&alice.user_token, &alice.page_token]) {
            let uri = format!("/v20.0/{call}&access_token={token}");
            let response = fake
                .router()
                .oneshot(Request::post(uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            assert!(
                to_bytes(response.into_body(), usize::MAX).await.is_err(),
                "the answer is lost"
            );
        }
        let (_, recent) = alice
            .get("{ig}/media?fields=id,caption,timestamp,permalink&limit=10")
            .await;
        assert_eq!(recent["data"][0]["caption"], "Lost answer");
        assert_eq!(
            alice.status(&container_id).await["status_code"],
            "PUBLISHED"
        );
        assert_eq!(alice.messages().await, ["Lost"]);
        assert_eq!(
            error(
                &alice
                    .page_post("{page}/feed", &[("message", "Lost")])
                    .await
                    .1
            ),
            (506, None)
        );
    }

    #[tokio::test]
    async fn scripted_failures_answer_in_graphs_envelope_with_usage_headers() {
        let fake = MetaFake::new("app", "secret");
        let alice = Session::connect(&fake, "alice").await;
        let kit = [
            Failure::ServerError(503),
            Failure::ServerError(500),
            Failure::RateLimited { reset_in_secs: 120 },
            Failure::ExpiredToken,
            Failure::Validation("Bad".to_owned()),
        ];
        fake.fail_next(Endpoint::Publish, kit);
        let spam = GraphError::new(2_207_001, "Spam").with_subcode(2_207_051);
        fake.fail_next_graph(Endpoint::Publish, [GraphError::throttled(613), spam]);
        let container_id = alice.container(&[IMAGE]).await;
        let uri = alice.uri(&format!("{{ig}}/media_publish?creation_id={container_id}"));
        let expected = [
            (503, (2, None), 1),
            (500, (1, None), 1),
            (400, (4, None), 100),
            (400, (190, Some(463)), 1),
            (400, (100, None), 1),
            (400, (613, None), 100),
            (400, (2_207_001, Some(2_207_051)), 1),
        ];
        for (status, graph_error, usage) in expected {
            let (got, headers, body) =
                send(&fake, "POST", &uri, Some(&alice.user_token), None).await;
            assert_eq!((got.as_u16(), error(&body)), (status, graph_error));
            let buc: Value =
                serde_json::from_str(headers["x-business-use-case-usage"].to_str().unwrap())
                    .unwrap();
            assert_eq!(buc[&alice.ig][0]["call_count"], usage, "{buc}");
            assert!(headers.contains_key("x-app-usage"));
        }
        assert_eq!(fake.instagram_post_count(), 0, "refusals publish nothing");
        assert_eq!(
            send(&fake, "POST", &uri, Some(&alice.user_token), None)
                .await
                .0,
            StatusCode::OK
        );
        assert_eq!(fake.request_count(Endpoint::Publish), 8);
    }

    #[tokio::test]
    async fn the_control_page_arms_a_failure_for_the_next_publish() {
        let fake = MetaFake::new("app", "secret");
        let arm = Some((FORM, "failure=server_error".to_owned()));
        assert_eq!(
            send(&fake, "POST", "/_control", None, arm).await.0,
            StatusCode::SEE_OTHER
        );
        let (_, _, page) = send(&fake, "GET", "/_control", None, None).await;
        assert!(page.as_str().unwrap().contains("Sandbox Instagram control"));
        assert!(page.as_str().unwrap().contains("1 failure(s) armed."));
        let nested = Router::new().nest("/sandbox/facebook", fake.router());
        let request = Request::get("/sandbox/facebook/_control").header(header::HOST, "app.test");
        let response = nested
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let html = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        assert!(String::from_utf8_lossy(&html).contains("Sandbox Facebook control"));

        let alice = Session::connect(&fake, "alice").await;
        let container_id = alice.container(&[IMAGE]).await;
        assert_eq!(
            alice.publish(&container_id).await.0,
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(alice.publish(&container_id).await.0, StatusCode::OK);
    }
}
