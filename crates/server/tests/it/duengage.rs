//! DuEngage's once-off payments, drop-in: the document's sample in JSON and in JSV as golden
//! files, ServiceStack's errors, the debtor matched across surfaces, and the public page.

use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::harness::TestApp;

fn golden(name: &str) -> String {
    let path = format!("{}/tests/golden/duengage/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn request() -> Value {
    serde_json::from_str(&golden("onceoffpayment.request.json")).unwrap()
}

async fn post(app: &TestApp, path: &str, content_type: &str, body: String) -> Response {
    app.request(Method::POST, path, &app.a.admin_key)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn native(app: &TestApp, path: &str) -> Value {
    app.get(path, &app.a.admin_key).await.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documents_sample_works_in_json_and_in_jsv() {
    let app = TestApp::spawn().await;
    let response = post(&app, "/onceoffpayment", "application/json", golden("onceoffpayment.request.json")).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    let guid = answer["PublicAccessGuid"].as_str().unwrap().to_owned();
    assert_eq!(guid.len(), 32);
    let expected = golden("onceoffpayment.response.json").replace("{{PublicAccessGuid}}", &guid);
    assert_eq!(answer, serde_json::from_str::<Value>(&expected).unwrap());

    // The same sample in JSV, answered in JSV: the same request again, so the same answer.
    let response = app
        .request(Method::POST, "/onceoffpayment", &app.a.admin_key)
        .header("content-type", "text/jsv")
        .header("accept", "text/jsv")
        .body(golden("onceoffpayment.request.jsv"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/jsv"));
    assert_eq!(
        response.text().await.unwrap(),
        golden("onceoffpayment.response.jsv").replace("{{PublicAccessGuid}}", &guid)
    );

    // Stored exactly: 1520.75, the debtor registered once, the meta kept.
    let page = native(&app, "/v1/payment-requests").await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    let stored = &page["data"][0];
    assert_eq!((stored["amount_outstanding"].as_str(), stored["currency"].as_str()), (Some("1520.75"), Some("ZAR")));
    assert_eq!(stored["debt_meta"], json!({"Branch": "Cape Town"}));
    let users = native(&app, "/v1/users?customer_ref=CUST001").await;
    assert_eq!(users["data"].as_array().unwrap().len(), 1);
    assert_eq!(users["data"][0]["national_id"], "8001015009087");

    // Suffixes and ?format= choose the answer's format.
    let jsv_suffix = post(&app, "/onceoffpayment.jsv", "application/json", golden("onceoffpayment.request.json")).await;
    assert!(jsv_suffix.text().await.unwrap().starts_with("{PublicAccessGuid:"));
    let json_query = post(&app, "/onceoffpayment?format=json", "text/jsv", golden("onceoffpayment.request.jsv")).await;
    assert_eq!(json_query.json::<Value>().await.unwrap()["PublicAccessGuid"], guid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_debtor_is_the_user_created_elsewhere_with_that_reference() {
    let app = TestApp::spawn().await;
    app.post("/v1/properties", &app.a.admin_key, json!({"name": "Segment"})).await;
    let existing: Value = app
        .post("/v1/users", &app.a.admin_key, json!({"customer_ref": "CUST001", "given_name": "T"}))
        .await
        .json()
        .await
        .unwrap();
    let mut body = request();
    body["CustomersMeta"] = json!({"Segment": "Gold"});
    let response = post(&app, "/onceoffpayment", "application/json", body.to_string()).await;
    assert_eq!(response.status(), 200);
    let users = native(&app, "/v1/users").await;
    assert_eq!(users["data"].as_array().unwrap().len(), 1, "no second user");
    let requests = native(&app, "/v1/payment-requests").await;
    assert_eq!(requests["data"][0]["user_id"], existing["id"]);
    assert_eq!(users["data"][0]["custom_properties"][0]["value"], "Gold");
    // Matched by IdNumber when the reference is unknown.
    let mut by_id = request();
    by_id["CustomerUniqueIdentifier"] = json!("UNKNOWN");
    by_id["InvoiceNumber"] = json!("INV-2");
    let created: Value =
        app.post("/v1/users", &app.a.admin_key, json!({"national_id": "8001015009087"})).await.json().await.unwrap();
    assert_eq!(post(&app, "/onceoffpayment", "application/json", by_id.to_string()).await.status(), 200);
    let second = native(&app, "/v1/payment-requests?invoice_number=INV-2").await;
    assert_eq!(second["data"][0]["user_id"], created["id"]);
}

async fn service_stack_error(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert!(body["ResponseStatus"]["ErrorCode"].is_string() && body["ResponseStatus"]["Message"].is_string(), "{body}");
    assert!(body["ResponseStatus"].get("StackTrace").is_none());
    (status, body["ResponseStatus"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_required_field_missing_gets_its_service_stack_error_and_writes_nothing() {
    let app = TestApp::spawn().await;
    for field in
        ["Segment", "FirstName", "LastName", "InvoiceNumber", "AmountOutstanding", "CurrenciesId", "ChannelsId"]
    {
        let mut body = request();
        body.as_object_mut().unwrap().remove(field);
        let (status, error) =
            service_stack_error(post(&app, "/onceoffpayment", "application/json", body.to_string()).await).await;
        assert_eq!(status, 400, "{field}");
        assert_eq!(error["ErrorCode"], "NotEmpty", "{field}");
        assert_eq!(
            error["Errors"],
            json!([{"ErrorCode": "NotEmpty", "FieldName": field, "Message": error["Message"]}]),
            "{field}"
        );
    }
    for (field, value) in [
        ("AmountOutstanding", json!(10.005)),
        ("CurrenciesId", json!(99)),
        ("Email", json!("nope")),
        ("DebtDate", json!("25/01/2025")),
        ("UrlToDocument", json!("javascript:alert(1)")),
    ] {
        let mut body = request();
        body[field] = value;
        let (status, error) =
            service_stack_error(post(&app, "/onceoffpayment", "application/json", body.to_string()).await).await;
        assert_eq!((status, error["Errors"][0]["FieldName"].as_str()), (400, Some(field)));
    }
    // A key that names no property is metadata, which is bounded: named by the key the
    // client sent, not by a position and a member it never sent.
    let mut long = request();
    long["CustomersMeta"] = json!({"NoSuchProperty": "x".repeat(501)});
    let (status, error) =
        service_stack_error(post(&app, "/onceoffpayment", "application/json", long.to_string()).await).await;
    assert_eq!(status, 400);
    assert_eq!(error["Errors"][0]["FieldName"], "CustomersMeta.NoSuchProperty", "{error}");
    assert_eq!(error["Message"], "The length of 'Customers Meta.NoSuchProperty' must be 500 characters or fewer.");
    // Hostile JSV: a clear 400, never a panic.
    for hostile in ["{Segment:\"never closed", &"[".repeat(100_000), "{A:1}}", "{,}"] {
        let (status, error) =
            service_stack_error(post(&app, "/onceoffpayment", "text/jsv", hostile.to_owned()).await).await;
        assert_eq!((status, error["ErrorCode"].as_str()), (400, Some("SerializationException")));
    }
    let invalid_utf8 = app
        .request(Method::POST, "/onceoffpayment", &app.a.admin_key)
        .header("content-type", "text/jsv")
        .body(vec![b'{', 0xff, 0xfe, b'}'])
        .send()
        .await
        .unwrap();
    assert_eq!(service_stack_error(invalid_utf8).await.0, 400);
    let (status, _) = service_stack_error(post(&app, "/onceoffpayment", "text/plain", "x".to_owned()).await).await;
    assert_eq!(status, 415);
    assert_eq!(native(&app, "/v1/payment-requests").await["data"], json!([]));
    assert_eq!(native(&app, "/v1/users").await["data"], json!([]));
    // Unauthenticated and read-only callers.
    let anonymous = app.client.post(format!("{}/onceoffpayment", app.url)).json(&request()).send().await.unwrap();
    assert_eq!(service_stack_error(anonymous).await.0, 401);
    let (_, readonly) = app.key_for_a("readonly").await;
    let refused = app.request(Method::POST, "/onceoffpayment", &readonly).json(&request()).send().await.unwrap();
    assert_eq!(service_stack_error(refused).await.0, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invoice_number_repeats_its_request_or_refuses_another() {
    let app = TestApp::spawn().await;
    let first: Value =
        post(&app, "/onceoffpayment", "application/json", request().to_string()).await.json().await.unwrap();
    let again: Value =
        post(&app, "/onceoffpayment", "application/json", request().to_string()).await.json().await.unwrap();
    assert_eq!(again["PublicAccessGuid"], first["PublicAccessGuid"]);
    let mut other = request();
    other["AmountOutstanding"] = json!(99);
    let (status, error) =
        service_stack_error(post(&app, "/onceoffpayment", "application/json", other.to_string()).await).await;
    assert_eq!((status, error["ErrorCode"].as_str()), (409, Some("Conflict")));
    // A form body, with the maps as JSV.
    let form = "Segment=Retail&FirstName=A&LastName=B&InvoiceNumber=INV-F&AmountOutstanding=10.50&CurrenciesId=1&ChannelsId=4&DebtMeta=%7BBranch%3ADurban%7D";
    let response = post(&app, "/onceoffpayment", "application/x-www-form-urlencoded", form.to_owned()).await;
    assert_eq!(response.status(), 200);
    let stored = native(&app, "/v1/payment-requests?invoice_number=INV-F").await;
    assert_eq!(
        (stored["data"][0]["amount_outstanding"].as_str(), stored["data"][0]["debt_meta"]["Branch"].as_str()),
        (Some("10.50"), Some("Durban"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_page_shows_the_request_records_the_view_and_escapes_everything() {
    let app = TestApp::spawn().await;
    let mut body = request();
    body["InvoiceNumber"] = json!("<script>alert('x')</script>");
    let answer: Value = post(&app, "/onceoffpayment", "application/json", body.to_string()).await.json().await.unwrap();
    let guid = answer["PublicAccessGuid"].as_str().unwrap();
    let page = app.client.get(format!("{}/pay/{guid}", app.url)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains("MERCHANT-A Ltd") && html.contains("ZAR 1,520.75") && html.contains("2025-01-25"), "{html}");
    assert!(html.contains("https://example.com/invoices/INV-2025-0001.pdf"));
    assert!(!html.contains("<script>") && html.contains("&lt;script&gt;"), "merchant text is escaped");
    let stored = native(&app, "/v1/payment-requests").await;
    assert_eq!(
        (stored["data"][0]["status"].as_str(), stored["data"][0]["status_code"].as_i64()),
        (Some("viewed"), Some(2))
    );
    assert!(stored["data"][0]["viewed_at"].is_string());

    let id = stored["data"][0]["id"].as_str().unwrap();
    let paid = app
        .request(Method::POST, &format!("/v1/payment-requests/{id}/mark-paid"), &app.a.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 200);
    let html = app.client.get(format!("{}/pay/{guid}", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("has been paid"));
    let cancel =
        app.request(Method::POST, &format!("/v1/payment-requests/{id}/cancel"), &app.a.admin_key).send().await.unwrap();
    assert_eq!(cancel.status(), 409, "a paid request cannot be cancelled");

    for unknown in ["00000000000000000000000000000000", "not-a-guid"] {
        let missing = app.client.get(format!("{}/pay/{unknown}", app.url)).send().await.unwrap();
        assert_eq!(missing.status(), 404);
        assert!(missing.text().await.unwrap().contains("not valid"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payment_requests_through_the_native_api() {
    let app = TestApp::spawn().await;
    let key = &app.a.admin_key;
    let body = json!({"customer": {"customer_ref": "C9", "given_name": "Lindiwe"}, "invoice_number": "N-1", "segment": "Retail",
        "amount_outstanding": 1520.75, "currency": "ZAR", "channel": "sms", "debt_date": "2025-01-25"});
    let created = app.post("/v1/payment-requests", key, body.clone()).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["amount_outstanding"], "1520.75");
    assert_eq!(app.post("/v1/payment-requests", key, body.clone()).await.status(), 200, "the same request again");
    let mut other = body.clone();
    other["amount_outstanding"] = json!("1");
    assert_eq!(app.post("/v1/payment-requests", key, other).await.status(), 409);
    let id = created["id"].as_str().unwrap();
    let cancelled: Value = app
        .request(Method::POST, &format!("/v1/payment-requests/{id}/cancel"), key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    let html = app
        .client
        .get(format!("{}/pay/{}", app.url, created["public_access_guid"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("has been cancelled"));
    let listed = native(&app, "/v1/payment-requests?status=cancelled").await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(app.get(&format!("/v1/payment-requests/{id}"), &app.b.admin_key).await.status(), 404);
    let invalid = app.post("/v1/payment-requests", key, json!({"customer": {}, "invoice_number": "", "segment": "s", "amount_outstanding": "1.001", "currency": "XXX", "channel": "fax"})).await;
    assert_eq!(invalid.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_repeats_the_first_answer_and_refuses_another_request() {
    let app = TestApp::spawn().await;
    let send = |body: String, path: &str| {
        app.request(Method::POST, path, &app.a.admin_key)
            .header("content-type", "application/json")
            .header("idempotency-key", "debt-2025-0001")
            .body(body)
            .send()
    };
    let first = send(request().to_string(), "/onceoffpayment").await.unwrap();
    let first_body = first.text().await.unwrap();
    let again = send(request().to_string(), "/onceoffpayment").await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.text().await.unwrap(), first_body);
    let mut other = request();
    other["InvoiceNumber"] = json!("INV-OTHER");
    let (status, error) = service_stack_error(send(other.to_string(), "/onceoffpayment").await.unwrap()).await;
    assert_eq!((status, error["ErrorCode"].as_str()), (422, Some("IdempotencyKeyReused")));
    assert_eq!(native(&app, "/v1/payment-requests").await["data"].as_array().unwrap().len(), 1);

    // Natively too.
    let body = json!({"customer": {"customer_ref": "K1"}, "invoice_number": "N-9", "segment": "s",
        "amount_outstanding": "5", "currency": "ZAR", "channel": "web"});
    let post = |body: &Value| {
        app.request(Method::POST, "/v1/payment-requests", &app.a.admin_key)
            .header("idempotency-key", "native-1")
            .json(body)
            .send()
    };
    assert_eq!(post(&body).await.unwrap().status(), 201);
    let replay = post(&body).await.unwrap();
    assert_eq!((replay.status().as_u16(), replay.headers()["idempotent-replayed"].to_str().unwrap()), (201, "true"));
    let mut changed = body.clone();
    changed["invoice_number"] = json!("N-10");
    assert_eq!(post(&changed).await.unwrap().status(), 422);
}

/// The `.json` and `.jsv` paths answer what `/onceoffpayment` does, and the document says so:
/// a conflicting invoice 409, `Idempotency-Key` on all three (documented nowhere before).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_lists_the_suffixed_paths_conflicts_and_idempotency_keys() {
    let app = TestApp::spawn().await;
    let document: Value =
        app.client.get(format!("{}/openapi.json", app.url)).send().await.unwrap().json().await.unwrap();
    for path in ["/onceoffpayment", "/onceoffpayment.json", "/onceoffpayment.jsv"] {
        let operation = &document["paths"][path]["post"];
        let parameters = operation["parameters"].as_array().unwrap();
        assert!(parameters.iter().any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"), "{path}");
        for status in ["200", "400", "401", "409", "415", "422"] {
            assert!(operation["responses"][status].is_object(), "{status} of {path}");
        }
    }
    assert_eq!(post(&app, "/onceoffpayment.jsv", "application/json", request().to_string()).await.status(), 200);
    let mut other = request();
    other["AmountOutstanding"] = json!(99);
    let response = post(&app, "/onceoffpayment.json", "application/json", other.to_string()).await;
    assert_eq!(service_stack_error(response).await.0, 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dates_are_read_as_service_stack_clients_write_them_and_a_bad_one_writes_nothing() {
    let app = TestApp::spawn().await;
    let cases = [
        // ServiceStack .NET's JSON dates, escaped as it writes them, with and without an offset.
        (r"\/Date(1738281600000-0000)\/", Some("2025-01-31")),
        ("/Date(1738281600000)/", Some("2025-01-31")),
        ("/Date(1738279800000+0200)/", Some("2025-01-31")),
        ("2025-01-25T08:00:00+02:00", Some("2025-01-25")),
        ("2025-01-25T08:00:00", Some("2025-01-25")),
        ("0001-01-01T00:00:00", None),
    ];
    for (n, (sent, stored)) in cases.iter().enumerate() {
        let mut body = request();
        body["InvoiceNumber"] = json!(format!("INV-D{n}"));
        body["DebtDate"] = json!(sent);
        let response = post(&app, "/onceoffpayment", "application/json", body.to_string()).await;
        assert_eq!(response.status(), 200, "{sent}: {}", response.text().await.unwrap());
        let found = native(&app, &format!("/v1/payment-requests?invoice_number=INV-D{n}")).await;
        assert_eq!(found["data"][0]["debt_date"].as_str(), *stored, "{sent}");
    }
    let mut body = request();
    body["InvoiceNumber"] = json!("INV-BAD-DATE");
    body["DebtDate"] = json!("/Date(tomorrow)/");
    let (status, error) =
        service_stack_error(post(&app, "/onceoffpayment", "application/json", body.to_string()).await).await;
    assert_eq!((status, error["Errors"][0]["FieldName"].as_str()), (400, Some("DebtDate")));
    let message = error["Errors"][0]["Message"].as_str().unwrap();
    assert!(message.contains("/Date(milliseconds)/") && message.contains("ISO 8601"), "{message}");
    let none = native(&app, "/v1/payment-requests?invoice_number=INV-BAD-DATE").await;
    assert_eq!(none["data"], json!([]));
}
