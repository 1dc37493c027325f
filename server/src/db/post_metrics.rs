//! Queries on post metrics: the published targets whose numbers may be read, when each was read
//! last, one row per reading, the latest reading of each of an owner's targets, and the
//! per-account claims and pauses that keep collection from reading an account twice at once or
//! before its platform allows. The collection job's queries span owners (it reads every
//! account); the Analytics page's take the owner first.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Condition, Expr, OnConflict, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, QueryFilter, QueryOrder,
    QuerySelect, RelationTrait, Set, StatementBuilder,
};
use uuid::Uuid;

use app::types::{
    ConnectionStatus, MetricSnapshot, Platform, PostId, TargetId, TargetStatus, UserId,
};

use super::DbError;
use super::entities::{connection, post, post_metric, post_target};

/// The claims table: no entity of its own, as only these queries touch it.
const ACCOUNTS: &str = "post_metric_accounts";

fn col(name: &'static str) -> Alias {
    Alias::new(name)
}

/// A published target the job may read the numbers of, with its account.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct CollectTarget {
    pub target_id: Uuid,
    pub user_id: Uuid,
    pub connection_id: Uuid,
    pub platform: String,
    /// The account's id on the platform.
    pub account_id: String,
    pub external_id: String,
    pub published_at: DateTime<Utc>,
}

/// Published targets of active accounts, published at `since` or later, ordered by id from
/// after `after`, at most `limit`: the candidates of a collection round, a page at a time.
pub async fn published_since(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<CollectTarget>, DbError> {
    let mut query = post_target::Entity::find()
        .select_only()
        .column_as(post_target::Column::Id, "target_id")
        .column(post_target::Column::UserId)
        .column(post_target::Column::ConnectionId)
        .column(post_target::Column::Platform)
        .column(connection::Column::AccountId)
        .column(post_target::Column::ExternalId)
        .column(post_target::Column::PublishedAt)
        .join(JoinType::InnerJoin, post_target::Relation::Connection.def())
        .filter(post_target::Column::Status.eq(TargetStatus::Published.as_str()))
        .filter(post_target::Column::ExternalId.is_not_null())
        .filter(post_target::Column::PublishedAt.gte(since))
        .filter(connection::Column::Status.eq(ConnectionStatus::Active.as_str()))
        .order_by_asc(post_target::Column::Id)
        .limit(limit);
    if let Some(after) = after {
        query = query.filter(post_target::Column::Id.gt(after));
    }
    Ok(query.into_model::<CollectTarget>().all(db).await?)
}

/// When each of `targets` was last read; targets never read are absent.
pub async fn last_read(
    db: &impl ConnectionTrait,
    targets: &[Uuid],
) -> Result<HashMap<Uuid, DateTime<Utc>>, DbError> {
    if targets.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, Option<DateTime<Utc>>)> = post_metric::Entity::find()
        .select_only()
        .column(post_metric::Column::TargetId)
        .column_as(
            Expr::col((post_metric::Entity, post_metric::Column::FetchedAt)).max(),
            "last_read",
        )
        .filter(post_metric::Column::TargetId.is_in(targets.iter().copied()))
        .group_by(post_metric::Column::TargetId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(target, at)| Some((target, at?)))
        .collect())
}

/// One reading to store: whose target it is, and what was read.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReading {
    pub owner: UserId,
    pub snapshot: MetricSnapshot,
}

