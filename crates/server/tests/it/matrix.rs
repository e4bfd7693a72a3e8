//! The access matrix, derived from the server's own OpenAPI document so that no route can
//! be left out of it: every operation that needs a credential is refused for none, a forged,
//! expired or `alg: none` token and a revoked key (401); a read-only key writing, a client
//! key on an admin's operation, a merchant's admin on the platform's and the platform key on
//! any merchant's get 403; merchant B's key on merchant A's resources gets exactly what a
//! missing one gets.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::TestApp;

/// Operations whose tag SPEC §2 reserves to a merchant's `admin` ("manages its merchant's
/// keys, interaction points, property definitions and webhooks"): every one for keys, the
/// writes for the others. The document must say the same ("Not an admin key").
const ADMIN_TAGS: &[&str] = &["api-keys", "webhooks"];
const ADMIN_WRITE_TAGS: &[&str] = &["interaction-points", "properties"];

/// One operation of the document, as the matrix calls it.
#[derive(Debug, Clone)]
struct Call {
    method: Method,
    /// The document's path template (`/v1/users/{id}`).
    path: String,
    /// A body the operation's schema accepts, and its content type.
    body: Option<(String, Value)>,
    writes: bool,
    admin_only: bool,
    platform_only: bool,
}

/// Every operation of the server's document that declares a credential.
async fn calls(app: &TestApp) -> Vec<Call> {
    let document: Value =
        app.client.get(format!("{}/openapi.json", app.url)).send().await.unwrap().json().await.unwrap();
    let mut calls = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else { continue };
            if !matches!(method, Method::GET | Method::POST | Method::PUT | Method::PATCH | Method::DELETE) {
                continue;
            }
            let security = operation.get("security").or(document.get("security"));
            if security.is_none_or(|s| s == &json!([]) || s == &json!([{}])) {
                continue;
            }
            let forbidden = operation["responses"]["403"]["description"].as_str().unwrap_or_default();
            let tag = operation["tags"][0].as_str().unwrap_or_default();
            let writes = method != Method::GET;
            let admin_only = ADMIN_TAGS.contains(&tag) || (writes && ADMIN_WRITE_TAGS.contains(&tag));
            let name = format!("{method} {path}");
            let documented_admin = forbidden == "Not an admin key";
            // The merchant's settings (PATCH /v1/merchant, its payment page) are an admin's
            // too, by their document.
            let settings = ["PATCH /v1/merchant", "PUT /v1/merchant/payment-page"].contains(&name.as_str());
            assert!(
                admin_only == documented_admin || (documented_admin && settings),
                "{name}: the document's 403 ({forbidden:?}) and SPEC's roles disagree on whether it is an admin's"
            );
            let body = operation.get("requestBody").map(|body| {
                let (content_type, content) = body["content"].as_object().unwrap().iter().next().unwrap();
                (content_type.clone(), example(&document, &content["schema"]))
            });
            calls.push(Call {
                method,
                path: path.clone(),
                body,
                writes,
                admin_only: documented_admin,
                platform_only: forbidden == "Not a platform key",
            });
        }
    }
    assert!(calls.len() >= 40, "only {} operations in the document", calls.len());
    calls
}

/// A value the schema accepts: its example, or one built from its type (objects with their
/// required members only).
fn example(document: &Value, schema: &Value) -> Value {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return example(document, &document["components"]["schemas"][name]);
    }
    if let Some(value) = schema.get("example") {
        return value.clone();
    }
    if let Some(first) = ["oneOf", "anyOf", "allOf"].iter().find_map(|k| schema[*k].as_array().and_then(|a| a.first()))
    {
        return example(document, first);
    }
    if let Some(first) = schema["enum"].as_array().and_then(|values| values.first()) {
        return first.clone();
    }
    let kind = match &schema["type"] {
        Value::Array(kinds) => kinds.iter().find(|k| *k != "null").cloned().unwrap_or(Value::Null),
        kind => kind.clone(),
    };
    match kind.as_str() {
        Some("object") => {
            let mut object = serde_json::Map::new();
            for name in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                object.insert(name.to_owned(), example(document, &schema["properties"][name]));
            }
            Value::Object(object)
        }
        Some("array") if schema["minItems"].as_u64().unwrap_or(0) > 0 => json!([example(document, &schema["items"])]),
        Some("array") => json!([]),
        Some("integer" | "number") => json!(schema["minimum"].as_i64().unwrap_or(1)),
        Some("boolean") => json!(true),
        Some("string") => json!("x"),
        _ => json!({}),
    }
}

