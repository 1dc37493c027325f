//! Queries on `connections`. Tokens come in and go out as [`EncryptedToken`]s: this module never
//! sees a plaintext. Each token is encrypted for its row and kind ([`token_context`]), so the
//! row's id is chosen before the tokens are encrypted.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, UpdateMany,
};
use uuid::Uuid;

use app::types::{Connection, ConnectionId, ConnectionStatus, Platform, UserId};

use super::DbError;
use super::entities::connection;
use crate::crypto::EncryptedToken;

/// Which of a connection's tokens a ciphertext is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

/// The associated data a connection's token is encrypted with: a ciphertext moved to another
/// row, or from the refresh to the access column, no longer decrypts.
pub fn token_context(id: ConnectionId, kind: TokenKind) -> Vec<u8> {
    let kind = match kind {
        TokenKind::Access => "access",
        TokenKind::Refresh => "refresh",
    };
    format!("connection:{}:{kind}", id.0).into_bytes()
}

/// A connection's tokens as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTokens {
    pub access: EncryptedToken,
    pub refresh: Option<EncryptedToken>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// What the platform told us about the account.
#[derive(Debug, Clone)]
pub struct NewConnection<'a> {
    pub platform: Platform,
    pub account_id: &'a str,
    pub handle: &'a str,
    pub display_name: Option<&'a str>,
    pub avatar_url: Option<&'a str>,
    pub scopes: &'a str,
}

fn corrupt(column: &str, id: Uuid) -> sea_orm::DbErr {
    sea_orm::DbErr::Custom(format!("connections.{column} of {id} does not parse"))
}

impl TryFrom<connection::Model> for Connection {
    type Error = sea_orm::DbErr;

    fn try_from(row: connection::Model) -> Result<Self, Self::Error> {
        Ok(Connection {
            id: ConnectionId(row.id),
            platform: Platform::parse(&row.platform).ok_or_else(|| corrupt("platform", row.id))?,
            account_id: row.account_id,
            handle: row.handle,
            display_name: row.display_name,
            avatar_url: row.avatar_url,
            status: ConnectionStatus::parse(&row.status)
                .ok_or_else(|| corrupt("status", row.id))?,
            connected_at: row.created_at,
        })
    }
}

fn stored_tokens(row: &connection::Model) -> StoredTokens {
    let refresh = match (
        &row.refresh_key_id,
        &row.refresh_nonce,
        &row.refresh_ciphertext,
    ) {
        (Some(key_id), Some(nonce), Some(ciphertext)) => Some(EncryptedToken {
            key_id: key_id.clone(),
            nonce: nonce.clone(),
            ciphertext: ciphertext.clone(),
        }),
        _ => None,
    };
    StoredTokens {
        access: EncryptedToken {
            key_id: row.access_key_id.clone(),
            nonce: row.access_nonce.clone(),
            ciphertext: row.access_ciphertext.clone(),
        },
        refresh,
        expires_at: row.token_expires_at,
    }
}

/// The three refresh-token columns, all set or all null.
fn refresh_columns(
    token: Option<EncryptedToken>,
) -> (Option<String>, Option<Vec<u8>>, Option<Vec<u8>>) {
    match token {
        Some(token) => (
            Some(token.key_id),
            Some(token.nonce),
            Some(token.ciphertext),
        ),
        None => (None, None, None),
    }
}

