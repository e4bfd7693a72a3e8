//! The routes of the operation: DuEngage's own `/onceoffpayment` and ServiceStack's
//! predefined routes for the operation named `OnceOffPayment` (`/api/{Name}`,
//! `/json/reply/{Name}`, `/jsv/reply/{Name}`, `/json/oneway/{Name}`), with the suffixes
//! ServiceStack has. ServiceStack matches paths without regard to case: the app routes any
//! casing of these to the one written here ([`route_of`]).

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse as _, Response};
use axum::routing::post;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use clientele_http::AppState;

use crate::{OnceOffPayment, respond};

/// Every path of the operation, as routed.
const ROUTES: &[&str] = &[
    "/onceoffpayment",
    "/onceoffpayment.json",
    "/onceoffpayment.jsv",
    "/api/OnceOffPayment",
    "/api/OnceOffPayment.json",
    "/api/OnceOffPayment.jsv",
    "/json/reply/OnceOffPayment",
    "/jsv/reply/OnceOffPayment",
    "/json/oneway/OnceOffPayment",
    "/jsv/oneway/OnceOffPayment",
];

/// The route that `path` names without regard to case.
pub(crate) fn route_of(path: &str) -> Option<&'static str> {
    ROUTES.iter().copied().find(|route| route.eq_ignore_ascii_case(path))
}

/// The documented routes, and the suffixed and JSV one-way variants beside them.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(once_off_payment))
        .routes(routes!(once_off_payment_json))
        .routes(routes!(once_off_payment_jsv))
        .routes(routes!(api))
        .routes(routes!(json_reply))
        .routes(routes!(jsv_reply))
        .routes(routes!(json_oneway))
        .route("/api/OnceOffPayment.json", post(api))
        .route("/api/OnceOffPayment.jsv", post(api))
        .route("/jsv/oneway/OnceOffPayment", post(json_oneway))
}
/// Ask a debtor for a once-off payment (DuEngage). The debtor is the user with this
/// `CustomerUniqueIdentifier`, else with this `IdNumber`, else a new one. The same request
/// under the same `InvoiceNumber` again answers the existing one; another request under it
/// is a conflict. Send JSON, JSV or a form; ask for JSON or JSV with `Accept`,
/// `?format=json|jsv` or the `.json`/`.jsv` suffix.
#[utoipa::path(post, path = "/onceoffpayment", tag = "duengage",
    request_body(content(
        (OnceOffPayment = "application/json"),
        (OnceOffPayment = "text/jsv"),
        (OnceOffPayment = "application/x-www-form-urlencoded"),
    )),
    params(
        ("format" = Option<String>, Query, description = "json or jsv"),
        ("Idempotency-Key" = Option<String>, Header, description = "Repeats of the request with the same key get the first answer"),
    ),
    responses(
        (status = 200, description = "{PublicAccessGuid, InvoiceNumber, StatusCodesId}"),
        (status = 400, description = "ResponseStatus with ErrorCode, Message and Errors[{ErrorCode, FieldName, Message}]"),
        (status = 401, description = "ResponseStatus: Unauthorized"),
        (status = 403, description = "ResponseStatus: Forbidden"),
        (status = 404, description = "ResponseStatus NotFound: A repeat of an idempotent request whose user was erased since (the debtor)"),
        (status = 409, description = "Another request has this InvoiceNumber"),
        (status = 415, description = "Neither JSON, JSV nor a form"),
    ))]
async fn once_off_payment(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond(state, uri, headers, body).await
}

/// The same, answering JSON.
#[utoipa::path(post, path = "/onceoffpayment.json", tag = "duengage", request_body = OnceOffPayment,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeats of the request with the same key get the first answer")),
    responses(
        (status = 200, description = "{PublicAccessGuid, InvoiceNumber, StatusCodesId} in JSON"),
        (status = 404, description = "ResponseStatus NotFound: A repeat of an idempotent request whose user was erased since (the debtor)"),
        (status = 409, description = "Another request has this InvoiceNumber"),
    ))]
async fn once_off_payment_json(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond(state, uri, headers, body).await
}

/// The same, answering JSV.
#[utoipa::path(post, path = "/onceoffpayment.jsv", tag = "duengage", request_body = OnceOffPayment,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeats of the request with the same key get the first answer")),
    responses(
        (status = 200, description = "{PublicAccessGuid, InvoiceNumber, StatusCodesId} in JSV"),
        (status = 404, description = "ResponseStatus NotFound: A repeat of an idempotent request whose user was erased since (the debtor)"),
        (status = 409, description = "Another request has this InvoiceNumber"),
    ))]
async fn once_off_payment_jsv(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond(state, uri, headers, body).await
}

