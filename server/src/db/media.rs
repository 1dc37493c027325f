//! Queries on `media`, the rows describing uploaded files (the bytes are in the media store);
//! on the posts that use them; and on `media_uploads`, direct uploads announced and not yet
//! confirmed.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Asterisk, Expr, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use app::types::{MediaId, TargetStatus, UserId, VideoInfo};

use super::DbError;
use super::entities::{media, media_upload, post, post_media, post_target, user};

/// A target's status and due time.
type TargetTiming = (TargetStatus, Option<DateTime<Utc>>);
/// A target row as read for the library: id, post, status, due and published times.
type TargetTimingRow = (
    Uuid,
    Uuid,
    String,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

pub use media::Model as MediaRow;
pub use media_upload::Model as UploadRow;

/// Ids per `IN (…)` list: far below the bind limits of SQLite (32,766) and PostgreSQL (65,535)
/// for a library of any size.
const IDS_PER_QUERY: usize = 500;

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

/// One post that uses a file, with what decides whether the file may go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostUse {
    pub media_id: Uuid,
    pub post_id: Uuid,
    pub text: String,
    /// The time the user chose; `None` for drafts and "now".
    pub scheduled_at: Option<DateTime<Utc>>,
    /// Each of the post's targets: its status and when it is next due (its retry, or its
    /// time), if it is waiting for one.
    pub targets: Vec<(TargetStatus, Option<DateTime<Utc>>)>,
}

