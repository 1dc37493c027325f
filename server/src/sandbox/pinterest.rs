//! A local fake of Pinterest API v5 (`shared/platforms.md`, section 6): the consent screen, the
//! token endpoint, the user account, boards, pins of every source type (image URL, inline image,
//! carousel, video), the video media upload with its status sequence, a board's recent pins for
//! reconciliation, a pin's analytics, and the public page a pin's link points at.
//!
//! It owns one in-memory world (accounts, boards, pins, media, and the OAuth server of
//! [`kit::oauth`](super::kit::oauth)) behind [`PinterestFake`], a cheap handle tests keep to script
//! failures ([`PinterestFake::fail_next`]) and to look inside ([`PinterestFake::pins`],
//! [`PinterestFake::boards_of`], [`PinterestFake::media`], the counters). The router has its state
//! baked in, so it can be served at the root (tests) or nested under a prefix (`--sandbox`). The
//! one absolute URL it builds, the video `upload_url`, comes from the request that registered the
//! media (or [`PinterestFake::set_base_url`]), so it points back at the fake however it is reached.
//!
//! Where Pinterest is strict, so is the fake: the token endpoint takes the client only as HTTP
//! Basic, codes are single use, scopes are comma-separated and checked per call, `board_id` must be
//! numeric, text limits are Pinterest's (title 100, description 800, link 2,048, alt text 500),
//! a carousel has 2 to 5 images, inline images must really be images, a video pin needs a cover
//! and a media upload of this user that finished processing, and the upload must send every
//! `upload_parameters` field before `file`; analytics are the owner's only, for a date range of
//! at most 90 days ending no later than today, and grow with the pin's age on the fake's clock
//! ([`kit::engagement`](super::kit::engagement); outbound clicks only where the pin has a link).
//! Image URLs are never fetched: any http(s) URL is
//! accepted and recorded. Facts platforms.md does not give (error `code` numbers, the code
//! lifetime, size limits, rate-limit headers) are this fake's defaults and say so where declared.
//!
//! It trusts whoever reaches it and never logs a token or a code.

#![allow(clippy::result_large_err)] // a fake's errors are whole HTTP answers, made once per refused request

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::body::Bytes;
use axum::extract::{
    DefaultBodyLimit, FromRequest, Multipart, OriginalUri, Path, RawQuery, Request, State,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::kit::consent::{Consent, Decision, UsernameRule, consent_page, direct_consent};
use super::kit::control::{
    Control, ControlChoice, Recent, back_to_control, chosen_failure, control_page, standard_choices,
};
use super::kit::cursor::page_of;
use super::kit::engagement::Engagement;
use super::kit::ids::{IdSequence, random_hex, random_token};
use super::kit::oauth::{
    AuthorizationServer, BearerError, IssuedTokens, OAuthConfig, OAuthError, Pkce, RefreshPolicy,
    Rotation,
};
use super::kit::pages::{avatar_data_url, escape_html, found, page, refusal_page, stylesheet};
use super::kit::request::{
    Params, basic_credentials, bearer_token, own_base_url, parse_form, parse_query,
};
use super::kit::script::{Failure, Refusal, Script, answer};
use super::kit::{FakeControls, KitWorld};
use crate::clock::{SharedClock, SystemClock};

const PLATFORM: &str = "Pinterest";
/// The authorize page's path, as `https://www.pinterest.com/oauth/` has it (trailing slash).
const AUTHORIZE_PATH: &str = "/oauth/";

const ACCESS_TOKEN_LIFETIME_SECS: i64 = 30 * 86_400;
const REFRESH_TOKEN_LIFETIME_SECS: i64 = 365 * 86_400;
/// Pinterest does not document it (unverified): ten minutes, RFC 6749's recommended maximum.
const CODE_LIFETIME_SECS: i64 = 600;

const MAX_TITLE_CHARS: usize = 100;
/// The API spec's limit; platforms.md notes Ayrshare caps at 500.
const MAX_DESCRIPTION_CHARS: usize = 800;
const MAX_LINK_CHARS: usize = 2048;
const MAX_ALT_TEXT_CHARS: usize = 500;
const MIN_CAROUSEL_IMAGES: usize = 2;
const MAX_CAROUSEL_IMAGES: usize = 5;
const DEFAULT_PAGE_SIZE: usize = 25;
const MAX_PAGE_SIZE: usize = 250;
/// Pinterest's image limit (unverified: 20 MB).
const MAX_IMAGE_BYTES: usize = 20 * 1024 * 1024;
/// Room for the largest image in base64 plus the JSON around it, so an oversized image meets
/// Pinterest's 400 rather than axum's 413.
const PIN_BODY_LIMIT: usize = MAX_IMAGE_BYTES / 3 * 4 + 1024 * 1024;
/// Pinterest's video limit (unverified: 2 GB); the upload is counted, never kept.
const MAX_VIDEO_BYTES: u64 = 2 * 1024 * 1024 * 1024;
const UPLOAD_BODY_LIMIT: usize = 2 * 1024 * 1024 * 1024 + 1024 * 1024;
/// Where `upload_url` points, on the fake itself (live: an S3 bucket).
const UPLOAD_PATH: &str = "/media-upload/";

/// Ids look like Pinterest's numeric strings, so clients that parse or store them meet
/// realistic values.
const FIRST_ACCOUNT_ID: u64 = 549_755_813_001;
const FIRST_BOARD_ID: u64 = 1_022_106_121_000_000_001;
const FIRST_PIN_ID: u64 = 1_022_106_190_000_000_001;
const FIRST_MEDIA_ID: u64 = 5_144_290_000_000_001;

/// Pinterest's `code` values as this fake sends them. platforms.md fixes the envelope, not the
/// numbers: "Authentication failed." (2) is what Pinterest answers a bad token; 283 is what its
/// OAuth endpoint answered an invalid grant; the rest are this fake's own.
const CODE_INVALID_PARAMETERS: u32 = 1;
const CODE_AUTHENTICATION_FAILED: u32 = 2;
const CODE_NOT_AUTHORIZED: u32 = 3;
const CODE_NOT_FOUND: u32 = 4;
const CODE_CONFLICT: u32 = 5;
const CODE_RATE_LIMITED: u32 = 8;
const CODE_SERVER_ERROR: u32 = 12;
const CODE_INVALID_GRANT: u32 = 283;

const BOARD_NOT_FOUND: &str = "Board not found.";

/// Every scope Pinterest's OAuth knows; anything else is refused at the consent screen.
const KNOWN_SCOPES: &[&str] = &[
    "ads:read",
    "ads:write",
    "billing:read",
    "billing:write",
    "biz_access:read",
    "biz_access:write",
    "boards:read",
    "boards:read_secret",
    "boards:write",
    "boards:write_secret",
    "catalogs:read",
    "catalogs:write",
    "pins:read",
    "pins:read_secret",
    "pins:write",
    "pins:write_secret",
    "user_accounts:read",
];
/// The scopes each call needs (platforms.md: `boards:read pins:read pins:write
/// user_accounts:read`, plus `boards:write` to create boards).
const USER_ACCOUNT_SCOPES: &[&str] = &["user_accounts:read"];
const LIST_BOARDS_SCOPES: &[&str] = &["boards:read"];
const CREATE_BOARD_SCOPES: &[&str] = &["boards:write"];
const CREATE_PIN_SCOPES: &[&str] = &["boards:read", "pins:write"];
const READ_PIN_SCOPES: &[&str] = &["pins:read"];
const BOARD_PINS_SCOPES: &[&str] = &["boards:read", "pins:read"];
const REGISTER_MEDIA_SCOPES: &[&str] = &["pins:write"];
const MEDIA_STATUS_SCOPES: &[&str] = &["pins:read"];
const PIN_ANALYTICS_SCOPES: &[&str] = &["pins:read", "user_accounts:read"];
/// Pin analytics reach this many days back, today included.
const ANALYTICS_DAYS: i64 = 90;
/// The pin metric types the fake reports.
const PIN_METRIC_TYPES: &[&str] = &["IMPRESSION", "SAVE", "PIN_CLICK", "OUTBOUND_CLICK"];

const USERNAMES: UsernameRule = UsernameRule {
    max_len: 30,
    extra_chars: "_",
    default: "sandbox_pinner",
};
const DEFAULT_BOARD_NAME: &str = "Sandbox board";

/// Stylesheet hrefs relative to each page: `/oauth/`, `/pin/{id}/`, `/_control`.
const CONSENT_STYLESHEET: &str = "../sandbox.css";
const PIN_PAGE_STYLESHEET: &str = "../../sandbox.css";
const CONTROL_STYLESHEET: &str = "sandbox.css";

/// The fake's API endpoints, for scripting failures and counting requests. The consent screen and
/// the pin page are pages, not API calls, so they are not among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST /v5/oauth/token`, both grant types.
    Token,
    /// `GET /v5/user_account`.
    UserAccount,
    /// `GET /v5/boards`.
    ListBoards,
    /// `POST /v5/boards`.
    CreateBoard,
    /// `POST /v5/pins`.
    CreatePin,
    /// `GET /v5/pins/{pin_id}`.
    GetPin,
    /// `GET /v5/boards/{board_id}/pins`.
    BoardPins,
    /// `POST /v5/media`.
    RegisterMedia,
    /// `POST {upload_url}`: the file upload (live: S3, answering in S3's XML).
    UploadMedia,
    /// `GET /v5/media/{media_id}`.
    GetMedia,
    /// `GET /v5/pins/{pin_id}/analytics`.
    PinAnalytics,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoardPrivacy {
    Public,
    Protected,
    Secret,
}

impl BoardPrivacy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "PUBLIC",
            Self::Protected => "PROTECTED",
            Self::Secret => "SECRET",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        match value {
            "PUBLIC" => Some(Self::Public),
            "PROTECTED" => Some(Self::Protected),
            "SECRET" => Some(Self::Secret),
            _ => None,
        }
    }
}

/// A board as the fake stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeBoard {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    pub description: Option<String>,
    pub privacy: BoardPrivacy,
    pub created_at: DateTime<Utc>,
}

/// A pin as the fake stored it, with every URL it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakePin {
    pub id: String,
    pub board_id: String,
    pub owner_id: String,
    pub owner_username: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub link: Option<String>,
    pub alt_text: Option<String>,
    pub media: PinMedia,
    pub created_at: DateTime<Utc>,
}

impl FakePin {
    /// Every image URL the pin was created with (a video's cover included), in order.
    pub fn image_urls(&self) -> Vec<&str> {
        match &self.media {
            PinMedia::ImageUrl { url } => vec![url.as_str()],
            PinMedia::ImageBase64 { .. } => Vec::new(),
            PinMedia::MultipleImageUrls { items } => {
                items.iter().map(|item| item.url.as_str()).collect()
            }
            PinMedia::Video {
                cover_image_url, ..
            } => vec![cover_image_url.as_str()],
        }
    }
}

/// What a pin was made from: its `media_source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinMedia {
    ImageUrl {
        url: String,
    },
    /// Inline bytes, checked and counted, not kept.
    ImageBase64 {
        content_type: String,
        size_bytes: usize,
    },
    MultipleImageUrls {
        items: Vec<CarouselImage>,
    },
    Video {
        media_id: String,
        cover_image_url: String,
    },
}

/// One image of a carousel pin.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CarouselImage {
    pub url: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub link: Option<String>,
}

