//! The online stores, behind one trait. A store's file owns everything that differs between
//! stores: its OAuth endpoints and checks, how it names the shop, how it pages through
//! products, and how its answers (throttling included) become [`PlatformError`]s. The sync
//! around it (tokens, pages, resuming, marking products gone) is the same for every store.
//!
//! Failures reuse the publishing pipeline's closed set: `Retryable { wait }` for 5xx, network
//! trouble and rate limits (with the wait the store asked for, or computed from its bucket),
//! `Reauth` when the grant is gone, `Permanent` with a sentence a person can act on.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;

use app::types::Store;

use crate::platforms::{AuthorizationStart, PlatformError, TokenSet};

/// The shop a connection is for, as known before and after the consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreAccount {
    /// The store's id for it: the `*.myshopify.com` domain, the Etsy `shop_id`, the
    /// Squarespace website id. Unique per store and owner.
    pub account_id: String,
    pub name: String,
    pub url: Option<String>,
}

/// Which products a page walk asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncScope {
    /// Every product: afterwards, products not seen are gone.
    Full,
    /// Products changed since then (`updatedAt`, `modifiedOn`); a store that cannot filter
    /// answers with everything.
    ChangedSince(DateTime<Utc>),
}

/// What a product is at its store, as the store's answer said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteState {
    Active,
    /// Archived, a draft, hidden, inactive, expired: not on sale.
    Archived,
    /// Sold out as a listing state (Etsy's `sold_out`); stock says the same elsewhere.
    SoldOut,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteVariant {
    pub id: String,
    pub sku: Option<String>,
    /// In the currency's minor unit.
    pub price_minor: i64,
    /// `None` when the store does not count it (unlimited, or inventory not tracked).
    pub stock: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteProduct {
    pub external_id: String,
    pub title: String,
    /// Plain text (HTML stripped).
    pub description: String,
    pub url: Option<String>,
    pub state: RemoteState,
    /// ISO 4217.
    pub currency: String,
    pub variants: Vec<RemoteVariant>,
    /// Image URLs, the main one first.
    pub images: Vec<String>,
    pub tags: Vec<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// One page of products, and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductPage {
    pub products: Vec<RemoteProduct>,
    /// Opaque to the sync, stored to resume from: a GraphQL cursor, an offset, a Squarespace
    /// cursor. `None` on the last page.
    pub next: Option<String>,
    /// How many products the walk covers, when the store says (Etsy's `count`).
    pub total: Option<u64>,
}

/// One store's API. Implementations hold their HTTP client and base URLs.
#[async_trait]
pub trait StoreApi: Send + Sync + 'static {
    fn store(&self) -> Store;

    /// The consent URL for `state`. `shop` is what the person typed (Shopify asks which shop
    /// first; the others ignore it): an error is a sentence for them.
    fn start_authorization(
        &self,
        shop: Option<&str>,
        redirect_uri: &str,
        state: &str,
    ) -> Result<AuthorizationStart, PlatformError>;

    /// Checks what only the store can vouch for in the callback's query (Shopify's `hmac` and
    /// `shop`), before anything else is looked at. `Ok` for stores that sign nothing.
    fn verify_callback(&self, _query: &[(String, String)]) -> Result<(), PlatformError> {
        Ok(())
    }

    /// Trades the code for tokens. `shop` is the shop the authorization was started for.
    async fn exchange_code(
        &self,
        shop: Option<&str>,
        code: &str,
        pkce_verifier: &SecretString,
        redirect_uri: &str,
    ) -> Result<TokenSet, PlatformError>;

    /// New tokens; the store may rotate the refresh token, so the caller stores what comes
    /// back. `account_id` says which shop (Shopify's host is the shop's own).
    async fn refresh(
        &self,
        account_id: &str,
        refresh_token: &SecretString,
    ) -> Result<TokenSet, PlatformError>;

    /// The shop the token acts for. `shop` as for [`StoreApi::exchange_code`].
    async fn account(
        &self,
        shop: Option<&str>,
        access_token: &SecretString,
    ) -> Result<StoreAccount, PlatformError>;

    /// One page of products from `cursor` (`None`: the first page). Throttling is waited out
    /// inside when the wait is short (a few seconds) and returned as `Retryable { wait }`
    /// otherwise, so the sync job can give its worker back meanwhile.
    async fn products(
        &self,
        account_id: &str,
        access_token: &SecretString,
        scope: SyncScope,
        cursor: Option<&str>,
    ) -> Result<ProductPage, PlatformError>;

    /// One product, read fresh: the check before a post about it goes out. `None` when the
    /// store no longer has it.
    async fn product(
        &self,
        account_id: &str,
        access_token: &SecretString,
        external_id: &str,
    ) -> Result<Option<RemoteProduct>, PlatformError>;
}

pub type SharedStoreApi = Arc<dyn StoreApi>;

