use std::sync::Arc;
use std::time::Duration;

use clientele_domain::DisplayName;
use clientele_domain::credential::{ApiKey, ApiKeyId, ApiKeySecret, KeyOwner};
use clientele_domain::merchant::MerchantId;
use clientele_store::{RevocationWatch as _, Store, StoreError};

use crate::keys::{KeyCache, KeyRef};
use crate::secrets::MasterKey;
use crate::tokens::{RotatedKey, SigningKeyError, Tokens};
use crate::webhooks::WebhookSettings;
use crate::{AccessToken, AuthError, Principal, Refusal, TokenSettings};

/// A key just issued: the stored record and the secret, which is shown once and then only
/// its digest remains.
#[derive(Debug, Clone)]
pub struct IssuedKey {
    pub key: ApiKey,
    pub secret: ApiKeySecret,
}

/// The core every surface and the CLI call, and the only door to the store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Registry {
    store: Arc<dyn Store>,
    tokens: Arc<Tokens>,
    keys: Arc<KeyCache>,
    /// How long a claimed idempotency key stays claimed when its request never finishes.
    idempotency_lease: time::Duration,
    webhooks: Arc<WebhookState>,
}

/// How this process delivers webhooks, and what wakes it.
#[derive(Debug, Default)]
pub(crate) struct WebhookState {
    pub(crate) settings: WebhookSettings,
    pub(crate) wake: tokio::sync::Notify,
}

impl Registry {
    /// Wraps `store`, loading (or on an empty database creating) the token signing keys,
    /// which `master` seals; keys stored in plain are sealed now.
    pub async fn new(store: Arc<dyn Store>, tokens: TokenSettings, master: MasterKey) -> Result<Self, SigningKeyError> {
        let tokens = Arc::new(Tokens::load(store.as_ref(), tokens, master).await?);
        let keys = KeyCache::new(store.as_ref());
        Ok(Registry {
            store,
            tokens,
            keys,
            idempotency_lease: crate::users::IDEMPOTENCY_LEASE,
            webhooks: Arc::default(),
        })
    }

    /// Sets how long a claimed idempotency key stays claimed when its request never
    /// finishes (its process died); a repeat within it waits, then answers 409. The default
    /// is [`crate::IDEMPOTENCY_LEASE`].
    #[must_use]
    pub fn with_idempotency_lease(mut self, lease: Duration) -> Self {
        self.idempotency_lease = time::Duration::try_from(lease).unwrap_or(crate::users::IDEMPOTENCY_LEASE);
        self
    }

    /// Sets how webhooks are delivered (the default: [`WebhookSettings::default`]).
    #[must_use]
    pub fn with_webhooks(mut self, settings: WebhookSettings) -> Self {
        self.webhooks = Arc::new(WebhookState { settings, wake: tokio::sync::Notify::new() });
        self
    }

    pub(crate) fn webhook_state(&self) -> &WebhookState {
        &self.webhooks
    }

    pub(crate) fn webhook_settings(&self) -> &WebhookSettings {
        &self.webhooks.settings
    }

    pub(crate) fn master(&self) -> &MasterKey {
        self.tokens.master()
    }

    pub(crate) fn idempotency_lease(&self) -> time::Duration {
        self.idempotency_lease
    }

