//! Contracts, batches and call sequences on PostgreSQL.

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row as _};

use clientele_domain::contract::{
    CollectionDay, Contract, ContractId, ContractNumber, ContractStatus, ContractTerms, Frequency, InstalmentStart,
    TrackingCode,
};
use clientele_domain::merchant::MerchantId;
use clientele_domain::money::Money;
use clientele_domain::user::UserId;
use clientele_store::StoreError;

use crate::rows::store_error;

pub(crate) const CONTRACT_COLUMNS: &str = "id, user_id, contract_number, instalment_amount, number_of_instalments, \
     instalment_start, tracking_code, frequency_code, collection_day, status, version, created_at, updated_at";

fn decode(column: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode { index: column.to_owned(), source: format!("unexpected stored {column}").into() }
}

fn terms(row: &PgRow) -> sqlx::Result<Option<ContractTerms>> {
    let Some(amount) = row.try_get::<Option<rust_decimal::Decimal>, _>("instalment_amount")? else { return Ok(None) };
    let count: i32 = row.try_get("number_of_instalments")?;
    let frequency: String = row.try_get("frequency_code")?;
    let day: i16 = row.try_get("collection_day")?;
    Ok(Some(ContractTerms {
        instalment_amount: Money::from_decimal(amount).ok_or_else(|| decode("instalment_amount"))?,
        number_of_instalments: u32::try_from(count).map_err(|_| decode("number_of_instalments"))?,
        instalment_start: InstalmentStart::from_stored(row.try_get("instalment_start")?),
        tracking_code: TrackingCode::from_stored(row.try_get("tracking_code")?),
        frequency: Frequency::parse("frequency_code", &frequency).map_err(|_| decode("frequency_code"))?,
        collection_day: CollectionDay::from_stored(u8::try_from(day).map_err(|_| decode("collection_day"))?),
    }))
}

pub(crate) fn contract(row: &PgRow) -> sqlx::Result<Contract> {
    let status: String = row.try_get("status")?;
    Ok(Contract {
        id: ContractId::from_uuid(row.try_get("id")?),
        user_id: UserId::from_uuid(row.try_get("user_id")?),
        number: ContractNumber::from_stored(row.try_get("contract_number")?),
        terms: terms(row)?,
        status: ContractStatus::from_stored(&status).ok_or_else(|| decode("status"))?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn count(terms: &ContractTerms) -> i32 {
    // At most 999, checked when the terms were parsed.
    i32::try_from(terms.number_of_instalments).unwrap_or(i32::MAX)
}

pub(crate) async fn insert(
    conn: &mut PgConnection,
    merchant: MerchantId,
    contract: &Contract,
) -> Result<(), StoreError> {
    let t = contract.terms.as_ref();
    sqlx::query(
        "INSERT INTO contracts (merchant_id, id, user_id, contract_number, instalment_amount, number_of_instalments,
             instalment_start, tracking_code, frequency_code, collection_day, status, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(merchant.as_uuid())
    .bind(contract.id.as_uuid())
    .bind(contract.user_id.as_uuid())
    .bind(contract.number.as_str())
    .bind(t.map(|t| t.instalment_amount.amount()))
    .bind(t.map(count))
    .bind(t.map(|t| t.instalment_start.at()))
    .bind(t.map(|t| t.tracking_code.as_str()))
    .bind(t.map(|t| t.frequency.code()))
    .bind(t.map(|t| i16::from(t.collection_day.get())))
    .bind(contract.status.as_str())
    .bind(contract.version)
    .bind(contract.created_at)
    .bind(contract.updated_at)
    .execute(conn)
    .await
    .map(drop)
    .map_err(store_error)
}

pub(crate) async fn update(
    conn: &mut PgConnection,
    merchant: MerchantId,
    contract: &Contract,
    expected_version: i64,
) -> Result<(), StoreError> {
    let t = contract.terms.as_ref();
    let updated = sqlx::query(
        "UPDATE contracts SET instalment_amount = $3, number_of_instalments = $4, instalment_start = $5,
             tracking_code = $6, frequency_code = $7, collection_day = $8, status = $9, version = $10, updated_at = $11
         WHERE merchant_id = $1 AND id = $2 AND version = $12",
    )
    .bind(merchant.as_uuid())
    .bind(contract.id.as_uuid())
    .bind(t.map(|t| t.instalment_amount.amount()))
    .bind(t.map(count))
    .bind(t.map(|t| t.instalment_start.at()))
    .bind(t.map(|t| t.tracking_code.as_str()))
    .bind(t.map(|t| t.frequency.code()))
    .bind(t.map(|t| i16::from(t.collection_day.get())))
    .bind(contract.status.as_str())
    .bind(contract.version)
    .bind(contract.updated_at)
    .bind(expected_version)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    if updated.rows_affected() == 1 {
        return Ok(());
    }
    get(conn, merchant, contract.id).await.and(Err(StoreError::VersionMismatch))
}

pub(crate) async fn get(conn: &mut PgConnection, merchant: MerchantId, id: ContractId) -> Result<Contract, StoreError> {
    let sql = format!("SELECT {CONTRACT_COLUMNS} FROM contracts WHERE merchant_id = $1 AND id = $2");
    let row = sqlx::query(&sql).bind(merchant.as_uuid()).bind(id.as_uuid()).fetch_one(conn).await;
    row.and_then(|row| contract(&row)).map_err(store_error)
}

pub(crate) async fn by_number(
    conn: &mut PgConnection,
    merchant: MerchantId,
    number: &str,
) -> Result<Contract, StoreError> {
    let sql = format!("SELECT {CONTRACT_COLUMNS} FROM contracts WHERE merchant_id = $1 AND contract_number = $2");
    let row = sqlx::query(&sql).bind(merchant.as_uuid()).bind(number).fetch_one(conn).await;
    row.and_then(|row| contract(&row)).map_err(store_error)
}

pub(crate) async fn of_user(
    conn: &mut PgConnection,
    merchant: MerchantId,
    user: UserId,
) -> Result<Vec<Contract>, StoreError> {
    let sql = format!(
        "SELECT {CONTRACT_COLUMNS} FROM contracts WHERE merchant_id = $1 AND user_id = $2 ORDER BY created_at, id"
    );
    let rows =
        sqlx::query(&sql).bind(merchant.as_uuid()).bind(user.as_uuid()).fetch_all(conn).await.map_err(store_error)?;
    rows.iter().map(|row| contract(row).map_err(store_error)).collect()
}

pub(crate) async fn next_call_sequence(conn: &mut PgConnection, merchant: MerchantId) -> Result<i64, StoreError> {
    sqlx::query_scalar(
        "INSERT INTO call_sequences (merchant_id, value) VALUES ($1, 1)
         ON CONFLICT (merchant_id) DO UPDATE SET value = call_sequences.value + 1 RETURNING value",
    )
    .bind(merchant.as_uuid())
    .fetch_one(conn)
    .await
    .map_err(store_error)
}
