//! `ApiJson<T>`: axum's `Json` extractor with its rejections turned into [`ApiError`], so a
//! malformed body, a wrong type, a missing field or an oversized body gets our JSON error with
//! a message a person can act on, never a plain-text body or a 500.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use app::types::ApiError;

use super::error::HttpError;

/// The largest JSON body the API reads. Uploads get their own, larger limit later.
pub const JSON_BODY_LIMIT: usize = 64 * 1024;

pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(HttpError(rejection_to_error(rejection))),
        }
    }
}

fn rejection_to_error(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::bad_request(
            "Send the body as JSON with the header Content-Type: application/json.",
        ),
        JsonRejection::JsonSyntaxError(error) => {
            ApiError::bad_request(format!("The body is not valid JSON: {}", error.body_text()))
        }
        JsonRejection::JsonDataError(error) => ApiError::bad_request(error.body_text()),
        JsonRejection::BytesRejection(error)
            if error.status() == http::StatusCode::PAYLOAD_TOO_LARGE =>
        {
            ApiError::PayloadTooLarge {
                limit_bytes: JSON_BODY_LIMIT as u64,
            }
        }
        other => ApiError::bad_request(other.body_text()),
    }
}
