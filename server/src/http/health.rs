//! `/healthz`: the process answers (no dependencies are touched, so a database outage does
//! not get the process restarted). `/readyz`: the database answers, and Redis when configured;
//! 503 with the reason otherwise, so a load balancer stops sending traffic.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use fred::prelude::*;
use serde_json::{Value, json};

use crate::db;
use crate::state::AppState;

/// A dependency slower than this counts as down.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let database = match tokio::time::timeout(CHECK_TIMEOUT, db::ping(&state.db)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(format!("unreachable: {error}")),
        Err(_) => Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
    };
    let redis = match &state.redis {
        None => None,
        Some(pool) => Some(
            match tokio::time::timeout(CHECK_TIMEOUT, pool.next().ping::<String>(None)).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(error)) => Err(format!("unreachable: {error}")),
                Err(_) => Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
            },
        ),
    };
    let describe = |check: &Result<(), String>| match check {
        Ok(()) => "ok".to_owned(),
        Err(reason) => reason.clone(),
    };
    let ready = database.is_ok() && redis.as_ref().is_none_or(Result::is_ok);
    let mut checks = json!({ "database": describe(&database) });
    checks["redis"] = redis
        .as_ref()
        .map(describe)
        .unwrap_or_else(|| "not configured".into())
        .into();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    if !ready {
        tracing::warn!(%checks, "not ready");
    }
    (
        status,
        Json(json!({ "status": if ready { "ready" } else { "unavailable" }, "checks": checks })),
    )
}
