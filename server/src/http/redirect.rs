//! Real redirects for pages. When a page decides to send the visitor elsewhere during server
//! rendering, leptos_axum sets `Location` but only makes the status 302 for clients that
//! accept HTML; curl, uptime checkers and link previewers would get a 200 with an empty shell.
//! Server functions are left alone: their JavaScript client reads the header from a 200.
//! A page that redirects a visitor may also have had its data refused (401) while rendering;
//! the redirect is still the answer.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::StatusCode;

/// Page middleware: a page response that names a `Location` becomes a 302, unless it failed on
/// our side (5xx: the error is the answer).
pub async fn real_redirects(request: Request, next: Next) -> Response {
    let is_server_fn = request.uri().path().starts_with(app::api::SERVER_FN_PREFIX);
    let mut response = next.run(request).await;
    if !is_server_fn
        && (response.status().is_success() || response.status().is_client_error())
        && response.headers().contains_key(http::header::LOCATION)
    {
        *response.status_mut() = StatusCode::FOUND;
    }
    response
}
