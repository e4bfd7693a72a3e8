//! The one refusal type: every reason a request is not carried out, from a body that cannot
//! be read to a rule of the registry. Every service method answers with it, the surface kit
//! turns its own failures into it, and each surface renders it in its own shape, once.

use std::fmt;

use clientele_domain::{FieldError, ValidationErrors};
use clientele_store::{StoreError, Unique};

use crate::AuthError;

/// Which part of a request's head is over its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Oversize {
    /// The URI (path and query string), over `limit` bytes.
    Uri { limit: usize },
    /// The header section, over `limit` bytes.
    Headers { limit: usize },
}

impl fmt::Display for Oversize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Oversize::Uri { limit } => {
                write!(f, "the request URI (path and query string) is longer than {limit} bytes")
            }
            Oversize::Headers { limit } => write!(f, "the request's headers are larger than {limit} bytes"),
        }
    }
}

/// Why a request is not carried out. What a variant says is safe to show to the caller.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    // --- the request as sent ------------------------------------------------------------
    /// The body or query string cannot be read at all.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// Fields are missing, unknown, of the wrong type or break a rule; each is named.
    #[error("invalid fields")]
    Invalid(ValidationErrors),
    /// The body is over the limit.
    #[error("the request body is too large")]
    TooLarge,
    /// The body's content type is not one the surface reads.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// The request's head is over a limit.
    #[error("{0}")]
    Oversize(Oversize),

    // --- who is calling -----------------------------------------------------------------
    /// No credential, or one not accepted.
    #[error("{0}")]
    Unauthenticated(AuthError),
    /// A rate limit is reached: the key's, or the client address's.
    #[error("rate limited")]
    RateLimited { retry_after_seconds: u64 },
    /// The credential's role does not allow this.
    #[error("this credential's role does not allow this operation")]
    Forbidden,
    /// A merchant named in the path or body is not the caller's; whether it exists is not
    /// said.
    #[error("no such merchant")]
    UnknownMerchant,
    /// The interaction point named is not a registered, active one of the merchant.
    #[error("the interaction point is not registered and active")]
    UnregisteredInteractionPoint,

    // --- what the registry holds --------------------------------------------------------
    /// No such resource for this merchant (or it was erased).
    #[error("not found")]
    NotFound,
    /// A uniqueness rule would be broken; nothing was written.
    #[error("{0}")]
    Conflict(Unique),
    /// The resource is not at the version the request names (or it changed meanwhile).
    #[error("the resource has changed")]
    VersionMismatch,
    /// The idempotency key was used for another request.
    #[error("the idempotency key was used for another request")]
    KeyReused,
    /// A request with this idempotency key is still being worked on.
    #[error("a request with this idempotency key is still being processed")]
    KeyInFlight,
    /// Another payment request already has this invoice number.
    #[error("a different payment request already has this invoice number")]
    InvoiceTaken,
    /// A payment request cannot move from its status to the one asked for.
    #[error("a payment request that is {from} cannot become {to}")]
    NotAllowed { from: &'static str, to: &'static str },
    /// A spend or a negative adjustment would take the balance, which this is, below zero.
    #[error("the balance of {balance} points is too low for this")]
    InsufficientPoints { balance: i64 },
    /// The points entry cannot be reversed (an expiry, a reset, a reversal), or already was.
    #[error("this points entry cannot be reversed, or has been already")]
    NotReversible,
    /// A cancelled contract cannot be changed.
    #[error("a cancelled contract cannot be changed")]
    ContractCancelled,
    /// The request did not finish within the time it is given.
    #[error("the request did not finish within the configured time")]
    Timeout,
    /// The server failed; the detail is for the log, never for the caller.
    #[error("internal failure: {0}")]
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl Refusal {
    pub fn internal(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Refusal::Internal(error.into())
    }

    /// The HTTP status a surface answers this with unless its vendor says otherwise.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Malformed(_) | Refusal::Invalid(_) => 400,
            Refusal::Unauthenticated(_) => 401,
            Refusal::Forbidden | Refusal::UnregisteredInteractionPoint => 403,
            Refusal::NotFound | Refusal::UnknownMerchant => 404,
            Refusal::Conflict(_)
            | Refusal::KeyInFlight
            | Refusal::InvoiceTaken
            | Refusal::InsufficientPoints { .. }
            | Refusal::NotReversible => 409,
            Refusal::VersionMismatch => 412,
            Refusal::TooLarge => 413,
            Refusal::Oversize(Oversize::Uri { .. }) => 414,
            Refusal::UnsupportedMediaType => 415,
            Refusal::KeyReused | Refusal::NotAllowed { .. } | Refusal::ContractCancelled => 422,
            Refusal::RateLimited { .. } => 429,
            Refusal::Oversize(Oversize::Headers { .. }) => 431,
            Refusal::Internal(_) => 500,
            Refusal::Timeout => 503,
        }
    }
}

impl From<StoreError> for Refusal {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Refusal::NotFound,
            StoreError::Conflict(rule) => Refusal::Conflict(rule),
            StoreError::VersionMismatch => Refusal::VersionMismatch,
            // The same answer as a key found revoked when the request came in.
            StoreError::KeyRevoked => Refusal::Unauthenticated(AuthError::Invalid),
            // A claim taken over while its request worked is the other request's now: this
            // one wrote nothing, and the key is being worked on.
            StoreError::LeaseLost => Refusal::KeyInFlight,
            StoreError::Other(cause) => Refusal::Internal(cause),
        }
    }
}

impl From<ValidationErrors> for Refusal {
    fn from(errors: ValidationErrors) -> Self {
        Refusal::Invalid(errors)
    }
}

impl From<FieldError> for Refusal {
    fn from(error: FieldError) -> Self {
        Refusal::Invalid(error.into())
    }
}

impl From<AuthError> for Refusal {
    fn from(error: AuthError) -> Self {
        Refusal::Unauthenticated(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_failures_become_the_refusals_callers_act_on() {
        assert!(matches!(Refusal::from(StoreError::NotFound), Refusal::NotFound));
        assert!(matches!(Refusal::from(StoreError::LeaseLost), Refusal::KeyInFlight));
        assert!(matches!(Refusal::from(StoreError::KeyRevoked), Refusal::Unauthenticated(AuthError::Invalid)));
        assert!(matches!(Refusal::from(StoreError::other("disk")), Refusal::Internal(_)));
        assert_eq!(Refusal::from(StoreError::Conflict(Unique::CustomerRef)).status(), 409);
        assert_eq!(Refusal::Oversize(Oversize::Headers { limit: 1 }).status(), 431);
    }
}
