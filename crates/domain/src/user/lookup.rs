//! What a lookup of users by phone number looks for.

use crate::user::{CountryCode, e164, national_digits};

/// A phone number to look up: as typed, in E.164 where it parses, and as a national
/// number, so that a number "with or without the dial code" matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneLookup {
    pub given: String,
    pub e164: Option<String>,
    pub national: Option<String>,
}

impl PhoneLookup {
    /// A number as a client typed it; a national format is read in `country` when given.
    pub fn of(text: &str, country: Option<CountryCode>) -> Self {
        let national = national_digits(text);
        PhoneLookup {
            e164: e164(text, country),
            national: (!national.is_empty()).then_some(national),
            given: text.to_owned(),
        }
    }

    /// The same digits read as an international number, when they are one: a dial code
    /// written without its `+` (`27827648862`). A lookup that finds nothing tries this next.
    pub fn international(&self) -> Option<PhoneLookup> {
        if self.given.starts_with('+') {
            return None;
        }
        let international = format!("+{}", self.given);
        let e164 = e164(&international, None)?;
        Some(PhoneLookup { e164: Some(e164), national: Some(national_digits(&international)), given: international })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_is_looked_up_as_given_in_e164_and_nationally() {
        let za = CountryCode::parse("country", "ZA").ok();
        let lookup = PhoneLookup::of("082 764 8862", za);
        assert_eq!(lookup.e164.as_deref(), Some("+27827648862"));
        assert_eq!(lookup.national.as_deref(), Some("827648862"));
        assert_eq!(PhoneLookup::of("082 764 8862", None).e164, None);
        assert_eq!(PhoneLookup::of("--", None).national, None);
    }

    #[test]
    fn a_dial_code_without_its_plus_is_tried_as_an_international_number() {
        let again = PhoneLookup::of("27827648862", None).international();
        assert_eq!(again.as_ref().map(|l| l.given.as_str()), Some("+27827648862"));
        assert_eq!(again.as_ref().and_then(|l| l.national.as_deref()), Some("827648862"));
        assert_eq!(PhoneLookup::of("+27827648862", None).international(), None);
        assert_eq!(PhoneLookup::of("12", None).international(), None);
    }
}
