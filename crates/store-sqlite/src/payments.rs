//! Payment requests and public links on SQLite.

use std::collections::BTreeMap;

use rusqlite::types::Value;
use rusqlite::{Connection, Row, params, params_from_iter};

use clientele_domain::merchant::MerchantId;
use clientele_domain::money::Money;
use clientele_domain::payment::{
    Channel, Currency, DocumentUrl, InvoiceNumber, PaymentRequest, PaymentRequestId, PaymentStatus, PublicAccessGuid,
    Segment,
};
use clientele_domain::user::{UserId, format_date, parse_date};
use clientele_store::{PaymentFilter, StoreError};

use crate::rows::{micros, time_at, uuid_at};
use crate::{all, execute, one};

const COLUMNS: &str = "id, public_access_guid, user_id, invoice_number, segment, amount_outstanding, currency, \
     channel, debt_date, url_to_document, debt_meta, status, viewed_at, paid_at, cancelled_at, version, created_at, \
     updated_at";

fn conversion(idx: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, what.to_owned().into())
}

fn optional_time(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<time::OffsetDateTime>> {
    match row.get::<_, Option<i64>>(idx)? {
        Some(_) => time_at(row, idx).map(Some),
        None => Ok(None),
    }
}

fn request(row: &Row<'_>) -> rusqlite::Result<PaymentRequest> {
    let amount: String = row.get(5)?;
    let currency: String = row.get(6)?;
    let channel: String = row.get(7)?;
    let debt_date: Option<String> = row.get(8)?;
    let meta: String = row.get(10)?;
    let status: String = row.get(11)?;
    Ok(PaymentRequest {
        id: PaymentRequestId::from_uuid(uuid_at(row, 0)?),
        public_access_guid: PublicAccessGuid::from_uuid(uuid_at(row, 1)?),
        user_id: UserId::from_uuid(uuid_at(row, 2)?),
        invoice_number: InvoiceNumber::from_stored(row.get(3)?),
        segment: Segment::from_stored(row.get(4)?),
        amount_outstanding: Money::from_stored(&amount).ok_or_else(|| conversion(5, "amount_outstanding"))?,
        currency: Currency::from_name(&currency).ok_or_else(|| conversion(6, "currency"))?,
        channel: Channel::from_name(&channel).ok_or_else(|| conversion(7, "channel"))?,
        debt_date: debt_date
            .map(|d| parse_date("debt_date", &d).map_err(|_| conversion(8, "debt_date")))
            .transpose()?,
        url_to_document: row.get::<_, Option<String>>(9)?.map(DocumentUrl::from_stored),
        debt_meta: serde_json::from_str::<BTreeMap<String, String>>(&meta).map_err(|_| conversion(10, "debt_meta"))?,
        status: PaymentStatus::from_name(&status).ok_or_else(|| conversion(11, "status"))?,
        viewed_at: optional_time(row, 12)?,
        paid_at: optional_time(row, 13)?,
        cancelled_at: optional_time(row, 14)?,
        version: row.get(15)?,
        created_at: time_at(row, 16)?,
        updated_at: time_at(row, 17)?,
    })
}

fn values(merchant: MerchantId, r: &PaymentRequest) -> Vec<Value> {
    let text = |s: &str| Value::Text(s.to_owned());
    let time = |t: Option<time::OffsetDateTime>| t.map_or(Value::Null, |t| Value::Integer(micros(t)));
    vec![
        text(&merchant.to_string()),
        text(&r.id.to_string()),
        text(&r.public_access_guid.as_uuid().hyphenated().to_string()),
        text(&r.user_id.to_string()),
        text(r.invoice_number.as_str()),
        text(r.segment.as_str()),
        text(&r.amount_outstanding.to_string()),
        text(r.currency.name()),
        text(r.channel.name()),
        r.debt_date.map_or(Value::Null, |d| text(&format_date(d))),
        r.url_to_document.as_ref().map_or(Value::Null, |u| text(u.as_str())),
        text(&serde_json::to_string(&r.debt_meta).unwrap_or_else(|_| "{}".to_owned())),
        text(r.status.name()),
        time(r.viewed_at),
        time(r.paid_at),
        time(r.cancelled_at),
        Value::Integer(r.version),
        Value::Integer(micros(r.created_at)),
        Value::Integer(micros(r.updated_at)),
    ]
}

pub(crate) fn create(conn: &Connection, merchant: MerchantId, r: &PaymentRequest) -> Result<(), StoreError> {
    let placeholders = (1..=19).map(|n| format!("?{n}")).collect::<Vec<_>>().join(", ");
    let sql = format!("INSERT INTO payment_requests (merchant_id, {COLUMNS}) VALUES ({placeholders})");
    execute(conn, &sql, params_from_iter(values(merchant, r)))?;
    execute(
        conn,
        "INSERT INTO public_links (guid, merchant_id, payment_request_id) VALUES (?1, ?2, ?3)",
        params![r.public_access_guid.as_uuid().hyphenated().to_string(), merchant.to_string(), r.id.to_string()],
    )
    .map(drop)
}

pub(crate) fn update(
    conn: &Connection,
    merchant: MerchantId,
    r: &PaymentRequest,
    expected_version: i64,
) -> Result<(), StoreError> {
    let columns: Vec<&str> = COLUMNS.split(", ").collect();
    let assignments = columns
        .iter()
        .enumerate()
        .skip(1)
        .map(|(n, column)| format!("{column} = ?{}", n + 2))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!("UPDATE payment_requests SET {assignments} WHERE merchant_id = ?1 AND id = ?2 AND version = ?20");
    let mut values = values(merchant, r);
    values.push(Value::Integer(expected_version));
    if execute(conn, &sql, params_from_iter(values))? == 1 {
        return Ok(());
    }
    get(conn, merchant, r.id).and(Err(StoreError::VersionMismatch))
}

pub(crate) fn get(conn: &Connection, merchant: MerchantId, id: PaymentRequestId) -> Result<PaymentRequest, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM payment_requests WHERE merchant_id = ?1 AND id = ?2");
    one(conn, &sql, params![merchant.to_string(), id.to_string()], request)
}

