//! The OpenAPI document, generated from the handlers' annotations and served at
//! `/openapi.json` (rendered at `/docs`).

use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// The document's frame; the paths are added by the routers that serve them.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Clientele",
        description = "A customer registry for payment, debit-order and loyalty platforms. \
Every request except the operations endpoints and the token exchange needs an API key or an \
access token in `Authorization`, with or without the `Bearer ` prefix.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "auth", description = "Exchanging API keys for access tokens"),
        (name = "merchants", description = "Merchants (tenants) and the platform's view of them"),
        (name = "api-keys", description = "A merchant's API keys"),
        (name = "interaction-points", description = "Registered tills, shops and channels"),
        (name = "properties", description = "Custom property definitions"),
        (name = "users", description = "The registry's users (customers)"),
        (name = "contracts", description = "Debit-order contracts and their derived schedules"),
        (name = "payment-requests", description = "Once-off payment requests and their public links"),
        (name = "convercus", description = "The Convercus Users API, drop-in: camelCase bodies, `interaction-id` \
on every call, errors as `{timestamp, status, error, message, errors}`"),
        (name = "realpay", description = "RealPay Maintain OMNI Users, drop-in: batches of up to 1000 users with \
contracts, per-item Successful/Failed, the APIResponse envelope with a per-merchant CallSequence"),
        (name = "gateway", description = "A payment gateway's create-user, drop-in: `{isSuccess, errors}` answers \
keyed by PascalCase field names"),
        (name = "duengage", description = "DuEngage once-off payments (ServiceStack: JSON and JSV), and the public \
payment page"),
        (name = "operations", description = "Health, readiness and metrics"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("API key (clt_...) or JWT access token")
                    .build(),
            ),
        );
    }
}
