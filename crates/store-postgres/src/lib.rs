//! Clientele's PostgreSQL store, for when one machine is not enough: any number of stateless
//! server processes share one database.
//!
//! Every tenant table is keyed by `merchant_id` first, so the schema can be distributed by
//! merchant (Citus or another PostgreSQL-compatible engine) without change.

mod contracts;
mod listener;
mod payments;
mod pool;
mod rows;
mod users;

use std::future::Future;
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use time::{Duration, OffsetDateTime};

use clientele_domain::contract::{Contract, ContractId, ContractNumber};
use clientele_domain::credential::{ApiKey, ApiKeyId, KeyDigest, KeyOwner, StoredSigningKey};
use clientele_domain::interaction_point::{InteractionPoint, InteractionPointId};
use clientele_domain::merchant::{Merchant, MerchantId, MerchantNumber};
use clientele_domain::payment::{PaymentRequest, PaymentRequestId, PublicAccessGuid};
use clientele_domain::property::{PropertyDefinition, PropertyId};
use clientele_domain::user::{Origin, User, UserChange, UserId};
use clientele_store::{
    IdempotencyClaim, IdempotentAnswer, KeyFreshness, Lease, NewUserRecord, PageRequest, PaymentFilter,
    RevocationWatch, Store, StoreError, StoreMetrics, UserFilter, Violation, invariants,
};

use crate::listener::{Listener, REVOCATIONS, listen_for_revocations};
use crate::rows::store_error;

const BACKEND: &str = "postgres";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

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
        MIGRATOR.run(&service).await.map_err(StoreError::other)?;
        service.close().await;
        let listen_options = listener::listener_options(&options);
        let pool = pool::Pool::new(options, max_connections)?;
        Ok(PgStore { pool, listen_options, metrics, listener: Arc::default() })
    }

    /// Applies pending migrations to the database at `url` and returns how many ran.
    pub async fn migrate(url: &str) -> Result<usize, StoreError> {
        let pool =
            PgPoolOptions::new().max_connections(1).connect_with(options(url)?).await.map_err(StoreError::other)?;
        let before = applied(&pool).await;
        MIGRATOR.run(&pool).await.map_err(StoreError::other)?;
        let after = applied(&pool).await;
        pool.close().await;
        Ok(after.saturating_sub(before))
    }

    async fn timed<T>(
        &self,
        operation: &'static str,
        work: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let started = Instant::now();
        let result = work.await;
        let ok = !matches!(result, Err(StoreError::Other(_)));
        self.metrics.observe(BACKEND, operation, ok, started.elapsed());
        if let Err(StoreError::Other(error)) = &result {
            tracing::error!(store.operation = operation, error = %error, "store operation failed");
        }
        result
    }
}

