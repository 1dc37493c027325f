//! Posts as the user handles them: create (post, targets and jobs in one transaction, then
//! queued), read, list, edit, duplicate, retry, cancel, delete; and what connecting or
//! disconnecting an account does to its posts. The database is the truth: a job that could
//! not be queued here is queued by the sweep.

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use sea_orm::{DatabaseConnection, TransactionTrait};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use app::services::{IdempotencyKey, Posts, ProductEventLog};
use app::types::{
    ApiError, AppEvent, Calendar, CalendarQuery, Connection, ConnectionId, ConnectionStatus,
    LogLevel, NewPost, Post, PostId, PostPage, PostQuery, Schedule, ScheduleKeyword, TargetId,
    TargetPreview, TargetStatus, User, UserId, fill_product_variables,
};

use super::schedule::local_to_utc;
use crate::analytics::events::ProductEvents;
use crate::clock::SharedClock;
use crate::db::DbError;
use crate::db::connections as connection_rows;
use crate::db::media::{self as media_rows, MediaRow};
use crate::db::posts::{
    self as rows, JOB_DONE, JOB_PARKED, JOB_PENDING, NewTargetRow, PostProduct,
};
use crate::error::Error;
use crate::platforms::{MediaCheck, PostCheck, PostProblem, Registry};
use crate::queue::{JobId, JobQueue};

/// A post's text may not be longer than this, whatever the platforms allow.
const MAX_TEXT_CHARS: usize = 10_000;
/// Idempotency keys are remembered this long.
pub const IDEMPOTENCY_WINDOW: Duration = Duration::hours(24);
const MAX_KEY_LEN: usize = 255;
const PAGE_SIZE: u64 = 25;
/// The most posts one page may ask for with `limit`.
const MAX_PAGE_SIZE: u32 = 100;
/// A time this close to now (or just past) means "now", not "in the past".
const PAST_TOLERANCE: Duration = Duration::seconds(60);

/// A stored target status as a person reads it, in "This post is ... on @shop".
fn status_words(status: &str) -> &'static str {
    match TargetStatus::parse(status) {
        Some(TargetStatus::Published) => "already out",
        Some(TargetStatus::Publishing) => "being published right now",
        Some(TargetStatus::Retrying) => "being retried",
        Some(TargetStatus::Processing) => "being processed by the platform",
        _ => "perhaps already out (its last attempt's outcome is unknown)",
    }
}

pub struct Pipeline {
    db: DatabaseConnection,
    queue: Arc<dyn JobQueue>,
    registry: Registry,
    clock: SharedClock,
    events: Arc<ProductEvents>,
}

/// A new post after its checks: what will be written.
struct Checked {
    due: Option<DateTime<Utc>>,
    scheduled_at: Option<DateTime<Utc>>,
    notice: Option<String>,
    connections: Vec<Connection>,
}

impl Pipeline {
    pub fn new(
        db: DatabaseConnection,
        queue: Arc<dyn JobQueue>,
        registry: Registry,
        clock: SharedClock,
        events: Arc<ProductEvents>,
    ) -> Self {
        Self {
            db,
            queue,
            registry,
            clock,
            events,
        }
    }

    pub fn queue(&self) -> &Arc<dyn JobQueue> {
        &self.queue
    }

    /// The URL a media item is served at to its owner.
    pub fn media_url(row: &MediaRow) -> String {
        format!("/api/media/{}/file", row.id)
    }

    /// Queues a job after its transaction committed. A failure is only logged: the job is in
    /// the database, and the sweep queues what the queue is missing.
    async fn enqueue(&self, job: Uuid, due: DateTime<Utc>) {
        if let Err(error) = self.queue.enqueue(JobId(job), due).await {
            tracing::warn!(%error, job = %job, "could not queue a job; the sweep will");
        }
    }

