//! Custom property definitions: the extra fields a merchant defines for its users.

use time::OffsetDateTime;

use crate::id::uuid_id;
use crate::{FieldError, Violation, bounded_text};

uuid_id!(
    /// The id of a custom property definition.
    PropertyId
);

/// The name of a custom property: 1 to 100 characters of text, unique among the merchant's
/// active definitions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct PropertyName(String);

impl PropertyName {
    pub const MAX: usize = 100;

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        bounded_text(field, value, Self::MAX).map(PropertyName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_stored(value: String) -> Self {
        PropertyName(value)
    }
}

/// The type a property's values must have. Values travel as strings on every surface; the
/// type decides which strings are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    String,
    Integer,
    Decimal,
    Boolean,
    Date,
}

impl ValueType {
    pub const NAMES: &'static [&'static str] = &["string", "integer", "decimal", "boolean", "date"];

    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::Integer => "integer",
            ValueType::Decimal => "decimal",
            ValueType::Boolean => "boolean",
            ValueType::Date => "date",
        }
    }

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        match value {
            "string" => Ok(ValueType::String),
            "integer" => Ok(ValueType::Integer),
            "decimal" => Ok(ValueType::Decimal),
            "boolean" => Ok(ValueType::Boolean),
            "date" => Ok(ValueType::Date),
            _ => Err(FieldError::new(
                field,
                Violation::NotOneOf {
                    allowed: Self::NAMES,
                },
            )),
        }
    }
}

/// A property definition as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyDefinition {
    pub id: PropertyId,
    pub name: PropertyName,
    pub value_type: ValueType,
    pub active: bool,
    pub created_at: OffsetDateTime,
}
