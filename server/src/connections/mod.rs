//! Connecting platform accounts: the OAuth round trip (state bound to the user, PKCE), storing
//! the account with its tokens encrypted, listing, and disconnecting. Plaintext tokens exist
//! only inside this module and [`tokens`], for the length of one platform call.

pub mod tokens;

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore as _;
use sea_orm::DatabaseConnection;
use secrecy::SecretString;
use uuid::Uuid;

use app::services::Connections;
use app::types::{
    ApiError, AuthorizeUrl, Availability, Connection, ConnectionId, ConnectionsOverview,
    OptionChoice, OptionKind, Platform, PlatformOption, PostOptions, UserId,
};

use crate::clock::SharedClock;
use crate::crypto::Keyring;
use crate::db::connections::{self as rows, NewConnection, StoredTokens, TokenKind, token_context};
use crate::db::oauth_states;
use crate::error::Error;
use crate::platforms::{PlatformError, Registry, SocialPlatform, TokenSet, join_url};
use crate::publishing::Pipeline;
use tokens::{TokenError, TokenKeeper};

/// How long a started authorization may be completed.
const STATE_LIFETIME: Duration = Duration::minutes(10);

/// What the platform sent back to `/oauth/{platform}/callback`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

pub struct ConnectionService {
    db: DatabaseConnection,
    keyring: Arc<Keyring>,
    /// Tokens for the platform calls made while composing (reading an account's boards).
    tokens: TokenKeeper,
    registry: Registry,
    clock: SharedClock,
    public_base_url: http::Uri,
    pipeline: Arc<Pipeline>,
}

impl ConnectionService {
    pub fn new(
        db: DatabaseConnection,
        keyring: Arc<Keyring>,
        registry: Registry,
        clock: SharedClock,
        public_base_url: http::Uri,
        pipeline: Arc<Pipeline>,
    ) -> Self {
        Self {
            tokens: TokenKeeper::new(db.clone(), keyring.clone(), registry.clone(), clock.clone()),
            db,
            keyring,
            registry,
            clock,
            public_base_url,
            pipeline,
        }
    }

    /// `{PUBLIC_BASE_URL}/oauth/{platform}/callback`: what the operator registers at the
    /// platform.
    pub fn redirect_uri(&self, platform: Platform) -> String {
        join_url(
            &self.public_base_url,
            &format!("/oauth/{}/callback", platform.as_str()),
        )
    }

    fn configured(&self, platform: Platform) -> Result<Arc<dyn SocialPlatform>, Error> {
        self.registry.get(platform).ok_or_else(|| {
            Error::Refused(ApiError::Conflict {
                message: format!(
                    "{} is not configured by the operator of this Picscripterai.",
                    platform.display_name()
                ),
            })
        })
    }

    async fn start(&self, owner: UserId, platform: Platform) -> Result<AuthorizeUrl, Error> {
        let api = self.configured(platform)?;
        let state = random_state();
        let started = api.start_authorization(&self.redirect_uri(platform), &state);
        let now = self.clock.now();
        oauth_states::create(
            &self.db,
            owner,
            &state,
            platform,
            &started.pkce_verifier,
            now,
            now + STATE_LIFETIME,
        )
        .await?;
        Ok(AuthorizeUrl { url: started.url })
    }

    /// Finishes an authorization: checks the state, trades the code, reads the account and
    /// stores it (a reconnected account is updated in place and its waiting posts released).
    pub async fn complete(
        &self,
        owner: UserId,
        platform: Platform,
        callback: Callback,
    ) -> Result<Connection, Error> {
        let name = platform.display_name();
        if let Some(error) = callback.error.as_deref() {
            if let Some(state) = callback.state.as_deref() {
                // Spend the state so the link cannot be replayed.
                oauth_states::take(&self.db, owner, state, self.clock.now()).await?;
            }
            return Err(Error::Refused(ApiError::bad_request(
                if error == "access_denied" {
                    format!("{name} was not connected: access was not allowed.")
                } else {
                    format!("{name} did not connect the account ({error}). Please try again.")
                },
            )));
        }
        let (Some(code), Some(state)) = (callback.code, callback.state) else {
            return Err(Error::Refused(ApiError::bad_request(format!(
                "{name} sent back an incomplete answer. Please click Connect again."
            ))));
        };
        let pending = oauth_states::take(&self.db, owner, &state, self.clock.now())
            .await?
            .filter(|pending| pending.platform == platform)
            .ok_or_else(|| {
                Error::Refused(ApiError::bad_request(
                    "This connection link has expired or was already used. Please click Connect again.",
                ))
            })?;
        let api = self.configured(platform)?;
        let tokens = api
            .exchange_code(&code, &pending.pkce_verifier, &self.redirect_uri(platform))
            .await?;
        let profile = api.account(&tokens.access).await?;
        let new = NewConnection {
            platform,
            account_id: &profile.account_id,
            handle: &profile.handle,
            display_name: profile.display_name.as_deref(),
            avatar_url: profile.avatar_url.as_deref(),
            scopes: &tokens.scopes,
        };
        let now = self.clock.now();
        let connection = match rows::find_account(&self.db, owner, platform, &profile.account_id)
            .await?
        {
            Some(existing) => {
                let stored = self.encrypt(existing, &tokens, now);
                let updated = rows::reconnect(&self.db, owner, existing, new, stored, now).await?;
                self.pipeline.release_waiting(existing, now).await?;
                updated
            }
            None => {
                let id = ConnectionId(Uuid::new_v4());
                let stored = self.encrypt(id, &tokens, now);
                rows::insert(&self.db, owner, id, new, stored, now).await?
            }
        };
        tracing::info!(platform = platform.as_str(), connection = %connection.id.0, "account connected");
        Ok(connection)
    }

