//! `POST /api/auth/register`, `/login`, `/logout`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use app::services::{Accounts, Registration, SignInAttempt};
use app::types::{Email, IssuedSession, Password, TimeZoneName, User};

use crate::http::error::HttpError;
use crate::http::extract::AuthUser;
use crate::http::json::ApiJson;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
}

#[derive(Deserialize)]
struct RegisterBody {
    email: String,
    password: String,
    /// IANA name; UTC when absent.
    time_zone: Option<String>,
}

async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<(StatusCode, Json<User>), HttpError> {
    let registration = Registration {
        email: Email::parse(&body.email)?,
        password: Password::parse("password", body.password)?,
        time_zone: match body.time_zone {
            Some(name) => TimeZoneName::parse(&name)?,
            None => TimeZoneName::utc(),
        },
    };
    let user = state.accounts.register(registration).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[derive(Deserialize)]
struct LoginBody {
    email: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, HttpError> {
    let attempt = SignInAttempt {
        email: body.email,
        password: body.password,
        client: peer.ip().to_string(),
    };
    let session: IssuedSession = state.accounts.sign_in(attempt).await?;
    let cookie = state.accounts.session_cookie(Some(&session));
    Ok(([(header::SET_COOKIE, cookie)], Json(session)).into_response())
}

async fn logout(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
) -> Result<Response, HttpError> {
    state.accounts.sign_out(&who).await?;
    let cookie = state.accounts.session_cookie(None);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}
