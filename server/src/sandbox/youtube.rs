//! A local fake of the YouTube Data API v3 and Google's OAuth (`shared/platforms.md`, section 7):
//! the consent screen, the token and revocation endpoints, the user's channel, the resumable
//! upload (open a session, send the bytes whole or in chunks, probe, resume), the processing
//! status of an uploaded video and its statistics (growing with its age on the fake's clock,
//! [`kit::engagement`](super::kit::engagement)), the channel's uploads playlist for
//! reconciliation, and the watch page a video's link points at.
//!
//! It owns one in-memory world (accounts and their channels, upload sessions, videos, and the
//! OAuth server of [`kit::oauth`](super::kit::oauth)) behind [`YouTubeFake`], a cheap handle tests
//! keep to script failures ([`YouTubeFake::fail_next`]), break uploads on purpose
//! ([`YouTubeFake::interrupt_next_upload_after`]) and look inside ([`YouTubeFake::videos`],
//! [`YouTubeFake::upload_sessions`], the counters). Every host of section 7 (accounts.google.com,
//! oauth2.googleapis.com, www.googleapis.com and its `/upload` path) is this one router, served at
//! the root (tests) or nested under a prefix (`--sandbox`). The one absolute URL it builds, an
//! upload session's `Location`, comes from the request that opened the session (or
//! [`YouTubeFake::set_base_url`]), so it points back at the fake however it is reached.
//!
//! The resumable upload is the heart of it, and as strict as Google's protocol: a chunk must
//! start exactly where the session's bytes end and, unless it is the last, be a multiple of
//! 256 KiB; the video exists only once the last byte has arrived (the commit point of
//! platforms.md's "never double-post" rule). Bodies are streamed, counted and hashed, never held,
//! so a benchmark can push hundreds of megabytes through it, and a test compares
//! [`FakeVideo::sha256_hex`] with the file's. When a PUT breaks off, the session keeps what arrived
//! rounded down to whole 256 KiB chunks, as Google persists whole chunks: a client must resume
//! from what a probe's `Range` reports, never from what it believes it sent.
//!
//! Facts section 7 does not give are this fake's choices, stated where they are declared: which
//! scopes each call takes, that the session URI alone authorizes its PUTs, that
//! `X-Upload-Content-Length` and `X-Upload-Content-Type` are required, the error `reason`s beyond
//! those section 7 names, the code lifetime, the category and tag rules, and what a revocation of
//! an unknown token answers.
//!
//! It trusts whoever reaches it and never logs a token, a code or an upload id.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use futures_util::{Stream, StreamExt as _};
use rand::RngCore as _;
use serde::Deserialize;
use serde_json::{Value, json};

use super::kit::consent::{Consent, Decision, UsernameRule, consent_page, direct_consent};
use super::kit::control::{
    Control, ControlChoice, Recent, back_to_control, chosen_failure, control_page, standard_choices,
};
use super::kit::cursor::page_of;
use super::kit::engagement::Engagement;
use super::kit::ids::random_token;
use super::kit::oauth::{
    Access, AuthorizationServer, BearerError, IssuedTokens, OAuthConfig, OAuthError, Pkce,
    RefreshPolicy, Rotation,
};
use super::kit::pages::{avatar_data_url, escape_html, found, page, refusal_page, stylesheet};
use super::kit::request::{
    Params, basic_credentials, bearer_token, form_credentials, own_base_url, parse_form,
    parse_query,
};
use super::kit::script::{Failure, Refusal, Script, Turn, answer, lose_body};
use super::kit::upload::{ContentRange, ReceivedBytes};
use super::kit::{FakeControls, KitWorld};
use crate::clock::{SharedClock, SystemClock};

const PLATFORM: &str = "YouTube";
/// `https://accounts.google.com/o/oauth2/v2/auth`.
const AUTHORIZE_PATH: &str = "/o/oauth2/v2/auth";
/// `https://www.googleapis.com/upload/youtube/v3/videos`: sessions open here (POST) and take
/// their bytes here (PUT, with the session's `upload_id`).
const UPLOAD_PATH: &str = "/upload/youtube/v3/videos";

/// platforms.md: `expires_in:~3599`.
const ACCESS_TOKEN_LIFETIME_SECS: i64 = 3599;
/// Google does not document it (unverified): ten minutes, RFC 6749's recommended maximum.
const CODE_LIFETIME_SECS: i64 = 600;
/// Google's upload guide: an upload session lasts a week.
const SESSION_LIFETIME_DAYS: i64 = 7;

/// Every chunk but the last is a multiple of this (256 KiB), and a PUT that breaks off keeps only
/// whole ones.
pub const CHUNK_GRANULARITY: u64 = 256 * 1024;
/// platforms.md: "file ≤ 256 GB" (read as GiB, the lenient reading).
const MAX_VIDEO_BYTES: u64 = 256 * 1024 * 1024 * 1024;
/// platforms.md (unverified there): title ≤ 100 characters, description ≤ 5,000 bytes.
const MAX_TITLE_CHARS: usize = 100;
const MAX_DESCRIPTION_BYTES: usize = 5000;
/// The fake's choice (YouTube's documented rule, unverified): all tags together ≤ 500
/// characters, a comma counted between tags and quotes around a tag with a space.
const MAX_TAGS_CHARS: usize = 500;
/// The fake's choice: the assignable categories of `videoCategories.list?regionCode=US`.
const CATEGORY_IDS: &[&str] = &[
    "1", "2", "10", "15", "17", "19", "20", "22", "23", "24", "25", "26", "27", "28", "29",
];
/// "People & Blogs", what YouTube files a video under when the upload names no category.
const DEFAULT_CATEGORY_ID: &str = "22";
const DEFAULT_MAX_RESULTS: usize = 5;
const MAX_MAX_RESULTS: usize = 50;

/// Random bytes in a channel id (`UC` + 22 characters) and a video id (11 characters).
const CHANNEL_ID_BYTES: usize = 16;
const VIDEO_ID_BYTES: usize = 8;

const SCOPE_UPLOAD: &str = "https://www.googleapis.com/auth/youtube.upload";
const SCOPE_READONLY: &str = "https://www.googleapis.com/auth/youtube.readonly";
const SCOPE_MANAGE: &str = "https://www.googleapis.com/auth/youtube";
const SCOPE_FORCE_SSL: &str = "https://www.googleapis.com/auth/youtube.force-ssl";
/// The scopes the consent screen knows; anything else is refused there.
const KNOWN_SCOPES: &[&str] = &[
    SCOPE_UPLOAD,
    SCOPE_READONLY,
    SCOPE_MANAGE,
    SCOPE_FORCE_SSL,
    "https://www.googleapis.com/auth/userinfo.profile",
    "https://www.googleapis.com/auth/userinfo.email",
    "openid",
    "profile",
    "email",
];
/// A call needs any one of its list (Google lists several scopes per method). The fake's choice,
/// following platforms.md ("`youtube.upload` (+ `youtube.readonly` to list)"): uploading takes
/// `youtube.upload`, every read (channel, video status, uploads playlist) takes
/// `youtube.readonly`, and the broad `youtube` and `youtube.force-ssl` open both.
const UPLOAD_SCOPES: &[&str] = &[SCOPE_UPLOAD, SCOPE_MANAGE, SCOPE_FORCE_SSL];
const READ_SCOPES: &[&str] = &[SCOPE_READONLY, SCOPE_MANAGE, SCOPE_FORCE_SSL];

/// The `part` names each resource knows; the fake renders `id`, `snippet`, `contentDetails`,
/// `status` and `processingDetails` and leaves the other known ones out.
const CHANNEL_PARTS: &[&str] = &[
    "id",
    "snippet",
    "contentDetails",
    "statistics",
    "status",
    "brandingSettings",
    "topicDetails",
    "localizations",
];
const VIDEO_PARTS: &[&str] = &[
    "id",
    "snippet",
    "contentDetails",
    "fileDetails",
    "liveStreamingDetails",
    "localizations",
    "player",
    "processingDetails",
    "recordingDetails",
    "statistics",
    "status",
    "suggestions",
    "topicDetails",
];
const PLAYLIST_ITEM_PARTS: &[&str] = &["id", "snippet", "contentDetails", "status"];
/// `videos.list` takes at most this many ids.
const MAX_VIDEO_IDS: usize = 50;

const USERNAMES: UsernameRule = UsernameRule {
    max_len: 30,
    extra_chars: "_.-",
    default: "sandbox_creator",
};

/// Stylesheet hrefs relative to each page: `/o/oauth2/v2/auth`, `/watch`, `/shorts/{id}`,
/// `/_control`.
const CONSENT_STYLESHEET: &str = "../../../sandbox.css";
const WATCH_STYLESHEET: &str = "sandbox.css";
const SHORTS_STYLESHEET: &str = "../sandbox.css";
const CONTROL_STYLESHEET: &str = "sandbox.css";

/// The fake's API endpoints, for scripting failures and counting requests. The consent screen and
/// the watch page are pages, not API calls, so they are not among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST /token`, both grant types.
    Token,
    /// `POST /revoke`.
    Revoke,
    /// `GET /youtube/v3/channels`.
    Channels,
    /// `POST /upload/youtube/v3/videos?uploadType=resumable`: opens a session.
    StartUpload,
    /// `PUT {session}` carrying bytes: the one whose last byte arrives creates the video.
    UploadBytes,
    /// `PUT {session}` with `Content-Range: bytes */{total}` and no bytes: how far the session is.
    ProbeUpload,
    /// `GET /youtube/v3/videos`.
    Videos,
    /// `GET /youtube/v3/playlistItems`.
    PlaylistItems,
}

/// What a request meets on top of, or instead of, its normal answer: any of the kit's failures,
/// rendered in Google's envelope, or one of YouTube's own refusals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum YouTubeFailure {
    /// One of the kit's failures, rendered in Google's envelope (see `scripted_refusal`).
    Kit(Failure),
    /// 403 `quotaExceeded`: the project's daily quota is spent (permanent until the reset at
    /// midnight Pacific).
    QuotaExceeded,
    /// 400 `uploadLimitExceeded`: the channel's daily upload cap (retry after 24 hours).
    UploadLimitExceeded,
    /// 403 `rateLimitExceeded`: retryable with backoff.
    RateLimitExceeded,
    /// 403 `userRateLimitExceeded`: retryable with backoff.
    UserRateLimitExceeded,
}

impl From<Failure> for YouTubeFailure {
    fn from(failure: Failure) -> Self {
        Self::Kit(failure)
    }
}

/// How an upload PUT is broken on purpose. Either way the session keeps the bytes that arrived
/// before the break, rounded down to a multiple of [`CHUNK_GRANULARITY`]. A PUT carrying no more
/// than the given number of bytes is not broken (the interruption is spent all the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interruption {
    /// After this many bytes of the PUT's body the connection breaks: the client meets a network
    /// error, not an answer.
    InterruptAfter(u64),
    /// After this many bytes the fake answers 503 `backendError` (it reads the rest of the body
    /// first, so the client surely sees the answer).
    ServerErrorAfter(u64),
    /// The connection breaks when half of the PUT's bytes have arrived.
    InterruptHalfway,
}

impl Interruption {
    /// Where a PUT of `expected` bytes breaks.
    fn after(self, expected: u64) -> u64 {
        match self {
            Self::InterruptAfter(bytes) | Self::ServerErrorAfter(bytes) => bytes,
            Self::InterruptHalfway => expected / 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privacy {
    Public,
    Unlisted,
    Private,
}

impl Privacy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Unlisted => "unlisted",
            Self::Private => "private",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        match value {
            "public" => Some(Self::Public),
            "unlisted" => Some(Self::Unlisted),
            "private" => Some(Self::Private),
            _ => None,
        }
    }
}

/// A video's `status.uploadStatus`. The processing sequence ([`YouTubeFake::set_processing_sequence`])
/// moves an uploaded video through these on successive status reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadStatus {
    /// All bytes arrived; processing has not finished.
    Uploaded,
    Processed,
    /// Processing failed (`failureReason: conversion`).
    Failed,
    /// YouTube refused the video (`rejectionReason: duplicate`).
    Rejected,
    Deleted,
}

impl UploadStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Uploaded => "uploaded",
            Self::Processed => "processed",
            Self::Failed => "failed",
            Self::Rejected => "rejected",
            Self::Deleted => "deleted",
        }
    }

    /// `processingDetails.processingStatus` for this upload status (the fake's mapping: a
    /// rejected or deleted video's processing was terminated).
    fn processing_status(self) -> &'static str {
        match self {
            Self::Uploaded => "processing",
            Self::Processed => "succeeded",
            Self::Failed => "failed",
            Self::Rejected | Self::Deleted => "terminated",
        }
    }
}

/// A video as the fake stored it: its metadata and a digest of its bytes (the bytes are not kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeVideo {
    pub id: String,
    pub channel_id: String,
    pub owner_username: String,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub category_id: String,
    /// What the upload asked for.
    pub requested_privacy: Privacy,
    /// Uploaded while the project was unaudited ([`YouTubeFake::set_unaudited`]): private
    /// whatever was asked, as YouTube locks such videos.
    pub locked_private: bool,
    pub made_for_kids: bool,
    pub publish_at: Option<DateTime<Utc>>,
    pub upload_status: UploadStatus,
    /// The session's `X-Upload-Content-Type`.
    pub content_type: String,
    pub size_bytes: u64,
    /// SHA-256 of every stored byte, lowercase hex: equal to the file's when the upload was right.
    pub sha256_hex: String,
    /// The session it arrived through.
    pub upload_id: String,
    pub published_at: DateTime<Utc>,
}

impl FakeVideo {
    /// Its privacy at `now`: private when locked; a scheduled private video is public from its
    /// `publish_at`.
    pub fn privacy_at(&self, now: DateTime<Utc>) -> Privacy {
        if self.locked_private {
            return Privacy::Private;
        }
        match self.publish_at {
            Some(publish_at) if now >= publish_at => Privacy::Public,
            _ => self.requested_privacy,
        }
    }
}

/// An upload session as the fake holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeUploadSession {
    pub upload_id: String,
    pub channel_id: String,
    pub title: String,
    /// `X-Upload-Content-Length`.
    pub total_bytes: u64,
    /// Bytes the session kept: what a probe reports.
    pub received_bytes: u64,
    /// Set at the last byte.
    pub video_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A handle on one fake YouTube that knows one confidential app. Clones share the same world.
#[derive(Clone)]
pub struct YouTubeFake {
    world: Arc<Mutex<World>>,
    /// Every byte that reached an upload PUT, kept or not; outside the world so streaming a body
    /// never takes the lock per frame.
    bytes_received: Arc<AtomicU64>,
    clock: SharedClock,
}

impl fmt::Debug for YouTubeFake {
    // The world holds tokens; printing them would gain a failing test nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("YouTubeFake").finish_non_exhaustive()
    }
}

