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
        && let Some(rule) = violated(db.constraint(), db.message())
    {
        return StoreError::Conflict(rule);
    }
    StoreError::other(error)
}

/// The rule a unique violation broke: by the constraint the error names or, where it names
/// none (a Citus worker's error passed on by the coordinator), by the one its message quotes
/// (`duplicate key value violates unique constraint "users_customer_ref_102035"`). On Citus
/// either can be a shard's: its name ends in the shard's id, which is left off.
fn violated(constraint: Option<&str>, message: &str) -> Option<Unique> {
    let by_name = |name: &str| unique_rule(name).or_else(|| without_shard(name).and_then(unique_rule));
    constraint.and_then(by_name).or_else(|| quoted(message).and_then(by_name))
}

/// `users_customer_ref` of a shard's `users_customer_ref_102035`.
fn without_shard(name: &str) -> Option<&str> {
    let (base, shard) = name.rsplit_once('_')?;
    (!shard.is_empty() && shard.bytes().all(|b| b.is_ascii_digit())).then_some(base)
}

/// The first name a message quotes.
fn quoted(message: &str) -> Option<&str> {
    let (_, rest) = message.split_once('"')?;
    rest.split_once('"').map(|(name, _)| name)
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
        "points_entries_reference" => Unique::PointsReference,
        "points_entries_reverses" => Unique::PointsReversal,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_violation_is_mapped_by_its_constraint_or_else_by_the_one_its_message_quotes() {
        let message = |name: &str| format!("duplicate key value violates unique constraint \"{name}\"");
        assert_eq!(violated(Some("users_customer_ref"), "anything"), Some(Unique::CustomerRef));
        // A Citus worker's violation, as the coordinator passes it on: no constraint, a shard's name.
        assert_eq!(violated(None, &message("users_customer_ref_102035")), Some(Unique::CustomerRef));
        assert_eq!(violated(None, &message("contracts_number_102100")), Some(Unique::ContractNumber));
        assert_eq!(violated(None, &message("api_keys_digest_key_102008")), Some(Unique::ApiKey));
        assert_eq!(violated(Some("payment_requests_invoice_102200"), ""), Some(Unique::InvoiceNumber));
        assert_eq!(violated(None, &message("users_national_id")), Some(Unique::NationalId));
        // Neither a rule's name nor a shard of one: not a conflict a client can be told of.
        assert_eq!(violated(None, &message("users_pkey_102035")), None);
        assert_eq!(violated(None, &message("users_customer_ref_x")), None);
        assert_eq!(violated(None, "duplicate key value violates unique constraint"), None);
        assert_eq!(violated(Some("something_else"), &message("also_unknown_1")), None);
    }
}
