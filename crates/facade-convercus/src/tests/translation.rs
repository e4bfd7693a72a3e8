//! Mapping in: the document's bodies become the user patch the core applies, and bad input
//! is refused under the names the document uses.

use serde_json::{Value, json};
use time::Date;
use time::macros::date;

use clientele_domain::Violation;
use clientele_domain::property::CustomPropertyInput;
use clientele_domain::user::{
    AddressLine, BirthDate, Change, CountryCode, Email, Gender, PersonName, Phone, Place, PostalCode, UserPatch,
};
use clientele_service::Refusal;

use super::USER_ID;
use crate::dto::Translated;
use crate::{ConvercusUserInput, ConvercusUserPatch};

const TODAY: Date = date!(2026 - 05 - 01);

fn decode<T: serde::de::DeserializeOwned>(body: &Value) -> Result<T, Refusal> {
    clientele_http::decode_json(body.to_string().as_bytes())
}

fn create(body: Value) -> Translated {
    decode::<ConvercusUserInput>(&body).unwrap().translate(TODAY, None)
}

fn replace(body: Value) -> Translated {
    decode::<ConvercusUserInput>(&body).unwrap().translate(TODAY, Some(USER_ID))
}

fn patch(body: Value) -> Translated {
    decode::<ConvercusUserPatch>(&body).unwrap().translate(TODAY, USER_ID)
}

/// Each refused field, by name and violation code, in order.
fn refused(translated: &Translated) -> Vec<(&str, &'static str)> {
    translated.errors.0.iter().map(|e| (e.field.as_str(), e.violation.code())).collect()
}

/// The fields a body names when it cannot be read into the DTO at all.
fn undecodable<T: serde::de::DeserializeOwned + std::fmt::Debug>(body: Value) -> Vec<(String, &'static str)> {
    match decode::<T>(&body) {
        Err(Refusal::Invalid(errors)) => errors.0.into_iter().map(|e| (e.field, e.violation.code())).collect(),
        other => panic!("expected named fields for {body}, got {other:?}"),
    }
}

fn email(text: &str) -> Change<Email> {
    Change::Set(Email::parse("", text).unwrap())
}

fn name(text: &str) -> Change<PersonName> {
    Change::Set(PersonName::parse("", text).unwrap())
}

fn place(text: &str) -> Change<Place> {
    Change::Set(Place::parse("", text).unwrap())
}

fn zip(text: &str) -> Change<PostalCode> {
    Change::Set(PostalCode::parse("", text).unwrap())
}

fn property(id: Option<&str>, name: &str, value: &str) -> CustomPropertyInput {
    CustomPropertyInput { id: id.map(str::to_owned), name: Some(name.to_owned()), value: Some(value.to_owned()) }
}

/// The document's create body (its e-mail address is obfuscated in the copy we have).
fn documents_create_body() -> Value {
    json!({
        "emailAddress": "test.user@example.com",
        "givenName": "testName",
        "familyName": "testFamilyname",
        "streetHouseNo": "testStreet",
        "zipCode": "12345",
        "city": "testCity",
        "countryCode": "DE",
        "genderCode": "FEMALE",
        "birthDate": "1991-01-01",
        "phone": "012345",
        "customProperties": [
            {"id": "9f7e8b6d-d029-4ae2-86b7-2f551b96c5bc", "name": "exampleCustomProperty 1", "value": "abcde"},
            {"id": "fc669654-5e06-42a7-a126-5ab1434debdb", "name": "exampleCustomProperty 1", "value": "10001"}
        ]
    })
}

#[test]
fn the_documents_create_body_sets_every_convercus_field() {
    let translated = create(documents_create_body());
    assert_eq!(refused(&translated), vec![]);
    let expected = UserPatch {
        email: email("test.user@example.com"),
        given_name: name("testName"),
        family_name: name("testFamilyname"),
        street: Change::Set(AddressLine::parse("", "testStreet").unwrap()),
        postal_code: zip("12345"),
        city: place("testCity"),
        country: Change::Set(CountryCode::parse("", "DE").unwrap()),
        gender: Change::Set(Gender::Female),
        birth_date: Change::Set(BirthDate::parse("", "1991-01-01", TODAY).unwrap()),
        phone: Change::Set(Phone::parse("", "012345", None).unwrap()),
        // Not Convercus fields: the customer reference, national id, passport, suburb and
        // region stay as they are; custom properties are resolved by the service.
        ..UserPatch::default()
    };
    assert_eq!(translated.patch, expected);
    assert_eq!(
        translated.properties,
        Some(vec![
            property(Some("9f7e8b6d-d029-4ae2-86b7-2f551b96c5bc"), "exampleCustomProperty 1", "abcde"),
            property(Some("fc669654-5e06-42a7-a126-5ab1434debdb"), "exampleCustomProperty 1", "10001"),
        ])
    );
}

