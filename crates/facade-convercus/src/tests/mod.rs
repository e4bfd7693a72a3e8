//! The Convercus facade as a translator, without a server or a database: the vendor's
//! bodies in, the vendor's answers out, and its envelope around every refusal.

mod answers;
mod errors;
mod translation;

use std::future::Future as _;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use axum::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;

/// The id of the document's example user.
pub(crate) const USER_ID: &str = "dd820ab2-6833-4ee3-9add-7bebf4dadddd";

/// An answer's status, headers and body. Answers built here hold their body in memory, so
/// one poll of `to_bytes` reads it whole, and the tests need no runtime.
pub(crate) fn parts(response: Response) -> (StatusCode, HeaderMap, Vec<u8>) {
    let (head, body) = response.into_parts();
    let mut read = pin!(axum::body::to_bytes(body, usize::MAX));
    let Poll::Ready(bytes) = read.as_mut().poll(&mut Context::from_waker(Waker::noop())) else {
        panic!("an in-memory body is ready at once");
    };
    (head.status, head.headers, bytes.expect("the body is readable").to_vec())
}

/// An answer whose body is JSON.
pub(crate) fn json_parts(response: Response) -> (StatusCode, HeaderMap, Value) {
    let (status, headers, body) = parts(response);
    let value = serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&body)));
    (status, headers, value)
}

/// The headers of the authentication layer an answer must carry, and no other of them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AuthHeader {
    None,
    /// `WWW-Authenticate` with this challenge.
    Challenge(&'static str),
    /// `Retry-After` with these seconds.
    RetryAfter(&'static str),
}

impl AuthHeader {
    pub(crate) fn check(self, headers: &HeaderMap, label: &str) {
        let header = |name| headers.get(name).map(|v: &axum::http::HeaderValue| v.to_str().unwrap());
        let (challenge, retry) = match self {
            AuthHeader::None => (None, None),
            AuthHeader::Challenge(value) => (Some(value), None),
            AuthHeader::RetryAfter(seconds) => (None, Some(seconds)),
        };
        assert_eq!(header(WWW_AUTHENTICATE), challenge, "WWW-Authenticate of {label}");
        assert_eq!(header(RETRY_AFTER), retry, "Retry-After of {label}");
    }
}

/// The challenges of RFC 6750 the kit answers a 401 with.
pub(crate) const BARE_CHALLENGE: &str = r#"Bearer realm="clientele""#;
pub(crate) const INVALID_CHALLENGE: &str =
    r#"Bearer realm="clientele", error="invalid_token", error_description="the credential is not valid""#;
pub(crate) const EXPIRED_CHALLENGE: &str =
    r#"Bearer realm="clientele", error="invalid_token", error_description="the access token has expired""#;
