//! Direct uploads (`POST /api/media/uploads`, a PUT to the URL it answers with, then
//! `POST /api/media/uploads/{id}/confirm`) on each media store: the local directory (the app's
//! own signed URL), S3 (moto's server) and Google Cloud Storage (gcp-storage-emulator). `make
//! test` starts both emulators and passes their addresses in TEST_S3_ENDPOINT and
//! TEST_GCS_ENDPOINT; without them the bucket tests say so and skip, except under CI=true,
//! where they fail. Each test makes buckets of its own.
//!
//! Neither emulator checks a signature or an expiry: moto takes a presigned URL past its time
//! or with its signature changed, and the GCS emulator takes any URL. So every refusal shown
//! here (too late, not the announced type, not the announced size) is the app's own, made at
//! its door or when the upload is confirmed; none is the emulator's.

mod common;

use std::io::Cursor;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Duration, Utc};
use object_store::ObjectStoreExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use common::{Backend, TestApp};
use server::clock::ManualClock;

const S3_REGION: &str = "us-east-1";
const S3_KEY: &str = "picscripter-test";
/// Small enough to make a video over it in a moment.
const VIDEO_LIMIT: &str = "2097152";

/// Where a test's app keeps its media.
#[derive(Clone)]
enum Store {
    Local,
    S3 { endpoint: String, bucket: String },
    Gcs { endpoint: String, bucket: String },
}

/// The address of an emulator `make test` started, or `None` (the test skips) outside CI.
fn emulator(variable: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().trim_end_matches('/').to_owned()),
        _ if std::env::var("CI").is_ok_and(|ci| ci == "true") => {
            panic!("{variable} is not set: `make test` starts the S3 and GCS emulators and sets it")
        }
        _ => {
            eprintln!(
                "skipped: {variable} is not set (`make test` starts the S3 and GCS emulators and sets it)"
            );
            None
        }
    }
}

fn bucket_name() -> String {
    format!("picscripter-{}", Uuid::new_v4().simple())
}

/// A throwaway service account key: GCS URLs are signed on this machine with its private key,
/// never by Google's signBlob. Made by the openssl command, once per run.
fn service_account_key() -> String {
    static KEY: OnceLock<String> = OnceLock::new();
    KEY.get_or_init(|| {
        let made = std::process::Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
            ])
            .output()
            .expect("these tests make a throwaway RSA key with the openssl command");
        assert!(made.status.success(), "openssl made a key");
        json!({
            "type": "service_account",
            "client_email": "picscripter-test@picscripter-test.iam.gserviceaccount.com",
            "private_key_id": "picscripter-test",
            "private_key": String::from_utf8(made.stdout).expect("a PEM key is text"),
        })
        .to_string()
    })
    .clone()
}

impl Store {
    /// A fresh bucket on moto, or `None` when it is not running (outside CI).
    async fn s3() -> Option<Self> {
        let endpoint = emulator("TEST_S3_ENDPOINT")?;
        let bucket = bucket_name();
        let made = reqwest::Client::new()
            .put(format!("{endpoint}/{bucket}"))
            .send()
            .await
            .unwrap_or_else(|error| panic!("moto answers at {endpoint}: {error}"));
        assert!(
            made.status().is_success(),
            "moto made the bucket: {}",
            made.status()
        );
        Some(Self::S3 { endpoint, bucket })
    }

    /// A fresh bucket on the GCS emulator, or `None` when it is not running (outside CI).
    async fn gcs() -> Option<Self> {
        let endpoint = emulator("TEST_GCS_ENDPOINT")?;
        let bucket = bucket_name();
        let made = reqwest::Client::new()
            .post(format!("{endpoint}/storage/v1/b"))
            .query(&[("project", "picscripter-test")])
            .json(&json!({ "name": bucket }))
            .send()
            .await
            .unwrap_or_else(|error| panic!("the GCS emulator answers at {endpoint}: {error}"));
        assert!(
            made.status().is_success(),
            "the GCS emulator made the bucket: {}",
            made.status()
        );
        Some(Self::Gcs { endpoint, bucket })
    }

