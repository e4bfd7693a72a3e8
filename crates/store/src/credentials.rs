//! Credentials: API keys (found by digest before the merchant is known) and the token
//! signing keys every process shares.

use async_trait::async_trait;
use futures::FutureExt as _;
use time::OffsetDateTime;

use clientele_domain::DisplayName;
use clientele_domain::credential::{ApiKey, ApiKeyId, KeyDigest, KeyOwner, Role, StoredSigningKey};
use clientele_domain::merchant::MerchantId;

use crate::StoreError;
use crate::at;
use crate::backend::{Backend, Db, read_all, read_one, timed, work, write_statement};
use crate::schema::{API_KEYS, SIGNING_KEYS};
use crate::sql::{DecodeError, Row, RowStatement, Value, insert_into, parsed, statement};

/// API keys and token signing keys.
#[async_trait]
pub trait CredentialStore: Send + Sync {
    /// Stores a new key. A merchant key's merchant must exist.
    async fn create_api_key(&self, key: &ApiKey) -> Result<(), StoreError>;

    /// Finds the key whose secret has this digest, revoked or not: this is how a caller is
    /// identified, so it precedes knowing the merchant.
    async fn api_key_by_digest(&self, digest: &KeyDigest) -> Result<ApiKey, StoreError>;

    /// Finds a key by id, revoked or not: checks that a token's key is still valid.
    async fn api_key(&self, id: ApiKeyId) -> Result<ApiKey, StoreError>;

    /// The merchant's keys, oldest first.
    async fn list_api_keys(&self, merchant: MerchantId) -> Result<Vec<ApiKey>, StoreError>;

    /// Revokes one of the merchant's keys; revoking a revoked key keeps its first revocation
    /// time. Another merchant's key is [`StoreError::NotFound`].
    async fn revoke_api_key(
        &self,
        merchant: MerchantId,
        id: ApiKeyId,
        at: OffsetDateTime,
    ) -> Result<ApiKey, StoreError>;

    /// Every token signing key, newest first, as stored (sealed; see [`StoredSigningKey`]).
    async fn signing_keys(&self) -> Result<Vec<StoredSigningKey>, StoreError>;

    /// Conflicts: [`Unique::SigningKey`](crate::Unique::SigningKey).
    async fn add_signing_key(&self, key: &StoredSigningKey) -> Result<(), StoreError>;

    /// Replaces the stored bytes of key `kid` with `to` if they are still `from`, and says
    /// whether it did: several processes may reseal the same row at once, and one wins.
    async fn reseal_signing_key(&self, kid: &str, from: &[u8], to: &[u8]) -> Result<bool, StoreError>;
}

/// How a key's owner is stored: its role, and its merchant for a merchant's key.
fn role_name(owner: &KeyOwner) -> &'static str {
    match owner {
        KeyOwner::Platform => "platform",
        KeyOwner::Merchant { role, .. } => role.as_str(),
    }
}

fn api_key(row: &dyn Row) -> Result<ApiKey, DecodeError> {
    let at = at!(API_KEYS, "role");
    let owner = match (row.uuid_or_null(at!(API_KEYS, "merchant_id"))?, row.text(at)?) {
        (None, "platform") => KeyOwner::Platform,
        (Some(merchant), role) => KeyOwner::Merchant {
            merchant: MerchantId::from_uuid(merchant),
            role: parsed(at, role, |r| Role::parse("role", r))?,
        },
        (None, other) => return Err(DecodeError::new(at, format!("unexpected stored value {other:?}"))),
    };
    Ok(ApiKey {
        id: ApiKeyId::from_uuid(row.uuid(at!(API_KEYS, "id"))?),
        owner,
        name: row.text_or_null(at!(API_KEYS, "name"))?.map(|n| DisplayName::from_stored(n.to_owned())),
        prefix: row.text(at!(API_KEYS, "prefix"))?.to_owned(),
        digest: KeyDigest::from_stored(row.text(at!(API_KEYS, "digest"))?.to_owned()),
        created_at: row.time(at!(API_KEYS, "created_at"))?,
        revoked_at: row.time_or_null(at!(API_KEYS, "revoked_at"))?,
    })
}

fn signing_key(row: &dyn Row) -> Result<StoredSigningKey, DecodeError> {
    Ok(StoredSigningKey {
        kid: row.text(at!(SIGNING_KEYS, "kid"))?.to_owned(),
        stored: row.bytes_or_null(at!(SIGNING_KEYS, "secret"))?.unwrap_or_default().to_vec(),
        created_at: row.time(at!(SIGNING_KEYS, "created_at"))?,
    })
}

