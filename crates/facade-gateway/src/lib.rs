//! A payment gateway's `POST /api/v1/create-user`, drop-in: registers a customer (its
//! `customerId` is the user's customer reference) with a contract number and contact
//! details, before cards or payments. Answers are `{"isSuccess": ...}` with `errors` keyed
//! by the document's PascalCase field names. This crate translates; the rules are the core's.

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use clientele_domain::contract::ContractNumber;
use clientele_domain::credential::Role;
use clientele_domain::user::{Address, AddressLine, CustomerRef, Email, Phone, PostalCode, Surface, UserFields};
use clientele_domain::{FieldError, ValidationErrors, Violation};
use clientele_http::wire::Text;
use clientele_http::{AppState, ErrorBody, JsonBody, Tag, idempotency_request, respond};
use clientele_service::{
    CreatedUser, Idempotent, MerchantRef, NewUser, Oversize, Refusal, StoredResponse, Unique, WriteOptions,
};

#[cfg(test)]
mod tests;

/// The gateway's create-user, as changes through it are recorded.
pub const SURFACE: Surface = Surface::named("gateway");

/// The payment gateway surface.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gateway;

impl clientele_http::Surface for Gateway {
    /// The route, documented under the `gateway` tag.
    fn router(&self) -> OpenApiRouter<AppState> {
        OpenApiRouter::new()
            .routes(routes!(create_user))
            .route_layer(axum::middleware::from_fn(clientele_http::guard::<GatewayError>))
    }

    fn tags(&self) -> Vec<Tag> {
        vec![Tag {
            name: "gateway",
            description: "A payment gateway's create-user, drop-in: `{isSuccess, errors}` answers keyed by PascalCase \
field names",
            errors: Some(ErrorBody { content_type: "application/json", schema: "GatewayAnswer" }),
            rate_limited: true,
        }]
    }

    fn render(&self, refusal: Refusal) -> Response {
        GatewayError::from(refusal).into_response()
    }
}

/// One error: a key (a field's PascalCase name, or an exception's) and its messages.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyedError {
    #[schema(example = "ContractNumber")]
    key: String,
    #[schema(example = json!(["ContractNumber must be at most 20 characters."]))]
    value: Vec<String>,
}

/// Every answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GatewayAnswer {
    is_success: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<KeyedError>,
}

/// A refused call, in the gateway's shape.
#[derive(Debug)]
pub struct GatewayError {
    status: StatusCode,
    errors: Vec<KeyedError>,
    /// `WWW-Authenticate` on a 401, `Retry-After` on a 429.
    headers: clientele_http::AuthHeaders,
}

impl GatewayError {
    fn keyed(status: StatusCode, key: &str, message: impl Into<String>) -> Self {
        GatewayError {
            status,
            errors: vec![KeyedError { key: key.to_owned(), value: vec![message.into()] }],
            headers: clientele_http::AuthHeaders::default(),
        }
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let answer = GatewayAnswer { is_success: false, errors: self.errors };
        (self.status, self.headers, axum::Json(answer)).into_response()
    }
}

/// A field's refusal worded as the document words it ("ContractNumber must be at most 20
/// characters."), every message of a field under one key.
fn field_errors(errors: ValidationErrors) -> GatewayError {
    let mut keyed: Vec<KeyedError> = Vec::new();
    for error in errors.0 {
        // A refusal of the body as a whole is keyed `$`, as a malformed body is.
        let key = if error.field.is_empty() { "$".to_owned() } else { pascal(&error.field) };
        let message = match &error.violation {
            other if error.field.is_empty() => format!("{other}."),
            Violation::Required | Violation::Empty => format!("{key} is required."),
            Violation::TooLong { max } => format!("{key} must be at most {max} characters."),
            Violation::UnknownField => format!("{key} is not a field of this request."),
            other => format!("{key} {other}."),
        };
        match keyed.iter_mut().find(|k| k.key == key) {
            Some(existing) => existing.value.push(message),
            None => keyed.push(KeyedError { key, value: vec![message] }),
        }
    }
    GatewayError { status: StatusCode::BAD_REQUEST, errors: keyed, headers: clientele_http::AuthHeaders::default() }
}

/// `contactInfo.zipCode` → `ContactInfo.ZipCode`.
fn pascal(path: &str) -> String {
    path.split('.').map(capitalised).collect::<Vec<_>>().join(".")
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}