/// Merchant A's resources, by the path parameters that name them.
struct Fixture {
    user: String,
    contract: String,
    payment: String,
    /// A key of A's for the revocation operation (the matrix revokes nothing else).
    key: String,
    point: String,
    property: String,
    webhook: String,
    delivery: String,
    points_entry: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    let key = &app.a.admin_key;
    app.post("/v1/interaction-points", key, json!({"id": "till-1", "name": "Till"})).await;
    app.post("/v1/interaction-points", key, json!({"id": "till-a", "name": "A's own till"})).await;
    app.post("/v1/interaction-points", &app.b.admin_key, json!({"id": "till-1", "name": "Till"})).await;
    // The properties the document's examples name, for both merchants, so that the example
    // bodies are valid and a refusal is the credential's.
    for merchant in [key, &app.b.admin_key] {
        app.post("/v1/properties", merchant, json!({"name": "shoe size", "value_type": "string"})).await;
        let example = json!({"name": "exampleCustomProperty 1", "value_type": "string",
            "id": "9f7e8b6d-d029-4ae2-86b7-2f551b96c5bc"});
        app.post("/v1/properties", merchant, example).await;
    }
    let user: Value = app
        .post("/v1/users", key, json!({"customer_ref": "M1", "email": "m1@example.com"}))
        .await
        .json()
        .await
        .unwrap();
    let user = user["id"].as_str().unwrap().to_owned();
    let terms = json!({"contract_number": "M1", "instalment_amount": "10", "number_of_instalments": 1,
        "instalment_start": "2026-01-05 08:00", "tracking_code": "00", "frequency_code": "MNTH", "collection_day": 5});
    let contract: Value = app.post(&format!("/v1/users/{user}/contracts"), key, terms).await.json().await.unwrap();
    let payment = json!({"customer": {"customer_ref": "M1"}, "invoice_number": "M1", "segment": "s",
        "amount_outstanding": "1", "currency": "ZAR", "channel": "web"});
    let payment: Value = app.post("/v1/payment-requests", key, payment).await.json().await.unwrap();
    let property: Value = app.post("/v1/properties", key, json!({"name": "tier"})).await.json().await.unwrap();
    let (spare, _) = app.key_for_a("readonly").await;
    let hook = json!({"url": "https://example.com/hook", "event_types": ["webhook_endpoint.disabled"]});
    let webhook: Value = app.post("/v1/webhook-endpoints", key, hook).await.json().await.unwrap();
    app.secret(webhook["secret"].as_str().unwrap());
    let earned: Value = app
        .post(&format!("/v1/users/{user}/points"), key, json!({"kind": "earn", "points": 1000}))
        .await
        .json()
        .await
        .unwrap();
    Fixture {
        user,
        contract: contract["id"].as_str().unwrap().to_owned(),
        payment: payment["id"].as_str().unwrap().to_owned(),
        key: spare,
        point: "till-a".to_owned(),
        property: property["id"].as_str().unwrap().to_owned(),
        webhook: webhook["id"].as_str().unwrap().to_owned(),
        // The endpoint takes no event yet: a delivery of it that does not exist.
        delivery: uuid::Uuid::now_v7().to_string(),
        points_entry: earned["id"].as_str().unwrap().to_owned(),
    }
}

/// The fixture's resources that do not exist.
fn missing() -> Fixture {
    let id = || uuid::Uuid::now_v7().to_string();
    Fixture {
        user: id(),
        contract: id(),
        payment: id(),
        key: id(),
        point: "no-such-till".to_owned(),
        property: id(),
        webhook: id(),
        delivery: id(),
        points_entry: id(),
    }
}

