//! Pinterest (API v5), as `shared/platforms.md` section 6 describes it: OAuth without PKCE and
//! with Basic client authentication, the account, image pins and video pins (the media upload,
//! its processing, then the pin with a cover) on a chosen board, reconciliation through the
//! board's newest pins, and the classification of Pinterest's answers. Nothing outside this
//! file knows a Pinterest URL or error body.
//!
//! Metrics: impressions (`IMPRESSION`), saves as reposts (`SAVE`) and link clicks
//! (`OUTBOUND_CLICK`), one pin a call from `GET /v5/pins/{id}/analytics`, summed over the days
//! since the pin was made (Pinterest reports at most 90 days back). Likes and replies are not
//! among its pin metrics.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use app::types::{Fold, Frame, Gallery, PreviewRules, Ratio, TextCounter};
use app::types::{OptionChoice, OptionField, Platform, TargetOptions};

use super::answers::{self, retry_after};
use super::oauth::TokenAnswer;
use super::{
    AccountProfile, AuthorizationStart, LineBreaks, MediaCheck, MediaFile, MediaPull, MetricKinds,
    MetricsReading, MetricsRequest, PlatformError, PostCheck, PostMetrics, PostProblem, Progress,
    PublishError, PublishOutcome, PublishRequest, Published, SocialPlatform, TokenSet, join_url,
};
use crate::config::{ClientCredentials, PlatformApp};

/// `boards:write` is asked for so the composer can create a board without a second consent.
const SCOPES: [&str; 5] = [
    "boards:read",
    "boards:write",
    "pins:read",
    "pins:write",
    "user_accounts:read",
];
const MAX_TITLE_CHARS: usize = 100;
/// The API's limit (platforms.md notes Ayrshare caps at 500; the API spec says 800).
const MAX_DESCRIPTION_CHARS: usize = 800;
const MAX_LINK_CHARS: usize = 2048;
const MAX_ALT_TEXT_CHARS: usize = 500;
/// Pinterest's help pages give 20 MB for an image pin; not in the API contract, so kept
/// generous rather than strict.
const MAX_IMAGE_BYTES: u64 = 20 * 1024 * 1024;
/// Pinterest's help pages: video pins are MP4 or MOV, 4 seconds to 15 minutes, up to 2 GB.
const VIDEO_TYPES: [&str; 2] = ["video/mp4", "video/quicktime"];
const MIN_VIDEO_MS: u64 = 4_000;
const MAX_VIDEO_MS: u64 = 15 * 60 * 1_000;
const MAX_VIDEO_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// A video is sent to the upload URL a piece of this size at a time.
const UPLOAD_PIECE: usize = 1024 * 1024;
/// A video upload may take this long: far more than other calls.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(3600);
const PROCESSING_CHECK: Duration = Duration::from_secs(30);
/// The options a pin takes, as the API and the composer name them.
const OPTION_NAMES: [&str; 4] = ["board_id", "title", "link", "alt_text"];
/// Boards are listed in pages of this many (Pinterest's largest)...
const BOARDS_PAGE: usize = 250;
/// ...and this many pages at most: an account with more boards than this is rare, and the
/// composer would not list them usefully anyway.
const BOARDS_PAGES: usize = 4;
/// Reconciliation reads the board's newest pins in pages of this many.
const RECONCILE_PAGE: usize = 25;
/// The pin metrics read: impressions, saves, clicks through the pin's link.
const METRIC_TYPES: &str = "IMPRESSION,SAVE,OUTBOUND_CLICK";
/// Pinterest reports pin analytics for at most this many days back, today included.
const ANALYTICS_DAYS: u64 = 90;
/// One call per pin; Pinterest does not document an analytics limit, so a modest share.
const METRICS_CALLS_PER_ROUND: u32 = 100;

pub struct PinterestPlatform {
    credentials: ClientCredentials,
    auth_url: http::Uri,
    http: reqwest::Client,
    api_url: http::Uri,
    /// Where pin links point: `{auth_url}/pin/{id}/` (pinterest.com, or the sandbox).
    web_url: http::Uri,
}

/// A pin's choices, read from the target's options.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PinOptions {
    board_id: String,
    title: Option<String>,
    link: Option<String>,
    alt_text: Option<String>,
}

