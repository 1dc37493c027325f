//! X (API v2, OAuth 2.0 user context), as `shared/platforms.md` section 4 describes it: OAuth
//! with PKCE and rotating refresh tokens, image upload, `POST /2/tweets`, reconciliation through
//! the account's recent posts, and the classification of X's answers. Nothing outside this file
//! knows an X URL or an X error body.
//!
//! Metrics: all five. `GET /2/tweets?ids=..` (up to 100 posts a call) with `public_metrics`
//! (impressions, likes, replies, retweets plus quotes as reposts) and `non_public_metrics`
//! (`url_link_clicks`), which X gives only to the author's own token and only for posts younger
//! than 30 days: exactly the posts metrics are read for.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use app::types::Platform;
use app::types::{Frame, Gallery, PreviewRules, Ratio, TextCounter};
use app::types::{X_MAX_WEIGHTED_LENGTH, fits_x, x_weighted_length};

use super::answers::retry_after;
use super::oauth::{self, ClientAuth, OAuthClient};
use super::{
    AccountProfile, AuthorizationStart, MetricKinds, MetricsReading, MetricsRequest, PlatformError,
    PostCheck, PostMetrics, PostProblem, Progress, PublishError, PublishOutcome, PublishRequest,
    Published, SocialPlatform, TokenSet, answers, join_url,
};
use crate::config::PlatformApp;

const SCOPES: [&str; 5] = [
    "tweet.read",
    "tweet.write",
    "users.read",
    "offline.access",
    "media.write",
];
/// `GET /2/tweets` takes this many ids at most.
const METRICS_BATCH: usize = 100;
/// X limits post lookups per user (15 in 15 minutes on its lowest paid tier); one call per
/// account covers a hundred posts, so this bounds the app's share across accounts.
const METRICS_CALLS_PER_ROUND: u32 = 50;
const MAX_IMAGES: usize = 4;
const MAX_IMAGE_BYTES: u64 = 5 * 1024 * 1024;
const MAX_GIF_BYTES: u64 = 15 * 1024 * 1024;
/// Reconciliation reads the account's posts since the earlier attempt, newest first, in pages
/// of this many (X's largest).
const RECONCILE_PAGE: u32 = 100;

pub struct XPlatform {
    oauth: OAuthClient,
    client_secret: SecretString,
    http: reqwest::Client,
    api_url: http::Uri,
    /// Where post links point: `{auth_url}/{handle}/status/{id}` (x.com, or the sandbox).
    web_url: http::Uri,
}

impl XPlatform {
    /// `None` when the operator has not configured X's credentials.
    pub fn from_config(app: &PlatformApp, http: reqwest::Client) -> Option<Self> {
        let credentials = app.credentials.as_ref()?;
        let oauth = oauth::client(
            credentials,
            join_url(&app.auth_url, "/i/oauth2/authorize"),
            join_url(&app.api_url, "/2/oauth2/token"),
            ClientAuth::Basic,
        );
        Some(Self {
            oauth,
            client_secret: credentials.client_secret.clone(),
            http,
            api_url: app.api_url.clone(),
            web_url: app.auth_url.clone(),
        })
    }

    fn api(&self, path: &str) -> String {
        join_url(&self.api_url, path)
    }

    fn post_url(&self, handle: &str, id: &str) -> String {
        join_url(&self.web_url, &format!("/{handle}/status/{id}"))
    }

    /// Sends a request and turns anything but a success into a classified error.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, PlatformError> {
        answers::send(Platform::X, request, classify).await
    }

    async fn read_json<T: DeserializeOwned>(
        response: reqwest::Response,
    ) -> Result<T, PlatformError> {
        answers::read_json(Platform::X, response).await
    }

    async fn upload_image(
        &self,
        token: &SecretString,
        mime: &str,
        bytes: Vec<u8>,
    ) -> Result<String, PlatformError> {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name("media")
            .mime_str(mime)
            .map_err(|_| PlatformError::permanent(format!("`{mime}` is not a media type")))?;
        let form = reqwest::multipart::Form::new()
            .part("media", part)
            .text("media_category", "tweet_image");
        let response = self
            .send(
                self.http
                    .post(self.api("/2/media/upload"))
                    .bearer_auth(token.expose_secret())
                    .multipart(form),
            )
            .await?;
        let uploaded: DataOf<MediaUploaded> = Self::read_json(response).await?;
        Ok(uploaded.data.id)
    }
}

