//! Queries on posts, their targets, jobs and job logs. Requests go through the `owner`-scoped
//! functions; the worker's functions take a target or job id alone and are fenced by the lease
//! token instead: every write of an attempt's result says `WHERE lease_token = <mine>`, so a
//! worker whose lease expired cannot overwrite a newer attempt.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait, Set,
};
use uuid::Uuid;

use app::types::{
    ConnectionId, LogLevel, LogLine, MediaId, MediaItem, Platform, Post, PostId, PostQuery,
    ProductId, Target, TargetId, TargetOptions, TargetStatus, UserId,
};

use super::DbError;
use super::entities::{idempotency_key, job, job_log, post, post_media, post_target};
use super::media::{self as media_rows, MediaRow};

pub use post_target::Model as TargetRow;

/// Job states: `pending` jobs are due work (the sweep keeps them in the queue), `parked` ones
/// wait for the user (a reconnect, a retry), `done` ones are over.
pub const JOB_PENDING: &str = "pending";
pub const JOB_PARKED: &str = "parked";
pub const JOB_DONE: &str = "done";

fn corrupt(what: &str, id: Uuid) -> DbError {
    DbError::Db(sea_orm::DbErr::Custom(format!(
        "{what} of {id} does not parse"
    )))
}

/// The product a post is made from: which, its price when the post was written, and whether
/// the worker checks it before publishing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostProduct {
    pub id: Option<Uuid>,
    pub price_minor: Option<i64>,
    pub check: bool,
}

impl PostProduct {
    /// A post not made from a product.
    pub const NONE: Self = Self {
        id: None,
        price_minor: None,
        check: true,
    };

    pub fn of(row: &post::Model) -> Self {
        Self {
            id: row.product_id,
            price_minor: row.product_price_minor,
            check: row.product_check,
        }
    }
}

