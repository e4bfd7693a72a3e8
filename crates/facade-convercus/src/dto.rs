//! The Convercus user shapes (camelCase, all strings) and their translation to the core.
//! Convercus knows a subset of a user's fields; its PUT replaces that subset and leaves the
//! rest (customer reference, national id...) to the surfaces that know them.

use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

use clientele_domain::property::CustomPropertyInput;
use clientele_domain::user::{
    AddressLine, BirthDate, Change, CountryCode, Email, Gender, PersonName, Phone, Place, PostalCode, User, UserPatch,
};
use clientele_domain::{FieldError, ValidationErrors, Violation};
use clientele_http::wire::{Patch, Sent, Text};

/// A custom property value, naming a preconfigured property by `id` and/or `name`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"id": "9f7e8b6d-d029-4ae2-86b7-2f551b96c5bc", "name": "exampleCustomProperty 1", "value": "abcde"}))]
pub struct ConvercusCustomProperty {
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    id: Option<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    name: Option<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    value: Option<Text>,
}

/// A user to create (POST) or to overwrite (PUT: every property not sent is deleted).
/// `emailAddress` is mandatory.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({
    "emailAddress": "test.user@example.com", "givenName": "testName", "familyName": "testFamilyname",
    "streetHouseNo": "testStreet", "zipCode": "12345", "city": "testCity", "countryCode": "DE",
    "genderCode": "FEMALE", "birthDate": "1991-01-01", "phone": "012345",
    "customProperties": [{"id": "9f7e8b6d-d029-4ae2-86b7-2f551b96c5bc", "name": "exampleCustomProperty 1", "value": "abcde"}]
}))]
pub struct ConvercusUserInput {
    #[serde(default)]
    #[schema(value_type = Text)]
    email_address: Option<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    given_name: Option<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    family_name: Option<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    street_house_no: Option<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    zip_code: Option<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    city: Option<Text>,
    /// ISO 3166-1 alpha-2.
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    country_code: Option<Text>,
    /// `MALE`, `FEMALE` or `DIVERSE`.
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    gender_code: Option<Text>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    birth_date: Option<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    phone: Option<Text>,
    #[serde(default)]
    custom_properties: Option<Vec<ConvercusCustomProperty>>,
    /// Read-only: accepted only when it names the user being written.
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    user_id: Option<Text>,
    #[serde(default)]
    #[schema(ignore)]
    loyalty_points: Sent,
}

/// Properties to change (PATCH): those sent are set, `null` deletes one, the rest stay.
/// `customProperties` is always replaced as a whole.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"zipCode": 22222}))]
pub struct ConvercusUserPatch {
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    email_address: Patch<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    given_name: Patch<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    family_name: Patch<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    street_house_no: Patch<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    zip_code: Patch<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    city: Patch<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    country_code: Patch<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    gender_code: Patch<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    birth_date: Patch<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    phone: Patch<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<ConvercusCustomProperty>>)]
    custom_properties: Patch<Vec<ConvercusCustomProperty>>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    user_id: Option<Text>,
    #[serde(default)]
    #[schema(ignore)]
    loyalty_points: Sent,
}

/// A Convercus write, translated: the core patch, the custom property values still to be
/// resolved (`None`: keep them), and every refused field.
#[derive(Debug)]
pub struct Translated {
    pub patch: UserPatch,
    pub properties: Option<Vec<CustomPropertyInput>>,
    pub errors: ValidationErrors,
}

fn properties(list: Vec<ConvercusCustomProperty>) -> Vec<CustomPropertyInput> {
    list.into_iter()
        .map(|p| CustomPropertyInput { id: p.id.map(|t| t.0), name: p.name.map(|t| t.0), value: p.value.map(|t| t.0) })
        .collect()
}

/// Refuses `userId` unless it names `target` (a client may send back what it read).
fn check_user_id(user_id: Option<Text>, target: Option<&str>, errors: &mut ValidationErrors) {
    if let Some(sent) = user_id
        && Some(sent.as_str()) != target
    {
        errors.push(FieldError::new("userId", Violation::ReadOnly));
    }
}

fn parse_into<T>(
    errors: &mut ValidationErrors,
    name: &str,
    value: Patch<Text>,
    parse: impl FnOnce(&str, &str) -> Result<T, FieldError>,
) -> Change<T> {
    match value {
        Patch::Absent => Change::Keep,
        Patch::Null => Change::Clear,
        Patch::Value(value) => errors.take(parse(name, value.as_str())).map_or(Change::Keep, Change::Set),
    }
}

fn phone(field: &str, value: &str) -> Result<Phone, FieldError> {
    Phone::parse(field, value, None)
}

/// The patch of the Convercus fields; `absent` says what an unsent member means.
#[derive(Debug)]
struct Members {
    email_address: Patch<Text>,
    given_name: Patch<Text>,
    family_name: Patch<Text>,
    street_house_no: Patch<Text>,
    zip_code: Patch<Text>,
    city: Patch<Text>,
    country_code: Patch<Text>,
    gender_code: Patch<Text>,
    birth_date: Patch<Text>,
    phone: Patch<Text>,
}

