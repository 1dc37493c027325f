//! Direct uploads: the browser sends a file straight to the media store and the app only
//! checks it afterwards, so a video of a gigabyte never passes through the app on its way in.
//!
//! 1. `begin_upload`: the browser announces the file (name, type, exact size). The server
//!    refuses what it would refuse anyway (an unknown type, an image over 15 MB, a video over
//!    `MEDIA_MAX_VIDEO_BYTES`), records the announcement, and answers with a URL good for
//!    [`UPLOAD_URL_LIFETIME`]: the bucket's own presigned PUT, or, when the store is the
//!    local directory, the app's signed `/media/uploads/...` URL, so the browser does the same
//!    thing whatever the store.
//! 2. The browser PUTs the file there, showing its own progress.
//! 3. `confirm_upload`: the server looks at what arrived: its size must be the announced one,
//!    its content (sniffed, decoded or probed as any upload is) must be the announced type,
//!    and the image or video is measured. Then it becomes media under the upload's id. What
//!    fails is deleted with a reason.
//!
//! A bucket's presigned URL binds neither type nor size (S3 signs the host alone here, and
//! the tests' emulators check no signature at all): the checks at confirm time are what hold
//! a browser to its announcement, and the app's own URL holds it at the door as well.
//!
//! Nothing announced stays forever: a confirm is accepted until the URL's expiry plus
//! [`CONFIRM_GRACE`] (the URL bounds when an upload may start; a large one that started in time
//! may still be arriving), and [`MediaLibrary::sweep_uploads`] deletes what was never confirmed
//! an hour after that, the stored object first.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Duration;
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use uuid::Uuid;

use app::types::{ApiError, DirectUpload, MediaItem, NewDirectUpload, UploadId, UserId};

use super::library::{
    Landing, MediaLibrary, StageError, Staged, clean_name, describe, kind, refused,
};
use super::probe::MAX_UPLOAD_BYTES;
use super::pull::PullRefused;
use super::store::Access;
use crate::db::media::{self as rows, NewUpload, UploadRow};
use crate::error::Error;

/// How long an upload URL admits the upload: long enough to pick a file and start, short
/// enough that a leaked URL is soon worthless.
pub const UPLOAD_URL_LIFETIME: Duration = Duration::minutes(15);
/// How long after its URL expired an upload may still be confirmed: a large file that began
/// arriving in time.
pub const CONFIRM_GRACE: Duration = Duration::hours(1);
/// How long past the confirm deadline the sweep waits, so that it never deletes the object of
/// a confirm still checking it.
const SWEEP_MARGIN: Duration = Duration::hours(1);
/// Uploads the sweep handles per query.
const SWEEP_BATCH: u64 = 200;
/// How often the sweep runs.
pub const UPLOAD_SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5 * 60);
/// How much of a stored file tells an image from anything else.
const HEAD_BYTES: usize = 64;

/// The types a direct upload may announce, with the extension its key takes.
const ACCEPTED: [(&str, &str); 7] = [
    ("image/jpeg", "jpg"),
    ("image/png", "png"),
    ("image/webp", "webp"),
    ("image/gif", "gif"),
    ("video/mp4", "mp4"),
    ("video/quicktime", "mov"),
    ("video/webm", "webm"),
];

/// A `Content-Type` as compared: without parameters, lower case.
fn media_type(raw: &str) -> String {
    raw.split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// A direct upload arriving at the app's own URL (the local directory only).
pub struct Admitted {
    staged: Staged,
    key: String,
    content_type: String,
}

impl Admitted {
    /// Appends a piece; refuses to grow past the announced size.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), StageError> {
        self.staged.write(chunk).await
    }

    pub async fn discard(self) {
        self.staged.discard().await
    }
}

