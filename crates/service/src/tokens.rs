//! Short-lived access tokens: JWTs signed with HMAC-SHA-256 by a key kept in the database
//! (sealed under the master key, see [`crate::secrets`]), so that every server process on
//! one database accepts every other's tokens.
//!
//! The newest key signs. Rotation adds a newer one; every process rereads the keys at
//! least every [`TokenSettings::key_refresh`], so within that time all of them sign with
//! it. A key that was superseded keeps verifying the tokens it signed until they have all
//! expired (the longest lifetime a token is issued for, plus the refresh interval), and
//! nothing after that: a retired key, even if it leaked, opens nothing.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use clientele_domain::credential::{ApiKeyId, SigningKey, StoredSigningKey};
use clientele_store::{Store, StoreError, Unique};

use crate::secrets::{MasterKey, Sealing, SecretsError, sealing};
use crate::{AuthError, Refusal};

const ISSUER: &str = "clientele";
/// How often an unknown `kid` may make a process reload the signing keys from the database.
const RELOAD_INTERVAL: Duration = Duration::from_secs(1);
/// Seconds of clock difference allowed when checking a token's times.
const LEEWAY: u64 = 5;
/// The longest lifetime of a token issued by a surface itself (Convercus's login: a day);
/// the configured lifetime is allowed to be longer.
const SURFACE_TTL: Duration = Duration::from_secs(24 * 3600);

/// How tokens are issued.
#[derive(Debug, Clone, Copy)]
pub struct TokenSettings {
    /// How long an access token is valid.
    pub ttl: Duration,
    /// How often the signing keys are reread, so that a key rotated by another process
    /// signs this one's tokens too.
    pub key_refresh: Duration,
}

impl Default for TokenSettings {
    fn default() -> Self {
        TokenSettings { ttl: Duration::from_secs(3600), key_refresh: Duration::from_secs(10) }
    }
}

impl TokenSettings {
    /// The longest lifetime of any token this process issues.
    fn longest(&self) -> Duration {
        self.ttl.max(SURFACE_TTL)
    }

    /// How long a superseded key keeps verifying: until every token it can have signed, in
    /// any process, has expired.
    fn grace(&self) -> Duration {
        self.key_refresh + self.longest() + Duration::from_secs(LEEWAY)
    }
}

/// Why the signing keys cannot be loaded or rotated.
#[derive(Debug, thiserror::Error)]
pub enum SigningKeyError {
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error("the signing keys could not be read or written: {0}")]
    Store(#[from] StoreError),
}

/// An issued access token.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: String,
    pub expires_in: Duration,
}

/// What `clientele signing-key rotate` reports: the key that signs from now on.
#[derive(Debug, Clone)]
pub struct RotatedKey {
    pub kid: String,
    pub created_at: OffsetDateTime,
    /// Keys kept to verify tokens they signed, the new one included.
    pub keys: usize,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    /// The id of the API key the token was exchanged for.
    sub: String,
    iat: i64,
    exp: i64,
}

struct Verifying {
    key: DecodingKey,
    /// When a newer key superseded this one plus the longest token lifetime: after it, this
    /// key verifies nothing.
    retired_at: Option<OffsetDateTime>,
}

struct Keys {
    current: Option<(String, EncodingKey)>,
    verifying: HashMap<String, Verifying>,
    loaded_at: Instant,
}

impl Keys {
    /// `keys` newest first.
    fn from(keys: &[SigningKey], grace: Duration) -> Self {
        let superseded = std::iter::once(None).chain(keys.iter().map(|newer| Some(newer.created_at)));
        Keys {
            current: keys.first().map(|k| (k.kid.clone(), EncodingKey::from_secret(&k.secret))),
            verifying: keys
                .iter()
                .zip(superseded)
                .map(|(k, superseded_at)| {
                    let retired_at =
                        superseded_at.map(|at| at.saturating_add(grace.try_into().unwrap_or(time::Duration::MAX)));
                    (k.kid.clone(), Verifying { key: DecodingKey::from_secret(&k.secret), retired_at })
                })
                .collect(),
            loaded_at: Instant::now(),
        }
    }
}

