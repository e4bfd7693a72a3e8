//! ServiceStack's content negotiation: bodies in JSON, JSV or a form by `Content-Type`;
//! answers in JSON or JSV by the path suffix, `?format=`, or `Accept`.

use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;

use clientele_http::{decode_json, parse_urlencoded};
use clientele_service::{Refusal, StoredResponse};

/// A wire format of ServiceStack's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Jsv,
}

impl Format {
    /// The answer's format: the `.json`/`.jsv` suffix, then `?format=`, then `Accept`; JSON
    /// when nothing asks for JSV.
    pub fn of_answer(uri: &Uri, headers: &HeaderMap) -> Format {
        let path = uri.path();
        if path.ends_with(".jsv") {
            return Format::Jsv;
        }
        if path.ends_with(".json") {
            return Format::Json;
        }
        let asked: Vec<(String, String)> =
            serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default();
        if let Some((_, format)) = asked.iter().find(|(key, _)| key.eq_ignore_ascii_case("format")) {
            return if format.eq_ignore_ascii_case("jsv") { Format::Jsv } else { Format::Json };
        }
        let accept = headers.get(ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
        if accept.contains("jsv") && !accept.contains("json") { Format::Jsv } else { Format::Json }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
            Format::Jsv => "text/jsv; charset=utf-8",
        }
    }

    /// `value` written in this format, as an answer to keep for repeats.
    pub fn stored(self, status: StatusCode, value: &Value) -> StoredResponse {
        let body = match self {
            Format::Json => value.to_string(),
            Format::Jsv => clientele_jsv::write(value),
        };
        StoredResponse {
            status: status.as_u16(),
            headers: vec![(CONTENT_TYPE.to_string(), self.content_type().to_owned())],
            body: body.into_bytes(),
        }
    }

    /// `value` written in this format, with `status`.
    pub fn answer(self, status: StatusCode, value: &Value) -> Response {
        let body = match self {
            Format::Json => value.to_string(),
            Format::Jsv => clientele_jsv::write(value),
        };
        let mut response = (status, body).into_response();
        response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type()));
        response
    }
}

/// The members that hold maps, which a form sends as JSV text.
const MAP_MEMBERS: &[&str] = &["DebtMeta", "CustomersMeta"];

/// Reads a request body, by its `Content-Type`: JSON as it is, JSV and forms by way of the
/// JSON value with the request's members. A member given twice is refused in each.
pub fn read_body<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, Refusal> {
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    let text = || std::str::from_utf8(body).map_err(|_| Refusal::Malformed("the body is not UTF-8 text".to_owned()));
    let value = match essence {
        "application/json" => return decode_json(body),
        "text/jsv" | "application/jsv" => {
            clientele_jsv::parse(text()?).map_err(|e| Refusal::Malformed(format!("the body is not valid JSV: {e}")))?
        }
        "application/x-www-form-urlencoded" => {
            let fields = parse_urlencoded(body)
                .map_err(|why| Refusal::Malformed(format!("the form could not be read: {why}")))?;
            let mut object = serde_json::Map::new();
            for (key, value) in fields {
                let value = if MAP_MEMBERS.contains(&key.as_str()) {
                    clientele_jsv::parse(&value)
                        .map_err(|e| Refusal::Malformed(format!("{key} is not a JSV map: {e}")))?
                } else {
                    Value::String(value)
                };
                if object.contains_key(&key) {
                    return Err(Refusal::Malformed(format!("the form gives {key} more than once")));
                }
                object.insert(key, value);
            }
            Value::Object(object)
        }
        _ => return Err(Refusal::UnsupportedMediaType),
    };
    decode_json(value.to_string().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(text: &str) -> Uri {
        text.parse().unwrap()
    }

    #[test]
    fn the_answer_format_follows_suffix_then_query_then_accept() {
        let mut jsv = HeaderMap::new();
        jsv.insert(ACCEPT, HeaderValue::from_static("text/jsv"));
        assert_eq!(Format::of_answer(&uri("/onceoffpayment.jsv"), &HeaderMap::new()), Format::Jsv);
        assert_eq!(Format::of_answer(&uri("/onceoffpayment.json"), &jsv), Format::Json);
        assert_eq!(Format::of_answer(&uri("/onceoffpayment?format=jsv"), &HeaderMap::new()), Format::Jsv);
        assert_eq!(Format::of_answer(&uri("/onceoffpayment?format=json"), &jsv), Format::Json);
        assert_eq!(Format::of_answer(&uri("/onceoffpayment"), &jsv), Format::Jsv);
        assert_eq!(Format::of_answer(&uri("/onceoffpayment"), &HeaderMap::new()), Format::Json);
    }
}
