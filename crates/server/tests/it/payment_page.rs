//! The payment page a debtor can act on: the merchant sets up its name, contact details and
//! how to pay through the native API, and `/pay/{guid}` shows them with the request, in
//! words for the debtor, offering nothing to pay once a request is paid or cancelled.

use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::harness::{TestApp, problem};

pub const SETTINGS: &str = r#"{"display_name": "Acme Stores", "contact_email": "accounts@acme.example",
    "contact_phone": "+27 21 555 0100", "bank_name": "First National Bank", "account_holder": "Acme Stores (Pty) Ltd",
    "account_number": "62000000001", "branch_code": "250655", "reference": "ACME {invoice_number}",
    "payment_url": "https://pay.acme.example/checkout?invoice={invoice_number}&amount={amount}&currency={currency}"}"#;

pub async fn put_settings(app: &TestApp, key: &str, body: &Value) -> Response {
    app.request(Method::PUT, "/v1/merchant/payment-page", key).json(body).send().await.unwrap()
}

/// A payment request through the native API; answers its id and public GUID.
pub async fn request_payment(app: &TestApp, invoice: &str) -> (String, String) {
    let body = json!({"customer": {"customer_ref": format!("C-{invoice}"), "given_name": "Lindiwe"},
        "invoice_number": invoice, "segment": "Retail", "amount_outstanding": "1520.75", "currency": "ZAR",
        "channel": "sms", "debt_date": "2025-01-25", "url_to_document": "https://docs.acme.example/inv.pdf"});
    let created: Value = app.post("/v1/payment-requests", &app.a.admin_key, body).await.json().await.unwrap();
    (created["id"].as_str().unwrap().to_owned(), created["public_access_guid"].as_str().unwrap().to_owned())
}

pub async fn move_to(app: &TestApp, id: &str, action: &str) {
    let path = format!("/v1/payment-requests/{id}/{action}");
    assert_eq!(app.request(Method::POST, &path, &app.a.admin_key).send().await.unwrap().status(), 200);
}

async fn page(app: &TestApp, guid: &str) -> String {
    let response = app.client.get(format!("{}/pay/{guid}", app.url)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_sets_up_its_payment_page_and_bad_settings_change_nothing() {
    let app = TestApp::spawn().await;
    let admin = &app.a.admin_key;
    assert_eq!(problem(app.get("/v1/merchant/payment-page", admin).await).await.0, 404);
    let settings: Value = serde_json::from_str(SETTINGS).unwrap();
    let response = put_settings(&app, admin, &settings).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["etag"], "\"1\"");
    let stored: Value = app.get("/v1/merchant/payment-page", admin).await.json().await.unwrap();
    for (member, value) in settings.as_object().unwrap() {
        assert_eq!(&stored[member], value, "{member}");
    }
    assert_eq!(stored["version"], 1);
    // Another merchant has none; a read-only key reads but does not write.
    assert_eq!(problem(app.get("/v1/merchant/payment-page", &app.b.admin_key).await).await.0, 404);
    let (_, readonly) = app.key_for_a("readonly").await;
    assert_eq!(app.get("/v1/merchant/payment-page", &readonly).await.status(), 200);
    assert_eq!(problem(put_settings(&app, &readonly, &json!({})).await).await.0, 403);

    for (body, field) in [
        (json!({"payment_url": "javascript:alert(1)"}), "payment_url"),
        (json!({"payment_url": "https://pay.example/{customer}"}), "payment_url"),
        (json!({"bank_name": "FNB", "account_number": "1", "reference": "Ref {iban}"}), "reference"),
        (json!({"account_number": "62000000001"}), "bank_name"),
        (json!({"bank_name": "FNB"}), "account_number"),
        (json!({"contact_email": "nope"}), "contact_email"),
        (json!({"display_name": "x".repeat(201)}), "display_name"),
    ] {
        let (status, problem) = problem(put_settings(&app, admin, &body).await).await;
        assert_eq!((status, problem["errors"][0]["field"].as_str()), (400, Some(field)), "{body}: {problem}");
    }
    assert_eq!(problem(put_settings(&app, admin, &json!({"colour": "red"})).await).await.0, 400);
    let after: Value = app.get("/v1/merchant/payment-page", admin).await.json().await.unwrap();
    assert_eq!(after, stored, "a refused write changed the settings");

    // Written whole: what is not sent is cleared.
    let only_name: Value = put_settings(&app, admin, &json!({"display_name": "Acme"})).await.json().await.unwrap();
    assert_eq!((only_name["bank_name"].clone(), only_name["version"].clone()), (Value::Null, json!(2)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_tells_the_debtor_how_to_pay_until_the_request_is_paid_or_cancelled() {
    let app = TestApp::spawn().await;
    let (_, bare) = request_payment(&app, "INV-0").await;
    let without = page(&app, &bare).await;
    assert!(without.contains("Payment request from MERCHANT-A Ltd"), "{without}");
    assert!(without.contains("Please contact MERCHANT-A Ltd to arrange payment"), "{without}");

    let settings: Value = serde_json::from_str(SETTINGS).unwrap();
    assert_eq!(put_settings(&app, &app.a.admin_key, &settings).await.status(), 200);
    let (id, guid) = request_payment(&app, "INV 7/A").await;
    let due = page(&app, &guid).await;
    for expected in [
        "Payment request from Acme Stores",
        "mailto:accounts@acme.example",
        "tel:+27215550100",
        "Amount due",
        "ZAR 1,520.75",
        "<dt>Debt date</dt><dd>2025-01-25</dd>",
        "https://docs.acme.example/inv.pdf",
        "Awaiting payment",
        "How to pay",
        "https://pay.acme.example/checkout?invoice=INV+7%2FA&amp;amount=1520.75&amp;currency=ZAR",
        "First National Bank",
        "62000000001",
        "250655",
        "ACME INV 7/A",
    ] {
        assert!(due.contains(expected), "{expected:?} not on the page: {due}");
    }
    // Opened, it is viewed; the debtor never reads the internal word.
    let opened = page(&app, &guid).await;
    let stored: Value = app.get(&format!("/v1/payment-requests/{id}"), &app.a.admin_key).await.json().await.unwrap();
    assert_eq!(stored["status"], "viewed");
    assert!(opened.contains("Awaiting payment") && !opened.to_lowercase().contains("viewed"), "{opened}");

    move_to(&app, &id, "mark-paid").await;
    let paid = page(&app, &guid).await;
    assert!(paid.contains("has been paid") && paid.contains("<dd class=\"status\">Paid</dd>"), "{paid}");
    assert!(paid.contains("Amount paid"));
    for gone in ["How to pay", "pay.acme.example", "62000000001", "Amount due"] {
        assert!(!paid.contains(gone), "a paid request still offers {gone:?}");
    }

    let (other, cancelled_guid) = request_payment(&app, "INV-9").await;
    move_to(&app, &other, "cancel").await;
    let cancelled = page(&app, &cancelled_guid).await;
    assert!(cancelled.contains("has been cancelled") && cancelled.contains("<dd class=\"status\">Cancelled</dd>"));
    for gone in ["How to pay", "pay.acme.example", "62000000001", "Amount due"] {
        assert!(!cancelled.contains(gone), "a cancelled request still offers {gone:?}");
    }
}