/// Stores readings, one row each: the history the page draws from.
pub async fn insert_readings(
    db: &impl ConnectionTrait,
    readings: &[NewReading],
) -> Result<(), DbError> {
    if readings.is_empty() {
        return Ok(());
    }
    let rows = readings.iter().map(|reading| {
        let snapshot = &reading.snapshot;
        post_metric::ActiveModel {
            id: Set(Uuid::new_v4()),
            target_id: Set(snapshot.target_id.0),
            user_id: Set(reading.owner.0),
            platform: Set(snapshot.platform.as_str().to_owned()),
            fetched_at: Set(snapshot.fetched_at),
            impressions: Set(snapshot.impressions),
            likes: Set(snapshot.likes),
            replies: Set(snapshot.replies),
            reposts: Set(snapshot.reposts),
            link_clicks: Set(snapshot.link_clicks),
        }
    });
    post_metric::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Every reading of one of `owner`'s targets, oldest first.
pub async fn readings_of(
    db: &impl ConnectionTrait,
    owner: UserId,
    target: TargetId,
) -> Result<Vec<MetricSnapshot>, DbError> {
    let rows = post_metric::Entity::find()
        .filter(post_metric::Column::UserId.eq(owner.0))
        .filter(post_metric::Column::TargetId.eq(target.0))
        .order_by_asc(post_metric::Column::FetchedAt)
        .all(db)
        .await?;
    rows.into_iter().map(snapshot_of).collect()
}

/// The latest reading of each of `owner`'s targets that was read at `since` or later (a target
/// published at `since` or later can only have been read since).
pub async fn latest_readings(
    db: &impl ConnectionTrait,
    owner: UserId,
    since: DateTime<Utc>,
) -> Result<Vec<MetricSnapshot>, DbError> {
    let other = Alias::new("other");
    let latest_of_target = Query::select()
        .expr(Expr::col((other.clone(), post_metric::Column::FetchedAt)).max())
        .from_as(post_metric::Entity, other.clone())
        .and_where(
            Expr::col((other, post_metric::Column::TargetId))
                .equals((post_metric::Entity, post_metric::Column::TargetId)),
        )
        .to_owned();
    let rows = post_metric::Entity::find()
        .filter(post_metric::Column::UserId.eq(owner.0))
        .filter(post_metric::Column::FetchedAt.gte(since))
        .filter(post_metric::Column::FetchedAt.in_subquery(latest_of_target))
        .all(db)
        .await?;
    rows.into_iter().map(snapshot_of).collect()
}

fn snapshot_of(row: post_metric::Model) -> Result<MetricSnapshot, DbError> {
    let platform = Platform::parse(&row.platform).ok_or_else(|| {
        DbError::Db(sea_orm::DbErr::Custom(format!(
            "post_metrics.platform of {} does not parse",
            row.id
        )))
    })?;
    Ok(MetricSnapshot {
        target_id: TargetId(row.target_id),
        platform,
        fetched_at: row.fetched_at,
        impressions: row.impressions,
        likes: row.likes,
        replies: row.replies,
        reposts: row.reposts,
        link_clicks: row.link_clicks,
    })
}

/// One of the owner's targets published in a range, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedTarget {
    pub target_id: TargetId,
    pub post_id: PostId,
    pub platform: Platform,
    pub account_handle: String,
    /// The text as posted there: the target's own, or the post's.
    pub text: String,
    pub url: Option<String>,
    pub published_at: DateTime<Utc>,
}

/// `owner`'s targets published from `from` to `until`, oldest first.
pub async fn published_between(
    db: &impl ConnectionTrait,
    owner: UserId,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<PublishedTarget>, DbError> {
    let rows = post_target::Entity::find()
        .filter(post_target::Column::UserId.eq(owner.0))
        .filter(post_target::Column::Status.eq(TargetStatus::Published.as_str()))
        .filter(post_target::Column::PublishedAt.gte(from))
        .filter(post_target::Column::PublishedAt.lte(until))
        .order_by_asc(post_target::Column::PublishedAt)
        .find_also_related(post::Entity)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(target, post)| {
            // A target whose platform this build no longer knows has nothing to show.
            let platform = Platform::parse(&target.platform)?;
            let text = target
                .text
                .or_else(|| post.map(|post| post.text))
                .unwrap_or_default();
            Some(PublishedTarget {
                target_id: TargetId(target.id),
                post_id: PostId(target.post_id),
                platform,
                account_handle: target.account_handle,
                text,
                url: target.url,
                published_at: target.published_at?,
            })
        })
        .collect())
}

