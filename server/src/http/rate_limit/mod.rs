//! Rate limiting: one mechanism, several named tiers. A tier is a quota per client (the
//! [`ClientAddr`] the client middleware decided). Everything under `/api` and `/rpc` counts
//! against `Api`. A REST route in a stricter tier says so where it is declared
//! (`route_layer(charge(..))` in `http::api`); server functions, which the `#[server]` macro
//! declares, are looked up in the table [`SERVER_FN_TIERS`], and a test fails when a server
//! function is missing from it. A new tier (AI generation, post creation, OAuth) is a
//! variant here with its default quota, tuned by `RATE_LIMIT_<TIER>`.
//!
//! With `REDIS_URL` set the quotas are counted in Redis, one budget for all the web processes
//! behind a proxy; while Redis is unreachable each process counts alone, and says so once.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::task::{Context, Poll};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use futures_util::future::{BoxFuture, Either};
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;

use app::types::{ApiError, ClientAddr};

use super::error::error_response_for;
use crate::redis::FallbackNotice;
use shared::SharedBudget;

mod shared;

/// The named tiers, in the order their paths are matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// Signing in, registering, signing out, changing the password: strict, to slow down
    /// password guessing.
    Auth,
    /// Creating posts (`POST /api/posts`): generous for people, a brake on runaway scripts.
    Post,
    /// Starting and finishing platform authorizations.
    OAuth,
    /// Everything under `/api` and `/rpc` (the auth routes count here too).
    Api,
    /// Writing captions with a model (`/api/studio/captions`): each call may cost the user's
    /// model quota or their server's time.
    Ai,
    /// Reporting product events (`POST /api/analytics/track`): the app sends a batch every
    /// little while, so the quota is generous; it stops a looping client from filling the
    /// events table.
    Analytics,
}

impl Tier {
    pub const ALL: [Tier; 6] = [
        Tier::Auth,
        Tier::Post,
        Tier::OAuth,
        Tier::Api,
        Tier::Ai,
        Tier::Analytics,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Tier::Auth => "auth",
            Tier::Post => "post",
            Tier::OAuth => "oauth",
            Tier::Api => "api",
            Tier::Ai => "ai",
            Tier::Analytics => "analytics",
        }
    }

    /// The variable that overrides this tier's quota, e.g. `RATE_LIMIT_AUTH`.
    pub fn env_var(self) -> &'static str {
        match self {
            Tier::Auth => "RATE_LIMIT_AUTH",
            Tier::Post => "RATE_LIMIT_POST",
            Tier::OAuth => "RATE_LIMIT_OAUTH",
            Tier::Api => "RATE_LIMIT_API",
            Tier::Ai => "RATE_LIMIT_AI",
            Tier::Analytics => "RATE_LIMIT_ANALYTICS",
        }
    }

    pub fn default_quota(self) -> Quota {
        match self {
            Tier::Auth => Quota {
                requests: 20,
                per: Duration::from_secs(60),
            },
            Tier::Post => Quota {
                requests: 60,
                per: Duration::from_secs(60),
            },
            Tier::OAuth => Quota {
                requests: 30,
                per: Duration::from_secs(60),
            },
            Tier::Api => Quota {
                requests: 600,
                per: Duration::from_secs(60),
            },
            // A person regenerates a few times a minute; a script looping on the model is
            // stopped before it spends the day's quota.
            Tier::Ai => Quota {
                requests: 30,
                per: Duration::from_secs(60),
            },
            // The app sends about one batch per page view at most; a person clicking through the
            // app stays far below this.
            Tier::Analytics => Quota {
                requests: 60,
                per: Duration::from_secs(60),
            },
        }
    }
}