impl Members {
    fn translate(self, today: Date, errors: &mut ValidationErrors) -> UserPatch {
        UserPatch {
            email: parse_into(errors, "emailAddress", self.email_address, Email::parse),
            given_name: parse_into(errors, "givenName", self.given_name, PersonName::parse),
            family_name: parse_into(errors, "familyName", self.family_name, PersonName::parse),
            street: parse_into(errors, "streetHouseNo", self.street_house_no, AddressLine::parse),
            postal_code: parse_into(errors, "zipCode", self.zip_code, PostalCode::parse),
            city: parse_into(errors, "city", self.city, Place::parse),
            country: parse_into(errors, "countryCode", self.country_code, CountryCode::parse),
            gender: parse_into(errors, "genderCode", self.gender_code, Gender::parse),
            birth_date: parse_into(errors, "birthDate", self.birth_date, |n, v| BirthDate::parse(n, v, today)),
            phone: parse_into(errors, "phone", self.phone, phone),
            ..UserPatch::default()
        }
    }
}

/// An unsent member of a whole-user body: cleared (PUT) and, on creation, simply absent.
fn whole(value: Option<Text>) -> Patch<Text> {
    value.map_or(Patch::Null, Patch::Value)
}

impl ConvercusUserInput {
    /// Every Convercus field set or cleared. `target` is the user a PUT writes.
    pub fn translate(self, today: Date, target: Option<&str>) -> Translated {
        let mut errors = ValidationErrors::default();
        if self.email_address.is_none() {
            errors.push(FieldError::new("emailAddress", Violation::Required));
        }
        check_user_id(self.user_id, target, &mut errors);
        if self.loyalty_points.0 {
            errors.push(FieldError::new("loyaltyPoints", Violation::ReadOnly));
        }
        let members = Members {
            email_address: whole(self.email_address),
            given_name: whole(self.given_name),
            family_name: whole(self.family_name),
            street_house_no: whole(self.street_house_no),
            zip_code: whole(self.zip_code),
            city: whole(self.city),
            country_code: whole(self.country_code),
            gender_code: whole(self.gender_code),
            birth_date: whole(self.birth_date),
            phone: whole(self.phone),
        };
        let patch = members.translate(today, &mut errors);
        Translated { patch, properties: Some(properties(self.custom_properties.unwrap_or_default())), errors }
    }
}

impl ConvercusUserPatch {
    /// The members sent, set or cleared; `emailAddress` cannot be cleared.
    pub fn translate(self, today: Date, target: &str) -> Translated {
        let mut errors = ValidationErrors::default();
        if matches!(self.email_address, Patch::Null) {
            errors.push(FieldError::new("emailAddress", Violation::Other("is mandatory and cannot be deleted".into())));
        }
        check_user_id(self.user_id, Some(target), &mut errors);
        if self.loyalty_points.0 {
            errors.push(FieldError::new("loyaltyPoints", Violation::ReadOnly));
        }
        let members = Members {
            email_address: self.email_address,
            given_name: self.given_name,
            family_name: self.family_name,
            street_house_no: self.street_house_no,
            zip_code: self.zip_code,
            city: self.city,
            country_code: self.country_code,
            gender_code: self.gender_code,
            birth_date: self.birth_date,
            phone: self.phone,
        };
        let patch = members.translate(today, &mut errors);
        let properties = match self.custom_properties {
            Patch::Absent => None,
            Patch::Null => Some(Vec::new()),
            Patch::Value(list) => Some(properties(list)),
        };
        Translated { patch, properties, errors }
    }
}

/// A custom property value as Convercus answers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConvercusCustomPropertyView {
    name: String,
    value: String,
}

/// A user as Convercus answers it. Properties without a value are left out.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConvercusUser {
    user_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    family_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    street_house_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    zip_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    country_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gender_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    birth_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<String>,
    custom_properties: Vec<ConvercusCustomPropertyView>,
}

impl From<&User> for ConvercusUser {
    fn from(user: &User) -> Self {
        let f = &user.fields;
        ConvercusUser {
            user_id: user.id.to_string(),
            email_address: f.email.as_ref().map(|e| e.as_str().to_owned()),
            given_name: f.given_name.as_ref().map(|n| n.as_str().to_owned()),
            family_name: f.family_name.as_ref().map(|n| n.as_str().to_owned()),
            street_house_no: f.address.street.as_ref().map(|s| s.as_str().to_owned()),
            zip_code: f.address.postal_code.as_ref().map(|z| z.as_str().to_owned()),
            city: f.address.city.as_ref().map(|c| c.as_str().to_owned()),
            country_code: f.country.map(|c| c.as_str().to_owned()),
            gender_code: f.gender.map(Gender::code),
            birth_date: f.birth_date.map(BirthDate::to_iso),
            phone: f.phone.as_ref().map(|p| p.as_str().to_owned()),
            custom_properties: f
                .custom_properties
                .iter()
                .map(|p| ConvercusCustomPropertyView { name: p.name.as_str().to_owned(), value: p.value.clone() })
                .collect(),
        }
    }
}