#[derive(Deserialize)]
struct DataOf<T> {
    data: T,
}

#[derive(Deserialize)]
struct Me {
    id: String,
    username: String,
    name: Option<String>,
    profile_image_url: Option<String>,
}

#[derive(Deserialize)]
struct MediaUploaded {
    id: String,
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

#[derive(Deserialize)]
struct Recent {
    #[serde(default)]
    data: Vec<RecentPost>,
    #[serde(default)]
    meta: RecentMeta,
}

#[derive(Deserialize, Default)]
struct RecentMeta {
    next_token: Option<String>,
}

#[derive(Deserialize)]
struct RecentPost {
    id: String,
    text: String,
}

/// `GET /2/tweets`: the posts found; the ones not found come back under `errors`, which are
/// left unread (a deleted post simply has no numbers).
#[derive(Deserialize)]
struct Lookup {
    #[serde(default)]
    data: Vec<LookedUp>,
}

#[derive(Deserialize)]
struct LookedUp {
    id: String,
    #[serde(default)]
    public_metrics: Option<PublicMetrics>,
    #[serde(default)]
    non_public_metrics: Option<NonPublicMetrics>,
}

#[derive(Deserialize)]
struct PublicMetrics {
    #[serde(default)]
    impression_count: Option<i64>,
    #[serde(default)]
    like_count: Option<i64>,
    #[serde(default)]
    reply_count: Option<i64>,
    #[serde(default)]
    retweet_count: Option<i64>,
    #[serde(default)]
    quote_count: Option<i64>,
}

#[derive(Deserialize)]
struct NonPublicMetrics {
    #[serde(default)]
    impression_count: Option<i64>,
    #[serde(default)]
    url_link_clicks: Option<i64>,
}

impl LookedUp {
    fn metrics(&self) -> PostMetrics {
        let public = self.public_metrics.as_ref();
        let private = self.non_public_metrics.as_ref();
        let reposts = public.and_then(|public| match (public.retweet_count, public.quote_count) {
            (None, None) => None,
            (retweets, quotes) => Some(retweets.unwrap_or(0) + quotes.unwrap_or(0)),
        });
        PostMetrics {
            impressions: public
                .and_then(|public| public.impression_count)
                .or_else(|| private.and_then(|private| private.impression_count)),
            likes: public.and_then(|public| public.like_count),
            replies: public.and_then(|public| public.reply_count),
            reposts,
            // X leaves the field out of a post without a link: none were clicked.
            link_clicks: private.map(|private| private.url_link_clicks.unwrap_or(0)),
        }
    }
}

#[async_trait]
impl SocialPlatform for XPlatform {
    fn platform(&self) -> Platform {
        Platform::X
    }

    fn start_authorization(&self, redirect_uri: &str, state: &str) -> AuthorizationStart {
        oauth::authorize_with_pkce(&self.oauth, &SCOPES, redirect_uri, state, &[])
    }

    async fn exchange_code(
        &self,
        code: &str,
        pkce_verifier: &SecretString,
        redirect_uri: &str,
    ) -> Result<TokenSet, PlatformError> {
        oauth::exchange_code(
            Platform::X,
            &self.oauth,
            &self.http,
            code,
            pkce_verifier,
            redirect_uri,
            &SCOPES,
        )
        .await
    }

    async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, PlatformError> {
        oauth::refresh(Platform::X, &self.oauth, &self.http, refresh_token, &SCOPES).await
    }

    async fn revoke(&self, token: &SecretString) -> Result<(), PlatformError> {
        // By hand rather than through `oauth2`: it refuses revocation URLs that are not https,
        // and the sandbox and the test fakes answer on plain http at 127.0.0.1.
        let client_id = self.oauth.client_id().as_str();
        self.send(
            self.http
                .post(self.api("/2/oauth2/revoke"))
                .basic_auth(client_id, Some(self.client_secret.expose_secret()))
                .form(&[
                    ("token", token.expose_secret()),
                    ("token_type_hint", "refresh_token"),
                ]),
        )
        .await
        .map(|_| ())
    }

