//! Identifiers a fake hands out: unguessable tokens and codes, and ids that count up so a test
//! can predict and read them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;

/// An opaque token or code: `prefix` (platforms brand theirs, e.g. Pinterest's `pina_`) and 32
/// random bytes in base64url, so a leaked one is recognisable in a log and never guessable.
pub fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// `bytes` random bytes as lowercase hex: for values that look like signatures.
pub fn random_hex(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut raw);
    hex::encode(raw)
}

/// Numeric ids in creation order. Platforms' ids are numeric strings of a typical length; starting
/// at a realistic value means clients that store or parse them meet what they will meet live.
#[derive(Debug, Clone)]
pub struct IdSequence(u64);

impl IdSequence {
    pub fn starting_at(first: u64) -> Self {
        Self(first)
    }

    pub fn next_id(&mut self) -> String {
        let id = self.0.to_string();
        self.0 += 1;
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_their_prefix_and_differ() {
        let first = random_token("pina_");
        assert!(first.starts_with("pina_"));
        assert_eq!(first.len(), "pina_".len() + 43);
        assert_ne!(first, random_token("pina_"));
    }

    #[test]
    fn ids_count_up_from_their_start() {
        let mut ids = IdSequence::starting_at(41);
        assert_eq!(ids.next_id(), "41");
        assert_eq!(ids.next_id(), "42");
        assert_eq!(random_hex(4).len(), 8);
    }
}
