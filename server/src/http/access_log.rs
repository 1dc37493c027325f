//! One access-log line per request: method, matched route, status and latency, written when
//! the response is ready, inside the request's span (so with its request id). Errors are not
//! logged again here: the backend logged them once where they were decided.

use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

/// The route template a response was produced by (`/api/auth/login`, `/settings`), carried
/// from the router to the access log, so lines group by route rather than by raw path.
/// Requests no route matched (404s, static files) are logged as `(unmatched)`; the span
/// still has the raw path.
#[derive(Clone)]
struct Route(MatchedPath);

/// Route middleware: remembers the matched route on the response.
pub async fn remember_route(request: Request, next: Next) -> Response {
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(request).await;
    if let Some(matched) = matched {
        response.extensions_mut().insert(Route(matched));
    }
    response
}

/// The `on_response` of the trace layer: the access-log line.
pub fn log_response(response: &Response, latency: Duration, _span: &tracing::Span) {
    let route = response
        .extensions()
        .get::<Route>()
        .map_or("(unmatched)", |route| route.0.as_str());
    let status = response.status().as_u16();
    let latency_ms = latency.as_secs_f64() * 1000.0;
    tracing::info!(route, status, latency_ms, "request finished");
}
