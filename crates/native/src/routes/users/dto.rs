//! The native user shapes: what clients send (create and replace, merge patch) and what
//! they get back, and the parsing of the former into domain values.

use std::collections::BTreeMap;

use serde::Deserialize;
use time::Date;
use utoipa::ToSchema;

use clientele_domain::property::CustomPropertyInput;
use clientele_domain::user::{
    Address, AddressLine, BirthDate, Change, CountryCode, CustomerRef, Email, Gender, NationalId, PassportNumber,
    PersonName, Phone, Place, PostalCode, UserFields, UserPatch,
};
use clientele_domain::{FieldError, ValidationErrors, Violation};

use crate::wire::{Patch, Sent, Text};

/// A user's address; every part is optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"street": "1 Main Road", "suburb": "Gardens", "city": "Cape Town", "region": "Western Cape",
    "postal_code": "8001"}))]
pub(crate) struct AddressBody {
    /// Street and house number, at most 512 characters.
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    street: Option<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    suburb: Option<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    city: Option<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    region: Option<Text>,
    /// At most 16 letters, digits, spaces or `-`.
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    postal_code: Option<Text>,
}

/// A value of one of the merchant's defined custom properties, named by `id` or `name`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "shoe size", "value": "42"}))]
pub(crate) struct CustomPropertyBody {
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    id: Option<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    name: Option<Text>,
    /// Checked against the definition's value type.
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    value: Option<Text>,
}

/// Refuses, by name, every read-only member that was sent.
fn refuse_read_only(members: [(&str, Sent); 7], errors: &mut ValidationErrors) {
    for (name, sent) in members {
        if sent.0 {
            errors.push(FieldError::new(name, Violation::ReadOnly));
        }
    }
}

/// A user to create, or (PUT) every writable field of a user: what is not sent is cleared.
/// Numbers are accepted where strings are expected, as their decimal text.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "customer_ref": "FROST01", "given_name": "Jack", "family_name": "Frost",
    "email": "jack.frost@myemail.com", "phone": "+27 82 764 8862", "birth_date": "1980-05-31",
    "gender": "MALE", "country": "ZA", "national_id": "8005315009087",
    "address": {"street": "1 Main Road", "city": "Cape Town", "postal_code": "8001"},
    "custom_properties": [{"name": "shoe size", "value": "42"}],
    "metadata": {"Branch": "CPT"}
}))]
pub(crate) struct UserBody {
    /// The merchant's own reference, unique per merchant, at most 100 characters.
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    customer_ref: Option<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    given_name: Option<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    family_name: Option<Text>,
    /// A valid address, at most 254 characters; lookups ignore case.
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    email: Option<Text>,
    /// Kept as given; its E.164 form is worked out where it parses.
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    phone: Option<Text>,
    /// `YYYY-MM-DD`, not in the future.
    #[serde(default)]
    #[schema(value_type = Option<Text>, format = Date)]
    birth_date: Option<Text>,
    /// `MALE`, `FEMALE` or `DIVERSE`.
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    gender: Option<Text>,
    /// ISO 3166-1 alpha-2.
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    country: Option<Text>,
    /// With `country`, unique per merchant.
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    national_id: Option<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    passport_number: Option<Text>,
    #[serde(default)]
    address: Option<AddressBody>,
    /// Values of defined properties only; replaces all of the user's values.
    #[serde(default)]
    custom_properties: Option<Vec<CustomPropertyBody>>,
    /// Free-form strings by key: at most 50 keys, a key at most 40 characters, a value at
    /// most 500, no control characters.
    #[serde(default)]
    #[schema(value_type = Option<BTreeMap<String, String>>, example = json!({"Branch": "CPT"}))]
    metadata: Option<BTreeMap<String, Text>>,
    #[serde(default)]
    #[schema(ignore)]
    id: Sent,
    #[serde(default)]
    #[schema(ignore)]
    merchant_id: Sent,
    #[serde(default)]
    #[schema(ignore)]
    phone_e164: Sent,
    #[serde(default)]
    #[schema(ignore)]
    loyalty_points: Sent,
    #[serde(default)]
    #[schema(ignore)]
    version: Sent,
    #[serde(default)]
    #[schema(ignore)]
    created_at: Sent,
    #[serde(default)]
    #[schema(ignore)]
    updated_at: Sent,
}

