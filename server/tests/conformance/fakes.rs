//! What the conformance suite needs of a platform's fake, and each fake's answer to it. A new
//! platform adds an implementation here and one line to the suite's list.

use axum::Router;

use server::sandbox::kit::FakeControls;
use server::sandbox::kit::script::Failure;
use server::sandbox::linkedin::{self, LinkedInFake};
use server::sandbox::meta::{self, GraphError, MetaFake};
use server::sandbox::pinterest::{self, PinterestFake};
use server::sandbox::tiktok::{self, TikTokFake};
use server::sandbox::x::{self, XFake};
use server::sandbox::youtube::{self, YouTubeFake};

/// A failure the suite scripts on the call that creates the post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scripted {
    /// A 5xx: retried, then published.
    ServerError,
    /// The platform's rate-limit answer: retried after its wait, then published.
    RateLimited,
    /// A validation refusal: failed at once with the platform's reason.
    Validation,
    /// The post is created but the answer is lost: the next attempt must find it.
    CreatedThenDropped,
    /// The access token is refused before its expiry: refreshed once, then published.
    TokenRefused,
}

/// The kinds of media a platform's posts take, one post per kind in the suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    TextOnly,
    OneImage,
    Images(usize),
    /// One short MP4.
    Video,
}

/// A post as it exists on a fake, for oracles that count what went out.
#[derive(Debug, Clone)]
pub struct LedgerPost {
    /// The ids the app may record as the post's `external_id` (TikTok's `publish_id` until
    /// the post's own id is known).
    pub ids: Vec<String>,
    /// Its text as a person reads it there (a pin's description, a video's description).
    pub text: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl LedgerPost {
    fn new(ids: &[&str], text: &str, created_at: chrono::DateTime<chrono::Utc>) -> Self {
        Self {
            ids: ids.iter().map(|id| (*id).to_owned()).collect(),
            text: text.to_owned(),
            created_at,
        }
    }
}

pub trait Fake: Clone + Send + Sync + 'static {
    /// The platform's wire name (`x`, `pinterest`) and its variables' prefix (`X`,
    /// `PINTEREST`).
    const PLATFORM: &'static str;
    const PREFIX: &'static str;
    /// Whether the platform issues refresh tokens. Meta does not: its Page tokens never
    /// expire, so an expiring user token changes nothing, and a refused token can only be
    /// renewed by connecting again.
    const REFRESHES_TOKENS: bool = true;

    fn new(client_id: &str, client_secret: &str) -> Self;
    fn router(&self) -> Router;
    /// Variables beyond the four of every platform that point the app at the fake served at
    /// `url` (hosts of the platform's own, such as an upload host).
    fn extra_vars(_url: &str) -> Vec<(String, String)> {
        Vec::new()
    }
    /// What the fake's consent screen does when `username` allows: the redirect back.
    fn authorize_directly(&self, url: &str, username: &str) -> Result<String, String>;
    /// How the app names the account of `username` (its `handle`): the user name on most
    /// platforms, the member's name on LinkedIn.
    fn handle_of(&self, username: &str) -> String {
        username.to_owned()
    }
    fn media_kinds(&self) -> Vec<MediaKind>;
    /// Posts that exist on the fake, whoever made them.
    fn post_count(&self) -> usize;
    /// The same posts, oldest first.
    fn ledger(&self) -> Vec<LedgerPost>;
    fn refresh_count(&self) -> usize;
    fn set_access_token_lifetime(&self, secs: i64);
    /// Scripts the next call that creates a post.
    fn fail_next_publish(&self, failure: Scripted);
    /// Makes the posts created from now on report the platform's "still working on it" status
    /// once or twice before they are done, where the platform processes the suite's first media
    /// kind after the call that creates it. For the fault campaign (`tests/chaos.rs`): the
    /// suite's own processing cases script each platform's sequence themselves.
    #[allow(dead_code)]
    fn process_slowly(&self) {}
    /// Lifts the platform's daily publishing limit (Instagram's 100 posts in 24 hours), for the
    /// fault campaign, whose accounts post thousands of times in minutes.
    #[allow(dead_code)]
    fn lift_daily_limit(&self) {}
    /// The user revokes the app at the platform: every token of the account dies.
    fn revoke_all(&self, username: &str);
}

