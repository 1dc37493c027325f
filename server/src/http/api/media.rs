//! `POST /api/media` (multipart, field `file`), `GET /api/media` (every file with the posts
//! that use it), `GET /api/media/usage`, `GET /api/media/{id}/file`,
//! `GET /api/media/{id}/poster` and `DELETE /api/media/{id}`; direct uploads,
//! `POST /api/media/uploads` then `POST /api/media/uploads/{id}/confirm`; and, outside `/api`,
//! `GET /media/pull/{id}/{expires}/{signature}`, where platforms download a file, and
//! `PUT /media/uploads/{id}/{expires}/{signature}`, where browsers send a direct upload when
//! the media store is the local directory (a bucket takes them itself).

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use futures_util::{StreamExt, stream};

use app::types::{
    ApiError, DirectUpload, MediaEntry, MediaId, MediaItem, MediaUsage, NewDirectUpload, UploadId,
};

use crate::error::Error;
use crate::http::error::HttpError;
use crate::http::extract::{ApiPath, AuthUser};
use crate::http::json::ApiJson;
use crate::media::library::StageError;
use crate::media::pull::{PullUrls, Pulled};
use crate::media::store::{Access, MediaStore};
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
        .route("/media/usage", get(usage))
        .route("/media/uploads", post(begin_upload))
        .route("/media/uploads/{id}/confirm", post(confirm_upload))
        .route("/media/{id}", delete(remove))
        .route("/media/{id}/file", get(file))
        .route("/media/{id}/poster", get(poster))
}

/// Routes outside `/api`: the signed URLs platforms download media from, and the one browsers
/// send a direct upload to when the store is the local directory.
pub fn pull_router() -> Router<AppState> {
    Router::new()
        .route("/media/pull/{id}/{expires}/{signature}", get(pull_file))
        .route(
            "/media/pull/{id}/poster/{expires}/{signature}",
            get(pull_poster),
        )
        .route(
            "/media/uploads/{id}/{expires}/{signature}",
            // The limit is the announced size, counted as the file arrives.
            put(receive_upload).layer(DefaultBodyLimit::disable()),
        )
}

/// A file for a platform that downloads it (Instagram, Facebook, TikTok): no session, the
/// URL's signature is the permission. Whatever is wrong with the URL answers 404 alike. From a
/// bucket, the platform is sent on to the bucket's own signed URL, good no longer than ours.
async fn pull_file(
    State(state): State<AppState>,
    Path((id, expires, signature)): Path<(String, String, String)>,
) -> Result<Response, HttpError> {
    let (row, expires) = pulled_row(&state, Pulled::File, &id, &expires, &signature).await?;
    if let Some(away) = bucket_redirect(&state, &row.storage_key, expires).await? {
        return Ok(away);
    }
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
    let (row, expires) = pulled_row(&state, Pulled::Poster, &id, &expires, &signature).await?;
    let key = row.poster_key.ok_or(ApiError::NotFound)?;
    if let Some(away) = bucket_redirect(&state, &key, expires).await? {
        return Ok(away);
    }
    let bytes = state.uploads.store().get(&key).await.map_err(Error::from)?;
    Ok(([(header::CONTENT_TYPE, "image/jpeg")], bytes).into_response())
}

