//! `GET /api/connections`, `POST /api/connections/{platform}/authorize`,
//! `DELETE /api/connections/{id}`, and the post options of an account:
//! `GET /api/connections/{id}/options` and `POST /api/connections/{id}/options/{name}/choices`;
//! and the choice of accounts after a consent that gave several:
//! `GET` and `POST /api/connections/choices/{id}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};

use app::types::{
    AccountChoice, AuthorizeUrl, ChosenAccounts, ChosenConnections, ConnectionId,
    ConnectionsOverview, NewChoice, OptionChoice, Platform, PostOptions,
};

use crate::http::error::HttpError;
use crate::http::extract::{ApiPath, AuthUser};
use crate::http::json::ApiJson;
use crate::state::AppState;

/// The routes of the `Api` tier.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/connections", get(overview))
        .route("/connections/{id}", delete(disconnect))
        .route("/connections/{id}/options", get(post_options))
        .route("/connections/{id}/options/{name}/choices", post(add_choice))
        .route(
            "/connections/choices/{id}",
            get(account_choice).post(choose_accounts),
        )
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

/// The fields a post to this account takes beyond text and media (a Pinterest board, a title),
/// with the account's current choices read from the platform. Their answers go in a target's
/// `options`.
#[utoipa::path(get, path = "/api/connections/{id}/options", tag = "connections", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = PostOptions), (status = 404, body = crate::http::openapi::ErrorBody),
        (status = 502, description = "The platform could not be asked", body = crate::http::openapi::ErrorBody)))]
async fn post_options(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<ConnectionId>,
) -> Result<Json<PostOptions>, HttpError> {
    Ok(Json(
        state
            .services
            .connections
            .post_options(who.user.id, id)
            .await?,
    ))
}

/// Makes a new choice for a field that allows it (`can_add`): a new Pinterest board.
#[utoipa::path(post, path = "/api/connections/{id}/options/{name}/choices", tag = "connections",
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("name" = String, Path, description = "e.g. `board_id`")),
    request_body = NewChoice,
    responses((status = 201, body = OptionChoice), (status = 404, body = crate::http::openapi::ErrorBody),
        (status = 422, body = crate::http::openapi::ErrorBody), (status = 502, body = crate::http::openapi::ErrorBody)))]
async fn add_choice(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath((id, name)): ApiPath<(ConnectionId, String)>,
    ApiJson(choice): ApiJson<NewChoice>,
) -> Result<(StatusCode, Json<OptionChoice>), HttpError> {
    let made = state
        .services
        .connections
        .add_choice(who.user.id, id, &name, &choice.label)
        .await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// The accounts a consent gave access to, when it gave several (a person's Facebook Pages):
/// the callback sends the browser to `/connections?choose={id}`, where the person picks.
#[utoipa::path(get, path = "/api/connections/choices/{id}", tag = "connections",
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = AccountChoice), (status = 400, body = crate::http::openapi::ErrorBody)))]
async fn account_choice(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<uuid::Uuid>,
) -> Result<Json<AccountChoice>, HttpError> {
    Ok(Json(
        state
            .services
            .connections
            .account_choice(who.user.id, id)
            .await?,
    ))
}

/// Connects the chosen accounts of a choice (at least one); a choice is made once.
#[utoipa::path(post, path = "/api/connections/choices/{id}", tag = "connections",
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path)), request_body = ChosenAccounts,
    responses((status = 201, body = ChosenConnections), (status = 400, body = crate::http::openapi::ErrorBody),
        (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn choose_accounts(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<uuid::Uuid>,
    ApiJson(chosen): ApiJson<ChosenAccounts>,
) -> Result<(StatusCode, Json<ChosenConnections>), HttpError> {
    let connections = state
        .services
        .connections
        .choose_accounts(who.user.id, id, &chosen.account_ids)
        .await?;
    Ok((StatusCode::CREATED, Json(ChosenConnections { connections })))
}