impl Fake for XFake {
    const PLATFORM: &'static str = "x";
    const PREFIX: &'static str = "X";

    fn new(client_id: &str, client_secret: &str) -> Self {
        XFake::new(client_id, client_secret)
    }

    fn router(&self) -> Router {
        XFake::router(self)
    }

    fn authorize_directly(&self, url: &str, username: &str) -> Result<String, String> {
        XFake::authorize_directly(self, url, username)
    }

    fn media_kinds(&self) -> Vec<MediaKind> {
        vec![
            MediaKind::TextOnly,
            MediaKind::OneImage,
            MediaKind::Images(4),
        ]
    }

    fn post_count(&self) -> usize {
        XFake::post_count(self)
    }

    fn ledger(&self) -> Vec<LedgerPost> {
        self.posts()
            .iter()
            .map(|post| LedgerPost::new(&[&post.id], &post.text, post.created_at))
            .collect()
    }

    fn refresh_count(&self) -> usize {
        XFake::refresh_count(self)
    }

    fn set_access_token_lifetime(&self, secs: i64) {
        XFake::set_access_token_lifetime(self, secs);
    }

    fn fail_next_publish(&self, failure: Scripted) {
        let failure = match failure {
            Scripted::ServerError => x::Failure::ServerError(503),
            Scripted::RateLimited => x::Failure::RateLimited { reset_in_secs: 1 },
            Scripted::Validation => x::Failure::Validation("The text is not allowed.".into()),
            Scripted::CreatedThenDropped => x::Failure::CreatedThenDropped,
            Scripted::TokenRefused => x::Failure::ExpiredToken,
        };
        self.fail_next(x::Endpoint::CreatePost, [failure]);
    }

    fn revoke_all(&self, username: &str) {
        self.revoke_all_tokens_of(username);
    }
}

/// The kit's failure for a scripted case, for the fakes built on the kit.
fn kit_failure(failure: Scripted) -> Failure {
    match failure {
        Scripted::ServerError => Failure::ServerError(503),
        Scripted::RateLimited => Failure::RateLimited { reset_in_secs: 1 },
        Scripted::Validation => Failure::Validation("The request is not valid.".into()),
        Scripted::CreatedThenDropped => Failure::CreatedThenDropped,
        Scripted::TokenRefused => Failure::ExpiredToken,
    }
}

impl Fake for PinterestFake {
    const PLATFORM: &'static str = "pinterest";
    const PREFIX: &'static str = "PINTEREST";

    fn new(client_id: &str, client_secret: &str) -> Self {
        PinterestFake::new(client_id, client_secret)
    }

    fn router(&self) -> Router {
        PinterestFake::router(self)
    }

    fn authorize_directly(&self, url: &str, username: &str) -> Result<String, String> {
        PinterestFake::authorize_directly(self, url, username)
    }

    /// An image pin, and a video pin (the media upload, its processing, a cover the fake
    /// takes from the app's signed poster URL).
    fn media_kinds(&self) -> Vec<MediaKind> {
        vec![MediaKind::OneImage, MediaKind::Video]
    }

    fn post_count(&self) -> usize {
        self.pin_count()
    }

    fn ledger(&self) -> Vec<LedgerPost> {
        self.pins()
            .iter()
            .map(|pin| {
                let text = pin.description.as_deref().unwrap_or_default();
                LedgerPost::new(&[&pin.id], text, pin.created_at)
            })
            .collect()
    }

    fn refresh_count(&self) -> usize {
        FakeControls::refresh_count(self)
    }

    fn set_access_token_lifetime(&self, secs: i64) {
        PinterestFake::set_access_token_lifetime(self, secs);
    }

    fn fail_next_publish(&self, failure: Scripted) {
        self.fail_next(pinterest::Endpoint::CreatePin, [kit_failure(failure)]);
    }

