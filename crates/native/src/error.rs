//! The native API's one error type. Every failure of a `/v1` request becomes an RFC 9457
//! problem document (`application/problem+json`) here, and only here.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use clientele_http::AuthHeaders;
use clientele_service::{Oversize, Refusal};

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

/// Every way a native request can fail: a refusal of the core, or what only the native API
/// says.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Refused(Refusal),
    /// A token endpoint failure, with its OAuth 2.0 error code, and on a 401 the
    /// `WWW-Authenticate` challenge.
    #[error("oauth: {error}")]
    OAuth { status: StatusCode, error: &'static str, detail: String, challenge: Option<HeaderValue> },
    /// A body in none of the content types an endpoint reads, which it names.
    #[error("unsupported media type")]
    UnsupportedMediaType(&'static str),
    /// The request is well-formed but the resource is not in a state that allows it.
    #[error("conflict: {0}")]
    Conflict(String),
}

impl<E: Into<Refusal>> From<E> for ApiError {
    fn from(refusal: E) -> Self {
        ApiError::Refused(refusal.into())
    }
}

fn problem(kind: &'static str, title: &'static str, status: u16, detail: impl Into<String>) -> Problem {
    Problem { kind, title, status, detail: detail.into(), errors: Vec::new(), error: None }
}

/// The problem document of a refusal, and its status.
fn refused(refusal: &Refusal) -> (StatusCode, Problem) {
    let status = match refusal {
        // Every state a resource cannot move from is a conflict here.
        Refusal::InvoiceTaken | Refusal::NotAllowed { .. } | Refusal::ContractCancelled => StatusCode::CONFLICT,
        Refusal::UnknownMerchant => StatusCode::NOT_FOUND,
        other => StatusCode::from_u16(other.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
    };
    let code = status.as_u16();
    let problem = |kind, title, detail: String| problem(kind, title, code, detail);
    let document = match refusal {
        Refusal::Invalid(errors) => Problem {
            detail: match errors.0.len() {
                1 => "1 field is invalid".to_owned(),
                n => format!("{n} fields are invalid"),
            },
            errors: errors
                .0
                .iter()
                .map(|e| ProblemField {
                    code: e.violation.code(),
                    message: format!("{} {}", e.field, e.violation),
                    field: e.field.clone(),
                })
                .collect(),
            ..problem("urn:clientele:problem:validation", "The request has invalid fields", String::new())
        },
        Refusal::Malformed(detail) => {
            problem("urn:clientele:problem:malformed", "The request could not be read", detail.clone())
        }
        Refusal::Unauthenticated(error) => {
            problem("urn:clientele:problem:unauthenticated", "Authentication is required", error.to_string())
        }
        Refusal::Forbidden | Refusal::UnregisteredInteractionPoint => problem(
            "urn:clientele:problem:forbidden",
            "Not allowed",
            "this credential's role does not allow this operation".to_owned(),
        ),
        Refusal::NotFound | Refusal::UnknownMerchant => {
            problem("urn:clientele:problem:not-found", "Not found", "no such resource".to_owned())
        }
        Refusal::Conflict(rule) => problem("urn:clientele:problem:conflict", "Conflict", rule.to_string()),
        Refusal::KeyInFlight => problem(
            "urn:clientele:problem:conflict",
            "Conflict",
            "a request with this Idempotency-Key is still being processed; retry later".to_owned(),
        ),
        Refusal::InvoiceTaken | Refusal::NotAllowed { .. } | Refusal::ContractCancelled => {
            problem("urn:clientele:problem:conflict", "Conflict", refusal.to_string())
        }
        Refusal::InsufficientPoints { .. } => problem(
            "urn:clientele:problem:insufficient-points",
            "Not enough points",
            format!("{refusal}; the balance is unchanged"),
        ),
        Refusal::NotReversible => problem("urn:clientele:problem:conflict", "Conflict", refusal.to_string()),
        Refusal::VersionMismatch => problem(
            "urn:clientele:problem:precondition-failed",
            "The resource has changed",
            "the resource is not at the version If-Match names; read it again".to_owned(),
        ),
        Refusal::KeyReused => problem(
            "urn:clientele:problem:unprocessable",
            "The request cannot be carried out",
            "this Idempotency-Key was used for a different request".to_owned(),
        ),
        Refusal::TooLarge => problem(
            "urn:clientele:problem:payload-too-large",
            "The request body is too large",
            "the request body exceeds the configured limit".to_owned(),
        ),
        Refusal::UnsupportedMediaType => unsupported("application/json"),
        Refusal::Oversize(oversize) => problem(
            match oversize {
                Oversize::Uri { .. } => "urn:clientele:problem:uri-too-long",
                Oversize::Headers { .. } => "urn:clientele:problem:headers-too-large",
            },
            "The request head is too large",
            oversize.to_string(),
        ),
        Refusal::RateLimited { retry_after_seconds } => problem(
            "urn:clientele:problem:rate-limited",
            "Too many requests",
            format!("a rate limit (this key's, or this address's) was reached; retry in {retry_after_seconds} s"),
        ),
        Refusal::Timeout => problem(
            "urn:clientele:problem:timeout",
            "The request took too long",
            "the request did not finish within the configured time".to_owned(),
        ),
        Refusal::Internal(_) => problem(
            "urn:clientele:problem:internal",
            "Internal error",
            "the server failed; the request id identifies the details in its log".to_owned(),
        ),
    };
    (status, document)
}

fn unsupported(expected: &str) -> Problem {
    problem(
        "urn:clientele:problem:unsupported-media-type",
        "Unsupported media type",
        415,
        format!("the request body must be sent as {expected}"),
    )
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Refused(Refusal::Internal(cause)) = &self {
            // The one place an internal failure is logged; the client learns nothing of it.
            tracing::error!(error = %cause, "request failed");
        }
        let (status, problem, headers) = match &self {
            ApiError::Refused(refusal) => {
                let (status, problem) = refused(refusal);
                (status, problem, AuthHeaders::of(refusal))
            }
            ApiError::OAuth { status, error, detail, .. } => {
                let mut problem =
                    problem("urn:clientele:problem:token", "No access token was issued", status.as_u16(), detail);
                problem.error = Some(error);
                (*status, problem, AuthHeaders::default())
            }
            ApiError::UnsupportedMediaType(expected) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, unsupported(expected), AuthHeaders::default())
            }
            ApiError::Conflict(detail) => (
                StatusCode::CONFLICT,
                problem("urn:clientele:problem:conflict", "Conflict", 409, detail),
                AuthHeaders::default(),
            ),
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, headers, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let ApiError::OAuth { challenge, .. } = &self {
            if let Some(challenge) = challenge {
                headers.insert(header::WWW_AUTHENTICATE, challenge.clone());
            }
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clientele_domain::{FieldError, ValidationErrors, Violation};
    use clientele_service::{AuthError, Unique};

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
        let (status, content_type, problem) = body(ApiError::from(errors)).await;
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
        let (status, _, problem) = body(Refusal::internal("relation \"users\" does not exist").into()).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!problem.to_string().contains("relation"));
    }

    #[tokio::test]
    async fn rate_limited_answers_say_when_to_retry() {
        let response = ApiError::from(Refusal::RateLimited { retry_after_seconds: 3 }).into_response();
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
        assert_eq!(body(Refusal::NotFound.into()).await.0, StatusCode::NOT_FOUND);
        let conflict = Refusal::Conflict(Unique::MerchantNumber);
        assert_eq!(body(conflict.into()).await.0, StatusCode::CONFLICT);
    }
}
