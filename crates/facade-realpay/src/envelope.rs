//! RealPay's `APIResponse` envelope, on every answer, errors included, and the surface's
//! one error type.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use clientele_domain::{FieldError, ValidationErrors};
use clientele_service::Refusal;

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

impl<E: Into<Refusal>> From<E> for RealPayError {
    /// Every refusal, in RealPay's envelope. One refused before the caller is identified
    /// keeps call sequence 0; the handler numbers the others.
    fn from(refusal: E) -> Self {
        let refusal = refusal.into();
        let headers = clientele_http::AuthHeaders::of(&refusal);
        let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let error = match refusal {
            Refusal::Invalid(errors) => return RealPayError::invalid(errors),
            Refusal::UnknownMerchant => return RealPayError::unknown_merchant(),
            Refusal::Malformed(detail) => RealPayError::new(status, detail),
            Refusal::TooLarge => RealPayError::new(status, "the request body is too large"),
            Refusal::UnsupportedMediaType => RealPayError::new(status, "Content-Type must be application/json"),
            Refusal::NotFound => RealPayError::new(status, "not found"),
            Refusal::VersionMismatch => RealPayError::new(StatusCode::CONFLICT, "changed by another call; retry"),
            Refusal::KeyInFlight => RealPayError::new(status, "the request is still being processed"),
            Refusal::Forbidden => RealPayError::new(status, "this key's role does not allow this call"),
            Refusal::Unauthenticated(_) => RealPayError::new(
                status,
                "Unauthorized: use OAuth2 authentication (client credentials at POST /v1/auth/token) and send \
                 the access token as 'Authorization: Bearer <token>'",
            ),
            Refusal::RateLimited { retry_after_seconds } => {
                RealPayError::new(status, format!("too many calls; retry in {retry_after_seconds} s"))
            }
            Refusal::Internal(cause) => {
                tracing::error!(error = %cause, "request failed");
                RealPayError::new(status, "internal error")
            }
            other => RealPayError::new(status, other.to_string()),
        };
        RealPayError { headers, ..error }
    }
}
