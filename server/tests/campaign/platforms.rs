//! The six platforms beside X, each a fake in the campaign's process (the conformance suite's
//! fakes, through its `Fake` trait), so that every platform's posts go through the campaign
//! and the oracle counts them in each fake. X keeps its doors (see [`super::cluster`]): the
//! worker kills and dropped connections happen on its requests.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};

use crate::fakes::{Fake, InstagramSide, LedgerPost, MediaKind, Scripted};
use server::clock::Clock;
use server::sandbox::meta::MetaFake;
use server::sandbox::youtube::YouTubeFake;

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

/// A platform's own time: the real time, plus whole days the campaign makes pass there at once
/// (so that what the platform made before a jump expires, as a day's wait would expire it).
#[derive(Debug, Default)]
pub struct ShiftedClock {
    /// Each jump: the real time it happened, and the platform's lead from then on.
    jumps: Mutex<Vec<(DateTime<Utc>, TimeDelta)>>,
}

impl ShiftedClock {
    fn lead(&self) -> TimeDelta {
        self.jumps
            .lock()
            .unwrap()
            .last()
            .map_or(TimeDelta::zero(), |(_, lead)| *lead)
    }

    /// `by` passes at the platform now.
    pub fn pass(&self, by: TimeDelta) {
        let lead = self.lead() + by;
        self.jumps.lock().unwrap().push((Utc::now(), lead));
    }

    /// The real time of a moment the platform dated `at`: its lead at that moment taken off.
    /// The campaign lasts minutes and jumps are a day, so the moment's lead is unambiguous.
    fn real(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        let jumps = self.jumps.lock().unwrap();
        let lead = jumps
            .iter()
            .rev()
            .find(|(real, lead)| *real + *lead <= at)
            .map_or(TimeDelta::zero(), |(_, lead)| *lead);
        at - lead
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.lead()
    }
}

/// A fake on a clock the campaign can move, its ledger dated in real time for the oracle.
struct Shifted<F> {
    fake: F,
    clock: Arc<ShiftedClock>,
}

impl<F: Fake> Platform for Shifted<F> {
    fn name(&self) -> &'static str {
        F::PLATFORM
    }

    fn allow(&self, url: &str, username: &str) -> Result<String, String> {
        Platform::allow(&self.fake, url, username)
    }

    fn media(&self) -> MediaKind {
        Platform::media(&self.fake)
    }

    fn ledger(&self) -> Vec<LedgerPost> {
        Fake::ledger(&self.fake)
            .into_iter()
            .map(|mut post| {
                post.created_at = self.clock.real(post.created_at);
                post
            })
            .collect()
    }

    fn fail_next_publish(&self, failure: Scripted) {
        Fake::fail_next_publish(&self.fake, failure);
    }

    fn process_slowly(&self) {
        Fake::process_slowly(&self.fake);
    }

    fn lift_daily_limit(&self) {
        Fake::lift_daily_limit(&self.fake);
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
    serve_as::<F>(fake.router(), Arc::new(fake), client_id, client_secret).await
}

/// Serves `router` as `F`'s fake, driven through `platform`.
async fn serve_as<F: Fake>(
    router: axum::Router,
    platform: Arc<dyn Platform>,
    client_id: &str,
    client_secret: &str,
) -> Served {
    let (addr, server) = server::sandbox::serve(router)
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
        platform,
        env,
        _server: server,
    }
}

/// The platforms whose time the campaign moves: each on its own clock.
#[derive(Default)]
pub struct PlatformTimes {
    /// Days pass here while a container is in progress, which expires it.
    pub instagram: Arc<ShiftedClock>,
    /// A week passes here between an upload's break and its resumption, which expires the
    /// upload session.
    pub youtube: Arc<ShiftedClock>,
}

/// The six other platforms, served; Instagram and YouTube on their `times`. Also answers a
/// handle on YouTube's fake, to break its uploads.
pub async fn serve_all(
    client_id: &str,
    client_secret: &str,
    times: &PlatformTimes,
) -> (Vec<Served>, YouTubeFake) {
    use crate::fakes::FacebookSide;
    use server::sandbox::{linkedin::LinkedInFake, pinterest::PinterestFake, tiktok::TikTokFake};
    let youtube = YouTubeFake::with_clock(client_id, client_secret, times.youtube.clone());
    let instagram = InstagramSide(MetaFake::with_clock(
        client_id,
        client_secret,
        times.instagram.clone(),
    ));
    let served = vec![
        serve::<PinterestFake>(client_id, client_secret).await,
        serve::<LinkedInFake>(client_id, client_secret).await,
        serve_shifted(youtube.clone(), &times.youtube, client_id, client_secret).await,
        serve::<TikTokFake>(client_id, client_secret).await,
        serve::<FacebookSide>(client_id, client_secret).await,
        serve_shifted(instagram, &times.instagram, client_id, client_secret).await,
    ];
    (served, youtube)
}

/// Serves `fake`, whose time is `clock`.
async fn serve_shifted<F: Fake + 'static>(
    fake: F,
    clock: &Arc<ShiftedClock>,
    client_id: &str,
    client_secret: &str,
) -> Served {
    let router = Fake::router(&fake);
    let platform = Arc::new(Shifted {
        fake,
        clock: clock.clone(),
    });
    serve_as::<F>(router, platform, client_id, client_secret).await
}
