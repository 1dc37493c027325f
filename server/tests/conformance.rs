//! The conformance suite: every platform, against its fake on 127.0.0.1, through the whole app
//! (REST, queue, worker, platform file). Connect and reconnect, publish each media kind the
//! platform takes, refresh an expiring token (and one refused before its expiry; on platforms
//! without refresh tokens, publish past the one that expires and wait for a reconnect after
//! the one refused), retry a 5xx
//! and a rate limit, fail a refusal at
//! once, find a post whose answer was lost instead of posting it twice, and wait for a
//! reconnect after the user revoked the app. Each platform runs the same cases; what differs
//! lives in `conformance/fakes.rs`. The pipeline itself is tested on every database and queue
//! in `publishing.rs`, so this suite runs on SQLite with the in-process queue.

mod common;
mod conformance {
    pub mod facebook;
    pub mod fakes;
    pub mod instagram;
    pub mod linkedin;
    pub mod pinterest;
    pub mod studio;
    pub mod tiktok;
    pub mod youtube;
}

use std::io::Cursor;

use chrono::SubsecRound;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use common::{Backend, TestApp};
use conformance::fakes::{Fake, MediaKind, Scripted};

const CLIENT_ID: &str = "conformance-client";
const CLIENT_SECRET: &str = "conformance-secret";

/// Runs every case for each `Fake => module` pair.
macro_rules! conformance {
    ($($fake:ty => $module:ident),* $(,)?) => {$(
        mod $module {
            type F = $fake;
            #[tokio::test]
            async fn connects_and_reconnects() { super::connects_and_reconnects::<F>().await }
            #[tokio::test]
            async fn publishes_each_media_kind() { super::publishes_each_media_kind::<F>().await }
            #[tokio::test]
            async fn refreshes_an_expiring_token() { super::refreshes_an_expiring_token::<F>().await }
            #[tokio::test]
            async fn retries_a_server_error_and_a_rate_limit() {
                super::retries_a_server_error_and_a_rate_limit::<F>().await
            }
            #[tokio::test]
            async fn refreshes_a_token_refused_before_its_expiry() {
                super::refreshes_a_token_refused_before_its_expiry::<F>().await
            }
            #[tokio::test]
            async fn fails_a_refusal_at_once() { super::fails_a_refusal_at_once::<F>().await }
            #[tokio::test]
            async fn finds_a_post_whose_answer_was_lost() {
                super::finds_a_post_whose_answer_was_lost::<F>().await
            }
            #[tokio::test]
            async fn previews_by_the_rules_it_publishes_by() {
                super::previews_by_the_rules_it_publishes_by::<F>().await
            }
            #[tokio::test]
            async fn waits_for_a_reconnect_after_revocation() {
                super::waits_for_a_reconnect_after_revocation::<F>().await
            }
        }
    )*};
}

conformance!(
    server::sandbox::x::XFake => x,
    server::sandbox::pinterest::PinterestFake => pinterest,
    server::sandbox::linkedin::LinkedInFake => linkedin,
    server::sandbox::youtube::YouTubeFake => youtube,
    server::sandbox::tiktok::TikTokFake => tiktok,
    crate::conformance::fakes::FacebookSide => facebook,
    crate::conformance::fakes::InstagramSide => instagram,
);

/// The app with one platform pointed at a fresh fake, and a signed-in user.
struct World<F: Fake> {
    app: TestApp,
    fake: F,
    token: String,
    _fake_server: tokio::task::JoinHandle<()>,
}

impl<F: Fake> World<F> {
    async fn new() -> Self {
        Self::start(F::new(CLIENT_ID, CLIENT_SECRET), None).await
    }

    /// The app on `clock` (its own time otherwise), pointed at `fake`.
    async fn start(fake: F, clock: Option<server::clock::SharedClock>) -> Self {
        Self::start_with(fake, clock, &[]).await
    }

