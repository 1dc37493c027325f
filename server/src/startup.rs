//! Building and running the application: connect, migrate, wire the services and the router,
//! bind. Binding happens in `build`, so a caller (a test) can ask for port 0 and read the real
//! port, and the default public address follows the address really bound.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use fred::prelude::ClientLike as _;
use leptos::config::LeptosOptions;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use app::services::Services;
use app::types::Platform;

use crate::auth::password::PasswordHasher;
use crate::auth::throttle::FailedLogins;
use crate::auth::{AccountService, AccountSettings};
use crate::backend::Backend;
use crate::clock::{SharedClock, SystemClock};
use crate::config::{
    ClientCredentials, Config, GeminiConfig, PlatformApp, ShopifyApp, YouTubeHosts, uses_https,
};
use crate::connections::{ConnectionService, ConnectionServiceParts};
use crate::crypto::{self, Keyring};
use crate::http::client::TrustedProxies;
use crate::http::csrf::SameSitePolicy;
use crate::http::drain::InFlight;
use crate::http::rate_limit::RateLimiter;
use crate::http::security::SecurityPolicy;
use crate::http::timeout::Timeouts;
use crate::http::{self, Middleware};
use crate::media::library::MediaLibrary;
use crate::publishing::worker::WorkerSettings;
use crate::sandbox::etsy::EtsyFake;
use crate::sandbox::gemini::GeminiFake;
use crate::sandbox::linkedin::LinkedInFake;
use crate::sandbox::meta::MetaFake;
use crate::sandbox::pinterest::PinterestFake;
use crate::sandbox::shopify::ShopifyFake;
use crate::sandbox::squarespace::SquarespaceFake;
use crate::sandbox::tiktok::TikTokFake;
use crate::sandbox::x::XFake;
use crate::sandbox::youtube::YouTubeFake;
use crate::state::AppState;
use crate::studio::service::Studio;
use crate::studio::settings::StudioSettingsStore;
use crate::{db, secrets};

/// How often idle clients are dropped from the rate limiter.
const LIMITER_PRUNE_EVERY: Duration = Duration::from_secs(60);
/// How often expired and revoked sessions are deleted.
const SESSION_SWEEP_EVERY: Duration = Duration::from_secs(60 * 60);

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    redis: Option<fred::clients::Pool>,
    shutdown_grace: Duration,
    limiter: Arc<RateLimiter>,
    accounts: Arc<AccountService>,
    in_flight: Arc<InFlight>,
    backend: Backend,
    uploads: Arc<MediaLibrary>,
    /// `None` with `serve --no-workers`.
    workers: Option<WorkerSettings>,
}

impl Application {
    pub async fn build(config: Config, leptos: LeptosOptions) -> anyhow::Result<Self> {
        Self::build_with_clock(config, leptos, Arc::new(SystemClock)).await
    }

    /// [`Application::build`] with the clock the backend reads the time from.
    pub async fn build_with_clock(
        config: Config,
        leptos: LeptosOptions,
        clock: SharedClock,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.addr).await.with_context(|| {
            format!(
                "cannot listen on {} (is another server running there?)",
                config.addr
            )
        })?;
        let public_base_url = config.public_base_url_for(listener.local_addr()?);
        let mut config = config;
        // The address found now is what media URLs are signed under, too.
        config
            .public_base_url
            .get_or_insert_with(|| public_base_url.clone());
        let sandbox = config
            .sandbox
            .then(|| mount_sandbox(&mut config, &public_base_url));

        let backend = Backend::open(&config, clock.clone()).await?;
        let db = backend.db.clone();
        let redis = backend.redis.clone();

        let jwt_secret = match &config.jwt_secret {
            Some(secret) => secret.clone(),
            None => {
                secrets::load_or_create(&config.data_dir, "jwt_secret", 48).with_context(|| {
                    format!(
                        "cannot keep the session secret in {}",
                        config.data_dir.display()
                    )
                })?
            }
        };

