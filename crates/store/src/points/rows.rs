//! The ledger's rows and statements.

use std::sync::LazyLock;

use time::OffsetDateTime;

use clientele_domain::interaction_point::InteractionPointId;
use clientele_domain::merchant::MerchantId;
use clientele_domain::points::{
    Allocation, EntryKind, Lot, PointsDescription, PointsEntry, PointsEntryId, PointsReference,
};
use clientele_domain::user::UserId;

use crate::at;
use crate::schema::POINTS_ENTRIES;
use crate::sql::{DecodeError, Dialect, Named, Row, RowStatement, Sql, Value, insert_into, parsed, statement};

/// The values of an entry's row, by column.
pub(super) fn values(merchant: MerchantId, entry: &PointsEntry) -> Named<'_> {
    vec![
        ("merchant_id", Value::id(merchant.as_uuid())),
        ("id", Value::id(entry.id.as_uuid())),
        ("user_id", Value::id(entry.user_id.as_uuid())),
        ("kind", Value::text(entry.kind.as_str())),
        ("points", Value::int(entry.points)),
        ("balance_after", Value::int(entry.balance_after)),
        ("reference", Value::text_or_null(entry.reference.as_ref().map(PointsReference::as_str))),
        ("description", Value::text_or_null(entry.description.as_ref().map(PointsDescription::as_str))),
        ("expires_at", Value::Time(entry.expires_at)),
        ("reverses", Value::Uuid(entry.reverses.map(|id| id.as_uuid()))),
        ("surface", Value::text(entry.origin.surface.as_str())),
        (
            "interaction_point_id",
            Value::text_or_null(entry.origin.interaction_point.as_ref().map(InteractionPointId::as_str)),
        ),
        ("actor_id", Value::Uuid(entry.origin.actor.map(|actor| actor.as_uuid()))),
        ("created_at", Value::time(entry.created_at)),
    ]
}

pub(super) fn entry(row: &dyn Row) -> Result<PointsEntry, DecodeError> {
    let kind = at!(POINTS_ENTRIES, "kind");
    Ok(PointsEntry {
        id: PointsEntryId::from_uuid(row.uuid(at!(POINTS_ENTRIES, "id"))?),
        user_id: UserId::from_uuid(row.uuid(at!(POINTS_ENTRIES, "user_id"))?),
        kind: parsed(kind, row.text(kind)?, |k| EntryKind::from_stored(k).ok_or(()))?,
        points: row.int(at!(POINTS_ENTRIES, "points"))?,
        balance_after: row.int(at!(POINTS_ENTRIES, "balance_after"))?,
        reference: row.text_or_null(at!(POINTS_ENTRIES, "reference"))?.map(|r| PointsReference::from_stored(r.into())),
        description: row
            .text_or_null(at!(POINTS_ENTRIES, "description"))?
            .map(|d| PointsDescription::from_stored(d.into())),
        expires_at: row.time_or_null(at!(POINTS_ENTRIES, "expires_at"))?,
        reverses: row.uuid_or_null(at!(POINTS_ENTRIES, "reverses"))?.map(PointsEntryId::from_uuid),
        origin: crate::users::origin(
            row,
            [
                at!(POINTS_ENTRIES, "surface"),
                at!(POINTS_ENTRIES, "interaction_point_id"),
                at!(POINTS_ENTRIES, "actor_id"),
            ],
        )?,
        created_at: row.time(at!(POINTS_ENTRIES, "created_at"))?,
    })
}

/// A lot: `entry_id, remaining, expires_at`.
pub(super) fn lot(row: &dyn Row) -> Result<Lot, DecodeError> {
    Ok(Lot { id: PointsEntryId::from_uuid(row.uuid(0)?), remaining: row.int(1)?, expires_at: row.time_or_null(2)? })
}

/// An allocation: `lot_id, points`.
pub(super) fn allocation(row: &dyn Row) -> Result<Allocation, DecodeError> {
    Ok(Allocation { lot: PointsEntryId::from_uuid(row.uuid(0)?), points: row.int(1)? })
}

/// An allocation with the entry that made it: `entry_id, lot_id, points`.
pub(super) fn entry_allocation(row: &dyn Row) -> Result<(PointsEntryId, Allocation), DecodeError> {
    Ok((
        PointsEntryId::from_uuid(row.uuid(0)?),
        Allocation { lot: PointsEntryId::from_uuid(row.uuid(1)?), points: row.int(2)? },
    ))
}

