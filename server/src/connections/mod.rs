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
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use app::services::Connections;
use app::types::{
    AccountChoice, ApiError, AppEvent, AuthorizeUrl, Availability, ChoosableAccount, Connection,
    ConnectionId, ConnectionsOverview, OptionChoice, OptionKind, Platform, PlatformOption,
    PostOptions, UserId,
};

use crate::analytics::events::ProductEvents;
use crate::clock::SharedClock;
use crate::crypto::Keyring;
use crate::db::connections::{self as rows, NewConnection, StoredTokens, TokenKind, token_context};
use crate::db::{account_choices, oauth_states};
use crate::error::Error;
use crate::media::pull::PullUrls;
use crate::platforms::{
    AccountProfile, ConsentedAccount, MediaPull, PlatformError, Registry, SocialPlatform, TokenSet,
    join_url,
};
use crate::publishing::Pipeline;
use tokens::{TokenError, TokenKeeper};

/// How long a started authorization may be completed.
const STATE_LIFETIME: Duration = Duration::minutes(10);
/// How long a consent's accounts wait to be chosen.
const CHOICE_LIFETIME: Duration = Duration::minutes(15);

/// How an authorization ended.
pub enum Completed {
    Connected(Connection),
    /// Several accounts: the owner chooses at `/connections?choose={id}`.
    Choose(Uuid),
}

/// One account of a choice, with the tokens to store for it, as sealed in `account_choices`.
#[derive(serde::Serialize, serde::Deserialize)]
struct PendingAccount {
    account_id: String,
    handle: String,
    display_name: Option<String>,
    avatar_url: Option<String>,
    access: String,
    refresh: Option<String>,
    expires_in_secs: Option<u64>,
    scopes: String,
}

impl PendingAccount {
    /// `account` with its own tokens, or the consent's.
    fn new(account: ConsentedAccount, consent: &TokenSet) -> Self {
        let tokens = account.tokens.as_ref().unwrap_or(consent);
        Self {
            access: tokens.access.expose_secret().to_owned(),
            refresh: tokens
                .refresh
                .as_ref()
                .map(|refresh| refresh.expose_secret().to_owned()),
            expires_in_secs: tokens.expires_in.map(|lifetime| lifetime.as_secs()),
            scopes: tokens.scopes.clone(),
            account_id: account.profile.account_id,
            handle: account.profile.handle,
            display_name: account.profile.display_name,
            avatar_url: account.profile.avatar_url,
        }
    }

    fn into_parts(self) -> (AccountProfile, TokenSet) {
        (
            AccountProfile {
                account_id: self.account_id,
                handle: self.handle,
                display_name: self.display_name,
                avatar_url: self.avatar_url,
            },
            TokenSet {
                access: SecretString::from(self.access),
                refresh: self.refresh.map(SecretString::from),
                expires_in: self.expires_in_secs.map(std::time::Duration::from_secs),
                scopes: self.scopes,
            },
        )
    }
}

/// The composer's warning for a platform that downloads media (`pull`) from an app it cannot
/// reach at `base`.
fn media_notice(
    platform: Platform,
    pull: MediaPull,
    reachable: bool,
    base: &http::Uri,
) -> Option<String> {
    let what = match pull {
        _ if reachable => return None,
        MediaPull::Never => return None,
        MediaPull::Photos => "photos (videos are uploaded and work)",
        MediaPull::Always => "photos and videos",
        MediaPull::VideoCovers => "video covers (photos are uploaded and work)",
    };
    Some(format!(
        "{} downloads {what} from this app, but cannot reach it at {base}: such posts will fail until the operator sets PUBLIC_BASE_URL to the app's public https address.",
        platform.display_name()
    ))
}

/// What a sealed choice is bound to, so it cannot be opened as another row.
fn choice_context(id: Uuid) -> Vec<u8> {
    format!("account-choice:{id}").into_bytes()
}

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
    /// Whether platforms that download media can reach the app.
    pull_urls: PullUrls,
    pipeline: Arc<Pipeline>,
    events: Arc<ProductEvents>,
}

/// The parts a connection service is built from.
pub struct ConnectionServiceParts {
    pub db: DatabaseConnection,
    pub keyring: Arc<Keyring>,
    pub registry: Registry,
    pub clock: SharedClock,
    pub public_base_url: http::Uri,
    pub pull_urls: PullUrls,
    /// Releases the posts that waited for an account that is connected again.
    pub pipeline: Arc<Pipeline>,
    pub events: Arc<ProductEvents>,
}

