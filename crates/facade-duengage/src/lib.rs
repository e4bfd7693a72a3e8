//! DuEngage's `POST /onceoffpayment` (a ServiceStack service: JSON and JSV in and out),
//! drop-in, and the public payment page a debtor opens from the request's link. This crate
//! translates; the rules are the core's.

mod case;
mod date;
mod error;
mod format;
mod page;
mod routes;
#[cfg(test)]
mod tests;
mod types;

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

use clientele_domain::credential::Role;
use clientele_domain::money::Money;
use clientele_domain::payment::{Channel, Currency, DocumentUrl, InvoiceNumber, PaymentTerms, Segment, parse_meta};
use clientele_domain::user::{
    Address, AddressLine, CustomerRef, Email, NationalId, PassportNumber, PersonName, Phone, Place, PostalCode,
    Surface, UserFields,
};
use clientele_domain::{FieldError, ValidationErrors, Violation};
use clientele_http::wire::{DecimalText, Text};
use clientele_http::{AppState, Tag, body_rejection, idempotency_request};
use clientele_service::{Debtor, Idempotent, Refusal, Requested, WriteOptions};

pub use case::TextCase;
pub use error::ServiceStackError;
pub use format::{Answer, Format};

/// DuEngage's once-off payments, as changes through them are recorded.
pub const SURFACE: Surface = Surface::named("duengage");

/// The DuEngage surface (ServiceStack), with the public payment page.
#[derive(Debug, Clone, Copy, Default)]
pub struct DuEngage;

impl clientele_http::Surface for DuEngage {
    /// The routes (with ServiceStack's `.json` and `.jsv` suffixes) and the public page,
    /// documented under the `duengage` tag.
    fn router(&self) -> OpenApiRouter<AppState> {
        let service = routes::router().route_layer(axum::middleware::from_fn(guard));
        let page = OpenApiRouter::new()
            .routes(utoipa_axum::routes!(page::public_page))
            .routes(utoipa_axum::routes!(types::types_csharp))
            .routes(utoipa_axum::routes!(types::types_typescript))
            .routes(utoipa_axum::routes!(types::types_metadata))
            .routes(utoipa_axum::routes!(types::metadata_page))
            .route_layer(axum::middleware::from_fn(page::limit_head));
        service.merge(page)
    }

    /// Its error body is negotiated (JSON or JSV), so the document names no schema for it.
    fn tags(&self) -> Vec<Tag> {
        vec![Tag {
            name: "duengage",
            description: "DuEngage once-off payments (ServiceStack: JSON and JSV), and the public payment page",
            errors: None,
            rate_limited: true,
        }]
    }

    fn render(&self, refusal: Refusal) -> Response {
        ServiceStackError::from(refusal).answer(Format::Json)
    }

    /// ServiceStack matches routes and operation names without regard to case.
    fn route_of(&self, path: &str) -> Option<&'static str> {
        routes::route_of(path)
    }
}

/// Refuses an oversize request head, then an address over its failed-authentication budget,
/// and runs the request inside a credential fence, all in ServiceStack's format, JSON or JSV
/// as asked.
async fn guard(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let format = Answer::of(request.uri(), request.headers());
    match clientele_http::check_head(request.uri(), request.headers()) {
        Ok(()) => {
            let run =
                |request| clientele_http::fenced(request, next, |error| ServiceStackError::from(error).answer(format));
            clientele_http::screen(request, run, |failure| ServiceStackError::from(failure).answer(format)).await
        }
        Err(error) => ServiceStackError::from(error).answer(format),
    }
}