/// Signs and verifies tokens.
pub(crate) struct Tokens {
    settings: TokenSettings,
    master: MasterKey,
    keys: RwLock<Arc<Keys>>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl Tokens {
    /// The master key that seals the signing keys (and every other secret at rest).
    pub(crate) fn master(&self) -> &MasterKey {
        &self.master
    }

    /// Loads the signing keys, creating the first one when the database has none and
    /// sealing any stored in plain (rows from before secrets were sealed). A master key that
    /// opens not every sealed key is refused before anything is written.
    pub(crate) async fn load(
        store: &dyn Store,
        settings: TokenSettings,
        master: MasterKey,
    ) -> Result<Self, SigningKeyError> {
        let stored = store.signing_keys().await?;
        for row in &stored {
            master.open(row)?;
        }
        for row in stored.iter().filter(|row| sealing(row) == Some(Sealing::Plain)) {
            let sealed = master.seal(&master.open(row)?)?;
            // Another process may have sealed it first; then its bytes are not `row`'s.
            if store.reseal_signing_key(&row.kid, &row.stored, &sealed.stored).await? {
                tracing::info!(signing_key.kid = %row.kid, "sealed a signing key that was stored in plain");
            }
        }
        if stored.is_empty() {
            match store.add_signing_key(&master.seal(&SigningKey::generate(crate::now()))?).await {
                // Another process created one at the same moment: both are valid.
                Ok(()) | Err(StoreError::Conflict(Unique::SigningKey)) => {}
                Err(error) => return Err(error.into()),
            }
        }
        let opened = store.signing_keys().await?.iter().map(|row| master.open(row)).collect::<Result<Vec<_>, _>>()?;
        let keys = Keys::from(&opened, settings.grace());
        Ok(Tokens { settings, master, keys: RwLock::new(Arc::new(keys)) })
    }

    fn keys(&self) -> Arc<Keys> {
        match self.keys.read() {
            Ok(keys) => Arc::clone(&keys),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    pub(crate) fn ttl(&self) -> Duration {
        self.settings.ttl
    }

    /// Issues a token for `key`, valid for `ttl` (at most the longest lifetime), signed with
    /// the newest key known at most [`TokenSettings::key_refresh`] ago.
    pub(crate) async fn issue(
        &self,
        store: &dyn Store,
        key: ApiKeyId,
        ttl: Duration,
    ) -> Result<AccessToken, StoreError> {
        let ttl = ttl.min(self.settings.longest());
        let mut keys = self.keys();
        if keys.loaded_at.elapsed() >= self.settings.key_refresh {
            keys = self.reload(store).await?;
        }
        let (kid, signing) = keys.current.as_ref().ok_or_else(|| StoreError::other("no signing key"))?;
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let ttl_seconds = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        let claims =
            Claims { iss: ISSUER.to_owned(), sub: key.to_string(), iat: now, exp: now.saturating_add(ttl_seconds) };
        let header = Header { kid: Some(kid.clone()), ..Header::new(Algorithm::HS256) };
        let token = jsonwebtoken::encode(&header, &claims, signing).map_err(StoreError::other)?;
        Ok(AccessToken { token, expires_in: ttl })
    }

    /// Checks a token's signature, issuer and expiry and returns the key it stands for.
    pub(crate) async fn verify(&self, store: &dyn Store, token: &str) -> Result<ApiKeyId, Refusal> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Invalid)?;
        if header.alg != Algorithm::HS256 {
            return Err(AuthError::Invalid.into());
        }
        let kid = header.kid.ok_or(AuthError::Invalid)?;
        let keys = self.keys_with(store, &kid).await?;
        let verifying = keys.verifying.get(&kid).ok_or(AuthError::Invalid)?;
        if verifying.retired_at.is_some_and(|retired| OffsetDateTime::now_utc() > retired) {
            return Err(AuthError::Invalid.into());
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = LEEWAY;
        let data =
            jsonwebtoken::decode::<Claims>(token, &verifying.key, &validation).map_err(|error| match error.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Invalid,
            })?;
        data.claims.sub.parse().map_err(|_| AuthError::Invalid.into())
    }

    /// Adds a new signing key, which signs this process's tokens from now on (and every
    /// other process's within [`TokenSettings::key_refresh`]).
    pub(crate) async fn rotate(&self, store: &dyn Store) -> Result<RotatedKey, SigningKeyError> {
        let key = SigningKey::generate(crate::now());
        store.add_signing_key(&self.master.seal(&key)?).await?;
        let keys = self.reload(store).await?;
        Ok(RotatedKey { kid: key.kid, created_at: key.created_at, keys: keys.verifying.len() })
    }

    /// The keys, reloaded from the database first when `kid` is unknown (a key another
    /// process created), at most once per [`RELOAD_INTERVAL`].
    async fn keys_with(&self, store: &dyn Store, kid: &str) -> Result<Arc<Keys>, StoreError> {
        let keys = self.keys();
        if keys.verifying.contains_key(kid) || keys.loaded_at.elapsed() < RELOAD_INTERVAL {
            return Ok(keys);
        }
        self.reload(store).await
    }

    /// Rereads the keys. One this process's master key cannot open (another process runs
    /// with a different one) is left out and logged: it neither signs nor verifies here.
    async fn reload(&self, store: &dyn Store) -> Result<Arc<Keys>, StoreError> {
        let stored: Vec<StoredSigningKey> = store.signing_keys().await?;
        let opened: Vec<SigningKey> = stored
            .iter()
            .filter_map(|row| {
                self.master
                    .open(row)
                    .inspect_err(|error| tracing::error!(signing_key.kid = %row.kid, error = %error, "a signing key is left out"))
                    .ok()
            })
            .collect();
        let fresh = Arc::new(Keys::from(&opened, self.settings.grace()));
        if let Ok(mut slot) = self.keys.write() {
            *slot = Arc::clone(&fresh);
        }
        Ok(fresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_key_signs_and_a_superseded_one_retires_after_the_grace() {
        let start = OffsetDateTime::UNIX_EPOCH;
        let older = SigningKey::generate(start);
        let newer = SigningKey::generate(start + time::Duration::hours(1));
        let settings = TokenSettings::default();
        let keys = Keys::from(&[newer.clone(), older.clone()], settings.grace());
        assert_eq!(keys.current.as_ref().map(|(kid, _)| kid.as_str()), Some(newer.kid.as_str()));
        assert_eq!(keys.verifying.get(&newer.kid).and_then(|k| k.retired_at), None);
        let retired = keys.verifying.get(&older.kid).and_then(|k| k.retired_at);
        // A day (the longest lifetime), the refresh interval and the leeway after it was superseded.
        assert_eq!(retired, Some(newer.created_at + time::Duration::seconds(24 * 3600 + 10 + 5)));
    }
}
