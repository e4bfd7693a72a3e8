//! Mapping out: a user, a stored answer and a login as the Convercus document shows them.

use std::time::Duration;

use axum::http::header::{HOST, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use time::macros::{date, datetime};

use clientele_domain::property::{CustomPropertyValue, PropertyName};
use clientele_domain::user::{
    Address, AddressLine, BirthDate, CountryCode, CustomerRef, Email, Gender, NationalId, PassportNumber, PersonName,
    Phone, Place, PostalCode, User, UserFields,
};
use clientele_service::AccessToken;

use super::{AuthHeader, BARE_CHALLENGE, USER_ID, json_parts};
use crate::ConvercusUser;
use crate::login::{ConvercusLogin, ConvercusToken, refused};

fn user(fields: UserFields) -> User {
    let at = datetime!(2026-05-01 10:00 UTC);
    User {
        id: USER_ID.parse().unwrap(),
        fields,
        loyalty_points: 120,
        points_expire_at: None,
        version: 3,
        created_at: at,
        updated_at: at,
    }
}

fn answer(user: &User) -> Value {
    serde_json::to_value(ConvercusUser::from(user)).unwrap()
}

/// The document's example user, with what only other surfaces know besides.
fn documents_user() -> User {
    let property = |id: &str, name: &str, value: &str| CustomPropertyValue {
        id: id.parse().unwrap(),
        name: PropertyName::parse("", name).unwrap(),
        value: value.to_owned(),
    };
    user(UserFields {
        customer_ref: Some(CustomerRef::parse("", "CUST001").unwrap()),
        given_name: Some(PersonName::parse("", "testName").unwrap()),
        family_name: Some(PersonName::parse("", "testFamilyname").unwrap()),
        email: Some(Email::parse("", "test.user@example.com").unwrap()),
        phone: Some(Phone::parse("", "012345", None).unwrap()),
        birth_date: Some(BirthDate::parse("", "1991-01-01", date!(2026 - 05 - 01)).unwrap()),
        gender: Some(Gender::Female),
        country: Some(CountryCode::parse("", "DE").unwrap()),
        national_id: Some(NationalId::parse("", "8001015009087").unwrap()),
        passport_number: Some(PassportNumber::parse("", "A1234567").unwrap()),
        address: Address {
            street: Some(AddressLine::parse("", "testStreet").unwrap()),
            suburb: Some(Place::parse("", "Gardens").unwrap()),
            city: Some(Place::parse("", "testCity").unwrap()),
            region: Some(Place::parse("", "Western Cape").unwrap()),
            postal_code: Some(PostalCode::parse("", "12345").unwrap()),
        },
        custom_properties: vec![property("9f7e8b6d-d029-4ae2-86b7-2f551b96c5bc", "exampleCustomProperty 1", "abcde")],
        metadata: clientele_domain::user::Metadata::parse("", [("Branch", "CPT")]).unwrap(),
    })
}

#[test]
fn a_user_is_answered_exactly_as_the_documents_get_example() {
    // Only the Convercus fields, in camelCase, every one a string; custom properties by
    // name and value; nothing of what other surfaces know (reference, national id,
    // passport, suburb, region) and no loyalty points or version.
    let expected = json!({
        "userId": USER_ID,
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
        "customProperties": [{"name": "exampleCustomProperty 1", "value": "abcde"}]
    });
    assert_eq!(answer(&documents_user()), expected);
}

#[test]
fn unknown_fields_are_left_out_and_custom_properties_are_always_a_list() {
    let only_email =
        user(UserFields { email: Some(Email::parse("", "a@example.com").unwrap()), ..UserFields::default() });
    assert_eq!(
        answer(&only_email),
        json!({"userId": USER_ID, "emailAddress": "a@example.com", "customProperties": []})
    );
    // An erased user has no e-mail address, and none is invented.
    assert_eq!(answer(&user(UserFields::default())), json!({"userId": USER_ID, "customProperties": []}));
}

#[test]
fn every_gender_is_answered_in_the_documents_codes() {
    for (gender, code) in [(Gender::Male, "MALE"), (Gender::Female, "FEMALE"), (Gender::Diverse, "DIVERSE")] {
        let answer = answer(&user(UserFields { gender: Some(gender), ..UserFields::default() }));
        assert_eq!(answer["genderCode"], code);
    }
}

#[test]
fn a_created_user_is_stored_with_its_etag_and_location() {
    let mut headers = HeaderMap::new();
    headers.insert(HOST, HeaderValue::from_static("api.example.com"));
    headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
    let base = crate::base_url(&headers);
    assert_eq!(base, "https://api.example.com");
    let user = documents_user();
    let stored = crate::render(StatusCode::CREATED, &user, Some(&base));
    assert_eq!(stored.status, 201);
    let expected_headers = [
        ("content-type", "application/json".to_owned()),
        ("etag", "\"3\"".to_owned()),
        ("location", format!("https://api.example.com/users/{USER_ID}")),
    ];
    let headers: Vec<(&str, String)> = stored.headers.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
    assert_eq!(headers, expected_headers);
    assert_eq!(serde_json::from_slice::<Value>(&stored.body).unwrap(), answer(&user));
    // Reads and writes of an existing user carry no Location.
    let read = crate::render(StatusCode::OK, &user, None);
    assert_eq!(read.status, 200);
    assert!(!read.headers.iter().any(|(name, _)| name == LOCATION.as_str()));
}

#[test]
fn the_location_base_is_the_host_reached_with_only_http_or_https_believed() {
    let base = |pairs: &[(&'static str, &'static str)]| {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        crate::base_url(&headers)
    };
    assert_eq!(base(&[("host", "api.example.com:8080")]), "http://api.example.com:8080");
    assert_eq!(base(&[("host", "api.example.com"), ("x-forwarded-proto", "javascript")]), "http://api.example.com");
    assert_eq!(base(&[]), "http://localhost");
}

#[test]
fn a_user_id_that_is_no_uuid_is_simply_not_found() {
    let error = crate::user_id("not-a-user").unwrap_err();
    let (status, _, body) = json_parts(error.into_response());
    assert_eq!((status.as_u16(), body["message"].as_str()), (404, Some("user not found")));
    assert!(crate::user_id(USER_ID).is_ok());
}

#[test]
fn a_login_body_names_the_merchant_key_and_secret_in_the_vendors_casing() {
    let login: ConvercusLogin =
        clientele_http::decode_json(br#"{"org": "M1001", "userName": "key-id", "password": "secret"}"#).unwrap();
    assert_eq!((login.org.as_str(), login.user_name.as_str(), login.password.as_str()), ("M1001", "key-id", "secret"));
    let missing = clientele_http::decode_json::<ConvercusLogin>(br#"{"org": "M1001", "userName": "key-id"}"#);
    assert!(
        matches!(&missing, Err(clientele_service::Refusal::Invalid(e)) if e.0[0].field == "password"),
        "{missing:?}"
    );
    let cased = clientele_http::decode_json::<ConvercusLogin>(br#"{"org": "M1001", "username": "k", "password": "s"}"#);
    assert!(matches!(&cased, Err(clientele_service::Refusal::Invalid(e)) if e.0[0].field == "username"), "{cased:?}");
}

#[test]
fn a_login_answers_a_bearer_token_valid_for_a_day() {
    let issued = AccessToken { token: "eyJ.token".to_owned(), expires_in: Duration::from_secs(86_400) };
    let answer = serde_json::to_value(ConvercusToken::from(issued)).unwrap();
    assert_eq!(answer, json!({"token": "eyJ.token", "tokenType": "Bearer", "expiresIn": 86400}));
}

#[test]
fn refused_credentials_answer_401_with_the_bare_challenge() {
    let (status, headers, mut body) = json_parts(refused().into_response());
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    AuthHeader::Challenge(BARE_CHALLENGE).check(&headers, "a refused login");
    body.as_object_mut().unwrap().remove("timestamp").unwrap();
    assert_eq!(body, json!({"status": 401, "error": "Unauthorized", "message": "invalid credentials"}));
}
