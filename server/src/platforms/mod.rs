//! The social platforms, behind one trait. A platform file owns everything that differs between
//! platforms: its OAuth endpoints and scopes, how it reads the account, how it publishes, how a
//! lost answer is reconciled, which of a published post's numbers it reports and how they are
//! read, and how its failures are classified into [`PlatformError`]. The pipeline around it
//! (tokens, leases, retries, logs) is the same for every platform and never looks at a
//! platform's HTTP answers itself.
//!
//! Adding a platform: a variant of `app::types::Platform`, a file here, one line in
//! [`Registry::from_config`], and a fake in `server/src/sandbox/`.

pub mod answers;
pub mod facebook;
pub mod instagram;
pub mod linkedin;
pub mod meta_graph;
pub mod oauth;
pub mod pinterest;
pub mod tiktok;
pub mod x;
pub mod youtube;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;

use app::types::{OptionChoice, OptionField, Platform, PreviewRules, TargetOptions, VideoInfo};

use crate::config::Config;
use crate::media::store::MediaStore;

/// The platforms this build can publish to; the others are shown as "coming soon".
pub const SUPPORTED: &[Platform] = &[
    Platform::X,
    Platform::Linkedin,
    Platform::Pinterest,
    Platform::Youtube,
    Platform::Tiktok,
    Platform::Instagram,
    Platform::Facebook,
];

/// Tokens as a platform issued them, in plain text: encrypt before storing, never log.
pub struct TokenSet {
    pub access: SecretString,
    pub refresh: Option<SecretString>,
    /// How long the access token lives, as the platform said; the caller dates it with its
    /// clock.
    pub expires_in: Option<Duration>,
    pub scopes: String,
}

/// The account the tokens act for, as the platform describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountProfile {
    pub account_id: String,
    pub handle: String,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
}

/// Which media a platform downloads from the app itself (through [`MediaFile::pull_url`])
/// rather than receiving it from us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaPull {
    /// Everything is uploaded: X, LinkedIn, Pinterest, YouTube.
    Never,
    /// Photos are downloaded, videos uploaded (TikTok by default).
    Photos,
    /// Photos and videos are downloaded (Instagram, Facebook).
    Always,
    /// A video's cover is downloaded (Pinterest). Its images are downloaded too when the app
    /// is reachable, and sent inline when it is not, so only video pins need the address.
    VideoCovers,
}

/// One account a consent gave access to, with its own tokens when it has them (a Facebook
/// Page's token) or `None` to act with the consent's tokens.
pub struct ConsentedAccount {
    pub profile: AccountProfile,
    pub tokens: Option<TokenSet>,
}

/// Where to send the user to consent, and the PKCE verifier to keep until they come back.
pub struct AuthorizationStart {
    pub url: String,
    pub pkce_verifier: SecretString,
}

/// One image or video to attach: its facts, and its bytes read from the media store when the
/// platform asks, whole (an image) or a piece at a time (a video of a gigabyte).
pub struct MediaFile {
    pub mime: String,
    pub size: u64,
    pub width: u32,
    pub height: u32,
    pub video: Option<VideoInfo>,
    store: Arc<dyn MediaStore>,
    key: String,
    /// A signed URL the platform can download the file from, when it can reach us.
    pull_url: Option<String>,
    /// The same for a video's poster frame.
    poster_pull_url: Option<String>,
}

impl MediaFile {
    pub fn new(row: &crate::db::media::MediaRow, store: Arc<dyn MediaStore>) -> Self {
        let MediaCheck {
            mime,
            bytes,
            width,
            height,
            video,
        } = MediaCheck::of(row);
        Self {
            mime,
            size: bytes,
            width,
            height,
            video,
            store,
            key: row.storage_key.clone(),
            pull_url: None,
            poster_pull_url: None,
        }
    }

    /// Signed URLs for the file and, for a video, its poster frame.
    pub fn with_pull_urls(mut self, file: String, poster: Option<String>) -> Self {
        self.pull_url = Some(file);
        self.poster_pull_url = poster;
        self
    }

