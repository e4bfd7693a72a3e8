//! Payment requests and public links on PostgreSQL.

use std::collections::BTreeMap;

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row as _};

use clientele_domain::merchant::MerchantId;
use clientele_domain::money::Money;
use clientele_domain::payment::{
    Channel, Currency, DocumentUrl, InvoiceNumber, PaymentRequest, PaymentRequestId, PaymentStatus, PublicAccessGuid,
    Segment,
};
use clientele_domain::user::UserId;
use clientele_store::{PaymentFilter, StoreError};

use crate::rows::store_error;

const COLUMNS: &str = "id, public_access_guid, user_id, invoice_number, segment, amount_outstanding, currency, \
     channel, debt_date, url_to_document, debt_meta, status, viewed_at, paid_at, cancelled_at, version, created_at, \
     updated_at";

fn decode(column: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode { index: column.to_owned(), source: format!("unexpected stored {column}").into() }
}

fn request(row: &PgRow) -> sqlx::Result<PaymentRequest> {
    let amount: rust_decimal::Decimal = row.try_get("amount_outstanding")?;
    let currency: String = row.try_get("currency")?;
    let channel: String = row.try_get("channel")?;
    let meta: String = row.try_get("debt_meta")?;
    let status: String = row.try_get("status")?;
    Ok(PaymentRequest {
        id: PaymentRequestId::from_uuid(row.try_get("id")?),
        public_access_guid: PublicAccessGuid::from_uuid(row.try_get("public_access_guid")?),
        user_id: UserId::from_uuid(row.try_get("user_id")?),
        invoice_number: InvoiceNumber::from_stored(row.try_get("invoice_number")?),
        segment: Segment::from_stored(row.try_get("segment")?),
        amount_outstanding: Money::from_decimal(amount).ok_or_else(|| decode("amount_outstanding"))?,
        currency: Currency::from_name(&currency).ok_or_else(|| decode("currency"))?,
        channel: Channel::from_name(&channel).ok_or_else(|| decode("channel"))?,
        debt_date: row.try_get("debt_date")?,
        url_to_document: row.try_get::<Option<String>, _>("url_to_document")?.map(DocumentUrl::from_stored),
        debt_meta: serde_json::from_str::<BTreeMap<String, String>>(&meta).map_err(|_| decode("debt_meta"))?,
        status: PaymentStatus::from_name(&status).ok_or_else(|| decode("status"))?,
        viewed_at: row.try_get("viewed_at")?,
        paid_at: row.try_get("paid_at")?,
        cancelled_at: row.try_get("cancelled_at")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn bind_all<'q>(
    query: sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>,
    merchant: MerchantId,
    r: &'q PaymentRequest,
) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    query
        .bind(merchant.as_uuid())
        .bind(r.id.as_uuid())
        .bind(r.public_access_guid.as_uuid())
        .bind(r.user_id.as_uuid())
        .bind(r.invoice_number.as_str())
        .bind(r.segment.as_str())
        .bind(r.amount_outstanding.amount())
        .bind(r.currency.name())
        .bind(r.channel.name())
        .bind(r.debt_date)
        .bind(r.url_to_document.as_ref().map(DocumentUrl::as_str))
        .bind(serde_json::to_string(&r.debt_meta).unwrap_or_else(|_| "{}".to_owned()))
        .bind(r.status.name())
        .bind(r.viewed_at)
        .bind(r.paid_at)
        .bind(r.cancelled_at)
        .bind(r.version)
        .bind(r.created_at)
        .bind(r.updated_at)
}

/// Inserts a payment request and its public link, in one statement.
pub(crate) async fn create(
    conn: &mut PgConnection,
    merchant: MerchantId,
    r: &PaymentRequest,
) -> Result<(), StoreError> {
    let placeholders = (1..=19).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "WITH created AS (
             INSERT INTO payment_requests (merchant_id, {COLUMNS}) VALUES ({placeholders})
             RETURNING merchant_id, id)
         INSERT INTO public_links (guid, merchant_id, payment_request_id) SELECT $20, merchant_id, id FROM created"
    );
    bind_all(sqlx::query(&sql), merchant, r)
        .bind(r.public_access_guid.as_uuid())
        .execute(conn)
        .await
        .map(drop)
        .map_err(store_error)
}

