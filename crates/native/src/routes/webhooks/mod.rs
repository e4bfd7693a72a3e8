//! Webhook endpoints, managed by a merchant's admins, and the deliveries made to them.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse as _, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use clientele_domain::credential::Role;
use clientele_domain::webhook::{
    EndpointUrl, EventTypes, WebhookEndpoint, WebhookEndpointId, parse_description, parse_excluded,
};
use clientele_domain::{FieldError, ValidationErrors, Violation};
use clientele_service::{EndpointChange, Refusal, RevealedEndpoint};

mod deliveries;

use super::{Page, rfc3339};
use crate::error::Problem;
use crate::extract::Json;
use crate::wire::Patch;
use crate::{ApiError, AppState, Caller};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_endpoint, list_endpoints))
        .routes(routes!(get_endpoint, patch_endpoint, delete_endpoint))
        .routes(routes!(rotate_secret))
        .merge(deliveries::router())
}

/// An endpoint to add, or what to change of one (every member optional in a change).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://crm.example.com/hooks/clientele", "event_types": ["user.created", "user.erased"],
    "description": "CRM sync", "exclude_actors": []}))]
pub(crate) struct EndpointBody {
    /// Where deliveries are POSTed: http or https, on a public address.
    #[serde(default)]
    url: Option<String>,
    /// The event types sent; every type when empty or absent.
    #[serde(default)]
    event_types: Option<Vec<String>>,
    /// At most 256 characters; `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    description: Patch<String>,
    /// `false` stops deliveries; `true` resumes them (also after the endpoint was disabled).
    #[serde(default)]
    enabled: Option<bool>,
    /// API key ids whose changes are not sent here: the echoes of a system's own writes.
    #[serde(default)]
    exclude_actors: Option<Vec<String>>,
}

impl EndpointBody {
    fn parse(self) -> Result<(Option<EndpointUrl>, EndpointChange), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let url = self.url.and_then(|url| errors.take(EndpointUrl::parse("url", &url)));
        let event_types = self.event_types.and_then(|types| errors.take(EventTypes::parse("event_types", &types)));
        let description = match self.description {
            Patch::Absent => None,
            Patch::Null => Some(None),
            Patch::Value(text) => errors.take(parse_description("description", &text)).map(Some),
        };
        let exclude_actors = self.exclude_actors.and_then(|ids| errors.take(parse_excluded("exclude_actors", &ids)));
        errors.into_result()?;
        Ok((url, EndpointChange { url: None, event_types, description, enabled: self.enabled, exclude_actors }))
    }
}

/// A webhook endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EndpointView {
    id: String,
    url: String,
    /// Empty: every type.
    event_types: Vec<&'static str>,
    description: Option<String>,
    enabled: bool,
    /// Why deliveries stopped: `manual`, `gone` (the receiver answered 410) or `failing`
    /// (every attempt failed for 5 days).
    disabled_reason: Option<&'static str>,
    exclude_actors: Vec<String>,
    /// Since when every attempt has failed.
    failing_since: Option<String>,
    /// Until when deliveries are also signed with the secret before the last rotation.
    previous_secret_expires_at: Option<String>,
    version: i64,
    created_at: String,
    updated_at: String,
    /// The signing secret (`whsec_...`): only in the answer to a creation or a rotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

impl EndpointView {
    fn of(endpoint: &WebhookEndpoint, secret: Option<String>) -> Self {
        EndpointView {
            id: endpoint.id.to_string(),
            url: endpoint.url.as_str().to_owned(),
            event_types: endpoint.event_types.as_slice().iter().map(|kind| kind.as_str()).collect(),
            description: endpoint.description.clone(),
            enabled: endpoint.enabled(),
            disabled_reason: endpoint.disabled.map(|reason| reason.as_str()),
            exclude_actors: endpoint.exclude_actors.iter().map(ToString::to_string).collect(),
            failing_since: endpoint.failing_since.map(rfc3339),
            previous_secret_expires_at: endpoint.previous_secret_until.map(rfc3339),
            version: endpoint.version,
            created_at: rfc3339(endpoint.created_at),
            updated_at: rfc3339(endpoint.updated_at),
            secret,
        }
    }

    fn revealed(revealed: &RevealedEndpoint) -> Self {
        EndpointView::of(&revealed.endpoint, Some(revealed.secret.reveal()))
    }
}