impl<E: Into<Refusal>> From<E> for GatewayError {
    /// Every refusal, keyed as the gateway keys its errors.
    fn from(refusal: E) -> Self {
        let refusal = refusal.into();
        let headers = clientele_http::AuthHeaders::of(&refusal);
        let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let error = match refusal {
            Refusal::Invalid(errors) => return field_errors(errors),
            Refusal::Malformed(detail) => GatewayError::keyed(status, "$", detail),
            Refusal::TooLarge => GatewayError::keyed(status, "$", "The request body is too large."),
            Refusal::UnsupportedMediaType => GatewayError::keyed(status, "$", "Content-Type must be application/json."),
            Refusal::Oversize(oversize) => {
                let key = match oversize {
                    Oversize::Uri { .. } => "UriTooLong",
                    Oversize::Headers { .. } => "RequestHeaderFieldsTooLarge",
                };
                GatewayError::keyed(status, key, format!("{}.", capitalised(&oversize.to_string())))
            }
            Refusal::Unauthenticated(error) => GatewayError::keyed(status, "Unauthorized", error.to_string()),
            Refusal::RateLimited { retry_after_seconds } => GatewayError::keyed(
                status,
                "TooManyRequests",
                format!("Rate limit reached; retry in {retry_after_seconds} s."),
            ),
            Refusal::Forbidden => GatewayError::keyed(status, "Forbidden", "This credential may not create users."),
            // A repeat of a create whose user was erased since: the user is gone.
            Refusal::NotFound => GatewayError::keyed(status, "NotFound", "The user was not found."),
            Refusal::KeyReused | Refusal::KeyInFlight => {
                GatewayError::keyed(StatusCode::CONFLICT, "IdempotencyKey", refusal.to_string())
            }
            Refusal::Internal(cause) => {
                tracing::error!(error = %cause, "request failed");
                GatewayError::keyed(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Exception",
                    "The request could not be completed.",
                )
            }
            _ => GatewayError::keyed(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Exception",
                "The request could not be completed.",
            ),
        };
        GatewayError { headers, ..error }
    }
}

/// The customer's contact details; all optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"email": "customer@example.com", "phoneNumber": "123456", "address": "address", "zipCode": "123"}))]
pub struct ContactInfo {
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    email: Option<Text>,
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    phone_number: Option<Text>,
    /// At most 512 characters.
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    address: Option<Text>,
    /// At most 16 characters.
    #[serde(default)]
    #[schema(value_type = Option<Text>)]
    zip_code: Option<Text>,
}

/// A customer to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"merchantId": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "customerId": "IdUser",
    "contractNumber": "123456789", "contactInfo": {"email": "customer@example.com", "phoneNumber": "123456",
    "address": "address", "zipCode": "123"}}))]
pub struct CreateUser {
    /// The merchant's id: the caller's own.
    #[serde(default)]
    #[schema(value_type = Text)]
    merchant_id: Option<Text>,
    /// The merchant's own, unique id of the customer: letters and digits, at most 100.
    #[serde(default)]
    #[schema(value_type = Text)]
    customer_id: Option<Text>,
    /// The contract's number: letters and digits, at most 20, unique per merchant.
    #[serde(default)]
    #[schema(value_type = Text)]
    contract_number: Option<Text>,
    #[serde(default)]
    contact_info: Option<ContactInfo>,
}

fn alphanumeric(field: &str, value: &str, max: usize) -> Result<(), FieldError> {
    if value.chars().count() > max {
        return Err(FieldError::new(field, Violation::TooLong { max }));
    }
    if !value.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(FieldError::new(field, Violation::Other("must be alphanumeric".into())));
    }
    Ok(())
}

impl CreateUser {
    /// The merchant id as sent, the user and its contract, and every refused field; the
    /// merchant id is checked by the caller.
    fn translate(&self) -> Result<(String, NewUser), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let required = |errors: &mut ValidationErrors, name: &str, value: &Option<Text>| -> Option<String> {
            let value = value.as_ref().map(|v| v.as_str().trim().to_owned()).filter(|v| !v.is_empty());
            if value.is_none() {
                errors.push(FieldError::new(name, Violation::Required));
            }
            value
        };
        let merchant_id = required(&mut errors, "merchantId", &self.merchant_id);
        let customer = required(&mut errors, "customerId", &self.customer_id).and_then(|c| {
            errors.take(
                alphanumeric("customerId", &c, CustomerRef::MAX).and_then(|()| CustomerRef::parse("customerId", &c)),
            )
        });
        let contract = required(&mut errors, "contractNumber", &self.contract_number)
            .and_then(|n| errors.take(ContractNumber::parse("contractNumber", &n)));
        let info = self.contact_info.as_ref();
        let text = |value: Option<&Option<Text>>| value.and_then(|v| v.as_ref()).map(|v| v.as_str().to_owned());
        let email = text(info.map(|i| &i.email)).and_then(|v| errors.take(Email::parse("contactInfo.email", &v)));
        let phone = text(info.map(|i| &i.phone_number))
            .and_then(|v| errors.take(Phone::parse("contactInfo.phoneNumber", &v, None)));
        let street =
            text(info.map(|i| &i.address)).and_then(|v| errors.take(AddressLine::parse("contactInfo.address", &v)));
        let zip =
            text(info.map(|i| &i.zip_code)).and_then(|v| errors.take(PostalCode::parse("contactInfo.zipCode", &v)));
        errors.into_result()?;
        let (Some(merchant_id), Some(customer), Some(contract)) = (merchant_id, customer, contract) else {
            return Err(ValidationErrors::default());
        };
        let fields = UserFields {
            customer_ref: Some(customer),
            email,
            phone,
            address: Address { street, postal_code: zip, ..Address::default() },
            ..UserFields::default()
        };
        Ok((merchant_id, NewUser { fields, contract: Some((contract, None)) }))
    }
}

