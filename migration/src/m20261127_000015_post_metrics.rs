//! Post metrics. Each time a published target's numbers are read from its platform, one row
//! keeps them (`post_metrics`), so the Analytics page can show both the latest figures and how
//! they grew; the rows go with their target. A number the platform does not report is NULL,
//! never 0. Rows are read by owner over a time range and by target, newest first: one index
//! each.
//!
//! `post_metric_accounts` holds, per connected account, what the collection job shares between
//! processes: a short claim while one process reads that account (so two workers never spend
//! its rate limit twice), and when the account may be read again after the platform asked to
//! wait or refused.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PostMetrics::Table)
                    .col(uuid(PostMetrics::Id).primary_key())
                    .col(uuid(PostMetrics::TargetId))
                    .col(uuid(PostMetrics::UserId))
                    .col(string_len(PostMetrics::Platform, 32))
                    .col(timestamp_with_time_zone(PostMetrics::FetchedAt))
                    .col(big_integer_null(PostMetrics::Impressions))
                    .col(big_integer_null(PostMetrics::Likes))
                    .col(big_integer_null(PostMetrics::Replies))
                    .col(big_integer_null(PostMetrics::Reposts))
                    .col(big_integer_null(PostMetrics::LinkClicks))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_post_metrics_target")
                            .from(PostMetrics::Table, PostMetrics::TargetId)
                            .to(PostTargets::Table, PostTargets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_post_metrics_owner_fetched")
                    .table(PostMetrics::Table)
                    .col(PostMetrics::UserId)
                    .col(PostMetrics::FetchedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_post_metrics_target_fetched")
                    .table(PostMetrics::Table)
                    .col(PostMetrics::TargetId)
                    .col(PostMetrics::FetchedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PostMetricAccounts::Table)
                    .col(uuid(PostMetricAccounts::ConnectionId).primary_key())
                    // Held by the process reading the account until then; null when idle.
                    .col(timestamp_with_time_zone_null(PostMetricAccounts::BusyUntil))
                    // Not read before then: the platform's wait, or a pause after a refusal.
                    .col(timestamp_with_time_zone_null(PostMetricAccounts::ResumeAt))
                    .col(text_null(PostMetricAccounts::Reason))
                    .col(timestamp_with_time_zone(PostMetricAccounts::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_post_metric_accounts_connection")
                            .from(PostMetricAccounts::Table, PostMetricAccounts::ConnectionId)
                            .to(Connections::Table, Connections::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PostMetricAccounts::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PostMetrics::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum PostTargets {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Connections {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum PostMetrics {
    Table,
    Id,
    TargetId,
    UserId,
    Platform,
    FetchedAt,
    Impressions,
    Likes,
    Replies,
    Reposts,
    LinkClicks,
}

#[derive(DeriveIden)]
enum PostMetricAccounts {
    Table,
    ConnectionId,
    BusyUntil,
    ResumeAt,
    Reason,
    UpdatedAt,
}
