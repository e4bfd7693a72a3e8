//! The one storage interface of Clientele, and everything of it that does not depend on the
//! database: the [`Store`] traits and their one implementation over a [`Backend`], the
//! description of every table ([`schema`]), the statements both dialects share ([`sql`]),
//! the idempotency decision, erasure ([`personal`]) and the invariants. SQLite and
//! PostgreSQL each provide connections, transactions, migrations and the few statements
//! where their dialects really differ.
//!
//! Tenant isolation is part of the method signatures: every method that reads or writes a
//! merchant's data takes that merchant's id, and there is no method that reads tenant data
//! across merchants. The only lookups without a merchant are the ones that find out who is
//! calling (an API key by its digest or id) and the platform's own merchant list.

mod backend;
mod contracts;
mod credentials;
mod error;
mod events;
pub mod fence;
mod idempotency;
pub mod invariants;
mod keys;
mod merchants;
mod metrics;
mod operations;
mod payment_pages;
mod payments;
pub mod personal;
mod points;
mod records;
pub mod schema;
mod sequences;
pub mod sql;
mod users;
mod webhooks;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use backend::{Backend, Db, Work, run_now, work};
pub use contracts::ContractStore;
pub use credentials::CredentialStore;
pub use error::{StoreError, Unique};
pub use events::{EventCursor, EventQuery, EventStore, StoredEvent};
pub use fence::{KeyFreshness, RevocationWatch};
pub use idempotency::{Decision, KeyRow, Lease, decide};
pub use invariants::Violation;
pub use keys::IdempotencyStore;
pub use merchants::MerchantStore;
pub use metrics::StoreMetrics;
pub use operations::OperationsStore;
pub use payment_pages::PaymentPageStore;
pub use payments::PaymentStore;
pub use points::{PointsAnswer, PointsOutcome, PointsQuery, PointsStore};
pub use records::{
    IdempotencyClaim, IdempotentAnswer, NewUserRecord, PageRequest, PaymentFilter, PhoneLookup, StoredResponse,
    UserFilter, custom_values_from_json,
};
pub use sequences::SequenceStore;
pub use users::UserStore;
pub use webhooks::{
    Claimed, DeliveryLease, DeliveryQuery, DeliveryStore, FannedOut, Made, StoredEndpoint, Wants, WebhookStore,
};

/// What a backend's own statements, where its dialect differs, build on: the row mapping
/// and the statements of [`crate::schema`]'s tables that both dialects share.
pub mod dialect {
    pub use crate::events::{WRITTEN as EVENT_COLUMNS, insert as insert_events, row as event_row};
    pub use crate::merchants::point as interaction_point;
    pub use crate::payments::values as payment_values;
    pub use crate::users::write::{insert_values, missing_or_changed, record, replace_values};
    pub use crate::users::{
        PROPERTIES_AT, WRITTEN as USER_COLUMNS, kept_by_updates, user, user_with_properties, values as user_values,
    };
}

/// Everything Clientele keeps, one trait per aggregate. Both backends implement it the same
/// way: every method is written once in this crate, over a [`Backend`].
pub trait Store:
    OperationsStore
    + MerchantStore
    + CredentialStore
    + UserStore
    + IdempotencyStore
    + ContractStore
    + PaymentStore
    + PaymentPageStore
    + SequenceStore
    + EventStore
    + WebhookStore
    + DeliveryStore
    + PointsStore
{
}

impl<B: Backend> Store for B {}
