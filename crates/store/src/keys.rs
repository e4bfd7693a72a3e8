//! Idempotency keys: claimed under a lease, completed with their answer in the transaction
//! of the work they answer for, released when the work failed, purged after their retention.
//! The decision a claim makes is [`crate::decide`]; this carries it out.

use async_trait::async_trait;
use futures::FutureExt as _;
use time::{Duration, OffsetDateTime};

use clientele_domain::merchant::MerchantId;

use crate::at;
use crate::backend::{Backend, Db, timed, work, write_statement};
use crate::schema::IDEMPOTENCY_KEYS;
use crate::sql::{DecodeError, Row, Sql, Value, statement};
use crate::{Decision, IdempotencyClaim, IdempotentAnswer, KeyRow, Lease, StoreError, StoredResponse};

/// Idempotency keys.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` for a request with this `fingerprint` (see [`crate::decide`]). A key
    /// older than `retention` counts as unused; a claim not completed within `lease` (its
    /// process died) may be taken over, under a new [`Lease`].
    async fn claim_idempotency_key(
        &self,
        merchant: MerchantId,
        key: &str,
        fingerprint: &str,
        now: OffsetDateTime,
        lease: Duration,
        retention: Duration,
    ) -> Result<IdempotencyClaim, StoreError>;

    /// Gives up a claim whose work failed without changing anything, so the request can
    /// be tried again with the same key. A claim taken over by another request (another
    /// lease) is left alone.
    async fn release_idempotency_key(&self, merchant: MerchantId, key: &str, lease: &Lease) -> Result<(), StoreError>;

    /// Completes a claim with its answer outside any other write (an answer to a request
    /// that changed nothing but must still be repeated as it was). Like completing it with
    /// a write, this fails with [`StoreError::LeaseLost`] when the claim is no longer the
    /// answer's lease.
    async fn complete_idempotency_key(&self, merchant: MerchantId, answer: &IdempotentAnswer)
    -> Result<(), StoreError>;

    /// Deletes at most `limit` of the merchant's keys created before `before`; answers how
    /// many went. Safe to run from several processes at once.
    async fn purge_idempotency_keys(
        &self,
        merchant: MerchantId,
        before: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, StoreError>;
}

statement!(
    CLAIM_NEW,
    "INSERT INTO idempotency_keys (merchant_id, key, fingerprint, state, created_at, locked_until, lease) \
     VALUES (?1, ?2, ?3, 'in_flight', ?4, ?5, ?6) ON CONFLICT (merchant_id, key) DO NOTHING"
);
/// The key's row, locked for the claim on PostgreSQL (SQLite's one writer needs no lock).
static FOUND: std::sync::LazyLock<Sql> = std::sync::LazyLock::new(|| {
    let select =
        format!("SELECT {} FROM idempotency_keys WHERE merchant_id = ?1 AND key = ?2", IDEMPOTENCY_KEYS.select(None));
    let postgres = crate::sql::postgres_placeholders(&format!("{select} FOR UPDATE"));
    Sql::dialects(select, postgres)
});
statement!(
    CLAIM_AGAIN,
    "UPDATE idempotency_keys SET fingerprint = ?3, state = 'in_flight', status = NULL, headers = NULL, body = NULL, \
     user_id = NULL, created_at = ?4, locked_until = ?5, lease = ?6 WHERE merchant_id = ?1 AND key = ?2"
);
statement!(TAKE_OVER, "UPDATE idempotency_keys SET locked_until = ?3, lease = ?4 WHERE merchant_id = ?1 AND key = ?2");
statement!(
    COMPLETE,
    "UPDATE idempotency_keys SET state = 'done', status = ?3, headers = ?4, body = ?5, user_id = ?6 \
     WHERE merchant_id = ?1 AND key = ?2 AND state = 'in_flight' AND lease = ?7"
);
statement!(
    RELEASE,
    "DELETE FROM idempotency_keys WHERE merchant_id = ?1 AND key = ?2 AND state = 'in_flight' AND lease = ?3"
);
// One bounded batch of the retention sweep.
statement!(
    PURGE,
    "DELETE FROM idempotency_keys WHERE merchant_id = ?1 AND key IN \
     (SELECT key FROM idempotency_keys WHERE merchant_id = ?1 AND created_at < ?2 ORDER BY created_at LIMIT ?3)"
);

