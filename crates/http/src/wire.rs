//! Wire types every surface's DTOs share: strings that also arrive as numbers (the vendor
//! documents send `"Mobile": 827648862`), and the three states of a merge-patch member.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};

/// A string field that also accepts a JSON number, as its decimal text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(pub String);

impl Text {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl Visitor<'_> for TextVisitor {
            type Value = Text;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a number")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Text, E> {
                Ok(Text(value.to_owned()))
            }

            fn visit_string<E: de::Error>(self, value: String) -> Result<Text, E> {
                Ok(Text(value))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Text, E> {
                Ok(Text(value.to_string()))
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Text, E> {
                Ok(Text(value.to_string()))
            }

            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Text, E> {
                if value.is_finite() { Ok(Text(value.to_string())) } else { Err(E::custom("a finite number")) }
            }
        }

        deserializer.deserialize_any(TextVisitor)
    }
}

impl utoipa::PartialSchema for Text {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        string_or_number("A string; a JSON number is accepted too, as its decimal text.")
    }
}

impl utoipa::ToSchema for Text {}

/// The schema of a string member that also accepts a number.
fn string_or_number(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Number]))
        .description(Some(description))
        .into()
}

/// A member of a merge patch (RFC 7396): absent (keep), `null` (clear) or a value (set).
/// Fields of this type need `#[serde(default)]`, which is what makes "absent" possible.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(deserializer).map(|value| value.map_or(Patch::Null, Patch::Value))
    }
}

impl<T> Patch<T> {
    /// Maps the value, keeping absence and null.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Patch<U> {
        match self {
            Patch::Absent => Patch::Absent,
            Patch::Null => Patch::Null,
            Patch::Value(value) => Patch::Value(f(value)),
        }
    }

    pub fn is_present(&self) -> bool {
        !matches!(self, Patch::Absent)
    }
}

/// Marks a member that was sent, whatever its value: for read-only members, which are
/// refused by name instead of being silently dropped. Use with `#[serde(default)]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent(pub bool);