impl MediaLibrary {
    /// Records an announced upload and says where to send it.
    pub async fn begin_upload(
        &self,
        owner: UserId,
        new: NewDirectUpload,
    ) -> Result<DirectUpload, Error> {
        let content_type = media_type(&new.content_type);
        let Some((mime, extension)) = ACCEPTED
            .into_iter()
            .find(|(accepted, _)| *accepted == content_type)
        else {
            return Err(ApiError::validation(
                "content_type",
                format!(
                    "`{}` is neither an image (JPEG, PNG, WebP, GIF) nor a video (MP4, MOV, WebM).",
                    new.content_type.trim()
                ),
            )
            .into());
        };
        let (limit, what) = if mime.starts_with("image/") {
            (MAX_UPLOAD_BYTES as u64, "images")
        } else {
            (self.max_upload_bytes, "videos")
        };
        if new.size == 0 {
            return Err(ApiError::validation("size", "The file is empty.").into());
        }
        if new.size > limit {
            return Err(ApiError::validation(
                "size",
                format!(
                    "The file is {:.1} MB; {what} may be up to {} MB.",
                    new.size as f64 / (1024.0 * 1024.0),
                    limit / (1024 * 1024)
                ),
            )
            .into());
        }
        let id = Uuid::new_v4();
        let key = format!("{}/{id}.{extension}", owner.0);
        let now = self.clock.now();
        let expires_at = now + UPLOAD_URL_LIFETIME;
        let file_name = clean_name(new.file_name);
        // Recorded before a URL exists: whatever arrives under the key is then always known
        // to the sweep.
        rows::insert_upload(
            &self.db,
            owner,
            NewUpload {
                id,
                storage_key: &key,
                file_name: file_name.as_deref(),
                content_type: mime,
                bytes: new.size,
                expires_at,
            },
            now,
        )
        .await?;
        let lifetime = UPLOAD_URL_LIFETIME
            .to_std()
            .expect("the lifetime is positive");
        let url = match self.store.signed_url(Access::Put, &key, lifetime).await? {
            Some(url) => url,
            None => self.upload_urls.upload_url(id, expires_at),
        };
        Ok(DirectUpload {
            id: UploadId(id),
            url,
            method: "PUT".to_owned(),
            headers: BTreeMap::from([("content-type".to_owned(), mime.to_owned())]),
            expires_at,
        })
    }

    /// Lets an upload in at the app's own URL: its signature and expiry, then its type, which
    /// must be the announced one. The body is then written to the returned [`Admitted`], which
    /// stops at the announced size.
    pub async fn admit_upload(
        &self,
        id: Uuid,
        expires: i64,
        signature: &str,
        content_type: Option<&str>,
    ) -> Result<Admitted, Error> {
        if let Err(refusal) =
            self.upload_urls
                .check_upload(id, expires, signature, self.clock.now())
        {
            tracing::info!(%refusal, upload = %id, "an upload URL was refused");
            return Err(match refusal {
                PullRefused::Expired => ApiError::Forbidden,
                PullRefused::BadSignature => ApiError::NotFound,
            }
            .into());
        }
        let upload = rows::upload_by_id(&self.db, id)
            .await?
            .ok_or(Error::Refused(ApiError::NotFound))?;
        let given = content_type.map(media_type);
        if given.as_deref() != Some(upload.content_type.as_str()) {
            return Err(ApiError::validation(
                "content_type",
                format!(
                    "This upload was announced as {}: send it with the header Content-Type: {}.",
                    describe(&upload.content_type),
                    upload.content_type
                ),
            )
            .into());
        }
        let declared = u64::try_from(upload.bytes).unwrap_or(0);
        Ok(Admitted {
            staged: self.stage_limited(declared).await?,
            key: upload.storage_key,
            content_type: upload.content_type,
        })
    }

    /// Puts an admitted upload in the store under its key, as a bucket would on a PUT; it is
    /// checked when confirmed, like one that went to a bucket.
    pub async fn land_upload(&self, admitted: Admitted) -> Result<(), Error> {
        let Admitted {
            mut staged,
            key,
            content_type,
        } = admitted;
        let stored = match staged.file.flush().await {
            Ok(()) => self.store.put_file(&key, &staged.path, &content_type).await,
            Err(error) => Err(error),
        };
        if stored.is_err() {
            staged.discard().await;
        }
        Ok(stored?)
    }

