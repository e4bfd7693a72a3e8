//! Versioned migrations, embedded in the binary and applied in order, each in its own
//! transaction. The applied versions are kept in `schema_migrations`.

use rusqlite::Connection;

/// Every migration, in order. A released migration is never edited; a change is a new one.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "foundation", include_str!("../migrations/0001_foundation.sql")),
    (2, "users", include_str!("../migrations/0002_users.sql")),
    (3, "user_changes", include_str!("../migrations/0003_user_changes.sql")),
    (4, "contracts", include_str!("../migrations/0004_contracts.sql")),
    (5, "payment_requests", include_str!("../migrations/0005_payment_requests.sql")),
];

/// Applies the migrations `conn` has not seen yet; returns how many it applied.
pub(crate) fn run(conn: &mut Connection) -> rusqlite::Result<usize> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER NOT NULL PRIMARY KEY,
             name       TEXT    NOT NULL,
             applied_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
         )",
    )?;
    let mut applied = 0;
    for &(version, name, sql) in MIGRATIONS {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let done: bool =
            tx.query_row("SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)", [version], |row| {
                row.get(0)
            })?;
        if !done {
            tx.execute_batch(sql)?;
            tx.execute("INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)", (version, name))?;
            applied += 1;
            tracing::info!(migration.version = version, migration.name = name, "applied migration");
        }
        tx.commit()?;
    }
    Ok(applied)
}
