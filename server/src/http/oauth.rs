//! `GET /oauth/{platform}/callback`: where a platform sends the browser back after consent.
//! Always answers with a redirect to the Connections page, which shows what happened: the
//! account connected, or why not (access denied, a stale or reused link, the platform failed).

use axum::Router;
use axum::extract::{Query, State};
use axum::response::Redirect;
use axum::routing::get;

use app::types::{ApiError, Platform, session_token_from_headers};

use crate::connections::{Callback, Completed};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/oauth/{platform}/callback", get(callback))
}

async fn callback(
    State(state): State<AppState>,
    axum::extract::Path(platform): axum::extract::Path<String>,
    headers: http::HeaderMap,
    query: Result<Query<Callback>, axum::extract::rejection::QueryRejection>,
) -> Redirect {
    let Some(platform) = Platform::parse(&platform) else {
        return to_connections("error", "That platform is not known here.");
    };
    let Some(token) = session_token_from_headers(&headers) else {
        return Redirect::to("/login");
    };
    let who = match state.services.accounts.authenticate(token).await {
        Ok(who) => who,
        Err(ApiError::Unauthorized) => return Redirect::to("/login"),
        Err(error) => return to_connections("error", &error.to_string()),
    };
    let callback = query.map(|Query(callback)| callback).unwrap_or_default();
    match state.oauth.complete(who.user.id, platform, callback).await {
        Ok(Completed::Connected(connection)) => {
            to_connections("connected", &format!("@{}", connection.handle))
        }
        Ok(Completed::Choose(id)) => to_connections("choose", &id.to_string()),
        Err(error) => to_connections("error", &ApiError::from(error).to_string()),
    }
}

fn to_connections(key: &str, message: &str) -> Redirect {
    let message: String = url::form_urlencoded::byte_serialize(message.as_bytes()).collect();
    Redirect::to(&format!("/connections?{key}={message}"))
}
