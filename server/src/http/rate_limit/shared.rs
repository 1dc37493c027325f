//! The rate-limit budget shared by every web process: one bucket per tier and client in Redis,
//! charged by a script so that concurrent requests through different processes cannot both
//! take the last request. The buckets follow GCRA, like the per-process limiter: each holds
//! the theoretical arrival time of the next request, in Redis's own clock, so the processes'
//! clocks do not have to agree.

use std::net::IpAddr;
use std::time::Duration;

use fred::clients::Pool;
use fred::types::scripts::Script;

use super::{Quota, Refusal, Tier};

/// KEYS: one bucket per tier. ARGV: per key, the interval between requests and the burst, in
/// microseconds and requests. Returns `{0, 0}` when every tier allows the request (and charges
/// them all), or `{n, wait}`: the n-th tier (from 1) refuses for `wait` microseconds.
const CHARGE: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local next_arrivals = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local arrival = math.max(tonumber(redis.call('GET', key) or now), now)
  local allowed_from = arrival + interval - burst * interval
  if allowed_from > now then
    return {i, allowed_from - now}
  end
  next_arrivals[i] = arrival + interval
end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, next_arrivals[i], 'PX', math.ceil((next_arrivals[i] - now) / 1000))
end
return {0, 0}
";

pub struct SharedBudget {
    pool: Pool,
    prefix: String,
    charge: Script,
}

impl SharedBudget {
    /// Buckets under `{prefix}:rate:`.
    pub fn new(pool: Pool, prefix: &str) -> Self {
        Self {
            pool,
            prefix: format!("{prefix}:rate"),
            charge: Script::from_lua(CHARGE),
        }
    }

    /// Charges one request to every tier in `tiers` for `client`, all or none.
    pub async fn charge(
        &self,
        tiers: &[(Tier, Quota)],
        client: IpAddr,
    ) -> Result<Result<(), Refusal>, fred::error::Error> {
        let keys = tiers
            .iter()
            .map(|(tier, _)| format!("{}:{}:{client}", self.prefix, tier.name()))
            .collect();
        let args = tiers
            .iter()
            .flat_map(|(_, quota)| {
                let interval = (quota.per.as_micros() / u128::from(quota.requests)).max(1);
                [interval.to_string(), quota.requests.to_string()]
            })
            .collect();
        let answer: Vec<i64> =
            crate::redis::run_limit_script(&self.pool, &self.charge, keys, args).await?;
        Ok(match answer.as_slice() {
            [refused, wait] if *refused > 0 => Err(Refusal {
                tier: usize::try_from(*refused - 1)
                    .ok()
                    .and_then(|index| tiers.get(index))
                    .map_or(Tier::Api, |(tier, _)| *tier),
                wait: Duration::from_micros(u64::try_from(*wait).unwrap_or(0)),
            }),
            _ => Ok(()),
        })
    }
}
