//! Test databases, in-process servers, and the captured log of the whole test run.

use std::io::Write as _;
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::{Client, Method, RequestBuilder, Response};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use clientele_domain::DisplayName;
use clientele_domain::credential::{KeyOwner, SigningKey};
use clientele_domain::merchant::{Merchant, MerchantNumber};
use clientele_http::HttpSettings;
use clientele_server::{ServeSettings, StoreSettings};
use clientele_service::{MasterKey, Registry, TokenSettings};
use clientele_store::{Store, StoreMetrics};

/// The PostgreSQL server to test against, if any.
pub fn postgres_base_url() -> Option<String> {
    std::env::var("CLIENTELE_TEST_DATABASE_URL").ok().filter(|url| !url.is_empty())
}

/// A database of one test's own: a SQLite file in a temporary directory, or a fresh
/// PostgreSQL schema. Dropped with the value.
pub struct TestDb {
    pub url: String,
    /// The master key every process on this database is given: on PostgreSQL one of the
    /// test's own; on SQLite none, so the key file beside the database is made and used.
    pub master_key: Option<String>,
    _dir: Option<tempfile::TempDir>,
    schema: Option<(String, String)>,
}

impl TestDb {
    pub async fn new() -> TestDb {
        match postgres_base_url() {
            Some(base) => {
                let schema = format!("test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&base).await.unwrap();
                sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&mut conn).await.unwrap();
                let separator = if base.contains('?') { '&' } else { '?' };
                // The application name tells this test's connections apart in pg_stat_activity.
                let url = format!("{base}{separator}options=-c%20search_path%3D{schema}&application_name={schema}");
                let master_key = Some(MasterKey::generate().encode().expose_secret().to_owned());
                TestDb { url, master_key, _dir: None, schema: Some((base, schema)) }
            }
            None => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("clientele.db").display());
                TestDb { url, master_key: None, _dir: Some(dir), schema: None }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.schema.is_some()
    }

    /// The schema of a PostgreSQL test database, which is also its connections' application
    /// name.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_ref().map(|(_, schema)| schema.as_str())
    }

    /// Runs a query that returns one row of text columns, straight on the database (for
    /// checking what the store API cannot show, such as an erased user's row).
    pub async fn raw_row(&self, sql_sqlite: &str, sql_postgres: &str, id: &str) -> Vec<Option<String>> {
        match &self.schema {
            Some(_) => {
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&self.url).await.unwrap();
                let row = sqlx::query(sql_postgres)
                    .bind(uuid::Uuid::parse_str(id).unwrap())
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
                (0..sqlx::Row::len(&row)).map(|i| sqlx::Row::try_get::<Option<String>, _>(&row, i).unwrap()).collect()
            }
            None => {
                let path = clientele_store_sqlite::path_from_url(&self.url).unwrap();
                let conn = rusqlite::Connection::open(path).unwrap();
                conn.query_row(sql_sqlite, [id], |row| {
                    (0..row.as_ref().column_count()).map(|i| row.get::<_, Option<String>>(i)).collect()
                })
                .unwrap()
            }
        }
    }

    pub fn settings(&self) -> StoreSettings {
        StoreSettings {
            database_url: SecretString::from(self.url.clone()),
            pg_max_connections: 4,
            master_key: self.master_key.clone().map(SecretString::from),
        }
    }
}

impl TestDb {
    /// Checks every store invariant on this database, from a thread and a store of its
    /// own (Drop runs inside the test's runtime).
    pub fn violations(&self) -> Vec<String> {
        let settings = self.settings();
        let checked = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let store = clientele_server::open_store(&settings, StoreMetrics::default()).await.unwrap();
                store.check_invariants().await.unwrap()
            })
        })
        .join();
        match checked {
            Ok(violations) => violations.iter().map(ToString::to_string).collect(),
            Err(_) => vec!["the invariant check itself failed".to_owned()],
        }
    }
}

