//! The Products page counts the person's products that are not gone (by stock, when filtered)
//! for its pagination, and each store's for the store filter. Without these indexes the counts
//! read every product row, long descriptions and variants included: about 80 ms at 30,000
//! products on SQLite. From the indexes alone it is about 4 ms. (Not the SKUs: PostgreSQL
//! refuses index entries over about 2.7 KB, and a shop's many variants can make them that long.)

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const BY_OWNER: &str = "idx_products_owner_listing";
const BY_STORE: &str = "idx_products_store_state";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(BY_OWNER)
                    .table(Products::Table)
                    .col(Products::UserId)
                    .col(Products::State)
                    .col(Products::InStock)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(BY_STORE)
                    .table(Products::Table)
                    .col(Products::StoreId)
                    .col(Products::State)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [BY_STORE, BY_OWNER] {
            manager
                .drop_index(Index::drop().name(name).table(Products::Table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Products {
    Table,
    UserId,
    StoreId,
    State,
    InStock,
}