pub(super) fn endpoint_id(id: &str) -> Result<WebhookEndpointId, ApiError> {
    id.parse().map_err(|_| ApiError::Refused(Refusal::NotFound))
}

fn with_etag(view: EndpointView, status: StatusCode) -> Response {
    let etag = crate::etag(view.version);
    (status, [(axum::http::header::ETAG, etag)], axum::Json(view)).into_response()
}

/// Add a webhook endpoint. The answer holds its signing secret, shown this once.
#[utoipa::path(post, path = "/v1/webhook-endpoints", tag = "webhooks",
    request_body = EndpointBody,
    responses(
        (status = 201, description = "Added; `secret` is shown only now", body = EndpointView),
        (status = 400, description = "Invalid fields, each named (a private address among them)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_endpoint(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<EndpointBody>,
) -> Result<Response, ApiError> {
    let merchant = caller.merchant(Role::Admin)?;
    let given = body.url.is_some();
    let (url, change) = body.parse()?;
    let Some(url) = url else {
        return Err(if given {
            ApiError::Refused(Refusal::internal("a parsed URL went missing"))
        } else {
            FieldError::new("url", Violation::Required).into()
        });
    };
    let revealed = state.registry.create_webhook_endpoint(merchant, url, change).await?;
    let location = format!("/v1/webhook-endpoints/{}", revealed.endpoint.id);
    let mut response = with_etag(EndpointView::revealed(&revealed), StatusCode::CREATED);
    if let Ok(value) = location.parse() {
        response.headers_mut().insert(LOCATION, value);
    }
    Ok(response)
}

/// List the merchant's webhook endpoints, oldest first.
#[utoipa::path(get, path = "/v1/webhook-endpoints", tag = "webhooks",
    responses(
        (status = 200, description = "Every endpoint", body = Page<EndpointView>),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_endpoints(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<axum::Json<Page<EndpointView>>, ApiError> {
    let merchant = caller.merchant(Role::Admin)?;
    let endpoints = state.registry.webhook_endpoints(merchant).await?;
    Ok(axum::Json(Page::whole(endpoints.iter().map(|e| EndpointView::of(e, None)).collect())))
}

/// Read a webhook endpoint (never its secret).
#[utoipa::path(get, path = "/v1/webhook-endpoints/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "The endpoint", body = EndpointView),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_endpoint(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let merchant = caller.merchant(Role::Admin)?;
    let endpoint = state.registry.webhook_endpoint(merchant, endpoint_id(&id)?).await?;
    Ok(with_etag(EndpointView::of(&endpoint, None), StatusCode::OK))
}

/// Change a webhook endpoint: only the members sent.
#[utoipa::path(patch, path = "/v1/webhook-endpoints/{id}", tag = "webhooks",
    request_body = EndpointBody,
    params(
        ("id" = String, Path, description = "The endpoint's id"),
        ("If-Match" = Option<String>, Header, description = "Only at this version (the endpoint's `version` in quotes)"),
    ),
    responses(
        (status = 200, description = "Changed", body = EndpointView),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The endpoint is not at the If-Match version", body = Problem, content_type = "application/problem+json"),
    ))]
async fn patch_endpoint(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    Json(body): Json<EndpointBody>,
) -> Result<Response, ApiError> {
    let merchant = caller.merchant(Role::Admin)?;
    let id = endpoint_id(&id)?;
    let expected = crate::if_match(&headers)?;
    let (url, change) = body.parse()?;
    let change = EndpointChange { url, ..change };
    let endpoint = state.registry.update_webhook_endpoint(merchant, id, change, expected).await?;
    Ok(with_etag(EndpointView::of(&endpoint, None), StatusCode::OK))
}

/// Delete a webhook endpoint, with its deliveries.
#[utoipa::path(delete, path = "/v1/webhook-endpoints/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
    ))]
async fn delete_endpoint(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let merchant = caller.merchant(Role::Admin)?;
    state.registry.delete_webhook_endpoint(merchant, endpoint_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Give an endpoint a new signing secret, shown this once. For the next 24 hours every
/// delivery is signed with the old secret too, so the receiver can switch in its own time.
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/rotate-secret", tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "Rotated; `secret` is the new one, shown only now", body = EndpointView),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
    ))]
async fn rotate_secret(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let merchant = caller.merchant(Role::Admin)?;
    let revealed = state.registry.rotate_webhook_secret(merchant, endpoint_id(&id)?).await?;
    Ok(with_etag(EndpointView::revealed(&revealed), StatusCode::OK))
}