/// Where a registered video is: `registered` until uploaded, then whatever the status sequence
/// says on each poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaStatus {
    Registered,
    Processing,
    Succeeded,
    Failed,
}

impl MediaStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::Processing => "processing",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

/// A registered video as the fake stored it (only its size: the bytes are not kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeMedia {
    pub id: String,
    pub owner_id: String,
    pub status: MediaStatus,
    /// `None` until the upload arrived.
    pub uploaded_bytes: Option<u64>,
    pub created_at: DateTime<Utc>,
}

/// A handle on one fake Pinterest that knows one confidential app. Clones share the same world.
#[derive(Clone)]
pub struct PinterestFake {
    world: Arc<Mutex<World>>,
    clock: SharedClock,
}

impl fmt::Debug for PinterestFake {
    // The world holds tokens; printing them would gain a failing test nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinterestFake").finish_non_exhaustive()
    }
}

impl PinterestFake {
    /// A fake Pinterest whose one registered app has these credentials, telling the real time.
    pub fn new(client_id: &str, client_secret: &str) -> Self {
        Self::with_clock(client_id, client_secret, Arc::new(SystemClock))
    }

    /// As [`PinterestFake::new`], telling time by `clock`: a `ManualClock` lets a test expire
    /// codes and tokens without waiting. (`Slow` failures and latency still sleep in real time.)
    pub fn with_clock(client_id: &str, client_secret: &str, clock: SharedClock) -> Self {
        Self {
            world: Arc::new(Mutex::new(World::new(client_id, client_secret))),
            clock,
        }
    }

    /// All the fake's routes, relative to wherever the router is served or nested. The authorize
    /// page lives on the API's host here; configure both base URLs with the fake's address.
    pub fn router(&self) -> Router {
        Router::new()
            .route(AUTHORIZE_PATH, get(show_consent).post(record_decision))
            .route("/v5/oauth/token", post(exchange_token))
            .route("/v5/user_account", get(user_account))
            .route("/v5/boards", get(list_boards).post(create_board))
            .route("/v5/boards/{board_id}/pins", get(board_pins))
            .route(
                "/v5/pins",
                post(create_pin).layer(DefaultBodyLimit::max(PIN_BODY_LIMIT)),
            )
            .route("/v5/pins/{pin_id}", get(get_pin))
            .route("/v5/pins/{pin_id}/analytics", get(pin_analytics))
            .route("/v5/media", post(register_media))
            .route("/v5/media/{media_id}", get(media_status))
            .route(
                UPLOAD_PATH,
                post(upload_media).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
            )
            .route("/pin/{pin_id}/", get(show_pin))
            .route("/sandbox.css", get(stylesheet))
            .route("/_control", get(show_control).post(arm_control))
            .with_state(self.clone())
    }

    /// The absolute URL the fake is reached at (e.g. `http://127.0.0.1:4321`, or
    /// `https://app.example/sandbox/pinterest`), for the `upload_url` it hands out. Without it,
    /// the URL is taken from each `POST /v5/media` request's Host and path.
    pub fn set_base_url(&self, base_url: &str) {
        self.lock().base_url = Some(base_url.trim_end_matches('/').to_owned());
    }

    /// How long access tokens issued from now on live (default 30 days; 0 or less issues tokens
    /// that are already expired).
    pub fn set_access_token_lifetime(&self, secs: i64) {
        self.lock()
            .oauth
            .set_access_token_lifetime(Some(TimeDelta::seconds(secs)));
    }

    /// Queues `failures` for `endpoint`: each later request to it takes the next one, in order.
    pub fn fail_next(&self, endpoint: Endpoint, failures: impl IntoIterator<Item = Failure>) {
        // Collected first, so a caller's iterator never runs while the world is locked.
        let failures: Vec<Failure> = failures.into_iter().collect();
        self.lock().script.fail_next(endpoint, failures);
    }

