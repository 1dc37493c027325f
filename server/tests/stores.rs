//! Online stores end to end against their fakes: connecting Shopify (its signed callback, a
//! tampered one refused, a shop address checked first), Etsy (PKCE, the shared secret on every
//! call) and Squarespace (rotating ~30-minute tokens); product syncs that page through the
//! catalogue as a job on the queue, mark removed products gone, read only changes when asked,
//! wait out throttling, refresh expired tokens, resume from their last page after a restart,
//! and change nothing when run twice.

mod common;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use common::Backend;
use common::stores::{SHOP, Selling, Stores, selling_on_x, stores};
use server::sandbox::kit::FakeControls;

async fn a_shopify_shop_connects_and_its_whole_catalogue_syncs(backend: Backend) {
    let world = stores(backend, 120, &[]).await;
    let (_, token) = world.app.signed_in_user().await;
    let id = world.connect_shopify(&token).await;
    let store = world.synced(&token, &id).await;
    assert_eq!(store["account_id"], SHOP);
    assert_eq!(store["products"], 120, "{store}");
    assert!(store["sync"]["last_error"].is_null(), "{store}");
    // 30 products a page.
    assert_eq!(store["sync"]["pages_done"], 4);
    assert_eq!(store["sync"]["products_done"], 120);

    let all = world.products(&token, "").await;
    assert_eq!(all["total"], 120);
    assert_eq!(all["products"].as_array().unwrap().len(), 24);
    let first = &all["products"][0];
    assert_eq!(first["store"], "shopify");
    assert!(first["price"].as_str().unwrap().starts_with('$'), "{first}");
    assert!(
        first["images"][0]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1")
    );
    // Found by title and by SKU, filtered by stock.
    let mugs = world.products(&token, "q=mug").await;
    assert!(mugs["total"].as_u64().unwrap() > 0);
    assert!(
        mugs["products"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["title"].as_str().unwrap().to_lowercase().contains("mug"))
    );
    let sku = first["variants"][0]["sku"].as_str().unwrap();
    let by_sku = world.products(&token, &format!("q={sku}")).await;
    assert_eq!(by_sku["total"], 1, "{by_sku}");
    let in_stock = world.products(&token, "stock=in_stock").await["total"]
        .as_u64()
        .unwrap();
    let sold_out = world.products(&token, "stock=sold_out").await["total"]
        .as_u64()
        .unwrap();
    assert_eq!(in_stock + sold_out, 120);
    assert!(sold_out > 0 && in_stock > 0);
    // Never a token in what the person sees.
    let seen = format!("{}{}", world.overview(&token).await, all);
    for issued in world.shopify.issued_tokens() {
        assert!(!seen.contains(&issued));
    }
}

async fn a_tampered_shopify_callback_is_refused_and_stores_nothing(backend: Backend) {
    let world = stores(backend, 5, &[]).await;
    let (_, token) = world.app.signed_in_user().await;
    let url = world
        .authorize(&token, "shopify", Some(&json!({"shop": SHOP})))
        .await;
    let back = world.shopify.authorize_directly(&url, SHOP).unwrap();
    // Another shop slipped into the signed query.
    let tampered = back.replace(
        "shop=test-shop.myshopify.com",
        "shop=evil-shop.myshopify.com",
    );
    assert_ne!(tampered, back);
    let landed = world.come_back(&token, &tampered).await;
    assert!(
        landed.contains("error=") && landed.contains("signature"),
        "{landed}"
    );
    // A forged hmac.
    let forged = regex_replace_hmac(&back);
    let landed = world.come_back(&token, &forged).await;
    assert!(landed.contains("signature"), "{landed}");
    assert_eq!(world.overview(&token).await["stores"], json!([]));
    assert_eq!(world.shopify.code_exchange_count(), 0);
    // The untouched callback still works: the refusals spent nothing.
    let landed = world.come_back(&token, &back).await;
    assert!(landed.contains("store_connected"), "{landed}");
}

fn regex_replace_hmac(url: &str) -> String {
    let start = url.find("hmac=").unwrap() + 5;
    let end = url[start..].find('&').map_or(url.len(), |end| start + end);
    format!("{}{}{}", &url[..start], "0".repeat(64), &url[end..])
}

