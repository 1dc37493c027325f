//! Who the client is: the one place that decides the address a request is charged to by the
//! rate limits and the sign-in throttle. It is the TCP peer, unless the peer is a proxy listed
//! in `TRUSTED_PROXIES`; then it is the right-most address of `X-Forwarded-For` that is not
//! itself a trusted proxy (the left part of that header is whatever the client wrote, so it
//! is never believed). The decision is stored as a [`ClientAddr`] in the request's extensions.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use http::HeaderMap;
use ipnet::IpNet;

use app::types::ClientAddr;

use super::guard::Check;

const FORWARDED_FOR: &str = "x-forwarded-for";

/// The proxies whose `X-Forwarded-For` is believed. Empty by default: then the header is
/// ignored entirely, because anyone can send it.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(networks)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        // An IPv4 peer seen through a dual-stack socket matches IPv4 ranges.
        let ip = ip.to_canonical();
        self.0.iter().any(|network| network.contains(&ip))
    }

    /// The client's address, given the TCP peer and the request's headers.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = headers
            .get_all(FORWARDED_FOR)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        // Walk from the nearest hop outwards; each trusted proxy vouches for the next one.
        let mut client = peer;
        for hop in hops.iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(ip) if self.trusts(ip) => client = ip,
                Ok(ip) => return ip,
                // A hop we cannot read ends the chain at the last proxy we could.
                Err(_) => return client,
            }
        }
        client
    }
}

/// The check that decides the request's [`ClientAddr`]. A request without a peer address (a
/// router served without connection info) gets none, and the limits then refuse it.
impl Check for Arc<TrustedProxies> {
    fn check(&self, request: &mut Request) -> Option<Response> {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        if let Some(peer) = peer {
            let client = ClientAddr::from_ip(self.client_ip(peer, request.headers()));
            request.extensions_mut().insert(client);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn proxies(networks: &[&str]) -> TrustedProxies {
        TrustedProxies::new(networks.iter().map(|n| n.parse().unwrap()).collect())
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(FORWARDED_FOR, value.parse().unwrap());
        }
        headers
    }

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let headers = forwarded(&["203.0.113.9"]);
        assert_eq!(
            proxies(&[]).client_ip(ip("10.0.0.2"), &headers),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8"]);
        // The client claims to be 1.1.1.1; the proxy appended the address it really saw.
        let headers = forwarded(&["1.1.1.1, 203.0.113.9", "10.0.0.7"]);
        assert_eq!(
            trusted.client_ip(ip("10.0.0.2"), &headers),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn a_peer_that_is_not_trusted_is_the_client_whatever_it_says() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let headers = forwarded(&["10.0.0.1"]);
        assert_eq!(
            trusted.client_ip(ip("198.51.100.3"), &headers),
            ip("198.51.100.3")
        );
    }

    #[test]
    fn an_unreadable_hop_stops_at_the_last_trusted_proxy() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let headers = forwarded(&["203.0.113.9, garbage, 10.0.0.7"]);
        assert_eq!(trusted.client_ip(ip("10.0.0.2"), &headers), ip("10.0.0.7"));
        assert_eq!(
            trusted.client_ip(ip("10.0.0.2"), &forwarded(&[])),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn a_mapped_ipv4_peer_matches_an_ipv4_range() {
        let trusted = proxies(&["127.0.0.0/8"]);
        let headers = forwarded(&["203.0.113.9"]);
        assert_eq!(
            trusted.client_ip(ip("::ffff:127.0.0.1"), &headers),
            ip("203.0.113.9")
        );
    }

    proptest! {
        #[test]
        fn a_client_cannot_choose_its_address_by_prepending_hops(
            claimed in prop::collection::vec(any::<[u8; 4]>(), 0..5),
            real in any::<[u8; 4]>(),
        ) {
            let real = IpAddr::from(real);
            prop_assume!(!ip_in(real, "10.0.0.0/8"));
            let mut chain: Vec<String> = claimed.iter().map(|c| IpAddr::from(*c).to_string()).collect();
            chain.push(real.to_string());
            let headers = forwarded(&[&chain.join(", ")]);
            prop_assert_eq!(proxies(&["10.0.0.0/8"]).client_ip(ip("10.0.0.2"), &headers), real);
        }
    }

    fn ip_in(address: IpAddr, network: &str) -> bool {
        network.parse::<IpNet>().unwrap().contains(&address)
    }
}
