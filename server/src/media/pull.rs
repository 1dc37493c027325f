//! Signed, expiring URLs through which a platform downloads one media file itself (Instagram,
//! Facebook, TikTok's `PULL_FROM_URL`): `{PUBLIC_BASE_URL}/media/pull/{id}/{expires}/{signature}`,
//! or a video's poster frame (Pinterest's video cover):
//! `{PUBLIC_BASE_URL}/media/pull/{id}/poster/{expires}/{signature}`.
//! The signature is an HMAC of the media id and the expiry under a key derived from
//! `ENCRYPTION_KEY`, so every web and worker process signs and checks alike; it makes the URL
//! unguessable, and it cannot be moved to another file or stretched past its time.
//!
//! A platform downloads from the internet: a URL under a loopback or private address reaches
//! it only when the platform's API is on such an address too (the sandbox, the tests), which
//! [`PullUrls::reachable_from`] decides. With a bucket as the media store, the route checks
//! the URL as here and sends the platform on to the bucket's own signed URL.
//!
//! The same key signs the URL a browser sends a direct upload to when the media store is the
//! local directory (a bucket signs its own): `{PUBLIC_BASE_URL}/media/uploads/{id}/{expires}/
//! {signature}`, its signature over a tag of its own, so no download URL opens an upload.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use uuid::Uuid;

use app::types::MediaId;

/// What an upload URL's signature covers besides the id and expiry: a tag no download has.
const UPLOAD_TAG: &[u8] = b"upload";

/// How long a URL stays good: long enough for a platform that queues its download (Instagram
/// processes a reel for minutes), short enough that a leaked URL soon stops working. Each
/// attempt signs new ones.
pub const PULL_URL_LIFETIME: Duration = Duration::hours(2);

#[derive(Clone)]
pub struct PullUrls {
    base: String,
    key: [u8; 32],
    /// `PUBLIC_BASE_URL`'s host is neither loopback, private nor `localhost`.
    public: bool,
}

/// What a URL gives: the file itself, or a video's poster frame. Part of what is signed, so a
/// file's URL cannot be turned into its poster's or back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pulled {
    File,
    Poster,
}

impl Pulled {
    fn tag(self) -> &'static [u8] {
        match self {
            Self::File => b"file",
            Self::Poster => b"poster",
        }
    }
}

/// Why a pull was refused; never says more to the caller than "not found".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PullRefused {
    #[error("the signature does not match")]
    BadSignature,
    #[error("the URL has expired")]
    Expired,
}

impl PullUrls {
    pub fn new(public_base_url: &http::Uri, key: &[u8; 32]) -> Self {
        Self {
            base: public_base_url.to_string().trim_end_matches('/').to_owned(),
            key: *key,
            public: is_public_host(public_base_url.host().unwrap_or_default()),
        }
    }

    /// The URL for `media`'s file, good until `now` plus [`PULL_URL_LIFETIME`].
    pub fn url(&self, media: MediaId, now: DateTime<Utc>) -> String {
        self.url_of(media, Pulled::File, now)
    }

    /// The URL for a video's poster frame.
    pub fn poster_url(&self, media: MediaId, now: DateTime<Utc>) -> String {
        self.url_of(media, Pulled::Poster, now)
    }

    fn url_of(&self, media: MediaId, pulled: Pulled, now: DateTime<Utc>) -> String {
        let expires = (now + PULL_URL_LIFETIME).timestamp();
        let part = match pulled {
            Pulled::File => String::new(),
            Pulled::Poster => "poster/".to_owned(),
        };
        format!(
            "{}/media/pull/{}/{part}{expires}/{}",
            self.base,
            media.0,
            self.signature(media, pulled, expires)
        )
    }

    /// Checks a URL's parts as the route received them.
    pub fn check(
        &self,
        media: MediaId,
        pulled: Pulled,
        expires: i64,
        signature: &str,
        now: DateTime<Utc>,
    ) -> Result<(), PullRefused> {
        self.verify(media.0, pulled.tag(), expires, signature, now)
    }

