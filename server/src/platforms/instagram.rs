//! Instagram professional accounts through Facebook Login (`shared/platforms.md` section 1):
//! the accounts are the Instagram accounts linked to the person's Pages, each acting with its
//! Page's token; a post is a photo, a carousel of 2 to 10 photos and videos, or a reel. Meta
//! downloads the media from the app's signed URLs. The Graph plumbing both Meta platforms share
//! is in [`super::meta_graph`]; nothing outside the two knows a Graph URL or error body.
//!
//! Publishing is container, status, `media_publish`. Containers are invisible until published,
//! so making them again is safe; `media_publish` is the commit point. Every container id is
//! saved before the next call, and the media id as soon as `media_publish` answers: a later
//! attempt follows the saved containers (waiting while Instagram processes them, making them
//! again once they expire, recording the post when they read `PUBLISHED`) instead of starting
//! over. The rolling 24-hour publishing quota is read before publishing; over it, the post
//! waits (a retry timed for when the oldest post in the window leaves it) rather than failing,
//! as the window frees itself within a day and a person would only have to post again.
//!
//! Metrics: likes and comments as replies from the media's own `like_count` and
//! `comments_count`, and views (counted as impressions, `impressions` being retired for media
//! made since July 2024) and shares as reposts from `GET /{ig-media-id}/insights`, which needs
//! `instagram_manage_insights`: asked for, but a person may decline it, and then views and
//! shares stay unknown. Two requests a post; Instagram reports no link clicks for a post.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use app::types::Platform;
use app::types::{Fold, Frame, Gallery, PreviewRules, Ratio, TextCounter};

use super::answers::{QUICK_CHECK_EVERY, QUICK_CHECKS};
use super::meta_graph::{
    self, CODE_MEDIA_NOT_AVAILABLE, Created, Failure, Listed, Listing, MetaApp,
    SUBCODE_CONTAINER_EXPIRED, SUBCODE_CONTAINER_EXPIRED_TOO, SUBCODE_MEDIA_NOT_FOUND,
    SUBCODE_NOT_READY,
};
use super::{
    AccountProfile, AuthorizationStart, ConsentedAccount, LineBreaks, MediaCheck, MediaFile,
    MediaPull, MetricKinds, MetricsReading, MetricsRequest, PlatformError, PostCheck, PostMetrics,
    PostProblem, Progress, PublishError, PublishOutcome, PublishRequest, Published, SocialPlatform,
    TokenSet,
};
use crate::config::PlatformApp;

const SCOPES: [&str; 6] = [
    "instagram_basic",
    "instagram_content_publish",
    "pages_show_list",
    "pages_read_engagement",
    "business_management",
    // Views and shares of a post; optional (see `meta_graph`).
    "instagram_manage_insights",
];
/// The insights read for a post: views (Instagram's impressions since 2025) and shares.
const INSIGHT_METRICS: &str = "views,shares";
/// Each post is two requests; Meta's business use case limits leave room for far more.
const METRICS_CALLS_PER_ROUND: u32 = 100;
const MAX_CAPTION_CHARS: usize = 2200;
/// platforms.md marks the hashtag count unverified; Instagram's app enforces 30.
const MAX_HASHTAGS: usize = 30;
const MAX_IMAGE_BYTES: u64 = 8 * 1024 * 1024;
/// Width over height: 4:5 portrait to 1.91:1 landscape.
const MIN_ASPECT: f64 = 0.8;
const MAX_ASPECT: f64 = 1.91;
const MIN_CAROUSEL_ITEMS: usize = 2;
const MAX_CAROUSEL_ITEMS: usize = 10;
const MIN_VIDEO_MS: u64 = 3_000;
const MAX_VIDEO_MS: u64 = 15 * 60 * 1000;
const VIDEO_TYPES: [&str; 2] = ["video/mp4", "video/quicktime"];
const VIDEO_CODECS: [&str; 2] = ["h264", "hevc"];
/// How soon containers still processing are looked at again: about once a minute, as
/// platforms.md asks for video.
const CONTAINER_CHECK: Duration = Duration::from_secs(60);
/// The quota window when Instagram does not say (24 hours).
const QUOTA_WINDOW_SECS: i64 = 86_400;
/// Where a post's address points when Instagram's permalink cannot be read: the profile.
const INSTAGRAM_WEB: &str = "https://www.instagram.com";

pub struct InstagramPlatform {
    meta: MetaApp,
}

/// What a publish has reached, kept on the target between attempts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Saved {
    /// A carousel's item containers, in the post's order, as far as they were made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    children: Vec<String>,
    /// The container `media_publish` takes: the photo's, the reel's or the carousel's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    container: Option<String>,
    /// The post, once `media_publish` answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    media_id: Option<String>,
}

