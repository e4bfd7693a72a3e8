//! Webhooks end to end: a receiver in Python verifies every delivery with the
//! `standardwebhooks` package (not with Clientele's own signing code), and answers as each
//! test asks: success, failures with `Retry-After`, 410 Gone.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestApp, default_settings, problem};

/// The Python receiver, with `standardwebhooks` installed: `CLIENTELE_TEST_PYTHON`, or the
/// virtual environment `.ci/run` makes in `target/webhooks-venv`.
fn python() -> Option<String> {
    if let Ok(python) = std::env::var("CLIENTELE_TEST_PYTHON") {
        return Some(python);
    }
    let venv = format!("{}/../../target/webhooks-venv/bin/python", env!("CARGO_MANIFEST_DIR"));
    let found = std::path::Path::new(&venv).exists();
    if !found && std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!("the webhook receiver needs Python with standardwebhooks: .ci/run installs it in target/webhooks-venv");
    }
    found.then_some(venv)
}

struct Receiver {
    child: Child,
    url: String,
    client: reqwest::Client,
}

impl Receiver {
    fn start() -> Option<Receiver> {
        let Some(python) = python() else {
            eprintln!("skipped: no Python with standardwebhooks (run .ci/run, or set CLIENTELE_TEST_PYTHON)");
            return None;
        };
        let script = format!("{}/tests/webhooks/receiver.py", env!("CARGO_MANIFEST_DIR"));
        let mut child = Command::new(python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the receiver starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().strip_prefix("PORT ").expect("the receiver says its port").to_owned();
        Some(Receiver { child, url: format!("http://127.0.0.1:{port}"), client: reqwest::Client::new() })
    }

    fn hook(&self, name: &str) -> String {
        format!("{}/hook/{name}", self.url)
    }

    async fn put(&self, what: &str, name: &str, body: Value) {
        let response = self.client.put(format!("{}/_{what}/{name}", self.url)).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 204);
    }

    async fn log(&self) -> Vec<Value> {
        self.client.get(format!("{}/_log", self.url)).send().await.unwrap().json().await.unwrap()
    }

