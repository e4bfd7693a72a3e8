//! A SQLite connection as the core's [`Db`]: values bound in SQLite's column types (ids as
//! text, times as microseconds since the epoch, dates and amounts as text), rows read back
//! from them, and SQLite's errors as the store's.

use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{Connection, ToSql, params_from_iter};
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};
use uuid::Uuid;

use clientele_domain::interaction_point::{InteractionPoint, InteractionPointId};
use clientele_domain::merchant::MerchantId;
use clientele_domain::money::Money;
use clientele_domain::user::{User, UserId, format_date, parse_date};
use clientele_store::sql::{Decode, DecodeError, Dialect, Row, Sql, Value};
use clientele_store::{Db, PageRequest, StoreError, UserFilter, Violation};

use crate::pool::StatementFence;
use crate::rows::{micros, store_error, time_from_micros};

/// A connection: the writer's, or a reader's with the fence of the read it runs (see
/// [`crate::pool::ReaderPool::with_statement`]).
#[derive(Debug)]
pub struct SqliteDb {
    pub(crate) conn: Connection,
    pub(crate) fence: Option<StatementFence>,
}

impl SqliteDb {
    pub(crate) fn new(conn: Connection) -> Self {
        SqliteDb { conn, fence: None }
    }

    /// The statement's text in SQLite's dialect, prepared once per connection.
    pub(crate) fn prepare(&self, sql: &str) -> Result<rusqlite::CachedStatement<'_>, StoreError> {
        self.conn.prepare_cached(sql).map_err(store_error)
    }
}

/// A value as SQLite stores it: borrowed where it can be, an id written into a buffer of its
/// own (no allocation for the most frequent parameter).
pub(crate) enum Param<'a> {
    Borrowed(ValueRef<'a>),
    Id([u8; uuid::fmt::Hyphenated::LENGTH]),
    Owned(SqlValue),
}

impl ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Param::Borrowed(value) => ToSqlOutput::Borrowed(*value),
            Param::Id(text) => ToSqlOutput::Borrowed(ValueRef::Text(text)),
            Param::Owned(value) => ToSqlOutput::Borrowed(ValueRef::from(value)),
        })
    }
}

impl<'a> Param<'a> {
    pub(crate) fn of(value: &'a Value<'a>) -> Self {
        let owned = |value: Option<SqlValue>| Param::Owned(value.unwrap_or(SqlValue::Null));
        match value {
            Value::Text(Some(text)) => Param::Borrowed(ValueRef::Text(text.as_bytes())),
            Value::Bytes(Some(bytes)) => Param::Borrowed(ValueRef::Blob(bytes)),
            Value::Uuid(Some(id)) => Param::id(*id),
            Value::Text(None) | Value::Bytes(None) | Value::Uuid(None) => Param::Owned(SqlValue::Null),
            Value::Int(value) => owned(value.map(SqlValue::Integer)),
            Value::Bool(value) => Param::Owned(SqlValue::Integer(i64::from(*value))),
            Value::Time(value) => owned(value.map(|at| SqlValue::Integer(micros(at)))),
            Value::Date(value) => owned(value.map(|date| SqlValue::Text(format_date(date)))),
            Value::Minute(value) => owned(value.map(|at| SqlValue::Text(minute_text(at)))),
            Value::Money(value) => owned(value.map(|amount| SqlValue::Text(amount.to_string()))),
        }
    }

    pub(crate) fn id(id: Uuid) -> Self {
        let mut text = [0; uuid::fmt::Hyphenated::LENGTH];
        id.hyphenated().encode_lower(&mut text);
        Param::Id(text)
    }

    /// The value as stored, for comparing with a stored one.
    pub(crate) fn stored(&self) -> SqlValue {
        match self {
            Param::Borrowed(value) => SqlValue::from(*value),
            Param::Id(text) => SqlValue::Text(String::from_utf8_lossy(text).into_owned()),
            Param::Owned(value) => value.clone(),
        }
    }
}

pub(crate) fn params<'a>(values: &'a [Value<'a>]) -> Vec<Param<'a>> {
    values.iter().map(Param::of).collect()
}

/// A contract's instalment start as stored: `YYYY-MM-DD HH:MM`.
fn minute_text(at: PrimitiveDateTime) -> String {
    clientele_domain::contract::InstalmentStart::from_stored(at).to_string()
}

/// A row of an answer.
pub(crate) struct SqliteRow<'a, 'b>(pub(crate) &'a rusqlite::Row<'b>);

impl SqliteRow<'_, '_> {
    fn value(&self, at: usize) -> Result<ValueRef<'_>, DecodeError> {
        self.0.get_ref(at).map_err(|error| DecodeError::new(at, error.to_string()))
    }

    fn parsed_text<T>(&self, at: usize, parse: impl FnOnce(&str) -> Option<T>) -> Result<Option<T>, DecodeError> {
        self.text_or_null(at)?
            .map(|text| parse(text).ok_or_else(|| DecodeError::new(at, format!("unexpected stored value {text:?}"))))
            .transpose()
    }
}

impl Row for SqliteRow<'_, '_> {
    fn text_or_null(&self, at: usize) -> Result<Option<&str>, DecodeError> {
        self.value(at)?.as_str_or_null().map_err(|error| DecodeError::new(at, error.to_string()))
    }

