//! Where a webhook may be sent: an `http` or `https` URL, and only to public addresses unless
//! private ones are allowed (tests, local development). The address check runs when an
//! endpoint is written and again on every address a name resolves to at delivery time.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use crate::{FieldError, Violation};

/// The longest URL an endpoint may have.
pub const URL_MAX: usize = 2048;

/// An endpoint's URL: absolute `http` or `https`, with a host, without credentials or a
/// fragment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EndpointUrl(Url);

impl EndpointUrl {
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let format = || FieldError::new(field, Violation::Format { expected: "an absolute http or https URL" });
        if value.len() > URL_MAX {
            return Err(FieldError::new(field, Violation::TooLong { max: URL_MAX }));
        }
        let url = Url::parse(value.trim()).map_err(|_| format())?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(format());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FieldError::new(field, Violation::Other("must not hold a user name or password".into())));
        }
        if url.fragment().is_some() {
            return Err(FieldError::new(field, Violation::Other("must not have a fragment (#...)".into())));
        }
        Ok(EndpointUrl(url))
    }

    /// The URL as stored: what [`EndpointUrl::parse`] read.
    pub fn from_stored(text: &str) -> Option<Self> {
        Url::parse(text).ok().map(EndpointUrl)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &Url {
        &self.0
    }

    /// The address the URL names itself, when its host is an IP address.
    pub fn literal_address(&self) -> Option<IpAddr> {
        match self.0.host()? {
            Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            Host::Domain(_) => None,
        }
    }

    /// Whether the URL names a host that is private by name (`localhost`), or by an
    /// address that is not public.
    pub fn names_private_host(&self) -> bool {
        match self.0.host() {
            Some(Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                name == "localhost" || name.ends_with(".localhost")
            }
            Some(Host::Ipv4(ip)) => !is_public(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => !is_public(IpAddr::V6(ip)),
            None => true,
        }
    }
}

/// Whether `ip` is an address on the public internet: not loopback, private, link-local,
/// shared (carrier-grade NAT), unspecified, multicast, broadcast, documentation or
/// benchmarking, and not one of those written as IPv6.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(ip),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let shared = a == 100 && (64..128).contains(&b);
    let benchmarking = a == 198 && (b == 18 || b == 19);
    let reserved = a >= 240;
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || shared
        || benchmarking
        || reserved
        || a == 0)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    let documentation = first == 0x2001 && ip.segments()[1] == 0x0db8;
    let nat64 = ip.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        || documentation
        || (nat64 && !is_public_v4(embedded_v4(ip))))
}

/// The IPv4 address in the last 32 bits of an IPv6 one (NAT64).
fn embedded_v4(ip: Ipv6Addr) -> Ipv4Addr {
    let [.., a, b, c, d] = ip.octets();
    Ipv4Addr::new(a, b, c, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_http_urls_without_credentials_are_endpoints() {
        for good in ["https://hooks.example.com/clientele", "http://127.0.0.1:8080/in?x=1", "https://[2001:4860::1]/"] {
            assert!(EndpointUrl::parse("url", good).is_ok(), "{good}");
        }
        for bad in [
            "ftp://example.com/",
            "/relative",
            "https://user:pw@example.com/",
            "https://example.com/#frag",
            "mailto:a@example.com",
            "",
        ] {
            assert!(EndpointUrl::parse("url", bad).is_err(), "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(URL_MAX));
        assert!(EndpointUrl::parse("url", &long).is_err());
    }

    #[test]
    fn private_loopback_and_link_local_addresses_are_not_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "224.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn a_url_names_a_private_host_by_name_or_by_address() {
        let private = |url: &str| EndpointUrl::parse("u", url).unwrap().names_private_host();
        assert!(private("http://localhost:9000/"));
        assert!(private("http://api.localhost/"));
        assert!(private("http://127.0.0.1/"));
        assert!(private("http://[::1]/"));
        assert!(!private("https://hooks.example.com/"));
        assert!(!private("https://8.8.8.8/"));
    }
}