/// A redirect to the bucket's signed URL for `key`, expiring with the pull URL that led here;
/// `None` when the store cannot sign (the local directory serves the bytes itself). The pull
/// URL stays ours so that it is checked here first (a deleted file stops being served at
/// once) and stays under `PUBLIC_BASE_URL` (TikTok takes only URLs on a verified domain).
async fn bucket_redirect(
    state: &AppState,
    key: &str,
    expires: i64,
) -> Result<Option<Response>, HttpError> {
    let lifetime =
        PullUrls::time_left(expires, state.clock.now()).max(std::time::Duration::from_secs(1));
    let signed = state
        .uploads
        .store()
        .signed_url(Access::Get, key, lifetime)
        .await
        .map_err(Error::from)?;
    Ok(signed.map(|url| {
        (
            StatusCode::FOUND,
            [
                (header::LOCATION, url),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
        )
            .into_response()
    }))
}

/// The row a pull URL names and the URL's expiry, once its signature and expiry are checked.
async fn pulled_row(
    state: &AppState,
    pulled: Pulled,
    id: &str,
    expires: &str,
    signature: &str,
) -> Result<(crate::db::media::MediaRow, i64), HttpError> {
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
    Ok((state.uploads.row_by_id(id).await?, expires))
}

/// A direct upload sent to the app itself (the media store is the local directory): no
/// session, the URL's signature is the permission; the `Content-Type` must be the announced
/// one, and the body stops at the announced size (413). What arrives is only checked when the
/// upload is confirmed, as in a bucket.
async fn receive_upload(
    State(state): State<AppState>,
    Path((id, expires, signature)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, HttpError> {
    let (Ok(id), Ok(expires)) = (id.parse::<uuid::Uuid>(), expires.parse::<i64>()) else {
        return Err(ApiError::NotFound.into());
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    let mut admitted = state
        .uploads
        .admit_upload(id, expires, &signature, content_type)
        .await?;
    let mut pieces = body.into_data_stream();
    while let Some(piece) = pieces.next().await {
        let piece = match piece {
            Ok(piece) => piece,
            Err(error) => {
                admitted.discard().await;
                return Err(ApiError::bad_request(format!(
                    "The upload could not be read: {error}"
                ))
                .into());
            }
        };
        if let Err(error) = admitted.write(&piece).await {
            admitted.discard().await;
            return Err(match error {
                StageError::TooLarge { limit } => {
                    ApiError::PayloadTooLarge { limit_bytes: limit }.into()
                }
                StageError::Io(error) => Error::from(error).into(),
            });
        }
    }
    state.uploads.land_upload(admitted).await?;
    Ok(StatusCode::OK)
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

/// The user's media library, newest first: each file's fields, and `used_by`, the posts that
/// use it (id, status, scheduled time), those still to go out first.
#[utoipa::path(get, path = "/api/media", tag = "media", security(("bearer" = [])),
    responses((status = 200, body = Vec<MediaEntry>)))]
async fn list(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
) -> Result<Json<Vec<MediaEntry>>, HttpError> {
    Ok(Json(state.services.media.library(who.user.id).await?))
}

/// What the user's files take in the media store: `bytes_used` and `files`.
#[utoipa::path(get, path = "/api/media/usage", tag = "media", security(("bearer" = [])),
    responses((status = 200, body = MediaUsage)))]
async fn usage(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
) -> Result<Json<MediaUsage>, HttpError> {
    Ok(Json(state.services.media.usage(who.user.id).await?))
}

/// Announces a file the browser sends straight to the media store: `content_type` (JPEG, PNG,
/// WebP, GIF, MP4, MOV or WebM) and its exact `size`. The answer says where: send the file
/// with `method` to `url` with `headers` before `expires_at` (15 minutes), then confirm. The
/// same whatever the store: with the local directory the URL is the app's own.
#[utoipa::path(post, path = "/api/media/uploads", tag = "media", security(("bearer" = [])),
    request_body = NewDirectUpload,
    responses((status = 201, body = DirectUpload), (status = 400, body = crate::http::openapi::ErrorBody), (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn begin_upload(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiJson(body): ApiJson<NewDirectUpload>,
) -> Result<(StatusCode, Json<DirectUpload>), HttpError> {
    let upload = state.services.media.begin_upload(who.user.id, body).await?;
    Ok((StatusCode::CREATED, Json(upload)))
}

/// Checks what arrived for an announced upload (its size, its type by content, its
/// dimensions) and makes it media; 422 with the reason, and the file deleted, when it is not
/// what was announced or came too late.
#[utoipa::path(post, path = "/api/media/uploads/{id}/confirm", tag = "media", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 201, body = MediaItem), (status = 404, body = crate::http::openapi::ErrorBody), (status = 409, body = crate::http::openapi::ErrorBody), (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn confirm_upload(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<UploadId>,
) -> Result<(StatusCode, Json<MediaItem>), HttpError> {
    let item = state.services.media.confirm_upload(who.user.id, id).await?;
    Ok((StatusCode::CREATED, Json(item)))
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

/// Deletes a file, unless a post that has not gone out yet uses it (409, naming the post and
/// when it is due). Posts that have gone out everywhere (published or cancelled) keep their
/// records without it.
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
