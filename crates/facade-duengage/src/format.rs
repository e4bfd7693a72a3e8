//! ServiceStack's content negotiation: bodies in JSON, JSV or a form by `Content-Type`;
//! answers in JSON or JSV by the predefined route or the path suffix, `?format=`, or
//! `Accept`, with member names in the case `?jsconfig=` asks for.

use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;

use clientele_http::{decode_json, parse_urlencoded};
use clientele_service::{Refusal, StoredResponse};

use crate::case::{Members, TextCase, fold};

/// A wire format of ServiceStack's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Jsv,
}

impl Format {
    /// The answer's format: the predefined route's (`/jsv/reply/...`), the `.json`/`.jsv`
    /// suffix, then `?format=`, then `Accept`; JSON when nothing asks for JSV.
    pub fn of_answer(uri: &Uri, headers: &HeaderMap) -> Format {
        let path = uri.path();
        if path.starts_with("/jsv/") {
            return Format::Jsv;
        }
        if path.starts_with("/json/") {
            return Format::Json;
        }
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

/// How an answer is written: its format, and the case of its member names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub format: Format,
    pub case: TextCase,
}

impl From<Format> for Answer {
    fn from(format: Format) -> Answer {
        Answer { format, case: TextCase::Pascal }
    }
}

impl Answer {
    /// What the request asks for: see [`Format::of_answer`] and [`TextCase::of`].
    pub fn of(uri: &Uri, headers: &HeaderMap) -> Answer {
        Answer { format: Format::of_answer(uri, headers), case: TextCase::of(uri) }
    }

    /// `value` (PascalCase) written as asked, as an answer to keep for repeats.
    pub fn stored(self, status: StatusCode, value: &Value) -> StoredResponse {
        self.format.stored(status, &self.case.apply(value))
    }

    /// `value` (PascalCase) written as asked, with `status`.
    pub fn answer(self, status: StatusCode, value: &Value) -> Response {
        self.format.answer(status, &self.case.apply(value))
    }
}

/// The members that hold maps, which a form sends as JSV text.
const MAP_MEMBERS: &[&str] = &["DebtMeta", "CustomersMeta"];

/// Reads a request body, by its `Content-Type`: JSON, JSV and forms by way of the JSON
/// object of the request's members, named as in `known` without regard to case. A member
/// given twice (after folding its case) is refused in each.
pub fn read_body<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8], known: &[&str]) -> Result<T, Refusal> {
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    let text = || std::str::from_utf8(body).map_err(|_| Refusal::Malformed("the body is not UTF-8 text".to_owned()));
    let members = match essence {
        "application/json" => decode_json::<Members>(body)?.0,
        "text/jsv" | "application/jsv" => {
            match clientele_jsv::parse(text()?)
                .map_err(|e| Refusal::Malformed(format!("the body is not valid JSV: {e}")))?
            {
                Value::Object(object) => object.into_iter().collect(),
                // Not an object: refused below as the request's shape.
                other => return decode_json(other.to_string().as_bytes()),
            }
        }
        "application/x-www-form-urlencoded" => {
            let fields = parse_urlencoded(body)
                .map_err(|why| Refusal::Malformed(format!("the form could not be read: {why}")))?;
            let mut members = Vec::with_capacity(fields.len());
            for (key, value) in fields {
                let value = if MAP_MEMBERS.iter().any(|member| member.eq_ignore_ascii_case(&key)) {
                    clientele_jsv::parse(&value)
                        .map_err(|e| Refusal::Malformed(format!("{key} is not a JSV map: {e}")))?
                } else {
                    Value::String(value)
                };
                members.push((key, value));
            }
            members
        }
        _ => return Err(Refusal::UnsupportedMediaType),
    };
    let object = fold(known, members).map_err(Refusal::Invalid)?;
    decode_json(Value::Object(object).to_string().as_bytes())
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
