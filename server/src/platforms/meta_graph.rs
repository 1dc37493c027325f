//! Meta's Graph API as the Facebook and Instagram files both use it (`shared/platforms.md`
//! sections 1 and 2): Facebook Login's dialog, its two-step token exchange (the code for a
//! short-lived user token, that for a long-lived one) and the grants check, the person's Pages
//! from `/me/accounts` page by page, the disconnect, calls with the token appended, and the
//! sorting of Graph's `{"error":{..}}` envelope into the pipeline's closed set. What differs
//! between the two platforms (scopes, what is posted, how it is followed) stays in their files;
//! nothing outside the three knows a Graph URL or error body.
//!
//! Meta has no refresh token. A long-lived user token lasts about 60 days, and the Page tokens
//! fetched with it do not expire (they die with a password change, a lost Page role or the app's
//! removal), so both platforms store a Page token without an expiry, and a token Graph refuses
//! means the person connects again.
//!
//! The token travels as Graph's `access_token` parameter: in the form body of a POST, in the
//! query of a GET or DELETE. Graph's `paging.next` links are followed as given.
//!
//! Both platforms read a post's counts from its own node (permission the person must grant to
//! post at all) and its views and clicks from its insights, whose permission the person may
//! decline: without it, or once Graph retires a metric, those numbers stay unknown instead of
//! failing the counts (see [`MetaApp::insights`]).

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use app::types::Platform;

use super::answers::{self, retry_after};
use super::oauth::TokenAnswer;
use super::{AuthorizationStart, MediaFile, PlatformError, PublishError, TokenSet, join_url};
use crate::config::{ClientCredentials, PlatformApp};

/// `/me/accounts` is read in pages of this many (Graph's largest)...
const PAGES_PER_REQUEST: &str = "100";
/// ...and this many requests at most: a thousand Pages is more than one person manages.
const MAX_PAGE_REQUESTS: usize = 10;
/// Asked for, but a person may decline them and still post: Pages owned through a Business
/// Manager, and the insights behind a post's impressions and clicks (without them, those
/// metrics stay unknown).
const OPTIONAL_SCOPES: [&str; 3] = [
    "business_management",
    "instagram_manage_insights",
    "read_insights",
];
/// How long a post waits when Instagram's 24-hour quota refused it and nothing says when a
/// slot frees (the Instagram file works out the real wait before publishing).
const QUOTA_WAIT: Duration = Duration::from_secs(3600);
/// Facebook's "you are posting too fast" (1390008) asks for a pause without saying how long.
const SLOW_DOWN_WAIT: Duration = Duration::from_secs(60);

/// Codes of Graph's error envelope that the platform files act on.
pub const CODE_DUPLICATE: u32 = 506;
/// `media_publish` on a container that is not ready (2207027), gone, or already published
/// (no subcode).
pub const CODE_MEDIA_NOT_AVAILABLE: u32 = 9007;
pub const SUBCODE_PHOTO_ALREADY_POSTED: u32 = 1_366_051;
pub const SUBCODE_MEDIA_NOT_FOUND: u32 = 2_207_006;
pub const SUBCODE_CONTAINER_EXPIRED: u32 = 2_207_008;
pub const SUBCODE_CONTAINER_EXPIRED_TOO: u32 = 2_207_020;
pub const SUBCODE_NOT_READY: u32 = 2_207_027;
const SUBCODE_QUOTA: u32 = 2_207_042;
const CODE_POLICY_BLOCK: u32 = 368;
/// Graph's "object does not exist or cannot be loaded due to missing permissions": the Page or
/// Instagram account is out of this authorization's reach (Postiz reconnects on it).
const SUBCODE_OUT_OF_REACH: u32 = 33;
const SUBCODE_PAGE_PUBLISHING_AUTHORIZATION: u32 = 1_404_078;
/// Throttling: application, user, Page, call rate; 80000–80014 are the Business Use Case
/// limits (80001 Pages, 80002 Instagram).
const THROTTLE_CODES: [u32; 4] = [4, 17, 32, 613];
const BUSINESS_THROTTLE_CODES: std::ops::RangeInclusive<u32> = 80_000..=80_014;
/// Passing failures by subcode: Instagram's media download timeout and create/fetch/upload
/// failures, Facebook's "service unavailable" and "posting too fast".
const PASSING_SUBCODES: [u32; 8] = [
    2_207_003, 2_207_032, 2_207_052, 2_207_053, 2_207_082, 1_363_047, 1_609_010, 1_390_008,
];
const SUBCODE_SLOW_DOWN: u32 = 1_390_008;