impl PinOptions {
    /// Reads and checks the options; the error tells a person what to change.
    fn read(options: &TargetOptions) -> Result<Self, String> {
        if let Some(unknown) = options
            .keys()
            .find(|name| !OPTION_NAMES.contains(&name.as_str()))
        {
            return Err(format!(
                "Pinterest has no option `{unknown}`; a pin takes board_id, title, link and alt_text."
            ));
        }
        let text = |name: &str| -> Result<Option<String>, String> {
            Ok(options
                .get(name)
                .map(|value| value.trim())
                .filter(|value| !value.is_empty())
                .map(str::to_owned))
        };
        let board_id =
            text("board_id")?.ok_or("Choose the Pinterest board to pin to (option `board_id`).")?;
        if !board_id.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!(
                "`{board_id}` is not a Pinterest board id (they are numbers); choose a board from the list."
            ));
        }
        let title = text("title")?;
        if let Some(title) = &title
            && title.chars().count() > MAX_TITLE_CHARS
        {
            return Err(format!(
                "A pin's title may be {MAX_TITLE_CHARS} characters; this one is {}.",
                title.chars().count()
            ));
        }
        let link = text("link")?;
        if let Some(link) = &link {
            if !(link.starts_with("https://") || link.starts_with("http://"))
                || url::Url::parse(link).is_err()
            {
                return Err(format!(
                    "A pin's link must be a web address starting with https://; `{link}` is not."
                ));
            }
            if link.len() > MAX_LINK_CHARS {
                return Err(format!(
                    "A pin's link may be {MAX_LINK_CHARS} characters long; this one is {}.",
                    link.len()
                ));
            }
        }
        let alt_text = text("alt_text")?;
        if let Some(alt) = &alt_text
            && alt.chars().count() > MAX_ALT_TEXT_CHARS
        {
            return Err(format!(
                "A pin's alt text may be {MAX_ALT_TEXT_CHARS} characters; this one is {}.",
                alt.chars().count()
            ));
        }
        Ok(Self {
            board_id,
            title,
            link,
            alt_text,
        })
    }
}

impl PinterestPlatform {
    /// `None` when the operator has not configured Pinterest's credentials.
    pub fn from_config(app: &PlatformApp, http: reqwest::Client) -> Option<Self> {
        Some(Self {
            credentials: app.credentials.clone()?,
            auth_url: app.auth_url.clone(),
            http,
            api_url: app.api_url.clone(),
            web_url: app.auth_url.clone(),
        })
    }

    fn api(&self, path: &str) -> String {
        join_url(&self.api_url, path)
    }

