use sea_orm::entity::prelude::*;

/// A direct upload announced and not yet confirmed (see `db::media`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "media_uploads")]
pub struct Model {
    /// Also the id the file gets as media once confirmed.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// Where the browser was allowed to put the file; where the media row will point.
    pub storage_key: String,
    pub file_name: Option<String>,
    /// As the browser declared it: what the file must turn out to be.
    pub content_type: String,
    /// As declared: what the stored file must measure.
    pub bytes: i64,
    pub created_at: DateTimeUtc,
    /// When the signed URL stops admitting the upload.
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
