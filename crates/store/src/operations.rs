//! The store as something to run: which backend it is, whether it answers, whether its
//! data holds together, and how a cached key row is kept honest.

use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use futures::FutureExt as _;

use crate::backend::{Backend, Db, timed, work};
use crate::sql::Sql;
use crate::{KeyFreshness, RevocationWatch, StoreError, Violation, invariants};

/// Running the store.
#[async_trait]
pub trait OperationsStore: std::fmt::Debug + Send + Sync + 'static {
    /// Which backend this is (`sqlite`, `postgres`), for logs and metrics.
    fn backend(&self) -> &'static str;

    /// How a process's cache of key rows is kept honest (see [`crate::fence`]). A backend
    /// that answers [`KeyFreshness::Announced`] starts telling `watch` about every
    /// revocation.
    fn watch_revocations(&self, watch: Arc<dyn RevocationWatch>) -> KeyFreshness;

    /// Answers when the database is reachable and usable.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Checks the whole database: the backend's own integrity check (SQLite), then every
    /// rule of [`invariants::invariants`]. Answers what does not hold; empty when all does.
    /// Reads across merchants, but only counts rows: it returns no data.
    async fn check_invariants(&self) -> Result<Vec<Violation>, StoreError>;
}

static PING: LazyLock<Sql> = LazyLock::new(|| Sql::new("SELECT 1"));

#[async_trait]
impl<B: Backend> OperationsStore for B {
    fn backend(&self) -> &'static str {
        B::NAME
    }

    fn watch_revocations(&self, watch: Arc<dyn RevocationWatch>) -> KeyFreshness {
        Backend::watch_revocations(self, watch)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let ping = work(|db: &mut B::Db| async move { db.one(&PING, &[], |row| row.int(0)).await.map(drop) }.boxed());
        timed(self, "ping", self.read(ping)).await
    }

    async fn check_invariants(&self) -> Result<Vec<Violation>, StoreError> {
        let check = work(|db: &mut B::Db| {
            async move {
                let mut violations = db.integrity().await?;
                for invariant in invariants::invariants() {
                    let rows = db.one(&Sql::new(invariant.sql), &[], |row| row.int(0)).await?;
                    if rows != 0 {
                        violations.push(Violation { name: invariant.name, rule: invariant.rule, rows });
                    }
                }
                Ok(violations)
            }
            .boxed()
        });
        timed(self, "check_invariants", self.read(check)).await
    }
}
