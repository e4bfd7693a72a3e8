//! Once-off payment requests, and the public links that find them without a merchant.

use std::collections::BTreeMap;

use async_trait::async_trait;
use futures::FutureExt as _;

use clientele_domain::event::Event;
use clientele_domain::merchant::MerchantId;
use clientele_domain::payment::{
    Channel, Currency, DocumentUrl, InvoiceNumber, PaymentRequest, PaymentRequestId, PaymentStatus, PublicAccessGuid,
    Segment,
};
use clientele_domain::user::{Origin, User, UserId};

use crate::at;
use crate::backend::{Backend, Db, read_one, timed, versioned, work};
use crate::schema::PAYMENT_REQUESTS;
use crate::sql::{
    DecodeError, Named, Row, RowStatement, Sql, Value, insert_into, parsed, statement, update_at_version,
};
use crate::{IdempotentAnswer, PaymentFilter, StoreError, keys};

/// Payment requests.
#[async_trait]
pub trait PaymentStore: Send + Sync {
    /// Stores a payment request and its public link, with the user it belongs to when that
    /// user is new, and `events`, in one transaction. Conflicts:
    /// [`Unique::InvoiceNumber`](crate::Unique::InvoiceNumber), and the user's own.
    async fn create_payment_request(
        &self,
        merchant: MerchantId,
        request: &PaymentRequest,
        new_user: Option<&User>,
        origin: &Origin,
        events: &[Event],
        answer: Option<&IdempotentAnswer>,
    ) -> Result<(), StoreError>;

    async fn payment_request(&self, merchant: MerchantId, id: PaymentRequestId) -> Result<PaymentRequest, StoreError>;

    async fn payment_request_by_invoice(
        &self,
        merchant: MerchantId,
        invoice: &str,
    ) -> Result<PaymentRequest, StoreError>;

    /// Finds whose payment request a public link is: the one lookup by something other than
    /// the merchant, because the link's GUID is all a debtor has.
    async fn resolve_public_link(&self, guid: PublicAccessGuid) -> Result<(MerchantId, PaymentRequestId), StoreError>;

    /// A page of the merchant's payment requests, in id order.
    async fn list_payment_requests(
        &self,
        merchant: MerchantId,
        filter: &PaymentFilter,
    ) -> Result<Vec<PaymentRequest>, StoreError>;

    /// Replaces a request's stored state if it is still at `expected_version`, with
    /// `events`.
    async fn update_payment_request(
        &self,
        merchant: MerchantId,
        request: &PaymentRequest,
        expected_version: i64,
        events: &[Event],
    ) -> Result<(), StoreError>;
}

/// The values of a request's row, by column.
pub fn values(merchant: MerchantId, r: &PaymentRequest) -> Named<'_> {
    vec![
        ("merchant_id", Value::id(merchant.as_uuid())),
        ("id", Value::id(r.id.as_uuid())),
        ("public_access_guid", Value::id(r.public_access_guid.as_uuid())),
        ("user_id", Value::id(r.user_id.as_uuid())),
        ("invoice_number", Value::text(r.invoice_number.as_str())),
        ("segment", Value::text(r.segment.as_str())),
        ("amount_outstanding", Value::Money(Some(r.amount_outstanding))),
        ("currency", Value::text(r.currency.name())),
        ("channel", Value::text(r.channel.name())),
        ("debt_date", Value::Date(r.debt_date)),
        ("url_to_document", Value::text_or_null(r.url_to_document.as_ref().map(DocumentUrl::as_str))),
        ("debt_meta", Value::owned(serde_json::to_string(&r.debt_meta).unwrap_or_else(|_| "{}".to_owned()))),
        ("status", Value::text(r.status.name())),
        ("viewed_at", Value::Time(r.viewed_at)),
        ("paid_at", Value::Time(r.paid_at)),
        ("cancelled_at", Value::Time(r.cancelled_at)),
        ("version", Value::int(r.version)),
        ("created_at", Value::time(r.created_at)),
        ("updated_at", Value::time(r.updated_at)),
    ]
}

