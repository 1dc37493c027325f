//! Who may read `/metrics`, and what `/readyz` says about workers in a process without them.

mod common;

use reqwest::StatusCode;
use serde_json::Value;

use common::{Backend, TestApp};

#[tokio::test]
async fn metrics_are_for_this_machine_unless_a_token_is_set() {
    let app =
        TestApp::spawn_adjusted(Backend::Sqlite, &[], |config| config.run_workers = false).await;
    let direct = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(direct.status(), StatusCode::OK);
    assert_eq!(
        direct.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = direct.text().await.unwrap();
    assert!(
        text.contains("# TYPE picscripter_queue_lag_seconds gauge"),
        "{text}"
    );
    // No workers here, so no pulse to report.
    assert!(
        !text.contains("picscripter_worker_silence_seconds"),
        "{text}"
    );

    // Through a proxy on this machine, the request may come from anywhere.
    let proxied = app
        .client
        .get(app.url("/metrics"))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status(), StatusCode::FORBIDDEN);
    assert!(proxied.text().await.unwrap().contains("METRICS_TOKEN"));

    let ready: Value = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["checks"]["workers"], "not run here");
}

#[tokio::test]
async fn with_a_token_metrics_need_it() {
    let token = "metrics-token-for-the-test";
    let app = TestApp::spawn_with(Backend::Sqlite, &[("METRICS_TOKEN", token)]).await;
    let bare = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(bare.status(), StatusCode::FORBIDDEN);
    let wrong = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("not-it")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let right = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(token)
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), StatusCode::OK);
}
