//! The job queue: it carries job ids and due times, never a job's content. The database is the
//! truth about every post and job; losing the queue's contents loses nothing, because due jobs
//! missing from it are enqueued again from the database. A worker *leases* a job for a
//! visibility timeout: if it dies, the lease expires and `reap` hands the job to another
//! worker. Every change to a leased job names the lease's token, so a worker whose lease
//! expired cannot ack, retry or extend a job someone else now holds.
//!
//! Two backends pass one conformance suite (`server/tests/queue.rs`): `local` (in-process,
//! the embedded default) and, with `REDIS_URL`, Redis.

pub mod local;
pub mod redis;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub Uuid);

/// Proof of holding a job: changes to the job must present it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LeaseToken(pub Uuid);

/// A job held by one worker until `expires_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub job: JobId,
    pub token: LeaseToken,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The lease expired and the job was reaped (and maybe leased again): the caller must not
    /// record anything as if it still held the job.
    #[error("the lease on job {} is no longer held", .0.0)]
    LeaseLost(JobId),
    /// The backend could not be reached or answered nonsense.
    #[error("the queue is unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait JobQueue: Send + Sync + 'static {
    /// Makes `job` wait until `due`. A job already waiting moves to the new time; a job that
    /// is leased is left to its worker.
    async fn enqueue(&self, job: JobId, due: DateTime<Utc>) -> Result<(), QueueError>;

    /// The waiting job due earliest, if one is due at `now`, leased until `now + visibility`.
    async fn claim(
        &self,
        now: DateTime<Utc>,
        visibility: Duration,
    ) -> Result<Option<Lease>, QueueError>;

    /// The job is finished: it leaves the queue.
    async fn ack(&self, lease: &Lease) -> Result<(), QueueError>;

    /// The job goes back to waiting, due at `retry_at`.
    async fn retry(&self, lease: &Lease, retry_at: DateTime<Utc>) -> Result<(), QueueError>;

    /// A heartbeat: the lease now lasts until `until`.
    async fn extend(&self, lease: &Lease, until: DateTime<Utc>) -> Result<Lease, QueueError>;

    /// Returns every job whose lease expired by `now` to waiting, due at once; how many.
    async fn reap(&self, now: DateTime<Utc>) -> Result<u64, QueueError>;

    /// When the earliest waiting job falls due, if one waits: an idle worker sleeps until
    /// then rather than a fixed poll, so a job is taken when it falls due.
    async fn next_due(&self) -> Result<Option<DateTime<Utc>>, QueueError>;

    /// Whether the queue knows `job` (waiting or leased): the database sweep enqueues the due
    /// jobs it does not.
    async fn contains(&self, job: JobId) -> Result<bool, QueueError>;
}
