//! The media library port: uploads checked by content, kept in the media store with a row
//! describing them, listed, served to their owner, and deleted when no post uses them.
//!
//! An upload arrives as a stream and is written to a staging file as it comes (a video may be a
//! gigabyte; nothing holds it in memory), hashed and counted on the way. Once whole, its first
//! bytes say what it is: an image is decoded and measured ([`probe`]); anything else is handed
//! to `ffprobe` as a video ([`video`](super::video)), which also gives a poster frame for
//! previews. Then the file moves into the store and its row is written; a failure at any step
//! leaves neither a row nor a file behind.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sea_orm::DatabaseConnection;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use app::services::Media;
use app::types::{ApiError, MediaId, MediaItem, UserId, VideoInfo};

use super::probe::{MAX_UPLOAD_BYTES, probe};
use super::store::MediaStore;
use super::video::{Container, VideoError, VideoFacts, poster_frame, probe_video};
use crate::clock::SharedClock;
use crate::db::media::{self as rows, MediaRow, NewMedia};
use crate::db::posts::media_item;
use crate::error::Error;
use crate::publishing::Pipeline;

/// Where the poster of a video is taken: a second in, where a first frame that fades in from
/// black is past, or half-way through a shorter clip.
const POSTER_AT: Duration = Duration::from_secs(1);

pub struct MediaLibrary {
    db: DatabaseConnection,
    store: Arc<dyn MediaStore>,
    clock: SharedClock,
    /// `MEDIA_MAX_VIDEO_BYTES`: the largest upload (images have their own, smaller limit).
    max_upload_bytes: u64,
}

/// An upload being written to its staging file.
pub struct Staged {
    path: PathBuf,
    file: tokio::fs::File,
    bytes: u64,
    hash: Sha256,
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
    ) -> Self {
        Self {
            db,
            store,
            clock,
            max_upload_bytes,
        }
    }

    pub fn max_upload_bytes(&self) -> u64 {
        self.max_upload_bytes
    }

    /// A new staging file for an upload about to arrive.
    pub async fn stage(&self) -> Result<Staged, Error> {
        let dir = self.store.staging_dir();
        tokio::fs::create_dir_all(&dir).await?;
        let path = dir.join(format!("{}.upload", Uuid::new_v4()));
        let file = tokio::fs::File::create(&path).await?;
        Ok(Staged {
            path,
            file,
            bytes: 0,
            hash: Sha256::new(),
            limit: self.max_upload_bytes,
        })
    }

    /// Checks a whole upload by its content and keeps it. The staging file is gone afterwards,
    /// whatever happened.
    pub async fn keep(
        &self,
        owner: UserId,
        file_name: Option<String>,
        mut staged: Staged,
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
                self.check_and_store(owner, file_name, &path, &poster_path, bytes, &sha256)
                    .await
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
        path: &Path,
        poster_path: &Path,
        bytes: u64,
        sha256: &str,
    ) -> Result<MediaItem, Error> {
        let checked = check(path, bytes).await?;
        let id = MediaId(Uuid::new_v4());
        let key = format!("{}/{}.{}", owner.0, id.0, checked.extension);
        let poster_key = match &checked.video {
            Some(facts) => {
                let at = POSTER_AT.min(facts.duration / 2);
                poster_frame(path, poster_path, at)
                    .await
                    .map_err(refused_video)?;
                let poster_key = format!("{}/{}.poster.jpg", owner.0, id.0);
                self.store.put_file(&poster_key, poster_path).await?;
                Some(poster_key)
            }
            None => None,
        };
        if let Err(error) = self.store.put_file(&key, path).await {
            if let Some(poster_key) = &poster_key {
                let _ = self.store.delete(poster_key).await;
            }
            return Err(error.into());
        }
        let name = file_name
            .map(|name| {
                name.chars()
                    .filter(|c| !c.is_control())
                    .take(200)
                    .collect::<String>()
            })
            .filter(|name| !name.is_empty());
        let video = checked.video.as_ref().map(video_info);
        let row = rows::insert(
            &self.db,
            owner,
            NewMedia {
                id,
                mime: checked.mime,
                width: checked.width,
                height: checked.height,
                bytes,
                sha256,
                storage_key: &key,
                original_name: name.as_deref(),
                video: video.as_ref(),
                poster_key: poster_key.as_deref(),
            },
            self.clock.now(),
        )
        .await;
        match row {
            Ok(row) => Ok(item(&row)),
            Err(error) => {
                // No row, no file: an upload either lands whole or not at all.
                let _ = self.store.delete(&key).await;
                if let Some(poster_key) = &poster_key {
                    let _ = self.store.delete(poster_key).await;
                }
                Err(error.into())
            }
        }
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

    async fn remove(&self, owner: UserId, id: MediaId) -> Result<(), Error> {
        let row = self.row(owner, id).await?;
        if rows::in_use(&self.db, id).await? {
            let what = if row.video.is_some() {
                "video"
            } else {
                "image"
            };
            return Err(Error::conflict(format!(
                "A post uses this {what}. Remove it from the post, or delete the post, first."
            )));
        }
        rows::delete(&self.db, owner, id).await?;
        self.store.delete(&row.storage_key).await?;
        if let Some(poster_key) = &row.poster_key {
            self.store.delete(poster_key).await?;
        }
        Ok(())
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

fn refused(message: impl Into<String>) -> Error {
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

    async fn delete(&self, owner: UserId, id: MediaId) -> Result<(), ApiError> {
        Ok(self.remove(owner, id).await?)
    }
}
