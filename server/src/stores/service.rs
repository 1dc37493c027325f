//! What a person does with their stores: connect one (the OAuth round trip, Shopify's signed
//! callback included), see them with their sync's progress, sync now, disconnect, and browse
//! the products synced from them. Plaintext tokens exist here only between the store's answer
//! and their sealing.

use std::sync::Arc;

use chrono::Duration;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use app::types::{
    ApiError, AppEvent, AuthorizeUrl, ConnectionStatus, MediaItem, PRODUCT_TEXT, Product,
    ProductDraft, ProductId, ProductList, ProductQuery, Store, StoreConnection, StoreId,
    StoreOption, StoresOverview, UserId, fill_product_variables,
};

use super::api::SharedStoreApi;
use super::sync::StoreSync;
use crate::analytics::events::ProductEvents;
use crate::clock::SharedClock;
use crate::connections::random_state;
use crate::connections::tokens::seal;
use crate::crypto::Keyring;
use crate::db::stores::{self as rows, NewStore};
use crate::db::token_rows::TokenTable;
use crate::db::{oauth_states, products};
use crate::error::Error;
use crate::media::library::{MediaLibrary, StageError};
use crate::platforms::join_url;

/// How long a started authorization may be completed.
const STATE_LIFETIME: Duration = Duration::minutes(10);
/// A post started from a product brings this many of its images.
const DRAFT_IMAGES: usize = 4;

pub struct StoreService {
    db: DatabaseConnection,
    keyring: Arc<Keyring>,
    sync: Arc<StoreSync>,
    /// Where a product's images are imported to start a post.
    library: Arc<MediaLibrary>,
    /// Fetches product images from the stores' CDNs.
    http: reqwest::Client,
    clock: SharedClock,
    public_base_url: http::Uri,
    events: Arc<ProductEvents>,
}

/// The parts a store service is built from.
pub struct StoreServiceParts {
    pub db: DatabaseConnection,
    pub keyring: Arc<Keyring>,
    pub sync: Arc<StoreSync>,
    pub library: Arc<MediaLibrary>,
    pub http: reqwest::Client,
    pub clock: SharedClock,
    pub public_base_url: http::Uri,
    pub events: Arc<ProductEvents>,
}

impl StoreService {
    pub fn new(parts: StoreServiceParts) -> Self {
        let StoreServiceParts {
            db,
            keyring,
            sync,
            library,
            http,
            clock,
            public_base_url,
            events,
        } = parts;
        Self {
            db,
            keyring,
            sync,
            library,
            http,
            clock,
            public_base_url,
            events,
        }
    }

    /// `{PUBLIC_BASE_URL}/oauth/{store}/callback`: what the operator registers at the store.
    pub fn redirect_uri(&self, store: Store) -> String {
        join_url(
            &self.public_base_url,
            &format!("/oauth/{}/callback", store.as_str()),
        )
    }

    fn configured(&self, store: Store) -> Result<SharedStoreApi, Error> {
        self.sync.registry().get(store).ok_or_else(|| {
            Error::conflict(format!(
                "{} is not configured by the operator of this Picscripterai.",
                store.display_name()
            ))
        })
    }

    /// The stores this build knows and the person's connected ones.
    pub async fn overview(&self, owner: UserId) -> Result<StoresOverview, Error> {
        Ok(StoresOverview {
            available: Store::ALL
                .into_iter()
                .map(|store| StoreOption {
                    store,
                    configured: self.sync.registry().is_configured(store),
                })
                .collect(),
            stores: rows::list(&self.db, owner).await?,
        })
    }

    /// Where to send the person to allow access; `shop` is the Shopify shop they typed.
    pub async fn start(
        &self,
        owner: UserId,
        store: Store,
        shop: Option<&str>,
    ) -> Result<AuthorizeUrl, Error> {
        let api = self.configured(store)?;
        let state = random_state();
        let started = api
            .start_authorization(shop, &self.redirect_uri(store), &state)
            .map_err(|refusal| Error::Refused(ApiError::validation("shop", refusal.to_string())))?;
        let site = site_of(&started.url, shop);
        let now = self.clock.now();
        oauth_states::create(
            &self.db,
            owner,
            oauth_states::NewAuthorization {
                state: &state,
                provider: store.as_str(),
                pkce_verifier: &started.pkce_verifier,
                site: site.as_deref(),
            },
            now,
            now + STATE_LIFETIME,
        )
        .await?;
        Ok(AuthorizeUrl { url: started.url })
    }

