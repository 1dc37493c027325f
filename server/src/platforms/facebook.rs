//! Facebook Pages (`shared/platforms.md` section 2): the accounts are the person's Pages, each
//! acting with its own Page token; a post is text with an optional link, one or several photos,
//! or one video that Facebook processes after the upload. Meta downloads the media from the
//! app's signed URLs. The Graph plumbing both Meta platforms share is in
//! [`super::meta_graph`]; nothing outside the two knows a Graph URL or error body.
//!
//! Photos are uploaded unpublished (`/photos`, `published=false`), each id saved before the next
//! call, then attached to one `/feed` post: the commit point for text and photo posts alike. A
//! video's `/videos` call is its commit point; its id is saved at once and its processing
//! followed. Facebook refuses duplicates itself (506, and 1366051 for photos attached twice):
//! those are reconciled against the Page's published posts made since the first attempt
//! began, and refused with a sentence when none is found (the text was posted before).
//!
//! Metrics: all five. Reactions (as likes), comments (as replies) and shares (as reposts) from
//! the post's own fields; views (`post_media_view`, which replaced `post_impressions` in
//! November 2025) and link clicks (`post_clicks_by_type`) from `GET /{post-id}/insights`, which
//! needs `read_insights`: asked for, but a person may decline it, and then those two stay
//! unknown. Two requests a post.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;

use app::types::{Fold, Frame, Gallery, PreviewRules, Ratio, TextCounter};
use app::types::{OptionField, Platform, TargetOptions};

use super::answers::{QUICK_CHECK_EVERY, QUICK_CHECKS};
use super::meta_graph::{self, Created, Failure, Listed, MetaApp};
use super::{
    AccountProfile, AuthorizationStart, ConsentedAccount, MediaFile, MediaPull, MetricKinds,
    MetricsReading, MetricsRequest, PlatformError, PostCheck, PostMetrics, PostProblem, Progress,
    PublishError, PublishOutcome, PublishRequest, Published, SocialPlatform, TokenSet,
};
use crate::config::PlatformApp;

const SCOPES: [&str; 5] = [
    "pages_show_list",
    "pages_manage_posts",
    "pages_read_engagement",
    "business_management",
    // Views and link clicks of a post; optional (see `meta_graph`).
    "read_insights",
];
/// A post's counts, without the people behind them (`limit(0)`).
const COUNT_FIELDS: &str =
    "reactions.limit(0).summary(total_count),comments.limit(0).summary(total_count),shares";
const INSIGHT_METRICS: &str = "post_media_view,post_clicks_by_type";
/// Each post is two requests; Meta's business use case limits leave room for far more.
const METRICS_CALLS_PER_ROUND: u32 = 100;
const MAX_MESSAGE_CHARS: usize = 63_206;
/// Postiz's error 1366046 says photos must be under 4 MB.
const MAX_PHOTO_BYTES: u64 = 4 * 1024 * 1024;
const PHOTO_TYPES: [&str; 2] = ["image/jpeg", "image/png"];
const MAX_LINK_CHARS: usize = 2048;
const OPTION_NAMES: [&str; 1] = ["link"];
/// How soon a video still processing is looked at again.
const VIDEO_CHECK: Duration = Duration::from_secs(60);

pub struct FacebookPlatform {
    meta: MetaApp,
}

/// A post's choices, read from the target's options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct PageOptions {
    link: Option<String>,
}

impl PageOptions {
    fn read(options: &TargetOptions) -> Result<Self, String> {
        if let Some(unknown) = options
            .keys()
            .find(|name| !OPTION_NAMES.contains(&name.as_str()))
        {
            return Err(format!(
                "Facebook has no option `{unknown}`; a Page post takes a link."
            ));
        }
        let link = options
            .get("link")
            .map(|link| link.trim())
            .filter(|link| !link.is_empty());
        if let Some(link) = link {
            let web = (link.starts_with("https://") || link.starts_with("http://"))
                && url::Url::parse(link).is_ok();
            if !web {
                return Err(format!(
                    "A Facebook link must be a web address starting with https://; `{link}` is not."
                ));
            }
            if link.len() > MAX_LINK_CHARS {
                return Err(format!(
                    "A Facebook link may be {MAX_LINK_CHARS} characters long; this one is {}.",
                    link.len()
                ));
            }
        }
        Ok(Self {
            link: link.map(str::to_owned),
        })
    }
}

