//! Debit-order contracts: a user's agreement to be collected from, and its instalment
//! schedule, which is derived from the terms and never stored by hand.

mod schedule;
mod terms;

use time::OffsetDateTime;

use crate::id::uuid_id;
use crate::user::UserId;
use crate::{FieldError, Violation};

pub use schedule::{Collection, WEEKEND_RULE};
pub use terms::{CollectionDay, ContractTerms, Frequency, InstalmentStart, TermsInput, TrackingCode};

uuid_id!(
    /// A contract's id, assigned by Clientele.
    ContractId
);

/// The merchant's number for a contract: 1 to 20 letters or digits, unique per merchant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContractNumber(String);

impl ContractNumber {
    pub const MAX: usize = 20;

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(FieldError::new(field, Violation::Empty));
        }
        if value.chars().count() > Self::MAX {
            return Err(FieldError::new(field, Violation::TooLong { max: Self::MAX }));
        }
        if !value.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(FieldError::new(field, Violation::Format { expected: "letters and digits" }));
        }
        Ok(ContractNumber(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_stored(value: String) -> Self {
        ContractNumber(value)
    }
}

/// Whether a contract is still collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContractStatus {
    Active,
    Cancelled,
}

impl ContractStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ContractStatus::Active => "active",
            ContractStatus::Cancelled => "cancelled",
        }
    }

    pub fn from_stored(value: &str) -> Option<Self> {
        match value {
            "active" => Some(ContractStatus::Active),
            "cancelled" => Some(ContractStatus::Cancelled),
            _ => None,
        }
    }
}

/// A contract as stored. A contract may be known by its number before its instalment
/// terms are agreed (a payment gateway registers only the number); it has a schedule once
/// it has terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    pub id: ContractId,
    pub user_id: UserId,
    pub number: ContractNumber,
    pub terms: Option<ContractTerms>,
    pub status: ContractStatus,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Contract {
    /// A new active contract of `user`.
    pub fn new(user_id: UserId, number: ContractNumber, terms: Option<ContractTerms>, now: OffsetDateTime) -> Self {
        Contract {
            id: ContractId::generate(),
            user_id,
            number,
            terms,
            status: ContractStatus::Active,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Which of a user's contracts (oldest first) is the current one: the most recent active
/// contract, else the most recent.
pub fn current(contracts: &[Contract]) -> Option<&Contract> {
    contracts.iter().rev().find(|c| c.status == ContractStatus::Active).or(contracts.last())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_contract_is_the_latest_active_one_else_the_latest() {
        let user = crate::user::UserId::generate();
        let at = time::OffsetDateTime::UNIX_EPOCH;
        let contract = |n: &str, status| Contract {
            status,
            ..Contract::new(user, ContractNumber::parse("n", n).unwrap(), None, at)
        };
        let (a, b, c) = (
            contract("A", ContractStatus::Active),
            contract("B", ContractStatus::Active),
            contract("C", ContractStatus::Cancelled),
        );
        let current_of = |list: &[Contract]| current(list).map(|c| c.number.as_str().to_owned());
        assert_eq!(current_of(&[a, b, c.clone()]).as_deref(), Some("B"));
        assert_eq!(current_of(&[c]).as_deref(), Some("C"));
        assert_eq!(current_of(&[]), None);
    }

    #[test]
    fn contract_numbers_are_short_and_alphanumeric() {
        assert!(ContractNumber::parse("n", "C1603").is_ok());
        assert!(ContractNumber::parse("n", "123456789").is_ok());
        assert!(ContractNumber::parse("n", "C-1603").is_err());
        assert_eq!(ContractNumber::parse("n", &"1".repeat(21)).unwrap_err().violation, Violation::TooLong { max: 20 });
    }
}