    fn pin_url(&self, id: &str) -> String {
        join_url(&self.web_url, &format!("/pin/{id}/"))
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, PlatformError> {
        answers::send(Platform::Pinterest, request, classify).await
    }

    async fn read_json<T: DeserializeOwned>(
        response: reqwest::Response,
    ) -> Result<T, PlatformError> {
        answers::read_json(Platform::Pinterest, response).await
    }

    /// Registers a video, sends it whole to the upload URL Pinterest gave (a form of its
    /// fields, then the file, streamed from the store) and returns its media id.
    async fn upload_video(
        &self,
        token: &SecretString,
        video: &MediaFile,
        progress: &mut dyn Progress,
    ) -> Result<String, PublishError> {
        let response = self
            .send(
                self.http
                    .post(self.api("/v5/media"))
                    .bearer_auth(token.expose_secret())
                    .json(&json!({ "media_type": "video" })),
            )
            .await?;
        let registered: RegisteredMedia = Self::read_json(response).await?;
        progress
            .save(json!(SavedVideo {
                media_id: registered.media_id.clone(),
                uploaded: false,
            }))
            .await?;
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in registered.upload_parameters {
            let value = match value {
                serde_json::Value::String(text) => text,
                other => other.to_string(),
            };
            form = form.text(name, value);
        }
        let file = reqwest::multipart::Part::stream_with_length(
            reqwest::Body::wrap_stream(video.stream(UPLOAD_PIECE)),
            video.size,
        )
        .file_name("video")
        .mime_str(&video.mime)
        .map_err(|_| PlatformError::permanent("The video's type cannot be sent to Pinterest."))?;
        // Pinterest's upload URL is its storage's, followed as given.
        self.send(
            self.http
                .post(&registered.upload_url)
                .timeout(UPLOAD_TIMEOUT)
                .multipart(form.part("file", file)),
        )
        .await?;
        progress
            .save(json!(SavedVideo {
                media_id: registered.media_id.clone(),
                uploaded: true,
            }))
            .await?;
        progress.step(format!(
            "video uploaded to Pinterest ({:.1} MB)",
            video.size as f64 / 1_000_000.0
        ));
        Ok(registered.media_id)
    }

    /// Whether Pinterest finished processing the video: `Ok(None)` while it still works.
    async fn video_ready(
        &self,
        token: &SecretString,
        media_id: &str,
    ) -> Result<Option<()>, PlatformError> {
        let url = self.api(&format!("/v5/media/{media_id}"));
        answers::check_a_few_times(|| async {
            let response = self
                .send(self.http.get(&url).bearer_auth(token.expose_secret()))
                .await?;
            let state: MediaState = Self::read_json(response).await?;
            match state.status.as_str() {
                "succeeded" => Ok(Some(())),
                "failed" => Err(PlatformError::permanent(
                    "Pinterest could not process the video: check it plays, export it as an H.264 MP4, then post it again.",
                )),
                _ => Ok(None),
            }
        })
        .await
    }

    /// One call to the token endpoint. By hand rather than through `oauth2`: Pinterest answers
    /// errors in its own `{code, message}` envelope, not OAuth's, and joins scopes with commas.
    async fn token_request(&self, form: &[(&str, &str)]) -> Result<TokenSet, PlatformError> {
        let request = self
            .http
            .post(self.api("/v5/oauth/token"))
            .basic_auth(
                &self.credentials.client_id,
                Some(self.credentials.client_secret.expose_secret()),
            )
            .form(form);
        let response = answers::send(Platform::Pinterest, request, classify_token).await?;
        let answer: TokenAnswer = Self::read_json(response).await?;
        Ok(answer.into_tokens(&SCOPES))
    }
}

#[derive(Deserialize)]
struct UserAccount {
    username: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    business_name: Option<String>,
    #[serde(default)]
    profile_image: Option<String>,
}

#[derive(Deserialize)]
struct Pin {
    id: String,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    link: Option<String>,
}

/// What a video pin's upload has reached, kept on the target between attempts.
#[derive(serde::Serialize, Deserialize)]
struct SavedVideo {
    media_id: String,
    /// Every byte reached Pinterest: only processing, then the pin, are left.
    uploaded: bool,
}

#[derive(Deserialize)]
struct RegisteredMedia {
    media_id: String,
    upload_url: String,
    #[serde(default)]
    upload_parameters: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct MediaState {
    status: String,
}

#[derive(Deserialize)]
struct Board {
    id: String,
    name: String,
}

#[derive(Deserialize)]
struct BoardPage {
    #[serde(default)]
    items: Vec<Board>,
    #[serde(default)]
    bookmark: Option<String>,
}

#[derive(Deserialize)]
struct PinPage {
    #[serde(default)]
    items: Vec<Pin>,
    #[serde(default)]
    bookmark: Option<String>,
}

#[async_trait]
impl SocialPlatform for PinterestPlatform {
    fn platform(&self) -> Platform {
        Platform::Pinterest
    }

    fn start_authorization(&self, redirect_uri: &str, state: &str) -> AuthorizationStart {
        let mut url = url::Url::parse(&join_url(&self.auth_url, "/oauth/"))
            .expect("PINTEREST_AUTH_URL was checked as a URL");
        url.query_pairs_mut()
            .append_pair("client_id", &self.credentials.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("scope", &SCOPES.join(","))
            .append_pair("state", state);
        AuthorizationStart {
            url: url.to_string(),
            // Pinterest's web flow has no PKCE.
            pkce_verifier: SecretString::from(String::new()),
        }
    }

    async fn exchange_code(
        &self,
        code: &str,
        _pkce_verifier: &SecretString,
        redirect_uri: &str,
    ) -> Result<TokenSet, PlatformError> {
        self.token_request(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
        ])
        .await
    }