impl ConnectionService {
    pub fn new(parts: ConnectionServiceParts) -> Self {
        let ConnectionServiceParts {
            db,
            keyring,
            registry,
            clock,
            public_base_url,
            pull_urls,
            pipeline,
            events,
        } = parts;
        Self {
            tokens: TokenKeeper::new(db.clone(), keyring.clone(), registry.clone(), clock.clone()),
            db,
            keyring,
            registry,
            clock,
            public_base_url,
            pull_urls,
            pipeline,
            events,
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
            oauth_states::NewAuthorization {
                state: &state,
                provider: platform.as_str(),
                pkce_verifier: &started.pkce_verifier,
                site: None,
            },
            now,
            now + STATE_LIFETIME,
        )
        .await?;
        Ok(AuthorizeUrl { url: started.url })
    }

    /// Finishes an authorization: checks the state, trades the code, reads the accounts the
    /// consent gave access to, and stores the one, or keeps several for the owner to choose.
    pub async fn complete(
        &self,
        owner: UserId,
        platform: Platform,
        callback: Callback,
    ) -> Result<Completed, Error> {
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
            .filter(|pending| pending.provider == platform.as_str())
            .ok_or_else(|| {
                Error::Refused(ApiError::bad_request(
                    "This connection link has expired or was already used. Please click Connect again.",
                ))
            })?;
        let api = self.configured(platform)?;
        let tokens = api
            .exchange_code(&code, &pending.pkce_verifier, &self.redirect_uri(platform))
            .await?;
        let mut accounts = api.accounts(&tokens).await?;
        match accounts.len() {
            0 => Err(Error::Refused(ApiError::bad_request(format!(
                "{name} gave access to no account that can be posted to. Check the accounts allowed on {name}'s consent page, then click Connect again."
            )))),
            1 => {
                let account = accounts.remove(0);
                let tokens = account.tokens.as_ref().unwrap_or(&tokens);
                let connection = self
                    .store(owner, platform, &account.profile, tokens)
                    .await?;
                Ok(Completed::Connected(connection))
            }
            _ => {
                let pending = accounts
                    .into_iter()
                    .map(|account| PendingAccount::new(account, &tokens))
                    .collect();
                Ok(Completed::Choose(
                    self.offer(owner, platform, pending).await?,
                ))
            }
        }
    }

