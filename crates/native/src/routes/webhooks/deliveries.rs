//! The deliveries made to a webhook endpoint, each with its attempts, and sending one again.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use clientele_domain::credential::Role;
use clientele_domain::webhook::{Attempt, Delivery, DeliveryId};
use clientele_domain::{FieldError, ValidationErrors, Violation};
use clientele_service::{DeliveryQuery, Refusal};

use super::endpoint_id;
use crate::error::Problem;
use crate::extract::Query;
use crate::routes::{Page, rfc3339};
use crate::{ApiError, AppState, Caller};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_deliveries)).routes(routes!(retry_delivery))
}

/// One attempt of a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AttemptView {
    /// 1 for the first.
    number: u32,
    at: String,
    /// The receiver's status code, when it answered.
    status_code: Option<u16>,
    duration_ms: u32,
    /// Why there was no answer: a timeout, a refused connection, an address that is not public.
    error: Option<String>,
    /// Where the delivery stood after it: `pending`, `succeeded` or `failed`.
    status: &'static str,
    next_attempt_at: Option<String>,
}

impl From<&Attempt> for AttemptView {
    fn from(a: &Attempt) -> Self {
        AttemptView {
            number: a.number,
            at: rfc3339(a.at),
            status_code: a.status_code,
            duration_ms: a.duration_ms,
            error: a.error.clone(),
            status: a.status.as_str(),
            next_attempt_at: a.next_attempt_at.map(rfc3339),
        }
    }
}

/// One event to one endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeliveryView {
    id: String,
    /// The event's id: the `webhook-id` of every attempt.
    event_id: String,
    event_type: &'static str,
    /// `pending` (another attempt is due), `succeeded` or `failed` (the schedule is spent, or
    /// the endpoint is gone).
    status: &'static str,
    next_attempt_at: Option<String>,
    created_at: String,
    attempts: Vec<AttemptView>,
}

impl From<&Delivery> for DeliveryView {
    fn from(d: &Delivery) -> Self {
        DeliveryView {
            id: d.id.to_string(),
            event_id: d.event_id.to_string(),
            event_type: d.event_type.as_str(),
            status: d.status.as_str(),
            next_attempt_at: d.next_attempt_at.map(rfc3339),
            created_at: rfc3339(d.created_at),
            attempts: d.attempts.iter().map(AttemptView::from).collect(),
        }
    }
}

/// Paging of the deliveries.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeliveriesQuery {
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    cursor: Option<String>,
}

impl DeliveriesQuery {
    fn parse(self) -> Result<DeliveryQuery, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let limit = self.limit.unwrap_or(20);
        if !(1..=100).contains(&limit) {
            errors.push(FieldError::new("limit", Violation::Other("must be from 1 to 100".into())));
        }
        let before = self.cursor.and_then(|c| {
            let decoded = URL_SAFE_NO_PAD.decode(&c).ok().and_then(|b| uuid::Uuid::from_slice(&b).ok());
            errors.take(decoded.map(DeliveryId::from_uuid).ok_or_else(|| {
                FieldError::new("cursor", Violation::Format { expected: "a next_cursor from a previous page" })
            }))
        });
        errors.into_result()?;
        Ok(DeliveryQuery { before, limit })
    }
}

/// List an endpoint's deliveries, newest first, each with every attempt.
#[utoipa::path(get, path = "/v1/webhook-endpoints/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint's id"), DeliveriesQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = Page<DeliveryView>),
        (status = 400, description = "Invalid paging", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn list_deliveries(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Query(query): Query<DeliveriesQuery>,
) -> Result<axum::Json<Page<DeliveryView>>, ApiError> {
    let merchant = caller.merchant(Role::Admin)?;
    let query = query.parse()?;
    let limit = query.limit;
    let mut found = state
        .registry
        .webhook_deliveries(merchant, endpoint_id(&id)?, DeliveryQuery { limit: limit + 1, ..query })
        .await?;
    let more = found.len() > limit as usize;
    found.truncate(limit as usize);
    let next = if more { found.last().map(|d| URL_SAFE_NO_PAD.encode(d.id.as_uuid().as_bytes())) } else { None };
    Ok(axum::Json(Page::new(found.iter().map(DeliveryView::from).collect(), next)))
}

/// Send a delivery again, now, whatever it stands at; its attempts go on from their number.
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/retry", tag = "webhooks",
    params(
        ("id" = String, Path, description = "The endpoint's id"),
        ("delivery_id" = String, Path, description = "The delivery's id"),
    ),
    responses(
        (status = 202, description = "Due now", body = DeliveryView),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint or delivery", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn retry_delivery(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<(StatusCode, axum::Json<DeliveryView>), ApiError> {
    let merchant = caller.merchant(Role::Admin)?;
    let delivery: DeliveryId = delivery.parse().map_err(|_| ApiError::Refused(Refusal::NotFound))?;
    let retried = state.registry.retry_webhook_delivery(merchant, endpoint_id(&id)?, delivery).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(DeliveryView::from(&retried))))
}