    async fn check(&self, author: &User, post: &NewPost) -> Result<Checked, Error> {
        let now = self.clock.now();
        check_text("text", &post.text)?;
        let (due, scheduled_at, notice) = when(author, &post.schedule, now)?;
        if post.targets.is_empty() && due.is_some() {
            return Err(refuse("targets", "Choose at least one account to post to."));
        }
        let mut seen = std::collections::HashSet::new();
        if !post
            .targets
            .iter()
            .all(|target| seen.insert(target.connection_id))
        {
            return Err(refuse("targets", "An account is chosen twice."));
        }
        let media = media_rows::owned(&self.db, author.id, &post.media_ids).await?;
        if media.len() != post.media_ids.len() {
            return Err(Error::Refused(ApiError::NotFound));
        }
        let checks: Vec<MediaCheck> = post
            .media_ids
            .iter()
            .filter_map(|id| media.iter().find(|row| row.id == id.0))
            .map(MediaCheck::of)
            .collect();
        let mut connections = Vec::with_capacity(post.targets.len());
        for target in &post.targets {
            let connection = connection_rows::get(&self.db, author.id, target.connection_id)
                .await?
                .ok_or(Error::Refused(ApiError::NotFound))?;
            let api = self.registry.get(connection.platform).ok_or_else(|| {
                Error::Refused(ApiError::Conflict {
                    message: format!(
                        "{} is not configured by the operator, so @{} cannot post.",
                        connection.platform.display_name(),
                        connection.handle
                    ),
                })
            })?;
            let text = target.text.as_deref().unwrap_or(&post.text);
            let check = PostCheck {
                text,
                media: &checks,
                options: &target.options,
            };
            api.check_post(&check).map_err(|problem| {
                let field = match problem {
                    PostProblem::Text(_) if target.text.is_none() => "text",
                    PostProblem::Media(_) => "media_ids",
                    PostProblem::Text(_) | PostProblem::Options(_) => "targets",
                };
                refuse(
                    field,
                    format!(
                        "@{} on {}: {problem}",
                        connection.handle,
                        connection.platform.display_name()
                    ),
                )
            })?;
            connections.push(connection);
        }
        Ok(Checked {
            due,
            scheduled_at,
            notice,
            connections,
        })
    }

    /// The post with its product's variables (`{title}`, `{price}`, `{url}`, `{store}`) filled,
    /// and the product it is made from, priced now: the one it names, or on an edit that names
    /// none, the one the post already had. Writing (or editing) the post is when the person
    /// saw the product, so the price is taken again each time.
    async fn with_product(
        &self,
        owner: UserId,
        id: PostId,
        mut post: NewPost,
        existing: bool,
    ) -> Result<(NewPost, PostProduct), Error> {
        let named = match post.product_id {
            Some(product) => Some(product),
            None if existing => rows::post_row(&self.db, id.0)
                .await?
                .and_then(|row| row.product_id)
                .map(app::types::ProductId),
            None => None,
        };
        let Some(product) = named else {
            let check = post.check_product;
            return Ok((
                post,
                PostProduct {
                    check,
                    ..PostProduct::NONE
                },
            ));
        };
        let product = crate::db::products::get(&self.db, owner, product)
            .await?
            .ok_or_else(|| {
                Error::Refused(ApiError::validation(
                    "product_id",
                    "That product is not among your stores' products.",
                ))
            })?;
        post.text = fill_product_variables(&post.text, &product);
        for target in &mut post.targets {
            if let Some(text) = &target.text {
                target.text = Some(fill_product_variables(text, &product));
            }
        }
        let link = PostProduct {
            id: Some(product.id.0),
            price_minor: Some(product.price_minor),
            check: post.check_product,
        };
        Ok((post, link))
    }

