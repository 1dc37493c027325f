//! Users and their data: one user never reads or changes another's, and two registrations of
//! one email at the same moment give one account.

mod common;

use reqwest::StatusCode;
use serde_json::Value;

use common::{Backend, TestApp};

async fn isolated_users_see_only_themselves(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ((email_a, token_a), (email_b, token_b)) = app.two_users().await;

    let me_b: Value = app.me(&token_b).await.json().await.unwrap();
    assert_eq!(me_b["email"], email_b.as_str());

    // B renames themselves; A is untouched.
    let saved = app
        .server_fn(
            "/rpc/settings/profile",
            &token_b,
            &[("display_name", "Bea"), ("time_zone", "Europe/Berlin")],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    let me_a: Value = app.me(&token_a).await.json().await.unwrap();
    assert_eq!(me_a["email"], email_a.as_str());
    assert_eq!(me_a["display_name"], Value::Null);
    assert_eq!(me_a["time_zone"], "UTC");

    // B signing out ends B's session only.
    let logout = app
        .client
        .post(app.url("/api/auth/logout"))
        .bearer_auth(&token_b)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.me(&token_b).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.me(&token_a).await.status(), StatusCode::OK);
}

on_both_databases!(isolated_users_see_only_themselves);

#[tokio::test]
async fn registering_one_email_twice_at_once_makes_one_account_on_postgres() {
    let app = TestApp::spawn(Backend::Postgres).await;
    for round in 0..3 {
        let email = format!("race-{round}@example.com");
        let (first, second) = tokio::join!(
            app.register(&email, common::PASSWORD),
            app.register(&email, common::PASSWORD)
        );
        let mut statuses = [first.status(), second.status()];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::CREATED, StatusCode::CONFLICT],
            "round {round}"
        );
    }
}
