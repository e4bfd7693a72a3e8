//! "Add ServiceStack Reference": the operation's request and response DTOs as ServiceStack
//! serves them, for `x csharp` and `npx get-dtos` (`/types/csharp`, `/types/typescript`),
//! as metadata (`/types/metadata`), and the list of operations (`/metadata`). Public, as
//! ServiceStack's are; every text is written from one description of the DTOs.

use axum::http::header::{CONTENT_TYPE, HOST};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, html};
use serde_json::{Value, json};

/// A member's type, as the DuEngage document gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    String,
    DateTime,
    Double,
    Int,
    Long,
    Guid,
    StringMap,
    ResponseStatus,
}

impl Kind {
    fn csharp(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::DateTime => "DateTime",
            Kind::Double => "double",
            Kind::Int => "int",
            Kind::Long => "long",
            Kind::Guid => "Guid",
            Kind::StringMap => "Dictionary<string, string>",
            Kind::ResponseStatus => "ResponseStatus",
        }
    }

    fn typescript(self) -> &'static str {
        match self {
            Kind::String | Kind::DateTime | Kind::Guid => "string",
            Kind::Double | Kind::Int | Kind::Long => "number",
            Kind::StringMap => "{ [index: string]: string; }",
            Kind::ResponseStatus => "ResponseStatus",
        }
    }

    /// The name ServiceStack's metadata gives the type, and its generic arguments.
    fn metadata(self) -> Value {
        match self {
            Kind::StringMap => json!({"Type": "Dictionary`2", "GenericArgs": ["String", "String"]}),
            Kind::String => json!({"Type": "String"}),
            Kind::DateTime => json!({"Type": "DateTime"}),
            Kind::Double => json!({"Type": "Double"}),
            Kind::Int => json!({"Type": "Int32"}),
            Kind::Long => json!({"Type": "Int64"}),
            Kind::Guid => json!({"Type": "Guid"}),
            Kind::ResponseStatus => json!({"Type": "ResponseStatus", "Namespace": "ServiceStack"}),
        }
    }
}

/// One member of a DTO: its name, type, and whether the document marks it required.
pub(crate) struct Member(pub &'static str, pub Kind, pub bool);

/// The request, as the DuEngage document lists it.
pub(crate) const REQUEST: &[Member] = &[
    Member("Segment", Kind::String, true),
    Member("FirstName", Kind::String, true),
    Member("LastName", Kind::String, true),
    Member("Address", Kind::String, false),
    Member("City", Kind::String, false),
    Member("Region", Kind::String, false),
    Member("Suburb", Kind::String, false),
    Member("PostalCode", Kind::String, false),
    Member("MobileNumber", Kind::String, false),
    Member("Email", Kind::String, false),
    Member("IdNumber", Kind::String, false),
    Member("PassportNumber", Kind::String, false),
    Member("InvoiceNumber", Kind::String, true),
    Member("DebtDate", Kind::DateTime, false),
    Member("AmountOutstanding", Kind::Double, true),
    Member("CurrenciesId", Kind::Int, true),
    Member("ChannelsId", Kind::Int, true),
    Member("DebtMeta", Kind::StringMap, false),
    Member("CustomersMeta", Kind::StringMap, false),
    Member("UrlToDocument", Kind::String, false),
    Member("CustomerUniqueIdentifier", Kind::String, false),
];

/// The answer.
pub(crate) const RESPONSE: &[Member] = &[
    Member("PublicAccessGuid", Kind::Guid, false),
    Member("InvoiceNumber", Kind::String, false),
    Member("StatusCodesId", Kind::Long, false),
    Member("ResponseStatus", Kind::ResponseStatus, false),
];

const OPERATION: &str = "OnceOffPayment";
const RESPONSE_NAME: &str = "OnceOffPaymentResponse";
const ROUTE: &str = "/onceoffpayment";
const NAMESPACE: &str = "DuEngage";

fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get(HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}")
}

fn options(base: &str) -> String {
    format!("/* Options:\nVersion: 8.0\nBaseUrl: {base}\n\n//GlobalNamespace: {NAMESPACE}\n*/\n\n")
}

