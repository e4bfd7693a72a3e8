//! Mapping in: a once-off payment in JSON, JSV or a form becomes the debtor's fields, the
//! custom property values and the payment terms; bad input is refused under the
//! document's PascalCase names.

use std::collections::BTreeMap;

use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use time::macros::date;

use clientele_domain::money::Money;
use clientele_domain::payment::{Channel, Currency, DocumentUrl, InvoiceNumber, PaymentTerms, Segment};
use clientele_domain::user::{
    Address, AddressLine, CustomerRef, Email, NationalId, PassportNumber, PersonName, Phone, Place, PostalCode,
    UserFields,
};
use clientele_domain::{FieldError, ValidationErrors};
use clientele_service::Refusal;

use super::json_parts;
use crate::format::read_body;
use crate::{Format, OnceOffPayment, ServiceStackError};

type Translated = (UserFields, Vec<(String, String)>, PaymentTerms);

/// The request of the end-to-end golden file, as JSON.
fn golden_json() -> Value {
    json!({
        "Segment": "Retail", "FirstName": "Thandi", "LastName": "Nkosi", "Address": "12 Long Street",
        "City": "Cape Town", "Region": "Western Cape", "Suburb": "Gardens", "PostalCode": "8001",
        "MobileNumber": "0827648862", "Email": "thandi@example.com", "IdNumber": "8001015009087",
        "PassportNumber": "A1234567", "InvoiceNumber": "INV-2025-0001", "DebtDate": "2025-01-25",
        "AmountOutstanding": 1520.75, "CurrenciesId": 1, "ChannelsId": 2, "DebtMeta": {"Branch": "Cape Town"},
        "CustomersMeta": {}, "UrlToDocument": "https://example.com/invoices/INV-2025-0001.pdf",
        "CustomerUniqueIdentifier": "CUST001"
    })
}

/// The same request as the document's JSV sample writes it.
const GOLDEN_JSV: &str = "{
Segment: Retail,
FirstName: Thandi,
LastName: Nkosi,
Address: 12 Long Street,
City: Cape Town,
Region: Western Cape,
Suburb: Gardens,
PostalCode: 8001,
MobileNumber: 0827648862,
Email: thandi@example.com,
IdNumber: 8001015009087,
PassportNumber: A1234567,
InvoiceNumber: INV-2025-0001,
DebtDate: 2025-01-25,
AmountOutstanding: 1520.75,
CurrenciesId: 1,
ChannelsId: 2,
DebtMeta:
{
Branch: Cape Town
},
UrlToDocument: https://example.com/invoices/INV-2025-0001.pdf,
CustomerUniqueIdentifier: CUST001
}";

/// The same request as a form; the maps are JSV text.
const GOLDEN_FORM: &str = "Segment=Retail&FirstName=Thandi&LastName=Nkosi&Address=12+Long+Street&City=Cape+Town\
&Region=Western+Cape&Suburb=Gardens&PostalCode=8001&MobileNumber=0827648862&Email=thandi%40example.com\
&IdNumber=8001015009087&PassportNumber=A1234567&InvoiceNumber=INV-2025-0001&DebtDate=2025-01-25\
&AmountOutstanding=1520.75&CurrenciesId=1&ChannelsId=2&DebtMeta=%7BBranch%3ACape+Town%7D&CustomersMeta=%7B%7D\
&UrlToDocument=https%3A%2F%2Fexample.com%2Finvoices%2FINV-2025-0001.pdf&CustomerUniqueIdentifier=CUST001";

fn typed(content_type: &'static str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers
}

fn read(content_type: &'static str, body: &str) -> Result<OnceOffPayment, Refusal> {
    read_body(&typed(content_type), body.as_bytes(), OnceOffPayment::MEMBERS)
}

fn translate_json(body: &Value) -> Result<Translated, ValidationErrors> {
    read("application/json", &body.to_string()).unwrap().translate()
}

