//! Interaction points and custom property definitions through the native API.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestApp, problem};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interaction_points_are_registered_listed_and_deactivated() {
    let app = TestApp::spawn().await;
    let key = &app.a.admin_key;
    let created = app.post("/v1/interaction-points", key, json!({"id": "till-2", "name": "Second till"})).await;
    assert_eq!(created.status(), 201);
    let body: Value = created.json().await.unwrap();
    assert_eq!((body["id"].as_str(), body["active"].as_bool()), (Some("till-2"), Some(true)));
    app.post("/v1/interaction-points", key, json!({"id": "till-1", "name": "First till"})).await;

    let listed: Value = app.get("/v1/interaction-points", key).await.json().await.unwrap();
    let ids: Vec<&str> = listed["data"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["till-1", "till-2"]);

    let duplicate = app.post("/v1/interaction-points", key, json!({"id": "till-1", "name": "Again"})).await;
    assert_eq!(problem(duplicate).await.0, 409);

    let deactivated = app.request(Method::POST, "/v1/interaction-points/till-1/deactivate", key).send().await.unwrap();
    assert_eq!(deactivated.status(), 200);
    let one: Value = app.get("/v1/interaction-points/till-1", key).await.json().await.unwrap();
    assert_eq!(one["active"], false);
    assert_eq!(one["name"], "First till");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_interaction_points_are_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let key = &app.a.admin_key;
    let bad = [
        (json!({"id": "till 1", "name": "Till"}), "id", "format"),
        (json!({"id": "", "name": "Till"}), "id", "empty"),
        (json!({"id": "t".repeat(101), "name": "Till"}), "id", "too_long"),
        (json!({"id": "till-1", "name": "a\u{7}b"}), "name", "control_character"),
        (json!({"id": "till-1"}), "name", "required"),
        (json!({"id": "till-1", "name": "Till", "active": false}), "active", "unknown_field"),
        (json!({"id": 7, "name": "Till"}), "id", "invalid"),
    ];
    for (body, field, code) in bad {
        let (status, problem) = problem(app.post("/v1/interaction-points", key, body.clone()).await).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
        assert_eq!(problem["errors"][0]["code"], code, "{body}");
    }
    let malformed = app
        .request(Method::POST, "/v1/interaction-points", key)
        .header("content-type", "application/json")
        .body("{\"id\": \"till-1\", ")
        .send()
        .await
        .unwrap();
    let (status, body) = problem(malformed).await;
    assert_eq!((status, body["type"].as_str()), (400, Some("urn:clientele:problem:malformed")));
    let no_type = app.request(Method::POST, "/v1/interaction-points", key).body("{}").send().await.unwrap();
    assert_eq!(problem(no_type).await.0, 415);

    assert!(app.store().list_interaction_points(app.a.merchant.id).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn property_definitions_have_unique_active_names() {
    let app = TestApp::spawn().await;
    let key = &app.a.admin_key;
    let chosen = "9f7e8b6d-d029-4ae2-86b7-2f551b96c5bc";
    let created =
        app.post("/v1/properties", key, json!({"id": chosen, "name": "shoe size", "value_type": "integer"})).await;
    assert_eq!(created.status(), 201);
    let body: Value = created.json().await.unwrap();
    assert_eq!((body["id"].as_str(), body["value_type"].as_str()), (Some(chosen), Some("integer")));

    let defaulted: Value = app.post("/v1/properties", key, json!({"name": "nickname"})).await.json().await.unwrap();
    assert_eq!(defaulted["value_type"], "string");
    assert!(defaulted["id"].as_str().unwrap().parse::<uuid::Uuid>().is_ok());

    assert_eq!(problem(app.post("/v1/properties", key, json!({"name": "shoe size"})).await).await.0, 409);
    let (status, body) =
        problem(app.post("/v1/properties", key, json!({"name": "x", "value_type": "float", "id": "nope"})).await).await;
    assert_eq!(status, 400);
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["id", "value_type"]);

    let path = format!("/v1/properties/{chosen}/deactivate");
    assert_eq!(app.request(Method::POST, &path, key).send().await.unwrap().status(), 200);
    assert_eq!(app.post("/v1/properties", key, json!({"name": "shoe size"})).await.status(), 201);
    let listed: Value = app.get("/v1/properties", key).await.json().await.unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 3);
}
