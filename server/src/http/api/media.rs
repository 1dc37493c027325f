//! `POST /api/media` (multipart, field `file`), `GET /api/media`, `GET /api/media/{id}/file`,
//! `GET /api/media/{id}/poster` and `DELETE /api/media/{id}`; and, outside `/api`,
//! `GET /media/pull/{id}/{expires}/{signature}`, where platforms download a file.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use futures_util::stream;

use app::types::{ApiError, MediaId, MediaItem};

use crate::error::Error;
use crate::http::error::HttpError;
use crate::http::extract::{ApiPath, AuthUser};
use crate::media::library::StageError;
use crate::media::pull::Pulled;
use crate::media::store::MediaStore;
use crate::state::AppState;

/// Files are sent to the browser in pieces of this size.
const SEND_CHUNK: usize = 256 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/media",
            // The limit is the library's (`MEDIA_MAX_VIDEO_BYTES`), counted as the file
            // arrives; axum's whole-body limit would stop a video at 2 MB.
            post(upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/media", get(list))
        .route("/media/{id}", delete(remove))
        .route("/media/{id}/file", get(file))
        .route("/media/{id}/poster", get(poster))
}

/// Routes outside `/api`: the signed URLs platforms download media from.
pub fn pull_router() -> Router<AppState> {
    Router::new()
        .route("/media/pull/{id}/{expires}/{signature}", get(pull_file))
        .route(
            "/media/pull/{id}/poster/{expires}/{signature}",
            get(pull_poster),
        )
}

/// A file for a platform that downloads it (Instagram, Facebook, TikTok): no session, the
/// URL's signature is the permission. Whatever is wrong with the URL answers 404 alike.
async fn pull_file(
    State(state): State<AppState>,
    Path((id, expires, signature)): Path<(String, String, String)>,
) -> Result<Response, HttpError> {
    let row = pulled_row(&state, Pulled::File, &id, &expires, &signature).await?;
    let size = u64::try_from(row.bytes).unwrap_or(0);
    Ok(send(
        state.uploads.store().clone(),
        row.storage_key,
        row.mime,
        size,
    ))
}

/// A video's poster frame, for a platform that downloads it (Pinterest's video cover).
async fn pull_poster(
    State(state): State<AppState>,
    Path((id, expires, signature)): Path<(String, String, String)>,
) -> Result<Response, HttpError> {
    let row = pulled_row(&state, Pulled::Poster, &id, &expires, &signature).await?;
    let key = row.poster_key.ok_or(ApiError::NotFound)?;
    let bytes = state.uploads.store().get(&key).await.map_err(Error::from)?;
    Ok(([(header::CONTENT_TYPE, "image/jpeg")], bytes).into_response())
}

/// The row a pull URL names, once its signature and expiry are checked.
async fn pulled_row(
    state: &AppState,
    pulled: Pulled,
    id: &str,
    expires: &str,
    signature: &str,
) -> Result<crate::db::media::MediaRow, HttpError> {
    let (Ok(id), Ok(expires)) = (id.parse::<uuid::Uuid>(), expires.parse::<i64>()) else {
        return Err(ApiError::NotFound.into());
    };
    let id = MediaId(id);
    if let Err(refused) = state
        .pull_urls
        .check(id, pulled, expires, signature, state.clock.now())
    {
        tracing::info!(%refused, media = %id.0, "a media pull URL was refused");
        return Err(ApiError::NotFound.into());
    }
    Ok(state.uploads.row_by_id(id).await?)
}

/// Uploads an image or a video (multipart, field `file`), checked by its content: JPEG, PNG,
/// WebP or GIF up to 15 MB, or MP4, MOV or WebM up to `MEDIA_MAX_VIDEO_BYTES`. The file is
/// written to disk as it arrives; a video's facts are read with `ffprobe` and a poster frame
/// is taken.
#[utoipa::path(post, path = "/api/media", tag = "media", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "field `file`: the image or video"),
    responses((status = 201, body = MediaItem), (status = 413, body = crate::http::openapi::ErrorBody), (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn upload(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    mut form: Multipart,
) -> Result<(StatusCode, Json<MediaItem>), HttpError> {
    let unreadable = |error: axum::extract::multipart::MultipartError| {
        ApiError::bad_request(format!(
            "The upload could not be read: {}",
            error.body_text()
        ))
    };
    let library = &state.uploads;
    while let Some(mut field) = form.next_field().await.map_err(unreadable)? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().map(str::to_owned);
        let mut staged = library.stage().await?;
        loop {
            let chunk = match field.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(error) => {
                    staged.discard().await;
                    return Err(unreadable(error).into());
                }
            };
            if let Err(error) = staged.write(&chunk).await {
                staged.discard().await;
                return Err(match error {
                    StageError::TooLarge { limit } => {
                        ApiError::PayloadTooLarge { limit_bytes: limit }.into()
                    }
                    StageError::Io(error) => Error::from(error).into(),
                });
            }
        }
        let item = library.keep(who.user.id, name, staged).await?;
        return Ok((StatusCode::CREATED, Json(item)));
    }
    Err(ApiError::validation(
        "file",
        "Send the image or video as a multipart form field named `file`.",
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

/// The file itself, for its owner, streamed from the store.
#[utoipa::path(get, path = "/api/media/{id}/file", tag = "media", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, description = "The file's bytes"), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn file(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<MediaId>,
) -> Result<Response, HttpError> {
    let row = state.uploads.row(who.user.id, id).await?;
    let size = u64::try_from(row.bytes).unwrap_or(0);
    Ok(send(
        state.uploads.store().clone(),
        row.storage_key,
        row.mime,
        size,
    ))
}

/// A video's poster frame (JPEG), for its owner.
#[utoipa::path(get, path = "/api/media/{id}/poster", tag = "media", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, description = "The poster, a JPEG"), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn poster(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<MediaId>,
) -> Result<Response, HttpError> {
    let row = state.uploads.row(who.user.id, id).await?;
    let key = row.poster_key.ok_or(ApiError::NotFound)?;
    let bytes = state.uploads.store().get(&key).await.map_err(Error::from)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg".to_owned()),
            (header::CACHE_CONTROL, "private, max-age=86400".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

/// Streams `key` a piece at a time, so a video is never held in memory whole.
fn send(store: std::sync::Arc<dyn MediaStore>, key: String, mime: String, size: u64) -> Response {
    let pieces = stream::try_unfold(0u64, move |offset| {
        let store = store.clone();
        let key = key.clone();
        async move {
            if offset >= size {
                return Ok(None);
            }
            let piece = store.read_range(&key, offset, SEND_CHUNK).await?;
            if piece.is_empty() {
                return Ok(None);
            }
            let next = offset + piece.len() as u64;
            Ok::<_, std::io::Error>(Some((axum::body::Bytes::from(piece), next)))
        }
    });
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CONTENT_LENGTH, size.to_string()),
            (header::CACHE_CONTROL, "private, max-age=86400".to_owned()),
        ],
        Body::from_stream(pieces),
    )
        .into_response()
}

/// Deletes a file no post uses.
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
