//! Online stores and their products. A store row holds its tokens sealed like a social
//! connection's (key id, nonce, ciphertext; a version bumped by every change so refreshes are
//! single-flight) and where its product sync stands: the run's queue job, the page to read
//! next (so a sync cut short resumes there), counts, the last success and the last error.
//!
//! Products are cached per store, unique by the store's own id; a product the store no longer
//! has is marked `gone`, never deleted, so posts made from it keep their history. `seen_run`
//! is the last sync run that read it: at the end of a full walk, what the run did not see is
//! gone. Variants, images and tags are JSON arrays; `skus` is the variants' SKUs joined by
//! spaces, for search.
//!
//! A post may be made from a product: it remembers which one, at what price, and whether to
//! check the product before it goes out. An authorization in flight may name the shop it is
//! for (Shopify asks first).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Stores::Table)
                    .col(uuid(Stores::Id).primary_key())
                    .col(uuid(Stores::UserId))
                    .col(string_len(Stores::Store, 32))
                    .col(string_len(Stores::AccountId, 255))
                    .col(string_len(Stores::Name, 255))
                    .col(text_null(Stores::Url))
                    .col(string_len(Stores::Status, 32).default("active"))
                    .col(string_len(Stores::AccessKeyId, 16))
                    .col(binary(Stores::AccessNonce))
                    .col(binary(Stores::AccessCiphertext))
                    .col(string_len_null(Stores::RefreshKeyId, 16))
                    .col(binary_null(Stores::RefreshNonce))
                    .col(binary_null(Stores::RefreshCiphertext))
                    .col(timestamp_with_time_zone_null(Stores::TokenExpiresAt))
                    .col(big_integer(Stores::TokenVersion).default(0))
                    .col(timestamp_with_time_zone_null(Stores::RefreshClaimedUntil))
                    .col(text(Stores::Scopes).default(""))
                    // The sync run waiting or running, by its queue job id; null when idle.
                    .col(uuid_null(Stores::SyncJobId))
                    .col(string_len_null(Stores::SyncScope, 16))
                    .col(timestamp_with_time_zone_null(Stores::SyncSince))
                    .col(text_null(Stores::SyncCursor))
                    .col(timestamp_with_time_zone_null(Stores::SyncStartedAt))
                    .col(timestamp_with_time_zone_null(Stores::SyncDueAt))
                    .col(integer(Stores::SyncPages).default(0))
                    .col(integer(Stores::SyncProducts).default(0))
                    .col(integer(Stores::SyncAttempts).default(0))
                    .col(timestamp_with_time_zone_null(Stores::LastSyncedAt))
                    .col(timestamp_with_time_zone_null(Stores::LastSyncStartedAt))
                    .col(timestamp_with_time_zone_null(Stores::LastFullSyncAt))
                    .col(text_null(Stores::LastError))
                    .col(timestamp_with_time_zone(Stores::CreatedAt))
                    .col(timestamp_with_time_zone(Stores::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_stores_user")
                            .from(Stores::Table, Stores::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_stores_account")
                    .table(Stores::Table)
                    .col(Stores::UserId)
                    .col(Stores::Store)
                    .col(Stores::AccountId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_stores_sync_job")
                    .table(Stores::Table)
                    .col(Stores::SyncJobId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Products::Table)
                    .col(uuid(Products::Id).primary_key())
                    .col(uuid(Products::StoreId))
                    .col(uuid(Products::UserId))
                    .col(string_len(Products::ExternalId, 255))
                    .col(text(Products::Title))
                    .col(text(Products::Description))
                    .col(text_null(Products::Url))
                    .col(string_len(Products::State, 16))
                    .col(string_len(Products::Currency, 8))
                    .col(big_integer(Products::PriceMinor))
                    .col(big_integer_null(Products::Stock))
                    .col(boolean(Products::InStock))
                    .col(text(Products::Images))
                    .col(text(Products::Tags))
                    .col(text(Products::Variants))
                    .col(text(Products::Skus))
                    .col(timestamp_with_time_zone_null(Products::RemoteUpdatedAt))
                    .col(uuid_null(Products::SeenRun))
                    .col(timestamp_with_time_zone_null(Products::GoneAt))
                    .col(timestamp_with_time_zone(Products::SyncedAt))
                    .col(timestamp_with_time_zone(Products::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_products_store")
                            .from(Products::Table, Products::StoreId)
                            .to(Stores::Table, Stores::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_products_external")
                    .table(Products::Table)
                    .col(Products::StoreId)
                    .col(Products::ExternalId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_products_owner_title")
                    .table(Products::Table)
                    .col(Products::UserId)
                    .col(Products::Title)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Posts::Table)
                    .add_column(uuid_null(Posts::ProductId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Posts::Table)
                    .add_column(big_integer_null(Posts::ProductPriceMinor))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Posts::Table)
                    .add_column(boolean(Posts::ProductCheck).default(true))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(OauthStates::Table)
                    .add_column(string_len_null(OauthStates::Site, 255))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Posts::ProductId,
            Posts::ProductPriceMinor,
            Posts::ProductCheck,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Posts::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(OauthStates::Table)
                    .drop_column(OauthStates::Site)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Products::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Stores::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Posts {
    Table,
    ProductId,
    ProductPriceMinor,
    ProductCheck,
}

#[derive(DeriveIden)]
enum OauthStates {
    Table,
    Site,
}

#[derive(DeriveIden)]
enum Stores {
    Table,
    Id,
    UserId,
    Store,
    AccountId,
    Name,
    Url,
    Status,
    AccessKeyId,
    AccessNonce,
    AccessCiphertext,
    RefreshKeyId,
    RefreshNonce,
    RefreshCiphertext,
    TokenExpiresAt,
    TokenVersion,
    RefreshClaimedUntil,
    Scopes,
    SyncJobId,
    SyncScope,
    SyncSince,
    SyncCursor,
    SyncStartedAt,
    SyncDueAt,
    SyncPages,
    SyncProducts,
    SyncAttempts,
    LastSyncedAt,
    LastSyncStartedAt,
    LastFullSyncAt,
    LastError,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    StoreId,
    UserId,
    ExternalId,
    Title,
    Description,
    Url,
    State,
    Currency,
    PriceMinor,
    Stock,
    InStock,
    Images,
    Tags,
    Variants,
    Skus,
    RemoteUpdatedAt,
    SeenRun,
    GoneAt,
    SyncedAt,
    CreatedAt,
}
