//! Queries on `products`: the products cached from a person's stores. A sync stores a page in
//! one statement (insert, or update on the store's own id), so reading the same page twice
//! changes nothing; products a full walk did not see are marked gone, never deleted.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use app::types::{
    Product, ProductId, ProductList, ProductQuery, ProductState, ProductVariant, StockFilter,
    Store, StoreId, UserId, format_price,
};

use super::DbError;
use super::entities::{product, store};
use crate::stores::api::{RemoteProduct, RemoteState};

pub use product::Model as ProductRow;

/// Products on a page of the Products list.
pub const PER_PAGE: u32 = 24;

/// The row a product from the store becomes, seen by run `run` at `now`.
fn row_of(
    store_id: Uuid,
    owner: Uuid,
    remote: &RemoteProduct,
    run: Uuid,
    now: DateTime<Utc>,
) -> product::ActiveModel {
    use sea_orm::Set;
    let variants: Vec<ProductVariant> = remote
        .variants
        .iter()
        .map(|variant| ProductVariant {
            id: variant.id.clone(),
            sku: variant.sku.clone(),
            price_minor: variant.price_minor,
            stock: variant.stock,
        })
        .collect();
    let stock = variants
        .iter()
        .map(|variant| variant.stock)
        .sum::<Option<i64>>();
    let state = match remote.state {
        RemoteState::Active | RemoteState::SoldOut => ProductState::Active,
        RemoteState::Archived => ProductState::Archived,
    };
    let in_stock = state == ProductState::Active
        && remote.state != RemoteState::SoldOut
        && !variants.is_empty()
        && variants
            .iter()
            .any(|variant| variant.stock.is_none_or(|count| count > 0));
    let skus: Vec<&str> = variants
        .iter()
        .filter_map(|variant| variant.sku.as_deref())
        .filter(|sku| !sku.is_empty())
        .collect();
    product::ActiveModel {
        id: Set(Uuid::new_v4()),
        store_id: Set(store_id),
        user_id: Set(owner),
        external_id: Set(remote.external_id.clone()),
        title: Set(remote.title.clone()),
        description: Set(remote.description.clone()),
        url: Set(remote.url.clone()),
        state: Set(state.as_str().to_owned()),
        currency: Set(remote.currency.clone()),
        price_minor: Set(variants
            .iter()
            .map(|variant| variant.price_minor)
            .min()
            .unwrap_or(0)),
        stock: Set(stock),
        in_stock: Set(in_stock),
        images: Set(json(&remote.images)),
        tags: Set(json(&remote.tags)),
        variants: Set(json(&variants)),
        skus: Set(skus.join(" ")),
        remote_updated_at: Set(remote.updated_at),
        seen_run: Set(Some(run)),
        gone_at: Set(None),
        synced_at: Set(now),
        created_at: Set(now),
    }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("lists of strings and variants serialize")
}

