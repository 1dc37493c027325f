//! Configuration: every environment variable the server reads, parsed once at start-up into
//! one typed [`Config`]. Each area (server, database, security, limits, logging) has its own
//! parser; all of them add to one list of problems, so a bad start reports every problem at
//! once, not the first. Nothing else in the server reads the environment.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use secrecy::SecretString;

use crate::http::rate_limit::{Quota, Tier};

/// Which database the server stores its data in.
#[derive(Debug, Clone)]
pub enum DatabaseTarget {
    /// The embedded default: a SQLite file under the data directory.
    SqliteFile(PathBuf),
    /// `DATABASE_URL`: `postgres://…` or `sqlite:…`. Secret because it may hold a password.
    Url(SecretString),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines, for a terminal.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `PICSCRIPTER_ADDR` (default `127.0.0.1:3000`; `serve --addr` wins): where `serve`
    /// listens.
    pub addr: SocketAddr,
    /// `DATA_DIR` (default `./data`): the SQLite file, generated secrets, later media.
    pub data_dir: PathBuf,
    /// `DATABASE_URL` (optional): PostgreSQL in production; the SQLite file without it.
    pub database: DatabaseTarget,
    /// `DATABASE_MAX_CONNECTIONS` (default 8 for SQLite, 20 for PostgreSQL): the pool's size.
    pub database_max_connections: u32,
    /// `REDIS_URL` (optional): the job queue's Redis; the in-process queue without it.
    pub redis_url: Option<SecretString>,
    /// `REDIS_PREFIX` (default `picscripter`): the start of every Redis key, so deployments
    /// (or tests) can share one Redis.
    pub redis_prefix: String,
    /// `JWT_SECRET` (optional, at least 32 bytes): signs session tokens. Without it a random
    /// secret is generated once and kept in `DATA_DIR`, so sessions survive restarts.
    pub jwt_secret: Option<SecretString>,
    /// `PUBLIC_BASE_URL` (optional): the address users reach the app at. Without it, the
    /// address the server actually listens on (see [`Config::public_base_url_for`]); required
    /// when listening on anything but loopback. `https://` turns on `Secure` cookies and HSTS.
    pub public_base_url: Option<http::Uri>,
    /// `CORS_ORIGINS` (optional, comma-separated): origins allowed to call the API from a
    /// browser, and to send state-changing requests from their pages.
    pub cors_origins: Vec<http::HeaderValue>,
    /// `ENCRYPTION_KEY` (optional, 32 bytes of base64): encrypts platform tokens at rest.
    /// Without it a key is generated once and kept in `DATA_DIR`.
    pub encryption_key: Option<SecretString>,
    /// `ENCRYPTION_KEYS_OLD` (optional, comma-separated): retired keys that still decrypt,
    /// until `picscripter rotate-key` has re-encrypted everything under the current one.
    pub encryption_keys_old: Vec<SecretString>,
    /// `TRUSTED_PROXIES` (optional, comma-separated CIDRs or addresses): peers whose
    /// `X-Forwarded-For` is believed when deciding who the client is.
    pub trusted_proxies: Vec<IpNet>,
    /// `LOG_FORMAT` (`pretty` or `json`, default `pretty`).
    pub log_format: LogFormat,
    /// `RUST_LOG` (optional): the log filter, e.g. `info,picscripter=debug`.
    pub log_filter: Option<String>,
    /// `X_CLIENT_ID`, `X_CLIENT_SECRET`, `X_AUTH_URL`, `X_API_URL`: the X app (see
    /// [`PlatformApp`]). The six other platforms will follow the same pattern.
    pub x: PlatformApp,
    /// `PINTEREST_CLIENT_ID`, `PINTEREST_CLIENT_SECRET`, `PINTEREST_AUTH_URL` (default
    /// `https://www.pinterest.com`, the app appends `/oauth/`), `PINTEREST_API_URL` (default
    /// `https://api.pinterest.com`, the app appends `/v5/...`).
    pub pinterest: PlatformApp,
    /// `LINKEDIN_CLIENT_ID`, `LINKEDIN_CLIENT_SECRET`, `LINKEDIN_AUTH_URL` (default
    /// `https://www.linkedin.com`, the app appends `/oauth/v2/...`), `LINKEDIN_API_URL` (default
    /// `https://api.linkedin.com`, the app appends `/v2/userinfo` and `/rest/...`).
    pub linkedin: PlatformApp,
    /// `LINKEDIN_VERSION` (default `202601`): the `LinkedIn-Version` header, a `YYYYMM` that
    /// LinkedIn retires about a year after its release.
    pub linkedin_version: String,
    /// `LINKEDIN_ORGANIZATIONS` (`true` or `false`, default `false`): also ask for the
    /// organization scopes (the app needs LinkedIn's Community Management API product) and
    /// offer the pages the member administers when connecting.
    pub linkedin_organizations: bool,
    /// `TIKTOK_CLIENT_ID` (TikTok's "client key"), `TIKTOK_CLIENT_SECRET`, `TIKTOK_AUTH_URL`
    /// (default `https://www.tiktok.com`, the app appends `/v2/auth/authorize/`),
    /// `TIKTOK_API_URL` (default `https://open.tiktokapis.com`, the app appends `/v2/...`).
    pub tiktok: PlatformApp,
    /// `TIKTOK_VIDEO_SOURCE` (`file_upload`, the default, or `pull_from_url`): whether videos
    /// are sent to TikTok in chunks or downloaded by TikTok from `PUBLIC_BASE_URL`, which
    /// needs that domain verified in TikTok's developer portal. Photos are always downloaded.
    pub tiktok_video_source: TikTokVideoSource,
    /// `TIKTOK_PKCE_CHALLENGE` (`base64url`, the default, as RFC 7636 has it, or `hex`): how the
    /// PKCE challenge is written. Some report that TikTok's desktop flow wants the SHA-256 in
    /// hex; an app that TikTok refuses with the standard one can switch.
    pub tiktok_pkce_challenge: PkceChallenge,
    /// `YOUTUBE_CLIENT_ID`, `YOUTUBE_CLIENT_SECRET` (a Google OAuth client), `YOUTUBE_AUTH_URL`
    /// (default `https://accounts.google.com`, the app appends `/o/oauth2/v2/auth`),
    /// `YOUTUBE_API_URL` (default `https://www.googleapis.com`, the app appends
    /// `/youtube/v3/...`).
    pub youtube: PlatformApp,
    /// `YOUTUBE_UPLOAD_URL` (default `https://www.googleapis.com`, the app appends
    /// `/upload/youtube/v3/videos`) and `YOUTUBE_TOKEN_URL` (default
    /// `https://oauth2.googleapis.com`, the app appends `/token` and `/revoke`): Google serves
    /// uploads and tokens from hosts of their own. `YOUTUBE_WEB_URL` (default
    /// `https://www.youtube.com`): where a video's watch link points.
    pub youtube_hosts: YouTubeHosts,
    /// `INSTAGRAM_CLIENT_ID`, `INSTAGRAM_CLIENT_SECRET` (a Meta app; when unset, the shared
    /// `META_CLIENT_ID` and `META_CLIENT_SECRET`), `INSTAGRAM_AUTH_URL` (default
    /// `https://www.facebook.com`, the app appends `/{version}/dialog/oauth`: professional
    /// accounts connect through Facebook Login), `INSTAGRAM_API_URL` (default
    /// `https://graph.facebook.com`, the app appends `/{version}/...`).
    pub instagram: PlatformApp,
    /// `FACEBOOK_CLIENT_ID`, `FACEBOOK_CLIENT_SECRET` (a Meta app; when unset, the shared
    /// `META_CLIENT_ID` and `META_CLIENT_SECRET`), `FACEBOOK_AUTH_URL` (default
    /// `https://www.facebook.com`, the app appends `/{version}/dialog/oauth`),
    /// `FACEBOOK_API_URL` (default `https://graph.facebook.com`, the app appends
    /// `/{version}/...`).
    pub facebook: PlatformApp,
    /// `META_GRAPH_VERSION` (default `v20.0`): the Graph API version in every Facebook and
    /// Instagram path, which Meta retires about two years after its release.
    pub meta_graph_version: String,
    /// `SHOPIFY_CLIENT_ID`, `SHOPIFY_CLIENT_SECRET` and the per-shop hosts (see
    /// [`ShopifyApp`]).
    pub shopify: ShopifyApp,
    /// `ETSY_CLIENT_ID` (the app's keystring), `ETSY_CLIENT_SECRET` (its shared secret, also
    /// sent on every API call), `ETSY_AUTH_URL` (default `https://www.etsy.com`, the app
    /// appends `/oauth/connect`), `ETSY_API_URL` (default `https://api.etsy.com`, the app
    /// appends `/v3/...`).
    pub etsy: PlatformApp,
    /// `SQUARESPACE_CLIENT_ID`, `SQUARESPACE_CLIENT_SECRET`, `SQUARESPACE_AUTH_URL` (default
    /// `https://login.squarespace.com`, the app appends `/api/1/login/oauth/provider/...`),
    /// `SQUARESPACE_API_URL` (default `https://api.squarespace.com`, the app appends
    /// `/1.0/...`).
    pub squarespace: PlatformApp,
    /// `STORE_SYNC_INTERVAL` (default `6h`; `30m`, `90s` and `1d` work too): how often every
    /// connected store's products are synced on their own.
    pub store_sync_interval: Duration,
    /// The AI Studio's caption writers (see [`WriterConfig`]).
    pub writers: WriterConfig,
    /// `RATE_LIMIT_<TIER>` (e.g. `RATE_LIMIT_AUTH=20/min`): requests per client and window.
    pub rate_limits: BTreeMap<Tier, Quota>,
    /// `SHUTDOWN_GRACE_SECS` (default 20): how long in-flight requests may finish on SIGTERM.
    pub shutdown_grace: Duration,
    /// `WORKER_CONCURRENCY` (default 4): publishing attempts in flight at once per process.
    pub worker_concurrency: usize,
    /// `PUBLISH_MAX_ATTEMPTS` (default 5): attempts before a retryable failure becomes final.
    pub publish_max_attempts: u32,
    /// `MEDIA_MAX_VIDEO_BYTES` (default 1 GiB): the largest upload; images stop at 15 MB.
    pub media_max_video_bytes: u64,
    /// `MEDIA_STORE` (default `local`): where uploaded files are kept (see [`MediaStoreConfig`]).
    pub media_store: MediaStoreConfig,
    /// `PLATFORM_TIMEOUT_SECS` (default 30): how long one call to a platform may take.
    pub platform_timeout: Duration,
    /// `PUBLISH_BACKOFF_BASE_MS` (default 10000): the longest wait before the first retry;
    /// each later retry may wait twice as long (up to 30 minutes).
    pub publish_backoff_base: Duration,
    /// `QUEUE_SWEEP_SECS` (default 60): how often due jobs missing from the queue are queued
    /// again from the database.
    pub queue_sweep_every: Duration,
    /// `POST_METRICS_SECS` (default 600): how often published posts' numbers are read from
    /// their platforms (each post itself at most hourly, less as it ages).
    pub post_metrics_every: Duration,
    /// `WORKER_LEASE_SECS` (default 60): how long a job stays with a worker that stopped
    /// answering (killed, cut off) before another worker may take it. Running attempts renew
    /// it every quarter of that.
    pub worker_lease: Duration,
    /// `WORKER_HEALTH_ADDR` (optional): where `picscripter worker` answers `/healthz`,
    /// `/readyz` and `/metrics`, for a supervisor or a scraper; no listener without it.
    pub worker_health_addr: Option<SocketAddr>,
    /// `METRICS_TOKEN` (optional): `/metrics` answers requests bearing it. Without it,
    /// `/metrics` answers only requests made on this machine straight to the app (not through
    /// a proxy).
    pub metrics_token: Option<SecretString>,
    /// Not a variable: `serve --no-workers` clears it, `worker` runs workers alone.
    pub run_workers: bool,
    /// Not a variable: `serve --sandbox` mounts the platform fakes and points the apps at them.
    pub sandbox: bool,
}

