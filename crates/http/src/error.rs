//! The native API's one error type. Every failure of a `/v1` request becomes an RFC 9457
//! problem document (`application/problem+json`) here, and only here.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use clientele_domain::ValidationErrors;
use clientele_service::{AccessError, AuthError};
use clientele_store::StoreError;

use crate::auth::AuthFailure;
use crate::head::HeadError;

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:clientele:problem:validation",
    "title": "The request has invalid fields",
    "status": 400,
    "detail": "1 field is invalid",
    "errors": [{"field": "name", "code": "too_long", "message": "name must be at most 200 characters"}]
}))]
pub struct Problem {
    /// A URN naming the kind of problem; stable, for programs to branch on.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// Field-level reasons, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
    /// The OAuth 2.0 error code (RFC 6749 §5.2), on token endpoint problems.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
}

/// One refused field.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    /// The field's path in the request (`address.city`); a query parameter's name.
    pub field: String,
    /// A stable code: `required`, `too_long`, `format`, `not_one_of`, `unknown_field`...
    pub code: &'static str,
    pub message: String,
}

/// Every way a native request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid fields")]
    Validation(ValidationErrors),
    #[error("malformed request: {0}")]
    Malformed(String),
    /// No credential, or one not accepted; `challenge` is its `WWW-Authenticate`.
    #[error("unauthenticated: {detail}")]
    Unauthenticated { detail: String, challenge: HeaderValue },
    /// A token endpoint failure, with its OAuth 2.0 error code, and on a 401 the
    /// `WWW-Authenticate` challenge.
    #[error("oauth: {error}")]
    OAuth { status: StatusCode, error: &'static str, detail: String, challenge: Option<HeaderValue> },
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    /// `If-Match` named another version, or the user changed between read and write.
    #[error("precondition failed")]
    PreconditionFailed,
    /// The request is well-formed but cannot be carried out as asked.
    #[error("unprocessable: {0}")]
    Unprocessable(String),
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType(&'static str),
    /// The URI or the headers are over their limits.
    #[error("{0}")]
    HeadTooLarge(HeadError),
    #[error("rate limited")]
    RateLimited { retry_after_seconds: u64 },
    #[error("timed out")]
    Timeout,
    #[error("internal: {0}")]
    Internal(String),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) | ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            ApiError::OAuth { status, .. } => *status,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::HeadTooLarge(error) => error.status(),
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn problem(self) -> Problem {
        let status = self.status().as_u16();
        let problem =
            |kind, title, detail: String| Problem { kind, title, status, detail, errors: Vec::new(), error: None };
        match self {
            ApiError::Validation(errors) => Problem {
                detail: match errors.0.len() {
                    1 => "1 field is invalid".to_owned(),
                    n => format!("{n} fields are invalid"),
                },
                errors: errors
                    .0
                    .into_iter()
                    .map(|e| ProblemField {
                        code: e.violation.code(),
                        message: format!("{} {}", e.field, e.violation),
                        field: e.field,
                    })
                    .collect(),
                ..problem("urn:clientele:problem:validation", "The request has invalid fields", String::new())
            },
            ApiError::Malformed(detail) => {
                problem("urn:clientele:problem:malformed", "The request could not be read", detail)
            }
            ApiError::Unauthenticated { detail, .. } => {
                problem("urn:clientele:problem:unauthenticated", "Authentication is required", detail)
            }
            ApiError::OAuth { error, detail, .. } => Problem {
                error: Some(error),
                ..problem("urn:clientele:problem:token", "No access token was issued", detail)
            },
            ApiError::Forbidden => problem(
                "urn:clientele:problem:forbidden",
                "Not allowed",
                "this credential's role does not allow this operation".to_owned(),
            ),
            ApiError::NotFound => {
                problem("urn:clientele:problem:not-found", "Not found", "no such resource".to_owned())
            }
            ApiError::Conflict(detail) => problem("urn:clientele:problem:conflict", "Conflict", detail),
            ApiError::PreconditionFailed => problem(
                "urn:clientele:problem:precondition-failed",
                "The resource has changed",
                "the resource is not at the version If-Match names; read it again".to_owned(),
            ),
            ApiError::Unprocessable(detail) => {
                problem("urn:clientele:problem:unprocessable", "The request cannot be carried out", detail)
            }
            ApiError::PayloadTooLarge => problem(
                "urn:clientele:problem:payload-too-large",
                "The request body is too large",
                "the request body exceeds the configured limit".to_owned(),
            ),
            ApiError::UnsupportedMediaType(expected) => problem(
                "urn:clientele:problem:unsupported-media-type",
                "Unsupported media type",
                format!("the request body must be sent as {expected}"),
            ),
            ApiError::HeadTooLarge(error) => problem(
                match error {
                    HeadError::UriTooLong => "urn:clientele:problem:uri-too-long",
                    HeadError::HeadersTooLarge => "urn:clientele:problem:headers-too-large",
                },
                "The request head is too large",
                error.to_string(),
            ),
            ApiError::RateLimited { retry_after_seconds } => problem(
                "urn:clientele:problem:rate-limited",
                "Too many requests",
                format!("a rate limit (this key's, or this address's) was reached; retry in {retry_after_seconds} s"),
            ),
            ApiError::Timeout => problem(
                "urn:clientele:problem:timeout",
                "The request took too long",
                "the request did not finish within the configured time".to_owned(),
            ),
            ApiError::Internal(_) => problem(
                "urn:clientele:problem:internal",
                "Internal error",
                "the server failed; the request id identifies the details in its log".to_owned(),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            // The one place an internal failure is logged; the client learns nothing of it.
            tracing::error!(error = %cause, "request failed");
        }
        let status = self.status();
        let mut extra = Vec::new();
        match &self {
            ApiError::Unauthenticated { challenge, .. } | ApiError::OAuth { challenge: Some(challenge), .. } => {
                extra.push((header::WWW_AUTHENTICATE, challenge.clone()));
            }
            ApiError::RateLimited { retry_after_seconds } => {
                if let Ok(value) = HeaderValue::from_str(&retry_after_seconds.to_string()) {
                    extra.push((header::RETRY_AFTER, value));
                }
            }
            _ => {}
        }
        if let ApiError::OAuth { .. } = &self {
            extra.push((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        }
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        for (name, value) in extra {
            headers.insert(name, value);
        }
        response
    }
}

impl From<HeadError> for ApiError {
    fn from(error: HeadError) -> Self {
        ApiError::HeadTooLarge(error)
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        ApiError::Validation(errors)
    }
}

impl From<clientele_domain::FieldError> for ApiError {
    fn from(error: clientele_domain::FieldError) -> Self {
        ApiError::Validation(error.into())
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict(rule) => ApiError::Conflict(rule.to_string()),
            StoreError::VersionMismatch => ApiError::PreconditionFailed,
            // The same answer as a key found revoked when the request came in.
            StoreError::KeyRevoked => AuthError::Invalid.into(),
            StoreError::LeaseLost => ApiError::Conflict(
                "a request with this Idempotency-Key is still being processed; retry later".to_owned(),
            ),
            StoreError::Other(cause) => ApiError::Internal(cause.to_string()),
        }
    }
}

impl From<AccessError> for ApiError {
    fn from(_: AccessError) -> Self {
        ApiError::Forbidden
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Store(error) => error.into(),
            other => ApiError::Unauthenticated { challenge: crate::auth::challenge(&other), detail: other.to_string() },
        }
    }
}

impl From<AuthFailure> for ApiError {
    fn from(failure: AuthFailure) -> Self {
        match failure {
            AuthFailure::Auth(error) => error.into(),
            AuthFailure::RateLimited { retry_after_seconds } => ApiError::RateLimited { retry_after_seconds },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clientele_domain::{FieldError, Violation};

    async fn body(error: ApiError) -> (StatusCode, String, serde_json::Value) {
        let response = error.into_response();
        let status = response.status();
        let content_type =
            response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap_or_default();
        (status, content_type, serde_json::from_slice(&bytes).unwrap_or_default())
    }

    #[tokio::test]
    async fn validation_problems_list_every_field() {
        let errors = ValidationErrors(vec![
            FieldError::new("name", Violation::TooLong { max: 200 }),
            FieldError::new("role", Violation::NotOneOf { allowed: &["a", "b"] }),
        ]);
        let (status, content_type, problem) = body(ApiError::Validation(errors)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(content_type, "application/problem+json");
        assert_eq!(problem["type"], "urn:clientele:problem:validation");
        assert_eq!(problem["status"], 400);
        assert_eq!(problem["errors"][0]["field"], "name");
        assert_eq!(problem["errors"][0]["code"], "too_long");
        assert_eq!(problem["errors"][1]["message"], "role must be one of a, b");
    }

    #[tokio::test]
    async fn internal_problems_reveal_nothing_of_the_cause() {
        let (status, _, problem) = body(ApiError::Internal("relation \"users\" does not exist".into())).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!problem.to_string().contains("relation"));
    }

    #[tokio::test]
    async fn rate_limited_answers_say_when_to_retry() {
        let response = ApiError::RateLimited { retry_after_seconds: 3 }.into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()), Some("3"));
    }

    #[tokio::test]
    async fn a_401_challenges_for_a_bearer_token_and_says_why_one_was_refused() {
        let challenge = |error: AuthError| {
            let response = ApiError::from(error).into_response();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            response.headers().get(header::WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).map(str::to_owned)
        };
        assert_eq!(challenge(AuthError::Missing).as_deref(), Some(r#"Bearer realm="clientele""#));
        let invalid = challenge(AuthError::Invalid).unwrap_or_default();
        assert!(invalid.starts_with(r#"Bearer realm="clientele", error="invalid_token", error_description=""#));
        assert!(challenge(AuthError::Expired).unwrap_or_default().contains("expired"));
    }

    #[tokio::test]
    async fn store_errors_map_to_their_statuses() {
        assert_eq!(body(StoreError::NotFound.into()).await.0, StatusCode::NOT_FOUND);
        let conflict = StoreError::Conflict(clientele_store::Unique::MerchantNumber);
        assert_eq!(body(conflict.into()).await.0, StatusCode::CONFLICT);
    }
}
