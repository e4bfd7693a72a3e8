//! The targets of the scenarios' figures, each beside what this run measured: ratios of two
//! rows of the same run (a machine's speed cancels out of them), and rates. A target whose
//! rows did not run (`--only`) is left out, not reported as missed.

use crate::report::{Goal, Row};

/// (what is compared, numerator row, denominator row, share wanted), on SQLite. The light
/// rows are the ones without "(full body)" in their names.
const RATIOS: [(&str, &str, &str, f64); 5] = [
    ("native POST, full body of light", "native POST /v1/users (full body)", "native POST /v1/users", 0.80),
    ("native PATCH (light) of native POST (light)", "native PATCH /v1/users/{id}", "native POST /v1/users", 0.80),
    (
        "DuEngage POST JSON of native POST, full bodies",
        "duengage POST JSON (full body)",
        "native POST /v1/users (full body)",
        0.60,
    ),
    (
        "RealPay GET by Email of native GET by e-mail, full bodies",
        "realpay GET by Email (full body)",
        "native GET /v1/users?email= (full body)",
        0.50,
    ),
    (
        "Convercus GET of native GET by id, full bodies",
        "convercus GET /users/{id} (full body)",
        "native GET /v1/users/{id} (full body)",
        0.80,
    ),
];

/// (row, requests a second wanted), on SQLite with durable commits.
const SQLITE_RATES: [(&str, f64); 2] = [("native POST points earn", 15_000.0), ("native POST points spend", 10_000.0)];

/// (row, requests a second wanted), on PostgreSQL.
const POSTGRES_RATES: [(&str, f64); 2] =
    [("native GET /v1/users/{id} (full body)", 20_000.0), ("native POST /v1/users (full body)", 7_000.0)];

fn rate(rows: &[Row], name: &str) -> Option<f64> {
    rows.iter().find(|row| row.name == name).map(|row| row.per_second)
}

/// The goals of the rows that ran.
pub fn of(rows: &[Row], postgres: bool) -> Vec<Goal> {
    let mut goals = Vec::new();
    if postgres {
        for (name, target) in POSTGRES_RATES {
            if let Some(measured) = rate(rows, name) {
                goals.push(Goal::at_least(&format!("{name} (PostgreSQL)"), measured, target, "per second"));
            }
        }
        return goals;
    }
    for (name, target) in SQLITE_RATES {
        if let Some(measured) = rate(rows, name) {
            goals.push(Goal::at_least(&format!("{name} (SQLite, durable)"), measured, target, "per second"));
        }
    }
    for (what, of, against, target) in RATIOS {
        if let (Some(of_rate), Some(against_rate)) = (rate(rows, of), rate(rows, against)) {
            let name = format!("{what} (SQLite)");
            goals.push(Goal::at_least(&name, of_rate / against_rate.max(f64::EPSILON), target, "ratio"));
        }
    }
    goals
}