/// One Meta app as a platform uses it: Facebook Login, the Graph API at one version, the
/// platform's scopes.
pub struct MetaApp {
    platform: Platform,
    credentials: ClientCredentials,
    auth_url: http::Uri,
    api_url: http::Uri,
    version: String,
    scopes: &'static [&'static str],
    http: reqwest::Client,
}

/// A Graph call that failed: what the pipeline acts on, and Graph's own error when Graph
/// answered with its envelope (the platform files act on some codes themselves).
#[derive(Debug)]
pub struct Failure {
    pub error: PlatformError,
    pub graph: Option<GraphError>,
}

impl Failure {
    pub fn code(&self) -> Option<u32> {
        self.graph.as_ref().and_then(|graph| graph.code)
    }

    pub fn subcode(&self) -> Option<u32> {
        self.graph.as_ref().and_then(|graph| graph.error_subcode)
    }

    /// Facebook's duplicate refusals: the same status again (506), or unpublished photos
    /// already attached to a post (1366051).
    pub fn is_duplicate(&self) -> bool {
        self.code() == Some(CODE_DUPLICATE) || self.subcode() == Some(SUBCODE_PHOTO_ALREADY_POSTED)
    }
}

impl From<PlatformError> for Failure {
    fn from(error: PlatformError) -> Self {
        Self { error, graph: None }
    }
}

impl From<Failure> for PlatformError {
    fn from(failure: Failure) -> Self {
        failure.error
    }
}

impl From<Failure> for PublishError {
    fn from(failure: Failure) -> Self {
        Self::Platform(failure.error)
    }
}

/// Graph's error envelope, `{"error":{..}}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GraphError {
    #[serde(default)]
    pub message: String,
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub code: Option<u32>,
    #[serde(default)]
    pub error_subcode: Option<u32>,
    #[serde(default)]
    pub error_user_title: Option<String>,
    #[serde(default)]
    pub error_user_msg: Option<String>,
    #[serde(default)]
    pub is_transient: bool,
}

#[derive(Deserialize, Default)]
struct Envelope {
    #[serde(default)]
    error: GraphError,
}

impl GraphError {
    /// The envelope in `body`; empty when the body is not one (a proxy's HTML page).
    pub fn parse(body: &str) -> Self {
        serde_json::from_str::<Envelope>(body)
            .unwrap_or_default()
            .error
    }
}

/// One of the person's Pages, as `/me/accounts` lists it (the fields asked for).
#[derive(Debug, Deserialize)]
pub struct Page {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// The Page token, when the person's role on the Page allows one.
    #[serde(default)]
    pub access_token: Option<String>,
    #[serde(default)]
    picture: Option<Picture>,
    /// The Instagram professional account linked to the Page.
    #[serde(default)]
    pub instagram_business_account: Option<Linked>,
}

impl Page {
    pub fn picture_url(&self) -> Option<String> {
        self.picture
            .as_ref()
            .and_then(|picture| picture.data.url.clone())
    }
}

#[derive(Debug, Deserialize)]
struct Picture {
    data: PictureData,
}

#[derive(Debug, Deserialize)]
struct PictureData {
    #[serde(default)]
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Linked {
    pub id: String,
}

/// A list answer: `{data: [..], paging: {next}}`.
#[derive(Debug, Deserialize)]
pub struct Listing<T> {
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    #[serde(default)]
    paging: Option<Paging>,
}

#[derive(Debug, Deserialize)]
struct Paging {
    #[serde(default)]
    next: Option<String>,
}

/// What a create call answers: `{id}`.
#[derive(Debug, Deserialize)]
pub struct Created {
    pub id: String,
}

/// One metric of an object's insights, as Graph lists them: `{name, period, values: [{value}]}`.
#[derive(Debug, Deserialize)]
pub struct Insight {
    pub name: String,
    #[serde(default)]
    values: Vec<InsightValue>,
}

#[derive(Debug, Deserialize)]
struct InsightValue {
    #[serde(default)]
    value: serde_json::Value,
}

impl Insight {
    /// The latest value, when it is a count.
    pub fn count(&self) -> Option<i64> {
        as_count(self.latest()?)
    }

    /// The latest value's `key`, when the value counts by kind (`post_clicks_by_type`). Graph
    /// leaves out the kinds nobody did: those are zero.
    pub fn count_of(&self, key: &str) -> Option<i64> {
        match self.latest()? {
            serde_json::Value::Object(kinds) => {
                Some(kinds.get(key).and_then(as_count).unwrap_or(0))
            }
            _ => None,
        }
    }

