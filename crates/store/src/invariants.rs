//! What must be true of a whole database, whatever was written to it and however the
//! process that wrote it ended: checked by `clientele check`, after every integration test,
//! and after every `kill -9` of the crash harness.
//!
//! Each invariant is one portable SQL query counting the rows that break it, so SQLite and
//! PostgreSQL run the same text. These are the only queries that read across merchants: they
//! return counts, never data.

use crate::personal::PERSONAL_TABLES;
use crate::schema::{TABLES, Tenancy, USERS};

/// One rule over the whole database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invariant {
    /// A short name, stable for scripts.
    pub name: String,
    /// What must hold, for people.
    pub rule: String,
    /// Counts the rows that break the rule.
    pub sql: String,
}

/// An invariant that does not hold, with how many rows break it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    pub name: String,
    pub rule: String,
    pub rows: i64,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({} row(s)): {}", self.name, self.rows, self.rule)
    }
}

fn invariant(name: impl Into<String>, rule: impl Into<String>, sql: impl Into<String>) -> Invariant {
    Invariant { name: name.into(), rule: rule.into(), sql: sql.into() }
}

/// `a.x = b.y AND ...` for two column lists of the same length.
fn joined(left: &str, right: &str) -> String {
    left.split(", ").zip(right.split(", ")).map(|(l, r)| format!("r.{r} = t.{l}")).collect::<Vec<_>>().join(" AND ")
}

/// No row of any table of [`PERSONAL_TABLES`] keeps a personal value of an erased user.
fn erasure_invariants() -> Vec<Invariant> {
    PERSONAL_TABLES
        .iter()
        .map(|table| {
            let holds = table.holds_personal("t");
            if table.table == USERS.name {
                return invariant(
                    "erased.personal_data",
                    "an erased user keeps no personal data and no loyalty balance",
                    format!(
                        "SELECT COUNT(*) FROM users t WHERE t.erased_at IS NOT NULL AND ({} OR t.loyalty_points <> 0)",
                        holds.unwrap_or_else(|| "1 = 0".to_owned())
                    ),
                );
            }
            let erased = format!(
                "EXISTS (SELECT 1 FROM users r WHERE r.merchant_id = t.merchant_id AND r.id = t.{} \
                 AND r.erased_at IS NOT NULL)",
                table.user_column
            );
            invariant(
                format!("erased.{}", table.table),
                format!("no row of {} keeps a personal value of an erased user ({})", table.table, table.why),
                match holds {
                    Some(holds) => format!("SELECT COUNT(*) FROM {} t WHERE {erased} AND ({holds})", table.table),
                    None => format!("SELECT COUNT(*) FROM {} t WHERE {erased}", table.table),
                },
            )
        })
        .collect()
}

/// Every invariant, in the order they are checked.
pub fn invariants() -> Vec<Invariant> {
    let mut all = Vec::new();
    for table in TABLES {
        let applies = match table.tenancy {
            Tenancy::Platform => continue,
            Tenancy::Merchant | Tenancy::FoundBy(_) => "1 = 1",
            Tenancy::Either => "merchant_id IS NOT NULL",
        };
        let table = table.name;
        // Not correlated: Citus answers it on every shard against the reference table.
        all.push(invariant(
            format!("{table}.merchant"),
            format!("every row of {table} belongs to an existing merchant"),
            format!(
                "SELECT COUNT(*) FROM {table} t WHERE {applies} AND t.merchant_id NOT IN (SELECT r.id FROM merchants r)"
            ),
        ));
    }
    for (table, reference) in TABLES.iter().flat_map(|t| t.references.iter().map(move |r| (t.name, r))) {
        let (columns, target, applies) = (reference.columns, reference.target, reference.when);
        let column = columns.rsplit(", ").next().unwrap_or(columns);
        all.push(invariant(
            format!("{table}.{column}"),
            format!("every {table}.{column} names a row of {target} of the same merchant"),
            format!(
                "SELECT COUNT(*) FROM {table} t WHERE {applies} \
                 AND NOT EXISTS (SELECT 1 FROM {target} r WHERE {})",
                joined(columns, reference.target_columns)
            ),
        ));
    }
    all.extend(erasure_invariants());
    all.push(invariant(
        "users.version",
        "a user's version is the version of its latest recorded change",
        "SELECT COUNT(*) FROM users t WHERE t.version <> \
         (SELECT COALESCE(MAX(r.version), 0) FROM user_changes r WHERE r.merchant_id = t.merchant_id AND r.user_id = t.id)",
    ));
    all.push(invariant(
        "user_changes.created",
        "a user's history starts with exactly one creation, at version 1",
        "SELECT COUNT(*) FROM users t WHERE 1 <> \
         (SELECT COUNT(*) FROM user_changes r WHERE r.merchant_id = t.merchant_id AND r.user_id = t.id \
          AND r.change = 'created' AND r.version = 1)",
    ));
    // Links are keyed by their GUID, requests by their merchant: a set difference each way,
    // which Citus answers across the two distributions (a correlated subquery it cannot).
    // A link is unique by its GUID, so with both, each request has exactly one link.
    all.push(invariant(
        "payment_requests.public_link",
        "every payment request has a public link under its own GUID",
        "SELECT COUNT(*) FROM (SELECT merchant_id, id, public_access_guid FROM payment_requests \
         EXCEPT SELECT merchant_id, payment_request_id, guid FROM public_links) AS unlinked",
    ));
    all.push(invariant(
        "public_links.payment_request",
        "every public link names a payment request of its merchant that has its GUID",
        "SELECT COUNT(*) FROM (SELECT merchant_id, payment_request_id, guid FROM public_links \
         EXCEPT SELECT merchant_id, id, public_access_guid FROM payment_requests) AS dangling",
    ));
    all.push(invariant(
        "payment_requests.status_times",
        "a paid request has its payment time, a cancelled one its cancellation time",
        "SELECT COUNT(*) FROM payment_requests \
         WHERE (status = 'paid' AND paid_at IS NULL) OR (status = 'cancelled' AND cancelled_at IS NULL)",
    ));
    all.push(invariant(
        "idempotency_keys.answer",
        "a completed idempotency key holds the answer it repeats, unless the user it held was erased",
        "SELECT COUNT(*) FROM idempotency_keys t WHERE t.state = 'done' AND (t.status IS NULL OR (t.body IS NULL \
         AND NOT EXISTS (SELECT 1 FROM users r WHERE r.merchant_id = t.merchant_id AND r.id = t.user_id \
                         AND r.erased_at IS NOT NULL)))",
    ));
    all.extend(points_invariants());
    all.push(invariant(
        "sequences.value",
        "a sequence's number never goes below zero",
        "SELECT COUNT(*) FROM sequences WHERE value < 0",
    ));
    all
}

