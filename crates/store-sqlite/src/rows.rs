//! Conversions between stored columns and domain values.

use rusqlite::Row;
use rusqlite::types::Type;
use time::OffsetDateTime;
use uuid::Uuid;

use clientele_domain::DisplayName;
use clientele_domain::credential::{ApiKey, ApiKeyId, KeyDigest, KeyOwner, Role, StoredSigningKey};
use clientele_domain::interaction_point::{InteractionPoint, InteractionPointId};
use clientele_domain::merchant::{Merchant, MerchantId};
use clientele_domain::property::{PropertyDefinition, PropertyId, PropertyName, ValueType};
use clientele_store::{StoreError, Unique};

pub(crate) fn micros(at: OffsetDateTime) -> i64 {
    // i64 microseconds reach past the year 292,000: a real time cannot overflow them.
    at.unix_timestamp() * 1_000_000 + i64::from(at.microsecond())
}

/// The time `value` microseconds after the Unix epoch (in 64-bit arithmetic: the 128-bit
/// nanoseconds of `from_unix_timestamp_nanos` cost more than the rest of decoding a time).
fn time_from_micros(value: i64) -> Result<OffsetDateTime, time::error::ComponentRange> {
    let micros = u32::try_from(value.rem_euclid(1_000_000)).unwrap_or_default();
    OffsetDateTime::from_unix_timestamp(value.div_euclid(1_000_000))?.replace_microsecond(micros)
}

fn conversion(idx: usize, error: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(error))
}

pub(crate) fn time_at(row: &Row<'_>, idx: usize) -> rusqlite::Result<OffsetDateTime> {
    time_from_micros(row.get(idx)?).map_err(|e| conversion(idx, e))
}

fn optional_time_at(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<OffsetDateTime>> {
    let value: Option<i64> = row.get(idx)?;
    value.map(|v| time_from_micros(v).map_err(|e| conversion(idx, e))).transpose()
}

pub(crate) fn uuid_at(row: &Row<'_>, idx: usize) -> rusqlite::Result<Uuid> {
    Uuid::parse_str(row.get_ref(idx)?.as_str()?).map_err(|e| conversion(idx, e))
}

#[derive(Debug, thiserror::Error)]
#[error("unexpected stored value {0:?}")]
struct UnexpectedValue(String);

pub(crate) const MERCHANT_COLUMNS: &str = "id, number, name, created_at, strict_sa_id";

pub(crate) fn merchant(row: &Row<'_>) -> rusqlite::Result<Merchant> {
    Ok(Merchant::from_stored(
        MerchantId::from_uuid(uuid_at(row, 0)?),
        row.get(1)?,
        row.get(2)?,
        time_at(row, 3)?,
        row.get(4)?,
    ))
}

pub(crate) const API_KEY_COLUMNS: &str = "id, merchant_id, role, name, prefix, digest, created_at, revoked_at";

pub(crate) fn role_name(owner: &KeyOwner) -> &'static str {
    match owner {
        KeyOwner::Platform => "platform",
        KeyOwner::Merchant { role, .. } => role.as_str(),
    }
}

pub(crate) fn api_key(row: &Row<'_>) -> rusqlite::Result<ApiKey> {
    let merchant: Option<String> = row.get(1)?;
    let role: String = row.get(2)?;
    let owner = match (merchant, role.as_str()) {
        (None, "platform") => KeyOwner::Platform,
        (Some(merchant), role) => KeyOwner::Merchant {
            merchant: MerchantId::from_uuid(Uuid::parse_str(&merchant).map_err(|e| conversion(1, e))?),
            role: Role::parse("role", role).map_err(|e| conversion(2, e))?,
        },
        (None, other) => return Err(conversion(2, UnexpectedValue(other.to_owned()))),
    };
    let name: Option<String> = row.get(3)?;
    Ok(ApiKey {
        id: ApiKeyId::from_uuid(uuid_at(row, 0)?),
        owner,
        name: name.map(DisplayName::from_stored),
        prefix: row.get(4)?,
        digest: KeyDigest::from_stored(row.get(5)?),
        created_at: time_at(row, 6)?,
        revoked_at: optional_time_at(row, 7)?,
    })
}

