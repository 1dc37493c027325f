//! The browser entry point: hydrates the interactive islands of the server-rendered page.

// The islands are exported from the `app` crate; naming it links them in.
use app as _;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
