//! Webhook endpoints, what they receive, and the record of every delivery attempt.

mod address;
mod schedule;
mod signing;

use time::OffsetDateTime;

use crate::credential::ApiKeyId;
use crate::event::{Event, EventType};
use crate::id::uuid_id;
use crate::{FieldError, Violation, bounded_text};

pub use address::{EndpointUrl, URL_MAX, is_public};
pub use schedule::{RetrySchedule, Verdict, judge};
pub use signing::{WebhookSecret, signature_header};

uuid_id!(
    /// A webhook endpoint's id.
    WebhookEndpointId
);
uuid_id!(
    /// A delivery's id: one event to one endpoint, with all its attempts.
    DeliveryId
);

/// The longest description an endpoint may have.
pub const DESCRIPTION_MAX: usize = 256;
/// The most API keys an endpoint may exclude.
pub const EXCLUDED_MAX: usize = 100;

/// Why deliveries to an endpoint stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisabledReason {
    /// An admin turned it off.
    Manual,
    /// The receiver answered 410 Gone.
    Gone,
    /// Every attempt failed for [`FAILING_DAYS`] days.
    Failing,
}

/// How long an endpoint may fail before it is disabled.
pub const FAILING_DAYS: i64 = 5;

impl DisabledReason {
    pub const NAMES: &'static [&'static str] = &["manual", "gone", "failing"];

    pub fn as_str(self) -> &'static str {
        match self {
            DisabledReason::Manual => "manual",
            DisabledReason::Gone => "gone",
            DisabledReason::Failing => "failing",
        }
    }

    pub fn from_stored(text: &str) -> Option<Self> {
        match text {
            "manual" => Some(DisabledReason::Manual),
            "gone" => Some(DisabledReason::Gone),
            "failing" => Some(DisabledReason::Failing),
            _ => None,
        }
    }
}

/// Which event types an endpoint receives: every type when empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventTypes(Vec<EventType>);

impl EventTypes {
    /// Types named by `field`, each once, in a stable order.
    pub fn parse(field: &str, names: &[String]) -> Result<Self, FieldError> {
        let mut types = names
            .iter()
            .enumerate()
            .map(|(at, name)| EventType::parse(&format!("{field}[{at}]"), name))
            .collect::<Result<Vec<_>, _>>()?;
        types.sort();
        types.dedup();
        Ok(EventTypes(types))
    }

    pub fn from_stored(types: Vec<EventType>) -> Self {
        EventTypes(types)
    }

    pub fn as_slice(&self) -> &[EventType] {
        &self.0
    }

    pub fn includes(&self, kind: EventType) -> bool {
        self.0.is_empty() || self.0.contains(&kind)
    }
}

/// The API keys whose events an endpoint does not receive (echo suppression).
pub fn parse_excluded(field: &str, ids: &[String]) -> Result<Vec<ApiKeyId>, FieldError> {
    if ids.len() > EXCLUDED_MAX {
        return Err(FieldError::new(field, Violation::Other(format!("must list at most {EXCLUDED_MAX} keys"))));
    }
    let mut keys = ids
        .iter()
        .enumerate()
        .map(|(at, id)| {
            id.parse()
                .map_err(|_| FieldError::new(format!("{field}[{at}]"), Violation::Format { expected: "an API key id" }))
        })
        .collect::<Result<Vec<ApiKeyId>, _>>()?;
    keys.sort();
    keys.dedup();
    Ok(keys)
}

/// An endpoint's description: free text for people.
pub fn parse_description(field: &str, text: &str) -> Result<String, FieldError> {
    bounded_text(field, text, DESCRIPTION_MAX)
}

