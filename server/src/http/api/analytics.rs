//! Product analytics: `POST /api/analytics/track` (a batch of named events, in the `Analytics`
//! rate-limit tier besides `Api`) and `GET /api/analytics/summary` (the person's counts per
//! event and day). What may be recorded is decided in `analytics::events`, not here.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};

use app::types::{AnalyticsSummary, SummaryQuery, TrackAccepted, TrackBatch};

use crate::http::error::HttpError;
use crate::http::extract::{ApiQuery, AuthUser};
use crate::http::json::ApiJson;
use crate::state::AppState;

/// The routes of the `Analytics` tier.
pub fn track_router() -> Router<AppState> {
    Router::new().route("/analytics/track", post(track))
}

/// The routes of the `Api` tier.
pub fn router() -> Router<AppState> {
    Router::new().route("/analytics/summary", get(summary))
}

/// Records 1 to 50 events, all or none. Each is a name from the server's list with its own
/// properties (`page_viewed` with `{"page": "calendar"}`, say), each a name from a short list,
/// a bounded whole number or a boolean; `at` may be up to 24 hours ago or 5 minutes ahead and
/// is now when absent. One wrong event refuses the batch with 422, naming it as `events[i]`.
#[utoipa::path(post, path = "/api/analytics/track", tag = "analytics", security(("bearer" = [])),
    request_body = TrackBatch,
    responses((status = 202, body = TrackAccepted),
        (status = 400, description = "The body is not a batch of events", body = crate::http::openapi::ErrorBody),
        (status = 401, body = crate::http::openapi::ErrorBody),
        (status = 422, description = "An event, a property or a time is not accepted; nothing was stored", body = crate::http::openapi::ErrorBody),
        (status = 429, body = crate::http::openapi::ErrorBody)))]
async fn track(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiJson(batch): ApiJson<TrackBatch>,
) -> Result<(StatusCode, Json<TrackAccepted>), HttpError> {
    let accepted = state.analytics.track(&who.user, &batch).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

/// The person's events counted per name and day, days in their time zone: by default the last
/// 30 days up to today, at most 366. Days without events are left out.
#[utoipa::path(get, path = "/api/analytics/summary", tag = "analytics", security(("bearer" = [])),
    params(("from" = Option<String>, Query, description = "First day, `YYYY-MM-DD` (default: 29 days before `to`)"),
        ("to" = Option<String>, Query, description = "Last day, `YYYY-MM-DD` (default: today)")),
    responses((status = 200, body = AnalyticsSummary),
        (status = 400, description = "A day is not written `YYYY-MM-DD`", body = crate::http::openapi::ErrorBody),
        (status = 401, body = crate::http::openapi::ErrorBody),
        (status = 422, description = "The range ends before it starts or is longer than 366 days", body = crate::http::openapi::ErrorBody)))]
async fn summary(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiQuery(asked): ApiQuery<SummaryQuery>,
) -> Result<Json<AnalyticsSummary>, HttpError> {
    Ok(Json(state.analytics.summary(&who.user, asked).await?))
}
