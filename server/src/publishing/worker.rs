//! The publishing workers: Tokio tasks that lease due jobs, publish their target through the
//! platform file, and record the outcome. One claim loop feeds at most `concurrency` attempts
//! at a time. Each attempt:
//!
//! 1. moves the target to `publishing` under the lease (compare-and-set; a target cancelled,
//!    published or deleted meanwhile is dropped);
//! 2. gets a usable token (refreshed single-flight when near expiry);
//! 3. when an earlier attempt may have posted (`sent_at` is set), looks for the post among the
//!    account's recent posts and records it instead of posting again;
//! 4. records "sent", then makes the irreversible call, heartbeating the lease meanwhile;
//! 5. writes the result fenced by the lease token, so a worker whose lease expired cannot
//!    overwrite a newer attempt, and acks, retries (backoff with jitter, the platform's wait
//!    honoured) or parks the job.
//!
//! Every step writes a job log line. Shutdown stops claiming, lets attempts finish within the
//! grace period and hands the leases of the rest back to the queue.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{DatabaseConnection, TransactionTrait};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use app::types::{ConnectionId, LogLevel, MediaId, Platform, PostId, TargetId, TargetStatus};

use super::backoff::Backoff;
use crate::clock::SharedClock;
use crate::connections::tokens::{TokenError, TokenKeeper};
use crate::db::DbError;
use crate::db::connections as connection_rows;
use crate::db::entities::post::Model as PostRow;
use crate::db::media as media_rows;
use crate::db::posts::{
    self as rows, AttemptEnd, Begin, JOB_DONE, JOB_PARKED, JOB_PENDING, TargetRow,
};
use crate::error::Error;
use crate::media::pull::PullUrls;
use crate::media::store::MediaStore;
use crate::platforms::{
    MediaFile, PlatformError, Progress, PublishError, PublishOutcome, PublishRequest, Published,
    Registry,
};
use crate::publishing::stats::PublishingStats;
use crate::queue::{JobId, JobQueue, Lease};

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// `WORKER_CONCURRENCY`: attempts in flight at once in this process.
    pub concurrency: usize,
    /// `PUBLISH_MAX_ATTEMPTS`: a retryable failure on the last attempt fails the target.
    pub max_attempts: u32,
    /// How long a lease lasts without a heartbeat.
    pub lease: Duration,
    /// How often a running attempt extends its lease.
    pub heartbeat: StdDuration,
    /// How long the claim loop sleeps when nothing is due.
    pub idle_poll: StdDuration,
    pub backoff: Backoff,
    /// How often the sweep checks the queue against the database (it runs beside the workers).
    pub sweep_every: StdDuration,
    /// How often published posts' numbers are read (`analytics::metrics`, beside the workers).
    pub metrics_every: StdDuration,
    /// Shown in the job log: which worker leased a job.
    pub name: String,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            concurrency: 4,
            max_attempts: 5,
            lease: Duration::seconds(60),
            heartbeat: StdDuration::from_secs(15),
            idle_poll: StdDuration::from_millis(100),
            backoff: Backoff::default(),
            sweep_every: StdDuration::from_secs(60),
            metrics_every: StdDuration::from_secs(600),
            name: format!(
                "{}-{}",
                std::process::id(),
                &uuid::Uuid::new_v4().to_string()[..8]
            ),
        }
    }
}

pub struct Worker {
    db: DatabaseConnection,
    queue: Arc<dyn JobQueue>,
    registry: Registry,
    tokens: Arc<TokenKeeper>,
    media: Arc<dyn MediaStore>,
    pull_urls: PullUrls,
    clock: SharedClock,
    stats: Arc<PublishingStats>,
    /// Product syncs share the queue: a job that names a store's sync run goes there.
    store_sync: Arc<crate::stores::sync::StoreSync>,
    /// Holds a post whose product is no longer for sale at its price.
    product_guard: Arc<crate::stores::guard::ProductGuard>,
    /// Cancelled when shutdown begins: a product sync stops at its next page boundary (a
    /// publish, which cannot stop halfway, finishes).
    stopping: CancellationToken,
    settings: WorkerSettings,
    /// Leases of attempts in flight, handed back if shutdown cuts them short.
    held: Mutex<HashMap<JobId, Lease>>,
}

