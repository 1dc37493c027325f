//! LinkedIn (Posts API, as the member or as a page the member administers), as
//! `shared/platforms.md` section 5 describes it: OAuth without PKCE and with the client's
//! credentials in the form, the member from `/v2/userinfo` and, with `LINKEDIN_ORGANIZATIONS`,
//! the organizations from `/rest/organizationAcls`, images through the Images API, a video
//! through the Videos API (parts with their ETags, finalized, then processed), posts through
//! `/rest/posts` with the versioned headers, and the classification of LinkedIn's answers. A
//! lost answer is settled by the organization's recent posts, or for a member by posting again:
//! LinkedIn refuses the same commentary from the same author as `DUPLICATE_POST` and names the
//! earlier post, which is then recorded (a member's own posts cannot be listed without a
//! restricted scope). Nothing outside this file knows a LinkedIn URL or error body.
//!
//! Metrics: likes and comments as replies, for an organization's posts only, one post a call
//! from `GET /rest/socialActions/{urn}` (scope `r_organization_social`, asked for with
//! `LINKEDIN_ORGANIZATIONS`). A member's own posts cannot be read without the restricted
//! `r_member_social`, and LinkedIn reports no impressions, reposts or link clicks for a post
//! through this call.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use app::types::Platform;
use app::types::{Fold, Frame, Gallery, PreviewRules, Ratio, TextCounter};

use super::answers::{self, retry_after};
use super::oauth::TokenAnswer;
use super::{
    AccountProfile, AuthorizationStart, ConsentedAccount, MediaCheck, MediaFile, MetricKinds,
    MetricsReading, MetricsRequest, PlatformError, PostCheck, PostMetrics, PostProblem, Progress,
    PublishError, PublishOutcome, PublishRequest, Published, SocialPlatform, TokenSet, join_url,
};
use crate::config::{ClientCredentials, PlatformApp};

/// Posting as the member, and reading who the member is.
const SCOPES: [&str; 3] = ["openid", "profile", "w_member_social"];
/// Posting as the organizations the member administers, listing them, and reading their posts
/// (reconciliation); these need LinkedIn's Community Management API product.
const ORGANIZATION_SCOPES: [&str; 3] = [
    "w_organization_social",
    "r_organization_social",
    "rw_organization_admin",
];
/// An organization's account id is its urn; a member's is the bare person id.
const ORGANIZATION_URN: &str = "urn:li:organization:";
/// The most administered organizations read, in one page.
const MAX_ORGANIZATIONS: u32 = 100;
/// Reconciliation reads an organization's posts, newest first, this many to a page.
const RECONCILE_POSTS: u32 = 20;
/// One call per post; LinkedIn's Community Management limits are daily and per app, so a
/// modest share a round.
const METRICS_CALLS_PER_ROUND: u32 = 50;
/// LinkedIn's Videos API: MP4, up to 500 MB here (the fake's and LinkedIn's documented limit
/// for API uploads), 3 seconds to 30 minutes.
const VIDEO_TYPES: [&str; 1] = ["video/mp4"];
const MAX_VIDEO_BYTES: u64 = 500 * 1024 * 1024;
const MIN_VIDEO_MS: u64 = 3_000;
const MAX_VIDEO_MS: u64 = 30 * 60 * 1_000;
/// One part's PUT may take this long.
const PART_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);
const PROCESSING_CHECK: std::time::Duration = std::time::Duration::from_secs(30);
const MAX_COMMENTARY_CHARS: usize = 3_000;
const MAX_IMAGES: usize = 20;
const IMAGE_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/gif"];
/// LinkedIn's "little text" markup: these must be escaped with a backslash, or the text is cut
/// at the first one.
const RESERVED: [char; 15] = [
    '\\', '|', '{', '}', '@', '[', ']', '(', ')', '<', '>', '#', '*', '_', '~',
];

pub struct LinkedInPlatform {
    credentials: ClientCredentials,
    http: reqwest::Client,
    /// The OAuth pages and token endpoint (www.linkedin.com), and where post links point.
    auth_url: http::Uri,
    api_url: http::Uri,
    /// `LINKEDIN_VERSION`, sent as `LinkedIn-Version` on every `/rest` call.
    version: String,
    /// `LINKEDIN_ORGANIZATIONS`: also offer the pages the member administers.
    organizations: bool,
}