    /// [`World::start`] with more variables.
    async fn start_with(
        fake: F,
        clock: Option<server::clock::SharedClock>,
        more: &[(&str, &str)],
    ) -> Self {
        let (addr, fake_server) = server::sandbox::serve(fake.router())
            .await
            .expect("the fake listens");
        let url = format!("http://{addr}");
        let names = ["CLIENT_ID", "CLIENT_SECRET", "AUTH_URL", "API_URL"]
            .map(|name| format!("{}_{name}", F::PREFIX));
        let extra = F::extra_vars(&url);
        let mut vars = vec![
            (names[0].as_str(), CLIENT_ID),
            (names[1].as_str(), CLIENT_SECRET),
            (names[2].as_str(), url.as_str()),
            (names[3].as_str(), url.as_str()),
            ("PLATFORM_TIMEOUT_SECS", "2"),
            ("PUBLISH_BACKOFF_BASE_MS", "200"),
            ("RATE_LIMIT_POST", "1000/min"),
        ];
        vars.extend(
            extra
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str())),
        );
        vars.extend_from_slice(more);
        let app = match clock {
            Some(clock) => TestApp::spawn_with_clock(Backend::Sqlite, &vars, clock).await,
            None => TestApp::spawn_with(Backend::Sqlite, &vars).await,
        };
        let (_, token) = app.signed_in_user().await;
        Self {
            app,
            fake,
            token,
            _fake_server: fake_server,
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("the request is sent");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.app.client.get(self.app.url(path))).await
    }

    async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.send(self.app.client.post(self.app.url(path)).json(body))
            .await
    }

    /// Takes `username` through the platform's consent as a browser would, and returns where
    /// the app's callback sends the browser: `/connections?connected=..`, or `?choose=..` when
    /// the consent gave access to several accounts.
    async fn consent(&self, username: &str) -> String {
        let (status, body) = self
            .post(
                &format!("/api/connections/{}/authorize", F::PLATFORM),
                &json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let back = self
            .fake
            .authorize_directly(body["url"].as_str().unwrap(), username)
            .expect("the fake accepts our authorize URL");
        let response = self
            .app
            .client
            .get(&back)
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        response.headers()["location"].to_str().unwrap().to_owned()
    }

    /// Connects `username` as a browser would and returns the connection id.
    async fn connect(&self, username: &str) -> String {
        let location = self.consent(username).await;
        assert!(location.contains("connected="), "{location}");
        let (_, overview) = self.get("/api/connections").await;
        let handle = self.fake.handle_of(username);
        overview["connections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|connection| connection["handle"] == handle.as_str())
            .unwrap_or_else(|| panic!("{username} is connected: {overview}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn upload_image(&self, shade: u8) -> String {
        let image = image::RgbImage::from_pixel(64, 48, image::Rgb([shade, 120, 200]));
        let mut bytes = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Jpeg)
            .unwrap();
        self.upload_file(bytes, "photo.jpg").await
    }

    async fn upload_file(&self, bytes: Vec<u8>, name: &str) -> String {
        let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()));
        let (status, body) = self
            .send(
                self.app
                    .client
                    .post(self.app.url("/api/media"))
                    .multipart(form),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// The options a post to `connection` needs (see `common::options`).
    async fn options_for(&self, connection: &str) -> Value {
        common::options::required_options(
            &self.app.client,
            &self.app.url(""),
            &self.token,
            connection,
        )
        .await
    }

    /// Creates a post to publish now on `connection`, with media of `kind`.
    async fn publish(&self, connection: &str, text: &str, kind: MediaKind) -> Value {
        let options = self.options_for(connection).await;
        self.publish_with(connection, text, kind, options).await
    }

    async fn publish_with(
        &self,
        connection: &str,
        text: &str,
        kind: MediaKind,
        options: Value,
    ) -> Value {
        let media = self.upload_media(kind).await;
        self.create_post(connection, text, &media, options).await
    }

    /// Uploads media of `kind` and returns their ids.
    async fn upload_media(&self, kind: MediaKind) -> Vec<String> {
        let mut media = Vec::new();
        let images = match kind {
            MediaKind::TextOnly | MediaKind::Video => 0,
            MediaKind::OneImage => 1,
            MediaKind::Images(count) => count,
        };
        for shade in 0..images {
            media.push(self.upload_image(u8::try_from(shade * 40).unwrap()).await);
        }
        if kind == MediaKind::Video {
            // Four seconds: the shortest video every platform here takes (Pinterest's floor).
            let video = common::media::sample_mp4(4);
            media.push(self.upload_file(video, "clip.mp4").await);
        }
        media
    }

    /// The composer's previews of a draft to `connection` (`/rpc/posts/preview`), as HTML.
    async fn preview(
        &self,
        connection: &str,
        text: &str,
        media: &[String],
        options: &Value,
    ) -> String {
        let body = json!({ "post": {
            "text": text,
            "media_ids": media,
            "targets": [{ "connection_id": connection, "options": options }],
            "schedule": "draft",
        }});
        let (status, html) = self.post("/rpc/posts/preview", &body).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        html.as_str().expect("the previews are HTML").to_owned()
    }

    /// Creates a post of `text` and the uploaded `media` to publish now on `connection`.
    async fn create_post(
        &self,
        connection: &str,
        text: &str,
        media: &[String],
        options: Value,
    ) -> Value {
        let body = json!({
            "text": text,
            "media_ids": media,
            "targets": [{ "connection_id": connection, "options": options }],
            "schedule": "now",
        });
        let (status, post) = self.post("/api/posts", &body).await;
        assert_eq!(status, StatusCode::CREATED, "{post}");
        post
    }

    /// Moves `clock` a minute at a time (each move lets the platform's next look at a post
    /// in processing fall due) until the post's target is in `status`, for ten moves at most.
    async fn advance_until(
        &self,
        clock: &server::clock::ManualClock,
        post: &Value,
        status: &str,
    ) -> Value {
        let path = format!("/api/posts/{}", post["id"].as_str().unwrap());
        for _ in 0..10 {
            clock.advance(chrono::TimeDelta::seconds(61));
            for _ in 0..80 {
                let (_, current) = self.get(&path).await;
                if current["targets"][0]["status"] == status {
                    return current;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        let (_, current) = self.get(&path).await;
        panic!("the post never became {status}: {current:#}");
    }

    /// Polls the post until its target is in `status` (or fails after 20 s).
    async fn wait_for(&self, post: &Value, status: &str) -> Value {
        let path = format!("/api/posts/{}", post["id"].as_str().unwrap());
        for _ in 0..200 {
            let (_, current) = self.get(&path).await;
            if current["targets"][0]["status"] == status {
                return current;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let (_, current) = self.get(&path).await;
        panic!("the post never became {status}: {current:#}");
    }
}

fn log_messages(post: &Value) -> Vec<String> {
    post["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["message"].as_str().unwrap().to_owned())
        .collect()
}

async fn connects_and_reconnects<F: Fake>() {
    let world = World::<F>::new().await;
    let id = world.connect("cornershop").await;
    let (_, overview) = world.get("/api/connections").await;
    let connection = &overview["connections"][0];
    assert_eq!(connection["platform"], F::PLATFORM);
    assert_eq!(connection["status"], "active");
    assert!(!overview.to_string().contains("token"), "{overview}");
    assert_eq!(world.connect("cornershop").await, id, "a reconnect updates");
    assert_ne!(world.connect("othershop").await, id);
}

async fn publishes_each_media_kind<F: Fake>() {
    let world = World::<F>::new().await;
    let connection = world.connect("cornershop").await;
    for (index, kind) in world.fake.media_kinds().into_iter().enumerate() {
        let text = format!("New mugs in the shop, batch {index}");
        let asked_at = chrono::Utc::now();
        let post = world.publish(&connection, &text, kind).await;
        let done = world.wait_for(&post, "published").await;
        let target = &done["targets"][0];
        assert!(
            target["external_id"].as_str().is_some(),
            "{kind:?}: {done:#}"
        );
        let url = target["url"].as_str().unwrap();
        assert!(url.starts_with("http"), "{kind:?}: {url}");
        assert_eq!(world.fake.post_count(), index + 1, "{kind:?}");
        // The platform holds it under the id the app shows, with the text as written.
        let external = target["external_id"].as_str().unwrap();
        let ledger = world.fake.ledger();
        let there = ledger
            .iter()
            .find(|post| post.ids.iter().any(|id| id == external))
            .unwrap_or_else(|| panic!("{kind:?}: {external} is not among {ledger:?}"));
        assert_eq!(there.text, text, "{kind:?}");
        assert!(
            there.created_at >= asked_at.trunc_subsecs(0),
            "{kind:?}: {there:?}"
        );
    }
}

/// The composer's preview of each media kind shows the account, the platform's counter and no
/// problem; an empty post gets, before anything is stored, the very refusal creating it gets.
async fn previews_by_the_rules_it_publishes_by<F: Fake>() {
    let world = World::<F>::new().await;
    let connection = world.connect("cornershop").await;
    let (_, overview) = world.get("/api/connections").await;
    let handle = overview["connections"][0]["handle"]
        .as_str()
        .unwrap()
        .to_owned();
    let options = world.options_for(&connection).await;
    for kind in world.fake.media_kinds() {
        let media = world.upload_media(kind).await;
        let html = world
            .preview(&connection, "New mugs in the shop", &media, &options)
            .await;
        assert!(
            html.contains(&format!(r#"aria-label="Preview for @{handle} on "#)),
            "{kind:?}: {html}"
        );
        assert!(html.contains("20/"), "{kind:?}: the counter: {html}");
        assert!(!html.contains("field-error"), "{kind:?}: {html}");
        if let Some(title) = options["title"].as_str() {
            assert!(
                html.contains(&format!(r#"<p class="preview-headline">{title}</p>"#)),
                "{kind:?}: the title, where the platform shows one: {html}"
            );
        }
    }

    let html = world.preview(&connection, "", &[], &options).await;
    let body = json!({
        "text": "",
        "media_ids": [],
        "targets": [{ "connection_id": connection, "options": options }],
        "schedule": "now",
    });
    let (status, refused) = world.post("/api/posts", &body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let message = refused["error"]["message"].as_str().unwrap();
    // The post's refusal names the account first: "@shop on X: <the platform's words>".
    let words = message.split_once(": ").map_or(message, |(_, words)| words);
    let escaped = words
        .replace('&', "&amp;")
        .replace('\'', "&#39;")
        .replace('"', "&quot;");
    assert!(
        html.contains(words) || html.contains(&escaped),
        "the preview says what creating the post says ({message}): {html}"
    );
    assert_eq!(world.fake.post_count(), 0);
}

async fn refreshes_an_expiring_token<F: Fake>() {
    let world = World::<F>::new().await;
    // Tokens that expire within the five minutes before a publish are refreshed first.
    world.fake.set_access_token_lifetime(60);
    let connection = world.connect("cornershop").await;
    let kind = world.fake.media_kinds()[0];
    let post = world
        .publish(&connection, "Fresh token, fresh post", kind)
        .await;
    world.wait_for(&post, "published").await;
    if F::REFRESHES_TOKENS {
        assert!(world.fake.refresh_count() >= 1);
    } else {
        // The user's token expiring soon does not touch the Page token the post goes out
        // with, and nothing tries to renew it.
        assert_eq!(world.fake.refresh_count(), 0);
    }
    assert_eq!(world.fake.post_count(), 1);
}

async fn retries_a_server_error_and_a_rate_limit<F: Fake>() {
    let world = World::<F>::new().await;
    let connection = world.connect("cornershop").await;
    let kind = world.fake.media_kinds()[0];
    for (round, failure) in [Scripted::ServerError, Scripted::RateLimited]
        .into_iter()
        .enumerate()
    {
        world.fake.fail_next_publish(failure);
        let text = format!("Second time lucky, round {round}");
        let post = world.publish(&connection, &text, kind).await;
        let done = world.wait_for(&post, "published").await;
        assert_eq!(done["targets"][0]["attempts"], 2, "{failure:?}: {done:#}");
        assert_eq!(world.fake.post_count(), round + 1, "{failure:?}");
    }
}

async fn refreshes_a_token_refused_before_its_expiry<F: Fake>() {
    let world = World::<F>::new().await;
    let connection = world.connect("cornershop").await;
    let kind = world.fake.media_kinds()[0];
    world.fake.fail_next_publish(Scripted::TokenRefused);
    let post = world
        .publish(&connection, "A token past its time", kind)
        .await;
    if !F::REFRESHES_TOKENS {
        // Nothing to refresh with: the account waits for a reconnect at once, then posts.
        let waiting = world.wait_for(&post, "waiting_reconnect").await;
        assert_eq!(waiting["targets"][0]["attempts"], 1, "{waiting:#}");
        assert_eq!(world.fake.post_count(), 0);
        world.connect("cornershop").await;
        world.wait_for(&post, "published").await;
        assert_eq!(world.fake.refresh_count(), 0);
        assert_eq!(world.fake.post_count(), 1);
        return;
    }
    let done = world.wait_for(&post, "published").await;
    assert_eq!(done["targets"][0]["attempts"], 2, "{done:#}");
    assert_eq!(world.fake.refresh_count(), 1);
    assert_eq!(world.fake.post_count(), 1);
}

async fn fails_a_refusal_at_once<F: Fake>() {
    let world = World::<F>::new().await;
    let connection = world.connect("cornershop").await;
    let kind = world.fake.media_kinds()[0];
    world.fake.fail_next_publish(Scripted::Validation);
    let post = world.publish(&connection, "Not like this", kind).await;
    let done = world.wait_for(&post, "failed").await;
    let target = &done["targets"][0];
    assert_eq!(target["attempts"], 1, "{done:#}");
    assert!(!target["error"].as_str().unwrap().is_empty());
    assert_eq!(world.fake.post_count(), 0);
}

async fn finds_a_post_whose_answer_was_lost<F: Fake>() {
    let world = World::<F>::new().await;
    let connection = world.connect("cornershop").await;
    let kind = world.fake.media_kinds()[0];
    world.fake.fail_next_publish(Scripted::CreatedThenDropped);
    let post = world
        .publish(&connection, "Exactly once, please", kind)
        .await;
    let done = world.wait_for(&post, "published").await;
    assert_eq!(world.fake.post_count(), 1, "{done:#}");
    let logs = log_messages(&done);
    assert!(
        logs.iter()
            .any(|line| line.starts_with("reconciled: already published")),
        "{logs:#?}"
    );
}

async fn waits_for_a_reconnect_after_revocation<F: Fake>() {
    let world = World::<F>::new().await;
    let connection = world.connect("cornershop").await;
    let options = world.options_for(&connection).await;
    world.fake.revoke_all("cornershop");
    let kind = world.fake.media_kinds()[0];
    let post = world
        .publish_with(&connection, "After the reconnect", kind, options)
        .await;
    let waiting = world.wait_for(&post, "waiting_reconnect").await;
    assert!(
        waiting["targets"][0]["error"]
            .as_str()
            .unwrap()
            .contains("Reconnect"),
        "{waiting:#}"
    );
    assert_eq!(world.fake.post_count(), 0);
    world.connect("cornershop").await;
    world.wait_for(&post, "published").await;
    assert_eq!(world.fake.post_count(), 1);
}