    pub(crate) fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// Which database backs the registry (`sqlite`, `postgres`), for logs.
    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }

    /// Answers when the database is reachable and usable.
    pub async fn ping(&self) -> Result<(), Refusal> {
        Ok(self.store.ping().await?)
    }

    // --- keys ---------------------------------------------------------------------------

    /// Issues a new key. A merchant key's merchant must exist.
    pub async fn issue_key(&self, owner: KeyOwner, name: Option<DisplayName>) -> Result<IssuedKey, Refusal> {
        let issued = new_key(owner, name);
        self.store.create_api_key(&issued.key).await?;
        Ok(issued)
    }

    /// The merchant's keys, oldest first.
    pub async fn api_keys(&self, merchant: MerchantId) -> Result<Vec<ApiKey>, Refusal> {
        Ok(self.store.list_api_keys(merchant).await?)
    }

    /// Revokes a key. This process forgets it before answering; other processes learn of it
    /// as their store allows (see [`clientele_store::fence`]).
    pub async fn revoke_key(&self, merchant: MerchantId, id: ApiKeyId) -> Result<ApiKey, Refusal> {
        let revoked = self.store.revoke_api_key(merchant, id, crate::now()).await?;
        self.keys.revoked(revoked.id);
        Ok(revoked)
    }

    // --- authentication -----------------------------------------------------------------

    /// Identifies the caller behind a credential: an API key, or an access token obtained
    /// for one. Either way the key must exist and not be revoked: a key row from the
    /// process's cache is checked as the `keys` module explains, any other is read now.
    pub async fn authenticate(&self, credential: &str) -> Result<Principal, Refusal> {
        let reference = match ApiKeySecret::recognise(credential) {
            Some(secret) => KeyRef::Digest(secret.digest()),
            None => KeyRef::Id(self.tokens.verify(self.store.as_ref(), credential).await?),
        };
        if let Some((key_id, owner)) = self.keys.get(&reference, &self.store) {
            return Ok(Principal { key_id, owner });
        }
        let generation = self.keys.generation();
        let key = match &reference {
            KeyRef::Digest(digest) => self.store.api_key_by_digest(digest).await,
            KeyRef::Id(id) => self.store.api_key(*id).await,
        };
        if let Ok(key) = &key {
            self.keys.put(key, generation);
        }
        match key {
            Ok(key) if key.is_active() => Ok(Principal { key_id: key.id, owner: key.owner }),
            Ok(_) | Err(StoreError::NotFound) => Err(AuthError::Invalid.into()),
            Err(error) => Err(error.into()),
        }
    }

    /// Exchanges an API key's secret for an access token, valid for `ttl` or the configured
    /// lifetime. Returns who the token stands for, too.
    pub async fn exchange(&self, secret: &str, ttl: Option<Duration>) -> Result<(Principal, AccessToken), Refusal> {
        let secret = ApiKeySecret::recognise(secret).ok_or(AuthError::Invalid)?;
        let principal = self.authenticate(secret.expose()).await?;
        let ttl = ttl.unwrap_or_else(|| self.tokens.ttl());
        let token = self.tokens.issue(self.store.as_ref(), principal.key_id, ttl).await?;
        Ok((principal, token))
    }

    /// A login with a merchant's number, one of its keys' id and that key's secret (the
    /// Convercus login): who the key stands for, when all three agree. Any disagreement is
    /// [`AuthError::Invalid`], whichever part it is in.
    pub async fn login(&self, merchant_number: &str, key_id: &str, secret: &str) -> Result<Principal, Refusal> {
        let refused = || Refusal::Unauthenticated(AuthError::Invalid);
        let secret = ApiKeySecret::recognise(secret).ok_or_else(refused)?;
        let principal = self.authenticate(secret.expose()).await?;
        let KeyOwner::Merchant { merchant, .. } = principal.owner else { return Err(refused()) };
        if principal.key_id.to_string() != key_id.trim() {
            return Err(refused());
        }
        match self.store.merchant(merchant).await {
            Ok(found) if found.number.as_str() == merchant_number.trim() => Ok(principal),
            Ok(_) | Err(StoreError::NotFound) => Err(refused()),
            Err(error) => Err(error.into()),
        }
    }

    /// Issues an access token for an authenticated caller, valid for `ttl`.
    pub async fn issue_token(&self, principal: &Principal, ttl: Duration) -> Result<AccessToken, Refusal> {
        Ok(self.tokens.issue(self.store.as_ref(), principal.key_id, ttl).await?)
    }

    /// Makes a new signing key sign every token from now on (in other processes within
    /// their key refresh interval). Tokens signed with earlier keys stay valid until they
    /// expire.
    pub async fn rotate_signing_key(&self) -> Result<RotatedKey, SigningKeyError> {
        self.tokens.rotate(self.store.as_ref()).await
    }
}

pub(crate) fn new_key(owner: KeyOwner, name: Option<DisplayName>) -> IssuedKey {
    let secret = ApiKeySecret::generate();
    IssuedKey { key: ApiKey::new(owner, name, &secret, crate::now()), secret }
}
