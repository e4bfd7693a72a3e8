//! `/v1/users`: the registry's users through the native API.

mod dto;
mod view;

use axum::extract::{Path, State};
use axum::http::header::{CONTENT_TYPE, ETAG, LOCATION};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use clientele_domain::credential::Role;
use clientele_domain::merchant::MerchantId;
use clientele_domain::property::CustomPropertyValue;
use clientele_domain::user::{Change, CountryCode, Email, PhoneLookup, Surface, User, UserId};
use clientele_domain::{FieldError, ValidationErrors, Violation, lookup_text};
use clientele_service::{
    CreatedUser, IdempotencyRequest, Idempotent, NewUser, PageRequest, StoredResponse, UserFilter, WriteOptions,
};

pub(crate) use self::dto::UserBody;
use self::dto::UserPatchBody;
use self::view::UserView;
use super::Page;
use crate::error::Problem;
use crate::extract::{JsonBody, Query};
use crate::idempotency::{idempotency_request, respond};
use crate::{ApiError, AppState, Caller};
use clientele_service::Refusal;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user, list_users))
        .routes(routes!(get_user, replace_user, patch_user, delete_user))
        .routes(routes!(user_changes))
}

const DEFAULT_PAGE: u32 = 20;
const MAX_PAGE: u32 = 100;

/// A user's id from the path; an id that cannot exist is simply not found.
fn user_id(id: &str) -> Result<UserId, ApiError> {
    id.parse().map_err(|_| ApiError::Refused(Refusal::NotFound))
}

/// A user as a stored answer: JSON, with its `ETag` (and `Location` when created).
fn render(status: StatusCode, user: &User) -> StoredResponse {
    let mut headers =
        vec![(CONTENT_TYPE.to_string(), "application/json".to_owned()), (ETAG.to_string(), crate::etag(user.version))];
    if status == StatusCode::CREATED {
        headers.push((LOCATION.to_string(), format!("/v1/users/{}", user.id)));
    }
    StoredResponse {
        status: status.as_u16(),
        headers,
        body: serde_json::to_vec(&UserView::from(user)).unwrap_or_default(),
    }
}

/// A user read, as its answer: the same as [`render`] gives, built without the detour
/// through a stored answer's text headers.
fn answer(user: &User) -> Result<Response, ApiError> {
    // Sized for a whole user at once: growing from serde_json's default of 128 bytes copies
    // the answer three times over.
    let mut body = Vec::with_capacity(1024);
    serde_json::to_writer(&mut body, &UserView::from(user)).map_err(|e| Refusal::internal(e.to_string()))?;
    let mut response = ([(CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response();
    if let Ok(tag) = HeaderValue::try_from(crate::etag(user.version)) {
        response.headers_mut().insert(ETAG, tag);
    }
    Ok(response)
}

fn idempotency(
    headers: &HeaderMap,
    method: &Method,
    uri: &Uri,
    body: &[u8],
) -> Result<Option<IdempotencyRequest>, ApiError> {
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    Ok(idempotency_request(headers, method, path, body)?)
}

/// Resolves custom property values, adding their errors to the others of the body.
async fn properties(
    state: &AppState,
    merchant: MerchantId,
    inputs: &[clientele_domain::property::CustomPropertyInput],
    errors: &mut ValidationErrors,
) -> Result<Vec<CustomPropertyValue>, ApiError> {
    Ok(state.registry.resolve_properties_into(merchant, "custom_properties", inputs, errors).await?)
}

fn today() -> time::Date {
    OffsetDateTime::now_utc().date()
}

/// Create a user.
#[utoipa::path(post, path = "/v1/users", tag = "users",
    request_body = UserBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeats of the request with the same key get the first answer")),
    responses(
        (status = 201, description = "Created", body = UserView,
            headers(("Location" = String, description = "The user's URL"), ("ETag" = String, description = "The user's version"))),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A read-only key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "A repeat of an idempotent request whose user was erased since", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The customer_ref or national_id is taken, or the same idempotent request is in flight", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The Idempotency-Key was used for another request", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_user(
    State(state): State<AppState>,
    Caller(caller): Caller,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: JsonBody<UserBody>,
) -> Result<Response, ApiError> {
    let merchant = caller.merchant(Role::Client)?;
    let idempotency = idempotency(&headers, &method, &uri, &body.raw)?;
    let (mut fields, inputs, mut errors) = body.value.parse(today());
    fields.custom_properties = properties(&state, merchant, &inputs, &mut errors).await?;
    errors.into_result()?;
    let origin = caller.origin(Surface::NATIVE);
    let created = |c: &CreatedUser| render(StatusCode::CREATED, &c.user);
    let idempotent = idempotency.as_ref().map(|request| Idempotent { request, answer: &created });
    let new = NewUser { fields, contract: None };
    let written = state.registry.create_user(merchant, new, WriteOptions::from(&origin), idempotent).await?;
    Ok(respond(written.answer(created)))
}

/// Read a user.
#[utoipa::path(get, path = "/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user", body = UserView, headers(("ETag" = String, description = "The user's version"))),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user (or erased)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_user(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let merchant = caller.merchant(Role::Readonly)?;
    let user = state.registry.user(merchant, user_id(&id)?).await?;
    answer(&user)
}

/// Replace a user: every writable field is set from the body; fields not sent are cleared.
#[utoipa::path(put, path = "/v1/users/{id}", tag = "users",
    request_body = UserBody,
    params(
        ("id" = String, Path, description = "The user's id"),
        ("If-Match" = Option<String>, Header, description = "Only if the user is still at this ETag"),
    ),
    responses(
        (status = 200, description = "Replaced", body = UserView, headers(("ETag" = String, description = "The new version"))),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The customer_ref or national_id is taken", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The user is not at the If-Match version", body = Problem, content_type = "application/problem+json"),
    ))]
