//! Rate limiting: one mechanism, several named tiers. A tier is a quota per client (the
//! [`ClientAddr`] the client middleware decided). Everything under `/api` and `/rpc` counts
//! against `Api`. A REST route in a stricter tier says so where it is declared
//! (`route_layer(charge(..))` in `http::api`); server functions, which the `#[server]` macro
//! declares, are looked up in the table [`SERVER_FN_TIERS`], and a test fails when a server
//! function is missing from it. A new tier (AI generation, post creation, OAuth) is a
//! variant here with its default quota, tuned by `RATE_LIMIT_<TIER>`.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;

use app::types::{ApiError, ClientAddr};

use super::error::error_response_for;
use super::guard::Check;

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
}

impl Tier {
    pub const ALL: [Tier; 4] = [Tier::Auth, Tier::Post, Tier::OAuth, Tier::Api];

    pub fn name(self) -> &'static str {
        match self {
            Tier::Auth => "auth",
            Tier::Post => "post",
            Tier::OAuth => "oauth",
            Tier::Api => "api",
        }
    }

    /// The variable that overrides this tier's quota, e.g. `RATE_LIMIT_AUTH`.
    pub fn env_var(self) -> &'static str {
        match self {
            Tier::Auth => "RATE_LIMIT_AUTH",
            Tier::Post => "RATE_LIMIT_POST",
            Tier::OAuth => "RATE_LIMIT_OAUTH",
            Tier::Api => "RATE_LIMIT_API",
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
    ("/rpc/connections/overview", Tier::Api),
    ("/rpc/connections/authorize", Tier::OAuth),
    ("/rpc/connections/disconnect", Tier::Api),
    ("/rpc/posts/create", Tier::Post),
    ("/rpc/posts/update", Tier::Api),
    ("/rpc/posts/list", Tier::Api),
    ("/rpc/posts/waiting", Tier::Api),
    ("/rpc/posts/get", Tier::Api),
    ("/rpc/posts/duplicate", Tier::Api),
    ("/rpc/posts/retry", Tier::Api),
    ("/rpc/posts/cancel", Tier::Api),
    ("/rpc/posts/delete", Tier::Api),
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

/// What [`charge_tier`] needs: the limiter and the tier of the routes it is attached to.
#[derive(Clone)]
pub struct Charge {
    pub limiter: Arc<RateLimiter>,
    pub tier: Tier,
}

/// Route middleware: charges every request of the routes it is attached to against one tier.
pub async fn charge_tier(State(charge): State<Charge>, request: Request, next: Next) -> Response {
    match refusal(&charge.limiter, &request, &[charge.tier]) {
        None => next.run(request).await,
        Some(refusal) => refusal,
    }
}

/// The check outside the router: charges every request under `/api` and `/rpc` to `Api`, and a
/// server function also to its own tier from [`SERVER_FN_TIERS`]. (REST routes in a stricter
/// tier add it where they are declared.)
impl Check for Arc<RateLimiter> {
    fn check(&self, request: &mut Request) -> Option<Response> {
        let path = request.uri().path();
        let tiers: &[Tier] = if path.starts_with("/api/") {
            &[Tier::Api]
        } else if path.starts_with(app::api::SERVER_FN_PREFIX) {
            match Tier::for_server_fn(path) {
                Some(Tier::Auth) => &[Tier::Api, Tier::Auth],
                Some(Tier::Post) => &[Tier::Api, Tier::Post],
                Some(Tier::OAuth) => &[Tier::Api, Tier::OAuth],
                Some(Tier::Api) | None => &[Tier::Api],
            }
        } else {
            return None;
        };
        refusal(self, request, tiers)
    }
}

/// Charges `tiers` for the request's client; the refusal to send when one is spent. A request
/// without a client address is refused: failing open would give every such request one
/// shared, unlimited identity.
fn refusal(limiter: &RateLimiter, request: &Request, tiers: &[Tier]) -> Option<Response> {
    let path = request.uri().path();
    let Some(client) = request.extensions().get::<ClientAddr>().copied() else {
        tracing::error!(
            path,
            "no client address on the request; refusing it (is the client middleware installed?)"
        );
        return Some(error_response_for(
            path,
            ApiError::Internal { request_id: None },
        ));
    };
    for tier in tiers {
        if let Err(wait) = limiter.check(*tier, client.ip()) {
            // Round up: a client that waits the advertised seconds must get through.
            let retry_after_secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            tracing::info!(tier = tier.name(), %client, retry_after_secs, "rate limited");
            let error = ApiError::RateLimited {
                retry_after_secs: retry_after_secs.max(1),
            };
            return Some(error_response_for(path, error));
        }
    }
    None
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
