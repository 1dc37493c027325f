//! The HTTP surface: one router with the pages (SSR + hydration), the server functions under
//! `/rpc`, the REST API under `/api`, the static site under `/pkg` and the health checks,
//! wrapped in the middleware every request passes through.

pub mod api;
pub mod error;
pub mod extract;
pub mod health;
pub mod json;
pub mod rate_limit;
pub mod security;

use std::sync::Arc;

use axum::extract::Request;
use axum::routing::get;
use axum::{Router, middleware};
use http::header::{HeaderName, HeaderValue};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::CorsLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use app::services::AccountsPort;
use app::{App, shell};

use crate::state::AppState;
use rate_limit::RateLimiter;
use security::{CspNonce, SecurityPolicy};

pub use app::api::REQUEST_ID_HEADER;
/// Bodies of page and server-function requests (forms); the API has its own, smaller limit.
pub(crate) const PAGE_BODY_LIMIT: usize = 256 * 1024;

/// What the middleware needs beyond the handlers' state.
pub struct Middleware {
    pub limiter: Arc<RateLimiter>,
    pub security: SecurityPolicy,
    pub cors_origins: Vec<HeaderValue>,
}

pub fn router(state: AppState, middleware: Middleware) -> Router {
    let accounts: AccountsPort = state.accounts.clone();
    // Runs for every page render and server-function call: gives Leptos the ports and this
    // request's CSP nonce (the security middleware made it; Leptos puts it on its scripts).
    let leptos_context = move || {
        provide_context(accounts.clone());
        if let Some(parts) = leptos::prelude::use_context::<http::request::Parts>() {
            if let Some(nonce) = parts.extensions.get::<CspNonce>() {
                provide_context(leptos::nonce::Nonce::from_value(nonce.0.clone()));
            }
        }
    };
    let options = state.leptos.clone();
    let pkg_dir =
        std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());

    let pages = Router::new()
        .leptos_routes_with_context(&state, generate_route_list(App), leptos_context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(leptos_context, shell))
        .layer(RequestBodyLimitLayer::new(PAGE_BODY_LIMIT))
        .layer(middleware::from_fn(error::server_fn_errors));

    let static_files = Router::new()
        .nest_service(
            &format!("/{}", options.site_pkg_dir),
            ServeDir::new(pkg_dir),
        )
        // File names are not content-hashed, so browsers must revalidate (cheap: 304).
        .layer(SetResponseHeaderLayer::overriding(
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ));

    let cors = CorsLayer::new()
        .allow_origin(middleware.cors_origins)
        .allow_methods([
            http::Method::GET,
            http::Method::POST,
            http::Method::PUT,
            http::Method::PATCH,
            http::Method::DELETE,
        ])
        .allow_headers([http::header::AUTHORIZATION, http::header::CONTENT_TYPE])
        .expose_headers([
            HeaderName::from_static(REQUEST_ID_HEADER),
            http::header::RETRY_AFTER,
        ]);

    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .nest("/api", api::router())
        .merge(static_files)
        .merge(pages)
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(
                    HeaderName::from_static(REQUEST_ID_HEADER),
                    MakeRequestUuid,
                ))
                .layer(TraceLayer::new_for_http().make_span_with(request_span))
                .layer(PropagateRequestIdLayer::new(HeaderName::from_static(
                    REQUEST_ID_HEADER,
                )))
                .layer(CatchPanicLayer::custom(panic_response))
                .layer(middleware::from_fn_with_state(
                    middleware.security,
                    security::set_security_headers,
                ))
                .layer(cors)
                .layer(CompressionLayer::new())
                .layer(middleware::from_fn_with_state(
                    middleware.limiter,
                    rate_limit::limit_by_tier,
                )),
        )
}

/// The span every log line of a request is written in: its id, method and path, never its
/// headers (they carry cookies and tokens).
fn request_span(request: &Request) -> tracing::Span {
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!("request", request_id, method = %request.method(), path = %request.uri().path())
}

/// A panic in a handler is a bug; the client still gets our JSON error, not a dropped connection.
fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    tracing::error!("a request handler panicked");
    axum::response::IntoResponse::into_response(error::HttpError(app::types::ApiError::Internal {
        request_id: None,
    }))
}
