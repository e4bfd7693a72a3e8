//! The request body limit and the per-key rate limit.

use std::num::NonZeroU32;

use reqwest::Method;
use serde_json::{Value, json};

use clientele_http::RateLimit;

use crate::harness::{TestApp, default_settings, problem};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_413_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let name = "x".repeat(1024 * 1024 + 1);
    let response = app.post("/v1/interaction-points", &app.a.admin_key, json!({"id": "till-1", "name": name})).await;
    let (status, body) = problem(response).await;
    assert_eq!((status, body["type"].as_str()), (413, Some("urn:clientele:problem:payload-too-large")));
    assert!(app.store().list_interaction_points(app.a.merchant.id).await.unwrap().is_empty());

    // Just under the limit is read (and refused for its content, not its size).
    let name = "x".repeat(1024 * 1024 - 64);
    let response = app.post("/v1/interaction-points", &app.a.admin_key, json!({"id": "till-1", "name": name})).await;
    let (status, body) = problem(response).await;
    assert_eq!((status, body["errors"][0]["code"].as_str()), (400, Some("too_long")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_body_limit_is_configurable() {
    let mut settings = default_settings();
    settings.http.body_limit = 64;
    let app = TestApp::spawn_with(settings).await;
    let response =
        app.post("/v1/interaction-points", &app.a.admin_key, json!({"id": "till-1", "name": "n".repeat(80)})).await;
    assert_eq!(problem(response).await.0, 413);
    let response = app.post("/v1/interaction-points", &app.a.admin_key, json!({"id": "t", "name": "n"})).await;
    assert_eq!(response.status(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_over_its_rate_limit_is_told_when_to_retry() {
    let mut settings = default_settings();
    let one = NonZeroU32::MIN;
    settings.http.rate_limit = Some(RateLimit { per_second: one, burst: NonZeroU32::new(3).unwrap() });
    let app = TestApp::spawn_with(settings).await;
    for _ in 0..3 {
        assert_eq!(app.get("/v1/merchant", &app.a.admin_key).await.status(), 200);
    }
    let limited = app.get("/v1/merchant", &app.a.admin_key).await;
    let retry_after: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    let (status, body) = problem(limited).await;
    assert_eq!((status, body["type"].as_str()), (429, Some("urn:clientele:problem:rate-limited")));
    // The limit is per key: merchant B's key is not affected.
    assert_eq!(app.get("/v1/merchant", &app.b.admin_key).await.status(), 200);
    // A limited write is not carried out.
    let write = app
        .request(Method::POST, "/v1/interaction-points", &app.a.admin_key)
        .json(&json!({"id": "t", "name": "n"}))
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), 429);
    assert!(app.store().list_interaction_points(app.a.merchant.id).await.unwrap().is_empty());
}

/// Every surface tells a limited caller when to retry, in its own format.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_surface_answers_429_with_retry_after() {
    let calls: [(Method, &str, Option<serde_json::Value>); 5] = [
        (Method::GET, "/v1/merchant", None),
        (Method::GET, "/users/0192f5c4-0000-7000-8000-000000000000", None),
        (Method::GET, "/v1/realpay/MERCHANT-A/maintain/omni/users?Product=DEBIT&Email=nobody%40example.com", None),
        (Method::POST, "/api/v1/create-user", Some(json!({"customerId": "Z1"}))),
        (Method::POST, "/onceoffpayment", Some(json!({"Segment": "s"}))),
    ];
    for (method, path, body) in calls {
        let mut settings = default_settings();
        settings.http.rate_limit = Some(RateLimit { per_second: NonZeroU32::MIN, burst: NonZeroU32::MIN });
        let app = TestApp::spawn_with(settings).await;
        let send = || {
            let request = app.request(method.clone(), path, &app.a.admin_key).header("interaction-id", "till-1");
            match &body {
                Some(body) => request.json(body),
                None => request,
            }
        };
        // One request a second: the second of two quick ones is limited. A loaded machine can
        // leave a second between two requests, so send until one is.
        let mut limited = send().send().await.unwrap();
        for _ in 0..10 {
            if limited.status() == 429 {
                break;
            }
            limited = send().send().await.unwrap();
        }
        assert_eq!(limited.status(), 429, "{path}");
        let retry_after: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=2).contains(&retry_after), "{path}: {retry_after}");
        assert_surface_envelope(path, limited).await;
    }
}

/// Asserts that a 429 answer to `path` is in its surface's own error envelope, and says why.
pub async fn assert_surface_envelope(path: &str, response: reqwest::Response) {
    assert_eq!(response.status(), 429, "{path}");
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap_or_else(|e| panic!("{path}: not JSON: {e}"));
    let text = |value: &Value| value.as_str().map(str::to_owned).unwrap_or_default();
    if path.starts_with("/v1/realpay/") {
        // RealPay: the APIResponse envelope, FAILED, with the reason.
        assert_eq!(content_type, "application/json", "{path}");
        let envelope = &body["APIResponse"];
        assert_eq!(
            (envelope["Status"].as_str(), envelope["Version"].as_str()),
            (Some("FAILED"), Some("1.0.2")),
            "{body}"
        );
        assert!(envelope["CallSequence"].is_i64() && envelope["Name"].is_string(), "{body}");
        assert!(text(&envelope["Message"]).contains("retry"), "{body}");
    } else if path.starts_with("/users") || path == "/auth/login" {
        // Convercus: the Spring error body.
        assert_eq!(content_type, "application/json", "{path}");
        assert_eq!((body["status"].as_u64(), body["error"].as_str()), (Some(429), Some("Too Many Requests")), "{body}");
        assert!(body["timestamp"].is_string() && !text(&body["message"]).is_empty(), "{body}");
    } else if path == "/api/v1/create-user" {
        // The gateway: isSuccess false, errors keyed.
        assert_eq!(content_type, "application/json", "{path}");
        assert_eq!(body["isSuccess"], false, "{body}");
        assert_eq!(body["errors"][0]["key"], "TooManyRequests", "{body}");
        assert!(text(&body["errors"][0]["value"][0]).contains("retry"), "{body}");
    } else if path.starts_with("/onceoffpayment") {
        // DuEngage: ServiceStack's ResponseStatus, in the format asked for (JSON here).
        assert!(content_type.starts_with("application/json"), "{path}: {content_type}");
        let status = &body["ResponseStatus"];
        assert_eq!(status["ErrorCode"], "TooManyRequests", "{body}");
        assert!(text(&status["Message"]).contains("retry"), "{body}");
    } else {
        // Native: an RFC 9457 problem with its type URN.
        assert_eq!(content_type, "application/problem+json", "{path}");
        assert_eq!(
            (body["type"].as_str(), body["status"].as_u64()),
            (Some("urn:clientele:problem:rate-limited"), Some(429)),
            "{body}"
        );
        assert_eq!(body["title"], "Too many requests", "{body}");
    }
}
