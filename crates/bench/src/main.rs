//! `clientele-bench`: how fast Clientele is, beside its ceilings, in one run.
//!
//! It builds nothing: it starts the release `clientele` binary on a fresh SQLite file (or a
//! PostgreSQL database), seeds users, then runs each scenario with a fixed number of
//! concurrent connections for a fixed time. Beside them it measures two ceilings: the same
//! HTTP stack answering a fixed body (`/healthz`), and the store's own operations without
//! HTTP. It writes a JSON report and a markdown table. `--quick` is the CI mode: small data,
//! two seconds a scenario, and a failure on any error answer or any scenario that ran nothing.

mod bodies;
mod goals;
mod load;
mod report;
mod scenarios;
mod seed;
mod webhooks;

use clientele_bench::{database, server};

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

/// Benchmark a release build of Clientele.
#[derive(Debug, Parser)]
#[command(name = "clientele-bench", version, about)]
pub struct Args {
    /// The server binary to run (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/clientele")]
    pub server: PathBuf,
    /// A PostgreSQL server to run on instead of SQLite (`postgres://user@host/db`); a
    /// database is created on it for the run and dropped afterwards.
    #[arg(long)]
    pub postgres: Option<String>,
    /// Users seeded before the scenarios run.
    #[arg(long, default_value_t = 10_000)]
    pub users: u64,
    /// Concurrent connections of every scenario.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Seconds each scenario runs.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// CI mode: 1000 users, 2 s a scenario; fails on any error or empty scenario.
    #[arg(long)]
    pub quick: bool,
    /// Run only the scenarios whose name contains this text (for profiling one).
    #[arg(long)]
    pub only: Option<String>,
    /// Where the JSON report and the markdown table go.
    #[arg(long, default_value = "target/bench")]
    pub out: PathBuf,
}

impl Args {
    fn settings(&self) -> (u64, Duration, usize) {
        if self.quick {
            (1_000, Duration::from_secs(2), self.concurrency.min(16))
        } else {
            (self.users, Duration::from_secs(self.seconds), self.concurrency)
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(scenarios::run_all(&args)) {
        Ok(report) => {
            let failed = args.quick && !report.clean();
            if let Err(error) = report.write(&args.out) {
                eprintln!("error: could not write the report: {error:#}");
                return ExitCode::FAILURE;
            }
            println!("{}", report.markdown());
            if failed {
                eprintln!("error: a scenario failed (errors, or no request answered)");
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
