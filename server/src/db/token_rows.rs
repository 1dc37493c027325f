//! The token columns that social connections and stores share, and the queries that keep
//! them: reading a row's sealed tokens with their version, claiming the right to spend a
//! refresh token (compare-and-set on the version, so two workers never spend one rotating
//! token), storing new tokens, and marking a row as needing a reconnect. Both tables name these
//! columns the same, so each query is written once for either.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Condition, Expr, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, StatementBuilder};
use uuid::Uuid;

use app::types::ConnectionStatus;

use super::DbError;
use crate::crypto::EncryptedToken;

/// A table whose rows hold sealed tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenTable {
    /// Social accounts (`connections`).
    Connections,
    /// Online stores (`stores`).
    Stores,
}

/// Which of a row's tokens a ciphertext is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenTable {
    fn name(self) -> Alias {
        Alias::new(match self {
            Self::Connections => "connections",
            Self::Stores => "stores",
        })
    }

    /// The column saying which platform or store a row's account is on.
    fn kind_column(self) -> &'static str {
        match self {
            Self::Connections => "platform",
            Self::Stores => "store",
        }
    }

    /// The associated data a row's token is encrypted with: a ciphertext moved to another row,
    /// another table, or from the refresh to the access column, no longer decrypts.
    pub fn context(self, id: Uuid, kind: TokenKind) -> Vec<u8> {
        let table = match self {
            Self::Connections => "connection",
            Self::Stores => "store",
        };
        let kind = match kind {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
        };
        format!("{table}:{id}:{kind}").into_bytes()
    }
}

/// A row's tokens as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTokens {
    pub access: EncryptedToken,
    pub refresh: Option<EncryptedToken>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A row's tokens, their version, and whether the grant still works.
#[derive(Debug, Clone)]
pub struct TokenRow {
    pub version: i64,
    pub tokens: StoredTokens,
    pub needs_reconnect: bool,
}

fn col(name: &'static str) -> Alias {
    Alias::new(name)
}

/// The tokens of row `id`, `None` when there is no such row.
pub async fn load(
    db: &impl ConnectionTrait,
    table: TokenTable,
    id: Uuid,
) -> Result<Option<TokenRow>, DbError> {
    let select = Query::select()
        .columns(
            [
                "access_key_id",
                "access_nonce",
                "access_ciphertext",
                "refresh_key_id",
                "refresh_nonce",
                "refresh_ciphertext",
                "token_expires_at",
                "token_version",
                "status",
            ]
            .map(col),
        )
        .from(table.name())
        .and_where(Expr::col(col("id")).eq(id))
        .to_owned();
    let Some(row) = db
        .query_one(StatementBuilder::build(&select, &db.get_database_backend()))
        .await?
    else {
        return Ok(None);
    };
    let refresh = match (
        row.try_get::<Option<String>>("", "refresh_key_id")?,
        row.try_get::<Option<Vec<u8>>>("", "refresh_nonce")?,
        row.try_get::<Option<Vec<u8>>>("", "refresh_ciphertext")?,
    ) {
        (Some(key_id), Some(nonce), Some(ciphertext)) => Some(EncryptedToken {
            key_id,
            nonce,
            ciphertext,
        }),
        _ => None,
    };
    let status: String = row.try_get("", "status")?;
    Ok(Some(TokenRow {
        version: row.try_get("", "token_version")?,
        needs_reconnect: status == ConnectionStatus::NeedsReconnect.as_str(),
        tokens: StoredTokens {
            access: EncryptedToken {
                key_id: row.try_get("", "access_key_id")?,
                nonce: row.try_get("", "access_nonce")?,
                ciphertext: row.try_get("", "access_ciphertext")?,
            },
            refresh,
            expires_at: row.try_get("", "token_expires_at")?,
        },
    }))
}

