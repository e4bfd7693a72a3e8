//! Money: a decimal with at most two places, never a float.

use std::fmt;
use std::str::FromStr as _;

use rust_decimal::Decimal;

use crate::{FieldError, Violation};

/// An amount of money: 0 to 999,999,999,999.99, with at most two decimal places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Money(Decimal);

impl Money {
    /// The largest amount accepted.
    pub const MAX: Decimal = Decimal::from_parts(276_447_231, 23_283, 0, false, 2);

    /// Parses decimal text (`123.45`, `"123.45"`, `100`), exactly: no rounding.
    pub fn parse(field: &str, text: &str) -> Result<Self, FieldError> {
        let format =
            || FieldError::new(field, Violation::Format { expected: "an amount with at most two decimal places" });
        let text = text.trim();
        if text.is_empty() || text.contains(['e', 'E']) {
            return Err(format());
        }
        let amount = Decimal::from_str_exact(text).map_err(|_| format())?;
        if amount.normalize().scale() > 2 {
            return Err(format());
        }
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(FieldError::new(field, Violation::Other("must not be negative".into())));
        }
        if amount > Self::MAX {
            return Err(FieldError::new(field, Violation::Other("is too large".into())));
        }
        Ok(Money(amount.round_dp(2)))
    }

    pub fn from_decimal(amount: Decimal) -> Option<Self> {
        (amount.normalize().scale() <= 2 && !amount.is_sign_negative() && amount <= Self::MAX).then_some(Money(amount))
    }

    pub fn amount(self) -> Decimal {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// Rebuilds an amount stored as text by [`fmt::Display`].
    pub fn from_stored(text: &str) -> Option<Self> {
        Decimal::from_str(text).ok().and_then(Self::from_decimal)
    }

    /// `self` times `n`, when it stays within the limit.
    pub fn times(self, n: u32) -> Option<Self> {
        self.0.checked_mul(Decimal::from(n)).and_then(Self::from_decimal)
    }
}

impl fmt::Display for Money {
    /// Always two decimal places: `123.45`, `100.00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn amounts_are_exact_with_two_places_at_most() {
        assert_eq!(Money::parse("a", "1520.75").unwrap().to_string(), "1520.75");
        assert_eq!(Money::parse("a", "123.4").unwrap().to_string(), "123.40");
        assert_eq!(Money::parse("a", "100").unwrap().to_string(), "100.00");
        assert_eq!(Money::parse("a", "0.10").unwrap().to_string(), "0.10");
        for bad in ["1.005", "-1", "abc", "", "1e3", "NaN", "1,5", "9999999999999"] {
            assert!(Money::parse("a", bad).is_err(), "{bad}");
        }
        assert_eq!(Money::parse("a", "999999999999.99").unwrap().amount(), Money::MAX);
    }

    proptest! {
        #[test]
        fn any_two_place_amount_round_trips_through_its_text(cents in 0u64..99_999_999_999_999) {
            let amount = Money::from_decimal(Decimal::new(cents as i64, 2)).unwrap();
            prop_assert_eq!(Money::parse("a", &amount.to_string()).unwrap(), amount);
            prop_assert_eq!(Money::from_stored(&amount.to_string()).unwrap(), amount);
        }
    }
}
