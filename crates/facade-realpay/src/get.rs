//! `GET`: users looked up by `UserId`, `Email` or `Mobile`, with their current contract.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use clientele_domain::credential::Role;
use clientele_domain::user::{Email, PhoneLookup};
use clientele_domain::{FieldError, ValidationErrors, Violation, lookup_text};
use clientele_http::AppState;
use clientele_service::{PageRequest, UserFilter};

use crate::answers::Found;
use crate::dto::split_user_id;
use crate::{ApiResponse, Call, CallStatus, ErrorBody, GET_NAME, RealPayError, param, query};

/// The answer to a GET.
#[derive(Debug, Serialize, ToSchema)]
pub struct GetResponse {
    #[serde(rename = "UserGetResponse")]
    users: Vec<Found>,
    #[serde(rename = "APIResponse")]
    api_response: ApiResponse,
}

/// Retrieve user records (RealPay) by `UserId`, `Email` (any case) or `Mobile` (with or
/// without the dial code); `Product` is required.
#[utoipa::path(get, path = "/v1/realpay/{merchant_number}/maintain/omni/users", tag = "realpay",
    params(
        ("merchant_number" = String, Path, description = "The caller's merchant number"),
        ("Version" = Option<String>, Query, description = "v1 (the default)", pattern = "^[vV]1$"),
        ("Product" = String, Query, description = "The product asked about (required)"),
        ("UserId" = Option<String>, Query, description = "Country and ID, e.g. ZA123123123123"),
        ("Email" = Option<String>, Query, description = "In any case"),
        ("Mobile" = Option<String>, Query, description = "With or without the dial code"),
    ),
    responses(
        (status = 200, description = "The users found", body = GetResponse),
        (status = 400, description = "No Product, or none of UserId, Email, Mobile", body = ErrorBody),
        (status = 401, description = "Not authenticated: use OAuth2", body = ErrorBody),
        (status = 404, description = "No such user, or no such merchant", body = ErrorBody),
    ))]
pub(crate) async fn get_users(
    State(state): State<AppState>,
    Path(merchant_number): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, RealPayError> {
    let params = query(&uri)?;
    let call = Call::begin(&state, &headers, &merchant_number, &params, GET_NAME, Role::Readonly).await?;
    let mut errors = ValidationErrors::default();
    if param(&params, "Product").is_none_or(|p| p.trim().is_empty()) {
        errors.push(FieldError::new("Product", Violation::Required));
    }
    for (at, (name, _)) in params.iter().enumerate() {
        if !matches!(name.as_str(), "Version" | "Product" | "UserId" | "Email" | "Mobile") {
            errors.push(FieldError::new(name.clone(), Violation::UnknownField));
        } else if params.iter().take(at).any(|(earlier, _)| earlier == name) {
            errors.push(FieldError::new(name.clone(), Violation::Other("is given more than once".into())));
        }
    }
    let email = param(&params, "Email").and_then(|e| errors.take(lookup_text("Email", e)));
    let mobile = param(&params, "Mobile").and_then(|m| errors.take(lookup_text("Mobile", m)));
    let mut filter = UserFilter::default();
    if let Some(user_id) = param(&params, "UserId")
        && let Some((country, id)) = errors.take(split_user_id("UserId", user_id))
    {
        filter.country = Some(country.as_str().to_owned());
        filter.national_id = Some(id.as_str().to_owned());
    }
    if let Some(email) = email {
        filter.email_lookup = Some(Email::from_stored(email).lookup_key());
    }
    if let Some(mobile) = &mobile {
        filter.phone = Some(PhoneLookup::of(mobile, None));
    }
    if filter == UserFilter::default() && errors.is_empty() {
        errors.push(FieldError::new("UserId", Violation::Other("or Email or Mobile is required".into())));
    }
    errors.into_result().map_err(|e| call.error(RealPayError::invalid(e)))?;
    let page = PageRequest { after: None, limit: 100 };
    let users = state.registry.list_users(call.merchant, &filter, page).await.map_err(|e| call.error(e.into()))?;
    if users.is_empty() {
        return Err(call.error(RealPayError::new(StatusCode::NOT_FOUND, "no user matches")));
    }
    let mut found = Vec::with_capacity(users.len());
    for user in &users {
        let shown = state.registry.current_contract(call.merchant, user.id).await.map_err(|e| call.error(e.into()))?;
        found.push(Found::new(user, shown.as_ref()));
    }
    let answer = GetResponse { users: found, api_response: call.envelope(CallStatus::Success) };
    Ok(axum::Json(answer).into_response())
}
