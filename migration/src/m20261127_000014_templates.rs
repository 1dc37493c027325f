//! Post templates: a person's saved texts (with `{title}`, `{price}`, `{url}`, `{store}` and
//! `{date}` left in) and the options a post from one starts with (the accounts, each account's
//! own text and platform options, whether the product is checked), as JSON text.
//!
//! Names are unique per person whatever their case. The database's own case folding differs
//! between SQLite (ASCII only) and PostgreSQL (by collation), so the server writes the folded
//! name into `name_key` and the unique index is on that: one rule on both databases, and the
//! same index serves the listing, which is by `name_key`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const BY_OWNER_AND_NAME: &str = "idx_post_templates_owner_name";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PostTemplates::Table)
                    .col(uuid(PostTemplates::Id).primary_key())
                    .col(uuid(PostTemplates::UserId))
                    .col(string_len(PostTemplates::Name, 80))
                    // Lower-casing can lengthen a name (`İ` becomes two characters), so the
                    // key is not bounded like the name.
                    .col(text(PostTemplates::NameKey))
                    .col(text(PostTemplates::Text))
                    .col(text(PostTemplates::Options))
                    .col(timestamp_with_time_zone(PostTemplates::CreatedAt))
                    .col(timestamp_with_time_zone(PostTemplates::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_post_templates_user")
                            .from(PostTemplates::Table, PostTemplates::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(BY_OWNER_AND_NAME)
                    .table(PostTemplates::Table)
                    .col(PostTemplates::UserId)
                    .col(PostTemplates::NameKey)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PostTemplates::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum PostTemplates {
    Table,
    Id,
    UserId,
    Name,
    NameKey,
    Text,
    Options,
    CreatedAt,
    UpdatedAt,
}
