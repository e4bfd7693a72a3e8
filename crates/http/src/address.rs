//! Limits by client address, for what no key's budget covers: failed authentications, and
//! the endpoints that need no credential (`POST /auth/login`, `POST /v1/auth/token`,
//! `GET /pay/{guid}`).
//!
//! The address is the connection's peer; `X-Forwarded-For` is believed only when the
//! operator says a proxy sets it ([`HttpSettings::trust_forwarded_for`](crate::HttpSettings)).
//!
//! Every 401 a surface's route answers counts as a failed authentication of its address
//! ([`screen`]). Once an address has failed more often than its budget allows, every request
//! it sends to a surface is answered 429 until the budget allows one more failure, whatever
//! credential the request carries: a guess that happens to be right is refused too, so
//! guessing stays slow. Other addresses are not affected, nor is a valid key used from any
//! other address.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;

use clientele_service::Refusal;

use crate::auth::{Keyed, RateLimit, seconds, seconds_until};

/// How often (in charges) a budget forgets the addresses whose budget is full again, so
/// that addresses seen once do not stay in memory.
const PRUNE_EVERY: u64 = 4096;

/// One budget per address.
#[derive(Debug)]
struct Budget {
    limiter: Keyed<IpAddr>,
    charges: AtomicU64,
}

impl Budget {
    fn new(limit: Option<RateLimit>) -> Option<Self> {
        limit.map(|limit| Budget { limiter: limit.keyed(), charges: AtomicU64::new(0) })
    }

    /// Charges one to `address`; over budget, the seconds until it can be charged again.
    fn charge(&self, address: IpAddr) -> Result<(), u64> {
        if self.charges.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter.check_key(&address).map_err(|not_until| seconds_until(&not_until).max(1))
    }
}

/// The address limits of one server process.
#[derive(Debug)]
pub(crate) struct AddressLimits {
    failures: Option<Budget>,
    public: Option<Budget>,
    /// Addresses refused until an instant: those whose last failure was over budget.
    blocked: Mutex<HashMap<IpAddr, Instant>>,
    trust_forwarded_for: bool,
}

impl AddressLimits {
    pub(crate) fn new(failures: Option<RateLimit>, public: Option<RateLimit>, trust_forwarded_for: bool) -> Self {
        AddressLimits {
            failures: Budget::new(failures),
            public: Budget::new(public),
            blocked: Mutex::new(HashMap::new()),
            trust_forwarded_for,
        }
    }

    /// Where `request` comes from: the last hop of `X-Forwarded-For` (the one the trusted
    /// proxy added) when trusted and readable, else the peer.
    fn address_of(&self, request: &Request) -> Option<IpAddr> {
        let forwarded = self
            .trust_forwarded_for
            .then(|| request.headers().get_all("x-forwarded-for").iter().next_back())
            .flatten()
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.rsplit(',').next())
            .and_then(|hop| hop.trim().parse::<IpAddr>().ok());
        forwarded.or_else(|| request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip()))
    }

    fn blocked_for(&self, address: IpAddr) -> Option<u64> {
        let blocked = self.blocked.lock().unwrap_or_else(PoisonError::into_inner);
        let left = blocked.get(&address)?.checked_duration_since(Instant::now())?;
        Some(seconds(left).max(1))
    }

    fn failed(&self, address: IpAddr) {
        let Some(failures) = &self.failures else { return };
        if let Err(wait) = failures.charge(address) {
            let now = Instant::now();
            let mut blocked = self.blocked.lock().unwrap_or_else(PoisonError::into_inner);
            if blocked.len() >= PRUNE_EVERY as usize {
                blocked.retain(|_, until| *until > now);
            }
            blocked.insert(address, now + std::time::Duration::from_secs(wait));
        }
    }
}

/// The address a request comes from, and its budgets: an extractor that never fails (a
/// request the server did not receive over a socket has no address and no limit).
#[derive(Debug, Clone)]
pub struct ClientAddress(Option<(IpAddr, Arc<AddressLimits>)>);