/// One platform's app registration and where its APIs are: `<PLATFORM>_CLIENT_ID`,
/// `<PLATFORM>_CLIENT_SECRET`, `<PLATFORM>_AUTH_URL` and `<PLATFORM>_API_URL`. The URLs default to
/// the platform's production hosts and are what tests and `--sandbox` point at the fakes.
#[derive(Debug, Clone)]
pub struct PlatformApp {
    /// Both the id and the secret, or neither: without them the platform is shown as "not
    /// configured by the operator".
    pub credentials: Option<ClientCredentials>,
    /// The host the user is sent to for consent (the platform's path is appended).
    pub auth_url: http::Uri,
    /// The API host (the platform's paths are appended).
    pub api_url: http::Uri,
}

/// How videos reach TikTok.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TikTokVideoSource {
    #[default]
    FileUpload,
    PullFromUrl,
}

/// How a PKCE challenge (the verifier's SHA-256) is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PkceChallenge {
    #[default]
    Base64Url,
    Hex,
}

/// The Shopify app. Every shop is its own host: URLs are built from templates in which
/// `{shop}` stands for the `*.myshopify.com` domain, so tests can map shops to 127.0.0.1.
#[derive(Debug, Clone)]
pub struct ShopifyApp {
    pub credentials: Option<ClientCredentials>,
    /// `SHOPIFY_AUTH_URL` (default: the shop URL template): where `/admin/oauth/...` lives.
    pub auth_url_template: String,
    /// `SHOPIFY_API_URL` (default: the shop URL template): where `/admin/api/...` lives.
    pub api_url_template: String,
    /// `SHOPIFY_API_VERSION` (default `2026-07`): the Admin API version, `YYYY-MM`.
    pub api_version: String,
    /// `SHOPIFY_EXPIRING_TOKENS` (`true`, the default, or `false`): ask for expiring offline
    /// tokens with a rotating refresh token, which public apps must use from 2027. A custom
    /// app may turn it off and keep a token that does not expire.
    pub expiring_tokens: bool,
}

impl ShopifyApp {
    /// `template` with `{shop}` filled in, without a trailing slash.
    pub fn shop_url(template: &str, shop: &str) -> String {
        template
            .replace("{shop}", shop)
            .trim_end_matches('/')
            .to_owned()
    }
}

/// The Google hosts YouTube uses beyond the consent screen's and the API's.
#[derive(Debug, Clone)]
pub struct YouTubeHosts {
    pub upload_url: http::Uri,
    pub token_url: http::Uri,
    pub web_url: http::Uri,
}

#[derive(Debug, Clone)]
pub struct ClientCredentials {
    pub client_id: String,
    pub client_secret: SecretString,
}

/// Where uploaded files are kept. With a bucket, browsers upload straight to it under URLs the
/// server signs, and platforms that download media are sent to it; the server still reads
/// every file it checks or streams from there.
#[derive(Debug, Clone)]
pub enum MediaStoreConfig {
    /// `local` or unset: files under `DATA_DIR/media`.
    LocalDisk,
    /// `s3://bucket[/prefix]`: Amazon S3 or a server that speaks its API (MinIO, R2, moto).
    S3(S3Bucket),
    /// `gs://bucket[/prefix]`: Google Cloud Storage.
    Gcs(GcsBucket),
}

/// An S3 bucket and how to reach it, from the `AWS_*` variables the AWS tools read too.
#[derive(Debug, Clone)]
pub struct S3Bucket {
    pub bucket: String,
    /// Where the app's objects start in the bucket: empty, or ending in `/`.
    pub prefix: String,
    /// `AWS_REGION` (or `AWS_DEFAULT_REGION`; default `us-east-1`).
    pub region: String,
    /// `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL` or `AWS_ENDPOINT`: an S3-compatible server
    /// instead of AWS; one on plain `http://` is allowed plain HTTP.
    pub endpoint: Option<http::Uri>,
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (with `AWS_SESSION_TOKEN` for
    /// temporary keys). Without them the credentials come from the other variables (web
    /// identity, a container's credentials) or the instance's metadata service.
    pub keys: Option<AwsKeys>,
    /// Every other `AWS_*` variable, its name lower-cased, for object_store to read as its
    /// own `from_env` does (those it does not know are ignored there).
    pub other: Vec<(String, SecretString)>,
}

#[derive(Debug, Clone)]
pub struct AwsKeys {
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    pub session_token: Option<SecretString>,
}

/// A Google Cloud Storage bucket and how to reach it, from the `GOOGLE_*` variables
/// object_store reads.
#[derive(Debug, Clone)]
pub struct GcsBucket {
    pub bucket: String,
    /// Where the app's objects start in the bucket: empty, or ending in `/`.
    pub prefix: String,
    pub credentials: GcsCredentials,
    /// `GOOGLE_BASE_URL` (default `https://storage.googleapis.com`): another server that speaks
    /// GCS's JSON and XML APIs (the tests' emulator).
    pub base_url: http::Uri,
}

/// Whose identity the app uses with GCS. Only a service account key signs URLs on this
/// machine; with the others, object_store asks Google's `signBlob` to sign each URL.
#[derive(Debug, Clone)]
pub enum GcsCredentials {
    /// `GOOGLE_SERVICE_ACCOUNT_KEY`: a service account key's JSON.
    KeyJson(SecretString),
    /// `GOOGLE_SERVICE_ACCOUNT` (or `GOOGLE_SERVICE_ACCOUNT_PATH`): a key file.
    KeyFile(PathBuf),
    /// `GOOGLE_APPLICATION_CREDENTIALS`: application default credentials.
    Application(PathBuf),
    /// None of them: the metadata server of the machine (Compute Engine, GKE, Cloud Run).
    Machine,
}

impl MediaStoreConfig {
    /// The origin browsers send direct uploads to, which pages must allow in `connect-src`;
    /// `None` for the local directory, whose uploads go to the app itself.
    pub fn upload_origin(&self) -> Option<String> {
        let origin = |uri: &http::Uri| {
            format!(
                "{}://{}",
                uri.scheme_str().unwrap_or("https"),
                uri.authority().map(|a| a.as_str()).unwrap_or_default()
            )
        };
        match self {
            Self::LocalDisk => None,
            Self::S3(s3) => Some(match &s3.endpoint {
                Some(endpoint) => origin(endpoint),
                None if s3.virtual_hosted() => {
                    format!("https://{}.s3.{}.amazonaws.com", s3.bucket, s3.region)
                }
                None => format!("https://s3.{}.amazonaws.com", s3.region),
            }),
            Self::Gcs(gcs) => Some(origin(&gcs.base_url)),
        }
    }
}

impl S3Bucket {
    /// Whether `AWS_VIRTUAL_HOSTED_STYLE_REQUEST` puts the bucket in the host name.
    pub fn virtual_hosted(&self) -> bool {
        self.other.iter().any(|(name, value)| {
            name == "aws_virtual_hosted_style_request"
                && secrecy::ExposeSecret::expose_secret(value).eq_ignore_ascii_case("true")
        })
    }
}

/// Every problem found in the environment, one per line.
#[derive(Debug, thiserror::Error)]
pub struct ConfigErrors(pub Vec<String>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the configuration has {} problem(s):", self.0.len())?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

/// Name prefixes of the variables picscripter reads, today or in the areas about to land
/// (platforms, stores, AI). A variable with one of them that no parser read is most likely a
/// typo (`X_CLIENT_SECRT`), and is warned about.
const WATCHED_PREFIXES: &[&str] = &[
    "PICSCRIPTER_",
    "DATA_",
    "DATABASE_",
    "REDIS_",
    "JWT_",
    "ENCRYPTION_",
    "PUBLIC_BASE_",
    "CORS_",
    "TRUSTED_",
    "RATE_LIMIT_",
    "SHUTDOWN_",
    "LOG_",
    "WORKER_",
    "PUBLISH_",
    "PLATFORM_",
    "MEDIA_",
    "QUEUE_",
    "X_",
    "INSTAGRAM_",
    "FACEBOOK_",
    "TIKTOK_",
    "LINKEDIN_",
    "PINTEREST_",
    "YOUTUBE_",
    "META_",
    "SHOPIFY_",
    "ETSY_",
    "SQUARESPACE_",
    "STORE_",
    "GEMINI_",
    "OPENAI_",
];
/// HS256 wants a key at least as long as its 256-bit output.
const MIN_JWT_SECRET_BYTES: usize = 32;
const DEFAULT_ADDR: ([u8; 4], u16) = ([127, 0, 0, 1], 3000);

/// The variables being parsed: remembers which names were read (to spot typos) and collects
/// the problems of every section.
struct Env<'a> {
    vars: &'a BTreeMap<String, String>,
    read: RefCell<BTreeSet<&'static str>>,
    problems: Vec<String>,
}

impl<'a> Env<'a> {
    fn new(vars: &'a BTreeMap<String, String>) -> Self {
        Self {
            vars,
            read: RefCell::default(),
            problems: Vec::new(),
        }
    }