    async fn account(&self, access_token: &SecretString) -> Result<AccountProfile, PlatformError> {
        let response = self
            .send(
                self.http
                    .get(self.api("/2/users/me"))
                    .query(&[("user.fields", "profile_image_url")])
                    .bearer_auth(access_token.expose_secret()),
            )
            .await?;
        let me: DataOf<Me> = Self::read_json(response).await?;
        Ok(AccountProfile {
            account_id: me.data.id,
            handle: me.data.username,
            display_name: me.data.name,
            avatar_url: me.data.profile_image_url,
        })
    }

    /// X's own advice: one or two hashtags; more reads as spam.
    fn caption_hashtags(&self) -> usize {
        2
    }

    fn preview_rules(&self, post: &PostCheck<'_>) -> PreviewRules {
        // X shows a whole post, photos of ordinary shapes uncropped, several in a grid.
        PreviewRules {
            counter: TextCounter::characters(x_weighted_length(post.text), X_MAX_WEIGHTED_LENGTH),
            fold: None,
            frame: Frame {
                tallest: Ratio(3, 4),
                widest: Ratio(2, 1),
                crops: true,
            },
            gallery: Gallery::Grid,
        }
    }

    fn check_post(&self, post: &PostCheck<'_>) -> Result<(), PostProblem> {
        let PostCheck { text, media, .. } = *post;
        if text.trim().is_empty() && media.is_empty() {
            return Err(PostProblem::Text(
                "A post on X needs text or an image.".into(),
            ));
        }
        if !fits_x(text) {
            return Err(PostProblem::Text(format!(
                "The text is {} characters as X counts them; X allows {X_MAX_WEIGHTED_LENGTH}.",
                x_weighted_length(text)
            )));
        }
        if media.len() > MAX_IMAGES {
            return Err(PostProblem::Media(format!(
                "X takes at most {MAX_IMAGES} images per post; this one has {}.",
                media.len()
            )));
        }
        for file in media {
            let limit = if file.mime == "image/gif" {
                MAX_GIF_BYTES
            } else {
                MAX_IMAGE_BYTES
            };
            if !file.mime.starts_with("image/") {
                return Err(PostProblem::Media("X posts here take images only.".into()));
            }
            if file.bytes > limit {
                return Err(PostProblem::Media(format!(
                    "X takes images up to {} MB; one is {:.1} MB.",
                    limit / (1024 * 1024),
                    file.bytes as f64 / (1024.0 * 1024.0)
                )));
            }
        }
        Ok(())
    }

    async fn publish(
        &self,
        request: PublishRequest<'_>,
        progress: &mut dyn Progress,
    ) -> Result<PublishOutcome, PublishError> {
        let mut media_ids = Vec::with_capacity(request.media.len());
        for (index, file) in request.media.iter().enumerate() {
            let bytes = file.bytes().await?;
            let id = self
                .upload_image(request.access_token, &file.mime, bytes)
                .await?;
            progress.step(format!("image {} uploaded to X (media {id})", index + 1));
            media_ids.push(id);
        }
        let mut body = serde_json::json!({ "text": request.text });
        if !media_ids.is_empty() {
            body["media"] = serde_json::json!({ "media_ids": media_ids });
        }
        let response = self
            .send(
                self.http
                    .post(self.api("/2/tweets"))
                    .bearer_auth(request.access_token.expose_secret())
                    .json(&body),
            )
            .await?;
        let status = response.status();
        let created: DataOf<Created> = Self::read_json(response).await?;
        progress.step(format!(
            "X answered {status}: post {} created",
            created.data.id
        ));
        Ok(PublishOutcome::Published(Published {
            url: self.post_url(request.handle, &created.data.id),
            external_id: created.data.id,
        }))
    }