    /// Finishes an authorization from the callback's whole query: the store's own checks
    /// first (Shopify's signature), then the state, the code, the shop; stores the connection
    /// and queues its first sync.
    pub async fn complete(
        &self,
        owner: UserId,
        store: Store,
        query: &[(String, String)],
    ) -> Result<StoreConnection, Error> {
        let name = store.display_name();
        let param = |key: &str| {
            query
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value.as_str())
        };
        let api = self.configured(store)?;
        if let Some(error) = param("error") {
            if let Some(state) = param("state") {
                // Spend the state so the link cannot be replayed.
                oauth_states::take(&self.db, owner, state, self.clock.now()).await?;
            }
            return Err(Error::Refused(ApiError::bad_request(
                if error == "access_denied" {
                    format!("{name} was not connected: access was not allowed.")
                } else {
                    format!("{name} did not connect the store ({error}). Please try again.")
                },
            )));
        }
        api.verify_callback(query)
            .map_err(|refusal| Error::Refused(ApiError::bad_request(refusal.to_string())))?;
        let (Some(code), Some(state)) = (param("code"), param("state")) else {
            return Err(Error::Refused(ApiError::bad_request(format!(
                "{name} sent back an incomplete answer. Please click Connect again."
            ))));
        };
        let expired = || {
            Error::Refused(ApiError::bad_request(
                "This connection link has expired or was already used. Please click Connect again.",
            ))
        };
        let pending = oauth_states::take(&self.db, owner, state, self.clock.now())
            .await?
            .filter(|pending| pending.provider == store.as_str())
            .ok_or_else(expired)?;
        // The shop in a signed callback must be the one the person asked to connect.
        let shop = match (pending.site.as_deref(), param("shop")) {
            (Some(asked), Some(answered)) if !asked.eq_ignore_ascii_case(answered) => {
                return Err(Error::Refused(ApiError::bad_request(format!(
                    "{name} answered for {answered}, but {asked} was asked for. Please click Connect again."
                ))));
            }
            (asked, answered) => asked.or(answered),
        };
        let tokens = api
            .exchange_code(
                shop,
                code,
                &pending.pkce_verifier,
                &self.redirect_uri(store),
            )
            .await?;
        let account = api.account(shop, &tokens.access).await?;
        let new = NewStore {
            store,
            account_id: &account.account_id,
            name: &account.name,
            url: account.url.as_deref(),
            scopes: &tokens.scopes,
        };
        let now = self.clock.now();
        let id = match rows::find_account(&self.db, owner, store, &account.account_id).await? {
            Some(existing) => {
                let sealed = seal(&self.keyring, TokenTable::Stores, existing.0, &tokens, now);
                rows::reconnect(&self.db, owner, existing, new, sealed, now).await?;
                existing
            }
            None => {
                let id = StoreId(Uuid::new_v4());
                let sealed = seal(&self.keyring, TokenTable::Stores, id.0, &tokens, now);
                rows::insert(&self.db, owner, id, new, sealed, now).await?;
                id
            }
        };
        tracing::info!(store = store.as_str(), id = %id.0, "store connected");
        self.events
            .record_for(owner, AppEvent::StoreConnected { store })
            .await;
        if let Some(row) = rows::row(&self.db, id.0).await? {
            self.sync.request(&row, true).await?;
        }
        self.store(owner, id).await
    }

    pub async fn store(&self, owner: UserId, id: StoreId) -> Result<StoreConnection, Error> {
        rows::get(&self.db, owner, id)
            .await?
            .ok_or(Error::Refused(ApiError::NotFound))
    }

    /// Queues a sync of one of the person's stores now: what changed since the last sync, or
    /// everything when `full` (or when no full walk happened within a day). Already queued is
    /// fine.
    pub async fn sync_now(
        &self,
        owner: UserId,
        id: StoreId,
        full: bool,
    ) -> Result<StoreConnection, Error> {
        let connection = self.store(owner, id).await?;
        if connection.status == ConnectionStatus::NeedsReconnect {
            return Err(Error::conflict(format!(
                "{} no longer accepts this connection: reconnect the store before syncing.",
                connection.store.display_name()
            )));
        }
        self.configured(connection.store)?;
        if let Some(row) = rows::row(&self.db, id.0).await? {
            self.sync.request(&row, full).await?;
        }
        self.store(owner, id).await
    }

    /// Forgets the store and its products. Posts made from its products keep their text.
    pub async fn disconnect(&self, owner: UserId, id: StoreId) -> Result<(), Error> {
        if !rows::delete(&self.db, owner, id).await? {
            return Err(Error::Refused(ApiError::NotFound));
        }
        tracing::info!(store = %id.0, "store disconnected");
        Ok(())
    }

    pub async fn products(
        &self,
        owner: UserId,
        query: &ProductQuery,
    ) -> Result<ProductList, Error> {
        Ok(products::page(&self.db, owner, query).await?)
    }

    pub async fn product(&self, owner: UserId, id: ProductId) -> Result<Product, Error> {
        products::get(&self.db, owner, id)
            .await?
            .ok_or(Error::Refused(ApiError::NotFound))
    }

    /// A post started from a product: its first images imported into the media library and a
    /// first text with its variables filled. An image that cannot be fetched is left out (the
    /// person can add photos); the draft itself never fails for it.
    pub async fn draft(&self, owner: UserId, id: ProductId) -> Result<ProductDraft, Error> {
        let product = self.product(owner, id).await?;
        let mut media = Vec::with_capacity(DRAFT_IMAGES);
        for url in product.images.iter().take(DRAFT_IMAGES) {
            match self.import(owner, url).await {
                Ok(item) => media.push(item),
                Err(error) => {
                    tracing::warn!(%error, product = %id.0, "a product image could not be imported");
                }
            }
        }
        let text = fill_product_variables(PRODUCT_TEXT, &product);
        Ok(ProductDraft {
            product,
            media,
            text,
        })
    }

    /// Downloads one image into the media library, checked like an upload.
    async fn import(&self, owner: UserId, url: &str) -> Result<MediaItem, Error> {
        let parsed = url::Url::parse(url).map_err(|_| {
            Error::Refused(ApiError::bad_request(format!(
                "`{url}` is not an image address"
            )))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::Refused(ApiError::bad_request(format!(
                "`{url}` is not a web address"
            ))));
        }
        let unreachable = |error: reqwest::Error| {
            Error::Platform(crate::platforms::PlatformError::Retryable {
                wait: None,
                maybe_done: false,
                detail: format!("the image at {url} could not be fetched ({error})"),
            })
        };
        let mut response = self
            .http
            .get(parsed.clone())
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unreachable)?;
        let mut staged = self.library.stage().await?;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if let Err(error) = staged.write(&chunk).await {
                        staged.discard().await;
                        return Err(match error {
                            StageError::TooLarge { limit } => {
                                Error::Refused(ApiError::PayloadTooLarge { limit_bytes: limit })
                            }
                            StageError::Io(error) => error.into(),
                        });
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    staged.discard().await;
                    return Err(unreachable(error));
                }
            }
        }
        let name = parsed
            .path_segments()
            .and_then(|mut segments| segments.next_back())
            .filter(|name| !name.is_empty())
            .map(str::to_owned);
        self.library.keep_fetched(owner, name, staged).await
    }
}

