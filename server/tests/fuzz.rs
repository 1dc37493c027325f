//! No input finds a 500: generated bodies for every REST endpoint and server function that
//! takes text, against PostgreSQL (the stricter of the two databases: it refuses NUL bytes
//! that SQLite stores). Any status is fine but 5xx.

mod common;

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use reqwest::header;
use serde_json::json;

use common::{Backend, TestApp};

/// Text that hits the edges: controls (NUL first), quotes, non-ASCII, very long, and
/// email-shaped strings, so some inputs get past the first check and reach the database.
fn nasty_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\u{0}".to_owned()),
        Just("\u{7f}".to_owned()),
        Just("\u{9f}".to_owned()),
        Just("'\";--".to_owned()),
        Just("é".to_owned()),
        Just("😀".to_owned()),
        Just("@".to_owned()),
        Just(".".to_owned()),
        "[a-z]{1,8}",
        "\\PC{0,4}",
        ".{0,3}",
    ];
    prop_oneof![
        prop::collection::vec(piece.clone(), 0..12).prop_map(|parts| parts.concat()),
        (prop::collection::vec(piece, 0..4), "[a-z]{1,6}")
            .prop_map(|(parts, domain)| { format!("{}@{domain}.com", parts.concat()) }),
        Just("x".repeat(5000)),
    ]
}

#[test]
fn no_generated_input_gets_a_server_error_on_postgres() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let app = runtime.block_on(TestApp::spawn_with(
        Backend::Postgres,
        &[
            ("RATE_LIMIT_AUTH", "100000/min"),
            ("RATE_LIMIT_API", "100000/min"),
        ],
    ));
    let (_, token) = runtime.block_on(app.signed_in_user());
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let strategy = (nasty_text(), nasty_text(), nasty_text());
    runner
        .run(&strategy, |(email, password, text)| {
            let statuses = runtime.block_on(async {
                let register = app
                    .post_json(
                        "/api/auth/register",
                        &json!({ "email": email, "password": password, "time_zone": text }),
                    )
                    .await
                    .status();
                let login = app.login(&email, &password).await.status();
                let sign_in = app
                    .client
                    .post(app.url("/rpc/account/sign-in"))
                    .header(header::ACCEPT, "application/json")
                    .form(&[("email", email.as_str()), ("password", password.as_str())])
                    .send()
                    .await
                    .unwrap()
                    .status();
                let profile = app
                    .server_fn(
                        "/rpc/settings/profile",
                        &token,
                        &[("display_name", text.as_str()), ("time_zone", "UTC")],
                    )
                    .await
                    .status();
                let password_change = app
                    .server_fn(
                        "/rpc/settings/password",
                        &token,
                        &[
                            ("current_password", password.as_str()),
                            ("new_password", text.as_str()),
                        ],
                    )
                    .await
                    .status();
                [register, login, sign_in, profile, password_change]
            });
            for status in statuses {
                prop_assert!(
                    !status.is_server_error(),
                    "{status} for {email:?} / {password:?} / {text:?}"
                );
            }
            Ok(())
        })
        .unwrap();
    drop(app);
}
