//! What every surface puts around its routes ([`guard`], or its own middleware around
//! [`check_head`], [`screen`] and [`fenced`]): limits on a request's head, the URI (its path
//! and query string) and the header section, refused in that surface's own format before any
//! credential is looked at or anything is read or written; the failed-authentication limit
//! of the client's address; and the credential fence.

use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use clientele_store::{StoreError, fence};

use crate::address::screen;
use crate::auth::AuthFailure;

/// The longest request URI (path and query string) accepted, in bytes.
pub const URI_LIMIT: usize = 8 * 1024;
/// The largest header section accepted, in bytes (each header's name and value, and four
/// bytes of separators).
pub const HEADERS_LIMIT: usize = 32 * 1024;

/// Why a request's head was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    #[error("the request URI (path and query string) is longer than {URI_LIMIT} bytes")]
    UriTooLong,
    #[error("the request's headers are larger than {HEADERS_LIMIT} bytes")]
    HeadersTooLarge,
}

impl HeadError {
    /// 414 or 431.
    pub fn status(self) -> StatusCode {
        match self {
            HeadError::UriTooLong => StatusCode::URI_TOO_LONG,
            HeadError::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        }
    }
}

/// Checks a request's URI and headers against the limits.
pub fn check_head(uri: &Uri, headers: &HeaderMap) -> Result<(), HeadError> {
    if uri.path_and_query().map_or(0, |p| p.as_str().len()) > URI_LIMIT {
        return Err(HeadError::UriTooLong);
    }
    let size: usize = headers.iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum();
    if size > HEADERS_LIMIT {
        return Err(HeadError::HeadersTooLarge);
    }
    Ok(())
}

/// Middleware for a surface's routes, answering in the surface's error `E`: refuses an
/// oversize head, then an address over its failed-authentication budget ([`screen`]), then
/// runs the request inside a credential fence ([`fenced`]).
pub async fn guard<E>(request: Request, next: Next) -> Response
where
    E: From<HeadError> + From<StoreError> + From<AuthFailure> + IntoResponse,
{
    match check_head(request.uri(), request.headers()) {
        Ok(()) => {
            let run = |request| fenced(request, next, |error| E::from(error).into_response());
            screen(request, run, |failure| E::from(failure).into_response()).await
        }
        Err(error) => E::from(error).into_response(),
    }
}

/// Middleware for routes that take no credential at all (the operations endpoints): only
/// the limits on the request head.
pub(crate) async fn bounded<E>(request: Request, next: Next) -> Response
where
    E: From<HeadError> + IntoResponse,
{
    match check_head(request.uri(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(error) => E::from(error).into_response(),
    }
}

/// Runs a request inside a credential fence (see [`clientele_store::fence`]): a key taken
/// from the cache is checked by the request's own transactions, or, when it ran none, here
/// before its answer leaves. A key found revoked (or a failure to check it) is answered
/// with `refuse`, in the surface's format.
pub async fn fenced(request: Request, next: Next, refuse: impl FnOnce(StoreError) -> Response) -> Response {
    fence::scope(async move {
        let response = next.run(request).await;
        match fence::confirm().await {
            Ok(()) => response,
            Err(error) => refuse(error),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_uri_and_the_headers_are_measured() {
        let uri = |query_len: usize| format!("/v1/users?q={}", "q".repeat(query_len)).parse::<Uri>().unwrap();
        assert_eq!(check_head(&uri(URI_LIMIT - 20), &HeaderMap::new()), Ok(()));
        assert_eq!(check_head(&uri(URI_LIMIT), &HeaderMap::new()), Err(HeadError::UriTooLong));
        let mut headers = HeaderMap::new();
        headers.insert("x-a", HeaderValue::from_str(&"a".repeat(HEADERS_LIMIT / 2)).unwrap());
        assert_eq!(check_head(&uri(1), &headers), Ok(()));
        headers.insert("x-b", HeaderValue::from_str(&"b".repeat(HEADERS_LIMIT / 2)).unwrap());
        assert_eq!(check_head(&uri(1), &headers), Err(HeadError::HeadersTooLarge));
    }
}
