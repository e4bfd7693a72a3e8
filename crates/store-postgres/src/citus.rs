//! Citus: when the database has the `citus` extension, migrating distributes the tables as
//! [`Tenancy`] says: the tables without a merchant become reference tables (copied to every
//! node), `users` is distributed by merchant, every other tenant table is co-located with it,
//! and a table found by a key of its own (public links) is distributed by that key. Tables
//! already distributed are left as they are, so it can run any number of times; a table that
//! a later migration creates is distributed right after the statement that creates it
//! (see `migrate`).

use sqlx::PgConnection;

use clientele_store::StoreError;
use clientele_store::schema::{Distribution, Table, USERS};

use crate::rows::store_error;

/// What migrating does about Citus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Citus {
    /// Distribute when the extension is there.
    #[default]
    IfInstalled,
    /// The extension must be there: without it, migrating fails.
    Required,
}

/// Whether the database has the `citus` extension.
pub(crate) async fn installed(conn: &mut PgConnection) -> Result<bool, StoreError> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')")
        .fetch_one(conn)
        .await
        .map_err(store_error)
}

/// The order Citus takes the tables in: reference tables first (a distributed table's
/// foreign keys may point at them), then `users`, then what is co-located with it, then the
/// tables distributed by a key of their own.
fn in_order(tables: &[Table]) -> Vec<&Table> {
    let rank = |table: &Table| match table.tenancy.distribution() {
        Distribution::Reference => 0,
        Distribution::Distributed { .. } if table.name == USERS.name => 1,
        Distribution::Distributed { colocated: true, .. } => 2,
        Distribution::Distributed { colocated: false, .. } => 3,
    };
    let mut tables: Vec<&Table> = tables.iter().collect();
    tables.sort_by_key(|table| rank(table));
    tables
}

/// The tables of `pg_dist_partition` that are distributed or reference tables, by
/// `logicalrelid`. A local table given a foreign key to a reference table is there too, as a
/// Citus local table (`partmethod` 'n', `repmodel` 's'), and is still to be distributed.
const DISTRIBUTED: &str =
    "SELECT 1 FROM pg_dist_partition WHERE (partmethod <> 'n' OR repmodel = 't') AND logicalrelid";

/// Whether the table `name` is distributed (or a reference table).
pub(crate) async fn is_distributed(conn: &mut PgConnection, name: &str) -> Result<bool, StoreError> {
    sqlx::query_scalar(&format!("SELECT EXISTS ({DISTRIBUTED} = to_regclass($1))"))
        .bind(name)
        .fetch_one(conn)
        .await
        .map_err(store_error)
}

/// Why migrating with [`Citus::Required`] fails on a database without the extension.
pub(crate) fn missing() -> StoreError {
    StoreError::other("the citus extension is not installed in this database (CREATE EXTENSION citus, on every node)")
}

/// Distributes every one of `tables` that is there and is not distributed yet, on a
/// database with the extension, in one transaction (a savepoint, in a migration's). Answers
/// how many tables it distributed.
///
/// Citus distributes a table only when no local table has a foreign key to it, and the
/// tenant tables reference each other (`user_properties` references `users`). So the foreign
/// keys to the tables about to be distributed are dropped first and made again, as they
/// were, once every table is distributed: co-located and joined on `merchant_id`, Citus
/// keeps them on each shard.
pub(crate) async fn distribute(conn: &mut PgConnection, tables: &[Table]) -> Result<usize, StoreError> {
    let names: Vec<&str> = tables.iter().map(|table| table.name).collect();
    let local: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT t FROM unnest($1::text[]) AS t WHERE to_regclass(t) IS NOT NULL AND NOT EXISTS ({DISTRIBUTED} = to_regclass(t))"
    ))
    .bind(&names)
    .fetch_all(&mut *conn)
    .await
    .map_err(store_error)?;
    let pending: Vec<&Table> =
        in_order(tables).into_iter().filter(|table| local.iter().any(|t| t == table.name)).collect();
    if pending.is_empty() {
        return Ok(0);
    }
    let run = async |conn: &mut PgConnection| -> Result<(), StoreError> {
        let execute = async |conn: &mut PgConnection, sql: &str| {
            sqlx::raw_sql(sql).execute(conn).await.map(drop).map_err(store_error)
        };
        // Citus asks for this when one transaction distributes tables with foreign keys.
        execute(conn, "SET LOCAL citus.multi_shard_modify_mode TO 'sequential'").await?;
        // The events' trigger (migration 11) runs on the worker that holds the row: Citus
        // distributes a table with a trigger only when told to.
        execute(conn, "SET LOCAL citus.enable_unsafe_triggers TO on").await?;
        let targets: Vec<&str> = pending
            .iter()
            .filter(|t| matches!(t.tenancy.distribution(), Distribution::Distributed { .. }))
            .map(|t| t.name)
            .collect();
        let keys: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT c.conrelid::regclass::text, quote_ident(c.conname), pg_get_constraintdef(c.oid) FROM pg_constraint c \
             WHERE c.contype = 'f' AND c.confrelid IN (SELECT to_regclass(t) FROM unnest($1::text[]) AS t) \
             ORDER BY c.conrelid::regclass::text, c.conname",
        )
        .bind(&targets)
        .fetch_all(&mut *conn)
        .await
        .map_err(store_error)?;
        for (table, name, _) in &keys {
            execute(conn, &format!("ALTER TABLE {table} DROP CONSTRAINT {name}")).await?;
        }
        for table in &pending {
            let query = match table.tenancy.distribution() {
                Distribution::Reference => sqlx::query("SELECT create_reference_table($1)").bind(table.name),
                Distribution::Distributed { column, colocated } => {
                    let with = if table.name == USERS.name || !colocated { "none" } else { USERS.name };
                    sqlx::query("SELECT create_distributed_table($1, $2, colocate_with => $3)")
                        .bind(table.name)
                        .bind(column)
                        .bind(with)
                }
            };
            query.execute(&mut *conn).await.map_err(store_error)?;
            tracing::info!(table = table.name, "distributed a table on Citus");
        }
        for (table, name, definition) in &keys {
            execute(conn, &format!("ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")).await?;
        }
        Ok(())
    };
    // Rolled back when dropped uncommitted.
    let mut transaction = sqlx::Connection::begin(conn).await.map_err(store_error)?;
    run(&mut transaction).await?;
    transaction.commit().await.map_err(store_error)?;
    Ok(pending.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clientele_store::schema::{TABLES, Tenancy};

    #[test]
    fn reference_tables_come_first_then_users_then_what_is_colocated_with_it() {
        let order: Vec<&str> = in_order(TABLES).iter().map(|table| table.name).collect();
        let at = |name: &str| order.iter().position(|t| *t == name).unwrap_or(usize::MAX);
        assert!(at("merchants") < at("users") && at("api_keys") < at("users") && at("signing_keys") < at("users"));
        for table in TABLES.iter().filter(|t| t.tenancy == Tenancy::Merchant && t.name != "users") {
            assert!(at("users") < at(table.name), "{}", table.name);
        }
        assert_eq!(order.len(), TABLES.len());
    }
}
