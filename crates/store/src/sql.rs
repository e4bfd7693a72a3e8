//! What both backends share to speak SQL: a statement written once ([`Sql`]), the values it
//! binds ([`Value`]) and the rows it answers ([`Row`]). Each backend binds a [`Value`] and
//! reads a [`Row`] in its own types (SQLite keeps ids as text and times as microseconds,
//! PostgreSQL as `uuid` and `timestamptz`); the statements and the mapping to domain values
//! are the core's, once.

use std::borrow::Cow;

use time::{Date, OffsetDateTime, PrimitiveDateTime};
use uuid::Uuid;

use clientele_domain::money::Money;

/// The SQL dialect a statement is run in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A statement written once with SQLite's numbered placeholders (`?1`), and its PostgreSQL
/// text (`$1`) made from it when it is built; or, where the dialects really differ, one
/// text for each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sql {
    sqlite: String,
    postgres: String,
}

impl Sql {
    /// A statement both dialects run as written, but for the placeholders. The text holds
    /// no `?` of its own (no string literal or operator with one).
    pub fn new(text: impl Into<String>) -> Self {
        let sqlite = text.into();
        Sql { postgres: postgres_placeholders(&sqlite), sqlite }
    }

    /// A statement whose dialects differ by more than their placeholders.
    pub fn dialects(sqlite: impl Into<String>, postgres: impl Into<String>) -> Self {
        Sql { sqlite: sqlite.into(), postgres: postgres.into() }
    }

    /// A statement written for each dialect by `text`, with SQLite's placeholders in both.
    pub fn each(text: impl Fn(Dialect) -> String) -> Self {
        Sql { sqlite: text(Dialect::Sqlite), postgres: postgres_placeholders(&text(Dialect::Postgres)) }
    }

    pub fn text(&self, dialect: Dialect) -> &str {
        match dialect {
            Dialect::Sqlite => &self.sqlite,
            Dialect::Postgres => &self.postgres,
        }
    }
}

/// `statement!(NAME, "format", args...)`: a [`Sql`] made once, when first run.
macro_rules! statement {
    ($vis:vis $name:ident, $($text:tt)+) => {
        $vis static $name: std::sync::LazyLock<$crate::sql::Sql> =
            std::sync::LazyLock::new(|| $crate::sql::Sql::new(format!($($text)+)));
    };
}

pub(crate) use statement;

/// A statement written with `?N` placeholders, in PostgreSQL's `$N`.
pub fn postgres_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// The values of a row's columns, by name. A statement that writes a whole row is made from
/// these names ([`RowStatement`]), so a column and its value cannot drift apart.
pub type Named<'a> = Vec<(&'static str, Value<'a>)>;