pub(crate) fn signing_key(row: &Row<'_>) -> rusqlite::Result<StoredSigningKey> {
    Ok(StoredSigningKey { kid: row.get(0)?, stored: row.get(1)?, created_at: time_at(row, 2)? })
}

pub(crate) const INTERACTION_POINT_COLUMNS: &str = "id, name, active, created_at";
/// Where a single-statement read puts its fence column, after [`INTERACTION_POINT_COLUMNS`].
pub(crate) const INTERACTION_POINT_FENCE_INDEX: usize = 4;

pub(crate) fn interaction_point(row: &Row<'_>) -> rusqlite::Result<InteractionPoint> {
    Ok(InteractionPoint {
        id: InteractionPointId::from_stored(row.get(0)?),
        name: DisplayName::from_stored(row.get(1)?),
        active: row.get(2)?,
        created_at: time_at(row, 3)?,
    })
}

pub(crate) const PROPERTY_COLUMNS: &str = "id, name, value_type, active, created_at";

pub(crate) fn property(row: &Row<'_>) -> rusqlite::Result<PropertyDefinition> {
    let value_type: String = row.get(2)?;
    Ok(PropertyDefinition {
        id: PropertyId::from_uuid(uuid_at(row, 0)?),
        name: PropertyName::from_stored(row.get(1)?),
        value_type: ValueType::parse("value_type", &value_type).map_err(|e| conversion(2, e))?,
        active: row.get(3)?,
        created_at: time_at(row, 4)?,
    })
}

/// Maps a SQLite error to the store's: a missing row is `NotFound`, a broken uniqueness
/// rule is the `Conflict` it names (SQLite names the table and columns), anything else is
/// `Other`.
pub(crate) fn store_error(error: rusqlite::Error) -> StoreError {
    match &error {
        rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
        rusqlite::Error::SqliteFailure(failure, Some(message))
            if failure.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            match unique_rule(message) {
                Some(rule) => StoreError::Conflict(rule),
                None => StoreError::other(error),
            }
        }
        _ => StoreError::other(error),
    }
}

fn unique_rule(message: &str) -> Option<Unique> {
    let columns = message.strip_prefix("UNIQUE constraint failed: ")?;
    Some(match columns {
        "merchants.number" => Unique::MerchantNumber,
        "api_keys.id" | "api_keys.digest" => Unique::ApiKey,
        "signing_keys.kid" => Unique::SigningKey,
        "interaction_points.merchant_id, interaction_points.id" => Unique::InteractionPoint,
        "property_definitions.merchant_id, property_definitions.id" => Unique::PropertyId,
        "property_definitions.merchant_id, property_definitions.name" => Unique::PropertyName,
        "users.merchant_id, users.customer_ref" => Unique::CustomerRef,
        "index 'users_national_id'" => Unique::NationalId,
        "contracts.merchant_id, contracts.contract_number" => Unique::ContractNumber,
        "payment_requests.merchant_id, payment_requests.invoice_number" => Unique::InvoiceNumber,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn times_are_stored_as_microseconds_and_read_back() {
        for at in [
            datetime!(2026-12-02 04:09:40.123456 UTC),
            datetime!(1970-01-01 00:00:00 UTC),
            datetime!(1969-12-31 23:59:59.5 UTC),
            datetime!(1900-02-28 12:00:00.000001 UTC),
        ] {
            assert_eq!(micros(at), (at.unix_timestamp_nanos() / 1_000) as i64);
            assert_eq!(time_from_micros(micros(at)).unwrap(), at);
        }
        assert_eq!(micros(datetime!(2026-12-02 04:09:40.1234567 UTC)), 1_796_184_580_123_456);
        assert!(time_from_micros(i64::MAX).is_err());
    }
}
