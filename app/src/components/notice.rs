//! A one-line message at the top of a page: a success ("Connected @ana") or a warning read out
//! politely, or an error read out at once.

use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Success,
    Warning,
    Error,
}

#[component]
pub fn Notice(tone: Tone, #[prop(into)] message: String) -> impl IntoView {
    let (class, role) = match tone {
        Tone::Success => ("notice notice-success", "status"),
        Tone::Warning => ("notice notice-warning", "status"),
        Tone::Error => ("notice notice-error", "alert"),
    };
    view! { <p class=class role=role>{message}</p> }
}