    /// Writes the post, its media links, its targets and their jobs in one transaction, with
    /// the idempotency key when there is one. Returns the jobs to queue.
    #[allow(clippy::too_many_arguments)]
    async fn store(
        &self,
        owner: UserId,
        id: PostId,
        post: &NewPost,
        product: PostProduct,
        checked: &Checked,
        key: Option<(&str, &str)>,
        existing: bool,
    ) -> Result<Vec<(Uuid, DateTime<Utc>)>, Error> {
        let now = self.clock.now();
        let txn = self.db.begin().await.map_err(DbError::from)?;
        if existing {
            // The authoritative check, in the transaction: a target a worker started meanwhile
            // stays, and an edit beside it would publish a second time.
            let kept = rows::delete_unstarted_targets(&txn, id).await?;
            if let Some((handle, status)) = kept.first() {
                txn.rollback().await.map_err(DbError::from)?;
                return Err(Error::conflict(format!(
                    "This post is {} on @{handle}, so it can no longer be edited; use Edit & repost to post it again.",
                    status_words(status)
                )));
            }
            rows::update_post(
                &txn,
                id,
                &post.text,
                checked.scheduled_at,
                &post.media_ids,
                product,
                now,
            )
            .await?;
        } else {
            rows::insert_post(
                &txn,
                owner,
                id,
                &post.text,
                checked.scheduled_at,
                product,
                now,
            )
            .await?;
            rows::insert_media_links(&txn, id, &post.media_ids).await?;
        }
        // A second request with the same key waits here for the first to commit, then
        // conflicts and rolls back everything it wrote.
        if let Some((key, hash)) = key {
            rows::insert_idempotency_key(&txn, owner, key, hash, id, now).await?;
        }
        let mut jobs = Vec::new();
        for (position, (target, connection)) in
            post.targets.iter().zip(&checked.connections).enumerate()
        {
            let target_id = TargetId(Uuid::new_v4());
            let waiting = connection.status == ConnectionStatus::NeedsReconnect;
            let (status, message, level) = match checked.due {
                None => (
                    TargetStatus::Draft,
                    "saved as a draft".to_owned(),
                    LogLevel::Info,
                ),
                Some(_) if waiting => (
                    TargetStatus::WaitingReconnect,
                    format!(
                        "waiting: @{} must be reconnected before it can post",
                        connection.handle
                    ),
                    LogLevel::Warn,
                ),
                Some(due) => (
                    TargetStatus::Scheduled,
                    if due <= now {
                        format!("queued to publish now on @{}", connection.handle)
                    } else {
                        format!(
                            "scheduled for {} on @{}",
                            due.format("%Y-%m-%d %H:%M UTC"),
                            connection.handle
                        )
                    },
                    LogLevel::Info,
                ),
            };
            rows::insert_target(
                &txn,
                owner,
                NewTargetRow {
                    id: target_id,
                    post: id,
                    connection: connection.id,
                    platform: connection.platform,
                    account_handle: &connection.handle,
                    text: target.text.as_deref(),
                    options: &target.options,
                    status,
                    due_at: checked.due,
                    error: (status == TargetStatus::WaitingReconnect)
                        .then_some("Waiting for the account to be reconnected."),
                    position,
                },
                now,
            )
            .await?;
            if let Some(due) = checked.due {
                let state = if waiting { JOB_PARKED } else { JOB_PENDING };
                let job = rows::upsert_job(&txn, target_id, due, state, now).await?;
                if !waiting {
                    jobs.push((job, due));
                }
            }
            rows::log(&txn, id, Some(target_id), level, &message, now).await?;
        }
        txn.commit().await.map_err(DbError::from)?;
        Ok(jobs)
    }