/// A merge patch of a user (RFC 7396): members sent are set, `null` clears, members not
/// sent are kept. `address` and `metadata` merge member by member; `custom_properties` is
/// replaced whole.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "jack.frost.updated@myemail.com", "address": {"postal_code": null}}))]
pub(crate) struct UserPatchBody {
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    customer_ref: Patch<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    given_name: Patch<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    family_name: Patch<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    email: Patch<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    phone: Patch<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>, format = Date)]
    birth_date: Patch<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    gender: Patch<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    country: Patch<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    national_id: Patch<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    passport_number: Patch<Text>,
    #[serde(default)]
    #[schema(value_type = Option<AddressPatchBody>)]
    address: Patch<AddressPatchBody>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<CustomPropertyBody>>)]
    custom_properties: Patch<Vec<CustomPropertyBody>>,
    /// Merged key by key: a key with a value is set, a key with `null` removed, the others
    /// kept; `null` removes every key.
    #[serde(default)]
    #[schema(value_type = Option<BTreeMap<String, Option<String>>>, example = json!({"Branch": "JNB", "Tier": null}))]
    metadata: Patch<BTreeMap<String, Option<Text>>>,
    #[serde(default)]
    #[schema(ignore)]
    id: Sent,
    #[serde(default)]
    #[schema(ignore)]
    merchant_id: Sent,
    #[serde(default)]
    #[schema(ignore)]
    phone_e164: Sent,
    #[serde(default)]
    #[schema(ignore)]
    loyalty_points: Sent,
    #[serde(default)]
    #[schema(ignore)]
    version: Sent,
    #[serde(default)]
    #[schema(ignore)]
    created_at: Sent,
    #[serde(default)]
    #[schema(ignore)]
    updated_at: Sent,
}

/// A merge patch of the address: each part set, cleared (`null`) or kept.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AddressPatchBody {
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    street: Patch<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    suburb: Patch<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    city: Patch<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    region: Patch<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    postal_code: Patch<Text>,
}

/// Collects every refused field of one body.
struct Fields {
    errors: ValidationErrors,
    today: Date,
}

impl Fields {
    fn one<T>(
        &mut self,
        name: &str,
        value: Option<Text>,
        parse: impl FnOnce(&str, &str) -> Result<T, FieldError>,
    ) -> Option<T> {
        value.and_then(|value| self.errors.take(parse(name, value.as_str())))
    }

    fn change<T>(
        &mut self,
        name: &str,
        value: Patch<Text>,
        parse: impl FnOnce(&str, &str) -> Result<T, FieldError>,
    ) -> Change<T> {
        match value {
            Patch::Absent => Change::Keep,
            Patch::Null => Change::Clear,
            Patch::Value(value) => self.errors.take(parse(name, value.as_str())).map_or(Change::Keep, Change::Set),
        }
    }
}

fn phone(field: &str, value: &str) -> Result<Phone, FieldError> {
    // The E.164 form is worked out once the country is known (UserFields::normalised).
    Phone::parse(field, value, None)
}

fn properties(list: Vec<CustomPropertyBody>) -> Vec<CustomPropertyInput> {
    list.into_iter()
        .map(|p| CustomPropertyInput { id: p.id.map(|t| t.0), name: p.name.map(|t| t.0), value: p.value.map(|t| t.0) })
        .collect()
}