    /// What videos uploaded from now on report on successive `GET /v5/media/{id}` polls; the
    /// last status stays. Default `[processing, succeeded]`; `[processing, failed]` makes
    /// processing fail. An empty sequence leaves uploads `registered`.
    pub fn set_media_status_sequence(&self, statuses: Vec<MediaStatus>) {
        self.lock().media_statuses = statuses;
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

    /// The id of the sandbox account with this username (case-insensitive), once it exists.
    pub fn account_id(&self, username: &str) -> Option<String> {
        self.lock()
            .account_named(username)
            .map(|account| account.id.clone())
    }

    /// Adds a public board to `username`'s account (made if new, with its default board first),
    /// as if the user had created it on Pinterest.
    pub fn add_board(&self, username: &str, name: &str) -> FakeBoard {
        let now = self.now();
        let mut world = self.lock();
        let owner = world.account_for(username, now);
        world.store_board(&owner.id, name.to_owned(), None, BoardPrivacy::Public, now)
    }

    /// The boards of `username`'s account, oldest first (the order the API lists them in).
    pub fn boards_of(&self, username: &str) -> Vec<FakeBoard> {
        let world = self.lock();
        let Some(owner) = world.account_named(username) else {
            return Vec::new();
        };
        world
            .boards
            .iter()
            .filter(|board| board.owner_id == owner.id)
            .cloned()
            .collect()
    }

    /// Every pin created so far, oldest first.
    pub fn pins(&self) -> Vec<FakePin> {
        self.lock().pins.clone()
    }

    pub fn pin_count(&self) -> usize {
        self.lock().pins.len()
    }

    /// Every video registered so far, oldest first.
    pub fn media(&self) -> Vec<FakeMedia> {
        self.lock()
            .media
            .iter()
            .map(|record| record.media.clone())
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
    /// around `work`, in Pinterest's envelope.
    async fn answer(&self, endpoint: Endpoint, work: impl Future<Output = Response>) -> Response {
        let turn = self.lock().script.begin(endpoint);
        answer(turn, |refusal| scripted_refusal(endpoint, refusal), work).await
    }

    /// The upload's work. S3 checks the form fields before it takes the file; so does the fake,
    /// then it counts the file's bytes as they stream in, without keeping them.
    async fn receive_upload(&self, request: Request) -> Response {
        let mut multipart = match <Multipart as FromRequest<()>>::from_request(request, &()).await {
            Ok(multipart) => multipart,
            Err(rejection) => {
                return s3_error(
                    StatusCode::BAD_REQUEST,
                    "MalformedPOSTRequest",
                    &rejection.to_string(),
                );
            }
        };
        let mut fields: Vec<(String, String)> = Vec::new();
        let mut media_id: Option<String> = None;
        let mut size: u64 = 0;
        loop {
            let mut field = match multipart.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => break,
                Err(error) => {
                    return s3_error(
                        StatusCode::BAD_REQUEST,
                        "MalformedPOSTRequest",
                        &error.to_string(),
                    );
                }
            };
            let name = field.name().unwrap_or_default().to_owned();
            if media_id.is_some() {
                return s3_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidArgument",
                    &format!(
                        "Field {name} came after file: every upload_parameters field goes before it."
                    ),
                );
            }
            if name != "file" {
                match field.text().await {
                    Ok(value) => fields.push((name, value)),
                    Err(error) => {
                        return s3_error(
                            StatusCode::BAD_REQUEST,
                            "MalformedPOSTRequest",
                            &error.to_string(),
                        );
                    }
                }
                continue;
            }
            let checked = self.lock().check_upload_fields(&fields);
            media_id = match checked {
                Ok(id) => Some(id),
                Err(refusal) => return refusal,
            };
            loop {
                match field.chunk().await {
                    Ok(Some(chunk)) => size += chunk.len() as u64,
                    Ok(None) => break,
                    Err(error) => {
                        return s3_error(
                            StatusCode::BAD_REQUEST,
                            "IncompleteBody",
                            &error.to_string(),
                        );
                    }
                }
                if size > MAX_VIDEO_BYTES {
                    return s3_error(
                        StatusCode::BAD_REQUEST,
                        "EntityTooLarge",
                        &format!(
                            "Your proposed upload exceeds the maximum allowed size ({MAX_VIDEO_BYTES} bytes)."
                        ),
                    );
                }
            }
        }
        let Some(media_id) = media_id else {
            return s3_error(
                StatusCode::BAD_REQUEST,
                "InvalidArgument",
                "POST requires exactly one file upload per request.",
            );
        };
        if size == 0 {
            return s3_error(
                StatusCode::BAD_REQUEST,
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size.",
            );
        }
        self.lock().finish_upload(&media_id, size);
        StatusCode::NO_CONTENT.into_response()
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers: parse the request, hand the work to `PinterestFake::answer`.

async fn show_consent(State(fake): State<PinterestFake>, RawQuery(query): RawQuery) -> Response {
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

async fn record_decision(State(fake): State<PinterestFake>, body: Bytes) -> Response {
    let params = parse_form(&body);
    let now = fake.now();
    let outcome = fake.lock().decide(&params, now);
    match outcome {
        Ok(location) => found(&location),
        Err(problem) => refusal_page(PLATFORM, &problem, CONSENT_STYLESHEET),
    }
}

async fn exchange_token(
    State(fake): State<PinterestFake>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = parse_form(&body);
    fake.lock()
        .oauth
        .count_token_request(params.get("grant_type").map(String::as_str));
    fake.answer(Endpoint::Token, async {
        let now = fake.now();
        fake.lock().token(&headers, &params, now)
    })
    .await
}

async fn user_account(State(fake): State<PinterestFake>, headers: HeaderMap) -> Response {
    fake.answer(Endpoint::UserAccount, async {
        let now = fake.now();
        fake.lock().user_account(&headers, now)
    })
    .await
}

async fn list_boards(
    State(fake): State<PinterestFake>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = parse_query(query.as_deref());
    fake.answer(Endpoint::ListBoards, async {
        let now = fake.now();
        fake.lock().list_boards(&headers, &query, now)
    })
    .await
}

async fn create_board(
    State(fake): State<PinterestFake>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    fake.answer(Endpoint::CreateBoard, async {
        let now = fake.now();
        fake.lock().create_board(&headers, &body, now)
    })
    .await
}

async fn create_pin(
    State(fake): State<PinterestFake>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    fake.answer(Endpoint::CreatePin, async {
        let now = fake.now();
        fake.lock().create_pin(&headers, &body, now)
    })
    .await
}

async fn get_pin(
    State(fake): State<PinterestFake>,
    Path(pin_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    fake.answer(Endpoint::GetPin, async {
        let now = fake.now();
        fake.lock().get_pin(&headers, &pin_id, now)
    })
    .await
}

async fn pin_analytics(
    State(fake): State<PinterestFake>,
    Path(pin_id): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = parse_query(query.as_deref());
    fake.answer(Endpoint::PinAnalytics, async {
        let now = fake.now();
        fake.lock().pin_analytics(&headers, &pin_id, &query, now)
    })
    .await
}

async fn board_pins(
    State(fake): State<PinterestFake>,
    Path(board_id): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = parse_query(query.as_deref());
    fake.answer(Endpoint::BoardPins, async {
        let now = fake.now();
        fake.lock().board_pins(&headers, &board_id, &query, now)
    })
    .await
}

async fn register_media(
    State(fake): State<PinterestFake>,
    OriginalUri(original): OriginalUri,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reached_at = own_base_url(&headers, &original, &uri);
    fake.answer(Endpoint::RegisterMedia, async {
        let now = fake.now();
        fake.lock()
            .register_media(&headers, &body, &reached_at, now)
    })
    .await
}

async fn upload_media(State(fake): State<PinterestFake>, request: Request) -> Response {
    fake.answer(Endpoint::UploadMedia, fake.receive_upload(request))
        .await
}

async fn media_status(
    State(fake): State<PinterestFake>,
    Path(media_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    fake.answer(Endpoint::GetMedia, async {
        let now = fake.now();
        fake.lock().poll_media(&headers, &media_id, now)
    })
    .await
}

async fn show_pin(State(fake): State<PinterestFake>, Path(pin_id): Path<String>) -> Response {
    let shown = fake.lock().pin_with_board(&pin_id);
    match shown {
        Some((pin, board)) => Html(pin_page(&pin, &board)).into_response(),
        None => (StatusCode::NOT_FOUND, Html(missing_pin_page())).into_response(),
    }
}

/// The failures the control page offers, by form value.
fn control_choices() -> Vec<ControlChoice> {
    standard_choices("Invalid request: the link is not a valid URL.")
}

/// `GET /_control`: arm a failure for the next pin, see what the sandbox holds.
async fn show_control(State(fake): State<PinterestFake>) -> Response {
    let choices = control_choices();
    let (armed, recent) = {
        let world = fake.lock();
        let recent: Vec<Recent> = world
            .pins
            .iter()
            .rev()
            .take(20)
            .map(|pin| Recent {
                href: format!("pin/{}/", pin.id),
                text: format!("{}: {}", pin.owner_username, pin_caption(pin)),
            })
            .collect();
        (world.script.armed(Endpoint::CreatePin), recent)
    };
    Html(control_page(&Control {
        platform: PLATFORM,
        item: "pin",
        choices: &choices,
        own_choices: &[],
        armed,
        recent: &recent,
        stylesheet: CONTROL_STYLESHEET,
    }))
    .into_response()
}

async fn arm_control(State(fake): State<PinterestFake>, body: Bytes) -> Response {
    match chosen_failure(&control_choices(), &parse_form(&body)) {
        Some(failure) => {
            fake.fail_next(Endpoint::CreatePin, [failure]);
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
    accounts: Vec<Account>,
    boards: Vec<FakeBoard>,
    pins: Vec<FakePin>,
    media: Vec<MediaRecord>,
    media_statuses: Vec<MediaStatus>,
    account_ids: IdSequence,
    board_ids: IdSequence,
    pin_ids: IdSequence,
    media_ids: IdSequence,
}

#[derive(Debug, Clone)]
struct Account {
    id: String,
    username: String,
}

#[derive(Debug)]
struct MediaRecord {
    media: FakeMedia,
    /// The form fields the upload must carry, exactly.
    upload_parameters: Vec<(&'static str, String)>,
    /// The statuses later polls will report, front first.
    upcoming: VecDeque<MediaStatus>,
}

/// The body of `POST /v5/pins`. Fields the fake does not check (`dominant_color`,
/// `board_section_id`, ...) are ignored, as Pinterest accepts them.
#[derive(Debug, Deserialize)]
struct NewPin {
    board_id: Option<String>,
    title: Option<String>,
    description: Option<String>,
    link: Option<String>,
    alt_text: Option<String>,
    media_source: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "source_type", rename_all = "snake_case")]
enum MediaSource {
    ImageUrl {
        url: String,
    },
    ImageBase64 {
        content_type: String,
        data: String,
    },
    MultipleImageUrls {
        items: Vec<CarouselImage>,
    },
    VideoId {
        media_id: String,
        cover_image_url: Option<String>,
    },
}

#[derive(Debug, Deserialize)]
struct NewBoard {
    name: Option<String>,
    description: Option<String>,
    privacy: Option<String>,
}

#[derive(Debug, Deserialize)]
struct NewMedia {
    media_type: Option<String>,
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
                state_required: false,
                code_lifetime: TimeDelta::seconds(CODE_LIFETIME_SECS),
                access_token_lifetime: Some(TimeDelta::seconds(ACCESS_TOKEN_LIFETIME_SECS)),
                refresh: Some(RefreshPolicy {
                    lifetime: Some(TimeDelta::seconds(REFRESH_TOKEN_LIFETIME_SECS)),
                    rotation: Rotation::Keep,
                    only_with_scope: None,
                }),
                access_token_prefix: "pina_",
                refresh_token_prefix: "pinr_",
            }),
            script: Script::default(),
            base_url: None,
            accounts: Vec::new(),
            boards: Vec::new(),
            pins: Vec::new(),
            media: Vec::new(),
            media_statuses: vec![MediaStatus::Processing, MediaStatus::Succeeded],
            account_ids: IdSequence::starting_at(FIRST_ACCOUNT_ID),
            board_ids: IdSequence::starting_at(FIRST_BOARD_ID),
            pin_ids: IdSequence::starting_at(FIRST_PIN_ID),
            media_ids: IdSequence::starting_at(FIRST_MEDIA_ID),
        }
    }

    // --- Consent and accounts -----------------------------------------------------------------

    /// The consent's outcome, as the URL Pinterest would redirect the browser to. Shared by the
    /// form handler and [`PinterestFake::authorize_directly`], so both check the same things.
    fn decide(&mut self, params: &Params, now: DateTime<Utc>) -> Result<String, String> {
        let request = self.oauth.check_authorize(params)?;
        match Decision::from_form(params)? {
            Decision::Deny => Ok(request.denied_location()),
            Decision::Allow { username } => {
                USERNAMES.check(&username)?;
                let account = self.account_for(&username, now);
                Ok(self.oauth.approve(request, &account.id, now))
            }
        }
    }

    fn account_named(&self, username: &str) -> Option<&Account> {
        self.accounts
            .iter()
            .find(|account| account.username.eq_ignore_ascii_case(username))
    }

    /// The sandbox account with this username, made on first use with one board, so a new
    /// account has somewhere to pin.
    fn account_for(&mut self, username: &str, now: DateTime<Utc>) -> Account {
        if let Some(account) = self.account_named(username) {
            return account.clone();
        }
        let account = Account {
            id: self.account_ids.next_id(),
            username: username.to_owned(),
        };
        self.accounts.push(account.clone());
        self.store_board(
            &account.id,
            DEFAULT_BOARD_NAME.to_owned(),
            None,
            BoardPrivacy::Public,
            now,
        );
        account
    }

    /// The account behind a live bearer token carrying `scopes`, or Pinterest's 401/403.
    fn authenticate(
        &self,
        headers: &HeaderMap,
        scopes: &[&str],
        now: DateTime<Utc>,
    ) -> Result<Account, Response> {
        let grant = self
            .oauth
            .authenticate(bearer_token(headers), scopes, now)
            .map_err(bearer_refusal)?;
        self.accounts
            .iter()
            .find(|account| account.id == grant.account_id)
            .cloned()
            .ok_or_else(|| bearer_refusal(BearerError::Unknown))
    }

    // --- Tokens -------------------------------------------------------------------------------

    /// Pinterest keeps the refresh token unless the client asks for continuous refresh
    /// (`refresh_on`, or `continuous_refresh=true`), which spends it for a fresh one.
    fn token(&mut self, headers: &HeaderMap, params: &Params, now: DateTime<Utc>) -> Response {
        let continuous = params.contains_key("refresh_on")
            || params.get("continuous_refresh").map(String::as_str) == Some("true");
        let rotation = continuous.then_some(Rotation::Rotate);
        let client = basic_credentials(headers);
        match self
            .oauth
            .token_request(client.as_ref(), params, rotation, now)
        {
            Ok(tokens) => {
                let response_type = match params.get("grant_type").map(String::as_str) {
                    Some("authorization_code") => "authorization_code",
                    _ if continuous => "everlasting_refresh",
                    _ => "refresh_token",
                };
                Json(token_json(&tokens, response_type)).into_response()
            }
            Err(error) => oauth_refusal(&error),
        }
    }

    // --- Account and boards -------------------------------------------------------------------

    fn user_account(&self, headers: &HeaderMap, now: DateTime<Utc>) -> Response {
        let account = match self.authenticate(headers, USER_ACCOUNT_SCOPES, now) {
            Ok(account) => account,
            Err(refusal) => return refusal,
        };
        let board_count = self.boards_owned_by(&account.id).count();
        let pin_count = self
            .pins
            .iter()
            .filter(|pin| pin.owner_id == account.id)
            .count();
        Json(json!({
            "account_type": "BUSINESS",
            "id": account.id,
            "username": account.username,
            "profile_image": avatar_data_url(&account.username),
            "website_url": "",
            "business_name": account.username,
            "about": "",
            "board_count": board_count,
            "pin_count": pin_count,
            "follower_count": 0,
            "following_count": 0,
            "monthly_views": 0,
        }))
        .into_response()
    }

    fn boards_owned_by<'a>(&'a self, owner_id: &'a str) -> impl Iterator<Item = &'a FakeBoard> {
        self.boards
            .iter()
            .filter(move |board| board.owner_id == owner_id)
    }

    fn list_boards(&self, headers: &HeaderMap, query: &Params, now: DateTime<Utc>) -> Response {
        let owner = match self.authenticate(headers, LIST_BOARDS_SCOPES, now) {
            Ok(account) => account,
            Err(refusal) => return refusal,
        };
        let size = match page_size(query) {
            Ok(size) => size,
            Err(refusal) => return refusal,
        };
        let page = match page_of(
            self.boards_owned_by(&owner.id),
            |board| board.id.as_str(),
            size,
            query.get("bookmark").map(String::as_str),
        ) {
            Ok(page) => page,
            Err(_) => return invalid("Invalid bookmark: it was not issued for this list."),
        };
        let items: Vec<Value> = page
            .items
            .iter()
            .map(|board| self.board_json(board, &owner))
            .collect();
        Json(json!({ "items": items, "bookmark": page.next })).into_response()
    }

    fn create_board(&mut self, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>) -> Response {
        let owner = match self.authenticate(headers, CREATE_BOARD_SCOPES, now) {
            Ok(account) => account,
            Err(refusal) => return refusal,
        };
        let request: NewBoard = match serde_json::from_slice(body) {
            Ok(request) => request,
            Err(error) => return invalid(&format!("Invalid request body: {error}")),
        };
        let Some(name) = request.name.filter(|name| !name.trim().is_empty()) else {
            return invalid("Invalid request: 'name' is a required property.");
        };
        let privacy = match request.privacy.as_deref() {
            None => BoardPrivacy::Public,
            Some(value) => match BoardPrivacy::parse(value) {
                Some(privacy) => privacy,
                None => {
                    return invalid(&format!(
                        "Invalid request: privacy '{value}' is not one of PUBLIC, PROTECTED, SECRET."
                    ));
                }
            },
        };
        let board = self.store_board(&owner.id, name, request.description, privacy, now);
        (StatusCode::CREATED, Json(self.board_json(&board, &owner))).into_response()
    }

    fn store_board(
        &mut self,
        owner_id: &str,
        name: String,
        description: Option<String>,
        privacy: BoardPrivacy,
        now: DateTime<Utc>,
    ) -> FakeBoard {
        let board = FakeBoard {
            id: self.board_ids.next_id(),
            owner_id: owner_id.to_owned(),
            name,
            description,
            privacy,
            created_at: now,
        };
        self.boards.push(board.clone());
        board
    }

    fn board_json(&self, board: &FakeBoard, owner: &Account) -> Value {
        let pin_count = self
            .pins
            .iter()
            .filter(|pin| pin.board_id == board.id)
            .count();
        json!({
            "id": board.id,
            "name": board.name,
            "description": board.description.clone().unwrap_or_default(),
            "privacy": board.privacy.as_str(),
            "owner": { "username": owner.username },
            "created_at": pinterest_timestamp(board.created_at),
            "pin_count": pin_count,
            "follower_count": 0,
            "collaborator_count": 0,
        })
    }

    /// The caller's own board with this id: 400 when the id cannot be a board id, 404 when it is
    /// unknown or someone else's (Pinterest does not tell the two apart).
    fn own_board(&self, owner: &Account, board_id: &str) -> Result<&FakeBoard, Response> {
        check_board_id(board_id)?;
        self.boards
            .iter()
            .find(|board| board.id == board_id && board.owner_id == owner.id)
            .ok_or_else(|| error(StatusCode::NOT_FOUND, CODE_NOT_FOUND, BOARD_NOT_FOUND))
    }

    // --- Pins ---------------------------------------------------------------------------------

    fn create_pin(&mut self, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>) -> Response {
        let owner = match self.authenticate(headers, CREATE_PIN_SCOPES, now) {
            Ok(account) => account,
            Err(refusal) => return refusal,
        };
        let (request, media) = match parse_new_pin(body) {
            Ok(parsed) => parsed,
            Err(refusal) => return refusal,
        };
        let board_id = request.board_id.unwrap_or_default();
        if let Err(refusal) = self.own_board(&owner, &board_id) {
            return refusal;
        }
        if let PinMedia::Video { media_id, .. } = &media
            && let Err(refusal) = self.check_video(&owner, media_id)
        {
            return refusal;
        }
        let pin = FakePin {
            id: self.pin_ids.next_id(),
            board_id,
            owner_id: owner.id.clone(),
            owner_username: owner.username.clone(),
            title: request.title,
            description: request.description,
            link: request.link,
            alt_text: request.alt_text,
            media,
            created_at: now,
        };
        self.pins.push(pin.clone());
        (StatusCode::CREATED, Json(pin_json(&pin))).into_response()
    }

    /// A video pin needs this user's own upload, finished processing.
    fn check_video(&self, owner: &Account, media_id: &str) -> Result<(), Response> {
        let record = self
            .media
            .iter()
            .find(|record| record.media.id == media_id && record.media.owner_id == owner.id)
            .ok_or_else(|| {
                invalid(&format!(
                    "Invalid request: media_id '{media_id}' is not a video this user uploaded."
                ))
            })?;
        match record.media.status {
            MediaStatus::Succeeded => Ok(()),
            status => Err(invalid(&format!(
                "Invalid request: media {media_id} is not ready to be pinned: its status is {}.",
                status.as_str()
            ))),
        }
    }

    fn get_pin(&self, headers: &HeaderMap, pin_id: &str, now: DateTime<Utc>) -> Response {
        let owner = match self.authenticate(headers, READ_PIN_SCOPES, now) {
            Ok(account) => account,
            Err(refusal) => return refusal,
        };
        match self
            .pins
            .iter()
            .find(|pin| pin.id == pin_id && pin.owner_id == owner.id)
        {
            Some(pin) => Json(pin_json(pin)).into_response(),
            None => error(StatusCode::NOT_FOUND, CODE_NOT_FOUND, "Pin not found."),
        }
    }

    /// The owner's figures for a pin over `start_date..=end_date`: each day's, and their sum.
    fn pin_analytics(
        &self,
        headers: &HeaderMap,
        pin_id: &str,
        query: &Params,
        now: DateTime<Utc>,
    ) -> Response {
        let owner = match self.authenticate(headers, PIN_ANALYTICS_SCOPES, now) {
            Ok(account) => account,
            Err(refusal) => return refusal,
        };
        let Some(pin) = self
            .pins
            .iter()
            .find(|pin| pin.id == pin_id && pin.owner_id == owner.id)
        else {
            return error(StatusCode::NOT_FOUND, CODE_NOT_FOUND, "Pin not found.");
        };
        let date = |name: &str| -> Result<chrono::NaiveDate, Response> {
            let raw = query
                .get(name)
                .ok_or_else(|| invalid(&format!("{name} is required.")))?;
            raw.parse()
                .map_err(|_| invalid(&format!("{name} must be a date like 2027-05-04.")))
        };
        let (start, end) = match (date("start_date"), date("end_date")) {
            (Ok(start), Ok(end)) => (start, end),
            (Err(refusal), _) | (_, Err(refusal)) => return refusal,
        };
        let today = now.date_naive();
        if start > end || end > today || (today - start).num_days() >= ANALYTICS_DAYS {
            return invalid(&format!(
                "The date range must end no later than today and start at most {ANALYTICS_DAYS} days ago."
            ));
        }
        let wanted: Vec<&str> = query
            .get("metric_types")
            .map(|raw| {
                raw.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if wanted.is_empty() {
            return invalid("metric_types is required.");
        }
        if let Some(unknown) = wanted.iter().find(|t| !PIN_METRIC_TYPES.contains(t)) {
            return invalid(&format!("{unknown} is not a valid pin metric type."));
        }
        let at = |moment: DateTime<Utc>| Engagement::of(&pin.id, pin.created_at, moment.min(now));
        let has_link = pin.link.is_some();
        let figures = |numbers: Engagement| -> Value {
            let mut metrics = serde_json::Map::new();
            for &name in &wanted {
                let value = match name {
                    "IMPRESSION" => numbers.views,
                    "SAVE" => numbers.shares,
                    "PIN_CLICK" => numbers.clicks,
                    _ if has_link => numbers.link_clicks,
                    _ => 0,
                };
                metrics.insert(name.to_owned(), Value::from(value));
            }
            Value::Object(metrics)
        };
        let mut daily = Vec::new();
        for day in start.iter_days().take_while(|day| *day <= end) {
            let from = day.and_time(chrono::NaiveTime::MIN).and_utc();
            let to = from + TimeDelta::days(1);
            // Pinterest finishes a day's figures after the day is over.
            let status = if day < today { "READY" } else { "PROCESSING" };
            daily.push(json!({
                "date": day.to_string(),
                "data_status": status,
                "metrics": figures(at(to).since(at(from))),
            }));
        }
        let range_start = start.and_time(chrono::NaiveTime::MIN).and_utc();
        let range_end = end.and_time(chrono::NaiveTime::MIN).and_utc() + TimeDelta::days(1);
        Json(json!({ "all": {
            "daily_metrics": daily,
            "summary_metrics": figures(at(range_end).since(at(range_start))),
            "lifetime_metrics": figures(at(now)),
        }}))
        .into_response()
    }

    /// The board's pins, newest first: what reconciliation reads after an unknown outcome.
    fn board_pins(
        &self,
        headers: &HeaderMap,
        board_id: &str,
        query: &Params,
        now: DateTime<Utc>,
    ) -> Response {
        let owner = match self.authenticate(headers, BOARD_PINS_SCOPES, now) {
            Ok(account) => account,
            Err(refusal) => return refusal,
        };
        if let Err(refusal) = self.own_board(&owner, board_id) {
            return refusal;
        }
        let size = match page_size(query) {
            Ok(size) => size,
            Err(refusal) => return refusal,
        };
        let newest_first = self
            .pins
            .iter()
            .rev()
            .filter(|pin| pin.board_id == board_id);
        let page = match page_of(
            newest_first,
            |pin| pin.id.as_str(),
            size,
            query.get("bookmark").map(String::as_str),
        ) {
            Ok(page) => page,
            Err(_) => return invalid("Invalid bookmark: it was not issued for this list."),
        };
        let items: Vec<Value> = page.items.iter().map(|pin| pin_json(pin)).collect();
        Json(json!({ "items": items, "bookmark": page.next })).into_response()
    }

    fn pin_with_board(&self, pin_id: &str) -> Option<(FakePin, FakeBoard)> {
        let pin = self.pins.iter().find(|pin| pin.id == pin_id)?;
        let board = self.boards.iter().find(|board| board.id == pin.board_id)?;
        Some((pin.clone(), board.clone()))
    }

    // --- Video media --------------------------------------------------------------------------

    fn register_media(
        &mut self,
        headers: &HeaderMap,
        body: &[u8],
        reached_at: &str,
        now: DateTime<Utc>,
    ) -> Response {
        let owner = match self.authenticate(headers, REGISTER_MEDIA_SCOPES, now) {
            Ok(account) => account,
            Err(refusal) => return refusal,
        };
        let request: NewMedia = match serde_json::from_slice(body) {
            Ok(request) => request,
            Err(error) => return invalid(&format!("Invalid request body: {error}")),
        };
        if request.media_type.as_deref() != Some("video") {
            return invalid("Invalid request: media_type must be 'video'.");
        }
        let id = self.media_ids.next_id();
        let upload_parameters = upload_parameters(&id, now);
        let upload_url = format!(
            "{}{UPLOAD_PATH}",
            self.base_url.as_deref().unwrap_or(reached_at)
        );
        let parameters: serde_json::Map<String, Value> = upload_parameters
            .iter()
            .map(|(name, value)| ((*name).to_owned(), Value::from(value.as_str())))
            .collect();
        self.media.push(MediaRecord {
            media: FakeMedia {
                id: id.clone(),
                owner_id: owner.id,
                status: MediaStatus::Registered,
                uploaded_bytes: None,
                created_at: now,
            },
            upload_parameters,
            upcoming: VecDeque::new(),
        });
        (
            StatusCode::CREATED,
            Json(json!({
                "media_id": id,
                "media_type": "video",
                "upload_url": upload_url,
                "upload_parameters": parameters,
            })),
        )
            .into_response()
    }

    /// Which registered media the upload's fields are for, once every field matches what was
    /// handed out; S3's 403 otherwise.
    fn check_upload_fields(&self, fields: &[(String, String)]) -> Result<String, Response> {
        let sent = |name: &str| {
            fields
                .iter()
                .find(|(field, _)| field == name)
                .map(|(_, value)| value.as_str())
        };
        let record = sent("key")
            .and_then(|key| {
                self.media.iter().find(|record| {
                    record
                        .upload_parameters
                        .iter()
                        .any(|(name, value)| *name == "key" && value == key)
                })
            })
            .ok_or_else(|| {
                s3_error(
                    StatusCode::FORBIDDEN,
                    "AccessDenied",
                    "Invalid according to Policy: the key was not issued.",
                )
            })?;
        if let Some((name, _)) = record
            .upload_parameters
            .iter()
            .find(|(name, value)| sent(name) != Some(value.as_str()))
        {
            return Err(s3_error(
                StatusCode::FORBIDDEN,
                "AccessDenied",
                &format!("Invalid according to Policy: field {name} is missing or altered."),
            ));
        }
        if record.media.status != MediaStatus::Registered || record.media.uploaded_bytes.is_some() {
            return Err(s3_error(
                StatusCode::FORBIDDEN,
                "AccessDenied",
                "Invalid according to Policy: this upload was already used.",
            ));
        }
        Ok(record.media.id.clone())
    }

    fn finish_upload(&mut self, media_id: &str, size: u64) {
        let statuses = self.media_statuses.clone();
        if let Some(record) = self
            .media
            .iter_mut()
            .find(|record| record.media.id == media_id)
        {
            record.media.uploaded_bytes = Some(size);
            record.upcoming = statuses.into();
        }
    }

    /// One status poll: an uploaded video moves to the next status of its sequence.
    fn poll_media(&mut self, headers: &HeaderMap, media_id: &str, now: DateTime<Utc>) -> Response {
        let owner = match self.authenticate(headers, MEDIA_STATUS_SCOPES, now) {
            Ok(account) => account,
            Err(refusal) => return refusal,
        };
        let Some(record) = self
            .media
            .iter_mut()
            .find(|record| record.media.id == media_id && record.media.owner_id == owner.id)
        else {
            return error(StatusCode::NOT_FOUND, CODE_NOT_FOUND, "Media not found.");
        };
        if let Some(next) = record.upcoming.pop_front() {
            record.media.status = next;
        }
        Json(json!({
            "media_id": record.media.id,
            "media_type": "video",
            "status": record.media.status.as_str(),
        }))
        .into_response()
    }
}

// ---------------------------------------------------------------------------------------------
// Checking a new pin.

/// The body's checks that need no world, in the order of Pinterest's schema: shape, `board_id`'s
/// pattern, text limits and link, then the media source.
fn parse_new_pin(body: &[u8]) -> Result<(NewPin, PinMedia), Response> {
    let request: NewPin = serde_json::from_slice(body)
        .map_err(|error| invalid(&format!("Invalid request body: {error}")))?;
    let Some(board_id) = request.board_id.as_deref() else {
        return Err(invalid(
            "Invalid request: 'board_id' is a required property.",
        ));
    };
    check_board_id(board_id)?;
    check_texts(
        request.title.as_deref(),
        request.description.as_deref(),
        request.link.as_deref(),
    )?;
    check_length("alt_text", request.alt_text.as_deref(), MAX_ALT_TEXT_CHARS)?;
    let Some(source) = request.media_source.clone() else {
        return Err(invalid(
            "Invalid request: 'media_source' is a required property.",
        ));
    };
    let source: MediaSource = serde_json::from_value(source)
        .map_err(|error| invalid(&format!("Invalid request: media_source: {error}")))?;
    let media = check_media_source(source)?;
    Ok((request, media))
}

/// Board ids are numeric strings; anything else is a schema error, not an unknown board.
fn check_board_id(board_id: &str) -> Result<(), Response> {
    if !board_id.is_empty() && board_id.bytes().all(|byte| byte.is_ascii_digit()) {
        Ok(())
    } else {
        Err(invalid(&format!(
            "Invalid request: board_id '{board_id}' does not match '^\\d+$'."
        )))
    }
}

/// Title, description and link: on a pin and on each carousel image alike.
fn check_texts(
    title: Option<&str>,
    description: Option<&str>,
    link: Option<&str>,
) -> Result<(), Response> {
    check_length("title", title, MAX_TITLE_CHARS)?;
    check_length("description", description, MAX_DESCRIPTION_CHARS)?;
    check_length("link", link, MAX_LINK_CHARS)?;
    if let Some(link) = link {
        check_url("link", link)?;
    }
    Ok(())
}

/// Pinterest counts characters, not bytes.
fn check_length(field: &str, value: Option<&str>, max: usize) -> Result<(), Response> {
    match value {
        Some(value) if value.chars().count() > max => Err(invalid(&format!(
            "Invalid request: '{field}' is longer than {max} characters."
        ))),
        _ => Ok(()),
    }
}

/// Any absolute http(s) URL: the fake never fetches it, so a local media host is fine.
fn check_url(field: &str, value: &str) -> Result<(), Response> {
    match url::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(()),
        _ => Err(invalid(&format!(
            "Invalid request: '{field}' is not a valid http(s) URL."
        ))),
    }
}

fn check_media_source(source: MediaSource) -> Result<PinMedia, Response> {
    match source {
        MediaSource::ImageUrl { url } => {
            check_url("media_source.url", &url)?;
            Ok(PinMedia::ImageUrl { url })
        }
        MediaSource::ImageBase64 { content_type, data } => {
            let size_bytes = check_inline_image(&content_type, &data)?;
            Ok(PinMedia::ImageBase64 {
                content_type,
                size_bytes,
            })
        }
        MediaSource::MultipleImageUrls { items } => {
            if !(MIN_CAROUSEL_IMAGES..=MAX_CAROUSEL_IMAGES).contains(&items.len()) {
                return Err(invalid(&format!(
                    "Invalid request: media_source.items has {} items; it needs \
                     {MIN_CAROUSEL_IMAGES} to {MAX_CAROUSEL_IMAGES} (constraint: maxItems={MAX_CAROUSEL_IMAGES}).",
                    items.len()
                )));
            }
            for item in &items {
                check_url("media_source.items.url", &item.url)?;
                check_texts(
                    item.title.as_deref(),
                    item.description.as_deref(),
                    item.link.as_deref(),
                )?;
            }
            Ok(PinMedia::MultipleImageUrls { items })
        }
        MediaSource::VideoId {
            media_id,
            cover_image_url,
        } => {
            let Some(cover_image_url) = cover_image_url else {
                return Err(invalid(
                    "Invalid request: a video Pin needs a cover: media_source.cover_image_url is required.",
                ));
            };
            check_url("media_source.cover_image_url", &cover_image_url)?;
            Ok(PinMedia::Video {
                media_id,
                cover_image_url,
            })
        }
    }
}

/// Decodes inline bytes and checks they are the image `content_type` says, by their magic bytes.
/// Line breaks, as MIME encoders add them, are allowed. Returns the decoded size.
fn check_inline_image(content_type: &str, data: &str) -> Result<usize, Response> {
    let compact: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = STANDARD
        .decode(compact)
        .map_err(|_| invalid("Invalid request: media_source.data is not valid base64."))?;
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(invalid(&format!(
            "Invalid request: the image is {} bytes; the limit is {MAX_IMAGE_BYTES}.",
            bytes.len()
        )));
    }
    match image_type(&bytes) {
        Some(detected) if detected == content_type => Ok(bytes.len()),
        Some(detected) => Err(invalid(&format!(
            "Invalid request: media_source.content_type is {content_type} but the data is {detected}."
        ))),
        None => Err(invalid(
            "Invalid request: media_source.data is not a JPEG, PNG, GIF or WebP image.",
        )),
    }
}

/// The image type its first bytes announce.
fn image_type(bytes: &[u8]) -> Option<&'static str> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.starts_with(b"\xFF\xD8\xFF") {
        Some("image/jpeg")
    } else if bytes.starts_with(PNG) {
        Some("image/png")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// `page_size`: default 25, 1 to 250; anything else is refused rather than clamped.
fn page_size(query: &Params) -> Result<usize, Response> {
    let Some(raw) = query.get("page_size") else {
        return Ok(DEFAULT_PAGE_SIZE);
    };
    raw.trim()
        .parse::<usize>()
        .ok()
        .filter(|size| (1..=MAX_PAGE_SIZE).contains(size))
        .ok_or_else(|| {
            invalid(&format!(
                "Invalid request: page_size must be a number from 1 to {MAX_PAGE_SIZE}; it is '{raw}'."
            ))
        })
}

/// The form fields of the S3-style POST upload. Their values are random where S3's are
/// signatures: the client cannot compute them, only copy them, which is what it must do.
fn upload_parameters(media_id: &str, now: DateTime<Utc>) -> Vec<(&'static str, String)> {
    let day = now.format("%Y%m%d");
    vec![
        ("x-amz-date", now.format("%Y%m%dT%H%M%SZ").to_string()),
        ("x-amz-signature", random_hex(32)),
        ("x-amz-security-token", random_token("")),
        ("x-amz-algorithm", "AWS4-HMAC-SHA256".to_owned()),
        ("key", format!("uploads/{}/{media_id}", random_hex(8))),
        ("policy", random_token("")),
        (
            "x-amz-credential",
            format!("ASIASANDBOX/{day}/us-east-1/s3/aws4_request"),
        ),
        ("Content-Type", "multipart/form-data".to_owned()),
    ]
}

// ---------------------------------------------------------------------------------------------
// Answers in Pinterest's shapes.

/// Pinterest's error envelope.
fn error(status: StatusCode, code: u32, message: &str) -> Response {
    (status, Json(json!({ "code": code, "message": message }))).into_response()
}

fn invalid(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, CODE_INVALID_PARAMETERS, message)
}

/// Pinterest answers every unusable token with 401 "Authentication failed."; the sentence after
/// it is the fake's, so a failing test says which case it met.
fn bearer_refusal(refusal: BearerError) -> Response {
    let detail = match refusal {
        BearerError::Missing => "No access token was sent.",
        BearerError::Unknown => "The access token is not valid.",
        BearerError::Revoked => "The access token was revoked.",
        BearerError::Expired => "The access token has expired.",
        BearerError::MissingScope(scope) => {
            return error(
                StatusCode::FORBIDDEN,
                CODE_NOT_AUTHORIZED,
                &format!("Not authorized: the access token was not granted the {scope} scope."),
            );
        }
    };
    error(
        StatusCode::UNAUTHORIZED,
        CODE_AUTHENTICATION_FAILED,
        &format!("Authentication failed. {detail}"),
    )
}

/// The token endpoint answers in the same envelope as the API (Pinterest's `Error` model).
fn oauth_refusal(refusal: &OAuthError) -> Response {
    match refusal {
        OAuthError::InvalidClient => error(
            StatusCode::UNAUTHORIZED,
            CODE_AUTHENTICATION_FAILED,
            "Authentication failed. Send the app's client_id and client_secret as HTTP Basic.",
        ),
        OAuthError::InvalidGrant(message) => {
            error(StatusCode::BAD_REQUEST, CODE_INVALID_GRANT, message)
        }
        OAuthError::InvalidRequest(_) | OAuthError::UnsupportedGrantType(_) => {
            invalid(&refusal.to_string())
        }
    }
}

/// A scripted failure, as Pinterest (or, for the upload, S3) would answer it.
fn scripted_refusal(endpoint: Endpoint, refusal: Refusal) -> Response {
    if endpoint == Endpoint::UploadMedia {
        return s3_refusal(refusal);
    }
    let token_endpoint = endpoint == Endpoint::Token;
    match refusal {
        Refusal::ServerError(status) => error(
            status,
            CODE_SERVER_ERROR,
            "Something went wrong on our end. Sorry about that.",
        ),
        Refusal::RateLimited { reset_in_secs } => rate_limited(reset_in_secs),
        Refusal::ExpiredToken if token_endpoint => error(
            StatusCode::BAD_REQUEST,
            CODE_INVALID_GRANT,
            "The refresh token has expired.",
        ),
        Refusal::RevokedToken if token_endpoint => error(
            StatusCode::BAD_REQUEST,
            CODE_INVALID_GRANT,
            "The refresh token was revoked or already used.",
        ),
        Refusal::ExpiredToken => bearer_refusal(BearerError::Expired),
        Refusal::RevokedToken => bearer_refusal(BearerError::Revoked),
        Refusal::Validation(message) => invalid(&message),
        Refusal::Duplicate => error(
            StatusCode::CONFLICT,
            CODE_CONFLICT,
            "This request conflicts with one already made.",
        ),
    }
}

/// 429 with `Retry-After` and `x-ratelimit-reset` (Pinterest's rate headers are unverified;
/// these are what a client should honour either way).
fn rate_limited(reset_in_secs: i64) -> Response {
    let mut response = error(
        StatusCode::TOO_MANY_REQUESTS,
        CODE_RATE_LIMITED,
        "You have exceeded your rate limit. Try again later.",
    );
    let headers = response.headers_mut();
    let seconds = HeaderValue::from(reset_in_secs.max(0));
    headers.insert(header::RETRY_AFTER, seconds.clone());
    headers.insert("x-ratelimit-reset", seconds);
    headers.insert("x-ratelimit-remaining", HeaderValue::from(0u32));
    response
}

/// S3's XML error, for the upload URL.
fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message></Error>",
        escape_html(code),
        escape_html(message)
    );
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

fn s3_refusal(refusal: Refusal) -> Response {
    match refusal {
        Refusal::ServerError(status) => s3_error(
            status,
            "InternalError",
            "We encountered an internal error. Please try again.",
        ),
        Refusal::RateLimited { reset_in_secs } => {
            let mut response = s3_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "SlowDown",
                "Please reduce your request rate.",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(reset_in_secs.max(0)));
            response
        }
        Refusal::ExpiredToken => s3_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Invalid according to Policy: Policy expired.",
        ),
        Refusal::RevokedToken => s3_error(
            StatusCode::FORBIDDEN,
            "InvalidToken",
            "The provided token is malformed or otherwise invalid.",
        ),
        Refusal::Validation(message) => {
            s3_error(StatusCode::BAD_REQUEST, "InvalidArgument", &message)
        }
        Refusal::Duplicate => s3_error(
            StatusCode::CONFLICT,
            "OperationAborted",
            "A conflicting conditional operation is in progress.",
        ),
    }
}

