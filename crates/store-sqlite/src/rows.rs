//! SQLite's own column conventions (times as microseconds since the epoch), and its errors
//! as the store's.

use time::OffsetDateTime;

use clientele_store::{StoreError, Unique};

pub(crate) fn micros(at: OffsetDateTime) -> i64 {
    // i64 microseconds reach past the year 292,000: a real time cannot overflow them.
    at.unix_timestamp() * 1_000_000 + i64::from(at.microsecond())
}

/// The time `value` microseconds after the Unix epoch (in 64-bit arithmetic: the 128-bit
/// nanoseconds of `from_unix_timestamp_nanos` cost more than the rest of decoding a time).
pub(crate) fn time_from_micros(value: i64) -> Result<OffsetDateTime, time::error::ComponentRange> {
    let micros = u32::try_from(value.rem_euclid(1_000_000)).unwrap_or_default();
    OffsetDateTime::from_unix_timestamp(value.div_euclid(1_000_000))?.replace_microsecond(micros)
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
        "points_entries.merchant_id, points_entries.reference" => Unique::PointsReference,
        "points_entries.merchant_id, points_entries.reverses" => Unique::PointsReversal,
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
