//! The tenant: every piece of data belongs to exactly one merchant.

use time::OffsetDateTime;

use crate::id::uuid_id;
use crate::{DisplayName, FieldError, Violation};

uuid_id!(
    /// The merchant's own id, assigned by Clientele.
    MerchantId
);

/// The merchant's public number (RealPay's `merchant_number`): 1 to 32 letters, digits,
/// `-` or `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct MerchantNumber(String);

impl MerchantNumber {
    pub const MAX: usize = 32;

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        if value.is_empty() {
            return Err(FieldError::new(field, Violation::Empty));
        }
        if value.len() > Self::MAX {
            return Err(FieldError::new(field, Violation::TooLong { max: Self::MAX }));
        }
        if !value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(FieldError::new(field, Violation::Format { expected: "letters, digits, '-' or '_'" }));
        }
        Ok(MerchantNumber(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A merchant as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merchant {
    pub id: MerchantId,
    pub number: MerchantNumber,
    pub name: DisplayName,
    pub created_at: OffsetDateTime,
    /// Whether South African ID numbers are checked strictly (13 digits, Luhn, agreeing with
    /// the date of birth and gender) on every surface. Off by default.
    pub strict_sa_id: bool,
}

impl Merchant {
    /// A new merchant with a fresh id.
    pub fn new(number: MerchantNumber, name: DisplayName, now: OffsetDateTime) -> Self {
        Merchant { id: MerchantId::generate(), number, name, created_at: now, strict_sa_id: false }
    }

    /// Rebuilds a merchant from stored columns, which were parsed before they were written.
    pub fn from_stored(
        id: MerchantId,
        number: String,
        name: String,
        created_at: OffsetDateTime,
        strict_sa_id: bool,
    ) -> Self {
        Merchant { id, number: MerchantNumber(number), name: DisplayName::from_stored(name), created_at, strict_sa_id }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merchant_numbers_are_short_and_plain() {
        assert!(MerchantNumber::parse("number", "M-1001_a").is_ok());
        assert!(MerchantNumber::parse("number", "").is_err());
        assert!(MerchantNumber::parse("number", "has space").is_err());
        assert!(MerchantNumber::parse("number", &"9".repeat(33)).is_err());
    }
}
