//! Every refusal in the gateway's envelope, `{"isSuccess": false, "errors": [{key, value}]}`,
//! as JSON, with the kit's headers on a 401 and a 429.

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use clientele_domain::{FieldError, ValidationErrors, Violation};
use clientele_http::Surface as _;
use clientele_service::{AuthError, Oversize, Refusal, Unique};

use super::{AuthHeader, BARE_CHALLENGE, EXPIRED_CHALLENGE, INVALID_CHALLENGE, json_parts};
use crate::{Gateway, GatewayError};

/// What an internal failure's cause says, which must never reach the caller.
const CAUSE: &str = "connection to postgres://clientele:hunter2@db:5432 refused";

/// What the gateway answers what its document has no words for: a failure, said plainly.
const EXCEPTION: &[(&str, &[&str])] = &[("Exception", &["The request could not be completed."])];

/// The answer expected to a refusal.
#[derive(Debug)]
struct Shape {
    status: u16,
    /// The `errors` entries: each key with its messages.
    errors: &'static [(&'static str, &'static [&'static str])],
    header: AuthHeader,
}

const fn shape(status: u16, errors: &'static [(&'static str, &'static [&'static str])]) -> Shape {
    Shape { status, errors, header: AuthHeader::None }
}

/// Builds the table, one row per answer: `pattern => sample => shape;`. The patterns make
/// one `match` with no wildcard arm, so a new variant of `Refusal` does not compile until it
/// has a row, and so a sample that the table test renders.
macro_rules! table {
    ($($pattern:pat => $sample:expr => $shape:expr;)+) => {
        fn expected(refusal: &Refusal) -> Shape {
            match refusal {
                $($pattern => $shape,)+
            }
        }

        /// One refusal per row, with the row's own pattern to check that it takes it.
        fn samples() -> Vec<(Refusal, fn(&Refusal) -> bool)> {
            vec![$(($sample, |refusal: &Refusal| matches!(refusal, $pattern)),)+]
        }
    };
}

