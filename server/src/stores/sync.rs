//! Product syncs: a run per store, carried by the publishing queue like a post's job, so the
//! workers that publish also sync and a request never waits for a store.
//!
//! A run reads its store's products a page at a time. Each page and the place to resume from
//! are committed together, so a run cut short (a crash, a restart, a lease that ran out) goes
//! on from the last page it finished; products are stored by the store's own id, so a page
//! read twice changes nothing. When a store asks to wait (a rate limit, an outage), the run
//! gives its worker back and its job comes due again after the wait. A full walk ends by marking
//! the products it did not see as gone; an incremental run reads only what changed since the
//! last run started (with a margin for clocks), and a full walk happens at least daily.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{DatabaseConnection, TransactionTrait};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use app::types::{ConnectionStatus, Store};

use super::StoreRegistry;
use super::api::SyncScope;
use crate::clock::SharedClock;
use crate::connections::tokens::{TokenError, TokenGate};
use crate::db::DbError;
use crate::db::products;
use crate::db::stores::{self as rows, RunScope, StoreRow};
use crate::db::token_rows::{self, TokenTable};
use crate::error::Error;
use crate::platforms::PlatformError;
use crate::queue::{JobId, JobQueue, Lease};

/// A run that failed this many attempts in a row stops, with the last error shown.
const MAX_ATTEMPTS: i32 = 8;
/// An automatic sync reads everything at least this often, to find removed products.
const FULL_EVERY: Duration = Duration::hours(24);
/// Incremental runs read changes since the last run started, less this, for the store's clock.
const CLOCK_MARGIN: Duration = Duration::minutes(2);
/// Automatic syncs queued per look, so a large installation spreads them out.
const AUTOMATIC_BATCH: u64 = 100;

/// How a walk over the pages ended.
enum Walked {
    /// Every page is stored.
    Done,
    /// The run is no longer this job's: the store was disconnected, or a newer run replaced it.
    Lost,
    /// The worker is shutting down: the run stops between pages and its job waits again.
    Paused,
}

pub struct StoreSync {
    db: DatabaseConnection,
    queue: Arc<dyn JobQueue>,
    registry: StoreRegistry,
    gate: TokenGate,
    clock: SharedClock,
    /// How long a lease lasts; each page extends it.
    lease: Duration,
    /// `STORE_SYNC_INTERVAL`.
    interval: Duration,
}

impl StoreSync {
    pub fn new(
        db: DatabaseConnection,
        queue: Arc<dyn JobQueue>,
        registry: StoreRegistry,
        gate: TokenGate,
        clock: SharedClock,
        lease: Duration,
        interval: std::time::Duration,
    ) -> Self {
        Self {
            db,
            queue,
            registry,
            gate,
            clock,
            lease,
            interval: Duration::from_std(interval).unwrap_or(Duration::hours(6)),
        }
    }

    pub fn registry(&self) -> &StoreRegistry {
        &self.registry
    }

    /// Queues a run for `row`'s store, due now: everything when `full` (or when no full walk
    /// happened within a day), else what changed since the last run. `false` when a run already
    /// waits or works.
    pub async fn request(&self, row: &StoreRow, full: bool) -> Result<bool, Error> {
        let now = self.clock.now();
        let changed_since = row
            .last_sync_started_at
            .filter(|_| !full)
            .filter(|_| {
                row.last_full_sync_at
                    .is_some_and(|at| at > now - FULL_EVERY)
            })
            .map(|started| started - CLOCK_MARGIN);
        let (scope, since) = match changed_since {
            Some(since) => (RunScope::Changed, Some(since)),
            None => (RunScope::Full, None),
        };
        let job = Uuid::new_v4();
        if !rows::queue_sync(&self.db, row.id, job, scope, since, now, now).await? {
            return Ok(false);
        }
        // The row is the truth: if the queue cannot take the job now, the sweep puts it there.
        if let Err(error) = self.queue.enqueue(JobId(job), now).await {
            tracing::warn!(%error, store = %row.id, "could not queue a product sync; the sweep will");
        }
        tracing::info!(store = %row.id, ?scope, "product sync queued");
        Ok(true)
    }