    /// The user's connection `id`, its platform's file and a usable token.
    async fn account_api(
        &self,
        owner: UserId,
        id: ConnectionId,
    ) -> Result<(Connection, Arc<dyn SocialPlatform>, SecretString), Error> {
        let connection = rows::get(&self.db, owner, id)
            .await?
            .ok_or(Error::Refused(ApiError::NotFound))?;
        let api = self.configured(connection.platform)?;
        let (connection, token) = self
            .tokens
            .access_token(id, connection.platform, &mut Vec::new())
            .await
            .map_err(|error| match error {
                TokenError::Platform(error) => Error::from(error),
                TokenError::Backend(error) => error,
            })?;
        Ok((connection, api, token))
    }

    async fn options_of(&self, owner: UserId, id: ConnectionId) -> Result<PostOptions, Error> {
        let (connection, api, token) = self.account_api(owner, id).await?;
        let fields = api.post_options(&token, &connection.account_id).await?;
        Ok(PostOptions { fields })
    }

    async fn new_choice(
        &self,
        owner: UserId,
        id: ConnectionId,
        field: &str,
        label: &str,
    ) -> Result<OptionChoice, Error> {
        let label = label.trim();
        if label.is_empty() {
            return Err(Error::Refused(ApiError::validation(
                "label",
                "Give the new choice a name.",
            )));
        }
        let (connection, api, token) = self.account_api(owner, id).await?;
        let fields = api.post_options(&token, &connection.account_id).await?;
        let addable = fields
            .iter()
            .any(|known| known.name == field && known.kind == OptionKind::Choice && known.can_add);
        if !addable {
            return Err(Error::Refused(ApiError::NotFound));
        }
        Ok(api
            .add_choice(&token, &connection.account_id, field, label)
            .await?)
    }

    fn encrypt(&self, id: ConnectionId, tokens: &TokenSet, now: DateTime<Utc>) -> StoredTokens {
        seal(&self.keyring, id, tokens, now)
    }

    async fn remove(&self, owner: UserId, id: ConnectionId) -> Result<(), Error> {
        let connection = rows::get(&self.db, owner, id)
            .await?
            .ok_or(Error::Refused(ApiError::NotFound))?;
        if let Some(api) = self.registry.get(connection.platform)
            && let Some((_, stored)) = rows::tokens(&self.db, id).await?
        {
            // Revoking the refresh token ends the whole grant; without one, the access token.
            let (token, kind) = match &stored.refresh {
                Some(refresh) => (refresh, TokenKind::Refresh),
                None => (&stored.access, TokenKind::Access),
            };
            let plain = self.keyring.decrypt(token, &token_context(id, kind))?;
            match api.revoke(&plain).await {
                Ok(()) => {}
                // Nothing to revoke any more: the platform already dropped the grant.
                Err(PlatformError::Reauth { .. } | PlatformError::Permanent { .. }) => {}
                Err(unreachable @ PlatformError::Retryable { .. }) => {
                    return Err(unreachable.into());
                }
            }
        }
        let reason = format!(
            "Cancelled: the {} account @{} was disconnected.",
            connection.platform.display_name(),
            connection.handle
        );
        self.pipeline
            .cancel_for_connection(id, &reason, self.clock.now())
            .await?;
        rows::delete(&self.db, owner, id).await?;
        tracing::info!(connection = %id.0, "account disconnected");
        Ok(())
    }
}

/// Tokens issued at `now` as they are stored for connection `id`: each encrypted for its row
/// and kind, with the expiry dated by our clock.
pub fn seal(
    keyring: &Keyring,
    id: ConnectionId,
    tokens: &TokenSet,
    now: DateTime<Utc>,
) -> StoredTokens {
    StoredTokens {
        access: keyring.encrypt(&tokens.access, &token_context(id, TokenKind::Access)),
        refresh: tokens
            .refresh
            .as_ref()
            .map(|refresh| keyring.encrypt(refresh, &token_context(id, TokenKind::Refresh))),
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

/// 32 random bytes, URL-safe: unguessable, so a forged callback cannot name a real state.
fn random_state() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[async_trait]
impl Connections for ConnectionService {
    async fn overview(&self, owner: UserId) -> Result<ConnectionsOverview, ApiError> {
        let connections = rows::list(&self.db, owner).await.map_err(Error::from)?;
        let platforms = Platform::ALL
            .into_iter()
            .map(|platform| PlatformOption {
                platform,
                name: platform.display_name().to_owned(),
                availability: if self.registry.is_configured(platform) {
                    Availability::Available
                } else if crate::platforms::SUPPORTED.contains(&platform) {
                    Availability::NotConfigured
                } else {
                    Availability::ComingSoon
                },
            })
            .collect();
        Ok(ConnectionsOverview {
            platforms,
            connections,
        })
    }

    async fn authorize(&self, owner: UserId, platform: Platform) -> Result<AuthorizeUrl, ApiError> {
        Ok(self.start(owner, platform).await?)
    }

    async fn disconnect(&self, owner: UserId, id: ConnectionId) -> Result<(), ApiError> {
        Ok(self.remove(owner, id).await?)
    }

    async fn post_options(&self, owner: UserId, id: ConnectionId) -> Result<PostOptions, ApiError> {
        Ok(self.options_of(owner, id).await?)
    }

    async fn add_choice(
        &self,
        owner: UserId,
        id: ConnectionId,
        field: &str,
        label: &str,
    ) -> Result<OptionChoice, ApiError> {
        Ok(self.new_choice(owner, id, field, label).await?)
    }
}