    async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, PlatformError> {
        // Without continuous refresh Pinterest keeps the refresh token and leaves it out of
        // the answer; the caller then keeps the one it has.
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
        ])
        .await
    }

    /// Pinterest's API has no revocation endpoint: the grant ends when the user removes the
    /// app in their Pinterest settings, and the tokens we hold are deleted with the
    /// connection.
    async fn revoke(&self, _token: &SecretString) -> Result<(), PlatformError> {
        Ok(())
    }

    async fn account(&self, access_token: &SecretString) -> Result<AccountProfile, PlatformError> {
        let response = self
            .send(
                self.http
                    .get(self.api("/v5/user_account"))
                    .bearer_auth(access_token.expose_secret()),
            )
            .await?;
        let account: UserAccount = Self::read_json(response).await?;
        Ok(AccountProfile {
            account_id: account.id.unwrap_or_else(|| account.username.clone()),
            display_name: account.business_name.filter(|name| !name.is_empty()),
            handle: account.username,
            avatar_url: account.profile_image,
        })
    }

    async fn post_options(
        &self,
        access_token: &SecretString,
        _account_id: &str,
    ) -> Result<Vec<OptionField>, PlatformError> {
        let mut boards = Vec::new();
        let mut bookmark: Option<String> = None;
        for _ in 0..BOARDS_PAGES {
            let mut query = vec![("page_size", BOARDS_PAGE.to_string())];
            if let Some(mark) = bookmark.take() {
                query.push(("bookmark", mark));
            }
            let response = self
                .send(
                    self.http
                        .get(self.api("/v5/boards"))
                        .query(&query)
                        .bearer_auth(access_token.expose_secret()),
                )
                .await?;
            let page: BoardPage = Self::read_json(response).await?;
            boards.extend(page.items.into_iter().map(|board| OptionChoice {
                value: board.id,
                label: board.name,
            }));
            match page.bookmark.filter(|mark| !mark.is_empty()) {
                Some(mark) => bookmark = Some(mark),
                None => break,
            }
        }
        let limit = |max: usize| u32::try_from(max).unwrap_or(u32::MAX);
        Ok(vec![
            OptionField::choice("board_id", "Board", boards)
                .required()
                .addable(),
            OptionField::text("title", "Pin title", limit(MAX_TITLE_CHARS)),
            OptionField::text("link", "Link", limit(MAX_LINK_CHARS))
                .with_help("Where the pin leads, such as the product's page."),
            OptionField::text("alt_text", "Alt text", limit(MAX_ALT_TEXT_CHARS))
                .with_help("What the image shows, for people who cannot see it."),
        ])
    }

    async fn add_choice(
        &self,
        access_token: &SecretString,
        _account_id: &str,
        field: &str,
        label: &str,
    ) -> Result<OptionChoice, PlatformError> {
        if field != "board_id" {
            return Err(PlatformError::permanent(format!(
                "Pinterest has no choices to add to `{field}`."
            )));
        }
        let response = self
            .send(
                self.http
                    .post(self.api("/v5/boards"))
                    .bearer_auth(access_token.expose_secret())
                    .json(&json!({ "name": label })),
            )
            .await?;
        let board: Board = Self::read_json(response).await?;
        Ok(OptionChoice {
            value: board.id,
            label: board.name,
        })
    }

    fn preview_headline(&self, options: &TargetOptions) -> Option<String> {
        super::title_option(options)
    }

    /// Pinterest no longer leans on hashtags: a pin's words are searched as they are.
    fn caption_hashtags(&self) -> usize {
        2
    }

    // A pin's description shows as one paragraph.
    fn caption_line_breaks(&self) -> LineBreaks {
        LineBreaks::None
    }

    fn preview_rules(&self, post: &PostCheck<'_>) -> PreviewRules {
        PreviewRules {
            counter: TextCounter::characters(post.text.chars().count(), MAX_DESCRIPTION_CHARS),
            // A pin's close-up shows the start of the description, then "more".
            fold: Some(Fold {
                chars: 60,
                lines: 2,
                more: "… more",
            }),
            // Pins taller than 2:3 are cut off in the grid; wide ones show whole.
            frame: Frame {
                tallest: Ratio(2, 3),
                widest: Ratio(4, 1),
                crops: true,
            },
            gallery: Gallery::Carousel,
        }
    }

