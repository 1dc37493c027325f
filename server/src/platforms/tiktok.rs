//! TikTok (Login Kit v2 and the Content Posting API), as `shared/platforms.md` section 3
//! describes it: OAuth with PKCE and `client_key`, the creator's own privacy levels and
//! interaction switches read from `creator_info` before each post, a video sent in chunks
//! (`FILE_UPLOAD`) or downloaded by TikTok (`PULL_FROM_URL`), photos downloaded by TikTok, the
//! `publish_id` followed through its statuses, and reconciliation through the user's videos.
//! Nothing outside this file knows a TikTok URL or error body.
//!
//! The init call is the commit point: its `publish_id` is saved before anything else, and every
//! later attempt follows that publish (resuming its upload where TikTok's `uploaded_bytes`
//! says) instead of starting another.
//!
//! Metrics: views (counted as impressions), likes, comments as replies and shares as reposts,
//! from `POST /v2/video/query/` (scope `video.list`), up to 20 posts a call. TikTok reports no
//! link clicks. A post recorded by its `publish_id` (still in review when it was recorded, or
//! sent to the creator's inbox) has no post id to ask about, so it has no numbers.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use oauth2::PkceCodeChallenge;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_RANGE, CONTENT_TYPE, HeaderMap};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use app::types::{Fold, Frame, Gallery, PreviewRules, Ratio, TextCounter};
use app::types::{OptionChoice, OptionField, Platform, TargetOptions};

use super::answers::{self, QUICK_CHECK_EVERY, QUICK_CHECKS, retry_after};
use super::oauth::TokenAnswer;
use super::{
    AccountProfile, AuthorizationStart, MediaFile, MediaPull, MetricKinds, MetricsReading,
    MetricsRequest, PlatformError, PostCheck, PostMetrics, PostProblem, Progress, PublishError,
    PublishOutcome, PublishRequest, Published, SocialPlatform, TokenSet, join_url,
};
use crate::config::{ClientCredentials, PkceChallenge, PlatformApp, TikTokVideoSource};

const SCOPES: [&str; 4] = [
    "user.info.basic",
    "video.publish",
    "video.upload",
    // Reconciliation reads the user's videos.
    "video.list",
];
const MAX_VIDEO_TITLE_CHARS: usize = 2200;
const MAX_PHOTO_TITLE_CHARS: usize = 90;
const MAX_PHOTO_DESCRIPTION_CHARS: usize = 4000;
/// platforms.md gives 35 photos, unverified; kept as the limit until TikTok says otherwise.
const MAX_PHOTOS: usize = 35;
/// TikTok's media transfer guide: files under 5 MB go in one chunk...
const SINGLE_CHUNK_BELOW: u64 = 5_000_000;
/// ...larger ones in chunks of 5 to 64 MB; this size keeps a chunk in memory cheaply and a
/// gigabyte under a hundred requests.
const CHUNK_BYTES: u64 = 10 * 1024 * 1024;
const CHUNK_TIMEOUT: Duration = Duration::from_secs(600);
/// How soon a publish still uploading, downloading or in review is checked again. Status
/// fetches are limited to 30 a minute per user.
const STATUS_CHECK: Duration = Duration::from_secs(20);
/// A post TikTok has published but not yet shown (moderation) is waited for this long; after
/// that it is recorded with the profile's address, as its own is not known.
const MODERATION_WAIT: chrono::Duration = chrono::Duration::minutes(30);
/// Reconciliation reads this many of the user's newest videos.
const RECONCILE_VIDEOS: u32 = 20;
/// `/v2/video/query/` takes at most this many ids.
const METRICS_BATCH: usize = 20;
/// TikTok does not document this endpoint's limit; a modest share a round.
const METRICS_CALLS_PER_ROUND: u32 = 50;
const METRICS_FIELDS: &str = "id,view_count,like_count,comment_count,share_count";
const OPTION_NAMES: [&str; 6] = [
    "privacy_level",
    "allow_comments",
    "allow_duet",
    "allow_stitch",
    "commercial_content",
    "title",
];
const PRIVACY_LABELS: [(&str, &str); 4] = [
    ("PUBLIC_TO_EVERYONE", "Everyone"),
    ("MUTUAL_FOLLOW_FRIENDS", "Friends"),
    ("FOLLOWER_OF_CREATOR", "Followers"),
    ("SELF_ONLY", "Only me"),
];

pub struct TikTokPlatform {
    credentials: ClientCredentials,
    auth_url: http::Uri,
    api_url: http::Uri,
    /// Where post links point: `{auth_url}/@{user}/video/{id}` (tiktok.com, or the sandbox).
    web_url: http::Uri,
    video_source: TikTokVideoSource,
    pkce_challenge: PkceChallenge,
    http: reqwest::Client,
}

/// A post's choices, read from the target's options.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TikTokOptions {
    privacy_level: String,
    allow_comments: bool,
    allow_duet: bool,
    allow_stitch: bool,
    /// `own_brand` (brand_organic_toggle) or `branded` (brand_content_toggle).
    commercial: Option<String>,
    /// A photo post's title.
    title: Option<String>,
}

