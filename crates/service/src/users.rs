//! Users: creation, replacement, merge patches and erasure, each optionally idempotent, and
//! reads. Every surface goes through these, so every rule holds on every surface.

use std::future::Future;
use std::time::{Duration as StdDuration, Instant};

use time::Duration;

use clientele_domain::contract::Contract;
use clientele_domain::merchant::MerchantId;
use clientele_domain::property::{CustomPropertyInput, CustomPropertyValue, resolve_properties};
use clientele_domain::user::{Origin, User, UserChange, UserFields, UserId, UserPatch};
use clientele_domain::{ValidationErrors, may_be_stored};
use clientele_store::{IdempotencyClaim, IdempotentAnswer, Lease, PageRequest, StoreError, StoredResponse, UserFilter};

use crate::Registry;

/// How long an idempotency key is remembered.
pub const IDEMPOTENCY_RETENTION: Duration = Duration::hours(24);
/// How long a claimed key stays claimed when its request never finishes (its process died),
/// unless the registry is given another ([`Registry::with_idempotency_lease`]).
pub const IDEMPOTENCY_LEASE: Duration = Duration::seconds(60);
/// How long a repeat waits for the same request in flight before giving up.
const IN_FLIGHT_WAIT: StdDuration = StdDuration::from_secs(10);
/// How often an unconditional update is tried again when another write got there first.
const UPDATE_ATTEMPTS: usize = 16;

/// A request's `Idempotency-Key`, with what identifies the request itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRequest {
    pub key: String,
    /// The same for repeats of the same request, and only for them (method, path, body).
    pub fingerprint: String,
}

/// How a write is to be done: where it comes from, on which version (`If-Match`), and
/// under which idempotency key.
#[derive(Debug, Clone, Copy)]
pub struct WriteOptions<'a> {
    pub origin: &'a Origin,
    /// Only if the user is still at this version.
    pub if_version: Option<i64>,
    pub idempotency: Option<&'a IdempotencyRequest>,
}

impl<'a> WriteOptions<'a> {
    /// A write from `origin`, on any version, without an idempotency key.
    pub fn from(origin: &'a Origin) -> Self {
        WriteOptions { origin, if_version: None, idempotency: None }
    }
}

/// The answer to a write: given now, or repeated from the first time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Fresh(StoredResponse),
    Replayed(StoredResponse),
}

/// Why a user write was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error(transparent)]
    Store(StoreError),
    #[error("the idempotency key was used for another request")]
    KeyReused,
    #[error("a request with this idempotency key is still being processed")]
    KeyInFlight,
    /// A rule of the merchant's refused the user's fields (named as in the native API).
    #[error("invalid fields")]
    Invalid(ValidationErrors),
}

impl From<StoreError> for UserError {
    /// A claim taken over while its request worked is the other request's now: this one
    /// wrote nothing, and the key is being worked on.
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::LeaseLost => UserError::KeyInFlight,
            error => UserError::Store(error),
        }
    }
}

/// A claimed idempotency key, held under its lease while the request works.
#[derive(Debug, Clone)]
pub(crate) struct Claim {
    key: String,
    lease: Lease,
}

impl Claim {
    /// The answer completing this claim, holding `user` (whose erasure redacts it).
    pub(crate) fn answer(&self, user: UserId, response: &StoredResponse) -> IdempotentAnswer {
        IdempotentAnswer {
            key: self.key.clone(),
            lease: self.lease.clone(),
            user: Some(user),
            response: response.clone(),
        }
    }
}

impl Registry {
    /// Resolves a client's custom property values against the merchant's definitions.
    pub async fn resolve_properties(
        &self,
        merchant: MerchantId,
        field: &str,
        inputs: &[CustomPropertyInput],
    ) -> Result<Result<Vec<CustomPropertyValue>, ValidationErrors>, StoreError> {
        if inputs.is_empty() {
            return Ok(Ok(Vec::new()));
        }
        let definitions = self.store().list_properties(merchant).await?;
        Ok(resolve_properties(field, inputs, &definitions))
    }

    pub async fn user(&self, merchant: MerchantId, id: UserId) -> Result<User, StoreError> {
        self.store().user(merchant, id).await
    }

    pub async fn list_users(
        &self,
        merchant: MerchantId,
        filter: &UserFilter,
        page: PageRequest,
    ) -> Result<Vec<User>, StoreError> {
        let phone = filter.phone.iter().flat_map(|p| [Some(&p.given), p.e164.as_ref(), p.national.as_ref()]).flatten();
        let texts = [&filter.email_lookup, &filter.customer_ref, &filter.national_id, &filter.country];
        if !texts.into_iter().flatten().chain(phone).all(|t| may_be_stored(t)) {
            return Ok(Vec::new());
        }
        self.store().list_users(merchant, filter, page).await
    }

    /// Creates a user; `render` turns it into the answer, which a repeat of the same
    /// idempotent request gets again.
    pub async fn create_user(
        &self,
        merchant: MerchantId,
        fields: UserFields,
        options: WriteOptions<'_>,
        render: impl Fn(&User) -> StoredResponse,
    ) -> Result<Answer, UserError> {
        let user = crate::NewUser { fields, contract: None };
        self.create_user_with_contract(merchant, user, options, |user, _| render(user)).await
    }

