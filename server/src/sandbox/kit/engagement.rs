//! What people did with a post, as a fake reports it: the same numbers for the same post at the
//! same age, so a test can compare two reads; plausible for a small business account (a few
//! thousand views, likes at a few percent of them); and growing with the post's age on the fake's
//! clock, quickly in the first hours and slowly for a month after, so a client that reads twice
//! keeps a history that rises.
//!
//! Each fake maps these onto its platform's names (X's `retweet_count`, Pinterest's `SAVE`, ...)
//! and reports only what its platform reports.

use chrono::{DateTime, Utc};

/// The views a post gathers, at most, for the lightest and heaviest posts.
const LEAST_REACH: u64 = 2_000;
const REACH_SPREAD: u64 = 10_000;
/// Most views come within a day: the share still to come falls by `1/e` every this many hours.
const EARLY_HOURS: f64 = 8.0;
/// What an old post keeps gathering: a fifth of its reach, evenly over its first month.
const TAIL_SHARE: f64 = 0.2;
const TAIL_HOURS: f64 = 30.0 * 24.0;

/// One post's numbers at one moment. Every field only grows as the post ages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Engagement {
    pub views: u64,
    pub likes: u64,
    pub comments: u64,
    /// Passed on: reposts, quotes, shares, saves, as the platform counts them.
    pub shares: u64,
    /// Clicks through the post's link.
    pub link_clicks: u64,
    /// Clicks anywhere on the post, link clicks among them.
    pub clicks: u64,
}

impl Engagement {
    /// The post `post_id`'s numbers at `now`, made at `created_at`; all zero before it exists.
    pub fn of(post_id: &str, created_at: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        let seed = fnv1a(post_id);
        // Disjoint bits of the seed, so a post's reach does not decide its rates.
        let bits = |shift: u32, spread: u64| (seed >> shift) % spread;
        let reach = LEAST_REACH + bits(0, REACH_SPREAD + 1);
        let hours = (now - created_at).num_seconds().max(0) as f64 / 3_600.0;
        let seen = (1.0 - TAIL_SHARE) * (1.0 - (-hours / EARLY_HOURS).exp())
            + TAIL_SHARE * (hours / TAIL_HOURS).min(1.0);
        // Rounded down, so an older post never reads lower than a younger read of it.
        let views = (reach as f64 * seen).floor() as u64;
        let per_mille = |of: u64, rate: u64| of * rate / 1_000;
        let likes = per_mille(views, 15 + bits(14, 46));
        let link_clicks = per_mille(views, 2 + bits(42, 14));
        Self {
            views,
            likes,
            comments: per_mille(likes, 50 + bits(22, 151)),
            shares: per_mille(likes, 30 + bits(32, 121)),
            link_clicks,
            clicks: link_clicks + per_mille(views, 5 + bits(50, 21)),
        }
    }

    /// What was added between `earlier` and these numbers.
    pub fn since(self, earlier: Self) -> Self {
        Self {
            views: self.views.saturating_sub(earlier.views),
            likes: self.likes.saturating_sub(earlier.likes),
            comments: self.comments.saturating_sub(earlier.comments),
            shares: self.shares.saturating_sub(earlier.shares),
            link_clicks: self.link_clicks.saturating_sub(earlier.link_clicks),
            clicks: self.clicks.saturating_sub(earlier.clicks),
        }
    }
}

/// FNV-1a, 64 bits: stable across runs and Rust versions, unlike the standard hasher.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use proptest::prelude::*;

    use super::*;

    fn at(hours: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + TimeDelta::hours(hours)
    }

    #[test]
    fn a_post_starts_at_nothing_and_reads_the_same_twice() {
        let start = at(0);
        assert_eq!(Engagement::of("42", start, start), Engagement::default());
        assert_eq!(
            Engagement::of("42", start, at(-3)),
            Engagement::default(),
            "before it was made"
        );
        assert_eq!(
            Engagement::of("42", start, at(5)),
            Engagement::of("42", start, at(5))
        );
        assert_ne!(
            Engagement::of("42", start, at(5)),
            Engagement::of("43", start, at(5))
        );
    }

    #[test]
    fn numbers_are_those_of_a_small_account() {
        let month = Engagement::of("1800000000000000001", at(0), at(24 * 30));
        assert!((1_500..=12_000).contains(&month.views), "{month:?}");
        assert!(month.likes * 10 < month.views, "{month:?}");
        assert!(month.comments <= month.likes && month.shares <= month.likes);
        assert!(month.link_clicks <= month.clicks);
        let later = Engagement::of("1800000000000000001", at(0), at(8));
        let early = Engagement::of("1800000000000000001", at(0), at(2));
        assert!(later.views > early.views && later.likes > early.likes);
        assert_eq!(later.since(early).views, later.views - early.views);
    }

    proptest! {
        #[test]
        fn no_number_ever_falls_as_a_post_ages(
            id in "[0-9]{1,19}",
            first in 0i64..2_000,
            more in 0i64..2_000,
        ) {
            let earlier = Engagement::of(&id, at(0), at(first));
            let later = Engagement::of(&id, at(0), at(first + more));
            prop_assert!(later.views >= earlier.views);
            prop_assert!(later.likes >= earlier.likes);
            prop_assert!(later.comments >= earlier.comments);
            prop_assert!(later.shares >= earlier.shares);
            prop_assert!(later.link_clicks >= earlier.link_clicks);
            prop_assert!(later.clicks >= earlier.clicks);
        }
    }
}
