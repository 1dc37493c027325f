//! Server functions of the settings page.

use leptos::prelude::*;

use crate::types::{ApiError, User};

#[cfg(feature = "ssr")]
use {
    super::ssr::{accounts, client_addr, require_session, respond},
    crate::types::{DisplayName, EnteredPassword, Password, ProfileUpdate, TimeZoneName},
};

#[server(prefix = "/rpc", endpoint = "settings/profile")]
pub async fn update_profile(display_name: String, time_zone: String) -> Result<User, ApiError> {
    respond(
        async {
            let who = require_session().await?;
            let update = ProfileUpdate {
                display_name: DisplayName::parse(&display_name)?,
                time_zone: TimeZoneName::parse(&time_zone)?,
            };
            accounts().update_profile(who.user.id, update).await
        }
        .await,
    )
}

/// Changes the password; every other session of the user is signed out. A wrong current
/// password counts like a failed sign-in (and the route sits in the `auth` rate-limit tier).
#[server(prefix = "/rpc", endpoint = "settings/password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), ApiError> {
    respond(
        async {
            let who = require_session().await?;
            let new = Password::parse("new_password", new_password)?;
            let current = EnteredPassword::new(current_password);
            accounts()
                .change_password(&who, current, new, client_addr()?)
                .await
        }
        .await,
    )
}

/// The names of the tz database, for the time-zone picker. They come from the server so that
/// the database stays out of the browser's wasm.
#[server(prefix = "/rpc", endpoint = "settings/time-zones")]
pub async fn time_zones() -> Result<Vec<String>, ApiError> {
    Ok(TimeZoneName::all().map(str::to_owned).collect())
}