/// The path of an operation with its parameters filled in from `fixture`. A parameter the
/// matrix does not know fails the test: a new route must be given its resource here.
fn fill(path: &str, fixture: &Fixture) -> String {
    let resource = |template: &str| -> &str {
        let base = template.split('{').next().unwrap_or_default();
        match base {
            "/v1/users/" | "/users/" => &fixture.user,
            "/v1/contracts/" => &fixture.contract,
            "/v1/payment-requests/" => &fixture.payment,
            "/v1/api-keys/" => &fixture.key,
            "/v1/interaction-points/" => &fixture.point,
            "/v1/properties/" => &fixture.property,
            "/v1/realpay/" => "MERCHANT-A",
            "/v1/webhook-endpoints/" => &fixture.webhook,
            "/deliveries/" => &fixture.delivery,
            "/v1/points-entries/" => &fixture.points_entry,
            _ => panic!("the access matrix does not know what {template} names: add it to `fill`"),
        }
    };
    let Some(open) = path.find('{') else { return path.to_owned() };
    let close = path[open..].find('}').unwrap() + open;
    format!("{}{}{}", &path[..open], resource(path), fill(&path[close + 1..], fixture))
}

async fn send(app: &TestApp, call: &Call, path: &str, authorization: Option<&str>) -> (u16, String) {
    let mut request =
        app.client.request(call.method.clone(), format!("{}{path}", app.url)).header("interaction-id", "till-1");
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    if let Some((content_type, body)) = &call.body {
        request = request.header("content-type", content_type).body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    (status, body)
}

/// A reading of everything the calls could change, to show the refused calls changed nothing.
async fn snapshot(app: &TestApp, fixture: &Fixture) -> Vec<String> {
    let key = &app.a.admin_key;
    let mut seen = Vec::new();
    for path in [
        "/v1/users?limit=100".to_owned(),
        format!("/v1/users/{}/contracts", fixture.user),
        format!("/v1/contracts/{}", fixture.contract),
        "/v1/payment-requests?limit=100".to_owned(),
        "/v1/interaction-points".to_owned(),
        "/v1/properties".to_owned(),
        "/v1/api-keys".to_owned(),
        "/v1/merchant".to_owned(),
        "/v1/webhook-endpoints".to_owned(),
    ] {
        seen.push(app.get(&path, key).await.text().await.unwrap());
    }
    seen.push(app.get("/v1/merchants", &app.platform_key).await.text().await.unwrap());
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_of_the_document_refuses_every_credential_it_does_not_allow() {
    let app = TestApp::spawn().await;
    let fixture = fixture(&app).await;
    let calls = calls(&app).await;
    let before = snapshot(&app, &fixture).await;

    let signing = app.signing_key().await;
    let key_id = app.store().list_api_keys(app.a.merchant.id).await.unwrap()[0].id.to_string();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let header = Header { kid: Some(signing.kid.clone()), ..Header::new(Algorithm::HS256) };
    let expired = jsonwebtoken::encode(
        &header,
        &json!({"iss": "clientele", "sub": key_id, "iat": now - 7200, "exp": now - 3600}),
        &EncodingKey::from_secret(&signing.secret),
    )
    .unwrap();
    let forged = jsonwebtoken::encode(
        &header,
        &json!({"iss": "clientele", "sub": key_id, "iat": now, "exp": now + 3600}),
        &EncodingKey::from_secret(b"guess"),
    )
    .unwrap();
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": signing.kid}).to_string()),
        URL_SAFE_NO_PAD.encode(json!({"iss": "clientele", "sub": key_id, "iat": now, "exp": now + 3600}).to_string())
    );
    let (revoked_id, revoked) = app.key_for_a("client").await;
    app.request(Method::POST, &format!("/v1/api-keys/{revoked_id}/revoke"), &app.a.admin_key).send().await.unwrap();
    let (_, readonly) = app.key_for_a("readonly").await;
    let (_, client) = app.key_for_a("client").await;
    let before_keys = snapshot(&app, &fixture).await;
    assert_ne!(before, before_keys);
    let before = before_keys;
    let bearer = |key: &str| format!("Bearer {key}");

    let mut cells = 0;
    let (mut admin_only, mut platform_only, mut merchant_routes) = (0, 0, 0);
    for call in &calls {
        let path = fill(&call.path, &fixture);
        let name = format!("{} {path}", call.method);
        for (credential_name, credential) in [
            ("none", None),
            ("expired", Some(expired.as_str())),
            ("forged", Some(forged.as_str())),
            ("alg none", Some(none.as_str())),
            ("revoked", Some(revoked.as_str())),
        ] {
            let (status, body) = send(&app, call, &path, credential).await;
            assert_eq!(status, 401, "{credential_name}: {name}: {body}");
            cells += 1;
        }
        let mut refused = Vec::new();
        if call.writes || call.admin_only || call.platform_only {
            refused.push(("read-only", bearer(&readonly)));
        }
        if call.admin_only || call.platform_only {
            refused.push(("client", bearer(&client)));
        }
        if call.platform_only {
            platform_only += 1;
            refused.push(("merchant admin", bearer(&app.a.admin_key)));
        } else {
            merchant_routes += 1;
            refused.push(("platform", bearer(&app.platform_key)));
        }
        admin_only += usize::from(call.admin_only);
        for (credential_name, credential) in refused {
            let (status, body) = send(&app, call, &path, Some(&credential)).await;
            // A merchant named in the path that is not the caller's is not found (SPEC §2): so
            // for the platform key, which is no merchant's.
            let expected =
                if credential_name == "platform" && call.path.contains("{merchant_number}") { 404 } else { 403 };
            assert_eq!(status, expected, "{credential_name} key: {name}: {body}");
            cells += 1;
        }
    }
    assert_eq!(snapshot(&app, &fixture).await, before, "a refused call changed something");

    // Merchant B on A's resources: exactly what B gets for resources that do not exist.
    let missing = missing();
    let b = bearer(&app.b.admin_key);
    for call in calls.iter().filter(|c| c.path.contains('{') && !c.path.contains("{merchant_number}")) {
        let foreign = send(&app, call, &fill(&call.path, &fixture), Some(&b)).await;
        let absent = send(&app, call, &fill(&call.path, &missing), Some(&b)).await;
        let strip = |(status, body): (u16, String)| {
            // Error answers that carry a time are compared without it.
            let value: Value = serde_json::from_str(&body).unwrap_or(Value::String(body));
            let value = match value {
                Value::Object(mut map) => {
                    map.remove("timestamp");
                    Value::Object(map)
                }
                other => other,
            };
            (status, value)
        };
        let (foreign, absent) = (strip(foreign), strip(absent));
        assert_eq!(foreign, absent, "{} {}", call.method, call.path);
        assert_eq!(foreign.0, 404, "{} {}: {}", call.method, call.path, foreign.1);
        cells += 1;
    }
    // B's RealPay path with A's merchant number looks like an unknown merchant.
    for call in calls.iter().filter(|c| c.path.contains("{merchant_number}")) {
        let foreign = send(&app, call, &call.path.replace("{merchant_number}", "MERCHANT-A"), Some(&b)).await;
        let absent = send(&app, call, &call.path.replace("{merchant_number}", "NO-SUCH"), Some(&b)).await;
        assert_eq!(foreign, absent, "{} {}", call.method, call.path);
        cells += 1;
    }
    assert_eq!(snapshot(&app, &fixture).await, before, "merchant B changed merchant A's data");

    // And the credentials refused above are the right ones: A's admin reaches every
    // operation of a merchant, the platform key the platform's.
    for call in &calls {
        let credential = if call.platform_only { bearer(&app.platform_key) } else { bearer(&app.a.admin_key) };
        let (status, body) = send(&app, call, &fill(&call.path, &fixture), Some(&credential)).await;
        assert!(!matches!(status, 401 | 403), "{} {}: {status} {body}", call.method, call.path);
    }
    eprintln!(
        "access matrix: {} operations ({admin_only} an admin's, {platform_only} the platform's, {merchant_routes} \
         a merchant's), {cells} cells",
        calls.len()
    );
}
