//! Values that exist for storage's sake: list filters and idempotency records.

use time::OffsetDateTime;

use clientele_domain::contract::Contract;
use clientele_domain::property::{CustomPropertyValue, PropertyId, PropertyName};
use clientele_domain::user::{User, UserId};

/// Which users a list returns. Every filter given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// The e-mail address in lower case.
    pub email_lookup: Option<String>,
    /// A phone number: matches the number as given or its E.164 form.
    pub phone: Option<PhoneLookup>,
    pub customer_ref: Option<String>,
    pub national_id: Option<String>,
    pub country: Option<String>,
    /// Created at or after.
    pub created_after: Option<OffsetDateTime>,
    /// Created before.
    pub created_before: Option<OffsetDateTime>,
    /// Holding this value under this metadata key.
    pub metadata: Option<(String, String)>,
}

pub use clientele_domain::user::PhoneLookup;

/// A user to create, with its first contract and the events of its creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUserRecord {
    pub user: User,
    pub contract: Option<Contract>,
    pub events: Vec<clientele_domain::event::Event>,
}

/// One page of a list: users after `after` in id order, at most `limit` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub after: Option<UserId>,
    pub limit: u32,
}

/// An HTTP answer kept for repeats of an idempotent request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    /// The headers to repeat (`Location`, `ETag`, `Content-Type`...).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl StoredResponse {
    /// The headers as stored: one `name: value` line each.
    pub fn headers_text(&self) -> String {
        self.headers.iter().map(|(name, value)| format!("{name}: {value}\n")).collect()
    }

    /// Headers from their stored text.
    pub fn headers_from_text(text: &str) -> Vec<(String, String)> {
        text.lines()
            .filter_map(|line| line.split_once(": "))
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect()
    }
}

/// Completes a claimed idempotency key: written in the same transaction as the work it
/// answers for, so a repeat either finds the answer or finds the work not done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentAnswer {
    pub key: String,
    /// The claim this answer completes: another request's takeover of the key makes it
    /// stale, and the write it comes with fails.
    pub lease: crate::Lease,
    /// The user the answer holds, whose erasure redacts it.
    pub user: Option<UserId>,
    pub response: StoredResponse,
}

/// What claiming an idempotency key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key is the caller's, under this lease: do the work, then complete or release it.
    Claimed(crate::Lease),
    /// The same request was answered before: repeat this answer.
    Replay(StoredResponse),
    /// The same request is being worked on right now.
    InFlight,
    /// The key was used for another request.
    Mismatch,
    /// The same request was answered before, but the user its answer held was erased since:
    /// it is answered as that user is now, not found.
    Erased,
}

/// Which payment requests a list returns. Every filter given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentFilter {
    pub status: Option<clientele_domain::payment::PaymentStatus>,
    pub user: Option<UserId>,
    pub invoice_number: Option<String>,
    pub created_after: Option<OffsetDateTime>,
    pub created_before: Option<OffsetDateTime>,
    /// Requests after this one, in id order.
    pub after: Option<clientele_domain::payment::PaymentRequestId>,
    pub limit: u32,
}

/// A user's custom values from the JSON array of `[property id, name, value]` both stores
/// read in the same statement as the user, in order of property id. `None` when the text is
/// not such an array.
pub fn custom_values_from_json(text: &str) -> Option<Vec<CustomPropertyValue>> {
    let triples: Vec<(uuid::Uuid, String, String)> = serde_json::from_str(text).ok()?;
    let mut values: Vec<CustomPropertyValue> = triples
        .into_iter()
        .map(|(id, name, value)| CustomPropertyValue {
            id: PropertyId::from_uuid(id),
            name: PropertyName::from_stored(name),
            value,
        })
        .collect();
    values.sort_by_key(|v| v.id);
    Some(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_values_are_read_in_order_of_property_id_and_bad_text_is_none() {
        let (a, b) = ("00000000-0000-7000-8000-000000000001", "00000000-0000-7000-8000-000000000002");
        let values = custom_values_from_json(&format!(r#"[["{b}","tier","gold"],["{a}","since","2020"]]"#)).unwrap();
        let read: Vec<_> = values.iter().map(|v| (v.id.to_string(), v.name.as_str(), v.value.as_str())).collect();
        assert_eq!(read, vec![(a.to_owned(), "since", "2020"), (b.to_owned(), "tier", "gold")]);
        assert_eq!(custom_values_from_json("[]"), Some(Vec::new()));
        assert_eq!(custom_values_from_json(r#"[["not-a-uuid","n","v"]]"#), None);
        assert_eq!(custom_values_from_json("{}"), None);
    }
}
