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
    /// `/api/media` (a video upload of a gigabyte) and the sandbox fakes (which receive the
    /// platforms' uploads): long enough for a slow connection.
    pub uploads: Duration,
}

impl Timeouts {
    /// The limit of the route group `path` belongs to.
    pub fn for_path(&self, path: &str) -> Duration {
        if path == "/healthz" || path == "/readyz" {
            self.health
        } else if path == "/api/media"
            || path.starts_with("/api/media/uploads/")
            || path.starts_with("/media/uploads/")
            || path.starts_with("/sandbox/")
        {
            self.uploads
        } else if path.starts_with("/api/") {
            self.api
        } else if path.starts_with("/pkg/") {
            self.static_files
        } else {
            self.pages
        }
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            health: Duration::from_secs(5),
            api: Duration::from_secs(30),
            pages: Duration::from_secs(30),
            static_files: Duration::from_secs(60),
            uploads: Duration::from_secs(60 * 60),
        }
    }
}

/// Middleware: answers `TimedOut` when the request's route group's limit passes first. One
/// layer outside the router, choosing the limit by path, is cheaper than one per group inside
/// it (see `access_log::RememberRouteLayer`).
pub async fn time_limit(
    State(timeouts): State<Timeouts>,
    request: Request,
    next: Next,
) -> Response {
    // A cheap clone (shared bytes): the path only matters when time runs out.
    let uri = request.uri().clone();
    let limit = timeouts.for_path(uri.path());
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                path = uri.path(),
                limit_ms = limit.as_millis() as u64,
                "request timed out"
            );
            error_response_for(uri.path(), ApiError::TimedOut)
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
        let limits = Timeouts {
            api: limit,
            ..Timeouts::default()
        };
        Router::new()
            .route(
                "/api/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    "done"
                }),
            )
            .route("/api/quick", get(|| async { "done" }))
            .layer(axum::middleware::from_fn_with_state(limits, time_limit))
    }

    async fn status_of(router: Router, path: &str) -> http::StatusCode {
        let request = Request::builder()
            .uri(path)
            .body(axum::body::Body::empty())
            .unwrap();
        router.oneshot(request).await.unwrap().status()
    }

    #[test]
    fn each_route_group_has_its_limit() {
        let limits = Timeouts::default();
        assert_eq!(limits.for_path("/readyz"), limits.health);
        assert_eq!(limits.for_path("/api/me"), limits.api);
        assert_eq!(
            limits.for_path("/pkg/picscripter.wasm"),
            limits.static_files
        );
        assert_eq!(limits.for_path("/rpc/account/me"), limits.pages);
        assert_eq!(limits.for_path("/settings"), limits.pages);
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
