//! The page for any path that does not exist.

use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <main class="auth-page">
            <section class="auth-card">
                <h1 class="auth-title">"Page not found"</h1>
                <p>"There is nothing at this address."</p>
                <p class="auth-switch"><A href="/">"Go to the start page"</A></p>
            </section>
        </main>
    }
}
