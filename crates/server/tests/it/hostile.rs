//! The hostile input corpus: every write surface (native users, contracts and payment
//! requests; Convercus users; RealPay batches; the gateway's create-user; DuEngage in JSON,
//! JSV and forms) and the lookups, sent malformed and truncated bodies, wrong types, deep
//! nesting, 10 MiB bodies, 1,001-item batches, control characters, invalid UTF-8, oversize
//! headers and query strings. Each must get its surface's own error with a clear message
//! and change nothing, which is checked by reading the store after every input. Then the
//! inputs that are hostile only in spirit: SQL and HTML injection strings and card-number-
//! like values, which are valid text, are stored verbatim, escaped on the public page, and
//! never logged.

use reqwest::Method;
use serde_json::{Value, json};

use clientele_domain::contract::Contract;
use clientele_domain::merchant::MerchantId;
use clientele_domain::payment::PaymentRequest;
use clientele_domain::user::User;
use clientele_store::{PageRequest, PaymentFilter, UserFilter};

use crate::harness::TestApp;

const TILL: &str = "till-1";
const MIB: usize = 1024 * 1024;
/// An oversize header value and query string: 64 KiB, and 60 KiB (a URI of 64 KiB or more is
/// refused by the HTTP parser itself, before any surface sees it).
const BIG_HEADER: usize = 64 * 1024;
const BIG_QUERY: usize = 60 * 1024;
/// Deep nesting: ten thousand levels.
const DEPTH: usize = 10_000;

/// Every input this module sends (the README quotes it); pinned, so the corpus cannot
/// shrink unnoticed.
const HOSTILE_INPUTS: usize = 739;

/// How a surface answers a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    /// RFC 9457 problem details.
    Native,
    /// Spring's `{timestamp, status, error, message, errors}`.
    Convercus,
    /// The `APIResponse` envelope.
    RealPay,
    /// `{"isSuccess": false, "errors": [{key, value}]}`.
    Gateway,
    /// ServiceStack's `ResponseStatus`, in JSON.
    ServiceStack,
    /// ServiceStack's `ResponseStatus`, in JSV.
    ServiceStackJsv,
}

/// How a surface's request body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wire {
    Json,
    Jsv,
    Form,
    /// No body: the input is in the query string.
    Query,
}

/// One surface's write (or lookup), with a request it accepts.
struct Target {
    name: &'static str,
    method: Method,
    path: String,
    content_type: &'static str,
    dialect: Dialect,
    wire: Wire,
    /// A body (or, for a lookup, query parameters) the surface accepts.
    valid: Value,
    /// A free-text member of `valid`, as a JSON pointer.
    text: &'static str,
    /// A member of `valid` that is an object (or a map), as a JSON pointer.
    nested: Option<&'static str>,
    /// Batch surfaces refuse a bad item inside a 200 answer whose status is `FAILED`.
    item_level: bool,
}

/// One hostile request.
struct Input {
    label: String,
    body: Vec<u8>,
    content_type: Option<String>,
    headers: Vec<(String, String)>,
    query: String,
    /// The statuses that are right for it.
    expected: &'static [u16],
}

fn input(label: impl Into<String>, body: impl Into<Vec<u8>>, expected: &'static [u16]) -> Input {
    Input {
        label: label.into(),
        body: body.into(),
        content_type: None,
        headers: Vec::new(),
        query: String::new(),
        expected,
    }
}

const BAD: &[u16] = &[400];
/// A bad item of a batch, or a bad batch.
const BAD_ITEM: &[u16] = &[200, 400];
const TOO_LARGE: &[u16] = &[413];
const MEDIA: &[u16] = &[415];
const HEADERS_TOO_LARGE: &[u16] = &[431];
const URI_TOO_LONG: &[u16] = &[414];

// --- the fixture ------------------------------------------------------------------------

struct Fixture {
    user: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    let key = &app.a.admin_key;
    assert_eq!(app.post("/v1/interaction-points", key, json!({"id": TILL, "name": "Till"})).await.status(), 201);
    assert_eq!(app.post("/v1/properties", key, json!({"name": "tier"})).await.status(), 201);
    let user = app
        .post(
            "/v1/users",
            key,
            json!({"customer_ref": "U1", "given_name": "Una", "email": "u1@example.com", "country": "ZA",
                "national_id": "8001015009087"}),
        )
        .await;
    assert_eq!(user.status(), 201);
    let user = user.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let contract = app.post(&format!("/v1/users/{user}/contracts"), key, terms("K1")).await;
    assert_eq!(contract.status(), 201);
    let payment = json!({"customer": {"customer_ref": "U1"}, "invoice_number": "INV-1", "segment": "Retail",
        "amount_outstanding": "10.00", "currency": "ZAR", "channel": "web"});
    assert_eq!(app.post("/v1/payment-requests", key, payment).await.status(), 201);
    Fixture { user }
}

fn terms(number: &str) -> Value {
    json!({"contract_number": number, "instalment_amount": "99.99", "number_of_instalments": 12,
        "instalment_start": "2026-02-01 09:00", "tracking_code": "00", "frequency_code": "MNTH", "collection_day": 1})
}

fn realpay_item(n: u64) -> Value {
    json!({"Name": "Rita", "Surname": "Pay", "DOB": "1990-01-01", "Gender": "F", "DialCode": "+27",
        "Mobile": 820000000 + n, "Email": format!("rp{n}@example.com"), "Country": "ZA",
        "ID": 9_100_000_000u64 + n, "ClientId": format!("RP{n}"),
        "Contract": {"ContractNumber": format!("RK{n}"), "InstalmentAmount": 99.99, "NumberOfInstalments": 12,
            "InstalmentStartDate": "2026-02-01 09:00", "TrackingCode": "00", "FrequencyCode": "MNTH",
            "CollectionDay": 1}})
}

fn once_off(invoice: &str) -> Value {
    json!({"Segment": "Retail", "FirstName": "Dora", "LastName": "Due", "InvoiceNumber": invoice,
        "AmountOutstanding": "10.00", "CurrenciesId": "1", "ChannelsId": "4", "CustomerUniqueIdentifier": "U1",
        "DebtMeta": {"Branch": "Durban"}})
}

