//! Short-lived access tokens: JWTs signed with HMAC-SHA-256 by a key kept in the database,
//! so that every server process on one database accepts every other's tokens.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use clientele_domain::credential::{ApiKeyId, SigningKey};
use clientele_store::{Store, StoreError, Unique};

use crate::AuthError;

const ISSUER: &str = "clientele";
/// How often an unknown `kid` may make a process reload the signing keys from the database.
const RELOAD_INTERVAL: Duration = Duration::from_secs(1);

/// How tokens are issued.
#[derive(Debug, Clone, Copy)]
pub struct TokenSettings {
    /// How long an access token is valid.
    pub ttl: Duration,
}

impl Default for TokenSettings {
    fn default() -> Self {
        TokenSettings { ttl: Duration::from_secs(3600) }
    }
}

/// An issued access token.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: String,
    pub expires_in: Duration,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    /// The id of the API key the token was exchanged for.
    sub: String,
    iat: i64,
    exp: i64,
}

struct Keys {
    current: Option<(String, EncodingKey)>,
    verifying: HashMap<String, DecodingKey>,
    loaded_at: Instant,
}

impl Keys {
    fn from(stored: &[SigningKey]) -> Self {
        Keys {
            current: stored.first().map(|k| (k.kid.clone(), EncodingKey::from_secret(&k.secret))),
            verifying: stored.iter().map(|k| (k.kid.clone(), DecodingKey::from_secret(&k.secret))).collect(),
            loaded_at: Instant::now(),
        }
    }
}

/// Signs and verifies tokens.
pub(crate) struct Tokens {
    settings: TokenSettings,
    keys: RwLock<Arc<Keys>>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl Tokens {
    /// Loads the signing keys, creating the first one when the database has none.
    pub(crate) async fn load(store: &dyn Store, settings: TokenSettings) -> Result<Self, StoreError> {
        let mut stored = store.signing_keys().await?;
        if stored.is_empty() {
            match store.add_signing_key(&SigningKey::generate(crate::now())).await {
                // Another process created one at the same moment: both are valid.
                Ok(()) | Err(StoreError::Conflict(Unique::SigningKey)) => {}
                Err(error) => return Err(error),
            }
            stored = store.signing_keys().await?;
        }
        Ok(Tokens { settings, keys: RwLock::new(Arc::new(Keys::from(&stored))) })
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

    /// Issues a token for `key`, valid for `ttl`.
    pub(crate) fn issue(&self, key: ApiKeyId, ttl: Duration) -> Result<AccessToken, StoreError> {
        let keys = self.keys();
        let (kid, signing) = keys.current.as_ref().ok_or_else(|| StoreError::other("no signing key"))?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let ttl_seconds = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        let claims =
            Claims { iss: ISSUER.to_owned(), sub: key.to_string(), iat: now, exp: now.saturating_add(ttl_seconds) };
        let header = Header { kid: Some(kid.clone()), ..Header::new(Algorithm::HS256) };
        let token = jsonwebtoken::encode(&header, &claims, signing).map_err(StoreError::other)?;
        Ok(AccessToken { token, expires_in: ttl })
    }

    /// Checks a token's signature, issuer and expiry and returns the key it stands for.
    pub(crate) async fn verify(&self, store: &dyn Store, token: &str) -> Result<ApiKeyId, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Invalid)?;
        if header.alg != Algorithm::HS256 {
            return Err(AuthError::Invalid);
        }
        let kid = header.kid.ok_or(AuthError::Invalid)?;
        let keys = self.keys_with(store, &kid).await?;
        let decoding = keys.verifying.get(&kid).ok_or(AuthError::Invalid)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 5;
        let data =
            jsonwebtoken::decode::<Claims>(token, decoding, &validation).map_err(|error| match error.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Invalid,
            })?;
        data.claims.sub.parse().map_err(|_| AuthError::Invalid)
    }

    /// The keys, reloaded from the database first when `kid` is unknown (a key another
    /// process created), at most once per [`RELOAD_INTERVAL`].
    async fn keys_with(&self, store: &dyn Store, kid: &str) -> Result<Arc<Keys>, StoreError> {
        let keys = self.keys();
        if keys.verifying.contains_key(kid) || keys.loaded_at.elapsed() < RELOAD_INTERVAL {
            return Ok(keys);
        }
        let fresh = Arc::new(Keys::from(&store.signing_keys().await?));
        if let Ok(mut slot) = self.keys.write() {
            *slot = Arc::clone(&fresh);
        }
        Ok(fresh)
    }
}
