//! `/products`: the products synced from the person's stores, to start a post from. The search
//! lives in the URL (`?q=mug&store=<id>&stock=in_stock&page=2`), sent by a plain GET form, and
//! the pages are plain links: the page is drawn on the server alone, works without JavaScript
//! and adds no script (no island). With `?template=<id>` (from the Templates page) every link
//! to a new post carries the template, whose text the product then fills.

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use uuid::Uuid;

use crate::api::stores::{load_products, load_stores};
use crate::components::notice::{Notice, Tone};
use crate::types::{
    ApiError, Product, ProductList, ProductQuery, ProductState, StockFilter, StoreConnection,
    StoreId,
};

/// The picture's box, in CSS pixels: given to every `<img>`, so the grid keeps its shape while
/// the pictures arrive.
const IMAGE_SIZE: &str = "240";

/// `1 product`, `3 products`.
pub(crate) fn count_of(count: u64, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// The search as the URL has it. A value that does not parse means no filter.
fn query_from(params: &ParamsMap) -> ProductQuery {
    ProductQuery {
        q: params
            .get("q")
            .map(|q| q.trim().to_owned())
            .filter(|q| !q.is_empty()),
        store: params
            .get_str("store")
            .and_then(|raw| Uuid::parse_str(raw).ok())
            .map(StoreId),
        stock: params.get_str("stock").and_then(parse_stock),
        page: params
            .get_str("page")
            .and_then(|raw| raw.parse().ok())
            .filter(|page| *page >= 1),
    }
}

/// The `stock` value in the URL, as the JSON API spells it.
fn stock_value(stock: StockFilter) -> &'static str {
    match stock {
        StockFilter::InStock => "in_stock",
        StockFilter::SoldOut => "sold_out",
    }
}

fn parse_stock(raw: &str) -> Option<StockFilter> {
    [StockFilter::InStock, StockFilter::SoldOut]
        .into_iter()
        .find(|stock| stock_value(*stock) == raw)
}

/// The list's address for `page` of the same search.
fn page_href(query: &ProductQuery, page: u32) -> String {
    let params: ParamsMap = [
        query.q.clone().map(|q| ("q", q)),
        query.store.map(|store| ("store", store.0.to_string())),
        query
            .stock
            .map(|stock| ("stock", stock_value(stock).to_owned())),
        (page > 1).then(|| ("page", page.to_string())),
    ]
    .into_iter()
    .flatten()
    .collect();
    format!("/products{}", params.to_query_string())
}

/// How many pages `total` products fill; at least one.
fn page_count(total: u64, per_page: u32) -> u32 {
    let pages = total.div_ceil(u64::from(per_page.max(1))).max(1);
    u32::try_from(pages).unwrap_or(u32::MAX)
}

/// How much of it is left, in words; `None` when it is sold out (a badge says so).
fn stock_text(stock: Option<i64>, in_stock: bool) -> Option<String> {
    match (in_stock, stock) {
        (false, _) => None,
        (true, Some(count)) => Some(format!("{count} in stock")),
        (true, None) => Some("In stock".to_owned()),
    }
}

/// The template the person came to fill with a product, if any: every link of the page keeps it.
#[derive(Debug, Clone, Default)]
struct ForTemplate(Option<Uuid>);

impl ForTemplate {
    fn current() -> Self {
        use_context::<Self>().unwrap_or_default()
    }

    /// `&template=<id>`, or nothing.
    fn suffix(&self) -> String {
        self.0
            .map(|id| format!("&template={id}"))
            .unwrap_or_default()
    }

    /// `href` (an address of this page) keeping the template.
    fn keep(&self, href: String) -> String {
        match self.0 {
            None => href,
            Some(id) if href.contains('?') => format!("{href}&template={id}"),
            Some(id) => format!("{href}?template={id}"),
        }
    }
}

