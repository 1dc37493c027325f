//! Two columns every platform past X needs on a target:
//!
//! - `progress`: what a publish that spans several calls has learnt so far (an Instagram
//!   container id, a TikTok `publish_id`, a YouTube upload session and the bytes it confirmed),
//!   saved as JSON the moment it is known so the next attempt resumes or checks instead of
//!   starting over;
//! - `options`: the account-specific choices made while composing (a Pinterest board, TikTok
//!   privacy, a YouTube title), as a JSON object the platform's file validates and reads.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for column in [PostTargets::Progress, PostTargets::Options] {
            manager
                .alter_table(
                    Table::alter()
                        .table(PostTargets::Table)
                        .add_column(text_null(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [PostTargets::Progress, PostTargets::Options] {
            manager
                .alter_table(
                    Table::alter()
                        .table(PostTargets::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum PostTargets {
    Table,
    Progress,
    Options,
}