impl Saved {
    /// Every container to be ready before publishing: the items, then the one published.
    fn containers(&self) -> Vec<String> {
        self.children
            .iter()
            .chain(&self.container)
            .cloned()
            .collect()
    }
}

/// `GET /{container-id}?fields=status_code,status`.
#[derive(Debug, Deserialize)]
struct ContainerStatus {
    #[serde(default)]
    status_code: String,
    #[serde(default)]
    status: Option<String>,
}

/// Where the containers stand together.
enum Readiness {
    Finished,
    InProgress,
    Expired,
    Published,
    Failed(PlatformError),
}

#[derive(Debug, Deserialize)]
struct InstagramUser {
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    profile_picture_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Media {
    id: String,
    #[serde(default)]
    caption: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    permalink: Option<String>,
}

impl Listed for Media {
    fn text(&self) -> Option<&str> {
        self.caption.as_deref()
    }

    fn made_at(&self) -> Option<&str> {
        self.timestamp.as_deref()
    }
}

/// `GET /{ig-media-id}?fields=like_count,comments_count`.
#[derive(Debug, Deserialize)]
struct MediaCounts {
    #[serde(default)]
    like_count: Option<i64>,
    #[serde(default)]
    comments_count: Option<i64>,
}

/// A post's numbers from its counts and, when they could be read, its insights.
fn media_metrics(
    counts: &MediaCounts,
    insights: Option<&BTreeMap<String, meta_graph::Insight>>,
) -> PostMetrics {
    let insight = |name: &str| insights?.get(name)?.count();
    PostMetrics {
        impressions: insight("views"),
        likes: counts.like_count,
        replies: counts.comments_count,
        reposts: insight("shares"),
        link_clicks: None,
    }
}

#[derive(Debug, Deserialize)]
struct PublishingLimit {
    #[serde(default)]
    quota_usage: u32,
    #[serde(default)]
    config: Option<QuotaConfig>,
}

#[derive(Debug, Deserialize)]
struct QuotaConfig {
    quota_total: u32,
    #[serde(default)]
    quota_duration: Option<i64>,
}

/// The kinds of container a file makes.
fn is_video(mime: &str) -> bool {
    mime.starts_with("video/")
}

impl InstagramPlatform {
    /// `None` when the operator configured neither `INSTAGRAM_*` nor `META_*` credentials.
    pub fn from_config(app: &PlatformApp, version: &str, http: reqwest::Client) -> Option<Self> {
        Some(Self {
            meta: MetaApp::from_config(Platform::Instagram, app, version, &SCOPES, http)?,
        })
    }

    /// The Instagram accounts linked to the Pages `tokens` reach, each with its Page's token.
    async fn linked_accounts(
        &self,
        tokens: &TokenSet,
    ) -> Result<Vec<ConsentedAccount>, PlatformError> {
        let pages = self
            .meta
            .pages(
                &tokens.access,
                "id,name,access_token,instagram_business_account",
            )
            .await?;
        let mut accounts = Vec::new();
        for page in pages {
            let (Some(linked), Some(page_token)) =
                (page.instagram_business_account, page.access_token)
            else {
                continue;
            };
            let page_token = meta_graph::page_tokens(page_token, tokens);
            let user: InstagramUser = self
                .meta
                .get(
                    &page_token.access,
                    &linked.id,
                    &[("fields", "username,name,profile_picture_url")],
                )
                .await?;
            let handle = user
                .username
                .filter(|name| !name.is_empty())
                .unwrap_or_else(|| linked.id.clone());
            accounts.push(ConsentedAccount {
                profile: AccountProfile {
                    account_id: linked.id,
                    handle,
                    display_name: user.name.filter(|name| !name.is_empty()),
                    avatar_url: user.profile_picture_url,
                },
                tokens: Some(page_token),
            });
        }
        Ok(accounts)
    }

    /// Makes the containers the post needs, saving each id before the next call.
    async fn make_containers(
        &self,
        request: &PublishRequest<'_>,
        saved: &mut Saved,
        progress: &mut dyn Progress,
    ) -> Result<(), PublishError> {
        let caption = Some(request.text).filter(|text| !text.trim().is_empty());
        let id = match request.media {
            [single] => self.make_container(request, single, caption, false).await?,
            items => {
                for item in &items[saved.children.len().min(items.len())..] {
                    let child = self.make_container(request, item, None, true).await?;
                    saved.children.push(child);
                    progress.save(meta_graph::saved_json(&saved)).await?;
                }
                let children = saved.children.join(",");
                let mut form = vec![("media_type", "CAROUSEL"), ("children", children.as_str())];
                if let Some(caption) = caption {
                    form.push(("caption", caption));
                }
                let created: Created = self
                    .meta
                    .post(
                        request.access_token,
                        &format!("{}/media", request.account_id),
                        &form,
                    )
                    .await?;
                created.id
            }
        };
        saved.container = Some(id);
        progress.save(meta_graph::saved_json(&saved)).await?;
        progress.step(format!(
            "Instagram container {} made for {} file(s)",
            saved.container.as_deref().unwrap_or_default(),
            request.media.len()
        ));
        Ok(())
    }

