//! The loyalty points ledger through the native API: clients write earns, spends and
//! adjustments and reverse entries; readonly keys read balances and entries.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use clientele_domain::credential::Role;
use clientele_domain::points::{
    EntryKind, Movement, PointsDescription, PointsEntry, PointsEntryId, PointsReference, PointsRequest, Reversal,
};
use clientele_domain::user::{Surface, UserId};
use clientele_domain::{FieldError, ValidationErrors, Violation};
use clientele_service::{Balance, IdempotentPoints, PointsQuery, PointsWritten, Refusal, StoredResponse};

use super::{Page, rfc3339};
use crate::error::Problem;
use crate::extract::{JsonBody, Query, decode_json};
use crate::idempotency::{idempotency, respond};
use crate::{ApiError, AppState, Caller};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_points, get_points))
        .routes(routes!(list_points_entries))
        .routes(routes!(get_points_entry))
        .routes(routes!(reverse_points_entry))
}

/// A movement of a user's points.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "earn", "points": 120, "reference": "till-7/receipt-20931",
    "expires_at": "2027-12-31T23:59:59Z", "description": "Purchase at Canal Walk"}))]
pub(crate) struct PointsBody {
    /// `earn`, `spend` or `adjust`.
    kind: String,
    /// Positive for an earn or a spend; signed (not 0) for an adjustment. At most 10^12.
    points: Option<i64>,
    /// The merchant's reference, unique per merchant: a repeat with the same content
    /// answers the first entry (200); other content under it is a conflict. At most 100
    /// characters.
    reference: Option<String>,
    /// When an earn's points expire (RFC 3339, later than now). Earns only.
    expires_at: Option<String>,
    /// At most 200 characters. Erasure clears it.
    description: Option<String>,
}

/// A reversal's reference and description; both optional, and so is the body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReverseBody {
    reference: Option<String>,
    description: Option<String>,
}

fn optional<T>(
    errors: &mut ValidationErrors,
    value: Option<String>,
    parse: impl Fn(&str) -> Result<T, FieldError>,
) -> Option<T> {
    value.and_then(|v| errors.take(parse(&v)))
}

fn time(errors: &mut ValidationErrors, field: &str, value: Option<String>) -> Option<OffsetDateTime> {
    optional(errors, value, |v| {
        OffsetDateTime::parse(v, &Rfc3339)
            .map_err(|_| FieldError::new(field, Violation::Format { expected: "an RFC 3339 time" }))
    })
}

impl PointsBody {
    fn parse(self, now: OffsetDateTime) -> Result<PointsRequest, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let reference = optional(&mut errors, self.reference, |r| PointsReference::parse("reference", r));
        let description = optional(&mut errors, self.description, |d| PointsDescription::parse("description", d));
        let expires_at = time(&mut errors, "expires_at", self.expires_at);
        let movement = match Movement::parse(&self.kind, self.points, expires_at, now) {
            Ok(movement) => Some(movement),
            Err(refused) => {
                refused.into_iter().for_each(|e| errors.push(e));
                None
            }
        };
        errors.into_result()?;
        movement
            .map(|movement| PointsRequest { movement, reference, description })
            .ok_or_else(ValidationErrors::default)
    }
}

/// A points entry.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PointsEntryView {
    id: String,
    user_id: String,
    /// `earn`, `spend`, `adjust`, `expire`, `reverse` or `reset`.
    kind: &'static str,
    /// The signed change of the balance.
    points: i64,
    balance_after: i64,
    reference: Option<String>,
    description: Option<String>,
    /// When an earn's points expire (RFC 3339).
    expires_at: Option<String>,
    /// The entry a reversal reverses.
    reverses: Option<String>,
    /// The surface it came through (`native`, `system` for expiry and erasure...).
    surface: String,
    interaction_point: Option<String>,
    /// The id of the API key that wrote it.
    actor: Option<String>,
    /// RFC 3339.
    created_at: String,
}

impl From<&PointsEntry> for PointsEntryView {
    fn from(entry: &PointsEntry) -> Self {
        PointsEntryView {
            id: entry.id.to_string(),
            user_id: entry.user_id.to_string(),
            kind: entry.kind.as_str(),
            points: entry.points,
            balance_after: entry.balance_after,
            reference: entry.reference.as_ref().map(|r| r.as_str().to_owned()),
            description: entry.description.as_ref().map(|d| d.as_str().to_owned()),
            expires_at: entry.expires_at.map(rfc3339),
            reverses: entry.reverses.map(|id| id.to_string()),
            surface: entry.origin.surface.as_str().to_owned(),
            interaction_point: entry.origin.interaction_point.as_ref().map(|p| p.as_str().to_owned()),
            actor: entry.origin.actor.map(|actor| actor.to_string()),
            created_at: rfc3339(entry.created_at),
        }
    }
}

