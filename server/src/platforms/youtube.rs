//! YouTube (Data API v3 and Google OAuth), as `shared/platforms.md` section 7 describes it:
//! Google's consent with offline access and PKCE, the channel as the account, a video's title,
//! tags, privacy and made-for-kids choices, the resumable upload that resumes from the byte
//! YouTube confirmed, the processing status that follows it, and the classification of Google's
//! answers. Nothing outside this file knows a Google URL or error body.
//!
//! The upload's session URI is saved before the first byte goes out, and the video id as soon
//! as the last byte is answered: a later attempt probes the session and sends only what YouTube
//! does not have, or follows the processing of the video it already has. The last byte is the
//! commit point; no video exists on the channel before it.
//!
//! Metrics: views (counted as impressions), likes and comments as replies, from
//! `GET /youtube/v3/videos?part=statistics&id=..`, up to 50 videos a call for one quota unit.
//! A like count the channel hides is left out. YouTube reports no reposts or link clicks.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_RANGE, CONTENT_TYPE, HeaderMap, LOCATION, RANGE};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;

use app::types::{Fold, Frame, Gallery, PreviewRules, Ratio, TextCounter};
use app::types::{OptionChoice, OptionField, Platform, TargetOptions};

use super::answers::{self, retry_after};
use super::oauth::{self, ClientAuth, OAuthClient};
use super::{
    AccountProfile, AuthorizationStart, MediaFile, MetricKinds, MetricsReading, MetricsRequest,
    PlatformError, PostCheck, PostMetrics, PostProblem, Progress, PublishError, PublishOutcome,
    PublishRequest, Published, SocialPlatform, TokenSet, join_url,
};
use crate::config::{PlatformApp, YouTubeHosts};

const SCOPES: [&str; 2] = [
    "https://www.googleapis.com/auth/youtube.upload",
    // Reading the channel, a video's processing status and the uploads playlist.
    "https://www.googleapis.com/auth/youtube.readonly",
];
/// `videos.list` takes this many ids at most, for one quota unit.
const METRICS_BATCH: usize = 50;
/// At most this many units a round: under 3,000 of the project's 10,000 a day, leaving the rest
/// to uploads and their processing checks.
const METRICS_CALLS_PER_ROUND: u32 = 20;
const MAX_TITLE_CHARS: usize = 100;
const MAX_DESCRIPTION_BYTES: usize = 5000;
/// All tags together, counted as YouTube does: a comma between tags, quotes around a tag
/// with a space.
const MAX_TAGS_CHARS: usize = 500;
const MAX_VIDEO_BYTES: u64 = 256 * 1024 * 1024 * 1024;
/// "People & Blogs", YouTube's own default.
const CATEGORY_ID: &str = "22";
/// Each PUT carries this much of the file: a multiple of 256 KiB as the protocol requires,
/// large enough that a gigabyte takes a hundred or so requests, small enough to hold in memory
/// while it is sent.
pub const CHUNK_BYTES: u64 = 8 * 1024 * 1024;
/// One chunk's PUT may take this long: far more than other calls, on a slow uplink.
const CHUNK_TIMEOUT: Duration = Duration::from_secs(600);
/// How many times one attempt resumes a broken upload itself (probe, then go on) before it
/// hands the retry to the pipeline's backoff.
const RESUMES_PER_ATTEMPT: u32 = 3;
/// How soon the processing of an uploaded video is checked again; platforms.md asks for a
/// gentle pace, and a short video is usually processed within a minute or two.
const PROCESSING_CHECK: Duration = Duration::from_secs(60);
/// Reconciliation without a saved session reads the newest uploads in pages of this many
/// (YouTube's most).
const RECONCILE_UPLOADS: u32 = 50;
const OPTION_NAMES: [&str; 4] = ["title", "privacy", "made_for_kids", "tags"];
const PRIVACY_LEVELS: [(&str, &str); 3] = [
    ("public", "Public"),
    ("unlisted", "Unlisted"),
    ("private", "Private"),
];

pub struct YouTubePlatform {
    oauth: OAuthClient,
    http: reqwest::Client,
    api_url: http::Uri,
    upload_url: http::Uri,
    token_url: http::Uri,
    /// Where watch links point (youtube.com, or the sandbox).
    web_url: http::Uri,
}

/// A video's choices, read from the target's options.
#[derive(Debug, Clone, PartialEq, Eq)]
struct VideoOptions {
    title: String,
    privacy: String,
    made_for_kids: bool,
    tags: Vec<String>,
}

