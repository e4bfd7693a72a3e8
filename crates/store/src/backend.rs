//! What a backend provides, and nothing more: connections and transactions ([`Backend`]),
//! running statements and the few operations whose SQL really differs between the dialects
//! ([`Db`]). Everything else, every [`Store`](crate::Store) method included, is written once
//! in this crate over these two traits.
//!
//! The work a backend runs is async because PostgreSQL's is. SQLite's is not: its [`Db`]
//! answers every call at once, so its backend runs the work to completion in one poll on
//! the thread that holds the connection ([`run_now`]).

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use futures::FutureExt as _;
use futures::future::BoxFuture;

use clientele_domain::credential::ApiKeyId;
use clientele_domain::event::Event;
use clientele_domain::interaction_point::{InteractionPoint, InteractionPointId};
use clientele_domain::merchant::MerchantId;
use clientele_domain::payment::PaymentRequest;
use clientele_domain::user::{Origin, User, UserId};

use crate::sql::{Decode, Dialect, Sql, Value};
use crate::{KeyFreshness, PageRequest, RevocationWatch, StoreError, StoreMetrics, UserFilter, Violation};

/// Work to run on a connection: a closure that borrows the connection for its future.
pub type Work<D, T> = Box<dyn for<'c> FnOnce(&'c mut D) -> BoxFuture<'c, Result<T, StoreError>> + Send>;

/// Boxes a closure as [`Work`] (and gives the compiler the signature it cannot infer alone).
pub fn work<D, T, F>(f: F) -> Work<D, T>
where
    F: for<'c> FnOnce(&'c mut D) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
{
    Box::new(f)
}

/// Runs a future that cannot wait (SQLite's work) to its end in one poll.
pub fn run_now<T>(work: BoxFuture<'_, Result<T, StoreError>>) -> Result<T, StoreError> {
    work.now_or_never().unwrap_or_else(|| Err(StoreError::other("a store operation waited where it cannot")))
}

/// A connection of one backend, inside a transaction or not (the [`Backend`] decides).
pub trait Db: Send {
    const DIALECT: Dialect;

