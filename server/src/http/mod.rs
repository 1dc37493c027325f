//! The HTTP surface: one router with the pages (SSR + hydration), the server functions under
//! `/rpc`, the REST API under `/api`, the static site under `/pkg` and the health checks,
//! wrapped in the middleware every request passes through.

pub mod access_log;
pub mod api;
pub mod assets;
pub mod client;
pub mod csrf;
pub mod drain;
pub mod error;
pub mod extract;
pub mod guard;
pub mod health;
pub mod json;
pub mod metrics;
pub mod oauth;
pub mod openapi;
pub mod page_views;
pub mod rate_limit;
pub mod redirect;
pub mod request_id;
pub mod security;
pub mod timeout;

use std::sync::Arc;

use axum::extract::Request;
use axum::{Router, middleware};
use http::header::{HeaderName, HeaderValue};
use leptos::prelude::provide_context;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tower::ServiceBuilder;
use tower::util::MapRequestLayer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::CorsLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use app::{App, shell};

use crate::state::AppState;
use client::TrustedProxies;
use csrf::SameSitePolicy;
use drain::InFlight;
use guard::GuardLayer;
use rate_limit::RateLimiter;
use security::{CspNonce, SecurityPolicy};
use timeout::Timeouts;

pub use app::api::REQUEST_ID_HEADER;
/// Bodies of page and server-function requests (forms); the API has its own, smaller limit.
pub(crate) const PAGE_BODY_LIMIT: usize = 256 * 1024;

/// What the middleware needs beyond the handlers' state.
pub struct Middleware {
    pub limiter: Arc<RateLimiter>,
    pub security: SecurityPolicy,
    pub cors_origins: Vec<HeaderValue>,
    pub trusted_proxies: Arc<TrustedProxies>,
    pub same_site: Arc<SameSitePolicy>,
    pub timeouts: Timeouts,
    pub in_flight: Arc<InFlight>,
    /// `serve --sandbox`: the platform fakes, mounted under `/sandbox/{platform}`.
    pub sandbox: Option<Router>,
}

