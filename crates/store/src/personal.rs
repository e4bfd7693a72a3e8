//! Where a user's personal data lives, as [`crate::schema`] describes it: both stores erase
//! from this, and the invariants check it. A new column that can hold a personal value is
//! marked there, or erasure and `clientele check` both miss it.
//!
//! The other tables hold no personal value of a user: `user_changes` records versions,
//! surfaces and interaction points; `contracts` hold the merchant's contract number, terms
//! and tracking code (the financial record); `public_links` a GUID; the rest belong to the
//! merchant (keys, interaction points, property definitions, call sequences).
//! `tests/it/erasure.rs` scans every text column of every table after erasure, so a column
//! missing there is found there.
//!
//! Statements are written with SQLite's numbered placeholders (`?1`) and name the merchant
//! on each table they touch.

use std::sync::LazyLock;

pub use crate::schema::Erasure;
use crate::schema::{TABLES, USERS};

/// A table that can hold a user's personal values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalTable {
    pub table: &'static str,
    /// The column naming the user the row belongs to (with `merchant_id`).
    pub user_column: &'static str,
    /// The columns that can hold a personal value, each with the value (an SQL literal)
    /// that erasure clears it to.
    pub columns: Vec<(&'static str, &'static str)>,
    pub erasure: Erasure,
    /// Whether the values are copies of other rows' (a stored answer repeats the user it
    /// was about): a check that collects the personal values held passes over these.
    pub copies: bool,
    /// Why the rows are kept or dropped, for people.
    pub why: &'static str,
}

/// Every table that can hold a user's personal values, the user's own row first.
pub static PERSONAL_TABLES: LazyLock<Vec<PersonalTable>> = LazyLock::new(|| {
    TABLES
        .iter()
        .filter_map(|table| {
            table.personal.map(|personal| PersonalTable {
                table: table.name,
                user_column: personal.user_column,
                columns: table.personal_columns().collect(),
                erasure: personal.erasure,
                copies: personal.copies,
                why: personal.why,
            })
        })
        .collect()
});

impl PersonalTable {
    /// The columns erasure clears, with their cleared values (none for a table whose rows go).
    pub fn cleared(&self) -> &[(&'static str, &'static str)] {
        match self.erasure {
            Erasure::Clear => &self.columns,
            Erasure::Delete => &[],
        }
    }

    /// `column = cleared, ...`, for an UPDATE.
    pub fn assignments(&self) -> String {
        self.cleared().iter().map(|(column, value)| format!("{column} = {value}")).collect::<Vec<_>>().join(", ")
    }

    /// A condition true of a row that still holds a personal value (columns qualified by
    /// `alias`); `None` for a table whose rows go whole.
    pub fn holds_personal(&self, alias: &str) -> Option<String> {
        let columns = self.cleared();
        (!columns.is_empty()).then(|| {
            columns
                .iter()
                .map(|(column, value)| match *value {
                    "NULL" => format!("{alias}.{column} IS NOT NULL"),
                    value => format!("{alias}.{column} <> {value}"),
                })
                .collect::<Vec<_>>()
                .join(" OR ")
        })
    }

    /// The statement that erases the user `?2` of the merchant `?1` from this table, for
    /// every table but the user's own row (which [`erase_user_row`] clears).
    pub fn erase_statement(&self) -> String {
        let scope = format!("merchant_id = ?1 AND {} = ?2", self.user_column);
        match self.erasure {
            Erasure::Delete => format!("DELETE FROM {} WHERE {scope}", self.table),
            Erasure::Clear => format!("UPDATE {} SET {} WHERE {scope}", self.table, self.assignments()),
        }
    }
}

/// Clears the user `?2` of the merchant `?1` at time `?3`, only if not erased yet and, when
/// `?4` is not NULL, only at that version; answers the new version. The balance goes to 0.
pub fn erase_user_row() -> String {
    format!(
        "UPDATE users SET {}, loyalty_points = 0, version = version + 1, updated_at = ?3, erased_at = ?3 \
         WHERE merchant_id = ?1 AND id = ?2 AND erased_at IS NULL AND (CAST(?4 AS BIGINT) IS NULL OR version = ?4) \
         RETURNING version",
        USERS.personal_columns().map(|(column, value)| format!("{column} = {value}")).collect::<Vec<_>>().join(", ")
    )
}

/// The statements that erase the rest of the user's data, after [`erase_user_row`].
pub fn erase_statements() -> Vec<String> {
    PERSONAL_TABLES.iter().filter(|t| t.table != USERS.name).map(PersonalTable::erase_statement).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_users_row_is_described_first_and_every_table_once() {
        assert_eq!(PERSONAL_TABLES.first().map(|t| t.table), Some("users"));
        let mut tables: Vec<_> = PERSONAL_TABLES.iter().map(|t| t.table).collect();
        tables.sort_unstable();
        tables.dedup();
        assert_eq!(tables.len(), PERSONAL_TABLES.len());
    }

    #[test]
    fn statements_are_scoped_by_merchant_and_user() {
        let statements = erase_statements();
        assert!(statements.contains(&"DELETE FROM user_properties WHERE merchant_id = ?1 AND user_id = ?2".to_owned()));
        assert!(
            statements.contains(
                &"UPDATE payment_requests SET segment = '', url_to_document = NULL, debt_meta = '{}' \
              WHERE merchant_id = ?1 AND user_id = ?2"
                    .to_owned()
            )
        );
        assert!(erase_user_row().contains("email = NULL") && erase_user_row().contains("WHERE merchant_id = ?1"));
    }

    #[test]
    fn a_row_holds_personal_data_while_a_column_is_not_cleared() {
        let payments = PERSONAL_TABLES.iter().find(|t| t.table == "payment_requests").map(|t| t.holds_personal("t"));
        assert_eq!(
            payments.flatten().as_deref(),
            Some("t.segment <> '' OR t.url_to_document IS NOT NULL OR t.debt_meta <> '{}'")
        );
        let properties = PERSONAL_TABLES.iter().find(|t| t.table == "user_properties").map(|t| t.holds_personal("t"));
        assert_eq!(properties, Some(None));
    }
}
