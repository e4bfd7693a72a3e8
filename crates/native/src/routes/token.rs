//! `POST /v1/auth/token`: an API key exchanged for a short-lived access token, either as
//! JSON `{"api_key": "..."}` or as an OAuth 2.0 client credentials grant (RFC 6749 §4.4),
//! with the key as client secret in the form or in HTTP Basic.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use clientele_service::{AuthError, Refusal};

use crate::error::Problem;
use crate::extract::{body_rejection, decode_json, is_json};
use crate::{ApiError, AppState, ClientAddress};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(issue_token))
}

/// An API key to exchange.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenRequest {
    #[schema(example = "clt_3q2-7wWkWcTn9nXo0b5sYQm0F1xE8jJq4rV6tKpHh0A")]
    api_key: String,
}

/// An OAuth 2.0 client credentials grant. The client secret is the API key; the client id,
/// when sent, must be that key's id.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct ClientCredentials {
    /// Must be `client_credentials`.
    #[schema(pattern = "^client_credentials$")]
    grant_type: String,
    client_id: Option<String>,
    client_secret: Option<String>,
    /// Accepted and ignored: a token carries its key's role.
    #[allow(dead_code, reason = "accepted for OAuth 2.0 clients that always send it")]
    scope: Option<String>,
}

/// An issued access token.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenResponse {
    /// A JWT; present it as `Authorization: Bearer <token>` on any surface.
    access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    token_type: &'static str,
    /// Seconds until the token expires.
    #[schema(example = 3600)]
    expires_in: u64,
}

fn oauth(status: StatusCode, error: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::OAuth { status, error, detail: detail.into(), challenge: None }
}

/// The client was not authenticated: 401, challenging for the scheme the client tried
/// (RFC 6749 §5.2), HTTP Basic when it sent Basic, else a bearer token (RFC 6750 §3: no
/// bearer token was sent, so no error code).
fn invalid_client(headers: &HeaderMap) -> impl Fn(Refusal) -> ApiError + '_ {
    move |refusal| match refusal {
        Refusal::Unauthenticated(other) => {
            let basic = basic_credentials(headers).is_some();
            let challenge =
                if basic { r#"Basic realm="clientele", charset="UTF-8""# } else { r#"Bearer realm="clientele""# };
            ApiError::OAuth {
                status: StatusCode::UNAUTHORIZED,
                error: "invalid_client",
                detail: other.to_string(),
                challenge: Some(HeaderValue::from_static(challenge)),
            }
        }
        other => other.into(),
    }
}

/// What follows `Basic ` in `Authorization`, if the client sent HTTP Basic.
fn basic_credentials(headers: &HeaderMap) -> Option<String> {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, encoded)| encoded.trim().to_owned())
}

/// The client id and secret of a client credentials grant, from HTTP Basic or the form
/// (RFC 6749 §2.3.1 forbids sending both).
fn client_credentials(headers: &HeaderMap, form: ClientCredentials) -> Result<(Option<String>, String), ApiError> {
    if form.grant_type != "client_credentials" {
        return Err(oauth(StatusCode::BAD_REQUEST, "unsupported_grant_type", "grant_type must be client_credentials"));
    }
    let invalid_client = invalid_client(headers);
    match (basic_credentials(headers), form.client_secret) {
        (Some(_), Some(_)) => Err(oauth(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "send the client credentials either in HTTP Basic or in the form, not both",
        )),
        (Some(encoded), None) => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| invalid_client(AuthError::Invalid.into()))?;
            let (id, secret) = decoded.split_once(':').ok_or_else(|| invalid_client(AuthError::Invalid.into()))?;
            let id = (!id.is_empty()).then(|| id.to_owned());
            Ok((id, secret.to_owned()))
        }
        (None, Some(secret)) => Ok((form.client_id, secret)),
        (None, None) => Err(invalid_client(AuthError::Missing.into())),
    }
}

/// Exchange an API key for an access token.
#[utoipa::path(post, path = "/v1/auth/token", tag = "auth", security(()),
    request_body(
        description = "The API key, as JSON or as an OAuth 2.0 client credentials grant",
        content(
            (TokenRequest = "application/json"),
            (ClientCredentials = "application/x-www-form-urlencoded"),
        )
    ),
    responses(
        (status = 200, description = "The token", body = TokenResponse),
        (status = 400, description = "Malformed request or unsupported grant type", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The key is missing, unknown or revoked", body = Problem, content_type = "application/problem+json",
            headers(("WWW-Authenticate" = String, description = "`Basic realm=\"clientele\"` when HTTP Basic was sent, else `Bearer realm=\"clientele\"`"))),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither JSON nor a form", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "A rate limit was reached: the key's, or the client address's (token requests, failed authentications)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
async fn issue_token(
    State(state): State<AppState>,
    client: ClientAddress,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, ApiError> {
    // Needs no credential, so its budget is the caller's address's.
    client.charge_public()?;
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let body = body.map_err(body_rejection)?;
    let (client_id, secret) = if is_json(content_type) {
        (None, decode_json::<TokenRequest>(&body)?.api_key)
    } else if content_type.is_some_and(|t| t.starts_with("application/x-www-form-urlencoded")) {
        let form = serde_urlencoded::from_bytes::<ClientCredentials>(&body)
            .map_err(|e| oauth(StatusCode::BAD_REQUEST, "invalid_request", e.to_string()))?;
        client_credentials(&headers, form)?
    } else {
        return Err(ApiError::UnsupportedMediaType("application/json or application/x-www-form-urlencoded"));
    };
    let (principal, token) = state.registry.exchange(&secret, None).await.map_err(invalid_client(&headers))?;
    if client_id.is_some_and(|id| id != principal.key_id.to_string()) {
        return Err(invalid_client(&headers)(AuthError::Invalid.into()));
    }
    clientele_http::charge(&state, principal.key_id)?;
    let answer =
        TokenResponse { access_token: token.token, token_type: "Bearer", expires_in: token.expires_in.as_secs() };
    Ok(([(CACHE_CONTROL, "no-store")], axum::Json(answer)))
}
