//! Mapping in: the document's body becomes a user with a contract, and every refused field
//! is answered under its PascalCase key in the document's wording.

use axum::response::IntoResponse;
use serde_json::{Value, json};

use clientele_domain::user::{Address, AddressLine, CustomerRef, Email, Phone, PostalCode, UserFields};
use clientele_domain::{FieldError, ValidationErrors, Violation};
use clientele_service::{NewUser, Refusal};

use super::json_parts;
use crate::{CreateUser, GatewayError, field_errors, pascal};

const MERCHANT: &str = "3fa85f64-5717-4562-b3fc-2c963f66afa6";

/// The document's example body.
fn documents_body() -> Value {
    json!({
        "merchantId": MERCHANT,
        "customerId": "IdUser",
        "contractNumber": "123456789",
        "contactInfo": {"email": "customer@example.com", "phoneNumber": "123456", "address": "address", "zipCode": "123"}
    })
}

fn with(path: &[&str], value: Value) -> Value {
    let mut body = documents_body();
    let mut slot = &mut body;
    for part in path {
        slot = &mut slot[*part];
    }
    *slot = value;
    body
}

fn translate(body: &Value) -> Result<(String, NewUser), ValidationErrors> {
    clientele_http::decode_json::<CreateUser>(body.to_string().as_bytes()).unwrap().translate()
}

/// The `errors` member of the answer to `error`, with its status.
fn answered(error: GatewayError) -> (u16, Value) {
    let (status, _, body) = json_parts(error.into_response());
    assert_eq!(body["isSuccess"], false);
    (status.as_u16(), body["errors"].clone())
}

/// The answer to a body refused by the translation.
fn refused(body: &Value) -> (u16, Value) {
    answered(field_errors(translate(body).unwrap_err()))
}

/// The answer to a body refused before it could be read into the DTO.
fn undecodable(body: &Value) -> (u16, Value) {
    match clientele_http::decode_json::<CreateUser>(body.to_string().as_bytes()) {
        Err(refusal) => answered(refusal.into()),
        Ok(read) => panic!("{body} was read: {read:?}"),
    }
}

fn one(key: &str, message: &str) -> (u16, Value) {
    (400, json!([{"key": key, "value": [message]}]))
}

fn contract_number(new: &NewUser) -> Option<(&str, bool)> {
    new.contract.as_ref().map(|(number, terms)| (number.as_str(), terms.is_some()))
}

#[test]
fn the_documents_body_becomes_a_customer_with_a_contract_and_no_terms() {
    let (merchant, new) = translate(&documents_body()).unwrap();
    assert_eq!(merchant, MERCHANT);
    let expected = UserFields {
        customer_ref: Some(CustomerRef::parse("", "IdUser").unwrap()),
        email: Some(Email::parse("", "customer@example.com").unwrap()),
        phone: Some(Phone::parse("", "123456", None).unwrap()),
        address: Address {
            street: Some(AddressLine::parse("", "address").unwrap()),
            postal_code: Some(PostalCode::parse("", "123").unwrap()),
            ..Address::default()
        },
        ..UserFields::default()
    };
    assert_eq!(new.fields, expected);
    assert_eq!(contract_number(&new), Some(("123456789", false)), "the gateway agrees no instalment terms");
}

#[test]
fn numbers_are_read_where_strings_are_documented() {
    let body = json!({
        "merchantId": MERCHANT, "customerId": 42, "contractNumber": 123456789,
        "contactInfo": {"phoneNumber": 123456, "zipCode": 123}
    });
    let (_, new) = translate(&body).unwrap();
    assert_eq!(new.fields.customer_ref.as_ref().map(CustomerRef::as_str), Some("42"));
    assert_eq!(contract_number(&new), Some(("123456789", false)));
    assert_eq!(new.fields.phone.as_ref().map(Phone::as_str), Some("123456"));
    assert_eq!(new.fields.address.postal_code.as_ref().map(PostalCode::as_str), Some("123"));
}

#[test]
fn contact_info_is_optional_as_a_whole_and_in_each_part() {
    let bare = UserFields { customer_ref: Some(CustomerRef::parse("", "IdUser").unwrap()), ..UserFields::default() };
    for contact in [None, Some(json!(null)), Some(json!({}))] {
        let mut body = documents_body();
        match &contact {
            None => {
                body.as_object_mut().unwrap().remove("contactInfo");
            }
            Some(value) => body["contactInfo"] = value.clone(),
        }
        assert_eq!(translate(&body).unwrap().1.fields, bare, "{contact:?}");
    }
}

#[test]
fn identifiers_are_trimmed_and_blank_ones_are_required() {
    let (merchant, new) = translate(&with(&["customerId"], json!("  IdUser "))).unwrap();
    assert_eq!((merchant.as_str(), new.fields.customer_ref.unwrap().as_str()), (MERCHANT, "IdUser"));
    assert_eq!(
        refused(&json!({"customerId": " ", "contractNumber": null})),
        (
            400,
            json!([
                {"key": "MerchantId", "value": ["MerchantId is required."]},
                {"key": "CustomerId", "value": ["CustomerId is required."]},
                {"key": "ContractNumber", "value": ["ContractNumber is required."]}
            ])
        )
    );
}

