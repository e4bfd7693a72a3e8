//! The runner on a database: these need `CLIENTELE_TEST_DATABASE_URL` (each test works in a
//! schema of its own), and say they skipped without it. On a Citus coordinator they also
//! check what is distributed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests fail loudly")]

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType};
use sqlx::{Connection as _, PgConnection};

use clientele_store::schema::{Distribution, TABLES, Table, Tenancy};

use super::*;

/// A connection whose search path is a new schema of its own, and a second one outside it
/// to drop it with.
async fn schema() -> Option<(PgConnection, PgConnection, String)> {
    let Some(base) = std::env::var("CLIENTELE_TEST_DATABASE_URL").ok().filter(|url| !url.is_empty()) else {
        eprintln!("skipped: CLIENTELE_TEST_DATABASE_URL names no PostgreSQL database");
        return None;
    };
    let name = format!("migrate_{}", uuid::Uuid::new_v4().simple());
    let mut outside = PgConnection::connect(&base).await.unwrap();
    sqlx::raw_sql(&format!("CREATE SCHEMA {name}")).execute(&mut outside).await.unwrap();
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}options=-c%20search_path%3D{name}");
    Some((PgConnection::connect(&url).await.unwrap(), outside, name))
}

async fn drop_schema(mut outside: PgConnection, name: &str) {
    sqlx::raw_sql(&format!("DROP SCHEMA {name} CASCADE")).execute(&mut outside).await.unwrap();
}

fn migration(version: i64, sql: &'static str) -> Migration {
    Migration::new(version, Cow::Borrowed("trial"), MigrationType::Simple, Cow::Borrowed(sql), false)
}

/// A later migration as the coming ones are: a tenant table keyed by merchant, its foreign
/// key to users in a statement of its own, indexes on distributed tables, a dollar-quoted
/// body and strings with semicolons.
const LATER: &str = "-- A ledger; as a later migration would add it.
ALTER TABLE users ADD COLUMN trial_mark integer;
CREATE TABLE trial_entries (
    merchant_id uuid   NOT NULL REFERENCES merchants (id),
    id          uuid   NOT NULL,
    user_id     uuid   NOT NULL,
    points      bigint NOT NULL,
    note        text   NOT NULL DEFAULT 'none; yet',
    CONSTRAINT trial_entries_pkey PRIMARY KEY (merchant_id, id)
);
ALTER TABLE trial_entries ADD FOREIGN KEY (merchant_id, user_id) REFERENCES users (merchant_id, id);
CREATE INDEX trial_entries_user ON trial_entries (merchant_id, user_id);
CREATE INDEX users_trial ON users (merchant_id, created_at);
CREATE FUNCTION trial_points(p bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    -- a comment; in a body
    RETURN p + 1;
END
$$;
COMMENT ON TABLE trial_entries IS 'points; per user';
CREATE TABLE trial_lots (
    merchant_id uuid NOT NULL,
    entry_id    uuid NOT NULL,
    CONSTRAINT trial_lots_pkey PRIMARY KEY (merchant_id, entry_id),
    FOREIGN KEY (merchant_id, entry_id) REFERENCES trial_entries (merchant_id, id)
);
";

/// The migrations that were there before `migrate` distributed on Citus: they run on a
/// database before any of its tables is distributed. Every other one may run on a
/// distributed database, and is held to what Citus takes there.
const BEFORE_CITUS: &[i64] = &[1, 2, 3, 4, 5, 6, 7, 8, 9, 11];

const TRIAL_LOTS: Table =
    Table { name: "trial_lots", columns: &[], tenancy: Tenancy::Merchant, references: &[], personal: None };

const TRIAL: Table =
    Table { name: "trial_entries", columns: &[], tenancy: Tenancy::Merchant, references: &[], personal: None };

async fn citus_installed(conn: &mut PgConnection) -> bool {
    citus::installed(conn).await.unwrap()
}

#[tokio::test]
async fn a_later_migration_of_several_statements_runs_a_statement_at_a_time() {
    let Some((mut conn, outside, name)) = schema().await else { return };
    let citus = citus_installed(&mut conn).await;
    run(&mut conn, all(), TABLES, citus).await.unwrap();
    let mut migrations = all().to_vec();
    migrations.push(migration(9001, LATER));
    let tables: Vec<Table> = TABLES.iter().copied().chain([TRIAL, TRIAL_LOTS]).collect();
    run(&mut conn, &migrations, &tables, citus).await.unwrap();

    let (indexes, points, comment): (i64, i64, String) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() \
                 AND indexname IN ('trial_entries_user', 'users_trial')), \
                trial_points(41), obj_description('trial_entries'::regclass)",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!((indexes, points, comment.as_str()), (2, 42, "points; per user"));
    let recorded: Vec<(i64, bool, Vec<u8>)> =
        sqlx::query_as("SELECT version, success, checksum FROM _sqlx_migrations WHERE version = 9001")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(recorded, [(9001, true, migrations.last().unwrap().checksum.to_vec())]);
    if citus {
        // Distributed by merchant, with users.
        for table in ["trial_entries", "trial_lots"] {
            let colocated: bool = sqlx::query_scalar(
                "SELECT (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = to_regclass($1)) \
                      = (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'users'::regclass)",
            )
            .bind(table)
            .fetch_one(&mut conn)
            .await
            .unwrap();
            assert!(colocated, "{table} is not co-located with users");
        }
    }
    // Again: nothing to do.
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations").fetch_one(&mut conn).await.unwrap();
    run(&mut conn, &migrations, &tables, citus).await.unwrap();
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations").fetch_one(&mut conn).await.unwrap();
    assert_eq!(before, after);
    drop(conn);
    drop_schema(outside, &name).await;
}