impl ClientAddress {
    /// The address, when known.
    pub fn ip(&self) -> Option<IpAddr> {
        self.0.as_ref().map(|(address, _)| *address)
    }

    /// Charges one request to an endpoint that needs no credential to this address's budget.
    pub fn charge_public(&self) -> Result<(), Refusal> {
        let Some((address, limits)) = &self.0 else { return Ok(()) };
        let Some(public) = &limits.public else { return Ok(()) };
        public.charge(*address).map_err(|retry_after_seconds| Refusal::RateLimited { retry_after_seconds })
    }

    /// Refuses an address that has failed to authenticate more often than allowed.
    fn admit(&self) -> Result<(), Refusal> {
        let Some((address, limits)) = &self.0 else { return Ok(()) };
        match limits.blocked_for(*address) {
            Some(retry_after_seconds) => Err(Refusal::RateLimited { retry_after_seconds }),
            None => Ok(()),
        }
    }

    fn failed(&self) {
        if let Some((address, limits)) = &self.0 {
            limits.failed(*address);
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<ClientAddress>().cloned().unwrap_or(ClientAddress(None)))
    }
}

/// Middleware around every route: finds the request's address and gives it to the request.
pub(crate) async fn identify(State(limits): State<Arc<AddressLimits>>, mut request: Request, next: Next) -> Response {
    let client = ClientAddress(limits.address_of(&request).map(|address| (address, Arc::clone(&limits))));
    request.extensions_mut().insert(client);
    next.run(request).await
}

/// Runs a surface's request unless its address is over its failure budget (then `refuse`
/// answers, in the surface's format), and counts a 401 answer as a failed authentication of
/// the address.
pub async fn screen<F>(
    request: Request,
    run: impl FnOnce(Request) -> F,
    refuse: impl FnOnce(Refusal) -> Response,
) -> Response
where
    F: Future<Output = Response>,
{
    let client = request.extensions().get::<ClientAddress>().cloned().unwrap_or(ClientAddress(None));
    if let Err(failure) = client.admit() {
        return refuse(failure);
    }
    let response = run(request).await;
    if response.status() == StatusCode::UNAUTHORIZED {
        client.failed();
    }
    response
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;

    fn limits(trust_forwarded_for: bool) -> Arc<AddressLimits> {
        let limit = RateLimit { per_second: NonZeroU32::MIN, burst: NonZeroU32::new(2).unwrap() };
        Arc::new(AddressLimits::new(Some(limit), Some(limit), trust_forwarded_for))
    }

    fn request(peer: &str, forwarded: Option<&str>) -> Request {
        let mut request = Request::new(axum::body::Body::empty());
        request.extensions_mut().insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        if let Some(forwarded) = forwarded {
            request.headers_mut().insert("x-forwarded-for", forwarded.parse().unwrap());
        }
        request
    }

    #[test]
    fn x_forwarded_for_is_believed_only_when_trusted() {
        let forwarded = request("10.0.0.1:5000", Some("203.0.113.9, 198.51.100.7"));
        assert_eq!(limits(false).address_of(&forwarded), Some("10.0.0.1".parse().unwrap()));
        // The last hop is the one the trusted proxy wrote; earlier ones are the client's say.
        assert_eq!(limits(true).address_of(&forwarded), Some("198.51.100.7".parse().unwrap()));
        let unreadable = request("10.0.0.1:5000", Some("not an address"));
        assert_eq!(limits(true).address_of(&unreadable), Some("10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn an_address_over_its_failure_budget_is_refused_and_others_are_not() {
        let limits = limits(false);
        let client = |ip: &str| ClientAddress(Some((ip.parse().unwrap(), Arc::clone(&limits))));
        let (failing, other) = (client("192.0.2.1"), client("192.0.2.2"));
        for _ in 0..2 {
            failing.failed();
            assert!(failing.admit().is_ok(), "within the burst");
        }
        failing.failed();
        assert!(matches!(failing.admit(), Err(Refusal::RateLimited { retry_after_seconds: 1 })));
        assert!(other.admit().is_ok());
    }
}
