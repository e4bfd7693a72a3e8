//! What wraps every request: a request id (taken from `x-request-id` or made, and echoed),
//! a log span without personal data, request metrics by route, the client's address (for
//! the limits by address), a timeout, a body limit, a
//! panic guard that still answers in the problem format, and `Connection: close` on a
//! refusal that leaves the request unread.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, CONNECTION};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use clientele_service::{Refusal, StoreMetrics};

use crate::{AppState, HttpSettings, Render};

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

fn latency_buckets() -> Histogram {
    // 50 µs to about 26 s.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 20))
}

/// The process's metrics: requests by route and status, and the store's timings.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RequestLabels, Histogram, fn() -> Histogram>,
}

impl Metrics {
    pub(crate) fn new(store: &StoreMetrics) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let durations = Family::<RequestLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_buckets);
        registry.register("clientele_http_requests", "HTTP requests answered", requests.clone());
        registry.register("clientele_http_request_duration_seconds", "Time to answer HTTP requests", durations.clone());
        store.register(&mut registry);
        Metrics { registry, requests, durations }
    }

    /// The metrics in the OpenMetrics text format.
    pub(crate) fn render(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

async fn observe(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = RequestLabels { method, route, status: response.status().as_u16() };
    metrics.requests.get_or_create(&labels).inc();
    metrics.durations.get_or_create(&labels).observe(started.elapsed().as_secs_f64());
    response
}

async fn timeout(State((limit, render)): State<(Duration, Render)>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => render(Refusal::Timeout),
    }
}

/// A request refused for its size (413, 414, 431) was not read to its end, so the server
/// closes the connection after the answer. Saying so lets the client open a new one for its
/// next request instead of sending it down a connection that is about to close.
async fn close_unread(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if matches!(
        response.status(),
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::URI_TOO_LONG | StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    ) {
        response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

fn request_span(request: &Request) -> tracing::Span {
    let request_id =
        request.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok()).unwrap_or_default();
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str);
    // The route pattern, never the URI: paths and query strings can carry personal data.
    tracing::info_span!(
        "request",
        request.id = %request_id,
        http.method = %request.method(),
        http.route = %route,
        key.id = tracing::field::Empty,
    )
}

/// Puts the middleware around `router` and gives it its state. What the middleware itself
/// refuses (a timeout, a handler that panicked) is answered with `render`.
pub(crate) fn wrap(router: Router<AppState>, state: AppState, settings: &HttpSettings, render: Render) -> Router {
    let on_panic = Arc::clone(&render);
    let panic_response =
        move |_: Box<dyn std::any::Any + Send + 'static>| on_panic(Refusal::internal("a handler panicked"));
    let layers = ServiceBuilder::new()
        .layer(SetSensitiveRequestHeadersLayer::new([AUTHORIZATION]))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                // Failures are logged once, where they are handled.
                .on_failure(()),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(middleware::from_fn(close_unread))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn_with_state(Arc::clone(&state.metrics), observe))
        .layer(middleware::from_fn_with_state(Arc::clone(&state.addresses), crate::address::identify))
        .layer(middleware::from_fn_with_state((settings.request_timeout, render), timeout))
        .layer(DefaultBodyLimit::max(settings.body_limit));
    router.layer(layers).with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use axum::routing::get;
    use tower::ServiceExt as _;

    #[tokio::test]
    async fn a_request_over_the_time_limit_answers_503_in_the_surface_format() {
        let render: Render = Arc::new(|refusal: Refusal| {
            let status = StatusCode::from_u16(refusal.status()).unwrap();
            (status, [("content-type", "application/problem+json")]).into_response()
        });
        let router: Router = Router::new()
            .route("/slow", get(|| async { tokio::time::sleep(Duration::from_secs(5)).await }))
            .route("/fast", get(|| async { "done" }))
            .layer(middleware::from_fn_with_state((Duration::from_millis(20), render), timeout));
        let slow = router.clone().oneshot(Request::get("/slow").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(slow.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(slow.headers()["content-type"], "application/problem+json");
        let fast = router.oneshot(Request::get("/fast").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(fast.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn a_body_refused_for_its_size_closes_the_connection_and_others_keep_it() {
        let router: Router = Router::new()
            .route("/echo", axum::routing::post(|body: axum::body::Bytes| async move { body }))
            .layer(middleware::from_fn(close_unread))
            .layer(DefaultBodyLimit::max(16));
        let post = |size: usize| Request::post("/echo").body(Body::from(vec![b'x'; size])).unwrap();
        let refused = router.clone().oneshot(post(17)).await.unwrap();
        assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(refused.headers()["connection"], "close");
        let accepted = router.oneshot(post(16)).await.unwrap();
        assert_eq!(accepted.status(), StatusCode::OK);
        assert!(accepted.headers().get("connection").is_none());
    }
}
