//! A usable access token for a publish: the stored one, or a fresh one when it expires within
//! five minutes. Platforms such as X rotate refresh tokens (spending one twice loses the grant),
//! so a refresh is single-flight per connection across tasks and processes: the worker that
//! wins a compare-and-set claim on the row's token version refreshes; the others wait for the
//! version to move and read the new token.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use sea_orm::DatabaseConnection;
use secrecy::SecretString;

use app::types::{Connection, ConnectionId, ConnectionStatus, Platform};

use crate::clock::SharedClock;
use crate::crypto::Keyring;
use crate::db::connections::{self as rows, StoredTokens, TokenKind, token_context};
use crate::error::Error;
use crate::platforms::{PlatformError, Registry};

/// Tokens expiring sooner than this are refreshed before a publish.
const REFRESH_AHEAD: Duration = Duration::minutes(5);
/// How long a refresh claim holds: longer than any refresh call may take.
const CLAIM_FOR: Duration = Duration::seconds(60);
/// How often a worker that lost the claim looks for the new tokens, and for how long.
const WAIT_STEP: StdDuration = StdDuration::from_millis(100);
const WAIT_STEPS: u32 = 300;

pub struct TokenKeeper {
    db: DatabaseConnection,
    keyring: Arc<Keyring>,
    registry: Registry,
    clock: SharedClock,
}

/// A token to publish with.
pub struct Access {
    pub connection: Connection,
    pub token: SecretString,
    /// The token version it belongs to.
    version: i64,
    /// It was refreshed just now, for this publish.
    pub refreshed: bool,
}

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

impl TokenKeeper {
    pub fn new(
        db: DatabaseConnection,
        keyring: Arc<Keyring>,
        registry: Registry,
        clock: SharedClock,
    ) -> Self {
        Self {
            db,
            keyring,
            registry,
            clock,
        }
    }

    /// The connection and an access token valid for at least [`REFRESH_AHEAD`], refreshing
    /// when needed; `steps` gets a line when a refresh happened.
    pub async fn access_token(
        &self,
        id: ConnectionId,
        platform: Platform,
        steps: &mut Vec<String>,
    ) -> Result<Access, TokenError> {
        let mut waited = 0;
        loop {
            let (connection, version, stored) = rows::with_tokens(&self.db, id)
                .await?
                .ok_or_else(|| PlatformError::permanent("The account was disconnected."))?;
            if connection.status == ConnectionStatus::NeedsReconnect {
                return Err(needs_reconnect(platform).into());
            }
            let now = self.clock.now();
            if stored
                .expires_at
                .is_none_or(|expires| expires > now + REFRESH_AHEAD)
            {
                let token = self
                    .keyring
                    .decrypt(&stored.access, &token_context(id, TokenKind::Access))?;
                return Ok(Access {
                    connection,
                    token,
                    version,
                    refreshed: false,
                });
            }
            if rows::claim_refresh(&self.db, id, version, now, now + CLAIM_FOR).await? {
                let refreshed = self.refresh(id, platform, version, &stored).await;
                match &refreshed {
                    Ok(_) => steps.push("access token refreshed".into()),
                    // Marked "needs reconnect", which clears the claim.
                    Err(TokenError::Platform(PlatformError::Reauth { .. })) => {}
                    // Anything else gives the claim back so the next attempt can refresh.
                    Err(_) => rows::release_refresh_claim(&self.db, id, version).await?,
                }
                return refreshed.map(|token| Access {
                    connection,
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

    /// The platform refused `access`'s token before it expired (revoked, or its clock runs
    /// ahead of ours): dates it as expired so the next attempt refreshes it first. `false` when
    /// that cannot help: the token was fresh already, or there is no refresh token, and the
    /// user must reconnect.
    pub async fn distrust(&self, id: ConnectionId, access: &Access) -> Result<bool, TokenError> {
        if access.refreshed {
            return Ok(false);
        }
        Ok(rows::expire_access_token(&self.db, id, access.version, self.clock.now()).await?)
    }

    /// Spends the refresh token (the claim is held) and stores what comes back. The caller
    /// gives the claim back on failure.
    async fn refresh(
        &self,
        id: ConnectionId,
        platform: Platform,
        version: i64,
        stored: &StoredTokens,
    ) -> Result<SecretString, TokenError> {
        let now = self.clock.now();
        let Some(refresh) = &stored.refresh else {
            rows::mark_needs_reconnect(&self.db, id, now).await?;
            return Err(needs_reconnect(platform).into());
        };
        let refresh = self
            .keyring
            .decrypt(refresh, &token_context(id, TokenKind::Refresh))?;
        let api = self.registry.get(platform).ok_or_else(|| {
            PlatformError::permanent(format!(
                "{} is not configured by the operator any more.",
                platform.display_name()
            ))
        })?;
        match api.refresh(&refresh).await {
            Ok(fresh) => {
                let mut new = super::seal(&self.keyring, id, &fresh, now);
                // A platform that does not rotate keeps the old refresh token working.
                if new.refresh.is_none() {
                    new.refresh = stored.refresh.clone();
                }
                if !rows::replace_tokens(&self.db, id, version, new, self.clock.now()).await? {
                    // Only a reconnect moves the version under a held claim; its tokens win.
                    tracing::warn!(connection = %id.0, "tokens changed during a refresh");
                }
                Ok(fresh.access)
            }
            Err(PlatformError::Reauth { .. }) => {
                rows::mark_needs_reconnect(&self.db, id, self.clock.now()).await?;
                tracing::warn!(connection = %id.0, "refresh refused: the account needs a reconnect");
                Err(needs_reconnect(platform).into())
            }
            Err(other) => Err(other.into()),
        }
    }
}

fn needs_reconnect(platform: Platform) -> PlatformError {
    PlatformError::Reauth {
        detail: format!(
            "{} no longer accepts this account's authorization",
            platform.display_name()
        ),
    }
}
