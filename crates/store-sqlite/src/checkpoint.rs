//! Checkpoints, away from the writer's thread.
//!
//! In WAL mode a commit appends pages to the WAL, and a checkpoint copies them back into the
//! database file and syncs it. SQLite's default runs that checkpoint inside the commit that
//! fills the WAL past 1000 pages, on the writer thread, so every group of writes behind it
//! waits for a copy and a sync of several megabytes; under a steady load that is most of
//! the time the writer spends. Here a thread of its own checkpoints every
//! [`INTERVAL`] with `PASSIVE`, which copies what no reader still needs without taking the
//! write lock, so commits go on meanwhile. The WAL starts over from its beginning at the
//! first write after a checkpoint that copied all of it. The writer still checkpoints by
//! itself past [`BACKSTOP_PAGES`], should this thread ever fall that far behind.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::Connection;

/// How often the WAL is copied back into the database file.
const INTERVAL: Duration = Duration::from_millis(100);

/// The WAL's size, in pages, past which the writer checkpoints by itself.
pub(crate) const BACKSTOP_PAGES: i64 = 50_000;

/// Checkpoints until it is dropped (with its store).
#[derive(Debug)]
pub(crate) struct Checkpointer {
    // Dropping it disconnects the thread's receiver, which ends the thread.
    _stop: mpsc::Sender<()>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `path` on a thread of its own.
    pub(crate) fn start(path: &Path) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let conn = crate::connect::checkpointer(path)?;
        let (stop, stopped) = mpsc::channel();
        std::thread::Builder::new().name("clientele-sqlite-checkpoint".into()).spawn(move || run(&conn, &stopped))?;
        Ok(Checkpointer { _stop: stop })
    }
}

fn run(conn: &Connection, stopped: &mpsc::Receiver<()>) {
    while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
        // Answers (busy, pages in the WAL, pages copied); a busy or partial checkpoint is
        // simply carried on by the next one.
        if let Err(error) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get::<_, i64>(0)) {
            tracing::warn!(%error, "a checkpoint of the SQLite WAL failed; the next one tries again");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    /// Committed pages reach the database file without any write asking for a checkpoint:
    /// the writer's own threshold is far off, so only the checkpointer's thread copies them.
    #[test]
    fn the_wal_is_copied_into_the_database_file_in_the_background() {
        let dir = std::env::temp_dir().join(format!("clientele-checkpoint-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.db");
        let writer = crate::connect::writer(&path).unwrap();
        writer.execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY, body TEXT NOT NULL)").unwrap();
        for n in 0..200 {
            writer.execute("INSERT INTO t (n, body) VALUES (?1, ?2)", (n, "x".repeat(1000))).unwrap();
        }
        let size = || std::fs::metadata(&path).unwrap().len();
        assert!(size() < 100_000, "the rows are in the WAL only: {} bytes", size());
        let checkpointer = Checkpointer::start(&path).unwrap();
        let started = Instant::now();
        while size() < 200_000 && started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(size() >= 200_000, "the database file holds the rows: {} bytes", size());
        drop((checkpointer, writer));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
