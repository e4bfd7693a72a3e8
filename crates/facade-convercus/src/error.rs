//! The Convercus surface's one error type: a JSON body in the shape of the vendor's Spring
//! service (`timestamp`, `status`, `error`, `message`), with every refused field named.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use clientele_domain::{FieldError, ValidationErrors};
use clientele_http::AuthHeaders;
use clientele_service::Refusal;

/// A Convercus error answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "timestamp": "2026-11-21T10:00:00Z", "status": 400, "error": "Bad Request",
    "message": "emailAddress is required",
    "errors": [{"field": "emailAddress", "message": "emailAddress is required"}]
}))]
pub struct ConvercusErrorBody {
    timestamp: String,
    status: u16,
    /// The status's reason phrase.
    error: &'static str,
    message: String,
    /// One entry per refused field, when fields were refused.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<ConvercusFieldError>,
}

/// One refused field.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConvercusFieldError {
    /// The field's name as the Convercus document writes it (`emailAddress`,
    /// `customProperties[1].value`), or a header's name.
    field: String,
    message: String,
}

/// Every way a Convercus request can fail.
#[derive(Debug)]
pub struct ConvercusError {
    status: StatusCode,
    message: String,
    fields: Vec<FieldError>,
    /// `WWW-Authenticate` on a 401, `Retry-After` on a 429.
    pub(crate) headers: AuthHeaders,
}

impl ConvercusError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ConvercusError { status, message: message.into(), fields: Vec::new(), headers: AuthHeaders::default() }
    }

    pub fn invalid(errors: ValidationErrors) -> Self {
        let message = errors.0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
        ConvercusError { status: StatusCode::BAD_REQUEST, message, fields: errors.0, headers: AuthHeaders::default() }
    }

    pub fn not_found() -> Self {
        ConvercusError::new(StatusCode::NOT_FOUND, "user not found")
    }
}

impl IntoResponse for ConvercusError {
    fn into_response(self) -> Response {
        let body = ConvercusErrorBody {
            timestamp: OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default(),
            status: self.status.as_u16(),
            error: self.status.canonical_reason().unwrap_or("Error"),
            message: self.message,
            errors: self
                .fields
                .into_iter()
                .map(|e| ConvercusFieldError { message: e.to_string(), field: e.field })
                .collect(),
        };
        (self.status, self.headers, axum::Json(body)).into_response()
    }
}

impl<E: Into<Refusal>> From<E> for ConvercusError {
    /// Every refusal, in the vendor's words where it has them.
    fn from(refusal: E) -> Self {
        let refusal = refusal.into();
        let headers = AuthHeaders::of(&refusal);
        let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let error = match refusal {
            Refusal::Invalid(errors) => return ConvercusError::invalid(errors),
            Refusal::NotFound => ConvercusError::not_found(),
            Refusal::VersionMismatch => ConvercusError::new(status, "the user was changed; read it again"),
            Refusal::KeyInFlight => {
                ConvercusError::new(status, "a request with this Idempotency-Key is still being processed")
            }
            Refusal::KeyReused => ConvercusError::new(status, "this Idempotency-Key was used for a different request"),
            Refusal::TooLarge => ConvercusError::new(status, "the request body is too large"),
            Refusal::UnsupportedMediaType => ConvercusError::new(status, "Content-Type must be application/json"),
            Refusal::RateLimited { .. } => ConvercusError::new(status, "rate limit reached"),
            Refusal::UnregisteredInteractionPoint => {
                ConvercusError::new(status, "the interaction-id is not a registered, active interaction point")
            }
            Refusal::Internal(cause) => {
                // Logged once here; the client learns nothing of it.
                tracing::error!(error = %cause, "request failed");
                ConvercusError::new(status, "internal error")
            }
            Refusal::Malformed(detail) => ConvercusError::new(status, detail),
            other => ConvercusError::new(status, other.to_string()),
        };
        ConvercusError { headers, ..error }
    }
}
