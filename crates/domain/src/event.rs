//! Events: what changed, committed with the change. An event names its resource, the
//! version the change produced, where it came from (surface, interaction point, API key)
//! and what it did, and never holds a personal value: its `data` is built here, from ids,
//! field names, statuses, amounts and numbers only, so the event log outlives erasure as
//! the change log does.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::contract::Contract;
use crate::id::uuid_id;
use crate::payment::PaymentRequest;
use crate::user::{Origin, User};
use crate::{FieldError, Violation};

mod wire;
pub use wire::{EventWire, ResourceWire, WebhookBody, rfc3339};

uuid_id!(
    /// The id of an event: the `webhook-id` of its every delivery.
    EventId
);

/// Declares the event types with their names, in one place.
macro_rules! event_types {
    ($($variant:ident = $name:literal, $resource:ident;)*) => {
        /// What happened.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EventType {
            $($variant,)*
        }

        impl EventType {
            /// Every type, by name.
            pub const NAMES: &'static [&'static str] = &[$($name,)*];
            pub const ALL: &'static [EventType] = &[$(EventType::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventType::$variant => $name,)*
                }
            }

            /// The kind of resource an event of this type is about.
            pub fn resource(self) -> ResourceType {
                match self {
                    $(EventType::$variant => ResourceType::$resource,)*
                }
            }

            pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
                match value {
                    $($name => Ok(EventType::$variant),)*
                    _ => Err(FieldError::new(field, Violation::NotOneOf { allowed: Self::NAMES })),
                }
            }
        }
    };
}

event_types! {
    UserCreated = "user.created", User;
    UserUpdated = "user.updated", User;
    UserErased = "user.erased", User;
    ContractCreated = "contract.created", Contract;
    ContractUpdated = "contract.updated", Contract;
    ContractCancelled = "contract.cancelled", Contract;
    PaymentRequestCreated = "payment_request.created", PaymentRequest;
    PaymentRequestViewed = "payment_request.viewed", PaymentRequest;
    PaymentRequestPaid = "payment_request.paid", PaymentRequest;
    PaymentRequestCancelled = "payment_request.cancelled", PaymentRequest;
    WebhookEndpointDisabled = "webhook_endpoint.disabled", WebhookEndpoint;
    PointsEarned = "points.earned", PointsEntry;
    PointsSpent = "points.spent", PointsEntry;
    PointsAdjusted = "points.adjusted", PointsEntry;
    PointsExpired = "points.expired", PointsEntry;
    PointsReversed = "points.reversed", PointsEntry;
    PointsReset = "points.reset", PointsEntry;
}

/// The kinds of resource events are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceType {
    User,
    Contract,
    PaymentRequest,
    WebhookEndpoint,
    PointsEntry,
}

impl ResourceType {
    pub const NAMES: &'static [&'static str] =
        &["user", "contract", "payment_request", "webhook_endpoint", "points_entry"];

    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::User => "user",
            ResourceType::Contract => "contract",
            ResourceType::PaymentRequest => "payment_request",
            ResourceType::WebhookEndpoint => "webhook_endpoint",
            ResourceType::PointsEntry => "points_entry",
        }
    }

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        match value {
            "user" => Ok(ResourceType::User),
            "contract" => Ok(ResourceType::Contract),
            "payment_request" => Ok(ResourceType::PaymentRequest),
            "webhook_endpoint" => Ok(ResourceType::WebhookEndpoint),
            "points_entry" => Ok(ResourceType::PointsEntry),
            _ => Err(FieldError::new(field, Violation::NotOneOf { allowed: Self::NAMES })),
        }
    }
}

/// What an event holds besides its envelope: JSON made only by this module's constructors
/// (or read back as stored), so no personal value can get in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventData(Map<String, Value>);

impl EventData {
    fn of(value: Value) -> Self {
        match value {
            Value::Object(map) => EventData(map),
            _ => EventData(Map::new()),
        }
    }

    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The data as stored (JSON text).
    pub fn to_json(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }

