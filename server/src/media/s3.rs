//! Media in an S3 bucket (`MEDIA_STORE=s3://bucket/prefix`), through the `object_store` crate:
//! AWS itself, or any server that speaks the S3 API at `AWS_ENDPOINT_URL` (MinIO, R2, and the
//! tests' moto). Objects are `<prefix><key>`.
//!
//! S3's presigned URLs cover the host alone: a presigned PUT cannot hold a browser to the type
//! and size it announced. The media library checks both when the upload is confirmed
//! (`library::MediaLibrary::confirm_upload`); nothing here trusts them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::buffered::BufWriter;
use object_store::path::Path as ObjectPath;
use object_store::signer::Signer;
use object_store::{Attribute, Attributes, ObjectStore, ObjectStoreExt, PutOptions, PutPayload};
use secrecy::ExposeSecret;
use tokio::io::AsyncWriteExt;

use super::store::{Access, MediaStore, is_media_key, not_a_key};
use crate::config::S3Bucket;

/// Files larger than this go up in parts of this size (S3 wants at least 5 MiB a part), so a
/// video never sits in memory whole.
const PART: usize = 16 * 1024 * 1024;

pub struct S3Store {
    bucket: Arc<AmazonS3>,
    prefix: String,
    staging: PathBuf,
}

impl S3Store {
    /// Builds the client. Nothing is sent until the first call: a wrong key or a missing
    /// bucket shows on the first upload, not at start-up.
    pub fn open(settings: &S3Bucket, staging: PathBuf) -> std::io::Result<Self> {
        let mut builder = AmazonS3Builder::new();
        // The pass-through variables first: the ones read by the app win over them.
        for (name, value) in &settings.other {
            if let Ok(key) = name.parse::<AmazonS3ConfigKey>() {
                builder = builder.with_config(key, value.expose_secret());
            }
        }
        builder = builder
            .with_bucket_name(&settings.bucket)
            .with_region(&settings.region);
        if let Some(endpoint) = &settings.endpoint {
            let endpoint = endpoint.to_string();
            builder = builder
                .with_allow_http(endpoint.starts_with("http://"))
                .with_endpoint(endpoint.trim_end_matches('/'));
        }
        if let Some(keys) = &settings.keys {
            builder = builder
                .with_access_key_id(&keys.access_key_id)
                .with_secret_access_key(keys.secret_access_key.expose_secret());
            if let Some(token) = &keys.session_token {
                builder = builder.with_token(token.expose_secret());
            }
        }
        let bucket = builder.build().map_err(|error| {
            std::io::Error::other(format!("the S3 bucket `{}`: {error}", settings.bucket))
        })?;
        Ok(Self {
            bucket: Arc::new(bucket),
            prefix: settings.prefix.clone(),
            staging,
        })
    }

    fn path(&self, key: &str) -> std::io::Result<ObjectPath> {
        if !is_media_key(key) {
            return Err(not_a_key(key));
        }
        ObjectPath::parse(format!("{}{key}", self.prefix)).map_err(std::io::Error::other)
    }
}

fn typed(content_type: &str) -> Attributes {
    let mut attributes = Attributes::new();
    attributes.insert(Attribute::ContentType, content_type.to_owned().into());
    attributes
}

#[async_trait]
impl MediaStore for S3Store {
    async fn put(&self, key: &str, bytes: &[u8], content_type: &str) -> std::io::Result<()> {
        let options = PutOptions {
            attributes: typed(content_type),
            ..PutOptions::default()
        };
        self.bucket
            .put_opts(&self.path(key)?, PutPayload::from(bytes.to_vec()), options)
            .await?;
        Ok(())
    }

    async fn put_file(&self, key: &str, staged: &Path, content_type: &str) -> std::io::Result<()> {
        let store: Arc<dyn ObjectStore> = self.bucket.clone();
        let mut writer = BufWriter::with_capacity(store, self.path(key)?, PART)
            .with_attributes(typed(content_type));
        let mut file = tokio::fs::File::open(staged).await?;
        if let Err(error) = tokio::io::copy(&mut file, &mut writer).await {
            // A multipart upload left open costs storage until aborted. (Once shut down, the
            // writer cannot abort: a failed completion is the bucket's lifecycle rule's.)
            let _ = writer.abort().await;
            return Err(error);
        }
        writer.shutdown().await?;
        tokio::fs::remove_file(staged).await
    }

    async fn get(&self, key: &str) -> std::io::Result<Vec<u8>> {
        let found = self.bucket.get(&self.path(key)?).await?;
        Ok(found.bytes().await?.to_vec())
    }

    async fn read_range(&self, key: &str, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
        if len == 0 {
            return Ok(Vec::new());
        }
        let end = offset.saturating_add(len as u64);
        Ok(self
            .bucket
            .get_range(&self.path(key)?, offset..end)
            .await?
            .to_vec())
    }

    async fn size(&self, key: &str) -> std::io::Result<Option<u64>> {
        match self.bucket.head(&self.path(key)?).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    async fn signed_url(
        &self,
        access: Access,
        key: &str,
        lifetime: Duration,
    ) -> std::io::Result<Option<String>> {
        let method = match access {
            Access::Get => http::Method::GET,
            Access::Put => http::Method::PUT,
        };
        let url = self
            .bucket
            .signed_url(method, &self.path(key)?, lifetime)
            .await?;
        Ok(Some(url.to_string()))
    }

    fn staging_dir(&self) -> PathBuf {
        self.staging.clone()
    }

    async fn delete(&self, key: &str) -> std::io::Result<()> {
        match self.bucket.delete(&self.path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}
