//! Clientele's embedded store: one SQLite file in WAL mode, one writer thread that commits
//! concurrent writes together, and a pool of readers that never wait for it.

mod connect;
mod contracts;
mod migrate;
mod payments;
mod pool;
mod rows;
mod users;
mod writer;

use std::path::{Path, PathBuf};
use std::time::Instant;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension as _, params};
use time::{Duration, OffsetDateTime};

use clientele_domain::contract::{Contract, ContractId, ContractNumber};
use clientele_domain::credential::{ApiKey, ApiKeyId, KeyDigest, StoredSigningKey};
use clientele_domain::interaction_point::{InteractionPoint, InteractionPointId};
use clientele_domain::merchant::{Merchant, MerchantId, MerchantNumber};
use clientele_domain::payment::{PaymentRequest, PaymentRequestId, PublicAccessGuid};
use clientele_domain::property::{PropertyDefinition, PropertyId};
use clientele_domain::user::{Origin, User, UserChange, UserId};
use clientele_store::{
    IdempotencyClaim, IdempotentAnswer, KeyFreshness, Lease, NewUserRecord, PageRequest, PaymentFilter,
    RevocationWatch, Store, StoreError, StoreMetrics, UserFilter, Violation, invariants,
};

use crate::pool::ReaderPool;
use crate::rows::{micros, store_error};
use crate::writer::Writer;

const BACKEND: &str = "sqlite";

/// The SQLite store. Open it with [`SqliteStore::open`].
#[derive(Debug)]
pub struct SqliteStore {
    writer: Writer,
    readers: ReaderPool,
    metrics: StoreMetrics,
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
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(StoreError::other)?;
        }
        let mut conn = connect::writer(path).map_err(StoreError::other)?;
        migrate::run(&mut conn).map_err(StoreError::other)?;
        Ok(SqliteStore {
            writer: Writer::start(conn).map_err(StoreError::other)?,
            readers: ReaderPool::new(path.to_owned()),
            metrics,
        })
    }

    /// Applies pending migrations to the database at `path` and returns how many ran.
    pub fn migrate(path: &Path) -> Result<usize, StoreError> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(StoreError::other)?;
        }
        let mut conn = connect::writer(path).map_err(StoreError::other)?;
        migrate::run(&mut conn).map_err(StoreError::other)
    }

    fn read<T>(
        &self,
        operation: &'static str,
        read: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let started = Instant::now();
        let result = self.readers.with(read);
        self.observe(operation, &result, started);
        result
    }

    /// A read that is one statement checking the fence itself (see
    /// [`ReaderPool::with_statement`]).
    fn read_statement<T>(
        &self,
        operation: &'static str,
        read: impl FnOnce(&Connection, &pool::StatementFence) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let started = Instant::now();
        let result = self.readers.with_statement(read);
        self.observe(operation, &result, started);
        result
    }

    async fn write<T: Send + 'static>(
        &self,
        operation: &'static str,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let started = Instant::now();
        let result = self.writer.write(work).await;
        self.observe(operation, &result, started);
        result
    }

    fn observe<T>(&self, operation: &'static str, result: &Result<T, StoreError>, started: Instant) {
        let ok = !matches!(result, Err(StoreError::Other(_)));
        self.metrics.observe(BACKEND, operation, ok, started.elapsed());
        if let Err(StoreError::Other(error)) = result {
            tracing::error!(store.operation = operation, error = %error, "store operation failed");
        }
    }
}

/// Checks, inside the open transaction, that the fenced key of the request (see
/// [`fence`](clientele_store::fence))
/// is still active. Nothing to check when the request's key was read from the database.
pub(crate) fn check_fence(conn: &Connection, key: Option<ApiKeyId>) -> Result<(), StoreError> {
    let Some(key) = key else {
        return Ok(());
    };
    let active: Option<bool> = conn
        .prepare_cached("SELECT revoked_at IS NULL FROM api_keys INDEXED BY api_keys_revocation WHERE id = ?1")
        .and_then(|mut statement| statement.query_row([key.to_string()], |row| row.get(0)).optional())
        .map_err(StoreError::other)?;
    match active {
        Some(true) => Ok(()),
        Some(false) | None => Err(StoreError::KeyRevoked),
    }
}

