//! Clientele's PostgreSQL store, for when one machine is not enough: any number of stateless
//! server processes share one database.
//!
//! Every tenant table is keyed by `merchant_id` first, so the schema can be distributed by
//! merchant (Citus or another PostgreSQL-compatible engine) without change.

mod citus;
mod db;
#[cfg(feature = "statement-lint")]
pub mod lint;
mod listener;
mod migrate;
mod pool;
mod rows;
mod users;

use std::str::FromStr as _;
use std::sync::Arc;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use clientele_store::{Backend, KeyFreshness, RevocationWatch, StoreError, StoreMetrics, Work};

pub use crate::citus::Citus;
pub use crate::db::PgDb;
use crate::listener::{Listener, listen_for_revocations};

/// The PostgreSQL store. Open it with [`PgStore::connect`].
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: pool::Pool,
    /// How the revocation listener connects.
    listen_options: PgConnectOptions,
    metrics: StoreMetrics,
    listener: Arc<Listener>,
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn options(url: &str) -> Result<PgConnectOptions, StoreError> {
    PgConnectOptions::from_str(url).map_err(StoreError::other)
}

impl PgStore {
    /// Connects with a pool of up to `max_connections` and applies pending migrations
    /// (under PostgreSQL's advisory lock, so processes starting together take turns).
    pub async fn connect(url: &str, max_connections: u32, metrics: StoreMetrics) -> Result<Self, StoreError> {
        let options = options(url)?;
        let service = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect_with(options.clone())
            .await
            .map_err(StoreError::other)?;
        let migrated = run_migrations(&service, Citus::IfInstalled).await;
        service.close().await;
        migrated?;
        let listen_options = listener::listener_options(&options);
        let pool = pool::Pool::new(options, max_connections)?;
        Ok(PgStore { pool, listen_options, metrics, listener: Arc::default() })
    }

    /// Applies pending migrations to the database at `url` and returns how many ran; on
    /// Citus, then distributes every table not yet distributed (see [`Citus`]).
    pub async fn migrate(url: &str, citus: Citus) -> Result<usize, StoreError> {
        let pool =
            PgPoolOptions::new().max_connections(1).connect_with(options(url)?).await.map_err(StoreError::other)?;
        let before = applied(&pool).await;
        let migrated = run_migrations(&pool, citus).await;
        let after = applied(&pool).await;
        pool.close().await;
        migrated?;
        Ok(after.saturating_sub(before))
    }
}

/// Applies pending migrations, then distributes on Citus (see [`migrate`]).
async fn run_migrations(pool: &PgPool, citus: Citus) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await.map_err(StoreError::other)?;
    let installed = citus::installed(&mut conn).await?;
    if citus == Citus::Required && !installed {
        return Err(citus::missing());
    }
    migrate::run(&mut conn, migrate::all(), clientele_store::schema::TABLES, installed).await
}

async fn applied(pool: &PgPool) -> usize {
    // Before the first migration the table does not exist: nothing was applied.
    sqlx::query_scalar::<_, i64>("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(pool)
        .await
        .map_or(0, |n| usize::try_from(n).unwrap_or(0))
}

/// Runs `work` between `BEGIN` and `COMMIT`, rolling back when it fails.
async fn transaction<T>(db: &mut PgDb, work: Work<PgDb, T>) -> Result<T, StoreError> {
    db.run("BEGIN").await?;
    match work(db).await {
        Ok(done) => db.run("COMMIT").await.map(|()| done),
        Err(error) => {
            if let Err(rollback) = db.run("ROLLBACK").await {
                tracing::warn!(error = %rollback, "could not roll back a failed transaction");
            }
            Err(error)
        }
    }
}

impl Backend for PgStore {
    type Db = PgDb;

    const NAME: &'static str = "postgres";

    fn metrics(&self) -> &StoreMetrics {
        &self.metrics
    }

    async fn read<T: Send + 'static>(&self, work: Work<PgDb, T>) -> Result<T, StoreError> {
        self.pool.with(async |db| work(db).await).await
    }

    /// A single write needs no transaction of its own: PostgreSQL commits a lone statement
    /// by itself, so `BEGIN` and `COMMIT` would be two round trips for nothing.
    async fn write<T: Send + 'static>(&self, atomic: bool, work: Work<PgDb, T>) -> Result<T, StoreError> {
        match atomic {
            true => self.pool.with(async |db| transaction(db, work).await).await,
            false => self.pool.with(async |db| work(db).await).await,
        }
    }

    /// One transaction, one savepoint per work: a failing one is rolled back alone. A failure
    /// of the database itself fails the whole.
    async fn write_each<T: Send + 'static>(
        &self,
        works: Vec<Work<PgDb, T>>,
    ) -> Result<Vec<Result<T, StoreError>>, StoreError> {
        let all = clientele_store::work(move |db: &mut PgDb| {
            Box::pin(async move {
                let mut results = Vec::with_capacity(works.len());
                for work in works {
                    db.run("SAVEPOINT item").await?;
                    let result = work(db).await;
                    db.run(if result.is_ok() { "RELEASE SAVEPOINT item" } else { "ROLLBACK TO SAVEPOINT item" })
                        .await?;
                    if let Err(StoreError::Other(error)) = result {
                        return Err(StoreError::Other(error));
                    }
                    results.push(result);
                }
                Ok(results)
            })
        });
        self.pool.with(async |db| transaction(db, all).await).await
    }

    /// Every revocation is announced with `NOTIFY` in its own transaction; one task per
    /// store listens and tells `watch`. A second call replaces the first watch.
    /// Without a Tokio runtime to listen on, `watch` never hears it is listening, and so
    /// nothing is cached.
    fn watch_revocations(&self, watch: Arc<dyn RevocationWatch>) -> KeyFreshness {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("no runtime to listen for revocations on; keys are read for every request");
            return KeyFreshness::Announced;
        };
        let task = runtime.spawn(listen_for_revocations(self.listen_options.clone(), watch)).abort_handle();
        if let Ok(mut slot) = self.listener.0.lock()
            && let Some(previous) = slot.replace(task)
        {
            previous.abort();
        }
        KeyFreshness::Announced
    }
}
