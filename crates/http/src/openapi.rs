//! The OpenAPI document, generated from the handlers' annotations and served at
//! `/openapi.json` (rendered at `/docs`).

use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::Type;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::Tag;

/// The document's frame: what it is about and how callers authenticate. The surfaces add
/// their paths and tags.
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
    security(("bearer" = []))
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

/// The header of every 401.
const CHALLENGE: (&str, &str, Type) = (
    "WWW-Authenticate",
    "`Bearer realm=\"clientele\"`; with `error=\"invalid_token\"` and `error_description` when a credential \
was sent and not accepted",
    Type::String,
);
/// The header of every 429.
const RETRY_AFTER: (&str, &str, Type) = ("Retry-After", "Seconds to wait", Type::Integer);

/// Completes the document with the surfaces' tags, and with what every operation can answer
/// besides what its handler documents: the refusals of the layers every surface shares
/// (authentication, the rate limit, the request head, body limits and content type,
/// malformed bodies), each in the error format of its tag's surface. A response an
/// operation documents itself is left as it is.
pub(crate) fn complete(mut doc: utoipa::openapi::OpenApi, tags: &[Tag]) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::security::SecurityRequirement;

    doc.tags = Some(
        tags.iter()
            .map(|tag| {
                utoipa::openapi::tag::TagBuilder::new().name(tag.name).description(Some(tag.description)).build()
            })
            .collect(),
    );
    let error_format = |name: &str| {
        tags.iter().find(|tag| tag.name == name).and_then(|tag| tag.errors).map(|e| (e.content_type, e.schema))
    };

    for item in doc.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            // `security(())` marks the operations that need no credential.
            let secured = operation
                .security
                .as_ref()
                .is_none_or(|requirements| !requirements.iter().all(|r| *r == SecurityRequirement::default()));
            let tag = operation.tags.as_ref().and_then(|tags| tags.first()).map(String::as_str);
            let format = tag.and_then(error_format);
            let limited = tag.is_none_or(|tag| tags.iter().any(|t| t.name == tag && t.rate_limited));
            let responses = &mut operation.responses.responses;
            let mut add = |status: &str, description: &str, headers: &[(&str, &str, Type)]| {
                responses.entry(status.to_owned()).or_insert_with(|| {
                    let mut response = utoipa::openapi::ResponseBuilder::new().description(description);
                    if let Some((content_type, schema)) = format {
                        response = response.content(
                            content_type,
                            utoipa::openapi::Content::new(Some(utoipa::openapi::Ref::from_schema_name(schema))),
                        );
                    }
                    for (name, description, kind) in headers {
                        let header = utoipa::openapi::HeaderBuilder::new()
                            .schema(utoipa::openapi::Object::with_type(kind.clone()))
                            .description(Some(*description));
                        response = response.header(*name, header.build());
                    }
                    response.into()
                });
            };
            if secured {
                add("401", "No credential, or one that is not valid", &[CHALLENGE]);
                add("403", "The credential does not allow this", &[]);
            }
            if limited {
                // Every surface route: the key's rate limit, or its address's failed authentications.
                add(
                    "429",
                    "A rate limit is reached: the key's, or the client address's after failed authentications",
                    &[RETRY_AFTER],
                );
            }
            add("414", "The request target is over the size limit (8 KiB)", &[]);
            add("431", "The request's header fields are over the size limit (32 KiB)", &[]);
            let parameters = operation.parameters.as_deref().unwrap_or_default();
            let has = |name: &str| parameters.iter().any(|p| p.name.eq_ignore_ascii_case(name));
            if operation.request_body.is_some() {
                add("400", "The body is malformed or invalid", &[]);
                add("413", "The body is over the size limit", &[]);
                add("415", "The body's content type is not one this operation reads", &[]);
            }
            if parameters.iter().any(|p| !matches!(p.parameter_in, ParameterIn::Path)) {
                add("400", "A parameter is missing, malformed or invalid", &[]);
            }
            if has("Idempotency-Key") {
                add("409", "A request with this Idempotency-Key is still being processed", &[]);
                add("422", "This Idempotency-Key was used for a different request", &[]);
            }
            if has("If-Match") {
                add("412", "The resource is not at the version If-Match names", &[]);
            }
            // Every 401 challenges, as RFC 6750 says, also where the handler documents it.
            if let Some(utoipa::openapi::RefOr::T(unauthorized)) = responses.get_mut("401") {
                unauthorized.headers.entry(CHALLENGE.0.to_owned()).or_insert_with(|| {
                    utoipa::openapi::HeaderBuilder::new()
                        .schema(utoipa::openapi::Object::with_type(Type::String))
                        .description(Some(CHALLENGE.1))
                        .build()
                });
            }
        }
    }
    doc
}
