//! Server functions of the Analytics page.

use leptos::prelude::*;

use crate::types::{AnalyticsOverview, ApiError};

#[cfg(feature = "ssr")]
use super::ssr::{post_analytics, require_session, respond};

/// What the person's published posts did over the last `range_days` days (1 to 365).
#[server(prefix = "/rpc", endpoint = "analytics/overview")]
pub async fn load_analytics(range_days: u32) -> Result<AnalyticsOverview, ApiError> {
    let analytics = post_analytics();
    respond(
        async {
            let who = require_session().await?;
            analytics.overview(&who.user, range_days).await
        }
        .await,
    )
}
