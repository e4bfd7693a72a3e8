//! PostgreSQL's errors as the store's.

use clientele_store::{StoreError, Unique};

/// Maps a driver error to the store's: a missing row is `NotFound`, a unique violation is the
/// `Conflict` its constraint names, anything else is `Other`.
pub(crate) fn store_error(error: sqlx::Error) -> StoreError {
    if let sqlx::Error::RowNotFound = error {
        return StoreError::NotFound;
    }
    if let sqlx::Error::Database(db) = &error
        && db.is_unique_violation()
        && let Some(rule) = db.constraint().and_then(unique_rule)
    {
        return StoreError::Conflict(rule);
    }
    StoreError::other(error)
}

fn unique_rule(constraint: &str) -> Option<Unique> {
    Some(match constraint {
        "merchants_number_key" => Unique::MerchantNumber,
        "api_keys_pkey" | "api_keys_digest_key" => Unique::ApiKey,
        "signing_keys_pkey" => Unique::SigningKey,
        "interaction_points_pkey" => Unique::InteractionPoint,
        "property_definitions_pkey" => Unique::PropertyId,
        "property_definitions_active_name" => Unique::PropertyName,
        "users_customer_ref" => Unique::CustomerRef,
        "users_national_id" => Unique::NationalId,
        "contracts_number" => Unique::ContractNumber,
        "payment_requests_invoice" => Unique::InvoiceNumber,
        _ => return None,
    })
}
