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
use clientele_domain::merchant::MerchantId;
use clientele_domain::user::{
    Address, AddressLine, CustomerRef, Email, Origin, Phone, PostalCode, Surface, UserFields,
};
use clientele_domain::{FieldError, ValidationErrors, Violation};
use clientele_http::wire::Text;
use clientele_http::{AppState, AuthFailure, BodyError, HeadError, JsonBody, idempotency_request, respond};
use clientele_service::{AuthError, NewUser, UserError, WriteOptions};
use clientele_store::{StoreError, StoredResponse, Unique};

/// The gateway's route, documented under the `gateway` tag.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user))
        .route_layer(axum::middleware::from_fn(clientele_http::guard::<GatewayError>))
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

impl From<BodyError> for GatewayError {
    fn from(error: BodyError) -> Self {
        match error {
            BodyError::Malformed(detail) => GatewayError::keyed(StatusCode::BAD_REQUEST, "$", detail),
            BodyError::Invalid(errors) => field_errors(errors),
            BodyError::TooLarge => {
                GatewayError::keyed(StatusCode::PAYLOAD_TOO_LARGE, "$", "The request body is too large.")
            }
            BodyError::UnsupportedMediaType => {
                GatewayError::keyed(StatusCode::UNSUPPORTED_MEDIA_TYPE, "$", "Content-Type must be application/json.")
            }
        }
    }
}

impl From<HeadError> for GatewayError {
    fn from(error: HeadError) -> Self {
        let key = match error {
            HeadError::UriTooLong => "UriTooLong",
            HeadError::HeadersTooLarge => "RequestHeaderFieldsTooLarge",
        };
        GatewayError::keyed(error.status(), key, format!("{}.", capitalised(&error.to_string())))
    }
}

impl From<StoreError> for GatewayError {
    fn from(error: StoreError) -> Self {
        if let StoreError::KeyRevoked = error {
            // The same answer as a key found revoked when the request came in.
            return AuthFailure::Auth(AuthError::Invalid).into();
        }
        if let StoreError::NotFound = error {
            // A repeat of a create whose user was erased since: the user is gone.
            return GatewayError::keyed(StatusCode::NOT_FOUND, "NotFound", "The user was not found.");
        }
        if let StoreError::Other(cause) = &error {
            tracing::error!(error = %cause, "request failed");
        }
        GatewayError::keyed(StatusCode::INTERNAL_SERVER_ERROR, "Exception", "The request could not be completed.")
    }
}

impl From<AuthFailure> for GatewayError {
    fn from(failure: AuthFailure) -> Self {
        match failure {
            AuthFailure::Auth(AuthError::Store(error)) => error.into(),
            AuthFailure::Auth(ref error) => GatewayError {
                headers: failure.headers(),
                ..GatewayError::keyed(StatusCode::UNAUTHORIZED, "Unauthorized", error.to_string())
            },
            AuthFailure::RateLimited { retry_after_seconds } => GatewayError {
                headers: failure.headers(),
                ..GatewayError::keyed(
                    StatusCode::TOO_MANY_REQUESTS,
                    "TooManyRequests",
                    format!("Rate limit reached; retry in {retry_after_seconds} s."),
                )
            },
        }
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
    /// The user and its contract, and every refused field; the merchant id is checked by the
    /// caller.
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
        let mut one = |name: &str, value: Option<String>, parse: &dyn Fn(&str, &str) -> Result<(), FieldError>| {
            value.filter(|v| errors.take(parse(name, v)).is_some())
        };
        let email = one("contactInfo.email", text(info.map(|i| &i.email)), &|n, v| Email::parse(n, v).map(drop));
        let phone = one("contactInfo.phoneNumber", text(info.map(|i| &i.phone_number)), &|n, v| {
            Phone::parse(n, v, None).map(drop)
        });
        let address =
            one("contactInfo.address", text(info.map(|i| &i.address)), &|n, v| AddressLine::parse(n, v).map(drop));
        let zip =
            one("contactInfo.zipCode", text(info.map(|i| &i.zip_code)), &|n, v| PostalCode::parse(n, v).map(drop));
        errors.into_result()?;
        let (Some(merchant_id), Some(customer), Some(contract)) = (merchant_id, customer, contract) else {
            return Err(ValidationErrors::default());
        };
        let fields = UserFields {
            customer_ref: Some(customer),
            email: email.and_then(|e| Email::parse("", &e).ok()),
            phone: phone.and_then(|p| Phone::parse("", &p, None).ok()),
            address: Address {
                street: address.and_then(|a| AddressLine::parse("", &a).ok()),
                postal_code: zip.and_then(|z| PostalCode::parse("", &z).ok()),
                ..Address::default()
            },
            ..UserFields::default()
        };
        Ok((merchant_id, NewUser { fields, contract: Some((contract, None)) }))
    }
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
    let merchant = principal.merchant(Role::Client).map_err(|_| {
        GatewayError::keyed(StatusCode::FORBIDDEN, "Forbidden", "This credential may not create users.")
    })?;
    let (merchant_id, new) = body.value.translate().map_err(field_errors)?;
    // Another merchant's id is refused exactly as one that does not exist.
    if merchant_id.parse::<MerchantId>().ok() != Some(merchant) {
        return Err(GatewayError::keyed(
            StatusCode::BAD_REQUEST,
            "MerchantId",
            format!("Merchant {merchant_id} was not found."),
        ));
    }
    let customer_id = new.fields.customer_ref.as_ref().map(|c| c.as_str().to_owned()).unwrap_or_default();
    let contract_number = new.contract.as_ref().map(|(n, _)| n.as_str().to_owned()).unwrap_or_default();
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let idempotency = idempotency_request(&headers, &method, path, &body.raw).map_err(|e| field_errors(e.into()))?;
    let origin = Origin { surface: Surface::Gateway, interaction_point: None };
    let options = WriteOptions { origin: &origin, if_version: None, idempotency: idempotency.as_ref() };
    let created = state.registry.create_user_with_contract(merchant, new, options, |_, _| success()).await;
    let exists = |what: &str, id: &str| {
        GatewayError::keyed(
            StatusCode::BAD_REQUEST,
            "InvalidOperationException",
            format!("{what} already exists: {merchant_id} {id}"),
        )
    };
    match created {
        Ok(answer) => Ok(respond(answer)),
        Err(UserError::Store(StoreError::Conflict(Unique::CustomerRef))) => Err(exists("User", &customer_id)),
        Err(UserError::Store(StoreError::Conflict(Unique::ContractNumber))) => {
            Err(exists("Contract", &contract_number))
        }
        Err(UserError::Store(error)) => Err(error.into()),
        Err(UserError::Invalid(errors)) => Err(field_errors(errors)),
        Err(error @ (UserError::KeyReused | UserError::KeyInFlight)) => {
            Err(GatewayError::keyed(StatusCode::CONFLICT, "IdempotencyKey", error.to_string()))
        }
    }
}
