//! Every refusal in the Convercus envelope: `{timestamp, status, error, message, errors}`
//! as JSON, with the kit's headers on a 401 and a 429.

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use clientele_domain::{FieldError, ValidationErrors, Violation};
use clientele_http::Surface as _;
use clientele_service::{AuthError, Oversize, Refusal, Unique};

use super::{AuthHeader, BARE_CHALLENGE, EXPIRED_CHALLENGE, INVALID_CHALLENGE, json_parts};
use crate::{Convercus, ConvercusError, INTERACTION_ID};

/// What an internal failure's cause says, which must never reach the caller.
const CAUSE: &str = "connection to postgres://clientele:hunter2@db:5432 refused";

/// The answer expected to a refusal.
#[derive(Debug)]
struct Shape {
    status: u16,
    message: &'static str,
    /// The `errors` entries, `(field, message)`; the member is left out when there are none.
    fields: &'static [(&'static str, &'static str)],
    header: AuthHeader,
}

const fn shape(status: u16, message: &'static str) -> Shape {
    Shape { status, message, fields: &[], header: AuthHeader::None }
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
        => shape(400, "the body is not valid JSON: EOF while parsing");
    Refusal::Invalid(_) => Refusal::Invalid(ValidationErrors(vec![
            FieldError::new("emailAddress", Violation::Required),
            FieldError::new("customProperties[1].value", Violation::Format { expected: "a number" }),
            FieldError::new(INTERACTION_ID, Violation::Required),
        ]))
        => Shape {
            fields: &[
                ("emailAddress", "emailAddress is required"),
                ("customProperties[1].value", "customProperties[1].value must be a number"),
                ("interaction-id", "interaction-id is required"),
            ],
            ..shape(400, "emailAddress is required; customProperties[1].value must be a number; \
interaction-id is required")
        };
    Refusal::TooLarge => Refusal::TooLarge => shape(413, "the request body is too large");
    Refusal::UnsupportedMediaType => Refusal::UnsupportedMediaType
        => shape(415, "Content-Type must be application/json");
    Refusal::Oversize(Oversize::Uri { .. }) => Refusal::Oversize(Oversize::Uri { limit: 8192 })
        => shape(414, "the request URI (path and query string) is longer than 8192 bytes");
    Refusal::Oversize(Oversize::Headers { .. }) => Refusal::Oversize(Oversize::Headers { limit: 32768 })
        => shape(431, "the request's headers are larger than 32768 bytes");
    Refusal::Unauthenticated(AuthError::Missing) => Refusal::Unauthenticated(AuthError::Missing)
        => Shape { header: AuthHeader::Challenge(BARE_CHALLENGE), ..shape(401, "no credential was presented") };
    Refusal::Unauthenticated(AuthError::Invalid) => Refusal::Unauthenticated(AuthError::Invalid)
        => Shape { header: AuthHeader::Challenge(INVALID_CHALLENGE), ..shape(401, "the credential is not valid") };
    Refusal::Unauthenticated(AuthError::Expired) => Refusal::Unauthenticated(AuthError::Expired)
        => Shape { header: AuthHeader::Challenge(EXPIRED_CHALLENGE), ..shape(401, "the access token has expired") };
    Refusal::RateLimited { .. } => Refusal::RateLimited { retry_after_seconds: 7 }
        => Shape { header: AuthHeader::RetryAfter("7"), ..shape(429, "rate limit reached") };
    Refusal::Forbidden => Refusal::Forbidden => shape(403, "this credential's role does not allow this operation");
    Refusal::UnknownMerchant => Refusal::UnknownMerchant => shape(404, "no such merchant");
    Refusal::UnregisteredInteractionPoint => Refusal::UnregisteredInteractionPoint
        => shape(403, "the interaction-id is not a registered, active interaction point");
    Refusal::NotFound => Refusal::NotFound => shape(404, "user not found");
    Refusal::Conflict(_) => Refusal::Conflict(Unique::CustomerRef)
        => shape(409, "a user with this customer reference already exists");
    Refusal::VersionMismatch => Refusal::VersionMismatch => shape(412, "the user was changed; read it again");
    Refusal::KeyReused => Refusal::KeyReused => shape(422, "this Idempotency-Key was used for a different request");
    Refusal::KeyInFlight => Refusal::KeyInFlight
        => shape(409, "a request with this Idempotency-Key is still being processed");
    Refusal::InvoiceTaken => Refusal::InvoiceTaken
        => shape(409, "a different payment request already has this invoice number");
    Refusal::NotAllowed { .. } => Refusal::NotAllowed { from: "paid", to: "cancelled" }
        => shape(422, "a payment request that is paid cannot become cancelled");
    Refusal::ContractCancelled => Refusal::ContractCancelled => shape(422, "a cancelled contract cannot be changed");
    Refusal::InsufficientPoints { .. } => Refusal::InsufficientPoints { balance: 3 }
        => shape(409, "the balance of 3 points is too low for this");
    Refusal::NotReversible => Refusal::NotReversible
        => shape(409, "this points entry cannot be reversed, or has been already");
    Refusal::Timeout => Refusal::Timeout => shape(503, "the request did not finish within the configured time");
    Refusal::Internal(_) => Refusal::internal(CAUSE) => shape(500, "internal error");
}

