//! What every response carries: health checks, security headers, request ids, CORS, and the
//! pages' server-side rendering and redirects.

mod common;

use reqwest::{StatusCode, header};
use serde_json::Value;

use common::{Backend, REDIS_URL, TestApp};

#[tokio::test]
async fn healthz_needs_nothing_and_readyz_checks_the_database() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["redis"], "not configured");
}

#[tokio::test]
async fn readyz_checks_redis_when_configured() {
    let app = TestApp::spawn_with(Backend::Postgres, &[("REDIS_URL", REDIS_URL)]).await;
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    let status = ready.status();
    let body: Value = ready.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["checks"]["redis"], "ok");
}

#[tokio::test]
async fn readyz_is_503_with_the_reason_when_redis_is_down() {
    // Nothing listens on port 1; the app still starts and says why it is not ready.
    let app = TestApp::spawn_with(Backend::Sqlite, &[("REDIS_URL", "redis://127.0.0.1:1")]).await;
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["checks"]["database"], "ok");
    assert_ne!(body["checks"]["redis"], "ok", "{body}");
    let healthz = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(
        healthz.status(),
        StatusCode::OK,
        "liveness does not depend on Redis"
    );
}

#[tokio::test]
async fn pages_carry_a_csp_whose_nonce_is_on_the_hydration_script() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let response = app.get_page("/login", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    let csp = headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("object-src 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce")
        .to_owned();
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(
        headers[header::REFERRER_POLICY],
        "strict-origin-when-cross-origin"
    );
    assert!(
        headers.get(header::STRICT_TRANSPORT_SECURITY).is_none(),
        "no HSTS on localhost"
    );

    let html = response.text().await.unwrap();
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script carries the nonce"
    );
    let scripts_without_nonce = html
        .match_indices("<script")
        .filter(|(at, _)| !html[*at..].split('>').next().unwrap().contains("nonce="))
        .count();
    assert_eq!(
        scripts_without_nonce, 0,
        "every inline script has the nonce:\n{html}"
    );

    let again = app.get_page("/login", None).await;
    let csp_again = again.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(csp, csp_again, "a fresh nonce per response");
}

#[tokio::test]
async fn hsts_and_secure_cookies_are_on_behind_https() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[("PUBLIC_BASE_URL", "https://app.example.com")],
    )
    .await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert!(
        response.headers()[header::STRICT_TRANSPORT_SECURITY]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
    app.register("ana@example.com", common::PASSWORD).await;
    let login = app.login("ana@example.com", common::PASSWORD).await;
    assert!(
        login.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Secure")
    );
}

#[tokio::test]
async fn every_response_has_a_request_id_and_keeps_a_given_one() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-42");
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[("CORS_ORIGINS", "https://studio.example.com")],
    )
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/me"))
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .send()
    };
    let allowed = preflight("https://studio.example.com").await.unwrap();
    assert_eq!(
        allowed.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://studio.example.com"
    );
    let refused = preflight("https://evil.example.net").await.unwrap();
    assert!(
        refused
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );
}

#[tokio::test]
async fn signed_in_pages_redirect_visitors_and_render_for_users() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let visitor = app.get_page("/settings", None).await;
    assert!(visitor.status().is_redirection(), "{}", visitor.status());
    assert_eq!(visitor.headers()[header::LOCATION], "/login");

    let (email, token) = app.signed_in_user().await;
    let page = app.get_page("/settings", Some(&token)).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains(&email), "the sidebar shows who is signed in");
    assert!(
        html.contains("<label for=\"field-time_zone\""),
        "labelled fields"
    );

    let login = app.get_page("/login", Some(&token)).await;
    assert_eq!(
        login.headers()[header::LOCATION],
        "/settings",
        "signed-in users skip the sign-in page"
    );
}

#[tokio::test]
async fn the_theme_cookie_picks_the_theme_at_render_time() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let html = app
        .client
        .get(app.url("/login"))
        .header(header::COOKIE, "theme=dark")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("<html lang=\"en\" data-theme=\"dark\""),
        "{}",
        &html[..200.min(html.len())]
    );
    let html = app
        .client
        .get(app.url("/login"))
        .header(header::COOKIE, "theme=<b>")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains("data-theme"),
        "unknown themes follow the system"
    );
}

#[tokio::test]
async fn unknown_pages_are_404() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let response = app.get_page("/no/such/page", None).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn responses_are_gzipped_for_clients_that_accept_it() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let response = app
        .client
        .get(app.url("/login"))
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
}

#[tokio::test]
async fn site_files_built_precompressed_are_sent_as_built() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let pkg = app.data_dir.join("site").join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("app.wasm"), b"raw wasm bytes").unwrap();
    std::fs::write(pkg.join("app.wasm.br"), b"brotli bytes").unwrap();
    std::fs::write(pkg.join("app.wasm.gz"), b"gzip bytes").unwrap();
    let fetch = |encoding: &'static str| {
        app.client
            .get(app.url("/pkg/app.wasm"))
            .header(header::ACCEPT_ENCODING, encoding)
            .send()
    };
    let brotli = fetch("gzip, deflate, br").await.unwrap();
    assert_eq!(brotli.headers()[header::CONTENT_ENCODING], "br");
    assert!(brotli.headers().get_all(header::VARY).iter().any(|value| {
        value
            .to_str()
            .unwrap()
            .to_lowercase()
            .contains("accept-encoding")
    }));
    assert_eq!(brotli.bytes().await.unwrap().as_ref(), b"brotli bytes");
    let gzip = fetch("gzip").await.unwrap();
    assert_eq!(gzip.headers()[header::CONTENT_ENCODING], "gzip");
    assert_eq!(gzip.bytes().await.unwrap().as_ref(), b"gzip bytes");
    let plain = fetch("identity").await.unwrap();
    assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
    assert_eq!(plain.bytes().await.unwrap().as_ref(), b"raw wasm bytes");
}

#[tokio::test]
async fn signing_in_without_javascript_shows_the_error_on_the_form() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.register("ana@example.com", common::PASSWORD).await;
    // What a browser sends when it submits the form before the wasm has loaded.
    let submit = |password: &'static str| {
        app.client
            .post(app.url("/rpc/account/sign-in"))
            .header(header::ACCEPT, "text/html,application/xhtml+xml")
            .header(header::REFERER, app.url("/login"))
            .form(&[("email", "ana@example.com"), ("password", password)])
            .send()
    };

    let failed = submit("wrong password").await.unwrap();
    assert!(
        failed.status().is_redirection(),
        "back to the form: {}",
        failed.status()
    );
    let location = failed.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        location.contains("/login?") && location.contains("__err="),
        "{location}"
    );
    let form = app
        .client
        .get(&location)
        .header(header::ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert!(
        form.text()
            .await
            .unwrap()
            .contains("The email or password is not correct.")
    );

    let signed_in = submit(common::PASSWORD).await.unwrap();
    assert!(signed_in.status().is_redirection());
    assert_eq!(signed_in.headers()[header::LOCATION], "/settings");
    assert!(
        signed_in.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .starts_with("picscripter_session=")
    );
}