    /// The trimmed, non-empty value of `name`.
    fn get(&self, name: &'static str) -> Option<&'a str> {
        self.read.borrow_mut().insert(name);
        self.vars
            .get(name)
            .map(|value| value.trim())
            .filter(|value| !value.is_empty())
    }

    fn problem(&mut self, problem: impl Into<String>) {
        self.problems.push(problem.into());
    }

    /// Warnings for watched-prefix variables that nothing read.
    fn unread_warnings(&self) -> Vec<String> {
        let read = self.read.borrow();
        self.vars
            .keys()
            .filter(|name| !read.contains(name.as_str()))
            .filter_map(|name| {
                let prefix = WATCHED_PREFIXES.iter().find(|p| name.starts_with(*p))?;
                let known: Vec<&str> = read
                    .iter()
                    .copied()
                    .filter(|known| known.starts_with(prefix))
                    .collect();
                Some(if known.is_empty() {
                    format!("{name} is set but picscripter does not read it (a typo?)")
                } else {
                    format!(
                        "{name} is set but picscripter does not read it (a typo? known: {})",
                        known.join(", ")
                    )
                })
            })
            .collect()
    }
}

struct ServerSection {
    addr: SocketAddr,
    data_dir: PathBuf,
    public_base_url: Option<http::Uri>,
    shutdown_grace: Duration,
}

fn server_section(env: &mut Env<'_>, warnings: &mut Vec<String>) -> ServerSection {
    let addr = match env.get("PICSCRIPTER_ADDR") {
        None => SocketAddr::from(DEFAULT_ADDR),
        Some(raw) => raw.parse().unwrap_or_else(|_| {
            env.problem(format!(
                "PICSCRIPTER_ADDR: `{raw}` is not an address like 127.0.0.1:3000"
            ));
            SocketAddr::from(DEFAULT_ADDR)
        }),
    };
    let data_dir = PathBuf::from(env.get("DATA_DIR").unwrap_or("./data"));

    let public_base_url = match env.get("PUBLIC_BASE_URL") {
        None => None,
        Some(raw) => match raw.parse::<http::Uri>() {
            Ok(uri)
                if matches!(uri.scheme_str(), Some("http" | "https"))
                    && uri.host().is_some()
                    && uri.path_and_query().is_none_or(|path| path.as_str() == "/") =>
            {
                Some(uri)
            }
            _ => {
                env.problem(format!(
                    "PUBLIC_BASE_URL: `{raw}` is not an absolute http:// or https:// URL without a path, like https://app.example.com"
                ));
                None
            }
        },
    };
    match &public_base_url {
        None if !addr.ip().is_loopback() => env.problem(format!(
            "PUBLIC_BASE_URL: must be set when listening on {addr} (not a loopback address): set it to the address people open in their browser, like https://app.example.com, so that cookies and sign-in links are right"
        )),
        Some(uri) if uri.scheme_str() == Some("http") && !is_loopback_host(uri) => {
            warnings.push(format!(
                "PUBLIC_BASE_URL is plain http on {}: browsers drop Secure cookies there, so sessions are sent without Secure and travel unencrypted; use https outside this machine",
                uri.host().unwrap_or_default()
            ));
        }
        _ => {}
    }

    let shutdown_grace = match env.get("SHUTDOWN_GRACE_SECS") {
        None => Duration::from_secs(20),
        Some(raw) => Duration::from_secs(raw.parse().unwrap_or_else(|_| {
            env.problem(format!(
                "SHUTDOWN_GRACE_SECS: `{raw}` is not a whole number of seconds"
            ));
            20
        })),
    };
    ServerSection {
        addr,
        data_dir,
        public_base_url,
        shutdown_grace,
    }
}

struct DatabaseSection {
    database: DatabaseTarget,
    max_connections: u32,
    redis_url: Option<SecretString>,
}

fn database_section(env: &mut Env<'_>, data_dir: &Path) -> DatabaseSection {
    let embedded = || DatabaseTarget::SqliteFile(data_dir.join("picscripter.db"));
    let database = match env.get("DATABASE_URL") {
        None => embedded(),
        Some(url)
            if ["postgres://", "postgresql://", "sqlite:"]
                .iter()
                .any(|s| url.starts_with(s)) =>
        {
            DatabaseTarget::Url(SecretString::from(url.to_owned()))
        }
        Some(_) => {
            env.problem("DATABASE_URL: must start with postgres://, postgresql:// or sqlite: (value not shown)");
            embedded()
        }
    };
    let default_max = match &database {
        DatabaseTarget::Url(url)
            if !secrecy::ExposeSecret::expose_secret(url).starts_with("sqlite:") =>
        {
            20
        }
        _ => 8,
    };
    let max_connections = u32::try_from(whole_number(
        env,
        "DATABASE_MAX_CONNECTIONS",
        default_max,
        1..=1000,
    ))
    .expect("at most 1000");
    let redis_url = match env.get("REDIS_URL") {
        None => None,
        Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
            Some(SecretString::from(url.to_owned()))
        }
        Some(_) => {
            env.problem("REDIS_URL: must start with redis:// or rediss:// (value not shown)");
            None
        }
    };
    DatabaseSection {
        database,
        max_connections,
        redis_url,
    }
}

struct SecuritySection {
    jwt_secret: Option<SecretString>,
    encryption_key: Option<SecretString>,
    encryption_keys_old: Vec<SecretString>,
    cors_origins: Vec<http::HeaderValue>,
    trusted_proxies: Vec<IpNet>,
}

fn security_section(env: &mut Env<'_>) -> SecuritySection {
    let jwt_secret = match env.get("JWT_SECRET") {
        None => None,
        Some(secret) if secret.len() >= MIN_JWT_SECRET_BYTES => {
            Some(SecretString::from(secret.to_owned()))
        }
        Some(_) => {
            env.problem(format!(
                "JWT_SECRET: must be at least {MIN_JWT_SECRET_BYTES} bytes; make one with `openssl rand -base64 48`, or unset it to use a generated one"
            ));
            None
        }
    };

    // Key values are never shown, only what is wrong with them.
    let current = env.get("ENCRYPTION_KEY").map(|raw| ("ENCRYPTION_KEY", raw));
    let old = list(env.get("ENCRYPTION_KEYS_OLD")).map(|raw| ("ENCRYPTION_KEYS_OLD", raw));
    let mut keys: Vec<(&str, SecretString)> = Vec::new();
    for (name, raw) in current.into_iter().chain(old) {
        let key = SecretString::from(raw.to_owned());
        match crate::crypto::check_key(name, &key) {
            Ok(()) => keys.push((name, key)),
            Err(error) => env.problem(error.to_string()),
        }
    }
    let encryption_key = keys
        .iter()
        .find(|(name, _)| *name == "ENCRYPTION_KEY")
        .map(|(_, key)| key.clone());
    let encryption_keys_old = keys
        .into_iter()
        .filter(|(name, _)| *name == "ENCRYPTION_KEYS_OLD")
        .map(|(_, key)| key)
        .collect();

    let mut cors_origins = Vec::new();
    for origin in list(env.get("CORS_ORIGINS")) {
        let valid = (origin.starts_with("http://") || origin.starts_with("https://"))
            && !origin.ends_with('/');
        match http::HeaderValue::from_str(origin) {
            Ok(value) if valid => cors_origins.push(value),
            _ => env.problem(format!(
                "CORS_ORIGINS: `{origin}` is not an origin like https://app.example.com (scheme and host, no path)"
            )),
        }
    }

    let mut trusted_proxies = Vec::new();
    for entry in list(env.get("TRUSTED_PROXIES")) {
        let parsed = entry
            .parse::<IpNet>()
            .or_else(|_| entry.parse::<std::net::IpAddr>().map(IpNet::from));
        match parsed {
            Ok(net) => trusted_proxies.push(net.trunc()),
            Err(_) => env.problem(format!(
                "TRUSTED_PROXIES: `{entry}` is not an address or CIDR range like 10.0.0.0/8 or 2001:db8::/32"
            )),
        }
    }
    SecuritySection {
        jwt_secret,
        encryption_key,
        encryption_keys_old,
        cors_origins,
        trusted_proxies,
    }
}

fn limits_section(env: &mut Env<'_>) -> BTreeMap<Tier, Quota> {
    let mut rate_limits = BTreeMap::new();
    for tier in Tier::ALL {
        let name = tier.env_var();
        let quota = match env.get(name) {
            None => tier.default_quota(),
            Some(raw) => raw.parse().unwrap_or_else(|error| {
                env.problem(format!("{name}: {error}"));
                tier.default_quota()
            }),
        };
        rate_limits.insert(tier, quota);
    }
    rate_limits
}

/// The model servers the AI Studio writes captions with. Without either, it writes with the
/// built-in basic writer, which needs no key and no network.
#[derive(Debug, Clone, Default)]
pub struct WriterConfig {
    /// `GEMINI_API_KEY` (optional): Google Gemini, the first choice when set. `GEMINI_MODEL`
    /// (default `gemini-2.5-flash`), `GEMINI_API_URL` (default
    /// `https://generativelanguage.googleapis.com`, the app appends `/v1beta/...`).
    pub gemini: Option<GeminiConfig>,
    /// `OPENAI_BASE_URL` (optional): an OpenAI-compatible server (Ollama
    /// `http://localhost:11434/v1`, llama.cpp, vLLM), the base ending in `/v1`. `OPENAI_MODEL`
    /// (required with it: a vision model, e.g. `llava`), `OPENAI_API_KEY` (optional; sent only
    /// when set).
    pub openai: Option<OpenAiConfig>,
}

#[derive(Debug, Clone)]
pub struct GeminiConfig {
    pub key: SecretString,
    pub model: String,
    pub url: http::Uri,
}

#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    pub url: http::Uri,
    pub model: String,
    pub key: Option<SecretString>,
}

