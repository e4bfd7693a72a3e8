//! DuEngage as ServiceStack serves it: the predefined routes and any casing of the paths,
//! members bound without regard to case, answers in the case `?jsconfig=` asks for, JSV as
//! `application/jsv`; and ServiceStack's own JavaScript and Python clients, run against the
//! server as an integrator runs them (.ci/servicestack-clients installs them).

use std::path::PathBuf;
use std::time::Duration;

use reqwest::{Method, Response};
use serde_json::{Value, json};
use tokio::process::Command;

use crate::harness::TestApp;

fn request(invoice: &str) -> Value {
    let path = format!("{}/tests/golden/duengage/onceoffpayment.request.json", env!("CARGO_MANIFEST_DIR"));
    let mut body: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    body["InvoiceNumber"] = json!(invoice);
    body
}

async fn post(app: &TestApp, path: &str, content_type: &str, body: String) -> Response {
    app.request(Method::POST, path, &app.a.admin_key)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn invoices(app: &TestApp) -> Vec<String> {
    let page: Value = app.get("/v1/payment-requests?limit=100", &app.a.admin_key).await.json().await.unwrap();
    let mut invoices: Vec<String> =
        page["data"].as_array().unwrap().iter().map(|r| r["invoice_number"].as_str().unwrap().to_owned()).collect();
    invoices.sort();
    invoices
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_predefined_routes_and_any_casing_of_the_paths_reach_the_operation() {
    let app = TestApp::spawn().await;
    let mut made = Vec::new();
    for (i, path) in [
        "/api/OnceOffPayment",
        "/api/onceoffpayment",
        "/API/ONCEOFFPAYMENT.json",
        "/json/reply/OnceOffPayment",
        "/Json/Reply/onceOffPayment",
        "/OnceOffPayment",
        "/ONCEOFFPAYMENT.JSON?format=json",
    ]
    .into_iter()
    .enumerate()
    {
        let invoice = format!("INV-ROUTE-{i}");
        let response = post(&app, path, "application/json", request(&invoice).to_string()).await;
        assert_eq!(response.status(), 200, "{path}");
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"), "{path}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["InvoiceNumber"], invoice.as_str(), "{path}");
        made.push(invoice);
    }
    for (i, path) in
        ["/jsv/reply/OnceOffPayment", "/api/OnceOffPayment.jsv", "/onceoffpayment?format=jsv"].into_iter().enumerate()
    {
        let invoice = format!("INV-JSV-{i}");
        let response = post(&app, path, "application/json", request(&invoice).to_string()).await;
        assert_eq!(response.status(), 200, "{path}");
        let text = response.text().await.unwrap();
        assert!(
            text.starts_with("{PublicAccessGuid:") && text.contains(&format!("InvoiceNumber:{invoice},")),
            "{path}: {text}"
        );
        made.push(invoice);
    }
    // One-way: made, and nothing to answer.
    for (i, path) in ["/json/oneway/OnceOffPayment", "/jsv/oneway/onceoffpayment"].into_iter().enumerate() {
        let invoice = format!("INV-ONEWAY-{i}");
        let response = post(&app, path, "application/json", request(&invoice).to_string()).await;
        assert_eq!(response.status(), 204, "{path}");
        assert!(response.text().await.unwrap().is_empty());
        made.push(invoice);
    }
    // A refusal on a one-way route is still answered, in the route's format.
    let mut refused = request("INV-ONEWAY-REFUSED");
    refused.as_object_mut().unwrap().remove("FirstName");
    let response = post(&app, "/jsv/oneway/OnceOffPayment", "application/json", refused.to_string()).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().starts_with("{ResponseStatus:{ErrorCode:NotEmpty,"));
    made.sort();
    assert_eq!(invoices(&app).await, made);
    // Other names and other paths are not the operation; other surfaces keep their answers.
    for path in ["/api/OnceOffPayments", "/json/reply/Other", "/onceoffpayment/x"] {
        let response = post(&app, path, "application/json", request("INV-NONE").to_string()).await;
        assert_eq!(response.status(), 404, "{path}");
    }
    assert_eq!(app.get("/V1/USERS", &app.a.admin_key).await.status(), 404, "only ServiceStack's paths ignore case");
    assert_eq!(invoices(&app).await, made, "nothing else was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_bind_without_regard_to_case_and_jsconfig_chooses_the_answers_case() {
    let app = TestApp::spawn().await;
    let camel: serde_json::Map<String, Value> = request("INV-CAMEL")
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, value)| (name[..1].to_ascii_lowercase() + &name[1..], value.clone()))
        .collect();
    let response = post(
        &app,
        "/api/OnceOffPayment?jsconfig=TextCase:CamelCase",
        "application/json",
        Value::Object(camel).to_string(),
    )
    .await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!((answer["invoiceNumber"].as_str(), answer["statusCodesId"].as_i64()), (Some("INV-CAMEL"), Some(1)));
    assert!(answer.get("InvoiceNumber").is_none());

    // Upper case, in JSV sent as application/jsv; the answer in snake_case, in JSV.
    let jsv = "{SEGMENT:Retail,FIRSTNAME:Thandi,lastname:Nkosi,INVOICENUMBER:INV-UPPER,AmountOutstanding:10,\
        currenciesid:1,ChannelsID:2,debtDate:/Date(1738281600000+0200)/,CUSTOMERUNIQUEIDENTIFIER:CUST9}";
    let response = post(&app, "/jsv/reply/OnceOffPayment?jsconfig=tc:sc", "application/jsv", jsv.to_owned()).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(text.starts_with("{public_access_guid:") && text.contains("invoice_number:INV-UPPER"), "{text}");

    // A member given twice once folded is refused, under its name, and nothing is written.
    let twice = r#"{"Segment": "Retail", "segment": "Other", "FirstName": "T", "LastName": "N", "InvoiceNumber": "INV-TWICE",
        "AmountOutstanding": 1, "CurrenciesId": 1, "ChannelsId": 2}"#;
    let response = post(&app, "/api/OnceOffPayment?jsconfig=tc:cc", "application/json", twice.to_owned()).await;
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["responseStatus"]["errors"][0]["fieldName"], "Segment", "{error}");
    // Errors in camelCase too, and an unknown member is still unknown.
    let mut unknown = request("INV-UNKNOWN");
    unknown["Fax"] = json!("1");
    let response = post(&app, "/api/OnceOffPayment?jsconfig=eccn", "application/json", unknown.to_string()).await;
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["responseStatus"]["errors"][0]["errorCode"], "UnknownProperty", "{error}");
    assert_eq!(invoices(&app).await, ["INV-CAMEL", "INV-UPPER"]);
}