    async fn find_published(
        &self,
        request: PublishRequest<'_>,
        since: DateTime<Utc>,
    ) -> Result<Option<Published>, PlatformError> {
        let path = format!("/2/users/{}/tweets", request.account_id);
        // X rewrites links to t.co, so compare the text with links set aside. Its clock and
        // ours may differ by a little: look from a minute before the earlier attempt.
        let wanted = without_links(request.text);
        let start_time = (since - chrono::Duration::minutes(1))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let page_size = RECONCILE_PAGE.to_string();
        let found = answers::find_since(
            Platform::X,
            since,
            |page_token: Option<String>| {
                let (path, page_size, start_time) = (&path, &page_size, &start_time);
                async move {
                    let mut query = vec![
                        ("max_results", page_size.as_str()),
                        ("tweet.fields", "text"),
                        ("start_time", start_time.as_str()),
                    ];
                    if let Some(token) = &page_token {
                        query.push(("pagination_token", token.as_str()));
                    }
                    let response = self
                        .send(
                            self.http
                                .get(self.api(path))
                                .query(&query)
                                .bearer_auth(request.access_token.expose_secret()),
                        )
                        .await?;
                    let recent: Recent = Self::read_json(response).await?;
                    Ok((recent.data, recent.meta.next_token))
                }
            },
            // X filters by `start_time` itself.
            |_: &RecentPost| None,
            |post: &RecentPost| without_links(&post.text) == wanted,
        )
        .await?;
        Ok(found.map(|post| Published {
            url: self.post_url(request.handle, &post.id),
            external_id: post.id,
        }))
    }

    fn metrics(&self, _account_id: &str) -> Option<MetricsReading> {
        Some(MetricsReading {
            gives: MetricKinds {
                impressions: true,
                likes: true,
                replies: true,
                reposts: true,
                link_clicks: true,
            },
            batch: METRICS_BATCH,
            calls_per_round: METRICS_CALLS_PER_ROUND,
        })
    }

    async fn post_metrics(
        &self,
        request: MetricsRequest<'_>,
    ) -> Result<BTreeMap<String, PostMetrics>, PlatformError> {
        if request.external_ids.is_empty() {
            return Ok(BTreeMap::new());
        }
        let ids = request.external_ids.join(",");
        let response = self
            .send(
                self.http
                    .get(self.api("/2/tweets"))
                    .query(&[
                        ("ids", ids.as_str()),
                        ("tweet.fields", "public_metrics,non_public_metrics"),
                    ])
                    .bearer_auth(request.access_token.expose_secret()),
            )
            .await?;
        let lookup: Lookup = Self::read_json(response).await?;
        Ok(lookup
            .data
            .iter()
            .map(|post| (post.id.clone(), post.metrics()))
            .collect())
    }
}

#[derive(Deserialize, Default)]
struct Problem {
    #[serde(default)]
    title: String,
    #[serde(default)]
    detail: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    errors: Vec<ProblemItem>,
}

#[derive(Deserialize)]
struct ProblemItem {
    #[serde(default)]
    message: String,
}

impl Problem {
    /// The most specific message X gave.
    fn message(&self) -> String {
        self.errors
            .iter()
            .map(|item| item.message.as_str())
            .find(|message| !message.is_empty())
            .or(Some(self.detail.as_str()).filter(|detail| !detail.is_empty()))
            .unwrap_or(self.title.as_str())
            .chars()
            .take(300)
            .collect()
    }
}

/// Sorts an unsuccessful answer from X into the closed set of outcomes.
pub fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    now: DateTime<Utc>,
) -> PlatformError {
    let problem: Problem = serde_json::from_str(body).unwrap_or_default();
    let message = problem.message();
    let lower = message.to_lowercase();
    match status.as_u16() {
        429 if problem.kind.contains("usage-capped") => PlatformError::permanent(
            "X says this app's monthly post cap is used up: posting works again when the cap resets. Retry then.",
        ),
        429 => PlatformError::Retryable {
            wait: rate_limit_wait(headers, now),
            maybe_done: false,
            detail: "X's rate limit was reached".into(),
        },
        401 => PlatformError::Reauth {
            detail: "X no longer accepts this account's authorization".into(),
        },
        403 if lower.contains("duplicate content") => PlatformError::permanent(
            "X refused the post as duplicate content: edit the text and retry.",
        ),
        403 if lower.contains("suspended") => {
            PlatformError::permanent("X says this account is suspended.")
        }
        500..=599 => PlatformError::Retryable {
            wait: retry_after(headers),
            maybe_done: false,
            detail: format!("X had a server error ({})", status.as_u16()),
        },
        _ if message.is_empty() => {
            PlatformError::permanent(format!("X refused the post ({}).", status.as_u16()))
        }
        _ => PlatformError::permanent(format!("X refused the post: {message}")),
    }
}

