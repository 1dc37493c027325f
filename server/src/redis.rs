//! The Redis connection (fred), when `REDIS_URL` is set. Connecting does not wait: the pool
//! reconnects in the background with backoff, and `/readyz` reports while it is down.

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
