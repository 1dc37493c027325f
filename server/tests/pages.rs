//! What a first visit meets: real redirects for every client, the icon and manifest, and a
//! failed sign-in that keeps what was typed.

mod common;

use reqwest::{StatusCode, header};
use serde_json::Value;

use common::{Backend, PASSWORD, TestApp};

#[tokio::test]
async fn redirects_are_real_for_clients_with_and_without_accept() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, token) = app.signed_in_user().await;
    for accept in [
        None,
        Some("text/html"),
        Some("*/*"),
        Some("application/json"),
    ] {
        for (path, cookie, target) in [
            ("/", None, "/login"),
            ("/settings", None, "/login"),
            ("/connections", None, "/login"),
            ("/compose", None, "/login"),
            ("/posts", None, "/login"),
            ("/products", None, "/login"),
            ("/", Some(&token), "/settings"),
            ("/login", Some(&token), "/settings"),
        ] {
            let mut request = app.client.get(app.url(path));
            if let Some(accept) = accept {
                request = request.header(header::ACCEPT, accept);
            }
            if let Some(token) = cookie {
                request = request.header(header::COOKIE, format!("picscripter_session={token}"));
            }
            let response = request.send().await.unwrap();
            assert_eq!(
                response.status(),
                StatusCode::FOUND,
                "{path} with Accept {accept:?}"
            );
            assert_eq!(response.headers()[header::LOCATION], target, "{path}");
        }
    }
}

#[tokio::test]
async fn the_icon_and_the_manifest_are_served() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    for (path, kind) in [
        ("/favicon.ico", "image/x-icon"),
        ("/favicon.svg", "image/svg+xml"),
        ("/manifest.webmanifest", "application/manifest+json"),
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()[header::CONTENT_TYPE], kind, "{path}");
    }
    let ico = app
        .client
        .get(app.url("/favicon.ico"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&ico[..4], &[0, 0, 1, 0], "an ICO header");
    let manifest: Value = app
        .client
        .get(app.url("/manifest.webmanifest"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(manifest["name"], "Picscripterai");
    let html = app.get_page("/login", None).await.text().await.unwrap();
    assert!(html.contains("rel=\"icon\"") && html.contains("rel=\"manifest\""));
}

#[tokio::test]
async fn a_failed_sign_in_without_javascript_keeps_the_email() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.register("ana@example.com", PASSWORD).await;
    let location = app
        .post_form_without_js(
            "/rpc/account/sign-in",
            &app.url("/login"),
            &[("email", "ana@example.com"), ("password", "wrong password")],
        )
        .await;
    assert!(location.contains("email=ana%40example.com"), "{location}");
    assert!(
        !location.contains("wrong"),
        "the password is never sent back: {location}"
    );
    let html = app.page_html(&location).await;
    assert!(
        html.contains("value=\"ana@example.com\""),
        "the email is filled in"
    );
    assert!(html.contains("The email or password is not correct."));

    // Failing again from that page replaces the kept email rather than piling them up.
    let location = app
        .post_form_without_js(
            "/rpc/account/sign-in",
            &location,
            &[("email", "bob@example.com"), ("password", "wrong password")],
        )
        .await;
    assert_eq!(location.matches("email=").count(), 1, "{location}");
    assert_eq!(location.matches("__err=").count(), 1, "{location}");
    assert!(location.contains("email=bob%40example.com"), "{location}");
}

#[tokio::test]
async fn a_failed_registration_without_javascript_keeps_the_email() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let location = app
        .post_form_without_js(
            "/rpc/account/register",
            &app.url("/register"),
            &[
                ("email", "ana@example.com"),
                ("password", "short"),
                ("time_zone", ""),
            ],
        )
        .await;
    let html = app.page_html(&location).await;
    assert!(html.contains("value=\"ana@example.com\""), "{html}");
    assert!(html.contains("Use at least 8 characters."));
}

#[tokio::test]
async fn a_signed_in_page_loads_its_data_once() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, token) = app.signed_in_user().await;
    let response = app.get_page("/connections", Some(&token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    // The overview travels to the browser in the page, once: the page is built once.
    // This app has no platform credentials: each supported platform says so, once.
    let overviews = html.matches("not_configured").count();
    assert_eq!(
        overviews,
        server::platforms::SUPPORTED.len(),
        "each platform says it is not configured, in one copy of the overview"
    );
}

#[tokio::test]
async fn buttons_are_sent_disabled_until_their_island_is_live() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[("X_CLIENT_ID", "id"), ("X_CLIENT_SECRET", "secret")],
    )
    .await;
    let (_, token) = app.signed_in_user().await;
    let html = app
        .get_page("/connections", Some(&token))
        .await
        .text()
        .await
        .unwrap();
    // A click before the island is live would be lost on a button that cannot act yet.
    let connect = html
        .find("Connect X</button>")
        .and_then(|end| html[..end].rfind("<button").map(|start| &html[start..end]))
        .unwrap_or_else(|| panic!("the page offers to connect X: {html}"));
    assert!(connect.contains("disabled"), "{connect}");
}