/// ServiceStack's predefined route for the operation (where its JavaScript and Python
/// clients send it by default): the same as `/onceoffpayment`. The `.json` and `.jsv`
/// suffixes choose the answer's format here too.
#[utoipa::path(post, path = "/api/OnceOffPayment", tag = "duengage", request_body = OnceOffPayment,
    params(
        ("format" = Option<String>, Query, description = "json or jsv"),
        ("jsconfig" = Option<String>, Query, description = "TextCase:CamelCase (or tc:cc) answers in camelCase, TextCase:SnakeCase in snake_case"),
        ("Idempotency-Key" = Option<String>, Header, description = "Repeats of the request with the same key get the first answer"),
    ),
    responses(
        (status = 200, description = "{PublicAccessGuid, InvoiceNumber, StatusCodesId}"),
        (status = 400, description = "ResponseStatus with ErrorCode, Message and Errors[{ErrorCode, FieldName, Message}]"),
        (status = 404, description = "ResponseStatus NotFound: A repeat of an idempotent request whose user was erased since (the debtor)"),
        (status = 409, description = "Another request has this InvoiceNumber"),
        (status = 415, description = "Neither JSON, JSV nor a form"),
    ))]
async fn api(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond(state, uri, headers, body).await
}

/// ServiceStack's predefined route answering JSON (the .NET clients' default, and the
/// JavaScript and Python clients' with the base path cleared).
#[utoipa::path(post, path = "/json/reply/OnceOffPayment", tag = "duengage", request_body = OnceOffPayment,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeats of the request with the same key get the first answer")),
    responses(
        (status = 200, description = "{PublicAccessGuid, InvoiceNumber, StatusCodesId} in JSON"),
        (status = 400, description = "ResponseStatus with ErrorCode, Message and Errors[{ErrorCode, FieldName, Message}]"),
        (status = 404, description = "ResponseStatus NotFound: A repeat of an idempotent request whose user was erased since (the debtor)"),
        (status = 409, description = "Another request has this InvoiceNumber"),
    ))]
async fn json_reply(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond(state, uri, headers, body).await
}

/// ServiceStack's predefined route answering JSV.
#[utoipa::path(post, path = "/jsv/reply/OnceOffPayment", tag = "duengage", request_body = OnceOffPayment,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeats of the request with the same key get the first answer")),
    responses(
        (status = 200, description = "{PublicAccessGuid, InvoiceNumber, StatusCodesId} in JSV"),
        (status = 400, description = "ResponseStatus with ErrorCode, Message and Errors[{ErrorCode, FieldName, Message}]"),
        (status = 404, description = "ResponseStatus NotFound: A repeat of an idempotent request whose user was erased since (the debtor)"),
        (status = 409, description = "Another request has this InvoiceNumber"),
    ))]
async fn jsv_reply(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond(state, uri, headers, body).await
}

/// ServiceStack's one-way route: the request is made as on the others, and a success
/// answers 204 with no body (`/jsv/oneway/OnceOffPayment` too, with refusals in JSV).
#[utoipa::path(post, path = "/json/oneway/OnceOffPayment", tag = "duengage", request_body = OnceOffPayment,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeats of the request with the same key get the first answer")),
    responses(
        (status = 204, description = "Made"),
        (status = 400, description = "ResponseStatus with ErrorCode, Message and Errors[{ErrorCode, FieldName, Message}]"),
        (status = 404, description = "ResponseStatus NotFound: A repeat of an idempotent request whose user was erased since (the debtor)"),
        (status = 409, description = "Another request has this InvoiceNumber"),
    ))]
async fn json_oneway(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let answer = respond(state, uri, headers, body).await;
    if answer.status().is_success() { StatusCode::NO_CONTENT.into_response() } else { answer }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_casing_of_a_route_names_it_and_nothing_else_does() {
        assert_eq!(route_of("/OnceOffPayment"), Some("/onceoffpayment"));
        assert_eq!(route_of("/ONCEOFFPAYMENT.JSV"), Some("/onceoffpayment.jsv"));
        assert_eq!(route_of("/api/onceoffpayment"), Some("/api/OnceOffPayment"));
        assert_eq!(route_of("/Json/Reply/ONCEOFFPAYMENT"), Some("/json/reply/OnceOffPayment"));
        assert_eq!(route_of("/jsv/oneway/onceoffpayment"), Some("/jsv/oneway/OnceOffPayment"));
        for other in ["/api/OnceOffPayments", "/onceoffpayment/", "/users", "/api/v1/create-user", "/json/reply/Other"]
        {
            assert_eq!(route_of(other), None, "{other}");
        }
    }
}