/// Runs a query expected to return exactly one row.
fn one<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    map: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<T, StoreError> {
    let mut statement = conn.prepare_cached(sql).map_err(store_error)?;
    statement.query_row(params, map).map_err(store_error)
}

/// Runs a query returning any number of rows.
fn all<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, StoreError> {
    let mut statement = conn.prepare_cached(sql).map_err(store_error)?;
    let rows = statement.query_map(params, map).map_err(store_error)?;
    rows.collect::<rusqlite::Result<Vec<T>>>().map_err(store_error)
}

fn execute(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<usize, StoreError> {
    let mut statement = conn.prepare_cached(sql).map_err(store_error)?;
    statement.execute(params).map_err(store_error)
}

fn insert_api_key(conn: &Connection, key: &ApiKey) -> Result<(), StoreError> {
    let merchant = match key.owner {
        clientele_domain::credential::KeyOwner::Platform => None,
        clientele_domain::credential::KeyOwner::Merchant { merchant, .. } => Some(merchant.to_string()),
    };
    execute(
        conn,
        "INSERT INTO api_keys (id, merchant_id, role, name, prefix, digest, created_at, revoked_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            key.id.to_string(),
            merchant,
            rows::role_name(&key.owner),
            key.name.as_ref().map(|n| n.as_str().to_owned()),
            key.prefix,
            key.digest.as_str(),
            micros(key.created_at),
            key.revoked_at.map(micros),
        ],
    )
    .map(drop)
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    /// Every read and write transaction checks the request's fenced key itself: a key row
    /// from a cache needs nothing else, whichever process revoked it.
    fn watch_revocations(&self, _watch: std::sync::Arc<dyn RevocationWatch>) -> KeyFreshness {
        KeyFreshness::Fenced
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read("ping", |conn| one(conn, "SELECT 1", [], |row| row.get::<_, i64>(0)).map(drop))
    }

    async fn check_invariants(&self) -> Result<Vec<Violation>, StoreError> {
        self.read("check_invariants", |conn| {
            let mut violations = Vec::new();
            let integrity = all(conn, "PRAGMA integrity_check", [], |row| row.get::<_, String>(0))?;
            if integrity != ["ok"] {
                violations.push(Violation {
                    name: "sqlite.integrity_check".to_owned(),
                    rule: format!("PRAGMA integrity_check answers ok, not: {}", integrity.join("; ")),
                    rows: i64::try_from(integrity.len()).unwrap_or(i64::MAX),
                });
            }
            let dangling = all(conn, "PRAGMA foreign_key_check", [], |row| row.get::<_, String>(0))?;
            if !dangling.is_empty() {
                violations.push(Violation {
                    name: "sqlite.foreign_key_check".to_owned(),
                    rule: format!("every foreign key holds; broken in: {}", dangling.join(", ")),
                    rows: i64::try_from(dangling.len()).unwrap_or(i64::MAX),
                });
            }
            for invariant in invariants::invariants() {
                let rows = one(conn, &invariant.sql, [], |row| row.get::<_, i64>(0))?;
                if rows != 0 {
                    violations.push(Violation { name: invariant.name, rule: invariant.rule, rows });
                }
            }
            Ok(violations)
        })
    }

    async fn create_merchant(&self, merchant: &Merchant, first_key: &ApiKey) -> Result<(), StoreError> {
        let (merchant, key) = (merchant.clone(), first_key.clone());
        self.write("create_merchant", move |conn| {
            execute(
                conn,
                "INSERT INTO merchants (id, number, name, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![
                    merchant.id.to_string(),
                    merchant.number.as_str(),
                    merchant.name.as_str(),
                    micros(merchant.created_at)
                ],
            )?;
            insert_api_key(conn, &key)
        })
        .await
    }

    async fn merchant(&self, id: MerchantId) -> Result<Merchant, StoreError> {
        let sql = format!("SELECT {} FROM merchants WHERE id = ?1", rows::MERCHANT_COLUMNS);
        self.read("merchant", |conn| one(conn, &sql, [id.to_string()], rows::merchant))
    }

    async fn merchant_by_number(&self, number: &MerchantNumber) -> Result<Merchant, StoreError> {
        let sql = format!("SELECT {} FROM merchants WHERE number = ?1", rows::MERCHANT_COLUMNS);
        self.read("merchant_by_number", |conn| one(conn, &sql, [number.as_str()], rows::merchant))
    }

    async fn set_strict_sa_id(&self, merchant: MerchantId, strict: bool) -> Result<Merchant, StoreError> {
        let sql = format!("UPDATE merchants SET strict_sa_id = ?2 WHERE id = ?1 RETURNING {}", rows::MERCHANT_COLUMNS);
        self.write("set_strict_sa_id", move |conn| {
            one(conn, &sql, params![merchant.to_string(), strict], rows::merchant)
        })
        .await
    }

    async fn list_merchants(&self) -> Result<Vec<Merchant>, StoreError> {
        let sql = format!("SELECT {} FROM merchants ORDER BY created_at, id", rows::MERCHANT_COLUMNS);
        self.read("list_merchants", |conn| all(conn, &sql, [], rows::merchant))
    }

    async fn create_api_key(&self, key: &ApiKey) -> Result<(), StoreError> {
        let key = key.clone();
        self.write("create_api_key", move |conn| insert_api_key(conn, &key)).await
    }

    async fn api_key_by_digest(&self, digest: &KeyDigest) -> Result<ApiKey, StoreError> {
        let sql = format!("SELECT {} FROM api_keys WHERE digest = ?1", rows::API_KEY_COLUMNS);
        self.read("api_key_by_digest", |conn| one(conn, &sql, [digest.as_str()], rows::api_key))
    }

    async fn api_key(&self, id: ApiKeyId) -> Result<ApiKey, StoreError> {
        let sql = format!("SELECT {} FROM api_keys WHERE id = ?1", rows::API_KEY_COLUMNS);
        self.read("api_key", |conn| one(conn, &sql, [id.to_string()], rows::api_key))
    }

    async fn list_api_keys(&self, merchant: MerchantId) -> Result<Vec<ApiKey>, StoreError> {
        let sql =
            format!("SELECT {} FROM api_keys WHERE merchant_id = ?1 ORDER BY created_at, id", rows::API_KEY_COLUMNS);
        self.read("list_api_keys", |conn| all(conn, &sql, [merchant.to_string()], rows::api_key))
    }

    async fn revoke_api_key(
        &self,
        merchant: MerchantId,
        id: ApiKeyId,
        at: OffsetDateTime,
    ) -> Result<ApiKey, StoreError> {
        let sql = format!(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?3)
             WHERE merchant_id = ?1 AND id = ?2 RETURNING {}",
            rows::API_KEY_COLUMNS
        );
        self.write("revoke_api_key", move |conn| {
            one(conn, &sql, params![merchant.to_string(), id.to_string(), micros(at)], rows::api_key)
        })
        .await
    }

    async fn signing_keys(&self) -> Result<Vec<StoredSigningKey>, StoreError> {
        self.read("signing_keys", |conn| {
            all(
                conn,
                "SELECT kid, secret, created_at FROM signing_keys ORDER BY created_at DESC, kid",
                [],
                rows::signing_key,
            )
        })
    }

    async fn add_signing_key(&self, key: &StoredSigningKey) -> Result<(), StoreError> {
        let key = key.clone();
        self.write("add_signing_key", move |conn| {
            execute(
                conn,
                "INSERT INTO signing_keys (kid, secret, created_at) VALUES (?1, ?2, ?3)",
                params![key.kid, key.stored, micros(key.created_at)],
            )
            .map(drop)
        })
        .await
    }

    async fn reseal_signing_key(&self, kid: &str, from: &[u8], to: &[u8]) -> Result<bool, StoreError> {
        let (kid, from, to) = (kid.to_owned(), from.to_vec(), to.to_vec());
        self.write("reseal_signing_key", move |conn| {
            execute(conn, "UPDATE signing_keys SET secret = ?3 WHERE kid = ?1 AND secret = ?2", params![kid, from, to])
                .map(|changed| changed == 1)
        })
        .await
    }

    async fn create_interaction_point(&self, merchant: MerchantId, point: &InteractionPoint) -> Result<(), StoreError> {
        let point = point.clone();
        self.write("create_interaction_point", move |conn| {
            execute(
                conn,
                "INSERT INTO interaction_points (merchant_id, id, name, active, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    merchant.to_string(),
                    point.id.as_str(),
                    point.name.as_str(),
                    point.active,
                    micros(point.created_at)
                ],
            )
            .map(drop)
        })
        .await
    }

    async fn interaction_point(
        &self,
        merchant: MerchantId,
        id: &InteractionPointId,
    ) -> Result<InteractionPoint, StoreError> {
        // Every Convercus request, and every payment request naming a till, looks its point
        // up: one statement, checking the fence itself, like a user read.
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!(
                "SELECT {}, {} FROM interaction_points WHERE merchant_id = ?1 AND id = ?2",
                rows::INTERACTION_POINT_COLUMNS,
                pool::fence_column(3)
            )
        });
        self.read_statement("interaction_point", |conn, fence| {
            one(conn, &SQL, params![merchant.text().as_str(), id.as_str(), fence.key()], |row| {
                fence.saw(row, rows::INTERACTION_POINT_FENCE_INDEX)?;
                rows::interaction_point(row)
            })
        })
    }

    async fn list_interaction_points(&self, merchant: MerchantId) -> Result<Vec<InteractionPoint>, StoreError> {
        let sql = format!(
            "SELECT {} FROM interaction_points WHERE merchant_id = ?1 ORDER BY id",
            rows::INTERACTION_POINT_COLUMNS
        );
        self.read("list_interaction_points", |conn| all(conn, &sql, [merchant.to_string()], rows::interaction_point))
    }

    async fn deactivate_interaction_point(
        &self,
        merchant: MerchantId,
        id: &InteractionPointId,
    ) -> Result<InteractionPoint, StoreError> {
        let sql = format!(
            "UPDATE interaction_points SET active = 0 WHERE merchant_id = ?1 AND id = ?2 RETURNING {}",
            rows::INTERACTION_POINT_COLUMNS
        );
        let id = id.as_str().to_owned();
        self.write("deactivate_interaction_point", move |conn| {
            one(conn, &sql, params![merchant.to_string(), id], rows::interaction_point)
        })
        .await
    }

    async fn create_property(&self, merchant: MerchantId, property: &PropertyDefinition) -> Result<(), StoreError> {
        let property = property.clone();
        self.write("create_property", move |conn| {
            execute(
                conn,
                "INSERT INTO property_definitions (merchant_id, id, name, value_type, active, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    merchant.to_string(),
                    property.id.to_string(),
                    property.name.as_str(),
                    property.value_type.as_str(),
                    property.active,
                    micros(property.created_at)
                ],
            )
            .map(drop)
        })
        .await
    }

    async fn list_properties(&self, merchant: MerchantId) -> Result<Vec<PropertyDefinition>, StoreError> {
        let sql = format!(
            "SELECT {} FROM property_definitions WHERE merchant_id = ?1 ORDER BY created_at, id",
            rows::PROPERTY_COLUMNS
        );
        self.read("list_properties", |conn| all(conn, &sql, [merchant.to_string()], rows::property))
    }

    async fn deactivate_property(
        &self,
        merchant: MerchantId,
        id: PropertyId,
    ) -> Result<PropertyDefinition, StoreError> {
        let sql = format!(
            "UPDATE property_definitions SET active = 0 WHERE merchant_id = ?1 AND id = ?2 RETURNING {}",
            rows::PROPERTY_COLUMNS
        );
        self.write("deactivate_property", move |conn| {
            one(conn, &sql, params![merchant.to_string(), id.to_string()], rows::property)
        })
        .await
    }

    async fn create_user(
        &self,
        merchant: MerchantId,
        user: &User,
        contract: Option<&Contract>,
        origin: &Origin,
        answer: Option<&IdempotentAnswer>,
    ) -> Result<(), StoreError> {
        let (user, contract, origin, answer) = (user.clone(), contract.cloned(), origin.clone(), answer.cloned());
        self.write("create_user", move |conn| {
            users::create(conn, merchant, &user, &origin, None)?;
            if let Some(contract) = &contract {
                contracts::insert(conn, merchant, contract)?;
            }
            answer.as_ref().map_or(Ok(()), |answer| users::complete(conn, merchant, answer))
        })
        .await
    }

    async fn user(&self, merchant: MerchantId, id: UserId) -> Result<User, StoreError> {
        self.read_statement("user", |conn, fence| users::get(conn, fence, merchant, id))
    }

    async fn update_user(
        &self,
        merchant: MerchantId,
        user: &User,
        expected_version: i64,
        origin: &Origin,
        answer: Option<&IdempotentAnswer>,
    ) -> Result<(), StoreError> {
        let (user, origin, answer) = (user.clone(), origin.clone(), answer.cloned());
        self.write("update_user", move |conn| {
            users::update(conn, merchant, &user, expected_version, &origin, answer.as_ref())
        })
        .await
    }

    async fn erase_user(
        &self,
        merchant: MerchantId,
        id: UserId,
        expected_version: Option<i64>,
        origin: &Origin,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let origin = origin.clone();
        self.write("erase_user", move |conn| users::erase(conn, merchant, id, expected_version, &origin, at)).await
    }

    async fn user_changes(&self, merchant: MerchantId, id: UserId) -> Result<Vec<UserChange>, StoreError> {
        self.read("user_changes", |conn| users::changes(conn, merchant, id))
    }

    async fn list_users(
        &self,
        merchant: MerchantId,
        filter: &UserFilter,
        page: PageRequest,
    ) -> Result<Vec<User>, StoreError> {
        self.read_statement("list_users", |conn, fence| users::list(conn, fence, merchant, filter, page))
    }

    async fn claim_idempotency_key(
        &self,
        merchant: MerchantId,
        key: &str,
        fingerprint: &str,
        now: OffsetDateTime,
        lease: Duration,
        retention: Duration,
    ) -> Result<IdempotencyClaim, StoreError> {
        let (key, fingerprint) = (key.to_owned(), fingerprint.to_owned());
        self.write("claim_idempotency_key", move |conn| {
            users::claim(conn, merchant, &key, &fingerprint, now, lease, retention)
        })
        .await
    }

    async fn release_idempotency_key(&self, merchant: MerchantId, key: &str, lease: &Lease) -> Result<(), StoreError> {
        let (key, lease) = (key.to_owned(), lease.clone());
        self.write("release_idempotency_key", move |conn| users::release(conn, merchant, &key, &lease)).await
    }

    async fn purge_idempotency_keys(
        &self,
        merchant: MerchantId,
        before: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, StoreError> {
        self.write("purge_idempotency_keys", move |conn| users::purge(conn, merchant, before, limit)).await
    }

    async fn complete_idempotency_key(
        &self,
        merchant: MerchantId,
        answer: &IdempotentAnswer,
    ) -> Result<(), StoreError> {
        let answer = answer.clone();
        self.write("complete_idempotency_key", move |conn| users::complete(conn, merchant, &answer)).await
    }

    async fn create_users(
        &self,
        merchant: MerchantId,
        items: &[NewUserRecord],
        origin: &Origin,
    ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        // Each item is a write of its own; the writer commits them together, each in its
        // own savepoint, so a failing item leaves the others untouched.
        let started = Instant::now();
        let writes = items.iter().map(|item| {
            let (item, origin) = (item.clone(), origin.clone());
            self.writer.write(move |conn| {
                users::create(conn, merchant, &item.user, &origin, None)?;
                item.contract.as_ref().map_or(Ok(()), |contract| contracts::insert(conn, merchant, contract))
            })
        });
        let results = futures::future::join_all(writes).await;
        let failed = results.iter().any(|r| matches!(r, Err(StoreError::Other(_))));
        self.metrics.observe(BACKEND, "create_users", !failed, started.elapsed());
        Ok(results)
    }

    async fn create_contract(&self, merchant: MerchantId, contract: &Contract) -> Result<(), StoreError> {
        let contract = contract.clone();
        self.write("create_contract", move |conn| contracts::insert(conn, merchant, &contract)).await
    }

    async fn contract(&self, merchant: MerchantId, id: ContractId) -> Result<Contract, StoreError> {
        self.read("contract", |conn| contracts::get(conn, merchant, id))
    }

    async fn contract_by_number(&self, merchant: MerchantId, number: &ContractNumber) -> Result<Contract, StoreError> {
        self.read("contract_by_number", |conn| contracts::by_number(conn, merchant, number.as_str()))
    }

    async fn contracts_of_user(&self, merchant: MerchantId, user: UserId) -> Result<Vec<Contract>, StoreError> {
        self.read("contracts_of_user", |conn| contracts::of_user(conn, merchant, user))
    }

    async fn update_contract(
        &self,
        merchant: MerchantId,
        contract: &Contract,
        expected_version: i64,
    ) -> Result<(), StoreError> {
        let contract = contract.clone();
        self.write("update_contract", move |conn| contracts::update(conn, merchant, &contract, expected_version)).await
    }

    async fn next_call_sequence(&self, merchant: MerchantId) -> Result<i64, StoreError> {
        self.write("next_call_sequence", move |conn| contracts::next_call_sequence(conn, merchant)).await
    }

    async fn create_payment_request(
        &self,
        merchant: MerchantId,
        request: &PaymentRequest,
        new_user: Option<&User>,
        origin: &Origin,
        answer: Option<&IdempotentAnswer>,
    ) -> Result<(), StoreError> {
        let (request, user, origin, answer) = (request.clone(), new_user.cloned(), origin.clone(), answer.cloned());
        self.write("create_payment_request", move |conn| {
            if let Some(user) = &user {
                users::create(conn, merchant, user, &origin, None)?;
            }
            payments::create(conn, merchant, &request)?;
            answer.as_ref().map_or(Ok(()), |answer| users::complete(conn, merchant, answer))
        })
        .await
    }

    async fn payment_request(&self, merchant: MerchantId, id: PaymentRequestId) -> Result<PaymentRequest, StoreError> {
        self.read("payment_request", |conn| payments::get(conn, merchant, id))
    }

    async fn payment_request_by_invoice(
        &self,
        merchant: MerchantId,
        invoice: &str,
    ) -> Result<PaymentRequest, StoreError> {
        self.read("payment_request_by_invoice", |conn| payments::by_invoice(conn, merchant, invoice))
    }

    async fn resolve_public_link(&self, guid: PublicAccessGuid) -> Result<(MerchantId, PaymentRequestId), StoreError> {
        self.read("resolve_public_link", |conn| payments::resolve(conn, guid))
    }

    async fn list_payment_requests(
        &self,
        merchant: MerchantId,
        filter: &PaymentFilter,
    ) -> Result<Vec<PaymentRequest>, StoreError> {
        self.read("list_payment_requests", |conn| payments::list(conn, merchant, filter))
    }

    async fn update_payment_request(
        &self,
        merchant: MerchantId,
        request: &PaymentRequest,
        expected_version: i64,
    ) -> Result<(), StoreError> {
        let request = request.clone();
        self.write("update_payment_request", move |conn| payments::update(conn, merchant, &request, expected_version))
            .await
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
