//! Online stores beside the app: fakes of Shopify, Etsy and Squarespace (and of X, for posts
//! made from products), an app configured for them, and the steps a person takes with them.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Backend, TestApp};
use server::sandbox::etsy::EtsyFake;
use server::sandbox::shopify::ShopifyFake;
use server::sandbox::squarespace::SquarespaceFake;
use server::sandbox::x::XFake;

pub const SHOP: &str = "test-shop.myshopify.com";

pub struct Stores {
    pub app: TestApp,
    pub shopify: ShopifyFake,
    pub etsy: EtsyFake,
    pub squarespace: SquarespaceFake,
    pub servers: Vec<tokio::task::JoinHandle<()>>,
}

/// Fakes of the three stores with `size` products per shop, and an app configured for them.
pub async fn stores(backend: Backend, size: usize, extra: &[(&str, &str)]) -> Stores {
    let shopify = ShopifyFake::new("shopify-id", "shopify-secret");
    let etsy = EtsyFake::new("etsy-keystring", "etsy-shared-secret");
    let squarespace = SquarespaceFake::new("squarespace-id", "squarespace-secret");
    shopify.set_catalogue_size(size);
    etsy.set_catalogue_size(size);
    squarespace.set_catalogue_size(size);
    // Tests read faster than Etsy's default 10 calls a second.
    etsy.set_rate_limits(1_000, 100_000);
    let (shopify_addr, shopify_server) = server::sandbox::serve(shopify.router()).await.unwrap();
    let (etsy_addr, etsy_server) = server::sandbox::serve(etsy.router()).await.unwrap();
    let (squarespace_addr, squarespace_server) =
        server::sandbox::serve(squarespace.router()).await.unwrap();
    let shop_template = format!("http://{shopify_addr}/{{shop}}");
    let etsy_url = format!("http://{etsy_addr}");
    let squarespace_url = format!("http://{squarespace_addr}");
    let mut vars = vec![
        ("SHOPIFY_CLIENT_ID", "shopify-id"),
        ("SHOPIFY_CLIENT_SECRET", "shopify-secret"),
        ("SHOPIFY_SHOP_URL_TEMPLATE", shop_template.as_str()),
        ("ETSY_CLIENT_ID", "etsy-keystring"),
        ("ETSY_CLIENT_SECRET", "etsy-shared-secret"),
        ("ETSY_AUTH_URL", etsy_url.as_str()),
        ("ETSY_API_URL", etsy_url.as_str()),
        ("SQUARESPACE_CLIENT_ID", "squarespace-id"),
        ("SQUARESPACE_CLIENT_SECRET", "squarespace-secret"),
        ("SQUARESPACE_AUTH_URL", squarespace_url.as_str()),
        ("SQUARESPACE_API_URL", squarespace_url.as_str()),
        ("RATE_LIMIT_OAUTH", "1000/min"),
        ("RATE_LIMIT_API", "10000/min"),
        ("QUEUE_SWEEP_SECS", "1"),
    ];
    vars.extend_from_slice(extra);
    let app = TestApp::spawn_with(backend, &vars).await;
    Stores {
        app,
        shopify,
        etsy,
        squarespace,
        servers: vec![shopify_server, etsy_server, squarespace_server],
    }
}

