//! Events: written in the transaction of the change that made them, and read back as a feed
//! that never skips one.
//!
//! An event's place in the feed is its cursor: the id of the transaction that wrote it, then
//! its position. SQLite has one writer, which commits in order: every event is at
//! transaction 0 and its position is the order of commits. PostgreSQL's transactions commit
//! out of order, so a reader takes only the events of transactions below its snapshot's
//! horizon (the oldest transaction still running): each of those has ended, so any event
//! that commits later is of a newer transaction, and comes after every cursor handed out.

use std::sync::LazyLock;

use async_trait::async_trait;
use futures::FutureExt as _;
use time::OffsetDateTime;
use uuid::Uuid;

use clientele_domain::event::{Event, EventData, EventId, EventType};
use clientele_domain::merchant::MerchantId;

use crate::at;
use crate::backend::{Backend, Db, timed, work};
use crate::schema::EVENTS;
use crate::sql::{DecodeError, Dialect, Named, Row, RowStatement, Sql, Value, insert_into, parsed};
use crate::{StoreError, users};

/// Where an event stands in its merchant's feed. Cursors compare in feed order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventCursor {
    pub tx: i64,
    pub position: i64,
}

/// An event read from the feed, with its cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub cursor: EventCursor,
    pub event: Event,
}

/// Which events of the feed to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// Only the events after this cursor.
    pub after: Option<EventCursor>,
    pub kind: Option<EventType>,
    pub resource_id: Option<Uuid>,
    pub limit: u32,
}

/// The event feed.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Events of the merchant in feed order, oldest first, that every later read will also
    /// see before anything newer: a reader paging with the last cursor misses none.
    async fn events(&self, merchant: MerchantId, query: &EventQuery) -> Result<Vec<StoredEvent>, StoreError>;

    /// The cursor of the newest event every reader sees; the start of the feed when there is
    /// none.
    async fn feed_end(&self, merchant: MerchantId) -> Result<EventCursor, StoreError>;

    /// Deletes up to `limit` of the merchant's oldest events that occurred before `before`,
    /// but none that a delivery still waits to send. Answers how many went.
    async fn purge_events(&self, merchant: MerchantId, before: OffsetDateTime, limit: u32) -> Result<u64, StoreError>;
}

/// The columns an event is written with, in the order of [`row`]; the database gives it
/// its transaction and position.
pub const WRITTEN: [&str; 11] = [
    "merchant_id",
    "id",
    "type",
    "occurred_at",
    "resource_type",
    "resource_id",
    "version",
    "surface",
    "interaction_point_id",
    "actor_id",
    "data",
];

/// An event's values, in the order of [`WRITTEN`].
pub fn row(merchant: MerchantId, event: &Event) -> [Value<'_>; 11] {
    [
        Value::id(merchant.as_uuid()),
        Value::id(event.id.as_uuid()),
        Value::text(event.kind.as_str()),
        Value::time(event.occurred_at),
        Value::text(event.kind.resource().as_str()),
        Value::id(event.resource_id),
        Value::Int(event.version),
        Value::text(event.origin.surface.as_str()),
        Value::text_or_null(event.origin.interaction_point.as_ref().map(|p| p.as_str())),
        Value::Uuid(event.origin.actor.map(|actor| actor.as_uuid())),
        Value::owned(event.data.to_json()),
    ]
}

pub(crate) fn values(merchant: MerchantId, event: &Event) -> Named<'_> {
    WRITTEN.into_iter().zip(row(merchant, event)).collect()
}

static INSERT: RowStatement = RowStatement::new(|names| insert_into("events", names));

/// Writes `events`, in whatever transaction `db` is in.
pub async fn insert<D: Db + ?Sized>(db: &mut D, merchant: MerchantId, events: &[Event]) -> Result<(), StoreError> {
    for event in events {
        let (sql, values) = INSERT.of(values(merchant, event));
        db.execute(sql, &values).await?;
    }
    Ok(())
}

/// The horizon below which every transaction has ended, in each dialect.
fn horizon(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "1",
        Dialect::Postgres => "pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
    }
}

/// The feed's events after the cursor `(?2, ?3)` that every transaction before has ended,
/// in each dialect. PostgreSQL seeks its index by the row comparison. SQLite reads a row
/// comparison as `tx > ?2` alone and so would walk every event of the merchant before the
/// cursor on every page; its events all have `tx` 0 (one writer commits in order), so it
/// seeks by position instead: all of them after a cursor before 0, those after the
/// position at 0, none after a later one.
fn after_cursor(dialect: Dialect) -> String {
    match dialect {
        Dialect::Sqlite => {
            "tx = 0 AND position > CASE WHEN ?2 < 0 THEN 0 WHEN ?2 = 0 THEN ?3 ELSE 9223372036854775807 END".to_owned()
        }
        Dialect::Postgres => format!("(tx, position) > (?2, ?3) AND tx < {}", horizon(dialect)),
    }
}