table! {
    Refusal::Malformed(_) => Refusal::Malformed("the body is not valid JSON: EOF while parsing".into())
        => shape(400, &[("$", &["the body is not valid JSON: EOF while parsing"])]);
    Refusal::Invalid(_) => Refusal::Invalid(ValidationErrors(vec![
            FieldError::new("contractNumber", Violation::TooLong { max: 20 }),
            FieldError::new("contactInfo.zipCode", Violation::TooLong { max: 16 }),
        ]))
        => shape(400, &[
            ("ContractNumber", &["ContractNumber must be at most 20 characters."]),
            ("ContactInfo.ZipCode", &["ContactInfo.ZipCode must be at most 16 characters."]),
        ]);
    Refusal::TooLarge => Refusal::TooLarge => shape(413, &[("$", &["The request body is too large."])]);
    Refusal::UnsupportedMediaType => Refusal::UnsupportedMediaType
        => shape(415, &[("$", &["Content-Type must be application/json."])]);
    Refusal::Oversize(Oversize::Uri { .. }) => Refusal::Oversize(Oversize::Uri { limit: 8192 })
        => shape(414, &[("UriTooLong", &["The request URI (path and query string) is longer than 8192 bytes."])]);
    Refusal::Oversize(Oversize::Headers { .. }) => Refusal::Oversize(Oversize::Headers { limit: 32768 })
        => shape(431, &[("RequestHeaderFieldsTooLarge", &["The request's headers are larger than 32768 bytes."])]);
    Refusal::Unauthenticated(AuthError::Missing) => Refusal::Unauthenticated(AuthError::Missing)
        => Shape {
            header: AuthHeader::Challenge(BARE_CHALLENGE),
            ..shape(401, &[("Unauthorized", &["no credential was presented"])])
        };
    Refusal::Unauthenticated(AuthError::Invalid) => Refusal::Unauthenticated(AuthError::Invalid)
        => Shape {
            header: AuthHeader::Challenge(INVALID_CHALLENGE),
            ..shape(401, &[("Unauthorized", &["the credential is not valid"])])
        };
    Refusal::Unauthenticated(AuthError::Expired) => Refusal::Unauthenticated(AuthError::Expired)
        => Shape {
            header: AuthHeader::Challenge(EXPIRED_CHALLENGE),
            ..shape(401, &[("Unauthorized", &["the access token has expired"])])
        };
    Refusal::RateLimited { .. } => Refusal::RateLimited { retry_after_seconds: 7 }
        => Shape {
            header: AuthHeader::RetryAfter("7"),
            ..shape(429, &[("TooManyRequests", &["Rate limit reached; retry in 7 s."])])
        };
    Refusal::Forbidden => Refusal::Forbidden => shape(403, &[("Forbidden", &["This credential may not create users."])]);
    // The handler answers a merchant id not the caller's as a field (`MerchantId`, 400);
    // anywhere else the gateway has no words for it.
    Refusal::UnknownMerchant => Refusal::UnknownMerchant => shape(500, EXCEPTION);
    Refusal::UnregisteredInteractionPoint => Refusal::UnregisteredInteractionPoint => shape(500, EXCEPTION);
    Refusal::NotFound => Refusal::NotFound => shape(404, &[("NotFound", &["The user was not found."])]);
    // The handler answers a taken customer id or contract number as the document does
    // (`InvalidOperationException`, 400); another conflict it cannot meet.
    Refusal::Conflict(_) => Refusal::Conflict(Unique::NationalId) => shape(500, EXCEPTION);
    Refusal::VersionMismatch => Refusal::VersionMismatch => shape(500, EXCEPTION);
    Refusal::KeyReused => Refusal::KeyReused
        => shape(409, &[("IdempotencyKey", &["the idempotency key was used for another request"])]);
    Refusal::KeyInFlight => Refusal::KeyInFlight
        => shape(409, &[("IdempotencyKey", &["a request with this idempotency key is still being processed"])]);
    Refusal::InvoiceTaken => Refusal::InvoiceTaken => shape(500, EXCEPTION);
    Refusal::NotAllowed { .. } => Refusal::NotAllowed { from: "paid", to: "cancelled" } => shape(500, EXCEPTION);
    Refusal::ContractCancelled => Refusal::ContractCancelled => shape(500, EXCEPTION);
    Refusal::InsufficientPoints { .. } => Refusal::InsufficientPoints { balance: 3 } => shape(500, EXCEPTION);
    Refusal::NotReversible => Refusal::NotReversible => shape(500, EXCEPTION);
    Refusal::Timeout => Refusal::Timeout => shape(500, EXCEPTION);
    Refusal::Internal(_) => Refusal::internal(CAUSE) => shape(500, EXCEPTION);
}

impl Shape {
    /// Checks an answer against the shape: status, content type, headers and the whole body.
    fn check(&self, response: Response, label: &str) {
        let (status, headers, body) = json_parts(response);
        assert_eq!(status.as_u16(), self.status, "status of {label}");
        assert_eq!(headers.get(CONTENT_TYPE).unwrap(), "application/json", "content type of {label}");
        self.header.check(&headers, label);
        let text = body.to_string();
        assert!(!text.contains("hunter2") && !text.contains("postgres"), "{label} tells its cause: {text}");
        let errors: Vec<Value> = self.errors.iter().map(|(key, value)| json!({"key": key, "value": value})).collect();
        assert_eq!(body, json!({"isSuccess": false, "errors": errors}), "body of {label}");
    }
}

#[test]
fn every_refusal_answers_in_the_gateways_envelope() {
    for (refusal, is_its_row) in samples() {
        assert!(is_its_row(&refusal), "{refusal:?} is not the sample of its own row");
        let (label, shape) = (format!("{refusal:?}"), expected(&refusal));
        shape.check(GatewayError::from(refusal).into_response(), &label);
    }
}

#[test]
fn the_surface_renders_a_refusal_from_outside_its_route_in_the_same_envelope() {
    for (refusal, _) in samples() {
        let (label, shape) = (format!("{refusal:?}"), expected(&refusal));
        shape.check(Gateway.render(refusal), &label);
    }
}