    /// Where the platform can download a video's poster frame (a cover), under the same rule
    /// as [`MediaFile::pull_url`].
    pub fn poster_pull_url(&self) -> Option<&str> {
        self.poster_pull_url.as_deref()
    }

    /// Where the platform can download the file itself (`PUBLIC_BASE_URL/media/pull/...`):
    /// `None` when `PUBLIC_BASE_URL` is not reachable from the platform (localhost), and the
    /// file must be uploaded instead.
    pub fn pull_url(&self) -> Option<&str> {
        self.pull_url.as_deref()
    }

    /// The whole file: for images, which are a few megabytes at most.
    pub async fn bytes(&self) -> Result<Vec<u8>, PublishError> {
        self.store
            .get(&self.key)
            .await
            .map_err(|error| PublishError::Backend(error.into()))
    }

    /// The whole file as a stream of pieces of `piece` bytes, read from the store as it is
    /// sent: a request body for a platform that takes a video in one upload.
    pub fn stream(
        &self,
        piece: usize,
    ) -> impl futures_util::Stream<Item = Result<axum::body::Bytes, std::io::Error>> + Send + 'static
    {
        let (store, key, size) = (self.store.clone(), self.key.clone(), self.size);
        futures_util::stream::try_unfold(0u64, move |offset| {
            let (store, key) = (store.clone(), key.clone());
            async move {
                if offset >= size {
                    return Ok(None);
                }
                let read = store.read_range(&key, offset, piece).await?;
                if read.is_empty() {
                    return Ok(None);
                }
                let next = offset + read.len() as u64;
                Ok(Some((axum::body::Bytes::from(read), next)))
            }
        })
    }

    /// Up to `len` bytes from `offset`.
    pub async fn range(&self, offset: u64, len: usize) -> Result<Vec<u8>, PublishError> {
        self.store
            .read_range(&self.key, offset, len)
            .await
            .map_err(|error| PublishError::Backend(error.into()))
    }
}

/// What a publish needs: the account, a usable token, the text, the media, the choices made
/// for this account, and what earlier attempts learnt.
pub struct PublishRequest<'a> {
    pub access_token: &'a SecretString,
    pub account_id: &'a str,
    pub handle: &'a str,
    pub text: &'a str,
    pub media: &'a [MediaFile],
    pub options: &'a TargetOptions,
    /// What an earlier attempt saved through [`Progress::save`] (a container id, a
    /// `publish_id`, an upload session), in the platform's own shape.
    pub saved: Option<&'a serde_json::Value>,
}

/// What one publish call achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishOutcome {
    Published(Published),
    /// The platform says an earlier attempt already created this post (LinkedIn's
    /// `DUPLICATE_POST` names it): recorded as reconciled, not as a new post.
    AlreadyPublished(Published),
    /// The platform has the post or its media and is still working on it (a video being
    /// processed, a post in moderation): the pipeline comes back after `check_after`, and the
    /// platform's `publish` picks up from what it saved. `status` is the platform's word for
    /// it, for the job log.
    Processing {
        check_after: Duration,
        status: String,
    },
}

/// The pipeline's side of a publish in progress: where the platform keeps what it learns as
/// it goes, and says what it did.
#[async_trait]
pub trait Progress: Send {
    /// Saves `progress` before the publish goes on, so that an attempt cut short resumes or
    /// checks from it instead of starting over. Saved under the attempt's lease: when a newer
    /// attempt owns the target, this fails with [`PublishError::Superseded`] and the publish
    /// must stop.
    async fn save(&mut self, progress: serde_json::Value) -> Result<(), PublishError>;

    /// A line for the job log ("video uploaded, 12 MB").
    fn step(&mut self, line: String);
}

/// Why a publish stopped: the platform's answer, or the pipeline's own.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Platform(#[from] PlatformError),
    /// A newer attempt owns the target; this one's work is over.
    #[error("a newer attempt owns the target")]
    Superseded,
    /// Our own storage failed while saving progress: the attempt is tried again.
    #[error(transparent)]
    Backend(#[from] crate::error::Error),
}

