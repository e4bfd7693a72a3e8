//! Abuse: the RFC 6750 challenge on every 401, the limit on failed authentications per client
//! address, and the limit per address on the endpoints that need no credential.

use std::net::IpAddr;
use std::num::NonZeroU32;

use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};

use clientele_http::RateLimit;

use crate::harness::{TestApp, default_settings};

const BARE: &str = r#"Bearer realm="clientele""#;
const INVALID: &str =
    r#"Bearer realm="clientele", error="invalid_token", error_description="the credential is not valid""#;

/// A call of each surface that needs a credential: its method, path and body.
fn surfaces() -> [(Method, &'static str, Option<Value>); 5] {
    [
        (Method::GET, "/v1/merchant", None),
        (Method::GET, "/users/0192f5c4-0000-7000-8000-000000000000", None),
        (Method::GET, "/v1/realpay/MERCHANT-A/maintain/omni/users?Product=DEBIT&Email=nobody%40example.com", None),
        (Method::POST, "/api/v1/create-user", Some(json!({"customerId": "Z1"}))),
        (Method::POST, "/onceoffpayment", Some(json!({"Segment": "s"}))),
    ]
}

fn call(
    client: &reqwest::Client,
    app: &TestApp,
    (method, path, body): &(Method, &str, Option<Value>),
) -> RequestBuilder {
    let request = client.request(method.clone(), format!("{}{path}", app.url)).header("interaction-id", "till-1");
    match body {
        Some(body) => request.json(body),
        None => request,
    }
}

fn challenge(response: &Response) -> Option<String> {
    response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned())
}

