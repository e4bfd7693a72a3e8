//! Once-off payment requests through the native API.

use std::collections::BTreeMap;

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
use clientele_domain::money::Money;
use clientele_domain::payment::{
    Channel, Currency, DocumentUrl, InvoiceNumber, PaymentRequest, PaymentRequestId, PaymentStatus, PaymentTerms,
    Segment, parse_meta,
};
use clientele_domain::user::{Surface, UserId, format_date, parse_date};
use clientele_domain::{FieldError, ValidationErrors, Violation, lookup_text};
use clientele_service::{Debtor, Idempotent, PaymentFilter, Requested, StoredResponse, WriteOptions};

use super::users::UserBody;
use super::{Page, rfc3339};
use crate::error::Problem;
use crate::extract::{JsonBody, Query};
use crate::idempotency::{idempotency, respond};
use crate::wire::{DecimalText, Text};
use crate::{ApiError, AppState, Caller};
use clientele_service::Refusal;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_payment_request, list_payment_requests))
        .routes(routes!(get_payment_request))
        .routes(routes!(cancel_payment_request))
        .routes(routes!(mark_payment_request_paid))
}

/// A payment request to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"customer": {"customer_ref": "CUST001", "given_name": "Thandi", "family_name": "Nkosi"},
    "invoice_number": "INV-2025-0001", "segment": "Retail", "amount_outstanding": "1520.75", "currency": "ZAR",
    "channel": "email", "debt_date": "2025-01-25"}))]
pub(crate) struct NewPaymentRequest {
    /// The debtor: matched by `customer_ref`, then by `national_id`, else registered.
    /// `custom_properties` are set on the user either way.
    customer: UserBody,
    #[schema(value_type = Text)]
    invoice_number: Text,
    #[schema(value_type = Text)]
    segment: Text,
    /// At most two decimal places.
    #[schema(value_type = DecimalText)]
    amount_outstanding: DecimalText,
    /// ZAR, USD, EUR, GBP, NAD, BWP, KES or NGN.
    #[schema(value_type = Text)]
    currency: Text,
    /// sms, email, whatsapp, web or letter.
    #[schema(value_type = Text)]
    channel: Text,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    debt_date: Option<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    url_to_document: Option<Text>,
    #[serde(default)]
    debt_meta: BTreeMap<String, String>,
}

/// A payment request.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PaymentRequestView {
    id: String,
    /// The GUID of the debtor's link, `/pay/{public_access_guid}`.
    public_access_guid: String,
    user_id: String,
    invoice_number: String,
    segment: String,
    #[schema(example = "1520.75")]
    amount_outstanding: String,
    currency: &'static str,
    channel: &'static str,
    debt_date: Option<String>,
    url_to_document: Option<String>,
    debt_meta: BTreeMap<String, String>,
    /// `created`, `viewed`, `paid` or `cancelled`.
    status: &'static str,
    /// DuEngage's `StatusCodesId`: 1 created, 2 viewed, 3 paid, 4 cancelled.
    status_code: i64,
    viewed_at: Option<String>,
    paid_at: Option<String>,
    cancelled_at: Option<String>,
    version: i64,
    created_at: String,
    updated_at: String,
}

impl From<&PaymentRequest> for PaymentRequestView {
    fn from(r: &PaymentRequest) -> Self {
        PaymentRequestView {
            id: r.id.to_string(),
            public_access_guid: r.public_access_guid.to_string(),
            user_id: r.user_id.to_string(),
            invoice_number: r.invoice_number.as_str().to_owned(),
            segment: r.segment.as_str().to_owned(),
            amount_outstanding: r.amount_outstanding.to_string(),
            currency: r.currency.name(),
            channel: r.channel.name(),
            debt_date: r.debt_date.map(format_date),
            url_to_document: r.url_to_document.as_ref().map(|u| u.as_str().to_owned()),
            debt_meta: r.debt_meta.clone(),
            status: r.status.name(),
            status_code: r.status.code(),
            viewed_at: r.viewed_at.map(rfc3339),
            paid_at: r.paid_at.map(rfc3339),
            cancelled_at: r.cancelled_at.map(rfc3339),
            version: r.version,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        }
    }
}

fn named<T: Copy>(
    field: &str,
    value: &str,
    from_name: fn(&str) -> Option<T>,
    table: &[(i64, &str)],
) -> Result<T, FieldError> {
    from_name(value.trim()).ok_or_else(|| {
        let names = table.iter().map(|(_, name)| *name).collect::<Vec<_>>().join(", ");
        FieldError::new(field, Violation::Other(format!("must be one of {names}")))
    })
}

