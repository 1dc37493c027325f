//! A point in time as the pages show it: `2026-12-24 09:30 UTC`. Always UTC, because the server
//! renders the page before the browser's time zone is known, and hydration must find the very
//! same text.

use chrono::{DateTime, Datelike, Timelike, Utc};
use leptos::prelude::*;

/// `at` as `YYYY-MM-DD HH:MM UTC`. Written out rather than with chrono's `format`: its
/// formatter would bring Unicode case tables (kilobytes) into every page's code.
pub fn utc_text(at: DateTime<Utc>) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute()
    )
}

/// A `<time>` element, machine-readable through `datetime`.
#[component]
pub fn Timestamp(at: DateTime<Utc>) -> impl IntoView {
    view! { <time datetime=at.to_rfc3339()>{utc_text(at)}</time> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_text_pads_every_field() {
        let at = DateTime::parse_from_rfc3339("2026-01-02T03:04:59Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(utc_text(at), "2026-01-02 03:04 UTC");
    }
}