/// A webhook endpoint of a merchant. Its secrets are kept apart, sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub id: WebhookEndpointId,
    pub url: EndpointUrl,
    pub description: Option<String>,
    pub event_types: EventTypes,
    pub exclude_actors: Vec<ApiKeyId>,
    pub disabled: Option<DisabledReason>,
    /// Since when every attempt to it has failed.
    pub failing_since: Option<OffsetDateTime>,
    /// Until when deliveries are also signed with the secret before the last rotation.
    pub previous_secret_until: Option<OffsetDateTime>,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl WebhookEndpoint {
    pub fn enabled(&self) -> bool {
        self.disabled.is_none()
    }

    /// Whether `event` goes to this endpoint: a type it takes, caused by a key it does not
    /// exclude.
    pub fn wants(&self, event: &Event) -> bool {
        let echo = event.origin.actor.is_some_and(|actor| self.exclude_actors.contains(&actor));
        self.event_types.includes(event.kind) && !echo
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    Succeeded,
    /// Its schedule is spent, or its endpoint is gone; a manual retry tries once more.
    Failed,
}

impl DeliveryStatus {
    pub const NAMES: &'static [&'static str] = &["pending", "succeeded", "failed"];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(field: &str, text: &str) -> Result<Self, FieldError> {
        match text {
            "pending" => Ok(DeliveryStatus::Pending),
            "succeeded" => Ok(DeliveryStatus::Succeeded),
            "failed" => Ok(DeliveryStatus::Failed),
            _ => Err(FieldError::new(field, Violation::NotOneOf { allowed: Self::NAMES })),
        }
    }
}

/// One attempt to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// 1 for the first.
    pub number: u32,
    pub at: OffsetDateTime,
    /// The receiver's status code, when it answered.
    pub status_code: Option<u16>,
    pub duration_ms: u32,
    /// Why there was no answer (a timeout, a refused connection, a refused address).
    pub error: Option<String>,
    pub status: DeliveryStatus,
    /// When the delivery is tried next, if it is.
    pub next_attempt_at: Option<OffsetDateTime>,
}

/// One event to one endpoint, with its attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub endpoint_id: WebhookEndpointId,
    pub event_id: crate::event::EventId,
    pub event_type: EventType,
    pub status: DeliveryStatus,
    pub attempts: Vec<Attempt>,
    pub next_attempt_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::{Origin, User, UserFields};

    fn endpoint(types: &[&str], excluded: &[ApiKeyId]) -> WebhookEndpoint {
        let names: Vec<String> = types.iter().map(|t| (*t).to_owned()).collect();
        let now = OffsetDateTime::UNIX_EPOCH;
        WebhookEndpoint {
            id: WebhookEndpointId::generate(),
            url: EndpointUrl::parse("url", "https://example.com/hook").unwrap(),
            description: None,
            event_types: EventTypes::parse("event_types", &names).unwrap(),
            exclude_actors: excluded.to_vec(),
            disabled: None,
            failing_since: None,
            previous_secret_until: None,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn an_endpoint_takes_its_types_and_not_the_echoes_of_its_excluded_keys() {
        let (mine, theirs) = (ApiKeyId::generate(), ApiKeyId::generate());
        let user = User::new(UserFields::default(), OffsetDateTime::UNIX_EPOCH);
        let by = |key: ApiKeyId| Event::user_created(&user, &Origin::native().by(key));
        let anonymous = Event::user_created(&user, &Origin::native());

        let all = endpoint(&[], &[mine]);
        assert!(all.wants(&by(theirs)));
        assert!(all.wants(&anonymous));
        assert!(!all.wants(&by(mine)), "an excluded key's event is an echo");

        let erasures = endpoint(&["user.erased"], &[]);
        assert!(!erasures.wants(&by(theirs)));
        let erased = Event::user_erased(user.id, 2, &Origin::native(), OffsetDateTime::UNIX_EPOCH);
        assert!(erasures.wants(&erased));
    }

    #[test]
    fn types_and_keys_are_named_where_refused_and_kept_once() {
        let names = ["user.created".to_owned(), "user.created".to_owned(), "contract.created".to_owned()];
        let types = EventTypes::parse("event_types", &names).unwrap();
        assert_eq!(types.as_slice(), [EventType::UserCreated, EventType::ContractCreated]);
        let refused = EventTypes::parse("event_types", &["user.created".into(), "nope".into()]).unwrap_err();
        assert_eq!(refused.field, "event_types[1]");
        let refused = parse_excluded("exclude_actors", &["x".into()]).unwrap_err();
        assert_eq!(refused.field, "exclude_actors[0]");
        let many: Vec<String> = (0..=EXCLUDED_MAX).map(|_| ApiKeyId::generate().to_string()).collect();
        assert!(parse_excluded("exclude_actors", &many).is_err());
    }
}
