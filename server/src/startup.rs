//! Building and running the application: connect, migrate, wire the router, bind. Binding
//! happens in `build`, so a caller (a test) can ask for port 0 and read the real port.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use fred::prelude::ClientLike as _;
use leptos::config::LeptosOptions;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::auth::AccountService;
use crate::config::Config;
use crate::http::rate_limit::RateLimiter;
use crate::http::security::SecurityPolicy;
use crate::http::{self, Middleware};
use crate::state::AppState;
use crate::{db, redis, secrets};

/// How often idle clients are dropped from the rate limiter.
const LIMITER_PRUNE_EVERY: Duration = Duration::from_secs(60);

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    redis: Option<fred::clients::Pool>,
    shutdown_grace: Duration,
    limiter: Arc<RateLimiter>,
}

impl Application {
    pub async fn build(config: Config, leptos: LeptosOptions) -> anyhow::Result<Self> {
        let db = db::connect(&config.database_url())
            .await
            .context("cannot connect to the database")?;
        db::migrate(&db)
            .await
            .context("cannot apply the database migrations")?;

        let jwt_secret = match &config.jwt_secret {
            Some(secret) => secret.clone(),
            None => secrets::load_or_create(&config.data_dir, "jwt_secret").with_context(|| {
                format!(
                    "cannot keep the session secret in {}",
                    config.data_dir.display()
                )
            })?,
        };
        let redis = config
            .redis_url
            .as_ref()
            .map(redis::connect)
            .transpose()
            .context("REDIS_URL is not usable")?;

        let accounts = Arc::new(AccountService::new(
            db.clone(),
            &jwt_secret,
            !config.is_local(),
        ));
        let limiter = Arc::new(RateLimiter::new(&config.rate_limits));
        let state = AppState {
            accounts,
            db,
            redis: redis.clone(),
            leptos,
        };
        let router = http::router(
            state,
            Middleware {
                limiter: limiter.clone(),
                security: SecurityPolicy {
                    strict_transport: !config.is_local(),
                },
                cors_origins: config.cors_origins.clone(),
            },
        );
        let listener = TcpListener::bind(config.addr).await.with_context(|| {
            format!(
                "cannot listen on {} (is another server running there?)",
                config.addr
            )
        })?;
        Ok(Self {
            listener,
            router,
            redis,
            shutdown_grace: config.shutdown_grace,
            limiter,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` is cancelled, then lets in-flight requests finish for up to the
    /// grace period.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let Self {
            listener,
            router,
            redis,
            shutdown_grace,
            limiter,
        } = self;
        let pruning = tokio::spawn({
            let shutdown = shutdown.clone();
            async move {
                let mut every = tokio::time::interval(LIMITER_PRUNE_EVERY);
                loop {
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = every.tick() => limiter.forget_idle_clients(),
                    }
                }
            }
        });

        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        let serve = axum::serve(listener, service)
            .with_graceful_shutdown(shutdown.clone().cancelled_owned());
        let deadline = async {
            shutdown.cancelled().await;
            tokio::time::sleep(shutdown_grace).await;
        };
        tokio::select! {
            result = serve => result.context("the HTTP server failed")?,
            () = deadline => tracing::warn!(grace_secs = shutdown_grace.as_secs(), "requests still running at the end of the grace period were cut off"),
        }
        pruning.abort();
        if let Some(redis) = redis {
            let _ = redis.quit().await;
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Cancels `token` on Ctrl-C or SIGTERM.
pub async fn cancel_on_signal(token: CancellationToken) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
    token.cancel();
}
