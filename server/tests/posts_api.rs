//! The posts and media REST API without publishing in the way: the app has X configured
//! against the fake but runs no workers, so what the API stores can be looked at as it is.
//! Validation, scheduling in the user's time zone, idempotency keys, editing, duplicating,
//! listing with filters and cursors, media checks, and isolation between users.

mod common;

use std::io::Cursor;

use reqwest::multipart::{Form, Part};
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use common::{Backend, TestApp, error_body};
use server::sandbox::x::XFake;

struct Api {
    app: TestApp,
    fake: XFake,
    _fake_server: tokio::task::JoinHandle<()>,
}

async fn api(backend: Backend) -> Api {
    let (app, fake, fake_server) = TestApp::spawn_with_x_and_no_workers(backend).await;
    Api {
        app,
        fake,
        _fake_server: fake_server,
    }
}

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut request = self
            .app
            .client
            .request(method, self.app.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.unwrap()
    }

    async fn json(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let response = self.call(method, token, path, body).await;
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn connect(&self, token: &str, username: &str) -> String {
        let (_, body) = self
            .json(
                reqwest::Method::POST,
                token,
                "/api/connections/x/authorize",
                None,
            )
            .await;
        let back = self
            .fake
            .authorize_directly(body["url"].as_str().unwrap(), username)
            .unwrap();
        let response = self
            .app
            .client
            .get(back)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_redirection());
        let (_, overview) = self
            .json(reqwest::Method::GET, token, "/api/connections", None)
            .await;
        overview["connections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["handle"] == username)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn upload(&self, token: &str, name: &str, bytes: Vec<u8>) -> reqwest::Response {
        let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()));
        self.app
            .client
            .post(self.app.url("/api/media"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    async fn create(&self, token: &str, body: &Value) -> (StatusCode, Value) {
        self.json(reqwest::Method::POST, token, "/api/posts", Some(body))
            .await
    }
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_pixel(width, height, image::Rgb([10, 120, 200]));
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    bytes
}

async fn images_are_checked_by_content(backend: Backend) {
    let api = api(backend).await;
    let (_, token) = api.app.signed_in_user().await;
    let response = api.upload(&token, "mug.png", png(40, 30)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let item: Value = response.json().await.unwrap();
    assert_eq!(
        (
            item["mime"].as_str(),
            item["width"].as_u64(),
            item["height"].as_u64()
        ),
        (Some("image/png"), Some(40), Some(30))
    );
    let file = api
        .app
        .client
        .get(api.app.url(item["url"].as_str().unwrap()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(file.headers()["content-type"], "image/png");
    assert_eq!(file.bytes().await.unwrap().to_vec(), png(40, 30));

    // A text file named .jpg, and a PNG cut in half, are refused with a reason.
    let fake = api
        .upload(&token, "photo.jpg", b"just some text".to_vec())
        .await;
    let body = error_body(fake, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["field"], "file");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("neither an image (JPEG, PNG, WebP, GIF) nor a video")
    );
    let mut cut = png(64, 64);
    cut.truncate(cut.len() / 2);
    let body = error_body(
        api.upload(&token, "cut.png", cut).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        body["message"].as_str().unwrap().contains("damaged"),
        "{body}"
    );

    let (_, list) = api
        .json(reqwest::Method::GET, &token, "/api/media", None)
        .await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "refused files are not kept"
    );

    // A file used by a post cannot be deleted from under it.
    let connection = api.connect(&token, "lister").await;
    let (status, _) = api
        .create(&token, &json!({ "text": "With image", "media_ids": [item["id"]], "targets": [{ "connection_id": connection }], "schedule": "draft" }))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let response = api
        .call(
            reqwest::Method::DELETE,
            &token,
            &format!("/api/media/{}", item["id"].as_str().unwrap()),
            None,
        )
        .await;
    let body = error_body(response, StatusCode::CONFLICT).await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("A post uses this image")
    );
}

async fn a_post_over_the_limit_or_without_accounts_is_refused(backend: Backend) {
    let api = api(backend).await;
    let (_, token) = api.app.signed_in_user().await;
    let connection = api.connect(&token, "wordy").await;
    let (status, body) = api
        .create(&token, &json!({ "text": "é".repeat(281), "targets": [{ "connection_id": connection }], "schedule": "now" }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "text");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("281 characters as X counts them"),
        "{body}"
    );
    // Emoji count two: 141 of them are 282.
    let (status, _) = api
        .create(&token, &json!({ "text": "🙂".repeat(141), "targets": [{ "connection_id": connection }], "schedule": "now" }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = api
        .create(&token, &json!({ "text": "🙂".repeat(140), "targets": [{ "connection_id": connection }], "schedule": "now" }))
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, body) = api
        .create(
            &token,
            &json!({ "text": "Nobody", "targets": [], "schedule": "now" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "targets");
    let (status, body) = api
        .create(&token, &json!({ "text": "Nobody", "schedule": "tomorrow" }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let past = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let (status, body) = api
        .create(&token, &json!({ "text": "Too late", "targets": [{ "connection_id": connection }], "schedule": { "at": past } }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already passed")
    );
}

async fn local_times_follow_the_users_time_zone_and_its_dst(backend: Backend) {
    let api = api(backend).await;
    let (_, token) = api.app.signed_in_user().await;
    let response = api
        .app
        .server_fn(
            "/rpc/settings/profile",
            &token,
            &[("display_name", ""), ("time_zone", "Europe/Berlin")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let connection = api.connect(&token, "berliner").await;
    let year = chrono::Utc::now().year() + 1;
    let schedule = |local: String| json!({ "text": format!("At {local}"), "targets": [{ "connection_id": connection }], "schedule": { "local": local } });

    let (status, post) = api
        .create(&token, &schedule(format!("{year}-07-01T09:30")))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    assert_eq!(
        post["scheduled_at"],
        format!("{year}-07-01T07:30:00Z"),
        "summer time is UTC+2"
    );

    // The last Sunday of March: 02:00 to 03:00 does not exist in Berlin.
    let gap = last_sunday(year, 3);
    let (status, body) = api.create(&token, &schedule(format!("{gap}T02:30"))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("does not exist")
            && message.contains("02:00")
            && message.contains("03:00"),
        "{message}"
    );

    // The last Sunday of October: 02:30 happens twice; the first one is taken and said.
    let overlap = last_sunday(year, 10);
    let (status, post) = api
        .create(&token, &schedule(format!("{overlap}T02:30")))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(post["scheduled_at"], format!("{overlap}T00:30:00Z"));
    assert!(post["notice"].as_str().unwrap().contains("happens twice"));
}

fn last_sunday(year: i32, month: u32) -> chrono::NaiveDate {
    use chrono::Datelike;
    let mut day = chrono::NaiveDate::from_ymd_opt(year, month + 1, 1)
        .unwrap()
        .pred_opt()
        .unwrap();
    while day.weekday() != chrono::Weekday::Sun {
        day = day.pred_opt().unwrap();
    }
    day
}

use chrono::Datelike;

async fn an_idempotency_key_makes_one_post(backend: Backend) {
    let api = api(backend).await;
    let (_, token) = api.app.signed_in_user().await;
    let connection = api.connect(&token, "careful").await;
    let body = json!({ "text": "Once", "targets": [{ "connection_id": connection }], "schedule": "draft" });
    let send = |body: Value| {
        api.app
            .client
            .post(api.app.url("/api/posts"))
            .bearer_auth(&token)
            .header("Idempotency-Key", "order-42")
            .json(&body)
            .send()
    };
    let (first, second) = tokio::join!(send(body.clone()), send(body.clone()));
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(
        (first.status(), second.status()),
        (StatusCode::CREATED, StatusCode::CREATED)
    );
    let first: Value = first.json().await.unwrap();
    let second: Value = second.json().await.unwrap();
    assert!(first["id"].is_string());
    assert_eq!(first["id"], second["id"]);
    let (status, page) = api
        .json(reqwest::Method::GET, &token, "/api/posts", None)
        .await;
    assert_eq!(
        page["items"].as_array().map(Vec::len),
        Some(1),
        "{status} {page}"
    );

    let response = send(json!({ "text": "Something else", "targets": [{ "connection_id": connection }], "schedule": "draft" }))
        .await
        .unwrap();
    let error = error_body(response, StatusCode::CONFLICT).await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("different request")
    );
}

async fn posts_are_edited_duplicated_and_listed(backend: Backend) {
    let api = api(backend).await;
    let (_, token) = api.app.signed_in_user().await;
    let one = api.connect(&token, "first_acct").await;
    let two = api.connect(&token, "second_acct").await;
    let later = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
    let (_, post) = api
        .create(&token, &json!({ "text": "Draft", "targets": [{ "connection_id": one }, { "connection_id": two, "text": "Own words" }], "schedule": "draft" }))
        .await;
    assert_eq!(post["targets"].as_array().unwrap().len(), 2);
    assert_eq!(post["targets"][1]["text"], "Own words");
    let id = post["id"].as_str().unwrap();

    let (status, edited) = api
        .json(reqwest::Method::PATCH, &token, &format!("/api/posts/{id}"), Some(&json!({ "text": "Scheduled now", "targets": [{ "connection_id": two }], "schedule": { "at": later } })))
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["text"], "Scheduled now");
    assert_eq!(edited["targets"].as_array().unwrap().len(), 1);
    assert_eq!(edited["targets"][0]["status"], "scheduled");

    let (status, copy) = api
        .json(
            reqwest::Method::POST,
            &token,
            &format!("/api/posts/{id}/duplicate"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(copy["id"], post["id"]);
    assert_eq!(copy["targets"][0]["status"], "draft");

    for n in 0..30 {
        api.create(&token, &json!({ "text": format!("Filler {n}"), "targets": [{ "connection_id": one }], "schedule": "draft" }))
            .await;
    }
    let (_, page) = api
        .json(reqwest::Method::GET, &token, "/api/posts", None)
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 25);
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, rest) = api
        .json(
            reqwest::Method::GET,
            &token,
            &format!("/api/posts?cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 7);
    assert_eq!(rest["next_cursor"], Value::Null);
    // `limit` sets the page size, 1 to 100.
    let (_, twenty) = api
        .json(reqwest::Method::GET, &token, "/api/posts?limit=20", None)
        .await;
    assert_eq!(twenty["items"].as_array().unwrap().len(), 20);
    assert_eq!(twenty["items"][0]["id"], page["items"][0]["id"]);
    let cursor = twenty["next_cursor"].as_str().unwrap();
    let (_, last) = api
        .json(
            reqwest::Method::GET,
            &token,
            &format!("/api/posts?limit=20&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(last["items"].as_array().unwrap().len(), 12);
    for limit in ["0", "101", "many"] {
        let response = api
            .call(
                reqwest::Method::GET,
                &token,
                &format!("/api/posts?limit={limit}"),
                None,
            )
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "limit={limit}");
    }

    let (_, scheduled) = api
        .json(
            reqwest::Method::GET,
            &token,
            "/api/posts?status=scheduled&platform=x",
            None,
        )
        .await;
    assert_eq!(scheduled["items"].as_array().unwrap().len(), 1);
    assert_eq!(scheduled["items"][0]["id"], post["id"]);
    let from = (chrono::Utc::now() + chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M:%SZ");
    let (_, future) = api
        .json(
            reqwest::Method::GET,
            &token,
            &format!("/api/posts?from={from}"),
            None,
        )
        .await;
    assert_eq!(future["items"].as_array().unwrap().len(), 1);
    let response = api
        .call(reqwest::Method::GET, &token, "/api/posts?status=lost", None)
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = api
        .call(
            reqwest::Method::GET,
            &token,
            "/api/posts?cursor=nonsense",
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn another_user_gets_404_for_every_id(backend: Backend) {
    let api = api(backend).await;
    let ((_, owner), (_, intruder)) = api.app.two_users().await;
    let connection = api.connect(&owner, "private").await;
    let media: Value = api
        .upload(&owner, "a.png", png(8, 8))
        .await
        .json()
        .await
        .unwrap();
    let (_, post) = api
        .create(&owner, &json!({ "text": "Mine", "media_ids": [media["id"]], "targets": [{ "connection_id": connection }], "schedule": "draft" }))
        .await;
    let post_id = post["id"].as_str().unwrap();
    let target_id = post["targets"][0]["id"].as_str().unwrap();
    let media_id = media["id"].as_str().unwrap();
    let draft = json!({ "text": "Theirs", "targets": [], "schedule": "draft" });
    let routes: Vec<(reqwest::Method, String, Option<Value>)> = vec![
        (
            reqwest::Method::DELETE,
            format!("/api/connections/{connection}"),
            None,
        ),
        (
            reqwest::Method::GET,
            format!("/api/media/{media_id}/file"),
            None,
        ),
        (
            reqwest::Method::DELETE,
            format!("/api/media/{media_id}"),
            None,
        ),
        (reqwest::Method::GET, format!("/api/posts/{post_id}"), None),
        (
            reqwest::Method::PATCH,
            format!("/api/posts/{post_id}"),
            Some(draft.clone()),
        ),
        (
            reqwest::Method::POST,
            format!("/api/posts/{post_id}/duplicate"),
            None,
        ),
        (
            reqwest::Method::POST,
            format!("/api/posts/{post_id}/targets/{target_id}/retry"),
            None,
        ),
        (
            reqwest::Method::POST,
            format!("/api/posts/{post_id}/cancel"),
            None,
        ),
        (
            reqwest::Method::DELETE,
            format!("/api/posts/{post_id}"),
            None,
        ),
        (
            reqwest::Method::POST,
            "/api/posts".into(),
            Some(
                json!({ "text": "x", "targets": [{ "connection_id": connection }], "schedule": "draft" }),
            ),
        ),
        (
            reqwest::Method::POST,
            "/api/posts".into(),
            Some(
                json!({ "text": "x", "media_ids": [media_id], "targets": [], "schedule": "draft" }),
            ),
        ),
    ];
    for (method, path, body) in routes {
        let response = api
            .call(method.clone(), &intruder, &path, body.as_ref())
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
    }
    // Lists show nothing of the owner's.
    let (_, overview) = api
        .json(reqwest::Method::GET, &intruder, "/api/connections", None)
        .await;
    assert_eq!(overview["connections"], json!([]));
    let (_, media) = api
        .json(reqwest::Method::GET, &intruder, "/api/media", None)
        .await;
    assert_eq!(media, json!([]));
    let (_, posts) = api
        .json(reqwest::Method::GET, &intruder, "/api/posts", None)
        .await;
    assert_eq!(posts["items"], json!([]));
    // And the owner still has everything.
    let (status, _) = api
        .json(
            reqwest::Method::GET,
            &owner,
            &format!("/api/posts/{post_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

async fn the_new_routes_need_a_session(backend: Backend) {
    let api = api(backend).await;
    for (method, path) in [
        (reqwest::Method::GET, "/api/connections"),
        (reqwest::Method::POST, "/api/connections/x/authorize"),
        (reqwest::Method::GET, "/api/posts"),
        (reqwest::Method::POST, "/api/posts"),
        (reqwest::Method::GET, "/api/media"),
    ] {
        let response = api
            .app
            .client
            .request(method.clone(), api.app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
    }
}

/// A due post no worker has started shows as queue lag in `/metrics` and, past a minute, as a
/// warning on its owner's Posts page (and nobody else's).
async fn a_waiting_due_post_shows_as_lag(backend: Backend) {
    use sea_orm::sea_query::Expr;
    use sea_orm::{Database, EntityTrait};
    use server::db::entities::job;

    let api = api(backend).await;
    let (_, token) = api.app.signed_in_user().await;
    let (_, other) = api.app.signed_in_user().await;
    let connection = api.connect(&token, "shop_owner").await;
    let page = |token: String| {
        let api = &api;
        async move {
            api.app
                .client
                .get(api.app.url("/posts"))
                .header(header::COOKIE, format!("picscripter_session={token}"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let metrics = || async {
        let response = api
            .app
            .client
            .get(api.app.url("/metrics"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.unwrap()
    };
    let lag = |text: &str| -> f64 {
        text.lines()
            .find_map(|line| line.strip_prefix("picscripter_queue_lag_seconds "))
            .expect("the lag is exported")
            .parse()
            .unwrap()
    };

    assert_eq!(lag(&metrics().await), 0.0);
    let (status, _) = api
        .create(&token, &json!({ "text": "Due now", "targets": [{ "connection_id": connection }], "schedule": "now" }))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(
        !page(token.clone())
            .await
            .contains("Publishing is running behind")
    );

    // Five minutes later, still no worker has started it.
    let db = Database::connect(&api.app.database_url).await.unwrap();
    job::Entity::update_many()
        .col_expr(
            job::Column::DueAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(5)),
        )
        .exec(&db)
        .await
        .unwrap();
    let text = metrics().await;
    assert!((299.0..400.0).contains(&lag(&text)), "{text}");
    assert!(
        text.contains("picscripter_post_targets{status=\"scheduled\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("picscripter_post_targets{status=\"published\"} 0\n"),
        "{text}"
    );
    assert!(
        page(token).await.contains(
            "Publishing is running behind: a post due 5 minutes ago has not started yet."
        )
    );
    assert!(!page(other).await.contains("Publishing is running behind"));
}

on_both_databases!(
    a_waiting_due_post_shows_as_lag,
    images_are_checked_by_content,
    a_post_over_the_limit_or_without_accounts_is_refused,
    local_times_follow_the_users_time_zone_and_its_dst,
    an_idempotency_key_makes_one_post,
    posts_are_edited_duplicated_and_listed,
    another_user_gets_404_for_every_id,
    the_new_routes_need_a_session,
);
