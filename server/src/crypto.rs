//! Token encryption at rest: platform access and refresh tokens are stored only as
//! XChaCha20-Poly1305 ciphertexts. Each ciphertext carries the id of the key that made it, so
//! keys can be rotated: a new `ENCRYPTION_KEY` encrypts from then on, the retired ones listed in
//! `ENCRYPTION_KEYS_OLD` still decrypt, and `picscripter rotate-key` re-encrypts what is left
//! under the current key. Each ciphertext is also bound to a context (which row and which
//! token it is), so a ciphertext copied into another row does not decrypt there.
//!
//! Plaintexts only ever leave this module as `SecretString`; nothing here logs.

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore as _;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// Key length of XChaCha20-Poly1305.
pub const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    /// The key that made this ciphertext is neither the current one nor a listed old one.
    #[error(
        "the token was encrypted with key {key_id}, which is not configured (add it to ENCRYPTION_KEYS_OLD)"
    )]
    UnknownKey { key_id: String },
    /// The ciphertext, its nonce or its context do not match: altered, or moved between rows.
    #[error("the encrypted token does not verify (altered or copied from elsewhere)")]
    Tampered,
    /// A configured key is not 32 bytes of base64.
    #[error("{0}")]
    BadKey(String),
}

/// A token as stored: the id of the key, the nonce and the ciphertext (with its tag).
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptedToken {
    pub key_id: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for EncryptedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptedToken")
            .field("key_id", &self.key_id)
            .field("ciphertext_bytes", &self.ciphertext.len())
            .finish()
    }
}

struct Key {
    id: String,
    cipher: XChaCha20Poly1305,
    /// Derived from the key, apart from it: signs URLs (see [`Keyring::url_signing_key`]).
    url_signing: [u8; 32],
}

impl Key {
    fn parse(name: &str, encoded: &SecretString) -> Result<Self, CryptoError> {
        let raw = encoded.expose_secret().trim();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(raw)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(raw))
            .map_err(|_| {
                CryptoError::BadKey(format!(
                    "{name}: is not base64; make a key with `openssl rand -base64 32`"
                ))
            })?;
        if bytes.len() != KEY_BYTES {
            return Err(CryptoError::BadKey(format!(
                "{name}: must be {KEY_BYTES} bytes once decoded, not {}; make one with `openssl rand -base64 32`",
                bytes.len()
            )));
        }
        // The id names the key without revealing it: a short hash, stable across restarts.
        let digest = Sha256::new()
            .chain_update(b"picscripter key id\0")
            .chain_update(&bytes)
            .finalize();
        let id = hex::encode(&digest[..4]);
        let cipher = XChaCha20Poly1305::new_from_slice(&bytes)
            .expect("a 32-byte key is the cipher's key size");
        let url_signing = Sha256::new()
            .chain_update(b"picscripter url signing\0")
            .chain_update(&bytes)
            .finalize()
            .into();
        Ok(Self {
            id,
            cipher,
            url_signing,
        })
    }
}

/// Checks that `key` (the value of the variable `name`) is a usable key, for configuration.
pub fn check_key(name: &str, key: &SecretString) -> Result<(), CryptoError> {
    Key::parse(name, key).map(|_| ())
}

