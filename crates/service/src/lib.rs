//! Clientele's use cases over the store, shared by the HTTP surfaces and the CLI: issuing
//! and checking credentials, and managing a merchant's settings.

mod access;
mod contracts;
mod keys;
mod payments;
mod registry;
mod retention;
mod secrets;
mod tokens;
mod users;

pub use access::{AccessError, AuthError, Principal};
pub use contracts::{ContractError, NewUser};
pub use payments::{Debtor, PaymentError, Requested};
pub use registry::{IssuedKey, Registry};
pub use retention::SWEEP_BATCH;
pub use secrets::{MasterKey, SecretsError, is_sealed};
pub use tokens::{AccessToken, RotatedKey, SigningKeyError, TokenSettings};
pub use users::{Answer, IDEMPOTENCY_LEASE, IDEMPOTENCY_RETENTION, IdempotencyRequest, UserError, WriteOptions};

/// The current time, to the microsecond (the precision both stores keep).
pub fn now() -> time::OffsetDateTime {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000).unwrap_or(now)
}
