//! What Citus needs of the schema and of every statement, held on plain PostgreSQL (CI has
//! no Citus): the schema lint reads the catalog of a migrated database; the statement lint
//! runs the whole store conformance suite with every statement's plan checked before it
//! runs (`src/lint.rs`). Both need `CLIENTELE_TEST_DATABASE_URL`, and say they skipped
//! without it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::sync::Arc;
use std::sync::atomic::Ordering;

use sqlx::Connection as _;

use clientele_store::schema::{Distribution, TABLES, Tenancy};
use clientele_store::{StoreMetrics, conformance};
use clientele_store_postgres::{PgStore, lint};

/// A foreign key: its name, its table, the table it points at, and the columns of each.
type ForeignKey = (String, String, String, Vec<String>, Vec<String>);

/// A schema of its own in the test database: its URL, and the base URL and name to drop it.
async fn schema() -> Option<(String, String, String)> {
    let Some(base) = std::env::var("CLIENTELE_TEST_DATABASE_URL").ok().filter(|url| !url.is_empty()) else {
        eprintln!("skipped: CLIENTELE_TEST_DATABASE_URL names no PostgreSQL database");
        return None;
    };
    let name = format!("citus_rules_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&base).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {name}")).execute(&mut conn).await.unwrap();
    let separator = if base.contains('?') { '&' } else { '?' };
    Some((format!("{base}{separator}options=-c%20search_path%3D{name}"), base, name))
}

async fn drop_schema(base: &str, name: &str) {
    let mut conn = sqlx::PgConnection::connect(base).await.unwrap();
    sqlx::query(&format!("DROP SCHEMA {name} CASCADE")).execute(&mut conn).await.unwrap();
}

/// Every primary key and unique index of a distributed table includes its distribution
/// column; a foreign key points at a reference table, or joins two tables distributed by
/// merchant on `merchant_id`; every table is one the schema describes (so `migrate`
/// distributes it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_is_one_citus_distributes_by_merchant() {
    let Some((url, base, name)) = schema().await else { return };
    PgStore::migrate(&url, clientele_store_postgres::Citus::IfInstalled).await.unwrap();
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let mut broken = Vec::new();

    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT relname::text FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r' \
         AND relname <> '_sqlx_migrations'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for table in &tables {
        if !TABLES.iter().any(|t| t.name == table) {
            broken.push(format!("{table} is not described in the schema, so migrate would not distribute it"));
        }
    }

    let keys: Vec<(String, String, Vec<String>)> = sqlx::query_as(
        "SELECT t.relname::text, i.relname::text, \
                ARRAY(SELECT a.attname::text FROM unnest(x.indkey) k JOIN pg_attribute a \
                      ON a.attrelid = x.indrelid AND a.attnum = k) \
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
         WHERE x.indisunique AND t.relnamespace = current_schema()::regnamespace",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for (table, index, columns) in &keys {
        let Some(described) = TABLES.iter().find(|t| t.name == table) else { continue };
        if let Distribution::Distributed { column, .. } = described.tenancy.distribution()
            && !columns.iter().any(|c| c == column)
        {
            broken.push(format!("{index} of {table} does not include {column}"));
        }
    }

    let foreign: Vec<ForeignKey> = sqlx::query_as(
        "SELECT c.conname::text, t.relname::text, r.relname::text, \
                ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, o) \
                      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o), \
                ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, o) \
                      JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o) \
         FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class r ON r.oid = c.confrelid \
         WHERE c.contype = 'f' AND t.relnamespace = current_schema()::regnamespace",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let tenancy = |name: &str| TABLES.iter().find(|t| t.name == name).map(|t| t.tenancy);
    for (constraint, table, target, columns, target_columns) in &foreign {
        let ok = match (tenancy(table), tenancy(target)) {
            (
                Some(Tenancy::Platform | Tenancy::Either | Tenancy::Merchant),
                Some(Tenancy::Platform | Tenancy::Either),
            ) => true,
            (Some(Tenancy::Merchant), Some(Tenancy::Merchant)) => columns
                .iter()
                .zip(target_columns)
                .any(|(column, target)| column == "merchant_id" && target == "merchant_id"),
            _ => false,
        };
        if !ok {
            broken.push(format!(
                "{constraint}: {table} ({}) -> {target} ({}) neither points at a reference table nor joins on merchant_id",
                columns.join(", "),
                target_columns.join(", ")
            ));
        }
    }
    drop(conn);
    drop_schema(&base, &name).await;
    assert!(broken.is_empty(), "Citus could not distribute this schema:\n{}", broken.join("\n"));
}

/// The whole conformance suite, every statement's plan checked before it runs: each scan of
/// a distributed table is pinned to one merchant (or to its own key), and no INSERT reads
/// rows its statement writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_statement_runs_on_one_shard() {
    if std::env::var("CLIENTELE_TEST_DATABASE_URL").ok().filter(|url| !url.is_empty()).is_none() {
        eprintln!("skipped: CLIENTELE_TEST_DATABASE_URL names no PostgreSQL database");
        return;
    }
    lint::ENABLED.store(true, Ordering::Relaxed);
    for check in conformance::CHECKS {
        let (url, base, name) = schema().await.unwrap();
        let store = PgStore::connect(&url, 4, StoreMetrics::default()).await.unwrap();
        conformance::run(check, Arc::new(store)).await;
        drop_schema(&base, &name).await;
    }
    let linted = lint::LINTED.lock().unwrap().clone();
    let found = lint::FOUND.lock().unwrap().clone();
    assert!(linted.len() >= 90, "only {} statements were linted", linted.len());
    // Every distributed table is read (a SELECT, or a write that returns rows) and written
    // by statements the lint saw, but those the conformance suite does not reach yet. That
    // list must stay true: a table the suite reaches leaves it.
    const NOT_YET_LINTED: &[&str] = &[];
    let mut unlinted = Vec::new();
    for table in TABLES.iter().filter(|t| matches!(t.tenancy.distribution(), Distribution::Distributed { .. })) {
        let mentions = |sql: &String| sql.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|w| w == table.name);
        let on = |verbs: &[&str]| {
            linted.iter().any(|sql| {
                verbs.iter().any(|verb| sql.starts_with(verb) || sql.contains(&format!(" AS ({verb}"))) && mentions(sql)
            })
        };
        let returning = linted.iter().any(|sql| sql.contains("RETURNING") && mentions(sql));
        if !(on(&["SELECT", "WITH"]) || returning) || !on(&["INSERT", "UPDATE", "DELETE"]) {
            unlinted.push(table.name);
        }
    }
    assert_eq!(unlinted, NOT_YET_LINTED, "the distributed tables no linted statement both reads and writes");
    assert!(found.is_empty(), "{} statement(s) would not run on one shard:\n{}", found.len(), found.join("\n"));
}