impl YouTubeFake {
    /// A fake YouTube whose one registered app has these credentials, telling the real time.
    pub fn new(client_id: &str, client_secret: &str) -> Self {
        Self::with_clock(client_id, client_secret, Arc::new(SystemClock))
    }

    /// As [`YouTubeFake::new`], telling time by `clock`: a `ManualClock` lets a test expire codes,
    /// tokens and upload sessions without waiting. (`Slow` failures and latency still sleep in
    /// real time.)
    pub fn with_clock(client_id: &str, client_secret: &str, clock: SharedClock) -> Self {
        Self {
            world: Arc::new(Mutex::new(World::new(client_id, client_secret))),
            bytes_received: Arc::new(AtomicU64::new(0)),
            clock,
        }
    }

    /// All the fake's routes, relative to wherever the router is served or nested. Google's
    /// authorize, token, API and upload hosts are all this router: configure each base URL with
    /// the fake's address.
    pub fn router(&self) -> Router {
        Router::new()
            .route(AUTHORIZE_PATH, get(show_consent).post(record_decision))
            .route("/token", post(exchange_token))
            .route("/revoke", post(revoke))
            .route("/youtube/v3/channels", get(list_channels))
            .route("/youtube/v3/videos", get(list_videos))
            .route("/youtube/v3/playlistItems", get(list_playlist_items))
            // The PUT takes its body as a stream, to which axum's body limit does not apply.
            .route(UPLOAD_PATH, post(start_upload).put(put_upload))
            .route("/watch", get(show_watch))
            .route("/shorts/{video_id}", get(show_short))
            .route("/sandbox.css", get(stylesheet))
            .route("/_control", get(show_control).post(arm_control))
            .with_state(self.clone())
    }

    /// The absolute URL the fake is reached at (e.g. `http://127.0.0.1:4321`, or
    /// `https://app.example/sandbox/youtube`), for the session URIs it hands out. Without it, the
    /// URL is taken from each request that opens a session.
    pub fn set_base_url(&self, base_url: &str) {
        self.lock().base_url = Some(base_url.trim_end_matches('/').to_owned());
    }

    /// How long access tokens issued from now on live (default 3,599 s; 0 or less issues tokens
    /// that are already expired).
    pub fn set_access_token_lifetime(&self, secs: i64) {
        self.lock()
            .oauth
            .set_access_token_lifetime(Some(TimeDelta::seconds(secs)));
    }

    /// An unaudited API project (created after 2020-07-28) can only upload private videos: while
    /// set, every video whose last byte arrives is private whatever it asked for, and
    /// [`FakeVideo::locked_private`] says so.
    pub fn set_unaudited(&self, unaudited: bool) {
        self.lock().unaudited = unaudited;
    }

    /// How long an upload session lives from its start (default a week). It applies to sessions
    /// already open too, so a test can expire one; an expired session answers 404.
    pub fn set_session_lifetime(&self, lifetime: TimeDelta) {
        self.lock().session_lifetime = lifetime;
    }

    /// Queues `failures` for `endpoint`: each later request to it takes the next one, in order.
    /// Takes the kit's [`Failure`]s and YouTube's own refusals alike.
    pub fn fail_next<F: Into<YouTubeFailure>>(
        &self,
        endpoint: Endpoint,
        failures: impl IntoIterator<Item = F>,
    ) {
        // Collected first, so a caller's iterator never runs while the world is locked.
        let failures: Vec<YouTubeFailure> = failures.into_iter().map(Into::into).collect();
        self.lock()
            .scripted
            .entry(endpoint)
            .or_default()
            .extend(failures);
    }

    /// Breaks the next upload PUT that carries bytes, whichever session it is for, after it has
    /// delivered `bytes` bytes: the connection drops, and the session keeps those bytes rounded
    /// down to a multiple of [`CHUNK_GRANULARITY`].
    pub fn interrupt_next_upload_after(&self, bytes: u64) {
        self.interrupt_next_upload(Interruption::InterruptAfter(bytes));
    }

    /// Queues `interruption` for the next upload PUT that carries bytes, whichever session it is
    /// for (after any queued before it).
    pub fn interrupt_next_upload(&self, interruption: Interruption) {
        self.lock().interruptions.push_back(interruption);
    }

    /// Queues `interruption` for the next PUT with bytes to one session, named by its upload id
    /// or its whole session URI; it goes before any queued with
    /// [`YouTubeFake::interrupt_next_upload`]. False when no such session exists.
    pub fn interrupt_session(&self, session: &str, interruption: Interruption) -> bool {
        let upload_id = upload_id_in(session);
        let mut world = self.lock();
        match world
            .sessions
            .iter_mut()
            .find(|candidate| candidate.upload_id == upload_id)
        {
            Some(session) => {
                session.interruptions.push_back(interruption);
                true
            }
            None => false,
        }
    }

