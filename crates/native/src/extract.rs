//! The native API's extractors: a strict JSON body and a strict query string, refused as
//! problem documents.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

pub(crate) use clientele_http::{body_rejection, decode_json, is_json};
use clientele_service::Refusal;

use crate::ApiError;

/// A JSON request body, with its bytes (which fingerprint idempotent requests).
pub(crate) type JsonBody<T> = clientele_http::JsonBody<T, ApiError>;

/// A JSON request body (see [`clientele_http::JsonBody`]).
#[derive(Debug, Clone)]
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        JsonBody::<T>::from_request(request, state).await.map(|body| Json(body.value))
    }
}

/// A query string, parsed strictly: the DTO decides what is accepted, and a refused
/// parameter is named.
#[derive(Debug, Clone)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        readable(query)?;
        strict(query).map(Query)
    }
}

/// Refuses a query string that is not one.
fn readable(query: &str) -> Result<(), ApiError> {
    clientele_http::parse_urlencoded(query.as_bytes())
        .map_err(|why| Refusal::Malformed(format!("the query string could not be read: {why}")).into())
        .map(drop)
}

/// The query string as `T`, each refused parameter named.
fn strict<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        ApiError::from(clientele_http::field_message(&path, &error.into_inner().to_string()))
    })
}

/// A parameter that names a key of a map, `name[key]=value` (`metadata[Branch]=CPT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Keyed {
    pub name: String,
    pub key: String,
    pub value: String,
}

/// A query string parsed as [`Query`] is, but for its [`Keyed`] parameters, which are
/// set apart for the handler to take or refuse.
#[derive(Debug, Clone)]
pub(crate) struct KeyedQuery<T> {
    pub value: T,
    pub keyed: Vec<Keyed>,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for KeyedQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        readable(query)?;
        let mut keyed = Vec::new();
        let mut rest = form_urlencoded::Serializer::new(String::new());
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let parts = name.strip_suffix(']').and_then(|name| name.split_once('['));
            match parts {
                Some((name, key)) => {
                    keyed.push(Keyed { name: name.to_owned(), key: key.to_owned(), value: value.into_owned() })
                }
                None => {
                    rest.append_pair(&name, &value);
                }
            }
        }
        Ok(KeyedQuery { value: strict(&rest.finish())?, keyed })
    }
}
