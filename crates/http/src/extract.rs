//! Reading requests for every surface: a strict JSON body, strict form and query text.
//! Failures are [`Refusal`]s, which each surface renders in its own envelope.

use std::marker::PhantomData;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use serde::de::DeserializeOwned;

use clientele_domain::{FieldError, ValidationErrors, Violation};
use clientele_service::Refusal;

use crate::strict::Strict;

/// A JSON request body together with its bytes (which fingerprint idempotent requests).
/// The content type must be JSON, the body at most the configured limit, and the DTO
/// decides what is accepted (DTOs deny unknown fields). `E` is the surface's error type,
/// which its failures answer in.
#[derive(Debug, Clone)]
pub struct JsonBody<T, E> {
    pub value: T,
    pub raw: Bytes,
    error: PhantomData<fn() -> E>,
}

impl<S, T, E> FromRequest<S> for JsonBody<T, E>
where
    S: Send + Sync,
    T: DeserializeOwned,
    E: From<Refusal> + IntoResponse,
{
    type Rejection = E;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok())) {
            return Err(Refusal::UnsupportedMediaType.into());
        }
        let raw = Bytes::from_request(request, state).await.map_err(body_rejection)?;
        Ok(JsonBody { value: decode_json(&raw)?, raw, error: PhantomData })
    }
}

/// Reads `application/x-www-form-urlencoded` text (a form body or a query string) strictly:
/// `+` is a space, every `%` begins two hex digits, and what they decode to is UTF-8. (The
/// WHATWG parser keeps a bad escape as it stands and replaces bytes that are not UTF-8, so
/// what would be stored is not what was sent.) A pair without `=` has an empty value.
pub fn parse_urlencoded(text: &[u8]) -> Result<Vec<(String, String)>, &'static str> {
    text.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let mut parts = pair.splitn(2, |&b| b == b'=');
            let name = percent_decode(parts.next().unwrap_or_default())?;
            let value = percent_decode(parts.next().unwrap_or_default())?;
            Ok((name, value))
        })
        .collect()
}

fn percent_decode(bytes: &[u8]) -> Result<String, &'static str> {
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut rest = bytes.iter();
    while let Some(&byte) = rest.next() {
        match byte {
            b'+' => decoded.push(b' '),
            b'%' => {
                let mut digit = || rest.next().and_then(|&d| char::from(d).to_digit(16));
                match (digit(), digit()) {
                    (Some(high), Some(low)) => decoded.extend(u8::try_from(high * 16 + low).ok()),
                    _ => return Err("a '%' that does not begin two hex digits"),
                }
            }
            other => decoded.push(other),
        }
    }
    String::from_utf8(decoded).map_err(|_| "escapes that do not decode to UTF-8 text")
}

/// Whether a `Content-Type` names JSON (`application/json`, or any `+json` type).
pub fn is_json(content_type: Option<&str>) -> bool {
    let Some(content_type) = content_type else {
        return false;
    };
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Why a body could not be read off the wire.
pub fn body_rejection(rejection: BytesRejection) -> Refusal {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Refusal::TooLarge
    } else {
        Refusal::Malformed("the request body could not be read".to_owned())
    }
}

/// Parses a JSON body, telling malformed JSON from well-formed JSON of the wrong shape, and
/// naming the field in the second case. A body is a JSON object, and so is every struct in
/// it (see [`Strict`]).
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Refusal> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') | None => {}
        Some(_) => return Err(Refusal::Malformed("the body must be a JSON object".to_owned())),
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(Strict(&mut deserializer)).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => Refusal::Invalid(field_error(&path, &inner)),
            _ => malformed(&inner),
        }
    })?;
    deserializer.end().map_err(|error| malformed(&error))?;
    Ok(value)
}

fn malformed(error: &serde_json::Error) -> Refusal {
    Refusal::Malformed(format!("the body is not valid JSON: {error}"))
}

