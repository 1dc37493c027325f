//! The backend both `serve` and `worker` run on: the database, the keys, the platform
//! registry, the queue (Redis with `REDIS_URL`, in-process without), the media store, and the
//! publishing services built from them, plus the background tasks that publish.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use anyhow::Context as _;
use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::analytics::events::ProductEvents;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::connections::tokens::TokenKeeper;
use crate::crypto::Keyring;
use crate::media::pull::PullUrls;
use crate::media::store::MediaStore;
use crate::platforms::{self, Registry};
use crate::publishing::Pipeline;
use crate::publishing::stats::PublishingStats;
use crate::publishing::sweep::Sweeper;
use crate::publishing::worker::{Worker, WorkerSettings};
use crate::queue::JobQueue;
use crate::queue::local::LocalQueue;
use crate::queue::redis::RedisQueue;
use crate::stores::StoreRegistry;
use crate::stores::sync::StoreSync;
use crate::{db, redis};

/// How often expired leases are handed back.
const REAP_EVERY: StdDuration = StdDuration::from_secs(5);

pub struct Backend {
    pub db: DatabaseConnection,
    pub clock: SharedClock,
    pub keyring: Arc<Keyring>,
    pub registry: Registry,
    pub queue: Arc<dyn JobQueue>,
    pub redis: Option<fred::clients::Pool>,
    pub media: Arc<dyn MediaStore>,
    /// Signs the URLs platforms download media from, and checks them when they do.
    pub pull_urls: PullUrls,
    pub pipeline: Arc<Pipeline>,
    pub tokens: Arc<TokenKeeper>,
    /// Product syncs of the connected stores, run by the same workers.
    pub store_sync: Arc<StoreSync>,
    /// The check of a post's product before it goes out.
    pub product_guard: Arc<crate::stores::guard::ProductGuard>,
    /// What this process's workers, sweep and reaper have done; `/metrics` and `/readyz`.
    pub stats: Arc<PublishingStats>,
    /// Product events, recorded where the actions they count land.
    pub events: Arc<ProductEvents>,
}

impl Backend {
    /// Connects and migrates. `config.x` (and later the other platforms) must already point
    /// where the platform APIs are (the sandbox rewrites them before this).
    pub async fn open(config: &Config, clock: SharedClock) -> anyhow::Result<Self> {
        let db = db::open(&config.database_url(), config.database_max_connections).await?;
        // Built now so a bad or missing key stops the start, not the first connection.
        let keyring = Arc::new(crate::startup::token_keyring(config)?);
        tracing::info!(
            key_id = keyring.current_key_id(),
            "platform tokens are encrypted"
        );
        let redis = config
            .redis_url
            .as_ref()
            .map(redis::connect)
            .transpose()
            .context("REDIS_URL is not usable")?;
        let queue: Arc<dyn JobQueue> = match &redis {
            Some(pool) => Arc::new(RedisQueue::new(pool.clone(), &config.redis_prefix)),
            None => Arc::new(LocalQueue::default()),
        };
        let http = platforms::http_client(config.platform_timeout);
        let registry = Registry::from_config(config, &http);
        let media: Arc<dyn MediaStore> =
            crate::media::store::open(&config.media_store, &config.data_dir)
                .context("MEDIA_STORE is not usable")?;
        // A worker without PUBLIC_BASE_URL signs for the web process on this machine's
        // default address, which is where that process would be.
        let public_base_url = config.public_base_url.clone().unwrap_or_else(|| {
            format!("http://{}", config.addr)
                .parse()
                .expect("a socket address makes a URL")
        });
        let pull_urls = PullUrls::new(&public_base_url, keyring.url_signing_key());
        let events = Arc::new(ProductEvents::new(db.clone(), clock.clone()));
        let pipeline = Arc::new(Pipeline::new(
            db.clone(),
            queue.clone(),
            registry.clone(),
            clock.clone(),
            events.clone(),
        ));
        let tokens = Arc::new(TokenKeeper::new(
            db.clone(),
            keyring.clone(),
            registry.clone(),
            clock.clone(),
        ));
        let stores = StoreRegistry::from_config(config, &http);
        let store_tokens =
            crate::connections::tokens::TokenGate::new(db.clone(), keyring.clone(), clock.clone());
        let product_guard = Arc::new(crate::stores::guard::ProductGuard::new(
            db.clone(),
            stores.clone(),
            store_tokens.clone(),
            clock.clone(),
        ));
        let store_sync = Arc::new(StoreSync::new(
            db.clone(),
            queue.clone(),
            stores,
            store_tokens,
            clock.clone(),
            chrono::Duration::from_std(config.worker_lease)
                .unwrap_or(chrono::Duration::seconds(60)),
            config.store_sync_interval,
        ));
        Ok(Self {
            store_sync,
            product_guard,
            db,
            clock,
            keyring,
            registry,
            queue,
            redis,
            media,
            pull_urls,
            pipeline,
            tokens,
            stats: Arc::default(),
            events,
        })
    }

