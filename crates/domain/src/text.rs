use crate::{FieldError, Violation};

/// Declares a newtype over free text of bounded length.
macro_rules! text_field {
    ($(#[$meta:meta])* $name:ident, $max:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
    fn bounded_text_refuses_blank_and_control_characters() {
        assert_eq!(bounded_text("f", "   ", 3).err().map(|e| e.violation), Some(Violation::Empty));
        assert_eq!(bounded_text("f", "a\u{0}b", 3).err().map(|e| e.violation), Some(Violation::ControlCharacter));
    }
}
