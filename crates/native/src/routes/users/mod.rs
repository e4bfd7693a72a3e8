//! `/v1/users`: the registry's users through the native API.

mod dto;
mod metadata;
mod read;
pub(crate) mod view;
mod write;

use axum::http::header::{CONTENT_TYPE, ETAG, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use clientele_domain::ValidationErrors;
use clientele_domain::merchant::MerchantId;
use clientele_domain::property::CustomPropertyValue;
use clientele_domain::user::{User, UserId};
use clientele_service::{Refusal, StoredResponse};

pub(crate) use self::dto::UserBody;
use self::view::UserView;
use crate::{ApiError, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(write::create_user, read::list_users))
        .routes(routes!(read::get_user, write::replace_user, write::patch_user, write::delete_user))
        .routes(routes!(read::user_changes))
}

/// A user's id from the path; an id that cannot exist is simply not found.
fn user_id(id: &str) -> Result<UserId, ApiError> {
    id.parse().map_err(|_| ApiError::Refused(Refusal::NotFound))
}

/// A user as a stored answer: JSON, with its `ETag` (and `Location` when created).
fn render(status: StatusCode, user: &User) -> StoredResponse {
    let mut headers =
        vec![(CONTENT_TYPE.to_string(), "application/json".to_owned()), (ETAG.to_string(), crate::etag(user.version))];
    if status == StatusCode::CREATED {
        headers.push((LOCATION.to_string(), format!("/v1/users/{}", user.id)));
    }
    StoredResponse {
        status: status.as_u16(),
        headers,
        body: serde_json::to_vec(&UserView::from(user)).unwrap_or_default(),
    }
}

/// A user read, as its answer: the same as [`render`] gives, built without the detour
/// through a stored answer's text headers.
fn answer(user: &User) -> Result<Response, ApiError> {
    // Sized for a whole user at once: growing from serde_json's default of 128 bytes copies
    // the answer three times over.
    let mut body = Vec::with_capacity(1024);
    serde_json::to_writer(&mut body, &UserView::from(user)).map_err(|e| Refusal::internal(e.to_string()))?;
    let mut response = ([(CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response();
    if let Ok(tag) = HeaderValue::try_from(crate::etag(user.version)) {
        response.headers_mut().insert(ETAG, tag);
    }
    Ok(response)
}

/// Resolves custom property values, adding their errors to the others of the body.
async fn properties(
    state: &AppState,
    merchant: MerchantId,
    inputs: &[clientele_domain::property::CustomPropertyInput],
    errors: &mut ValidationErrors,
) -> Result<Vec<CustomPropertyValue>, ApiError> {
    Ok(state.registry.resolve_properties_into(merchant, "custom_properties", inputs, errors).await?)
}

fn today() -> time::Date {
    OffsetDateTime::now_utc().date()
}
