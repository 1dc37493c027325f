//! Queries on `stores`: a person's connected online stores, their sealed tokens (see
//! [`super::token_rows`] for refreshing them) and where each one's product sync stands.
//!
//! A sync run is named by its queue job id, kept in `sync_job_id` while the run waits or works.
//! Every change a run makes is fenced by that id, so a run that lost its job (the store was
//! disconnected, a newer run took over) changes nothing.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, UpdateMany,
};
use uuid::Uuid;

use app::types::{
    ConnectionStatus, ProductState, Store, StoreConnection, StoreId, SyncProgress, UserId,
};

use super::DbError;
use super::entities::{product, store};
use super::token_rows::{self, StoredTokens, TokenTable};

pub use store::Model as StoreRow;

/// What the store told us about the shop.
#[derive(Debug, Clone)]
pub struct NewStore<'a> {
    pub store: Store,
    pub account_id: &'a str,
    pub name: &'a str,
    pub url: Option<&'a str>,
    pub scopes: &'a str,
}

/// What a sync run reads: everything, or what changed since a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunScope {
    Full,
    Changed,
}

impl RunScope {
    fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Changed => "changed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Full, Self::Changed]
            .into_iter()
            .find(|scope| scope.as_str() == raw)
    }
}

fn corrupt(column: &str, id: Uuid) -> DbError {
    DbError::Db(sea_orm::DbErr::Custom(format!(
        "stores.{column} of {id} does not parse"
    )))
}

/// The row as its owner sees it, with `products` cached from it that are not gone.
pub fn connection_of(row: &StoreRow, products: u64) -> Result<StoreConnection, DbError> {
    Ok(StoreConnection {
        id: StoreId(row.id),
        store: Store::parse(&row.store).ok_or_else(|| corrupt("store", row.id))?,
        account_id: row.account_id.clone(),
        name: row.name.clone(),
        url: row.url.clone(),
        status: ConnectionStatus::parse(&row.status).ok_or_else(|| corrupt("status", row.id))?,
        products: u32::try_from(products).unwrap_or(u32::MAX),
        sync: SyncProgress {
            running: row.sync_job_id.is_some(),
            pages_done: u32::try_from(row.sync_pages).unwrap_or(0),
            products_done: u32::try_from(row.sync_products).unwrap_or(0),
            last_synced_at: row.last_synced_at,
            last_error: row.last_error.clone(),
        },
        connected_at: row.created_at,
    })
}

