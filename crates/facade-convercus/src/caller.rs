//! Who is calling, and from which interaction point: every Convercus call but the login
//! carries a credential in `Authorization` (raw or `Bearer`) and an `interaction-id`.

use axum::extract::FromRequestParts;

use axum::http::request::Parts;

use clientele_domain::credential::Role;
use clientele_domain::interaction_point::InteractionPointId;
use clientele_domain::merchant::MerchantId;
use clientele_domain::{FieldError, Violation};
use clientele_http::AppState;
use clientele_service::{Principal, Refusal};

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
        let named = match parts.headers.get(INTERACTION_ID).map(|v| v.to_str().map(str::trim)) {
            None | Some(Ok("")) => return Err(FieldError::new(INTERACTION_ID, Violation::Required).into()),
            Some(Ok(value)) => value,
            // A value that is not text could never have been registered.
            Some(Err(_)) => return Err(Refusal::UnregisteredInteractionPoint.into()),
        };
        let interaction_point = state.registry.active_interaction_point(merchant, named).await?;
        Ok(ConvercusCaller { principal, merchant, interaction_point })
    }
}
