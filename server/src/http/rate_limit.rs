//! Rate limiting: one mechanism, several named tiers. A tier is a quota per client (the peer
//! address) and a set of paths; each request is charged to the first tier whose paths match.
//! A new tier (AI generation, post creation, OAuth) is a variant here with its paths and default
//! quota, and is tuned by `RATE_LIMIT_<TIER>` without touching the mechanism.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;

use app::types::ApiError;

use super::error::error_response_for;

/// The named tiers, in the order their paths are matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// Signing in, registering, signing out: strict, to slow down password guessing.
    Auth,
    /// Everything else under `/api` and `/rpc`.
    Api,
}

impl Tier {
    pub const ALL: [Tier; 2] = [Tier::Auth, Tier::Api];

    pub fn name(self) -> &'static str {
        match self {
            Tier::Auth => "auth",
            Tier::Api => "api",
        }
    }

    /// The variable that overrides this tier's quota, e.g. `RATE_LIMIT_AUTH`.
    pub fn env_var(self) -> String {
        format!("RATE_LIMIT_{}", self.name().to_uppercase())
    }

    pub fn default_quota(self) -> Quota {
        match self {
            Tier::Auth => Quota {
                requests: 20,
                per: Duration::from_secs(60),
            },
            Tier::Api => Quota {
                requests: 600,
                per: Duration::from_secs(60),
            },
        }
    }

    /// Path prefixes charged to this tier.
    fn paths(self) -> &'static [&'static str] {
        match self {
            Tier::Auth => &[
                "/api/auth/",
                "/rpc/account/register",
                "/rpc/account/sign-in",
                "/rpc/account/sign-out",
            ],
            Tier::Api => &["/api/", "/rpc/"],
        }
    }

    /// The tier a path is charged to; pages and static files are not limited.
    pub fn for_path(path: &str) -> Option<Tier> {
        Tier::ALL
            .into_iter()
            .find(|tier| tier.paths().iter().any(|prefix| path.starts_with(prefix)))
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

/// One keyed limiter per tier.
pub struct RateLimiter {
    tiers: BTreeMap<Tier, KeyedLimiter>,
}

impl RateLimiter {
    pub fn new(quotas: &BTreeMap<Tier, Quota>) -> Self {
        let tiers = quotas
            .iter()
            .map(|(tier, quota)| {
                let burst = NonZeroU32::new(quota.requests).expect("Quota::from_str rejects zero");
                let governor_quota = governor::Quota::with_period(quota.per / quota.requests)
                    .expect("a positive window divided by a finite count is positive")
                    .allow_burst(burst);
                (*tier, governor::RateLimiter::keyed(governor_quota))
            })
            .collect();
        Self { tiers }
    }

    /// Charges one request to `tier` for `client`; `Err` holds how long until one is allowed.
    pub fn check(&self, tier: Tier, client: IpAddr) -> Result<(), Duration> {
        let Some(limiter) = self.tiers.get(&tier) else {
            return Ok(());
        };
        limiter
            .check_key(&client)
            .map_err(|not_until| not_until.wait_time_from(limiter.clock().now()))
    }

    /// Forgets clients whose buckets are full again, so memory follows the active clients.
    pub fn forget_idle_clients(&self) {
        for limiter in self.tiers.values() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// Middleware: charges the request to its tier; answers 429 with `Retry-After` when spent.
pub async fn limit_by_tier(
    State(limiter): State<Arc<RateLimiter>>,
    request: Request,
    next: Next,
) -> Response {
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    if let (Some(tier), Some(client)) = (Tier::for_path(request.uri().path()), client) {
        if let Err(wait) = limiter.check(tier, client) {
            // Round up: a client that waits the advertised seconds must get through.
            let retry_after_secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            tracing::info!(tier = tier.name(), %client, retry_after_secs, "rate limited");
            let error = ApiError::RateLimited {
                retry_after_secs: retry_after_secs.max(1),
            };
            return error_response_for(request.uri().path(), error);
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn auth_paths_match_the_auth_tier_before_the_general_one() {
        assert_eq!(Tier::for_path("/api/auth/login"), Some(Tier::Auth));
        assert_eq!(Tier::for_path("/rpc/account/sign-in"), Some(Tier::Auth));
        assert_eq!(Tier::for_path("/api/me"), Some(Tier::Api));
        assert_eq!(Tier::for_path("/rpc/settings/profile"), Some(Tier::Api));
        assert_eq!(Tier::for_path("/settings"), None);
        assert_eq!(Tier::for_path("/pkg/picscripter.wasm"), None);
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
        assert!(limiter.check(Tier::Auth, a).is_ok());
        assert!(limiter.check(Tier::Auth, a).is_ok());
        let wait = limiter.check(Tier::Auth, a).unwrap_err();
        assert!(
            wait > Duration::from_secs(20) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        assert!(limiter.check(Tier::Auth, b).is_ok());
        assert!(
            limiter.check(Tier::Api, a).is_ok(),
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
                prop_assert!(limiter.check(Tier::Api, client).is_ok());
            }
            prop_assert!(limiter.check(Tier::Api, client).is_err());
        }
    }
}
