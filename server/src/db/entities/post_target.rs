use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "post_targets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub post_id: Uuid,
    pub user_id: Uuid,
    pub connection_id: Option<Uuid>,
    pub platform: String,
    pub account_handle: String,
    pub text: Option<String>,
    pub status: String,
    pub external_id: Option<String>,
    pub url: Option<String>,
    pub error: Option<String>,
    pub attempts: i32,
    pub due_at: Option<DateTimeUtc>,
    pub next_attempt_at: Option<DateTimeUtc>,
    pub sent_at: Option<DateTimeUtc>,
    pub lease_token: Option<Uuid>,
    /// When the attempt holding `lease_token` may be taken over, unless it heartbeats.
    pub lease_expires_at: Option<DateTimeUtc>,
    pub published_at: Option<DateTimeUtc>,
    pub position: i32,
    /// What a publish spanning several calls has learnt so far (JSON, the platform's own
    /// shape): saved as soon as it is known, read by the next attempt.
    pub progress: Option<String>,
    /// The account-specific choices made while composing (a JSON object).
    pub options: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::post::Entity",
        from = "Column::PostId",
        to = "super::post::Column::Id",
        on_delete = "Cascade"
    )]
    Post,
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
    #[sea_orm(
        belongs_to = "super::connection::Entity",
        from = "Column::ConnectionId",
        to = "super::connection::Column::Id",
        on_delete = "SetNull"
    )]
    Connection,
}

impl Related<super::post::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Post.def()
    }
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl Related<super::connection::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Connection.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
