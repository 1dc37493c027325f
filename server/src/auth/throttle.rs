//! Throttling of failed sign-ins per account and client: after `MAX_FAILURES` wrong passwords
//! within `WINDOW`, sign-in for that email from that address is refused until the window ends,
//! before any password is checked. Keyed by email *and* client address (as the client
//! middleware decided it, so never a shared proxy's) so that a stranger cannot lock a user out
//! from elsewhere.
//!
//! With Redis the counts are shared by every web process (a guesser gets the same five tries
//! however many processes the proxy spreads the attempts over) and windows are timed by Redis's
//! key expiry. Without Redis, or while it is unreachable, each process counts in memory, timed
//! by the service's clock: a restart forgets those counts, which only helps a guesser by one
//! window.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use fred::clients::Pool;
use fred::prelude::{ClientLike, KeysInterface};
use fred::types::scripts::Script;
use sha2::{Digest, Sha256};

use app::types::ClientAddr;

use crate::redis::{FallbackNotice, run_limit_script};

pub const MAX_FAILURES: u32 = 5;
pub const WINDOW: Duration = Duration::minutes(5);
/// Above this many tracked keys, expired ones are dropped on the next failure.
const PRUNE_ABOVE: usize = 10_000;

struct Failures {
    count: u32,
    window_start: DateTime<Utc>,
}

/// The throttle: in Redis when there is one, in this process otherwise.
pub struct FailedLogins {
    here: LocalFailures,
    shared: Option<SharedFailures>,
    fallback: FallbackNotice,
}

impl Default for FailedLogins {
    fn default() -> Self {
        Self {
            here: LocalFailures::default(),
            shared: None,
            fallback: FallbackNotice::new("sign-in throttles"),
        }
    }
}

/// The key of an email and a client: the email is normalised the way accounts are found.
fn key(email: &str, client: ClientAddr) -> String {
    format!("{}|{client}", email.trim().to_lowercase())
}

impl FailedLogins {
    /// Counts kept in Redis under `{prefix}:signin:`.
    pub fn shared(redis: Pool, prefix: &str) -> Self {
        Self {
            shared: Some(SharedFailures {
                pool: redis,
                prefix: format!("{prefix}:signin"),
                count: Script::from_lua(COUNT_FAILURE),
                lockout: Script::from_lua(LOCKOUT),
            }),
            ..Self::default()
        }
    }

    /// `Err(wait)` while this email and client are locked out.
    pub async fn check(
        &self,
        email: &str,
        client: ClientAddr,
        now: DateTime<Utc>,
    ) -> Result<(), Duration> {
        if let Some(shared) = &self.shared {
            match shared.lockout(email, client).await {
                Ok(verdict) => {
                    self.fallback.recovered();
                    return verdict;
                }
                Err(error) => self.fallback.failed(&error),
            }
        }
        self.here.check(email, client, now)
    }

    pub async fn record_failure(&self, email: &str, client: ClientAddr, now: DateTime<Utc>) {
        if let Some(shared) = &self.shared {
            match shared.count_failure(email, client).await {
                Ok(()) => {
                    self.fallback.recovered();
                    return;
                }
                Err(error) => self.fallback.failed(&error),
            }
        }
        self.here.record_failure(email, client, now);
    }

    pub async fn clear(&self, email: &str, client: ClientAddr) {
        if let Some(shared) = &self.shared
            && let Err(error) = shared.clear(email, client).await
        {
            self.fallback.failed(&error);
        }
        self.here.clear(email, client);
    }
}

/// Counts a failure; the first one starts the window. KEYS: the count. ARGV: the window in ms.
const COUNT_FAILURE: &str = r"
local failures = redis.call('INCR', KEYS[1])
if failures == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return failures
";

/// The milliseconds left of a lockout, or 0. KEYS: the count. ARGV: the failures that lock.
const LOCKOUT: &str = r"
local failures = tonumber(redis.call('GET', KEYS[1]) or '0')
if failures < tonumber(ARGV[1]) then
  return 0
end
return math.max(redis.call('PTTL', KEYS[1]), 0)
";

struct SharedFailures {
    pool: Pool,
    prefix: String,
    count: Script,
    lockout: Script,
}

impl SharedFailures {
    /// The email is hashed so that Redis holds no address in the clear.
    fn key(&self, email: &str, client: ClientAddr) -> String {
        let digest = Sha256::digest(key(email, client).as_bytes());
        format!("{}:{digest:x}", self.prefix)
    }