impl VideoOptions {
    /// Reads and checks the options; the error tells a person what to change.
    fn read(options: &TargetOptions) -> Result<Self, String> {
        if let Some(unknown) = options
            .keys()
            .find(|name| !OPTION_NAMES.contains(&name.as_str()))
        {
            return Err(format!(
                "YouTube has no option `{unknown}`; a video takes title, privacy, made_for_kids and tags."
            ));
        }
        let value = |name: &str| {
            options
                .get(name)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
        };
        let title = value("title").ok_or("Give the video a title (option `title`).")?;
        let length = title.chars().count();
        if length > MAX_TITLE_CHARS {
            return Err(format!(
                "A YouTube title may be {MAX_TITLE_CHARS} characters; this one is {length}."
            ));
        }
        if title.contains(['<', '>']) {
            return Err("A YouTube title cannot contain < or >.".into());
        }
        let privacy = value("privacy").ok_or(
            "Choose who can watch the video: public, unlisted or private (option `privacy`).",
        )?;
        if !PRIVACY_LEVELS.iter().any(|(level, _)| *level == privacy) {
            return Err(format!(
                "`{privacy}` is not a YouTube privacy level; choose public, unlisted or private."
            ));
        }
        let made_for_kids = match value("made_for_kids") {
            Some("true") => true,
            Some("false") => false,
            _ => {
                return Err(
                    "Say whether the video is made for kids, as YouTube requires (option `made_for_kids`: true or false)."
                        .into(),
                );
            }
        };
        let tags: Vec<String> = value("tags")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|tag| !tag.is_empty())
            .map(str::to_owned)
            .collect();
        let tags_length = tags_length(&tags);
        if tags_length > MAX_TAGS_CHARS {
            return Err(format!(
                "YouTube takes {MAX_TAGS_CHARS} characters of tags in all; these are {tags_length}."
            ));
        }
        if tags.iter().any(|tag| tag.contains(['<', '>'])) {
            return Err("A YouTube tag cannot contain < or >.".into());
        }
        Ok(Self {
            title: title.to_owned(),
            privacy: privacy.to_owned(),
            made_for_kids,
            tags,
        })
    }
}

/// The length YouTube counts for a list of tags.
fn tags_length(tags: &[String]) -> usize {
    let quoted: usize = tags
        .iter()
        .map(|tag| tag.chars().count() + if tag.contains(' ') { 2 } else { 0 })
        .sum();
    quoted + tags.len().saturating_sub(1)
}

/// What an upload has reached, kept on the target between attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Saved {
    /// The resumable session's URI, as YouTube's `Location` gave it.
    session: String,
    /// The file's size, which the session was opened for.
    total: u64,
    /// Set once the last byte was answered: the video exists, only its processing is left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    video_id: Option<String>,
}

impl Saved {
    fn read(saved: Option<&serde_json::Value>) -> Option<Self> {
        serde_json::from_value(saved?.clone()).ok()
    }
}

/// How far a session is, by YouTube's own account.
enum SessionState {
    /// YouTube has the first `n` bytes; the upload goes on from byte `n`.
    Confirmed(u64),
    /// The last byte arrived: the video exists.
    Complete(Video),
    /// The session expired or was never finished in time: a new one starts from zero.
    Gone,
}

/// A video YouTube has.
struct Uploaded {
    id: String,
    session: String,
    /// The last byte's answer never came back; a probe found the video.
    answer_was_lost: bool,
}

/// Why sending the bytes stopped short of the last one.
enum SendError {
    /// The connection broke or YouTube had a passing failure: probe and go on.
    Interrupted(PlatformError),
    /// The session no longer exists.
    SessionGone,
    /// Anything else: the attempt ends with it.
    Failed(PublishError),
}

impl From<PublishError> for SendError {
    fn from(error: PublishError) -> Self {
        Self::Failed(error)
    }
}

