//! `POST /api/auth/register`, `/login`, `/logout`.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use app::services::{Registration, SignInAttempt};
use app::types::{Email, EnteredPassword, IssuedSession, Password, TimeZoneName, User};

use crate::http::error::HttpError;
use crate::http::extract::{AuthUser, Client};
use crate::http::json::ApiJson;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct RegisterBody {
    email: String,
    password: String,
    /// IANA name; UTC when absent or blank.
    time_zone: Option<String>,
}

/// 201 with the new user; the session it starts is set as the cookie.
/// Creates an account and signs it in (the session is also set as a cookie).
#[utoipa::path(post, path = "/api/auth/register", tag = "account", request_body = RegisterBody,
    responses((status = 201, body = User), (status = 409, body = crate::http::openapi::ErrorBody), (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<Response, HttpError> {
    let registration = Registration {
        email: Email::parse(&body.email)?,
        password: Password::parse("password", body.password)?,
        time_zone: TimeZoneName::parse_or_utc(body.time_zone.as_deref())?,
    };
    let accounts = &state.services.accounts;
    let account = accounts.register(registration).await?;
    let cookie = accounts.session_cookie(Some(&account.session));
    Ok((
        StatusCode::CREATED,
        [(header::SET_COOKIE, cookie)],
        Json(account.user),
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct LoginBody {
    email: String,
    password: String,
}

/// Signs in: the bearer token for `Authorization: Bearer …` (also set as the session cookie).
#[utoipa::path(post, path = "/api/auth/login", tag = "account", request_body = LoginBody,
    responses((status = 200, body = IssuedSession), (status = 401, body = crate::http::openapi::ErrorBody), (status = 429, body = crate::http::openapi::ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, HttpError> {
    let attempt = SignInAttempt {
        email: body.email,
        password: EnteredPassword::new(body.password),
        client,
    };
    let accounts = &state.services.accounts;
    let session: IssuedSession = accounts.sign_in(attempt).await?;
    let cookie = accounts.session_cookie(Some(&session));
    Ok(([(header::SET_COOKIE, cookie)], Json(session)).into_response())
}

/// Ends this session everywhere.
#[utoipa::path(post, path = "/api/auth/logout", tag = "account", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = crate::http::openapi::ErrorBody)))]
async fn logout(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
) -> Result<Response, HttpError> {
    let accounts = &state.services.accounts;
    accounts.sign_out(&who).await?;
    let cookie = accounts.session_cookie(None);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}
