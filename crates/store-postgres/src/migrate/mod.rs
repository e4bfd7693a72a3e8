//! Applying the migrations, one statement per query.
//!
//! A migration file is several statements. Sent as one query (as sqlx sends it, over the
//! simple-query protocol), a statement that Citus passes on to the shards of a distributed
//! table (`CREATE INDEX`, `ALTER TABLE`) fails there: Citus passes the query's whole text,
//! and a worker answers "cannot insert multiple commands into a prepared statement". So each file is split into
//! its statements ([`split`]), which are sent one by one in the migration's transaction.
//! The record of what ran is sqlx's own (`_sqlx_migrations`: version, checksum, success), so
//! a database migrated before reads the same, and a file changed after it ran is refused.
//!
//! On Citus, once `users` is distributed, a table that a migration creates is distributed
//! (or made a reference table) by the statement after the one that creates it, as the
//! schema describes it, so the next statements of the migration meet it distributed: they
//! can give it foreign keys to distributed tables and index it. A statement that creates a
//! table may give it foreign keys to distributed tables or to reference tables, not both:
//! Citus makes a new table with a foreign key to a reference table a "Citus local" table,
//! which can have none to a distributed table until it is distributed (a test,
//! `later_migrations_create_no_table_...`, holds every migration written since to it).

mod split;

use std::collections::HashMap;
use std::time::Instant;

use sqlx::migrate::{Migrate as _, MigrateError, Migration, Migrator};
use sqlx::{Connection as _, PgConnection};

use clientele_store::StoreError;
use clientele_store::schema::Table;

use crate::citus;
use crate::rows::store_error;

pub(crate) use split::statements;

pub(crate) static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Every migration, in order.
pub(crate) fn all() -> &'static [Migration] {
    MIGRATOR.iter().as_slice()
}

/// Applies the pending ones of `migrations` under PostgreSQL's advisory lock (processes
/// starting together take turns), then, on Citus, distributes the `tables` not yet
/// distributed.
pub(crate) async fn run(
    conn: &mut PgConnection,
    migrations: &[Migration],
    tables: &[Table],
    citus: bool,
) -> Result<(), StoreError> {
    conn.lock().await.map_err(StoreError::other)?;
    let done = async {
        pending(conn, migrations, tables, citus).await?;
        if citus {
            citus::distribute(conn, tables).await?;
        }
        Ok(())
    }
    .await;
    let unlocked = conn.unlock().await.map_err(StoreError::other);
    done.and(unlocked)
}

async fn pending(
    conn: &mut PgConnection,
    migrations: &[Migration],
    tables: &[Table],
    citus: bool,
) -> Result<(), StoreError> {
    conn.ensure_migrations_table().await.map_err(StoreError::other)?;
    if let Some(version) = conn.dirty_version().await.map_err(StoreError::other)? {
        return Err(StoreError::other(MigrateError::Dirty(version)));
    }
    let applied: HashMap<i64, _> = conn
        .list_applied_migrations()
        .await
        .map_err(StoreError::other)?
        .into_iter()
        .map(|applied| (applied.version, applied.checksum))
        .collect();
    if let Some(version) = applied.keys().find(|version| !migrations.iter().any(|m| m.version == **version)) {
        return Err(StoreError::other(MigrateError::VersionMissing(*version)));
    }
    // Tables are distributed as they are created once `users` is: before, every table is
    // local, and they are distributed together at the end.
    let distributing = citus && citus::is_distributed(conn, clientele_store::schema::USERS.name).await?;
    for migration in migrations.iter().filter(|m| !m.migration_type.is_down_migration()) {
        match applied.get(&migration.version) {
            Some(checksum) if *checksum != migration.checksum => {
                return Err(StoreError::other(MigrateError::VersionMismatch(migration.version)));
            }
            Some(_) => {}
            None => apply(conn, migration, distributing.then_some(tables)).await?,
        }
    }
    Ok(())
}

/// Applies one migration statement by statement, in one transaction with its record (unless
/// it asks for none), distributing after each statement the `tables` it created, if any.
async fn apply(conn: &mut PgConnection, migration: &Migration, tables: Option<&[Table]>) -> Result<(), StoreError> {
    let started = Instant::now();
    let failed = |error: StoreError| StoreError::other(format!("migration {}: {error}", migration.version));
    let statements = statements(&migration.sql).map_err(|error| failed(StoreError::other(error.0)))?;
    let run = async |conn: &mut PgConnection| -> Result<(), StoreError> {
        for statement in &statements {
            sqlx::raw_sql(statement).execute(&mut *conn).await.map_err(store_error)?;
            if let Some(tables) = tables {
                citus::distribute(conn, tables).await?;
            }
        }
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES ($1, $2, TRUE, $3, -1)",
        )
        .bind(migration.version)
        .bind(&*migration.description)
        .bind(&*migration.checksum)
        .execute(&mut *conn)
        .await
        .map(drop)
        .map_err(store_error)
    };
    if migration.no_tx {
        run(conn).await.map_err(failed)?;
    } else {
        // Rolled back when dropped uncommitted.
        let mut transaction = conn.begin().await.map_err(store_error)?;
        if tables.is_some() {
            // Citus distributes a table in a transaction only in sequential mode, which must
            // be chosen before the transaction's first statement on a distributed table.
            sqlx::raw_sql("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'")
                .execute(&mut *transaction)
                .await
                .map_err(store_error)?;
        }
        run(&mut transaction).await.map_err(failed)?;
        transaction.commit().await.map_err(store_error)?;
    }
    let elapsed = i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX);
    sqlx::query("UPDATE _sqlx_migrations SET execution_time = $1 WHERE version = $2")
        .bind(elapsed)
        .bind(migration.version)
        .execute(&mut *conn)
        .await
        .map(drop)
        .map_err(store_error)
}

#[cfg(test)]
mod tests;
