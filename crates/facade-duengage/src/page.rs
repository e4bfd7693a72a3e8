//! The public payment page, `/pay/{PublicAccessGuid}`: server-rendered HTML that works
//! without JavaScript and on a phone. Every value a merchant sent is escaped (maud escapes
//! everything it writes). Opening the page of a created request records the view.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use clientele_domain::payment::{PaymentRequest, PaymentStatus, PublicAccessGuid};
use clientele_domain::payment_page::{Filling, PaymentPage};
use clientele_domain::user::format_date;
use clientele_http::{AppState, ClientAddress};
use clientele_service::{PublicLink, Refusal};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}\
main{max-width:32rem;margin:1rem;padding:1.5rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px #0002}\
h1{font-size:1.25rem;margin:0 0 1rem}.amount{font-size:2rem;font-weight:700;margin:.5rem 0 1rem}\
dl{display:grid;grid-template-columns:auto 1fr;gap:.4rem 1rem;margin:0}dt{color:#5b6475}dd{margin:0}\
.notice{padding:.75rem 1rem;border-radius:8px;background:#eef3ff;margin-bottom:1rem}\
.label{margin:0;color:#5b6475}.contact{margin:-.5rem 0 1rem}.contact a{color:#1f5eff;white-space:nowrap}\
h2{font-size:1.1rem;margin:1.5rem 0 .75rem}h3{font-size:1rem;margin:1.25rem 0 .5rem}.hint{color:#5b6475;font-size:.9rem}\
a.pay{display:block;text-align:center;padding:.9rem 1rem;background:#0a7d38;color:#fff;border-radius:8px;\
text-decoration:none;font-weight:600}.reference strong{font-family:ui-monospace,monospace}\
a.document{display:inline-block;margin-top:1.25rem;padding:.75rem 1rem;background:#1f5eff;color:#fff;\
border-radius:8px;text-decoration:none}@media(min-width:36rem){main{margin:2rem auto}}";

fn frame(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) }
                style { (STYLE) }
            }
            body { main { (body) } }
        }
    }
}

/// `1520.75` in ZAR → `ZAR 1,520.75`.
fn amount(request: &PaymentRequest) -> String {
    let text = request.amount_outstanding.to_string();
    let (whole, cents) = text.split_once('.').unwrap_or((&text, "00"));
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{} {grouped}.{cents}", request.currency.name())
}

/// A phone number as a `tel:` link dials it: without its spaces and separators.
fn dialable(phone: &str) -> String {
    phone.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect()
}

/// The words a debtor reads for a request's status: never the internal ones.
fn status_words(status: PaymentStatus) -> &'static str {
    match status {
        PaymentStatus::Created | PaymentStatus::Viewed => "Awaiting payment",
        PaymentStatus::Paid => "Paid",
        PaymentStatus::Cancelled => "Cancelled",
    }
}

/// How to pay, for a request that is still owed: the pay button, the bank details with the
/// reference to quote, or (with neither set up) a request to contact the merchant.
fn instructions(name: &str, request: &PaymentRequest, page: Option<&PaymentPage>) -> Markup {
    let filling = Filling {
        invoice_number: &request.invoice_number,
        amount: request.amount_outstanding,
        currency: request.currency,
    };
    let url = page.and_then(|p| p.payment_url.as_ref()).map(|url| url.fill(&filling));
    let bank = page.and_then(|p| p.bank_transfer.as_ref());
    html! {
        section.how aria-labelledby="how-to-pay" {
            h2 #how-to-pay { "How to pay" }
            @if let Some(url) = &url {
                a.pay href=(url) rel="noopener noreferrer" { "Pay " (amount(request)) " online" }
            }
            @if let Some(bank) = bank {
                h3 { "By bank transfer" }
                dl {
                    dt { "Bank" } dd { (bank.bank_name.as_str()) }
                    @if let Some(holder) = &bank.account_holder {
                        dt { "Account holder" } dd { (holder.as_str()) }
                    }
                    dt { "Account number" } dd { (bank.account_number.as_str()) }
                    @if let Some(branch) = &bank.branch_code {
                        dt { "Branch code" } dd { (branch.as_str()) }
                    }
                    dt { "Reference" } dd.reference { strong { (bank.reference.fill(&filling)) } }
                }
                p.hint { "Please quote the reference exactly, so that your payment is matched to this invoice." }
            }
            @if url.is_none() && bank.is_none() {
                p { "Please contact " (name) " to arrange payment of this invoice." }
            }
        }
    }
}