    fn check_post(&self, post: &PostCheck<'_>) -> Result<(), PostProblem> {
        PinOptions::read(post.options).map_err(PostProblem::Options)?;
        let length = post.text.chars().count();
        if length > MAX_DESCRIPTION_CHARS {
            return Err(PostProblem::Text(format!(
                "A pin's description may be {MAX_DESCRIPTION_CHARS} characters; this text is {length}."
            )));
        }
        match post.media {
            [] => Err(PostProblem::Media(
                "A pin needs an image or a video: add one.".into(),
            )),
            [video] if video.mime.starts_with("video/") => check_video(video),
            [image] if !image.mime.starts_with("image/") => {
                Err(PostProblem::Media("Pins take an image or a video.".into()))
            }
            [image] if image.bytes > MAX_IMAGE_BYTES => Err(PostProblem::Media(format!(
                "Pinterest takes images up to {} MB; this one is {:.1} MB.",
                MAX_IMAGE_BYTES / (1024 * 1024),
                image.bytes as f64 / (1024.0 * 1024.0)
            ))),
            [_] => Ok(()),
            several => Err(PostProblem::Media(format!(
                "A pin takes one image or one video; this post has {} files.",
                several.len()
            ))),
        }
    }

    /// A video's cover must be downloaded from the app; an image is downloaded when the app is
    /// reachable and sent inline otherwise.
    fn media_pull(&self) -> MediaPull {
        MediaPull::VideoCovers
    }

    async fn publish(
        &self,
        request: PublishRequest<'_>,
        progress: &mut dyn Progress,
    ) -> Result<PublishOutcome, PublishError> {
        let options = PinOptions::read(request.options).map_err(PlatformError::permanent)?;
        let [file] = request.media else {
            return Err(PlatformError::permanent("A pin needs exactly one image or video.").into());
        };
        let media_source = if file.mime.starts_with("video/") {
            let cover = file.poster_pull_url().ok_or_else(|| {
                PlatformError::permanent(
                    "Pinterest takes a video pin's cover from this app, but cannot reach it: the operator should set PUBLIC_BASE_URL to the app's public https address.",
                )
            })?;
            let saved = request
                .saved
                .and_then(|saved| serde_json::from_value::<SavedVideo>(saved.clone()).ok());
            let media_id = match saved {
                Some(saved) if saved.uploaded => saved.media_id,
                // An upload cut short is sent again whole: it is one request.
                _ => {
                    self.upload_video(request.access_token, file, progress)
                        .await?
                }
            };
            if self
                .video_ready(request.access_token, &media_id)
                .await?
                .is_none()
            {
                return Ok(PublishOutcome::Processing {
                    check_after: PROCESSING_CHECK,
                    status: "Pinterest is processing the video".into(),
                });
            }
            json!({
                "source_type": "video_id",
                "media_id": media_id,
                "cover_image_url": cover,
            })
        } else if let Some(url) = file.pull_url() {
            // Pinterest downloads the image from our signed URL when it can reach us.
            json!({ "source_type": "image_url", "url": url })
        } else {
            // Otherwise the image goes inline.
            json!({
                "source_type": "image_base64",
                "content_type": file.mime,
                "data": base64::engine::general_purpose::STANDARD.encode(file.bytes().await?),
            })
        };
        let mut body = json!({
            "board_id": options.board_id,
            "description": request.text,
            "media_source": media_source,
        });
        for (name, value) in [
            ("title", &options.title),
            ("link", &options.link),
            ("alt_text", &options.alt_text),
        ] {
            if let Some(value) = value {
                body[name] = json!(value);
            }
        }
        let response = self
            .send(
                self.http
                    .post(self.api("/v5/pins"))
                    .bearer_auth(request.access_token.expose_secret())
                    .json(&body),
            )
            .await?;
        let status = response.status();
        let pin: Pin = Self::read_json(response).await?;
        progress.step(format!(
            "Pinterest answered {status}: pin {} created on board {}",
            pin.id, options.board_id
        ));
        Ok(PublishOutcome::Published(Published {
            url: self.pin_url(&pin.id),
            external_id: pin.id,
        }))
    }