/// The Gemini model and API address when `GEMINI_MODEL` and `GEMINI_API_URL` are not set, and
/// for a person's own Gemini key without a model or address of their own.
pub const DEFAULT_GEMINI_MODEL: &str = "gemini-2.5-flash";
pub const DEFAULT_GEMINI_URL: &str = "https://generativelanguage.googleapis.com";

fn writers_section(env: &mut Env<'_>) -> WriterConfig {
    let gemini_url = base_url(env, "GEMINI_API_URL", DEFAULT_GEMINI_URL);
    let gemini_model = env
        .get("GEMINI_MODEL")
        .unwrap_or(DEFAULT_GEMINI_MODEL)
        .to_owned();
    let gemini = env.get("GEMINI_API_KEY").map(|key| GeminiConfig {
        key: SecretString::from(key.to_owned()),
        model: gemini_model,
        url: gemini_url,
    });
    let openai_model = env.get("OPENAI_MODEL").map(str::to_owned);
    let openai_key = env
        .get("OPENAI_API_KEY")
        .map(|key| SecretString::from(key.to_owned()));
    let openai = match env.get("OPENAI_BASE_URL") {
        None => None,
        Some(_) => {
            let url = base_url(env, "OPENAI_BASE_URL", "http://localhost:11434/v1");
            match openai_model {
                Some(model) => Some(OpenAiConfig {
                    url,
                    model,
                    key: openai_key,
                }),
                None => {
                    env.problem(
                        "OPENAI_MODEL: must be set with OPENAI_BASE_URL (the server's vision model, e.g. llava)",
                    );
                    None
                }
            }
        }
    };
    WriterConfig { gemini, openai }
}

/// The variables of one platform's app. `names` are `[CLIENT_ID, CLIENT_SECRET, AUTH_URL,
/// API_URL]` with the platform's prefix, as constants so the typo check knows them.
fn platform_section(
    env: &mut Env<'_>,
    names: [&'static str; 4],
    default_auth: &str,
    default_api: &str,
) -> PlatformApp {
    let [id_name, secret_name, auth_name, api_name] = names;
    PlatformApp {
        credentials: client_credentials(env, id_name, secret_name),
        auth_url: base_url(env, auth_name, default_auth),
        api_url: base_url(env, api_name, default_api),
    }
}

/// An app's id and secret from `id_name` and `secret_name`: both, or neither.
fn client_credentials(
    env: &mut Env<'_>,
    id_name: &'static str,
    secret_name: &'static str,
) -> Option<ClientCredentials> {
    match (env.get(id_name), env.get(secret_name)) {
        (Some(client_id), Some(secret)) => Some(ClientCredentials {
            client_id: client_id.to_owned(),
            client_secret: SecretString::from(secret.to_owned()),
        }),
        (None, None) => None,
        (Some(_), None) => {
            env.problem(format!(
                "{secret_name}: must be set with {id_name} (both come from the platform's developer portal)"
            ));
            None
        }
        (None, Some(_)) => {
            env.problem(format!(
                "{id_name}: must be set with {secret_name} (both come from the platform's developer portal)"
            ));
            None
        }
    }
}

/// The Shopify app: credentials, per-shop URL templates, API version, token kind.
fn shopify_section(env: &mut Env<'_>) -> ShopifyApp {
    let credentials = client_credentials(env, "SHOPIFY_CLIENT_ID", "SHOPIFY_CLIENT_SECRET");
    let mut template = |name: &'static str, fallback: &str| -> String {
        let value = env.get(name).unwrap_or(fallback).to_owned();
        let filled = ShopifyApp::shop_url(&value, "test-shop.myshopify.com");
        let absolute = filled.parse::<http::Uri>().ok().is_some_and(|uri| {
            matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some()
        });
        if !value.contains("{shop}") || !absolute {
            env.problem(format!(
                "{name}: `{value}` must be an http(s) URL containing {{shop}}, like https://{{shop}}"
            ));
        }
        value
    };
    let shop_url = template("SHOPIFY_SHOP_URL_TEMPLATE", "https://{shop}");
    let auth_url_template = template("SHOPIFY_AUTH_URL", &shop_url);
    let api_url_template = template("SHOPIFY_API_URL", &shop_url);
    let api_version = match env.get("SHOPIFY_API_VERSION") {
        None => "2026-07".to_owned(),
        Some(raw)
            if raw.len() == 7
                && raw.as_bytes()[4] == b'-'
                && raw.chars().filter(char::is_ascii_digit).count() == 6 =>
        {
            raw.to_owned()
        }
        Some(raw) => {
            env.problem(format!(
                "SHOPIFY_API_VERSION: `{raw}` is not a version like 2026-07 (year and month)"
            ));
            "2026-07".to_owned()
        }
    };
    let expiring_tokens = match env.get("SHOPIFY_EXPIRING_TOKENS") {
        None | Some("true") => true,
        Some("false") => false,
        Some(other) => {
            env.problem(format!(
                "SHOPIFY_EXPIRING_TOKENS: `{other}` is neither true nor false"
            ));
            true
        }
    };
    ShopifyApp {
        credentials,
        auth_url_template,
        api_url_template,
        api_version,
        expiring_tokens,
    }
}

/// `6h`, `30m`, `90s`, `1d` or plain seconds, as a duration.
fn interval(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let (number, unit) = raw.split_at(raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len()));
    let number: u64 = number.parse().ok()?;
    let seconds = match unit {
        "" | "s" => number,
        "m" => number.checked_mul(60)?,
        "h" => number.checked_mul(3600)?,
        "d" => number.checked_mul(86_400)?,
        _ => return None,
    };
    Some(Duration::from_secs(seconds))
}

/// Instagram and Facebook, which may share one Meta app (`META_CLIENT_ID`,
/// `META_CLIENT_SECRET`): each platform's own credentials win, and either falls back to the
/// shared ones. Then the Graph API version both use.
fn meta_section(env: &mut Env<'_>) -> (PlatformApp, PlatformApp, String) {
    let shared = client_credentials(env, "META_CLIENT_ID", "META_CLIENT_SECRET");
    let mut instagram = platform_section(
        env,
        [
            "INSTAGRAM_CLIENT_ID",
            "INSTAGRAM_CLIENT_SECRET",
            "INSTAGRAM_AUTH_URL",
            "INSTAGRAM_API_URL",
        ],
        "https://www.facebook.com",
        "https://graph.facebook.com",
    );
    let mut facebook = platform_section(
        env,
        [
            "FACEBOOK_CLIENT_ID",
            "FACEBOOK_CLIENT_SECRET",
            "FACEBOOK_AUTH_URL",
            "FACEBOOK_API_URL",
        ],
        "https://www.facebook.com",
        "https://graph.facebook.com",
    );
    for app in [&mut instagram, &mut facebook] {
        if app.credentials.is_none() {
            app.credentials = shared.clone();
        }
    }
    let version = match env.get("META_GRAPH_VERSION") {
        None => "v20.0".to_owned(),
        Some(raw) if is_graph_version(raw) => raw.to_owned(),
        Some(raw) => {
            env.problem(format!(
                "META_GRAPH_VERSION: `{raw}` is not a Graph API version like v20.0"
            ));
            "v20.0".to_owned()
        }
    };
    (instagram, facebook, version)
}

/// `v20.0`: a `v`, digits, a dot, digits.
fn is_graph_version(raw: &str) -> bool {
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
    raw.strip_prefix('v')
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(major, minor)| digits(major) && digits(minor))
}

/// A platform host from `name`, or `default`: an absolute http(s) URL without a trailing slash.
fn base_url(env: &mut Env<'_>, name: &'static str, default: &str) -> http::Uri {
    let raw = env.get(name).unwrap_or(default);
    match raw.trim_end_matches('/').parse::<http::Uri>() {
        Ok(uri) if matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some() => {
            uri
        }
        _ => {
            env.problem(format!(
                "{name}: `{raw}` is not an absolute http:// or https:// URL"
            ));
            default.parse().expect("the default URLs parse")
        }
    }
}

