//! Free-form metadata on users: written whole on create and replace, merged key by key by a
//! patch, found by one key and value, bounded, cleared by erasure, and fed by DuEngage's
//! `CustomersMeta` keys that name no property.

use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::harness::{TestApp, problem};

async fn created(app: &TestApp, body: Value) -> Value {
    let response = app.post("/v1/users", &app.a.admin_key, body).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn patch(app: &TestApp, id: &str, body: Value) -> Response {
    app.request(Method::PATCH, &format!("/v1/users/{id}"), &app.a.admin_key)
        .header("content-type", "application/merge-patch+json")
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn ids_where(app: &TestApp, query: &str) -> Vec<String> {
    let response = app.get(&format!("/v1/users?{query}"), &app.a.admin_key).await;
    assert_eq!(response.status(), 200, "{query}");
    let page: Value = response.json().await.unwrap();
    page["data"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_owned()).collect()
}

async fn user(app: &TestApp, id: &str) -> Value {
    app.get(&format!("/v1/users/{id}"), &app.a.admin_key).await.json().await.unwrap()
}

/// The `changed_fields` of the `user.updated` events of a user, once there are `count`,
/// and the events' text. On PostgreSQL an event is read once every transaction older than
/// its own has ended, anywhere on the server: the feed is asked again until then.
async fn updates(app: &TestApp, id: &str, count: usize) -> (Vec<Value>, String) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let page: Value =
            app.get(&format!("/v1/events?resource_id={id}"), &app.a.admin_key).await.json().await.unwrap();
        let events = page["data"].as_array().unwrap();
        let changed: Vec<Value> = events
            .iter()
            .filter(|e| e["type"] == "user.updated")
            .map(|e| e["data"]["changed_fields"].clone())
            .collect();
        if changed.len() >= count || std::time::Instant::now() > deadline {
            return (changed, page.to_string());
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_round_trips_merges_per_key_and_is_found_by_one_key_and_value() {
    let app = TestApp::spawn().await;
    let first = created(&app, json!({"given_name": "A", "metadata": {"Branch": "CPT", "Tier": "gold", "n": 7}})).await;
    assert_eq!(first["metadata"], json!({"Branch": "CPT", "Tier": "gold", "n": "7"}));
    let id = first["id"].as_str().unwrap().to_owned();
    assert_eq!(user(&app, &id).await["metadata"], first["metadata"]);
    let second = created(&app, json!({"given_name": "B", "metadata": {"Branch": "JNB"}})).await;
    let other = second["id"].as_str().unwrap().to_owned();
    let bare = created(&app, json!({"given_name": "C"})).await;
    assert_eq!(bare["metadata"], json!({}));

    // Set one key, remove one, add one, keep the rest.
    let response = patch(&app, &id, json!({"metadata": {"Branch": "DUR", "Tier": null, "New": " spaced "}})).await;
    assert_eq!(response.status(), 200);
    let patched: Value = response.json().await.unwrap();
    assert_eq!(patched["metadata"], json!({"Branch": "DUR", "New": " spaced ", "n": "7"}));
    let (changed, text) = updates(&app, &id, 1).await;
    assert_eq!(changed, [json!(["metadata"])]);
    assert!(!text.contains("DUR") && !text.contains("spaced"), "metadata values in events: {text}");
    // A patch without metadata keeps it.
    let kept: Value = patch(&app, &id, json!({"family_name": "Z"})).await.json().await.unwrap();
    assert_eq!(kept["metadata"], patched["metadata"]);

    // Found by one key and value, exactly; the value as stored, space and all.
    assert_eq!(ids_where(&app, "metadata[Branch]=DUR").await, [id.as_str()]);
    assert_eq!(ids_where(&app, "metadata[Branch]=JNB").await, [other.as_str()]);
    assert_eq!(ids_where(&app, "metadata[New]=%20spaced%20").await, [id.as_str()]);
    assert!(ids_where(&app, "metadata[Branch]=dur").await.is_empty());
    assert!(ids_where(&app, "metadata[Tier]=gold").await.is_empty());
    assert_eq!(ids_where(&app, "metadata[Branch]=JNB&limit=1").await, [other.as_str()]);
    // Another merchant's users are never found.
    let b: Value = app.get("/v1/users?metadata[Branch]=DUR", &app.b.admin_key).await.json().await.unwrap();
    assert_eq!(b["data"], json!([]));

    // Replace writes it whole (not sent: none); `null` removes every key.
    let replaced = app
        .request(Method::PUT, &format!("/v1/users/{other}"), &app.a.admin_key)
        .json(&json!({"given_name": "B", "metadata": {"Zone": "7"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.json::<Value>().await.unwrap()["metadata"], json!({"Zone": "7"}));
    let cleared: Value = patch(&app, &id, json!({"metadata": null})).await.json().await.unwrap();
    assert_eq!(cleared["metadata"], json!({}));
    assert!(ids_where(&app, "metadata[Branch]=DUR").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_metadata_is_refused_by_key_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let key = &app.a.admin_key;
    let fifty: serde_json::Map<String, Value> = (0..50).map(|n| (format!("k{n}"), json!("v"))).collect();
    let mut fifty_one = fifty.clone();
    fifty_one.insert("k50".into(), json!("v"));
    let long_key = "k".repeat(41);
    for (metadata, field) in [
        (Value::Object(fifty_one.clone()), "metadata".to_owned()),
        (json!({long_key.clone(): "v"}), format!("metadata.{long_key}")),
        (json!({"Note": "n".repeat(501)}), "metadata.Note".to_owned()),
        (json!({"Note": "line\nbreak"}), "metadata.Note".to_owned()),
        (json!({"  ": "blank key"}), "metadata.  ".to_owned()),
    ] {
        let (status, body) = problem(app.post("/v1/users", key, json!({"metadata": metadata})).await).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["errors"][0]["field"], field, "{body}");
    }
    let (status, _) = problem(app.post("/v1/users", key, json!({"metadata": {"a": {"b": "c"}}})).await).await;
    assert_eq!(status, 400);
    let page: Value = app.get("/v1/users", key).await.json().await.unwrap();
    assert_eq!(page["data"], json!([]), "a refused create wrote a user");

    // A patch that would make 51 keys is refused, and the user stays as it was.
    let full = created(&app, json!({"metadata": fifty})).await;
    let id = full["id"].as_str().unwrap();
    let (status, body) = problem(patch(&app, id, json!({"metadata": {"k50": "v"}})).await).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (400, Some("metadata")), "{body}");
    let (status, _) = problem(patch(&app, id, json!({"metadata": {"k0": "x", "bad": "\u{7}"}})).await).await;
    assert_eq!(status, 400);
    let after = user(&app, id).await;
    assert_eq!(
        (after["version"].clone(), after["metadata"].clone()),
        (full["version"].clone(), full["metadata"].clone())
    );
    // Swapping one key for another stays within the bound.
    assert_eq!(patch(&app, id, json!({"metadata": {"k0": null, "k50": "v"}})).await.status(), 200);

    // The filter takes one metadata key, and no other keyed parameter.
    for query in ["metadata[a]=1&metadata[b]=2", "tags[a]=1", "metadata[a]=%01"] {
        let (status, body) = problem(app.get(&format!("/v1/users?{query}"), key).await).await;
        assert_eq!(status, 400, "{query}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_clears_metadata_from_the_users_row() {
    let app = TestApp::spawn().await;
    let user = created(&app, json!({"given_name": "E", "metadata": {"Branch": "erase-me-meta-value"}})).await;
    let id = user["id"].as_str().unwrap();
    let read =
        || app.db.raw_row("SELECT metadata FROM users WHERE id = ?1", "SELECT metadata FROM users WHERE id = $1", id);
    assert!(read().await[0].as_deref().is_some_and(|stored| stored.contains("erase-me-meta-value")));
    let response = app.request(Method::DELETE, &format!("/v1/users/{id}"), &app.a.admin_key).send().await.unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(read().await, [None]);
    assert!(ids_where(&app, "metadata[Branch]=erase-me-meta-value").await.is_empty());
}

async fn once_off(app: &TestApp, invoice: &str, customers_meta: Value) -> (u16, Value) {
    let body = json!({"Segment": "Retail", "FirstName": "Thandi", "LastName": "Nkosi", "InvoiceNumber": invoice,
        "AmountOutstanding": 10.5, "CurrenciesId": 1, "ChannelsId": 2, "CustomerUniqueIdentifier": "META-1",
        "CustomersMeta": customers_meta});
    let response = app.post("/onceoffpayment", &app.a.admin_key, body).await;
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duengage_customers_meta_sets_named_properties_typed_and_keeps_the_rest_as_metadata() {
    let app = TestApp::spawn().await;
    let key = &app.a.admin_key;
    for body in [json!({"name": "tier"}), json!({"name": "size", "value_type": "integer"})] {
        assert_eq!(app.post("/v1/properties", key, body).await.status(), 201);
    }
    let (status, body) = once_off(&app, "INV-M1", json!({"tier": "gold", "size": " 42 ", "Branch": "CPT"})).await;
    assert_eq!(status, 200, "{body}");
    let page: Value = app.get("/v1/users?customer_ref=META-1", key).await.json().await.unwrap();
    let debtor = &page["data"][0];
    let mut properties: Vec<(String, String)> = debtor["custom_properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap().into(), p["value"].as_str().unwrap().into()))
        .collect();
    properties.sort();
    assert_eq!(properties, [("size".to_owned(), "42".to_owned()), ("tier".to_owned(), "gold".to_owned())]);
    assert_eq!(debtor["metadata"], json!({"Branch": "CPT"}));

    // The same debtor again: its metadata keys are set, the others kept.
    let (status, _) = once_off(&app, "INV-M2", json!({"Region": "WC", "Branch": "JNB"})).await;
    assert_eq!(status, 200);
    let id = debtor["id"].as_str().unwrap();
    assert_eq!(user(&app, id).await["metadata"], json!({"Branch": "JNB", "Region": "WC"}));
    assert_eq!(ids_where(&app, "metadata[Region]=WC").await, [id.to_owned()]);

    // Refusals name the key as sent, and write nothing.
    for (meta, field) in
        [(json!({"size": "big"}), "CustomersMeta.size"), (json!({"Branch": "b".repeat(501)}), "CustomersMeta.Branch")]
    {
        let (status, body) = once_off(&app, "INV-M3", meta).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["ResponseStatus"]["Errors"][0]["FieldName"], field, "{body}");
    }
    let requests: Value = app.get("/v1/payment-requests?invoice_number=INV-M3", key).await.json().await.unwrap();
    assert_eq!(requests["data"], json!([]));
    assert_eq!(user(&app, id).await["metadata"], json!({"Branch": "JNB", "Region": "WC"}));

    // Convercus customProperties stay limited to defined properties.
    assert_eq!(app.post("/v1/interaction-points", key, json!({"id": "till", "name": "Till"})).await.status(), 201);
    let response = app
        .request(Method::POST, "/users", key)
        .header("interaction-id", "till")
        .json(&json!({"emailAddress": "c@example.com", "customProperties": [{"name": "Branch", "value": "CPT"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}
