//! A user's fields by the names the native API gives them: which a user has, and which
//! differ between two versions (an event's field names, never their values).

use super::UserFields;

/// Each field's name, whether `a` has it, and whether `a` and `b` differ in it. Written
/// with every field taken apart, so a field added to [`UserFields`] does not compile here
/// until it is named.
fn fields<'a>(a: &'a UserFields, b: &'a UserFields) -> [(&'static str, bool, bool); 13] {
    let UserFields {
        customer_ref,
        given_name,
        family_name,
        email,
        phone,
        birth_date,
        gender,
        country,
        national_id,
        passport_number,
        address,
        custom_properties,
        metadata,
    } = a;
    [
        ("customer_ref", customer_ref.is_some(), *customer_ref != b.customer_ref),
        ("given_name", given_name.is_some(), *given_name != b.given_name),
        ("family_name", family_name.is_some(), *family_name != b.family_name),
        ("email", email.is_some(), *email != b.email),
        ("phone", phone.is_some(), *phone != b.phone),
        ("birth_date", birth_date.is_some(), *birth_date != b.birth_date),
        ("gender", gender.is_some(), *gender != b.gender),
        ("country", country.is_some(), *country != b.country),
        ("national_id", national_id.is_some(), *national_id != b.national_id),
        ("passport_number", passport_number.is_some(), *passport_number != b.passport_number),
        ("address", !address.is_empty(), *address != b.address),
        ("custom_properties", !custom_properties.is_empty(), !same_values(custom_properties, &b.custom_properties)),
        ("metadata", !metadata.is_empty(), *metadata != b.metadata),
    ]
}

/// Custom values are a set: the same values in another order are no change.
fn same_values(a: &[crate::property::CustomPropertyValue], b: &[crate::property::CustomPropertyValue]) -> bool {
    a.len() == b.len() && a.iter().all(|value| b.contains(value))
}

impl UserFields {
    /// The names of the fields this user has.
    pub fn given(&self) -> Vec<&'static str> {
        fields(self, self).into_iter().filter(|(_, has, _)| *has).map(|(name, _, _)| name).collect()
    }

    /// The names of the fields that differ in `other`.
    pub fn changed(&self, other: &UserFields) -> Vec<&'static str> {
        fields(self, other).into_iter().filter(|(_, _, differs)| *differs).map(|(name, _, _)| name).collect()
    }
}