impl Stores {
    pub async fn json(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .app
            .client
            .request(method, self.app.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Starts connecting `store`; the consent URL.
    pub async fn authorize(&self, token: &str, store: &str, body: Option<&Value>) -> String {
        let (status, answer) = self
            .json(
                reqwest::Method::POST,
                token,
                &format!("/api/stores/{store}/authorize"),
                body,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer["url"].as_str().unwrap().to_owned()
    }

    /// Follows the store's redirect back to the app; where the app sends the browser.
    pub async fn come_back(&self, token: &str, back: &str) -> String {
        let response = self
            .app
            .client
            .get(back)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_redirection(), "{}", response.status());
        let location = response.headers()[reqwest::header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned();
        url::form_urlencoded::parse(location.as_bytes())
            .map(|(key, value)| format!("{key}={value}"))
            .collect::<Vec<_>>()
            .join("&")
    }

    pub async fn connect_shopify(&self, token: &str) -> String {
        let url = self
            .authorize(token, "shopify", Some(&json!({"shop": "test-shop"})))
            .await;
        let back = self.shopify.authorize_directly(&url, SHOP).unwrap();
        let landed = self.come_back(token, &back).await;
        assert!(landed.contains("store_connected"), "{landed}");
        self.store_id(token, "shopify").await
    }

    pub async fn connect_etsy(&self, token: &str) -> String {
        let url = self.authorize(token, "etsy", None).await;
        let back = self.etsy.authorize_directly(&url, "ann").unwrap();
        let landed = self.come_back(token, &back).await;
        assert!(landed.contains("store_connected"), "{landed}");
        self.store_id(token, "etsy").await
    }

    pub async fn connect_squarespace(&self, token: &str) -> String {
        let url = self.authorize(token, "squarespace", None).await;
        let back = self.squarespace.authorize_directly(&url, "bea").unwrap();
        let landed = self.come_back(token, &back).await;
        assert!(landed.contains("store_connected"), "{landed}");
        self.store_id(token, "squarespace").await
    }

    pub async fn overview(&self, token: &str) -> Value {
        let (status, overview) = self
            .json(reqwest::Method::GET, token, "/api/stores", None)
            .await;
        assert_eq!(status, StatusCode::OK);
        overview
    }

    pub async fn store(&self, token: &str, id: &str) -> Value {
        self.overview(token).await["stores"]
            .as_array()
            .unwrap()
            .iter()
            .find(|store| store["id"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    }

    pub async fn store_id(&self, token: &str, kind: &str) -> String {
        self.overview(token).await["stores"]
            .as_array()
            .unwrap()
            .iter()
            .find(|store| store["store"] == kind)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Waits until the store's sync is over (neither queued nor running); the store then.
    pub async fn synced(&self, token: &str, id: &str) -> Value {
        for _ in 0..600 {
            let store = self.store(token, id).await;
            if store["sync"]["running"] == false && !store["sync"]["last_synced_at"].is_null() {
                return store;
            }
            if store["sync"]["running"] == false && !store["sync"]["last_error"].is_null() {
                return store;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the sync did not end: {}", self.store(token, id).await);
    }

    pub async fn sync(&self, token: &str, id: &str, full: bool) -> Value {
        let path = format!(
            "/api/stores/{id}/sync{}",
            if full { "?full=true" } else { "" }
        );
        let (status, body) = self.json(reqwest::Method::POST, token, &path, None).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        self.synced(token, id).await
    }

    pub async fn products(&self, token: &str, query: &str) -> Value {
        let (status, list) = self
            .json(
                reqwest::Method::GET,
                token,
                &format!("/api/products?{query}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{list}");
        list
    }
}

/// A signed-in person with a synced Shopify shop of `size` products and an X account, to
/// publish posts made from products.
pub struct Selling {
    pub world: Stores,
    pub x: XFake,
    pub token: String,
    pub store: String,
    pub account: String,
}

pub async fn selling_on_x(backend: Backend, size: usize) -> Selling {
    let (world, x) = with_x(backend, size).await;
    let (_, token) = world.app.signed_in_user().await;
    let store = world.connect_shopify(&token).await;
    world.synced(&token, &store).await;
    let account = connect_x(&world, &x, &token).await;
    Selling {
        world,
        x,
        token,
        store,
        account,
    }
}

/// X beside the stores.
pub async fn with_x(backend: Backend, size: usize) -> (Stores, XFake) {
    let x = XFake::new("x-id", "x-secret");
    let (x_addr, x_server) = server::sandbox::serve(x.router()).await.unwrap();
    let x_url = format!("http://{x_addr}");
    let mut world = stores(
        backend,
        size,
        &[
            ("X_CLIENT_ID", "x-id"),
            ("X_CLIENT_SECRET", "x-secret"),
            ("X_AUTH_URL", x_url.as_str()),
            ("X_API_URL", x_url.as_str()),
            ("RATE_LIMIT_POST", "1000/min"),
        ],
    )
    .await;
    world.servers.push(x_server);
    (world, x)
}

pub async fn connect_x(world: &Stores, x: &XFake, token: &str) -> String {
    let (_, body) = world
        .json(
            reqwest::Method::POST,
            token,
            "/api/connections/x/authorize",
            None,
        )
        .await;
    let back = x
        .authorize_directly(body["url"].as_str().unwrap(), "shopkeeper")
        .unwrap();
    world.come_back(token, &back).await;
    let (_, overview) = world
        .json(reqwest::Method::GET, token, "/api/connections", None)
        .await;
    overview["connections"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}
