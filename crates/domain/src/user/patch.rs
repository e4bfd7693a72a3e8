//! Partial updates (RFC 7396 merge patches, RealPay's edit-what-is-given): each field is
//! kept, cleared or set.

use crate::property::CustomPropertyValue;

use super::{AddressLine, BirthDate, CountryCode, CustomerRef, Email, Gender, NationalId, PassportNumber};
use super::{MetadataEdits, PersonName, Phone, Place, PostalCode, UserFields};
use crate::FieldError;

/// What a patch does to one field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Change<T> {
    /// The field was not in the patch.
    #[default]
    Keep,
    /// The field was `null`.
    Clear,
    Set(T),
}

impl<T> Change<T> {
    fn apply_to(self, slot: &mut Option<T>) {
        match self {
            Change::Keep => {}
            Change::Clear => *slot = None,
            Change::Set(value) => *slot = Some(value),
        }
    }

    pub fn is_keep(&self) -> bool {
        matches!(self, Change::Keep)
    }
}

/// A partial update of a user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserPatch {
    pub customer_ref: Change<CustomerRef>,
    pub given_name: Change<PersonName>,
    pub family_name: Change<PersonName>,
    pub email: Change<Email>,
    pub phone: Change<Phone>,
    pub birth_date: Change<BirthDate>,
    pub gender: Change<Gender>,
    pub country: Change<CountryCode>,
    pub national_id: Change<NationalId>,
    pub passport_number: Change<PassportNumber>,
    pub street: Change<AddressLine>,
    pub suburb: Change<Place>,
    pub city: Change<Place>,
    pub region: Change<Place>,
    pub postal_code: Change<PostalCode>,
    /// Custom properties are replaced as a whole, never merged.
    pub custom_properties: Change<Vec<CustomPropertyValue>>,
    /// Metadata is merged key by key (RFC 7396): a key set, a key removed, the rest kept.
    pub metadata: MetadataEdits,
}

impl UserPatch {
    /// The fields after the patch; refused when the metadata would hold too many keys.
    pub fn apply(self, mut fields: UserFields) -> Result<UserFields, FieldError> {
        fields.metadata = fields.metadata.edited("metadata", &self.metadata)?;
        self.customer_ref.apply_to(&mut fields.customer_ref);
        self.given_name.apply_to(&mut fields.given_name);
        self.family_name.apply_to(&mut fields.family_name);
        self.email.apply_to(&mut fields.email);
        self.phone.apply_to(&mut fields.phone);
        self.birth_date.apply_to(&mut fields.birth_date);
        self.gender.apply_to(&mut fields.gender);
        self.country.apply_to(&mut fields.country);
        self.national_id.apply_to(&mut fields.national_id);
        self.passport_number.apply_to(&mut fields.passport_number);
        self.street.apply_to(&mut fields.address.street);
        self.suburb.apply_to(&mut fields.address.suburb);
        self.city.apply_to(&mut fields.address.city);
        self.region.apply_to(&mut fields.address.region);
        self.postal_code.apply_to(&mut fields.address.postal_code);
        match self.custom_properties {
            Change::Keep => {}
            Change::Clear => fields.custom_properties.clear(),
            Change::Set(values) => fields.custom_properties = values,
        }
        Ok(fields.normalised())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn name(value: &str) -> PersonName {
        PersonName::parse("n", value).unwrap()
    }

    fn city(value: &str) -> Place {
        Place::parse("c", value).unwrap()
    }

    #[test]
    fn keep_clear_and_set_do_what_they_say() {
        let before =
            UserFields { given_name: Some(name("Jack")), family_name: Some(name("Frost")), ..UserFields::default() };
        let patch =
            UserPatch { given_name: Change::Set(name("Jill")), family_name: Change::Clear, ..UserPatch::default() };
        let after = patch.apply(before).unwrap();
        assert_eq!(after.given_name, Some(name("Jill")));
        assert_eq!(after.family_name, None);
    }

    #[test]
    fn a_new_country_recomputes_the_phones_e164_form() {
        let before =
            UserFields { phone: Some(Phone::parse("p", "082 764 8862", None).unwrap()), ..UserFields::default() };
        assert_eq!(before.phone.as_ref().unwrap().e164(), None);
        let patch = UserPatch { country: Change::Set(CountryCode::parse("c", "ZA").unwrap()), ..UserPatch::default() };
        assert_eq!(patch.apply(before).unwrap().phone.unwrap().e164(), Some("+27827648862"));
    }

    fn change() -> impl Strategy<Value = Change<Place>> {
        prop_oneof![Just(Change::Keep), Just(Change::Clear), "[a-z]{1,8}".prop_map(|s| Change::Set(city(&s))),]
    }

    proptest! {
        #[test]
        fn an_empty_patch_changes_nothing(start in proptest::option::of("[a-z]{1,8}")) {
            let fields = UserFields { address: super::super::Address { city: start.as_deref().map(city), ..Default::default() }, ..Default::default() };
            prop_assert_eq!(UserPatch::default().apply(fields.clone()).unwrap(), fields);
        }

        #[test]
        fn applying_a_patch_twice_is_applying_it_once(start in proptest::option::of("[a-z]{1,8}"), c in change()) {
            let fields = UserFields { address: super::super::Address { city: start.as_deref().map(city), ..Default::default() }, ..Default::default() };
            let patch = UserPatch { city: c, ..UserPatch::default() };
            let once = patch.clone().apply(fields).unwrap();
            prop_assert_eq!(patch.apply(once.clone()).unwrap(), once);
        }
    }
}
