//! The one storage interface of Clientele, implemented for SQLite and PostgreSQL.
//!
//! Tenant isolation is part of the method signatures: every method that reads or writes a
//! merchant's data takes that merchant's [`MerchantId`], and there is no method that reads
//! tenant data across merchants. The only lookups without a merchant are the ones that find
//! out who is calling (an API key by its digest or id) and the platform's own merchant list.

mod error;
pub mod fence;
mod idempotency;
pub mod invariants;
mod metrics;
pub mod personal;
mod records;

#[cfg(feature = "conformance")]
pub mod conformance;

use async_trait::async_trait;
use clientele_domain::contract::{Contract, ContractId, ContractNumber};
use clientele_domain::credential::{ApiKey, ApiKeyId, KeyDigest, StoredSigningKey};
use clientele_domain::interaction_point::{InteractionPoint, InteractionPointId};
use clientele_domain::merchant::{Merchant, MerchantId, MerchantNumber};
use clientele_domain::payment::{PaymentRequest, PaymentRequestId, PublicAccessGuid};
use clientele_domain::property::{PropertyDefinition, PropertyId};
use clientele_domain::user::{Origin, User, UserChange, UserId};
use time::{Duration, OffsetDateTime};

pub use error::{StoreError, Unique};
pub use fence::{KeyFreshness, RevocationWatch};
pub use idempotency::{Decision, KeyRow, Lease, PURGE_IDEMPOTENCY_KEYS, decide};
pub use invariants::Violation;
pub use metrics::StoreMetrics;
pub use records::{
    IdempotencyClaim, IdempotentAnswer, NewUserRecord, PageRequest, PaymentFilter, PhoneLookup, StoredResponse,
    UserFilter, custom_values_from_json,
};

