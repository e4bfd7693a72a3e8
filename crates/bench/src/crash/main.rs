//! `clientele-crash`: is every acknowledged write still there after a `kill -9`?
//!
//! It starts the release `clientele` binary on a fresh SQLite file (or PostgreSQL database),
//! drives concurrent writes through several surfaces (native creates with idempotency keys,
//! merge patches and points earned and spent, Convercus creates, RealPay batches of users with
//! contracts) while
//! recording each one as acknowledged or in doubt, and kills the server with SIGKILL at a
//! random moment. Then, every cycle:
//!
//! 1. `clientele check` on the dead server's database: SQLite's integrity check and every
//!    store invariant (no row without its merchant, no reference across merchants, every
//!    balance the sum of its points entries and of its lots, ...);
//! 2. a restart, and through the API: every acknowledged write present and unchanged; every
//!    write in doubt wholly present or wholly absent (a balance is one it could have had; a
//!    RealPay item's user never without its
//!    contract); every write the server refused (a RealPay item under `Failed`) absent; an
//!    in-doubt create repeated with its idempotency key, after the dead request's lease
//!    (409 while it holds, then it runs), makes its user exactly once; the RealPay call
//!    sequence never repeats an acknowledged number.
//!
//! 3. webhooks: an endpoint takes every event, delivered to a receiver in this process, and
//!    the server is killed while deliveries run. At the end every event of the feed (every
//!    committed change) has arrived at least once.
//!
//! The kill comes only once the cycle has an acknowledged write, and a cycle without one
//! fails: a cycle that acknowledged nothing would prove nothing. Every write sent is valid,
//! so any refusal fails the run too, after its items were checked. At the end every write
//! acknowledged in any cycle is checked once more. Exit status 1 on any loss or broken
//! invariant; the figures go to standard output as one JSON line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use clap::Parser;
use rand::{Rng as _, SeedableRng as _};
use reqwest::Client;
use serde_json::Value;

use clientele_bench::database::Database;
use clientele_bench::server::{Server, admin};

mod load;
mod settle;
mod webhooks;

use load::load;
use settle::{settle, verify};

/// Kill the release server at random moments under load; check what survived.
#[derive(Debug, Parser)]
#[command(name = "clientele-crash", version, about)]
struct Args {
    /// The server binary to run (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/clientele")]
    server: PathBuf,
    /// A PostgreSQL server to run on instead of SQLite (`postgres://user@host/db`); a
    /// database is created on it for the run and dropped afterwards.
    #[arg(long)]
    postgres: Option<String>,
    /// Kill-and-restart cycles.
    #[arg(long, default_value_t = 50)]
    cycles: u32,
    /// The longest time the load runs before the kill, in milliseconds (each cycle draws
    /// its own time up to this).
    #[arg(long, default_value_t = 600)]
    max_load_ms: u64,
    /// Seed of the random kill moments (printed, to repeat a run).
    #[arg(long)]
    seed: Option<u64>,
    /// The server's idempotency lease in seconds (`serve --idempotency-lease`): an in-doubt
    /// create is repeated after it. Short, so that 50 cycles do not wait 60 seconds each.
    #[arg(long, default_value_t = 2)]
    idempotency_lease: u64,
}

const MERCHANT: &str = "CRASH";
const TILL: &str = "till-1";
const BATCH: usize = 25;

/// How a write is found again after the restart.
#[derive(Debug, Clone)]
enum Lookup {
    Id(String),
    CustomerRef(String),
    Email(String),
}

