//! Post metrics end to end: posts published on X and Pinterest through their fakes, read by the
//! collection job a round at a time on a clock the test moves, stored as history, summed for
//! the Analytics page. Rounds are driven by hand (`collect_due`), from a second backend on the
//! app's database, as a worker process would run them. On both databases.

mod common;

use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use uuid::Uuid;

use app::types::{MetricSnapshot, Platform, TargetId, User, UserId};
use common::{Backend, TestApp};
use server::analytics::metrics::{Analytics, CollectSettings, MetricsCollector, Round};
use server::backend::Backend as ServerBackend;
use server::clock::{Clock, ManualClock};
use server::db::post_metrics as rows;
use server::sandbox::kit::FakeControls as _;
use server::sandbox::kit::script::Failure;
use server::sandbox::pinterest::{self, PinterestFake};
use server::sandbox::x::{self, XFake};

const CLIENT_ID: &str = "metrics-client";
const CLIENT_SECRET: &str = "metrics-secret";

/// A Tuesday, 07:15 UTC: 09:15 in Paris.
fn start() -> DateTime<Utc> {
    "2027-05-04T07:15:00Z".parse().expect("a time")
}

/// The app, X and Pinterest fakes on one clock the test moves, and a collector on the app's
/// database.
struct World {
    app: TestApp,
    clock: Arc<ManualClock>,
    x: XFake,
    pinterest: PinterestFake,
    backend: ServerBackend,
    collector: MetricsCollector,
    _servers: Vec<tokio::task::JoinHandle<()>>,
}

/// A person signed in, with their session and id.
struct Person {
    email: String,
    token: String,
    id: Uuid,
}

