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
    Err(refusal(response, classify).await)
}

/// [`send`] for a read of something that may be gone: a 404 is `None`, not an error, so a post
/// deleted on the platform drops out of what is read instead of failing the whole read.
pub async fn send_unless_gone(
    platform: Platform,
    request: reqwest::RequestBuilder,
    classify: Classifier,
) -> Result<Option<reqwest::Response>, PlatformError> {
    let response = request
        .send()
        .await
        .map_err(|error| PlatformError::from_transport(platform, &error))?;
    if response.status() == StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if response.status().is_success() {
        return Ok(Some(response));
    }
    Err(refusal(response, classify).await)
}

/// An unsuccessful answer, sorted by the platform's classifier.
async fn refusal(response: reqwest::Response, classify: Classifier) -> PlatformError {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap_or_default();
    classify(status, &headers, &body, Utc::now())
}

/// How often an attempt looks at a platform's processing before it hands the post back to the
/// pipeline, which then comes back at the platform's own pace.
pub const QUICK_CHECKS: u32 = 3;
pub const QUICK_CHECK_EVERY: Duration = Duration::from_secs(2);

/// Reads a platform's processing status now and up to [`QUICK_CHECKS`] more times,
/// [`QUICK_CHECK_EVERY`] apart, until `read` says it is over (`Some`, or an error): most media
/// is ready within seconds, and an attempt that waits that long saves the post a later turn.
/// `None` when the platform still works on it.
pub async fn check_a_few_times<T, Read, Reading>(mut read: Read) -> Result<Option<T>, PlatformError>
where
    Read: FnMut() -> Reading,
    Reading: Future<Output = Result<Option<T>, PlatformError>>,
{
    for check in 0..=QUICK_CHECKS {
        if check > 0 {
            tokio::time::sleep(QUICK_CHECK_EVERY).await;
        }
        if let Some(done) = read().await? {
            return Ok(Some(done));
        }
    }
    Ok(None)
}

/// How many pages of an account's posts a lost answer is looked for in.
pub const RECONCILE_PAGES: usize = 10;

/// Looks through an account's posts, newest first, a page at a time, for the one `is_ours`
/// picks among those made since `since` (a minute earlier, for the two clocks), until a page
/// reaches older posts or the platform has no more. A busy account may have published dozens of
/// posts between a lost answer and this look, so the first page is not enough; after
/// [`RECONCILE_PAGES`] pages without reaching older posts, whether ours is among the rest is not
/// known, and saying "not found" would post it twice, so that is a retryable error that may
/// have been done. `fetch` reads the page at a cursor (`None`: the first) and answers its posts
/// and the next page's cursor; `made_at` is `None` for a platform that filters by time itself.
pub async fn find_since<T, Cursor, Fetch, Fetching>(
    platform: Platform,
    since: DateTime<Utc>,
    mut fetch: Fetch,
    made_at: impl Fn(&T) -> Option<DateTime<Utc>>,
    is_ours: impl Fn(&T) -> bool,
) -> Result<Option<T>, PlatformError>
where
    Fetch: FnMut(Option<Cursor>) -> Fetching,
    Fetching: Future<Output = Result<(Vec<T>, Option<Cursor>), PlatformError>>,
{
    let from = since - chrono::Duration::minutes(1);
    let mut cursor = None;
    for _ in 0..RECONCILE_PAGES {
        let (posts, next) = fetch(cursor).await?;
        let reached_older = posts
            .iter()
            .any(|post| made_at(post).is_some_and(|at| at < from));
        if let Some(found) = posts
            .into_iter()
            .find(|post| made_at(post).is_none_or(|at| at >= from) && is_ours(post))
        {
            return Ok(Some(found));
        }
        match next {
            Some(next) if !reached_older => cursor = Some(next),
            _ => return Ok(None),
        }
    }
    Err(PlatformError::Retryable {
        wait: None,
        maybe_done: true,
        detail: format!(
            "{} shows more than {RECONCILE_PAGES} pages of posts since the last attempt, so whether it went out is not known yet",
            platform.display_name()
        ),
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Pages of five posts, newest first, one a minute, the newest made at `newest`.
    fn page_of(newest: DateTime<Utc>, page: usize) -> Vec<(usize, DateTime<Utc>)> {
        (page * 5..page * 5 + 5)
            .map(|n| (n, newest - chrono::Duration::minutes(n as i64)))
            .collect()
    }

    #[tokio::test]
    async fn ours_is_found_pages_back() {
        let now = Utc::now();
        let found = find_since(
            Platform::X,
            now - chrono::Duration::hours(1),
            |cursor: Option<usize>| async move {
                let page = cursor.unwrap_or(0);
                Ok((page_of(now, page), Some(page + 1)))
            },
            |post: &(usize, DateTime<Utc>)| Some(post.1),
            |post: &(usize, DateTime<Utc>)| post.0 == 12,
        )
        .await
        .unwrap();
        assert_eq!(found.map(|post| post.0), Some(12));
    }

    #[tokio::test]
    async fn older_posts_end_the_look() {
        let now = Utc::now();
        let mut pages_read = 0;
        let found = find_since(
            Platform::X,
            now - chrono::Duration::minutes(6),
            |cursor: Option<usize>| {
                pages_read += 1;
                async move {
                    let page = cursor.unwrap_or(0);
                    Ok((page_of(now, page), Some(page + 1)))
                }
            },
            |post: &(usize, DateTime<Utc>)| Some(post.1),
            |post: &(usize, DateTime<Utc>)| post.0 == 30,
        )
        .await
        .unwrap();
        assert_eq!(found, None);
        assert_eq!(
            pages_read, 2,
            "the second page reaches posts older than the look"
        );
    }

    #[tokio::test]
    async fn more_pages_than_are_read_leave_the_outcome_unknown() {
        let now = Utc::now();
        let answer = find_since(
            Platform::Linkedin,
            now - chrono::Duration::days(1),
            |cursor: Option<usize>| async move {
                let page = cursor.unwrap_or(0);
                Ok((page_of(now, page), Some(page + 1)))
            },
            |post: &(usize, DateTime<Utc>)| Some(post.1),
            |_: &(usize, DateTime<Utc>)| false,
        )
        .await;
        match answer {
            Err(PlatformError::Retryable {
                maybe_done: true,
                detail,
                ..
            }) => assert!(
                detail.starts_with("LinkedIn shows more than 10 pages"),
                "{detail}"
            ),
            other => panic!("not found must not be said: {other:?}"),
        }
    }
}
