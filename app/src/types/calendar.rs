//! The content calendar: the posts of a span of days, placed at their local time in the
//! user's time zone, and the hours of those days the clocks skip or repeat.

use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{ConnectionId, Platform, PostId, TargetStatus};

/// `GET /api/calendar`: the days `from` to `to` (both included, in the user's time zone), at
/// most [`Calendar::MAX_DAYS`] of them, optionally narrowed to one platform, account or
/// status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct CalendarQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<ConnectionId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TargetStatus>,
}

/// The posts of the asked days, earliest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Calendar {
    /// The IANA zone every local time here is in.
    pub time_zone: String,
    /// Today in that zone.
    pub today: NaiveDate,
    /// Now on the user's clock: `2026-11-27T09:41`.
    pub now_local: String,
    pub entries: Vec<CalendarEntry>,
    /// More posts fall in these days than one answer carries ([`Calendar::MAX_ENTRIES`]);
    /// ask for fewer days.
    pub truncated: bool,
    /// Hours of these days that do not exist or happen twice.
    pub clock_changes: Vec<ClockChange>,
}

impl Calendar {
    pub const MAX_DAYS: i64 = 62;
    pub const MAX_ENTRIES: u64 = 5_000;
}

/// A post on the calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CalendarEntry {
    pub post_id: PostId,
    /// When it is due or went out.
    pub at: DateTime<Utc>,
    /// The same instant on the user's clock: `2026-11-03T09:30`.
    pub local: String,
    /// The start of its text.
    pub excerpt: String,
    pub targets: Vec<CalendarTarget>,
    /// Whether it may be moved: nothing of it has started or gone out.
    pub movable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CalendarTarget {
    pub platform: Platform,
    pub account_handle: String,
    pub status: TargetStatus,
}

/// An hour of a day that the clocks skip (spring forward) or pass twice (fall back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ClockChange {
    pub day: NaiveDate,
    /// 0 to 23.
    pub hour: u32,
    pub skipped: bool,
}

/// How many days the calendar page shows at once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarSpan {
    /// The weeks (Monday to Sunday) that hold the month of the date.
    #[default]
    Month,
    /// The week (Monday to Sunday) of the date, hour by hour.
    Week,
}

impl CalendarSpan {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Month => "month",
            Self::Week => "week",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Month, Self::Week]
            .into_iter()
            .find(|span| span.as_str() == raw)
    }

    /// The first and last day shown for `date`.
    pub fn days(self, date: NaiveDate) -> (NaiveDate, NaiveDate) {
        let monday_before = |day: NaiveDate| {
            day - chrono::Duration::days(i64::from(day.weekday().num_days_from_monday()))
        };
        match self {
            Self::Week => {
                let monday = monday_before(date);
                (monday, monday + chrono::Duration::days(6))
            }
            Self::Month => {
                let first = date.with_day(1).expect("every month has a first day");
                let last = (first + chrono::Months::new(1))
                    .pred_opt()
                    .expect("a day before");
                let sunday_after = last
                    + chrono::Duration::days(i64::from(6 - last.weekday().num_days_from_monday()));
                (monday_before(first), sunday_after)
            }
        }
    }

    /// The date the previous (`-1`) or next (`1`) page shows.
    pub fn step(self, date: NaiveDate, by: i32) -> NaiveDate {
        match self {
            Self::Week => date + chrono::Duration::days(7 * i64::from(by)),
            Self::Month => {
                let first = date.with_day(1).expect("every month has a first day");
                if by < 0 {
                    first - chrono::Months::new(by.unsigned_abs())
                } else {
                    first + chrono::Months::new(by.unsigned_abs())
                }
            }
        }
    }
}

/// The calendar page's answer: the date it shows (today when none was asked) and its posts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarShown {
    pub date: NaiveDate,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub calendar: Calendar,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(raw: &str) -> NaiveDate {
        raw.parse().unwrap()
    }

    #[test]
    fn a_month_shows_whole_weeks_around_it() {
        // November 2026 starts on a Sunday and ends on a Monday.
        assert_eq!(
            CalendarSpan::Month.days(day("2026-11-17")),
            (day("2026-10-26"), day("2026-12-06"))
        );
        // February 2027 starts on a Monday and ends on a Sunday: exactly four weeks.
        assert_eq!(
            CalendarSpan::Month.days(day("2027-02-10")),
            (day("2027-02-01"), day("2027-02-28"))
        );
    }

    #[test]
    fn a_week_runs_monday_to_sunday() {
        assert_eq!(
            CalendarSpan::Week.days(day("2026-11-29")),
            (day("2026-11-23"), day("2026-11-29"))
        );
    }

    #[test]
    fn steps_go_by_whole_months_and_weeks() {
        assert_eq!(
            CalendarSpan::Month.step(day("2026-01-31"), -1),
            day("2025-12-01")
        );
        assert_eq!(
            CalendarSpan::Month.step(day("2026-01-31"), 1),
            day("2026-02-01")
        );
        assert_eq!(
            CalendarSpan::Week.step(day("2026-01-31"), 1),
            day("2026-02-07")
        );
    }
}
