//! Secrets at rest: token signing keys sealed under the master key, where that key comes
//! from, what a wrong or missing one does, and rotating the signing key.

use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::SecretString;
use serde_json::{Value, json};

use clientele_domain::credential::{SigningKey, StoredSigningKey};
use clientele_service::{MasterKey, TokenSettings};
use clientele_store::StoreMetrics;

use crate::harness::{TestApp, TestDb, default_settings};

/// The `secret` column of signing key `kid`, read straight from the database.
async fn raw_secret(db: &TestDb, kid: &str) -> Vec<u8> {
    if db.is_postgres() {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url).await.unwrap();
        sqlx::query_scalar("SELECT secret FROM signing_keys WHERE kid = $1")
            .bind(kid)
            .fetch_one(&mut conn)
            .await
            .unwrap()
    } else {
        let path = clientele_store_sqlite::path_from_url(&db.url).unwrap();
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.query_row("SELECT secret FROM signing_keys WHERE kid = ?1", [kid], |row| row.get(0)).unwrap()
    }
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

/// A token for `key_id` signed with `key`, as the server would sign it.
fn signed_with(key: &SigningKey, key_id: &str) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let header = Header { kid: Some(key.kid.clone()), ..Header::new(Algorithm::HS256) };
    let claims = json!({"iss": "clientele", "sub": key_id, "iat": now, "exp": now + 600});
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&key.secret)).unwrap()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_holds_the_signing_secret_sealed_never_in_plain() {
    let app = TestApp::spawn().await;
    let token = app.token(&app.a.admin_key).await;
    assert_eq!(app.get("/v1/merchant", &token).await.status(), 200);
    let key = app.signing_key().await;
    assert_eq!(kid_of(&token), key.kid);

    let stored = raw_secret(&app.db, &key.kid).await;
    assert_eq!(key.secret.len(), 32);
    assert!(!contains(&stored, &key.secret), "the signing secret is stored in plain");
    assert_eq!(stored.first(), Some(&1), "a sealed secret starts with its format version");
    assert_eq!(stored.len(), 1 + 24 + 32 + 16, "version, nonce, ciphertext and tag");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signing_key_stored_in_plain_is_sealed_on_start_and_its_tokens_stay_valid() {
    let db = TestDb::new().await;
    // A database from before secrets were sealed: its one signing key in plain.
    let store = clientele_server::open_store(&db.settings(), StoreMetrics::default()).await.unwrap();
    let old = SigningKey::generate(clientele_service::now());
    let plain = StoredSigningKey { kid: old.kid.clone(), stored: old.secret.clone(), created_at: old.created_at };
    store.add_signing_key(&plain).await.unwrap();
    drop(store);

    let app = TestApp::spawn_on(db, default_settings()).await;
    let stored = raw_secret(&app.db, &old.kid).await;
    assert_ne!(stored, old.secret);
    assert!(!contains(&stored, &old.secret), "the plain row was not resealed");
    assert_eq!(app.signing_key().await, old, "the same key, sealed");
    // A token it signed before the upgrade still works, and new tokens use it still.
    let key_id = app.store().list_api_keys(app.a.merchant.id).await.unwrap()[0].id.to_string();
    let before = signed_with(&old, &key_id);
    app.secret(&before);
    assert_eq!(app.get("/v1/merchant", &before).await.status(), 200);
    assert_eq!(kid_of(&app.token(&app.a.admin_key).await), old.kid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_master_key_stops_the_start_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let key = app.signing_key().await;
    let before = raw_secret(&app.db, &key.kid).await;

    let mut wrong = app.db.settings();
    wrong.master_key = Some(MasterKey::generate().encode());
    let refused =
        clientele_server::open_registry(&wrong, TokenSettings::default(), StoreMetrics::default()).await.unwrap_err();
    let message = format!("{refused:#}");
    assert!(message.contains(&format!("the master key does not open signing key {}", key.kid)), "{message}");
    let mut malformed = app.db.settings();
    malformed.master_key = Some(SecretString::from("not a key".to_owned()));
    let refused = clientele_server::open_registry(&malformed, TokenSettings::default(), StoreMetrics::default())
        .await
        .unwrap_err();
    assert!(format!("{refused:#}").contains("not 32 bytes in base64 or hex"), "{refused:#}");

    assert_eq!(raw_secret(&app.db, &key.kid).await, before);
    assert_eq!(app.store().signing_keys().await.unwrap().len(), 1, "no key was made in its place");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_master_key_sqlite_keeps_one_beside_the_database_and_postgresql_refuses_to_start() {
    let db = TestDb::new().await;
    let mut settings = db.settings();
    settings.master_key = None;
    let open = |settings| async move {
        clientele_server::open_registry(&settings, TokenSettings::default(), StoreMetrics::default()).await
    };
    if db.is_postgres() {
        let refused = open(settings).await.unwrap_err();
        assert!(format!("{refused:#}").contains("CLIENTELE_MASTER_KEY (or --master-key) is required"), "{refused:#}");
        return;
    }
    let path = clientele_server::master_key_file(&clientele_store_sqlite::path_from_url(&db.url).unwrap());
    assert!(!path.exists());
    let first = open(settings.clone()).await.unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the key file is its owner's only: {mode:o}");
    }
    let written = std::fs::read_to_string(&path).unwrap();
    let master = MasterKey::parse(&written).unwrap();
    let stored = || async { clientele_server::open_store(&settings, StoreMetrics::default()).await.unwrap() };
    let sealed = stored().await.signing_keys().await.unwrap().remove(0);
    let key = master.open(&sealed).unwrap();
    drop(first);

    // Later starts read the same file and the same key.
    let again = open(settings.clone()).await.unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), written);
    assert_eq!(master.open(&stored().await.signing_keys().await.unwrap().remove(0)).unwrap(), key);
    drop(again);

    // A lost key file is not silently replaced: the sealed keys would be lost with it.
    std::fs::remove_file(&path).unwrap();
    let refused = open(settings).await.unwrap_err();
    assert!(format!("{refused:#}").contains("master key file"), "{refused:#}");
    assert!(format!("{refused:#}").contains("is missing"), "{refused:#}");
    assert!(!path.exists(), "no new key file was made");
}

