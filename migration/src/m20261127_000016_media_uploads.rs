//! Direct uploads waiting for their confirmation: the browser sends a file straight to the media
//! store under a URL the server signed, then asks the server to check it. Until then the file
//! is only announced (its name, type and size as the browser declared them) and is not media;
//! a row lives as long as its URL plus the time an upload that began in time may take, and the
//! sweep deletes what was never confirmed, the stored object with it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MediaUploads::Table)
                    .col(uuid(MediaUploads::Id).primary_key())
                    .col(uuid(MediaUploads::UserId))
                    .col(string_len(MediaUploads::StorageKey, 256))
                    .col(string_len_null(MediaUploads::FileName, 256))
                    .col(string_len(MediaUploads::ContentType, 64))
                    .col(big_integer(MediaUploads::Bytes))
                    .col(timestamp_with_time_zone(MediaUploads::CreatedAt))
                    .col(timestamp_with_time_zone(MediaUploads::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_media_uploads_user")
                            .from(MediaUploads::Table, MediaUploads::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The sweep looks for the oldest expiries first.
        manager
            .create_index(
                Index::create()
                    .name("idx_media_uploads_expires_at")
                    .table(MediaUploads::Table)
                    .col(MediaUploads::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MediaUploads::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum MediaUploads {
    Table,
    Id,
    UserId,
    StorageKey,
    FileName,
    ContentType,
    Bytes,
    CreatedAt,
    ExpiresAt,
}