/// How an attempt ended, before it is recorded.
enum Outcome {
    Published {
        published: Published,
        reconciled: bool,
    },
    /// The platform is working on it: check again after `check_after`.
    Processing {
        check_after: StdDuration,
        status: String,
    },
    Failed(PlatformError),
    /// Not sent: the post's product is not for sale as the post says (the reason in words).
    Held(String),
    /// Our own failure (database, storage): the job is tried again soon; nothing is recorded
    /// on the target, whose next attempt takes over.
    Backend(Error),
    /// The lease no longer owns the target: another attempt took over.
    Superseded,
}

impl Worker {
    /// A worker on `backend`'s database, queue, platforms, tokens, media, clock and stats.
    pub fn new(backend: &crate::backend::Backend, settings: WorkerSettings) -> Self {
        Self {
            db: backend.db.clone(),
            queue: backend.queue.clone(),
            registry: backend.registry.clone(),
            tokens: backend.tokens.clone(),
            media: backend.media.clone(),
            pull_urls: backend.pull_urls.clone(),
            clock: backend.clock.clone(),
            stats: backend.stats.clone(),
            store_sync: backend.store_sync.clone(),
            product_guard: backend.product_guard.clone(),
            stopping: CancellationToken::new(),
            settings,
            held: Mutex::new(HashMap::new()),
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<JobId, Lease>> {
        self.held
            .lock()
            .expect("the lock is never held across a panic")
    }

    /// Claims and runs jobs until `shutdown`, then waits up to `grace` for attempts in flight.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken, grace: StdDuration) {
        let permits = Arc::new(Semaphore::new(self.settings.concurrency.max(1)));
        let attempts = TaskTracker::new();
        tracing::info!(worker = %self.settings.name, concurrency = self.settings.concurrency, "publishing worker started");
        self.stats.beat(self.clock.now());
        loop {
            let permit = tokio::select! {
                permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
                () = shutdown.cancelled() => break,
            };
            if shutdown.is_cancelled() {
                break;
            }
            let claimed = self
                .queue
                .claim(self.clock.now(), self.settings.lease)
                .await;
            if claimed.is_ok() {
                self.stats.beat(self.clock.now());
            }
            match claimed {
                Ok(Some(lease)) => {
                    self.held().insert(lease.job, lease);
                    let worker = self.clone();
                    attempts.spawn(async move {
                        worker.process(lease).await;
                        worker.held().remove(&lease.job);
                        drop(permit);
                    });
                }
                Ok(None) => {
                    drop(permit);
                    tokio::select! {
                        () = tokio::time::sleep(self.idle_for().await) => {}
                        () = shutdown.cancelled() => break,
                    }
                }
                Err(error) => {
                    drop(permit);
                    // A queue outage pauses claiming; it resumes by itself.
                    tracing::warn!(%error, "cannot claim jobs; trying again in a second");
                    tokio::select! {
                        () = tokio::time::sleep(StdDuration::from_secs(1)) => {}
                        () = shutdown.cancelled() => break,
                    }
                }
            }
        }
        self.stopping.cancel();
        attempts.close();
        if tokio::time::timeout(grace, attempts.wait()).await.is_err() {
            let cut: Vec<Lease> = self.held().values().copied().collect();
            tracing::warn!(
                count = cut.len(),
                "attempts still running at the end of the grace period; their jobs go back to the queue"
            );
            for lease in cut {
                if let Err(error) = self.queue.retry(&lease, self.clock.now()).await {
                    tracing::warn!(%error, job = %lease.job.0, "could not hand a job back; its lease will expire");
                }
            }
        }
        tracing::info!(worker = %self.settings.name, "publishing worker stopped");
    }

    /// How long to sleep when nothing is due: until the next job falls due, and never longer
    /// than `idle_poll` (a job enqueued meanwhile may be due sooner).
    async fn idle_for(&self) -> StdDuration {
        let poll = self.settings.idle_poll;
        match self.queue.next_due().await {
            Ok(Some(due)) => (due - self.clock.now())
                .to_std()
                .map_or(StdDuration::ZERO, |until| until.min(poll)),
            Ok(None) | Err(_) => poll,
        }
    }

    /// One leased job, start to finish.
    pub async fn process(&self, lease: Lease) {
        if let Err(error) = self.try_process(lease).await {
            tracing::warn!(%error, job = %lease.job.0, "a publishing attempt could not be recorded; it will be tried again");
            let again = self.clock.now() + Duration::seconds(30);
            if let Err(error) = self.queue.retry(&lease, again).await {
                tracing::warn!(%error, job = %lease.job.0, "could not reschedule the job; its lease will expire");
            }
        }
    }

    async fn try_process(&self, lease: Lease) -> Result<(), Error> {
        let now = self.clock.now();
        if let Some(store) = crate::db::stores::run_of_job(&self.db, lease.job.0).await? {
            return self.store_sync.run(lease, store, &self.stopping).await;
        }
        let Some((target, post_row)) = rows::pending_target(&self.db, lease.job.0).await? else {
            // Deleted, cancelled or finished since it was queued.
            self.ack(&lease).await;
            return Ok(());
        };
        let post = PostId(target.post_id);
        let target_id = TargetId(target.id);
        // Coming back to a post the platform was processing is a check, not a new attempt.
        let checking = target.status == TargetStatus::Processing.as_str();
        let attempt = if checking {
            target.attempts
        } else {
            target.attempts + 1
        };
        // Starting the attempt and saying so is one commit.
        let txn = self.db.begin().await.map_err(DbError::from)?;
        let until = now + self.settings.lease;
        match rows::begin_attempt(&txn, target.id, lease.token.0, now, until).await? {
            Begin::Started => {}
            Begin::Gone => {
                txn.rollback().await.map_err(DbError::from)?;
                self.ack(&lease).await;
                return Ok(());
            }
            Begin::NotYet(due) => {
                txn.rollback().await.map_err(DbError::from)?;
                tracing::info!(job = %lease.job.0, %due, "the post was moved later; the job waits for its new time");
                if let Err(error) = self.queue.retry(&lease, due).await {
                    tracing::warn!(%error, job = %lease.job.0, "could not put the job back; the sweep will");
                }
                return Ok(());
            }
            Begin::HeldUntil(held_until) => {
                // Another attempt is still at work (the queue lost its lease, not the
                // database): look again when that attempt's lease runs out.
                txn.rollback().await.map_err(DbError::from)?;
                tracing::info!(job = %lease.job.0, until = %held_until, "the target is held by a running attempt; looking again when its lease runs out");
                if let Err(error) = self.queue.retry(&lease, held_until).await {
                    tracing::warn!(%error, job = %lease.job.0, "could not put the job back; the sweep will");
                }
                return Ok(());
            }
        }
        let leased = if checking {
            format!(
                "attempt {attempt}: worker {} checks on the platform's processing",
                self.settings.name
            )
        } else {
            format!("attempt {attempt}: leased by worker {}", self.settings.name)
        };
        rows::log(&txn, post, Some(target_id), LogLevel::Info, &leased, now).await?;
        txn.commit().await.map_err(DbError::from)?;

        let mut steps = Vec::new();
        let mut asked = false;
        let outcome = self
            .with_heartbeat(
                lease,
                target.id,
                self.attempt(&target, post_row, lease, &mut steps, &mut asked),
            )
            .await;
        // An earlier attempt may have posted, and this one ended before asking the platform
        // again (a token, the reconciliation or the database failed first): the doubt stays,
        // whatever this attempt's own error says, until an attempt reconciles.
        let doubt_stays = target.sent_at.is_some() && !asked;
        self.record(lease, &target, attempt, steps, outcome, doubt_stays)
            .await
    }

    /// Runs `work` while renewing the lease every heartbeat: in the database, where it keeps
    /// other workers off the target, and in the queue, where it keeps the job from being
    /// handed out again (a queue that lost it hands it out anyway; the database says no).
    async fn with_heartbeat<F: std::future::Future<Output = Outcome>>(
        &self,
        lease: Lease,
        target: uuid::Uuid,
        work: F,
    ) -> Outcome {
        let beat = async {
            let mut queued = Some(lease);
            loop {
                tokio::time::sleep(self.settings.heartbeat).await;
                let until = self.clock.now() + self.settings.lease;
                match rows::extend_lease(&self.db, target, lease.token.0, until).await {
                    // Busy workers claim nothing while every permit is taken: their
                    // attempts' heartbeats keep the pulse going.
                    Ok(true) => self.stats.beat(self.clock.now()),
                    Ok(false) => {
                        // A newer attempt holds the target: this one's result will be fenced.
                        tracing::warn!(job = %lease.job.0, "lost the target to a newer attempt");
                        std::future::pending::<()>().await;
                    }
                    Err(error) => {
                        tracing::warn!(%error, job = %lease.job.0, "could not renew the lease in the database; trying again at the next beat");
                    }
                }
                if let Some(current) = queued {
                    match self.queue.extend(&current, until).await {
                        Ok(extended) => queued = Some(extended),
                        Err(error) => {
                            tracing::warn!(%error, job = %lease.job.0, "the queue lost the lease during an attempt; the database's lease keeps the target");
                            queued = None;
                        }
                    }
                }
            }
        };
        tokio::select! {
            outcome = work => outcome,
            () = beat => unreachable!("the heartbeat never ends by itself"),
        }
    }

    /// `asked` becomes true once the irreversible call is about to be made.
    async fn attempt(
        &self,
        target: &TargetRow,
        post: Option<PostRow>,
        lease: Lease,
        steps: &mut Vec<String>,
        asked: &mut bool,
    ) -> Outcome {
        match self.try_attempt(target, post, lease, steps, asked).await {
            Ok(outcome) => outcome,
            Err(AttemptError::Platform(error)) => Outcome::Failed(error),
            Err(AttemptError::Backend(error)) => Outcome::Backend(error),
        }
    }

    async fn try_attempt(
        &self,
        target: &TargetRow,
        post: Option<PostRow>,
        lease: Lease,
        steps: &mut Vec<String>,
        asked: &mut bool,
    ) -> Result<Outcome, AttemptError> {
        let platform = Platform::parse(&target.platform)
            .ok_or_else(|| PlatformError::permanent("This post's platform is not known here."))?;
        let connection = target
            .connection_id
            .map(ConnectionId)
            .ok_or_else(|| PlatformError::permanent("The account was disconnected."))?;
        let api = self.registry.get(platform).ok_or_else(|| {
            PlatformError::permanent(format!(
                "{} is not configured by the operator.",
                platform.display_name()
            ))
        })?;
        let access = self
            .tokens
            .access_token(connection, platform, steps)
            .await?;
        let (account, token) = (&access.connection, &access.token);
        let outcome = async {
            let post = post.ok_or_else(|| PlatformError::permanent("The post was deleted."))?;
            // Before anything is sent: once a call may have gone out, the post is finished.
            if target.sent_at.is_none()
                && let Some(reason) = self.product_guard.hold_reason(&post, steps).await?
            {
                return Ok(Outcome::Held(reason));
            }
            // Platforms that download media get a signed URL for each file, when they can
            // reach it.
            let pullable = self
                .registry
                .api_url(platform)
                .is_some_and(|api| self.pull_urls.reachable_from(api));
            let now = self.clock.now();
            let media: Vec<MediaFile> = media_rows::of_posts(&self.db, &[post.id])
                .await
                .map_err(Error::from)?
                .iter()
                .map(|(_, row)| {
                    let file = MediaFile::new(row, self.media.clone());
                    if pullable {
                        let id = MediaId(row.id);
                        let poster = row
                            .poster_key
                            .as_ref()
                            .map(|_| self.pull_urls.poster_url(id, now));
                        file.with_pull_urls(self.pull_urls.url(id, now), poster)
                    } else {
                        file
                    }
                })
                .collect();
            let text = target.text.as_deref().unwrap_or(&post.text);
            let options = rows::options_of(&target.options);
            // Unreadable progress (never written by us) is treated as none: the platform starts
            // over, which the reconciliation below makes safe.
            let saved: Option<serde_json::Value> = target
                .progress
                .as_deref()
                .and_then(|raw| serde_json::from_str(raw).ok());
            let request = || PublishRequest {
                access_token: token,
                account_id: &account.account_id,
                handle: &account.handle,
                text,
                media: &media,
                options: &options,
                saved: saved.as_ref(),
            };
            if let Some(sent_at) = target.sent_at {
                // An earlier attempt may have posted: look before posting again.
                if api.lists_recent_posts(&account.account_id) || saved.is_some() {
                    match api.find_published(request(), sent_at).await? {
                        Some(published) => {
                            return Ok(Outcome::Published {
                                published,
                                reconciled: true,
                            });
                        }
                        None if saved.is_some() => steps.push(
                            "checked: not published yet, so going on from where the last attempt stopped"
                                .to_owned(),
                        ),
                        None => steps.push(format!(
                            "reconciled: not among @{}'s recent posts, so posting",
                            account.handle
                        )),
                    }
                } else {
                    steps.push(format!(
                        "{} cannot list @{}'s posts: posting again, which it refuses as a duplicate if the last attempt went out",
                        platform.display_name(),
                        account.handle
                    ));
                }
            }
            if !rows::set_sent(&self.db, target.id, lease.token.0, Some(self.clock.now()))
                .await
                .map_err(Error::from)?
            {
                return Ok(Outcome::Superseded);
            }
            *asked = true;
            let mut progress = AttemptProgress {
                db: &self.db,
                target: target.id,
                lease: lease.token.0,
                steps,
            };
            match api.publish(request(), &mut progress).await {
                Ok(PublishOutcome::Published(published)) => Ok(Outcome::Published {
                    published,
                    reconciled: false,
                }),
                Ok(PublishOutcome::AlreadyPublished(published)) => Ok(Outcome::Published {
                    published,
                    reconciled: true,
                }),
                Ok(PublishOutcome::Processing {
                    check_after,
                    status,
                }) => Ok(Outcome::Processing {
                    check_after,
                    status,
                }),
                Err(PublishError::Platform(error)) => Err(AttemptError::Platform(error)),
                Err(PublishError::Superseded) => Ok(Outcome::Superseded),
                Err(PublishError::Backend(error)) => Err(AttemptError::Backend(error)),
            }
        }
        .await;
        match outcome {
            // A token refused before its expiry gets one refresh before the user is asked to
            // reconnect (platforms.md: "refresh once, then reauth").
            Err(AttemptError::Platform(PlatformError::Reauth { detail })) => {
                if self.tokens.distrust(connection, &access).await? {
                    Err(PlatformError::Retryable {
                        wait: None,
                        maybe_done: false,
                        detail: format!(
                            "{detail}; the access token is refreshed before the next attempt"
                        ),
                    }
                    .into())
                } else {
                    Err(PlatformError::Reauth { detail }.into())
                }
            }
            other => other,
        }
    }

    /// Writes how the attempt ended, fenced by the lease, in one commit: the step lines, the
    /// target's new state, the closing line and the job's state. Then tells the queue.
    async fn record(
        &self,
        lease: Lease,
        target: &TargetRow,
        attempt: i32,
        steps: Vec<String>,
        outcome: Outcome,
        doubt_stays: bool,
    ) -> Result<(), Error> {
        let now = self.clock.now();
        let post = PostId(target.post_id);
        let target_id = TargetId(target.id);
        let mut ending = match outcome {
            Outcome::Backend(error) => {
                self.stats.attempt_ended("backend_error");
                self.write_lines(post, target_id, &steps).await?;
                return Err(error);
            }
            Outcome::Superseded => return self.superseded(lease, post, target_id, &steps).await,
            Outcome::Published {
                published,
                reconciled,
            } => {
                let how = if reconciled {
                    "reconciled: already published"
                } else {
                    "published"
                };
                Ending {
                    line: (
                        LogLevel::Info,
                        format!("{how} as {} ({})", published.external_id, published.url),
                    ),
                    status: TargetStatus::Published,
                    published: Some(published),
                    error: None,
                    next_attempt_at: None,
                    keep_sent: true,
                    job: JOB_DONE,
                    retry_at: None,
                    reconnect: false,
                }
            }
            Outcome::Processing {
                check_after,
                status,
            } => {
                let next = now + Duration::from_std(check_after).unwrap_or(Duration::MAX);
                Ending {
                    line: (
                        LogLevel::Info,
                        format!(
                            "{} is processing it ({status}); checking again at {}",
                            Platform::parse(&target.platform)
                                .map_or("The platform", Platform::display_name),
                            next.format("%Y-%m-%d %H:%M:%S UTC")
                        ),
                    ),
                    status: TargetStatus::Processing,
                    published: None,
                    error: None,
                    next_attempt_at: Some(next),
                    keep_sent: true,
                    job: JOB_PENDING,
                    retry_at: Some(next),
                    reconnect: false,
                }
            }
            Outcome::Failed(PlatformError::Retryable {
                wait,
                maybe_done,
                detail,
            }) => {
                let attempts = u32::try_from(attempt).unwrap_or(u32::MAX);
                if attempts >= self.settings.max_attempts {
                    let reason = format!("Gave up after {attempts} attempts: {detail}.");
                    Ending::failed(reason, maybe_done)
                } else {
                    let delay = self
                        .settings
                        .backoff
                        .delay(attempts, wait, &mut rand::rng());
                    let next = now + Duration::from_std(delay).unwrap_or(Duration::MAX);
                    let unknown = if maybe_done {
                        " (the outcome is unknown; the next attempt checks first)"
                    } else {
                        ""
                    };
                    Ending {
                        line: (
                            LogLevel::Warn,
                            format!(
                                "{detail}{unknown}; retry {attempts} at {}",
                                next.format("%Y-%m-%d %H:%M:%S UTC")
                            ),
                        ),
                        status: TargetStatus::Retrying,
                        published: None,
                        error: Some(detail),
                        next_attempt_at: Some(next),
                        keep_sent: maybe_done,
                        job: JOB_PENDING,
                        retry_at: Some(next),
                        reconnect: false,
                    }
                }
            }
            Outcome::Failed(PlatformError::Reauth { detail }) => {
                let reason = format!(
                    "{detail}. Reconnect @{} on the Connections page; this post will then go out.",
                    target.account_handle
                );
                Ending::parked(TargetStatus::WaitingReconnect, reason, true)
            }
            Outcome::Failed(PlatformError::Permanent { reason }) => Ending::failed(reason, false),
            Outcome::Held(reason) => Ending::parked(TargetStatus::Held, reason, false),
        };
        ending.keep_sent |= doubt_stays;

        let txn = self.db.begin().await.map_err(DbError::from)?;
        if ending.reconnect
            && let Some(connection) = target.connection_id
        {
            connection_rows::mark_needs_reconnect(&txn, ConnectionId(connection), now).await?;
        }
        let end = AttemptEnd {
            status: ending.status,
            external_id: ending.published.as_ref().map(|p| p.external_id.as_str()),
            url: ending.published.as_ref().map(|p| p.url.as_str()),
            error: ending.error.as_deref(),
            next_attempt_at: ending.next_attempt_at,
            keep_sent: ending.keep_sent,
        };
        if !rows::end_attempt(&txn, target.id, lease.token.0, end, now).await? {
            txn.rollback().await.map_err(DbError::from)?;
            return self.superseded(lease, post, target_id, &steps).await;
        }
        let (level, line) = &ending.line;
        let lines = steps
            .iter()
            .map(|step| (LogLevel::Info, step.as_str()))
            .chain([(*level, line.as_str())]);
        rows::log_lines(&txn, post, Some(target_id), lines, now).await?;
        let due = ending.retry_at.or(target.due_at).unwrap_or(now);
        rows::set_job(&txn, lease.job.0, due, ending.job, now).await?;
        txn.commit().await.map_err(DbError::from)?;
        self.stats.attempt_ended(ending.status.as_str());

        match ending.retry_at {
            Some(at) => {
                if let Err(error) = self.queue.retry(&lease, at).await {
                    tracing::warn!(%error, job = %lease.job.0, "could not requeue a retry; the sweep will");
                }
            }
            None => self.ack(&lease).await,
        }
        Ok(())
    }

    /// A newer attempt owns the target: this one's steps and result are only logged.
    async fn superseded(
        &self,
        lease: Lease,
        post: PostId,
        target: TargetId,
        steps: &[String],
    ) -> Result<(), Error> {
        self.stats.attempt_ended("superseded");
        let mut lines = steps.to_vec();
        lines.push(format!(
            "worker {}'s lease had expired and a newer attempt took over: its result was dropped",
            self.settings.name
        ));
        self.write_lines(post, target, &lines).await?;
        // The queue refuses a lost lease's ack; nothing else to do.
        let _ = self.queue.ack(&lease).await;
        Ok(())
    }

    async fn write_lines(
        &self,
        post: PostId,
        target: TargetId,
        lines: &[String],
    ) -> Result<(), Error> {
        if lines.is_empty() {
            return Ok(());
        }
        let lines = lines.iter().map(|line| (LogLevel::Info, line.as_str()));
        rows::log_lines(&self.db, post, Some(target), lines, self.clock.now()).await?;
        Ok(())
    }

    async fn ack(&self, lease: &Lease) {
        if let Err(error) = self.queue.ack(lease).await {
            tracing::debug!(%error, job = %lease.job.0, "ack refused");
        }
    }
}

/// The pipeline's [`Progress`] for one attempt: saves under the attempt's lease and gathers
/// the step lines written with its result.
struct AttemptProgress<'a> {
    db: &'a DatabaseConnection,
    target: uuid::Uuid,
    lease: uuid::Uuid,
    steps: &'a mut Vec<String>,
}