/// Where .ci/servicestack-clients installed the clients (`CLIENTELE_SERVICESTACK_CLIENTS`
/// names another place).
fn clients() -> Option<PathBuf> {
    let named = std::env::var_os("CLIENTELE_SERVICESTACK_CLIENTS").map(PathBuf::from);
    let dir =
        named.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/servicestack-clients"));
    let ready = dir.join("node/node_modules/@servicestack/client").exists() && dir.join("python/bin/python").exists();
    if !ready {
        // CI installs them and must run these tests; elsewhere they are optional.
        assert!(
            std::env::var_os("CI").is_none(),
            "the ServiceStack clients are not installed: run .ci/servicestack-clients"
        );
        eprintln!("skipped: no ServiceStack clients in {} (run .ci/servicestack-clients)", dir.display());
        return None;
    }
    Some(dir)
}

/// Runs a client script against `app`; the invoices it says it created.
async fn run(app: &TestApp, program: PathBuf, script: &str, node_path: Option<PathBuf>) -> Vec<String> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/servicestack").join(script);
    let mut command = Command::new(&program);
    command.arg(&script).env("CLIENTELE_URL", &app.url).env("CLIENTELE_KEY", &app.a.admin_key).kill_on_drop(true);
    if let Some(path) = node_path {
        command.env("NODE_PATH", path);
    }
    let output = tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .expect("the client did not finish")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{} failed:\n{stdout}\n{}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servicestacks_javascript_client_works_unchanged() {
    let Some(dir) = clients() else { return };
    let app = TestApp::spawn().await;
    let mut made = run(&app, PathBuf::from("node"), "client.js", Some(dir.join("node/node_modules"))).await;
    assert!(made.len() >= 10, "{made:?}");
    made.sort();
    assert_eq!(invoices(&app).await, made, "each call made its request, and the refused ones none");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servicestacks_python_client_works_unchanged() {
    let Some(dir) = clients() else { return };
    let app = TestApp::spawn().await;
    let mut made = run(&app, dir.join("python/bin/python"), "client.py", None).await;
    assert!(made.len() >= 7, "{made:?}");
    made.sort();
    assert_eq!(invoices(&app).await, made, "each call made its request, and the refused ones none");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_servicestack_reference_describes_the_operation_the_server_binds() {
    let app = TestApp::spawn().await;
    let get = |path: &'static str| {
        let url = format!("{}{path}", app.url);
        let client = app.client.clone();
        async move { client.get(url).send().await.unwrap() }
    };
    // Public, as ServiceStack's are.
    let metadata: Value = get("/types/metadata").await.json().await.unwrap();
    let operation = &metadata["Operations"][0];
    assert_eq!(
        (operation["Request"]["Name"].as_str(), operation["Method"].as_str()),
        (Some("OnceOffPayment"), Some("POST"))
    );
    assert_eq!(operation["Routes"][0]["Path"], "/onceoffpayment");
    // The request described is the one the server documents and binds.
    let document: Value = get("/openapi.json").await.json().await.unwrap();
    let mut bound: Vec<&str> = document["components"]["schemas"]["OnceOffPayment"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut described: Vec<&str> =
        operation["Request"]["Properties"].as_array().unwrap().iter().map(|p| p["Name"].as_str().unwrap()).collect();
    bound.sort_unstable();
    described.sort_unstable();
    assert_eq!(described, bound);
    let response: Vec<&str> =
        operation["Response"]["Properties"].as_array().unwrap().iter().map(|p| p["Name"].as_str().unwrap()).collect();
    assert_eq!(response, ["PublicAccessGuid", "InvoiceNumber", "StatusCodesId", "ResponseStatus"]);
    // A request written with the described members is accepted, and its answer has the
    // described members.
    let answer: Value = post(&app, "/api/OnceOffPayment", "application/json", request("INV-TYPES").to_string())
        .await
        .json()
        .await
        .unwrap();
    let mut answered: Vec<&str> = answer.as_object().unwrap().keys().map(String::as_str).collect();
    answered.push("ResponseStatus");
    assert_eq!(answered, response);

    let csharp = get("/types/csharp").await.text().await.unwrap();
    assert!(
        csharp.contains("public partial class OnceOffPayment\n        : IReturn<OnceOffPaymentResponse>, IPost"),
        "{csharp}"
    );
    assert!(csharp.contains("public virtual Dictionary<string, string> CustomersMeta { get; set; }"));
    let typescript = get("/types/typescript").await.text().await.unwrap();
    assert!(
        typescript.contains("export class OnceOffPayment implements IReturn<OnceOffPaymentResponse>, IPost"),
        "{typescript}"
    );
    assert!(typescript.contains(&format!("BaseUrl: {}", app.url)));
    let page = get("/metadata").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<td>OnceOffPayment</td>"));
}
