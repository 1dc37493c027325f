//! A one-line message at the top of a page: a success ("Connected @ana") read out politely, or
//! an error read out at once.

use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Success,
    Error,
}

#[component]
pub fn Notice(tone: Tone, #[prop(into)] message: String) -> impl IntoView {
    let (class, role) = match tone {
        Tone::Success => ("notice notice-success", "status"),
        Tone::Error => ("notice notice-error", "alert"),
    };
    view! { <p class=class role=role>{message}</p> }
}
