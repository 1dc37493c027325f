//! `GET /api/me`: the signed-in user.

use axum::routing::get;
use axum::{Json, Router};

use app::types::User;

use crate::http::extract::AuthUser;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/me", get(me))
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/me", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401, body = crate::http::openapi::ErrorBody)))]
async fn me(AuthUser(who): AuthUser) -> Json<User> {
    Json(who.user)
}