impl TikTokOptions {
    fn read(options: &TargetOptions) -> Result<Self, String> {
        if let Some(unknown) = options
            .keys()
            .find(|name| !OPTION_NAMES.contains(&name.as_str()))
        {
            return Err(format!(
                "TikTok has no option `{unknown}`; a post takes privacy_level, allow_comments, allow_duet, allow_stitch, commercial_content and title."
            ));
        }
        let value = |name: &str| {
            options
                .get(name)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
        };
        let switch = |name: &str| -> Result<bool, String> {
            match value(name) {
                None | Some("false") => Ok(false),
                Some("true") => Ok(true),
                Some(other) => Err(format!("`{name}` is true or false, not `{other}`.")),
            }
        };
        let privacy_level = value("privacy_level")
            .ok_or("Choose who can see the post on TikTok (option `privacy_level`).")?;
        if !PRIVACY_LABELS
            .iter()
            .any(|(level, _)| *level == privacy_level)
        {
            return Err(format!(
                "`{privacy_level}` is not a TikTok privacy level; choose one of the account's."
            ));
        }
        let commercial = match value("commercial_content") {
            None | Some("none") => None,
            Some(kind @ ("own_brand" | "branded")) => Some(kind.to_owned()),
            Some(other) => {
                return Err(format!(
                    "`{other}` is not a kind of commercial content; choose none, own_brand or branded."
                ));
            }
        };
        if commercial.as_deref() == Some("branded") && privacy_level == "SELF_ONLY" {
            return Err(
                "TikTok does not allow branded content to be private: choose who can see it."
                    .into(),
            );
        }
        let title = value("title").map(str::to_owned);
        if let Some(title) = &title
            && title.chars().count() > MAX_PHOTO_TITLE_CHARS
        {
            return Err(format!(
                "A TikTok photo post's title may be {MAX_PHOTO_TITLE_CHARS} characters; this one is {}.",
                title.chars().count()
            ));
        }
        Ok(Self {
            privacy_level: privacy_level.to_owned(),
            allow_comments: switch("allow_comments")?,
            allow_duet: switch("allow_duet")?,
            allow_stitch: switch("allow_stitch")?,
            commercial,
            title,
        })
    }

    /// `post_info`'s shared fields.
    fn post_info(&self, creator: &CreatorInfo) -> Value {
        json!({
            "privacy_level": self.privacy_level,
            "disable_comment": creator.comment_disabled || !self.allow_comments,
            "brand_organic_toggle": self.commercial.as_deref() == Some("own_brand"),
            "brand_content_toggle": self.commercial.as_deref() == Some("branded"),
        })
    }
}

/// What a publish has reached, kept on the target between attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Saved {
    publish_id: String,
    /// `FILE_UPLOAD`: where the chunks go, their size and the file's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    upload: Option<Upload>,
    /// When TikTok first said "complete" without showing the post (moderation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    complete_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Upload {
    url: String,
    chunk_size: u64,
    total: u64,
}

impl Saved {
    fn read(saved: Option<&Value>) -> Option<Self> {
        serde_json::from_value(saved?.clone()).ok()
    }

    fn json(&self) -> Value {
        serde_json::to_value(self).expect("a publish's progress is plain data")
    }
}

/// `POST /v2/post/publish/creator_info/query/`'s `data`.
#[derive(Debug, Deserialize)]
struct CreatorInfo {
    #[serde(default)]
    privacy_level_options: Vec<String>,
    #[serde(default)]
    comment_disabled: bool,
    #[serde(default)]
    duet_disabled: bool,
    #[serde(default)]
    stitch_disabled: bool,
    #[serde(default)]
    max_video_post_duration_sec: Option<u64>,
}

#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

#[derive(Deserialize)]
struct UserData {
    user: User,
}

#[derive(Deserialize)]
struct User {
    open_id: String,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    avatar_url: Option<String>,
}

#[derive(Deserialize)]
struct Initiated {
    publish_id: String,
    #[serde(default)]
    upload_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Status {
    status: String,
    #[serde(default)]
    fail_reason: Option<String>,
    #[serde(default, rename = "publicaly_available_post_id")]
    post_ids: Vec<Value>,
    #[serde(default)]
    uploaded_bytes: u64,
}

#[derive(Deserialize)]
struct VideoList {
    #[serde(default)]
    videos: Vec<ListedVideo>,
    /// Where the next page starts, when `has_more`.
    #[serde(default)]
    cursor: Option<i64>,
    #[serde(default)]
    has_more: bool,
}

#[derive(Deserialize)]
struct ListedVideo {
    id: Value,
    #[serde(default)]
    create_time: Option<i64>,
    #[serde(default)]
    title: Option<String>,
    /// A video's caption, or a photo post's description: where the post's text went.
    #[serde(default)]
    video_description: Option<String>,
}

/// `POST /v2/video/query/`'s `data`.
#[derive(Deserialize)]
struct QueriedVideos {
    #[serde(default)]
    videos: Vec<QueriedVideo>,
}

#[derive(Deserialize)]
struct QueriedVideo {
    id: Value,
    #[serde(default)]
    view_count: Option<i64>,
    #[serde(default)]
    like_count: Option<i64>,
    #[serde(default)]
    comment_count: Option<i64>,
    #[serde(default)]
    share_count: Option<i64>,
}

impl QueriedVideo {
    fn metrics(&self) -> PostMetrics {
        PostMetrics {
            impressions: self.view_count,
            likes: self.like_count,
            replies: self.comment_count,
            reposts: self.share_count,
            link_clicks: None,
        }
    }
}

/// Whether an external id is a TikTok post id (an int64) rather than a `publish_id`.
fn is_post_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|byte| byte.is_ascii_digit())
}

