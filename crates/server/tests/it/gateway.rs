//! The payment gateway's create-user, drop-in: the document's bodies and answers as golden
//! files, each rule, and the users it creates seen through the other surfaces.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::TestApp;

const PATH: &str = "/api/v1/create-user";

fn golden(name: &str, merchant: &str) -> Value {
    let path = format!("{}/tests/golden/gateway/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text.replace("{{merchantId}}", merchant)).unwrap()
}

async fn create(app: &TestApp, body: &Value) -> (u16, Value) {
    let response = app.request(Method::POST, PATH, &app.a.admin_key).json(body).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn native_count(app: &TestApp) -> usize {
    let page: Value = app.get("/v1/users?limit=100", &app.a.admin_key).await.json().await.unwrap();
    page["data"].as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documents_request_and_answers_as_written() {
    let app = TestApp::spawn().await;
    let merchant = app.a.merchant.id.to_string();
    let request = golden("create-user.request.json", &merchant);
    assert_eq!(create(&app, &request).await, (200, golden("success.response.json", &merchant)));
    assert_eq!(create(&app, &request).await, (400, golden("user-exists.response.json", &merchant)));
    let mut long = request.clone();
    long["customerId"] = json!("Other");
    long["contractNumber"] = json!("1".repeat(21));
    assert_eq!(create(&app, &long).await, (400, golden("field-error.response.json", &merchant)));
    assert_eq!(native_count(&app).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_created_user_is_found_natively_and_through_realpay() {
    let app = TestApp::spawn().await;
    let merchant = app.a.merchant.id.to_string();
    assert_eq!(create(&app, &golden("create-user.request.json", &merchant)).await.0, 200);
    let page: Value = app.get("/v1/users?customer_ref=IdUser", &app.a.admin_key).await.json().await.unwrap();
    let user = &page["data"][0];
    assert_eq!((user["email"].as_str(), user["phone"].as_str()), (Some("customer@example.com"), Some("123456")));
    assert_eq!(
        (user["address"]["street"].as_str(), user["address"]["postal_code"].as_str()),
        (Some("address"), Some("123"))
    );
    let contracts: Value = app
        .get(&format!("/v1/users/{}/contracts", user["id"].as_str().unwrap()), &app.a.admin_key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(contracts["data"][0]["contract_number"], "123456789");
    assert_eq!(contracts["data"][0]["instalment_amount"], Value::Null, "the gateway agrees no instalment terms");
    let found = app
        .get("/v1/realpay/MERCHANT-A/maintain/omni/users?Product=CARD&Email=Customer@Example.com", &app.a.admin_key)
        .await;
    assert_eq!(found.status(), 200);
    let found: Value = found.json().await.unwrap();
    assert_eq!(found["UserGetResponse"][0]["Contract"], json!({"ContractNumber": "123456789"}));
    let history: Value = app
        .get(&format!("/v1/users/{}/changes", user["id"].as_str().unwrap()), &app.a.admin_key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history["data"][0]["surface"], "gateway");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_rule_refuses_its_bad_input_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let merchant = app.a.merchant.id.to_string();
    let valid = golden("create-user.request.json", &merchant);
    let with = |path: &[&str], value: Value| {
        let mut body = valid.clone();
        let mut slot = &mut body;
        for part in path {
            slot = &mut slot[*part];
        }
        *slot = value;
        body
    };
    let cases = [
        (with(&["customerId"], json!("Id-User")), "CustomerId", "CustomerId must be alphanumeric."),
        (with(&["customerId"], json!("u".repeat(101))), "CustomerId", "CustomerId must be at most 100 characters."),
        (with(&["customerId"], json!("")), "CustomerId", "CustomerId is required."),
        (with(&["contractNumber"], json!("12-34")), "ContractNumber", "ContractNumber must be letters and digits."),
        (
            with(&["contactInfo", "address"], json!("a".repeat(513))),
            "ContactInfo.Address",
            "ContactInfo.Address must be at most 512 characters.",
        ),
        (
            with(&["contactInfo", "zipCode"], json!("1".repeat(17))),
            "ContactInfo.ZipCode",
            "ContactInfo.ZipCode must be at most 16 characters.",
        ),
        (
            with(&["contactInfo", "email"], json!("not-an-email")),
            "ContactInfo.Email",
            "ContactInfo.Email must be an e-mail address.",
        ),
        (with(&["merchantId"], json!("not-a-guid")), "MerchantId", "Merchant not-a-guid was not found."),
        (
            with(&["contactInfo", "fax"], json!("1")),
            "ContactInfo.Fax",
            "ContactInfo.Fax is not a field of this request.",
        ),
    ];
    for (body, key, message) in cases {
        let (status, answer) = create(&app, &body).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(answer, json!({"isSuccess": false, "errors": [{"key": key, "value": [message]}]}), "{body}");
    }
    // Every error of the request at once.
    let mut many = with(&["contractNumber"], json!("1".repeat(21)));
    many["customerId"] = json!("Id User");
    many["contactInfo"]["zipCode"] = json!("1".repeat(17));
    let (_, answer) = create(&app, &many).await;
    let keys: Vec<&str> = answer["errors"].as_array().unwrap().iter().map(|e| e["key"].as_str().unwrap()).collect();
    assert_eq!(keys, vec!["CustomerId", "ContractNumber", "ContactInfo.ZipCode"]);
    // Malformed JSON answers in the same envelope.
    let malformed = app
        .request(Method::POST, PATH, &app.a.admin_key)
        .header("content-type", "application/json")
        .body("{\"customerId\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    assert_eq!(malformed.json::<Value>().await.unwrap()["isSuccess"], false);
    // Another merchant's id is refused exactly as one that does not exist.
    let foreign = create(&app, &with(&["merchantId"], json!(app.b.merchant.id.to_string()))).await;
    let unknown_id = uuid::Uuid::new_v4().to_string();
    let unknown = create(&app, &with(&["merchantId"], json!(unknown_id))).await;
    assert_eq!((foreign.0, unknown.0), (400, 400));
    assert_eq!(foreign.1["errors"][0]["key"], unknown.1["errors"][0]["key"]);
    assert_eq!(
        foreign.1["errors"][0]["value"][0].as_str().unwrap().replace(&app.b.merchant.id.to_string(), "X"),
        unknown.1["errors"][0]["value"][0].as_str().unwrap().replace(&unknown_id, "X")
    );
    assert_eq!(native_count(&app).await, 0);

    // A contract number already in use refuses the whole customer.
    assert_eq!(create(&app, &valid).await.0, 200);
    let (status, answer) = create(&app, &with(&["customerId"], json!("Another"))).await;
    assert_eq!((status, answer["errors"][0]["key"].as_str()), (400, Some("InvalidOperationException")));
    assert_eq!(native_count(&app).await, 1);
    let unauthenticated = app.client.post(format!("{}{PATH}", app.url)).json(&valid).send().await.unwrap();
    assert_eq!(unauthenticated.status(), 401);
    assert_eq!(unauthenticated.json::<Value>().await.unwrap()["isSuccess"], false);
}
