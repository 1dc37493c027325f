//! Post templates over the REST API and the Templates page: saved, listed, changed and deleted; names unique per
//! person whatever their case; the text rules of a post; started with a synced Shopify
//! product (every variable filled, `{date}` in the person's time zone) or without one (the
//! product's variables left and named); an account disconnected since left out and said so;
//! and another person's templates out of reach.
//!
//! The Templates page's own forms choose a template's accounts and product check.
//!
//! Connecting a Shopify shop and waiting for its sync is written here again, leanly: the
//! helpers in `common/stores.rs` belong to a world of three stores.

mod common;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use common::{Backend, PASSWORD, TestApp, error_body};
use server::sandbox::shopify::ShopifyFake;
use server::sandbox::x::XFake;

const SHOP: &str = "test-shop.myshopify.com";

/// An app with X and Shopify pointed at their fakes, its workers running (they sync shops).
struct World {
    app: TestApp,
    x: XFake,
    shopify: ShopifyFake,
    _servers: Vec<tokio::task::JoinHandle<()>>,
}

async fn world(backend: Backend) -> World {
    let x = XFake::new("x-id", "x-secret");
    let shopify = ShopifyFake::new("shopify-id", "shopify-secret");
    shopify.set_catalogue_size(12);
    let (x_addr, x_server) = server::sandbox::serve(x.router()).await.unwrap();
    let (shop_addr, shop_server) = server::sandbox::serve(shopify.router()).await.unwrap();
    let x_url = format!("http://{x_addr}");
    let shop_template = format!("http://{shop_addr}/{{shop}}");
    let vars = [
        ("X_CLIENT_ID", "x-id"),
        ("X_CLIENT_SECRET", "x-secret"),
        ("X_AUTH_URL", x_url.as_str()),
        ("X_API_URL", x_url.as_str()),
        ("SHOPIFY_CLIENT_ID", "shopify-id"),
        ("SHOPIFY_CLIENT_SECRET", "shopify-secret"),
        ("SHOPIFY_SHOP_URL_TEMPLATE", shop_template.as_str()),
        ("RATE_LIMIT_OAUTH", "1000/min"),
        ("RATE_LIMIT_API", "10000/min"),
        ("RATE_LIMIT_POST", "1000/min"),
        ("QUEUE_SWEEP_SECS", "1"),
    ];
    let app = TestApp::spawn_with(backend, &vars).await;
    World {
        app,
        x,
        shopify,
        _servers: vec![x_server, shop_server],
    }
}