impl<'de> Deserialize<'de> for Sent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(deserializer).map(|_| Sent(true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[serde(default)]
        text: Option<Text>,
        #[serde(default)]
        patch: Patch<Text>,
        #[serde(default)]
        id: Sent,
    }

    fn body(json: &str) -> Body {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn numbers_arrive_as_their_decimal_text() {
        assert_eq!(body(r#"{"text": 827648862}"#).text, Some(Text("827648862".into())));
        assert_eq!(body(r#"{"text": 123.45}"#).text, Some(Text("123.45".into())));
        assert_eq!(body(r#"{"text": "0827648862"}"#).text, Some(Text("0827648862".into())));
        assert!(serde_json::from_str::<Body>(r#"{"text": true}"#).is_err());
        assert!(serde_json::from_str::<Body>(r#"{"text": {"a": 1}}"#).is_err());
    }

    #[test]
    fn patch_members_tell_absent_from_null() {
        assert_eq!(body("{}").patch, Patch::Absent);
        assert_eq!(body(r#"{"patch": null}"#).patch, Patch::Null);
        assert_eq!(body(r#"{"patch": 22222}"#).patch, Patch::Value(Text("22222".into())));
    }

    #[test]
    fn sent_members_are_noticed_even_when_null() {
        assert_eq!(body("{}").id, Sent(false));
        assert_eq!(body(r#"{"id": null}"#).id, Sent(true));
        assert_eq!(body(r#"{"id": {"x": [1]}}"#).id, Sent(true));
    }
}

/// Decimal text as the client wrote it, from a JSON number (`123.45`) or string
/// (`"123.45"`), exactly: the number's digits are read from the wire, never through a float.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecimalText(pub String);

impl<'de> Deserialize<'de> for DecimalText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
        let text = raw.get().trim();
        if text.starts_with('"') {
            return serde_json::from_str::<String>(text).map(DecimalText).map_err(de::Error::custom);
        }
        if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            Ok(DecimalText(text.to_owned()))
        } else {
            Err(de::Error::custom("expected a number or a string"))
        }
    }
}

impl utoipa::PartialSchema for DecimalText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        string_or_number("An amount, as a JSON number or as its decimal text; kept digit for digit.")
    }
}

impl utoipa::ToSchema for DecimalText {}

/// A JSON number written from decimal text, digit for digit (money answered as a number
/// without passing through a float). Text that is not a JSON number is written as a string.
pub fn json_number(text: &str) -> Box<serde_json::value::RawValue> {
    let number = serde_json::from_str::<serde_json::Number>(text).is_ok()
        && !text.starts_with('+')
        && !(text.len() > 1 && text.starts_with('0') && !text.starts_with("0."));
    let json = if number { text.to_owned() } else { serde_json::Value::String(text.to_owned()).to_string() };
    serde_json::value::RawValue::from_string(json)
        .unwrap_or_else(|_| serde_json::value::RawValue::from_string("null".to_owned()).unwrap_or_default())
}

/// Digits (an id, a phone number) as a JSON number where a client reading a number gets
/// them back exactly: digits only, no leading zero, at most 15 of them. Anything else
/// (`0827648862`, `A1234-5`, `1e5`, 20 digits) is written as a string.
pub fn json_digits(text: &str) -> Box<serde_json::value::RawValue> {
    let exact = (1..=15).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if exact {
        return json_number(text);
    }
    let json = serde_json::Value::String(text.to_owned()).to_string();
    serde_json::value::RawValue::from_string(json)
        .unwrap_or_else(|_| serde_json::value::RawValue::from_string("null".to_owned()).unwrap_or_default())
}

/// The schema of what [`json_digits`] writes.
#[derive(Debug)]
pub struct DigitsOrText;

impl utoipa::PartialSchema for DigitsOrText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::Integer, Type::String]))
            .description(Some(
                "Digits as a JSON number (at most 15, without a leading zero); anything else, such as a \
                 leading zero, as a string.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for DigitsOrText {}

#[cfg(test)]
mod decimal_tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        amount: DecimalText,
    }

    fn amount(json: &str) -> Result<String, String> {
        let mut deserializer = serde_json::Deserializer::from_slice(json.as_bytes());
        serde_path_to_error::deserialize::<_, Body>(&mut deserializer).map(|b| b.amount.0).map_err(|e| e.to_string())
    }

    #[test]
    fn decimals_keep_every_digit_as_sent() {
        assert_eq!(amount(r#"{"amount": 123.45}"#).unwrap(), "123.45");
        assert_eq!(amount(r#"{"amount": 0.1}"#).unwrap(), "0.1");
        assert_eq!(amount(r#"{"amount": 1520.75}"#).unwrap(), "1520.75");
        assert_eq!(amount(r#"{"amount": "99.99"}"#).unwrap(), "99.99");
        assert_eq!(amount(r#"{"amount": 12345678901234567890.12}"#).unwrap(), "12345678901234567890.12");
        assert!(amount(r#"{"amount": true}"#).is_err());
    }

    #[test]
    fn digits_are_numbers_only_where_a_number_keeps_them() {
        assert_eq!(json_digits("827648862").get(), "827648862");
        assert_eq!(json_digits("8005315009087").get(), "8005315009087");
        assert_eq!(json_digits("0").get(), "0");
        for text in ["012345", "1e5", "1E5", "-5", "12.0", "A123-4", "1234567890123456", ""] {
            assert_eq!(json_digits(text).get(), serde_json::Value::String(text.to_owned()).to_string(), "{text}");
        }
    }

    #[test]
    fn numbers_are_written_digit_for_digit() {
        assert_eq!(json_number("123.45").get(), "123.45");
        assert_eq!(json_number("827648862").get(), "827648862");
        assert_eq!(json_number("0827648862").get(), "\"0827648862\"");
        assert_eq!(json_number("ZA123").get(), "\"ZA123\"");
    }
}
