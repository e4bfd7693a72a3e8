//! The kit every surface is built with: the state a request reaches, authentication, the
//! extractors and wire types, the limits and middleware around every route, the [`Surface`]
//! trait, and the assembly of the app from the server's list of surfaces. It names no
//! surface: each is a crate of its own, the native API among them.

mod address;
mod auth;
mod docs;
mod extract;
mod head;
mod idempotency;
mod middleware;
mod openapi;
mod strict;
mod surface;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::response::Response;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

use clientele_service::{Refusal, Registry, StoreMetrics};

pub use address::{ClientAddress, screen};
pub use auth::{AuthHeaders, RateLimit, authenticate, challenge, charge, credential, etag, if_match};
pub use extract::{JsonBody, body_rejection, decode_json, field_message, is_json, parse_urlencoded};
pub use head::{HEADERS_LIMIT, URI_LIMIT, bounded, check_head, fenced, guard};
pub use idempotency::{IDEMPOTENCY_KEY, REPLAYED, idempotency_request, respond, stored_response};
pub use openapi::ApiDoc;
pub use surface::{ErrorBody, Surface, Tag};

/// How the app answers a refusal that no surface's route made (see [`Surface::render`]).
pub type Render = Arc<dyn Fn(Refusal) -> Response + Send + Sync>;

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

impl AppState {
    /// The process's metrics in the OpenMetrics text format.
    pub fn metrics_text(&self) -> Result<String, std::fmt::Error> {
        self.metrics.render()
    }
}

/// The whole HTTP application: every surface's routes, the OpenAPI document and its page,
/// and the middleware around all of them. The first surface answers what no route does.
pub fn app(
    registry: Registry,
    settings: &HttpSettings,
    store_metrics: &StoreMetrics,
    surfaces: Vec<Box<dyn Surface>>,
) -> Router {
    let metrics = Arc::new(middleware::Metrics::new(store_metrics));
    let addresses = Arc::new(address::AddressLimits::new(
        settings.auth_failure_limit,
        settings.public_rate_limit,
        settings.trust_forwarded_for,
    ));
    let limiter = auth::Limiter::new(settings.rate_limit);
    let state = AppState(Arc::new(Shared { registry, limiter, addresses, metrics }));
    let api = surfaces
        .iter()
        .fold(OpenApiRouter::with_openapi(ApiDoc::openapi()), |api, surface| api.merge(surface.router()));
    let tags: Vec<Tag> = surfaces.iter().flat_map(|surface| surface.tags()).collect();
    let (api, openapi) = api.split_for_parts();
    let openapi = openapi::complete(openapi, &tags);
    let surfaces: Arc<[Box<dyn Surface>]> = surfaces.into();
    let first = Arc::clone(&surfaces);
    let render: Render = Arc::new(move |refusal| match first.first() {
        Some(surface) => surface.render(refusal),
        None => axum::http::StatusCode::from_u16(refusal.status())
            .map_or_else(|_| Response::default(), axum::response::IntoResponse::into_response),
    });
    let unmatched = Arc::clone(&render);
    let router = api
        .merge(docs::router(&openapi, Arc::clone(&render)))
        .fallback(move || std::future::ready(unmatched(Refusal::NotFound)));
    let routed = middleware::wrap(router, state, settings, render);
    // Routing is by exact path, so a path a surface matches without regard to case is
    // rewritten to its route before the router sees it.
    let canonical = tower::ServiceBuilder::new().map_request(move |request| route_of(&surfaces, request));
    Router::new().fallback_service(canonical.service(routed))
}

/// `request`, sent to the route a surface says its path names.
fn route_of(surfaces: &[Box<dyn Surface>], mut request: axum::extract::Request) -> axum::extract::Request {
    let uri = request.uri();
    let Some(route) = surfaces.iter().find_map(|surface| surface.route_of(uri.path())) else { return request };
    if route == uri.path() {
        return request;
    }
    let path_and_query = match uri.query() {
        Some(query) => format!("{route}?{query}"),
        None => route.to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = axum::http::uri::PathAndQuery::try_from(path_and_query).ok();
    if let Ok(uri) = axum::http::Uri::from_parts(parts) {
        *request.uri_mut() = uri;
    }
    request
}