/// A once-off payment request, as DuEngage's clients send it (JSON, JSV or a form), its
/// members named without regard to case.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct OnceOffPayment {
    #[schema(value_type = Text)]
    segment: Option<Text>,
    #[schema(value_type = Text)]
    first_name: Option<Text>,
    #[schema(value_type = Text)]
    last_name: Option<Text>,
    #[schema(value_type = Option<Text>)]
    address: Option<Text>,
    #[schema(value_type = Option<Text>)]
    city: Option<Text>,
    #[schema(value_type = Option<Text>)]
    region: Option<Text>,
    #[schema(value_type = Option<Text>)]
    suburb: Option<Text>,
    #[schema(value_type = Option<Text>)]
    postal_code: Option<Text>,
    #[schema(value_type = Option<Text>)]
    mobile_number: Option<Text>,
    #[schema(value_type = Option<Text>)]
    email: Option<Text>,
    #[schema(value_type = Option<Text>)]
    id_number: Option<Text>,
    #[schema(value_type = Option<Text>)]
    passport_number: Option<Text>,
    #[schema(value_type = Text)]
    invoice_number: Option<Text>,
    /// A date: `YYYY-MM-DD`, an ISO 8601 or XSD date-time (the date as written), or
    /// `/Date(ms)/` / `/Date(ms±hhmm)/`; `0001-01-01` is no date.
    #[schema(value_type = Option<Text>)]
    debt_date: Option<Text>,
    /// An amount with at most two decimal places.
    #[schema(value_type = f64)]
    amount_outstanding: Option<DecimalText>,
    /// 1 ZAR, 2 USD, 3 EUR, 4 GBP, 5 NAD, 6 BWP, 7 KES, 8 NGN.
    #[schema(value_type = i64)]
    currencies_id: Option<Text>,
    /// 1 sms, 2 email, 3 whatsapp, 4 web, 5 letter.
    #[schema(value_type = i64)]
    channels_id: Option<Text>,
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    debt_meta: Option<BTreeMap<String, Text>>,
    /// A key that names one of the merchant's active custom properties sets it (typed);
    /// every other key goes into the user's free-form metadata (at most 50 keys, a key at
    /// most 40 characters, a value at most 500).
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    customers_meta: Option<BTreeMap<String, Text>>,
    #[schema(value_type = Option<Text>)]
    url_to_document: Option<Text>,
    /// The merchant's own reference of the customer.
    #[schema(value_type = Option<Text>)]
    customer_unique_identifier: Option<Text>,
}

impl OnceOffPayment {
    /// Its members, as ServiceStack names them; a request's names are folded to these.
    const MEMBERS: &'static [&'static str] = &[
        "Segment",
        "FirstName",
        "LastName",
        "Address",
        "City",
        "Region",
        "Suburb",
        "PostalCode",
        "MobileNumber",
        "Email",
        "IdNumber",
        "PassportNumber",
        "InvoiceNumber",
        "DebtDate",
        "AmountOutstanding",
        "CurrenciesId",
        "ChannelsId",
        "DebtMeta",
        "CustomersMeta",
        "UrlToDocument",
        "CustomerUniqueIdentifier",
    ];
}

/// The `CustomersMeta` entries as sent, key and value.
type MetaEntries = Vec<(String, String)>;

fn text(value: &Option<Text>) -> Option<&str> {
    value.as_ref().map(|t| t.as_str().trim()).filter(|t| !t.is_empty())
}

fn required<'a>(errors: &mut ValidationErrors, name: &str, value: Option<&'a str>) -> Option<&'a str> {
    if value.is_none() {
        errors.push(FieldError::new(name, Violation::Required));
    }
    value
}

