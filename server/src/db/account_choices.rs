//! Queries on `account_choices`: a consent's accounts waiting for the person to choose which to
//! connect, as one sealed blob (the caller encrypts and decrypts it), bound to the user, short
//! lived and single use.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use app::types::{Platform, UserId};

use super::DbError;
use super::entities::account_choice;
use crate::crypto::EncryptedToken;

/// A choice as stored: its platform and the sealed accounts.
pub struct StoredChoice {
    pub platform: Platform,
    pub sealed: EncryptedToken,
}

pub async fn create(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: Uuid,
    platform: Platform,
    sealed: EncryptedToken,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbError> {
    account_choice::ActiveModel {
        id: Set(id),
        user_id: Set(owner.0),
        platform: Set(platform.as_str().to_owned()),
        key_id: Set(sealed.key_id),
        nonce: Set(sealed.nonce),
        ciphertext: Set(sealed.ciphertext),
        created_at: Set(now),
        expires_at: Set(expires_at),
    }
    .insert(db)
    .await
    .map_err(DbError::from_write)?;
    Ok(())
}

/// The owner's choice, if it has not expired.
pub async fn get(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<StoredChoice>, DbError> {
    let row = account_choice::Entity::find_by_id(id)
        .filter(account_choice::Column::UserId.eq(owner.0))
        .filter(account_choice::Column::ExpiresAt.gt(now))
        .one(db)
        .await?;
    Ok(row.and_then(|row| {
        Some(StoredChoice {
            platform: Platform::parse(&row.platform)?,
            sealed: EncryptedToken {
                key_id: row.key_id,
                nonce: row.nonce,
                ciphertext: row.ciphertext,
            },
        })
    }))
}

/// Spends the choice: `false` when it was already spent (a second submit).
pub async fn spend(db: &impl ConnectionTrait, owner: UserId, id: Uuid) -> Result<bool, DbError> {
    let deleted = account_choice::Entity::delete_many()
        .filter(account_choice::Column::Id.eq(id))
        .filter(account_choice::Column::UserId.eq(owner.0))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected == 1)
}

/// Removes the choices that expired unmade.
pub async fn delete_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbError> {
    let deleted = account_choice::Entity::delete_many()
        .filter(account_choice::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}
