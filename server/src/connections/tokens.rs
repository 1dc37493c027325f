//! A usable access token for a platform or store call: the stored one, or a fresh one when it
//! expires within five minutes. Platforms such as X (and Shopify, Etsy, Squarespace) rotate
//! refresh tokens (spending one twice loses the grant), so a refresh is single-flight per row
//! across tasks and processes: the worker that wins a compare-and-set claim on the row's token
//! version refreshes; the others wait for the version to move and read the new token.
//!
//! [`TokenGate`] does this for any table with token columns ([`TokenTable`]); [`TokenKeeper`]
//! is the gate for social connections, with the platform registry that refreshes them.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use sea_orm::DatabaseConnection;
use secrecy::SecretString;
use uuid::Uuid;

use app::types::{Connection, ConnectionId, Platform};

use crate::clock::SharedClock;
use crate::crypto::Keyring;
use crate::db::connections as rows;
use crate::db::token_rows::{self, StoredTokens, TokenKind, TokenTable};
use crate::error::Error;
use crate::platforms::{PlatformError, Registry, TokenSet};

/// Tokens expiring sooner than this are refreshed before a call.
const REFRESH_AHEAD: Duration = Duration::minutes(5);
/// How long a refresh claim holds: longer than any refresh call may take.
const CLAIM_FOR: Duration = Duration::seconds(60);
/// How often a worker that lost the claim looks for the new tokens, and for how long.
const WAIT_STEP: StdDuration = StdDuration::from_millis(100);
const WAIT_STEPS: u32 = 300;

/// Why no token could be had: a platform answer the pipeline acts on, or our own failure.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Platform(#[from] PlatformError),
    #[error(transparent)]
    Backend(#[from] Error),
}

impl From<crate::db::DbError> for TokenError {
    fn from(error: crate::db::DbError) -> Self {
        Self::Backend(error.into())
    }
}

impl From<crate::crypto::CryptoError> for TokenError {
    fn from(error: crate::crypto::CryptoError) -> Self {
        Self::Backend(error.into())
    }
}

/// Tokens issued at `now` as they are stored for row `id` of `table`: each encrypted for its
/// row and kind, with the expiry dated by our clock.
pub fn seal(
    keyring: &Keyring,
    table: TokenTable,
    id: Uuid,
    tokens: &TokenSet,
    now: DateTime<Utc>,
) -> StoredTokens {
    StoredTokens {
        access: keyring.encrypt(&tokens.access, &table.context(id, TokenKind::Access)),
        refresh: tokens
            .refresh
            .as_ref()
            .map(|refresh| keyring.encrypt(refresh, &table.context(id, TokenKind::Refresh))),
        expires_at: expiry(tokens, now),
    }
}

/// When tokens issued at `now` stop working, if the platform said.
pub fn expiry(tokens: &TokenSet, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    tokens
        .expires_in
        .and_then(|lifetime| Duration::from_std(lifetime).ok())
        .map(|lifetime| now + lifetime)
}

/// A token to call with.
pub struct Usable {
    pub token: SecretString,
    /// The token version it belongs to.
    version: i64,
    /// It was refreshed just now, for this call.
    pub refreshed: bool,
}

/// Single-flight refreshes over the rows of any [`TokenTable`].
#[derive(Clone)]
pub struct TokenGate {
    db: DatabaseConnection,
    keyring: Arc<Keyring>,
    clock: SharedClock,
}

impl TokenGate {
    pub fn new(db: DatabaseConnection, keyring: Arc<Keyring>, clock: SharedClock) -> Self {
        Self { db, keyring, clock }
    }

    /// An access token for row `id` valid for at least [`REFRESH_AHEAD`], refreshed through
    /// `refresh` when needed; `steps` gets a line when a refresh happened. `name` (a platform's
    /// or store's) is for the messages.
    pub async fn usable<Refresh, Refreshing>(
        &self,
        table: TokenTable,
        id: Uuid,
        name: &str,
        refresh: Refresh,
        steps: &mut Vec<String>,
    ) -> Result<Usable, TokenError>
    where
        Refresh: FnOnce(SecretString) -> Refreshing,
        Refreshing: Future<Output = Result<TokenSet, PlatformError>>,
    {
        let mut waited = 0;
        loop {
            let row = token_rows::load(&self.db, table, id)
                .await?
                .ok_or_else(|| PlatformError::permanent("The account was disconnected."))?;
            if row.needs_reconnect {
                return Err(needs_reconnect(name).into());
            }
            let now = self.clock.now();
            if row
                .tokens
                .expires_at
                .is_none_or(|expires| expires > now + REFRESH_AHEAD)
            {
                let token = self
                    .keyring
                    .decrypt(&row.tokens.access, &table.context(id, TokenKind::Access))?;
                return Ok(Usable {
                    token,
                    version: row.version,
                    refreshed: false,
                });
            }
            let version = row.version;
            if token_rows::claim_refresh(&self.db, table, id, version, now, now + CLAIM_FOR).await?
            {
                let refreshed = self
                    .refresh(table, id, name, version, &row.tokens, refresh)
                    .await;
                match &refreshed {
                    Ok(_) => steps.push("access token refreshed".into()),
                    // Marked "needs reconnect", which clears the claim.
                    Err(TokenError::Platform(PlatformError::Reauth { .. })) => {}
                    // Anything else gives the claim back so the next attempt can refresh.
                    Err(_) => {
                        token_rows::release_refresh_claim(&self.db, table, id, version).await?;
                    }
                }
                return refreshed.map(|token| Usable {
                    token,
                    // The new tokens bumped the version.
                    version: version + 1,
                    refreshed: true,
                });
            }
            // Another worker is refreshing: its new tokens bump the version.
            waited += 1;
            if waited > WAIT_STEPS {
                return Err(PlatformError::Retryable {
                    wait: None,
                    maybe_done: false,
                    detail: "another worker is still refreshing this account's access".into(),
                }
                .into());
            }
            tokio::time::sleep(WAIT_STEP).await;
        }
    }