    /// Data read back from the store, which wrote it from [`EventData::to_json`].
    pub fn from_stored(text: &str) -> Option<Self> {
        match serde_json::from_str(text).ok()? {
            Value::Object(map) => Some(EventData(map)),
            _ => None,
        }
    }
}

/// An event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: EventId,
    pub kind: EventType,
    pub occurred_at: OffsetDateTime,
    /// The id of the resource of [`EventType::resource`]'s kind.
    pub resource_id: uuid::Uuid,
    /// The resource's version after the change, where the resource has versions.
    pub version: Option<i64>,
    pub origin: Origin,
    pub data: EventData,
}

impl Event {
    fn new(
        kind: EventType,
        resource_id: uuid::Uuid,
        version: Option<i64>,
        origin: &Origin,
        at: OffsetDateTime,
    ) -> Self {
        Event {
            id: EventId::generate(),
            kind,
            occurred_at: at,
            resource_id,
            version,
            origin: origin.clone(),
            data: EventData(Map::new()),
        }
    }

    fn with(mut self, data: Value) -> Self {
        self.data = EventData::of(data);
        self
    }

    /// A user was created; `data.fields` names the fields it was given.
    pub fn user_created(user: &User, origin: &Origin) -> Self {
        Event::new(EventType::UserCreated, user.id.as_uuid(), Some(user.version), origin, user.created_at)
            .with(json!({ "fields": user.fields.given() }))
    }

    /// A user changed from `before` to `after`; `data.changed_fields` names what changed.
    pub fn user_updated(before: &User, after: &User, origin: &Origin) -> Self {
        Event::new(EventType::UserUpdated, after.id.as_uuid(), Some(after.version), origin, after.updated_at)
            .with(json!({ "changed_fields": before.fields.changed(&after.fields) }))
    }

    /// A user was erased, leaving version `version`.
    pub fn user_erased(user: crate::user::UserId, version: i64, origin: &Origin, at: OffsetDateTime) -> Self {
        Event::new(EventType::UserErased, user.as_uuid(), Some(version), origin, at)
    }

    /// A contract was created.
    pub fn contract_created(contract: &Contract, origin: &Origin) -> Self {
        let data = contract_data(contract, None);
        Event::new(
            EventType::ContractCreated,
            contract.id.as_uuid(),
            Some(contract.version),
            origin,
            contract.created_at,
        )
        .with(data)
    }

    /// A contract changed from `before` to `after`: `contract.cancelled` when that is what
    /// changed, else `contract.updated` with the names of the terms that changed.
    pub fn contract_changed(before: &Contract, after: &Contract, origin: &Origin) -> Self {
        let kind = match (before.status, after.status) {
            (b, a) if b != a && a == crate::contract::ContractStatus::Cancelled => EventType::ContractCancelled,
            _ => EventType::ContractUpdated,
        };
        let changed = contract_changes(before, after);
        let data = contract_data(after, Some(changed));
        Event::new(kind, after.id.as_uuid(), Some(after.version), origin, after.updated_at).with(data)
    }

    /// A payment request was created.
    pub fn payment_request_created(request: &PaymentRequest, origin: &Origin) -> Self {
        Event::new(
            EventType::PaymentRequestCreated,
            request.id.as_uuid(),
            Some(request.version),
            origin,
            request.created_at,
        )
        .with(payment_data(request))
    }

    /// A payment request moved to its current status: the event of that status, if it has one.
    pub fn payment_request_moved(request: &PaymentRequest, origin: &Origin) -> Option<Self> {
        use crate::payment::PaymentStatus;
        let kind = match request.status {
            PaymentStatus::Viewed => EventType::PaymentRequestViewed,
            PaymentStatus::Paid => EventType::PaymentRequestPaid,
            PaymentStatus::Cancelled => EventType::PaymentRequestCancelled,
            _ => return None,
        };
        let event = Event::new(kind, request.id.as_uuid(), Some(request.version), origin, request.updated_at);
        Some(event.with(payment_data(request)))
    }