    /// What `hook` received, once `done` holds of it (or after 20 seconds).
    async fn until(&self, hook: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let got: Vec<Value> = self.log().await.into_iter().filter(|entry| entry["hook"] == hook).collect();
            if done(&got) || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn app() -> TestApp {
    let mut settings = default_settings();
    settings.webhooks.schedule = clientele_domain::webhook::RetrySchedule::parse("0,0.3,0.3,0.3").unwrap();
    settings.webhooks.poll = Duration::from_millis(50);
    TestApp::spawn_with(settings).await
}

async fn endpoint(app: &TestApp, body: Value) -> Value {
    let response = app.post("/v1/webhook-endpoints", &app.a.admin_key, body).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    app.secret(created["secret"].as_str().unwrap());
    created
}

/// An endpoint's deliveries, once every one of them is as `done` says (or after 10 seconds).
async fn deliveries_when(app: &TestApp, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let page: Value = app.get(path, &app.a.admin_key).await.json().await.unwrap();
        let all_done = page["data"].as_array().is_some_and(|data| !data.is_empty() && data.iter().all(&done));
        if all_done || Instant::now() > deadline {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn user(app: &TestApp, key: &str, customer_ref: &str) -> Value {
    let response = app.post("/v1/users", key, json!({"customer_ref": customer_ref, "given_name": "Lindiwe"})).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_delivery_verifies_with_the_standard_webhooks_library_and_skips_the_echoes() {
    let Some(receiver) = Receiver::start() else { return };
    let app = app().await;
    let (client_id, client) = app.key_for_a("client").await;
    let all = endpoint(&app, json!({"url": receiver.hook("all")})).await;
    assert!(all["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(all["event_types"], json!([]));
    receiver.put("secrets", "all", json!([all["secret"]])).await;
    let others = endpoint(
        &app,
        json!({"url": receiver.hook("others"), "exclude_actors": [client_id],
        "event_types": ["user.created"], "description": "not my own writes"}),
    )
    .await;
    receiver.put("secrets", "others", json!([others["secret"]])).await;

    let mine = user(&app, &client, "MINE-1").await;
    let theirs = user(&app, &app.a.admin_key, "THEIRS-1").await;
    let erased = app.request(Method::DELETE, &format!("/v1/users/{}", mine["id"].as_str().unwrap()), &client);
    assert_eq!(erased.send().await.unwrap().status(), 204);

    let got = receiver.until("all", |got| got.len() >= 3).await;
    assert_eq!(got.len(), 3, "{got:?}");
    for delivery in &got {
        assert_eq!(delivery["verified"], json!([true]), "{delivery}");
        assert_eq!(delivery["body"]["data"]["id"], delivery["id"], "webhook-id is the event's id");
        assert_eq!(delivery["body"]["type"], delivery["body"]["data"]["type"]);
    }
    let types: Vec<&str> = got.iter().map(|d| d["body"]["type"].as_str().unwrap()).collect();
    assert_eq!(types.iter().filter(|t| **t == "user.created").count(), 2);
    assert!(types.contains(&"user.erased"));
    let body = serde_json::to_string(&got).unwrap();
    assert!(!body.contains("Lindiwe"), "a delivery holds a personal value: {body}");

    // The other endpoint takes creations only, and not those made with the excluded key.
    let got = receiver.until("others", |got| !got.is_empty()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got_after = receiver.until("others", |_| true).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got_after.len(), 1, "{got_after:?}");
    assert_eq!(got[0]["body"]["data"]["resource"]["id"], theirs["id"]);
    assert_eq!(got[0]["verified"], json!([true]));

    // Each delivery is listed with its attempt.
    let path = format!("/v1/webhook-endpoints/{}/deliveries", all["id"].as_str().unwrap());
    let listed = deliveries_when(&app, &path, |delivery| delivery["status"] == "succeeded").await;
    let listed = listed["data"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    for delivery in listed {
        assert_eq!(delivery["status"], "succeeded");
        assert_eq!(delivery["attempts"][0]["status_code"], 204);
        assert_eq!(delivery["attempts"][0]["number"], 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_retried_on_the_schedule_and_410_disables_the_endpoint() {
    let Some(receiver) = Receiver::start() else { return };
    let app = app().await;
    let flaky = endpoint(&app, json!({"url": receiver.hook("flaky"), "event_types": ["user.created"]})).await;
    receiver.put("secrets", "flaky", json!([flaky["secret"]])).await;
    receiver.put("behaviour", "flaky", json!({"fail_first": 2, "status": 503, "retry_after": "1"})).await;
    let gone = endpoint(&app, json!({"url": receiver.hook("gone")})).await;
    receiver.put("behaviour", "gone", json!({"gone": true})).await;
    let started = Instant::now();
    user(&app, &app.a.admin_key, "R-1").await;

    let got = receiver.until("flaky", |got| got.len() >= 3).await;
    assert_eq!(got.iter().map(|d| d["answered"].as_u64().unwrap()).collect::<Vec<_>>(), [503, 503, 204]);
    assert!(got.iter().all(|d| d["id"] == got[0]["id"]), "every attempt has the same webhook-id");
    assert!(got.iter().all(|d| d["verified"] == json!([true])));
    assert!(started.elapsed() >= Duration::from_secs(2), "Retry-After: 1 was not honoured");
    let path = format!("/v1/webhook-endpoints/{}/deliveries", flaky["id"].as_str().unwrap());
    // The receiver answers before the server records the answer.
    let listed = deliveries_when(&app, &path, |delivery| delivery["status"] == "succeeded").await;
    let attempts = listed["data"][0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.iter().map(|a| a["status_code"].as_u64().unwrap()).collect::<Vec<_>>(), [503, 503, 204]);
    assert_eq!(listed["data"][0]["status"], "succeeded");

    // 410 disables the endpoint, and says so in the feed.
    receiver.until("gone", |got| !got.is_empty()).await;
    let path = format!("/v1/webhook-endpoints/{}", gone["id"].as_str().unwrap());
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut view = Value::Null;
    while Instant::now() < deadline {
        view = app.get(&path, &app.a.admin_key).await.json().await.unwrap();
        if view["enabled"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(view["enabled"], false);
    assert_eq!(view["disabled_reason"], "gone");
    let feed: Value =
        app.get("/v1/events?type=webhook_endpoint.disabled", &app.a.admin_key).await.json().await.unwrap();
    assert_eq!(feed["data"][0]["resource"], json!({"type": "webhook_endpoint", "id": gone["id"]}));
    assert_eq!(feed["data"][0]["surface"], "system");

    // A retry asked for sends it once more.
    let listed = deliveries_when(&app, &format!("{path}/deliveries"), |delivery| delivery["status"] == "failed").await;
    assert_eq!(listed["data"][0]["status"], "failed");
    receiver.put("behaviour", "gone", json!({})).await;
    let enable = app.request(Method::PATCH, &path, &app.a.admin_key).json(&json!({"enabled": true}));
    assert_eq!(enable.send().await.unwrap().status(), 200);
    let retry = format!("{path}/deliveries/{}/retry", listed["data"][0]["id"].as_str().unwrap());
    assert_eq!(app.post(&retry, &app.a.admin_key, json!({})).await.status(), 202);
    let got = receiver.until("gone", |got| got.len() >= 2).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[1]["answered"], 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_secret_signs_alongside_the_old_one_during_the_overlap() {
    let Some(receiver) = Receiver::start() else { return };
    let app = app().await;
    let created = endpoint(&app, json!({"url": receiver.hook("rotating")})).await;
    let path = format!("/v1/webhook-endpoints/{}/rotate-secret", created["id"].as_str().unwrap());
    let rotated: Value = app.post(&path, &app.a.admin_key, json!({})).await.json().await.unwrap();
    app.secret(rotated["secret"].as_str().unwrap());
    assert_ne!(rotated["secret"], created["secret"]);
    assert!(rotated["previous_secret_expires_at"].is_string());
    receiver
        .put(
            "secrets",
            "rotating",
            json!([created["secret"], rotated["secret"], "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]),
        )
        .await;
    user(&app, &app.a.admin_key, "R-1").await;
    let got = receiver.until("rotating", |got| !got.is_empty()).await;
    assert_eq!(got[0]["signatures"], 2);
    assert_eq!(got[0]["verified"], json!([true, true, false]), "old and new verify; another secret does not");
    // The secret is never shown again.
    let read: Value = app
        .get(&format!("/v1/webhook-endpoints/{}", created["id"].as_str().unwrap()), &app.a.admin_key)
        .await
        .json()
        .await
        .unwrap();
    assert!(read.get("secret").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_endpoints_are_refused_by_name_and_private_addresses_unless_allowed() {
    let mut settings = default_settings();
    settings.webhooks.allow_private = false;
    let app = TestApp::spawn_with(settings).await;
    let refused = [
        (json!({"url": "http://127.0.0.1:9/hook"}), "url"),
        (json!({"url": "http://localhost/hook"}), "url"),
        (json!({"url": "http://10.1.2.3/hook"}), "url"),
        (json!({"url": "http://[::1]/hook"}), "url"),
        (json!({"url": "ftp://example.com/hook"}), "url"),
        (json!({"description": "no url"}), "url"),
        (json!({"url": "https://example.com/hook", "event_types": ["user.exploded"]}), "event_types[0]"),
        (json!({"url": "https://example.com/hook", "exclude_actors": ["nope"]}), "exclude_actors[0]"),
    ];
    for (body, field) in refused {
        let (status, problem) = problem(app.post("/v1/webhook-endpoints", &app.a.admin_key, body.clone()).await).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
    }
    let (_, client) = app.key_for_a("client").await;
    let body = json!({"url": "https://example.com/hook"});
    assert_eq!(app.post("/v1/webhook-endpoints", &client, body).await.status(), 403);
    let listed: Value = app.get("/v1/webhook-endpoints", &app.a.admin_key).await.json().await.unwrap();
    assert_eq!(listed["data"], json!([]), "a refused endpoint was written");
}

/// An endpoint with a backlog does not keep another waiting: with room for two attempts at a
/// time, the second endpoint's first delivery comes long before the first endpoint's last.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_take_turns_when_both_have_a_backlog() {
    let Some(receiver) = Receiver::start() else { return };
    let mut settings = default_settings();
    settings.webhooks.poll = Duration::from_millis(50);
    settings.webhooks.concurrency = 2;
    settings.webhooks.per_endpoint = 1;
    let app = TestApp::spawn_with(settings).await;
    for name in ["first", "second"] {
        let created = endpoint(&app, json!({"url": receiver.hook(name), "event_types": ["user.created"]})).await;
        receiver.put("secrets", name, json!([created["secret"]])).await;
    }
    let item = |n: u32| {
        json!({"Name": "Sipho", "Surname": "Dube", "Email": format!("turns{n}@example.com"), "Country": "ZA",
            "ID": format!("TURNS{n}"), "ClientId": format!("T-{n}")})
    };
    let batch = json!({"UserPostRequest": (0..40).map(item).collect::<Vec<_>>()});
    let response = app.post("/v1/realpay/MERCHANT-A/maintain/omni/users", &app.a.admin_key, batch).await;
    assert_eq!(response.status(), 200);
    receiver.until("second", |got| got.len() >= 40).await;
    let log = receiver.until("first", |got| got.len() >= 40).await;
    assert_eq!(log.len(), 40);
    let hooks: Vec<String> =
        receiver.log().await.iter().map(|entry| entry["hook"].as_str().unwrap().to_owned()).collect();
    let second_first = hooks.iter().position(|hook| hook == "second").unwrap();
    let first_last = hooks.iter().rposition(|hook| hook == "first").unwrap();
    assert!(second_first < first_last / 2, "the second endpoint waited for the first: {hooks:?}");
}
