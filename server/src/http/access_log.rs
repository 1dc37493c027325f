//! One access-log line per request: method, matched route, status and latency, written when
//! the response is ready, inside the request's span (so with its request id). Errors are not
//! logged again here: the backend logged them once where they were decided.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::response::Response;

/// The route template a response was produced by (`/api/auth/login`, `/settings`), carried
/// from the router to the access log, so lines group by route rather than by raw path.
/// Requests no route matched (404s, static files) are logged as `(unmatched)`; the span
/// still has the raw path.
#[derive(Clone)]
struct Route(MatchedPath);

/// Route layer: remembers the matched route on the response. A plain tower layer rather than
/// `middleware::from_fn`, which clones the whole route stack below it on every request: on
/// `GET /api/me` that clone cost more than the rest of this module (measured, see README).
#[derive(Debug, Clone, Copy, Default)]
pub struct RememberRouteLayer;

impl<S> tower::Layer<S> for RememberRouteLayer {
    type Service = RememberRoute<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RememberRoute(inner)
    }
}

#[derive(Debug, Clone)]
pub struct RememberRoute<S>(S);

impl<S> tower::Service<Request> for RememberRoute<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let matched = request.extensions().get::<MatchedPath>().cloned();
        let response = self.0.call(request);
        Box::pin(async move {
            let mut response = response.await?;
            if let Some(matched) = matched {
                response.extensions_mut().insert(Route(matched));
            }
            Ok(response)
        })
    }
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
