//! The Convercus Users API, drop-in: a client written against the Convercus document works
//! against Clientele by changing only its base URL. This crate translates the vendor's
//! shapes, headers and errors; every rule lives in the core.
//!
//! - `POST /auth/login` with `{"org", "userName", "password"}`: `org` is the merchant number,
//!   `userName` the id of one of its API keys and `password` that key's secret. The answer
//!   carries a JWT valid for 24 hours, as the vendor's are.
//! - `POST /users`, `GET /users/{userId}` (also with a trailing slash), `PUT`, `PATCH` and
//!   `DELETE /users/{userId}`, each with `Authorization` (the token raw or with `Bearer `)
//!   and an `interaction-id` naming a registered, active interaction point, which is
//!   recorded with each change.

mod caller;
mod dto;
mod error;
mod login;
#[cfg(test)]
mod tests;

use axum::extract::{Path, State};
use axum::http::header::{CONTENT_TYPE, ETAG, HOST, LOCATION};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use clientele_domain::ValidationErrors;
use clientele_domain::credential::Role;
use clientele_domain::merchant::MerchantId;
use clientele_domain::user::{Change, Origin, Surface, User, UserFields, UserId};
use clientele_http::{AppState, ErrorBody, JsonBody, Tag, idempotency_request, respond};
use clientele_service::{CreatedUser, IdempotencyRequest, Idempotent, NewUser, Refusal, StoredResponse, WriteOptions};

pub use caller::{ConvercusCaller, INTERACTION_ID};
pub use dto::{ConvercusUser, ConvercusUserInput, ConvercusUserPatch};
pub use error::{ConvercusError, ConvercusErrorBody};

/// The Convercus Users API, as changes through it are recorded.
pub const SURFACE: Surface = Surface::named("convercus");

/// The Convercus surface.
#[derive(Debug, Clone, Copy, Default)]
pub struct Convercus;

impl clientele_http::Surface for Convercus {
    /// The routes, documented in the OpenAPI document under the `convercus` tag.
    fn router(&self) -> OpenApiRouter<AppState> {
        OpenApiRouter::new()
            .routes(routes!(login::login))
            .routes(routes!(create_user))
            .routes(routes!(get_user, replace_user, patch_user, delete_user))
            .routes(routes!(get_user_slash))
            .route_layer(axum::middleware::from_fn(clientele_http::guard::<ConvercusError>))
    }

    fn tags(&self) -> Vec<Tag> {
        vec![Tag {
            name: "convercus",
            description: "The Convercus Users API, drop-in: camelCase bodies, `interaction-id` on every call, \
errors as `{timestamp, status, error, message, errors}`",
            errors: Some(ErrorBody { content_type: "application/json", schema: "ConvercusErrorBody" }),
            rate_limited: true,
        }]
    }

    fn render(&self, refusal: Refusal) -> Response {
        ConvercusError::from(refusal).into_response()
    }
}

fn user_id(id: &str) -> Result<UserId, ConvercusError> {
    id.parse().map_err(|_| ConvercusError::not_found())
}

fn origin(caller: &ConvercusCaller) -> Origin {
    caller.principal.origin(SURFACE).at(caller.interaction_point.clone())
}

/// The API's base URL as the client reached it, for `Location`.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get(HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|p| p.to_str().ok())
        .filter(|p| matches!(*p, "http" | "https"))
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

/// A user as a stored answer in the Convercus shape.
fn render(status: StatusCode, user: &User, base: Option<&str>) -> StoredResponse {
    let mut headers = vec![
        (CONTENT_TYPE.to_string(), "application/json".to_owned()),
        (ETAG.to_string(), clientele_http::etag(user.version)),
    ];
    if let Some(base) = base {
        headers.push((LOCATION.to_string(), format!("{base}/users/{}", user.id)));
    }
    let body = serde_json::to_vec(&ConvercusUser::from(user)).unwrap_or_default();
    StoredResponse { status: status.as_u16(), headers, body }
}

fn idempotency(
    headers: &HeaderMap,
    method: &Method,
    uri: &Uri,
    body: &[u8],
) -> Result<Option<IdempotencyRequest>, ConvercusError> {
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    Ok(idempotency_request(headers, method, path, body)?)
}

fn today() -> time::Date {
    OffsetDateTime::now_utc().date()
}

