//! Server functions of the media library. Uploads are not one of them: a file goes straight to
//! the media store (see `components::upload`), announced and confirmed through the REST API.

use leptos::prelude::*;

use crate::types::{ApiError, MediaEntry, MediaId, MediaItem, MediaUsage};

#[cfg(feature = "ssr")]
use super::ssr::{media, require_session, respond};

/// The query parameter saying a file was just deleted.
pub const DELETED_PARAM: &str = "deleted";

/// The user's uploaded images.
#[server(prefix = "/rpc", endpoint = "media/list")]
pub async fn list_media() -> Result<Vec<MediaItem>, ApiError> {
    let media = media();
    respond(
        async {
            let who = require_session().await?;
            media.list(who.user.id).await
        }
        .await,
    )
}

/// The Media page: every file with the posts that use it, and the storage they take.
#[server(prefix = "/rpc", endpoint = "media/library")]
pub async fn load_library() -> Result<(Vec<MediaEntry>, MediaUsage), ApiError> {
    let media = media();
    respond(
        async {
            let who = require_session().await?;
            Ok((
                media.library(who.user.id).await?,
                media.usage(who.user.id).await?,
            ))
        }
        .await,
    )
}

/// The Media page's "Delete" (a plain form): refused with the reason while a post still to go
/// out uses the file; the browser comes back to the page either way.
#[server(prefix = "/rpc", endpoint = "media/delete")]
pub async fn delete_media(id: MediaId) -> Result<(), ApiError> {
    let media = media();
    respond(
        async {
            let who = require_session().await?;
            media.delete(who.user.id, id).await?;
            leptos_axum::redirect(&format!("/media?{DELETED_PARAM}=1"));
            Ok(())
        }
        .await,
    )
}
