//! A phone number: what was given, and its E.164 and national forms where it is valid.

use super::CountryCode;
use super::fields::restricted;
use crate::{FieldError, Violation};

/// A phone number as given, and its E.164 form where it parses as a valid number (with the
/// user's country as the hint for national formats). Lookups match either.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone {
    given: String,
    e164: Option<String>,
    national: Option<String>,
}

impl Phone {
    pub const MAX: usize = 32;

    pub fn parse(field: &str, value: &str, country: Option<CountryCode>) -> Result<Self, FieldError> {
        let allowed = |c: char| c.is_ascii_digit() || " +-().".contains(c);
        let given = restricted(field, value, Self::MAX, allowed, "a phone number (digits, spaces, +, -, parentheses)")?;
        if !given.chars().any(|c| c.is_ascii_digit()) {
            return Err(FieldError::new(field, Violation::Format { expected: "a phone number with digits" }));
        }
        Ok(Phone::from_given(given, country))
    }

    fn from_given(given: String, country: Option<CountryCode>) -> Self {
        let parsed = parse_valid(&given, country);
        let e164 = parsed.as_ref().map(|p| p.format().mode(phonenumber::Mode::E164).to_string());
        let national = parsed.map(|p| p.national().value().to_string());
        Phone { given, e164, national }
    }

    /// The same number with its E.164 form worked out again for another country.
    pub fn for_country(&self, country: Option<CountryCode>) -> Self {
        Phone::from_given(self.given.clone(), country)
    }

    pub fn as_str(&self) -> &str {
        &self.given
    }

    pub fn e164(&self) -> Option<&str> {
        self.e164.as_deref()
    }

    /// The national significant number (without country code or trunk prefix), where the
    /// number is valid: what a client sends "without the dial code".
    pub fn national(&self) -> Option<&str> {
        self.national.as_deref()
    }

    pub fn from_stored(given: String, e164: Option<String>, national: Option<String>) -> Self {
        Phone { given, e164, national }
    }
}

fn parse_valid(number: &str, country: Option<CountryCode>) -> Option<phonenumber::PhoneNumber> {
    let region = country.and_then(|c| c.as_str().parse::<phonenumber::country::Id>().ok());
    let parsed = phonenumber::parse(region, number).ok()?;
    phonenumber::is_valid(&parsed).then_some(parsed)
}

/// The E.164 form of a phone number, where it is a valid one.
pub fn e164(number: &str, country: Option<CountryCode>) -> Option<String> {
    parse_valid(number, country).map(|p| p.format().mode(phonenumber::Mode::E164).to_string())
}

/// What a number typed "with or without the dial code" is, as a national significant
/// number: the national part of a valid international number, or else its digits without
/// trunk zeros (`0827648862` and `827648862` are both `827648862`).
pub fn national_digits(number: &str) -> String {
    match parse_valid(number, None) {
        Some(parsed) => parsed.national().value().to_string(),
        None => number.chars().filter(char::is_ascii_digit).collect::<String>().trim_start_matches('0').to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_keep_what_was_given_and_add_e164_where_valid() {
        let za = CountryCode::parse("c", "ZA").ok();
        let phone = Phone::parse("phone", "082 764 8862", za).unwrap();
        assert_eq!(phone.as_str(), "082 764 8862");
        assert_eq!(phone.e164(), Some("+27827648862"));
        assert_eq!(phone.national(), Some("827648862"));
        assert_eq!(national_digits("0827648862"), "827648862");
        assert_eq!(national_digits("+27 82 764 8862"), "827648862");
        let international = Phone::parse("phone", "+27 82 764 8862", None).unwrap();
        assert_eq!(international.e164(), Some("+27827648862"));
        let short = Phone::parse("phone", "012345", None).unwrap();
        assert_eq!((short.as_str(), short.e164()), ("012345", None));
        assert!(Phone::parse("phone", "call me", None).is_err());
        assert!(Phone::parse("phone", "++--", None).is_err());
    }
}
