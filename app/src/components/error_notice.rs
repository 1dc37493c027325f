//! A whole-page notice for a request that failed before the page could be shown (the database
//! is down, say). On the server it also sets the response status from the error, so a page
//! never answers 200 with an error text and a monitor sees the outage.

use leptos::prelude::*;

use crate::types::ApiError;

#[component]
pub fn ErrorNotice(error: ApiError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(error.status());
        if let Some(seconds) = error.retry_after_secs() {
            response.insert_header(http::header::RETRY_AFTER, seconds.into());
        }
    }
    view! {
        <main class="auth-page">
            <section class="auth-card" aria-labelledby="error-title">
                <h1 id="error-title" class="auth-title">"Something is not working"</h1>
                <p class="form-error" role="alert">{error.to_string()}</p>
                <p class="auth-switch"><a href="">"Try again"</a></p>
            </section>
        </main>
    }
}
