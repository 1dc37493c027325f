//! When to try a failed publish again: exponential backoff with full jitter (a uniformly random
//! wait between zero and the attempt's ceiling, so retries of many posts spread out instead of
//! arriving together), capped, and never sooner than the platform asked for (`Retry-After`,
//! `x-rate-limit-reset`). The worker owns this; platform code only says what the platform said.

use std::time::Duration;

use rand::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling of the first retry; each later retry doubles it.
    pub base: Duration,
    /// No retry waits longer than this unless the platform asks for more.
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(10),
            cap: Duration::from_secs(30 * 60),
        }
    }
}

impl Backoff {
    /// The longest wait before retry number `retry` (1 for the first retry).
    pub fn ceiling(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(32);
        self.base
            .saturating_mul(1u32.checked_shl(doublings).unwrap_or(u32::MAX))
            .min(self.cap)
    }

    /// The wait before retry number `retry`: uniform in `[0, ceiling]`, or, when the platform
    /// named a wait, that wait plus up to one `base` of jitter (so posts held by one rate-limit
    /// window do not all return in the same second).
    pub fn delay(
        &self,
        retry: u32,
        platform_wait: Option<Duration>,
        rng: &mut impl Rng,
    ) -> Duration {
        match platform_wait {
            Some(wait) => wait + jitter(self.base, rng),
            None => jitter(self.ceiling(retry), rng),
        }
    }
}

fn jitter(up_to: Duration, rng: &mut impl Rng) -> Duration {
    let millis = u64::try_from(up_to.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rng.random_range(0..=millis))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng as _;
    use rand::rngs::StdRng;

    #[test]
    fn ceilings_double_until_the_cap() {
        let backoff = Backoff {
            base: Duration::from_secs(10),
            cap: Duration::from_secs(60),
        };
        let ceilings: Vec<u64> = (1..=5)
            .map(|retry| backoff.ceiling(retry).as_secs())
            .collect();
        assert_eq!(ceilings, [10, 20, 40, 60, 60]);
        assert_eq!(backoff.ceiling(u32::MAX), Duration::from_secs(60));
    }

    proptest! {
        #[test]
        fn a_delay_stays_within_its_ceiling(retry in 1u32..100, seed in any::<u64>()) {
            let backoff = Backoff::default();
            let delay = backoff.delay(retry, None, &mut StdRng::seed_from_u64(seed));
            prop_assert!(delay <= backoff.ceiling(retry));
            prop_assert!(delay <= backoff.cap);
        }

        #[test]
        fn the_platforms_wait_is_always_honoured(retry in 1u32..100, wait_secs in 0u64..100_000, seed in any::<u64>()) {
            let backoff = Backoff::default();
            let wait = Duration::from_secs(wait_secs);
            let delay = backoff.delay(retry, Some(wait), &mut StdRng::seed_from_u64(seed));
            prop_assert!(delay >= wait && delay <= wait + backoff.base);
        }

        #[test]
        fn ceilings_never_shrink(retry in 1u32..200) {
            let backoff = Backoff::default();
            prop_assert!(backoff.ceiling(retry + 1) >= backoff.ceiling(retry));
        }
    }
}