/// The golden request with `member` set to `value` (or left out, for `null`).
fn with(member: &str, value: Value) -> Value {
    let mut body = golden_json();
    match value {
        Value::Null => {
            body.as_object_mut().unwrap().remove(member);
        }
        value => body[member] = value,
    }
    body
}

/// The ServiceStack answer to a body that translates with refused fields.
fn refused(body: &Value) -> Value {
    let errors = translate_json(body).unwrap_err();
    let (status, _, answer) = json_parts(ServiceStackError::invalid(errors).answer(Format::Json));
    assert_eq!(status.as_u16(), 400, "{body}");
    answer["ResponseStatus"].clone()
}

/// The refused fields' names and ServiceStack error codes.
fn refused_fields(body: &Value) -> Vec<(String, String)> {
    let status = refused(body);
    let errors = status["Errors"].as_array().unwrap();
    errors.iter().map(|e| (e["FieldName"].as_str().unwrap().into(), e["ErrorCode"].as_str().unwrap().into())).collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

#[test]
fn the_golden_request_becomes_the_debtor_and_the_terms() {
    let (fields, properties, terms) = translate_json(&golden_json()).unwrap();
    let expected_fields = UserFields {
        customer_ref: Some(CustomerRef::parse("", "CUST001").unwrap()),
        given_name: Some(PersonName::parse("", "Thandi").unwrap()),
        family_name: Some(PersonName::parse("", "Nkosi").unwrap()),
        email: Some(Email::parse("", "thandi@example.com").unwrap()),
        phone: Some(Phone::parse("", "0827648862", None).unwrap()),
        national_id: Some(NationalId::parse("", "8001015009087").unwrap()),
        passport_number: Some(PassportNumber::parse("", "A1234567").unwrap()),
        address: Address {
            street: Some(AddressLine::parse("", "12 Long Street").unwrap()),
            suburb: Some(Place::parse("", "Gardens").unwrap()),
            city: Some(Place::parse("", "Cape Town").unwrap()),
            region: Some(Place::parse("", "Western Cape").unwrap()),
            postal_code: Some(PostalCode::parse("", "8001").unwrap()),
        },
        ..UserFields::default()
    };
    assert_eq!(fields, expected_fields);
    assert_eq!(properties, Vec::<(String, String)>::new());
    let expected_terms = PaymentTerms {
        invoice_number: InvoiceNumber::parse("", "INV-2025-0001").unwrap(),
        segment: Segment::parse("", "Retail").unwrap(),
        amount_outstanding: Money::parse("", "1520.75").unwrap(),
        currency: Currency::Zar,
        channel: Channel::Email,
        debt_date: Some(date!(2025 - 01 - 25)),
        url_to_document: Some(DocumentUrl::parse("", "https://example.com/invoices/INV-2025-0001.pdf").unwrap()),
        debt_meta: BTreeMap::from([("Branch".to_owned(), "Cape Town".to_owned())]),
    };
    assert_eq!(terms, expected_terms);
}

#[test]
fn the_same_request_in_jsv_and_in_a_form_translates_as_in_json() {
    let json = translate_json(&golden_json()).unwrap();
    for (content_type, body) in [
        ("text/jsv", GOLDEN_JSV),
        ("application/jsv", GOLDEN_JSV),
        ("text/jsv; charset=utf-8", GOLDEN_JSV),
        ("application/x-www-form-urlencoded", GOLDEN_FORM),
        ("application/x-www-form-urlencoded; charset=UTF-8", GOLDEN_FORM),
    ] {
        assert_eq!(read(content_type, body).unwrap().translate().unwrap(), json, "{content_type}");
    }
    let with_charset = read("application/json; charset=utf-8", &golden_json().to_string()).unwrap();
    assert_eq!(with_charset.translate().unwrap(), json);
}

#[test]
fn numbers_are_read_where_strings_are_documented_and_codes_where_numbers_are() {
    let mut body = golden_json();
    for (member, value) in [
        ("MobileNumber", json!(827648862)),
        ("IdNumber", json!(8001015009087_u64)),
        ("PostalCode", json!(8001)),
        ("CustomerUniqueIdentifier", json!(1001)),
        ("InvoiceNumber", json!(20250001)),
        ("AmountOutstanding", json!("1520.75")),
        ("CurrenciesId", json!("3")),
        ("ChannelsId", json!(" 4 ")),
    ] {
        body[member] = value;
    }
    let (fields, _, terms) = translate_json(&body).unwrap();
    assert_eq!(fields.phone.unwrap().as_str(), "827648862");
    assert_eq!(fields.national_id.unwrap().as_str(), "8001015009087");
    assert_eq!(fields.address.postal_code.unwrap().as_str(), "8001");
    assert_eq!(fields.customer_ref.unwrap().as_str(), "1001");
    assert_eq!(terms.invoice_number.as_str(), "20250001");
    assert_eq!(terms.amount_outstanding, Money::parse("", "1520.75").unwrap());
    assert_eq!((terms.currency, terms.channel), (Currency::Eur, Channel::Web));
}

#[test]
fn amounts_are_read_digit_for_digit_with_at_most_two_places() {
    for (sent, amount) in [(json!(0.1), "0.10"), (json!(100), "100"), (json!(1520.70), "1520.7")] {
        let terms = translate_json(&with("AmountOutstanding", sent.clone())).unwrap().2;
        assert_eq!(terms.amount_outstanding, Money::parse("", amount).unwrap(), "{sent}");
    }
    // Unlike the text members, an empty amount is refused as no amount rather than as missing.
    for sent in [json!(1.005), json!("1e3"), json!(-5), json!("")] {
        assert_eq!(refused_fields(&with("AmountOutstanding", sent)), pairs(&[("AmountOutstanding", "Invalid")]));
    }
    assert_eq!(refused_fields(&with("AmountOutstanding", Value::Null)), pairs(&[("AmountOutstanding", "NotEmpty")]));
}

#[test]
fn a_debt_date_is_read_in_every_form_servicestack_clients_write() {
    for sent in [
        "2025-01-25",
        "2025-01-25T08:00:00",
        "2025-01-25T08:00:00.0000000+02:00",
        "/Date(1737763200000)/",
        "\\/Date(1737763200000)\\/",
        "/Date(1737763200000+0200)/",
    ] {
        let terms = translate_json(&with("DebtDate", json!(sent))).unwrap().2;
        assert_eq!(terms.debt_date, Some(date!(2025 - 01 - 25)), "{sent}");
    }
    // .NET's DateTime.MinValue, the document's sample value, and no date at all are no date.
    for sent in [json!("0001-01-01"), json!("/Date(-62135596800000)/"), json!(""), Value::Null] {
        assert_eq!(translate_json(&with("DebtDate", sent.clone())).unwrap().2.debt_date, None, "{sent}");
    }
    let jsv = GOLDEN_JSV.replace("DebtDate: 2025-01-25", "DebtDate: /Date(1737763200000-0500)/");
    assert_eq!(read("text/jsv", &jsv).unwrap().translate().unwrap().2.debt_date, Some(date!(2025 - 01 - 24)));
    let status = refused(&with("DebtDate", json!("25/01/2025")));
    assert_eq!(status["Errors"][0]["FieldName"], "DebtDate");
    let message = status["Errors"][0]["Message"].as_str().unwrap();
    assert!(message.starts_with("'Debt Date' must be a date: YYYY-MM-DD") && message.contains("/Date("), "{message}");
}

#[test]
fn customers_meta_is_handed_to_the_core_as_sent_and_debt_meta_stays_with_the_debt() {
    let mut body = golden_json();
    body["CustomersMeta"] = json!({"Tier": "Gold", "Score": 42});
    body["DebtMeta"] = json!({"Branch": "Cape Town", "Agent": 7});
    let (_, customers_meta, terms) = translate_json(&body).unwrap();
    assert_eq!(customers_meta, pairs(&[("Score", "42"), ("Tier", "Gold")]));
    let meta = BTreeMap::from([("Agent".to_owned(), "7".to_owned()), ("Branch".to_owned(), "Cape Town".to_owned())]);
    assert_eq!(terms.debt_meta, meta);
    let long_key = "k".repeat(101);
    let long_meta = Value::Object([(long_key.clone(), json!("v"))].into_iter().collect());
    assert_eq!(
        refused_fields(&with("DebtMeta", long_meta)),
        vec![(format!("DebtMeta.{long_key}"), "MaximumLength".into())]
    );
}

#[test]
fn missing_required_members_are_refused_in_fluent_validations_words() {
    let status = refused(&json!({}));
    let required =
        ["Segment", "FirstName", "LastName", "InvoiceNumber", "AmountOutstanding", "CurrenciesId", "ChannelsId"];
    let spaced =
        ["Segment", "First Name", "Last Name", "Invoice Number", "Amount Outstanding", "Currencies Id", "Channels Id"];
    let errors: Vec<Value> = required
        .iter()
        .zip(spaced)
        .map(|(field, name)| json!({"ErrorCode": "NotEmpty", "FieldName": field, "Message": format!("'{name}' must not be empty.")}))
        .collect();
    assert_eq!(status, json!({"ErrorCode": "NotEmpty", "Message": "'Segment' must not be empty.", "Errors": errors}));
    // Blank text is no text.
    assert_eq!(refused_fields(&with("FirstName", json!("  "))), pairs(&[("FirstName", "NotEmpty")]));
}

#[test]
fn every_bad_value_is_refused_at_once_under_its_pascal_case_name() {
    let mut body = golden_json();
    for (member, value) in [
        ("Segment", json!("s".repeat(101))),
        ("InvoiceNumber", json!("i".repeat(65))),
        ("CurrenciesId", json!(9)),
        ("ChannelsId", json!("sms")),
        ("UrlToDocument", json!("ftp://example.com/a.pdf")),
        ("Email", json!("thandi")),
        ("MobileNumber", json!("call me")),
        ("IdNumber", json!("800101 5009087")),
        ("PassportNumber", json!("A-1")),
        ("City", json!("Cape\nTown")),
        ("PostalCode", json!("80_01")),
        ("CustomerUniqueIdentifier", json!("c".repeat(101))),
    ] {
        body[member] = value;
    }
    let expected = [
        ("Segment", "MaximumLength"),
        ("InvoiceNumber", "MaximumLength"),
        ("CurrenciesId", "Invalid"),
        ("ChannelsId", "Invalid"),
        ("UrlToDocument", "Invalid"),
        ("Email", "Invalid"),
        ("MobileNumber", "Invalid"),
        ("IdNumber", "Invalid"),
        ("PassportNumber", "Invalid"),
        ("City", "Invalid"),
        ("PostalCode", "Invalid"),
        ("CustomerUniqueIdentifier", "MaximumLength"),
    ];
    assert_eq!(refused_fields(&body), pairs(&expected));
    let status = refused(&with("CurrenciesId", json!(9)));
    assert_eq!(status["ErrorCode"], "Invalid");
    assert_eq!(
        status["Message"],
        "'Currencies Id' must be one of 1 (ZAR), 2 (USD), 3 (EUR), 4 (GBP), 5 (NAD), 6 (BWP), 7 (KES), 8 (NGN)."
    );
}

#[test]
fn the_documents_placeholder_sample_is_refused_field_by_field() {
    let sample = "{Segment: String, FirstName: String, LastName: String, Address: String, City: String, \
Region: String, Suburb: String, PostalCode: String, MobileNumber: String, Email: String, IdNumber: String, \
PassportNumber: String, InvoiceNumber: String, DebtDate: 0001-01-01, AmountOutstanding: 0, CurrenciesId: 0, \
ChannelsId: 0, DebtMeta: {String: String}, CustomersMeta: {String: String}, UrlToDocument: String, \
CustomerUniqueIdentifier: String}";
    let errors = read("text/jsv", sample).unwrap().translate().unwrap_err();
    let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, vec!["CurrenciesId", "ChannelsId", "UrlToDocument", "Email", "MobileNumber"]);
}