/// A merchant id that is not the caller's, answered as the document answers a field.
fn unknown_merchant(merchant_id: &str) -> GatewayError {
    GatewayError::keyed(StatusCode::BAD_REQUEST, "MerchantId", format!("Merchant {merchant_id} was not found."))
}

/// A customer or contract already registered, as the document's "User already exists".
fn exists(what: &str, merchant_id: &str, id: &str) -> GatewayError {
    GatewayError::keyed(
        StatusCode::BAD_REQUEST,
        "InvalidOperationException",
        format!("{what} already exists: {merchant_id} {id}"),
    )
}

fn success() -> StoredResponse {
    let body = serde_json::to_vec(&GatewayAnswer { is_success: true, errors: Vec::new() }).unwrap_or_default();
    StoredResponse { status: 200, headers: vec![("content-type".to_owned(), "application/json".to_owned())], body }
}

/// Create a user (payment gateway): a customer with a contract number and contact details.
#[utoipa::path(post, path = "/api/v1/create-user", tag = "gateway", operation_id = "gateway_create_user",
    request_body = CreateUser,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeats of the request with the same key get the first answer")),
    responses(
        (status = 200, description = "Created", body = GatewayAnswer, example = json!({"isSuccess": true})),
        (status = 400, description = "Invalid fields, or the customer exists", body = GatewayAnswer, example = json!({
            "isSuccess": false,
            "errors": [{"key": "InvalidOperationException", "value": ["User already exists: 3fa85f64-5717-4562-b3fc-2c963f66afa6 IdUser"]}]
        })),
        (status = 401, description = "No valid credential", body = GatewayAnswer),
        (status = 403, description = "A read-only key", body = GatewayAnswer),
        (status = 404, description = "A repeat of an idempotent request whose user was erased since", body = GatewayAnswer),
        (status = 409, description = "The Idempotency-Key was used for another request, or its request is still in flight", body = GatewayAnswer),
    ))]
async fn create_user(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: JsonBody<CreateUser, GatewayError>,
) -> Result<Response, GatewayError> {
    let principal = clientele_http::authenticate(&state, &headers).await?;
    let merchant = principal.merchant(Role::Client)?;
    let (merchant_id, new) = body.value.translate().map_err(field_errors)?;
    // Another merchant's id is refused exactly as one that does not exist.
    state.registry.named_merchant(&principal, MerchantRef::Id(&merchant_id)).await.map_err(
        |refusal| match refusal {
            Refusal::UnknownMerchant => unknown_merchant(&merchant_id),
            other => other.into(),
        },
    )?;
    let customer_id = new.fields.customer_ref.as_ref().map(|c| c.as_str().to_owned()).unwrap_or_default();
    let contract_number = new.contract.as_ref().map(|(n, _)| n.as_str().to_owned()).unwrap_or_default();
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let idempotency = idempotency_request(&headers, &method, path, &body.raw)?;
    let origin = principal.origin(SURFACE);
    let answer = |_: &CreatedUser| success();
    let idempotent = idempotency.as_ref().map(|request| Idempotent { request, answer: &answer });
    let created = state.registry.create_user(merchant, new, WriteOptions::from(&origin), idempotent).await;
    match created {
        Ok(written) => Ok(respond(written.answer(answer))),
        Err(Refusal::Conflict(Unique::CustomerRef)) => Err(exists("User", &merchant_id, &customer_id)),
        Err(Refusal::Conflict(Unique::ContractNumber)) => Err(exists("Contract", &merchant_id, &contract_number)),
        Err(other) => Err(other.into()),
    }
}
