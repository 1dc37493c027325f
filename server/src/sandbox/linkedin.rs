//! A local fake of LinkedIn (`shared/platforms.md`, section 5): the consent screen and the token
//! endpoint, `/v2/userinfo`, the organizations a member administers, image uploads, multi-part
//! video uploads with a scriptable processing sequence, posts (text, one image or video, 2 to 20
//! images) with LinkedIn's duplicate-content refusal, an author's recent posts for
//! reconciliation, a post's like and comment summaries (growing with its age on the fake's
//! clock, [`kit::engagement`](super::kit::engagement)), and the public page a post's link points
//! at.
//!
//! It owns one in-memory world (members, organizations, images, videos, posts, and the OAuth
//! server of [`kit::oauth`](super::kit::oauth)) behind [`LinkedInFake`], a cheap handle tests keep
//! to script failures ([`LinkedInFake::fail_next`]) and to look inside ([`LinkedInFake::posts`],
//! [`LinkedInFake::images`], [`LinkedInFake::videos`], the counters). Every path is served on one
//! host, so tests point both the auth and the API base URL at it. The absolute URLs it hands out
//! (the `uploadUrl`s) come from the request that asked for them, or from
//! [`LinkedInFake::set_base_url`], so they point back at the fake however it is reached.
//!
//! Where LinkedIn is strict, so is the fake: the token endpoint reads the client only from the
//! form body (an `Authorization: Basic` header is ignored, so a client that sends only that is
//! told `client_id` is missing); codes are single use; refresh keeps the refresh token and can be
//! switched off; every `/rest` call needs a live `LinkedIn-Version` and
//! `X-Restli-Protocol-Version: 2.0.0`; the author of a post or the owner of a media upload is the
//! member or an organization the member administers, with the scope that kind of author needs;
//! commentary is at most 3,000 characters and is read as "little text", so an unescaped reserved
//! character silently cuts it short (see [`shown_commentary`]); the same commentary from the same
//! author within a day is a `DUPLICATE_POST` naming the first post; media must be the author's and
//! uploaded, images JPEG, PNG or GIF by their bytes, video parts exactly the size announced and
//! finalized with their ETags in order; a created post answers 201 with an empty body and its URN
//! in `x-restli-id`; a member's own posts can only be listed, or their social actions read, with
//! `r_member_social`, an organization's with `r_organization_social`.
//!
//! Facts platforms.md leaves open are this fake's choices and say so where they are declared
//! (error `serviceErrorCode` numbers, the code lifetime, the token answer's scope separator, size
//! limits, the upload URL's lifetime, the error codes of version and Rest.li header refusals).
//!
//! It trusts whoever reaches it and never logs a token or a code.

#![allow(clippy::result_large_err)] // a fake's errors are whole HTTP answers, made once per refused request

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::kit::consent::{Consent, Decision, UsernameRule, consent_page, direct_consent};
use super::kit::control::{
    Control, ControlChoice, Recent, back_to_control, chosen_failure, control_page, standard_choices,
};
use super::kit::engagement::Engagement;
use super::kit::ids::{IdSequence, random_token};
use super::kit::media::{IMAGE_HEAD_LEN, ReceiveError, receive, sniff_image};
use super::kit::oauth::{
    AuthorizationServer, BearerError, IssuedTokens, OAuthConfig, OAuthError, Pkce, RefreshPolicy,
    Rotation, Scopes,
};
use super::kit::pages::{avatar_data_url, escape_html, found, page, refusal_page, stylesheet};
use super::kit::request::{
    Params, bearer_token, form_credentials, own_base_url, parse_form, parse_query,
};
use super::kit::script::{Failure, Refusal, Script, answer};
use super::kit::{FakeControls, KitWorld};
use crate::clock::{SharedClock, SystemClock};

const PLATFORM: &str = "LinkedIn";
const AUTHORIZE_PATH: &str = "/oauth/v2/authorization";
const TOKEN_PATH: &str = "/oauth/v2/accessToken";
/// Where the `uploadUrl`s point, on the fake itself (live: `www.linkedin.com/dms-uploads/...`).
const IMAGE_UPLOAD_PATH: &str = "/dms-uploads/image/";
const VIDEO_UPLOAD_PATH: &str = "/dms-uploads/video/";

/// 60 days and 365 days, as LinkedIn documents them.
const ACCESS_TOKEN_LIFETIME_SECS: i64 = 5_184_000;
const REFRESH_TOKEN_LIFETIME_SECS: i64 = 31_536_000;
/// Not in platforms.md: LinkedIn's guide gives authorization codes 30 minutes.
const CODE_LIFETIME_SECS: i64 = 1_800;

const MAX_COMMENTARY_CHARS: usize = 3_000;
const MIN_MULTI_IMAGES: usize = 2;
const MAX_MULTI_IMAGES: usize = 20;
/// Not in platforms.md: the Images API's alt-text limit as LinkedIn documents it (unverified).
const MAX_ALT_TEXT_CHARS: usize = 4_086;
/// Video parts are this long, the last one shorter.
const VIDEO_PART_BYTES: u64 = 4_194_304;
/// Not in platforms.md: LinkedIn's published video cap (500 MB, unverified). No minimum is
/// enforced: LinkedIn's 75 KB floor would only make tests carry bigger files.
const MAX_VIDEO_BYTES: u64 = 500 * 1024 * 1024;
/// LinkedIn documents a pixel limit for images, not a byte limit; this bounds the stream.
const MAX_IMAGE_BYTES: u64 = 100 * 1024 * 1024;
/// The image types LinkedIn takes (platforms.md: JPG/PNG/GIF).
const IMAGE_TYPES: &[&str] = &["image/jpeg", "image/png", "image/gif"];
/// How long an `uploadUrl` takes uploads (the fake's choice: a day).
const UPLOAD_URL_LIFETIME_SECS: i64 = 86_400;
/// The same commentary from the same author within this long is a duplicate (LinkedIn's window is
/// undocumented; reports put it at a day or two).
const DUPLICATE_WINDOW_SECS: i64 = 86_400;

/// Versions before this one are sunset: answered 426.
const DEFAULT_OLDEST_VERSION: u32 = 202_401;
const RESTLI_PROTOCOL_VERSION: &str = "2.0.0";
const DEFAULT_PAGE_COUNT: usize = 10;
const MAX_PAGE_COUNT: usize = 100;

/// Ids shaped like LinkedIn's: organizations are numbers, shares 19-digit numbers, media ids
/// opaque strings (the fake's count after a LinkedIn-looking prefix).
const FIRST_ORGANIZATION_ID: u64 = 90_000_001;
const FIRST_SHARE_ID: u64 = 7_260_000_000_000_000_001;
const FIRST_IMAGE_ID: u64 = 1_000_001;
const FIRST_VIDEO_ID: u64 = 2_000_001;

/// `serviceErrorCode`s. platforms.md fixes the envelope, not the numbers: 100 (access denied) and
/// 65600/65601 (invalid/revoked token) are what LinkedIn is reported to send; the rest are this
/// fake's own. Version refusals carry none, as LinkedIn's 426 does not.
const SERVICE_ACCESS_DENIED: u32 = 100;
const SERVICE_THROTTLED: u32 = 101;
const SERVICE_INVALID_TOKEN: u32 = 65_600;
const SERVICE_REVOKED_TOKEN: u32 = 65_601;
const SERVICE_EXPIRED_TOKEN: u32 = 65_602;
const SERVICE_ILLEGAL_ARGUMENT: u32 = 3;
const SERVICE_NOT_FOUND: u32 = 4;
const SERVICE_UNPROCESSABLE: u32 = 5;
const SERVICE_DUPLICATE_POST: u32 = 6;
const SERVICE_SERVER_ERROR: u32 = 0;

const OPENID: &str = "openid";
const PROFILE: &str = "profile";
const EMAIL: &str = "email";
const W_MEMBER_SOCIAL: &str = "w_member_social";
const R_MEMBER_SOCIAL: &str = "r_member_social";
const W_ORGANIZATION_SOCIAL: &str = "w_organization_social";
const R_ORGANIZATION_SOCIAL: &str = "r_organization_social";
const RW_ORGANIZATION_ADMIN: &str = "rw_organization_admin";

/// Every scope the fake's LinkedIn knows; anything else is refused at the consent screen.
const KNOWN_SCOPES: &[&str] = &[
    OPENID,
    PROFILE,
    EMAIL,
    W_MEMBER_SOCIAL,
    R_MEMBER_SOCIAL,
    W_ORGANIZATION_SOCIAL,
    R_ORGANIZATION_SOCIAL,
    RW_ORGANIZATION_ADMIN,
    "r_organization_admin",
    "r_basicprofile",
    "r_liteprofile",
    "r_emailaddress",
];

/// The scopes that acting as each kind of author needs.
#[derive(Debug, Clone, Copy)]
struct ActingScopes {
    member: &'static str,
    organization: &'static str,
}

/// Creating posts and media, and reading the media back.
const WRITE: ActingScopes = ActingScopes {
    member: W_MEMBER_SOCIAL,
    organization: W_ORGANIZATION_SOCIAL,
};
/// Listing an author's posts.
const READ: ActingScopes = ActingScopes {
    member: R_MEMBER_SOCIAL,
    organization: R_ORGANIZATION_SOCIAL,
};

/// Little text's reserved characters: unescaped, LinkedIn reads them as markup and the
/// commentary is cut short at the first one.
const RESERVED: &[char] = &[
    '|', '{', '}', '@', '[', ']', '(', ')', '<', '>', '#', '*', '_', '~',
];

const USERNAMES: UsernameRule = UsernameRule {
    max_len: 30,
    extra_chars: "-",
    default: "sandbox-member",
};

/// Stylesheet hrefs relative to each page: `/oauth/v2/authorization`, `/feed/update/{urn}`,
/// `/_control`.
const CONSENT_STYLESHEET: &str = "../../sandbox.css";
const POST_PAGE_STYLESHEET: &str = "../../sandbox.css";
const CONTROL_STYLESHEET: &str = "sandbox.css";

/// The fake's API endpoints, for scripting failures and counting requests. The consent screen,
/// the post page and the control page are pages, not API calls, so they are not among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST /oauth/v2/accessToken`, both grant types.
    Token,
    /// `GET /v2/userinfo`.
    UserInfo,
    /// `GET /rest/organizationAcls?q=roleAssignee`.
    OrganizationAcls,
    /// `GET /rest/organizations/{id}`.
    Organization,
    /// `POST /rest/images?action=initializeUpload`.
    InitializeImage,
    /// `PUT {uploadUrl}` of an image.
    UploadImage,
    /// `GET /rest/images/{urn}`.
    GetImage,
    /// `POST /rest/videos?action=initializeUpload`.
    InitializeVideo,
    /// `PUT {uploadUrl}` of one video part.
    UploadVideoPart,
    /// `POST /rest/videos?action=finalizeUpload`.
    FinalizeVideo,
    /// `GET /rest/videos/{urn}`.
    GetVideo,
    /// `POST /rest/posts`.
    CreatePost,
    /// `GET /rest/posts?q=author`.
    ListPosts,
    /// `GET /rest/socialActions/{urn}`.
    SocialActions,
}

/// Where an uploaded image or video is. Images go from `WaitingUpload` to `Available` when their
/// bytes arrive; videos, once finalized, follow [`LinkedInFake::set_video_status_sequence`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaStatus {
    WaitingUpload,
    Processing,
    Available,
    ProcessingFailed,
}

impl MediaStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WaitingUpload => "WAITING_UPLOAD",
            Self::Processing => "PROCESSING",
            Self::Available => "AVAILABLE",
            Self::ProcessingFailed => "PROCESSING_FAILED",
        }
    }
}

/// A post as the fake stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakePost {
    /// `urn:li:share:{n}`.
    pub urn: String,
    /// `urn:li:person:{sub}` or `urn:li:organization:{id}`.
    pub author: String,
    /// What LinkedIn shows: the commentary as sent, cut at its first unescaped reserved
    /// character, escapes removed ([`shown_commentary`]).
    pub commentary: String,
    /// The commentary exactly as the client sent it.
    pub sent_commentary: String,
    pub visibility: String,
    pub content: Option<PostContent>,
    pub created_at: DateTime<Utc>,
}

/// A post's media.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostContent {
    /// One image or one video.
    Media {
        id: String,
        alt_text: Option<String>,
        title: Option<String>,
    },
    /// 2 to 20 images.
    MultiImage { images: Vec<PostImage> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostImage {
    pub id: String,
    pub alt_text: Option<String>,
}

/// An image upload as the fake stored it (its size and hash: the bytes are not kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeImage {
    /// `urn:li:image:{id}`.
    pub urn: String,
    pub owner: String,
    pub status: MediaStatus,
    /// `None` until the upload arrived.
    pub uploaded_bytes: Option<u64>,
    pub sha256: Option<String>,
    /// As its bytes say.
    pub content_type: Option<&'static str>,
    pub created_at: DateTime<Utc>,
}

/// A video upload as the fake stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeVideo {
    /// `urn:li:video:{id}`.
    pub urn: String,
    pub owner: String,
    pub file_size_bytes: u64,
    pub part_count: usize,
    /// Parts whose bytes arrived (each counts once, however often it was sent).
    pub uploaded_parts: usize,
    pub finalized: bool,
    pub status: MediaStatus,
    pub created_at: DateTime<Utc>,
}

/// A handle on one fake LinkedIn that knows one confidential app. Clones share the same world.
#[derive(Clone)]
pub struct LinkedInFake {
    world: Arc<Mutex<World>>,
    clock: SharedClock,
}

impl fmt::Debug for LinkedInFake {
    // The world holds tokens; printing them would gain a failing test nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LinkedInFake").finish_non_exhaustive()
    }
}

impl LinkedInFake {
    /// A fake LinkedIn whose one registered app has these credentials, telling the real time.
    pub fn new(client_id: &str, client_secret: &str) -> Self {
        Self::with_clock(client_id, client_secret, Arc::new(SystemClock))
    }

    /// As [`LinkedInFake::new`], telling time by `clock`: a `ManualClock` lets a test expire
    /// codes and tokens, and age posts out of the duplicate window, without waiting.
    pub fn with_clock(client_id: &str, client_secret: &str, clock: SharedClock) -> Self {
        Self {
            world: Arc::new(Mutex::new(World::new(client_id, client_secret))),
            clock,
        }
    }

    /// All the fake's routes, relative to wherever the router is served or nested: the OAuth
    /// pages and endpoint, the API, the upload URLs and the public post pages, on one host.
    pub fn router(&self) -> Router {
        Router::new()
            .route(AUTHORIZE_PATH, get(show_consent).post(record_decision))
            .route(TOKEN_PATH, post(exchange_token))
            .route("/v2/userinfo", get(user_info))
            .route("/rest/organizationAcls", get(organization_acls))
            .route("/rest/organizations/{id}", get(organization))
            .route("/rest/images", post(image_action))
            .route("/rest/images/{urn}", get(image_status))
            .route("/rest/videos", post(video_action))
            .route("/rest/videos/{urn}", get(video_status))
            .route("/rest/posts", get(list_posts).post(create_post))
            .route("/rest/socialActions/{urn}", get(social_actions))
            .route(&format!("{IMAGE_UPLOAD_PATH}{{token}}"), put(upload_image))
            .route(
                &format!("{VIDEO_UPLOAD_PATH}{{session}}/{{part}}"),
                put(upload_video_part),
            )
            .route("/feed/update/{urn}", get(show_post))
            .route("/sandbox.css", get(stylesheet))
            .route("/_control", get(show_control).post(arm_control))
            .with_state(self.clone())
    }

    /// The absolute URL the fake is reached at (e.g. `http://127.0.0.1:4321`, or
    /// `https://app.example/sandbox/linkedin`), for the `uploadUrl`s it hands out. Without it,
    /// each is built from the Host and path of the request that initialized the upload.
    pub fn set_base_url(&self, base_url: &str) {
        self.lock().base_url = Some(base_url.trim_end_matches('/').to_owned());
    }