impl UserBody {
    /// The fields, the custom property values still to resolve, and every refused field.
    pub(crate) fn parse(self, today: Date) -> (UserFields, Vec<CustomPropertyInput>, ValidationErrors) {
        let mut f = Fields { errors: ValidationErrors::default(), today };
        refuse_read_only(
            [
                ("id", self.id),
                ("merchant_id", self.merchant_id),
                ("phone_e164", self.phone_e164),
                ("loyalty_points", self.loyalty_points),
                ("version", self.version),
                ("created_at", self.created_at),
                ("updated_at", self.updated_at),
            ],
            &mut f.errors,
        );
        let address = self.address.unwrap_or_default();
        let fields = UserFields {
            customer_ref: f.one("customer_ref", self.customer_ref, CustomerRef::parse),
            given_name: f.one("given_name", self.given_name, PersonName::parse),
            family_name: f.one("family_name", self.family_name, PersonName::parse),
            email: f.one("email", self.email, Email::parse),
            phone: f.one("phone", self.phone, phone),
            birth_date: f.one("birth_date", self.birth_date, |n, v| BirthDate::parse(n, v, today)),
            gender: f.one("gender", self.gender, Gender::parse),
            country: f.one("country", self.country, CountryCode::parse),
            national_id: f.one("national_id", self.national_id, NationalId::parse),
            passport_number: f.one("passport_number", self.passport_number, PassportNumber::parse),
            address: Address {
                street: f.one("address.street", address.street, AddressLine::parse),
                suburb: f.one("address.suburb", address.suburb, Place::parse),
                city: f.one("address.city", address.city, Place::parse),
                region: f.one("address.region", address.region, Place::parse),
                postal_code: f.one("address.postal_code", address.postal_code, PostalCode::parse),
            },
            custom_properties: Vec::new(),
            metadata: super::metadata::whole(self.metadata, &mut f.errors),
        };
        (fields, properties(self.custom_properties.unwrap_or_default()), f.errors)
    }
}

impl UserPatchBody {
    /// The patch, the custom property values still to resolve (`None`: keep them; an
    /// empty list: clear them), and every refused field.
    pub(crate) fn parse(self, today: Date) -> (UserPatch, Option<Vec<CustomPropertyInput>>, ValidationErrors) {
        let mut f = Fields { errors: ValidationErrors::default(), today };
        refuse_read_only(
            [
                ("id", self.id),
                ("merchant_id", self.merchant_id),
                ("phone_e164", self.phone_e164),
                ("loyalty_points", self.loyalty_points),
                ("version", self.version),
                ("created_at", self.created_at),
                ("updated_at", self.updated_at),
            ],
            &mut f.errors,
        );
        let address = match self.address {
            Patch::Absent => AddressPatchBody::default(),
            Patch::Null => AddressPatchBody {
                street: Patch::Null,
                suburb: Patch::Null,
                city: Patch::Null,
                region: Patch::Null,
                postal_code: Patch::Null,
            },
            Patch::Value(address) => address,
        };
        let today = f.today;
        let patch = UserPatch {
            customer_ref: f.change("customer_ref", self.customer_ref, CustomerRef::parse),
            given_name: f.change("given_name", self.given_name, PersonName::parse),
            family_name: f.change("family_name", self.family_name, PersonName::parse),
            email: f.change("email", self.email, Email::parse),
            phone: f.change("phone", self.phone, phone),
            birth_date: f.change("birth_date", self.birth_date, |n, v| BirthDate::parse(n, v, today)),
            gender: f.change("gender", self.gender, Gender::parse),
            country: f.change("country", self.country, CountryCode::parse),
            national_id: f.change("national_id", self.national_id, NationalId::parse),
            passport_number: f.change("passport_number", self.passport_number, PassportNumber::parse),
            street: f.change("address.street", address.street, AddressLine::parse),
            suburb: f.change("address.suburb", address.suburb, Place::parse),
            city: f.change("address.city", address.city, Place::parse),
            region: f.change("address.region", address.region, Place::parse),
            postal_code: f.change("address.postal_code", address.postal_code, PostalCode::parse),
            custom_properties: Change::Keep,
            metadata: super::metadata::edits(self.metadata, &mut f.errors),
        };
        let properties = match self.custom_properties {
            Patch::Absent => None,
            Patch::Null => Some(Vec::new()),
            Patch::Value(list) => Some(properties(list)),
        };
        (patch, properties, f.errors)
    }
}