/// The answer to a points write: 201 with the entry, or 200 with the entry its reference
/// named before.
fn render(written: &PointsWritten) -> StoredResponse {
    let mut headers = vec![(CONTENT_TYPE.to_string(), "application/json".to_owned())];
    let status = if written.repeated {
        StatusCode::OK
    } else {
        headers.push((LOCATION.to_string(), format!("/v1/points-entries/{}", written.entry.id)));
        StatusCode::CREATED
    };
    let body = serde_json::to_vec(&PointsEntryView::from(&written.entry)).unwrap_or_default();
    StoredResponse { status: status.as_u16(), headers, body }
}

fn user_id(id: &str) -> Result<UserId, ApiError> {
    id.parse().map_err(|_| ApiError::Refused(Refusal::NotFound))
}

fn entry_id(id: &str) -> Result<PointsEntryId, ApiError> {
    id.parse().map_err(|_| ApiError::Refused(Refusal::NotFound))
}

/// Earn, spend or adjust a user's points. A spend or a negative adjustment takes from the
/// lots that expire first, and is refused if it would take the balance below zero.
#[utoipa::path(post, path = "/v1/users/{id}/points", tag = "points",
    request_body = PointsBody,
    params(("id" = String, Path, description = "The user's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Repeats of the request with the same key get the first answer")),
    responses(
        (status = 201, description = "Written", body = PointsEntryView),
        (status = 200, description = "The same movement was written before under this reference", body = PointsEntryView),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not enough points (`urn:clientele:problem:insufficient-points`), or the reference names another entry", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The Idempotency-Key was used for another request", body = Problem, content_type = "application/problem+json"),
    ))]
async fn post_points(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    request: JsonBody<PointsBody>,
) -> Result<Response, ApiError> {
    let merchant = caller.merchant(Role::Client)?;
    let idempotency = idempotency(&headers, &method, &uri, &request.raw)?;
    let points = request.value.parse(OffsetDateTime::now_utc())?;
    let user = user_id(&id)?;
    let origin = caller.origin(Surface::NATIVE);
    let idempotent = idempotency.as_ref().map(|request| IdempotentPoints { request, render });
    let written = state.registry.post_points(merchant, user, points, &origin, idempotent).await?;
    Ok(respond(written.answer(render)))
}

/// Reverse an entry: an earn or a positive adjustment takes back what is left of it; a spend
/// or a negative adjustment gives its points back to the lots it took them from (what goes
/// back to a lot that has expired since expires at once). An entry is reversed once.
#[utoipa::path(post, path = "/v1/points-entries/{id}/reverse", tag = "points",
    request_body(content = Option<ReverseBody>, description = "Optional: a reference and a description for the reversal"),
    params(("id" = String, Path, description = "The entry's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Repeats of the request with the same key get the first answer")),
    responses(
        (status = 201, description = "The reversal", body = PointsEntryView),
        (status = 200, description = "The reversal written before under this reference", body = PointsEntryView),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such entry", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The entry cannot be reversed (an expiry, a reset, a reversal) or was reversed already", body = Problem, content_type = "application/problem+json"),
    ))]
async fn reverse_points_entry(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let merchant = caller.merchant(Role::Client)?;
    let idempotency = idempotency(&headers, &method, &uri, &body)?;
    let body: ReverseBody =
        if body.iter().all(u8::is_ascii_whitespace) { ReverseBody::default() } else { decode_json(&body)? };
    let mut errors = ValidationErrors::default();
    let reference = optional(&mut errors, body.reference, |r| PointsReference::parse("reference", r));
    let description = optional(&mut errors, body.description, |d| PointsDescription::parse("description", d));
    errors.into_result()?;
    let entry = entry_id(&id)?;
    let origin = caller.origin(Surface::NATIVE);
    let idempotent = idempotency.as_ref().map(|request| IdempotentPoints { request, render });
    let reversal = Reversal { entry, reference, description };
    let written = state.registry.reverse_points(merchant, reversal, &origin, idempotent).await?;
    Ok(respond(written.answer(render)))
}

/// When a balance is read.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct BalanceQuery {
    /// The balance at this time (RFC 3339); now when absent.
    as_of: Option<String>,
}

/// Points of a lot, and when they expire.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LotView {
    points: i64,
    /// RFC 3339; `null` for points that do not expire.
    expires_at: Option<String>,
}