    /// The platform refused `usable`'s token before it expired (revoked, or its clock runs
    /// ahead of ours): dates it as expired so the next attempt refreshes it first. `false` when
    /// that cannot help: the token was fresh already, or there is no refresh token, and the
    /// user must reconnect.
    pub async fn distrust(
        &self,
        table: TokenTable,
        id: Uuid,
        usable: &Usable,
    ) -> Result<bool, TokenError> {
        if usable.refreshed {
            return Ok(false);
        }
        Ok(
            token_rows::expire_access_token(&self.db, table, id, usable.version, self.clock.now())
                .await?,
        )
    }

    /// Spends the refresh token (the claim is held) and stores what comes back. The caller
    /// gives the claim back on failure.
    async fn refresh<Refresh, Refreshing>(
        &self,
        table: TokenTable,
        id: Uuid,
        name: &str,
        version: i64,
        stored: &StoredTokens,
        refresh: Refresh,
    ) -> Result<SecretString, TokenError>
    where
        Refresh: FnOnce(SecretString) -> Refreshing,
        Refreshing: Future<Output = Result<TokenSet, PlatformError>>,
    {
        let now = self.clock.now();
        let Some(sealed) = &stored.refresh else {
            token_rows::mark_needs_reconnect(&self.db, table, id, now).await?;
            return Err(needs_reconnect(name).into());
        };
        let refresh_token = self
            .keyring
            .decrypt(sealed, &table.context(id, TokenKind::Refresh))?;
        match refresh(refresh_token).await {
            Ok(fresh) => {
                let mut new = seal(&self.keyring, table, id, &fresh, now);
                // A platform that does not rotate keeps the old refresh token working.
                if new.refresh.is_none() {
                    new.refresh = stored.refresh.clone();
                }
                let replaced = token_rows::replace_tokens(
                    &self.db,
                    table,
                    id,
                    Some(version),
                    new,
                    self.clock.now(),
                )
                .await?;
                if !replaced {
                    // Only a reconnect moves the version under a held claim; its tokens win.
                    tracing::warn!(row = %id, ?table, "tokens changed during a refresh");
                }
                Ok(fresh.access)
            }
            Err(PlatformError::Reauth { .. }) => {
                token_rows::mark_needs_reconnect(&self.db, table, id, self.clock.now()).await?;
                tracing::warn!(row = %id, ?table, "refresh refused: the account needs a reconnect");
                Err(needs_reconnect(name).into())
            }
            Err(other) => Err(other.into()),
        }
    }
}

fn needs_reconnect(name: &str) -> PlatformError {
    PlatformError::Reauth {
        detail: format!("{name} no longer accepts this account's authorization"),
    }
}

/// Tokens for publishing to, and reading from, social connections.
pub struct TokenKeeper {
    gate: TokenGate,
    db: DatabaseConnection,
    registry: Registry,
}

/// A token to publish with.
pub struct Access {
    pub connection: Connection,
    pub token: SecretString,
    usable: Usable,
    /// It was refreshed just now, for this publish.
    pub refreshed: bool,
}

impl TokenKeeper {
    pub fn new(
        db: DatabaseConnection,
        keyring: Arc<Keyring>,
        registry: Registry,
        clock: SharedClock,
    ) -> Self {
        Self {
            gate: TokenGate::new(db.clone(), keyring, clock),
            db,
            registry,
        }
    }

    /// The connection and an access token valid for at least five minutes, refreshing when
    /// needed; `steps` gets a line when a refresh happened.
    pub async fn access_token(
        &self,
        id: ConnectionId,
        platform: Platform,
        steps: &mut Vec<String>,
    ) -> Result<Access, TokenError> {
        let connection = rows::get_any(&self.db, id)
            .await?
            .ok_or_else(|| PlatformError::permanent("The account was disconnected."))?;
        let registry = self.registry.clone();
        let usable = self
            .gate
            .usable(
                TokenTable::Connections,
                id.0,
                platform.display_name(),
                |refresh_token| async move {
                    let api = registry.get(platform).ok_or_else(|| {
                        PlatformError::permanent(format!(
                            "{} is not configured by the operator any more.",
                            platform.display_name()
                        ))
                    })?;
                    api.refresh(&refresh_token).await
                },
                steps,
            )
            .await?;
        Ok(Access {
            connection,
            token: usable.token.clone(),
            refreshed: usable.refreshed,
            usable,
        })
    }

    /// See [`TokenGate::distrust`].
    pub async fn distrust(&self, id: ConnectionId, access: &Access) -> Result<bool, TokenError> {
        self.gate
            .distrust(TokenTable::Connections, id.0, &access.usable)
            .await
    }
}