#[component]
pub fn Products() -> impl IntoView {
    let params = use_query_map().read_untracked();
    let query = query_from(&params);
    let template = ForTemplate(
        params
            .get_str("template")
            .and_then(|raw| Uuid::parse_str(raw).ok()),
    );
    let choosing = template.0.is_some().then(|| {
        view! {
            <Notice
                tone=Tone::Success
                message="Choose the product for your template: its title, price, link and store fill the template's variables."
                    .to_owned()
            />
        }
    });
    provide_context(template);
    let stores = OnceResource::new(load_stores());
    let products = OnceResource::new(load_products(query.clone()));
    view! {
        <header class="page-header">
            <h1 class="page-title">"Products"</h1>
            <p class="page-lead">"Everything synced from your stores. Start a post from any of them."</p>
        </header>
        {choosing}
        <Suspense fallback=|| view! { <p class="field-hint">"Loading products\u{2026}"</p> }>
            {move || {
                let query = query.clone();
                Suspend::new(async move {
                    let loaded = async { Ok::<_, ApiError>((stores.await?, products.await?)) };
                    match loaded.await {
                        Ok((overview, _)) if overview.stores.is_empty() => EitherOf3::A(view! {
                            <p class="empty">
                                <a href="/connections">"Connect a store"</a>
                                " to see its products here."
                            </p>
                        }),
                        Ok((overview, list)) => EitherOf3::B(view! {
                            <SearchForm query=query.clone() stores=overview.stores />
                            <ProductResults list query />
                        }),
                        Err(error) => {
                            EitherOf3::C(view! { <Notice tone=Tone::Error message=error.to_string() /> })
                        }
                    }
                })
            }}
        </Suspense>
    }
}