    /// The app's variables for this store; objects go under `media/` in a bucket.
    fn vars(&self) -> Vec<(String, String)> {
        let pairs: Vec<(&str, String)> = match self {
            Self::Local => Vec::new(),
            Self::S3 { endpoint, bucket } => vec![
                ("MEDIA_STORE", format!("s3://{bucket}/media")),
                ("AWS_ENDPOINT_URL", endpoint.clone()),
                ("AWS_ACCESS_KEY_ID", S3_KEY.to_owned()),
                ("AWS_SECRET_ACCESS_KEY", S3_KEY.to_owned()),
                ("AWS_REGION", S3_REGION.to_owned()),
            ],
            Self::Gcs { endpoint, bucket } => vec![
                ("MEDIA_STORE", format!("gs://{bucket}/media")),
                ("GOOGLE_BASE_URL", endpoint.clone()),
                ("GOOGLE_SERVICE_ACCOUNT_KEY", service_account_key()),
            ],
        };
        pairs
            .into_iter()
            .chain([("MEDIA_MAX_VIDEO_BYTES", VIDEO_LIMIT.to_owned())])
            .map(|(name, value)| (name.to_owned(), value))
            .collect()
    }

    async fn spawn(&self, backend: Backend, more: &[(&str, &str)]) -> TestApp {
        let vars = self.vars();
        let mut all: Vec<(&str, &str)> =
            vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        all.extend_from_slice(more);
        TestApp::spawn_with(backend, &all).await
    }

    /// Whether the store holds an object under the media key `key`, asked of the store
    /// directly, not through the app.
    async fn holds(&self, app: &TestApp, key: &str) -> bool {
        match self {
            Self::Local => app.data_dir.join("media").join(key).is_file(),
            Self::S3 { endpoint, bucket } => {
                let s3 = object_store::aws::AmazonS3Builder::new()
                    .with_endpoint(endpoint)
                    .with_allow_http(true)
                    .with_bucket_name(bucket)
                    .with_region(S3_REGION)
                    .with_access_key_id(S3_KEY)
                    .with_secret_access_key(S3_KEY)
                    .build()
                    .unwrap();
                let path = object_store::path::Path::from(format!("media/{key}"));
                match s3.head(&path).await {
                    Ok(_) => true,
                    Err(object_store::Error::NotFound { .. }) => false,
                    Err(error) => panic!("moto answered {error}"),
                }
            }
            Self::Gcs { endpoint, bucket } => {
                let name = format!("media/{key}").replace('/', "%2F");
                let answer = reqwest::get(format!("{endpoint}/storage/v1/b/{bucket}/o/{name}"))
                    .await
                    .unwrap();
                match answer.status() {
                    StatusCode::OK => true,
                    StatusCode::NOT_FOUND => false,
                    other => panic!("the GCS emulator answered {other}"),
                }
            }
        }
    }

    /// Checks that `url` is this store's signed URL for the media key `key`.
    fn assert_signed_for(&self, app: &TestApp, url: &str, key: &str) {
        let (start, signature) = match self {
            Self::Local => (app.url("/media/uploads/"), ""),
            Self::S3 { endpoint, bucket } => (
                format!("{endpoint}/{bucket}/media/{key}?"),
                "X-Amz-Signature=",
            ),
            Self::Gcs { endpoint, bucket } => (
                format!("{endpoint}/{bucket}/media/{key}?"),
                "X-Goog-Signature=",
            ),
        };
        assert!(url.starts_with(&start), "{url} starts with {start}");
        assert!(url.contains(signature), "{url} is signed");
    }
}

fn picture(width: u32, height: u32, format: image::ImageFormat) -> Vec<u8> {
    let drawn = image::RgbImage::from_pixel(width, height, image::Rgb([200, 90, 40]));
    let mut bytes = Vec::new();
    drawn
        .write_to(&mut Cursor::new(&mut bytes), format)
        .unwrap();
    bytes
}

fn png(width: u32, height: u32) -> Vec<u8> {
    picture(width, height, image::ImageFormat::Png)
}

/// A signed-in person of `app`.
struct Person<'a> {
    app: &'a TestApp,
    token: String,
    id: Uuid,
}

impl<'a> Person<'a> {
    async fn of(app: &'a TestApp) -> Self {
        let (_, token) = app.signed_in_user().await;
        let id = app.user_id(&token).await;
        Self { app, token, id }
    }

    /// The media key an upload of this person gets: `<user>/<id>.<extension>`.
    fn key(&self, ticket: &Value, extension: &str) -> String {
        format!("{}/{}.{extension}", self.id, ticket["id"].as_str().unwrap())
    }

