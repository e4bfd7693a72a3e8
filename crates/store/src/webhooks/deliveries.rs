//! Deliveries: one event to one endpoint, claimed by one process at a time with a lease,
//! and every attempt recorded.

use std::sync::LazyLock;

use async_trait::async_trait;
use futures::FutureExt as _;
use time::OffsetDateTime;
use uuid::Uuid;

use clientele_domain::event::{EventId, EventType};
use clientele_domain::merchant::MerchantId;
use clientele_domain::webhook::{Attempt, Delivery, DeliveryId, DeliveryStatus, WebhookEndpointId};

use crate::StoreError;
use crate::at;
use crate::backend::{Backend, Db, read_all, timed, work, write_statement};
use crate::events::{EVENT_BY_ID, StoredEvent, stored};
use crate::schema::{WEBHOOK_ATTEMPTS, WEBHOOK_DELIVERIES};
use crate::sql::{DecodeError, Row, Sql, Value, parsed, statement};

/// A delivery a process has claimed, with its event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub id: DeliveryId,
    pub endpoint_id: WebhookEndpointId,
    /// Attempts made before this one.
    pub attempts: u32,
    pub event: StoredEvent,
}

/// A process's hold on the deliveries it claims: who holds them, and until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryLease {
    pub id: Uuid,
    pub until: OffsetDateTime,
}

/// An attempt made of a delivery held under `lease`, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Made {
    pub delivery: DeliveryId,
    pub lease: Uuid,
    pub attempt: Attempt,
}

/// Which of an endpoint's deliveries to list: newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryQuery {
    /// Only deliveries older than this one.
    pub before: Option<DeliveryId>,
    pub limit: u32,
}

/// Deliveries and their attempts.
#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Claims up to `limit` of the merchant's deliveries that are due at `now` and not held
    /// by another process, for `lease`.
    async fn claim_deliveries(
        &self,
        merchant: MerchantId,
        lease: DeliveryLease,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Claimed>, StoreError>;

    /// Records attempts, each of a delivery held by its lease, and where the delivery stands
    /// after it (the attempt's status and next attempt), releasing it; each on its own, so
    /// one that fails does not undo the others. A delivery no longer held by the attempt's
    /// lease (the lease ran out and another process took it) is left as it is.
    async fn record_attempts(&self, merchant: MerchantId, made: Vec<Made>) -> Result<(), StoreError>;

    /// An endpoint's deliveries, newest first, each with its attempts.
    async fn deliveries(
        &self,
        merchant: MerchantId,
        endpoint: WebhookEndpointId,
        query: DeliveryQuery,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// Makes a delivery of the endpoint due again at `now`, whatever it stands at.
    async fn retry_delivery(
        &self,
        merchant: MerchantId,
        endpoint: WebhookEndpointId,
        delivery: DeliveryId,
        now: OffsetDateTime,
    ) -> Result<Delivery, StoreError>;

    /// Frees every delivery of the merchant that a process holds: for a store that only
    /// one process delivers from (SQLite), on its start, so that what the last run held when
    /// it stopped is sent now rather than when its leases run out.
    async fn release_leases(&self, merchant: MerchantId) -> Result<u64, StoreError>;

    /// When the merchant's next pending delivery that no process holds at `now` is due, if
    /// it has one.
    async fn next_due(&self, merchant: MerchantId, now: OffsetDateTime) -> Result<Option<OffsetDateTime>, StoreError>;
}

statement!(
    INSERT,
    "INSERT INTO webhook_deliveries (merchant_id, id, endpoint_id, event_id, event_type, status, attempts,
                                     next_attempt_at, lease, lease_until, created_at, updated_at)
     VALUES (?1, ?2, ?3, ?4, ?5, 'pending', 0, ?6, ?7, ?8, ?6, ?6)
     ON CONFLICT (merchant_id, endpoint_id, event_id) DO NOTHING"
);