fn key_row(row: &dyn Row) -> Result<KeyRow, DecodeError> {
    let body = row.bytes_or_null(at!(IDEMPOTENCY_KEYS, "body"))?;
    let answer = match body {
        Some(body) => Some(StoredResponse {
            status: row
                .int_or_null(at!(IDEMPOTENCY_KEYS, "status"))?
                .and_then(|status| u16::try_from(status).ok())
                .unwrap_or(200),
            headers: StoredResponse::headers_from_text(
                row.text_or_null(at!(IDEMPOTENCY_KEYS, "headers"))?.unwrap_or_default(),
            ),
            body: body.to_vec(),
        }),
        None => None,
    };
    Ok(KeyRow {
        fingerprint: row.text(at!(IDEMPOTENCY_KEYS, "fingerprint"))?.to_owned(),
        done: row.text(at!(IDEMPOTENCY_KEYS, "state"))? == "done",
        answer,
        created_at: row.time(at!(IDEMPOTENCY_KEYS, "created_at"))?,
        locked_until: row.time(at!(IDEMPOTENCY_KEYS, "locked_until"))?,
    })
}

async fn claim<D: Db>(
    db: &mut D,
    merchant: MerchantId,
    key: &str,
    fingerprint: &str,
    now: OffsetDateTime,
    lease: Duration,
    retention: Duration,
) -> Result<IdempotencyClaim, StoreError> {
    let m = Value::id(merchant.as_uuid());
    let fresh = Lease::generate();
    let new = [
        m.clone(),
        Value::text(key),
        Value::text(fingerprint),
        Value::time(now),
        Value::time(now + lease),
        Value::text(fresh.as_str()),
    ];
    if db.execute(&CLAIM_NEW, &new).await? == 1 {
        return Ok(IdempotencyClaim::Claimed(fresh));
    }
    // Purged since the insert found it: the caller asks again.
    let Some(found) = db.optional(&FOUND, &[m.clone(), Value::text(key)], key_row).await? else {
        return Ok(IdempotencyClaim::InFlight);
    };
    let decision = crate::decide(Some(found), fingerprint, now, retention);
    match &decision {
        Decision::Claim(held) => {
            let again = [
                m,
                Value::text(key),
                Value::text(fingerprint),
                Value::time(now),
                Value::time(now + lease),
                Value::text(held.as_str()),
            ];
            db.execute(&CLAIM_AGAIN, &again).await?;
        }
        Decision::TakeOver(held) => {
            let values = [m, Value::text(key), Value::time(now + lease), Value::text(held.as_str())];
            db.execute(&TAKE_OVER, &values).await?;
        }
        Decision::Answer(_) => {}
    }
    Ok(decision.claim())
}

/// Completes a claim with its answer, in the caller's transaction; [`StoreError::LeaseLost`]
/// when the claim is no longer the answer's.
pub(crate) async fn complete<D: Db + ?Sized>(
    db: &mut D,
    merchant: MerchantId,
    answer: &IdempotentAnswer,
) -> Result<(), StoreError> {
    let headers = answer.response.headers_text();
    let values = [
        Value::id(merchant.as_uuid()),
        Value::text(&answer.key),
        Value::int(i64::from(answer.response.status)),
        Value::text(&headers),
        Value::Bytes(Some(answer.response.body.as_slice().into())),
        Value::Uuid(answer.user.map(|user| user.as_uuid())),
        Value::text(answer.lease.as_str()),
    ];
    if db.execute(&COMPLETE, &values).await? == 1 { Ok(()) } else { Err(StoreError::LeaseLost) }
}

#[async_trait]
impl<B: Backend> IdempotencyStore for B {
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
        let run = work(move |db: &mut B::Db| {
            async move { claim(db, merchant, &key, &fingerprint, now, lease, retention).await }.boxed()
        });
        timed(self, "claim_idempotency_key", self.write(true, run)).await
    }

    async fn release_idempotency_key(&self, merchant: MerchantId, key: &str, lease: &Lease) -> Result<(), StoreError> {
        let values =
            vec![Value::id(merchant.as_uuid()), Value::owned(key.to_owned()), Value::owned(lease.as_str().to_owned())];
        write_statement(self, "release_idempotency_key", &RELEASE, values).await.map(drop)
    }

    async fn complete_idempotency_key(
        &self,
        merchant: MerchantId,
        answer: &IdempotentAnswer,
    ) -> Result<(), StoreError> {
        let answer = answer.clone();
        let run = work(move |db: &mut B::Db| async move { complete(db, merchant, &answer).await }.boxed());
        timed(self, "complete_idempotency_key", self.write(false, run)).await
    }

    async fn purge_idempotency_keys(
        &self,
        merchant: MerchantId,
        before: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let values = vec![Value::id(merchant.as_uuid()), Value::time(before), Value::int(i64::from(limit))];
        write_statement(self, "purge_idempotency_keys", &PURGE, values).await
    }
}