/// Stores one page of `store_id`'s products as read by run `run`: new ones inserted, known ones
/// (by the store's id) brought up to date and no longer gone.
pub async fn store_page(
    db: &impl ConnectionTrait,
    store_id: Uuid,
    owner: Uuid,
    run: Uuid,
    products: &[RemoteProduct],
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    if products.is_empty() {
        return Ok(());
    }
    // A store may list a product twice in one answer (a cursor that moved under an edit);
    // one statement cannot upsert a key twice on PostgreSQL, so the last copy wins.
    let mut latest: HashMap<&str, &RemoteProduct> = HashMap::with_capacity(products.len());
    for remote in products {
        latest.insert(remote.external_id.as_str(), remote);
    }
    let rows = latest
        .into_values()
        .map(|remote| row_of(store_id, owner, remote, run, now));
    product::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([product::Column::StoreId, product::Column::ExternalId])
                .update_columns([
                    product::Column::Title,
                    product::Column::Description,
                    product::Column::Url,
                    product::Column::State,
                    product::Column::Currency,
                    product::Column::PriceMinor,
                    product::Column::Stock,
                    product::Column::InStock,
                    product::Column::Images,
                    product::Column::Tags,
                    product::Column::Variants,
                    product::Column::Skus,
                    product::Column::RemoteUpdatedAt,
                    product::Column::SeenRun,
                    product::Column::GoneAt,
                    product::Column::SyncedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// After a full walk by run `run`: `store_id`'s products the walk did not see are gone. How
/// many were marked.
pub async fn mark_unseen_gone(
    db: &impl ConnectionTrait,
    store_id: Uuid,
    run: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, DbError> {
    let updated = product::Entity::update_many()
        .col_expr(
            product::Column::State,
            Expr::value(ProductState::Gone.as_str()),
        )
        .col_expr(product::Column::InStock, Expr::value(false))
        .col_expr(product::Column::GoneAt, Expr::value(now))
        .filter(product::Column::StoreId.eq(store_id))
        .filter(product::Column::State.ne(ProductState::Gone.as_str()))
        .filter(
            sea_orm::Condition::any()
                .add(product::Column::SeenRun.is_null())
                .add(product::Column::SeenRun.ne(run)),
        )
        .exec(db)
        .await?;
    Ok(updated.rows_affected)
}

/// A product the store no longer has, found out one at a time (the check before a publish).
pub async fn mark_gone(
    db: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    product::Entity::update_many()
        .col_expr(
            product::Column::State,
            Expr::value(ProductState::Gone.as_str()),
        )
        .col_expr(product::Column::InStock, Expr::value(false))
        .col_expr(product::Column::GoneAt, Expr::value(now))
        .filter(product::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// A product row as its owner sees it, given its store's kind and name.
pub fn product_of(row: ProductRow, store: Store, store_name: &str) -> Result<Product, DbError> {
    let corrupt = |column: &str| {
        DbError::Db(sea_orm::DbErr::Custom(format!(
            "products.{column} of {} does not parse",
            row.id
        )))
    };
    let state = ProductState::parse(&row.state).ok_or_else(|| corrupt("state"))?;
    let images: Vec<String> = serde_json::from_str(&row.images).map_err(|_| corrupt("images"))?;
    let tags: Vec<String> = serde_json::from_str(&row.tags).map_err(|_| corrupt("tags"))?;
    let variants: Vec<ProductVariant> =
        serde_json::from_str(&row.variants).map_err(|_| corrupt("variants"))?;
    Ok(Product {
        id: ProductId(row.id),
        store_id: StoreId(row.store_id),
        store,
        store_name: store_name.to_owned(),
        price: format_price(row.price_minor, &row.currency),
        external_id: row.external_id,
        title: row.title,
        description: row.description,
        url: row.url,
        state,
        currency: row.currency,
        price_minor: row.price_minor,
        stock: row.stock,
        in_stock: row.in_stock,
        images,
        tags,
        variants,
        updated_at: row.remote_updated_at,
    })
}

/// The owner's stores by id: kind and name, for product badges.
async fn store_names(
    db: &impl ConnectionTrait,
    owner: Uuid,
) -> Result<HashMap<Uuid, (Store, String)>, DbError> {
    let rows: Vec<(Uuid, String, String)> = store::Entity::find()
        .select_only()
        .column(store::Column::Id)
        .column(store::Column::Store)
        .column(store::Column::Name)
        .filter(store::Column::UserId.eq(owner))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, kind, name)| Some((id, (Store::parse(&kind)?, name))))
        .collect())
}

/// `%text%` for LIKE, with LIKE's own wildcards in `text` taken literally.
fn contains_pattern(text: &str) -> String {
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// A page of the owner's products that are not gone, matching `query`, by title.
pub async fn page(
    db: &impl ConnectionTrait,
    owner: UserId,
    query: &ProductQuery,
) -> Result<ProductList, DbError> {
    let mut select = product::Entity::find()
        .filter(product::Column::UserId.eq(owner.0))
        .filter(product::Column::State.ne(ProductState::Gone.as_str()));
    if let Some(store) = query.store {
        select = select.filter(product::Column::StoreId.eq(store.0));
    }
    match query.stock {
        Some(StockFilter::InStock) => select = select.filter(product::Column::InStock.eq(true)),
        Some(StockFilter::SoldOut) => select = select.filter(product::Column::InStock.eq(false)),
        None => {}
    }
    if let Some(words) = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = contains_pattern(words);
        let lower = |column: product::Column| Expr::expr(Func::lower(Expr::col(column)));
        select = select.filter(
            sea_orm::Condition::any()
                .add(
                    lower(product::Column::Title)
                        .like(sea_orm::sea_query::LikeExpr::new(&pattern).escape('\\')),
                )
                .add(
                    lower(product::Column::Skus)
                        .like(sea_orm::sea_query::LikeExpr::new(&pattern).escape('\\')),
                ),
        );
    }
    let total = select.clone().count(db).await?;
    let page = query.page.unwrap_or(1).max(1);
    let rows = select
        .order_by_asc(product::Column::Title)
        .order_by_asc(product::Column::Id)
        .offset(u64::from(page - 1) * u64::from(PER_PAGE))
        .limit(u64::from(PER_PAGE))
        .all(db)
        .await?;
    let stores = store_names(db, owner.0).await?;
    let mut products = Vec::with_capacity(rows.len());
    for row in rows {
        let Some((kind, name)) = stores.get(&row.store_id) else {
            continue;
        };
        products.push(product_of(row, *kind, name)?);
    }
    Ok(ProductList {
        products,
        total,
        page,
        per_page: PER_PAGE,
    })
}

/// One of the owner's products, gone or not.
pub async fn get(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: ProductId,
) -> Result<Option<Product>, DbError> {
    let Some(row) = product::Entity::find_by_id(id.0)
        .filter(product::Column::UserId.eq(owner.0))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let stores = store_names(db, owner.0).await?;
    let Some((kind, name)) = stores.get(&row.store_id) else {
        return Ok(None);
    };
    product_of(row, *kind, name).map(Some)
}

/// A product's row, whoever owns it: for the workers.
pub async fn row(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<ProductRow>, DbError> {
    Ok(product::Entity::find_by_id(id).one(db).await?)
}

/// Every product of a store, gone or not, by the store's id: for tests and the benchmark.
pub async fn of_store(
    db: &impl ConnectionTrait,
    store_id: Uuid,
) -> Result<Vec<ProductRow>, DbError> {
    Ok(product::Entity::find()
        .filter(product::Column::StoreId.eq(store_id))
        .order_by_asc(product::Column::ExternalId)
        .all(db)
        .await?)
}