async fn replace_user(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: JsonBody<UserBody>,
) -> Result<Response, ApiError> {
    let merchant = caller.merchant(Role::Client)?;
    let id = user_id(&id)?;
    let version = crate::if_match(&headers)?;
    let idempotency = idempotency(&headers, &method, &uri, &body.raw)?;
    let (mut fields, inputs, mut errors) = body.value.parse(today());
    fields.custom_properties = properties(&state, merchant, &inputs, &mut errors).await?;
    errors.into_result()?;
    let origin = caller.origin(Surface::NATIVE);
    let options = WriteOptions { origin: &origin, if_version: version };
    let replaced = |user: &User| render(StatusCode::OK, user);
    let idempotent = idempotency.as_ref().map(|request| Idempotent { request, answer: &replaced });
    let written = state.registry.replace_user(merchant, id, fields, options, idempotent).await?;
    Ok(respond(written.answer(replaced)))
}

/// Merge-patch a user (RFC 7396, `application/merge-patch+json`).
#[utoipa::path(patch, path = "/v1/users/{id}", tag = "users",
    request_body(content = UserPatchBody, content_type = "application/merge-patch+json"),
    params(
        ("id" = String, Path, description = "The user's id"),
        ("If-Match" = Option<String>, Header, description = "Only if the user is still at this ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "Repeats of the request with the same key get the first answer"),
    ),
    responses(
        (status = 200, description = "Patched", body = UserView, headers(("ETag" = String, description = "The new version"))),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The customer_ref or national_id is taken", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The user is not at the If-Match version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The Idempotency-Key was used for another request", body = Problem, content_type = "application/problem+json"),
    ))]
async fn patch_user(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: JsonBody<UserPatchBody>,
) -> Result<Response, ApiError> {
    let merchant = caller.merchant(Role::Client)?;
    let id = user_id(&id)?;
    let version = crate::if_match(&headers)?;
    let idempotency = idempotency(&headers, &method, &uri, &body.raw)?;
    let (mut patch, inputs, mut errors) = body.value.parse(today());
    if let Some(inputs) = inputs {
        patch.custom_properties = Change::Set(properties(&state, merchant, &inputs, &mut errors).await?);
    }
    errors.into_result()?;
    let origin = caller.origin(Surface::NATIVE);
    let options = WriteOptions { origin: &origin, if_version: version };
    let patched = |user: &User| render(StatusCode::OK, user);
    let idempotent = idempotency.as_ref().map(|request| Idempotent { request, answer: &patched });
    let written = state.registry.patch_user(merchant, id, patch, options, idempotent).await?;
    Ok(respond(written.answer(patched)))
}

/// Erase a user: personal data, custom values and points are gone, its customer_ref and
/// national_id are free again, and it is not found any more. Its financial records stay.
#[utoipa::path(delete, path = "/v1/users/{id}", tag = "users",
    params(
        ("id" = String, Path, description = "The user's id"),
        ("If-Match" = Option<String>, Header, description = "Only if the user is still at this ETag"),
    ),
    responses(
        (status = 204, description = "Erased"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The user is not at the If-Match version", body = Problem, content_type = "application/problem+json"),
    ))]
