//! RealPay's "Maintain OMNI Users", drop-in, at
//! `/v1/realpay/{merchant_number}/maintain/omni/users`: batch creation of users with their
//! debit-order contracts, batch edits, and lookups, each answered in RealPay's shapes with
//! its `APIResponse` envelope. This crate translates; every rule lives in the core.

mod answers;
mod dto;
mod envelope;
mod get;
mod items;
mod post;
mod put;
#[cfg(test)]
mod tests;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::value::RawValue;
use time::OffsetDateTime;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use clientele_domain::credential::Role;
use clientele_domain::merchant::MerchantId;
use clientele_domain::user::{Origin, Surface};
use clientele_domain::{FieldError, Violation};
use clientele_http::{AppState, ErrorBody as ErrorSchema, Tag, body_rejection, decode_json, is_json, parse_urlencoded};
use clientele_service::{MerchantRef, Refusal};

pub use dto::{ContractItem, UserItem};
pub use envelope::{API_VERSION, ApiResponse, CallStatus, ErrorBody, FieldReason, RealPayError};
pub use get::GetResponse;
pub use items::FailedItem;
pub use post::{PostOutcome, PostRequest, PostResponse};
pub use put::{PutOutcome, PutRequest, PutResponse};

/// The sequence that numbers the merchant's calls (`CallSequence`).
const CALLS: &str = "realpay.calls";

/// The most items a batch may hold.
pub const MAX_BATCH: usize = 1000;
/// How many edits of a batch run at once.
pub(crate) const CONCURRENT_EDITS: usize = 32;

/// RealPay Maintain OMNI Users, as changes through it are recorded.
pub const SURFACE: Surface = Surface::named("realpay");

/// The RealPay surface.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealPay;

impl clientele_http::Surface for RealPay {
    /// The routes, documented under the `realpay` tag.
    fn router(&self) -> OpenApiRouter<AppState> {
        OpenApiRouter::new()
            .routes(routes!(post::post_users, put::put_users, get::get_users))
            .route_layer(axum::middleware::from_fn(clientele_http::guard::<RealPayError>))
    }

    fn tags(&self) -> Vec<Tag> {
        vec![Tag {
            name: "realpay",
            description: "RealPay Maintain OMNI Users, drop-in: batches of up to 1000 users with contracts, per-item \
Successful/Failed, the APIResponse envelope with a per-merchant CallSequence",
            errors: Some(ErrorSchema { content_type: "application/json", schema: "ErrorBody" }),
            rate_limited: true,
        }]
    }

    fn render(&self, refusal: Refusal) -> Response {
        RealPayError::from(refusal).into_response()
    }
}

pub(crate) const POST_NAME: &str = "MaintainOmniUsers.Post";
pub(crate) const PUT_NAME: &str = "MaintainOmniUsers.Put";
pub(crate) const GET_NAME: &str = "MaintainOmniUsers.Get";

pub(crate) fn today() -> time::Date {
    OffsetDateTime::now_utc().date()
}

/// The query string's parameters, by name.
pub(crate) fn query(uri: &Uri) -> Result<Vec<(String, String)>, RealPayError> {
    parse_urlencoded(uri.query().unwrap_or_default().as_bytes())
        .map_err(|why| RealPayError::new(StatusCode::BAD_REQUEST, format!("the query string could not be read: {why}")))
}

pub(crate) fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

/// A call of an identified merchant, numbered.
pub(crate) struct Call {
    pub(crate) merchant: MerchantId,
    /// What the call's changes record as their origin.
    pub(crate) origin: Origin,
    sequence: i64,
    name: &'static str,
}

impl Call {
    /// Authenticates, checks the path's merchant number against the caller's (another
    /// merchant's number is refused exactly like one that does not exist), numbers the call,
    /// then checks the role and the `Version`.
    pub(crate) async fn begin(
        state: &AppState,
        headers: &HeaderMap,
        merchant_number: &str,
        params: &[(String, String)],
        name: &'static str,
        needed: Role,
    ) -> Result<Call, RealPayError> {
        let fail = |error: RealPayError| error.numbered(0, name);
        let principal = clientele_http::authenticate(state, headers).await.map_err(|e| fail(e.into()))?;
        let named = MerchantRef::Number(merchant_number);
        let merchant = state.registry.named_merchant(&principal, named).await.map_err(|e| fail(e.into()))?;
        let sequence = state.registry.next_number(merchant, CALLS).await.map_err(|e| fail(e.into()))?;
        let call = Call { merchant, origin: principal.origin(SURFACE), sequence, name };
        principal.merchant(needed).map_err(|e| call.error(e.into()))?;
        match param(params, "Version") {
            None => {}
            Some(version) if version.eq_ignore_ascii_case("v1") => {}
            Some(_) => {
                let refused = FieldError::new("Version", Violation::NotOneOf { allowed: &["v1"] });
                return Err(call.error(refused.into()));
            }
        }
        Ok(call)
    }

    pub(crate) fn error(&self, error: RealPayError) -> RealPayError {
        error.numbered(self.sequence, self.name)
    }

    pub(crate) fn envelope(&self, status: CallStatus) -> ApiResponse {
        ApiResponse {
            call_sequence: self.sequence,
            status,
            version: API_VERSION,
            name: self.name,
            message: None,
            errors: Vec::new(),
        }
    }
}

/// The request's JSON body.
pub(crate) fn body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, RealPayError> {
    if !is_json(headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok())) {
        return Err(Refusal::UnsupportedMediaType.into());
    }
    let bytes = body.map_err(body_rejection)?;
    Ok(decode_json(&bytes)?)
}

pub(crate) fn batch(items: &[Box<RawValue>]) -> Result<(), RealPayError> {
    if items.is_empty() {
        return Err(RealPayError::new(StatusCode::BAD_REQUEST, "the batch holds no items"));
    }
    if items.len() > MAX_BATCH {
        return Err(RealPayError::new(StatusCode::BAD_REQUEST, format!("a batch holds at most {MAX_BATCH} items")));
    }
    Ok(())
}
