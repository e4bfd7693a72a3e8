//! The constrained values a user is made of. Each is built only by parsing.

use std::fmt;

use time::Date;

use crate::text::text_field;
use crate::{FieldError, Violation, bounded_text};

text_field!(
    /// The merchant's own reference for a customer (RealPay `ClientId`, gateway
    /// `customerId`, DuEngage `CustomerUniqueIdentifier`): unique per merchant.
    CustomerRef,
    100
);
text_field!(
    /// A given or family name.
    PersonName,
    100
);
text_field!(
    /// The street and house number, or the whole address line.
    AddressLine,
    512
);
text_field!(
    /// A suburb, city or region.
    Place,
    100
);

/// Checks that `value` (already trimmed) holds only characters `allowed` accepts.
pub(super) fn restricted(
    field: &str,
    value: &str,
    max: usize,
    allowed: fn(char) -> bool,
    expected: &'static str,
) -> Result<String, FieldError> {
    let value = bounded_text(field, value, max)?;
    if value.chars().all(allowed) { Ok(value) } else { Err(FieldError::new(field, Violation::Format { expected })) }
}

/// A postal code: up to 16 letters, digits, spaces or `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PostalCode(String);

impl PostalCode {
    pub const MAX: usize = 16;

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || c == ' ' || c == '-';
        restricted(field, value, Self::MAX, allowed, "letters, digits, spaces or '-'").map(PostalCode)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_stored(value: String) -> Self {
        PostalCode(value)
    }
}

/// A national identity number (with the country, unique per merchant): up to 32 letters,
/// digits or `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NationalId(String);

impl NationalId {
    pub const MAX: usize = 32;

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-';
        restricted(field, value, Self::MAX, allowed, "letters, digits or '-'").map(NationalId)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_stored(value: String) -> Self {
        NationalId(value)
    }
}

/// A passport number: up to 32 letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PassportNumber(String);

impl PassportNumber {
    pub const MAX: usize = 32;

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        restricted(field, value, Self::MAX, |c| c.is_ascii_alphanumeric(), "letters and digits").map(PassportNumber)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_stored(value: String) -> Self {
        PassportNumber(value)
    }
}

/// An e-mail address as given (trimmed). Lookups compare [`Email::lookup_key`], which ignores
/// case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub const MAX: usize = 254;

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let value = bounded_text(field, value, Self::MAX)?;
        let invalid = || FieldError::new(field, Violation::Format { expected: "an e-mail address" });
        let address = email_address::EmailAddress::parse_with_options(
            &value,
            email_address::Options::default().without_display_text(),
        )
        .map_err(|_| invalid())?;
        // A deliverable address has a dotted domain and no quoted or bracketed parts.
        let domain = address.domain();
        let plain = |s: &str| !s.contains(['"', '[', ']', ' ', '(', ')', '\\']);
        if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
            return Err(invalid());
        }
        if !plain(address.local_part()) || !plain(domain) {
            return Err(invalid());
        }
        Ok(Email(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form lookups compare: the address in lower case.
    pub fn lookup_key(&self) -> String {
        self.0.to_lowercase()
    }

    pub fn from_stored(value: String) -> Self {
        Email(value)
    }
}

/// An ISO 3166-1 alpha-2 country code, in upper case; unknown codes are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let code = match value.trim().as_bytes() {
            &[a, b] => [a.to_ascii_uppercase(), b.to_ascii_uppercase()],
            _ => [0, 0],
        };
        match std::str::from_utf8(&code).ok().and_then(rust_iso3166::from_alpha2) {
            Some(_) => Ok(CountryCode(code)),
            None => Err(FieldError::new(field, Violation::Format { expected: "an ISO 3166-1 alpha-2 country code" })),
        }
    }

    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII letters, checked by `parse`.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A gender. Surfaces map their own codes (`M`/`F`, `MALE`/`FEMALE`/`DIVERSE`) to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gender {
    Male,
    Female,
    Diverse,
}

impl Gender {
    pub const CODES: &'static [&'static str] = &["MALE", "FEMALE", "DIVERSE"];

    pub fn code(self) -> &'static str {
        match self {
            Gender::Male => "MALE",
            Gender::Female => "FEMALE",
            Gender::Diverse => "DIVERSE",
        }
    }

    /// Parses `MALE`, `FEMALE` or `DIVERSE`.
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        match value {
            "MALE" => Ok(Gender::Male),
            "FEMALE" => Ok(Gender::Female),
            "DIVERSE" => Ok(Gender::Diverse),
            _ => Err(FieldError::new(field, Violation::NotOneOf { allowed: Self::CODES })),
        }
    }
}

/// A date of birth: a real calendar date, `YYYY-MM-DD`, not in the future and not before 1900.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BirthDate(Date);

impl BirthDate {
    pub fn parse(field: &str, value: &str, today: Date) -> Result<Self, FieldError> {
        let date = parse_date(field, value)?;
        if date > today {
            return Err(FieldError::new(field, Violation::Other("must not be in the future".into())));
        }
        if date.year() < 1900 {
            return Err(FieldError::new(field, Violation::Other("must not be before 1900-01-01".into())));
        }
        Ok(BirthDate(date))
    }

    pub fn date(self) -> Date {
        self.0
    }

    pub fn from_stored(date: Date) -> Self {
        BirthDate(date)
    }

    pub fn to_iso(self) -> String {
        format_date(self.0)
    }
}

/// Parses a calendar date written `YYYY-MM-DD` (surrounding space ignored).
pub fn parse_date(field: &str, value: &str) -> Result<Date, FieldError> {
    let value = value.trim();
    if value.len() != 10 {
        return Err(FieldError::new(field, Violation::Format { expected: "a date written YYYY-MM-DD" }));
    }
    calendar_date(value.as_bytes())
        .ok_or_else(|| FieldError::new(field, Violation::Format { expected: "a real date written YYYY-MM-DD" }))
}

