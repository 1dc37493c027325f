//! Server functions of the media library. Uploads are not one of them: a file goes to the REST
//! route `POST /api/media` as multipart, which streams it with a size limit.

use leptos::prelude::*;

use crate::types::{ApiError, MediaItem};

#[cfg(feature = "ssr")]
use super::ssr::{media, require_session, respond};

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