/// A user's balance.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BalanceView {
    balance: i64,
    /// The lots that make the balance, the one that expires first first (now only: empty
    /// for a balance as of a past time).
    lots: Vec<LotView>,
    /// Points of those lots that expire within 30 days.
    expiring_within_30_days: i64,
    /// The time of the balance (RFC 3339).
    as_of: String,
}

impl From<Balance> for BalanceView {
    fn from(balance: Balance) -> Self {
        BalanceView {
            balance: balance.balance,
            lots: balance
                .lots
                .iter()
                .map(|l| LotView { points: l.remaining, expires_at: l.expires_at.map(rfc3339) })
                .collect(),
            expiring_within_30_days: balance.expiring_soon,
            as_of: rfc3339(balance.at),
        }
    }
}

/// A user's balance, now or as of a time, exact to the second (an expiry counts from the
/// lot's expiry, before any entry has written it off).
#[utoipa::path(get, path = "/v1/users/{id}/points", tag = "points",
    params(("id" = String, Path, description = "The user's id"), BalanceQuery),
    responses(
        (status = 200, description = "The balance", body = BalanceView),
        (status = 400, description = "Invalid as_of", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_points(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Query(query): Query<BalanceQuery>,
) -> Result<axum::Json<BalanceView>, ApiError> {
    let merchant = caller.merchant(Role::Readonly)?;
    let mut errors = ValidationErrors::default();
    let at = time(&mut errors, "as_of", query.as_of);
    errors.into_result()?;
    Ok(axum::Json(state.registry.points_balance(merchant, user_id(&id)?, at).await?.into()))
}

/// Which entries to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct EntriesQuery {
    /// Only entries of this kind.
    kind: Option<String>,
    /// Only entries written at or after this time (RFC 3339).
    from: Option<String>,
    /// Only entries written before this time (RFC 3339).
    until: Option<String>,
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    cursor: Option<String>,
}

impl EntriesQuery {
    fn parse(self) -> Result<PointsQuery, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let kind = optional(&mut errors, self.kind, |k| EntryKind::parse("kind", k));
        let from = time(&mut errors, "from", self.from);
        let until = time(&mut errors, "until", self.until);
        let limit = self.limit.unwrap_or(20);
        if !(1..=100).contains(&limit) {
            errors.push(FieldError::new("limit", Violation::Other("must be from 1 to 100".into())));
        }
        let after = optional(&mut errors, self.cursor, |c| {
            let decoded = URL_SAFE_NO_PAD.decode(c).ok().and_then(|b| uuid::Uuid::from_slice(&b).ok());
            decoded.map(PointsEntryId::from_uuid).ok_or_else(|| {
                FieldError::new("cursor", Violation::Format { expected: "a next_cursor from a previous page" })
            })
        });
        errors.into_result()?;
        Ok(PointsQuery { after, kind, from, until, limit })
    }
}

/// A user's entries, oldest first, a page at a time.
#[utoipa::path(get, path = "/v1/users/{id}/points/entries", tag = "points",
    params(("id" = String, Path, description = "The user's id"), EntriesQuery),
    responses(
        (status = 200, description = "A page of entries", body = Page<PointsEntryView>),
        (status = 400, description = "Invalid filters", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_points_entries(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Query(query): Query<EntriesQuery>,
) -> Result<axum::Json<Page<PointsEntryView>>, ApiError> {
    let merchant = caller.merchant(Role::Readonly)?;
    let query = query.parse()?;
    let limit = query.limit;
    let user = user_id(&id)?;
    let mut found = state.registry.points_entries(merchant, user, PointsQuery { limit: limit + 1, ..query }).await?;
    let more = found.len() > limit as usize;
    found.truncate(limit as usize);
    let next = if more { found.last().map(|e| URL_SAFE_NO_PAD.encode(e.id.as_uuid().as_bytes())) } else { None };
    Ok(axum::Json(Page::new(found.iter().map(PointsEntryView::from).collect(), next)))
}

/// Read one points entry.
#[utoipa::path(get, path = "/v1/points-entries/{id}", tag = "points",
    params(("id" = String, Path, description = "The entry's id")),
    responses(
        (status = 200, description = "The entry", body = PointsEntryView),
        (status = 404, description = "No such entry", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_points_entry(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<PointsEntryView>, ApiError> {
    let merchant = caller.merchant(Role::Readonly)?;
    Ok(axum::Json(PointsEntryView::from(&state.registry.points_entry(merchant, entry_id(&id)?).await?)))
}
