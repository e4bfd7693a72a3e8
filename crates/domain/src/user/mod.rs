//! The user: one model of a merchant's customer, whichever surface names its fields.

mod change;
mod fields;
mod lookup;
mod metadata;
mod names;
mod patch;
mod phone;
mod sa_id;

use time::OffsetDateTime;

use crate::id::uuid_id;
use crate::property::CustomPropertyValue;

pub use change::{ChangeKind, Origin, Surface, UserChange};
pub use fields::{
    AddressLine, BirthDate, CountryCode, CustomerRef, Email, Gender, NationalId, PassportNumber, PersonName, Place,
    PostalCode, format_date, parse_date,
};
pub use lookup::PhoneLookup;
pub use metadata::{Metadata, MetadataEdits, MetadataKey, MetadataValue};
pub use patch::{Change, UserPatch};
pub use phone::{Phone, e164, national_digits};
pub use sa_id::check_sa_id;

uuid_id!(
    /// A user's id, assigned by Clientele.
    UserId
);

/// Where a user lives. Every part is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    pub street: Option<AddressLine>,
    pub suburb: Option<Place>,
    pub city: Option<Place>,
    pub region: Option<Place>,
    pub postal_code: Option<PostalCode>,
}

impl Address {
    pub fn is_empty(&self) -> bool {
        *self == Address::default()
    }
}

/// Everything about a user that a client may write. `None` is "not known".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFields {
    pub customer_ref: Option<CustomerRef>,
    pub given_name: Option<PersonName>,
    pub family_name: Option<PersonName>,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub birth_date: Option<BirthDate>,
    pub gender: Option<Gender>,
    pub country: Option<CountryCode>,
    pub national_id: Option<NationalId>,
    pub passport_number: Option<PassportNumber>,
    pub address: Address,
    /// Values of the merchant's defined properties, by property id.
    pub custom_properties: Vec<CustomPropertyValue>,
    /// Free-form metadata, beside the typed custom properties.
    pub metadata: Metadata,
}

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub fields: UserFields,
    /// The loyalty balance: the sum of the user's points entries. Only the ledger moves it.
    pub loyalty_points: i64,
    /// When the next of the user's lots holding points expires: from then until an entry
    /// writes that expiry off, the balance is less than [`User::loyalty_points`].
    pub points_expire_at: Option<OffsetDateTime>,
    /// Increases with every change; the native API's ETag.
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl User {
    /// A new user with a fresh id, version 1 and no points.
    pub fn new(fields: UserFields, now: OffsetDateTime) -> Self {
        User {
            id: UserId::generate(),
            fields: fields.normalised(),
            loyalty_points: 0,
            points_expire_at: None,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    /// The next version of this user, with `fields` in place of the current ones.
    pub fn replaced(&self, fields: UserFields, now: OffsetDateTime) -> Self {
        User { fields: fields.normalised(), version: self.version + 1, updated_at: now, ..self.clone() }
    }
}

impl UserFields {
    /// Works out what depends on other fields: the phone's E.164 form depends on the
    /// country. Custom properties are kept in order of id.
    pub fn normalised(mut self) -> Self {
        if let Some(phone) = &self.phone {
            self.phone = Some(phone.for_country(self.country));
        }
        self.custom_properties.sort_by_key(|value| value.id);
        self
    }
}
