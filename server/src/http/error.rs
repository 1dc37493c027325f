//! How an [`ApiError`] becomes an HTTP response: the status from `ApiError::status` (the one
//! mapping), `ApiError::to_json` as the body (wrapped as `{"error": …}` for REST, bare for
//! server functions), `Retry-After` whenever the error says when to come back. Internal errors
//! are given the request id here, where the response is made, so a user can quote it.

use axum::Json;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use app::types::ApiError;

/// An [`ApiError`] on its way out of a REST handler.
#[derive(Debug)]
pub struct HttpError(pub ApiError);

impl From<ApiError> for HttpError {
    fn from(error: ApiError) -> Self {
        Self(error)
    }
}

/// A handler that calls the server's own services (the media library's streaming) maps their
/// errors here, the one place they become API errors.
impl From<crate::error::Error> for HttpError {
    fn from(error: crate::error::Error) -> Self {
        Self(error.into())
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let error = self.0;
        let mut response = with_retry_after(
            (error.status(), Json(json!({ "error": error.to_json() }))).into_response(),
            &error,
        );
        // Kept so that `name_internal_errors` can add the request id.
        response.extensions_mut().insert(error);
        response
    }
}

/// Middleware for `/api`: a known path called with the wrong method answers 405 in our JSON
/// shape (keeping the `Allow` header the router computed), and an `Internal` error is
/// re-rendered with the id of the request that caused it. Outside the router, so that it
/// costs one layer, not one per route.
pub async fn api_errors(request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let response = name_internal_errors(request, next).await;
    method_not_allowed_as_json(response)
}

/// Re-renders an `Internal` error with the id of the request that caused it.
async fn name_internal_errors(request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get(super::REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let response = next.run(request).await;
    match response.extensions().get::<ApiError>() {
        Some(ApiError::Internal { request_id: None }) => {
            let mut named = HttpError(ApiError::Internal {
                request_id: request_id.clone(),
            })
            .into_response();
            if let Some(id) = response.headers().get(super::REQUEST_ID_HEADER) {
                named
                    .headers_mut()
                    .insert(super::REQUEST_ID_HEADER, id.clone());
            }
            named
        }
        _ => response,
    }
}

/// The JSON fallback for paths under `/api` that do not exist.
pub async fn api_not_found() -> HttpError {
    HttpError(ApiError::NotFound)
}

fn method_not_allowed_as_json(response: Response) -> Response {
    if response.status() != http::StatusCode::METHOD_NOT_ALLOWED
        || response.extensions().get::<ApiError>().is_some()
    {
        return response;
    }
    let mut json = HttpError(ApiError::MethodNotAllowed).into_response();
    if let Some(allow) = response.headers().get(http::header::ALLOW) {
        json.headers_mut()
            .insert(http::header::ALLOW, allow.clone());
    }
    json
}

/// A 429 or 503 tells the client when to come back, whatever the body's shape.
fn with_retry_after(mut response: Response, error: &ApiError) -> Response {
    if let Some(seconds) = error.retry_after_secs() {
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, seconds.into());
    }
    response
}

/// An error answered by middleware, before any handler runs (rate and body limits), in the
/// shape the caller decodes: the bare `ApiError` for server functions (their client reads
/// that), `{"error":{…}}` for everything else.
pub fn error_response_for(path: &str, error: ApiError) -> Response {
    if path.starts_with(app::api::SERVER_FN_PREFIX) {
        server_fn_error_response(error)
    } else {
        HttpError(error).into_response()
    }
}

fn server_fn_error_response(error: ApiError) -> Response {
    with_retry_after(
        (error.status(), Json(error.to_json())).into_response(),
        &error,
    )
}

/// The header server_fn puts on a server function's error response.
const SERVER_FN_ERROR_HEADER: &str = "serverfnerror";
/// Error bodies are a few hundred bytes; anything bigger is left alone.
const SERVER_FN_ERROR_BODY_LIMIT: usize = 16 * 1024;

/// Middleware for the server functions' routes. A function that fails before its body runs
/// (arguments that do not decode) is answered by server_fn with status 500 whatever the
/// error: this gives every error response the status its [`ApiError`] maps to, and the
/// `Retry-After` it carries. A body over the limit (a bare 413 from the limit layer) becomes
/// `PayloadTooLarge` in the shape the client decodes.
pub async fn server_fn_errors(request: Request, next: Next) -> Response {
    let is_server_fn = request.uri().path().starts_with(app::api::SERVER_FN_PREFIX);
    let response = next.run(request).await;
    if !is_server_fn {
        return response;
    }
    if response.status() == http::StatusCode::PAYLOAD_TOO_LARGE
        && !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return server_fn_error_response(ApiError::PayloadTooLarge {
            limit_bytes: super::PAGE_BODY_LIMIT as u64,
        });
    }
    // A form post without JavaScript is answered with a redirect back to the form; leave it.
    if !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
        || response.status().is_redirection()
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, SERVER_FN_ERROR_BODY_LIMIT).await else {
        return Response::from_parts(parts, axum::body::Body::empty());
    };
    let Ok(error) = serde_json::from_slice::<ApiError>(&bytes) else {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    };
    parts.status = error.status();
    with_retry_after(
        Response::from_parts(parts, axum::body::Body::from(bytes)),
        &error,
    )
}
