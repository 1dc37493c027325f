//! Request timeouts, one per route group: a request still running after its group's limit is
//! stopped and answered `timed_out` (503) in the shape its caller reads, so a stuck database
//! call cannot hold a connection (and a client) forever.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use app::types::ApiError;

use super::error::error_response_for;

/// How long each route group may take to produce a response.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// `/healthz` and `/readyz`: their own checks give up after 2 s.
    pub health: Duration,
    /// `/api`.
    pub api: Duration,
    /// Pages and server functions under `/rpc`.
    pub pages: Duration,
    /// Files under `/pkg`.
    pub static_files: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            health: Duration::from_secs(5),
            api: Duration::from_secs(30),
            pages: Duration::from_secs(30),
            static_files: Duration::from_secs(60),
        }
    }
}

/// Route-group middleware: answers `TimedOut` when the group's limit passes first.
pub async fn time_limit(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                path,
                limit_ms = limit.as_millis() as u64,
                "request timed out"
            );
            error_response_for(&path, ApiError::TimedOut)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::get;
    use tower::ServiceExt as _;

    fn app(limit: Duration) -> Router {
        Router::new()
            .route(
                "/api/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    "done"
                }),
            )
            .route("/api/quick", get(|| async { "done" }))
            .layer(axum::middleware::from_fn_with_state(limit, time_limit))
    }

    async fn status_of(router: Router, path: &str) -> http::StatusCode {
        let request = Request::builder()
            .uri(path)
            .body(axum::body::Body::empty())
            .unwrap();
        router.oneshot(request).await.unwrap().status()
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_past_its_limit_is_stopped_with_503() {
        let router = app(Duration::from_secs(30));
        assert_eq!(
            status_of(router.clone(), "/api/slow").await,
            http::StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(status_of(router, "/api/quick").await, http::StatusCode::OK);
    }
}
