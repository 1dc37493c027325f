//! `/api/posts`: create (with `Idempotency-Key`), list, read, edit, duplicate, retry a target,
//! cancel and delete.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};

use app::services::IdempotencyKey;
use app::types::{ApiError, NewPost, Post, PostId, PostPage, PostQuery, TargetId};

use crate::http::error::HttpError;
use crate::http::extract::{ApiPath, ApiQuery, AuthUser};
use crate::http::json::ApiJson;
use crate::state::AppState;

pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// The routes of the `Post` tier.
pub fn create_router() -> Router<AppState> {
    Router::new().route("/posts", post(create))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/posts", get(list))
        .route("/posts/{id}", get(read).patch(update).delete(remove))
        .route("/posts/{id}/duplicate", post(duplicate))
        .route("/posts/{id}/cancel", post(cancel))
        .route("/posts/{id}/targets/{target_id}/retry", post(retry))
}

async fn create(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewPost>,
) -> Result<(StatusCode, Json<Post>), HttpError> {
    let key = match headers.get(IDEMPOTENCY_HEADER) {
        None => None,
        Some(value) => Some(IdempotencyKey(
            value
                .to_str()
                .map_err(|_| {
                    ApiError::bad_request("The Idempotency-Key header must be plain text.")
                })?
                .to_owned(),
        )),
    };
    let post = state.services.posts.create(&who.user, body, key).await?;
    Ok((StatusCode::CREATED, Json(post)))
}

async fn list(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiQuery(query): ApiQuery<PostQuery>,
) -> Result<Json<PostPage>, HttpError> {
    Ok(Json(state.services.posts.list(who.user.id, query).await?))
}

async fn read(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<PostId>,
) -> Result<Json<Post>, HttpError> {
    Ok(Json(state.services.posts.get(who.user.id, id).await?))
}

async fn update(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<PostId>,
    ApiJson(body): ApiJson<NewPost>,
) -> Result<Json<Post>, HttpError> {
    Ok(Json(
        state.services.posts.update(&who.user, id, body).await?,
    ))
}

async fn duplicate(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<PostId>,
) -> Result<(StatusCode, Json<Post>), HttpError> {
    let copy = state.services.posts.duplicate(who.user.id, id).await?;
    Ok((StatusCode::CREATED, Json(copy)))
}

async fn cancel(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<PostId>,
) -> Result<Json<Post>, HttpError> {
    Ok(Json(state.services.posts.cancel(who.user.id, id).await?))
}

async fn retry(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath((id, target)): ApiPath<(PostId, TargetId)>,
) -> Result<Json<Post>, HttpError> {
    Ok(Json(
        state.services.posts.retry(who.user.id, id, target).await?,
    ))
}

async fn remove(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<PostId>,
) -> Result<StatusCode, HttpError> {
    state.services.posts.delete(who.user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
