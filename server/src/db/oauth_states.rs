//! Queries on `oauth_states`: the `state` of an authorization in flight, bound to the user who
//! started it, short-lived and single use, with its PKCE verifier. The verifier is kept in
//! plain text: it is worthless without the authorization code, which only the platform's
//! redirect to this user's browser carries, and the row is gone after ten minutes at most.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use secrecy::{ExposeSecret, SecretString};

use app::types::UserId;

use super::DbError;
use super::entities::oauth_state;

/// An authorization that was started and may now be completed.
#[derive(Debug)]
pub struct PendingAuthorization {
    /// Whom it was started with: a platform's or a store's wire name (`x`, `shopify`).
    pub provider: String,
    pub pkce_verifier: SecretString,
    /// The shop it was started for, when the store asks first (Shopify).
    pub site: Option<String>,
}

/// What a new authorization is for.
pub struct NewAuthorization<'a> {
    pub state: &'a str,
    /// A platform's or a store's wire name.
    pub provider: &'a str,
    pub pkce_verifier: &'a SecretString,
    pub site: Option<&'a str>,
}

pub async fn create(
    db: &impl ConnectionTrait,
    owner: UserId,
    new: NewAuthorization<'_>,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbError> {
    oauth_state::ActiveModel {
        state: Set(new.state.to_owned()),
        user_id: Set(owner.0),
        platform: Set(new.provider.to_owned()),
        pkce_verifier: Set(new.pkce_verifier.expose_secret().to_owned()),
        site: Set(new.site.map(str::to_owned)),
        created_at: Set(now),
        expires_at: Set(expires_at),
    }
    .insert(db)
    .await
    .map_err(DbError::from_write)?;
    Ok(())
}

/// The authorization `state` names, once: the row is deleted as it is taken, so a second
/// callback with the same state gets `None`, as do an expired state and another user's state
/// (which is left alone for its owner).
pub async fn take(
    db: &impl ConnectionTrait,
    owner: UserId,
    state: &str,
    now: DateTime<Utc>,
) -> Result<Option<PendingAuthorization>, DbError> {
    let Some(row) = oauth_state::Entity::find_by_id(state.to_owned())
        .filter(oauth_state::Column::UserId.eq(owner.0))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    // Whoever deletes the row owns it: two callbacks racing with one state get one answer.
    let deleted = oauth_state::Entity::delete_many()
        .filter(oauth_state::Column::State.eq(state))
        .filter(oauth_state::Column::UserId.eq(owner.0))
        .exec(db)
        .await?;
    if deleted.rows_affected != 1 || row.expires_at <= now {
        return Ok(None);
    }
    Ok(Some(PendingAuthorization {
        provider: row.platform,
        pkce_verifier: SecretString::from(row.pkce_verifier),
        site: row.site,
    }))
}

/// Deletes states that can no longer be taken; the session sweeper runs it.
pub async fn delete_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbError> {
    let deleted = oauth_state::Entity::delete_many()
        .filter(oauth_state::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}
