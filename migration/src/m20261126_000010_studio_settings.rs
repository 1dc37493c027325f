//! A person's AI Studio settings, one row per user: which caption writer writes for them, their
//! own Gemini or OpenAI-compatible server (each key sealed like a platform token: key id, nonce
//! and ciphertext, all set or all null), and their brand voice (sample posts, phrases to avoid
//! and to keep, their own words, the emoji they like). The lists are JSON arrays of strings.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StudioSettings::Table)
                    .col(uuid(StudioSettings::UserId).primary_key())
                    .col(string_len(StudioSettings::Writer, 16))
                    .col(string_null(StudioSettings::GeminiModel))
                    .col(string_null(StudioSettings::GeminiUrl))
                    .col(string_len_null(StudioSettings::GeminiKeyId, 16))
                    .col(binary_null(StudioSettings::GeminiKeyNonce))
                    .col(binary_null(StudioSettings::GeminiKeyCiphertext))
                    .col(string_null(StudioSettings::OpenaiUrl))
                    .col(string_null(StudioSettings::OpenaiModel))
                    .col(string_len_null(StudioSettings::OpenaiKeyId, 16))
                    .col(binary_null(StudioSettings::OpenaiKeyNonce))
                    .col(binary_null(StudioSettings::OpenaiKeyCiphertext))
                    .col(text(StudioSettings::VoiceSamples))
                    .col(text(StudioSettings::Avoid))
                    .col(text(StudioSettings::Keep))
                    .col(text(StudioSettings::Dictionary))
                    .col(string_len(StudioSettings::EmojiDensity, 16))
                    .col(timestamp_with_time_zone(StudioSettings::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_studio_settings_user")
                            .from(StudioSettings::Table, StudioSettings::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(StudioSettings::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum StudioSettings {
    Table,
    UserId,
    Writer,
    GeminiModel,
    GeminiUrl,
    GeminiKeyId,
    GeminiKeyNonce,
    GeminiKeyCiphertext,
    OpenaiUrl,
    OpenaiModel,
    OpenaiKeyId,
    OpenaiKeyNonce,
    OpenaiKeyCiphertext,
    VoiceSamples,
    Avoid,
    Keep,
    Dictionary,
    EmojiDensity,
    UpdatedAt,
}