    async fn announce(&self, name: &str, content_type: &str, size: usize) -> (StatusCode, Value) {
        let response = self
            .app
            .client
            .post(self.app.url("/api/media/uploads"))
            .bearer_auth(&self.token)
            .json(&json!({ "file_name": name, "content_type": content_type, "size": size }))
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Announces a file and checks the answer's shape.
    async fn ticket(&self, name: &str, content_type: &str, size: usize) -> Value {
        let (status, ticket) = self.announce(name, content_type, size).await;
        assert_eq!(status, StatusCode::CREATED, "{ticket}");
        assert_eq!(ticket["method"], "PUT");
        assert_eq!(ticket["headers"], json!({ "content-type": content_type }));
        ticket
    }

    async fn confirm(&self, ticket: &Value) -> (StatusCode, Value) {
        let path = format!(
            "/api/media/uploads/{}/confirm",
            ticket["id"].as_str().unwrap()
        );
        let response = self
            .app
            .client
            .post(self.app.url(&path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Confirms an upload that must be refused; returns the reason.
    async fn refused(&self, ticket: &Value) -> String {
        let (status, body) = self.confirm(ticket).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        body["error"]["message"].as_str().unwrap().to_owned()
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.app
            .client
            .get(self.app.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    async fn delete(&self, item: &Value) -> StatusCode {
        let path = format!("/api/media/{}", item["id"].as_str().unwrap());
        self.app
            .client
            .delete(self.app.url(&path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .status()
    }

    /// Announces, sends and confirms a file, which must become media.
    async fn upload(&self, name: &str, content_type: &str, bytes: Vec<u8>) -> Value {
        let ticket = self.ticket(name, content_type, bytes.len()).await;
        let sent = send(&ticket, bytes).await;
        assert!(
            sent.status().is_success(),
            "the store took the file: {}",
            sent.status()
        );
        let (status, item) = self.confirm(&ticket).await;
        assert_eq!(status, StatusCode::CREATED, "{item}");
        item
    }
}

/// Sends `bytes` as the browser does: the ticket's method, URL and headers, no session.
async fn send(ticket: &Value, bytes: Vec<u8>) -> reqwest::Response {
    let mut request = reqwest::Client::new().put(ticket["url"].as_str().unwrap());
    for (name, value) in ticket["headers"].as_object().unwrap() {
        request = request.header(name.as_str(), value.as_str().unwrap());
    }
    request.body(bytes).send().await.unwrap()
}

async fn a_direct_upload_becomes_media_with_its_size_and_dimensions(
    store: Store,
    backend: Backend,
) {
    let app = store.spawn(backend, &[]).await;
    let me = Person::of(&app).await;
    let bytes = png(48, 36);
    let ticket = me.ticket("banner.png", "image/png", bytes.len()).await;
    let key = me.key(&ticket, "png");
    store.assert_signed_for(&app, ticket["url"].as_str().unwrap(), &key);
    let expires_at: DateTime<Utc> = ticket["expires_at"].as_str().unwrap().parse().unwrap();
    let left = expires_at - Utc::now();
    assert!(
        left > Duration::minutes(14) && left <= Duration::minutes(15),
        "the URL is good for 15 minutes: {left}"
    );

    // Confirmed before anything arrived: refused, and the upload still waits for its file.
    let (status, body) = me.confirm(&ticket).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("Nothing has arrived"), "{body}");

    let sent = send(&ticket, bytes.clone()).await;
    assert!(sent.status().is_success(), "{}", sent.status());
    assert!(
        store.holds(&app, &key).await,
        "the file went straight to the store"
    );
    let (status, item) = me.confirm(&ticket).await;
    assert_eq!(status, StatusCode::CREATED, "{item}");
    assert_eq!(item["id"], ticket["id"]);
    assert_eq!(item["mime"], "image/png");
    assert_eq!(
        (item["width"].as_u64(), item["height"].as_u64()),
        (Some(48), Some(36))
    );
    assert_eq!(item["bytes"].as_u64(), Some(bytes.len() as u64));
    // Confirmed once: the upload is media now, not an upload.
    assert_eq!(me.confirm(&ticket).await.0, StatusCode::NOT_FOUND);

    let list = me.get("/api/media").await.json::<Value>().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["bytes"].as_u64(), Some(bytes.len() as u64));
    assert_eq!(
        (list[0]["width"].as_u64(), list[0]["height"].as_u64()),
        (Some(48), Some(36))
    );
    let served = me.get(item["url"].as_str().unwrap()).await;
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.bytes().await.unwrap().as_ref(), bytes.as_slice());

    // A video: probed from the stored file, its poster kept beside it.
    let video = common::media::sample_mp4(1);
    let clip = me.upload("clip.mp4", "video/mp4", video.clone()).await;
    assert_eq!(clip["mime"], "video/mp4");
    assert_eq!(
        (clip["width"].as_u64(), clip["height"].as_u64()),
        (Some(320), Some(240))
    );
    assert_eq!(clip["video"]["video_codec"], "h264");
    let poster = me.get(clip["poster_url"].as_str().unwrap()).await;
    assert_eq!(poster.status(), StatusCode::OK);
    assert_eq!(
        &poster.bytes().await.unwrap()[..3],
        &[0xFF, 0xD8, 0xFF],
        "a JPEG"
    );
    let clip_key = format!("{}/{}.mp4", me.id, clip["id"].as_str().unwrap());
    let poster_key = format!("{}/{}.poster.jpg", me.id, clip["id"].as_str().unwrap());
    assert!(store.holds(&app, &poster_key).await);
    let served = me.get(clip["url"].as_str().unwrap()).await;
    assert_eq!(served.bytes().await.unwrap().as_ref(), video.as_slice());
    // Two files became media straight from the bucket; the early confirmation counted nothing.
    assert_eq!(
        common::recorded_events(&app).await,
        [
            (
                "media_uploaded".to_owned(),
                json!({"kind": "image", "direct": true})
            ),
            (
                "media_uploaded".to_owned(),
                json!({"kind": "video", "direct": true})
            ),
        ]
    );

    assert_eq!(me.delete(&item).await, StatusCode::NO_CONTENT);
    assert_eq!(me.delete(&clip).await, StatusCode::NO_CONTENT);
    for key in [key, clip_key, poster_key] {
        assert!(
            !store.holds(&app, &key).await,
            "{key} is gone from the store"
        );
    }
}

async fn what_arrives_must_be_what_was_announced(store: Store) {
    let app = store.spawn(Backend::Sqlite, &[]).await;
    let me = Person::of(&app).await;

    // A JPEG announced as a PNG.
    let jpeg = picture(30, 20, image::ImageFormat::Jpeg);
    let ticket = me.ticket("photo.png", "image/png", jpeg.len()).await;
    assert!(send(&ticket, jpeg).await.status().is_success());
    let reason = me.refused(&ticket).await;
    assert!(
        reason.contains("The file is a JPEG image, not the PNG image announced"),
        "{reason}"
    );
    assert!(
        !store.holds(&app, &me.key(&ticket, "png")).await,
        "the refused file is deleted"
    );
    assert_eq!(
        me.confirm(&ticket).await.0,
        StatusCode::NOT_FOUND,
        "and the upload with it"
    );

    // Text announced as a PNG.
    let text = b"not a picture at all, only words".repeat(20);
    let ticket = me.ticket("notes.png", "image/png", text.len()).await;
    assert!(send(&ticket, text).await.status().is_success());
    let reason = me.refused(&ticket).await;
    assert!(reason.contains("not the PNG image announced"), "{reason}");
    assert!(!store.holds(&app, &me.key(&ticket, "png")).await);

    // An image announced as a video.
    let drawn = png(16, 16);
    let ticket = me.ticket("clip.mp4", "video/mp4", drawn.len()).await;
    assert!(send(&ticket, drawn).await.status().is_success());
    let reason = me.refused(&ticket).await;
    assert!(
        reason.contains("an image, not the MP4 video announced"),
        "{reason}"
    );
    assert!(!store.holds(&app, &me.key(&ticket, "mp4")).await);

    // More bytes than announced. A bucket takes them (its presigned URL binds no size); the
    // app's own URL stops at the announced size. Either way nothing becomes media.
    let drawn = png(24, 24);
    let ticket = me.ticket("big.png", "image/png", drawn.len() - 10).await;
    let sent = send(&ticket, drawn).await;
    let key = me.key(&ticket, "png");
    if matches!(store, Store::Local) {
        assert_eq!(sent.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(!store.holds(&app, &key).await);
        let reason = me.refused(&ticket).await;
        assert!(reason.contains("Nothing has arrived"), "{reason}");
    } else {
        assert!(sent.status().is_success(), "{}", sent.status());
        let reason = me.refused(&ticket).await;
        assert!(reason.contains("bytes arrived, not the"), "{reason}");
        assert!(!store.holds(&app, &key).await);
    }

    // What the app would never keep is refused before any URL is made.
    let (status, body) = me.announce("huge.png", "image/png", 16 * 1024 * 1024).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "size");
    assert!(
        body.to_string().contains("images may be up to 15 MB"),
        "{body}"
    );
    let (status, body) = me.announce("long.mp4", "video/mp4", 3 * 1024 * 1024).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.to_string().contains("videos may be up to 2 MB"),
        "{body}"
    );
    let (status, body) = me.announce("doc.pdf", "application/pdf", 1000).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "content_type");
    let (status, _) = me.announce("empty.png", "image/png", 0).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Someone else's upload cannot be confirmed by another person.
    let drawn = png(10, 10);
    let ticket = me.ticket("mine.png", "image/png", drawn.len()).await;
    assert!(send(&ticket, drawn).await.status().is_success());
    let other = Person::of(&app).await;
    assert_eq!(other.confirm(&ticket).await.0, StatusCode::NOT_FOUND);
    assert_eq!(me.confirm(&ticket).await.0, StatusCode::CREATED);
    let usage = me
        .get("/api/media/usage")
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(usage["files"], 1, "only the confirmed file counts: {usage}");
}

async fn an_upload_not_confirmed_in_time_is_refused_then_swept(store: Store) {
    let clock = Arc::new(ManualClock::starting_at(Utc::now()));
    let vars = store.vars();
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let app = TestApp::spawn_with_clock(Backend::Sqlite, &vars, clock.clone()).await;
    let me = Person::of(&app).await;

    let late = png(20, 20);
    let ticket = me.ticket("late.png", "image/png", late.len()).await;
    assert!(send(&ticket, late).await.status().is_success());
    // Past the URL's 15 minutes and the hour an upload that started in time may take.
    clock.advance(Duration::minutes(15) + Duration::hours(1) + Duration::seconds(1));
    let reason = me.refused(&ticket).await;
    assert!(reason.contains("not confirmed in time"), "{reason}");
    assert!(
        !store.holds(&app, &me.key(&ticket, "png")).await,
        "what arrived is deleted"
    );
    assert_eq!(me.confirm(&ticket).await.0, StatusCode::NOT_FOUND);

    // Never confirmed at all: the sweep leaves it while it may still be confirmed, then
    // deletes it, object and record.
    let forgotten = png(22, 22);
    let ticket = me
        .ticket("forgotten.png", "image/png", forgotten.len())
        .await;
    assert!(send(&ticket, forgotten).await.status().is_success());
    let key = me.key(&ticket, "png");
    let (config, _) = server::config::Config::from_vars(&common::vars_of(&app)).unwrap();
    let backend = server::backend::Backend::open(&config, clock.clone())
        .await
        .unwrap();
    let library = server::media::library::MediaLibrary::new(
        backend.db.clone(),
        backend.media.clone(),
        clock.clone(),
        config.media_max_video_bytes,
        backend.pull_urls.clone(),
        backend.events.clone(),
    );
    assert_eq!(library.sweep_uploads().await.unwrap(), 0);
    assert!(
        store.holds(&app, &key).await,
        "an upload still in its time is left alone"
    );
    clock.advance(Duration::days(1));
    assert_eq!(library.sweep_uploads().await.unwrap(), 1);
    assert!(
        !store.holds(&app, &key).await,
        "the sweep deleted the object"
    );
    assert_eq!(
        me.confirm(&ticket).await.0,
        StatusCode::NOT_FOUND,
        "and the upload"
    );
    assert_eq!(library.sweep_uploads().await.unwrap(), 0);
}

/// A platform that downloads media gets the app's pull URL, which, once checked, sends it on
/// to the bucket's own signed GET (or, from the local directory, serves the file itself).
async fn a_pull_url_leads_to_the_stored_file(store: Store) {
    let key = server::crypto::generate_key();
    let app = store
        .spawn(Backend::Sqlite, &[("ENCRYPTION_KEY", key.as_str())])
        .await;
    let me = Person::of(&app).await;
    let bytes = png(33, 11);
    let item = me.upload("pulled.png", "image/png", bytes.clone()).await;
    let id = app::types::MediaId(item["id"].as_str().unwrap().parse().unwrap());
    let media_key = format!("{}/{}.png", me.id, id.0);

    let keyring = server::crypto::Keyring::new(&secrecy::SecretString::from(key), &[]).unwrap();
    let urls = server::media::pull::PullUrls::new(
        &app.url("/").parse().unwrap(),
        keyring.url_signing_key(),
    );
    let pull = urls.url(id, Utc::now());
    let answer = app.client.get(&pull).send().await.unwrap();
    match &store {
        Store::Local => {
            assert_eq!(answer.status(), StatusCode::OK);
            assert_eq!(answer.bytes().await.unwrap().as_ref(), bytes.as_slice());
        }
        Store::S3 { endpoint, bucket } | Store::Gcs { endpoint, bucket } => {
            assert_eq!(answer.status(), StatusCode::FOUND);
            let signed = answer.headers()["location"].to_str().unwrap().to_owned();
            store.assert_signed_for(&app, &signed, &media_key);
            let fetched = reqwest::get(&signed).await.unwrap();
            assert_eq!(fetched.status(), StatusCode::OK);
            assert_eq!(fetched.bytes().await.unwrap().as_ref(), bytes.as_slice());
            if matches!(store, Store::S3 { .. }) {
                // Without its signature the same object is not served: the signature opens it.
                let bare = reqwest::get(format!("{endpoint}/{bucket}/media/{media_key}"))
                    .await
                    .unwrap();
                assert_eq!(bare.status(), StatusCode::FORBIDDEN);
            }
        }
    }
    // A file deleted is no longer handed out, whatever URL was given before.
    assert_eq!(me.delete(&item).await, StatusCode::NO_CONTENT);
    let answer = app.client.get(&pull).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
}

/// The app's own upload URL (local directory): a wrong type or a changed signature is refused
/// at the door; the URL stops admitting the upload when it expires.
#[tokio::test]
async fn the_apps_own_upload_url_admits_only_what_was_announced() {
    let clock = Arc::new(ManualClock::starting_at(Utc::now()));
    let app = TestApp::spawn_with_clock(Backend::Sqlite, &[], clock.clone()).await;
    let me = Person::of(&app).await;
    let bytes = png(9, 9);
    let ticket = me.ticket("door.png", "image/png", bytes.len()).await;
    let url = ticket["url"].as_str().unwrap().to_owned();

    let wrong_type = reqwest::Client::new()
        .put(&url)
        .header("content-type", "image/jpeg")
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let mut tampered = url.clone();
    let last = if url.ends_with('0') { "1" } else { "0" };
    tampered.replace_range(url.len() - 1.., last);
    let forged = reqwest::Client::new()
        .put(&tampered)
        .header("content-type", "image/png")
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::NOT_FOUND);
    assert!(!Store::Local.holds(&app, &me.key(&ticket, "png")).await);

    clock.advance(Duration::minutes(16));
    let expired = send(&ticket, bytes).await;
    assert_eq!(expired.status(), StatusCode::FORBIDDEN);
    assert!(!Store::Local.holds(&app, &me.key(&ticket, "png")).await);
}

/// Runs each `async fn(Store)` once per store: the local directory, S3, GCS.
macro_rules! on_every_store {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use super::Store;

            #[tokio::test]
            async fn local() {
                super::$name(Store::Local).await
            }

            #[tokio::test]
            async fn s3() {
                if let Some(store) = Store::s3().await {
                    super::$name(store).await
                }
            }

            #[tokio::test]
            async fn gcs() {
                if let Some(store) = Store::gcs().await {
                    super::$name(store).await
                }
            }
        }
    )*};
}

on_every_store!(
    what_arrives_must_be_what_was_announced,
    an_upload_not_confirmed_in_time_is_refused_then_swept,
    a_pull_url_leads_to_the_stored_file,
);

/// The whole path on every store, and on PostgreSQL as well as SQLite.
mod a_direct_upload_becomes_media {
    use super::{
        Backend, Store, a_direct_upload_becomes_media_with_its_size_and_dimensions as run,
    };

    #[tokio::test]
    async fn local_sqlite() {
        run(Store::Local, Backend::Sqlite).await
    }

    #[tokio::test]
    async fn local_postgres() {
        run(Store::Local, Backend::Postgres).await
    }

    #[tokio::test]
    async fn s3_sqlite() {
        if let Some(store) = Store::s3().await {
            run(store, Backend::Sqlite).await
        }
    }

    #[tokio::test]
    async fn s3_postgres() {
        if let Some(store) = Store::s3().await {
            run(store, Backend::Postgres).await
        }
    }

    #[tokio::test]
    async fn gcs_sqlite() {
        if let Some(store) = Store::gcs().await {
            run(store, Backend::Sqlite).await
        }
    }
}
