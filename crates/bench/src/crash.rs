//! `clientele-crash`: is every acknowledged write still there after a `kill -9`?
//!
//! It starts the release `clientele` binary on a fresh SQLite file (or PostgreSQL database),
//! drives concurrent writes through several surfaces (native creates with idempotency keys
//! and merge patches, Convercus creates, RealPay batches of users with contracts) while
//! recording each one as acknowledged or in doubt, and kills the server with SIGKILL at a
//! random moment. Then, every cycle:
//!
//! 1. `clientele check` on the dead server's database: SQLite's integrity check and every
//!    store invariant (no row without its merchant, no reference across merchants, ...);
//! 2. a restart, and through the API: every acknowledged write present and unchanged; every
//!    write in doubt wholly present or wholly absent (a RealPay item's user never without its
//!    contract); every write the server refused (a RealPay item under `Failed`) absent; an
//!    in-doubt create repeated with its idempotency key, after the dead request's lease
//!    (409 while it holds, then it runs), makes its user exactly once; the RealPay call
//!    sequence never repeats an acknowledged number.
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

use anyhow::{Context as _, bail, ensure};
use clap::Parser;
use rand::{Rng as _, SeedableRng as _};
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::{Value, json};

use clientele_bench::database::Database;
use clientele_bench::server::{Server, admin};

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
    let flags = ["--idempotency-lease", lease.as_str()];
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

/// Checks the writes of the cycle before the restart; writes in doubt become acknowledged
/// (present) or are dropped (absent).
async fn settle(run: &Arc<Run>, url: &str, pending: &mut Vec<Written>, figures: &mut Figures) -> anyhow::Result<()> {
    let acknowledged_sequence = *run.sequence.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    let answer = realpay_get(run, url).await?;
    let sequence = answer.pointer("/APIResponse/CallSequence").and_then(Value::as_i64).context("no CallSequence")?;
    ensure!(
        sequence > acknowledged_sequence,
        "call sequence {sequence} repeats one acknowledged ({acknowledged_sequence})"
    );

    let mut survivors = Vec::new();
    let mut repeats = Vec::new();
    for mut written in pending.drain(..) {
        match verify(run, url, &written).await? {
            Some(_) if written.refused => {
                bail!("a {} write the server refused is there: {:?}", written.surface, written.lookup);
            }
            Some(actual) => {
                if written.acknowledged {
                    figures.acknowledged_checked += 1;
                } else {
                    figures.in_doubt += 1;
                    figures.in_doubt_present += 1;
                }
                written.lookup = Lookup::Id(id_of(&actual)?);
                if let Some((key, body)) = written.idempotency.take().filter(|_| !written.acknowledged) {
                    // The repeat answers with the user that exists, and creates nothing.
                    let (repeat, conflicts) = create(run, url, &key, &body).await?;
                    ensure!(
                        matches!(&written.lookup, Lookup::Id(id) if *id == repeat),
                        "an idempotent repeat made a second user"
                    );
                    figures.idempotent_repeats += 1;
                    figures.repeats_answered_409 += conflicts;
                }
                // From now on only the value read back is right for a patch in doubt.
                for (pointer, values) in &mut written.fields {
                    let read = actual.pointer(pointer).and_then(Value::as_str).unwrap_or_default().to_owned();
                    *values = vec![read];
                }
                written.acknowledged = true;
                survivors.push(written);
            }
            None if written.acknowledged => {
                figures.lost += 1;
                bail!("an acknowledged {} write is missing: {:?}", written.surface, written.lookup);
            }
            None if written.refused => {}
            None => {
                // Absent: wholly. A create with an idempotency key is sent again, as a
                // client would.
                figures.in_doubt += 1;
                figures.in_doubt_absent += 1;
                if written.idempotency.is_some() {
                    repeats.push(written);
                }
            }
        }
    }
    // The repeats, together: each waits out the dead request's lease on its key (the server
    // holds a repeat while the lease runs, then answers 409), then runs.
    let mut running = tokio::task::JoinSet::new();
    for mut written in repeats {
        let (run, url) = (run.clone(), url.to_owned());
        running.spawn(async move {
            let (key, body) = written.idempotency.take().context("a repeat without its key")?;
            let (id, conflicts) = create(&run, &url, &key, &body).await?;
            // Exactly one user has its customer reference, and it is the one answered.
            let found =
                verify(&run, &url, &written).await?.context("a repeated create answered, but its user is absent")?;
            ensure!(id_of(&found)? == id, "a repeated create answered user {id}, but another has its reference");
            written.lookup = Lookup::Id(id);
            written.acknowledged = true;
            anyhow::Ok((written, conflicts))
        });
    }
    while let Some(done) = running.join_next().await {
        let (written, conflicts) = done??;
        figures.in_doubt_repeated_and_created += 1;
        figures.repeats_answered_409 += conflicts;
        survivors.push(written);
    }
    *pending = survivors;
    Ok(())
}

