//! Dates as people read them: "Tuesday 3 November", "3 Nov", "27 November 2026". Spelled out
//! here rather than through chrono's formatting, which would carry its format machinery into
//! the browser's wasm.

use chrono::{Datelike as _, NaiveDate};

pub const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Monday first, as the calendar's weeks run.
pub const WEEKDAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

pub fn month_name(day: NaiveDate) -> &'static str {
    MONTH_NAMES[day.month0() as usize]
}

pub fn weekday_name(day: NaiveDate) -> &'static str {
    WEEKDAY_NAMES[day.weekday().num_days_from_monday() as usize]
}

/// "Tuesday 3 November".
pub fn day_label(day: NaiveDate) -> String {
    format!("{} {} {}", weekday_name(day), day.day(), month_name(day))
}

/// "3 Nov".
pub fn short_day(day: NaiveDate) -> String {
    format!("{} {}", day.day(), &month_name(day)[..3])
}

/// "27 November 2026".
pub fn long_date(day: NaiveDate) -> String {
    format!("{} {} {}", day.day(), month_name(day), day.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_people_write_them() {
        let day: NaiveDate = "2026-11-03".parse().unwrap();
        assert_eq!(day_label(day), "Tuesday 3 November");
        assert_eq!(short_day(day), "3 Nov");
        assert_eq!(long_date(day), "3 November 2026");
        let sunday: NaiveDate = "2026-11-29".parse().unwrap();
        assert_eq!(weekday_name(sunday), "Sunday");
    }
}
