//! The online stores Picscripterai reads products from, a connected store as its owner sees it,
//! and the products synced from it. Tokens never appear here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ConnectionStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Store {
    Shopify,
    Etsy,
    Squarespace,
}

impl Store {
    pub const ALL: [Store; 3] = [Self::Shopify, Self::Etsy, Self::Squarespace];

    /// The name in URLs, JSON, configuration prefixes and the database: `shopify`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Shopify => "shopify",
            Self::Etsy => "etsy",
            Self::Squarespace => "squarespace",
        }
    }

    /// The name people know it by.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Shopify => "Shopify",
            Self::Etsy => "Etsy",
            Self::Squarespace => "Squarespace",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|store| store.as_str() == raw)
    }
}

impl std::fmt::Display for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.display_name())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct StoreId(pub Uuid);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct ProductId(pub Uuid);

/// Where a store's product sync stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SyncProgress {
    /// A sync is queued or running.
    pub running: bool,
    /// Pages and products read by the running sync, or by the last one.
    pub pages_done: u32,
    pub products_done: u32,
    /// When the last sync finished reading every page.
    pub last_synced_at: Option<DateTime<Utc>>,
    /// Why the last sync stopped, when it failed; cleared by the next success.
    pub last_error: Option<String>,
}

/// A connected store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StoreConnection {
    pub id: StoreId,
    pub store: Store,
    /// The store's id there: the `*.myshopify.com` domain, the Etsy shop id, the Squarespace
    /// website id.
    pub account_id: String,
    /// The name the store goes by.
    pub name: String,
    /// The storefront's address, when the store said.
    pub url: Option<String>,
    pub status: ConnectionStatus,
    /// Products cached from it that are still in the store.
    pub products: u32,
    pub sync: SyncProgress,
    pub connected_at: DateTime<Utc>,
}

/// What a product is at its store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProductState {
    /// On sale.
    Active,
    /// Kept at the store but not on sale (archived, a draft, hidden).
    Archived,
    /// No longer at the store: kept here so posts that used it keep their history.
    Gone,
}

impl ProductState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Archived => "archived",
            Self::Gone => "gone",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Active, Self::Archived, Self::Gone]
            .into_iter()
            .find(|state| state.as_str() == raw)
    }
}

/// One variant of a product: a size, a colour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProductVariant {
    pub id: String,
    pub sku: Option<String>,
    /// In the currency's minor unit (cents).
    pub price_minor: i64,
    /// `None`: the store does not count it (unlimited).
    pub stock: Option<i64>,
}

/// A product as cached from its store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Product {
    pub id: ProductId,
    pub store_id: StoreId,
    pub store: Store,
    /// The store's name, for the badge.
    pub store_name: String,
    /// The product's id at the store.
    pub external_id: String,
    pub title: String,
    /// Plain text.
    pub description: String,
    pub url: Option<String>,
    pub state: ProductState,
    /// ISO 4217, as the store prices it.
    pub currency: String,
    /// The lowest variant price, in minor units.
    pub price_minor: i64,
    /// The price as a shopper reads it, in the store's currency: `$19.99`, `€7.50`.
    pub price: String,
    /// Summed over variants; `None` when any variant is not counted.
    pub stock: Option<i64>,
    pub in_stock: bool,
    pub images: Vec<String>,
    pub tags: Vec<String>,
    pub variants: Vec<ProductVariant>,
    /// When the store last changed it, as the store said.
    pub updated_at: Option<DateTime<Utc>>,
}

/// Whether a store can be connected here, and the person's connected stores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StoresOverview {
    /// Every store this build knows, in display order, and whether the operator configured it.
    pub available: Vec<StoreOption>,
    pub stores: Vec<StoreConnection>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StoreOption {
    pub store: Store,
    pub configured: bool,
}

/// `POST /api/stores/{store}/authorize`: Shopify needs the shop's address first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StoreAuthorize {
    /// `your-shop.myshopify.com` (Shopify only).
    #[serde(default)]
    pub shop: Option<String>,
}