    /// Checks what arrived for the owner's upload `id` and makes it media, or refuses it with
    /// the reason and deletes it.
    pub async fn confirm_upload(&self, owner: UserId, id: UploadId) -> Result<MediaItem, Error> {
        let upload = rows::upload(&self.db, owner, id.0)
            .await?
            .ok_or(Error::Refused(ApiError::NotFound))?;
        if self.clock.now() > upload.expires_at + CONFIRM_GRACE {
            self.discard_upload(owner, &upload).await;
            return Err(refused(
                "This upload was not confirmed in time, and what arrived has been deleted. Upload the file again.",
            ));
        }
        let key = upload.storage_key.clone();
        let declared = u64::try_from(upload.bytes).unwrap_or(0);
        let Some(size) = self.store.size(&key).await? else {
            // Kept: the file may still be on its way.
            return Err(refused(
                "Nothing has arrived for this upload yet: send the file to its URL, then confirm.",
            ));
        };
        if size != declared {
            self.discard_upload(owner, &upload).await;
            return Err(refused(format!(
                "{size} bytes arrived, not the {declared} bytes announced; the file has been deleted. Upload it again."
            )));
        }
        // A file announced as an image must start like one (and a video must not) before any
        // more of it is read.
        let head = self.store.read_range(&key, 0, HEAD_BYTES).await?;
        let is_image = image::guess_format(&head).is_ok();
        if is_image != upload.content_type.starts_with("image/") {
            self.discard_upload(owner, &upload).await;
            let found = if is_image {
                "an image, not the"
            } else {
                "not the"
            };
            return Err(refused(format!(
                "The file is {found} {} announced; it has been deleted.",
                kind(&upload.content_type)
            )));
        }
        let mut staged = self.stage_limited(declared).await?;
        let fetched = self
            .store
            .fetch_into(&key, size, &mut staged.file, &mut |piece: &[u8]| {
                sha2::Digest::update(&mut staged.hash, piece)
            })
            .await;
        if let Err(error) = fetched {
            staged.discard().await;
            return Err(error.into());
        }
        staged.bytes = size;
        let file_name = upload.file_name.clone();
        let item = self
            .keep_as(owner, file_name, staged, Landing::Uploaded(upload))
            .await?;
        self.count_upload(owner, &item, true).await;
        Ok(item)
    }

    /// Deletes a refused or expired upload: its object, then its record. An object that cannot
    /// be deleted now keeps its record, for the sweep to try again.
    pub(super) async fn discard_upload(&self, owner: UserId, upload: &UploadRow) {
        if let Err(error) = self.store.delete(&upload.storage_key).await {
            tracing::warn!(%error, upload = %upload.id, "could not delete a refused upload; the sweep will");
            return;
        }
        if let Err(error) = rows::take_upload(&self.db, owner, upload.id).await {
            tracing::warn!(%error, upload = %upload.id, "could not forget a refused upload");
        }
    }

    /// Deletes the uploads never confirmed, objects first; how many went. A failure stops the
    /// sweep where it is, and the next one starts there again.
    pub async fn sweep_uploads(&self) -> Result<u64, Error> {
        let cutoff = self.clock.now() - CONFIRM_GRACE - SWEEP_MARGIN;
        let mut swept = 0;
        loop {
            let batch = rows::uploads_expired_before(&self.db, cutoff, SWEEP_BATCH).await?;
            let last = (batch.len() as u64) < SWEEP_BATCH;
            for upload in batch {
                self.store.delete(&upload.storage_key).await?;
                if rows::take_upload(&self.db, UserId(upload.user_id), upload.id).await? {
                    swept += 1;
                }
            }
            if last {
                return Ok(swept);
            }
        }
    }
}

/// Runs [`MediaLibrary::sweep_uploads`] every [`UPLOAD_SWEEP_EVERY`] on `tasks` until
/// `shutdown`.
pub fn spawn_upload_sweep(
    library: Arc<MediaLibrary>,
    tasks: &TaskTracker,
    shutdown: &CancellationToken,
) {
    tasks.spawn(crate::startup::every(
        UPLOAD_SWEEP_EVERY,
        shutdown.clone(),
        move || {
            let library = library.clone();
            async move {
                match library.sweep_uploads().await {
                    Ok(0) => {}
                    Ok(swept) => tracing::info!(swept, "deleted direct uploads never confirmed"),
                    Err(error) => {
                        tracing::warn!(%error, "sweeping unconfirmed uploads failed; will retry")
                    }
                }
            }
        },
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announced_types_are_compared_without_parameters_or_case() {
        assert_eq!(media_type("Image/PNG; charset=binary"), "image/png");
        assert_eq!(media_type(" video/mp4 "), "video/mp4");
        assert_eq!(media_type(""), "");
    }

    #[test]
    fn every_accepted_type_has_words_for_messages() {
        for (mime, _) in ACCEPTED {
            assert!(!describe(mime).contains("file of type"), "{mime}");
        }
    }
}