#[test]
fn put_clears_every_convercus_field_it_does_not_send_and_keeps_the_others() {
    let translated = replace(json!({"emailAddress": "test.user@example.com", "givenName": null}));
    assert_eq!(refused(&translated), vec![]);
    let expected = UserPatch {
        email: email("test.user@example.com"),
        given_name: Change::Clear,
        family_name: Change::Clear,
        street: Change::Clear,
        postal_code: Change::Clear,
        city: Change::Clear,
        country: Change::Clear,
        gender: Change::Clear,
        birth_date: Change::Clear,
        phone: Change::Clear,
        ..UserPatch::default()
    };
    assert_eq!(translated.patch, expected);
    assert!(translated.patch.customer_ref.is_keep() && translated.patch.national_id.is_keep());
    assert!(translated.patch.passport_number.is_keep() && translated.patch.suburb.is_keep());
    assert!(translated.patch.region.is_keep());
    assert_eq!(translated.properties, Some(vec![]), "custom properties not sent are deleted");
}

#[test]
fn patch_sets_only_what_it_sends_and_reads_the_documents_number_as_text() {
    let translated = patch(json!({"zipCode": 22222}));
    assert_eq!(refused(&translated), vec![]);
    assert_eq!(translated.patch, UserPatch { postal_code: zip("22222"), ..UserPatch::default() });
    assert_eq!(translated.properties, None, "custom properties not sent are kept");
}

#[test]
fn patch_with_null_clears_the_zip_code() {
    let translated = patch(json!({"zipCode": null}));
    assert_eq!(refused(&translated), vec![]);
    assert_eq!(translated.patch, UserPatch { postal_code: Change::Clear, ..UserPatch::default() });
}

#[test]
fn patch_with_every_member_null_but_the_email_clears_them_all() {
    let translated = patch(json!({
        "givenName": null, "familyName": null, "streetHouseNo": null, "zipCode": null, "city": null,
        "countryCode": null, "genderCode": null, "birthDate": null, "phone": null, "customProperties": null
    }));
    assert_eq!(refused(&translated), vec![]);
    let mut expected = replace(json!({"emailAddress": "a@example.com"})).patch;
    expected.email = Change::Keep;
    assert_eq!(translated.patch, expected, "the same clearing as a PUT that sends only the e-mail");
    assert_eq!(translated.properties, Some(vec![]), "null deletes every custom property");
}

#[test]
fn an_empty_patch_changes_nothing() {
    let translated = patch(json!({}));
    assert_eq!((translated.patch, translated.properties, translated.errors.0), (UserPatch::default(), None, vec![]));
}

#[test]
fn custom_properties_are_replaced_as_a_whole_and_values_may_be_numbers() {
    let translated = patch(json!({"customProperties": [{"name": "exampleCustomProperty 1", "value": 10001}]}));
    assert_eq!(refused(&translated), vec![]);
    assert_eq!(translated.patch, UserPatch::default());
    assert_eq!(translated.properties, Some(vec![property(None, "exampleCustomProperty 1", "10001")]));
    let by_id = patch(json!({"customProperties": [{"id": "9f7e8b6d-d029-4ae2-86b7-2f551b96c5bc"}]}));
    assert_eq!(
        by_id.properties,
        Some(vec![CustomPropertyInput {
            id: Some("9f7e8b6d-d029-4ae2-86b7-2f551b96c5bc".into()),
            ..Default::default()
        }])
    );
}

#[test]
fn the_email_address_is_required_on_create_and_put_and_cannot_be_deleted_by_patch() {
    assert_eq!(refused(&create(json!({"givenName": "testName"}))), vec![("emailAddress", "required")]);
    assert_eq!(refused(&replace(json!({}))), vec![("emailAddress", "required")]);
    assert_eq!(refused(&replace(json!({"emailAddress": null}))), vec![("emailAddress", "required")]);
    let deleted = patch(json!({"emailAddress": null}));
    assert_eq!(deleted.errors.0.len(), 1);
    assert_eq!(deleted.errors.0[0].field, "emailAddress");
    assert_eq!(deleted.errors.0[0].violation, Violation::Other("is mandatory and cannot be deleted".into()));
}