    pub fn worker_settings(config: &Config) -> WorkerSettings {
        WorkerSettings {
            concurrency: config.worker_concurrency,
            max_attempts: config.publish_max_attempts,
            backoff: crate::publishing::backoff::Backoff {
                base: config.publish_backoff_base,
                ..Default::default()
            },
            sweep_every: config.queue_sweep_every,
            metrics_every: config.post_metrics_every,
            lease: chrono::Duration::from_std(config.worker_lease)
                .unwrap_or(chrono::Duration::seconds(60)),
            heartbeat: config.worker_lease / 4,
            ..WorkerSettings::default()
        }
    }

    pub fn worker(&self, settings: WorkerSettings) -> Arc<Worker> {
        Arc::new(Worker::new(self, settings))
    }

    pub fn sweeper(&self) -> Arc<Sweeper> {
        Arc::new(Sweeper::new(
            self.db.clone(),
            self.queue.clone(),
            self.clock.clone(),
            self.stats.clone(),
        ))
    }

    /// Queues the automatic product syncs that are due, on the sweep's beat.
    fn spawn_store_syncs(
        &self,
        every: StdDuration,
        tasks: &TaskTracker,
        shutdown: &CancellationToken,
    ) {
        let sync = self.store_sync.clone();
        tasks.spawn(crate::startup::every(every, shutdown.clone(), move || {
            let sync = sync.clone();
            async move {
                match sync.queue_due().await {
                    Ok(0) => {}
                    Ok(queued) => tracing::info!(queued, "automatic product syncs queued"),
                    Err(error) => {
                        tracing::warn!(%error, "queueing product syncs failed; will retry")
                    }
                }
            }
        }));
    }

    /// Starts the workers, the reaper and the sweep on `tasks`; they stop on `shutdown`.
    pub fn spawn_publishing(
        &self,
        settings: WorkerSettings,
        tasks: &TaskTracker,
        shutdown: &CancellationToken,
        grace: StdDuration,
    ) {
        self.spawn_store_syncs(settings.sweep_every, tasks, shutdown);
        crate::analytics::metrics::spawn(
            self,
            crate::analytics::metrics::CollectSettings {
                every: settings.metrics_every,
                ..Default::default()
            },
            tasks,
            shutdown,
        );
        let sweeper = self.sweeper();
        tasks.spawn(crate::startup::every(
            settings.sweep_every,
            shutdown.clone(),
            {
                let sweeper = sweeper.clone();
                move || {
                    let sweeper = sweeper.clone();
                    async move {
                        if let Err(error) = sweeper.requeue_missing().await {
                            tracing::warn!(%error, "the queue sweep failed; will retry");
                        }
                    }
                }
            },
        ));
        tasks.spawn(crate::startup::every(
            REAP_EVERY,
            shutdown.clone(),
            move || {
                let sweeper = sweeper.clone();
                async move {
                    if let Err(error) = sweeper.reap().await {
                        tracing::warn!(%error, "reaping expired leases failed; will retry");
                    }
                }
            },
        ));
        tasks.spawn(self.worker(settings).run(shutdown.clone(), grace));
    }
}
