//! `picscripter rotate-key`: re-encrypts every stored token under the current key, so that a
//! retired key can be dropped from `ENCRYPTION_KEYS_OLD`. Safe to run while the app serves:
//! each row is replaced compare-and-set on its token version, and a row that a refresh changed
//! meanwhile is read again (the refresh wrote it under the current key already).

use sea_orm::DatabaseConnection;

use app::types::ConnectionId;

use crate::clock::Clock;
use crate::crypto::{CryptoError, EncryptedToken, Keyring};
use crate::db::DbError;
use crate::db::connections::{self, StoredTokens, TokenKind, token_context};

/// What a rotation did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RotationReport {
    /// Connections whose tokens were re-encrypted.
    pub rotated: u64,
    /// Connections already entirely under the current key.
    pub current: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("connection {id}: {source}")]
    Token {
        id: uuid::Uuid,
        #[source]
        source: CryptoError,
    },
}

const PAGE: u64 = 200;
/// A row that keeps changing under us is retried this often before we give up on the run.
const ATTEMPTS_PER_ROW: usize = 5;

pub async fn rotate_keys(
    db: &DatabaseConnection,
    keyring: &Keyring,
    clock: &dyn Clock,
) -> Result<RotationReport, RotationError> {
    let mut report = RotationReport::default();
    let mut after = None;
    loop {
        let ids = connections::ids_after(db, after, PAGE).await?;
        let Some(last) = ids.last().copied() else {
            return Ok(report);
        };
        for id in ids {
            if rotate_one(db, keyring, clock, id).await? {
                report.rotated += 1;
            } else {
                report.current += 1;
            }
        }
        after = Some(last);
    }
}

/// `true` when the row's tokens were re-encrypted.
async fn rotate_one(
    db: &DatabaseConnection,
    keyring: &Keyring,
    clock: &dyn Clock,
    id: ConnectionId,
) -> Result<bool, RotationError> {
    let crypto = |source| RotationError::Token { id: id.0, source };
    for _ in 0..ATTEMPTS_PER_ROW {
        // Deleted since the page was read: nothing to rotate.
        let Some((version, tokens)) = connections::tokens(db, id).await? else {
            return Ok(false);
        };
        let access = reencrypt(keyring, &tokens.access, id, TokenKind::Access).map_err(crypto)?;
        let refresh = match &tokens.refresh {
            Some(token) => reencrypt(keyring, token, id, TokenKind::Refresh).map_err(crypto)?,
            None => None,
        };
        if access.is_none() && refresh.is_none() {
            return Ok(false);
        }
        let rotated = StoredTokens {
            access: access.unwrap_or(tokens.access),
            refresh: refresh.or(tokens.refresh),
            expires_at: tokens.expires_at,
        };
        if connections::replace_tokens(db, id, version, rotated, clock.now()).await? {
            return Ok(true);
        }
    }
    Err(RotationError::Database(DbError::Db(
        sea_orm::DbErr::Custom(format!(
            "connection {} kept changing during the rotation; run rotate-key again",
            id.0
        )),
    )))
}

fn reencrypt(
    keyring: &Keyring,
    token: &EncryptedToken,
    id: ConnectionId,
    kind: TokenKind,
) -> Result<Option<EncryptedToken>, CryptoError> {
    keyring.reencrypt(token, &token_context(id, kind))
}