/// The posts that use each of `media`, whoever wrote them (a file is only ever linked to its
/// owner's posts; the delete check must not depend on that).
pub async fn uses(db: &impl ConnectionTrait, media: &[Uuid]) -> Result<Vec<PostUse>, DbError> {
    let mut links: BTreeSet<(Uuid, Uuid)> = BTreeSet::new();
    for ids in media.chunks(IDS_PER_QUERY) {
        let rows: Vec<(Uuid, Uuid)> = post_media::Entity::find()
            .select_only()
            .column(post_media::Column::MediaId)
            .column(post_media::Column::PostId)
            .filter(post_media::Column::MediaId.is_in(ids.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        links.extend(rows);
    }
    let post_ids: Vec<Uuid> = links
        .iter()
        .map(|(_, post)| *post)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut posts: BTreeMap<Uuid, post::Model> = BTreeMap::new();
    // A post's targets: each one's status and when it is due.
    let mut targets: BTreeMap<Uuid, Vec<TargetTiming>> = BTreeMap::new();
    for ids in post_ids.chunks(IDS_PER_QUERY) {
        for row in post::Entity::find()
            .filter(post::Column::Id.is_in(ids.iter().copied()))
            .all(db)
            .await?
        {
            posts.insert(row.id, row);
        }
        let rows: Vec<TargetTimingRow> = post_target::Entity::find()
            .select_only()
            .column(post_target::Column::Id)
            .column(post_target::Column::PostId)
            .column(post_target::Column::Status)
            .column(post_target::Column::DueAt)
            .column(post_target::Column::NextAttemptAt)
            .filter(post_target::Column::PostId.is_in(ids.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        for (id, post, status, due_at, next_attempt_at) in rows {
            let status = TargetStatus::parse(&status).ok_or_else(|| {
                DbError::Db(sea_orm::DbErr::Custom(format!(
                    "post_targets.status of {id} does not parse"
                )))
            })?;
            targets
                .entry(post)
                .or_default()
                .push((status, next_attempt_at.or(due_at)));
        }
    }
    Ok(links
        .into_iter()
        .filter_map(|(media_id, post_id)| {
            let post = posts.get(&post_id)?;
            Some(PostUse {
                media_id,
                post_id,
                text: post.text.clone(),
                scheduled_at: post.scheduled_at,
                targets: targets.get(&post_id).cloned().unwrap_or_default(),
            })
        })
        .collect())
}

/// How much the owner's files take: their bytes and their number (posters not counted: a few
/// kilobytes each, kept beside their video).
pub async fn usage(db: &impl ConnectionTrait, owner: UserId) -> Result<(u64, u64), DbError> {
    // SUM of a BIGINT is NUMERIC on PostgreSQL, which does not decode as an integer: cast back.
    let total = Expr::expr(Func::coalesce([
        Expr::col(media::Column::Bytes).sum(),
        Expr::val(0i64).into(),
    ]))
    .cast_as(Alias::new("BIGINT"));
    let (bytes, files): (i64, i64) = media::Entity::find()
        .select_only()
        .column_as(total, "bytes")
        .column_as(Expr::col(Asterisk).count(), "files")
        .filter(media::Column::UserId.eq(owner.0))
        .into_tuple()
        .one(db)
        .await?
        .unwrap_or((0, 0));
    Ok((
        u64::try_from(bytes).unwrap_or(0),
        u64::try_from(files).unwrap_or(0),
    ))
}

/// What became of a file asked to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Deleted,
    /// A post other than the finished ones uses it: the caller rolls back.
    StillUsed,
    /// There was no such file of the owner's.
    Gone,
}

/// Deletes the owner's file row with its links to `finished` posts (whose records keep
/// everything but the file). Run in a transaction: unless the answer is `Deleted`, the caller
/// rolls back, and the links stay.
pub async fn delete_with_finished_links(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: MediaId,
    finished: &[Uuid],
) -> Result<Removal, DbError> {
    for posts in finished.chunks(IDS_PER_QUERY) {
        post_media::Entity::delete_many()
            .filter(post_media::Column::MediaId.eq(id.0))
            .filter(post_media::Column::PostId.is_in(posts.iter().copied()))
            .exec(db)
            .await?;
    }
    if in_use(db, id).await? {
        return Ok(Removal::StillUsed);
    }
    Ok(if delete(db, owner, id).await? {
        Removal::Deleted
    } else {
        Removal::Gone
    })
}

/// The owner's time zone, to tell them when a post is due in their own time.
pub async fn time_zone_of(
    db: &impl ConnectionTrait,
    owner: UserId,
) -> Result<Option<String>, DbError> {
    Ok(user::Entity::find_by_id(owner.0)
        .select_only()
        .column(user::Column::TimeZone)
        .into_tuple()
        .one(db)
        .await?)
}

/// A direct upload as announced.
pub struct NewUpload<'a> {
    pub id: Uuid,
    pub storage_key: &'a str,
    pub file_name: Option<&'a str>,
    pub content_type: &'a str,
    pub bytes: u64,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_upload(
    db: &impl ConnectionTrait,
    owner: UserId,
    new: NewUpload<'_>,
    now: DateTime<Utc>,
) -> Result<UploadRow, DbError> {
    media_upload::ActiveModel {
        id: Set(new.id),
        user_id: Set(owner.0),
        storage_key: Set(new.storage_key.to_owned()),
        file_name: Set(new.file_name.map(str::to_owned)),
        content_type: Set(new.content_type.to_owned()),
        bytes: Set(i64::try_from(new.bytes).unwrap_or(i64::MAX)),
        created_at: Set(now),
        expires_at: Set(new.expires_at),
    }
    .insert(db)
    .await
    .map_err(DbError::from_write)
}

/// The owner's upload.
pub async fn upload(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: Uuid,
) -> Result<Option<UploadRow>, DbError> {
    Ok(media_upload::Entity::find_by_id(id)
        .filter(media_upload::Column::UserId.eq(owner.0))
        .one(db)
        .await?)
}

/// An upload by its id alone, for the signed URL the browser sends it to (the signature
/// stands in for the owner).
pub async fn upload_by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<UploadRow>, DbError> {
    Ok(media_upload::Entity::find_by_id(id).one(db).await?)
}

/// Deletes the owner's upload record. Whoever gets `true` (a confirm, a refusal, the sweep)
/// is the one that decides what becomes of the stored object.
pub async fn take_upload(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: Uuid,
) -> Result<bool, DbError> {
    let deleted = media_upload::Entity::delete_many()
        .filter(media_upload::Column::Id.eq(id))
        .filter(media_upload::Column::UserId.eq(owner.0))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected == 1)
}

/// Uploads whose URL expired before `cutoff`, oldest first, at most `limit`.
pub async fn uploads_expired_before(
    db: &impl ConnectionTrait,
    cutoff: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<UploadRow>, DbError> {
    Ok(media_upload::Entity::find()
        .filter(media_upload::Column::ExpiresAt.lt(cutoff))
        .order_by_asc(media_upload::Column::ExpiresAt)
        .limit(limit)
        .all(db)
        .await?)
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
