//! Handler arguments: taking [`AuthUser`] means the route needs a live session, sent as
//! `Authorization: Bearer <token>` or as the session cookie; [`Client`] is the address the
//! client middleware decided the request comes from.

use axum::extract::FromRequestParts;
use http::request::Parts;

use app::types::{ApiError, Authenticated, ClientAddr, session_token_from_headers};

use super::error::HttpError;
use crate::state::AppState;

pub struct AuthUser(pub Authenticated);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = session_token_from_headers(&parts.headers).ok_or(ApiError::Unauthorized)?;
        Ok(Self(state.services.accounts.authenticate(token).await?))
    }
}

pub struct Client(pub ClientAddr);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<ClientAddr>() {
            Some(client) => Ok(Self(*client)),
            None => {
                tracing::error!(
                    "no client address on the request (is the client middleware installed?)"
                );
                Err(HttpError(ApiError::Internal { request_id: None }))
            }
        }
    }
}

/// Path parameters, with a malformed one (not a UUID, an unknown platform) answered 404 like
/// an id that does not exist: the API never says more about ids that are not yours.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(_) => Err(HttpError(ApiError::NotFound)),
        }
    }
}

/// Query parameters, with a bad one answered 400 saying which.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(HttpError(ApiError::bad_request(rejection.body_text()))),
        }
    }
}
