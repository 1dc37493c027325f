//! The state every handler can reach: cheap to clone (handles and `Arc`s only).

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sea_orm::DatabaseConnection;

use app::services::Services;

#[derive(Clone)]
pub struct AppState {
    /// Every port; REST handlers call the same traits the server functions do.
    pub services: Services,
    /// For `/readyz`.
    pub db: DatabaseConnection,
    /// Present when `REDIS_URL` is set; for `/readyz`.
    pub redis: Option<fred::clients::Pool>,
    pub leptos: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