    fn revoke_all(&self, username: &str) {
        FakeControls::revoke_all_tokens_of(self, username);
    }
}

impl Fake for LinkedInFake {
    const PLATFORM: &'static str = "linkedin";
    const PREFIX: &'static str = "LINKEDIN";

    fn new(client_id: &str, client_secret: &str) -> Self {
        LinkedInFake::new(client_id, client_secret)
    }

    fn router(&self) -> Router {
        LinkedInFake::router(self)
    }

    fn authorize_directly(&self, url: &str, username: &str) -> Result<String, String> {
        LinkedInFake::authorize_directly(self, url, username)
    }

    fn handle_of(&self, username: &str) -> String {
        // The sandbox member's name, from /v2/userinfo.
        format!("{username} Sandbox")
    }

    fn media_kinds(&self) -> Vec<MediaKind> {
        vec![
            MediaKind::TextOnly,
            MediaKind::OneImage,
            MediaKind::Images(3),
            MediaKind::Video,
        ]
    }

    fn post_count(&self) -> usize {
        LinkedInFake::post_count(self)
    }

    fn ledger(&self) -> Vec<LedgerPost> {
        self.posts()
            .iter()
            .map(|post| LedgerPost::new(&[&post.urn], &post.commentary, post.created_at))
            .collect()
    }

    fn refresh_count(&self) -> usize {
        FakeControls::refresh_count(self)
    }

    fn set_access_token_lifetime(&self, secs: i64) {
        LinkedInFake::set_access_token_lifetime(self, secs);
    }

    fn fail_next_publish(&self, failure: Scripted) {
        self.fail_next(linkedin::Endpoint::CreatePost, [kit_failure(failure)]);
    }

    fn revoke_all(&self, username: &str) {
        FakeControls::revoke_all_tokens_of(self, username);
    }
}

impl Fake for YouTubeFake {
    const PLATFORM: &'static str = "youtube";
    const PREFIX: &'static str = "YOUTUBE";

    fn new(client_id: &str, client_secret: &str) -> Self {
        YouTubeFake::new(client_id, client_secret)
    }

    fn router(&self) -> Router {
        YouTubeFake::router(self)
    }

    fn extra_vars(url: &str) -> Vec<(String, String)> {
        ["YOUTUBE_UPLOAD_URL", "YOUTUBE_TOKEN_URL", "YOUTUBE_WEB_URL"]
            .into_iter()
            .map(|name| (name.to_owned(), url.to_owned()))
            .collect()
    }

    fn authorize_directly(&self, url: &str, username: &str) -> Result<String, String> {
        YouTubeFake::authorize_directly(self, url, username)
    }

    fn media_kinds(&self) -> Vec<MediaKind> {
        vec![MediaKind::Video]
    }

    fn post_count(&self) -> usize {
        self.video_count()
    }

    fn process_slowly(&self) {
        self.set_processing_sequence(vec![
            youtube::UploadStatus::Uploaded,
            youtube::UploadStatus::Processed,
        ]);
    }

    fn ledger(&self) -> Vec<LedgerPost> {
        self.videos()
            .iter()
            .map(|video| LedgerPost::new(&[&video.id], &video.description, video.published_at))
            .collect()
    }

    fn refresh_count(&self) -> usize {
        FakeControls::refresh_count(self)
    }

    fn set_access_token_lifetime(&self, secs: i64) {
        YouTubeFake::set_access_token_lifetime(self, secs);
    }

    /// A video is made by two calls: opening the session, where YouTube checks the metadata
    /// and counts quota (refusals, rate limits and 5xx are scripted there), and the last byte,
    /// which creates the video (a lost answer is scripted there).
    fn fail_next_publish(&self, failure: Scripted) {
        let endpoint = match failure {
            Scripted::CreatedThenDropped => youtube::Endpoint::UploadBytes,
            _ => youtube::Endpoint::StartUpload,
        };
        self.fail_next(endpoint, [kit_failure(failure)]);
    }

    fn revoke_all(&self, username: &str) {
        FakeControls::revoke_all_tokens_of(self, username);
    }
}

