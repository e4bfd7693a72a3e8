//! The tables of events and webhooks, as both backends' migrations create them.

use super::{Reference, Table, Tenancy, plain, reference};

/// What changed, committed with the change: ids, types, field names, statuses and amounts,
/// never a personal value, so the log outlives erasure (until its retention).
pub const EVENTS: Table = Table {
    name: "events",
    columns: &[
        plain("merchant_id"),
        plain("tx"),
        plain("position"),
        plain("id"),
        plain("type"),
        plain("occurred_at"),
        plain("resource_type"),
        plain("resource_id"),
        plain("version"),
        plain("surface"),
        plain("interaction_point_id"),
        plain("actor_id"),
        plain("data"),
    ],
    tenancy: Tenancy::Merchant,
    references: &[],
    personal: None,
};

/// A merchant's webhook endpoint: where events go, which ones, and its sealed secrets.
pub const WEBHOOK_ENDPOINTS: Table = Table {
    name: "webhook_endpoints",
    columns: &[
        plain("merchant_id"),
        plain("id"),
        plain("url"),
        plain("description"),
        plain("event_types"),
        plain("exclude_actors"),
        plain("disabled"),
        plain("failing_since"),
        plain("secret"),
        plain("previous_secret"),
        plain("previous_secret_until"),
        plain("cursor_tx"),
        plain("cursor_position"),
        plain("version"),
        plain("created_at"),
        plain("updated_at"),
    ],
    tenancy: Tenancy::Merchant,
    references: &[],
    personal: None,
};

/// One event to one endpoint, and where it stands.
pub const WEBHOOK_DELIVERIES: Table = Table {
    name: "webhook_deliveries",
    columns: &[
        plain("merchant_id"),
        plain("id"),
        plain("endpoint_id"),
        plain("event_id"),
        plain("event_type"),
        plain("status"),
        plain("attempts"),
        plain("next_attempt_at"),
        plain("lease"),
        plain("lease_until"),
        plain("created_at"),
        plain("updated_at"),
    ],
    tenancy: Tenancy::Merchant,
    references: &[reference("merchant_id, endpoint_id", "webhook_endpoints")],
    personal: None,
};

/// Every attempt of a delivery: its answer's status code, never its body.
pub const WEBHOOK_ATTEMPTS: Table = Table {
    name: "webhook_attempts",
    columns: &[
        plain("merchant_id"),
        plain("delivery_id"),
        plain("number"),
        plain("at"),
        plain("status_code"),
        plain("duration_ms"),
        plain("error"),
        plain("status"),
        plain("next_attempt_at"),
    ],
    tenancy: Tenancy::Merchant,
    references: &[Reference {
        columns: "merchant_id, delivery_id",
        target: "webhook_deliveries",
        target_columns: "merchant_id, id",
        when: "1 = 1",
    }],
    personal: None,
};