/// An id TikTok writes as a number or a string.
fn id_text(id: &Value) -> Option<String> {
    match id {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

impl TikTokPlatform {
    /// `None` when the operator has not configured TikTok's credentials.
    pub fn from_config(
        app: &PlatformApp,
        video_source: TikTokVideoSource,
        pkce_challenge: PkceChallenge,
        http: reqwest::Client,
    ) -> Option<Self> {
        Some(Self {
            credentials: app.credentials.clone()?,
            auth_url: app.auth_url.clone(),
            api_url: app.api_url.clone(),
            web_url: app.auth_url.clone(),
            video_source,
            pkce_challenge,
            http,
        })
    }

    fn api(&self, path: &str) -> String {
        join_url(&self.api_url, path)
    }

    fn post_url(&self, handle: &str, id: &str) -> String {
        join_url(&self.web_url, &format!("/@{handle}/video/{id}"))
    }

    fn profile_url(&self, handle: &str) -> String {
        join_url(&self.web_url, &format!("/@{handle}"))
    }

    async fn read_json<T: DeserializeOwned>(
        response: reqwest::Response,
    ) -> Result<T, PlatformError> {
        answers::read_json(Platform::Tiktok, response).await
    }

    /// A JSON call with the user's token, answering TikTok's `{data, error}` envelope.
    async fn call<T: DeserializeOwned>(
        &self,
        token: &SecretString,
        path: &str,
        query: &[(&str, &str)],
        body: &Value,
    ) -> Result<T, PlatformError> {
        let request = self
            .http
            .post(self.api(path))
            .query(query)
            .bearer_auth(token.expose_secret())
            .header(CONTENT_TYPE, "application/json; charset=UTF-8")
            .json(body);
        let response = answers::send(Platform::Tiktok, request, classify).await?;
        let envelope: Envelope<T> = Self::read_json(response).await?;
        Ok(envelope.data)
    }

    /// One call to the token endpoint: TikTok wants `client_key` (not `client_id`) in the
    /// form, which the `oauth2` crate cannot send.
    async fn token_request(&self, form: &[(&str, &str)]) -> Result<TokenSet, PlatformError> {
        let mut fields = vec![
            ("client_key", self.credentials.client_id.as_str()),
            (
                "client_secret",
                self.credentials.client_secret.expose_secret(),
            ),
        ];
        fields.extend_from_slice(form);
        let request = self.http.post(self.api("/v2/oauth/token/")).form(&fields);
        let response = answers::send(Platform::Tiktok, request, classify_token).await?;
        let answer: TokenAnswer = Self::read_json(response).await?;
        Ok(answer.into_tokens(&SCOPES))
    }

    async fn creator_info(&self, token: &SecretString) -> Result<CreatorInfo, PlatformError> {
        self.call(
            token,
            "/v2/post/publish/creator_info/query/",
            &[],
            &json!({}),
        )
        .await
    }

    async fn status(
        &self,
        token: &SecretString,
        publish_id: &str,
    ) -> Result<Status, PlatformError> {
        self.call(
            token,
            "/v2/post/publish/status/fetch/",
            &[],
            &json!({ "publish_id": publish_id }),
        )
        .await
    }

    /// Starts the publish: the commit point. Returns what to save.
    async fn init(
        &self,
        request: &PublishRequest<'_>,
        options: &TikTokOptions,
        creator: &CreatorInfo,
        progress: &mut dyn Progress,
    ) -> Result<Saved, PublishError> {
        let mut post_info = options.post_info(creator);
        let (path, body, upload) = match request.media {
            [video] if video.mime.starts_with("video/") => {
                post_info["title"] = json!(request.text);
                post_info["disable_duet"] = json!(creator.duet_disabled || !options.allow_duet);
                post_info["disable_stitch"] =
                    json!(creator.stitch_disabled || !options.allow_stitch);
                let (source, upload) = self.video_source(video)?;
                (
                    "/v2/post/publish/video/init/",
                    json!({ "post_info": post_info, "source_info": source }),
                    upload,
                )
            }
            photos => {
                let urls = photos
                    .iter()
                    .map(|photo| photo.pull_url().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(unreachable_media)?;
                post_info["description"] = json!(request.text);
                if let Some(title) = &options.title {
                    post_info["title"] = json!(title);
                }
                (
                    "/v2/post/publish/content/init/",
                    json!({
                        "post_info": post_info,
                        "source_info": {
                            "source": "PULL_FROM_URL",
                            "photo_cover_index": 0,
                            "photo_images": urls,
                        },
                        "post_mode": "DIRECT_POST",
                        "media_type": "PHOTO",
                    }),
                    None,
                )
            }
        };
        let initiated: Initiated = self.call(request.access_token, path, &[], &body).await?;
        let upload = match (upload, initiated.upload_url) {
            (Some((chunk_size, total)), Some(url)) => Some(Upload {
                url,
                chunk_size,
                total,
            }),
            (Some(_), None) => {
                return Err(PlatformError::Retryable {
                    wait: None,
                    maybe_done: true,
                    detail: "TikTok started the upload without saying where to send it".into(),
                }
                .into());
            }
            (None, _) => None,
        };
        let saved = Saved {
            publish_id: initiated.publish_id,
            upload,
            complete_since: None,
        };
        progress.save(saved.json()).await?;
        progress.step(format!("TikTok started publish {}", saved.publish_id));
        Ok(saved)
    }

    /// `source_info` for a video, and the chunk size and total when it is sent by us.
    #[allow(clippy::type_complexity)]
    fn video_source(
        &self,
        video: &MediaFile,
    ) -> Result<(Value, Option<(u64, u64)>), PlatformError> {
        if self.video_source == TikTokVideoSource::PullFromUrl {
            let url = video.pull_url().ok_or_else(unreachable_media)?;
            return Ok((json!({ "source": "PULL_FROM_URL", "video_url": url }), None));
        }
        let total = video.size;
        let chunk_size = if total < SINGLE_CHUNK_BELOW {
            total
        } else {
            CHUNK_BYTES.min(total)
        };
        let chunks = (total / chunk_size).max(1);
        Ok((
            json!({
                "source": "FILE_UPLOAD",
                "video_size": total,
                "chunk_size": chunk_size,
                "total_chunk_count": chunks,
            }),
            Some((chunk_size, total)),
        ))
    }

    /// Sends the video's chunks from the one starting at `from` (a multiple of the chunk
    /// size); the last chunk takes the remainder.
    async fn send_chunks(
        &self,
        upload: &Upload,
        video: &MediaFile,
        from: u64,
    ) -> Result<(), PlatformError> {
        let chunks = (upload.total / upload.chunk_size).max(1);
        let mut index = from / upload.chunk_size;
        while index < chunks {
            let start = index * upload.chunk_size;
            let end = if index + 1 == chunks {
                upload.total
            } else {
                start + upload.chunk_size
            };
            let bytes = video
                .range(start, usize::try_from(end - start).unwrap_or(usize::MAX))
                .await
                .map_err(|error| PlatformError::Retryable {
                    wait: None,
                    maybe_done: false,
                    detail: format!("the video could not be read: {error}"),
                })?;
            let request = self
                .http
                .put(&upload.url)
                .header(CONTENT_TYPE, &video.mime)
                .header(
                    CONTENT_RANGE,
                    format!("bytes {start}-{}/{}", end - 1, upload.total),
                )
                .timeout(CHUNK_TIMEOUT)
                .body(bytes);
            answers::send(Platform::Tiktok, request, classify).await?;
            index += 1;
        }
        Ok(())
    }

    /// Follows a started publish: resumes its upload, or reads where it stands.
    async fn follow(
        &self,
        request: &PublishRequest<'_>,
        mut saved: Saved,
        progress: &mut dyn Progress,
    ) -> Result<PublishOutcome, PublishError> {
        let token = request.access_token;
        let mut status = self.status(token, &saved.publish_id).await?;
        if let (Some(upload), [video]) = (&saved.upload, request.media)
            && status.status == "PROCESSING_UPLOAD"
            && status.uploaded_bytes < upload.total
        {
            if status.uploaded_bytes > 0 {
                progress.step(format!(
                    "TikTok has {} of {} bytes: sending the rest",
                    status.uploaded_bytes, upload.total
                ));
            }
            self.send_chunks(upload, video, status.uploaded_bytes)
                .await?;
            progress.step(format!("video sent ({} bytes)", upload.total));
            status = self.status(token, &saved.publish_id).await?;
        }
        for _ in 0..QUICK_CHECKS {
            if !status.status.starts_with("PROCESSING") {
                break;
            }
            tokio::time::sleep(QUICK_CHECK_EVERY).await;
            status = self.status(token, &saved.publish_id).await?;
        }
        match status.status.as_str() {
            "PUBLISH_COMPLETE" => {
                if let Some(id) = status.post_ids.iter().find_map(id_text) {
                    return Ok(PublishOutcome::Published(Published {
                        url: self.post_url(request.handle, &id),
                        external_id: id,
                    }));
                }
                // Published, but in review: its id shows once TikTok lets it be seen.
                let now = Utc::now();
                let since = *saved.complete_since.get_or_insert(now);
                if now - since >= MODERATION_WAIT {
                    progress.step(
                        "TikTok still reviews the post: recorded with the profile's address".into(),
                    );
                    return Ok(PublishOutcome::Published(Published {
                        url: self.profile_url(request.handle),
                        external_id: saved.publish_id,
                    }));
                }
                progress.save(saved.json()).await?;
                Ok(PublishOutcome::Processing {
                    check_after: STATUS_CHECK,
                    status: "published; TikTok is reviewing it before it shows".into(),
                })
            }
            "SEND_TO_USER_INBOX" => Ok(PublishOutcome::Published(Published {
                url: self.profile_url(request.handle),
                external_id: saved.publish_id,
            })),
            "FAILED" => Err(failed(status.fail_reason.as_deref()).into()),
            "PROCESSING_DOWNLOAD" => Ok(PublishOutcome::Processing {
                check_after: STATUS_CHECK,
                status: "TikTok is downloading the media".into(),
            }),
            _ => Ok(PublishOutcome::Processing {
                check_after: STATUS_CHECK,
                status: "TikTok is processing the upload".into(),
            }),
        }
    }
}

/// A publish TikTok gave up on: nothing was posted, so a new attempt may start afresh when
/// the reason is passing.
fn failed(reason: Option<&str>) -> PlatformError {
    let reason = reason.unwrap_or("no reason given");
    match reason {
        "video_pull_failed" | "photo_pull_failed" => PlatformError::permanent(
            "TikTok could not download the media from this server: check that PUBLIC_BASE_URL is reachable from the internet, then post again.",
        ),
        "duration_check_failed" => PlatformError::permanent(
            "The video is longer than this TikTok account may post: trim it, then post again.",
        ),
        "file_format_check_failed" | "frame_rate_check_failed" | "picture_size_check_failed" => {
            PlatformError::permanent(format!(
                "TikTok refused the file ({reason}): export it as an H.264 MP4, then post again."
            ))
        }
        other => PlatformError::permanent(format!("TikTok did not publish the post ({other}).")),
    }
}

fn unreachable_media() -> PlatformError {
    PlatformError::permanent(
        "TikTok downloads this media from the app, but PUBLIC_BASE_URL cannot be reached from the internet: the operator should set it to the app's public https address (and verify its domain with TikTok).",
    )
}

#[async_trait]
impl SocialPlatform for TikTokPlatform {
    fn platform(&self) -> Platform {
        Platform::Tiktok
    }

    fn media_pull(&self) -> MediaPull {
        match self.video_source {
            TikTokVideoSource::FileUpload => MediaPull::Photos,
            TikTokVideoSource::PullFromUrl => MediaPull::Always,
        }
    }

    fn start_authorization(&self, redirect_uri: &str, state: &str) -> AuthorizationStart {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let challenge = match self.pkce_challenge {
            PkceChallenge::Base64Url => challenge.as_str().to_owned(),
            PkceChallenge::Hex => hex_sha256(verifier.secret()),
        };
        let mut url = url::Url::parse(&join_url(&self.auth_url, "/v2/auth/authorize/"))
            .expect("TIKTOK_AUTH_URL was checked as a URL");
        url.query_pairs_mut()
            .append_pair("client_key", &self.credentials.client_id)
            .append_pair("response_type", "code")
            .append_pair("scope", &SCOPES.join(","))
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        AuthorizationStart {
            url: url.to_string(),
            pkce_verifier: SecretString::from(verifier.secret().to_owned()),
        }
    }

    async fn exchange_code(
        &self,
        code: &str,
        pkce_verifier: &SecretString,
        redirect_uri: &str,
    ) -> Result<TokenSet, PlatformError> {
        self.token_request(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", pkce_verifier.expose_secret()),
        ])
        .await
    }

    async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, PlatformError> {
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
        ])
        .await
    }

    async fn revoke(&self, token: &SecretString) -> Result<(), PlatformError> {
        let request = self.http.post(self.api("/v2/oauth/revoke/")).form(&[
            ("client_key", self.credentials.client_id.as_str()),
            (
                "client_secret",
                self.credentials.client_secret.expose_secret(),
            ),
            ("token", token.expose_secret()),
        ]);
        answers::send(Platform::Tiktok, request, classify_token)
            .await
            .map(|_| ())
    }

    async fn account(&self, access_token: &SecretString) -> Result<AccountProfile, PlatformError> {
        let request = self
            .http
            .get(self.api("/v2/user/info/"))
            .query(&[(
                "fields",
                "open_id,union_id,avatar_url,display_name,username",
            )])
            .bearer_auth(access_token.expose_secret());
        let response = answers::send(Platform::Tiktok, request, classify).await?;
        let envelope: Envelope<UserData> = Self::read_json(response).await?;
        let user = envelope.data.user;
        let handle = user
            .username
            .clone()
            .filter(|name| !name.is_empty())
            .or_else(|| user.display_name.clone())
            .unwrap_or_else(|| user.open_id.clone());
        Ok(AccountProfile {
            account_id: user.open_id,
            handle,
            display_name: user.display_name.filter(|name| !name.is_empty()),
            avatar_url: user.avatar_url.filter(|url| !url.is_empty()),
        })
    }

    /// Read from `creator_info` each time, as TikTok requires: the composer offers only the
    /// privacy levels and interactions this creator has.
    async fn post_options(
        &self,
        access_token: &SecretString,
        _account_id: &str,
    ) -> Result<Vec<OptionField>, PlatformError> {
        let creator = self.creator_info(access_token).await?;
        let choice = |value: &str, label: &str| OptionChoice {
            value: value.to_owned(),
            label: label.to_owned(),
        };
        let yes_no = || vec![choice("false", "No"), choice("true", "Yes")];
        let privacy = creator
            .privacy_level_options
            .iter()
            .map(|level| {
                let label = PRIVACY_LABELS
                    .iter()
                    .find(|(known, _)| known == level)
                    .map_or(level.as_str(), |(_, label)| label);
                choice(level, label)
            })
            .collect();
        let mut privacy_field =
            OptionField::choice("privacy_level", "Who can see it", privacy).required();
        if let Some(limit) = creator.max_video_post_duration_sec {
            privacy_field = privacy_field.with_help(&format!(
                "This account posts videos up to {} s long.",
                limit
            ));
        }
        let mut fields = vec![privacy_field];
        for (name, label, off) in [
            ("allow_comments", "Allow comments", creator.comment_disabled),
            ("allow_duet", "Allow duets (videos)", creator.duet_disabled),
            (
                "allow_stitch",
                "Allow stitches (videos)",
                creator.stitch_disabled,
            ),
        ] {
            if !off {
                fields.push(OptionField::choice(name, label, yes_no()));
            }
        }
        fields.push(
            OptionField::choice(
                "commercial_content",
                "Commercial content",
                vec![
                    choice("none", "None"),
                    choice("own_brand", "Promotes my own business"),
                    choice("branded", "Paid partnership (branded content)"),
                ],
            )
            .with_help("TikTok labels the post as promotional."),
        );
        fields.push(
            OptionField::text(
                "title",
                "Photo post title",
                u32::try_from(MAX_PHOTO_TITLE_CHARS).unwrap_or(u32::MAX),
            )
            .with_help("For photo posts; the text becomes the description."),
        );
        Ok(fields)
    }

    /// TikTok's captions carry a few; three to five is what its creator advice shows.
    fn caption_hashtags(&self) -> usize {
        5
    }

    fn preview_rules(&self, post: &PostCheck<'_>) -> PreviewRules {
        let video = post
            .media
            .iter()
            .any(|media| media.mime.starts_with("video/"));
        let max = if video {
            MAX_VIDEO_TITLE_CHARS
        } else {
            MAX_PHOTO_DESCRIPTION_CHARS
        };
        PreviewRules {
            counter: TextCounter::characters(post.text.chars().count(), max),
            // The caption over the video shows two lines, then "more".
            fold: Some(Fold {
                chars: 80,
                lines: 2,
                more: "... more",
            }),
            // A video fills the phone's screen; photos are shown whole in it.
            frame: Frame::fixed(Ratio(9, 16), video),
            gallery: Gallery::Carousel,
        }
    }

    fn check_post(&self, post: &PostCheck<'_>) -> Result<(), PostProblem> {
        TikTokOptions::read(post.options).map_err(PostProblem::Options)?;
        let length = post.text.chars().count();
        let videos = post
            .media
            .iter()
            .filter(|media| media.mime.starts_with("video/"))
            .count();
        match (videos, post.media.len()) {
            (0, 0) => Err(PostProblem::Media(
                "A TikTok post needs a video or photos: add some.".into(),
            )),
            (1, 1) if length > MAX_VIDEO_TITLE_CHARS => Err(PostProblem::Text(format!(
                "A TikTok video's caption may be {MAX_VIDEO_TITLE_CHARS} characters; this one is {length}."
            ))),
            (1, 1) => Ok(()),
            (0, photos) if photos > MAX_PHOTOS => Err(PostProblem::Media(format!(
                "A TikTok photo post takes up to {MAX_PHOTOS} photos; this one has {photos}."
            ))),
            (0, _) if length > MAX_PHOTO_DESCRIPTION_CHARS => Err(PostProblem::Text(format!(
                "A TikTok photo post's description may be {MAX_PHOTO_DESCRIPTION_CHARS} characters; this one is {length}."
            ))),
            (0, _) => match post
                .media
                .iter()
                .find(|photo| !matches!(photo.mime.as_str(), "image/jpeg" | "image/webp"))
            {
                Some(photo) => Err(PostProblem::Media(format!(
                    "TikTok takes JPEG or WebP photos; one here is {}.",
                    photo.mime
                ))),
                None => Ok(()),
            },
            _ => Err(PostProblem::Media(
                "A TikTok post is one video, or photos without a video.".into(),
            )),
        }
    }

    async fn publish(
        &self,
        request: PublishRequest<'_>,
        progress: &mut dyn Progress,
    ) -> Result<PublishOutcome, PublishError> {
        if let Some(saved) = Saved::read(request.saved) {
            return self.follow(&request, saved, progress).await;
        }
        let options = TikTokOptions::read(request.options).map_err(PlatformError::permanent)?;
        let creator = self.creator_info(request.access_token).await?;
        if !creator
            .privacy_level_options
            .contains(&options.privacy_level)
        {
            return Err(PlatformError::permanent(format!(
                "This TikTok account no longer offers \"{}\" as a privacy level: choose again.",
                options.privacy_level
            ))
            .into());
        }
        if let ([video], Some(limit)) = (request.media, creator.max_video_post_duration_sec)
            && let Some(facts) = &video.video
            && facts.duration_ms > limit * 1000
        {
            return Err(PlatformError::permanent(format!(
                "This TikTok account posts videos up to {limit} s; this one is {} s.",
                facts.duration_ms.div_ceil(1000)
            ))
            .into());
        }
        let saved = self.init(&request, &options, &creator, progress).await?;
        self.follow(&request, saved, progress).await
    }

    /// With a `publish_id` saved, its status says whether the post is up; without one, the
    /// user's newest videos are read for the caption.
    async fn find_published(
        &self,
        request: PublishRequest<'_>,
        since: DateTime<Utc>,
    ) -> Result<Option<Published>, PlatformError> {
        if let Some(saved) = Saved::read(request.saved) {
            let status = self.status(request.access_token, &saved.publish_id).await?;
            return Ok((status.status == "PUBLISH_COMPLETE")
                .then(|| status.post_ids.iter().find_map(id_text))
                .flatten()
                .map(|id| Published {
                    url: self.post_url(request.handle, &id),
                    external_id: id,
                }));
        }
        let text = request.text.trim();
        let found = answers::find_since(
            Platform::Tiktok,
            since,
            |cursor: Option<i64>| async move {
                let mut body = json!({ "max_count": RECONCILE_VIDEOS });
                if let Some(cursor) = cursor {
                    body["cursor"] = json!(cursor);
                }
                let list: VideoList = self
                    .call(
                        request.access_token,
                        "/v2/video/list/",
                        &[("fields", "id,create_time,title,video_description,share_url")],
                        &body,
                    )
                    .await?;
                let next = list.cursor.filter(|_| list.has_more);
                Ok((list.videos, next))
            },
            |video: &ListedVideo| {
                video
                    .create_time
                    .and_then(|at| DateTime::from_timestamp(at, 0))
            },
            |video: &ListedVideo| {
                video.video_description.as_deref().map(str::trim) == Some(text)
                    || video.title.as_deref().map(str::trim) == Some(text)
            },
        )
        .await?;
        Ok(found
            .and_then(|video| id_text(&video.id))
            .map(|id| Published {
                url: self.post_url(request.handle, &id),
                external_id: id,
            }))
    }

    fn metrics(&self, _account_id: &str) -> Option<MetricsReading> {
        Some(MetricsReading {
            gives: MetricKinds {
                impressions: true,
                likes: true,
                replies: true,
                reposts: true,
                link_clicks: false,
            },
            batch: METRICS_BATCH,
            calls_per_round: METRICS_CALLS_PER_ROUND,
        })
    }

    async fn post_metrics(
        &self,
        request: MetricsRequest<'_>,
    ) -> Result<BTreeMap<String, PostMetrics>, PlatformError> {
        let ids: Vec<&str> = request
            .external_ids
            .iter()
            .map(String::as_str)
            .filter(|id| is_post_id(id))
            .collect();
        if ids.is_empty() {
            return Ok(BTreeMap::new());
        }
        let queried: QueriedVideos = self
            .call(
                request.access_token,
                "/v2/video/query/",
                &[("fields", METRICS_FIELDS)],
                &json!({ "filters": { "video_ids": ids } }),
            )
            .await?;
        Ok(queried
            .videos
            .iter()
            .filter_map(|video| Some((id_text(&video.id)?, video.metrics())))
            .collect())
    }
}