    /// A points entry was written: its kind, points, the balance after it, the user and
    /// the merchant's reference and the entry it reversed (never its description, which
    /// may say anything).
    pub fn points_entry(entry: &crate::points::PointsEntry) -> Self {
        use crate::points::EntryKind;
        let kind = match entry.kind {
            EntryKind::Earn => EventType::PointsEarned,
            EntryKind::Spend => EventType::PointsSpent,
            EntryKind::Adjust => EventType::PointsAdjusted,
            EntryKind::Expire => EventType::PointsExpired,
            EntryKind::Reverse => EventType::PointsReversed,
            EntryKind::Reset => EventType::PointsReset,
        };
        Event::new(kind, entry.id.as_uuid(), None, &entry.origin, entry.created_at).with(json!({
            "user_id": entry.user_id,
            "kind": entry.kind.as_str(),
            "points": entry.points,
            "balance_after": entry.balance_after,
            "reference": entry.reference.as_ref().map(|r| r.as_str()),
            "expires_at": entry.expires_at.map(rfc3339),
            "reverses": entry.reverses,
        }))
    }

    /// A webhook endpoint was disabled by the deliveries to it: `reason` says why.
    pub fn webhook_endpoint_disabled(endpoint: uuid::Uuid, reason: &str, origin: &Origin, at: OffsetDateTime) -> Self {
        Event::new(EventType::WebhookEndpointDisabled, endpoint, None, origin, at).with(json!({ "reason": reason }))
    }
}

fn contract_data(contract: &Contract, changed: Option<Vec<&'static str>>) -> Value {
    let mut data = json!({
        "user_id": contract.user_id,
        "contract_number": contract.number.as_str(),
        "status": contract.status.as_str(),
    });
    if let (Some(terms), Value::Object(map)) = (&contract.terms, &mut data) {
        map.insert("instalment_amount".into(), Value::String(terms.instalment_amount.to_string()));
        map.insert("number_of_instalments".into(), terms.number_of_instalments.into());
        map.insert("instalment_start".into(), Value::String(terms.instalment_start.to_string()));
        map.insert("frequency_code".into(), Value::String(terms.frequency.code().to_owned()));
        map.insert("collection_day".into(), terms.collection_day.get().into());
    }
    if let (Some(changed), Value::Object(map)) = (changed, &mut data) {
        map.insert("changed_fields".into(), changed.into());
    }
    data
}

/// The names of a contract's terms and status that differ between two versions.
fn contract_changes(before: &Contract, after: &Contract) -> Vec<&'static str> {
    let field = |terms: &Option<crate::contract::ContractTerms>| -> BTreeMap<&'static str, String> {
        let Some(t) = terms else { return BTreeMap::new() };
        BTreeMap::from([
            ("instalment_amount", t.instalment_amount.to_string()),
            ("number_of_instalments", t.number_of_instalments.to_string()),
            ("instalment_start", t.instalment_start.to_string()),
            ("tracking_code", t.tracking_code.as_str().to_owned()),
            ("frequency_code", t.frequency.code().to_owned()),
            ("collection_day", t.collection_day.get().to_string()),
        ])
    };
    let (b, a) = (field(&before.terms), field(&after.terms));
    let mut changed: Vec<&'static str> =
        b.keys().chain(a.keys()).copied().filter(|name| b.get(name) != a.get(name)).collect();
    changed.dedup();
    if before.status != after.status {
        changed.push("status");
    }
    changed
}

fn payment_data(request: &PaymentRequest) -> Value {
    json!({
        "user_id": request.user_id,
        "invoice_number": request.invoice_number.as_str(),
        "amount_outstanding": request.amount_outstanding.to_string(),
        "currency": request.currency.name(),
        "channel": request.channel.name(),
        "status": request.status.name(),
    })
}

#[cfg(test)]
mod tests;
