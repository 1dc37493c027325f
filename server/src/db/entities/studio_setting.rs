use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "studio_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    pub writer: String,
    pub gemini_model: Option<String>,
    pub gemini_url: Option<String>,
    pub gemini_key_id: Option<String>,
    pub gemini_key_nonce: Option<Vec<u8>>,
    pub gemini_key_ciphertext: Option<Vec<u8>>,
    pub openai_url: Option<String>,
    pub openai_model: Option<String>,
    pub openai_key_id: Option<String>,
    pub openai_key_nonce: Option<Vec<u8>>,
    pub openai_key_ciphertext: Option<Vec<u8>>,
    /// JSON arrays of strings, as are `avoid`, `keep` and `dictionary`.
    pub voice_samples: String,
    pub avoid: String,
    pub keep: String,
    pub dictionary: String,
    pub emoji_density: String,
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