/// The tier of every server function, by path. Each is also charged to `Api`. A server function
/// missing here is charged to `Api` alone, and the test
/// `every_server_function_has_a_tier` fails until it is added.
pub const SERVER_FN_TIERS: &[(&str, Tier)] = &[
    ("/rpc/account/me", Tier::Api),
    ("/rpc/account/register", Tier::Auth),
    ("/rpc/account/sign-in", Tier::Auth),
    ("/rpc/account/sign-out", Tier::Auth),
    ("/rpc/settings/profile", Tier::Api),
    ("/rpc/settings/password", Tier::Auth),
    ("/rpc/settings/time-zones", Tier::Api),
    ("/rpc/studio/settings", Tier::Api),
    ("/rpc/studio/writer", Tier::Api),
    ("/rpc/studio/voice", Tier::Api),
    // A test calls the model server, as captions do.
    ("/rpc/studio/writer-test", Tier::Ai),
    ("/rpc/connections/overview", Tier::Api),
    ("/rpc/connections/authorize", Tier::OAuth),
    ("/rpc/connections/disconnect", Tier::Api),
    ("/rpc/connections/choice", Tier::Api),
    ("/rpc/connections/choose", Tier::OAuth),
    ("/rpc/connections/options", Tier::Api),
    ("/rpc/stores/draft", Tier::Api),
    ("/rpc/stores/overview", Tier::Api),
    ("/rpc/stores/authorize", Tier::OAuth),
    ("/rpc/stores/sync", Tier::Api),
    ("/rpc/stores/disconnect", Tier::Api),
    ("/rpc/stores/products", Tier::Api),
    ("/rpc/posts/create", Tier::Post),
    ("/rpc/posts/preview", Tier::Api),
    ("/rpc/posts/update", Tier::Api),
    ("/rpc/posts/list", Tier::Api),
    ("/rpc/posts/waiting", Tier::Api),
    ("/rpc/posts/get", Tier::Api),
    ("/rpc/posts/duplicate", Tier::Api),
    ("/rpc/posts/retry", Tier::Api),
    ("/rpc/posts/cancel", Tier::Api),
    ("/rpc/posts/delete", Tier::Api),
    ("/rpc/posts/calendar", Tier::Api),
    ("/rpc/posts/move", Tier::Api),
    ("/rpc/analytics/overview", Tier::Api),
    ("/rpc/media/library", Tier::Api),
    ("/rpc/media/delete", Tier::Api),
    ("/rpc/templates/list", Tier::Api),
    ("/rpc/templates/start", Tier::Api),
    ("/rpc/templates/create", Tier::Api),
    ("/rpc/templates/update", Tier::Api),
    ("/rpc/templates/delete", Tier::Api),
    ("/rpc/templates/from-post", Tier::Api),
    ("/rpc/media/list", Tier::Api),
    ("/rpc/meta/sandbox", Tier::Api),
];

impl Tier {
    /// The stricter tier a server-function path is charged to besides `Api`, if any.
    fn for_server_fn(path: &str) -> Option<Tier> {
        SERVER_FN_TIERS
            .iter()
            .find(|(known, _)| *known == path)
            .map(|(_, tier)| *tier)
            .filter(|tier| *tier != Tier::Api)
    }
}

/// `requests` per `per`, written `20/min`, `5/s` or `1000/h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub requests: u32,
    pub per: Duration,
}

impl FromStr for Quota {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let invalid = || format!("`{raw}` is not a rate like 20/min, 5/s or 1000/h");
        let (count, unit) = raw.split_once('/').ok_or_else(invalid)?;
        let requests: u32 = count.trim().parse().map_err(|_| invalid())?;
        let per = match unit.trim() {
            "s" | "sec" => Duration::from_secs(1),
            "m" | "min" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            _ => return Err(invalid()),
        };
        if requests == 0 {
            return Err(format!("`{raw}` allows no requests at all; use at least 1"));
        }
        Ok(Self { requests, per })
    }
}

type KeyedLimiter = governor::RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock>;

/// A tier that refuses a request, and how long until it would allow one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub tier: Tier,
    pub wait: Duration,
}

/// The quotas of every tier, counted in Redis across processes when there is one, and in this
/// process otherwise or while Redis is unreachable (a degraded limit, never none).
pub struct RateLimiter {
    quotas: BTreeMap<Tier, Quota>,
    local: BTreeMap<Tier, KeyedLimiter>,
    shared: Option<SharedBudget>,
    fallback: FallbackNotice,
}

impl RateLimiter {
    /// Limits counted in this process alone.
    pub fn new(quotas: &BTreeMap<Tier, Quota>) -> Self {
        let local = quotas
            .iter()
            .map(|(tier, quota)| {
                let burst = NonZeroU32::new(quota.requests).expect("Quota::from_str rejects zero");
                let governor_quota = governor::Quota::with_period(quota.per / quota.requests)
                    .expect("a positive window divided by a finite count is positive")
                    .allow_burst(burst);
                (*tier, governor::RateLimiter::keyed(governor_quota))
            })
            .collect();
        Self {
            quotas: quotas.clone(),
            local,
            shared: None,
            fallback: FallbackNotice::new("rate limits"),
        }
    }

    /// Limits counted in Redis under `prefix`, one budget for every process that shares it.
    pub fn shared(
        quotas: &BTreeMap<Tier, Quota>,
        redis: fred::clients::Pool,
        prefix: &str,
    ) -> Self {
        Self {
            shared: Some(SharedBudget::new(redis, prefix)),
            ..Self::new(quotas)
        }
    }