    /// One container: a photo or a reel, or an item of a carousel.
    async fn make_container(
        &self,
        request: &PublishRequest<'_>,
        file: &MediaFile,
        caption: Option<&str>,
        carousel_item: bool,
    ) -> Result<String, PublishError> {
        let url = self.meta.media_url(file)?;
        let mut form = Vec::new();
        match (is_video(&file.mime), carousel_item) {
            (true, false) => form.extend([("media_type", "REELS"), ("video_url", url)]),
            (true, true) => form.extend([("media_type", "VIDEO"), ("video_url", url)]),
            (false, _) => form.push(("image_url", url)),
        }
        if carousel_item {
            form.push(("is_carousel_item", "true"));
        }
        if let Some(caption) = caption {
            form.push(("caption", caption));
        }
        let created: Created = self
            .meta
            .post(
                request.access_token,
                &format!("{}/media", request.account_id),
                &form,
            )
            .await?;
        Ok(created.id)
    }

    async fn container_status(
        &self,
        token: &SecretString,
        id: &str,
    ) -> Result<ContainerStatus, Failure> {
        self.meta
            .get(token, id, &[("fields", "status_code,status")])
            .await
    }

    /// Where the containers stand: the first that failed, expired or was published decides,
    /// then any still in progress.
    async fn readiness(
        &self,
        token: &SecretString,
        containers: &[String],
    ) -> Result<Readiness, PlatformError> {
        let mut in_progress = false;
        for id in containers {
            let status = self.container_status(token, id).await?;
            match status.status_code.as_str() {
                "FINISHED" => {}
                "PUBLISHED" => return Ok(Readiness::Published),
                "EXPIRED" => return Ok(Readiness::Expired),
                "ERROR" => return Ok(Readiness::Failed(container_error(status.status.as_deref()))),
                _ => in_progress = true,
            }
        }
        Ok(if in_progress {
            Readiness::InProgress
        } else {
            Readiness::Finished
        })
    }

    /// The rolling 24-hour quota: posts used and the limit, with the window's length.
    async fn quota(
        &self,
        access_token: &SecretString,
        account_id: &str,
    ) -> Result<Option<(u32, u32, chrono::Duration)>, PlatformError> {
        let limits: Listing<PublishingLimit> = self
            .meta
            .get(
                access_token,
                &format!("{account_id}/content_publishing_limit"),
                &[("fields", "quota_usage,config")],
            )
            .await?;
        Ok(limits.data.into_iter().find_map(|limit| {
            let config = limit.config?;
            let window = config.quota_duration.unwrap_or(QUOTA_WINDOW_SECS);
            Some((
                limit.quota_usage,
                config.quota_total,
                chrono::Duration::seconds(window),
            ))
        }))
    }

    /// Reads the rolling 24-hour quota: over it, a retry timed for when a slot frees.
    async fn check_quota(&self, request: &PublishRequest<'_>) -> Result<(), PlatformError> {
        let Some((usage, total, window)) =
            self.quota(request.access_token, request.account_id).await?
        else {
            return Ok(());
        };
        if usage < total {
            return Ok(());
        }
        let wait = self
            .until_a_slot_frees(request.access_token, request.account_id, window, total)
            .await;
        Err(PlatformError::Retryable {
            wait,
            maybe_done: false,
            detail: format!(
                "This Instagram account has reached Instagram's limit of {total} posts per 24 hours; the post goes out when the oldest of them leaves the window{}",
                wait.map_or(String::new(), |wait| format!(
                    ", in about {}",
                    hours_and_minutes(wait)
                ))
            ),
        })
    }

    /// When the oldest post in the quota's window leaves it, read from the account's posts;
    /// `None` when they do not say (the pipeline's backoff then decides).
    async fn until_a_slot_frees(
        &self,
        access_token: &SecretString,
        account_id: &str,
        window: chrono::Duration,
        quota: u32,
    ) -> Option<Duration> {
        let limit = quota.clamp(1, 100).to_string();
        let listing: Listing<Media> = self
            .meta
            .get(
                access_token,
                &format!("{account_id}/media"),
                &[("fields", "id,timestamp"), ("limit", limit.as_str())],
            )
            .await
            .ok()?;
        let now = Utc::now();
        let oldest = listing
            .data
            .iter()
            .filter_map(|media| media.timestamp.as_deref().and_then(meta_graph::graph_time))
            .filter(|at| *at > now - window)
            .min()?;
        // A minute more, for the two clocks.
        (oldest + window - now + chrono::Duration::minutes(1))
            .to_std()
            .ok()
    }

