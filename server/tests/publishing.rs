//! Publishing on X end to end, against the X fake on 127.0.0.1: connecting, publishing now and
//! later, each failure class, token refresh, reconciliation after a lost answer, fencing of a
//! stale attempt, cancel, retry, delete, and the queue losing its contents. On both databases
//! and, where the queue matters, on both queue backends.

mod common;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use common::{Backend, REDIS_URL, TestApp};
use server::sandbox::x::{Endpoint, Failure, XFake};

const CLIENT_ID: &str = "test-client";
const CLIENT_SECRET: &str = "test-secret";

/// A database and a queue backend to run a scenario on.
#[derive(Debug, Clone, Copy)]
struct Setup {
    db: Backend,
    redis: bool,
}

impl From<Backend> for Setup {
    fn from(db: Backend) -> Self {
        Self { db, redis: false }
    }
}

/// Runs each named `async fn(Setup)` on SQLite with the in-process queue, on PostgreSQL with
/// the in-process queue, and on PostgreSQL with Redis.
macro_rules! on_every_setup {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use super::{Backend, Setup};
            #[tokio::test]
            async fn sqlite_local() { super::$name(Setup { db: Backend::Sqlite, redis: false }).await }
            #[tokio::test]
            async fn postgres_local() { super::$name(Setup { db: Backend::Postgres, redis: false }).await }
            #[tokio::test]
            async fn postgres_redis() { super::$name(Setup { db: Backend::Postgres, redis: true }).await }
        }
    )*};
}

/// An app whose X points at a fresh fake. `extra` adds or changes variables.
struct XWorld {
    app: TestApp,
    fake: XFake,
    fake_url: String,
    _fake_server: tokio::task::JoinHandle<()>,
}

async fn x_world(setup: impl Into<Setup>, extra: &[(&str, &str)]) -> XWorld {
    x_world_on_clock(
        setup,
        extra,
        std::sync::Arc::new(server::clock::SystemClock),
    )
    .await
}

/// [`x_world`] with an app that reads the time from `clock`.
async fn x_world_on_clock(
    setup: impl Into<Setup>,
    extra: &[(&str, &str)],
    clock: server::clock::SharedClock,
) -> XWorld {
    let setup = setup.into();
    let fake = XFake::new(CLIENT_ID, CLIENT_SECRET);
    let (addr, fake_server) = server::sandbox::serve(fake.router())
        .await
        .expect("the fake listens");
    let fake_url = format!("http://{addr}");
    let mut vars = x_vars(&fake_url);
    // Every process of one deployment shares the token key (a second process reads it here).
    vars.push(("ENCRYPTION_KEY".into(), server::crypto::generate_key()));
    if setup.redis {
        vars.extend(on_redis().into_iter().map(|(k, v)| (k.to_owned(), v)));
    }
    vars.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let app = TestApp::spawn_with_clock(setup.db, &vars, clock).await;
    XWorld {
        app,
        fake,
        fake_url,
        _fake_server: fake_server,
    }
}

