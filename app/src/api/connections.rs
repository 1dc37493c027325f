//! Server functions of the connections page: the platforms and accounts, starting a connection
//! (the browser then goes to the platform's consent page) and disconnecting an account; and the
//! composer's: an account's post options.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::types::{
    AccountChoice, ApiError, AuthorizeUrl, ConnectionId, ConnectionsOverview, Platform,
    TargetOptions,
};

#[cfg(feature = "ssr")]
use super::ssr::{connections, require_session, respond};

#[server(prefix = "/rpc", endpoint = "connections/overview")]
pub async fn load_connections() -> Result<ConnectionsOverview, ApiError> {
    let connections = connections();
    respond(
        async {
            let who = require_session().await?;
            connections.overview(who.user.id).await
        }
        .await,
    )
}

/// The platform's consent URL; the browser goes there and comes back to `/connections`.
#[server(prefix = "/rpc", endpoint = "connections/authorize", input = Json)]
pub async fn authorize_connection(platform: Platform) -> Result<AuthorizeUrl, ApiError> {
    let connections = connections();
    respond(
        async {
            let who = require_session().await?;
            connections.authorize(who.user.id, platform).await
        }
        .await,
    )
}

/// The accounts one consent gave access to, when it gave several: the choice the callback
/// sent the browser to (`/connections?choose={id}`).
#[server(prefix = "/rpc", endpoint = "connections/choice")]
pub async fn load_account_choice(id: String) -> Result<AccountChoice, ApiError> {
    let connections = connections();
    respond(
        async {
            let who = require_session().await?;
            let id = parse_choice_id(&id)?;
            connections.account_choice(who.user.id, id).await
        }
        .await,
    )
}

/// Connects the chosen accounts: the choice form posts here (a plain HTML form, no script),
/// and the browser is sent back to the Connections page with what happened.
#[server(prefix = "/rpc", endpoint = "connections/choose")]
pub async fn choose_accounts(
    id: String,
    #[server(default)] account_ids: Vec<String>,
) -> Result<(), ApiError> {
    let connections = connections();
    let outcome = async {
        let who = require_session().await?;
        let id = parse_choice_id(&id)?;
        connections
            .choose_accounts(who.user.id, id, &account_ids)
            .await
    }
    .await;
    let (key, message) = match outcome {
        Ok(chosen) => (
            "connected",
            chosen
                .iter()
                .map(|connection| format!("@{}", connection.handle))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Err(error) => ("error", error.to_string()),
    };
    let message: String = url::form_urlencoded::byte_serialize(message.as_bytes()).collect();
    leptos_axum::redirect(&format!("/connections?{key}={message}"));
    Ok(())
}

#[cfg(feature = "ssr")]
fn parse_choice_id(id: &str) -> Result<uuid::Uuid, ApiError> {
    id.parse().map_err(|_| {
        ApiError::bad_request("This choice of accounts does not exist. Please click Connect again.")
    })
}

#[server(prefix = "/rpc", endpoint = "connections/disconnect", input = Json)]
pub async fn disconnect_connection(id: ConnectionId) -> Result<(), ApiError> {
    let connections = connections();
    respond(
        async {
            let who = require_session().await?;
            connections.disconnect(who.user.id, id).await
        }
        .await,
    )
}

/// The fields a post to this account takes (a Pinterest board, a title), with its choices, as
/// the composer's HTML showing `current`'s answers: written on the server, so that the
/// browser's wasm needs no code to read or draw them (see `components::target_options`).
#[server(prefix = "/rpc", endpoint = "connections/options", input = Json)]
pub async fn option_fields_html(
    id: ConnectionId,
    handle: String,
    current: TargetOptions,
) -> Result<String, ApiError> {
    let connections = connections();
    respond(
        async {
            let who = require_session().await?;
            let options = connections.post_options(who.user.id, id).await?;
            Ok(crate::components::target_options::fields_html(
                id, &handle, &options, &current,
            ))
        }
        .await,
    )
}
