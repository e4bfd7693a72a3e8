//! Writes of users: create, replace, merge patch and erase.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use clientele_domain::credential::Role;
use clientele_domain::user::{Change, Surface, User};
use clientele_service::{CreatedUser, Idempotent, NewUser, WriteOptions};

use super::dto::{UserBody, UserPatchBody};
use super::view::UserView;
use super::{properties, render, today, user_id};
use crate::error::Problem;
use crate::extract::JsonBody;
use crate::idempotency::idempotency;
use crate::idempotency::respond;
use crate::{ApiError, AppState, Caller};

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
pub(super) async fn create_user(
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
pub(super) async fn replace_user(
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
pub(super) async fn patch_user(
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
pub(super) async fn delete_user(
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
