//! Health, readiness, metrics, the OpenAPI document, the docs page and request ids.

use serde_json::Value;

use crate::harness::{TestApp, problem};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_readiness_answer_without_credentials() {
    let app = TestApp::spawn().await;
    for path in ["/healthz", "/readyz"] {
        let response = app.client.get(format!("{}{path}", app.url)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.json::<Value>().await.unwrap()["status"], "ok");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_by_route_and_status_and_time_the_store() {
    let app = TestApp::spawn().await;
    app.get("/v1/merchant", &app.a.admin_key).await;
    app.get("/v1/merchant", "Bearer nothing").await;
    let response = app.client.get(format!("{}/metrics", app.url)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = response.text().await.unwrap();
    assert!(
        text.contains(r#"clientele_http_requests_total{method="GET",route="/v1/merchant",status="200"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"clientele_http_requests_total{method="GET",route="/v1/merchant",status="401"} 1"#));
    assert!(text.contains("clientele_http_request_duration_seconds_bucket"));
    let backend = if app.db.is_postgres() { "postgres" } else { "sqlite" };
    assert!(text.contains(&format!(r#"clientele_store_operation_duration_seconds_count{{backend="{backend}",operation="merchant",outcome="ok"}}"#)), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_every_endpoint_of_every_surface() {
    let app = TestApp::spawn().await;
    let document: Value =
        app.client.get(format!("{}/openapi.json", app.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(document["info"]["title"], "Clientele");
    let paths = document["paths"].as_object().unwrap();
    for (path, method) in [
        ("/v1/auth/token", "post"),
        ("/v1/merchants", "post"),
        ("/v1/merchants", "get"),
        ("/v1/merchant", "get"),
        ("/v1/api-keys", "post"),
        ("/v1/api-keys", "get"),
        ("/v1/api-keys/{id}/revoke", "post"),
        ("/v1/interaction-points", "post"),
        ("/v1/interaction-points", "get"),
        ("/v1/interaction-points/{id}", "get"),
        ("/v1/interaction-points/{id}/deactivate", "post"),
        ("/v1/properties", "post"),
        ("/v1/properties", "get"),
        ("/v1/properties/{id}/deactivate", "post"),
        ("/v1/users", "post"),
        ("/v1/users", "get"),
        ("/v1/users/{id}", "get"),
        ("/v1/users/{id}", "put"),
        ("/v1/users/{id}", "patch"),
        ("/v1/users/{id}", "delete"),
        ("/users", "post"),
        ("/users/{userId}", "get"),
        ("/users/{userId}/", "get"),
        ("/users/{userId}", "put"),
        ("/users/{userId}", "patch"),
        ("/users/{userId}", "delete"),
        ("/auth/login", "post"),
        ("/v1/realpay/{merchant_number}/maintain/omni/users", "post"),
        ("/v1/realpay/{merchant_number}/maintain/omni/users", "put"),
        ("/v1/realpay/{merchant_number}/maintain/omni/users", "get"),
        ("/v1/users/{id}/contracts", "post"),
        ("/v1/users/{id}/contracts", "get"),
        ("/v1/contracts/{id}", "get"),
        ("/v1/contracts/{id}", "patch"),
        ("/v1/contracts/{id}/cancel", "post"),
        ("/v1/contracts/{id}/schedule", "get"),
        ("/v1/merchant", "patch"),
        ("/api/v1/create-user", "post"),
        ("/onceoffpayment", "post"),
        ("/onceoffpayment.json", "post"),
        ("/onceoffpayment.jsv", "post"),
        ("/pay/{public_access_guid}", "get"),
        ("/v1/payment-requests", "post"),
        ("/v1/payment-requests", "get"),
        ("/v1/payment-requests/{id}", "get"),
        ("/v1/payment-requests/{id}/cancel", "post"),
        ("/v1/payment-requests/{id}/mark-paid", "post"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
    ] {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} is not documented");
    }
    assert_eq!(document["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    assert!(document["components"]["schemas"]["Problem"].is_object());
    // Read-only members are not offered as writable.
    let body = &document["components"]["schemas"]["UserBody"]["properties"];
    assert!(body["email"].is_object() && body.get("loyalty_points").is_none() && body.get("id").is_none(), "{body}");
}

/// What the shared layers answer is documented on every operation they can answer it on, in
/// the operation's own surface's format (Schemathesis found 401, 415 and 422 undocumented).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_the_shared_refusals_of_every_operation() {
    let app = TestApp::spawn().await;
    let document: Value =
        app.client.get(format!("{}/openapi.json", app.url)).send().await.unwrap().json().await.unwrap();
    let schema = |operation: &Value, status: &str| {
        let response = &operation["responses"][status];
        assert!(response.is_object(), "{status} is not documented on {operation}");
        let content = response["content"].as_object().and_then(|c| c.values().next().cloned());
        content.map(|c| c["schema"]["$ref"].as_str().unwrap_or_default().rsplit('/').next().unwrap().to_owned())
    };
    let mut secured = 0;
    let mut operation_ids = std::collections::HashSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            // Unique, as OpenAPI requires (the native and Convercus handlers share names).
            let id = operation["operationId"].as_str().unwrap();
            assert!(operation_ids.insert(id.to_owned()), "operationId {id} of {method} {path} is not unique");
            let public = operation["security"] == serde_json::json!([{}]);
            let error = match operation["tags"][0].as_str().unwrap() {
                "convercus" => Some("ConvercusErrorBody"),
                "realpay" => Some("ErrorBody"),
                "gateway" => Some("GatewayAnswer"),
                "duengage" | "operations" => None,
                _ => Some("Problem"),
            };
            let mut expected: Vec<&str> = vec!["414", "431"];
            if !public {
                secured += 1;
                expected.extend(["401", "403", "429"]);
            }
            if operation.get("requestBody").is_some() {
                expected.extend(["400", "413", "415"]);
            }
            let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
            if parameters.iter().any(|p| p["name"] == "Idempotency-Key") {
                expected.push("422");
            }
            for status in expected {
                assert_eq!(schema(operation, status).as_deref(), error, "{status} of {method} {path}");
            }
        }
    }
    assert!(secured > 40, "{secured} operations need a credential");
    let rate_limited = &document["paths"]["/v1/users"]["get"]["responses"]["429"];
    assert!(rate_limited["headers"]["Retry-After"].is_object(), "{rate_limited}");
}

/// Text members take a JSON number too, and the document says so (Schemathesis had a
/// contract number sent as `0` accepted where the document allowed only a string).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_says_which_members_take_numbers_for_text() {
    let app = TestApp::spawn().await;
    let document: Value =
        app.client.get(format!("{}/openapi.json", app.url)).send().await.unwrap().json().await.unwrap();
    let schemas = &document["components"]["schemas"];
    assert_eq!(schemas["Text"]["type"], serde_json::json!(["string", "number"]));
    assert_eq!(schemas["DecimalText"]["type"], serde_json::json!(["string", "number"]));
    for (schema, member) in [
        ("NewContract", "contract_number"),
        ("UserItem", "Mobile"),
        ("ConvercusUserInput", "zipCode"),
        ("CreateUser", "customerId"),
        ("OnceOffPayment", "FirstName"),
    ] {
        let text = schemas[schema]["properties"][member].to_string();
        assert!(text.contains("#/components/schemas/Text"), "{schema}.{member}: {text}");
    }
    let user = app.post("/v1/users", &app.a.admin_key, serde_json::json!({"customer_ref": 4711})).await;
    assert_eq!(user.status(), 201);
    let id = user.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let contract = serde_json::json!({"contract_number": 0, "instalment_amount": 123.45, "number_of_instalments": 12,
        "instalment_start": "2025-01-25 08:00", "tracking_code": "00", "frequency_code": "MNTH", "collection_day": 25});
    let created = app.post(&format!("/v1/users/{id}/contracts"), &app.a.admin_key, contract).await;
    assert_eq!(created.status(), 201);
    assert_eq!(created.json::<Value>().await.unwrap()["contract_number"], "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_is_served_with_its_own_assets() {
    let app = TestApp::spawn().await;
    let page = app.client.get(format!("{}/docs/", app.url)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(!html.contains("https://"), "the page must not load anything from elsewhere");
    for asset in ["swagger-ui.css", "swagger-ui-bundle.js", "swagger-initializer.js"] {
        let response = app.client.get(format!("{}/docs/{asset}", app.url)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{asset}");
    }
    let initializer = app.client.get(format!("{}/docs/swagger-initializer.js", app.url)).send().await.unwrap();
    assert!(initializer.text().await.unwrap().contains("/openapi.json"));
}

/// Every `http://`, `https://` or scheme-relative (`"//host`) URL in `text` whose host is
/// not `own`, but for the SVG namespace of inline images (a name, never fetched).
fn foreign_urls(text: &str, own: &str) -> Vec<String> {
    let mut found = Vec::new();
    for scheme in ["http://", "https://", "\"//", "'//", "(//"] {
        for (at, _) in text.match_indices(scheme) {
            let rest = &text[at + scheme.len()..];
            let host: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || ".-:".contains(*c)).collect();
            if host != own && host != "www.w3.org" {
                found.push(format!("{scheme}{host}"));
            }
        }
    }
    found
}

/// `/docs` asks nothing of any other host, whatever host name the server is reached by:
/// Swagger UI's online validator is off (`validatorUrl: null`), the document is read by a
/// relative URL, the page's policy allows only the server itself, and the title names
/// Clientele.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_names_clientele_and_loads_nothing_from_another_host() {
    let app = TestApp::spawn().await;
    let own = app.url.trim_start_matches("http://").to_owned();
    let get =
        |path: &str, host: &str| app.client.get(format!("{}{path}", app.url)).header("host", host.to_owned()).send();
    for host in [own.as_str(), "docs.example.org", "10.1.2.3:8080"] {
        let page = get("/docs", host).await.unwrap();
        assert_eq!(page.status(), 200, "{host}: /docs leads to the page");
        let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(policy.starts_with("default-src 'self';"), "{policy}");
        assert!(!policy.contains("http"), "{policy}");
        let html = page.text().await.unwrap();
        let title = html.split_once("<title>").and_then(|(_, rest)| rest.split_once("</title>")).unwrap().0;
        assert!(title.contains("Clientele"), "{title}");
        assert_eq!(foreign_urls(&html, &own), Vec::<String>::new(), "{host}: the page");

        let initializer = get("/docs/swagger-initializer.js", host).await.unwrap().text().await.unwrap();
        let compact: String = initializer.chars().filter(|c| !c.is_whitespace()).collect();
        assert!(compact.contains("validatorUrl:null,"), "the online validator must be off: {initializer}");
        assert!(compact.contains(r#"url:"/openapi.json""#), "{initializer}");
        assert!(!compact.contains("configUrl") && !compact.contains("urls:"), "{initializer}");
        assert_eq!(foreign_urls(&initializer, &own), Vec::<String>::new(), "{host}: the initializer");
        for sheet in ["swagger-ui.css", "index.css"] {
            let css = get(&format!("/docs/{sheet}"), host).await.unwrap().text().await.unwrap();
            assert_eq!(foreign_urls(&css, &own), Vec::<String>::new(), "{host}: {sheet}");
        }
    }
    // The document the page reads is this server's, and names no server elsewhere.
    let document: Value = get("/openapi.json", "docs.example.org").await.unwrap().json().await.unwrap();
    assert_eq!(document["info"]["title"], "Clientele");
    assert!(document.get("servers").is_none_or(|servers| foreign_urls(&servers.to_string(), &own).is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_a_request_id_and_echoes_one_given() {
    let app = TestApp::spawn().await;
    let made = app.client.get(format!("{}/healthz", app.url)).send().await.unwrap();
    let id = made.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok());
    let given =
        app.client.get(format!("{}/nowhere", app.url)).header("x-request-id", "trace-me-42").send().await.unwrap();
    assert_eq!(given.headers()["x-request-id"], "trace-me-42");
    assert_eq!(problem(given).await.0, 404);
}

/// The log check at the end of every test can fail: personal data a test stored, once
/// logged, fails it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "stored personal value(s) appear in the captured log")]
async fn personal_data_in_the_log_fails_the_test() {
    let app = TestApp::spawn().await;
    let email = format!("leak.{}@leak.example.net", uuid::Uuid::new_v4().simple());
    let response = app.post("/v1/users", &app.a.admin_key, serde_json::json!({"email": email})).await;
    assert_eq!(response.status(), 201);
    tracing::info!(email = %email, "a careless line");
}
