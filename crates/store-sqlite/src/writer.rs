//! The single writer. SQLite allows one writer at a time; instead of letting connections
//! queue on the file lock ("database is locked"), every write is sent to one thread that owns
//! the only writing connection.
//!
//! The thread commits in groups: it takes every write that is waiting, runs each inside its
//! own savepoint of one transaction, and commits once. A write whose work fails is rolled
//! back to its savepoint alone; the others still commit. Each caller is answered only after
//! the commit that holds its write is on disk, so acknowledged means durable, and one fsync
//! serves every write of the group.

use std::sync::mpsc;

use tokio::sync::oneshot;

use crate::db::SqliteDb;

use clientele_store::{StoreError, fence};

/// The most writes committed in one transaction.
const MAX_GROUP: usize = 256;

/// Answers a caller once its group's commit is known: `None` when it committed.
type Deliver = Box<dyn FnOnce(Option<&str>) + Send>;
/// One write: runs against the open transaction (or, given `None`, is dropped unrun because
/// its group could not begin), says whether it succeeded, and hands back how to answer its
/// caller.
type Job = Box<dyn FnOnce(Option<&mut SqliteDb>) -> (bool, Deliver) + Send>;

/// Sends writes to the writer thread. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread over `db`. It stops when every `Writer` is dropped.
    pub(crate) fn start(db: SqliteDb) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new().name("clientele-sqlite-writer".into()).spawn(move || run(db, queue))?;
        Ok(Writer { jobs })
    }

    /// Runs `work` in the writer's transaction and answers once it is committed. The
    /// request's fenced key (see [`fence`]) is checked first, in the write's own savepoint: a
    /// key revoked a moment ago writes nothing.
    pub(crate) async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut SqliteDb) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let key = fence::armed();
        let result = self.run(move |db| crate::check_fence(&db.conn, key).and_then(|()| work(db))).await;
        fence::passed(&result);
        result
    }

    async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut SqliteDb) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |db| {
            let result = match db {
                Some(db) => work(db),
                None => Err(StoreError::other("the write transaction could not begin")),
            };
            let ok = result.is_ok();
            let deliver: Deliver = Box::new(move |commit_failure| {
                let result = match commit_failure {
                    None => result,
                    Some(reason) => Err(StoreError::other(format!("commit failed: {reason}"))),
                };
                // The caller may have gone away (its request was cancelled); the write stands.
                let _ = answer.send(result);
            });
            (ok, deliver)
        });
        self.jobs.send(job).map_err(|_| StoreError::other("the SQLite writer has stopped"))?;
        answered.await.map_err(|_| StoreError::other("the SQLite writer has stopped"))?
    }
}

fn run(mut db: SqliteDb, queue: mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        commit_group(&mut db, group);
    }
}

/// Runs a statement without parameters from the connection's statement cache: the
/// transaction and savepoint statements run several times per group, and preparing them
/// anew each time was a tenth of the writer's time.
fn run_cached(db: &SqliteDb, sql: &str) -> rusqlite::Result<()> {
    db.conn.prepare_cached(sql)?.execute([]).map(drop)
}

fn commit_group(db: &mut SqliteDb, group: Vec<Job>) {
    if let Err(error) = run_cached(db, "BEGIN IMMEDIATE") {
        let reason = error.to_string();
        tracing::error!(error = %reason, "could not begin a write transaction");
        for job in group {
            let (_, deliver) = job(None);
            deliver(Some(&reason));
        }
        return;
    }
    let mut answers = Vec::with_capacity(group.len());
    for job in group {
        let outcome = run_cached(db, "SAVEPOINT job").map(|()| job(Some(&mut *db)));
        match outcome {
            Ok((true, deliver)) => {
                let released = run_cached(db, "RELEASE job");
                answers.push((deliver, released.err().map(|e| e.to_string())));
            }
            Ok((false, deliver)) => {
                let undone = run_cached(db, "ROLLBACK TO job").and_then(|()| run_cached(db, "RELEASE job"));
                answers.push((deliver, undone.err().map(|e| e.to_string())));
            }
            Err(error) => {
                tracing::error!(error = %error, "could not open a savepoint");
                return abandon(db, answers, &error.to_string());
            }
        }
    }
    if let Some((_, Some(reason))) = answers.iter().find(|(_, failure)| failure.is_some()) {
        let reason = reason.clone();
        return abandon(db, answers, &reason);
    }
    match run_cached(db, "COMMIT") {
        Ok(()) => {
            for (deliver, _) in answers {
                deliver(None);
            }
        }
        Err(error) => {
            tracing::error!(error = %error, "a group commit failed");
            abandon(db, answers, &error.to_string());
        }
    }
}

/// Rolls the whole group back and tells every caller it failed.
fn abandon(db: &SqliteDb, answers: Vec<(Deliver, Option<String>)>, reason: &str) {
    if let Err(error) = run_cached(db, "ROLLBACK") {
        tracing::error!(error = %error, "could not roll back a failed group");
    }
    for (deliver, _) in answers {
        deliver(Some(reason));
    }
}
