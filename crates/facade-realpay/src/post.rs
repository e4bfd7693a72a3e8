//! `POST`: users created in a batch, each with its optional contract, each standing alone.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;

use clientele_domain::credential::Role;
use clientele_http::{AppState, decode_json};
use clientele_service::{BatchItem, NewUser};

use crate::answers::Created;
use crate::dto::Identifiers;
use crate::items::{FailedItem, failed, item_reasons, raw_identifiers, status_of, unreadable};
use crate::{ApiResponse, Call, ErrorBody, POST_NAME, RealPayError, UserItem, batch, body, query, today};

/// `{"UserPostRequest": [...]}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostRequest {
    #[serde(rename = "UserPostRequest")]
    #[schema(value_type = Vec<UserItem>)]
    items: Vec<Box<RawValue>>,
}

/// The written and the refused items of a POST.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct PostOutcome {
    successful: Vec<Created>,
    failed: Vec<FailedItem>,
}

/// The answer to a POST.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostResponse {
    #[serde(rename = "UserPostResponse")]
    outcome: Vec<PostOutcome>,
    #[serde(rename = "APIResponse")]
    api_response: ApiResponse,
}

/// Create user records (RealPay), each with an optional debit-order contract. Each item
/// stands alone: a good one is written whole (user and contract), a bad or duplicate one
/// writes nothing and is listed in `Failed` with every reason.
#[utoipa::path(post, path = "/v1/realpay/{merchant_number}/maintain/omni/users", tag = "realpay",
    request_body = PostRequest,
    params(
        ("merchant_number" = String, Path, description = "The caller's merchant number"),
        ("Version" = Option<String>, Query, description = "v1 (the default)", pattern = "^[vV]1$"),
    ),
    responses(
        (status = 200, description = "Processed: Status SUCCESS, PARTIAL or FAILED", body = PostResponse),
        (status = 400, description = "Malformed request, more than 1000 items, or another Version", body = ErrorBody),
        (status = 401, description = "Not authenticated: use OAuth2", body = ErrorBody),
        (status = 404, description = "No such merchant", body = ErrorBody),
    ))]
pub(crate) async fn post_users(
    State(state): State<AppState>,
    Path(merchant_number): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, RealPayError> {
    let params = query(&uri)?;
    let call = Call::begin(&state, &headers, &merchant_number, &params, POST_NAME, Role::Client).await?;
    let request: PostRequest = body(&headers, bytes).map_err(|e| call.error(e))?;
    batch(&request.items).map_err(|e| call.error(e))?;

    let mut refused = Vec::new();
    let mut accepted = Vec::new();
    for (index, raw) in request.items.iter().enumerate() {
        let item = match decode_json::<UserItem>(raw.get().as_bytes()) {
            Ok(item) => item,
            Err(error) => {
                refused.push(failed(index, raw_identifiers(raw), unreadable(error)));
                continue;
            }
        };
        match item.to_new(today()) {
            Ok(user) => accepted.push((index, item.identifiers(), user)),
            Err(errors) => refused.push(failed(index, item.identifiers(), errors)),
        }
    }
    let (meta, users): (Vec<(usize, Identifiers)>, Vec<NewUser>) =
        accepted.into_iter().map(|(index, ids, user)| ((index, ids), user)).unzip();
    let results =
        state.registry.create_users(call.merchant, users, &call.origin).await.map_err(|e| call.error(e.into()))?;
    let mut successful = Vec::new();
    for ((index, identifiers), result) in meta.into_iter().zip(results) {
        match result {
            BatchItem::Created(created) => successful.push(Created::new(&created.user, created.contract.as_ref())),
            BatchItem::Refused(error) => {
                refused.push(failed(index, identifiers, item_reasons(error).map_err(|e| call.error(e))?));
            }
        }
    }
    refused.sort_by_key(|f| f.index);
    let status = status_of(successful.len(), refused.len());
    let answer = PostResponse {
        outcome: vec![PostOutcome { successful, failed: refused }],
        api_response: call.envelope(status),
    };
    Ok(axum::Json(answer).into_response())
}
