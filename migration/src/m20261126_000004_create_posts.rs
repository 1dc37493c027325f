//! Posts and everything that publishing one needs: the uploaded media, the post with its media in
//! order, one target per account it goes to, the job that drives each target, the log a person
//! reads, and the idempotency keys that make creating a post safe to retry.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Uploaded images. The bytes live in the storage backend under `storage_key`; the row
        // keeps what was checked on upload (type, size, dimensions, hash).
        manager
            .create_table(
                Table::create()
                    .table(Media::Table)
                    .col(uuid(Media::Id).primary_key())
                    .col(uuid(Media::UserId))
                    .col(string_len(Media::Mime, 64))
                    .col(integer(Media::Width))
                    .col(integer(Media::Height))
                    .col(big_integer(Media::Bytes))
                    .col(string_len(Media::Sha256, 64))
                    .col(string_len(Media::StorageKey, 256))
                    .col(string_len_null(Media::OriginalName, 256))
                    .col(timestamp_with_time_zone(Media::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_media_user")
                            .from(Media::Table, Media::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_media_user_created")
                    .table(Media::Table)
                    .col(Media::UserId)
                    .col(Media::CreatedAt)
                    .to_owned(),
            )
            .await?;

        // What the user wrote. `scheduled_at` is the due time they chose, null for drafts and
        // for "now"; when each account actually gets it is on the targets.
        manager
            .create_table(
                Table::create()
                    .table(Posts::Table)
                    .col(uuid(Posts::Id).primary_key())
                    .col(uuid(Posts::UserId))
                    .col(text(Posts::Text))
                    .col(timestamp_with_time_zone_null(Posts::ScheduledAt))
                    .col(timestamp_with_time_zone(Posts::CreatedAt))
                    .col(timestamp_with_time_zone(Posts::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_posts_user")
                            .from(Posts::Table, Posts::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_posts_user_created")
                    .table(Posts::Table)
                    .col(Posts::UserId)
                    .col(Posts::CreatedAt)
                    .to_owned(),
            )
            .await?;

        // A post's media in order. Deleting media a post still uses is refused (Restrict), so a
        // scheduled post never loses an image from under it.
        manager
            .create_table(
                Table::create()
                    .table(PostMedia::Table)
                    .col(uuid(PostMedia::PostId))
                    .col(uuid(PostMedia::MediaId))
                    .col(integer(PostMedia::Position))
                    .primary_key(
                        Index::create()
                            .col(PostMedia::PostId)
                            .col(PostMedia::Position),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_post_media_post")
                            .from(PostMedia::Table, PostMedia::PostId)
                            .to(Posts::Table, Posts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_post_media_media")
                            .from(PostMedia::Table, PostMedia::MediaId)
                            .to(Media::Table, Media::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_post_media_media")
                    .table(PostMedia::Table)
                    .col(PostMedia::MediaId)
                    .to_owned(),
            )
            .await?;

        // One row per account a post goes to. Disconnecting the account nulls `connection_id`
        // but keeps the row, with `platform` and `account_handle` as a snapshot for history.
        // `sent_at` is set just before the irreversible platform call: an attempt that finds it
        // set must reconcile with the platform before posting again, or it could post twice.
        // `lease_token` fences attempts: only the one holding the current token may record a
        // result, so a stale worker that wakes up late cannot overwrite a newer outcome.
        manager
            .create_table(
                Table::create()
                    .table(PostTargets::Table)
                    .col(uuid(PostTargets::Id).primary_key())
                    .col(uuid(PostTargets::PostId))
                    .col(uuid(PostTargets::UserId))
                    .col(uuid_null(PostTargets::ConnectionId))
                    .col(string_len(PostTargets::Platform, 32))
                    .col(string_len(PostTargets::AccountHandle, 256))
                    .col(text_null(PostTargets::Text))
                    .col(string_len(PostTargets::Status, 32))
                    .col(string_len_null(PostTargets::ExternalId, 128))
                    .col(text_null(PostTargets::Url))
                    .col(text_null(PostTargets::Error))
                    .col(integer(PostTargets::Attempts).default(0))
                    .col(timestamp_with_time_zone_null(PostTargets::DueAt))
                    .col(timestamp_with_time_zone_null(PostTargets::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(PostTargets::SentAt))
                    .col(uuid_null(PostTargets::LeaseToken))
                    .col(timestamp_with_time_zone_null(PostTargets::PublishedAt))
                    .col(timestamp_with_time_zone(PostTargets::CreatedAt))
                    .col(timestamp_with_time_zone(PostTargets::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_post_targets_post")
                            .from(PostTargets::Table, PostTargets::PostId)
                            .to(Posts::Table, Posts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_post_targets_user")
                            .from(PostTargets::Table, PostTargets::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_post_targets_connection")
                            .from(PostTargets::Table, PostTargets::ConnectionId)
                            .to(Connections::Table, Connections::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_post_targets_post")
                    .table(PostTargets::Table)
                    .col(PostTargets::PostId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_post_targets_user_status")
                    .table(PostTargets::Table)
                    .col(PostTargets::UserId)
                    .col(PostTargets::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_post_targets_connection_status")
                    .table(PostTargets::Table)
                    .col(PostTargets::ConnectionId)
                    .col(PostTargets::Status)
                    .to_owned(),
            )
            .await?;

        // The durable queue: at most one job per target (unique), `pending` until the target
        // reaches a final state, then `done`. The sweep reads due pending jobs by (state, due_at).
        manager
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .col(uuid(Jobs::Id).primary_key())
                    .col(uuid(Jobs::TargetId))
                    .col(timestamp_with_time_zone(Jobs::DueAt))
                    .col(string_len(Jobs::State, 16))
                    .col(timestamp_with_time_zone(Jobs::CreatedAt))
                    .col(timestamp_with_time_zone(Jobs::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_jobs_target")
                            .from(Jobs::Table, Jobs::TargetId)
                            .to(PostTargets::Table, PostTargets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_jobs_target")
                    .table(Jobs::Table)
                    .col(Jobs::TargetId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_jobs_state_due")
                    .table(Jobs::Table)
                    .col(Jobs::State)
                    .col(Jobs::DueAt)
                    .to_owned(),
            )
            .await?;

        // What happened to a post, in words a person can read; `target_id` is null for lines
        // about the post as a whole.
        manager
            .create_table(
                Table::create()
                    .table(JobLogs::Table)
                    .col(uuid(JobLogs::Id).primary_key())
                    .col(uuid(JobLogs::PostId))
                    .col(uuid_null(JobLogs::TargetId))
                    .col(timestamp_with_time_zone(JobLogs::At))
                    .col(string_len(JobLogs::Level, 8))
                    .col(text(JobLogs::Message))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_job_logs_post")
                            .from(JobLogs::Table, JobLogs::PostId)
                            .to(Posts::Table, Posts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_job_logs_target")
                            .from(JobLogs::Table, JobLogs::TargetId)
                            .to(PostTargets::Table, PostTargets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_job_logs_post_at")
                    .table(JobLogs::Table)
                    .col(JobLogs::PostId)
                    .col(JobLogs::At)
                    .to_owned(),
            )
            .await?;

        // `Idempotency-Key`s of post creations, per user. A retry with the same key and the same
        // body (`request_hash`) gets the post already made; the same key with another body is
        // refused. Old keys are pruned by `created_at`.
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(uuid(IdempotencyKeys::UserId))
                    .col(string_len(IdempotencyKeys::Key, 255))
                    .col(string_len(IdempotencyKeys::RequestHash, 64))
                    .col(uuid(IdempotencyKeys::PostId))
                    .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::UserId)
                            .col(IdempotencyKeys::Key),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_idempotency_keys_user")
                            .from(IdempotencyKeys::Table, IdempotencyKeys::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_idempotency_keys_post")
                            .from(IdempotencyKeys::Table, IdempotencyKeys::PostId)
                            .to(Posts::Table, Posts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_idempotency_keys_created")
                    .table(IdempotencyKeys::Table)
                    .col(IdempotencyKeys::CreatedAt)
                    .to_owned(),
            )
            .await?;
        // The refresh claim: a worker about to spend a connection's (rotating) refresh token
        // first sets this, compare-and-set on `token_version`; others wait for the new tokens
        // instead of spending the same refresh token (across tasks and processes alike).
        manager
            .alter_table(
                Table::alter()
                    .table(Connections::Table)
                    .add_column(timestamp_with_time_zone_null(
                        Connections::RefreshClaimedUntil,
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Connections::Table)
                    .drop_column(Connections::RefreshClaimedUntil)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(JobLogs::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Jobs::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PostTargets::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PostMedia::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Posts::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Media::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Connections {
    Table,
    Id,
    RefreshClaimedUntil,
}

#[derive(DeriveIden)]
enum Media {
    Table,
    Id,
    UserId,
    Mime,
    Width,
    Height,
    Bytes,
    Sha256,
    StorageKey,
    OriginalName,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Posts {
    Table,
    Id,
    UserId,
    Text,
    ScheduledAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PostMedia {
    Table,
    PostId,
    MediaId,
    Position,
}

#[derive(DeriveIden)]
enum PostTargets {
    Table,
    Id,
    PostId,
    UserId,
    ConnectionId,
    Platform,
    AccountHandle,
    Text,
    Status,
    ExternalId,
    Url,
    Error,
    Attempts,
    DueAt,
    NextAttemptAt,
    SentAt,
    LeaseToken,
    PublishedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    TargetId,
    DueAt,
    State,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum JobLogs {
    Table,
    Id,
    PostId,
    TargetId,
    At,
    Level,
    Message,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    UserId,
    Key,
    RequestHash,
    PostId,
    CreatedAt,
}
