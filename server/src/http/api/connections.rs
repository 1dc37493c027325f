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

/// Every platform (with whether it can be connected here) and the user's connected accounts.
#[utoipa::path(get, path = "/api/connections", tag = "connections", security(("bearer" = [])),
    responses((status = 200, body = ConnectionsOverview), (status = 401, body = crate::http::openapi::ErrorBody)))]
async fn overview(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
) -> Result<Json<ConnectionsOverview>, HttpError> {
    Ok(Json(
        state.services.connections.overview(who.user.id).await?,
    ))
}

/// Starts connecting an account: send the browser to `url`. The platform comes back to
/// `GET /oauth/{platform}/callback`, which redirects to the Connections page.
#[utoipa::path(post, path = "/api/connections/{platform}/authorize", tag = "connections",
    security(("bearer" = [])), params(("platform" = Platform, Path, description = "e.g. `x`")),
    responses((status = 200, body = AuthorizeUrl), (status = 404, body = crate::http::openapi::ErrorBody),
        (status = 409, description = "The platform is not configured by the operator", body = crate::http::openapi::ErrorBody)))]
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

/// Revokes the account's access at the platform, cancels its scheduled posts (saying why) and
/// forgets it.
#[utoipa::path(delete, path = "/api/connections/{id}", tag = "connections", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = crate::http::openapi::ErrorBody), (status = 502, body = crate::http::openapi::ErrorBody)))]
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
