//! The rules the service keeps for every surface, on a real store: SQLite in a temporary
//! directory, or PostgreSQL in a schema of its own when `CLIENTELE_TEST_DATABASE_URL` names
//! a server (as the integration tests do).

mod rules;

use std::sync::Arc;

use clientele_domain::DisplayName;
use clientele_domain::credential::{KeyOwner, Role};
use clientele_domain::merchant::{Merchant, MerchantNumber};
use clientele_store::{Store, StoreMetrics};

use crate::{IssuedKey, MasterKey, Principal, Registry, TokenSettings};

/// A registry over a fresh database, dropped with the value.
pub(crate) struct TestRegistry {
    pub(crate) registry: Registry,
    _dir: Option<tempfile::TempDir>,
    schema: Option<(String, String)>,
}

impl TestRegistry {
    pub(crate) async fn new() -> TestRegistry {
        let (store, dir, schema): (Arc<dyn Store>, _, _) =
            match std::env::var("CLIENTELE_TEST_DATABASE_URL").ok().filter(|url| !url.is_empty()) {
                Some(base) => {
                    let schema = format!("service_{}", uuid::Uuid::new_v4().simple());
                    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&base).await.unwrap();
                    sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&mut conn).await.unwrap();
                    let separator = if base.contains('?') { '&' } else { '?' };
                    let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
                    let store = clientele_store_postgres::PgStore::connect(&url, 2, StoreMetrics::default()).await;
                    (Arc::new(store.unwrap()), None, Some((base, schema)))
                }
                None => {
                    let dir = tempfile::tempdir().unwrap();
                    let store =
                        clientele_store_sqlite::SqliteStore::open(&dir.path().join("c.db"), StoreMetrics::default());
                    (Arc::new(store.unwrap()), Some(dir), None)
                }
            };
        let registry = Registry::new(store, TokenSettings::default(), MasterKey::generate()).await.unwrap();
        TestRegistry { registry, _dir: dir, schema }
    }

    /// A merchant, its first admin key, and who that key is.
    pub(crate) async fn merchant(&self, number: &str) -> (Merchant, IssuedKey, Principal) {
        let number = MerchantNumber::parse("number", number).unwrap();
        let (merchant, key) =
            self.registry.create_merchant(number, DisplayName::parse("name", "Shop").unwrap()).await.unwrap();
        let principal =
            Principal { key_id: key.key.id, owner: KeyOwner::Merchant { merchant: merchant.id, role: Role::Admin } };
        (merchant, key, principal)
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let Some((base, schema)) = self.schema.take() else { return };
        // Drop runs inside the test's runtime: the schema goes from a thread with its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&base).await?;
                sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&mut conn).await
            })
        })
        .join();
    }
}
