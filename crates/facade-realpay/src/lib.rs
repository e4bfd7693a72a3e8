//! RealPay's "Maintain OMNI Users", drop-in, at
//! `/v1/realpay/{merchant_number}/maintain/omni/users`: batch creation of users with their
//! debit-order contracts, batch edits, and lookups, each answered in RealPay's shapes with
//! its `APIResponse` envelope. This crate translates; every rule lives in the core.

mod dto;
mod envelope;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures::StreamExt as _;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use clientele_domain::credential::Role;
use clientele_domain::merchant::MerchantId;
use clientele_domain::user::{Email, Origin, PhoneLookup, Surface, User};
use clientele_domain::{FieldError, ValidationErrors, Violation, lookup_text};
use clientele_http::{AppState, ErrorBody as ErrorSchema, Tag, body_rejection, decode_json, is_json, parse_urlencoded};
use clientele_service::{BatchItem, MerchantRef, NewUser, PageRequest, Refusal, Unique, UserFilter, WriteOptions};

pub use dto::{ContractItem, UserItem};
pub use envelope::{API_VERSION, ApiResponse, CallStatus, ErrorBody, FieldReason, RealPayError};

use dto::{Created, Found, Identifiers, split_user_id};

/// The sequence that numbers the merchant's calls (`CallSequence`).
const CALLS: &str = "realpay.calls";

/// The most items a batch may hold.
pub const MAX_BATCH: usize = 1000;
/// How many edits of a batch run at once.
const CONCURRENT_EDITS: usize = 32;

/// RealPay Maintain OMNI Users, as changes through it are recorded.
pub const SURFACE: Surface = Surface::named("realpay");

/// The RealPay surface.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealPay;

