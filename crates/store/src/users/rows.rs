//! A user's row: the values it is written with, by column name, and how it is read back at
//! the positions of [`USERS`]. Adding a field to users is one entry in each, here.

use std::borrow::Cow;
use std::sync::LazyLock;

use clientele_domain::credential::ApiKeyId;
use clientele_domain::interaction_point::InteractionPointId;
use clientele_domain::merchant::MerchantId;
use clientele_domain::user::{
    Address, AddressLine, BirthDate, ChangeKind, CountryCode, CustomerRef, Email, Gender, Metadata, NationalId, Origin,
    PassportNumber, PersonName, Phone, Place, PostalCode, Surface, User, UserChange, UserFields, UserId,
};

use crate::at;
use crate::schema::{USER_CHANGES, USERS};
use crate::sql::{DecodeError, Named, Row, Value, parsed};

/// Every column a user's row is written with, by name: all of [`USERS`] but `erased_at`,
/// which only erasure sets.
pub fn values(merchant: MerchantId, user: &User) -> Named<'_> {
    let f = &user.fields;
    let text = Value::text_or_null;
    vec![
        ("merchant_id", Value::id(merchant.as_uuid())),
        ("id", Value::id(user.id.as_uuid())),
        ("customer_ref", text(f.customer_ref.as_ref().map(CustomerRef::as_str))),
        ("given_name", text(f.given_name.as_ref().map(PersonName::as_str))),
        ("family_name", text(f.family_name.as_ref().map(PersonName::as_str))),
        ("email", text(f.email.as_ref().map(Email::as_str))),
        ("email_lower", Value::Text(f.email.as_ref().map(|e| Cow::Owned(e.lookup_key())))),
        ("phone", text(f.phone.as_ref().map(Phone::as_str))),
        ("phone_e164", text(f.phone.as_ref().and_then(Phone::e164))),
        ("phone_national", text(f.phone.as_ref().and_then(Phone::national))),
        ("birth_date", Value::Date(f.birth_date.map(BirthDate::date))),
        ("gender", text(f.gender.map(Gender::code))),
        ("country", text(f.country.as_ref().map(CountryCode::as_str))),
        ("national_id", text(f.national_id.as_ref().map(NationalId::as_str))),
        ("passport_number", text(f.passport_number.as_ref().map(PassportNumber::as_str))),
        ("street", text(f.address.street.as_ref().map(AddressLine::as_str))),
        ("suburb", text(f.address.suburb.as_ref().map(Place::as_str))),
        ("city", text(f.address.city.as_ref().map(Place::as_str))),
        ("region", text(f.address.region.as_ref().map(Place::as_str))),
        ("postal_code", text(f.address.postal_code.as_ref().map(PostalCode::as_str))),
        ("metadata", Value::Text(f.metadata.to_json().map(Cow::Owned))),
        ("loyalty_points", Value::int(user.loyalty_points)),
        ("points_expire_at", Value::Time(user.points_expire_at)),
        ("version", Value::int(user.version)),
        ("created_at", Value::time(user.created_at)),
        ("updated_at", Value::time(user.updated_at)),
    ]
}

/// The names [`values`] writes, in its order.
pub static WRITTEN: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let sample = User::new(UserFields::default(), time::OffsetDateTime::UNIX_EPOCH);
    values(MerchantId::from_uuid(uuid::Uuid::nil()), &sample).into_iter().map(|(name, _)| name).collect()
});

/// The columns an update never assigns: the row's identity, and what writes of fields leave
/// alone (the balance and its next expiry are the ledger's, the creation time the first write's).
pub fn kept_by_updates(column: &str) -> bool {
    matches!(column, "merchant_id" | "id" | "created_at" | "loyalty_points" | "points_expire_at")
}