/// A user written through some surface: what it must look like, and whether the server
/// said so before it died.
#[derive(Debug, Clone)]
struct Written {
    surface: &'static str,
    lookup: Lookup,
    /// JSON pointers into the native user, with the values each may have (two for a merge
    /// patch in doubt: before or after).
    fields: Vec<(&'static str, Vec<String>)>,
    /// A contract that must exist with the user (RealPay items), by number.
    contract: Option<String>,
    /// The idempotency key it was sent with, to repeat it when in doubt.
    idempotency: Option<(String, Value)>,
    acknowledged: bool,
    /// The server answered that it did not write it: it must be absent.
    refused: bool,
}

impl Written {
    fn field(&mut self, pointer: &'static str) -> Option<&mut Vec<String>> {
        self.fields.iter_mut().find(|(p, _)| *p == pointer).map(|(_, values)| values)
    }
}

/// What one run found.
#[derive(Debug, Default, serde::Serialize)]
struct Figures {
    backend: &'static str,
    seed: u64,
    cycles: u32,
    acknowledged_writes: u64,
    /// The fewest writes a cycle acknowledged before its kill (never 0).
    fewest_acknowledged_in_a_cycle: u64,
    acknowledged_checked: u64,
    in_doubt: u64,
    in_doubt_present: u64,
    in_doubt_absent: u64,
    /// Repeats of in-doubt creates that were there: each answered with that user.
    idempotent_repeats: u64,
    /// Repeats of in-doubt creates that were absent: each ran once the lease was over and
    /// made its user, exactly once.
    in_doubt_repeated_and_created: u64,
    /// 409 answers to those repeats while the dead request's lease held.
    repeats_answered_409: u64,
    /// Writes the server refused (RealPay `Failed` items, other refusals), each checked absent.
    refused: u64,
    lost: u64,
    /// Events in the feed at the end (every committed change), and how many of them the
    /// webhook receiver got (all, or the run fails), and its deliveries, repeats included.
    events_committed: u64,
    events_delivered: u64,
    webhook_deliveries: u64,
    invariant_checks: u64,
    seconds: f64,
}

/// The run's state shared with the load tasks.
struct Run {
    client: Client,
    key: String,
    key_id: String,
    /// The highest RealPay call number the server acknowledged.
    sequence: Mutex<i64>,
    /// Writes the server refused: none may be, every write sent is valid.
    refused: std::sync::atomic::AtomicU64,
    /// Writes the server acknowledged so far.
    acknowledged: std::sync::atomic::AtomicU64,
    /// The server's idempotency lease.
    lease: Duration,
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
    match runtime.block_on(run(&args)) {
        Ok(figures) => {
            println!("{}", serde_json::to_string(&figures).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> anyhow::Result<Figures> {
    let database = Database::create(args.postgres.as_deref()).await?;
    let result = cycles(args, database.url(), database.is_postgres()).await;
    database.drop_now().await?;
    result
}

async fn cycles(args: &Args, url: &str, postgres: bool) -> anyhow::Result<Figures> {
    let started = Instant::now();
    let seed = args.seed.unwrap_or_else(rand::random);
    eprintln!("clientele-crash: seed {seed}, {} cycles", args.cycles);
    let mut random = rand::rngs::StdRng::seed_from_u64(seed);
    let merchant =
        admin(&args.server, url, &["merchant", "create", "--name", "Crash", "--number", MERCHANT, "--json"]).await?;
    admin(
        &args.server,
        url,
        &["interaction-point", "create", "--merchant", MERCHANT, "--id", TILL, "--name", "Till", "--json"],
    )
    .await?;
    let run = Arc::new(Run {
        client: Client::builder().timeout(Duration::from_secs(30)).build()?,
        key: merchant.get("api_key").and_then(Value::as_str).context("no key")?.to_owned(),
        key_id: merchant.get("api_key_id").and_then(Value::as_str).context("no key id")?.to_owned(),
        sequence: Mutex::new(0),
        refused: std::sync::atomic::AtomicU64::new(0),
        acknowledged: std::sync::atomic::AtomicU64::new(0),
        lease: Duration::from_secs(args.idempotency_lease),
    });
    let lease = args.idempotency_lease.to_string();
    let receiver = clientele_bench::receiver::Receiver::start().await?;
    let flags = [
        "--idempotency-lease",
        lease.as_str(),
        "--webhooks-allow-private",
        "--webhook-retry-schedule",
        "0,0.2,0.5,1,1,1,1,1,1,1,1,1,1,1,1",
    ];
    let mut figures = Figures {
        backend: if postgres { "postgres" } else { "sqlite" },
        seed,
        cycles: args.cycles,
        ..Figures::default()
    };
    let mut kept: Vec<Written> = Vec::new();
    let mut pending: Vec<Written> = Vec::new();
    figures.fewest_acknowledged_in_a_cycle = u64::MAX;
    for cycle in 0..args.cycles {
        let server = Server::start_with(&args.server, url, &flags).await?;
        if cycle == 0 {
            webhooks::subscribe(&run, &server.url, &receiver.url).await?;
        }
        settle(&run, &server.url, &mut pending, &mut figures).await.with_context(|| format!("cycle {cycle}"))?;
        kept.append(&mut pending);
        no_refusals(&run, &mut figures).with_context(|| format!("cycle {}", cycle.saturating_sub(1)))?;

        let written = Arc::new(Mutex::new(Vec::new()));
        let acknowledged_before = run.acknowledged.load(std::sync::atomic::Ordering::Relaxed);
        let load = load(&run, &server.url, cycle, &written).await?;
        first_acknowledgement(&run, acknowledged_before).await.with_context(|| format!("cycle {cycle}"))?;
        tokio::time::sleep(Duration::from_millis(random.gen_range(20..=args.max_load_ms.max(20)))).await;
        server.stop().await; // SIGKILL
        for task in load {
            task.await?;
        }
        pending = std::mem::take(&mut *written.lock().map_err(|_| anyhow::anyhow!("poisoned"))?);
        let acknowledged = pending.iter().filter(|w| w.acknowledged).count() as u64;
        ensure!(acknowledged > 0, "cycle {cycle} acknowledged no write before its kill");
        figures.acknowledged_writes += acknowledged;
        figures.fewest_acknowledged_in_a_cycle = figures.fewest_acknowledged_in_a_cycle.min(acknowledged);
        check(&args.server, url).await.with_context(|| format!("after the kill of cycle {cycle}"))?;
        figures.invariant_checks += 1;
    }
    // The last cycle's writes, then every acknowledged write of the run once more.
    let server = Server::start_with(&args.server, url, &flags).await?;
    settle(&run, &server.url, &mut pending, &mut figures).await.context("after the last cycle")?;
    kept.append(&mut pending);
    no_refusals(&run, &mut figures).context("the last cycle")?;
    for written in &kept {
        verify(&run, &server.url, written).await?.context("a write of an earlier cycle is gone")?;
        figures.acknowledged_checked += 1;
    }
    webhooks::all_delivered(&run, &server.url, &receiver, &mut figures).await?;
    server.stop().await;
    check(&args.server, url).await?;
    figures.invariant_checks += 1;
    figures.seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "clientele-crash: {} cycles, {} acknowledged writes checked, {} in doubt ({} present, {} absent), lost {}",
        figures.cycles,
        figures.acknowledged_checked,
        figures.in_doubt,
        figures.in_doubt_present,
        figures.in_doubt_absent,
        figures.lost
    );
    Ok(figures)
}

/// Waits for the server to acknowledge a write of the cycle that began with
/// `acknowledged_before` acknowledgements.
async fn first_acknowledgement(run: &Run, acknowledged_before: u64) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while run.acknowledged.load(std::sync::atomic::Ordering::Relaxed) == acknowledged_before {
        let refused = run.refused.load(std::sync::atomic::Ordering::Relaxed);
        ensure!(Instant::now() < deadline, "no write acknowledged in 30 seconds ({refused} refused)");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

/// Fails on any refusal of the cycle just checked: every write the harness sends is valid.
fn no_refusals(run: &Run, figures: &mut Figures) -> anyhow::Result<()> {
    let refused = run.refused.swap(0, std::sync::atomic::Ordering::Relaxed);
    figures.refused += refused;
    ensure!(refused == 0, "the server refused {refused} valid write(s) (checked absent)");
    Ok(())
}

/// `clientele check` on the database: integrity and every invariant.
async fn check(binary: &std::path::Path, url: &str) -> anyhow::Result<()> {
    let report = admin(binary, url, &["check", "--json"]).await?;
    ensure!(report.get("ok") == Some(&Value::Bool(true)), "the database breaks invariants: {report}");
    Ok(())
}
