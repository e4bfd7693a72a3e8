//! A user's metadata on the native wire: a JSON object of strings. In a merge patch it is
//! merged key by key (RFC 7396): a key with a value is set, a key with `null` is removed,
//! the keys not sent are kept, and `"metadata": null` removes every key.

use std::collections::BTreeMap;

use clientele_domain::ValidationErrors;
use clientele_domain::user::{Metadata, MetadataEdits, MetadataKey, MetadataValue};

use crate::wire::{Patch, Text};

/// The member's name, and the prefix of each key's.
const FIELD: &str = "metadata";

/// The whole metadata of a create or replace; not sent is none.
pub(super) fn whole(sent: Option<BTreeMap<String, Text>>, errors: &mut ValidationErrors) -> Metadata {
    let sent = sent.unwrap_or_default();
    match Metadata::parse(FIELD, sent.iter().map(|(key, value)| (key.as_str(), value.as_str()))) {
        Ok(metadata) => metadata,
        Err(refused) => {
            errors.0.extend(refused);
            Metadata::default()
        }
    }
}

/// The edits of a merge patch.
pub(super) fn edits(sent: Patch<BTreeMap<String, Option<Text>>>, errors: &mut ValidationErrors) -> MetadataEdits {
    let keys = match sent {
        Patch::Absent => return MetadataEdits::default(),
        Patch::Null => return MetadataEdits { clear: true, keys: BTreeMap::new() },
        Patch::Value(keys) => keys,
    };
    let mut edits = MetadataEdits::default();
    for (key, value) in keys {
        let name = format!("{FIELD}.{key}");
        let key = errors.take(MetadataKey::parse(&name, &key));
        let value = match value {
            Some(value) => errors.take(MetadataValue::parse(&name, value.as_str())).map(Some),
            None => Some(None),
        };
        if let (Some(key), Some(value)) = (key, value) {
            edits.keys.insert(key, value);
        }
    }
    edits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(json: &str) -> (MetadataEdits, ValidationErrors) {
        let sent: Patch<BTreeMap<String, Option<Text>>> = serde_json::from_str(json).unwrap();
        let mut errors = ValidationErrors::default();
        (edits(sent, &mut errors), errors)
    }

    #[test]
    fn a_patch_sets_removes_and_refuses_keys_by_name() {
        let (edits, errors) = patch(r#"{"Branch": "CPT", "Old": null, "Tier": 3}"#);
        let keys: Vec<_> =
            edits.keys.iter().map(|(k, v)| (k.as_str(), v.as_ref().map(MetadataValue::as_str))).collect();
        assert_eq!(keys, [("Branch", Some("CPT")), ("Old", None), ("Tier", Some("3"))]);
        assert!(errors.is_empty() && !edits.clear);
        let (_, errors) = patch(&format!(r#"{{"Note": "{}", "{}": "x"}}"#, "n".repeat(501), "k".repeat(41)));
        let fields: Vec<_> = errors.0.iter().map(|e| e.field.clone()).collect();
        assert_eq!(fields, ["metadata.Note".to_owned(), format!("metadata.{}", "k".repeat(41))]);
        let (edits, _) = patch("null");
        assert!(edits.clear && edits.keys.is_empty());
    }
}