/// Ask a debtor for a once-off payment. The same request under the same invoice number
/// again answers the existing one (200); another request under it is a conflict.
#[utoipa::path(post, path = "/v1/payment-requests", tag = "payment-requests",
    request_body = NewPaymentRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeats of the request with the same key get the first answer")),
    responses(
        (status = 201, description = "Created", body = PaymentRequestView),
        (status = 200, description = "The same request was made before", body = PaymentRequestView),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "A repeat of an idempotent request whose user was erased since (the debtor)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another request has this invoice number", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The Idempotency-Key was used for another request", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_payment_request(
    State(state): State<AppState>,
    Caller(caller): Caller,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    request: JsonBody<NewPaymentRequest>,
) -> Result<Response, ApiError> {
    let merchant = caller.merchant(Role::Client)?;
    let idempotency = idempotency(&headers, &method, &uri, &request.raw)?;
    let body = request.value;
    let (mut fields, inputs, mut errors) = body.customer.parse(OffsetDateTime::now_utc().date());
    for error in &mut errors.0 {
        error.field = format!("customer.{}", error.field);
    }
    let invoice = errors.take(InvoiceNumber::parse("invoice_number", body.invoice_number.as_str()));
    let segment = errors.take(Segment::parse("segment", body.segment.as_str()));
    let amount = errors.take(Money::parse("amount_outstanding", &body.amount_outstanding.0));
    let currency = errors.take(named("currency", body.currency.as_str(), Currency::from_name, Currency::TABLE));
    let channel = errors.take(named("channel", body.channel.as_str(), Channel::from_name, Channel::TABLE));
    let debt_date = body.debt_date.and_then(|d| errors.take(parse_date("debt_date", d.as_str())));
    let url = body.url_to_document.and_then(|u| errors.take(DocumentUrl::parse("url_to_document", u.as_str())));
    let meta = errors.take(parse_meta("debt_meta", &body.debt_meta));
    let properties =
        state.registry.resolve_properties_into(merchant, "customer.custom_properties", &inputs, &mut errors).await?;
    fields.custom_properties = Vec::new();
    let (Some(invoice_number), Some(segment), Some(amount_outstanding), Some(currency), Some(channel), Some(debt_meta)) =
        (invoice, segment, amount, currency, channel, meta)
    else {
        return Err(errors.into());
    };
    errors.into_result()?;
    let terms = PaymentTerms {
        invoice_number,
        segment,
        amount_outstanding,
        currency,
        channel,
        debt_date,
        url_to_document: url,
        debt_meta,
    };
    let origin = caller.origin(Surface::NATIVE);
    let render = |requested: &Requested| {
        let (request, created) = match requested {
            Requested::Created(request) => (request, true),
            Requested::Existing(request) => (request, false),
        };
        let mut headers = vec![(CONTENT_TYPE.to_string(), "application/json".to_owned())];
        if created {
            headers.push((LOCATION.to_string(), format!("/v1/payment-requests/{}", request.id)));
        }
        let status = if created { StatusCode::CREATED } else { StatusCode::OK };
        let body = serde_json::to_vec(&PaymentRequestView::from(request)).unwrap_or_default();
        StoredResponse { status: status.as_u16(), headers, body }
    };
    let idempotent = idempotency.as_ref().map(|request| Idempotent { request, answer: &render });
    let debtor = Debtor { fields, properties };
    let written =
        state.registry.request_payment(merchant, debtor, terms, WriteOptions::from(&origin), idempotent).await?;
    Ok(respond(written.answer(render)))
}

/// Filters and paging of the payment request list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct PaymentQuery {
    /// created, viewed, paid or cancelled.
    status: Option<String>,
    /// The debtor's user id.
    user_id: Option<String>,
    invoice_number: Option<String>,
    /// RFC 3339.
    created_after: Option<String>,
    /// RFC 3339.
    created_before: Option<String>,
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    cursor: Option<String>,
}