#[test]
fn user_id_is_refused_unless_it_names_the_user_written_and_loyalty_points_always() {
    let other = "fc669654-5e06-42a7-a126-5ab1434debdb";
    let mail = "test.user@example.com";
    assert_eq!(refused(&replace(json!({"emailAddress": mail, "userId": USER_ID}))), vec![]);
    assert_eq!(refused(&patch(json!({"userId": USER_ID}))), vec![]);
    assert_eq!(refused(&replace(json!({"emailAddress": mail, "userId": other}))), vec![("userId", "read_only")]);
    assert_eq!(refused(&patch(json!({"userId": other}))), vec![("userId", "read_only")]);
    // A create names no user yet, so any userId is refused.
    assert_eq!(refused(&create(json!({"emailAddress": mail, "userId": USER_ID}))), vec![("userId", "read_only")]);
    for points in [json!(0), json!(null), json!("100")] {
        assert_eq!(
            refused(&create(json!({"emailAddress": mail, "loyaltyPoints": points}))),
            vec![("loyaltyPoints", "read_only")]
        );
        assert_eq!(refused(&patch(json!({"loyaltyPoints": points}))), vec![("loyaltyPoints", "read_only")]);
    }
}

#[test]
fn every_bad_value_is_refused_at_once_under_its_convercus_name() {
    let body = json!({
        "emailAddress": "not-an-email", "givenName": " ", "familyName": "x".repeat(101),
        "streetHouseNo": "a\tb", "zipCode": "12_34", "city": "", "countryCode": "XX",
        "genderCode": "female", "birthDate": "01.01.1991", "phone": "call me"
    });
    let expected = vec![
        ("emailAddress", "format"),
        ("givenName", "empty"),
        ("familyName", "too_long"),
        ("streetHouseNo", "control_character"),
        ("zipCode", "format"),
        ("city", "empty"),
        ("countryCode", "format"),
        ("genderCode", "not_one_of"),
        ("birthDate", "format"),
        ("phone", "format"),
    ];
    assert_eq!(refused(&create(body.clone())), expected);
    assert_eq!(refused(&patch(body)), expected);
}

#[test]
fn a_birth_date_is_a_real_date_neither_in_the_future_nor_before_1900() {
    for (text, code) in [("2026-05-02", "invalid"), ("1899-12-31", "invalid"), ("1991-02-30", "format")] {
        assert_eq!(refused(&patch(json!({"birthDate": text}))), vec![("birthDate", code)], "{text}");
    }
    let today = patch(json!({"birthDate": "2026-05-01"}));
    assert_eq!(today.patch.birth_date, Change::Set(BirthDate::parse("", "2026-05-01", TODAY).unwrap()));
}

#[test]
fn unknown_and_mistyped_members_are_named_as_sent() {
    let mail = "test.user@example.com";
    assert_eq!(
        undecodable::<ConvercusUserInput>(json!({"emailAddress": mail, "nickname": "x"})),
        vec![("nickname".to_owned(), "unknown_field")]
    );
    // The vendor's casing only.
    assert_eq!(
        undecodable::<ConvercusUserPatch>(json!({"EmailAddress": mail})),
        vec![("EmailAddress".to_owned(), "unknown_field")]
    );
    assert_eq!(
        undecodable::<ConvercusUserPatch>(json!({"zip_code": "1"})),
        vec![("zip_code".to_owned(), "unknown_field")]
    );
    assert_eq!(
        undecodable::<ConvercusUserPatch>(json!({"givenName": true})),
        vec![("givenName".to_owned(), "invalid")]
    );
    assert_eq!(
        undecodable::<ConvercusUserInput>(
            json!({"emailAddress": mail, "customProperties": [{"name": "a", "colour": "red"}]})
        ),
        vec![("customProperties[0].colour".to_owned(), "unknown_field")]
    );
    assert_eq!(
        undecodable::<ConvercusUserPatch>(json!({"customProperties": {"name": "a"}})),
        vec![("customProperties".to_owned(), "invalid")]
    );
}