    /// What videos whose upload completes from now on report on successive status reads
    /// (`GET /youtube/v3/videos`); the last status stays. Default `[Processed]`: processed at
    /// the first read. `[Uploaded, Processed]` makes one read see it processing; `[Uploaded,
    /// Failed]` or `[Rejected]` make it fail. An empty sequence leaves videos `uploaded`.
    pub fn set_processing_sequence(&self, statuses: Vec<UploadStatus>) {
        self.lock().processing = statuses;
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

    /// The channel id (`UC...`) of the sandbox account with this username (case-insensitive),
    /// once it exists.
    pub fn channel_id(&self, username: &str) -> Option<String> {
        self.lock()
            .account_named(username)
            .map(|account| account.channel_id.clone())
    }

    /// The id of that channel's uploads playlist (`UU...`).
    pub fn uploads_playlist_id(&self, username: &str) -> Option<String> {
        self.lock()
            .account_named(username)
            .map(|account| account.uploads_playlist_id.clone())
    }

    /// Every video whose upload completed, oldest first. A session still missing bytes has made
    /// no video.
    pub fn videos(&self) -> Vec<FakeVideo> {
        self.lock()
            .videos
            .iter()
            .map(|record| record.video.clone())
            .collect()
    }

    pub fn video_count(&self) -> usize {
        self.lock().videos.len()
    }

    /// Every upload session ever opened, oldest first, expired ones included.
    pub fn upload_sessions(&self) -> Vec<FakeUploadSession> {
        self.lock().sessions.iter().map(Session::to_fake).collect()
    }

    pub fn upload_session_count(&self) -> usize {
        self.lock().sessions.len()
    }

    /// Every byte that reached an upload PUT, whether the session kept it or not: bytes sent
    /// again after an interruption count again, which is how a benchmark measures re-sent bytes.
    pub fn bytes_received_total(&self) -> u64 {
        self.bytes_received.load(Ordering::Relaxed)
    }

    /// Revocation requests the fake carried out (known token or not; not those a scripted
    /// failure refused).
    pub fn revoked_count(&self) -> usize {
        self.lock().oauth.counts().revocations
    }

    fn lock(&self) -> MutexGuard<'_, World> {
        // A test that panicked mid-request must not turn every later request into a panic.
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Runs one API request: counts it, and applies the next scripted failure for `endpoint`
    /// around `work`, in Google's envelope (OAuth's on the token and revocation endpoints).
    async fn answer(&self, endpoint: Endpoint, work: impl Future<Output = Response>) -> Response {
        let (turn, refusal) = self.lock().begin(endpoint);
        answer(
            turn,
            |refusal| scripted_refusal(endpoint, refusal),
            async move {
                match refusal {
                    Some(refusal) => refusal.into_response(),
                    None => work.await,
                }
            },
        )
        .await
    }

    // --- Upload bytes -------------------------------------------------------------------------

    /// A PUT with bytes: checks its range against the session, then streams the body into it.
    async fn receive(
        &self,
        upload_id: &str,
        range: Option<ContentRange>,
        headers: &HeaderMap,
        body: Body,
    ) -> Response {
        let now = self.now();
        let opened = self
            .lock()
            .open_put(upload_id, range, declared_length(headers), now);
        match opened {
            Ok(Opened::Receive(put)) => self.stream_into(put, body).await,
            // Reading what the client sends before answering lets it see the answer, rather than
            // a connection closed while it was still sending.
            Ok(Opened::Finished(resource)) => {
                self.drain(body.into_data_stream()).await;
                (StatusCode::OK, Json(resource)).into_response()
            }
            Err(refusal) => {
                self.drain(body.into_data_stream()).await;
                refusal.into_response()
            }
        }
    }

    /// Streams a PUT's bytes into its session: counted, hashed, and kept at every whole 256 KiB
    /// (and at the PUT's end), so whatever breaks the PUT, the session holds what a probe will
    /// report. The byte that completes the file creates the video then and there.
    async fn stream_into(&self, mut put: Put, body: Body) -> Response {
        let break_at = put
            .interruption
            .filter(|interruption| interruption.after(put.expected) < put.expected);
        let mut stream = body.into_data_stream();
        let mut arrived: u64 = 0;
        while let Some(frame) = stream.next().await {
            let Ok(mut data) = frame else {
                // The client broke off; what was kept stays kept, and nobody reads this answer.
                return StatusCode::BAD_REQUEST.into_response();
            };
            if let Some(interruption) = break_at {
                let room = interruption.after(put.expected) - arrived;
                data.truncate(usize::try_from(room).unwrap_or(usize::MAX));
            }
            let len = data.len() as u64;
            self.bytes_received.fetch_add(len, Ordering::Relaxed);
            if arrived + len > put.expected {
                self.drain(stream).await;
                return ApiError::bad_request(format!(
                    "The request carries more than the {} bytes its Content-Range (or, without \
                     one, X-Upload-Content-Length) announced.",
                    put.expected
                ))
                .into_response();
            }
            arrived += len;
            let mut current = true;
            put.stored
                .append_with_checkpoints(&data, CHUNK_GRANULARITY, |so_far| {
                    current &= self.keep(&put.upload_id, put.epoch, so_far);
                });
            if current && arrived == put.expected {
                current = self.keep(&put.upload_id, put.epoch, &put.stored);
            }
            if !current {
                return lose_body(
                    ApiError::new(
                        StatusCode::CONFLICT,
                        "global",
                        "conflict",
                        "A later request took this upload session over.",
                    )
                    .into_response(),
                );
            }
            match break_at {
                Some(Interruption::ServerErrorAfter(after)) if arrived == after => {
                    self.drain(stream).await;
                    return backend_error(StatusCode::SERVICE_UNAVAILABLE);
                }
                Some(interruption) if arrived == interruption.after(put.expected) => {
                    return lose_body(backend_error(StatusCode::SERVICE_UNAVAILABLE));
                }
                _ => {}
            }
        }
        if arrived < put.expected {
            return ApiError::bad_request(format!(
                "The request ended after {arrived} of the {} bytes it announced; the session kept \
                 whole 256 KiB chunks only: probe it to resume.",
                put.expected
            ))
            .into_response();
        }
        let now = self.now();
        self.lock().put_outcome(&put.upload_id, now)
    }

    fn keep(&self, upload_id: &str, epoch: u64, so_far: &ReceivedBytes) -> bool {
        let now = self.now();
        self.lock().keep(upload_id, epoch, so_far, now)
    }

    /// Reads the rest of a body, counting its bytes and keeping none.
    async fn drain(&self, mut stream: impl Stream<Item = Result<Bytes, axum::Error>> + Unpin) {
        while let Some(Ok(data)) = stream.next().await {
            self.bytes_received
                .fetch_add(data.len() as u64, Ordering::Relaxed);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers: parse the request, hand the work to `YouTubeFake::answer`.

async fn show_consent(State(fake): State<YouTubeFake>, RawQuery(query): RawQuery) -> Response {
    let params = parse_query(query.as_deref());
    let world = fake.lock();
    let checked = world
        .oauth
        .check_authorize(&params)
        .and_then(|request| GoogleAuthorize::parse(&params).map(|google| (request, google)));
    match checked {
        Ok((request, google)) => {
            let mut hidden = world.oauth.consent_fields(&request);
            hidden.extend(google.consent_fields());
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

async fn record_decision(State(fake): State<YouTubeFake>, body: Bytes) -> Response {
    let params = parse_form(&body);
    let now = fake.now();
    let outcome = fake.lock().decide(&params, now);
    match outcome {
        Ok(location) => found(&location),
        Err(problem) => refusal_page(PLATFORM, &problem, CONSENT_STYLESHEET),
    }
}

async fn exchange_token(
    State(fake): State<YouTubeFake>,
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

/// `POST /revoke?token=..`, or the token in the form body.
async fn revoke(
    State(fake): State<YouTubeFake>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let mut params = parse_form(&body);
    params.extend(parse_query(query.as_deref()));
    fake.answer(Endpoint::Revoke, async {
        fake.lock().revoke(params.get("token").map(String::as_str))
    })
    .await
}

async fn list_channels(
    State(fake): State<YouTubeFake>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = parse_query(query.as_deref());
    fake.answer(Endpoint::Channels, async {
        let now = fake.now();
        json_answer(fake.lock().channels(&headers, &query, now))
    })
    .await
}

async fn list_videos(
    State(fake): State<YouTubeFake>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = parse_query(query.as_deref());
    fake.answer(Endpoint::Videos, async {
        let now = fake.now();
        json_answer(fake.lock().list_videos(&headers, &query, now))
    })
    .await
}

async fn list_playlist_items(
    State(fake): State<YouTubeFake>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = parse_query(query.as_deref());
    fake.answer(Endpoint::PlaylistItems, async {
        let now = fake.now();
        json_answer(fake.lock().playlist_items(&headers, &query, now))
    })
    .await
}

async fn start_upload(
    State(fake): State<YouTubeFake>,
    OriginalUri(original): OriginalUri,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reached_at = own_base_url(&headers, &original, &uri);
    let query = parse_query(uri.query());
    fake.answer(Endpoint::StartUpload, async {
        let now = fake.now();
        fake.lock()
            .start_upload(&headers, &query, &body, &reached_at, now)
            .unwrap_or_else(IntoResponse::into_response)
    })
    .await
}

/// `PUT {session}`: a probe when its `Content-Range` is `bytes */{total}`, bytes otherwise. A
/// body the answer does not need is still read (and counted) before the answer goes out.
///
/// The session URI is the credential: an `Authorization` header is neither needed nor checked
/// (the fake's choice; Google's guide sends one, but an access token that expires during an
/// hour-long upload must not be what breaks it).
async fn put_upload(
    State(fake): State<YouTubeFake>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let upload_id = parse_query(query.as_deref())
        .remove("upload_id")
        .unwrap_or_default();
    // `None`: no header (the whole file); `Some(None)`: a header that does not parse.
    let range = headers
        .get(header::CONTENT_RANGE)
        .map(|value| value.to_str().ok().and_then(ContentRange::parse));
    let mut body = Some(body);
    let response = match range {
        Some(Some(ContentRange::Unsatisfied { total })) => {
            fake.answer(Endpoint::ProbeUpload, async {
                let now = fake.now();
                fake.lock()
                    .probe(&upload_id, total, declared_length(&headers), now)
                    .unwrap_or_else(IntoResponse::into_response)
            })
            .await
        }
        Some(None) => {
            fake.answer(Endpoint::UploadBytes, async {
                ApiError::bad_request(
                    "Content-Range must read bytes {first}-{last}/{total} or bytes */{total}.",
                )
                .into_response()
            })
            .await
        }
        whole_or_chunk => {
            fake.answer(Endpoint::UploadBytes, async {
                let body = body.take().unwrap_or_default();
                fake.receive(&upload_id, whole_or_chunk.flatten(), &headers, body)
                    .await
            })
            .await
        }
    };
    if let Some(unread) = body {
        fake.drain(unread.into_data_stream()).await;
    }
    response
}

async fn show_watch(State(fake): State<YouTubeFake>, RawQuery(query): RawQuery) -> Response {
    let video_id = parse_query(query.as_deref())
        .remove("v")
        .unwrap_or_default();
    watch(&fake, &video_id, WATCH_STYLESHEET)
}

async fn show_short(State(fake): State<YouTubeFake>, Path(video_id): Path<String>) -> Response {
    watch(&fake, &video_id, SHORTS_STYLESHEET)
}

fn watch(fake: &YouTubeFake, video_id: &str, stylesheet: &str) -> Response {
    let video = fake
        .lock()
        .videos
        .iter()
        .find(|record| record.video.id == video_id)
        .map(|record| record.video.clone());
    match video {
        Some(video) => Html(watch_page(&video, fake.now(), stylesheet)).into_response(),
        None => (StatusCode::NOT_FOUND, Html(missing_video_page(stylesheet))).into_response(),
    }
}

/// The control page's own failure: the next upload breaks halfway.
const HALFWAY: &str = "upload_breaks_halfway";

/// The failures the control page offers, by form value.
fn control_choices() -> Vec<ControlChoice> {
    standard_choices("The request metadata specifies an invalid or empty video title.")
}

/// Where a failure armed on the control page lands: a lost answer on the PUT whose last byte
/// creates the video, everything else on opening the session.
fn control_endpoint(failure: &Failure) -> Endpoint {
    match failure {
        Failure::CreatedThenDropped | Failure::CreatedThenSlow(_) => Endpoint::UploadBytes,
        _ => Endpoint::StartUpload,
    }
}

/// `GET /_control`: arm a failure for the next upload, see what the sandbox holds.
async fn show_control(State(fake): State<YouTubeFake>) -> Response {
    let choices = control_choices();
    let (armed, recent) = {
        let world = fake.lock();
        let recent: Vec<Recent> = world
            .videos
            .iter()
            .rev()
            .take(20)
            .map(|record| Recent {
                href: format!("watch?v={}", record.video.id),
                text: format!("{}: {}", record.video.owner_username, record.video.title),
            })
            .collect();
        let armed = world.armed(Endpoint::StartUpload)
            + world.armed(Endpoint::UploadBytes)
            + world.interruptions.len();
        (armed, recent)
    };
    Html(control_page(&Control {
        platform: PLATFORM,
        item: "video",
        choices: &choices,
        own_choices: &[(
            HALFWAY,
            "The upload breaks halfway: resumed from the byte YouTube confirmed",
        )],
        armed,
        recent: &recent,
        stylesheet: CONTROL_STYLESHEET,
    }))
    .into_response()
}

async fn arm_control(State(fake): State<YouTubeFake>, body: Bytes) -> Response {
    let form = parse_form(&body);
    if form.get("failure").map(String::as_str) == Some(HALFWAY) {
        fake.interrupt_next_upload(Interruption::InterruptHalfway);
        return back_to_control();
    }
    match chosen_failure(&control_choices(), &form) {
        Some(failure) => {
            fake.fail_next(control_endpoint(&failure), [failure]);
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
    /// Counts requests and plays the kit's failures; its own queue holds at most the one failure
    /// being dealt (the queue of record is `scripted`, which also holds YouTube's own refusals).
    script: Script<Endpoint>,
    scripted: HashMap<Endpoint, VecDeque<YouTubeFailure>>,
    /// For the next upload PUTs of any session.
    interruptions: VecDeque<Interruption>,
    base_url: Option<String>,
    unaudited: bool,
    session_lifetime: TimeDelta,
    processing: Vec<UploadStatus>,
    accounts: Vec<Account>,
    sessions: Vec<Session>,
    videos: Vec<VideoRecord>,
}

#[derive(Debug, Clone)]
struct Account {
    /// Also the account id its tokens are granted to.
    channel_id: String,
    uploads_playlist_id: String,
    username: String,
    created_at: DateTime<Utc>,
}

/// What `POST {upload}/videos` asked for, checked.
#[derive(Debug, Clone)]
struct Draft {
    title: String,
    description: String,
    tags: Vec<String>,
    category_id: String,
    privacy: Privacy,
    made_for_kids: bool,
    publish_at: Option<DateTime<Utc>>,
    content_type: String,
    total: u64,
}

#[derive(Debug)]
struct Session {
    upload_id: String,
    channel_id: String,
    draft: Draft,
    /// What the session kept: a probe's answer.
    stored: ReceivedBytes,
    /// Bumped by every PUT that reaches the session; a PUT still streaming with an older number
    /// has been taken over and keeps nothing more.
    epoch: u64,
    interruptions: VecDeque<Interruption>,
    video_id: Option<String>,
    created_at: DateTime<Utc>,
}

impl Session {
    fn to_fake(&self) -> FakeUploadSession {
        FakeUploadSession {
            upload_id: self.upload_id.clone(),
            channel_id: self.channel_id.clone(),
            title: self.draft.title.clone(),
            total_bytes: self.draft.total,
            received_bytes: self.stored.len(),
            video_id: self.video_id.clone(),
            created_at: self.created_at,
        }
    }
}

#[derive(Debug)]
struct VideoRecord {
    video: FakeVideo,
    /// The statuses later reads will report, front first.
    upcoming: VecDeque<UploadStatus>,
}

/// A PUT whose range matched its session, ready to stream.
#[derive(Debug)]
struct Put {
    upload_id: String,
    epoch: u64,
    /// Bytes this PUT must carry.
    expected: u64,
    /// The session's bytes so far, continued by this PUT.
    stored: ReceivedBytes,
    interruption: Option<Interruption>,
}

#[derive(Debug)]
enum Opened {
    Receive(Put),
    /// The session already made its video: the answer is the video, whatever was sent.
    Finished(Value),
}

/// Google's own authorize parameters, beyond OAuth's.
#[derive(Debug, Clone, Default)]
struct GoogleAuthorize {
    access_type: Option<String>,
    prompt: Option<String>,
}

impl GoogleAuthorize {
    /// `access_type` is `online` (the default) or `offline`; `prompt` is a space-separated list
    /// of `none`, `consent` and `select_account`, `none` alone.
    fn parse(params: &Params) -> Result<Self, String> {
        let access_type = params.get("access_type").cloned();
        if let Some(value) = access_type.as_deref()
            && !matches!(value, "online" | "offline")
        {
            return Err(format!(
                "Invalid access_type \"{value}\": it is online or offline."
            ));
        }
        let prompt = params.get("prompt").cloned();
        if let Some(value) = prompt.as_deref() {
            let values: Vec<&str> = value.split(' ').filter(|v| !v.is_empty()).collect();
            if let Some(unknown) = values
                .iter()
                .find(|v| !matches!(**v, "none" | "consent" | "select_account"))
            {
                return Err(format!(
                    "Invalid prompt \"{unknown}\": it is none, consent or select_account."
                ));
            }
            if values.contains(&"none") && values.len() > 1 {
                return Err("prompt=none cannot be combined with other prompts.".to_owned());
            }
        }
        Ok(Self {
            access_type,
            prompt,
        })
    }

    fn offline(&self) -> bool {
        self.access_type.as_deref() == Some("offline")
    }

    fn prompts_consent(&self) -> bool {
        self.prompt
            .as_deref()
            .is_some_and(|prompt| prompt.split(' ').any(|value| value == "consent"))
    }

    /// The parameters again, for the consent form's hidden fields.
    fn consent_fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = Vec::new();
        if let Some(access_type) = &self.access_type {
            fields.push(("access_type", access_type.clone()));
        }
        if let Some(prompt) = &self.prompt {
            fields.push(("prompt", prompt.clone()));
        }
        fields
    }
}

impl World {
    fn new(client_id: &str, client_secret: &str) -> Self {
        Self {
            oauth: AuthorizationServer::new(OAuthConfig {
                client_id: client_id.to_owned(),
                client_secret: client_secret.to_owned(),
                known_scopes: KNOWN_SCOPES,
                scope_separator: ' ',
                pkce: Pkce::Optional,
                state_required: false,
                code_lifetime: TimeDelta::seconds(CODE_LIFETIME_SECS),
                access_token_lifetime: Some(TimeDelta::seconds(ACCESS_TOKEN_LIFETIME_SECS)),
                // "Long-lived": they die by revocation, not by age.
                refresh: Some(RefreshPolicy {
                    lifetime: None,
                    rotation: Rotation::Keep,
                    only_with_scope: None,
                }),
                access_token_prefix: "ya29.",
                refresh_token_prefix: "1//",
            }),
            script: Script::default(),
            scripted: HashMap::new(),
            interruptions: VecDeque::new(),
            base_url: None,
            unaudited: false,
            session_lifetime: TimeDelta::days(SESSION_LIFETIME_DAYS),
            processing: vec![UploadStatus::Processed],
            accounts: Vec::new(),
            sessions: Vec::new(),
            videos: Vec::new(),
        }
    }

    /// Counts a request to `endpoint` and deals it its next scripted failure: a kit failure goes
    /// to the kit's script to be played; one of YouTube's own comes back as the answer.
    fn begin(&mut self, endpoint: Endpoint) -> (Turn, Option<ApiError>) {
        let next = self
            .scripted
            .get_mut(&endpoint)
            .and_then(VecDeque::pop_front);
        let refusal = match next {
            None => None,
            Some(YouTubeFailure::Kit(failure)) => {
                self.script.fail_next(endpoint, vec![failure]);
                None
            }
            Some(YouTubeFailure::QuotaExceeded) => Some(ApiError::new(
                StatusCode::FORBIDDEN,
                "youtube.quota",
                "quotaExceeded",
                "The request cannot be completed because you have exceeded your quota.",
            )),
            Some(YouTubeFailure::UploadLimitExceeded) => Some(ApiError::new(
                StatusCode::BAD_REQUEST,
                "youtube.video",
                "uploadLimitExceeded",
                "The user has exceeded the number of videos they may upload.",
            )),
            Some(YouTubeFailure::RateLimitExceeded) => Some(ApiError::new(
                StatusCode::FORBIDDEN,
                "usageLimits",
                "rateLimitExceeded",
                "Rate Limit Exceeded",
            )),
            Some(YouTubeFailure::UserRateLimitExceeded) => Some(ApiError::new(
                StatusCode::FORBIDDEN,
                "usageLimits",
                "userRateLimitExceeded",
                "User Rate Limit Exceeded",
            )),
        };
        (self.script.begin(endpoint), refusal)
    }

    fn armed(&self, endpoint: Endpoint) -> usize {
        self.scripted.get(&endpoint).map_or(0, VecDeque::len)
    }

    // --- Consent and accounts -----------------------------------------------------------------

    /// The consent's outcome, as the URL Google would redirect the browser to. Shared by the form
    /// handler and [`YouTubeFake::authorize_directly`], so both check the same things.
    ///
    /// A refresh token comes with the code only for `access_type=offline`, and when the account
    /// already holds a live one, only if the app asked for `prompt=consent` again (Google returns
    /// it on the first consent, and on a repeat consent only when prompted).
    fn decide(&mut self, params: &Params, now: DateTime<Utc>) -> Result<String, String> {
        let request = self.oauth.check_authorize(params)?;
        let google = GoogleAuthorize::parse(params)?;
        match Decision::from_form(params)? {
            Decision::Deny => Ok(request.denied_location()),
            Decision::Allow { username } => {
                USERNAMES.check(&username)?;
                let account = self.account_for(&username, now);
                let first_offline = !self.oauth.has_live_refresh_token(&account.channel_id, now);
                let access = if google.offline() && (first_offline || google.prompts_consent()) {
                    Access::Offline
                } else {
                    Access::Online
                };
                Ok(self
                    .oauth
                    .approve_for(request, &account.channel_id, access, now))
            }
        }
    }

    fn account_named(&self, username: &str) -> Option<&Account> {
        self.accounts
            .iter()
            .find(|account| account.username.eq_ignore_ascii_case(username))
    }

    /// The sandbox account with this username, made on first use with its channel, so a new
    /// account can upload at once.
    fn account_for(&mut self, username: &str, now: DateTime<Utc>) -> Account {
        if let Some(account) = self.account_named(username) {
            return account.clone();
        }
        let suffix = random_base64url(CHANNEL_ID_BYTES);
        let account = Account {
            channel_id: format!("UC{suffix}"),
            uploads_playlist_id: format!("UU{suffix}"),
            username: username.to_owned(),
            created_at: now,
        };
        self.accounts.push(account.clone());
        account
    }

    /// The account behind a live bearer token carrying any one of `scopes`, or Google's 401/403.
    fn authenticate(
        &self,
        headers: &HeaderMap,
        scopes: &[&str],
        now: DateTime<Utc>,
    ) -> Result<Account, ApiError> {
        let grant = self
            .oauth
            .authenticate(bearer_token(headers), &[], now)
            .map_err(bearer_refusal)?;
        if !scopes.iter().any(|scope| grant.scopes.contains(scope)) {
            return Err(insufficient_permissions(scopes));
        }
        self.accounts
            .iter()
            .find(|account| account.channel_id == grant.account_id)
            .cloned()
            .ok_or_else(|| bearer_refusal(BearerError::Unknown))
    }

    // --- Tokens -------------------------------------------------------------------------------

    /// Google takes the client as HTTP Basic or as `client_id`/`client_secret` in the form.
    fn token(&mut self, headers: &HeaderMap, params: &Params, now: DateTime<Utc>) -> Response {
        let client = basic_credentials(headers).or_else(|| form_credentials(params));
        match self.oauth.token_request(client.as_ref(), params, None, now) {
            Ok(tokens) => Json(token_json(&tokens)).into_response(),
            Err(error) => oauth_refusal(&error, params.get("grant_type").map(String::as_str)),
        }
    }

    /// Revoking either token of a grant ends the whole grant. An unknown token gets Google's 400
    /// `invalid_token` (the fake's reading; RFC 7009 would answer 200).
    fn revoke(&mut self, token: Option<&str>) -> Response {
        let Some(token) = token.filter(|token| !token.is_empty()) else {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Missing required parameter: token",
            );
        };
        if self.oauth.revoke_grant(token) {
            StatusCode::OK.into_response()
        } else {
            oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_token",
                "Token expired or revoked",
            )
        }
    }

    // --- Reads --------------------------------------------------------------------------------

    /// `mine=true` (the caller's channel) or `id=` (channels by id).
    fn channels(
        &self,
        headers: &HeaderMap,
        query: &Params,
        now: DateTime<Utc>,
    ) -> Result<Value, ApiError> {
        let caller = self.authenticate(headers, READ_SCOPES, now)?;
        let parts = Parts::parse(query, CHANNEL_PARTS)?;
        let channels: Vec<&Account> = if query.get("mine").map(String::as_str) == Some("true") {
            self.accounts
                .iter()
                .filter(|account| account.channel_id == caller.channel_id)
                .collect()
        } else if let Some(ids) = query.get("id") {
            ids.split(',')
                .filter_map(|id| {
                    self.accounts
                        .iter()
                        .find(|account| account.channel_id == id.trim())
                })
                .collect()
        } else {
            return Err(missing_filter("mine, id"));
        };
        let items: Vec<Value> = channels
            .iter()
            .map(|account| channel_json(account, &parts))
            .collect();
        Ok(list_json("youtube#channelListResponse", items, None, None))
    }

    /// `id=` (comma-separated). The caller sees its own videos whatever their privacy and other
    /// channels' public ones; each read of its own video moves it along the processing sequence.
    fn list_videos(
        &mut self,
        headers: &HeaderMap,
        query: &Params,
        now: DateTime<Utc>,
    ) -> Result<Value, ApiError> {
        let caller = self.authenticate(headers, READ_SCOPES, now)?;
        let parts = Parts::parse(query, VIDEO_PARTS)?;
        let Some(ids) = query.get("id") else {
            return Err(missing_filter("id"));
        };
        let ids: Vec<&str> = ids
            .split(',')
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .collect();
        if ids.len() > MAX_VIDEO_IDS {
            return Err(ApiError::parameter(
                "id",
                "The request specifies more than 50 video ids.",
            ));
        }
        let mut items = Vec::new();
        for id in ids {
            let Some(record) = self.videos.iter_mut().find(|record| record.video.id == id) else {
                continue;
            };
            let own = record.video.channel_id == caller.channel_id;
            if !own && record.video.privacy_at(now) != Privacy::Public {
                continue;
            }
            if own && let Some(next) = record.upcoming.pop_front() {
                record.video.upload_status = next;
            }
            items.push(video_json(&record.video, &parts, now));
        }
        Ok(list_json("youtube#videoListResponse", items, None, None))
    }

    /// A channel's uploads playlist, newest first, in pages of `maxResults` (default 5, at most
    /// 50) linked by `pageToken`: what reconciliation reads after an unknown outcome.
    fn playlist_items(
        &self,
        headers: &HeaderMap,
        query: &Params,
        now: DateTime<Utc>,
    ) -> Result<Value, ApiError> {
        let caller = self.authenticate(headers, READ_SCOPES, now)?;
        let parts = Parts::parse(query, PLAYLIST_ITEM_PARTS)?;
        let Some(playlist_id) = query.get("playlistId") else {
            return Err(missing_filter("id, playlistId"));
        };
        let owner = self
            .accounts
            .iter()
            .find(|account| &account.uploads_playlist_id == playlist_id)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "youtube.playlistItem",
                    "playlistNotFound",
                    "The playlist identified with the request's playlistId parameter cannot be \
                     found.",
                )
            })?;
        let size = max_results(query)?;
        let own = owner.channel_id == caller.channel_id;
        let listed: Vec<&FakeVideo> = self
            .videos
            .iter()
            .rev()
            .map(|record| &record.video)
            .filter(|video| video.channel_id == owner.channel_id)
            .filter(|video| video.upload_status != UploadStatus::Deleted)
            .filter(|video| own || video.privacy_at(now) == Privacy::Public)
            .collect();
        let page = page_of(
            listed.iter().copied(),
            |video| video.id.as_str(),
            size,
            query.get("pageToken").map(String::as_str),
        )
        .map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "youtube.parameter",
                "invalidPageToken",
                "The request specifies an invalid page token.",
            )
        })?;
        let items: Vec<Value> = page
            .items
            .iter()
            .map(|video| {
                let position = listed
                    .iter()
                    .position(|listed| listed.id == video.id)
                    .unwrap_or_default();
                playlist_item_json(video, owner, position, &parts, now)
            })
            .collect();
        Ok(list_json(
            "youtube#playlistItemListResponse",
            items,
            page.next,
            Some((listed.len(), size)),
        ))
    }

    // --- Upload sessions ----------------------------------------------------------------------

    /// Opens a session: 200, no body, the session URI in `Location`. Nothing exists on the
    /// channel yet.
    fn start_upload(
        &mut self,
        headers: &HeaderMap,
        query: &Params,
        body: &[u8],
        reached_at: &str,
        now: DateTime<Utc>,
    ) -> Result<Response, ApiError> {
        let owner = self.authenticate(headers, UPLOAD_SCOPES, now)?;
        let draft = check_start(headers, query, body, now)?;
        let upload_id = random_token("");
        let location = format!(
            "{}{UPLOAD_PATH}?uploadType=resumable&upload_id={upload_id}",
            self.base_url.as_deref().unwrap_or(reached_at)
        );
        let header_value = |text: &str| {
            HeaderValue::from_str(text).map_err(|_| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "global",
                    "backendError",
                    "The session URI cannot be sent in a header (the fake's base URL is odd).",
                )
            })
        };
        let headers = [
            (header::LOCATION, header_value(&location)?),
            (
                header::HeaderName::from_static("x-guploader-uploadid"),
                header_value(&upload_id)?,
            ),
        ];
        self.sessions.push(Session {
            upload_id: upload_id.clone(),
            channel_id: owner.channel_id,
            draft,
            stored: ReceivedBytes::new(),
            epoch: 0,
            interruptions: VecDeque::new(),
            video_id: None,
            created_at: now,
        });
        Ok((StatusCode::OK, headers).into_response())
    }

    /// The index of a session that exists and has not expired; Google's 404 otherwise.
    fn live_session(&self, upload_id: &str, now: DateTime<Utc>) -> Result<usize, ApiError> {
        self.sessions
            .iter()
            .position(|session| {
                session.upload_id == upload_id && now < session.created_at + self.session_lifetime
            })
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "global",
                    "notFound",
                    "The upload session does not exist or has expired: start a new one.",
                )
            })
    }

    /// Checks a PUT's range against its session and, if it fits, takes the session over for it.
    fn open_put(
        &mut self,
        upload_id: &str,
        range: Option<ContentRange>,
        declared: Option<u64>,
        now: DateTime<Utc>,
    ) -> Result<Opened, ApiError> {
        let index = self.live_session(upload_id, now)?;
        if let Some(resource) = self.finished_video(index, now) {
            return Ok(Opened::Finished(resource));
        }
        let session = &mut self.sessions[index];
        let total = session.draft.total;
        let held = session.stored.len();
        let expected = match range {
            None if held == 0 => total,
            None => {
                return Err(ApiError::bad_request(format!(
                    "The session already holds {held} bytes: send the rest with Content-Range: \
                     bytes {held}-{}/{total}.",
                    total - 1
                )));
            }
            Some(ContentRange::Bytes {
                first,
                last,
                total: announced,
            }) => {
                if announced != Some(total) {
                    return Err(ApiError::bad_request(format!(
                        "Content-Range must end in /{total}, the size announced when the session \
                         started."
                    )));
                }
                if first != held {
                    return Err(ApiError::bad_request(format!(
                        "This chunk starts at byte {first}, but the session holds {held} bytes: \
                         it must start at {held} (probe with Content-Range: bytes */{total})."
                    )));
                }
                if last >= total {
                    return Err(ApiError::bad_request(format!(
                        "This chunk ends at byte {last}, past the end of a {total}-byte file."
                    )));
                }
                let len = last - first + 1;
                if last + 1 < total && !len.is_multiple_of(CHUNK_GRANULARITY) {
                    return Err(ApiError::bad_request(format!(
                        "Every chunk but the last must be a multiple of {CHUNK_GRANULARITY} bytes \
                         (256 KiB); this one is {len}."
                    )));
                }
                len
            }
            Some(ContentRange::Unsatisfied { .. }) => {
                return Err(ApiError::bad_request(
                    "A probe (bytes */{total}) carries no bytes.",
                ));
            }
        };
        if let Some(declared) = declared.filter(|declared| *declared != expected) {
            return Err(ApiError::bad_request(format!(
                "Content-Length is {declared}, but the range announces {expected} bytes."
            )));
        }
        session.epoch += 1;
        let interruption = session
            .interruptions
            .pop_front()
            .or_else(|| self.interruptions.pop_front());
        Ok(Opened::Receive(Put {
            upload_id: session.upload_id.clone(),
            epoch: session.epoch,
            expected,
            stored: session.stored.clone(),
            interruption,
        }))
    }

    /// `PUT {session}` with `Content-Range: bytes */{total}`: 308 with how far the session is,
    /// or the video once it exists. It takes the session over from any PUT still streaming, so
    /// the answer stays true until the client's next PUT.
    fn probe(
        &mut self,
        upload_id: &str,
        total: Option<u64>,
        declared: Option<u64>,
        now: DateTime<Utc>,
    ) -> Result<Response, ApiError> {
        let index = self.live_session(upload_id, now)?;
        if declared.is_some_and(|declared| declared != 0) {
            return Err(ApiError::bad_request(
                "A probe (Content-Range: bytes */{total}) must have Content-Length: 0.",
            ));
        }
        if total != Some(self.sessions[index].draft.total) {
            return Err(ApiError::bad_request(format!(
                "A probe must name the size announced when the session started: bytes */{}.",
                self.sessions[index].draft.total
            )));
        }
        if let Some(resource) = self.finished_video(index, now) {
            return Ok((StatusCode::OK, Json(resource)).into_response());
        }
        let session = &mut self.sessions[index];
        session.epoch += 1;
        Ok(resume_incomplete(session.stored.len()))
    }

    /// Keeps `so_far` as the session's bytes if the PUT still owns the session, and creates the
    /// video when they are the whole file. False when a later request took the session over.
    fn keep(
        &mut self,
        upload_id: &str,
        epoch: u64,
        so_far: &ReceivedBytes,
        now: DateTime<Utc>,
    ) -> bool {
        let Some(index) = self
            .sessions
            .iter()
            .position(|session| session.upload_id == upload_id && session.epoch == epoch)
        else {
            return false;
        };
        let session = &mut self.sessions[index];
        if so_far.len() > session.stored.len() {
            session.stored = so_far.clone();
        }
        if session.stored.len() == session.draft.total && session.video_id.is_none() {
            self.commit(index, now);
        }
        true
    }

    /// The last byte arrived: the video exists from now on.
    fn commit(&mut self, index: usize, now: DateTime<Utc>) {
        let session = &self.sessions[index];
        let owner_username = self
            .accounts
            .iter()
            .find(|account| account.channel_id == session.channel_id)
            .map(|account| account.username.clone())
            .unwrap_or_default();
        let draft = session.draft.clone();
        let video = FakeVideo {
            id: random_base64url(VIDEO_ID_BYTES),
            channel_id: session.channel_id.clone(),
            owner_username,
            title: draft.title,
            description: draft.description,
            tags: draft.tags,
            category_id: draft.category_id,
            requested_privacy: draft.privacy,
            locked_private: self.unaudited,
            made_for_kids: draft.made_for_kids,
            publish_at: draft.publish_at,
            upload_status: UploadStatus::Uploaded,
            content_type: draft.content_type,
            size_bytes: session.stored.len(),
            sha256_hex: session.stored.sha256_hex(),
            upload_id: session.upload_id.clone(),
            published_at: now,
        };
        self.sessions[index].video_id = Some(video.id.clone());
        self.videos.push(VideoRecord {
            video,
            upcoming: self.processing.clone().into(),
        });
    }

    /// The video a session made, as the upload answers it (`snippet` and `status`).
    fn finished_video(&self, index: usize, now: DateTime<Utc>) -> Option<Value> {
        let video_id = self.sessions[index].video_id.as_deref()?;
        let record = self
            .videos
            .iter()
            .find(|record| record.video.id == video_id)?;
        Some(video_json(&record.video, &Parts::upload(), now))
    }

    /// The answer to a PUT that delivered all it announced: 201 and the video when it completed
    /// the file, 308 with the session's range otherwise.
    fn put_outcome(&self, upload_id: &str, now: DateTime<Utc>) -> Response {
        let Some(index) = self
            .sessions
            .iter()
            .position(|session| session.upload_id == upload_id)
        else {
            return StatusCode::NOT_FOUND.into_response();
        };
        match self.finished_video(index, now) {
            Some(resource) => (StatusCode::CREATED, Json(resource)).into_response(),
            None => resume_incomplete(self.sessions[index].stored.len()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Checking a new upload.

/// The body of `POST {upload}/videos`. Fields the fake does not check are ignored.
#[derive(Debug, Deserialize)]
struct NewVideo {
    snippet: Option<NewSnippet>,
    status: Option<NewStatus>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewSnippet {
    title: Option<String>,
    description: Option<String>,
    tags: Option<Vec<String>>,
    category_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewStatus {
    privacy_status: Option<String>,
    self_declared_made_for_kids: Option<Value>,
    publish_at: Option<String>,
}

/// Everything about opening a session that needs no world: the request's shape, its headers,
/// then the metadata in the order of the resource.
fn check_start(
    headers: &HeaderMap,
    query: &Params,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Draft, ApiError> {
    if query.get("uploadType").map(String::as_str) != Some("resumable") {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "global",
            "wrongUrlForUpload",
            "Uploads must use uploadType=resumable (the only upload protocol the sandbox takes).",
        ));
    }
    if query.contains_key("upload_id") {
        return Err(ApiError::bad_request(
            "A session URI takes its bytes with PUT, not POST.",
        ));
    }
    let parts = Parts::parse(query, VIDEO_PARTS)?;
    if !(parts.has("snippet") && parts.has("status")) {
        return Err(ApiError::parameter(
            "part",
            "The part parameter must list snippet and status: the upload sets both.",
        ));
    }
    let is_json = header_str(headers, header::CONTENT_TYPE.as_str())
        .is_some_and(|value| value.trim_start().starts_with("application/json"));
    if !is_json {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "global",
            "parseError",
            "The metadata must be JSON (Content-Type: application/json; charset=UTF-8).",
        ));
    }
    let content_type = check_upload_content_type(headers)?;
    let total = check_upload_length(headers)?;
    let request: NewVideo = serde_json::from_slice(body).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "global",
            "parseError",
            format!("Parse Error: {error}"),
        )
    })?;
    let snippet = request.snippet.unwrap_or(NewSnippet {
        title: None,
        description: None,
        tags: None,
        category_id: None,
    });
    let title = check_title(snippet.title)?;
    let description = check_description(snippet.description)?;
    let tags = check_tags(snippet.tags.unwrap_or_default())?;
    let category_id = check_category(snippet.category_id)?;
    let Some(status) = request.status else {
        return Err(ApiError::required("status.privacyStatus"));
    };
    let privacy = match status.privacy_status.as_deref() {
        None => return Err(ApiError::required("status.privacyStatus")),
        Some(value) => Privacy::parse(value).ok_or_else(|| {
            ApiError::video(
                "invalidVideoMetadata",
                format!(
                    "The request metadata is invalid: privacyStatus '{value}' is not public, \
                     unlisted or private."
                ),
            )
        })?,
    };
    let made_for_kids = match status.self_declared_made_for_kids {
        None | Some(Value::Null) => {
            return Err(ApiError::required("status.selfDeclaredMadeForKids"));
        }
        Some(Value::Bool(value)) => value,
        Some(_) => {
            return Err(ApiError::video(
                "invalidVideoMetadata",
                "The request metadata is invalid: selfDeclaredMadeForKids is true or false.",
            ));
        }
    };
    let publish_at = check_publish_at(status.publish_at.as_deref(), privacy, now)?;
    Ok(Draft {
        title,
        description,
        tags,
        category_id,
        privacy,
        made_for_kids,
        publish_at,
        content_type,
        total,
    })
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// The fake requires `X-Upload-Content-Type` (Google would default it; section 7 sends it).
fn check_upload_content_type(headers: &HeaderMap) -> Result<String, ApiError> {
    let Some(value) = header_str(headers, "x-upload-content-type") else {
        return Err(ApiError::required("X-Upload-Content-Type"));
    };
    let media_type = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let video = media_type
        .strip_prefix("video/")
        .is_some_and(|subtype| !subtype.is_empty());
    if video || media_type == "application/octet-stream" {
        Ok(media_type)
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "global",
            "badContent",
            format!(
                "Media type '{value}' is not supported. Valid media types: [video/*, \
                 application/octet-stream]"
            ),
        ))
    }
}