/// A published post's numbers as its platform reports them at one moment. A number the
/// platform does not report (for this post, or with the access it was given) is `None`, never
/// zero: the Analytics page leaves it out rather than showing nobody liked the post.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PostMetrics {
    /// How often the post was shown (or, where the platform counts only those, viewed).
    pub impressions: Option<i64>,
    pub likes: Option<i64>,
    /// Comments and replies.
    pub replies: Option<i64>,
    /// Reposts, quotes, shares, saves: the post passed on.
    pub reposts: Option<i64>,
    /// Clicks through the post's link.
    pub link_clicks: Option<i64>,
}

impl PostMetrics {
    /// Only the numbers `kinds` says the platform reports: whatever else an answer held is
    /// `None`, so a number never appears for a platform whose notes say it has none.
    pub fn only(self, kinds: MetricKinds) -> Self {
        let keep = |value: Option<i64>, kept: bool| value.filter(|_| kept);
        Self {
            impressions: keep(self.impressions, kinds.impressions),
            likes: keep(self.likes, kinds.likes),
            replies: keep(self.replies, kinds.replies),
            reposts: keep(self.reposts, kinds.reposts),
            link_clicks: keep(self.link_clicks, kinds.link_clicks),
        }
    }
}

/// Which of [`PostMetrics`]' numbers a platform's API can report, as its file's "Metrics" note
/// says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricKinds {
    pub impressions: bool,
    pub likes: bool,
    pub replies: bool,
    pub reposts: bool,
    pub link_clicks: bool,
}

/// How an account's post metrics are read: what they hold, how many posts one call asks about,
/// and how many calls one collection round may spend on the platform, across every account, so
/// that reading numbers never eats the rate limit publishing needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsReading {
    pub gives: MetricKinds,
    /// Posts per call: the platform's batch size, or 1 where each post is its own call.
    pub batch: usize,
    pub calls_per_round: u32,
}

/// One call's worth of posts to read the numbers of.
pub struct MetricsRequest<'a> {
    pub access_token: &'a SecretString,
    pub account_id: &'a str,
    /// The posts' ids on the platform, at most [`MetricsReading::batch`] of them, all made by
    /// `account_id`.
    pub external_ids: &'a [String],
    /// When the earliest of them was published, for platforms that report over a date range.
    pub since: DateTime<Utc>,
    /// Now, on the caller's clock: the end of such a range.
    pub until: DateTime<Utc>,
}

/// A post that exists on the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub external_id: String,
    pub url: String,
}

/// Every way a platform call can fail, in the closed set the pipeline acts on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    /// Worth trying again: a network failure, a 5xx, a rate limit. `wait` is what the platform
    /// asked for (`Retry-After`, `x-rate-limit-reset`). `maybe_done` means the request may
    /// have reached the platform and taken effect (a timeout, a dropped answer): the next
    /// attempt must reconcile before it posts again.
    #[error("{detail}")]
    Retryable {
        wait: Option<Duration>,
        maybe_done: bool,
        detail: String,
    },
    /// The platform no longer accepts our tokens: the user must connect the account again.
    #[error("{detail}")]
    Reauth { detail: String },
    /// Trying again will not help; `reason` tells a person what to change.
    #[error("{reason}")]
    Permanent { reason: String },
}

impl PlatformError {
    pub fn permanent(reason: impl Into<String>) -> Self {
        Self::Permanent {
            reason: reason.into(),
        }
    }

    /// The same error, saying whether the request may have taken effect, where the caller knows
    /// better than the failure itself (a probe that failed after bytes went out, a lost answer
    /// to a token refresh that rotates). Only a retryable error carries it.
    pub fn with_maybe_done(self, maybe_done: bool) -> Self {
        match self {
            Self::Retryable { wait, detail, .. } => Self::Retryable {
                wait,
                maybe_done,
                detail,
            },
            other => other,
        }
    }

