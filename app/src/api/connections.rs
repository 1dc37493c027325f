//! Server functions of the connections page: the platforms and accounts, starting a connection
//! (the browser then goes to the platform's consent page) and disconnecting an account; and the
//! composer's: an account's post options.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::types::{
    ApiError, AuthorizeUrl, ConnectionId, ConnectionsOverview, Platform, TargetOptions,
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
                id,
                &handle,
                &options.fields,
                &current,
            ))
        }
        .await,
    )
}
