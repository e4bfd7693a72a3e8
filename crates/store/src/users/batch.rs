//! A batch of new users written at once: each table's rows in as few multi-row `INSERT`s as
//! the bound values allow, instead of a handful of statements and a savepoint per user. A
//! batch is written this way first; when any of it fails (a duplicate, most often) nothing
//! of it stays, and the batch is written again a user at a time, each standing alone, so
//! that only the failing users fail ([`UserStore::create_users`](super::UserStore)).
//!
//! On PostgreSQL that is a few round trips for the whole batch, however long; on Citus
//! each multi-row `INSERT` names one merchant, and so goes to one shard.

use clientele_domain::merchant::MerchantId;
use clientele_domain::user::{ChangeKind, Origin};

use super::rows::{change_values, values};
use crate::backend::Db;
use crate::sql::{Named, Sql, Value, placeholders};
use crate::{NewUserRecord, StoreError, contracts, events};

/// The most values one statement binds: well below SQLite's default limit (32,766) and
/// PostgreSQL's (65,535). A RealPay batch of 1000 users (24 values each) takes two
/// statements for its users.
const MOST_VALUES: usize = 16_000;

/// Writes every user of `records` with its custom values, its change record, its contract
/// and its events, in whatever transaction `db` is in.
pub(crate) async fn create_all<D: Db + ?Sized>(
    db: &mut D,
    merchant: MerchantId,
    records: &[NewUserRecord],
    origin: &Origin,
) -> Result<(), StoreError> {
    let users = records.iter().map(|r| values(merchant, &r.user)).collect();
    insert_rows(db, "users", users).await?;
    let properties = records
        .iter()
        .flat_map(|r| {
            r.user.fields.custom_properties.iter().map(|value| {
                vec![
                    ("merchant_id", Value::id(merchant.as_uuid())),
                    ("user_id", Value::id(r.user.id.as_uuid())),
                    ("property_id", Value::id(value.id.as_uuid())),
                    ("value", Value::text(&value.value)),
                ]
            })
        })
        .collect();
    insert_rows(db, "user_properties", properties).await?;
    let changes = records
        .iter()
        .map(|r| change_values(merchant, r.user.id, r.user.version, ChangeKind::Created, origin, r.user.created_at))
        .collect();
    insert_rows(db, "user_changes", changes).await?;
    let contracts =
        records.iter().filter_map(|r| r.contract.as_ref()).map(|c| contracts::values(merchant, c)).collect();
    insert_rows(db, "contracts", contracts).await?;
    let events = records.iter().flat_map(|r| &r.events).map(|e| events::values(merchant, e)).collect();
    insert_rows(db, "events", events).await
}

/// Inserts `rows`, each with the same names in the same order, into `table`: as many rows
/// to a statement as [`MOST_VALUES`] allows, in their order.
pub(crate) async fn insert_rows<D: Db + ?Sized>(
    db: &mut D,
    table: &str,
    rows: Vec<Named<'_>>,
) -> Result<(), StoreError> {
    let Some(first) = rows.first() else { return Ok(()) };
    let names: Vec<&'static str> = first.iter().map(|(name, _)| *name).collect();
    let width = names.len().max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Named<'_>> = rows.by_ref().take((MOST_VALUES / width).max(1)).collect();
        if chunk.iter().any(|row| row.len() != width || row.iter().zip(&names).any(|((a, _), b)| a != b)) {
            return Err(StoreError::other(format!("rows of {table} with other columns than its first")));
        }
        let tuples: Vec<String> =
            (0..chunk.len()).map(|at| format!("({})", placeholders(at * width + 1, width))).collect();
        let sql = Sql::new(format!("INSERT INTO {table} ({}) VALUES {}", names.join(", "), tuples.join(", ")));
        let values: Vec<Value<'_>> =
            chunk.into_iter().flat_map(|row| row.into_iter().map(|(_, value)| value)).collect();
        db.execute(&sql, &values).await?;
    }
    Ok(())
}