/// Stores a new store connection with the id its tokens were encrypted for.
/// `DbError::Conflict` when the person already connected this shop.
pub async fn insert(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: StoreId,
    new: NewStore<'_>,
    tokens: StoredTokens,
    now: DateTime<Utc>,
) -> Result<StoreConnection, DbError> {
    let (refresh_key_id, refresh_nonce, refresh_ciphertext) = match tokens.refresh {
        Some(token) => (
            Some(token.key_id),
            Some(token.nonce),
            Some(token.ciphertext),
        ),
        None => (None, None, None),
    };
    let row = store::ActiveModel {
        id: Set(id.0),
        user_id: Set(owner.0),
        store: Set(new.store.as_str().to_owned()),
        account_id: Set(new.account_id.to_owned()),
        name: Set(new.name.to_owned()),
        url: Set(new.url.map(str::to_owned)),
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
        sync_job_id: Set(None),
        sync_scope: Set(None),
        sync_since: Set(None),
        sync_cursor: Set(None),
        sync_started_at: Set(None),
        sync_due_at: Set(None),
        sync_pages: Set(0),
        sync_products: Set(0),
        sync_attempts: Set(0),
        last_synced_at: Set(None),
        last_sync_started_at: Set(None),
        last_full_sync_at: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(DbError::from_write)?;
    connection_of(&row, 0)
}

/// The person's connection to this shop, if there is one.
pub async fn find_account(
    db: &impl ConnectionTrait,
    owner: UserId,
    kind: Store,
    account_id: &str,
) -> Result<Option<StoreId>, DbError> {
    let id = token_rows::find_account(db, TokenTable::Stores, owner.0, kind.as_str(), account_id)
        .await?;
    Ok(id.map(StoreId))
}

/// The shop connected again: fresh name and tokens, active.
pub async fn reconnect(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: StoreId,
    new: NewStore<'_>,
    tokens: StoredTokens,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let profile = vec![
        ("name", Expr::value(new.name)),
        ("url", Expr::value(new.url)),
        ("scopes", Expr::value(new.scopes)),
    ];
    token_rows::reconnect(db, TokenTable::Stores, owner.0, id.0, profile, tokens, now).await?;
    Ok(())
}

/// Products of `store` that are not gone.
pub async fn live_products(db: &impl ConnectionTrait, store: Uuid) -> Result<u64, DbError> {
    Ok(product::Entity::find()
        .filter(product::Column::StoreId.eq(store))
        .filter(product::Column::State.ne(ProductState::Gone.as_str()))
        .count(db)
        .await?)
}

/// The person's stores, oldest first.
pub async fn list(
    db: &impl ConnectionTrait,
    owner: UserId,
) -> Result<Vec<StoreConnection>, DbError> {
    let rows = store::Entity::find()
        .filter(store::Column::UserId.eq(owner.0))
        .order_by_asc(store::Column::CreatedAt)
        .all(db)
        .await?;
    let mut stores = Vec::with_capacity(rows.len());
    for row in rows {
        let products = live_products(db, row.id).await?;
        stores.push(connection_of(&row, products)?);
    }
    Ok(stores)
}

/// One of the person's stores.
pub async fn get(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: StoreId,
) -> Result<Option<StoreConnection>, DbError> {
    let Some(row) = store::Entity::find_by_id(id.0)
        .filter(store::Column::UserId.eq(owner.0))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let products = live_products(db, row.id).await?;
    connection_of(&row, products).map(Some)
}

/// A store's row, whoever owns it: for the workers.
pub async fn row(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<StoreRow>, DbError> {
    Ok(store::Entity::find_by_id(id).one(db).await?)
}

/// Forgets one of the person's stores and its products; `false` when there was none.
pub async fn delete(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: StoreId,
) -> Result<bool, DbError> {
    let deleted = store::Entity::delete_many()
        .filter(store::Column::Id.eq(id.0))
        .filter(store::Column::UserId.eq(owner.0))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected == 1)
}

/// Queues a sync run named `job`, due at `due`, unless one is already waiting or running:
/// `false` then.
pub async fn queue_sync(
    db: &impl ConnectionTrait,
    id: Uuid,
    job: Uuid,
    scope: RunScope,
    since: Option<DateTime<Utc>>,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let updated = store::Entity::update_many()
        .col_expr(store::Column::SyncJobId, Expr::value(job))
        .col_expr(store::Column::SyncScope, Expr::value(scope.as_str()))
        .col_expr(store::Column::SyncSince, Expr::value(since))
        .col_expr(
            store::Column::SyncCursor,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            store::Column::SyncStartedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(store::Column::SyncDueAt, Expr::value(due))
        .col_expr(store::Column::SyncPages, Expr::value(0))
        .col_expr(store::Column::SyncProducts, Expr::value(0))
        .col_expr(store::Column::SyncAttempts, Expr::value(0))
        .col_expr(store::Column::UpdatedAt, Expr::value(now))
        .filter(store::Column::Id.eq(id))
        .filter(store::Column::SyncJobId.is_null())
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// The store whose sync run is `job`, if that run still waits or works.
pub async fn run_of_job(db: &impl ConnectionTrait, job: Uuid) -> Result<Option<StoreRow>, DbError> {
    Ok(store::Entity::find()
        .filter(store::Column::SyncJobId.eq(job))
        .one(db)
        .await?)
}

/// Sync runs due by `until`, as (job, due): the sweep puts back any the queue lost.
pub async fn runs_due_by(
    db: &impl ConnectionTrait,
    until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<(Uuid, DateTime<Utc>)>, DbError> {
    let rows: Vec<(Option<Uuid>, Option<DateTime<Utc>>)> = store::Entity::find()
        .select_only()
        .column(store::Column::SyncJobId)
        .column(store::Column::SyncDueAt)
        .filter(store::Column::SyncJobId.is_not_null())
        .filter(store::Column::SyncDueAt.lte(until))
        .order_by_asc(store::Column::SyncDueAt)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(job, due)| Some((job?, due?)))
        .collect())
}

/// Active stores with no run queued whose last sync started before `before` (or never
/// synced): the ones the automatic sync is due for.
pub async fn due_for_automatic_sync(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<StoreRow>, DbError> {
    Ok(store::Entity::find()
        .filter(store::Column::SyncJobId.is_null())
        .filter(store::Column::Status.eq(ConnectionStatus::Active.as_str()))
        .filter(
            sea_orm::Condition::any()
                .add(store::Column::LastSyncStartedAt.is_null())
                .add(store::Column::LastSyncStartedAt.lt(before)),
        )
        .order_by_asc(store::Column::LastSyncStartedAt)
        .limit(limit)
        .all(db)
        .await?)
}

/// Writes `update` to store `id` if run `job` still owns it: a run that was replaced meanwhile
/// (a full resync asked for, the store disconnected) writes nothing. True when it wrote.
async fn update_run(
    db: &impl ConnectionTrait,
    id: Uuid,
    job: Uuid,
    update: UpdateMany<store::Entity>,
) -> Result<bool, DbError> {
    let updated = update
        .filter(store::Column::Id.eq(id))
        .filter(store::Column::SyncJobId.eq(job))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// The run is over, one way or the other: the store owns no run, and the next one starts from
/// the first page. `started` is when the run began.
fn run_ended(started: DateTime<Utc>, now: DateTime<Utc>) -> UpdateMany<store::Entity> {
    store::Entity::update_many()
        .col_expr(store::Column::SyncJobId, Expr::value(Option::<Uuid>::None))
        .col_expr(
            store::Column::SyncCursor,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            store::Column::SyncDueAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(store::Column::LastSyncStartedAt, Expr::value(started))
        .col_expr(store::Column::UpdatedAt, Expr::value(now))
}

/// The run `job` starts (or resumes) an attempt: counted, and dated when it is the first.
pub async fn run_attempt(
    db: &impl ConnectionTrait,
    id: Uuid,
    job: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let update = store::Entity::update_many()
        .col_expr(
            store::Column::SyncAttempts,
            Expr::col(store::Column::SyncAttempts).add(1),
        )
        .col_expr(
            store::Column::SyncStartedAt,
            Expr::expr(Func::coalesce([
                Expr::col(store::Column::SyncStartedAt).into(),
                Expr::value(now),
            ]))
            .into(),
        );
    update_run(db, id, job, update).await
}

/// A page of run `job` is stored: the run resumes from `next` from now on.
pub async fn page_done(
    db: &impl ConnectionTrait,
    id: Uuid,
    job: Uuid,
    next: Option<&str>,
    products: u32,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let update = store::Entity::update_many()
        .col_expr(store::Column::SyncCursor, Expr::value(next))
        .col_expr(
            store::Column::SyncPages,
            Expr::col(store::Column::SyncPages).add(1),
        )
        .col_expr(
            store::Column::SyncProducts,
            Expr::col(store::Column::SyncProducts).add(i32::try_from(products).unwrap_or(i32::MAX)),
        )
        .col_expr(store::Column::UpdatedAt, Expr::value(now));
    update_run(db, id, job, update).await
}

/// Run `job` read every page: the store is synced as of `started` (what the next
/// incremental run reads changes since).
pub async fn run_finished(
    db: &impl ConnectionTrait,
    id: Uuid,
    job: Uuid,
    scope: RunScope,
    started: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let mut update = run_ended(started, now)
        .col_expr(store::Column::LastSyncedAt, Expr::value(now))
        .col_expr(
            store::Column::LastError,
            Expr::value(Option::<String>::None),
        );
    if scope == RunScope::Full {
        update = update.col_expr(store::Column::LastFullSyncAt, Expr::value(started));
    }
    update_run(db, id, job, update).await
}

/// Run `job` stopped for good with `error`; the next run starts over. `started` counts as a
/// sync start, so the automatic sync waits a whole interval before trying again.
pub async fn run_failed(
    db: &impl ConnectionTrait,
    id: Uuid,
    job: Uuid,
    error: &str,
    started: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let update = run_ended(started, now).col_expr(store::Column::LastError, Expr::value(error));
    update_run(db, id, job, update).await
}

/// Run `job` waits until `due` (a rate limit, a store outage), keeping its place.
pub async fn run_waits(
    db: &impl ConnectionTrait,
    id: Uuid,
    job: Uuid,
    due: DateTime<Utc>,
    why: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let update = store::Entity::update_many()
        .col_expr(store::Column::SyncDueAt, Expr::value(due))
        .col_expr(store::Column::LastError, Expr::value(why))
        .col_expr(store::Column::UpdatedAt, Expr::value(now));
    update_run(db, id, job, update).await
}