    async fn find_published(
        &self,
        request: PublishRequest<'_>,
        since: DateTime<Utc>,
    ) -> Result<Option<Published>, PlatformError> {
        let options = PinOptions::read(request.options).map_err(PlatformError::permanent)?;
        let path = format!("/v5/boards/{}/pins", options.board_id);
        let page_size = RECONCILE_PAGE.to_string();
        let found = answers::find_since(
            Platform::Pinterest,
            since,
            |bookmark: Option<String>| {
                let (path, page_size) = (&path, &page_size);
                async move {
                    let mut query = vec![("page_size", page_size.as_str())];
                    if let Some(mark) = &bookmark {
                        query.push(("bookmark", mark.as_str()));
                    }
                    let response = self
                        .send(
                            self.http
                                .get(self.api(path))
                                .query(&query)
                                .bearer_auth(request.access_token.expose_secret()),
                        )
                        .await?;
                    let page: PinPage = Self::read_json(response).await?;
                    Ok((page.items, page.bookmark.filter(|mark| !mark.is_empty())))
                }
            },
            |pin: &Pin| pin.created_at.as_deref().and_then(pinterest_time),
            |pin: &Pin| is_same_pin(pin, request.text, &options),
        )
        .await?;
        Ok(found.map(|pin| Published {
            url: self.pin_url(&pin.id),
            external_id: pin.id,
        }))
    }

    fn metrics(&self, _account_id: &str) -> Option<MetricsReading> {
        Some(MetricsReading {
            gives: MetricKinds {
                impressions: true,
                likes: false,
                replies: false,
                reposts: true,
                link_clicks: true,
            },
            batch: 1,
            calls_per_round: METRICS_CALLS_PER_ROUND,
        })
    }

    async fn post_metrics(
        &self,
        request: MetricsRequest<'_>,
    ) -> Result<BTreeMap<String, PostMetrics>, PlatformError> {
        let (start, end) = analytics_range(request.since, request.until);
        let (start, end) = (start.to_string(), end.to_string());
        let mut read = BTreeMap::new();
        for id in request.external_ids {
            let sent = answers::send_unless_gone(
                Platform::Pinterest,
                self.http
                    .get(self.api(&format!("/v5/pins/{id}/analytics")))
                    .query(&[
                        ("start_date", start.as_str()),
                        ("end_date", end.as_str()),
                        ("metric_types", METRIC_TYPES),
                    ])
                    .bearer_auth(request.access_token.expose_secret()),
                classify,
            )
            .await?;
            // A pin deleted on Pinterest has no numbers any more.
            let Some(response) = sent else { continue };
            let analytics: PinAnalytics = Self::read_json(response).await?;
            read.insert(id.clone(), analytics.metrics());
        }
        Ok(read)
    }
}

/// Why Pinterest would refuse this video as a pin.
fn check_video(video: &MediaCheck) -> Result<(), PostProblem> {
    if !VIDEO_TYPES.contains(&video.mime.as_str()) {
        return Err(PostProblem::Media(format!(
            "Pinterest takes MP4 or MOV videos; this one is {}.",
            video.mime
        )));
    }
    if video.bytes > MAX_VIDEO_BYTES {
        return Err(PostProblem::Media(
            "Pinterest takes videos up to 2 GB.".into(),
        ));
    }
    match video.video.as_ref().map(|facts| facts.duration_ms) {
        Some(ms) if ms < MIN_VIDEO_MS => Err(PostProblem::Media(format!(
            "A video pin lasts at least 4 seconds; this video is {:.1} s.",
            ms as f64 / 1000.0
        ))),
        Some(ms) if ms > MAX_VIDEO_MS => Err(PostProblem::Media(format!(
            "A video pin lasts at most 15 minutes; this video is {} min.",
            ms.div_ceil(60_000)
        ))),
        _ => Ok(()),
    }
}

/// Whether `pin` is the one a lost attempt created: the same description, title and link.
fn is_same_pin(pin: &Pin, text: &str, options: &PinOptions) -> bool {
    let same = |theirs: &Option<String>, ours: Option<&str>| {
        theirs.as_deref().map(str::trim).filter(|s| !s.is_empty()) == ours.map(str::trim)
    };
    let ours_text = Some(text).filter(|t| !t.trim().is_empty());
    same(&pin.description, ours_text)
        && same(&pin.title, options.title.as_deref())
        && same(&pin.link, options.link.as_deref())
}

