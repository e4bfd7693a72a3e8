//! The statement lint (feature `statement-lint`, for tests only): before each statement the
//! store runs, its plan is asked for (`EXPLAIN`, with the statement's own values, so the
//! plan is the one it runs), and every scan of a tenant table must be pinned to one
//! merchant by its conditions: `merchant_id = <a value>`, not a column of another table
//! (Citus then reads one shard; correlated on a column, it reads every shard). A table found
//! by a key of its own is pinned by that key. An `INSERT` must not read a row the statement
//! writes (`INSERT ... SELECT` from a data-modifying `WITH`), which Citus runs through the
//! coordinator. What breaks a rule is kept in [`FOUND`], with the statement.
//!
//! The invariants of `clientele check` count across merchants by design, and are not
//! linted.

use std::collections::BTreeSet;
use std::sync::{LazyLock, Mutex};

use serde_json::Value as Json;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::{PgConnection, Postgres, Row as _};

use clientele_store::invariants::invariants;
use clientele_store::schema::{Distribution, TABLES};

/// Whether statements are linted: the lint's test turns it on, for its own process.
pub static ENABLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Every broken rule found, as `rule: statement`.
pub static FOUND: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Every statement linted, once each.
pub static LINTED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// The statements of `clientele check`, which are not linted.
static EXEMPT: LazyLock<Vec<String>> = LazyLock::new(|| invariants().into_iter().map(|i| i.sql).collect());

/// The column each distributed table must be pinned by.
fn pinned_by(relation: &str) -> Option<&'static str> {
    TABLES.iter().find(|t| t.name == relation).and_then(|t| match t.tenancy.distribution() {
        Distribution::Reference => None,
        Distribution::Distributed { column, .. } => Some(column),
    })
}

fn found(rule: String, sql: &str) {
    if let Ok(mut all) = FOUND.lock() {
        all.push(format!("{rule}: {sql}"));
    }
}

/// The statement that asks for the plan of `sql`.
pub(crate) fn explain(sql: &str) -> String {
    format!("EXPLAIN (FORMAT JSON, VERBOSE) {sql}")
}

/// Lints `sql` as it is about to run: `explain` is [`explain`] of it, with the same values.
pub(crate) async fn check(conn: &mut PgConnection, sql: &str, explain: Query<'_, Postgres, PgArguments>) {
    if !ENABLED.load(std::sync::atomic::Ordering::Relaxed)
        || EXEMPT.iter().any(|exempt| exempt == sql)
        || sql.trim_start().starts_with("SELECT pg_notify")
    {
        return;
    }
    let plan = match explain.persistent(false).fetch_one(conn).await {
        Ok(row) => row.try_get_unchecked::<String, _>(0).ok().and_then(|text| serde_json::from_str::<Json>(&text).ok()),
        Err(error) => return found(format!("could not be explained ({error})"), sql),
    };
    let Some(plan) = plan else { return found("no plan".to_owned(), sql) };
    if let Ok(mut linted) = LINTED.lock() {
        linted.insert(sql.to_owned());
    }
    for top in plan.as_array().into_iter().flatten() {
        walk(&top["Plan"], sql);
    }
}

/// The conditions a plan node filters its rows by.
fn conditions(node: &Json) -> String {
    ["Index Cond", "Filter", "Recheck Cond", "TID Cond"]
        .iter()
        .filter_map(|key| node[*key].as_str())
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// Whether `conditions` compare `column` with a value (a constant or a parameter).
fn pins(conditions: &str, column: &str) -> bool {
    conditions.match_indices(&format!("{column} = ")).any(|(at, found)| {
        let value = &conditions[at + found.len()..];
        value.starts_with('\'') || value.starts_with('$') || value.starts_with("ANY ('")
    })
}

fn walk(node: &Json, sql: &str) {
    let kind = node["Node Type"].as_str().unwrap_or_default();
    if kind.ends_with("Scan")
        && let Some(relation) = node["Relation Name"].as_str()
        && let Some(column) = pinned_by(relation)
        && !pins(&conditions(node), column)
    {
        found(format!("{relation} is read without its {column}"), sql);
    }
    if kind == "ModifyTable" && node["Operation"].as_str() == Some("Insert") && reads_written_rows(node) {
        let relation = node["Relation Name"].as_str().unwrap_or_default();
        found(format!("INSERT into {relation} reads rows the statement writes"), sql);
    }
    for child in node["Plans"].as_array().into_iter().flatten() {
        walk(child, sql);
    }
}

/// Whether a node's inputs read a `WITH` part (a CTE Scan), as `INSERT ... SELECT FROM
/// created` does.
fn reads_written_rows(node: &Json) -> bool {
    node["Plans"].as_array().into_iter().flatten().any(|child| {
        child["Parent Relationship"].as_str() != Some("InitPlan")
            && (child["Node Type"].as_str() == Some("CTE Scan") || reads_written_rows(child))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_condition_pins_a_column_to_a_value_not_to_another_column() {
        assert!(pins("(up.merchant_id = '0b6c'::uuid)", "merchant_id"));
        assert!(pins("((merchant_id = $1) AND (id = $2))", "merchant_id"));
        assert!(!pins("(up.merchant_id = users.merchant_id)", "merchant_id"));
        assert!(!pins("(up.user_id = '0b6c'::uuid)", "merchant_id"));
        assert!(pins("(guid = 'a1'::uuid)", "guid"));
    }

    #[test]
    fn an_insert_from_a_written_row_is_told_from_one_of_values() {
        let from_cte: Json = serde_json::json!({"Node Type": "ModifyTable", "Operation": "Insert",
            "Plans": [{"Node Type": "CTE Scan", "Parent Relationship": "Outer"}]});
        let of_values: Json = serde_json::json!({"Node Type": "ModifyTable", "Operation": "Insert",
            "Plans": [{"Node Type": "Result", "Parent Relationship": "Outer"}]});
        assert!(reads_written_rows(&from_cte));
        assert!(!reads_written_rows(&of_values));
    }
}