    /// The post's address, read from Instagram; the profile's when that read fails (the post
    /// is live either way).
    async fn published(&self, request: &PublishRequest<'_>, media_id: &str) -> Published {
        #[derive(Deserialize)]
        struct Permalink {
            #[serde(default)]
            permalink: Option<String>,
        }
        let read: Result<Permalink, Failure> = self
            .meta
            .get(request.access_token, media_id, &[("fields", "permalink")])
            .await;
        let url = read
            .ok()
            .and_then(|read| read.permalink)
            .unwrap_or_else(|| format!("{INSTAGRAM_WEB}/{}/", request.handle));
        Published {
            external_id: media_id.to_owned(),
            url,
        }
    }

    /// Among the account's newest posts, the one with this caption made since `since`.
    async fn find_media(
        &self,
        request: &PublishRequest<'_>,
        since: DateTime<Utc>,
    ) -> Result<Option<Published>, PlatformError> {
        let found: Option<Media> = self
            .meta
            .find_ours(
                request.access_token,
                &format!("{}/media", request.account_id),
                "id,caption,timestamp,permalink",
                request.text,
                since,
            )
            .await?;
        Ok(found.map(|media| Published {
            url: media
                .permalink
                .unwrap_or_else(|| format!("{INSTAGRAM_WEB}/{}/", request.handle)),
            external_id: media.id,
        }))
    }

    /// A container reads `PUBLISHED`: an attempt's `media_publish` went through and its answer
    /// was lost. The post is found among the account's newest and recorded.
    async fn already_published(
        &self,
        request: &PublishRequest<'_>,
    ) -> Result<PublishOutcome, PlatformError> {
        // The container was made before the attempt whose answer was lost; a day covers it.
        let since = Utc::now() - chrono::Duration::days(1);
        match self.find_media(request, since).await? {
            Some(published) => Ok(PublishOutcome::AlreadyPublished(published)),
            None => Err(PlatformError::Retryable {
                wait: Some(CONTAINER_CHECK),
                maybe_done: true,
                detail: "Instagram says the post is published but does not list it yet".into(),
            }),
        }
    }

