//! Custom property definitions: the extra fields a merchant's users may carry.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use clientele_domain::credential::Role;
use clientele_domain::property::{PropertyDefinition, PropertyName, ValueType};
use clientele_domain::{FieldError, ValidationErrors, Violation};

use super::{Page, rfc3339};
use crate::error::Problem;
use crate::extract::Json;
use crate::{ApiError, AppState, Caller};
use clientele_service::Refusal;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_property, list_properties)).routes(routes!(deactivate_property))
}

/// A property to define.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewProperty {
    /// A UUID to give the definition; one is assigned when absent.
    #[schema(example = "9f7e8b6d-d029-4ae2-86b7-2f551b96c5bc")]
    id: Option<String>,
    /// 1 to 100 characters, unique among the merchant's active definitions.
    #[schema(example = "favourite_store")]
    name: String,
    /// `string` (the default), `integer`, `decimal`, `boolean` or `date`.
    #[schema(example = "string", pattern = "^(string|integer|decimal|boolean|date)$")]
    value_type: Option<String>,
}

/// A property definition.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PropertyView {
    id: String,
    name: String,
    value_type: &'static str,
    /// Users can be given values only for active definitions.
    active: bool,
    created_at: String,
}

impl From<PropertyDefinition> for PropertyView {
    fn from(property: PropertyDefinition) -> Self {
        PropertyView {
            id: property.id.to_string(),
            name: property.name.as_str().to_owned(),
            value_type: property.value_type.as_str(),
            active: property.active,
            created_at: rfc3339(property.created_at),
        }
    }
}

/// Define a custom property (admin keys only).
#[utoipa::path(post, path = "/v1/properties", tag = "properties",
    request_body = NewProperty,
    responses(
        (status = 201, description = "Defined", body = PropertyView),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The id, or an active definition's name, is taken", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_property(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<NewProperty>,
) -> Result<impl IntoResponse, ApiError> {
    let merchant = caller.merchant(Role::Admin)?;
    let mut errors = ValidationErrors::default();
    let id = body
        .id
        .map(|id| errors.take(id.parse().map_err(|_| FieldError::new("id", Violation::Format { expected: "a UUID" }))));
    let name = errors.take(PropertyName::parse("name", &body.name));
    let value_type = match body.value_type {
        Some(value_type) => errors.take(ValueType::parse("value_type", &value_type)),
        None => Some(ValueType::String),
    };
    let (Some(name), Some(value_type)) = (name, value_type) else {
        return Err(errors.into());
    };
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let property = state.registry.create_property(merchant, id.flatten(), name, value_type).await?;
    Ok((StatusCode::CREATED, axum::Json(PropertyView::from(property))))
}

/// List the merchant's property definitions, inactive ones included.
#[utoipa::path(get, path = "/v1/properties", tag = "properties",
    responses(
        (status = 200, description = "Every definition, oldest first", body = Page<PropertyView>),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A platform key has no merchant", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_properties(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<axum::Json<Page<PropertyView>>, ApiError> {
    let merchant = caller.merchant(Role::Readonly)?;
    let properties = state.registry.properties(merchant).await?;
    Ok(axum::Json(Page::whole(properties.into_iter().map(Into::into).collect())))
}

/// Deactivate a definition: users can no longer be given values for it, and its name is
/// free for a new definition (admin keys only).
#[utoipa::path(post, path = "/v1/properties/{id}/deactivate", tag = "properties",
    params(("id" = String, Path, description = "The definition's id")),
    responses(
        (status = 200, description = "Deactivated", body = PropertyView),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such definition", body = Problem, content_type = "application/problem+json"),
    ))]
async fn deactivate_property(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<PropertyView>, ApiError> {
    let merchant = caller.merchant(Role::Admin)?;
    let id = id.parse().map_err(|_| ApiError::Refused(Refusal::NotFound))?;
    Ok(axum::Json(state.registry.deactivate_property(merchant, id).await?.into()))
}