    async fn create_post(
        &self,
        author: &User,
        post: NewPost,
        key: Option<IdempotencyKey>,
    ) -> Result<Post, Error> {
        let key = key.map(|key| key.0.trim().to_owned());
        if let Some(key) = &key
            && (key.is_empty() || key.len() > MAX_KEY_LEN || key.chars().any(char::is_control))
        {
            return Err(Error::Refused(ApiError::bad_request(format!(
                "The Idempotency-Key header must be 1 to {MAX_KEY_LEN} printable characters."
            ))));
        }
        let hash = request_hash(&post);
        if let Some(key) = &key
            && let Some(earlier) = self.earlier_result(author.id, key, &hash).await?
        {
            return Ok(earlier);
        }
        let id = PostId(Uuid::new_v4());
        let (post, product) = self.with_product(author.id, id, post, false).await?;
        let checked = self.check(author, &post).await?;
        let jobs = match self
            .store(
                author.id,
                id,
                &post,
                product,
                &checked,
                key.as_deref().map(|key| (key, hash.as_str())),
                false,
            )
            .await
        {
            Err(Error::Database(DbError::Conflict)) if key.is_some() => {
                // Another request with this key won the race: answer with its post.
                let key = key.as_deref().expect("checked above");
                return self
                    .earlier_result(author.id, key, &hash)
                    .await?
                    .ok_or(Error::Database(DbError::Conflict));
            }
            other => other?,
        };
        for (job, due) in jobs {
            self.enqueue(job, due).await;
        }
        let platforms: std::collections::HashSet<_> = checked
            .connections
            .iter()
            .map(|connection| connection.platform)
            .collect();
        self.events
            .record(
                author,
                AppEvent::PostComposed {
                    platforms: platforms.len(),
                    scheduled: checked.scheduled_at.is_some(),
                    media: post.media_ids.len(),
                },
            )
            .await;
        let mut created = self.load(author.id, id, false).await?;
        created.notice = checked.notice;
        Ok(created)
    }

    /// The post an idempotency key made within the window, if the request is the same.
    async fn earlier_result(
        &self,
        owner: UserId,
        key: &str,
        hash: &str,
    ) -> Result<Option<Post>, Error> {
        let Some(row) = rows::idempotency_key(&self.db, owner, key).await? else {
            return Ok(None);
        };
        if row.created_at + IDEMPOTENCY_WINDOW <= self.clock.now() {
            rows::delete_idempotency_keys_before(&self.db, self.clock.now() - IDEMPOTENCY_WINDOW)
                .await?;
            return Ok(None);
        }
        if row.request_hash != hash {
            return Err(Error::Refused(ApiError::Conflict {
                message: "This Idempotency-Key was already used for a different request. Use a new key for a new post.".into(),
            }));
        }
        match self.load(owner, PostId(row.post_id), false).await {
            Ok(post) => Ok(Some(post)),
            // The first post was deleted since: the key still names it, so nothing new is made.
            Err(Error::Refused(ApiError::NotFound)) => Err(Error::Refused(ApiError::Conflict {
                message: "The post this Idempotency-Key created has been deleted.".into(),
            })),
            Err(other) => Err(other),
        }
    }

    async fn load(&self, owner: UserId, id: PostId, with_logs: bool) -> Result<Post, Error> {
        let row = rows::owns_post(&self.db, owner, id)
            .await?
            .ok_or(Error::Refused(ApiError::NotFound))?;
        let mut posts = rows::load_posts(&self.db, vec![row], with_logs, Self::media_url).await?;
        posts.pop().ok_or(Error::Refused(ApiError::NotFound))
    }

