use sea_orm::entity::prelude::*;

/// One read of a published target's numbers. `None`: the platform does not report it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "post_metrics")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub target_id: Uuid,
    pub user_id: Uuid,
    pub platform: String,
    pub fetched_at: DateTimeUtc,
    pub impressions: Option<i64>,
    pub likes: Option<i64>,
    pub replies: Option<i64>,
    pub reposts: Option<i64>,
    pub link_clicks: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::post_target::Entity",
        from = "Column::TargetId",
        to = "super::post_target::Column::Id",
        on_delete = "Cascade"
    )]
    PostTarget,
}

impl Related<super::post_target::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PostTarget.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
