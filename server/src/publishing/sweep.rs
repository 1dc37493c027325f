//! Keeps the queue honest with the database, which is the truth: jobs due soon that the queue
//! does not hold (Redis emptied, the in-process queue after a restart, an enqueue that failed
//! after its commit) are queued again, and leases of dead workers are handed back. Runs at
//! start-up and then every minute (reaping more often).

use std::sync::Arc;

use chrono::Duration;
use sea_orm::DatabaseConnection;

use crate::clock::SharedClock;
use crate::db::posts as rows;
use crate::error::Error;
use crate::publishing::stats::PublishingStats;
use crate::queue::{JobId, JobQueue};

/// Jobs due within this window are put in the queue, so a job due in 30 s is held by the
/// queue (and runs on time) even though the sweep runs once a minute.
const LOOKAHEAD: Duration = Duration::minutes(2);
const PAGE: u64 = 500;

pub struct Sweeper {
    db: DatabaseConnection,
    queue: Arc<dyn JobQueue>,
    clock: SharedClock,
    stats: Arc<PublishingStats>,
}

impl Sweeper {
    pub fn new(
        db: DatabaseConnection,
        queue: Arc<dyn JobQueue>,
        clock: SharedClock,
        stats: Arc<PublishingStats>,
    ) -> Self {
        Self {
            db,
            queue,
            clock,
            stats,
        }
    }

    /// Queues the pending jobs the queue is missing; how many.
    pub async fn requeue_missing(&self) -> Result<u64, Error> {
        let until = self.clock.now() + LOOKAHEAD;
        let mut after = None;
        let mut requeued = 0;
        loop {
            let jobs = rows::pending_jobs_due_by(&self.db, until, after, PAGE).await?;
            let Some(&(last, _)) = jobs.last() else {
                break;
            };
            for (job, due) in jobs {
                let job = JobId(job);
                if !self.queue.contains(job).await? {
                    self.queue.enqueue(job, due).await?;
                    requeued += 1;
                }
            }
            after = Some(last);
        }
        // Product sync runs ride the same queue; their rows say when each is due.
        for (job, due) in crate::db::stores::runs_due_by(&self.db, until, PAGE).await? {
            let job = JobId(job);
            if !self.queue.contains(job).await? {
                self.queue.enqueue(job, due).await?;
                requeued += 1;
            }
        }
        if requeued > 0 {
            tracing::info!(requeued, "queued jobs the queue was missing");
            self.stats.requeued(requeued);
        }
        Ok(requeued)
    }

    /// Hands the jobs of expired leases back to the queue; how many.
    pub async fn reap(&self) -> Result<u64, Error> {
        let reaped = self.queue.reap(self.clock.now()).await?;
        if reaped > 0 {
            tracing::info!(reaped, "leases expired; their jobs are waiting again");
            self.stats.reaped(reaped);
        }
        Ok(reaped)
    }

    /// Forgets idempotency keys past their window; how many.
    pub async fn prune_idempotency_keys(&self) -> Result<u64, Error> {
        let before = self.clock.now() - super::posts::IDEMPOTENCY_WINDOW;
        Ok(rows::delete_idempotency_keys_before(&self.db, before).await?)
    }
}
