//! `GET /api/connections`, `POST /api/connections/{platform}/authorize` and
//! `DELETE /api/connections/{id}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};

use app::types::{AuthorizeUrl, ConnectionId, ConnectionsOverview, Platform};

use crate::http::error::HttpError;
use crate::http::extract::{ApiPath, AuthUser};
use crate::state::AppState;

/// The routes of the `Api` tier.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/connections", get(overview))
        .route("/connections/{id}", delete(disconnect))
}

/// The routes of the `OAuth` tier.
pub fn authorize_router() -> Router<AppState> {
    Router::new().route("/connections/{platform}/authorize", post(authorize))
}

async fn overview(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
) -> Result<Json<ConnectionsOverview>, HttpError> {
    Ok(Json(
        state.services.connections.overview(who.user.id).await?,
    ))
}

async fn authorize(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(platform): ApiPath<Platform>,
) -> Result<Json<AuthorizeUrl>, HttpError> {
    Ok(Json(
        state
            .services
            .connections
            .authorize(who.user.id, platform)
            .await?,
    ))
}

async fn disconnect(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<ConnectionId>,
) -> Result<StatusCode, HttpError> {
    state
        .services
        .connections
        .disconnect(who.user.id, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
