//! Free-form metadata: a user's map of strings beside the merchant's typed custom
//! properties. Bounded as Stripe bounds its metadata: at most 50 keys, a key at most 40
//! characters, a value at most 500, and no control characters in either.

use std::collections::BTreeMap;

use crate::text::text_field;
use crate::{FieldError, Violation, bounded_text};

text_field!(
    /// A metadata key: 1 to 40 characters, no control characters, surrounding space dropped.
    MetadataKey,
    40
);

/// A metadata value: at most 500 characters, no control characters, kept as given (it may
/// be empty).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MetadataValue(String);

impl MetadataValue {
    pub const MAX: usize = 500;

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        if value.chars().count() > Self::MAX {
            return Err(FieldError::new(field, Violation::TooLong { max: Self::MAX }));
        }
        if value.chars().any(char::is_control) {
            return Err(FieldError::new(field, Violation::ControlCharacter));
        }
        Ok(MetadataValue(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user's metadata: at most [`Metadata::MAX_KEYS`] entries, in key order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata(BTreeMap<MetadataKey, MetadataValue>);

/// Changes to some keys of a user's metadata: each key named is set (`Some`) or removed
/// (`None`); the others are kept. With `clear`, every key not set here goes first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataEdits {
    pub clear: bool,
    pub keys: BTreeMap<MetadataKey, Option<MetadataValue>>,
}

fn too_many(field: &str) -> FieldError {
    FieldError::new(field, Violation::Other(format!("must have at most {} keys", Metadata::MAX_KEYS)))
}

impl Metadata {
    pub const MAX_KEYS: usize = 50;

    /// Parses a whole map; each refused entry is named `field.key`, and more than
    /// [`Metadata::MAX_KEYS`] keys are refused as `field`.
    pub fn parse<'a>(
        field: &str,
        entries: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut map = BTreeMap::new();
        for (key, value) in entries {
            let name = format!("{field}.{key}");
            match (MetadataKey::parse(&name, key), MetadataValue::parse(&name, value)) {
                (Ok(key), Ok(value)) => {
                    map.insert(key, value);
                }
                (key, value) => errors.extend(key.err().into_iter().chain(value.err())),
            }
        }
        if map.len() > Self::MAX_KEYS {
            errors.push(too_many(field));
        }
        if errors.is_empty() { Ok(Metadata(map)) } else { Err(errors) }
    }

    /// The metadata after `edits`, refused as `field` when it would hold too many keys.
    pub fn edited(&self, field: &str, edits: &MetadataEdits) -> Result<Self, FieldError> {
        let mut map = if edits.clear { BTreeMap::new() } else { self.0.clone() };
        for (key, value) in &edits.keys {
            match value {
                Some(value) => map.insert(key.clone(), value.clone()),
                None => map.remove(key),
            };
        }
        if map.len() > Self::MAX_KEYS {
            return Err(too_many(field));
        }
        Ok(Metadata(map))
    }

    /// Edits that set every key of this metadata, keeping the other keys there are.
    pub fn into_edits(self) -> MetadataEdits {
        MetadataEdits { clear: false, keys: self.0.into_iter().map(|(k, v)| (k, Some(v))).collect() }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v.as_str())
    }

    /// The entries, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The stored form: a JSON object of strings, `None` for no metadata.
    pub fn to_json(&self) -> Option<String> {
        (!self.is_empty()).then(|| {
            let map: BTreeMap<&str, &str> = self.iter().collect();
            serde_json::to_string(&map).unwrap_or_default()
        })
    }

