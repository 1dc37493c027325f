//! Light and dark theme. The stylesheet follows the system setting by default; choosing a theme
//! with the toggle stores it in a `theme` cookie, which the server reads to render
//! `<html data-theme>`, so a chosen theme shows from the first paint, with no inline script.

use leptos::prelude::*;

const THEME_COOKIE: &str = "theme";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
}

impl Theme {
    fn parse(value: &str) -> Option<Self> {
        match value {
            "light" => Some(Self::Light),
            "dark" => Some(Self::Dark),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn other(self) -> Self {
        match self {
            Self::Light => Self::Dark,
            Self::Dark => Self::Light,
        }
    }
}

/// The theme the request's cookie asks for (`None`: follow the system). Server-side only.
pub fn document_theme() -> Option<&'static str> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>()?;
        crate::types::request_cookie(&parts.headers, THEME_COOKIE)
            .and_then(Theme::parse)
            .map(Theme::as_str)
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// The theme on screen right now: the chosen one, else the system's.
#[cfg(feature = "hydrate")]
fn effective_theme() -> Theme {
    let window = web_sys::window().expect("the app runs in a browser window");
    let chosen = window
        .document()
        .and_then(|document| document.document_element())
        .and_then(|html| html.get_attribute("data-theme"))
        .and_then(|value| Theme::parse(&value));
    chosen.unwrap_or_else(|| {
        let dark = window
            .match_media("(prefers-color-scheme: dark)")
            .ok()
            .flatten()
            .is_some_and(|query| query.matches());
        if dark { Theme::Dark } else { Theme::Light }
    })
}

#[cfg(feature = "hydrate")]
fn apply_theme(theme: Theme) {
    use wasm_bindgen::JsCast;
    let Some(document) = web_sys::window().and_then(|window| window.document()) else {
        return;
    };
    if let Some(html) = document.document_element() {
        let _ = html.set_attribute("data-theme", theme.as_str());
    }
    if let Ok(document) = document.dyn_into::<web_sys::HtmlDocument>() {
        let cookie = format!(
            "{THEME_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            theme.as_str()
        );
        let _ = document.set_cookie(&cookie);
    }
}

/// A button that switches between light and dark and remembers the choice.
#[island]
pub fn ThemeToggle() -> impl IntoView {
    // `None` until hydrated: the server cannot know the system theme.
    let current = RwSignal::new(None::<Theme>);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| current.set(Some(effective_theme())));

    let toggle = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let next = effective_theme().other();
            apply_theme(next);
            current.set(Some(next));
        }
    };
    view! {
        <button
            type="button"
            class="sidebar-button"
            aria-pressed=move || if current.get() == Some(Theme::Dark) { "true" } else { "false" }
            data-theme-current=move || current.get().map(Theme::as_str)
            on:click=toggle
        >
            // The icon is drawn by the stylesheet from `aria-pressed`: the button's state lives
            // in attributes only, so hydration has no text of its own to match.
            <span aria-hidden="true" class="sidebar-icon theme-icon"></span>
            <span>"Dark theme"</span>
        </button>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_themes_parse() {
        assert_eq!(Theme::parse("dark"), Some(Theme::Dark));
        assert_eq!(Theme::parse("light").map(Theme::other), Some(Theme::Dark));
        assert_eq!(Theme::parse("<script>"), None);
    }
}
