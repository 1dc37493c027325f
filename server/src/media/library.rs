//! The media library port: uploads checked by content, kept in the media store with a row
//! describing them, listed with the posts that use them, served to their owner, and deleted
//! once no post that has yet to go out needs them. Direct uploads, which reach the store
//! without passing through the app, are in [`super::direct`].
//!
//! An upload arrives as a stream and is written to a staging file as it comes (a video may be a
//! gigabyte; nothing holds it in memory), hashed and counted on the way. Once whole, its first
//! bytes say what it is: an image is decoded and measured ([`probe`]); anything else is handed
//! to `ffprobe` as a video ([`video`](super::video)), which also gives a poster frame for
//! previews. Then the file moves into the store and its row is written; a failure at any step
//! leaves neither a row nor a file behind.
//!
//! Deleting: a file that a post still on its way out uses (a draft, a scheduled post, one being
//! published, retried, held or waiting for its account) is refused with the post named and
//! when it is due. A file that only finished posts use (published or cancelled on every
//! account) is deleted: the platforms keep their own copies, and those posts' records stay
//! readable, without the file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, TransactionTrait};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use app::services::Media;
use app::types::{
    ApiError, AppEvent, DirectUpload, MediaEntry, MediaId, MediaItem, MediaUsage, MediaUse,
    NewDirectUpload, PostId, TargetStatus, UploadId, UserId, VideoInfo,
};

use super::probe::{MAX_UPLOAD_BYTES, probe};
use super::pull::PullUrls;
use super::store::MediaStore;
use super::video::{Container, VideoError, VideoFacts, poster_frame, probe_video};
use crate::analytics::events::ProductEvents;
use crate::clock::SharedClock;
use crate::db::DbError;
use crate::db::media::{self as rows, MediaRow, NewMedia, PostUse, Removal, UploadRow};
use crate::db::posts::media_item;
use crate::error::Error;
use crate::publishing::Pipeline;

/// Where the poster of a video is taken: a second in, where a first frame that fades in from
/// black is past, or half-way through a shorter clip.
const POSTER_AT: Duration = Duration::from_secs(1);
/// How much of a post's text names it in a message.
const EXCERPT_CHARS: usize = 40;

pub struct MediaLibrary {
    pub(super) db: DatabaseConnection,
    pub(super) store: Arc<dyn MediaStore>,
    pub(super) clock: SharedClock,
    /// `MEDIA_MAX_VIDEO_BYTES`: the largest upload (images have their own, smaller limit).
    pub(super) max_upload_bytes: u64,
    /// Signs the URLs browsers send direct uploads to when the store cannot sign its own.
    pub(super) upload_urls: PullUrls,
    pub(super) events: Arc<ProductEvents>,
}

/// An upload being written to its staging file.
pub struct Staged {
    pub(super) path: PathBuf,
    pub(super) file: tokio::fs::File,
    pub(super) bytes: u64,
    pub(super) hash: Sha256,
    limit: u64,
}

/// Why an upload stopped while it arrived.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error("the upload is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl Staged {
    /// Appends a piece of the upload; refuses to grow past the limit.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), StageError> {
        self.bytes += chunk.len() as u64;
        if self.bytes > self.limit {
            return Err(StageError::TooLarge { limit: self.limit });
        }
        self.hash.update(chunk);
        self.file.write_all(chunk).await?;
        Ok(())
    }

    /// Throws the partial upload away.
    pub async fn discard(self) {
        drop(self.file);
        let _ = tokio::fs::remove_file(&self.path).await;
    }
}

/// What becomes of a checked file.
pub(super) enum Landing {
    /// Uploaded through the app: it moves into the store under a new id.
    Staged,
    /// A direct upload, already in the store under its key: it stays there, and becomes media
    /// under the upload's id if it is what the browser announced.
    Uploaded(UploadRow),
}

/// What an upload turned out to be, ready to be stored.
struct Checked {
    mime: &'static str,
    extension: &'static str,
    width: u32,
    height: u32,
    video: Option<VideoFacts>,
}

