//! Looking again while something changes on the server by itself (a worker publishing a post).

use std::time::Duration;

use leptos::prelude::*;

/// Calls `refresh` every `every` for as long as `active` says so. Runs in the browser only
/// (effects never run on the server), and stops when the page is left.
pub fn refresh_while(
    active: impl Fn() -> bool + 'static,
    every: Duration,
    refresh: impl Fn() + Clone + 'static,
) {
    Effect::new(move |_| {
        if active() {
            let refresh = refresh.clone();
            if let Ok(handle) = set_interval_with_handle(refresh, every) {
                on_cleanup(move || handle.clear());
            }
        }
    });
}
