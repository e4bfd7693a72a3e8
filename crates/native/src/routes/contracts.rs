//! Debit-order contracts through the native API: a user's contracts, one contract, its
//! changes, its cancellation and its derived schedule.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use clientele_domain::contract::{Contract, ContractId, ContractNumber, ContractTerms, TermsInput, WEEKEND_RULE};
use clientele_domain::credential::Role;
use clientele_domain::user::{Surface, UserId, format_date};
use clientele_domain::{FieldError, ValidationErrors, Violation};

use super::{Page, rfc3339};
use crate::error::Problem;
use crate::extract::Json;
use crate::wire::{DecimalText, Sent, Text};
use crate::{ApiError, AppState, Caller};
use clientele_service::Refusal;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_contract, list_contracts))
        .routes(routes!(get_contract, patch_contract))
        .routes(routes!(cancel_contract))
        .routes(routes!(contract_schedule))
}

/// The names the native API gives the terms, in the order of [`TermsInput`].
pub(crate) const TERM_NAMES: [&str; 6] = [
    "instalment_amount",
    "number_of_instalments",
    "instalment_start",
    "tracking_code",
    "frequency_code",
    "collection_day",
];

/// A contract to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"contract_number": "C1603", "instalment_amount": "123.45", "number_of_instalments": 12,
    "instalment_start": "2025-01-25 08:00", "tracking_code": "00", "frequency_code": "MNTH", "collection_day": 25}))]
pub(crate) struct NewContract {
    /// 1 to 20 letters or digits, unique per merchant.
    #[schema(value_type = Text)]
    contract_number: Text,
    /// An amount with at most two decimal places, more than 0 (a string or a number).
    #[schema(value_type = DecimalText)]
    instalment_amount: DecimalText,
    /// 1 to 999 (1 for `ADHO`).
    #[schema(value_type = u32)]
    number_of_instalments: Text,
    /// `YYYY-MM-DD HH24:MI`.
    #[schema(value_type = Text)]
    instalment_start: Text,
    /// 1 to 4 digits; `00` is no tracking.
    #[schema(value_type = Text)]
    tracking_code: Text,
    /// `WEEK`, `FRTN`, `MNTH`, `QURT`, `MIAN`, `YEAR` or `ADHO`.
    #[schema(value_type = Text)]
    frequency_code: Text,
    /// 1 to 31, or for `WEEK` and `FRTN` a weekday from 1 (Monday) to 7.
    #[schema(value_type = u8)]
    collection_day: Text,
}

/// Terms to change (a merge patch; terms cannot be cleared, the number cannot change).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ContractPatch {
    #[serde(default)]
    #[schema(value_type = Option<DecimalText>)]
    instalment_amount: Option<DecimalText>,
    #[serde(default)]
    #[schema(value_type = Option<u32>)]
    number_of_instalments: Option<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    instalment_start: Option<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    tracking_code: Option<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    frequency_code: Option<Text>,
    #[serde(default)]
    #[schema(value_type = Option<u8>)]
    collection_day: Option<Text>,
    #[serde(default)]
    #[schema(ignore)]
    contract_number: Sent,
}

/// A contract.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ContractView {
    id: String,
    user_id: String,
    contract_number: String,
    /// Exact decimal text with two places. The terms are `null` while a contract is known
    /// by its number only (registered through the payment gateway).
    #[schema(example = "123.45")]
    instalment_amount: Option<String>,
    number_of_instalments: Option<u32>,
    #[schema(example = "2025-01-25 08:00")]
    instalment_start: Option<String>,
    tracking_code: Option<String>,
    frequency_code: Option<&'static str>,
    collection_day: Option<u8>,
    /// `active` or `cancelled`.
    status: &'static str,
    version: i64,
    created_at: String,
    updated_at: String,
}

impl From<&Contract> for ContractView {
    fn from(c: &Contract) -> Self {
        ContractView {
            id: c.id.to_string(),
            user_id: c.user_id.to_string(),
            contract_number: c.number.as_str().to_owned(),
            instalment_amount: c.terms.as_ref().map(|t| t.instalment_amount.to_string()),
            number_of_instalments: c.terms.as_ref().map(|t| t.number_of_instalments),
            instalment_start: c.terms.as_ref().map(|t| t.instalment_start.to_string()),
            tracking_code: c.terms.as_ref().map(|t| t.tracking_code.as_str().to_owned()),
            frequency_code: c.terms.as_ref().map(|t| t.frequency.code()),
            collection_day: c.terms.as_ref().map(|t| t.collection_day.get()),
            status: c.status.as_str(),
            version: c.version,
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
        }
    }
}

