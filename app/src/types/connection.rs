//! A connected account on a social platform, as its owner sees it. Tokens never appear here:
//! they stay encrypted in the database and in the server.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Platform;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct ConnectionId(pub Uuid);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    /// Tokens work (or can be refreshed).
    Active,
    /// The platform refused our tokens for good; the user must connect the account again.
    NeedsReconnect,
}

impl ConnectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::NeedsReconnect => "needs_reconnect",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Active, Self::NeedsReconnect]
            .into_iter()
            .find(|status| status.as_str() == raw)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Connection {
    pub id: ConnectionId,
    pub platform: Platform,
    /// The account's id on the platform.
    pub account_id: String,
    /// `@handle` on X, the page name on Facebook, …
    pub handle: String,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
    pub status: ConnectionStatus,
    /// Not read in the browser, so the editors' wasm carries no date parser for it.
    #[cfg_attr(feature = "hydrate", serde(skip_deserializing))]
    pub connected_at: DateTime<Utc>,
}

/// Whether a platform can be connected on this installation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// The operator configured it: "Connect" works.
    Available,
    /// Supported, but the operator has not set its credentials.
    NotConfigured,
    /// Not supported yet.
    ComingSoon,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PlatformOption {
    pub platform: Platform,
    pub name: String,
    pub availability: Availability,
}

/// What the Connections page shows: every platform and every connected account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ConnectionsOverview {
    pub platforms: Vec<PlatformOption>,
    pub connections: Vec<Connection>,
}

/// `{url}`: where to send the browser to consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuthorizeUrl {
    pub url: String,
}

/// `GET /api/connections/choices/{id}`: one consent gave access to several accounts (a
/// person's Facebook Pages); the person chooses which to connect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AccountChoice {
    pub id: Uuid,
    pub platform: Platform,
    pub accounts: Vec<ChoosableAccount>,
}

/// One account of an [`AccountChoice`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChoosableAccount {
    /// What `POST /api/connections/choices/{id}` names it by.
    pub account_id: String,
    pub handle: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Already connected: choosing it again renews its authorization.
    pub connected: bool,
}

/// `POST /api/connections/choices/{id}`: the accounts to connect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChosenAccounts {
    pub account_ids: Vec<String>,
}

/// What `POST /api/connections/choices/{id}` connected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChosenConnections {
    pub connections: Vec<Connection>,
}
