//! The calendar's days: the posts of a span of local days, each placed at its time on the
//! user's clock, and the hours of those days that daylight saving skips or repeats, so the week
//! view can show them as they are.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, TimeZone as _, Utc};
use chrono_tz::Tz;
use sea_orm::DatabaseConnection;

use app::types::{
    ApiError, Calendar, CalendarEntry, CalendarQuery, CalendarTarget, ClockChange, Platform,
    TargetStatus, User,
};

use super::schedule::local_to_utc;
use crate::db::posts::{self as rows, CalendarFilter, MOVABLE};
use crate::error::Error;

/// How much of a post's text the calendar shows.
const EXCERPT_CHARS: usize = 80;

/// The posts of the asked days, in the owner's zone.
pub async fn calendar(
    db: &DatabaseConnection,
    owner: &User,
    query: &CalendarQuery,
    now: DateTime<Utc>,
) -> Result<Calendar, Error> {
    let days = (query.to - query.from).num_days() + 1;
    if days < 1 {
        return Err(ApiError::validation("to", "The last day comes before the first.").into());
    }
    if days > Calendar::MAX_DAYS {
        return Err(ApiError::validation(
            "to",
            format!(
                "Ask for at most {} days at a time ({days} asked).",
                Calendar::MAX_DAYS
            ),
        )
        .into());
    }
    let zone = owner.time_zone.tz();
    let filter = CalendarFilter {
        platform: query.platform,
        account: query.account,
        status: query.status,
    };
    let from = start_of_day(query.from, zone);
    let to = start_of_day(query.to + Duration::days(1), zone);
    let found = rows::calendar(db, owner.id, from, to, filter, Calendar::MAX_ENTRIES + 1).await?;
    let truncated = found.len() as u64 > Calendar::MAX_ENTRIES;
    let entries = found
        .into_iter()
        .take(Calendar::MAX_ENTRIES as usize)
        .map(|row| entry(row, zone))
        .collect::<Result<_, Error>>()?;
    Ok(Calendar {
        time_zone: zone.name().to_owned(),
        today: now.with_timezone(&zone).date_naive(),
        now_local: now
            .with_timezone(&zone)
            .format("%Y-%m-%dT%H:%M")
            .to_string(),
        entries,
        truncated,
        clock_changes: clock_changes(query.from, query.to, zone),
    })
}

/// The instant a local day starts: midnight, or the first minute after it when the clocks
/// skip midnight (as some zones do).
fn start_of_day(day: NaiveDate, zone: Tz) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    (0..=180)
        .find_map(|minutes| local_to_utc(midnight + Duration::minutes(minutes), zone).ok())
        .map_or_else(|| midnight.and_utc(), |due| due.at)
}

fn entry(row: rows::CalendarRow, zone: Tz) -> Result<CalendarEntry, Error> {
    let at = row.post.scheduled_at.unwrap_or(row.post.created_at);
    let targets = row
        .targets
        .into_iter()
        .map(|(platform, account_handle, status)| {
            let corrupt = || {
                Error::Database(crate::db::DbError::Db(sea_orm::DbErr::Custom(format!(
                    "a target of post {} does not parse",
                    row.post.id
                ))))
            };
            Ok(CalendarTarget {
                platform: Platform::parse(&platform).ok_or_else(corrupt)?,
                status: TargetStatus::parse(&status).ok_or_else(corrupt)?,
                account_handle,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let movable = targets
        .iter()
        .any(|target| MOVABLE.contains(&target.status))
        && targets.iter().all(|target| {
            MOVABLE.contains(&target.status)
                || matches!(
                    target.status,
                    TargetStatus::Draft | TargetStatus::Cancelled | TargetStatus::Failed
                )
        });
    Ok(CalendarEntry {
        post_id: app::types::PostId(row.post.id),
        local: at.with_timezone(&zone).format("%Y-%m-%dT%H:%M").to_string(),
        at,
        excerpt: excerpt(&row.post.text),
        targets,
        movable,
    })
}

fn excerpt(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return "(Images only)".to_owned();
    }
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}\u{2026}", text[..cut].trim_end()),
        None => text.to_owned(),
    }
}

/// The hours from `from` to `to` (local days, both included) that the clocks skip or pass
/// twice. An hour counts as skipped when its start and its half past both do not exist (zones
/// that move by half an hour skip only part of one: those still show).
pub fn clock_changes(from: NaiveDate, to: NaiveDate, zone: Tz) -> Vec<ClockChange> {
    let mut changes = Vec::new();
    let mut day = from;
    while day <= to {
        for hour in 0..24 {
            let at = |minute| {
                zone.from_local_datetime(&day.and_hms_opt(hour, minute, 0).expect("a valid hour"))
            };
            let (start, half) = (at(0), at(30));
            if matches!(start, LocalResult::None) && matches!(half, LocalResult::None) {
                changes.push(ClockChange {
                    day,
                    hour,
                    skipped: true,
                });
            } else if matches!(start, LocalResult::Ambiguous(..))
                || matches!(half, LocalResult::Ambiguous(..))
            {
                changes.push(ClockChange {
                    day,
                    hour,
                    skipped: false,
                });
            }
        }
        day += Duration::days(1);
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(raw: &str) -> NaiveDate {
        raw.parse().unwrap()
    }

    #[test]
    fn a_spring_forward_week_skips_its_missing_hour() {
        let changes = clock_changes(
            day("2026-03-23"),
            day("2026-03-29"),
            chrono_tz::Europe::Berlin,
        );
        assert_eq!(
            changes,
            vec![ClockChange {
                day: day("2026-03-29"),
                hour: 2,
                skipped: true
            }]
        );
    }

    #[test]
    fn a_fall_back_week_repeats_its_hour() {
        let changes = clock_changes(
            day("2026-11-01"),
            day("2026-11-07"),
            chrono_tz::America::New_York,
        );
        assert_eq!(
            changes,
            vec![ClockChange {
                day: day("2026-11-01"),
                hour: 1,
                skipped: false
            }]
        );
    }

    #[test]
    fn an_ordinary_week_has_no_changes() {
        assert!(
            clock_changes(
                day("2026-07-06"),
                day("2026-07-12"),
                chrono_tz::Europe::Berlin
            )
            .is_empty()
        );
    }

    #[test]
    fn a_day_starts_at_its_first_existing_minute() {
        // Santiago skips midnight to 01:00 in spring.
        let start = start_of_day(day("2026-09-06"), chrono_tz::America::Santiago);
        assert_eq!(start.to_rfc3339(), "2026-09-06T04:00:00+00:00");
        let start = start_of_day(day("2026-07-01"), chrono_tz::Europe::Berlin);
        assert_eq!(start.to_rfc3339(), "2026-06-30T22:00:00+00:00");
    }

    #[test]
    fn excerpts_are_cut_at_a_character() {
        let cut = excerpt(&"ü".repeat(EXCERPT_CHARS + 5));
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert_eq!(excerpt(" "), "(Images only)");
    }
}