fn x_vars(fake_url: &str) -> Vec<(String, String)> {
    [
        ("X_CLIENT_ID", CLIENT_ID),
        ("X_CLIENT_SECRET", CLIENT_SECRET),
        ("X_AUTH_URL", fake_url),
        ("X_API_URL", fake_url),
        ("PLATFORM_TIMEOUT_SECS", "2"),
        ("PUBLISH_BACKOFF_BASE_MS", "200"),
        ("RATE_LIMIT_POST", "1000/min"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// Variables that put an app's queue on Redis under a fresh prefix.
fn on_redis() -> Vec<(&'static str, String)> {
    vec![
        ("REDIS_URL", REDIS_URL.to_owned()),
        (
            "REDIS_PREFIX",
            format!("picscripter-test:{}", Uuid::new_v4().simple()),
        ),
    ]
}

impl XWorld {
    async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.expect("the request is sent");
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        self.send(self.app.client.get(self.app.url(path)).bearer_auth(token))
            .await
    }

    async fn post(&self, token: &str, path: &str, body: &Value) -> (StatusCode, Value) {
        self.send(
            self.app
                .client
                .post(self.app.url(path))
                .bearer_auth(token)
                .json(body),
        )
        .await
    }

    /// Connects the sandbox account `username` for the user, as a browser would: authorize,
    /// consent at the fake, come back to the callback. Returns the connection id.
    async fn connect(&self, token: &str, username: &str) -> String {
        let location = self.consent(token, username).await;
        assert!(
            location.starts_with("/connections?connected="),
            "{location}"
        );
        let (_, overview) = self.get(token, "/api/connections").await;
        overview["connections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|connection| connection["handle"] == username)
            .unwrap_or_else(|| panic!("{username} is connected: {overview}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Runs the OAuth round trip and returns where the callback sent the browser.
    async fn consent(&self, token: &str, username: &str) -> String {
        let (status, body) = self
            .post(token, "/api/connections/x/authorize", &json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let url = body["url"].as_str().unwrap();
        assert!(url.starts_with(&self.fake_url), "{url}");
        let back = self
            .fake
            .authorize_directly(url, username)
            .expect("the fake accepts our authorize URL");
        self.callback(token, &back).await
    }

    async fn callback(&self, token: &str, url: &str) -> String {
        let response = self
            .app
            .client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_redirection(), "{}", response.status());
        response.headers()["location"].to_str().unwrap().to_owned()
    }

    async fn create(&self, token: &str, body: &Value) -> Value {
        let (status, post) = self.post(token, "/api/posts", body).await;
        assert_eq!(status, StatusCode::CREATED, "{post}");
        post
    }

    /// Polls the post until its first target is in `status` (or fails after 20 s).
    async fn wait_for(&self, token: &str, post: &Value, status: &str) -> Value {
        let path = format!("/api/posts/{}", post["id"].as_str().unwrap());
        for _ in 0..200 {
            let (_, current) = self.get(token, &path).await;
            if current["targets"][0]["status"] == status {
                return current;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let (_, current) = self.get(token, &path).await;
        panic!("the post never became {status}: {current:#}");
    }
}

fn now_post(connection: &str, text: &str) -> Value {
    json!({ "text": text, "targets": [{ "connection_id": connection }], "schedule": "now" })
}

fn log_messages(post: &Value) -> Vec<String> {
    post["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["message"].as_str().unwrap().to_owned())
        .collect()
}

async fn connecting_stores_the_account_without_its_tokens(backend: Backend) {
    let world = x_world(backend, &[]).await;
    let (_, token) = world.app.signed_in_user().await;
    let id = world.connect(&token, "shop_owner").await;
    let (_, overview) = world.get(&token, "/api/connections").await;
    let connection = &overview["connections"][0];
    assert_eq!(connection["platform"], "x");
    assert_eq!(connection["status"], "active");
    assert_eq!(connection["display_name"], "Shop_owner");
    assert!(
        connection["avatar_url"]
            .as_str()
            .unwrap()
            .starts_with("data:image/svg+xml")
    );
    let x = overview["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|platform| platform["platform"] == "x")
        .unwrap();
    assert_eq!(x["availability"], "available");
    assert!(!overview.to_string().contains("token"), "{overview}");

    // Reconnecting the same account updates it; another account is a second connection.
    assert_eq!(world.connect(&token, "shop_owner").await, id);
    world.connect(&token, "second_shop").await;
    let (_, overview) = world.get(&token, "/api/connections").await;
    assert_eq!(overview["connections"].as_array().unwrap().len(), 2);
}

async fn a_reused_or_denied_authorization_says_so_on_the_connections_page(backend: Backend) {
    let world = x_world(backend, &[]).await;
    let (_, token) = world.app.signed_in_user().await;
    let (_, body) = world
        .post(&token, "/api/connections/x/authorize", &json!({}))
        .await;
    let back = world
        .fake
        .authorize_directly(body["url"].as_str().unwrap(), "someone")
        .unwrap();
    assert!(world.callback(&token, &back).await.contains("connected="));
    let again = world.callback(&token, &back).await;
    assert!(again.starts_with("/connections?error="), "{again}");
    assert!(again.contains("expired"), "{again}");

    // Another user cannot complete this user's authorization.
    let (_, body) = world
        .post(&token, "/api/connections/x/authorize", &json!({}))
        .await;
    let back = world
        .fake
        .authorize_directly(body["url"].as_str().unwrap(), "someone")
        .unwrap();
    let (_, intruder) = world.app.signed_in_user().await;
    assert!(world.callback(&intruder, &back).await.contains("error="));

    let state = back.split("state=").nth(1).unwrap();
    let denied = format!(
        "{}/oauth/x/callback?error=access_denied&state={state}",
        world.app.address
    );
    let location = world.callback(&token, &denied).await;
    assert!(
        location.contains("not+allowed") || location.contains("not%20allowed"),
        "{location}"
    );
}

async fn an_unconfigured_platform_says_so_instead_of_failing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.signed_in_user().await;
    let response = app
        .client
        .get(app.url("/api/connections"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let overview: Value = response.json().await.unwrap();
    let availability: Vec<(String, String)> = overview["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["platform"].as_str().unwrap().to_owned(),
                p["availability"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(availability.contains(&("x".into(), "not_configured".into())));
    assert!(availability.contains(&("tiktok".into(), "not_configured".into())));
    assert!(availability.contains(&("instagram".into(), "not_configured".into())));
    let response = app
        .client
        .post(app.url("/api/connections/x/authorize"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let body = common::error_body(response, StatusCode::CONFLICT).await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("not configured by the operator")
    );
}

async fn publishing_now_records_the_link_and_a_job_log(setup: Setup) {
    let world = x_world(setup, &[]).await;
    let (_, token) = world.app.signed_in_user().await;
    let connection = world.connect(&token, "maker").await;
    let post = world
        .create(&token, &now_post(&connection, "Fresh mugs today"))
        .await;
    assert_eq!(post["targets"][0]["status"], "scheduled");
    let done = world.wait_for(&token, &post, "published").await;
    let target = &done["targets"][0];
    let posted = world.fake.posts();
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].text, "Fresh mugs today");
    assert_eq!(target["external_id"], posted[0].id.as_str());
    assert_eq!(
        target["url"],
        format!("{}/maker/status/{}", world.fake_url, posted[0].id)
    );
    let logs = log_messages(&done);
    assert!(
        logs.iter().any(|line| line.contains("leased by worker")),
        "{logs:?}"
    );
    assert!(
        logs.iter().any(|line| line.starts_with("published as")),
        "{logs:?}"
    );
    // The link works: the fake shows the post.
    let page = reqwest::get(target["url"].as_str().unwrap()).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);

    // What the operator sees: the attempt counted, the target published, nothing waiting,
    // workers alive.
    let metrics = world
        .app
        .client
        .get(world.app.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    let text = metrics.text().await.unwrap();
    for line in [
        "picscripter_publish_attempts_total{outcome=\"published\"} 1\n",
        "picscripter_post_targets{status=\"published\"} 1\n",
        "picscripter_queue_lag_seconds 0.0\n",
    ] {
        assert!(text.contains(line), "{line} in {text}");
    }
    let silence: f64 = text
        .lines()
        .find_map(|line| line.strip_prefix("picscripter_worker_silence_seconds "))
        .expect("a process with workers reports their pulse")
        .parse()
        .unwrap();
    assert!((0.0..5.0).contains(&silence), "{text}");
    let ready: serde_json::Value = world
        .app
        .client
        .get(world.app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["checks"]["workers"], "ok");
}

async fn a_scheduled_post_waits_for_its_time(setup: Setup) {
    let world = x_world(setup, &[]).await;
    let (_, token) = world.app.signed_in_user().await;
    let connection = world.connect(&token, "planner").await;
    let at = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let post = world
        .create(
            &token,
            &json!({ "text": "Later", "targets": [{ "connection_id": connection }], "schedule": { "at": at } }),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(world.fake.post_count(), 0, "nothing goes out early");
    let done = world.wait_for(&token, &post, "published").await;
    let published_at: chrono::DateTime<chrono::Utc> = done["targets"][0]["published_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(published_at >= at.parse::<chrono::DateTime<chrono::Utc>>().unwrap());
}

async fn failures_are_retried_or_failed_by_class(setup: Setup) {
    let world = x_world(setup, &[]).await;
    let (_, token) = world.app.signed_in_user().await;
    let connection = world.connect(&token, "classy").await;

    // A 503 and a 429 are retried, then it goes out.
    world.fake.fail_next(
        Endpoint::CreatePost,
        [
            Failure::ServerError(503),
            Failure::RateLimited { reset_in_secs: 0 },
        ],
    );
    let post = world
        .create(&token, &now_post(&connection, "Retry me"))
        .await;
    let done = world.wait_for(&token, &post, "published").await;
    assert_eq!(done["targets"][0]["attempts"], 3);
    let logs = log_messages(&done);
    assert!(
        logs.iter().any(|line| line.contains("server error (503)")),
        "{logs:?}"
    );
    assert!(
        logs.iter().any(|line| line.contains("rate limit")),
        "{logs:?}"
    );

    // Duplicate content fails at once with a reason a person can act on.
    let post = world
        .create(&token, &now_post(&connection, "Retry me"))
        .await;
    let failed = world.wait_for(&token, &post, "failed").await;
    assert_eq!(failed["targets"][0]["attempts"], 1);
    assert_eq!(
        failed["targets"][0]["error"],
        "X refused the post as duplicate content: edit the text and retry."
    );

    // A validation error fails; after the cause is gone, "retry" publishes it.
    world.fake.fail_next(
        Endpoint::CreatePost,
        [Failure::Validation(
            "The Tweet contains an invalid URL.".into(),
        )],
    );
    let post = world
        .create(&token, &now_post(&connection, "Bad link"))
        .await;
    let failed = world.wait_for(&token, &post, "failed").await;
    assert!(
        failed["targets"][0]["error"]
            .as_str()
            .unwrap()
            .contains("invalid URL")
    );
    let retry = format!(
        "/api/posts/{}/targets/{}/retry",
        post["id"].as_str().unwrap(),
        failed["targets"][0]["id"].as_str().unwrap()
    );
    let (status, _) = world.post(&token, &retry, &json!({})).await;
    assert_eq!(status, StatusCode::OK);
    world.wait_for(&token, &post, "published").await;

    // The monthly usage cap is final for this attempt.
    world
        .fake
        .fail_next(Endpoint::CreatePost, [Failure::UsageCapped]);
    let post = world.create(&token, &now_post(&connection, "Capped")).await;
    let failed = world.wait_for(&token, &post, "failed").await;
    assert!(
        failed["targets"][0]["error"]
            .as_str()
            .unwrap()
            .contains("cap")
    );
}

async fn retries_stop_at_the_attempt_limit(setup: Setup) {
    let world = x_world(setup, &[("PUBLISH_MAX_ATTEMPTS", "2")]).await;
    let (_, token) = world.app.signed_in_user().await;
    let connection = world.connect(&token, "unlucky").await;
    world.fake.fail_next(
        Endpoint::CreatePost,
        [Failure::ServerError(500), Failure::ServerError(502)],
    );
    let post = world.create(&token, &now_post(&connection, "Never")).await;
    let failed = world.wait_for(&token, &post, "failed").await;
    assert_eq!(failed["targets"][0]["attempts"], 2);
    assert!(
        failed["targets"][0]["error"]
            .as_str()
            .unwrap()
            .starts_with("Gave up after 2 attempts")
    );
    assert_eq!(world.fake.post_count(), 0);
}

async fn a_refused_token_waits_for_a_reconnect_then_goes_out(setup: Setup) {
    let world = x_world(setup, &[]).await;
    let (_, token) = world.app.signed_in_user().await;
    let connection = world.connect(&token, "lapsed").await;
    world.fake.revoke_all_tokens_of("lapsed");
    let post = world
        .create(&token, &now_post(&connection, "After reconnect"))
        .await;
    let waiting = world.wait_for(&token, &post, "waiting_reconnect").await;
    assert!(
        waiting["targets"][0]["error"]
            .as_str()
            .unwrap()
            .contains("Reconnect @lapsed")
    );
    let (_, overview) = world.get(&token, "/api/connections").await;
    assert_eq!(overview["connections"][0]["status"], "needs_reconnect");
    // A new post on that account waits at once, saying why.
    let second = world
        .create(&token, &now_post(&connection, "Also waiting"))
        .await;
    assert_eq!(second["targets"][0]["status"], "waiting_reconnect");

    world.connect(&token, "lapsed").await;
    world.wait_for(&token, &post, "published").await;
    world.wait_for(&token, &second, "published").await;
    let (_, overview) = world.get(&token, "/api/connections").await;
    assert_eq!(overview["connections"][0]["status"], "active");
}

async fn an_expiring_token_is_refreshed_once_for_concurrent_posts(setup: Setup) {
    let world = x_world(setup, &[("WORKER_CONCURRENCY", "4")]).await;
    let (_, token) = world.app.signed_in_user().await;
    // The first token expires within five minutes; the refreshed ones last two hours.
    world.fake.set_access_token_lifetime(60);
    let connection = world.connect(&token, "refresher").await;
    world.fake.set_access_token_lifetime(7200);
    let mut posts = Vec::new();
    for n in 0..4 {
        posts.push(
            world
                .create(&token, &now_post(&connection, &format!("Post {n}")))
                .await,
        );
    }
    for post in &posts {
        let done = world.wait_for(&token, post, "published").await;
        assert!(done["targets"][0]["url"].is_string());
    }
    assert_eq!(world.fake.refresh_count(), 1, "one refresh for four posts");
    assert_eq!(world.fake.post_count(), 4);
}

async fn two_processes_refresh_once_and_publish_once(backend: Backend) {
    let redis = on_redis();
    let redis: Vec<(&str, &str)> = redis.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let world = x_world(backend, &redis).await;
    let (_, token) = world.app.signed_in_user().await;
    world.fake.set_access_token_lifetime(60);
    let connection = world.connect(&token, "scaled").await;
    world.fake.set_access_token_lifetime(7200);
    // A second process on the same database and queue, with its own workers.
    let mut vars: Vec<(String, String)> = common::vars_of(&world.app)
        .into_iter()
        .filter(|(name, _)| name != "DATA_DIR" && name != "PICSCRIPTER_ADDR")
        .collect();
    vars.push(("DATABASE_URL".into(), world.app.database_url.clone()));
    for (k, v) in &redis {
        vars.push(((*k).to_owned(), (*v).to_owned()));
    }
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let second = TestApp::spawn_with(Backend::Sqlite, &vars).await;
    let mut posts = Vec::new();
    for n in 0..8 {
        posts.push(
            world
                .create(&token, &now_post(&connection, &format!("Scaled {n}")))
                .await,
        );
    }
    for post in &posts {
        world.wait_for(&token, post, "published").await;
    }
    assert_eq!(world.fake.refresh_count(), 1);
    assert_eq!(world.fake.post_count(), 8);
    drop(second);
}

async fn a_lost_answer_is_reconciled_not_posted_twice(setup: Setup) {
    let world = x_world(setup, &[]).await;
    let (_, token) = world.app.signed_in_user().await;
    let connection = world.connect(&token, "dropped").await;
    world
        .fake
        .fail_next(Endpoint::CreatePost, [Failure::CreatedThenDropped]);
    let post = world
        .create(&token, &now_post(&connection, "Only once"))
        .await;
    let done = world.wait_for(&token, &post, "published").await;
    assert_eq!(world.fake.post_count(), 1, "the fake holds one post");
    assert_eq!(
        done["targets"][0]["external_id"],
        world.fake.posts()[0].id.as_str()
    );
    let logs = log_messages(&done);
    assert!(
        logs.iter().any(|line| line.contains("outcome is unknown")),
        "{logs:?}"
    );
    assert!(
        logs.iter()
            .any(|line| line.starts_with("reconciled: already published")),
        "{logs:?}"
    );

    // A timeout after the post was made is the same story.
    world.fake.fail_next(
        Endpoint::CreatePost,
        [Failure::CreatedThenSlow(Duration::from_secs(4))],
    );
    let post = world
        .create(&token, &now_post(&connection, "Slow answer"))
        .await;
    world.wait_for(&token, &post, "published").await;
    assert_eq!(world.fake.post_count(), 2);

    // The attempt after a lost answer cannot look (X fails the lookup): the doubt must outlive
    // it, so the attempt after that looks again instead of posting.
    world
        .fake
        .fail_next(Endpoint::CreatePost, [Failure::CreatedThenDropped]);
    world
        .fake
        .fail_next(Endpoint::RecentPosts, [Failure::ServerError(503)]);
    let post = world
        .create(&token, &now_post(&connection, "Looked for twice"))
        .await;
    let done = world.wait_for(&token, &post, "published").await;
    assert_eq!(world.fake.post_count(), 3, "{:?}", log_messages(&done));
}

async fn a_lost_answer_is_found_among_many_later_posts(setup: Setup) {
    let world = x_world(setup, &[]).await;
    let (_, token) = world.app.signed_in_user().await;
    let connection = world.connect(&token, "busy").await;
    // The answer is lost, and X rate-limits the next attempt's lookup for eight seconds;
    // meanwhile the account posts 150 times more (a busy shop, a burst of scheduled posts).
    // The attempt after that reads back page by page and finds the first post.
    world
        .fake
        .fail_next(Endpoint::CreatePost, [Failure::CreatedThenDropped]);
    world.fake.fail_next(
        Endpoint::RecentPosts,
        [Failure::RateLimited { reset_in_secs: 8 }],
    );
    let first = world
        .create(&token, &now_post(&connection, "The first of many"))
        .await;
    // Its second attempt's lookup was refused: the eight seconds start now. (The second
    // attempt has begun once `attempts` is 2; it has ended once the target leaves `publishing`.)
    let path = format!("/api/posts/{}", first["id"].as_str().unwrap());
    let mut refused = Value::Null;
    for _ in 0..100 {
        refused = world.get(&token, &path).await.1;
        let target = &refused["targets"][0];
        if target["attempts"] == 2 && target["status"] != "publishing" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(refused["targets"][0]["status"], "retrying", "{refused}");
    assert_eq!(refused["targets"][0]["attempts"], 2, "{refused}");
    let mut later = Vec::new();
    for n in 0..150 {
        later.push(
            world
                .create(&token, &now_post(&connection, &format!("Later post {n}")))
                .await,
        );
    }
    for post in &later {
        world.wait_for(&token, post, "published").await;
    }
    let done = world.wait_for(&token, &first, "published").await;
    let logs = log_messages(&done);
    assert_eq!(world.fake.post_count(), 151, "{logs:?}");
    assert!(
        logs.iter()
            .any(|line| line.starts_with("reconciled: already published")),
        "{logs:?}"
    );
}

async fn a_stale_attempt_cannot_overwrite_a_newer_one(setup: Setup) {
    use server::backend::Backend as ServerBackend;
    use server::clock::SystemClock;
    use server::publishing::worker::WorkerSettings;

    let fake = XFake::new(CLIENT_ID, CLIENT_SECRET);
    let (addr, _fake_server) = server::sandbox::serve(fake.router()).await.unwrap();
    let fake_url = format!("http://{addr}");
    let mut vars = x_vars(&fake_url);
    if setup.redis {
        vars.extend(on_redis().into_iter().map(|(k, v)| (k.to_owned(), v)));
    }
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    // The web process does not publish; this test drives two workers by hand.
    let app = TestApp::spawn_adjusted(setup.db, &vars, |config| config.run_workers = false).await;
    let world = XWorld {
        app,
        fake,
        fake_url,
        _fake_server,
    };
    let (_, token) = world.app.signed_in_user().await;
    let connection = world.connect(&token, "fenced").await;
    let post = world.create(&token, &now_post(&connection, "Fenced")).await;

    // A second process with the same settings (and so the same queue).
    let all_vars = common::vars_of(&world.app);
    let (config, _) = server::config::Config::from_vars(&all_vars.into_iter().collect()).unwrap();
    let backend = ServerBackend::open(&config, std::sync::Arc::new(SystemClock))
        .await
        .unwrap();
    backend.sweeper().requeue_missing().await.unwrap();
    let settings = WorkerSettings {
        lease: chrono::Duration::milliseconds(500),
        heartbeat: Duration::from_secs(3600),
        ..WorkerSettings::default()
    };
    let stale = backend.worker(WorkerSettings {
        name: "stale".into(),
        ..settings.clone()
    });
    let fresh = backend.worker(WorkerSettings {
        name: "fresh".into(),
        ..settings
    });

    // The stale worker's call creates the post, then hangs past its lease.
    world.fake.fail_next(
        Endpoint::CreatePost,
        [Failure::CreatedThenSlow(Duration::from_millis(1500))],
    );
    let lease = backend
        .queue
        .claim(chrono::Utc::now(), chrono::Duration::milliseconds(500))
        .await
        .unwrap()
        .unwrap();
    let stale_attempt = tokio::spawn(async move { stale.process(lease).await });
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(backend.queue.reap(chrono::Utc::now()).await.unwrap(), 1);
    let lease = backend
        .queue
        .claim(chrono::Utc::now(), chrono::Duration::seconds(30))
        .await
        .unwrap()
        .unwrap();
    fresh.process(lease).await;
    stale_attempt.await.unwrap();

    let done = world.wait_for(&token, &post, "published").await;
    assert_eq!(world.fake.post_count(), 1, "reconciled, not posted again");
    let logs = log_messages(&done);
    assert!(
        logs.iter()
            .any(|line| line.contains("worker stale's lease had expired")),
        "{logs:?}"
    );
    assert!(
        logs.iter()
            .any(|line| line.starts_with("reconciled: already published")),
        "{logs:?}"
    );
}

async fn cancel_and_delete_stop_a_scheduled_post(setup: Setup) {
    let world = x_world(setup, &[]).await;
    let (_, token) = world.app.signed_in_user().await;
    let connection = world.connect(&token, "changer").await;
    let soon = |secs| (chrono::Utc::now() + chrono::Duration::seconds(secs)).to_rfc3339();
    let cancelled = world
        .create(&token, &json!({ "text": "Cancel me", "targets": [{ "connection_id": connection }], "schedule": { "at": soon(1) } }))
        .await;
    let deleted = world
        .create(&token, &json!({ "text": "Delete me", "targets": [{ "connection_id": connection }], "schedule": { "at": soon(1) } }))
        .await;
    let (status, after) = world
        .post(
            &token,
            &format!("/api/posts/{}/cancel", cancelled["id"].as_str().unwrap()),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(after["targets"][0]["status"], "cancelled");
    let response = world
        .app
        .client
        .delete(
            world
                .app
                .url(&format!("/api/posts/{}", deleted["id"].as_str().unwrap())),
        )
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(world.fake.post_count(), 0);
    let (status, _) = world
        .get(
            &token,
            &format!("/api/posts/{}", deleted["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn disconnecting_revokes_and_cancels_with_the_reason(setup: Setup) {
    let world = x_world(setup, &[]).await;
    let (_, token) = world.app.signed_in_user().await;
    let connection = world.connect(&token, "leaving").await;
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let post = world
        .create(&token, &json!({ "text": "Never mind", "targets": [{ "connection_id": connection }], "schedule": { "at": later } }))
        .await;
    let response = world
        .app
        .client
        .delete(world.app.url(&format!("/api/connections/{connection}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(world.fake.revoked_count(), 1);
    let (_, after) = world
        .get(
            &token,
            &format!("/api/posts/{}", post["id"].as_str().unwrap()),
        )
        .await;
    let target = &after["targets"][0];
    assert_eq!(target["status"], "cancelled");
    assert_eq!(target["connection_id"], Value::Null);
    assert_eq!(
        target["error"],
        "Cancelled: the X account @leaving was disconnected."
    );
}

async fn jobs_survive_an_emptied_redis(backend: Backend) {
    let redis = on_redis();
    let prefix = redis[1].1.clone();
    let mut extra: Vec<(&str, &str)> = redis.iter().map(|(k, v)| (*k, v.as_str())).collect();
    extra.push(("QUEUE_SWEEP_SECS", "1"));
    let world = x_world(backend, &extra).await;
    let (_, token) = world.app.signed_in_user().await;
    let connection = world.connect(&token, "resilient").await;
    let at = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let mut posts = Vec::new();
    for n in 0..3 {
        posts.push(
            world
                .create(&token, &json!({ "text": format!("Kept {n}"), "targets": [{ "connection_id": connection }], "schedule": { "at": at } }))
                .await,
        );
    }
    common::delete_redis_keys(&prefix).await;
    for post in &posts {
        world.wait_for(&token, post, "published").await;
    }
    assert_eq!(world.fake.post_count(), 3, "every job ran once");
}

async fn an_emptied_redis_does_not_start_a_second_attempt_beside_a_running_one(backend: Backend) {
    let redis = on_redis();
    let prefix = redis[1].1.clone();
    let mut extra: Vec<(&str, &str)> = redis.iter().map(|(k, v)| (*k, v.as_str())).collect();
    extra.push(("QUEUE_SWEEP_SECS", "1"));
    let world = x_world(backend, &extra).await;
    let (_, token) = world.app.signed_in_user().await;
    let connection = world.connect(&token, "steady").await;
    // X takes its time (just under the client's timeout); meanwhile Redis loses everything,
    // the sweep puts the job back, and a worker takes it again.
    world.fake.fail_next(
        Endpoint::CreatePost,
        [Failure::Slow(Duration::from_millis(1900))],
    );
    let post = world
        .create(&token, &now_post(&connection, "One attempt at a time"))
        .await;
    world.wait_for(&token, &post, "publishing").await;
    common::delete_redis_keys(&prefix).await;
    let done = world.wait_for(&token, &post, "published").await;
    let logs = log_messages(&done);
    assert_eq!(world.fake.post_count(), 1, "{logs:?}");
    assert_eq!(
        logs.iter()
            .filter(|line| line.starts_with("attempt "))
            .count(),
        1,
        "{logs:?}"
    );
}

async fn a_post_that_went_out_is_not_edited_in_place(backend: Backend) {
    let world = x_world(backend, &[]).await;
    let (_, token) = world.app.signed_in_user().await;
    let connection = world.connect(&token, "once_only").await;
    let post = world
        .create(&token, &now_post(&connection, "Out already"))
        .await;
    world.wait_for(&token, &post, "published").await;
    let path = format!("/api/posts/{}", post["id"].as_str().unwrap());
    let edit = world
        .app
        .client
        .patch(world.app.url(&path))
        .bearer_auth(&token)
        .json(&now_post(&connection, "Out already, reworded"))
        .send()
        .await
        .unwrap();
    let error = common::error_body(edit, StatusCode::CONFLICT).await;
    assert!(
        error["message"].as_str().unwrap().contains("Edit & repost"),
        "{error}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(world.fake.post_count(), 1, "nothing went out again");
}

async fn jobs_in_flight_survive_a_restart_of_the_in_process_queue(backend: Backend) {
    let world = x_world(backend, &[]).await;
    let (_, token) = world.app.signed_in_user().await;
    let connection = world.connect(&token, "restarted").await;
    let at = (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc3339();
    let mut posts = Vec::new();
    for n in 0..3 {
        posts.push(
            world
                .create(&token, &json!({ "text": format!("Restart {n}"), "targets": [{ "connection_id": connection }], "schedule": { "at": at } }))
                .await,
        );
    }
    let vars = x_vars(&world.fake_url);
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let XWorld {
        app,
        fake,
        fake_url,
        _fake_server,
    } = world;
    let app = app.restart(&vars).await;
    let world = XWorld {
        app,
        fake,
        fake_url,
        _fake_server,
    };
    for post in &posts {
        world.wait_for(&token, post, "published").await;
    }
    assert_eq!(world.fake.post_count(), 3);
}

/// A post at 09:00 Europe/Paris on each day around both changes of the clocks goes out at
/// 09:00 Paris time, not an hour off: not a second before, and within a second after.
async fn posts_go_out_at_their_local_time_across_dst(setup: Setup) {
    use chrono::{TimeZone, Utc};
    use server::clock::ManualClock;

    let start = Utc.with_ymd_and_hms(2027, 3, 26, 12, 0, 0).unwrap();
    let clock = std::sync::Arc::new(ManualClock::starting_at(start));
    let world = x_world_on_clock(setup, &[], clock.clone()).await;
    let (email, token) = world.app.signed_in_user().await;
    let profile = world
        .app
        .server_fn(
            "/rpc/settings/profile",
            &token,
            &[("display_name", ""), ("time_zone", "Europe/Paris")],
        )
        .await;
    assert_eq!(profile.status(), StatusCode::OK);
    let connection = world.connect(&token, "parisienne").await;

    // 2027: summer time starts on 28 March and ends on 31 October.
    let days = [
        ("2027-03-27", "2027-03-27T08:00:00Z"),
        ("2027-03-28", "2027-03-28T07:00:00Z"),
        ("2027-03-29", "2027-03-29T07:00:00Z"),
        ("2027-10-30", "2027-10-30T07:00:00Z"),
        ("2027-10-31", "2027-10-31T08:00:00Z"),
        ("2027-11-01", "2027-11-01T08:00:00Z"),
    ];
    let mut posts = Vec::new();
    for (day, utc) in days {
        let post = world
            .create(&token, &json!({ "text": format!("Opening at nine, {day}"), "targets": [{ "connection_id": connection }], "schedule": { "local": format!("{day}T09:00") } }))
            .await;
        assert_eq!(post["scheduled_at"], utc, "{day}");
        posts.push((post, utc));
    }

    for (post, utc) in &posts {
        let due: chrono::DateTime<Utc> = utc.parse().unwrap();
        // A session lasts seven days on the app's clock, which jumps months: sign in again.
        clock.advance(due - chrono::Duration::seconds(1) - clock_now(&clock));
        let token = world.app.token_for(&email, common::PASSWORD).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let path = format!("/api/posts/{}", post["id"].as_str().unwrap());
        let (_, early) = world.get(&token, &path).await;
        assert_eq!(
            early["targets"][0]["status"], "scheduled",
            "{utc}: not before its time"
        );

        clock.advance(chrono::Duration::seconds(2));
        let done = world.wait_for(&token, post, "published").await;
        let published: chrono::DateTime<Utc> = done["targets"][0]["published_at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(published, due + chrono::Duration::seconds(1), "{utc}");
    }
    assert_eq!(world.fake.posts().len(), days.len());
}

/// The world of the calendar tests: an app on a clock stopped at 2027-03-26 12:00 UTC, a user
/// in Paris with an X account, and that account's connection id.
async fn paris_world(
    setup: impl Into<Setup>,
) -> (
    XWorld,
    std::sync::Arc<server::clock::ManualClock>,
    String,
    String,
) {
    use chrono::TimeZone as _;
    let start = chrono::Utc.with_ymd_and_hms(2027, 3, 26, 12, 0, 0).unwrap();
    let clock = std::sync::Arc::new(server::clock::ManualClock::starting_at(start));
    let world = x_world_on_clock(setup, &[], clock.clone()).await;
    let (_, token) = world.app.signed_in_user().await;
    let profile = world
        .app
        .server_fn(
            "/rpc/settings/profile",
            &token,
            &[("display_name", ""), ("time_zone", "Europe/Paris")],
        )
        .await;
    assert_eq!(profile.status(), StatusCode::OK);
    let connection = world.connect(&token, "calendrier").await;
    (world, clock, token, connection)
}

fn at_local(connection: &str, text: &str, local: &str) -> Value {
    json!({ "text": text, "targets": [{ "connection_id": connection }], "schedule": { "local": local } })
}

/// A post moved later does not go out at its old time, and goes out once at its new one; a
/// post moved earlier goes out at its new, earlier time. The job moves with the post on both
/// queue backends.
async fn a_moved_post_goes_out_once_at_its_new_time(setup: Setup) {
    let (world, clock, token, connection) = paris_world(setup).await;
    // 12:00 UTC is 13:00 in Paris (winter time).
    let later = world
        .create(
            &token,
            &at_local(&connection, "Moved later", "2027-03-26T14:00"),
        )
        .await;
    let earlier = world
        .create(
            &token,
            &at_local(&connection, "Moved earlier", "2027-03-26T18:00"),
        )
        .await;
    let path = |post: &Value, action: &str| {
        format!("/api/posts/{}/{action}", post["id"].as_str().unwrap())
    };
    let (status, moved) = world
        .post(
            &token,
            &path(&later, "reschedule"),
            &json!({ "local": "2027-03-26T16:00" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["scheduled_at"], "2027-03-26T15:00:00Z");
    assert_eq!(moved["targets"][0]["due_at"], "2027-03-26T15:00:00Z");
    assert!(
        log_messages(&moved)
            .iter()
            .any(|line| line == "moved from 2027-03-26 13:00 UTC to 2027-03-26 15:00 UTC"),
        "{moved:#}"
    );
    let (status, moved) = world
        .post(
            &token,
            &path(&earlier, "reschedule"),
            &json!({ "local": "2027-03-26T15:00" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");

    // The old time of the first post passes: nothing goes out.
    clock.advance(chrono::Duration::minutes(61));
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(world.fake.post_count(), 0, "not at the old time");

    // 15:00 Paris: the post moved earlier goes out (its old time, 18:00, is still ahead).
    clock.advance(chrono::Duration::minutes(60));
    world.wait_for(&token, &earlier, "published").await;
    assert_eq!(world.fake.post_count(), 1);

    // 16:00 Paris: the post moved later goes out, once.
    clock.advance(chrono::Duration::minutes(60));
    let done = world.wait_for(&token, &later, "published").await;
    assert_eq!(done["targets"][0]["published_at"], "2027-03-26T15:01:00Z");
    // Past the earlier post's old time too: still exactly one post each.
    clock.advance(chrono::Duration::hours(3));
    tokio::time::sleep(Duration::from_millis(800)).await;
    let texts: Vec<String> = world
        .fake
        .posts()
        .into_iter()
        .map(|post| post.text)
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(
        texts.contains(&"Moved later".to_owned()) && texts.contains(&"Moved earlier".to_owned())
    );
}

/// A queue that still holds a moved post's job at its old time (a worker took it just before
/// the move, or a second queue writer lagged) does not publish early: the worker finds the
/// post not due, puts the job back to the new time, and the post goes out once, then.
async fn a_job_left_at_the_old_time_waits_for_the_new_one(backend: Backend) {
    use server::queue::{JobId, JobQueue as _};
    let (world, clock, token, connection) = paris_world(Setup {
        db: backend,
        redis: true,
    })
    .await;
    let post = world
        .create(&token, &at_local(&connection, "Raced", "2027-03-26T14:00"))
        .await;
    let (status, moved) = world
        .post(
            &token,
            &format!("/api/posts/{}/reschedule", post["id"].as_str().unwrap()),
            &json!({ "local": "2027-03-26T16:00" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");

    // Put the job back at the old time, behind the app's back.
    let db = sea_orm::Database::connect(&world.app.database_url)
        .await
        .unwrap();
    let target: uuid::Uuid = moved["targets"][0]["id"].as_str().unwrap().parse().unwrap();
    let job = {
        use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
        use server::db::entities::job;
        job::Entity::find()
            .filter(job::Column::TargetId.eq(target))
            .one(&db)
            .await
            .unwrap()
            .expect("the target has a job")
            .id
    };
    let vars = common::vars_of(&world.app);
    let pool = server::redis::connect(&secrecy::SecretString::from(REDIS_URL.to_owned())).unwrap();
    fred::prelude::ClientLike::wait_for_connect(&pool)
        .await
        .unwrap();
    let queue = server::queue::redis::RedisQueue::new(pool, &vars["REDIS_PREFIX"]);
    let old_time = "2027-03-26T13:00:00Z".parse().unwrap();
    queue.enqueue(JobId(job), old_time).await.unwrap();

    clock.advance(chrono::Duration::minutes(61));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(world.fake.post_count(), 0, "not at the old time");
    let (_, waiting) = world
        .get(
            &token,
            &format!("/api/posts/{}", post["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(waiting["targets"][0]["status"], "scheduled");
    assert_eq!(
        waiting["targets"][0]["attempts"], 0,
        "no attempt was started"
    );

    clock.advance(chrono::Duration::minutes(120));
    world.wait_for(&token, &post, "published").await;
    clock.advance(chrono::Duration::hours(1));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(world.fake.post_count(), 1);
}

/// A move into the past, into an hour the clocks skip, or of a post that went out is refused
/// with the reason, and the post stays where it was.
async fn a_move_is_refused_with_the_reason(backend: Backend) {
    let (world, _clock, token, connection) = paris_world(backend).await;
    let post = world
        .create(
            &token,
            &at_local(&connection, "Stay put", "2027-03-27T10:00"),
        )
        .await;
    let path = format!("/api/posts/{}/reschedule", post["id"].as_str().unwrap());

    let (status, body) = world
        .post(&token, &path, &json!({ "local": "2027-03-25T10:00" }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("has already passed"),
        "{body}"
    );

    // Summer time starts on 28 March 2027: 02:00 jumps to 03:00.
    let (status, body) = world
        .post(&token, &path, &json!({ "local": "2027-03-28T02:30" }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not exist"),
        "{body}"
    );

    let (status, body) = world.post(&token, &path, &json!("now")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = world
        .post(&token, &path, &json!({ "local": "someday" }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let (_, unchanged) = world
        .get(
            &token,
            &format!("/api/posts/{}", post["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(unchanged["scheduled_at"], "2027-03-27T09:00:00Z");

    let out = world
        .create(&token, &now_post(&connection, "Already out"))
        .await;
    world.wait_for(&token, &out, "published").await;
    let (status, body) = world
        .post(
            &token,
            &format!("/api/posts/{}/reschedule", out["id"].as_str().unwrap()),
            &json!({ "local": "2027-03-27T11:00" }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already out"),
        "{body}"
    );

    let (_, other) = world.app.signed_in_user().await;
    let (status, _) = world
        .post(&other, &path, &json!({ "local": "2027-03-27T11:00" }))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The calendar lists a span's posts at their time on the user's clock, leaves drafts and
/// other people's posts out, filters, and names the hour the clocks skip.
async fn the_calendar_places_posts_on_the_users_clock(backend: Backend) {
    let (world, _clock, token, connection) = paris_world(backend).await;
    let first = world
        .create(
            &token,
            &at_local(&connection, "Saturday morning", "2027-03-27T09:30"),
        )
        .await;
    world
        .create(
            &token,
            &at_local(&connection, "After the change", "2027-03-28T09:30"),
        )
        .await;
    world
        .create(&token, &json!({ "text": "Just a draft", "targets": [{ "connection_id": connection }], "schedule": "draft" }))
        .await;
    let out = world
        .create(&token, &now_post(&connection, "Out already"))
        .await;
    world.wait_for(&token, &out, "published").await;
    let (_, other) = world.app.signed_in_user().await;
    let other_connection = world.connect(&other, "someone_else").await;
    world
        .create(
            &other,
            &at_local(&other_connection, "Not yours", "2027-03-27T09:30"),
        )
        .await;

    let (status, calendar) = world
        .get(&token, "/api/calendar?from=2027-03-22&to=2027-03-28")
        .await;
    assert_eq!(status, StatusCode::OK, "{calendar}");
    assert_eq!(calendar["time_zone"], "Europe/Paris");
    assert_eq!(calendar["today"], "2027-03-26");
    let entries: Vec<(String, String, bool)> = calendar["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["excerpt"].as_str().unwrap().to_owned(),
                entry["local"].as_str().unwrap().to_owned(),
                entry["movable"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        vec![
            (
                "Out already".to_owned(),
                "2027-03-26T13:00".to_owned(),
                false
            ),
            (
                "Saturday morning".to_owned(),
                "2027-03-27T09:30".to_owned(),
                true
            ),
            (
                "After the change".to_owned(),
                "2027-03-28T09:30".to_owned(),
                true
            ),
        ]
    );
    assert_eq!(calendar["entries"][1]["post_id"], first["id"]);
    assert_eq!(calendar["entries"][1]["targets"][0]["platform"], "x");
    assert_eq!(
        calendar["clock_changes"],
        json!([{ "day": "2027-03-28", "hour": 2, "skipped": true }])
    );

    let (_, published) = world
        .get(
            &token,
            "/api/calendar?from=2027-03-22&to=2027-03-28&status=published",
        )
        .await;
    assert_eq!(published["entries"].as_array().unwrap().len(), 1);
    let (_, elsewhere) = world
        .get(
            &token,
            "/api/calendar?from=2027-03-22&to=2027-03-28&platform=linkedin",
        )
        .await;
    assert!(elsewhere["entries"].as_array().unwrap().is_empty());
    let (_, by_account) = world
        .get(
            &token,
            &format!("/api/calendar?from=2027-03-22&to=2027-03-28&account={connection}"),
        )
        .await;
    assert_eq!(by_account["entries"].as_array().unwrap().len(), 3);

    let (status, body) = world
        .get(&token, "/api/calendar?from=2027-01-01&to=2027-06-01")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = world
        .get(&token, "/api/calendar?from=2027-03-28&to=2027-03-01")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = world.get(&token, "/api/calendar?from=soon").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// The calendar page draws the month with the posts in their day cells, movable ones ready to
/// drag, and the week with the skipped hour marked.
async fn the_calendar_page_draws_the_month_and_the_week(backend: Backend) {
    let (world, _clock, token, connection) = paris_world(backend).await;
    let post = world
        .create(
            &token,
            &at_local(&connection, "On the grid", "2027-03-27T09:30"),
        )
        .await;
    let month = world
        .app
        .get_page("/calendar?view=month&date=2027-03-10", Some(&token))
        .await;
    assert_eq!(month.status(), StatusCode::OK);
    let html = month.text().await.unwrap();
    assert!(html.contains("March 2027"), "{html}");
    assert!(html.contains(r#"data-slot="2027-03-27""#));
    assert!(html.contains(&format!(r#"data-post="{}""#, post["id"].as_str().unwrap())));
    assert!(html.contains(r#"data-local="2027-03-27T09:30""#));
    assert!(html.contains(r#"draggable="true""#));
    assert!(html.contains("cal-today-mark"), "the 26th is marked");
    let week = world
        .app
        .get_page("/calendar?view=week&date=2027-03-28", Some(&token))
        .await;
    let html = week.text().await.unwrap();
    assert!(html.contains(r#"data-slot="2027-03-28T02""#));
    assert!(html.contains("The clocks skip this hour"), "{html}");
}

fn clock_now(clock: &server::clock::ManualClock) -> chrono::DateTime<chrono::Utc> {
    use server::clock::Clock as _;
    clock.now()
}

on_both_databases!(
    connecting_stores_the_account_without_its_tokens,
    a_reused_or_denied_authorization_says_so_on_the_connections_page,
    an_unconfigured_platform_says_so_instead_of_failing,
    two_processes_refresh_once_and_publish_once,
    jobs_survive_an_emptied_redis,
    an_emptied_redis_does_not_start_a_second_attempt_beside_a_running_one,
    a_post_that_went_out_is_not_edited_in_place,
    jobs_in_flight_survive_a_restart_of_the_in_process_queue,
    a_move_is_refused_with_the_reason,
    a_job_left_at_the_old_time_waits_for_the_new_one,
    the_calendar_places_posts_on_the_users_clock,
    the_calendar_page_draws_the_month_and_the_week,
);

on_every_setup!(
    a_moved_post_goes_out_once_at_its_new_time,
    posts_go_out_at_their_local_time_across_dst,
    a_lost_answer_is_found_among_many_later_posts,
    publishing_now_records_the_link_and_a_job_log,
    a_scheduled_post_waits_for_its_time,
    failures_are_retried_or_failed_by_class,
    retries_stop_at_the_attempt_limit,
    a_refused_token_waits_for_a_reconnect_then_goes_out,
    an_expiring_token_is_refreshed_once_for_concurrent_posts,
    a_lost_answer_is_reconciled_not_posted_twice,
    a_stale_attempt_cannot_overwrite_a_newer_one,
    cancel_and_delete_stop_a_scheduled_post,
    disconnecting_revokes_and_cancels_with_the_reason,
);
