//! Queries on `media`: the rows describing uploaded files (the bytes are in the media store).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use app::types::{MediaId, UserId, VideoInfo};

use super::DbError;
use super::entities::{media, post_media};

pub use media::Model as MediaRow;

/// What was checked about an upload before it was stored.
pub struct NewMedia<'a> {
    pub id: MediaId,
    pub mime: &'a str,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    pub sha256: &'a str,
    pub storage_key: &'a str,
    pub original_name: Option<&'a str>,
    pub video: Option<&'a VideoInfo>,
    pub poster_key: Option<&'a str>,
}

/// A row's video facts; `None` for an image (or facts this version cannot read).
pub fn video_of(row: &MediaRow) -> Option<VideoInfo> {
    row.video
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok())
}

pub async fn insert(
    db: &impl ConnectionTrait,
    owner: UserId,
    new: NewMedia<'_>,
    now: DateTime<Utc>,
) -> Result<MediaRow, DbError> {
    Ok(media::ActiveModel {
        id: Set(new.id.0),
        user_id: Set(owner.0),
        mime: Set(new.mime.to_owned()),
        width: Set(i32::try_from(new.width).unwrap_or(i32::MAX)),
        height: Set(i32::try_from(new.height).unwrap_or(i32::MAX)),
        bytes: Set(i64::try_from(new.bytes).unwrap_or(i64::MAX)),
        sha256: Set(new.sha256.to_owned()),
        storage_key: Set(new.storage_key.to_owned()),
        original_name: Set(new.original_name.map(str::to_owned)),
        created_at: Set(now),
        video: Set(new
            .video
            .map(|video| serde_json::to_string(video).expect("video facts serialise"))),
        poster_key: Set(new.poster_key.map(str::to_owned)),
    }
    .insert(db)
    .await?)
}

/// The user's media, newest first.
pub async fn list(db: &impl ConnectionTrait, owner: UserId) -> Result<Vec<MediaRow>, DbError> {
    Ok(media::Entity::find()
        .filter(media::Column::UserId.eq(owner.0))
        .order_by_desc(media::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Those of `ids` the user owns (any order).
pub async fn owned(
    db: &impl ConnectionTrait,
    owner: UserId,
    ids: &[MediaId],
) -> Result<Vec<MediaRow>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(media::Entity::find()
        .filter(media::Column::UserId.eq(owner.0))
        .filter(media::Column::Id.is_in(ids.iter().map(|id| id.0)))
        .all(db)
        .await?)
}

pub async fn get(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: MediaId,
) -> Result<Option<MediaRow>, DbError> {
    Ok(media::Entity::find_by_id(id.0)
        .filter(media::Column::UserId.eq(owner.0))
        .one(db)
        .await?)
}

/// A file by its id alone, whoever owns it: for a signed pull URL, whose signature stands in
/// for the owner.
pub async fn by_id(db: &impl ConnectionTrait, id: MediaId) -> Result<Option<MediaRow>, DbError> {
    Ok(media::Entity::find_by_id(id.0).one(db).await?)
}

/// Whether any post uses the file.
pub async fn in_use(db: &impl ConnectionTrait, id: MediaId) -> Result<bool, DbError> {
    Ok(post_media::Entity::find()
        .filter(post_media::Column::MediaId.eq(id.0))
        .one(db)
        .await?
        .is_some())
}

pub async fn delete(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: MediaId,
) -> Result<bool, DbError> {
    let deleted = media::Entity::delete_many()
        .filter(media::Column::Id.eq(id.0))
        .filter(media::Column::UserId.eq(owner.0))
        .exec(db)
        .await
        .map_err(DbError::from_write)?;
    Ok(deleted.rows_affected == 1)
}

/// The media of these posts, in each post's order.
pub async fn of_posts(
    db: &impl ConnectionTrait,
    posts: &[Uuid],
) -> Result<Vec<(Uuid, MediaRow)>, DbError> {
    if posts.is_empty() {
        return Ok(Vec::new());
    }
    let rows = post_media::Entity::find()
        .filter(post_media::Column::PostId.is_in(posts.iter().copied()))
        .order_by_asc(post_media::Column::PostId)
        .order_by_asc(post_media::Column::Position)
        .find_also_related(media::Entity)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(link, media)| media.map(|media| (link.post_id, media)))
        .collect())
}