impl Fake for TikTokFake {
    const PLATFORM: &'static str = "tiktok";
    const PREFIX: &'static str = "TIKTOK";

    fn new(client_id: &str, client_secret: &str) -> Self {
        let fake = TikTokFake::new(client_id, client_secret);
        // The suite posts faster than TikTok's 6 inits a minute allow; the limits have tests
        // of their own in the fake.
        fake.set_rate_limits(tiktok::RateLimits::OFF);
        fake
    }

    fn router(&self) -> Router {
        TikTokFake::router(self)
    }

    fn authorize_directly(&self, url: &str, username: &str) -> Result<String, String> {
        TikTokFake::authorize_directly(self, url, username)
    }

    /// Photos TikTok downloads from the app's signed URLs (first: the failure cases script
    /// their init), and a video sent in chunks.
    fn media_kinds(&self) -> Vec<MediaKind> {
        vec![MediaKind::Images(2), MediaKind::Video]
    }

    fn post_count(&self) -> usize {
        TikTokFake::post_count(self)
    }

    fn process_slowly(&self) {
        self.set_status_sequence(vec![
            tiktok::StatusStep::Processing,
            tiktok::StatusStep::Moderating,
            tiktok::StatusStep::Complete,
        ]);
    }

    /// The posts a person would see on the account; a video's caption is its title.
    fn ledger(&self) -> Vec<LedgerPost> {
        self.posts()
            .iter()
            .filter(|post| post.on_account)
            .map(|post| {
                let text = if post.description.is_empty() {
                    &post.title
                } else {
                    &post.description
                };
                LedgerPost::new(&[&post.post_id, &post.publish_id], text, post.created_at)
            })
            .collect()
    }

    fn refresh_count(&self) -> usize {
        FakeControls::refresh_count(self)
    }

    fn set_access_token_lifetime(&self, secs: i64) {
        TikTokFake::set_access_token_lifetime(self, secs);
    }

    /// A photo post's init creates it (the commit point: TikTok then downloads the photos).
    /// A video's init whose answer is lost creates nothing anyone sees, as its bytes never
    /// come: the app starts again, which `conformance/tiktok.rs` tests apart.
    fn fail_next_publish(&self, failure: Scripted) {
        self.fail_next(tiktok::Endpoint::ContentInit, [kit_failure(failure)]);
    }

    fn revoke_all(&self, username: &str) {
        FakeControls::revoke_all_tokens_of(self, username);
    }
}

/// Facebook Pages on the Meta fake. Instagram's side shares the fake's type, so each side is a
/// newtype naming its platform; the fake itself is `.0`.
#[derive(Clone)]
pub struct FacebookSide(pub MetaFake);

/// Instagram professional accounts on the Meta fake.
#[derive(Clone)]
pub struct InstagramSide(pub MetaFake);

/// The Meta fake's answer for a scripted case. A rate limit is Meta's throttle (code 4) with
/// the usage header's `estimated_time_to_regain_access` at 0: Meta counts that wait in whole
/// minutes, and the suite's one-second reset is "now" in those units.
fn meta_failure(fake: &MetaFake, endpoint: meta::Endpoint, failure: Scripted) {
    if failure == Scripted::RateLimited {
        let mut throttled = GraphError::throttled(4);
        throttled.regain_minutes = Some(0);
        fake.fail_next_graph(endpoint, [throttled]);
    } else {
        fake.fail_next(endpoint, [kit_failure(failure)]);
    }
}

/// Token requests beyond the `fb_exchange_token` each connect makes: what the app did to
/// renew a token outside a consent (Meta has no refresh endpoint to count).
fn meta_renewals(fake: &MetaFake) -> usize {
    fake.exchange_count()
        .saturating_sub(fake.code_exchange_count())
}

impl Fake for FacebookSide {
    const PLATFORM: &'static str = "facebook";
    const PREFIX: &'static str = "FACEBOOK";
    const REFRESHES_TOKENS: bool = false;

    fn new(client_id: &str, client_secret: &str) -> Self {
        Self(MetaFake::new(client_id, client_secret))
    }