impl PaymentQuery {
    fn parse(self) -> Result<PaymentFilter, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let time = |errors: &mut ValidationErrors, name: &str, value: Option<String>| {
            value.and_then(|v| {
                errors.take(
                    OffsetDateTime::parse(&v, &Rfc3339)
                        .map_err(|_| FieldError::new(name, Violation::Format { expected: "an RFC 3339 time" })),
                )
            })
        };
        let status =
            self.status.and_then(|s| errors.take(named("status", &s, PaymentStatus::from_name, PaymentStatus::TABLE)));
        let user = self.user_id.and_then(|u| {
            errors.take(
                u.parse::<UserId>().map_err(|_| FieldError::new("user_id", Violation::Format { expected: "a UUID" })),
            )
        });
        let limit = self.limit.unwrap_or(20);
        if !(1..=100).contains(&limit) {
            errors.push(FieldError::new("limit", Violation::Other("must be from 1 to 100".into())));
        }
        let after = self.cursor.and_then(|c| {
            let decoded = URL_SAFE_NO_PAD.decode(&c).ok().and_then(|b| uuid::Uuid::from_slice(&b).ok());
            errors.take(decoded.map(PaymentRequestId::from_uuid).ok_or_else(|| {
                FieldError::new("cursor", Violation::Format { expected: "a next_cursor from a previous page" })
            }))
        });
        let filter = PaymentFilter {
            status,
            user,
            invoice_number: self.invoice_number.and_then(|i| errors.take(lookup_text("invoice_number", &i))),
            created_after: time(&mut errors, "created_after", self.created_after),
            created_before: time(&mut errors, "created_before", self.created_before),
            after,
            limit,
        };
        errors.into_result()?;
        Ok(filter)
    }
}

/// List payment requests, oldest first, a page at a time.
#[utoipa::path(get, path = "/v1/payment-requests", tag = "payment-requests",
    params(PaymentQuery),
    responses(
        (status = 200, description = "A page of requests", body = Page<PaymentRequestView>),
        (status = 400, description = "Invalid filters", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_payment_requests(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<PaymentQuery>,
) -> Result<axum::Json<Page<PaymentRequestView>>, ApiError> {
    let merchant = caller.merchant(Role::Readonly)?;
    let filter = query.parse()?;
    let limit = filter.limit;
    let mut found =
        state.registry.list_payment_requests(merchant, &PaymentFilter { limit: limit + 1, ..filter }).await?;
    let more = found.len() > limit as usize;
    found.truncate(limit as usize);
    let next = if more { found.last().map(|r| URL_SAFE_NO_PAD.encode(r.id.as_uuid().as_bytes())) } else { None };
    Ok(axum::Json(Page::new(found.iter().map(PaymentRequestView::from).collect(), next)))
}

fn request_id(id: &str) -> Result<PaymentRequestId, ApiError> {
    id.parse().map_err(|_| ApiError::Refused(Refusal::NotFound))
}

/// Read a payment request.
#[utoipa::path(get, path = "/v1/payment-requests/{id}", tag = "payment-requests",
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The request", body = PaymentRequestView),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_payment_request(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<PaymentRequestView>, ApiError> {
    let merchant = caller.merchant(Role::Readonly)?;
    Ok(axum::Json(PaymentRequestView::from(&state.registry.payment_request(merchant, request_id(&id)?).await?)))
}

async fn move_to(
    state: &AppState,
    caller: &Caller,
    id: &str,
    next: PaymentStatus,
) -> Result<axum::Json<PaymentRequestView>, ApiError> {
    let merchant = caller.0.merchant(Role::Client)?;
    let moved = state.registry.move_payment(merchant, request_id(id)?, next, &caller.0.origin(Surface::NATIVE)).await?;
    Ok(axum::Json(PaymentRequestView::from(&moved)))
}

/// Cancel a payment request (created or viewed ones only).
#[utoipa::path(post, path = "/v1/payment-requests/{id}/cancel", tag = "payment-requests",
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, description = "Cancelled", body = PaymentRequestView),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already paid or cancelled", body = Problem, content_type = "application/problem+json"),
    ))]
async fn cancel_payment_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<PaymentRequestView>, ApiError> {
    move_to(&state, &caller, &id, PaymentStatus::Cancelled).await
}

/// Mark a payment request paid (created or viewed ones only).
#[utoipa::path(post, path = "/v1/payment-requests/{id}/mark-paid", tag = "payment-requests",
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, description = "Paid", body = PaymentRequestView),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already paid or cancelled", body = Problem, content_type = "application/problem+json"),
    ))]
async fn mark_payment_request_paid(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<PaymentRequestView>, ApiError> {
    move_to(&state, &caller, &id, PaymentStatus::Paid).await
}
