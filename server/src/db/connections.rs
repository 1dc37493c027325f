//! Queries on `connections`. Tokens come in and go out as [`EncryptedToken`]s: this module never
//! sees a plaintext. Each token is encrypted for its row and kind ([`token_context`]), so the
//! row's id is chosen before the tokens are encrypted.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use app::types::{Connection, ConnectionId, ConnectionStatus, Platform, UserId};

use super::DbError;
use super::entities::connection;
use crate::crypto::EncryptedToken;

use super::token_rows::{self, TokenTable};
pub use super::token_rows::{StoredTokens, TokenKind};

/// The associated data a connection's token is encrypted with (see [`TokenTable::context`]).
pub fn token_context(id: ConnectionId, kind: TokenKind) -> Vec<u8> {
    TokenTable::Connections.context(id.0, kind)
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

/// Replaces the tokens if they are still at `expected_version`, bumping the version. `false`
/// when someone else changed them first (a refresh won the race).
pub async fn replace_tokens(
    db: &impl ConnectionTrait,
    id: ConnectionId,
    expected_version: i64,
    tokens: StoredTokens,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    token_rows::replace_tokens(
        db,
        TokenTable::Connections,
        id.0,
        Some(expected_version),
        tokens,
        now,
    )
    .await
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
    let id = token_rows::find_account(
        db,
        TokenTable::Connections,
        owner.0,
        platform.as_str(),
        account_id,
    )
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
    let profile = vec![
        ("handle", Expr::value(new.handle)),
        ("display_name", Expr::value(new.display_name)),
        ("avatar_url", Expr::value(new.avatar_url)),
        ("scopes", Expr::value(new.scopes)),
    ];
    token_rows::reconnect(
        db,
        TokenTable::Connections,
        owner.0,
        id.0,
        profile,
        tokens,
        now,
    )
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

/// The platform refused the grant for good: the user must reconnect.
pub async fn mark_needs_reconnect(
    db: &impl ConnectionTrait,
    id: ConnectionId,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    token_rows::mark_needs_reconnect(db, TokenTable::Connections, id.0, now).await
}