/// A client whose connections come from another loopback address than the tests' default.
fn client_from(address: &str) -> reqwest::Client {
    reqwest::Client::builder().local_address(address.parse::<IpAddr>().ok()).build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_401_on_every_surface_challenges_as_rfc_6750_says() {
    let app = TestApp::spawn().await;
    let (revoked_id, revoked) = app.key_for_a("client").await;
    let revoke = app.post(&format!("/v1/api-keys/{revoked_id}/revoke"), &app.a.admin_key, json!({})).await;
    assert!(revoke.status().is_success(), "{}", revoke.status());
    let unknown = format!("clt_{}", "A".repeat(43));
    for surface in surfaces() {
        let path = surface.1;
        let none = call(&app.client, &app, &surface).send().await.unwrap();
        assert_eq!((none.status().as_u16(), challenge(&none).as_deref()), (401, Some(BARE)), "{path}: no credential");
        for (what, credential) in [("unknown", unknown.as_str()), ("revoked", revoked.as_str()), ("raw", "nonsense")] {
            let refused = call(&app.client, &app, &surface).header("authorization", credential).send().await.unwrap();
            assert_eq!(
                (refused.status().as_u16(), challenge(&refused).as_deref()),
                (401, Some(INVALID)),
                "{path}: {what} credential"
            );
        }
    }

    // The logins need no bearer token, so a refusal challenges without an error code; HTTP
    // Basic sent to the token endpoint is challenged for Basic (RFC 6749 §5.2).
    let login = json!({"org": "MERCHANT-A", "userName": revoked_id, "password": unknown});
    let refused = app.client.post(format!("{}/auth/login", app.url)).json(&login).send().await.unwrap();
    assert_eq!((refused.status().as_u16(), challenge(&refused).as_deref()), (401, Some(BARE)));
    let token = format!("{}/v1/auth/token", app.url);
    let refused = app.client.post(&token).json(&json!({"api_key": unknown})).send().await.unwrap();
    assert_eq!((refused.status().as_u16(), challenge(&refused).as_deref()), (401, Some(BARE)));
    let basic = app
        .client
        .post(&token)
        .basic_auth("id", Some(&unknown))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        (basic.status().as_u16(), challenge(&basic).as_deref()),
        (401, Some(r#"Basic realm="clientele", charset="UTF-8""#))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_that_keeps_failing_is_refused_on_every_surface_and_others_are_not() {
    let mut settings = default_settings();
    settings.http.auth_failure_limit =
        Some(RateLimit { per_second: NonZeroU32::MIN, burst: NonZeroU32::new(3).unwrap() });
    let app = TestApp::spawn_with(settings).await;
    let unknown = format!("Bearer clt_{}", "A".repeat(43));
    let merchant = |client: &reqwest::Client, credential: &str| {
        client.get(format!("{}/v1/merchant", app.url)).header("authorization", credential.to_owned()).send()
    };
    let valid = format!("Bearer {}", app.a.admin_key);
    // A legitimate client is not slowed before anyone fails.
    for _ in 0..10 {
        assert_eq!(merchant(&app.client, &valid).await.unwrap().status(), 200);
    }
    // Failures within the budget are answered 401; past it the address is refused.
    let mut failures = 0;
    let mut limited = merchant(&app.client, &unknown).await.unwrap();
    while limited.status() == 401 && failures < 20 {
        failures += 1;
        limited = merchant(&app.client, &unknown).await.unwrap();
    }
    assert_eq!(limited.status(), 429, "after {failures} failures");
    assert!(failures >= 3, "the burst allows 3 failures, refused after {failures}");
    // Even a valid key is refused from that address, on every surface, in its own format,
    // so that a guess that happens to be right tells nothing.
    let retry_after: u64 = {
        let refused = merchant(&app.client, &valid).await.unwrap();
        assert_eq!(refused.status(), 429);
        refused.headers()["retry-after"].to_str().unwrap().parse().unwrap()
    };
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    for surface in surfaces() {
        let refused = call(&app.client, &app, &surface).header("authorization", &valid).send().await.unwrap();
        assert_eq!(refused.status(), 429, "{}", surface.1);
        assert!(refused.headers().contains_key("retry-after"), "{}", surface.1);
        crate::limits::assert_surface_envelope(surface.1, refused).await;
    }
    // Another address is not affected: its valid key works and its failures are its own.
    let other = client_from("127.0.0.2");
    assert_eq!(merchant(&other, &valid).await.unwrap().status(), 200);
    assert_eq!(merchant(&other, &unknown).await.unwrap().status(), 401);
    // Once the address may fail again, its valid key works again.
    tokio::time::sleep(std::time::Duration::from_secs(retry_after)).await;
    assert_eq!(merchant(&app.client, &valid).await.unwrap().status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoints_that_need_no_credential_are_limited_per_address_in_their_own_format() {
    let mut settings = default_settings();
    settings.http.public_rate_limit =
        Some(RateLimit { per_second: NonZeroU32::MIN, burst: NonZeroU32::new(2).unwrap() });
    let app = TestApp::spawn_with(settings).await;
    let token = |client: &reqwest::Client| {
        client.post(format!("{}/v1/auth/token", app.url)).json(&json!({"api_key": app.a.admin_key})).send()
    };
    // X-Forwarded-For is not believed by default: it does not give the client a new budget.
    let spoofed = |client: &reqwest::Client, path: &str| {
        client.get(format!("{}{path}", app.url)).header("x-forwarded-for", "198.51.100.7").send()
    };
    let mut limited = token(&app.client).await.unwrap();
    for _ in 0..10 {
        if limited.status() == 429 {
            break;
        }
        assert_eq!(limited.status(), 200);
        limited = token(&app.client).await.unwrap();
    }
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    crate::limits::assert_surface_envelope("/v1/auth/token", limited).await;

    let login = json!({"org": "MERCHANT-A", "userName": "x", "password": "y"});
    let refused = app.client.post(format!("{}/auth/login", app.url)).json(&login).send().await.unwrap();
    assert_eq!(refused.status(), 429);
    crate::limits::assert_surface_envelope("/auth/login", refused).await;

    let page = spoofed(&app.client, "/pay/00000000000000000000000000000000").await.unwrap();
    assert_eq!(page.status(), 429);
    assert!(page.headers().contains_key("retry-after"));
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.text().await.unwrap().contains("Too many requests"));

    // Another address has its own budget; a keyed call from the limited one is not limited.
    let other = client_from("127.0.0.2");
    assert_eq!(token(&other).await.unwrap().status(), 200);
    assert_eq!(app.get("/v1/merchant", &app.a.admin_key).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_the_forwarded_address_has_the_budget() {
    let mut settings = default_settings();
    settings.http.public_rate_limit = Some(RateLimit { per_second: NonZeroU32::MIN, burst: NonZeroU32::MIN });
    settings.http.trust_forwarded_for = true;
    let app = TestApp::spawn_with(settings).await;
    let page = |forwarded: &str| {
        app.client
            .get(format!("{}/pay/00000000000000000000000000000000", app.url))
            .header("x-forwarded-for", forwarded.to_owned())
            .send()
    };
    let mut limited = page("203.0.113.1, 198.51.100.7").await.unwrap();
    for _ in 0..10 {
        if limited.status() == 429 {
            break;
        }
        limited = page("203.0.113.1, 198.51.100.7").await.unwrap();
    }
    assert_eq!(limited.status(), 429);
    // The proxy's hop names the client: another one is not limited, whatever it claims before.
    assert_eq!(page("198.51.100.7, 198.51.100.8").await.unwrap().status(), 404);
}