impl MediaLibrary {
    pub fn new(
        db: DatabaseConnection,
        store: Arc<dyn MediaStore>,
        clock: SharedClock,
        max_upload_bytes: u64,
        upload_urls: PullUrls,
        events: Arc<ProductEvents>,
    ) -> Self {
        Self {
            db,
            store,
            clock,
            max_upload_bytes,
            upload_urls,
            events,
        }
    }

    pub fn max_upload_bytes(&self) -> u64 {
        self.max_upload_bytes
    }

    /// A new staging file for an upload about to arrive.
    pub async fn stage(&self) -> Result<Staged, Error> {
        self.stage_limited(self.max_upload_bytes).await
    }

    /// A new staging file that refuses to grow past `limit` bytes.
    pub(super) async fn stage_limited(&self, limit: u64) -> Result<Staged, Error> {
        let dir = self.store.staging_dir();
        tokio::fs::create_dir_all(&dir).await?;
        let path = dir.join(format!("{}.upload", Uuid::new_v4()));
        let file = tokio::fs::File::create(&path).await?;
        Ok(Staged {
            path,
            file,
            bytes: 0,
            hash: Sha256::new(),
            limit,
        })
    }

    /// Checks a whole upload by its content and keeps it. The staging file is gone afterwards,
    /// whatever happened.
    pub async fn keep(
        &self,
        owner: UserId,
        file_name: Option<String>,
        staged: Staged,
    ) -> Result<MediaItem, Error> {
        let item = self
            .keep_as(owner, file_name, staged, Landing::Staged)
            .await?;
        self.count_upload(owner, &item, false).await;
        Ok(item)
    }

    /// [`MediaLibrary::keep`] for a file the app fetched itself (a store's product photo),
    /// which product analytics does not count as the person's upload.
    pub async fn keep_fetched(
        &self,
        owner: UserId,
        file_name: Option<String>,
        staged: Staged,
    ) -> Result<MediaItem, Error> {
        self.keep_as(owner, file_name, staged, Landing::Staged)
            .await
    }

    /// Counts a file the person uploaded that became media: through the server, or `direct`ly
    /// to the bucket.
    pub(super) async fn count_upload(&self, owner: UserId, item: &MediaItem, direct: bool) {
        let event = AppEvent::MediaUploaded {
            video: item.video.is_some(),
            direct,
        };
        self.events.record_for(owner, event).await;
    }

    /// [`MediaLibrary::keep`], for either kind of upload.
    pub(super) async fn keep_as(
        &self,
        owner: UserId,
        file_name: Option<String>,
        mut staged: Staged,
        landing: Landing,
    ) -> Result<MediaItem, Error> {
        let flushed = staged.file.flush().await;
        let Staged {
            path,
            file,
            bytes,
            hash,
            ..
        } = staged;
        drop(file);
        let poster_path = path.with_extension("poster.jpg");
        let kept = match flushed {
            Ok(()) => {
                let sha256 = format!("{:x}", hash.finalize());
                let file = StagedFile {
                    path: &path,
                    poster_path: &poster_path,
                    bytes,
                    sha256: &sha256,
                };
                self.check_and_store(owner, file_name, file, landing).await
            }
            Err(error) => Err(error.into()),
        };
        for leftover in [&path, &poster_path] {
            let _ = tokio::fs::remove_file(leftover).await;
        }
        kept
    }

