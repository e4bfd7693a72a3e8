//! The native `/v1` API, one file per resource.

mod api_keys;
mod contracts;
mod events;
mod interaction_points;
mod merchants;
mod payment_page;
mod payments;
mod points;
mod properties;
mod token;
pub(crate) mod users;
mod webhooks;

use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(token::router())
        .merge(merchants::router())
        .merge(payment_page::router())
        .merge(api_keys::router())
        .merge(interaction_points::router())
        .merge(properties::router())
        .merge(users::router())
        .merge(contracts::router())
        .merge(payments::router())
        .merge(points::router())
        .merge(events::router())
        .merge(webhooks::router())
}

/// A list answer: the items, and the cursor of the next page (`null` on the last page).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Page<T> {
    data: Vec<T>,
    next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A list returned whole.
    pub(crate) fn whole(data: Vec<T>) -> Self {
        Page { data, next_cursor: None }
    }

    /// A page, and the cursor of the next one if there is one.
    pub(crate) fn new(data: Vec<T>, next_cursor: Option<String>) -> Self {
        Page { data, next_cursor }
    }
}

/// Formats times as RFC 3339 in answers.
pub(crate) fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
