//! Idempotent writes: a write under an `Idempotency-Key` is done at most once; a repeat gets
//! the first answer, which is stored in the same transaction as the write it answers for.
//! A write without a key is simply done, and its caller gets what it wrote.

use std::future::Future;
use std::time::{Duration as StdDuration, Instant};

use clientele_domain::merchant::MerchantId;
use clientele_domain::user::UserId;
use clientele_store::{IdempotencyClaim, IdempotentAnswer, Lease, StoreError, StoredResponse};

use crate::{IDEMPOTENCY_RETENTION, Refusal, Registry};

/// How long a repeat waits for the same request in flight before giving up.
const IN_FLIGHT_WAIT: StdDuration = StdDuration::from_secs(10);

/// A request's `Idempotency-Key`, with what identifies the request itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRequest {
    pub key: String,
    /// The same for repeats of the same request, and only for them (method, path, body).
    pub fingerprint: String,
}

/// A write made idempotent: its request's key, and how the answer a repeat gets is made from
/// what the write wrote.
pub struct Idempotent<'a, T> {
    pub request: &'a IdempotencyRequest,
    pub answer: &'a (dyn Fn(&T) -> StoredResponse + Sync),
}

impl<T> std::fmt::Debug for Idempotent<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idempotent").field("request", &self.request).finish_non_exhaustive()
    }
}

/// What a write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written<T> {
    /// Written now: what was written, and for an idempotent write the answer stored with it.
    Now { value: T, answer: Option<StoredResponse> },
    /// A repeat of an idempotent request: its first answer.
    Repeated(StoredResponse),
}

/// The answer to a write: given now, or repeated from the first time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Fresh(StoredResponse),
    Replayed(StoredResponse),
}

impl<T> Written<T> {
    /// The answer to send: the stored one, or for a write without a key, `render` of it.
    pub fn answer(self, render: impl FnOnce(&T) -> StoredResponse) -> Answer {
        match self {
            Written::Now { answer: Some(answer), .. } => Answer::Fresh(answer),
            Written::Now { value, answer: None } => Answer::Fresh(render(&value)),
            Written::Repeated(answer) => Answer::Replayed(answer),
        }
    }

    /// What was written now; `None` for a repeat.
    pub fn value(self) -> Option<T> {
        match self {
            Written::Now { value, .. } => Some(value),
            Written::Repeated(_) => None,
        }
    }
}

/// The claim of an idempotent write in progress, and how its answer is made.
pub(crate) struct Claimed<'a, T> {
    key: String,
    lease: Lease,
    answer: &'a (dyn Fn(&T) -> StoredResponse + Sync),
}

impl<T> Claimed<'_, T> {
    /// How to complete this claim from a value made later, inside a store's transaction
    /// (which outlives no borrow): with the key and lease, and `render` for the answer.
    pub(crate) fn completion(
        &self,
        render: fn(&T) -> StoredResponse,
    ) -> impl Fn(UserId, &T) -> IdempotentAnswer + Send + Sync + 'static
    where
        T: 'static,
    {
        let (key, lease) = (self.key.clone(), self.lease.clone());
        move |user, value| IdempotentAnswer {
            key: key.clone(),
            lease: lease.clone(),
            user: Some(user),
            response: render(value),
        }
    }

    /// The answer completing this claim, made from `value`, holding `user` (whose erasure
    /// redacts it).
    pub(crate) fn of(&self, user: UserId, value: &T) -> IdempotentAnswer {
        IdempotentAnswer {
            key: self.key.clone(),
            lease: self.lease.clone(),
            user: Some(user),
            response: (self.answer)(value),
        }
    }
}

impl Registry {
    /// Runs `work` at most once per idempotency key: a repeat gets the first answer, a
    /// concurrent repeat waits for it, another request under the key is refused. `work`
    /// answers what it wrote and the answer it stored with it; a failed `work` changed
    /// nothing and leaves the key unused. A repeat whose answer held a user erased since is
    /// answered as that user is now: not found (each surface in its words).
    pub(crate) async fn idempotently<'a, T, F, Fut>(
        &self,
        merchant: MerchantId,
        idempotent: Option<Idempotent<'a, T>>,
        work: F,
    ) -> Result<Written<T>, Refusal>
    where
        F: FnOnce(Option<Claimed<'a, T>>) -> Fut,
        Fut: Future<Output = Result<(T, Option<IdempotentAnswer>), Refusal>>,
    {
        let Some(Idempotent { request, answer }) = idempotent else {
            let (value, _) = work(None).await?;
            return Ok(Written::Now { value, answer: None });
        };
        let waited_since = Instant::now();
        let lease = loop {
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
                .await?;
            match claim {
                IdempotencyClaim::Claimed(lease) => break lease,
                IdempotencyClaim::Replay(response) => return Ok(Written::Repeated(response)),
                IdempotencyClaim::Erased => return Err(Refusal::NotFound),
                IdempotencyClaim::Mismatch => return Err(Refusal::KeyReused),
                IdempotencyClaim::InFlight if waited_since.elapsed() < IN_FLIGHT_WAIT => {
                    tokio::time::sleep(StdDuration::from_millis(20)).await;
                }
                IdempotencyClaim::InFlight => return Err(Refusal::KeyInFlight),
            }
        };
        let claimed = Claimed { key: request.key.clone(), lease: lease.clone(), answer };
        match work(Some(claimed)).await {
            Ok((value, stored)) => Ok(Written::Now { value, answer: stored.map(|stored| stored.response) }),
            Err(error) => {
                if let Err(release) = self.store().release_idempotency_key(merchant, &request.key, &lease).await {
                    tracing::warn!(error = %release, "could not release an idempotency key; it expires with its lease");
                }
                Err(error)
            }
        }
    }

    /// Completes a claim with its answer when the work it answers for wrote nothing with it
    /// (the answer repeats what was found).
    pub(crate) async fn complete_claim(&self, merchant: MerchantId, answer: &IdempotentAnswer) -> Result<(), Refusal> {
        match self.store().complete_idempotency_key(merchant, answer).await {
            Err(StoreError::LeaseLost) => Err(Refusal::KeyInFlight),
            other => Ok(other?),
        }
    }
}