#[tokio::test]
async fn a_failing_statement_leaves_nothing_of_its_migration_and_a_changed_one_is_refused() {
    let Some((mut conn, outside, name)) = schema().await else { return };
    let citus = citus_installed(&mut conn).await;
    run(&mut conn, all(), TABLES, citus).await.unwrap();

    let failing = [all(), &[migration(9002, "CREATE TABLE trial_half (a int); SELECT 1 / 0;")]].concat();
    let error = run(&mut conn, &failing, TABLES, citus).await.unwrap_err().to_string();
    assert!(error.contains("migration 9002") && error.contains("division by zero"), "{error}");
    let (table, recorded): (Option<String>, i64) = sqlx::query_as(
        "SELECT to_regclass('trial_half')::text, (SELECT count(*) FROM _sqlx_migrations WHERE version = 9002)",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!((table, recorded), (None, 0));

    // Applied, then changed: refused; and one the binary does not know: refused.
    run(&mut conn, &[all(), &[migration(9003, "SELECT 1;")]].concat(), TABLES, citus).await.unwrap();
    let changed = [all(), &[migration(9003, "SELECT 2;")]].concat();
    let error = run(&mut conn, &changed, TABLES, citus).await.unwrap_err().to_string();
    assert!(error.contains("9003") && error.contains("modified"), "{error}");
    let error = run(&mut conn, all(), TABLES, citus).await.unwrap_err().to_string();
    assert!(error.contains("9003") && error.contains("missing"), "{error}");
    // The lock was let go each time: another connection takes it at once.
    let locked: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid())",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert!(!locked);
    drop(conn);
    drop_schema(outside, &name).await;
}

