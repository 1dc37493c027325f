//! The composer's preview: how a draft would look on each chosen account and what each
//! platform would refuse, from the platforms' own rules, before anything is stored.

use sea_orm::DatabaseConnection;

use app::types::{NewPost, PreviewMedia, TargetPreview, UserId};

use crate::db::connections as connection_rows;
use crate::db::media::{self as media_rows, MediaRow};
use crate::error::Error;
use crate::platforms::{MediaCheck, PostCheck, Registry};
use crate::publishing::posts::Pipeline;

/// One preview per chosen account that still exists on a configured platform, in the order
/// the draft names them. Media the user does not own is left out, as the post would refuse it.
pub async fn previews(
    db: &DatabaseConnection,
    registry: &Registry,
    owner: UserId,
    post: &NewPost,
) -> Result<Vec<TargetPreview>, Error> {
    let rows = media_rows::owned(db, owner, &post.media_ids).await?;
    let ordered: Vec<&MediaRow> = post
        .media_ids
        .iter()
        .filter_map(|id| rows.iter().find(|row| row.id == id.0))
        .collect();
    let checks: Vec<MediaCheck> = ordered.iter().map(|row| MediaCheck::of(row)).collect();
    let media: Vec<PreviewMedia> = ordered.iter().map(|row| shown(row)).collect();
    let mut previews = Vec::with_capacity(post.targets.len());
    for target in &post.targets {
        let Some(connection) = connection_rows::get(db, owner, target.connection_id).await? else {
            continue;
        };
        let Some(api) = registry.get(connection.platform) else {
            continue;
        };
        let text = target.text.as_deref().unwrap_or(&post.text);
        let check = PostCheck {
            text,
            media: &checks,
            options: &target.options,
        };
        previews.push(TargetPreview {
            connection_id: connection.id,
            platform: connection.platform,
            handle: connection.handle,
            display_name: connection.display_name,
            headline: api.preview_headline(&target.options),
            text: text.to_owned(),
            looks: api.preview_rules(&check),
            media: media.clone(),
            problem: api
                .check_post(&check)
                .err()
                .map(|problem| problem.to_string()),
        });
    }
    Ok(previews)
}

/// What a preview shows of a file: an image itself, a video's poster frame.
fn shown(row: &MediaRow) -> PreviewMedia {
    let item = crate::db::posts::media_item(row, Pipeline::media_url(row));
    let video = item.mime.starts_with("video/");
    PreviewMedia {
        url: if video {
            item.poster_url
        } else {
            Some(item.url)
        },
        video,
        width: item.width,
        height: item.height,
    }
}
