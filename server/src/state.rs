//! The state every handler can reach: cheap to clone (handles and `Arc`s only).

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sea_orm::DatabaseConnection;

use crate::auth::AccountService;

#[derive(Clone)]
pub struct AppState {
    pub accounts: Arc<AccountService>,
    pub db: DatabaseConnection,
    /// Present when `REDIS_URL` is set.
    pub redis: Option<fred::clients::Pool>,
    pub leptos: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
