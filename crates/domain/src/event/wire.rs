//! An event as it is written out, in the feed and in a webhook's body: one shape for both.

use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Event;

/// An event on the wire.
#[derive(Debug, Serialize)]
pub struct EventWire<'a> {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// RFC 3339.
    pub occurred_at: String,
    pub resource: ResourceWire,
    /// The resource's version after the change; `null` where the resource has none.
    pub version: Option<i64>,
    pub surface: &'a str,
    pub interaction_point: Option<&'a str>,
    /// The id of the API key that made the change; `null` for the system and public pages.
    pub actor: Option<String>,
    pub data: &'a Map<String, Value>,
}

/// What an event is about.
#[derive(Debug, Serialize)]
pub struct ResourceWire {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: String,
}

/// The body of a webhook delivery, as Standard Webhooks lays it out.
#[derive(Debug, Serialize)]
pub struct WebhookBody<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// When the event occurred (RFC 3339); the same on every attempt.
    pub timestamp: String,
    pub data: EventWire<'a>,
}

/// RFC 3339, as every time in an answer is written.
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

impl Event {
    /// The event as the feed and the webhooks write it.
    pub fn wire(&self) -> EventWire<'_> {
        EventWire {
            id: self.id.to_string(),
            kind: self.kind.as_str(),
            occurred_at: rfc3339(self.occurred_at),
            resource: ResourceWire { kind: self.kind.resource().as_str(), id: self.resource_id.to_string() },
            version: self.version,
            surface: self.origin.surface.as_str(),
            interaction_point: self.origin.interaction_point.as_ref().map(|point| point.as_str()),
            actor: self.origin.actor.map(|actor| actor.to_string()),
            data: self.data.as_map(),
        }
    }

    /// The body of every delivery of this event.
    pub fn webhook_body(&self) -> Vec<u8> {
        let body = WebhookBody { kind: self.kind.as_str(), timestamp: rfc3339(self.occurred_at), data: self.wire() };
        serde_json::to_vec(&body).unwrap_or_default()
    }
}
