//! Webhook endpoints, and the deliveries of events to them (in [`deliveries`]).
//!
//! An endpoint keeps a cursor in its merchant's event feed: fanning out reads the events
//! after it, records a delivery of each the endpoint wants, and moves the cursor past them,
//! in one transaction that only commits if no other process moved the cursor first. The
//! feed never skips (see [`crate::events`]), so neither does an endpoint.

mod deliveries;

use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use futures::FutureExt as _;
use time::OffsetDateTime;

use clientele_domain::credential::ApiKeyId;
use clientele_domain::event::{Event, EventType};
use clientele_domain::merchant::MerchantId;
use clientele_domain::webhook::{DisabledReason, EndpointUrl, EventTypes, WebhookEndpoint, WebhookEndpointId};

use crate::at;
use crate::backend::{Backend, Db, read_all, read_one, timed, versioned, work, write_statement};
use crate::events::EventCursor;
use crate::schema::WEBHOOK_ENDPOINTS;
use crate::sql::{
    DecodeError, Named, Row, RowStatement, Sql, Value, insert_into, parsed, statement, update_at_version,
};
use crate::{StoreError, events};

pub use deliveries::{Claimed, DeliveryLease, DeliveryQuery, DeliveryStore, Made};

/// An endpoint as stored: with its secrets, sealed by the service, and its cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEndpoint {
    pub endpoint: WebhookEndpoint,
    pub secret: Vec<u8>,
    pub previous_secret: Option<Vec<u8>>,
    /// Where in the feed its deliveries have been made up to.
    pub cursor: EventCursor,
}

/// What fanning out did: how many events it read, and the deliveries it recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FannedOut {
    pub read: usize,
    pub claimed: Vec<Claimed>,
}

/// Which events an endpoint takes, as fanning out asks.
pub type Wants = Arc<dyn Fn(&Event) -> bool + Send + Sync>;

/// Webhook endpoints and the fanning out of events to them.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Stores a new endpoint, and marks its merchant as one with webhooks.
    async fn create_webhook_endpoint(&self, merchant: MerchantId, endpoint: &StoredEndpoint) -> Result<(), StoreError>;

    async fn webhook_endpoint(&self, merchant: MerchantId, id: WebhookEndpointId)
    -> Result<StoredEndpoint, StoreError>;

    /// The merchant's endpoints, oldest first.
    async fn webhook_endpoints(&self, merchant: MerchantId) -> Result<Vec<StoredEndpoint>, StoreError>;

    /// Replaces an endpoint's settings and secrets if it is still at `expected_version`
    /// (its cursor is not touched), with `events`.
    async fn update_webhook_endpoint(
        &self,
        merchant: MerchantId,
        endpoint: &StoredEndpoint,
        expected_version: i64,
        events: &[Event],
    ) -> Result<(), StoreError>;

    /// Deletes an endpoint with its deliveries and their attempts.
    async fn delete_webhook_endpoint(&self, merchant: MerchantId, id: WebhookEndpointId) -> Result<(), StoreError>;

    /// The merchants that have (or had) webhook endpoints.
    async fn merchants_with_webhooks(&self) -> Result<Vec<MerchantId>, StoreError>;

    /// Reads up to `limit` events after the endpoint's cursor, records a delivery, due at
    /// `now` and held by `lease`, of each that `wants` keeps, and moves the cursor past
    /// them: all or nothing, and nothing when another process moved the cursor first.
    /// Answers how many events it read (none: the endpoint is up to date, or another process
    /// is fanning out) and the deliveries it recorded, claimed, so the process sends them at
    /// once without claiming them again.
    async fn fan_out(
        &self,
        merchant: MerchantId,
        endpoint: WebhookEndpointId,
        limit: u32,
        wants: Wants,
        now: OffsetDateTime,
        lease: DeliveryLease,
    ) -> Result<FannedOut, StoreError>;

    /// Marks an endpoint as failing since `since`, unless it already is.
    async fn endpoint_failing(
        &self,
        merchant: MerchantId,
        id: WebhookEndpointId,
        since: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Marks an endpoint as delivering again.
    async fn endpoint_recovered(&self, merchant: MerchantId, id: WebhookEndpointId) -> Result<(), StoreError>;

    /// Disables an enabled endpoint for `reason`, with `events`; answers whether it was
    /// enabled (and so whether `events` were written).
    async fn disable_endpoint(
        &self,
        merchant: MerchantId,
        id: WebhookEndpointId,
        reason: DisabledReason,
        events: &[Event],
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
}

fn json_list<T: ToString>(items: impl IntoIterator<Item = T>) -> String {
    serde_json::Value::Array(items.into_iter().map(|item| serde_json::Value::String(item.to_string())).collect())
        .to_string()
}

fn values(merchant: MerchantId, stored: &StoredEndpoint) -> Named<'_> {
    let e = &stored.endpoint;
    vec![
        ("merchant_id", Value::id(merchant.as_uuid())),
        ("id", Value::id(e.id.as_uuid())),
        ("url", Value::text(e.url.as_str())),
        ("description", Value::text_or_null(e.description.as_deref())),
        ("event_types", Value::owned(json_list(e.event_types.as_slice().iter().map(|t| t.as_str())))),
        ("exclude_actors", Value::owned(json_list(&e.exclude_actors))),
        ("disabled", Value::text_or_null(e.disabled.map(DisabledReason::as_str))),
        ("failing_since", Value::Time(e.failing_since)),
        ("secret", Value::Bytes(Some(stored.secret.as_slice().into()))),
        ("previous_secret", Value::Bytes(stored.previous_secret.as_deref().map(Into::into))),
        ("previous_secret_until", Value::Time(e.previous_secret_until)),
        ("cursor_tx", Value::int(stored.cursor.tx)),
        ("cursor_position", Value::int(stored.cursor.position)),
        ("version", Value::int(e.version)),
        ("created_at", Value::time(e.created_at)),
        ("updated_at", Value::time(e.updated_at)),
    ]
}