    async fn lockout(
        &self,
        email: &str,
        client: ClientAddr,
    ) -> Result<Result<(), Duration>, fred::error::Error> {
        let keys = vec![self.key(email, client)];
        let left_ms: i64 = run_limit_script(
            &self.pool,
            &self.lockout,
            keys,
            vec![MAX_FAILURES.to_string()],
        )
        .await?;
        Ok(if left_ms > 0 {
            Err(Duration::milliseconds(left_ms))
        } else {
            Ok(())
        })
    }

    async fn count_failure(
        &self,
        email: &str,
        client: ClientAddr,
    ) -> Result<(), fred::error::Error> {
        let keys = vec![self.key(email, client)];
        let window_ms = WINDOW.num_milliseconds().to_string();
        let _failures: i64 =
            run_limit_script(&self.pool, &self.count, keys, vec![window_ms]).await?;
        Ok(())
    }

    async fn clear(&self, email: &str, client: ClientAddr) -> Result<(), fred::error::Error> {
        let options = fred::prelude::Options {
            fail_fast: true,
            timeout: Some(crate::redis::SHARED_LIMIT_TIMEOUT),
            ..Default::default()
        };
        self.pool
            .next_connected()
            .with_options(&options)
            .del::<(), _>(self.key(email, client))
            .await
    }
}

/// The counts of one process.
#[derive(Default)]
struct LocalFailures {
    by_key: Mutex<HashMap<String, Failures>>,
}

impl LocalFailures {
    /// `Err(wait)` while this email and client are locked out.
    pub fn check(
        &self,
        email: &str,
        client: ClientAddr,
        now: DateTime<Utc>,
    ) -> Result<(), Duration> {
        let by_key = self
            .by_key
            .lock()
            .expect("the lock is never held across a panic");
        match by_key.get(&key(email, client)) {
            Some(failures) if failures.count >= MAX_FAILURES => {
                let ends = failures.window_start + WINDOW;
                if now < ends { Err(ends - now) } else { Ok(()) }
            }
            _ => Ok(()),
        }
    }

    pub fn record_failure(&self, email: &str, client: ClientAddr, now: DateTime<Utc>) {
        let mut by_key = self
            .by_key
            .lock()
            .expect("the lock is never held across a panic");
        if by_key.len() > PRUNE_ABOVE {
            by_key.retain(|_, failures| now - failures.window_start < WINDOW);
        }
        let failures = by_key.entry(key(email, client)).or_insert(Failures {
            count: 0,
            window_start: now,
        });
        if now - failures.window_start >= WINDOW {
            *failures = Failures {
                count: 0,
                window_start: now,
            };
        }
        failures.count += 1;
    }

    pub fn clear(&self, email: &str, client: ClientAddr) {
        self.by_key
            .lock()
            .expect("the lock is never held across a panic")
            .remove(&key(email, client));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(ip: &str) -> ClientAddr {
        ClientAddr::from_ip(ip.parse().unwrap())
    }

    #[test]
    fn the_fifth_failure_locks_until_the_window_ends() {
        let throttle = LocalFailures::default();
        let start = Utc::now();
        for i in 0..MAX_FAILURES {
            assert!(
                throttle
                    .check("Ana@example.com", client("10.0.0.1"), start)
                    .is_ok(),
                "attempt {i}"
            );
            throttle.record_failure("ana@example.com", client("10.0.0.1"), start);
        }
        let later = start + Duration::seconds(60);
        assert_eq!(
            throttle.check("ana@example.com", client("10.0.0.1"), later),
            Err(WINDOW - Duration::seconds(60))
        );
        assert!(
            throttle
                .check("ana@example.com", client("10.0.0.2"), later)
                .is_ok(),
            "another client is not locked"
        );
        assert!(
            throttle
                .check("ana@example.com", client("10.0.0.1"), start + WINDOW)
                .is_ok(),
            "the lock ends"
        );
    }

    #[test]
    fn a_success_clears_the_count() {
        let throttle = LocalFailures::default();
        let now = Utc::now();
        for _ in 0..MAX_FAILURES - 1 {
            throttle.record_failure("a@b.co", client("192.0.2.9"), now);
        }
        throttle.clear("a@b.co", client("192.0.2.9"));
        throttle.record_failure("a@b.co", client("192.0.2.9"), now);
        assert!(throttle.check("a@b.co", client("192.0.2.9"), now).is_ok());
    }

    #[test]
    fn failures_spread_thinner_than_the_limit_never_lock() {
        let throttle = LocalFailures::default();
        let start = Utc::now();
        // Four failures per window, for three windows.
        for step in 0..3 * (MAX_FAILURES - 1) {
            let now = start + WINDOW / (MAX_FAILURES - 1) as i32 * step as i32;
            throttle.record_failure("a@b.co", client("192.0.2.9"), now);
            assert!(
                throttle.check("a@b.co", client("192.0.2.9"), now).is_ok(),
                "locked at step {step}"
            );
        }
    }
}
