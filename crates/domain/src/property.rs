//! Custom property definitions: the extra fields a merchant defines for its users.

use time::OffsetDateTime;

use crate::id::uuid_id;
use crate::{FieldError, ValidationErrors, Violation, bounded_text};

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
            _ => Err(FieldError::new(field, Violation::NotOneOf { allowed: Self::NAMES })),
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

impl ValueType {
    /// Checks a value against the type; returns it in its canonical text.
    pub fn check(self, field: &str, value: &str) -> Result<String, FieldError> {
        let trimmed = value.trim();
        let format = |expected| FieldError::new(field, Violation::Format { expected });
        match self {
            ValueType::String => bounded_text(field, value, PropertyValueText::MAX),
            ValueType::Integer => trimmed.parse::<i64>().map(|n| n.to_string()).map_err(|_| format("an integer")),
            ValueType::Decimal => rust_decimal::Decimal::from_str_exact(trimmed)
                .map(|d| d.normalize().to_string())
                .map_err(|_| format("a decimal number")),
            ValueType::Boolean => match trimmed.to_ascii_lowercase().as_str() {
                value @ ("true" | "false") => Ok(value.to_owned()),
                _ => Err(format("true or false")),
            },
            ValueType::Date => crate::user::parse_date(field, trimmed).map(crate::user::format_date),
        }
    }
}

/// The limits of a property's value text.
struct PropertyValueText;

impl PropertyValueText {
    const MAX: usize = 1000;
}

/// A user's value of one defined property, with the definition's current name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CustomPropertyValue {
    pub id: PropertyId,
    pub name: PropertyName,
    pub value: String,
}

/// A property value as a client sends it: the property named by id, or by name, or both
/// (then the id decides).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomPropertyInput {
    pub id: Option<String>,
    pub name: Option<String>,
    /// `None` or empty: no value.
    pub value: Option<String>,
}

/// Resolves a client's custom property values against the merchant's definitions. Every
/// entry must name an active definition, at most once, with a value of its type. Errors
/// name the entry (`custom_properties[2].value`).
pub fn resolve_properties(
    field: &str,
    inputs: &[CustomPropertyInput],
    definitions: &[PropertyDefinition],
) -> Result<Vec<CustomPropertyValue>, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let mut values: Vec<CustomPropertyValue> = Vec::with_capacity(inputs.len());
    let active = || definitions.iter().filter(|d| d.active);
    for (index, input) in inputs.iter().enumerate() {
        let entry = format!("{field}[{index}]");
        let undefined = |part: &str| {
            FieldError::new(
                format!("{entry}.{part}"),
                Violation::Other("is not an active property of this merchant".into()),
            )
        };
        let definition = match (&input.id, &input.name) {
            (Some(id), _) => {
                let id = id.trim().parse::<PropertyId>().ok();
                active().find(|d| Some(d.id) == id).ok_or_else(|| undefined("id"))
            }
            (None, Some(name)) => active().find(|d| d.name.as_str() == name.trim()).ok_or_else(|| undefined("name")),
            (None, None) => Err(FieldError::new(format!("{entry}.id"), Violation::Required)),
        };
        let Some(definition) = errors.take(definition) else {
            continue;
        };
        if values.iter().any(|v| v.id == definition.id) {
            errors.push(FieldError::new(entry, Violation::Other("names a property already given".into())));
            continue;
        }
        let Some(value) = input.value.as_deref().filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        if let Some(value) = errors.take(definition.value_type.check(&format!("{entry}.value"), value)) {
            values.push(CustomPropertyValue { id: definition.id, name: definition.name.clone(), value });
        }
    }
    errors.into_result()?;
    values.sort_by_key(|v| v.id);
    Ok(values)
}

