//! Server functions about the installation itself rather than the user's data.

use leptos::prelude::*;

use crate::types::ApiError;

/// Whether this server runs with the platform fakes (`serve --sandbox`), so that every page
/// can say nothing is really posted. Public: the sign-in page shows the banner too.
#[server(prefix = "/rpc", endpoint = "meta/sandbox")]
pub async fn is_sandbox() -> Result<bool, ApiError> {
    Ok(use_context::<crate::types::SandboxMode>().is_some_and(|mode| mode.0))
}