    /// Where a browser sends the upload `upload` until `expires` (local directory only).
    pub fn upload_url(&self, upload: Uuid, expires: DateTime<Utc>) -> String {
        let expires = expires.timestamp();
        format!(
            "{}/media/uploads/{upload}/{expires}/{}",
            self.base,
            hex::encode(
                self.mac(upload, UPLOAD_TAG, expires)
                    .finalize()
                    .into_bytes()
            )
        )
    }

    /// Checks an upload URL's parts as the route received them.
    pub fn check_upload(
        &self,
        upload: Uuid,
        expires: i64,
        signature: &str,
        now: DateTime<Utc>,
    ) -> Result<(), PullRefused> {
        self.verify(upload, UPLOAD_TAG, expires, signature, now)
    }

    fn verify(
        &self,
        id: Uuid,
        tag: &[u8],
        expires: i64,
        signature: &str,
        now: DateTime<Utc>,
    ) -> Result<(), PullRefused> {
        let given = hex_decode(signature).ok_or(PullRefused::BadSignature)?;
        self.mac(id, tag, expires)
            .verify_slice(&given)
            .map_err(|_| PullRefused::BadSignature)?;
        if expires < now.timestamp() {
            return Err(PullRefused::Expired);
        }
        Ok(())
    }

    /// How long a URL that expires at `expires` still has at `now` (nothing once past it).
    pub fn time_left(expires: i64, now: DateTime<Utc>) -> std::time::Duration {
        std::time::Duration::from_secs(u64::try_from(expires - now.timestamp()).unwrap_or(0))
    }

    /// Whether a platform whose API is at `api_url` can download from these URLs: always when
    /// `PUBLIC_BASE_URL` is public, and from a platform on a loopback or private address too
    /// when ours is one (the sandbox's fakes, a test's).
    pub fn reachable_from(&self, api_url: &http::Uri) -> bool {
        self.public || !is_public_host(api_url.host().unwrap_or_default())
    }

    /// Whether `PUBLIC_BASE_URL` is an address the internet can reach.
    pub fn is_public(&self) -> bool {
        self.public
    }

    fn mac(&self, id: Uuid, tag: &[u8], expires: i64) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        mac.update(id.as_bytes());
        mac.update(tag);
        mac.update(&expires.to_be_bytes());
        mac
    }

    fn signature(&self, media: MediaId, pulled: Pulled, expires: i64) -> String {
        hex::encode(
            self.mac(media.0, pulled.tag(), expires)
                .finalize()
                .into_bytes(),
        )
    }
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok())
        .collect()
}

