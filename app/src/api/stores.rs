//! Server functions of the stores: the Connections page's Stores section (which stores can be
//! connected, the person's stores and their syncs; connecting, syncing, disconnecting) and the
//! Products page's list. Each calls the `Stores` port once.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::types::{
    ApiError, ProductDraft, ProductId, ProductList, ProductQuery, Store, StoreId, StoresOverview,
};

#[cfg(feature = "ssr")]
use super::ssr::{require_session, respond, respond_keeping, stores};

/// The field of the Shopify form an authorize error can be about.
pub const SHOP_FIELD: &str = "shop";
/// The query parameter naming the store just disconnected.
pub const DISCONNECTED_PARAM: &str = "store_disconnected";
/// Where the browser goes back to after a sync is queued.
#[cfg(feature = "ssr")]
const STORES_SECTION_PATH: &str = "/connections#stores-title";

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

/// Connecting a store: the Stores section's "Connect" and "Reconnect" forms post here (plain
/// HTML, no script) and the browser is sent on to the store's consent page; its callback brings
/// it back to `/connections`. `shop` is the Shopify shop's address (`your-shop.myshopify.com`):
/// a wrong one fails as a `Validation` error about the field `shop`, and the form comes back
/// with the address as typed.
#[server(prefix = "/rpc", endpoint = "stores/authorize")]
pub async fn authorize_store(
    store: Store,
    #[server(default)] shop: Option<String>,
) -> Result<(), ApiError> {
    let stores = stores();
    let typed = shop.clone().unwrap_or_default();
    let shop = shop
        .map(|shop| shop.trim().to_owned())
        .filter(|shop| !shop.is_empty());
    respond_keeping(
        async {
            let who = require_session().await?;
            let to = stores.authorize(who.user.id, store, shop).await?;
            leptos_axum::redirect(&to.url);
            Ok(())
        }
        .await,
        &[(SHOP_FIELD, &typed)],
    )
}

/// Queues a sync of the store: its changes, or every product when `full`. The browser comes
/// back to the Stores section, which shows the sync's progress.
#[server(prefix = "/rpc", endpoint = "stores/sync")]
pub async fn sync_store(id: StoreId, #[server(default)] full: bool) -> Result<(), ApiError> {
    let stores = stores();
    respond(
        async {
            let who = require_session().await?;
            stores.sync_now(who.user.id, id, full).await?;
            leptos_axum::redirect(STORES_SECTION_PATH);
            Ok(())
        }
        .await,
    )
}

/// Disconnects the store; the browser comes back to the Stores section, which says which store
/// went (`?store_disconnected=<name>`).
#[server(prefix = "/rpc", endpoint = "stores/disconnect")]
pub async fn disconnect_store(id: StoreId) -> Result<(), ApiError> {
    let stores = stores();
    respond(
        async {
            let who = require_session().await?;
            let name = stores
                .overview(who.user.id)
                .await?
                .stores
                .into_iter()
                .find(|store| store.id == id)
                .map(|store| store.name)
                .ok_or(ApiError::NotFound)?;
            stores.disconnect(who.user.id, id).await?;
            let query: leptos_router::params::ParamsMap =
                [(DISCONNECTED_PARAM, name)].into_iter().collect();
            leptos_axum::redirect(&format!(
                "/connections{}#stores-title",
                query.to_query_string()
            ));
            Ok(())
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