/// Which products a list shows by stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StockFilter {
    InStock,
    SoldOut,
}

/// A search of the person's products: `GET /api/products?q=&store=&stock=&page=`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProductQuery {
    /// Words of the title, or a SKU.
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub store: Option<StoreId>,
    #[serde(default)]
    pub stock: Option<StockFilter>,
    /// From 1.
    #[serde(default)]
    pub page: Option<u32>,
}

/// One page of products, newest change first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProductList {
    pub products: Vec<Product>,
    /// Matching products in all pages.
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

/// A post started from a product: its images, imported into the media library, and a first
/// text with the product's variables filled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProductDraft {
    pub product: Product,
    pub media: Vec<super::MediaItem>,
    pub text: String,
}

/// The text a post from a product starts with.
pub const PRODUCT_TEXT: &str = "{title}, {price}\n{url}";

/// `text` with the product's variables filled: `{title}`, `{price}` (in the store's currency),
/// `{url}` and `{store}`. Other braces are left as written.
pub fn fill_product_variables(text: &str, product: &Product) -> String {
    text.replace("{title}", &product.title)
        .replace("{price}", &product.price)
        .replace("{url}", product.url.as_deref().unwrap_or(""))
        .replace("{store}", &product.store_name)
}

/// A price as a shopper reads it: `$19.99`, `€7.50`, `¥1500`, `12.00 SEK`.
pub fn format_price(minor: i64, currency: &str) -> String {
    let exponent = match currency {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "HUF" | "TWD" | "UGX" | "XAF" | "XOF" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" | "IQD" | "LYD" => 3,
        _ => 2,
    };
    let scale = 10i64.pow(exponent);
    let sign = if minor < 0 { "-" } else { "" };
    let (whole, fraction) = (minor.abs() / scale, minor.abs() % scale);
    let amount = if exponent == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{fraction:0width$}", width = exponent as usize)
    };
    let symbol = match currency {
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "JPY" => "¥",
        "CAD" => "CA$",
        "AUD" => "A$",
        "NZD" => "NZ$",
        "INR" => "₹",
        _ => return format!("{sign}{amount} {currency}"),
    };
    format!("{sign}{symbol}{amount}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_read_in_their_currency() {
        assert_eq!(format_price(1999, "USD"), "$19.99");
        assert_eq!(format_price(750, "EUR"), "€7.50");
        assert_eq!(format_price(1500, "JPY"), "¥1500");
        assert_eq!(format_price(1200, "SEK"), "12.00 SEK");
        assert_eq!(format_price(1234, "KWD"), "1.234 KWD");
    }

    #[test]
    fn variables_are_filled_from_the_product() {
        let product = Product {
            id: ProductId(Uuid::nil()),
            store_id: StoreId(Uuid::nil()),
            store: Store::Shopify,
            store_name: "Kiln & Co".into(),
            external_id: "1".into(),
            title: "Speckled Mug".into(),
            description: String::new(),
            url: Some("https://kiln.example/mug".into()),
            state: ProductState::Active,
            currency: "EUR".into(),
            price_minor: 2400,
            price: format_price(2400, "EUR"),
            stock: Some(3),
            in_stock: true,
            images: Vec::new(),
            tags: Vec::new(),
            variants: Vec::new(),
            updated_at: None,
        };
        assert_eq!(
            fill_product_variables(PRODUCT_TEXT, &product),
            "Speckled Mug, €24.00\nhttps://kiln.example/mug"
        );
        assert_eq!(
            fill_product_variables("New at {store}: {title} {unknown}", &product),
            "New at Kiln & Co: Speckled Mug {unknown}"
        );
    }

    #[test]
    fn the_wire_name_parses_back() {
        for store in Store::ALL {
            assert_eq!(Store::parse(store.as_str()), Some(store));
            assert_eq!(serde_json::to_value(store).unwrap(), store.as_str());
        }
        assert_eq!(Store::parse("amazon"), None);
    }
}