fn id_of(user: &Value) -> anyhow::Result<String> {
    Ok(user.get("id").and_then(Value::as_str).context("a user without id")?.to_owned())
}

/// Finds a written user and compares it: `Some(user)` when it is there whole, `None` when
/// it is absent, an error when it is there but not as written (half a write, or changed).
async fn verify(run: &Run, url: &str, written: &Written) -> anyhow::Result<Option<Value>> {
    let user = match &written.lookup {
        Lookup::Id(id) => {
            let response = authorized(run, run.client.get(format!("{url}/v1/users/{id}"))).send().await?;
            if response.status() == StatusCode::NOT_FOUND {
                return Ok(None);
            }
            ensure!(response.status().is_success(), "GET user answered {}", response.status());
            response.json::<Value>().await?
        }
        Lookup::CustomerRef(value) | Lookup::Email(value) => {
            let name = if matches!(written.lookup, Lookup::Email(_)) { "email" } else { "customer_ref" };
            let page: Value = authorized(run, run.client.get(format!("{url}/v1/users")))
                .query(&[(name, value.as_str())])
                .send()
                .await?
                .json()
                .await?;
            let found = page.get("data").and_then(Value::as_array).context("no user list")?;
            ensure!(found.len() <= 1, "{} users for one {name}", found.len());
            match found.first() {
                Some(user) => user.clone(),
                None => return Ok(None),
            }
        }
    };
    for (pointer, allowed) in &written.fields {
        let actual = user.pointer(pointer).and_then(Value::as_str).unwrap_or_default();
        ensure!(
            allowed.iter().any(|value| value == actual),
            "{} user {:?}: {pointer} is {actual:?}, written {allowed:?} (read back: {user})",
            written.surface,
            written.lookup
        );
    }
    let id = id_of(&user)?;
    if let Some(number) = &written.contract {
        let contracts: Value =
            authorized(run, run.client.get(format!("{url}/v1/users/{id}/contracts"))).send().await?.json().await?;
        let numbers: Vec<&str> = contracts
            .get("data")
            .and_then(Value::as_array)
            .map(|all| all.iter().filter_map(|c| c.get("contract_number").and_then(Value::as_str)).collect())
            .unwrap_or_default();
        ensure!(
            numbers == [number.as_str()],
            "a RealPay item's user has contracts {numbers:?}, not [{number}]: half an item"
        );
    }
    Ok(Some(user))
}

fn authorized(run: &Run, request: RequestBuilder) -> RequestBuilder {
    request.bearer_auth(&run.key)
}