/// Accounts that may not be read at `now`: another process holds them, or their platform asked
/// to wait (or refused) until later.
pub async fn waiting_accounts(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<HashSet<Uuid>, DbError> {
    let select = Query::select()
        .column(col("connection_id"))
        .from(col(ACCOUNTS))
        .cond_where(
            Condition::any()
                .add(Expr::col(col("busy_until")).gt(now))
                .add(Expr::col(col("resume_at")).gt(now)),
        )
        .to_owned();
    let rows = db
        .query_all(StatementBuilder::build(&select, &db.get_database_backend()))
        .await?;
    rows.iter()
        .map(|row| {
            row.try_get::<Uuid>("", "connection_id")
                .map_err(DbError::from)
        })
        .collect()
}

/// Takes the account `connection` for reading until `until`: `false` when another process
/// holds it or its pause has not run out. Compare-and-set, so two processes cannot both read.
pub async fn claim_account(
    db: &impl ConnectionTrait,
    connection: Uuid,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, DbError> {
    let backend = db.get_database_backend();
    let first_sight = Query::insert()
        .into_table(col(ACCOUNTS))
        .columns([col("connection_id"), col("updated_at")])
        .values_panic([Expr::value(connection), Expr::value(now)])
        .on_conflict(
            OnConflict::column(col("connection_id"))
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    db.execute(StatementBuilder::build(&first_sight, &backend))
        .await?;
    let free = |name: &'static str| {
        Condition::any()
            .add(Expr::col(col(name)).is_null())
            .add(Expr::col(col(name)).lte(now))
    };
    let claim = Query::update()
        .table(col(ACCOUNTS))
        .values([
            (col("busy_until"), Expr::value(until)),
            (col("updated_at"), Expr::value(now)),
        ])
        .cond_where(
            Condition::all()
                .add(Expr::col(col("connection_id")).eq(connection))
                .add(free("busy_until"))
                .add(free("resume_at")),
        )
        .to_owned();
    let claimed = db
        .execute(StatementBuilder::build(&claim, &backend))
        .await?;
    Ok(claimed.rows_affected() == 1)
}

/// Gives the account back after reading it: readable again at once (`resume_at` `None`), or
/// from `resume_at`, with `reason` saying why it waits.
pub async fn release_account(
    db: &impl ConnectionTrait,
    connection: Uuid,
    resume_at: Option<DateTime<Utc>>,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let values: [(Alias, SimpleExpr); 4] = [
        (
            col("busy_until"),
            Expr::value(Option::<DateTime<Utc>>::None),
        ),
        (col("resume_at"), Expr::value(resume_at)),
        (col("reason"), Expr::value(reason.map(str::to_owned))),
        (col("updated_at"), Expr::value(now)),
    ];
    let release = Query::update()
        .table(col(ACCOUNTS))
        .values(values)
        .and_where(Expr::col(col("connection_id")).eq(connection))
        .to_owned();
    db.execute(StatementBuilder::build(
        &release,
        &db.get_database_backend(),
    ))
    .await?;
    Ok(())
}

/// When the account `connection` may be read again, and why it waits, if it does.
pub async fn account_pause(
    db: &impl ConnectionTrait,
    connection: Uuid,
) -> Result<Option<(DateTime<Utc>, Option<String>)>, DbError> {
    let select = Query::select()
        .columns([col("resume_at"), col("reason")])
        .from(col(ACCOUNTS))
        .and_where(Expr::col(col("connection_id")).eq(connection))
        .to_owned();
    let Some(row) = db
        .query_one(StatementBuilder::build(&select, &db.get_database_backend()))
        .await?
    else {
        return Ok(None);
    };
    let resume_at: Option<DateTime<Utc>> = row.try_get("", "resume_at")?;
    let reason: Option<String> = row.try_get("", "reason")?;
    Ok(resume_at.map(|at| (at, reason)))
}
