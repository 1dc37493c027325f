//! Server functions for creating an account and signing in and out.

use leptos::prelude::*;

use crate::types::{ApiError, User};

#[cfg(feature = "ssr")]
use {
    super::ssr::{accounts, client_addr, current_session, respond, respond_keeping, set_cookie},
    crate::services::{Registration, SignInAttempt},
    crate::types::{Email, EnteredPassword, Password, TimeZoneName},
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
    let result = async {
        let registration = Registration {
            email: Email::parse(&email)?,
            password: Password::parse("password", password)?,
            time_zone: TimeZoneName::parse_or_utc(Some(&time_zone))?,
        };
        let account = accounts().register(registration).await?;
        set_cookie(accounts().session_cookie(Some(&account.session)));
        leptos_axum::redirect(HOME_PATH);
        Ok(())
    }
    .await;
    respond_keeping(result, &[("email", &email)])
}

#[server(prefix = "/rpc", endpoint = "account/sign-in")]
pub async fn sign_in(email: String, password: String) -> Result<(), ApiError> {
    let result = async {
        let attempt = SignInAttempt {
            email: email.clone(),
            password: EnteredPassword::new(password),
            client: client_addr()?,
        };
        let session = accounts().sign_in(attempt).await?;
        set_cookie(accounts().session_cookie(Some(&session)));
        leptos_axum::redirect(HOME_PATH);
        Ok(())
    }
    .await;
    respond_keeping(result, &[("email", &email)])
}

/// Ends this session on the server (the token stops working everywhere) and clears the cookie.
/// If the session cannot be revoked (the database is down), it says so and keeps the cookie:
/// pretending to sign out would leave a working token behind.
#[server(prefix = "/rpc", endpoint = "account/sign-out")]
pub async fn sign_out() -> Result<(), ApiError> {
    respond(
        async {
            if let Some(who) = current_session().await? {
                accounts().sign_out(&who).await?;
            }
            set_cookie(accounts().session_cookie(None));
            leptos_axum::redirect("/login");
            Ok(())
        }
        .await,
    )
}
