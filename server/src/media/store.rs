//! Where uploaded bytes are kept, behind one trait: the embedded default is a directory
//! (`DATA_DIR/media`); `MEDIA_STORE` names an S3 ([`super::s3`]) or a Google Cloud Storage
//! ([`super::gcs`]) bucket instead. Keys are made by the server (`<user>/<id>.<ext>`), never
//! from a file name a client sent, and every store refuses one that could leave its place.
//!
//! A bucket can hand out signed URLs, so browsers upload to it and platforms download from it
//! without passing through the app; the directory cannot, and the app serves its own signed
//! URLs for it instead ([`super::pull`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::config::MediaStoreConfig;

/// What a signed URL lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Get,
    Put,
}

/// Pieces a stored file is copied to a local one in: a few round trips per megabyte at most,
/// a bounded amount of memory whatever the file's size.
const FETCH_PIECE: usize = 8 * 1024 * 1024;

#[async_trait]
pub trait MediaStore: Send + Sync + 'static {
    async fn put(&self, key: &str, bytes: &[u8], content_type: &str) -> std::io::Result<()>;
    /// Keeps the finished file at `staged` (in [`MediaStore::staging_dir`]) under `key`; the
    /// staged file is gone afterwards.
    async fn put_file(&self, key: &str, staged: &Path, content_type: &str) -> std::io::Result<()>;
    async fn get(&self, key: &str) -> std::io::Result<Vec<u8>>;
    /// Up to `len` bytes from `offset` (fewer at the end of the file): how uploads to the
    /// platforms read a video a chunk at a time. `offset` is within the file.
    async fn read_range(&self, key: &str, offset: u64, len: usize) -> std::io::Result<Vec<u8>>;
    /// The size of what is stored under `key`; `None` when nothing is.
    async fn size(&self, key: &str) -> std::io::Result<Option<u64>>;
    /// A URL through which anyone may `access` `key` for `lifetime`, signed with the store's
    /// own credentials; `None` from a store that cannot sign (the directory).
    async fn signed_url(
        &self,
        access: Access,
        key: &str,
        lifetime: Duration,
    ) -> std::io::Result<Option<String>>;
    /// Where uploads are written while they arrive and stored files are copied to be checked:
    /// beside the store where it can be, so that keeping one is a rename rather than a copy.
    fn staging_dir(&self) -> PathBuf;
    /// Deleting what is not there is not an error.
    async fn delete(&self, key: &str) -> std::io::Result<()>;

    /// Copies the file under `key` into `file`, `size` bytes (as [`MediaStore::size`] said),
    /// handing each piece to `seen` on its way (to hash it); a file that is not `size` bytes
    /// after all is an error.
    async fn fetch_into(
        &self,
        key: &str,
        size: u64,
        file: &mut tokio::fs::File,
        seen: &mut (dyn for<'piece> FnMut(&'piece [u8]) + Send),
    ) -> std::io::Result<()> {
        let mut offset = 0;
        while offset < size {
            let want =
                usize::try_from(size - offset).map_or(FETCH_PIECE, |left| left.min(FETCH_PIECE));
            let piece = self.read_range(key, offset, want).await?;
            if piece.is_empty() {
                break;
            }
            seen(&piece);
            file.write_all(&piece).await?;
            offset += piece.len() as u64;
        }
        file.flush().await?;
        if offset != size {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("`{key}` ended at {offset} of {size} bytes"),
            ));
        }
        Ok(())
    }
}

/// The store `MEDIA_STORE` names; uploads stage under `DATA_DIR/media/.incoming` whichever it
/// is (a bucket's files are checked on this machine too).
pub fn open(setting: &MediaStoreConfig, data_dir: &Path) -> std::io::Result<Arc<dyn MediaStore>> {
    let root = data_dir.join("media");
    let staging = root.join(".incoming");
    Ok(match setting {
        MediaStoreConfig::LocalDisk => Arc::new(LocalDisk::new(root)),
        MediaStoreConfig::S3(bucket) => Arc::new(super::s3::S3Store::open(bucket, staging)?),
        MediaStoreConfig::Gcs(bucket) => Arc::new(super::gcs::GcsStore::open(bucket, staging)?),
    })
}

/// Whether `key` is one the server could have made: relative, no empty, `.` or `..` parts,
/// nothing a path or URL would read differently.
pub fn is_media_key(key: &str) -> bool {
    key.split('/').all(|part| {
        !part.is_empty()
            && part != "."
            && part != ".."
            && !part.contains(['\\', '?', '#', '%'])
            && !part.chars().any(char::is_control)
    })
}

/// The error for a key [`is_media_key`] refuses.
pub fn not_a_key(key: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("`{key}` is not a media key"),
    )
}

/// Files under one directory.
pub struct LocalDisk {
    root: PathBuf,
}

