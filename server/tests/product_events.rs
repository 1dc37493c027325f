//! Product events the app records about itself, where each action lands: connecting a store
//! and an account, uploading a file, composing a post, starting from a template, writing and
//! refining captions, moving a post on the calendar and opening a page. Each action leaves
//! exactly its one event, read back from `GET /api/analytics/summary`; an action that is
//! refused, repeated under its idempotency key, or done by the app itself (a store's product
//! photos fetched for a draft) leaves none.

mod common;

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use common::Backend;
use common::stores::{Selling, selling_on_x};

/// The person's events of the last 30 days, counted by name.
async fn counts(world: &Selling) -> BTreeMap<String, u64> {
    let (status, summary) = world
        .world
        .json(Method::GET, &world.token, "/api/analytics/summary", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    summary["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| {
            (
                event["name"].as_str().unwrap().to_owned(),
                event["total"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Checks that the counts are `expected` and nothing else.
async fn assert_counts(world: &Selling, expected: &[(&str, u64)], after: &str) {
    let expected: BTreeMap<String, u64> = expected
        .iter()
        .map(|(name, count)| ((*name).to_owned(), *count))
        .collect();
    assert_eq!(counts(world).await, expected, "after {after}");
}

fn png() -> Vec<u8> {
    let image = image::RgbImage::from_pixel(64, 48, image::Rgb([200, 120, 40]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

async fn upload(world: &Selling) -> Value {
    let part = Part::bytes(png())
        .file_name("mug.png")
        .mime_str("image/png")
        .unwrap();
    let response = world
        .world
        .app
        .client
        .post(world.world.app.url("/api/media"))
        .bearer_auth(&world.token)
        .multipart(Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

/// `POST /api/posts` with an idempotency key.
async fn create_post(world: &Selling, body: &Value, key: &str) -> (StatusCode, Value) {
    let response = world
        .world
        .app
        .client
        .post(world.world.app.url("/api/posts"))
        .bearer_auth(&world.token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Calls a JSON server function as the page's islands do, with the session cookie.
async fn server_fn(world: &Selling, path: &str, body: &Value) -> (StatusCode, String) {
    let response = world
        .world
        .app
        .client
        .post(world.world.app.url(path))
        .header(
            header::COOKIE,
            format!("picscripter_session={}", world.token),
        )
        .header(header::ACCEPT, "application/json")
        .json(body)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn each_action_leaves_exactly_its_one_event(backend: Backend) {
    // Signing up, connecting Shopify (its catalogue synced) and X.
    let world = selling_on_x(backend, 6).await;
    let app = &world.world.app;
    let mut expected = vec![("account_connected", 1), ("store_connected", 1)];
    assert_counts(&world, &expected, "connecting a store and an account").await;

    // A draft from a product fetches its photos into the library: the app's doing, not an
    // upload.
    let (_, products) = world
        .world
        .json(Method::GET, &world.token, "/api/products", None)
        .await;
    let product = products["products"][0]["id"].as_str().unwrap().to_owned();
    let (status, draft) = world
        .world
        .json(
            Method::POST,
            &world.token,
            &format!("/api/products/{product}/draft"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    assert_counts(&world, &expected, "a draft from a product").await;

    let media = upload(&world).await;
    expected.push(("media_uploaded", 1));
    assert_counts(&world, &expected, "an upload").await;

    // A post for the day after tomorrow, sent twice under one key: one post, one event.
    let due = (Utc::now() + Duration::days(2)).to_rfc3339();
    let post = json!({
        "text": "New mugs are in",
        "media_ids": [media["id"]],
        "targets": [{"connection_id": world.account}],
        "schedule": {"at": due},
    });
    let (status, created) = create_post(&world, &post, "mugs-1").await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (status, again) = create_post(&world, &post, "mugs-1").await;
    assert!(status.is_success(), "{again}");
    assert_eq!(again["id"], created["id"]);
    // A refused post (in the past) is not counted.
    let past = json!({
        "text": "Too late",
        "targets": [{"connection_id": world.account}],
        "schedule": {"at": "2020-01-01T10:00:00Z"},
    });
    let (status, refused) = create_post(&world, &past, "past-1").await;
    assert!(status.is_client_error(), "{refused}");
    expected.push(("post_composed", 1));
    assert_counts(&world, &expected, "composing a post").await;

    let (status, template) = world
        .world
        .json(
            Method::POST,
            &world.token,
            "/api/templates",
            Some(&json!({"name": "Launch", "text": "{title} for {price}"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{template}");
    let (status, started) = world
        .world
        .json(
            Method::POST,
            &world.token,
            &format!("/api/templates/{}/start", template["id"].as_str().unwrap()),
            Some(&json!({"product": product})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    expected.push(("template_used", 1));
    assert_counts(&world, &expected, "starting from a template").await;

    // Captions by the basic writer (no writer is configured), then the authenticity pass.
    let response = app
        .client
        .post(app.url("/api/studio/captions"))
        .bearer_auth(&world.token)
        .json(&json!({"media_ids": [media["id"]], "connection_ids": [world.account]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let stream = response.text().await.unwrap();
    assert!(stream.contains("event: done"), "{stream}");
    let (status, refined) = world
        .world
        .json(
            Method::POST,
            &world.token,
            "/api/studio/voice",
            Some(&json!({"text": "We are thrilled to unveil our game-changing mugs!"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{refined}");
    expected.push(("caption_generated", 1));
    expected.push(("caption_refined", 1));
    expected.sort();
    assert_counts(&world, &expected, "writing and refining captions").await;

    // The calendar's keyboard move in the week view.
    let moved_to = (Utc::now() + Duration::days(3)).format("%Y-%m-%dT10:00");
    let (status, answer) = server_fn(
        &world,
        "/rpc/posts/move",
        &json!({"id": created["id"], "local": moved_to.to_string(), "view": "week", "keyboard": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    // A move the server refuses (into the past) is not counted.
    let (status, answer) = server_fn(
        &world,
        "/rpc/posts/move",
        &json!({"id": created["id"], "local": "2020-01-01T10:00", "view": "month", "keyboard": false}),
    )
    .await;
    assert!(!status.is_success(), "{answer}");
    expected.push(("calendar_rescheduled", 1));
    expected.sort();
    assert_counts(&world, &expected, "moving a post on the calendar").await;

    // Two pages opened; sign-in pages, pages signed out and a page that is not there count
    // nothing.
    let post_page = format!("/posts/{}", created["id"].as_str().unwrap());
    for path in ["/calendar?view=week", post_page.as_str()] {
        let page = app.get_page(path, Some(&world.token)).await;
        assert_eq!(page.status(), StatusCode::OK, "{path}");
    }
    let login = app.get_page("/login", Some(&world.token)).await;
    assert!(login.status().is_success() || login.status().is_redirection());
    let signed_out = app.get_page("/calendar", None).await;
    assert!(!signed_out.status().is_success());
    let missing = app.get_page("/nowhere", Some(&world.token)).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    expected.push(("page_viewed", 2));
    expected.sort();
    assert_counts(&world, &expected, "opening pages").await;

    // What each event says, as stored: nothing but these properties.
    let stored = [
        ("account_connected", json!({"platform": "x"})),
        (
            "calendar_rescheduled",
            json!({"view": "week", "input": "keyboard"}),
        ),
        (
            "caption_generated",
            json!({"provider": "builtin", "images": 1}),
        ),
        ("caption_refined", json!({"pass": "authenticity"})),
        ("media_uploaded", json!({"kind": "image", "direct": false})),
        ("page_viewed", json!({"page": "calendar"})),
        ("page_viewed", json!({"page": "post"})),
        (
            "post_composed",
            json!({"platforms": 1, "scheduled": true, "media": 1}),
        ),
        ("store_connected", json!({"store": "shopify"})),
        ("template_used", json!({"with_product": true})),
    ]
    .map(|(name, properties)| (name.to_owned(), properties));
    assert_eq!(common::recorded_events(app).await, stored);
}

on_both_databases!(each_action_leaves_exactly_its_one_event);
