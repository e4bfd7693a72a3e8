//! Reading connections. WAL lets any number of readers run beside the writer, each on a
//! snapshot; connections are kept in a small pool and reused with their cached statements.
//!
//! Reads run on the calling task's thread rather than on a blocking pool: they are index
//! lookups that finish in microseconds, far less than the cost of handing them to another
//! thread and back.

use std::cell::Cell;
use std::path::PathBuf;
use std::sync::Mutex;

use rusqlite::Row;

use clientele_domain::IdText;
use clientele_store::{StoreError, fence};

use crate::db::SqliteDb;

/// How many idle connections the pool keeps; more may be open while more readers run.
const MAX_IDLE: usize = 16;

#[derive(Debug)]
pub(crate) struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<SqliteDb>>,
}

impl ReaderPool {
    pub(crate) fn new(path: PathBuf) -> Self {
        ReaderPool { path, idle: Mutex::new(Vec::new()) }
    }

    fn take(&self) -> Result<SqliteDb, StoreError> {
        match self.idle.lock().map(|mut idle| idle.pop()) {
            Ok(Some(db)) => Ok(db),
            _ => crate::connect::reader(&self.path).map(SqliteDb::new).map_err(StoreError::other),
        }
    }

    fn give_back(&self, conn: SqliteDb) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE
        {
            idle.push(conn);
        }
    }

    /// Runs `read` on a pooled connection, after checking the request's fenced key (see
    /// [`fence`]) in the same snapshot.
    pub(crate) fn with<T>(&self, read: impl FnOnce(&mut SqliteDb) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut db = self.take()?;
        // One read transaction for the whole read: its statements see one snapshot (a user
        // and its custom values agree), and the WAL read lock, a pair of fcntl calls on the
        // shared-memory file, is taken once instead of once per statement.
        let key = fence::armed();
        let result = match statement(&db, "BEGIN") {
            Ok(()) => {
                let result = crate::check_fence(&db.conn, key).and_then(|()| read(&mut db));
                fence::passed(&result);
                match statement(&db, "COMMIT") {
                    Ok(()) => result,
                    Err(error) => return Err(StoreError::other(error)),
                }
            }
            Err(error) => Err(StoreError::other(error)),
        };
        self.give_back(db);
        result
    }

    /// Runs `read`, which is one statement, on a pooled connection. SQLite runs a lone
    /// statement in a read transaction of its own, so it needs no `BEGIN` and `COMMIT`
    /// around it, and the statement checks the request's fenced key itself, as one of its
    /// columns ([`fence_column`]), in its own snapshot. That is three statements fewer
    /// than [`ReaderPool::with`] for the reads that are most frequent.
    ///
    /// When no row carried the column (nothing was found), the key is checked once more
    /// after the statement: a revocation is for good, so a key active then was active when
    /// the statement ran.
    pub(crate) fn with_statement<T>(
        &self,
        read: impl FnOnce(&mut SqliteDb) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut db = self.take()?;
        let key = fence::armed();
        db.fence = Some(StatementFence { key: key.map(|key| key.text()), seen: Cell::new(None) });
        let result = read(&mut db);
        let seen = db.fence.take().and_then(|fence| fence.seen.get());
        let result = match (key, seen, result) {
            (None, _, result) | (Some(_), Some(true), result) => result,
            (Some(_), Some(false), _) => Err(StoreError::KeyRevoked),
            (Some(_), None, Err(StoreError::Other(error))) => Err(StoreError::Other(error)),
            (Some(key), None, result) => crate::check_fence(&db.conn, Some(key)).and(result),
        };
        fence::passed(&result);
        self.give_back(db);
        result
    }
}

/// The request's fenced key, as a single-statement read ([`ReaderPool::with_statement`])
/// binds it and learns of it.
#[derive(Debug)]
pub(crate) struct StatementFence {
    key: Option<IdText>,
    seen: Cell<Option<bool>>,
}

impl StatementFence {
    /// The value of the parameter that [`fence_column`] names: the fenced key's id, or
    /// NULL when no key is fenced.
    pub(crate) fn key(&self) -> Option<&str> {
        self.key.as_ref().map(IdText::as_str)
    }

    /// Records the [`fence_column`] of a row, at `idx`.
    pub(crate) fn saw(&self, row: &Row<'_>, idx: usize) -> rusqlite::Result<()> {
        let active: bool = row.get(idx)?;
        if !active {
            self.seen.set(Some(false));
        } else if self.seen.get().is_none() {
            self.seen.set(Some(true));
        }
        Ok(())
    }
}

/// The column by which a single statement checks the request's fenced key, bound to
/// parameter `?param` ([`StatementFence::key`]): true when no key is fenced or the key is
/// active. SQLite evaluates it once per execution of the statement.
pub(crate) fn fence_column(param: usize) -> String {
    format!(
        "(?{param} IS NULL OR EXISTS \
         (SELECT 1 FROM api_keys INDEXED BY api_keys_revocation WHERE id = ?{param} AND revoked_at IS NULL))"
    )
}

fn statement(db: &SqliteDb, sql: &str) -> rusqlite::Result<()> {
    db.conn.prepare_cached(sql)?.execute([]).map(drop)
}

#[cfg(test)]
mod tests {
    use clientele_domain::credential::ApiKeyId;
    use rusqlite::Connection;

    use super::*;

    #[test]
    fn a_row_of_a_revoked_key_outweighs_rows_of_an_active_one() {
        let conn = Connection::open_in_memory().unwrap();
        let checked = StatementFence { key: Some(ApiKeyId::generate().text()), seen: Cell::new(None) };
        let mut statement = conn.prepare("SELECT column1 FROM (VALUES (1), (0), (1))").unwrap();
        let mut rows = statement.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            checked.saw(row, 0).unwrap();
        }
        assert_eq!(checked.seen.get(), Some(false));
    }
}
