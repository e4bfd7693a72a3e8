//! `/v1/merchant/payment-page`: what a debtor's payment page shows of the merchant and how
//! to pay: read by any key of the merchant, written whole by an admin key.

use axum::extract::State;
use axum::http::header::ETAG;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use clientele_domain::credential::Role;
use clientele_domain::payment_page::{PaymentPage, PaymentPageInput};
use clientele_service::Refusal;

use super::rfc3339;
use crate::error::Problem;
use crate::extract::Json;
use crate::wire::Text;
use crate::{ApiError, AppState, Caller};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(payment_page, set_payment_page))
}

/// A merchant's payment page settings: every part optional, and what is not sent is
/// cleared. Bank details need `bank_name` and `account_number` together. `reference` and
/// `payment_url` may hold the placeholders `{invoice_number}`, `{amount}` (two decimal
/// places) and `{currency}` (ISO 4217), filled for each request (URL-encoded in the URL).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "display_name": "Acme Stores", "contact_email": "accounts@acme.example", "contact_phone": "+27 21 555 0100",
    "bank_name": "First National Bank", "account_holder": "Acme Stores (Pty) Ltd", "account_number": "62000000001",
    "branch_code": "250655", "reference": "ACME {invoice_number}",
    "payment_url": "https://pay.acme.example/checkout?invoice={invoice_number}&amount={amount}&currency={currency}"
}))]
pub(crate) struct PaymentPageBody {
    /// The name debtors know the merchant by (1 to 200 characters); the registered name
    /// when not given.
    #[schema(value_type = Option<Text>)]
    display_name: Option<Text>,
    #[schema(value_type = Option<Text>)]
    contact_email: Option<Text>,
    #[schema(value_type = Option<Text>)]
    contact_phone: Option<Text>,
    /// At most 100 characters.
    #[schema(value_type = Option<Text>)]
    bank_name: Option<Text>,
    /// At most 100 characters.
    #[schema(value_type = Option<Text>)]
    account_holder: Option<Text>,
    /// At most 34 characters.
    #[schema(value_type = Option<Text>)]
    account_number: Option<Text>,
    /// At most 20 characters.
    #[schema(value_type = Option<Text>)]
    branch_code: Option<Text>,
    /// The reference a debtor quotes with a transfer, at most 100 characters;
    /// `{invoice_number}` when not given.
    #[schema(value_type = Option<Text>)]
    reference: Option<Text>,
    /// An http or https URL the page's pay button opens, at most 2048 characters.
    #[schema(value_type = Option<Text>)]
    payment_url: Option<Text>,
}

/// A merchant's payment page settings.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PaymentPageView {
    display_name: Option<String>,
    contact_email: Option<String>,
    contact_phone: Option<String>,
    bank_name: Option<String>,
    account_holder: Option<String>,
    account_number: Option<String>,
    branch_code: Option<String>,
    /// The reference template (with bank details only).
    reference: Option<String>,
    payment_url: Option<String>,
    /// Increases with every write; also the `ETag`.
    version: i64,
    updated_at: String,
}

impl From<&PaymentPage> for PaymentPageView {
    fn from(page: &PaymentPage) -> Self {
        let owned = |text: Option<&str>| text.map(str::to_owned);
        let bank = page.bank_transfer.as_ref();
        PaymentPageView {
            display_name: owned(page.display_name.as_ref().map(|n| n.as_str())),
            contact_email: owned(page.contact_email.as_ref().map(|e| e.as_str())),
            contact_phone: owned(page.contact_phone.as_ref().map(|p| p.as_str())),
            bank_name: owned(bank.map(|b| b.bank_name.as_str())),
            account_holder: owned(bank.and_then(|b| b.account_holder.as_ref()).map(|h| h.as_str())),
            account_number: owned(bank.map(|b| b.account_number.as_str())),
            branch_code: owned(bank.and_then(|b| b.branch_code.as_ref()).map(|c| c.as_str())),
            reference: owned(bank.map(|b| b.reference.as_str())),
            payment_url: owned(page.payment_url.as_ref().map(|u| u.as_str())),
            version: page.version,
            updated_at: rfc3339(page.updated_at),
        }
    }
}

fn answer(page: &PaymentPage) -> Response {
    let mut response = axum::Json(PaymentPageView::from(page)).into_response();
    if let Ok(tag) = axum::http::HeaderValue::try_from(crate::etag(page.version)) {
        response.headers_mut().insert(ETAG, tag);
    }
    response
}

/// The caller's merchant's payment page settings.
#[utoipa::path(get, path = "/v1/merchant/payment-page", tag = "merchants",
    responses(
        (status = 200, description = "The settings", body = PaymentPageView, headers(("ETag" = String, description = "The settings' version"))),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A platform key has no merchant", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not set up yet: the page shows the registered name only", body = Problem, content_type = "application/problem+json"),
    ))]
async fn payment_page(State(state): State<AppState>, Caller(caller): Caller) -> Result<Response, ApiError> {
    let merchant = caller.merchant(Role::Readonly)?;
    match state.registry.payment_page(merchant).await? {
        Some(page) => Ok(answer(&page)),
        None => Err(Refusal::NotFound.into()),
    }
}

/// Set the caller's merchant's payment page settings, whole (admin keys only).
#[utoipa::path(put, path = "/v1/merchant/payment-page", tag = "merchants",
    request_body = PaymentPageBody,
    responses(
        (status = 200, description = "The settings as stored", body = PaymentPageView, headers(("ETag" = String, description = "The settings' version"))),
        (status = 400, description = "Invalid settings, each named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
    ))]
async fn set_payment_page(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<PaymentPageBody>,
) -> Result<Response, ApiError> {
    let merchant = caller.merchant(Role::Admin)?;
    let text = |value: Option<Text>| value.map(|t| t.0);
    let input = PaymentPageInput {
        display_name: text(body.display_name),
        contact_email: text(body.contact_email),
        contact_phone: text(body.contact_phone),
        bank_name: text(body.bank_name),
        account_holder: text(body.account_holder),
        account_number: text(body.account_number),
        branch_code: text(body.branch_code),
        reference: text(body.reference),
        payment_url: text(body.payment_url),
    };
    Ok(answer(&state.registry.set_payment_page(merchant, input).await?))
}