async fn a_shop_address_is_checked_before_anything(backend: Backend) {
    let world = stores(backend, 5, &[]).await;
    let (_, token) = world.app.signed_in_user().await;
    for shop in ["evil.com", "my shop", "https://example.com/admin", ""] {
        let (status, body) = world
            .json(
                reqwest::Method::POST,
                &token,
                "/api/stores/shopify/authorize",
                Some(&json!({ "shop": shop })),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{shop}: {body}");
        assert_eq!(body["error"]["field"], "shop");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("myshopify.com"),
            "{body}"
        );
    }
    let (status, body) = world
        .json(
            reqwest::Method::POST,
            &token,
            "/api/stores/amazon/authorize",
            None,
        )
        .await;
    assert!(status.is_client_error(), "{body}");
    let (status, body) = world
        .json(
            reqwest::Method::POST,
            &token,
            "/api/stores/shopify/authorize",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

async fn etsy_and_squarespace_connect_and_sync(backend: Backend) {
    let world = stores(backend, 130, &[]).await;
    let (_, token) = world.app.signed_in_user().await;
    let etsy = world.connect_etsy(&token).await;
    let squarespace = world.connect_squarespace(&token).await;
    let etsy_store = world.synced(&token, &etsy).await;
    let squarespace_store = world.synced(&token, &squarespace).await;
    assert_eq!(etsy_store["products"], 130, "{etsy_store}");
    assert_eq!(squarespace_store["products"], 130, "{squarespace_store}");
    // Squarespace pages by 50.
    assert_eq!(squarespace_store["sync"]["pages_done"], 3);
    let from_etsy = world.products(&token, &format!("store={etsy}")).await;
    assert_eq!(from_etsy["total"], 130);
    assert_eq!(from_etsy["products"][0]["store"], "etsy");
    assert_eq!(world.products(&token, "").await["total"], 260);
}

async fn a_full_sync_marks_removed_products_gone_and_an_incremental_one_reads_only_changes(
    backend: Backend,
) {
    let world = stores(backend, 90, &[]).await;
    let (_, token) = world.app.signed_in_user().await;
    let id = world.connect_shopify(&token).await;
    world.synced(&token, &id).await;
    let before = world.products(&token, "").await;

    // Syncing again changes nothing.
    let again = world.sync(&token, &id, true).await;
    assert_eq!(again["products"], 90);
    let after = world.products(&token, "").await;
    assert_eq!(before, after);

    let now = world.shopify.now();
    let (sold, repriced, removed) = world
        .shopify
        .with_catalogue(SHOP, |catalogue| {
            let (sold, repriced, removed) = (
                catalogue.id_at(1).unwrap(),
                catalogue.id_at(2).unwrap(),
                catalogue.id_at(3).unwrap(),
            );
            catalogue.restock(sold, 5, now);
            catalogue.sell_out(sold, now + chrono::Duration::seconds(1));
            catalogue.set_price(repriced, 12_345, now + chrono::Duration::seconds(1));
            catalogue.remove(removed);
            catalogue.add(
                "Brand New Lamp",
                4_200,
                3,
                now + chrono::Duration::seconds(1),
            );
            (sold, repriced, removed)
        })
        .unwrap();
    let requests_before = world
        .shopify
        .request_count(server::sandbox::shopify::Endpoint::GraphQl);
    let incremental = world.sync(&token, &id, false).await;
    let read = world
        .shopify
        .request_count(server::sandbox::shopify::Endpoint::GraphQl)
        - requests_before;
    assert_eq!(read, 1, "one page of changes, not the catalogue");
    assert_eq!(
        incremental["products"], 91,
        "the new product; the removed one is only found by a full walk"
    );
    let lamp = world.products(&token, "q=brand%20new%20lamp").await;
    assert_eq!(lamp["total"], 1);
    assert_eq!(lamp["products"][0]["price"], "$42.00");

    let full = world.sync(&token, &id, true).await;
    assert_eq!(full["products"], 90, "{full}");
    let (_, gone) = world
        .json(
            reqwest::Method::GET,
            &token,
            &format!(
                "/api/products?q={}",
                urlencoded(&title_of(&before, removed))
            ),
            None,
        )
        .await;
    assert_eq!(
        gone["total"], 0,
        "a removed product is left out of the list: {gone}"
    );
    // …but kept, as gone, for the posts that used it.
    let kept = product_by_external(&world, &token, &before, removed).await;
    assert_eq!(kept["state"], "gone");
    assert_eq!(kept["in_stock"], false);
    let sold_row = product_by_external(&world, &token, &before, sold).await;
    assert_eq!(sold_row["in_stock"], false);
    assert_eq!(sold_row["state"], "active");
    let repriced_row = product_by_external(&world, &token, &before, repriced).await;
    assert_eq!(repriced_row["price_minor"], 12_345);
}

fn title_of(list: &Value, external: u64) -> String {
    all_products(list)
        .into_iter()
        .find(|p| p["external_id"] == format!("gid://shopify/Product/{external}"))
        .map(|p| p["title"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| format!("No. {}", external - 1000))
}

fn all_products(list: &Value) -> Vec<Value> {
    list["products"].as_array().cloned().unwrap_or_default()
}

fn urlencoded(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A product by its Shopify id, read through `GET /api/products/{id}` after finding its id by
/// title in `listed` (the first page of an earlier listing) or by search.
async fn product_by_external(world: &Stores, token: &str, listed: &Value, external: u64) -> Value {
    let gid = format!("gid://shopify/Product/{external}");
    let mut id = all_products(listed)
        .into_iter()
        .find(|p| p["external_id"] == gid)
        .map(|p| p["id"].as_str().unwrap().to_owned());
    if id.is_none() {
        let title = title_of(listed, external);
        let found = world
            .products(token, &format!("q={}", urlencoded(&title)))
            .await;
        id = all_products(&found)
            .into_iter()
            .find(|p| p["external_id"] == gid)
            .map(|p| p["id"].as_str().unwrap().to_owned());
    }
    let id = id.expect("the product was listed once");
    let (status, product) = world
        .json(
            reqwest::Method::GET,
            token,
            &format!("/api/products/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{product}");
    product
}

async fn throttling_is_waited_out(backend: Backend) {
    let world = stores(backend, 60, &[]).await;
    let (_, token) = world.app.signed_in_user().await;
    // A bucket that holds about one page and refills it in well under a second.
    world.shopify.set_bucket(1_000.0, 2_000.0);
    let id = world.connect_shopify(&token).await;
    world.shopify.fail_next(
        server::sandbox::shopify::Endpoint::GraphQl,
        [server::sandbox::kit::script::Failure::RateLimited { reset_in_secs: 1 }],
    );
    let store = world.synced(&token, &id).await;
    assert_eq!(store["products"], 60, "{store}");
    assert!(store["sync"]["last_error"].is_null(), "{store}");
}

async fn a_squarespace_cooldown_makes_the_sync_wait_and_keep_its_place(backend: Backend) {
    let world = stores(backend, 120, &[]).await;
    let (_, token) = world.app.signed_in_user().await;
    world.squarespace.fail_next(
        server::sandbox::squarespace::Endpoint::Products,
        [
            server::sandbox::kit::script::Failure::Slow(Duration::ZERO),
            server::sandbox::kit::script::Failure::RateLimited { reset_in_secs: 60 },
        ],
    );
    let id = world.connect_squarespace(&token).await;
    // The first page is stored, then the 429: the run waits a minute with its place kept.
    let mut waiting = Value::Null;
    for _ in 0..200 {
        waiting = world.store(&token, &id).await;
        if waiting["sync"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("goes on at"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(waiting["sync"]["running"], true, "{waiting}");
    assert_eq!(waiting["sync"]["pages_done"], 1, "{waiting}");
    assert_eq!(waiting["products"], 50, "{waiting}");
}

async fn expired_tokens_are_refreshed_and_a_revoked_grant_asks_for_a_reconnect(backend: Backend) {
    let world = stores(backend, 40, &[]).await;
    let (_, token) = world.app.signed_in_user().await;
    // Tokens that expire within the five minutes a sync wants: the first sync refreshes first
    // (and Etsy rotates the refresh token).
    world.etsy.set_access_token_lifetime(60);
    let id = world.connect_etsy(&token).await;
    world.etsy.set_access_token_lifetime(3600);
    let store = world.synced(&token, &id).await;
    assert_eq!(store["products"], 40, "{store}");
    assert!(world.etsy.refresh_count() >= 1);

    world.etsy.revoke_all_tokens_of("ann");
    let store = world.sync(&token, &id, true).await;
    assert_eq!(store["status"], "needs_reconnect", "{store}");
    assert!(
        store["sync"]["last_error"]
            .as_str()
            .unwrap()
            .contains("reconnect"),
        "{store}"
    );
    let (status, body) = world
        .json(
            reqwest::Method::POST,
            &token,
            &format!("/api/stores/{id}/sync"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // Products stay for the posts made from them.
    assert_eq!(world.products(&token, "").await["total"], 40);
    // Reconnecting makes it active again.
    let url = world.authorize(&token, "etsy", None).await;
    let back = world.etsy.authorize_directly(&url, "ann").unwrap();
    world.come_back(&token, &back).await;
    let store = world.synced(&token, &id).await;
    assert_eq!(store["status"], "active", "{store}");
}

async fn a_sync_cut_short_by_a_restart_goes_on_from_its_last_page(backend: Backend) {
    let world = stores(backend, 600, &[]).await;
    let (_, token) = world.app.signed_in_user().await;
    // Slow pages, so the restart lands mid-walk.
    world.shopify.set_latency(Duration::from_millis(60));
    let id = world.connect_shopify(&token).await;
    loop {
        let store = world.store(&token, &id).await;
        if store["sync"]["pages_done"].as_u64().unwrap() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let Stores {
        app,
        shopify,
        etsy,
        squarespace,
        servers,
    } = world;
    let app = app.restart(&[]).await;
    let world = Stores {
        app,
        shopify,
        etsy,
        squarespace,
        servers,
    };
    let store = world.synced(&token, &id).await;
    assert_eq!(store["products"], 600, "{store}");
    // 20 pages in all: the restarted run did not start over.
    let read = world
        .shopify
        .request_count(server::sandbox::shopify::Endpoint::GraphQl);
    assert!(
        read <= 20 + 1 + 2,
        "{read} GraphQL requests for 20 pages and the shop"
    );
    assert_eq!(world.products(&token, "").await["total"], 600);
}

async fn stores_are_private(backend: Backend) {
    let world = stores(backend, 10, &[]).await;
    let ((_, ann), (_, bob)) = world.app.two_users().await;
    let id = world.connect_shopify(&ann).await;
    world.synced(&ann, &id).await;
    assert_eq!(world.overview(&bob).await["stores"], json!([]));
    assert_eq!(world.products(&bob, "").await["total"], 0);
    let any = world.products(&ann, "").await["products"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Bob is told none of Ann's exist; Ann's own disconnect goes through.
    let calls = [
        (
            reqwest::Method::GET,
            &bob,
            format!("/api/products/{any}"),
            StatusCode::NOT_FOUND,
        ),
        (
            reqwest::Method::POST,
            &bob,
            format!("/api/stores/{id}/sync"),
            StatusCode::NOT_FOUND,
        ),
        (
            reqwest::Method::DELETE,
            &bob,
            format!("/api/stores/{id}"),
            StatusCode::NOT_FOUND,
        ),
        (
            reqwest::Method::DELETE,
            &ann,
            format!("/api/stores/{id}"),
            StatusCode::NO_CONTENT,
        ),
    ];
    for (method, who, path, expected) in calls {
        let (status, body) = world.json(method.clone(), who, &path, None).await;
        assert_eq!(status, expected, "{method} {path}: {body}");
    }
    assert_eq!(world.products(&ann, "").await["total"], 0);
}

async fn post_status(world: &Stores, token: &str, id: &str, wanted: &[&str]) -> Value {
    for _ in 0..400 {
        let (_, post) = world
            .json(
                reqwest::Method::GET,
                token,
                &format!("/api/posts/{id}"),
                None,
            )
            .await;
        let status = post["targets"][0]["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if wanted.contains(&status.as_str()) {
            return post;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the post never became {wanted:?}");
}

/// The Shopify number of a product as listed (`gid://shopify/Product/1001` → 1001).
fn shopify_number(product: &Value) -> u64 {
    product["external_id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Dates every product's last sync an hour back, so the worker must ask the store.
async fn age_the_last_sync(world: &Stores) {
    use sea_orm::ConnectionTrait;
    let db = sea_orm::Database::connect(&world.app.database_url)
        .await
        .unwrap();
    let hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    let statement = sea_orm::Statement::from_sql_and_values(
        db.get_database_backend(),
        match db.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => "UPDATE products SET synced_at = $1",
            _ => "UPDATE products SET synced_at = ?",
        },
        [hour_ago.into()],
    );
    db.execute(statement).await.unwrap();
}

/// Schedules a draft for now, as its author would with the same text and account.
async fn publish_now(world: &Stores, token: &str, post: &Value, account: &str) -> Value {
    let id = post["id"].as_str().unwrap();
    let edit = json!({
        "text": post["text"],
        "targets": [{"connection_id": account}],
        "schedule": "now",
        "check_product": post["check_product"],
    });
    let (status, body) = world
        .json(
            reqwest::Method::PATCH,
            token,
            &format!("/api/posts/{id}"),
            Some(&edit),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn a_post_about_a_product_sold_out_since_is_held_until_its_author_decides(backend: Backend) {
    let Selling {
        world,
        x,
        token,
        account,
        ..
    } = selling_on_x(backend, 30).await;
    let product = world.products(&token, "stock=in_stock").await["products"][0].clone();
    let draft = json!({
        "text": format!("Back in the shop: {}", product["title"].as_str().unwrap()),
        "targets": [{"connection_id": account}],
        "schedule": "draft",
        "product_id": product["id"],
    });
    let (status, post) = world
        .json(reqwest::Method::POST, &token, "/api/posts", Some(&draft))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    assert_eq!(post["product_id"], product["id"]);
    assert_eq!(post["check_product"], true);

    // Sold out at the store after the post was written; our last sync is an hour old, so the
    // worker asks the store before sending.
    world
        .shopify
        .with_catalogue(SHOP, |catalogue| {
            catalogue.sell_out(shopify_number(&product), chrono::Utc::now())
        })
        .unwrap();
    age_the_last_sync(&world).await;
    publish_now(&world, &token, &post, &account).await;
    let id = post["id"].as_str().unwrap();
    let held = post_status(&world, &token, id, &["held", "published"]).await;
    let target = &held["targets"][0];
    assert_eq!(target["status"], "held", "{held}");
    assert!(
        target["error"].as_str().unwrap().contains("is sold out"),
        "{held}"
    );
    assert_eq!(x.post_count(), 0);
    let (_, now_listed) = world
        .json(
            reqwest::Method::GET,
            &token,
            &format!("/api/products/{}", product["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(now_listed["in_stock"], false, "the fresh read was stored");

    // "Publish anyway".
    let target_id = target["id"].as_str().unwrap();
    let (status, body) = world
        .json(
            reqwest::Method::POST,
            &token,
            &format!("/api/posts/{id}/targets/{target_id}/retry"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["check_product"], false);
    post_status(&world, &token, id, &["published"]).await;
    assert_eq!(x.post_count(), 1);
}

async fn a_price_change_holds_and_an_unchecked_post_goes_out(backend: Backend) {
    let Selling {
        world,
        x,
        token,
        store,
        account,
    } = selling_on_x(backend, 30).await;
    let product = world.products(&token, "stock=in_stock").await["products"][0].clone();
    let draft = |check: bool| {
        json!({
            "text": if check { "Checked" } else { "Unchecked" },
            "targets": [{"connection_id": account}],
            "schedule": "draft",
            "product_id": product["id"],
            "check_product": check,
        })
    };
    let (_, checked) = world
        .json(
            reqwest::Method::POST,
            &token,
            "/api/posts",
            Some(&draft(true)),
        )
        .await;
    let (_, unchecked) = world
        .json(
            reqwest::Method::POST,
            &token,
            "/api/posts",
            Some(&draft(false)),
        )
        .await;
    assert_eq!(unchecked["check_product"], false);
    // Repriced at the store and synced: the worker goes by the fresh sync.
    world
        .shopify
        .with_catalogue(SHOP, |catalogue| {
            catalogue.set_price(shopify_number(&product), 99_900, chrono::Utc::now())
        })
        .unwrap();
    world.sync(&token, &store, false).await;
    publish_now(&world, &token, &unchecked, &account).await;
    post_status(
        &world,
        &token,
        unchecked["id"].as_str().unwrap(),
        &["published"],
    )
    .await;
    assert_eq!(
        x.post_count(),
        1,
        "a post with the check off goes out whatever the price"
    );
    // A checked post scheduled before the price changed is held with both prices in words.
    let (_, early) = world
        .json(
            reqwest::Method::POST,
            &token,
            "/api/posts",
            Some(&json!({
                "text": "Scheduled at the old price",
                "targets": [{"connection_id": account}],
                "schedule": {"at": (chrono::Utc::now() + chrono::Duration::seconds(3)).to_rfc3339()},
                "product_id": product["id"],
            })),
        )
        .await;
    world
        .shopify
        .with_catalogue(SHOP, |catalogue| {
            catalogue.set_price(shopify_number(&product), 12_300, chrono::Utc::now())
        })
        .unwrap();
    world.sync(&token, &store, false).await;
    let held = post_status(
        &world,
        &token,
        early["id"].as_str().unwrap(),
        &["held", "published"],
    )
    .await;
    let reason = held["targets"][0]["error"].as_str().unwrap_or_default();
    assert_eq!(held["targets"][0]["status"], "held", "{held}");
    assert!(reason.contains("from $999.00 to $123.00"), "{reason}");
    // Editing is the author seeing the new price: the edited post goes out.
    publish_now(&world, &token, &checked, &account).await;
    post_status(
        &world,
        &token,
        checked["id"].as_str().unwrap(),
        &["published"],
    )
    .await;
    assert_eq!(x.post_count(), 2);
}

async fn a_post_started_from_a_product_brings_its_images_and_fills_its_variables(backend: Backend) {
    let Selling {
        world,
        token,
        account,
        ..
    } = selling_on_x(backend, 12).await;
    // A product with three photos (every third one has).
    let listed = world.products(&token, "").await;
    let product = all_products(&listed)
        .into_iter()
        .find(|product| product["images"].as_array().unwrap().len() == 3)
        .unwrap();
    let id = product["id"].as_str().unwrap();
    let (status, draft) = world
        .json(
            reqwest::Method::POST,
            &token,
            &format!("/api/products/{id}/draft"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    assert_eq!(draft["media"].as_array().unwrap().len(), 3, "{draft}");
    assert_eq!(draft["media"][0]["mime"], "image/png");
    let title = product["title"].as_str().unwrap();
    let price = product["price"].as_str().unwrap();
    assert!(
        draft["text"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{title}, {price}")),
        "{draft}"
    );

    let new_post = json!({
        "text": "{title} is {price} at {store}",
        "media_ids": [draft["media"][0]["id"]],
        "targets": [{"connection_id": account, "text": "Only {price}!"}],
        "schedule": "draft",
        "product_id": id,
    });
    let (status, post) = world
        .json(reqwest::Method::POST, &token, "/api/posts", Some(&new_post))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    assert_eq!(post["text"], format!("{title} is {price} at Test Shop"));
    assert_eq!(post["targets"][0]["text"], format!("Only {price}!"));

    // Someone else's product is refused by name.
    let ((_, other), _) = world.app.two_users().await;
    let (status, body) = world
        .json(
            reqwest::Method::POST,
            &other,
            &format!("/api/products/{id}/draft"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

on_both_databases!(
    a_post_started_from_a_product_brings_its_images_and_fills_its_variables,
    a_post_about_a_product_sold_out_since_is_held_until_its_author_decides,
    a_price_change_holds_and_an_unchecked_post_goes_out,
    a_shopify_shop_connects_and_its_whole_catalogue_syncs,
    a_tampered_shopify_callback_is_refused_and_stores_nothing,
    a_shop_address_is_checked_before_anything,
    etsy_and_squarespace_connect_and_sync,
    a_full_sync_marks_removed_products_gone_and_an_incremental_one_reads_only_changes,
    throttling_is_waited_out,
    a_squarespace_cooldown_makes_the_sync_wait_and_keep_its_place,
    expired_tokens_are_refreshed_and_a_revoked_grant_asks_for_a_reconnect,
    a_sync_cut_short_by_a_restart_goes_on_from_its_last_page,
    stores_are_private,
);