/// Resolves the custom properties of a translated body into its patch, with every error.
async fn resolve(
    state: &AppState,
    merchant: MerchantId,
    translated: dto::Translated,
) -> Result<clientele_domain::user::UserPatch, ConvercusError> {
    let dto::Translated { mut patch, properties, mut errors } = translated;
    if let Some(inputs) = properties {
        let values = state.registry.resolve_properties_into(merchant, "customProperties", &inputs, &mut errors).await?;
        patch.custom_properties = if values.is_empty() { Change::Clear } else { Change::Set(values) };
    }
    ValidationErrors::into_result(errors)?;
    Ok(patch)
}

/// Applies a translated PUT or PATCH to the user `id` names.
#[expect(clippy::too_many_arguments, reason = "the parts of one request, passed through once")]
async fn write(
    state: &AppState,
    caller: &ConvercusCaller,
    id: &str,
    headers: &HeaderMap,
    method: &Method,
    uri: &Uri,
    raw: &[u8],
    translated: dto::Translated,
) -> Result<Response, ConvercusError> {
    let merchant = caller.require(Role::Client)?;
    let user = user_id(id)?;
    let if_version = clientele_http::if_match(headers)?;
    let idempotency = idempotency(headers, method, uri, raw)?;
    let patch = resolve(state, merchant, translated).await?;
    let origin = origin(caller);
    let options = WriteOptions { origin: &origin, if_version };
    let written = |u: &User| render(StatusCode::OK, u, None);
    let idempotent = idempotency.as_ref().map(|request| Idempotent { request, answer: &written });
    let answer = state.registry.patch_user(merchant, user, patch, options, idempotent).await?;
    Ok(respond(answer.answer(written)))
}

/// Create a user (Convercus).
#[utoipa::path(post, path = "/users", tag = "convercus", operation_id = "convercus_create_user",
    request_body = ConvercusUserInput,
    params(
        ("interaction-id" = String, Header, description = "A registered, active interaction point"),
        ("Idempotency-Key" = Option<String>, Header, description = "Repeats of the request with the same key get the first answer"),
    ),
    responses(
        (status = 201, description = "Created; the userId is also in Location", body = ConvercusUser,
            headers(("Location" = String, description = "<api_url>/users/<userId>"))),
        (status = 400, description = "Invalid fields, or no interaction-id", body = ConvercusErrorBody),
        (status = 401, description = "No valid token", body = ConvercusErrorBody),
        (status = 403, description = "Unregistered interaction-id, or a read-only key", body = ConvercusErrorBody),
        (status = 404, description = "A repeat of an idempotent request whose user was erased since", body = ConvercusErrorBody),
        (status = 409, description = "A unique key is taken", body = ConvercusErrorBody),
        (status = 415, description = "Not JSON", body = ConvercusErrorBody),
    ))]
async fn create_user(
    State(state): State<AppState>,
    caller: ConvercusCaller,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: JsonBody<ConvercusUserInput, ConvercusError>,
) -> Result<Response, ConvercusError> {
    let merchant = caller.require(Role::Client)?;
    let idempotency = idempotency(&headers, &method, &uri, &body.raw)?;
    let patch = resolve(&state, merchant, body.value.translate(today(), None)).await?;
    let fields = patch.apply(UserFields::default()).map_err(Refusal::from)?;
    let (origin, base) = (origin(&caller), base_url(&headers));
    let created = |c: &CreatedUser| render(StatusCode::CREATED, &c.user, Some(&base));
    let idempotent = idempotency.as_ref().map(|request| Idempotent { request, answer: &created });
    let new = NewUser { fields, contract: None };
    let written = state.registry.create_user(merchant, new, WriteOptions::from(&origin), idempotent).await?;
    Ok(respond(written.answer(created)))
}

/// Display a user's properties (Convercus).
#[utoipa::path(get, path = "/users/{userId}", tag = "convercus", operation_id = "convercus_get_user",
    params(
        ("userId" = String, Path, description = "The userId assigned at creation"),
        ("interaction-id" = String, Header, description = "A registered, active interaction point"),
    ),
    responses(
        (status = 200, description = "The user", body = ConvercusUser),
        (status = 400, description = "No interaction-id", body = ConvercusErrorBody),
        (status = 401, description = "No valid token", body = ConvercusErrorBody),
        (status = 403, description = "Unregistered interaction-id", body = ConvercusErrorBody),
        (status = 404, description = "No such user", body = ConvercusErrorBody),
    ))]