/// The ledger adds up: a balance is the sum of its user's entries and of what its lots hold,
/// a lot holds what it brought less what was taken from it, a taking entry took what its
/// allocations say, and a user knows when its next lot expires.
fn points_invariants() -> Vec<Invariant> {
    vec![
        invariant(
            "points.balance",
            "a user's loyalty_points is the sum of its points entries",
            // Summed once per user and joined, not a correlated sum per user: SQLite answers
            // that from the entries' primary key by merchant, reading every entry of the
            // merchant for each of its users (3 s of a 54 MB crash-harness database).
            "SELECT COUNT(*) FROM users t LEFT JOIN \
             (SELECT r.merchant_id, r.user_id, SUM(r.points) AS points FROM points_entries r \
              GROUP BY r.merchant_id, r.user_id) s ON s.merchant_id = t.merchant_id AND s.user_id = t.id \
             WHERE t.loyalty_points <> COALESCE(s.points, 0)",
        ),
        invariant(
            "points.lots",
            "a user's loyalty_points is what its lots hold",
            "SELECT COUNT(*) FROM users t WHERE t.loyalty_points <> \
             (SELECT COALESCE(SUM(r.remaining), 0) FROM points_lots r WHERE r.merchant_id = t.merchant_id AND r.user_id = t.id)",
        ),
        invariant(
            "points_lots.remaining",
            "a lot holds the points its entry brought less those its allocations took",
            "SELECT COUNT(*) FROM points_lots t WHERE t.remaining <> \
             (SELECT r.points FROM points_entries r WHERE r.merchant_id = t.merchant_id AND r.id = t.entry_id) - \
             (SELECT COALESCE(SUM(a.points), 0) FROM points_allocations a WHERE a.merchant_id = t.merchant_id AND a.lot_id = t.entry_id)",
        ),
        invariant(
            "points_entries.allocations",
            "an entry that made no lot moved the points its allocations say",
            "SELECT COUNT(*) FROM points_entries t WHERE NOT EXISTS \
             (SELECT 1 FROM points_lots l WHERE l.merchant_id = t.merchant_id AND l.entry_id = t.id) AND t.points <> \
             -(SELECT COALESCE(SUM(a.points), 0) FROM points_allocations a WHERE a.merchant_id = t.merchant_id AND a.entry_id = t.id)",
        ),
        invariant(
            "users.points_expire_at",
            "a user's points_expire_at is when the next of its lots holding points expires",
            "SELECT COUNT(*) FROM users t WHERE t.points_expire_at IS DISTINCT FROM \
             (SELECT MIN(r.expires_at) FROM points_lots r WHERE r.merchant_id = t.merchant_id AND r.user_id = t.id \
              AND r.remaining > 0)",
        ),
    ]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn names_are_unique_and_every_query_counts() {
        let all = invariants();
        let mut names: Vec<&str> = all.iter().map(|i| i.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
        assert!(all.iter().all(|i| i.sql.starts_with("SELECT COUNT(*) FROM ")));
    }

    #[test]
    fn references_join_every_column_pair() {
        assert_eq!(
            joined("merchant_id, user_id", "merchant_id, id"),
            "r.merchant_id = t.merchant_id AND r.id = t.user_id"
        );
    }
}
