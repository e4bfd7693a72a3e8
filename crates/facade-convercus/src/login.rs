//! `POST /auth/login`: the vendor's legacy login. `org` is the merchant number, `userName`
//! the id of one of its API keys, `password` that key's secret; the answer carries a JWT
//! valid for 24 hours, accepted by every surface.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use clientele_http::{AppState, AuthHeaders, ClientAddress, JsonBody};
use clientele_service::{AccessToken, AuthError, Refusal};

use crate::error::{ConvercusError, ConvercusErrorBody};

/// How long a login's token is valid, as the vendor's are.
const TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConvercusLogin {
    /// The merchant number.
    #[schema(example = "M1001")]
    pub(crate) org: String,
    /// The id of one of the merchant's API keys.
    #[schema(example = "01934f5e-8a61-7c7e-b6b1-3f2a9a6d0c11")]
    pub(crate) user_name: String,
    /// That API key's secret.
    #[schema(example = "clt_3q2-7wWkWcTn9nXo0b5sYQm0F1xE8jJq4rV6tKpHh0A")]
    pub(crate) password: String,
}

/// A token for the `Authorization` header of every other call.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConvercusToken {
    /// The JWT.
    token: String,
    #[schema(example = "Bearer")]
    token_type: &'static str,
    /// Seconds until it expires (86400).
    expires_in: u64,
}

impl From<AccessToken> for ConvercusToken {
    fn from(issued: AccessToken) -> Self {
        ConvercusToken { token: issued.token, token_type: "Bearer", expires_in: issued.expires_in.as_secs() }
    }
}

/// Refused credentials: 401 with the bare challenge, as no bearer token was sent.
pub(crate) fn refused() -> ConvercusError {
    let mut refused = ConvercusError::new(StatusCode::UNAUTHORIZED, "invalid credentials");
    refused.headers = AuthHeaders::challenge(&AuthError::Missing);
    refused
}

/// Log in (Convercus legacy login).
#[utoipa::path(post, path = "/auth/login", tag = "convercus", security(()),
    request_body = ConvercusLogin,
    responses(
        (status = 200, description = "Logged in", body = ConvercusToken),
        (status = 400, description = "Malformed body", body = ConvercusErrorBody),
        (status = 401, description = "Invalid credentials", body = ConvercusErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"clientele\"`"))),
        (status = 429, description = "Too many logins, or failed authentications, from the client's address", body = ConvercusErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
pub(crate) async fn login(
    State(state): State<AppState>,
    client: ClientAddress,
    body: JsonBody<ConvercusLogin, ConvercusError>,
) -> Result<axum::Json<ConvercusToken>, ConvercusError> {
    // Needs no credential, so its budget is the caller's address's.
    client.charge_public()?;
    let body = body.value;
    let principal = match state.registry.login(&body.org, &body.user_name, &body.password).await {
        Ok(principal) => principal,
        Err(Refusal::Unauthenticated(_)) => return Err(refused()),
        Err(other) => return Err(other.into()),
    };
    clientele_http::charge(&state, principal.key_id)?;
    let token = state.registry.issue_token(&principal, TOKEN_LIFETIME).await?;
    Ok(axum::Json(token.into()))
}