/// The shop an authorization is for, kept with its state: the host of a Shopify consent URL
/// (`{shop}` after normalising what was typed), `None` for stores that do not ask.
fn site_of(authorize_url: &str, shop: Option<&str>) -> Option<String> {
    shop?;
    let url = url::Url::parse(authorize_url).ok()?;
    // The consent URL is built from a template: the shop is its host, or (tests, the sandbox)
    // the path segment before `/admin`.
    let segments: Vec<&str> = url.path_segments()?.collect();
    let before_admin = segments
        .iter()
        .position(|segment| *segment == "admin")
        .and_then(|index| index.checked_sub(1))
        .map(|index| segments[index]);
    let host = url.host_str()?;
    let shop = match before_admin {
        Some(segment) if segment.ends_with(".myshopify.com") => segment,
        _ => host,
    };
    Some(shop.to_ascii_lowercase())
}

#[async_trait::async_trait]
impl app::services::Stores for StoreService {
    async fn overview(&self, owner: UserId) -> Result<StoresOverview, ApiError> {
        Ok(StoreService::overview(self, owner).await?)
    }

    async fn authorize(
        &self,
        owner: UserId,
        store: Store,
        shop: Option<String>,
    ) -> Result<AuthorizeUrl, ApiError> {
        Ok(self.start(owner, store, shop.as_deref()).await?)
    }

    async fn sync_now(
        &self,
        owner: UserId,
        id: StoreId,
        full: bool,
    ) -> Result<StoreConnection, ApiError> {
        Ok(StoreService::sync_now(self, owner, id, full).await?)
    }

    async fn disconnect(&self, owner: UserId, id: StoreId) -> Result<(), ApiError> {
        Ok(StoreService::disconnect(self, owner, id).await?)
    }

    async fn products(&self, owner: UserId, query: ProductQuery) -> Result<ProductList, ApiError> {
        Ok(StoreService::products(self, owner, &query).await?)
    }

    async fn product(&self, owner: UserId, id: ProductId) -> Result<Product, ApiError> {
        Ok(StoreService::product(self, owner, id).await?)
    }

    async fn draft(&self, owner: UserId, id: ProductId) -> Result<ProductDraft, ApiError> {
        Ok(StoreService::draft(self, owner, id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shop_is_read_from_the_consent_url_whatever_the_template() {
        assert_eq!(
            site_of(
                "https://my-shop.myshopify.com/admin/oauth/authorize?x=1",
                Some("my-shop")
            ),
            Some("my-shop.myshopify.com".into())
        );
        assert_eq!(
            site_of(
                "http://127.0.0.1:9/sandbox/shopify/Test-Shop.myshopify.com/admin/oauth/authorize",
                Some("test-shop")
            ),
            Some("test-shop.myshopify.com".into())
        );
        assert_eq!(site_of("https://www.etsy.com/oauth/connect", None), None);
    }
}