        let https = uses_https(&public_base_url);
        let accounts = Arc::new(AccountService::new(
            db.clone(),
            AccountSettings {
                jwt_secret: &jwt_secret,
                secure_cookies: https,
                hasher: PasswordHasher::for_this_machine(),
                clock: clock.clone(),
                failed_logins: match &redis {
                    Some(pool) => FailedLogins::shared(pool.clone(), &config.redis_prefix),
                    None => FailedLogins::default(),
                },
            },
        ));
        let oauth = Arc::new(ConnectionService::new(ConnectionServiceParts {
            db: db.clone(),
            keyring: backend.keyring.clone(),
            registry: backend.registry.clone(),
            clock: clock.clone(),
            public_base_url: public_base_url.clone(),
            pull_urls: backend.pull_urls.clone(),
            pipeline: backend.pipeline.clone(),
            events: backend.events.clone(),
        }));
        let uploads = Arc::new(MediaLibrary::new(
            db.clone(),
            backend.media.clone(),
            clock.clone(),
            config.media_max_video_bytes,
            backend.pull_urls.clone(),
            backend.events.clone(),
        ));
        let studio_settings = Arc::new(StudioSettingsStore::new(
            db.clone(),
            backend.keyring.clone(),
            config.writers.clone(),
            clock.clone(),
        ));
        let studio = Arc::new(Studio::new(
            db.clone(),
            backend.registry.clone(),
            uploads.clone(),
            studio_settings.clone(),
            &config.writers,
            backend.events.clone(),
        ));
        let stores = Arc::new(crate::stores::service::StoreService::new(
            crate::stores::service::StoreServiceParts {
                db: db.clone(),
                keyring: backend.keyring.clone(),
                sync: backend.store_sync.clone(),
                library: uploads.clone(),
                http: crate::platforms::http_client(config.platform_timeout),
                clock: clock.clone(),
                public_base_url: public_base_url.clone(),
                events: backend.events.clone(),
            },
        ));
        let templates = Arc::new(crate::templates::TemplateService::new(
            db.clone(),
            clock.clone(),
            backend.events.clone(),
        ));
        let analytics = backend.events.clone();
        let services = Services {
            events: analytics.clone(),
            analytics: Arc::new(crate::analytics::metrics::Analytics::new(
                db.clone(),
                clock.clone(),
            )),
            templates,
            studio: studio_settings.clone(),
            accounts: accounts.clone(),
            connections: oauth.clone(),
            posts: backend.pipeline.clone(),
            media: uploads.clone(),
            stores: stores.clone(),
        };
        let limiter = Arc::new(match &redis {
            Some(pool) => {
                RateLimiter::shared(&config.rate_limits, pool.clone(), &config.redis_prefix)
            }
            None => RateLimiter::new(&config.rate_limits),
        });
        let in_flight = Arc::new(InFlight::default());
        let state = AppState {
            analytics,
            services,
            uploads: uploads.clone(),
            oauth,
            stores,
            db: db.clone(),
            redis: redis.clone(),
            leptos,
            metrics: Arc::new(crate::http::metrics::Metrics::new(
                backend.stats.clone(),
                config.run_workers,
                clock.clone(),
                config.metrics_token.clone(),
            )),
            sandbox: config.sandbox,
            pull_urls: backend.pull_urls.clone(),
            clock: clock.clone(),
            studio,
            studio_settings,
        };
        let router = http::router(
            state,
            Middleware {
                limiter: limiter.clone(),
                security: SecurityPolicy {
                    strict_transport: https,
                    upload_origin: config.media_store.upload_origin().map(Into::into),
                },
                cors_origins: config.cors_origins.clone(),
                trusted_proxies: Arc::new(TrustedProxies::new(config.trusted_proxies.clone())),
                same_site: Arc::new(SameSitePolicy::new(
                    &public_base_url,
                    config.cors_origins.clone(),
                )),
                timeouts: Timeouts::default(),
                in_flight: in_flight.clone(),
                sandbox,
            },
        );
        tracing::info!(public_base_url = %public_base_url, "configured");
        if config.sandbox {
            tracing::warn!(
                "sandbox mode: every platform is a built-in fake under {}/sandbox; nothing is posted anywhere real",
                public_base_url.to_string().trim_end_matches('/')
            );
        }
        let workers = config
            .run_workers
            .then(|| Backend::worker_settings(&config));
        Ok(Self {
            listener,
            router,
            redis,
            shutdown_grace: config.shutdown_grace,
            limiter,
            accounts,
            in_flight,
            backend,
            uploads,
            workers,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` is cancelled, then lets in-flight requests finish for up to the
    /// grace period and says how many it had to cut. Background tasks (the limiter's pruning,
    /// the session sweeper, later the workers) belong to one tracker and stop on the same
    /// token; shutdown waits for them within the grace period too.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let Self {
            listener,
            router,
            redis,
            shutdown_grace,
            limiter,
            accounts,
            in_flight,
            backend,
            uploads,
            workers,
        } = self;
        let tasks = TaskTracker::new();
        tasks.spawn(every(LIMITER_PRUNE_EVERY, shutdown.clone(), move || {
            let limiter = limiter.clone();
            async move { limiter.forget_idle_clients() }
        }));
        let sweeper = backend.sweeper();
        let db = backend.db.clone();
        let clock = backend.clock.clone();
        tasks.spawn(every(SESSION_SWEEP_EVERY, shutdown.clone(), move || {
            let accounts = accounts.clone();
            let sweeper = sweeper.clone();
            let db = db.clone();
            let clock = clock.clone();
            async move {
                match accounts.prune_sessions().await {
                    Ok(0) => {}
                    Ok(deleted) => tracing::info!(deleted, "pruned expired and revoked sessions"),
                    Err(error) => tracing::warn!(%error, "could not prune sessions; will retry"),
                }
                match db::oauth_states::delete_expired(&db, clock.now()).await {
                    Ok(0) => {}
                    Ok(deleted) => tracing::info!(deleted, "pruned expired authorization states"),
                    Err(error) => {
                        tracing::warn!(%error, "could not prune authorization states; will retry")
                    }
                }
                match db::account_choices::delete_expired(&db, clock.now()).await {
                    Ok(0) => {}
                    Ok(deleted) => tracing::info!(deleted, "pruned account choices never made"),
                    Err(error) => {
                        tracing::warn!(%error, "could not prune account choices; will retry")
                    }
                }
                if let Err(error) = sweeper.prune_idempotency_keys().await {
                    tracing::warn!(%error, "could not prune idempotency keys; will retry");
                }
            }
        }));
        if let Some(settings) = workers {
            backend.spawn_publishing(settings, &tasks, &shutdown, shutdown_grace);
        }
        crate::media::direct::spawn_upload_sweep(uploads, &tasks, &shutdown);
        tasks.close();

        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        let serve = axum::serve(listener, service)
            .with_graceful_shutdown(shutdown.clone().cancelled_owned());
        let deadline = async {
            shutdown.cancelled().await;
            tokio::time::sleep(shutdown_grace).await;
        };
        let grace_started = tokio::select! {
            result = serve => {
                result.context("the HTTP server failed")?;
                tracing::info!("every request finished");
                None
            }
            () = deadline => {
                tracing::warn!(
                    cut = in_flight.count(),
                    grace_secs = shutdown_grace.as_secs(),
                    "requests still running at the end of the grace period were cut off"
                );
                Some(())
            }
        };
        let left = if grace_started.is_some() {
            Duration::ZERO
        } else {
            shutdown_grace
        };
        if tokio::time::timeout(left, tasks.wait()).await.is_err() {
            tracing::warn!("background tasks were still running at the end of the grace period");
        }
        if let Some(redis) = redis {
            let _ = redis.quit().await;
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Sandbox credentials: what `--sandbox` registers with the fake and configures the app with.
pub const SANDBOX_CLIENT_ID: &str = "picscripter-sandbox";
const SANDBOX_CLIENT_SECRET: &str = "sandbox-secret-not-for-production";
const SANDBOX_GEMINI_KEY: &str = "sandbox-gemini-key";
/// Products in each sandbox shop.
const SANDBOX_CATALOGUE: usize = 600;

/// Points every platform that has a fake at it, mounted under `/sandbox/{platform}` with
/// sandbox credentials, and returns the fakes' routes (nested under `/sandbox` by the app).
fn mount_sandbox(config: &mut Config, public_base_url: &::http::Uri) -> axum::Router {
    let x = XFake::new(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET);
    let pinterest = PinterestFake::new(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET);
    let linkedin = LinkedInFake::new(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET);
    let youtube = YouTubeFake::new(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET);
    let tiktok = TikTokFake::new(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET);
    // One Meta world behind both nests, as Instagram and Facebook share one Meta app.
    let meta = MetaFake::new(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET);
    config.x = sandbox_app(public_base_url, Platform::X);
    config.pinterest = sandbox_app(public_base_url, Platform::Pinterest);
    config.linkedin = sandbox_app(public_base_url, Platform::Linkedin);
    // The fake knows organizations: a member who administers one chooses what to connect.
    config.linkedin_organizations = true;
    config.youtube = sandbox_app(public_base_url, Platform::Youtube);
    config.tiktok = sandbox_app(public_base_url, Platform::Tiktok);
    config.instagram = sandbox_app(public_base_url, Platform::Instagram);
    config.facebook = sandbox_app(public_base_url, Platform::Facebook);
    // Google's upload, token and watch hosts are all the one fake.
    let google = config.youtube.api_url.clone();
    config.youtube_hosts = YouTubeHosts {
        upload_url: google.clone(),
        token_url: google.clone(),
        web_url: google,
    };
    // The stores: every Shopify shop lives under the fake's own path; the sandbox shopper
    // connects `sandbox-shop.myshopify.com` or any other `*.myshopify.com` name.
    let shopify = ShopifyFake::new(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET);
    let etsy = EtsyFake::new(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET);
    let squarespace = SquarespaceFake::new(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET);
    // A shop's worth of products, synced in seconds; tests and the benchmark use 10,000.
    shopify.set_catalogue_size(SANDBOX_CATALOGUE);
    etsy.set_catalogue_size(SANDBOX_CATALOGUE);
    squarespace.set_catalogue_size(SANDBOX_CATALOGUE);
    let shop_template = format!(
        "{}/sandbox/shopify/{{shop}}",
        public_base_url.to_string().trim_end_matches('/')
    );
    config.shopify = ShopifyApp {
        credentials: Some(sandbox_credentials()),
        auth_url_template: shop_template.clone(),
        api_url_template: shop_template,
        ..config.shopify.clone()
    };
    config.etsy = sandbox_app_at(public_base_url, "etsy");
    config.squarespace = sandbox_app_at(public_base_url, "squarespace");
    // Captions come from the Gemini fake, unless a real writer is configured: its captions on
    // fake platforms are a fair way to try the Studio.
    let gemini = GeminiFake::new(SANDBOX_GEMINI_KEY);
    if config.writers.gemini.is_none() && config.writers.openai.is_none() {
        config.writers.gemini = Some(GeminiConfig {
            key: secrecy::SecretString::from(SANDBOX_GEMINI_KEY),
            model: "gemini-2.5-flash".to_owned(),
            url: format!(
                "{}/sandbox/gemini",
                public_base_url.to_string().trim_end_matches('/')
            )
            .parse()
            .expect("the public base URL with a path is a URL"),
        });
    }
    axum::Router::new()
        .nest_service("/gemini", gemini.router())
        .nest_service("/x", x.router())
        .nest_service("/pinterest", pinterest.router())
        .nest_service("/linkedin", linkedin.router())
        .nest_service("/youtube", youtube.router())
        .nest_service("/tiktok", tiktok.router())
        .nest_service("/instagram", meta.router())
        .nest_service("/facebook", meta.router())
        .nest_service("/shopify", shopify.router())
        .nest_service("/etsy", etsy.router())
        .nest_service("/squarespace", squarespace.router())
}

/// A platform app whose consent page and API are both its fake at `/sandbox/{platform}`.
fn sandbox_app(public_base_url: &::http::Uri, platform: Platform) -> PlatformApp {
    sandbox_app_at(public_base_url, platform.as_str())
}

/// An app (a platform's or a store's) whose consent page and API are both the fake at
/// `/sandbox/{name}`.
fn sandbox_app_at(public_base_url: &::http::Uri, name: &str) -> PlatformApp {
    let base: ::http::Uri = format!(
        "{}/sandbox/{name}",
        public_base_url.to_string().trim_end_matches('/'),
    )
    .parse()
    .expect("the public base URL with a path is a URL");
    PlatformApp {
        credentials: Some(sandbox_credentials()),
        auth_url: base.clone(),
        api_url: base,
    }
}

fn sandbox_credentials() -> ClientCredentials {
    ClientCredentials {
        client_id: SANDBOX_CLIENT_ID.to_owned(),
        client_secret: secrecy::SecretString::from(SANDBOX_CLIENT_SECRET),
    }
}

/// The keys platform tokens are encrypted with: `ENCRYPTION_KEY` (or the key generated into
/// `DATA_DIR` on the embedded default) and `ENCRYPTION_KEYS_OLD`.
pub fn token_keyring(config: &Config) -> anyhow::Result<Keyring> {
    let current = match &config.encryption_key {
        Some(key) => key.clone(),
        None => secrets::load_or_create(&config.data_dir, "encryption_key", crypto::KEY_BYTES)
            .with_context(|| {
                format!(
                    "cannot keep the token encryption key in {}",
                    config.data_dir.display()
                )
            })?,
    };
    Keyring::new(&current, &config.encryption_keys_old)
        .context("the token encryption keys are not usable")
}

/// Runs `work` now and then every `period` until `shutdown`; a run in progress is finished.
pub async fn every<F, Fut>(period: Duration, shutdown: CancellationToken, mut work: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = ticks.tick() => work().await,
        }
    }
}

/// Cancels `token` on Ctrl-C or SIGTERM. The handlers are installed when this is called, not
/// when the returned future first runs: a signal that arrives right after start-up (a test, an
/// orchestrator that stops a fresh instance) must reach them instead of killing the process.
pub fn cancel_on_signal(
    token: CancellationToken,
) -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {},
                _ = terminate.recv() => {},
            }
            tracing::info!("shutting down");
            token.cancel();
        })
    }
    #[cfg(not(unix))]
    Ok(async move {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
        token.cancel();
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use axum::body::Body;
    use tower::ServiceExt as _;

    use super::*;

    #[tokio::test]
    async fn the_sandbox_writes_captions_with_its_gemini_fake_unless_a_writer_is_set() {
        let base: ::http::Uri = "http://127.0.0.1:3000".parse().unwrap();
        let (mut config, _) = Config::from_vars(&BTreeMap::new()).unwrap();
        let routes = mount_sandbox(&mut config, &base);
        let gemini = config.writers.gemini.clone().expect("the fake writes");
        assert_eq!(
            gemini.url.to_string(),
            "http://127.0.0.1:3000/sandbox/gemini"
        );
        let request =
            ::http::Request::post("/gemini/v1beta/models/gemini-2.5-flash:generateContent")
                .header("x-goog-api-key", SANDBOX_GEMINI_KEY)
                .header("content-type", "application/json")
                .body(Body::from(
                    r#"{"contents":[{"role":"user","parts":[{"text":"Blue mugs"}]}]}"#,
                ))
                .unwrap();
        let answer = routes.oneshot(request).await.unwrap();
        assert_eq!(answer.status(), ::http::StatusCode::OK);

        let vars = BTreeMap::from([("GEMINI_API_KEY".to_owned(), "AIza-real".to_owned())]);
        let (mut config, _) = Config::from_vars(&vars).unwrap();
        let _routes = mount_sandbox(&mut config, &base);
        assert_eq!(
            config.writers.gemini.unwrap().url.to_string(),
            "https://generativelanguage.googleapis.com/"
        );
    }

    #[tokio::test]
    async fn the_sandbox_points_the_stores_at_their_fakes() {
        let base: ::http::Uri = "http://127.0.0.1:3000".parse().unwrap();
        let (mut config, _) = Config::from_vars(&BTreeMap::new()).unwrap();
        let routes = mount_sandbox(&mut config, &base);
        assert!(config.shopify.credentials.is_some());
        assert_eq!(
            ShopifyApp::shop_url(
                &config.shopify.api_url_template,
                "sandbox-shop.myshopify.com"
            ),
            "http://127.0.0.1:3000/sandbox/shopify/sandbox-shop.myshopify.com"
        );
        assert_eq!(
            config.etsy.api_url.to_string(),
            "http://127.0.0.1:3000/sandbox/etsy"
        );
        assert!(config.squarespace.credentials.is_some());
        for page in [
            "/shopify/sandbox.css",
            "/etsy/sandbox.css",
            "/squarespace/sandbox.css",
        ] {
            let request = ::http::Request::get(page).body(Body::empty()).unwrap();
            let answer = routes.clone().oneshot(request).await.unwrap();
            assert_eq!(answer.status(), ::http::StatusCode::OK, "{page}");
        }
    }
}
