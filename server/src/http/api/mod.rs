//! The REST API under `/api`: JSON in and out, errors as `{"error":{"code","message",…}}`.
//! Every route counts against the `Api` rate-limit tier (charged outside the router, with the
//! error shaping in `error::api_errors`); routes in a stricter tier say so here.

mod auth;
mod connections;
mod me;
mod media;
pub mod posts;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::{Router, middleware};

use super::error::api_not_found;
use super::json::JSON_BODY_LIMIT;
use super::rate_limit::{Charge, RateLimiter, Tier, charge_tier};
use crate::state::AppState;

pub fn router(limiter: Arc<RateLimiter>) -> Router<AppState> {
    let charge = |tier| {
        middleware::from_fn_with_state(
            Charge {
                limiter: limiter.clone(),
                tier,
            },
            charge_tier,
        )
    };
    Router::new()
        .merge(auth::router().route_layer(charge(Tier::Auth)))
        .merge(connections::authorize_router().route_layer(charge(Tier::OAuth)))
        .merge(posts::create_router().route_layer(charge(Tier::Post)))
        .merge(me::router())
        .merge(connections::router())
        .merge(posts::router())
        .merge(media::router())
        .fallback(api_not_found)
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
}