static INSERT_KEY: RowStatement = RowStatement::new(|names| insert_into("api_keys", names));
statement!(KEY_BY_DIGEST, "SELECT {} FROM api_keys WHERE digest = ?1", API_KEYS.select(None));
statement!(KEY, "SELECT {} FROM api_keys WHERE id = ?1", API_KEYS.select(None));
statement!(KEYS, "SELECT {} FROM api_keys WHERE merchant_id = ?1 ORDER BY created_at, id", API_KEYS.select(None));
statement!(
    REVOKE,
    "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?3) WHERE merchant_id = ?1 AND id = ?2 RETURNING {}",
    API_KEYS.select(None)
);
statement!(SIGNING, "SELECT {} FROM signing_keys ORDER BY created_at DESC, kid", SIGNING_KEYS.select(None));
statement!(INSERT_SIGNING, "INSERT INTO signing_keys (kid, secret, created_at) VALUES (?1, ?2, ?3)");
statement!(RESEAL, "UPDATE signing_keys SET secret = ?3 WHERE kid = ?1 AND secret = ?2");

/// Stores a key, in whatever transaction `db` is in (a merchant's first key goes with it).
pub(crate) async fn insert_api_key<D: Db + ?Sized>(db: &mut D, key: &ApiKey) -> Result<(), StoreError> {
    let merchant = match key.owner {
        KeyOwner::Platform => None,
        KeyOwner::Merchant { merchant, .. } => Some(merchant.as_uuid()),
    };
    let (sql, values) = INSERT_KEY.of(vec![
        ("id", Value::id(key.id.as_uuid())),
        ("merchant_id", Value::Uuid(merchant)),
        ("role", Value::text(role_name(&key.owner))),
        ("name", Value::text_or_null(key.name.as_ref().map(DisplayName::as_str))),
        ("prefix", Value::text(&key.prefix)),
        ("digest", Value::text(key.digest.as_str())),
        ("created_at", Value::time(key.created_at)),
        ("revoked_at", Value::Time(key.revoked_at)),
    ]);
    db.execute(sql, &values).await.map(drop)
}

#[async_trait]
impl<B: Backend> CredentialStore for B {
    async fn create_api_key(&self, key: &ApiKey) -> Result<(), StoreError> {
        let key = key.clone();
        let write = work(move |db: &mut B::Db| async move { insert_api_key(db, &key).await }.boxed());
        timed(self, "create_api_key", self.write(false, write)).await
    }

    async fn api_key_by_digest(&self, digest: &KeyDigest) -> Result<ApiKey, StoreError> {
        let values = vec![Value::owned(digest.as_str().to_owned())];
        read_one(self, "api_key_by_digest", &KEY_BY_DIGEST, values, api_key).await
    }

    async fn api_key(&self, id: ApiKeyId) -> Result<ApiKey, StoreError> {
        read_one(self, "api_key", &KEY, vec![Value::id(id.as_uuid())], api_key).await
    }

    async fn list_api_keys(&self, merchant: MerchantId) -> Result<Vec<ApiKey>, StoreError> {
        read_all(self, "list_api_keys", &KEYS, vec![Value::id(merchant.as_uuid())], api_key).await
    }

    async fn revoke_api_key(
        &self,
        merchant: MerchantId,
        id: ApiKeyId,
        at: OffsetDateTime,
    ) -> Result<ApiKey, StoreError> {
        let revoke = work(move |db: &mut B::Db| {
            async move {
                let values = [Value::id(merchant.as_uuid()), Value::id(id.as_uuid()), Value::time(at)];
                let key = db.one(&REVOKE, &values, api_key).await?;
                // Announced when the revocation commits, and only then.
                db.announce_revocation(key.id).await?;
                Ok(key)
            }
            .boxed()
        });
        timed(self, "revoke_api_key", self.write(true, revoke)).await
    }

    async fn signing_keys(&self) -> Result<Vec<StoredSigningKey>, StoreError> {
        read_all(self, "signing_keys", &SIGNING, Vec::new(), signing_key).await
    }

    async fn add_signing_key(&self, key: &StoredSigningKey) -> Result<(), StoreError> {
        let values = vec![
            Value::owned(key.kid.clone()),
            Value::Bytes(Some(key.stored.clone().into())),
            Value::time(key.created_at),
        ];
        write_statement(self, "add_signing_key", &INSERT_SIGNING, values).await.map(drop)
    }

    async fn reseal_signing_key(&self, kid: &str, from: &[u8], to: &[u8]) -> Result<bool, StoreError> {
        let values = vec![
            Value::owned(kid.to_owned()),
            Value::Bytes(Some(from.to_vec().into())),
            Value::Bytes(Some(to.to_vec().into())),
        ];
        write_statement(self, "reseal_signing_key", &RESEAL, values).await.map(|changed| changed == 1)
    }
}