impl Shape {
    /// Checks an answer against the shape: status, content type, headers, and the body
    /// member for member.
    fn check(&self, response: Response, label: &str) {
        let (status, headers, mut body) = json_parts(response);
        assert_eq!(status.as_u16(), self.status, "status of {label}");
        assert_eq!(headers.get(CONTENT_TYPE).unwrap(), "application/json", "content type of {label}");
        self.header.check(&headers, label);
        let text = body.to_string();
        assert!(!text.contains("hunter2") && !text.contains("postgres"), "{label} tells its cause: {text}");
        let timestamp = body.as_object_mut().unwrap().remove("timestamp").expect("a timestamp");
        let at = OffsetDateTime::parse(timestamp.as_str().unwrap(), &Rfc3339).unwrap();
        assert!((OffsetDateTime::now_utc() - at).whole_minutes().abs() < 5, "{label}: {at}");
        let mut expected = json!({
            "status": self.status,
            "error": axum::http::StatusCode::from_u16(self.status).unwrap().canonical_reason().unwrap(),
            "message": self.message,
        });
        if !self.fields.is_empty() {
            let fields: Vec<Value> = self.fields.iter().map(|(f, m)| json!({"field": f, "message": m})).collect();
            expected["errors"] = Value::Array(fields);
        }
        assert_eq!(body, expected, "body of {label}");
    }
}

#[test]
fn every_refusal_answers_in_the_convercus_envelope() {
    for (refusal, is_its_row) in samples() {
        assert!(is_its_row(&refusal), "{refusal:?} is not the sample of its own row");
        let (label, shape) = (format!("{refusal:?}"), expected(&refusal));
        shape.check(ConvercusError::from(refusal).into_response(), &label);
    }
}

#[test]
fn the_surface_renders_a_refusal_from_outside_its_routes_in_the_same_envelope() {
    for (refusal, _) in samples() {
        let (label, shape) = (format!("{refusal:?}"), expected(&refusal));
        shape.check(Convercus.render(refusal), &label);
    }
}

#[test]
fn field_errors_and_auth_errors_convert_as_their_refusals() {
    let from_field = ConvercusError::from(FieldError::new(INTERACTION_ID, Violation::Required)).into_response();
    let (status, _, body) = json_parts(from_field);
    assert_eq!(status.as_u16(), 400);
    assert_eq!(body["errors"], json!([{"field": "interaction-id", "message": "interaction-id is required"}]));
    let from_auth = ConvercusError::from(AuthError::Expired).into_response();
    let (status, headers, _) = json_parts(from_auth);
    assert_eq!(status.as_u16(), 401);
    AuthHeader::Challenge(EXPIRED_CHALLENGE).check(&headers, "an expired token");
}