    /// A transport failure: whether the request may have reached the platform decides whether
    /// the next attempt must reconcile.
    pub fn from_transport(platform: Platform, error: &reqwest::Error) -> Self {
        let maybe_done = !error.is_connect() && !error.is_builder();
        let what = if error.is_timeout() {
            "did not answer in time"
        } else if error.is_connect() {
            "could not be reached"
        } else {
            "dropped the connection"
        };
        Self::Retryable {
            wait: None,
            maybe_done,
            detail: format!("{} {what}", platform.display_name()),
        }
    }
}

/// One social platform's API, as the pipeline uses it. Implementations hold their HTTP client
/// and base URLs; every method is one conversation with the platform.
#[async_trait]
pub trait SocialPlatform: Send + Sync + 'static {
    fn platform(&self) -> Platform;

    /// Which media the platform downloads from the app: it needs `PUBLIC_BASE_URL` to be
    /// reachable from the platform.
    fn media_pull(&self) -> MediaPull {
        MediaPull::Never
    }

    /// The consent URL for `state`, with a fresh PKCE challenge when the platform uses PKCE.
    fn start_authorization(&self, redirect_uri: &str, state: &str) -> AuthorizationStart;

    /// Trades the authorization code for tokens.
    async fn exchange_code(
        &self,
        code: &str,
        pkce_verifier: &SecretString,
        redirect_uri: &str,
    ) -> Result<TokenSet, PlatformError>;

    /// New tokens for a refresh token. The platform may rotate the refresh token: the old one
    /// is spent either way, so the caller must store what comes back.
    async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, PlatformError>;

    /// Tells the platform to forget a token (on disconnect).
    async fn revoke(&self, token: &SecretString) -> Result<(), PlatformError>;

    /// The account the token belongs to.
    async fn account(&self, access_token: &SecretString) -> Result<AccountProfile, PlatformError>;

    /// Every account a consent gave access to that can be posted to: the token's own account
    /// on most platforms, the person's Pages on Facebook. With more than one, the person
    /// chooses which to connect.
    async fn accounts(&self, tokens: &TokenSet) -> Result<Vec<ConsentedAccount>, PlatformError> {
        Ok(vec![ConsentedAccount {
            profile: self.account(&tokens.access).await?,
            tokens: None,
        }])
    }

    /// The fields a post to this account takes beyond text and media, with the account's own
    /// choices read from the platform (its boards, its privacy levels). Most platforms have
    /// none.
    async fn post_options(
        &self,
        _access_token: &SecretString,
        _account_id: &str,
    ) -> Result<Vec<OptionField>, PlatformError> {
        Ok(Vec::new())
    }

    /// What the person should know about this account before scheduling to it, read from the
    /// platform: Instagram's 24-hour publishing limit. Most platforms have nothing to say.
    async fn account_notice(
        &self,
        _access_token: &SecretString,
        _account_id: &str,
    ) -> Result<Option<String>, PlatformError> {
        Ok(None)
    }

    /// Makes a new choice for the field `field` (a Pinterest board named `label`), where the
    /// field allows it (`can_add`).
    async fn add_choice(
        &self,
        _access_token: &SecretString,
        _account_id: &str,
        field: &str,
        _label: &str,
    ) -> Result<OptionChoice, PlatformError> {
        Err(PlatformError::permanent(format!(
            "{} has no choices to add to `{field}`.",
            self.platform().display_name()
        )))
    }

    /// Why this post cannot go out here, checked before anything is stored: the text, the
    /// media and the options against this platform's rules.
    fn check_post(&self, post: &PostCheck<'_>) -> Result<(), PostProblem>;

    /// How the platform's feed shows this post, for the composer's preview: how it counts the
    /// text and against what limit, where it folds the text behind "more", and the shapes it
    /// shows media in.
    fn preview_rules(&self, post: &PostCheck<'_>) -> PreviewRules;

    /// How many hashtags a caption here should carry at most: what the AI Studio asks writers
    /// for and holds their captions to.
    fn caption_hashtags(&self) -> usize;

    /// How the feed shows a caption's line breaks: what the AI Studio asks writers for and
    /// holds their captions to. Most platforms show them as written.
    fn caption_line_breaks(&self) -> LineBreaks {
        LineBreaks::Kept
    }

    /// The line the feed shows above the text, taken from the post's options (a video's or a
    /// pin's title). Most platforms show the text alone.
    fn preview_headline(&self, _options: &TargetOptions) -> Option<String> {
        None
    }

    /// Uploads the media and creates the post, the irreversible call among them, or goes on
    /// from `request.saved`. Each step is said through `progress`, and every handle that lets
    /// a later attempt resume or check is saved there before the next call.
    async fn publish(
        &self,
        request: PublishRequest<'_>,
        progress: &mut dyn Progress,
    ) -> Result<PublishOutcome, PublishError>;

    /// Whether [`SocialPlatform::find_published`] can list `account_id`'s recent posts. A
    /// platform that cannot (LinkedIn, for a member) settles a lost answer in `publish`, where
    /// the platform refuses the same post again and names the earlier one.
    fn lists_recent_posts(&self, _account_id: &str) -> bool {
        true
    }

    /// The post, if an earlier attempt whose answer was lost created it: from the platform's
    /// status of what that attempt saved, or among the account's recent posts created no
    /// earlier than `since`. `None` means `publish` may go on (from `request.saved`).
    async fn find_published(
        &self,
        request: PublishRequest<'_>,
        since: DateTime<Utc>,
    ) -> Result<Option<Published>, PlatformError>;

    /// How `account_id`'s post metrics are read, or `None` when the platform reports none for
    /// it (a LinkedIn member's posts, without a restricted scope). Most platforms report none
    /// until their file says otherwise.
    fn metrics(&self, _account_id: &str) -> Option<MetricsReading> {
        None
    }

    /// The numbers of the posts `request` names, by their external ids. A post the platform no
    /// longer shows (deleted, or not yet out of review) is left out of the answer. Failures are
    /// sorted as a publish's are: a rate limit or outage is `Retryable` with the platform's wait,
    /// a refused token `Reauth`, anything else `Permanent`.
    async fn post_metrics(
        &self,
        _request: MetricsRequest<'_>,
    ) -> Result<BTreeMap<String, PostMetrics>, PlatformError> {
        Err(PlatformError::permanent(format!(
            "{} reports no post metrics to this app.",
            self.platform().display_name()
        )))
    }
}

/// The `title` option, trimmed, when it says something: what a platform that titles its posts
/// (a video, a pin) shows above the text.
pub fn title_option(options: &TargetOptions) -> Option<String> {
    options
        .get("title")
        .map(|title| title.trim())
        .filter(|title| !title.is_empty())
        .map(str::to_owned)
}

/// A post as the platform's checks see it, before it is stored.
/// How a platform's feed shows the line breaks of a caption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineBreaks {
    /// As written.
    Kept,
    /// Each line, but a run of blank lines as one.
    OneBlankLine,
    /// None: the caption reads as one paragraph.
    None,
}

