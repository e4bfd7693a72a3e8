//! `Idempotency-Key` on the wire: reading the key, fingerprinting the request it came
//! with, and sending an answer (fresh or repeated). The rules themselves live in the
//! service; every surface uses these helpers.

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest as _, Sha256};

use clientele_domain::{FieldError, Violation};
use clientele_service::{Answer, IdempotencyRequest, StoredResponse};

/// The request header carrying the key.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The answer header that marks a repeated answer.
pub const REPLAYED: &str = "idempotent-replayed";
const MAX_KEY: usize = 255;

/// The request's idempotency key, if it has one, with a fingerprint of the request: its
/// method, path and query, and body. The same key with another fingerprint is refused.
pub fn idempotency_request(
    headers: &HeaderMap,
    method: &Method,
    path_and_query: &str,
    body: &[u8],
) -> Result<Option<IdempotencyRequest>, FieldError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else { return Ok(None) };
    let invalid =
        || FieldError::new("Idempotency-Key", Violation::Format { expected: "1 to 255 visible ASCII characters" });
    let key = value.to_str().map_err(|_| invalid())?.trim();
    if key.is_empty() || key.len() > MAX_KEY || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid());
    }
    let mut digest = Sha256::new();
    digest.update(method.as_str().as_bytes());
    digest.update(b" ");
    digest.update(path_and_query.as_bytes());
    digest.update(b"\n");
    digest.update(body);
    Ok(Some(IdempotencyRequest { key: key.to_owned(), fingerprint: hex::encode(digest.finalize()) }))
}

/// Sends a stored answer; a repeated one says so in `Idempotent-Replayed: true`.
pub fn respond(answer: Answer) -> Response {
    let (stored, replayed) = match answer {
        Answer::Fresh(stored) => (stored, false),
        Answer::Replayed(stored) => (stored, true),
    };
    let mut response = stored_response(stored);
    if replayed {
        response.headers_mut().insert(REPLAYED, HeaderValue::from_static("true"));
    }
    response
}

/// An HTTP response from its stored form.
pub fn stored_response(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, stored.body).into_response();
    for (name, value) in stored.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(key: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(IDEMPOTENCY_KEY, HeaderValue::from_str(key).unwrap());
        headers
    }

    #[test]
    fn the_fingerprint_tells_requests_apart() {
        let fingerprint = |method: &Method, path: &str, body: &[u8]| {
            idempotency_request(&headers("k-1"), method, path, body).unwrap().unwrap().fingerprint
        };
        let base = fingerprint(&Method::POST, "/v1/users", b"{}");
        assert_eq!(base, fingerprint(&Method::POST, "/v1/users", b"{}"));
        assert_ne!(base, fingerprint(&Method::POST, "/v1/users", b"{ }"));
        assert_ne!(base, fingerprint(&Method::PATCH, "/v1/users", b"{}"));
        assert_ne!(base, fingerprint(&Method::POST, "/users", b"{}"));
    }

    #[test]
    fn keys_are_short_visible_ascii() {
        assert!(idempotency_request(&HeaderMap::new(), &Method::POST, "/", b"").unwrap().is_none());
        assert!(idempotency_request(&headers("a b"), &Method::POST, "/", b"").is_err());
        assert!(idempotency_request(&headers(&"k".repeat(256)), &Method::POST, "/", b"").is_err());
        assert!(idempotency_request(&headers("order-2026-11-21/0001"), &Method::POST, "/", b"").is_ok());
    }
}