    async fn check_and_store(
        &self,
        owner: UserId,
        file_name: Option<String>,
        file: StagedFile<'_>,
        landing: Landing,
    ) -> Result<MediaItem, Error> {
        let checked = match check(file.path, file.bytes).await {
            Ok(checked) => checked,
            Err(Error::Refused(refusal)) => {
                if let Landing::Uploaded(upload) = &landing {
                    self.discard_upload(owner, upload).await;
                }
                return Err(Error::Refused(refusal));
            }
            Err(other) => return Err(other),
        };
        let (id, key) = match &landing {
            Landing::Staged => {
                let id = MediaId(Uuid::new_v4());
                (id, format!("{}/{}.{}", owner.0, id.0, checked.extension))
            }
            Landing::Uploaded(upload) => {
                if checked.mime != upload.content_type {
                    self.discard_upload(owner, upload).await;
                    return Err(refused(format!(
                        "The file is {}, not the {} announced; it has been deleted.",
                        describe(checked.mime),
                        kind(&upload.content_type)
                    )));
                }
                (MediaId(upload.id), upload.storage_key.clone())
            }
        };
        let poster_key = match &checked.video {
            Some(facts) => {
                let at = POSTER_AT.min(facts.duration / 2);
                if let Err(error) = poster_frame(file.path, file.poster_path, at).await {
                    let error = refused_video(error);
                    if let (Error::Refused(_), Landing::Uploaded(upload)) = (&error, &landing) {
                        self.discard_upload(owner, upload).await;
                    }
                    return Err(error);
                }
                let poster_key = format!("{}/{}.poster.jpg", owner.0, id.0);
                self.store
                    .put_file(&poster_key, file.poster_path, "image/jpeg")
                    .await?;
                Some(poster_key)
            }
            None => None,
        };
        if matches!(landing, Landing::Staged)
            && let Err(error) = self.store.put_file(&key, file.path, checked.mime).await
        {
            self.delete_quietly(poster_key.as_deref()).await;
            return Err(error.into());
        }
        let video = checked.video.as_ref().map(video_info);
        let name = clean_name(file_name);
        let new = NewMedia {
            id,
            mime: checked.mime,
            width: checked.width,
            height: checked.height,
            bytes: file.bytes,
            sha256: file.sha256,
            storage_key: &key,
            original_name: name.as_deref(),
            video: video.as_ref(),
            poster_key: poster_key.as_deref(),
        };
        let now = self.clock.now();
        match landing {
            Landing::Staged => {
                match rows::insert(&self.db, owner, new, now).await {
                    Ok(row) => Ok(item(&row)),
                    Err(error) => {
                        // No row, no file: an upload either lands whole or not at all.
                        self.delete_quietly(Some(&key)).await;
                        self.delete_quietly(poster_key.as_deref()).await;
                        Err(error.into())
                    }
                }
            }
            Landing::Uploaded(upload) => {
                match self.record_upload(owner, &upload, new, now).await {
                    Ok(Some(row)) => Ok(item(&row)),
                    // Another confirm took the upload: the poster under the same key is its.
                    Ok(None) => Err(Error::conflict(
                        "This upload was confirmed already, or has expired.",
                    )),
                    Err(error) => {
                        // The object stays with its upload, which is still there to confirm.
                        self.delete_quietly(poster_key.as_deref()).await;
                        Err(error)
                    }
                }
            }
        }
    }

    /// Deletes what a failed upload left in the store; a failure here only leaves a file
    /// nothing points to, so it is logged and not reported over the first error.
    async fn delete_quietly(&self, key: Option<&str>) {
        if let Some(key) = key
            && let Err(error) = self.store.delete(key).await
        {
            tracing::warn!(%error, key, "could not delete a file left by a failed upload");
        }
    }

