//! A user as the native API answers it: written straight from the user's fields, borrowing
//! their text.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use clientele_domain::user::{
    AddressLine, BirthDate, CountryCode, CustomerRef, Email, Gender, NationalId, PassportNumber, PersonName, Phone,
    Place, PostalCode, User,
};

use crate::routes::rfc3339;

/// A user's address.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AddressView<'a> {
    street: Option<&'a str>,
    suburb: Option<&'a str>,
    city: Option<&'a str>,
    region: Option<&'a str>,
    postal_code: Option<&'a str>,
}

/// A custom property value, with the definition's name.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CustomPropertyView<'a> {
    #[schema(value_type = String)]
    #[serde(serialize_with = "as_text")]
    id: clientele_domain::property::PropertyId,
    name: &'a str,
    value: &'a str,
}

/// A user.
// It borrows the user's text rather than copying it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserView<'a> {
    #[schema(value_type = String)]
    #[serde(serialize_with = "as_text")]
    id: clientele_domain::user::UserId,
    customer_ref: Option<&'a str>,
    given_name: Option<&'a str>,
    family_name: Option<&'a str>,
    email: Option<&'a str>,
    /// As given.
    phone: Option<&'a str>,
    /// The phone number in E.164, where it is a valid number (read-only).
    phone_e164: Option<&'a str>,
    birth_date: Option<String>,
    gender: Option<&'static str>,
    country: Option<&'a str>,
    national_id: Option<&'a str>,
    passport_number: Option<&'a str>,
    address: AddressView<'a>,
    custom_properties: Vec<CustomPropertyView<'a>>,
    /// Free-form strings by key; `{}` for none.
    #[schema(value_type = BTreeMap<String, String>, example = json!({"Branch": "CPT"}))]
    metadata: BTreeMap<&'a str, &'a str>,
    /// The loyalty balance (read-only).
    loyalty_points: i64,
    /// Increases with every change; also the `ETag` (read-only).
    version: i64,
    created_at: String,
    updated_at: String,
}

/// Writes an id as its text, without an intermediate string.
fn as_text<S: serde::Serializer>(value: &impl std::fmt::Display, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

fn text<T>(value: &Option<T>, as_str: fn(&T) -> &str) -> Option<&str> {
    value.as_ref().map(as_str)
}

impl<'a> From<&'a User> for UserView<'a> {
    fn from(user: &'a User) -> Self {
        let f = &user.fields;
        UserView {
            id: user.id,
            customer_ref: text(&f.customer_ref, CustomerRef::as_str),
            given_name: text(&f.given_name, PersonName::as_str),
            family_name: text(&f.family_name, PersonName::as_str),
            email: text(&f.email, Email::as_str),
            phone: text(&f.phone, Phone::as_str),
            phone_e164: f.phone.as_ref().and_then(Phone::e164),
            birth_date: f.birth_date.map(BirthDate::to_iso),
            gender: f.gender.map(Gender::code),
            country: f.country.as_ref().map(CountryCode::as_str),
            national_id: text(&f.national_id, NationalId::as_str),
            passport_number: text(&f.passport_number, PassportNumber::as_str),
            address: AddressView {
                street: text(&f.address.street, AddressLine::as_str),
                suburb: text(&f.address.suburb, Place::as_str),
                city: text(&f.address.city, Place::as_str),
                region: text(&f.address.region, Place::as_str),
                postal_code: text(&f.address.postal_code, PostalCode::as_str),
            },
            custom_properties: f
                .custom_properties
                .iter()
                .map(|p| CustomPropertyView { id: p.id, name: p.name.as_str(), value: &p.value })
                .collect(),
            metadata: f.metadata.iter().collect(),
            loyalty_points: user.loyalty_points,
            version: user.version,
            created_at: rfc3339(user.created_at),
            updated_at: rfc3339(user.updated_at),
        }
    }
}