    async fn list_posts(&self, owner: UserId, query: PostQuery) -> Result<PostPage, Error> {
        let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
        let size = match query.limit {
            None => PAGE_SIZE,
            Some(limit @ 1..=MAX_PAGE_SIZE) => u64::from(limit),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "`limit` must be between 1 and {MAX_PAGE_SIZE} posts, not {other}."
                ))
                .into());
            }
        };
        let mut rows_page = rows::page(&self.db, owner, &query, after, size + 1).await?;
        let more = rows_page.len() as u64 > size;
        rows_page.truncate(size as usize);
        let next_cursor = more
            .then(|| {
                rows_page
                    .last()
                    .map(|last| encode_cursor(last.created_at, last.id))
            })
            .flatten();
        let items = rows::load_posts(&self.db, rows_page, false, Self::media_url).await?;
        Ok(PostPage { items, next_cursor })
    }

    /// Edits a post none of whose targets has started. Once one is publishing, retrying or
    /// out, or may be out (an attempt with an unknown outcome), the post is refused: the UI's
    /// "Edit & repost" makes a new post instead.
    async fn update_post(&self, author: &User, id: PostId, post: NewPost) -> Result<Post, Error> {
        let current = self.load(author.id, id, false).await?;
        if current.targets.iter().any(|target| {
            matches!(
                target.status,
                TargetStatus::Publishing | TargetStatus::Retrying
            )
        }) {
            return Err(Error::conflict(
                "This post is being published right now; wait until it is done, or duplicate it to make changes.",
            ));
        }
        let (post, product) = self.with_product(author.id, id, post, true).await?;
        let checked = self.check(author, &post).await?;
        let jobs = self
            .store(author.id, id, &post, product, &checked, None, true)
            .await?;
        for (job, due) in jobs {
            self.enqueue(job, due).await;
        }
        rows::log(
            &self.db,
            id,
            None,
            LogLevel::Info,
            "edited",
            self.clock.now(),
        )
        .await?;
        let mut updated = self.load(author.id, id, false).await?;
        updated.notice = checked.notice;
        Ok(updated)
    }

    async fn duplicate_post(&self, owner: UserId, id: PostId) -> Result<Post, Error> {
        let original = self.load(owner, id, false).await?;
        let copy = PostId(Uuid::new_v4());
        let now = self.clock.now();
        let media: Vec<_> = original.media.iter().map(|item| item.id).collect();
        let product = match rows::post_row(&self.db, id.0).await? {
            Some(row) => PostProduct::of(&row),
            None => PostProduct::NONE,
        };
        let txn = self.db.begin().await.map_err(DbError::from)?;
        rows::insert_post(&txn, owner, copy, &original.text, None, product, now).await?;
        rows::insert_media_links(&txn, copy, &media).await?;
        for (position, target) in original.targets.iter().enumerate() {
            let Some(connection) = target.connection_id else {
                continue;
            };
            if connection_rows::get(&txn, owner, connection)
                .await?
                .is_none()
            {
                continue;
            }
            rows::insert_target(
                &txn,
                owner,
                NewTargetRow {
                    id: TargetId(Uuid::new_v4()),
                    post: copy,
                    connection,
                    platform: target.platform,
                    account_handle: &target.account_handle,
                    text: target.text.as_deref(),
                    options: &target.options,
                    status: TargetStatus::Draft,
                    due_at: None,
                    error: None,
                    position,
                },
                now,
            )
            .await?;
        }
        rows::log(
            &txn,
            copy,
            None,
            LogLevel::Info,
            "duplicated as a draft",
            now,
        )
        .await?;
        txn.commit().await.map_err(DbError::from)?;
        self.load(owner, copy, false).await
    }

    async fn retry_target(
        &self,
        owner: UserId,
        id: PostId,
        target: TargetId,
    ) -> Result<Post, Error> {
        let now = self.clock.now();
        let post = self.load(owner, id, false).await?;
        let current = post
            .targets
            .iter()
            .find(|candidate| candidate.id == target)
            .ok_or(Error::Refused(ApiError::NotFound))?;
        if !matches!(current.status, TargetStatus::Failed | TargetStatus::Held) {
            return Err(Error::conflict(format!(
                "Only a failed or held post can be retried; this one is {}.",
                current.status.as_str().replace('_', " ")
            )));
        }
        // A held post goes out as it is: the person saw why it was held.
        let asked = if current.status == TargetStatus::Held {
            rows::stop_product_check(&self.db, id, now).await?;
            "publish anyway requested: the product is not checked again"
        } else {
            "retry requested"
        };
        let moved = rows::move_targets(
            &self.db,
            rows::one_target(owner, id, target),
            &[TargetStatus::Failed, TargetStatus::Held],
            TargetStatus::Scheduled,
            Some(now),
            None,
            now,
        )
        .await?;
        for target_id in moved {
            let job =
                rows::upsert_job(&self.db, TargetId(target_id), now, JOB_PENDING, now).await?;
            rows::log(
                &self.db,
                id,
                Some(TargetId(target_id)),
                LogLevel::Info,
                asked,
                now,
            )
            .await?;
            self.enqueue(job, now).await;
        }
        self.load(owner, id, false).await
    }

    async fn cancel_post(&self, owner: UserId, id: PostId) -> Result<Post, Error> {
        self.load(owner, id, false).await?;
        let now = self.clock.now();
        let moved = rows::move_targets(
            &self.db,
            rows::of_post(owner, id),
            &[
                TargetStatus::Draft,
                TargetStatus::Scheduled,
                TargetStatus::Retrying,
                TargetStatus::WaitingReconnect,
                TargetStatus::Failed,
                TargetStatus::Held,
            ],
            TargetStatus::Cancelled,
            None,
            Some("Cancelled by you."),
            now,
        )
        .await?;
        rows::set_jobs_state_for(&self.db, &moved, JOB_DONE, now).await?;
        if !moved.is_empty() {
            rows::log(&self.db, id, None, LogLevel::Info, "cancelled", now).await?;
        }
        self.load(owner, id, false).await
    }

    /// Moves a post that has not started to another time (the calendar's drag): the post,
    /// its waiting targets and their jobs move together, in one transaction, and the queue
    /// is told after it commits. A worker that took the old job meanwhile finds the target
    /// not due yet and puts the job back (see `begin_attempt`), so it goes out once, at the
    /// new time.
    async fn reschedule_post(
        &self,
        author: &User,
        id: PostId,
        schedule: &Schedule,
    ) -> Result<Post, Error> {
        let current = self.load(author.id, id, false).await?;
        if let Some(out) = current
            .targets
            .iter()
            .find(|target| target.status == TargetStatus::Published)
        {
            return Err(Error::conflict(format!(
                "This post is already out on @{}; published posts stay where they went out.",
                out.account_handle
            )));
        }
        if let Some(started) = current.targets.iter().find(|target| {
            matches!(
                target.status,
                TargetStatus::Publishing | TargetStatus::Processing | TargetStatus::Retrying
            )
        }) {
            return Err(Error::conflict(format!(
                "This post is {} on @{}, so it can no longer be moved.",
                status_words(started.status.as_str()),
                started.account_handle
            )));
        }
        let waiting = current
            .targets
            .iter()
            .filter(|target| rows::MOVABLE.contains(&target.status))
            .count();
        if waiting == 0 {
            return Err(Error::conflict(
                "Nothing in this post is waiting to go out; open it to schedule it.",
            ));
        }
        let now = self.clock.now();
        let (Some(due), Some(at), note) = when(author, schedule, now)? else {
            return Err(refuse(
                "schedule",
                "Give the post a date and time to move it to.",
            ));
        };
        let txn = self.db.begin().await.map_err(DbError::from)?;
        let (moved, jobs) = rows::reschedule(&txn, id, at, now).await?;
        if moved != waiting as u64 {
            txn.rollback().await.map_err(DbError::from)?;
            return Err(Error::conflict(
                "This post started going out while it was being moved; it was left where it was.",
            ));
        }
        let line = match current.scheduled_at {
            Some(before) => format!(
                "moved from {} to {}",
                before.format("%Y-%m-%d %H:%M UTC"),
                at.format("%Y-%m-%d %H:%M UTC")
            ),
            None => format!("moved to {}", at.format("%Y-%m-%d %H:%M UTC")),
        };
        rows::log(&txn, id, None, LogLevel::Info, &line, now).await?;
        txn.commit().await.map_err(DbError::from)?;
        for job in jobs {
            self.enqueue(job, due).await;
        }
        let mut moved = self.load(author.id, id, true).await?;
        moved.notice = note;
        Ok(moved)
    }

    async fn delete_post(&self, owner: UserId, id: PostId) -> Result<(), Error> {
        let post = self.load(owner, id, false).await?;
        if post
            .targets
            .iter()
            .any(|target| target.status == TargetStatus::Publishing)
        {
            return Err(Error::conflict(
                "This post is being published right now; delete it when that is done.",
            ));
        }
        // Cascades to targets and jobs: a queued job finds no row and is dropped. Refused
        // in the statement when an attempt started since the look above.
        if !rows::delete_post(&self.db, owner, id).await?
            && rows::post_row(&self.db, id.0).await?.is_some()
        {
            return Err(Error::conflict(
                "This post is being published right now; delete it when that is done.",
            ));
        }
        Ok(())
    }

    /// An account was connected again: its waiting targets are due now.
    pub async fn release_waiting(
        &self,
        connection: ConnectionId,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let moved = rows::move_targets(
            &self.db,
            rows::of_connection(connection),
            &[TargetStatus::WaitingReconnect],
            TargetStatus::Scheduled,
            Some(now),
            None,
            now,
        )
        .await?;
        for (target, post) in rows::posts_of_targets(&self.db, &moved).await? {
            let job = rows::upsert_job(&self.db, TargetId(target), now, JOB_PENDING, now).await?;
            rows::log(
                &self.db,
                PostId(post),
                Some(TargetId(target)),
                LogLevel::Info,
                "account reconnected: queued again",
                now,
            )
            .await?;
            self.enqueue(job, now).await;
        }
        Ok(())
    }

    /// An account is being disconnected: what it had not posted is cancelled, saying why.
    pub async fn cancel_for_connection(
        &self,
        connection: ConnectionId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let moved = rows::move_targets(
            &self.db,
            rows::of_connection(connection),
            &[
                TargetStatus::Draft,
                TargetStatus::Scheduled,
                TargetStatus::Retrying,
                TargetStatus::WaitingReconnect,
                TargetStatus::Failed,
            ],
            TargetStatus::Cancelled,
            None,
            Some(reason),
            now,
        )
        .await?;
        rows::set_jobs_state_for(&self.db, &moved, JOB_DONE, now).await?;
        for (target, post) in rows::posts_of_targets(&self.db, &moved).await? {
            rows::log(
                &self.db,
                PostId(post),
                Some(TargetId(target)),
                LogLevel::Warn,
                reason,
                now,
            )
            .await?;
        }
        Ok(())
    }
}