fn request(row: &dyn Row) -> Result<PaymentRequest, DecodeError> {
    let (currency, channel, meta, status) = (
        at!(PAYMENT_REQUESTS, "currency"),
        at!(PAYMENT_REQUESTS, "channel"),
        at!(PAYMENT_REQUESTS, "debt_meta"),
        at!(PAYMENT_REQUESTS, "status"),
    );
    Ok(PaymentRequest {
        id: PaymentRequestId::from_uuid(row.uuid(at!(PAYMENT_REQUESTS, "id"))?),
        public_access_guid: PublicAccessGuid::from_uuid(row.uuid(at!(PAYMENT_REQUESTS, "public_access_guid"))?),
        user_id: UserId::from_uuid(row.uuid(at!(PAYMENT_REQUESTS, "user_id"))?),
        invoice_number: InvoiceNumber::from_stored(row.text(at!(PAYMENT_REQUESTS, "invoice_number"))?.to_owned()),
        segment: Segment::from_stored(row.text(at!(PAYMENT_REQUESTS, "segment"))?.to_owned()),
        amount_outstanding: row.money(at!(PAYMENT_REQUESTS, "amount_outstanding"))?,
        currency: parsed(currency, row.text(currency)?, |c| Currency::from_name(c).ok_or(()))?,
        channel: parsed(channel, row.text(channel)?, |c| Channel::from_name(c).ok_or(()))?,
        debt_date: row.date_or_null(at!(PAYMENT_REQUESTS, "debt_date"))?,
        url_to_document: row
            .text_or_null(at!(PAYMENT_REQUESTS, "url_to_document"))?
            .map(|u| DocumentUrl::from_stored(u.to_owned())),
        debt_meta: parsed(meta, row.text(meta)?, |m| serde_json::from_str::<BTreeMap<String, String>>(m))?,
        status: parsed(status, row.text(status)?, |s| PaymentStatus::from_name(s).ok_or(()))?,
        viewed_at: row.time_or_null(at!(PAYMENT_REQUESTS, "viewed_at"))?,
        paid_at: row.time_or_null(at!(PAYMENT_REQUESTS, "paid_at"))?,
        cancelled_at: row.time_or_null(at!(PAYMENT_REQUESTS, "cancelled_at"))?,
        version: row.int(at!(PAYMENT_REQUESTS, "version"))?,
        created_at: row.time(at!(PAYMENT_REQUESTS, "created_at"))?,
        updated_at: row.time(at!(PAYMENT_REQUESTS, "updated_at"))?,
    })
}

static INSERT: RowStatement = RowStatement::new(|names| insert_into("payment_requests", names));
statement!(INSERT_LINK, "INSERT INTO public_links (guid, merchant_id, payment_request_id) VALUES (?1, ?2, ?3)");
static UPDATE: RowStatement = RowStatement::new(|names| update_at_version("payment_requests", names, &[]));
statement!(EXISTS, "SELECT 1 FROM payment_requests WHERE merchant_id = ?1 AND id = ?2");
statement!(GET, "SELECT {} FROM payment_requests WHERE merchant_id = ?1 AND id = ?2", PAYMENT_REQUESTS.select(None));
statement!(
    BY_INVOICE,
    "SELECT {} FROM payment_requests WHERE merchant_id = ?1 AND invoice_number = ?2",
    PAYMENT_REQUESTS.select(None)
);
statement!(RESOLVE, "SELECT merchant_id, payment_request_id FROM public_links WHERE guid = ?1");

/// Inserts a request and its public link: the statements every dialect can run
/// ([`Db::insert_payment_request`] by default).
pub(crate) async fn insert<D: Db + ?Sized>(
    db: &mut D,
    merchant: MerchantId,
    request: &PaymentRequest,
) -> Result<(), StoreError> {
    let (sql, row) = INSERT.of(values(merchant, request));
    db.execute(sql, &row).await?;
    let link = [
        Value::id(request.public_access_guid.as_uuid()),
        Value::id(merchant.as_uuid()),
        Value::id(request.id.as_uuid()),
    ];
    db.execute(&INSERT_LINK, &link).await.map(drop)
}

