//! Consents that gave access to several accounts (a person's Facebook Pages, their Instagram
//! professional accounts), waiting for the person to choose which to connect. The accounts and
//! their tokens are one encrypted blob; a choice lives fifteen minutes and is used once.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AccountChoices::Table)
                    .col(uuid(AccountChoices::Id).primary_key())
                    .col(uuid(AccountChoices::UserId))
                    .col(string_len(AccountChoices::Platform, 32))
                    .col(string_len(AccountChoices::KeyId, 16))
                    .col(binary(AccountChoices::Nonce))
                    .col(binary(AccountChoices::Ciphertext))
                    .col(timestamp_with_time_zone(AccountChoices::CreatedAt))
                    .col(timestamp_with_time_zone(AccountChoices::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_account_choices_user")
                            .from(AccountChoices::Table, AccountChoices::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AccountChoices::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum AccountChoices {
    Table,
    Id,
    UserId,
    Platform,
    KeyId,
    Nonce,
    Ciphertext,
    CreatedAt,
    ExpiresAt,
}