    /// Reads the stored form back; `None` when it is not a JSON object of strings.
    pub fn from_stored(text: &str) -> Option<Self> {
        let map: BTreeMap<String, String> = serde_json::from_str(text).ok()?;
        Some(Metadata(map.into_iter().map(|(k, v)| (MetadataKey::from_stored(k), MetadataValue(v))).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> MetadataKey {
        MetadataKey::parse("k", text).unwrap()
    }

    fn value(text: &str) -> MetadataValue {
        MetadataValue::parse("v", text).unwrap()
    }

    fn violations(result: Result<Metadata, Vec<FieldError>>) -> Vec<(String, Violation)> {
        result.expect_err("refused").into_iter().map(|e| (e.field, e.violation)).collect()
    }

    #[test]
    fn keys_are_one_to_forty_characters_without_control_characters() {
        assert_eq!(key(" Branch ").as_str(), "Branch");
        assert!(MetadataKey::parse("k", &"é".repeat(40)).is_ok());
        assert_eq!(MetadataKey::parse("k", &"k".repeat(41)).unwrap_err().violation, Violation::TooLong { max: 40 });
        assert_eq!(MetadataKey::parse("k", "  ").unwrap_err().violation, Violation::Empty);
        assert_eq!(MetadataKey::parse("k", "a\tb").unwrap_err().violation, Violation::ControlCharacter);
    }

    #[test]
    fn values_are_at_most_five_hundred_characters_kept_as_given() {
        assert_eq!(value(" CPT ").as_str(), " CPT ");
        assert_eq!(value("").as_str(), "");
        assert!(MetadataValue::parse("v", &"ü".repeat(500)).is_ok());
        assert_eq!(MetadataValue::parse("v", &"v".repeat(501)).unwrap_err().violation, Violation::TooLong { max: 500 });
        assert_eq!(MetadataValue::parse("v", "a\nb").unwrap_err().violation, Violation::ControlCharacter);
        assert_eq!(MetadataValue::parse("v", "a\u{0}").unwrap_err().violation, Violation::ControlCharacter);
    }

    #[test]
    fn a_map_names_each_refused_entry_by_its_key() {
        let long = "x".repeat(501);
        let refused = violations(Metadata::parse("metadata", [("Branch", "CPT"), ("Note", long.as_str()), ("", "x")]));
        assert_eq!(
            refused,
            [("metadata.Note".to_owned(), Violation::TooLong { max: 500 }), ("metadata.".to_owned(), Violation::Empty)]
        );
    }

    #[test]
    fn at_most_fifty_keys() {
        let keys: Vec<String> = (0..51).map(|n| format!("k{n}")).collect();
        let fifty = Metadata::parse("m", keys.iter().take(50).map(|k| (k.as_str(), "v"))).unwrap();
        assert_eq!(fifty.len(), 50);
        let refused = violations(Metadata::parse("m", keys.iter().map(|k| (k.as_str(), "v"))));
        assert_eq!(refused, [("m".to_owned(), Violation::Other("must have at most 50 keys".into()))]);
        let one_more = MetadataEdits { clear: false, keys: [(key("k50"), Some(value("v")))].into() };
        assert!(fifty.edited("m", &one_more).is_err());
        let swap = MetadataEdits { clear: false, keys: [(key("k50"), Some(value("v"))), (key("k0"), None)].into() };
        assert_eq!(fifty.edited("m", &swap).unwrap().len(), 50);
    }

    #[test]
    fn edits_set_remove_and_keep_keys() {
        let before = Metadata::parse("m", [("Branch", "CPT"), ("Tier", "gold")]).unwrap();
        let edits = MetadataEdits {
            clear: false,
            keys: [(key("Branch"), Some(value("JNB"))), (key("Tier"), None), (key("New"), Some(value("1")))].into(),
        };
        let after = before.edited("m", &edits).unwrap();
        assert_eq!(after.iter().collect::<Vec<_>>(), [("Branch", "JNB"), ("New", "1")]);
        let cleared = before.edited("m", &MetadataEdits { clear: true, keys: BTreeMap::new() }).unwrap();
        assert!(cleared.is_empty());
        assert_eq!(before.edited("m", &MetadataEdits::default()).unwrap(), before);
    }

    #[test]
    fn the_stored_form_reads_back_the_same_and_none_is_empty() {
        let metadata = Metadata::parse("m", [("Branch", "CPT"), ("quote\"d", "ü\\")]).unwrap();
        let stored = metadata.to_json().unwrap();
        assert_eq!(Metadata::from_stored(&stored), Some(metadata));
        assert_eq!(Metadata::default().to_json(), None);
        assert_eq!(Metadata::from_stored("[1]"), None);
    }

    proptest::proptest! {
        /// Whatever a client sends as a key or value, it parses within the bounds or is
        /// refused: no control character and no over-long text gets through.
        #[test]
        fn parsed_text_is_within_the_bounds(text in "\\PC{0,60}|[\\x00-\\x1f]{1,3}") {
            if let Ok(key) = MetadataKey::parse("k", &text) {
                proptest::prop_assert!(key.as_str().chars().count() <= 40 && !key.as_str().chars().any(char::is_control));
            }
            if let Ok(value) = MetadataValue::parse("v", &text) {
                proptest::prop_assert!(!value.as_str().chars().any(char::is_control));
            }
        }
    }
}