/// A plain GET form: searching loads the page for the new URL (from its first page), so a
/// reload, the back button and a shared link show the same products.
#[component]
fn SearchForm(query: ProductQuery, stores: Vec<StoreConnection>) -> impl IntoView {
    let text = query.q.unwrap_or_default();
    let chosen = query.store;
    let stock = query.stock.map_or("", stock_value);
    let template = ForTemplate::current()
        .0
        .map(|id| view! { <input type="hidden" name="template" value=id.to_string() /> });
    view! {
        <form method="get" action="/products" class="filters" role="search" aria-label="Search products">
            {template}
            <div class="field">
                <label for="products-q" class="field-label">"Search by title or SKU"</label>
                <input id="products-q" name="q" type="search" class="field-input" value=text />
            </div>
            <div class="field">
                <label for="products-store" class="field-label">"Store"</label>
                <select id="products-store" name="store" class="field-input">
                    <option value="">"All stores"</option>
                    {stores
                        .into_iter()
                        .map(|store| {
                            view! {
                                <option value=store.id.0.to_string() selected=chosen == Some(store.id)>
                                    {store.name}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="products-stock" class="field-label">"Stock"</label>
                <select id="products-stock" name="stock" class="field-input">
                    <option value="">"Any stock"</option>
                    <option value="in_stock" selected=stock == "in_stock">"In stock"</option>
                    <option value="sold_out" selected=stock == "sold_out">"Sold out"</option>
                </select>
            </div>
            <div class="filters-actions">
                <button type="submit" class="button-primary">"Search"</button>
            </div>
        </form>
    }
}

#[component]
fn ProductResults(list: ProductList, query: ProductQuery) -> impl IntoView {
    let ProductList {
        products,
        total,
        page,
        per_page,
    } = list;
    if products.is_empty() {
        let searched = query.q.is_some() || query.store.is_some() || query.stock.is_some();
        let (message, link) = if total > 0 {
            (
                "No products on this page. ",
                Some((
                    ForTemplate::current().keep(page_href(&query, 1)),
                    "Go to the first page",
                )),
            )
        } else if searched {
            (
                "No products match this search. ",
                Some(("/products".to_owned(), "Show all products")),
            )
        } else {
            (
                "No products yet: they appear here as your stores sync.",
                None,
            )
        };
        return Either::Left(view! {
            <p class="empty">
                {message}
                {link.map(|(href, text)| view! { <a href=href>{text}</a> })}
            </p>
        });
    }
    let pages = page_count(total, per_page);
    let page = page.clamp(1, pages);
    Either::Right(view! {
        <p class="field-hint product-count">{count_of(total, "product")}</p>
        <ul class="product-grid">
            {products.into_iter().map(|product| view! { <ProductCard product /> }).collect_view()}
        </ul>
        <Pagination query page pages />
    })
}

#[component]
fn ProductCard(product: Product) -> impl IntoView {
    let Product {
        id,
        store,
        store_name,
        title,
        state,
        price,
        stock,
        in_stock,
        images,
        ..
    } = product;
    let image = match images.into_iter().next() {
        Some(src) => Either::Left(view! {
            <img
                class="product-image"
                src=src
                alt=title.clone()
                loading="lazy"
                width=IMAGE_SIZE
                height=IMAGE_SIZE
            />
        }),
        // An empty box of the same size: the cards stay aligned.
        None => Either::Right(view! { <span class="product-image" aria-hidden="true"></span> }),
    };
    let template = ForTemplate::current().suffix();
    let stock = match stock_text(stock, in_stock) {
        Some(text) => Either::Left(view! { <span>{text}</span> }),
        None => Either::Right(view! { <span class="badge badge-failed">"Sold out"</span> }),
    };
    let state = match state {
        ProductState::Active => None,
        ProductState::Archived => Some("Archived"),
        ProductState::Gone => Some("No longer in the store"),
    };
    view! {
        <li class="product-card">
            {image}
            <h2 class="product-title">{title.clone()}</h2>
            <p class="product-price">{price}</p>
            <p class="product-meta">
                {stock}
                <span class="badge badge-draft">{format!("{} \u{b7} {store_name}", store.display_name())}</span>
                {state.map(|state| view! { <span class="badge badge-cancelled">{state}</span> })}
            </p>
            <div class="product-actions">
                <a
                    href=format!("/studio?product={}{}", id.0, template)
                    class="button-primary"
                    aria-label=format!("Create post from {title}")
                >
                    "Create post"
                </a>
                <a
                    href=format!("/compose?product={}{}", id.0, template)
                    class="button-secondary"
                    aria-label=format!("Compose a post about {title}")
                >
                    "Compose"
                </a>
            </div>
        </li>
    }
}

/// `Page 2 of 5` between Previous and Next, keeping the search; nothing when one page holds all.
#[component]
fn Pagination(query: ProductQuery, page: u32, pages: u32) -> impl IntoView {
    let template = ForTemplate::current();
    let href = move |page| template.keep(page_href(&query, page));
    (pages > 1).then(|| {
        view! {
            <nav class="pagination" aria-label="Pages">
                {(page > 1).then(|| view! { <a href=href(page - 1) rel="prev">"Previous"</a> })}
                <span>{format!("Page {page} of {pages}")}</span>
                {(page < pages).then(|| view! { <a href=href(page + 1) rel="next">"Next"</a> })}
            </nav>
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_reads_into_a_search() {
        let id = Uuid::nil();
        let store = id.to_string();
        let params: ParamsMap = [
            ("q", " mug "),
            ("store", store.as_str()),
            ("stock", "sold_out"),
            ("page", "3"),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            query_from(&params),
            ProductQuery {
                q: Some("mug".into()),
                store: Some(StoreId(id)),
                stock: Some(StockFilter::SoldOut),
                page: Some(3),
            }
        );
    }

    #[test]
    fn unknown_values_mean_no_filter() {
        let params: ParamsMap = [
            ("q", "  "),
            ("store", "shopify"),
            ("stock", "plenty"),
            ("page", "0"),
        ]
        .into_iter()
        .collect();
        assert_eq!(query_from(&params), ProductQuery::default());
    }

    #[test]
    fn page_links_keep_the_search() {
        let query = ProductQuery {
            q: Some("red mug".into()),
            stock: Some(StockFilter::InStock),
            ..ProductQuery::default()
        };
        let next = page_href(&query, 2);
        assert!(next.starts_with("/products?"), "{next}");
        for part in ["q=red", "stock=in", "page=2"] {
            assert!(next.contains(part), "{next}");
        }
        assert!(!next.contains(' '), "{next}");
        assert!(!page_href(&query, 1).contains("page="));
        assert_eq!(page_href(&ProductQuery::default(), 1), "/products");
    }

    #[test]
    fn pages_round_up() {
        assert_eq!(page_count(0, 24), 1);
        assert_eq!(page_count(24, 24), 1);
        assert_eq!(page_count(25, 24), 2);
        assert_eq!(page_count(5, 0), 5);
    }

    #[test]
    fn stock_reads_in_words() {
        assert_eq!(stock_text(Some(12), true).as_deref(), Some("12 in stock"));
        assert_eq!(stock_text(None, true).as_deref(), Some("In stock"));
        assert_eq!(stock_text(Some(0), false), None);
        assert_eq!(count_of(1, "product"), "1 product");
        assert_eq!(count_of(0, "product"), "0 products");
    }
}
