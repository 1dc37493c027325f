//! The person's online stores and their products: `GET /api/stores`,
//! `POST /api/stores/{store}/authorize` (then the store's consent, then
//! `GET /oauth/{store}/callback`), `POST /api/stores/{id}/sync`, `DELETE /api/stores/{id}`,
//! `GET /api/products` and `GET /api/products/{id}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};

use app::types::{
    AuthorizeUrl, Product, ProductDraft, ProductId, ProductList, ProductQuery, Store,
    StoreAuthorize, StoreConnection, StoreId, StoresOverview,
};

use crate::http::error::HttpError;
use crate::http::extract::{ApiPath, ApiQuery, AuthUser};
use crate::state::AppState;

/// The routes of the `Api` tier.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/stores", get(overview))
        .route("/stores/{id}", delete(disconnect))
        .route("/stores/{id}/sync", post(sync_now))
        .route("/products", get(products))
        .route("/products/{id}", get(product))
        .route("/products/{id}/draft", post(draft))
}

/// The routes of the `OAuth` tier.
pub fn authorize_router() -> Router<AppState> {
    Router::new().route("/stores/{store}/authorize", post(authorize))
}

/// Every store (with whether it can be connected here) and the person's connected stores,
/// each with its sync's progress, last success and last error.
#[utoipa::path(get, path = "/api/stores", tag = "stores", security(("bearer" = [])),
    responses((status = 200, body = StoresOverview), (status = 401, body = crate::http::openapi::ErrorBody)))]
async fn overview(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
) -> Result<Json<StoresOverview>, HttpError> {
    Ok(Json(state.stores.overview(who.user.id).await?))
}

/// Starts connecting a store: send the browser to `url`. Shopify needs `shop`
/// (`your-shop.myshopify.com`); the store comes back to `GET /oauth/{store}/callback`, which
/// redirects to the Connections page and queues the first sync.
#[utoipa::path(post, path = "/api/stores/{store}/authorize", tag = "stores",
    security(("bearer" = [])), params(("store" = Store, Path, description = "`shopify`, `etsy` or `squarespace`")),
    request_body = StoreAuthorize,
    responses((status = 200, body = AuthorizeUrl),
        (status = 409, description = "The store is not configured by the operator", body = crate::http::openapi::ErrorBody),
        (status = 422, description = "The shop address is not a Shopify shop", body = crate::http::openapi::ErrorBody)))]
async fn authorize(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(store): ApiPath<Store>,
    body: axum::body::Bytes,
) -> Result<Json<AuthorizeUrl>, HttpError> {
    // The body is optional: only Shopify needs one.
    let asked: StoreAuthorize = if body.iter().all(u8::is_ascii_whitespace) {
        StoreAuthorize::default()
    } else {
        serde_json::from_slice(&body).map_err(|error| {
            app::types::ApiError::bad_request(format!(
                "The body must be JSON like {{\"shop\": \"your-shop.myshopify.com\"}}: {error}"
            ))
        })?
    };
    let shop = asked.shop;
    Ok(Json(
        state
            .stores
            .start(who.user.id, store, shop.as_deref())
            .await?,
    ))
}

/// `POST /api/stores/{id}/sync?full=true`
#[derive(Debug, Default, serde::Deserialize)]
struct SyncAsk {
    #[serde(default)]
    full: bool,
}

/// Queues a product sync now: what changed since the last sync, or everything with
/// `full=true` (a full walk also finds products removed from the store, and happens at least
/// daily anyway). A sync already queued or running is left to finish. Follow its progress in
/// `GET /api/stores`.
#[utoipa::path(post, path = "/api/stores/{id}/sync", tag = "stores", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("full" = Option<bool>, Query, description = "Read every product, not only the changed ones")),
    responses((status = 202, body = StoreConnection), (status = 404, body = crate::http::openapi::ErrorBody),
        (status = 409, description = "The store must be reconnected first", body = crate::http::openapi::ErrorBody)))]
async fn sync_now(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<StoreId>,
    ApiQuery(ask): ApiQuery<SyncAsk>,
) -> Result<(StatusCode, Json<StoreConnection>), HttpError> {
    let store = state.stores.sync_now(who.user.id, id, ask.full).await?;
    Ok((StatusCode::ACCEPTED, Json(store)))
}

/// Forgets the store and the products synced from it.
#[utoipa::path(delete, path = "/api/stores/{id}", tag = "stores", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn disconnect(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<StoreId>,
) -> Result<StatusCode, HttpError> {
    state.stores.disconnect(who.user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A page of the person's products (24 a page, by title), searched by title words or SKU and
/// filtered by store and stock. Products the store no longer has are left out.
#[utoipa::path(get, path = "/api/products", tag = "stores", security(("bearer" = [])),
    params(("q" = Option<String>, Query, description = "Title words or a SKU"),
        ("store" = Option<uuid::Uuid>, Query), ("stock" = Option<String>, Query, description = "`in_stock` or `sold_out`"),
        ("page" = Option<u32>, Query, description = "From 1")),
    responses((status = 200, body = ProductList), (status = 400, body = crate::http::openapi::ErrorBody)))]
async fn products(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiQuery(query): ApiQuery<ProductQuery>,
) -> Result<Json<ProductList>, HttpError> {
    Ok(Json(state.stores.products(who.user.id, &query).await?))
}

/// One product, with its variants, images and state (`gone` once the store no longer has it).
#[utoipa::path(get, path = "/api/products/{id}", tag = "stores", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Product), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn product(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<ProductId>,
) -> Result<Json<Product>, HttpError> {
    Ok(Json(state.stores.product(who.user.id, id).await?))
}

/// Starts a post from a product: its first images are imported into the media library and a
/// first text is written from `{title}, {price}` and `{url}`. Create the post with
/// `product_id` so it remembers the product and is checked before it goes out.
#[utoipa::path(post, path = "/api/products/{id}/draft", tag = "stores", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ProductDraft), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn draft(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<ProductId>,
) -> Result<Json<ProductDraft>, HttpError> {
    Ok(Json(state.stores.draft(who.user.id, id).await?))
}
