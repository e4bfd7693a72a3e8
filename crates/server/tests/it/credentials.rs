//! Authentication: every way a credential can be presented, and every way it can be wrong.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestApp, problem};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_key_works_with_and_without_the_bearer_prefix() {
    let app = TestApp::spawn().await;
    let with_prefix = app.get("/v1/merchant", &app.a.admin_key).await;
    assert_eq!(with_prefix.status(), 200);
    let raw = app
        .client
        .get(format!("{}/v1/merchant", app.url))
        .header("Authorization", &app.a.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 200);
    let body: Value = raw.json().await.unwrap();
    assert_eq!(body["number"], "MERCHANT-A");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_token_exchange_gives_a_bearer_token_that_works_raw_too() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .post(format!("{}/v1/auth/token", app.url))
        .json(&json!({"api_key": app.a.admin_key}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap();
    app.secret(token);
    assert_eq!(app.get("/v1/merchant", token).await.status(), 200);
    let raw = app.client.get(format!("{}/v1/merchant", app.url)).header("Authorization", token).send().await.unwrap();
    assert_eq!(raw.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_work_in_the_form_and_in_http_basic() {
    let app = TestApp::spawn().await;
    let (key_id, key) = app.key_for_a("client").await;
    let url = format!("{}/v1/auth/token", app.url);

    let form = app
        .client
        .post(&url)
        .form(&[("grant_type", "client_credentials"), ("client_id", key_id.as_str()), ("client_secret", key.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    let token = form.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
    app.secret(&token);
    assert_eq!(app.get("/v1/interaction-points", &token).await.status(), 200);

    let basic = app
        .client
        .post(&url)
        .header("Authorization", format!("Basic {}", STANDARD.encode(format!("{key_id}:{key}"))))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 200);
    let token = basic.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
    app.secret(&token);
    assert_eq!(app.get("/v1/interaction-points", &token).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_exchange_refuses_bad_grants_and_bad_clients() {
    let app = TestApp::spawn().await;
    let url = format!("{}/v1/auth/token", app.url);
    let (_, key) = app.key_for_a("client").await;

    let wrong_grant =
        app.client.post(&url).form(&[("grant_type", "password"), ("client_secret", &key)]).send().await.unwrap();
    let (status, body) = problem(wrong_grant).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unsupported_grant_type")));

    let other_id = uuid::Uuid::new_v4().to_string();
    let wrong_id = app
        .client
        .post(&url)
        .form(&[("grant_type", "client_credentials"), ("client_id", &other_id), ("client_secret", &key)])
        .send()
        .await
        .unwrap();
    let (status, body) = problem(wrong_id).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));

    let unknown =
        app.client.post(&url).json(&json!({"api_key": format!("clt_{}", "A".repeat(43))})).send().await.unwrap();
    assert_eq!(problem(unknown).await.0, 401);

    let missing = app.client.post(&url).form(&[("grant_type", "client_credentials")]).send().await.unwrap();
    assert_eq!(problem(missing).await.0, 401);

    let text = app.client.post(&url).header("content-type", "text/plain").body(key.clone()).send().await.unwrap();
    assert_eq!(problem(text).await.0, 415);

    let extra = app.client.post(&url).json(&json!({"api_key": key, "role": "admin"})).send().await.unwrap();
    let (status, body) = problem(extra).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (400, Some("role")));
}

async fn assert_unauthenticated(app: &TestApp, authorization: Option<&str>) {
    let mut request = app.client.get(format!("{}/v1/merchant", app.url));
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    let response = request.send().await.unwrap();
    let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
    assert!(challenge.is_some_and(|c| c.starts_with(r#"Bearer realm="clientele""#)), "{authorization:?}");
    let (status, body) = problem(response).await;
    assert_eq!(status, 401, "{authorization:?}");
    assert_eq!(body["type"], "urn:clientele:problem:unauthenticated");
}

fn signed(app_key: &[u8], kid: &str, claims: &Value) -> String {
    let header = Header { kid: Some(kid.to_owned()), ..Header::new(Algorithm::HS256) };
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(app_key)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_malformed_expired_and_forged_credentials_are_401() {
    let app = TestApp::spawn().await;
    let token = app.token(&app.a.admin_key).await;
    let signing = app.signing_key().await;
    let key_id = app.store().list_api_keys(app.a.merchant.id).await.unwrap()[0].id.to_string();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();

    assert_unauthenticated(&app, None).await;
    assert_unauthenticated(&app, Some("")).await;
    assert_unauthenticated(&app, Some("Bearer ")).await;
    assert_unauthenticated(&app, Some("Bearer not-a-key")).await;
    assert_unauthenticated(&app, Some(&format!("Bearer clt_{}", "x".repeat(43)))).await;
    assert_unauthenticated(&app, Some(&format!("Basic {}", STANDARD.encode("a:b")))).await;
    assert_unauthenticated(&app, Some(&format!("Bearer {}x", app.a.admin_key))).await;

    // Expired: a real signature over a past expiry.
    let claims = json!({"iss": "clientele", "sub": key_id, "iat": now - 7200, "exp": now - 3600});
    assert_unauthenticated(&app, Some(&signed(&signing.secret, &signing.kid, &claims))).await;
    // Forged: the right kid, another secret.
    let claims = json!({"iss": "clientele", "sub": key_id, "iat": now, "exp": now + 3600});
    assert_unauthenticated(&app, Some(&signed(b"not the signing key", &signing.kid, &claims))).await;
    // Another issuer, though signed with the real key.
    let foreign = json!({"iss": "someone-else", "sub": key_id, "iat": now, "exp": now + 3600});
    assert_unauthenticated(&app, Some(&signed(&signing.secret, &signing.kid, &foreign))).await;
    // alg none, with and without a trailing signature.
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": signing.kid}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    assert_unauthenticated(&app, Some(&format!("{header}.{payload}."))).await;
    assert_unauthenticated(&app, Some(&format!("{header}.{payload}"))).await;
    // A real token whose payload was swapped for another key's.
    let (other_id, _) = app.key_for_a("admin").await;
    let parts: Vec<&str> = token.split('.').collect();
    let swapped = json!({"iss": "clientele", "sub": other_id, "iat": now, "exp": now + 3600});
    let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(swapped.to_string()), parts[2]);
    assert_unauthenticated(&app, Some(&tampered)).await;
    // The genuine token still works.
    assert_eq!(app.get("/v1/merchant", &token).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_key_and_its_tokens_are_refused_at_once() {
    let app = TestApp::spawn().await;
    let (id, key) = app.key_for_a("client").await;
    let token = app.token(&key).await;
    assert_eq!(app.get("/v1/interaction-points", &token).await.status(), 200);

    let revoked =
        app.request(Method::POST, &format!("/v1/api-keys/{id}/revoke"), &app.a.admin_key).send().await.unwrap();
    assert_eq!(revoked.status(), 200);
    let body: Value = revoked.json().await.unwrap();
    assert!(body["revoked_at"].is_string());
    assert!(body.get("api_key").is_none());

    assert_unauthenticated(&app, Some(&format!("Bearer {key}"))).await;
    assert_unauthenticated(&app, Some(&format!("Bearer {token}"))).await;
    let exchange =
        app.client.post(format!("{}/v1/auth/token", app.url)).json(&json!({"api_key": key})).send().await.unwrap();
    assert_eq!(problem(exchange).await.0, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_listed_without_their_secrets() {
    let app = TestApp::spawn().await;
    let (id, key) = app.key_for_a("readonly").await;
    let response = app.get("/v1/api-keys", &app.a.admin_key).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(!text.contains(&key));
    assert!(!text.contains(&app.a.admin_key));
    let body: Value = serde_json::from_str(&text).unwrap();
    let listed: Vec<&str> = body["data"].as_array().unwrap().iter().map(|k| k["id"].as_str().unwrap()).collect();
    assert_eq!(listed.len(), 2);
    assert!(listed.contains(&id.as_str()));
    assert_eq!(body["next_cursor"], Value::Null);
    assert!(body["data"][1]["prefix"].as_str().unwrap().starts_with("clt_"));
}