fn request_page(link: &PublicLink) -> Markup {
    let (request, page) = (&link.request, link.page.as_ref());
    let name = page.and_then(|p| p.display_name.as_ref()).unwrap_or(&link.merchant.name).as_str();
    let (notice, label) = match request.status {
        PaymentStatus::Paid => {
            (Some("This invoice has been paid. Thank you. Nothing more is owed on it."), "Amount paid")
        }
        PaymentStatus::Cancelled => (Some("This payment request has been cancelled. Nothing is owed on it."), "Amount"),
        PaymentStatus::Created | PaymentStatus::Viewed => (None, "Amount due"),
    };
    let email = page.and_then(|p| p.contact_email.as_ref());
    let phone = page.and_then(|p| p.contact_phone.as_ref());
    frame(
        &format!("Invoice {} from {name}", request.invoice_number.as_str()),
        html! {
            h1 { "Payment request from " (name) }
            @if email.is_some() || phone.is_some() {
                p.contact {
                    @if let Some(email) = email {
                        a href={ "mailto:" (email.as_str()) } { (email.as_str()) }
                    }
                    @if let (Some(_), Some(_)) = (email, phone) { " · " }
                    @if let Some(phone) = phone {
                        a href={ "tel:" (dialable(phone.as_str())) } { (phone.as_str()) }
                    }
                }
            }
            @if let Some(notice) = notice {
                p.notice role="status" { (notice) }
            }
            p.label { (label) }
            p.amount data-amount=(request.amount_outstanding.to_string()) { (amount(request)) }
            dl {
                dt { "Invoice" } dd { (request.invoice_number.as_str()) }
                @if let Some(date) = request.debt_date {
                    dt { "Debt date" } dd { (format_date(date)) }
                }
                dt { "Status" } dd.status { (status_words(request.status)) }
            }
            @if let Some(url) = &request.url_to_document {
                a.document href=(url.as_str()) rel="noopener noreferrer" { "View the invoice document" }
            }
            @if notice.is_none() {
                (instructions(name, request, page))
            }
        },
    )
}

fn not_found() -> Response {
    let page = frame(
        "Payment request not found",
        html! {
            h1 { "This payment link is not valid" }
            p { "The link may be mistyped, or the request may no longer exist. Please check the message you received, or contact the sender." }
        },
    );
    (StatusCode::NOT_FOUND, page).into_response()
}

/// Too many pages opened from one address: a page that says so, with `Retry-After`.
fn too_many(failure: &Refusal) -> Response {
    let page = frame(
        "Please wait a moment",
        html! { h1 { "Too many requests" } p { "Too many pages were opened from your network. Please try again in a minute." } },
    );
    (StatusCode::TOO_MANY_REQUESTS, clientele_http::AuthHeaders::of(failure), page).into_response()
}

/// Refuses an oversize request head with a page of its own.
pub(crate) async fn limit_head(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    match clientele_http::check_head(request.uri(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(error) => {
            let page = frame(
                "Request too large",
                html! { h1 { "This link could not be opened" } p { "The request was too large. Please open the link as you received it." } },
            );
            (StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST), page).into_response()
        }
    }
}

/// A debtor's view of a payment request.
#[utoipa::path(get, path = "/pay/{public_access_guid}", tag = "duengage", security(()),
    params(("public_access_guid" = String, Path, description = "The request's PublicAccessGuid (32 hex digits)")),
    responses(
        (status = 200, description = "The page: the merchant's name and contact details, the amount due, the invoice, its debt date, the document link, its status in words for the debtor, and (while owed) how to pay: a pay button and/or bank details with the reference to quote, as the merchant set them up at /v1/merchant/payment-page", content_type = "text/html"),
        (status = 404, description = "A friendly page: no such request", content_type = "text/html"),
        (status = 429, description = "A friendly page: too many pages opened from the client's address", content_type = "text/html",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
pub(crate) async fn public_page(
    State(state): State<AppState>,
    client: ClientAddress,
    Path(guid): Path<String>,
) -> Response {
    // Needs no credential, so its budget is the caller's address's: guessing links is slow.
    if let Err(failure) = client.charge_public() {
        return too_many(&failure);
    }
    let Some(guid) = PublicAccessGuid::parse(&guid) else { return not_found() };
    let page = match state.registry.open_payment_page(guid).await {
        Ok(link) => request_page(&link),
        Err(Refusal::NotFound) => return not_found(),
        Err(error) => {
            tracing::error!(error = %error, "public page failed");
            let page = frame(
                "Please try again",
                html! { h1 { "Something went wrong" } p { "Please try again in a moment." } },
            );
            return (StatusCode::INTERNAL_SERVER_ERROR, page).into_response();
        }
    };
    let headers = [
        (CACHE_CONTROL, "no-store"),
        (CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"),
    ];
    (headers, page).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped_with_two_places() {
        let sample = |text: &str| {
            let mut request = PaymentRequest::new(
                clientele_domain::user::UserId::generate(),
                clientele_domain::payment::PaymentTerms {
                    invoice_number: clientele_domain::payment::InvoiceNumber::parse("i", "1").unwrap(),
                    segment: clientele_domain::payment::Segment::parse("s", "s").unwrap(),
                    amount_outstanding: clientele_domain::money::Money::parse("a", text).unwrap(),
                    currency: clientele_domain::payment::Currency::Zar,
                    channel: clientele_domain::payment::Channel::Web,
                    debt_date: None,
                    url_to_document: None,
                    debt_meta: Default::default(),
                },
                time::OffsetDateTime::UNIX_EPOCH,
            );
            request.status = PaymentStatus::Created;
            amount(&request)
        };
        assert_eq!(sample("1520.75"), "ZAR 1,520.75");
        assert_eq!(sample("1234567"), "ZAR 1,234,567.00");
        assert_eq!(sample("0.5"), "ZAR 0.50");
    }
}