pub(super) static INSERT_ENTRY: RowStatement = RowStatement::new(|names| insert_into("points_entries", names));

/// The user's balance, locked until the transaction ends (PostgreSQL; SQLite has one writer).
pub(super) static LOCK_USER: LazyLock<Sql> = LazyLock::new(|| {
    Sql::each(|dialect| {
        let lock = match dialect {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        };
        format!("SELECT loyalty_points FROM users WHERE merchant_id = ?1 AND id = ?2 AND erased_at IS NULL{lock}")
    })
});
statement!(
    pub(super) LIVE_LOTS,
    "SELECT entry_id, remaining, expires_at FROM points_lots WHERE merchant_id = ?1 AND user_id = ?2 AND remaining > 0"
);
statement!(
    pub(super) LOT,
    "SELECT entry_id, remaining, expires_at FROM points_lots WHERE merchant_id = ?1 AND entry_id = ?2"
);
statement!(
    pub(super) INSERT_LOT,
    "INSERT INTO points_lots (merchant_id, entry_id, user_id, remaining, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)"
);
statement!(
    pub(super) UPDATE_LOT,
    "UPDATE points_lots SET remaining = ?3 WHERE merchant_id = ?1 AND user_id = ?4 AND entry_id = ?2"
);
statement!(
    pub(super) INSERT_ALLOCATION,
    "INSERT INTO points_allocations (merchant_id, entry_id, lot_id, points) VALUES (?1, ?2, ?3, ?4)"
);
statement!(
    pub(super) SET_BALANCE,
    "UPDATE users SET loyalty_points = ?3, points_expire_at = ?4 WHERE merchant_id = ?1 AND id = ?2"
);
statement!(
    pub(super) ENTRY,
    "SELECT {} FROM points_entries WHERE merchant_id = ?1 AND id = ?2",
    POINTS_ENTRIES.select(None)
);
statement!(
    pub(super) BY_REFERENCE,
    "SELECT {} FROM points_entries WHERE merchant_id = ?1 AND reference = ?2",
    POINTS_ENTRIES.select(None)
);
statement!(
    pub(super) REVERSAL_OF,
    "SELECT {} FROM points_entries WHERE merchant_id = ?1 AND reverses = ?2",
    POINTS_ENTRIES.select(None)
);
statement!(
    pub(super) ALLOCATIONS_OF,
    "SELECT lot_id, points FROM points_allocations WHERE merchant_id = ?1 AND entry_id = ?2"
);
// A page of a user's entries, oldest first: after the entry `?4` when `?3` is 1, of kind
// `?6` when `?5` is 1, from `?8` when `?7` is 1, before `?10` when `?9` is 1.
statement!(
    pub(super) PAGE,
    "SELECT {} FROM points_entries WHERE merchant_id = ?1 AND user_id = ?2
        AND (?3 = 0 OR (created_at, id) > (SELECT created_at, id FROM points_entries
                                           WHERE merchant_id = ?1 AND id = ?4))
        AND (?5 = 0 OR kind = ?6) AND (?7 = 0 OR created_at >= ?8) AND (?9 = 0 OR created_at < ?10)
      ORDER BY created_at, id LIMIT ?11",
    POINTS_ENTRIES.select(None)
);
// Every entry of a user up to a time, for a balance as of then.
statement!(
    pub(super) UP_TO,
    "SELECT {} FROM points_entries WHERE merchant_id = ?1 AND user_id = ?2 AND created_at <= ?3",
    POINTS_ENTRIES.select(None)
);
statement!(
    pub(super) ALLOCATIONS_UP_TO,
    "SELECT a.entry_id, a.lot_id, a.points FROM points_allocations a
       JOIN points_entries e ON e.merchant_id = a.merchant_id AND e.id = a.entry_id
      WHERE a.merchant_id = ?1 AND e.merchant_id = ?1 AND e.user_id = ?2 AND e.created_at <= ?3"
);
// The users of the merchant's lots that have expired and still hold points (a user once per
// lot: without DISTINCT, SQLite reads the expiry index).
statement!(
    pub(super) DUE,
    "SELECT user_id FROM points_lots
      WHERE merchant_id = ?1 AND remaining > 0 AND expires_at IS NOT NULL AND expires_at <= ?2 LIMIT ?3"
);

/// A time bound of a page, as its flag and value.
pub(super) fn bound(at: Option<OffsetDateTime>) -> [Value<'static>; 2] {
    [Value::int(i64::from(at.is_some())), Value::time(at.unwrap_or(OffsetDateTime::UNIX_EPOCH))]
}
