//! A database outage under a running server: every kind of caller gets 503 with Retry-After
//! (never a 500, never a page that answers 200 with an error text), nothing pretends to have
//! worked, and `/readyz` says so. And a database not up yet at start is waited for.

mod common;

use reqwest::{StatusCode, header};
use serde_json::Value;

use common::{TestApp, error_body};

fn retry_after(response: &reqwest::Response) -> u64 {
    response.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn the_rest_api_answers_503_with_retry_after_while_the_database_is_down() {
    let app = TestApp::spawn_with_breakable_database().await;
    let (email, token) = app.signed_in_user().await;
    app.stop_database();

    let me = app.me(&token).await;
    assert!(retry_after(&me) >= 1);
    assert_eq!(
        error_body(me, StatusCode::SERVICE_UNAVAILABLE).await["code"],
        "unavailable"
    );
    let login = app.login(&email, common::PASSWORD).await;
    let error = error_body(login, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(
        error["retry_after_secs"].as_u64().map(|s| s >= 1),
        Some(true),
        "{error}"
    );

    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = ready.json().await.unwrap();
    // Refused connections are retried until the pool gives up, which can outlast the check.
    assert!(
        matches!(
            body["checks"]["database"].as_str(),
            Some("unreachable" | "timeout")
        ),
        "{body}"
    );
}

#[tokio::test]
async fn pages_and_server_functions_answer_503_and_nobody_is_sent_to_sign_in() {
    let app = TestApp::spawn_with_breakable_database().await;
    let (_, token) = app.signed_in_user().await;
    app.stop_database();

    for path in ["/", "/settings"] {
        let page = app.get_page(path, Some(&token)).await;
        assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert!(
            page.headers().get(header::LOCATION).is_none(),
            "{path} must not redirect"
        );
        assert!(page.headers().contains_key(header::RETRY_AFTER), "{path}");
        let html = page.text().await.unwrap();
        assert!(html.contains("temporarily unavailable"), "{path}: {html}");
    }

    let me = app.server_fn("/rpc/account/me", &token, &[]).await;
    assert_eq!(me.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(me.headers().contains_key(header::RETRY_AFTER));
    let body: Value = me.json().await.unwrap();
    assert_eq!(body["code"], "unavailable", "{body}");
}

#[tokio::test]
async fn signing_out_while_the_database_is_down_says_so_and_keeps_the_session() {
    let app = TestApp::spawn_with_breakable_database().await;
    let (_, token) = app.signed_in_user().await;
    app.stop_database();

    let sign_out = app.server_fn("/rpc/account/sign-out", &token, &[]).await;
    assert_eq!(sign_out.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        sign_out.headers().get(header::SET_COOKIE).is_none(),
        "the cookie is not cleared as if the session had ended"
    );
    let body: Value = sign_out.json().await.unwrap();
    assert_eq!(body["code"], "unavailable", "{body}");
}

#[tokio::test]
async fn the_app_waits_for_postgresql_that_is_not_up_yet() {
    let after = std::time::Duration::from_millis(1500);
    let started = std::time::Instant::now();
    let app = TestApp::spawn_before_database(after).await;
    assert!(
        started.elapsed() >= after,
        "the app started before its database answered"
    );
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let (_, token) = app.signed_in_user().await;
    assert_eq!(app.me(&token).await.status(), StatusCode::OK);
}