const REALPAY: &str = "/v1/realpay/MERCHANT-A/maintain/omni/users";

fn targets(app: &TestApp, fixture: &Fixture) -> Vec<Target> {
    let user = &fixture.user;
    let json = "application/json";
    let target = |name, method, path: &str, dialect, wire, valid, text| Target {
        name,
        method,
        path: path.to_owned(),
        content_type: json,
        dialect,
        wire,
        valid,
        text,
        nested: None,
        item_level: false,
    };
    vec![
        Target {
            nested: Some("/address"),
            ..target(
                "native POST /v1/users",
                Method::POST,
                "/v1/users",
                Dialect::Native,
                Wire::Json,
                json!({"customer_ref": "N1", "given_name": "Nia", "email": "n1@example.com",
                    "address": {"city": "Durban"}}),
                "/given_name",
            )
        },
        Target {
            content_type: "application/merge-patch+json",
            nested: Some("/address"),
            ..target(
                "native PATCH /v1/users/{id}",
                Method::PATCH,
                &format!("/v1/users/{user}"),
                Dialect::Native,
                Wire::Json,
                json!({"given_name": "Nina", "address": {"city": "Durban"}}),
                "/address/city",
            )
        },
        target(
            "native GET /v1/users",
            Method::GET,
            "/v1/users",
            Dialect::Native,
            Wire::Query,
            json!({"email": "u1@example.com"}),
            "/email",
        ),
        target(
            "native POST /v1/users/{id}/contracts",
            Method::POST,
            &format!("/v1/users/{user}/contracts"),
            Dialect::Native,
            Wire::Json,
            terms("K2"),
            "/contract_number",
        ),
        Target {
            nested: Some("/customer"),
            ..target(
                "native POST /v1/payment-requests",
                Method::POST,
                "/v1/payment-requests",
                Dialect::Native,
                Wire::Json,
                json!({"customer": {"customer_ref": "U1"}, "invoice_number": "INV-N", "segment": "Retail",
                    "amount_outstanding": "10.00", "currency": "ZAR", "channel": "web",
                    "debt_meta": {"Branch": "Durban"}}),
                "/segment",
            )
        },
        target(
            "native GET /v1/payment-requests",
            Method::GET,
            "/v1/payment-requests",
            Dialect::Native,
            Wire::Query,
            json!({"invoice_number": "INV-1"}),
            "/invoice_number",
        ),
        target(
            "convercus POST /users",
            Method::POST,
            "/users",
            Dialect::Convercus,
            Wire::Json,
            json!({"emailAddress": "c1@example.com", "givenName": "Cleo", "city": "Berlin"}),
            "/givenName",
        ),
        target(
            "convercus PATCH /users/{id}",
            Method::PATCH,
            &format!("/users/{user}"),
            Dialect::Convercus,
            Wire::Json,
            json!({"familyName": "Cole"}),
            "/familyName",
        ),
        Target {
            item_level: true,
            nested: Some("/UserPostRequest/0/Contract"),
            ..target(
                "realpay POST",
                Method::POST,
                REALPAY,
                Dialect::RealPay,
                Wire::Json,
                json!({"UserPostRequest": [realpay_item(1)]}),
                "/UserPostRequest/0/Name",
            )
        },
        Target {
            item_level: true,
            ..target(
                "realpay PUT",
                Method::PUT,
                REALPAY,
                Dialect::RealPay,
                Wire::Json,
                json!({"UserPutRequest": [{"UserId": "ZA8001015009087", "Surname": "Putt"}]}),
                "/UserPutRequest/0/Surname",
            )
        },
        target(
            "realpay GET",
            Method::GET,
            REALPAY,
            Dialect::RealPay,
            Wire::Query,
            json!({"Product": "DEBIT", "Email": "u1@example.com"}),
            "/Email",
        ),
        Target {
            nested: Some("/contactInfo"),
            ..target(
                "gateway POST /api/v1/create-user",
                Method::POST,
                "/api/v1/create-user",
                Dialect::Gateway,
                Wire::Json,
                json!({"merchantId": app.a.merchant.id.to_string(), "customerId": "GW1", "contractNumber": "GW1",
                    "contactInfo": {"email": "gw1@example.com", "address": "1 Main Road", "zipCode": "8001"}}),
                "/contactInfo/address",
            )
        },
        Target {
            nested: Some("/DebtMeta"),
            ..target(
                "duengage POST /onceoffpayment (JSON)",
                Method::POST,
                "/onceoffpayment",
                Dialect::ServiceStack,
                Wire::Json,
                once_off("INV-DJ"),
                "/FirstName",
            )
        },
        Target {
            content_type: "text/jsv",
            ..target(
                "duengage POST /onceoffpayment.jsv (JSV)",
                Method::POST,
                "/onceoffpayment.jsv",
                Dialect::ServiceStackJsv,
                Wire::Jsv,
                once_off("INV-DV"),
                "/FirstName",
            )
        },
        Target {
            content_type: "application/x-www-form-urlencoded",
            ..target(
                "duengage POST /onceoffpayment (form)",
                Method::POST,
                "/onceoffpayment",
                Dialect::ServiceStack,
                Wire::Form,
                once_off("INV-DF"),
                "/FirstName",
            )
        },
    ]
}

// --- writing bodies ---------------------------------------------------------------------

const HOLE: &str = "@@HOLE@@";

/// `valid` in JSON with the text member's value replaced by the raw bytes `fragment`.
fn json_with(target: &Target, fragment: &[u8]) -> Vec<u8> {
    let mut value = target.valid.clone();
    *value.pointer_mut(target.text).unwrap() = Value::String(HOLE.to_owned());
    splice(value.to_string().as_bytes(), format!("\"{HOLE}\"").as_bytes(), fragment)
}

fn splice(text: &[u8], hole: &[u8], fragment: &[u8]) -> Vec<u8> {
    let at = text.windows(hole.len()).position(|w| w == hole).unwrap();
    [&text[..at], fragment, &text[at + hole.len()..]].concat()
}

