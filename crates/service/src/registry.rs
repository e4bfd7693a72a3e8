use std::sync::Arc;
use std::time::Duration;

use clientele_domain::DisplayName;
use clientele_domain::credential::{ApiKey, ApiKeyId, ApiKeySecret, KeyOwner};
use clientele_domain::interaction_point::{InteractionPoint, InteractionPointId};
use clientele_domain::merchant::{Merchant, MerchantId, MerchantNumber};
use clientele_domain::property::{PropertyDefinition, PropertyId, PropertyName, ValueType};
use clientele_store::{RevocationWatch as _, Store, StoreError};

use crate::keys::{KeyCache, KeyRef};
use crate::secrets::MasterKey;
use crate::tokens::{RotatedKey, SigningKeyError, Tokens};
use crate::{AccessToken, AuthError, Principal, TokenSettings};

/// A key just issued: the stored record and the secret, which is shown once and then only
/// its digest remains.
#[derive(Debug, Clone)]
pub struct IssuedKey {
    pub key: ApiKey,
    pub secret: ApiKeySecret,
}

/// The core every surface and the CLI call. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Registry {
    store: Arc<dyn Store>,
    tokens: Arc<Tokens>,
    keys: Arc<KeyCache>,
    /// How long a claimed idempotency key stays claimed when its request never finishes.
    idempotency_lease: time::Duration,
}

impl Registry {
    /// Wraps `store`, loading (or on an empty database creating) the token signing keys,
    /// which `master` seals; keys stored in plain are sealed now.
    pub async fn new(store: Arc<dyn Store>, tokens: TokenSettings, master: MasterKey) -> Result<Self, SigningKeyError> {
        let tokens = Arc::new(Tokens::load(store.as_ref(), tokens, master).await?);
        let keys = KeyCache::new(store.as_ref());
        Ok(Registry { store, tokens, keys, idempotency_lease: crate::users::IDEMPOTENCY_LEASE })
    }

    /// Sets how long a claimed idempotency key stays claimed when its request never
    /// finishes (its process died); a repeat within it waits, then answers 409. The default
    /// is [`crate::IDEMPOTENCY_LEASE`].
    #[must_use]
    pub fn with_idempotency_lease(mut self, lease: Duration) -> Self {
        self.idempotency_lease = time::Duration::try_from(lease).unwrap_or(crate::users::IDEMPOTENCY_LEASE);
        self
    }

    pub(crate) fn idempotency_lease(&self) -> time::Duration {
        self.idempotency_lease
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    // --- merchants and keys -------------------------------------------------------------

    /// Creates a merchant with a first `admin` key.
    pub async fn create_merchant(
        &self,
        number: MerchantNumber,
        name: DisplayName,
    ) -> Result<(Merchant, IssuedKey), StoreError> {
        let merchant = Merchant::new(number, name, crate::now());
        let owner = KeyOwner::Merchant { merchant: merchant.id, role: clientele_domain::credential::Role::Admin };
        let issued = new_key(owner, None);
        self.store.create_merchant(&merchant, &issued.key).await?;
        Ok((merchant, issued))
    }

    /// Issues a new key. A merchant key's merchant must exist.
    pub async fn issue_key(&self, owner: KeyOwner, name: Option<DisplayName>) -> Result<IssuedKey, StoreError> {
        let issued = new_key(owner, name);
        self.store.create_api_key(&issued.key).await?;
        Ok(issued)
    }

    /// Revokes a key. This process forgets it before answering; other processes learn of it
    /// as their store allows (see [`clientele_store::fence`]).
    pub async fn revoke_key(&self, merchant: MerchantId, id: ApiKeyId) -> Result<ApiKey, StoreError> {
        let revoked = self.store.revoke_api_key(merchant, id, crate::now()).await?;
        self.keys.revoked(revoked.id);
        Ok(revoked)
    }

    // --- authentication -----------------------------------------------------------------

    /// Identifies the caller behind a credential: an API key, or an access token obtained
    /// for one. Either way the key must exist and not be revoked: a key row from the
    /// process's cache is checked as the `keys` module explains, any other is read now.
    pub async fn authenticate(&self, credential: &str) -> Result<Principal, AuthError> {
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
            Ok(_) | Err(StoreError::NotFound) => Err(AuthError::Invalid),
            Err(error) => Err(AuthError::Store(error)),
        }
    }

    /// Exchanges an API key's secret for an access token, valid for `ttl` or the configured
    /// lifetime. Returns who the token stands for, too.
    pub async fn exchange(&self, secret: &str, ttl: Option<Duration>) -> Result<(Principal, AccessToken), AuthError> {
        let secret = ApiKeySecret::recognise(secret).ok_or(AuthError::Invalid)?;
        let principal = self.authenticate(secret.expose()).await?;
        let ttl = ttl.unwrap_or_else(|| self.tokens.ttl());
        let token = self.tokens.issue(self.store.as_ref(), principal.key_id, ttl).await?;
        Ok((principal, token))
    }

    /// Issues an access token for an authenticated caller, valid for `ttl`.
    pub async fn issue_token(&self, principal: &Principal, ttl: Duration) -> Result<AccessToken, StoreError> {
        self.tokens.issue(self.store.as_ref(), principal.key_id, ttl).await
    }

    /// Makes a new signing key sign every token from now on (in other processes within
    /// their key refresh interval). Tokens signed with earlier keys stay valid until they
    /// expire.
    pub async fn rotate_signing_key(&self) -> Result<RotatedKey, SigningKeyError> {
        self.tokens.rotate(self.store.as_ref()).await
    }

    // --- interaction points -------------------------------------------------------------

    pub async fn create_interaction_point(
        &self,
        merchant: MerchantId,
        id: InteractionPointId,
        name: DisplayName,
    ) -> Result<InteractionPoint, StoreError> {
        let point = InteractionPoint { id, name, active: true, created_at: crate::now() };
        self.store.create_interaction_point(merchant, &point).await?;
        Ok(point)
    }

    // --- custom property definitions ----------------------------------------------------

    /// Defines a property; `id` is chosen by the caller or assigned.
    pub async fn create_property(
        &self,
        merchant: MerchantId,
        id: Option<PropertyId>,
        name: PropertyName,
        value_type: ValueType,
    ) -> Result<PropertyDefinition, StoreError> {
        let property = PropertyDefinition {
            id: id.unwrap_or_else(PropertyId::generate),
            name,
            value_type,
            active: true,
            created_at: crate::now(),
        };
        self.store.create_property(merchant, &property).await?;
        Ok(property)
    }
}

fn new_key(owner: KeyOwner, name: Option<DisplayName>) -> IssuedKey {
    let secret = ApiKeySecret::generate();
    IssuedKey { key: ApiKey::new(owner, name, &secret, crate::now()), secret }
}
