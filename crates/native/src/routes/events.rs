//! The event feed: every change of the merchant's registry, oldest first, in cursor pages
//! that never skip an event.

use axum::extract::State;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use clientele_domain::credential::Role;
use clientele_domain::event::{EventType, EventWire};
use clientele_domain::{FieldError, ValidationErrors, Violation};
use clientele_service::{EventCursor, EventQuery};

use crate::error::Problem;
use crate::extract::Query;
use crate::{ApiError, AppState, Caller};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_events))
}

/// Which events to read.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventsQuery {
    /// The `next_cursor` of the previous page; from the start of the feed when absent.
    after: Option<String>,
    /// Only events of this type, e.g. `user.updated`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
    /// Only events about this resource (a user, contract, payment request or webhook endpoint id).
    resource_id: Option<String>,
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

/// A cursor as the feed hands it out: opaque to the reader.
pub(crate) fn encode_cursor(cursor: EventCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}.{}", cursor.tx, cursor.position))
}

fn decode_cursor(text: &str) -> Option<EventCursor> {
    let decoded = String::from_utf8(URL_SAFE_NO_PAD.decode(text).ok()?).ok()?;
    let (tx, position) = decoded.split_once('.')?;
    let cursor = EventCursor { tx: tx.parse().ok()?, position: position.parse().ok()? };
    (cursor.tx >= 0 && cursor.position >= 0).then_some(cursor)
}

impl EventsQuery {
    fn parse(self) -> Result<EventQuery, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let after =
            self.after.and_then(|text| {
                errors.take(decode_cursor(&text).ok_or_else(|| {
                    FieldError::new("after", Violation::Format { expected: "a next_cursor from the feed" })
                }))
            });
        let kind = self.kind.and_then(|kind| errors.take(EventType::parse("type", &kind)));
        let resource_id = self.resource_id.and_then(|id| {
            errors.take(
                uuid::Uuid::parse_str(&id)
                    .map_err(|_| FieldError::new("resource_id", Violation::Format { expected: "a UUID" })),
            )
        });
        let limit = self.limit.unwrap_or(20);
        if !(1..=100).contains(&limit) {
            errors.push(FieldError::new("limit", Violation::Other("must be from 1 to 100".into())));
        }
        errors.into_result()?;
        Ok(EventQuery { after, kind, resource_id, limit })
    }
}

/// A page of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EventPage<'a> {
    #[schema(value_type = Vec<EventSchema>)]
    data: Vec<EventWire<'a>>,
    /// Where to read on from: pass it as `after`. Never `null`: at the end of the feed it
    /// is where the next event will follow, so a consumer polls with it.
    next_cursor: String,
    /// Whether more events were already there when this page was read.
    has_more: bool,
}

/// What an event is about.
#[derive(Debug, ToSchema)]
#[allow(dead_code, reason = "describes the wire shape for the OpenAPI document")]
pub(crate) struct EventResource {
    /// `user`, `contract`, `payment_request` or `webhook_endpoint`.
    #[schema(rename = "type")]
    kind: String,
    id: String,
}

/// An event, as the feed lists it and as a webhook delivers it (its `data`).
#[derive(Debug, ToSchema)]
#[allow(dead_code, reason = "describes the wire shape for the OpenAPI document")]
#[schema(as = Event)]
pub(crate) struct EventSchema {
    id: String,
    /// The event type, e.g. `user.created`.
    #[schema(rename = "type")]
    kind: String,
    /// RFC 3339.
    occurred_at: String,
    resource: EventResource,
    /// The resource's version after the change; `null` where the resource has none.
    version: Option<i64>,
    /// The surface the change came through: `native`, `realpay`, `convercus`, `gateway`,
    /// `duengage`, `page` (a debtor's public link) or `system`.
    surface: String,
    interaction_point: Option<String>,
    /// The id of the API key that made the change.
    actor: Option<String>,
    /// Ids, field names, statuses, amounts and numbers; never a personal value.
    data: serde_json::Map<String, serde_json::Value>,
}

/// Read the event feed, oldest first. Page with `after`: a consumer that does misses no
/// event, whatever order concurrent writers commit in.
#[utoipa::path(get, path = "/v1/events", tag = "events",
    params(EventsQuery),
    responses(
        (status = 200, description = "A page of events", body = EventPage),
        (status = 400, description = "Invalid filters", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_events(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<EventsQuery>,
) -> Result<axum::response::Response, ApiError> {
    let merchant = caller.merchant(Role::Readonly)?;
    let page = state.registry.events(merchant, query.parse()?).await?;
    let body = EventPage {
        data: page.events.iter().map(|stored| stored.event.wire()).collect(),
        next_cursor: encode_cursor(page.next),
        has_more: page.has_more,
    };
    Ok(axum::response::IntoResponse::into_response(axum::Json(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_and_nothing_else_reads_as_one() {
        let cursor = EventCursor { tx: 912_345, position: 77 };
        assert_eq!(decode_cursor(&encode_cursor(cursor)), Some(cursor));
        assert_eq!(decode_cursor(&encode_cursor(EventCursor::default())), Some(EventCursor::default()));
        for bad in
            ["", "abc", &URL_SAFE_NO_PAD.encode("1"), &URL_SAFE_NO_PAD.encode("-1.2"), &URL_SAFE_NO_PAD.encode("1.x")]
        {
            assert_eq!(decode_cursor(bad), None, "{bad}");
        }
    }
}
