//! Conversions between PostgreSQL rows and domain values, and error mapping.

use sqlx::Row as _;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use clientele_domain::DisplayName;
use clientele_domain::credential::{ApiKey, ApiKeyId, KeyDigest, KeyOwner, Role, StoredSigningKey};
use clientele_domain::interaction_point::{InteractionPoint, InteractionPointId};
use clientele_domain::merchant::{Merchant, MerchantId};
use clientele_domain::property::{PropertyDefinition, PropertyId, PropertyName, ValueType};
use clientele_store::{StoreError, Unique};

fn decode(column: &str, error: impl std::error::Error + Send + Sync + 'static) -> sqlx::Error {
    sqlx::Error::ColumnDecode { index: column.to_owned(), source: Box::new(error) }
}

#[derive(Debug, thiserror::Error)]
#[error("unexpected stored value {0:?}")]
struct UnexpectedValue(String);

pub(crate) const MERCHANT_COLUMNS: &str = "id, number, name, created_at, strict_sa_id";

pub(crate) fn merchant(row: &PgRow) -> sqlx::Result<Merchant> {
    Ok(Merchant::from_stored(
        MerchantId::from_uuid(row.try_get("id")?),
        row.try_get("number")?,
        row.try_get("name")?,
        row.try_get("created_at")?,
        row.try_get("strict_sa_id")?,
    ))
}

pub(crate) const API_KEY_COLUMNS: &str = "id, merchant_id, role, name, prefix, digest, created_at, revoked_at";

pub(crate) fn role_name(owner: &KeyOwner) -> &'static str {
    match owner {
        KeyOwner::Platform => "platform",
        KeyOwner::Merchant { role, .. } => role.as_str(),
    }
}

pub(crate) fn api_key(row: &PgRow) -> sqlx::Result<ApiKey> {
    let merchant: Option<Uuid> = row.try_get("merchant_id")?;
    let role: String = row.try_get("role")?;
    let owner = match (merchant, role.as_str()) {
        (None, "platform") => KeyOwner::Platform,
        (Some(merchant), role) => KeyOwner::Merchant {
            merchant: MerchantId::from_uuid(merchant),
            role: Role::parse("role", role).map_err(|e| decode("role", e))?,
        },
        (None, other) => return Err(decode("role", UnexpectedValue(other.to_owned()))),
    };
    let name: Option<String> = row.try_get("name")?;
    Ok(ApiKey {
        id: ApiKeyId::from_uuid(row.try_get("id")?),
        owner,
        name: name.map(DisplayName::from_stored),
        prefix: row.try_get("prefix")?,
        digest: KeyDigest::from_stored(row.try_get("digest")?),
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

pub(crate) fn signing_key(row: &PgRow) -> sqlx::Result<StoredSigningKey> {
    Ok(StoredSigningKey {
        kid: row.try_get("kid")?,
        stored: row.try_get("secret")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(crate) const INTERACTION_POINT_COLUMNS: &str = "id, name, active, created_at";

pub(crate) fn interaction_point(row: &PgRow) -> sqlx::Result<InteractionPoint> {
    Ok(InteractionPoint {
        id: InteractionPointId::from_stored(row.try_get("id")?),
        name: DisplayName::from_stored(row.try_get("name")?),
        active: row.try_get("active")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(crate) const PROPERTY_COLUMNS: &str = "id, name, value_type, active, created_at";

pub(crate) fn property(row: &PgRow) -> sqlx::Result<PropertyDefinition> {
    let value_type: String = row.try_get("value_type")?;
    Ok(PropertyDefinition {
        id: PropertyId::from_uuid(row.try_get("id")?),
        name: PropertyName::from_stored(row.try_get("name")?),
        value_type: ValueType::parse("value_type", &value_type).map_err(|e| decode("value_type", e))?,
        active: row.try_get("active")?,
        created_at: row.try_get("created_at")?,
    })
}

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
