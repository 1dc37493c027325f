//! Receiving a file in pieces, as platforms with resumable or chunked uploads take it (YouTube's
//! resumable sessions, TikTok's `FILE_UPLOAD` chunks, LinkedIn's upload URLs): the
//! `Content-Range` a piece announces, and what arrived so far as a length and a SHA-256.
//!
//! The bytes themselves are never kept: a fake must take a file of hundreds of megabytes without
//! holding it, and a test can still check that what the platform stored is the file it sent.

use std::fmt;

use sha2::{Digest, Sha256};

/// A request's `Content-Range` (RFC 9110 §14.4), as upload protocols use it on requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentRange {
    /// `bytes {first}-{last}/{total}`: the piece holds bytes `first..=last` of the file; `total`
    /// is `None` for `*` (a size not known yet).
    Bytes {
        first: u64,
        last: u64,
        total: Option<u64>,
    },
    /// `bytes */{total}`: a request without bytes, asking how many arrived (a resumable upload's
    /// status probe).
    Unsatisfied { total: Option<u64> },
}

impl ContentRange {
    /// Parses the header's value; `None` when it is malformed or `last` comes before `first`.
    pub fn parse(value: &str) -> Option<Self> {
        let range = value.trim().strip_prefix("bytes ")?.trim_start();
        let (span, total) = range.split_once('/')?;
        let total = match total {
            "*" => None,
            digits => Some(parse_number(digits)?),
        };
        if span == "*" {
            return Some(Self::Unsatisfied { total });
        }
        let (first, last) = span.split_once('-')?;
        let (first, last) = (parse_number(first)?, parse_number(last)?);
        (first <= last).then_some(Self::Bytes { first, last, total })
    }

    /// How many bytes the piece holds (none for a probe).
    pub fn len(&self) -> u64 {
        match self {
            Self::Bytes { first, last, .. } => last - first + 1,
            Self::Unsatisfied { .. } => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn total(&self) -> Option<u64> {
        match self {
            Self::Bytes { total, .. } | Self::Unsatisfied { total } => *total,
        }
    }
}

/// Digits only: `u64::from_str` would also take a leading `+`.
fn parse_number(digits: &str) -> Option<u64> {
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The bytes of one upload that arrived so far: how many and their running SHA-256. Cloning it is
/// cheap (the digest's state is about a hundred bytes), which is how a fake keeps checkpoints.
#[derive(Clone, Default)]
pub struct ReceivedBytes {
    len: u64,
    digest: Sha256,
}

impl fmt::Debug for ReceivedBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceivedBytes")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl ReceivedBytes {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn append(&mut self, data: &[u8]) {
        self.digest.update(data);
        self.len += data.len() as u64;
    }

    /// Appends `data`, calling `at_checkpoint` with the bytes so far each time the length reaches
    /// a multiple of `granule`: where a platform that persists whole chunks (YouTube: 256 KiB)
    /// would have saved the upload, should the connection break right after.
    pub fn append_with_checkpoints(
        &mut self,
        mut data: &[u8],
        granule: u64,
        mut at_checkpoint: impl FnMut(&Self),
    ) {
        let granule = granule.max(1);
        while !data.is_empty() {
            let to_boundary = granule - self.len % granule;
            let take = usize::try_from(to_boundary).map_or(data.len(), |n| n.min(data.len()));
            let (piece, rest) = data.split_at(take);
            self.append(piece);
            if self.len.is_multiple_of(granule) {
                at_checkpoint(self);
            }
            data = rest;
        }
    }

    /// The SHA-256 of every byte so far, in lowercase hex.
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.digest.clone().finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges_parse_pieces_probes_and_unknown_totals() {
        assert_eq!(
            ContentRange::parse("bytes 0-262143/1000000"),
            Some(ContentRange::Bytes {
                first: 0,
                last: 262_143,
                total: Some(1_000_000)
            })
        );
        assert_eq!(
            ContentRange::parse("bytes */1000000"),
            Some(ContentRange::Unsatisfied {
                total: Some(1_000_000)
            })
        );
        let unknown = ContentRange::parse("bytes 10-19/*").unwrap();
        assert_eq!((unknown.len(), unknown.total()), (10, None));
        for malformed in [
            "",
            "bytes 5-4/10",
            "bytes 0-+4/10",
            "items 0-4/10",
            "bytes 0-4",
            "bytes -4/10",
        ] {
            assert_eq!(ContentRange::parse(malformed), None, "{malformed}");
        }
    }

    #[test]
    fn checkpoints_fall_on_every_whole_granule_however_the_data_is_cut() {
        let data: Vec<u8> = (0..1000u32).map(|n| (n % 251) as u8).collect();
        let mut whole = ReceivedBytes::new();
        whole.append(&data);

        let mut pieces = ReceivedBytes::new();
        let mut checkpoints = Vec::new();
        for piece in data.chunks(37) {
            pieces.append_with_checkpoints(piece, 256, |so_far| {
                checkpoints.push((so_far.len(), so_far.sha256_hex()));
            });
        }
        assert_eq!(pieces.len(), 1000);
        assert_eq!(pieces.sha256_hex(), whole.sha256_hex());
        let lengths: Vec<u64> = checkpoints.iter().map(|(len, _)| *len).collect();
        assert_eq!(lengths, [256, 512, 768]);
        let mut first_half = ReceivedBytes::new();
        first_half.append(&data[..512]);
        assert_eq!(checkpoints[1].1, first_half.sha256_hex());
        assert_eq!(
            ReceivedBytes::new().sha256_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
