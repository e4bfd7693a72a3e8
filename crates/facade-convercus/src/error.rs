//! The Convercus surface's one error type: a JSON body in the shape of the vendor's Spring
//! service (`timestamp`, `status`, `error`, `message`), with every refused field named.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use clientele_domain::{FieldError, ValidationErrors};
use clientele_http::{AuthFailure, AuthHeaders, BodyError, HeadError};
use clientele_service::{AccessError, AuthError, UserError};
use clientele_store::StoreError;

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

impl From<ValidationErrors> for ConvercusError {
    fn from(errors: ValidationErrors) -> Self {
        ConvercusError::invalid(errors)
    }
}

impl From<FieldError> for ConvercusError {
    fn from(error: FieldError) -> Self {
        ConvercusError::invalid(error.into())
    }
}

impl From<BodyError> for ConvercusError {
    fn from(error: BodyError) -> Self {
        match error {
            BodyError::Malformed(detail) => ConvercusError::new(StatusCode::BAD_REQUEST, detail),
            BodyError::Invalid(errors) => ConvercusError::invalid(errors),
            BodyError::TooLarge => ConvercusError::new(StatusCode::PAYLOAD_TOO_LARGE, "the request body is too large"),
            BodyError::UnsupportedMediaType => {
                ConvercusError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json")
            }
        }
    }
}

impl From<HeadError> for ConvercusError {
    fn from(error: HeadError) -> Self {
        ConvercusError::new(error.status(), error.to_string())
    }
}

impl From<StoreError> for ConvercusError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ConvercusError::not_found(),
            StoreError::Conflict(rule) => ConvercusError::new(StatusCode::CONFLICT, rule.to_string()),
            StoreError::VersionMismatch => {
                ConvercusError::new(StatusCode::PRECONDITION_FAILED, "the user was changed; read it again")
            }
            StoreError::LeaseLost => ConvercusError::new(
                StatusCode::CONFLICT,
                "a request with this Idempotency-Key is still being processed",
            ),
            // The same answer as a key found revoked when the request came in.
            StoreError::KeyRevoked => AuthFailure::Auth(AuthError::Invalid).into(),
            StoreError::Other(cause) => {
                // Logged once here; the client learns nothing of it.
                tracing::error!(error = %cause, "request failed");
                ConvercusError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            }
        }
    }
}

impl From<UserError> for ConvercusError {
    fn from(error: UserError) -> Self {
        match error {
            UserError::Store(error) => error.into(),
            UserError::Invalid(errors) => ConvercusError::invalid(errors),
            UserError::KeyReused => ConvercusError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "this Idempotency-Key was used for a different request",
            ),
            UserError::KeyInFlight => ConvercusError::new(
                StatusCode::CONFLICT,
                "a request with this Idempotency-Key is still being processed",
            ),
        }
    }
}

impl From<AuthFailure> for ConvercusError {
    fn from(failure: AuthFailure) -> Self {
        match failure {
            AuthFailure::Auth(AuthError::Store(error)) => error.into(),
            AuthFailure::Auth(ref error) => ConvercusError {
                headers: failure.headers(),
                ..ConvercusError::new(StatusCode::UNAUTHORIZED, error.to_string())
            },
            AuthFailure::RateLimited { .. } => ConvercusError {
                headers: failure.headers(),
                ..ConvercusError::new(StatusCode::TOO_MANY_REQUESTS, "rate limit reached")
            },
        }
    }
}

impl From<AccessError> for ConvercusError {
    fn from(error: AccessError) -> Self {
        ConvercusError::new(StatusCode::FORBIDDEN, error.to_string())
    }
}