impl LocalDisk {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    fn path(&self, key: &str) -> std::io::Result<PathBuf> {
        if !is_media_key(key) {
            return Err(not_a_key(key));
        }
        Ok(self.root.join(key))
    }
}

#[async_trait]
impl MediaStore for LocalDisk {
    async fn put(&self, key: &str, bytes: &[u8], _content_type: &str) -> std::io::Result<()> {
        let path = self.path(key)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        // Written aside, then renamed: a reader never sees half a file.
        let partial = path.with_extension("partial");
        tokio::fs::write(&partial, bytes).await?;
        tokio::fs::rename(&partial, &path).await
    }

    async fn put_file(&self, key: &str, staged: &Path, _content_type: &str) -> std::io::Result<()> {
        let path = self.path(key)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        tokio::fs::rename(staged, &path).await
    }

    async fn get(&self, key: &str) -> std::io::Result<Vec<u8>> {
        tokio::fs::read(self.path(key)?).await
    }

    async fn read_range(&self, key: &str, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
        let mut file = tokio::fs::File::open(self.path(key)?).await?;
        file.seek(std::io::SeekFrom::Start(offset)).await?;
        let mut bytes = Vec::with_capacity(len);
        file.take(len as u64).read_to_end(&mut bytes).await?;
        Ok(bytes)
    }

    async fn size(&self, key: &str) -> std::io::Result<Option<u64>> {
        match tokio::fs::metadata(self.path(key)?).await {
            Ok(meta) if meta.is_file() => Ok(Some(meta.len())),
            Ok(_) => Ok(None),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn signed_url(
        &self,
        _access: Access,
        key: &str,
        _lifetime: Duration,
    ) -> std::io::Result<Option<String>> {
        self.path(key)?;
        Ok(None)
    }

    fn staging_dir(&self) -> PathBuf {
        // A dot name cannot be a key's first part: users' keys start with their id.
        self.root.join(".incoming")
    }

    async fn delete(&self, key: &str) -> std::io::Result<()> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keys_cannot_leave_the_directory() {
        let store = LocalDisk::new(std::env::temp_dir().join("picscripter-media-test"));
        for key in [
            "../etc/passwd",
            "a/../../b",
            "/abs",
            "a//b",
            "",
            "a/b%2F..",
            "a\\b",
        ] {
            assert!(store.put(key, b"x", "image/png").await.is_err(), "{key}");
            assert!(store.size(key).await.is_err(), "{key}");
        }
    }

    #[tokio::test]
    async fn what_is_put_comes_back_until_deleted() {
        let root = std::env::temp_dir().join(format!("picscripter-media-{}", uuid::Uuid::new_v4()));
        let store = LocalDisk::new(root.clone());
        store.put("u/one.png", b"bytes", "image/png").await.unwrap();
        assert_eq!(store.get("u/one.png").await.unwrap(), b"bytes");
        assert_eq!(store.size("u/one.png").await.unwrap(), Some(5));
        assert_eq!(store.read_range("u/one.png", 1, 3).await.unwrap(), b"yte");
        assert_eq!(store.read_range("u/one.png", 3, 100).await.unwrap(), b"es");
        assert_eq!(
            store
                .signed_url(Access::Get, "u/one.png", Duration::from_secs(60))
                .await
                .unwrap(),
            None,
            "a directory signs nothing"
        );
        tokio::fs::create_dir_all(store.staging_dir())
            .await
            .unwrap();
        let staged = store.staging_dir().join("x.upload");
        tokio::fs::write(&staged, b"video").await.unwrap();
        store
            .put_file("u/two.mp4", &staged, "video/mp4")
            .await
            .unwrap();
        assert!(!staged.exists());
        assert_eq!(store.get("u/two.mp4").await.unwrap(), b"video");

        let copy = store.staging_dir().join("copy");
        let mut file = tokio::fs::File::create(&copy).await.unwrap();
        let mut seen = Vec::new();
        store
            .fetch_into("u/two.mp4", 5, &mut file, &mut |piece: &[u8]| {
                seen.extend_from_slice(piece)
            })
            .await
            .unwrap();
        assert_eq!(tokio::fs::read(&copy).await.unwrap(), b"video");
        assert_eq!(seen, b"video");
        let mut file = tokio::fs::File::create(&copy).await.unwrap();
        let short = store
            .fetch_into("u/two.mp4", 9, &mut file, &mut |_: &[u8]| {})
            .await
            .unwrap_err();
        assert_eq!(short.kind(), std::io::ErrorKind::UnexpectedEof);

        store.delete("u/one.png").await.unwrap();
        store.delete("u/one.png").await.unwrap();
        assert!(store.get("u/one.png").await.is_err());
        assert_eq!(store.size("u/one.png").await.unwrap(), None);
        std::fs::remove_dir_all(root).unwrap();
    }
}