/// Runs `clientele` on `db` with its master key, as an operator would.
async fn clientele(db: &TestDb, args: &[&str]) -> Value {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_clientele"));
    command.env("CLIENTELE_DATABASE_URL", &db.url).env("CLIENTELE_LOG", "warn");
    match &db.master_key {
        Some(key) => command.env("CLIENTELE_MASTER_KEY", key),
        None => command.env_remove("CLIENTELE_MASTER_KEY"),
    };
    let output = command.args(args).output().await.unwrap();
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_rotation_new_tokens_carry_the_new_kid_and_earlier_tokens_stay_valid() {
    let refresh = Duration::from_millis(300);
    let settings = default_settings();
    let settings = clientele_server::ServeSettings {
        tokens: TokenSettings { key_refresh: refresh, ..settings.tokens },
        ..settings
    };
    let app = TestApp::spawn_with(settings).await;
    let before = app.token(&app.a.admin_key).await;
    let old_kid = kid_of(&before);

    // Rotated by another process: the CLI.
    let rotated = clientele(&app.db, &["signing-key", "rotate", "--json"]).await;
    let new_kid = rotated["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    assert_eq!(rotated["keys"], 2);
    assert!(rotated["created_at"].as_str().unwrap().parse::<String>().is_ok());
    let stored = raw_secret(&app.db, &new_kid).await;
    let new_key = app.signing_key().await;
    assert_eq!(new_key.kid, new_kid);
    assert!(!contains(&stored, &new_key.secret), "the rotated key is sealed too");

    assert_eq!(app.get("/v1/merchant", &before).await.status(), 200, "a token from before still works");
    let started = Instant::now();
    let after = loop {
        let token = app.token(&app.a.admin_key).await;
        if kid_of(&token) == new_kid {
            break token;
        }
        assert!(started.elapsed() < refresh * 10, "the server still signs with the old key");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(app.get("/v1/merchant", &after).await.status(), 200);
    assert_eq!(app.get("/v1/merchant", &before).await.status(), 200, "and still after");

    // Rotating in the serving process switches at once.
    let third = app.registry.rotate_signing_key().await.unwrap();
    assert_eq!(third.keys, 3);
    assert_eq!(kid_of(&app.token(&app.a.admin_key).await), third.kid);
    for token in [&before, &after] {
        assert_eq!(app.get("/v1/merchant", token).await.status(), 200);
    }
}