/// How long until `x-rate-limit-reset` (unix seconds), if X said.
fn rate_limit_wait(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let reset: i64 = headers
        .get("x-rate-limit-reset")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let wait = reset.saturating_sub(now.timestamp()).max(0);
    Some(Duration::from_secs(wait.unsigned_abs())).or_else(|| retry_after(headers))
}

/// The text with every http(s) link removed and spaces collapsed.
fn without_links(text: &str) -> String {
    text.split_whitespace()
        .filter(|word| !(word.starts_with("http://") || word.starts_with("https://")))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn a_rate_limit_waits_until_the_reset() {
        let now = Utc::now();
        let reset = (now.timestamp() + 90).to_string();
        let error = classify(
            StatusCode::TOO_MANY_REQUESTS,
            &headers(&[("x-rate-limit-reset", &reset)]),
            r#"{"title":"Too Many Requests","status":429}"#,
            now,
        );
        let PlatformError::Retryable {
            wait, maybe_done, ..
        } = error
        else {
            panic!("{error:?}")
        };
        assert_eq!(wait, Some(Duration::from_secs(90)));
        assert!(!maybe_done);
    }

    #[test]
    fn duplicates_usage_caps_and_validation_fail_with_a_reason() {
        let now = Utc::now();
        let duplicate = classify(
            StatusCode::FORBIDDEN,
            &HeaderMap::new(),
            r#"{"detail":"You are not allowed to create a Tweet with duplicate content.","status":403}"#,
            now,
        );
        assert_eq!(
            duplicate,
            PlatformError::permanent(
                "X refused the post as duplicate content: edit the text and retry."
            )
        );
        let capped = classify(
            StatusCode::TOO_MANY_REQUESTS,
            &HeaderMap::new(),
            r#"{"type":"https://api.twitter.com/2/problems/usage-capped","title":"UsageCapExceeded"}"#,
            now,
        );
        assert!(matches!(capped, PlatformError::Permanent { .. }));
        let invalid = classify(
            StatusCode::BAD_REQUEST,
            &HeaderMap::new(),
            r#"{"type":"https://api.twitter.com/2/problems/invalid-request","errors":[{"message":"The Tweet contains an invalid URL."}]}"#,
            now,
        );
        assert_eq!(
            invalid,
            PlatformError::permanent("X refused the post: The Tweet contains an invalid URL.")
        );
    }

    #[test]
    fn auth_failures_ask_for_a_reconnect_and_server_errors_retry() {
        let now = Utc::now();
        assert!(matches!(
            classify(StatusCode::UNAUTHORIZED, &HeaderMap::new(), "", now),
            PlatformError::Reauth { .. }
        ));
        assert!(matches!(
            classify(
                StatusCode::SERVICE_UNAVAILABLE,
                &HeaderMap::new(),
                "oops",
                now
            ),
            PlatformError::Retryable { .. }
        ));
    }

    #[test]
    fn metrics_count_quotes_as_reposts_and_a_linkless_post_as_unclicked() {
        let lookup: Lookup = serde_json::from_str(
            r#"{"data":[
                {"id":"1","public_metrics":{"impression_count":900,"like_count":30,"reply_count":4,"retweet_count":5,"quote_count":2},"non_public_metrics":{"impression_count":900}},
                {"id":"2","public_metrics":{"like_count":3,"reply_count":0}}
            ],"errors":[{"resource_id":"3","title":"Not Found Error"}]}"#,
        )
        .unwrap();
        assert_eq!(
            lookup.data[0].metrics(),
            PostMetrics {
                impressions: Some(900),
                likes: Some(30),
                replies: Some(4),
                reposts: Some(7),
                link_clicks: Some(0),
            }
        );
        let without_private = lookup.data[1].metrics();
        assert_eq!(without_private.impressions, None);
        assert_eq!(without_private.reposts, None);
        assert_eq!(without_private.link_clicks, None);
    }

    #[test]
    fn links_do_not_stop_a_reconciliation_match() {
        assert_eq!(
            without_links("New mugs https://shop.example/mugs  today"),
            without_links("New mugs https://t.co/abc123 today")
        );
    }
}
