//! The `clientele` binary.

use std::process::ExitCode;

use clap::Parser as _;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use clientele_server::cli::{Cli, Command, LogFormat};
use clientele_store::StoreMetrics;

/// A request allocates and frees many small values (headers, rows, JSON) across threads;
/// mimalloc serves them from per-thread pages, where the system allocator takes locks and
/// consolidates.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn init_logs(cli: &Cli) {
    let filter = EnvFilter::try_new(&cli.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).init(),
        LogFormat::Pretty => builder.init(),
    }
}

async fn serve(cli: &Cli, args: &clientele_server::cli::ServeArgs) -> anyhow::Result<()> {
    let settings = args.settings();
    let store_metrics = StoreMetrics::default();
    let registry = clientele_server::open_registry(&cli.store_settings(), settings.tokens, store_metrics.clone())
        .await?
        .with_idempotency_lease(std::time::Duration::from_secs(args.idempotency_lease));
    tracing::info!(database.backend = registry.backend(), "database ready");
    let listener = TcpListener::bind(args.listen).await?;
    let address = listener.local_addr()?;
    tracing::info!(listen.address = %address, "listening");
    println!("clientele listening on http://{address}");
    if args.demo {
        let (created, key) = clientele_server::ensure_demo_merchant(&registry).await?;
        let secret = key.secret.expose();
        if created {
            println!("\nCreated the demo merchant DEMO (\"Demo Merchant\") with the interaction point demo-till.");
        } else {
            println!("\nThe demo merchant DEMO exists; here is a new admin key for it.");
        }
        println!("Its admin API key (shown once):\n\n    {secret}\n");
        println!("Try:\n\n    curl -s http://{address}/v1/merchant -H 'Authorization: Bearer {secret}'\n");
        println!("API documentation: http://{address}/docs\n");
    }
    clientele_server::launch(registry, &store_metrics, &settings, listener, clientele_server::shutdown_signal()).await
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs(&cli);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: could not start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match &cli.command {
            Command::Serve(args) => serve(&cli, args).await,
            _ => clientele_server::cli::administer(&cli).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