/// The DTOs in C#, as `x csharp` writes them.
pub(crate) fn csharp(base: &str) -> String {
    let mut out = options(base);
    out.push_str("using System;\nusing System.Collections.Generic;\nusing ServiceStack;\nusing ServiceStack.DataAnnotations;\n\n");
    out.push_str(&format!("namespace {NAMESPACE}\n{{\n"));
    out.push_str(&format!(
        "    [Route(\"{ROUTE}\", \"POST\")]\n    public partial class {OPERATION}\n        : IReturn<{RESPONSE_NAME}>, IPost\n    {{\n"
    ));
    out.push_str(&format!("        public {OPERATION}()\n        {{\n"));
    for Member(name, _, _) in REQUEST.iter().filter(|m| m.1 == Kind::StringMap) {
        out.push_str(&format!("            {name} = new Dictionary<string, string>{{}};\n"));
    }
    out.push_str("        }\n\n");
    for Member(name, kind, required) in REQUEST {
        if *required {
            out.push_str("        [ApiMember(IsRequired=true)]\n");
        }
        out.push_str(&format!("        public virtual {} {name} {{ get; set; }}\n", kind.csharp()));
    }
    out.push_str(&format!("    }}\n\n    public partial class {RESPONSE_NAME}\n    {{\n"));
    for Member(name, kind, _) in RESPONSE {
        out.push_str(&format!("        public virtual {} {name} {{ get; set; }}\n", kind.csharp()));
    }
    out.push_str("    }\n\n}\n");
    out
}

/// The DTOs in TypeScript, as `npx get-dtos typescript` writes them, with the member names
/// the server answers with.
pub(crate) fn typescript(base: &str) -> String {
    let mut out = options(base);
    out.push_str("export interface IReturn<T>\n{\n    createResponse(): T;\n}\n\nexport interface IPost\n{\n}\n\n");
    out.push_str(
        "export class ResponseError\n{\n    public ErrorCode: string;\n    public FieldName: string;\n    public Message: string;\n    \
         public Meta?: { [index: string]: string; };\n\n    public constructor(init?: Partial<ResponseError>) { (Object as any).assign(this, init); }\n}\n\n",
    );
    out.push_str(
        "export class ResponseStatus\n{\n    public ErrorCode: string;\n    public Message?: string;\n    public StackTrace?: string;\n    \
         public Errors?: ResponseError[];\n    public Meta?: { [index: string]: string; };\n\n    \
         public constructor(init?: Partial<ResponseStatus>) { (Object as any).assign(this, init); }\n}\n\n",
    );
    out.push_str(&format!("export class {RESPONSE_NAME}\n{{\n"));
    for Member(name, kind, _) in RESPONSE {
        out.push_str(&format!("    public {name}?: {};\n", kind.typescript()));
    }
    out.push_str(&format!(
        "\n    public constructor(init?: Partial<{RESPONSE_NAME}>) {{ (Object as any).assign(this, init); }}\n}}\n\n"
    ));
    out.push_str(&format!(
        "// @Route(\"{ROUTE}\", \"POST\")\nexport class {OPERATION} implements IReturn<{RESPONSE_NAME}>, IPost\n{{\n"
    ));
    for Member(name, kind, required) in REQUEST {
        let optional = if *required { "" } else { "?" };
        if *required {
            out.push_str("    // @ApiMember(IsRequired=true)\n");
        }
        out.push_str(&format!("    public {name}{optional}: {};\n", kind.typescript()));
    }
    out.push_str(&format!(
        "\n    public constructor(init?: Partial<{OPERATION}>) {{ (Object as any).assign(this, init); }}\n    \
         public getTypeName() {{ return '{OPERATION}'; }}\n    public getMethod() {{ return 'POST'; }}\n    \
         public createResponse() {{ return new {RESPONSE_NAME}(); }}\n}}\n\n"
    ));
    out
}

fn properties(members: &[Member]) -> Vec<Value> {
    members
        .iter()
        .map(|Member(name, kind, required)| {
            let mut property = serde_json::Map::new();
            property.insert("Name".to_owned(), json!(name));
            if let Value::Object(described) = kind.metadata() {
                property.extend(described);
            }
            if *required {
                property.insert("IsRequired".to_owned(), json!(true));
            }
            Value::Object(property)
        })
        .collect()
}

