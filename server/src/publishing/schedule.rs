//! From the time a user picks (a wall-clock time in their time zone) to the instant a post is
//! due (UTC, as stored). Daylight-saving changes make two cases: a local time that never
//! happens (clocks jump forward over it) is refused with a message naming the gap; one that
//! happens twice (clocks go back) takes the first occurrence, and the caller is told so.

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, Offset as _, TimeZone as _, Utc};
use chrono_tz::Tz;

use app::types::ApiError;

/// A due time, and a note for the user when the choice needed one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueTime {
    pub at: DateTime<Utc>,
    pub note: Option<String>,
}

/// The instant `local` names in `zone`.
pub fn local_to_utc(local: NaiveDateTime, zone: Tz) -> Result<DueTime, ApiError> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(at) => Ok(DueTime {
            at: at.with_timezone(&Utc),
            note: None,
        }),
        LocalResult::Ambiguous(first, _) => Ok(DueTime {
            at: first.with_timezone(&Utc),
            note: Some(format!(
                "{} happens twice in {zone} because the clocks go back; the first one (UTC{}) was used.",
                local.format("%H:%M on %Y-%m-%d"),
                first.offset().fix()
            )),
        }),
        LocalResult::None => {
            let (start, end) = gap_around(local, zone);
            Err(ApiError::validation(
                "schedule",
                format!(
                    "{} does not exist in {zone}: the clocks jump from {} to {}. Pick a time before {} or from {} on.",
                    local.format("%H:%M on %Y-%m-%d"),
                    start.format("%H:%M"),
                    end.format("%H:%M"),
                    start.format("%H:%M"),
                    end.format("%H:%M"),
                ),
            ))
        }
    }
}

/// The local times the clocks skip over around `local`: `[start, end)`.
fn gap_around(local: NaiveDateTime, zone: Tz) -> (NaiveDateTime, NaiveDateTime) {
    let offset_at = |utc: NaiveDateTime| zone.offset_from_utc_datetime(&utc).fix();
    // Gaps last at most a day; the offset a day either side is the one before and after.
    let before = offset_at(local - Duration::days(1));
    let after = offset_at(local + Duration::days(1));
    // The transition instant lies between these two readings of `local` as UTC; find the first
    // minute that already has the later offset.
    // Whole minutes throughout: every zone changes its offset on a minute.
    let earliest = local - after;
    let (mut low, mut high) = (0, (local - before - earliest).num_minutes());
    while high - low > 1 {
        let middle = (low + high) / 2;
        if offset_at(earliest + Duration::minutes(middle)) == after {
            high = middle;
        } else {
            low = middle;
        }
    }
    let transition = earliest + Duration::minutes(high);
    (transition + before, transition + after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    fn local(raw: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn an_ordinary_time_converts_with_its_offset() {
        let due = local_to_utc(local("2026-07-01 09:30"), chrono_tz::Europe::Berlin).unwrap();
        assert_eq!(due.at.to_rfc3339(), "2026-07-01T07:30:00+00:00");
        assert_eq!(due.note, None);
    }

    #[test]
    fn a_time_in_the_spring_gap_is_refused_naming_the_gap() {
        let error = local_to_utc(local("2026-03-29 02:30"), chrono_tz::Europe::Berlin).unwrap_err();
        assert_eq!(error.field(), Some("schedule"));
        let message = error.to_string();
        assert!(message.contains("from 02:00 to 03:00"), "{message}");
        let error =
            local_to_utc(local("2026-03-08 02:15"), chrono_tz::America::New_York).unwrap_err();
        assert!(error.to_string().contains("from 02:00 to 03:00"), "{error}");
    }

    #[test]
    fn a_time_in_the_autumn_overlap_takes_the_first_and_says_so() {
        let due = local_to_utc(local("2026-10-25 02:30"), chrono_tz::Europe::Berlin).unwrap();
        assert_eq!(due.at.to_rfc3339(), "2026-10-25T00:30:00+00:00");
        assert!(due.note.unwrap().contains("first one"));
    }

    const ZONES: &[Tz] = &[
        chrono_tz::Europe::Berlin,
        chrono_tz::America::New_York,
        chrono_tz::Australia::Sydney,
        chrono_tz::Australia::Lord_Howe,
        chrono_tz::Asia::Kolkata,
        chrono_tz::America::Sao_Paulo,
        chrono_tz::UTC,
    ];

    proptest! {
        #[test]
        fn every_accepted_time_reads_back_as_itself(
            zone in prop::sample::select(ZONES),
            day in 0i64..(3 * 366),
            minute in 0u32..(24 * 60),
        ) {
            let date = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + Duration::days(day);
            let wanted = date.and_hms_opt(minute / 60, minute % 60, 0).unwrap();
            match local_to_utc(wanted, zone) {
                Ok(due) => {
                    prop_assert_eq!(due.at.with_timezone(&zone).naive_local(), wanted);
                    if let LocalResult::Ambiguous(first, second) = zone.from_local_datetime(&wanted) {
                        prop_assert_eq!(due.at, first.with_timezone(&Utc).min(second.with_timezone(&Utc)));
                        prop_assert!(due.note.is_some());
                    }
                }
                Err(error) => {
                    prop_assert!(matches!(zone.from_local_datetime(&wanted), LocalResult::None));
                    prop_assert_eq!(error.field(), Some("schedule"));
                }
            }
        }

        #[test]
        fn a_named_gap_contains_the_refused_time_and_nothing_in_it_exists(
            zone in prop::sample::select(ZONES),
            day in 0i64..(3 * 366),
            minute in 0u32..(24 * 60),
        ) {
            let date = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + Duration::days(day);
            let wanted = date.and_hms_opt(minute / 60, minute % 60, 0).unwrap();
            if matches!(zone.from_local_datetime(&wanted), LocalResult::None) {
                let (start, end) = gap_around(wanted, zone);
                prop_assert!(start <= wanted && wanted < end, "{start} {wanted} {end}");
                prop_assert!(matches!(zone.from_local_datetime(&start), LocalResult::None));
                prop_assert!(!matches!(zone.from_local_datetime(&end), LocalResult::None));
            }
        }
    }
}
