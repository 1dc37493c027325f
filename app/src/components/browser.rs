//! What only the browser knows. On the server these return `None`.

use leptos::prelude::*;

/// The IANA time zone the browser runs in, e.g. `Europe/Berlin`.
pub fn time_zone() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let format =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
        let options = format.resolved_options();
        js_sys::Reflect::get(&options, &"timeZone".into())
            .ok()?
            .as_string()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        None
    }
}

/// Sets `<html data-hydrated="true">` once the page's islands are live, so that browser tests
/// (and styles) can tell an interactive page from server-rendered HTML. It is the page's last
/// island, and islands come alive in the order they appear.
#[island]
pub fn HydrationMark() -> impl IntoView {
    Effect::new(|_| {
        #[cfg(feature = "hydrate")]
        if let Some(html) = web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| document.document_element())
        {
            let _ = html.set_attribute("data-hydrated", "true");
        }
    });
}

/// False on the server and until the island that calls it has hydrated, then true. A button
/// whose click needs the island is sent disabled with it and comes alive when it can act, so
/// a click never lands on a button that would do nothing (Playwright waits for it too).
pub fn hydrated() -> Signal<bool> {
    let (hydrated, set_hydrated) = signal(false);
    // Effects run only in the browser, once the island is live.
    Effect::new(move |_| set_hydrated.set(true));
    hydrated.into()
}

/// Sends the browser to `url` (a platform's consent page, say), leaving the app.
pub fn go_to(url: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.location().assign(url);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = url;
}

/// A fresh random key (32 hex digits), for idempotency keys. `getRandomValues` rather than
/// `randomUUID`, which browsers offer only on HTTPS and localhost.
pub fn random_key() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let mut bytes = [0u8; 16];
        web_sys::window()?
            .crypto()
            .ok()?
            .get_random_values_with_u8_array(&mut bytes)
            .ok()?;
        Some(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        None
    }
}

/// The first letter of `name`, upper-cased, for an avatar. In the browser the upper-casing is
/// the browser's own, which keeps Unicode's case tables (kilobytes) out of the wasm; both sides
/// follow Unicode's default mapping, so the server's HTML and the browser's agree.
pub fn initial(name: &str) -> String {
    let Some(first) = name.chars().next() else {
        return String::new();
    };
    #[cfg(feature = "hydrate")]
    {
        String::from(js_sys::JsString::from(first).to_upper_case())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        first.to_uppercase().to_string()
    }
}
