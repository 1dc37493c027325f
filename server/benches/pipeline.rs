//! The publishing pipeline end to end, beside the Node design's BullMQ runs (the anchors'
//! `queue/queue-bench.js` `http`, `noop`, `delayed` and `memory`, run right after ours when
//! `BENCH_ANCHORS_DIR` names their prepared copy, as `make bench` does).
//!
//! It runs the release binary (`SERVER_BIN`; default `$CARGO_TARGET_DIR/release/picscripter`,
//! else `target/release/picscripter`; a relative path is taken from the workspace root) against
//! the X fake served in this process on 127.0.0.1 (a fresh one per set-up), which answers every
//! call in 20 ms and never rate-limits. Two set-ups, each with `WORKER_CONCURRENCY=50` and the
//! rate limits out of the way:
//! - `sqlite-local`: `picscripter serve --no-workers`, then `serve` (workers inside, in-process
//!   queue), SQLite in a fresh temporary `DATA_DIR`;
//! - `postgres-redis`: `picscripter serve --no-workers` (the web process), then `picscripter
//!   worker`, on a fresh PostgreSQL database and a fresh Redis key prefix.
//!
//! Before them, `noop_*`: our Redis queue alone, 20,000 jobs enqueued then taken and finished by
//! 10 loops that do nothing else (BullMQ's `noop`). For each set-up it registers a user,
//! connects an X account through the fake, and measures:
//! - `jobs_per_sec`: 20,000 posts "now", all created through `POST /api/posts` by 50 client
//!   loops before the workers start (as BullMQ's jobs are enqueued before its Worker starts);
//!   from the workers' start until the fake holds them all. `create_per_sec`: the creates
//!   alone; `e2e_jobs_per_sec`: both;
//! - `lateness_p50_ms`, `lateness_p99_ms`, `lateness_max_ms`: 5,000 posts due evenly over 5 s,
//!   starting 15 s out; from each post's due time until the fake created it (so X's 20 ms are
//!   included);
//! - `redis_bytes_per_job` (postgres-redis only): growth of Redis `used_memory` per post waiting
//!   in the queue (10,000 posts due in an hour), and `MEMORY USAGE` of the waiting set per job;
//! - RSS (VmRSS, MiB) of each process after the runs: `rss_mib` for the single sqlite-local
//!   process, `rss_web_mib` and `rss_worker_mib` for postgres-redis.
//!
//! During the throughput run it also counts the CPU time each party spent (our processes, this
//! process with the fake, PostgreSQL's and Redis's processes) and prints it per job: what
//! bounds the figure on this machine. `BENCH_SETUPS=postgres-redis` (names, comma-separated)
//! runs only those set-ups.
//!
//! Output: one `setup.figure: value` line per figure as it is measured, a block of ratios to
//! the Node figures (lines starting with `#`), and a last line of JSON with everything.
//!
//! Run it with `make bench` (which calls `cargo bench -p server --bench pipeline` with
//! `SERVER_BIN` set), or by hand:
//!
//! ```text
//! cargo build --release -p server && cargo bench -p server --bench pipeline
//! ```
//!
//! It needs PostgreSQL (role `picscripter`/`picscripter`, allowed to create databases) and Redis
//! on 127.0.0.1 (`.ci/services start`), and `psql` on the PATH. Without `--bench` among its
//! arguments (as under `cargo test --all-targets`) it does nothing: it takes minutes and needs
//! those services.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail, ensure};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use fred::prelude::{ClientLike, KeysInterface, Pool, SortedSetsInterface as _};
use fred::types::{ClusterHash, CustomCommand, InfoKind};
use reqwest::StatusCode;
use serde_json::{Map, Value, json};
use tokio::task::JoinSet;
use uuid::Uuid;

use server::sandbox::x::XFake;

mod support;
use support::{
    Child, LOG_TAIL_LINES, TempDir, body_of, free_port, rss_mib, server_bin, sign_in, wait_ready,
    workspace_root,
};

const CLIENT_ID: &str = "bench-client";
const CLIENT_SECRET: &str = "bench-secret";
const PG_ADMIN_URL: &str = "postgres://picscripter:picscripter@127.0.0.1:5432/postgres";
const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// How long the fake X takes to answer any call, as the Node `http` run's fake platform.
const X_LATENCY: Duration = Duration::from_millis(20);
const WORKER_CONCURRENCY: usize = 50;
/// Concurrent `POST /api/posts` loops.
const CLIENT_LOOPS: usize = 50;
const THROUGHPUT_POSTS: usize = 20_000;
const LATENESS_POSTS: usize = 5_000;
const LATENESS_SPREAD: Duration = Duration::from_secs(5);
/// How far out the first lateness post is due: room for the creates to finish first.
const LATENESS_LEAD: Duration = Duration::from_secs(15);
const MEMORY_POSTS: usize = 10_000;
const NOOP_JOBS: usize = 20_000;
const NOOP_CONCURRENCY: usize = 10;

const PUBLISH_TIMEOUT: Duration = Duration::from_secs(600);
/// Give up early when no post reaches the fake for this long (publishing is failing).
const STALL_TIMEOUT: Duration = Duration::from_secs(60);
const POLL_EVERY: Duration = Duration::from_millis(10);

