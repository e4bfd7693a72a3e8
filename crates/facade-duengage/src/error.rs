//! ServiceStack's error answer: `ResponseStatus` with `ErrorCode`, `Message` and one
//! `Errors` entry per refused field, in the format the client asked for. Never a stack trace.

use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use serde_json::{Value, json};

use clientele_domain::{FieldError, ValidationErrors, Violation};
use clientele_http::{AuthFailure, BodyError, HeadError};
use clientele_service::{AuthError, PaymentError, UserError};
use clientele_store::StoreError;

use crate::format::Format;

/// A refused `/onceoffpayment` call.
#[derive(Debug)]
pub struct ServiceStackError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub errors: Vec<FieldError>,
    /// `WWW-Authenticate` on a 401, `Retry-After` on a 429.
    pub headers: clientele_http::AuthHeaders,
}

impl ServiceStackError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ServiceStackError {
            status,
            code: code.to_owned(),
            message: message.into(),
            errors: Vec::new(),
            headers: clientele_http::AuthHeaders::default(),
        }
    }

    pub fn invalid(errors: ValidationErrors) -> Self {
        let first =
            errors.0.first().map(|e| (error_code(&e.violation), message(e))).unwrap_or(("Invalid", String::new()));
        ServiceStackError {
            status: StatusCode::BAD_REQUEST,
            code: first.0.to_owned(),
            message: first.1,
            errors: errors.0,
            headers: clientele_http::AuthHeaders::default(),
        }
    }

    /// The answer, in `format`.
    pub fn answer(&self, format: Format) -> Response {
        let errors: Vec<Value> = self
            .errors
            .iter()
            .map(|e| json!({"ErrorCode": error_code(&e.violation), "FieldName": e.field, "Message": message(e)}))
            .collect();
        let mut status = serde_json::Map::new();
        status.insert("ErrorCode".to_owned(), Value::String(self.code.clone()));
        status.insert("Message".to_owned(), Value::String(self.message.clone()));
        if !errors.is_empty() {
            status.insert("Errors".to_owned(), Value::Array(errors));
        }
        (self.headers.clone(), format.answer(self.status, &json!({"ResponseStatus": status}))).into_response()
    }
}

/// The FluentValidation code ServiceStack reports for a refusal.
fn error_code(violation: &Violation) -> &'static str {
    match violation {
        Violation::Required | Violation::Empty => "NotEmpty",
        Violation::TooLong { .. } => "MaximumLength",
        Violation::UnknownField => "UnknownProperty",
        Violation::ReadOnly => "ReadOnly",
        _ => "Invalid",
    }
}

/// `FirstName` → `First Name`, as FluentValidation names properties in messages.
fn spaced(field: &str) -> String {
    let mut out = String::new();
    for (i, c) in field.chars().enumerate() {
        if i > 0 && c.is_ascii_uppercase() {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

fn message(error: &FieldError) -> String {
    let name = spaced(&error.field);
    match &error.violation {
        Violation::Required | Violation::Empty => format!("'{name}' must not be empty."),
        Violation::TooLong { max } => format!("The length of '{name}' must be {max} characters or fewer."),
        other => format!("'{name}' {other}."),
    }
}

impl From<BodyError> for ServiceStackError {
    fn from(error: BodyError) -> Self {
        match error {
            BodyError::Malformed(detail) => {
                ServiceStackError::new(StatusCode::BAD_REQUEST, "SerializationException", detail)
            }
            BodyError::Invalid(errors) => ServiceStackError::invalid(errors),
            BodyError::TooLarge => ServiceStackError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestTooLarge",
                "The request body is too large.",
            ),
            BodyError::UnsupportedMediaType => ServiceStackError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                "Send application/json, text/jsv or application/x-www-form-urlencoded.",
            ),
        }
    }
}

impl From<HeadError> for ServiceStackError {
    fn from(error: HeadError) -> Self {
        let code = match error {
            HeadError::UriTooLong => "UriTooLong",
            HeadError::HeadersTooLarge => "RequestHeaderFieldsTooLarge",
        };
        ServiceStackError::new(error.status(), code, error.to_string())
    }
}

impl From<StoreError> for ServiceStackError {
    fn from(error: StoreError) -> Self {
        match &error {
            StoreError::Conflict(rule) => ServiceStackError::new(StatusCode::CONFLICT, "Conflict", rule.to_string()),
            StoreError::NotFound => ServiceStackError::new(StatusCode::NOT_FOUND, "NotFound", "Not found."),
            StoreError::VersionMismatch => {
                ServiceStackError::new(StatusCode::CONFLICT, "Conflict", "Changed meanwhile; retry.")
            }
            StoreError::LeaseLost => ServiceStackError::new(StatusCode::CONFLICT, "Conflict", error.to_string()),
            // The same answer as a key found revoked when the request came in.
            StoreError::KeyRevoked => AuthFailure::Auth(AuthError::Invalid).into(),
            StoreError::Other(cause) => {
                tracing::error!(error = %cause, "request failed");
                ServiceStackError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Exception",
                    "The request could not be completed.",
                )
            }
        }
    }
}

impl From<PaymentError> for ServiceStackError {
    fn from(error: PaymentError) -> Self {
        match error {
            PaymentError::User(UserError::Store(error)) => error.into(),
            PaymentError::User(UserError::Invalid(errors)) => ServiceStackError::invalid(errors),
            PaymentError::User(error @ UserError::KeyReused) => {
                ServiceStackError::new(StatusCode::UNPROCESSABLE_ENTITY, "IdempotencyKeyReused", error.to_string())
            }
            PaymentError::User(other) => ServiceStackError::new(StatusCode::CONFLICT, "Conflict", other.to_string()),
            PaymentError::InvoiceTaken => ServiceStackError::new(StatusCode::CONFLICT, "Conflict", error.to_string()),
            PaymentError::NotAllowed { .. } => {
                ServiceStackError::new(StatusCode::CONFLICT, "Conflict", error.to_string())
            }
        }
    }
}

impl From<AuthFailure> for ServiceStackError {
    fn from(failure: AuthFailure) -> Self {
        match failure {
            AuthFailure::Auth(AuthError::Store(error)) => error.into(),
            AuthFailure::Auth(_) => ServiceStackError {
                headers: failure.headers(),
                ..ServiceStackError::new(StatusCode::UNAUTHORIZED, "Unauthorized", "Not Authenticated")
            },
            AuthFailure::RateLimited { retry_after_seconds } => ServiceStackError {
                headers: failure.headers(),
                ..ServiceStackError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "TooManyRequests",
                    format!("Too many requests; retry in {retry_after_seconds} s."),
                )
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_like_fluent_validation() {
        let error = FieldError::new("FirstName", Violation::Required);
        assert_eq!(message(&error), "'First Name' must not be empty.");
        let long = FieldError::new("InvoiceNumber", Violation::TooLong { max: 64 });
        assert_eq!(message(&long), "The length of 'Invoice Number' must be 64 characters or fewer.");
        assert_eq!(error_code(&long.violation), "MaximumLength");
    }
}
