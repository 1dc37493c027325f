//! `/metrics` in the Prometheus text format. The counters are this process's (attempts, the
//! sweep's and the reaper's hand-backs); the gauges are read from the database at each scrape,
//! so every process reports the same queue: targets per status, and the queue lag, how long
//! the longest-waiting due job has waited without being started.
//!
//! Who may read it: with `METRICS_TOKEN`, a request bearing that token; without, only a
//! request made on this machine straight to the app, never one a proxy forwarded.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use app::types::TargetStatus;

use super::health::Probes;
use crate::clock::SharedClock;
use crate::db::posts as rows;
use crate::publishing::stats::PublishingStats;

type Status = Vec<(&'static str, &'static str)>;

pub struct Metrics {
    registry: Registry,
    targets: Family<Status, Gauge>,
    queue_lag: Gauge<f64, AtomicU64>,
    worker_silence: Gauge<f64, AtomicU64>,
    /// Present when this process runs workers.
    workers: Option<Arc<PublishingStats>>,
    clock: SharedClock,
    token: Option<SecretString>,
}

impl Metrics {
    /// `stats` are this process's counters; `runs_workers` says whether its workers' pulse
    /// is reported too.
    pub fn new(
        stats: Arc<PublishingStats>,
        runs_workers: bool,
        clock: SharedClock,
        token: Option<SecretString>,
    ) -> Self {
        let mut registry = Registry::default();
        stats.register(&mut registry);
        let targets = Family::<Status, Gauge>::default();
        registry.register(
            "picscripter_post_targets",
            "Posts' targets (one per post and account) in each status",
            targets.clone(),
        );
        let queue_lag = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "picscripter_queue_lag_seconds",
            "How long the longest-waiting due job has waited without being started (0: none)",
            queue_lag.clone(),
        );
        let worker_silence = Gauge::<f64, AtomicU64>::default();
        if runs_workers {
            registry.register(
                "picscripter_worker_silence_seconds",
                "Seconds since this process's workers last showed life (-1: not yet)",
                worker_silence.clone(),
            );
        }
        Self {
            registry,
            targets,
            queue_lag,
            worker_silence,
            workers: runs_workers.then_some(stats),
            clock,
            token,
        }
    }

    /// How long this process's workers have been silent; `None` if it runs none.
    pub fn workers_silent_for(&self) -> Option<chrono::Duration> {
        let workers = self.workers.as_ref()?;
        let now = self.clock.now();
        // Before their first claim they count as just started.
        Some(workers.silent_for(now).unwrap_or_default())
    }

    fn allows(&self, peer: std::net::IpAddr, headers: &HeaderMap) -> bool {
        match &self.token {
            Some(token) => headers
                .get(header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.strip_prefix("Bearer "))
                // Compared as digests, so the time taken says nothing about the token.
                .is_some_and(|given| {
                    Sha256::digest(given.as_bytes())
                        == Sha256::digest(token.expose_secret().as_bytes())
                }),
            None => {
                peer.to_canonical().is_loopback()
                    && !headers.contains_key("x-forwarded-for")
                    && !headers.contains_key(header::FORWARDED)
            }
        }
    }

    async fn render(&self, db: &sea_orm::DatabaseConnection) -> Result<String, crate::db::DbError> {
        let now = self.clock.now();
        let counts = rows::target_counts(db).await?;
        for status in TargetStatus::ALL {
            let count = counts
                .iter()
                .find(|(name, _)| name == status.as_str())
                .map_or(0, |(_, count)| *count);
            self.targets
                .get_or_create(&vec![("status", status.as_str())])
                .set(count);
        }
        let oldest = rows::oldest_waiting_due(db, now, None).await?;
        self.queue_lag
            .set(oldest.map_or(0.0, |due| seconds(now - due)));
        if let Some(workers) = &self.workers {
            self.worker_silence
                .set(workers.silent_for(now).map_or(-1.0, seconds));
        }
        let mut text = String::new();
        prometheus_text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        Ok(text)
    }
}

fn seconds(duration: chrono::Duration) -> f64 {
    duration.num_milliseconds().max(0) as f64 / 1000.0
}

pub async fn metrics(
    State(state): State<Probes>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if !state.metrics.allows(peer.ip(), &headers) {
        return (
            StatusCode::FORBIDDEN,
            "Metrics are served to this machine, or with METRICS_TOKEN as a Bearer token.\n",
        )
            .into_response();
    }
    match state.metrics.render(&state.db).await {
        Ok(text) => (
            [(header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)],
            text,
        )
            .into_response(),
        Err(error) => {
            tracing::warn!(%error, "cannot read the queue for /metrics");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The database did not answer; try again.\n",
            )
                .into_response()
        }
    }
}
