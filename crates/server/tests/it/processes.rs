//! The real `clientele` binary: its CLI, `serve --demo`, several processes on one database,
//! and what its log holds.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use crate::harness::TestDb;

const BINARY: &str = env!("CARGO_BIN_EXE_clientele");

fn clientele(db: &TestDb) -> Command {
    let mut command = Command::new(BINARY);
    command
        .env("CLIENTELE_DATABASE_URL", &db.url)
        .env("CLIENTELE_LOG_FORMAT", "json")
        .env("CLIENTELE_LOG", "debug,hyper=info,h2=info")
        .env_remove("CLIENTELE_LISTEN")
        .kill_on_drop(true);
    match &db.master_key {
        Some(key) => command.env("CLIENTELE_MASTER_KEY", key),
        None => command.env_remove("CLIENTELE_MASTER_KEY"),
    };
    command
}

/// Runs an administrative command; returns its exit status and standard output.
async fn run(db: &TestDb, args: &[&str]) -> (bool, String, String) {
    let output = clientele(db).args(args).output().await.unwrap();
    (output.status.success(), String::from_utf8(output.stdout).unwrap(), String::from_utf8(output.stderr).unwrap())
}

pub(crate) async fn run_json(db: &TestDb, args: &[&str]) -> Value {
    let (ok, stdout, stderr) = run(db, args).await;
    assert!(ok, "{args:?} failed: {stderr}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    serde_json::from_str(&stdout).unwrap()
}

/// A server process, killed when dropped.
pub(crate) struct Server {
    child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
    pub(crate) url: String,
    log: PathBuf,
    _log_dir: tempfile::TempDir,
}

impl Server {
    pub(crate) async fn start(db: &TestDb, extra: &[&str]) -> Server {
        let log_dir = tempfile::tempdir().unwrap();
        let log = log_dir.path().join("server.log");
        let mut child = clientele(db)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let url = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let line = stdout.next_line().await.unwrap().expect("the server exited before listening");
                if let Some(url) = line.strip_prefix("clientele listening on ") {
                    return url.to_owned();
                }
            }
        })
        .await
        .expect("the server did not start in time");
        Server { child, stdout, url, log, _log_dir: log_dir }
    }

    /// The next lines of standard output, up to one containing `marker`.
    async fn read_until(&mut self, marker: &str) -> String {
        let mut text = String::new();
        while let Some(line) = self.stdout.next_line().await.unwrap() {
            text.push_str(&line);
            text.push('\n');
            if line.contains(marker) {
                break;
            }
        }
        text
    }

    /// Sends SIGTERM and waits for a clean exit; returns the process's log.
    async fn stop(mut self) -> String {
        let pid = self.child.id().unwrap().to_string();
        let killed = std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait()).await.unwrap().unwrap();
        assert!(status.success(), "the server did not stop cleanly: {status}");
        std::fs::read_to_string(&self.log).unwrap()
    }
}

