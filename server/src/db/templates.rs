//! Queries on `post_templates`: a person's saved templates. Every query is filtered by the
//! owner, so another person's template is simply not found. A name taken by another of the
//! owner's templates, whatever its case, is refused by the unique index on `name_key` as
//! `DbError::Conflict`.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use app::types::{Template, TemplateId, TemplateName, TemplateOptions, UserId};

use super::DbError;
use super::entities::template::{self, Column};

/// What a template is written with, already checked.
#[derive(Debug, Clone, Copy)]
pub struct TemplateFields<'a> {
    pub name: &'a TemplateName,
    pub text: &'a str,
    pub options: &'a TemplateOptions,
}

/// The form a name is unique in. Folded here, not by the database, so SQLite and PostgreSQL
/// agree on which names clash.
fn name_key(name: &TemplateName) -> String {
    name.as_str().to_lowercase()
}

fn options_json(options: &TemplateOptions) -> String {
    serde_json::to_string(options).expect("template options always serialise")
}

fn corrupt(column: &str, id: Uuid) -> DbError {
    DbError::Db(sea_orm::DbErr::Custom(format!(
        "post_templates.{column} of {id} does not parse"
    )))
}

fn template_of(row: template::Model) -> Result<Template, DbError> {
    let id = row.id;
    Ok(Template {
        id: TemplateId(id),
        name: TemplateName::parse(&row.name).map_err(|_| corrupt("name", id))?,
        text: row.text,
        options: serde_json::from_str(&row.options).map_err(|_| corrupt("options", id))?,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// The owner's templates by name, case aside.
pub async fn list(db: &impl ConnectionTrait, owner: UserId) -> Result<Vec<Template>, DbError> {
    let rows = template::Entity::find()
        .filter(Column::UserId.eq(owner.0))
        .order_by_asc(Column::NameKey)
        .all(db)
        .await?;
    rows.into_iter().map(template_of).collect()
}

/// One of the owner's templates.
pub async fn get(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: TemplateId,
) -> Result<Option<Template>, DbError> {
    let row = template::Entity::find_by_id(id.0)
        .filter(Column::UserId.eq(owner.0))
        .one(db)
        .await?;
    row.map(template_of).transpose()
}

/// Saves a new template. `DbError::Conflict` when the owner has one by that name.
pub async fn insert(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: TemplateId,
    fields: TemplateFields<'_>,
    now: DateTime<Utc>,
) -> Result<Template, DbError> {
    let row = template::ActiveModel {
        id: Set(id.0),
        user_id: Set(owner.0),
        name: Set(fields.name.as_str().to_owned()),
        name_key: Set(name_key(fields.name)),
        text: Set(fields.text.to_owned()),
        options: Set(options_json(fields.options)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(DbError::from_write)?;
    template_of(row)
}

/// Replaces one of the owner's templates; `None` when they have no such template.
/// `DbError::Conflict` when another of theirs has the new name.
pub async fn update(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: TemplateId,
    fields: TemplateFields<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Template>, DbError> {
    let updated = template::Entity::update_many()
        .col_expr(Column::Name, Expr::value(fields.name.as_str()))
        .col_expr(Column::NameKey, Expr::value(name_key(fields.name)))
        .col_expr(Column::Text, Expr::value(fields.text))
        .col_expr(Column::Options, Expr::value(options_json(fields.options)))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id.0))
        .filter(Column::UserId.eq(owner.0))
        .exec(db)
        .await
        .map_err(DbError::from_write)?;
    if updated.rows_affected == 0 {
        return Ok(None);
    }
    get(db, owner, id).await
}

/// Deletes one of the owner's templates; `false` when there was none.
pub async fn delete(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: TemplateId,
) -> Result<bool, DbError> {
    let deleted = template::Entity::delete_many()
        .filter(Column::Id.eq(id.0))
        .filter(Column::UserId.eq(owner.0))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected == 1)
}
