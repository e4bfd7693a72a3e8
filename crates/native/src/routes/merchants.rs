//! Merchants: created and listed with a platform key; a merchant's own keys read their own.

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use clientele_domain::credential::Role;
use clientele_domain::merchant::{Merchant, MerchantNumber};
use clientele_domain::{DisplayName, ValidationErrors};

use super::api_keys::NewApiKeyView;
use super::{Page, rfc3339};
use crate::error::Problem;
use crate::extract::Json;
use crate::{ApiError, AppState, Caller};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_merchant, list_merchants)).routes(routes!(own_merchant, change_settings))
}

/// A new merchant.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewMerchant {
    /// The merchant's public number (RealPay's `merchant_number`): 1 to 32 letters, digits, `-`, `_`.
    #[schema(example = "M1001")]
    number: String,
    /// 1 to 200 characters.
    #[schema(example = "Acme Stores")]
    name: String,
}

/// A merchant.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MerchantView {
    id: String,
    number: String,
    name: String,
    /// RFC 3339.
    created_at: String,
    /// Whether South African ID numbers are checked strictly on every surface.
    strict_sa_id: bool,
}

impl From<Merchant> for MerchantView {
    fn from(merchant: Merchant) -> Self {
        MerchantView {
            id: merchant.id.to_string(),
            number: merchant.number.as_str().to_owned(),
            name: merchant.name.as_str().to_owned(),
            created_at: rfc3339(merchant.created_at),
            strict_sa_id: merchant.strict_sa_id,
        }
    }
}

/// A merchant just created, with its first (admin) key. The key's secret is shown only here.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CreatedMerchant {
    #[serde(flatten)]
    merchant: MerchantView,
    api_key: NewApiKeyView,
}

/// Create a merchant with a first admin key (platform keys only).
#[utoipa::path(post, path = "/v1/merchants", tag = "merchants",
    request_body = NewMerchant,
    responses(
        (status = 201, description = "Created; the admin key's secret is shown once", body = CreatedMerchant,
            headers(("Location" = String, description = "The merchant's URL"))),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a platform key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A merchant with this number exists", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_merchant(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<NewMerchant>,
) -> Result<impl IntoResponse, ApiError> {
    caller.platform()?;
    let mut errors = ValidationErrors::default();
    let number = errors.take(MerchantNumber::parse("number", &body.number));
    let name = errors.take(DisplayName::parse("name", &body.name));
    let (Some(number), Some(name)) = (number, name) else {
        return Err(errors.into());
    };
    let (merchant, issued) = state.registry.create_merchant(number, name).await?;
    let location = format!("/v1/merchants/{}", merchant.id);
    let created = CreatedMerchant { merchant: merchant.into(), api_key: issued.into() };
    Ok((StatusCode::CREATED, [(LOCATION, location)], axum::Json(created)))
}

/// List every merchant (platform keys only).
#[utoipa::path(get, path = "/v1/merchants", tag = "merchants",
    responses(
        (status = 200, description = "All merchants, oldest first", body = Page<MerchantView>),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a platform key", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_merchants(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<axum::Json<Page<MerchantView>>, ApiError> {
    let merchants = state.registry.merchants(&caller).await?;
    Ok(axum::Json(Page::whole(merchants.into_iter().map(Into::into).collect())))
}

/// The caller's own merchant.
#[utoipa::path(get, path = "/v1/merchant", tag = "merchants",
    responses(
        (status = 200, description = "The merchant the credential belongs to", body = MerchantView),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A platform key has no merchant", body = Problem, content_type = "application/problem+json"),
    ))]
async fn own_merchant(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<axum::Json<MerchantView>, ApiError> {
    let merchant = caller.merchant(Role::Readonly)?;
    Ok(axum::Json(state.registry.merchant(merchant).await?.into()))
}

/// The merchant's settings to change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MerchantSettings {
    /// Check South African ID numbers strictly (13 digits YYMMDD SSSS C A Z, Luhn check
    /// digit, date of birth and gender agreeing with the number). Off by default.
    strict_sa_id: Option<bool>,
}

/// Change the caller's merchant's settings (admin keys only).
#[utoipa::path(patch, path = "/v1/merchant", tag = "merchants",
    request_body = MerchantSettings,
    responses(
        (status = 200, description = "The merchant with its settings", body = MerchantView),
        (status = 400, description = "Invalid settings", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
    ))]
async fn change_settings(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<MerchantSettings>,
) -> Result<axum::Json<MerchantView>, ApiError> {
    let merchant = caller.merchant(Role::Admin)?;
    let updated = match body.strict_sa_id {
        Some(strict) => state.registry.set_strict_sa_id(merchant, strict).await?,
        None => state.registry.merchant(merchant).await?,
    };
    Ok(axum::Json(updated.into()))
}
