//! What the owner's published posts did, as the Analytics page draws it: one reading of a post's
//! numbers ([`MetricSnapshot`]), and over a range of days ([`AnalyticsOverview`]) the totals per
//! platform, a daily series per platform, the best posts, and a weekday-by-hour grid of when the
//! owner's posts found the most engagement, in the owner's time zone.
//!
//! A number a platform does not report is `None` everywhere here, never zero: YouTube has no
//! reposts, Pinterest no likes. Engagement, the one figure that compares posts across platforms,
//! is what people did with a post (likes, replies, reposts, link clicks), counting what a
//! platform does not report as nothing.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{Platform, PostId, TargetId, TimeZoneName};

/// One reading of a published post's numbers, as its platform reported them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MetricSnapshot {
    pub target_id: TargetId,
    pub platform: Platform,
    pub fetched_at: DateTime<Utc>,
    pub impressions: Option<i64>,
    pub likes: Option<i64>,
    pub replies: Option<i64>,
    pub reposts: Option<i64>,
    pub link_clicks: Option<i64>,
}

impl MetricSnapshot {
    /// Likes, replies, reposts and link clicks together; a number the platform does not report
    /// adds nothing.
    pub fn engagement(&self) -> i64 {
        [self.likes, self.replies, self.reposts, self.link_clicks]
            .into_iter()
            .flatten()
            .sum()
    }
}

/// Numbers summed over posts: each post's latest reading. A number is `None` when none of the
/// posts' platforms report it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MetricTotals {
    /// Posts with at least one reading.
    pub posts: u32,
    pub impressions: Option<i64>,
    pub likes: Option<i64>,
    pub replies: Option<i64>,
    pub reposts: Option<i64>,
    pub link_clicks: Option<i64>,
    pub engagement: i64,
}

impl MetricTotals {
    /// Adds one post's latest reading.
    pub fn add(&mut self, snapshot: &MetricSnapshot) {
        self.posts += 1;
        self.impressions = sum(self.impressions, snapshot.impressions);
        self.likes = sum(self.likes, snapshot.likes);
        self.replies = sum(self.replies, snapshot.replies);
        self.reposts = sum(self.reposts, snapshot.reposts);
        self.link_clicks = sum(self.link_clicks, snapshot.link_clicks);
        self.engagement += snapshot.engagement();
    }

    /// Adds another set of totals (another platform's, for the page's grand total).
    pub fn merge(&mut self, other: &MetricTotals) {
        self.posts += other.posts;
        self.impressions = sum(self.impressions, other.impressions);
        self.likes = sum(self.likes, other.likes);
        self.replies = sum(self.replies, other.replies);
        self.reposts = sum(self.reposts, other.reposts);
        self.link_clicks = sum(self.link_clicks, other.link_clicks);
        self.engagement += other.engagement;
    }
}

/// Known plus known is their sum, known plus unknown the known one, and unknown stays unknown.
fn sum(total: Option<i64>, more: Option<i64>) -> Option<i64> {
    match (total, more) {
        (None, None) => None,
        (total, more) => Some(total.unwrap_or(0) + more.unwrap_or(0)),
    }
}

/// One platform's totals over the range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PlatformTotals {
    pub platform: Platform,
    pub totals: MetricTotals,
}

/// One day of a platform's series: the latest readings of the posts published that day (in the
/// owner's time zone), summed. So the chart shows what each day's posting brought, and a day
/// keeps rising while its posts are still read; it is not what happened on that day to posts of
/// other days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DailyPoint {
    pub day: NaiveDate,
    pub totals: MetricTotals,
}

/// A platform's days over the whole range, oldest first, days without posts included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PlatformSeries {
    pub platform: Platform,
    pub days: Vec<DailyPoint>,
}

/// One of the posts with the most engagement, with its latest reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BestPost {
    pub post_id: PostId,
    pub target_id: TargetId,
    pub platform: Platform,
    pub account_handle: String,
    /// The start of the text as posted there, cut at a word with "…" when longer.
    pub excerpt: String,
    /// Where the post is, when the platform gave an address.
    pub url: Option<String>,
    pub published_at: DateTime<Utc>,
    pub engagement: i64,
    pub latest: MetricSnapshot,
}

/// One cell of the "best time to post" grid: the owner's posts published in that hour of that
/// weekday (owner's time zone), and their average engagement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HeatCell {
    /// 0 is Monday, 6 Sunday.
    pub weekday: u8,
    /// 0 to 23.
    pub hour: u8,
    pub posts: u32,
    /// `None` for a cell without posts: no data, which the grid shows apart from a cell whose
    /// posts found no engagement.
    pub average_engagement: Option<f64>,
}

/// The Analytics page's data for one owner and range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AnalyticsOverview {
    pub range_days: u32,
    /// The zone days, weekdays and hours are counted in.
    pub time_zone: TimeZoneName,
    /// The range's first and last days (today), in that zone.
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// Per platform with readings in the range, in the order of [`Platform::ALL`].
    pub totals: Vec<PlatformTotals>,
    /// Per platform, in the same order.
    pub series: Vec<PlatformSeries>,
    /// At most [`AnalyticsOverview::BEST_POSTS`], most engagement first.
    pub best_posts: Vec<BestPost>,
    /// All 168 cells, Monday 0:00 first, hour by hour.
    pub heat_map: Vec<HeatCell>,
}

impl AnalyticsOverview {
    pub const BEST_POSTS: usize = 5;
    /// The ranges the page offers; any from 1 day to [`AnalyticsOverview::MAX_RANGE_DAYS`] is
    /// taken.
    pub const RANGES: [u32; 3] = [7, 30, 90];
    pub const DEFAULT_RANGE_DAYS: u32 = 30;
    pub const MAX_RANGE_DAYS: u32 = 365;

    /// The cell of `weekday` (0 is Monday) and `hour`.
    pub fn cell(&self, weekday: u8, hour: u8) -> Option<&HeatCell> {
        self.heat_map
            .iter()
            .find(|cell| cell.weekday == weekday && cell.hour == hour)
    }

    /// Every platform's totals together.
    pub fn grand_total(&self) -> MetricTotals {
        let mut total = MetricTotals::default();
        for platform in &self.totals {
            total.merge(&platform.totals);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn reading(likes: Option<i64>, reposts: Option<i64>, clicks: Option<i64>) -> MetricSnapshot {
        MetricSnapshot {
            target_id: TargetId(Uuid::nil()),
            platform: Platform::Pinterest,
            fetched_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            impressions: Some(100),
            likes,
            replies: None,
            reposts,
            link_clicks: clicks,
        }
    }

    #[test]
    fn unreported_numbers_add_nothing_and_stay_unknown_alone() {
        let pin = reading(None, Some(4), Some(2));
        assert_eq!(pin.engagement(), 6);
        let mut totals = MetricTotals::default();
        totals.add(&pin);
        totals.add(&reading(Some(10), None, Some(0)));
        assert_eq!(totals.posts, 2);
        assert_eq!(totals.impressions, Some(200));
        assert_eq!(totals.likes, Some(10));
        assert_eq!(totals.replies, None, "no platform here reports replies");
        assert_eq!(totals.reposts, Some(4));
        assert_eq!(totals.engagement, 16);
        let mut grand = MetricTotals::default();
        grand.merge(&totals);
        grand.merge(&totals);
        assert_eq!(grand.engagement, 32);
        assert_eq!(grand.replies, None);
    }
}