/// The query of a list, with its values: every filter given must match.
fn list_query(merchant: MerchantId, filter: &PaymentFilter) -> (Sql, Vec<Value<'_>>) {
    let mut sql = format!("SELECT {} FROM payment_requests WHERE merchant_id = ?1", PAYMENT_REQUESTS.select(None));
    let mut values = vec![Value::id(merchant.as_uuid())];
    let mut condition = |clause: &str, value: Value<'static>| {
        values.push(value);
        sql.push_str(&clause.replace('?', &format!("?{}", values.len())));
    };
    if let Some(status) = filter.status {
        condition(" AND status = ?", Value::text(status.name()));
    }
    if let Some(user) = filter.user {
        condition(" AND user_id = ?", Value::id(user.as_uuid()));
    }
    if let Some(invoice) = &filter.invoice_number {
        condition(" AND invoice_number = ?", Value::owned(invoice.clone()));
    }
    if let Some(after) = filter.created_after {
        condition(" AND created_at >= ?", Value::time(after));
    }
    if let Some(before) = filter.created_before {
        condition(" AND created_at < ?", Value::time(before));
    }
    if let Some(after) = filter.after {
        condition(" AND id > ?", Value::id(after.as_uuid()));
    }
    condition(" ORDER BY id LIMIT ?", Value::int(i64::from(filter.limit)));
    (Sql::new(sql), values)
}

#[async_trait]
impl<B: Backend> PaymentStore for B {
    async fn create_payment_request(
        &self,
        merchant: MerchantId,
        request: &PaymentRequest,
        new_user: Option<&User>,
        origin: &Origin,
        events: &[Event],
        answer: Option<&IdempotentAnswer>,
    ) -> Result<(), StoreError> {
        let atomic = new_user.is_some() || answer.is_some() || !B::Db::inserts_payment_in_one_statement(events);
        let (request, user, origin, answer) = (request.clone(), new_user.cloned(), origin.clone(), answer.cloned());
        let events = events.to_vec();
        let run = work(move |db: &mut B::Db| {
            async move {
                if let Some(user) = &user {
                    db.insert_user(merchant, user, &origin, &[]).await?;
                }
                db.insert_payment_request(merchant, &request, &events).await?;
                match &answer {
                    Some(answer) => keys::complete(db, merchant, answer).await,
                    None => Ok(()),
                }
            }
            .boxed()
        });
        timed(self, "create_payment_request", self.write(atomic, run)).await
    }

    async fn payment_request(&self, merchant: MerchantId, id: PaymentRequestId) -> Result<PaymentRequest, StoreError> {
        read_one(self, "payment_request", &GET, vec![Value::id(merchant.as_uuid()), Value::id(id.as_uuid())], request)
            .await
    }

    async fn payment_request_by_invoice(
        &self,
        merchant: MerchantId,
        invoice: &str,
    ) -> Result<PaymentRequest, StoreError> {
        let values = vec![Value::id(merchant.as_uuid()), Value::owned(invoice.to_owned())];
        read_one(self, "payment_request_by_invoice", &BY_INVOICE, values, request).await
    }

    async fn resolve_public_link(&self, guid: PublicAccessGuid) -> Result<(MerchantId, PaymentRequestId), StoreError> {
        read_one(self, "resolve_public_link", &RESOLVE, vec![Value::id(guid.as_uuid())], |row| {
            Ok((MerchantId::from_uuid(row.uuid(0)?), PaymentRequestId::from_uuid(row.uuid(1)?)))
        })
        .await
    }

    async fn list_payment_requests(
        &self,
        merchant: MerchantId,
        filter: &PaymentFilter,
    ) -> Result<Vec<PaymentRequest>, StoreError> {
        let filter = filter.clone();
        let run = work(move |db: &mut B::Db| {
            async move {
                let (sql, values) = list_query(merchant, &filter);
                db.fetch(&sql, &values, request).await
            }
            .boxed()
        });
        timed(self, "list_payment_requests", self.read(run)).await
    }

    async fn update_payment_request(
        &self,
        merchant: MerchantId,
        next: &PaymentRequest,
        expected_version: i64,
        events: &[Event],
    ) -> Result<(), StoreError> {
        let (next, events) = (next.clone(), events.to_vec());
        let atomic = !events.is_empty();
        let run = work(move |db: &mut B::Db| {
            async move {
                let (sql, mut row) = UPDATE.of(values(merchant, &next));
                row.push(Value::int(expected_version));
                let key = [Value::id(merchant.as_uuid()), Value::id(next.id.as_uuid())];
                versioned(db, sql, &row, &EXISTS, &key).await?;
                crate::events::insert(db, merchant, &events).await
            }
            .boxed()
        });
        timed(self, "update_payment_request", self.write(atomic, run)).await
    }
}
