//! The `clientele` server: opening the store a database URL names, and running the HTTP
//! application on a listener until told to stop.

pub mod cli;
mod demo;
mod master_key;
mod serve_args;
mod signing_key;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use secrecy::{ExposeSecret as _, SecretString};
use tokio::net::TcpListener;

use clientele_http::{HttpSettings, Surface};
use clientele_service::{Registry, TokenSettings, WebhookSettings};
use clientele_store::{Store, StoreMetrics};
use clientele_store_postgres::{Citus, PgStore};
use clientele_store_sqlite::SqliteStore;

pub use demo::ensure_demo_merchant;
pub use master_key::{key_file as master_key_file, resolve as master_key};

/// Where the data lives.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    /// `sqlite://path/to/file.db` or `postgres://user@host/db`. May hold a password.
    pub database_url: SecretString,
    /// The PostgreSQL connection pool's size (per process).
    pub pg_max_connections: u32,
    /// The key that seals the token signing keys in the database. Required with
    /// PostgreSQL; with SQLite, when not given, a key file beside the database holds it
    /// (see [`master_key`]).
    pub master_key: Option<SecretString>,
}

/// Everything `serve` needs besides the store and the listener.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    pub http: HttpSettings,
    pub tokens: TokenSettings,
    /// After a shutdown signal, how long in-flight requests may take to finish.
    pub shutdown_grace: Duration,
    /// How often expired idempotency keys are purged, for every merchant.
    pub retention_sweep: Duration,
    /// How often expired loyalty points are written off.
    pub points_expiry: Duration,
    /// How long events are kept.
    pub event_retention: time::Duration,
    /// How webhooks are delivered.
    pub webhooks: WebhookSettings,
}

/// Opens (creating and migrating as needed) the store the URL names.
pub async fn open_store(settings: &StoreSettings, metrics: StoreMetrics) -> anyhow::Result<Arc<dyn Store>> {
    let url = settings.database_url.expose_secret();
    if let Some(path) = clientele_store_sqlite::path_from_url(url) {
        let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path, metrics))
            .await
            .context("opening the SQLite database")??;
        Ok(Arc::new(store))
    } else if clientele_store_postgres::is_postgres_url(url) {
        let store =
            PgStore::connect(url, settings.pg_max_connections, metrics).await.context("connecting to PostgreSQL")?;
        Ok(Arc::new(store))
    } else {
        anyhow::bail!("unsupported database URL: use sqlite://PATH or postgres://...")
    }
}

/// Opens the store and the registry over it, with the master key that seals its signing
/// keys.
pub async fn open_registry(
    settings: &StoreSettings,
    tokens: TokenSettings,
    metrics: StoreMetrics,
) -> anyhow::Result<Registry> {
    let store = open_store(settings, metrics).await?;
    let master = master_key(settings, store.as_ref()).await?;
    Registry::new(store, tokens, master).await.context("loading the token signing keys")
}

/// Applies pending migrations; returns how many ran. On PostgreSQL with the `citus`
/// extension it then distributes the tables; with `citus`, the extension is required.
pub async fn migrate(settings: &StoreSettings, citus: bool) -> anyhow::Result<usize> {
    let url = settings.database_url.expose_secret();
    if let Some(path) = clientele_store_sqlite::path_from_url(url) {
        anyhow::ensure!(!citus, "--citus needs a PostgreSQL database with the citus extension, not SQLite");
        Ok(tokio::task::spawn_blocking(move || SqliteStore::migrate(&path)).await??)
    } else if clientele_store_postgres::is_postgres_url(url) {
        let citus = if citus { Citus::Required } else { Citus::IfInstalled };
        Ok(PgStore::migrate(url, citus).await?)
    } else {
        anyhow::bail!("unsupported database URL: use sqlite://PATH or postgres://...")
    }
}

/// Every surface the server speaks. The first answers what no surface's route does (an
/// unknown path, a request over its time).
pub fn surfaces() -> Vec<Box<dyn Surface>> {
    vec![
        Box::new(clientele_native::Native),
        Box::new(clientele_facade_convercus::Convercus),
        Box::new(clientele_facade_realpay::RealPay),
        Box::new(clientele_facade_gateway::Gateway),
        Box::new(clientele_facade_duengage::DuEngage),
    ]
}

/// Serves the application on `listener` until `shutdown` completes, then lets in-flight
/// requests finish for up to the configured grace period.
pub async fn launch(
    registry: Registry,
    store_metrics: &StoreMetrics,
    settings: &ServeSettings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let surfaces = surfaces();
    let registry = registry.with_webhooks(settings.webhooks.clone());
    // Every process delivers webhooks: each delivery is claimed by one process at a time.
    let _deliveries = AbortOnDrop(tokio::spawn(registry.clone().run_webhooks()));
    // Every process sweeps: a sweep is a few bounded deletes that others' sweeps do not
    // clash with, so no process has to be the one that does it.
    let sweeper = tokio::spawn(registry.clone().run_retention(settings.retention_sweep, settings.event_retention));
    let _sweeper = AbortOnDrop(sweeper);
    let _expiry = AbortOnDrop(tokio::spawn(registry.clone().run_points_expiry(settings.points_expiry)));
    let app = clientele_http::app(registry, &settings.http, store_metrics, surfaces);
    let stopping = Arc::new(tokio::sync::Notify::new());
    let signal = Arc::clone(&stopping);
    // The peer's address is the client's, for the limits by address.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down: finishing in-flight requests");
        signal.notify_one();
    });
    let grace = settings.shutdown_grace;
    tokio::select! {
        result = server => result.context("serving HTTP")?,
        () = async { stopping.notified().await; tokio::time::sleep(grace).await } => {
            tracing::warn!(grace_seconds = grace.as_secs(), "in-flight requests did not finish in time");
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// Stops a background task when the server it belongs to stops.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
