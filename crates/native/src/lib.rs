//! The native `/v1` API: RFC 9457 problem documents, cursor pages, `ETag` and `If-Match`,
//! `Idempotency-Key`, strict bodies. One surface among five, built with the kit like the
//! others, with the operations endpoints (`/healthz`, `/readyz`, `/metrics`).

mod error;
mod extract;
mod ops;
mod routes;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse as _, Response};
use utoipa_axum::router::OpenApiRouter;

use clientele_http::{ErrorBody, Surface, Tag};
use clientele_service::{Principal, Refusal};

pub(crate) use clientele_http::{AppState, ClientAddress, etag, if_match, wire};
pub use error::{ApiError, Problem};

/// The kit's helpers for idempotent requests, as the routes use them.
pub(crate) mod idempotency {
    use axum::http::{HeaderMap, Method, Uri};
    pub(crate) use clientele_http::respond;
    use clientele_service::IdempotencyRequest;

    use crate::ApiError;

    /// The request's `Idempotency-Key`, if it sent one, with the fingerprint of its method,
    /// path with query, and body.
    pub(crate) fn idempotency(
        headers: &HeaderMap,
        method: &Method,
        uri: &Uri,
        body: &[u8],
    ) -> Result<Option<IdempotencyRequest>, ApiError> {
        let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
        Ok(clientele_http::idempotency_request(headers, method, path, body)?)
    }
}

/// Writes a user as the native API answers it (`GET /v1/users/{id}`) into `out`. Public
/// only for the micro-benchmark of that answer (`benches/answer.rs`), which cannot reach the
/// crate's own view otherwise.
#[doc(hidden)]
pub fn write_user_answer(user: &clientele_domain::user::User, out: &mut Vec<u8>) -> serde_json::Result<()> {
    serde_json::to_writer(out, &routes::users::view::UserView::from(user))
}

/// The native API.
#[derive(Debug, Clone, Copy, Default)]
pub struct Native;

/// How every native operation answers a refusal.
const PROBLEM: Option<ErrorBody> = Some(ErrorBody { content_type: "application/problem+json", schema: "Problem" });

const fn tag(name: &'static str, description: &'static str) -> Tag {
    Tag { name, description, errors: PROBLEM, rate_limited: true }
}

impl Surface for Native {
    fn router(&self) -> OpenApiRouter<AppState> {
        routes::router()
            .route_layer(axum::middleware::from_fn(clientele_http::guard::<ApiError>))
            .merge(ops::router().route_layer(axum::middleware::from_fn(clientele_http::bounded::<ApiError>)))
    }

    fn tags(&self) -> Vec<Tag> {
        vec![
            tag("auth", "Exchanging API keys for access tokens"),
            tag("merchants", "Merchants (tenants) and the platform's view of them"),
            tag("api-keys", "A merchant's API keys"),
            tag("interaction-points", "Registered tills, shops and channels"),
            tag("properties", "Custom property definitions"),
            tag("users", "The registry's users (customers)"),
            tag("contracts", "Debit-order contracts and their derived schedules"),
            tag("payment-requests", "Once-off payment requests and their public links"),
            tag("points", "The loyalty points ledger: earn, spend, adjust, reverse; balances and entries"),
            tag("events", "The event feed: every change, oldest first, never skipped"),
            tag("webhooks", "Webhook endpoints, signed deliveries (Standard Webhooks) and their attempts"),
            Tag { name: "operations", description: "Health, readiness and metrics", errors: None, rate_limited: false },
        ]
    }

    fn render(&self, refusal: Refusal) -> Response {
        ApiError::from(refusal).into_response()
    }
}

/// The authenticated caller of a native request.
#[derive(Debug, Clone, Copy)]
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Caller(clientele_http::authenticate(state, &parts.headers).await?))
    }
}
