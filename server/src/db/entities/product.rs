use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub store_id: Uuid,
    pub user_id: Uuid,
    pub external_id: String,
    pub title: String,
    pub description: String,
    pub url: Option<String>,
    pub state: String,
    pub currency: String,
    pub price_minor: i64,
    pub stock: Option<i64>,
    pub in_stock: bool,
    /// JSON array of image URLs.
    pub images: String,
    /// JSON array of tags.
    pub tags: String,
    /// JSON array of `ProductVariant`s.
    pub variants: String,
    /// The variants' SKUs joined by spaces, for search.
    pub skus: String,
    pub remote_updated_at: Option<DateTimeUtc>,
    pub seen_run: Option<Uuid>,
    pub gone_at: Option<DateTimeUtc>,
    pub synced_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::store::Entity",
        from = "Column::StoreId",
        to = "super::store::Column::Id",
        on_delete = "Cascade"
    )]
    Store,
}

impl Related<super::store::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Store.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