/// One collection of a schedule.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CollectionView {
    number: u32,
    date: String,
    amount: String,
}

/// A contract's schedule: the date and amount of every collection.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScheduleView {
    contract_id: String,
    /// What happens to collections that fall on a weekend.
    weekend_rule: &'static str,
    total: String,
    collections: Vec<CollectionView>,
}

fn user_id(id: &str) -> Result<UserId, ApiError> {
    id.parse().map_err(|_| ApiError::Refused(Refusal::NotFound))
}

fn contract_id(id: &str) -> Result<ContractId, ApiError> {
    id.parse().map_err(|_| ApiError::Refused(Refusal::NotFound))
}

/// The current terms as the texts a client would send.
pub(crate) fn terms_texts(terms: &ContractTerms) -> [String; 6] {
    [
        terms.instalment_amount.to_string(),
        terms.number_of_instalments.to_string(),
        terms.instalment_start.to_string(),
        terms.tracking_code.as_str().to_owned(),
        terms.frequency.code().to_owned(),
        terms.collection_day.get().to_string(),
    ]
}

/// Builds [`TermsInput`] from six optional texts, blamed on `names`.
pub(crate) fn terms_input<'a>(names: [&'a str; 6], texts: [Option<String>; 6]) -> TermsInput<'a> {
    let [a, n, s, t, f, d] = texts;
    TermsInput {
        instalment_amount: a.map(|v| (names[0], v)),
        number_of_instalments: n.map(|v| (names[1], v)),
        instalment_start: s.map(|v| (names[2], v)),
        tracking_code: t.map(|v| (names[3], v)),
        frequency: f.map(|v| (names[4], v)),
        collection_day: d.map(|v| (names[5], v)),
    }
}