/// `MEDIA_STORE` and, for a bucket, the variables of its provider.
fn media_store_section(env: &mut Env<'_>) -> MediaStoreConfig {
    let Some(raw) = env.get("MEDIA_STORE") else {
        return MediaStoreConfig::LocalDisk;
    };
    if raw == "local" {
        return MediaStoreConfig::LocalDisk;
    }
    let shape = "is not `local`, s3://bucket[/prefix] or gs://bucket[/prefix]";
    let (scheme, rest) = match raw.split_once("://") {
        Some((scheme @ ("s3" | "gs"), rest)) => (scheme, rest),
        _ => {
            env.problem(format!("MEDIA_STORE: `{raw}` {shape}"));
            return MediaStoreConfig::LocalDisk;
        }
    };
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let prefix = prefix.trim_matches('/');
    let longest = if scheme == "s3" { 63 } else { 222 };
    let bucket_ok = (3..=longest).contains(&bucket.len())
        && bucket.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'_'
        })
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    let prefix_ok = prefix.is_empty()
        || prefix.split('/').all(|part| {
            !part.is_empty() && part != "." && part != ".." && !part.contains(['\\', '?', '#'])
        });
    if !bucket_ok {
        env.problem(format!(
            "MEDIA_STORE: `{bucket}` is not a bucket name (3 to {longest} lower-case letters, digits, dots, hyphens and underscores)"
        ));
    }
    if !prefix_ok {
        env.problem(format!(
            "MEDIA_STORE: `{prefix}` is not a prefix (path segments without `.`, `..`, `?` or `#`)"
        ));
    }
    let prefix = if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}/")
    };
    let bucket = bucket.to_owned();
    match scheme {
        "s3" => MediaStoreConfig::S3(s3_section(env, bucket, prefix)),
        _ => MediaStoreConfig::Gcs(gcs_section(env, bucket, prefix)),
    }
}

