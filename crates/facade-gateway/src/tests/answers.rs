//! Mapping out: the document's answers, `{"isSuccess": ...}`, as JSON.

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use serde_json::json;

use super::{AuthHeader, json_parts};
use crate::{exists, success, unknown_merchant};

const MERCHANT: &str = "3fa85f64-5717-4562-b3fc-2c963f66afa6";

#[test]
fn a_created_customer_is_answered_as_the_documents_success() {
    let stored = success();
    assert_eq!(stored.status, 200);
    assert_eq!(stored.headers, vec![("content-type".to_owned(), "application/json".to_owned())]);
    // Byte for byte: no `errors` member at all.
    assert_eq!(String::from_utf8(stored.body).unwrap(), r#"{"isSuccess":true}"#);
}

#[test]
fn an_existing_customer_is_answered_as_the_documents_user_already_exists() {
    let (status, headers, body) = json_parts(exists("User", MERCHANT, "IdUser").into_response());
    assert_eq!(status.as_u16(), 400);
    assert_eq!(headers.get(CONTENT_TYPE).unwrap(), "application/json");
    AuthHeader::None.check(&headers, "an existing user");
    let expected = json!({
        "isSuccess": false,
        "errors": [{"key": "InvalidOperationException", "value": [format!("User already exists: {MERCHANT} IdUser")]}]
    });
    assert_eq!(body, expected);
    let (_, _, body) = json_parts(exists("Contract", MERCHANT, "123456789").into_response());
    assert_eq!(body["errors"][0]["value"][0], format!("Contract already exists: {MERCHANT} 123456789"));
}

#[test]
fn a_merchant_id_not_the_callers_is_answered_as_a_field_error() {
    let (status, _, body) = json_parts(unknown_merchant("not-a-guid").into_response());
    assert_eq!(status.as_u16(), 400);
    assert_eq!(
        body,
        json!({"isSuccess": false, "errors": [{"key": "MerchantId", "value": ["Merchant not-a-guid was not found."]}]})
    );
}