/// What each statement of `migrations` that may run on a distributed database (not one of
/// [`BEFORE_CITUS`]) would meet there: a table it creates is still local, and if it gives
/// that table a foreign key to a reference table (which makes it a Citus local table) and one
/// to a distributed table, Citus refuses the second (seen on Citus 13). Applies them one
/// statement at a time to `conn`, an empty schema.
async fn inline_foreign_keys(conn: &mut PgConnection, migrations: &[Migration], tables: &[Table]) -> Vec<String> {
    let of = |reference: bool| -> Vec<&str> {
        tables
            .iter()
            .filter(|t| matches!(t.tenancy.distribution(), Distribution::Reference) == reference)
            .map(|t| t.name)
            .collect()
    };
    let (references, distributed) = (of(true), of(false));
    let mut found = Vec::new();
    for migration in migrations {
        for statement in statements(&migration.sql).unwrap() {
            let before: Vec<String> = sqlx::query_scalar(
                "SELECT relname::text FROM pg_class WHERE relnamespace = current_schema()::regnamespace",
            )
            .fetch_all(&mut *conn)
            .await
            .unwrap();
            sqlx::raw_sql(statement).execute(&mut *conn).await.unwrap();
            if BEFORE_CITUS.contains(&migration.version) {
                continue;
            }
            // Each table the statement created, with the reference and the distributed tables
            // its foreign keys point at.
            let created: Vec<(String, Vec<String>, Vec<String>)> = sqlx::query_as(
                "SELECT t.relname::text, \
                        ARRAY(SELECT r.relname::text FROM pg_constraint c JOIN pg_class r ON r.oid = c.confrelid \
                              WHERE c.contype = 'f' AND c.conrelid = t.oid AND r.relname::text = ANY ($2)), \
                        ARRAY(SELECT r.relname::text FROM pg_constraint c JOIN pg_class r ON r.oid = c.confrelid \
                              WHERE c.contype = 'f' AND c.conrelid = t.oid AND r.relname::text = ANY ($3)) \
                 FROM pg_class t WHERE t.relnamespace = current_schema()::regnamespace AND t.relkind = 'r' \
                 AND t.relname::text <> ALL ($1)",
            )
            .bind(&before)
            .bind(&references)
            .bind(&distributed)
            .fetch_all(&mut *conn)
            .await
            .unwrap();
            found.extend(
                created
                    .into_iter()
                    .filter(|(_, to_reference, to_distributed)| !to_reference.is_empty() && !to_distributed.is_empty())
                    .map(|(table, to_reference, to_distributed)| {
                        format!(
                            "migration {}: the statement that creates {table} gives it foreign keys to {} (a reference \
                     table) and to {} (distributed); Citus refuses that: add one of them in a statement of its own",
                            migration.version,
                            to_reference.join(", "),
                            to_distributed.join(", ")
                        )
                    }),
            );
        }
    }
    found
}

/// No migration that may run on a distributed database creates a table with foreign keys to
/// both a reference table and a distributed table. One that does is told.
#[tokio::test]
async fn later_migrations_create_no_table_with_keys_to_reference_and_distributed_tables() {
    let Some((mut conn, outside, name)) = schema().await else { return };
    let found = inline_foreign_keys(&mut conn, all(), TABLES).await;
    assert!(found.is_empty(), "{}", found.join("\n"));

    let tables: Vec<Table> = TABLES.iter().copied().chain([TRIAL]).collect();
    let inline = migration(
        9004,
        "CREATE TABLE trial_entries (merchant_id uuid NOT NULL REFERENCES merchants (id), id uuid NOT NULL, \
         user_id uuid NOT NULL, PRIMARY KEY (merchant_id, id), FOREIGN KEY (merchant_id, user_id) REFERENCES users (merchant_id, id));",
    );
    let found = inline_foreign_keys(&mut conn, &[inline], &tables).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("migration 9004") && found[0].contains("to users (distributed)"), "{found:?}");
    // The key to users in a statement of its own (as LATER has it): nothing to tell.
    sqlx::raw_sql("DROP TABLE trial_entries").execute(&mut conn).await.unwrap();
    assert_eq!(inline_foreign_keys(&mut conn, &[migration(9001, LATER)], &tables).await, Vec::<String>::new());
    drop(conn);
    drop_schema(outside, &name).await;
}
