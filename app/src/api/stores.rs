//! Server functions of the stores: the Connections page's Stores section (which stores can be
//! connected, the person's stores and their syncs; connecting, syncing, disconnecting) and the
//! Products page's list. Each calls the `Stores` port once.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::types::{
    ApiError, AuthorizeUrl, ProductDraft, ProductId, ProductList, ProductQuery, Store,
    StoreConnection, StoreId, StoresOverview,
};

#[cfg(feature = "ssr")]
use super::ssr::{require_session, respond, stores};

#[server(prefix = "/rpc", endpoint = "stores/overview")]
pub async fn load_stores() -> Result<StoresOverview, ApiError> {
    let stores = stores();
    respond(
        async {
            let who = require_session().await?;
            stores.overview(who.user.id).await
        }
        .await,
    )
}

/// The store's consent URL; the browser goes there and the callback sends it back to
/// `/connections`. `shop` is the Shopify shop's address (`your-shop.myshopify.com`); a wrong one
/// fails as a `Validation` error about the field `shop`.
#[server(prefix = "/rpc", endpoint = "stores/authorize", input = Json)]
pub async fn authorize_store(store: Store, shop: Option<String>) -> Result<AuthorizeUrl, ApiError> {
    let stores = stores();
    respond(
        async {
            let who = require_session().await?;
            stores.authorize(who.user.id, store, shop).await
        }
        .await,
    )
}

/// Queues a sync of the store: its changes, or every product when `full`. Answers with the store
/// as it now stands (its sync running).
#[server(prefix = "/rpc", endpoint = "stores/sync", input = Json)]
pub async fn sync_store(id: StoreId, full: bool) -> Result<StoreConnection, ApiError> {
    let stores = stores();
    respond(
        async {
            let who = require_session().await?;
            stores.sync_now(who.user.id, id, full).await
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "stores/disconnect", input = Json)]
pub async fn disconnect_store(id: StoreId) -> Result<(), ApiError> {
    let stores = stores();
    respond(
        async {
            let who = require_session().await?;
            stores.disconnect(who.user.id, id).await
        }
        .await,
    )
}

/// One page of the person's products. JSON, since the query is structured (as the post list's).
#[server(prefix = "/rpc", endpoint = "stores/products", input = Json)]
pub async fn load_products(query: ProductQuery) -> Result<ProductList, ApiError> {
    let stores = stores();
    respond(
        async {
            let who = require_session().await?;
            stores.products(who.user.id, query).await
        }
        .await,
    )
}

/// A post started from a product (the Products page's "Create post"): its first images imported
/// into the media library and a first text with its variables filled.
#[server(prefix = "/rpc", endpoint = "stores/draft", input = Json)]
pub async fn draft_from_product(id: ProductId) -> Result<ProductDraft, ApiError> {
    let stores = stores();
    respond(
        async {
            let who = require_session().await?;
            stores.draft(who.user.id, id).await
        }
        .await,
    )
}