fn token_json(tokens: &IssuedTokens, response_type: &str) -> Value {
    let mut body = json!({
        "access_token": tokens.access_token,
        "token_type": "bearer",
        "expires_in": tokens.expires_in,
        "scope": tokens.grant.scopes.join(','),
        "response_type": response_type,
    });
    // A refresh that kept the refresh token does not repeat it: the client keeps the one it has.
    if let Some(refresh) = tokens.refresh.as_ref().filter(|refresh| refresh.is_new) {
        body["refresh_token"] = Value::from(refresh.token.as_str());
        body["refresh_token_expires_in"] = Value::from(refresh.expires_in);
    }
    body
}

fn pin_json(pin: &FakePin) -> Value {
    let creative_type = match pin.media {
        PinMedia::ImageUrl { .. } | PinMedia::ImageBase64 { .. } => "REGULAR",
        PinMedia::MultipleImageUrls { .. } => "CAROUSEL",
        PinMedia::Video { .. } => "VIDEO",
    };
    json!({
        "id": pin.id,
        "created_at": pinterest_timestamp(pin.created_at),
        "link": pin.link,
        "title": pin.title,
        "description": pin.description,
        "alt_text": pin.alt_text,
        "board_id": pin.board_id,
        "board_section_id": null,
        "board_owner": { "username": pin.owner_username },
        "is_owner": true,
        "is_standard": true,
        "creative_type": creative_type,
        "dominant_color": null,
        "note": "",
        "media": media_json(&pin.media),
    })
}