#[tokio::main(flavor = "multi_thread")]
async fn main() -> ExitCode {
    if !std::env::args().any(|arg| arg == "--bench") {
        println!("pipeline: skipped (run it with `cargo bench -p server --bench pipeline`)");
        return ExitCode::SUCCESS;
    }
    // On Ctrl-C the run is dropped, so its guards still stop the processes and remove the
    // temporary directory, database and Redis keys.
    let outcome = tokio::select! {
        outcome = run() => outcome,
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("pipeline bench failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<()> {
    let root = workspace_root();
    let bin = server_bin(&root);
    ensure!(
        bin.is_file(),
        "no server binary at {} (set SERVER_BIN, or build it: cargo build --release -p server)",
        bin.display()
    );

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        // The OAuth callback answers a redirect that we read, not follow.
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .context("the HTTP client cannot be built")?;

    let version = Command::new(&bin)
        .arg("--version")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_else(|_| "picscripter (version unknown)".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |cores| cores.get());
    println!(
        "# {version} ({}), {cores} cores; X answers in {} ms; \
         WORKER_CONCURRENCY={WORKER_CONCURRENCY} (bound {:.0} jobs/s); {CLIENT_LOOPS} client loops",
        bin.display(),
        X_LATENCY.as_millis(),
        WORKER_CONCURRENCY as f64 / X_LATENCY.as_secs_f64(),
    );

    let mut report = Report::default();
    let noop = noop_queue().await.context("the no-op queue run failed")?;
    report.record(
        Kind::PostgresRedis,
        "noop_enqueue_per_sec",
        noop.enqueue_per_sec,
    );
    report.record(Kind::PostgresRedis, "noop_jobs_per_sec", noop.jobs_per_sec);
    report.record(
        Kind::PostgresRedis,
        "noop_e2e_jobs_per_sec",
        noop.e2e_jobs_per_sec,
    );
    // `BENCH_SETUPS=postgres-redis` (names, comma-separated) runs only those set-ups.
    let chosen = std::env::var("BENCH_SETUPS").ok();
    let chosen = |kind: &Kind| {
        chosen
            .as_deref()
            .is_none_or(|names| names.split(',').any(|name| name.trim() == kind.name()))
    };
    for kind in Kind::ALL.into_iter().filter(chosen) {
        println!("# {}", kind.name());
        // A fresh fake per set-up: its duplicate-content check scans every post it holds, so
        // a second set-up on the first one's fake would pay for the first one's posts.
        let (fake, fake_url, fake_server) = start_fake().await?;
        let mut setup = start_processes(kind, &bin, &root, &fake_url, &client).await?;
        let outcome = measure(&mut setup, &client, &fake, &mut report).await;
        if outcome.is_err() {
            setup.print_logs();
        }
        // Stops the processes, then removes the Redis keys, the database and the directory.
        drop(setup);
        fake_server.abort();
        outcome.with_context(|| format!("the {} run failed", kind.name()))?;
    }

    // The Node design right after ours, on the same PostgreSQL and Redis.
    if let Some(dir) = std::env::var_os("BENCH_ANCHORS_DIR") {
        report.node = node_runs(Path::new(&dir))?;
    }
    report.print_comparison();
    println!("{}", report.json());
    Ok(())
}

/// The X fake on 127.0.0.1: answering every call in [`X_LATENCY`], never rate-limiting.
/// Returns it, its base URL and the task serving it.
async fn start_fake() -> Result<(XFake, String, tokio::task::JoinHandle<()>)> {
    let fake = XFake::new(CLIENT_ID, CLIENT_SECRET);
    fake.set_latency(X_LATENCY);
    fake.set_rate_limit(u32::MAX);
    let (addr, serving) = server::sandbox::serve(fake.router())
        .await
        .context("the X fake cannot listen on 127.0.0.1")?;
    Ok((fake, format!("http://{addr}"), serving))
}

/// Everything one set-up measures, in order.
async fn measure(
    setup: &mut Setup,
    client: &reqwest::Client,
    fake: &XFake,
    report: &mut Report,
) -> Result<()> {
    let kind = setup.kind;
    let token = sign_in(client, &setup.base).await?;
    let connection = connect_x(client, &setup.base, &token, fake, kind.x_username()).await?;

    let throughput = throughput(setup, client, fake, &token, &connection).await?;
    report.record(kind, "jobs_per_sec", throughput.jobs_per_sec);
    report.record(kind, "create_per_sec", throughput.create_per_sec);
    report.record(kind, "e2e_jobs_per_sec", throughput.e2e_jobs_per_sec);

    let lateness = lateness(setup, client, fake, &token, &connection).await?;
    report.record(kind, "lateness_p50_ms", lateness.p50_ms);
    report.record(kind, "lateness_p99_ms", lateness.p99_ms);
    report.record(kind, "lateness_max_ms", lateness.max_ms);

    if let Some(prefix) = setup.redis_prefix.clone() {
        let redis = redis_bytes(setup, client, &token, &connection, &prefix).await?;
        report.record(kind, "redis_bytes_per_job", redis.bytes_per_job);
        if let Some(bytes) = redis.waiting_key_bytes_per_job {
            report.record(kind, "redis_waiting_key_bytes_per_job", bytes);
        }
        report.record(kind, "redis_waiting_jobs", redis.waiting as f64);
    }

    setup.check_alive()?;
    match &setup.worker {
        None => report.record(kind, "rss_mib", rss_mib(setup.web.pid())?),
        Some(worker) => {
            report.record(kind, "rss_web_mib", rss_mib(setup.web.pid())?);
            report.record(kind, "rss_worker_mib", rss_mib(worker.pid())?);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Set-ups and their processes.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    SqliteLocal,
    PostgresRedis,
}

impl Kind {
    const ALL: [Kind; 2] = [Kind::SqliteLocal, Kind::PostgresRedis];

    fn name(self) -> &'static str {
        match self {
            Kind::SqliteLocal => "sqlite-local",
            Kind::PostgresRedis => "postgres-redis",
        }
    }

    /// The sandbox X account of this set-up (at most 15 letters, digits or underscores).
    fn x_username(self) -> &'static str {
        match self {
            Kind::SqliteLocal => "bench_sqlite",
            Kind::PostgresRedis => "bench_pgredis",
        }
    }
}

/// One running set-up. Fields drop in declaration order: the processes stop first, then the
/// Redis keys, the database and the directory (with the logs) go.
struct Setup {
    kind: Kind,
    /// `http://127.0.0.1:<port>` of the web process.
    base: String,
    web: Child,
    /// `None` until [`Setup::start_workers`], and on SQLite, where the web process runs them.
    worker: Option<Child>,
    bin: PathBuf,
    root: PathBuf,
    env: Vec<(String, String)>,
    redis_prefix: Option<String>,
    _redis_keys: Option<RedisKeys>,
    _database: Option<PgDatabase>,
    _dir: TempDir,
}

impl Setup {
    fn children(&self) -> impl Iterator<Item = &Child> {
        std::iter::once(&self.web).chain(self.worker.as_ref())
    }

    fn check_alive(&mut self) -> Result<()> {
        let children = std::iter::once(&mut self.web).chain(self.worker.as_mut());
        for child in children {
            if let Some(status) = child.exited() {
                bail!("the {} process exited ({status})", child.name);
            }
        }
        Ok(())
    }

    /// Starts publishing, after the posts to publish are stored: on PostgreSQL + Redis a
    /// `picscripter worker` process; on SQLite the web process is replaced by a `serve` that
    /// runs the workers (its start-up sweep queues the due jobs). When it started.
    async fn start_workers(&mut self, client: &reqwest::Client) -> Result<Instant> {
        let logs = self._dir.path().to_owned();
        match self.kind {
            Kind::PostgresRedis => {
                let started = Instant::now();
                let worker = Child::spawn(
                    "worker",
                    &self.bin,
                    &["worker"],
                    &self.env,
                    &self.root,
                    logs.join("worker.log"),
                )?;
                self.worker = Some(worker);
                Ok(started)
            }
            Kind::SqliteLocal => {
                // The same port: the web process goes first (SIGKILL, by its PID; nothing is in
                // flight).
                self.web.stop();
                let started = Instant::now();
                self.web = Child::spawn(
                    "web",
                    &self.bin,
                    &["serve"],
                    &self.env,
                    &self.root,
                    logs.join("serve.log"),
                )?;
                wait_ready(client, &self.base, &mut self.web).await?;
                Ok(started)
            }
        }
    }

    fn print_logs(&self) {
        for child in self.children() {
            eprintln!(
                "--- the last {LOG_TAIL_LINES} lines of the {} process's log ({}) ---\n{}",
                child.name,
                child.log.display(),
                child.log_tail()
            );
        }
    }
}

/// Starts the processes of `kind` on fresh storage and waits until the web process is ready.
async fn start_processes(
    kind: Kind,
    bin: &Path,
    root: &Path,
    fake_url: &str,
    client: &reqwest::Client,
) -> Result<Setup> {
    // Declared first, dropped last: on an early return the processes stop before their
    // storage goes.
    let dir = TempDir::create()?;
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let mut env = common_env(&dir.path().join("data"), port, fake_url);
    let (database, redis_keys) = match kind {
        Kind::SqliteLocal => {
            // Set but empty: wins over a `.env` and means "not configured".
            env.push(("DATABASE_URL".to_owned(), String::new()));
            env.push(("REDIS_URL".to_owned(), String::new()));
            (None, None)
        }
        Kind::PostgresRedis => {
            // Fail fast with a clear message rather than time out on /readyz.
            let redis = redis_pool().await?;
            let _ = ClientLike::quit(&redis).await;
            let database = PgDatabase::create()?;
            let prefix = format!("picscripter-bench:{}", Uuid::new_v4().simple());
            env.push(("DATABASE_URL".to_owned(), database.url()));
            env.push(("REDIS_URL".to_owned(), REDIS_URL.to_owned()));
            env.push(("REDIS_PREFIX".to_owned(), prefix.clone()));
            (Some(database), Some(RedisKeys { prefix }))
        }
    };

    let log = dir.path().join("web.log");
    let mut web = Child::spawn("web", bin, &["serve", "--no-workers"], &env, root, log)?;
    // The web process migrates the database before it is ready.
    wait_ready(client, &base, &mut web).await?;

    Ok(Setup {
        kind,
        base,
        web,
        worker: None,
        bin: bin.to_owned(),
        root: root.to_owned(),
        env,
        redis_prefix: redis_keys.as_ref().map(|keys| keys.prefix.clone()),
        _redis_keys: redis_keys,
        _database: database,
        _dir: dir,
    })
}

/// The variables both set-ups share; the database and queue ones are added per set-up.
fn common_env(data_dir: &Path, port: u16, fake_url: &str) -> Vec<(String, String)> {
    // 64 hex characters: above the 32 bytes JWT_SECRET needs.
    let jwt_secret = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    [
        ("DATA_DIR", data_dir.display().to_string()),
        ("PICSCRIPTER_ADDR", format!("127.0.0.1:{port}")),
        ("JWT_SECRET", jwt_secret),
        // 32 random bytes, base64: the web and worker processes must share it.
        ("ENCRYPTION_KEY", server::crypto::generate_key()),
        ("X_CLIENT_ID", CLIENT_ID.to_owned()),
        ("X_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        ("X_AUTH_URL", fake_url.to_owned()),
        ("X_API_URL", fake_url.to_owned()),
        ("WORKER_CONCURRENCY", WORKER_CONCURRENCY.to_string()),
        ("RATE_LIMIT_API", "1000000/s".to_owned()),
        ("RATE_LIMIT_AUTH", "1000000/s".to_owned()),
        ("RATE_LIMIT_POST", "1000000/s".to_owned()),
        ("RATE_LIMIT_OAUTH", "1000000/s".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}

/// A fresh PostgreSQL database, dropped (with its open connections) when this is dropped.
struct PgDatabase {
    name: String,
}

impl PgDatabase {
    fn create() -> Result<Self> {
        let name = format!("picscripter_bench_{}", Uuid::new_v4().simple());
        psql(&format!("CREATE DATABASE \"{name}\"")).context(
            "cannot create the benchmark database; is PostgreSQL running on 127.0.0.1:5432 \
             (`.ci/services start`)?",
        )?;
        Ok(Self { name })
    }

    /// Without TLS, as the anchors' `pg` client connects: on 127.0.0.1 encryption only costs
    /// CPU on both ends, and Debian's PostgreSQL offers it, which sqlx then takes.
    fn url(&self) -> String {
        let (server, _) = PG_ADMIN_URL
            .rsplit_once('/')
            .expect("the admin URL ends with a database name");
        format!("{server}/{}?sslmode=disable", self.name)
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        if let Err(error) = psql(&sql) {
            eprintln!(
                "warning: the database {} was not dropped: {error:#}",
                self.name
            );
        }
    }
}

/// Runs one statement as the admin role.
fn psql(sql: &str) -> Result<()> {
    let output = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            PG_ADMIN_URL,
            "-c",
            sql,
        ])
        .stdin(Stdio::null())
        .output()
        .context("cannot run psql (is it installed and on the PATH?)")?;
    ensure!(
        output.status.success(),
        "psql -c {sql:?} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(())
}

/// The queue's keys under a fresh prefix, deleted when this is dropped.
struct RedisKeys {
    prefix: String,
}

impl Drop for RedisKeys {
    fn drop(&mut self) {
        let prefix = self.prefix.clone();
        // Drop cannot await: a short-lived runtime on another thread deletes the keys.
        let outcome = std::thread::spawn(move || -> Result<()> {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot build a runtime for the clean-up")?
                .block_on(delete_redis_keys(&prefix))
        })
        .join();
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(error)) => eprintln!(
                "warning: the Redis keys under {} were not deleted: {error:#}",
                self.prefix
            ),
            Err(_) => eprintln!(
                "warning: deleting the Redis keys under {} panicked",
                self.prefix
            ),
        }
    }
}

async fn delete_redis_keys(prefix: &str) -> Result<()> {
    let redis = redis_pool().await?;
    let keys: Vec<String> = ["waiting", "leased", "tokens"]
        .iter()
        .map(|key| format!("{prefix}:{key}"))
        .collect();
    let deleted = KeysInterface::del::<(), _>(redis.next(), keys).await;
    let _ = ClientLike::quit(&redis).await;
    deleted.context("DEL of the queue's keys failed")
}

/// A connected Redis pool (the server's own settings), or a clear error within 5 s.
async fn redis_pool() -> Result<Pool> {
    let url = secrecy::SecretString::from(REDIS_URL.to_owned());
    let pool = server::redis::connect(&url).context("the Redis URL does not parse")?;
    match tokio::time::timeout(Duration::from_secs(5), ClientLike::wait_for_connect(&pool)).await {
        Ok(Ok(())) => Ok(pool),
        Ok(Err(error)) => Err(anyhow!(error).context(format!(
            "cannot connect to Redis at {REDIS_URL} (`.ci/services start`)"
        ))),
        Err(_) => bail!("Redis does not answer at {REDIS_URL} (`.ci/services start`)"),
    }
}

// ---------------------------------------------------------------------------------------------
// The API, as a client sees it.

/// Connects the sandbox X account `username`; returns the connection id.
async fn connect_x(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    fake: &XFake,
    username: &str,
) -> Result<String> {
    support::connect(client, base, token, "x", username, |url| {
        fake.authorize_directly(url, username)
    })
    .await
}

/// The body of a post to `connection` with this text and schedule.
fn new_post(connection: &str, text: String, schedule: Value) -> Value {
    json!({ "text": text, "targets": [{ "connection_id": connection }], "schedule": schedule })
}

/// Creates every post in `bodies` through `POST /api/posts` from [`CLIENT_LOOPS`] concurrent
/// loops; returns how long that took. Stops at the first refusal.
async fn create_posts(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    bodies: Vec<Value>,
) -> Result<Duration> {
    let url: Arc<str> = Arc::from(format!("{base}/api/posts"));
    let token: Arc<str> = Arc::from(token);
    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut loops = JoinSet::new();
    for _ in 0..CLIENT_LOOPS {
        loops.spawn(create_loop(
            client.clone(),
            Arc::clone(&url),
            Arc::clone(&token),
            Arc::clone(&bodies),
            Arc::clone(&next),
        ));
    }
    while let Some(joined) = loops.join_next().await {
        // On an error the set is dropped here, which aborts the other loops.
        joined.context("a create loop panicked")??;
    }
    Ok(started.elapsed())
}

/// One client loop: takes the next index until none is left.
async fn create_loop(
    client: reqwest::Client,
    url: Arc<str>,
    token: Arc<str>,
    bodies: Arc<Vec<Value>>,
    next: Arc<AtomicUsize>,
) -> Result<()> {
    loop {
        let index = next.fetch_add(1, Ordering::Relaxed);
        let Some(body) = bodies.get(index) else {
            return Ok(());
        };
        let response = client
            .post(&*url)
            .bearer_auth(&*token)
            .json(body)
            .send()
            .await
            .with_context(|| format!("POST /api/posts (post {index}) was not answered"))?;
        // Read to the end, so the connection goes back to the pool.
        body_of(response, StatusCode::CREATED, "POST /api/posts").await?;
    }
}

/// Waits until the fake holds `expected` posts in all; fails if a process dies, if nothing
/// arrives for [`STALL_TIMEOUT`], or after [`PUBLISH_TIMEOUT`].
async fn wait_for_posts(setup: &mut Setup, fake: &XFake, expected: usize) -> Result<()> {
    let started = Instant::now();
    let mut last_count = fake.post_count();
    let mut last_progress = Instant::now();
    let mut last_check = Instant::now();
    loop {
        let count = fake.post_count();
        if count >= expected {
            return Ok(());
        }
        if count != last_count {
            last_count = count;
            last_progress = Instant::now();
        }
        ensure!(
            started.elapsed() < PUBLISH_TIMEOUT,
            "after {} s the X fake is still {} posts short",
            PUBLISH_TIMEOUT.as_secs(),
            expected - count
        );
        ensure!(
            last_progress.elapsed() < STALL_TIMEOUT,
            "no post reached the X fake for {} s, {} still missing: is publishing failing?",
            STALL_TIMEOUT.as_secs(),
            expected - count
        );
        if last_check.elapsed() >= Duration::from_secs(1) {
            setup.check_alive()?;
            last_check = Instant::now();
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

// ---------------------------------------------------------------------------------------------
// The measurements.

struct Throughput {
    /// From the workers' start until X has every post: the pipeline alone, as BullMQ's
    /// `process_jobs_per_s` (its jobs are all enqueued before its Worker starts).
    jobs_per_sec: f64,
    create_per_sec: f64,
    /// From the first create until X has every post.
    e2e_jobs_per_sec: f64,
}

/// [`THROUGHPUT_POSTS`] posts "now", all stored (through `POST /api/posts`) before the workers
/// start.
async fn throughput(
    setup: &mut Setup,
    client: &reqwest::Client,
    fake: &XFake,
    token: &str,
    connection: &str,
) -> Result<Throughput> {
    let name = setup.kind.name();
    let bodies: Vec<Value> = (0..THROUGHPUT_POSTS)
        .map(|n| new_post(connection, format!("bench {name} {n}"), json!("now")))
        .collect();
    let expected = fake.post_count() + THROUGHPUT_POSTS;
    let creating = create_posts(client, &setup.base, token, bodies).await?;
    let started = setup.start_workers(client).await?;
    let cpu_before = CpuTimes::now(setup)?;
    wait_for_posts(setup, fake, expected).await?;
    let processing = started.elapsed();
    CpuTimes::now(setup)?.print_per_job(&cpu_before, name, THROUGHPUT_POSTS, processing);
    Ok(Throughput {
        jobs_per_sec: per_sec(THROUGHPUT_POSTS, processing),
        create_per_sec: per_sec(THROUGHPUT_POSTS, creating),
        e2e_jobs_per_sec: per_sec(THROUGHPUT_POSTS, creating + processing),
    })
}

struct Noop {
    enqueue_per_sec: f64,
    jobs_per_sec: f64,
    e2e_jobs_per_sec: f64,
}

/// Our Redis queue alone, as BullMQ's `noop` run: [`NOOP_JOBS`] jobs enqueued (64 calls in
/// flight), then taken and finished by [`NOOP_CONCURRENCY`] loops doing nothing else.
async fn noop_queue() -> Result<Noop> {
    use futures_util::StreamExt as _;
    use server::queue::{JobId, JobQueue};

    let keys = RedisKeys {
        prefix: format!("picscripter-bench-noop:{}", Uuid::new_v4().simple()),
    };
    let queue = Arc::new(server::queue::redis::RedisQueue::new(
        redis_pool().await?,
        &keys.prefix,
    ));
    let now = Utc::now();
    let started = Instant::now();
    let enqueued: Vec<Result<(), server::queue::QueueError>> =
        futures_util::stream::iter(0..NOOP_JOBS)
            .map(|_| {
                let queue = Arc::clone(&queue);
                async move { queue.enqueue(JobId(Uuid::new_v4()), now).await }
            })
            .buffer_unordered(64)
            .collect()
            .await;
    for outcome in enqueued {
        outcome.context("enqueueing a no-op job failed")?;
    }
    let enqueuing = started.elapsed();

    let processing_started = Instant::now();
    let done = Arc::new(AtomicUsize::new(0));
    let mut loops = JoinSet::new();
    for _ in 0..NOOP_CONCURRENCY {
        let queue = Arc::clone(&queue);
        let done = Arc::clone(&done);
        loops.spawn(async move {
            while let Some(lease) = queue.claim(Utc::now(), TimeDelta::seconds(60)).await? {
                queue.ack(&lease).await?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<(), server::queue::QueueError>(())
        });
    }
    while let Some(joined) = loops.join_next().await {
        joined
            .context("a no-op loop panicked")?
            .context("a no-op claim or ack failed")?;
    }
    let processing = processing_started.elapsed();
    let done = done.load(Ordering::Relaxed);
    ensure!(
        done == NOOP_JOBS,
        "{done} no-op jobs of {NOOP_JOBS} were done"
    );
    Ok(Noop {
        enqueue_per_sec: per_sec(NOOP_JOBS, enqueuing),
        jobs_per_sec: per_sec(NOOP_JOBS, processing),
        e2e_jobs_per_sec: per_sec(NOOP_JOBS, enqueuing + processing),
    })
}

struct Lateness {
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

/// [`LATENESS_POSTS`] posts due evenly over [`LATENESS_SPREAD`] from T0 = now +
/// [`LATENESS_LEAD`]: how long after its due time each reached X.
async fn lateness(
    setup: &mut Setup,
    client: &reqwest::Client,
    fake: &XFake,
    token: &str,
    connection: &str,
) -> Result<Lateness> {
    let name = setup.kind.name();
    // Whole milliseconds, so the due times sent (RFC 3339 with milliseconds) are exact.
    let lead_ms = i64::try_from(LATENESS_LEAD.as_millis()).expect("the lead fits in i64");
    let spread_ms = i64::try_from(LATENESS_SPREAD.as_millis()).expect("the spread fits in i64");
    let posts = i64::try_from(LATENESS_POSTS).expect("the post count fits in i64");
    let t0 = DateTime::from_timestamp_millis(Utc::now().timestamp_millis() + lead_ms)
        .context("T0 is out of chrono's range")?;
    let due: Vec<DateTime<Utc>> = (0..posts)
        .map(|i| t0 + TimeDelta::milliseconds(spread_ms * i / posts))
        .collect();
    let bodies: Vec<Value> = due
        .iter()
        .enumerate()
        .map(|(i, at)| {
            let at = at.to_rfc3339_opts(SecondsFormat::Millis, true);
            new_post(connection, format!("late {name} {i}"), json!({ "at": at }))
        })
        .collect();

    let expected = fake.post_count() + LATENESS_POSTS;
    create_posts(client, &setup.base, token, bodies).await?;
    let created = Utc::now();
    if created > t0 {
        eprintln!(
            "warning: {name}: the scheduled posts were created {} ms after the first was due; \
             lateness is computed anyway",
            (created - t0).num_milliseconds()
        );
    }
    wait_for_posts(setup, fake, expected).await?;

    let prefix = format!("late {name} ");
    let published: HashMap<String, DateTime<Utc>> = fake
        .posts()
        .into_iter()
        .filter(|post| post.text.starts_with(&prefix))
        .map(|post| (post.text, post.created_at))
        .collect();
    let mut lateness_ms = Vec::with_capacity(LATENESS_POSTS);
    for (i, at) in due.iter().enumerate() {
        let text = format!("{prefix}{i}");
        let published_at = published
            .get(&text)
            .with_context(|| format!("{text:?} never reached the X fake"))?;
        let late_us = (*published_at - *at)
            .num_microseconds()
            .context("a lateness beyond i64 microseconds")?;
        lateness_ms.push(late_us as f64 / 1000.0);
    }
    lateness_ms.sort_by(f64::total_cmp);
    Ok(Lateness {
        p50_ms: percentile(&lateness_ms, 50.0),
        p99_ms: percentile(&lateness_ms, 99.0),
        max_ms: lateness_ms.last().copied().unwrap_or(f64::NAN),
    })
}

struct RedisBytes {
    bytes_per_job: f64,
    waiting_key_bytes_per_job: Option<f64>,
    /// Jobs in the waiting set after the creates (should be [`MEMORY_POSTS`]).
    waiting: u64,
}

/// Redis memory per waiting job: [`MEMORY_POSTS`] posts due in an hour, `used_memory` before
/// and after.
async fn redis_bytes(
    setup: &Setup,
    client: &reqwest::Client,
    token: &str,
    connection: &str,
    prefix: &str,
) -> Result<RedisBytes> {
    let name = setup.kind.name();
    let redis = redis_pool().await?;
    let waiting_key = format!("{prefix}:waiting");
    let before = used_memory(&redis).await?;

    let due = (Utc::now() + TimeDelta::hours(1)).to_rfc3339_opts(SecondsFormat::Millis, true);
    let bodies: Vec<Value> = (0..MEMORY_POSTS)
        .map(|i| new_post(connection, format!("idle {name} {i}"), json!({ "at": due })))
        .collect();
    // A create answers after its commit and its enqueue; the pause lets Redis settle.
    create_posts(client, &setup.base, token, bodies).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;

    let after = used_memory(&redis).await?;
    let waiting = redis
        .next()
        .zcard::<u64, _>(waiting_key.as_str())
        .await
        .context("ZCARD of the waiting set failed")?;
    if waiting != MEMORY_POSTS as u64 {
        eprintln!(
            "warning: {name}: {waiting} jobs wait in {waiting_key}, {MEMORY_POSTS} were expected"
        );
    }
    // SAMPLES 0: count every member, not an estimate from a sample.
    let usage = redis
        .next()
        .custom::<Option<u64>, String>(
            CustomCommand::new_static("MEMORY", ClusterHash::FirstKey, false),
            vec![
                "USAGE".to_owned(),
                waiting_key.clone(),
                "SAMPLES".to_owned(),
                "0".to_owned(),
            ],
        )
        .await;
    let waiting_key_bytes = match usage {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("warning: MEMORY USAGE {waiting_key} failed: {error}");
            None
        }
    };
    let _ = ClientLike::quit(&redis).await;

    Ok(RedisBytes {
        bytes_per_job: (after as f64 - before as f64) / MEMORY_POSTS as f64,
        waiting_key_bytes_per_job: waiting_key_bytes
            .map(|bytes| bytes as f64 / MEMORY_POSTS as f64),
        waiting,
    })
}

async fn used_memory(redis: &Pool) -> Result<u64> {
    let info = redis
        .next()
        .info::<String>(Some(InfoKind::Memory))
        .await
        .context("INFO memory failed")?;
    info.lines()
        .find_map(|line| line.strip_prefix("used_memory:"))
        .context("INFO memory has no used_memory line")?
        .trim()
        .parse()
        .context("used_memory is not a number")
}

/// CPU time (user + system) spent so far by each party of a run: our processes, this bench
/// process (the X fake and the client), PostgreSQL's and Redis's processes. The difference of
/// two readings says where a run's CPU went, so what bounds a figure can be read off it.
struct CpuTimes(Vec<(&'static str, Duration)>);

impl CpuTimes {
    fn now(setup: &Setup) -> Result<Self> {
        let mut parties = vec![("web", cpu_of(setup.web.pid())?)];
        if let Some(worker) = &setup.worker {
            parties.push(("worker", cpu_of(worker.pid())?));
        }
        parties.push(("bench+fake", cpu_of(std::process::id())?));
        parties.push(("postgres", cpu_of_named("postgres")));
        parties.push(("redis", cpu_of_named("redis-server")));
        Ok(Self(parties))
    }

    /// Prints, per party, the CPU milliseconds each job cost between `before` and now, and the
    /// share of the machine's cores the run kept busy.
    fn print_per_job(&self, before: &Self, setup: &str, jobs: usize, elapsed: Duration) {
        let cores = std::thread::available_parallelism().map_or(1, |cores| cores.get());
        let mut total = Duration::ZERO;
        let mut parts = Vec::new();
        for ((name, after), (_, earlier)) in self.0.iter().zip(&before.0) {
            let spent = after.saturating_sub(*earlier);
            total += spent;
            parts.push(format!(
                "{name} {:.2}",
                spent.as_secs_f64() * 1000.0 / jobs as f64
            ));
        }
        println!(
            "# {setup}: CPU ms per job: {}; total {:.2}; {:.0} % of {cores} cores busy",
            parts.join(", "),
            total.as_secs_f64() * 1000.0 / jobs as f64,
            100.0 * total.as_secs_f64() / (elapsed.as_secs_f64() * cores as f64),
        );
    }
}

/// User + system CPU time of process `pid` and the threads it has (`/proc/<pid>/stat`).
fn cpu_of(pid: u32) -> Result<Duration> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    cpu_in_stat(&stat).with_context(|| format!("{path} does not read as a stat line"))
}

/// The CPU time of every process whose command is `name` (PostgreSQL forks one per client).
fn cpu_of_named(name: &str) -> Duration {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Duration::ZERO;
    };
    entries
        .filter_map(|entry| {
            let dir = entry.ok()?.path();
            let comm = std::fs::read_to_string(dir.join("comm")).ok()?;
            (comm.trim() == name)
                .then(|| std::fs::read_to_string(dir.join("stat")).ok())
                .flatten()
                .and_then(|stat| cpu_in_stat(&stat))
        })
        .sum()
}

/// Fields 14 and 15 of a stat line (utime, stime), counted after the command, which is in
/// parentheses and may hold spaces.
fn cpu_in_stat(stat: &str) -> Option<Duration> {
    let after_command = &stat[stat.rfind(')')? + 2..];
    let mut fields = after_command.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    // Linux counts these in clock ticks of 1/100 s (USER_HZ) on every platform it runs here.
    Some(Duration::from_millis((user + system) * 10))
}

fn per_sec(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

/// Nearest rank, as the anchors' `percentile` (`lib/common.js`).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.saturating_sub(1).min(sorted.len() - 1)]
}

fn round_to(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

// ---------------------------------------------------------------------------------------------
// The Node design, run beside ours.

/// The anchors' `queue/queue-bench.js` runs, as the anchors README gives them: one JSON line
/// each. `dir` is the copy `server/bench/anchors.sh` prepared (`BENCH_ANCHORS_DIR`).
fn node_runs(dir: &Path) -> Result<Vec<(&'static str, Value)>> {
    let runs: [(&'static str, &[&str]); 4] = [
        (
            "http",
            &[
                "http",
                "--jobs",
                "20000",
                "--concurrency",
                "50",
                "--latency",
                "20",
            ],
        ),
        ("noop", &["noop", "--jobs", "20000", "--concurrency", "10"]),
        (
            "delayed",
            &[
                "delayed",
                "--jobs",
                "5000",
                "--spread",
                "5000",
                "--concurrency",
                "50",
            ],
        ),
        ("memory", &["memory", "--jobs", "10000"]),
    ];
    let mut figures = Vec::new();
    for (name, args) in runs {
        let output = Command::new("node")
            .arg("queue/queue-bench.js")
            .args(args)
            .current_dir(dir)
            .output()
            .with_context(|| format!("cannot run node queue/queue-bench.js {name}"))?;
        ensure!(
            output.status.success(),
            "node queue/queue-bench.js {name} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout
            .lines()
            .rev()
            .find(|line| line.starts_with('{'))
            .context("no JSON line")?;
        let value: Value = serde_json::from_str(line).context("the anchor's JSON line")?;
        println!("node.{name}: {line}");
        figures.push((name, value));
    }
    Ok(figures)
}

// ---------------------------------------------------------------------------------------------
// The report.

/// One comparison: a figure of ours, the Node figure it is set against, and the goal.
struct Comparison {
    label: &'static str,
    kind: Kind,
    figure: &'static str,
    /// The anchor run and the JSON pointer in its line.
    node: (&'static str, &'static str),
    higher_is_better: bool,
    goal: &'static str,
}

const COMPARISONS: &[Comparison] = &[
    Comparison {
        label: "publish jobs/s (workers only)",
        kind: Kind::SqliteLocal,
        figure: "jobs_per_sec",
        node: ("http", "/process_jobs_per_s"),
        higher_is_better: true,
        goal: "ahead",
    },
    Comparison {
        label: "publish jobs/s (workers only)",
        kind: Kind::PostgresRedis,
        figure: "jobs_per_sec",
        node: ("http", "/process_jobs_per_s"),
        higher_is_better: true,
        goal: "ahead",
    },
    Comparison {
        label: "publish jobs/s (end to end)",
        kind: Kind::SqliteLocal,
        figure: "e2e_jobs_per_sec",
        node: ("http", "/e2e_jobs_per_s"),
        higher_is_better: true,
        goal: "",
    },
    Comparison {
        label: "publish jobs/s (end to end)",
        kind: Kind::PostgresRedis,
        figure: "e2e_jobs_per_sec",
        node: ("http", "/e2e_jobs_per_s"),
        higher_is_better: true,
        goal: "",
    },
    Comparison {
        label: "no-op jobs/s (queue only)",
        kind: Kind::PostgresRedis,
        figure: "noop_jobs_per_sec",
        node: ("noop", "/process_jobs_per_s"),
        higher_is_better: true,
        goal: ">= 2x",
    },
    Comparison {
        label: "no-op jobs/s (end to end)",
        kind: Kind::PostgresRedis,
        figure: "noop_e2e_jobs_per_sec",
        node: ("noop", "/e2e_jobs_per_s"),
        higher_is_better: true,
        goal: "",
    },
    Comparison {
        label: "lateness p50 ms",
        kind: Kind::SqliteLocal,
        figure: "lateness_p50_ms",
        node: ("delayed", "/lateness_ms/p50"),
        higher_is_better: false,
        goal: "",
    },
    Comparison {
        label: "lateness p99 ms",
        kind: Kind::SqliteLocal,
        figure: "lateness_p99_ms",
        node: ("delayed", "/lateness_ms/p99"),
        higher_is_better: false,
        goal: "< 50 ms",
    },
    Comparison {
        label: "lateness p50 ms",
        kind: Kind::PostgresRedis,
        figure: "lateness_p50_ms",
        node: ("delayed", "/lateness_ms/p50"),
        higher_is_better: false,
        goal: "",
    },
    Comparison {
        label: "lateness p99 ms",
        kind: Kind::PostgresRedis,
        figure: "lateness_p99_ms",
        node: ("delayed", "/lateness_ms/p99"),
        higher_is_better: false,
        goal: "< 50 ms",
    },
    Comparison {
        label: "Redis bytes per waiting job",
        kind: Kind::PostgresRedis,
        figure: "redis_bytes_per_job",
        node: ("memory", "/bytes_per_job"),
        higher_is_better: false,
        goal: "<= 0.25x",
    },
    Comparison {
        label: "worker RSS after load, MiB",
        kind: Kind::PostgresRedis,
        figure: "rss_worker_mib",
        node: ("http", "/node_rss_mib"),
        higher_is_better: false,
        goal: "<= 0.25x",
    },
];

#[derive(Default)]
struct Report {
    figures: Vec<(Kind, &'static str, f64)>,
    node: Vec<(&'static str, Value)>,
}

impl Report {
    /// Keeps a figure and prints it as `setup.figure: value`.
    fn record(&mut self, kind: Kind, figure: &'static str, value: f64) {
        let value = round_to(value, 1);
        println!("{}.{figure}: {value}", kind.name());
        self.figures.push((kind, figure, value));
    }

    fn get(&self, kind: Kind, figure: &str) -> Option<f64> {
        self.figures
            .iter()
            .find(|(k, f, _)| *k == kind && *f == figure)
            .map(|(_, _, value)| *value)
    }

    fn node_figure(&self, run: &str, pointer: &str) -> Option<f64> {
        let (_, line) = self.node.iter().find(|(name, _)| *name == run)?;
        if pointer == "/node_rss_mib" {
            return line
                .pointer("/node_rss_kib")?
                .as_f64()
                .map(|kib| kib / 1024.0);
        }
        line.pointer(pointer)?.as_f64()
    }

    /// Each comparison with its ratio (ours / Node), and whether the goal is met.
    fn rows(&self) -> Vec<(&'static Comparison, f64, f64, f64)> {
        COMPARISONS
            .iter()
            .filter_map(|row| {
                let ours = self.get(row.kind, row.figure)?;
                let node = self.node_figure(row.node.0, row.node.1)?;
                Some((row, ours, node, ours / node))
            })
            .collect()
    }

    fn print_comparison(&self) {
        if self.node.is_empty() {
            println!("# the Node design was not run (BENCH_ANCHORS_DIR is not set): no ratios");
            return;
        }
        println!(
            "# beside the Node design (Express + BullMQ), same machine, same run; ratio = ours / Node"
        );
        for (row, ours, node, ratio) in self.rows() {
            let better = if row.higher_is_better {
                "higher is better"
            } else {
                "lower is better"
            };
            println!(
                "#   {:<15} {:<30} {:>9.1} vs {:>9.1}  {ratio:>6.2}x  goal {:<9} ({better})",
                row.kind.name(),
                row.label,
                ours,
                node,
                if row.goal.is_empty() { "-" } else { row.goal },
            );
        }
        println!(
            "# notes: our jobs are whole posts (database rows, job log, X's answer recorded); BullMQ's\n\
             #   carry a payload and nothing is recorded. Our lateness runs until X has the post\n\
             #   (X's {} ms included), Node's until its handler starts. Our queue holds job ids only.\n\
             #   RSS: ours is a `picscripter worker` process, Node's the bench process (worker and producer).",
            X_LATENCY.as_millis()
        );
    }

    /// Everything on one line: the settings, the figures per set-up, Node's and the ratios.
    fn json(&self) -> Value {
        let mut setups = Map::new();
        for (kind, figure, value) in &self.figures {
            if let Value::Object(figures) = setups
                .entry(kind.name())
                .or_insert_with(|| Value::Object(Map::new()))
            {
                figures.insert((*figure).to_owned(), json!(value));
            }
        }
        let node: Map<String, Value> = self
            .node
            .iter()
            .map(|(name, line)| ((*name).to_owned(), line.clone()))
            .collect();
        let ratios: Vec<Value> = self
            .rows()
            .into_iter()
            .map(|(row, ours, node, ratio)| {
                json!({ "setup": row.kind.name(), "figure": row.figure, "ours": ours, "node": node, "ratio": round_to(ratio, 2) })
            })
            .collect();
        json!({
            "bench": "pipeline",
            "x_latency_ms": X_LATENCY.as_millis() as u64,
            "worker_concurrency": WORKER_CONCURRENCY,
            "client_loops": CLIENT_LOOPS,
            "throughput_posts": THROUGHPUT_POSTS,
            "lateness_posts": LATENESS_POSTS,
            "lateness_spread_ms": LATENESS_SPREAD.as_millis() as u64,
            "memory_posts": MEMORY_POSTS,
            "noop_jobs": NOOP_JOBS,
            "noop_concurrency": NOOP_CONCURRENCY,
            "setups": setups,
            "node": node,
            "ratios": ratios,
        })
    }
}