    /// How long access tokens issued from now on live (default 60 days; 0 or less issues tokens
    /// that are already expired).
    pub fn set_access_token_lifetime(&self, secs: i64) {
        self.lock()
            .oauth
            .set_access_token_lifetime(Some(TimeDelta::seconds(secs)));
    }

    /// Whether the app is approved for programmatic refresh (default yes). Off, code exchanges
    /// answer without a refresh token and every refresh is refused, even with a token issued
    /// before: the user must consent again before the access token's 60 days run out.
    pub fn set_refresh_tokens(&self, enabled: bool) {
        self.lock().oauth.set_refresh(enabled.then(refresh_policy));
    }

    /// The oldest `LinkedIn-Version` (`YYYYMM`) still served (default `202401`); older ones are
    /// sunset and answered 426.
    ///
    /// # Panics
    /// When `version` is not `YYYYMM`: a test's mistake, said at once.
    pub fn set_oldest_version(&self, version: &str) {
        let Some(parsed) = parse_version(version) else {
            panic!("{version:?} is not a LinkedIn version: they are YYYYMM, e.g. 202401");
        };
        self.lock().oldest_version = parsed;
    }

    /// Queues `failures` for `endpoint`: each later request to it takes the next one, in order.
    pub fn fail_next(&self, endpoint: Endpoint, failures: impl IntoIterator<Item = Failure>) {
        // Collected first, so a caller's iterator never runs while the world is locked.
        let failures: Vec<Failure> = failures.into_iter().collect();
        self.lock().script.fail_next(endpoint, failures);
    }