#[test]
fn unknown_members_and_bodies_that_cannot_be_read_are_named() {
    let unknown = |body: Value| match read("application/json", &body.to_string()) {
        Err(Refusal::Invalid(errors)) => errors.0,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        unknown(with("Fax", json!("1"))),
        vec![FieldError::new("Fax", clientele_domain::Violation::UnknownField)]
    );
    // Bound without regard to case, as ServiceStack binds them: given twice once folded,
    // the member is refused under its name.
    let mut camel = golden_json();
    let first = camel.as_object_mut().unwrap().remove("FirstName").unwrap();
    camel["firstName"] = first;
    camel["SEGMENT"] = camel.as_object_mut().unwrap().remove("Segment").unwrap();
    assert_eq!(translate_json(&camel).unwrap(), translate_json(&golden_json()).unwrap());
    let twice = unknown(with("firstName", json!("Thandi")));
    assert_eq!(
        (twice.len(), twice[0].field.as_str(), twice[0].violation.to_string().as_str()),
        (1, "FirstName", "is given more than once")
    );
    let malformed = |content_type, body: &str| match read(content_type, body) {
        Err(Refusal::Malformed(detail)) => detail,
        other => panic!("{content_type} {body}: {other:?}"),
    };
    let twice = read("application/x-www-form-urlencoded", "Segment=A&segment=B");
    assert!(matches!(&twice, Err(Refusal::Invalid(e)) if e.0[0].field == "Segment"), "{twice:?}");
    let not_a_map = malformed("application/x-www-form-urlencoded", "DebtMeta=%7BBranch");
    assert!(not_a_map.starts_with("DebtMeta is not a JSV map: "), "{not_a_map}");
    // JSV text that is not a map is a member of the wrong type.
    let scalar = read("application/x-www-form-urlencoded", "DebtMeta=Branch");
    assert!(matches!(&scalar, Err(Refusal::Invalid(e)) if e.0[0].field == "DebtMeta"), "{scalar:?}");
    assert!(malformed("application/x-www-form-urlencoded", "Segment=%zz").starts_with("the form could not be read: "));
    assert!(malformed("text/jsv", "{Segment: A, Segment: B}").starts_with("the body is not valid JSV: "));
    assert!(malformed("application/json", "{\"Segment\": ").starts_with("the body is not valid JSON: "));
    assert!(
        matches!(read_body::<OnceOffPayment>(&typed("text/jsv"), b"{Segment:\xff}", OnceOffPayment::MEMBERS), Err(Refusal::Malformed(d)) if d == "the body is not UTF-8 text")
    );
    for content_type in ["text/plain", "application/xml", "multipart/form-data; boundary=x"] {
        assert!(matches!(read(content_type, "{}"), Err(Refusal::UnsupportedMediaType)), "{content_type}");
    }
    assert!(matches!(read_body::<OnceOffPayment>(&HeaderMap::new(), b"{}", &[]), Err(Refusal::UnsupportedMediaType)));
}

#[test]
fn the_members_folded_to_are_the_requests_members() {
    let utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(object)) =
        <OnceOffPayment as utoipa::PartialSchema>::schema()
    else {
        panic!("the request is an object");
    };
    let mut members = OnceOffPayment::MEMBERS.to_vec();
    members.sort_unstable();
    assert_eq!(object.properties.keys().map(String::as_str).collect::<Vec<_>>(), members);
}
