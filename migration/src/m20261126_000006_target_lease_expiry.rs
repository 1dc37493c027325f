//! When the lease on a target's attempt runs out, kept in the database beside the lease token.
//! The queue's own lease can be lost with the queue (Redis emptied) while the attempt goes on;
//! the database's says whether another worker may take the target over.

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
                    .add_column(timestamp_with_time_zone_null(PostTargets::LeaseExpiresAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(PostTargets::Table)
                    .drop_column(PostTargets::LeaseExpiresAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum PostTargets {
    Table,
    LeaseExpiresAt,
}