/// Give a user a debit-order contract.
#[utoipa::path(post, path = "/v1/users/{id}/contracts", tag = "contracts",
    request_body = NewContract,
    params(("id" = String, Path, description = "The user's id")),
    responses(
        (status = 201, description = "Created", body = ContractView, headers(("Location" = String, description = "The contract's URL"))),
        (status = 400, description = "Invalid terms, each named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The contract number is taken", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_contract(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Json(body): Json<NewContract>,
) -> Result<impl IntoResponse, ApiError> {
    let merchant = caller.merchant(Role::Client)?;
    let user = user_id(&id)?;
    let mut errors = ValidationErrors::default();
    let number = errors.take(ContractNumber::parse("contract_number", body.contract_number.as_str()));
    let input = terms_input(
        TERM_NAMES,
        [
            Some(body.instalment_amount.0),
            Some(body.number_of_instalments.0),
            Some(body.instalment_start.0),
            Some(body.tracking_code.0),
            Some(body.frequency_code.0),
            Some(body.collection_day.0),
        ],
    );
    let terms = ContractTerms::parse(&input, TERM_NAMES).map_err(|refused| errors.0.extend(refused.0)).ok();
    let (Some(number), Some(terms)) = (number, terms) else { return Err(errors.into()) };
    let contract =
        state.registry.create_contract(merchant, user, number, Some(terms), &caller.origin(Surface::NATIVE)).await?;
    let location = format!("/v1/contracts/{}", contract.id);
    Ok((StatusCode::CREATED, [(LOCATION, location)], axum::Json(ContractView::from(&contract))))
}

/// List a user's contracts, oldest first.
#[utoipa::path(get, path = "/v1/users/{id}/contracts", tag = "contracts",
    params(("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The contracts", body = Page<ContractView>),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_contracts(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Page<ContractView>>, ApiError> {
    let merchant = caller.merchant(Role::Readonly)?;
    let contracts = state.registry.contracts_of_user(merchant, user_id(&id)?).await?;
    Ok(axum::Json(Page::whole(contracts.iter().map(ContractView::from).collect())))
}

/// Read a contract (also one of an erased user: it stays as a financial record).
#[utoipa::path(get, path = "/v1/contracts/{id}", tag = "contracts",
    params(("id" = String, Path, description = "The contract's id")),
    responses(
        (status = 200, description = "The contract", body = ContractView),
        (status = 404, description = "No such contract", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_contract(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<ContractView>, ApiError> {
    let merchant = caller.merchant(Role::Readonly)?;
    Ok(axum::Json(ContractView::from(&state.registry.contract(merchant, contract_id(&id)?).await?)))
}

/// Change an active contract's terms; the terms are checked together again.
#[utoipa::path(patch, path = "/v1/contracts/{id}", tag = "contracts",
    request_body(content = ContractPatch, content_type = "application/merge-patch+json"),
    params(
        ("id" = String, Path, description = "The contract's id"),
        ("If-Match" = Option<String>, Header, description = "Only at this version (the contract's `version` in quotes)"),
    ),
    responses(
        (status = 200, description = "Changed", body = ContractView),
        (status = 400, description = "Invalid terms, each named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The contract is cancelled", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The contract is not at the If-Match version", body = Problem, content_type = "application/problem+json"),
    ))]
async fn patch_contract(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    Json(body): Json<ContractPatch>,
) -> Result<axum::Json<ContractView>, ApiError> {
    let merchant = caller.merchant(Role::Client)?;
    let id = contract_id(&id)?;
    if body.contract_number.0 {
        return Err(FieldError::new("contract_number", Violation::ReadOnly).into());
    }
    let sent = [
        body.instalment_amount.map(|v| v.0),
        body.number_of_instalments.map(|v| v.0),
        body.instalment_start.map(|v| v.0),
        body.tracking_code.map(|v| v.0),
        body.frequency_code.map(|v| v.0),
        body.collection_day.map(|v| v.0),
    ];
    let change = |current: Option<&ContractTerms>| {
        let mut texts = current.map_or([None, None, None, None, None, None], |t| terms_texts(t).map(Some));
        for (slot, value) in texts.iter_mut().zip(sent.iter()) {
            if value.is_some() {
                slot.clone_from(value);
            }
        }
        ContractTerms::parse(&terms_input(TERM_NAMES, texts), TERM_NAMES)
    };
    let version = crate::if_match(&headers)?;
    let changed =
        state.registry.change_contract(merchant, id, version, &caller.origin(Surface::NATIVE), change).await?;
    Ok(axum::Json(ContractView::from(&changed)))
}

/// Cancel a contract: it is no longer collected. Cancelling again changes nothing.
#[utoipa::path(post, path = "/v1/contracts/{id}/cancel", tag = "contracts",
    params(("id" = String, Path, description = "The contract's id")),
    responses(
        (status = 200, description = "Cancelled", body = ContractView),
        (status = 404, description = "No such contract", body = Problem, content_type = "application/problem+json"),
    ))]
async fn cancel_contract(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<ContractView>, ApiError> {
    let merchant = caller.merchant(Role::Client)?;
    Ok(axum::Json(ContractView::from(
        &state.registry.cancel_contract(merchant, contract_id(&id)?, &caller.origin(Surface::NATIVE)).await?,
    )))
}

/// A contract's instalment schedule, derived from its terms: the first collection is the
/// first collection day on or after the start (day 31 is clamped to each month's end); a
/// collection on a Saturday or Sunday moves to the following Monday.
#[utoipa::path(get, path = "/v1/contracts/{id}/schedule", tag = "contracts",
    params(("id" = String, Path, description = "The contract's id")),
    responses(
        (status = 200, description = "Every collection", body = ScheduleView),
        (status = 404, description = "No such contract", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The contract has no terms yet", body = Problem, content_type = "application/problem+json"),
    ))]
async fn contract_schedule(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<ScheduleView>, ApiError> {
    let merchant = caller.merchant(Role::Readonly)?;
    let contract = state.registry.contract(merchant, contract_id(&id)?).await?;
    let terms = contract
        .terms
        .as_ref()
        .ok_or_else(|| ApiError::Conflict("the contract has no instalment terms yet: PATCH them first".to_owned()))?;
    let total = terms.instalment_amount.times(terms.number_of_instalments);
    Ok(axum::Json(ScheduleView {
        contract_id: contract.id.to_string(),
        weekend_rule: WEEKEND_RULE,
        total: total.map(|t| t.to_string()).unwrap_or_default(),
        collections: terms
            .schedule()
            .into_iter()
            .map(|c| CollectionView { number: c.number, date: format_date(c.date), amount: c.amount.to_string() })
            .collect(),
    }))
}