fn field_error(path: &str, error: &serde_json::Error) -> ValidationErrors {
    // serde_json appends " at line L column C"; the field path says more.
    let message = error.to_string();
    field_message(path, message.split(" at line ").next().unwrap_or(&message))
}

/// A deserialisation message as a field error: unknown and missing fields get their own
/// codes, anything else keeps serde's wording.
pub fn field_message(path: &str, message: &str) -> ValidationErrors {
    let message = message.to_owned();
    let path = if path == "." { String::new() } else { path.to_owned() };
    if message.starts_with("unknown field `") {
        // The path already ends with the unknown field's name.
        return FieldError::new(path, Violation::UnknownField).into();
    }
    if let Some(rest) = message.strip_prefix("duplicate field `") {
        // The path names the object; the member sent twice is in the message.
        let field = rest.split('`').next().unwrap_or_default();
        let field = if path.is_empty() { field.to_owned() } else { format!("{path}.{field}") };
        return FieldError::new(field, Violation::Other("is given more than once".to_owned())).into();
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or_default();
        let field = if path.is_empty() { field.to_owned() } else { format!("{path}.{field}") };
        return FieldError::new(field, Violation::Required).into();
    }
    FieldError::new(path, Violation::Other(message)).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code, reason = "the fields are only deserialised")]
    struct Body {
        name: String,
        count: u32,
    }

    fn errors(result: Result<Body, Refusal>) -> Vec<(String, &'static str)> {
        match result {
            Err(Refusal::Invalid(errors)) => errors.0.into_iter().map(|e| (e.field, e.violation.code())).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn json_content_types_are_recognised() {
        assert!(is_json(Some("application/json")));
        assert!(is_json(Some("application/json; charset=utf-8")));
        assert!(is_json(Some("application/merge-patch+json")));
        assert!(!is_json(Some("text/plain")));
        assert!(!is_json(None));
    }

    #[test]
    fn unknown_fields_are_named() {
        assert_eq!(
            errors(decode_json(br#"{"name": "a", "count": 1, "colour": "red"}"#)),
            vec![("colour".to_owned(), "unknown_field")]
        );
    }

    #[test]
    fn missing_and_mistyped_fields_are_named() {
        assert_eq!(errors(decode_json(br#"{"name": "a"}"#)), vec![("count".to_owned(), "required")]);
        assert_eq!(errors(decode_json(br#"{"name": "a", "count": "x"}"#)), vec![("count".to_owned(), "invalid")]);
    }

    #[test]
    fn urlencoded_text_is_read_strictly() {
        let pairs = |text: &str| parse_urlencoded(text.as_bytes());
        assert_eq!(
            pairs("a=1+2&b=%C3%AB%2B&c&&d=").unwrap(),
            vec![
                ("a".into(), "1 2".into()),
                ("b".into(), "ë+".into()),
                ("c".into(), String::new()),
                ("d".into(), String::new())
            ]
        );
        assert!(pairs("a=%zz").is_err() && pairs("a=%4").is_err() && pairs("a=%").is_err() && pairs("a=%+1").is_err());
        assert!(pairs("a=%FF%FE").is_err() && pairs("a=%C0%AF").is_err());
    }

    #[test]
    fn a_member_sent_twice_is_named() {
        assert_eq!(
            errors(decode_json(br#"{"name": "a", "count": 1, "name": "b"}"#)),
            vec![("name".to_owned(), "invalid")]
        );
    }

    #[test]
    fn a_body_is_an_object() {
        for body in [&b"[]"[..], b" [\"a\", 1]", b"\"a\"", b"1", b"null", b"true"] {
            assert!(
                matches!(decode_json::<Body>(body), Err(Refusal::Malformed(m)) if m == "the body must be a JSON object"),
                "{body:?}"
            );
        }
    }

    #[test]
    fn malformed_json_is_not_a_field_error() {
        assert!(matches!(decode_json::<Body>(br#"{"name": "#), Err(Refusal::Malformed(_))));
        assert!(matches!(decode_json::<Body>(br#"{"name": "a", "count": 1} x"#), Err(Refusal::Malformed(_))));
    }
}
