//! The check before a post about a product goes out: is the product still for sale, at the
//! price the post was written with? The last sync answers when it is recent; otherwise one
//! cheap call reads the product fresh from its store. A post whose product sold out, was
//! archived, left the store or changed price is held, with the reason in words, for the person
//! to publish anyway, edit or cancel. A check that cannot be made (the store is down, the
//! connection lapsed) does not stop the post: it goes out on what the last sync knew, and the
//! job log says so.

use chrono::{DateTime, Duration, Utc};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use app::types::{ProductState, Store, format_price};

use super::StoreRegistry;
use crate::clock::SharedClock;
use crate::connections::tokens::{TokenError, TokenGate};
use crate::db::entities::post::Model as PostRow;
use crate::db::products::{self, ProductRow};
use crate::db::stores;
use crate::db::token_rows::TokenTable;
use crate::error::Error;
use crate::platforms::PlatformError;

/// A sync younger than this is trusted instead of asking the store again: posts scheduled in a
/// batch right after a sync cost the store no calls, and anything older is read fresh.
const FRESH_FOR: Duration = Duration::minutes(1);

pub struct ProductGuard {
    db: DatabaseConnection,
    registry: StoreRegistry,
    gate: TokenGate,
    clock: SharedClock,
}

impl ProductGuard {
    pub fn new(
        db: DatabaseConnection,
        registry: StoreRegistry,
        gate: TokenGate,
        clock: SharedClock,
    ) -> Self {
        Self {
            db,
            registry,
            gate,
            clock,
        }
    }

    /// Why `post` must wait for its author, or `None` to publish. `steps` gets a line for what
    /// was checked.
    pub async fn hold_reason(
        &self,
        post: &PostRow,
        steps: &mut Vec<String>,
    ) -> Result<Option<String>, Error> {
        let Some(product_id) = post.product_id.filter(|_| post.product_check) else {
            return Ok(None);
        };
        // The store was disconnected and its products with it: nothing left to check.
        let Some(cached) = products::row(&self.db, product_id).await? else {
            return Ok(None);
        };
        let now = self.clock.now();
        let product = if cached.state == ProductState::Gone.as_str()
            || now - cached.synced_at <= FRESH_FOR
        {
            steps.push(format!(
                "product checked against the sync of {}",
                cached.synced_at.format("%Y-%m-%d %H:%M UTC")
            ));
            cached
        } else {
            match self.read_fresh(&cached, now).await {
                Ok(fresh) => {
                    steps.push("product read fresh from its store".to_owned());
                    fresh
                }
                Err(TokenError::Backend(error)) => return Err(error),
                Err(TokenError::Platform(error)) => {
                    steps.push(format!(
                        "could not read the product from its store ({error}); going by the sync of {}",
                        cached.synced_at.format("%Y-%m-%d %H:%M UTC")
                    ));
                    cached
                }
            }
        };
        Ok(reason(&product, post.product_price_minor))
    }

    /// The product as its store has it now, stored; marked gone when the store no longer has it.
    async fn read_fresh(
        &self,
        cached: &ProductRow,
        now: DateTime<Utc>,
    ) -> Result<ProductRow, TokenError> {
        let store_row = stores::row(&self.db, cached.store_id)
            .await?
            .ok_or_else(|| PlatformError::permanent("the store was disconnected"))?;
        let store = Store::parse(&store_row.store)
            .ok_or_else(|| PlatformError::permanent("the store is not known here"))?;
        let api = self.registry.get(store).ok_or_else(|| {
            PlatformError::permanent(format!("{} is not configured", store.display_name()))
        })?;
        let account = store_row.account_id.clone();
        let refresher = api.clone();
        let usable = self
            .gate
            .usable(
                TokenTable::Stores,
                store_row.id,
                store.display_name(),
                |refresh_token| async move { refresher.refresh(&account, &refresh_token).await },
                &mut Vec::new(),
            )
            .await?;
        match api
            .product(&store_row.account_id, &usable.token, &cached.external_id)
            .await?
        {
            Some(remote) => {
                let run = cached.seen_run.unwrap_or(Uuid::nil());
                products::store_page(
                    &self.db,
                    cached.store_id,
                    cached.user_id,
                    run,
                    &[remote],
                    now,
                )
                .await?;
            }
            None => products::mark_gone(&self.db, cached.id, now).await?,
        }
        Ok(products::row(&self.db, cached.id)
            .await?
            .ok_or_else(|| PlatformError::permanent("the store was disconnected"))?)
    }
}

/// Why a post about `product`, written when it cost `written_at` (minor units), must wait.
fn reason(product: &ProductRow, written_at: Option<i64>) -> Option<String> {
    let title = &product.title;
    let why = if product.state == ProductState::Gone.as_str() {
        format!("\u{201c}{title}\u{201d} is no longer in the store")
    } else if product.state == ProductState::Archived.as_str() {
        format!("\u{201c}{title}\u{201d} was archived at the store and is not for sale")
    } else if !product.in_stock {
        format!("\u{201c}{title}\u{201d} is sold out")
    } else if let Some(then) = written_at.filter(|then| *then != product.price_minor) {
        format!(
            "the price of \u{201c}{title}\u{201d} changed from {} to {} since the post was written",
            format_price(then, &product.currency),
            format_price(product.price_minor, &product.currency)
        )
    } else {
        return None;
    };
    Some(format!(
        "Held: {why}. Publish anyway, edit the post, or cancel it."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(state: ProductState, in_stock: bool, price: i64) -> ProductRow {
        let now = Utc::now();
        ProductRow {
            id: Uuid::nil(),
            store_id: Uuid::nil(),
            user_id: Uuid::nil(),
            external_id: "1".into(),
            title: "Speckled Mug".into(),
            description: String::new(),
            url: None,
            state: state.as_str().into(),
            currency: "USD".into(),
            price_minor: price,
            stock: None,
            in_stock,
            images: "[]".into(),
            tags: "[]".into(),
            variants: "[]".into(),
            skus: String::new(),
            remote_updated_at: None,
            seen_run: None,
            gone_at: None,
            synced_at: now,
            created_at: now,
        }
    }

    #[test]
    fn a_post_is_held_for_a_product_not_for_sale_at_its_price() {
        assert_eq!(
            reason(&product(ProductState::Active, true, 1999), Some(1999)),
            None
        );
        assert_eq!(
            reason(&product(ProductState::Active, true, 1999), None),
            None
        );
        let sold_out = reason(&product(ProductState::Active, false, 1999), Some(1999)).unwrap();
        assert!(sold_out.contains("is sold out"), "{sold_out}");
        assert!(sold_out.contains("Publish anyway"), "{sold_out}");
        let repriced = reason(&product(ProductState::Active, true, 2499), Some(1999)).unwrap();
        assert!(repriced.contains("from $19.99 to $24.99"), "{repriced}");
        let archived = reason(&product(ProductState::Archived, false, 1999), Some(1999)).unwrap();
        assert!(archived.contains("archived"), "{archived}");
        let gone = reason(&product(ProductState::Gone, false, 1999), Some(1999)).unwrap();
        assert!(gone.contains("no longer in the store"), "{gone}");
    }
}
