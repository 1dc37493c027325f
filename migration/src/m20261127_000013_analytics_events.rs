//! Product events: which parts of the app a person used, and when. A row holds the user id, the
//! event's name from the server's closed list, the day it happened in the person's own time
//! zone (`YYYY-MM-DD`, fixed when it is recorded, so a later change of zone does not move old
//! events between days), the instant, and its checked properties as a JSON object. Nothing else
//! about the person is kept: no address, no browser, no free text.
//!
//! The summary counts a person's events per name and day over a range of days; the index
//! answers that from its own entries.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const BY_OWNER_DAY: &str = "idx_analytics_events_owner_day";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AnalyticsEvents::Table)
                    .col(uuid(AnalyticsEvents::Id).primary_key())
                    .col(uuid(AnalyticsEvents::UserId))
                    .col(string_len(AnalyticsEvents::Name, 64))
                    .col(string_len(AnalyticsEvents::Day, 10))
                    .col(timestamp_with_time_zone(AnalyticsEvents::OccurredAt))
                    .col(text(AnalyticsEvents::Properties))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_analytics_events_user")
                            .from(AnalyticsEvents::Table, AnalyticsEvents::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(BY_OWNER_DAY)
                    .table(AnalyticsEvents::Table)
                    .col(AnalyticsEvents::UserId)
                    .col(AnalyticsEvents::Day)
                    .col(AnalyticsEvents::Name)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(BY_OWNER_DAY)
                    .table(AnalyticsEvents::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(AnalyticsEvents::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum AnalyticsEvents {
    Table,
    Id,
    UserId,
    Name,
    Day,
    OccurredAt,
    Properties,
}