pub struct PostCheck<'a> {
    pub text: &'a str,
    pub media: &'a [MediaCheck],
    pub options: &'a TargetOptions,
}

/// Why a platform cannot take a post, by the part of the post the person must change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostProblem {
    #[error("{0}")]
    Text(String),
    #[error("{0}")]
    Media(String),
    /// A choice for the account (board, privacy, title) is missing or not allowed.
    #[error("{0}")]
    Options(String),
}

/// What the limits of a platform need to know about one attached file.
#[derive(Debug, Clone)]
pub struct MediaCheck {
    pub mime: String,
    pub bytes: u64,
    pub width: u32,
    pub height: u32,
    /// A video's facts (duration, codecs, frame rate, fast start).
    pub video: Option<VideoInfo>,
}

impl MediaCheck {
    pub fn of(row: &crate::db::media::MediaRow) -> Self {
        Self {
            mime: row.mime.clone(),
            bytes: u64::try_from(row.bytes).unwrap_or(0),
            width: u32::try_from(row.width).unwrap_or(0),
            height: u32::try_from(row.height).unwrap_or(0),
            video: crate::db::media::video_of(row),
        }
    }
}

/// The platforms the operator configured, by name. A platform without credentials is absent:
/// its card says "not configured by the operator".
#[derive(Clone, Default)]
pub struct Registry {
    platforms: BTreeMap<Platform, Arc<dyn SocialPlatform>>,
    /// Where each platform's API is: whether it can download from our URLs depends on it.
    api_urls: BTreeMap<Platform, http::Uri>,
}

