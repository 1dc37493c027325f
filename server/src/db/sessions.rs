//! Queries on `sessions`. A JWT names a session; the session row decides whether it is live.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, Set,
};

use app::types::{SessionId, User, UserId};

use super::DbError;
use super::entities::{session, user};

pub async fn create(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: SessionId,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbError> {
    session::ActiveModel {
        id: Set(id.0),
        user_id: Set(owner.0),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The user of a session that belongs to `owner`, has not expired and was not revoked.
pub async fn find_live(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: SessionId,
    now: DateTime<Utc>,
) -> Result<Option<User>, DbError> {
    let found = session::Entity::find_by_id(id.0)
        .filter(session::Column::UserId.eq(owner.0))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(now))
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    match found {
        Some((_, Some(row))) => Ok(Some(User::try_from(row)?)),
        _ => Ok(None),
    }
}

pub async fn revoke(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: SessionId,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(Some(now)))
        .filter(session::Column::Id.eq(id.0))
        .filter(session::Column::UserId.eq(owner.0))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

pub async fn revoke_all_except(
    db: &impl ConnectionTrait,
    owner: UserId,
    keep: SessionId,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(Some(now)))
        .filter(session::Column::UserId.eq(owner.0))
        .filter(session::Column::Id.ne(keep.0))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes every session that can never be used again: expired, or revoked. Such a row only
/// costs space and index time on every sign-in check. Returns how many were deleted.
pub async fn delete_dead(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbError> {
    let deleted = session::Entity::delete_many()
        .filter(
            Condition::any()
                .add(session::Column::ExpiresAt.lte(now))
                .add(session::Column::RevokedAt.is_not_null()),
        )
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}

/// How many session rows exist, dead or alive: for tests and the pruning log line.
pub async fn count(db: &impl ConnectionTrait) -> Result<u64, DbError> {
    Ok(session::Entity::find().count(db).await?)
}