    /// Stores `profile`'s account with `tokens`: a reconnected account is updated in place and
    /// its waiting posts released.
    async fn store(
        &self,
        owner: UserId,
        platform: Platform,
        profile: &AccountProfile,
        tokens: &TokenSet,
    ) -> Result<Connection, Error> {
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
                let stored = self.encrypt(existing, tokens, now);
                let updated = rows::reconnect(&self.db, owner, existing, new, stored, now).await?;
                self.pipeline.release_waiting(existing, now).await?;
                updated
            }
            None => {
                let id = ConnectionId(Uuid::new_v4());
                let stored = self.encrypt(id, tokens, now);
                rows::insert(&self.db, owner, id, new, stored, now).await?
            }
        };
        tracing::info!(platform = platform.as_str(), connection = %connection.id.0, "account connected");
        self.events
            .record_for(owner, AppEvent::AccountConnected { platform })
            .await;
        Ok(connection)
    }

    /// Keeps a consent's accounts, sealed, for the owner to choose from.
    async fn offer(
        &self,
        owner: UserId,
        platform: Platform,
        accounts: Vec<PendingAccount>,
    ) -> Result<Uuid, Error> {
        let id = Uuid::new_v4();
        let plain = serde_json::to_string(&accounts).expect("pending accounts are plain data");
        let sealed = self
            .keyring
            .encrypt(&SecretString::from(plain), &choice_context(id));
        let now = self.clock.now();
        account_choices::create(
            &self.db,
            owner,
            id,
            platform,
            sealed,
            now,
            now + CHOICE_LIFETIME,
        )
        .await?;
        Ok(id)
    }

    /// The owner's choice, opened.
    async fn open_choice(
        &self,
        owner: UserId,
        id: Uuid,
    ) -> Result<(Platform, Vec<PendingAccount>), Error> {
        let stored = account_choices::get(&self.db, owner, id, self.clock.now())
            .await?
            .ok_or_else(|| {
                Error::Refused(ApiError::bad_request(
                    "This choice of accounts has expired or was already made. Please click Connect again.",
                ))
            })?;
        let plain = self.keyring.decrypt(&stored.sealed, &choice_context(id))?;
        // Written by `offer` under the same key: unreadable only if the row was altered.
        let accounts = serde_json::from_str(plain.expose_secret()).map_err(|_| {
            Error::Refused(ApiError::bad_request(
                "This choice of accounts could not be read. Please click Connect again.",
            ))
        })?;
        Ok((stored.platform, accounts))
    }

    async fn choice(&self, owner: UserId, id: Uuid) -> Result<AccountChoice, Error> {
        let (platform, accounts) = self.open_choice(owner, id).await?;
        let mut choosable = Vec::with_capacity(accounts.len());
        for account in accounts {
            let connected = rows::find_account(&self.db, owner, platform, &account.account_id)
                .await?
                .is_some();
            choosable.push(ChoosableAccount {
                account_id: account.account_id,
                handle: account.handle,
                display_name: account.display_name,
                connected,
            });
        }
        Ok(AccountChoice {
            id,
            platform,
            accounts: choosable,
        })
    }

    async fn choose(
        &self,
        owner: UserId,
        id: Uuid,
        account_ids: &[String],
    ) -> Result<Vec<Connection>, Error> {
        if account_ids.is_empty() {
            return Err(Error::Refused(ApiError::validation(
                "account_ids",
                "Choose at least one account to connect.",
            )));
        }
        let (platform, accounts) = self.open_choice(owner, id).await?;
        if let Some(unknown) = account_ids.iter().find(|wanted| {
            !accounts
                .iter()
                .any(|account| &account.account_id == *wanted)
        }) {
            return Err(Error::Refused(ApiError::validation(
                "account_ids",
                format!("`{unknown}` is not one of the accounts to choose from."),
            )));
        }
        if !account_choices::spend(&self.db, owner, id).await? {
            return Err(Error::Refused(ApiError::bad_request(
                "These accounts were already chosen.",
            )));
        }
        let mut connected = Vec::new();
        for account in accounts
            .into_iter()
            .filter(|account| account_ids.contains(&account.account_id))
        {
            let (profile, tokens) = account.into_parts();
            connected.push(self.store(owner, platform, &profile, &tokens).await?);
        }
        Ok(connected)
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
        let access = self
            .tokens
            .access_token(id, connection.platform, &mut Vec::new())
            .await
            .map_err(|error| match error {
                TokenError::Platform(error) => Error::from(error),
                TokenError::Backend(error) => error,
            })?;
        Ok((access.connection, api, access.token))
    }

    async fn options_of(&self, owner: UserId, id: ConnectionId) -> Result<PostOptions, Error> {
        let (connection, api, token) = self.account_api(owner, id).await?;
        let fields = api.post_options(&token, &connection.account_id).await?;
        // The limit is worth knowing, not worth refusing the fields over.
        let limits = api
            .account_notice(&token, &connection.account_id)
            .await
            .unwrap_or_else(|error| {
                tracing::info!(%error, platform = %connection.platform, "account notice unread");
                None
            });
        let notices: Vec<String> = [self.unreachable_media(api.as_ref()), limits]
            .into_iter()
            .flatten()
            .collect();
        Ok(PostOptions {
            fields,
            notice: (!notices.is_empty()).then(|| notices.join(" ")),
        })
    }

    /// What to say when the platform downloads media from the app but cannot reach it.
    fn unreachable_media(&self, api: &dyn SocialPlatform) -> Option<String> {
        let platform = api.platform();
        let reachable = self
            .registry
            .api_url(platform)
            .is_none_or(|api_url| self.pull_urls.reachable_from(api_url));
        media_notice(platform, api.media_pull(), reachable, &self.public_base_url)
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

/// Tokens issued at `now` as they are stored for connection `id` (see [`tokens::seal`]).
pub fn seal(
    keyring: &Keyring,
    id: ConnectionId,
    tokens: &TokenSet,
    now: DateTime<Utc>,
) -> StoredTokens {
    tokens::seal(
        keyring,
        crate::db::token_rows::TokenTable::Connections,
        id.0,
        tokens,
        now,
    )
}

/// 32 random bytes, URL-safe: unguessable, so a forged callback cannot name a real state.
pub fn random_state() -> String {
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

    async fn account_choice(&self, owner: UserId, id: Uuid) -> Result<AccountChoice, ApiError> {
        Ok(self.choice(owner, id).await?)
    }

    async fn choose_accounts(
        &self,
        owner: UserId,
        id: Uuid,
        account_ids: &[String],
    ) -> Result<Vec<Connection>, ApiError> {
        Ok(self.choose(owner, id, account_ids).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_composer_warns_only_where_a_platform_cannot_download_media() {
        let base: http::Uri = "http://localhost:3000".parse().unwrap();
        assert_eq!(
            media_notice(Platform::X, MediaPull::Never, false, &base),
            None
        );
        assert_eq!(
            media_notice(Platform::Tiktok, MediaPull::Photos, true, &base),
            None
        );
        let tiktok = media_notice(Platform::Tiktok, MediaPull::Photos, false, &base).unwrap();
        assert!(
            tiktok.contains("TikTok downloads photos (videos are uploaded"),
            "{tiktok}"
        );
        assert!(tiktok.contains("http://localhost:3000"), "{tiktok}");
        let instagram = media_notice(Platform::Instagram, MediaPull::Always, false, &base).unwrap();
        assert!(instagram.contains("photos and videos"), "{instagram}");
    }
}
