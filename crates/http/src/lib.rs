//! Clientele's HTTP layer: the native `/v1` API, the one authentication layer every surface
//! uses, the operations endpoints (`/healthz`, `/readyz`, `/metrics`, `/openapi.json`,
//! `/docs`), and the middleware around all of them (request ids, logs, metrics, limits).

mod address;
mod auth;
mod docs;
mod error;
mod extract;
mod head;
mod idempotency;
mod middleware;
mod openapi;
mod ops;
mod routes;
mod strict;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use utoipa_axum::router::OpenApiRouter;

use clientele_service::Registry;
use clientele_store::StoreMetrics;

pub use address::{ClientAddress, screen};
pub use auth::{
    AuthFailure, AuthHeaders, Caller, RateLimit, authenticate, challenge, charge, credential, etag, if_match,
};
pub use error::{ApiError, Problem};
pub use extract::{BodyError, Json, JsonBody, Query, body_rejection, decode_json, is_json, parse_urlencoded};
pub use head::{HEADERS_LIMIT, HeadError, URI_LIMIT, check_head, fenced, guard};
pub use idempotency::{IDEMPOTENCY_KEY, REPLAYED, idempotency_request, respond, stored_response};
pub use openapi::ApiDoc;

/// Limits and policies of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// The largest request body accepted, in bytes; larger ones answer 413.
    pub body_limit: usize,
    /// How long a request may take before it is answered 503.
    pub request_timeout: Duration,
    /// The per-key rate limit; `None` for none.
    pub rate_limit: Option<RateLimit>,
    /// Failed authentications allowed per client address; `None` for no limit.
    pub auth_failure_limit: Option<RateLimit>,
    /// Requests per client address to the endpoints that need no credential (the logins
    /// and the public payment page); `None` for no limit.
    pub public_rate_limit: Option<RateLimit>,
    /// Take the client address from the last `X-Forwarded-For` hop instead of the peer: only
    /// behind a proxy that sets it.
    pub trust_forwarded_for: bool,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            body_limit: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            rate_limit: None,
            auth_failure_limit: None,
            public_rate_limit: None,
            trust_forwarded_for: false,
        }
    }
}

/// What every handler can reach, in one shared allocation: a request clones it several
/// times (each layer and extractor that takes the state), and each clone is then one count
/// on one cache line rather than one on each part's, which the cores would pass between them.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

/// The parts of [`AppState`].
#[derive(Debug)]
pub struct Shared {
    pub registry: Registry,
    limiter: auth::Limiter,
    addresses: Arc<address::AddressLimits>,
    metrics: Arc<middleware::Metrics>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The whole HTTP application: the native API, the vendor `surfaces` (each a router of its
/// own facade crate), the operations endpoints and the middleware around all of them.
pub fn app(
    registry: Registry,
    settings: &HttpSettings,
    store_metrics: &StoreMetrics,
    surfaces: Vec<OpenApiRouter<AppState>>,
) -> Router {
    let metrics = Arc::new(middleware::Metrics::new(store_metrics));
    let addresses = Arc::new(address::AddressLimits::new(
        settings.auth_failure_limit,
        settings.public_rate_limit,
        settings.trust_forwarded_for,
    ));
    let limiter = auth::Limiter::new(settings.rate_limit);
    let state = AppState(Arc::new(Shared { registry, limiter, addresses, metrics }));
    let native = routes::router()
        .route_layer(axum::middleware::from_fn(head::guard::<ApiError>))
        .merge(ops::router().route_layer(axum::middleware::from_fn(head::bounded::<ApiError>)));
    let api = surfaces.into_iter().fold(native, OpenApiRouter::merge);
    let (api, openapi) = api.split_for_parts();
    let openapi = openapi::complete(openapi);
    let router = api.merge(docs::router(&openapi)).fallback(|| async { ApiError::NotFound });
    middleware::wrap(router, state, settings)
}
