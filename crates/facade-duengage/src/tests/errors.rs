//! Every refusal as ServiceStack answers it: `{"ResponseStatus": {ErrorCode, Message,
//! Errors?}}` in JSON and in JSV, with the kit's headers on a 401 and a 429.

use axum::http::header::CONTENT_TYPE;
use axum::response::Response;
use serde_json::{Map, Value, json};

use clientele_domain::{FieldError, ValidationErrors, Violation};
use clientele_http::Surface as _;
use clientele_service::{AuthError, Oversize, Refusal, Unique};

use super::{AuthHeader, BARE_CHALLENGE, EXPIRED_CHALLENGE, INVALID_CHALLENGE, parts};
use crate::{DuEngage, Format, ServiceStackError};

/// What an internal failure's cause says, which must never reach the caller.
const CAUSE: &str = "connection to postgres://clientele:hunter2@db:5432 refused";

/// The answer expected to a refusal.
#[derive(Debug)]
struct Shape {
    status: u16,
    code: &'static str,
    message: &'static str,
    /// The `Errors` entries, `(ErrorCode, FieldName, Message)`; left out when there are none.
    errors: &'static [(&'static str, &'static str, &'static str)],
    header: AuthHeader,
}

const fn shape(status: u16, code: &'static str, message: &'static str) -> Shape {
    Shape { status, code, message, errors: &[], header: AuthHeader::None }
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
    Refusal::Malformed(_) => Refusal::Malformed("the body is not valid JSV: unexpected end".into())
        => shape(400, "SerializationException", "the body is not valid JSV: unexpected end");
    Refusal::Invalid(_) => Refusal::Invalid(ValidationErrors(vec![
            FieldError::new("InvoiceNumber", Violation::TooLong { max: 64 }),
            FieldError::new("FirstName", Violation::Required),
            FieldError::new("Email", Violation::Format { expected: "an e-mail address" }),
            FieldError::new("Fax", Violation::UnknownField),
        ]))
        => Shape {
            errors: &[
                ("MaximumLength", "InvoiceNumber", "The length of 'Invoice Number' must be 64 characters or fewer."),
                ("NotEmpty", "FirstName", "'First Name' must not be empty."),
                ("Invalid", "Email", "'Email' must be an e-mail address."),
                ("UnknownProperty", "Fax", "'Fax' is not a known field."),
            ],
            ..shape(400, "MaximumLength", "The length of 'Invoice Number' must be 64 characters or fewer.")
        };
    Refusal::TooLarge => Refusal::TooLarge => shape(413, "RequestTooLarge", "The request body is too large.");
    Refusal::UnsupportedMediaType => Refusal::UnsupportedMediaType => shape(
        415,
        "UnsupportedMediaType",
        "Send application/json, text/jsv or application/x-www-form-urlencoded.",
    );
    Refusal::Oversize(Oversize::Uri { .. }) => Refusal::Oversize(Oversize::Uri { limit: 8192 })
        => shape(414, "UriTooLong", "the request URI (path and query string) is longer than 8192 bytes");
    Refusal::Oversize(Oversize::Headers { .. }) => Refusal::Oversize(Oversize::Headers { limit: 32768 })
        => shape(431, "RequestHeaderFieldsTooLarge", "the request's headers are larger than 32768 bytes");
    Refusal::Unauthenticated(AuthError::Missing) => Refusal::Unauthenticated(AuthError::Missing)
        => Shape { header: AuthHeader::Challenge(BARE_CHALLENGE), ..shape(401, "Unauthorized", "Not Authenticated") };
    Refusal::Unauthenticated(AuthError::Invalid) => Refusal::Unauthenticated(AuthError::Invalid)
        => Shape { header: AuthHeader::Challenge(INVALID_CHALLENGE), ..shape(401, "Unauthorized", "Not Authenticated") };
    Refusal::Unauthenticated(AuthError::Expired) => Refusal::Unauthenticated(AuthError::Expired)
        => Shape { header: AuthHeader::Challenge(EXPIRED_CHALLENGE), ..shape(401, "Unauthorized", "Not Authenticated") };
    Refusal::RateLimited { .. } => Refusal::RateLimited { retry_after_seconds: 7 }
        => Shape {
            header: AuthHeader::RetryAfter("7"),
            ..shape(429, "TooManyRequests", "Too many requests; retry in 7 s.")
        };
    Refusal::Forbidden => Refusal::Forbidden => shape(403, "Forbidden", "Invalid Role");
    Refusal::UnknownMerchant => Refusal::UnknownMerchant => shape(404, "Exception", "no such merchant");
    Refusal::UnregisteredInteractionPoint => Refusal::UnregisteredInteractionPoint
        => shape(403, "Exception", "the interaction point is not registered and active");
    Refusal::NotFound => Refusal::NotFound => shape(404, "NotFound", "Not found.");
    Refusal::Conflict(_) => Refusal::Conflict(Unique::InvoiceNumber)
        => shape(409, "Conflict", "a payment request with this invoice number already exists");
    Refusal::VersionMismatch => Refusal::VersionMismatch => shape(409, "Conflict", "Changed meanwhile; retry.");
    Refusal::KeyReused => Refusal::KeyReused
        => shape(422, "IdempotencyKeyReused", "the idempotency key was used for another request");
    Refusal::KeyInFlight => Refusal::KeyInFlight
        => shape(409, "Conflict", "a request with this idempotency key is still being processed");
    Refusal::InvoiceTaken => Refusal::InvoiceTaken
        => shape(409, "Conflict", "a different payment request already has this invoice number");
    Refusal::NotAllowed { .. } => Refusal::NotAllowed { from: "paid", to: "cancelled" }
        => shape(409, "Conflict", "a payment request that is paid cannot become cancelled");
    Refusal::ContractCancelled => Refusal::ContractCancelled
        => shape(409, "Conflict", "a cancelled contract cannot be changed");
    Refusal::InsufficientPoints { .. } => Refusal::InsufficientPoints { balance: 3 }
        => shape(409, "Conflict", "the balance of 3 points is too low for this");
    Refusal::NotReversible => Refusal::NotReversible
        => shape(409, "Conflict", "this points entry cannot be reversed, or has been already");
    Refusal::Timeout => Refusal::Timeout
        => shape(503, "Exception", "the request did not finish within the configured time");
    Refusal::Internal(_) => Refusal::internal(CAUSE) => shape(500, "Exception", "The request could not be completed.");
}

