//! Server functions of the connections page: the platforms and accounts, starting a connection
//! (the browser then goes to the platform's consent page) and disconnecting an account.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::types::{ApiError, AuthorizeUrl, ConnectionId, ConnectionsOverview, Platform};

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
