//! How a user is written: the statements both dialects share, and the compositions of one
//! transaction (a user, its first contract and its stored answer; an erasure and all it
//! clears).

use std::sync::LazyLock;

use time::OffsetDateTime;

use clientele_domain::merchant::MerchantId;
use clientele_domain::user::{ChangeKind, Origin, User, UserId};

use super::rows::{WRITTEN, change_values, values};
use crate::backend::Db;
use crate::schema::USER_CHANGES;
use crate::sql::{RowStatement, Sql, Value, insert_into, placeholders, statement};
use crate::{IdempotentAnswer, NewUserRecord, StoreError, contracts, keys, personal};

statement!(INSERT, "INSERT INTO users ({}) VALUES ({})", WRITTEN.join(", "), placeholders(1, WRITTEN.len()));
statement!(
    INSERT_VALUE,
    "INSERT INTO user_properties (merchant_id, user_id, property_id, value) VALUES (?1, ?2, ?3, ?4)"
);
statement!(DELETE_VALUES, "DELETE FROM user_properties WHERE merchant_id = ?1 AND user_id = ?2");
static RECORD: RowStatement = RowStatement::new(|names| insert_into("user_changes", names));
statement!(
    CHANGES,
    "SELECT {} FROM user_changes WHERE merchant_id = ?1 AND user_id = ?2 ORDER BY version",
    USER_CHANGES.select(None)
);
statement!(VERSION, "SELECT version FROM users WHERE merchant_id = ?1 AND id = ?2 AND erased_at IS NULL");
static ERASE_ROW: LazyLock<Sql> = LazyLock::new(|| Sql::new(personal::erase_user_row()));
static ERASE_REST: LazyLock<Vec<Sql>> =
    LazyLock::new(|| personal::erase_statements().into_iter().map(Sql::new).collect());

/// Inserts a user and its custom values and records its creation: the statements every
/// dialect can run ([`Db::insert_user`] by default).
pub(crate) async fn insert<D: Db + ?Sized>(
    db: &mut D,
    merchant: MerchantId,
    user: &User,
    origin: &Origin,
) -> Result<(), StoreError> {
    let row: Vec<Value<'_>> = values(merchant, user).into_iter().map(|(_, value)| value).collect();
    db.execute(&INSERT, &row).await?;
    insert_values(db, merchant, user).await?;
    record(db, merchant, user.id, user.version, ChangeKind::Created, origin, user.created_at).await
}

/// Stores a user's custom values, one row each.
pub async fn insert_values<D: Db + ?Sized>(db: &mut D, merchant: MerchantId, user: &User) -> Result<(), StoreError> {
    for value in &user.fields.custom_properties {
        let row = [
            Value::id(merchant.as_uuid()),
            Value::id(user.id.as_uuid()),
            Value::id(value.id.as_uuid()),
            Value::text(&value.value),
        ];
        db.execute(&INSERT_VALUE, &row).await?;
    }
    Ok(())
}

/// Replaces a user's custom values with its own.
pub async fn replace_values<D: Db + ?Sized>(db: &mut D, merchant: MerchantId, user: &User) -> Result<(), StoreError> {
    db.execute(&DELETE_VALUES, &[Value::id(merchant.as_uuid()), Value::id(user.id.as_uuid())]).await?;
    insert_values(db, merchant, user).await
}

/// Records a change of a user.
pub async fn record<D: Db + ?Sized>(
    db: &mut D,
    merchant: MerchantId,
    user: UserId,
    version: i64,
    kind: ChangeKind,
    origin: &Origin,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let (sql, values) = RECORD.of(change_values(merchant, user, version, kind, origin, at));
    db.execute(sql, &values).await.map(drop)
}

pub(crate) async fn changes<D: Db + ?Sized>(
    db: &mut D,
    merchant: MerchantId,
    user: UserId,
) -> Result<Vec<clientele_domain::user::UserChange>, StoreError> {
    db.fetch(&CHANGES, &[Value::id(merchant.as_uuid()), Value::id(user.as_uuid())], super::rows::change).await
}

/// Why a write conditional on a user's version touched no row: the user is missing (or
/// erased), or at another version.
pub async fn missing_or_changed<D: Db + ?Sized>(db: &mut D, merchant: MerchantId, id: UserId) -> StoreError {
    match db.optional(&VERSION, &[Value::id(merchant.as_uuid()), Value::id(id.as_uuid())], |row| row.int(0)).await {
        Ok(Some(_)) => StoreError::VersionMismatch,
        Ok(None) => StoreError::NotFound,
        Err(error) => error,
    }
}

/// A new user with its optional first contract and its events, and the stored answer that
/// completes its idempotency key, in the caller's transaction.
pub(crate) async fn create<D: Db>(
    db: &mut D,
    merchant: MerchantId,
    new: &NewUserRecord,
    origin: &Origin,
    answer: Option<&IdempotentAnswer>,
) -> Result<(), StoreError> {
    db.insert_user(merchant, &new.user, origin, &new.events).await?;
    if let Some(contract) = &new.contract {
        contracts::insert(db, merchant, contract).await?;
    }
    match answer {
        Some(answer) => keys::complete(db, merchant, answer).await,
        None => Ok(()),
    }
}

/// Erases a user: clears its row (only at `expected_version`, when given), records the
/// erasure, then clears or deletes every other row that holds its personal values.
pub(crate) async fn erase<D: Db>(
    db: &mut D,
    merchant: MerchantId,
    id: UserId,
    expected_version: Option<i64>,
    origin: &Origin,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let (m, user) = (Value::id(merchant.as_uuid()), Value::id(id.as_uuid()));
    let row = [m.clone(), user.clone(), Value::time(at), Value::Int(expected_version)];
    let version = match db.one(&ERASE_ROW, &row, |row| row.int(0)).await {
        Ok(version) => version,
        Err(StoreError::NotFound) => return Err(missing_or_changed(db, merchant, id).await),
        Err(error) => return Err(error),
    };
    record(db, merchant, id, version, ChangeKind::Erased, origin, at).await?;
    for statement in ERASE_REST.iter() {
        db.execute(statement, &[m.clone(), user.clone()]).await?;
    }
    Ok(())
}
