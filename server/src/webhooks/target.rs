//! Where a webhook may send (docs/API.md › Webhooks › Targets): `http` and
//! `https` URLs only, and — unless `webhooks.allow_private_targets` — never
//! to loopback, private, link-local, unique-local, CGNAT or cloud metadata
//! addresses. The rule is checked where the connection is made: the
//! client's resolver ([`Guard`]) drops such addresses after DNS, so the
//! address checked is the address connected to (a name that resolves to a
//! public address when saved and to 127.0.0.1 when delivered is caught);
//! a URL naming an address outright never reaches a resolver, so
//! [`check_url`] refuses it before sending.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::{
    Url,
    dns::{Addrs, Name, Resolve, Resolving},
};

/// A target the rule refuses; the delivery records it as its error.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Refused {
    #[error("only http:// and https:// URLs are delivered to")]
    Scheme,
    #[error("the URL does not parse")]
    Unparsable,
    #[error(
        "{0} resolves only to private, loopback, link-local or metadata addresses (webhooks.allow_private_targets is off)"
    )]
    Private(String),
}

/// Is `ip` somewhere a webhook may reach with private targets refused?
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let cgnat = a == 100 && (64..128).contains(&b);
    // 169.254.169.254 (metadata) is link-local too.
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || cgnat
        || a == 0
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    let unique_local = first & 0xfe00 == 0xfc00; // fc00::/7, fd00:ec2::254 included
    let link_local = first & 0xffc0 == 0xfe80;
    // 64:ff9b::/96 (NAT64) and ::ffff:0:0/96 carry an IPv4 address: judge it.
    if ip.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [.., c, d] = ip.segments();
        let v4 = Ipv4Addr::from((u32::from(c) << 16) | u32::from(d));
        return is_public_v4(v4);
    }
    !(ip.is_unspecified() || ip.is_loopback() || ip.is_multicast() || unique_local || link_local)
}

/// Checks a URL before it is saved or sent: its scheme, and an address
/// named outright (a name is checked as it resolves, by [`Guard`]).
pub fn check_url(url: &str, allow_private: bool) -> Result<Url, Refused> {
    let parsed = Url::parse(url).map_err(|_| Refused::Unparsable)?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Refused::Scheme);
    }
    let host = parsed.host_str().ok_or(Refused::Unparsable)?;
    let literal = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok();
    if let Some(ip) = literal
        && !allow_private
        && !is_public(ip)
    {
        return Err(Refused::Private(ip.to_string()));
    }
    Ok(parsed)
}

/// The delivery client's resolver: the system's, less the addresses the
/// rule refuses.
#[derive(Debug, Clone, Copy)]
pub struct Guard;

impl Resolve for Guard {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| is_public(addr.ip()))
                .collect();
            if found.is_empty() {
                return Err(Box::new(Refused::Private(host)) as _);
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(ip: &str) -> bool {
        is_public(ip.parse().unwrap())
    }

    #[test]
    fn private_loopback_link_local_cgnat_and_metadata_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fd00:ec2::254",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
        ] {
            assert!(!public(ip), "{ip} must be refused");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700::1111", "100.128.0.1"] {
            assert!(public(ip), "{ip} is public");
        }
    }

    #[test]
    fn only_http_urls_and_no_private_literals() {
        assert!(check_url("https://example.com/hook", false).is_ok());
        assert!(matches!(
            check_url("ftp://example.com/", false),
            Err(Refused::Scheme)
        ));
        assert!(matches!(
            check_url("http://127.0.0.1:9/", false),
            Err(Refused::Private(_))
        ));
        assert!(matches!(
            check_url("http://[::1]:9/", false),
            Err(Refused::Private(_))
        ));
        assert!(check_url("http://127.0.0.1:9/", true).is_ok());
        assert!(matches!(
            check_url("not a url", true),
            Err(Refused::Unparsable)
        ));
    }
}