/// Splits a map of strings sent for a user (DuEngage `CustomersMeta`): a key that names an
/// active property sets that property, typed; every other key goes into the user's
/// metadata. A blank value is no value. Errors name the key as sent (`CustomersMeta.Branch`).
pub fn split_meta<'a>(
    field: &str,
    entries: impl IntoIterator<Item = (&'a str, &'a str)>,
    definitions: &[PropertyDefinition],
) -> Result<(Vec<CustomPropertyValue>, crate::user::Metadata), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let mut values: Vec<CustomPropertyValue> = Vec::new();
    let mut free = Vec::new();
    for (key, value) in entries.into_iter().filter(|(_, value)| !value.trim().is_empty()) {
        let Some(definition) = definitions.iter().find(|d| d.active && d.name.as_str() == key.trim()) else {
            free.push((key, value));
            continue;
        };
        let entry = format!("{field}.{key}");
        if values.iter().any(|v| v.id == definition.id) {
            errors.push(FieldError::new(entry, Violation::Other("names a property already given".into())));
        } else if let Some(value) = errors.take(definition.value_type.check(&entry, value)) {
            values.push(CustomPropertyValue { id: definition.id, name: definition.name.clone(), value });
        }
    }
    let metadata = crate::user::Metadata::parse(field, free).map_err(|refused| errors.0.extend(refused)).ok();
    errors.into_result()?;
    values.sort_by_key(|v| v.id);
    Ok((values, metadata.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_keys_naming_a_property_set_it_and_the_others_are_metadata() {
        let size = definition("size", ValueType::Integer, true);
        let old = definition("Branch code", ValueType::String, false);
        let definitions = [size.clone(), old];
        let entries = [("size", " 42 "), ("Branch", "CPT"), ("Branch code", "x"), ("Empty", " ")];
        let (values, metadata) = split_meta("CustomersMeta", entries, &definitions).unwrap();
        assert_eq!(values.iter().map(|v| (v.id, v.value.as_str())).collect::<Vec<_>>(), [(size.id, "42")]);
        assert_eq!(metadata.iter().collect::<Vec<_>>(), [("Branch", "CPT"), ("Branch code", "x")]);
    }

    #[test]
    fn meta_errors_name_the_key_as_sent() {
        let definitions = [definition("size", ValueType::Integer, true)];
        let long = "v".repeat(501);
        let entries = [("size", "big"), ("Branch", long.as_str())];
        let refused = split_meta("CustomersMeta", entries, &definitions).unwrap_err();
        let fields: Vec<_> = refused.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["CustomersMeta.size", "CustomersMeta.Branch"]);
    }

    fn definition(name: &str, value_type: ValueType, active: bool) -> PropertyDefinition {
        PropertyDefinition {
            id: PropertyId::generate(),
            name: PropertyName::parse("name", name).unwrap(),
            value_type,
            active,
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn input(id: Option<&PropertyDefinition>, name: Option<&str>, value: &str) -> CustomPropertyInput {
        CustomPropertyInput {
            id: id.map(|d| d.id.to_string()),
            name: name.map(str::to_owned),
            value: Some(value.to_owned()),
        }
    }

    fn fields(result: Result<Vec<CustomPropertyValue>, ValidationErrors>) -> Vec<String> {
        result.unwrap_err().0.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn properties_are_found_by_id_or_by_name() {
        let size = definition("size", ValueType::Integer, true);
        let tier = definition("tier", ValueType::String, true);
        let defs = [size.clone(), tier.clone()];
        let resolved = resolve_properties(
            "p",
            &[input(Some(&size), Some("wrong name"), " 42 "), input(None, Some("tier"), "gold")],
            &defs,
        )
        .unwrap();
        assert_eq!(resolved.len(), 2);
        let by_id = resolved.iter().find(|v| v.id == size.id).unwrap();
        assert_eq!((by_id.name.as_str(), by_id.value.as_str()), ("size", "42"));
    }

    #[test]
    fn undefined_inactive_duplicate_and_mistyped_entries_are_each_named() {
        let size = definition("size", ValueType::Integer, true);
        let old = definition("old", ValueType::String, false);
        let defs = [size.clone(), old.clone()];
        let inputs = [
            input(None, Some("nope"), "x"),
            input(Some(&old), None, "x"),
            input(Some(&size), None, "forty"),
            input(Some(&size), None, "1"),
            input(Some(&size), None, "2"),
            CustomPropertyInput::default(),
        ];
        assert_eq!(
            fields(resolve_properties("p", &inputs, &defs)),
            vec!["p[0].name", "p[1].id", "p[2].value", "p[4]", "p[5].id"]
        );
    }

    #[test]
    fn value_types_are_checked_and_canonicalised() {
        assert_eq!(ValueType::Decimal.check("v", "1520.750").unwrap(), "1520.75");
        assert!(ValueType::Decimal.check("v", "1e3").is_err());
        assert_eq!(ValueType::Boolean.check("v", "TRUE").unwrap(), "true");
        assert!(ValueType::Date.check("v", "2025-02-30").is_err());
        assert!(ValueType::Integer.check("v", "99999999999999999999").is_err());
        assert!(ValueType::String.check("v", &"s".repeat(1001)).is_err());
    }
}
