//! RealPay's `APIResponse` envelope, on every answer, errors included, and the surface's
//! one error type.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use clientele_domain::{FieldError, ValidationErrors};
use clientele_http::{AuthFailure, BodyError, HeadError};
use clientele_service::AuthError;
use clientele_store::StoreError;

/// The version of the RealPay API this surface implements.
pub const API_VERSION: &str = "1.0.2";

/// Whether a call did what it was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum CallStatus {
    /// Every item (or the whole call) succeeded.
    Success,
    /// Some items of a batch succeeded and some failed.
    Partial,
    /// Nothing succeeded.
    Failed,
}

/// One refused field of a request or an item.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct FieldReason {
    /// The field as RealPay names it (`DOB`, `Contract.InstalmentStartDate`).
    pub field: String,
    pub message: String,
}

impl From<FieldError> for FieldReason {
    fn from(error: FieldError) -> Self {
        FieldReason { message: error.to_string(), field: error.field }
    }
}

/// The envelope of every answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct ApiResponse {
    /// Increases with every call of the merchant, across server processes; 0 when the
    /// caller could not be identified.
    pub call_sequence: i64,
    pub status: CallStatus,
    #[schema(example = "1.0.2")]
    pub version: &'static str,
    /// The call's name.
    #[schema(example = "MaintainOmniUsers.Post")]
    pub name: &'static str,
    /// Why the call failed, on failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The refused fields of the request, on a 400.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldReason>,
}

/// An error answer: only the envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    #[serde(rename = "APIResponse")]
    pub api_response: ApiResponse,
}

/// A call that failed as a whole.
#[derive(Debug)]
pub struct RealPayError {
    pub status: StatusCode,
    pub message: String,
    pub errors: Vec<FieldReason>,
    /// Filled in by the handler once the caller's merchant is known.
    pub call_sequence: i64,
    pub name: &'static str,
    /// `WWW-Authenticate` on a 401, `Retry-After` on a 429.
    pub headers: clientele_http::AuthHeaders,
}

impl RealPayError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        RealPayError {
            status,
            message: message.into(),
            errors: Vec::new(),
            call_sequence: 0,
            name: "MaintainOmniUsers",
            headers: clientele_http::AuthHeaders::default(),
        }
    }

    pub fn invalid(errors: ValidationErrors) -> Self {
        RealPayError {
            errors: errors.0.into_iter().map(FieldReason::from).collect(),
            ..RealPayError::new(StatusCode::BAD_REQUEST, "the request is invalid")
        }
    }

    /// The answer for a merchant number that is not the caller's, the same as for one that
    /// does not exist.
    pub fn unknown_merchant() -> Self {
        RealPayError::new(StatusCode::NOT_FOUND, "merchant not found")
    }

    pub fn numbered(mut self, call_sequence: i64, name: &'static str) -> Self {
        self.call_sequence = call_sequence;
        self.name = name;
        self
    }
}

impl IntoResponse for RealPayError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            api_response: ApiResponse {
                call_sequence: self.call_sequence,
                status: CallStatus::Failed,
                version: API_VERSION,
                name: self.name,
                message: Some(self.message),
                errors: self.errors,
            },
        };
        (self.status, self.headers, axum::Json(body)).into_response()
    }
}

impl From<BodyError> for RealPayError {
    fn from(error: BodyError) -> Self {
        match error {
            BodyError::Malformed(detail) => RealPayError::new(StatusCode::BAD_REQUEST, detail),
            BodyError::Invalid(errors) => RealPayError::invalid(errors),
            BodyError::TooLarge => RealPayError::new(StatusCode::PAYLOAD_TOO_LARGE, "the request body is too large"),
            BodyError::UnsupportedMediaType => {
                RealPayError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json")
            }
        }
    }
}

impl From<HeadError> for RealPayError {
    fn from(error: HeadError) -> Self {
        // Refused before the caller is identified: call sequence 0.
        RealPayError::new(error.status(), error.to_string())
    }
}

impl From<FieldError> for RealPayError {
    fn from(error: FieldError) -> Self {
        RealPayError::invalid(error.into())
    }
}

impl From<StoreError> for RealPayError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => RealPayError::new(StatusCode::NOT_FOUND, "not found"),
            StoreError::Conflict(rule) => RealPayError::new(StatusCode::CONFLICT, rule.to_string()),
            StoreError::VersionMismatch => RealPayError::new(StatusCode::CONFLICT, "changed by another call; retry"),
            StoreError::LeaseLost => RealPayError::new(StatusCode::CONFLICT, "the request is still being processed"),
            // The same answer as a key found revoked when the request came in.
            StoreError::KeyRevoked => AuthFailure::Auth(AuthError::Invalid).into(),
            StoreError::Other(cause) => {
                tracing::error!(error = %cause, "request failed");
                RealPayError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            }
        }
    }
}

impl From<AuthFailure> for RealPayError {
    fn from(failure: AuthFailure) -> Self {
        match failure {
            AuthFailure::Auth(AuthError::Store(error)) => error.into(),
            AuthFailure::Auth(_) => RealPayError {
                headers: failure.headers(),
                ..RealPayError::new(
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized: use OAuth2 authentication (client credentials at POST /v1/auth/token) and send \
                     the access token as 'Authorization: Bearer <token>'",
                )
            },
            AuthFailure::RateLimited { retry_after_seconds } => RealPayError {
                headers: failure.headers(),
                ..RealPayError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!("too many calls; retry in {retry_after_seconds} s"),
                )
            },
        }
    }
}
