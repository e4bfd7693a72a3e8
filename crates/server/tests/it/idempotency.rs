//! `Idempotency-Key` and concurrent writes to one user.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestApp, problem};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_post_returns_the_first_answer_without_creating_again() {
    let app = TestApp::spawn().await;
    let key = &app.a.admin_key;
    let body = json!({"customer_ref": "ONCE", "email": "once@example.com"});
    let send =
        || app.request(Method::POST, "/v1/users", key).header("idempotency-key", "create-once-1").json(&body).send();
    let first = send().await.unwrap();
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let location = first.headers()["location"].clone();
    let first: Value = first.json().await.unwrap();
    let again = send().await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["location"], location);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let listed: Value = app.get("/v1/users", key).await.json().await.unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_concurrent_posts_with_one_key_create_one_user() {
    let app = TestApp::spawn().await;
    let key = app.a.admin_key.clone();
    let body = json!({"customer_ref": "RACE", "given_name": "Racer"});
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let request = app.request(Method::POST, "/v1/users", &key).header("idempotency-key", "race-2026").json(&body);
        requests.spawn(async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        });
    }
    let mut ids = Vec::new();
    while let Some(result) = requests.join_next().await {
        let (status, body) = result.unwrap();
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every answer names the same user");
    let listed: Value = app.get("/v1/users", &key).await.json().await.unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_reused_for_another_request_is_refused() {
    let app = TestApp::spawn().await;
    let key = &app.a.admin_key;
    let post = |body: Value| {
        app.request(Method::POST, "/v1/users", key).header("idempotency-key", "reused").json(&body).send()
    };
    assert_eq!(post(json!({"customer_ref": "ONE"})).await.unwrap().status(), 201);
    let (status, body) = problem(post(json!({"customer_ref": "TWO"})).await.unwrap()).await;
    assert_eq!((status, body["type"].as_str()), (422, Some("urn:clientele:problem:unprocessable")));
    let listed: Value = app.get("/v1/users?customer_ref=TWO", key).await.json().await.unwrap();
    assert_eq!(listed["data"], json!([]));
    // Keys belong to the merchant: merchant B may use the same one.
    let other = app
        .request(Method::POST, "/v1/users", &app.b.admin_key)
        .header("idempotency-key", "reused")
        .json(&json!({"customer_ref": "TWO"}))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_request_leaves_its_key_free_for_a_corrected_retry() {
    let app = TestApp::spawn().await;
    let key = &app.a.admin_key;
    app.post("/v1/users", key, json!({"customer_ref": "TAKEN"})).await;
    let post = |body: Value| {
        app.request(Method::POST, "/v1/users", key).header("idempotency-key", "retry-me").json(&body).send()
    };
    assert_eq!(problem(post(json!({"customer_ref": "TAKEN", "given_name": "B"})).await.unwrap()).await.0, 409);
    // The same request again is tried again (and fails again): the failure was not stored.
    assert_eq!(problem(post(json!({"customer_ref": "TAKEN", "given_name": "B"})).await.unwrap()).await.0, 409);
    let bad_key = app
        .request(Method::POST, "/v1/users", key)
        .header("idempotency-key", "has space")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let (status, body) = problem(bad_key).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (400, Some("Idempotency-Key")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_patch_is_applied_once() {
    let app = TestApp::spawn().await;
    let key = &app.a.admin_key;
    let user: Value = app.post("/v1/users", key, json!({"given_name": "Jack"})).await.json().await.unwrap();
    let path = format!("/v1/users/{}", user["id"].as_str().unwrap());
    let patch = || {
        app.request(Method::PATCH, &path, key)
            .header("idempotency-key", "patch-1")
            .json(&json!({"family_name": "Frost"}))
            .send()
    };
    let first: Value = patch().await.unwrap().json().await.unwrap();
    let again = patch().await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let read: Value = app.get(&path, key).await.json().await.unwrap();
    assert_eq!(read["version"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_patches_of_different_fields_both_land() {
    let app = TestApp::spawn().await;
    let key = app.a.admin_key.clone();
    let user: Value = app.post("/v1/users", &key, json!({"given_name": "Jack"})).await.json().await.unwrap();
    let path = format!("/v1/users/{}", user["id"].as_str().unwrap());
    let fields = ["given_name", "family_name", "passport_number", "national_id", "customer_ref", "gender"];
    let values = ["Jill", "Frost", "A1234567", "8001015009087", "REF-9", "FEMALE"];
    let mut patches = tokio::task::JoinSet::new();
    for (field, value) in fields.iter().zip(values) {
        let request = app.request(Method::PATCH, &path, &key).json(&json!({ *field: value }));
        patches.spawn(async move { request.send().await.unwrap().status().as_u16() });
    }
    while let Some(status) = patches.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
    let read: Value = app.get(&path, &key).await.json().await.unwrap();
    for (field, value) in fields.iter().zip(values) {
        assert_eq!(read[*field], value, "{field} was lost");
    }
    assert_eq!(read["version"], 1 + fields.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_purges_every_merchants_expired_keys_in_batches_and_keeps_the_rest() {
    let app = TestApp::spawn().await;
    let (lease, retention) = (time::Duration::seconds(60), time::Duration::hours(24));
    let two_days_ago = clientele_service::now() - time::Duration::days(2);
    let (a, b) = (app.a.merchant.id, app.b.merchant.id);
    for n in 0..7 {
        for merchant in [a, b] {
            let key = format!("old-{n}");
            let claim = app.store().claim_idempotency_key(merchant, &key, "f", two_days_ago, lease, retention);
            assert!(matches!(claim.await.unwrap(), clientele_store::IdempotencyClaim::Claimed(_)));
        }
    }
    let now = clientele_service::now();
    let claim = app.store().claim_idempotency_key(a, "fresh", "f", now, lease, retention).await.unwrap();
    assert!(matches!(claim, clientele_store::IdempotencyClaim::Claimed(_)));
    // Batches of three: both merchants' seven keys go, over several statements each.
    assert_eq!(app.registry.sweep_idempotency_keys(3).await.unwrap(), 14);
    assert_eq!(app.registry.sweep_idempotency_keys(3).await.unwrap(), 0);
    let fresh = app.store().claim_idempotency_key(a, "fresh", "f", now, lease, retention).await.unwrap();
    assert_eq!(fresh, clientele_store::IdempotencyClaim::InFlight, "a fresh key was purged");
    for merchant in [a, b] {
        let gone = app.store().purge_idempotency_keys(merchant, now - retention, 100).await.unwrap();
        assert_eq!(gone, 0);
    }
}
