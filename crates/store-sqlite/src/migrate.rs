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
    (6, "read_shortcuts", include_str!("../migrations/0006_read_shortcuts.sql")),
    (7, "erasure", include_str!("../migrations/0007_erasure.sql")),
    (8, "sequences", include_str!("../migrations/0008_sequences.sql")),
    (9, "events", include_str!("../migrations/0009_events.sql")),
    (10, "metadata_and_payment_pages", include_str!("../migrations/0010_metadata_and_payment_pages.sql")),
    (11, "citus", include_str!("../migrations/0011_citus.sql")),
    (12, "points", include_str!("../migrations/0012_points.sql")),
];

/// Applies the migrations `conn` has not seen yet; returns how many it applied.
pub(crate) fn run(conn: &mut Connection) -> rusqlite::Result<usize> {
    apply(conn, MIGRATIONS)
}

fn apply(conn: &mut Connection, migrations: &[(i64, &str, &str)]) -> rusqlite::Result<usize> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER NOT NULL PRIMARY KEY,
             name       TEXT    NOT NULL,
             applied_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
         )",
    )?;
    let mut applied = 0;
    for &(version, name, sql) in migrations {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A database made before the custom-values mark is marked where it has values, so
    /// no read of it misses them.
    #[test]
    fn users_with_values_from_before_the_mark_are_marked() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply(&mut conn, MIGRATIONS.get(..5).unwrap()).unwrap();
        conn.execute_batch(
            "INSERT INTO merchants (id, number, name, created_at) VALUES ('m', 'M', 'M', 0);
             INSERT INTO property_definitions (merchant_id, id, name, value_type, active, created_at)
                 VALUES ('m', 'p', 'size', 'string', 1, 0);
             INSERT INTO users (merchant_id, id, version, created_at, updated_at) VALUES ('m', 'valued', 1, 0, 0);
             INSERT INTO users (merchant_id, id, version, created_at, updated_at) VALUES ('m', 'bare', 1, 0, 0);
             INSERT INTO user_properties (merchant_id, user_id, property_id, value) VALUES ('m', 'valued', 'p', '9');",
        )
        .unwrap();
        let marked = |conn: &Connection| -> Vec<(String, bool)> {
            let mut statement = conn.prepare("SELECT id, may_have_custom_values FROM users ORDER BY id").unwrap();
            statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).unwrap().map(Result::unwrap).collect()
        };
        assert_eq!(run(&mut conn).unwrap(), MIGRATIONS.len() - 5);
        assert_eq!(marked(&conn), [("bare".to_owned(), false), ("valued".to_owned(), true)]);
        // From then on the database marks a user itself, when a value of theirs is written.
        conn.execute(
            "INSERT INTO user_properties (merchant_id, user_id, property_id, value) VALUES ('m', 'bare', 'p', '1')",
            [],
        )
        .unwrap();
        assert_eq!(marked(&conn), [("bare".to_owned(), true), ("valued".to_owned(), true)]);
    }

    /// Stored answers from before erasure could find them go, and the payment requests of
    /// users erased before keep their free text no longer.
    #[test]
    fn migration_7_forgets_unlinked_answers_and_clears_erased_debtors_requests() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply(&mut conn, MIGRATIONS.get(..6).unwrap()).unwrap();
        conn.execute_batch(
            "INSERT INTO merchants (id, number, name, created_at) VALUES ('m', 'M', 'M', 0);
             INSERT INTO users (merchant_id, id, version, created_at, updated_at, erased_at)
                 VALUES ('m', 'gone', 2, 0, 0, 1);
             INSERT INTO users (merchant_id, id, version, created_at, updated_at) VALUES ('m', 'here', 1, 0, 0);
             INSERT INTO payment_requests (merchant_id, id, public_access_guid, user_id, invoice_number, segment,
                 amount_outstanding, currency, channel, url_to_document, debt_meta, status, version, created_at,
                 updated_at)
             VALUES ('m', 'p1', 'g1', 'gone', 'I1', 'Retail', '1.00', 'ZAR', 'email', 'https://x.example/a',
                     '{\"Name\":\"Jack\"}', 'created', 1, 0, 0),
                    ('m', 'p2', 'g2', 'here', 'I2', 'Retail', '1.00', 'ZAR', 'email', NULL,
                     '{\"Name\":\"Jill\"}', 'created', 1, 0, 0);
             INSERT INTO idempotency_keys (merchant_id, key, fingerprint, state, status, headers, body, created_at,
                 locked_until) VALUES ('m', 'done', 'f', 'done', 201, '', X'7B7D', 0, 0),
                                      ('m', 'busy', 'f', 'in_flight', NULL, NULL, NULL, 0, 0);",
        )
        .unwrap();
        assert_eq!(run(&mut conn).unwrap(), MIGRATIONS.len() - 6);
        let keys: Vec<String> = conn
            .prepare("SELECT key FROM idempotency_keys")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(keys, ["busy"]);
        let requests: Vec<(String, String, Option<String>, String)> = conn
            .prepare("SELECT id, segment, url_to_document, debt_meta FROM payment_requests ORDER BY id")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            requests,
            [
                ("p1".to_owned(), String::new(), None, "{}".to_owned()),
                ("p2".to_owned(), "Retail".to_owned(), None, r#"{"Name":"Jill"}"#.to_owned())
            ]
        );
    }

    /// RealPay's call sequence continues as the sequence `realpay.calls`.
    #[test]
    fn migration_8_keeps_each_merchants_call_number() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply(&mut conn, MIGRATIONS.get(..7).unwrap()).unwrap();
        conn.execute_batch(
            "INSERT INTO merchants (id, number, name, created_at) VALUES ('m', 'M', 'M', 0);
             INSERT INTO call_sequences (merchant_id, value) VALUES ('m', 41);",
        )
        .unwrap();
        assert_eq!(run(&mut conn).unwrap(), MIGRATIONS.len() - 7);
        let kept: (String, String, i64) = conn
            .query_row("SELECT merchant_id, name, value FROM sequences", [], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .unwrap();
        assert_eq!(kept, ("m".to_owned(), "realpay.calls".to_owned(), 41));
        assert!(conn.prepare("SELECT 1 FROM call_sequences").is_err());
    }
}