/// A JSON string holding `text`.
fn quoted(text: &str) -> Vec<u8> {
    Value::String(text.to_owned()).to_string().into_bytes()
}

/// A flat object as JSV: `{Key:value,...}`, maps nested, values unquoted (the corpus's own
/// values hold no JSV syntax).
fn jsv(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let members: Vec<String> = map.iter().map(|(k, v)| format!("{k}:{}", jsv(v))).collect();
            format!("{{{}}}", members.join(","))
        }
        Value::String(s) => jsv_string(s),
        other => other.to_string(),
    }
}

/// A JSV string: CSV-style quoted when it holds JSV syntax.
fn jsv_string(text: &str) -> String {
    if text.contains(['[', ']', '{', '}', ',', '"']) || text.trim() != text {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// `valid` as JSV with the text member's value replaced by the raw bytes `fragment`.
fn jsv_with(target: &Target, fragment: &[u8]) -> Vec<u8> {
    let mut value = target.valid.clone();
    *value.pointer_mut(target.text).unwrap() = Value::String(HOLE.to_owned());
    splice(jsv(&value).as_bytes(), HOLE.as_bytes(), fragment)
}

fn percent(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `valid` as a form (maps as JSV) with the member `name` replaced by `encoded`, already
/// percent-encoded.
fn form_with(target: &Target, name: &str, encoded: &str) -> Vec<u8> {
    let Value::Object(map) = &target.valid else { panic!("a form is an object") };
    let mut pairs: Vec<String> = Vec::new();
    for (key, value) in map {
        let value = if key == name { encoded.to_owned() } else { percent(jsv(value).as_bytes()) };
        pairs.push(format!("{key}={value}"));
    }
    pairs.join("&").into_bytes()
}

/// The text member's name, for forms.
fn member(target: &Target) -> &str {
    target.text.rsplit('/').next().unwrap()
}

// --- the corpus -------------------------------------------------------------------------

/// Control characters no text field may hold.
const CONTROLS: [(&str, &str); 5] = [
    ("NUL", "a\u{0}b"),
    ("an ANSI escape", "a\u{1b}[31mred"),
    ("DEL", "a\u{7f}b"),
    ("a C1 control (NEL)", "a\u{85}b"),
    ("CR LF (header injection)", "a\r\nSet-Cookie: x=1"),
];

/// Inputs every surface gets, whatever its wire: headers and the query string.
fn head_inputs(target: &Target) -> Vec<Input> {
    let body = match target.wire {
        Wire::Json => target.valid.to_string().into_bytes(),
        Wire::Jsv => jsv(&target.valid).into_bytes(),
        Wire::Form => form_with(target, "", ""),
        Wire::Query => Vec::new(),
    };
    let mut big_header = input("a 64 KiB header", body.clone(), HEADERS_TOO_LARGE);
    big_header.headers.push(("x-filler".into(), "h".repeat(BIG_HEADER)));
    let mut many = input("40 headers of 2 KiB", body.clone(), HEADERS_TOO_LARGE);
    for i in 0..40 {
        many.headers.push((format!("x-filler-{i}"), "h".repeat(2048)));
    }
    let mut big_auth = input("a 64 KiB Authorization header", body.clone(), HEADERS_TOO_LARGE);
    big_auth.headers.push(("authorization".into(), format!("Bearer {}", "k".repeat(BIG_HEADER))));
    let mut big_query = input("a 60 KiB query string", body.clone(), URI_TOO_LONG);
    big_query.query = format!("q={}", "q".repeat(BIG_QUERY));
    let mut big_key = input("a 64 KiB Idempotency-Key", body, HEADERS_TOO_LARGE);
    big_key.headers.push(("idempotency-key".into(), "i".repeat(BIG_HEADER)));
    vec![big_header, many, big_auth, big_query, big_key]
}

fn json_inputs(target: &Target) -> Vec<Input> {
    let valid = target.valid.to_string().into_bytes();
    let field = if target.item_level { BAD_ITEM } else { BAD };
    let mut inputs = vec![
        input("an empty body", Vec::new(), BAD),
        input("a lone brace", "{", BAD),
        input("not JSON", "hello, world", BAD),
        input("single quotes", "{'a': 1}", BAD),
        input("a trailing comma", "{\"a\": 1,}", BAD),
        input("trailing garbage", [valid.as_slice(), b"}"].concat(), BAD),
        input("two documents", [valid.as_slice(), b" {}"].concat(), BAD),
        input("truncated in half", valid[..valid.len() / 2].to_vec(), BAD),
        input("truncated by one byte", valid[..valid.len() - 1].to_vec(), BAD),
        input("an unterminated string", "{\"a\": \"never closed", BAD),
        input("an array for an object", "[]", BAD),
        input("a 1,001-element array for an object", format!("[{}]", vec!["{}"; 1001].join(",")), BAD),
        input("a string for an object", "\"text\"", BAD),
        input("a number for an object", "42", BAD),
        input("null for an object", "null", BAD),
        input("true for an object", "true", BAD),
        input("10,000 open brackets", "[".repeat(DEPTH), BAD),
        input("10,000 nested arrays", format!("{}{}", "[".repeat(DEPTH), "]".repeat(DEPTH)), BAD),
        input("10,000 nested objects", format!("{}1{}", "{\"a\":".repeat(DEPTH), "}".repeat(DEPTH)), BAD),
        input("a 10 MiB text member", json_with(target, &quoted(&"x".repeat(10 * MIB))), TOO_LARGE),
        input("a 10 MiB body of white space", [valid.as_slice(), &vec![b' '; 10 * MIB]].concat(), TOO_LARGE),
        input("invalid UTF-8 in a string", json_with(target, b"\"a\xff\xfeb\""), field),
        input("an overlong UTF-8 encoding", json_with(target, b"\"a\xc0\xafb\""), field),
        input("UTF-16 surrogate bytes", json_with(target, b"\"a\xed\xa0\x80b\""), field),
        input("a lone surrogate escape", json_with(target, b"\"a\\ud800b\""), field),
        input("a raw control byte in a string", json_with(target, b"\"a\x01b\""), field),
        input("an object for text", json_with(target, b"{\"a\": 1}"), field),
        input("an array for text", json_with(target, b"[1, 2]"), field),
        input("a boolean for text", json_with(target, b"true"), field),
        input("a number out of range for text", json_with(target, b"1e400"), field),
        input(
            "10,000 nested arrays for text",
            json_with(target, format!("{}{}", "[".repeat(DEPTH), "]".repeat(DEPTH)).as_bytes()),
            field,
        ),
        input("100,000 characters of text", json_with(target, &quoted(&"x".repeat(100_000))), field),
        input("a duplicate member", duplicate(&target.valid), BAD),
    ];
    for (name, text) in CONTROLS {
        inputs.push(input(format!("{name} in text"), json_with(target, &quoted(text)), field));
    }
    if let Some(nested) = target.nested {
        for (label, wrong) in [("an array", json!([])), ("a string", json!("x")), ("a number", json!(1))] {
            let mut body = target.valid.clone();
            *body.pointer_mut(nested).unwrap() = wrong;
            inputs.push(input(format!("{label} for a nested object"), body.to_string(), field));
        }
    }
    let mut plain = input("text/plain", valid.clone(), MEDIA);
    plain.content_type = Some("text/plain".into());
    let mut none = input("no Content-Type", valid, MEDIA);
    none.content_type = Some(String::new());
    inputs.push(plain);
    inputs.push(none);
    inputs
}

/// The object with its first member written twice.
fn duplicate(valid: &Value) -> Vec<u8> {
    let Value::Object(map) = valid else { panic!("an object") };
    let (key, value) = map.iter().next().unwrap();
    let text = valid.to_string();
    format!("{{{}:{},{}", Value::String(key.clone()), value, &text[1..]).into_bytes()
}

fn batch_inputs(target: &Target) -> Vec<Input> {
    let member = if target.method == Method::POST { "UserPostRequest" } else { "UserPutRequest" };
    let item = target.valid[member][0].clone();
    let items: Vec<Value> = (0..1001u64)
        .map(|n| if target.method == Method::POST { realpay_item(1000 + n) } else { item.clone() })
        .collect();
    vec![
        input("a 1,001-item batch", json!({member: items}).to_string(), BAD),
        input("an empty batch", json!({member: []}).to_string(), BAD),
        input("a batch that is a string", json!({member: "items"}).to_string(), BAD),
        input("a batch that is an object", json!({member: {"0": item}}).to_string(), BAD),
        input("a batch of scalars", json!({member: [1, "x", null, true]}).to_string(), BAD_ITEM),
        input("a batch of arrays", json!({member: [[item]]}).to_string(), BAD_ITEM),
        input("no batch member", "{}", BAD),
    ]
}

fn jsv_inputs(target: &Target) -> Vec<Input> {
    let valid = jsv(&target.valid).into_bytes();
    let mut inputs = vec![
        input("an empty body", Vec::new(), BAD),
        input("an unterminated quote", "{Segment:\"never closed", BAD),
        input("a stray closing brace", "{A:1}}", BAD),
        input("a lone comma", "{,}", BAD),
        input("truncated in half", valid[..valid.len() / 2].to_vec(), BAD),
        input("truncated by one byte", valid[..valid.len() - 1].to_vec(), BAD),
        input("a list for an object", "[1,2,3]", BAD),
        input("a bare string for an object", "hello", BAD),
        input("10,000 open brackets", "[".repeat(DEPTH), BAD),
        input("10,000 nested maps", format!("{}1{}", "{A:".repeat(DEPTH), "}".repeat(DEPTH)), BAD),
        input("a 10 MiB text member", jsv_with(target, "x".repeat(10 * MIB).as_bytes()), TOO_LARGE),
        input("invalid UTF-8", jsv_with(target, b"a\xff\xfeb"), BAD),
        input("an overlong UTF-8 encoding", jsv_with(target, b"a\xc0\xafb"), BAD),
        input("a map for text", jsv_with(target, b"{A:1}"), BAD),
        input("a list for text", jsv_with(target, b"[1,2]"), BAD),
        input("100,000 characters of text", jsv_with(target, "x".repeat(100_000).as_bytes()), BAD),
        input("text for a map", splice(&valid, b"{Branch:Durban}", b"Durban"), BAD),
        input("a duplicate member", [b"{FirstName:Eve,".as_slice(), &valid[1..]].concat(), BAD),
        input(
            "10,000 nested maps for a map",
            splice(&valid, b"{Branch:Durban}", format!("{}1{}", "{A:".repeat(DEPTH), "}".repeat(DEPTH)).as_bytes()),
            BAD,
        ),
    ];
    for (name, text) in CONTROLS {
        inputs.push(input(format!("{name} in text"), jsv_with(target, text.as_bytes()), BAD));
    }
    inputs
}

fn form_inputs(target: &Target) -> Vec<Input> {
    let name = member(target);
    let valid = form_with(target, "", "");
    let mut inputs = vec![
        input("an empty body", Vec::new(), BAD),
        input("a bad percent escape", form_with(target, name, "%zz"), BAD),
        input("truncated in half", valid[..valid.len() / 2].to_vec(), BAD),
        input("JSON sent as a form", target.valid.to_string(), BAD),
        input("invalid UTF-8", form_with(target, name, "a%FF%FEb"), BAD),
        input("an overlong UTF-8 encoding", form_with(target, name, "a%C0%AFb"), BAD),
        input("100,000 characters of text", form_with(target, name, &"x".repeat(100_000)), BAD),
        input("a 10 MiB text member", form_with(target, name, &"x".repeat(10 * MIB)), TOO_LARGE),
        input("text for a map", form_with(target, "DebtMeta", "Durban"), BAD),
        input("a list for a map", form_with(target, "DebtMeta", &percent(b"[1,2]")), BAD),
        input("a malformed map", form_with(target, "DebtMeta", &percent(b"{Branch:\"Dur")), BAD),
        input(
            "10,000 nested maps for a map",
            form_with(
                target,
                "DebtMeta",
                &percent(format!("{}1{}", "{A:".repeat(DEPTH), "}".repeat(DEPTH)).as_bytes()),
            ),
            BAD,
        ),
        input("a duplicate member", [b"FirstName=Eve&".as_slice(), &valid].concat(), BAD),
        input("a member without a value", [b"FirstName&".as_slice(), &valid].concat(), BAD),
        input("a control character in a map key", form_with(target, "DebtMeta", &percent(b"{Bra\x01nch:Durban}")), BAD),
    ];
    for (label, text) in CONTROLS {
        inputs.push(input(format!("{label} in text"), form_with(target, name, &percent(text.as_bytes())), BAD));
    }
    inputs
}

fn query_inputs(target: &Target) -> Vec<Input> {
    let name = member(target);
    let valid = query_of(&target.valid);
    let with = |label: &str, query: String| {
        let mut input = input(label, Vec::new(), BAD);
        input.query = query;
        input
    };
    let only = |value: &str| {
        let mut params = target.valid.clone();
        params.as_object_mut().unwrap().remove(name);
        let rest = query_of(&params);
        if rest.is_empty() { format!("{name}={value}") } else { format!("{rest}&{name}={value}") }
    };
    let mut inputs = vec![
        with("a bad percent escape", only("u1%zz")),
        with("a truncated percent escape", only("u1%4")),
        with("invalid UTF-8", only("u1%FF%FE")),
        with("an overlong UTF-8 encoding", only("u1%C0%AF")),
        with("an unknown parameter", format!("{valid}&Drop=1")),
        with("a parameter given twice", format!("{valid}&{name}=other")),
        with("5,000 characters", only(&"x".repeat(5_000))),
    ];
    for (label, value) in CONTROLS {
        inputs.push(with(&format!("{label} in {name}"), only(&percent(value.as_bytes()))));
    }
    if target.dialect == Dialect::RealPay {
        inputs.push(with("no Product", "Email=u1%40example.com".into()));
        inputs.push(with("no key to look up by", "Product=DEBIT".into()));
        inputs.push(with("another Version", format!("Version=v2&{valid}")));
        inputs.push(with("a malformed UserId", "Product=DEBIT&UserId=ZA%27%20OR%201%3D1".into()));
    } else {
        inputs.push(with("a page size of 1,000", format!("{valid}&limit=1000")));
        inputs.push(with("a negative page size", format!("{valid}&limit=-1")));
        inputs.push(with("a forged cursor", format!("{valid}&cursor=%27%20OR%201%3D1")));
        inputs.push(with("a time that is not one", format!("{valid}&created_after=yesterday")));
    }
    inputs
}

fn corpus(target: &Target) -> Vec<Input> {
    let mut inputs = match target.wire {
        Wire::Json => json_inputs(target),
        Wire::Jsv => jsv_inputs(target),
        Wire::Form => form_inputs(target),
        Wire::Query => query_inputs(target),
    };
    if target.dialect == Dialect::RealPay && target.wire == Wire::Json {
        inputs.extend(batch_inputs(target));
    }
    inputs.extend(head_inputs(target));
    inputs
}

// --- sending and judging ----------------------------------------------------------------

struct Answer {
    status: u16,
    content_type: String,
    connection: String,
    body: Vec<u8>,
}

async fn send(app: &TestApp, target: &Target, input: &Input) -> Result<Answer, String> {
    let path = if input.query.is_empty() {
        match target.wire {
            Wire::Query => format!("{}?{}", target.path, query_of(&target.valid)),
            _ => target.path.clone(),
        }
    } else {
        format!("{}?{}", target.path, input.query)
    };
    let mut request =
        app.client.request(target.method.clone(), format!("{}{path}", app.url)).header("interaction-id", TILL);
    if !input.headers.iter().any(|(name, _)| name == "authorization") {
        request = request.bearer_auth(&app.a.admin_key);
    }
    for (name, value) in &input.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    if target.wire != Wire::Query {
        match input.content_type.as_deref() {
            None => request = request.header("content-type", target.content_type),
            Some("") => {}
            Some(other) => request = request.header("content-type", other),
        }
        request = request.body(input.body.clone());
    }
    // A body over the limit is answered 413 before it has all arrived, and the server closes
    // the connection: the client, still sending, may see the connection reset before it
    // reads the answer (TCP discards it). Such an input is sent again, up to three times in
    // all; it must still be answered, in the surface's format, to pass.
    let oversize = input.body.len() > 1024 * 1024;
    let mut attempts = 0;
    let response = loop {
        attempts += 1;
        let Some(attempt) = request.try_clone() else { break request.send().await };
        match attempt.send().await {
            Err(error) if oversize && attempts < 3 && !error.is_timeout() => continue,
            sent => break sent,
        }
    };
    let response = response.map_err(|e| format!("no answer: {e}"))?;
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let connection = response.headers().get("connection").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let body = response.bytes().await.map_err(|e| format!("no body: {e}"))?.to_vec();
    Ok(Answer { status, content_type, connection, body })
}

fn query_of(params: &Value) -> String {
    let Value::Object(map) = params else { panic!("parameters are an object") };
    map.iter()
        .map(|(k, v)| format!("{k}={}", percent(v.as_str().unwrap_or_default().as_bytes())))
        .collect::<Vec<_>>()
        .join("&")
}

fn non_empty(value: &Value) -> bool {
    value.as_str().is_some_and(|s| !s.trim().is_empty())
}

/// Whether `answer` is a refusal in `dialect`'s own shape with a message a person can act on.
fn judge(dialect: Dialect, item_level: bool, sent: usize, answer: &Answer) -> Result<(), String> {
    if answer.status >= 500 {
        return Err("a server error".into());
    }
    if answer.body.is_empty() {
        return Err("an empty body".into());
    }
    let text = std::str::from_utf8(&answer.body).map_err(|_| "a body that is not UTF-8".to_owned())?;
    if answer.body.len() > sent + 16 * 1024 {
        return Err(format!("an answer of {} bytes to a request of {sent}", answer.body.len()));
    }
    for leak in ["panicked", "StackTrace", "RawValue", "serde", "sqlx", "rusqlite", "SQLSTATE"] {
        if text.contains(leak) {
            return Err(format!("an answer that shows internals ({leak})"));
        }
    }
    if dialect == Dialect::ServiceStackJsv {
        if !answer.content_type.starts_with("text/jsv") {
            return Err(format!("content type {:?}", answer.content_type));
        }
        if !(text.starts_with("{ResponseStatus:{ErrorCode:") && text.contains(",Message:")) {
            return Err("not a JSV ResponseStatus".into());
        }
        return Ok(());
    }
    let body: Value = serde_json::from_str(text).map_err(|_| "a body that is not JSON".to_owned())?;
    let status = i64::from(answer.status);
    match dialect {
        Dialect::Native => {
            if answer.content_type != "application/problem+json" {
                return Err(format!("content type {:?}", answer.content_type));
            }
            let urn = body["type"].as_str().unwrap_or_default();
            if !urn.starts_with("urn:clientele:problem:") || !non_empty(&body["title"]) || body["status"] != status {
                return Err("not a problem document".into());
            }
            if !non_empty(&body["detail"]) && body["errors"].as_array().is_none_or(Vec::is_empty) {
                return Err("a problem without a detail or fields".into());
            }
        }
        Dialect::Convercus => {
            if !non_empty(&body["timestamp"]) || body["status"] != status || !non_empty(&body["error"]) {
                return Err("not a Convercus error".into());
            }
            if !non_empty(&body["message"]) {
                return Err("a Convercus error without a message".into());
            }
        }
        Dialect::RealPay => {
            let envelope = &body["APIResponse"];
            if envelope["Status"] != "FAILED" || !non_empty(&envelope["Name"]) || !envelope["CallSequence"].is_i64() {
                return Err("not a FAILED APIResponse".into());
            }
            if answer.status == 200 {
                if !item_level {
                    return Err("a 200".into());
                }
                let outcome = body.as_object().and_then(|o| o.values().find(|v| v.is_array())).cloned();
                let failed = outcome.and_then(|o| o[0]["Failed"].as_array().cloned()).unwrap_or_default();
                let explained = !failed.is_empty()
                    && failed.iter().all(|f| {
                        f["Errors"]
                            .as_array()
                            .is_some_and(|e| !e.is_empty() && e.iter().all(|e| non_empty(&e["Message"])))
                    });
                if !explained {
                    return Err("a FAILED batch without reasons".into());
                }
            } else if !non_empty(&envelope["Message"]) {
                return Err("an APIResponse without a message".into());
            }
        }
        Dialect::Gateway => {
            let errors = body["errors"].as_array().cloned().unwrap_or_default();
            let explained = !errors.is_empty()
                && errors.iter().all(|e| {
                    non_empty(&e["key"])
                        && e["value"].as_array().is_some_and(|v| !v.is_empty() && v.iter().all(non_empty))
                });
            if body["isSuccess"] != false || !explained {
                return Err("not a gateway error".into());
            }
        }
        Dialect::ServiceStack => {
            let status = &body["ResponseStatus"];
            if !non_empty(&status["ErrorCode"]) || !non_empty(&status["Message"]) {
                return Err("not a ResponseStatus".into());
            }
            if !answer.content_type.starts_with("application/json") {
                return Err(format!("content type {:?}", answer.content_type));
            }
        }
        Dialect::ServiceStackJsv => unreachable!(),
    }
    Ok(())
}

/// Everything a write could change, read from the store.
#[derive(Debug, PartialEq)]
struct Snapshot {
    users: Vec<User>,
    contracts: Vec<Contract>,
    payments: Vec<PaymentRequest>,
    changes: usize,
    points: usize,
    properties: usize,
    others: usize,
}

async fn snapshot(app: &TestApp) -> Snapshot {
    let store = app.store();
    let of = |merchant: MerchantId| async move {
        store.list_users(merchant, &UserFilter::default(), PageRequest { after: None, limit: 10_000 }).await.unwrap()
    };
    let users = of(app.a.merchant.id).await;
    let mut contracts = Vec::new();
    let mut changes = 0;
    for user in &users {
        contracts.extend(store.contracts_of_user(app.a.merchant.id, user.id).await.unwrap());
        changes += store.user_changes(app.a.merchant.id, user.id).await.unwrap().len();
    }
    let filter = PaymentFilter { limit: 10_000, ..PaymentFilter::default() };
    let payments = store.list_payment_requests(app.a.merchant.id, &filter).await.unwrap();
    let others = of(app.b.merchant.id).await.len()
        + store.list_payment_requests(app.b.merchant.id, &filter).await.unwrap().len();
    Snapshot {
        users,
        contracts,
        payments,
        changes,
        points: store.list_interaction_points(app.a.merchant.id).await.unwrap().len(),
        properties: store.list_properties(app.a.merchant.id).await.unwrap().len(),
        others,
    }
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    text.chars().take(300).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_surface_refuses_every_hostile_input_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let fixture = fixture(&app).await;
    let targets = targets(&app, &fixture);
    let mut failures = Vec::new();
    let mut tried = 0;
    let mut before = snapshot(&app).await;
    let mut per_surface = Vec::new();
    for target in &targets {
        let inputs = corpus(target);
        per_surface.push(format!("{} {}", target.name, inputs.len()));
        for input in inputs {
            tried += 1;
            let label = format!("{} / {}", target.name, input.label);
            let mut answer = send(&app, target, &input).await;
            // A server that refuses a body before reading it all closes the connection, and
            // the client, still writing, may see the reset before the answer: send again.
            for _ in 0..5 {
                if answer.is_ok() || input.expected != TOO_LARGE {
                    break;
                }
                answer = send(&app, target, &input).await;
            }
            match answer {
                Err(error) => failures.push(format!("{label}: {error}")),
                Ok(answer) => {
                    if !input.expected.contains(&answer.status) {
                        failures.push(format!(
                            "{label}: status {} (expected {:?}): {}",
                            answer.status,
                            input.expected,
                            excerpt(&answer.body)
                        ));
                    } else if [TOO_LARGE, HEADERS_TOO_LARGE, URI_TOO_LONG].contains(&input.expected)
                        && answer.connection != "close"
                    {
                        // The rest of the request is unread: the connection cannot carry another.
                        failures.push(format!("{label}: no `Connection: close` on {}", answer.status));
                    } else if let Err(why) =
                        judge(target.dialect, target.item_level, input.body.len() + input.query.len(), &answer)
                    {
                        failures.push(format!("{label}: {why}: {} {}", answer.status, excerpt(&answer.body)));
                    }
                }
            }
            let after = snapshot(&app).await;
            if after != before {
                failures.push(format!("{label}: CHANGED THE STORE"));
                before = after;
            }
        }
    }

    // The valid requests the corpus was made from are accepted: each refusal above was for
    // its hostile part.
    for target in &targets {
        let input = input("the valid request", Vec::new(), &[]);
        let body = match target.wire {
            Wire::Json => target.valid.to_string().into_bytes(),
            Wire::Jsv => jsv(&target.valid).into_bytes(),
            Wire::Form => form_with(target, "", ""),
            Wire::Query => Vec::new(),
        };
        let answer = send(&app, target, &Input { body, ..input }).await.unwrap();
        if !(200..300).contains(&answer.status) || String::from_utf8_lossy(&answer.body).contains("FAILED") {
            failures.push(format!(
                "{}: the valid request was refused: {} {}",
                target.name,
                answer.status,
                excerpt(&answer.body)
            ));
        }
    }
    let verbatim = verbatim(&app, &fixture, &mut failures).await;
    tried += verbatim;
    eprintln!("hostile inputs tried: {tried} ({}; valid but hostile in spirit {verbatim})", per_surface.join(", "));
    assert!(
        failures.is_empty(),
        "{} of {tried} hostile inputs were mishandled:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(tried, HOSTILE_INPUTS, "the corpus changed size; update HOSTILE_INPUTS (and the README)");
}

// --- valid, but hostile in spirit -------------------------------------------------------

/// Text that is valid in any free-text field: stored as sent, escaped where shown.
const INJECTIONS: [&str; 8] = [
    "Robert'); DROP TABLE users;--",
    "' OR '1'='1",
    "1; DELETE FROM payment_requests WHERE 1=1; --",
    "\" OR \"\"=\"",
    "<script>alert('x')</script>",
    "\"><img src=x onerror=alert(1)>",
    "</title><svg onload=alert(1)>",
    "{{7*7}} ${7*7} %s%n",
];

/// A 16-digit number that passes the Luhn check, as a card number does.
fn card_number(prefix: &str) -> String {
    let sum: u32 = prefix
        .chars()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let digit = c.to_digit(10).unwrap();
            if i % 2 == 0 { (digit * 2) - if digit >= 5 { 9 } else { 0 } } else { digit }
        })
        .sum();
    format!("{prefix}{}", (10 - sum % 10) % 10)
}

fn luhn_valid(number: &str) -> bool {
    let digits: Vec<u32> = number.chars().filter_map(|c| c.to_digit(10)).collect();
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| if i % 2 == 1 { (d * 2) - if d >= 5 { 9 } else { 0 } } else { d })
        .sum();
    sum.is_multiple_of(10)
}

async fn user_where(app: &TestApp, filter: UserFilter) -> Option<User> {
    let page = PageRequest { after: None, limit: 2 };
    let mut found = app.store().list_users(app.a.merchant.id, &filter, page).await.unwrap();
    assert!(found.len() <= 1, "{filter:?} matched more than one user");
    found.pop()
}

async fn by_ref(app: &TestApp, customer_ref: &str) -> Option<User> {
    user_where(app, UserFilter { customer_ref: Some(customer_ref.to_owned()), ..UserFilter::default() }).await
}

fn given(user: &Option<User>) -> Option<&str> {
    user.as_ref().and_then(|u| u.fields.given_name.as_ref()).map(|n| n.as_str())
}

fn family(user: &Option<User>) -> Option<&str> {
    user.as_ref().and_then(|u| u.fields.family_name.as_ref()).map(|n| n.as_str())
}

fn street(user: &Option<User>) -> Option<&str> {
    user.as_ref().and_then(|u| u.fields.address.street.as_ref()).map(|n| n.as_str())
}

/// The injection strings and card numbers, written through every surface: each must be
/// stored exactly as sent, found again by itself, escaped on the public page, and card
/// numbers must never reach the log (the harness checks the log for every secret).
async fn verbatim(app: &TestApp, fixture: &Fixture, failures: &mut Vec<String>) -> usize {
    let pan = card_number("539812743016482");
    let spaced = format!("{} {} {} {}", &pan[..4], &pan[4..8], &pan[8..12], &pan[12..]);
    assert!(luhn_valid(&pan) && pan.len() == 16);
    app.secret(&pan);
    app.secret(&spaced);
    let texts: Vec<String> = INJECTIONS.iter().map(|s| (*s).to_owned()).chain([pan.clone(), spaced.clone()]).collect();
    let key = &app.a.admin_key;
    let mut tried = 0;
    let mut check = |label: String, ok: bool| {
        tried += 1;
        if !ok {
            failures.push(format!("verbatim: {label}"));
        }
    };
    for (i, text) in texts.iter().enumerate() {
        let text = text.as_str();
        // Native: a user, found again by the text as its reference.
        let body = json!({"customer_ref": text, "given_name": text, "family_name": text,
            "address": {"street": text, "city": text}});
        let status = app.post("/v1/users", key, body).await.status();
        let user = by_ref(app, text).await;
        check(
            format!("native user {text:?}: {status}"),
            status == 201 && given(&user) == Some(text) && street(&user) == Some(text),
        );
        let found: Value =
            app.get(&format!("/v1/users?customer_ref={}", percent(text.as_bytes())), key).await.json().await.unwrap();
        check(
            format!("native lookup {text:?}"),
            found["data"].as_array().map(Vec::len) == Some(1) && found["data"][0]["given_name"] == text,
        );

        // Convercus.
        let email = format!("inj{i}@example.com");
        let body =
            json!({"emailAddress": email, "givenName": text, "familyName": text, "streetHouseNo": text, "city": text});
        let status = app
            .request(Method::POST, "/users", key)
            .header("interaction-id", TILL)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status();
        let user = user_where(app, UserFilter { email_lookup: Some(email), ..UserFilter::default() }).await;
        check(
            format!("convercus user {text:?}: {status}"),
            status == 201 && family(&user) == Some(text) && street(&user) == Some(text),
        );

        // RealPay: a new user, then the fixture's user edited.
        let mut item = realpay_item(100 + i as u64);
        item["Name"] = json!(text);
        item["Surname"] = json!(text);
        let answer: Value = app.post(REALPAY, key, json!({"UserPostRequest": [item]})).await.json().await.unwrap();
        let user = by_ref(app, &format!("RP{}", 100 + i)).await;
        check(
            format!("realpay POST {text:?}: {}", answer["APIResponse"]),
            given(&user) == Some(text) && family(&user) == Some(text),
        );
        let edit = json!({"UserPutRequest": [{"UserId": "ZA8001015009087", "Surname": text}]});
        let answer: Value =
            app.request(Method::PUT, REALPAY, key).json(&edit).send().await.unwrap().json().await.unwrap();
        let user = by_ref(app, "U1").await;
        check(
            format!("realpay PUT {text:?}: {}", answer["APIResponse"]),
            family(&user) == Some(text) && user.as_ref().map(|u| u.id.to_string()) == Some(fixture.user.clone()),
        );

        // The gateway: the address line.
        let customer = format!("GWI{i}");
        let body = json!({"merchantId": app.a.merchant.id.to_string(), "customerId": customer, "contractNumber": customer,
            "contactInfo": {"address": text}});
        let status = app.post("/api/v1/create-user", key, body).await.status();
        let user = by_ref(app, &customer).await;
        check(format!("gateway {text:?}: {status}"), status == 200 && street(&user) == Some(text));

        // DuEngage, in JSON, JSV and a form; and natively. The invoice is shown on the page.
        let mut pages = Vec::new();
        for (wire, content_type) in
            [("dj", "application/json"), ("dv", "text/jsv"), ("df", "application/x-www-form-urlencoded")]
        {
            let invoice = format!("{text}-{wire}");
            let customer = format!("D{wire}{i}");
            let mut request = once_off(&invoice);
            for member in ["Segment", "FirstName", "LastName", "Address", "City"] {
                request[member] = json!(text);
            }
            request["CustomerUniqueIdentifier"] = json!(customer);
            request["DebtMeta"] = json!({"Note": text});
            let body = match content_type {
                "application/json" => request.to_string(),
                "text/jsv" => jsv(&request),
                _ => request
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| {
                        format!("{k}={}", percent(v.as_str().map_or_else(|| jsv(v), str::to_owned).as_bytes()))
                    })
                    .collect::<Vec<_>>()
                    .join("&"),
            };
            let response = app
                .request(Method::POST, "/onceoffpayment", key)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status();
            let answer = response.text().await.unwrap();
            let stored = app.store().payment_request_by_invoice(app.a.merchant.id, &invoice).await.ok();
            let user = by_ref(app, &customer).await;
            let ok = status == 200
                && stored.as_ref().is_some_and(|p| {
                    p.segment.as_str() == text && p.debt_meta.get("Note").map(String::as_str) == Some(text)
                })
                && given(&user) == Some(text)
                && street(&user) == Some(text);
            check(format!("duengage {content_type} {text:?}: {status} {answer}"), ok);
            pages.extend(stored.map(|p| p.public_access_guid.to_string()));
        }
        let body = json!({"customer": {"customer_ref": "U1"}, "invoice_number": text, "segment": text,
            "amount_outstanding": "10.00", "currency": "ZAR", "channel": "web", "debt_meta": {"Note": text},
            "url_to_document": "https://example.com/doc?q=\"><script>alert(1)</script>"});
        let created = app.post("/v1/payment-requests", key, body).await;
        let status = created.status();
        let created: Value = created.json().await.unwrap();
        let stored = app.store().payment_request_by_invoice(app.a.merchant.id, text).await.ok();
        check(
            format!("native payment request {text:?}: {status}"),
            status == 201 && stored.as_ref().is_some_and(|p| p.segment.as_str() == text),
        );
        pages.extend(created["public_access_guid"].as_str().map(str::to_owned));

        // The public page shows the invoice escaped, and nothing the merchant sent as markup.
        for guid in pages {
            let page = app.client.get(format!("{}/pay/{guid}", app.url)).send().await.unwrap();
            let status = page.status();
            let html = page.text().await.unwrap();
            let escaped = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
            let raw_markup = ["<script", "<img", "<svg"].iter().any(|tag| html.contains(tag));
            let shown = html.contains(&escaped) && (!text.contains(['<', '"']) || !html.contains(text));
            check(
                format!("the page of {text:?}: {status}, raw markup: {raw_markup}, shown escaped: {shown}"),
                status == 200 && !raw_markup && shown,
            );
        }
    }
    tried
}