fn strings(at: usize, text: &str) -> Result<Vec<String>, DecodeError> {
    serde_json::from_str(text).map_err(|_| DecodeError::new(at, "not a JSON list of strings"))
}

fn endpoint(row: &dyn Row) -> Result<StoredEndpoint, DecodeError> {
    let (url, types, excluded, disabled) = (
        at!(WEBHOOK_ENDPOINTS, "url"),
        at!(WEBHOOK_ENDPOINTS, "event_types"),
        at!(WEBHOOK_ENDPOINTS, "exclude_actors"),
        at!(WEBHOOK_ENDPOINTS, "disabled"),
    );
    let event_types = strings(types, row.text(types)?)?
        .iter()
        .map(|name| parsed(types, name, |name| EventType::parse("event_types", name)))
        .collect::<Result<Vec<_>, _>>()?;
    let exclude_actors = strings(excluded, row.text(excluded)?)?
        .iter()
        .map(|id| parsed(excluded, id, |id| id.parse::<ApiKeyId>()))
        .collect::<Result<Vec<_>, _>>()?;
    let disabled = match row.text_or_null(disabled)? {
        Some(text) => Some(parsed(disabled, text, |text| DisabledReason::from_stored(text).ok_or(()))?),
        None => None,
    };
    Ok(StoredEndpoint {
        endpoint: WebhookEndpoint {
            id: WebhookEndpointId::from_uuid(row.uuid(at!(WEBHOOK_ENDPOINTS, "id"))?),
            url: parsed(url, row.text(url)?, |text| EndpointUrl::from_stored(text).ok_or(()))?,
            description: row.text_or_null(at!(WEBHOOK_ENDPOINTS, "description"))?.map(str::to_owned),
            event_types: EventTypes::from_stored(event_types),
            exclude_actors,
            disabled,
            failing_since: row.time_or_null(at!(WEBHOOK_ENDPOINTS, "failing_since"))?,
            previous_secret_until: row.time_or_null(at!(WEBHOOK_ENDPOINTS, "previous_secret_until"))?,
            version: row.int(at!(WEBHOOK_ENDPOINTS, "version"))?,
            created_at: row.time(at!(WEBHOOK_ENDPOINTS, "created_at"))?,
            updated_at: row.time(at!(WEBHOOK_ENDPOINTS, "updated_at"))?,
        },
        secret: row
            .bytes_or_null(at!(WEBHOOK_ENDPOINTS, "secret"))?
            .ok_or_else(|| DecodeError::new(at!(WEBHOOK_ENDPOINTS, "secret"), "is NULL"))?
            .to_vec(),
        previous_secret: row.bytes_or_null(at!(WEBHOOK_ENDPOINTS, "previous_secret"))?.map(<[u8]>::to_vec),
        cursor: EventCursor {
            tx: row.int(at!(WEBHOOK_ENDPOINTS, "cursor_tx"))?,
            position: row.int(at!(WEBHOOK_ENDPOINTS, "cursor_position"))?,
        },
    })
}