/// A statement made from the names of the row it writes, the first time it runs: a table's
/// rows are always written with the same names, by one function.
#[derive(Debug)]
pub struct RowStatement {
    make: fn(&[&'static str]) -> String,
    sql: std::sync::OnceLock<Sql>,
}

impl RowStatement {
    pub const fn new(make: fn(&[&'static str]) -> String) -> Self {
        RowStatement { make, sql: std::sync::OnceLock::new() }
    }

    /// The statement for `row`, and the values to bind, in the order of its names.
    pub fn of<'a>(&self, row: Named<'a>) -> (&Sql, Vec<Value<'a>>) {
        let (names, values): (Vec<&'static str>, Vec<Value<'a>>) = row.into_iter().unzip();
        (self.sql.get_or_init(|| Sql::new((self.make)(&names))), values)
    }
}

/// `INSERT INTO table (names) VALUES (?1, ...)`.
pub fn insert_into(table: &str, names: &[&str]) -> String {
    format!("INSERT INTO {table} ({}) VALUES ({})", names.join(", "), placeholders(1, names.len()))
}

/// `UPDATE table SET ...` of every column but `kept`, of the row with the merchant and id
/// the names give, at the version bound after them.
pub fn update_at_version(table: &str, names: &[&str], kept: &[&str]) -> String {
    let position = |column: &str| names.iter().position(|name| *name == column).map_or(0, |at| at + 1);
    let assignments = names
        .iter()
        .enumerate()
        .filter(|(_, name)| !kept.contains(name) && !matches!(**name, "merchant_id" | "id"))
        .map(|(at, name)| format!("{name} = ?{}", at + 1))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "UPDATE {table} SET {assignments} WHERE merchant_id = ?{} AND id = ?{} AND version = ?{}",
        position("merchant_id"),
        position("id"),
        names.len() + 1
    )
}

/// `?from, ?from+1, ...`: `count` numbered placeholders.
pub fn placeholders(from: usize, count: usize) -> String {
    (from..from + count).map(|n| format!("?{n}")).collect::<Vec<_>>().join(", ")
}

/// A value a statement binds, typed, so that each backend stores it in its own column type
/// (and a NULL is a NULL of the column's type).
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Text(Option<Cow<'a, str>>),
    Int(Option<i64>),
    Bool(bool),
    Uuid(Option<Uuid>),
    Time(Option<OffsetDateTime>),
    Date(Option<Date>),
    /// A local date and time to the minute (a contract's instalment start).
    Minute(Option<PrimitiveDateTime>),
    Money(Option<Money>),
    Bytes(Option<Cow<'a, [u8]>>),
}

impl<'a> Value<'a> {
    pub fn text(value: &'a str) -> Self {
        Value::Text(Some(Cow::Borrowed(value)))
    }

    pub fn text_or_null(value: Option<&'a str>) -> Self {
        Value::Text(value.map(Cow::Borrowed))
    }

    pub fn owned(value: String) -> Self {
        Value::Text(Some(Cow::Owned(value)))
    }

    pub fn id(value: Uuid) -> Self {
        Value::Uuid(Some(value))
    }

    pub fn time(value: OffsetDateTime) -> Self {
        Value::Time(Some(value))
    }

    pub fn int(value: i64) -> Self {
        Value::Int(Some(value))
    }
}

/// Why a stored row could not be read back as a domain value.
#[derive(Debug, thiserror::Error)]
#[error("column {at}: {what}")]
pub struct DecodeError {
    pub at: usize,
    pub what: String,
}

impl DecodeError {
    pub fn new(at: usize, what: impl Into<String>) -> Self {
        DecodeError { at, what: what.into() }
    }
}

/// One row of an answer, read by position: positions come from the table descriptions of
/// [`crate::schema`], never from an index kept by hand. Each backend reads its own column
/// types; a NULL is `None`.
pub trait Row {
    fn text_or_null(&self, at: usize) -> Result<Option<&str>, DecodeError>;
    fn int_or_null(&self, at: usize) -> Result<Option<i64>, DecodeError>;
    fn boolean(&self, at: usize) -> Result<bool, DecodeError>;
    fn uuid_or_null(&self, at: usize) -> Result<Option<Uuid>, DecodeError>;
    fn time_or_null(&self, at: usize) -> Result<Option<OffsetDateTime>, DecodeError>;
    fn date_or_null(&self, at: usize) -> Result<Option<Date>, DecodeError>;
    fn minute_or_null(&self, at: usize) -> Result<Option<PrimitiveDateTime>, DecodeError>;
    fn money_or_null(&self, at: usize) -> Result<Option<Money>, DecodeError>;
    fn bytes_or_null(&self, at: usize) -> Result<Option<&[u8]>, DecodeError>;

    fn text(&self, at: usize) -> Result<&str, DecodeError> {
        self.text_or_null(at)?.ok_or_else(|| null(at))
    }

    fn int(&self, at: usize) -> Result<i64, DecodeError> {
        self.int_or_null(at)?.ok_or_else(|| null(at))
    }

    fn uuid(&self, at: usize) -> Result<Uuid, DecodeError> {
        self.uuid_or_null(at)?.ok_or_else(|| null(at))
    }

    fn time(&self, at: usize) -> Result<OffsetDateTime, DecodeError> {
        self.time_or_null(at)?.ok_or_else(|| null(at))
    }

    fn money(&self, at: usize) -> Result<Money, DecodeError> {
        self.money_or_null(at)?.ok_or_else(|| null(at))
    }
}

fn null(at: usize) -> DecodeError {
    DecodeError::new(at, "is NULL")
}

/// Reads a row into a value.
pub type Decode<T> = fn(&dyn Row) -> Result<T, DecodeError>;

/// Reads a stored enum name back with the domain's own parser.
pub fn parsed<T, E>(at: usize, text: &str, parse: impl FnOnce(&str) -> Result<T, E>) -> Result<T, DecodeError> {
    parse(text).map_err(|_| DecodeError::new(at, format!("unexpected stored value {text:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_postgres_ones() {
        assert_eq!(postgres_placeholders("a = ?1 AND b = ?12 OR c = '?'"), "a = $1 AND b = $12 OR c = '?'");
        assert_eq!(Sql::new("x = ?2").text(Dialect::Postgres), "x = $2");
        assert_eq!(Sql::new("x = ?2").text(Dialect::Sqlite), "x = ?2");
        assert_eq!(placeholders(3, 3), "?3, ?4, ?5");
        assert_eq!(insert_into("t", &["a", "b"]), "INSERT INTO t (a, b) VALUES (?1, ?2)");
        assert_eq!(
            update_at_version("t", &["merchant_id", "id", "a", "created_at"], &["created_at"]),
            "UPDATE t SET a = ?3 WHERE merchant_id = ?1 AND id = ?2 AND version = ?5"
        );
    }
}