    /// Creates a user with its optional first contract, both or neither.
    pub async fn create_user_with_contract(
        &self,
        merchant: MerchantId,
        new: crate::NewUser,
        options: WriteOptions<'_>,
        render: impl Fn(&User, Option<&Contract>) -> StoredResponse,
    ) -> Result<Answer, UserError> {
        self.merchant_rules(merchant, &new.fields).await?;
        let origin = options.origin;
        self.idempotently(merchant, options.idempotency, |claim| async move {
            let now = crate::now();
            let user = User::new(new.fields, now);
            let contract = new.contract.map(|(number, terms)| Contract::new(user.id, number, terms, now));
            let response = render(&user, contract.as_ref());
            let answer = claim.map(|claim| claim.answer(user.id, &response));
            self.store().create_user(merchant, &user, contract.as_ref(), origin, answer.as_ref()).await?;
            Ok(response)
        })
        .await
    }

    /// Replaces every writable field of a user (unsent ones are cleared). With
    /// `if_version`, only if the user is still at that version.
    pub async fn replace_user(
        &self,
        merchant: MerchantId,
        id: UserId,
        fields: UserFields,
        options: WriteOptions<'_>,
        render: impl Fn(&User) -> StoredResponse,
    ) -> Result<Answer, UserError> {
        let patch = move |_: &UserFields| fields.clone();
        self.update(merchant, id, patch, options, render).await
    }

    /// Applies a merge patch to a user. Concurrent patches of different fields both land:
    /// a patch is applied to the latest version, again if another write got there first.
    pub async fn patch_user(
        &self,
        merchant: MerchantId,
        id: UserId,
        patch: UserPatch,
        options: WriteOptions<'_>,
        render: impl Fn(&User) -> StoredResponse,
    ) -> Result<Answer, UserError> {
        let apply = move |current: &UserFields| patch.clone().apply(current.clone());
        self.update(merchant, id, apply, options, render).await
    }

    async fn update(
        &self,
        merchant: MerchantId,
        id: UserId,
        change: impl Fn(&UserFields) -> UserFields,
        options: WriteOptions<'_>,
        render: impl Fn(&User) -> StoredResponse,
    ) -> Result<Answer, UserError> {
        let WriteOptions { origin, if_version, idempotency } = options;
        self.idempotently(merchant, idempotency, |claim| async move {
            for _ in 0..UPDATE_ATTEMPTS {
                let current = self.store().user(merchant, id).await?;
                if if_version.is_some_and(|version| version != current.version) {
                    return Err(StoreError::VersionMismatch.into());
                }
                let next = current.replaced(change(&current.fields), crate::now());
                self.merchant_rules(merchant, &next.fields).await?;
                let response = render(&next);
                let answer = claim.as_ref().map(|claim| claim.answer(next.id, &response));
                match self.store().update_user(merchant, &next, current.version, origin, answer.as_ref()).await {
                    Err(StoreError::VersionMismatch) if if_version.is_none() => continue,
                    Err(error) => return Err(error.into()),
                    Ok(()) => return Ok(response),
                }
            }
            Err(StoreError::VersionMismatch.into())
        })
        .await
    }

    /// Erases a user: every personal field, custom value, unique key and point is gone,
    /// and the user is not found any more. With `if_version`, only at that version.
    pub async fn erase_user(
        &self,
        merchant: MerchantId,
        id: UserId,
        if_version: Option<i64>,
        origin: &Origin,
    ) -> Result<(), StoreError> {
        self.store().erase_user(merchant, id, if_version, origin, crate::now()).await
    }

    /// The recorded changes of a user who has not been erased, oldest first.
    pub async fn user_changes(&self, merchant: MerchantId, id: UserId) -> Result<Vec<UserChange>, StoreError> {
        self.store().user(merchant, id).await?;
        self.store().user_changes(merchant, id).await
    }

    /// Runs `work` at most once per idempotency key: a repeat gets the first answer, a
    /// concurrent repeat waits for it, another request under the key is refused. A failed
    /// `work` changed nothing and leaves the key unused. A repeat whose answer held a user
    /// erased since is answered as that user is now: not found (each surface in its words).
    pub(crate) async fn idempotently<F, Fut, E>(
        &self,
        merchant: MerchantId,
        idempotency: Option<&IdempotencyRequest>,
        work: F,
    ) -> Result<Answer, E>
    where
        F: FnOnce(Option<Claim>) -> Fut,
        Fut: Future<Output = Result<StoredResponse, E>>,
        E: From<UserError>,
    {
        let Some(request) = idempotency else {
            return work(None).await.map(Answer::Fresh);
        };
        let waited_since = Instant::now();
        let claim = loop {
            let claim = self
                .store()
                .claim_idempotency_key(
                    merchant,
                    &request.key,
                    &request.fingerprint,
                    crate::now(),
                    self.idempotency_lease(),
                    IDEMPOTENCY_RETENTION,
                )
                .await
                .map_err(|e| E::from(UserError::Store(e)))?;
            match claim {
                IdempotencyClaim::Claimed(lease) => break Claim { key: request.key.clone(), lease },
                IdempotencyClaim::Replay(response) => return Ok(Answer::Replayed(response)),
                IdempotencyClaim::Erased => return Err(UserError::Store(StoreError::NotFound).into()),
                IdempotencyClaim::Mismatch => return Err(UserError::KeyReused.into()),
                IdempotencyClaim::InFlight if waited_since.elapsed() < IN_FLIGHT_WAIT => {
                    tokio::time::sleep(StdDuration::from_millis(20)).await;
                }
                IdempotencyClaim::InFlight => return Err(UserError::KeyInFlight.into()),
            }
        };
        match work(Some(claim.clone())).await {
            Ok(response) => Ok(Answer::Fresh(response)),
            Err(error) => {
                if let Err(release) = self.store().release_idempotency_key(merchant, &claim.key, &claim.lease).await {
                    tracing::warn!(error = %release, "could not release an idempotency key; it expires with its lease");
                }
                Err(error)
            }
        }
    }
}