    /// Turns a checked direct upload into media: the upload's record goes and the media row
    /// comes in one transaction, so the sweep never deletes the file of media, and a second
    /// confirm of the same upload finds nothing to take (`None`).
    async fn record_upload(
        &self,
        owner: UserId,
        upload: &UploadRow,
        new: NewMedia<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<MediaRow>, Error> {
        let tx = self.db.begin().await.map_err(DbError::from)?;
        if !rows::take_upload(&tx, owner, upload.id).await? {
            let _ = tx.rollback().await;
            return Ok(None);
        }
        let row = rows::insert(&tx, owner, new, now).await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(Some(row))
    }

    /// The owner's file: its row, to stream it (or its poster) from the store.
    pub async fn row(&self, owner: UserId, id: MediaId) -> Result<MediaRow, Error> {
        rows::get(&self.db, owner, id)
            .await?
            .ok_or(Error::Refused(ApiError::NotFound))
    }

    /// A file by id alone, for a pull URL whose signature was checked.
    pub async fn row_by_id(&self, id: MediaId) -> Result<MediaRow, Error> {
        rows::by_id(&self.db, id)
            .await?
            .ok_or(Error::Refused(ApiError::NotFound))
    }

    pub fn store(&self) -> &Arc<dyn MediaStore> {
        &self.store
    }

    /// Every file of the owner with the posts that use it, newest first.
    pub async fn entries(&self, owner: UserId) -> Result<Vec<MediaEntry>, Error> {
        let files = rows::list(&self.db, owner).await?;
        let ids: Vec<Uuid> = files.iter().map(|row| row.id).collect();
        let mut uses: HashMap<Uuid, Vec<MediaUse>> = HashMap::new();
        for found in rows::uses(&self.db, &ids).await? {
            uses.entry(found.media_id).or_default().push(MediaUse {
                post_id: PostId(found.post_id),
                status: overall_status(&found),
                scheduled_at: found.scheduled_at,
            });
        }
        Ok(files
            .iter()
            .map(|row| {
                let mut used_by = uses.remove(&row.id).unwrap_or_default();
                // Posts still to go out first, soonest first; finished ones after.
                used_by.sort_by_key(|found| {
                    (
                        found.status.is_final(),
                        found.scheduled_at.is_none(),
                        found.scheduled_at,
                        found.post_id.0,
                    )
                });
                MediaEntry {
                    item: item(row),
                    used_by,
                }
            })
            .collect())
    }

    /// What the owner's files take in the store.
    pub async fn usage(&self, owner: UserId) -> Result<MediaUsage, Error> {
        let (bytes_used, files) = rows::usage(&self.db, owner).await?;
        Ok(MediaUsage { bytes_used, files })
    }

    async fn remove(&self, owner: UserId, id: MediaId) -> Result<(), Error> {
        let row = self.row(owner, id).await?;
        let what = if row.video.is_some() {
            "video"
        } else {
            "image"
        };
        let uses = rows::uses(&self.db, &[id.0]).await?;
        let (finished, waiting): (Vec<&PostUse>, Vec<&PostUse>) = uses
            .iter()
            .partition(|found| overall_status(found).is_final());
        if !waiting.is_empty() {
            return Err(Error::conflict(
                self.still_needed(owner, what, &waiting).await?,
            ));
        }
        let finished: Vec<Uuid> = finished.iter().map(|found| found.post_id).collect();
        let tx = self.db.begin().await.map_err(DbError::from)?;
        match rows::delete_with_finished_links(&tx, owner, id, &finished).await? {
            Removal::Deleted => tx.commit().await.map_err(DbError::from)?,
            Removal::StillUsed => {
                let _ = tx.rollback().await;
                return Err(Error::conflict(format!(
                    "A post started using this {what} a moment ago. Remove it from the post, or delete the post, first."
                )));
            }
            Removal::Gone => {
                let _ = tx.rollback().await;
                return Err(Error::Refused(ApiError::NotFound));
            }
        }
        self.store.delete(&row.storage_key).await?;
        if let Some(poster_key) = &row.poster_key {
            self.store.delete(poster_key).await?;
        }
        Ok(())
    }

    /// Why a file cannot go: the post that needs it soonest, named by its text, and when it is
    /// due in the owner's time zone.
    async fn still_needed(
        &self,
        owner: UserId,
        what: &str,
        waiting: &[&PostUse],
    ) -> Result<String, Error> {
        let zone = rows::time_zone_of(&self.db, owner)
            .await?
            .and_then(|name| name.parse::<chrono_tz::Tz>().ok())
            .unwrap_or(chrono_tz::UTC);
        let first = waiting
            .iter()
            .min_by_key(|found| (next_due(found).is_none(), next_due(found)))
            .expect("called with at least one post");
        let mut message = format!(
            "A post uses this {what} and has not gone out yet: \u{201c}{}\u{201d} {}.",
            excerpt(&first.text),
            when(first, zone)
        );
        if waiting.len() > 1 {
            message.push_str(&format!(
                " {} other post{} that {} not gone out use{} it too.",
                waiting.len() - 1,
                if waiting.len() == 2 { "" } else { "s" },
                if waiting.len() == 2 { "has" } else { "have" },
                if waiting.len() == 2 { "s" } else { "" },
            ));
        }
        message.push_str(&format!(
            " Remove the {what} from the post, or delete the post, first."
        ));
        Ok(message)
    }
}

/// The paths of a staged upload and what was learnt while it arrived.
struct StagedFile<'a> {
    path: &'a Path,
    poster_path: &'a Path,
    bytes: u64,
    sha256: &'a str,
}

