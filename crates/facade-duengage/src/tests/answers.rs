//! Mapping out: a payment request answered as the document's three members, in JSON and in
//! JSV, whichever the client asked for.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use serde_json::json;
use time::macros::datetime;

use clientele_domain::money::Money;
use clientele_domain::payment::{
    Channel, Currency, InvoiceNumber, PaymentRequest, PaymentStatus, PaymentTerms, PublicAccessGuid, Segment,
};
use clientele_domain::user::UserId;
use clientele_service::Requested;

use super::parts;
use crate::{Format, answer};

const GUID: &str = "0f8fad5bd9cb469fa16570867728950e";

fn request(status: PaymentStatus) -> PaymentRequest {
    let terms = PaymentTerms {
        invoice_number: InvoiceNumber::parse("", "INV-2025-0001").unwrap(),
        segment: Segment::parse("", "Retail").unwrap(),
        amount_outstanding: Money::parse("", "1520.75").unwrap(),
        currency: Currency::Zar,
        channel: Channel::Email,
        debt_date: None,
        url_to_document: None,
        debt_meta: BTreeMap::new(),
    };
    let mut request = PaymentRequest::new(UserId::generate(), terms, datetime!(2026-05-01 10:00 UTC));
    request.public_access_guid = PublicAccessGuid::parse(GUID).unwrap();
    request.status = status;
    request
}

fn stored(format: Format, requested: &Requested) -> (u16, Vec<(String, String)>, String) {
    let stored = format.stored(StatusCode::OK, &answer(requested));
    (stored.status, stored.headers, String::from_utf8(stored.body).unwrap())
}

fn content_type(value: &str) -> Vec<(String, String)> {
    vec![("content-type".to_owned(), value.to_owned())]
}

#[test]
fn a_new_request_is_answered_with_the_documents_members_in_json() {
    let (status, headers, body) = stored(Format::Json, &Requested::Created(request(PaymentStatus::Created)));
    assert_eq!((status, headers), (200, content_type("application/json; charset=utf-8")));
    // In the document's order, the GUID as 32 hex digits, the status a number, and no
    // ResponseStatus on success.
    assert_eq!(body, format!(r#"{{"PublicAccessGuid":"{GUID}","InvoiceNumber":"INV-2025-0001","StatusCodesId":1}}"#));
}

#[test]
fn a_new_request_is_answered_as_the_golden_jsv() {
    let (status, headers, body) = stored(Format::Jsv, &Requested::Created(request(PaymentStatus::Created)));
    assert_eq!((status, headers), (200, content_type("text/jsv; charset=utf-8")));
    assert_eq!(body, format!("{{PublicAccessGuid:{GUID},InvoiceNumber:INV-2025-0001,StatusCodesId:1}}"));
}

#[test]
fn a_request_asked_for_again_is_answered_as_it_stands() {
    for (status, code) in [
        (PaymentStatus::Created, 1),
        (PaymentStatus::Viewed, 2),
        (PaymentStatus::Paid, 3),
        (PaymentStatus::Cancelled, 4),
    ] {
        let value = answer(&Requested::Existing(request(status)));
        assert_eq!(value, json!({"PublicAccessGuid": GUID, "InvoiceNumber": "INV-2025-0001", "StatusCodesId": code}));
    }
}

#[test]
fn an_answer_made_now_is_the_answer_stored_for_repeats() {
    let value = answer(&Requested::Created(request(PaymentStatus::Created)));
    for format in [Format::Json, Format::Jsv] {
        let stored = format.stored(StatusCode::OK, &value);
        let (status, headers, body) = parts(format.answer(StatusCode::OK, &value));
        assert_eq!(status.as_u16(), stored.status);
        assert_eq!(headers.get(CONTENT_TYPE).unwrap().to_str().unwrap(), stored.headers[0].1);
        assert_eq!(body, stored.body, "{format:?}");
    }
}