    /// Queues the automatic runs that are due; how many.
    pub async fn queue_due(&self) -> Result<u64, Error> {
        let before = self.clock.now() - self.interval;
        let mut queued = 0;
        for row in rows::due_for_automatic_sync(&self.db, before, AUTOMATIC_BATCH).await? {
            if self.request(&row, false).await? {
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// One leased run, from where it stopped until it ends or must wait. Our own failures
    /// (the database) are returned, and the worker tries the job again soon.
    pub async fn run(
        &self,
        lease: Lease,
        row: StoreRow,
        stopping: &CancellationToken,
    ) -> Result<(), Error> {
        let job = lease.job.0;
        let now = self.clock.now();
        if !rows::run_attempt(&self.db, row.id, job, now).await? {
            self.ack(&lease).await;
            return Ok(());
        }
        let started = row.sync_started_at.unwrap_or(now);
        let (scope, run_scope) = match (
            row.sync_scope.as_deref().and_then(RunScope::parse),
            row.sync_since,
        ) {
            (Some(RunScope::Changed), Some(since)) => {
                (SyncScope::ChangedSince(since), RunScope::Changed)
            }
            _ => (SyncScope::Full, RunScope::Full),
        };
        let walked = self.walk(lease, &row, scope, stopping).await;
        let now = self.clock.now();
        match walked {
            Ok(Walked::Done) => {
                if run_scope == RunScope::Full {
                    let gone = products::mark_unseen_gone(&self.db, row.id, job, now).await?;
                    if gone > 0 {
                        tracing::info!(store = %row.id, gone, "products no longer at the store");
                    }
                }
                rows::run_finished(&self.db, row.id, job, run_scope, started, now).await?;
                tracing::info!(store = %row.id, "product sync finished");
                self.ack(&lease).await;
            }
            Ok(Walked::Lost) => self.ack(&lease).await,
            Ok(Walked::Paused) => {
                tracing::info!(store = %row.id, "product sync paused for shutdown; it goes on from its last page");
                if let Err(error) = self.queue.retry(&lease, now).await {
                    tracing::warn!(%error, store = %row.id, "could not hand the sync back; its lease will expire");
                }
            }
            Err(TokenError::Backend(error)) => return Err(error),
            Err(TokenError::Platform(PlatformError::Retryable { wait, detail, .. }))
                if row.sync_attempts + 1 < MAX_ATTEMPTS =>
            {
                let wait = wait
                    .and_then(|wait| Duration::from_std(wait).ok())
                    .unwrap_or_else(|| backoff(row.sync_attempts));
                let due = now + wait;
                let why = format!(
                    "{detail}; the sync goes on at {}",
                    due.format("%H:%M:%S UTC")
                );
                rows::run_waits(&self.db, row.id, job, due, &why, now).await?;
                tracing::info!(store = %row.id, %detail, wait_secs = wait.num_seconds(), "product sync waits");
                if let Err(error) = self.queue.retry(&lease, due).await {
                    tracing::warn!(%error, store = %row.id, "could not put the sync back in the queue; the sweep will");
                }
            }
            Err(TokenError::Platform(error)) => {
                let why = failure_sentence(store_of(&row), &error);
                rows::run_failed(&self.db, row.id, job, &why, started, now).await?;
                tracing::warn!(store = %row.id, %error, "product sync stopped");
                self.ack(&lease).await;
            }
        }
        Ok(())
    }

    /// Reads and stores pages from the run's saved place to the last page.
    async fn walk(
        &self,
        lease: Lease,
        row: &StoreRow,
        scope: SyncScope,
        stopping: &CancellationToken,
    ) -> Result<Walked, TokenError> {
        let store = store_of(row);
        let api = self.registry.get(store).ok_or_else(|| {
            PlatformError::permanent(format!(
                "{} is not configured by the operator of this Picscripterai any more.",
                store.display_name()
            ))
        })?;
        let job = lease.job.0;
        let mut lease = lease;
        let mut cursor = row.sync_cursor.clone();
        let mut distrusted = false;
        loop {
            let account = row.account_id.clone();
            let refresher = api.clone();
            let usable = self
                .gate
                .usable(
                    TokenTable::Stores,
                    row.id,
                    store.display_name(),
                    |refresh_token| async move { refresher.refresh(&account, &refresh_token).await },
                    &mut Vec::new(),
                )
                .await?;
            let page = match api
                .products(&row.account_id, &usable.token, scope, cursor.as_deref())
                .await
            {
                Ok(page) => page,
                // Refused before its time: refresh once, then ask again.
                Err(PlatformError::Reauth { .. })
                    if !distrusted
                        && self
                            .gate
                            .distrust(TokenTable::Stores, row.id, &usable)
                            .await? =>
                {
                    distrusted = true;
                    continue;
                }
                Err(error @ PlatformError::Reauth { .. }) => {
                    token_rows::mark_needs_reconnect(
                        &self.db,
                        TokenTable::Stores,
                        row.id,
                        self.clock.now(),
                    )
                    .await?;
                    return Err(error.into());
                }
                Err(error) => return Err(error.into()),
            };
            distrusted = false;
            let now = self.clock.now();
            let count = u32::try_from(page.products.len()).unwrap_or(u32::MAX);
            let txn = self.db.begin().await.map_err(DbError::from)?;
            products::store_page(&txn, row.id, row.user_id, job, &page.products, now).await?;
            if !rows::page_done(&txn, row.id, job, page.next.as_deref(), count, now).await? {
                txn.rollback().await.map_err(DbError::from)?;
                return Ok(Walked::Lost);
            }
            txn.commit().await.map_err(DbError::from)?;
            match self.queue.extend(&lease, now + self.lease).await {
                Ok(extended) => lease = extended,
                // The row keeps the run's place whoever goes on with it.
                Err(error) => {
                    tracing::warn!(%error, store = %row.id, "the queue lost a sync's lease")
                }
            }
            match page.next {
                None => return Ok(Walked::Done),
                Some(_) if stopping.is_cancelled() => return Ok(Walked::Paused),
                Some(next) => cursor = Some(next),
            }
        }
    }

    async fn ack(&self, lease: &Lease) {
        if let Err(error) = self.queue.ack(lease).await {
            tracing::warn!(%error, job = %lease.job.0, "could not finish a sync job in the queue; its lease will expire");
        }
    }
}

fn store_of(row: &StoreRow) -> Store {
    // Rows are written from `Store` values only.
    Store::parse(&row.store).unwrap_or(Store::Shopify)
}

/// After `attempts` failed attempts without a wait from the store: 30 s, doubling, at most
/// half an hour.
fn backoff(attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.clamp(0, 6)).unwrap_or(0);
    (Duration::seconds(30) * 2i32.pow(doublings)).min(Duration::minutes(30))
}

/// What the person reads under the store when a run stopped for good.
fn failure_sentence(store: Store, error: &PlatformError) -> String {
    match error {
        PlatformError::Reauth { .. } => format!(
            "{} no longer accepts this connection: reconnect the store to sync its products.",
            store.display_name()
        ),
        PlatformError::Retryable { detail, .. } => format!(
            "The sync stopped after {MAX_ATTEMPTS} attempts: {detail}. Try \"Sync now\" later."
        ),
        PlatformError::Permanent { reason } => reason.clone(),
    }
}

/// Whether a store's status lets it sync.
pub fn can_sync(row: &StoreRow) -> bool {
    row.status == ConnectionStatus::Active.as_str()
}

/// When a run that waits is due again, for the Connections page.
pub fn due_again(row: &StoreRow) -> Option<DateTime<Utc>> {
    row.sync_job_id.and(row.sync_due_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_half_an_hour() {
        assert_eq!(backoff(0), Duration::seconds(30));
        assert_eq!(backoff(1), Duration::seconds(60));
        assert_eq!(backoff(5), Duration::seconds(960));
        assert_eq!(backoff(6), Duration::minutes(30));
        assert_eq!(backoff(60), Duration::minutes(30));
    }
}