    fn int_or_null(&self, at: usize) -> Result<Option<i64>, DecodeError> {
        self.value(at)?.as_i64_or_null().map_err(|error| DecodeError::new(at, error.to_string()))
    }

    fn boolean(&self, at: usize) -> Result<bool, DecodeError> {
        Ok(self.int(at)? != 0)
    }

    fn uuid_or_null(&self, at: usize) -> Result<Option<Uuid>, DecodeError> {
        self.parsed_text(at, |text| Uuid::parse_str(text).ok())
    }

    fn time_or_null(&self, at: usize) -> Result<Option<OffsetDateTime>, DecodeError> {
        self.int_or_null(at)?
            .map(|micros| time_from_micros(micros).map_err(|error| DecodeError::new(at, error.to_string())))
            .transpose()
    }

    fn date_or_null(&self, at: usize) -> Result<Option<Date>, DecodeError> {
        self.parsed_text(at, |text| parse_date("", text).ok())
    }

    fn minute_or_null(&self, at: usize) -> Result<Option<PrimitiveDateTime>, DecodeError> {
        self.parsed_text(at, |text| {
            PrimitiveDateTime::parse(text, format_description!("[year]-[month]-[day] [hour]:[minute]")).ok()
        })
    }

    fn money_or_null(&self, at: usize) -> Result<Option<Money>, DecodeError> {
        self.parsed_text(at, Money::from_stored)
    }

    fn bytes_or_null(&self, at: usize) -> Result<Option<&[u8]>, DecodeError> {
        match self.value(at)? {
            ValueRef::Null => Ok(None),
            ValueRef::Blob(bytes) | ValueRef::Text(bytes) => Ok(Some(bytes)),
            other => Err(DecodeError::new(at, format!("not bytes but {:?}", other.data_type()))),
        }
    }
}

/// Runs a query on `conn`, reading each row with `read`.
pub(crate) fn query<T>(
    conn: &Connection,
    sql: &str,
    params: &[Param<'_>],
    mut read: impl FnMut(&rusqlite::Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut statement = conn.prepare_cached(sql).map_err(store_error)?;
    let mut rows = statement.query(params_from_iter(params)).map_err(store_error)?;
    let mut found = Vec::new();
    while let Some(row) = rows.next().map_err(store_error)? {
        found.push(read(row)?);
    }
    Ok(found)
}

/// Reads a row with a core decoder.
pub(crate) fn decoded<T>(decode: Decode<T>) -> impl FnMut(&rusqlite::Row<'_>) -> Result<T, StoreError> {
    move |row| decode(&SqliteRow(row)).map_err(StoreError::other)
}

impl Db for SqliteDb {
    const DIALECT: Dialect = Dialect::Sqlite;

    async fn execute(&mut self, sql: &Sql, values: &[Value<'_>]) -> Result<u64, StoreError> {
        let mut statement = self.prepare(sql.text(Dialect::Sqlite))?;
        let changed = statement.execute(params_from_iter(params(values))).map_err(store_error)?;
        Ok(u64::try_from(changed).unwrap_or(u64::MAX))
    }

    async fn fetch<T: Send>(
        &mut self,
        sql: &Sql,
        values: &[Value<'_>],
        decode: Decode<T>,
    ) -> Result<Vec<T>, StoreError> {
        query(&self.conn, sql.text(Dialect::Sqlite), &params(values), decoded(decode))
    }

    async fn update_user(
        &mut self,
        merchant: MerchantId,
        user: &User,
        expected_version: i64,
        origin: &clientele_domain::user::Origin,
        events: &[clientele_domain::event::Event],
    ) -> Result<(), StoreError> {
        crate::users::update(self, merchant, user, expected_version, origin, events).await
    }

    async fn user(&mut self, merchant: MerchantId, id: UserId) -> Result<User, StoreError> {
        crate::users::get(self, merchant, id)
    }

    async fn list_users(
        &mut self,
        merchant: MerchantId,
        filter: &UserFilter,
        page: PageRequest,
    ) -> Result<Vec<User>, StoreError> {
        crate::users::list(self, merchant, filter, page)
    }

    async fn interaction_point(
        &mut self,
        merchant: MerchantId,
        id: &InteractionPointId,
    ) -> Result<InteractionPoint, StoreError> {
        crate::users::interaction_point(self, merchant, id)
    }

    async fn integrity(&mut self) -> Result<Vec<Violation>, StoreError> {
        let mut violations = Vec::new();
        let text = |row: &rusqlite::Row<'_>| row.get::<_, String>(0).map_err(store_error);
        let integrity = query(&self.conn, "PRAGMA integrity_check", &[], text)?;
        if integrity != ["ok"] {
            violations.push(Violation {
                name: "sqlite.integrity_check".to_owned(),
                rule: format!("PRAGMA integrity_check answers ok, not: {}", integrity.join("; ")),
                rows: i64::try_from(integrity.len()).unwrap_or(i64::MAX),
            });
        }
        let dangling = query(&self.conn, "PRAGMA foreign_key_check", &[], text)?;
        if !dangling.is_empty() {
            violations.push(Violation {
                name: "sqlite.foreign_key_check".to_owned(),
                rule: format!("every foreign key holds; broken in: {}", dangling.join(", ")),
                rows: i64::try_from(dangling.len()).unwrap_or(i64::MAX),
            });
        }
        Ok(violations)
    }
}