/// When a post is due, the time it is shown as scheduled for, and a note for the user.
type Timing = (Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<String>);

/// When a post with this schedule is due, the time it is shown as scheduled for, and a note
/// for the user when the choice needed one (a time the clocks pass twice).
fn when(author: &User, schedule: &Schedule, now: DateTime<Utc>) -> Result<Timing, Error> {
    Ok(match schedule {
        Schedule::Keyword(ScheduleKeyword::Draft) => (None, None, None),
        Schedule::Keyword(ScheduleKeyword::Now) => (Some(now), None, None),
        Schedule::At { at } => {
            let at = at.with_timezone(&Utc);
            (Some(not_past(at, now)?), Some(at), None)
        }
        Schedule::Local { local } => {
            let naive =
                NaiveDateTime::parse_from_str(local.trim(), "%Y-%m-%dT%H:%M").map_err(|_| {
                    refuse(
                        "schedule",
                        format!("“{local}” is not a date and time like 2026-12-24T09:30."),
                    )
                })?;
            let zone: chrono_tz::Tz = author
                .time_zone
                .as_str()
                .parse()
                .unwrap_or(chrono_tz::Tz::UTC);
            let due = local_to_utc(naive, zone)?;
            (Some(not_past(due.at, now)?), Some(due.at), due.note)
        }
    })
}

