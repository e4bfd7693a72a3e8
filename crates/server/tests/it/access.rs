//! Roles, and the wall between merchants.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestApp, problem};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_reaches_only_what_it_allows() {
    let app = TestApp::spawn().await;
    let (_, readonly) = app.key_for_a("readonly").await;
    let (_, client) = app.key_for_a("client").await;
    let point = json!({"id": "till-1", "name": "Till"});

    // Reading settings: any merchant role.
    for key in [&readonly, &client, &app.a.admin_key] {
        assert_eq!(app.get("/v1/interaction-points", key).await.status(), 200);
        assert_eq!(app.get("/v1/merchant", key).await.status(), 200);
    }
    // Managing keys and settings: admin only.
    for key in [&readonly, &client] {
        let (status, body) = problem(app.post("/v1/interaction-points", key, point.clone()).await).await;
        assert_eq!((status, body["type"].as_str()), (403, Some("urn:clientele:problem:forbidden")));
        assert_eq!(problem(app.post("/v1/api-keys", key, json!({"role": "admin"})).await).await.0, 403);
        assert_eq!(problem(app.get("/v1/api-keys", key).await).await.0, 403);
        assert_eq!(problem(app.post("/v1/properties", key, json!({"name": "p"})).await).await.0, 403);
    }
    // Nothing was written by the refused calls.
    let points: Value = app.get("/v1/interaction-points", &readonly).await.json().await.unwrap();
    assert_eq!(points["data"], json!([]));
    assert_eq!(app.store().list_api_keys(app.a.merchant.id).await.unwrap().len(), 3);
    assert!(app.store().list_properties(app.a.merchant.id).await.unwrap().is_empty());

    // Merchants are the platform's: a merchant admin cannot create or list them, and a
    // platform key reaches no merchant's data.
    let new_merchant = json!({"number": "M-9", "name": "Nine"});
    assert_eq!(problem(app.post("/v1/merchants", &app.a.admin_key, new_merchant.clone()).await).await.0, 403);
    assert_eq!(problem(app.get("/v1/merchants", &app.a.admin_key).await).await.0, 403);
    assert_eq!(problem(app.get("/v1/merchant", &app.platform_key).await).await.0, 403);
    assert_eq!(problem(app.get("/v1/interaction-points", &app.platform_key).await).await.0, 403);
    assert_eq!(app.store().list_merchants().await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_key_creates_merchants_whose_first_key_is_an_admin() {
    let app = TestApp::spawn().await;
    let response = app.post("/v1/merchants", &app.platform_key, json!({"number": "M-9", "name": "Nine"})).await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(location, format!("/v1/merchants/{}", body["id"].as_str().unwrap()));
    assert_eq!(body["number"], "M-9");
    assert_eq!(body["api_key"]["role"], "admin");
    let key = body["api_key"]["api_key"].as_str().unwrap();
    app.secret(key);
    let own: Value = app.get("/v1/merchant", key).await.json().await.unwrap();
    assert_eq!(own["id"], body["id"]);
    assert_eq!(app.post("/v1/api-keys", key, json!({"role": "client"})).await.status(), 201);

    let duplicate = app.post("/v1/merchants", &app.platform_key, json!({"number": "M-9", "name": "Again"})).await;
    assert_eq!(problem(duplicate).await.0, 409);
    let invalid = app.post("/v1/merchants", &app.platform_key, json!({"number": "has space", "name": ""})).await;
    let (status, body) = problem(invalid).await;
    assert_eq!(status, 400);
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["number", "name"]);
    let listed: Value = app.get("/v1/merchants", &app.platform_key).await.json().await.unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merchant_b_reaches_nothing_of_merchant_a() {
    let app = TestApp::spawn().await;
    let a = &app.a.admin_key;
    let b = &app.b.admin_key;
    assert_eq!(app.post("/v1/interaction-points", a, json!({"id": "till-a", "name": "A's till"})).await.status(), 201);
    let property: Value = app.post("/v1/properties", a, json!({"name": "tier"})).await.json().await.unwrap();
    let property_id = property["id"].as_str().unwrap();
    let (a_key_id, a_key) = app.key_for_a("client").await;

    // B sees none of A's things in its lists...
    let points: Value = app.get("/v1/interaction-points", b).await.json().await.unwrap();
    assert_eq!(points["data"], json!([]));
    let properties: Value = app.get("/v1/properties", b).await.json().await.unwrap();
    assert_eq!(properties["data"], json!([]));
    let keys: Value = app.get("/v1/api-keys", b).await.json().await.unwrap();
    assert_eq!(keys["data"].as_array().unwrap().len(), 1);
    let own: Value = app.get("/v1/merchant", b).await.json().await.unwrap();
    assert_eq!(own["number"], "MERCHANT-B");

    // ...and A's things look exactly like missing ones.
    let missing_point = problem(app.get("/v1/interaction-points/no-such-till", b).await).await;
    let missing_key_id = uuid::Uuid::now_v7();
    let cases = [
        (Method::GET, "/v1/interaction-points/till-a".to_owned(), "/v1/interaction-points/no-such-till".to_owned()),
        (
            Method::POST,
            "/v1/interaction-points/till-a/deactivate".to_owned(),
            "/v1/interaction-points/no-such-till/deactivate".to_owned(),
        ),
        (
            Method::POST,
            format!("/v1/properties/{property_id}/deactivate"),
            format!("/v1/properties/{missing_key_id}/deactivate"),
        ),
        (Method::POST, format!("/v1/api-keys/{a_key_id}/revoke"), format!("/v1/api-keys/{missing_key_id}/revoke")),
    ];
    for (method, foreign, missing) in cases {
        let foreign_answer = problem(app.request(method.clone(), &foreign, b).send().await.unwrap()).await;
        let missing_answer = problem(app.request(method, &missing, b).send().await.unwrap()).await;
        assert_eq!(foreign_answer, missing_answer, "{foreign}");
        assert_eq!(foreign_answer.0, 404);
    }
    assert_eq!(missing_point.0, 404);

    // A's things are untouched.
    let point: Value = app.get("/v1/interaction-points/till-a", a).await.json().await.unwrap();
    assert_eq!(point["active"], true);
    let properties: Value = app.get("/v1/properties", a).await.json().await.unwrap();
    assert_eq!(properties["data"][0]["active"], true);
    assert_eq!(app.get("/v1/merchant", &a_key).await.status(), 200);
}

/// Every row of `api_keys` as text: each column's value, blobs as text and as hex.
async fn api_key_rows(db: &crate::harness::TestDb) -> Vec<String> {
    if db.is_postgres() {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url).await.unwrap();
        let rows = sqlx::query("SELECT to_jsonb(k)::text FROM api_keys k").fetch_all(&mut conn).await.unwrap();
        rows.iter().map(|row| sqlx::Row::get::<String, _>(row, 0)).collect()
    } else {
        let path = clientele_store_sqlite::path_from_url(&db.url).unwrap();
        let conn = rusqlite::Connection::open(path).unwrap();
        let mut statement = conn.prepare("SELECT * FROM api_keys").unwrap();
        let columns = statement.column_count();
        statement
            .query_map([], |row| {
                let mut text = String::new();
                for i in 0..columns {
                    match row.get::<_, rusqlite::types::Value>(i)? {
                        rusqlite::types::Value::Text(value) => text.push_str(&value),
                        rusqlite::types::Value::Blob(bytes) => {
                            text.push_str(&String::from_utf8_lossy(&bytes));
                            text.push_str(&bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
                        }
                        rusqlite::types::Value::Integer(value) => text.push_str(&value.to_string()),
                        rusqlite::types::Value::Real(value) => text.push_str(&value.to_string()),
                        rusqlite::types::Value::Null => {}
                    }
                    text.push('|');
                }
                Ok(text)
            })
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_holds_a_keys_digest_and_never_its_secret() {
    let app = TestApp::spawn().await;
    let mut secrets = vec![app.a.admin_key.clone(), app.b.admin_key.clone(), app.platform_key.clone()];
    for role in ["readonly", "client", "admin"] {
        secrets.push(app.key_for_a(role).await.1);
    }
    let created = app.post("/v1/merchants", &app.platform_key, json!({"number": "M-9", "name": "Nine"})).await;
    let created: Value = created.json().await.unwrap();
    let nine = created["api_key"]["api_key"].as_str().unwrap().to_owned();
    app.secret(&nine);
    secrets.push(nine);

    let rows = api_key_rows(&app.db).await;
    assert_eq!(rows.len(), secrets.len(), "{rows:?}");
    for secret in &secrets {
        // The key works, so this is the secret of a stored row...
        assert_ne!(app.get("/v1/merchant", secret).await.status(), 401);
        // ...whose digest is in exactly one row,
        let digest = clientele_domain::credential::ApiKeySecret::recognise(secret).unwrap().digest();
        assert_eq!(rows.iter().filter(|row| row.contains(digest.as_str())).count(), 1, "{secret:?}");
        // and no part of the secret past its displayed prefix is in any.
        let shown = clientele_domain::credential::ApiKeySecret::recognise(secret).unwrap().display_prefix();
        let hidden = &secret[shown.len()..];
        for window in hidden.as_bytes().windows(8) {
            let window = std::str::from_utf8(window).unwrap();
            assert!(rows.iter().all(|row| !row.contains(window)), "a part of a secret is stored: {window}");
        }
    }
}