pub fn router(state: AppState, middleware: Middleware) -> Router {
    let services = state.services.clone();
    let sandbox = app::types::SandboxMode(state.sandbox);
    // Runs for every page render and server-function call: gives Leptos the ports, whether
    // this is the sandbox (pages show a banner), and this request's CSP nonce (the security
    // middleware made it; Leptos puts it on its scripts).
    let leptos_context = move || {
        provide_context(services.clone());
        provide_context(sandbox);
        if let Some(parts) = leptos::prelude::use_context::<http::request::Parts>()
            && let Some(nonce) = parts.extensions.get::<CspNonce>()
        {
            provide_context(leptos::nonce::Nonce::from_value(nonce.0.clone()));
        }
    };
    let options = state.leptos.clone();
    let pkg_dir =
        std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());

    let pages = Router::new()
        .leptos_routes_with_context(&state, page_routes(), leptos_context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(leptos_context, shell))
        .layer(RequestBodyLimitLayer::new(PAGE_BODY_LIMIT))
        .layer(middleware::from_fn(error::server_fn_errors))
        .layer(middleware::from_fn(redirect::real_redirects))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            page_views::count_page_views,
        ));

    let static_files = Router::new()
        // A release build leaves `.br` and `.gz` beside each file (`make build`); they are sent
        // to browsers that accept them, and the rest is compressed on the fly.
        .nest_service(
            &format!("/{}", options.site_pkg_dir),
            ServeDir::new(pkg_dir)
                .precompressed_br()
                .precompressed_gzip(),
        )
        // File names are not content-hashed, so browsers must revalidate (cheap: 304).
        .layer(SetResponseHeaderLayer::overriding(
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        .layer(SetResponseHeaderLayer::appending(
            http::header::VARY,
            HeaderValue::from_static("accept-encoding"),
        ))
        .merge(assets::router());

    let health = health::router();

    let api = api::router(middleware.limiter.clone());
    let oauth_callbacks = oauth::router().route_layer(middleware::from_fn_with_state(
        rate_limit::Charge {
            limiter: middleware.limiter.clone(),
            tier: rate_limit::Tier::OAuth,
        },
        rate_limit::charge_tier,
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

    let mut app = Router::new()
        .merge(health)
        .nest("/api", api)
        .merge(api::media::pull_router())
        .merge(oauth_callbacks)
        .merge(static_files)
        .merge(pages)
        .route_layer(access_log::RememberRouteLayer)
        .with_state(state);
    if let Some(sandbox) = middleware.sandbox {
        app = app.nest_service("/sandbox", sandbox);
    }
    app.layer(
        ServiceBuilder::new()
            .layer(MapRequestLayer::new(request_id::drop_unusable_request_id))
            .layer(SetRequestIdLayer::new(
                HeaderName::from_static(REQUEST_ID_HEADER),
                MakeRequestUuid,
            ))
            // The access line is written on response; errors were logged where they
            // were decided, so the layer's own failure log is off (no double lines).
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(request_span)
                    .on_response(access_log::log_response)
                    .on_failure(()),
            )
            .layer(PropagateRequestIdLayer::new(HeaderName::from_static(
                REQUEST_ID_HEADER,
            )))
            .layer(middleware::from_fn_with_state(
                middleware.in_flight,
                drain::count_in_flight,
            ))
            .layer(CatchPanicLayer::custom(panic_response))
            .layer(middleware::from_fn_with_state(
                middleware.security,
                security::set_security_headers,
            ))
            .layer(cors)
            .layer(CompressionLayer::new())
            // Checks on the way in; guards, not `from_fn`, because they run on every
            // request and `from_fn` costs a clone of everything below it (see guard.rs).
            .layer(GuardLayer(middleware.trusted_proxies))
            .layer(GuardLayer(middleware.same_site))
            .layer(rate_limit::RateLimitLayer(middleware.limiter))
            .layer(middleware::from_fn(error::api_errors))
            .layer(middleware::from_fn_with_state(
                middleware.timeouts,
                timeout::time_limit,
            )),
    )
}

/// The app's page routes, found once per process. Finding them runs the app with resource
/// loading switched off for the whole process (a flag `leptos_server` keeps globally), so a page
/// rendered at that moment by another router in the same process (the tests run many) would
/// wait forever. Searching once, while the first router is built, leaves no such moment.
fn page_routes() -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
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

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use async_trait::async_trait;
    use axum::body::Body;
    use axum::extract::ConnectInfo;
    use tower::ServiceExt as _;

    use app::services::{Accounts, NewAccount, Registration, Services, SignInAttempt};
    use app::types::{
        ApiError, Authenticated, ClientAddr, EnteredPassword, IssuedSession, Password,
        ProfileUpdate, User, UserId,
    };

    use super::*;

    /// An `Accounts` whose every call finds the backend down.
    struct DownAccounts;

    fn down<T>() -> Result<T, ApiError> {
        Err(ApiError::Unavailable {
            retry_after_secs: 7,
        })
    }

    #[async_trait]
    impl Accounts for DownAccounts {
        async fn register(&self, _: Registration) -> Result<NewAccount, ApiError> {
            down()
        }
        async fn sign_in(&self, _: SignInAttempt) -> Result<IssuedSession, ApiError> {
            down()
        }
        async fn authenticate(&self, _: &str) -> Result<Authenticated, ApiError> {
            down()
        }
        async fn sign_out(&self, _: &Authenticated) -> Result<(), ApiError> {
            down()
        }
        async fn update_profile(&self, _: UserId, _: ProfileUpdate) -> Result<User, ApiError> {
            down()
        }
        async fn change_password(
            &self,
            _: &Authenticated,
            _: EnteredPassword,
            _: Password,
            _: ClientAddr,
        ) -> Result<(), ApiError> {
            down()
        }
        fn session_cookie(&self, _: Option<&IssuedSession>) -> String {
            String::new()
        }
    }

    fn router_with_down_accounts() -> Router {
        let db = sea_orm::DatabaseConnection::Disconnected;
        let clock: crate::clock::SharedClock = Arc::new(crate::clock::SystemClock);
        let events = Arc::new(crate::analytics::events::ProductEvents::new(
            db.clone(),
            clock.clone(),
        ));
        let pipeline = Arc::new(crate::publishing::Pipeline::new(
            db.clone(),
            Arc::new(crate::queue::local::LocalQueue::default()),
            crate::platforms::Registry::default(),
            clock.clone(),
            events.clone(),
        ));
        let keyring = crate::crypto::Keyring::new(
            &secrecy::SecretString::from(crate::crypto::generate_key()),
            &[],
        )
        .unwrap();
        let oauth = Arc::new(crate::connections::ConnectionService::new(
            crate::connections::ConnectionServiceParts {
                db: db.clone(),
                keyring: Arc::new(keyring),
                registry: crate::platforms::Registry::default(),
                clock: clock.clone(),
                public_base_url: "http://127.0.0.1:3000".parse().unwrap(),
                pull_urls: crate::media::pull::PullUrls::new(
                    &"http://127.0.0.1:3000".parse().unwrap(),
                    &[0; 32],
                ),
                pipeline: pipeline.clone(),
                events: events.clone(),
            },
        ));
        let media = Arc::new(crate::media::library::MediaLibrary::new(
            db.clone(),
            Arc::new(crate::media::store::LocalDisk::new(std::env::temp_dir())),
            clock.clone(),
            1024,
            crate::media::pull::PullUrls::new(&"http://127.0.0.1:3000".parse().unwrap(), &[0; 32]),
            events.clone(),
        ));
        let studio_settings = Arc::new(crate::studio::settings::StudioSettingsStore::new(
            db.clone(),
            Arc::new(
                crate::crypto::Keyring::new(
                    &secrecy::SecretString::from(crate::crypto::generate_key()),
                    &[],
                )
                .unwrap(),
            ),
            crate::config::WriterConfig::default(),
            clock.clone(),
        ));
        let studio = Arc::new(crate::studio::service::Studio::new(
            db.clone(),
            crate::platforms::Registry::default(),
            media.clone(),
            studio_settings.clone(),
            &crate::config::WriterConfig::default(),
            events.clone(),
        ));
        let keyring = Arc::new(
            crate::crypto::Keyring::new(
                &secrecy::SecretString::from(crate::crypto::generate_key()),
                &[],
            )
            .unwrap(),
        );
        let queue: Arc<dyn crate::queue::JobQueue> =
            Arc::new(crate::queue::local::LocalQueue::default());
        let stores = Arc::new(crate::stores::service::StoreService::new(
            crate::stores::service::StoreServiceParts {
                db: db.clone(),
                keyring: keyring.clone(),
                library: media.clone(),
                http: reqwest::Client::new(),
                sync: Arc::new(crate::stores::sync::StoreSync::new(
                    db.clone(),
                    queue,
                    crate::stores::StoreRegistry::default(),
                    crate::connections::tokens::TokenGate::new(db.clone(), keyring, clock.clone()),
                    clock.clone(),
                    chrono::Duration::seconds(60),
                    std::time::Duration::from_secs(6 * 3600),
                )),
                clock: clock.clone(),
                public_base_url: "http://127.0.0.1:3000".parse().unwrap(),
                events: events.clone(),
            },
        ));
        let state = AppState {
            analytics: events.clone(),
            stores: stores.clone(),
            studio,
            studio_settings: studio_settings.clone(),
            services: Services {
                analytics: Arc::new(crate::analytics::metrics::Analytics::new(
                    db.clone(),
                    clock.clone(),
                )),
                templates: Arc::new(crate::templates::TemplateService::new(
                    db.clone(),
                    clock.clone(),
                    events.clone(),
                )),
                events,
                studio: studio_settings.clone(),
                accounts: Arc::new(DownAccounts),
                connections: oauth.clone(),
                posts: pipeline,
                media: media.clone(),
                stores: stores.clone(),
            },
            uploads: media,
            oauth,
            db,
            redis: None,
            leptos: leptos::config::LeptosOptions::builder()
                .output_name("picscripter")
                .build(),
            metrics: Arc::new(metrics::Metrics::new(
                Arc::default(),
                false,
                clock.clone(),
                None,
            )),
            sandbox: false,
            pull_urls: crate::media::pull::PullUrls::new(
                &"http://127.0.0.1:3000".parse().unwrap(),
                &[0; 32],
            ),
            clock,
        };
        let base: http::Uri = "http://127.0.0.1:3000".parse().unwrap();
        router(
            state,
            Middleware {
                limiter: Arc::new(RateLimiter::new(&std::collections::BTreeMap::new())),
                security: SecurityPolicy {
                    strict_transport: false,
                    upload_origin: None,
                },
                cors_origins: Vec::new(),
                trusted_proxies: Arc::new(TrustedProxies::default()),
                same_site: Arc::new(SameSitePolicy::new(&base, Vec::new())),
                timeouts: Timeouts::default(),
                in_flight: Arc::new(InFlight::default()),
                sandbox: None,
            },
        )
    }

    fn request(path: &str, peer: Option<&str>) -> Request {
        let mut request = Request::builder()
            .uri(path)
            .method(if path.starts_with("/rpc") {
                "POST"
            } else {
                "GET"
            })
            .header(http::header::AUTHORIZATION, "Bearer some.token.here")
            .header(http::header::ACCEPT, "application/json")
            .body(Body::empty())
            .unwrap();
        if let Some(peer) = peer {
            let peer: SocketAddr = peer.parse().unwrap();
            request.extensions_mut().insert(ConnectInfo(peer));
        }
        request
    }

    #[tokio::test]
    async fn rest_handlers_call_whatever_accounts_port_they_are_given() {
        let response = router_with_down_accounts()
            .oneshot(request("/api/me", Some("192.0.2.1:5555")))
            .await
            .unwrap();
        assert_eq!(response.status(), http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[http::header::RETRY_AFTER], "7");
    }

    #[tokio::test]
    async fn without_a_peer_address_the_limits_refuse_instead_of_letting_through() {
        for path in ["/api/me", "/rpc/account/me"] {
            let response = router_with_down_accounts()
                .oneshot(request(path, None))
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                http::StatusCode::INTERNAL_SERVER_ERROR,
                "{path}"
            );
        }
        // Pages are not rate limited, so they still render without a peer address.
        let page = router_with_down_accounts()
            .oneshot(
                Request::builder()
                    .uri("/healthz")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(page.status(), http::StatusCode::OK);
    }
}