/// Runs an update of row `id` (with `conditions`) setting `values`; how many rows changed.
async fn update(
    db: &impl ConnectionTrait,
    table: TokenTable,
    id: Uuid,
    values: Vec<(&'static str, SimpleExpr)>,
    conditions: Condition,
) -> Result<u64, DbError> {
    let mut statement = Query::update();
    statement.table(table.name());
    for (name, value) in values {
        statement.value(col(name), value);
    }
    statement.cond_where(
        Condition::all()
            .add(Expr::col(col("id")).eq(id))
            .add(conditions),
    );
    let result = db
        .execute(StatementBuilder::build(
            &statement,
            &db.get_database_backend(),
        ))
        .await?;
    Ok(result.rows_affected())
}

fn at_version(version: i64) -> Condition {
    Condition::all().add(Expr::col(col("token_version")).eq(version))
}

/// The columns that store `tokens`, bumping the version and dropping any refresh claim.
fn token_values(tokens: StoredTokens, now: DateTime<Utc>) -> Vec<(&'static str, SimpleExpr)> {
    let (refresh_key_id, refresh_nonce, refresh_ciphertext) = match tokens.refresh {
        Some(token) => (
            Some(token.key_id),
            Some(token.nonce),
            Some(token.ciphertext),
        ),
        None => (None, None, None),
    };
    vec![
        ("access_key_id", Expr::value(tokens.access.key_id)),
        ("access_nonce", Expr::value(tokens.access.nonce)),
        ("access_ciphertext", Expr::value(tokens.access.ciphertext)),
        ("refresh_key_id", Expr::value(refresh_key_id)),
        ("refresh_nonce", Expr::value(refresh_nonce)),
        ("refresh_ciphertext", Expr::value(refresh_ciphertext)),
        ("token_expires_at", Expr::value(tokens.expires_at)),
        ("token_version", Expr::col(col("token_version")).add(1)),
        (
            "refresh_claimed_until",
            Expr::value(Option::<DateTime<Utc>>::None),
        ),
        ("updated_at", Expr::value(now)),
    ]
}

/// Replaces the tokens, bumping the version and dropping any refresh claim: only if they are
/// still at `expected_version` when one is given. `false` when someone else changed them
/// first (a refresh won the race) or the row is gone.
pub async fn replace_tokens(
    db: &impl ConnectionTrait,
    table: TokenTable,
    id: Uuid,
    expected_version: Option<i64>,
    tokens: StoredTokens,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let conditions = expected_version.map_or_else(Condition::all, at_version);
    Ok(update(db, table, id, token_values(tokens, now), conditions).await? == 1)
}

/// `owner`'s row for the account `account_id` on `kind` (the platform or store, as stored), if
/// there is one.
pub async fn find_account(
    db: &impl ConnectionTrait,
    table: TokenTable,
    owner: Uuid,
    kind: &str,
    account_id: &str,
) -> Result<Option<Uuid>, DbError> {
    let select = Query::select()
        .column(col("id"))
        .from(table.name())
        .and_where(Expr::col(col("user_id")).eq(owner))
        .and_where(Expr::col(col(table.kind_column())).eq(kind))
        .and_where(Expr::col(col("account_id")).eq(account_id))
        .to_owned();
    let row = db
        .query_one(StatementBuilder::build(&select, &db.get_database_backend()))
        .await?;
    row.map(|row| row.try_get::<Uuid>("", "id").map_err(DbError::from))
        .transpose()
}

/// `owner`'s row `id` connected again, in one statement: `profile` (the account's fresh name
/// and scopes, in the table's columns), active, and `tokens`. `false` when the owner has no
/// such row.
pub async fn reconnect(
    db: &impl ConnectionTrait,
    table: TokenTable,
    owner: Uuid,
    id: Uuid,
    profile: Vec<(&'static str, SimpleExpr)>,
    tokens: StoredTokens,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let mut values = token_values(tokens, now);
    values.extend(profile);
    values.push(("status", Expr::value(ConnectionStatus::Active.as_str())));
    let owned = Condition::all().add(Expr::col(col("user_id")).eq(owner));
    Ok(update(db, table, id, values, owned).await? == 1)
}

/// Takes the right to spend the refresh token of version `version` until `until`: `false` when
/// the tokens changed or another worker holds an unexpired claim.
pub async fn claim_refresh(
    db: &impl ConnectionTrait,
    table: TokenTable,
    id: Uuid,
    version: i64,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, DbError> {
    let unclaimed = Condition::any()
        .add(Expr::col(col("refresh_claimed_until")).is_null())
        .add(Expr::col(col("refresh_claimed_until")).lte(now));
    let updated = update(
        db,
        table,
        id,
        vec![("refresh_claimed_until", Expr::value(until))],
        at_version(version).add(unclaimed),
    )
    .await?;
    Ok(updated == 1)
}

/// Gives up a refresh claim without new tokens (the refresh failed in a retryable way).
pub async fn release_refresh_claim(
    db: &impl ConnectionTrait,
    table: TokenTable,
    id: Uuid,
    version: i64,
) -> Result<(), DbError> {
    update(
        db,
        table,
        id,
        vec![(
            "refresh_claimed_until",
            Expr::value(Option::<DateTime<Utc>>::None),
        )],
        at_version(version),
    )
    .await?;
    Ok(())
}

/// Dates the access token as expired now, if the tokens are still at `version` and a refresh
/// token is there to replace it: the platform refused the access token before its time.
/// `false` when there is no refresh token or the tokens changed meanwhile.
pub async fn expire_access_token(
    db: &impl ConnectionTrait,
    table: TokenTable,
    id: Uuid,
    version: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let updated = update(
        db,
        table,
        id,
        vec![("token_expires_at", Expr::value(now))],
        at_version(version).add(Expr::col(col("refresh_ciphertext")).is_not_null()),
    )
    .await?;
    Ok(updated == 1)
}

/// The platform or store refused the grant for good: the user must reconnect.
pub async fn mark_needs_reconnect(
    db: &impl ConnectionTrait,
    table: TokenTable,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    update(
        db,
        table,
        id,
        vec![
            (
                "status",
                Expr::value(ConnectionStatus::NeedsReconnect.as_str()),
            ),
            (
                "refresh_claimed_until",
                Expr::value(Option::<DateTime<Utc>>::None),
            ),
            ("updated_at", Expr::value(now)),
        ],
        Condition::all(),
    )
    .await?;
    Ok(())
}

/// Up to `limit` row ids after `after`, in id order: a walk over every row (key rotation).
pub async fn ids_after(
    db: &impl ConnectionTrait,
    table: TokenTable,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Uuid>, DbError> {
    let mut select = Query::select();
    select
        .column(col("id"))
        .from(table.name())
        .order_by(col("id"), sea_orm::Order::Asc)
        .limit(limit);
    if let Some(after) = after {
        select.and_where(Expr::col(col("id")).gt(after));
    }
    let rows = db
        .query_all(StatementBuilder::build(&select, &db.get_database_backend()))
        .await?;
    rows.iter()
        .map(|row| row.try_get::<Uuid>("", "id").map_err(DbError::from))
        .collect()
}
