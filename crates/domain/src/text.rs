use crate::{FieldError, Violation};

/// Declares a newtype over free text of bounded length.
macro_rules! text_field {
    ($(#[$meta:meta])* $name:ident, $max:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub const MAX: usize = $max;

            pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
                bounded_text(field, value, Self::MAX).map($name)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Rebuilds a value that was parsed before it was stored.
            pub fn from_stored(value: String) -> Self {
                $name(value)
            }
        }
    };
}

pub(crate) use text_field;

/// Checks free text: not blank, at most `max` characters, no control characters. Leading and
/// trailing white space is dropped.
pub fn bounded_text(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(FieldError::new(field, Violation::Empty));
    }
    if value.chars().count() > max {
        return Err(FieldError::new(field, Violation::TooLong { max }));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(field, Violation::ControlCharacter));
    }
    Ok(value.to_owned())
}

/// The longest text a lookup may name: longer than any stored value.
pub const LOOKUP_MAX: usize = 1000;

/// Checks text a record is looked up by (an e-mail address, a phone number, a reference, an
/// invoice number): at most [`LOOKUP_MAX`] characters and no control characters, as no
/// stored value has either. Leading and trailing white space is dropped; it may be empty.
pub fn lookup_text(field: &str, value: &str) -> Result<String, FieldError> {
    let value = value.trim();
    if value.chars().count() > LOOKUP_MAX {
        return Err(FieldError::new(field, Violation::TooLong { max: LOOKUP_MAX }));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(field, Violation::ControlCharacter));
    }
    Ok(value.to_owned())
}

/// Whether a lookup by `value` can find anything: stored text never holds a control
/// character, so text that does matches nothing (and a database need not be asked;
/// PostgreSQL refuses a NUL in a parameter outright).
pub fn may_be_stored(value: &str) -> bool {
    !value.chars().any(char::is_control)
}

/// A human-readable name (of a merchant, a till, a key): 1 to 200 characters of text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX: usize = 200;

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        bounded_text(field, value, Self::MAX).map(DisplayName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Rebuilds a name that was parsed before it was stored.
    pub fn from_stored(value: String) -> Self {
        DisplayName(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_text_trims_and_counts_characters_not_bytes() {
        assert_eq!(bounded_text("f", "  Zoë ", 3).ok(), Some("Zoë".to_owned()));
        assert_eq!(bounded_text("f", "Zoëy", 3).err().map(|e| e.violation), Some(Violation::TooLong { max: 3 }));
    }

    #[test]
    fn lookup_text_refuses_what_no_stored_value_holds() {
        assert_eq!(lookup_text("f", " a@b.c ").ok(), Some("a@b.c".to_owned()));
        assert_eq!(lookup_text("f", "").ok(), Some(String::new()));
        assert_eq!(lookup_text("f", "a\u{0}").err().map(|e| e.violation), Some(Violation::ControlCharacter));
        let long = "x".repeat(LOOKUP_MAX + 1);
        assert_eq!(lookup_text("f", &long).err().map(|e| e.violation), Some(Violation::TooLong { max: LOOKUP_MAX }));
        assert!(may_be_stored("Zoë") && !may_be_stored("a\r\nb"));
    }

    #[test]
    fn bounded_text_refuses_blank_and_control_characters() {
        assert_eq!(bounded_text("f", "   ", 3).err().map(|e| e.violation), Some(Violation::Empty));
        assert_eq!(bounded_text("f", "a\u{0}b", 3).err().map(|e| e.violation), Some(Violation::ControlCharacter));
    }
}
