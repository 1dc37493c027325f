//! The deployment under test: two `serve --no-workers` web processes behind nginx and two
//! `worker` processes, on one PostgreSQL and one Redis, all the campaign's own. The fakes of
//! all seven platforms run in the campaign's process, so their ledgers can be read directly.
//! Each worker reaches X through a door of its own (a listener that counts the posts being
//! created through it, behind a TCP link the campaign can cut), so the campaign knows which
//! worker holds a request it delays.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::middleware::Next;

use super::platforms::{self, Platform, PlatformTimes, Served};
use super::services::{Nginx, Postgres, Redis};
use crate::common::TcpProxy;
use crate::common::process::{Api, LEPTOS_CONFIG, Process, free_port};
use server::sandbox::x::XFake;
use server::sandbox::youtube::YouTubeFake;

const CLIENT_ID: &str = "chaos-client";
const CLIENT_SECRET: &str = "chaos-secret";

/// One worker's way to the fake.
pub struct Door {
    fake_addr: SocketAddr,
    link: Option<TcpProxy>,
    link_addr: SocketAddr,
    creating: Arc<AtomicUsize>,
    _server: tokio::task::JoinHandle<()>,
}

/// Counts a request while it is being answered, however it ends (a killed client included).
struct Counted(Arc<AtomicUsize>);

