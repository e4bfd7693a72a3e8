//! `PUT`: users edited in a batch, each named by its `UserId`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use futures::StreamExt as _;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;

use clientele_domain::credential::Role;
use clientele_domain::merchant::MerchantId;
use clientele_domain::user::{Origin, User};
use clientele_domain::{FieldError, Violation};
use clientele_http::{AppState, decode_json};
use clientele_service::{PageRequest, Refusal, UserFilter, WriteOptions};

use crate::dto::split_user_id;
use crate::items::{FailedItem, failed, item_reasons, raw_identifiers, status_of, unreadable};
use crate::{
    ApiResponse, CONCURRENT_EDITS, Call, ErrorBody, PUT_NAME, RealPayError, UserItem, batch, body, query, today,
};
/// `{"UserPutRequest": [...]}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutRequest {
    #[serde(rename = "UserPutRequest")]
    #[schema(value_type = Vec<UserItem>)]
    items: Vec<Box<RawValue>>,
}

/// The edited and the refused items of a PUT.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct PutOutcome {
    /// Each edited user's `UserId` and the fields that changed.
    #[schema(value_type = Vec<Object>)]
    successful: Vec<serde_json::Map<String, serde_json::Value>>,
    failed: Vec<FailedItem>,
}

/// The answer to a PUT.
#[derive(Debug, Serialize, ToSchema)]
pub struct PutResponse {
    #[serde(rename = "UserPutResponse")]
    outcome: Vec<PutOutcome>,
    #[serde(rename = "APIResponse")]
    api_response: ApiResponse,
}

/// The user a `UserId` names.
async fn find(state: &AppState, merchant: MerchantId, user_id: &str) -> Result<User, Refusal> {
    let (country, id) = split_user_id("UserId", user_id)?;
    let filter = UserFilter {
        national_id: Some(id.as_str().to_owned()),
        country: Some(country.as_str().to_owned()),
        ..UserFilter::default()
    };
    let mut found = state.registry.list_users(merchant, &filter, PageRequest { after: None, limit: 1 }).await?;
    found.pop().ok_or(Refusal::NotFound)
}

async fn edit(
    state: &AppState,
    merchant: MerchantId,
    origin: &Origin,
    index: usize,
    raw: &RawValue,
) -> Result<Result<serde_json::Map<String, serde_json::Value>, FailedItem>, RealPayError> {
    let item = match decode_json::<UserItem>(raw.get().as_bytes()) {
        Ok(item) => item,
        Err(error) => return Ok(Err(failed(index, raw_identifiers(raw), unreadable(error)))),
    };
    let user_id = item.user_id.as_ref().map(|u| u.as_str().trim().to_owned());
    let before = match user_id.as_deref() {
        Some(user_id) => find(state, merchant, user_id).await,
        None => Err(FieldError::new("UserId", Violation::Required).into()),
    };
    let before = match before {
        Ok(user) => user,
        Err(error) => return Ok(Err(failed(index, item.identifiers(), item_reasons(error)?))),
    };
    let patch = match item.to_patch(today(), &before) {
        Ok(patch) => patch,
        Err(errors) => return Ok(Err(failed(index, item.identifiers(), errors))),
    };
    let user_id = user_id.unwrap_or_default();
    let after = match state.registry.patch_user(merchant, before.id, patch, WriteOptions::from(origin), None).await {
        Ok(written) => written.value().unwrap_or_else(|| before.clone()),
        Err(error) => return Ok(Err(failed(index, item.identifiers(), item_reasons(error)?))),
    };
    let mut echo = serde_json::Map::new();
    echo.insert("UserId".to_owned(), serde_json::Value::String(user_id));
    echo.extend(item.changed(&before, &after));
    Ok(Ok(echo))
}

/// Edit user records (RealPay): each item names a user by `UserId` and changes only the
/// fields it gives; the answer echoes each `UserId` with the fields that changed.
#[utoipa::path(put, path = "/v1/realpay/{merchant_number}/maintain/omni/users", tag = "realpay",
    request_body = PutRequest,
    params(
        ("merchant_number" = String, Path, description = "The caller's merchant number"),
        ("Version" = Option<String>, Query, description = "v1 (the default)", pattern = "^[vV]1$"),
    ),
    responses(
        (status = 200, description = "Processed: Status SUCCESS, PARTIAL or FAILED", body = PutResponse),
        (status = 400, description = "Malformed request, more than 1000 items, or another Version", body = ErrorBody),
        (status = 401, description = "Not authenticated: use OAuth2", body = ErrorBody),
        (status = 404, description = "No such merchant", body = ErrorBody),
    ))]
pub(crate) async fn put_users(
    State(state): State<AppState>,
    Path(merchant_number): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, RealPayError> {
    let params = query(&uri)?;
    let call = Call::begin(&state, &headers, &merchant_number, &params, PUT_NAME, Role::Client).await?;
    let request: PutRequest = body(&headers, bytes).map_err(|e| call.error(e))?;
    batch(&request.items).map_err(|e| call.error(e))?;
    let (merchant, origin) = (call.merchant, &call.origin);
    let outcomes: Vec<_> = futures::stream::iter(request.items.into_iter().enumerate())
        .map(|(index, raw)| {
            let state = state.clone();
            async move { edit(&state, merchant, origin, index, &raw).await }
        })
        .buffered(CONCURRENT_EDITS)
        .collect()
        .await;
    let (mut successful, mut refused) = (Vec::new(), Vec::new());
    for outcome in outcomes {
        match outcome.map_err(|e| call.error(e))? {
            Ok(echo) => successful.push(echo),
            Err(item) => refused.push(item),
        }
    }
    let status = status_of(successful.len(), refused.len());
    let answer =
        PutResponse { outcome: vec![PutOutcome { successful, failed: refused }], api_response: call.envelope(status) };
    Ok(axum::Json(answer).into_response())
}
