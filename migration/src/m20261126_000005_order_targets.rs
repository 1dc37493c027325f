//! The order of a post's targets: the order the user chose them in, kept so that lists and the
//! API show them the same way every time (targets written in one transaction share a time).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(PostTargets::Table)
                    .add_column(integer(PostTargets::Position).default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(PostTargets::Table)
                    .drop_column(PostTargets::Position)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum PostTargets {
    Table,
    Position,
}