impl World {
    /// A request with the session `token`, or with none.
    async fn call(
        &self,
        method: Method,
        token: Option<&str>,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut request = self.app.client.request(method, self.app.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.unwrap()
    }

    async fn json(
        &self,
        method: Method,
        token: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let response = self.call(method, Some(token), path, body).await;
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn create(&self, token: &str, template: &Value) -> Value {
        let (status, body) = self
            .json(Method::POST, token, "/api/templates", Some(template))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// `POST /api/templates/{id}/start` with `body` sent as it is (`None`: no body at all).
    async fn start(&self, token: &str, id: &str, body: Option<&str>) -> (StatusCode, Value) {
        let mut request = self
            .app
            .client
            .post(self.app.url(&format!("/api/templates/{id}/start")))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_owned());
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A new account living in `zone`, signed in; its token.
    async fn user_in(&self, zone: &str) -> String {
        let email = format!("user-{}@example.com", uuid::Uuid::new_v4().simple());
        let response = self
            .app
            .post_json(
                "/api/auth/register",
                &json!({"email": email, "password": PASSWORD, "time_zone": zone}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        self.app.token_for(&email, PASSWORD).await
    }

    /// Connects the X account `username`; its connection id.
    async fn connect_x(&self, token: &str, username: &str) -> String {
        let (status, body) = self
            .json(Method::POST, token, "/api/connections/x/authorize", None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let back = self
            .x
            .authorize_directly(body["url"].as_str().unwrap(), username)
            .unwrap();
        self.come_back(token, &back).await;
        let (_, overview) = self
            .json(Method::GET, token, "/api/connections", None)
            .await;
        overview["connections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|connection| connection["handle"] == username)
            .unwrap_or_else(|| panic!("@{username} is connected: {overview}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Follows a consent's redirect back into the app, as the browser would.
    async fn come_back(&self, token: &str, back: &str) {
        let response = self
            .app
            .client
            .get(back)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_redirection(), "{}", response.status());
    }

    /// Connects the Shopify shop, waits for its first sync and returns one of its products
    /// that is on sale (so it has a storefront address).
    async fn product_on_sale(&self, token: &str) -> Value {
        let (status, body) = self
            .json(
                Method::POST,
                token,
                "/api/stores/shopify/authorize",
                Some(&json!({"shop": "test-shop"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let back = self
            .shopify
            .authorize_directly(body["url"].as_str().unwrap(), SHOP)
            .unwrap();
        self.come_back(token, &back).await;
        self.synced(token).await;
        let (status, listed) = self.json(Method::GET, token, "/api/products", None).await;
        assert_eq!(status, StatusCode::OK, "{listed}");
        listed["products"]
            .as_array()
            .unwrap()
            .iter()
            .find(|product| product["url"].is_string())
            .unwrap_or_else(|| panic!("a product on sale: {listed}"))
            .clone()
    }

    /// Waits until the person's one store has finished a sync.
    async fn synced(&self, token: &str) {
        for _ in 0..600 {
            let (_, overview) = self.json(Method::GET, token, "/api/stores", None).await;
            let sync = &overview["stores"][0]["sync"];
            if sync["running"] == false && !sync["last_synced_at"].is_null() {
                return;
            }
            assert!(sync["last_error"].is_null(), "the sync failed: {overview}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the shop's sync did not end");
    }
}

/// How the test writes a day, by chrono's own formatting: an oracle apart from the server's.
fn written_today_in(zone: chrono_tz::Tz) -> String {
    chrono::Utc::now()
        .with_timezone(&zone)
        .format("%-d %B %Y")
        .to_string()
}

async fn templates_are_saved_listed_changed_and_deleted(backend: Backend) {
    let world = world(backend).await;
    let (_, token) = world.app.signed_in_user().await;
    let account = world.connect_x(&token, "kiln").await;
    let weekly = world
        .create(
            &token,
            &json!({
                "name": "  Weekly sale ",
                "text": "New this week: {title} for {price}\n{url}",
                "options": {
                    "targets": [{"connection_id": account, "text": "{title} {price}"}],
                    "check_product": false,
                },
            }),
        )
        .await;
    assert_eq!(weekly["name"], "Weekly sale", "the name is trimmed");
    assert_eq!(weekly["text"], "New this week: {title} for {price}\n{url}");
    assert_eq!(weekly["options"]["targets"][0]["connection_id"], account);
    assert_eq!(weekly["options"]["targets"][0]["text"], "{title} {price}");
    assert_eq!(weekly["options"]["check_product"], false);
    let id = weekly["id"].as_str().unwrap();
    // Options left out are no accounts, with the product checked.
    let autumn = world
        .create(
            &token,
            &json!({"name": "autumn", "text": "Leaves on {date}"}),
        )
        .await;
    assert_eq!(
        autumn["options"],
        json!({"targets": [], "check_product": true})
    );

    let (status, listed) = world
        .json(Method::GET, &token, "/api/templates", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|template| template["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["autumn", "Weekly sale"], "by name, case aside");
    let path = format!("/api/templates/{id}");
    let (status, read) = world.json(Method::GET, &token, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, weekly);

    let change =
        json!({"name": "Weekly deals", "text": "Deals: {title}", "options": {"targets": []}});
    let (status, changed) = world.json(Method::PUT, &token, &path, Some(&change)).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["id"], weekly["id"]);
    assert_eq!(changed["name"], "Weekly deals");
    assert_eq!(changed["text"], "Deals: {title}");
    assert_eq!(changed["options"]["targets"], json!([]));
    assert_eq!(changed["options"]["check_product"], true);
    assert_eq!(changed["created_at"], weekly["created_at"]);
    let (_, read) = world.json(Method::GET, &token, &path, None).await;
    assert_eq!(read, changed, "the change was stored");

    let response = world
        .call(Method::DELETE, Some(token.as_str()), &path, None)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = world
        .call(Method::GET, Some(token.as_str()), &path, None)
        .await;
    error_body(response, StatusCode::NOT_FOUND).await;
    let response = world
        .call(Method::DELETE, Some(token.as_str()), &path, None)
        .await;
    error_body(response, StatusCode::NOT_FOUND).await;
    let (_, listed) = world
        .json(Method::GET, &token, "/api/templates", None)
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["name"], "autumn");
}

async fn a_name_is_taken_whatever_its_case(backend: Backend) {
    let world = world(backend).await;
    let ((_, ann), (_, bob)) = world.app.two_users().await;
    let sale = world
        .create(&ann, &json!({"name": "Weekly sale", "text": "A"}))
        .await;
    let response = world
        .call(
            Method::POST,
            Some(ann.as_str()),
            "/api/templates",
            Some(&json!({"name": " weekly SALE", "text": "B"})),
        )
        .await;
    let error = error_body(response, StatusCode::CONFLICT).await;
    assert_eq!(error["code"], "conflict");
    assert!(
        error["message"].as_str().unwrap().contains("weekly SALE"),
        "{error}"
    );

    // Renaming another template onto the name clashes too; a template may change its own
    // name's case.
    let other = world.create(&ann, &json!({"name": "Other"})).await;
    let other_path = format!("/api/templates/{}", other["id"].as_str().unwrap());
    let response = world
        .call(
            Method::PUT,
            Some(ann.as_str()),
            &other_path,
            Some(&json!({"name": "WEEKLY SALE"})),
        )
        .await;
    error_body(response, StatusCode::CONFLICT).await;
    let sale_path = format!("/api/templates/{}", sale["id"].as_str().unwrap());
    let (status, renamed) = world
        .json(
            Method::PUT,
            &ann,
            &sale_path,
            Some(&json!({"name": "Weekly Sale", "text": "A"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(renamed["name"], "Weekly Sale");

    // Names are unique per person, not across people.
    world
        .create(&bob, &json!({"name": "weekly sale", "text": "Bob's"}))
        .await;
}

async fn a_template_follows_the_rules_of_a_post(backend: Backend) {
    let world = world(backend).await;
    let (_, token) = world.app.signed_in_user().await;
    let account = world.connect_x(&token, "kiln").await;
    let unknown_account = uuid::Uuid::new_v4().to_string();
    let refused = [
        (json!({"name": "Long", "text": "x".repeat(10_001)}), "text"),
        (json!({"name": "Bell", "text": "Ding\u{7}"}), "text"),
        (json!({"name": "", "text": "Nameless"}), "name"),
        (json!({"name": "   ", "text": "Nameless"}), "name"),
        (json!({"name": "n".repeat(81)}), "name"),
        (
            json!({"name": "Own text", "options": {"targets": [{"connection_id": account, "text": "y".repeat(10_001)}]}}),
            "targets",
        ),
        (
            json!({"name": "Twice", "options": {"targets": [{"connection_id": account}, {"connection_id": account}]}}),
            "targets",
        ),
        (
            json!({"name": "Stranger", "options": {"targets": [{"connection_id": unknown_account}]}}),
            "targets",
        ),
    ];
    for (body, field) in refused {
        let response = world
            .call(
                Method::POST,
                Some(token.as_str()),
                "/api/templates",
                Some(&body),
            )
            .await;
        let error = error_body(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(error["field"], field, "{error}");
    }
    let (_, listed) = world
        .json(Method::GET, &token, "/api/templates", None)
        .await;
    assert_eq!(listed, json!([]), "nothing refused was kept");

    // The limits are in characters, as for a post, and lines and tabs are text.
    let longest = world
        .create(
            &token,
            &json!({"name": "é".repeat(80), "text": format!("{}\n\t", "é".repeat(9_998))}),
        )
        .await;
    assert_eq!(longest["text"].as_str().unwrap().chars().count(), 10_000);
    // A body that is not a template is the caller's mistake, not a rule broken.
    let response = world
        .call(
            Method::POST,
            Some(token.as_str()),
            "/api/templates",
            Some(&json!({"text": "No name"})),
        )
        .await;
    error_body(response, StatusCode::BAD_REQUEST).await;
}

async fn starting_with_a_product_fills_every_variable(backend: Backend) {
    let world = world(backend).await;
    let zone = chrono_tz::Pacific::Kiritimati;
    let token = world.user_in(zone.name()).await;
    let account = world.connect_x(&token, "kiln").await;
    let product = world.product_on_sale(&token).await;
    let template = world
        .create(
            &token,
            &json!({
                "name": "Launch",
                "text": "{title} for {price} at {store}: {url} ({date}) {mood}",
                "options": {"targets": [{"connection_id": account, "text": "Only {price} on {date}"}]},
            }),
        )
        .await;
    let id = template["id"].as_str().unwrap();
    let product_id = product["id"].as_str().unwrap();
    let body = json!({ "product": product_id }).to_string();

    let day_before = written_today_in(zone);
    let (status, start) = world.start(&token, id, Some(body.as_str())).await;
    let day_after = written_today_in(zone);
    assert_eq!(status, StatusCode::OK, "{start}");
    let (title, price, url, store) = (
        product["title"].as_str().unwrap(),
        product["price"].as_str().unwrap(),
        product["url"].as_str().unwrap(),
        product["store_name"].as_str().unwrap(),
    );
    // Midnight in Kiritimati may fall between the two readings of the clock.
    let text = start["text"].as_str().unwrap();
    let expected = |day: &str| format!("{title} for {price} at {store}: {url} ({day}) {{mood}}");
    assert!(
        text == expected(&day_before) || text == expected(&day_after),
        "{text}"
    );
    let own = start["options"]["targets"][0]["text"].as_str().unwrap();
    assert!(
        own == format!("Only {price} on {day_before}")
            || own == format!("Only {price} on {day_after}"),
        "{own}"
    );
    assert_eq!(start["options"]["targets"][0]["connection_id"], account);
    assert_eq!(start["product_id"], product["id"]);
    assert_eq!(start["template_id"], template["id"]);
    assert_eq!(start["notes"], json!([]), "{start}");
    let (_, unchanged) = world
        .json(Method::GET, &token, &format!("/api/templates/{id}"), None)
        .await;
    assert_eq!(unchanged, template, "starting stores nothing");

    // What comes back is a post as it is.
    let post = json!({
        "text": start["text"],
        "targets": start["options"]["targets"],
        "product_id": start["product_id"],
        "check_product": start["options"]["check_product"],
        "schedule": "draft",
    });
    let (status, created) = world
        .json(Method::POST, &token, "/api/posts", Some(&post))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["text"], start["text"]);
    assert_eq!(created["product_id"], product["id"]);

    // Another person's product is not found, even from their own template.
    let other = world.user_in("UTC").await;
    let theirs = world
        .create(&other, &json!({"name": "Mine", "text": "{title}"}))
        .await;
    let (status, refused) = world
        .start(&other, theirs["id"].as_str().unwrap(), Some(body.as_str()))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{refused}");
}

async fn starting_without_a_product_leaves_its_variables_and_names_them(backend: Backend) {
    let world = world(backend).await;
    let token = world.user_in("UTC").await;
    let template = world
        .create(
            &token,
            &json!({"name": "Back soon", "text": "{title} is back on {date}. {url} {later}"}),
        )
        .await;
    let id = template["id"].as_str().unwrap();
    for body in [None, Some(""), Some("{}"), Some(r#"{"product": null}"#)] {
        let day_before = written_today_in(chrono_tz::UTC);
        let (status, start) = world.start(&token, id, body).await;
        let day_after = written_today_in(chrono_tz::UTC);
        assert_eq!(status, StatusCode::OK, "{body:?}: {start}");
        let text = start["text"].as_str().unwrap();
        let expected = |day: &str| format!("{{title}} is back on {day}. {{url}} {{later}}");
        assert!(
            text == expected(&day_before) || text == expected(&day_after),
            "{text}"
        );
        assert!(start["product_id"].is_null(), "{start}");
        assert_eq!(
            start["notes"],
            json!(["Left as written until a product is chosen: {title} and {url}."])
        );
    }

    let (status, _) = world.start(&token, id, Some("nope")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let missing = json!({"product": uuid::Uuid::new_v4()}).to_string();
    let (status, _) = world.start(&token, id, Some(missing.as_str())).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a product that does not exist"
    );
}

async fn an_account_disconnected_since_is_left_out_with_a_note(backend: Backend) {
    let world = world(backend).await;
    let (_, token) = world.app.signed_in_user().await;
    let kept = world.connect_x(&token, "kiln").await;
    let dropped = world.connect_x(&token, "kiln_outlet").await;
    let template = world
        .create(
            &token,
            &json!({
                "name": "Both",
                "text": "Hello",
                "options": {"targets": [
                    {"connection_id": kept, "options": {"reply_settings": "following"}},
                    {"connection_id": dropped},
                ]},
            }),
        )
        .await;
    let response = world
        .call(
            Method::DELETE,
            Some(token.as_str()),
            &format!("/api/connections/{dropped}"),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let id = template["id"].as_str().unwrap();
    let (status, start) = world.start(&token, id, None).await;
    assert_eq!(status, StatusCode::OK, "{start}");
    assert_eq!(
        start["options"]["targets"],
        json!([{"connection_id": kept, "options": {"reply_settings": "following"}}]),
        "the account left keeps its options: {start}"
    );
    assert_eq!(
        start["notes"],
        json!(["An account this template posts to is no longer connected, so it was left out."])
    );
    // The template itself is left as it was saved.
    let (_, saved) = world
        .json(Method::GET, &token, &format!("/api/templates/{id}"), None)
        .await;
    assert_eq!(saved["options"]["targets"].as_array().unwrap().len(), 2);
}

async fn another_persons_templates_are_not_found(backend: Backend) {
    let world = world(backend).await;
    let ((_, ann), (_, bob)) = world.app.two_users().await;
    let template = world
        .create(&ann, &json!({"name": "Ann's", "text": "Private {date}"}))
        .await;
    let path = format!("/api/templates/{}", template["id"].as_str().unwrap());
    let change = json!({"name": "Bob's now", "text": "Mine"});
    let calls = [
        (Method::GET, path.clone(), None),
        (Method::PUT, path.clone(), Some(change)),
        (Method::DELETE, path.clone(), None),
        (Method::POST, format!("{path}/start"), None),
    ];
    for (method, route, body) in calls {
        let response = world
            .call(method.clone(), Some(bob.as_str()), &route, body.as_ref())
            .await;
        let error = error_body(response, StatusCode::NOT_FOUND).await;
        assert_eq!(error["code"], "not_found", "{method} {route}");
    }
    let (_, listed) = world.json(Method::GET, &bob, "/api/templates", None).await;
    assert_eq!(listed, json!([]));
    let (status, still) = world.json(Method::GET, &ann, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(still, template, "Bob changed nothing");
}

async fn templates_need_a_session(backend: Backend) {
    let world = world(backend).await;
    let (_, ann) = world.app.signed_in_user().await;
    let template = world.create(&ann, &json!({"name": "Ann's"})).await;
    let path = format!("/api/templates/{}", template["id"].as_str().unwrap());
    let body = json!({"name": "Anyone's"});
    let calls = [
        (Method::GET, "/api/templates".to_owned(), None),
        (
            Method::POST,
            "/api/templates".to_owned(),
            Some(body.clone()),
        ),
        (Method::GET, path.clone(), None),
        (Method::PUT, path.clone(), Some(body)),
        (Method::DELETE, path.clone(), None),
        (Method::POST, format!("{path}/start"), None),
    ];
    for (method, route, body) in calls {
        let response = world.call(method, None, &route, body.as_ref()).await;
        error_body(response, StatusCode::UNAUTHORIZED).await;
    }
    let (status, still) = world.json(Method::GET, &ann, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(still, template);
}

impl World {
    /// Posts the Templates page's form to `path` as a browser without JavaScript does, signed
    /// in; where the browser is sent.
    async fn page_form(&self, token: &str, path: &str, form: &[(&str, &str)]) -> String {
        let response = self
            .app
            .client
            .post(self.app.url(path))
            .header(
                reqwest::header::COOKIE,
                format!("picscripter_session={token}"),
            )
            .header(reqwest::header::ACCEPT, "text/html")
            .header(reqwest::header::REFERER, self.app.url("/templates"))
            .form(form)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_redirection(), "{}", response.status());
        response.headers()[reqwest::header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned()
    }

    /// The page at `path` (or at a whole URL of the app, as a redirect names it), signed in.
    async fn page(&self, token: &str, path: &str) -> String {
        let origin = self.app.url("");
        let path = path.strip_prefix(origin.as_str()).unwrap_or(path);
        let page = self.app.get_page(path, Some(token)).await;
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        page.text().await.unwrap()
    }

    async fn only_template(&self, token: &str) -> Value {
        let (_, listed) = self.json(Method::GET, token, "/api/templates", None).await;
        assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
        listed[0].clone()
    }
}

/// Whether the "New template" form's box for the account `id` is ticked.
fn ticked(page: &str, id: &str) -> bool {
    let page = &page[page
        .find("new-template-title")
        .expect("the new template's form")..];
    let at = page
        .find(&format!("value=\"{id}\""))
        .unwrap_or_else(|| panic!("a box for {id}"));
    let tag = &page[at..at + page[at..].find('>').unwrap()];
    tag.contains("checked")
}

async fn the_templates_page_chooses_accounts_and_the_product_check(backend: Backend) {
    let world = world(backend).await;
    let token = world.user_in("Europe/Berlin").await;
    let kiln = world.connect_x(&token, "kiln").await;
    let shed = world.connect_x(&token, "shed").await;

    // The new template's form offers every connected account.
    let page = world.page(&token, "/templates").await;
    assert!(page.contains("@kiln on X") && page.contains("@shed on X"));
    assert!(!ticked(&page, &kiln) && !ticked(&page, &shed));

    // Made on the page with one account and without the product check.
    let landed = world
        .page_form(
            &token,
            "/rpc/templates/create",
            &[
                ("name", "Launch"),
                ("text", "New: {title}"),
                ("account_ids[0]", &kiln),
            ],
        )
        .await;
    assert!(landed.starts_with("/templates?saved=Launch"), "{landed}");
    let template = world.only_template(&token).await;
    assert_eq!(
        template["options"]["targets"],
        json!([{"connection_id": kiln}])
    );
    assert_eq!(template["options"]["check_product"], false);
    let id = template["id"].as_str().unwrap().to_owned();

    // Kiln gets a text of its own, as "Save as template" on a post gives it.
    let (status, _) = world
        .json(
            Method::PUT,
            &token,
            &format!("/api/templates/{id}"),
            Some(&json!({
                "name": "Launch",
                "text": "New: {title}",
                "options": {"targets": [{"connection_id": kiln, "text": "Kiln only"}], "check_product": false},
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // Edited on the page: Kiln kept (with its text), Shed added, the product checked.
    world
        .page_form(
            &token,
            "/rpc/templates/update",
            &[
                ("id", &id),
                ("name", "Launch"),
                ("text", "New: {title} at {store}"),
                ("account_ids[0]", &kiln),
                ("account_ids[1]", &shed),
                ("check_product", "true"),
            ],
        )
        .await;
    let template = world.only_template(&token).await;
    assert_eq!(template["text"], "New: {title} at {store}");
    assert_eq!(
        template["options"]["targets"],
        json!([{"connection_id": kiln, "text": "Kiln only"}, {"connection_id": shed}])
    );
    assert_eq!(template["options"]["check_product"], true);
    let page = world.page(&token, "/templates").await;
    assert!(page.contains("Posts to @kiln on X, @shed on X"), "{page}");

    // Every box unticked: no accounts, and the product check off.
    world
        .page_form(
            &token,
            "/rpc/templates/update",
            &[("id", &id), ("name", "Launch"), ("text", "New: {title}")],
        )
        .await;
    let template = world.only_template(&token).await;
    assert_eq!(template["options"]["targets"], json!([]));
    assert_eq!(template["options"]["check_product"], false);

    // A refused new template comes back with its accounts still ticked, and nothing saved.
    let back = world
        .page_form(
            &token,
            "/rpc/templates/create",
            &[
                ("name", "launch"),
                ("text", "Again"),
                ("account_ids[0]", &shed),
            ],
        )
        .await;
    let page = world.page(&token, &back).await;
    assert!(page.contains("already"), "{back}");
    assert!(page.contains("value=\"Again\"") || page.contains(">Again</textarea>"));
    assert!(ticked(&page, &shed) && !ticked(&page, &kiln), "{back}");
    world.only_template(&token).await;

    // A box for an account that is not the person's is refused by name.
    let back = world
        .page_form(
            &token,
            "/rpc/templates/create",
            &[
                ("name", "Stray"),
                ("text", "x"),
                ("account_ids[0]", "not-an-id"),
            ],
        )
        .await;
    let page = world.page(&token, &back).await;
    assert!(page.contains("Choose accounts from the list."), "{back}");
    world.only_template(&token).await;
}

#[test]
fn the_template_routes_are_documented() {
    let document = serde_json::to_value(server::http::api::openapi()).unwrap();
    let paths = &document["paths"];
    for (path, methods) in [
        ("/api/templates", &["get", "post"][..]),
        ("/api/templates/{id}", &["get", "put", "delete"][..]),
        ("/api/templates/{id}/start", &["post"][..]),
    ] {
        for method in methods {
            assert!(
                paths[path][*method].is_object(),
                "{method} {path} is documented"
            );
        }
    }
    for schema in [
        "Template",
        "NewTemplate",
        "TemplateOptions",
        "TemplateStart",
        "StartTemplate",
    ] {
        assert!(
            document["components"]["schemas"][schema].is_object(),
            "{schema} is described"
        );
    }
}

on_both_databases!(
    templates_are_saved_listed_changed_and_deleted,
    a_name_is_taken_whatever_its_case,
    a_template_follows_the_rules_of_a_post,
    starting_with_a_product_fills_every_variable,
    starting_without_a_product_leaves_its_variables_and_names_them,
    an_account_disconnected_since_is_left_out_with_a_note,
    another_persons_templates_are_not_found,
    templates_need_a_session,
    the_templates_page_chooses_accounts_and_the_product_check,
);
