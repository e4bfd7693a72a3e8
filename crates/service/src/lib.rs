//! Clientele's use cases, shared by every surface and the CLI, and the only door to the
//! store: every rule of the registry is here (or in the domain), so it holds on every
//! surface. Every method answers a [`Refusal`] when it does not do what it is asked.

mod access;
mod contracts;
mod events;
mod idempotency;
mod keys;
pub mod maintenance;
mod merchants;
mod payment_pages;
mod payments;
mod points;
mod refusal;
mod registry;
mod retention;
mod secrets;
#[cfg(test)]
mod tests;
mod tokens;
mod users;
mod webhooks;

pub use access::{AuthError, Principal};
pub use contracts::{BatchItem, NewUser};
pub use events::{EVENT_RETENTION, FeedPage};
pub use idempotency::{Answer, IdempotencyRequest, Idempotent, Written};
pub use merchants::MerchantRef;
pub use payment_pages::PublicLink;
pub use payments::{Debtor, Requested};
pub use points::{Balance, EXPIRING_WITHIN, IdempotentPoints, PointsWritten};
pub use refusal::{Oversize, Refusal};
pub use registry::{IssuedKey, Registry};
pub use retention::SWEEP_BATCH;
pub use secrets::{MasterKey, SecretsError, is_sealed};
pub use tokens::{AccessToken, RotatedKey, SigningKeyError, TokenSettings};
pub use users::{CreatedUser, IDEMPOTENCY_LEASE, IDEMPOTENCY_RETENTION, WriteOptions};
pub use webhooks::{EndpointChange, RevealedEndpoint, WebhookSettings};

/// The values of the store that requests are made of and answered with, as the service
/// takes and gives them.
pub use clientele_store::{
    DeliveryQuery, EventCursor, EventQuery, PageRequest, PaymentFilter, PhoneLookup, PointsQuery, StoreMetrics,
    StoredEvent, StoredResponse, Unique, UserFilter,
};

/// How a request that found its key in the process's cache stays as safe as one that read
/// it (see [`clientele_store::fence`]): the surfaces run each request in a fence.
pub use clientele_store::fence;

/// The current time, to the microsecond (the precision both stores keep).
pub fn now() -> time::OffsetDateTime {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000).unwrap_or(now)
}
