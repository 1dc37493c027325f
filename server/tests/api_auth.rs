//! The REST API for accounts and sessions, on SQLite and PostgreSQL.

mod common;

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use common::{Backend, PASSWORD, TestApp, error_body};

on_both_databases!(
    registering_returns_the_new_user,
    registering_the_same_email_twice_is_a_conflict,
    a_token_from_login_works_as_bearer_and_as_cookie,
    a_wrong_password_and_an_unknown_email_get_the_same_answer,
    logging_out_revokes_the_token_everywhere,
    changing_the_password_signs_out_other_sessions,
    the_profile_is_saved_and_the_time_zone_checked,
);

async fn registering_returns_the_new_user(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .post_json("/api/auth/register", &json!({"email": " Ana@Example.com ", "password": PASSWORD, "time_zone": "Europe/Berlin"}))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["email"], "ana@example.com");
    assert_eq!(user["time_zone"], "Europe/Berlin");
    assert!(
        user.get("password_hash").is_none(),
        "the hash never leaves the server: {user}"
    );
}

async fn registering_the_same_email_twice_is_a_conflict(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(
        app.register("ana@example.com", PASSWORD).await.status(),
        StatusCode::CREATED
    );
    let error = error_body(
        app.register("ANA@example.com", PASSWORD).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(error["code"], "conflict");
}

async fn a_token_from_login_works_as_bearer_and_as_cookie(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(
        app.register("ana@example.com", PASSWORD).await.status(),
        StatusCode::CREATED
    );
    let response = app.login("ana@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in [
        "picscripter_session=",
        "HttpOnly",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=604",
    ] {
        assert!(
            cookie.contains(attribute),
            "{attribute} missing from {cookie}"
        );
    }
    assert!(
        !cookie.contains("Secure"),
        "no Secure cookie on plain-http localhost: {cookie}"
    );
    let body: Value = response.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    assert!(body["expires_at"].is_string());

    let me: Value = app.me(token).await.json().await.unwrap();
    assert_eq!(me["email"], "ana@example.com");

    let by_cookie = app
        .client
        .get(app.url("/api/me"))
        .header(header::COOKIE, format!("picscripter_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_cookie.status(), StatusCode::OK);
}

async fn a_wrong_password_and_an_unknown_email_get_the_same_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.register("ana@example.com", PASSWORD).await;
    let wrong_password = error_body(
        app.login("ana@example.com", "not the password").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let unknown_email = error_body(
        app.login("bob@example.com", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(wrong_password, unknown_email);
    assert_eq!(wrong_password["code"], "invalid_credentials");
}

async fn logging_out_revokes_the_token_everywhere(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.signed_in_user().await;
    let response = app
        .client
        .post(app.url("/api/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let cleared = response
        .headers()
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let error = error_body(app.me(&token).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(error["code"], "unauthorized");
}

async fn changing_the_password_signs_out_other_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, laptop) = app.signed_in_user().await;
    let phone = app.token_for(&email, PASSWORD).await;

    let wrong = app
        .server_fn(
            "/rpc/settings/password",
            &laptop,
            &[
                ("current_password", "nope nope"),
                ("new_password", "a brand new secret"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let wrong: Value = wrong.json().await.unwrap();
    assert_eq!(wrong["field"], "current_password");
    assert_eq!(
        app.me(&phone).await.status(),
        StatusCode::OK,
        "a failed change signs nobody out"
    );

    let changed = app
        .server_fn(
            "/rpc/settings/password",
            &laptop,
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new secret"),
            ],
        )
        .await;
    assert_eq!(
        changed.status(),
        StatusCode::OK,
        "{:?}",
        changed.text().await
    );
    assert_eq!(
        app.me(&laptop).await.status(),
        StatusCode::OK,
        "the session that changed it stays"
    );
    assert_eq!(
        app.me(&phone).await.status(),
        StatusCode::UNAUTHORIZED,
        "other sessions end"
    );
    assert_eq!(
        app.login(&email, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login(&email, "a brand new secret").await.status(),
        StatusCode::OK
    );
}

async fn the_profile_is_saved_and_the_time_zone_checked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.signed_in_user().await;
    let bad = app
        .server_fn(
            "/rpc/settings/profile",
            &token,
            &[("display_name", "Ana"), ("time_zone", "Mars/Olympus_Mons")],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["code"], "validation");
    assert_eq!(bad["field"], "time_zone");

    let good = app
        .server_fn(
            "/rpc/settings/profile",
            &token,
            &[
                ("display_name", "  Ana  "),
                ("time_zone", "America/New_York"),
            ],
        )
        .await;
    assert_eq!(good.status(), StatusCode::OK);
    let me: Value = app.me(&token).await.json().await.unwrap();
    assert_eq!(me["display_name"], "Ana");
    assert_eq!(me["time_zone"], "America/New_York");
}

#[tokio::test]
async fn invalid_input_gets_field_errors() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let error = error_body(
        app.register("not-an-email", PASSWORD).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        (error["code"].as_str(), error["field"].as_str()),
        (Some("validation"), Some("email"))
    );
    let error = error_body(
        app.register("ana@example.com", "short").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["field"], "password");
    let error = error_body(
        app.post_json(
            "/api/auth/register",
            &json!({"email": "ana@example.com", "password": PASSWORD, "time_zone": "Nowhere"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["field"], "time_zone");
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_sign_in_for_a_while() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.register("ana@example.com", PASSWORD).await;
    for _ in 0..5 {
        assert_eq!(
            app.login("ana@example.com", "wrong password")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let response = app.login("ana@example.com", PASSWORD).await;
    let retry_after: u64 = response.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0 && retry_after <= 300, "{retry_after}");
    let error = error_body(response, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains(&format!("Try again in {retry_after} seconds")),
        "{error}"
    );
}

#[tokio::test]
async fn missing_bad_and_revoked_tokens_are_unauthorized() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let response = app.client.get(app.url("/api/me")).send().await.unwrap();
    error_body(response, StatusCode::UNAUTHORIZED).await;
    error_body(app.me("not-a-token").await, StatusCode::UNAUTHORIZED).await;

    // A token signed with another secret (another deployment) is not ours.
    let other = TestApp::spawn(Backend::Sqlite).await;
    let (_, foreign) = other.signed_in_user().await;
    error_body(app.me(&foreign).await, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn a_session_survives_a_restart_with_the_generated_secret() {
    // No JWT_SECRET: the app generates one under DATA_DIR and must find it again.
    let app = TestApp::spawn_with(Backend::Sqlite, &[("JWT_SECRET", "")]).await;
    let (_, token) = app.signed_in_user().await;
    let app = app.restart(&[("JWT_SECRET", "")]).await;
    assert_eq!(app.me(&token).await.status(), StatusCode::OK);
}