/// What a post as a whole is doing, for a file's list of uses: the status of its target
/// furthest from done. Whatever is in motion comes first, then what waits for the user, then
/// the final statuses, so a post is final (and its files free) only once every target is.
pub(super) fn overall_status(found: &PostUse) -> TargetStatus {
    use TargetStatus::*;
    const FURTHEST_FROM_DONE: [TargetStatus; 10] = [
        Publishing,
        Processing,
        Retrying,
        Scheduled,
        WaitingReconnect,
        Held,
        Failed,
        Draft,
        Published,
        Cancelled,
    ];
    FURTHEST_FROM_DONE
        .into_iter()
        .find(|status| found.targets.iter().any(|(target, _)| target == status))
        // A post without targets is a draft: nothing has gone anywhere.
        .unwrap_or(Draft)
}

/// When the first of a post's unfinished targets is next due.
fn next_due(found: &PostUse) -> Option<DateTime<Utc>> {
    found
        .targets
        .iter()
        .filter(|(status, _)| !status.is_final())
        .filter_map(|(_, due)| *due)
        .min()
        .or(found.scheduled_at)
}

/// How a waiting post stands, as the end of a sentence about it.
fn when(found: &PostUse, zone: chrono_tz::Tz) -> String {
    let at = |time: DateTime<Utc>| {
        format!(
            "{} ({})",
            time.with_timezone(&zone).format("%a %-d %b %Y, %H:%M"),
            zone.name()
        )
    };
    let due = next_due(found);
    match (overall_status(found), due) {
        (TargetStatus::Publishing | TargetStatus::Processing, _) => {
            "is being published right now".to_owned()
        }
        (TargetStatus::Retrying, Some(time)) => format!("will be tried again {}", at(time)),
        (TargetStatus::Scheduled, Some(time)) => format!("is due {}", at(time)),
        (TargetStatus::Scheduled | TargetStatus::Retrying, None) => "is due now".to_owned(),
        (TargetStatus::WaitingReconnect, _) => {
            "waits for its account to be connected again".to_owned()
        }
        (TargetStatus::Held, _) => "is held until you publish, edit or cancel it".to_owned(),
        (TargetStatus::Failed, _) => "failed and can still be retried".to_owned(),
        (TargetStatus::Draft, Some(time)) => format!("is a draft meant for {}", at(time)),
        (TargetStatus::Draft, None) => "is a draft".to_owned(),
        (TargetStatus::Published | TargetStatus::Cancelled, _) => "has gone out".to_owned(),
    }
}

/// The start of a post's text on one line, for a message.
fn excerpt(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.is_empty() {
        return "(a post without text)".to_owned();
    }
    if line.chars().count() <= EXCERPT_CHARS {
        return line;
    }
    let mut short: String = line.chars().take(EXCERPT_CHARS).collect();
    // Cut at the last whole word, unless that leaves too little to recognise the post by.
    if let Some(space) = short.rfind(' ')
        && space >= EXCERPT_CHARS / 2
    {
        short.truncate(space);
    }
    short.push('\u{2026}');
    short
}

/// A file name as shown: control characters dropped, at most 200 characters, none if empty.
pub(super) fn clean_name(name: Option<String>) -> Option<String> {
    name.map(|name| {
        name.chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect::<String>()
    })
    .filter(|name| !name.is_empty())
}