    /// Charges one request to each of `tiers` for `client`; the first refusal, if any.
    pub async fn check(&self, tiers: &[Tier], client: IpAddr) -> Result<(), Refusal> {
        if let Some(shared) = &self.shared {
            let limited: Vec<(Tier, Quota)> = tiers
                .iter()
                .filter_map(|tier| Some((*tier, *self.quotas.get(tier)?)))
                .collect();
            match shared.charge(&limited, client).await {
                Ok(verdict) => {
                    self.fallback.recovered();
                    return verdict;
                }
                Err(error) => self.fallback.failed(&error),
            }
        }
        self.check_here(tiers, client)
    }

    /// [`RateLimiter::check`] against this process's own counts.
    fn check_here(&self, tiers: &[Tier], client: IpAddr) -> Result<(), Refusal> {
        for tier in tiers {
            let Some(limiter) = self.local.get(tier) else {
                continue;
            };
            limiter.check_key(&client).map_err(|not_until| Refusal {
                tier: *tier,
                wait: not_until.wait_time_from(limiter.clock().now()),
            })?;
        }
        Ok(())
    }

    /// Forgets clients whose buckets are full again, so memory follows the active clients.
    pub fn forget_idle_clients(&self) {
        for limiter in self.local.values() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// What [`charge_tier`] needs: the limiter and the tier of the routes it is attached to.
#[derive(Clone)]
pub struct Charge {
    pub limiter: Arc<RateLimiter>,
    pub tier: Tier,
}

/// Route middleware: charges every request of the routes it is attached to against one tier.
pub async fn charge_tier(State(charge): State<Charge>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let verdict = match client_of(&request) {
        Some(client) => charge
            .limiter
            .check(&[charge.tier], client)
            .await
            .map_err(|refusal| refused(path, client, refusal)),
        None => Err(no_client(path)),
    };
    match verdict {
        Ok(()) => next.run(request).await,
        Err(answer) => answer,
    }
}

/// The tiers a request is charged to outside the router: everything under `/api` and `/rpc`
/// to `Api`, and a server function also to its own tier from [`SERVER_FN_TIERS`]. (REST routes
/// in a stricter tier add it where they are declared.)
fn tiers_for(path: &str) -> &'static [Tier] {
    if path.starts_with("/api/") {
        &[Tier::Api]
    } else if path.starts_with(app::api::SERVER_FN_PREFIX) {
        match Tier::for_server_fn(path) {
            Some(Tier::Auth) => &[Tier::Api, Tier::Auth],
            Some(Tier::Post) => &[Tier::Api, Tier::Post],
            Some(Tier::OAuth) => &[Tier::Api, Tier::OAuth],
            Some(Tier::Ai) => &[Tier::Api, Tier::Ai],
            Some(Tier::Analytics) => &[Tier::Api, Tier::Analytics],
            Some(Tier::Api) | None => &[Tier::Api],
        }
    } else {
        &[]
    }
}

/// The client the middleware decided.
fn client_of(request: &Request) -> Option<IpAddr> {
    request
        .extensions()
        .get::<ClientAddr>()
        .map(|client| client.ip())
}

/// The answer to a request without a client address. It is refused: failing open would give
/// every such request one shared, unlimited identity.
fn no_client(path: &str) -> Response {
    tracing::error!(
        path,
        "no client address on the request; refusing it (is the client middleware installed?)"
    );
    error_response_for(path, ApiError::Internal { request_id: None })
}

fn refused(path: &str, client: IpAddr, refusal: Refusal) -> Response {
    let wait = refusal.wait;
    // Round up: a client that waits the advertised seconds must get through.
    let retry_after_secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    tracing::info!(tier = refusal.tier.name(), %client, retry_after_secs, "rate limited");
    let error = ApiError::RateLimited {
        retry_after_secs: retry_after_secs.max(1),
    };
    error_response_for(path, error)
}

/// The layer that charges every request outside the router (see [`tiers_for`]). Counted in
/// this process, it decides before the request goes on, without boxing anything (like the
/// guards, see guard.rs); counted in Redis, it waits for Redis first.
#[derive(Clone)]
pub struct RateLimitLayer(pub Arc<RateLimiter>);

impl<S> tower::Layer<S> for RateLimitLayer {
    type Service = RateLimited<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimited {
            inner,
            limiter: self.0.clone(),
        }
    }
}

#[derive(Clone)]
pub struct RateLimited<S> {
    inner: S,
    limiter: Arc<RateLimiter>,
}

