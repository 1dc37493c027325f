//! Who the client is, cross-site refusal, the sign-in throttle on password changes, request
//! ids and methods: the edges an attacker (or a proxy) pushes on.

mod common;

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use common::{Backend, PASSWORD, TestApp, error_body};

async fn login_from(app: &TestApp, forwarded_for: &str, email: &str, password: &str) -> StatusCode {
    app.client
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
    let app = TestApp::spawn_with(Backend::Sqlite, &[("RATE_LIMIT_AUTH", "2/min")]).await;
    assert_eq!(
        login_from(&app, "203.0.113.1", "a@b.co", "whatever1").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login_from(&app, "203.0.113.2", "a@b.co", "whatever1").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login_from(&app, "203.0.113.3", "a@b.co", "whatever1").await,
        StatusCode::TOO_MANY_REQUESTS,
        "a client cannot buy a fresh budget by writing a header"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_budget_and_lockout() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("RATE_LIMIT_AUTH", "8/min"),
            ("TRUSTED_PROXIES", "127.0.0.1/32"),
        ],
    )
    .await;
    app.register("ana@example.com", PASSWORD).await;
    // An attacker behind the same proxy fails five times for Ana...
    for _ in 0..5 {
        let status = login_from(&app, "198.51.100.66", "ana@example.com", "guess guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        login_from(&app, "198.51.100.66", "ana@example.com", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // ...and Ana, behind that proxy too, still signs in.
    assert_eq!(
        login_from(&app, "203.0.113.10", "ana@example.com", PASSWORD).await,
        StatusCode::OK
    );
    // The attacker's tier budget is theirs alone: two more requests spend it.
    login_from(&app, "198.51.100.66", "x@y.co", "whatever1").await;
    login_from(&app, "198.51.100.66", "x@y.co", "whatever1").await;
    assert_eq!(
        login_from(&app, "198.51.100.66", "x@y.co", "whatever1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        login_from(&app, "203.0.113.10", "x@y.co", "whatever1").await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_sign_in_form_posted_from_another_site_is_refused() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.register("ana@example.com", PASSWORD).await;
    let refused = app
        .client
        .post(app.url("/rpc/account/sign-in"))
        .header(header::ACCEPT, "text/html")
        .header(header::ORIGIN, "https://evil.example.net")
        .header("sec-fetch-site", "cross-site")
        .form(&[("email", "ana@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.headers().get(header::SET_COOKIE).is_none());
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "cross_site", "{body}");

    // The same form from this site, as a browser without JavaScript sends it, works.
    let own = app
        .client
        .post(app.url("/rpc/account/sign-in"))
        .header(header::ACCEPT, "text/html")
        .header(header::ORIGIN, app.address.as_str())
        .header("sec-fetch-site", "same-origin")
        .header(header::REFERER, app.url("/login"))
        .form(&[("email", "ana@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::FOUND);
    assert_eq!(own.headers()[header::LOCATION], "/settings");
    assert!(own.headers().contains_key(header::SET_COOKIE));
}

#[tokio::test]
async fn cookie_authenticated_api_calls_from_another_site_are_refused_but_bearer_ones_are_not() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, token) = app.signed_in_user().await;
    let logout = |by_cookie: bool| {
        let request = app
            .client
            .post(app.url("/api/auth/logout"))
            .header(header::ORIGIN, "https://evil.example.net");
        let request = if by_cookie {
            request.header(header::COOKIE, format!("picscripter_session={token}"))
        } else {
            request.bearer_auth(&token)
        };
        request.send()
    };
    let refused = logout(true).await.unwrap();
    assert_eq!(
        error_body(refused, StatusCode::FORBIDDEN).await["code"],
        "cross_site"
    );
    assert_eq!(
        app.me(&token).await.status(),
        StatusCode::OK,
        "still signed in"
    );
    assert_eq!(
        logout(false).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn wrong_current_passwords_count_like_failed_sign_ins() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, token) = app.signed_in_user().await;
    let change = |current: &'static str| async {
        app.server_fn(
            "/rpc/settings/password",
            &token,
            &[
                ("current_password", current),
                ("new_password", "a brand new password"),
            ],
        )
        .await
    };
    for _ in 0..5 {
        let wrong = change("not my password").await;
        assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let locked = change(PASSWORD).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.headers().contains_key(header::RETRY_AFTER));
}

#[tokio::test]
async fn changing_the_password_is_in_the_auth_tier() {
    let app = TestApp::spawn_with(Backend::Sqlite, &[("RATE_LIMIT_AUTH", "3/min")]).await;
    let (email, _) = app.signed_in_user().await; // register + login: two auth requests
    let token = app.token_for(&email, PASSWORD).await; // the third
    let change = app
        .server_fn(
            "/rpc/settings/password",
            &token,
            &[
                ("current_password", "wrong one"),
                ("new_password", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(change.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn only_short_plain_request_ids_are_kept() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let id_for = |id: String| {
        let request = app
            .client
            .get(app.url("/healthz"))
            .header("x-request-id", id);
        async move {
            let response = request.send().await.unwrap();
            response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .to_owned()
        }
    };
    assert_eq!(id_for("trace-me_42".into()).await, "trace-me_42");
    let long = "a".repeat(65);
    assert_ne!(id_for(long.clone()).await, long);
    assert_eq!(id_for("b".repeat(64)).await, "b".repeat(64));
    let forged = "x\" level=error msg=\"forged";
    assert_ne!(id_for(forged.into()).await, forged);
}

#[tokio::test]
async fn a_wrong_method_is_405_with_allow_everywhere() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let page = app.client.delete(app.url("/login")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        page.headers()[header::ALLOW]
            .to_str()
            .unwrap()
            .contains("GET")
    );
    let api = app.client.put(app.url("/api/me")).send().await.unwrap();
    assert_eq!(api.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        api.headers()[header::ALLOW]
            .to_str()
            .unwrap()
            .contains("GET")
    );
}

#[tokio::test]
async fn control_characters_are_refused_at_parsing_on_postgres() {
    let app = TestApp::spawn(Backend::Postgres).await;
    for email in ["ana\u{0}@example.com", "ana@exa\u{7}mple.com"] {
        let error = error_body(
            app.register(email, PASSWORD).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(error["field"], "email", "{email:?}");
        error_body(app.login(email, PASSWORD).await, StatusCode::UNAUTHORIZED).await;
    }
    let error = error_body(
        app.register("ana@example.com", "correct\u{0}horse").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["field"], "password");
    let (_, token) = app.signed_in_user().await;
    let profile = app
        .server_fn(
            "/rpc/settings/profile",
            &token,
            &[("display_name", "A\u{0}na"), ("time_zone", "UTC")],
        )
        .await;
    assert_eq!(profile.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_ui_and_the_api_refuse_a_wrong_time_zone_alike() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let ui = app
        .client
        .post(app.url("/rpc/account/register"))
        .header(header::ACCEPT, "application/json")
        .form(&[
            ("email", "tz@example.com"),
            ("password", PASSWORD),
            ("time_zone", "Mars/Olympus"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ui.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = ui.json().await.unwrap();
    assert_eq!(body["field"], "time_zone", "{body}");
    let api = app
        .post_json(
            "/api/auth/register",
            &json!({"email": "tz@example.com", "password": PASSWORD, "time_zone": "Mars/Olympus"}),
        )
        .await;
    assert_eq!(
        error_body(api, StatusCode::UNPROCESSABLE_ENTITY).await["field"],
        "time_zone"
    );
}

#[tokio::test]
async fn registering_through_the_ui_signs_in_with_one_call() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let response = app
        .client
        .post(app.url("/rpc/account/register"))
        .header(header::ACCEPT, "application/json")
        .form(&[
            ("email", "new@example.com"),
            ("password", PASSWORD),
            ("time_zone", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    let token = cookie
        .strip_prefix("picscripter_session=")
        .and_then(|rest| rest.split(';').next())
        .unwrap();
    let me: Value = app.me(token).await.json().await.unwrap();
    assert_eq!(me["email"], "new@example.com");
    assert_eq!(me["time_zone"], "UTC");
}