/// Sends a request and reads its JSON answer.
async fn answer(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

fn key_in(text: &str) -> String {
    let start = text.find("clt_").expect("no key printed");
    text[start..start + 47].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_commands_print_json_and_their_keys_work() {
    let db = TestDb::new().await;
    let (ok, stdout, _) = run(&db, &["migrate"]).await;
    assert!(ok && stdout.contains("the database is up to date") && !stdout.contains("applied 0"), "{stdout}");
    let (ok, stdout, _) = run(&db, &["migrate"]).await;
    assert!(ok && stdout.contains("applied 0 migration"), "{stdout}");

    let merchant = run_json(&db, &["merchant", "create", "--name", "Acme Stores", "--number", "ACME", "--json"]).await;
    assert_eq!((merchant["number"].as_str(), merchant["name"].as_str()), (Some("ACME"), Some("Acme Stores")));
    assert!(merchant["id"].as_str().unwrap().parse::<uuid::Uuid>().is_ok());
    let admin = merchant["api_key"].as_str().unwrap().to_owned();

    let client = run_json(&db, &["api-key", "create", "--merchant", "ACME", "--role", "client", "--json"]).await;
    assert_eq!(client["role"], "client");
    assert!(client["api_key"].as_str().unwrap().starts_with("clt_"));
    let platform = run_json(&db, &["api-key", "create", "--platform", "--json"]).await;
    assert_eq!(platform["role"], "platform");

    let point = run_json(
        &db,
        &["interaction-point", "create", "--merchant", "ACME", "--id", "till-9", "--name", "Till 9", "--json"],
    )
    .await;
    assert_eq!(point, json!({"id": "till-9", "name": "Till 9"}));
    let property = run_json(&db, &["property", "create", "--merchant", "ACME", "--name", "tier", "--json"]).await;
    assert_eq!(property["name"], "tier");

    let (ok, _, stderr) = run(&db, &["api-key", "create", "--merchant", "NOPE", "--role", "client"]).await;
    assert!(!ok && stderr.contains("no merchant has the number NOPE"), "{stderr}");
    let (ok, _, stderr) = run(&db, &["merchant", "create", "--name", "Again", "--number", "ACME"]).await;
    assert!(!ok && stderr.contains("already exists"), "{stderr}");
    let (ok, _, stderr) = run(&db, &["api-key", "create", "--merchant", "ACME", "--role", "owner"]).await;
    assert!(!ok && stderr.contains("--role must be one of readonly, client, admin"), "{stderr}");

    let server = Server::start(&db, &[]).await;
    let http = reqwest::Client::new();
    let points: Value = answer(
        http.get(format!("{}/v1/interaction-points", server.url)).bearer_auth(client["api_key"].as_str().unwrap()),
    )
    .await;
    assert_eq!(points["data"][0]["id"], "till-9");
    let own = http.get(format!("{}/v1/merchant", server.url)).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(own.status(), 200);
    let merchants = http
        .get(format!("{}/v1/merchants", server.url))
        .bearer_auth(platform["api_key"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(merchants.status(), 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_demo_prints_a_working_key_and_a_first_curl() {
    let db = TestDb::new().await;
    let mut server = Server::start(&db, &["--demo"]).await;
    let printed = server.read_until("API documentation").await;
    assert!(printed.contains("Created the demo merchant DEMO"), "{printed}");
    assert!(printed.contains(&format!("curl -s {}/v1/merchant", server.url)), "{printed}");
    let key = key_in(&printed);
    let http = reqwest::Client::new();
    let own: Value = answer(http.get(format!("{}/v1/merchant", server.url)).bearer_auth(&key)).await;
    assert_eq!(own["number"], "DEMO");
    let points: Value = answer(http.get(format!("{}/v1/interaction-points", server.url)).bearer_auth(&key)).await;
    assert_eq!(points["data"][0]["id"], "demo-till");
    server.stop().await;

    // Started again on the same database: the merchant stays, and a new key is printed.
    let mut again = Server::start(&db, &["--demo"]).await;
    let printed = again.read_until("API documentation").await;
    assert!(printed.contains("The demo merchant DEMO exists"), "{printed}");
    let second = key_in(&printed);
    assert_ne!(second, key);
    for key in [&key, &second] {
        let response = http.get(format!("{}/v1/merchant", again.url)).bearer_auth(key).send().await.unwrap();
        assert_eq!(response.status(), 200);
    }
    again.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_on_one_database_accept_each_others_tokens() {
    let db = TestDb::new().await;
    let merchant = run_json(&db, &["merchant", "create", "--name", "Shared", "--number", "SHARED", "--json"]).await;
    let key = merchant["api_key"].as_str().unwrap().to_owned();
    let (first, second) = tokio::join!(Server::start(&db, &[]), Server::start(&db, &[]));
    let http = reqwest::Client::new();
    for (issuer, verifier) in [(&first, &second), (&second, &first)] {
        let token: Value =
            answer(http.post(format!("{}/v1/auth/token", issuer.url)).json(&json!({"api_key": key}))).await;
        let token = token["access_token"].as_str().unwrap();
        let response = http.get(format!("{}/v1/merchant", verifier.url)).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.status(), 200);
    }
    // A key revoked through one process is refused by the other, although the other has it
    // in its cache of key rows: on SQLite at once (every transaction checks the key), on
    // PostgreSQL as soon as the revocation's notification arrives.
    let issued: Value =
        answer(http.post(format!("{}/v1/api-keys", first.url)).bearer_auth(&key).json(&json!({"role": "client"})))
            .await;
    let client_key = issued["api_key"].as_str().unwrap();
    let merchant_via_second = || http.get(format!("{}/v1/merchant", second.url)).bearer_auth(client_key);
    let token_via_second = || http.post(format!("{}/v1/auth/token", second.url)).json(&json!({"api_key": client_key}));
    // A valid create, the same as the one refused below but for its e-mail: with the live
    // key it is written, so the refusal below is the revocation's doing, not the body's.
    let create_via_second = |email: &str| {
        http.post(format!("{}/v1/users", second.url)).bearer_auth(client_key).json(&json!({
            "given_name": "Revoked", "family_name": "Writer", "email": email}))
    };
    for _ in 0..3 {
        assert_eq!(merchant_via_second().send().await.unwrap().status(), 200);
        assert_eq!(token_via_second().send().await.unwrap().status(), 200);
    }
    let live = create_via_second("live.writer@example.com").send().await.unwrap();
    assert_eq!(live.status(), 201, "{}", live.text().await.unwrap());
    assert_eq!(users_with_email(&http, &second.url, &key, "live.writer@example.com").await, 1);
    let users_before = users_of(&http, &second.url, &key).await;
    let revoke = http
        .post(format!("{}/v1/api-keys/{}/revoke", first.url, issued["id"].as_str().unwrap()))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);
    if db.is_postgres() {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while merchant_via_second().send().await.unwrap().status() != 401 {
            assert!(std::time::Instant::now() < deadline, "the revocation never reached the other process");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
    assert_eq!(merchant_via_second().send().await.unwrap().status(), 401);
    // A call that reads nothing (a token for the key) and one that writes are refused too,
    // and the write leaves nothing behind.
    assert_eq!(token_via_second().send().await.unwrap().status(), 401);
    let create = create_via_second("revoked.writer@example.com").send().await.unwrap();
    assert_eq!(create.status(), 401);
    assert_eq!(users_of(&http, &second.url, &key).await, users_before);
    assert_eq!(users_with_email(&http, &second.url, &key, "revoked.writer@example.com").await, 0);
    first.stop().await;
    second.stop().await;
}

/// How many users of the merchant of `key` have `email`, read through `url`.
async fn users_with_email(http: &reqwest::Client, url: &str, key: &str, email: &str) -> usize {
    let page: Value = answer(http.get(format!("{url}/v1/users")).query(&[("email", email)]).bearer_auth(key)).await;
    page["data"].as_array().unwrap().len()
}

/// How many users the merchant of `key` has, read through `url`.
async fn users_of(http: &reqwest::Client, url: &str, key: &str) -> usize {
    let page: Value = answer(http.get(format!("{url}/v1/users?limit=100")).bearer_auth(key)).await;
    page["data"].as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_servers_log() {
    let db = TestDb::new().await;
    let merchant = run_json(&db, &["merchant", "create", "--name", "Logged", "--number", "LOGGED", "--json"]).await;
    let key = merchant["api_key"].as_str().unwrap().to_owned();
    let key_id = merchant["api_key_id"].as_str().unwrap().to_owned();
    let server = Server::start(&db, &[]).await;
    let http = reqwest::Client::new();
    let mut secrets = vec![key.clone()];

    let token: Value = answer(http.post(format!("{}/v1/auth/token", server.url)).json(&json!({"api_key": key}))).await;
    secrets.push(token["access_token"].as_str().unwrap().to_owned());
    let form: Value = answer(
        http.post(format!("{}/v1/auth/token", server.url))
            .basic_auth(&key_id, Some(&key))
            .form(&[("grant_type", "client_credentials")]),
    )
    .await;
    secrets.push(form["access_token"].as_str().unwrap().to_owned());
    let issued: Value = answer(
        http.post(format!("{}/v1/api-keys", server.url))
            .bearer_auth(&key)
            .json(&json!({"role": "readonly", "name": "for the log test"})),
    )
    .await;
    secrets.push(issued["api_key"].as_str().unwrap().to_owned());
    for secret in &secrets {
        assert_eq!(
            http.get(format!("{}/v1/merchant", server.url)).bearer_auth(secret).send().await.unwrap().status(),
            200
        );
    }
    // Refused credentials are not logged either.
    let wrong = format!("clt_{}", "Q".repeat(43));
    assert_eq!(http.get(format!("{}/v1/merchant", server.url)).bearer_auth(&wrong).send().await.unwrap().status(), 401);
    let wrong_exchange =
        http.post(format!("{}/v1/auth/token", server.url)).json(&json!({"api_key": wrong})).send().await.unwrap();
    assert_eq!(wrong_exchange.status(), 401);
    secrets.push(wrong);

    let log = server.stop().await;
    assert!(log.contains("finished processing request"), "the log captured nothing: {log}");
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "a secret appears in the log");
    }
    // No part of a secret long enough to matter either (the key prefix aside).
    for secret in &secrets {
        let tail = &secret[secret.len() - 20..];
        assert!(!log.contains(tail), "part of a secret appears in the log");
    }
}

/// 1,000 creates with 100 idempotency keys, spread over two processes on one database,
/// with unique keys, RealPay call numbers and tokens raced across the same two processes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_under_concurrent_load_keep_idempotency_uniqueness_sequences_and_tokens() {
    use futures::StreamExt as _;
    let db = TestDb::new().await;
    let merchant = run_json(&db, &["merchant", "create", "--name", "Raced", "--number", "RACED", "--json"]).await;
    let key = merchant["api_key"].as_str().unwrap().to_owned();
    let flags = ["--rate-limit", "0"];
    let (first, second) = tokio::join!(Server::start(&db, &flags), Server::start(&db, &flags));
    let urls = [first.url.clone(), second.url.clone()];
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();

    // Idempotency: request i carries key i % 100 and that key's own body.
    let answers: Vec<(String, u16, Option<String>, String)> = futures::stream::iter(0..1000)
        .map(|i| {
            let (http, key, url) = (http.clone(), key.clone(), urls[i % 2].clone());
            async move {
                let k = i % 100;
                let response = http
                    .post(format!("{url}/v1/users"))
                    .bearer_auth(&key)
                    .header("Idempotency-Key", format!("raced-{k}"))
                    .json(&json!({"customer_ref": format!("RACED{k}"), "given_name": format!("Racer{k}"),
                        "email": format!("racer{k}@example.com")}))
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
                (format!("raced-{k}"), status, location, response.text().await.unwrap())
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let mut first_answer = std::collections::HashMap::new();
    for (idempotency_key, status, location, body) in &answers {
        assert_eq!(*status, 201, "{body}");
        let first = first_answer.entry(idempotency_key.clone()).or_insert((location.clone(), body.clone()));
        assert_eq!(first, &(location.clone(), body.clone()), "a replay differs from the first answer");
    }
    assert_eq!(first_answer.len(), 100);

    // Unique keys without idempotency: 200 creates of 20 customer references.
    let statuses: Vec<u16> = futures::stream::iter(0..200)
        .map(|i| {
            let (http, key, url) = (http.clone(), key.clone(), urls[i % 2].clone());
            async move {
                http.post(format!("{url}/v1/users"))
                    .bearer_auth(&key)
                    .json(&json!({"customer_ref": format!("UNIQUE{}", i % 20)}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 20, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 180, "{statuses:?}");

    // RealPay call sequences: 200 calls through both processes, each numbered once.
    let sequences: Vec<i64> = futures::stream::iter(0..200)
        .map(|i| {
            let (http, key, url) = (http.clone(), key.clone(), urls[i % 2].clone());
            async move {
                let body: Value = answer(
                    http.get(format!("{url}/v1/realpay/RACED/maintain/omni/users?Product=X&Email=racer1@example.com"))
                        .bearer_auth(&key),
                )
                .await;
                body["APIResponse"]["CallSequence"].as_i64().unwrap()
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let mut sorted = sequences.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=200).collect::<Vec<i64>>(), "every call gets its own number, none skipped");

    // Tokens: issued by each process while the other is loaded, accepted by both.
    let tokens: Vec<u16> = futures::stream::iter(0..100)
        .map(|i| {
            let (http, key, issuer, verifier) =
                (http.clone(), key.clone(), urls[i % 2].clone(), urls[(i + 1) % 2].clone());
            async move {
                let token: Value =
                    answer(http.post(format!("{issuer}/v1/auth/token")).json(&json!({"api_key": key}))).await;
                let token = token["access_token"].as_str().unwrap().to_owned();
                http.get(format!("{verifier}/v1/merchant")).bearer_auth(&token).send().await.unwrap().status().as_u16()
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    assert!(tokens.iter().all(|s| *s == 200), "{tokens:?}");

    // Exactly 100 + 20 users exist, read through either process.
    for url in &urls {
        let mut count = 0;
        let mut cursor = String::new();
        loop {
            let page: Value = answer(http.get(format!("{url}/v1/users?limit=100{cursor}")).bearer_auth(&key)).await;
            count += page["data"].as_array().unwrap().len();
            match page["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => break,
            }
        }
        assert_eq!(count, 120);
    }
    first.stop().await;
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_a_sound_database_and_a_broken_one() {
    let db = TestDb::new().await;
    let merchant = run_json(&db, &["merchant", "create", "--name", "Checked", "--number", "CHECKED", "--json"]).await;
    let checked = run_json(&db, &["check", "--json"]).await;
    assert_eq!((checked["ok"].as_bool(), checked["violations"].as_array().map(Vec::len)), (Some(true), Some(0)));
    assert!(checked["invariants"].as_u64().unwrap() > 20);

    // An erased user that still has its e-mail address breaks an invariant.
    let server = Server::start(&db, &[]).await;
    let http = reqwest::Client::new();
    let user: Value = answer(
        http.post(format!("{}/v1/users", server.url))
            .bearer_auth(merchant["api_key"].as_str().unwrap())
            .json(&json!({"email": "kept@example.com"})),
    )
    .await;
    server.stop().await;
    let id = user["id"].as_str().unwrap();
    db.raw_row(
        "UPDATE users SET erased_at = 1 WHERE id = ?1 RETURNING id",
        "UPDATE users SET erased_at = now() WHERE id = $1 RETURNING id::text",
        id,
    )
    .await;
    let (ok, stdout, stderr) = run(&db, &["check", "--json"]).await;
    assert!(!ok && stderr.contains("breaks 1 invariant"), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["violations"][0]["name"], "erased.personal_data");
    assert_eq!(db.violations().len(), 1);
    db.raw_row(
        "UPDATE users SET erased_at = NULL WHERE id = ?1 RETURNING id",
        "UPDATE users SET erased_at = NULL WHERE id = $1 RETURNING id::text",
        id,
    )
    .await;
}