/// The core answers a lookup by text no stored value can hold with nothing, without asking
/// the store (PostgreSQL would refuse a NUL in a parameter), whichever surface asks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_by_text_no_stored_value_holds_find_nothing() {
    let app = TestApp::spawn().await;
    let merchant = app.a.merchant.id;
    let page = PageRequest { after: None, limit: 10 };
    for text in ["a\u{0}b", "a\r\nb", "\u{1b}[0m"] {
        let filters = [
            UserFilter { email_lookup: Some(text.into()), ..UserFilter::default() },
            UserFilter { customer_ref: Some(text.into()), ..UserFilter::default() },
            UserFilter { national_id: Some(text.into()), country: Some("ZA".into()), ..UserFilter::default() },
            UserFilter {
                phone: Some(clientele_store::PhoneLookup { given: text.into(), e164: None, national: None }),
                ..UserFilter::default()
            },
        ];
        for filter in filters {
            assert_eq!(app.registry.list_users(merchant, &filter, page).await.unwrap(), Vec::new(), "{filter:?}");
        }
        let filter = PaymentFilter { invoice_number: Some(text.into()), limit: 10, ..PaymentFilter::default() };
        assert_eq!(app.registry.list_payment_requests(merchant, &filter).await.unwrap(), Vec::new());
    }
}
