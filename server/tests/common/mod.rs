//! The test harness: the real router on 127.0.0.1:0 against a real database, either a fresh
//! SQLite file in a temporary directory or a fresh PostgreSQL database at 127.0.0.1:5432
//! (`make test` starts PostgreSQL and Redis). Logs are silent unless `TEST_LOG` is set.
#![allow(dead_code)] // each test file uses a different part of the harness

use std::collections::BTreeMap;
use std::path::PathBuf;

use reqwest::{Response, StatusCode, header};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use server::config::Config;
use server::startup::Application;

pub mod media;
pub mod options;
pub mod process;
pub mod stores;

/// The PostgreSQL role `make test` creates; it may create databases.
const DEFAULT_POSTGRES_ADMIN_URL: &str =
    "postgres://picscripter:picscripter@127.0.0.1:5432/postgres";
pub const REDIS_URL: &str = "redis://127.0.0.1:6379";
pub const PASSWORD: &str = "correct horse battery";

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named `async fn(Backend)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() { super::$name($crate::common::Backend::Sqlite).await }
            #[tokio::test]
            async fn postgres() { super::$name($crate::common::Backend::Postgres).await }
        }
    )*};
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub data_dir: PathBuf,
    shutdown: CancellationToken,
    server: Option<tokio::task::JoinHandle<()>>,
    postgres_db: Option<String>,
    database_link: Option<TcpProxy>,
    /// The app's database, for tests that look at rows directly.
    pub database_url: String,
    /// The variables the app was started with.
    vars: BTreeMap<String, String>,
}

fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_ADMIN_URL.to_owned())
}

/// A new data directory and the variables of an app on `backend` (a fresh PostgreSQL database
/// when asked), with `overrides` applied; and the database's name, to drop it afterwards.
async fn fresh(
    backend: Backend,
    overrides: &[(&str, &str)],
) -> (BTreeMap<String, String>, PathBuf, Option<String>) {
    let data_dir = std::env::temp_dir().join(format!("picscripter-test-{}", Uuid::new_v4()));
    let mut vars = base_vars(&data_dir);
    let postgres_db = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => {
            let (name, url) = create_postgres_database().await;
            vars.insert("DATABASE_URL".into(), url);
            Some(name)
        }
    };
    for (name, value) in overrides {
        vars.insert((*name).into(), (*value).into());
    }
    (vars, data_dir, postgres_db)
}

/// Settings every test app starts from; `overrides` may change or add any.
fn base_vars(data_dir: &std::path::Path) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("PICSCRIPTER_ADDR".into(), "127.0.0.1:0".into()),
        ("DATA_DIR".into(), data_dir.display().to_string()),
        (
            "JWT_SECRET".into(),
            format!("test-secret-{}", Uuid::new_v4()),
        ),
    ])
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, &[]).await
    }

    /// Starts an app on PostgreSQL reached through a TCP proxy that the test can cut, as if
    /// the database went down under the running server ([`TestApp::stop_database`]).
    pub async fn spawn_with_breakable_database() -> Self {
        let data_dir = std::env::temp_dir().join(format!("picscripter-test-{}", Uuid::new_v4()));
        let mut vars = base_vars(&data_dir);
        let (name, url) = create_postgres_database().await;
        let upstream: std::net::SocketAddr = "127.0.0.1:5432".parse().expect("an address");
        let link = TcpProxy::start(upstream).await;
        let through_link = url.replacen("127.0.0.1:5432", &link.addr.to_string(), 1);
        assert_ne!(
            through_link, url,
            "the test database URL points at 127.0.0.1:5432"
        );
        vars.insert("DATABASE_URL".into(), through_link);
        let mut app = Self::start(vars, data_dir, Some(name)).await;
        app.database_link = Some(link);
        app
    }

    /// Starts an app whose PostgreSQL answers only `after` the app began starting, as when the
    /// database's host boots more slowly than the app's.
    pub async fn spawn_before_database(after: std::time::Duration) -> Self {
        let data_dir = std::env::temp_dir().join(format!("picscripter-test-{}", Uuid::new_v4()));
        let mut vars = base_vars(&data_dir);
        let (name, url) = create_postgres_database().await;
        let upstream: std::net::SocketAddr = "127.0.0.1:5432".parse().expect("an address");
        // A port nothing listens on until the proxy opens it.
        let later = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port");
        vars.insert(
            "DATABASE_URL".into(),
            url.replacen("127.0.0.1:5432", &later.to_string(), 1),
        );
        let link = tokio::spawn(async move {
            tokio::time::sleep(after).await;
            TcpProxy::start_at(later, upstream).await
        });
        let mut app = Self::start(vars, data_dir, Some(name)).await;
        app.database_link = Some(link.await.expect("the proxy starts"));
        app
    }

    /// Cuts the link to the database: open connections die and new ones are refused.
    pub fn stop_database(&self) {
        self.database_link
            .as_ref()
            .expect("the app was spawned with a breakable database")
            .cut();
    }

    /// Starts an app with extra or changed environment variables.
    pub async fn spawn_with(backend: Backend, overrides: &[(&str, &str)]) -> Self {
        let (vars, data_dir, postgres_db) = fresh(backend, overrides).await;
        Self::start(vars, data_dir, postgres_db).await
    }

    /// Starts a second app on the same data directory (and database), as after a restart.
    pub async fn restart(mut self, overrides: &[(&str, &str)]) -> Self {
        self.stop().await;
        let mut vars = self.vars.clone();
        for (name, value) in overrides {
            vars.insert((*name).into(), (*value).into());
        }
        let (data_dir, postgres_db) = (self.data_dir.clone(), self.postgres_db.take());
        std::mem::forget(self);
        Self::start(vars, data_dir, postgres_db).await
    }

    async fn start(
        vars: BTreeMap<String, String>,
        data_dir: PathBuf,
        postgres_db: Option<String>,
    ) -> Self {
        Self::start_adjusted(vars, data_dir, postgres_db, |_| {}).await
    }

    /// Starts an app whose parsed configuration `adjust` may change (for settings that are
    /// flags, not variables, such as `--no-workers`).
    pub async fn spawn_adjusted(
        backend: Backend,
        overrides: &[(&str, &str)],
        adjust: impl FnOnce(&mut Config),
    ) -> Self {
        let (vars, data_dir, postgres_db) = fresh(backend, overrides).await;
        Self::start_adjusted(vars, data_dir, postgres_db, adjust).await
    }

    /// Starts an app with X configured against a fake of its own and no workers, so posts
    /// stay where the API puts them. Gives the app, the fake and the fake's server task.
    pub async fn spawn_with_x_and_no_workers(
        backend: Backend,
    ) -> (Self, server::sandbox::x::XFake, tokio::task::JoinHandle<()>) {
        let fake = server::sandbox::x::XFake::new("id", "secret");
        let (addr, fake_server) = server::sandbox::serve(fake.router()).await.unwrap();
        let url = format!("http://{addr}");
        let vars = [
            ("X_CLIENT_ID", "id"),
            ("X_CLIENT_SECRET", "secret"),
            ("X_AUTH_URL", url.as_str()),
            ("X_API_URL", url.as_str()),
            ("RATE_LIMIT_POST", "1000/min"),
        ];
        let app = Self::spawn_adjusted(backend, &vars, |config| config.run_workers = false).await;
        (app, fake, fake_server)
    }

    /// Starts an app that reads the time from `clock` (a [`server::clock::ManualClock`], say).
    pub async fn spawn_with_clock(
        backend: Backend,
        overrides: &[(&str, &str)],
        clock: server::clock::SharedClock,
    ) -> Self {
        let (vars, data_dir, postgres_db) = fresh(backend, overrides).await;
        Self::start_on_clock(vars, data_dir, postgres_db, |_| {}, clock).await
    }

    async fn start_adjusted(
        vars: BTreeMap<String, String>,
        data_dir: PathBuf,
        postgres_db: Option<String>,
        adjust: impl FnOnce(&mut Config),
    ) -> Self {
        let clock: server::clock::SharedClock = std::sync::Arc::new(server::clock::SystemClock);
        Self::start_on_clock(vars, data_dir, postgres_db, adjust, clock).await
    }

    async fn start_on_clock(
        vars: BTreeMap<String, String>,
        data_dir: PathBuf,
        postgres_db: Option<String>,
        adjust: impl FnOnce(&mut Config),
        clock: server::clock::SharedClock,
    ) -> Self {
        if std::env::var_os("TEST_LOG").is_some() {
            let filter = std::env::var("RUST_LOG").ok();
            server::telemetry::init(server::config::LogFormat::Pretty, filter.as_deref());
        }
        let (mut config, _) = Config::from_vars(&vars).expect("the test configuration is valid");
        let started_with = vars.clone();
        adjust(&mut config);
        let database_url = secrecy::ExposeSecret::expose_secret(&config.database_url()).to_owned();
        let leptos = leptos::config::LeptosOptions::builder()
            .output_name("picscripter")
            .site_root(data_dir.join("site").display().to_string())
            .site_pkg_dir("pkg")
            .build();
        let app = Application::build_with_clock(config, leptos, clock)
            .await
            .expect("the app starts");
        let address = format!("http://{}", app.local_addr());
        let shutdown = CancellationToken::new();
        let server = tokio::spawn({
            let shutdown = shutdown.clone();
            async move {
                app.run_until_stopped(shutdown)
                    .await
                    .expect("the server runs")
            }
        });
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a plain client builds");
        Self {
            address,
            client,
            data_dir,
            shutdown,
            server: Some(server),
            postgres_db,
            database_link: None,
            database_url,
            vars: started_with,
        }
    }

    async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("the request is sent")
    }

    pub async fn register(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/api/auth/register",
            &json!({ "email": email, "password": password }),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/api/auth/login",
            &json!({ "email": email, "password": password }),
        )
        .await
    }

    /// Registers a fresh account and signs it in; returns its email and bearer token.
    pub async fn signed_in_user(&self) -> (String, String) {
        let email = format!("user-{}@example.com", Uuid::new_v4().simple());
        assert_eq!(
            self.register(&email, PASSWORD).await.status(),
            StatusCode::CREATED
        );
        let token = self.token_for(&email, PASSWORD).await;
        (email, token)
    }

    pub async fn token_for(&self, email: &str, password: &str) -> String {
        let response = self.login(email, password).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("login answers JSON");
        body["token"]
            .as_str()
            .expect("login returns a token")
            .to_owned()
    }

    pub async fn me(&self, token: &str) -> Response {
        self.client
            .get(self.url("/api/me"))
            .bearer_auth(token)
            .send()
            .await
            .expect("the request is sent")
    }

    /// Registers a fresh account and signs it in; returns its email and bearer token. Two
    /// calls give two users: the helper for "user B cannot see user A's data" tests.
    pub async fn two_users(&self) -> ((String, String), (String, String)) {
        (self.signed_in_user().await, self.signed_in_user().await)
    }

    /// Posts a form to a server function as a browser without JavaScript does, from the page
    /// at `from` (an absolute URL, sent as the Referer); returns the redirect's target.
    pub async fn post_form_without_js(
        &self,
        path: &str,
        from: &str,
        form: &[(&str, &str)],
    ) -> String {
        let response = self
            .client
            .post(self.url(path))
            .header(header::ACCEPT, "text/html")
            .header(header::REFERER, from)
            .form(form)
            .send()
            .await
            .expect("the request is sent");
        assert_eq!(
            response.status(),
            StatusCode::FOUND,
            "a form post is redirected"
        );
        response.headers()[header::LOCATION]
            .to_str()
            .expect("an ASCII location")
            .to_owned()
    }

    /// The HTML of the page at `url` (absolute, as a redirect names it).
    pub async fn page_html(&self, url: &str) -> String {
        self.client
            .get(url)
            .header(header::ACCEPT, "text/html")
            .send()
            .await
            .expect("the request is sent")
            .text()
            .await
            .expect("a text body")
    }

    /// The id of the user a token belongs to.
    pub async fn user_id(&self, token: &str) -> uuid::Uuid {
        let me: Value = self
            .me(token)
            .await
            .json()
            .await
            .expect("/api/me answers JSON");
        me["id"]
            .as_str()
            .expect("a user id")
            .parse()
            .expect("a UUID")
    }

    /// Calls a server function the way a browser form does, with the session cookie.
    pub async fn server_fn(&self, path: &str, token: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url(path))
            .header(header::COOKIE, format!("picscripter_session={token}"))
            .header(header::ACCEPT, "application/json")
            .form(form)
            .send()
            .await
            .expect("the request is sent")
    }

    pub async fn get_page(&self, path: &str, token: Option<&str>) -> Response {
        let mut request = self
            .client
            .get(self.url(path))
            .header(header::ACCEPT, "text/html");
        if let Some(token) = token {
            request = request.header(header::COOKIE, format!("picscripter_session={token}"));
        }
        request.send().await.expect("the request is sent")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
        let _ = std::fs::remove_dir_all(&self.data_dir);
        if let Some(name) = self.postgres_db.take() {
            drop_postgres_database(name);
        }
    }
}

/// Removes a database made by [`create_postgres_database`]; callable where nothing can await.
pub fn drop_postgres_database(name: String) {
    // A short-lived runtime on another thread: the caller may be inside one already.
    let _ = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        runtime.block_on(async {
            let admin = Database::connect(postgres_admin_url()).await.ok()?;
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await
                .ok()
        })
    })
    .join();
}

/// Every product event `app` stored, as its name and properties, in name order (then by
/// properties), so that tests compare them whatever the order they happened in.
pub async fn recorded_events(app: &TestApp) -> Vec<(String, Value)> {
    use sea_orm::EntityTrait as _;
    use server::db::entities::analytics_event;
    let db = Database::connect(&app.database_url).await.unwrap();
    let mut events: Vec<(String, Value)> = analytics_event::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.name, serde_json::from_str(&row.properties).unwrap()))
        .collect();
    events.sort_by_key(|(name, properties)| (name.clone(), properties.to_string()));
    events
}

/// The variables `app` was started with, for a second process with the same settings.
pub fn vars_of(app: &TestApp) -> BTreeMap<String, String> {
    app.vars.clone()
}

/// Deletes the queue's Redis keys under `prefix`, as if Redis lost its data.
pub async fn delete_redis_keys(prefix: &str) {
    let url = secrecy::SecretString::from(REDIS_URL.to_owned());
    let pool = server::redis::connect(&url).expect("a Redis URL");
    fred::prelude::ClientLike::wait_for_connect(&pool)
        .await
        .expect("Redis answers");
    let keys: Vec<String> = ["waiting", "leased", "tokens"]
        .iter()
        .map(|key| format!("{prefix}:{key}"))
        .collect();
    fred::prelude::KeysInterface::del::<(), _>(pool.next(), keys)
        .await
        .expect("the keys are deleted");
    let _ = fred::prelude::ClientLike::quit(&pool).await;
}

/// A new, empty database for one test; returns its name and URL.
pub async fn create_postgres_database() -> (String, String) {
    let admin_url = postgres_admin_url();
    let admin = Database::connect(&admin_url).await.unwrap_or_else(|error| {
        panic!("PostgreSQL is not reachable at {admin_url} ({error}); `make test` starts it, or set TEST_DATABASE_URL")
    });
    let name = format!("picscripter_test_{}", Uuid::new_v4().simple());
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("the test role may create databases");
    let (base, _) = admin_url
        .rsplit_once('/')
        .expect("the admin URL names a database");
    (name.clone(), format!("{base}/{name}"))
}

/// The `error` object of a JSON error response, after checking the status.
pub async fn error_body(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status, "unexpected status");
    assert_eq!(
        response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "errors are JSON"
    );
    let body: Value = response.json().await.expect("the error body is JSON");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "a message: {body}"
    );
    body["error"].clone()
}

/// A TCP proxy on 127.0.0.1 in front of another address, which a test can cut.
pub struct TcpProxy {
    pub addr: std::net::SocketAddr,
    stop: CancellationToken,
}

impl TcpProxy {
    pub async fn start(upstream: std::net::SocketAddr) -> Self {
        Self::start_at("127.0.0.1:0".parse().expect("an address"), upstream).await
    }

    /// A proxy listening on `addr` (port 0: any free one).
    pub async fn start_at(addr: std::net::SocketAddr, upstream: std::net::SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("a free port");
        let addr = listener.local_addr().expect("a bound address");
        let stop = CancellationToken::new();
        tokio::spawn({
            let stop = stop.clone();
            async move {
                loop {
                    let (mut inbound, _) = tokio::select! {
                        _ = stop.cancelled() => break,
                        accepted = listener.accept() => match accepted {
                            Ok(accepted) => accepted,
                            Err(_) => continue,
                        },
                    };
                    let stop = stop.clone();
                    tokio::spawn(async move {
                        let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await
                        else {
                            return;
                        };
                        tokio::select! {
                            _ = stop.cancelled() => {}
                            _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        }
                    });
                }
                // The listener is dropped here: new connections are refused from now on.
            }
        });
        Self { addr, stop }
    }

    pub fn cut(&self) {
        self.stop.cancel();
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