pub(crate) async fn update(
    conn: &mut PgConnection,
    merchant: MerchantId,
    r: &PaymentRequest,
    expected_version: i64,
) -> Result<(), StoreError> {
    let assignments = COLUMNS
        .split(", ")
        .enumerate()
        .skip(1)
        .map(|(n, column)| format!("{column} = ${}", n + 2))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!("UPDATE payment_requests SET {assignments} WHERE merchant_id = $1 AND id = $2 AND version = $20");
    let updated = bind_all(sqlx::query(&sql), merchant, r)
        .bind(expected_version)
        .execute(&mut *conn)
        .await
        .map_err(store_error)?;
    if updated.rows_affected() == 1 {
        return Ok(());
    }
    get(conn, merchant, r.id).await.and(Err(StoreError::VersionMismatch))
}

pub(crate) async fn get(
    conn: &mut PgConnection,
    merchant: MerchantId,
    id: PaymentRequestId,
) -> Result<PaymentRequest, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM payment_requests WHERE merchant_id = $1 AND id = $2");
    let row = sqlx::query(&sql).bind(merchant.as_uuid()).bind(id.as_uuid()).fetch_one(conn).await;
    row.and_then(|row| request(&row)).map_err(store_error)
}

pub(crate) async fn by_invoice(
    conn: &mut PgConnection,
    merchant: MerchantId,
    invoice: &str,
) -> Result<PaymentRequest, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM payment_requests WHERE merchant_id = $1 AND invoice_number = $2");
    let row = sqlx::query(&sql).bind(merchant.as_uuid()).bind(invoice).fetch_one(conn).await;
    row.and_then(|row| request(&row)).map_err(store_error)
}

pub(crate) async fn resolve(
    conn: &mut PgConnection,
    guid: PublicAccessGuid,
) -> Result<(MerchantId, PaymentRequestId), StoreError> {
    let row = sqlx::query("SELECT merchant_id, payment_request_id FROM public_links WHERE guid = $1")
        .bind(guid.as_uuid())
        .fetch_one(conn)
        .await
        .map_err(store_error)?;
    Ok((
        MerchantId::from_uuid(row.try_get("merchant_id").map_err(store_error)?),
        PaymentRequestId::from_uuid(row.try_get("payment_request_id").map_err(store_error)?),
    ))
}

pub(crate) async fn list(
    conn: &mut PgConnection,
    merchant: MerchantId,
    filter: &PaymentFilter,
) -> Result<Vec<PaymentRequest>, StoreError> {
    let mut query =
        QueryBuilder::<Postgres>::new(format!("SELECT {COLUMNS} FROM payment_requests WHERE merchant_id = "));
    query.push_bind(merchant.as_uuid());
    if let Some(status) = filter.status {
        query.push(" AND status = ").push_bind(status.name());
    }
    if let Some(user) = filter.user {
        query.push(" AND user_id = ").push_bind(user.as_uuid());
    }
    if let Some(invoice) = &filter.invoice_number {
        query.push(" AND invoice_number = ").push_bind(invoice.clone());
    }
    if let Some(after) = filter.created_after {
        query.push(" AND created_at >= ").push_bind(after);
    }
    if let Some(before) = filter.created_before {
        query.push(" AND created_at < ").push_bind(before);
    }
    if let Some(after) = filter.after {
        query.push(" AND id > ").push_bind(after.as_uuid());
    }
    query.push(" ORDER BY id LIMIT ").push_bind(i64::from(filter.limit));
    let rows = query.build().fetch_all(conn).await.map_err(store_error)?;
    rows.iter().map(|row| request(row).map_err(store_error)).collect()
}