    /// What videos finalized from now on report on successive `GET /rest/videos/{urn}` polls; the
    /// last status stays. Default `[Available]`; `[Processing, Processing, Available]` makes a
    /// client poll three times, `[Processing, ProcessingFailed]` fails the processing. An empty
    /// sequence leaves videos `PROCESSING` for ever. A post takes a video only once the status
    /// the next poll would report is `AVAILABLE`.
    pub fn set_video_status_sequence(&self, statuses: Vec<MediaStatus>) {
        self.lock().video_statuses = statuses;
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

    /// `urn:li:person:{sub}` of the sandbox member with this username (case-insensitive), once
    /// the member exists.
    pub fn person_urn(&self, username: &str) -> Option<String> {
        self.lock().member_named(username).map(Member::urn)
    }

    /// A new organization named `name` with `username` (made if new) as its one approved
    /// ADMINISTRATOR, as if the member had created the page on LinkedIn. Returns its numeric id
    /// (its URN is `urn:li:organization:{id}`).
    pub fn add_organization(&self, username: &str, name: &str) -> String {
        let mut world = self.lock();
        let admin = world.member_for(username);
        world.store_organization(name, &admin.sub)
    }

    /// Every post created so far, oldest first.
    pub fn posts(&self) -> Vec<FakePost> {
        self.lock().posts.clone()
    }

    pub fn post_count(&self) -> usize {
        self.lock().posts.len()
    }

    /// Every image upload initialized so far, oldest first.
    pub fn images(&self) -> Vec<FakeImage> {
        self.lock()
            .images
            .iter()
            .map(|record| record.image.clone())
            .collect()
    }

    /// Every video upload initialized so far, oldest first.
    pub fn videos(&self) -> Vec<FakeVideo> {
        self.lock()
            .videos
            .iter()
            .map(|record| record.video.clone())
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, World> {
        // A test that panicked mid-request must not turn every later request into a panic.
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Runs one API request: counts it, and applies the next scripted failure for `endpoint`
    /// around `work`. `author` is the post's author, for a scripted duplicate to name that
    /// author's latest post.
    async fn answer(
        &self,
        endpoint: Endpoint,
        author: Option<String>,
        work: impl Future<Output = Response>,
    ) -> Response {
        let turn = self.lock().script.begin(endpoint);
        answer(
            turn,
            |refusal| self.scripted_refusal(endpoint, author.as_deref(), refusal),
            work,
        )
        .await
    }

    /// A scripted failure as LinkedIn would answer it: the token endpoint in OAuth's shape,
    /// everything else in LinkedIn's envelope.
    fn scripted_refusal(
        &self,
        endpoint: Endpoint,
        author: Option<&str>,
        refusal: Refusal,
    ) -> Response {
        if endpoint == Endpoint::Token {
            return scripted_oauth_refusal(refusal);
        }
        match refusal {
            Refusal::ServerError(status) => server_error(status),
            Refusal::RateLimited { reset_in_secs } => rate_limited(reset_in_secs),
            Refusal::ExpiredToken => bearer_refusal(BearerError::Expired),
            Refusal::RevokedToken => bearer_refusal(BearerError::Revoked),
            Refusal::Validation(message) => unprocessable("", "INVALID_VALUE", &message),
            Refusal::Duplicate => {
                let latest = author.and_then(|author| self.lock().latest_post_of(author));
                duplicate_post(latest.as_deref())
            }
        }
    }

    /// An image upload's work: the URL is checked, the bytes counted and sniffed as they stream
    /// in, then recorded.
    async fn receive_image(&self, token: String, body: Body) -> Response {
        let now = self.now();
        let checked = self.lock().image_for_upload(&token, now);
        let urn = match checked {
            Ok(urn) => urn,
            Err(refusal) => return refusal,
        };
        let received = match receive(body, MAX_IMAGE_BYTES, IMAGE_HEAD_LEN).await {
            Ok(received) => received,
            Err(error) => return upload_refusal(&error),
        };
        let Some(content_type) =
            sniff_image(&received.head).filter(|detected| IMAGE_TYPES.contains(detected))
        else {
            return bad_request("The uploaded file is not a JPEG, PNG or GIF image.");
        };
        self.lock().finish_image_upload(
            &urn,
            received.bytes.len(),
            received.bytes.sha256_hex(),
            content_type,
        );
        StatusCode::CREATED.into_response()
    }

    /// One video part's work: the part must be exactly as long as its instruction says.
    async fn receive_video_part(&self, session: String, part: String, body: Body) -> Response {
        let now = self.now();
        let checked = self.lock().video_part_for_upload(&session, &part, now);
        let (urn, index, expected) = match checked {
            Ok(part) => part,
            Err(refusal) => return refusal,
        };
        let wrong_size = || {
            bad_request(&format!(
                "Part {index} of {urn} must be exactly {expected} bytes, as its upload instruction says."
            ))
        };
        let received = match receive(body, expected, 0).await {
            Ok(received) => received,
            Err(ReceiveError::TooLarge { .. }) => return wrong_size(),
            Err(error) => return upload_refusal(&error),
        };
        if received.bytes.len() != expected {
            return wrong_size();
        }
        let etag = self.lock().finish_video_part(&urn, index);
        match etag {
            Some(etag) => (StatusCode::OK, [(header::ETAG, etag)]).into_response(),
            None => bad_request(&format!(
                "{urn} was finalized while the part was uploading."
            )),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers: parse the request, hand the work to `LinkedInFake::answer`.

async fn show_consent(State(fake): State<LinkedInFake>, RawQuery(query): RawQuery) -> Response {
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

async fn record_decision(State(fake): State<LinkedInFake>, body: Bytes) -> Response {
    let params = parse_form(&body);
    let now = fake.now();
    let outcome = fake.lock().decide(&params, now);
    match outcome {
        Ok(location) => found(&location),
        Err(problem) => refusal_page(PLATFORM, &problem, CONSENT_STYLESHEET),
    }
}

async fn exchange_token(State(fake): State<LinkedInFake>, body: Bytes) -> Response {
    let params = parse_form(&body);
    fake.lock()
        .oauth
        .count_token_request(params.get("grant_type").map(String::as_str));
    fake.answer(Endpoint::Token, None, async {
        let now = fake.now();
        fake.lock().token(&params, now)
    })
    .await
}

async fn user_info(State(fake): State<LinkedInFake>, headers: HeaderMap) -> Response {
    fake.answer(Endpoint::UserInfo, None, async {
        let now = fake.now();
        fake.lock().user_info(&headers, now)
    })
    .await
}

async fn organization_acls(
    State(fake): State<LinkedInFake>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = parse_query(query.as_deref());
    fake.answer(Endpoint::OrganizationAcls, None, async {
        let now = fake.now();
        fake.lock().organization_acls(&headers, &query, now)
    })
    .await
}

async fn organization(
    State(fake): State<LinkedInFake>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    fake.answer(Endpoint::Organization, None, async {
        let now = fake.now();
        fake.lock().organization(&headers, &id, now)
    })
    .await
}

/// `POST /rest/images?action=...`: only `initializeUpload` exists. A request without a known
/// action reaches no endpoint, so it is refused here, uncounted.
async fn image_action(
    State(fake): State<LinkedInFake>,
    OriginalUri(original): OriginalUri,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let query = parse_query(query.as_deref());
    let action = query.get("action").map(String::as_str);
    if action != Some("initializeUpload") {
        return unknown_action("images", action);
    }
    let reached_at = own_base_url(&headers, &original, &uri);
    fake.answer(Endpoint::InitializeImage, None, async {
        let now = fake.now();
        fake.lock()
            .initialize_image(&headers, &body, &reached_at, now)
    })
    .await
}

/// `POST /rest/videos?action=...`: `initializeUpload` or `finalizeUpload`.
async fn video_action(
    State(fake): State<LinkedInFake>,
    OriginalUri(original): OriginalUri,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let query = parse_query(query.as_deref());
    match query.get("action").map(String::as_str) {
        Some("initializeUpload") => {
            let reached_at = own_base_url(&headers, &original, &uri);
            fake.answer(Endpoint::InitializeVideo, None, async {
                let now = fake.now();
                fake.lock()
                    .initialize_video(&headers, &body, &reached_at, now)
            })
            .await
        }
        Some("finalizeUpload") => {
            fake.answer(Endpoint::FinalizeVideo, None, async {
                let now = fake.now();
                fake.lock().finalize_video(&headers, &body, now)
            })
            .await
        }
        other => unknown_action("videos", other),
    }
}

async fn image_status(
    State(fake): State<LinkedInFake>,
    Path(urn): Path<String>,
    headers: HeaderMap,
) -> Response {
    fake.answer(Endpoint::GetImage, None, async {
        let now = fake.now();
        fake.lock().image_status(&headers, &urn, now)
    })
    .await
}

async fn video_status(
    State(fake): State<LinkedInFake>,
    Path(urn): Path<String>,
    headers: HeaderMap,
) -> Response {
    fake.answer(Endpoint::GetVideo, None, async {
        let now = fake.now();
        fake.lock().poll_video(&headers, &urn, now)
    })
    .await
}

async fn upload_image(
    State(fake): State<LinkedInFake>,
    Path(token): Path<String>,
    request: Request,
) -> Response {
    fake.answer(
        Endpoint::UploadImage,
        None,
        fake.receive_image(token, request.into_body()),
    )
    .await
}

async fn upload_video_part(
    State(fake): State<LinkedInFake>,
    Path((session, part)): Path<(String, String)>,
    request: Request,
) -> Response {
    fake.answer(
        Endpoint::UploadVideoPart,
        None,
        fake.receive_video_part(session, part, request.into_body()),
    )
    .await
}

async fn create_post(
    State(fake): State<LinkedInFake>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Read ahead of the work, so a scripted duplicate can name this author's latest post.
    let author = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|post| post.get("author")?.as_str().map(str::to_owned));
    fake.answer(Endpoint::CreatePost, author, async {
        let now = fake.now();
        fake.lock().create_post(&headers, &body, now)
    })
    .await
}

async fn list_posts(
    State(fake): State<LinkedInFake>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = parse_query(query.as_deref());
    fake.answer(Endpoint::ListPosts, None, async {
        let now = fake.now();
        fake.lock().list_posts(&headers, &query, now)
    })
    .await
}

async fn social_actions(
    State(fake): State<LinkedInFake>,
    Path(urn): Path<String>,
    headers: HeaderMap,
) -> Response {
    fake.answer(Endpoint::SocialActions, None, async {
        let now = fake.now();
        fake.lock().social_actions(&headers, &urn, now)
    })
    .await
}

async fn show_post(State(fake): State<LinkedInFake>, Path(urn): Path<String>) -> Response {
    let shown = fake.lock().post_with_author_name(&urn);
    match shown {
        Some((post, author_name)) => Html(post_page(&post, &author_name)).into_response(),
        None => (StatusCode::NOT_FOUND, Html(missing_post_page())).into_response(),
    }
}

/// The failures the control page offers, by form value: the standard ones plus LinkedIn's
/// duplicate refusal, which the app records as the earlier post.
fn control_choices() -> Vec<ControlChoice> {
    let mut choices = standard_choices("/commentary :: the text is not valid little text.");
    choices.push(ControlChoice {
        value: "duplicate",
        label: "Refused as a duplicate (422 DUPLICATE_POST): recorded as the earlier post",
        failure: Failure::Duplicate,
    });
    choices
}

/// `GET /_control`: arm a failure for the next post, see what the sandbox holds.
async fn show_control(State(fake): State<LinkedInFake>) -> Response {
    let choices = control_choices();
    let (armed, recent) = {
        let world = fake.lock();
        let recent: Vec<Recent> = world
            .posts
            .iter()
            .rev()
            .take(20)
            .map(|post| Recent {
                href: format!("feed/update/{}", post.urn),
                text: format!(
                    "{}: {}",
                    world.author_name(&post.author),
                    post_caption(post)
                ),
            })
            .collect();
        (world.script.armed(Endpoint::CreatePost), recent)
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

async fn arm_control(State(fake): State<LinkedInFake>, body: Bytes) -> Response {
    match chosen_failure(&control_choices(), &parse_form(&body)) {
        Some(failure) => {
            fake.fail_next(Endpoint::CreatePost, [failure]);
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
    base_url: Option<String>,
    oldest_version: u32,
    members: Vec<Member>,
    organizations: Vec<Organization>,
    images: Vec<ImageRecord>,
    videos: Vec<VideoRecord>,
    posts: Vec<FakePost>,
    video_statuses: Vec<MediaStatus>,
    organization_ids: IdSequence,
    image_ids: IdSequence,
    video_ids: IdSequence,
    share_ids: IdSequence,
}

#[derive(Debug, Clone)]
struct Member {
    /// The OpenID subject: an opaque id, as LinkedIn's are.
    sub: String,
    username: String,
}

impl Member {
    fn urn(&self) -> String {
        format!("urn:li:person:{}", self.sub)
    }

    fn name(&self) -> String {
        format!("{} Sandbox", self.username)
    }
}

#[derive(Debug, Clone)]
struct Organization {
    id: String,
    name: String,
    vanity_name: String,
    /// Subs of the members with an approved ADMINISTRATOR role.
    administrators: Vec<String>,
}

#[derive(Debug)]
struct ImageRecord {
    image: FakeImage,
    /// The unguessable part of its `uploadUrl`.
    upload_token: String,
    upload_expires_at: DateTime<Utc>,
}

#[derive(Debug)]
struct VideoRecord {
    video: FakeVideo,
    /// The unguessable part of its parts' `uploadUrl`s.
    session: String,
    /// What `finalizeUpload` must send back.
    upload_token: String,
    upload_expires_at: DateTime<Utc>,
    /// The ETag of each part's latest upload.
    etags: Vec<Option<String>>,
    /// The part ids of the finalize that succeeded: a repeat of it succeeds again.
    finalized_with: Option<Vec<String>>,
    /// The statuses later polls will report after the current one, front first.
    upcoming: VecDeque<MediaStatus>,
}

/// Who a URN names, as an author or an owner.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Actor {
    Person(String),
    Organization(String),
}

impl Actor {
    fn parse(urn: &str) -> Option<Self> {
        if let Some(sub) = urn.strip_prefix("urn:li:person:") {
            let valid = !sub.is_empty()
                && sub
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            return valid.then(|| Self::Person(sub.to_owned()));
        }
        let id = urn.strip_prefix("urn:li:organization:")?;
        let valid = !id.is_empty() && id.bytes().all(|byte| byte.is_ascii_digit());
        valid.then(|| Self::Organization(id.to_owned()))
    }
}

/// The member behind a live token, with what the token was granted.
#[derive(Debug)]
struct Caller {
    member: Member,
    scopes: Scopes,
}

impl Caller {
    fn require(&self, scope: &str, resource: &str) -> Result<(), Response> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(access_denied(
                resource,
                &format!("The access token was not granted {scope}."),
            ))
        }
    }
}

/// `POST /rest/images?action=initializeUpload`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InitializeImage {
    initialize_upload_request: Option<InitializeImageRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InitializeImageRequest {
    owner: Option<String>,
}

/// `POST /rest/videos?action=initializeUpload`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InitializeVideo {
    initialize_upload_request: Option<InitializeVideoRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InitializeVideoRequest {
    owner: Option<String>,
    file_size_bytes: Option<u64>,
    upload_captions: Option<bool>,
    upload_thumbnail: Option<bool>,
}

/// `POST /rest/videos?action=finalizeUpload`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FinalizeVideo {
    finalize_upload_request: Option<FinalizeVideoRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FinalizeVideoRequest {
    video: Option<String>,
    upload_token: Option<String>,
    uploaded_part_ids: Option<Vec<String>>,
}

/// The body of `POST /rest/posts`, once its field names were checked ([`parse_post`]).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewPost {
    author: Option<String>,
    commentary: Option<String>,
    visibility: Option<String>,
    distribution: Option<Distribution>,
    content: Option<Value>,
    lifecycle_state: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Distribution {
    feed_distribution: Option<String>,
    target_entities: Option<Vec<Value>>,
    third_party_distribution_channels: Option<Vec<Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MediaContent {
    id: String,
    alt_text: Option<String>,
    title: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MultiImageContent {
    images: Vec<MultiImageItem>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MultiImageItem {
    id: String,
    alt_text: Option<String>,
}

/// The fields a post may carry. Rest.li refuses a field it does not know, which catches a typo
/// (`visiblity`) that would otherwise publish with a default.
const POST_FIELDS: &[&str] = &[
    "author",
    "commentary",
    "visibility",
    "distribution",
    "content",
    "lifecycleState",
    "isReshareDisabledByAuthor",
    "contentLandingPage",
    "contentCallToActionLabel",
    "adContext",
    "reshareContext",
    "container",
];

impl World {
    fn new(client_id: &str, client_secret: &str) -> Self {
        Self {
            oauth: AuthorizationServer::new(OAuthConfig {
                client_id: client_id.to_owned(),
                client_secret: client_secret.to_owned(),
                known_scopes: KNOWN_SCOPES,
                scope_separator: ' ',
                pkce: Pkce::NotUsed,
                // LinkedIn recommends `state` without refusing a request that lacks it.
                state_required: false,
                code_lifetime: TimeDelta::seconds(CODE_LIFETIME_SECS),
                access_token_lifetime: Some(TimeDelta::seconds(ACCESS_TOKEN_LIFETIME_SECS)),
                refresh: Some(refresh_policy()),
                access_token_prefix: "AQV",
                refresh_token_prefix: "AQW",
            }),
            script: Script::default(),
            base_url: None,
            oldest_version: DEFAULT_OLDEST_VERSION,
            members: Vec::new(),
            organizations: Vec::new(),
            images: Vec::new(),
            videos: Vec::new(),
            posts: Vec::new(),
            video_statuses: vec![MediaStatus::Available],
            organization_ids: IdSequence::starting_at(FIRST_ORGANIZATION_ID),
            image_ids: IdSequence::starting_at(FIRST_IMAGE_ID),
            video_ids: IdSequence::starting_at(FIRST_VIDEO_ID),
            share_ids: IdSequence::starting_at(FIRST_SHARE_ID),
        }
    }

    // --- Consent and members ------------------------------------------------------------------

    /// The consent's outcome, as the URL LinkedIn would redirect the browser to. Shared by the
    /// form handler and [`LinkedInFake::authorize_directly`], so both check the same things.
    fn decide(&mut self, params: &Params, now: DateTime<Utc>) -> Result<String, String> {
        let request = self.oauth.check_authorize(params)?;
        match Decision::from_form(params)? {
            Decision::Deny => Ok(request.denied_location()),
            Decision::Allow { username } => {
                USERNAMES.check(&username)?;
                let member = self.member_for(&username);
                Ok(self.oauth.approve(request, &member.sub, now))
            }
        }
    }

    fn member_named(&self, username: &str) -> Option<&Member> {
        self.members
            .iter()
            .find(|member| member.username.eq_ignore_ascii_case(username))
    }

    /// The sandbox member with this username, made on first use.
    fn member_for(&mut self, username: &str) -> Member {
        if let Some(member) = self.member_named(username) {
            return member.clone();
        }
        let member = Member {
            sub: new_sub(),
            username: username.to_owned(),
        };
        self.members.push(member.clone());
        member
    }

    fn store_organization(&mut self, name: &str, admin_sub: &str) -> String {
        let id = self.organization_ids.next_id();
        let slug = vanity_slug(name);
        let vanity_name = if self.organizations.iter().any(|org| org.vanity_name == slug) {
            format!("{slug}-{id}")
        } else {
            slug
        };
        self.organizations.push(Organization {
            id: id.clone(),
            name: name.to_owned(),
            vanity_name,
            administrators: vec![admin_sub.to_owned()],
        });
        id
    }

    fn administers(&self, sub: &str, organization_id: &str) -> bool {
        self.organizations.iter().any(|org| {
            org.id == organization_id && org.administrators.iter().any(|admin| admin == sub)
        })
    }

    /// How an author is named on pages: the member's name or the organization's.
    fn author_name(&self, urn: &str) -> String {
        match Actor::parse(urn) {
            Some(Actor::Person(sub)) => self
                .members
                .iter()
                .find(|member| member.sub == sub)
                .map_or_else(|| urn.to_owned(), Member::name),
            Some(Actor::Organization(id)) => self
                .organizations
                .iter()
                .find(|org| org.id == id)
                .map_or_else(|| urn.to_owned(), |org| org.name.clone()),
            None => urn.to_owned(),
        }
    }

    // --- Checks every API call makes ----------------------------------------------------------

    /// The member behind a live bearer token, or LinkedIn's 401.
    fn caller(&self, headers: &HeaderMap, now: DateTime<Utc>) -> Result<Caller, Response> {
        let grant = self
            .oauth
            .authenticate(bearer_token(headers), &[], now)
            .map_err(bearer_refusal)?;
        let member = self
            .members
            .iter()
            .find(|member| member.sub == grant.account_id)
            .cloned()
            .ok_or_else(|| bearer_refusal(BearerError::Unknown))?;
        Ok(Caller {
            member,
            scopes: grant.scopes,
        })
    }

    /// A `/rest` call's caller: the version headers first (LinkedIn routes on them before it
    /// looks at the token), then the token.
    fn rest_caller(&self, headers: &HeaderMap, now: DateTime<Utc>) -> Result<Caller, Response> {
        self.check_versions(headers)?;
        self.caller(headers, now)
    }

    fn check_versions(&self, headers: &HeaderMap) -> Result<(), Response> {
        let Some(raw) = headers.get("linkedin-version") else {
            return Err(error(
                StatusCode::BAD_REQUEST,
                None,
                "VERSION_MISSING",
                "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
            ));
        };
        let raw = raw.to_str().unwrap_or_default().trim();
        let Some(version) = parse_version(raw) else {
            return Err(error(
                StatusCode::BAD_REQUEST,
                None,
                "INVALID_VERSION",
                &format!("LinkedIn-Version {raw:?} is not a version: versions are YYYYMM."),
            ));
        };
        if version < self.oldest_version {
            return Err(error(
                StatusCode::UPGRADE_REQUIRED,
                None,
                "NONEXISTENT_VERSION",
                &format!(
                    "Requested version {raw} is not active: it has been sunset. The oldest active version is {}.",
                    self.oldest_version
                ),
            ));
        }
        let restli = headers
            .get("x-restli-protocol-version")
            .and_then(|value| value.to_str().ok())
            .map(str::trim);
        if restli != Some(RESTLI_PROTOCOL_VERSION) {
            return Err(bad_request(&format!(
                "X-Restli-Protocol-Version: {RESTLI_PROTOCOL_VERSION} is required on every /rest call."
            )));
        }
        Ok(())
    }

    /// Whether the caller may act as `actor` with `scopes`: as itself, or as an organization it
    /// administers. The scope is checked before the role, as a token-level check comes first.
    fn act_as(
        &self,
        caller: &Caller,
        actor: &Actor,
        scopes: ActingScopes,
        resource: &str,
    ) -> Result<(), Response> {
        match actor {
            Actor::Person(sub) => {
                if *sub != caller.member.sub {
                    return Err(access_denied(
                        resource,
                        &format!("{} cannot act as urn:li:person:{sub}.", caller.member.urn()),
                    ));
                }
                caller.require(scopes.member, resource)
            }
            Actor::Organization(id) => {
                caller.require(scopes.organization, resource)?;
                if self.administers(&caller.member.sub, id) {
                    Ok(())
                } else {
                    Err(access_denied(
                        resource,
                        &format!(
                            "{} is not an approved ADMINISTRATOR of urn:li:organization:{id}.",
                            caller.member.urn()
                        ),
                    ))
                }
            }
        }
    }

    // --- Tokens -------------------------------------------------------------------------------

    /// LinkedIn reads the client from the form body only; a Basic header changes nothing.
    fn token(&mut self, params: &Params, now: DateTime<Utc>) -> Response {
        let Some(client) = form_credentials(params) else {
            let missing = if params.get("client_id").is_some_and(|id| !id.is_empty()) {
                "client_secret"
            } else {
                "client_id"
            };
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &format!(
                    "A required parameter \"{missing}\" is missing. LinkedIn reads client_id and \
                     client_secret from the form body; an Authorization: Basic header is ignored."
                ),
            );
        };
        if let Err(error) = self.oauth.check_client(Some(&client)) {
            return oauth_refusal(&error);
        }
        let refreshing = params.get("grant_type").map(String::as_str) == Some("refresh_token");
        if refreshing && self.oauth.config().refresh.is_none() {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                "This application is not allowed to use programmatic refresh tokens.",
            );
        }
        match self.oauth.token_request(Some(&client), params, None, now) {
            Ok(tokens) => Json(token_json(&tokens)).into_response(),
            Err(error) => oauth_refusal(&error),
        }
    }

    // --- Identity and organizations -----------------------------------------------------------

    fn user_info(&self, headers: &HeaderMap, now: DateTime<Utc>) -> Response {
        let caller = match self.caller(headers, now) {
            Ok(caller) => caller,
            Err(refusal) => return refusal,
        };
        for scope in [OPENID, PROFILE] {
            if let Err(refusal) = caller.require(scope, "userinfo.GET") {
                return refusal;
            }
        }
        let member = &caller.member;
        let mut body = json!({
            "sub": member.sub,
            "name": member.name(),
            "given_name": member.username,
            "family_name": "Sandbox",
            "picture": avatar_data_url(&member.username),
            "locale": { "country": "US", "language": "en" },
        });
        if caller.scopes.contains(EMAIL) {
            body["email"] = json!(format!("{}@sandbox.linkedin.test", member.username));
            body["email_verified"] = json!(true);
        }
        Json(body).into_response()
    }

    fn organization_acls(
        &self,
        headers: &HeaderMap,
        query: &Params,
        now: DateTime<Utc>,
    ) -> Response {
        const RESOURCE: &str = "organizationAcls.FINDER-roleAssignee";
        let caller = match self.rest_caller(headers, now) {
            Ok(caller) => caller,
            Err(refusal) => return refusal,
        };
        if let Err(refusal) = caller.require(RW_ORGANIZATION_ADMIN, RESOURCE) {
            return refusal;
        }
        if query.get("q").map(String::as_str) != Some("roleAssignee") {
            return bad_request("organizationAcls is read with the finder q=roleAssignee.");
        }
        let (start, count) = match paging(query) {
            Ok(paging) => paging,
            Err(refusal) => return refusal,
        };
        // Every role the fake grants is an approved ADMINISTRATOR: other filters find nothing.
        let allows = |name: &str, value: &str| query.get(name).is_none_or(|asked| asked == value);
        let administered: Vec<&Organization> = self
            .organizations
            .iter()
            .filter(|org| org.administrators.contains(&caller.member.sub))
            .filter(|_| allows("role", "ADMINISTRATOR") && allows("state", "APPROVED"))
            .collect();
        let elements: Vec<Value> = administered
            .iter()
            .skip(start)
            .take(count)
            .map(|org| {
                json!({
                    "organization": format!("urn:li:organization:{}", org.id),
                    "role": "ADMINISTRATOR",
                    "state": "APPROVED",
                    "roleAssignee": caller.member.urn(),
                })
            })
            .collect();
        Json(json!({
            "elements": elements,
            "paging": paging_json(start, count, administered.len()),
        }))
        .into_response()
    }

    /// Any member with `rw_organization_admin` may look an organization up: names are public.
    fn organization(&self, headers: &HeaderMap, id: &str, now: DateTime<Utc>) -> Response {
        let caller = match self.rest_caller(headers, now) {
            Ok(caller) => caller,
            Err(refusal) => return refusal,
        };
        if let Err(refusal) = caller.require(RW_ORGANIZATION_ADMIN, "organizations.GET") {
            return refusal;
        }
        if id.is_empty() || !id.bytes().all(|byte| byte.is_ascii_digit()) {
            return bad_request(&format!("Organization id {id:?} is not a number."));
        }
        match self.organizations.iter().find(|org| org.id == id) {
            Some(org) => Json(json!({
                "id": numeric_id(&org.id),
                "localizedName": org.name,
                "vanityName": org.vanity_name,
                "name": {
                    "localized": { "en_US": org.name },
                    "preferredLocale": { "country": "US", "language": "en" },
                },
            }))
            .into_response(),
            None => not_found(&format!("Organization {id} does not exist.")),
        }
    }

    // --- Images -------------------------------------------------------------------------------

    fn initialize_image(
        &mut self,
        headers: &HeaderMap,
        body: &[u8],
        reached_at: &str,
        now: DateTime<Utc>,
    ) -> Response {
        let caller = match self.rest_caller(headers, now) {
            Ok(caller) => caller,
            Err(refusal) => return refusal,
        };
        let request: InitializeImage = match serde_json::from_slice(body) {
            Ok(request) => request,
            Err(error) => return bad_request(&format!("The request body is not valid: {error}")),
        };
        let owner = request
            .initialize_upload_request
            .and_then(|request| request.owner);
        let (owner, actor) = match checked_urn(owner, "/initializeUploadRequest/owner") {
            Ok(owner) => owner,
            Err(refusal) => return refusal,
        };
        if let Err(refusal) = self.act_as(&caller, &actor, WRITE, "images.ACTION-initializeUpload")
        {
            return refusal;
        }
        let urn = format!("urn:li:image:C4E22AQ{}", self.image_ids.next_id());
        let upload_token = random_token("");
        let expires_at = now + TimeDelta::seconds(UPLOAD_URL_LIFETIME_SECS);
        let upload_url = format!(
            "{}{IMAGE_UPLOAD_PATH}{upload_token}",
            self.base_url.as_deref().unwrap_or(reached_at)
        );
        self.images.push(ImageRecord {
            image: FakeImage {
                urn: urn.clone(),
                owner,
                status: MediaStatus::WaitingUpload,
                uploaded_bytes: None,
                sha256: None,
                content_type: None,
                created_at: now,
            },
            upload_token,
            upload_expires_at: expires_at,
        });
        Json(json!({
            "value": {
                "uploadUrlExpiresAt": expires_at.timestamp_millis(),
                "uploadUrl": upload_url,
                "image": urn,
            }
        }))
        .into_response()
    }

    /// Which image an upload URL is for, while the URL still takes uploads. A repeated upload
    /// replaces the first, as a repeated PUT does.
    fn image_for_upload(&self, token: &str, now: DateTime<Utc>) -> Result<String, Response> {
        let record = self
            .images
            .iter()
            .find(|record| record.upload_token == token)
            .ok_or_else(|| not_found("This upload URL was never issued."))?;
        if now >= record.upload_expires_at {
            return Err(upload_url_expired());
        }
        Ok(record.image.urn.clone())
    }

    fn finish_image_upload(
        &mut self,
        urn: &str,
        size: u64,
        sha256: String,
        content_type: &'static str,
    ) {
        if let Some(record) = self
            .images
            .iter_mut()
            .find(|record| record.image.urn == urn)
        {
            record.image.uploaded_bytes = Some(size);
            record.image.sha256 = Some(sha256);
            record.image.content_type = Some(content_type);
            record.image.status = MediaStatus::Available;
        }
    }

    fn image_status(&self, headers: &HeaderMap, urn: &str, now: DateTime<Utc>) -> Response {
        let caller = match self.rest_caller(headers, now) {
            Ok(caller) => caller,
            Err(refusal) => return refusal,
        };
        let Some(record) = self.images.iter().find(|record| record.image.urn == urn) else {
            return not_found(&format!("{urn} does not exist."));
        };
        if let Some(actor) = Actor::parse(&record.image.owner)
            && let Err(refusal) = self.act_as(&caller, &actor, WRITE, "images.GET")
        {
            return refusal;
        }
        Json(json!({
            "id": record.image.urn,
            "owner": record.image.owner,
            "status": record.image.status.as_str(),
        }))
        .into_response()
    }

    // --- Videos -------------------------------------------------------------------------------

    fn initialize_video(
        &mut self,
        headers: &HeaderMap,
        body: &[u8],
        reached_at: &str,
        now: DateTime<Utc>,
    ) -> Response {
        let caller = match self.rest_caller(headers, now) {
            Ok(caller) => caller,
            Err(refusal) => return refusal,
        };
        let request: InitializeVideo = match serde_json::from_slice(body) {
            Ok(request) => request,
            Err(error) => return bad_request(&format!("The request body is not valid: {error}")),
        };
        let Some(request) = request.initialize_upload_request else {
            return unprocessable(
                "/initializeUploadRequest",
                "FIELD_MISSING",
                "initializeUploadRequest is required.",
            );
        };
        let (owner, actor) = match checked_urn(request.owner, "/initializeUploadRequest/owner") {
            Ok(owner) => owner,
            Err(refusal) => return refusal,
        };
        if let Err(refusal) = self.act_as(&caller, &actor, WRITE, "videos.ACTION-initializeUpload")
        {
            return refusal;
        }
        let size = match request.file_size_bytes {
            Some(size) if (1..=MAX_VIDEO_BYTES).contains(&size) => size,
            Some(size) => {
                return unprocessable(
                    "/initializeUploadRequest/fileSizeBytes",
                    "INVALID_VALUE",
                    &format!("fileSizeBytes is {size}; a video is 1 to {MAX_VIDEO_BYTES} bytes."),
                );
            }
            None => {
                return unprocessable(
                    "/initializeUploadRequest/fileSizeBytes",
                    "FIELD_MISSING",
                    "fileSizeBytes is required.",
                );
            }
        };
        for (field, asked) in [
            ("uploadCaptions", request.upload_captions),
            ("uploadThumbnail", request.upload_thumbnail),
        ] {
            if asked == Some(true) {
                return unprocessable(
                    &format!("/initializeUploadRequest/{field}"),
                    "INVALID_VALUE",
                    &format!("{field}: true is not supported by the sandbox."),
                );
            }
        }

        let urn = format!("urn:li:video:D5605AQ{}", self.video_ids.next_id());
        let session = random_token("");
        let upload_token = random_token("");
        let expires_at = now + TimeDelta::seconds(UPLOAD_URL_LIFETIME_SECS);
        let base = self.base_url.as_deref().unwrap_or(reached_at);
        let part_count = usize::try_from(size.div_ceil(VIDEO_PART_BYTES))
            .expect("at most 500 MB in 4 MB parts is a small count");
        let instructions: Vec<Value> = (0..part_count)
            .map(|index| {
                let (first, last) = part_range(size, index);
                json!({
                    "uploadUrl": format!("{base}{VIDEO_UPLOAD_PATH}{session}/{index}"),
                    "firstByte": first,
                    "lastByte": last,
                })
            })
            .collect();
        self.videos.push(VideoRecord {
            video: FakeVideo {
                urn: urn.clone(),
                owner,
                file_size_bytes: size,
                part_count,
                uploaded_parts: 0,
                finalized: false,
                status: MediaStatus::WaitingUpload,
                created_at: now,
            },
            session,
            upload_token: upload_token.clone(),
            upload_expires_at: expires_at,
            etags: vec![None; part_count],
            finalized_with: None,
            upcoming: VecDeque::new(),
        });
        Json(json!({
            "value": {
                "uploadUrlsExpireAt": expires_at.timestamp_millis(),
                "video": urn,
                "uploadInstructions": instructions,
                "uploadToken": upload_token,
            }
        }))
        .into_response()
    }

    /// Which video, part and length an upload URL is for, while it still takes uploads.
    fn video_part_for_upload(
        &self,
        session: &str,
        part: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, usize, u64), Response> {
        let record = self
            .videos
            .iter()
            .find(|record| record.session == session)
            .ok_or_else(|| not_found("This upload URL was never issued."))?;
        let index = part
            .parse::<usize>()
            .ok()
            .filter(|index| *index < record.video.part_count)
            .ok_or_else(|| not_found("This upload URL was never issued."))?;
        if now >= record.upload_expires_at {
            return Err(upload_url_expired());
        }
        if record.finalized_with.is_some() {
            return Err(bad_request(&format!(
                "{} is already finalized: its parts can no longer change.",
                record.video.urn
            )));
        }
        let (first, last) = part_range(record.video.file_size_bytes, index);
        Ok((record.video.urn.clone(), index, last - first + 1))
    }

    /// Records a part's arrival and returns its new ETag (`None` when the video was finalized
    /// meanwhile). Each upload of a part gets a fresh ETag; finalize wants the latest.
    fn finish_video_part(&mut self, urn: &str, index: usize) -> Option<String> {
        let record = self
            .videos
            .iter_mut()
            .find(|record| record.video.urn == urn)
            .filter(|record| record.finalized_with.is_none())?;
        let etag = random_token("");
        record.etags[index] = Some(etag.clone());
        record.video.uploaded_parts = record.etags.iter().flatten().count();
        Some(etag)
    }

    fn finalize_video(&mut self, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>) -> Response {
        let caller = match self.rest_caller(headers, now) {
            Ok(caller) => caller,
            Err(refusal) => return refusal,
        };
        let request: FinalizeVideo = match serde_json::from_slice(body) {
            Ok(request) => request,
            Err(error) => return bad_request(&format!("The request body is not valid: {error}")),
        };
        let Some(request) = request.finalize_upload_request else {
            return unprocessable(
                "/finalizeUploadRequest",
                "FIELD_MISSING",
                "finalizeUploadRequest is required.",
            );
        };
        let Some(urn) = request.video else {
            return unprocessable(
                "/finalizeUploadRequest/video",
                "FIELD_MISSING",
                "video is required.",
            );
        };
        let Some(index) = self
            .videos
            .iter()
            .position(|record| record.video.urn == urn)
        else {
            return not_found(&format!("{urn} does not exist."));
        };
        if let Some(actor) = Actor::parse(&self.videos[index].video.owner)
            && let Err(refusal) =
                self.act_as(&caller, &actor, WRITE, "videos.ACTION-finalizeUpload")
        {
            return refusal;
        }
        let statuses = self.video_statuses.clone();
        let record = &mut self.videos[index];
        if request.upload_token.as_deref() != Some(record.upload_token.as_str()) {
            return bad_request(&format!(
                "uploadToken is missing or is not the one initializeUpload gave for {urn}."
            ));
        }
        let part_ids = request.uploaded_part_ids.unwrap_or_default();
        if let Some(previous) = &record.finalized_with {
            return if *previous == part_ids {
                StatusCode::OK.into_response()
            } else {
                bad_request(&format!("{urn} is already finalized with other part ids."))
            };
        }
        if let Some(missing) = record.etags.iter().position(Option::is_none) {
            let (first, last) = part_range(record.video.file_size_bytes, missing);
            return bad_request(&format!(
                "Part {missing} of {urn} (bytes {first} to {last}) was never uploaded."
            ));
        }
        let etags: Vec<&str> = record.etags.iter().flatten().map(String::as_str).collect();
        if part_ids != etags {
            return bad_request(&format!(
                "uploadedPartIds must be the ETag of each of the {} parts' latest upload, in order.",
                etags.len()
            ));
        }
        let mut upcoming: VecDeque<MediaStatus> = statuses.into();
        record.video.status = upcoming.pop_front().unwrap_or(MediaStatus::Processing);
        record.upcoming = upcoming;
        record.video.finalized = true;
        record.finalized_with = Some(part_ids);
        StatusCode::OK.into_response()
    }

    /// One status poll: the current status is reported, then a finalized video moves on to the
    /// next status of its sequence.
    fn poll_video(&mut self, headers: &HeaderMap, urn: &str, now: DateTime<Utc>) -> Response {
        let caller = match self.rest_caller(headers, now) {
            Ok(caller) => caller,
            Err(refusal) => return refusal,
        };
        let Some(index) = self
            .videos
            .iter()
            .position(|record| record.video.urn == urn)
        else {
            return not_found(&format!("{urn} does not exist."));
        };
        if let Some(actor) = Actor::parse(&self.videos[index].video.owner)
            && let Err(refusal) = self.act_as(&caller, &actor, WRITE, "videos.GET")
        {
            return refusal;
        }
        let record = &mut self.videos[index];
        let body = json!({
            "id": record.video.urn,
            "owner": record.video.owner,
            "status": record.video.status.as_str(),
        });
        if let Some(next) = record.upcoming.pop_front() {
            record.video.status = next;
        }
        Json(body).into_response()
    }

    // --- Posts --------------------------------------------------------------------------------

    fn create_post(&mut self, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>) -> Response {
        let caller = match self.rest_caller(headers, now) {
            Ok(caller) => caller,
            Err(refusal) => return refusal,
        };
        let request = match parse_post(body) {
            Ok(request) => request,
            Err(refusal) => return refusal,
        };
        let (author, actor) = match checked_urn(request.author, "/author") {
            Ok(author) => author,
            Err(refusal) => return refusal,
        };
        if let Err(refusal) = self.act_as(&caller, &actor, WRITE, "posts.CREATE") {
            return refusal;
        }
        let sent_commentary = request.commentary.unwrap_or_default();
        let checked = check_post_shape(
            &actor,
            &sent_commentary,
            request.visibility.as_deref(),
            request.distribution.as_ref(),
            request.lifecycle_state.as_deref(),
        )
        .and_then(|visibility| {
            let content = request.content.as_ref().map(parse_content).transpose()?;
            Ok((visibility, content))
        });
        let (visibility, content) = match checked {
            Ok(checked) => checked,
            Err(refusal) => return refusal,
        };
        if sent_commentary.is_empty() && content.is_none() {
            return unprocessable(
                "/commentary",
                "FIELD_MISSING",
                "A post needs commentary, content or both.",
            );
        }
        if let Some(content) = &content
            && let Err(refusal) = self.check_media(&author, content)
        {
            return refusal;
        }
        let commentary = shown_commentary(&sent_commentary);
        if let Some(earlier) = self.duplicate_of(&author, &commentary, now) {
            return duplicate_post(Some(&earlier.urn));
        }
        let urn = format!("urn:li:share:{}", self.share_ids.next_id());
        self.posts.push(FakePost {
            urn: urn.clone(),
            author,
            commentary,
            sent_commentary,
            visibility,
            content,
            created_at: now,
        });
        (StatusCode::CREATED, [("x-restli-id", urn)]).into_response()
    }

    /// The post's media must be the author's, uploaded, and (for a video) done processing.
    fn check_media(&self, author: &str, content: &PostContent) -> Result<(), Response> {
        match content {
            PostContent::Media { id, .. } if id.starts_with("urn:li:video:") => {
                self.check_video(author, id, "/content/media/id")
            }
            PostContent::Media { id, .. } => self.check_image(author, id, "/content/media/id"),
            PostContent::MultiImage { images } => {
                for (index, image) in images.iter().enumerate() {
                    let field = format!("/content/multiImage/images/{index}/id");
                    if !image.id.starts_with("urn:li:image:") {
                        return Err(unprocessable(
                            &field,
                            "INVALID_VALUE",
                            &format!(
                                "{} is not an image: multiImage takes images only, never a video.",
                                image.id
                            ),
                        ));
                    }
                    self.check_image(author, &image.id, &field)?;
                }
                Ok(())
            }
        }
    }

    fn check_image(&self, author: &str, urn: &str, field: &str) -> Result<(), Response> {
        let record = self
            .images
            .iter()
            .find(|record| record.image.urn == urn)
            .ok_or_else(|| {
                unprocessable(field, "INVALID_VALUE", &format!("{urn} does not exist."))
            })?;
        check_owned(field, urn, &record.image.owner, author)?;
        match record.image.status {
            MediaStatus::Available => Ok(()),
            status => Err(unprocessable(
                field,
                "INVALID_VALUE",
                &format!(
                    "{urn} is not uploaded yet: its status is {}.",
                    status.as_str()
                ),
            )),
        }
    }

    fn check_video(&self, author: &str, urn: &str, field: &str) -> Result<(), Response> {
        let record = self
            .videos
            .iter()
            .find(|record| record.video.urn == urn)
            .ok_or_else(|| {
                unprocessable(field, "INVALID_VALUE", &format!("{urn} does not exist."))
            })?;
        check_owned(field, urn, &record.video.owner, author)?;
        match record.video.status {
            MediaStatus::Available => Ok(()),
            status => Err(unprocessable(
                field,
                "INVALID_VALUE",
                &format!(
                    "{urn} is not ready to be posted: its status is {}.",
                    status.as_str()
                ),
            )),
        }
    }

    /// The author's post with the same shown commentary inside the duplicate window. Posts
    /// without commentary (media only) are never duplicates of one another.
    fn duplicate_of(
        &self,
        author: &str,
        commentary: &str,
        now: DateTime<Utc>,
    ) -> Option<&FakePost> {
        if commentary.trim().is_empty() {
            return None;
        }
        let window = TimeDelta::seconds(DUPLICATE_WINDOW_SECS);
        self.posts.iter().rev().find(|post| {
            post.author == author && post.commentary == commentary && now - post.created_at < window
        })
    }

    fn latest_post_of(&self, author: &str) -> Option<String> {
        self.posts
            .iter()
            .rev()
            .find(|post| post.author == author)
            .map(|post| post.urn.clone())
    }

    /// The author's posts, newest first: what reconciliation reads after an unknown outcome.
    fn list_posts(&self, headers: &HeaderMap, query: &Params, now: DateTime<Utc>) -> Response {
        let caller = match self.rest_caller(headers, now) {
            Ok(caller) => caller,
            Err(refusal) => return refusal,
        };
        if query.get("q").map(String::as_str) != Some("author") {
            return bad_request("posts are listed with the finder q=author.");
        }
        let Some(author) = query.get("author") else {
            return bad_request("author is required with q=author.");
        };
        let Some(actor) = Actor::parse(author) else {
            return bad_request(&format!(
                "author {author:?} is not a urn:li:person or urn:li:organization URN."
            ));
        };
        match query.get("sortBy").map(String::as_str) {
            None | Some("LAST_MODIFIED" | "CREATED") => {}
            Some(other) => {
                return bad_request(&format!(
                    "sortBy {other:?} is not one of LAST_MODIFIED, CREATED."
                ));
            }
        }
        let (start, count) = match paging(query) {
            Ok(paging) => paging,
            Err(refusal) => return refusal,
        };
        if let Err(refusal) = self.act_as(&caller, &actor, READ, "posts.FINDER-author") {
            return refusal;
        }
        // Posts are never edited here, so last-modified order is creation order.
        let newest_first: Vec<&FakePost> = self
            .posts
            .iter()
            .rev()
            .filter(|post| post.author == *author)
            .collect();
        let elements: Vec<Value> = newest_first
            .iter()
            .skip(start)
            .take(count)
            .map(|post| post_json(post))
            .collect();
        Json(json!({
            "elements": elements,
            "paging": paging_json(start, count, newest_first.len()),
        }))
        .into_response()
    }

    /// A post's like and comment summaries, for a caller who may read its author's posts.
    fn social_actions(&self, headers: &HeaderMap, urn: &str, now: DateTime<Utc>) -> Response {
        let caller = match self.rest_caller(headers, now) {
            Ok(caller) => caller,
            Err(refusal) => return refusal,
        };
        let Some(post) = self.posts.iter().find(|post| post.urn == urn) else {
            return not_found(&format!("{urn} does not exist."));
        };
        let Some(actor) = Actor::parse(&post.author) else {
            return not_found(&format!("{urn} does not exist."));
        };
        if let Err(refusal) = self.act_as(&caller, &actor, READ, "socialActions.GET") {
            return refusal;
        }
        let numbers = Engagement::of(&post.urn, post.created_at, now);
        // A fifth of the conversation is replies to comments, which only the aggregate counts.
        let first_level = numbers.comments - numbers.comments / 5;
        Json(json!({
            "target": post.urn,
            "likesSummary": {
                "totalLikes": numbers.likes,
                "aggregatedTotalLikes": numbers.likes,
                "likedByCurrentUser": false,
            },
            "commentsSummary": {
                "totalFirstLevelComments": first_level,
                "aggregatedTotalComments": numbers.comments,
            },
        }))
        .into_response()
    }

    fn post_with_author_name(&self, urn: &str) -> Option<(FakePost, String)> {
        let post = self.posts.iter().find(|post| post.urn == urn)?;
        Some((post.clone(), self.author_name(&post.author)))
    }
}

fn refresh_policy() -> RefreshPolicy {
    RefreshPolicy {
        lifetime: Some(TimeDelta::seconds(REFRESH_TOKEN_LIFETIME_SECS)),
        rotation: Rotation::Keep,
        only_with_scope: None,
    }
}

/// An OpenID subject like LinkedIn's: ten letters and digits, unguessable.
fn new_sub() -> String {
    random_token("")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(10)
        .collect()
}

/// `Acme Corp!` → `acme-corp`.
fn vanity_slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "organization".to_owned()
    } else {
        slug.to_owned()
    }
}

/// `YYYYMM` with a real month, as a number that orders like the calendar.
fn parse_version(raw: &str) -> Option<u32> {
    if raw.len() != 6 || !raw.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let version: u32 = raw.parse().ok()?;
    (1..=12).contains(&(version % 100)).then_some(version)
}

/// The inclusive byte range of part `index` of a `size`-byte video.
fn part_range(size: u64, index: usize) -> (u64, u64) {
    let first = index as u64 * VIDEO_PART_BYTES;
    (first, (first + VIDEO_PART_BYTES).min(size) - 1)
}

/// A present, well-formed person or organization URN, or the 422 naming `field`.
fn checked_urn(urn: Option<String>, field: &str) -> Result<(String, Actor), Response> {
    let Some(urn) = urn else {
        return Err(unprocessable(
            field,
            "FIELD_MISSING",
            &format!("{field} is required."),
        ));
    };
    match Actor::parse(&urn) {
        Some(actor) => Ok((urn, actor)),
        None => Err(unprocessable(
            field,
            "INVALID_URN",
            &format!("{urn:?} is not a urn:li:person or urn:li:organization URN."),
        )),
    }
}

fn check_owned(field: &str, urn: &str, owner: &str, author: &str) -> Result<(), Response> {
    if owner == author {
        Ok(())
    } else {
        Err(unprocessable(
            field,
            "INVALID_VALUE",
            &format!("{urn} belongs to {owner}, not to the author {author}."),
        ))
    }
}

fn unknown_action(resource: &str, action: Option<&str>) -> Response {
    bad_request(&format!(
        "POST /rest/{resource} needs a known ?action=; {action:?} is not one."
    ))
}

// ---------------------------------------------------------------------------------------------
// Checking a new post.

/// The body of `POST /rest/posts`: JSON (400 otherwise), an object of known fields only, as
/// Rest.li refuses a field it does not know (422).
fn parse_post(body: &[u8]) -> Result<NewPost, Response> {
    let raw: Value = serde_json::from_slice(body)
        .map_err(|error| bad_request(&format!("The request body is not valid JSON: {error}")))?;
    let Some(fields) = raw.as_object() else {
        return Err(bad_request("A post is a JSON object."));
    };
    if let Some(unknown) = fields
        .keys()
        .find(|field| !POST_FIELDS.contains(&field.as_str()))
    {
        return Err(unprocessable(
            &format!("/{unknown}"),
            "UNRECOGNIZED_FIELD",
            &format!("/{unknown} :: unrecognized field found but not allowed"),
        ));
    }
    serde_json::from_value(raw)
        .map_err(|error| bad_request(&format!("The post is not valid: {error}")))
}

/// The post's fields that need no world: visibility, distribution, lifecycle and the length of
/// the commentary. Returns the visibility.
fn check_post_shape(
    actor: &Actor,
    commentary: &str,
    visibility: Option<&str>,
    distribution: Option<&Distribution>,
    lifecycle_state: Option<&str>,
) -> Result<String, Response> {
    let length = commentary.chars().count();
    if length > MAX_COMMENTARY_CHARS {
        return Err(unprocessable(
            "/commentary",
            "MAX_LENGTH_EXCEEDED",
            &format!(
                "/commentary :: length {length} exceeds the maximum allowed ({MAX_COMMENTARY_CHARS})."
            ),
        ));
    }
    let visibility = match (visibility, actor) {
        (Some("PUBLIC" | "LOGGED_IN"), _) | (Some("CONNECTIONS"), Actor::Person(_)) => {
            visibility.unwrap_or_default().to_owned()
        }
        (Some(other), _) => {
            return Err(unprocessable(
                "/visibility",
                "INVALID_VALUE",
                &format!("visibility {other:?} is not allowed for this author."),
            ));
        }
        (None, _) => {
            return Err(unprocessable(
                "/visibility",
                "FIELD_MISSING",
                "visibility is required.",
            ));
        }
    };
    let Some(distribution) = distribution else {
        return Err(unprocessable(
            "/distribution",
            "FIELD_MISSING",
            "distribution is required.",
        ));
    };
    match distribution.feed_distribution.as_deref() {
        Some("MAIN_FEED" | "NONE") => {}
        other => {
            return Err(unprocessable(
                "/distribution/feedDistribution",
                "INVALID_VALUE",
                &format!("feedDistribution {other:?} is not one of MAIN_FEED, NONE."),
            ));
        }
    }
    let targeted = distribution
        .target_entities
        .as_ref()
        .is_some_and(|targets| !targets.is_empty())
        || distribution
            .third_party_distribution_channels
            .as_ref()
            .is_some_and(|channels| !channels.is_empty());
    if targeted {
        return Err(unprocessable(
            "/distribution",
            "INVALID_VALUE",
            "Targeting and third-party distribution are not supported by the sandbox.",
        ));
    }
    if lifecycle_state != Some("PUBLISHED") {
        return Err(unprocessable(
            "/lifecycleState",
            "INVALID_VALUE",
            &format!("lifecycleState {lifecycle_state:?} must be PUBLISHED."),
        ));
    }
    Ok(visibility)
}

/// `content`: exactly one of `media` (an image or a video) and `multiImage` (2 to 20 images).
fn parse_content(content: &Value) -> Result<PostContent, Response> {
    let kinds: Vec<&String> = content
        .as_object()
        .map(|kinds| kinds.keys().collect())
        .unwrap_or_default();
    let [kind] = kinds.as_slice() else {
        return Err(unprocessable(
            "/content",
            "INVALID_VALUE",
            "content holds exactly one of media or multiImage.",
        ));
    };
    let inner = &content[kind.as_str()];
    match kind.as_str() {
        "media" => {
            let media: MediaContent = serde_json::from_value(inner.clone()).map_err(|error| {
                unprocessable(
                    "/content/media",
                    "INVALID_VALUE",
                    &format!("content.media: {error}"),
                )
            })?;
            if !(media.id.starts_with("urn:li:image:") || media.id.starts_with("urn:li:video:")) {
                return Err(unprocessable(
                    "/content/media/id",
                    "INVALID_VALUE",
                    &format!("{} is not an image or video URN.", media.id),
                ));
            }
            check_alt_text("/content/media/altText", media.alt_text.as_deref())?;
            Ok(PostContent::Media {
                id: media.id,
                alt_text: media.alt_text,
                title: media.title,
            })
        }
        "multiImage" => {
            let multi: MultiImageContent =
                serde_json::from_value(inner.clone()).map_err(|error| {
                    unprocessable(
                        "/content/multiImage",
                        "INVALID_VALUE",
                        &format!("content.multiImage: {error}"),
                    )
                })?;
            let count = multi.images.len();
            if !(MIN_MULTI_IMAGES..=MAX_MULTI_IMAGES).contains(&count) {
                return Err(unprocessable(
                    "/content/multiImage/images",
                    "INVALID_VALUE",
                    &format!(
                        "multiImage has {count} images; it takes {MIN_MULTI_IMAGES} to {MAX_MULTI_IMAGES}."
                    ),
                ));
            }
            let mut images = Vec::with_capacity(count);
            for (index, image) in multi.images.into_iter().enumerate() {
                check_alt_text(
                    &format!("/content/multiImage/images/{index}/altText"),
                    image.alt_text.as_deref(),
                )?;
                images.push(PostImage {
                    id: image.id,
                    alt_text: image.alt_text,
                });
            }
            Ok(PostContent::MultiImage { images })
        }
        "article" | "poll" | "carousel" | "celebration" | "reference" => Err(unprocessable(
            &format!("/content/{kind}"),
            "INVALID_VALUE",
            &format!("content.{kind} is not supported by the sandbox."),
        )),
        other => Err(unprocessable(
            &format!("/content/{other}"),
            "UNRECOGNIZED_FIELD",
            &format!("/content/{other} :: unrecognized field found but not allowed"),
        )),
    }
}

fn check_alt_text(field: &str, alt_text: Option<&str>) -> Result<(), Response> {
    match alt_text {
        Some(text) if text.chars().count() > MAX_ALT_TEXT_CHARS => Err(unprocessable(
            field,
            "MAX_LENGTH_EXCEEDED",
            &format!("{field} :: length exceeds the maximum allowed ({MAX_ALT_TEXT_CHARS})."),
        )),
        _ => Ok(()),
    }
}

/// What LinkedIn shows for `commentary`, read as little text: each `\` followed by `\` or a
/// reserved character stands for that character; any other `\` is kept; the first unescaped
/// reserved character (`| { } @ [ ] ( ) < > # * _ ~`) ends the text, silently. So
/// `Launch (beta)` shows as `Launch ` and `Launch \(beta\)` as `Launch (beta)`.
pub fn shown_commentary(commentary: &str) -> String {
    let mut shown = String::with_capacity(commentary.len());
    let mut chars = commentary.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek() {
                Some(&next) if next == '\\' || RESERVED.contains(&next) => {
                    shown.push(next);
                    chars.next();
                }
                _ => shown.push('\\'),
            }
        } else if RESERVED.contains(&c) {
            break;
        } else {
            shown.push(c);
        }
    }
    shown
}

/// `text` as little text that LinkedIn shows whole: `\` and every reserved character escaped.
/// The inverse of [`shown_commentary`], and what the fake answers as a post's `commentary`.
pub fn little_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\\' || RESERVED.contains(&c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

// ---------------------------------------------------------------------------------------------
// Answers in LinkedIn's shapes.

/// LinkedIn's error envelope; `service_code` is left out where LinkedIn sends none.
fn error(status: StatusCode, service_code: Option<u32>, code: &str, message: &str) -> Response {
    let mut body = json!({ "status": status.as_u16(), "code": code, "message": message });
    if let Some(service_code) = service_code {
        body["serviceErrorCode"] = json!(service_code);
    }
    (status, Json(body)).into_response()
}

fn bad_request(message: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        Some(SERVICE_ILLEGAL_ARGUMENT),
        "ILLEGAL_ARGUMENT",
        message,
    )
}

fn not_found(message: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        Some(SERVICE_NOT_FOUND),
        "NOT_FOUND",
        message,
    )
}

fn upload_url_expired() -> Response {
    error(
        StatusCode::FORBIDDEN,
        Some(SERVICE_ACCESS_DENIED),
        "ACCESS_DENIED",
        "This upload URL has expired: initialize the upload again.",
    )
}

/// A 422 naming the field at fault (`field_path` empty: none), as Rest.li validation answers.
fn unprocessable(field_path: &str, input_code: &str, message: &str) -> Response {
    let input = if field_path.is_empty() {
        json!({})
    } else {
        json!({ "inputPath": { "fieldPath": field_path } })
    };
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    let body = json!({
        "status": status.as_u16(),
        "serviceErrorCode": SERVICE_UNPROCESSABLE,
        "code": "UNPROCESSABLE_ENTITY",
        "message": message,
        "errorDetails": {
            "inputErrors": [{ "code": input_code, "description": message, "input": input }],
        },
    });
    (status, Json(body)).into_response()
}

/// 422 `DUPLICATE_POST`, naming the earlier post when there is one: the client records that
/// URN as the result.
fn duplicate_post(earlier: Option<&str>) -> Response {
    let message = match earlier {
        Some(urn) => format!("Content is a duplicate of {urn}"),
        None => "Content is a duplicate of an earlier post.".to_owned(),
    };
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    let body = json!({
        "status": status.as_u16(),
        "serviceErrorCode": SERVICE_DUPLICATE_POST,
        "code": "DUPLICATE_POST",
        "message": message,
        "errorDetails": {
            "inputErrors": [{
                "code": "DUPLICATE_POST",
                "description": "Duplicate post is detected",
                "input": {},
            }],
        },
    });
    (status, Json(body)).into_response()
}

/// 403 `ACCESS_DENIED`: a missing scope or role. The sentence after LinkedIn's is the fake's, so
/// a failing test says which.
fn access_denied(resource: &str, reason: &str) -> Response {
    error(
        StatusCode::FORBIDDEN,
        Some(SERVICE_ACCESS_DENIED),
        "ACCESS_DENIED",
        &format!("Not enough permissions to access: {resource}. {reason}"),
    )
}

/// LinkedIn tells an expired token from a revoked one; both are 401.
fn bearer_refusal(refusal: BearerError) -> Response {
    match refusal {
        BearerError::Missing | BearerError::Unknown => error(
            StatusCode::UNAUTHORIZED,
            Some(SERVICE_INVALID_TOKEN),
            "INVALID_ACCESS_TOKEN",
            "Invalid access token",
        ),
        BearerError::Revoked => error(
            StatusCode::UNAUTHORIZED,
            Some(SERVICE_REVOKED_TOKEN),
            "REVOKED_ACCESS_TOKEN",
            "The token used in the request has been revoked by the user",
        ),
        BearerError::Expired => error(
            StatusCode::UNAUTHORIZED,
            Some(SERVICE_EXPIRED_TOKEN),
            "EXPIRED_ACCESS_TOKEN",
            "The token used in the request has expired",
        ),
        BearerError::MissingScope(scope) => access_denied(
            "this resource",
            &format!("The access token was not granted {scope}."),
        ),
    }
}

fn server_error(status: StatusCode) -> Response {
    let reason = status.canonical_reason().unwrap_or("Server Error");
    error(
        status,
        Some(SERVICE_SERVER_ERROR),
        &reason.to_ascii_uppercase().replace(' ', "_"),
        reason,
    )
}

/// Rate limited (429). LinkedIn documents no rate headers; `Retry-After` is added only when
/// the scripted failure names a wait (`reset_in_secs` above zero), so a client is tested both
/// ways.
fn rate_limited(reset_in_secs: i64) -> Response {
    let mut response = error(
        StatusCode::TOO_MANY_REQUESTS,
        Some(SERVICE_THROTTLED),
        "TOO_MANY_REQUESTS",
        "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.",
    );
    if reset_in_secs > 0 {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(reset_in_secs));
    }
    response
}

fn upload_refusal(error: &ReceiveError) -> Response {
    match error {
        ReceiveError::TooLarge { limit } => bad_request(&format!(
            "The upload is larger than the {limit} bytes allowed."
        )),
        ReceiveError::Broken(_) => bad_request("The upload broke off before its end."),
    }
}

/// OAuth's error shape (RFC 6749 §5.2), which LinkedIn's OAuth endpoints answer in.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

fn oauth_refusal(refusal: &OAuthError) -> Response {
    let (status, error) = match refusal {
        OAuthError::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
        OAuthError::InvalidClient => (StatusCode::UNAUTHORIZED, "invalid_client"),
        OAuthError::InvalidGrant(_) => (StatusCode::BAD_REQUEST, "invalid_grant"),
        OAuthError::UnsupportedGrantType(_) => (StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    };
    oauth_error(status, error, &refusal.to_string())
}

/// A scripted failure at the token endpoint, in OAuth's shape.
fn scripted_oauth_refusal(refusal: Refusal) -> Response {
    match refusal {
        Refusal::ServerError(status) => oauth_error(
            status,
            "server_error",
            status.canonical_reason().unwrap_or("Server Error"),
        ),
        Refusal::RateLimited { reset_in_secs } => {
            let mut response = oauth_error(
                StatusCode::TOO_MANY_REQUESTS,
                "temporarily_unavailable",
                "Too many requests.",
            );
            if reset_in_secs > 0 {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(reset_in_secs));
            }
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
            "This request repeats one already made.",
        ),
    }
}

/// The token answer. `scope` is comma-separated, as LinkedIn's token and introspection answers
/// are (platforms.md does not say; the authorize request's is a space). There is no
/// `token_type`: platforms.md's shape has none, so a client must not need one. The refresh token
/// is repeated on a refresh, with the time it has left, since LinkedIn keeps it.
fn token_json(tokens: &IssuedTokens) -> Value {
    let mut body = json!({
        "access_token": tokens.access_token,
        "expires_in": tokens.expires_in,
        "scope": tokens.grant.scopes.join(','),
    });
    if let Some(refresh) = &tokens.refresh {
        body["refresh_token"] = json!(refresh.token);
        body["refresh_token_expires_in"] = json!(refresh.expires_in);
    }
    body
}

fn paging(query: &Params) -> Result<(usize, usize), Response> {
    let number = |name: &str, default: usize, max: usize| match query.get(name) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|value| *value <= max)
            .ok_or_else(|| {
                bad_request(&format!(
                    "{name} must be a number from 0 to {max}; it is {raw:?}."
                ))
            }),
    };
    Ok((
        number("start", 0, usize::MAX)?,
        number("count", DEFAULT_PAGE_COUNT, MAX_PAGE_COUNT)?,
    ))
}

