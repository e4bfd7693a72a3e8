//! The one authentication layer every surface uses: find the credential in the request,
//! identify the caller, apply its key's rate limit. Each surface wraps [`authenticate`] in
//! its own extractor so failures answer in that surface's format, with the headers
//! [`AuthHeaders::of`] gives (`WWW-Authenticate`, `Retry-After`).

use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::http::header::{AUTHORIZATION, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponseParts, ResponseParts};
use governor::clock::{Clock as _, DefaultClock};
use governor::{NotUntil, Quota, RateLimiter};

use clientele_domain::credential::ApiKeyId;
use clientele_service::{AuthError, Principal, Refusal};

use crate::AppState;

/// A per-key request budget: `per_second` on average, bursts of up to `burst`.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    pub per_second: NonZeroU32,
    pub burst: NonZeroU32,
}

/// A rate limiter with one budget per key.
pub(crate) type Keyed<K> = RateLimiter<K, governor::state::keyed::DefaultKeyedStateStore<K>, DefaultClock>;

impl RateLimit {
    pub(crate) fn keyed<K: Hash + Eq + Clone>(self) -> Keyed<K> {
        RateLimiter::keyed(Quota::per_second(self.per_second).allow_burst(self.burst))
    }
}

/// Whole seconds until `not_until`, rounded up: what `Retry-After` says.
pub(crate) fn seconds_until(not_until: &NotUntil<governor::clock::QuantaInstant>) -> u64 {
    seconds(not_until.wait_time_from(DefaultClock::default().now()))
}

/// A wait in whole seconds, rounded up.
pub(crate) fn seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// The rate limiters of one server process.
#[derive(Debug, Clone)]
pub(crate) struct Limiter(Option<Arc<Keyed<ApiKeyId>>>);

impl Limiter {
    pub(crate) fn new(limit: Option<RateLimit>) -> Self {
        Limiter(limit.map(|limit| Arc::new(limit.keyed())))
    }

    /// Charges one request to `key`'s budget.
    pub(crate) fn check(&self, key: ApiKeyId) -> Result<(), Refusal> {
        let Some(limiter) = &self.0 else {
            return Ok(());
        };
        limiter
            .check_key(&key)
            .map_err(|not_until| Refusal::RateLimited { retry_after_seconds: seconds_until(&not_until) })
    }
}

/// The headers of a refusal by the authentication layer, for a surface's error type to
/// carry (boxed: most errors have none, and an error stays small).
#[derive(Debug, Clone, Default)]
pub struct AuthHeaders(Option<Box<HeaderMap>>);

impl AuthHeaders {
    /// `WWW-Authenticate` for `error`.
    pub fn challenge(error: &AuthError) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(WWW_AUTHENTICATE, challenge(error));
        AuthHeaders(Some(Box::new(headers)))
    }

    /// The headers every surface's answer to `refusal` carries: the RFC 6750 challenge on a
    /// 401, `Retry-After` on a 429; none otherwise.
    pub fn of(refusal: &Refusal) -> Self {
        match refusal {
            Refusal::Unauthenticated(error) => AuthHeaders::challenge(error),
            Refusal::RateLimited { retry_after_seconds } => {
                let mut headers = HeaderMap::new();
                headers.insert(RETRY_AFTER, HeaderValue::from(*retry_after_seconds));
                AuthHeaders(Some(Box::new(headers)))
            }
            _ => AuthHeaders::default(),
        }
    }
}

impl IntoResponseParts for AuthHeaders {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut parts: ResponseParts) -> Result<ResponseParts, Self::Error> {
        if let Some(headers) = self.0 {
            parts.headers_mut().extend(*headers);
        }
        Ok(parts)
    }
}

/// The `WWW-Authenticate` challenge of a 401 (RFC 6750 §3): the bare challenge when no
/// bearer credential was sent, `error="invalid_token"` and why when one was sent and was
/// not accepted (unknown, revoked, malformed or expired).
pub fn challenge(error: &AuthError) -> HeaderValue {
    HeaderValue::from_static(match error {
        AuthError::Missing => r#"Bearer realm="clientele""#,
        AuthError::Invalid => {
            r#"Bearer realm="clientele", error="invalid_token", error_description="the credential is not valid""#
        }
        AuthError::Expired => {
            r#"Bearer realm="clientele", error="invalid_token", error_description="the access token has expired""#
        }
    })
}

/// The credential in `Authorization`: `Bearer <key or token>`, or the key or token alone
/// (as Convercus clients send it).
pub fn credential(headers: &HeaderMap) -> Result<&str, AuthError> {
    let value = headers.get(AUTHORIZATION).ok_or(AuthError::Missing)?;
    let value = value.to_str().map_err(|_| AuthError::Invalid)?.trim();
    if value.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Missing);
    }
    let credential = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        Some(_) => return Err(AuthError::Invalid),
        None => value,
    };
    if credential.is_empty() { Err(AuthError::Missing) } else { Ok(credential) }
}

/// Identifies the caller of a request and charges its key's rate limit.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Principal, Refusal> {
    let principal = state.registry.authenticate(credential(headers)?).await?;
    state.limiter.check(principal.key_id)?;
    tracing::Span::current().record("key.id", tracing::field::display(principal.key_id));
    Ok(principal)
}

/// Charges one request to a key's rate limit (for surfaces that authenticate otherwise than
/// through [`authenticate`], such as a login).
pub fn charge(state: &AppState, key: ApiKeyId) -> Result<(), Refusal> {
    state.limiter.check(key)
}

/// The version an `If-Match` header asks for: `None` when absent or `*` (any version of an
/// existing resource). A tag that is no version of ours can match nothing, so it is a
/// [`Refusal::VersionMismatch`] straight away.
pub fn if_match(headers: &HeaderMap) -> Result<Option<i64>, Refusal> {
    let mismatch = || Refusal::VersionMismatch;
    let Some(value) = headers.get(axum::http::header::IF_MATCH) else { return Ok(None) };
    let value = value.to_str().map_err(|_| mismatch())?.trim();
    if value == "*" {
        return Ok(None);
    }
    let tag = value.strip_prefix("W/").unwrap_or(value);
    tag.strip_prefix('"').and_then(|t| t.strip_suffix('"')).and_then(|t| t.parse().ok()).map(Some).ok_or_else(mismatch)
}

/// The `ETag` of a version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn the_bearer_prefix_is_optional_and_case_insensitive() {
        assert_eq!(credential(&headers("Bearer abc")).unwrap(), "abc");
        assert_eq!(credential(&headers("bearer   abc ")).unwrap(), "abc");
        assert_eq!(credential(&headers("abc")).unwrap(), "abc");
    }

    #[test]
    fn other_schemes_and_empty_values_are_refused() {
        assert!(matches!(credential(&headers("Basic abc")), Err(AuthError::Invalid)));
        assert!(matches!(credential(&headers("Bearer ")), Err(AuthError::Missing)));
        assert!(matches!(credential(&HeaderMap::new()), Err(AuthError::Missing)));
    }
}