    fn router(&self) -> Router {
        self.0.router()
    }

    fn authorize_directly(&self, url: &str, username: &str) -> Result<String, String> {
        self.0.authorize_directly(url, username)
    }

    /// The account is the user's first Page, named by the fake after the user.
    fn handle_of(&self, username: &str) -> String {
        self.0.pages_of(username).remove(0).name
    }

    /// Text, one and several photos attached to a `/feed` post, and a video Facebook
    /// processes after the upload.
    fn media_kinds(&self) -> Vec<MediaKind> {
        vec![
            MediaKind::TextOnly,
            MediaKind::OneImage,
            MediaKind::Images(3),
            MediaKind::Video,
        ]
    }

    fn post_count(&self) -> usize {
        self.0.facebook_post_count()
    }

    fn ledger(&self) -> Vec<LedgerPost> {
        self.0
            .facebook_posts()
            .iter()
            .filter(|post| post.published)
            .map(|post| {
                let text = post.message.as_deref().unwrap_or_default();
                LedgerPost::new(&[&post.id], text, post.created_time)
            })
            .collect()
    }

    fn refresh_count(&self) -> usize {
        meta_renewals(&self.0)
    }

    /// The long-lived user token's life; the Page tokens fetched with it never expire.
    fn set_access_token_lifetime(&self, secs: i64) {
        self.0.set_access_token_lifetime(secs);
    }

    /// `/feed` makes text and photo posts: the commit point.
    fn fail_next_publish(&self, failure: Scripted) {
        meta_failure(&self.0, meta::Endpoint::FeedPost, failure);
    }

    fn revoke_all(&self, username: &str) {
        self.0.revoke_all_tokens_of(username);
    }
}

impl Fake for InstagramSide {
    const PLATFORM: &'static str = "instagram";
    const PREFIX: &'static str = "INSTAGRAM";
    const REFRESHES_TOKENS: bool = false;

    fn new(client_id: &str, client_secret: &str) -> Self {
        Self(MetaFake::new(client_id, client_secret))
    }

    fn router(&self) -> Router {
        self.0.router()
    }

    fn authorize_directly(&self, url: &str, username: &str) -> Result<String, String> {
        self.0.authorize_directly(url, username)
    }

    /// The Instagram account linked to the user's first Page.
    fn handle_of(&self, username: &str) -> String {
        self.0
            .pages_of(username)
            .into_iter()
            .find_map(|page| page.instagram_username)
            .expect("the fake links an Instagram account to a new user's first Page")
    }

    /// A photo and a carousel. Reels need 3 seconds or more (the suite's clip is one), so
    /// they have their own test in `conformance/instagram.rs`.
    fn media_kinds(&self) -> Vec<MediaKind> {
        vec![MediaKind::OneImage, MediaKind::Images(3)]
    }

    fn post_count(&self) -> usize {
        self.0.instagram_post_count()
    }

    fn lift_daily_limit(&self) {
        self.0.set_publishing_quota(u32::MAX / 2);
    }

    fn process_slowly(&self) {
        self.0.set_container_sequence(
            meta::ContainerKind::Image,
            vec![
                meta::ContainerStatus::InProgress,
                meta::ContainerStatus::InProgress,
                meta::ContainerStatus::Finished,
            ],
        );
    }

    fn ledger(&self) -> Vec<LedgerPost> {
        self.0
            .instagram_posts()
            .iter()
            .map(|post| {
                let text = post.caption.as_deref().unwrap_or_default();
                LedgerPost::new(&[&post.id], text, post.published_at)
            })
            .collect()
    }

    fn refresh_count(&self) -> usize {
        meta_renewals(&self.0)
    }

    fn set_access_token_lifetime(&self, secs: i64) {
        self.0.set_access_token_lifetime(secs);
    }

    /// `media_publish` is the commit point.
    fn fail_next_publish(&self, failure: Scripted) {
        meta_failure(&self.0, meta::Endpoint::Publish, failure);
    }

    fn revoke_all(&self, username: &str) {
        self.0.revoke_all_tokens_of(username);
    }
}