impl clientele_http::Surface for RealPay {
    /// The routes, documented under the `realpay` tag.
    fn router(&self) -> OpenApiRouter<AppState> {
        OpenApiRouter::new()
            .routes(routes!(post_users, put_users, get_users))
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

const POST_NAME: &str = "MaintainOmniUsers.Post";
const PUT_NAME: &str = "MaintainOmniUsers.Put";
const GET_NAME: &str = "MaintainOmniUsers.Get";

fn origin() -> Origin {
    Origin { surface: SURFACE, interaction_point: None }
}

fn today() -> time::Date {
    OffsetDateTime::now_utc().date()
}

/// The query string's parameters, by name.
fn query(uri: &Uri) -> Result<Vec<(String, String)>, RealPayError> {
    parse_urlencoded(uri.query().unwrap_or_default().as_bytes())
        .map_err(|why| RealPayError::new(StatusCode::BAD_REQUEST, format!("the query string could not be read: {why}")))
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

/// A call of an identified merchant, numbered.
struct Call {
    merchant: MerchantId,
    sequence: i64,
    name: &'static str,
}

impl Call {
    /// Authenticates, checks the path's merchant number against the caller's (another
    /// merchant's number is refused exactly like one that does not exist), numbers the call,
    /// then checks the role and the `Version`.
    async fn begin(
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
        let call = Call { merchant, sequence, name };
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

    fn error(&self, error: RealPayError) -> RealPayError {
        error.numbered(self.sequence, self.name)
    }

    fn envelope(&self, status: CallStatus) -> ApiResponse {
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
fn body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, RealPayError> {
    if !is_json(headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok())) {
        return Err(Refusal::UnsupportedMediaType.into());
    }
    let bytes = body.map_err(body_rejection)?;
    Ok(decode_json(&bytes)?)
}

fn batch(items: &[Box<RawValue>]) -> Result<(), RealPayError> {
    if items.is_empty() {
        return Err(RealPayError::new(StatusCode::BAD_REQUEST, "the batch holds no items"));
    }
    if items.len() > MAX_BATCH {
        return Err(RealPayError::new(StatusCode::BAD_REQUEST, format!("a batch holds at most {MAX_BATCH} items")));
    }
    Ok(())
}

/// An item that could not be read: what identifies it, from whatever JSON it holds.
fn raw_identifiers(raw: &RawValue) -> Identifiers {
    let value: serde_json::Value = serde_json::from_str(raw.get()).unwrap_or_default();
    let text = |name: &str| match value.get(name).unwrap_or(&serde_json::Value::Null) {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    Identifiers {
        user_id: text("UserId").or_else(|| Some(format!("{}{}", text("Country")?, text("ID")?))),
        client_id: text("ClientId"),
        name: text("Name"),
        surname: text("Surname"),
        contract_number: value
            .get("Contract")
            .and_then(|c| c.get("ContractNumber"))
            .and_then(|n| n.as_str().map(str::to_owned)),
    }
}

/// An item that was not written, and every reason.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct FailedItem {
    #[serde(flatten)]
    identifiers: Identifiers,
    /// The item's position in the request, from 0.
    index: usize,
    errors: Vec<FieldReason>,
}

fn failed(index: usize, identifiers: Identifiers, errors: ValidationErrors) -> FailedItem {
    FailedItem { identifiers, index, errors: errors.0.into_iter().map(FieldReason::from).collect() }
}

/// Why an item of a batch could not be read: its fields' errors, or what is wrong with the
/// item as a whole.
fn unreadable(error: Refusal) -> ValidationErrors {
    match error {
        Refusal::Invalid(errors) => errors,
        Refusal::Malformed(detail) => {
            FieldError::new("", Violation::Other(detail.replacen("the body", "the item", 1))).into()
        }
        other => FieldError::new("", Violation::Other(RealPayError::from(other).message)).into(),
    }
}

/// The core names fields as the native API does; RealPay's names for those its rules blame.
fn realpay_names(errors: ValidationErrors) -> ValidationErrors {
    let rename = |field: String| match field.as_str() {
        "national_id" => "ID".to_owned(),
        "birth_date" => "DOB".to_owned(),
        "gender" => "Gender".to_owned(),
        "country" => "Country".to_owned(),
        _ => field,
    };
    ValidationErrors(errors.0.into_iter().map(|e| FieldError { field: rename(e.field), ..e }).collect())
}

/// Why a user write of an item failed, as the item's reasons; a failure of the server
/// fails the call.
fn item_reasons(error: Refusal) -> Result<ValidationErrors, RealPayError> {
    let reason = |field: &str, message: String| FieldError::new(field, Violation::Other(message)).into();
    match error {
        Refusal::Invalid(errors) => Ok(realpay_names(errors)),
        Refusal::Conflict(rule) => {
            let field = match rule {
                Unique::CustomerRef => "ClientId",
                Unique::ContractNumber => "Contract.ContractNumber",
                _ => "UserId",
            };
            Ok(reason(field, rule.to_string()))
        }
        Refusal::NotFound => Ok(reason("UserId", "no user has this UserId".to_owned())),
        Refusal::KeyReused | Refusal::KeyInFlight | Refusal::VersionMismatch => Ok(reason("UserId", error.to_string())),
        error => Err(error.into()),
    }
}

fn status_of(succeeded: usize, failed: usize) -> CallStatus {
    match (succeeded, failed) {
        (_, 0) => CallStatus::Success,
        (0, _) => CallStatus::Failed,
        _ => CallStatus::Partial,
    }
}

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
async fn post_users(
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
        state.registry.create_users(call.merchant, users, &origin()).await.map_err(|e| call.error(e.into()))?;
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
    let origin = origin();
    let after = match state.registry.patch_user(merchant, before.id, patch, WriteOptions::from(&origin), None).await {
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
async fn put_users(
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
    let merchant = call.merchant;
    let outcomes: Vec<_> = futures::stream::iter(request.items.into_iter().enumerate())
        .map(|(index, raw)| {
            let state = state.clone();
            async move { edit(&state, merchant, index, &raw).await }
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

/// The answer to a GET.
#[derive(Debug, Serialize, ToSchema)]
pub struct GetResponse {
    #[serde(rename = "UserGetResponse")]
    users: Vec<Found>,
    #[serde(rename = "APIResponse")]
    api_response: ApiResponse,
}

/// Retrieve user records (RealPay) by `UserId`, `Email` (any case) or `Mobile` (with or
/// without the dial code); `Product` is required.
#[utoipa::path(get, path = "/v1/realpay/{merchant_number}/maintain/omni/users", tag = "realpay",
    params(
        ("merchant_number" = String, Path, description = "The caller's merchant number"),
        ("Version" = Option<String>, Query, description = "v1 (the default)", pattern = "^[vV]1$"),
        ("Product" = String, Query, description = "The product asked about (required)"),
        ("UserId" = Option<String>, Query, description = "Country and ID, e.g. ZA123123123123"),
        ("Email" = Option<String>, Query, description = "In any case"),
        ("Mobile" = Option<String>, Query, description = "With or without the dial code"),
    ),
    responses(
        (status = 200, description = "The users found", body = GetResponse),
        (status = 400, description = "No Product, or none of UserId, Email, Mobile", body = ErrorBody),
        (status = 401, description = "Not authenticated: use OAuth2", body = ErrorBody),
        (status = 404, description = "No such user, or no such merchant", body = ErrorBody),
    ))]
async fn get_users(
    State(state): State<AppState>,
    Path(merchant_number): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, RealPayError> {
    let params = query(&uri)?;
    let call = Call::begin(&state, &headers, &merchant_number, &params, GET_NAME, Role::Readonly).await?;
    let mut errors = ValidationErrors::default();
    if param(&params, "Product").is_none_or(|p| p.trim().is_empty()) {
        errors.push(FieldError::new("Product", Violation::Required));
    }
    for (at, (name, _)) in params.iter().enumerate() {
        if !matches!(name.as_str(), "Version" | "Product" | "UserId" | "Email" | "Mobile") {
            errors.push(FieldError::new(name.clone(), Violation::UnknownField));
        } else if params.iter().take(at).any(|(earlier, _)| earlier == name) {
            errors.push(FieldError::new(name.clone(), Violation::Other("is given more than once".into())));
        }
    }
    let email = param(&params, "Email").and_then(|e| errors.take(lookup_text("Email", e)));
    let mobile = param(&params, "Mobile").and_then(|m| errors.take(lookup_text("Mobile", m)));
    let mut filter = UserFilter::default();
    if let Some(user_id) = param(&params, "UserId")
        && let Some((country, id)) = errors.take(split_user_id("UserId", user_id))
    {
        filter.country = Some(country.as_str().to_owned());
        filter.national_id = Some(id.as_str().to_owned());
    }
    if let Some(email) = email {
        filter.email_lookup = Some(Email::from_stored(email).lookup_key());
    }
    if let Some(mobile) = &mobile {
        filter.phone = Some(PhoneLookup::of(mobile, None));
    }
    if filter == UserFilter::default() && errors.is_empty() {
        errors.push(FieldError::new("UserId", Violation::Other("or Email or Mobile is required".into())));
    }
    errors.into_result().map_err(|e| call.error(RealPayError::invalid(e)))?;
    let page = PageRequest { after: None, limit: 100 };
    let users = state.registry.list_users(call.merchant, &filter, page).await.map_err(|e| call.error(e.into()))?;
    if users.is_empty() {
        return Err(call.error(RealPayError::new(StatusCode::NOT_FOUND, "no user matches")));
    }
    let mut found = Vec::with_capacity(users.len());
    for user in &users {
        let shown = state.registry.current_contract(call.merchant, user.id).await.map_err(|e| call.error(e.into()))?;
        found.push(Found::new(user, shown.as_ref()));
    }
    let answer = GetResponse { users: found, api_response: call.envelope(CallStatus::Success) };
    Ok(axum::Json(answer).into_response())
}
