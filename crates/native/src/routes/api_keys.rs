//! A merchant's API keys, managed by its admin keys.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use clientele_domain::credential::{ApiKey, KeyOwner, Role};
use clientele_domain::{DisplayName, ValidationErrors};
use clientele_service::IssuedKey;

use super::{Page, rfc3339};
use crate::error::Problem;
use crate::extract::Json;
use crate::{ApiError, AppState, Caller};
use clientele_service::Refusal;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_api_key, list_api_keys)).routes(routes!(revoke_api_key))
}

/// A key to issue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewApiKey {
    /// `readonly`, `client` or `admin`.
    #[schema(example = "client", pattern = "^(readonly|client|admin)$")]
    role: String,
    /// A label to tell keys apart, 1 to 200 characters.
    #[schema(example = "web shop")]
    name: Option<String>,
}

/// An API key, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ApiKeyView {
    id: String,
    /// `readonly`, `client`, `admin`, or `platform`.
    role: &'static str,
    name: Option<String>,
    /// The secret's first characters, to recognise it by.
    #[schema(example = "clt_3q2-7w")]
    prefix: String,
    created_at: String,
    /// When it was revoked; `null` while it is valid.
    revoked_at: Option<String>,
}

impl From<ApiKey> for ApiKeyView {
    fn from(key: ApiKey) -> Self {
        ApiKeyView {
            id: key.id.to_string(),
            role: match key.owner {
                KeyOwner::Platform => "platform",
                KeyOwner::Merchant { role, .. } => role.as_str(),
            },
            name: key.name.map(|n| n.as_str().to_owned()),
            prefix: key.prefix,
            created_at: rfc3339(key.created_at),
            revoked_at: key.revoked_at.map(rfc3339),
        }
    }
}

/// A key just issued, with its secret, shown only this once.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct NewApiKeyView {
    #[serde(flatten)]
    key: ApiKeyView,
    /// The secret. Store it now: it cannot be shown again.
    api_key: String,
}

impl From<IssuedKey> for NewApiKeyView {
    fn from(issued: IssuedKey) -> Self {
        NewApiKeyView { api_key: issued.secret.expose().to_owned(), key: issued.key.into() }
    }
}

/// Issue a key for the caller's merchant (admin keys only).
#[utoipa::path(post, path = "/v1/api-keys", tag = "api-keys",
    request_body = NewApiKey,
    responses(
        (status = 201, description = "Issued; the secret is shown once", body = NewApiKeyView),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_api_key(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<NewApiKey>,
) -> Result<impl IntoResponse, ApiError> {
    let merchant = caller.merchant(Role::Admin)?;
    let mut errors = ValidationErrors::default();
    let role = errors.take(Role::parse("role", &body.role));
    let name = body.name.map(|name| errors.take(DisplayName::parse("name", &name)));
    let Some(role) = role.filter(|_| errors.is_empty()) else {
        return Err(errors.into());
    };
    let issued = state.registry.issue_key(KeyOwner::Merchant { merchant, role }, name.flatten()).await?;
    Ok((StatusCode::CREATED, axum::Json(NewApiKeyView::from(issued))))
}

/// List the merchant's keys, revoked ones included (admin keys only).
#[utoipa::path(get, path = "/v1/api-keys", tag = "api-keys",
    responses(
        (status = 200, description = "The keys, oldest first", body = Page<ApiKeyView>),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_api_keys(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<axum::Json<Page<ApiKeyView>>, ApiError> {
    let merchant = caller.merchant(Role::Admin)?;
    let keys = state.registry.api_keys(merchant).await?;
    Ok(axum::Json(Page::whole(keys.into_iter().map(Into::into).collect())))
}

/// Revoke a key: it, and every token obtained with it, stops working at once.
#[utoipa::path(post, path = "/v1/api-keys/{id}/revoke", tag = "api-keys",
    params(("id" = String, Path, description = "The key's id")),
    responses(
        (status = 200, description = "Revoked (revoking again changes nothing)", body = ApiKeyView),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key for this merchant", body = Problem, content_type = "application/problem+json"),
    ))]
async fn revoke_api_key(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<ApiKeyView>, ApiError> {
    let merchant = caller.merchant(Role::Admin)?;
    let id = id.parse().map_err(|_| ApiError::Refused(Refusal::NotFound))?;
    Ok(axum::Json(state.registry.revoke_key(merchant, id).await?.into()))
}
