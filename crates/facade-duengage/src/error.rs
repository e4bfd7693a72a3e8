//! ServiceStack's error answer: `ResponseStatus` with `ErrorCode`, `Message` and one
//! `Errors` entry per refused field, in the format the client asked for. Never a stack trace.

use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use serde_json::{Value, json};

use clientele_domain::{FieldError, ValidationErrors, Violation};
use clientele_service::{Oversize, Refusal};

use crate::format::Answer;

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

    /// The answer, in `format` (a [`crate::Format`], or an [`Answer`] with its text case).
    pub fn answer(&self, format: impl Into<Answer>) -> Response {
        let format = format.into();
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

/// `FirstName` → `First Name`, as FluentValidation names properties in messages; a key
/// after the member (`CustomersMeta.Branch`) is the client's, as sent.
fn spaced(field: &str) -> String {
    let (member, key) = field.split_once('.').map_or((field, None), |(member, key)| (member, Some(key)));
    let mut out = String::new();
    for (i, c) in member.chars().enumerate() {
        if i > 0 && c.is_ascii_uppercase() {
            out.push(' ');
        }
        out.push(c);
    }
    if let Some(key) = key {
        out.push('.');
        out.push_str(key);
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

impl<E: Into<Refusal>> From<E> for ServiceStackError {
    /// Every refusal, as ServiceStack reports it.
    fn from(refusal: E) -> Self {
        let refusal = refusal.into();
        let headers = clientele_http::AuthHeaders::of(&refusal);
        let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let error = match refusal {
            Refusal::Invalid(errors) => return ServiceStackError::invalid(errors),
            Refusal::Malformed(detail) => ServiceStackError::new(status, "SerializationException", detail),
            Refusal::TooLarge => ServiceStackError::new(status, "RequestTooLarge", "The request body is too large."),
            Refusal::UnsupportedMediaType => ServiceStackError::new(
                status,
                "UnsupportedMediaType",
                "Send application/json, text/jsv or application/x-www-form-urlencoded.",
            ),
            Refusal::Oversize(oversize) => {
                let code = match oversize {
                    Oversize::Uri { .. } => "UriTooLong",
                    Oversize::Headers { .. } => "RequestHeaderFieldsTooLarge",
                };
                ServiceStackError::new(status, code, oversize.to_string())
            }
            Refusal::Unauthenticated(_) => ServiceStackError::new(status, "Unauthorized", "Not Authenticated"),
            Refusal::RateLimited { retry_after_seconds } => ServiceStackError::new(
                status,
                "TooManyRequests",
                format!("Too many requests; retry in {retry_after_seconds} s."),
            ),
            Refusal::Forbidden => ServiceStackError::new(status, "Forbidden", "Invalid Role"),
            Refusal::NotFound => ServiceStackError::new(status, "NotFound", "Not found."),
            Refusal::KeyReused => ServiceStackError::new(status, "IdempotencyKeyReused", refusal.to_string()),
            Refusal::VersionMismatch => {
                ServiceStackError::new(StatusCode::CONFLICT, "Conflict", "Changed meanwhile; retry.")
            }
            Refusal::Conflict(_)
            | Refusal::KeyInFlight
            | Refusal::InvoiceTaken
            | Refusal::NotAllowed { .. }
            | Refusal::ContractCancelled
            | Refusal::InsufficientPoints { .. }
            | Refusal::NotReversible => ServiceStackError::new(StatusCode::CONFLICT, "Conflict", refusal.to_string()),
            Refusal::Internal(cause) => {
                tracing::error!(error = %cause, "request failed");
                ServiceStackError::new(status, "Exception", "The request could not be completed.")
            }
            other => ServiceStackError::new(status, "Exception", other.to_string()),
        };
        ServiceStackError { headers, ..error }
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
        let key = FieldError::new("CustomersMeta.BranchCode", Violation::Required);
        assert_eq!(message(&key), "'Customers Meta.BranchCode' must not be empty.");
    }
}