async fn applied(pool: &PgPool) -> usize {
    // Before the first migration the table does not exist: nothing was applied.
    sqlx::query_scalar::<_, i64>("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(pool)
        .await
        .map_or(0, |n| usize::try_from(n).unwrap_or(0))
}

fn map_one<T>(row: sqlx::Result<PgRow>, map: fn(&PgRow) -> sqlx::Result<T>) -> Result<T, StoreError> {
    row.and_then(|row| map(&row)).map_err(store_error)
}

fn map_all<T>(rows: sqlx::Result<Vec<PgRow>>, map: fn(&PgRow) -> sqlx::Result<T>) -> Result<Vec<T>, StoreError> {
    rows.map_err(store_error)?.iter().map(|row| map(row).map_err(store_error)).collect()
}

async fn insert_api_key<'c>(executor: impl sqlx::PgExecutor<'c>, key: &ApiKey) -> Result<(), StoreError> {
    let merchant = match key.owner {
        KeyOwner::Platform => None,
        KeyOwner::Merchant { merchant, .. } => Some(merchant.as_uuid()),
    };
    sqlx::query(
        "INSERT INTO api_keys (id, merchant_id, role, name, prefix, digest, created_at, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(key.id.as_uuid())
    .bind(merchant)
    .bind(rows::role_name(&key.owner))
    .bind(key.name.as_ref().map(|n| n.as_str()))
    .bind(&key.prefix)
    .bind(key.digest.as_str())
    .bind(key.created_at)
    .bind(key.revoked_at)
    .execute(executor)
    .await
    .map(drop)
    .map_err(store_error)
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        BACKEND
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

    async fn ping(&self) -> Result<(), StoreError> {
        self.timed(
            "ping",
            self.pool
                .with(async |conn| sqlx::query("SELECT 1").execute(&mut *conn).await.map(drop).map_err(store_error)),
        )
        .await
    }

    async fn check_invariants(&self) -> Result<Vec<Violation>, StoreError> {
        self.timed(
            "check_invariants",
            self.pool.with(async |conn| {
                let mut violations = Vec::new();
                for invariant in invariants::invariants() {
                    let rows: i64 =
                        sqlx::query_scalar(&invariant.sql).fetch_one(&mut *conn).await.map_err(store_error)?;
                    if rows != 0 {
                        violations.push(Violation { name: invariant.name, rule: invariant.rule, rows });
                    }
                }
                Ok(violations)
            }),
        )
        .await
    }

    async fn create_merchant(&self, merchant: &Merchant, first_key: &ApiKey) -> Result<(), StoreError> {
        self.timed(
            "create_merchant",
            self.pool.with(async |conn| {
                let mut tx = conn.begin().await.map_err(store_error)?;
                sqlx::query("INSERT INTO merchants (id, number, name, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(merchant.id.as_uuid())
                    .bind(merchant.number.as_str())
                    .bind(merchant.name.as_str())
                    .bind(merchant.created_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(store_error)?;
                insert_api_key(&mut *tx, first_key).await?;
                tx.commit().await.map_err(store_error)
            }),
        )
        .await
    }

    async fn merchant(&self, id: MerchantId) -> Result<Merchant, StoreError> {
        let sql = format!("SELECT {} FROM merchants WHERE id = $1", rows::MERCHANT_COLUMNS);
        self.timed(
            "merchant",
            self.pool.with(async |conn| {
                map_one(sqlx::query(&sql).bind(id.as_uuid()).fetch_one(&mut *conn).await, rows::merchant)
            }),
        )
        .await
    }

    async fn merchant_by_number(&self, number: &MerchantNumber) -> Result<Merchant, StoreError> {
        let sql = format!("SELECT {} FROM merchants WHERE number = $1", rows::MERCHANT_COLUMNS);
        self.timed(
            "merchant_by_number",
            self.pool.with(async |conn| {
                map_one(sqlx::query(&sql).bind(number.as_str()).fetch_one(&mut *conn).await, rows::merchant)
            }),
        )
        .await
    }

    async fn set_strict_sa_id(&self, merchant: MerchantId, strict: bool) -> Result<Merchant, StoreError> {
        let sql = format!("UPDATE merchants SET strict_sa_id = $2 WHERE id = $1 RETURNING {}", rows::MERCHANT_COLUMNS);
        self.timed(
            "set_strict_sa_id",
            self.pool.with(async |conn| {
                map_one(
                    sqlx::query(&sql).bind(merchant.as_uuid()).bind(strict).fetch_one(&mut *conn).await,
                    rows::merchant,
                )
            }),
        )
        .await
    }

    async fn list_merchants(&self) -> Result<Vec<Merchant>, StoreError> {
        let sql = format!("SELECT {} FROM merchants ORDER BY created_at, id", rows::MERCHANT_COLUMNS);
        self.timed(
            "list_merchants",
            self.pool.with(async |conn| map_all(sqlx::query(&sql).fetch_all(&mut *conn).await, rows::merchant)),
        )
        .await
    }

    async fn create_api_key(&self, key: &ApiKey) -> Result<(), StoreError> {
        self.timed("create_api_key", self.pool.with(async |conn| insert_api_key(conn, key).await)).await
    }

    async fn api_key_by_digest(&self, digest: &KeyDigest) -> Result<ApiKey, StoreError> {
        let sql = format!("SELECT {} FROM api_keys WHERE digest = $1", rows::API_KEY_COLUMNS);
        self.timed(
            "api_key_by_digest",
            self.pool.with(async |conn| {
                map_one(sqlx::query(&sql).bind(digest.as_str()).fetch_one(&mut *conn).await, rows::api_key)
            }),
        )
        .await
    }

    async fn api_key(&self, id: ApiKeyId) -> Result<ApiKey, StoreError> {
        let sql = format!("SELECT {} FROM api_keys WHERE id = $1", rows::API_KEY_COLUMNS);
        self.timed(
            "api_key",
            self.pool.with(async |conn| {
                map_one(sqlx::query(&sql).bind(id.as_uuid()).fetch_one(&mut *conn).await, rows::api_key)
            }),
        )
        .await
    }

    async fn list_api_keys(&self, merchant: MerchantId) -> Result<Vec<ApiKey>, StoreError> {
        let sql =
            format!("SELECT {} FROM api_keys WHERE merchant_id = $1 ORDER BY created_at, id", rows::API_KEY_COLUMNS);
        self.timed(
            "list_api_keys",
            self.pool.with(async |conn| {
                map_all(sqlx::query(&sql).bind(merchant.as_uuid()).fetch_all(&mut *conn).await, rows::api_key)
            }),
        )
        .await
    }

    async fn revoke_api_key(
        &self,
        merchant: MerchantId,
        id: ApiKeyId,
        at: OffsetDateTime,
    ) -> Result<ApiKey, StoreError> {
        let sql = format!(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3)
             WHERE merchant_id = $1 AND id = $2 RETURNING {}",
            rows::API_KEY_COLUMNS
        );
        self.timed(
            "revoke_api_key",
            self.pool.with(async |conn| {
                // The announcement goes out when the revocation commits, and only then.
                let mut tx = conn.begin().await.map_err(store_error)?;
                let row =
                    sqlx::query(&sql).bind(merchant.as_uuid()).bind(id.as_uuid()).bind(at).fetch_one(&mut *tx).await;
                let key = map_one(row, rows::api_key)?;
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(REVOCATIONS)
                    .bind(key.id.to_string())
                    .execute(&mut *tx)
                    .await
                    .map_err(store_error)?;
                tx.commit().await.map_err(store_error)?;
                Ok(key)
            }),
        )
        .await
    }

    async fn signing_keys(&self) -> Result<Vec<StoredSigningKey>, StoreError> {
        self.timed(
            "signing_keys",
            self.pool.with(async |conn| {
                let rows =
                    sqlx::query("SELECT kid, secret, created_at FROM signing_keys ORDER BY created_at DESC, kid")
                        .fetch_all(&mut *conn)
                        .await;
                map_all(rows, rows::signing_key)
            }),
        )
        .await
    }

    async fn add_signing_key(&self, key: &StoredSigningKey) -> Result<(), StoreError> {
        self.timed(
            "add_signing_key",
            self.pool.with(async |conn| {
                sqlx::query("INSERT INTO signing_keys (kid, secret, created_at) VALUES ($1, $2, $3)")
                    .bind(&key.kid)
                    .bind(&key.stored)
                    .bind(key.created_at)
                    .execute(&mut *conn)
                    .await
                    .map(drop)
                    .map_err(store_error)
            }),
        )
        .await
    }

    async fn reseal_signing_key(&self, kid: &str, from: &[u8], to: &[u8]) -> Result<bool, StoreError> {
        self.timed(
            "reseal_signing_key",
            self.pool.with(async |conn| {
                sqlx::query("UPDATE signing_keys SET secret = $3 WHERE kid = $1 AND secret = $2")
                    .bind(kid)
                    .bind(from)
                    .bind(to)
                    .execute(&mut *conn)
                    .await
                    .map(|done| done.rows_affected() == 1)
                    .map_err(store_error)
            }),
        )
        .await
    }

    async fn create_interaction_point(&self, merchant: MerchantId, point: &InteractionPoint) -> Result<(), StoreError> {
        self.timed(
            "create_interaction_point",
            self.pool.with(async |conn| {
                sqlx::query(
                    "INSERT INTO interaction_points (merchant_id, id, name, active, created_at)
                 VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(merchant.as_uuid())
                .bind(point.id.as_str())
                .bind(point.name.as_str())
                .bind(point.active)
                .bind(point.created_at)
                .execute(&mut *conn)
                .await
                .map(drop)
                .map_err(store_error)
            }),
        )
        .await
    }

    async fn interaction_point(
        &self,
        merchant: MerchantId,
        id: &InteractionPointId,
    ) -> Result<InteractionPoint, StoreError> {
        let sql = format!(
            "SELECT {} FROM interaction_points WHERE merchant_id = $1 AND id = $2",
            rows::INTERACTION_POINT_COLUMNS
        );
        self.timed(
            "interaction_point",
            self.pool.with(async |conn| {
                let row = sqlx::query(&sql).bind(merchant.as_uuid()).bind(id.as_str()).fetch_one(&mut *conn).await;
                map_one(row, rows::interaction_point)
            }),
        )
        .await
    }

    async fn list_interaction_points(&self, merchant: MerchantId) -> Result<Vec<InteractionPoint>, StoreError> {
        let sql = format!(
            "SELECT {} FROM interaction_points WHERE merchant_id = $1 ORDER BY id",
            rows::INTERACTION_POINT_COLUMNS
        );
        self.timed(
            "list_interaction_points",
            self.pool.with(async |conn| {
                map_all(sqlx::query(&sql).bind(merchant.as_uuid()).fetch_all(&mut *conn).await, rows::interaction_point)
            }),
        )
        .await
    }

    async fn deactivate_interaction_point(
        &self,
        merchant: MerchantId,
        id: &InteractionPointId,
    ) -> Result<InteractionPoint, StoreError> {
        let sql = format!(
            "UPDATE interaction_points SET active = false WHERE merchant_id = $1 AND id = $2 RETURNING {}",
            rows::INTERACTION_POINT_COLUMNS
        );
        self.timed(
            "deactivate_interaction_point",
            self.pool.with(async |conn| {
                let row = sqlx::query(&sql).bind(merchant.as_uuid()).bind(id.as_str()).fetch_one(&mut *conn).await;
                map_one(row, rows::interaction_point)
            }),
        )
        .await
    }

    async fn create_property(&self, merchant: MerchantId, property: &PropertyDefinition) -> Result<(), StoreError> {
        self.timed(
            "create_property",
            self.pool.with(async |conn| {
                sqlx::query(
                    "INSERT INTO property_definitions (merchant_id, id, name, value_type, active, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(merchant.as_uuid())
                .bind(property.id.as_uuid())
                .bind(property.name.as_str())
                .bind(property.value_type.as_str())
                .bind(property.active)
                .bind(property.created_at)
                .execute(&mut *conn)
                .await
                .map(drop)
                .map_err(store_error)
            }),
        )
        .await
    }

    async fn list_properties(&self, merchant: MerchantId) -> Result<Vec<PropertyDefinition>, StoreError> {
        let sql = format!(
            "SELECT {} FROM property_definitions WHERE merchant_id = $1 ORDER BY created_at, id",
            rows::PROPERTY_COLUMNS
        );
        self.timed(
            "list_properties",
            self.pool.with(async |conn| {
                map_all(sqlx::query(&sql).bind(merchant.as_uuid()).fetch_all(&mut *conn).await, rows::property)
            }),
        )
        .await
    }

    async fn deactivate_property(
        &self,
        merchant: MerchantId,
        id: PropertyId,
    ) -> Result<PropertyDefinition, StoreError> {
        let sql = format!(
            "UPDATE property_definitions SET active = false WHERE merchant_id = $1 AND id = $2 RETURNING {}",
            rows::PROPERTY_COLUMNS
        );
        self.timed(
            "deactivate_property",
            self.pool.with(async |conn| {
                let row = sqlx::query(&sql).bind(merchant.as_uuid()).bind(id.as_uuid()).fetch_one(&mut *conn).await;
                map_one(row, rows::property)
            }),
        )
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
        self.timed(
            "create_user",
            self.pool.with(async |conn| {
                if contract.is_none() && answer.is_none() && users::creates_in_one_statement(user) {
                    // One statement is atomic by itself: no BEGIN and COMMIT round trips.
                    return users::create(conn, merchant, user, origin).await;
                }
                let mut tx = conn.begin().await.map_err(store_error)?;
                users::create(&mut tx, merchant, user, origin).await?;
                if let Some(contract) = contract {
                    contracts::insert(&mut tx, merchant, contract).await?;
                }
                if let Some(answer) = answer {
                    users::complete(&mut tx, merchant, answer).await?;
                }
                tx.commit().await.map_err(store_error)
            }),
        )
        .await
    }

    async fn user(&self, merchant: MerchantId, id: UserId) -> Result<User, StoreError> {
        self.timed("user", self.pool.with(async |conn| users::get(conn, merchant, id).await)).await
    }

    async fn update_user(
        &self,
        merchant: MerchantId,
        user: &User,
        expected_version: i64,
        origin: &Origin,
        answer: Option<&IdempotentAnswer>,
    ) -> Result<(), StoreError> {
        self.timed(
            "update_user",
            self.pool.with(async |conn| {
                let Some(answer) = answer else {
                    // One statement is atomic by itself: no BEGIN and COMMIT round trips.
                    return users::update(conn, merchant, user, expected_version, origin).await;
                };
                let mut tx = conn.begin().await.map_err(store_error)?;
                users::update(&mut tx, merchant, user, expected_version, origin).await?;
                users::complete(&mut tx, merchant, answer).await?;
                tx.commit().await.map_err(store_error)
            }),
        )
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
        self.timed(
            "erase_user",
            self.pool.with(async |conn| {
                let mut tx = conn.begin().await.map_err(store_error)?;
                users::erase(&mut tx, merchant, id, expected_version, origin, at).await?;
                tx.commit().await.map_err(store_error)
            }),
        )
        .await
    }

    async fn user_changes(&self, merchant: MerchantId, id: UserId) -> Result<Vec<UserChange>, StoreError> {
        self.timed("user_changes", self.pool.with(async |conn| users::changes(conn, merchant, id).await)).await
    }

    async fn list_users(
        &self,
        merchant: MerchantId,
        filter: &UserFilter,
        page: PageRequest,
    ) -> Result<Vec<User>, StoreError> {
        self.timed("list_users", self.pool.with(async |conn| users::list(conn, merchant, filter, page).await)).await
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
        self.timed(
            "claim_idempotency_key",
            self.pool.with(async |conn| {
                let mut tx = conn.begin().await.map_err(store_error)?;
                let claim = users::claim(&mut tx, merchant, key, fingerprint, now, lease, retention).await?;
                tx.commit().await.map_err(store_error)?;
                Ok(claim)
            }),
        )
        .await
    }

    async fn release_idempotency_key(&self, merchant: MerchantId, key: &str, lease: &Lease) -> Result<(), StoreError> {
        self.timed(
            "release_idempotency_key",
            self.pool.with(async |conn| users::release(conn, merchant, key, lease).await),
        )
        .await
    }

    async fn purge_idempotency_keys(
        &self,
        merchant: MerchantId,
        before: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, StoreError> {
        self.timed(
            "purge_idempotency_keys",
            self.pool.with(async |conn| users::purge(conn, merchant, before, limit).await),
        )
        .await
    }

    async fn complete_idempotency_key(
        &self,
        merchant: MerchantId,
        answer: &IdempotentAnswer,
    ) -> Result<(), StoreError> {
        self.timed(
            "complete_idempotency_key",
            self.pool.with(async |conn| users::complete(conn, merchant, answer).await),
        )
        .await
    }

    async fn create_users(
        &self,
        merchant: MerchantId,
        items: &[NewUserRecord],
        origin: &Origin,
    ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        self.timed(
            "create_users",
            self.pool.with(async |conn| {
                // One transaction, one savepoint per item: a failing item is rolled back alone.
                let mut tx = conn.begin().await.map_err(store_error)?;
                let mut results = Vec::with_capacity(items.len());
                for item in items {
                    sqlx::query("SAVEPOINT item").execute(&mut *tx).await.map_err(store_error)?;
                    let mut result = users::create(&mut tx, merchant, &item.user, origin).await;
                    if let (Ok(()), Some(contract)) = (&result, &item.contract) {
                        result = contracts::insert(&mut tx, merchant, contract).await;
                    }
                    let end = if result.is_ok() { "RELEASE SAVEPOINT item" } else { "ROLLBACK TO SAVEPOINT item" };
                    sqlx::query(end).execute(&mut *tx).await.map_err(store_error)?;
                    if let Err(StoreError::Other(error)) = result {
                        return Err(StoreError::Other(error));
                    }
                    results.push(result);
                }
                tx.commit().await.map_err(store_error)?;
                Ok(results)
            }),
        )
        .await
    }

    async fn create_contract(&self, merchant: MerchantId, contract: &Contract) -> Result<(), StoreError> {
        self.timed("create_contract", self.pool.with(async |conn| contracts::insert(conn, merchant, contract).await))
            .await
    }

    async fn contract(&self, merchant: MerchantId, id: ContractId) -> Result<Contract, StoreError> {
        self.timed("contract", self.pool.with(async |conn| contracts::get(conn, merchant, id).await)).await
    }

    async fn contract_by_number(&self, merchant: MerchantId, number: &ContractNumber) -> Result<Contract, StoreError> {
        self.timed(
            "contract_by_number",
            self.pool.with(async |conn| contracts::by_number(conn, merchant, number.as_str()).await),
        )
        .await
    }

    async fn contracts_of_user(&self, merchant: MerchantId, user: UserId) -> Result<Vec<Contract>, StoreError> {
        self.timed("contracts_of_user", self.pool.with(async |conn| contracts::of_user(conn, merchant, user).await))
            .await
    }

    async fn update_contract(
        &self,
        merchant: MerchantId,
        contract: &Contract,
        expected_version: i64,
    ) -> Result<(), StoreError> {
        self.timed(
            "update_contract",
            self.pool.with(async |conn| contracts::update(conn, merchant, contract, expected_version).await),
        )
        .await
    }

    async fn next_call_sequence(&self, merchant: MerchantId) -> Result<i64, StoreError> {
        self.timed(
            "next_call_sequence",
            self.pool.with(async |conn| contracts::next_call_sequence(conn, merchant).await),
        )
        .await
    }

    async fn create_payment_request(
        &self,
        merchant: MerchantId,
        request: &PaymentRequest,
        new_user: Option<&User>,
        origin: &Origin,
        answer: Option<&IdempotentAnswer>,
    ) -> Result<(), StoreError> {
        self.timed(
            "create_payment_request",
            self.pool.with(async |conn| {
                if new_user.is_none() && answer.is_none() {
                    // One statement is atomic by itself: no BEGIN and COMMIT round trips.
                    return payments::create(conn, merchant, request).await;
                }
                let mut tx = conn.begin().await.map_err(store_error)?;
                if let Some(user) = new_user {
                    users::create(&mut tx, merchant, user, origin).await?;
                }
                payments::create(&mut tx, merchant, request).await?;
                if let Some(answer) = answer {
                    users::complete(&mut tx, merchant, answer).await?;
                }
                tx.commit().await.map_err(store_error)
            }),
        )
        .await
    }

    async fn payment_request(&self, merchant: MerchantId, id: PaymentRequestId) -> Result<PaymentRequest, StoreError> {
        self.timed("payment_request", self.pool.with(async |conn| payments::get(conn, merchant, id).await)).await
    }

    async fn payment_request_by_invoice(
        &self,
        merchant: MerchantId,
        invoice: &str,
    ) -> Result<PaymentRequest, StoreError> {
        self.timed(
            "payment_request_by_invoice",
            self.pool.with(async |conn| payments::by_invoice(conn, merchant, invoice).await),
        )
        .await
    }

    async fn resolve_public_link(&self, guid: PublicAccessGuid) -> Result<(MerchantId, PaymentRequestId), StoreError> {
        self.timed("resolve_public_link", self.pool.with(async |conn| payments::resolve(conn, guid).await)).await
    }

    async fn list_payment_requests(
        &self,
        merchant: MerchantId,
        filter: &PaymentFilter,
    ) -> Result<Vec<PaymentRequest>, StoreError> {
        self.timed("list_payment_requests", self.pool.with(async |conn| payments::list(conn, merchant, filter).await))
            .await
    }

    async fn update_payment_request(
        &self,
        merchant: MerchantId,
        request: &PaymentRequest,
        expected_version: i64,
    ) -> Result<(), StoreError> {
        self.timed(
            "update_payment_request",
            self.pool.with(async |conn| payments::update(conn, merchant, request, expected_version).await),
        )
        .await
    }
}