/// Pinterest writes `created_at` as ISO 8601, with or without an offset (UTC when without).
fn pinterest_time(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .map(|at| at.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|at| at.and_utc())
        })
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    message: String,
}

/// `GET /v5/pins/{id}/analytics`: per app type, the range's daily and summed figures.
#[derive(Deserialize)]
struct PinAnalytics {
    #[serde(default)]
    all: Option<AnalyticsPart>,
}

#[derive(Deserialize)]
struct AnalyticsPart {
    #[serde(default)]
    summary_metrics: serde_json::Map<String, serde_json::Value>,
}

impl PinAnalytics {
    fn metrics(&self) -> PostMetrics {
        let count = |name: &str| {
            self.all
                .as_ref()?
                .summary_metrics
                .get(name)?
                .as_f64()
                .map(|value| value.round() as i64)
        };
        PostMetrics {
            impressions: count("IMPRESSION"),
            likes: None,
            replies: None,
            reposts: count("SAVE"),
            link_clicks: count("OUTBOUND_CLICK"),
        }
    }
}

/// The days a pin's analytics are summed over: from the day it was made (or as far back as
/// Pinterest reports) to today.
fn analytics_range(since: DateTime<Utc>, until: DateTime<Utc>) -> (NaiveDate, NaiveDate) {
    let end = until.date_naive();
    let earliest = end
        .checked_sub_days(chrono::Days::new(ANALYTICS_DAYS - 1))
        .unwrap_or(end);
    (since.date_naive().clamp(earliest, end), end)
}

/// Sorts an unsuccessful answer from the token endpoint: a refused code or refresh token
/// (400) takes the user, refused app credentials (401) the operator.
fn classify_token(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    now: DateTime<Utc>,
) -> PlatformError {
    match status.as_u16() {
        400 => PlatformError::Reauth {
            detail: "Pinterest no longer accepts this account's authorization".into(),
        },
        401 | 403 => PlatformError::permanent(
            "Pinterest refused this app's credentials: the operator should check PINTEREST_CLIENT_ID and PINTEREST_CLIENT_SECRET",
        ),
        // A refresh whose answer was lost may have been spent.
        _ => classify(status, headers, body, now).with_maybe_done(true),
    }
}