/// The SHA-256 of `verifier` in lowercase hex: the challenge some report TikTok's desktop flow
/// expects instead of base64url.
fn hex_sha256(verifier: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(verifier.as_bytes()))
}

#[derive(Deserialize, Default)]
struct ErrorEnvelope {
    #[serde(default)]
    error: ErrorBody,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize, Default)]
struct OAuthErrorBody {
    #[serde(default)]
    error: String,
}

/// Sorts an unsuccessful answer from the token endpoint, in OAuth's shape.
fn classify_token(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    now: DateTime<Utc>,
) -> PlatformError {
    let error = serde_json::from_str::<OAuthErrorBody>(body)
        .unwrap_or_default()
        .error;
    match error.as_str() {
        "invalid_grant" | "access_denied" => PlatformError::Reauth {
            detail: "TikTok no longer accepts this account's authorization".into(),
        },
        "invalid_client" | "unauthorized_client" => PlatformError::permanent(
            "TikTok refused this app's credentials: the operator should check TIKTOK_CLIENT_ID (the client key) and TIKTOK_CLIENT_SECRET",
        ),
        // A refresh whose answer was lost may have been spent.
        _ => classify(status, headers, body, now).with_maybe_done(true),
    }
}

/// Sorts an unsuccessful answer from TikTok into the closed set of outcomes, by its
/// `error.code`.
pub fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    _now: DateTime<Utc>,
) -> PlatformError {
    let error = serde_json::from_str::<ErrorEnvelope>(body)
        .unwrap_or_default()
        .error;
    let message: String = error.message.chars().take(300).collect();
    match error.code.as_str() {
        "access_token_invalid" | "scope_not_authorized" | "scope_permission_missed" => {
            PlatformError::Reauth {
                detail: "TikTok no longer accepts this account's authorization".into(),
            }
        }
        "rate_limit_exceeded" => PlatformError::Retryable {
            wait: retry_after(headers).or(Some(Duration::from_secs(60))),
            maybe_done: false,
            detail: "TikTok's rate limit was reached".into(),
        },
        "privacy_level_option_mismatch" => PlatformError::permanent(
            "TikTok refused the privacy level: choose one this account offers.",
        ),
        "unaudited_client_can_only_post_to_private_accounts" => PlatformError::permanent(
            "This TikTok app is not audited yet, so it may only post as \"Only me\": choose that, or ask the operator to have the app audited.",
        ),
        "url_ownership_unverified" => PlatformError::permanent(
            "TikTok will not download from this server until the operator verifies the domain of PUBLIC_BASE_URL in the TikTok developer portal.",
        ),
        "reached_active_user_cap" => PlatformError::permanent(
            "This TikTok app has reached its daily limit of posting users: try again tomorrow.",
        ),
        code if code.starts_with("spam_risk") => PlatformError::permanent(format!(
            "TikTok refused the post as too much posting ({code}): wait a day before posting again."
        )),
        _ if status == StatusCode::UNAUTHORIZED => PlatformError::Reauth {
            detail: "TikTok no longer accepts this account's authorization".into(),
        },
        _ if status == StatusCode::TOO_MANY_REQUESTS => PlatformError::Retryable {
            wait: retry_after(headers).or(Some(Duration::from_secs(60))),
            maybe_done: false,
            detail: "TikTok's rate limit was reached".into(),
        },
        _ if status.is_server_error() || error.code == "internal_error" => {
            PlatformError::Retryable {
                wait: retry_after(headers),
                maybe_done: false,
                detail: format!("TikTok had a server error ({})", status.as_u16()),
            }
        }
        _ if message.is_empty() => {
            PlatformError::permanent(format!("TikTok refused the post ({}).", status.as_u16()))
        }
        _ => PlatformError::permanent(format!("TikTok refused the post: {message}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queried_videos_give_everything_but_link_clicks_and_publish_ids_are_not_asked() {
        let queried: QueriedVideos = serde_json::from_str(
            r#"{"videos":[{"id":7350000000000000001,"view_count":800,"like_count":40,"comment_count":5,"share_count":2}],"cursor":0,"has_more":false}"#,
        )
        .unwrap();
        let video = &queried.videos[0];
        assert_eq!(id_text(&video.id).as_deref(), Some("7350000000000000001"));
        assert_eq!(
            video.metrics(),
            PostMetrics {
                impressions: Some(800),
                likes: Some(40),
                replies: Some(5),
                reposts: Some(2),
                link_clicks: None,
            }
        );
        assert!(is_post_id("7350000000000000001"));
        assert!(!is_post_id("v_pub_file~v2-1.7350000000000000001"));
        assert!(!is_post_id(""));
    }

    fn options(pairs: &[(&str, &str)]) -> TargetOptions {
        pairs.iter().copied().collect()
    }

    #[test]
    fn options_need_a_privacy_level_and_keep_tiktoks_rules() {
        assert!(
            TikTokOptions::read(&options(&[]))
                .unwrap_err()
                .contains("privacy_level")
        );
        let read = TikTokOptions::read(&options(&[
            ("privacy_level", "FOLLOWER_OF_CREATOR"),
            ("allow_comments", "true"),
            ("commercial_content", "own_brand"),
        ]))
        .unwrap();
        assert!(read.allow_comments && !read.allow_duet);
        assert_eq!(read.commercial.as_deref(), Some("own_brand"));
        let creator = CreatorInfo {
            privacy_level_options: vec![],
            comment_disabled: true,
            duet_disabled: false,
            stitch_disabled: false,
            max_video_post_duration_sec: None,
        };
        let info = read.post_info(&creator);
        assert_eq!(
            info["disable_comment"], true,
            "the creator turned comments off"
        );
        assert_eq!(info["brand_organic_toggle"], true);
        assert!(
            TikTokOptions::read(&options(&[
                ("privacy_level", "SELF_ONLY"),
                ("commercial_content", "branded"),
            ]))
            .unwrap_err()
            .contains("branded")
        );
        assert!(
            TikTokOptions::read(&options(&[("privacy_level", "EVERYONE")]))
                .unwrap_err()
                .contains("EVERYONE")
        );
    }

    #[test]
    fn answers_are_sorted_by_tiktoks_error_code() {
        let now = Utc::now();
        let none = HeaderMap::new();
        let body = |code: &str| {
            format!(r#"{{"data":{{}},"error":{{"code":"{code}","message":"m","log_id":"1"}}}}"#)
        };
        assert!(matches!(
            classify(
                StatusCode::UNAUTHORIZED,
                &none,
                &body("access_token_invalid"),
                now
            ),
            PlatformError::Reauth { .. }
        ));
        assert!(matches!(
            classify(
                StatusCode::TOO_MANY_REQUESTS,
                &none,
                &body("rate_limit_exceeded"),
                now
            ),
            PlatformError::Retryable { wait: Some(_), .. }
        ));
        assert!(matches!(
            classify(
                StatusCode::INTERNAL_SERVER_ERROR,
                &none,
                &body("internal_error"),
                now
            ),
            PlatformError::Retryable { .. }
        ));
        assert!(
            classify(
                StatusCode::FORBIDDEN,
                &none,
                &body("spam_risk_too_many_posts"),
                now
            )
            .to_string()
            .contains("wait a day")
        );
        assert!(
            classify(
                StatusCode::FORBIDDEN,
                &none,
                &body("url_ownership_unverified"),
                now
            )
            .to_string()
            .contains("verifies the domain")
        );
        assert!(matches!(
            classify_token(
                StatusCode::BAD_REQUEST,
                &none,
                r#"{"error":"invalid_grant","error_description":"x","log_id":"1"}"#,
                now
            ),
            PlatformError::Reauth { .. }
        ));
    }

    #[test]
    fn ids_come_as_numbers_or_text() {
        assert_eq!(
            id_text(&json!(7_301_234_567_890_123_456u64)).as_deref(),
            Some("7301234567890123456")
        );
        assert_eq!(id_text(&json!("42")).as_deref(), Some("42"));
        assert_eq!(id_text(&json!("")), None);
    }
}
