//! Taking an uploaded file as one request body: counted (and hashed, by
//! [`ReceivedBytes`](super::upload::ReceivedBytes)) as it streams in, never kept, with only its
//! first bytes looked at to tell what kind of file it is. A client that uploads the wrong bytes
//! (an HTML error page, a JSON wrapper, a base64 string) is caught by the magic-byte check, as
//! the platform's media pipeline would catch it.

use axum::body::Body;
use futures_util::StreamExt as _;

use super::upload::ReceivedBytes;

/// How many leading bytes [`sniff_image`] needs.
pub const IMAGE_HEAD_LEN: usize = 12;

/// What one body brought: every byte counted and hashed, and the first ones kept to be sniffed.
#[derive(Debug, Clone)]
pub struct Received {
    pub bytes: ReceivedBytes,
    /// Up to the `head_len` asked of [`receive`].
    pub head: Vec<u8>,
}

/// Why a body could not be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiveError {
    /// More than the limit arrived; reading stopped there.
    #[error("the upload is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// The connection broke off mid-body.
    #[error("the upload broke off: {0}")]
    Broken(String),
}

/// Reads `body` to its end, at most `limit` bytes, keeping its first `head_len` bytes.
pub async fn receive(body: Body, limit: u64, head_len: usize) -> Result<Received, ReceiveError> {
    let mut stream = body.into_data_stream();
    let mut received = Received {
        bytes: ReceivedBytes::new(),
        head: Vec::with_capacity(head_len),
    };
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| ReceiveError::Broken(error.to_string()))?;
        let wanted = head_len
            .saturating_sub(received.head.len())
            .min(chunk.len());
        received.head.extend_from_slice(&chunk[..wanted]);
        received.bytes.append(&chunk);
        if received.bytes.len() > limit {
            return Err(ReceiveError::TooLarge { limit });
        }
    }
    Ok(received)
}

/// The image type (as a MIME type) that a file's first bytes announce: JPEG, PNG, GIF or WebP.
/// Which of them a platform takes is the fake's to decide.
pub fn sniff_image(head: &[u8]) -> Option<&'static str> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if head.starts_with(b"\xFF\xD8\xFF") {
        Some("image/jpeg")
    } else if head.starts_with(PNG) {
        Some("image/png")
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Bytes;

    use super::*;

    fn in_chunks(chunks: &[&'static [u8]]) -> Body {
        let chunks: Vec<Result<Bytes, std::io::Error>> = chunks
            .iter()
            .map(|chunk| Ok(Bytes::from_static(chunk)))
            .collect();
        Body::from_stream(futures_util::stream::iter(chunks))
    }

    #[tokio::test]
    async fn a_body_is_counted_hashed_and_its_head_kept_across_chunks() {
        let received = receive(in_chunks(&[b"\x89PN", b"G\r\n\x1a\n", b"rest"]), 100, 12)
            .await
            .unwrap();
        assert_eq!(received.bytes.len(), 12);
        assert_eq!(received.head, b"\x89PNG\r\n\x1a\nrest");
        let mut whole = ReceivedBytes::new();
        whole.append(b"\x89PNG\r\n\x1a\nrest");
        assert_eq!(received.bytes.sha256_hex(), whole.sha256_hex());
        assert_eq!(sniff_image(&received.head), Some("image/png"));
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused() {
        assert_eq!(
            receive(in_chunks(&[b"1234", b"5678"]), 7, 0)
                .await
                .unwrap_err(),
            ReceiveError::TooLarge { limit: 7 }
        );
        assert!(receive(in_chunks(&[b"1234567"]), 7, 0).await.is_ok());
    }

    #[test]
    fn images_are_told_by_their_magic_bytes() {
        assert_eq!(sniff_image(b"\xFF\xD8\xFF\xE0"), Some("image/jpeg"));
        assert_eq!(sniff_image(b"GIF89a..."), Some("image/gif"));
        assert_eq!(sniff_image(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff_image(b"<html>"), None);
        assert_eq!(sniff_image(b""), None);
    }
}
