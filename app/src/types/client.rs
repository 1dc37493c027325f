//! Who a request comes from, as far as throttling is concerned.

use std::net::{IpAddr, Ipv6Addr};

/// The address a request is charged to by the rate limits and the sign-in throttle. The server
/// decides it once per request (the TCP peer, or the client a trusted proxy names) and puts it
/// in the request's extensions. IPv6 clients are keyed by their /64: one home or phone
/// network usually gets a whole /64, so keying by the full address would let a single client
/// rotate through 2^64 identities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(IpAddr);

impl ClientAddr {
    pub fn from_ip(ip: IpAddr) -> Self {
        // An IPv4 client seen through a dual-stack socket is that IPv4 client.
        let ip = match ip.to_canonical() {
            IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64))),
            v4 => v4,
        };
        Self(ip)
    }

    pub fn ip(self) -> IpAddr {
        self.0
    }
}

impl std::fmt::Display for ClientAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ipv4_is_kept_whole_and_mapped_ipv6_is_ipv4() {
        let v4: IpAddr = "203.0.113.7".parse().unwrap();
        assert_eq!(ClientAddr::from_ip(v4).ip(), v4);
        let mapped: IpAddr = "::ffff:203.0.113.7".parse().unwrap();
        assert_eq!(ClientAddr::from_ip(mapped).ip(), v4);
    }

    proptest! {
        #[test]
        fn ipv6_addresses_in_one_64_share_a_key(network in any::<u64>(), a in any::<u64>(), b in any::<u64>()) {
            let address = |host: u64| IpAddr::V6(Ipv6Addr::from((u128::from(network) << 64) | u128::from(host)));
            prop_assume!(!matches!(address(a), IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some()));
            prop_assert_eq!(ClientAddr::from_ip(address(a)), ClientAddr::from_ip(address(b)));
        }

        #[test]
        fn ipv6_addresses_in_different_64s_do_not(x in any::<u64>(), y in any::<u64>(), host in any::<u64>()) {
            prop_assume!(x != y && x != 0 && y != 0);
            let address = |network: u64| IpAddr::V6(Ipv6Addr::from((u128::from(network) << 64) | u128::from(host)));
            prop_assert_ne!(ClientAddr::from_ip(address(x)), ClientAddr::from_ip(address(y)));
        }
    }
}