/// What a publish has reached, kept on the target between attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Saved {
    /// When the first attempt began: a post found as a duplicate counts as ours only if made
    /// since.
    started_at: DateTime<Utc>,
    /// Unpublished photos uploaded so far, in the post's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    photos: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    video_id: Option<String>,
    /// The post, once `/feed` answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    post_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct User {
    id: String,
    #[serde(default)]
    name: String,
}

/// A Page post as `published_posts` and `/{post-id}` give it.
#[derive(Debug, Deserialize)]
struct PagePost {
    id: String,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    created_time: Option<String>,
    #[serde(default)]
    permalink_url: Option<String>,
}

impl Listed for PagePost {
    fn text(&self) -> Option<&str> {
        self.message.as_deref()
    }

    fn made_at(&self) -> Option<&str> {
        self.created_time.as_deref()
    }
}

/// `GET /{video-id}?fields=status,post_id,permalink_url`.
#[derive(Debug, Deserialize)]
struct Video {
    #[serde(default)]
    status: Option<VideoStatus>,
    #[serde(default)]
    post_id: Option<String>,
    #[serde(default)]
    permalink_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct VideoStatus {
    #[serde(default)]
    video_status: String,
}

/// `GET /{post-id}?fields=reactions..,comments..,shares`. Graph leaves `shares` out of a post
/// nobody shared.
#[derive(Debug, Deserialize)]
struct PostCounts {
    #[serde(default)]
    reactions: Option<Summarized>,
    #[serde(default)]
    comments: Option<Summarized>,
    #[serde(default)]
    shares: Option<Shares>,
}

#[derive(Debug, Deserialize)]
struct Summarized {
    #[serde(default)]
    summary: Option<Summary>,
}

#[derive(Debug, Deserialize)]
struct Summary {
    #[serde(default)]
    total_count: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct Shares {
    #[serde(default)]
    count: Option<i64>,
}

impl Summarized {
    fn total(&self) -> Option<i64> {
        self.summary.as_ref()?.total_count
    }
}

/// A post's numbers from its counts and, when they could be read, its insights.
fn page_post_metrics(
    counts: &PostCounts,
    insights: Option<&BTreeMap<String, meta_graph::Insight>>,
) -> PostMetrics {
    PostMetrics {
        impressions: insights
            .and_then(|insights| insights.get("post_media_view"))
            .and_then(meta_graph::Insight::count),
        likes: counts.reactions.as_ref().and_then(Summarized::total),
        replies: counts.comments.as_ref().and_then(Summarized::total),
        reposts: Some(
            counts
                .shares
                .as_ref()
                .and_then(|shares| shares.count)
                .unwrap_or(0),
        ),
        link_clicks: insights
            .and_then(|insights| insights.get("post_clicks_by_type"))
            .and_then(|clicks| clicks.count_of("link clicks")),
    }
}

impl FacebookPlatform {
    /// `None` when the operator configured neither `FACEBOOK_*` nor `META_*` credentials.
    pub fn from_config(app: &PlatformApp, version: &str, http: reqwest::Client) -> Option<Self> {
        Some(Self {
            meta: MetaApp::from_config(Platform::Facebook, app, version, &SCOPES, http)?,
        })
    }

    /// A permalink as Graph gives it: absolute, or relative to facebook.com.
    fn absolute(&self, permalink: &str) -> String {
        if permalink.starts_with("http") {
            permalink.to_owned()
        } else {
            self.meta.web_url(permalink)
        }
    }

    /// The post's address, read from Facebook; `facebook.com/{post-id}` when that read fails
    /// (the post is live either way).
    async fn published(&self, token: &SecretString, post_id: &str) -> Published {
        let read: Result<PagePost, Failure> = self
            .meta
            .get(token, post_id, &[("fields", "permalink_url")])
            .await;
        let url = read.ok().and_then(|post| post.permalink_url).map_or_else(
            || self.meta.web_url(&format!("/{post_id}")),
            |url| self.absolute(&url),
        );
        Published {
            external_id: post_id.to_owned(),
            url,
        }
    }