/// The pin's `media`. Image sizes are unknown (the fake never fetches an image), and inline
/// images are not hosted, so their `images` is empty.
fn media_json(media: &PinMedia) -> Value {
    let image = |url: &str| json!({ "originals": { "url": url } });
    match media {
        PinMedia::ImageUrl { url } => json!({ "media_type": "image", "images": image(url) }),
        PinMedia::ImageBase64 { .. } => json!({ "media_type": "image", "images": {} }),
        PinMedia::MultipleImageUrls { items } => {
            let items: Vec<Value> = items
                .iter()
                .map(|item| {
                    json!({
                        "item_type": "image",
                        "title": item.title,
                        "description": item.description,
                        "link": item.link,
                        "images": image(&item.url),
                    })
                })
                .collect();
            json!({ "media_type": "multiple_images", "items": items })
        }
        PinMedia::Video {
            cover_image_url, ..
        } => json!({
            "media_type": "video",
            "cover_image_url": cover_image_url,
            "video_url": null,
            "duration": null,
            "width": null,
            "height": null,
        }),
    }
}

/// RFC 3339 in UTC, to the second.
fn pinterest_timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, false)
}

// ---------------------------------------------------------------------------------------------
// Pages.

/// What a pin is called in lists: its title, else the start of its description, else its id.
fn pin_caption(pin: &FakePin) -> String {
    pin.title
        .clone()
        .or_else(|| pin.description.clone())
        .map_or_else(
            || format!("Pin {}", pin.id),
            |text| text.chars().take(80).collect(),
        )
}

