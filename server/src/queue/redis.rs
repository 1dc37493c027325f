//! The Redis backend of the job queue, for production and scale-out: any number of web and
//! worker processes share one queue. Three keys per queue, under a prefix:
//! - `<prefix>:waiting`, a sorted set: job id scored by its due time (ms since the epoch);
//! - `<prefix>:leased`, a sorted set: job id scored by when its lease expires;
//! - `<prefix>:tokens`, a hash: job id to the token of its current lease.
//!
//! Every state change is one Lua script, so it is atomic, and every script that touches a
//! leased job first checks the lease token. Scripts run by hash and are loaded again when the
//! server forgot them (a restart, `SCRIPT FLUSH`).

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use fred::clients::Pool;
use fred::types::scripts::Script;
use uuid::Uuid;

use super::{JobId, JobQueue, Lease, LeaseToken, QueueError};

/// KEYS: waiting, tokens. ARGV: job, due. A job being worked is left to its worker.
const ENQUEUE: &str = r"
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1";

/// KEYS: waiting, leased, tokens. ARGV: now, lease expiry, token. The earliest due job (ties by
/// id), or nil.
const CLAIM: &str = r"
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 1)
if #due == 0 then return false end
local job = due[1]
redis.call('ZREM', KEYS[1], job)
redis.call('ZADD', KEYS[2], ARGV[2], job)
redis.call('HSET', KEYS[3], job, ARGV[3])
return job";

/// KEYS: leased, tokens. ARGV: job, token. 1 when the lease held and the job is gone.
const ACK: &str = r"
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1";

/// KEYS: waiting, leased, tokens. ARGV: job, token, retry at. 1 when the lease held.
const RETRY: &str = r"
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1";

/// KEYS: leased, tokens. ARGV: job, token, new expiry. 1 when the lease held.
const EXTEND: &str = r"
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1";

/// KEYS: waiting, leased, tokens. ARGV: now. Moves expired leases back to waiting, due now.
const REAP: &str = r"
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
for _, job in ipairs(expired) do
  redis.call('ZREM', KEYS[2], job)
  redis.call('HDEL', KEYS[3], job)
  redis.call('ZADD', KEYS[1], ARGV[1], job)
end
return #expired";

/// KEYS: waiting. The due time (ms) of the earliest waiting job, or nil.
const NEXT_DUE: &str = r"
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #first == 0 then return false end
return first[2]";

/// KEYS: waiting, tokens. ARGV: job. 1 when the job is waiting or leased.
const CONTAINS: &str = r"
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 1 end
return redis.call('HEXISTS', KEYS[2], ARGV[1])";

struct Scripts {
    enqueue: Script,
    claim: Script,
    ack: Script,
    retry: Script,
    extend: Script,
    reap: Script,
    contains: Script,
    next_due: Script,
}

pub struct RedisQueue {
    pool: Pool,
    waiting: String,
    leased: String,
    tokens: String,
    scripts: Scripts,
}

impl RedisQueue {
    /// A queue whose keys start with `prefix` (one prefix per deployment, or per test).
    pub fn new(pool: Pool, prefix: &str) -> Self {
        Self {
            pool,
            waiting: format!("{prefix}:waiting"),
            leased: format!("{prefix}:leased"),
            tokens: format!("{prefix}:tokens"),
            scripts: Scripts {
                enqueue: Script::from_lua(ENQUEUE),
                claim: Script::from_lua(CLAIM),
                ack: Script::from_lua(ACK),
                retry: Script::from_lua(RETRY),
                extend: Script::from_lua(EXTEND),
                reap: Script::from_lua(REAP),
                contains: Script::from_lua(CONTAINS),
                next_due: Script::from_lua(NEXT_DUE),
            },
        }
    }

    async fn run<R: fred::types::FromValue>(
        &self,
        script: &Script,
        keys: Vec<&str>,
        args: Vec<String>,
    ) -> Result<R, QueueError> {
        let keys: Vec<String> = keys.into_iter().map(str::to_owned).collect();
        script
            .evalsha_with_reload(self.pool.next(), keys, args)
            .await
            .map_err(|error| QueueError::Unavailable(error.to_string()))
    }
}