/// Whether `host` is reachable from the internet: not `localhost`, not a loopback, private,
/// link-local or unspecified address.
fn is_public_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host == "localhost" || host.ends_with(".localhost") {
        return false;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => {
            !(ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified())
        }
        Ok(IpAddr::V6(ip)) => {
            let unique_local = (ip.segments()[0] & 0xfe00) == 0xfc00;
            !(ip.is_loopback() || ip.is_unspecified() || unique_local)
        }
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(base: &str) -> PullUrls {
        PullUrls::new(&base.parse().unwrap(), &[7; 32])
    }

    fn parts(url: &str) -> (MediaId, i64, String) {
        let mut pieces = url.rsplit('/');
        let signature = pieces.next().unwrap().to_owned();
        let expires = pieces.next().unwrap().parse().unwrap();
        let id = pieces
            .find_map(|piece| piece.parse().ok())
            .map(MediaId)
            .unwrap();
        (id, expires, signature)
    }

    #[test]
    fn a_url_opens_its_own_file_until_it_expires() {
        let urls = urls("https://app.example.com/");
        let media = MediaId(uuid::Uuid::new_v4());
        let now = Utc::now();
        let url = urls.url(media, now);
        assert!(
            url.starts_with("https://app.example.com/media/pull/"),
            "{url}"
        );
        let (id, expires, signature) = parts(&url);
        assert_eq!(id, media);
        let file = Pulled::File;
        assert_eq!(urls.check(id, file, expires, &signature, now), Ok(()));
        let late = now + PULL_URL_LIFETIME + Duration::seconds(1);
        assert_eq!(
            urls.check(id, file, expires, &signature, late),
            Err(PullRefused::Expired)
        );
        let other = MediaId(uuid::Uuid::new_v4());
        for (id, pulled, expires, signature) in [
            (other, file, expires, signature.as_str()),
            (id, file, expires + 3600, signature.as_str()),
            // A file's URL does not open its poster.
            (id, Pulled::Poster, expires, signature.as_str()),
            (id, file, expires, "zz"),
        ] {
            assert_eq!(
                urls.check(id, pulled, expires, signature, now),
                Err(PullRefused::BadSignature)
            );
        }
        let another_key = PullUrls::new(&"https://app.example.com".parse().unwrap(), &[8; 32]);
        assert_eq!(
            another_key.check(id, file, expires, &signature, now),
            Err(PullRefused::BadSignature)
        );
        let poster = urls.poster_url(id, now);
        assert!(
            poster.contains(&format!("/media/pull/{}/poster/", id.0)),
            "{poster}"
        );
        let (_, expires, signature) = parts(&poster);
        assert_eq!(
            urls.check(id, Pulled::Poster, expires, &signature, now),
            Ok(())
        );
    }

    #[test]
    fn an_upload_url_opens_only_its_upload_and_never_a_download() {
        let urls = urls("https://app.example.com");
        let upload = uuid::Uuid::new_v4();
        let now = Utc::now();
        let url = urls.upload_url(upload, now + Duration::minutes(15));
        assert!(
            url.starts_with(&format!("https://app.example.com/media/uploads/{upload}/")),
            "{url}"
        );
        let (id, expires, signature) = parts(&url);
        assert_eq!(id.0, upload);
        assert_eq!(urls.check_upload(upload, expires, &signature, now), Ok(()));
        assert_eq!(
            urls.check_upload(upload, expires, &signature, now + Duration::minutes(16)),
            Err(PullRefused::Expired)
        );
        assert_eq!(
            urls.check_upload(uuid::Uuid::new_v4(), expires, &signature, now),
            Err(PullRefused::BadSignature)
        );
        // Neither way round does a signature carry over between uploads and downloads.
        assert_eq!(
            urls.check(MediaId(upload), Pulled::File, expires, &signature, now),
            Err(PullRefused::BadSignature)
        );
        let (_, pull_expires, pull_signature) = parts(&urls.url(MediaId(upload), now));
        assert_eq!(
            urls.check_upload(upload, pull_expires, &pull_signature, now),
            Err(PullRefused::BadSignature)
        );
        assert_eq!(
            PullUrls::time_left(expires, now),
            std::time::Duration::from_secs(15 * 60)
        );
        assert_eq!(
            PullUrls::time_left(expires, now + Duration::hours(1)),
            std::time::Duration::ZERO
        );
    }

    #[test]
    fn only_a_public_base_reaches_platforms_on_the_internet() {
        let instagram: http::Uri = "https://graph.facebook.com".parse().unwrap();
        let fake: http::Uri = "http://127.0.0.1:4000".parse().unwrap();
        for private in [
            "http://localhost:3000",
            "http://127.0.0.1:3000",
            "http://192.168.1.20",
            "http://[::1]:3000",
            "http://10.0.0.5",
        ] {
            let urls = urls(private);
            assert!(!urls.is_public(), "{private}");
            assert!(!urls.reachable_from(&instagram), "{private}");
            assert!(urls.reachable_from(&fake), "{private}");
        }
        let public = urls("https://posts.example.com");
        assert!(public.is_public());
        assert!(public.reachable_from(&instagram));
    }
}
