//! The store's connections to PostgreSQL, kept between requests.
//!
//! sqlx's own pool sends a Sync message every time a connection goes back, and waits for
//! PostgreSQL's answer: one more round trip per query, to flush a rollback that a dropped
//! transaction left queued and to find out whether a connection whose query was abandoned
//! halfway (its future dropped, as a request timeout does) can still be used. Here a
//! connection goes back straight away when its work succeeded; when the work failed, the
//! same ping is made first (a transaction it began is rolled back at once, so no lock
//! outlives it); and a connection whose work was abandoned halfway is closed.

use std::time::Duration;

use deadpool::managed::{self, Metrics, Object, RecycleResult};
use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection};

use crate::db::PgDb;

use clientele_store::StoreError;

/// How long a caller waits for a connection when all are in use.
const WAIT: Duration = Duration::from_secs(10);

/// Opens connections; see the module documentation for how they come back.
#[derive(Debug)]
pub(crate) struct Connector {
    options: PgConnectOptions,
}

impl managed::Manager for Connector {
    type Type = PgDb;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<PgDb, sqlx::Error> {
        PgConnection::connect_with(&self.options).await.map(PgDb)
    }

    async fn recycle(&self, _: &mut PgDb, _: &Metrics) -> RecycleResult<sqlx::Error> {
        Ok(())
    }
}

/// Up to a fixed number of connections.
#[derive(Debug, Clone)]
pub(crate) struct Pool(managed::Pool<Connector>);

impl Pool {
    pub(crate) fn new(options: PgConnectOptions, max_connections: u32) -> Result<Pool, StoreError> {
        let size = usize::try_from(max_connections.max(1)).map_err(StoreError::other)?;
        managed::Pool::builder(Connector { options })
            .max_size(size)
            .wait_timeout(Some(WAIT))
            .create_timeout(Some(WAIT))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map(Pool)
            .map_err(StoreError::other)
    }

    /// Runs `work` on a connection of the pool. A transaction that `work` begins must be
    /// committed before it succeeds; when it fails, the transaction is rolled back here.
    /// The connection goes back when `work` has finished, and is closed when `work` is
    /// abandoned before it finishes or the connection no longer answers.
    pub(crate) async fn with<T>(
        &self,
        work: impl AsyncFnOnce(&mut PgDb) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let object = self.0.get().await.map_err(StoreError::other)?;
        let mut lease = Lease(Some(object));
        let Some(db) = lease.0.as_deref_mut() else { return Err(StoreError::other("no connection")) };
        let result = work(db).await;
        if result.is_err()
            && let Err(error) = db.0.ping().await
        {
            tracing::warn!(error = %error, "closed a database connection that stopped answering");
            return result;
        }
        lease.finish();
        result
    }

    /// How many connections are open now.
    #[cfg(test)]
    pub(crate) fn open(&self) -> usize {
        self.0.status().size
    }
}

/// A connection lent to one piece of work: back to the pool when the work finished, closed
/// when it was abandoned or the connection failed.
struct Lease(Option<Object<Connector>>);

impl Lease {
    fn finish(mut self) {
        // Dropping the object gives it back to the pool.
        drop(self.0.take());
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(object) = self.0.take() {
            // Taken out of the pool, the connection is closed when it is dropped.
            drop(Object::take(object));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr as _;

    use super::*;
    use crate::rows::store_error;

    async fn backend(pool: &Pool) -> i32 {
        let pid = pool
            .with(async |conn| {
                sqlx::query_scalar::<_, i32>("SELECT pg_backend_pid()")
                    .fetch_one(&mut conn.0)
                    .await
                    .map_err(store_error)
            })
            .await;
        pid.unwrap()
    }

    /// On the PostgreSQL pass of the tests (`CLIENTELE_TEST_DATABASE_URL`); it needs no tables.
    #[tokio::test]
    async fn finished_work_gives_its_connection_back_and_abandoned_work_closes_it() {
        let Ok(url) = std::env::var("CLIENTELE_TEST_DATABASE_URL") else { return };
        let pool = Pool::new(PgConnectOptions::from_str(&url).unwrap(), 2).unwrap();
        let first = backend(&pool).await;
        assert_eq!(backend(&pool).await, first, "a finished read gives its connection back");

        // A query that fails leaves the connection usable: it is used again.
        let failed =
            pool.with(async |conn| sqlx::query("SELECT 1/0").execute(&mut conn.0).await.map_err(store_error)).await;
        assert!(matches!(failed, Err(StoreError::Other(_))));
        assert_eq!(backend(&pool).await, first);

        // Work that fails inside a transaction: the transaction is rolled back as the work
        // ends, so its locks are free for everyone else at once.
        let failed = pool
            .with(async |conn| {
                let mut tx = conn.0.begin().await.map_err(store_error)?;
                sqlx::query("SELECT pg_advisory_xact_lock(4242)").execute(&mut *tx).await.map_err(store_error)?;
                Err::<(), _>(StoreError::VersionMismatch)
            })
            .await;
        assert!(matches!(failed, Err(StoreError::VersionMismatch)));
        let mut other = PgConnection::connect(&url).await.unwrap();
        let free: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock(4242)").fetch_one(&mut other).await.unwrap();
        assert!(free, "the failed work's transaction still holds its lock");
        assert_eq!(backend(&pool).await, first);

        // Work abandoned halfway closes its connection; the next work opens another.
        let slow =
            pool.with(async |conn| sqlx::query("SELECT pg_sleep(5)").execute(&mut conn.0).await.map_err(store_error));
        assert!(tokio::time::timeout(Duration::from_millis(200), slow).await.is_err());
        assert_eq!(pool.open(), 0);
        assert_ne!(backend(&pool).await, first);
        assert_eq!(pool.open(), 1);
    }
}
