//! The state every handler can reach: cheap to clone (handles and `Arc`s only).

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sea_orm::DatabaseConnection;

use app::services::Services;

#[derive(Clone)]
pub struct AppState {
    /// Every port; REST handlers call the same traits the server functions do.
    pub services: Services,
    /// Uploads arrive and files are streamed here (not a port: only HTTP streams files).
    pub uploads: std::sync::Arc<crate::media::library::MediaLibrary>,
    /// The OAuth callback finishes authorizations here (not a port: only HTTP calls it).
    pub oauth: std::sync::Arc<crate::connections::ConnectionService>,
    /// Connected online stores and their products (not a port yet: only REST calls it).
    pub stores: std::sync::Arc<crate::stores::service::StoreService>,
    /// Product events: recording batches and counting them per day (not a port: only REST
    /// calls it).
    pub analytics: std::sync::Arc<crate::analytics::events::ProductEvents>,
    /// For `/readyz`.
    pub db: DatabaseConnection,
    /// Present when `REDIS_URL` is set; for `/readyz`.
    pub redis: Option<fred::clients::Pool>,
    pub leptos: LeptosOptions,
    /// `/metrics`, and the workers' pulse for `/readyz`.
    pub metrics: std::sync::Arc<crate::http::metrics::Metrics>,
    /// `serve --sandbox`: pages show the sandbox banner.
    pub sandbox: bool,
    /// Checks the signed URLs platforms download media through.
    pub pull_urls: crate::media::pull::PullUrls,
    pub clock: crate::clock::SharedClock,
    /// The AI Studio's captions (not a port yet: only the streaming REST route calls it).
    pub studio: std::sync::Arc<crate::studio::service::Studio>,
    /// Each person's AI Studio settings (not a port yet: only the REST routes call it).
    pub studio_settings: std::sync::Arc<crate::studio::settings::StudioSettingsStore>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