/// A store's sorting of an unsuccessful answer: status, headers, body, now.
pub type Classifier =
    fn(reqwest::StatusCode, &reqwest::header::HeaderMap, &str, DateTime<Utc>) -> PlatformError;

/// Sends `request`; a transport failure becomes [`transport_error`], anything but a 2xx
/// becomes `classify`'s error.
pub async fn send(
    store: Store,
    request: reqwest::RequestBuilder,
    classify: Classifier,
) -> Result<reqwest::Response, PlatformError> {
    let response = request
        .send()
        .await
        .map_err(|error| transport_error(store, &error))?;
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap_or_default();
    Err(classify(status, &headers, &body, Utc::now()))
}

/// Reads a successful answer's JSON; an answer that does not parse is worth one more try.
pub async fn read_json<T: serde::de::DeserializeOwned>(
    store: Store,
    response: reqwest::Response,
) -> Result<T, PlatformError> {
    let body = response
        .bytes()
        .await
        .map_err(|error| transport_error(store, &error))?;
    serde_json::from_slice(&body).map_err(|error| PlatformError::Retryable {
        wait: None,
        maybe_done: false,
        detail: format!(
            "{} answered in a shape we could not read ({error})",
            store.display_name()
        ),
    })
}

/// A transport failure talking to `store`, in the pipeline's terms: reads change nothing, so
/// trying again is always safe.
pub fn transport_error(store: Store, error: &reqwest::Error) -> PlatformError {
    let what = if error.is_timeout() {
        "did not answer in time"
    } else if error.is_connect() {
        "could not be reached"
    } else {
        "dropped the connection"
    };
    PlatformError::Retryable {
        wait: None,
        maybe_done: false,
        detail: format!("{} {what}", store.display_name()),
    }
}

/// Price text such as `19.99` or `7` in a currency with `exponent` minor digits, as minor
/// units; `None` when it is not a plain decimal.
pub fn minor_units(price: &str, exponent: u32) -> Option<i64> {
    let price = price.trim();
    let (whole, fraction) = price.split_once('.').unwrap_or((price, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.bytes().all(|byte| byte.is_ascii_digit())
        || !fraction.bytes().all(|byte| byte.is_ascii_digit())
        || fraction.len() > exponent as usize
    {
        return None;
    }
    let scale = 10i64.checked_pow(exponent)?;
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut minor: i64 = 0;
    if !fraction.is_empty() {
        let padded = format!("{fraction:0<width$}", width = exponent as usize);
        minor = padded.parse().ok()?;
    }
    whole.checked_mul(scale)?.checked_add(minor)
}

/// How many minor digits a currency has (ISO 4217): 0 for yen and won, 3 for the dinars, 2
/// for the rest.
pub fn currency_exponent(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "HUF" | "TWD" | "UGX" | "XAF" | "XOF" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" | "IQD" | "LYD" => 3,
        _ => 2,
    }
}

/// Plain text from a store's HTML description: tags dropped, the common entities decoded,
/// whitespace collapsed.
pub fn plain_text(html: &str) -> String {
    const BLOCKS: &[&str] = &[
        "p", "br", "div", "li", "ul", "ol", "tr", "h1", "h2", "h3", "h4",
    ];
    let mut text = String::with_capacity(html.len());
    let mut tag: Option<String> = None;
    for character in html.chars() {
        match (&mut tag, character) {
            (None, '<') => tag = Some(String::new()),
            (Some(name), '>') => {
                let name = name
                    .trim_start_matches('/')
                    .split([' ', '/'])
                    .next()
                    .unwrap_or("");
                if BLOCKS.contains(&name.to_ascii_lowercase().as_str()) {
                    text.push(' ');
                }
                tag = None;
            }
            (Some(name), _) => name.push(character),
            (None, _) => text.push(character),
        }
    }
    let decoded = text
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_become_minor_units_in_the_currency_s_digits() {
        assert_eq!(minor_units("19.99", 2), Some(1999));
        assert_eq!(minor_units("19.9", 2), Some(1990));
        assert_eq!(minor_units("7", 2), Some(700));
        assert_eq!(minor_units("1500", 0), Some(1500));
        assert_eq!(minor_units("1.234", 3), Some(1234));
        assert_eq!(minor_units("1.999", 2), None);
        assert_eq!(minor_units("-1", 2), None);
        assert_eq!(minor_units("", 2), None);
        assert_eq!(minor_units("abc", 2), None);
        assert_eq!(currency_exponent("JPY"), 0);
        assert_eq!(currency_exponent("EUR"), 2);
    }

    #[test]
    fn descriptions_lose_their_markup() {
        assert_eq!(
            plain_text(
                "<p>Hand-thrown <strong>mug</strong>,&nbsp;350&nbsp;ml</p><p>Tom &amp; Jo</p>"
            ),
            "Hand-thrown mug, 350 ml Tom & Jo"
        );
    }
}
