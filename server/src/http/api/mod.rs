//! The REST API under `/api`: JSON in and out, errors as `{"error":{"code","message",…}}`.
//! Every route is charged to the `Api` rate-limit tier; routes in a stricter tier say so where
//! they are declared.

mod auth;
mod me;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::{Router, middleware};

use super::error::{api_method_not_allowed, api_not_found, name_internal_errors};
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
        .merge(me::router())
        .fallback(api_not_found)
        .layer(middleware::from_fn(api_method_not_allowed))
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(middleware::from_fn(name_internal_errors))
        .layer(charge(Tier::Api))
}