/// ServiceStack's `MetadataTypes` for the operation.
pub(crate) fn metadata(base: &str) -> Value {
    json!({
        "Config": {"BaseUrl": base},
        "Namespaces": ["System", "System.Collections.Generic", "ServiceStack", NAMESPACE],
        "Operations": [{
            "Request": {"Name": OPERATION, "Namespace": NAMESPACE, "Implements": [{"Name": "IPost"}], "Properties": properties(REQUEST)},
            "Response": {"Name": RESPONSE_NAME, "Namespace": NAMESPACE, "Properties": properties(RESPONSE)},
            "Actions": ["POST"],
            "Method": "POST",
            "Routes": [{"Path": ROUTE, "Verbs": "POST"}],
            "ReturnType": {"Name": RESPONSE_NAME, "Namespace": NAMESPACE},
        }],
        "Types": [],
    })
}

fn text(content_type: &'static str, body: String) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// The operation's DTOs in C#.
#[utoipa::path(get, path = "/types/csharp", tag = "duengage", security(()),
    responses((status = 200, description = "The request and response DTOs in C# (Add ServiceStack Reference)", content_type = "text/plain")))]
pub(crate) async fn types_csharp(headers: HeaderMap) -> Response {
    text("text/plain; charset=utf-8", csharp(&base_url(&headers)))
}

/// The operation's DTOs in TypeScript.
#[utoipa::path(get, path = "/types/typescript", tag = "duengage", security(()),
    responses((status = 200, description = "The request and response DTOs in TypeScript (Add ServiceStack Reference)", content_type = "text/plain")))]
pub(crate) async fn types_typescript(headers: HeaderMap) -> Response {
    text("text/plain; charset=utf-8", typescript(&base_url(&headers)))
}

/// The operation as ServiceStack's metadata types.
#[utoipa::path(get, path = "/types/metadata", tag = "duengage", security(()),
    responses((status = 200, description = "ServiceStack MetadataTypes: the operation, its routes, request and response DTOs", content_type = "application/json")))]
pub(crate) async fn types_metadata(headers: HeaderMap) -> Response {
    text("application/json; charset=utf-8", metadata(&base_url(&headers)).to_string())
}

/// The operations this ServiceStack service supports.
#[utoipa::path(get, path = "/metadata", tag = "duengage", security(()),
    responses((status = 200, description = "The list of operations, their formats and routes", content_type = "text/html")))]
pub(crate) async fn metadata_page() -> Response {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "DuEngage Metadata" } }
            body {
                h1 { "DuEngage" }
                p { "The following operations are supported." }
                table {
                    tr { th { "Operation" } th { "Formats" } th { "Routes" } }
                    tr {
                        td { (OPERATION) }
                        td { "JSON, JSV" }
                        td { "POST " (ROUTE) ", /api/" (OPERATION) ", /json/reply/" (OPERATION) ", /jsv/reply/" (OPERATION) }
                    }
                }
                p { "DTOs: " a href="/types/csharp" { "C#" } ", " a href="/types/typescript" { "TypeScript" } ", " a href="/types/metadata" { "metadata" } }
            }
        }
    }
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_described_request_is_the_one_bound() {
        let names: Vec<&str> = REQUEST.iter().map(|m| m.0).collect();
        assert_eq!(names, crate::OnceOffPayment::MEMBERS);
    }

    #[test]
    fn each_language_declares_every_member() {
        let (cs, ts) = (csharp("http://h"), typescript("http://h"));
        for Member(name, kind, required) in REQUEST.iter().chain(RESPONSE) {
            assert!(cs.contains(&format!("public virtual {} {name} {{ get; set; }}", kind.csharp())), "{name}");
            let optional = if *required { "" } else { "?" };
            assert!(ts.contains(&format!("public {name}{optional}: {};", kind.typescript())), "{name}");
        }
        assert!(cs.contains("public partial class OnceOffPayment\n        : IReturn<OnceOffPaymentResponse>, IPost"));
        assert!(ts.contains("public getTypeName() { return 'OnceOffPayment'; }"));
    }
}