/// `/pin/{id}/`, where the app's "view on Pinterest" link lands in the sandbox. Images are
/// listed as links, not shown: the app's Content-Security-Policy would block them under
/// `--sandbox`, and the fake never fetched them.
fn pin_page(pin: &FakePin, board: &FakeBoard) -> String {
    let urls: String = pin
        .image_urls()
        .iter()
        .map(|url| format!("<li>{}</li>", escape_html(url)))
        .collect();
    let media = match &pin.media {
        PinMedia::ImageUrl { .. } => "Image".to_owned(),
        PinMedia::ImageBase64 {
            content_type,
            size_bytes,
        } => {
            format!(
                "Uploaded image ({}, {size_bytes} bytes)",
                escape_html(content_type)
            )
        }
        PinMedia::MultipleImageUrls { items } => format!("Carousel of {} images", items.len()),
        PinMedia::Video { media_id, .. } => format!("Video (media {})", escape_html(media_id)),
    };
    let optional = |label: &str, value: &Option<String>| {
        value.as_ref().map_or_else(String::new, |value| {
            format!("<p class=\"meta\">{label}: {}</p>\n", escape_html(value))
        })
    };
    let body = format!(
        r#"<article aria-labelledby="title">
<h1 id="title">{title}</h1>
<p class="meta">Pinned by {username} to <strong>{board}</strong></p>
<p class="text">{description}</p>
{link}{alt}<p class="meta">{media}</p>
<ul class="urls">{urls}</ul>
<p class="meta"><time datetime="{datetime}">{shown}</time> · Sandbox pin {id}</p>
</article>"#,
        title = escape_html(&pin_caption(pin)),
        username = escape_html(&pin.owner_username),
        board = escape_html(&board.name),
        description = escape_html(pin.description.as_deref().unwrap_or_default()),
        link = optional("Link", &pin.link),
        alt = optional("Alt text", &pin.alt_text),
        datetime = pinterest_timestamp(pin.created_at),
        shown = pin.created_at.format("%-d %b %Y, %H:%M UTC"),
        id = escape_html(&pin.id),
    );
    page(
        &format!("{} on Sandbox Pinterest", pin_caption(pin)),
        &body,
        PIN_PAGE_STYLESHEET,
    )
}

fn missing_pin_page() -> String {
    page(
        "Sandbox Pinterest — pin not found",
        "<h1>This pin does not exist in the sandbox</h1>\n<p>It was never created here.</p>",
        PIN_PAGE_STYLESHEET,
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
        self.account_named(username)
            .map(|account| account.id.clone())
    }
}

impl FakeControls for PinterestFake {
    type World = World;

    fn world(&self) -> MutexGuard<'_, World> {
        self.lock()
    }
}

#[cfg(test)]
mod tests {
    use axum::body::{Body, to_bytes};
    use tower::ServiceExt as _;

    use super::*;
    use crate::clock::ManualClock;
    use crate::sandbox::kit::request::with_query;

    const REDIRECT: &str = "http://127.0.0.1:3000/connections/pinterest/callback";
    const SCOPES: &str = "boards:read,pins:read,pins:write,user_accounts:read";
    /// The smallest PNG signature plus a little: enough for the magic-byte check.
    const PNG_BYTES: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    fn fake() -> PinterestFake {
        PinterestFake::new("client", "secret")
    }

    fn authorize_url(scopes: &str) -> String {
        with_query(
            "https://www.pinterest.test/oauth/",
            &[
                ("client_id", "client"),
                ("redirect_uri", REDIRECT),
                ("response_type", "code"),
                ("scope", scopes),
                ("state", "st4te"),
            ],
        )
    }

    fn code_in(location: &str) -> String {
        let (_, query) = location.split_once('?').expect("the redirect has a query");
        parse_query(Some(query))["code"].clone()
    }

    fn token_request(credentials: &str, form: &[(&str, &str)]) -> Request {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        http::Request::builder()
            .method("POST")
            .uri("/v5/oauth/token")
            .header(
                header::AUTHORIZATION,
                format!("Basic {}", STANDARD.encode(credentials)),
            )
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
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

    async fn send(fake: &PinterestFake, request: Request) -> (StatusCode, HeaderMap, Value) {
        let response = fake.router().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = to_bytes(body, usize::MAX).await.unwrap();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (parts.status, parts.headers, json)
    }

    /// Consent plus code exchange: the token answer.
    async fn connect_with(fake: &PinterestFake, username: &str, scopes: &str) -> Value {
        let location = fake
            .authorize_directly(&authorize_url(scopes), username)
            .unwrap();
        let code = code_in(&location);
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ];
        let (status, _, tokens) = send(fake, token_request("client:secret", &form)).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        tokens
    }

