//! Every refusal in RealPay's envelope, and an item's refusals as its reasons.

use axum::http::StatusCode;
use axum::response::IntoResponse as _;
use serde_json::Value;

use clientele_domain::{FieldError, ValidationErrors, Violation};
use clientele_service::{AuthError, Oversize, Refusal, Unique};

use crate::RealPayError;
use crate::items::item_reasons;

/// Every refusal there is: a new variant does not compile here until it is given its shape.
fn every_refusal() -> Vec<Refusal> {
    let all = vec![
        Refusal::Malformed("the body is not valid JSON".into()),
        Refusal::Invalid(FieldError::new("Email", Violation::Required).into()),
        Refusal::TooLarge,
        Refusal::UnsupportedMediaType,
        Refusal::Oversize(Oversize::Uri { limit: 8192 }),
        Refusal::Oversize(Oversize::Headers { limit: 32768 }),
        Refusal::Unauthenticated(AuthError::Missing),
        Refusal::Unauthenticated(AuthError::Invalid),
        Refusal::Unauthenticated(AuthError::Expired),
        Refusal::RateLimited { retry_after_seconds: 7 },
        Refusal::Forbidden,
        Refusal::UnknownMerchant,
        Refusal::UnregisteredInteractionPoint,
        Refusal::NotFound,
        Refusal::Conflict(Unique::CustomerRef),
        Refusal::VersionMismatch,
        Refusal::KeyReused,
        Refusal::KeyInFlight,
        Refusal::InvoiceTaken,
        Refusal::NotAllowed { from: "paid", to: "cancelled" },
        Refusal::ContractCancelled,
        Refusal::InsufficientPoints { balance: 3 },
        Refusal::NotReversible,
        Refusal::Timeout,
        Refusal::internal("relation \"users\" does not exist"),
    ];
    for refusal in &all {
        match refusal {
            Refusal::Malformed(_)
            | Refusal::Invalid(_)
            | Refusal::TooLarge
            | Refusal::UnsupportedMediaType
            | Refusal::Oversize(_)
            | Refusal::Unauthenticated(_)
            | Refusal::RateLimited { .. }
            | Refusal::Forbidden
            | Refusal::UnknownMerchant
            | Refusal::UnregisteredInteractionPoint
            | Refusal::NotFound
            | Refusal::Conflict(_)
            | Refusal::VersionMismatch
            | Refusal::KeyReused
            | Refusal::KeyInFlight
            | Refusal::InvoiceTaken
            | Refusal::NotAllowed { .. }
            | Refusal::ContractCancelled
            | Refusal::InsufficientPoints { .. }
            | Refusal::NotReversible
            | Refusal::Timeout
            | Refusal::Internal(_) => {}
        }
    }
    all
}

/// The status RealPay answers a refusal with.
fn expected_status(refusal: &Refusal) -> u16 {
    match refusal {
        Refusal::Malformed(_) | Refusal::Invalid(_) => 400,
        Refusal::Unauthenticated(_) => 401,
        Refusal::Forbidden | Refusal::UnregisteredInteractionPoint => 403,
        Refusal::NotFound | Refusal::UnknownMerchant => 404,
        Refusal::Conflict(_)
        | Refusal::VersionMismatch
        | Refusal::KeyInFlight
        | Refusal::InvoiceTaken
        | Refusal::InsufficientPoints { .. }
        | Refusal::NotReversible => 409,
        Refusal::TooLarge => 413,
        Refusal::Oversize(Oversize::Uri { .. }) => 414,
        Refusal::UnsupportedMediaType => 415,
        Refusal::KeyReused | Refusal::NotAllowed { .. } | Refusal::ContractCancelled => 422,
        Refusal::RateLimited { .. } => 429,
        Refusal::Oversize(Oversize::Headers { .. }) => 431,
        Refusal::Internal(_) => 500,
        Refusal::Timeout => 503,
    }
}

async fn answer(error: RealPayError) -> (StatusCode, axum::http::HeaderMap, Value) {
    let response = error.numbered(12, "MaintainOmniUsers.Get").into_response();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    (parts.status, parts.headers, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn every_refusal_is_a_failed_call_in_the_envelope() {
    for refusal in every_refusal() {
        let status = expected_status(&refusal);
        let shown = format!("{refusal:?}");
        let (got, headers, body) = answer(RealPayError::from(refusal)).await;
        assert_eq!(got.as_u16(), status, "{shown}");
        assert_eq!(headers["content-type"], "application/json", "{shown}");
        let envelope = &body["APIResponse"];
        assert_eq!(envelope["Status"], "FAILED", "{shown}");
        assert_eq!(envelope["CallSequence"], 12, "{shown}");
        assert_eq!(envelope["Name"], "MaintainOmniUsers.Get", "{shown}");
        assert_eq!(envelope["Version"], crate::API_VERSION, "{shown}");
        assert!(envelope["Message"].as_str().is_some_and(|m| !m.is_empty()), "{shown}");
        assert!(!body.to_string().contains("relation"), "an internal cause is never shown: {shown}");
        match status {
            401 => assert!(envelope["Message"].as_str().unwrap().contains("use OAuth2"), "{shown}"),
            429 => assert_eq!(headers["retry-after"], "7"),
            _ => {}
        }
        if status == 401 {
            assert!(headers["www-authenticate"].to_str().unwrap().starts_with("Bearer realm=\"clientele\""));
        }
    }
}

#[tokio::test]
async fn refused_fields_are_listed_by_realpays_names() {
    let errors = ValidationErrors(vec![
        FieldError::new("Email", Violation::Required),
        FieldError::new("Version", Violation::NotOneOf { allowed: &["v1"] }),
    ]);
    let (status, _, body) = answer(errors.into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["APIResponse"]["Errors"][0]["Field"], "Email");
    assert_eq!(body["APIResponse"]["Errors"][1]["Message"], "Version must be one of v1");
}

#[test]
fn an_items_refusal_is_its_reasons_and_a_server_failure_fails_the_call() {
    let field = |refusal| item_reasons(refusal).unwrap().0.into_iter().map(|e| e.field).collect::<Vec<_>>();
    assert_eq!(field(Refusal::Conflict(Unique::CustomerRef)), ["ClientId"]);
    assert_eq!(field(Refusal::Conflict(Unique::ContractNumber)), ["Contract.ContractNumber"]);
    assert_eq!(field(Refusal::Conflict(Unique::NationalId)), ["UserId"]);
    assert_eq!(field(Refusal::NotFound), ["UserId"]);
    assert_eq!(field(FieldError::new("national_id", Violation::Required).into()), ["ID"]);
    assert!(item_reasons(Refusal::internal("disk")).is_err());
    assert!(item_reasons(Refusal::Unauthenticated(AuthError::Invalid)).is_err());
}