/// Sorts an unsuccessful answer from Pinterest into the closed set of outcomes.
pub fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    _now: DateTime<Utc>,
) -> PlatformError {
    let message: String = serde_json::from_str::<ErrorBody>(body)
        .unwrap_or_default()
        .message
        .chars()
        .take(300)
        .collect();
    let lower = message.to_lowercase();
    match status.as_u16() {
        401 => PlatformError::Reauth {
            detail: "Pinterest no longer accepts this account's authorization".into(),
        },
        429 => PlatformError::Retryable {
            wait: retry_after(headers),
            maybe_done: false,
            detail: "Pinterest's rate limit was reached".into(),
        },
        500..=599 => PlatformError::Retryable {
            wait: retry_after(headers),
            maybe_done: false,
            detail: format!("Pinterest had a server error ({})", status.as_u16()),
        },
        // Pinterest could not download media from our host: worth another try.
        _ if lower.contains("unable to reach the url") => PlatformError::Retryable {
            wait: Some(Duration::from_secs(60)),
            maybe_done: false,
            detail: "Pinterest could not fetch the image".into(),
        },
        _ if lower.contains("board not found") => PlatformError::permanent(
            "Pinterest cannot find the chosen board (deleted, or not this account's): choose another board and retry.",
        ),
        _ if message.is_empty() => {
            PlatformError::permanent(format!("Pinterest refused the pin ({}).", status.as_u16()))
        }
        _ => PlatformError::permanent(format!("Pinterest refused the pin: {message}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(pairs: &[(&str, &str)]) -> TargetOptions {
        pairs.iter().copied().collect()
    }

    #[test]
    fn pin_analytics_give_impressions_saves_and_link_clicks_only() {
        let analytics: PinAnalytics = serde_json::from_str(
            r#"{"all":{"summary_metrics":{"IMPRESSION":1234,"SAVE":17.0,"OUTBOUND_CLICK":9},"daily_metrics":[]}}"#,
        )
        .unwrap();
        assert_eq!(
            analytics.metrics(),
            PostMetrics {
                impressions: Some(1234),
                likes: None,
                replies: None,
                reposts: Some(17),
                link_clicks: Some(9),
            }
        );
    }

    #[test]
    fn analytics_start_on_the_pins_day_and_never_past_ninety_days() {
        let until: DateTime<Utc> = "2027-05-04T10:00:00Z".parse().unwrap();
        let day = |raw: &str| raw.parse::<NaiveDate>().unwrap();
        let since: DateTime<Utc> = "2027-05-01T23:30:00Z".parse().unwrap();
        assert_eq!(
            analytics_range(since, until),
            (day("2027-05-01"), day("2027-05-04"))
        );
        let long_ago: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(analytics_range(long_ago, until).0, day("2027-02-04"));
        assert_eq!(
            analytics_range(until + chrono::Duration::hours(20), until),
            (day("2027-05-04"), day("2027-05-04"))
        );
    }

    #[test]
    fn a_pin_needs_a_numeric_board_and_keeps_to_its_limits() {
        assert!(
            PinOptions::read(&options(&[]))
                .unwrap_err()
                .contains("board")
        );
        assert!(
            PinOptions::read(&options(&[("board_id", "my-board")]))
                .unwrap_err()
                .contains("not a Pinterest board id")
        );
        let long_title = "t".repeat(MAX_TITLE_CHARS + 1);
        assert!(
            PinOptions::read(&options(&[("board_id", "12"), ("title", &long_title)]))
                .unwrap_err()
                .contains("title")
        );
        assert!(
            PinOptions::read(&options(&[("board_id", "12"), ("link", "ftp://shop")]))
                .unwrap_err()
                .contains("link")
        );
        assert!(
            PinOptions::read(&options(&[("board_id", "12"), ("colour", "red")]))
                .unwrap_err()
                .contains("`colour`")
        );
        let read = PinOptions::read(&options(&[
            ("board_id", " 12 "),
            ("title", "Mugs"),
            ("link", "https://shop.example/mugs"),
            ("alt_text", ""),
        ]))
        .unwrap();
        assert_eq!(read.board_id, "12");
        assert_eq!(read.title.as_deref(), Some("Mugs"));
        assert_eq!(read.alt_text, None);
    }

    #[test]
    fn answers_are_sorted_into_the_closed_set() {
        let now = Utc::now();
        let none = HeaderMap::new();
        assert!(matches!(
            classify(StatusCode::UNAUTHORIZED, &none, "{}", now),
            PlatformError::Reauth { .. }
        ));
        let mut wait = HeaderMap::new();
        wait.insert("retry-after", "7".parse().unwrap());
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, &wait, "{}", now),
            PlatformError::Retryable {
                wait: Some(Duration::from_secs(7)),
                maybe_done: false,
                detail: "Pinterest's rate limit was reached".into(),
            }
        );
        assert!(matches!(
            classify(StatusCode::BAD_GATEWAY, &none, "", now),
            PlatformError::Retryable { .. }
        ));
        let missing = classify(
            StatusCode::NOT_FOUND,
            &none,
            r#"{"code":2,"message":"Board not found."}"#,
            now,
        );
        assert!(
            missing.to_string().contains("choose another board"),
            "{missing}"
        );
        let refused = classify(
            StatusCode::BAD_REQUEST,
            &none,
            r#"{"code":1,"message":"Invalid parameters."}"#,
            now,
        );
        assert_eq!(
            refused,
            PlatformError::permanent("Pinterest refused the pin: Invalid parameters.")
        );
    }

    #[test]
    fn created_at_reads_with_and_without_an_offset() {
        assert_eq!(
            pinterest_time("2026-11-26T10:00:00").unwrap().to_rfc3339(),
            "2026-11-26T10:00:00+00:00"
        );
        assert_eq!(
            pinterest_time("2026-11-26T10:00:00.250Z")
                .unwrap()
                .timestamp_millis()
                % 1000,
            250
        );
        assert!(pinterest_time("yesterday").is_none());
    }
}
