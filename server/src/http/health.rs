//! `/healthz`: the process answers (no dependencies are touched, so a database outage does
//! not get the process restarted). `/readyz`: the database answers, Redis when configured, and
//! in a process that runs workers, they have shown life within a minute; 503 otherwise, so a
//! load balancer stops sending traffic and an orchestrator can restart a stuck process. The answer says only `unreachable`
//! or `timeout` per dependency (it is public); the driver's own text goes to the log.

use std::time::Duration;

use std::sync::Arc;

use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use fred::prelude::*;
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};

use super::metrics::{self, Metrics};
use crate::db;
use crate::state::AppState;

/// What the probes look at: the database, Redis when configured, and this process's signals.
#[derive(Clone)]
pub struct Probes {
    pub db: DatabaseConnection,
    pub redis: Option<fred::clients::Pool>,
    pub metrics: Arc<Metrics>,
}

impl FromRef<AppState> for Probes {
    fn from_ref(state: &AppState) -> Self {
        Self {
            db: state.db.clone(),
            redis: state.redis.clone(),
            metrics: state.metrics.clone(),
        }
    }
}

/// `/healthz`, `/readyz` and `/metrics`: merged into the app's router by `serve`, and the
/// whole listener of `picscripter worker` (with `WORKER_HEALTH_ADDR`).
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Probes: FromRef<S>,
{
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::metrics))
}

/// A dependency slower than this counts as down.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// Workers that have not claimed, or beaten during an attempt, for this long are stuck: idle
/// ones claim ten times a second, busy ones beat every 15 s.
const WORKERS_SILENT_AFTER: chrono::Duration = chrono::Duration::seconds(60);

pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(state): State<Probes>) -> (StatusCode, Json<Value>) {
    let database = check(
        "database",
        tokio::time::timeout(CHECK_TIMEOUT, db::ping(&state.db)).await,
    );
    let redis = match &state.redis {
        None => None,
        Some(pool) => Some(check(
            "redis",
            tokio::time::timeout(CHECK_TIMEOUT, pool.next().ping::<String>(None)).await,
        )),
    };
    let describe = |check: &Result<(), &'static str>| match check {
        Ok(()) => "ok",
        Err(reason) => reason,
    };
    let workers = state.metrics.workers_silent_for().map(|silent| {
        if silent < WORKERS_SILENT_AFTER {
            Ok(())
        } else {
            tracing::warn!(
                silent_secs = silent.num_seconds(),
                "not ready: the publishing workers have stopped showing life"
            );
            Err("silent")
        }
    });
    let ready = database.is_ok()
        && redis.as_ref().is_none_or(Result::is_ok)
        && workers.as_ref().is_none_or(Result::is_ok);
    let mut checks = json!({ "database": describe(&database) });
    checks["workers"] = workers
        .as_ref()
        .map(describe)
        .unwrap_or("not run here")
        .into();
    checks["redis"] = redis
        .as_ref()
        .map(describe)
        .unwrap_or("not configured")
        .into();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({ "status": if ready { "ready" } else { "unavailable" }, "checks": checks })),
    )
}

/// `Ok`, or `unreachable`/`timeout`; the cause is logged here and nowhere else.
fn check<T, E: std::fmt::Display>(
    dependency: &'static str,
    outcome: Result<Result<T, E>, tokio::time::error::Elapsed>,
) -> Result<(), &'static str> {
    match outcome {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => {
            tracing::warn!(dependency, %error, "not ready: unreachable");
            Err("unreachable")
        }
        Err(_) => {
            tracing::warn!(
                dependency,
                timeout_secs = CHECK_TIMEOUT.as_secs(),
                "not ready: timeout"
            );
            Err("timeout")
        }
    }
}
