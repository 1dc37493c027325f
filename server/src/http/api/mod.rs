//! The REST API under `/api`: JSON in and out, errors as `{"error":{"code","message"}}`.

mod auth;
mod me;

use axum::extract::DefaultBodyLimit;
use axum::{Router, middleware};

use super::error::{api_method_not_allowed, api_not_found, name_internal_errors};
use super::json::JSON_BODY_LIMIT;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(me::router())
        .fallback(api_not_found)
        .method_not_allowed_fallback(api_method_not_allowed)
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(middleware::from_fn(name_internal_errors))
}