impl OnceOffPayment {
    /// The debtor, the `CustomersMeta` entries as sent (which the core splits into property
    /// values and metadata), the terms, and every refused field.
    fn translate(&self) -> Result<(UserFields, MetaEntries, PaymentTerms), ValidationErrors> {
        let mut e = ValidationErrors::default();
        let segment =
            required(&mut e, "Segment", text(&self.segment)).and_then(|v| e.take(Segment::parse("Segment", v)));
        let first = required(&mut e, "FirstName", text(&self.first_name))
            .and_then(|v| e.take(PersonName::parse("FirstName", v)));
        let last =
            required(&mut e, "LastName", text(&self.last_name)).and_then(|v| e.take(PersonName::parse("LastName", v)));
        let invoice = required(&mut e, "InvoiceNumber", text(&self.invoice_number))
            .and_then(|v| e.take(InvoiceNumber::parse("InvoiceNumber", v)));
        let amount = required(&mut e, "AmountOutstanding", self.amount_outstanding.as_ref().map(|a| a.0.as_str()))
            .and_then(|v| e.take(Money::parse("AmountOutstanding", v)));
        let currency = required(&mut e, "CurrenciesId", text(&self.currencies_id))
            .and_then(|v| e.take(Currency::parse_code("CurrenciesId", v)));
        let channel = required(&mut e, "ChannelsId", text(&self.channels_id))
            .and_then(|v| e.take(Channel::parse_code("ChannelsId", v)));
        let debt_date = text(&self.debt_date).and_then(|v| e.take(date::service_stack_date("DebtDate", v))).flatten();
        let url = text(&self.url_to_document).and_then(|v| e.take(DocumentUrl::parse("UrlToDocument", v)));
        let meta: BTreeMap<String, String> =
            self.debt_meta.iter().flatten().map(|(k, v)| (k.clone(), v.as_str().to_owned())).collect();
        let meta = e.take(parse_meta("DebtMeta", &meta));
        let email = text(&self.email).and_then(|v| e.take(Email::parse("Email", v)));
        let mobile = text(&self.mobile_number).and_then(|v| e.take(Phone::parse("MobileNumber", v, None)));
        let id_number = text(&self.id_number).and_then(|v| e.take(NationalId::parse("IdNumber", v)));
        let passport = text(&self.passport_number).and_then(|v| e.take(PassportNumber::parse("PassportNumber", v)));
        let street = text(&self.address).and_then(|v| e.take(AddressLine::parse("Address", v)));
        let city = text(&self.city).and_then(|v| e.take(Place::parse("City", v)));
        let region = text(&self.region).and_then(|v| e.take(Place::parse("Region", v)));
        let suburb = text(&self.suburb).and_then(|v| e.take(Place::parse("Suburb", v)));
        let postal = text(&self.postal_code).and_then(|v| e.take(PostalCode::parse("PostalCode", v)));
        let customer = text(&self.customer_unique_identifier)
            .and_then(|v| e.take(CustomerRef::parse("CustomerUniqueIdentifier", v)));
        e.into_result()?;
        let (Some(segment), Some(invoice), Some(amount), Some(currency), Some(channel), Some(meta)) =
            (segment, invoice, amount, currency, channel, meta)
        else {
            return Err(ValidationErrors::default());
        };
        let fields = UserFields {
            customer_ref: customer,
            given_name: first,
            family_name: last,
            email,
            phone: mobile,
            national_id: id_number,
            passport_number: passport,
            address: Address { street, suburb, city, region, postal_code: postal },
            ..UserFields::default()
        };
        let terms = PaymentTerms {
            invoice_number: invoice,
            segment,
            amount_outstanding: amount,
            currency,
            channel,
            debt_date,
            url_to_document: url,
            debt_meta: meta,
        };
        let meta = self.customers_meta.iter().flatten().map(|(k, v)| (k.clone(), v.as_str().to_owned())).collect();
        Ok((fields, meta, terms))
    }
}

/// The answer to a payment request, new or asked for again: the document's three members
/// (its `ResponseStatus` is for errors only).
fn answer(requested: &Requested) -> serde_json::Value {
    let (Requested::Created(request) | Requested::Existing(request)) = requested;
    json!({
        "PublicAccessGuid": request.public_access_guid.to_string(),
        "InvoiceNumber": request.invoice_number.as_str(),
        "StatusCodesId": request.status.code(),
    })
}

async fn handle(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    answer_format: Answer,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServiceStackError> {
    let principal = clientele_http::authenticate(state, headers).await?;
    let merchant = principal.merchant(Role::Client)?;
    let bytes = body.map_err(body_rejection)?;
    let request: OnceOffPayment = format::read_body(headers, &bytes, OnceOffPayment::MEMBERS)?;
    let (mut fields, meta, terms) = request.translate().map_err(ServiceStackError::invalid)?;
    let meta: Vec<(&str, &str)> = meta.iter().map(|(key, value)| (key.as_str(), value.as_str())).collect();
    let (properties, metadata) = state.registry.split_meta(merchant, "CustomersMeta", &meta).await?;
    fields.metadata = metadata;
    // The answer's format is part of the request: a repeat in another format is another request.
    let path = format!("{}#{answer_format:?}", uri.path_and_query().map_or(uri.path(), |p| p.as_str()));
    let idempotency = idempotency_request(headers, &Method::POST, &path, &bytes)?;
    let origin = principal.origin(SURFACE);
    let render = |requested: &Requested| answer_format.stored(StatusCode::OK, &answer(requested));
    let idempotent = idempotency.as_ref().map(|request| Idempotent { request, answer: &render });
    let debtor = Debtor { fields, properties };
    let written =
        state.registry.request_payment(merchant, debtor, terms, WriteOptions::from(&origin), idempotent).await?;
    Ok(clientele_http::respond(written.answer(render)))
}

/// The answer to a once-off payment request sent to `uri`.
pub(crate) async fn respond(
    state: AppState,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let format = Answer::of(&uri, &headers);
    match handle(&state, &uri, &headers, format, body).await {
        Ok(answer) => answer,
        Err(error) => error.answer(format),
    }
}
