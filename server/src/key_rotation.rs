//! `picscripter rotate-key`: re-encrypts every stored token under the current key, so that a
//! retired key can be dropped from `ENCRYPTION_KEYS_OLD`: the platform tokens of connections
//! and the tokens of stores, then the writer keys people stored in their AI Studio settings.
//! Safe to run while the app serves: each row is replaced compare-and-set on its token
//! version, and a row that a
//! refresh changed meanwhile is read again (the refresh wrote it under the current key
//! already); a writer key is replaced only if it is still the one read (a key saved meanwhile
//! was sealed under the current key).

use sea_orm::DatabaseConnection;

use app::types::UserId;

use crate::clock::Clock;
use crate::crypto::{CryptoError, EncryptedToken, Keyring};
use crate::db::DbError;
use crate::db::studio_settings::{self, KeyKind, key_context};
use crate::db::token_rows::{self, StoredTokens, TokenKind, TokenTable};

/// What a rotation did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RotationReport {
    /// Connections and stores whose tokens were re-encrypted.
    pub rotated: u64,
    /// Connections and stores already entirely under the current key.
    pub current: u64,
    /// AI Studio writer keys (a person's Gemini or OpenAI-compatible key) re-encrypted.
    pub studio_keys: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("{table:?} row {id}: {source}")]
    Token {
        table: TokenTable,
        id: uuid::Uuid,
        #[source]
        source: CryptoError,
    },
    #[error("the AI Studio settings of user {owner}: {source}")]
    StudioKey {
        owner: uuid::Uuid,
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
    for table in [TokenTable::Connections, TokenTable::Stores] {
        let mut after = None;
        loop {
            let ids = token_rows::ids_after(db, table, after, PAGE).await?;
            let Some(last) = ids.last().copied() else {
                break;
            };
            for id in ids {
                if rotate_one(db, keyring, clock, table, id).await? {
                    report.rotated += 1;
                } else {
                    report.current += 1;
                }
            }
            after = Some(last);
        }
    }
    let mut after = None;
    loop {
        let owners = studio_settings::owners_after(db, after, PAGE).await?;
        let Some(last) = owners.last().copied() else {
            return Ok(report);
        };
        for owner in owners {
            report.studio_keys += rotate_studio_keys(db, keyring, owner).await?;
        }
        after = Some(last);
    }
}

/// Re-encrypts the owner's writer keys that are not under the current key; how many were.
async fn rotate_studio_keys(
    db: &DatabaseConnection,
    keyring: &Keyring,
    owner: UserId,
) -> Result<u64, RotationError> {
    // Deleted since the page was read: nothing to rotate.
    let Some(stored) = studio_settings::get(db, owner).await? else {
        return Ok(0);
    };
    let mut rotated = 0;
    for kind in KeyKind::ALL {
        let Some(old) = stored.key(kind) else {
            continue;
        };
        let fresh = keyring
            .reencrypt(old, &key_context(owner, kind))
            .map_err(|source| RotationError::StudioKey {
                owner: owner.0,
                source,
            })?;
        // A key saved or removed meanwhile is not replaced: it needs no rotation.
        if let Some(fresh) = fresh
            && studio_settings::replace_key(db, owner, kind, old, fresh).await?
        {
            rotated += 1;
        }
    }
    Ok(rotated)
}

/// `true` when the row's tokens were re-encrypted.
async fn rotate_one(
    db: &DatabaseConnection,
    keyring: &Keyring,
    clock: &dyn Clock,
    table: TokenTable,
    id: uuid::Uuid,
) -> Result<bool, RotationError> {
    let crypto = |source| RotationError::Token { table, id, source };
    let reencrypt =
        |token: &EncryptedToken, kind| keyring.reencrypt(token, &table.context(id, kind));
    for _ in 0..ATTEMPTS_PER_ROW {
        // Deleted since the page was read: nothing to rotate.
        let Some(row) = token_rows::load(db, table, id).await? else {
            return Ok(false);
        };
        let (version, tokens) = (row.version, row.tokens);
        let access = reencrypt(&tokens.access, TokenKind::Access).map_err(crypto)?;
        let refresh = match &tokens.refresh {
            Some(token) => reencrypt(token, TokenKind::Refresh).map_err(crypto)?,
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
        if token_rows::replace_tokens(db, table, id, Some(version), rotated, clock.now()).await? {
            return Ok(true);
        }
    }
    Err(RotationError::Database(DbError::Db(
        sea_orm::DbErr::Custom(format!(
            "{table:?} row {id} kept changing during the rotation; run rotate-key again"
        )),
    )))
}
