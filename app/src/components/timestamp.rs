//! A point in time as the pages show it: `2026-12-24 09:30 UTC`. Always UTC, because the server
//! renders the page before the browser's time zone is known, and hydration must find the very
//! same text.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// `at` as `YYYY-MM-DD HH:MM UTC`.
pub fn utc_text(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A `<time>` element, machine-readable through `datetime`.
#[component]
pub fn Timestamp(at: DateTime<Utc>) -> impl IntoView {
    view! { <time datetime=at.to_rfc3339()>{utc_text(at)}</time> }
}