/// The `AWS_*` variables that the app reads itself; the rest pass through to object_store.
const AWS_READ_HERE: &[&str] = &[
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

fn s3_section(env: &mut Env<'_>, bucket: String, prefix: String) -> S3Bucket {
    let region = env
        .get("AWS_REGION")
        .or_else(|| env.get("AWS_DEFAULT_REGION"))
        .unwrap_or("us-east-1")
        .to_owned();
    let endpoint_name = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT"]
        .into_iter()
        .find(|name| env.get(name).is_some());
    let endpoint = endpoint_name.and_then(|name| {
        let raw = env.get(name).unwrap_or_default();
        match raw.trim_end_matches('/').parse::<http::Uri>() {
            Ok(uri)
                if matches!(uri.scheme_str(), Some("http" | "https"))
                    && uri.host().is_some()
                    && uri.path_and_query().is_none_or(|path| path.as_str() == "/") =>
            {
                Some(uri)
            }
            _ => {
                env.problem(format!(
                    "{name}: `{raw}` is not an http:// or https:// URL without a path, like https://minio.example.com:9000"
                ));
                None
            }
        }
    });
    let keys = match (
        env.get("AWS_ACCESS_KEY_ID"),
        env.get("AWS_SECRET_ACCESS_KEY"),
    ) {
        (Some(id), Some(secret)) => Some(AwsKeys {
            access_key_id: id.to_owned(),
            secret_access_key: SecretString::from(secret.to_owned()),
            session_token: env
                .get("AWS_SESSION_TOKEN")
                .map(|token| SecretString::from(token.to_owned())),
        }),
        (None, None) => None,
        (Some(_), None) => {
            env.problem("AWS_SECRET_ACCESS_KEY: must be set with AWS_ACCESS_KEY_ID");
            None
        }
        (None, Some(_)) => {
            env.problem("AWS_ACCESS_KEY_ID: must be set with AWS_SECRET_ACCESS_KEY");
            None
        }
    };
    let other = env
        .vars
        .iter()
        .filter(|(name, value)| {
            name.starts_with("AWS_")
                && !AWS_READ_HERE.contains(&name.as_str())
                && !value.trim().is_empty()
        })
        .map(|(name, value)| {
            (
                name.to_ascii_lowercase(),
                SecretString::from(value.trim().to_owned()),
            )
        })
        .collect();
    S3Bucket {
        bucket,
        prefix,
        region,
        endpoint,
        keys,
        other,
    }
}

fn gcs_section(env: &mut Env<'_>, bucket: String, prefix: String) -> GcsBucket {
    let key_json = env.get("GOOGLE_SERVICE_ACCOUNT_KEY");
    let key_file = env
        .get("GOOGLE_SERVICE_ACCOUNT")
        .map(|path| ("GOOGLE_SERVICE_ACCOUNT", path))
        .or_else(|| {
            env.get("GOOGLE_SERVICE_ACCOUNT_PATH")
                .map(|path| ("GOOGLE_SERVICE_ACCOUNT_PATH", path))
        });
    let application = env.get("GOOGLE_APPLICATION_CREDENTIALS");
    let credentials = match (key_json, key_file) {
        (Some(_), Some((name, _))) => {
            env.problem(format!(
                "GOOGLE_SERVICE_ACCOUNT_KEY: set it or {name}, not both"
            ));
            GcsCredentials::Machine
        }
        (Some(json), None) => {
            let usable = serde_json::from_str::<serde_json::Value>(json).is_ok_and(|key| {
                ["client_email", "private_key_id", "private_key"]
                    .iter()
                    .all(|field| key[*field].is_string())
            });
            if !usable {
                // Never the value: it holds a private key.
                env.problem(
                    "GOOGLE_SERVICE_ACCOUNT_KEY: is not a service account key's JSON (with client_email, private_key_id and private_key)",
                );
            }
            GcsCredentials::KeyJson(SecretString::from(json.to_owned()))
        }
        (None, Some((name, path))) => GcsCredentials::KeyFile(existing_file(env, name, path)),
        (None, None) => match application {
            Some(path) => GcsCredentials::Application(existing_file(
                env,
                "GOOGLE_APPLICATION_CREDENTIALS",
                path,
            )),
            None => GcsCredentials::Machine,
        },
    };
    GcsBucket {
        bucket,
        prefix,
        credentials,
        base_url: base_url(env, "GOOGLE_BASE_URL", "https://storage.googleapis.com"),
    }
}

/// `raw` as a path, with a problem when no file is there.
fn existing_file(env: &mut Env<'_>, name: &str, raw: &str) -> PathBuf {
    let path = PathBuf::from(raw);
    if !path.is_file() {
        env.problem(format!("{name}: `{raw}` is not a file"));
    }
    path
}

fn logging_section(env: &mut Env<'_>) -> (LogFormat, Option<String>) {
    let format = match env.get("LOG_FORMAT") {
        None | Some("pretty") => LogFormat::Pretty,
        Some("json") => LogFormat::Json,
        Some(other) => {
            env.problem(format!(
                "LOG_FORMAT: `{other}` is neither `pretty` nor `json`"
            ));
            LogFormat::Pretty
        }
    };
    (format, env.get("RUST_LOG").map(str::to_owned))
}

/// A whole number in `range`, or `default` when unset.
fn whole_number(
    env: &mut Env<'_>,
    name: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> u64 {
    match env.get(name) {
        None => default,
        Some(raw) => match raw.parse::<u64>() {
            Ok(value) if range.contains(&value) => value,
            _ => {
                env.problem(format!(
                    "{name}: `{raw}` is not a whole number from {} to {}",
                    range.start(),
                    range.end()
                ));
                default
            }
        },
    }
}

/// The entries of a comma-separated list, trimmed, blanks skipped.
fn list(raw: Option<&str>) -> impl Iterator<Item = &str> {
    raw.unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
}

fn is_loopback_host(uri: &http::Uri) -> bool {
    match uri.host() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// Reads `.env` into name/value pairs without touching the process environment. A file that
/// does not parse stops the start: silently skipping a broken line once dropped `JWT_SECRET`
/// and left a generated one in use. The message names the line, never its content (it may be
/// a secret).
fn read_dotenv(path: &Path) -> Result<Vec<(String, String)>, String> {
    let content = match std::fs::read_to_string(path) {
        Ok(content) => content,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(format!("{}: cannot be read: {error}", path.display())),
    };
    let mut pairs = Vec::new();
    for item in dotenvy::from_read_iter(content.as_bytes()) {
        match item {
            Ok(pair) => pairs.push(pair),
            Err(dotenvy::Error::LineParse(line, _)) => {
                let first = line.lines().next().unwrap_or_default().trim();
                let number = content
                    .lines()
                    .position(|candidate| candidate.trim() == first)
                    .map_or_else(|| "?".to_owned(), |index| (index + 1).to_string());
                return Err(format!(
                    "{} line {number}: is not NAME=value (quote values with spaces or #); nothing from this file was used",
                    path.display()
                ));
            }
            Err(error) => return Err(format!("{}: {error}", path.display())),
        }
    }
    Ok(pairs)
}

impl Config {
    /// Reads the process environment and `.env` (process variables win), with `overrides`
    /// (command-line flags) winning over both. Overrides are applied before anything is
    /// derived, so `serve --addr` also moves the default `PUBLIC_BASE_URL`.
    pub fn from_env(overrides: &[(&str, String)]) -> Result<(Self, Vec<String>), ConfigErrors> {
        let mut vars: BTreeMap<String, String> = std::env::vars_os()
            .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
            .collect();
        let dotenv = read_dotenv(Path::new(".env"));
        if let Ok(pairs) = &dotenv {
            for (name, value) in pairs {
                vars.entry(name.clone()).or_insert_with(|| value.clone());
            }
        }
        for (name, value) in overrides {
            vars.insert((*name).to_owned(), value.clone());
        }
        match (Self::from_vars(&vars), dotenv) {
            (result, Ok(_)) => result,
            (Ok(_), Err(problem)) => Err(ConfigErrors(vec![problem])),
            (Err(ConfigErrors(mut problems)), Err(problem)) => {
                problems.insert(0, problem);
                Err(ConfigErrors(problems))
            }
        }
    }

    /// Parses configuration from a set of variables. Returns the config and warnings (unread
    /// variables with a watched prefix, risky settings), or every problem found.
    pub fn from_vars(vars: &BTreeMap<String, String>) -> Result<(Self, Vec<String>), ConfigErrors> {
        let mut env = Env::new(vars);
        let mut warnings = Vec::new();
        let server = server_section(&mut env, &mut warnings);
        let database = database_section(&mut env, &server.data_dir);
        let security = security_section(&mut env);
        let rate_limits = limits_section(&mut env);
        let writers = writers_section(&mut env);
        let (log_format, log_filter) = logging_section(&mut env);
        let worker_concurrency = whole_number(&mut env, "WORKER_CONCURRENCY", 4, 1..=512);
        let publish_max_attempts = whole_number(&mut env, "PUBLISH_MAX_ATTEMPTS", 5, 1..=50);
        let publish_backoff_base = Duration::from_millis(whole_number(
            &mut env,
            "PUBLISH_BACKOFF_BASE_MS",
            10_000,
            1..=3_600_000,
        ));
        let queue_sweep_every =
            Duration::from_secs(whole_number(&mut env, "QUEUE_SWEEP_SECS", 60, 1..=3600));
        let post_metrics_every =
            Duration::from_secs(whole_number(&mut env, "POST_METRICS_SECS", 600, 1..=86_400));
        let worker_lease =
            Duration::from_secs(whole_number(&mut env, "WORKER_LEASE_SECS", 60, 4..=3600));
        let platform_timeout =
            Duration::from_secs(whole_number(&mut env, "PLATFORM_TIMEOUT_SECS", 30, 1..=600));
        let media_max_video_bytes = whole_number(
            &mut env,
            "MEDIA_MAX_VIDEO_BYTES",
            1024 * 1024 * 1024,
            1024 * 1024..=64 * 1024 * 1024 * 1024,
        );
        let media_store = media_store_section(&mut env);
        let x = platform_section(
            &mut env,
            ["X_CLIENT_ID", "X_CLIENT_SECRET", "X_AUTH_URL", "X_API_URL"],
            "https://x.com",
            "https://api.x.com",
        );
        let pinterest = platform_section(
            &mut env,
            [
                "PINTEREST_CLIENT_ID",
                "PINTEREST_CLIENT_SECRET",
                "PINTEREST_AUTH_URL",
                "PINTEREST_API_URL",
            ],
            "https://www.pinterest.com",
            "https://api.pinterest.com",
        );
        let linkedin = platform_section(
            &mut env,
            [
                "LINKEDIN_CLIENT_ID",
                "LINKEDIN_CLIENT_SECRET",
                "LINKEDIN_AUTH_URL",
                "LINKEDIN_API_URL",
            ],
            "https://www.linkedin.com",
            "https://api.linkedin.com",
        );
        let linkedin_version = match env.get("LINKEDIN_VERSION") {
            None => "202601".to_owned(),
            Some(raw) if raw.len() == 6 && raw.chars().all(|c| c.is_ascii_digit()) => {
                raw.to_owned()
            }
            Some(raw) => {
                env.problem(format!(
                    "LINKEDIN_VERSION: `{raw}` is not a version like 202601 (year and month)"
                ));
                "202601".to_owned()
            }
        };
        let tiktok = platform_section(
            &mut env,
            [
                "TIKTOK_CLIENT_ID",
                "TIKTOK_CLIENT_SECRET",
                "TIKTOK_AUTH_URL",
                "TIKTOK_API_URL",
            ],
            "https://www.tiktok.com",
            "https://open.tiktokapis.com",
        );
        let tiktok_video_source = match env.get("TIKTOK_VIDEO_SOURCE") {
            None | Some("file_upload") => TikTokVideoSource::FileUpload,
            Some("pull_from_url") => TikTokVideoSource::PullFromUrl,
            Some(other) => {
                env.problem(format!(
                    "TIKTOK_VIDEO_SOURCE: `{other}` is neither file_upload nor pull_from_url"
                ));
                TikTokVideoSource::FileUpload
            }
        };
        let tiktok_pkce_challenge = match env.get("TIKTOK_PKCE_CHALLENGE") {
            None | Some("base64url") => PkceChallenge::Base64Url,
            Some("hex") => PkceChallenge::Hex,
            Some(other) => {
                env.problem(format!(
                    "TIKTOK_PKCE_CHALLENGE: `{other}` is neither base64url nor hex"
                ));
                PkceChallenge::Base64Url
            }
        };
        let youtube = platform_section(
            &mut env,
            [
                "YOUTUBE_CLIENT_ID",
                "YOUTUBE_CLIENT_SECRET",
                "YOUTUBE_AUTH_URL",
                "YOUTUBE_API_URL",
            ],
            "https://accounts.google.com",
            "https://www.googleapis.com",
        );
        let youtube_hosts = YouTubeHosts {
            upload_url: base_url(&mut env, "YOUTUBE_UPLOAD_URL", "https://www.googleapis.com"),
            token_url: base_url(
                &mut env,
                "YOUTUBE_TOKEN_URL",
                "https://oauth2.googleapis.com",
            ),
            web_url: base_url(&mut env, "YOUTUBE_WEB_URL", "https://www.youtube.com"),
        };
        let linkedin_organizations = match env.get("LINKEDIN_ORGANIZATIONS") {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                env.problem(format!(
                    "LINKEDIN_ORGANIZATIONS: `{other}` is neither true nor false"
                ));
                false
            }
        };
        let (instagram, facebook, meta_graph_version) = meta_section(&mut env);
        let shopify = shopify_section(&mut env);
        let etsy = platform_section(
            &mut env,
            [
                "ETSY_CLIENT_ID",
                "ETSY_CLIENT_SECRET",
                "ETSY_AUTH_URL",
                "ETSY_API_URL",
            ],
            "https://www.etsy.com",
            "https://api.etsy.com",
        );
        let squarespace = platform_section(
            &mut env,
            [
                "SQUARESPACE_CLIENT_ID",
                "SQUARESPACE_CLIENT_SECRET",
                "SQUARESPACE_AUTH_URL",
                "SQUARESPACE_API_URL",
            ],
            "https://login.squarespace.com",
            "https://api.squarespace.com",
        );
        let store_sync_interval = match env.get("STORE_SYNC_INTERVAL") {
            None => Duration::from_secs(6 * 3600),
            Some(raw) => match interval(raw) {
                Some(every) if every >= Duration::from_secs(60) => every,
                _ => {
                    env.problem(format!(
                        "STORE_SYNC_INTERVAL: `{raw}` is not a time of at least a minute, like 6h, 30m or 1d"
                    ));
                    Duration::from_secs(6 * 3600)
                }
            },
        };
        let redis_prefix = env.get("REDIS_PREFIX").unwrap_or("picscripter").to_owned();
        let worker_health_addr = env.get("WORKER_HEALTH_ADDR").and_then(|raw| {
            raw.parse::<SocketAddr>()
                .map_err(|_| {
                    env.problem(format!(
                        "WORKER_HEALTH_ADDR: `{raw}` is not an address like 127.0.0.1:3001"
                    ))
                })
                .ok()
        });
        let metrics_token = env
            .get("METRICS_TOKEN")
            .filter(|token| !token.is_empty())
            .map(|token| SecretString::from(token.to_owned()));
        warnings.extend(env.unread_warnings());

        if !env.problems.is_empty() {
            return Err(ConfigErrors(env.problems));
        }
        Ok((
            Self {
                addr: server.addr,
                data_dir: server.data_dir,
                database: database.database,
                database_max_connections: database.max_connections,
                redis_url: database.redis_url,
                redis_prefix,
                jwt_secret: security.jwt_secret,
                encryption_key: security.encryption_key,
                encryption_keys_old: security.encryption_keys_old,
                public_base_url: server.public_base_url,
                cors_origins: security.cors_origins,
                trusted_proxies: security.trusted_proxies,
                log_format,
                log_filter,
                x,
                pinterest,
                linkedin,
                linkedin_version,
                linkedin_organizations,
                tiktok,
                tiktok_video_source,
                tiktok_pkce_challenge,
                youtube,
                youtube_hosts,
                instagram,
                facebook,
                meta_graph_version,
                shopify,
                etsy,
                squarespace,
                store_sync_interval,
                writers,
                rate_limits,
                shutdown_grace: server.shutdown_grace,
                worker_concurrency: usize::try_from(worker_concurrency).unwrap_or(4),
                publish_max_attempts: u32::try_from(publish_max_attempts).unwrap_or(5),
                platform_timeout,
                media_max_video_bytes,
                media_store,
                publish_backoff_base,
                queue_sweep_every,
                post_metrics_every,
                worker_lease,
                worker_health_addr,
                metrics_token,
                run_workers: true,
                sandbox: false,
            },
            warnings,
        ))
    }

    /// The address users reach the app at: `PUBLIC_BASE_URL`, or else the address the server
    /// really listens on (so `--addr` and port 0 are followed).
    pub fn public_base_url_for(&self, listening: SocketAddr) -> http::Uri {
        self.public_base_url.clone().unwrap_or_else(|| {
            format!("http://{listening}")
                .parse()
                .expect("an http URL made from a socket address parses")
        })
    }

    /// The SQLite or PostgreSQL connection URL.
    pub fn database_url(&self) -> SecretString {
        match &self.database {
            DatabaseTarget::SqliteFile(path) => {
                SecretString::from(format!("sqlite://{}?mode=rwc", path.display()))
            }
            DatabaseTarget::Url(url) => url.clone(),
        }
    }
}

/// Whether users reach the app over https: then cookies are `Secure` and HSTS is sent. Plain
/// http, on this machine or on a LAN, gets neither (browsers would drop a Secure cookie).
pub fn uses_https(base_url: &http::Uri) -> bool {
    base_url.scheme_str() == Some("https")
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn stores_read_their_apps_the_shop_template_and_the_sync_interval() {
        let (config, _) = Config::from_vars(&vars(&[])).unwrap();
        assert!(config.shopify.credentials.is_none());
        assert_eq!(config.shopify.api_url_template, "https://{shop}");
        assert!(config.shopify.expiring_tokens);
        assert_eq!(config.etsy.api_url.to_string(), "https://api.etsy.com/");
        assert_eq!(config.store_sync_interval, Duration::from_secs(6 * 3600));

        let (config, warnings) = Config::from_vars(&vars(&[
            ("SHOPIFY_CLIENT_ID", "id"),
            ("SHOPIFY_CLIENT_SECRET", "secret"),
            ("SHOPIFY_SHOP_URL_TEMPLATE", "http://127.0.0.1:9000/{shop}"),
            ("ETSY_CLIENT_ID", "keystring"),
            ("ETSY_CLIENT_SECRET", "shared"),
            ("STORE_SYNC_INTERVAL", "30m"),
        ]))
        .unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            ShopifyApp::shop_url(&config.shopify.auth_url_template, "a.myshopify.com"),
            "http://127.0.0.1:9000/a.myshopify.com"
        );
        assert!(config.etsy.credentials.is_some());
        assert_eq!(config.store_sync_interval, Duration::from_secs(1800));

        let errors = Config::from_vars(&vars(&[
            ("SHOPIFY_SHOP_URL_TEMPLATE", "https://example.com"),
            ("SHOPIFY_API_VERSION", "2026"),
            ("STORE_SYNC_INTERVAL", "10s"),
            ("SQUARESPACE_CLIENT_ID", "only-the-id"),
        ]))
        .unwrap_err();
        for name in [
            "SHOPIFY_SHOP_URL_TEMPLATE:",
            "SHOPIFY_API_VERSION:",
            "STORE_SYNC_INTERVAL:",
            "SQUARESPACE_CLIENT_SECRET:",
        ] {
            assert!(
                errors.0.iter().any(|error| error.starts_with(name)),
                "{name}: {errors}"
            );
        }
        assert_eq!(interval("6h"), Some(Duration::from_secs(21_600)));
        assert_eq!(interval("1d"), Some(Duration::from_secs(86_400)));
        assert_eq!(interval("90"), Some(Duration::from_secs(90)));
        assert_eq!(interval("h"), None);
        assert_eq!(interval("5w"), None);
    }

    #[test]
    fn caption_writers_come_from_gemini_and_openai_variables() {
        let (config, _) = Config::from_vars(&vars(&[])).unwrap();
        assert!(config.writers.gemini.is_none() && config.writers.openai.is_none());

        let (config, _) = Config::from_vars(&vars(&[
            ("GEMINI_API_KEY", "AIza-test"),
            ("OPENAI_BASE_URL", "http://localhost:11434/v1/"),
            ("OPENAI_MODEL", "llava"),
        ]))
        .unwrap();
        let gemini = config.writers.gemini.unwrap();
        assert_eq!(gemini.model, "gemini-2.5-flash");
        assert_eq!(
            gemini.url.to_string(),
            "https://generativelanguage.googleapis.com/"
        );
        let openai = config.writers.openai.unwrap();
        assert_eq!(openai.url.to_string(), "http://localhost:11434/v1");
        assert!(openai.key.is_none());

        let errors = Config::from_vars(&vars(&[("OPENAI_BASE_URL", "http://localhost:8080/v1")]))
            .unwrap_err();
        assert!(
            errors
                .0
                .iter()
                .any(|error| error.starts_with("OPENAI_MODEL: must be set"))
        );
    }

    #[test]
    fn an_empty_environment_gives_the_embedded_default() {
        let (config, warnings) = Config::from_vars(&vars(&[])).unwrap();
        assert_eq!(config.addr.to_string(), "127.0.0.1:3000");
        assert!(
            matches!(config.database, DatabaseTarget::SqliteFile(ref p) if p.ends_with("picscripter.db"))
        );
        assert!(config.redis_url.is_none() && config.jwt_secret.is_none());
        assert_eq!(config.database_max_connections, 8);
        assert!(config.trusted_proxies.is_empty());
        assert_eq!(config.log_format, LogFormat::Pretty);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            config.database_url().expose_secret(),
            "sqlite://./data/picscripter.db?mode=rwc"
        );
        let base = config.public_base_url_for("127.0.0.1:4321".parse().unwrap());
        assert_eq!(base.to_string(), "http://127.0.0.1:4321/");
        assert!(!uses_https(&base));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let errors = Config::from_vars(&vars(&[
            ("PICSCRIPTER_ADDR", "nope"),
            ("DATABASE_URL", "mysql://root:hunter2@db/x"),
            ("DATABASE_MAX_CONNECTIONS", "0"),
            ("REDIS_URL", "localhost:6379"),
            ("JWT_SECRET", "short"),
            ("LOG_FORMAT", "xml"),
            ("CORS_ORIGINS", "https://ok.example.com, not an origin"),
            ("TRUSTED_PROXIES", "10.0.0.0/8, proxy.example.com"),
            ("RATE_LIMIT_AUTH", "lots"),
            ("PUBLIC_BASE_URL", "ftp://x"),
        ]))
        .unwrap_err();
        let text = errors.to_string();
        for name in [
            "PICSCRIPTER_ADDR",
            "DATABASE_URL",
            "DATABASE_MAX_CONNECTIONS",
            "REDIS_URL",
            "JWT_SECRET",
            "LOG_FORMAT",
            "CORS_ORIGINS",
            "TRUSTED_PROXIES",
            "RATE_LIMIT_AUTH",
            "PUBLIC_BASE_URL",
        ] {
            assert!(text.contains(name), "{name} missing from:\n{text}");
        }
        assert_eq!(errors.0.len(), 10, "{errors}");
    }

    #[test]
    fn secrets_never_appear_in_messages_or_debug_output() {
        let errors =
            Config::from_vars(&vars(&[("DATABASE_URL", "mysql://root:hunter2@db/x")])).unwrap_err();
        assert!(!errors.to_string().contains("hunter2"));
        let secret = "s".repeat(40);
        let (config, _) = Config::from_vars(&vars(&[
            ("JWT_SECRET", &secret),
            ("DATABASE_URL", "postgres://app:hunter2@db/app"),
        ]))
        .unwrap();
        assert_eq!(config.database_max_connections, 20);
        let debug = format!("{config:?}");
        assert!(
            !debug.contains(&secret) && !debug.contains("hunter2"),
            "{debug}"
        );
    }

    #[test]
    fn only_https_turns_on_secure_cookies_and_lan_http_warns() {
        let (config, warnings) =
            Config::from_vars(&vars(&[("PUBLIC_BASE_URL", "https://app.example.com")])).unwrap();
        assert!(uses_https(&config.public_base_url_for(config.addr)));
        assert!(warnings.is_empty());

        let (config, warnings) = Config::from_vars(&vars(&[
            ("PICSCRIPTER_ADDR", "0.0.0.0:3000"),
            ("PUBLIC_BASE_URL", "http://192.168.1.5:3000"),
        ]))
        .unwrap();
        assert!(
            !uses_https(&config.public_base_url_for(config.addr)),
            "a LAN http address cannot keep Secure cookies"
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("Secure cookies"), "{warnings:?}");
    }

    #[test]
    fn listening_beyond_loopback_needs_a_public_base_url() {
        for addr in ["0.0.0.0:3000", "192.168.1.5:3000", "[::]:3000"] {
            let errors = Config::from_vars(&vars(&[("PICSCRIPTER_ADDR", addr)])).unwrap_err();
            assert!(
                errors.to_string().contains("PUBLIC_BASE_URL"),
                "{addr}: {errors}"
            );
        }
        assert!(Config::from_vars(&vars(&[("PICSCRIPTER_ADDR", "[::1]:3000")])).is_ok());
    }

    #[test]
    fn unread_variables_with_a_watched_prefix_warn_without_failing() {
        let (_, warnings) = Config::from_vars(&vars(&[
            ("PICSCRIPTER_ADR", "x"),
            ("X_CLIENT_SECRT", "x"),
            ("RATE_LIMIT_AUHT", "3/min"),
            ("HOME", "/root"),
        ]))
        .unwrap();
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        for name in ["PICSCRIPTER_ADR", "X_CLIENT_SECRT", "RATE_LIMIT_AUHT"] {
            assert!(
                warnings.iter().any(|w| w.contains(name)),
                "{name}: {warnings:?}"
            );
        }
        assert!(
            warnings.iter().any(|w| w.contains(
                "known: RATE_LIMIT_AI, RATE_LIMIT_ANALYTICS, RATE_LIMIT_API, RATE_LIMIT_AUTH"
            )),
            "{warnings:?}"
        );
    }

    #[test]
    fn rate_limits_are_read_per_tier() {
        let (config, _) = Config::from_vars(&vars(&[("RATE_LIMIT_AUTH", "3/min")])).unwrap();
        assert_eq!(
            config.rate_limits[&Tier::Auth],
            Quota {
                requests: 3,
                per: Duration::from_secs(60)
            }
        );
        assert_eq!(config.rate_limits[&Tier::Api], Tier::Api.default_quota());
    }

    #[test]
    fn encryption_keys_must_be_32_bytes_and_are_never_shown() {
        let good = crate::crypto::generate_key();
        let (config, _) = Config::from_vars(&vars(&[
            ("ENCRYPTION_KEY", &good),
            ("ENCRYPTION_KEYS_OLD", &format!("{good}, {good}")),
        ]))
        .unwrap();
        assert!(config.encryption_key.is_some());
        assert_eq!(config.encryption_keys_old.len(), 2);
        let errors = Config::from_vars(&vars(&[
            ("ENCRYPTION_KEY", "c2hvcnQtYnV0LXNlY3JldA=="),
            ("ENCRYPTION_KEYS_OLD", "not base64 at all!"),
        ]))
        .unwrap_err();
        let text = errors.to_string();
        assert!(
            text.contains("ENCRYPTION_KEY:") && text.contains("ENCRYPTION_KEYS_OLD:"),
            "{text}"
        );
        assert!(
            !text.contains("c2hvcnQ") && !text.contains("not base64 at all"),
            "{text}"
        );
    }

    #[test]
    fn a_platform_app_needs_both_credentials_and_its_urls_can_move() {
        let (config, _) = Config::from_vars(&vars(&[])).unwrap();
        assert!(config.x.credentials.is_none());
        assert_eq!(config.x.auth_url.to_string(), "https://x.com/");
        assert_eq!(config.x.api_url.to_string(), "https://api.x.com/");

        let (config, _) = Config::from_vars(&vars(&[
            ("X_CLIENT_ID", "abc"),
            ("X_CLIENT_SECRET", "s3cr3t-value"),
            ("X_API_URL", "http://127.0.0.1:4010/"),
        ]))
        .unwrap();
        assert_eq!(config.x.credentials.as_ref().unwrap().client_id, "abc");
        assert_eq!(config.x.api_url.to_string(), "http://127.0.0.1:4010/");
        assert!(!format!("{config:?}").contains("s3cr3t-value"));

        let errors = Config::from_vars(&vars(&[("X_CLIENT_ID", "abc"), ("X_AUTH_URL", "x.com")]))
            .unwrap_err();
        let text = errors.to_string();
        assert!(
            text.contains("X_CLIENT_SECRET") && text.contains("X_AUTH_URL"),
            "{text}"
        );
        let (_, warnings) = Config::from_vars(&vars(&[("X_CLIENT_SECRT", "x")])).unwrap();
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("X_CLIENT_SECRT") && w.contains("X_CLIENT_SECRET")),
            "{warnings:?}"
        );
    }

    #[test]
    fn instagram_and_facebook_fall_back_to_the_shared_meta_app() {
        let (config, _) = Config::from_vars(&vars(&[])).unwrap();
        assert!(config.instagram.credentials.is_none() && config.facebook.credentials.is_none());
        assert_eq!(
            config.facebook.auth_url.to_string(),
            "https://www.facebook.com/"
        );
        assert_eq!(
            config.instagram.api_url.to_string(),
            "https://graph.facebook.com/"
        );
        assert_eq!(config.meta_graph_version, "v20.0");

        let (config, _) = Config::from_vars(&vars(&[
            ("META_CLIENT_ID", "shared"),
            ("META_CLIENT_SECRET", "shared-secret"),
            ("FACEBOOK_CLIENT_ID", "own"),
            ("FACEBOOK_CLIENT_SECRET", "own-secret"),
            ("META_GRAPH_VERSION", "v21.0"),
        ]))
        .unwrap();
        assert_eq!(
            config.instagram.credentials.as_ref().unwrap().client_id,
            "shared"
        );
        assert_eq!(
            config.facebook.credentials.as_ref().unwrap().client_id,
            "own"
        );
        assert_eq!(config.meta_graph_version, "v21.0");

        let errors = Config::from_vars(&vars(&[
            ("META_CLIENT_ID", "shared"),
            ("META_GRAPH_VERSION", "20"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            errors.contains("META_CLIENT_SECRET") && errors.contains("META_GRAPH_VERSION"),
            "{errors}"
        );
    }

    #[test]
    fn media_stay_on_disk_unless_a_bucket_is_named_with_its_credentials() {
        let (config, _) = Config::from_vars(&vars(&[])).unwrap();
        assert!(matches!(config.media_store, MediaStoreConfig::LocalDisk));
        assert_eq!(config.media_store.upload_origin(), None);

        let (config, warnings) = Config::from_vars(&vars(&[
            ("MEDIA_STORE", "s3://picscripter-media/uploads/"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9000/"),
            ("AWS_ACCESS_KEY_ID", "key"),
            ("AWS_SECRET_ACCESS_KEY", "s3cr3t-value"),
            ("AWS_ROLE_SESSION_NAME", "picscripter"),
        ]))
        .unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let MediaStoreConfig::S3(s3) = &config.media_store else {
            panic!("{:?}", config.media_store)
        };
        assert_eq!(
            (s3.bucket.as_str(), s3.prefix.as_str(), s3.region.as_str()),
            ("picscripter-media", "uploads/", "us-east-1")
        );
        assert_eq!(s3.keys.as_ref().unwrap().access_key_id, "key");
        assert_eq!(s3.other.len(), 1);
        assert_eq!(s3.other[0].0, "aws_role_session_name");
        assert_eq!(
            config.media_store.upload_origin().as_deref(),
            Some("http://127.0.0.1:9000")
        );
        assert!(!format!("{config:?}").contains("s3cr3t-value"));

        let (config, _) = Config::from_vars(&vars(&[
            ("MEDIA_STORE", "s3://bucket"),
            ("AWS_REGION", "eu-west-3"),
        ]))
        .unwrap();
        assert_eq!(
            config.media_store.upload_origin().as_deref(),
            Some("https://s3.eu-west-3.amazonaws.com")
        );

        let key = r#"{"client_email": "app@project.iam.gserviceaccount.com", "private_key_id": "k1", "private_key": "-----BEGIN PRIVATE KEY-----"}"#;
        let (config, _) = Config::from_vars(&vars(&[
            ("MEDIA_STORE", "gs://picscripter_media"),
            ("GOOGLE_SERVICE_ACCOUNT_KEY", key),
        ]))
        .unwrap();
        let MediaStoreConfig::Gcs(gcs) = &config.media_store else {
            panic!("{:?}", config.media_store)
        };
        assert_eq!(
            (gcs.bucket.as_str(), gcs.prefix.as_str()),
            ("picscripter_media", "")
        );
        assert!(matches!(gcs.credentials, GcsCredentials::KeyJson(_)));
        assert_eq!(
            config.media_store.upload_origin().as_deref(),
            Some("https://storage.googleapis.com")
        );
        assert!(!format!("{config:?}").contains("BEGIN PRIVATE KEY"));
    }

    #[test]
    fn every_media_store_problem_is_reported_at_once_without_secrets() {
        let errors = Config::from_vars(&vars(&[
            ("MEDIA_STORE", "s3://No_Such..Bucket/../x"),
            ("AWS_ACCESS_KEY_ID", "key"),
            ("AWS_ENDPOINT_URL", "minio:9000"),
        ]))
        .unwrap_err();
        let text = errors.to_string();
        for expected in [
            "is not a bucket name",
            "is not a prefix",
            "AWS_SECRET_ACCESS_KEY: must be set",
            "AWS_ENDPOINT_URL:",
        ] {
            assert!(text.contains(expected), "{expected} missing from:\n{text}");
        }
        assert_eq!(errors.0.len(), 4, "{errors}");

        let errors = Config::from_vars(&vars(&[
            ("MEDIA_STORE", "gs://bucket/media"),
            (
                "GOOGLE_SERVICE_ACCOUNT_KEY",
                "{\"private_key\": \"hunter2\"}",
            ),
            ("GOOGLE_BASE_URL", "storage"),
        ]))
        .unwrap_err();
        let text = errors.to_string();
        assert!(
            text.contains("GOOGLE_SERVICE_ACCOUNT_KEY:") && text.contains("GOOGLE_BASE_URL:"),
            "{text}"
        );
        assert!(!text.contains("hunter2"), "{text}");

        let errors = Config::from_vars(&vars(&[
            ("MEDIA_STORE", "gs://bucket"),
            (
                "GOOGLE_APPLICATION_CREDENTIALS",
                "/no/such/credentials.json",
            ),
        ]))
        .unwrap_err();
        assert!(
            errors
                .to_string()
                .contains("GOOGLE_APPLICATION_CREDENTIALS:"),
            "{errors}"
        );
        let errors = Config::from_vars(&vars(&[("MEDIA_STORE", "ftp://bucket")])).unwrap_err();
        assert!(errors.to_string().contains("MEDIA_STORE:"), "{errors}");
    }

    #[test]
    fn trusted_proxies_take_ranges_and_single_addresses() {
        let (config, _) =
            Config::from_vars(&vars(&[("TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7 ,::1")])).unwrap();
        let expected: Vec<IpNet> = ["10.0.0.0/8", "192.0.2.7/32", "::1/128"]
            .iter()
            .map(|net| net.parse().unwrap())
            .collect();
        assert_eq!(config.trusted_proxies, expected);
    }

    #[test]
    fn a_dotenv_that_does_not_parse_names_the_line_but_not_its_content() {
        let dir = std::env::temp_dir().join(format!("picscripter-env-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(".env");
        std::fs::write(
            &path,
            "# settings\nLOG_FORMAT=json\nJWT_SECRET='hunter2hunter2hunter2hunter2hunter2\nRATE_LIMIT_AUTH=5/min\n",
        )
        .unwrap();
        let problem = read_dotenv(&path).unwrap_err();
        assert!(problem.contains("line 3"), "{problem}");
        assert!(!problem.contains("hunter2"), "{problem}");

        std::fs::write(
            &path,
            "LOG_FORMAT=json\n\n# a comment\nRATE_LIMIT_AUTH=\"5/min\"\n",
        )
        .unwrap();
        let pairs = read_dotenv(&path).unwrap();
        assert_eq!(pairs.len(), 2);
        assert!(read_dotenv(&dir.join("missing")).unwrap().is_empty());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
