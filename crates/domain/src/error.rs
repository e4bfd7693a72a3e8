use std::fmt;

/// Why one value was refused. Surfaces phrase these their own way; [`fmt::Display`] gives
/// the plain English wording the native API uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// The field is mandatory and was missing or null.
    Required,
    /// The text is empty or only white space.
    Empty,
    /// The text is longer than `max` characters.
    TooLong { max: usize },
    /// The text holds a control character (a tab, a newline, a NUL...).
    ControlCharacter,
    /// The value does not have the expected shape; `expected` says which.
    Format { expected: &'static str },
    /// The value is not one of the allowed ones.
    NotOneOf { allowed: &'static [&'static str] },
    /// The field may not be written by a client.
    ReadOnly,
    /// The field is not part of this request's schema.
    UnknownField,
    /// Any other reason, already worded.
    Other(String),
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Required => f.write_str("is required"),
            Violation::Empty => f.write_str("must not be empty"),
            Violation::TooLong { max } => write!(f, "must be at most {max} characters"),
            Violation::ControlCharacter => f.write_str("must not contain control characters"),
            Violation::Format { expected } => write!(f, "must be {expected}"),
            Violation::NotOneOf { allowed } => write!(f, "must be one of {}", allowed.join(", ")),
            Violation::ReadOnly => f.write_str("is read-only"),
            Violation::UnknownField => f.write_str("is not a known field"),
            Violation::Other(message) => f.write_str(message),
        }
    }
}

impl Violation {
    /// A stable machine-readable code for the violation.
    pub fn code(&self) -> &'static str {
        match self {
            Violation::Required => "required",
            Violation::Empty => "empty",
            Violation::TooLong { .. } => "too_long",
            Violation::ControlCharacter => "control_character",
            Violation::Format { .. } => "format",
            Violation::NotOneOf { .. } => "not_one_of",
            Violation::ReadOnly => "read_only",
            Violation::UnknownField => "unknown_field",
            Violation::Other(_) => "invalid",
        }
    }
}

/// A refused value and the path of the field that held it (`address.city`, `items[3].email`);
/// an empty path for the request (or item) as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FieldError {
    pub field: String,
    pub violation: Violation,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.violation)
        } else {
            write!(f, "{} {}", self.field, self.violation)
        }
    }
}

impl FieldError {
    pub fn new(field: impl Into<String>, violation: Violation) -> Self {
        FieldError { field: field.into(), violation }
    }

    /// The same error, for a field nested under `parent`.
    pub fn under(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() { parent.to_owned() } else { format!("{parent}.{}", self.field) };
        self
    }
}

/// Every refused field of one request, so a client can fix them all at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("{} invalid field(s)", .0.len())]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    /// Keeps the value of a successful parse, records the error of a failed one.
    pub fn take<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(error);
                None
            }
        }
    }

    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when nothing was refused.
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl From<FieldError> for ValidationErrors {
    fn from(error: FieldError) -> Self {
        ValidationErrors(vec![error])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_reads_as_a_sentence_with_or_without_a_field() {
        assert_eq!(FieldError::new("email", Violation::Required).to_string(), "email is required");
        let whole = FieldError::new("", Violation::Other("the item is not a JSON object".into()));
        assert_eq!(whole.to_string(), "the item is not a JSON object");
    }
}