pub(crate) fn by_invoice(conn: &Connection, merchant: MerchantId, invoice: &str) -> Result<PaymentRequest, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM payment_requests WHERE merchant_id = ?1 AND invoice_number = ?2");
    one(conn, &sql, params![merchant.to_string(), invoice], request)
}

pub(crate) fn resolve(conn: &Connection, guid: PublicAccessGuid) -> Result<(MerchantId, PaymentRequestId), StoreError> {
    one(
        conn,
        "SELECT merchant_id, payment_request_id FROM public_links WHERE guid = ?1",
        [guid.as_uuid().hyphenated().to_string()],
        |row| Ok((MerchantId::from_uuid(uuid_at(row, 0)?), PaymentRequestId::from_uuid(uuid_at(row, 1)?))),
    )
}

pub(crate) fn list(
    conn: &Connection,
    merchant: MerchantId,
    filter: &PaymentFilter,
) -> Result<Vec<PaymentRequest>, StoreError> {
    let mut sql = format!("SELECT {COLUMNS} FROM payment_requests WHERE merchant_id = ?1");
    let mut values = vec![Value::Text(merchant.to_string())];
    let mut condition = |clause: &str, value: Value| {
        values.push(value);
        sql.push_str(&clause.replace('?', &format!("?{}", values.len())));
    };
    if let Some(status) = filter.status {
        condition(" AND status = ?", Value::Text(status.name().to_owned()));
    }
    if let Some(user) = filter.user {
        condition(" AND user_id = ?", Value::Text(user.to_string()));
    }
    if let Some(invoice) = &filter.invoice_number {
        condition(" AND invoice_number = ?", Value::Text(invoice.clone()));
    }
    if let Some(after) = filter.created_after {
        condition(" AND created_at >= ?", Value::Integer(micros(after)));
    }
    if let Some(before) = filter.created_before {
        condition(" AND created_at < ?", Value::Integer(micros(before)));
    }
    if let Some(after) = filter.after {
        condition(" AND id > ?", Value::Text(after.to_string()));
    }
    condition(" ORDER BY id LIMIT ?", Value::Integer(i64::from(filter.limit)));
    all(conn, &sql, params_from_iter(values), request)
}