fn millis(at: DateTime<Utc>) -> String {
    at.timestamp_millis().to_string()
}

fn lease_held(held: i64, lease: &Lease) -> Result<(), QueueError> {
    if held == 1 {
        Ok(())
    } else {
        Err(QueueError::LeaseLost(lease.job))
    }
}

#[async_trait]
impl JobQueue for RedisQueue {
    async fn enqueue(&self, job: JobId, due: DateTime<Utc>) -> Result<(), QueueError> {
        let keys = vec![self.waiting.as_str(), self.tokens.as_str()];
        let _: i64 = self
            .run(
                &self.scripts.enqueue,
                keys,
                vec![job.0.to_string(), millis(due)],
            )
            .await?;
        Ok(())
    }

    async fn claim(
        &self,
        now: DateTime<Utc>,
        visibility: Duration,
    ) -> Result<Option<Lease>, QueueError> {
        let token = LeaseToken(Uuid::new_v4());
        let expires_at = now + visibility;
        let keys = vec![
            self.waiting.as_str(),
            self.leased.as_str(),
            self.tokens.as_str(),
        ];
        let args = vec![millis(now), millis(expires_at), token.0.to_string()];
        let job: Option<String> = self.run(&self.scripts.claim, keys, args).await?;
        job.map(|job| {
            let job = job.parse().map_err(|_| {
                QueueError::Unavailable(format!("the queue holds a bad job id `{job}`"))
            })?;
            Ok(Lease {
                job: JobId(job),
                token,
                expires_at,
            })
        })
        .transpose()
    }

    async fn ack(&self, lease: &Lease) -> Result<(), QueueError> {
        let keys = vec![self.leased.as_str(), self.tokens.as_str()];
        let args = vec![lease.job.0.to_string(), lease.token.0.to_string()];
        lease_held(self.run(&self.scripts.ack, keys, args).await?, lease)
    }

    async fn retry(&self, lease: &Lease, retry_at: DateTime<Utc>) -> Result<(), QueueError> {
        let keys = vec![
            self.waiting.as_str(),
            self.leased.as_str(),
            self.tokens.as_str(),
        ];
        let args = vec![
            lease.job.0.to_string(),
            lease.token.0.to_string(),
            millis(retry_at),
        ];
        lease_held(self.run(&self.scripts.retry, keys, args).await?, lease)
    }

    async fn extend(&self, lease: &Lease, until: DateTime<Utc>) -> Result<Lease, QueueError> {
        let keys = vec![self.leased.as_str(), self.tokens.as_str()];
        let args = vec![
            lease.job.0.to_string(),
            lease.token.0.to_string(),
            millis(until),
        ];
        lease_held(self.run(&self.scripts.extend, keys, args).await?, lease)?;
        Ok(Lease {
            expires_at: until,
            ..*lease
        })
    }

    async fn reap(&self, now: DateTime<Utc>) -> Result<u64, QueueError> {
        let keys = vec![
            self.waiting.as_str(),
            self.leased.as_str(),
            self.tokens.as_str(),
        ];
        let reaped: i64 = self
            .run(&self.scripts.reap, keys, vec![millis(now)])
            .await?;
        Ok(u64::try_from(reaped).unwrap_or(0))
    }

    async fn next_due(&self) -> Result<Option<DateTime<Utc>>, QueueError> {
        let due: Option<String> = self
            .run(&self.scripts.next_due, vec![self.waiting.as_str()], vec![])
            .await?;
        due.map(|millis| {
            millis
                .parse::<f64>()
                .ok()
                .and_then(|millis| DateTime::from_timestamp_millis(millis as i64))
                .ok_or_else(|| {
                    QueueError::Unavailable(format!("the queue holds a bad due time `{millis}`"))
                })
        })
        .transpose()
    }

    async fn contains(&self, job: JobId) -> Result<bool, QueueError> {
        let keys = vec![self.waiting.as_str(), self.tokens.as_str()];
        let found: i64 = self
            .run(&self.scripts.contains, keys, vec![job.0.to_string()])
            .await?;
        Ok(found == 1)
    }
}