    /// Among the Page's newest published posts, the one with this text made since `since`.
    async fn find_recent(
        &self,
        request: &PublishRequest<'_>,
        since: DateTime<Utc>,
    ) -> Result<Option<Published>, PlatformError> {
        let found: Option<PagePost> = self
            .meta
            .find_ours(
                request.access_token,
                &format!("{}/published_posts", request.account_id),
                "id,message,created_time,permalink_url",
                request.text,
                since,
            )
            .await?;
        Ok(found.map(|post| Published {
            url: post.permalink_url.as_deref().map_or_else(
                || self.meta.web_url(&format!("/{}", post.id)),
                |url| self.absolute(url),
            ),
            external_id: post.id,
        }))
    }

    /// Uploads the photos not uploaded yet, unpublished, saving each id before the next.
    async fn upload_photos(
        &self,
        request: &PublishRequest<'_>,
        saved: &mut Saved,
        progress: &mut dyn Progress,
    ) -> Result<(), PublishError> {
        let from = saved.photos.len().min(request.media.len());
        for photo in &request.media[from..] {
            let url = self.meta.media_url(photo)?;
            let uploaded: Created = self
                .meta
                .post(
                    request.access_token,
                    &format!("{}/photos", request.account_id),
                    &[("url", url), ("published", "false")],
                )
                .await?;
            saved.photos.push(uploaded.id);
            progress.save(meta_graph::saved_json(&saved)).await?;
        }
        if from < request.media.len() {
            progress.step(format!(
                "{} photo(s) uploaded to Facebook, unpublished",
                request.media.len() - from
            ));
        }
        Ok(())
    }

    /// The `/feed` post: the commit point for text and photos.
    async fn post_to_feed(
        &self,
        request: &PublishRequest<'_>,
        options: &PageOptions,
        saved: &mut Saved,
        progress: &mut dyn Progress,
    ) -> Result<PublishOutcome, PublishError> {
        let attached = json!(
            saved
                .photos
                .iter()
                .map(|id| json!({ "media_fbid": id }))
                .collect::<Vec<_>>()
        )
        .to_string();
        let mut form = vec![("published", "true")];
        if !request.text.trim().is_empty() {
            form.push(("message", request.text));
        }
        if let Some(link) = &options.link {
            form.push(("link", link.as_str()));
        }
        if !saved.photos.is_empty() {
            form.push(("attached_media", attached.as_str()));
        }
        let answer: Result<Created, Failure> = self
            .meta
            .post(
                request.access_token,
                &format!("{}/feed", request.account_id),
                &form,
            )
            .await;
        let created = match answer {
            Ok(created) => created,
            Err(failure) if failure.is_duplicate() => {
                return self.reconcile_duplicate(request, saved, progress).await;
            }
            Err(failure) => return Err(failure.into()),
        };
        saved.post_id = Some(created.id.clone());
        progress.save(meta_graph::saved_json(&saved)).await?;
        progress.step(format!("Facebook made post {}", created.id));
        Ok(PublishOutcome::Published(
            self.published(request.access_token, &created.id).await,
        ))
    }

    /// Facebook refused the post as a duplicate: ours if the Page has it since the first
    /// attempt began (an earlier answer was lost), else the text was posted before.
    async fn reconcile_duplicate(
        &self,
        request: &PublishRequest<'_>,
        saved: &Saved,
        progress: &mut dyn Progress,
    ) -> Result<PublishOutcome, PublishError> {
        progress
            .step("Facebook refused the post as a duplicate: looking for it on the Page".into());
        match self.find_recent(request, saved.started_at).await? {
            Some(published) => Ok(PublishOutcome::AlreadyPublished(published)),
            None => Err(PlatformError::permanent(
                "Facebook refused the post as a duplicate of one already on the Page: change the text to post it again.",
            )
            .into()),
        }
    }