/// Every value of every column that can hold personal data (`personal::PERSONAL_TABLES`),
/// as text, in the given backend's SQL. Stored answers are left out: they repeat the
/// values of the rows they answered for.
fn personal_sql(postgres: bool) -> String {
    clientele_store::personal::PERSONAL_TABLES
        .iter()
        .filter(|table| !table.copies)
        .flat_map(|table| {
            table.columns.iter().map(move |(column, _)| match postgres {
                true => format!("SELECT {column}::text FROM {}", table.table),
                false => format!("SELECT CAST({column} AS TEXT) FROM {}", table.table),
            })
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

impl TestDb {
    /// Every personal value stored in the database: each column's text, and each value of a
    /// stored map (a payment request's metadata).
    pub fn personal_values(&self) -> Vec<String> {
        let url = self.url.clone();
        let postgres = self.schema.is_some();
        let values = std::thread::spawn(move || -> Vec<Option<String>> {
            let sql = personal_sql(postgres);
            if postgres {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                runtime.block_on(async {
                    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url).await.unwrap();
                    let rows = sqlx::query(&sql).fetch_all(&mut conn).await.unwrap();
                    rows.iter().map(|row| sqlx::Row::try_get::<Option<String>, _>(row, 0).unwrap()).collect()
                })
            } else {
                let path = clientele_store_sqlite::path_from_url(&url).unwrap();
                let conn = rusqlite::Connection::open(path).unwrap();
                let mut statement = conn.prepare(&sql).unwrap();
                statement.query_map([], |row| row.get::<_, Option<String>>(0)).unwrap().map(Result::unwrap).collect()
            }
        })
        .join()
        .unwrap();
        let mut values: Vec<String> = values
            .into_iter()
            .flatten()
            .flat_map(|value| match serde_json::from_str::<serde_json::Map<String, Value>>(&value) {
                Ok(map) => map.into_iter().filter_map(|(_, v)| v.as_str().map(str::to_owned)).collect(),
                Err(_) => vec![value],
            })
            .filter(|value| !value.trim().is_empty())
            .collect();
        values.sort_unstable();
        values.dedup();
        values
    }
}

/// Whether `value` appears in the log as a value of its own, not as a part of a longer one
/// ("b8@example.com" inside "ab8@example.com"). A value of digits only (a phone or an id)
/// is not a part of a number either: "012345" as a timestamp's microseconds is not it. A
/// value shorter than six characters (a country, a shoe size) or a code word in capitals (a
/// gender, which the schema's own text names) would be found in ordinary text, so it counts
/// when the log holds it as a whole string: `"ZA"`, `"FEMALE"`.
/// How a value is looked for in the log: short values and codes only as JSON strings (a
/// bare `ZA` is in every other word), others on their own (not inside a longer word or number).
fn pattern(value: &str) -> (String, bool) {
    let code = value.bytes().all(|b| b.is_ascii_uppercase());
    if code || value.chars().count() < 6 {
        return (serde_json::to_string(value).unwrap_or_default(), false);
    }
    (value.to_owned(), true)
}

/// The values of `values` that appear in `log`, in one pass over it whatever their number.
fn leaked(log: &str, values: &[String]) -> Vec<String> {
    let patterns: Vec<(String, bool)> = values.iter().map(|value| pattern(value)).collect();
    let Ok(automaton) = aho_corasick::AhoCorasick::new(patterns.iter().map(|(text, _)| text)) else {
        return values.to_vec();
    };
    let mut found = vec![false; values.len()];
    for hit in automaton.find_overlapping_iter(log) {
        let index = hit.pattern().as_usize();
        let (_, bounded) = &patterns[index];
        let value = &values[index];
        let digits = value.bytes().all(|b| b.is_ascii_digit());
        let joins = |b: u8| b.is_ascii_alphanumeric() || (digits && matches!(b, b'.' | b':' | b'-'));
        let before = log[..hit.start()].bytes().next_back();
        let after = log[hit.end()..].bytes().next();
        if !bounded || (!before.is_some_and(joins) && !after.is_some_and(joins)) {
            found[index] = true;
        }
    }
    values.iter().zip(found).filter(|(_, found)| *found).map(|(value, _)| value.clone()).collect()
}

fn logged(log: &str, value: &str) -> bool {
    !leaked(log, &[value.to_owned()]).is_empty()
}

#[test]
fn a_value_counts_as_logged_only_on_its_own() {
    assert!(logged(r#"{"phone":"012345"}"#, "012345"));
    assert!(!logged(r#"{"timestamp":"2026-11-22T00:05:12.012345Z"}"#, "012345"));
    assert!(!logged("took 90123456 ns", "012345"));
    assert!(logged("mail jack@example.com sent", "jack@example.com"));
    assert!(!logged(r#"{"email":"leak.ab8@example.com"}"#, "b8@example.com"));
    assert!(logged(r#"{"country":"ZA"}"#, "ZA"));
    assert!(!logged(r#"{"currency":"ZAR"}"#, "ZA"));
    assert!(!logged("CHECK (gender IN ('MALE', 'FEMALE'))", "FEMALE"));
    assert!(logged(r#"{"gender":"FEMALE"}"#, "FEMALE"));
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Every test leaves a database whose invariants hold (unless it failed already), and
        // no personal data it stored appears in the log of the whole run so far.
        if !std::thread::panicking() {
            let violations = self.violations();
            if !violations.is_empty() {
                let _ = std::io::stderr().write_all(format!("invariants broken: {violations:#?}\n").as_bytes());
                self.drop_schema();
                panic!("the test left a database that breaks store invariants: {violations:?}");
            }
            let log = captured_log();
            let leaked: Vec<String> = leaked(&log, &self.personal_values());
            if !leaked.is_empty() {
                let _ = std::io::stderr().write_all(b"personal data reached the log\n");
                self.drop_schema();
                // The values are the test's own made-up data: naming them and the first line
                // they appear in helps find where they were logged.
                let line = leaked
                    .first()
                    .and_then(|v| log.lines().find(|line| logged(line, v)))
                    .map(|line| line.chars().take(400).collect::<String>())
                    .unwrap_or_default();
                panic!(
                    "{} stored personal value(s) appear in the captured log: {leaked:?}, as in: {line}",
                    leaked.len()
                );
            }
        }
        self.drop_schema();
    }
}

impl TestDb {
    fn drop_schema(&mut self) {
        let Some((base, schema)) = self.schema.take() else {
            return;
        };
        // Drop runs inside a runtime; the schema is dropped from a thread with its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&base).await?;
                sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&mut conn).await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(_))) {
            eprintln!("could not drop test schema (the CI run drops its whole database)");
        }
    }
}

// --- the captured log -------------------------------------------------------------------

static LOG: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOG.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures every log line of the test run (at debug level, as JSON) for the secret checks.
fn capture_logs() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let filter = tracing_subscriber::EnvFilter::new("debug,hyper=info,hyper_util=info,h2=info,reqwest=info");
        let _ = tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_current_span(true)
            .with_writer(|| LogWriter)
            .try_init();
    });
}

/// Everything logged so far in this test run.
pub fn captured_log() -> String {
    String::from_utf8_lossy(&LOG.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
}

// --- servers ----------------------------------------------------------------------------

/// A merchant made for a test, with its first admin key.
pub struct TestMerchant {
    pub merchant: Merchant,
    pub admin_key: String,
}

/// A running server on a test database, with two merchants (A and B) and a platform key.
/// Every secret it hands out is checked against the captured log when it is dropped.
pub struct TestApp {
    pub url: String,
    pub client: Client,
    pub registry: Registry,
    store: Arc<dyn Store>,
    pub a: TestMerchant,
    pub b: TestMerchant,
    pub platform_key: String,
    secrets: Arc<Mutex<Vec<String>>>,
    shutdown: Option<oneshot::Sender<()>>,
    pub db: TestDb,
}

pub fn default_settings() -> ServeSettings {
    ServeSettings {
        http: HttpSettings::default(),
        tokens: TokenSettings::default(),
        shutdown_grace: std::time::Duration::from_secs(5),
        retention_sweep: std::time::Duration::from_secs(300),
        points_expiry: std::time::Duration::from_secs(60),
        event_retention: clientele_service::EVENT_RETENTION,
        webhooks: clientele_service::WebhookSettings { allow_private: true, ..Default::default() },
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(default_settings()).await
    }

    pub async fn spawn_with(settings: ServeSettings) -> TestApp {
        TestApp::spawn_on(TestDb::new().await, settings).await
    }

    pub async fn spawn_on(db: TestDb, settings: ServeSettings) -> TestApp {
        capture_logs();
        let metrics = StoreMetrics::default();
        // The registry is the only door to the store; the test keeps the store it opened
        // for it, to look at what the API cannot show.
        let store = clientele_server::open_store(&db.settings(), metrics.clone()).await.unwrap();
        let master = clientele_server::master_key(&db.settings(), store.as_ref()).await.unwrap();
        let registry = Registry::new(Arc::clone(&store), settings.tokens, master).await.unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (shutdown, stop) = oneshot::channel::<()>();
        let served = registry.clone();
        tokio::spawn(async move {
            let stop = async move {
                let _ = stop.await;
            };
            clientele_server::launch(served, &metrics, &settings, listener, stop).await.unwrap();
        });
        let secrets = Arc::new(Mutex::new(Vec::new()));
        let a = new_merchant(&registry, "MERCHANT-A", &secrets).await;
        let b = new_merchant(&registry, "MERCHANT-B", &secrets).await;
        let platform = registry.issue_key(KeyOwner::Platform, None).await.unwrap();
        let platform_key = platform.secret.expose().to_owned();
        secrets.lock().unwrap().push(platform_key.clone());
        TestApp {
            url,
            client: Client::new(),
            registry,
            store,
            a,
            b,
            platform_key,
            secrets,
            shutdown: Some(shutdown),
            db,
        }
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// The signing key that signs new tokens, opened with the database's master key.
    pub async fn signing_key(&self) -> SigningKey {
        let master = clientele_server::master_key(&self.db.settings(), self.store()).await.unwrap();
        master.open(&self.store().signing_keys().await.unwrap().remove(0)).unwrap()
    }

    /// Remembers a secret the test saw, to check it never reaches the log.
    pub fn secret(&self, secret: &str) {
        self.secrets.lock().unwrap().push(secret.to_owned());
    }

    /// A request with `credential` in `Authorization: Bearer`.
    pub fn request(&self, method: Method, path: &str, credential: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.url)).bearer_auth(credential)
    }

    pub async fn get(&self, path: &str, credential: &str) -> Response {
        self.request(Method::GET, path, credential).send().await.unwrap()
    }

    pub async fn post(&self, path: &str, credential: &str, body: Value) -> Response {
        self.request(Method::POST, path, credential).json(&body).send().await.unwrap()
    }

    /// Issues a key of `role` for merchant A through the API.
    pub async fn key_for_a(&self, role: &str) -> (String, String) {
        let response = self.post("/v1/api-keys", &self.a.admin_key, serde_json::json!({"role": role})).await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        let secret = body["api_key"].as_str().unwrap().to_owned();
        self.secret(&secret);
        (body["id"].as_str().unwrap().to_owned(), secret)
    }

    /// Exchanges a key for an access token.
    pub async fn token(&self, key: &str) -> String {
        let response = self
            .client
            .post(format!("{}/v1/auth/token", self.url))
            .json(&serde_json::json!({"api_key": key}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        let token = body["access_token"].as_str().unwrap().to_owned();
        self.secret(&token);
        token
    }
}

async fn new_merchant(registry: &Registry, number: &str, secrets: &Mutex<Vec<String>>) -> TestMerchant {
    let (merchant, key) = registry
        .create_merchant(
            MerchantNumber::parse("number", number).unwrap(),
            DisplayName::parse("name", &format!("{number} Ltd")).unwrap(),
        )
        .await
        .unwrap();
    let admin_key = key.secret.expose().to_owned();
    secrets.lock().unwrap().push(admin_key.clone());
    TestMerchant { merchant, admin_key }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if std::thread::panicking() {
            return;
        }
        let log = captured_log();
        for secret in self.secrets.lock().unwrap().iter() {
            if log.contains(secret.as_str()) {
                let _ = std::io::stderr().write_all(b"a secret reached the log\n");
                panic!("a secret the test handled appears in the captured log");
            }
        }
    }
}

/// Reads a response as a problem document, checking its content type.
pub async fn problem(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert_eq!(content_type, "application/problem+json", "status {status}");
    (status, response.json().await.unwrap())
}
