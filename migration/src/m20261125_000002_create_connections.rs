//! Connected platform accounts and their encrypted tokens. A token is three columns: the id of
//! the key that encrypted it, the nonce and the ciphertext (see `server/src/crypto.rs`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Connections::Table)
                    .col(uuid(Connections::Id).primary_key())
                    .col(uuid(Connections::UserId))
                    .col(string_len(Connections::Platform, 32))
                    .col(string_len(Connections::AccountId, 128))
                    .col(string_len(Connections::Handle, 256))
                    .col(string_len_null(Connections::DisplayName, 256))
                    .col(text_null(Connections::AvatarUrl))
                    .col(string_len(Connections::Status, 32).default("active"))
                    .col(string_len(Connections::AccessKeyId, 16))
                    .col(binary(Connections::AccessNonce))
                    .col(binary(Connections::AccessCiphertext))
                    .col(string_len_null(Connections::RefreshKeyId, 16))
                    .col(binary_null(Connections::RefreshNonce))
                    .col(binary_null(Connections::RefreshCiphertext))
                    .col(timestamp_with_time_zone_null(Connections::TokenExpiresAt))
                    // Bumped by every token change: refreshes compare-and-set on it, so two
                    // workers never both spend one (rotating) refresh token.
                    .col(big_integer(Connections::TokenVersion).default(0))
                    .col(text(Connections::Scopes).default(""))
                    .col(timestamp_with_time_zone(Connections::CreatedAt))
                    .col(timestamp_with_time_zone(Connections::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_connections_user")
                            .from(Connections::Table, Connections::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_connections_account")
                    .table(Connections::Table)
                    .col(Connections::UserId)
                    .col(Connections::Platform)
                    .col(Connections::AccountId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Connections::Table).to_owned())
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
    UserId,
    Platform,
    AccountId,
    Handle,
    DisplayName,
    AvatarUrl,
    Status,
    AccessKeyId,
    AccessNonce,
    AccessCiphertext,
    RefreshKeyId,
    RefreshNonce,
    RefreshCiphertext,
    TokenExpiresAt,
    TokenVersion,
    Scopes,
    CreatedAt,
    UpdatedAt,
}