/// The types the library keeps, in words, with the article each reads with.
const KINDS: [(&str, &str, &str); 7] = [
    ("image/jpeg", "a", "JPEG image"),
    ("image/png", "a", "PNG image"),
    ("image/webp", "a", "WebP image"),
    ("image/gif", "a", "GIF image"),
    ("video/mp4", "an", "MP4 video"),
    ("video/quicktime", "a", "MOV video"),
    ("video/webm", "a", "WebM video"),
];

/// A media type in words, with its article: "a PNG image", "an MP4 video".
pub(super) fn describe(mime: &str) -> String {
    match KINDS.iter().find(|(known, _, _)| *known == mime) {
        Some((_, article, kind)) => format!("{article} {kind}"),
        None => format!("a file of type {mime}"),
    }
}

/// A media type in words: "PNG image", "MP4 video".
pub(super) fn kind(mime: &str) -> String {
    match KINDS.iter().find(|(known, _, _)| *known == mime) {
        Some((_, _, kind)) => (*kind).to_owned(),
        None => format!("file of type {mime}"),
    }
}

/// Decides what the upload is by its first bytes: an image the library decodes, or a video
/// for `ffprobe`.
async fn check(path: &Path, bytes: u64) -> Result<Checked, Error> {
    if bytes == 0 {
        return Err(refused("The file is empty."));
    }
    let mut head = vec![0u8; 64];
    let read = {
        use tokio::io::AsyncReadExt;
        let mut file = tokio::fs::File::open(path).await?;
        file.read(&mut head).await?
    };
    head.truncate(read);
    if image::guess_format(&head).is_ok() {
        if bytes > MAX_UPLOAD_BYTES as u64 {
            return Err(refused(format!(
                "The image is {:.1} MB; images may be up to {} MB.",
                bytes as f64 / (1024.0 * 1024.0),
                MAX_UPLOAD_BYTES / (1024 * 1024)
            )));
        }
        let content = tokio::fs::read(path).await?;
        let probed = tokio::task::spawn_blocking(move || probe(&content))
            .await
            .map_err(|error| Error::Storage(std::io::Error::other(error)))?
            .map_err(|refusal| refused(refusal.to_string()))?;
        return Ok(Checked {
            mime: probed.mime,
            extension: probed.extension,
            width: probed.width,
            height: probed.height,
            video: None,
        });
    }
    let facts = probe_video(path).await.map_err(|error| match error {
        VideoError::NoVideo => {
            refused("This is neither an image (JPEG, PNG, WebP, GIF) nor a video (MP4, MOV, WebM).")
        }
        other => refused_video(other),
    })?;
    let (mime, extension) = match facts.container {
        Container::Mp4 => ("video/mp4", "mp4"),
        Container::Mov => ("video/quicktime", "mov"),
        Container::WebM => ("video/webm", "webm"),
    };
    Ok(Checked {
        mime,
        extension,
        width: facts.width,
        height: facts.height,
        video: Some(facts),
    })
}

/// A video the tools refused is the uploader's to fix; tools that are missing or misbehave
/// are the operator's.
fn refused_video(error: VideoError) -> Error {
    match error {
        VideoError::ToolMissing { .. }
        | VideoError::UnreadableOutput { .. }
        | VideoError::Io(_) => Error::Storage(std::io::Error::other(error.to_string())),
        other => refused(other.to_string()),
    }
}

pub(super) fn refused(message: impl Into<String>) -> Error {
    Error::Refused(ApiError::validation("file", message.into()))
}

pub fn video_info(facts: &VideoFacts) -> VideoInfo {
    VideoInfo {
        duration_ms: u64::try_from(facts.duration.as_millis()).unwrap_or(u64::MAX),
        video_codec: facts.video_codec.clone(),
        audio_codec: facts.audio.as_ref().map(|audio| audio.codec.clone()),
        frames_per_second: facts.frames_per_second,
        faststart: facts.faststart,
    }
}

/// The row as the API shows it, with where its file (and a video's poster) are served.
pub fn item(row: &MediaRow) -> MediaItem {
    media_item(row, Pipeline::media_url(row))
}