pub async fn insert_post(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: PostId,
    text: &str,
    scheduled_at: Option<DateTime<Utc>>,
    product: PostProduct,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    post::ActiveModel {
        id: Set(id.0),
        user_id: Set(owner.0),
        text: Set(text.to_owned()),
        scheduled_at: Set(scheduled_at),
        product_id: Set(product.id),
        product_price_minor: Set(product.price_minor),
        product_check: Set(product.check),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn insert_media_links(
    db: &impl ConnectionTrait,
    post: PostId,
    media: &[MediaId],
) -> Result<(), DbError> {
    for (position, id) in media.iter().enumerate() {
        post_media::ActiveModel {
            post_id: Set(post.0),
            media_id: Set(id.0),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// A target as it is first written.
pub struct NewTargetRow<'a> {
    pub id: TargetId,
    pub post: PostId,
    pub connection: ConnectionId,
    pub platform: Platform,
    pub account_handle: &'a str,
    pub text: Option<&'a str>,
    pub options: &'a TargetOptions,
    pub status: TargetStatus,
    pub due_at: Option<DateTime<Utc>>,
    pub error: Option<&'a str>,
    /// Its place among the post's targets.
    pub position: usize,
}

pub async fn insert_target(
    db: &impl ConnectionTrait,
    owner: UserId,
    new: NewTargetRow<'_>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    post_target::ActiveModel {
        id: Set(new.id.0),
        post_id: Set(new.post.0),
        user_id: Set(owner.0),
        connection_id: Set(Some(new.connection.0)),
        platform: Set(new.platform.as_str().to_owned()),
        account_handle: Set(new.account_handle.to_owned()),
        text: Set(new.text.map(str::to_owned)),
        status: Set(new.status.as_str().to_owned()),
        external_id: Set(None),
        url: Set(None),
        error: Set(new.error.map(str::to_owned)),
        attempts: Set(0),
        due_at: Set(new.due_at),
        next_attempt_at: Set(None),
        sent_at: Set(None),
        lease_token: Set(None),
        lease_expires_at: Set(None),
        published_at: Set(None),
        position: Set(i32::try_from(new.position).unwrap_or(i32::MAX)),
        progress: Set(None),
        options: Set((!new.options.is_empty())
            .then(|| serde_json::to_string(new.options).expect("options serialise"))),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The job that drives a target: one per target, created with it.
pub async fn upsert_job(
    db: &impl ConnectionTrait,
    target: TargetId,
    due: DateTime<Utc>,
    state: &str,
    now: DateTime<Utc>,
) -> Result<Uuid, DbError> {
    let existing = job::Entity::find()
        .filter(job::Column::TargetId.eq(target.0))
        .one(db)
        .await?;
    if let Some(existing) = existing {
        set_job(db, existing.id, due, state, now).await?;
        return Ok(existing.id);
    }
    let id = Uuid::new_v4();
    job::ActiveModel {
        id: Set(id),
        target_id: Set(target.0),
        due_at: Set(due),
        state: Set(state.to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(id)
}

pub async fn set_job(
    db: &impl ConnectionTrait,
    job: Uuid,
    due: DateTime<Utc>,
    state: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    job::Entity::update_many()
        .col_expr(job::Column::DueAt, Expr::value(due))
        .col_expr(job::Column::State, Expr::value(state))
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::Id.eq(job))
        .exec(db)
        .await?;
    Ok(())
}

/// Moves the jobs of these targets to `state` (keeping their due time).
pub async fn set_jobs_state_for(
    db: &impl ConnectionTrait,
    targets: &[Uuid],
    state: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    if targets.is_empty() {
        return Ok(());
    }
    job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value(state))
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::TargetId.is_in(targets.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn job_of_target(
    db: &impl ConnectionTrait,
    target: TargetId,
) -> Result<Option<job::Model>, DbError> {
    Ok(job::Entity::find()
        .filter(job::Column::TargetId.eq(target.0))
        .one(db)
        .await?)
}

/// Pending jobs due by `until`, earliest first: what the sweep makes sure the queue holds.
pub async fn pending_jobs_due_by(
    db: &impl ConnectionTrait,
    until: DateTime<Utc>,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<(Uuid, DateTime<Utc>)>, DbError> {
    let mut query = job::Entity::find()
        .select_only()
        .column(job::Column::Id)
        .column(job::Column::DueAt)
        .filter(job::Column::State.eq(JOB_PENDING))
        .filter(job::Column::DueAt.lte(until))
        .order_by_asc(job::Column::Id)
        .limit(limit);
    if let Some(after) = after {
        query = query.filter(job::Column::Id.gt(after));
    }
    Ok(query.into_tuple().all(db).await?)
}

/// How many targets are in each status (statuses with none are absent), for `/metrics`.
pub async fn target_counts(db: &impl ConnectionTrait) -> Result<Vec<(String, i64)>, DbError> {
    Ok(post_target::Entity::find()
        .select_only()
        .column(post_target::Column::Status)
        .column_as(
            Expr::col((post_target::Entity, post_target::Column::Id)).count(),
            "count",
        )
        .group_by(post_target::Column::Status)
        .into_tuple()
        .all(db)
        .await?)
}

/// When the longest-waiting due job fell due: pending, due by `now`, and not being worked on
/// (its target is scheduled or retrying, not publishing). `owner` narrows it to one user's.
pub async fn oldest_waiting_due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    owner: Option<UserId>,
) -> Result<Option<DateTime<Utc>>, DbError> {
    let mut query = job::Entity::find()
        .select_only()
        .column_as(Expr::col((job::Entity, job::Column::DueAt)).min(), "oldest")
        .join(JoinType::InnerJoin, job::Relation::PostTarget.def())
        .filter(job::Column::State.eq(JOB_PENDING))
        .filter(job::Column::DueAt.lte(now))
        .filter(post_target::Column::Status.is_in([
            TargetStatus::Scheduled.as_str(),
            TargetStatus::Retrying.as_str(),
            TargetStatus::Processing.as_str(),
        ]));
    if let Some(owner) = owner {
        query = query.filter(post_target::Column::UserId.eq(owner.0));
    }
    Ok(query
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(db)
        .await?
        .flatten())
}

/// Appends one line to a post's job log.
pub async fn log(
    db: &impl ConnectionTrait,
    post: PostId,
    target: Option<TargetId>,
    level: LogLevel,
    message: &str,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    log_lines(db, post, target, [(level, message)], at).await
}

/// The target of job `job` and its post, if the job is still pending: what a worker reads
/// first, in one query. `None` when the job is done, parked or deleted; the post is `None`
/// only if it was deleted between the two tables' reads (its targets go with it).
pub async fn pending_target(
    db: &impl ConnectionTrait,
    job: Uuid,
) -> Result<Option<(TargetRow, Option<post::Model>)>, DbError> {
    let pending = Query::select()
        .column(job::Column::TargetId)
        .from(job::Entity)
        .and_where(job::Column::Id.eq(job))
        .and_where(job::Column::State.eq(JOB_PENDING))
        .to_owned();
    Ok(post_target::Entity::find()
        .filter(post_target::Column::Id.in_subquery(pending))
        .find_also_related(post::Entity)
        .one(db)
        .await?)
}

/// Appends `lines` to a post's job log in one statement, in their order.
pub async fn log_lines(
    db: &impl ConnectionTrait,
    post: PostId,
    target: Option<TargetId>,
    lines: impl IntoIterator<Item = (LogLevel, &str)>,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    let rows: Vec<job_log::ActiveModel> = lines
        .into_iter()
        .map(|(level, message)| job_log::ActiveModel {
            id: Set(Uuid::new_v4()),
            post_id: Set(post.0),
            target_id: Set(target.map(|target| target.0)),
            at: Set(at),
            level: Set(level.as_str().to_owned()),
            message: Set(message.to_owned()),
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    job_log::Entity::insert_many(rows).exec(db).await?;
    Ok(())
}

pub async fn post_row(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<post::Model>, DbError> {
    Ok(post::Entity::find_by_id(id).one(db).await?)
}

/// What [`begin_attempt`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Begin {
    /// The target is `publishing` under this lease, until `until` unless renewed.
    Started,
    /// Another attempt holds the target until this time (its queue lease may have been lost
    /// with the queue, but it is still running): not to be touched before then.
    HeldUntil(DateTime<Utc>),
    /// Not due before this time (the post was moved later after its job was queued): the
    /// job waits until then.
    NotYet(DateTime<Utc>),
    /// Nothing to do: published, failed, cancelled or deleted meanwhile.
    Gone,
}

/// Starts an attempt: a target that is due (`scheduled`, `retrying`), or whose last attempt's
/// lease ran out (`publishing`, its worker gone), becomes `publishing` under `lease` until
/// `until`. Compare-and-set, so two workers cannot both start.
pub async fn begin_attempt(
    db: &impl ConnectionTrait,
    target: Uuid,
    lease: Uuid,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Begin, DbError> {
    let due = [TargetStatus::Retrying, TargetStatus::Processing].map(TargetStatus::as_str);
    // A scheduled target starts at its time and not before, whatever the queue says: a job
    // taken at its old time while the post was being moved later must not go out early.
    let scheduled_and_due = Condition::all()
        .add(post_target::Column::Status.eq(TargetStatus::Scheduled.as_str()))
        .add(
            Condition::any()
                .add(post_target::Column::DueAt.is_null())
                .add(post_target::Column::DueAt.lte(now)),
        );
    let abandoned = Condition::all()
        .add(post_target::Column::Status.eq(TargetStatus::Publishing.as_str()))
        .add(
            Condition::any()
                .add(post_target::Column::LeaseExpiresAt.is_null())
                .add(post_target::Column::LeaseExpiresAt.lte(now)),
        );
    let updated = post_target::Entity::update_many()
        .col_expr(
            post_target::Column::Status,
            Expr::value(TargetStatus::Publishing.as_str()),
        )
        .col_expr(post_target::Column::LeaseToken, Expr::value(lease))
        .col_expr(post_target::Column::LeaseExpiresAt, Expr::value(until))
        // Checking on a platform's processing is not a new attempt.
        .col_expr(
            post_target::Column::Attempts,
            Expr::case(
                post_target::Column::Status.eq(TargetStatus::Processing.as_str()),
                Expr::col(post_target::Column::Attempts),
            )
            .finally(Expr::col(post_target::Column::Attempts).add(1))
            .into(),
        )
        .col_expr(
            post_target::Column::NextAttemptAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(post_target::Column::UpdatedAt, Expr::value(now))
        .filter(post_target::Column::Id.eq(target))
        .filter(
            Condition::any()
                .add(post_target::Column::Status.is_in(due))
                .add(scheduled_and_due)
                .add(abandoned),
        )
        .exec(db)
        .await?;
    if updated.rows_affected == 1 {
        return Ok(Begin::Started);
    }
    let Some(row) = post_target::Entity::find_by_id(target).one(db).await? else {
        return Ok(Begin::Gone);
    };
    if row.status == TargetStatus::Scheduled.as_str()
        && let Some(due) = row.due_at.filter(|due| *due > now)
    {
        return Ok(Begin::NotYet(due));
    }
    let held = Some(row)
        .filter(|row| row.status == TargetStatus::Publishing.as_str())
        .and_then(|row| row.lease_expires_at)
        .filter(|expires| *expires > now);
    Ok(held.map_or(Begin::Gone, Begin::HeldUntil))
}

/// A heartbeat of the attempt holding `lease`: its lease now runs until `until`. `false` when
/// the lease no longer holds the target.
pub async fn extend_lease(
    db: &impl ConnectionTrait,
    target: Uuid,
    lease: Uuid,
    until: DateTime<Utc>,
) -> Result<bool, DbError> {
    let updated = post_target::Entity::update_many()
        .col_expr(post_target::Column::LeaseExpiresAt, Expr::value(until))
        .filter(post_target::Column::Id.eq(target))
        .filter(post_target::Column::LeaseToken.eq(lease))
        .filter(post_target::Column::Status.eq(TargetStatus::Publishing.as_str()))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Records that the irreversible call is about to be made (or, with `None`, that the last one
/// surely did not take effect). Fenced.
pub async fn set_sent(
    db: &impl ConnectionTrait,
    target: Uuid,
    lease: Uuid,
    sent_at: Option<DateTime<Utc>>,
) -> Result<bool, DbError> {
    let updated = post_target::Entity::update_many()
        .col_expr(post_target::Column::SentAt, Expr::value(sent_at))
        .filter(post_target::Column::Id.eq(target))
        .filter(post_target::Column::LeaseToken.eq(lease))
        .filter(post_target::Column::Status.eq(TargetStatus::Publishing.as_str()))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Saves what the attempt holding `lease` has learnt so far (see `post_target::Model::progress`),
/// before it goes on. Fenced: `false` when a newer attempt owns the target.
pub async fn save_progress(
    db: &impl ConnectionTrait,
    target: Uuid,
    lease: Uuid,
    progress: &serde_json::Value,
) -> Result<bool, DbError> {
    let updated = post_target::Entity::update_many()
        .col_expr(
            post_target::Column::Progress,
            Expr::value(progress.to_string()),
        )
        .filter(post_target::Column::Id.eq(target))
        .filter(post_target::Column::LeaseToken.eq(lease))
        .filter(post_target::Column::Status.eq(TargetStatus::Publishing.as_str()))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// How an attempt ended, as written to the target.
pub struct AttemptEnd<'a> {
    pub status: TargetStatus,
    pub external_id: Option<&'a str>,
    pub url: Option<&'a str>,
    pub error: Option<&'a str>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Whether the post may exist on the platform (kept for the next attempt to reconcile).
    pub keep_sent: bool,
}

/// Writes an attempt's result if this lease still owns the target. `false` when a newer
/// attempt took over (the caller's result is stale and must be dropped).
pub async fn end_attempt(
    db: &impl ConnectionTrait,
    target: Uuid,
    lease: Uuid,
    end: AttemptEnd<'_>,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let mut update = post_target::Entity::update_many()
        .col_expr(
            post_target::Column::Status,
            Expr::value(end.status.as_str()),
        )
        .col_expr(post_target::Column::Error, Expr::value(end.error))
        .col_expr(
            post_target::Column::NextAttemptAt,
            Expr::value(end.next_attempt_at),
        )
        .col_expr(
            post_target::Column::LeaseExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(post_target::Column::UpdatedAt, Expr::value(now));
    if let Some(external_id) = end.external_id {
        update = update
            .col_expr(post_target::Column::ExternalId, Expr::value(external_id))
            .col_expr(post_target::Column::Url, Expr::value(end.url))
            .col_expr(post_target::Column::PublishedAt, Expr::value(now));
    }
    if !end.keep_sent {
        update = update.col_expr(
            post_target::Column::SentAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        );
    }
    let updated = update
        .filter(post_target::Column::Id.eq(target))
        .filter(post_target::Column::LeaseToken.eq(lease))
        .filter(post_target::Column::Status.eq(TargetStatus::Publishing.as_str()))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Moves targets from one of `from` to `to` (compare-and-set on the status), optionally
/// setting the due time and the reason shown. Returns the ids moved.
pub async fn move_targets(
    db: &impl ConnectionTrait,
    filter: Condition,
    from: &[TargetStatus],
    to: TargetStatus,
    due_at: Option<DateTime<Utc>>,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, DbError> {
    debug_assert!(from.iter().all(|status| status.can_become(to)));
    let from: Vec<&str> = from.iter().map(|status| status.as_str()).collect();
    let candidates: Vec<Uuid> = post_target::Entity::find()
        .select_only()
        .column(post_target::Column::Id)
        .filter(filter)
        .filter(post_target::Column::Status.is_in(from.clone()))
        .into_tuple()
        .all(db)
        .await?;
    let mut moved = Vec::with_capacity(candidates.len());
    for id in candidates {
        let mut update = post_target::Entity::update_many()
            .col_expr(post_target::Column::Status, Expr::value(to.as_str()))
            .col_expr(post_target::Column::Error, Expr::value(reason))
            .col_expr(
                post_target::Column::NextAttemptAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(post_target::Column::UpdatedAt, Expr::value(now));
        if let Some(due_at) = due_at {
            update = update.col_expr(post_target::Column::DueAt, Expr::value(due_at));
        }
        let updated = update
            .filter(post_target::Column::Id.eq(id))
            .filter(post_target::Column::Status.is_in(from.clone()))
            .exec(db)
            .await?;
        if updated.rows_affected == 1 {
            moved.push(id);
        }
    }
    Ok(moved)
}

/// The statuses a post may be moved to another time in: nothing of it has gone out or started.
pub const MOVABLE: [TargetStatus; 3] = [
    TargetStatus::Scheduled,
    TargetStatus::WaitingReconnect,
    TargetStatus::Held,
];

/// Moves a post to `at`: the post, its targets still in a [`MOVABLE`] status, and their jobs.
/// Returns the targets moved and the pending jobs to queue at the new time. Compare-and-set on
/// the status, so a target a worker started meanwhile is not moved (the caller compares the
/// count with what it saw).
pub async fn reschedule(
    db: &impl ConnectionTrait,
    post: PostId,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(u64, Vec<Uuid>), DbError> {
    let movable = MOVABLE.map(TargetStatus::as_str);
    post::Entity::update_many()
        .col_expr(post::Column::ScheduledAt, Expr::value(at))
        .col_expr(post::Column::UpdatedAt, Expr::value(now))
        .filter(post::Column::Id.eq(post.0))
        .exec(db)
        .await?;
    let moved = post_target::Entity::update_many()
        .col_expr(post_target::Column::DueAt, Expr::value(at))
        .col_expr(post_target::Column::UpdatedAt, Expr::value(now))
        .filter(post_target::Column::PostId.eq(post.0))
        .filter(post_target::Column::Status.is_in(movable))
        .exec(db)
        .await?
        .rows_affected;
    let targets = Query::select()
        .column(post_target::Column::Id)
        .from(post_target::Entity)
        .and_where(post_target::Column::PostId.eq(post.0))
        .and_where(post_target::Column::Status.is_in(movable))
        .to_owned();
    job::Entity::update_many()
        .col_expr(job::Column::DueAt, Expr::value(at))
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::TargetId.in_subquery(targets.clone()))
        .exec(db)
        .await?;
    let pending = job::Entity::find()
        .select_only()
        .column(job::Column::Id)
        .filter(job::Column::TargetId.in_subquery(targets))
        .filter(job::Column::State.eq(JOB_PENDING))
        .into_tuple()
        .all(db)
        .await?;
    Ok((moved, pending))
}

/// The targets on one account that have not finished, with their post ids.
pub fn of_connection(connection: ConnectionId) -> Condition {
    Condition::all().add(post_target::Column::ConnectionId.eq(connection.0))
}

pub fn of_post(owner: UserId, post: PostId) -> Condition {
    Condition::all()
        .add(post_target::Column::UserId.eq(owner.0))
        .add(post_target::Column::PostId.eq(post.0))
}

pub fn one_target(owner: UserId, post: PostId, target: TargetId) -> Condition {
    of_post(owner, post).add(post_target::Column::Id.eq(target.0))
}

/// The post ids of targets, for logging after a move.
pub async fn posts_of_targets(
    db: &impl ConnectionTrait,
    targets: &[Uuid],
) -> Result<Vec<(Uuid, Uuid)>, DbError> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    Ok(post_target::Entity::find()
        .select_only()
        .column(post_target::Column::Id)
        .column(post_target::Column::PostId)
        .filter(post_target::Column::Id.is_in(targets.iter().copied()))
        .into_tuple()
        .all(db)
        .await?)
}

pub async fn owns_post(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: PostId,
) -> Result<Option<post::Model>, DbError> {
    Ok(post::Entity::find_by_id(id.0)
        .filter(post::Column::UserId.eq(owner.0))
        .one(db)
        .await?)
}

pub async fn delete_post(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: PostId,
) -> Result<bool, DbError> {
    // Not while an attempt is publishing it, decided in the statement itself: a look before
    // the delete could be stale by the time it runs.
    let in_flight = Query::select()
        .column(post_target::Column::PostId)
        .from(post_target::Entity)
        .and_where(post_target::Column::PostId.eq(id.0))
        .and_where(post_target::Column::Status.eq(TargetStatus::Publishing.as_str()))
        .to_owned();
    let deleted = post::Entity::delete_many()
        .filter(post::Column::Id.eq(id.0))
        .filter(post::Column::UserId.eq(owner.0))
        .filter(post::Column::Id.not_in_subquery(in_flight))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected == 1)
}

/// Replaces a post's text, time and media (for "edit" of a post that has not gone out).
#[allow(clippy::too_many_arguments)]
pub async fn update_post(
    db: &impl ConnectionTrait,
    id: PostId,
    text: &str,
    scheduled_at: Option<DateTime<Utc>>,
    media: &[MediaId],
    product: PostProduct,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    post::Entity::update_many()
        .col_expr(post::Column::Text, Expr::value(text))
        .col_expr(post::Column::ScheduledAt, Expr::value(scheduled_at))
        .col_expr(post::Column::ProductId, Expr::value(product.id))
        .col_expr(
            post::Column::ProductPriceMinor,
            Expr::value(product.price_minor),
        )
        .col_expr(post::Column::ProductCheck, Expr::value(product.check))
        .col_expr(post::Column::UpdatedAt, Expr::value(now))
        .filter(post::Column::Id.eq(id.0))
        .exec(db)
        .await?;
    post_media::Entity::delete_many()
        .filter(post_media::Column::PostId.eq(id.0))
        .exec(db)
        .await?;
    insert_media_links(db, id, media).await
}

/// Deletes the targets of `post` that have not started (and that surely did not post); the
/// handles and statuses of those that stay, which an edit must not replace: a target that
/// started between the caller's look and this delete is kept here and named.
pub async fn delete_unstarted_targets(
    db: &impl ConnectionTrait,
    post: PostId,
) -> Result<Vec<(String, String)>, DbError> {
    let unstarted = [
        TargetStatus::Draft,
        TargetStatus::Scheduled,
        TargetStatus::Cancelled,
        TargetStatus::WaitingReconnect,
        TargetStatus::Failed,
        TargetStatus::Held,
    ]
    .map(TargetStatus::as_str);
    post_target::Entity::delete_many()
        .filter(post_target::Column::PostId.eq(post.0))
        .filter(post_target::Column::Status.is_in(unstarted))
        .filter(post_target::Column::SentAt.is_null())
        .exec(db)
        .await?;
    Ok(post_target::Entity::find()
        .select_only()
        .column(post_target::Column::AccountHandle)
        .column(post_target::Column::Status)
        .filter(post_target::Column::PostId.eq(post.0))
        .into_tuple()
        .all(db)
        .await?)
}

/// Whole posts (targets, media; logs when `with_logs`) in the order of `ids`.
pub async fn load_posts(
    db: &impl ConnectionTrait,
    rows: Vec<post::Model>,
    with_logs: bool,
    media_url: fn(&MediaRow) -> String,
) -> Result<Vec<Post>, DbError> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let mut targets: HashMap<Uuid, Vec<Target>> = HashMap::new();
    if !ids.is_empty() {
        let target_rows = post_target::Entity::find()
            .filter(post_target::Column::PostId.is_in(ids.iter().copied()))
            .order_by_asc(post_target::Column::CreatedAt)
            .order_by_asc(post_target::Column::Position)
            .order_by_asc(post_target::Column::Id)
            .all(db)
            .await?;
        for row in target_rows {
            targets
                .entry(row.post_id)
                .or_default()
                .push(target_from_row(row)?);
        }
    }
    let mut media: HashMap<Uuid, Vec<MediaItem>> = HashMap::new();
    for (post, row) in media_rows::of_posts(db, &ids).await? {
        media
            .entry(post)
            .or_default()
            .push(media_item(&row, media_url(&row)));
    }
    let mut logs: HashMap<Uuid, Vec<LogLine>> = HashMap::new();
    if with_logs && !ids.is_empty() {
        let log_rows = job_log::Entity::find()
            .filter(job_log::Column::PostId.is_in(ids.iter().copied()))
            .order_by_asc(job_log::Column::At)
            .all(db)
            .await?;
        for row in log_rows {
            logs.entry(row.post_id).or_default().push(LogLine {
                at: row.at,
                level: LogLevel::parse(&row.level)
                    .ok_or_else(|| corrupt("job_logs.level", row.id))?,
                target_id: row.target_id.map(TargetId),
                message: row.message,
            });
        }
    }
    Ok(rows
        .into_iter()
        .map(|row| Post {
            id: PostId(row.id),
            targets: targets.remove(&row.id).unwrap_or_default(),
            media: media.remove(&row.id).unwrap_or_default(),
            logs: logs.remove(&row.id).unwrap_or_default(),
            text: row.text,
            scheduled_at: row.scheduled_at,
            notice: None,
            product_id: row.product_id.map(ProductId),
            check_product: row.product_check,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
        .collect())
}

pub fn media_item(row: &MediaRow, url: String) -> MediaItem {
    MediaItem {
        id: MediaId(row.id),
        mime: row.mime.clone(),
        width: u32::try_from(row.width).unwrap_or(0),
        height: u32::try_from(row.height).unwrap_or(0),
        bytes: u64::try_from(row.bytes).unwrap_or(0),
        url,
        created_at: row.created_at,
        video: media_rows::video_of(row),
        poster_url: row
            .poster_key
            .as_ref()
            .map(|_| format!("/api/media/{}/poster", row.id)),
    }
}

pub fn target_from_row(row: TargetRow) -> Result<Target, DbError> {
    Ok(Target {
        id: TargetId(row.id),
        connection_id: row.connection_id.map(ConnectionId),
        platform: Platform::parse(&row.platform)
            .ok_or_else(|| corrupt("post_targets.platform", row.id))?,
        status: TargetStatus::parse(&row.status)
            .ok_or_else(|| corrupt("post_targets.status", row.id))?,
        account_handle: row.account_handle,
        text: row.text,
        options: options_of(&row.options),
        external_id: row.external_id,
        url: row.url,
        error: row.error,
        attempts: u32::try_from(row.attempts).unwrap_or(0),
        due_at: row.due_at,
        next_attempt_at: row.next_attempt_at,
        published_at: row.published_at,
    })
}

/// A target's stored options; a value that is not a JSON object (never written by us) reads
/// as none rather than failing the whole page.
pub fn options_of(stored: &Option<String>) -> TargetOptions {
    stored
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_default()
}

/// A page of the user's posts, newest first, after `cursor` (created_at, id).
pub async fn page(
    db: &impl ConnectionTrait,
    owner: UserId,
    query: &PostQuery,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<post::Model>, DbError> {
    let mut select = post::Entity::find()
        .filter(post::Column::UserId.eq(owner.0))
        .order_by_desc(post::Column::CreatedAt)
        .order_by_desc(post::Column::Id)
        .limit(limit);
    if query.status.is_some() || query.platform.is_some() {
        let mut targets = Query::select();
        targets
            .column(post_target::Column::PostId)
            .from(post_target::Entity)
            .and_where(post_target::Column::UserId.eq(owner.0));
        if let Some(status) = query.status {
            targets.and_where(post_target::Column::Status.eq(status.as_str()));
        }
        if let Some(platform) = query.platform {
            targets.and_where(post_target::Column::Platform.eq(platform.as_str()));
        }
        select = select.filter(post::Column::Id.in_subquery(targets.to_owned()));
    }
    // A post's time is when it is scheduled, or when it was written.
    if let Some(from) = query.from {
        let from = from.with_timezone(&Utc);
        select = select.filter(
            Condition::any()
                .add(post::Column::ScheduledAt.gte(from))
                .add(
                    Condition::all()
                        .add(post::Column::ScheduledAt.is_null())
                        .add(post::Column::CreatedAt.gte(from)),
                ),
        );
    }
    if let Some(to) = query.to {
        let to = to.with_timezone(&Utc);
        select = select.filter(
            Condition::any().add(post::Column::ScheduledAt.lt(to)).add(
                Condition::all()
                    .add(post::Column::ScheduledAt.is_null())
                    .add(post::Column::CreatedAt.lt(to)),
            ),
        );
    }
    if let Some((created_at, id)) = after {
        select = select.filter(
            Condition::any()
                .add(post::Column::CreatedAt.lt(created_at))
                .add(
                    Condition::all()
                        .add(post::Column::CreatedAt.eq(created_at))
                        .add(post::Column::Id.lt(id)),
                ),
        );
    }
    Ok(select.all(db).await?)
}

/// What narrows the calendar: one platform, account or target status.
#[derive(Debug, Clone, Copy, Default)]
pub struct CalendarFilter {
    pub platform: Option<Platform>,
    pub account: Option<ConnectionId>,
    pub status: Option<TargetStatus>,
}

/// A post on the calendar, as stored: its time (scheduled, or written when it went out at
/// once), its text and its targets' platform, handle and status.
pub struct CalendarRow {
    pub post: post::Model,
    pub targets: Vec<(String, String, String)>,
}

/// The owner's posts whose time falls in `[from, to)`, earliest first, at most `limit`; drafts
/// (no target with a time) are not on the calendar. A post's time is when it is scheduled, or
/// when it was written.
pub async fn calendar(
    db: &impl ConnectionTrait,
    owner: UserId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    filter: CalendarFilter,
    limit: u64,
) -> Result<Vec<CalendarRow>, DbError> {
    let mut targets = Query::select();
    targets
        .column(post_target::Column::PostId)
        .from(post_target::Entity)
        .and_where(post_target::Column::UserId.eq(owner.0))
        .and_where(post_target::Column::Status.ne(TargetStatus::Draft.as_str()));
    if let Some(platform) = filter.platform {
        targets.and_where(post_target::Column::Platform.eq(platform.as_str()));
    }
    if let Some(account) = filter.account {
        targets.and_where(post_target::Column::ConnectionId.eq(account.0));
    }
    if let Some(status) = filter.status {
        targets.and_where(post_target::Column::Status.eq(status.as_str()));
    }
    let in_span = |from_or_to: Condition, created: Condition| {
        Condition::any().add(from_or_to).add(
            Condition::all()
                .add(post::Column::ScheduledAt.is_null())
                .add(created),
        )
    };
    let posts = post::Entity::find()
        .filter(post::Column::UserId.eq(owner.0))
        .filter(post::Column::Id.in_subquery(targets.to_owned()))
        .filter(in_span(
            Condition::all().add(post::Column::ScheduledAt.gte(from)),
            Condition::all().add(post::Column::CreatedAt.gte(from)),
        ))
        .filter(in_span(
            Condition::all().add(post::Column::ScheduledAt.lt(to)),
            Condition::all().add(post::Column::CreatedAt.lt(to)),
        ))
        .order_by_asc(Expr::cust("COALESCE(scheduled_at, created_at)"))
        .order_by_asc(post::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = posts.iter().map(|row| row.id).collect();
    let mut by_post: HashMap<Uuid, Vec<(String, String, String)>> = HashMap::new();
    if !ids.is_empty() {
        let rows: Vec<(Uuid, String, String, String)> = post_target::Entity::find()
            .select_only()
            .column(post_target::Column::PostId)
            .column(post_target::Column::Platform)
            .column(post_target::Column::AccountHandle)
            .column(post_target::Column::Status)
            .filter(post_target::Column::PostId.is_in(ids))
            .order_by_asc(post_target::Column::Position)
            .into_tuple()
            .all(db)
            .await?;
        for (post, platform, handle, status) in rows {
            by_post
                .entry(post)
                .or_default()
                .push((platform, handle, status));
        }
    }
    Ok(posts
        .into_iter()
        .map(|post| CalendarRow {
            targets: by_post.remove(&post.id).unwrap_or_default(),
            post,
        })
        .collect())
}

/// Remembers which post an idempotency key created. `DbError::Conflict` when the key is taken.
pub async fn insert_idempotency_key(
    db: &impl ConnectionTrait,
    owner: UserId,
    key: &str,
    request_hash: &str,
    post: PostId,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    idempotency_key::ActiveModel {
        user_id: Set(owner.0),
        key: Set(key.to_owned()),
        request_hash: Set(request_hash.to_owned()),
        post_id: Set(post.0),
        created_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(DbError::from_write)?;
    Ok(())
}

pub async fn idempotency_key(
    db: &impl ConnectionTrait,
    owner: UserId,
    key: &str,
) -> Result<Option<idempotency_key::Model>, DbError> {
    Ok(idempotency_key::Entity::find()
        .filter(idempotency_key::Column::UserId.eq(owner.0))
        .filter(idempotency_key::Column::Key.eq(key))
        .one(db)
        .await?)
}

/// Forgets keys older than `before` (24 hours): after that the same key makes a new post.
pub async fn delete_idempotency_keys_before(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
) -> Result<u64, DbError> {
    Ok(idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::CreatedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}

/// Publishes the post without checking its product again ("Publish anyway").
pub async fn stop_product_check(
    db: &impl ConnectionTrait,
    id: PostId,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    post::Entity::update_many()
        .col_expr(post::Column::ProductCheck, Expr::value(false))
        .col_expr(post::Column::UpdatedAt, Expr::value(now))
        .filter(post::Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}