impl LinkedInPlatform {
    /// `None` when the operator has not configured LinkedIn's credentials.
    pub fn from_config(
        app: &PlatformApp,
        version: &str,
        organizations: bool,
        http: reqwest::Client,
    ) -> Option<Self> {
        Some(Self {
            credentials: app.credentials.clone()?,
            http,
            auth_url: app.auth_url.clone(),
            api_url: app.api_url.clone(),
            version: version.to_owned(),
            organizations,
        })
    }

    /// The scopes asked for: the member's, and the organizations' when they are offered.
    fn scopes(&self) -> Vec<&'static str> {
        let mut scopes = SCOPES.to_vec();
        if self.organizations {
            scopes.extend(ORGANIZATION_SCOPES);
        }
        scopes
    }

    /// The organizations the member administers, as accounts.
    async fn organizations(
        &self,
        token: &SecretString,
    ) -> Result<Vec<AccountProfile>, PlatformError> {
        let path = format!(
            "/rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR&state=APPROVED&count={MAX_ORGANIZATIONS}"
        );
        let response = self
            .send(self.rest(reqwest::Method::GET, &path, token))
            .await?;
        let acls: Elements<Acl> = Self::read_json(response).await?;
        let mut organizations = Vec::new();
        for acl in acls.elements {
            let Some(id) = acl.organization.strip_prefix(ORGANIZATION_URN) else {
                continue;
            };
            let response = self
                .send(self.rest(
                    reqwest::Method::GET,
                    &format!("/rest/organizations/{id}"),
                    token,
                ))
                .await?;
            let organization: Organization = Self::read_json(response).await?;
            let name = organization
                .localized_name
                .filter(|name| !name.is_empty())
                .unwrap_or_else(|| format!("Organization {id}"));
            organizations.push(AccountProfile {
                handle: organization
                    .vanity_name
                    .filter(|vanity| !vanity.is_empty())
                    .unwrap_or_else(|| name.clone()),
                account_id: acl.organization,
                display_name: Some(name),
                avatar_url: None,
            });
        }
        Ok(organizations)
    }

    /// A call to the versioned API.
    fn rest(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &SecretString,
    ) -> reqwest::RequestBuilder {
        self.http
            .request(method, join_url(&self.api_url, path))
            .bearer_auth(token.expose_secret())
            .header("LinkedIn-Version", &self.version)
            .header("X-Restli-Protocol-Version", "2.0.0")
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, PlatformError> {
        answers::send(Platform::Linkedin, request, classify).await
    }

    async fn read_json<T: DeserializeOwned>(
        response: reqwest::Response,
    ) -> Result<T, PlatformError> {
        answers::read_json(Platform::Linkedin, response).await
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Result<TokenSet, PlatformError> {
        let credentials = [
            ("client_id", self.credentials.client_id.as_str()),
            (
                "client_secret",
                self.credentials.client_secret.expose_secret(),
            ),
        ];
        let form: Vec<(&str, &str)> = form.iter().copied().chain(credentials).collect();
        let request = self
            .http
            .post(join_url(&self.auth_url, "/oauth/v2/accessToken"))
            .form(&form);
        let response = answers::send(Platform::Linkedin, request, classify_token).await?;
        let answer: TokenAnswer = Self::read_json(response).await?;
        Ok(answer.into_tokens(&self.scopes()))
    }

    fn post_url(&self, urn: &str) -> String {
        join_url(&self.auth_url, &format!("/feed/update/{urn}"))
    }

    /// Uploads a video for `author` in the parts LinkedIn asks for, finalizes it with each
    /// part's ETag, and returns its urn.
    async fn upload_video(
        &self,
        token: &SecretString,
        author: &str,
        video: &MediaFile,
    ) -> Result<String, PublishError> {
        let response = self
            .send(
                self.rest(
                    reqwest::Method::POST,
                    "/rest/videos?action=initializeUpload",
                    token,
                )
                .json(&json!({ "initializeUploadRequest": {
                    "owner": author,
                    "fileSizeBytes": video.size,
                    "uploadCaptions": false,
                    "uploadThumbnail": false,
                }})),
            )
            .await?;
        let upload: Wrapped<VideoUpload> = Self::read_json(response).await?;
        let upload = upload.value;
        let mut etags = Vec::with_capacity(upload.upload_instructions.len());
        for part in &upload.upload_instructions {
            let len = part.last_byte.saturating_sub(part.first_byte) + 1;
            let bytes = video
                .range(part.first_byte, usize::try_from(len).unwrap_or(usize::MAX))
                .await?;
            // The upload URL is LinkedIn's own, followed as given.
            let answer = self
                .send(
                    self.http
                        .put(&part.upload_url)
                        .bearer_auth(token.expose_secret())
                        .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                        .timeout(PART_TIMEOUT)
                        .body(bytes),
                )
                .await?;
            let etag = answer
                .headers()
                .get(reqwest::header::ETAG)
                .and_then(|value| value.to_str().ok())
                .ok_or_else(|| PlatformError::Retryable {
                    wait: None,
                    maybe_done: false,
                    detail: "LinkedIn took a part of the video without its ETag".into(),
                })?;
            etags.push(etag.to_owned());
        }
        self.send(
            self.rest(
                reqwest::Method::POST,
                "/rest/videos?action=finalizeUpload",
                token,
            )
            .json(&json!({ "finalizeUploadRequest": {
                "video": upload.video,
                "uploadToken": upload.upload_token,
                "uploadedPartIds": etags,
            }})),
        )
        .await?;
        Ok(upload.video)
    }

    /// Whether LinkedIn finished processing `video`: `Ok(false)` while it still works.
    async fn video_available(
        &self,
        token: &SecretString,
        video: &str,
    ) -> Result<bool, PlatformError> {
        let encoded: String = url::form_urlencoded::byte_serialize(video.as_bytes()).collect();
        let path = format!("/rest/videos/{encoded}");
        let available = answers::check_a_few_times(|| async {
            let response = self
                .send(self.rest(reqwest::Method::GET, &path, token))
                .await?;
            let state: VideoState = Self::read_json(response).await?;
            match state.status.as_str() {
                "AVAILABLE" => Ok(Some(())),
                "PROCESSING_FAILED" => Err(PlatformError::permanent(
                    "LinkedIn could not process the video: check it plays, export it as an H.264 MP4, then post it again.",
                )),
                _ => Ok(None),
            }
        })
        .await?;
        Ok(available.is_some())
    }

    /// Uploads one image for `author` and returns its urn.
    async fn upload_image(
        &self,
        token: &SecretString,
        author: &str,
        mime: &str,
        bytes: Vec<u8>,
    ) -> Result<String, PlatformError> {
        let response = self
            .send(
                self.rest(
                    reqwest::Method::POST,
                    "/rest/images?action=initializeUpload",
                    token,
                )
                .json(&json!({ "initializeUploadRequest": { "owner": author } })),
            )
            .await?;
        let started: Value = Self::read_json(response).await?;
        let (Some(upload_url), Some(image)) = (
            started["value"]["uploadUrl"].as_str(),
            started["value"]["image"].as_str(),
        ) else {
            return Err(PlatformError::permanent(
                "LinkedIn did not say where to upload the image.",
            ));
        };
        // The whole file in one request: LinkedIn's upload URL does not take parts.
        self.send(
            self.http
                .put(upload_url)
                .bearer_auth(token.expose_secret())
                .header(reqwest::header::CONTENT_TYPE, mime)
                .body(bytes),
        )
        .await?;
        Ok(image.to_owned())
    }
}

/// Why LinkedIn would refuse this video.
fn check_video(video: &MediaCheck) -> Result<(), PostProblem> {
    if !VIDEO_TYPES.contains(&video.mime.as_str()) {
        return Err(PostProblem::Media(format!(
            "LinkedIn takes MP4 videos; this one is {}.",
            video.mime
        )));
    }
    if video.bytes > MAX_VIDEO_BYTES {
        return Err(PostProblem::Media(
            "LinkedIn takes videos up to 500 MB here.".into(),
        ));
    }
    match video.video.as_ref().map(|facts| facts.duration_ms) {
        Some(ms) if ms < MIN_VIDEO_MS => Err(PostProblem::Media(format!(
            "A LinkedIn video lasts at least 3 seconds; this one is {:.1} s.",
            ms as f64 / 1000.0
        ))),
        Some(ms) if ms > MAX_VIDEO_MS => Err(PostProblem::Media(format!(
            "A LinkedIn video lasts at most 30 minutes; this one is {} min.",
            ms.div_ceil(60_000)
        ))),
        _ => Ok(()),
    }
}

/// The urn a post is made by: the organization's, or the member's.
fn author_of(account_id: &str) -> String {
    if account_id.starts_with(ORGANIZATION_URN) {
        account_id.to_owned()
    } else {
        format!("urn:li:person:{account_id}")
    }
}

/// A video that reached LinkedIn, kept on the target between attempts: only its processing
/// and the post are left.
#[derive(serde::Serialize, Deserialize)]
struct SavedVideo {
    video: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VideoUpload {
    video: String,
    #[serde(default)]
    upload_token: String,
    upload_instructions: Vec<UploadInstruction>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UploadInstruction {
    upload_url: String,
    first_byte: u64,
    last_byte: u64,
}

#[derive(Deserialize)]
struct Wrapped<T> {
    value: T,
}

#[derive(Deserialize)]
struct VideoState {
    status: String,
}

#[derive(Deserialize)]
struct Elements<T> {
    #[serde(default = "Vec::new")]
    elements: Vec<T>,
    #[serde(default)]
    paging: Option<Paging>,
}

/// Where a listed page sits among all of them.
#[derive(Deserialize)]
struct Paging {
    count: usize,
    #[serde(default)]
    total: Option<usize>,
}

impl Paging {
    /// The next page's `start`, if there are more: LinkedIn gives a total; without one, a
    /// full page may have a successor.
    fn next_start(&self, start: usize, listed: usize) -> Option<usize> {
        let next = start + listed;
        match self.total {
            Some(total) => (next < total && listed > 0).then_some(next),
            None => (listed >= self.count && listed > 0).then_some(next),
        }
    }
}

#[derive(Deserialize)]
struct Acl {
    organization: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Organization {
    #[serde(default)]
    localized_name: Option<String>,
    #[serde(default)]
    vanity_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListedPost {
    id: String,
    #[serde(default)]
    commentary: String,
    #[serde(default)]
    created_at: Option<i64>,
}

/// `GET /rest/socialActions/{urn}`: the post's like and comment summaries.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SocialActions {
    #[serde(default)]
    likes_summary: Option<LikesSummary>,
    #[serde(default)]
    comments_summary: Option<CommentsSummary>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LikesSummary {
    #[serde(default)]
    total_likes: Option<i64>,
    #[serde(default)]
    aggregated_total_likes: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CommentsSummary {
    #[serde(default)]
    total_first_level_comments: Option<i64>,
    #[serde(default)]
    aggregated_total_comments: Option<i64>,
}

impl SocialActions {
    /// The aggregated counts (replies to comments included) where LinkedIn gives them.
    fn metrics(&self) -> PostMetrics {
        PostMetrics {
            impressions: None,
            likes: self
                .likes_summary
                .as_ref()
                .and_then(|likes| likes.aggregated_total_likes.or(likes.total_likes)),
            replies: self.comments_summary.as_ref().and_then(|comments| {
                comments
                    .aggregated_total_comments
                    .or(comments.total_first_level_comments)
            }),
            reposts: None,
            link_clicks: None,
        }
    }
}

#[derive(Deserialize)]
struct UserInfo {
    sub: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    picture: Option<String>,
}

#[async_trait]
impl SocialPlatform for LinkedInPlatform {
    fn platform(&self) -> Platform {
        Platform::Linkedin
    }

    fn start_authorization(&self, redirect_uri: &str, state: &str) -> AuthorizationStart {
        let mut url = url::Url::parse(&join_url(&self.auth_url, "/oauth/v2/authorization"))
            .expect("LINKEDIN_AUTH_URL was checked as a URL");
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.credentials.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", state)
            .append_pair("scope", &self.scopes().join(" "));
        AuthorizationStart {
            url: url.to_string(),
            // LinkedIn's server-side web flow has no PKCE.
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
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
        ])
        .await
    }

    /// LinkedIn's API offers no revocation: the tokens we hold are deleted with the connection,
    /// and the member removes the app under "Permitted services" in their settings.
    async fn revoke(&self, _token: &SecretString) -> Result<(), PlatformError> {
        Ok(())
    }

    /// The member, and with `LINKEDIN_ORGANIZATIONS` the pages the member administers: the
    /// person chooses which to connect.
    async fn accounts(&self, tokens: &TokenSet) -> Result<Vec<ConsentedAccount>, PlatformError> {
        let mut accounts = vec![self.account(&tokens.access).await?];
        if self.organizations {
            accounts.extend(self.organizations(&tokens.access).await?);
        }
        Ok(accounts
            .into_iter()
            .map(|profile| ConsentedAccount {
                profile,
                tokens: None,
            })
            .collect())
    }

    async fn account(&self, access_token: &SecretString) -> Result<AccountProfile, PlatformError> {
        let response = self
            .send(
                self.http
                    .get(join_url(&self.api_url, "/v2/userinfo"))
                    .bearer_auth(access_token.expose_secret()),
            )
            .await?;
        let me: UserInfo = Self::read_json(response).await?;
        let name = me.name.filter(|name| !name.is_empty());
        Ok(AccountProfile {
            handle: name.clone().unwrap_or_else(|| me.sub.clone()),
            account_id: me.sub,
            display_name: name,
            avatar_url: me.picture,
        })
    }

    /// LinkedIn advises three at most.
    fn caption_hashtags(&self) -> usize {
        3
    }

    fn preview_rules(&self, post: &PostCheck<'_>) -> PreviewRules {
        PreviewRules {
            counter: TextCounter::characters(
                escape_little_text(post.text).chars().count(),
                MAX_COMMENTARY_CHARS,
            ),
            // The feed shows about three lines, then "…see more".
            fold: Some(Fold {
                chars: 210,
                lines: 3,
                more: "…see more",
            }),
            frame: Frame {
                tallest: Ratio(4, 5),
                widest: Ratio(191, 100),
                crops: true,
            },
            gallery: Gallery::Grid,
        }
    }

    fn check_post(&self, post: &PostCheck<'_>) -> Result<(), PostProblem> {
        if let Some(unknown) = post.options.keys().next() {
            return Err(PostProblem::Options(format!(
                "LinkedIn has no option `{unknown}`."
            )));
        }
        if post.text.trim().is_empty() && post.media.is_empty() {
            return Err(PostProblem::Text(
                "A post on LinkedIn needs text or an image.".into(),
            ));
        }
        let length = escape_little_text(post.text).chars().count();
        if length > MAX_COMMENTARY_CHARS {
            return Err(PostProblem::Text(format!(
                "LinkedIn takes {MAX_COMMENTARY_CHARS} characters (its markup characters such as # and @ count twice); this text is {length}."
            )));
        }
        let videos = post
            .media
            .iter()
            .filter(|file| file.mime.starts_with("video/"))
            .count();
        if videos > 0 {
            let [video] = post.media else {
                return Err(PostProblem::Media(
                    "A LinkedIn post takes one video alone, or images: not both, nor two videos."
                        .into(),
                ));
            };
            return check_video(video);
        }
        if post.media.len() > MAX_IMAGES {
            return Err(PostProblem::Media(format!(
                "LinkedIn takes at most {MAX_IMAGES} images per post; this one has {}.",
                post.media.len()
            )));
        }
        if let Some(file) = post
            .media
            .iter()
            .find(|file| !IMAGE_TYPES.contains(&file.mime.as_str()))
        {
            return Err(PostProblem::Media(format!(
                "LinkedIn posts here take JPEG, PNG or GIF images; {} is not one.",
                file.mime
            )));
        }
        Ok(())
    }

    async fn publish(
        &self,
        request: PublishRequest<'_>,
        progress: &mut dyn Progress,
    ) -> Result<PublishOutcome, PublishError> {
        let author = author_of(request.account_id);
        let mut images = Vec::with_capacity(request.media.len());
        if let [video] = request.media
            && video.mime.starts_with("video/")
        {
            let saved = request
                .saved
                .and_then(|saved| serde_json::from_value::<SavedVideo>(saved.clone()).ok());
            let urn = match saved {
                Some(saved) => saved.video,
                // A video whose upload was cut short is uploaded again: LinkedIn keeps no
                // unfinished upload we could go on with.
                None => {
                    let urn = self
                        .upload_video(request.access_token, &author, video)
                        .await?;
                    progress
                        .save(json!(SavedVideo { video: urn.clone() }))
                        .await?;
                    progress.step(format!("video uploaded to LinkedIn ({urn})"));
                    urn
                }
            };
            if !self.video_available(request.access_token, &urn).await? {
                return Ok(PublishOutcome::Processing {
                    check_after: PROCESSING_CHECK,
                    status: "LinkedIn is processing the video".into(),
                });
            }
            images.push(urn);
        }
        for (index, file) in request
            .media
            .iter()
            .filter(|file| file.mime.starts_with("image/"))
            .enumerate()
        {
            let bytes = file.bytes().await?;
            let urn = self
                .upload_image(request.access_token, &author, &file.mime, bytes)
                .await?;
            progress.step(format!("image {} uploaded to LinkedIn ({urn})", index + 1));
            images.push(urn);
        }
        let mut body = json!({
            "author": author,
            "commentary": escape_little_text(request.text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": false,
        });
        match images.as_slice() {
            [] => {}
            [one] => body["content"] = json!({ "media": { "id": one } }),
            several => {
                let images: Vec<Value> = several.iter().map(|id| json!({ "id": id })).collect();
                body["content"] = json!({ "multiImage": { "images": images } });
            }
        }
        let sent = self
            .rest(reqwest::Method::POST, "/rest/posts", request.access_token)
            .json(&body)
            .send()
            .await
            .map_err(|error| PlatformError::from_transport(Platform::Linkedin, &error))?;
        let status = sent.status();
        if status.is_success() {
            let Some(urn) = sent
                .headers()
                .get("x-restli-id")
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
            else {
                // Created, but which post is not known: the next attempt's duplicate answer
                // names it.
                return Err(PlatformError::Retryable {
                    wait: None,
                    maybe_done: true,
                    detail: "LinkedIn created the post without saying its id".into(),
                }
                .into());
            };
            progress.step(format!("LinkedIn answered {status}: post {urn} created"));
            return Ok(PublishOutcome::Published(Published {
                url: self.post_url(&urn),
                external_id: urn,
            }));
        }
        let headers = sent.headers().clone();
        let text = sent.text().await.unwrap_or_default();
        if let Some(earlier) = duplicate_of(status, &text) {
            progress.step(format!(
                "LinkedIn says this is a duplicate of {earlier}, which an earlier attempt posted"
            ));
            return Ok(PublishOutcome::AlreadyPublished(Published {
                url: self.post_url(&earlier),
                external_id: earlier,
            }));
        }
        Err(classify(status, &headers, &text, Utc::now()).into())
    }

    /// An organization's posts are listed; a member's cannot be without a restricted scope,
    /// so a lost answer is settled by `publish` itself: LinkedIn answers the same post again
    /// with `DUPLICATE_POST` and the earlier post's urn.
    fn lists_recent_posts(&self, account_id: &str) -> bool {
        account_id.starts_with(ORGANIZATION_URN)
    }

    async fn find_published(
        &self,
        request: PublishRequest<'_>,
        since: DateTime<Utc>,
    ) -> Result<Option<Published>, PlatformError> {
        if !self.lists_recent_posts(request.account_id) {
            return Ok(None);
        }
        let author: String =
            url::form_urlencoded::byte_serialize(request.account_id.as_bytes()).collect();
        let commentary = escape_little_text(request.text);
        let found = answers::find_since(
            Platform::Linkedin,
            since,
            |start: Option<usize>| {
                let author = &author;
                async move {
                    let start = start.unwrap_or(0);
                    let path = format!(
                        "/rest/posts?q=author&author={author}&start={start}\
                         &count={RECONCILE_POSTS}&sortBy=LAST_MODIFIED"
                    );
                    let response = self
                        .send(self.rest(reqwest::Method::GET, &path, request.access_token))
                        .await?;
                    let posts: Elements<ListedPost> = Self::read_json(response).await?;
                    let listed = posts.elements.len();
                    let next = posts
                        .paging
                        .and_then(|paging| paging.next_start(start, listed));
                    Ok((posts.elements, next))
                }
            },
            |post: &ListedPost| {
                post.created_at
                    .and_then(DateTime::<Utc>::from_timestamp_millis)
            },
            |post: &ListedPost| post.commentary == commentary,
        )
        .await?;
        Ok(found.map(|post| Published {
            url: self.post_url(&post.id),
            external_id: post.id,
        }))
    }

    /// An organization's posts only: see the module's "Metrics".
    fn metrics(&self, account_id: &str) -> Option<MetricsReading> {
        account_id
            .starts_with(ORGANIZATION_URN)
            .then_some(MetricsReading {
                gives: MetricKinds {
                    impressions: false,
                    likes: true,
                    replies: true,
                    reposts: false,
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
        let mut read = BTreeMap::new();
        for urn in request.external_ids {
            let encoded: String = url::form_urlencoded::byte_serialize(urn.as_bytes()).collect();
            let sent = answers::send_unless_gone(
                Platform::Linkedin,
                self.rest(
                    reqwest::Method::GET,
                    &format!("/rest/socialActions/{encoded}"),
                    request.access_token,
                ),
                classify,
            )
            .await?;
            // A post deleted on LinkedIn has no numbers any more.
            let Some(response) = sent else { continue };
            let actions: SocialActions = Self::read_json(response).await?;
            read.insert(urn.clone(), actions.metrics());
        }
        Ok(read)
    }
}

/// The text as LinkedIn's "little text" shows it literally: each reserved character escaped.
pub fn escape_little_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if RESERVED.contains(&c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The earlier post a `DUPLICATE_POST` refusal names, if this is one.
fn duplicate_of(status: StatusCode, body: &str) -> Option<String> {
    if status != StatusCode::UNPROCESSABLE_ENTITY || !body.contains("DUPLICATE_POST") {
        return None;
    }
    let error: ErrorBody = serde_json::from_str(body).ok()?;
    let start = error.message.find("urn:li:")?;
    let urn: String = error.message[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == ':' || *c == '_' || *c == '-')
        .collect();
    Some(urn)
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: String,
}

/// Sorts an unsuccessful answer from the token endpoint: a refused code or refresh token takes
/// the user, refused app credentials the operator.
fn classify_token(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    now: DateTime<Utc>,
) -> PlatformError {
    let error = serde_json::from_str::<Value>(body).unwrap_or_default();
    match (status.as_u16(), error["error"].as_str()) {
        (_, Some("invalid_client")) | (401, _) => PlatformError::permanent(
            "LinkedIn refused this app's credentials: the operator should check LINKEDIN_CLIENT_ID and LINKEDIN_CLIENT_SECRET",
        ),
        (400, _) => PlatformError::Reauth {
            detail: "LinkedIn no longer accepts this account's authorization".into(),
        },
        // A refresh whose answer was lost may have been spent.
        _ => classify(status, headers, body, now).with_maybe_done(true),
    }
}

/// Sorts an unsuccessful answer from LinkedIn into the closed set of outcomes.
pub fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    _now: DateTime<Utc>,
) -> PlatformError {
    let error: ErrorBody = serde_json::from_str(body).unwrap_or_default();
    let message: String = error.message.chars().take(300).collect();
    match status.as_u16() {
        401 => PlatformError::Reauth {
            detail: "LinkedIn no longer accepts this account's authorization".into(),
        },
        429 => PlatformError::Retryable {
            wait: retry_after(headers),
            maybe_done: false,
            detail: "LinkedIn's rate limit was reached".into(),
        },
        500..=599 => PlatformError::Retryable {
            wait: retry_after(headers),
            maybe_done: false,
            detail: format!("LinkedIn had a server error ({})", status.as_u16()),
        },
        426 => PlatformError::permanent(
            "LinkedIn no longer accepts the API version this server sends: the operator should set LINKEDIN_VERSION to a current YYYYMM.",
        ),
        403 if error.code == "ACCESS_DENIED" => PlatformError::permanent(
            "LinkedIn refused: the account has not granted posting to this app. Reconnect it and allow posting.",
        ),
        _ if message.is_empty() => {
            PlatformError::permanent(format!("LinkedIn refused the post ({}).", status.as_u16()))
        }
        _ => PlatformError::permanent(format!("LinkedIn refused the post: {message}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn social_actions_give_likes_and_comments_with_replies_counted() {
        let actions: SocialActions = serde_json::from_str(
            r#"{"likesSummary":{"totalLikes":12,"aggregatedTotalLikes":14,"likedByCurrentUser":false},"commentsSummary":{"totalFirstLevelComments":3,"aggregatedTotalComments":5},"target":"urn:li:share:1"}"#,
        )
        .unwrap();
        assert_eq!(
            actions.metrics(),
            PostMetrics {
                impressions: None,
                likes: Some(14),
                replies: Some(5),
                reposts: None,
                link_clicks: None,
            }
        );
        let platform = LinkedInPlatform::from_config(
            &crate::config::PlatformApp {
                credentials: Some(ClientCredentials {
                    client_id: "id".into(),
                    client_secret: SecretString::from("secret"),
                }),
                auth_url: "https://www.linkedin.com".parse().unwrap(),
                api_url: "https://api.linkedin.com".parse().unwrap(),
            },
            "202601",
            true,
            reqwest::Client::new(),
        )
        .unwrap();
        assert!(platform.metrics("urn:li:organization:42").is_some());
        assert!(platform.metrics("AbCdEf1234").is_none(), "a member");
    }

    #[test]
    fn reserved_characters_are_escaped_so_nothing_is_cut() {
        assert_eq!(
            escape_little_text("Mugs (blue) #handmade @shop_1 ~ok"),
            "Mugs \\(blue\\) \\#handmade \\@shop\\_1 \\~ok"
        );
        assert_eq!(escape_little_text("a\\b"), "a\\\\b");
    }

    #[test]
    fn a_duplicate_names_the_earlier_post() {
        let body = r#"{"status":422,"serviceErrorCode":6,"code":"DUPLICATE_POST","message":"Content is a duplicate of urn:li:share:7260000000000000001"}"#;
        assert_eq!(
            duplicate_of(StatusCode::UNPROCESSABLE_ENTITY, body).as_deref(),
            Some("urn:li:share:7260000000000000001")
        );
        assert_eq!(duplicate_of(StatusCode::BAD_REQUEST, body), None);
        assert_eq!(
            duplicate_of(
                StatusCode::UNPROCESSABLE_ENTITY,
                r#"{"code":"DUPLICATE_POST","message":"Content is a duplicate of an earlier post."}"#
            ),
            None
        );
    }

    #[test]
    fn answers_are_sorted_into_the_closed_set() {
        let now = Utc::now();
        let none = HeaderMap::new();
        assert!(matches!(
            classify(
                StatusCode::UNAUTHORIZED,
                &none,
                r#"{"code":"REVOKED_ACCESS_TOKEN"}"#,
                now
            ),
            PlatformError::Reauth { .. }
        ));
        assert!(matches!(
            classify(StatusCode::TOO_MANY_REQUESTS, &none, "", now),
            PlatformError::Retryable { .. }
        ));
        assert!(
            classify(StatusCode::UPGRADE_REQUIRED, &none, "{}", now)
                .to_string()
                .contains("LINKEDIN_VERSION")
        );
        assert_eq!(
            classify(
                StatusCode::UNPROCESSABLE_ENTITY,
                &none,
                r#"{"message":"commentary too long"}"#,
                now
            ),
            PlatformError::permanent("LinkedIn refused the post: commentary too long")
        );
    }
}