    /// Uploads the video (the commit point) unless it was, then follows its processing.
    async fn publish_video(
        &self,
        request: &PublishRequest<'_>,
        saved: &mut Saved,
        video: &MediaFile,
        progress: &mut dyn Progress,
    ) -> Result<PublishOutcome, PublishError> {
        let mut quick_checks = 0;
        let video_id = match &saved.video_id {
            Some(id) => id.clone(),
            None => {
                let url = self.meta.media_url(video)?;
                let uploaded: Created = self
                    .meta
                    .post(
                        request.access_token,
                        &format!("{}/videos", request.account_id),
                        &[
                            ("file_url", url),
                            ("description", request.text),
                            ("published", "true"),
                        ],
                    )
                    .await?;
                saved.video_id = Some(uploaded.id.clone());
                progress.save(meta_graph::saved_json(&saved)).await?;
                progress.step(format!("Facebook has video {}", uploaded.id));
                quick_checks = QUICK_CHECKS;
                uploaded.id
            }
        };
        loop {
            let read: Video = self
                .meta
                .get(
                    request.access_token,
                    &video_id,
                    &[("fields", "status,post_id,permalink_url")],
                )
                .await?;
            let status = read.status.map(|status| status.video_status);
            match status.as_deref() {
                Some("ready") => {
                    let url = read.permalink_url.as_deref().map_or_else(
                        || self.meta.web_url(&format!("/{video_id}")),
                        |url| self.absolute(url),
                    );
                    return Ok(PublishOutcome::Published(Published {
                        external_id: read.post_id.unwrap_or(video_id),
                        url,
                    }));
                }
                Some("error") => {
                    return Err(PlatformError::permanent(
                        "Facebook could not process the video: check that it plays, export it as an H.264 MP4, then post it again.",
                    )
                    .into());
                }
                _ if quick_checks > 0 => {
                    quick_checks -= 1;
                    tokio::time::sleep(QUICK_CHECK_EVERY).await;
                }
                _ => {
                    return Ok(PublishOutcome::Processing {
                        check_after: VIDEO_CHECK,
                        status: "Facebook is processing the video".into(),
                    });
                }
            }
        }
    }
}

#[async_trait]
impl SocialPlatform for FacebookPlatform {
    fn platform(&self) -> Platform {
        Platform::Facebook
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

    /// Removes the app from the person's account. Graph takes this from a user token only: a
    /// Page's token is refused, which the disconnect reads as nothing left to revoke, so
    /// disconnecting one Page leaves the person's other Pages and Instagram accounts working.
    async fn revoke(&self, token: &SecretString) -> Result<(), PlatformError> {
        self.meta.revoke(token).await
    }

    /// The person who consented.
    async fn account(&self, access_token: &SecretString) -> Result<AccountProfile, PlatformError> {
        let user: User = self
            .meta
            .get(access_token, "/me", &[("fields", "id,name")])
            .await?;
        Ok(AccountProfile {
            handle: if user.name.is_empty() {
                user.id.clone()
            } else {
                user.name.clone()
            },
            display_name: Some(user.name).filter(|name| !name.is_empty()),
            account_id: user.id,
            avatar_url: None,
        })
    }

    /// One account per Page the person allowed, each with its Page token; several make the
    /// person choose.
    async fn accounts(&self, tokens: &TokenSet) -> Result<Vec<ConsentedAccount>, PlatformError> {
        let accounts: Vec<ConsentedAccount> = self
            .meta
            .pages(&tokens.access, "id,name,access_token,picture")
            .await?
            .into_iter()
            .filter_map(|page| {
                let avatar_url = page.picture_url();
                let page_token = page.access_token?;
                Some(ConsentedAccount {
                    profile: AccountProfile {
                        handle: page.name.clone(),
                        display_name: Some(page.name).filter(|name| !name.is_empty()),
                        account_id: page.id,
                        avatar_url,
                    },
                    tokens: Some(meta_graph::page_tokens(page_token, tokens)),
                })
            })
            .collect();
        if accounts.is_empty() {
            return Err(PlatformError::permanent(
                "No Facebook Page was allowed, or none lets this account post: click Connect again and choose the Pages to post to.",
            ));
        }
        Ok(accounts)
    }

    async fn post_options(
        &self,
        _access_token: &SecretString,
        _account_id: &str,
    ) -> Result<Vec<OptionField>, PlatformError> {
        Ok(vec![
            OptionField::text(
                "link",
                "Link",
                u32::try_from(MAX_LINK_CHARS).unwrap_or(u32::MAX),
            )
            .with_help("A web address shared with the text, shown with its preview. Not with photos or a video."),
        ])
    }

    /// Facebook shows hashtags but they carry little there: one or two.
    fn caption_hashtags(&self) -> usize {
        2
    }

    fn preview_rules(&self, post: &PostCheck<'_>) -> PreviewRules {
        PreviewRules {
            counter: TextCounter::characters(post.text.chars().count(), MAX_MESSAGE_CHARS),
            // The feed folds a long post after about 480 characters or five lines.
            fold: Some(Fold {
                chars: 477,
                lines: 5,
                more: "... See more",
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
        let options = PageOptions::read(post.options).map_err(PostProblem::Options)?;
        let length = post.text.chars().count();
        if length > MAX_MESSAGE_CHARS {
            return Err(PostProblem::Text(format!(
                "A Facebook post may be {MAX_MESSAGE_CHARS} characters; this one is {length}."
            )));
        }
        let videos = post
            .media
            .iter()
            .filter(|file| file.mime.starts_with("video/"))
            .count();
        if options.link.is_some() && !post.media.is_empty() {
            return Err(PostProblem::Options(
                "A Facebook link goes with a text post: remove the photos or video, or the link."
                    .into(),
            ));
        }
        match (videos, post.media.len()) {
            (0, 0) if post.text.trim().is_empty() && options.link.is_none() => Err(
                PostProblem::Text("A Facebook post needs text, a link, photos or a video.".into()),
            ),
            (0, _) => post.media.iter().try_for_each(|photo| {
                if !PHOTO_TYPES.contains(&photo.mime.as_str()) {
                    Err(PostProblem::Media(format!(
                        "Facebook takes JPEG or PNG photos; one here is `{}`.",
                        photo.mime
                    )))
                } else if photo.bytes > MAX_PHOTO_BYTES {
                    Err(PostProblem::Media(format!(
                        "Facebook takes photos under 4 MB; one here is {:.1} MB.",
                        photo.bytes as f64 / (1024.0 * 1024.0)
                    )))
                } else {
                    Ok(())
                }
            }),
            (1, 1) => Ok(()),
            _ => Err(PostProblem::Media(
                "A Facebook post takes photos or one video, not both and not several videos."
                    .into(),
            )),
        }
    }

    async fn publish(
        &self,
        request: PublishRequest<'_>,
        progress: &mut dyn Progress,
    ) -> Result<PublishOutcome, PublishError> {
        let options = PageOptions::read(request.options).map_err(PlatformError::permanent)?;
        let mut saved = match meta_graph::read_saved::<Saved>(request.saved) {
            Some(saved) => saved,
            None => {
                let saved = Saved {
                    started_at: Utc::now(),
                    photos: Vec::new(),
                    video_id: None,
                    post_id: None,
                };
                progress.save(meta_graph::saved_json(&saved)).await?;
                saved
            }
        };
        if let Some(post_id) = &saved.post_id {
            return Ok(PublishOutcome::AlreadyPublished(
                self.published(request.access_token, post_id).await,
            ));
        }
        match request.media {
            [video] if video.mime.starts_with("video/") => {
                self.publish_video(&request, &mut saved, video, progress)
                    .await
            }
            _ => {
                self.upload_photos(&request, &mut saved, progress).await?;
                self.post_to_feed(&request, &options, &mut saved, progress)
                    .await
            }
        }
    }

    /// With a post saved, the post; with a video saved, the video's post once Facebook made it
    /// (`publish` follows the processing otherwise); else the Page's newest posts.
    async fn find_published(
        &self,
        request: PublishRequest<'_>,
        since: DateTime<Utc>,
    ) -> Result<Option<Published>, PlatformError> {
        let saved = meta_graph::read_saved::<Saved>(request.saved);
        if let Some(post_id) = saved.as_ref().and_then(|saved| saved.post_id.as_deref()) {
            return Ok(Some(self.published(request.access_token, post_id).await));
        }
        if saved.as_ref().is_some_and(|saved| saved.video_id.is_some()) {
            return Ok(None);
        }
        self.find_recent(&request, since).await
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
            let counts: Result<PostCounts, Failure> =
                self.meta.get(token, id, &[("fields", COUNT_FIELDS)]).await;
            let counts = match counts {
                Ok(counts) => counts,
                // Deleted on Facebook: no numbers any more.
                Err(failure) if meta_graph::is_gone(&failure) => continue,
                Err(failure) => return Err(failure.error),
            };
            let insights = self.meta.insights(token, id, INSIGHT_METRICS).await?;
            read.insert(id.clone(), page_post_metrics(&counts, insights.as_ref()));
        }
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(pairs: &[(&str, &str)]) -> TargetOptions {
        pairs.iter().copied().collect()
    }

    #[test]
    fn counts_come_from_the_post_and_views_and_clicks_from_insights() {
        let counts: PostCounts = serde_json::from_str(
            r#"{"id":"1_2","reactions":{"data":[],"summary":{"total_count":25,"viewer_reaction":"NONE"}},"comments":{"data":[],"summary":{"order":"ranked","total_count":3,"can_comment":true}}}"#,
        )
        .unwrap();
        let without = page_post_metrics(&counts, None);
        assert_eq!(
            without,
            PostMetrics {
                impressions: None,
                likes: Some(25),
                replies: Some(3),
                reposts: Some(0),
                link_clicks: None,
            }
        );
        let listing: meta_graph::Listing<meta_graph::Insight> = serde_json::from_str(
            r#"{"data":[{"name":"post_media_view","period":"lifetime","values":[{"value":640}]},{"name":"post_clicks_by_type","period":"lifetime","values":[{"value":{"link clicks":12,"other clicks":30}}]}]}"#,
        )
        .unwrap();
        let insights: BTreeMap<String, meta_graph::Insight> = listing
            .data
            .into_iter()
            .map(|insight| (insight.name.clone(), insight))
            .collect();
        let with = page_post_metrics(&counts, Some(&insights));
        assert_eq!(with.impressions, Some(640));
        assert_eq!(with.link_clicks, Some(12));
    }

    #[test]
    fn a_link_is_a_web_address_and_the_only_option() {
        assert_eq!(PageOptions::read(&options(&[])).unwrap().link, None);
        assert_eq!(
            PageOptions::read(&options(&[("link", " https://shop.example/mugs ")]))
                .unwrap()
                .link
                .as_deref(),
            Some("https://shop.example/mugs")
        );
        assert!(
            PageOptions::read(&options(&[("link", "shop.example")]))
                .unwrap_err()
                .contains("https://")
        );
        assert!(
            PageOptions::read(&options(&[("board_id", "1")]))
                .unwrap_err()
                .contains("board_id")
        );
    }

    fn check(
        text: &str,
        media: &[super::super::MediaCheck],
        pairs: &[(&str, &str)],
    ) -> Result<(), PostProblem> {
        let platform = FacebookPlatform::from_config(
            &meta_graph::sample_app(),
            "v20.0",
            reqwest::Client::new(),
        )
        .unwrap();
        platform.check_post(&PostCheck {
            text,
            media,
            options: &options(pairs),
        })
    }

    fn file(mime: &str, bytes: u64) -> super::super::MediaCheck {
        super::super::MediaCheck {
            mime: mime.to_owned(),
            bytes,
            width: 1200,
            height: 800,
            video: None,
        }
    }

    #[test]
    fn a_post_is_text_a_link_photos_or_one_video() {
        let photo = file("image/png", 300_000);
        let video = file("video/mp4", 5_000_000);
        assert!(check("Open today", &[], &[]).is_ok());
        assert!(check("", &[], &[("link", "https://shop.example")]).is_ok());
        assert!(check("", &[photo.clone(), file("image/jpeg", 1)], &[]).is_ok());
        assert!(check("", std::slice::from_ref(&video), &[]).is_ok());
        assert!(matches!(check(" ", &[], &[]), Err(PostProblem::Text(_))));
        assert!(matches!(
            check("", &[photo.clone(), video.clone()], &[]),
            Err(PostProblem::Media(_))
        ));
        assert!(matches!(
            check("", &[photo], &[("link", "https://shop.example")]),
            Err(PostProblem::Options(_))
        ));
        assert!(
            check("", &[file("image/webp", 1)], &[])
                .unwrap_err()
                .to_string()
                .contains("JPEG or PNG")
        );
        assert!(
            check("", &[file("image/jpeg", 5 * 1024 * 1024)], &[])
                .unwrap_err()
                .to_string()
                .contains("4 MB")
        );
        assert!(check(&"a".repeat(MAX_MESSAGE_CHARS + 1), &[], &[]).is_err());
    }

    #[test]
    fn saved_progress_reads_back() {
        let saved = Saved {
            started_at: Utc::now(),
            photos: vec!["1".into(), "2".into()],
            video_id: None,
            post_id: Some("10_20".into()),
        };
        assert_eq!(
            meta_graph::read_saved::<Saved>(Some(&meta_graph::saved_json(&saved))),
            Some(saved)
        );
        assert_eq!(
            meta_graph::read_saved::<Saved>(Some(&json!({"container": "1"}))),
            None
        );
    }
}
