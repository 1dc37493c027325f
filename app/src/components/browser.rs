//! What only the browser knows. On the server these return `None`.

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

/// Sets `<html data-hydrated="true">` once the wasm has taken over the page, so that browser
/// tests (and styles) can tell a hydrated page from server-rendered HTML.
pub fn mark_hydrated() {
    #[cfg(feature = "hydrate")]
    if let Some(html) = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.document_element())
    {
        let _ = html.set_attribute("data-hydrated", "true");
    }
}