    /// Runs a statement that answers no rows; answers how many rows it changed.
    fn execute(&mut self, sql: &Sql, values: &[Value<'_>]) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Runs a query, reading each row with `decode`.
    fn fetch<T: Send>(
        &mut self,
        sql: &Sql,
        values: &[Value<'_>],
        decode: Decode<T>,
    ) -> impl Future<Output = Result<Vec<T>, StoreError>> + Send;

    /// The one row of a query; [`StoreError::NotFound`] when there is none.
    fn one<T: Send>(
        &mut self,
        sql: &Sql,
        values: &[Value<'_>],
        decode: Decode<T>,
    ) -> impl Future<Output = Result<T, StoreError>> + Send {
        async move { self.fetch(sql, values, decode).await?.into_iter().next().ok_or(StoreError::NotFound) }
    }

    /// The first row of a query, if there is one.
    fn optional<T: Send>(
        &mut self,
        sql: &Sql,
        values: &[Value<'_>],
        decode: Decode<T>,
    ) -> impl Future<Output = Result<Option<T>, StoreError>> + Send {
        async move { Ok(self.fetch(sql, values, decode).await?.into_iter().next()) }
    }

    // --- where the dialects differ ---------------------------------------------------------

    /// Whether [`Db::update_user`] with `events` is one statement (which needs no
    /// transaction of its own).
    fn updates_user_in_one_statement(_events: &[Event]) -> bool {
        false
    }

    /// Whether [`Db::insert_payment_request`] with `events` is one statement.
    fn inserts_payment_in_one_statement(_events: &[Event]) -> bool {
        false
    }

    /// Whether [`Db::insert_user`] of `user` with `events` is one statement.
    fn inserts_user_in_one_statement(_user: &User, _events: &[Event]) -> bool {
        false
    }

    /// Inserts a user and its custom values, records its creation, and writes `events`.
    fn insert_user(
        &mut self,
        merchant: MerchantId,
        user: &User,
        origin: &Origin,
        events: &[Event],
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move {
            crate::users::write::insert(self, merchant, user, origin).await?;
            crate::events::insert(self, merchant, events).await
        }
    }

    /// Replaces a user's row and custom values if it is still at `expected_version`,
    /// records the change and writes `events`; [`StoreError::NotFound`] or
    /// [`StoreError::VersionMismatch`] when no row was written.
    fn update_user(
        &mut self,
        merchant: MerchantId,
        user: &User,
        expected_version: i64,
        origin: &Origin,
        events: &[Event],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A user who has not been erased, with its custom values.
    fn user(&mut self, merchant: MerchantId, id: UserId) -> impl Future<Output = Result<User, StoreError>> + Send;

    /// A page of the merchant's users, with their custom values.
    fn list_users(
        &mut self,
        merchant: MerchantId,
        filter: &UserFilter,
        page: PageRequest,
    ) -> impl Future<Output = Result<Vec<User>, StoreError>> + Send;

    /// Inserts a payment request and its public link, and writes `events`.
    fn insert_payment_request(
        &mut self,
        merchant: MerchantId,
        request: &PaymentRequest,
        events: &[Event],
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move {
            crate::payments::insert(self, merchant, request).await?;
            crate::events::insert(self, merchant, events).await
        }
    }

    fn interaction_point(
        &mut self,
        merchant: MerchantId,
        id: &InteractionPointId,
    ) -> impl Future<Output = Result<InteractionPoint, StoreError>> + Send {
        crate::merchants::interaction_point(self, merchant, id)
    }

    /// Tells every process that `key` is revoked, when the transaction commits.
    fn announce_revocation(&mut self, _key: ApiKeyId) -> impl Future<Output = Result<(), StoreError>> + Send {
        async { Ok(()) }
    }

    /// The database's own integrity checks, besides the invariants.
    fn integrity(&mut self) -> impl Future<Output = Result<Vec<Violation>, StoreError>> + Send {
        async { Ok(Vec::new()) }
    }
}

/// A database: its connections, and transactions around work.
pub trait Backend: std::fmt::Debug + Send + Sync + 'static {
    type Db: Db;

    /// `sqlite`, `postgres`: for logs and metrics.
    const NAME: &'static str;

    fn metrics(&self) -> &StoreMetrics;

    /// Runs `work`, which only reads, on one snapshot.
    fn read<T: Send + 'static>(&self, work: Work<Self::Db, T>) -> impl Future<Output = Result<T, StoreError>> + Send;

    /// Runs `work`, which is one statement that reads.
    fn read_statement<T: Send + 'static>(
        &self,
        work: Work<Self::Db, T>,
    ) -> impl Future<Output = Result<T, StoreError>> + Send {
        self.read(work)
    }

    /// Runs `work`, which writes, and answers once it is durable. With `atomic`, every
    /// statement of it commits or none does; without, `work` writes with one statement (it may
    /// read before or after it).
    fn write<T: Send + 'static>(
        &self,
        atomic: bool,
        work: Work<Self::Db, T>,
    ) -> impl Future<Output = Result<T, StoreError>> + Send;

    /// Runs each of `works`, each standing alone: one that fails writes nothing and does not
    /// stop the others. One result per work, in order.
    fn write_each<T: Send + 'static>(
        &self,
        works: Vec<Work<Self::Db, T>>,
    ) -> impl Future<Output = Result<Vec<Result<T, StoreError>>, StoreError>> + Send;

    /// See [`OperationsStore::watch_revocations`](crate::OperationsStore::watch_revocations).
    fn watch_revocations(&self, watch: Arc<dyn RevocationWatch>) -> KeyFreshness;
}

/// Runs a write conditional on a row's version (`update`, changing one row or none); when it
/// changed none, tells a row that is missing (or another merchant's) from one at another
/// version by reading it with `find`.
pub(crate) async fn versioned<D: Db + ?Sized>(
    db: &mut D,
    update: &Sql,
    values: &[Value<'_>],
    find: &Sql,
    key: &[Value<'_>],
) -> Result<(), StoreError> {
    if db.execute(update, values).await? == 1 {
        return Ok(());
    }
    match db.optional(find, key, |_| Ok(())).await? {
        Some(()) => Err(StoreError::VersionMismatch),
        None => Err(StoreError::NotFound),
    }
}

/// Runs one statement that reads one row, as operation `operation`.
pub(crate) async fn read_one<B: Backend, T: Send + 'static>(
    backend: &B,
    operation: &'static str,
    sql: &'static Sql,
    values: Vec<Value<'static>>,
    decode: Decode<T>,
) -> Result<T, StoreError> {
    let read = work(move |db: &mut B::Db| async move { db.one(sql, &values, decode).await }.boxed());
    timed(backend, operation, backend.read(read)).await
}

/// Runs one statement that reads any number of rows.
pub(crate) async fn read_all<B: Backend, T: Send + 'static>(
    backend: &B,
    operation: &'static str,
    sql: &'static Sql,
    values: Vec<Value<'static>>,
    decode: Decode<T>,
) -> Result<Vec<T>, StoreError> {
    let read = work(move |db: &mut B::Db| async move { db.fetch(sql, &values, decode).await }.boxed());
    timed(backend, operation, backend.read(read)).await
}

/// Runs one statement that writes and answers one row (`RETURNING`).
pub(crate) async fn write_one<B: Backend, T: Send + 'static>(
    backend: &B,
    operation: &'static str,
    sql: &'static Sql,
    values: Vec<Value<'static>>,
    decode: Decode<T>,
) -> Result<T, StoreError> {
    let write = work(move |db: &mut B::Db| async move { db.one(sql, &values, decode).await }.boxed());
    timed(backend, operation, backend.write(false, write)).await
}

/// Runs one statement that writes; answers how many rows it changed.
pub(crate) async fn write_statement<B: Backend>(
    backend: &B,
    operation: &'static str,
    sql: &'static Sql,
    values: Vec<Value<'static>>,
) -> Result<u64, StoreError> {
    let write = work(move |db: &mut B::Db| async move { db.execute(sql, &values).await }.boxed());
    timed(backend, operation, backend.write(false, write)).await
}

/// Times a store operation by its name, and logs a failure of the database once.
pub(crate) async fn timed<B: Backend, T>(
    backend: &B,
    operation: &'static str,
    run: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let started = Instant::now();
    let result = run.await;
    let ok = !matches!(result, Err(StoreError::Other(_)));
    backend.metrics().observe(B::NAME, operation, ok, started.elapsed());
    if let Err(StoreError::Other(error)) = &result {
        tracing::error!(store.operation = operation, error = %error, "store operation failed");
    }
    result
}