#[test]
fn each_rule_is_worded_as_the_document_words_it() {
    let cases = [
        (
            with(&["contractNumber"], json!("1".repeat(21))),
            "ContractNumber",
            "ContractNumber must be at most 20 characters.",
        ),
        (with(&["contractNumber"], json!("12-34")), "ContractNumber", "ContractNumber must be letters and digits."),
        (with(&["customerId"], json!("Id-User")), "CustomerId", "CustomerId must be alphanumeric."),
        (with(&["customerId"], json!("u".repeat(101))), "CustomerId", "CustomerId must be at most 100 characters."),
        (with(&["customerId"], json!("")), "CustomerId", "CustomerId is required."),
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
        (
            with(&["contactInfo", "phoneNumber"], json!("call me")),
            "ContactInfo.PhoneNumber",
            "ContactInfo.PhoneNumber must be a phone number (digits, spaces, +, -, parentheses).",
        ),
    ];
    for (body, key, message) in cases {
        assert_eq!(refused(&body), one(key, message), "{body}");
    }
}

#[test]
fn every_refused_field_is_answered_at_once_in_the_order_of_the_request() {
    let mut body = with(&["contractNumber"], json!("1".repeat(21)));
    body["customerId"] = json!("Id User");
    body["contactInfo"]["zipCode"] = json!("1".repeat(17));
    body["contactInfo"]["email"] = json!("nobody");
    let (status, errors) = refused(&body);
    let keys: Vec<&str> = errors.as_array().unwrap().iter().map(|e| e["key"].as_str().unwrap()).collect();
    assert_eq!((status, keys), (400, vec!["CustomerId", "ContractNumber", "ContactInfo.Email", "ContactInfo.ZipCode"]));
}

#[test]
fn unknown_and_mistyped_members_are_keyed_by_their_pascal_case_path() {
    assert_eq!(
        undecodable(&with(&["contactInfo", "fax"], json!("1"))),
        one("ContactInfo.Fax", "ContactInfo.Fax is not a field of this request.")
    );
    // The document's table names fields in PascalCase, but its body is camelCase, which is
    // what is read.
    let mut pascal_body = documents_body();
    pascal_body["CustomerId"] = json!("IdUser");
    assert_eq!(undecodable(&pascal_body), one("CustomerId", "CustomerId is not a field of this request."));
    let (status, errors) = undecodable(&with(&["customerId"], json!(true)));
    assert_eq!((status, errors[0]["key"].as_str()), (400, Some("CustomerId")));
    let message = errors[0]["value"][0].as_str().unwrap();
    assert!(message.starts_with("CustomerId ") && message.ends_with('.'), "{message}");
    let (status, errors) = undecodable(&with(&["contactInfo"], json!(["customer@example.com"])));
    assert_eq!((status, errors[0]["key"].as_str()), (400, Some("ContactInfo")));
}

/// The gateway's wording of each violation of the field `contactInfo.zipCode`. The match has
/// no wildcard arm, so a new violation must be given its wording here.
fn worded(violation: &Violation) -> &'static str {
    match violation {
        Violation::Required | Violation::Empty => "ContactInfo.ZipCode is required.",
        Violation::TooLong { .. } => "ContactInfo.ZipCode must be at most 16 characters.",
        Violation::ControlCharacter => "ContactInfo.ZipCode must not contain control characters.",
        Violation::Format { .. } => "ContactInfo.ZipCode must be letters, digits, spaces or '-'.",
        Violation::NotOneOf { .. } => "ContactInfo.ZipCode must be one of A, B.",
        Violation::ReadOnly => "ContactInfo.ZipCode is read-only.",
        Violation::UnknownField => "ContactInfo.ZipCode is not a field of this request.",
        Violation::Other(_) => "ContactInfo.ZipCode must be alphanumeric.",
    }
}

#[test]
fn every_violation_is_worded_as_a_sentence_under_the_fields_key() {
    let violations = [
        Violation::Required,
        Violation::Empty,
        Violation::TooLong { max: 16 },
        Violation::ControlCharacter,
        Violation::Format { expected: "letters, digits, spaces or '-'" },
        Violation::NotOneOf { allowed: &["A", "B"] },
        Violation::ReadOnly,
        Violation::UnknownField,
        Violation::Other("must be alphanumeric".into()),
    ];
    for violation in violations {
        let expected = one("ContactInfo.ZipCode", worded(&violation));
        let error = FieldError::new("contactInfo.zipCode", violation);
        assert_eq!(answered(field_errors(error.into())), expected);
    }
}

#[test]
fn the_messages_of_one_field_share_its_key_and_the_body_as_a_whole_is_keyed_dollar() {
    let errors = ValidationErrors(vec![
        FieldError::new("customerId", Violation::Other("must be alphanumeric".into())),
        FieldError::new("", Violation::Other("the body is not a customer".into())),
        FieldError::new("customerId", Violation::TooLong { max: 100 }),
    ]);
    let expected = json!([
        {"key": "CustomerId", "value": ["CustomerId must be alphanumeric.", "CustomerId must be at most 100 characters."]},
        {"key": "$", "value": ["the body is not a customer."]}
    ]);
    assert_eq!(answered(field_errors(errors)), (400, expected));
}

#[test]
fn a_field_path_becomes_the_documents_pascal_case() {
    assert_eq!(pascal("contactInfo.zipCode"), "ContactInfo.ZipCode");
    assert_eq!(pascal("merchantId"), "MerchantId");
    assert_eq!(pascal("contactInfo.phoneNumber"), "ContactInfo.PhoneNumber");
    assert_eq!(pascal(""), "");
    // What a refusal of the kit names passes through as it is.
    assert_eq!(
        answered(Refusal::from(FieldError::new("ContractNumber", Violation::Required)).into()).1[0]["key"],
        "ContractNumber"
    );
}