/// A native create sent again with its idempotency key; its user's id, and how many 409
/// answers came first (while a dead request's lease on the key held). It is sent again
/// after each 409, until the lease must be over.
async fn create(run: &Run, url: &str, key: &str, body: &Value) -> anyhow::Result<(String, u64)> {
    let deadline = Instant::now() + run.lease + Duration::from_secs(15);
    let mut conflicts = 0;
    loop {
        let response = authorized(run, run.client.post(format!("{url}/v1/users")))
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await?;
        let status = response.status();
        if status.is_success() {
            let user: Value = response.json().await?;
            return Ok((user.get("id").and_then(Value::as_str).context("no id")?.to_owned(), conflicts));
        }
        let text = response.text().await.unwrap_or_default();
        ensure!(
            status == StatusCode::CONFLICT && text.contains("still being processed") && Instant::now() < deadline,
            "an idempotent create answered {status}: {text}"
        );
        conflicts += 1;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn realpay_get(run: &Run, url: &str) -> anyhow::Result<Value> {
    let path = format!("{url}/v1/realpay/{MERCHANT}/maintain/omni/users?Product=X&Email=nobody@example.com");
    Ok(authorized(run, run.client.get(path)).send().await?.json().await?)
}

/// Starts the load tasks of a cycle; each runs until the server dies under it.
async fn load(
    run: &Arc<Run>,
    url: &str,
    cycle: u32,
    written: &Arc<Mutex<Vec<Written>>>,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let login: Value = run
        .client
        .post(format!("{url}/auth/login"))
        .json(&json!({"org": MERCHANT, "userName": run.key_id, "password": run.key}))
        .send()
        .await?
        .json()
        .await?;
    let jwt = login.get("token").and_then(Value::as_str).context("no Convercus token")?.to_owned();
    let mut tasks = Vec::new();
    for worker in 0..2 {
        let (run, url, written) = (run.clone(), url.to_owned(), written.clone());
        tasks.push(tokio::spawn(async move { native(&run, &url, cycle, worker, &written).await }));
    }
    let (run2, url2, written2) = (run.clone(), url.to_owned(), written.clone());
    tasks.push(tokio::spawn(async move { convercus(&run2, &url2, &jwt, cycle, &written2).await }));
    let (run3, url3, written3) = (run.clone(), url.to_owned(), written.clone());
    tasks.push(tokio::spawn(async move { realpay(&run3, &url3, cycle, &written3).await }));
    Ok(tasks)
}

fn record(written: &Mutex<Vec<Written>>, write: Written) {
    if let Ok(mut all) = written.lock() {
        all.push(write);
    }
}

/// Native creates, each followed by a merge patch of the user just made.
async fn native(run: &Run, url: &str, cycle: u32, worker: u32, written: &Mutex<Vec<Written>>) {
    for n in 0.. {
        let tag = format!("{cycle}-{worker}-{n}");
        let body = json!({"customer_ref": format!("N{tag}"), "given_name": format!("Given{tag}"),
            "family_name": "Before", "email": format!("n{tag}@crash.example.com")});
        let key = format!("crash-{tag}");
        let mut write = Written {
            surface: "native",
            lookup: Lookup::CustomerRef(format!("N{tag}")),
            fields: vec![
                ("/customer_ref", vec![format!("N{tag}")]),
                ("/given_name", vec![format!("Given{tag}")]),
                ("/family_name", vec!["Before".to_owned()]),
                ("/email", vec![format!("n{tag}@crash.example.com")]),
            ],
            contract: None,
            idempotency: Some((key.clone(), body.clone())),
            acknowledged: false,
            refused: false,
        };
        let sent =
            authorized(run, run.client.post(format!("{url}/v1/users"))).header("Idempotency-Key", &key).json(&body);
        let id = match answered(run, sent).await {
            Reply::Written(user) => user.get("id").and_then(Value::as_str).unwrap_or_default().to_owned(),
            Reply::Refused => {
                write.refused = true;
                return record(written, write);
            }
            Reply::None => return record(written, write),
        };
        acknowledge(run, 1);
        write.lookup = Lookup::Id(id.clone());
        write.acknowledged = true;
        let after = format!("After{tag}");
        if let Some(values) = write.field("/family_name") {
            values.insert(0, after.clone());
        }
        let patch = authorized(run, run.client.patch(format!("{url}/v1/users/{id}")))
            .header("content-type", "application/merge-patch+json")
            .body(json!({"family_name": after}).to_string());
        let reply = answered(run, patch).await;
        let patched = matches!(reply, Reply::Written(_));
        if let Some(values) = write.field("/family_name") {
            // Acknowledged: only the new value. Refused: only the old one. In doubt: either.
            if patched {
                acknowledge(run, 1);
                values.truncate(1);
            } else if matches!(reply, Reply::Refused) {
                values.remove(0);
            }
        }
        record(written, write);
        if !patched {
            return;
        }
    }
}

/// Convercus creates, as its clients send them.
async fn convercus(run: &Run, url: &str, jwt: &str, cycle: u32, written: &Mutex<Vec<Written>>) {
    for n in 0.. {
        let email = format!("c{cycle}-{n}@crash.example.com");
        let sent = run
            .client
            .post(format!("{url}/users"))
            .header("Authorization", jwt)
            .header("interaction-id", TILL)
            .json(&json!({"emailAddress": email, "givenName": format!("Conv{n}"), "familyName": "Crash", "countryCode": "DE"}));
        let answer = answered(run, sent).await;
        let acknowledged = matches!(answer, Reply::Written(_));
        let refused = matches!(answer, Reply::Refused);
        if acknowledged {
            acknowledge(run, 1);
        }
        let lookup = match answer.written().and_then(|a| a.get("userId")).and_then(Value::as_str) {
            Some(id) => Lookup::Id(id.to_owned()),
            None => Lookup::Email(email.clone()),
        };
        record(
            written,
            Written {
                surface: "convercus",
                lookup,
                fields: vec![
                    ("/email", vec![email]),
                    ("/given_name", vec![format!("Conv{n}")]),
                    ("/family_name", vec!["Crash".to_owned()]),
                    ("/country", vec!["DE".to_owned()]),
                ],
                contract: None,
                idempotency: None,
                acknowledged,
                refused,
            },
        );
        if !acknowledged {
            return;
        }
    }
}

/// RealPay batches of users with contracts; every item stands alone, and each item's user
/// and contract are one write.
async fn realpay(run: &Run, url: &str, cycle: u32, written: &Mutex<Vec<Written>>) {
    for batch in 0.. {
        let tags: Vec<String> = (0..BATCH).map(|i| format!("{cycle}x{batch}x{i}")).collect();
        let items: Vec<Value> = tags
            .iter()
            .map(|tag| {
                json!({"Name": "Batch", "Surname": format!("Item{tag}"), "Email": format!("r{tag}@crash.example.com"),
                    "Country": "ZA", "ID": format!("R{tag}"), "ClientId": format!("R{tag}"),
                    "Contract": {"ContractNumber": format!("K{tag}"), "InstalmentAmount": 99.99, "NumberOfInstalments": 12,
                        "InstalmentStartDate": "2026-01-01 08:00", "TrackingCode": "00", "FrequencyCode": "MNTH",
                        "CollectionDay": 1}})
            })
            .collect();
        let sent = authorized(run, run.client.post(format!("{url}/v1/realpay/{MERCHANT}/maintain/omni/users")))
            .json(&json!({"UserPostRequest": items}));
        let answer = answered(run, sent).await;
        if let Some(sequence) =
            answer.written().and_then(|a| a.pointer("/APIResponse/CallSequence")).and_then(Value::as_i64)
            && let Ok(mut highest) = run.sequence.lock()
        {
            *highest = (*highest).max(sequence);
        }
        // Each item is acknowledged, refused (listed under Failed, or the whole call
        // refused) or, without an answer, in doubt.
        let outcome: Vec<(bool, bool)> = match &answer {
            Reply::Written(answer) => batch_outcome(run, answer, tags.len()),
            Reply::Refused => vec![(false, true); tags.len()],
            Reply::None => vec![(false, false); tags.len()],
        };
        let complete = outcome.iter().all(|(acknowledged, _)| *acknowledged);
        acknowledge(run, outcome.iter().filter(|(acknowledged, _)| *acknowledged).count() as u64);
        for (tag, (acknowledged, refused)) in tags.into_iter().zip(outcome) {
            record(
                written,
                Written {
                    surface: "realpay",
                    lookup: Lookup::CustomerRef(format!("R{tag}")),
                    fields: vec![
                        ("/family_name", vec![format!("Item{tag}")]),
                        ("/email", vec![format!("r{tag}@crash.example.com")]),
                        ("/national_id", vec![format!("R{tag}")]),
                    ],
                    contract: Some(format!("K{tag}")),
                    idempotency: None,
                    acknowledged,
                    refused,
                },
            );
        }
        if !complete {
            return;
        }
    }
}

/// What a RealPay batch answer says of each of its `items`: (acknowledged, refused). An
/// item listed under `Failed` is refused; the others are acknowledged only if the answer
/// accounts for every item (as many `Successful` as not failed). Any status but `SUCCESS`
/// counts as a refusal of the run, as every item sent is valid.
fn batch_outcome(run: &Run, answer: &Value, items: usize) -> Vec<(bool, bool)> {
    let status = answer.pointer("/APIResponse/Status").and_then(Value::as_str).unwrap_or_default();
    let list = |name: &str| {
        answer.pointer(&format!("/UserPostResponse/0/{name}")).and_then(Value::as_array).cloned().unwrap_or_default()
    };
    let failed: Vec<usize> = list("Failed")
        .iter()
        .filter_map(|item| item.get("Index").and_then(Value::as_u64))
        .filter_map(|index| usize::try_from(index).ok())
        .collect();
    let accounted = list("Successful").len() + failed.len() == items;
    if status != "SUCCESS" || !failed.is_empty() || !accounted {
        eprintln!("clientele-crash: a RealPay batch answered {status} with {} item(s) failed: {answer}", failed.len());
        run.refused.fetch_add(failed.len().max(1) as u64, std::sync::atomic::Ordering::Relaxed);
    }
    (0..items)
        .map(|index| {
            let refused = failed.contains(&index);
            (!refused && accounted, refused)
        })
        .collect()
}

fn acknowledge(run: &Run, writes: u64) {
    run.acknowledged.fetch_add(writes, std::sync::atomic::Ordering::Relaxed);
}

/// What the server answered to a write.
enum Reply {
    /// A success, and its JSON body.
    Written(Value),
    /// A refusal (4xx): nothing was written.
    Refused,
    /// No (whole) answer, or a server error: the write is in doubt.
    None,
}

impl Reply {
    fn written(&self) -> Option<&Value> {
        match self {
            Reply::Written(value) => Some(value),
            Reply::Refused | Reply::None => None,
        }
    }
}

/// Sends a write. Any answer but a success counts as a refusal of the run (every write sent
/// is valid) and stops that load task; a refused write must then be absent, a write
/// answered 5xx is in doubt.
async fn answered(run: &Run, request: RequestBuilder) -> Reply {
    let Ok(response) = request.send().await else { return Reply::None };
    let status = response.status();
    if !status.is_success() {
        eprintln!("clientele-crash: a write was refused with {status}");
        run.refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return if status.is_client_error() { Reply::Refused } else { Reply::None };
    }
    match response.json().await {
        Ok(value) => Reply::Written(value),
        Err(_) => Reply::None,
    }
}
