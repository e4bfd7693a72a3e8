//! A PostgreSQL connection as the core's [`Db`]: values bound in PostgreSQL's own types
//! (`uuid`, `timestamptz`, `date`, `numeric`), rows read back from them, and its errors as
//! the store's.

use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{Column as _, PgConnection, Postgres, Row as _, TypeInfo as _};
use time::{Date, OffsetDateTime, PrimitiveDateTime};
use uuid::Uuid;

use clientele_domain::credential::ApiKeyId;
use clientele_domain::event::Event;
use clientele_domain::merchant::MerchantId;
use clientele_domain::money::Money;
use clientele_domain::payment::PaymentRequest;
use clientele_domain::user::{Origin, User, UserId};
use clientele_store::sql::{Decode, DecodeError, Dialect, Row, Sql, Value};
use clientele_store::{Db, PageRequest, StoreError, UserFilter};

use crate::listener::REVOCATIONS;
use crate::rows::store_error;

/// A connection of the store's pool.
#[derive(Debug)]
pub struct PgDb(pub(crate) PgConnection);

/// Binds `values` to `query`, each in its PostgreSQL type (a NULL too).
pub(crate) fn bind<'q>(
    mut query: Query<'q, Postgres, PgArguments>,
    values: &'q [Value<'q>],
) -> Query<'q, Postgres, PgArguments> {
    for value in values {
        query = match value {
            Value::Text(text) => query.bind(text.as_deref()),
            Value::Int(int) => query.bind(*int),
            Value::Bool(boolean) => query.bind(*boolean),
            Value::Uuid(id) => query.bind(*id),
            Value::Time(at) => query.bind(*at),
            Value::Date(date) => query.bind(*date),
            Value::Minute(at) => query.bind(*at),
            Value::Money(amount) => query.bind(amount.map(Money::amount)),
            Value::Bytes(bytes) => query.bind(bytes.as_deref()),
        };
    }
    query
}

/// A row of an answer.
pub(crate) struct PgRowRef<'a>(pub(crate) &'a PgRow);

impl PgRowRef<'_> {
    fn get<'r, T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>>(&'r self, at: usize) -> Result<T, DecodeError> {
        self.0.try_get(at).map_err(|error| DecodeError::new(at, error.to_string()))
    }
}

impl Row for PgRowRef<'_> {
    fn text_or_null(&self, at: usize) -> Result<Option<&str>, DecodeError> {
        self.get(at)
    }

    /// Whichever width the column has (`smallint`, `integer`, `bigint`).
    fn int_or_null(&self, at: usize) -> Result<Option<i64>, DecodeError> {
        let column = self.0.try_column(at).map_err(|error| DecodeError::new(at, error.to_string()))?;
        match column.type_info().name() {
            "INT2" => Ok(self.get::<Option<i16>>(at)?.map(i64::from)),
            "INT4" => Ok(self.get::<Option<i32>>(at)?.map(i64::from)),
            _ => self.get(at),
        }
    }

    fn boolean(&self, at: usize) -> Result<bool, DecodeError> {
        self.get(at)
    }

    fn uuid_or_null(&self, at: usize) -> Result<Option<Uuid>, DecodeError> {
        self.get(at)
    }

    fn time_or_null(&self, at: usize) -> Result<Option<OffsetDateTime>, DecodeError> {
        self.get(at)
    }

    fn date_or_null(&self, at: usize) -> Result<Option<Date>, DecodeError> {
        self.get(at)
    }

    fn minute_or_null(&self, at: usize) -> Result<Option<PrimitiveDateTime>, DecodeError> {
        self.get(at)
    }

    fn money_or_null(&self, at: usize) -> Result<Option<Money>, DecodeError> {
        self.get::<Option<rust_decimal::Decimal>>(at)?
            .map(|amount| Money::from_decimal(amount).ok_or_else(|| DecodeError::new(at, "not an amount")))
            .transpose()
    }

    fn bytes_or_null(&self, at: usize) -> Result<Option<&[u8]>, DecodeError> {
        self.get(at)
    }
}

/// Reads rows with a core decoder.
pub(crate) fn decode_all<T>(rows: &[PgRow], decode: Decode<T>) -> Result<Vec<T>, StoreError> {
    rows.iter().map(|row| decode(&PgRowRef(row)).map_err(StoreError::other)).collect()
}

impl PgDb {
    /// Runs a statement without parameters (transaction control).
    pub(crate) async fn run(&mut self, sql: &str) -> Result<(), StoreError> {
        sqlx::query(sql).execute(&mut self.0).await.map(drop).map_err(store_error)
    }
}

impl Db for PgDb {
    const DIALECT: Dialect = Dialect::Postgres;
    fn inserts_payment_in_one_statement(events: &[Event]) -> bool {
        crate::users::one_statement_holds(events)
    }

    fn inserts_user_in_one_statement(user: &User, events: &[Event]) -> bool {
        crate::users::inserts_in_one_statement(user, events)
    }

    async fn execute(&mut self, sql: &Sql, values: &[Value<'_>]) -> Result<u64, StoreError> {
        #[cfg(feature = "statement-lint")]
        {
            let explain = crate::lint::explain(sql.text(Dialect::Postgres));
            crate::lint::check(&mut self.0, sql.text(Dialect::Postgres), bind(sqlx::query(&explain), values)).await;
        }
        let query = bind(sqlx::query(sql.text(Dialect::Postgres)), values);
        query.execute(&mut self.0).await.map(|done| done.rows_affected()).map_err(store_error)
    }

    async fn fetch<T: Send>(
        &mut self,
        sql: &Sql,
        values: &[Value<'_>],
        decode: Decode<T>,
    ) -> Result<Vec<T>, StoreError> {
        #[cfg(feature = "statement-lint")]
        {
            let explain = crate::lint::explain(sql.text(Dialect::Postgres));
            crate::lint::check(&mut self.0, sql.text(Dialect::Postgres), bind(sqlx::query(&explain), values)).await;
        }
        let query = bind(sqlx::query(sql.text(Dialect::Postgres)), values);
        let rows = query.fetch_all(&mut self.0).await.map_err(store_error)?;
        decode_all(&rows, decode)
    }

    async fn insert_user(
        &mut self,
        merchant: MerchantId,
        user: &User,
        origin: &Origin,
        events: &[Event],
    ) -> Result<(), StoreError> {
        crate::users::insert(self, merchant, user, origin, events).await
    }

    async fn update_user(
        &mut self,
        merchant: MerchantId,
        user: &User,
        expected_version: i64,
        origin: &Origin,
        events: &[Event],
    ) -> Result<(), StoreError> {
        crate::users::update(self, merchant, user, expected_version, origin, events).await
    }

    async fn user(&mut self, merchant: MerchantId, id: UserId) -> Result<User, StoreError> {
        crate::users::get(self, merchant, id).await
    }

    async fn list_users(
        &mut self,
        merchant: MerchantId,
        filter: &UserFilter,
        page: PageRequest,
    ) -> Result<Vec<User>, StoreError> {
        crate::users::list(self, merchant, filter, page).await
    }

    async fn insert_payment_request(
        &mut self,
        merchant: MerchantId,
        request: &PaymentRequest,
        events: &[Event],
    ) -> Result<(), StoreError> {
        crate::users::insert_payment_request(self, merchant, request, events).await
    }

    /// `NOTIFY` is sent when the transaction commits, and only then.
    async fn announce_revocation(&mut self, key: ApiKeyId) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(REVOCATIONS)
            .bind(key.to_string())
            .execute(&mut self.0)
            .await
            .map(drop)
            .map_err(store_error)
    }
}