/// The feed statement for each combination of filters: (type, resource). The filters'
/// values are bound after the merchant, the cursor and the limit, in that order.
static FEED: LazyLock<[Sql; 4]> = LazyLock::new(|| {
    let make = |kind: bool, resource: bool| {
        Sql::each(|dialect| {
            let mut sql = format!(
                "SELECT {} FROM events WHERE merchant_id = ?1 AND {}",
                EVENTS.select(None),
                after_cursor(dialect)
            );
            let mut next = 5;
            if kind {
                sql.push_str(&format!(" AND type = ?{next}"));
                next += 1;
            }
            if resource {
                sql.push_str(&format!(" AND resource_id = ?{next}"));
            }
            sql.push_str(" ORDER BY tx, position LIMIT ?4");
            sql
        })
    };
    [make(false, false), make(true, false), make(false, true), make(true, true)]
});

/// An event by its id.
pub(crate) static EVENT_BY_ID: LazyLock<Sql> = LazyLock::new(|| {
    Sql::new(format!("SELECT {} FROM events WHERE merchant_id = ?1 AND id = ?2", EVENTS.select(None)))
});

/// Reads the feed as [`EventStore::events`] does, in whatever transaction `db` is in.
pub(crate) async fn read<D: Db + ?Sized>(
    db: &mut D,
    merchant: MerchantId,
    query: &EventQuery,
) -> Result<Vec<StoredEvent>, StoreError> {
    let after = query.after.unwrap_or_default();
    let mut values = vec![
        Value::id(merchant.as_uuid()),
        Value::int(after.tx),
        Value::int(after.position),
        Value::int(i64::from(query.limit)),
    ];
    values.extend(query.kind.map(|kind| Value::text(kind.as_str())));
    values.extend(query.resource_id.map(Value::id));
    let [plain, by_kind, by_resource, by_both] = &*FEED;
    let sql = match (query.kind.is_some(), query.resource_id.is_some()) {
        (false, false) => plain,
        (true, false) => by_kind,
        (false, true) => by_resource,
        (true, true) => by_both,
    };
    db.fetch(sql, &values, stored).await
}

/// Up to `limit` events after `cursor`.
pub(crate) async fn after<D: Db + ?Sized>(
    db: &mut D,
    merchant: MerchantId,
    cursor: EventCursor,
    limit: u32,
) -> Result<Vec<StoredEvent>, StoreError> {
    read(db, merchant, &EventQuery { after: Some(cursor), limit, ..EventQuery::default() }).await
}

static END: LazyLock<Sql> = LazyLock::new(|| {
    Sql::each(|dialect| {
        format!(
            "SELECT tx, position FROM events WHERE merchant_id = ?1 AND tx < {} ORDER BY tx DESC, position DESC LIMIT 1",
            horizon(dialect)
        )
    })
});

crate::sql::statement!(
    PURGE,
    "DELETE FROM events WHERE merchant_id = ?1 AND id IN (
         SELECT e.id FROM events e
          WHERE e.merchant_id = ?1 AND e.occurred_at < ?2
            AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                             WHERE d.merchant_id = e.merchant_id AND d.event_id = e.id AND d.status = 'pending')
          ORDER BY e.tx, e.position LIMIT ?3)"
);

/// An event as [`EVENTS`] lists its columns.
pub(crate) fn stored(row: &dyn Row) -> Result<StoredEvent, DecodeError> {
    let kind = at!(EVENTS, "type");
    let data = at!(EVENTS, "data");
    let origin = [at!(EVENTS, "surface"), at!(EVENTS, "interaction_point_id"), at!(EVENTS, "actor_id")];
    Ok(StoredEvent {
        cursor: EventCursor { tx: row.int(at!(EVENTS, "tx"))?, position: row.int(at!(EVENTS, "position"))? },
        event: Event {
            id: EventId::from_uuid(row.uuid(at!(EVENTS, "id"))?),
            kind: parsed(kind, row.text(kind)?, |k| EventType::parse("type", k))?,
            occurred_at: row.time(at!(EVENTS, "occurred_at"))?,
            resource_id: row.uuid(at!(EVENTS, "resource_id"))?,
            version: row.int_or_null(at!(EVENTS, "version"))?,
            origin: users::origin(row, origin)?,
            data: EventData::from_stored(row.text(data)?).ok_or_else(|| DecodeError::new(data, "not a JSON object"))?,
        },
    })
}

#[async_trait]
impl<B: Backend> EventStore for B {
    async fn events(&self, merchant: MerchantId, query: &EventQuery) -> Result<Vec<StoredEvent>, StoreError> {
        let query = query.clone();
        let read = work(move |db: &mut B::Db| async move { read(db, merchant, &query).await }.boxed());
        timed(self, "events", self.read_statement(read)).await
    }

    async fn feed_end(&self, merchant: MerchantId) -> Result<EventCursor, StoreError> {
        let read = work(move |db: &mut B::Db| {
            async move {
                let cursor = |row: &dyn Row| Ok(EventCursor { tx: row.int(0)?, position: row.int(1)? });
                Ok(db.optional(&END, &[Value::id(merchant.as_uuid())], cursor).await?.unwrap_or_default())
            }
            .boxed()
        });
        timed(self, "feed_end", self.read_statement(read)).await
    }

    async fn purge_events(&self, merchant: MerchantId, before: OffsetDateTime, limit: u32) -> Result<u64, StoreError> {
        let values = [Value::id(merchant.as_uuid()), Value::time(before), Value::int(i64::from(limit))];
        let purge = work(move |db: &mut B::Db| async move { db.execute(&PURGE, &values).await }.boxed());
        timed(self, "purge_events", self.write(false, purge)).await
    }
}
