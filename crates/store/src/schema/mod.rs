//! The one description of every table: its columns (which can hold a user's personal
//! value, and what erasure clears them to), how its rows belong to a merchant, and what
//! they reference. Both backends read and write rows through it (statements list its
//! columns, rows are read at its positions), erasure clears what it marks personal, and the
//! invariants of `clientele check` are made from it. Each backend's migrations create the
//! tables in its own column types; a column added there is added here too.

mod events;
mod points;
mod tables;

pub use events::*;
pub use points::*;
pub use tables::*;

/// A column, and for one that can hold a personal value, the SQL literal erasure sets it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub cleared: Option<&'static str>,
}

pub(crate) const fn plain(name: &'static str) -> Column {
    Column { name, cleared: None }
}

pub(crate) const fn personal(name: &'static str, cleared: &'static str) -> Column {
    Column { name, cleared: Some(cleared) }
}

/// How a table's rows belong to merchants, which is also how Citus distributes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tenancy {
    /// The platform's own rows, of no merchant (merchants themselves, signing keys): a
    /// reference table on Citus, copied to every node.
    Platform,
    /// Every row has a `merchant_id`, which starts every key of the table: distributed by
    /// merchant, co-located with `users`.
    Merchant,
    /// Rows with a `merchant_id` belong to it; the others are the platform's (API keys),
    /// and the table is searched before the merchant is known: a reference table.
    Either,
    /// Every row has a `merchant_id`, but is found by this column alone before the merchant
    /// is known (a public link by its GUID): distributed by this column, with no foreign key
    /// to a table distributed by merchant.
    FoundBy(&'static str),
}

/// How Citus holds a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distribution {
    /// Copied whole to every node.
    Reference,
    /// Split into shards by this column; with `colocated`, by merchant like `users`.
    Distributed { column: &'static str, colocated: bool },
}

impl Tenancy {
    /// Whether every row names a merchant.
    pub const fn has_merchant(self) -> bool {
        !matches!(self, Tenancy::Platform | Tenancy::Either)
    }

    pub const fn distribution(self) -> Distribution {
        match self {
            Tenancy::Platform | Tenancy::Either => Distribution::Reference,
            Tenancy::Merchant => Distribution::Distributed { column: "merchant_id", colocated: true },
            Tenancy::FoundBy(column) => Distribution::Distributed { column, colocated: false },
        }
    }
}

/// A reference from a table's rows to another table's, the merchant part of it, so that a
/// row pointing into another merchant's data breaks it as a dangling one does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference {
    pub columns: &'static str,
    pub target: &'static str,
    pub target_columns: &'static str,
    /// When the reference is set (an SQL condition on the row).
    pub when: &'static str,
}

pub(crate) const fn reference(columns: &'static str, target: &'static str) -> Reference {
    Reference { columns, target, target_columns: "merchant_id, id", when: "1 = 1" }
}

/// What erasure does to a table's rows that belong to the erased user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Erasure {
    /// Each personal column is set to its cleared value; the row stays.
    Clear,
    /// The rows go.
    Delete,
}

/// How a table holds a user's personal values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Personal {
    /// The column naming the user the row belongs to (with `merchant_id`).
    pub user_column: &'static str,
    pub erasure: Erasure,
    /// Whether the values are copies of other rows' (a stored answer repeats the user it
    /// was about): a check that collects the personal values held passes over these.
    pub copies: bool,
    /// Why the rows are kept or dropped, for people.
    pub why: &'static str,
}

/// A table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [Column],
    pub tenancy: Tenancy,
    pub references: &'static [Reference],
    pub personal: Option<Personal>,
}

impl Table {
    /// The position of `column` among the table's columns, which is where a statement that
    /// selects [`Table::select`] answers it. Evaluated at compile time where it is used (see
    /// [`at!`](crate::at)), so a misnamed column stops the build.
    #[expect(clippy::panic, reason = "evaluated at compile time: a misnamed column stops the build")]
    pub const fn at(&self, column: &str) -> usize {
        let mut rest = self.columns;
        let mut position = 0;
        while let [first, tail @ ..] = rest {
            if same(first.name.as_bytes(), column.as_bytes()) {
                return position;
            }
            rest = tail;
            position += 1;
        }
        panic!("no such column")
    }

    /// Every column, `a, b, c`, each prefixed with `alias.` when one is given.
    pub fn select(&self, alias: Option<&str>) -> String {
        let prefix = alias.map(|alias| format!("{alias}.")).unwrap_or_default();
        self.columns.iter().map(|c| format!("{prefix}{}", c.name)).collect::<Vec<_>>().join(", ")
    }

    /// The columns that can hold a personal value, with their cleared values.
    pub fn personal_columns(&self) -> impl Iterator<Item = (&'static str, &'static str)> {
        self.columns.iter().filter_map(|c| c.cleared.map(|cleared| (c.name, cleared)))
    }
}

const fn same(a: &[u8], b: &[u8]) -> bool {
    let (mut a, mut b) = (a, b);
    loop {
        match (a, b) {
            ([], []) => return true,
            ([x, a_rest @ ..], [y, b_rest @ ..]) if *x == *y => {
                a = a_rest;
                b = b_rest;
            }
            _ => return false,
        }
    }
}

/// The position of a column in a table, as a constant: `at!(USERS, "email")`.
#[macro_export]
macro_rules! at {
    ($table:expr, $column:literal) => {
        const { $table.at($column) }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_found_where_they_are_listed() {
        assert_eq!(crate::at!(USERS, "merchant_id"), 0);
        assert_eq!(crate::at!(USERS, "email"), 5);
        assert_eq!(USERS.columns.get(USERS.at("erased_at")).map(|c| c.name), Some("erased_at"));
        assert_eq!(CONTRACTS.select(Some("c")).split(", ").next(), Some("c.merchant_id"));
    }

    #[test]
    fn every_table_and_column_is_named_once() {
        let mut tables: Vec<_> = TABLES.iter().map(|t| t.name).collect();
        tables.sort_unstable();
        tables.dedup();
        assert_eq!(tables.len(), TABLES.len());
        for table in TABLES {
            let mut columns: Vec<_> = table.columns.iter().map(|c| c.name).collect();
            columns.sort_unstable();
            columns.dedup();
            assert_eq!(columns.len(), table.columns.len(), "{}", table.name);
        }
    }

    #[test]
    fn tenant_tables_name_their_merchant_and_personal_tables_their_user() {
        for table in TABLES.iter().filter(|t| t.tenancy != Tenancy::Platform) {
            assert!(table.columns.iter().any(|c| c.name == "merchant_id"), "{}", table.name);
        }
        for table in TABLES {
            if let Some(personal) = table.personal {
                assert!(table.columns.iter().any(|c| c.name == personal.user_column), "{}", table.name);
                assert!(table.personal_columns().next().is_some(), "{}", table.name);
            }
        }
    }
}