impl Counted {
    fn new(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Self(counter.clone())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Door {
    async fn open(fake: &XFake) -> Self {
        let creating = Arc::new(AtomicUsize::new(0));
        let counter = creating.clone();
        let router = fake.router().layer(axum::middleware::from_fn(
            move |request: Request, next: Next| {
                let counter = counter.clone();
                async move {
                    let _counted = (request.method() == http::Method::POST
                        && request.uri().path() == "/2/tweets")
                        .then(|| Counted::new(&counter));
                    next.run(request).await
                }
            },
        ));
        let (fake_addr, server) = server::sandbox::serve(router).await.expect("a door");
        let link = TcpProxy::start(fake_addr).await;
        Self {
            fake_addr,
            link_addr: link.addr,
            link: Some(link),
            creating,
            _server: server,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.link_addr)
    }

    /// Posts being created through this door right now.
    pub fn creating(&self) -> usize {
        self.creating.load(Ordering::SeqCst)
    }

    /// Drops every open connection through the door, then opens it again at the same address.
    pub async fn drop_connections(&mut self) {
        if let Some(link) = self.link.take() {
            link.cut();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        self.link = Some(TcpProxy::start_at(self.link_addr, self.fake_addr).await);
    }
}

pub struct Cluster {
    pub fake: XFake,
    /// Every platform, X first.
    pub platforms: Vec<Arc<dyn Platform>>,
    /// Instagram's and YouTube's own time, which the campaign moves days at once.
    pub times: PlatformTimes,
    /// YouTube's fake, whose uploads the campaign breaks.
    pub youtube: YouTubeFake,
    pub doors: Vec<Door>,
    /// Shared with the outage running in the background, if any.
    pub redis: Arc<Mutex<Redis>>,
    pub postgres: Arc<Postgres>,
    pub api: Api,
    nginx: Nginx,
    webs: Vec<Process>,
    workers: Vec<Option<Process>>,
    env: Vec<(String, String)>,
    binary: PathBuf,
    dir: PathBuf,
    _fake_server: tokio::task::JoinHandle<()>,
    _others: Vec<Served>,
}

impl Cluster {
    pub async fn start(binary: &Path) -> Self {
        let fake = XFake::new(CLIENT_ID, CLIENT_SECRET);
        // The fake's own 429s come only when the campaign injects them.
        fake.set_rate_limit(u32::MAX / 2);
        let (fake_addr, fake_server) = server::sandbox::serve(fake.router()).await.unwrap();
        let fake_url = format!("http://{fake_addr}");
        let doors = vec![Door::open(&fake).await, Door::open(&fake).await];
        let times = PlatformTimes::default();
        let (others, youtube) = platforms::serve_all(CLIENT_ID, CLIENT_SECRET, &times).await;

        let postgres = Postgres::start();
        postgres.create_database("picscripter");
        let redis = Redis::start();
        let web_ports = [free_port(), free_port()];
        let nginx = Nginx::start(&web_ports);
        let dir = std::env::temp_dir().join(format!(
            "picscripter-chaos-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();

        let env: Vec<(String, String)> = [
            ("DATA_DIR", dir.display().to_string()),
            ("DATABASE_URL", postgres.url("picscripter")),
            ("REDIS_URL", redis.url()),
            ("REDIS_PREFIX", "chaos".to_owned()),
            ("JWT_SECRET", format!("chaos-{}", uuid::Uuid::new_v4())),
            ("ENCRYPTION_KEY", server::crypto::generate_key()),
            ("PUBLIC_BASE_URL", nginx.base_url()),
            ("TRUSTED_PROXIES", "127.0.0.1".to_owned()),
            ("X_CLIENT_ID", CLIENT_ID.to_owned()),
            ("X_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
            ("X_AUTH_URL", fake_url.clone()),
            ("X_API_URL", fake_url),
            // The campaign is one client sending thousands of posts: its faults are the
            // subject, not its rate.
            ("RATE_LIMIT_API", "1000000/min".to_owned()),
            ("RATE_LIMIT_POST", "1000000/min".to_owned()),
            ("RATE_LIMIT_AUTH", "10000/min".to_owned()),
            // Every user connects an account on each of the seven platforms.
            ("RATE_LIMIT_OAUTH", "10000/min".to_owned()),
            ("WORKER_CONCURRENCY", "16".to_owned()),
            ("PUBLISH_MAX_ATTEMPTS", "10".to_owned()),
            ("PUBLISH_BACKOFF_BASE_MS", "300".to_owned()),
            ("QUEUE_SWEEP_SECS", "2".to_owned()),
            ("WORKER_LEASE_SECS", "6".to_owned()),
            ("PLATFORM_TIMEOUT_SECS", "4".to_owned()),
            ("RUST_LOG", "info,tower_http=warn".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .chain(others.iter().flat_map(|other| other.env.clone()))
        .collect();

        let mut webs = Vec::new();
        for port in web_ports {
            let mut web_env = env.clone();
            web_env.push(("PICSCRIPTER_ADDR".into(), format!("127.0.0.1:{port}")));
            let web = Process::start_binary(
                binary,
                &["serve", "--no-workers", "--leptos-config", LEPTOS_CONFIG],
                &web_env,
                &dir,
            );
            web.wait_for("listening").await;
            webs.push(web);
        }
        let platforms = std::iter::once(Arc::new(fake.clone()) as Arc<dyn Platform>)
            .chain(others.iter().map(|other| other.platform.clone()))
            .collect();
        let mut cluster = Self {
            fake,
            platforms,
            times,
            youtube,
            doors,
            redis: Arc::new(Mutex::new(redis)),
            postgres: Arc::new(postgres),
            api: Api::new(&nginx.base_url()),
            nginx,
            webs,
            workers: vec![None, None],
            env,
            binary: binary.to_owned(),
            dir,
            _fake_server: fake_server,
            _others: others,
        };
        for index in 0..cluster.workers.len() {
            cluster.start_worker(index).await;
        }
        cluster
    }

    pub async fn start_worker(&mut self, index: usize) {
        let mut env = self.env.clone();
        env.retain(|(name, _)| name != "X_API_URL");
        env.push(("X_API_URL".into(), self.doors[index].url()));
        let worker = Process::start_binary(&self.binary, &["worker"], &env, &self.dir);
        worker.wait_for("publishing worker started").await;
        self.workers[index] = Some(worker);
    }

    /// SIGKILL of worker `index`; it stays down until [`Cluster::start_worker`].
    pub fn kill_worker(&mut self, index: usize) {
        if let Some(mut worker) = self.workers[index].take() {
            worker.kill();
        }
    }

    pub fn worker_count(&self) -> usize {
        self.workers.len()
    }

    /// The last lines of every process's log, for a failure message.
    pub fn log_tail(&self, lines: usize) -> String {
        let mut out = String::new();
        let named = self
            .webs
            .iter()
            .enumerate()
            .map(|(n, web)| (format!("web {n}"), Some(web)))
            .chain(
                self.workers
                    .iter()
                    .enumerate()
                    .map(|(n, worker)| (format!("worker {n}"), worker.as_ref())),
            );
        for (name, process) in named {
            let Some(process) = process else { continue };
            let all = process.lines();
            out.push_str(&format!("--- {name}\n"));
            for line in &all[all.len().saturating_sub(lines)..] {
                out.push_str(line);
                out.push('\n');
            }
        }
        out.push_str(&format!("--- nginx in {}\n", self.nginx.dir().display()));
        out
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for worker in self.workers.iter_mut().flatten() {
            worker.kill();
        }
        for web in &mut self.webs {
            web.kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