impl World {
    async fn new(db: Backend) -> Self {
        let clock = Arc::new(ManualClock::starting_at(start()));
        let x = XFake::with_clock(CLIENT_ID, CLIENT_SECRET, clock.clone());
        let pinterest = PinterestFake::with_clock(CLIENT_ID, CLIENT_SECRET, clock.clone());
        let (x_addr, x_server) = server::sandbox::serve(x.router()).await.unwrap();
        let (pin_addr, pin_server) = server::sandbox::serve(pinterest.router()).await.unwrap();
        let x_url = format!("http://{x_addr}");
        let pin_url = format!("http://{pin_addr}");
        let key = server::crypto::generate_key();
        let vars = [
            ("X_CLIENT_ID", CLIENT_ID),
            ("X_CLIENT_SECRET", CLIENT_SECRET),
            ("X_AUTH_URL", x_url.as_str()),
            ("X_API_URL", x_url.as_str()),
            ("PINTEREST_CLIENT_ID", CLIENT_ID),
            ("PINTEREST_CLIENT_SECRET", CLIENT_SECRET),
            ("PINTEREST_AUTH_URL", pin_url.as_str()),
            ("PINTEREST_API_URL", pin_url.as_str()),
            ("ENCRYPTION_KEY", key.as_str()),
            ("PLATFORM_TIMEOUT_SECS", "2"),
            ("RATE_LIMIT_POST", "1000/min"),
        ];
        let app = TestApp::spawn_with_clock(db, &vars, clock.clone()).await;
        let all_vars = common::vars_of(&app);
        let (config, _) = server::config::Config::from_vars(&all_vars).unwrap();
        let backend = ServerBackend::open(&config, clock.clone()).await.unwrap();
        let collector = MetricsCollector::of(&backend, CollectSettings::default());
        Self {
            app,
            clock,
            x,
            pinterest,
            backend,
            collector,
            _servers: vec![x_server, pin_server],
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    async fn person(&self) -> Person {
        let (email, token) = self.app.signed_in_user().await;
        let id = self.app.user_id(&token).await;
        let profile = self
            .app
            .server_fn(
                "/rpc/settings/profile",
                &token,
                &[("display_name", ""), ("time_zone", "Europe/Paris")],
            )
            .await;
        assert_eq!(profile.status(), StatusCode::OK);
        Person { email, token, id }
    }

    /// The person as the backend knows them (with their time zone).
    async fn user(&self, person: &Person) -> User {
        self.app.me(&person.token).await.json().await.unwrap()
    }

    /// A new session: a month on the app's clock outlives the last one.
    async fn sign_in_again(&self, person: &mut Person) {
        person.token = self.app.token_for(&person.email, common::PASSWORD).await;
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.expect("the request is sent");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, person: &Person, path: &str) -> Value {
        let (status, body) = self
            .send(
                self.app
                    .client
                    .get(self.app.url(path))
                    .bearer_auth(&person.token),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    /// Connects `username` on `platform` as a browser would; returns the connection id.
    async fn connect(&self, person: &Person, platform: Platform, username: &str) -> String {
        let (status, body) = self
            .send(
                self.app
                    .client
                    .post(
                        self.app
                            .url(&format!("/api/connections/{}/authorize", platform.as_str())),
                    )
                    .bearer_auth(&person.token)
                    .json(&json!({})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let url = body["url"].as_str().unwrap();
        let back = match platform {
            Platform::X => self.x.authorize_directly(url, username),
            _ => self.pinterest.authorize_directly(url, username),
        }
        .expect("the fake accepts our authorize URL");
        let response = self
            .app
            .client
            .get(&back)
            .bearer_auth(&person.token)
            .send()
            .await
            .unwrap();
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.contains("connected="), "{location}");
        let overview = self.get(person, "/api/connections").await;
        overview["connections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|connection| {
                connection["handle"] == username && connection["platform"] == platform.as_str()
            })
            .unwrap_or_else(|| panic!("{username} is connected: {overview}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn upload_image(&self, person: &Person) -> String {
        let image = image::RgbImage::from_pixel(64, 48, image::Rgb([40, 120, 200]));
        let mut bytes = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Jpeg)
            .unwrap();
        let form = Form::new().part("file", Part::bytes(bytes).file_name("mugs.jpg"));
        let (status, body) = self
            .send(
                self.app
                    .client
                    .post(self.app.url("/api/media"))
                    .bearer_auth(&person.token)
                    .multipart(form),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// Publishes `text` now on `connection` and waits until it is out; returns its target id.
    async fn publish(&self, person: &Person, connection: &str, text: &str) -> TargetId {
        let options = common::options::required_options(
            &self.app.client,
            &self.app.url(""),
            &person.token,
            connection,
        )
        .await;
        let media = if options.get("board_id").is_some() {
            vec![self.upload_image(person).await]
        } else {
            Vec::new()
        };
        let body = json!({
            "text": text,
            "media_ids": media,
            "targets": [{ "connection_id": connection, "options": options }],
            "schedule": "now",
        });
        let (status, post) = self
            .send(
                self.app
                    .client
                    .post(self.app.url("/api/posts"))
                    .bearer_auth(&person.token)
                    .json(&body),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{post}");
        let path = format!("/api/posts/{}", post["id"].as_str().unwrap());
        for _ in 0..200 {
            let current = self.get(person, &path).await;
            if current["targets"][0]["status"] == "published" {
                let id = current["targets"][0]["id"].as_str().unwrap();
                return TargetId(id.parse().unwrap());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{text} was never published: {}",
            self.get(person, &path).await
        );
    }

    async fn readings(&self, person: &Person, target: TargetId) -> Vec<MetricSnapshot> {
        rows::readings_of(&self.backend.db, UserId(person.id), target)
            .await
            .unwrap()
    }

    fn advance(&self, by: TimeDelta) {
        self.clock.advance(by);
    }
}

fn engagement(reading: &MetricSnapshot) -> i64 {
    reading.engagement()
}

async fn readings_pile_up_as_history_for_posts_younger_than_a_month(db: Backend) {
    let world = World::new(db).await;
    let mut maker = world.person().await;
    let on_x = world.connect(&maker, Platform::X, "maker").await;
    let on_pinterest = world
        .connect(&maker, Platform::Pinterest, "maker_pins")
        .await;
    let tweet = world.publish(&maker, &on_x, "Blue mugs are back").await;
    let pin = world
        .publish(&maker, &on_pinterest, "Blue mugs, the board")
        .await;

    // Nothing is read twice in one interval.
    world.advance(TimeDelta::hours(2));
    let first = world.collector.collect_due(world.now()).await.unwrap();
    assert_eq!((first.readings, first.calls), (2, 2), "{first:?}");
    assert_eq!(world.x.request_count(x::Endpoint::LookupPosts), 1);
    let again = world.collector.collect_due(world.now()).await.unwrap();
    assert_eq!(again.readings, 0, "{again:?}");

    let x_early = world.readings(&maker, tweet).await;
    assert_eq!(x_early.len(), 1);
    let on_x_then = &x_early[0];
    assert_eq!(on_x_then.platform, Platform::X);
    assert_eq!(on_x_then.fetched_at, start() + TimeDelta::hours(2));
    assert!(
        on_x_then.impressions.is_some_and(|seen| seen > 0),
        "{on_x_then:?}"
    );
    assert!(on_x_then.likes.is_some() && on_x_then.replies.is_some());
    assert!(on_x_then.reposts.is_some());
    assert_eq!(on_x_then.link_clicks, Some(0), "a post without a link");

    // Pinterest has no likes or replies for a pin: unknown, not zero.
    let pin_early = world.readings(&maker, pin).await;
    assert_eq!(pin_early.len(), 1);
    assert_eq!(pin_early[0].likes, None);
    assert_eq!(pin_early[0].replies, None);
    assert!(pin_early[0].impressions.is_some_and(|seen| seen > 0));
    assert!(pin_early[0].reposts.is_some());
    assert_eq!(pin_early[0].link_clicks, Some(0), "a pin without a link");

    // Six hours on: a second row each, higher.
    world.advance(TimeDelta::hours(6));
    let second = world.collector.collect_due(world.now()).await.unwrap();
    assert_eq!(second.readings, 2, "{second:?}");
    let x_history = world.readings(&maker, tweet).await;
    assert_eq!(x_history.len(), 2);
    assert!(
        x_history[1].impressions > x_history[0].impressions,
        "{x_history:?}"
    );
    assert!(x_history[1].likes > x_history[0].likes, "{x_history:?}");
    let pin_history = world.readings(&maker, pin).await;
    assert_eq!(pin_history.len(), 2);
    assert!(pin_history[1].impressions > pin_history[0].impressions);

    // A month on, those posts are never read again; a new one is.
    world.advance(TimeDelta::days(31));
    world.sign_in_again(&mut maker).await;
    let lookups = world.x.request_count(x::Endpoint::LookupPosts);
    let analytics = world
        .pinterest
        .request_count(pinterest::Endpoint::PinAnalytics);
    let late = world.collector.collect_due(world.now()).await.unwrap();
    assert_eq!(late, Round::default(), "nothing is young enough");
    let fresh = world.publish(&maker, &on_x, "Green mugs, new").await;
    world.advance(TimeDelta::hours(1));
    let round = world.collector.collect_due(world.now()).await.unwrap();
    assert_eq!(round.readings, 1, "{round:?}");
    assert_eq!(world.x.request_count(x::Endpoint::LookupPosts), lookups + 1);
    assert_eq!(
        world
            .pinterest
            .request_count(pinterest::Endpoint::PinAnalytics),
        analytics
    );
    assert_eq!(world.readings(&maker, tweet).await.len(), 2);
    assert_eq!(world.readings(&maker, pin).await.len(), 2);
    assert_eq!(world.readings(&maker, fresh).await.len(), 1);
}

async fn the_overview_agrees_with_the_rows_and_shows_only_the_owners_posts(db: Backend) {
    let world = World::new(db).await;
    let maker = world.person().await;
    let rival = world.person().await;
    let on_x = world.connect(&maker, Platform::X, "maker").await;
    let on_pinterest = world
        .connect(&maker, Platform::Pinterest, "maker_pins")
        .await;
    let rival_x = world.connect(&rival, Platform::X, "rival").await;
    let tweet = world.publish(&maker, &on_x, "Blue mugs are back").await;
    let pin = world
        .publish(&maker, &on_pinterest, "Blue mugs, the board")
        .await;
    let theirs = world.publish(&rival, &rival_x, "Rival mugs").await;
    world.advance(TimeDelta::hours(3));
    let round = world.collector.collect_due(world.now()).await.unwrap();
    assert_eq!(round.readings, 3, "{round:?}");
    world.advance(TimeDelta::hours(1));
    world.collector.collect_due(world.now()).await.unwrap();

    let latest_x = world.readings(&maker, tweet).await.pop().unwrap();
    let latest_pin = world.readings(&maker, pin).await.pop().unwrap();
    assert_eq!(latest_x.fetched_at, start() + TimeDelta::hours(4));
    let analytics = Analytics::new(world.backend.db.clone(), world.clock.clone());
    let overview = analytics
        .overview_of(&world.user(&maker).await, 7)
        .await
        .unwrap();
    assert_eq!(overview.time_zone.as_str(), "Europe/Paris");
    let totals: Vec<Platform> = overview.totals.iter().map(|t| t.platform).collect();
    assert_eq!(totals, [Platform::X, Platform::Pinterest]);
    let x_totals = &overview.totals[0].totals;
    assert_eq!(x_totals.posts, 1, "the rival's post is not the maker's");
    assert_eq!(x_totals.impressions, latest_x.impressions);
    assert_eq!(x_totals.likes, latest_x.likes);
    assert_eq!(x_totals.engagement, engagement(&latest_x));
    let pin_totals = &overview.totals[1].totals;
    assert_eq!(pin_totals.likes, None);
    assert_eq!(pin_totals.reposts, latest_pin.reposts);
    assert_eq!(pin_totals.engagement, engagement(&latest_pin));

    // Both went out on Tuesday at 09:15 in Paris.
    let cell = overview.cell(1, 9).unwrap();
    assert_eq!(cell.posts, 2);
    let average = (engagement(&latest_x) + engagement(&latest_pin)) as f64 / 2.0;
    assert_eq!(cell.average_engagement, Some(average));
    assert_eq!(
        overview.heat_map.iter().map(|cell| cell.posts).sum::<u32>(),
        2
    );
    let x_day = overview.series[0]
        .days
        .iter()
        .find(|point| point.day.to_string() == "2027-05-04")
        .unwrap();
    assert_eq!(x_day.totals.engagement, engagement(&latest_x));
    let best: Vec<TargetId> = overview
        .best_posts
        .iter()
        .map(|post| post.target_id)
        .collect();
    assert_eq!(best.len(), 2);
    assert!(best.contains(&tweet) && best.contains(&pin), "{best:?}");
    assert!(!best.contains(&theirs));
    assert!(overview.best_posts[0].engagement >= overview.best_posts[1].engagement);
    let by_tweet = overview
        .best_posts
        .iter()
        .find(|post| post.target_id == tweet)
        .unwrap();
    assert_eq!(by_tweet.excerpt, "Blue mugs are back");
    assert!(
        by_tweet
            .url
            .as_deref()
            .is_some_and(|url| url.contains("/status/"))
    );

    let theirs_overview = analytics
        .overview_of(&world.user(&rival).await, 7)
        .await
        .unwrap();
    let their_best: Vec<TargetId> = theirs_overview
        .best_posts
        .iter()
        .map(|post| post.target_id)
        .collect();
    assert_eq!(their_best, [theirs]);
    assert_eq!(theirs_overview.grand_total().posts, 1);
    // The rival reads another user's target through the owner-scoped query: nothing.
    assert!(
        rows::readings_of(&world.backend.db, UserId(rival.id), tweet)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_rate_limited_account_rests_until_its_wait_and_a_revoked_one_is_left_alone(db: Backend) {
    let world = World::new(db).await;
    // A token the app still takes for live, so that X's refusal is the metrics call's own.
    world.x.set_access_token_lifetime(90 * 86_400);
    let maker = world.person().await;
    let on_x = world.connect(&maker, Platform::X, "maker").await;
    let on_pinterest = world
        .connect(&maker, Platform::Pinterest, "maker_pins")
        .await;
    let tweet = world.publish(&maker, &on_x, "Blue mugs are back").await;
    let pin = world
        .publish(&maker, &on_pinterest, "Blue mugs, the board")
        .await;
    world.pinterest.fail_next(
        pinterest::Endpoint::PinAnalytics,
        [Failure::RateLimited {
            reset_in_secs: 1_800,
        }],
    );
    world.advance(TimeDelta::hours(1));
    let limited_at = world.now();
    let round = world.collector.collect_due(limited_at).await.unwrap();
    assert_eq!(round.readings, 1, "X is read all the same: {round:?}");
    assert!(world.readings(&maker, pin).await.is_empty());
    assert_eq!(world.readings(&maker, tweet).await.len(), 1);
    let connection: Uuid = on_pinterest.parse().unwrap();
    let (resume_at, reason) = rows::account_pause(&world.backend.db, connection)
        .await
        .unwrap()
        .expect("the account rests");
    assert_eq!(resume_at, limited_at + TimeDelta::seconds(1_800));
    assert!(reason.unwrap_or_default().contains("rate limit"));

    // Still resting: Pinterest is not asked at all.
    world.advance(TimeDelta::minutes(20));
    let resting = world.collector.collect_due(world.now()).await.unwrap();
    assert_eq!(resting.deferred, 1, "{resting:?}");
    assert_eq!(
        world
            .pinterest
            .request_count(pinterest::Endpoint::PinAnalytics),
        1
    );
    assert!(world.readings(&maker, pin).await.is_empty());

    // Past the wait: read.
    world.advance(TimeDelta::minutes(11));
    let after = world.collector.collect_due(world.now()).await.unwrap();
    assert_eq!(after.readings, 1, "{after:?}");
    assert_eq!(world.readings(&maker, pin).await.len(), 1);
    assert!(
        rows::account_pause(&world.backend.db, connection)
            .await
            .unwrap()
            .is_none()
    );

    // The person removes the app at X: nothing is read, and the account is not marked.
    world.x.revoke_all_tokens_of("maker");
    world.advance(TimeDelta::hours(1));
    let revoked = world.collector.collect_due(world.now()).await.unwrap();
    assert_eq!(revoked.readings, 1, "only the pin: {revoked:?}");
    assert_eq!(world.readings(&maker, tweet).await.len(), 1);
    assert!(
        rows::account_pause(&world.backend.db, on_x.parse().unwrap())
            .await
            .unwrap()
            .is_some()
    );
    let overview = world.get(&maker, "/api/connections").await;
    for account in overview["connections"].as_array().unwrap() {
        assert_eq!(account["status"], "active", "{account}");
    }
}

on_both_databases!(
    readings_pile_up_as_history_for_posts_younger_than_a_month,
    the_overview_agrees_with_the_rows_and_shows_only_the_owners_posts,
    a_rate_limited_account_rests_until_its_wait_and_a_revoked_one_is_left_alone,
);