#[async_trait::async_trait]
impl Progress for AttemptProgress<'_> {
    async fn save(&mut self, progress: serde_json::Value) -> Result<(), PublishError> {
        match rows::save_progress(self.db, self.target, self.lease, &progress).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(PublishError::Superseded),
            Err(error) => Err(PublishError::Backend(error.into())),
        }
    }

    fn step(&mut self, line: String) {
        self.steps.push(line);
    }
}

/// How an attempt ends, before it is written.
struct Ending {
    line: (LogLevel, String),
    status: TargetStatus,
    published: Option<Published>,
    error: Option<String>,
    next_attempt_at: Option<DateTime<Utc>>,
    /// Whether the post may exist on the platform (the next attempt reconciles first).
    keep_sent: bool,
    job: &'static str,
    /// Set when the job goes back to the queue for another attempt.
    retry_at: Option<DateTime<Utc>>,
    /// The platform refused the grant: the account needs a reconnect.
    reconnect: bool,
}

impl Ending {
    /// The target waits in `status` for its author (a reconnect, a decision) with its job
    /// parked; `reason` is logged as a warning and shown. `reconnect`: the account must be
    /// marked as needing one.
    fn parked(status: TargetStatus, reason: String, reconnect: bool) -> Self {
        Self {
            line: (LogLevel::Warn, reason.clone()),
            status,
            published: None,
            error: Some(reason),
            next_attempt_at: None,
            keep_sent: false,
            job: JOB_PARKED,
            retry_at: None,
            reconnect,
        }
    }

    fn failed(reason: String, maybe_done: bool) -> Self {
        Self {
            line: (LogLevel::Error, format!("failed: {reason}")),
            status: TargetStatus::Failed,
            published: None,
            error: Some(reason),
            next_attempt_at: None,
            keep_sent: maybe_done,
            job: JOB_DONE,
            retry_at: None,
            reconnect: false,
        }
    }
}

enum AttemptError {
    Platform(PlatformError),
    Backend(Error),
}

impl From<PlatformError> for AttemptError {
    fn from(error: PlatformError) -> Self {
        Self::Platform(error)
    }
}

impl From<Error> for AttemptError {
    fn from(error: Error) -> Self {
        Self::Backend(error)
    }
}

impl From<TokenError> for AttemptError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::Platform(error) => Self::Platform(error),
            TokenError::Backend(error) => Self::Backend(error),
        }
    }
}
