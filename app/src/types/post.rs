//! Posts, their targets (one per account a post goes to), their media and their job log, as
//! the UI and the REST API see them.

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ConnectionId, Platform, ProductId, TargetOptions, TargetStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct PostId(pub Uuid);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct TargetId(pub Uuid);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct MediaId(pub Uuid);

/// When a post should go out: `"draft"`, `"now"`, `{"at": "<RFC 3339 with offset>"}` or
/// `{"local": "YYYY-MM-DDTHH:MM"}` in the user's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Schedule {
    Keyword(ScheduleKeyword),
    At { at: DateTime<FixedOffset> },
    Local { local: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ScheduleKeyword {
    Draft,
    Now,
}

impl Schedule {
    pub const DRAFT: Schedule = Schedule::Keyword(ScheduleKeyword::Draft);
    pub const NOW: Schedule = Schedule::Keyword(ScheduleKeyword::Now);
}

/// One account a new post goes to, with its own text if it should differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewTarget {
    pub connection_id: ConnectionId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "TargetOptions::is_empty")]
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub options: TargetOptions,
}

/// `POST /api/posts` and `PATCH /api/posts/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewPost {
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub media_ids: Vec<MediaId>,
    #[serde(default)]
    pub targets: Vec<NewTarget>,
    pub schedule: Schedule,
    /// The product the post is made from (`GET /api/products`): the post remembers it, with
    /// its price now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<ProductId>,
    /// Whether to hold the post when, at publish time, its product is sold out, archived or
    /// priced differently than when the post was written (default `true`).
    #[serde(default = "checked_by_default")]
    pub check_product: bool,
}

fn checked_by_default() -> bool {
    true
}

/// An uploaded image or video, as stored in the media library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MediaItem {
    pub id: MediaId,
    /// `image/jpeg`, `image/png`, `image/webp`, `image/gif`, `video/mp4`, `video/quicktime` or
    /// `video/webm`, decided by the file's content.
    pub mime: String,
    /// As displayed (a portrait phone video is taller than wide).
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    /// Where the signed-in owner can fetch it.
    pub url: String,
    /// Not read in the browser (the Media page is drawn by the server), so the editors' wasm
    /// carries no date parser for it.
    #[cfg_attr(feature = "hydrate", serde(skip_deserializing))]
    pub created_at: DateTime<Utc>,
    /// A video's facts, which each platform's limits are checked against. The browser does
    /// not read them yet (the composer shows no video), so its wasm carries no code for them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "hydrate", serde(skip_deserializing))]
    pub video: Option<VideoInfo>,
    /// A still from a video, for previews.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poster_url: Option<String>,
}

impl MediaItem {
    pub fn is_video(&self) -> bool {
        self.video.is_some()
    }
}

/// What `ffprobe` read of an uploaded video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VideoInfo {
    pub duration_ms: u64,
    /// `h264`, `hevc`, `vp9`, `av1`…
    pub video_codec: String,
    /// `aac`, `opus`…; `None` for a silent video.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_codec: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frames_per_second: Option<f64>,
    /// Whether an MP4 or MOV has its index (`moov`) before its data, as Instagram requires
    /// (always true for WebM).
    pub faststart: bool,
}

// The frame rate is measured from a ratio and never NaN, so equality is total.
impl Eq for VideoInfo {}

/// Where a post stands on one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Target {
    pub id: TargetId,
    /// `None` once the account was disconnected (the target keeps its history).
    pub connection_id: Option<ConnectionId>,
    pub platform: Platform,
    pub account_handle: String,
    /// This account's own text, when it differs from the post's.
    pub text: Option<String>,
    /// The platform's own choices for this account (see [`NewTarget::options`]).
    #[serde(default, skip_serializing_if = "TargetOptions::is_empty")]
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub options: TargetOptions,
    pub status: TargetStatus,
    pub external_id: Option<String>,
    pub url: Option<String>,
    /// Why it failed, was cancelled, or waits: written for a person.
    pub error: Option<String>,
    pub attempts: u32,
    pub due_at: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    Info,
    Warn,
    Error,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Info, Self::Warn, Self::Error]
            .into_iter()
            .find(|level| level.as_str() == raw)
    }
}

/// One step of publishing, as the detail view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LogLine {
    pub at: DateTime<Utc>,
    pub level: LogLevel,
    pub target_id: Option<TargetId>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Post {
    pub id: PostId,
    pub text: String,
    pub media: Vec<MediaItem>,
    /// The time the user chose; `None` for drafts and "now".
    pub scheduled_at: Option<DateTime<Utc>>,
    pub targets: Vec<Target>,
    /// Only in the detail view (`GET /api/posts/{id}`); empty in lists.
    #[serde(default)]
    pub logs: Vec<LogLine>,
    /// Something the user should know about the schedule (a time that happens twice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    /// The product the post was made from, and whether it is checked before publishing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<ProductId>,
    #[serde(default = "checked_by_default")]
    pub check_product: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What an editor (the composer, the Studio) gets back for a saved post: where the post now
/// lives and what to say there. The whole post would cost the editor's wasm its decoder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedPost {
    pub id: PostId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

impl From<Post> for SavedPost {
    fn from(post: Post) -> Self {
        Self {
            id: post.id,
            notice: post.notice,
        }
    }
}

/// `GET /api/posts` filters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PostQuery {
    #[serde(default)]
    pub status: Option<TargetStatus>,
    #[serde(default)]
    pub platform: Option<Platform>,
    #[serde(default)]
    pub from: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    pub to: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    pub cursor: Option<String>,
    /// Posts per page, 1 to 100; 25 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PostPage {
    pub items: Vec<Post>,
    pub next_cursor: Option<String>,
}

/// The id of a direct upload (`POST /api/media/uploads`); the file keeps it as its media id
/// once confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct UploadId(pub Uuid);

/// A post that uses a media file, as the Media page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MediaUse {
    pub post_id: PostId,
    /// The post as a whole: the status of its target furthest from done (publishing,
    /// processing, retrying, scheduled, waiting_reconnect, held, failed, draft, in that
    /// order), or `published` / `cancelled` once every target is final. While it is not final,
    /// the file cannot be deleted.
    pub status: TargetStatus,
    /// The time the user chose; `None` for drafts and "now".
    pub scheduled_at: Option<DateTime<Utc>>,
}

/// An entry of the media library (`GET /api/media`): the file as [`MediaItem`] has it, and
/// the posts that use it, those still to go out first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MediaEntry {
    #[serde(flatten)]
    pub item: MediaItem,
    #[serde(default)]
    pub used_by: Vec<MediaUse>,
}

/// `GET /api/media/usage`: what a person's files take in the media store (a video's poster,
/// a few kilobytes, not counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MediaUsage {
    pub bytes_used: u64,
    pub files: u64,
}

/// `POST /api/media/uploads`: a file the browser is about to send straight to the media store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewDirectUpload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// `image/jpeg`, `image/png`, `image/webp`, `image/gif`, `video/mp4`, `video/quicktime` or
    /// `video/webm`: what the file must turn out to be when it is checked.
    pub content_type: String,
    /// Its exact size in bytes.
    pub size: u64,
}

/// Where to send an announced file: `method` to `url` with `headers`, before `expires_at`;
/// then `POST /api/media/uploads/{id}/confirm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DirectUpload {
    pub id: UploadId,
    pub url: String,
    pub method: String,
    pub headers: std::collections::BTreeMap<String, String>,
    /// The browser uploads at once and reads the answer's refusal, not this.
    #[cfg_attr(feature = "hydrate", serde(skip_deserializing))]
    pub expires_at: DateTime<Utc>,
}