fn paging_json(start: usize, count: usize, total: usize) -> Value {
    json!({ "start": start, "count": count, "total": total, "links": [] })
}

fn numeric_id(id: &str) -> Value {
    id.parse::<u64>()
        .map_or_else(|_| Value::from(id), Value::from)
}

fn post_json(post: &FakePost) -> Value {
    let at = post.created_at.timestamp_millis();
    let mut body = json!({
        "id": post.urn,
        "author": post.author,
        "commentary": little_text(&post.commentary),
        "visibility": post.visibility,
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": false,
        "createdAt": at,
        "lastModifiedAt": at,
        "publishedAt": at,
    });
    if let Some(content) = &post.content {
        body["content"] = content_json(content);
    }
    body
}

fn content_json(content: &PostContent) -> Value {
    match content {
        PostContent::Media {
            id,
            alt_text,
            title,
        } => {
            let mut media = json!({ "id": id });
            if let Some(alt_text) = alt_text {
                media["altText"] = json!(alt_text);
            }
            if let Some(title) = title {
                media["title"] = json!(title);
            }
            json!({ "media": media })
        }
        PostContent::MultiImage { images } => {
            let images: Vec<Value> = images
                .iter()
                .map(|image| {
                    let mut item = json!({ "id": image.id });
                    if let Some(alt_text) = &image.alt_text {
                        item["altText"] = json!(alt_text);
                    }
                    item
                })
                .collect();
            json!({ "multiImage": { "images": images } })
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Pages.

/// What a post is called in lists: the start of its commentary, else its URN.
fn post_caption(post: &FakePost) -> String {
    if post.commentary.trim().is_empty() {
        post.urn.clone()
    } else {
        post.commentary.chars().take(80).collect()
    }
}

/// `/feed/update/{urn}`, where the app's "view on LinkedIn" link lands in the sandbox. It shows
/// the commentary as LinkedIn would: cut where an unescaped reserved character cut it.
fn post_page(post: &FakePost, author_name: &str) -> String {
    let media = match &post.content {
        None => String::new(),
        Some(PostContent::Media { id, .. }) if id.starts_with("urn:li:video:") => {
            format!("<p class=\"meta\">Video {}</p>\n", escape_html(id))
        }
        Some(PostContent::Media { id, alt_text, .. }) => format!(
            "<p class=\"meta\">Image {}{}</p>\n",
            escape_html(id),
            alt_text
                .as_deref()
                .map(|alt| format!(" — {}", escape_html(alt)))
                .unwrap_or_default()
        ),
        Some(PostContent::MultiImage { images }) => {
            format!("<p class=\"meta\">{} images</p>\n", images.len())
        }
    };
    let body = format!(
        r#"<article aria-labelledby="author">
<h1 id="author">{author}</h1>
<p class="text">{commentary}</p>
{media}<p class="meta"><time datetime="{datetime}">{shown}</time> · {visibility} · Sandbox post {urn}</p>
</article>"#,
        author = escape_html(author_name),
        commentary = escape_html(&post.commentary),
        datetime = post.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        shown = post.created_at.format("%-d %b %Y, %H:%M UTC"),
        visibility = escape_html(&post.visibility),
        urn = escape_html(&post.urn),
    );
    page(
        &format!("{author_name} on Sandbox LinkedIn"),
        &body,
        POST_PAGE_STYLESHEET,
    )
}

fn missing_post_page() -> String {
    page(
        "Sandbox LinkedIn — post not found",
        "<h1>This post does not exist in the sandbox</h1>\n<p>It was never created here.</p>",
        POST_PAGE_STYLESHEET,
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
        self.member_named(username).map(|member| member.sub.clone())
    }
}

impl FakeControls for LinkedInFake {
    type World = World;

    fn world(&self) -> MutexGuard<'_, World> {
        self.lock()
    }
}

#[cfg(test)]
mod tests {
    use axum::body::to_bytes;
    use proptest::prelude::*;
    use tower::ServiceExt as _;

    use super::*;
    use crate::clock::ManualClock;
    use crate::sandbox::kit::request::with_query;

    const REDIRECT: &str = "http://127.0.0.1:3000/connections/linkedin/callback";
    const MEMBER_SCOPES: &str = "openid profile email w_member_social";
    const ORGANIZATION_SCOPES: &str = "openid profile w_member_social w_organization_social r_organization_social rw_organization_admin";
    const VERSION: &str = "202506";
    /// The PNG signature plus a little: enough for the magic-byte check.
    const PNG_BYTES: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    fn fake() -> LinkedInFake {
        LinkedInFake::new("client", "secret")
    }

    fn authorize_url(scopes: &str) -> String {
        with_query(
            "https://www.linkedin.test/oauth/v2/authorization",
            &[
                ("response_type", "code"),
                ("client_id", "client"),
                ("redirect_uri", REDIRECT),
                ("state", "st4te"),
                ("scope", scopes),
            ],
        )
    }

    fn code_in(location: &str) -> String {
        let (_, query) = location.split_once('?').expect("the redirect has a query");
        parse_query(Some(query))["code"].clone()
    }

    fn token_request(form: &[(&str, &str)]) -> Request {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        http::Request::builder()
            .method("POST")
            .uri(TOKEN_PATH)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    }

    /// A `/rest` call with the headers LinkedIn wants.
    fn rest(method: &str, uri: &str, token: &str, body: Option<Value>) -> Request {
        let builder = http::Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header("LinkedIn-Version", VERSION)
            .header("X-Restli-Protocol-Version", "2.0.0");
        match body {
            Some(json) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json.to_string())),
            None => builder.body(Body::empty()),
        }
        .unwrap()
    }

    fn put(uri: &str, bytes: Vec<u8>) -> Request {
        http::Request::builder()
            .method("PUT")
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(Body::from(bytes))
            .unwrap()
    }

    async fn send_raw(fake: &LinkedInFake, request: Request) -> (StatusCode, HeaderMap, Bytes) {
        let response = fake.router().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = to_bytes(body, usize::MAX).await.unwrap();
        (parts.status, parts.headers, bytes)
    }

    async fn send(fake: &LinkedInFake, request: Request) -> (StatusCode, HeaderMap, Value) {
        let (status, headers, bytes) = send_raw(fake, request).await;
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, headers, json)
    }

    /// Consent plus code exchange: the token answer.
    async fn connect_with(fake: &LinkedInFake, username: &str, scopes: &str) -> Value {
        let location = fake
            .authorize_directly(&authorize_url(scopes), username)
            .unwrap();
        let code = code_in(&location);
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("client_id", "client"),
            ("client_secret", "secret"),
        ];
        let (status, _, tokens) = send(fake, token_request(&form)).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        tokens
    }

    async fn access_token(fake: &LinkedInFake, username: &str, scopes: &str) -> String {
        connect_with(fake, username, scopes).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The path of an absolute URL the fake handed out, for `oneshot`.
    fn path_of(url: &str) -> String {
        url::Url::parse(url).unwrap().path().to_owned()
    }

    /// Initializes and uploads one PNG owned by `owner`: its URN.
    async fn uploaded_image(fake: &LinkedInFake, token: &str, owner: &str) -> String {
        let init = json!({ "initializeUploadRequest": { "owner": owner } });
        let uri = "/rest/images?action=initializeUpload";
        let (status, _, answer) = send(fake, rest("POST", uri, token, Some(init))).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let upload_url = answer["value"]["uploadUrl"].as_str().unwrap();
        let (status, _, _) = send(fake, put(&path_of(upload_url), PNG_BYTES.to_vec())).await;
        assert_eq!(status, StatusCode::CREATED);
        answer["value"]["image"].as_str().unwrap().to_owned()
    }

    fn text_post(author: &str, commentary: &str) -> Value {
        json!({
            "author": author,
            "commentary": commentary,
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": false,
        })
    }

    fn with_content(mut post: Value, content: Value) -> Value {
        post["content"] = content;
        post
    }

    async fn publish(
        fake: &LinkedInFake,
        token: &str,
        post: Value,
    ) -> (StatusCode, HeaderMap, Value) {
        send(fake, rest("POST", "/rest/posts", token, Some(post))).await
    }

    fn list_uri(author: &str) -> String {
        with_query(
            "/rest/posts",
            &[
                ("author", author),
                ("q", "author"),
                ("count", "10"),
                ("sortBy", "LAST_MODIFIED"),
            ],
        )
    }

    #[tokio::test]
    async fn a_code_is_exchanged_with_the_client_in_the_form_body() {
        let fake = fake();
        let tokens = connect_with(&fake, "alice", MEMBER_SCOPES).await;
        assert!(tokens["access_token"].as_str().unwrap().starts_with("AQV"));
        assert!(tokens["refresh_token"].as_str().unwrap().starts_with("AQW"));
        assert_eq!(tokens["expires_in"], 5_184_000);
        assert_eq!(tokens["refresh_token_expires_in"], 31_536_000);
        assert_eq!(tokens["scope"], "openid,profile,email,w_member_social");
        assert!(tokens.get("token_type").is_none());
        assert_eq!(fake.code_exchange_count(), 1);

        // `/v2/userinfo` is not versioned: no LinkedIn-Version needed.
        let token = tokens["access_token"].as_str().unwrap();
        let request = http::Request::builder()
            .uri("/v2/userinfo")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let (status, _, me) = send(&fake, request).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(
            format!("urn:li:person:{}", me["sub"].as_str().unwrap()),
            fake.person_urn("ALICE").unwrap()
        );
        assert_eq!(me["given_name"], "alice");
        assert_eq!(me["locale"]["language"], "en");
        assert_eq!(me["email"], "alice@sandbox.linkedin.test");
        assert!(
            me["picture"]
                .as_str()
                .unwrap()
                .starts_with("data:image/svg+xml")
        );
    }

    #[tokio::test]
    async fn basic_credentials_are_ignored_and_codes_are_single_use() {
        let fake = fake();
        let code = code_in(
            &fake
                .authorize_directly(&authorize_url(MEMBER_SCOPES), "alice")
                .unwrap(),
        );
        let exchange = |client: &[(&'static str, &'static str)]| {
            let mut form = vec![
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT),
            ];
            form.extend_from_slice(client);
            token_request(&form)
        };
        let mut basic = exchange(&[]);
        basic.headers_mut().insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic Y2xpZW50OnNlY3JldA=="),
        );
        let (status, _, body) = send(&fake, basic).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "invalid_request");
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .contains("client_id")
        );

        let wrong = [("client_id", "client"), ("client_secret", "wrong")];
        let (status, _, body) = send(&fake, exchange(&wrong)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"], "invalid_client");

        let right = [("client_id", "client"), ("client_secret", "secret")];
        assert_eq!(send(&fake, exchange(&right)).await.0, StatusCode::OK);
        let (status, _, body) = send(&fake, exchange(&right)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "invalid_grant");
        assert_eq!(fake.code_exchange_count(), 4);
    }

    #[tokio::test]
    async fn a_refresh_keeps_the_refresh_token_and_its_year() {
        let clock = Arc::new(ManualClock::starting_at(Utc::now()));
        let fake = LinkedInFake::with_clock("client", "secret", clock.clone());
        let first = connect_with(&fake, "alice", MEMBER_SCOPES).await;
        let refresh_token = first["refresh_token"].as_str().unwrap();
        clock.advance(TimeDelta::days(59));
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", "client"),
            ("client_secret", "secret"),
        ];
        let (status, _, renewed) = send(&fake, token_request(&form)).await;
        assert_eq!(status, StatusCode::OK, "{renewed}");
        assert_ne!(renewed["access_token"], first["access_token"]);
        assert_eq!(renewed["refresh_token"], refresh_token);
        assert_eq!(renewed["expires_in"], 5_184_000);
        assert_eq!(
            renewed["refresh_token_expires_in"],
            31_536_000 - 59 * 86_400
        );
        assert_eq!(send(&fake, token_request(&form)).await.0, StatusCode::OK);
        assert_eq!(fake.refresh_count(), 2);
    }

    #[tokio::test]
    async fn an_app_without_programmatic_refresh_gets_no_refresh_token() {
        let fake = fake();
        let before = connect_with(&fake, "alice", MEMBER_SCOPES).await;
        fake.set_refresh_tokens(false);
        let after = connect_with(&fake, "alice", MEMBER_SCOPES).await;
        assert!(after.get("refresh_token").is_none());
        assert!(after.get("refresh_token_expires_in").is_none());
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", before["refresh_token"].as_str().unwrap()),
            ("client_id", "client"),
            ("client_secret", "secret"),
        ];
        let (status, _, body) = send(&fake, token_request(&form)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "unauthorized_client");
    }

    #[tokio::test]
    async fn rest_calls_need_a_live_version_and_the_restli_header() {
        let fake = fake();
        let token = access_token(&fake, "alice", ORGANIZATION_SCOPES).await;
        let acls = "/rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR&state=APPROVED";
        assert_eq!(
            send(&fake, rest("GET", acls, &token, None)).await.0,
            StatusCode::OK
        );

        let mut missing = rest("GET", acls, &token, None);
        missing.headers_mut().remove("linkedin-version");
        let (status, _, body) = send(&fake, missing).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["code"], "VERSION_MISSING");

        let with_version = |version: &'static str| {
            let mut request = rest("GET", acls, &token, None);
            request
                .headers_mut()
                .insert("linkedin-version", HeaderValue::from_static(version));
            request
        };
        let (status, _, body) = send(&fake, with_version("202312")).await;
        assert_eq!(status, StatusCode::UPGRADE_REQUIRED);
        assert_eq!(body["code"], "NONEXISTENT_VERSION");
        assert!(body["message"].as_str().unwrap().contains("sunset"));
        assert!(body.get("serviceErrorCode").is_none());
        assert_eq!(
            send(&fake, with_version("2024-01")).await.0,
            StatusCode::BAD_REQUEST
        );

        fake.set_oldest_version("202507");
        assert_eq!(
            send(&fake, rest("GET", acls, &token, None)).await.0,
            StatusCode::UPGRADE_REQUIRED
        );
        fake.set_oldest_version("202401");

        let mut no_restli = rest("GET", acls, &token, None);
        no_restli.headers_mut().remove("x-restli-protocol-version");
        let (status, _, body) = send(&fake, no_restli).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("X-Restli-Protocol-Version")
        );
        assert_eq!(fake.request_count(Endpoint::OrganizationAcls), 6);
    }

    #[tokio::test]
    async fn tokens_expire_with_the_clock_and_die_with_the_app() {
        let clock = Arc::new(ManualClock::starting_at(Utc::now()));
        let fake = LinkedInFake::with_clock("client", "secret", clock.clone());
        let tokens = connect_with(&fake, "alice", MEMBER_SCOPES).await;
        let token = tokens["access_token"].as_str().unwrap();
        let author = fake.person_urn("alice").unwrap();
        clock.advance(TimeDelta::days(60));
        let (status, _, body) = publish(&fake, token, text_post(&author, "Hello")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], "EXPIRED_ACCESS_TOKEN");

        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", "client"),
            ("client_secret", "secret"),
        ];
        let (_, _, renewed) = send(&fake, token_request(&form)).await;
        let renewed = renewed["access_token"].as_str().unwrap();
        assert_eq!(
            publish(&fake, renewed, text_post(&author, "Hello")).await.0,
            StatusCode::CREATED
        );
        fake.revoke_all_tokens_of("alice");
        let (status, _, body) = publish(&fake, renewed, text_post(&author, "Again")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], "REVOKED_ACCESS_TOKEN");
        assert_eq!(body["status"], 401);
        assert_eq!(
            send(&fake, token_request(&form)).await.0,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(fake.issued_tokens().len(), 3);
    }

    #[tokio::test]
    async fn an_uploaded_image_is_posted_with_an_empty_201_and_the_urn_in_a_header() {
        let fake = fake();
        let token = access_token(&fake, "alice", MEMBER_SCOPES).await;
        let author = fake.person_urn("alice").unwrap();
        let init = json!({ "initializeUploadRequest": { "owner": author } });
        let uri = "/rest/images?action=initializeUpload";
        let (_, _, answer) = send(&fake, rest("POST", uri, &token, Some(init))).await;
        let image = answer["value"]["image"].as_str().unwrap().to_owned();
        assert!(image.starts_with("urn:li:image:"));
        assert!(answer["value"]["uploadUrlExpiresAt"].is_i64());
        let upload = path_of(answer["value"]["uploadUrl"].as_str().unwrap());

        let status_uri = format!("/rest/images/{}", urlencode(&image));
        let (_, _, status) = send(&fake, rest("GET", &status_uri, &token, None)).await;
        assert_eq!(status["status"], "WAITING_UPLOAD");
        let post = with_content(
            text_post(&author, "A picture"),
            json!({ "media": { "id": image, "altText": "A sunset" } }),
        );
        let (status, _, body) = publish(&fake, &token, post.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body["message"].as_str().unwrap().contains("WAITING_UPLOAD"));

        let (status, _, body) = send(&fake, put(&upload, b"<html>oops</html>".to_vec())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("not a JPEG, PNG or GIF")
        );
        assert_eq!(
            send(&fake, put(&upload, PNG_BYTES.to_vec())).await.0,
            StatusCode::CREATED
        );
        let stored = &fake.images()[0];
        assert_eq!(stored.uploaded_bytes, Some(PNG_BYTES.len() as u64));
        assert_eq!(stored.content_type, Some("image/png"));
        let (_, _, status) = send(&fake, rest("GET", &status_uri, &token, None)).await;
        assert_eq!(status["status"], "AVAILABLE");

        let (status, headers, body) =
            send_raw(&fake, rest("POST", "/rest/posts", &token, Some(post))).await;
        assert_eq!(status, StatusCode::CREATED);
        assert!(body.is_empty(), "a created post has an empty body");
        let urn = headers["x-restli-id"].to_str().unwrap();
        assert_eq!(urn, fake.posts()[0].urn);
        assert!(urn.starts_with("urn:li:share:"));
        assert_eq!(
            fake.posts()[0].content,
            Some(PostContent::Media {
                id: image.clone(),
                alt_text: Some("A sunset".to_owned()),
                title: None,
            })
        );

        // Someone else's image cannot be posted.
        let bob = access_token(&fake, "bob", MEMBER_SCOPES).await;
        let bobs_post = with_content(
            text_post(&fake.person_urn("bob").unwrap(), "Not mine"),
            json!({ "media": { "id": image } }),
        );
        let (status, _, body) = publish(&fake, &bob, bobs_post).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body["message"].as_str().unwrap().contains("belongs to"));
    }

    fn urlencode(urn: &str) -> String {
        url::form_urlencoded::byte_serialize(urn.as_bytes()).collect()
    }

    #[tokio::test]
    async fn a_multi_image_post_takes_two_to_twenty_images_and_no_video() {
        let fake = fake();
        let token = access_token(&fake, "alice", MEMBER_SCOPES).await;
        let author = fake.person_urn("alice").unwrap();
        let mut images = Vec::new();
        for _ in 0..21 {
            images.push(uploaded_image(&fake, &token, &author).await);
        }
        let post = |ids: &[String], text: &str| {
            let items: Vec<Value> = ids
                .iter()
                .map(|id| json!({ "id": id, "altText": "alt" }))
                .collect();
            with_content(
                text_post(&author, text),
                json!({ "multiImage": { "images": items } }),
            )
        };
        for (count, text) in [(1, "One"), (21, "Twenty-one")] {
            let (status, _, body) = publish(&fake, &token, post(&images[..count], text)).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(
                body["message"].as_str().unwrap().contains("2 to 20"),
                "{body}"
            );
        }
        let (status, _, _) = publish(&fake, &token, post(&images[..20], "Twenty")).await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, _, _) = publish(&fake, &token, post(&images[..2], "Two")).await;
        assert_eq!(status, StatusCode::CREATED);

        let mixed = vec![images[0].clone(), "urn:li:video:D5605AQ2000001".to_owned()];
        let (status, _, body) = publish(&fake, &token, post(&mixed, "Mixed")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body["message"].as_str().unwrap().contains("images only"));
        let both = with_content(
            text_post(&author, "Both"),
            json!({ "media": { "id": images[0] }, "multiImage": { "images": [] } }),
        );
        assert_eq!(
            publish(&fake, &token, both).await.0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(fake.post_count(), 2);
    }

    #[tokio::test]
    async fn a_video_is_uploaded_in_parts_finalized_polled_and_posted() {
        let fake = fake();
        fake.set_video_status_sequence(vec![
            MediaStatus::Processing,
            MediaStatus::Processing,
            MediaStatus::Available,
        ]);
        let token = access_token(&fake, "alice", MEMBER_SCOPES).await;
        let author = fake.person_urn("alice").unwrap();
        let size = VIDEO_PART_BYTES * 2 + 1000;
        let init = json!({ "initializeUploadRequest": {
            "owner": author, "fileSizeBytes": size, "uploadCaptions": false, "uploadThumbnail": false,
        } });
        let uri = "/rest/videos?action=initializeUpload";
        let (status, _, answer) = send(&fake, rest("POST", uri, &token, Some(init))).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let video = answer["value"]["video"].as_str().unwrap().to_owned();
        let upload_token = answer["value"]["uploadToken"].as_str().unwrap().to_owned();
        let instructions = answer["value"]["uploadInstructions"]
            .as_array()
            .unwrap()
            .clone();
        let ranges: Vec<(u64, u64)> = instructions
            .iter()
            .map(|part| {
                (
                    part["firstByte"].as_u64().unwrap(),
                    part["lastByte"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            ranges,
            [
                (0, 4_194_303),
                (4_194_304, 8_388_607),
                (8_388_608, 8_389_607)
            ]
        );

        let part_url = |index: usize| path_of(instructions[index]["uploadUrl"].as_str().unwrap());
        let (status, _, body) = send(&fake, put(&part_url(2), vec![0; 999])).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("exactly 1000 bytes")
        );
        assert_eq!(
            send(&fake, put(&part_url(2), vec![0; 1001])).await.0,
            StatusCode::BAD_REQUEST
        );

        let finalize = |part_ids: Vec<String>, upload_token: &str| {
            let body = json!({ "finalizeUploadRequest": {
                "video": video, "uploadToken": upload_token, "uploadedPartIds": part_ids,
            } });
            rest(
                "POST",
                "/rest/videos?action=finalizeUpload",
                &token,
                Some(body),
            )
        };
        let mut etags = Vec::new();
        for (index, (first, last)) in ranges.iter().enumerate() {
            let length = usize::try_from(last - first + 1).unwrap();
            let (status, headers, _) = send(&fake, put(&part_url(index), vec![7; length])).await;
            assert_eq!(status, StatusCode::OK);
            etags.push(headers[header::ETAG].to_str().unwrap().to_owned());
            if index == 0 {
                let (status, _, body) = send(&fake, finalize(etags.clone(), &upload_token)).await;
                assert_eq!(status, StatusCode::BAD_REQUEST);
                assert!(body["message"].as_str().unwrap().contains("never uploaded"));
            }
        }
        assert_eq!(fake.videos()[0].uploaded_parts, 3);
        let reversed: Vec<String> = etags.iter().rev().cloned().collect();
        assert_eq!(
            send(&fake, finalize(reversed, &upload_token)).await.0,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            send(&fake, finalize(etags.clone(), "wrong")).await.0,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            send(&fake, finalize(etags.clone(), &upload_token)).await.0,
            StatusCode::OK
        );
        assert_eq!(
            send(&fake, finalize(etags.clone(), &upload_token)).await.0,
            StatusCode::OK,
            "a repeat succeeds"
        );
        assert!(fake.videos()[0].finalized);

        let post = with_content(
            text_post(&author, "A video"),
            json!({ "media": { "id": video } }),
        );
        let (status, _, body) = publish(&fake, &token, post.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body["message"].as_str().unwrap().contains("PROCESSING"));
        let status_uri = format!("/rest/videos/{}", urlencode(&video));
        let mut polled = Vec::new();
        for _ in 0..4 {
            let (_, _, answer) = send(&fake, rest("GET", &status_uri, &token, None)).await;
            polled.push(answer["status"].as_str().unwrap().to_owned());
        }
        assert_eq!(
            polled,
            ["PROCESSING", "PROCESSING", "AVAILABLE", "AVAILABLE"]
        );
        let (status, headers, _) = publish(&fake, &token, post).await;
        assert_eq!(status, StatusCode::CREATED);
        assert!(headers.contains_key("x-restli-id"));
        assert_eq!(fake.request_count(Endpoint::UploadVideoPart), 5);
        assert_eq!(fake.request_count(Endpoint::FinalizeVideo), 5);
    }

    #[tokio::test]
    async fn a_failed_processing_never_becomes_postable() {
        let fake = fake();
        fake.set_video_status_sequence(vec![
            MediaStatus::Processing,
            MediaStatus::ProcessingFailed,
        ]);
        let token = access_token(&fake, "alice", MEMBER_SCOPES).await;
        let author = fake.person_urn("alice").unwrap();
        let init = json!({ "initializeUploadRequest": { "owner": author, "fileSizeBytes": 10 } });
        let (_, _, answer) = send(
            &fake,
            rest(
                "POST",
                "/rest/videos?action=initializeUpload",
                &token,
                Some(init),
            ),
        )
        .await;
        let video = answer["value"]["video"].as_str().unwrap().to_owned();
        let part = path_of(
            answer["value"]["uploadInstructions"][0]["uploadUrl"]
                .as_str()
                .unwrap(),
        );
        let (_, headers, _) = send(&fake, put(&part, vec![1; 10])).await;
        let finalize = json!({ "finalizeUploadRequest": {
            "video": video,
            "uploadToken": answer["value"]["uploadToken"],
            "uploadedPartIds": [headers[header::ETAG].to_str().unwrap()],
        } });
        let uri = "/rest/videos?action=finalizeUpload";
        assert_eq!(
            send(&fake, rest("POST", uri, &token, Some(finalize)))
                .await
                .0,
            StatusCode::OK
        );
        let status_uri = format!("/rest/videos/{video}");
        for expected in ["PROCESSING", "PROCESSING_FAILED", "PROCESSING_FAILED"] {
            let (_, _, answer) = send(&fake, rest("GET", &status_uri, &token, None)).await;
            assert_eq!(answer["status"], expected);
        }
        let post = with_content(
            text_post(&author, "Broken"),
            json!({ "media": { "id": video } }),
        );
        assert_eq!(
            publish(&fake, &token, post).await.0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }

    #[tokio::test]
    async fn identical_commentary_from_one_author_within_a_day_is_a_duplicate_naming_the_first() {
        let clock = Arc::new(ManualClock::starting_at(Utc::now()));
        let fake = LinkedInFake::with_clock("client", "secret", clock.clone());
        let token = access_token(&fake, "alice", MEMBER_SCOPES).await;
        let author = fake.person_urn("alice").unwrap();
        let (_, headers, _) = publish(&fake, &token, text_post(&author, "Big news")).await;
        let first = headers["x-restli-id"].to_str().unwrap().to_owned();

        clock.advance(TimeDelta::hours(23));
        let (status, _, body) = publish(&fake, &token, text_post(&author, "Big news")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["code"], "DUPLICATE_POST");
        assert_eq!(body["status"], 422);
        assert_eq!(
            body["message"],
            format!("Content is a duplicate of {first}")
        );
        assert_eq!(
            body["errorDetails"]["inputErrors"][0]["code"],
            "DUPLICATE_POST"
        );

        let bob = access_token(&fake, "bob", MEMBER_SCOPES).await;
        let bobs = text_post(&fake.person_urn("bob").unwrap(), "Big news");
        assert_eq!(publish(&fake, &bob, bobs).await.0, StatusCode::CREATED);
        clock.advance(TimeDelta::hours(1));
        assert_eq!(
            publish(&fake, &token, text_post(&author, "Big news"))
                .await
                .0,
            StatusCode::CREATED
        );
        assert_eq!(fake.post_count(), 3);
    }

    #[tokio::test]
    async fn an_unescaped_reserved_character_silently_cuts_the_commentary() {
        let fake = fake();
        let token = access_token(
            &fake,
            "alice",
            "openid profile w_member_social r_member_social",
        )
        .await;
        let author = fake.person_urn("alice").unwrap();
        let (status, _, _) = publish(
            &fake,
            &token,
            text_post(&author, "Launch (beta) today #news"),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "LinkedIn does not refuse it");
        let escaped = little_text("Launch (beta) today #news");
        assert_eq!(escaped, r"Launch \(beta\) today \#news");
        assert_eq!(
            publish(&fake, &token, text_post(&author, &escaped)).await.0,
            StatusCode::CREATED
        );
        let posts = fake.posts();
        assert_eq!(posts[0].commentary, "Launch ");
        assert_eq!(posts[0].sent_commentary, "Launch (beta) today #news");
        assert_eq!(posts[1].commentary, "Launch (beta) today #news");

        let (_, _, listed) = send(&fake, rest("GET", &list_uri(&author), &token, None)).await;
        assert_eq!(listed["elements"][0]["commentary"], escaped);
        assert_eq!(listed["elements"][1]["commentary"], "Launch ");

        let page = http::Request::builder()
            .uri(format!("/feed/update/{}", posts[0].urn))
            .body(Body::empty())
            .unwrap();
        let (status, _, html) = send_raw(&fake, page).await;
        assert_eq!(status, StatusCode::OK);
        let html = String::from_utf8_lossy(&html);
        assert!(html.contains(r#"<p class="text">Launch </p>"#));
        assert!(html.contains("alice Sandbox"));
        assert!(
            !fake
                .issued_tokens()
                .iter()
                .any(|token| html.contains(token.as_str()))
        );
    }

    #[test]
    fn little_text_reads_escapes_and_stops_at_markup() {
        for (sent, shown) in [
            ("plain text, no markup.", "plain text, no markup."),
            ("a | b", "a "),
            (r"a \| b", "a | b"),
            (r"C:\path\\to", r"C:\path\to"),
            ("trailing \\", "trailing \\"),
            ("mention @someone", "mention "),
            ("snake_case", "snake"),
            ("~", ""),
        ] {
            assert_eq!(shown_commentary(sent), shown, "{sent:?}");
        }
    }

    proptest! {
        #[test]
        fn escaped_text_is_shown_whole(text in "\\PC*") {
            prop_assert_eq!(shown_commentary(&little_text(&text)), text);
        }
    }

    #[tokio::test]
    async fn commentary_over_three_thousand_characters_is_refused() {
        let fake = fake();
        let token = access_token(&fake, "alice", MEMBER_SCOPES).await;
        let author = fake.person_urn("alice").unwrap();
        assert_eq!(
            publish(&fake, &token, text_post(&author, &"é".repeat(3_000)))
                .await
                .0,
            StatusCode::CREATED
        );
        let (status, _, body) =
            publish(&fake, &token, text_post(&author, &"a".repeat(3_001))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            body["errorDetails"]["inputErrors"][0]["input"]["inputPath"]["fieldPath"],
            "/commentary"
        );
        let mut typo = text_post(&author, "Typo");
        typo["visiblity"] = json!("PUBLIC");
        let (status, _, body) = publish(&fake, &token, typo).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body["message"].as_str().unwrap().contains("/visiblity"));
        assert_eq!(fake.post_count(), 1);
    }

    #[tokio::test]
    async fn social_actions_grow_and_need_the_authors_read_scope() {
        let clock = Arc::new(ManualClock::starting_at(Utc::now()));
        let fake = LinkedInFake::with_clock("client", "secret", clock.clone());
        let org = fake.add_organization("alice", "Acme Corp");
        let org_urn = format!("urn:li:organization:{org}");
        let admin = access_token(&fake, "alice", ORGANIZATION_SCOPES).await;
        let (status, headers, _) =
            publish(&fake, &admin, text_post(&org_urn, "From the page")).await;
        assert_eq!(status, StatusCode::CREATED);
        let urn = headers["x-restli-id"].to_str().unwrap().to_owned();
        let encoded: String = url::form_urlencoded::byte_serialize(urn.as_bytes()).collect();
        let uri = format!("/rest/socialActions/{encoded}");
        clock.advance(TimeDelta::hours(3));
        let (status, _, early) = send(&fake, rest("GET", &uri, &admin, None)).await;
        assert_eq!(status, StatusCode::OK, "{early}");
        assert_eq!(early["target"], urn.as_str());
        clock.advance(TimeDelta::hours(6));
        let (_, _, later) = send(&fake, rest("GET", &uri, &admin, None)).await;
        let likes = |body: &Value| body["likesSummary"]["aggregatedTotalLikes"].as_u64();
        assert!(likes(&later) > likes(&early), "{early} then {later}");
        assert!(
            later["commentsSummary"]["aggregatedTotalComments"].as_u64()
                >= later["commentsSummary"]["totalFirstLevelComments"].as_u64()
        );
        let member_only = access_token(&fake, "alice", MEMBER_SCOPES).await;
        let (status, _, _) = send(&fake, rest("GET", &uri, &member_only, None)).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "without r_organization_social"
        );
        let missing = "/rest/socialActions/urn%3Ali%3Ashare%3A1";
        let (status, _, _) = send(&fake, rest("GET", missing, &admin, None)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn posting_as_an_organization_needs_its_scope_and_the_admin_role() {
        let fake = fake();
        let org = fake.add_organization("alice", "Acme Corp!");
        let org_urn = format!("urn:li:organization:{org}");
        let bobs_org = fake.add_organization("bob", "Bob's Bakery");

        let member_only = access_token(&fake, "alice", MEMBER_SCOPES).await;
        let (status, _, body) =
            publish(&fake, &member_only, text_post(&org_urn, "From the page")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["code"], "ACCESS_DENIED");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains(W_ORGANIZATION_SOCIAL)
        );

        let admin = access_token(&fake, "alice", ORGANIZATION_SCOPES).await;
        let not_hers = text_post(&format!("urn:li:organization:{bobs_org}"), "Not my page");
        let (status, _, body) = publish(&fake, &admin, not_hers).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(body["message"].as_str().unwrap().contains("ADMINISTRATOR"));
        let as_bob = text_post(&fake.person_urn("bob").unwrap(), "Impersonation");
        assert_eq!(
            publish(&fake, &admin, as_bob).await.0,
            StatusCode::FORBIDDEN
        );

        let image = uploaded_image(&fake, &admin, &org_urn).await;
        let post = with_content(
            text_post(&org_urn, "From the page"),
            json!({ "media": { "id": image } }),
        );
        assert_eq!(publish(&fake, &admin, post).await.0, StatusCode::CREATED);
        assert_eq!(fake.posts()[0].author, org_urn);

        let acls = "/rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR&state=APPROVED";
        let (status, _, listed) = send(&fake, rest("GET", acls, &admin, None)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(listed["elements"].as_array().unwrap().len(), 1);
        assert_eq!(listed["elements"][0]["organization"], org_urn);
        assert_eq!(
            listed["elements"][0]["roleAssignee"],
            fake.person_urn("alice").unwrap()
        );
        assert_eq!(listed["paging"]["total"], 1);
        assert_eq!(
            send(&fake, rest("GET", acls, &member_only, None)).await.0,
            StatusCode::FORBIDDEN
        );

        let (status, _, found) = send(
            &fake,
            rest("GET", &format!("/rest/organizations/{org}"), &admin, None),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(found["localizedName"], "Acme Corp!");
        assert_eq!(found["vanityName"], "acme-corp");
        assert_eq!(found["id"], json!(org.parse::<u64>().unwrap()));
    }

    #[tokio::test]
    async fn listing_posts_needs_the_read_scope_of_the_authors_kind() {
        let fake = fake();
        let org = format!(
            "urn:li:organization:{}",
            fake.add_organization("alice", "Acme")
        );
        let admin = access_token(&fake, "alice", ORGANIZATION_SCOPES).await;
        let alice = fake.person_urn("alice").unwrap();
        for text in ["First", "Second"] {
            assert_eq!(
                publish(&fake, &admin, text_post(&org, text)).await.0,
                StatusCode::CREATED
            );
        }
        assert_eq!(
            publish(&fake, &admin, text_post(&alice, "Personal"))
                .await
                .0,
            StatusCode::CREATED
        );

        let (status, _, listed) = send(&fake, rest("GET", &list_uri(&org), &admin, None)).await;
        assert_eq!(status, StatusCode::OK, "{listed}");
        let texts: Vec<&str> = listed["elements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|post| post["commentary"].as_str().unwrap())
            .collect();
        assert_eq!(texts, ["Second", "First"]);
        assert_eq!(listed["elements"][0]["author"], org);
        assert_eq!(listed["elements"][0]["lifecycleState"], "PUBLISHED");
        assert!(listed["elements"][0]["createdAt"].as_i64().unwrap() > 1_600_000_000_000);

        // Most apps lack r_member_social: a member's own posts cannot be listed.
        let (status, _, body) = send(&fake, rest("GET", &list_uri(&alice), &admin, None)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["code"], "ACCESS_DENIED");
        let reader = access_token(
            &fake,
            "alice",
            "openid profile w_member_social r_member_social",
        )
        .await;
        let (status, _, listed) = send(&fake, rest("GET", &list_uri(&alice), &reader, None)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(listed["elements"][0]["commentary"], "Personal");
        let bob = access_token(&fake, "bob", "openid profile r_member_social").await;
        assert_eq!(
            send(&fake, rest("GET", &list_uri(&alice), &bob, None))
                .await
                .0,
            StatusCode::FORBIDDEN
        );
        let member_scopes_only = access_token(&fake, "alice", MEMBER_SCOPES).await;
        assert_eq!(
            send(
                &fake,
                rest("GET", &list_uri(&org), &member_scopes_only, None)
            )
            .await
            .0,
            StatusCode::FORBIDDEN
        );
    }

    #[tokio::test]
    async fn a_dropped_answer_still_creates_the_post_and_the_retry_names_it() {
        let fake = fake();
        let token = access_token(&fake, "alice", MEMBER_SCOPES).await;
        let author = fake.person_urn("alice").unwrap();
        fake.fail_next(Endpoint::CreatePost, [Failure::CreatedThenDropped]);
        let response = fake
            .router()
            .oneshot(rest(
                "POST",
                "/rest/posts",
                &token,
                Some(text_post(&author, "Once")),
            ))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        assert!(to_bytes(response.into_body(), usize::MAX).await.is_err());
        let created = fake.posts()[0].urn.clone();

        // Over a real connection the answer never arrives at all.
        fake.fail_next(Endpoint::CreatePost, [Failure::CreatedThenDropped]);
        let (address, server) = crate::sandbox::serve(fake.router()).await.unwrap();
        let lost = reqwest::Client::new()
            .post(format!("http://{address}/rest/posts"))
            .bearer_auth(&token)
            .header("LinkedIn-Version", VERSION)
            .header("X-Restli-Protocol-Version", "2.0.0")
            .json(&text_post(&author, "Twice"))
            .send()
            .await;
        assert!(lost.is_err(), "the client must not see the x-restli-id");
        server.abort();
        assert_eq!(fake.post_count(), 2);

        let (status, _, body) = publish(&fake, &token, text_post(&author, "Once")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            body["message"],
            format!("Content is a duplicate of {created}")
        );
    }

    #[tokio::test]
    async fn scripted_failures_answer_in_linkedins_envelope_in_order() {
        let fake = fake();
        let token = access_token(&fake, "alice", MEMBER_SCOPES).await;
        let author = fake.person_urn("alice").unwrap();
        assert_eq!(
            publish(&fake, &token, text_post(&author, "Earlier"))
                .await
                .0,
            StatusCode::CREATED
        );
        let earlier = fake.posts()[0].urn.clone();
        fake.fail_next(
            Endpoint::CreatePost,
            [
                Failure::RateLimited { reset_in_secs: 30 },
                Failure::RateLimited { reset_in_secs: 0 },
                Failure::ServerError(503),
                Failure::ExpiredToken,
                Failure::RevokedToken,
                Failure::Validation("/commentary :: bad".to_owned()),
                Failure::Duplicate,
            ],
        );
        let (status, headers, body) = publish(&fake, &token, text_post(&author, "Now")).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(headers[header::RETRY_AFTER], "30");
        assert_eq!(body["status"], 429);
        let (status, headers, _) = publish(&fake, &token, text_post(&author, "Now")).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert!(!headers.contains_key(header::RETRY_AFTER));
        let expected = [
            (StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE"),
            (StatusCode::UNAUTHORIZED, "EXPIRED_ACCESS_TOKEN"),
            (StatusCode::UNAUTHORIZED, "REVOKED_ACCESS_TOKEN"),
            (StatusCode::UNPROCESSABLE_ENTITY, "UNPROCESSABLE_ENTITY"),
        ];
        for (status, code) in expected {
            let (got, _, body) = publish(&fake, &token, text_post(&author, "Now")).await;
            assert_eq!((got, body["code"].as_str()), (status, Some(code)));
            assert!(body["serviceErrorCode"].is_u64());
        }
        let (status, _, body) = publish(&fake, &token, text_post(&author, "Now")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            body["message"],
            format!("Content is a duplicate of {earlier}")
        );
        assert_eq!(fake.post_count(), 1, "refusals create nothing");
        assert_eq!(
            publish(&fake, &token, text_post(&author, "Now")).await.0,
            StatusCode::CREATED
        );
        assert_eq!(fake.request_count(Endpoint::CreatePost), 9);

        fake.fail_next(Endpoint::Token, [Failure::ServerError(500)]);
        let form = [("grant_type", "refresh_token"), ("refresh_token", "x")];
        let (status, _, body) = send(&fake, token_request(&form)).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"], "server_error");
    }

    #[tokio::test]
    async fn upload_urls_point_back_at_the_fake_however_it_is_reached() {
        let fake = fake();
        let token = access_token(&fake, "alice", MEMBER_SCOPES).await;
        let author = fake.person_urn("alice").unwrap();
        let (address, server) = crate::sandbox::serve(fake.router()).await.unwrap();
        let http = reqwest::Client::new();
        let initialized: Value = http
            .post(format!(
                "http://{address}/rest/images?action=initializeUpload"
            ))
            .bearer_auth(&token)
            .header("LinkedIn-Version", VERSION)
            .header("X-Restli-Protocol-Version", "2.0.0")
            .json(&json!({ "initializeUploadRequest": { "owner": author } }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let upload_url = initialized["value"]["uploadUrl"].as_str().unwrap();
        assert!(upload_url.starts_with(&format!("http://{address}{IMAGE_UPLOAD_PATH}")));
        let uploaded = http
            .put(upload_url)
            .body(PNG_BYTES.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(uploaded.status(), reqwest::StatusCode::CREATED);
        server.abort();

        fake.set_base_url("https://app.test/sandbox/linkedin/");
        let init = json!({ "initializeUploadRequest": { "owner": author, "fileSizeBytes": 5 } });
        let (_, _, answer) = send(
            &fake,
            rest(
                "POST",
                "/rest/videos?action=initializeUpload",
                &token,
                Some(init),
            ),
        )
        .await;
        assert!(
            answer["value"]["uploadInstructions"][0]["uploadUrl"]
                .as_str()
                .unwrap()
                .starts_with("https://app.test/sandbox/linkedin/dms-uploads/video/")
        );
    }

    #[tokio::test]
    async fn the_consent_screen_takes_space_separated_scopes() {
        let fake = fake();
        let refused = fake.authorize_directly(&authorize_url("openid,profile"), "alice");
        assert!(refused.unwrap_err().contains("openid,profile"));
        let request = http::Request::builder()
            .uri(authorize_url(MEMBER_SCOPES).replace("https://www.linkedin.test", ""))
            .body(Body::empty())
            .unwrap();
        let (status, _, html) = send_raw(&fake, request).await;
        assert_eq!(status, StatusCode::OK);
        let html = String::from_utf8_lossy(&html);
        assert!(html.contains("<code>w_member_social</code>"));
        assert!(html.contains(r#"href="../../sandbox.css""#));
    }

    #[tokio::test]
    async fn the_control_page_arms_a_failure_for_the_next_post() {
        let fake = fake();
        let arm = http::Request::builder()
            .method("POST")
            .uri("/_control")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("failure=duplicate"))
            .unwrap();
        assert_eq!(send_raw(&fake, arm).await.0, StatusCode::SEE_OTHER);
        let shown = http::Request::builder()
            .uri("/_control")
            .body(Body::empty())
            .unwrap();
        let (_, _, html) = send_raw(&fake, shown).await;
        assert!(String::from_utf8_lossy(&html).contains("1 failure(s) armed."));
        let token = access_token(&fake, "alice", MEMBER_SCOPES).await;
        let author = fake.person_urn("alice").unwrap();
        let (status, _, body) = publish(&fake, &token, text_post(&author, "Hi")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["code"], "DUPLICATE_POST");
    }
}
