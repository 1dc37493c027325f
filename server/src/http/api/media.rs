//! `POST /api/media` (multipart, field `file`), `GET /api/media`, `GET /api/media/{id}/file`
//! and `DELETE /api/media/{id}`.

use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};

use app::types::{ApiError, MediaId, MediaItem};

use crate::http::error::HttpError;
use crate::http::extract::{ApiPath, AuthUser};
use crate::media::probe::MAX_UPLOAD_BYTES;
use crate::state::AppState;

/// Room for the largest file plus the multipart framing.
const UPLOAD_BODY_LIMIT: usize = MAX_UPLOAD_BYTES + 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/media",
            post(upload).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
        )
        .route("/media", get(list))
        .route("/media/{id}", delete(remove))
        .route("/media/{id}/file", get(file))
}

/// Uploads an image (multipart, field `file`): JPEG, PNG, WebP or GIF, checked by its content.
#[utoipa::path(post, path = "/api/media", tag = "media", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "field `file`: the image"),
    responses((status = 201, body = MediaItem), (status = 413, body = crate::http::openapi::ErrorBody), (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn upload(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    mut form: Multipart,
) -> Result<(StatusCode, Json<MediaItem>), HttpError> {
    let unreadable = |error: axum::extract::multipart::MultipartError| {
        if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge {
                limit_bytes: MAX_UPLOAD_BYTES as u64,
            }
        } else {
            ApiError::bad_request(format!(
                "The upload could not be read: {}",
                error.body_text()
            ))
        }
    };
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.map_err(unreadable)?;
        let item = state
            .services
            .media
            .upload(who.user.id, name, bytes.to_vec())
            .await?;
        return Ok((StatusCode::CREATED, Json(item)));
    }
    Err(ApiError::validation(
        "file",
        "Send the image as a multipart form field named `file`.",
    )
    .into())
}

/// The user's media library, newest first.
#[utoipa::path(get, path = "/api/media", tag = "media", security(("bearer" = [])),
    responses((status = 200, body = Vec<MediaItem>)))]
async fn list(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
) -> Result<Json<Vec<MediaItem>>, HttpError> {
    Ok(Json(state.services.media.list(who.user.id).await?))
}

/// The image itself, for its owner.
#[utoipa::path(get, path = "/api/media/{id}/file", tag = "media", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, description = "The image bytes"), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn file(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<MediaId>,
) -> Result<Response, HttpError> {
    let (mime, bytes) = state.services.media.file(who.user.id, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "private, max-age=86400".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

/// Deletes an image no post uses.
#[utoipa::path(delete, path = "/api/media/{id}", tag = "media", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 204), (status = 404, body = crate::http::openapi::ErrorBody), (status = 409, body = crate::http::openapi::ErrorBody)))]
async fn remove(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<MediaId>,
) -> Result<StatusCode, HttpError> {
    state.services.media.delete(who.user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
