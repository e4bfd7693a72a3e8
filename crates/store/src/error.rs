use std::fmt;

/// The uniqueness rule a write broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unique {
    MerchantNumber,
    ApiKey,
    SigningKey,
    InteractionPoint,
    PropertyId,
    PropertyName,
    CustomerRef,
    NationalId,
    ContractNumber,
    InvoiceNumber,
    PointsReference,
    PointsReversal,
}

impl fmt::Display for Unique {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unique::MerchantNumber => "a merchant with this number already exists",
            Unique::ApiKey => "this API key already exists",
            Unique::SigningKey => "this signing key already exists",
            Unique::InteractionPoint => "an interaction point with this id already exists",
            Unique::PropertyId => "a property definition with this id already exists",
            Unique::PropertyName => "an active property definition with this name already exists",
            Unique::CustomerRef => "a user with this customer reference already exists",
            Unique::NationalId => "a user with this national id and country already exists",
            Unique::ContractNumber => "a contract with this number already exists",
            Unique::InvoiceNumber => "a payment request with this invoice number already exists",
            Unique::PointsReference => "a points entry with this reference already exists",
            Unique::PointsReversal => "this points entry has been reversed already",
        })
    }
}

/// What can go wrong in a store. Few and typed: callers decide on the variant, never on text.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such row for this merchant (another merchant's row is not found either).
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; nothing was written.
    #[error("conflict: {0}")]
    Conflict(Unique),
    /// The row changed since it was read (optimistic concurrency); nothing was written.
    #[error("the row was changed by another write")]
    VersionMismatch,
    /// The request's API key, taken from a cache, turned out revoked when its transaction
    /// checked it (see [`fence`](crate::fence)); nothing was read or written.
    #[error("the API key was revoked")]
    KeyRevoked,
    /// The idempotency claim an answer was to complete was taken over by another request
    /// (its lease had run out); nothing was written.
    #[error("the idempotency key was taken over by another request")]
    LeaseLost,
    /// The database failed; the detail is for the log, never for a client.
    #[error("storage failure: {0}")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub fn other(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StoreError::Other(error.into())
    }
}
