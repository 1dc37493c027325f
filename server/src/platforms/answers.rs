//! Sending a platform request and reading its answer, the same way for every platform: a
//! transport failure or an unreadable success says whether the call may have taken effect, and
//! an unsuccessful answer goes to the platform's own classifier.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

use app::types::Platform;

use super::PlatformError;

/// A platform's sorting of an unsuccessful answer: status, headers, body, now.
pub type Classifier = fn(StatusCode, &HeaderMap, &str, DateTime<Utc>) -> PlatformError;

/// Sends `request`; anything but a 2xx becomes `classify`'s error.
pub async fn send(
    platform: Platform,
    request: reqwest::RequestBuilder,
    classify: Classifier,
) -> Result<reqwest::Response, PlatformError> {
    let response = request
        .send()
        .await
        .map_err(|error| PlatformError::from_transport(platform, &error))?;
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap_or_default();
    Err(classify(status, &headers, &body, Utc::now()))
}

/// Reads a successful answer as JSON. The call succeeded, so an answer that cannot be read
/// means we do not know what the platform did.
pub async fn read_json<T: DeserializeOwned>(
    platform: Platform,
    response: reqwest::Response,
) -> Result<T, PlatformError> {
    response
        .json()
        .await
        .map_err(|error| PlatformError::Retryable {
            wait: None,
            maybe_done: true,
            detail: format!(
                "{}'s answer could not be read: {}",
                platform.display_name(),
                without_url(platform, &error)
            ),
        })
}

/// `Retry-After` in seconds, if the platform sent it.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: u64 = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs))
}

/// reqwest's error text with the URL (which may carry ids in its query) replaced by the
/// platform's name.
fn without_url(platform: Platform, error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    if let Some(url) = error.url() {
        message = message.replace(url.as_str(), platform.display_name());
    }
    message
}
