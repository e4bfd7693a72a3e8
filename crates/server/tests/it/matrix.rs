//! The access matrix: every surface and verb, refused for no credential, a forged, expired
//! or `alg: none` token, a revoked key, a read-only key writing, and merchant B's key on
//! merchant A's resources, which must look exactly like missing ones.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::TestApp;

/// One call of a surface: method, path with `{user}` / `{contract}` / `{payment}` to fill
/// in, an optional JSON body, whether it writes.
struct Call {
    method: Method,
    path: &'static str,
    body: Option<Value>,
    writes: bool,
}

fn calls() -> Vec<Call> {
    let call =
        |method: Method, path: &'static str, body: Option<Value>, writes: bool| Call { method, path, body, writes };
    let user = json!({"given_name": "X"});
    vec![
        call(Method::GET, "/v1/users", None, false),
        call(Method::POST, "/v1/users", Some(user.clone()), true),
        call(Method::GET, "/v1/users/{user}", None, false),
        call(Method::PUT, "/v1/users/{user}", Some(user.clone()), true),
        call(Method::PATCH, "/v1/users/{user}", Some(user.clone()), true),
        call(Method::DELETE, "/v1/users/{user}", None, true),
        call(Method::GET, "/v1/users/{user}/contracts", None, false),
        call(Method::GET, "/v1/contracts/{contract}", None, false),
        call(Method::POST, "/v1/contracts/{contract}/cancel", None, true),
        call(Method::GET, "/v1/payment-requests/{payment}", None, false),
        call(Method::POST, "/v1/payment-requests/{payment}/cancel", None, true),
        call(Method::GET, "/users/{user}", None, false),
        call(Method::PATCH, "/users/{user}", Some(json!({"givenName": "X"})), true),
        call(Method::DELETE, "/users/{user}", None, true),
        call(Method::GET, "/v1/realpay/MERCHANT-A/maintain/omni/users?Product=X&Email=a@example.com", None, false),
        call(Method::POST, "/api/v1/create-user", Some(json!({"customerId": "Z1", "contractNumber": "Z1"})), true),
        call(Method::POST, "/onceoffpayment", Some(json!({"Segment": "s"})), true),
    ]
}

struct Fixture {
    user: String,
    contract: String,
    payment: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    let key = &app.a.admin_key;
    app.post("/v1/interaction-points", key, json!({"id": "till-1", "name": "Till"})).await;
    app.post("/v1/interaction-points", &app.b.admin_key, json!({"id": "till-1", "name": "Till"})).await;
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
    Fixture {
        user,
        contract: contract["id"].as_str().unwrap().to_owned(),
        payment: payment["id"].as_str().unwrap().to_owned(),
    }
}

fn fill(path: &str, fixture: &Fixture) -> String {
    path.replace("{user}", &fixture.user)
        .replace("{contract}", &fixture.contract)
        .replace("{payment}", &fixture.payment)
}

async fn send(app: &TestApp, call: &Call, path: &str, authorization: Option<&str>) -> (u16, String) {
    let mut request =
        app.client.request(call.method.clone(), format!("{}{path}", app.url)).header("interaction-id", "till-1");
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    if let Some(body) = &call.body {
        request = request.json(body);
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
        format!("/v1/contracts/{}", fixture.contract),
        format!("/v1/payment-requests/{}", fixture.payment),
    ] {
        seen.push(app.get(&path, key).await.text().await.unwrap());
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_surface_refuses_every_bad_credential_and_hides_other_merchants_data() {
    let app = TestApp::spawn().await;
    let fixture = fixture(&app).await;
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

    let mut cells = 0;
    for call in calls() {
        let path = fill(call.path, &fixture);
        for (name, credential) in [
            ("none", None),
            ("expired", Some(expired.as_str())),
            ("forged", Some(forged.as_str())),
            ("alg none", Some(none.as_str())),
            ("revoked", Some(revoked.as_str())),
        ] {
            let (status, body) = send(&app, &call, &path, credential).await;
            assert_eq!(status, 401, "{name}: {} {path}: {body}", call.method);
            cells += 1;
        }
        if call.writes {
            let (status, body) = send(&app, &call, &path, Some(&readonly)).await;
            assert_eq!(status, 403, "read-only: {} {path}: {body}", call.method);
            cells += 1;
        }
    }
    assert_eq!(snapshot(&app, &fixture).await, before, "a refused call changed something");

    // Merchant B on A's resources: exactly what B gets for resources that do not exist.
    let missing = Fixture {
        user: uuid::Uuid::now_v7().to_string(),
        contract: uuid::Uuid::now_v7().to_string(),
        payment: uuid::Uuid::now_v7().to_string(),
    };
    for call in calls().into_iter().filter(|c| c.path.contains('{')) {
        let b = Some(app.b.admin_key.as_str());
        let foreign = send(&app, &call, &fill(call.path, &fixture), b).await;
        let absent = send(&app, &call, &fill(call.path, &missing), b).await;
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
        assert_eq!(foreign.0, 404, "{} {}", call.method, call.path);
        cells += 1;
    }
    // B's RealPay path with A's merchant number looks like an unknown merchant.
    let realpay = Call { method: Method::GET, path: "", body: None, writes: false };
    let foreign = send(
        &app,
        &realpay,
        "/v1/realpay/MERCHANT-A/maintain/omni/users?Product=X&Email=m1@example.com",
        Some(&app.b.admin_key),
    )
    .await;
    let absent = send(
        &app,
        &realpay,
        "/v1/realpay/NO-SUCH/maintain/omni/users?Product=X&Email=m1@example.com",
        Some(&app.b.admin_key),
    )
    .await;
    assert_eq!(foreign, absent);
    assert_eq!(snapshot(&app, &fixture).await, before, "merchant B changed merchant A's data");
    eprintln!("access matrix: {cells} cells");
}
