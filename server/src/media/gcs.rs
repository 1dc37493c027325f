//! Media in a Google Cloud Storage bucket (`MEDIA_STORE=gs://bucket/prefix`). Objects are
//! `<prefix><key>`.
//!
//! The `object_store` crate gives the credentials (a service account key, application default
//! credentials, or the machine's metadata server) and signs the URLs browsers and platforms
//! use, V4 and on this machine when it holds a key. The data calls are made here, to GCS's
//! JSON API, rather than through object_store's XML API calls: the emulator the tests run
//! against (gcp-storage-emulator) serves the JSON API whole, but answers the XML API without
//! the ETag and Last-Modified headers object_store requires and has no HEAD or DELETE there.
//! Speaking the JSON API keeps the code the tests run the code production runs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::stream;
use object_store::gcp::{GoogleCloudStorage, GoogleCloudStorageBuilder};
use object_store::path::Path as ObjectPath;
use object_store::signer::Signer;
use reqwest::{RequestBuilder, Response, StatusCode, header};
use secrecy::ExposeSecret;
use tokio::io::AsyncReadExt;

use super::store::{Access, MediaStore, is_media_key, not_a_key};
use crate::config::{GcsBucket, GcsCredentials};

/// Pieces a file is streamed to GCS in.
const SEND_PIECE: usize = 256 * 1024;
/// How much of an error's body is kept in the message: enough for GCS's reason.
const ERROR_BODY_CHARS: usize = 300;

pub struct GcsStore {
    /// Credentials and URL signing.
    google: GoogleCloudStorage,
    http: reqwest::Client,
    /// `GOOGLE_BASE_URL` without its trailing slash.
    base: String,
    bucket: String,
    prefix: String,
    staging: PathBuf,
}

impl GcsStore {
    /// Reads the credentials (a key file is read now); nothing is sent until the first call.
    pub fn open(settings: &GcsBucket, staging: PathBuf) -> std::io::Result<Self> {
        let base = settings
            .base_url
            .to_string()
            .trim_end_matches('/')
            .to_owned();
        let builder = GoogleCloudStorageBuilder::new()
            .with_bucket_name(&settings.bucket)
            .with_base_url(&base);
        let builder = match &settings.credentials {
            GcsCredentials::KeyJson(json) => builder.with_service_account_key(json.expose_secret()),
            GcsCredentials::KeyFile(path) => {
                builder.with_service_account_path(path.display().to_string())
            }
            GcsCredentials::Application(path) => {
                builder.with_application_credentials(path.display().to_string())
            }
            GcsCredentials::Machine => builder,
        };
        let google = builder.build().map_err(|error| {
            std::io::Error::other(format!("the GCS bucket `{}`: {error}", settings.bucket))
        })?;
        // No overall timeout: a video of a gigabyte takes what it takes on a slow link.
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(std::io::Error::other)?;
        Ok(Self {
            google,
            http,
            base,
            bucket: settings.bucket.clone(),
            prefix: settings.prefix.clone(),
            staging,
        })
    }

    fn name(&self, key: &str) -> std::io::Result<String> {
        if !is_media_key(key) {
            return Err(not_a_key(key));
        }
        Ok(format!("{}{key}", self.prefix))
    }

    /// The JSON API's URL of an object (its metadata; with `?alt=media`, its bytes).
    fn object_url(&self, key: &str) -> std::io::Result<String> {
        Ok(format!(
            "{}/storage/v1/b/{}/o/{}",
            self.base,
            encoded(&self.bucket),
            encoded(&self.name(key)?)
        ))
    }

    /// Sends `request` with the store's bearer token.
    async fn send(&self, request: RequestBuilder) -> std::io::Result<Response> {
        let credential = self.google.credentials().get_credential().await?;
        // An empty token is object_store's "no OAuth" (a key file that turns it off).
        let request = if credential.bearer.is_empty() {
            request
        } else {
            request.bearer_auth(&credential.bearer)
        };
        request.send().await.map_err(std::io::Error::other)
    }

    async fn upload(
        &self,
        key: &str,
        body: reqwest::Body,
        length: u64,
        content_type: &str,
    ) -> std::io::Result<()> {
        let request = self
            .http
            .post(format!(
                "{}/upload/storage/v1/b/{}/o",
                self.base,
                encoded(&self.bucket)
            ))
            .query(&[("uploadType", "media"), ("name", self.name(key)?.as_str())])
            .header(header::CONTENT_TYPE, content_type)
            .header(header::CONTENT_LENGTH, length)
            .body(body);
        let response = self.send(request).await?;
        if !response.status().is_success() {
            return Err(failed("upload", key, response).await);
        }
        Ok(())
    }
}