    /// Publishes ready containers: the commit point, then the media id saved before the
    /// permalink is read.
    async fn publish_container(
        &self,
        request: &PublishRequest<'_>,
        saved: &mut Saved,
        progress: &mut dyn Progress,
    ) -> Result<Result<PublishOutcome, Failure>, PublishError> {
        let container = saved.container.clone().unwrap_or_default();
        let answer: Result<Created, Failure> = self
            .meta
            .post(
                request.access_token,
                &format!("{}/media_publish", request.account_id),
                &[("creation_id", container.as_str())],
            )
            .await;
        let media = match answer {
            Ok(media) => media,
            Err(failure) => return Ok(Err(failure)),
        };
        saved.media_id = Some(media.id.clone());
        progress.save(meta_graph::saved_json(&saved)).await?;
        progress.step(format!(
            "Instagram published container {container} as {}",
            media.id
        ));
        Ok(Ok(PublishOutcome::Published(
            self.published(request, &media.id).await,
        )))
    }
}

/// A container Instagram could not process: its `status` carries the subcode.
fn container_error(status: Option<&str>) -> PlatformError {
    let status = status.unwrap_or_default();
    let subcode = status
        .split(|c: char| !c.is_ascii_digit())
        .find(|digits| digits.len() >= 4)
        .and_then(|digits| digits.parse::<u32>().ok());
    match subcode.and_then(meta_graph::subcode_meaning) {
        Some(meaning) => PlatformError::permanent(meaning),
        None => PlatformError::permanent(format!(
            "Instagram could not process the media ({}): check the file, then post again.",
            status.chars().take(200).collect::<String>().trim()
        )),
    }
}

fn no_linked_account() -> PlatformError {
    PlatformError::permanent(
        "None of the Facebook Pages allowed has an Instagram professional account linked to it: link the Instagram account to a Page (Instagram app, Settings, Account type and tools), then click Connect again and allow that Page.",
    )
}

fn hours_and_minutes(wait: Duration) -> String {
    let minutes = wait.as_secs().div_ceil(60);
    match (minutes / 60, minutes % 60) {
        (0, minutes) => format!("{minutes} min"),
        (hours, 0) => format!("{hours} h"),
        (hours, minutes) => format!("{hours} h {minutes} min"),
    }
}

fn hashtags(text: &str) -> usize {
    text.match_indices('#')
        .filter(|(at, _)| {
            text[at + 1..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
        .count()
}

fn check_image(image: &MediaCheck) -> Result<(), PostProblem> {
    if image.mime != "image/jpeg" {
        let kind = match image.mime.as_str() {
            "image/png" => "a PNG".to_owned(),
            other => format!("`{other}`"),
        };
        return Err(PostProblem::Media(format!(
            "Instagram takes JPEG photos only, and this one is {kind}: export it as a JPEG, then attach it again."
        )));
    }
    if image.bytes > MAX_IMAGE_BYTES {
        return Err(PostProblem::Media(format!(
            "Instagram takes photos up to 8 MB; this one is {:.1} MB.",
            image.bytes as f64 / (1024.0 * 1024.0)
        )));
    }
    if image.width > 0 && image.height > 0 {
        let aspect = f64::from(image.width) / f64::from(image.height);
        if !(MIN_ASPECT..=MAX_ASPECT).contains(&aspect) {
            return Err(PostProblem::Media(format!(
                "Instagram takes photos from 4:5 portrait to 1.91:1 landscape; this one is {}×{}: crop it.",
                image.width, image.height
            )));
        }
    }
    Ok(())
}

fn check_video(video: &MediaCheck) -> Result<(), PostProblem> {
    if !VIDEO_TYPES.contains(&video.mime.as_str()) {
        return Err(PostProblem::Media(format!(
            "Instagram takes MP4 or MOV videos; this one is `{}`.",
            video.mime
        )));
    }
    let Some(facts) = &video.video else {
        return Ok(());
    };
    if !(MIN_VIDEO_MS..=MAX_VIDEO_MS).contains(&facts.duration_ms) {
        return Err(PostProblem::Media(format!(
            "Instagram takes videos from 3 seconds to 15 minutes long; this one is {:.1} s.",
            facts.duration_ms as f64 / 1000.0
        )));
    }
    if !VIDEO_CODECS.contains(&facts.video_codec.as_str()) {
        return Err(PostProblem::Media(format!(
            "Instagram takes H.264 or HEVC video; this one is {}: export it as H.264.",
            facts.video_codec
        )));
    }
    if !facts.faststart {
        return Err(PostProblem::Media(
            "Instagram needs the video's index at the start of the file (\"fast start\"): export it again with fast start on (ffmpeg: -movflags +faststart)."
                .into(),
        ));
    }
    Ok(())
}

#[async_trait]
impl SocialPlatform for InstagramPlatform {
    fn platform(&self) -> Platform {
        Platform::Instagram
    }

    /// Meta downloads every photo and video from the app's signed URLs.
    fn media_pull(&self) -> MediaPull {
        MediaPull::Always
    }

    fn start_authorization(&self, redirect_uri: &str, state: &str) -> AuthorizationStart {
        self.meta.authorization(redirect_uri, state)
    }

    async fn exchange_code(
        &self,
        code: &str,
        _pkce_verifier: &SecretString,
        redirect_uri: &str,
    ) -> Result<TokenSet, PlatformError> {
        self.meta.exchange_code(code, redirect_uri).await
    }

    async fn refresh(&self, _refresh_token: &SecretString) -> Result<TokenSet, PlatformError> {
        Err(self.meta.refresh_refused())
    }

    async fn revoke(&self, token: &SecretString) -> Result<(), PlatformError> {
        self.meta.revoke(token).await
    }

    /// The first Instagram account the token's Pages link to.
    async fn account(&self, access_token: &SecretString) -> Result<AccountProfile, PlatformError> {
        let tokens = TokenSet {
            access: access_token.clone(),
            refresh: None,
            expires_in: None,
            scopes: String::new(),
        };
        self.linked_accounts(&tokens)
            .await?
            .into_iter()
            .next()
            .map(|account| account.profile)
            .ok_or_else(no_linked_account)
    }

    /// One account per Page with a linked Instagram professional account, acting with the
    /// Page's token; several make the person choose.
    async fn accounts(&self, tokens: &TokenSet) -> Result<Vec<ConsentedAccount>, PlatformError> {
        let accounts = self.linked_accounts(tokens).await?;
        if accounts.is_empty() {
            return Err(no_linked_account());
        }
        Ok(accounts)
    }

    /// The 24-hour publishing limit, so that the composer says it before a post is scheduled
    /// past it.
    async fn account_notice(
        &self,
        access_token: &SecretString,
        account_id: &str,
    ) -> Result<Option<String>, PlatformError> {
        let Some((usage, total, window)) = self.quota(access_token, account_id).await? else {
            return Ok(None);
        };
        if usage < total {
            return Ok(Some(format!(
                "Instagram allows {total} posts in 24 hours; this account has used {usage}, so {} more can go out now.",
                total - usage
            )));
        }
        let wait = self
            .until_a_slot_frees(access_token, account_id, window, total)
            .await;
        Ok(Some(format!(
            "This account has used all {total} posts Instagram allows in 24 hours: a post due before a slot frees{} waits for it.",
            wait.map_or(String::new(), |wait| format!(
                " (in about {})",
                hours_and_minutes(wait)
            ))
        )))
    }

    /// Instagram allows 30 but has advised three to five since 2023; more reach no further.
    fn caption_hashtags(&self) -> usize {
        5
    }

    // The feed shows each line, but a run of empty lines as one.
    fn caption_line_breaks(&self) -> LineBreaks {
        LineBreaks::OneBlankLine
    }

    fn preview_rules(&self, post: &PostCheck<'_>) -> PreviewRules {
        let reel = matches!(post.media, [video] if is_video(&video.mime));
        PreviewRules {
            counter: TextCounter::characters(post.text.chars().count(), MAX_CAPTION_CHARS),
            // The feed shows about 125 characters of a caption, then "... more".
            fold: Some(Fold {
                chars: 125,
                lines: 2,
                more: "... more",
            }),
            // A reel fills the screen; feed photos are shown between 4:5 and 1.91:1.
            frame: if reel {
                Frame::fixed(Ratio(9, 16), true)
            } else {
                Frame {
                    tallest: Ratio(4, 5),
                    widest: Ratio(191, 100),
                    crops: true,
                }
            },
            gallery: Gallery::Carousel,
        }
    }

    fn check_post(&self, post: &PostCheck<'_>) -> Result<(), PostProblem> {
        if let Some(name) = post.options.keys().next() {
            return Err(PostProblem::Options(format!(
                "Instagram has no option `{name}`."
            )));
        }
        let length = post.text.chars().count();
        if length > MAX_CAPTION_CHARS {
            return Err(PostProblem::Text(format!(
                "An Instagram caption may be {MAX_CAPTION_CHARS} characters; this one is {length}."
            )));
        }
        let tags = hashtags(post.text);
        if tags > MAX_HASHTAGS {
            return Err(PostProblem::Text(format!(
                "An Instagram caption may have {MAX_HASHTAGS} hashtags; this one has {tags}."
            )));
        }
        match post.media {
            [] => Err(PostProblem::Media(
                "An Instagram post needs a photo or a video: add one.".into(),
            )),
            [video] if is_video(&video.mime) => check_video(video),
            [image] => check_image(image),
            items if items.len() > MAX_CAROUSEL_ITEMS => Err(PostProblem::Media(format!(
                "An Instagram carousel takes {MIN_CAROUSEL_ITEMS} to {MAX_CAROUSEL_ITEMS} photos or videos; this post has {}.",
                items.len()
            ))),
            items => items.iter().try_for_each(|item| {
                if is_video(&item.mime) {
                    check_video(item)
                } else {
                    check_image(item)
                }
            }),
        }
    }

    async fn publish(
        &self,
        request: PublishRequest<'_>,
        progress: &mut dyn Progress,
    ) -> Result<PublishOutcome, PublishError> {
        let mut saved = meta_graph::read_saved::<Saved>(request.saved).unwrap_or_default();
        if let Some(media_id) = &saved.media_id {
            return Ok(PublishOutcome::AlreadyPublished(
                self.published(&request, media_id).await,
            ));
        }
        let token = request.access_token;
        let mut quota_checked = false;
        // Containers made in this attempt are looked at a few times quickly; saved ones once.
        let mut quick_checks = 0;
        let mut made_again = false;
        if saved.container.is_none() {
            self.check_quota(&request).await?;
            quota_checked = true;
            self.make_containers(&request, &mut saved, progress).await?;
            quick_checks = QUICK_CHECKS;
        }
        loop {
            match self.readiness(token, &saved.containers()).await? {
                Readiness::Failed(error) => return Err(error.into()),
                Readiness::Published => return Ok(self.already_published(&request).await?),
                Readiness::InProgress if quick_checks > 0 => {
                    quick_checks -= 1;
                    tokio::time::sleep(QUICK_CHECK_EVERY).await;
                }
                Readiness::InProgress => {
                    return Ok(PublishOutcome::Processing {
                        check_after: CONTAINER_CHECK,
                        status: "Instagram is processing the media".into(),
                    });
                }
                Readiness::Expired if !made_again => {
                    made_again = true;
                    progress.step(
                        "the Instagram container expired before it was published: making a new one"
                            .into(),
                    );
                    saved = Saved::default();
                    self.make_containers(&request, &mut saved, progress).await?;
                    quick_checks = QUICK_CHECKS;
                }
                Readiness::Expired => {
                    return Err(PlatformError::Retryable {
                        wait: None,
                        maybe_done: false,
                        detail: "Instagram expired the media container again".into(),
                    }
                    .into());
                }
                Readiness::Finished => {
                    if !quota_checked {
                        self.check_quota(&request).await?;
                        quota_checked = true;
                    }
                    let failure = match self
                        .publish_container(&request, &mut saved, progress)
                        .await?
                    {
                        Ok(outcome) => return Ok(outcome),
                        Err(failure) => failure,
                    };
                    match (failure.code(), failure.subcode()) {
                        (
                            _,
                            Some(
                                SUBCODE_MEDIA_NOT_FOUND
                                | SUBCODE_CONTAINER_EXPIRED
                                | SUBCODE_CONTAINER_EXPIRED_TOO,
                            ),
                        ) if !made_again => {
                            made_again = true;
                            progress.step(
                                "Instagram no longer had the container: making a new one".into(),
                            );
                            saved = Saved::default();
                            self.make_containers(&request, &mut saved, progress).await?;
                            quick_checks = QUICK_CHECKS;
                        }
                        (_, Some(SUBCODE_NOT_READY)) => {
                            return Ok(PublishOutcome::Processing {
                                check_after: CONTAINER_CHECK,
                                status: "Instagram is not ready to publish the media yet".into(),
                            });
                        }
                        // A second `media_publish` of one container: the first went through.
                        (Some(CODE_MEDIA_NOT_AVAILABLE), None) => {
                            return Ok(self.already_published(&request).await?);
                        }
                        _ => return Err(failure.into()),
                    }
                }
            }
        }
    }

    /// With a media id saved, the post; with a container saved, its status (`PUBLISHED` means
    /// the lost answer was a success); with nothing saved, the account's newest posts.
    async fn find_published(
        &self,
        request: PublishRequest<'_>,
        since: DateTime<Utc>,
    ) -> Result<Option<Published>, PlatformError> {
        let saved = meta_graph::read_saved::<Saved>(request.saved).unwrap_or_default();
        if let Some(media_id) = &saved.media_id {
            return Ok(Some(self.published(&request, media_id).await));
        }
        match &saved.container {
            Some(container) => {
                let status = self
                    .container_status(request.access_token, container)
                    .await?;
                if status.status_code != "PUBLISHED" {
                    return Ok(None);
                }
                match self.find_media(&request, since).await? {
                    Some(published) => Ok(Some(published)),
                    None => Err(PlatformError::Retryable {
                        wait: Some(CONTAINER_CHECK),
                        maybe_done: true,
                        detail: "Instagram says the post is published but does not list it yet"
                            .into(),
                    }),
                }
            }
            None => self.find_media(&request, since).await,
        }
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
            batch: 1,
            calls_per_round: METRICS_CALLS_PER_ROUND,
        })
    }

    async fn post_metrics(
        &self,
        request: MetricsRequest<'_>,
    ) -> Result<BTreeMap<String, PostMetrics>, PlatformError> {
        let token = request.access_token;
        let mut read = BTreeMap::new();
        for id in request.external_ids {
            let counts: Result<MediaCounts, Failure> = self
                .meta
                .get(token, id, &[("fields", "like_count,comments_count")])
                .await;
            let counts = match counts {
                Ok(counts) => counts,
                // Deleted on Instagram: no numbers any more.
                Err(failure) if meta_graph::is_gone(&failure) => continue,
                Err(failure) => return Err(failure.error),
            };
            let insights = self.meta.insights(token, id, INSIGHT_METRICS).await?;
            read.insert(id.clone(), media_metrics(&counts, insights.as_ref()));
        }
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use app::types::{TargetOptions, VideoInfo};

    use super::*;

    fn image(mime: &str, width: u32, height: u32) -> MediaCheck {
        MediaCheck {
            mime: mime.to_owned(),
            bytes: 200_000,
            width,
            height,
            video: None,
        }
    }

    fn video(seconds: u64, faststart: bool) -> MediaCheck {
        MediaCheck {
            mime: "video/mp4".to_owned(),
            bytes: 2_000_000,
            width: 1080,
            height: 1920,
            video: Some(VideoInfo {
                duration_ms: seconds * 1000,
                video_codec: "h264".to_owned(),
                audio_codec: Some("aac".to_owned()),
                frames_per_second: Some(30.0),
                faststart,
            }),
        }
    }

    fn platform() -> InstagramPlatform {
        InstagramPlatform::from_config(&meta_graph::sample_app(), "v20.0", reqwest::Client::new())
            .unwrap()
    }

    fn check(text: &str, media: &[MediaCheck]) -> Result<(), PostProblem> {
        platform().check_post(&PostCheck {
            text,
            media,
            options: &TargetOptions::new(),
        })
    }

    #[test]
    fn a_post_is_one_photo_a_carousel_of_two_to_ten_or_one_reel() {
        let jpeg = image("image/jpeg", 1080, 1350);
        assert!(check("", std::slice::from_ref(&jpeg)).is_ok());
        assert!(check("", &[jpeg.clone(), video(10, true)]).is_ok());
        assert!(check("", &[video(30, true)]).is_ok());
        assert!(matches!(check("Hi", &[]), Err(PostProblem::Media(_))));
        let eleven = vec![jpeg; 11];
        assert!(
            check("", &eleven)
                .unwrap_err()
                .to_string()
                .contains("2 to 10")
        );
    }

    #[test]
    fn a_studio_caption_keeps_to_instagrams_length_fold_and_hashtags() {
        use crate::studio::brief::{CaptionRules, platform_length};
        let options = TargetOptions::new();
        let media = [image("image/jpeg", 1080, 1350)];
        let post = PostCheck {
            text: "",
            media: &media,
            options: &options,
        };
        let rules = CaptionRules::of(&platform(), &post);
        assert_eq!(
            rules,
            CaptionRules {
                max_length: 2_200,
                unit: "characters",
                max_hashtags: 5,
                fold_at: Some(125),
                line_breaks: LineBreaks::OneBlankLine,
            }
        );
        assert_eq!(platform_length(&platform(), &post, "Blue mugs"), 9);
    }

    #[test]
    fn png_photos_are_refused_with_a_reason() {
        let problem = check("", &[image("image/png", 1080, 1080)]).unwrap_err();
        assert!(problem.to_string().contains("PNG"), "{problem}");
        let problem = check("", &[image("image/jpeg", 3000, 1000)]).unwrap_err();
        assert!(problem.to_string().contains("1.91:1"), "{problem}");
    }

    #[test]
    fn reels_keep_to_length_and_fast_start() {
        assert!(
            check("", &[video(2, true)])
                .unwrap_err()
                .to_string()
                .contains("3 seconds")
        );
        assert!(check("", &[video(16 * 60, true)]).is_err());
        assert!(
            check("", &[video(10, false)])
                .unwrap_err()
                .to_string()
                .contains("fast start")
        );
    }

    #[test]
    fn captions_keep_to_length_and_hashtags() {
        let photo = [image("image/jpeg", 1080, 1080)];
        assert!(check(&"a".repeat(2200), &photo).is_ok());
        assert!(matches!(
            check(&"a".repeat(2201), &photo),
            Err(PostProblem::Text(_))
        ));
        let thirty = "#tag ".repeat(30);
        assert!(check(&thirty, &photo).is_ok());
        assert!(check(&format!("{thirty} #one_more"), &photo).is_err());
        assert_eq!(hashtags("# not, #yes #ja_2 a#b ##"), 3);
    }

    #[test]
    fn a_container_in_error_says_what_its_subcode_means() {
        let download = container_error(Some(
            "Error: the media could not be processed (error_subcode 2207003).",
        ));
        assert!(
            download.to_string().contains("PUBLIC_BASE_URL"),
            "{download}"
        );
        let unknown = container_error(Some("Error: something else"));
        assert!(matches!(unknown, PlatformError::Permanent { .. }));
        assert!(unknown.to_string().contains("something else"));
    }

    #[test]
    fn without_insights_views_and_shares_stay_unknown() {
        let counts = MediaCounts {
            like_count: Some(31),
            comments_count: Some(4),
        };
        let without = media_metrics(&counts, None);
        assert_eq!(
            without,
            PostMetrics {
                impressions: None,
                likes: Some(31),
                replies: Some(4),
                reposts: None,
                link_clicks: None,
            }
        );
        let listing: meta_graph::Listing<meta_graph::Insight> = serde_json::from_str(
            r#"{"data":[{"name":"views","period":"lifetime","values":[{"value":950}]},{"name":"shares","period":"lifetime","values":[{"value":6}]}]}"#,
        )
        .unwrap();
        let insights: BTreeMap<String, meta_graph::Insight> = listing
            .data
            .into_iter()
            .map(|insight| (insight.name.clone(), insight))
            .collect();
        let with = media_metrics(&counts, Some(&insights));
        assert_eq!(with.impressions, Some(950));
        assert_eq!(with.reposts, Some(6));
    }

    #[test]
    fn saved_progress_lists_items_before_the_carousel() {
        let saved = Saved {
            children: vec!["1".into(), "2".into()],
            container: Some("3".into()),
            media_id: None,
        };
        assert_eq!(saved.containers(), ["1", "2", "3"]);
        assert_eq!(
            meta_graph::read_saved::<Saved>(Some(&meta_graph::saved_json(&saved))),
            Some(saved)
        );
        assert_eq!(
            hours_and_minutes(Duration::from_secs(3 * 3600 + 125)),
            "3 h 3 min"
        );
    }
}