async fn get_user(
    State(state): State<AppState>,
    caller: ConvercusCaller,
    Path(id): Path<String>,
) -> Result<Response, ConvercusError> {
    let merchant = caller.require(Role::Readonly)?;
    let user = state.registry.user(merchant, user_id(&id)?).await?;
    Ok(clientele_http::stored_response(render(StatusCode::OK, &user, None)))
}

/// Display a user's properties (Convercus), with the trailing slash the document uses.
#[utoipa::path(get, path = "/users/{userId}/", tag = "convercus",
    params(
        ("userId" = String, Path, description = "The userId assigned at creation"),
        ("interaction-id" = String, Header, description = "A registered, active interaction point"),
    ),
    responses(
        (status = 200, description = "The user", body = ConvercusUser),
        (status = 404, description = "No such user", body = ConvercusErrorBody),
    ))]
async fn get_user_slash(
    state: State<AppState>,
    caller: ConvercusCaller,
    id: Path<String>,
) -> Result<Response, ConvercusError> {
    get_user(state, caller, id).await
}

/// Overwrite all user data (Convercus PUT): every property not sent is deleted.
#[utoipa::path(put, path = "/users/{userId}", tag = "convercus", operation_id = "convercus_replace_user",
    request_body = ConvercusUserInput,
    params(
        ("userId" = String, Path, description = "The userId assigned at creation"),
        ("interaction-id" = String, Header, description = "A registered, active interaction point"),
        ("If-Match" = Option<String>, Header, description = "Only if the user is still at this ETag"),
    ),
    responses(
        (status = 200, description = "Overwritten", body = ConvercusUser),
        (status = 400, description = "Invalid fields", body = ConvercusErrorBody),
        (status = 404, description = "No such user", body = ConvercusErrorBody),
        (status = 412, description = "The user is not at the If-Match version", body = ConvercusErrorBody),
    ))]
async fn replace_user(
    State(state): State<AppState>,
    caller: ConvercusCaller,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: JsonBody<ConvercusUserInput, ConvercusError>,
) -> Result<Response, ConvercusError> {
    let translated = body.value.translate(today(), Some(&id));
    write(&state, &caller, &id, &headers, &method, &uri, &body.raw, translated).await
}

/// Overwrite selected user data (Convercus PATCH): properties sent are set, `null` deletes
/// one, the rest stay; `customProperties` is replaced as a whole.
#[utoipa::path(patch, path = "/users/{userId}", tag = "convercus", operation_id = "convercus_patch_user",
    request_body = ConvercusUserPatch,
    params(
        ("userId" = String, Path, description = "The userId assigned at creation"),
        ("interaction-id" = String, Header, description = "A registered, active interaction point"),
        ("If-Match" = Option<String>, Header, description = "Only if the user is still at this ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "Repeats of the request with the same key get the first answer"),
    ),
    responses(
        (status = 200, description = "Changed", body = ConvercusUser),
        (status = 400, description = "Invalid fields, or emailAddress cleared", body = ConvercusErrorBody),
        (status = 404, description = "No such user", body = ConvercusErrorBody),
        (status = 412, description = "The user is not at the If-Match version", body = ConvercusErrorBody),
    ))]
async fn patch_user(
    State(state): State<AppState>,
    caller: ConvercusCaller,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: JsonBody<ConvercusUserPatch, ConvercusError>,
) -> Result<Response, ConvercusError> {
    let translated = body.value.translate(today(), &id);
    write(&state, &caller, &id, &headers, &method, &uri, &body.raw, translated).await
}

/// Delete a user (Convercus): the data is anonymised and the loyalty points reset to 0.
#[utoipa::path(delete, path = "/users/{userId}", tag = "convercus", operation_id = "convercus_delete_user",
    params(
        ("userId" = String, Path, description = "The userId assigned at creation"),
        ("interaction-id" = String, Header, description = "A registered, active interaction point"),
    ),
    responses(
        (status = 204, description = "Anonymised"),
        (status = 404, description = "No such user", body = ConvercusErrorBody),
    ))]
async fn delete_user(
    State(state): State<AppState>,
    caller: ConvercusCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ConvercusError> {
    let merchant = caller.require(Role::Client)?;
    let user = user_id(&id)?;
    let if_version = clientele_http::if_match(&headers)?;
    state.registry.erase_user(merchant, user, if_version, &origin(&caller)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