    async fn access_token(fake: &PinterestFake, username: &str) -> String {
        connect_with(fake, username, SCOPES).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn default_board(fake: &PinterestFake, username: &str) -> String {
        fake.boards_of(username)[0].id.clone()
    }

    async fn pin(fake: &PinterestFake, token: &str, body: Value) -> (StatusCode, Value) {
        let (status, _, answer) = send(fake, api("POST", "/v5/pins", token, Some(body))).await;
        (status, answer)
    }

    fn image_pin(board_id: &str) -> Value {
        json!({
            "board_id": board_id,
            "title": "A title",
            "description": "A description",
            "link": "https://shop.example/item",
            "media_source": { "source_type": "image_url", "url": "http://127.0.0.1:9000/media/a.jpg" },
        })
    }

    #[tokio::test]
    async fn pin_analytics_grow_for_the_owner_within_ninety_days() {
        let clock = Arc::new(ManualClock::starting_at(
            "2027-05-04T07:00:00Z".parse().unwrap(),
        ));
        let fake = PinterestFake::with_clock("client", "secret", clock.clone());
        let alice = access_token(&fake, "alice").await;
        let bob = access_token(&fake, "bob").await;
        let (status, made) = pin(&fake, &alice, image_pin(&default_board(&fake, "alice"))).await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        let id = made["id"].as_str().unwrap().to_owned();
        let analytics = |token: &str, start: &str, end: &str| {
            api(
                "GET",
                &format!(
                    "/v5/pins/{id}/analytics?start_date={start}&end_date={end}&metric_types=IMPRESSION,SAVE,OUTBOUND_CLICK"
                ),
                token,
                None,
            )
        };
        clock.advance(TimeDelta::hours(2));
        let (status, _, early) = send(&fake, analytics(&alice, "2027-05-04", "2027-05-04")).await;
        assert_eq!(status, StatusCode::OK, "{early}");
        clock.advance(TimeDelta::hours(6));
        let (_, _, later) = send(&fake, analytics(&alice, "2027-05-04", "2027-05-04")).await;
        let impressions = |body: &Value| body["all"]["summary_metrics"]["IMPRESSION"].as_u64();
        assert!(
            impressions(&later) > impressions(&early),
            "{early} then {later}"
        );
        assert!(impressions(&early).is_some_and(|seen| seen > 0));
        assert!(later["all"]["summary_metrics"]["OUTBOUND_CLICK"].is_u64());
        assert_eq!(later["all"]["daily_metrics"][0]["date"], "2027-05-04");
        let (status, _, _) = send(&fake, analytics(&bob, "2027-05-04", "2027-05-04")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "another account's pin");
        let (status, _, _) = send(&fake, analytics(&alice, "2027-05-04", "2027-05-05")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "a range past today");
        let (status, _, _) = send(&fake, analytics(&alice, "2027-01-01", "2027-05-04")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "more than 90 days back");
    }

    #[tokio::test]
    async fn a_code_is_exchanged_with_basic_auth_for_pinterest_shaped_tokens() {
        let fake = fake();
        let tokens = connect_with(&fake, "alice", SCOPES).await;
        assert!(
            tokens["access_token"]
                .as_str()
                .unwrap()
                .starts_with("pina_")
        );
        assert!(
            tokens["refresh_token"]
                .as_str()
                .unwrap()
                .starts_with("pinr_")
        );
        assert_eq!(tokens["token_type"], "bearer");
        assert_eq!(tokens["expires_in"], 2_592_000);
        assert_eq!(tokens["refresh_token_expires_in"], 31_536_000);
        assert_eq!(tokens["scope"], SCOPES);
        assert_eq!(fake.code_exchange_count(), 1);

        let token = tokens["access_token"].as_str().unwrap();
        let (status, _, account) = send(&fake, api("GET", "/v5/user_account", token, None)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(account["username"], "alice");
        assert_eq!(account["id"], fake.account_id("alice").unwrap().as_str());
        assert!(
            account["profile_image"]
                .as_str()
                .unwrap()
                .starts_with("data:image/svg+xml")
        );
    }

    #[tokio::test]
    async fn a_wrong_secret_or_a_second_use_of_a_code_is_refused() {
        let fake = fake();
        let location = fake
            .authorize_directly(&authorize_url(SCOPES), "alice")
            .unwrap();
        assert!(location.starts_with(REDIRECT) && location.ends_with("&state=st4te"));
        let code = code_in(&location);
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ];
        let (status, _, body) = send(&fake, token_request("client:wrong", &form)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], CODE_AUTHENTICATION_FAILED);
        assert!(body["message"].is_string());

        assert_eq!(
            send(&fake, token_request("client:secret", &form)).await.0,
            StatusCode::OK
        );
        let (status, _, body) = send(&fake, token_request("client:secret", &form)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["code"], CODE_INVALID_GRANT);
        assert_eq!(fake.code_exchange_count(), 3);
    }

