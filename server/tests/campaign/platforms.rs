//! The six platforms beside X, each a fake in the campaign's process (the conformance suite's
//! fakes, through its `Fake` trait), so that every platform's posts go through the campaign
//! and the oracle counts them in each fake. X keeps its doors (see [`super::cluster`]): the
//! worker kills and dropped connections happen on its requests.

use std::sync::Arc;

use crate::fakes::{Fake, LedgerPost, MediaKind, Scripted};

/// A fake as the campaign drives it, whatever its platform.
pub trait Platform: Send + Sync {
    /// The wire name: `x`, `pinterest`.
    fn name(&self) -> &'static str;
    /// The fake's consent, allowed by `username`: the redirect back to the app.
    fn allow(&self, url: &str, username: &str) -> Result<String, String>;
    /// The media its posts carry in the campaign: the first kind the platform takes.
    fn media(&self) -> MediaKind;
    fn ledger(&self) -> Vec<LedgerPost>;
    /// Scripts the next call that creates a post.
    fn fail_next_publish(&self, failure: Scripted);
    /// Posts from now on are "still processing" for a status read or two.
    fn process_slowly(&self);
    /// No daily publishing limit: the quota has its own test, and the campaign's accounts post
    /// far past it.
    fn lift_daily_limit(&self);
    /// Whether a token refused before its expiry can be refreshed without the user (Meta's
    /// cannot: the account waits for a reconnect nobody in the campaign makes).
    fn refreshes_tokens(&self) -> bool;
}

impl<F: Fake> Platform for F {
    fn name(&self) -> &'static str {
        F::PLATFORM
    }

    fn allow(&self, url: &str, username: &str) -> Result<String, String> {
        self.authorize_directly(url, username)
    }

    fn media(&self) -> MediaKind {
        self.media_kinds()[0]
    }

    fn ledger(&self) -> Vec<LedgerPost> {
        Fake::ledger(self)
    }

    fn fail_next_publish(&self, failure: Scripted) {
        Fake::fail_next_publish(self, failure);
    }

    fn process_slowly(&self) {
        Fake::process_slowly(self);
    }

    fn lift_daily_limit(&self) {
        Fake::lift_daily_limit(self);
    }

    fn refreshes_tokens(&self) -> bool {
        F::REFRESHES_TOKENS
    }
}

/// A fake served on 127.0.0.1, and the variables that point the app at it.
pub struct Served {
    pub platform: Arc<dyn Platform>,
    pub env: Vec<(String, String)>,
    _server: tokio::task::JoinHandle<()>,
}

/// Serves a fresh `F` with the campaign's credentials.
pub async fn serve<F: Fake>(client_id: &str, client_secret: &str) -> Served {
    let fake = F::new(client_id, client_secret);
    let (addr, server) = server::sandbox::serve(fake.router())
        .await
        .expect("the fake listens");
    let url = format!("http://{addr}");
    let mut env: Vec<(String, String)> = [
        ("CLIENT_ID", client_id),
        ("CLIENT_SECRET", client_secret),
        ("AUTH_URL", url.as_str()),
        ("API_URL", url.as_str()),
    ]
    .into_iter()
    .map(|(name, value)| (format!("{}_{name}", F::PREFIX), value.to_owned()))
    .collect();
    env.extend(F::extra_vars(&url));
    Served {
        platform: Arc::new(fake),
        env,
        _server: server,
    }
}

/// The six other platforms, served.
pub async fn serve_all(client_id: &str, client_secret: &str) -> Vec<Served> {
    use crate::fakes::{FacebookSide, InstagramSide};
    use server::sandbox::{
        linkedin::LinkedInFake, pinterest::PinterestFake, tiktok::TikTokFake, youtube::YouTubeFake,
    };
    vec![
        serve::<PinterestFake>(client_id, client_secret).await,
        serve::<LinkedInFake>(client_id, client_secret).await,
        serve::<YouTubeFake>(client_id, client_secret).await,
        serve::<TikTokFake>(client_id, client_secret).await,
        serve::<FacebookSide>(client_id, client_secret).await,
        serve::<InstagramSide>(client_id, client_secret).await,
    ]
}
