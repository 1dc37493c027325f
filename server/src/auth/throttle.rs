//! Throttling of failed sign-ins per account and client: after `MAX_FAILURES` wrong passwords
//! within `WINDOW`, sign-in for that email from that address is refused until the window ends,
//! before any password is checked. Keyed by email *and* client address (as the client
//! middleware decided it, so never a shared proxy's) so that a stranger cannot lock a user out
//! from elsewhere. Held in memory: a restart forgets it, which only helps a guesser by one
//! window. Times come from the service's clock.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use app::types::ClientAddr;

pub const MAX_FAILURES: u32 = 5;
pub const WINDOW: Duration = Duration::minutes(5);
/// Above this many tracked keys, expired ones are dropped on the next failure.
const PRUNE_ABOVE: usize = 10_000;

struct Failures {
    count: u32,
    window_start: DateTime<Utc>,
}

#[derive(Default)]
pub struct FailedLogins {
    by_key: Mutex<HashMap<String, Failures>>,
}

impl FailedLogins {
    fn key(email: &str, client: ClientAddr) -> String {
        format!("{}|{client}", email.trim().to_lowercase())
    }

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
        match by_key.get(&Self::key(email, client)) {
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
        let failures = by_key.entry(Self::key(email, client)).or_insert(Failures {
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
            .remove(&Self::key(email, client));
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
        let throttle = FailedLogins::default();
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
        let throttle = FailedLogins::default();
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
        let throttle = FailedLogins::default();
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