impl Registry {
    pub fn from_config(config: &Config, http: &reqwest::Client) -> Self {
        let mut registry = Self::default();
        for (platform, app) in [
            (Platform::X, &config.x),
            (Platform::Pinterest, &config.pinterest),
            (Platform::Linkedin, &config.linkedin),
            (Platform::Youtube, &config.youtube),
            (Platform::Tiktok, &config.tiktok),
            (Platform::Instagram, &config.instagram),
            (Platform::Facebook, &config.facebook),
        ] {
            registry.api_urls.insert(platform, app.api_url.clone());
        }
        if let Some(x) = x::XPlatform::from_config(&config.x, http.clone()) {
            registry.insert(Arc::new(x));
        }
        if let Some(pinterest) =
            pinterest::PinterestPlatform::from_config(&config.pinterest, http.clone())
        {
            registry.insert(Arc::new(pinterest));
        }
        if let Some(linkedin) = linkedin::LinkedInPlatform::from_config(
            &config.linkedin,
            &config.linkedin_version,
            config.linkedin_organizations,
            http.clone(),
        ) {
            registry.insert(Arc::new(linkedin));
        }
        if let Some(tiktok) = tiktok::TikTokPlatform::from_config(
            &config.tiktok,
            config.tiktok_video_source,
            config.tiktok_pkce_challenge,
            http.clone(),
        ) {
            registry.insert(Arc::new(tiktok));
        }
        if let Some(youtube) = youtube::YouTubePlatform::from_config(
            &config.youtube,
            &config.youtube_hosts,
            http.clone(),
        ) {
            registry.insert(Arc::new(youtube));
        }
        if let Some(instagram) = instagram::InstagramPlatform::from_config(
            &config.instagram,
            &config.meta_graph_version,
            http.clone(),
        ) {
            registry.insert(Arc::new(instagram));
        }
        if let Some(facebook) = facebook::FacebookPlatform::from_config(
            &config.facebook,
            &config.meta_graph_version,
            http.clone(),
        ) {
            registry.insert(Arc::new(facebook));
        }
        registry
    }

    pub fn insert(&mut self, platform: Arc<dyn SocialPlatform>) {
        self.platforms.insert(platform.platform(), platform);
    }

    pub fn get(&self, platform: Platform) -> Option<Arc<dyn SocialPlatform>> {
        self.platforms.get(&platform).cloned()
    }

    /// The API host configured for `platform`.
    pub fn api_url(&self, platform: Platform) -> Option<&http::Uri> {
        self.api_urls.get(&platform)
    }

    pub fn is_configured(&self, platform: Platform) -> bool {
        self.platforms.contains_key(&platform)
    }
}

/// The HTTP client every platform call goes through: no redirects (an OAuth token endpoint
/// that redirects is an attack, not a feature) and one time limit per request.
pub fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("Picscripterai/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the TLS backend initialises")
}

/// Joins a configured base URL and a path without doubling or losing the slash.
pub fn join_url(base: &http::Uri, path: &str) -> String {
    let base = base.to_string();
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joining_keeps_exactly_one_slash() {
        let with: http::Uri = "http://127.0.0.1:9/sandbox/x/".parse().unwrap();
        let without: http::Uri = "https://api.x.com".parse().unwrap();
        assert_eq!(
            join_url(&with, "/2/tweets"),
            "http://127.0.0.1:9/sandbox/x/2/tweets"
        );
        assert_eq!(join_url(&without, "2/tweets"), "https://api.x.com/2/tweets");
    }
}