/// The date that ten bytes `YYYY-MM-DD` name, if they name one. Read by hand: this is the
/// one layout there is, and `time`'s general parser costs more than the rest of a stored
/// user's columns together (a read of a user decodes its birth date every time).
fn calendar_date(text: &[u8]) -> Option<Date> {
    let &[y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2] = text else {
        return None;
    };
    let number =
        |digits: &[u8]| digits.iter().try_fold(0u16, |n, &b| b.is_ascii_digit().then(|| n * 10 + u16::from(b - b'0')));
    let month = time::Month::try_from(u8::try_from(number(&[m1, m2])?).ok()?).ok()?;
    let day = u8::try_from(number(&[d1, d2])?).ok()?;
    Date::from_calendar_date(i32::from(number(&[y1, y2, y3, y4])?), month, day).ok()
}

/// Writes a date as `YYYY-MM-DD`.
pub fn format_date(date: Date) -> String {
    let (year, month, day) = (date.year(), u8::from(date.month()), date.day());
    match u16::try_from(year) {
        Ok(year) if year <= 9999 => {
            let mut text = String::with_capacity(10);
            push_digits(&mut text, year, 4);
            text.push('-');
            push_digits(&mut text, u16::from(month), 2);
            text.push('-');
            push_digits(&mut text, u16::from(day), 2);
            text
        }
        // Years outside 0..=9999 are never stored (`parse_date` reads four digits).
        _ => format!("{year:04}-{month:02}-{day:02}"),
    }
}

/// Appends the last `width` decimal digits of `n`, zero-padded.
fn push_digits(text: &mut String, n: u16, width: u32) {
    for place in (0..width).rev() {
        let digit = (n / 10u16.pow(place)) % 10;
        text.push(char::from(b'0' + digit as u8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn violation<T: fmt::Debug>(result: Result<T, FieldError>) -> Violation {
        result.expect_err("expected a refusal").violation
    }

    #[test]
    fn emails_are_checked_and_looked_up_without_case() {
        let email = Email::parse("email", " Jack.Frost@MyEmail.com ").unwrap();
        assert_eq!(email.as_str(), "Jack.Frost@MyEmail.com");
        assert_eq!(email.lookup_key(), "jack.frost@myemail.com");
        for bad in ["jack", "jack@", "@x.com", "jack@localhost", "a b@x.com", "\"a\"@x.com", "j@x.com."] {
            assert!(Email::parse("email", bad).is_err(), "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(violation(Email::parse("email", &long)), Violation::TooLong { max: 254 });
    }

    #[test]
    fn countries_are_iso_codes() {
        assert_eq!(CountryCode::parse("c", "za").unwrap().as_str(), "ZA");
        assert!(CountryCode::parse("c", "XX").is_err());
        assert!(CountryCode::parse("c", "DEU").is_err());
        assert!(CountryCode::parse("c", "").is_err());
        assert_eq!(CountryCode::parse("c", " za ").unwrap().as_str(), "ZA");
        // Two bytes that are not two letters.
        assert!(CountryCode::parse("c", "é").is_err());
    }

    #[test]
    fn birth_dates_are_real_past_dates() {
        let today = date!(2026 - 11 - 21);
        assert!(BirthDate::parse("d", "1980-05-31", today).is_ok());
        assert!(BirthDate::parse("d", "2026-11-21", today).is_ok());
        assert!(BirthDate::parse("d", "2026-11-22", today).is_err());
        assert!(BirthDate::parse("d", "1981-02-29", today).is_err());
        assert!(BirthDate::parse("d", "1980-5-31", today).is_err());
        assert!(BirthDate::parse("d", "YYYY-MM-DD", today).is_err());
        assert!(BirthDate::parse("d", "1899-12-31", today).is_err());
        assert_eq!(BirthDate::parse("d", "1984-02-29", today).unwrap().to_iso(), "1984-02-29");
    }

    #[test]
    fn identifiers_refuse_stray_characters() {
        assert!(NationalId::parse("id", "8001015009087").is_ok());
        assert!(NationalId::parse("id", "800101 5009087").is_err());
        assert!(PassportNumber::parse("p", "A1234567").is_ok());
        assert!(PassportNumber::parse("p", "A-1234567").is_err());
        assert!(PostalCode::parse("z", "SW1A 1AA").is_ok());
        assert_eq!(violation(PostalCode::parse("z", &"1".repeat(17))), Violation::TooLong { max: 16 });
        assert_eq!(violation(CustomerRef::parse("r", &"r".repeat(101))), Violation::TooLong { max: 100 });
        assert_eq!(violation(AddressLine::parse("a", &"a".repeat(513))), Violation::TooLong { max: 512 });
    }

    #[test]
    fn genders_have_one_code_each() {
        for code in Gender::CODES {
            assert_eq!(Gender::parse("g", code).unwrap().code(), *code);
        }
        assert!(Gender::parse("g", "male").is_err());
    }

    proptest::proptest! {
        /// The hand-read date agrees with `time`'s own parser of the same layout, on every
        /// string of digits and dashes and on real dates.
        #[test]
        fn dates_are_read_as_time_reads_them(text in "[0-9+-]{10}", day in 0i32..3_652_059) {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            proptest::prop_assert_eq!(parse_date("d", &text).ok(), Date::parse(&text, format).ok());
            let date = Date::from_julian_day(1_721_426 + day).unwrap();
            let written = format_date(date);
            proptest::prop_assert_eq!(&written, &date.format(format).unwrap());
            proptest::prop_assert_eq!(parse_date("d", &written).ok(), Some(date));
        }
    }
}
