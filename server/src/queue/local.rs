//! The in-process queue of the embedded default: the same contract as Redis, held in memory
//! behind one mutex. It is rebuilt from the database at start-up (a restart empties it).

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{JobId, JobQueue, Lease, LeaseToken, QueueError};

#[derive(Default)]
struct State {
    /// Waiting jobs by due time (the job id breaks ties, oldest id first).
    waiting: BTreeSet<(DateTime<Utc>, JobId)>,
    due: HashMap<JobId, DateTime<Utc>>,
    leased: HashMap<JobId, (LeaseToken, DateTime<Utc>)>,
}

impl State {
    fn wait(&mut self, job: JobId, due: DateTime<Utc>) {
        if let Some(old) = self.due.insert(job, due) {
            self.waiting.remove(&(old, job));
        }
        self.waiting.insert((due, job));
    }

    /// Removes `lease`'s job from the leased set if the lease still holds it.
    fn release(&mut self, lease: &Lease) -> Result<(), QueueError> {
        match self.leased.get(&lease.job) {
            Some((token, _)) if *token == lease.token => {
                self.leased.remove(&lease.job);
                Ok(())
            }
            _ => Err(QueueError::LeaseLost(lease.job)),
        }
    }
}

#[derive(Default)]
pub struct LocalQueue {
    state: Mutex<State>,
}

impl LocalQueue {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .expect("the lock is never held across a panic")
    }
}

#[async_trait]
impl JobQueue for LocalQueue {
    async fn enqueue(&self, job: JobId, due: DateTime<Utc>) -> Result<(), QueueError> {
        let mut state = self.state();
        if !state.leased.contains_key(&job) {
            state.wait(job, due);
        }
        Ok(())
    }

    async fn next_due(&self) -> Result<Option<DateTime<Utc>>, QueueError> {
        Ok(self.state().waiting.first().map(|(due, _)| *due))
    }

    async fn claim(
        &self,
        now: DateTime<Utc>,
        visibility: Duration,
    ) -> Result<Option<Lease>, QueueError> {
        let mut state = self.state();
        let Some(&(due, job)) = state.waiting.first() else {
            return Ok(None);
        };
        if due > now {
            return Ok(None);
        }
        state.waiting.remove(&(due, job));
        state.due.remove(&job);
        let lease = Lease {
            job,
            token: LeaseToken(Uuid::new_v4()),
            expires_at: now + visibility,
        };
        state.leased.insert(job, (lease.token, lease.expires_at));
        Ok(Some(lease))
    }

    async fn ack(&self, lease: &Lease) -> Result<(), QueueError> {
        self.state().release(lease)
    }

    async fn retry(&self, lease: &Lease, retry_at: DateTime<Utc>) -> Result<(), QueueError> {
        let mut state = self.state();
        state.release(lease)?;
        state.wait(lease.job, retry_at);
        Ok(())
    }

    async fn extend(&self, lease: &Lease, until: DateTime<Utc>) -> Result<Lease, QueueError> {
        let mut state = self.state();
        match state.leased.get_mut(&lease.job) {
            Some((token, expires_at)) if *token == lease.token => {
                *expires_at = until;
                Ok(Lease {
                    expires_at: until,
                    ..*lease
                })
            }
            _ => Err(QueueError::LeaseLost(lease.job)),
        }
    }

    async fn reap(&self, now: DateTime<Utc>) -> Result<u64, QueueError> {
        let mut state = self.state();
        let expired: Vec<JobId> = state
            .leased
            .iter()
            .filter(|(_, (_, expires_at))| *expires_at <= now)
            .map(|(job, _)| *job)
            .collect();
        for job in &expired {
            state.leased.remove(job);
            state.wait(*job, now);
        }
        Ok(expired.len() as u64)
    }

    async fn contains(&self, job: JobId) -> Result<bool, QueueError> {
        let state = self.state();
        Ok(state.due.contains_key(&job) || state.leased.contains_key(&job))
    }
}
