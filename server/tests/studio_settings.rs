//! A person's AI Studio settings through the REST API: saved and read back with keys stored
//! encrypted and never sent back, kept or removed as asked; settings to fix refused with their
//! field; "Test connection" against the OpenAI-compatible fake on 127.0.0.1, and against an
//! address where nothing listens; and `rotate-key` moving the stored writer keys to the new key.

mod common;

use reqwest::{Response, StatusCode};
use sea_orm::{Database, EntityTrait};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use app::types::{EmojiDensity, UserId, WriterChoice};
use server::clock::SystemClock;
use server::crypto::{Keyring, generate_key};
use server::db::entities::studio_setting;
use server::db::studio_settings::{self, KeyChange, KeyKind, StudioChoices, key_context};
use server::key_rotation::rotate_keys;
use server::sandbox::openai_compat::OpenAiCompatFake;

use common::{Backend, TestApp, error_body};

const GEMINI_KEY: &str = "AIza-own-secret-key";
const SERVER_KEY: &str = "sk-own-server";

async fn put_settings(app: &TestApp, token: &str, body: &Value) -> Response {
    app.client
        .put(app.url("/api/studio/settings"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("the request is sent")
}

async fn get_settings(app: &TestApp, token: &str) -> Value {
    let response = app
        .client
        .get(app.url("/api/studio/settings"))
        .bearer_auth(token)
        .send()
        .await
        .expect("the request is sent");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("the settings are JSON")
}

async fn test_writer(app: &TestApp, token: &str, body: &Value) -> Response {
    app.client
        .post(app.url("/api/studio/writer/test"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("the request is sent")
}

/// The stored row of `token`'s user.
async fn row_of(app: &TestApp, token: &str) -> studio_setting::Model {
    let db = Database::connect(&app.database_url).await.unwrap();
    studio_setting::Entity::find_by_id(app.user_id(token).await)
        .one(&db)
        .await
        .unwrap()
        .expect("the settings are stored")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

async fn settings_are_saved_and_read_back_without_their_keys(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ((_, token), (_, other)) = app.two_users().await;

    let fresh = get_settings(&app, &token).await;
    assert_eq!(fresh["writer"], "auto");
    assert_eq!(fresh["has_gemini_key"], false);
    assert_eq!(fresh["voice_samples"], json!([]));
    assert_eq!(fresh["emoji_density"], "a_few");
    assert_eq!(fresh["server_writer"], "the basic writer");

    let response = put_settings(
        &app,
        &token,
        &json!({
            "writer": "gemini",
            "gemini_key": GEMINI_KEY,
            "gemini_model": " gemini-2.5-pro ",
            "voice_samples": ["Fresh from the kiln this morning.", "  "],
            "avoid": ["elevate => lift", ""],
            "keep": ["handmade"],
            "dictionary": ["Kilnworks"],
            "emoji_density": "lively",
        }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(
        !text.contains(GEMINI_KEY),
        "the key is never sent back: {text}"
    );
    let saved: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(saved["has_gemini_key"], true);
    assert_eq!(saved["gemini_model"], "gemini-2.5-pro");

    let read = get_settings(&app, &token).await;
    assert_eq!(read, saved);
    assert_eq!(read["writer"], "gemini");
    assert_eq!(
        read["voice_samples"],
        json!(["Fresh from the kiln this morning."])
    );
    assert_eq!(read["avoid"], json!(["elevate => lift"]));
    assert_eq!(read["keep"], json!(["handmade"]));
    assert_eq!(read["dictionary"], json!(["Kilnworks"]));
    assert_eq!(read["emoji_density"], "lively");
    assert!(!read.to_string().contains(GEMINI_KEY));

    // Stored encrypted: the row holds no trace of the key.
    let row = row_of(&app, &token).await;
    let ciphertext = row.gemini_key_ciphertext.clone().expect("a sealed key");
    assert!(!contains(&ciphertext, GEMINI_KEY.as_bytes()));
    assert!(!contains(&ciphertext, b"AIza"));
    assert_eq!(row.gemini_key_nonce.as_ref().map(Vec::len), Some(24));
    assert!(row.gemini_key_id.is_some());
    assert!(row.openai_key_ciphertext.is_none());

    // A save without a key keeps the stored one as it was.
    let response = put_settings(
        &app,
        &token,
        &json!({ "writer": "gemini", "emoji_density": "none" }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let kept: Value = response.json().await.unwrap();
    assert_eq!(kept["has_gemini_key"], true);
    assert_eq!(
        kept["voice_samples"],
        json!([]),
        "a save replaces the lists"
    );
    assert_eq!(
        row_of(&app, &token).await.gemini_key_ciphertext,
        Some(ciphertext)
    );

    // Removing it.
    let response = put_settings(
        &app,
        &token,
        &json!({ "writer": "basic", "clear_gemini_key": true }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let cleared: Value = response.json().await.unwrap();
    assert_eq!(cleared["has_gemini_key"], false);
    assert_eq!(cleared["writer"], "basic");
    let row = row_of(&app, &token).await;
    assert!(row.gemini_key_id.is_none() && row.gemini_key_ciphertext.is_none());

    // Another person's settings are their own.
    let theirs = get_settings(&app, &other).await;
    assert_eq!(theirs["writer"], "auto");
    assert_eq!(theirs["has_gemini_key"], false);
}

on_both_databases!(settings_are_saved_and_read_back_without_their_keys);

#[tokio::test]
async fn settings_to_fix_are_refused_beside_their_field() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, token) = app.signed_in_user().await;

    let error = error_body(
        put_settings(
            &app,
            &token,
            &json!({ "writer": "auto", "openai_url": "localhost:11434/v1" }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["field"], "openai_url");
    assert!(
        error["message"].as_str().unwrap().contains("http://"),
        "{error}"
    );

    let error = error_body(
        put_settings(
            &app,
            &token,
            &json!({ "writer": "openai", "openai_url": "http://localhost:11434/v1" }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["field"], "openai_model");

    // No key of one's own and none on the server.
    let error = error_body(
        put_settings(&app, &token, &json!({ "writer": "gemini" })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["field"], "gemini_key");
    assert_eq!(
        error["message"],
        "Add a Gemini API key, or choose another writer."
    );

    let error = error_body(
        put_settings(
            &app,
            &token,
            &json!({ "writer": "auto", "keep": ["x".repeat(81)] }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["field"], "keep");

    // Nothing was stored by the refused saves.
    assert_eq!(get_settings(&app, &token).await["writer"], "auto");

    let anonymous = app
        .client
        .get(app.url("/api/studio/settings"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_writer_test_lists_the_model_servers_models_with_a_typed_or_stored_key() {
    let fake = OpenAiCompatFake::new(Some(SERVER_KEY));
    fake.set_models(["llava", "qwen2.5vl:7b"]);
    let (addr, _server) = server::sandbox::serve(fake.router()).await.unwrap();
    let url = format!("http://{addr}/v1");
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, token) = app.signed_in_user().await;

    let response = test_writer(
        &app,
        &token,
        &json!({ "writer": "openai", "openai_url": url, "openai_key": SERVER_KEY }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let found: Value = response.json().await.unwrap();
    assert_eq!(found["models"], json!(["llava", "qwen2.5vl:7b"]));
    assert_eq!(found["writer"], "The model server");

    // Once saved, the stored key stands in for a typed one.
    let response = put_settings(
        &app,
        &token,
        &json!({
            "writer": "openai",
            "openai_url": format!("{url}/"),
            "openai_model": "llava",
            "openai_key": SERVER_KEY,
        }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let saved: Value = response.json().await.unwrap();
    assert_eq!(saved["openai_url"], url.as_str());
    assert_eq!(saved["has_openai_key"], true);
    let response = test_writer(
        &app,
        &token,
        &json!({ "writer": "openai", "openai_url": url }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);

    // A wrong key is the writer's own message, beside the writer.
    let error = error_body(
        test_writer(
            &app,
            &token,
            &json!({ "writer": "openai", "openai_url": url, "openai_key": "sk-wrong" }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["field"], "writer");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("did not accept the key"),
        "{error}"
    );

    // The basic writer needs no server at all.
    let response = test_writer(&app, &token, &json!({ "writer": "basic" })).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_writer_test_against_an_address_where_nothing_listens_says_so() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, token) = app.signed_in_user().await;
    // A port that was free a moment ago: connections to it are refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port");
    let url = format!("http://{closed}/v1");

    let error = error_body(
        test_writer(
            &app,
            &token,
            &json!({ "writer": "openai", "openai_url": url, "openai_model": "llava" }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["field"], "writer");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("could not be reached"), "{message}");
    assert!(message.contains(&closed.to_string()), "{message}");
}

async fn rotation_moves_the_stored_writer_keys_to_the_new_key(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.signed_in_user().await;
    let owner = UserId(app.user_id(&token).await);
    let db = Database::connect(&app.database_url).await.unwrap();

    let old_key = SecretString::from(generate_key());
    let old = Keyring::new(&old_key, &[]).unwrap();
    let sealed = old.encrypt(
        &SecretString::from(GEMINI_KEY.to_owned()),
        &key_context(owner, KeyKind::Gemini),
    );
    let choices = StudioChoices {
        writer: WriterChoice::Gemini,
        emoji_density: EmojiDensity::Lively,
        ..StudioChoices::default()
    };
    studio_settings::upsert(
        &db,
        owner,
        &choices,
        KeyChange::Set(sealed),
        KeyChange::Keep,
        chrono::Utc::now(),
    )
    .await
    .unwrap();

    let new_key = SecretString::from(generate_key());
    let during = Keyring::new(&new_key, &[old_key]).unwrap();
    let report = rotate_keys(&db, &during, &SystemClock).await.unwrap();
    assert_eq!(report.studio_keys, 1);

    let after = Keyring::new(&new_key, &[]).unwrap();
    let stored = studio_settings::get(&db, owner).await.unwrap().unwrap();
    assert_eq!(stored.choices, choices, "only the key changed");
    assert!(stored.openai_key.is_none());
    let gemini = stored.gemini_key.expect("the key is still there");
    assert_eq!(gemini.key_id, after.current_key_id());
    let plain = after
        .decrypt(&gemini, &key_context(owner, KeyKind::Gemini))
        .unwrap();
    assert_eq!(plain.expose_secret(), GEMINI_KEY);

    let again = rotate_keys(&db, &after, &SystemClock).await.unwrap();
    assert_eq!(again.studio_keys, 0);
}

on_both_databases!(rotation_moves_the_stored_writer_keys_to_the_new_key);