/// The rules every post text follows (a template's too, so that it can always become a post):
/// at most [`MAX_TEXT_CHARS`] characters, and no control characters but line breaks and tabs.
pub fn check_text(field: &str, text: &str) -> Result<(), Error> {
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(refuse(
            field,
            format!("The text is longer than {MAX_TEXT_CHARS} characters."),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(refuse(
            field,
            "The text contains control characters; please remove them.",
        ));
    }
    Ok(())
}

fn refuse(field: &str, message: impl Into<String>) -> Error {
    Error::Refused(ApiError::validation(field, message))
}

fn not_past(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<DateTime<Utc>, Error> {
    if at + PAST_TOLERANCE < now {
        return Err(refuse(
            "schedule",
            format!(
                "{} has already passed. Pick a later time, or publish now.",
                at.format("%Y-%m-%d %H:%M UTC")
            ),
        ));
    }
    Ok(at.max(now))
}

/// What makes two requests "the same" for an idempotency key: the body as parsed.
fn request_hash(post: &NewPost) -> String {
    let canonical = serde_json::to_vec(post).expect("a post always serialises");
    format!("{:x}", Sha256::digest(canonical))
}

fn encode_cursor(created_at: DateTime<Utc>, id: Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("{}|{id}", created_at.to_rfc3339()))
}

fn decode_cursor(cursor: &str) -> Result<(DateTime<Utc>, Uuid), Error> {
    let bad = || {
        Error::Refused(ApiError::validation(
            "cursor",
            "The cursor is not one this server gave out.",
        ))
    };
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let (at, id) = raw.split_once('|').ok_or_else(bad)?;
    Ok((
        DateTime::parse_from_rfc3339(at)
            .map_err(|_| bad())?
            .with_timezone(&Utc),
        id.parse().map_err(|_| bad())?,
    ))
}

#[async_trait]
impl Posts for Pipeline {
    async fn create(
        &self,
        author: &User,
        post: NewPost,
        key: Option<IdempotencyKey>,
    ) -> Result<Post, ApiError> {
        Ok(self.create_post(author, post, key).await?)
    }

    async fn get(&self, owner: UserId, id: PostId) -> Result<Post, ApiError> {
        Ok(self.load(owner, id, true).await?)
    }

    async fn list(&self, owner: UserId, query: PostQuery) -> Result<PostPage, ApiError> {
        Ok(self.list_posts(owner, query).await?)
    }

    async fn update(&self, author: &User, id: PostId, post: NewPost) -> Result<Post, ApiError> {
        Ok(self.update_post(author, id, post).await?)
    }

    async fn duplicate(&self, owner: UserId, id: PostId) -> Result<Post, ApiError> {
        Ok(self.duplicate_post(owner, id).await?)
    }

    async fn retry(&self, owner: UserId, id: PostId, target: TargetId) -> Result<Post, ApiError> {
        Ok(self.retry_target(owner, id, target).await?)
    }

    async fn cancel(&self, owner: UserId, id: PostId) -> Result<Post, ApiError> {
        Ok(self.cancel_post(owner, id).await?)
    }

    async fn reschedule(
        &self,
        author: &User,
        id: PostId,
        schedule: Schedule,
    ) -> Result<Post, ApiError> {
        Ok(self.reschedule_post(author, id, &schedule).await?)
    }

    fn today(&self, owner: &User) -> chrono::NaiveDate {
        self.clock
            .now()
            .with_timezone(&owner.time_zone.tz())
            .date_naive()
    }

    async fn calendar(&self, owner: &User, query: CalendarQuery) -> Result<Calendar, ApiError> {
        Ok(super::calendar::calendar(&self.db, owner, &query, self.clock.now()).await?)
    }

    async fn delete(&self, owner: UserId, id: PostId) -> Result<(), ApiError> {
        Ok(self.delete_post(owner, id).await?)
    }

    async fn preview(&self, author: &User, post: NewPost) -> Result<Vec<TargetPreview>, ApiError> {
        Ok(super::preview::previews(&self.db, &self.registry, author.id, &post).await?)
    }

    async fn waiting_secs(&self, owner: UserId) -> Result<Option<u64>, ApiError> {
        let now = self.clock.now();
        let oldest = rows::oldest_waiting_due(&self.db, now, Some(owner))
            .await
            .map_err(Error::from)?;
        Ok(oldest.map(|due| u64::try_from((now - due).num_seconds()).unwrap_or(0)))
    }
}