#[derive(Deserialize)]
struct Video {
    id: String,
    #[serde(default)]
    status: Option<VideoStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VideoStatus {
    #[serde(default)]
    upload_status: String,
    #[serde(default)]
    failure_reason: Option<String>,
    #[serde(default)]
    rejection_reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Listing<T> {
    #[serde(default = "Vec::new")]
    items: Vec<T>,
    #[serde(default)]
    next_page_token: Option<String>,
}

/// A video's `statistics`: counts as decimal strings; a hidden like count is absent.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VideoStatistics {
    id: String,
    #[serde(default)]
    statistics: Option<Statistics>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Statistics {
    #[serde(default)]
    view_count: Option<String>,
    #[serde(default)]
    like_count: Option<String>,
    #[serde(default)]
    comment_count: Option<String>,
}

impl VideoStatistics {
    fn metrics(&self) -> PostMetrics {
        let count = |raw: Option<&String>| raw.and_then(|raw| raw.trim().parse::<i64>().ok());
        let statistics = self.statistics.as_ref();
        PostMetrics {
            impressions: count(statistics.and_then(|s| s.view_count.as_ref())),
            likes: count(statistics.and_then(|s| s.like_count.as_ref())),
            replies: count(statistics.and_then(|s| s.comment_count.as_ref())),
            reposts: None,
            link_clicks: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Channel {
    id: String,
    #[serde(default)]
    snippet: Option<ChannelSnippet>,
    #[serde(default)]
    content_details: Option<ChannelContent>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChannelSnippet {
    title: String,
    #[serde(default)]
    custom_url: Option<String>,
    #[serde(default)]
    thumbnails: Option<Thumbnails>,
}

#[derive(Deserialize)]
struct Thumbnails {
    #[serde(default)]
    default: Option<Thumbnail>,
}

#[derive(Deserialize)]
struct Thumbnail {
    url: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChannelContent {
    related_playlists: RelatedPlaylists,
}

#[derive(Deserialize)]
struct RelatedPlaylists {
    uploads: String,
}

#[derive(Deserialize)]
struct PlaylistItem {
    snippet: PlaylistSnippet,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlaylistSnippet {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    published_at: Option<DateTime<Utc>>,
    resource_id: ResourceId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceId {
    video_id: String,
}

impl YouTubePlatform {
    /// `None` when the operator has not configured YouTube's credentials.
    pub fn from_config(
        app: &PlatformApp,
        hosts: &YouTubeHosts,
        http: reqwest::Client,
    ) -> Option<Self> {
        let credentials = app.credentials.as_ref()?;
        let oauth = oauth::client(
            credentials,
            join_url(&app.auth_url, "/o/oauth2/v2/auth"),
            join_url(&hosts.token_url, "/token"),
            ClientAuth::InBody,
        );
        Some(Self {
            oauth,
            http,
            api_url: app.api_url.clone(),
            upload_url: hosts.upload_url.clone(),
            token_url: hosts.token_url.clone(),
            web_url: hosts.web_url.clone(),
        })
    }

    fn api(&self, path: &str) -> String {
        join_url(&self.api_url, path)
    }

    fn watch_url(&self, id: &str) -> String {
        format!("{}?v={id}", join_url(&self.web_url, "/watch"))
    }

    fn published(&self, id: String) -> Published {
        Published {
            url: self.watch_url(&id),
            external_id: id,
        }
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, PlatformError> {
        answers::send(Platform::Youtube, request, classify).await
    }

    async fn read_json<T: DeserializeOwned>(
        response: reqwest::Response,
    ) -> Result<T, PlatformError> {
        answers::read_json(Platform::Youtube, response).await
    }

    /// Opens a resumable session for `video`; nothing exists on the channel yet.
    async fn open_session(
        &self,
        token: &SecretString,
        text: &str,
        options: &VideoOptions,
        video: &MediaFile,
    ) -> Result<String, PlatformError> {
        let endpoint = join_url(&self.upload_url, "/upload/youtube/v3/videos");
        let mut snippet = json!({
            "title": options.title,
            "description": text,
            "categoryId": CATEGORY_ID,
        });
        if !options.tags.is_empty() {
            snippet["tags"] = json!(options.tags);
        }
        let body = json!({
            "snippet": snippet,
            "status": {
                "privacyStatus": options.privacy,
                "selfDeclaredMadeForKids": options.made_for_kids,
            },
        });
        let request = self
            .http
            .post(&endpoint)
            .query(&[("uploadType", "resumable"), ("part", "snippet,status")])
            .bearer_auth(token.expose_secret())
            .header(CONTENT_TYPE, "application/json; charset=UTF-8")
            .header("X-Upload-Content-Length", video.size)
            .header("X-Upload-Content-Type", &video.mime)
            .json(&body);
        // Opening a session creates nothing on the channel, so a lost answer to it is harmless.
        let response = self
            .send(request)
            .await
            .map_err(|error| error.with_maybe_done(false))?;
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| PlatformError::Retryable {
                wait: None,
                maybe_done: false,
                detail: "YouTube opened no upload session (its answer had no Location)".into(),
            })?;
        // URLs the platform returns are followed as given; a relative one is read against the
        // endpoint that gave it.
        url::Url::parse(&endpoint)
            .and_then(|base| base.join(location))
            .map(String::from)
            .map_err(|_| PlatformError::Retryable {
                wait: None,
                maybe_done: false,
                detail: "YouTube's upload session address could not be read".into(),
            })
    }

    /// Asks the session how many bytes it has.
    async fn probe(
        &self,
        token: &SecretString,
        session: &str,
        total: u64,
    ) -> Result<SessionState, PlatformError> {
        let response = self
            .http
            .put(session)
            .bearer_auth(token.expose_secret())
            .header(CONTENT_RANGE, format!("bytes */{total}"))
            .body(Vec::new())
            .send()
            .await
            .map_err(|error| PlatformError::from_transport(Platform::Youtube, &error))?;
        self.session_state(response).await
    }

    /// Reads an upload PUT's answer: 308 with how much arrived, the video, or a failure.
    async fn session_state(
        &self,
        response: reqwest::Response,
    ) -> Result<SessionState, PlatformError> {
        let status = response.status();
        if status == StatusCode::PERMANENT_REDIRECT {
            return Ok(SessionState::Confirmed(confirmed_bytes(response.headers())));
        }
        if status.is_success() {
            return Ok(SessionState::Complete(Self::read_json(response).await?));
        }
        if matches!(status, StatusCode::NOT_FOUND | StatusCode::GONE) {
            return Ok(SessionState::Gone);
        }
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        Err(classify(status, &headers, &body, Utc::now()))
    }

    /// Sends the file from byte `from` in chunks, each starting where YouTube says its bytes
    /// end, until the last one is answered with the video.
    async fn send_from(
        &self,
        token: &SecretString,
        session: &str,
        video: &MediaFile,
        mut from: u64,
    ) -> Result<Video, SendError> {
        let total = video.size;
        while from < total {
            let len = CHUNK_BYTES.min(total - from);
            let bytes = video
                .range(from, usize::try_from(len).unwrap_or(usize::MAX))
                .await?;
            let last = from + len - 1;
            let response = self
                .http
                .put(session)
                .bearer_auth(token.expose_secret())
                .header(CONTENT_TYPE, &video.mime)
                .header(CONTENT_RANGE, format!("bytes {from}-{last}/{total}"))
                .timeout(CHUNK_TIMEOUT)
                .body(bytes)
                .send()
                .await
                .map_err(|error| {
                    SendError::Interrupted(PlatformError::from_transport(Platform::Youtube, &error))
                })?;
            match self.session_state(response).await {
                Ok(SessionState::Complete(uploaded)) => return Ok(uploaded),
                Ok(SessionState::Confirmed(confirmed)) if confirmed > from => from = confirmed,
                Ok(SessionState::Confirmed(_)) => {
                    return Err(SendError::Interrupted(PlatformError::Retryable {
                        wait: None,
                        maybe_done: false,
                        detail: "YouTube did not keep the bytes it was sent".into(),
                    }));
                }
                Ok(SessionState::Gone) => return Err(SendError::SessionGone),
                Err(error @ PlatformError::Retryable { .. }) => {
                    return Err(SendError::Interrupted(error));
                }
                Err(error) => return Err(SendError::Failed(error.into())),
            }
        }
        // Every byte is confirmed yet no video came back: only a probe can say what happened.
        Err(SendError::Interrupted(PlatformError::Retryable {
            wait: None,
            maybe_done: true,
            detail: "YouTube confirmed every byte without naming the video".into(),
        }))
    }

    /// Uploads the video, from what `saved` says YouTube already has.
    async fn upload(
        &self,
        request: &PublishRequest<'_>,
        options: &VideoOptions,
        video: &MediaFile,
        progress: &mut dyn Progress,
    ) -> Result<Uploaded, PublishError> {
        let token = request.access_token;
        let total = video.size;
        let mut session = Saved::read(request.saved)
            .filter(|saved| saved.total == total)
            .map(|saved| saved.session);
        let mut resumes = 0;
        loop {
            let (uri, from) = match session.take() {
                // A session is only probed once bytes went to it, and its last byte may have
                // made the video: when the probe fails, whether the video exists is unknown, and
                // the next attempt must look before it uploads again.
                Some(uri) => match self
                    .probe(token, &uri, total)
                    .await
                    .map_err(|error| error.with_maybe_done(true))?
                {
                    SessionState::Complete(uploaded) => {
                        return Ok(Uploaded {
                            id: uploaded.id,
                            session: uri,
                            answer_was_lost: true,
                        });
                    }
                    SessionState::Confirmed(confirmed) => {
                        progress.step(format!(
                            "YouTube confirmed {} of {}: sending the rest",
                            megabytes(confirmed),
                            megabytes(total)
                        ));
                        (uri, confirmed)
                    }
                    SessionState::Gone => {
                        progress.step(
                            "the upload session had expired: opening a new one, from the start"
                                .into(),
                        );
                        (self.start(request, options, video, progress).await?, 0)
                    }
                },
                None => (self.start(request, options, video, progress).await?, 0),
            };
            match self.send_from(token, &uri, video, from).await {
                Ok(uploaded) => {
                    return Ok(Uploaded {
                        id: uploaded.id,
                        session: uri,
                        answer_was_lost: false,
                    });
                }
                Err(SendError::Interrupted(error)) if resumes < RESUMES_PER_ATTEMPT => {
                    resumes += 1;
                    progress.step(format!("the upload broke off ({error}): resuming"));
                    session = Some(uri);
                }
                Err(SendError::Interrupted(error)) => return Err(error.into()),
                Err(SendError::SessionGone) if resumes < RESUMES_PER_ATTEMPT => {
                    resumes += 1;
                    progress.step("YouTube dropped the upload session: starting over".into());
                }
                Err(SendError::SessionGone) => {
                    return Err(PlatformError::Retryable {
                        wait: None,
                        maybe_done: false,
                        detail: "YouTube kept dropping the upload session".into(),
                    }
                    .into());
                }
                Err(SendError::Failed(error)) => return Err(error),
            }
        }
    }

    /// Opens a session and saves it before any byte goes out.
    async fn start(
        &self,
        request: &PublishRequest<'_>,
        options: &VideoOptions,
        video: &MediaFile,
        progress: &mut dyn Progress,
    ) -> Result<String, PublishError> {
        let uri = self
            .open_session(request.access_token, request.text, options, video)
            .await?;
        progress
            .save(saved_json(&Saved {
                session: uri.clone(),
                total: video.size,
                video_id: None,
            }))
            .await?;
        progress.step(format!(
            "upload session opened for {}",
            megabytes(video.size)
        ));
        Ok(uri)
    }

    /// Where the processing of an uploaded video stands: published once YouTube processed it.
    async fn processing(
        &self,
        token: &SecretString,
        id: &str,
    ) -> Result<PublishOutcome, PlatformError> {
        let response = self
            .send(
                self.http
                    .get(self.api("/youtube/v3/videos"))
                    .query(&[("part", "status,processingDetails"), ("id", id)])
                    .bearer_auth(token.expose_secret()),
            )
            .await?;
        let listing: Listing<Video> = Self::read_json(response).await?;
        let Some(status) = listing.items.into_iter().find_map(|video| video.status) else {
            return Err(PlatformError::permanent(
                "The video was deleted on YouTube before it finished processing.",
            ));
        };
        match status.upload_status.as_str() {
            "processed" => Ok(PublishOutcome::Published(self.published(id.to_owned()))),
            "failed" => Err(PlatformError::permanent(format!(
                "YouTube could not process the video ({}); check the file plays, then post it again.",
                status
                    .failure_reason
                    .as_deref()
                    .unwrap_or("no reason given")
            ))),
            "rejected" => Err(PlatformError::permanent(format!(
                "YouTube rejected the video ({}).",
                status
                    .rejection_reason
                    .as_deref()
                    .unwrap_or("no reason given")
            ))),
            "deleted" => Err(PlatformError::permanent(
                "The video was deleted on YouTube before it finished processing.",
            )),
            _ => Ok(PublishOutcome::Processing {
                check_after: PROCESSING_CHECK,
                status: "uploaded; YouTube is processing the video".into(),
            }),
        }
    }

    /// [`Self::find_in_uploads`] for the video `request` would upload.
    async fn find_in_uploads_for(
        &self,
        request: &PublishRequest<'_>,
        since: DateTime<Utc>,
    ) -> Result<Option<Published>, PlatformError> {
        let options = VideoOptions::read(request.options).map_err(PlatformError::permanent)?;
        self.find_in_uploads(request.access_token, &options.title, request.text, since)
            .await
    }

    /// Among the channel's newest uploads, the one with this title and description published
    /// since `since`.
    async fn find_in_uploads(
        &self,
        token: &SecretString,
        title: &str,
        description: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<Published>, PlatformError> {
        let response = self
            .send(
                self.http
                    .get(self.api("/youtube/v3/channels"))
                    .query(&[("part", "contentDetails"), ("mine", "true")])
                    .bearer_auth(token.expose_secret()),
            )
            .await?;
        let channels: Listing<Channel> = Self::read_json(response).await?;
        let Some(uploads) = channels
            .items
            .into_iter()
            .find_map(|channel| channel.content_details)
            .map(|content| content.related_playlists.uploads)
        else {
            return Ok(None);
        };
        let page_size = RECONCILE_UPLOADS.to_string();
        let found = answers::find_since(
            Platform::Youtube,
            since,
            |page: Option<String>| {
                let (uploads, page_size) = (&uploads, &page_size);
                async move {
                    let mut query = vec![
                        ("part", "snippet"),
                        ("playlistId", uploads.as_str()),
                        ("maxResults", page_size.as_str()),
                    ];
                    if let Some(page) = &page {
                        query.push(("pageToken", page.as_str()));
                    }
                    let response = self
                        .send(
                            self.http
                                .get(self.api("/youtube/v3/playlistItems"))
                                .query(&query)
                                .bearer_auth(token.expose_secret()),
                        )
                        .await?;
                    let items: Listing<PlaylistItem> = Self::read_json(response).await?;
                    Ok((items.items, items.next_page_token))
                }
            },
            |item: &PlaylistItem| item.snippet.published_at,
            // The title alone is not enough: a shop may give many videos the same one.
            |item: &PlaylistItem| {
                item.snippet.title == title && item.snippet.description.trim() == description.trim()
            },
        )
        .await?;
        Ok(found.map(|item| self.published(item.snippet.resource_id.video_id)))
    }
}

#[async_trait]
impl SocialPlatform for YouTubePlatform {
    fn platform(&self) -> Platform {
        Platform::Youtube
    }

    fn start_authorization(&self, redirect_uri: &str, state: &str) -> AuthorizationStart {
        // `prompt=consent` makes Google hand out a refresh token again on a reconnect.
        oauth::authorize_with_pkce(
            &self.oauth,
            &SCOPES,
            redirect_uri,
            state,
            &[("access_type", "offline"), ("prompt", "consent")],
        )
    }

    async fn exchange_code(
        &self,
        code: &str,
        pkce_verifier: &SecretString,
        redirect_uri: &str,
    ) -> Result<TokenSet, PlatformError> {
        oauth::exchange_code(
            Platform::Youtube,
            &self.oauth,
            &self.http,
            code,
            pkce_verifier,
            redirect_uri,
            &SCOPES,
        )
        .await
    }

    /// Google keeps the refresh token and leaves it out of the answer; the caller then keeps
    /// the one it has.
    async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, PlatformError> {
        oauth::refresh(
            Platform::Youtube,
            &self.oauth,
            &self.http,
            refresh_token,
            &SCOPES,
        )
        .await
    }

    async fn revoke(&self, token: &SecretString) -> Result<(), PlatformError> {
        let request = self
            .http
            .post(join_url(&self.token_url, "/revoke"))
            .form(&[("token", token.expose_secret())]);
        match self.send(request).await {
            Ok(_) => Ok(()),
            // Google answers 400 `invalid_token` for a token that is already dead, which is
            // what revoking wants.
            Err(PlatformError::Permanent { .. }) => Ok(()),
            Err(error) => Err(error),
        }
    }

    async fn account(&self, access_token: &SecretString) -> Result<AccountProfile, PlatformError> {
        let response = self
            .send(
                self.http
                    .get(self.api("/youtube/v3/channels"))
                    .query(&[("part", "snippet"), ("mine", "true")])
                    .bearer_auth(access_token.expose_secret()),
            )
            .await?;
        let channels: Listing<Channel> = Self::read_json(response).await?;
        let Some(channel) = channels.items.into_iter().next() else {
            return Err(no_channel());
        };
        let snippet = channel.snippet.ok_or_else(no_channel)?;
        let handle = snippet
            .custom_url
            .as_deref()
            .map(|url| url.trim_start_matches('@').to_owned())
            .filter(|handle| !handle.is_empty())
            .unwrap_or_else(|| snippet.title.clone());
        Ok(AccountProfile {
            account_id: channel.id,
            handle,
            display_name: Some(snippet.title).filter(|title| !title.is_empty()),
            avatar_url: snippet
                .thumbnails
                .and_then(|thumbnails| thumbnails.default)
                .map(|thumbnail| thumbnail.url),
        })
    }

    async fn post_options(
        &self,
        _access_token: &SecretString,
        _account_id: &str,
    ) -> Result<Vec<OptionField>, PlatformError> {
        let limit = |max: usize| u32::try_from(max).unwrap_or(u32::MAX);
        let choice = |value: &str, label: &str| OptionChoice {
            value: value.to_owned(),
            label: label.to_owned(),
        };
        Ok(vec![
            OptionField::text("title", "Video title", limit(MAX_TITLE_CHARS))
                .required()
                .with_help("The post's text becomes the description."),
            OptionField::choice(
                "privacy",
                "Who can watch",
                PRIVACY_LEVELS
                    .iter()
                    .map(|(value, label)| choice(value, label))
                    .collect(),
            )
            .required()
            .with_help("Apps Google has not audited can only upload private videos."),
            OptionField::choice(
                "made_for_kids",
                "Made for kids",
                vec![choice("false", "No"), choice("true", "Yes")],
            )
            .required(),
            OptionField::text("tags", "Tags", limit(MAX_TAGS_CHARS))
                .with_help("Separated by commas."),
        ])
    }

    fn preview_headline(&self, options: &TargetOptions) -> Option<String> {
        super::title_option(options)
    }

    /// YouTube shows the first three above the title and ignores all of them past fifteen.
    fn caption_hashtags(&self) -> usize {
        3
    }

    fn preview_rules(&self, post: &PostCheck<'_>) -> PreviewRules {
        let vertical = post
            .media
            .first()
            .is_some_and(|video| video.height > video.width);
        PreviewRules {
            counter: TextCounter {
                used: post.text.len(),
                max: MAX_DESCRIPTION_BYTES,
                unit: "bytes",
            },
            // The watch page shows the description's first lines, then "...more".
            fold: Some(Fold {
                chars: 150,
                lines: 3,
                more: "...more",
            }),
            // The player shows the whole video with bars; a vertical one plays as a Short.
            frame: Frame::fixed(if vertical { Ratio(9, 16) } else { Ratio(16, 9) }, false),
            gallery: Gallery::Carousel,
        }
    }

    fn check_post(&self, post: &PostCheck<'_>) -> Result<(), PostProblem> {
        VideoOptions::read(post.options).map_err(PostProblem::Options)?;
        let bytes = post.text.len();
        if bytes > MAX_DESCRIPTION_BYTES {
            return Err(PostProblem::Text(format!(
                "A YouTube description may be {MAX_DESCRIPTION_BYTES} bytes; this text is {bytes}."
            )));
        }
        if post.text.contains(['<', '>']) {
            return Err(PostProblem::Text(
                "A YouTube description cannot contain < or >.".into(),
            ));
        }
        match post.media {
            [] => Err(PostProblem::Media(
                "A YouTube post needs a video: add one.".into(),
            )),
            [video] if !video.mime.starts_with("video/") => Err(PostProblem::Media(
                "YouTube takes a video; this post has an image.".into(),
            )),
            [video] if video.bytes > MAX_VIDEO_BYTES => Err(PostProblem::Media(
                "YouTube takes videos up to 256 GB.".into(),
            )),
            [_] => Ok(()),
            several => Err(PostProblem::Media(format!(
                "A YouTube post takes one video; this post has {} files.",
                several.len()
            ))),
        }
    }

    async fn publish(
        &self,
        request: PublishRequest<'_>,
        progress: &mut dyn Progress,
    ) -> Result<PublishOutcome, PublishError> {
        let options = VideoOptions::read(request.options).map_err(PlatformError::permanent)?;
        let [video] = request.media else {
            return Err(PlatformError::permanent("A YouTube post takes exactly one video.").into());
        };
        if let Some(id) = Saved::read(request.saved).and_then(|saved| saved.video_id) {
            return Ok(self.processing(request.access_token, &id).await?);
        }
        let uploaded = self.upload(&request, &options, video, progress).await?;
        progress.step(format!(
            "video {} uploaded ({}): YouTube has it",
            uploaded.id,
            megabytes(video.size)
        ));
        progress
            .save(saved_json(&Saved {
                session: uploaded.session,
                total: video.size,
                video_id: Some(uploaded.id.clone()),
            }))
            .await?;
        match self.processing(request.access_token, &uploaded.id).await? {
            // Recorded as a reconciliation: an attempt's answer was lost, and the video it
            // made was found rather than uploaded twice.
            PublishOutcome::Published(published) if uploaded.answer_was_lost => {
                Ok(PublishOutcome::AlreadyPublished(published))
            }
            outcome => Ok(outcome),
        }
    }

    /// With a video id saved, `publish` follows its processing; with a session saved, the
    /// session says whether its last byte arrived; with nothing saved, or a session that has
    /// expired since, the channel's newest uploads are read for the title.
    async fn find_published(
        &self,
        request: PublishRequest<'_>,
        since: DateTime<Utc>,
    ) -> Result<Option<Published>, PlatformError> {
        match Saved::read(request.saved) {
            Some(Saved {
                video_id: Some(_), ..
            }) => Ok(None),
            Some(saved) => match self
                .probe(request.access_token, &saved.session, saved.total)
                .await?
            {
                // The last byte's answer was lost: the video is up. Its processing is not
                // followed from here, as the answer that would have started it is gone.
                SessionState::Complete(video) => Ok(Some(self.published(video.id))),
                SessionState::Confirmed(_) => Ok(None),
                // An expired session no longer says whether its last byte arrived: a video
                // finished just before a crash, with its id never saved, would be uploaded
                // again. The channel's uploads say.
                SessionState::Gone => self.find_in_uploads_for(&request, since).await,
            },
            None => self.find_in_uploads_for(&request, since).await,
        }
    }

    fn metrics(&self, _account_id: &str) -> Option<MetricsReading> {
        Some(MetricsReading {
            gives: MetricKinds {
                impressions: true,
                likes: true,
                replies: true,
                reposts: false,
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
        if request.external_ids.is_empty() {
            return Ok(BTreeMap::new());
        }
        let ids = request.external_ids.join(",");
        let response = self
            .send(
                self.http
                    .get(self.api("/youtube/v3/videos"))
                    .query(&[("part", "statistics"), ("id", ids.as_str())])
                    .bearer_auth(request.access_token.expose_secret()),
            )
            .await?;
        // A deleted video is simply not among the items.
        let listed: Listing<VideoStatistics> = Self::read_json(response).await?;
        Ok(listed
            .items
            .iter()
            .map(|video| (video.id.clone(), video.metrics()))
            .collect())
    }
}

fn saved_json(saved: &Saved) -> serde_json::Value {
    serde_json::to_value(saved).expect("the upload's progress is plain data")
}

fn no_channel() -> PlatformError {
    PlatformError::permanent(
        "This Google account has no YouTube channel: create one on youtube.com, then connect again.",
    )
}

/// The bytes a 308 says arrived: `Range: bytes=0-{n}` means `n + 1`; no `Range`, none.
fn confirmed_bytes(headers: &HeaderMap) -> u64 {
    headers
        .get(RANGE)
        .and_then(|value| value.to_str().ok())
        .and_then(|range| range.trim().strip_prefix("bytes=0-"))
        .and_then(|last| last.parse::<u64>().ok())
        .map_or(0, |last| last + 1)
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error: GoogleError,
}

#[derive(Deserialize, Default)]
struct GoogleError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    errors: Vec<GoogleReason>,
}

#[derive(Deserialize, Default)]
struct GoogleReason {
    #[serde(default)]
    reason: String,
}

/// Sorts an unsuccessful answer from YouTube into the closed set of outcomes, by the reason
/// Google gives.
pub fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    _now: DateTime<Utc>,
) -> PlatformError {
    let error = serde_json::from_str::<ErrorBody>(body)
        .unwrap_or_default()
        .error;
    let reason = error
        .errors
        .first()
        .map(|reason| reason.reason.as_str())
        .unwrap_or_default();
    let message: String = error.message.chars().take(300).collect();
    let passing = |detail: &str| PlatformError::Retryable {
        wait: retry_after(headers).or(Some(Duration::from_secs(60))),
        maybe_done: false,
        detail: detail.to_owned(),
    };
    match (status.as_u16(), reason) {
        (401, _) | (_, "authError" | "insufficientPermissions") => PlatformError::Reauth {
            detail: "YouTube no longer accepts this account's authorization".into(),
        },
        _ if error.status == "UNAUTHENTICATED" => PlatformError::Reauth {
            detail: "YouTube no longer accepts this account's authorization".into(),
        },
        (_, "quotaExceeded") => PlatformError::permanent(
            "This app's YouTube quota for today is spent; it resets at midnight Pacific time. Post again after that.",
        ),
        (_, "uploadLimitExceeded") => PlatformError::permanent(
            "This channel reached YouTube's daily upload limit: post again in 24 hours.",
        ),
        (_, "youtubeSignupRequired") => no_channel(),
        (_, "rateLimitExceeded" | "userRateLimitExceeded") | (429, _) => {
            passing("YouTube's rate limit was reached")
        }
        (500..=599, _) => PlatformError::Retryable {
            wait: retry_after(headers),
            maybe_done: false,
            detail: format!("YouTube had a server error ({})", status.as_u16()),
        },
        _ if message.is_empty() => {
            PlatformError::permanent(format!("YouTube refused the video ({}).", status.as_u16()))
        }
        _ => PlatformError::permanent(format!("YouTube refused the video: {message}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_are_read_from_strings_and_a_hidden_like_count_stays_unknown() {
        let listed: Listing<VideoStatistics> = serde_json::from_str(
            r#"{"items":[
                {"id":"a","statistics":{"viewCount":"1200","likeCount":"44","favoriteCount":"0","commentCount":"3"}},
                {"id":"b","statistics":{"viewCount":"10","commentCount":"0"}}
            ]}"#,
        )
        .unwrap();
        assert_eq!(
            listed.items[0].metrics(),
            PostMetrics {
                impressions: Some(1200),
                likes: Some(44),
                replies: Some(3),
                reposts: None,
                link_clicks: None,
            }
        );
        assert_eq!(listed.items[1].metrics().likes, None);
        assert_eq!(listed.items[1].metrics().replies, Some(0));
    }

    fn options(pairs: &[(&str, &str)]) -> TargetOptions {
        pairs.iter().copied().collect()
    }

    const GOOD: [(&str, &str); 4] = [
        ("title", "Glazing the autumn mugs"),
        ("privacy", "unlisted"),
        ("made_for_kids", "false"),
        ("tags", "pottery, glaze, slow craft"),
    ];

    #[test]
    fn a_video_needs_a_title_a_privacy_and_the_kids_answer() {
        let read = VideoOptions::read(&options(&GOOD)).unwrap();
        assert_eq!(read.privacy, "unlisted");
        assert!(!read.made_for_kids);
        assert_eq!(read.tags, ["pottery", "glaze", "slow craft"]);
        for (missing, word) in [
            ("title", "title"),
            ("privacy", "privacy"),
            ("made_for_kids", "made for kids"),
        ] {
            let without: Vec<_> = GOOD.into_iter().filter(|(n, _)| *n != missing).collect();
            let problem = VideoOptions::read(&options(&without)).unwrap_err();
            assert!(problem.contains(word), "{problem}");
        }
        let mut bad = GOOD.to_vec();
        bad[1] = ("privacy", "friends");
        assert!(
            VideoOptions::read(&options(&bad))
                .unwrap_err()
                .contains("friends")
        );
        let mut angled = GOOD.to_vec();
        angled[0] = ("title", "<b>Mugs</b>");
        assert!(
            VideoOptions::read(&options(&angled))
                .unwrap_err()
                .contains("< or >")
        );
        let long = "t".repeat(MAX_TITLE_CHARS + 1);
        let mut too_long = GOOD.to_vec();
        too_long[0] = ("title", &long);
        assert!(
            VideoOptions::read(&options(&too_long))
                .unwrap_err()
                .contains("100")
        );
    }

    #[test]
    fn tags_are_counted_the_way_youtube_counts_them() {
        let tags = |list: &[&str]| list.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>();
        assert_eq!(tags_length(&tags(&[])), 0);
        // 3 + 1 (comma) + 10 + 2 (quotes around a tag with a space).
        assert_eq!(tags_length(&tags(&["mug", "slow craft"])), 16);
        let many = "abcdefghi,".repeat(60);
        let mut over = GOOD.to_vec();
        over[3] = ("tags", &many);
        assert!(
            VideoOptions::read(&options(&over))
                .unwrap_err()
                .contains("500")
        );
    }

    #[test]
    fn a_308_range_says_how_many_bytes_arrived() {
        let mut headers = HeaderMap::new();
        assert_eq!(confirmed_bytes(&headers), 0);
        headers.insert(RANGE, "bytes=0-262143".parse().unwrap());
        assert_eq!(confirmed_bytes(&headers), 262_144);
    }

    #[test]
    fn answers_are_sorted_by_googles_reason() {
        let now = Utc::now();
        let none = HeaderMap::new();
        let body = |code: u16, reason: &str| {
            format!(
                r#"{{"error":{{"code":{code},"message":"m {reason}","errors":[{{"domain":"youtube","reason":"{reason}"}}]}}}}"#
            )
        };
        assert!(matches!(
            classify(StatusCode::UNAUTHORIZED, &none, "", now),
            PlatformError::Reauth { .. }
        ));
        assert!(
            classify(
                StatusCode::FORBIDDEN,
                &none,
                &body(403, "quotaExceeded"),
                now
            )
            .to_string()
            .contains("midnight Pacific")
        );
        assert!(
            classify(
                StatusCode::BAD_REQUEST,
                &none,
                &body(400, "uploadLimitExceeded"),
                now
            )
            .to_string()
            .contains("24 hours")
        );
        assert!(matches!(
            classify(
                StatusCode::FORBIDDEN,
                &none,
                &body(403, "userRateLimitExceeded"),
                now
            ),
            PlatformError::Retryable {
                wait: Some(_),
                maybe_done: false,
                ..
            }
        ));
        assert!(matches!(
            classify(StatusCode::SERVICE_UNAVAILABLE, &none, "", now),
            PlatformError::Retryable { .. }
        ));
        assert_eq!(
            classify(
                StatusCode::BAD_REQUEST,
                &none,
                &body(400, "invalidTitle"),
                now
            ),
            PlatformError::permanent("YouTube refused the video: m invalidTitle")
        );
    }
}
