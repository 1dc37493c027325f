//! `/api/posts`: create (with `Idempotency-Key`), list, read, edit, duplicate, retry a target,
//! cancel and delete.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};

use app::services::IdempotencyKey;
use app::types::{
    ApiError, Calendar, CalendarQuery, NewPost, Platform, Post, PostId, PostPage, PostQuery,
    Schedule, TargetId, TargetStatus,
};

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
        .route("/posts/{id}/reschedule", post(reschedule))
        .route("/calendar", get(calendar))
        .route("/posts/{id}/targets/{target_id}/retry", post(retry))
}

/// Creates a post: one target per account and one job per target, in one transaction.
/// `schedule` is `"draft"`, `"now"`, `{"at": "<RFC 3339>"}` or `{"local": "YYYY-MM-DDTHH:MM"}`
/// in the user's time zone. The same `Idempotency-Key` and body within 24 hours returns the
/// first result.
#[utoipa::path(post, path = "/api/posts", tag = "posts", security(("bearer" = [])),
    request_body = NewPost,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request safe")),
    responses((status = 201, body = Post), (status = 400, body = crate::http::openapi::ErrorBody), (status = 404, body = crate::http::openapi::ErrorBody),
        (status = 409, body = crate::http::openapi::ErrorBody), (status = 422, body = crate::http::openapi::ErrorBody)))]
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

/// The user's posts, newest first, 25 per page (or `limit`).
#[utoipa::path(get, path = "/api/posts", tag = "posts", security(("bearer" = [])),
    params(("status" = Option<TargetStatus>, Query), ("platform" = Option<Platform>, Query),
        ("from" = Option<String>, Query, description = "RFC 3339"), ("to" = Option<String>, Query, description = "RFC 3339"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<u32>, Query, description = "Posts per page, 1 to 100 (default 25)")),
    responses((status = 200, body = PostPage), (status = 400, body = crate::http::openapi::ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiQuery(query): ApiQuery<PostQuery>,
) -> Result<Json<PostPage>, HttpError> {
    Ok(Json(state.services.posts.list(who.user.id, query).await?))
}

/// One post with its targets and job log.
#[utoipa::path(get, path = "/api/posts/{id}", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Post), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn read(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<PostId>,
) -> Result<Json<Post>, HttpError> {
    Ok(Json(state.services.posts.get(who.user.id, id).await?))
}

/// Changes a post that is not being published; targets that went out are kept.
#[utoipa::path(patch, path = "/api/posts/{id}", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = NewPost,
    responses((status = 200, body = Post), (status = 404, body = crate::http::openapi::ErrorBody), (status = 409, body = crate::http::openapi::ErrorBody), (status = 422, body = crate::http::openapi::ErrorBody)))]
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

/// A copy of the post as a new draft.
#[utoipa::path(post, path = "/api/posts/{id}/duplicate", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 201, body = Post), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn duplicate(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<PostId>,
) -> Result<(StatusCode, Json<Post>), HttpError> {
    let copy = state.services.posts.duplicate(who.user.id, id).await?;
    Ok((StatusCode::CREATED, Json(copy)))
}

/// Cancels every target that has not gone out.
#[utoipa::path(post, path = "/api/posts/{id}/cancel", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Post), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn cancel(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<PostId>,
) -> Result<Json<Post>, HttpError> {
    Ok(Json(state.services.posts.cancel(who.user.id, id).await?))
}

/// Tries a failed target again, now; on a held target, "Publish anyway": it goes out without its
/// product being checked again.
#[utoipa::path(post, path = "/api/posts/{id}/targets/{target_id}/retry", tag = "posts",
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("target_id" = uuid::Uuid, Path)),
    responses((status = 200, body = Post), (status = 404, body = crate::http::openapi::ErrorBody), (status = 409, body = crate::http::openapi::ErrorBody)))]
async fn retry(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath((id, target)): ApiPath<(PostId, TargetId)>,
) -> Result<Json<Post>, HttpError> {
    Ok(Json(
        state.services.posts.retry(who.user.id, id, target).await?,
    ))
}

/// Deletes the post; its scheduled targets never go out.
#[utoipa::path(delete, path = "/api/posts/{id}", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 204), (status = 404, body = crate::http::openapi::ErrorBody), (status = 409, body = crate::http::openapi::ErrorBody)))]
async fn remove(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<PostId>,
) -> Result<StatusCode, HttpError> {
    state.services.posts.delete(who.user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Moves a post none of whose targets has started to another time (`{"local":
/// "YYYY-MM-DDTHH:MM"}` in the user's time zone, or `{"at": "<RFC 3339>"}`); its jobs move with
/// it and it goes out once, at the new time. A time in the past, or one the clocks skip, is
/// refused with the reason.
#[utoipa::path(post, path = "/api/posts/{id}/reschedule", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = Schedule,
    responses((status = 200, body = Post), (status = 404, body = crate::http::openapi::ErrorBody),
        (status = 409, description = "Part of the post started or went out", body = crate::http::openapi::ErrorBody),
        (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn reschedule(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<PostId>,
    ApiJson(body): ApiJson<Schedule>,
) -> Result<Json<Post>, HttpError> {
    Ok(Json(
        state.services.posts.reschedule(&who.user, id, body).await?,
    ))
}

/// The posts of a span of days (at most 62, in the user's time zone), each at its local time,
/// and the hours of those days the clocks skip or repeat.
#[utoipa::path(get, path = "/api/calendar", tag = "posts", security(("bearer" = [])),
    params(CalendarQuery),
    responses((status = 200, body = Calendar), (status = 400, body = crate::http::openapi::ErrorBody),
        (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn calendar(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiQuery(query): ApiQuery<CalendarQuery>,
) -> Result<Json<Calendar>, HttpError> {
    Ok(Json(state.services.posts.calendar(&who.user, query).await?))
}
