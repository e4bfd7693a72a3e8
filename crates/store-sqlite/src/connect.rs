//! Opening connections with the settings Clientele relies on, set explicitly.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// How long a connection waits for a lock held by another process before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The page cache of each reading connection, in KiB.
const READER_CACHE_KIB: i64 = 16 * 1024;

/// The one writing connection: WAL, and `synchronous = FULL`, under which a committed
/// transaction survives both a crash of the process and a loss of power.
pub(crate) fn writer(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "the database refused WAL mode (it is in {mode} mode)"
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    // Every write of a group runs in its own savepoint, whose undo pages go to the statement
    // journal: in memory they cost a copy, in a temporary file a write each. The journal is
    // never needed after a crash (an uncommitted group is simply not in the WAL).
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Checkpoints run on a thread of their own (see `checkpoint`); this is the backstop.
    conn.pragma_update(None, "wal_autocheckpoint", crate::checkpoint::BACKSTOP_PAGES)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// The connection that checkpoints the WAL, with the writer's durability: a checkpoint
/// syncs the database file before the WAL may start over.
pub(crate) fn checkpointer(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

/// A reading connection: it cannot write, so a bug cannot bypass the writer.
pub(crate) fn reader(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "query_only", true)?;
    // A lookup descends two B-trees (an index, then the primary key). With the default 2 MiB
    // their inner pages stop fitting once a merchant has about a million users, and every
    // lookup reads several pages from the operating system instead of one or two leaves.
    // Only pages that are read take memory, and there are about as many readers as threads
    // reading at once.
    conn.pragma_update(None, "cache_size", -READER_CACHE_KIB)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}
