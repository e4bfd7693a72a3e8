//! Debit-order contracts through the native API.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestApp, problem};

fn terms() -> Value {
    json!({"contract_number": "C1603", "instalment_amount": 123.45, "number_of_instalments": 3,
        "instalment_start": "2025-01-01 08:00", "tracking_code": "00", "frequency_code": "MNTH", "collection_day": 31})
}

async fn user(app: &TestApp) -> String {
    let created: Value =
        app.post("/v1/users", &app.a.admin_key, json!({"customer_ref": "C-1"})).await.json().await.unwrap();
    created["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contract_is_created_changed_scheduled_and_cancelled() {
    let app = TestApp::spawn().await;
    let key = &app.a.admin_key;
    let user = user(&app).await;
    let response = app.post(&format!("/v1/users/{user}/contracts"), key, terms()).await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let contract: Value = response.json().await.unwrap();
    assert_eq!(contract["instalment_amount"], "123.45");
    assert_eq!(contract["status"], "active");
    assert_eq!(app.get(&location, key).await.json::<Value>().await.unwrap(), contract);

    let schedule: Value = app.get(&format!("{location}/schedule"), key).await.json().await.unwrap();
    assert_eq!(schedule["total"], "370.35");
    let dates: Vec<&str> =
        schedule["collections"].as_array().unwrap().iter().map(|c| c["date"].as_str().unwrap()).collect();
    assert_eq!(dates, vec!["2025-01-31", "2025-02-28", "2025-03-31"]);

    // A change is checked with the other terms: a weekly contract's collection day is a weekday.
    let refused =
        app.request(Method::PATCH, &location, key).json(&json!({"frequency_code": "WEEK"})).send().await.unwrap();
    let (status, body) = problem(refused).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (400, Some("collection_day")));
    let changed = app
        .request(Method::PATCH, &location, key)
        .json(&json!({"frequency_code": "WEEK", "collection_day": 5, "instalment_amount": "10"}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(
        (changed["frequency_code"].as_str(), changed["instalment_amount"].as_str(), changed["version"].as_i64()),
        (Some("WEEK"), Some("10.00"), Some(2))
    );
    let stale = app
        .request(Method::PATCH, &location, key)
        .header("if-match", "\"1\"")
        .json(&json!({"tracking_code": "1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(stale).await.0, 412);
    let number =
        app.request(Method::PATCH, &location, key).json(&json!({"contract_number": "X"})).send().await.unwrap();
    assert_eq!(problem(number).await.0, 400);

    let cancelled: Value =
        app.request(Method::POST, &format!("{location}/cancel"), key).send().await.unwrap().json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    let again = app.request(Method::POST, &format!("{location}/cancel"), key).send().await.unwrap();
    assert_eq!(again.json::<Value>().await.unwrap()["version"], cancelled["version"]);
    let frozen = app.request(Method::PATCH, &location, key).json(&json!({"tracking_code": "1"})).send().await.unwrap();
    assert_eq!(problem(frozen).await.0, 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_terms_are_each_named_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let key = &app.a.admin_key;
    let user = user(&app).await;
    let path = format!("/v1/users/{user}/contracts");
    let mut bad = terms();
    bad["contract_number"] = json!("C-1603-TOO-LONG-NUMBER");
    bad["instalment_amount"] = json!(1.005);
    bad["number_of_instalments"] = json!(0);
    bad["instalment_start"] = json!("YYYY-MM-DD HH24:MI");
    bad["tracking_code"] = json!("12345");
    bad["frequency_code"] = json!("DAILY");
    let (status, body) = problem(app.post(&path, key, bad).await).await;
    assert_eq!(status, 400);
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(
        fields,
        vec![
            "contract_number",
            "instalment_amount",
            "number_of_instalments",
            "instalment_start",
            "tracking_code",
            "frequency_code"
        ]
    );
    assert!(body["errors"][3]["message"].as_str().unwrap().contains("YYYY-MM-DD HH24:MI"));
    let mut adhoc = terms();
    adhoc["frequency_code"] = json!("ADHO");
    assert_eq!(problem(app.post(&path, key, adhoc).await).await.1["errors"][0]["field"], "number_of_instalments");
    let listed: Value = app.get(&path, key).await.json().await.unwrap();
    assert_eq!(listed["data"], json!([]));

    assert_eq!(app.post(&path, key, terms()).await.status(), 201);
    assert_eq!(problem(app.post(&path, key, terms()).await).await.0, 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contracts_outlive_erasure_and_stay_in_their_merchant() {
    let app = TestApp::spawn().await;
    let key = &app.a.admin_key;
    let user = user(&app).await;
    let contract: Value = app.post(&format!("/v1/users/{user}/contracts"), key, terms()).await.json().await.unwrap();
    let location = format!("/v1/contracts/{}", contract["id"].as_str().unwrap());
    let b = &app.b.admin_key;
    assert_eq!(problem(app.get(&location, b).await).await.0, 404);
    assert_eq!(problem(app.get(&format!("{location}/schedule"), b).await).await.0, 404);
    assert_eq!(problem(app.request(Method::POST, &format!("{location}/cancel"), b).send().await.unwrap()).await.0, 404);
    assert_eq!(problem(app.post(&format!("/v1/users/{user}/contracts"), b, terms()).await).await.0, 404);

    assert_eq!(app.request(Method::DELETE, &format!("/v1/users/{user}"), key).send().await.unwrap().status(), 204);
    let kept: Value = app.get(&location, key).await.json().await.unwrap();
    assert_eq!((kept["contract_number"].as_str(), kept["instalment_amount"].as_str()), (Some("C1603"), Some("123.45")));
    assert_eq!(problem(app.get(&format!("/v1/users/{user}/contracts"), key).await).await.0, 404);
}
