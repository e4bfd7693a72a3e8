//! Interaction points: the tills, shops and channels a merchant registers, which requests
//! that name one (Convercus' `interaction-id`) must match.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use clientele_domain::credential::Role;
use clientele_domain::interaction_point::{InteractionPoint, InteractionPointId};
use clientele_domain::{DisplayName, ValidationErrors};

use super::{Page, rfc3339};
use crate::error::Problem;
use crate::extract::Json;
use crate::{ApiError, AppState, Caller};
use clientele_service::Refusal;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_interaction_point, list_interaction_points))
        .routes(routes!(get_interaction_point))
        .routes(routes!(deactivate_interaction_point))
}

/// An interaction point to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewInteractionPoint {
    /// The id clients will send: 1 to 100 visible ASCII characters.
    #[schema(example = "till-01")]
    id: String,
    /// 1 to 200 characters.
    #[schema(example = "Front till, Main Street")]
    name: String,
}

/// An interaction point.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct InteractionPointView {
    id: String,
    name: String,
    /// Requests may name only active interaction points.
    active: bool,
    created_at: String,
}

impl From<InteractionPoint> for InteractionPointView {
    fn from(point: InteractionPoint) -> Self {
        InteractionPointView {
            id: point.id.as_str().to_owned(),
            name: point.name.as_str().to_owned(),
            active: point.active,
            created_at: rfc3339(point.created_at),
        }
    }
}

/// Register an interaction point (admin keys only).
#[utoipa::path(post, path = "/v1/interaction-points", tag = "interaction-points",
    request_body = NewInteractionPoint,
    responses(
        (status = 201, description = "Registered", body = InteractionPointView),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The id is taken", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_interaction_point(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<NewInteractionPoint>,
) -> Result<impl IntoResponse, ApiError> {
    let merchant = caller.merchant(Role::Admin)?;
    let mut errors = ValidationErrors::default();
    let id = errors.take(InteractionPointId::parse("id", &body.id));
    let name = errors.take(DisplayName::parse("name", &body.name));
    let (Some(id), Some(name)) = (id, name) else {
        return Err(errors.into());
    };
    let point = state.registry.create_interaction_point(merchant, id, name).await?;
    Ok((StatusCode::CREATED, axum::Json(InteractionPointView::from(point))))
}

/// List the merchant's interaction points.
#[utoipa::path(get, path = "/v1/interaction-points", tag = "interaction-points",
    responses(
        (status = 200, description = "Every interaction point, by id", body = Page<InteractionPointView>),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A platform key has no merchant", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_interaction_points(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<axum::Json<Page<InteractionPointView>>, ApiError> {
    let merchant = caller.merchant(Role::Readonly)?;
    let points = state.registry.interaction_points(merchant).await?;
    Ok(axum::Json(Page::whole(points.into_iter().map(Into::into).collect())))
}

fn point_id(id: &str) -> Result<InteractionPointId, ApiError> {
    // An id that could never have been registered is simply not found.
    InteractionPointId::parse("id", id).map_err(|_| ApiError::Refused(Refusal::NotFound))
}

/// Read one interaction point.
#[utoipa::path(get, path = "/v1/interaction-points/{id}", tag = "interaction-points",
    params(("id" = String, Path, description = "The interaction point's id")),
    responses(
        (status = 200, description = "The interaction point", body = InteractionPointView),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such interaction point", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_interaction_point(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<InteractionPointView>, ApiError> {
    let merchant = caller.merchant(Role::Readonly)?;
    Ok(axum::Json(state.registry.interaction_point(merchant, &point_id(&id)?).await?.into()))
}

/// Deactivate an interaction point: requests naming it are refused from now on (admin keys
/// only).
#[utoipa::path(post, path = "/v1/interaction-points/{id}/deactivate", tag = "interaction-points",
    params(("id" = String, Path, description = "The interaction point's id")),
    responses(
        (status = 200, description = "Deactivated", body = InteractionPointView),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such interaction point", body = Problem, content_type = "application/problem+json"),
    ))]
async fn deactivate_interaction_point(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<InteractionPointView>, ApiError> {
    let merchant = caller.merchant(Role::Admin)?;
    let point = state.registry.deactivate_interaction_point(merchant, &point_id(&id)?).await?;
    Ok(axum::Json(point.into()))
}
