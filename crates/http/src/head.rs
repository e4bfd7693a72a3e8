//! What every surface puts around its routes ([`guard`], or its own middleware around
//! [`check_head`], [`screen`] and [`fenced`]): limits on a request's head, the URI (its path
//! and query string) and the header section, refused in that surface's own format before any
//! credential is looked at or anything is read or written; the failed-authentication limit
//! of the client's address; and the credential fence.

use axum::extract::Request;
use axum::http::{HeaderMap, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use clientele_service::{Oversize, Refusal, fence};

use crate::address::screen;

/// The longest request URI (path and query string) accepted, in bytes.
pub const URI_LIMIT: usize = 8 * 1024;
/// The largest header section accepted, in bytes (each header's name and value, and four
/// bytes of separators).
pub const HEADERS_LIMIT: usize = 32 * 1024;

/// Checks a request's URI and headers against the limits.
pub fn check_head(uri: &Uri, headers: &HeaderMap) -> Result<(), Refusal> {
    if uri.path_and_query().map_or(0, |p| p.as_str().len()) > URI_LIMIT {
        return Err(Refusal::Oversize(Oversize::Uri { limit: URI_LIMIT }));
    }
    let size: usize = headers.iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum();
    if size > HEADERS_LIMIT {
        return Err(Refusal::Oversize(Oversize::Headers { limit: HEADERS_LIMIT }));
    }
    Ok(())
}

/// Middleware for a surface's routes, answering in the surface's error `E`: refuses an
/// oversize head, then an address over its failed-authentication budget ([`screen`]), then
/// runs the request inside a credential fence ([`fenced`]).
pub async fn guard<E>(request: Request, next: Next) -> Response
where
    E: From<Refusal> + IntoResponse,
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
pub async fn bounded<E>(request: Request, next: Next) -> Response
where
    E: From<Refusal> + IntoResponse,
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
pub async fn fenced(request: Request, next: Next, refuse: impl FnOnce(Refusal) -> Response) -> Response {
    fence::scope(async move {
        let response = next.run(request).await;
        match fence::confirm().await {
            Ok(()) => response,
            Err(error) => refuse(error.into()),
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
        assert!(check_head(&uri(URI_LIMIT - 20), &HeaderMap::new()).is_ok());
        assert!(matches!(check_head(&uri(URI_LIMIT), &HeaderMap::new()), Err(Refusal::Oversize(Oversize::Uri { .. }))));
        let mut headers = HeaderMap::new();
        headers.insert("x-a", HeaderValue::from_str(&"a".repeat(HEADERS_LIMIT / 2)).unwrap());
        assert!(check_head(&uri(1), &headers).is_ok());
        headers.insert("x-b", HeaderValue::from_str(&"b".repeat(HEADERS_LIMIT / 2)).unwrap());
        assert!(matches!(check_head(&uri(1), &headers), Err(Refusal::Oversize(Oversize::Headers { .. }))));
    }
}
