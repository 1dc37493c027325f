//! Queries on `users`.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use uuid::Uuid;

use app::types::{DisplayName, Email, ProfileUpdate, SessionId, TimeZoneName, User, UserId};

use super::entities::user;
use super::{DbError, sessions};

/// A row that could not be turned back into the checked types: only possible if someone
/// edited the database by hand.
fn corrupt(column: &str, id: Uuid) -> DbErr {
    DbErr::Custom(format!("users.{column} of {id} does not parse"))
}

impl TryFrom<user::Model> for User {
    type Error = DbErr;

    fn try_from(row: user::Model) -> Result<Self, DbErr> {
        Ok(User {
            id: UserId(row.id),
            email: Email::parse(&row.email).map_err(|_| corrupt("email", row.id))?,
            display_name: match row.display_name {
                None => None,
                Some(name) => {
                    DisplayName::parse(&name).map_err(|_| corrupt("display_name", row.id))?
                }
            },
            time_zone: TimeZoneName::parse(&row.time_zone)
                .map_err(|_| corrupt("time_zone", row.id))?,
            created_at: row.created_at,
        })
    }
}

pub struct NewUser<'a> {
    pub email: &'a Email,
    pub password_hash: String,
    pub time_zone: &'a TimeZoneName,
}

/// Inserts a user; `DbError::Conflict` when the email is taken.
pub async fn insert(
    db: &impl ConnectionTrait,
    new: NewUser<'_>,
    now: DateTime<Utc>,
) -> Result<User, DbError> {
    let row = user::ActiveModel {
        id: Set(Uuid::new_v4()),
        email: Set(new.email.as_str().to_owned()),
        password_hash: Set(new.password_hash),
        display_name: Set(None),
        time_zone: Set(new.time_zone.as_str().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(DbError::from_write)?;
    User::try_from(row).map_err(DbError::Db)
}

/// The user with this id, if there is one.
pub async fn find(db: &impl ConnectionTrait, id: UserId) -> Result<Option<User>, DbError> {
    user::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .map(User::try_from)
        .transpose()
        .map_err(DbError::Db)
}

/// The user with this email and their password hash, for signing in.
pub async fn find_with_hash_by_email(
    db: &impl ConnectionTrait,
    email: &Email,
) -> Result<Option<(User, String)>, DbError> {
    let row = user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(db)
        .await?;
    match row {
        None => Ok(None),
        Some(row) => {
            let hash = row.password_hash.clone();
            Ok(Some((User::try_from(row).map_err(DbError::Db)?, hash)))
        }
    }
}

pub async fn password_hash(
    db: &impl ConnectionTrait,
    owner: UserId,
) -> Result<Option<String>, DbError> {
    Ok(user::Entity::find_by_id(owner.0)
        .one(db)
        .await?
        .map(|row| row.password_hash))
}

pub async fn update_profile(
    db: &impl ConnectionTrait,
    owner: UserId,
    update: &ProfileUpdate,
    now: DateTime<Utc>,
) -> Result<Option<User>, DbError> {
    let Some(row) = user::Entity::find_by_id(owner.0).one(db).await? else {
        return Ok(None);
    };
    let mut row: user::ActiveModel = row.into();
    row.display_name = Set(update
        .display_name
        .as_ref()
        .map(|name| name.as_str().to_owned()));
    row.time_zone = Set(update.time_zone.as_str().to_owned());
    row.updated_at = Set(now);
    let row = row.update(db).await?;
    Ok(Some(User::try_from(row).map_err(DbError::Db)?))
}

/// Stores a new password hash and revokes every session but `keep`, in one transaction: a
/// stolen session must not outlive the password change that was meant to end it.
pub async fn replace_password_hash<C>(
    db: &C,
    owner: UserId,
    hash: String,
    keep: SessionId,
    now: DateTime<Utc>,
) -> Result<(), DbError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = db.begin().await?;
    let updated = user::Entity::update_many()
        .col_expr(
            user::Column::PasswordHash,
            sea_orm::sea_query::Expr::value(hash),
        )
        .col_expr(
            user::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(user::Column::Id.eq(owner.0))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(DbError::Db(DbErr::RecordNotUpdated));
    }
    sessions::revoke_all_except(&txn, owner, keep, now).await?;
    txn.commit().await?;
    Ok(())
}