/// The fake requires `X-Upload-Content-Length` (Google allows leaving it out; section 7 sends
/// it, and without it a PUT's range could not be checked against the file).
fn check_upload_length(headers: &HeaderMap) -> Result<u64, ApiError> {
    let Some(value) = header_str(headers, "x-upload-content-length") else {
        return Err(ApiError::required("X-Upload-Content-Length"));
    };
    match value.trim().parse::<u64>() {
        Ok(0) => Err(ApiError::video(
            "mediaBodyRequired",
            "The request does not include the video content.",
        )),
        Ok(length) if length <= MAX_VIDEO_BYTES => Ok(length),
        Ok(length) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "global",
            "badContent",
            format!("The video is {length} bytes; the limit is {MAX_VIDEO_BYTES}."),
        )),
        Err(_) => Err(ApiError::bad_request(format!(
            "X-Upload-Content-Length must be a number of bytes; it is '{value}'."
        ))),
    }
}

/// 1 to 100 characters, none of them `<` or `>`.
fn check_title(title: Option<String>) -> Result<String, ApiError> {
    let title = title.unwrap_or_default();
    let length = title.chars().count();
    if title.trim().is_empty() || length > MAX_TITLE_CHARS || title.contains(['<', '>']) {
        return Err(ApiError::video(
            "invalidTitle",
            format!(
                "The request metadata specifies an invalid or empty video title: it needs 1 to \
                 {MAX_TITLE_CHARS} characters without < or > (it has {length})."
            ),
        ));
    }
    Ok(title)
}

