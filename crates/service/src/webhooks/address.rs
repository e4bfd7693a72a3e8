//! Where an endpoint's name leads. A name that resolves to an address that is not public is
//! refused when the endpoint is saved and again at every delivery, since what a name
//! resolves to can change between the two (DNS rebinding).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use clientele_domain::webhook::{EndpointUrl, is_public};

/// How long a name may take to resolve.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// The addresses of an endpoint's host.
pub(crate) struct Addresses;

impl Addresses {
    /// The addresses `url`'s host stands for: itself when it is an address.
    pub(crate) async fn of(url: &EndpointUrl) -> io::Result<Vec<IpAddr>> {
        if let Some(ip) = url.literal_address() {
            return Ok(vec![ip]);
        }
        let host = url.url().host_str().unwrap_or_default().to_owned();
        let port = url.url().port_or_known_default().unwrap_or(443);
        let found = tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, port)))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "resolving the host timed out"))??;
        Ok(found.map(|address| address.ip()).collect())
    }
}

/// The deliveries' resolver: it answers only a name's public addresses, unless private ones
/// are allowed, and fails when none is left.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PublicOnly {
    pub(crate) allow_private: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found = tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((name.as_str(), 0)))
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "resolving the host timed out"))??;
            let kept: Vec<SocketAddr> = found.filter(|address| allow_private || is_public(address.ip())).collect();
            if kept.is_empty() {
                return Err("the host resolves to no public address".into());
            }
            let addresses: Addrs = Box::new(kept.into_iter());
            Ok(addresses)
        })
    }
}
