//! Malformed requests get a 4xx with a JSON message, never a 500 or a dropped connection.

mod common;

use reqwest::{StatusCode, header};
use serde_json::json;

use common::{Backend, PASSWORD, TestApp, error_body};

async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    let mut request = app.client.post(app.url(path)).body(body);
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn malformed_json_is_a_bad_request_that_says_why() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let response = post_raw(
        &app,
        "/api/auth/login",
        Some("application/json"),
        "{\"email\": ",
    )
    .await;
    let error = error_body(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(error["code"], "bad_request");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON"),
        "{error}"
    );
}

#[tokio::test]
async fn wrong_types_and_missing_fields_name_the_field() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let error = error_body(
        app.post_json(
            "/api/auth/login",
            &json!({"email": 42, "password": PASSWORD}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        error["message"].as_str().unwrap().contains("email"),
        "{error}"
    );
    let error = error_body(
        app.post_json("/api/auth/login", &json!({"email": "a@b.co"}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        error["message"].as_str().unwrap().contains("password"),
        "{error}"
    );
    let error = error_body(
        app.post_json("/api/auth/login", &json!([1, 2])).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error["code"], "bad_request");
}

#[tokio::test]
async fn a_body_without_the_json_content_type_is_refused_politely() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let response = post_raw(&app, "/api/auth/login", None, "{}").await;
    let error = error_body(response, StatusCode::BAD_REQUEST).await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("Content-Type: application/json"),
        "{error}"
    );
}

#[tokio::test]
async fn an_oversized_body_is_413_with_the_limit() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let huge = format!(
        "{{\"email\":\"{}\",\"password\":\"x\"}}",
        "a".repeat(100 * 1024)
    );
    let error = error_body(
        post_raw(&app, "/api/auth/login", Some("application/json"), huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert_eq!(error["code"], "payload_too_large");
    assert!(
        error["message"].as_str().unwrap().contains("65536"),
        "{error}"
    );
}

#[tokio::test]
async fn unknown_api_paths_and_methods_answer_in_json() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let response = app
        .client
        .get(app.url("/api/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_body(response, StatusCode::NOT_FOUND).await["code"],
        "not_found"
    );
    let response = app
        .client
        .get(app.url("/api/auth/login"))
        .send()
        .await
        .unwrap();
    let allow = response.headers()[header::ALLOW]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(allow.contains("POST"), "{allow}");
    let error = error_body(response, StatusCode::METHOD_NOT_ALLOWED).await;
    assert_eq!(error["code"], "method_not_allowed");
}

#[tokio::test]
async fn the_auth_tier_answers_429_with_retry_after() {
    let app = TestApp::spawn_with(Backend::Sqlite, &[("RATE_LIMIT_AUTH", "3/min")]).await;
    for _ in 0..3 {
        assert_ne!(
            app.login("a@b.co", "whatever1").await.status(),
            StatusCode::TOO_MANY_REQUESTS
        );
    }
    let response = app.login("a@b.co", "whatever1").await;
    let retry_after: u64 = response.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&retry_after), "{retry_after}");
    assert_eq!(
        error_body(response, StatusCode::TOO_MANY_REQUESTS).await["code"],
        "rate_limited"
    );
    // Other tiers are counted separately.
    assert_eq!(
        app.client
            .get(app.url("/api/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn server_function_arguments_that_do_not_decode_are_a_bad_request() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let response = app
        .client
        .post(app.url("/rpc/account/sign-in"))
        .header(header::ACCEPT, "application/json")
        .form(&[("nothing", "useful")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn server_functions_get_limit_errors_in_the_shape_their_client_decodes() {
    let app = TestApp::spawn_with(Backend::Sqlite, &[("RATE_LIMIT_AUTH", "1/min")]).await;
    let sign_in = || {
        app.client
            .post(app.url("/rpc/account/sign-in"))
            .header(header::ACCEPT, "application/json")
            .form(&[("email", "a@b.co"), ("password", "whatever1")])
            .send()
    };
    assert_eq!(sign_in().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let limited = sign_in().await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key(header::RETRY_AFTER));
    let body: serde_json::Value = limited.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited", "{body}");

    let huge = "x".repeat(300 * 1024);
    let too_big = app
        .client
        .post(app.url("/rpc/settings/profile"))
        .header(header::ACCEPT, "application/json")
        .form(&[("display_name", huge.as_str()), ("time_zone", "UTC")])
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = too_big.json().await.unwrap();
    assert_eq!(body["code"], "payload_too_large", "{body}");
}

/// A query that cannot run (here: its table is gone) is our bug, so 500. A database that is
/// down is an outage, answered 503 with Retry-After: see `tests/outage.rs`.
#[tokio::test]
async fn a_query_that_cannot_run_is_a_500_that_names_the_request_and_hides_the_cause() {
    use sea_orm::{ConnectionTrait, Database};
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, token) = app.signed_in_user().await;
    let file = app.data_dir.join("picscripter.db");
    let db = Database::connect(format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    db.execute_unprepared("DROP TABLE sessions").await.unwrap();

    let response = app.me(&token).await;
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let error = error_body(response, StatusCode::INTERNAL_SERVER_ERROR).await;
    assert_eq!(error["code"], "internal");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains(&request_id), "{message}");
    assert!(
        !message.contains("sessions") && !message.to_lowercase().contains("sql"),
        "{message}"
    );
}
