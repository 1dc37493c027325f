//! Online stores: connecting one (OAuth per store), syncing its products into the database as
//! a job on the publishing queue, and reading a product fresh before a post about it goes out.
//!
//! Adding a store: a variant of `app::types::Store`, a file here implementing
//! [`api::StoreApi`], one line in [`StoreRegistry::from_config`], and a fake in
//! `server/src/sandbox/`.

pub mod api;
pub mod etsy;
pub mod guard;
pub mod service;
pub mod shopify;
pub mod squarespace;
pub mod sync;

use std::collections::BTreeMap;
use std::sync::Arc;

use app::types::Store;

use crate::config::Config;
use api::SharedStoreApi;

/// The stores the operator configured.
#[derive(Clone, Default)]
pub struct StoreRegistry {
    stores: BTreeMap<Store, SharedStoreApi>,
}

impl StoreRegistry {
    /// Every store whose app credentials are configured.
    pub fn from_config(config: &Config, http: &reqwest::Client) -> Self {
        let mut registry = Self::default();
        if let Some(shopify) = shopify::ShopifyStore::from_config(&config.shopify, http.clone()) {
            registry.insert(Arc::new(shopify));
        }
        if let Some(etsy) = etsy::EtsyStore::from_config(&config.etsy, http.clone()) {
            registry.insert(Arc::new(etsy));
        }
        if let Some(squarespace) =
            squarespace::SquarespaceStore::from_config(&config.squarespace, http.clone())
        {
            registry.insert(Arc::new(squarespace));
        }
        registry
    }

    pub fn insert(&mut self, api: SharedStoreApi) {
        self.stores.insert(api.store(), api);
    }

    pub fn get(&self, store: Store) -> Option<SharedStoreApi> {
        self.stores.get(&store).cloned()
    }

    pub fn is_configured(&self, store: Store) -> bool {
        self.stores.contains_key(&store)
    }
}
