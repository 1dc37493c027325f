//! Where uploaded bytes are kept, behind a trait so an object store (the `object_store` crate)
//! can be chosen by configuration later. The embedded default is a directory
//! (`DATA_DIR/media`). Keys are made by the server (`<user>/<id>.<ext>`), never from a file
//! name a client sent.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

#[async_trait]
pub trait MediaStore: Send + Sync + 'static {
    async fn put(&self, key: &str, bytes: &[u8]) -> std::io::Result<()>;
    /// Keeps the finished file at `staged` (in [`MediaStore::staging_dir`]) under `key`; the
    /// staged file is gone afterwards.
    async fn put_file(&self, key: &str, staged: &Path) -> std::io::Result<()>;
    async fn get(&self, key: &str) -> std::io::Result<Vec<u8>>;
    /// Up to `len` bytes from `offset` (fewer at the end of the file): how uploads to the
    /// platforms read a video a chunk at a time.
    async fn read_range(&self, key: &str, offset: u64, len: usize) -> std::io::Result<Vec<u8>>;
    /// Where uploads are written while they arrive: beside the store where it can be, so that
    /// keeping one is a rename rather than a copy.
    fn staging_dir(&self) -> PathBuf;
    /// Deleting what is not there is not an error.
    async fn delete(&self, key: &str) -> std::io::Result<()>;
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
        let safe = key
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains('\\'));
        if !safe {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("`{key}` is not a media key"),
            ));
        }
        Ok(self.root.join(key))
    }
}

#[async_trait]
impl MediaStore for LocalDisk {
    async fn put(&self, key: &str, bytes: &[u8]) -> std::io::Result<()> {
        let path = self.path(key)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        // Written aside, then renamed: a reader never sees half a file.
        let partial = path.with_extension("partial");
        tokio::fs::write(&partial, bytes).await?;
        tokio::fs::rename(&partial, &path).await
    }

    async fn put_file(&self, key: &str, staged: &Path) -> std::io::Result<()> {
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
        for key in ["../etc/passwd", "a/../../b", "/abs", "a//b", ""] {
            assert!(store.put(key, b"x").await.is_err(), "{key}");
        }
    }

    #[tokio::test]
    async fn what_is_put_comes_back_until_deleted() {
        let root = std::env::temp_dir().join(format!("picscripter-media-{}", uuid::Uuid::new_v4()));
        let store = LocalDisk::new(root.clone());
        store.put("u/one.png", b"bytes").await.unwrap();
        assert_eq!(store.get("u/one.png").await.unwrap(), b"bytes");
        assert_eq!(store.read_range("u/one.png", 1, 3).await.unwrap(), b"yte");
        assert_eq!(store.read_range("u/one.png", 3, 100).await.unwrap(), b"es");
        tokio::fs::create_dir_all(store.staging_dir())
            .await
            .unwrap();
        let staged = store.staging_dir().join("x.upload");
        tokio::fs::write(&staged, b"video").await.unwrap();
        store.put_file("u/two.mp4", &staged).await.unwrap();
        assert!(!staged.exists());
        assert_eq!(store.get("u/two.mp4").await.unwrap(), b"video");
        store.delete("u/one.png").await.unwrap();
        store.delete("u/one.png").await.unwrap();
        assert!(store.get("u/one.png").await.is_err());
        std::fs::remove_dir_all(root).unwrap();
    }
}