async fn delete_user(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let merchant = caller.merchant(Role::Client)?;
    let id = user_id(&id)?;
    state.registry.erase_user(merchant, id, crate::if_match(&headers)?, &caller.origin(Surface::NATIVE)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Filters and paging of the user list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Users with this e-mail address, in any case.
    email: Option<String>,
    /// Users with this phone number, as given or in E.164.
    phone: Option<String>,
    customer_ref: Option<String>,
    /// Users with this national id (narrowed by `country` when given).
    national_id: Option<String>,
    /// ISO 3166-1 alpha-2; also the region for reading a national-format `phone`.
    country: Option<String>,
    /// RFC 3339: users created at or after.
    created_after: Option<String>,
    /// RFC 3339: users created before.
    created_before: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

impl ListQuery {
    fn parse(self) -> Result<(UserFilter, PageRequest), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let time = |errors: &mut ValidationErrors, name: &str, value: Option<String>| {
            value.and_then(|v| {
                errors.take(OffsetDateTime::parse(&v, &Rfc3339).map_err(|_| {
                    FieldError::new(name, Violation::Format { expected: "an RFC 3339 time (2026-01-31T12:00:00Z)" })
                }))
            })
        };
        let country = self.country.and_then(|c| errors.take(CountryCode::parse("country", &c)));
        let mut lookup = |name: &str, value: Option<String>| value.and_then(|v| errors.take(lookup_text(name, &v)));
        let (email, phone) = (lookup("email", self.email), lookup("phone", self.phone));
        let (customer_ref, national_id) =
            (lookup("customer_ref", self.customer_ref), lookup("national_id", self.national_id));
        let filter = UserFilter {
            email_lookup: email.map(|e| Email::from_stored(e).lookup_key()),
            phone: phone.map(|p| PhoneLookup::of(&p, country)),
            customer_ref,
            national_id,
            country: country.map(|c| c.as_str().to_owned()),
            created_after: time(&mut errors, "created_after", self.created_after),
            created_before: time(&mut errors, "created_before", self.created_before),
        };
        let limit = self.limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            errors.push(FieldError::new("limit", Violation::Other(format!("must be from 1 to {MAX_PAGE}"))));
        }
        let after = self.cursor.and_then(|cursor| errors.take(decode_cursor(&cursor)));
        errors.into_result()?;
        Ok((filter, PageRequest { after, limit }))
    }
}

fn encode_cursor(id: UserId) -> String {
    URL_SAFE_NO_PAD.encode(id.as_uuid().as_bytes())
}

fn decode_cursor(cursor: &str) -> Result<UserId, FieldError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| uuid::Uuid::from_slice(&bytes).ok())
        .map(UserId::from_uuid)
        .ok_or_else(|| FieldError::new("cursor", Violation::Format { expected: "a next_cursor from a previous page" }))
}

/// List users, oldest first, a page at a time.
#[utoipa::path(get, path = "/v1/users", tag = "users",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of users; `next_cursor` is null on the last", body = Page<UserView>),
        (status = 400, description = "Invalid filters, each named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_users(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let merchant = caller.merchant(Role::Readonly)?;
    let (filter, page) = query.parse()?;
    let mut users = state.registry.list_users(merchant, &filter, PageRequest { limit: page.limit + 1, ..page }).await?;
    let more = users.len() > page.limit as usize;
    users.truncate(page.limit as usize);
    let next_cursor = if more { users.last().map(|u| encode_cursor(u.id)) } else { None };
    Ok(axum::Json(Page::new(users.iter().map(UserView::from).collect(), next_cursor)).into_response())
}

/// One recorded change of a user.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ChangeView {
    /// The version the change produced.
    version: i64,
    /// `created`, `updated` or `erased`.
    change: &'static str,
    /// The surface it came through: `native`, `convercus`, `realpay`, `gateway`, `duengage`.
    surface: String,
    /// The interaction point the request named, if any.
    interaction_point: Option<String>,
    at: String,
}

/// The history of a user: every change, with the surface and interaction point it came from.
#[utoipa::path(get, path = "/v1/users/{id}/changes", tag = "users",
    params(("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "Every change, oldest first", body = Page<ChangeView>),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user (or erased)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn user_changes(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Page<ChangeView>>, ApiError> {
    let merchant = caller.merchant(Role::Readonly)?;
    let changes = state.registry.user_changes(merchant, user_id(&id)?).await?;
    let views = changes
        .into_iter()
        .map(|c| ChangeView {
            version: c.version,
            change: c.kind.as_str(),
            surface: c.origin.surface.as_str().to_owned(),
            interaction_point: c.origin.interaction_point.map(|p| p.as_str().to_owned()),
            at: super::rfc3339(c.at),
        })
        .collect();
    Ok(axum::Json(Page::whole(views)))
}