/// Records a delivery of `event` to `endpoint`, due at `now` and held by `lease`, unless
/// there is one; answers it as claimed when it is new.
pub(super) async fn insert<D: Db + ?Sized>(
    db: &mut D,
    merchant: MerchantId,
    endpoint: WebhookEndpointId,
    event: &StoredEvent,
    now: OffsetDateTime,
    lease: DeliveryLease,
) -> Result<Option<Claimed>, StoreError> {
    let id = DeliveryId::generate();
    let values = [
        Value::id(merchant.as_uuid()),
        Value::id(id.as_uuid()),
        Value::id(endpoint.as_uuid()),
        Value::id(event.event.id.as_uuid()),
        Value::text(event.event.kind.as_str()),
        Value::time(now),
        Value::owned(lease.id.to_string()),
        Value::time(lease.until),
    ];
    let inserted = db.execute(&INSERT, &values).await? == 1;
    Ok(inserted.then(|| Claimed { id, endpoint_id: endpoint, attempts: 0, event: event.clone() }))
}

/// Claims due deliveries; PostgreSQL skips the rows another process is claiming.
static CLAIM: LazyLock<Sql> = LazyLock::new(|| {
    Sql::each(|dialect| {
        let skip = match dialect {
            crate::sql::Dialect::Sqlite => "",
            crate::sql::Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        format!(
            "UPDATE webhook_deliveries SET lease = ?2, lease_until = ?3
              WHERE merchant_id = ?1 AND id IN (
                    SELECT id FROM webhook_deliveries
                     WHERE merchant_id = ?1 AND status = 'pending' AND next_attempt_at <= ?4
                       AND (lease_until IS NULL OR lease_until < ?4)
                     ORDER BY next_attempt_at LIMIT ?5{skip})
              RETURNING id, endpoint_id, event_id, attempts"
        )
    })
});
// The delivery is settled first: only a delivery still held by the lease has its attempt
// recorded, which then needs no read of its own.
statement!(
    SETTLE,
    "UPDATE webhook_deliveries SET status = ?9, attempts = ?4, next_attempt_at = ?10, lease = NULL,
            lease_until = NULL, updated_at = ?5
      WHERE merchant_id = ?1 AND id = ?2 AND lease = ?3"
);
statement!(
    RECORD,
    "INSERT INTO webhook_attempts (merchant_id, delivery_id, number, at, status_code, duration_ms, error, status,
                                   next_attempt_at)
     VALUES (?1, ?2, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
);
statement!(
    LIST,
    "SELECT {} FROM webhook_deliveries WHERE merchant_id = ?1 AND endpoint_id = ?2 AND id <> ?3
        AND (?4 = 0 OR (created_at, id) < (SELECT created_at, id FROM webhook_deliveries
                                            WHERE merchant_id = ?1 AND id = ?3))
      ORDER BY created_at DESC, id DESC LIMIT ?5",
    WEBHOOK_DELIVERIES.select(None)
);
statement!(
    ATTEMPTS,
    "SELECT a.delivery_id, {} FROM webhook_attempts a
       JOIN webhook_deliveries d ON d.merchant_id = a.merchant_id AND d.id = a.delivery_id
      WHERE a.merchant_id = ?1 AND d.endpoint_id = ?2
      ORDER BY a.delivery_id, a.number",
    WEBHOOK_ATTEMPTS.select(Some("a"))
);
statement!(
    RETRY,
    "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?4, updated_at = ?4
      WHERE merchant_id = ?1 AND endpoint_id = ?2 AND id = ?3"
);
statement!(
    ONE,
    "SELECT {} FROM webhook_deliveries WHERE merchant_id = ?1 AND endpoint_id = ?2 AND id = ?3",
    WEBHOOK_DELIVERIES.select(None)
);
statement!(
    RELEASE,
    "UPDATE webhook_deliveries SET lease = NULL, lease_until = NULL WHERE merchant_id = ?1 AND lease IS NOT NULL"
);
// Held deliveries are not due: their process is attempting them.
statement!(
    NEXT_DUE,
    "SELECT min(next_attempt_at) FROM webhook_deliveries
      WHERE merchant_id = ?1 AND status = 'pending' AND (lease_until IS NULL OR lease_until < ?2)"
);

fn count(at: usize, value: i64) -> Result<u32, DecodeError> {
    u32::try_from(value).map_err(|_| DecodeError::new(at, "out of range"))
}

fn delivery(row: &dyn Row) -> Result<Delivery, DecodeError> {
    let (kind, status) = (at!(WEBHOOK_DELIVERIES, "event_type"), at!(WEBHOOK_DELIVERIES, "status"));
    Ok(Delivery {
        id: DeliveryId::from_uuid(row.uuid(at!(WEBHOOK_DELIVERIES, "id"))?),
        endpoint_id: WebhookEndpointId::from_uuid(row.uuid(at!(WEBHOOK_DELIVERIES, "endpoint_id"))?),
        event_id: EventId::from_uuid(row.uuid(at!(WEBHOOK_DELIVERIES, "event_id"))?),
        event_type: parsed(kind, row.text(kind)?, |k| EventType::parse("event_type", k))?,
        status: parsed(status, row.text(status)?, |s| DeliveryStatus::parse("status", s))?,
        attempts: Vec::new(),
        next_attempt_at: row.time_or_null(at!(WEBHOOK_DELIVERIES, "next_attempt_at"))?,
        created_at: row.time(at!(WEBHOOK_DELIVERIES, "created_at"))?,
    })
}

/// An attempt, after its delivery's id (column 0).
fn attempt(row: &dyn Row) -> Result<(Uuid, Attempt), DecodeError> {
    // Column 0 is the delivery's id; the attempt's columns follow it.
    let (number, code, duration, status) = (
        1 + at!(WEBHOOK_ATTEMPTS, "number"),
        1 + at!(WEBHOOK_ATTEMPTS, "status_code"),
        1 + at!(WEBHOOK_ATTEMPTS, "duration_ms"),
        1 + at!(WEBHOOK_ATTEMPTS, "status"),
    );
    let attempt = Attempt {
        number: count(number, row.int(number)?)?,
        at: row.time(1 + at!(WEBHOOK_ATTEMPTS, "at"))?,
        status_code: match row.int_or_null(code)? {
            Some(value) => Some(u16::try_from(value).map_err(|_| DecodeError::new(code, "out of range"))?),
            None => None,
        },
        duration_ms: count(duration, row.int(duration)?)?,
        error: row.text_or_null(1 + at!(WEBHOOK_ATTEMPTS, "error"))?.map(str::to_owned),
        status: parsed(status, row.text(status)?, |s| DeliveryStatus::parse("status", s))?,
        next_attempt_at: row.time_or_null(1 + at!(WEBHOOK_ATTEMPTS, "next_attempt_at"))?,
    };
    Ok((row.uuid(0)?, attempt))
}

#[async_trait]
impl<B: Backend> DeliveryStore for B {
    async fn claim_deliveries(
        &self,
        merchant: MerchantId,
        lease: DeliveryLease,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Claimed>, StoreError> {
        let run = work(move |db: &mut B::Db| {
            async move {
                let values = [
                    Value::id(merchant.as_uuid()),
                    Value::owned(lease.id.to_string()),
                    Value::time(lease.until),
                    Value::time(now),
                    Value::int(i64::from(limit)),
                ];
                let decode = |row: &dyn Row| {
                    Ok((
                        DeliveryId::from_uuid(row.uuid(0)?),
                        WebhookEndpointId::from_uuid(row.uuid(1)?),
                        row.uuid(2)?,
                        count(3, row.int(3)?)?,
                    ))
                };
                let rows = db.fetch(&CLAIM, &values, decode).await?;
                let mut claimed = Vec::with_capacity(rows.len());
                for (id, endpoint_id, event, attempts) in rows {
                    let key = [Value::id(merchant.as_uuid()), Value::id(event)];
                    // An event purged under a pending delivery cannot be: the purge keeps them.
                    if let Some(event) = db.optional(&EVENT_BY_ID, &key, stored).await? {
                        claimed.push(Claimed { id, endpoint_id, attempts, event });
                    }
                }
                Ok(claimed)
            }
            .boxed()
        });
        timed(self, "claim_deliveries", self.write(true, run)).await
    }

    async fn record_attempts(&self, merchant: MerchantId, made: Vec<Made>) -> Result<(), StoreError> {
        // A transaction each, all at once: one holding several deliveries' locks deadlocks on
        // PostgreSQL with an endpoint's deletion, whose cascade locks them in its own order.
        // SQLite's writer still commits them in one group.
        let writes = made
            .into_iter()
            .map(|Made { delivery, lease, attempt }| {
                let run = work(move |db: &mut B::Db| {
                    async move {
                        let values = [
                            Value::id(merchant.as_uuid()),
                            Value::id(delivery.as_uuid()),
                            Value::owned(lease.to_string()),
                            Value::int(i64::from(attempt.number)),
                            Value::time(attempt.at),
                            Value::Int(attempt.status_code.map(i64::from)),
                            Value::int(i64::from(attempt.duration_ms)),
                            Value::text_or_null(attempt.error.as_deref()),
                            Value::text(attempt.status.as_str()),
                            Value::Time(attempt.next_attempt_at),
                        ];
                        if db.execute(&SETTLE, &values).await? == 1 {
                            db.execute(&RECORD, &values).await?;
                        }
                        Ok(())
                    }
                    .boxed()
                });
                self.write(true, run)
            })
            .collect::<Vec<_>>();
        let all = async { futures::future::join_all(writes).await.into_iter().collect::<Result<(), StoreError>>() };
        timed(self, "record_attempts", all).await
    }

    async fn deliveries(
        &self,
        merchant: MerchantId,
        endpoint: WebhookEndpointId,
        query: DeliveryQuery,
    ) -> Result<Vec<Delivery>, StoreError> {
        let run = work(move |db: &mut B::Db| {
            async move {
                let before = query.before.map(|id| id.as_uuid()).unwrap_or_default();
                let values = [
                    Value::id(merchant.as_uuid()),
                    Value::id(endpoint.as_uuid()),
                    Value::id(before),
                    Value::int(i64::from(query.before.is_some())),
                    Value::int(i64::from(query.limit)),
                ];
                let mut found = db.fetch(&LIST, &values, delivery).await?;
                let key = [Value::id(merchant.as_uuid()), Value::id(endpoint.as_uuid())];
                for (id, attempt) in db.fetch(&ATTEMPTS, &key, attempt).await? {
                    if let Some(delivery) = found.iter_mut().find(|d| d.id.as_uuid() == id) {
                        delivery.attempts.push(attempt);
                    }
                }
                Ok(found)
            }
            .boxed()
        });
        timed(self, "deliveries", self.read(run)).await
    }

    async fn retry_delivery(
        &self,
        merchant: MerchantId,
        endpoint: WebhookEndpointId,
        id: DeliveryId,
        now: OffsetDateTime,
    ) -> Result<Delivery, StoreError> {
        let run = work(move |db: &mut B::Db| {
            async move {
                let key = [Value::id(merchant.as_uuid()), Value::id(endpoint.as_uuid()), Value::id(id.as_uuid())];
                let mut values = key.to_vec();
                values.push(Value::time(now));
                if db.execute(&RETRY, &values).await? == 0 {
                    return Err(StoreError::NotFound);
                }
                db.one(&ONE, &key, delivery).await
            }
            .boxed()
        });
        timed(self, "retry_delivery", self.write(true, run)).await
    }

    async fn release_leases(&self, merchant: MerchantId) -> Result<u64, StoreError> {
        write_statement(self, "release_leases", &RELEASE, vec![Value::id(merchant.as_uuid())]).await
    }

    async fn next_due(&self, merchant: MerchantId, now: OffsetDateTime) -> Result<Option<OffsetDateTime>, StoreError> {
        let due = |row: &dyn Row| row.time_or_null(0);
        let values = vec![Value::id(merchant.as_uuid()), Value::time(now)];
        let found = read_all(self, "next_due", &NEXT_DUE, values, due).await?;
        Ok(found.into_iter().flatten().next())
    }
}
