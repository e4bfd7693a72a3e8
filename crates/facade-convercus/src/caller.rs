//! Who is calling, and from which interaction point: every Convercus call but the login
//! carries a credential in `Authorization` (raw or `Bearer`) and an `interaction-id`.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;

use clientele_domain::credential::Role;
use clientele_domain::interaction_point::InteractionPointId;
use clientele_domain::merchant::MerchantId;
use clientele_domain::{FieldError, Violation};
use clientele_http::AppState;
use clientele_service::Principal;
use clientele_store::StoreError;

use crate::error::ConvercusError;

/// The header naming the till, shop or channel a call comes from.
pub const INTERACTION_ID: &str = "interaction-id";

/// An authenticated Convercus caller at a registered, active interaction point of its
/// merchant.
#[derive(Debug, Clone)]
pub struct ConvercusCaller {
    pub principal: Principal,
    pub merchant: MerchantId,
    pub interaction_point: InteractionPointId,
}

impl ConvercusCaller {
    /// Fails unless the caller's role allows `needed`.
    pub fn require(&self, needed: Role) -> Result<MerchantId, ConvercusError> {
        Ok(self.principal.merchant(needed)?)
    }
}

impl FromRequestParts<AppState> for ConvercusCaller {
    type Rejection = ConvercusError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let principal = clientele_http::authenticate(state, &parts.headers).await?;
        let merchant = principal.merchant(Role::Readonly)?;
        let value = parts.headers.get(INTERACTION_ID).map(|v| v.to_str().map(str::trim));
        let unregistered = || {
            ConvercusError::new(
                StatusCode::FORBIDDEN,
                "the interaction-id is not a registered, active interaction point",
            )
        };
        let id = match value {
            None | Some(Ok("")) => return Err(FieldError::new(INTERACTION_ID, Violation::Required).into()),
            // An id that could never have been registered is simply not registered.
            Some(value) => {
                value.ok().and_then(|v| InteractionPointId::parse(INTERACTION_ID, v).ok()).ok_or_else(unregistered)?
            }
        };
        match state.registry.store().interaction_point(merchant, &id).await {
            Ok(point) if point.active => Ok(ConvercusCaller { principal, merchant, interaction_point: id }),
            Ok(_) | Err(StoreError::NotFound) => Err(unregistered()),
            Err(error) => Err(error.into()),
        }
    }
}
