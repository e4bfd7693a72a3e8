//! Reading connections. WAL lets any number of readers run beside the writer, each on a
//! snapshot; connections are kept in a small pool and reused with their cached statements.
//!
//! Reads run on the calling task's thread rather than on a blocking pool: they are index
//! lookups that finish in microseconds, far less than the cost of handing them to another
//! thread and back.

use std::path::PathBuf;
use std::sync::Mutex;

use rusqlite::Connection;

use clientele_store::{StoreError, fence};

/// How many idle connections the pool keeps; more may be open while more readers run.
const MAX_IDLE: usize = 16;

#[derive(Debug)]
pub(crate) struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl ReaderPool {
    pub(crate) fn new(path: PathBuf) -> Self {
        ReaderPool { path, idle: Mutex::new(Vec::new()) }
    }

    /// Runs `read` on a pooled connection, after checking the request's fenced key (see
    /// [`fence`]) in the same snapshot.
    pub(crate) fn with<T>(&self, read: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let conn = match self.idle.lock().map(|mut idle| idle.pop()) {
            Ok(Some(conn)) => conn,
            _ => crate::connect::reader(&self.path).map_err(StoreError::other)?,
        };
        // One read transaction for the whole read: its statements see one snapshot (a user
        // and its custom values agree), and the WAL read lock, a pair of fcntl calls on the
        // shared-memory file, is taken once instead of once per statement.
        let key = fence::armed();
        let result = match statement(&conn, "BEGIN") {
            Ok(()) => {
                let result = crate::check_fence(&conn, key).and_then(|()| read(&conn));
                fence::passed(&result);
                match statement(&conn, "COMMIT") {
                    Ok(()) => result,
                    Err(error) => return Err(StoreError::other(error)),
                }
            }
            Err(error) => Err(StoreError::other(error)),
        };
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE
        {
            idle.push(conn);
        }
        result
    }
}

fn statement(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}
