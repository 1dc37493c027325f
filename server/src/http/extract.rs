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
