//! Clientele's embedded store: one SQLite file in WAL mode, one writer thread that commits
//! concurrent writes together, and a pool of readers that never wait for it.

mod checkpoint;
mod connect;
mod db;
mod migrate;
mod pool;
mod rows;
mod users;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension as _};

use clientele_domain::credential::ApiKeyId;
use clientele_store::{Backend, KeyFreshness, RevocationWatch, StoreError, StoreMetrics, Work, run_now};

use crate::checkpoint::Checkpointer;
pub use crate::db::SqliteDb;
use crate::pool::ReaderPool;
use crate::writer::Writer;

/// The SQLite store. Open it with [`SqliteStore::open`].
#[derive(Debug)]
pub struct SqliteStore {
    writer: Writer,
    readers: ReaderPool,
    metrics: StoreMetrics,
    _checkpointer: Checkpointer,
}

/// The file a `sqlite:` database URL names: `sqlite://data/x.db` and `sqlite:data/x.db` are
/// relative to the working directory, `sqlite:///var/lib/x.db` is absolute. A query string
/// is ignored. `None` when the URL is not a SQLite one.
pub fn path_from_url(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty()).then(|| PathBuf::from(path))
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    pub fn open(path: &Path, metrics: StoreMetrics) -> Result<Self, StoreError> {
        let (_, conn) = Self::migrated(path)?;
        Ok(SqliteStore {
            writer: Writer::start(SqliteDb::new(conn)).map_err(StoreError::other)?,
            readers: ReaderPool::new(path.to_owned()),
            metrics,
            _checkpointer: Checkpointer::start(path).map_err(StoreError::other)?,
        })
    }

    /// Applies pending migrations to the database at `path` and returns how many ran.
    pub fn migrate(path: &Path) -> Result<usize, StoreError> {
        Self::migrated(path).map(|(applied, _)| applied)
    }

    /// Opens the writing connection, creating the file's directory if needed, and applies
    /// pending migrations.
    fn migrated(path: &Path) -> Result<(usize, Connection), StoreError> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(StoreError::other)?;
        }
        let mut conn = connect::writer(path).map_err(StoreError::other)?;
        let applied = migrate::run(&mut conn).map_err(StoreError::other)?;
        Ok((applied, conn))
    }
}

impl Backend for SqliteStore {
    type Db = SqliteDb;

    const NAME: &'static str = "sqlite";

    fn metrics(&self) -> &StoreMetrics {
        &self.metrics
    }

    async fn read<T: Send + 'static>(&self, work: Work<SqliteDb, T>) -> Result<T, StoreError> {
        self.readers.with(|db| run_now(work(db)))
    }

    /// One statement that checks the request's fenced key itself, without a transaction of
    /// its own (see [`ReaderPool::with_statement`]).
    async fn read_statement<T: Send + 'static>(&self, work: Work<SqliteDb, T>) -> Result<T, StoreError> {
        self.readers.with_statement(|db| run_now(work(db)))
    }

    /// On the writer thread, committed with the writes that arrive with it (every write is
    /// atomic there: each runs in a savepoint of its own).
    async fn write<T: Send + 'static>(&self, _atomic: bool, work: Work<SqliteDb, T>) -> Result<T, StoreError> {
        self.writer.write(move |db| run_now(work(db))).await
    }

    /// Each work is a write of its own: the writer commits them together, each in its own
    /// savepoint, so a failing one leaves the others untouched.
    async fn write_each<T: Send + 'static>(
        &self,
        works: Vec<Work<SqliteDb, T>>,
    ) -> Result<Vec<Result<T, StoreError>>, StoreError> {
        let writes = works.into_iter().map(|work| self.writer.write(move |db| run_now(work(db))));
        Ok(futures::future::join_all(writes).await)
    }

    /// Every read and write transaction checks the request's fenced key itself: a key row
    /// from a cache needs nothing else, whichever process revoked it.
    fn watch_revocations(&self, _watch: Arc<dyn RevocationWatch>) -> KeyFreshness {
        KeyFreshness::Fenced
    }
}

/// Checks, inside the open transaction, that the fenced key of the request (see
/// [`fence`](clientele_store::fence)) is still active. Nothing to check when the request's
/// key was read from the database.
pub(crate) fn check_fence(conn: &Connection, key: Option<ApiKeyId>) -> Result<(), StoreError> {
    let Some(key) = key else {
        return Ok(());
    };
    let active: Option<bool> = conn
        .prepare_cached("SELECT revoked_at IS NULL FROM api_keys INDEXED BY api_keys_revocation WHERE id = ?1")
        .and_then(|mut statement| statement.query_row([key.text().as_str()], |row| row.get(0)).optional())
        .map_err(StoreError::other)?;
    match active {
        Some(true) => Ok(()),
        Some(false) | None => Err(StoreError::KeyRevoked),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_name_files() {
        assert_eq!(path_from_url("sqlite://data/c.db"), Some(PathBuf::from("data/c.db")));
        assert_eq!(path_from_url("sqlite:data/c.db?mode=rwc"), Some(PathBuf::from("data/c.db")));
        assert_eq!(path_from_url("sqlite:///var/lib/c.db"), Some(PathBuf::from("/var/lib/c.db")));
        assert_eq!(path_from_url("postgres://localhost/c"), None);
        assert_eq!(path_from_url("sqlite://"), None);
    }
}
