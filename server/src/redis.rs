//! The Redis connection (fred), when `REDIS_URL` is set. Connecting does not wait: the pool
//! reconnects in the background with backoff, and `/readyz` reports while it is down. Limits
//! shared between processes (rate limits, the sign-in throttle) ask it with a short timeout and
//! fall back to their per-process form while it is down.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use fred::prelude::*;
use secrecy::{ExposeSecret, SecretString};

const POOL_SIZE: usize = 4;

pub fn connect(url: &SecretString) -> Result<Pool, Error> {
    let config = Config::from_url(url.expose_secret())?;
    let pool = Builder::from_config(config)
        .with_connection_config(|connection| {
            connection.connection_timeout = Duration::from_secs(2);
            connection.internal_command_timeout = Duration::from_secs(2);
        })
        .with_performance_config(|performance| {
            performance.default_command_timeout = Duration::from_secs(2);
        })
        // Retry forever, from 100 ms up to 10 s between attempts.
        .set_policy(ReconnectPolicy::new_exponential(0, 100, 10_000, 2))
        .build_pool(POOL_SIZE)?;
    // Spawns the tasks that drive the connections until `quit()`; nothing waits on them.
    let _connections = ClientLike::connect(&pool);
    Ok(pool)
}

/// How long a request may wait on Redis for a shared limit before its process decides alone.
pub const SHARED_LIMIT_TIMEOUT: Duration = Duration::from_millis(250);

/// Runs `script` for a limit shared between processes, failing at once when no connection is
/// up and after [`SHARED_LIMIT_TIMEOUT`] otherwise: a request never waits out a Redis outage.
pub async fn run_limit_script<R: FromValue>(
    pool: &Pool,
    script: &fred::types::scripts::Script,
    keys: Vec<String>,
    args: Vec<String>,
) -> Result<R, Error> {
    let client = pool.next_connected();
    if !client.is_connected() {
        return Err(Error::new(ErrorKind::IO, "no connection to Redis"));
    }
    tokio::time::timeout(
        SHARED_LIMIT_TIMEOUT,
        script.evalsha_with_reload(client, keys, args),
    )
    .await
    .unwrap_or_else(|_| {
        Err(Error::new(
            ErrorKind::Timeout,
            "Redis did not answer in time",
        ))
    })
}

/// Says once that a shared limit fell back to its per-process form because Redis failed, and
/// once that it is shared again, instead of a line per request.
pub struct FallbackNotice {
    what: &'static str,
    degraded: AtomicBool,
}

impl FallbackNotice {
    /// `what` names the limits in the log lines, e.g. "rate limits".
    pub const fn new(what: &'static str) -> Self {
        Self {
            what,
            degraded: AtomicBool::new(false),
        }
    }

    pub fn failed(&self, error: &Error) {
        if !self.degraded.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                %error,
                "Redis is unreachable: {} now count per process, not across processes, until it is back",
                self.what
            );
        }
    }

    pub fn recovered(&self) {
        if self.degraded.swap(false, Ordering::Relaxed) {
            tracing::info!("Redis is back: {} count across processes again", self.what);
        }
    }
}