    fn latest(&self) -> Option<&serde_json::Value> {
        self.values.last().map(|value| &value.value)
    }
}

fn as_count(value: &serde_json::Value) -> Option<i64> {
    value.as_f64().map(|count| count.round() as i64)
}

/// Whether a failed read means the object is gone: deleted, or no longer reachable with this
/// token (Graph does not say which).
pub fn is_gone(failure: &Failure) -> bool {
    failure.code() == Some(100) && failure.subcode() == Some(SUBCODE_OUT_OF_REACH)
}

#[derive(Deserialize)]
struct Permission {
    permission: String,
    #[serde(default)]
    status: String,
}

impl MetaApp {
    /// `None` when the operator configured neither the platform's credentials nor the shared
    /// `META_*` ones.
    pub fn from_config(
        platform: Platform,
        app: &PlatformApp,
        version: &str,
        scopes: &'static [&'static str],
        http: reqwest::Client,
    ) -> Option<Self> {
        Some(Self {
            platform,
            credentials: app.credentials.clone()?,
            auth_url: app.auth_url.clone(),
            api_url: app.api_url.clone(),
            version: version.to_owned(),
            scopes,
            http,
        })
    }

    fn name(&self) -> &'static str {
        self.platform.display_name()
    }

    /// `{API_URL}/{version}/{path}`.
    fn graph_url(&self, path: &str) -> String {
        join_url(
            &self.api_url,
            &format!("/{}/{}", self.version, path.trim_start_matches('/')),
        )
    }

    /// An address on the auth host (facebook.com, or the sandbox), for links Graph gives
    /// relative to it.
    pub fn web_url(&self, path: &str) -> String {
        join_url(&self.auth_url, path)
    }

    /// The consent dialog, with the platform's scopes comma-separated. Facebook Login's web
    /// flow has no PKCE.
    pub fn authorization(&self, redirect_uri: &str, state: &str) -> AuthorizationStart {
        let dialog = join_url(&self.auth_url, &format!("/{}/dialog/oauth", self.version));
        let mut url = url::Url::parse(&dialog).expect("the configured auth URL is a URL");
        url.query_pairs_mut()
            .append_pair("client_id", &self.credentials.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", state)
            .append_pair("scope", &self.scopes.join(","))
            .append_pair("response_type", "code");
        AuthorizationStart {
            url: url.to_string(),
            pkce_verifier: SecretString::from(String::new()),
        }
    }

    /// The code for a short-lived user token, that for a long-lived one (about 60 days), and
    /// the grants checked: a person who unticked a permission posting needs is told so now
    /// rather than at the first post.
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
    ) -> Result<TokenSet, PlatformError> {
        let short = self
            .token_request(&[("redirect_uri", redirect_uri), ("code", code)])
            .await?;
        let long = self
            .token_request(&[
                ("grant_type", "fb_exchange_token"),
                ("fb_exchange_token", short.access.expose_secret()),
            ])
            .await?;
        let granted = self.granted(&long.access).await?;
        if let Some(missing) = self
            .scopes
            .iter()
            .find(|scope| !OPTIONAL_SCOPES.contains(*scope) && !granted.iter().any(|g| g == *scope))
        {
            return Err(PlatformError::permanent(format!(
                "{} was connected without the `{missing}` permission, which posting needs: click Connect again and allow everything it asks for.",
                self.name()
            )));
        }
        Ok(TokenSet {
            scopes: granted.join(" "),
            ..long
        })
    }

    async fn token_request(&self, params: &[(&str, &str)]) -> Result<TokenSet, PlatformError> {
        let mut query = vec![
            ("client_id", self.credentials.client_id.as_str()),
            (
                "client_secret",
                self.credentials.client_secret.expose_secret(),
            ),
        ];
        query.extend_from_slice(params);
        let request = self
            .http
            .get(self.graph_url("/oauth/access_token"))
            .query(&query);
        match self.call::<TokenAnswer>(request).await {
            Ok(answer) => Ok(answer.into_tokens(self.scopes)),
            Err(failure) => Err(self.token_failure(failure)),
        }
    }

    /// A refused token request: the app's credentials are the operator's to fix, a spent or
    /// mismatched code the person's (by connecting again).
    fn token_failure(&self, failure: Failure) -> PlatformError {
        let Some(graph) = &failure.graph else {
            return failure.error;
        };
        let message = graph.message.to_lowercase();
        if graph.code == Some(101)
            || message.contains("client secret")
            || message.contains("application id")
        {
            let prefix = self.platform.as_str().to_uppercase();
            return PlatformError::permanent(format!(
                "{} refused this app's credentials: the operator should check {prefix}_CLIENT_ID and {prefix}_CLIENT_SECRET (or META_CLIENT_ID and META_CLIENT_SECRET).",
                self.name()
            ));
        }
        if graph.code == Some(100) {
            return PlatformError::permanent(format!(
                "{} did not accept the authorization (it was used already, expired, or came back to another address): click Connect again.",
                self.name()
            ));
        }
        failure.error
    }

    /// The permissions the person granted, by `GET /me/permissions`.
    async fn granted(&self, user_token: &SecretString) -> Result<Vec<String>, PlatformError> {
        let listing: Listing<Permission> = self.get(user_token, "/me/permissions", &[]).await?;
        Ok(listing
            .data
            .into_iter()
            .filter(|permission| permission.status == "granted")
            .map(|permission| permission.permission)
            .collect())
    }

    /// Every Page the person allowed, with `fields` (`id,name,access_token,...`), following
    /// Graph's `paging.next` as given.
    pub async fn pages(
        &self,
        user_token: &SecretString,
        fields: &str,
    ) -> Result<Vec<Page>, PlatformError> {
        let mut listing: Listing<Page> = self
            .get(
                user_token,
                "/me/accounts",
                &[("fields", fields), ("limit", PAGES_PER_REQUEST)],
            )
            .await?;
        let mut pages = std::mem::take(&mut listing.data);
        for _ in 1..MAX_PAGE_REQUESTS {
            let Some(next) = listing.paging.and_then(|paging| paging.next) else {
                break;
            };
            let mut request = self.http.get(&next);
            // Graph puts the token in its `next` links; one that lacks it gets ours.
            if !next.contains("access_token=") {
                request = request.query(&[("access_token", user_token.expose_secret())]);
            }
            listing = self.call(request).await?;
            pages.append(&mut listing.data);
        }
        Ok(pages)
    }

    /// `DELETE /me/permissions`: removes the app from the person's account. A token Graph
    /// already refuses has nothing left to remove.
    pub async fn revoke(&self, token: &SecretString) -> Result<(), PlatformError> {
        let request = self
            .http
            .delete(self.graph_url("/me/permissions"))
            .query(&[("access_token", token.expose_secret())]);
        match self.call::<serde_json::Value>(request).await {
            Ok(_) => Ok(()),
            Err(Failure {
                error: PlatformError::Reauth { .. },
                ..
            }) => Ok(()),
            Err(failure) => Err(failure.error),
        }
    }

    /// What a refresh comes to: Meta has no refresh token, so only a new consent helps.
    pub fn refresh_refused(&self) -> PlatformError {
        PlatformError::Reauth {
            detail: format!(
                "{} has no refresh token: the account must be connected again",
                self.name()
            ),
        }
    }

    /// Where Meta downloads `file` from: its signed URL under `PUBLIC_BASE_URL`.
    pub fn media_url<'a>(&self, file: &'a MediaFile) -> Result<&'a str, PlatformError> {
        file.pull_url().ok_or_else(|| {
            PlatformError::permanent(format!(
                "{} downloads photos and videos from this app, but PUBLIC_BASE_URL cannot be reached from the internet: the operator should set it to the app's public https address.",
                self.name()
            ))
        })
    }

    /// `GET /{version}/{path}` with `query` and the token.
    pub async fn get<T: DeserializeOwned>(
        &self,
        token: &SecretString,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, Failure> {
        let request = self
            .http
            .get(self.graph_url(path))
            .query(query)
            .query(&[("access_token", token.expose_secret())]);
        self.call(request).await
    }

    /// `POST /{version}/{path}` with `form` and the token in the form body.
    pub async fn post<T: DeserializeOwned>(
        &self,
        token: &SecretString,
        path: &str,
        form: &[(&str, &str)],
    ) -> Result<T, Failure> {
        let mut fields = form.to_vec();
        fields.push(("access_token", token.expose_secret()));
        let request = self.http.post(self.graph_url(path)).form(&fields);
        self.call(request).await
    }

    /// `metrics` (comma-separated) of `object`'s insights, by name. `None` when the person did
    /// not grant the insights permission (code 10 or 200 and up) or Graph refuses a metric it
    /// has retired (code 100, as it did `impressions` in 2025): the numbers insights carry then
    /// stay unknown, and the others are still read. A throttle or a dead token fails as usual.
    pub async fn insights(
        &self,
        token: &SecretString,
        object: &str,
        metrics: &str,
    ) -> Result<Option<BTreeMap<String, Insight>>, PlatformError> {
        let read: Result<Listing<Insight>, Failure> = self
            .get(token, &format!("{object}/insights"), &[("metric", metrics)])
            .await;
        match read {
            Ok(listing) => Ok(Some(
                listing
                    .data
                    .into_iter()
                    .map(|insight| (insight.name.clone(), insight))
                    .collect(),
            )),
            Err(failure) if matches!(failure.code(), Some(10 | 100 | 200..=299)) => Ok(None),
            Err(failure) => Err(failure.error),
        }
    }

    /// The account's post at `path` (newest first, as Graph lists) with `text`, made since
    /// `since`: the post a lost answer was about. Graph's pages are followed by their
    /// `paging.next` URLs, as Graph gives them.
    pub async fn find_ours<T: Listed + DeserializeOwned>(
        &self,
        token: &SecretString,
        path: &str,
        fields: &str,
        text: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<T>, PlatformError> {
        answers::find_since(
            self.platform,
            since,
            |next: Option<String>| async move {
                let listing: Listing<T> = match next {
                    None => {
                        self.get(token, path, &[("fields", fields), ("limit", "100")])
                            .await?
                    }
                    Some(url) => self.call(self.http.get(url)).await?,
                };
                Ok((listing.data, listing.paging.and_then(|paging| paging.next)))
            },
            |post: &T| post.made_at().and_then(graph_time),
            |post: &T| same_text(post.text(), text),
        )
        .await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, Failure> {
        let response = request
            .send()
            .await
            .map_err(|error| PlatformError::from_transport(self.platform, &error))?;
        let status = response.status();
        if status.is_success() {
            return Ok(answers::read_json(self.platform, response).await?);
        }
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        let graph = GraphError::parse(&body);
        Err(Failure {
            error: classify(self.platform, status, &headers, &graph),
            graph: Some(graph),
        })
    }
}

/// Tokens for one Page: its token, which neither expires nor has a refresh token, under the
/// consent's scopes.
pub fn page_tokens(page_token: String, consent: &TokenSet) -> TokenSet {
    TokenSet {
        access: SecretString::from(page_token),
        refresh: None,
        expires_in: None,
        scopes: consent.scopes.clone(),
    }
}

/// Graph's time, `2024-05-01T12:34:56+0000` (RFC 3339 taken too).
pub fn graph_time(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%z")
        .or_else(|_| DateTime::parse_from_rfc3339(raw))
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// Whether a listed post's text is `ours`: the same once trimmed, an empty text being absent.
pub fn same_text(theirs: Option<&str>, ours: &str) -> bool {
    theirs.map_or("", str::trim) == ours.trim()
}

/// Whether a listed post dated `at` (when Graph says) can be one an attempt made since
/// `since`, allowing a minute for the two clocks to differ.
pub fn made_since(at: Option<&str>, since: DateTime<Utc>) -> bool {
    at.and_then(graph_time)
        .is_none_or(|at| at >= since - chrono::Duration::minutes(1))
}

/// A post as an account's list of recent posts shows it: its text and Graph's time.
pub trait Listed {
    fn text(&self) -> Option<&str>;
    fn made_at(&self) -> Option<&str>;
}

/// A platform's saved progress, when it is in the shape the platform saves.
pub fn read_saved<T: DeserializeOwned>(saved: Option<&serde_json::Value>) -> Option<T> {
    serde_json::from_value(saved?.clone()).ok()
}

/// Progress to save, as JSON.
pub fn saved_json<T: serde::Serialize>(saved: &T) -> serde_json::Value {
    serde_json::to_value(saved).expect("a publish's progress is plain data")
}

/// What a Graph subcode means, in a sentence a person can act on, for the ones that refuse
/// the content or the account (and Instagram's failed downloads, which a container in ERROR
/// names).
pub fn subcode_meaning(subcode: u32) -> Option<&'static str> {
    Some(match subcode {
        2_207_003 | 2_207_052 | 2_061_006 => {
            "Meta could not download the media from this app: check that PUBLIC_BASE_URL is a public https address reachable from the internet, then post again."
        }
        2_207_032 | 2_207_053 | 2_207_082 => {
            "Instagram could not take in the media this time: post again."
        }
        2_207_004 => {
            "The image is larger than Instagram takes (8 MB): make it smaller, then post again."
        }
        2_207_005 => "Instagram cannot read the image: export it as a JPEG, then post again.",
        2_207_009 | 36_003 => {
            "The image's shape is outside what Instagram takes (from 4:5 portrait to 1.91:1 landscape): crop it, then post again."
        }
        36_001 => {
            "The image's resolution is outside what Instagram takes: export it between 320 and 1440 pixels wide, then post again."
        }
        2_207_010 => "The caption is longer than Instagram's 2,200 characters: shorten it.",
        2_207_023 => {
            "Instagram does not take this kind of media: use a JPEG photo or an MP4 video."
        }
        2_207_026 => {
            "Instagram cannot read the video: export it as an H.264 MP4 with AAC audio and fast start, 3 seconds to 15 minutes long, then post again."
        }
        2_207_028 => "Instagram refused the carousel: it takes 2 to 10 photos or videos.",
        2_207_057 => {
            "Instagram refused the video's cover position: choose a time within the video."
        }
        2_207_001 => {
            "Instagram held the post back as possible spam: change it, and post less often for a while."
        }
        2_207_050 => {
            "The Instagram account is restricted: open the Instagram app to see why, then post again."
        }
        2_207_051 => {
            "Instagram blocked this action on the account: open the Instagram app to see why, then post again later."
        }
        1_346_003 | 1_404_102 => {
            "Facebook refused the post under its Community Standards: change it, then post again."
        }
        1_609_008 => {
            "Facebook does not take links to facebook.com in posts from apps: remove the link."
        }
        1_349_125 => "Facebook found the post's content invalid: change it, then post again.",
        2_069_019 => "Facebook could not read the file: export it again, then post again.",
        1_366_046 => "Facebook takes photos under 4 MB: make the photo smaller, then post again.",
        _ => return None,
    })
}

/// Sorts a Graph refusal into the closed set of outcomes (platforms.md sections 1 and 2,
/// "Errors"): a token or permission the person must renew, a passing failure or throttle to
/// wait out, or a refusal explained for a person.
pub fn classify(
    platform: Platform,
    status: StatusCode,
    headers: &HeaderMap,
    error: &GraphError,
) -> PlatformError {
    let name = platform.display_name();
    let code = error.code.unwrap_or_default();
    let subcode = error.error_subcode.unwrap_or_default();
    let message = error.message.to_lowercase();
    if needs_reauth(status, code, subcode, &message) {
        return PlatformError::Reauth {
            detail: format!(
                "{name} no longer accepts this account's authorization{}",
                reauth_reason(subcode)
            ),
        };
    }
    if subcode == SUBCODE_QUOTA {
        return PlatformError::Retryable {
            wait: Some(QUOTA_WAIT),
            maybe_done: false,
            detail: format!("{name}'s limit of posts per 24 hours is reached for this account"),
        };
    }
    let throttled = THROTTLE_CODES.contains(&code) || BUSINESS_THROTTLE_CODES.contains(&code);
    if throttled
        || matches!(code, 1 | 2)
        || PASSING_SUBCODES.contains(&subcode)
        || message.contains("unknown error")
        || error.is_transient
        || status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
    {
        let wait = if subcode == SUBCODE_SLOW_DOWN {
            Some(SLOW_DOWN_WAIT)
        } else if throttled {
            regain_access_in(headers).or_else(|| retry_after(headers))
        } else {
            retry_after(headers)
        };
        let detail = if throttled || subcode == SUBCODE_SLOW_DOWN {
            format!("{name}'s rate limit was reached (code {code})")
        } else {
            format!(
                "{name} had a passing failure ({}, code {code})",
                status.as_u16()
            )
        };
        return PlatformError::Retryable {
            wait,
            maybe_done: false,
            detail,
        };
    }
    if code == CODE_POLICY_BLOCK {
        return PlatformError::permanent(format!(
            "{name} has blocked this account from posting for a while under its policies: wait a day or more, check the account's notifications, then post again."
        ));
    }
    if let Some(meaning) = subcode_meaning(subcode) {
        return PlatformError::permanent(meaning);
    }
    if code == CODE_DUPLICATE || subcode == SUBCODE_PHOTO_ALREADY_POSTED {
        return PlatformError::permanent(format!(
            "{name} refused the post as a duplicate of one already there: change the text to post it again."
        ));
    }
    let said: String = error
        .error_user_msg
        .as_deref()
        .filter(|said| !said.trim().is_empty())
        .unwrap_or(&error.message)
        .chars()
        .take(300)
        .collect();
    if said.trim().is_empty() {
        PlatformError::permanent(format!("{name} refused the post ({}).", status.as_u16()))
    } else {
        PlatformError::permanent(format!("{name} refused the post: {said}"))
    }
}

/// Expired, revoked or insufficient tokens, and objects the authorization no longer reaches.
fn needs_reauth(status: StatusCode, code: u32, subcode: u32, message: &str) -> bool {
    status == StatusCode::UNAUTHORIZED
        || matches!(code, 190 | 102 | 10 | 200..=299)
        || matches!(
            subcode,
            SUBCODE_OUT_OF_REACH | SUBCODE_PAGE_PUBLISHING_AUTHORIZATION
        )
        || [
            "error validating access token",
            "revoked_access_token",
            "session has been invalidated",
            "not an instagram business",
        ]
        .iter()
        .any(|known| message.contains(known))
}

fn reauth_reason(subcode: u32) -> &'static str {
    match subcode {
        458 => " (the app was removed from the account)",
        460 => " (the account's password was changed)",
        463 => " (the authorization expired)",
        467 => " (the person logged out of Facebook)",
        SUBCODE_PAGE_PUBLISHING_AUTHORIZATION => {
            " (the Page needs Page Publishing Authorization, which an admin completes in the Page's settings on Facebook)"
        }
        SUBCODE_OUT_OF_REACH => {
            " (the Page or Instagram account is no longer reachable with it: the role on the Page or the link to Instagram may have changed)"
        }
        _ => "",
    }
}

/// The longest `estimated_time_to_regain_access` (minutes) in `X-Business-Use-Case-Usage`;
/// `None` when it says nothing or zero.
fn regain_access_in(headers: &HeaderMap) -> Option<Duration> {
    #[derive(Deserialize)]
    struct Usage {
        #[serde(default)]
        estimated_time_to_regain_access: u64,
    }
    let raw = headers.get("x-business-use-case-usage")?.to_str().ok()?;
    let usage: std::collections::HashMap<String, Vec<Usage>> = serde_json::from_str(raw).ok()?;
    let minutes = usage
        .values()
        .flatten()
        .map(|entry| entry.estimated_time_to_regain_access)
        .max()
        .filter(|minutes| *minutes > 0)?;
    Some(Duration::from_secs(minutes * 60))
}

/// An app configured for the production hosts, for unit tests of the platform files.
#[cfg(test)]
pub(crate) fn sample_app() -> PlatformApp {
    PlatformApp {
        credentials: Some(ClientCredentials {
            client_id: "app-id".into(),
            client_secret: SecretString::from("app-secret"),
        }),
        auth_url: "https://www.facebook.com".parse().expect("a URL"),
        api_url: "https://graph.facebook.com".parse().expect("a URL"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(code: u32, subcode: Option<u32>, message: &str) -> GraphError {
        let subcode = subcode.map_or(String::new(), |s| format!(r#","error_subcode":{s}"#));
        GraphError::parse(&format!(
            r#"{{"error":{{"message":"{message}","type":"OAuthException","code":{code}{subcode},"fbtrace_id":"A1"}}}}"#
        ))
    }

    fn sort(status: u16, error: &GraphError) -> PlatformError {
        classify(
            Platform::Instagram,
            StatusCode::from_u16(status).unwrap(),
            &HeaderMap::new(),
            error,
        )
    }

    #[test]
    fn the_envelope_is_read_and_anything_else_is_empty() {
        let error = graph(
            190,
            Some(463),
            "Error validating access token: Session has expired.",
        );
        assert_eq!(error.code, Some(190));
        assert_eq!(error.error_subcode, Some(463));
        assert_eq!(error.kind, "OAuthException");
        assert_eq!(GraphError::parse("<html>bad gateway</html>").code, None);
    }

    #[test]
    fn dead_tokens_and_missing_permissions_need_a_reconnect() {
        for (code, subcode, message) in [
            (
                190,
                Some(463),
                "Error validating access token: Session has expired.",
            ),
            (
                190,
                Some(458),
                "The user has not authorized the application.",
            ),
            (102, None, "Session key invalid"),
            (
                10,
                None,
                "(#10) Requires instagram_content_publish permission",
            ),
            (200, None, "(#200) Requires pages_manage_posts permission"),
            (100, Some(33), "Unsupported get request."),
            (
                368,
                Some(1_404_078),
                "Page Publishing Authorization required",
            ),
        ] {
            assert!(
                matches!(
                    sort(400, &graph(code, subcode, message)),
                    PlatformError::Reauth { .. }
                ),
                "{code}/{subcode:?}"
            );
        }
        let expired = sort(400, &graph(190, Some(463), "expired"));
        assert!(expired.to_string().contains("expired"), "{expired}");
        assert!(matches!(
            sort(401, &GraphError::default()),
            PlatformError::Reauth { .. }
        ));
    }

    #[test]
    fn passing_failures_and_throttles_are_retried() {
        for (status, code, subcode) in [
            (500, 1, None),
            (503, 2, None),
            (400, 4, None),
            (400, 17, None),
            (400, 32, None),
            (400, 613, None),
            (400, 80_002, None),
            (400, 100, Some(2_207_003)),
            (400, 100, Some(1_363_047)),
            (400, 368, Some(1_390_008)),
            (502, 0, None),
        ] {
            assert!(
                matches!(
                    sort(status, &graph(code, subcode, "m")),
                    PlatformError::Retryable {
                        maybe_done: false,
                        ..
                    }
                ),
                "{status} {code}/{subcode:?}"
            );
        }
        assert!(matches!(
            sort(400, &graph(100, None, "An unknown error occurred")),
            PlatformError::Retryable { .. }
        ));
    }

    #[test]
    fn a_throttle_waits_as_long_as_the_business_usage_header_says() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-business-use-case-usage",
            r#"{"17841400000000001":[{"type":"instagram","call_count":100,"estimated_time_to_regain_access":7}]}"#
                .parse()
                .unwrap(),
        );
        let throttled = classify(
            Platform::Instagram,
            StatusCode::BAD_REQUEST,
            &headers,
            &graph(80_002, None, "limit"),
        );
        assert!(matches!(
            throttled,
            PlatformError::Retryable { wait: Some(wait), .. } if wait == Duration::from_secs(420)
        ));
        // Zero minutes means "now": the pipeline's own backoff decides.
        headers.insert(
            "x-business-use-case-usage",
            r#"{"1":[{"estimated_time_to_regain_access":0}]}"#.parse().unwrap(),
        );
        assert!(matches!(
            classify(
                Platform::Facebook,
                StatusCode::BAD_REQUEST,
                &headers,
                &graph(4, None, "(#4) Application request limit reached")
            ),
            PlatformError::Retryable { wait: None, .. }
        ));
    }

    #[test]
    fn the_publishing_quota_waits_for_the_window() {
        assert!(matches!(
            sort(400, &graph(9, Some(2_207_042), "limit")),
            PlatformError::Retryable { wait: Some(_), .. }
        ));
    }

    #[test]
    fn refusals_say_what_to_change() {
        let permanent = |error: PlatformError| match error {
            PlatformError::Permanent { reason } => reason,
            other => panic!("not permanent: {other:?}"),
        };
        assert!(permanent(sort(400, &graph(100, Some(2_207_010), "m"))).contains("2,200"));
        assert!(permanent(sort(400, &graph(100, Some(2_207_028), "m"))).contains("2 to 10"));
        assert!(
            permanent(sort(400, &graph(100, Some(2_061_006), "m"))).contains("PUBLIC_BASE_URL")
        );
        assert!(permanent(sort(400, &graph(368, None, "blocked"))).contains("wait a day"));
        assert!(
            permanent(sort(400, &graph(506, None, "Duplicate status message")))
                .contains("duplicate")
        );
        let with_user_message = GraphError::parse(
            r#"{"error":{"message":"Invalid parameter","code":100,"error_user_title":"Bad","error_user_msg":"The link is not valid."}}"#,
        );
        assert_eq!(
            permanent(sort(400, &with_user_message)),
            "Instagram refused the post: The link is not valid."
        );
        assert_eq!(
            permanent(sort(400, &GraphError::default())),
            "Instagram refused the post (400)."
        );
    }

    #[test]
    fn duplicates_are_told_apart_by_their_codes() {
        let failure = |code, subcode| Failure {
            error: PlatformError::permanent("x"),
            graph: Some(graph(code, subcode, "m")),
        };
        assert!(failure(506, None).is_duplicate());
        assert!(failure(100, Some(1_366_051)).is_duplicate());
        assert!(!failure(100, None).is_duplicate());
    }

    #[test]
    fn insights_are_counts_or_counts_by_kind() {
        let listing: Listing<Insight> = serde_json::from_str(
            r#"{"data":[
                {"name":"post_media_view","period":"lifetime","values":[{"value":420}]},
                {"name":"post_clicks_by_type","period":"lifetime","values":[{"value":{"other clicks":7}}]}
            ]}"#,
        )
        .unwrap();
        assert_eq!(listing.data[0].count(), Some(420));
        assert_eq!(listing.data[0].count_of("link clicks"), None);
        assert_eq!(listing.data[1].count_of("other clicks"), Some(7));
        assert_eq!(listing.data[1].count_of("link clicks"), Some(0));
        assert_eq!(listing.data[1].count(), None);
        let gone = Failure {
            error: PlatformError::permanent("x"),
            graph: Some(graph(100, Some(33), "Unsupported get request.")),
        };
        assert!(is_gone(&gone));
        assert!(!is_gone(&Failure {
            error: PlatformError::permanent("x"),
            graph: Some(graph(190, Some(463), "expired")),
        }));
    }

    #[test]
    fn graph_times_and_texts_match_loosely() {
        let at = graph_time("2027-05-04T09:00:00+0000").unwrap();
        assert_eq!(at, graph_time("2027-05-04T09:00:00Z").unwrap());
        assert!(made_since(
            Some("2027-05-04T09:00:00+0000"),
            at + chrono::Duration::seconds(30)
        ));
        assert!(!made_since(
            Some("2027-05-04T09:00:00+0000"),
            at + chrono::Duration::minutes(5)
        ));
        assert!(made_since(None, at));
        assert!(same_text(Some(" Mugs \n"), "Mugs"));
        assert!(same_text(None, ""));
        assert!(!same_text(None, "Mugs"));
    }
}