static INSERT: RowStatement = RowStatement::new(|names| insert_into("webhook_endpoints", names));
/// Every column but the cursor, which only fanning out moves, and the creation time.
static UPDATE: RowStatement = RowStatement::new(|names| {
    update_at_version("webhook_endpoints", names, &["cursor_tx", "cursor_position", "created_at"])
});
statement!(MARK_MERCHANT, "UPDATE merchants SET webhooks = ?2 WHERE id = ?1");
statement!(EXISTS, "SELECT 1 FROM webhook_endpoints WHERE merchant_id = ?1 AND id = ?2");
statement!(GET, "SELECT {} FROM webhook_endpoints WHERE merchant_id = ?1 AND id = ?2", WEBHOOK_ENDPOINTS.select(None));
statement!(
    LIST,
    "SELECT {} FROM webhook_endpoints WHERE merchant_id = ?1 ORDER BY created_at, id",
    WEBHOOK_ENDPOINTS.select(None)
);
statement!(DELETE, "DELETE FROM webhook_endpoints WHERE merchant_id = ?1 AND id = ?2");
statement!(WITH_WEBHOOKS, "SELECT id FROM merchants WHERE webhooks = ?1 ORDER BY id");
statement!(
    MOVE_CURSOR,
    "UPDATE webhook_endpoints SET cursor_tx = ?3, cursor_position = ?4
      WHERE merchant_id = ?1 AND id = ?2 AND cursor_tx = ?5 AND cursor_position = ?6"
);
statement!(
    FAILING,
    "UPDATE webhook_endpoints SET failing_since = ?3
      WHERE merchant_id = ?1 AND id = ?2 AND failing_since IS NULL"
);
statement!(
    RECOVERED,
    "UPDATE webhook_endpoints SET failing_since = NULL
      WHERE merchant_id = ?1 AND id = ?2 AND failing_since IS NOT NULL"
);
statement!(
    DISABLE,
    "UPDATE webhook_endpoints SET disabled = ?3, version = version + 1, updated_at = ?4
      WHERE merchant_id = ?1 AND id = ?2 AND disabled IS NULL"
);

fn key(merchant: MerchantId, id: WebhookEndpointId) -> Vec<Value<'static>> {
    vec![Value::id(merchant.as_uuid()), Value::id(id.as_uuid())]
}

/// The webhook statements that differ by dialect: a cursor read that locks nothing on
/// SQLite (one writer) and waits for no one on PostgreSQL.
static CURSOR: LazyLock<Sql> = LazyLock::new(|| {
    Sql::dialects(
        "SELECT cursor_tx, cursor_position FROM webhook_endpoints WHERE merchant_id = ?1 AND id = ?2",
        "SELECT cursor_tx, cursor_position FROM webhook_endpoints WHERE merchant_id = $1 AND id = $2 \
         FOR UPDATE SKIP LOCKED",
    )
});

#[async_trait]
impl<B: Backend> WebhookStore for B {
    async fn create_webhook_endpoint(&self, merchant: MerchantId, endpoint: &StoredEndpoint) -> Result<(), StoreError> {
        let endpoint = endpoint.clone();
        let run = work(move |db: &mut B::Db| {
            async move {
                let (sql, values) = INSERT.of(values(merchant, &endpoint));
                db.execute(sql, &values).await?;
                db.execute(&MARK_MERCHANT, &[Value::id(merchant.as_uuid()), Value::Bool(true)]).await.map(drop)
            }
            .boxed()
        });
        timed(self, "create_webhook_endpoint", self.write(true, run)).await
    }

    async fn webhook_endpoint(
        &self,
        merchant: MerchantId,
        id: WebhookEndpointId,
    ) -> Result<StoredEndpoint, StoreError> {
        read_one(self, "webhook_endpoint", &GET, key(merchant, id), endpoint).await
    }

    async fn webhook_endpoints(&self, merchant: MerchantId) -> Result<Vec<StoredEndpoint>, StoreError> {
        read_all(self, "webhook_endpoints", &LIST, vec![Value::id(merchant.as_uuid())], endpoint).await
    }