impl Shape {
    /// The body: `ResponseStatus` alone, never a stack trace.
    fn body(&self) -> Value {
        let mut status = Map::new();
        status.insert("ErrorCode".into(), json!(self.code));
        status.insert("Message".into(), json!(self.message));
        if !self.errors.is_empty() {
            let errors = self.errors.iter().map(|(c, f, m)| json!({"ErrorCode": c, "FieldName": f, "Message": m}));
            status.insert("Errors".into(), Value::Array(errors.collect()));
        }
        json!({"ResponseStatus": status})
    }

    /// Checks an answer in `format` against the shape: status, content type, headers and
    /// the whole body (JSV read back: its scalars are all text, as these are).
    fn check(&self, format: Format, response: Response, label: &str) {
        let (status, headers, body) = parts(response);
        assert_eq!(status.as_u16(), self.status, "status of {label} in {format:?}");
        let (content_type, read): (_, fn(&str) -> Value) = match format {
            Format::Json => ("application/json; charset=utf-8", |text| serde_json::from_str(text).unwrap()),
            Format::Jsv => ("text/jsv; charset=utf-8", |text| clientele_jsv::parse(text).unwrap()),
        };
        assert_eq!(headers.get(CONTENT_TYPE).unwrap(), content_type, "content type of {label}");
        self.header.check(&headers, label);
        let text = String::from_utf8(body).unwrap();
        assert!(!text.contains("hunter2") && !text.contains("postgres"), "{label} tells its cause: {text}");
        assert_eq!(read(&text), self.body(), "body of {label} in {format:?}: {text}");
    }
}

#[test]
fn every_refusal_answers_as_servicestack_in_json_and_in_jsv() {
    for format in [Format::Json, Format::Jsv] {
        for (refusal, is_its_row) in samples() {
            assert!(is_its_row(&refusal), "{refusal:?} is not the sample of its own row");
            let (label, shape) = (format!("{refusal:?}"), expected(&refusal));
            shape.check(format, ServiceStackError::from(refusal).answer(format), &label);
        }
    }
}

#[test]
fn the_surface_renders_a_refusal_from_outside_its_routes_in_json() {
    for (refusal, _) in samples() {
        let (label, shape) = (format!("{refusal:?}"), expected(&refusal));
        shape.check(Format::Json, DuEngage.render(refusal), &label);
    }
}

#[test]
fn an_error_in_jsv_is_written_as_servicestack_writes_it() {
    let (_, _, body) = parts(ServiceStackError::from(Refusal::NotFound).answer(Format::Jsv));
    assert_eq!(String::from_utf8(body).unwrap(), "{ResponseStatus:{ErrorCode:NotFound,Message:Not found.}}");
    let (_, _, body) = parts(ServiceStackError::from(Refusal::UnsupportedMediaType).answer(Format::Jsv));
    assert_eq!(
        String::from_utf8(body).unwrap(),
        "{ResponseStatus:{ErrorCode:UnsupportedMediaType,\
Message:\"Send application/json, text/jsv or application/x-www-form-urlencoded.\"}}"
    );
}
