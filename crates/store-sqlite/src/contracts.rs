//! Contracts and call sequences on SQLite.

use rusqlite::{Connection, Row, params};
use time::PrimitiveDateTime;
use time::macros::format_description;

use clientele_domain::contract::{
    CollectionDay, Contract, ContractId, ContractNumber, ContractStatus, ContractTerms, Frequency, InstalmentStart,
    TrackingCode,
};
use clientele_domain::merchant::MerchantId;
use clientele_domain::money::Money;
use clientele_domain::user::UserId;
use clientele_store::StoreError;

use crate::rows::{micros, time_at, uuid_at};
use crate::{all, execute, one};

pub(crate) const CONTRACT_COLUMNS: &str = "id, user_id, contract_number, instalment_amount, number_of_instalments, \
     instalment_start, tracking_code, frequency_code, collection_day, status, version, created_at, updated_at";

fn conversion(idx: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, what.to_owned().into())
}

fn terms(row: &Row<'_>) -> rusqlite::Result<Option<ContractTerms>> {
    let Some(amount) = row.get::<_, Option<String>>(3)? else { return Ok(None) };
    let start: String = row.get(5)?;
    let frequency: String = row.get(7)?;
    let start = PrimitiveDateTime::parse(&start, format_description!("[year]-[month]-[day] [hour]:[minute]"))
        .map_err(|_| conversion(5, "instalment_start"))?;
    Ok(Some(ContractTerms {
        instalment_amount: Money::from_stored(&amount).ok_or_else(|| conversion(3, "instalment_amount"))?,
        number_of_instalments: row.get(4)?,
        instalment_start: InstalmentStart::from_stored(start),
        tracking_code: TrackingCode::from_stored(row.get(6)?),
        frequency: Frequency::parse("frequency_code", &frequency).map_err(|_| conversion(7, "frequency_code"))?,
        collection_day: CollectionDay::from_stored(row.get(8)?),
    }))
}

pub(crate) fn contract(row: &Row<'_>) -> rusqlite::Result<Contract> {
    let status: String = row.get(9)?;
    Ok(Contract {
        id: ContractId::from_uuid(uuid_at(row, 0)?),
        user_id: UserId::from_uuid(uuid_at(row, 1)?),
        number: ContractNumber::from_stored(row.get(2)?),
        terms: terms(row)?,
        status: ContractStatus::from_stored(&status).ok_or_else(|| conversion(9, "status"))?,
        version: row.get(10)?,
        created_at: time_at(row, 11)?,
        updated_at: time_at(row, 12)?,
    })
}

pub(crate) fn insert(conn: &Connection, merchant: MerchantId, contract: &Contract) -> Result<(), StoreError> {
    let t = contract.terms.as_ref();
    execute(
        conn,
        "INSERT INTO contracts (merchant_id, id, user_id, contract_number, instalment_amount, number_of_instalments,
             instalment_start, tracking_code, frequency_code, collection_day, status, version, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            merchant.to_string(),
            contract.id.to_string(),
            contract.user_id.to_string(),
            contract.number.as_str(),
            t.map(|t| t.instalment_amount.to_string()),
            t.map(|t| t.number_of_instalments),
            t.map(|t| t.instalment_start.to_string()),
            t.map(|t| t.tracking_code.as_str()),
            t.map(|t| t.frequency.code()),
            t.map(|t| t.collection_day.get()),
            contract.status.as_str(),
            contract.version,
            micros(contract.created_at),
            micros(contract.updated_at),
        ],
    )
    .map(drop)
}

pub(crate) fn update(
    conn: &Connection,
    merchant: MerchantId,
    contract: &Contract,
    expected_version: i64,
) -> Result<(), StoreError> {
    let t = contract.terms.as_ref();
    let changed = execute(
        conn,
        "UPDATE contracts SET instalment_amount = ?3, number_of_instalments = ?4, instalment_start = ?5,
             tracking_code = ?6, frequency_code = ?7, collection_day = ?8, status = ?9, version = ?10, updated_at = ?11
         WHERE merchant_id = ?1 AND id = ?2 AND version = ?12",
        params![
            merchant.to_string(),
            contract.id.to_string(),
            t.map(|t| t.instalment_amount.to_string()),
            t.map(|t| t.number_of_instalments),
            t.map(|t| t.instalment_start.to_string()),
            t.map(|t| t.tracking_code.as_str()),
            t.map(|t| t.frequency.code()),
            t.map(|t| t.collection_day.get()),
            contract.status.as_str(),
            contract.version,
            micros(contract.updated_at),
            expected_version,
        ],
    )?;
    if changed == 1 {
        return Ok(());
    }
    match get(conn, merchant, contract.id) {
        Ok(_) => Err(StoreError::VersionMismatch),
        Err(error) => Err(error),
    }
}

pub(crate) fn get(conn: &Connection, merchant: MerchantId, id: ContractId) -> Result<Contract, StoreError> {
    let sql = format!("SELECT {CONTRACT_COLUMNS} FROM contracts WHERE merchant_id = ?1 AND id = ?2");
    one(conn, &sql, params![merchant.to_string(), id.to_string()], contract)
}

pub(crate) fn by_number(conn: &Connection, merchant: MerchantId, number: &str) -> Result<Contract, StoreError> {
    let sql = format!("SELECT {CONTRACT_COLUMNS} FROM contracts WHERE merchant_id = ?1 AND contract_number = ?2");
    one(conn, &sql, params![merchant.to_string(), number], contract)
}

pub(crate) fn of_user(conn: &Connection, merchant: MerchantId, user: UserId) -> Result<Vec<Contract>, StoreError> {
    let sql = format!(
        "SELECT {CONTRACT_COLUMNS} FROM contracts WHERE merchant_id = ?1 AND user_id = ?2 ORDER BY created_at, id"
    );
    all(conn, &sql, params![merchant.to_string(), user.to_string()], contract)
}

pub(crate) fn next_call_sequence(conn: &Connection, merchant: MerchantId) -> Result<i64, StoreError> {
    one(
        conn,
        "INSERT INTO call_sequences (merchant_id, value) VALUES (?1, 1)
         ON CONFLICT (merchant_id) DO UPDATE SET value = value + 1 RETURNING value",
        [merchant.to_string()],
        |row| row.get(0),
    )
}