/// At most 5,000 bytes (bytes, not characters), none of them `<` or `>`.
fn check_description(description: Option<String>) -> Result<String, ApiError> {
    let description = description.unwrap_or_default();
    if description.len() > MAX_DESCRIPTION_BYTES || description.contains(['<', '>']) {
        return Err(ApiError::video(
            "invalidDescription",
            format!(
                "The request metadata specifies an invalid video description: at most \
                 {MAX_DESCRIPTION_BYTES} bytes without < or > (it has {} bytes).",
                description.len()
            ),
        ));
    }
    Ok(description)
}

fn check_tags(tags: Vec<String>) -> Result<Vec<String>, ApiError> {
    let length: usize = tags
        .iter()
        .map(|tag| tag.chars().count() + if tag.contains(' ') { 2 } else { 0 })
        .sum::<usize>()
        + tags.len().saturating_sub(1);
    if length > MAX_TAGS_CHARS || tags.iter().any(|tag| tag.contains(['<', '>'])) {
        return Err(ApiError::video(
            "invalidTags",
            format!(
                "The request metadata specifies invalid video keywords: at most {MAX_TAGS_CHARS} \
                 characters in all (these count {length})."
            ),
        ));
    }
    Ok(tags)
}

fn check_category(category_id: Option<String>) -> Result<String, ApiError> {
    match category_id {
        None => Ok(DEFAULT_CATEGORY_ID.to_owned()),
        Some(id) if CATEGORY_IDS.contains(&id.as_str()) => Ok(id),
        Some(id) => Err(ApiError::video(
            "invalidCategoryId",
            format!(
                "The request metadata specifies an invalid video category: '{id}' is not an \
                 assignable category."
            ),
        )),
    }
}

/// An RFC 3339 time in the future, on a private video (YouTube publishes it then).
fn check_publish_at(
    publish_at: Option<&str>,
    privacy: Privacy,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(raw) = publish_at else {
        return Ok(None);
    };
    let invalid = |why: &str| {
        ApiError::video(
            "invalidPublishAt",
            format!("The request metadata specifies an invalid scheduled publishing time: {why}."),
        )
    };
    let at = DateTime::parse_from_rfc3339(raw)
        .map_err(|_| invalid("it is not an RFC 3339 date and time"))?
        .with_timezone(&Utc);
    if at <= now {
        return Err(invalid("it is in the past"));
    }
    if privacy != Privacy::Private {
        return Err(invalid("a scheduled video must be uploaded as private"));
    }
    Ok(Some(at))
}

/// `maxResults`: default 5, 0 to 50; anything else is refused rather than clamped.
fn max_results(query: &Params) -> Result<usize, ApiError> {
    let Some(raw) = query.get("maxResults") else {
        return Ok(DEFAULT_MAX_RESULTS);
    };
    raw.trim()
        .parse::<usize>()
        .ok()
        .filter(|size| *size <= MAX_MAX_RESULTS)
        .ok_or_else(|| {
            ApiError::parameter(
                "maxResults",
                format!(
                    "Invalid value '{raw}'. Values must be within the range: [0, {MAX_MAX_RESULTS}]"
                ),
            )
        })
}

/// The `part` parameter: required, every name known to the resource.
#[derive(Debug, Clone)]
struct Parts(Vec<String>);

impl Parts {
    fn parse(query: &Params, known: &[&str]) -> Result<Self, ApiError> {
        let Some(raw) = query.get("part").filter(|raw| !raw.trim().is_empty()) else {
            return Err(ApiError::required("part"));
        };
        let parts: Vec<String> = raw.split(',').map(|part| part.trim().to_owned()).collect();
        if let Some(unknown) = parts.iter().find(|part| !known.contains(&part.as_str())) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "youtube.part",
                "unknownPart",
                format!("'{unknown}' is not a valid part for this resource."),
            ));
        }
        Ok(Self(parts))
    }

    /// What an upload's answer holds.
    fn upload() -> Self {
        Self(vec!["snippet".to_owned(), "status".to_owned()])
    }

    fn has(&self, part: &str) -> bool {
        self.0.iter().any(|listed| listed == part)
    }
}

/// The upload id of a session URI, or the text itself when it is a bare id.
fn upload_id_in(session: &str) -> String {
    session
        .split_once('?')
        .and_then(|(_, query)| parse_query(Some(query)).remove("upload_id"))
        .unwrap_or_else(|| session.to_owned())
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    header_str(headers, header::CONTENT_LENGTH.as_str())?
        .trim()
        .parse()
        .ok()
}

/// An id in YouTube's alphabet (base64url): 16 bytes make a channel id's 22 characters, 8 bytes a
/// video id's 11.
fn random_base64url(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut raw);
    URL_SAFE_NO_PAD.encode(raw)
}

// ---------------------------------------------------------------------------------------------
// Answers in Google's shapes.

/// Google's API error: `{"error":{"code","message","status","errors":[{"domain","reason","message"}]}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ApiError {
    status: StatusCode,
    domain: &'static str,
    reason: &'static str,
    message: String,
    /// `location` of the one error, for parameters and headers (Google names the culprit).
    location: Option<(&'static str, &'static str)>,
    retry_after_secs: Option<i64>,
}

impl ApiError {
    fn new(
        status: StatusCode,
        domain: &'static str,
        reason: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            domain,
            reason,
            message: message.into(),
            location: None,
            retry_after_secs: None,
        }
    }

    /// A malformed request the fake's own words describe (Google's generic `badRequest`).
    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "global", "badRequest", message)
    }

    /// YouTube's video metadata errors (`invalidTitle`, `invalidDescription`...).
    fn video(reason: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "youtube.video", reason, message)
    }

    /// Google's `required`: a missing parameter, header or field.
    fn required(name: &'static str) -> Self {
        let mut error = Self::new(
            StatusCode::BAD_REQUEST,
            "global",
            "required",
            format!("Required: {name}."),
        );
        let kind = if name.starts_with("X-") {
            "header"
        } else {
            "parameter"
        };
        error.location = Some((name, kind));
        error
    }

    fn parameter(name: &'static str, message: impl Into<String>) -> Self {
        let mut error = Self::new(
            StatusCode::BAD_REQUEST,
            "youtube.parameter",
            "invalidParameter",
            message,
        );
        error.location = Some((name, "parameter"));
        error
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut detail = json!({
            "domain": self.domain,
            "reason": self.reason,
            "message": self.message,
        });
        if let Some((location, kind)) = self.location {
            detail["location"] = Value::from(location);
            detail["locationType"] = Value::from(kind);
        }
        let body = json!({
            "error": {
                "code": self.status.as_u16(),
                "message": self.message,
                "status": rpc_status(self.status),
                "errors": [detail],
            }
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

/// The `google.rpc.Code` name Google puts in `error.status` for an HTTP status.
fn rpc_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ if status.is_server_error() => "INTERNAL",
        _ => "FAILED_PRECONDITION",
    }
}

fn json_answer(result: Result<Value, ApiError>) -> Response {
    match result {
        Ok(body) => Json(body).into_response(),
        Err(error) => error.into_response(),
    }
}

fn backend_error(status: StatusCode) -> Response {
    ApiError::new(status, "global", "backendError", "Backend Error").into_response()
}

/// `308 Resume Incomplete`, with `Range: bytes=0-{n-1}` once the session holds any bytes. No
/// `Location`, so an HTTP client's redirect handling leaves it alone.
fn resume_incomplete(held: u64) -> Response {
    let mut response = StatusCode::PERMANENT_REDIRECT.into_response();
    if held > 0 {
        let range = format!("bytes=0-{}", held - 1);
        if let Ok(range) = HeaderValue::from_str(&range) {
            response.headers_mut().insert(header::RANGE, range);
        }
    }
    response
}

/// Google answers every unusable token with 401 `authError` "Invalid Credentials"; the sentence
/// after it is the fake's, so a failing test says which case it met.
fn bearer_refusal(refusal: BearerError) -> ApiError {
    let detail = match refusal {
        BearerError::Missing => "No access token was sent.",
        BearerError::Unknown => "The access token is not valid.",
        BearerError::Revoked => "The access token was revoked.",
        BearerError::Expired => "The access token has expired.",
        BearerError::MissingScope(_) => return insufficient_permissions(&[]),
    };
    let mut error = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "global",
        "authError",
        format!(
            "Request had invalid authentication credentials. Expected OAuth 2 access token, \
             login cookie or other valid authentication credential. {detail}"
        ),
    );
    error.location = Some(("Authorization", "header"));
    error
}

fn insufficient_permissions(scopes: &[&str]) -> ApiError {
    let wanted = if scopes.is_empty() {
        String::new()
    } else {
        format!(" This call takes one of: {}.", scopes.join(", "))
    };
    ApiError::new(
        StatusCode::FORBIDDEN,
        "global",
        "insufficientPermissions",
        format!("Request had insufficient authentication scopes.{wanted}"),
    )
}

/// A list call without its filter parameter.
fn missing_filter(expected: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "youtube.parameter",
        "missingRequiredParameter",
        format!("No filter selected. Expected one of: {expected}"),
    )
}

/// OAuth's error shape, which Google's token and revocation endpoints answer in.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// A refresh token that is unknown, expired or revoked gets platforms.md's sentence; a bad code
/// gets the kit's, which says which check failed.
fn oauth_refusal(refusal: &OAuthError, grant_type: Option<&str>) -> Response {
    match refusal {
        OAuthError::InvalidClient => {
            oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Unauthorized")
        }
        OAuthError::InvalidGrant(_) if grant_type == Some("refresh_token") => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Token has been expired or revoked.",
        ),
        OAuthError::InvalidGrant(message) => {
            oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", message)
        }
        OAuthError::InvalidRequest(message) => {
            oauth_error(StatusCode::BAD_REQUEST, "invalid_request", message)
        }
        OAuthError::UnsupportedGrantType(grant_type) => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!("Invalid grant_type: {grant_type}"),
        ),
    }
}

/// A scripted kit failure, as Google would answer it: OAuth's shape on the token and revocation
/// endpoints, the API envelope everywhere else (the upload host answers in it too). A rate limit
/// is YouTube's retryable 403 `rateLimitExceeded`, with a `Retry-After` the fake adds so clients
/// can be tested honouring one. YouTube refuses no upload as a duplicate (it rejects one in
/// processing: script `[Rejected]`), so a scripted duplicate is Google's generic 409.
fn scripted_refusal(endpoint: Endpoint, refusal: Refusal) -> Response {
    if matches!(endpoint, Endpoint::Token | Endpoint::Revoke) {
        return scripted_oauth_refusal(refusal);
    }
    let upload = matches!(
        endpoint,
        Endpoint::StartUpload | Endpoint::UploadBytes | Endpoint::ProbeUpload
    );
    match refusal {
        Refusal::ServerError(status) => backend_error(status),
        Refusal::RateLimited { reset_in_secs } => {
            let mut error = ApiError::new(
                StatusCode::FORBIDDEN,
                "usageLimits",
                "rateLimitExceeded",
                "Rate Limit Exceeded",
            );
            error.retry_after_secs = Some(reset_in_secs);
            error.into_response()
        }
        Refusal::ExpiredToken => bearer_refusal(BearerError::Expired).into_response(),
        Refusal::RevokedToken => bearer_refusal(BearerError::Revoked).into_response(),
        Refusal::Validation(message) if upload => {
            ApiError::video("invalidVideoMetadata", message).into_response()
        }
        Refusal::Validation(message) => ApiError::bad_request(message).into_response(),
        Refusal::Duplicate => ApiError::new(
            StatusCode::CONFLICT,
            "global",
            "duplicate",
            "The resource already exists.",
        )
        .into_response(),
    }
}

