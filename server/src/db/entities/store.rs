use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stores")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub store: String,
    pub account_id: String,
    pub name: String,
    pub url: Option<String>,
    pub status: String,
    pub access_key_id: String,
    pub access_nonce: Vec<u8>,
    pub access_ciphertext: Vec<u8>,
    pub refresh_key_id: Option<String>,
    pub refresh_nonce: Option<Vec<u8>>,
    pub refresh_ciphertext: Option<Vec<u8>>,
    pub token_expires_at: Option<DateTimeUtc>,
    pub token_version: i64,
    pub refresh_claimed_until: Option<DateTimeUtc>,
    pub scopes: String,
    pub sync_job_id: Option<Uuid>,
    pub sync_scope: Option<String>,
    pub sync_since: Option<DateTimeUtc>,
    pub sync_cursor: Option<String>,
    pub sync_started_at: Option<DateTimeUtc>,
    pub sync_due_at: Option<DateTimeUtc>,
    pub sync_pages: i32,
    pub sync_products: i32,
    pub sync_attempts: i32,
    pub last_synced_at: Option<DateTimeUtc>,
    pub last_sync_started_at: Option<DateTimeUtc>,
    pub last_full_sync_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