    async fn update_webhook_endpoint(
        &self,
        merchant: MerchantId,
        endpoint: &StoredEndpoint,
        expected_version: i64,
        events: &[Event],
    ) -> Result<(), StoreError> {
        let (next, events) = (endpoint.clone(), events.to_vec());
        let atomic = !events.is_empty();
        let run = work(move |db: &mut B::Db| {
            async move {
                let (sql, mut row) = UPDATE.of(values(merchant, &next));
                row.push(Value::int(expected_version));
                versioned(db, sql, &row, &EXISTS, &key(merchant, next.endpoint.id)).await?;
                events::insert(db, merchant, &events).await
            }
            .boxed()
        });
        timed(self, "update_webhook_endpoint", self.write(atomic, run)).await
    }

    async fn delete_webhook_endpoint(&self, merchant: MerchantId, id: WebhookEndpointId) -> Result<(), StoreError> {
        match write_statement(self, "delete_webhook_endpoint", &DELETE, key(merchant, id)).await? {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    async fn merchants_with_webhooks(&self) -> Result<Vec<MerchantId>, StoreError> {
        let id = |row: &dyn Row| Ok(MerchantId::from_uuid(row.uuid(0)?));
        read_all(self, "merchants_with_webhooks", &WITH_WEBHOOKS, vec![Value::Bool(true)], id).await
    }

    async fn fan_out(
        &self,
        merchant: MerchantId,
        endpoint: WebhookEndpointId,
        limit: u32,
        wants: Wants,
        now: OffsetDateTime,
        lease: DeliveryLease,
    ) -> Result<FannedOut, StoreError> {
        let run = work(move |db: &mut B::Db| {
            async move {
                let cursor = |row: &dyn Row| Ok(EventCursor { tx: row.int(0)?, position: row.int(1)? });
                // Another process holds the endpoint (PostgreSQL) or it is gone: nothing to do.
                let Some(from) = db.optional(&CURSOR, &key(merchant, endpoint), cursor).await? else {
                    return Ok(FannedOut::default());
                };
                let read = events::after(db, merchant, from, limit).await?;
                let Some(last) = read.last().map(|stored| stored.cursor) else { return Ok(FannedOut::default()) };
                let mut claimed = Vec::new();
                for stored in read.iter().filter(|stored| wants(&stored.event)) {
                    claimed.extend(deliveries::insert(db, merchant, endpoint, stored, now, lease).await?);
                }
                let moved = [
                    Value::id(merchant.as_uuid()),
                    Value::id(endpoint.as_uuid()),
                    Value::int(last.tx),
                    Value::int(last.position),
                    Value::int(from.tx),
                    Value::int(from.position),
                ];
                match db.execute(&MOVE_CURSOR, &moved).await? {
                    1 => Ok(FannedOut { read: read.len(), claimed }),
                    // Another process moved it first: undo ours (its deliveries are its own).
                    _ => Err(StoreError::VersionMismatch),
                }
            }
            .boxed()
        });
        match timed(self, "fan_out", self.write(true, run)).await {
            Err(StoreError::VersionMismatch) => Ok(FannedOut::default()),
            other => other,
        }
    }

    async fn endpoint_failing(
        &self,
        merchant: MerchantId,
        id: WebhookEndpointId,
        since: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut values = key(merchant, id);
        values.push(Value::time(since));
        write_statement(self, "endpoint_failing", &FAILING, values).await.map(drop)
    }

    async fn endpoint_recovered(&self, merchant: MerchantId, id: WebhookEndpointId) -> Result<(), StoreError> {
        write_statement(self, "endpoint_recovered", &RECOVERED, key(merchant, id)).await.map(drop)
    }

    async fn disable_endpoint(
        &self,
        merchant: MerchantId,
        id: WebhookEndpointId,
        reason: DisabledReason,
        events: &[Event],
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let events = events.to_vec();
        let run = work(move |db: &mut B::Db| {
            async move {
                let mut values = key(merchant, id);
                values.extend([Value::text(reason.as_str()), Value::time(at)]);
                if db.execute(&DISABLE, &values).await? == 0 {
                    return Ok(false);
                }
                events::insert(db, merchant, &events).await?;
                Ok(true)
            }
            .boxed()
        });
        timed(self, "disable_endpoint", self.write(true, run)).await
    }
}
