//! What the conformance suite needs of a platform's fake, and each fake's answer to it. A new
//! platform adds an implementation here and one line to the suite's list.

use axum::Router;

use server::sandbox::kit::script::Failure;
use server::sandbox::linkedin::{self, LinkedInFake};
use server::sandbox::pinterest::{self, PinterestFake};
use server::sandbox::x::{self, XFake};

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
}

/// The kinds of media a platform's posts take, one post per kind in the suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    TextOnly,
    OneImage,
    Images(usize),
}

pub trait Fake: Clone + Send + Sync + 'static {
    /// The platform's wire name (`x`, `pinterest`) and its variables' prefix (`X`,
    /// `PINTEREST`).
    const PLATFORM: &'static str;
    const PREFIX: &'static str;

    fn new(client_id: &str, client_secret: &str) -> Self;
    fn router(&self) -> Router;
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
    fn refresh_count(&self) -> usize;
    fn set_access_token_lifetime(&self, secs: i64);
    /// Scripts the next call that creates a post.
    fn fail_next_publish(&self, failure: Scripted);
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

    fn media_kinds(&self) -> Vec<MediaKind> {
        vec![MediaKind::OneImage]
    }

    fn post_count(&self) -> usize {
        self.pin_count()
    }

    fn refresh_count(&self) -> usize {
        PinterestFake::refresh_count(self)
    }

    fn set_access_token_lifetime(&self, secs: i64) {
        PinterestFake::set_access_token_lifetime(self, secs);
    }

    fn fail_next_publish(&self, failure: Scripted) {
        self.fail_next(pinterest::Endpoint::CreatePin, [kit_failure(failure)]);
    }

    fn revoke_all(&self, username: &str) {
        self.revoke_all_tokens_of(username);
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
        ]
    }

    fn post_count(&self) -> usize {
        LinkedInFake::post_count(self)
    }

    fn refresh_count(&self) -> usize {
        LinkedInFake::refresh_count(self)
    }

    fn set_access_token_lifetime(&self, secs: i64) {
        LinkedInFake::set_access_token_lifetime(self, secs);
    }

    fn fail_next_publish(&self, failure: Scripted) {
        self.fail_next(linkedin::Endpoint::CreatePost, [kit_failure(failure)]);
    }

    fn revoke_all(&self, username: &str) {
        self.revoke_all_tokens_of(username);
    }
}