    #[tokio::test]
    async fn the_consent_screen_refuses_space_separated_scopes() {
        let fake = fake();
        let refused = fake.authorize_directly(&authorize_url("boards:read pins:read"), "alice");
        assert!(refused.unwrap_err().contains("boards:read pins:read"));
        let request = http::Request::builder()
            .uri(authorize_url(SCOPES).replace("https://www.pinterest.test", ""))
            .body(Body::empty())
            .unwrap();
        let response = fake.router().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let page = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let page = String::from_utf8_lossy(&page);
        assert!(page.contains("<code>pins:write</code>"));
        assert!(page.contains(r#"href="../sandbox.css""#));
    }

    #[tokio::test]
    async fn a_refresh_keeps_the_refresh_token_unless_continuous_refresh_is_asked_for() {
        let fake = fake();
        let first = connect_with(&fake, "alice", SCOPES).await;
        let refresh_token = first["refresh_token"].as_str().unwrap();
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        let (status, _, kept) = send(&fake, token_request("client:secret", &form)).await;
        assert_eq!(status, StatusCode::OK, "{kept}");
        assert_ne!(kept["access_token"], first["access_token"]);
        assert!(kept.get("refresh_token").is_none());
        assert_eq!(kept["response_type"], "refresh_token");

        let continuous = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("continuous_refresh", "true"),
        ];
        let (status, _, rotated) = send(&fake, token_request("client:secret", &continuous)).await;
        assert_eq!(status, StatusCode::OK);
        assert_ne!(rotated["refresh_token"], first["refresh_token"]);
        let (status, _, spent) = send(&fake, token_request("client:secret", &form)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(spent["code"], CODE_INVALID_GRANT);
        assert_eq!(fake.refresh_count(), 3);
    }

    #[tokio::test]
    async fn tokens_expire_with_the_clock_and_die_with_the_app() {
        let clock = Arc::new(ManualClock::starting_at(Utc::now()));
        let fake = PinterestFake::with_clock("client", "secret", clock.clone());
        let tokens = connect_with(&fake, "alice", SCOPES).await;
        let token = tokens["access_token"].as_str().unwrap();
        clock.advance(TimeDelta::days(30));
        let (status, _, body) = send(&fake, api("GET", "/v5/user_account", token, None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(body["message"].as_str().unwrap().contains("expired"));

        let refresh_token = tokens["refresh_token"].as_str().unwrap();
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        let (status, _, renewed) = send(&fake, token_request("client:secret", &form)).await;
        assert_eq!(status, StatusCode::OK);
        let renewed = renewed["access_token"].as_str().unwrap();
        assert_eq!(
            send(&fake, api("GET", "/v5/user_account", renewed, None))
                .await
                .0,
            StatusCode::OK
        );

        fake.revoke_all_tokens_of("ALICE");
        let (status, _, body) = send(&fake, api("GET", "/v5/user_account", renewed, None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(body["message"].as_str().unwrap().contains("revoked"));
        assert_eq!(
            send(&fake, token_request("client:secret", &form)).await.0,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(fake.issued_tokens().len(), 3);
    }

    #[tokio::test]
    async fn boards_come_in_pages_linked_by_bookmarks() {
        let fake = fake();
        let token = access_token(&fake, "alice").await;
        for n in 1..=4 {
            fake.add_board("alice", &format!("Board {n}"));
        }
        fake.add_board("bob", "Not alice's");
        let mut names = Vec::new();
        let mut uri = "/v5/boards?page_size=2".to_owned();
        loop {
            let (status, _, page) = send(&fake, api("GET", &uri, &token, None)).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            for board in page["items"].as_array().unwrap() {
                assert!(
                    board["id"]
                        .as_str()
                        .unwrap()
                        .bytes()
                        .all(|b| b.is_ascii_digit())
                );
                names.push(board["name"].as_str().unwrap().to_owned());
            }
            match page["bookmark"].as_str() {
                Some(bookmark) => uri = format!("/v5/boards?page_size=2&bookmark={bookmark}"),
                None => break,
            }
        }
        assert_eq!(
            names,
            [
                DEFAULT_BOARD_NAME,
                "Board 1",
                "Board 2",
                "Board 3",
                "Board 4"
            ]
        );
        let (status, _, body) =
            send(&fake, api("GET", "/v5/boards?page_size=251", &token, None)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["code"], CODE_INVALID_PARAMETERS);
        let (status, _, _) =
            send(&fake, api("GET", "/v5/boards?bookmark=bogus", &token, None)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn creating_a_board_needs_the_boards_write_scope() {
        let fake = fake();
        let token = access_token(&fake, "alice").await;
        let board = json!({ "name": "Recipes", "privacy": "SECRET" });
        let (status, _, body) = send(
            &fake,
            api("POST", "/v5/boards", &token, Some(board.clone())),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["code"], CODE_NOT_AUTHORIZED);

        let writer = connect_with(&fake, "alice", &format!("{SCOPES},boards:write")).await;
        let writer = writer["access_token"].as_str().unwrap();
        let (status, _, created) =
            send(&fake, api("POST", "/v5/boards", writer, Some(board))).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(created["privacy"], "SECRET");
        assert_eq!(
            fake.boards_of("alice")[1].id,
            created["id"].as_str().unwrap()
        );
    }

    #[tokio::test]
    async fn an_image_url_pin_is_recorded_and_read_back_newest_first() {
        let fake = fake();
        let token = access_token(&fake, "alice").await;
        let board = default_board(&fake, "alice");
        let (status, created) = pin(&fake, &token, image_pin(&board)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["board_id"], board.as_str());
        assert_eq!(
            created["media"]["images"]["originals"]["url"],
            "http://127.0.0.1:9000/media/a.jpg"
        );
        assert!(created["created_at"].as_str().unwrap().ends_with("+00:00"));
        let mut second = image_pin(&board);
        second["title"] = json!("Second");
        assert_eq!(pin(&fake, &token, second).await.0, StatusCode::CREATED);

        let pins = fake.pins();
        assert_eq!(pins[0].image_urls(), ["http://127.0.0.1:9000/media/a.jpg"]);
        assert_eq!(pins[0].link.as_deref(), Some("https://shop.example/item"));

        let uri = format!("/v5/boards/{board}/pins?page_size=25");
        let (status, _, listed) = send(&fake, api("GET", &uri, &token, None)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(listed["items"][0]["title"], "Second");
        assert_eq!(listed["items"][1]["id"], created["id"]);

        let uri = format!("/v5/pins/{}", created["id"].as_str().unwrap());
        let (status, _, read) = send(&fake, api("GET", &uri, &token, None)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(read["title"], "A title");

        let page_request = http::Request::builder()
            .uri(format!("/pin/{}/", pins[0].id))
            .body(Body::empty())
            .unwrap();
        let response = fake.router().oneshot(page_request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let html = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let html = String::from_utf8_lossy(&html);
        assert!(html.contains("A title") && html.contains(DEFAULT_BOARD_NAME));
        assert!(
            !fake
                .issued_tokens()
                .iter()
                .any(|token| html.contains(token.as_str()))
        );
    }

    #[tokio::test]
    async fn an_inline_image_must_really_be_the_image_it_claims() {
        let fake = fake();
        let token = access_token(&fake, "alice").await;
        let board = default_board(&fake, "alice");
        let inline = |content_type: &str, bytes: &[u8]| {
            json!({
                "board_id": board,
                "media_source": {
                    "source_type": "image_base64",
                    "content_type": content_type,
                    "data": STANDARD.encode(bytes),
                },
            })
        };
        let (status, created) = pin(&fake, &token, inline("image/png", PNG_BYTES)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(
            fake.pins()[0].media,
            PinMedia::ImageBase64 {
                content_type: "image/png".to_owned(),
                size_bytes: PNG_BYTES.len()
            }
        );
        let (status, body) = pin(
            &fake,
            &token,
            inline("image/png", b"<html>not an image</html>"),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body["message"].as_str().unwrap().contains("not a JPEG"));
        let (status, _) = pin(&fake, &token, inline("image/jpeg", PNG_BYTES)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let mut broken = inline("image/png", PNG_BYTES);
        broken["media_source"]["data"] = json!("%%% not base64");
        assert_eq!(pin(&fake, &token, broken).await.0, StatusCode::BAD_REQUEST);
        assert_eq!(fake.pin_count(), 1);
    }

    #[tokio::test]
    async fn a_carousel_takes_two_to_five_images() {
        let fake = fake();
        let token = access_token(&fake, "alice").await;
        let board = default_board(&fake, "alice");
        let carousel = |count: usize| {
            let items: Vec<Value> = (0..count)
                .map(|n| json!({ "url": format!("https://media.example/{n}.jpg"), "title": format!("Image {n}") }))
                .collect();
            json!({ "board_id": board, "media_source": { "source_type": "multiple_image_urls", "items": items } })
        };
        let (status, created) = pin(&fake, &token, carousel(5)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["media"]["items"].as_array().unwrap().len(), 5);
        assert_eq!(fake.pins()[0].image_urls().len(), 5);
        for count in [1, 6] {
            let (status, body) = pin(&fake, &token, carousel(count)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert!(body["message"].as_str().unwrap().contains("maxItems=5"));
        }
        assert_eq!(fake.pin_count(), 1);
    }

    #[tokio::test]
    async fn text_over_pinterest_limits_is_refused() {
        let fake = fake();
        let token = access_token(&fake, "alice").await;
        let board = default_board(&fake, "alice");
        let with = |field: &str, value: String| {
            let mut body = image_pin(&board);
            body[field] = json!(value);
            body
        };
        assert_eq!(
            pin(&fake, &token, with("title", "é".repeat(100))).await.0,
            StatusCode::CREATED
        );
        for (field, value) in [
            ("title", "t".repeat(101)),
            ("description", "d".repeat(801)),
            ("alt_text", "a".repeat(501)),
            ("link", format!("https://example.com/{}", "l".repeat(2048))),
            ("link", "not a url".to_owned()),
        ] {
            let (status, body) = pin(&fake, &token, with(field, value)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{field}");
            assert_eq!(body["code"], CODE_INVALID_PARAMETERS);
        }
        assert_eq!(fake.pin_count(), 1);
    }

    #[tokio::test]
    async fn a_board_must_be_numeric_and_the_callers_own() {
        let fake = fake();
        let token = access_token(&fake, "alice").await;
        let bobs = fake.add_board("bob", "Bob's").id;
        let (status, body) = pin(&fake, &token, image_pin(&bobs)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["message"], BOARD_NOT_FOUND);
        let (status, _) = pin(&fake, &token, image_pin("999")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, body) = pin(&fake, &token, image_pin("board-1")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body["message"].as_str().unwrap().contains("board_id"));
        assert_eq!(fake.pin_count(), 0);
    }

    #[tokio::test]
    async fn a_video_pin_waits_for_its_upload_to_succeed() {
        let fake = fake();
        let token = access_token(&fake, "alice").await;
        let board = default_board(&fake, "alice");
        let (address, server) = crate::sandbox::serve(fake.router()).await.unwrap();
        let http = reqwest::Client::new();

        let registered: Value = http
            .post(format!("http://{address}/v5/media"))
            .bearer_auth(&token)
            .json(&json!({ "media_type": "video" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let media_id = registered["media_id"].as_str().unwrap().to_owned();
        let upload_url = registered["upload_url"].as_str().unwrap();
        assert_eq!(upload_url, format!("http://{address}{UPLOAD_PATH}"));

        let status_of = |fake: PinterestFake, token: String, media_id: String| async move {
            let uri = format!("/v5/media/{media_id}");
            send(&fake, api("GET", &uri, &token, None)).await.2["status"].clone()
        };
        assert_eq!(
            status_of(fake.clone(), token.clone(), media_id.clone()).await,
            "registered"
        );

        let video_pin = |cover: Option<&str>| {
            let mut source = json!({ "source_type": "video_id", "media_id": media_id });
            if let Some(cover) = cover {
                source["cover_image_url"] = json!(cover);
            }
            json!({ "board_id": board, "title": "A video", "media_source": source })
        };
        let (status, body) = pin(
            &fake,
            &token,
            video_pin(Some("https://media.example/cover.jpg")),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body["message"].as_str().unwrap().contains("registered"));

        let parameters = registered["upload_parameters"].as_object().unwrap();
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in parameters {
            form = form.text(name.clone(), value.as_str().unwrap().to_owned());
        }
        let file = reqwest::multipart::Part::bytes(vec![7u8; 300_000]).file_name("video.mp4");
        let uploaded = http
            .post(upload_url)
            .multipart(form.part("file", file))
            .send()
            .await
            .unwrap();
        assert_eq!(uploaded.status(), reqwest::StatusCode::NO_CONTENT);
        assert_eq!(fake.media()[0].uploaded_bytes, Some(300_000));

        assert_eq!(
            status_of(fake.clone(), token.clone(), media_id.clone()).await,
            "processing"
        );
        assert_eq!(
            status_of(fake.clone(), token.clone(), media_id.clone()).await,
            "succeeded"
        );
        assert_eq!(
            status_of(fake.clone(), token.clone(), media_id.clone()).await,
            "succeeded"
        );

        let (status, body) = pin(&fake, &token, video_pin(None)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body["message"].as_str().unwrap().contains("cover"));
        let (status, created) = pin(
            &fake,
            &token,
            video_pin(Some("https://media.example/cover.jpg")),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["media"]["media_type"], "video");
        assert_eq!(
            fake.pins()[0].image_urls(),
            ["https://media.example/cover.jpg"]
        );
        server.abort();
    }

    #[tokio::test]
    async fn an_upload_without_its_parameters_or_after_its_file_is_refused() {
        let fake = fake();
        let token = access_token(&fake, "alice").await;
        fake.set_base_url("http://sandbox.test/sandbox/pinterest/");
        fake.set_media_status_sequence(vec![MediaStatus::Processing, MediaStatus::Failed]);
        let (address, server) = crate::sandbox::serve(fake.router()).await.unwrap();
        let (_, _, registered) = send(
            &fake,
            api(
                "POST",
                "/v5/media",
                &token,
                Some(json!({ "media_type": "video" })),
            ),
        )
        .await;
        assert_eq!(
            registered["upload_url"],
            format!("http://sandbox.test/sandbox/pinterest{UPLOAD_PATH}")
        );
        let parameters = registered["upload_parameters"].as_object().unwrap().clone();
        let http = reqwest::Client::new();
        let upload = |form: reqwest::multipart::Form| {
            http.post(format!("http://{address}{UPLOAD_PATH}"))
                .multipart(form)
                .send()
        };
        let file = || reqwest::multipart::Part::bytes(vec![1u8; 1000]);

        let mut missing_policy = reqwest::multipart::Form::new();
        for (name, value) in parameters.iter().filter(|(name, _)| *name != "policy") {
            missing_policy = missing_policy.text(name.clone(), value.as_str().unwrap().to_owned());
        }
        let refused = upload(missing_policy.part("file", file())).await.unwrap();
        assert_eq!(refused.status(), reqwest::StatusCode::FORBIDDEN);
        assert!(
            refused
                .text()
                .await
                .unwrap()
                .contains("<Code>AccessDenied</Code>")
        );

        // S3 reads the policy fields before the file: sent after it, they are missing.
        let mut file_first = reqwest::multipart::Form::new().part("file", file());
        for (name, value) in &parameters {
            file_first = file_first.text(name.clone(), value.as_str().unwrap().to_owned());
        }
        assert_eq!(
            upload(file_first).await.unwrap().status(),
            reqwest::StatusCode::FORBIDDEN
        );
        let mut trailing_field = reqwest::multipart::Form::new();
        for (name, value) in &parameters {
            trailing_field = trailing_field.text(name.clone(), value.as_str().unwrap().to_owned());
        }
        let trailing_field = trailing_field
            .part("file", file())
            .text("acl", "public-read");
        let refused = upload(trailing_field).await.unwrap();
        assert_eq!(refused.status(), reqwest::StatusCode::BAD_REQUEST);
        assert!(refused.text().await.unwrap().contains("came after file"));
        assert_eq!(fake.media()[0].uploaded_bytes, None);

        let mut complete = reqwest::multipart::Form::new();
        for (name, value) in &parameters {
            complete = complete.text(name.clone(), value.as_str().unwrap().to_owned());
        }
        assert_eq!(
            upload(complete.part("file", file()))
                .await
                .unwrap()
                .status(),
            reqwest::StatusCode::NO_CONTENT
        );
        let uri = format!("/v5/media/{}", registered["media_id"].as_str().unwrap());
        assert_eq!(
            send(&fake, api("GET", &uri, &token, None)).await.2["status"],
            "processing"
        );
        assert_eq!(
            send(&fake, api("GET", &uri, &token, None)).await.2["status"],
            "failed"
        );
        assert_eq!(fake.request_count(Endpoint::UploadMedia), 4);
        server.abort();
    }

    #[tokio::test]
    async fn a_dropped_answer_still_creates_the_pin() {
        let fake = fake();
        let token = access_token(&fake, "alice").await;
        let board = default_board(&fake, "alice");
        fake.fail_next(Endpoint::CreatePin, [Failure::CreatedThenDropped]);
        let response = fake
            .router()
            .oneshot(api("POST", "/v5/pins", &token, Some(image_pin(&board))))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        assert!(to_bytes(response.into_body(), usize::MAX).await.is_err());
        assert_eq!(fake.pins()[0].title.as_deref(), Some("A title"));

        let uri = format!("/v5/boards/{board}/pins?page_size=25");
        let (_, _, listed) = send(&fake, api("GET", &uri, &token, None)).await;
        assert_eq!(listed["items"][0]["id"], fake.pins()[0].id.as_str());
    }

    #[tokio::test]
    async fn scripted_failures_answer_in_pinterests_envelope_in_order() {
        let fake = fake();
        let token = access_token(&fake, "alice").await;
        let board = default_board(&fake, "alice");
        fake.fail_next(
            Endpoint::CreatePin,
            [
                Failure::RateLimited { reset_in_secs: 30 },
                Failure::ServerError(500),
                Failure::ExpiredToken,
                Failure::Validation("Unable to reach the URL.".to_owned()),
            ],
        );
        let (status, headers, body) = send(
            &fake,
            api("POST", "/v5/pins", &token, Some(image_pin(&board))),
        )
        .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(headers[header::RETRY_AFTER], "30");
        assert_eq!(body["code"], CODE_RATE_LIMITED);
        let expected = [
            (StatusCode::INTERNAL_SERVER_ERROR, CODE_SERVER_ERROR),
            (StatusCode::UNAUTHORIZED, CODE_AUTHENTICATION_FAILED),
            (StatusCode::BAD_REQUEST, CODE_INVALID_PARAMETERS),
        ];
        for (status, code) in expected {
            let (got, body) = pin(&fake, &token, image_pin(&board)).await;
            assert_eq!(
                (got, body["code"].as_u64()),
                (status, Some(u64::from(code)))
            );
        }
        assert_eq!(fake.pin_count(), 0, "refusals create nothing");
        assert_eq!(
            pin(&fake, &token, image_pin(&board)).await.0,
            StatusCode::CREATED
        );
        assert_eq!(fake.request_count(Endpoint::CreatePin), 5);
    }

    #[tokio::test]
    async fn the_control_page_arms_a_failure_for_the_next_pin() {
        let fake = fake();
        let arm = http::Request::builder()
            .method("POST")
            .uri("/_control")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("failure=server_error"))
            .unwrap();
        let response = fake.router().oneshot(arm).await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let shown = http::Request::builder()
            .uri("/_control")
            .body(Body::empty())
            .unwrap();
        let response = fake.router().oneshot(shown).await.unwrap();
        let html = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        assert!(String::from_utf8_lossy(&html).contains("1 failure(s) armed."));
        let token = access_token(&fake, "alice").await;
        let board = default_board(&fake, "alice");
        assert_eq!(
            pin(&fake, &token, image_pin(&board)).await.0,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
