//! What the media library knows of a video beside its size: the facts `ffprobe` read (duration,
//! codecs, frame rate, whether `moov` comes first), kept as JSON in `video`, which each
//! platform's limits are checked against while composing; and the key of the poster frame shown
//! in previews.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Media::Table)
                    .add_column(text_null(Media::Video))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Media::Table)
                    .add_column(string_len_null(Media::PosterKey, 256))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Media::Video, Media::PosterKey] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Media::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Media {
    Table,
    Video,
    PosterKey,
}