fn scripted_oauth_refusal(refusal: Refusal) -> Response {
    match refusal {
        Refusal::ServerError(status) => oauth_error(status, "server_error", "Backend Error"),
        Refusal::RateLimited { reset_in_secs } => {
            let mut response = oauth_error(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_exceeded",
                "Rate Limit Exceeded",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(reset_in_secs.max(0)));
            response
        }
        Refusal::ExpiredToken | Refusal::RevokedToken => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Token has been expired or revoked.",
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

/// A refresh keeps its refresh token, so its answer has none.
fn token_json(tokens: &IssuedTokens) -> Value {
    let mut body = json!({
        "access_token": tokens.access_token,
        "expires_in": tokens.expires_in,
        "scope": tokens.grant.scopes.join(' '),
        "token_type": "Bearer",
    });
    if let Some(refresh) = tokens.refresh.as_ref().filter(|refresh| refresh.is_new) {
        body["refresh_token"] = Value::from(refresh.token.as_str());
    }
    body
}

/// A list answer: `pageInfo` counts all results (by default, those on this page).
fn list_json(
    kind: &str,
    items: Vec<Value>,
    next_page_token: Option<String>,
    totals: Option<(usize, usize)>,
) -> Value {
    let (total, per_page) = totals.unwrap_or((items.len(), items.len()));
    let mut body = json!({
        "kind": kind,
        "pageInfo": { "totalResults": total, "resultsPerPage": per_page },
        "items": items,
    });
    if let Some(token) = next_page_token {
        body["nextPageToken"] = Value::from(token);
    }
    body
}

/// RFC 3339 in UTC with `Z`, to the second, as Google writes times.
fn google_timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Thumbnails that need no network: the kit's lettered avatar (live: i.ytimg.com).
fn thumbnails(name: &str, width: u32, height: u32) -> Value {
    json!({ "default": { "url": avatar_data_url(name), "width": width, "height": height } })
}

fn channel_json(account: &Account, parts: &Parts) -> Value {
    let mut item = json!({ "kind": "youtube#channel", "id": account.channel_id });
    if parts.has("snippet") {
        item["snippet"] = json!({
            "title": account.username,
            "description": "",
            "customUrl": format!("@{}", account.username.to_ascii_lowercase()),
            "publishedAt": google_timestamp(account.created_at),
            "thumbnails": thumbnails(&account.username, 88, 88),
            "localized": { "title": account.username, "description": "" },
        });
    }
    if parts.has("contentDetails") {
        item["contentDetails"] = json!({
            "relatedPlaylists": { "likes": "", "uploads": account.uploads_playlist_id },
        });
    }
    item
}

fn video_json(video: &FakeVideo, parts: &Parts, now: DateTime<Utc>) -> Value {
    let mut item = json!({ "kind": "youtube#video", "id": video.id });
    if parts.has("snippet") {
        let mut snippet = json!({
            "publishedAt": google_timestamp(video.published_at),
            "channelId": video.channel_id,
            "title": video.title,
            "description": video.description,
            "thumbnails": thumbnails(&video.title, 120, 90),
            "channelTitle": video.owner_username,
            "categoryId": video.category_id,
            "liveBroadcastContent": "none",
            "localized": { "title": video.title, "description": video.description },
        });
        if !video.tags.is_empty() {
            snippet["tags"] = json!(video.tags);
        }
        item["snippet"] = snippet;
    }
    if parts.has("status") {
        let privacy = video.privacy_at(now);
        let mut status = json!({
            "uploadStatus": video.upload_status.as_str(),
            "privacyStatus": privacy.as_str(),
            "license": "youtube",
            "embeddable": true,
            "publicStatsViewable": true,
            "madeForKids": video.made_for_kids,
            "selfDeclaredMadeForKids": video.made_for_kids,
        });
        if let Some(publish_at) = video.publish_at.filter(|_| privacy == Privacy::Private) {
            status["publishAt"] = Value::from(google_timestamp(publish_at));
        }
        match video.upload_status {
            UploadStatus::Failed => status["failureReason"] = Value::from("conversion"),
            UploadStatus::Rejected => status["rejectionReason"] = Value::from("duplicate"),
            _ => {}
        }
        item["status"] = status;
    }
    if parts.has("processingDetails") {
        item["processingDetails"] = json!({
            "processingStatus": video.upload_status.processing_status(),
        });
    }
    if parts.has("statistics") {
        // YouTube writes its counts as decimal strings; favorites are long retired and zero.
        let numbers = Engagement::of(&video.id, video.published_at, now);
        item["statistics"] = json!({
            "viewCount": numbers.views.to_string(),
            "likeCount": numbers.likes.to_string(),
            "favoriteCount": "0",
            "commentCount": numbers.comments.to_string(),
        });
    }
    item
}

fn playlist_item_json(
    video: &FakeVideo,
    owner: &Account,
    position: usize,
    parts: &Parts,
    now: DateTime<Utc>,
) -> Value {
    let id = URL_SAFE_NO_PAD.encode(format!("{}.{}", owner.uploads_playlist_id, video.id));
    let mut item = json!({ "kind": "youtube#playlistItem", "id": id });
    if parts.has("snippet") {
        item["snippet"] = json!({
            "publishedAt": google_timestamp(video.published_at),
            "channelId": owner.channel_id,
            "title": video.title,
            "description": video.description,
            "thumbnails": thumbnails(&video.title, 120, 90),
            "channelTitle": owner.username,
            "playlistId": owner.uploads_playlist_id,
            "position": position,
            "resourceId": { "kind": "youtube#video", "videoId": video.id },
            "videoOwnerChannelTitle": owner.username,
            "videoOwnerChannelId": owner.channel_id,
        });
    }
    if parts.has("contentDetails") {
        item["contentDetails"] = json!({
            "videoId": video.id,
            "videoPublishedAt": google_timestamp(video.published_at),
        });
    }
    if parts.has("status") {
        item["status"] = json!({ "privacyStatus": video.privacy_at(now).as_str() });
    }
    item
}

// ---------------------------------------------------------------------------------------------
// Pages.

/// `/watch?v={id}`, where the app's "view on YouTube" link lands in the sandbox. The video is
/// described, not played: the fake keeps no bytes.
fn watch_page(video: &FakeVideo, now: DateTime<Utc>, stylesheet: &str) -> String {
    let privacy = video.privacy_at(now).as_str();
    let locked = if video.locked_private {
        " (locked: uploaded by an unaudited API project, which can only upload private videos)"
    } else {
        ""
    };
    let body = format!(
        r#"<article aria-labelledby="title">
<h1 id="title">{title}</h1>
<p class="meta">Uploaded by {channel} (<code>{channel_id}</code>)</p>
<p class="text">{description}</p>
<p class="meta">Privacy: {privacy}{locked}</p>
<p class="meta">Upload status: {status} · {size} bytes of {content_type}</p>
<p class="meta">SHA-256 <code>{sha256}</code></p>
<p class="meta"><time datetime="{datetime}">{shown}</time> · Sandbox video {id}</p>
</article>"#,
        title = escape_html(&video.title),
        channel = escape_html(&video.owner_username),
        channel_id = escape_html(&video.channel_id),
        description = escape_html(&video.description),
        status = video.upload_status.as_str(),
        size = video.size_bytes,
        content_type = escape_html(&video.content_type),
        sha256 = video.sha256_hex,
        datetime = google_timestamp(video.published_at),
        shown = video.published_at.format("%-d %b %Y, %H:%M UTC"),
        id = escape_html(&video.id),
    );
    page(
        &format!("{} - Sandbox YouTube", video.title),
        &body,
        stylesheet,
    )
}

fn missing_video_page(stylesheet: &str) -> String {
    page(
        "Sandbox YouTube — video unavailable",
        "<h1>This video does not exist in the sandbox</h1>\n<p>Its upload never finished here.</p>",
        stylesheet,
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
            .map(|account| account.channel_id.clone())
    }
}

impl FakeControls for YouTubeFake {
    type World = World;

    fn world(&self) -> MutexGuard<'_, World> {
        self.lock()
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest as _, Sha256};
    use tokio::task::JoinHandle;

    use super::*;
    use crate::clock::ManualClock;
    use crate::sandbox::kit::request::with_query;

    const REDIRECT: &str = "http://127.0.0.1:3000/connections/youtube/callback";
    const G: u64 = CHUNK_GRANULARITY;

    fn scopes() -> String {
        format!("{SCOPE_UPLOAD} {SCOPE_READONLY}")
    }

    /// A file of `len` bytes that is not a repeating pattern of any chunk size.
    fn file(len: usize) -> Vec<u8> {
        (0..len)
            .map(|n| (n.wrapping_mul(31) ^ (n >> 11)) as u8)
            .collect()
    }

    fn sha256_hex(data: &[u8]) -> String {
        hex::encode(Sha256::digest(data))
    }

    fn metadata(title: &str, privacy: &str) -> Value {
        json!({
            "snippet": { "title": title, "description": "A description", "tags": ["sandbox"], "categoryId": "22" },
            "status": { "privacyStatus": privacy, "selfDeclaredMadeForKids": false },
        })
    }

    /// The fake served on a loopback port, with a client: uploads need a real connection to be
    /// streamed and broken.
    struct Harness {
        fake: YouTubeFake,
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
        serve(YouTubeFake::new("client", "secret")).await
    }

    async fn serve(fake: YouTubeFake) -> Harness {
        let (address, server) = crate::sandbox::serve(fake.router()).await.unwrap();
        Harness {
            fake,
            base: format!("http://{address}"),
            http: reqwest::Client::new(),
            server,
        }
    }

    impl Harness {
        fn authorize_url(&self, scopes: &str, extra: &[(&str, &str)]) -> String {
            let mut pairs = vec![
                ("client_id", "client"),
                ("redirect_uri", REDIRECT),
                ("response_type", "code"),
                ("scope", scopes),
                ("state", "st4te"),
            ];
            pairs.extend_from_slice(extra);
            with_query(
                &format!("https://accounts.google.test{AUTHORIZE_PATH}"),
                &pairs,
            )
        }

        /// Consent as `username` with `extra` authorize parameters, then the code exchange with
        /// the client in the form: the token answer.
        async fn connect_with(
            &self,
            username: &str,
            scopes: &str,
            extra: &[(&str, &str)],
        ) -> Value {
            let location = self
                .fake
                .authorize_directly(&self.authorize_url(scopes, extra), username)
                .unwrap();
            let (_, query) = location.split_once('?').unwrap();
            let code = parse_query(Some(query))["code"].clone();
            let (status, tokens) = self
                .token(&[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                    ("client_id", "client"),
                    ("client_secret", "secret"),
                ])
                .await;
            assert_eq!(status, StatusCode::OK, "{tokens}");
            tokens
        }

        async fn connect(&self, username: &str) -> Value {
            let offline = [("access_type", "offline"), ("prompt", "consent")];
            self.connect_with(username, &scopes(), &offline).await
        }

        async fn access_token(&self, username: &str) -> String {
            self.connect(username).await["access_token"]
                .as_str()
                .unwrap()
                .to_owned()
        }

        async fn token(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
            let response = self
                .http
                .post(format!("{}/token", self.base))
                .form(form)
                .send()
                .await
                .unwrap();
            (
                response.status(),
                response.json().await.unwrap_or(Value::Null),
            )
        }

        async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
            let response = self
                .http
                .get(format!("{}{path}", self.base))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            (
                response.status(),
                response.json().await.unwrap_or(Value::Null),
            )
        }

        async fn start_raw(&self, token: &str, body: &Value, length: u64) -> reqwest::Response {
            self.http
                .post(format!(
                    "{}{UPLOAD_PATH}?uploadType=resumable&part=snippet,status",
                    self.base
                ))
                .bearer_auth(token)
                .header(header::CONTENT_TYPE, "application/json; charset=UTF-8")
                .header("X-Upload-Content-Length", length.to_string())
                .header("X-Upload-Content-Type", "video/mp4")
                .body(body.to_string())
                .send()
                .await
                .unwrap()
        }

        /// Opens a session for a `length`-byte video: its URI.
        async fn start(&self, token: &str, title: &str, length: u64) -> String {
            let response = self
                .start_raw(token, &metadata(title, "public"), length)
                .await;
            assert_eq!(response.status(), StatusCode::OK);
            response.headers()[header::LOCATION]
                .to_str()
                .unwrap()
                .to_owned()
        }

        /// `PUT {session}` with `bytes`, under `range` when given.
        async fn put(
            &self,
            session: &str,
            bytes: &[u8],
            range: Option<String>,
        ) -> reqwest::Result<reqwest::Response> {
            let mut request = self
                .http
                .put(session)
                .header(header::CONTENT_TYPE, "video/mp4")
                .body(bytes.to_vec());
            if let Some(range) = range {
                request = request.header(header::CONTENT_RANGE, range);
            }
            request.send().await
        }

        /// `PUT {session}` with `data` as the bytes from `first` on.
        async fn put_chunk_result(
            &self,
            session: &str,
            data: &[u8],
            first: usize,
        ) -> reqwest::Result<reqwest::Response> {
            let upload_id = upload_id_in(session);
            let total = self
                .fake
                .upload_sessions()
                .into_iter()
                .find(|candidate| candidate.upload_id == upload_id)
                .expect("a session this fake opened")
                .total_bytes;
            let last = first + data.len() - 1;
            let range = format!("bytes {first}-{last}/{total}");
            self.put(session, data, Some(range)).await
        }

        async fn put_chunk(&self, session: &str, data: &[u8], first: usize) -> reqwest::Response {
            self.put_chunk_result(session, data, first).await.unwrap()
        }

        async fn probe(&self, session: &str, total: u64) -> reqwest::Response {
            self.http
                .put(session)
                .header(header::CONTENT_LENGTH, "0")
                .header(header::CONTENT_RANGE, format!("bytes */{total}"))
                .send()
                .await
                .unwrap()
        }
    }

    fn range_of(response: &reqwest::Response) -> Option<String> {
        response
            .headers()
            .get(header::RANGE)
            .map(|range| range.to_str().unwrap().to_owned())
    }

    fn reason(body: &Value) -> &str {
        body["error"]["errors"][0]["reason"]
            .as_str()
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn offline_access_gives_a_refresh_token_again_only_when_consent_is_prompted() {
        let h = harness().await;
        let first = h
            .connect_with("alice", &scopes(), &[("access_type", "offline")])
            .await;
        assert!(first["access_token"].as_str().unwrap().starts_with("ya29."));
        assert!(first["refresh_token"].as_str().unwrap().starts_with("1//"));
        assert_eq!(first["expires_in"], 3599);
        assert_eq!(first["token_type"], "Bearer");
        assert_eq!(first["scope"], scopes());

        let again = h
            .connect_with("alice", &scopes(), &[("access_type", "offline")])
            .await;
        assert!(again.get("refresh_token").is_none(), "{again}");
        let online = h.connect_with("bob", &scopes(), &[]).await;
        assert!(online.get("refresh_token").is_none(), "{online}");
        let prompted = h.connect("alice").await;
        assert_ne!(prompted["refresh_token"], first["refresh_token"]);
        assert!(prompted["refresh_token"].is_string());

        assert!(
            h.fake
                .authorize_directly(
                    &h.authorize_url(&scopes(), &[("access_type", "forever")]),
                    "alice"
                )
                .unwrap_err()
                .contains("access_type")
        );
        let comma_scopes = format!("{SCOPE_UPLOAD},{SCOPE_READONLY}");
        assert!(
            h.fake
                .authorize_directly(&h.authorize_url(&comma_scopes, &[]), "alice")
                .is_err()
        );

        // Basic works as well as the form; a wrong secret does not.
        let location = h
            .fake
            .authorize_directly(&h.authorize_url(&scopes(), &[]), "alice")
            .unwrap();
        let code = parse_query(Some(location.split_once('?').unwrap().1))["code"].clone();
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ];
        let basic = |secret: &str| {
            h.http
                .post(format!("{}/token", h.base))
                .basic_auth("client", Some(secret))
                .form(&form)
                .send()
        };
        let refused = basic("wrong").await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            refused.json::<Value>().await.unwrap()["error"],
            "invalid_client"
        );
        assert_eq!(basic("secret").await.unwrap().status(), StatusCode::OK);
        assert_eq!(h.fake.code_exchange_count(), 6);
    }

    #[tokio::test]
    async fn the_consent_form_carries_googles_parameters_through_to_the_code() {
        let h = harness().await;
        let offline = [("access_type", "offline"), ("prompt", "consent")];
        let url = h.authorize_url(&scopes(), &offline);
        let path = url.replace("https://accounts.google.test", &h.base);
        let page = h.http.get(&path).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains(r#"name="access_type" value="offline""#));
        assert!(html.contains(r#"href="../../../sandbox.css""#));
        assert!(html.contains(&format!("<code>{SCOPE_UPLOAD}</code>")));

        let no_redirects = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut form = parse_query(Some(url.split_once('?').unwrap().1));
        form.insert("username".to_owned(), "alice".to_owned());
        form.insert("decision".to_owned(), "allow".to_owned());
        let allowed = no_redirects.post(&path).form(&form).send().await.unwrap();
        assert_eq!(allowed.status(), StatusCode::FOUND);
        let location = allowed.headers()[header::LOCATION].to_str().unwrap();
        assert!(location.starts_with(REDIRECT) && location.ends_with("&state=st4te"));
        let code = parse_query(Some(location.split_once('?').unwrap().1))["code"].clone();
        let (status, tokens) = h
            .token(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_id", "client"),
                ("client_secret", "secret"),
            ])
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(tokens["refresh_token"].is_string(), "{tokens}");

        let bad = h.authorize_url(&scopes(), &[("prompt", "none consent")]);
        let refused = h
            .http
            .get(bad.replace("https://accounts.google.test", &h.base))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn a_refresh_keeps_the_refresh_token_and_revoking_it_ends_the_grant() {
        let h = harness().await;
        let tokens = h.connect("alice").await;
        let refresh_token = tokens["refresh_token"].as_str().unwrap();
        let refresh = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", "client"),
            ("client_secret", "secret"),
        ];
        let (status, renewed) = h.token(&refresh).await;
        assert_eq!(status, StatusCode::OK, "{renewed}");
        assert_ne!(renewed["access_token"], tokens["access_token"]);
        assert!(renewed.get("refresh_token").is_none());
        assert_eq!(h.fake.refresh_count(), 1);
        let renewed = renewed["access_token"].as_str().unwrap().to_owned();

        let revoked = h
            .http
            .post(format!("{}/revoke?token={refresh_token}", h.base))
            .send()
            .await
            .unwrap();
        assert_eq!(revoked.status(), StatusCode::OK);
        assert_eq!(h.fake.revoked_count(), 1);
        let (status, body) = h
            .get("/youtube/v3/channels?part=snippet&mine=true", &renewed)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"]["status"], "UNAUTHENTICATED");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("revoked")
        );
        let (status, body) = h.token(&refresh).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
        );

        let unknown = h
            .http
            .post(format!("{}/revoke", h.base))
            .form(&[("token", "never-issued")])
            .send()
            .await
            .unwrap();
        assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            unknown.json::<Value>().await.unwrap()["error"],
            "invalid_token"
        );

        // The next offline consent is a first one again: it brings a refresh token.
        let back = h
            .connect_with("alice", &scopes(), &[("access_type", "offline")])
            .await;
        assert!(back["refresh_token"].is_string());
    }

    #[tokio::test]
    async fn tokens_expire_on_the_fakes_clock_and_each_call_checks_its_scope() {
        let clock = Arc::new(ManualClock::starting_at(Utc::now()));
        let h = serve(YouTubeFake::with_clock("client", "secret", clock.clone())).await;
        let reader = h.connect_with("alice", SCOPE_READONLY, &[]).await;
        let reader = reader["access_token"].as_str().unwrap();
        let uploader = h.connect_with("alice", SCOPE_UPLOAD, &[]).await;
        let uploader = uploader["access_token"].as_str().unwrap();
        let channels = "/youtube/v3/channels?part=snippet,contentDetails&mine=true";

        assert_eq!(h.get(channels, reader).await.0, StatusCode::OK);
        let (status, body) = h.get(channels, uploader).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(reason(&body), "insufficientPermissions");
        let refused = h
            .start_raw(reader, &metadata("A video", "public"), 10)
            .await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            h.start_raw(uploader, &metadata("A video", "public"), 10)
                .await
                .status(),
            StatusCode::OK
        );

        clock.advance(TimeDelta::seconds(ACCESS_TOKEN_LIFETIME_SECS));
        let (status, body) = h.get(channels, reader).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(reason(&body), "authError");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("expired")
        );
    }

    #[tokio::test]
    async fn a_new_account_has_a_channel_with_an_uploads_playlist() {
        let h = harness().await;
        let token = h.access_token("Alice").await;
        let (status, body) = h
            .get(
                "/youtube/v3/channels?part=snippet,contentDetails&mine=true",
                &token,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let channel = &body["items"][0];
        let id = channel["id"].as_str().unwrap();
        assert!(id.starts_with("UC") && id.len() == 24, "{id}");
        assert_eq!(h.fake.channel_id("alice").as_deref(), Some(id));
        assert_eq!(channel["snippet"]["title"], "Alice");
        assert_eq!(channel["snippet"]["customUrl"], "@alice");
        assert!(
            channel["snippet"]["thumbnails"]["default"]["url"]
                .as_str()
                .unwrap()
                .starts_with("data:image/svg+xml")
        );
        let uploads = channel["contentDetails"]["relatedPlaylists"]["uploads"]
            .as_str()
            .unwrap();
        assert_eq!(uploads, format!("UU{}", &id[2..]));

        let (status, body) = h.get("/youtube/v3/channels?part=snippet", &token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(reason(&body), "missingRequiredParameter");
        let (status, body) = h.get("/youtube/v3/channels?mine=true", &token).await;
        assert_eq!(
            (status, reason(&body)),
            (StatusCode::BAD_REQUEST, "required")
        );
    }

    #[tokio::test]
    async fn opening_a_session_checks_the_metadata_and_creates_nothing() {
        let h = harness().await;
        let token = h.access_token("alice").await;
        let refusals = [
            (metadata("", "public"), "invalidTitle"),
            (metadata(&"t".repeat(101), "public"), "invalidTitle"),
            (metadata("A <b>bold</b> title", "public"), "invalidTitle"),
            (metadata("Fine", "friends"), "invalidVideoMetadata"),
        ];
        for (body, expected) in refusals {
            let response = h.start_raw(&token, &body, 1000).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST);
            let body: Value = response.json().await.unwrap();
            assert_eq!(reason(&body), expected, "{body}");
            assert_eq!(body["error"]["code"], 400);
            assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
        }
        let mut long = metadata("Fine", "public");
        // 2,501 characters, 5,002 bytes: the limit counts bytes.
        long["snippet"]["description"] = json!("é".repeat(2501));
        let body: Value = h.start_raw(&token, &long, 1000).await.json().await.unwrap();
        assert_eq!(reason(&body), "invalidDescription");
        let mut angled = metadata("Fine", "public");
        angled["snippet"]["description"] = json!("1 < 2");
        let body: Value = h
            .start_raw(&token, &angled, 1000)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(reason(&body), "invalidDescription");
        let mut no_kids = metadata("Fine", "public");
        no_kids["status"]
            .as_object_mut()
            .unwrap()
            .remove("selfDeclaredMadeForKids");
        let body: Value = h
            .start_raw(&token, &no_kids, 1000)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(reason(&body), "required");
        let mut scheduled = metadata("Fine", "public");
        scheduled["status"]["publishAt"] = json!("2999-01-01T00:00:00Z");
        let body: Value = h
            .start_raw(&token, &scheduled, 1000)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(reason(&body), "invalidPublishAt");
        let body: Value = h
            .start_raw(&token, &metadata("Fine", "public"), 0)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(reason(&body), "mediaBodyRequired");
        assert_eq!(h.fake.upload_session_count(), 0);

        let response = h
            .start_raw(&token, &metadata(&"é".repeat(100), "public"), 1000)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let location = response.headers()[header::LOCATION].to_str().unwrap();
        let upload_id = &h.fake.upload_sessions()[0].upload_id;
        assert_eq!(
            location,
            format!(
                "{}{UPLOAD_PATH}?uploadType=resumable&upload_id={upload_id}",
                h.base
            )
        );
        assert!(response.text().await.unwrap().is_empty());
        assert_eq!(
            h.fake.video_count(),
            0,
            "nothing exists before the last byte"
        );
        h.fake.set_base_url("https://app.test/sandbox/youtube/");
        let response = h.start_raw(&token, &metadata("Fine", "public"), 1000).await;
        assert!(
            response.headers()[header::LOCATION]
                .to_str()
                .unwrap()
                .starts_with("https://app.test/sandbox/youtube/upload/youtube/v3/videos?")
        );
    }

    #[tokio::test]
    async fn a_whole_file_in_one_put_becomes_a_video_at_its_last_byte() {
        let h = harness().await;
        let token = h.access_token("alice").await;
        let data = file(3 * 1024 * 1024 + 123);
        let session = h.start(&token, "One shot", data.len() as u64).await;
        let response = h.put(&session, &data, None).await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let video: Value = response.json().await.unwrap();
        assert_eq!(video["snippet"]["title"], "One shot");
        assert_eq!(video["status"]["uploadStatus"], "uploaded");
        assert_eq!(video["status"]["privacyStatus"], "public");

        let stored = &h.fake.videos()[0];
        assert_eq!(video["id"], stored.id.as_str());
        assert_eq!(stored.size_bytes, data.len() as u64);
        assert_eq!(stored.sha256_hex, sha256_hex(&data));
        assert_eq!(stored.content_type, "video/mp4");
        assert_eq!(h.fake.bytes_received_total(), data.len() as u64);

        let probed = h.probe(&session, data.len() as u64).await;
        assert_eq!(probed.status(), StatusCode::OK);
        assert_eq!(
            probed.json::<Value>().await.unwrap()["id"],
            stored.id.as_str()
        );
        // Sending it all again changes nothing: the session made its video.
        let again = h.put(&session, &data, None).await.unwrap();
        assert_eq!(again.status(), StatusCode::OK);
        assert_eq!(h.fake.video_count(), 1);

        let watch = h
            .http
            .get(format!("{}/watch?v={}", h.base, stored.id))
            .send()
            .await
            .unwrap();
        assert_eq!(watch.status(), StatusCode::OK);
        let html = watch.text().await.unwrap();
        assert!(html.contains("One shot") && html.contains(&stored.sha256_hex));
        assert!(html.contains(r#"href="sandbox.css""#));
        let missing = h
            .http
            .get(format!("{}/watch?v=nope", h.base))
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn chunks_start_where_the_session_ends_and_are_whole_multiples_of_256_kib() {
        let h = harness().await;
        let token = h.access_token("alice").await;
        let data = file(5 * G as usize + 1000);
        let session = h.start(&token, "Chunked", data.len() as u64).await;
        let total = data.len() as u64;

        let refused = h.put_chunk(&session, &data[..300_000], 0).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        assert!(refused.text().await.unwrap().contains("multiple of 262144"));
        let probed = h.probe(&session, total).await;
        assert_eq!(probed.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(
            range_of(&probed),
            None,
            "no Range while the session holds nothing"
        );

        let first = 2 * G as usize;
        let response = h.put_chunk(&session, &data[..first], 0).await;
        assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(range_of(&response).as_deref(), Some("bytes=0-524287"));

        let skipped = h
            .put_chunk(&session, &data[first + G as usize..], first + G as usize)
            .await;
        assert_eq!(skipped.status(), StatusCode::BAD_REQUEST);
        assert!(
            skipped
                .text()
                .await
                .unwrap()
                .contains("must start at 524288")
        );
        let repeated = h.put_chunk(&session, &data[..G as usize], 0).await;
        assert_eq!(repeated.status(), StatusCode::BAD_REQUEST);
        let without_range = h.put(&session, &data[first..], None).await.unwrap();
        assert_eq!(without_range.status(), StatusCode::BAD_REQUEST);
        let malformed = h.put(&session, &data[first..], Some("bytes 524288-".to_owned()));
        assert_eq!(malformed.await.unwrap().status(), StatusCode::BAD_REQUEST);

        let second = first + 3 * G as usize;
        let response = h.put_chunk(&session, &data[first..second], first).await;
        assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(h.fake.video_count(), 0);
        let last = h.put_chunk(&session, &data[second..], second).await;
        assert_eq!(last.status(), StatusCode::CREATED);
        assert_eq!(h.fake.videos()[0].sha256_hex, sha256_hex(&data));
        assert_eq!(h.fake.upload_sessions()[0].received_bytes, total);
    }

    #[tokio::test]
    async fn an_interrupted_upload_resumes_from_what_the_probe_reports() {
        let h = harness().await;
        let token = h.access_token("alice").await;
        let data = file(4 * 1024 * 1024 + 777);
        let total = data.len() as u64;
        let session = h.start(&token, "Interrupted", total).await;
        let half = total / 2 + 1000;
        h.fake.interrupt_next_upload_after(half);

        let broken = h.put(&session, &data, None).await;
        assert!(
            broken.is_err(),
            "the client must meet a network error: {broken:?}"
        );
        assert_eq!(h.fake.video_count(), 0);

        // Google keeps whole 256 KiB chunks: 2 MiB + 1,388 bytes arrived, 2 MiB were kept.
        let kept = half / G * G;
        let probed = h.probe(&session, total).await;
        assert_eq!(probed.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(range_of(&probed), Some(format!("bytes=0-{}", kept - 1)));

        let rest = h
            .put_chunk(&session, &data[kept as usize..], kept as usize)
            .await;
        assert_eq!(rest.status(), StatusCode::CREATED);
        let video = &h.fake.videos()[0];
        assert_eq!(video.sha256_hex, sha256_hex(&data));
        assert_eq!(video.size_bytes, total);
        assert_eq!(h.fake.bytes_received_total(), half + (total - kept));
        assert_eq!(h.fake.upload_session_count(), 1);
    }

    #[tokio::test]
    async fn a_server_error_mid_put_keeps_the_whole_chunks_before_it() {
        let h = harness().await;
        let token = h.access_token("alice").await;
        let data = file(2 * 1024 * 1024);
        let total = data.len() as u64;
        let session = h.start(&token, "Five hundred", total).await;
        assert!(
            h.fake
                .interrupt_session(&session, Interruption::ServerErrorAfter(G + 10))
        );

        let response = h.put(&session, &data, None).await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body: Value = response.json().await.unwrap();
        assert_eq!(reason(&body), "backendError");
        assert_eq!(h.fake.upload_sessions()[0].received_bytes, G);

        // A scripted 5xx before any byte keeps what the session had.
        h.fake
            .fail_next(Endpoint::UploadBytes, [Failure::ServerError(500)]);
        let refused = h.put_chunk(&session, &data[G as usize..], G as usize).await;
        assert_eq!(refused.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(h.fake.upload_sessions()[0].received_bytes, G);
        let done = h.put_chunk(&session, &data[G as usize..], G as usize).await;
        assert_eq!(done.status(), StatusCode::CREATED);
        assert_eq!(h.fake.videos()[0].sha256_hex, sha256_hex(&data));
        assert_eq!(h.fake.request_count(Endpoint::UploadBytes), 3);
    }

    #[tokio::test]
    async fn a_probe_of_an_unknown_or_expired_session_is_404() {
        let clock = Arc::new(ManualClock::starting_at(Utc::now()));
        let h = serve(YouTubeFake::with_clock("client", "secret", clock.clone())).await;
        let token = h.access_token("alice").await;
        let session = h.start(&token, "Stale", 1000).await;
        assert_eq!(
            h.probe(&session, 1000).await.status(),
            StatusCode::PERMANENT_REDIRECT
        );
        let wrong_total = h.probe(&session, 999).await;
        assert_eq!(wrong_total.status(), StatusCode::BAD_REQUEST);

        let unknown = session.replace("upload_id=", "upload_id=x");
        assert_eq!(
            h.probe(&unknown, 1000).await.status(),
            StatusCode::NOT_FOUND
        );
        clock.advance(TimeDelta::days(SESSION_LIFETIME_DAYS));
        let expired = h.probe(&session, 1000).await;
        assert_eq!(expired.status(), StatusCode::NOT_FOUND);
        assert_eq!(reason(&expired.json::<Value>().await.unwrap()), "notFound");
        let late = h.put(&session, &file(1000), None).await.unwrap();
        assert_eq!(late.status(), StatusCode::NOT_FOUND);
        assert_eq!(h.fake.request_count(Endpoint::ProbeUpload), 4);

        h.fake.set_session_lifetime(TimeDelta::days(30));
        assert_eq!(
            h.probe(&session, 1000).await.status(),
            StatusCode::PERMANENT_REDIRECT
        );
    }

    #[tokio::test]
    async fn processing_follows_the_scripted_sequence() {
        let h = harness().await;
        let token = h.access_token("alice").await;
        let upload = |title: &'static str| {
            let h = &h;
            let token = token.clone();
            async move {
                let session = h.start(&token, title, 1000).await;
                let video: Value = h
                    .put(&session, &file(1000), None)
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                video["id"].as_str().unwrap().to_owned()
            }
        };
        let status_of = |id: String| {
            let h = &h;
            let token = token.clone();
            async move {
                let uri = format!("/youtube/v3/videos?part=status,processingDetails&id={id}");
                let (status, body) = h.get(&uri, &token).await;
                assert_eq!(status, StatusCode::OK, "{body}");
                let item = &body["items"][0];
                (
                    item["status"]["uploadStatus"].as_str().unwrap().to_owned(),
                    item["processingDetails"]["processingStatus"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                )
            }
        };
        let at_once = upload("Default").await;
        assert_eq!(
            status_of(at_once).await,
            ("processed".to_owned(), "succeeded".to_owned())
        );

        h.fake
            .set_processing_sequence(vec![UploadStatus::Uploaded, UploadStatus::Processed]);
        let slow = upload("Slow").await;
        assert_eq!(status_of(slow.clone()).await.0, "uploaded");
        assert_eq!(status_of(slow.clone()).await.0, "processed");
        assert_eq!(status_of(slow).await.0, "processed");

        h.fake
            .set_processing_sequence(vec![UploadStatus::Uploaded, UploadStatus::Failed]);
        let failed = upload("Broken").await;
        assert_eq!(status_of(failed.clone()).await.1, "processing");
        assert_eq!(
            status_of(failed).await,
            ("failed".to_owned(), "failed".to_owned())
        );
        h.fake.set_processing_sequence(vec![UploadStatus::Rejected]);
        let rejected = upload("Copy").await;
        let (_, body) = h
            .get(
                &format!("/youtube/v3/videos?part=status&id={rejected}"),
                &token,
            )
            .await;
        assert_eq!(body["items"][0]["status"]["uploadStatus"], "rejected");
        assert_eq!(body["items"][0]["status"]["rejectionReason"], "duplicate");
    }

    #[tokio::test]
    async fn statistics_grow_with_the_videos_age_and_fifty_ids_is_the_most() {
        let clock = Arc::new(ManualClock::starting_at(Utc::now()));
        let h = serve(YouTubeFake::with_clock("client", "secret", clock.clone())).await;
        h.fake.set_access_token_lifetime(30 * 86_400);
        let token = h.access_token("alice").await;
        let session = h.start(&token, "Mugs", 1000).await;
        let video: Value = h
            .put(&session, &file(1000), None)
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = video["id"].as_str().unwrap().to_owned();
        let uri = format!("/youtube/v3/videos?part=statistics&id={id},nosuchvideo");
        clock.advance(TimeDelta::hours(3));
        let (status, early) = h.get(&uri, &token).await;
        assert_eq!(status, StatusCode::OK, "{early}");
        assert_eq!(early["items"].as_array().unwrap().len(), 1, "{early}");
        let count = |body: &Value, name: &str| {
            body["items"][0]["statistics"][name]
                .as_str()
                .and_then(|count| count.parse::<u64>().ok())
        };
        assert!(count(&early, "viewCount").is_some_and(|views| views > 0));
        clock.advance(TimeDelta::hours(6));
        let (_, later) = h.get(&uri, &token).await;
        assert!(count(&later, "viewCount") > count(&early, "viewCount"));
        assert!(count(&later, "likeCount") >= count(&early, "likeCount"));
        assert!(count(&later, "commentCount").is_some());
        let many: Vec<String> = (0..51).map(|n| format!("v{n}")).collect();
        let uri = format!("/youtube/v3/videos?part=statistics&id={}", many.join(","));
        let (status, body) = h.get(&uri, &token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }

    #[tokio::test]
    async fn the_uploads_playlist_lists_videos_newest_first() {
        let h = harness().await;
        let token = h.access_token("alice").await;
        for title in ["First", "Second", "Third"] {
            let session = h.start(&token, title, 1000).await;
            assert_eq!(
                h.put(&session, &file(1000), None).await.unwrap().status(),
                StatusCode::CREATED
            );
        }
        let unfinished = h.start(&token, "Unfinished", 1000).await;
        assert_eq!(
            h.put(&unfinished, &file(500), Some("bytes 0-499/1000".to_owned()))
                .await
                .unwrap()
                .status(),
            StatusCode::BAD_REQUEST
        );
        let playlist = h.fake.uploads_playlist_id("alice").unwrap();
        let uri =
            format!("/youtube/v3/playlistItems?part=snippet&playlistId={playlist}&maxResults=2");
        let (status, page) = h.get(&uri, &token).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let titles: Vec<&str> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["snippet"]["title"].as_str().unwrap())
            .collect();
        assert_eq!(titles, ["Third", "Second"]);
        let first = &page["items"][0]["snippet"];
        assert_eq!(first["resourceId"]["kind"], "youtube#video");
        assert_eq!(
            first["resourceId"]["videoId"],
            h.fake.videos()[2].id.as_str()
        );
        assert!(first["publishedAt"].as_str().unwrap().ends_with('Z'));
        assert_eq!(page["pageInfo"]["totalResults"], 3);

        let token_param = page["nextPageToken"].as_str().unwrap();
        let (_, next) = h
            .get(&format!("{uri}&pageToken={token_param}"), &token)
            .await;
        assert_eq!(next["items"][0]["snippet"]["title"], "First");
        assert!(next.get("nextPageToken").is_none());
        let (status, body) = h
            .get(
                "/youtube/v3/playlistItems?part=snippet&playlistId=UUnope",
                &token,
            )
            .await;
        assert_eq!(
            (status, reason(&body)),
            (StatusCode::NOT_FOUND, "playlistNotFound")
        );
        let (status, _) = h.get(&format!("{uri}&pageToken=bogus"), &token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn an_unaudited_project_can_only_upload_private_videos() {
        let h = harness().await;
        let token = h.access_token("alice").await;
        h.fake.set_unaudited(true);
        let session = h.start(&token, "Meant to be public", 1000).await;
        let video: Value = h
            .put(&session, &file(1000), None)
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(video["status"]["privacyStatus"], "private");
        let stored = &h.fake.videos()[0];
        assert!(stored.locked_private);
        assert_eq!(stored.requested_privacy, Privacy::Public);

        // A private video is its owner's to see.
        let uri = format!("/youtube/v3/videos?part=status&id={}", stored.id);
        assert_eq!(
            h.get(&uri, &token).await.1["items"][0]["id"],
            stored.id.as_str()
        );
        let bob = h.access_token("bob").await;
        assert_eq!(h.get(&uri, &bob).await.1["items"], json!([]));
        let html = h
            .http
            .get(format!("{}/watch?v={}", h.base, stored.id))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("unaudited"));
    }

    #[tokio::test]
    async fn a_dropped_answer_on_the_last_put_still_creates_the_video() {
        let h = harness().await;
        let token = h.access_token("alice").await;
        let data = file(G as usize + 5000);
        let total = data.len() as u64;
        let session = h.start(&token, "Lost answer", total).await;
        h.put_chunk(&session, &data[..G as usize], 0).await;
        h.fake
            .fail_next(Endpoint::UploadBytes, [Failure::CreatedThenDropped]);
        let answer = match h
            .put_chunk_result(&session, &data[G as usize..], G as usize)
            .await
        {
            Ok(response) => response.bytes().await.map(|_| ()),
            Err(error) => Err(error),
        };
        assert!(answer.is_err(), "the client must not read the video");
        assert_eq!(h.fake.video_count(), 1, "the last byte committed it");

        let probed = h.probe(&session, total).await;
        assert_eq!(probed.status(), StatusCode::OK);
        let video: Value = probed.json().await.unwrap();
        assert_eq!(video["id"], h.fake.videos()[0].id.as_str());
        assert_eq!(video["status"]["uploadStatus"], "uploaded");
    }

    #[tokio::test]
    async fn scripted_failures_answer_in_googles_envelope_in_order() {
        let h = harness().await;
        let token = h.access_token("alice").await;
        h.fake.fail_next(
            Endpoint::StartUpload,
            [
                YouTubeFailure::QuotaExceeded,
                YouTubeFailure::UploadLimitExceeded,
                YouTubeFailure::UserRateLimitExceeded,
                Failure::RateLimited { reset_in_secs: 30 }.into(),
                Failure::ServerError(503).into(),
                Failure::ExpiredToken.into(),
            ],
        );
        let expected = [
            (StatusCode::FORBIDDEN, "quotaExceeded", "youtube.quota"),
            (
                StatusCode::BAD_REQUEST,
                "uploadLimitExceeded",
                "youtube.video",
            ),
            (
                StatusCode::FORBIDDEN,
                "userRateLimitExceeded",
                "usageLimits",
            ),
            (StatusCode::FORBIDDEN, "rateLimitExceeded", "usageLimits"),
            (StatusCode::SERVICE_UNAVAILABLE, "backendError", "global"),
            (StatusCode::UNAUTHORIZED, "authError", "global"),
        ];
        for (status, expected_reason, domain) in expected {
            let response = h
                .start_raw(&token, &metadata("Refused", "public"), 1000)
                .await;
            assert_eq!(response.status(), status);
            if expected_reason == "rateLimitExceeded" {
                assert_eq!(response.headers()[header::RETRY_AFTER], "30");
            }
            let body: Value = response.json().await.unwrap();
            assert_eq!(reason(&body), expected_reason);
            assert_eq!(body["error"]["errors"][0]["domain"], domain);
            assert_eq!(body["error"]["code"], status.as_u16());
        }
        assert_eq!(h.fake.upload_session_count(), 0, "refusals open nothing");
        assert_eq!(
            h.start_raw(&token, &metadata("Accepted", "public"), 1000)
                .await
                .status(),
            StatusCode::OK
        );
        assert_eq!(h.fake.request_count(Endpoint::StartUpload), 7);

        h.fake.fail_next(Endpoint::Token, [Failure::RevokedToken]);
        let (status, body) = h
            .token(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "invalid_grant");
    }

    #[tokio::test]
    async fn the_control_page_arms_a_failure_for_the_next_upload() {
        let h = harness().await;
        let arm = |failure: &'static str| {
            h.http
                .post(format!("{}/_control", h.base))
                .form(&[("failure", failure)])
                .send()
        };
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let armed = client
            .post(format!("{}/_control", h.base))
            .form(&[("failure", "server_error")])
            .send()
            .await
            .unwrap();
        assert_eq!(armed.status(), StatusCode::SEE_OTHER);
        let page = arm("created_then_dropped")
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("2 failure(s) armed."));
        let token = h.access_token("alice").await;
        let refused = h
            .start_raw(&token, &metadata("Armed", "public"), 1000)
            .await;
        assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
        let session = h.start(&token, "Armed", 1000).await;
        let lost = h.put(&session, &file(1000), None).await;
        let lost = match lost {
            Ok(response) => response.bytes().await.map(|_| ()),
            Err(error) => Err(error),
        };
        assert!(lost.is_err());
        assert_eq!(h.fake.video_count(), 1);
        let page = h
            .http
            .get(format!("{}/_control", h.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("alice: Armed") && page.contains("watch?v="));
    }
}
