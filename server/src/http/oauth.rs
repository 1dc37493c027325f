//! `GET /oauth/{platform}/callback`: where a platform or a store sends the browser back after
//! consent. Always answers with a redirect to the Connections page, which shows what happened:
//! the account or store connected, or why not (access denied, a stale or reused link, a
//! tampered signature, the platform failed).

use axum::Router;
use axum::extract::{Query, State};
use axum::response::Redirect;
use axum::routing::get;

use app::types::{ApiError, Platform, Store, session_token_from_headers};

use crate::connections::{Callback, Completed};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/oauth/{platform}/callback", get(callback))
}

async fn callback(
    State(state): State<AppState>,
    axum::extract::Path(platform): axum::extract::Path<String>,
    headers: http::HeaderMap,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
    query: Result<Query<Callback>, axum::extract::rejection::QueryRejection>,
) -> Redirect {
    let Some(token) = session_token_from_headers(&headers) else {
        return Redirect::to("/login");
    };
    let who = match state.services.accounts.authenticate(token).await {
        Ok(who) => who,
        Err(ApiError::Unauthorized) => return Redirect::to("/login"),
        Err(error) => return to_connections("error", &error.to_string()),
    };
    if let Some(store) = Store::parse(&platform) {
        // Stores may sign the whole query (Shopify), so it is passed on as it came.
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .into_owned()
                .collect();
        return match state.stores.complete(who.user.id, store, &pairs).await {
            Ok(connected) => to_connections("store_connected", &connected.name),
            Err(error) => to_connections("error", &ApiError::from(error).to_string()),
        };
    }
    let Some(platform) = Platform::parse(&platform) else {
        return to_connections("error", "That platform is not known here.");
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
