//! Reads of users: one user, a filtered page of them, and a user's recorded changes.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::IntoParams;

use clientele_domain::credential::Role;
use clientele_domain::user::{CountryCode, Email, PhoneLookup, UserId};
use clientele_domain::{FieldError, ValidationErrors, Violation, lookup_text};
use clientele_service::{PageRequest, UserFilter};

use super::view::UserView;
use super::{answer, user_id};
use crate::error::Problem;
use crate::extract::{Keyed, KeyedQuery};
use crate::routes::Page;
use crate::{ApiError, AppState, Caller};

const DEFAULT_PAGE: u32 = 20;
const MAX_PAGE: u32 = 100;

/// Read a user.
#[utoipa::path(get, path = "/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user", body = UserView, headers(("ETag" = String, description = "The user's version"))),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user (or erased)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn get_user(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let merchant = caller.merchant(Role::Readonly)?;
    let user = state.registry.user(merchant, user_id(&id)?).await?;
    answer(&user)
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

/// The metadata filter, `metadata[key]=value`: one key at most, and no other keyed
/// parameter.
fn metadata_filter(keyed: Vec<Keyed>, errors: &mut ValidationErrors) -> Option<(String, String)> {
    let mut found = None;
    for Keyed { name, key, value } in keyed {
        let parameter = format!("{name}[{key}]");
        if name != "metadata" {
            errors.push(FieldError::new(parameter, Violation::UnknownField));
        } else if found.is_some() {
            errors.push(FieldError::new(parameter, Violation::Other("filters by one metadata key at most".into())));
        } else if let (Some(key), Some(_)) =
            (errors.take(lookup_text(&parameter, &key)), errors.take(lookup_text(&parameter, &value)))
        {
            // Values are stored as given, space and all: compared as given.
            found = Some((key, value));
        }
    }
    found
}

impl ListQuery {
    fn parse(self, keyed: Vec<Keyed>) -> Result<(UserFilter, PageRequest), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let metadata = metadata_filter(keyed, &mut errors);
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
            metadata,
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
    params(ListQuery,
        ("metadata[key]" = Option<String>, Query, description = "Users whose metadata holds this value under this key, e.g. `metadata[Branch]=CPT` (one key at most)"),
    ),
    responses(
        (status = 200, description = "A page of users; `next_cursor` is null on the last", body = Page<UserView>),
        (status = 400, description = "Invalid filters, each named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn list_users(
    State(state): State<AppState>,
    Caller(caller): Caller,
    query: KeyedQuery<ListQuery>,
) -> Result<Response, ApiError> {
    let merchant = caller.merchant(Role::Readonly)?;
    let (filter, page) = query.value.parse(query.keyed)?;
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
pub(super) async fn user_changes(
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
            at: crate::routes::rfc3339(c.at),
        })
        .collect();
    Ok(axum::Json(Page::whole(views)))
}