/// A user row, without its custom property values.
pub fn user(row: &dyn Row) -> Result<User, DecodeError> {
    let text = |at: usize| Ok::<_, DecodeError>(row.text_or_null(at)?.map(str::to_owned));
    let phone = match row.text_or_null(at!(USERS, "phone"))? {
        Some(given) => Some(Phone::from_stored(
            given.to_owned(),
            text(at!(USERS, "phone_e164"))?,
            text(at!(USERS, "phone_national"))?,
        )),
        None => None,
    };
    let gender = at!(USERS, "gender");
    let country = at!(USERS, "country");
    let metadata = at!(USERS, "metadata");
    let fields = UserFields {
        customer_ref: text(at!(USERS, "customer_ref"))?.map(CustomerRef::from_stored),
        given_name: text(at!(USERS, "given_name"))?.map(PersonName::from_stored),
        family_name: text(at!(USERS, "family_name"))?.map(PersonName::from_stored),
        email: text(at!(USERS, "email"))?.map(Email::from_stored),
        phone,
        birth_date: row.date_or_null(at!(USERS, "birth_date"))?.map(BirthDate::from_stored),
        gender: row.text_or_null(gender)?.map(|g| parsed(gender, g, |g| Gender::parse("gender", g))).transpose()?,
        country: row
            .text_or_null(country)?
            .map(|c| parsed(country, c, |c| CountryCode::parse("country", c)))
            .transpose()?,
        national_id: text(at!(USERS, "national_id"))?.map(NationalId::from_stored),
        passport_number: text(at!(USERS, "passport_number"))?.map(PassportNumber::from_stored),
        address: Address {
            street: text(at!(USERS, "street"))?.map(AddressLine::from_stored),
            suburb: text(at!(USERS, "suburb"))?.map(Place::from_stored),
            city: text(at!(USERS, "city"))?.map(Place::from_stored),
            region: text(at!(USERS, "region"))?.map(Place::from_stored),
            postal_code: text(at!(USERS, "postal_code"))?.map(PostalCode::from_stored),
        },
        custom_properties: Vec::new(),
        metadata: match row.text_or_null(metadata)? {
            Some(stored) => Metadata::from_stored(stored)
                .ok_or_else(|| DecodeError::new(metadata, "not a JSON object of strings"))?,
            None => Metadata::default(),
        },
    };
    Ok(User {
        id: UserId::from_uuid(row.uuid(at!(USERS, "id"))?),
        fields,
        loyalty_points: row.int(at!(USERS, "loyalty_points"))?,
        points_expire_at: row.time_or_null(at!(USERS, "points_expire_at"))?,
        version: row.int(at!(USERS, "version"))?,
        created_at: row.time(at!(USERS, "created_at"))?,
        updated_at: row.time(at!(USERS, "updated_at"))?,
    })
}

/// Where a statement that selects a user's columns and then its custom values as one JSON
/// column (`[[property id, name, value], ...]`, or NULL for none) answers them.
pub const PROPERTIES_AT: usize = USERS.columns.len();

/// A user read with its custom values (see [`PROPERTIES_AT`]).
pub fn user_with_properties(row: &dyn Row) -> Result<User, DecodeError> {
    let mut found = user(row)?;
    if let Some(values) = row.text_or_null(PROPERTIES_AT)? {
        found.fields.custom_properties = crate::custom_values_from_json(values)
            .ok_or_else(|| DecodeError::new(PROPERTIES_AT, "not a list of custom values"))?;
    }
    Ok(found)
}

/// The values of a change record, by column.
pub(crate) fn change_values<'a>(
    merchant: MerchantId,
    user: UserId,
    version: i64,
    kind: ChangeKind,
    origin: &'a Origin,
    at: time::OffsetDateTime,
) -> Named<'a> {
    vec![
        ("merchant_id", Value::id(merchant.as_uuid())),
        ("user_id", Value::id(user.as_uuid())),
        ("version", Value::int(version)),
        ("change", Value::text(kind.as_str())),
        ("surface", Value::text(origin.surface.as_str())),
        (
            "interaction_point_id",
            Value::text_or_null(origin.interaction_point.as_ref().map(InteractionPointId::as_str)),
        ),
        ("changed_at", Value::time(at)),
        ("actor_id", Value::Uuid(origin.actor.map(|actor| actor.as_uuid()))),
    ]
}

pub(crate) fn change(row: &dyn Row) -> Result<UserChange, DecodeError> {
    let (kind, surface) = (at!(USER_CHANGES, "change"), at!(USER_CHANGES, "surface"));
    Ok(UserChange {
        version: row.int(at!(USER_CHANGES, "version"))?,
        kind: parsed(kind, row.text(kind)?, |k| ChangeKind::parse("change", k))?,
        origin: origin(row, [surface, at!(USER_CHANGES, "interaction_point_id"), at!(USER_CHANGES, "actor_id")])?,
        at: row.time(at!(USER_CHANGES, "changed_at"))?,
    })
}

/// An origin read from its surface, interaction point and actor columns, at these positions.
pub(crate) fn origin(row: &dyn Row, [surface, point, actor]: [usize; 3]) -> Result<Origin, DecodeError> {
    Ok(Origin {
        surface: parsed(surface, row.text(surface)?, |s| Surface::parse("surface", s))?,
        interaction_point: row.text_or_null(point)?.map(|p| InteractionPointId::from_stored(p.to_owned())),
        actor: row.uuid_or_null(actor)?.map(ApiKeyId::from_uuid),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_is_written_with_every_column_but_its_erasure_time() {
        let mut described: Vec<_> = USERS.columns.iter().map(|c| c.name).filter(|c| *c != "erased_at").collect();
        let mut written = WRITTEN.clone();
        described.sort_unstable();
        written.sort_unstable();
        assert_eq!(written, described);
    }
}
