//! Authentication as a handler argument: taking [`AuthUser`] means the route needs a live
//! session, sent as `Authorization: Bearer <token>` or as the session cookie.

use axum::extract::FromRequestParts;
use http::request::Parts;

use app::services::Accounts;
use app::types::{ApiError, Authenticated, session_token_from_headers};

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
        Ok(Self(state.accounts.authenticate(token).await?))
    }
}