/// The current key and the retired ones that still decrypt.
pub struct Keyring {
    current: Key,
    old: Vec<Key>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current.id)
            .field(
                "old",
                &self.old.iter().map(|key| &key.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Keyring {
    /// Builds the keyring from `ENCRYPTION_KEY` and `ENCRYPTION_KEYS_OLD` (base64, 32 bytes).
    pub fn new(current: &SecretString, old: &[SecretString]) -> Result<Self, CryptoError> {
        Ok(Self {
            current: Key::parse("ENCRYPTION_KEY", current)?,
            old: old
                .iter()
                .map(|key| Key::parse("ENCRYPTION_KEYS_OLD", key))
                .collect::<Result<_, _>>()?,
        })
    }

    /// The id of the key new ciphertexts are made with.
    /// A key for signing URLs, derived from the current key so that every process sharing
    /// `ENCRYPTION_KEY` (web and workers) signs and checks alike; never the key itself.
    pub fn url_signing_key(&self) -> &[u8; 32] {
        &self.current.url_signing
    }

    pub fn current_key_id(&self) -> &str {
        &self.current.id
    }

    /// Encrypts `plaintext` for `context` (e.g. `connection:<id>:access`) under the current key.
    pub fn encrypt(&self, plaintext: &SecretString, context: &[u8]) -> EncryptedToken {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .current
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.expose_secret().as_bytes(),
                    aad: context,
                },
            )
            .expect("encrypting a message in memory cannot fail");
        EncryptedToken {
            key_id: self.current.id.clone(),
            nonce: nonce.to_vec(),
            ciphertext,
        }
    }

    /// Decrypts a token made for `context` by the current or an old key.
    pub fn decrypt(
        &self,
        token: &EncryptedToken,
        context: &[u8],
    ) -> Result<SecretString, CryptoError> {
        let key = std::iter::once(&self.current)
            .chain(&self.old)
            .find(|key| key.id == token.key_id)
            .ok_or_else(|| CryptoError::UnknownKey {
                key_id: token.key_id.clone(),
            })?;
        if token.nonce.len() != NONCE_BYTES {
            return Err(CryptoError::Tampered);
        }
        let plaintext = key
            .cipher
            .decrypt(
                XNonce::from_slice(&token.nonce),
                Payload {
                    msg: &token.ciphertext,
                    aad: context,
                },
            )
            .map_err(|_| CryptoError::Tampered)?;
        String::from_utf8(plaintext)
            .map(SecretString::from)
            .map_err(|_| CryptoError::Tampered)
    }

    /// The same token under the current key, or `None` when it already is (for `rotate-key`).
    pub fn reencrypt(
        &self,
        token: &EncryptedToken,
        context: &[u8],
    ) -> Result<Option<EncryptedToken>, CryptoError> {
        if token.key_id == self.current.id {
            return Ok(None);
        }
        Ok(Some(self.encrypt(&self.decrypt(token, context)?, context)))
    }
}

/// A fresh random key, base64: what the embedded default stores in `DATA_DIR`.
pub fn generate_key() -> String {
    let mut bytes = [0u8; KEY_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key() -> SecretString {
        SecretString::from(generate_key())
    }

    fn keyring() -> Keyring {
        Keyring::new(&key(), &[]).unwrap()
    }

    #[test]
    fn keys_that_are_not_32_bytes_of_base64_are_refused_with_a_way_out() {
        for bad in ["not base64!", "c2hvcnQ=", ""] {
            let error = Keyring::new(&SecretString::from(bad.to_owned()), &[]).unwrap_err();
            assert!(
                error.to_string().contains("openssl rand -base64 32"),
                "{error}"
            );
        }
    }

    #[test]
    fn nothing_secret_shows_in_debug_output() {
        let ring = keyring();
        let token = ring.encrypt(&SecretString::from("hunter2".to_owned()), b"c");
        assert!(!format!("{ring:?}{token:?}").contains("hunter2"));
    }

    #[test]
    fn an_old_key_still_decrypts_and_rotation_moves_to_the_new_one() {
        let old_key = key();
        let old = Keyring::new(&old_key, &[]).unwrap();
        let stored = old.encrypt(&SecretString::from("refresh-me".to_owned()), b"row:1");
        let rotated = Keyring::new(&key(), &[old_key]).unwrap();
        let fresh = rotated.reencrypt(&stored, b"row:1").unwrap().unwrap();
        assert_eq!(fresh.key_id, rotated.current_key_id());
        assert_eq!(
            rotated.decrypt(&fresh, b"row:1").unwrap().expose_secret(),
            "refresh-me"
        );
        assert_eq!(rotated.reencrypt(&fresh, b"row:1").unwrap(), None);
        let forgotten = keyring();
        assert_eq!(
            forgotten.decrypt(&stored, b"row:1").unwrap_err(),
            CryptoError::UnknownKey {
                key_id: stored.key_id.clone()
            }
        );
    }

    proptest! {
        #[test]
        fn what_is_encrypted_decrypts_to_itself(text in ".{0,200}", context in prop::collection::vec(any::<u8>(), 0..40)) {
            let ring = keyring();
            let token = ring.encrypt(&SecretString::from(text.clone()), &context);
            let decrypted = ring.decrypt(&token, &context).unwrap();
            prop_assert_eq!(decrypted.expose_secret(), text.as_str());
        }

        #[test]
        fn any_change_to_a_ciphertext_or_its_context_is_detected(
            text in ".{1,60}",
            flip in any::<prop::sample::Index>(),
            bit in 0u8..8,
            part in 0..3,
        ) {
            let ring = keyring();
            let mut token = ring.encrypt(&SecretString::from(text), b"connection:1:access");
            let mut context = b"connection:1:access".to_vec();
            let bytes = match part {
                0 => &mut token.ciphertext,
                1 => &mut token.nonce,
                _ => &mut context,
            };
            let at = flip.index(bytes.len());
            bytes[at] ^= 1 << bit;
            prop_assert_eq!(ring.decrypt(&token, &context).unwrap_err(), CryptoError::Tampered);
        }
    }
}