/// A name as one path segment of a URL: everything but the unreserved characters escaped, `/`
/// included (GCS reads `a%2Fb` as the object `a/b`).
fn encoded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The error for an answer GCS gave with a status other than success, its body shortened.
async fn failed(what: &str, key: &str, response: Response) -> std::io::Error {
    let status = response.status();
    let body: String = response
        .text()
        .await
        .unwrap_or_default()
        .chars()
        .take(ERROR_BODY_CHARS)
        .collect();
    let kind = if status == StatusCode::NOT_FOUND {
        std::io::ErrorKind::NotFound
    } else {
        std::io::ErrorKind::Other
    };
    std::io::Error::new(
        kind,
        format!("GCS answered {status} to the {what} of `{key}`: {body}"),
    )
}

#[async_trait]
impl MediaStore for GcsStore {
    async fn put(&self, key: &str, bytes: &[u8], content_type: &str) -> std::io::Result<()> {
        let length = bytes.len() as u64;
        self.upload(
            key,
            reqwest::Body::from(bytes.to_vec()),
            length,
            content_type,
        )
        .await
    }

    async fn put_file(&self, key: &str, staged: &Path, content_type: &str) -> std::io::Result<()> {
        let file = tokio::fs::File::open(staged).await?;
        let length = file.metadata().await?.len();
        let pieces = stream::try_unfold(file, |mut file| async move {
            let mut piece = vec![0u8; SEND_PIECE];
            let read = file.read(&mut piece).await?;
            if read == 0 {
                return Ok(None);
            }
            piece.truncate(read);
            Ok::<_, std::io::Error>(Some((piece, file)))
        });
        self.upload(
            key,
            reqwest::Body::wrap_stream(pieces),
            length,
            content_type,
        )
        .await?;
        tokio::fs::remove_file(staged).await
    }

    async fn get(&self, key: &str) -> std::io::Result<Vec<u8>> {
        let request = self
            .http
            .get(self.object_url(key)?)
            .query(&[("alt", "media")]);
        let response = self.send(request).await?;
        if !response.status().is_success() {
            return Err(failed("download", key, response).await);
        }
        Ok(response
            .bytes()
            .await
            .map_err(std::io::Error::other)?
            .to_vec())
    }

    async fn read_range(&self, key: &str, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
        if len == 0 {
            return Ok(Vec::new());
        }
        let last = offset.saturating_add(len as u64) - 1;
        let request = self
            .http
            .get(self.object_url(key)?)
            .query(&[("alt", "media")])
            .header(header::RANGE, format!("bytes={offset}-{last}"));
        let response = self.send(request).await?;
        match response.status() {
            StatusCode::PARTIAL_CONTENT => Ok(response
                .bytes()
                .await
                .map_err(std::io::Error::other)?
                .to_vec()),
            // The whole object, from a server that ignored the range.
            StatusCode::OK => {
                let whole = response.bytes().await.map_err(std::io::Error::other)?;
                let start = usize::try_from(offset)
                    .unwrap_or(usize::MAX)
                    .min(whole.len());
                let end = start.saturating_add(len).min(whole.len());
                Ok(whole[start..end].to_vec())
            }
            StatusCode::RANGE_NOT_SATISFIABLE => Ok(Vec::new()),
            _ => Err(failed("ranged download", key, response).await),
        }
    }

    async fn size(&self, key: &str) -> std::io::Result<Option<u64>> {
        let response = self.send(self.http.get(self.object_url(key)?)).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(failed("metadata read", key, response).await);
        }
        let metadata: serde_json::Value = response.json().await.map_err(std::io::Error::other)?;
        // The JSON API writes 64-bit numbers as strings.
        metadata["size"]
            .as_str()
            .and_then(|size| size.parse().ok())
            .map(Some)
            .ok_or_else(|| std::io::Error::other(format!("GCS gave no size for `{key}`")))
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
        let path = ObjectPath::parse(self.name(key)?).map_err(std::io::Error::other)?;
        let url = self.google.signed_url(method, &path, lifetime).await?;
        Ok(Some(url.to_string()))
    }

    fn staging_dir(&self) -> PathBuf {
        self.staging.clone()
    }

    async fn delete(&self, key: &str) -> std::io::Result<()> {
        let response = self.send(self.http.delete(self.object_url(key)?)).await?;
        let status = response.status();
        if status.is_success() || status == StatusCode::NOT_FOUND {
            return Ok(());
        }
        Err(failed("deletion", key, response).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_escaped_path_segment() {
        assert_eq!(encoded("media/u1/a.png"), "media%2Fu1%2Fa.png");
        assert_eq!(encoded("a b+c~d_e-f"), "a%20b%2Bc~d_e-f");
        assert_eq!(encoded("é"), "%C3%A9");
    }
}
