//! Server functions for creating an account and signing in and out.

use leptos::prelude::*;

use crate::types::{ApiError, User};

#[cfg(feature = "ssr")]
use {
    super::ssr::{accounts, current_session, require_session, respond, set_cookie, start_session},
    crate::services::Registration,
    crate::types::{Email, Password, TimeZoneName},
};

/// The page a new session lands on.
pub const HOME_PATH: &str = "/settings";

/// The signed-in user, or `None` for a visitor.
#[server(prefix = "/rpc", endpoint = "account/me")]
pub async fn current_user() -> Result<Option<User>, ApiError> {
    respond(current_session().await.map(|who| who.map(|who| who.user)))
}

/// Creates the account, signs it in and goes home. `time_zone` comes from the browser; an
/// empty one (no JavaScript) means UTC until the user picks one in settings.
#[server(prefix = "/rpc", endpoint = "account/register")]
pub async fn register(email: String, password: String, time_zone: String) -> Result<(), ApiError> {
    respond(
        async {
            let time_zone = match time_zone.trim() {
                "" => TimeZoneName::utc(),
                name => TimeZoneName::parse(name).unwrap_or_else(|_| TimeZoneName::utc()),
            };
            let registration = Registration {
                email: Email::parse(&email)?,
                password: Password::parse("password", password.clone())?,
                time_zone,
            };
            accounts().register(registration).await?;
            start_session(email, password).await
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "account/sign-in")]
pub async fn sign_in(email: String, password: String) -> Result<(), ApiError> {
    respond(start_session(email, password).await)
}

/// Ends this session on the server (the token stops working everywhere) and clears the cookie.
#[server(prefix = "/rpc", endpoint = "account/sign-out")]
pub async fn sign_out() -> Result<(), ApiError> {
    respond(
        async {
            if let Ok(who) = require_session().await {
                accounts().sign_out(&who).await?;
            }
            set_cookie(accounts().session_cookie(None));
            leptos_axum::redirect("/login");
            Ok(())
        }
        .await,
    )
}