#[async_trait]
impl Media for MediaLibrary {
    async fn list(&self, owner: UserId) -> Result<Vec<MediaItem>, ApiError> {
        let rows = rows::list(&self.db, owner).await.map_err(Error::from)?;
        Ok(rows.iter().map(item).collect())
    }

    async fn library(&self, owner: UserId) -> Result<Vec<MediaEntry>, ApiError> {
        Ok(self.entries(owner).await?)
    }

    async fn usage(&self, owner: UserId) -> Result<MediaUsage, ApiError> {
        Ok(MediaLibrary::usage(self, owner).await?)
    }

    async fn delete(&self, owner: UserId, id: MediaId) -> Result<(), ApiError> {
        Ok(self.remove(owner, id).await?)
    }

    async fn begin_upload(
        &self,
        owner: UserId,
        upload: NewDirectUpload,
    ) -> Result<DirectUpload, ApiError> {
        Ok(MediaLibrary::begin_upload(self, owner, upload).await?)
    }

    async fn confirm_upload(&self, owner: UserId, id: UploadId) -> Result<MediaItem, ApiError> {
        Ok(MediaLibrary::confirm_upload(self, owner, id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(targets: &[(TargetStatus, Option<DateTime<Utc>>)]) -> PostUse {
        PostUse {
            media_id: Uuid::nil(),
            post_id: Uuid::nil(),
            text: "Spring sale:   everything\nmust go, today and tomorrow only, come early".into(),
            scheduled_at: None,
            targets: targets.to_vec(),
        }
    }

    #[test]
    fn a_post_is_final_only_once_every_target_is() {
        use TargetStatus::*;
        let cases: &[(&[TargetStatus], TargetStatus)] = &[
            (&[Published, Cancelled], Published),
            (&[Cancelled], Cancelled),
            (&[Published, Failed], Failed),
            (&[Published, Scheduled, Held], Scheduled),
            (&[Draft, Publishing], Publishing),
            (&[], Draft),
        ];
        for (statuses, expected) in cases {
            let targets: Vec<_> = statuses.iter().map(|status| (*status, None)).collect();
            let found = post(&targets);
            assert_eq!(overall_status(&found), *expected, "{statuses:?}");
            assert_eq!(
                overall_status(&found).is_final(),
                !statuses.is_empty() && statuses.iter().all(|status| status.is_final()),
                "{statuses:?}"
            );
        }
    }

    #[test]
    fn a_waiting_post_is_named_with_when_it_is_due_in_the_owners_zone() {
        let due: DateTime<Utc> = "2026-12-01T08:00:00Z".parse().unwrap();
        let found = post(&[
            (TargetStatus::Published, None),
            (TargetStatus::Scheduled, Some(due)),
        ]);
        let paris: chrono_tz::Tz = "Europe/Paris".parse().unwrap();
        assert_eq!(
            when(&found, paris),
            "is due Tue 1 Dec 2026, 09:00 (Europe/Paris)"
        );
        assert_eq!(
            excerpt(&found.text),
            "Spring sale: everything must go, today\u{2026}"
        );
        assert_eq!(excerpt(" \n"), "(a post without text)");
        let retrying = post(&[(TargetStatus::Retrying, Some(due))]);
        assert!(when(&retrying, chrono_tz::UTC).starts_with("will be tried again Tue 1 Dec"));
        assert_eq!(when(&post(&[]), chrono_tz::UTC), "is a draft");
    }

    #[test]
    fn media_types_read_as_words() {
        assert_eq!(describe("image/png"), "a PNG image");
        assert_eq!(describe("video/quicktime"), "a MOV video");
        assert_eq!(describe("video/mp4"), "an MP4 video");
        assert_eq!(kind("image/jpeg"), "JPEG image");
        assert_eq!(describe("text/plain"), "a file of type text/plain");
        assert_eq!(
            clean_name(Some("\u{7}a.png".into())).as_deref(),
            Some("a.png")
        );
        assert_eq!(clean_name(Some("\n".into())), None);
    }
}