/// Stores a new connection with the id its tokens were encrypted for. `DbError::Conflict` when
/// the user already connected this account.
pub async fn insert(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: ConnectionId,
    new: NewConnection<'_>,
    tokens: StoredTokens,
    now: DateTime<Utc>,
) -> Result<Connection, DbError> {
    let (refresh_key_id, refresh_nonce, refresh_ciphertext) = refresh_columns(tokens.refresh);
    let row = connection::ActiveModel {
        id: Set(id.0),
        user_id: Set(owner.0),
        platform: Set(new.platform.as_str().to_owned()),
        account_id: Set(new.account_id.to_owned()),
        handle: Set(new.handle.to_owned()),
        display_name: Set(new.display_name.map(str::to_owned)),
        avatar_url: Set(new.avatar_url.map(str::to_owned)),
        status: Set(ConnectionStatus::Active.as_str().to_owned()),
        access_key_id: Set(tokens.access.key_id),
        access_nonce: Set(tokens.access.nonce),
        access_ciphertext: Set(tokens.access.ciphertext),
        refresh_key_id: Set(refresh_key_id),
        refresh_nonce: Set(refresh_nonce),
        refresh_ciphertext: Set(refresh_ciphertext),
        token_expires_at: Set(tokens.expires_at),
        token_version: Set(0),
        refresh_claimed_until: Set(None),
        scopes: Set(new.scopes.to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(DbError::from_write)?;
    Connection::try_from(row).map_err(DbError::Db)
}

/// The user's connections, oldest first.
pub async fn list(db: &impl ConnectionTrait, owner: UserId) -> Result<Vec<Connection>, DbError> {
    let rows = connection::Entity::find()
        .filter(connection::Column::UserId.eq(owner.0))
        .order_by_asc(connection::Column::CreatedAt)
        .all(db)
        .await?;
    rows.into_iter()
        .map(|row| Connection::try_from(row).map_err(DbError::Db))
        .collect()
}

/// A connection's tokens and their version, whoever owns it: for the workers and `rotate-key`,
/// never for a request.
pub async fn tokens(
    db: &impl ConnectionTrait,
    id: ConnectionId,
) -> Result<Option<(i64, StoredTokens)>, DbError> {
    let row = connection::Entity::find_by_id(id.0).one(db).await?;
    Ok(row.map(|row| (row.token_version, stored_tokens(&row))))
}

/// A connection with its tokens and their version, in one read: what a publish needs.
pub async fn with_tokens(
    db: &impl ConnectionTrait,
    id: ConnectionId,
) -> Result<Option<(Connection, i64, StoredTokens)>, DbError> {
    let Some(row) = connection::Entity::find_by_id(id.0).one(db).await? else {
        return Ok(None);
    };
    let (version, tokens) = (row.token_version, stored_tokens(&row));
    let connection = Connection::try_from(row).map_err(DbError::Db)?;
    Ok(Some((connection, version, tokens)))
}

/// Up to `limit` connection ids after `after`, in id order: a walk over every connection.
pub async fn ids_after(
    db: &impl ConnectionTrait,
    after: Option<ConnectionId>,
    limit: u64,
) -> Result<Vec<ConnectionId>, DbError> {
    let mut query = connection::Entity::find()
        .select_only()
        .column(connection::Column::Id)
        .order_by_asc(connection::Column::Id)
        .limit(limit);
    if let Some(after) = after {
        query = query.filter(connection::Column::Id.gt(after.0));
    }
    let ids: Vec<Uuid> = query.into_tuple().all(db).await?;
    Ok(ids.into_iter().map(ConnectionId).collect())
}

/// Adds to `update` what every change of tokens writes: the new ciphertexts and expiry, the
/// version bumped (so a refresh racing with it loses its compare-and-set) and any refresh
/// claim dropped.
fn with_new_tokens(
    update: UpdateMany<connection::Entity>,
    tokens: StoredTokens,
    now: DateTime<Utc>,
) -> UpdateMany<connection::Entity> {
    let (refresh_key_id, refresh_nonce, refresh_ciphertext) = refresh_columns(tokens.refresh);
    update
        .col_expr(
            connection::Column::AccessKeyId,
            Expr::value(tokens.access.key_id),
        )
        .col_expr(
            connection::Column::AccessNonce,
            Expr::value(tokens.access.nonce),
        )
        .col_expr(
            connection::Column::AccessCiphertext,
            Expr::value(tokens.access.ciphertext),
        )
        .col_expr(
            connection::Column::RefreshKeyId,
            Expr::value(refresh_key_id),
        )
        .col_expr(connection::Column::RefreshNonce, Expr::value(refresh_nonce))
        .col_expr(
            connection::Column::RefreshCiphertext,
            Expr::value(refresh_ciphertext),
        )
        .col_expr(
            connection::Column::TokenExpiresAt,
            Expr::value(tokens.expires_at),
        )
        .col_expr(
            connection::Column::TokenVersion,
            Expr::col(connection::Column::TokenVersion).add(1),
        )
        .col_expr(
            connection::Column::RefreshClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(connection::Column::UpdatedAt, Expr::value(now))
}

/// Replaces the tokens if they are still at `expected_version`, bumping the version. `false`
/// when someone else changed them first (a refresh won the race).
pub async fn replace_tokens(
    db: &impl ConnectionTrait,
    id: ConnectionId,
    expected_version: i64,
    tokens: StoredTokens,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let updated = with_new_tokens(connection::Entity::update_many(), tokens, now)
        .filter(connection::Column::Id.eq(id.0))
        .filter(connection::Column::TokenVersion.eq(expected_version))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// One of the user's connections.
pub async fn get(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: ConnectionId,
) -> Result<Option<Connection>, DbError> {
    let row = connection::Entity::find_by_id(id.0)
        .filter(connection::Column::UserId.eq(owner.0))
        .one(db)
        .await?;
    row.map(|row| Connection::try_from(row).map_err(DbError::Db))
        .transpose()
}

/// A connection for the workers, whoever owns it.
pub async fn get_any(
    db: &impl ConnectionTrait,
    id: ConnectionId,
) -> Result<Option<Connection>, DbError> {
    let row = connection::Entity::find_by_id(id.0).one(db).await?;
    row.map(|row| Connection::try_from(row).map_err(DbError::Db))
        .transpose()
}

/// The user's connection to this account on this platform, if there is one.
pub async fn find_account(
    db: &impl ConnectionTrait,
    owner: UserId,
    platform: Platform,
    account_id: &str,
) -> Result<Option<ConnectionId>, DbError> {
    let id: Option<Uuid> = connection::Entity::find()
        .select_only()
        .column(connection::Column::Id)
        .filter(connection::Column::UserId.eq(owner.0))
        .filter(connection::Column::Platform.eq(platform.as_str()))
        .filter(connection::Column::AccountId.eq(account_id))
        .into_tuple()
        .one(db)
        .await?;
    Ok(id.map(ConnectionId))
}

/// The account connected again: fresh profile and tokens, active, any refresh claim dropped.
pub async fn reconnect(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: ConnectionId,
    new: NewConnection<'_>,
    tokens: StoredTokens,
    now: DateTime<Utc>,
) -> Result<Connection, DbError> {
    let update = connection::Entity::update_many()
        .col_expr(connection::Column::Handle, Expr::value(new.handle))
        .col_expr(
            connection::Column::DisplayName,
            Expr::value(new.display_name),
        )
        .col_expr(connection::Column::AvatarUrl, Expr::value(new.avatar_url))
        .col_expr(connection::Column::Scopes, Expr::value(new.scopes))
        .col_expr(
            connection::Column::Status,
            Expr::value(ConnectionStatus::Active.as_str()),
        );
    with_new_tokens(update, tokens, now)
        .filter(connection::Column::Id.eq(id.0))
        .filter(connection::Column::UserId.eq(owner.0))
        .exec(db)
        .await?;
    get(db, owner, id)
        .await?
        .ok_or(DbError::Db(sea_orm::DbErr::RecordNotFound(format!(
            "connection {} vanished while reconnecting",
            id.0
        ))))
}

/// Forgets one of the user's connections; `false` when there was none.
pub async fn delete(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: ConnectionId,
) -> Result<bool, DbError> {
    let deleted = connection::Entity::delete_many()
        .filter(connection::Column::Id.eq(id.0))
        .filter(connection::Column::UserId.eq(owner.0))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected == 1)
}

/// Takes the right to spend the refresh token of version `version` until `until`: `false` when
/// the tokens changed or another worker holds an unexpired claim.
pub async fn claim_refresh(
    db: &impl ConnectionTrait,
    id: ConnectionId,
    version: i64,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, DbError> {
    let updated = connection::Entity::update_many()
        .col_expr(connection::Column::RefreshClaimedUntil, Expr::value(until))
        .filter(connection::Column::Id.eq(id.0))
        .filter(connection::Column::TokenVersion.eq(version))
        .filter(
            sea_orm::Condition::any()
                .add(connection::Column::RefreshClaimedUntil.is_null())
                .add(connection::Column::RefreshClaimedUntil.lte(now)),
        )
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Dates the access token as expired now, if the tokens are still at `version` and a refresh
/// token is there to replace it: the platform refused the access token before its time.
/// `false` when there is no refresh token or the tokens changed meanwhile.
pub async fn expire_access_token(
    db: &impl ConnectionTrait,
    id: ConnectionId,
    version: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let updated = connection::Entity::update_many()
        .col_expr(connection::Column::TokenExpiresAt, Expr::value(now))
        .filter(connection::Column::Id.eq(id.0))
        .filter(connection::Column::TokenVersion.eq(version))
        .filter(connection::Column::RefreshCiphertext.is_not_null())
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Gives up a refresh claim without new tokens (the refresh failed in a retryable way).
pub async fn release_refresh_claim(
    db: &impl ConnectionTrait,
    id: ConnectionId,
    version: i64,
) -> Result<(), DbError> {
    connection::Entity::update_many()
        .col_expr(
            connection::Column::RefreshClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(connection::Column::Id.eq(id.0))
        .filter(connection::Column::TokenVersion.eq(version))
        .exec(db)
        .await?;
    Ok(())
}

/// The platform refused the grant for good: the user must reconnect.
pub async fn mark_needs_reconnect(
    db: &impl ConnectionTrait,
    id: ConnectionId,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    connection::Entity::update_many()
        .col_expr(
            connection::Column::Status,
            Expr::value(ConnectionStatus::NeedsReconnect.as_str()),
        )
        .col_expr(
            connection::Column::RefreshClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(connection::Column::UpdatedAt, Expr::value(now))
        .filter(connection::Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}