impl<S> tower::Service<Request> for RateLimited<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<
        Either<Ready<Result<Response, Infallible>>, S::Future>,
        BoxFuture<'static, Result<Response, Infallible>>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let tiers = tiers_for(request.uri().path());
        if tiers.is_empty() {
            return Either::Left(Either::Right(self.inner.call(request)));
        }
        let Some(client) = client_of(&request) else {
            let answer = no_client(request.uri().path());
            return Either::Left(Either::Left(ready(Ok(answer))));
        };
        if self.limiter.shared.is_none() {
            return Either::Left(match self.limiter.check_here(tiers, client) {
                Ok(()) => Either::Right(self.inner.call(request)),
                Err(refusal) => {
                    Either::Left(ready(Ok(refused(request.uri().path(), client, refusal))))
                }
            });
        }
        // The service that was made ready goes with the request; a clone stays for the next.
        let ready_inner = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready_inner);
        let limiter = self.limiter.clone();
        Either::Right(Box::pin(async move {
            match limiter.check(tiers, client).await {
                Ok(()) => inner.call(request).await,
                Err(refusal) => Ok(refused(request.uri().path(), client, refusal)),
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_server_function_has_a_tier() {
        let registered: std::collections::BTreeSet<String> =
            leptos::server_fn::axum::server_fn_paths()
                .map(|(path, _)| path.to_owned())
                .collect();
        assert!(!registered.is_empty(), "server functions are registered");
        let listed: std::collections::BTreeSet<String> = SERVER_FN_TIERS
            .iter()
            .map(|(path, _)| (*path).to_owned())
            .collect();
        assert_eq!(
            registered, listed,
            "add every server function to SERVER_FN_TIERS, and nothing else"
        );
        assert_eq!(
            Tier::for_server_fn("/rpc/settings/password"),
            Some(Tier::Auth)
        );
        assert_eq!(Tier::for_server_fn("/rpc/settings/profile"), None);
    }

    #[test]
    fn every_tier_has_its_own_name_and_variable() {
        let names: std::collections::BTreeSet<&str> =
            Tier::ALL.iter().map(|tier| tier.name()).collect();
        assert_eq!(names.len(), Tier::ALL.len(), "{names:?}");
        for tier in Tier::ALL {
            assert_eq!(
                tier.env_var(),
                format!("RATE_LIMIT_{}", tier.name().to_uppercase()),
                "{tier:?}"
            );
        }
        assert!(Tier::ALL.contains(&Tier::Analytics));
        assert_eq!(
            Tier::Analytics.default_quota(),
            Quota {
                requests: 60,
                per: Duration::from_secs(60)
            }
        );
    }

    #[test]
    fn reporting_events_is_charged_to_the_api_tier_outside_the_router() {
        // The route adds the analytics tier itself (`http::api`); outside it, only `Api`.
        assert_eq!(tiers_for("/api/analytics/track"), &[Tier::Api]);
        assert_eq!(tiers_for("/api/analytics/summary"), &[Tier::Api]);
    }

    #[test]
    fn quotas_parse_from_the_documented_forms() {
        assert_eq!(
            "20/min".parse(),
            Ok(Quota {
                requests: 20,
                per: Duration::from_secs(60)
            })
        );
        assert_eq!(
            "5/s".parse(),
            Ok(Quota {
                requests: 5,
                per: Duration::from_secs(1)
            })
        );
        assert_eq!(
            "1000/h".parse(),
            Ok(Quota {
                requests: 1000,
                per: Duration::from_secs(3600)
            })
        );
        assert!("0/min".parse::<Quota>().is_err());
        assert!("20 per minute".parse::<Quota>().is_err());
    }

    #[test]
    fn a_client_over_its_quota_waits_and_others_do_not() {
        let quotas = BTreeMap::from([(
            Tier::Auth,
            Quota {
                requests: 2,
                per: Duration::from_secs(60),
            },
        )]);
        let limiter = RateLimiter::new(&quotas);
        let (a, b) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        assert!(limiter.check_here(&[Tier::Auth], a).is_ok());
        assert!(limiter.check_here(&[Tier::Auth], a).is_ok());
        let wait = limiter.check_here(&[Tier::Auth], a).unwrap_err().wait;
        assert!(
            wait > Duration::from_secs(20) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        assert!(limiter.check_here(&[Tier::Auth], b).is_ok());
        assert!(
            limiter.check_here(&[Tier::Api], a).is_ok(),
            "a tier without a quota is not limited"
        );
    }

    proptest! {
        #[test]
        fn the_burst_equals_the_quota(requests in 1u32..50) {
            let quotas = BTreeMap::from([(Tier::Api, Quota { requests, per: Duration::from_secs(3600) })]);
            let limiter = RateLimiter::new(&quotas);
            let client: IpAddr = "192.0.2.1".parse().unwrap();
            for _ in 0..requests {
                prop_assert!(limiter.check_here(&[Tier::Api], client).is_ok());
            }
            prop_assert!(limiter.check_here(&[Tier::Api], client).is_err());
        }
    }
}