/// Everything Clientele keeps. Both implementations pass the same conformance suite.
#[async_trait]
pub trait Store: std::fmt::Debug + Send + Sync + 'static {
    /// Which backend this is (`sqlite`, `postgres`), for logs and metrics.
    fn backend(&self) -> &'static str;

    /// How a process's cache of key rows is kept honest (see [`fence`]). A backend that
    /// answers [`KeyFreshness::Announced`] starts telling `watch` about every revocation.
    fn watch_revocations(&self, watch: std::sync::Arc<dyn RevocationWatch>) -> KeyFreshness;

    /// Answers when the database is reachable and usable.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Checks the whole database: the backend's own integrity check (SQLite), then every
    /// rule of [`invariants::invariants`]. Answers what does not hold; empty when all does.
    /// Reads across merchants, but only counts rows: it returns no data.
    async fn check_invariants(&self) -> Result<Vec<Violation>, StoreError>;

    // --- merchants (the platform's own data) -------------------------------------------

    /// Creates a merchant together with its first key, in one transaction.
    /// Conflicts: [`Unique::MerchantNumber`].
    async fn create_merchant(&self, merchant: &Merchant, first_key: &ApiKey) -> Result<(), StoreError>;

    async fn merchant(&self, id: MerchantId) -> Result<Merchant, StoreError>;

    async fn merchant_by_number(&self, number: &MerchantNumber) -> Result<Merchant, StoreError>;

    /// Turns the strict South African ID check on or off for a merchant.
    async fn set_strict_sa_id(&self, merchant: MerchantId, strict: bool) -> Result<Merchant, StoreError>;

    /// All merchants, oldest first. For platform keys only.
    async fn list_merchants(&self) -> Result<Vec<Merchant>, StoreError>;

    // --- credentials -------------------------------------------------------------------

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

    /// Conflicts: [`Unique::SigningKey`].
    async fn add_signing_key(&self, key: &StoredSigningKey) -> Result<(), StoreError>;

    /// Replaces the stored bytes of key `kid` with `to` if they are still `from`, and says
    /// whether it did: several processes may reseal the same row at once, and one wins.
    async fn reseal_signing_key(&self, kid: &str, from: &[u8], to: &[u8]) -> Result<bool, StoreError>;

    // --- interaction points ------------------------------------------------------------

    /// Conflicts: [`Unique::InteractionPoint`].
    async fn create_interaction_point(&self, merchant: MerchantId, point: &InteractionPoint) -> Result<(), StoreError>;

    async fn interaction_point(
        &self,
        merchant: MerchantId,
        id: &InteractionPointId,
    ) -> Result<InteractionPoint, StoreError>;

    /// The merchant's interaction points, in order of id.
    async fn list_interaction_points(&self, merchant: MerchantId) -> Result<Vec<InteractionPoint>, StoreError>;

    async fn deactivate_interaction_point(
        &self,
        merchant: MerchantId,
        id: &InteractionPointId,
    ) -> Result<InteractionPoint, StoreError>;

    // --- custom property definitions ---------------------------------------------------

    /// Conflicts: [`Unique::PropertyId`], or [`Unique::PropertyName`] when an active
    /// definition of the merchant already has that name.
    async fn create_property(&self, merchant: MerchantId, property: &PropertyDefinition) -> Result<(), StoreError>;

    /// The merchant's property definitions, oldest first.
    async fn list_properties(&self, merchant: MerchantId) -> Result<Vec<PropertyDefinition>, StoreError>;

    async fn deactivate_property(&self, merchant: MerchantId, id: PropertyId)
    -> Result<PropertyDefinition, StoreError>;

    // --- users -------------------------------------------------------------------------

    /// Stores a new user with its optional first contract, records the change with its
    /// `origin`, and completes `answer`'s idempotency key, in one transaction.
    /// Conflicts: [`Unique::CustomerRef`], [`Unique::NationalId`], [`Unique::ContractNumber`].
    async fn create_user(
        &self,
        merchant: MerchantId,
        user: &User,
        contract: Option<&Contract>,
        origin: &Origin,
        answer: Option<&IdempotentAnswer>,
    ) -> Result<(), StoreError>;

    /// A user who has not been erased.
    async fn user(&self, merchant: MerchantId, id: UserId) -> Result<User, StoreError>;

    /// Replaces a user's stored state with `user` if it is still at `expected_version`
    /// (else [`StoreError::VersionMismatch`]); `user.version` is the new version.
    async fn update_user(
        &self,
        merchant: MerchantId,
        user: &User,
        expected_version: i64,
        origin: &Origin,
        answer: Option<&IdempotentAnswer>,
    ) -> Result<(), StoreError>;

    /// Erases a user: clears every personal field and unique key, drops its custom property
    /// values and resets its points to 0, keeping the row for the records tied to it.
    /// With `expected_version`, only if the user is still at that version.
    async fn erase_user(
        &self,
        merchant: MerchantId,
        id: UserId,
        expected_version: Option<i64>,
        origin: &Origin,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Every recorded change of a user, oldest first; kept after erasure.
    async fn user_changes(&self, merchant: MerchantId, id: UserId) -> Result<Vec<UserChange>, StoreError>;

    /// One page of the merchant's users that match `filter`, in id (creation) order.
    async fn list_users(
        &self,
        merchant: MerchantId,
        filter: &UserFilter,
        page: PageRequest,
    ) -> Result<Vec<User>, StoreError>;

    // --- idempotency -------------------------------------------------------------------

    /// Claims `key` for a request with this `fingerprint` (see [`decide`]). A key older
    /// than `retention` counts as unused; a claim not completed within `lease` (its process
    /// died) may be taken over, under a new [`Lease`].
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

    // --- contracts and batches ---------------------------------------------------------

    /// Creates users, each with its optional first contract, each standing alone: an item
    /// that fails (a conflict) writes nothing and does not stop the others. The answer has
    /// one result per item, in order.
    async fn create_users(
        &self,
        merchant: MerchantId,
        items: &[NewUserRecord],
        origin: &Origin,
    ) -> Result<Vec<Result<(), StoreError>>, StoreError>;

    /// Stores a new contract of an existing user. Conflicts: [`Unique::ContractNumber`].
    async fn create_contract(&self, merchant: MerchantId, contract: &Contract) -> Result<(), StoreError>;

    async fn contract(&self, merchant: MerchantId, id: ContractId) -> Result<Contract, StoreError>;

    async fn contract_by_number(&self, merchant: MerchantId, number: &ContractNumber) -> Result<Contract, StoreError>;

    /// A user's contracts, oldest first.
    async fn contracts_of_user(&self, merchant: MerchantId, user: UserId) -> Result<Vec<Contract>, StoreError>;

    /// Replaces a contract's stored state if it is still at `expected_version`.
    async fn update_contract(
        &self,
        merchant: MerchantId,
        contract: &Contract,
        expected_version: i64,
    ) -> Result<(), StoreError>;

    // --- call sequences ----------------------------------------------------------------

    /// The merchant's next call sequence number: increasing, also across processes.
    async fn next_call_sequence(&self, merchant: MerchantId) -> Result<i64, StoreError>;

    // --- payment requests --------------------------------------------------------------

    /// Stores a payment request and its public link, with the user it belongs to when that
    /// user is new, in one transaction. Conflicts: [`Unique::InvoiceNumber`], and the
    /// user's own ([`Unique::CustomerRef`], [`Unique::NationalId`]).
    async fn create_payment_request(
        &self,
        merchant: MerchantId,
        request: &PaymentRequest,
        new_user: Option<&User>,
        origin: &Origin,
        answer: Option<&IdempotentAnswer>,
    ) -> Result<(), StoreError>;

    async fn payment_request(&self, merchant: MerchantId, id: PaymentRequestId) -> Result<PaymentRequest, StoreError>;

    async fn payment_request_by_invoice(
        &self,
        merchant: MerchantId,
        invoice: &str,
    ) -> Result<PaymentRequest, StoreError>;

    /// Finds whose payment request a public link is: the one lookup by something other than
    /// the merchant, because the link's GUID is all a debtor has.
    async fn resolve_public_link(&self, guid: PublicAccessGuid) -> Result<(MerchantId, PaymentRequestId), StoreError>;

    /// A page of the merchant's payment requests, in id order.
    async fn list_payment_requests(
        &self,
        merchant: MerchantId,
        filter: &PaymentFilter,
    ) -> Result<Vec<PaymentRequest>, StoreError>;

    /// Replaces a request's stored state if it is still at `expected_version`.
    async fn update_payment_request(
        &self,
        merchant: MerchantId,
        request: &PaymentRequest,
        expected_version: i64,
    ) -> Result<(), StoreError>;
}
