//! The run: a database, a seeded server, every scenario, and the ceilings.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::Method;
use reqwest::Client;
use serde_json::{Value, json};

use clientele_domain::merchant::MerchantId;
use clientele_domain::user::{Email, Origin, PersonName, User, UserFields, UserId};
use clientele_store::{PageRequest, Store, StoreMetrics, UserFilter};

use crate::bodies::{self, Kind};
use crate::database::Database;
use crate::load::{self, Call, Calls, Connections, Endpoint, Outcome};
use crate::report::{Ceiling, Report, Row};
use crate::seed::{self, Target};
use crate::server::Server;
use crate::webhooks::{self, Api};
use crate::{Args, goals};

/// How many slices a scenario runs in, each after a slice of the HTTP ceiling half as long.
const SLICES: u32 = 5;

/// Runs a scenario in [`SLICES`] slices, each after a slice of the HTTP ceiling: on a machine
/// whose speed drifts (a shared host), the scenario and the ceiling it is compared with
/// are then measured at the same moments, not a minute apart.
async fn scenario(
    server: &Server,
    endpoint: &Endpoint,
    concurrency: usize,
    duration: Duration,
    name: &str,
    call: Calls,
) -> Row {
    let healthz: Calls = Arc::new(|_| Call::get("/healthz".to_owned()));
    let (ours, theirs) = (Connections::new(concurrency), Connections::new(concurrency));
    let slice = duration / SLICES;
    let (mut outcome, mut ceiling, mut cpu) = (Outcome::empty(), Outcome::empty(), 0.0);
    for _ in 0..SLICES {
        ceiling.add(&load::run(endpoint, &theirs, slice / 2, 0, Arc::clone(&healthz)).await);
        let before = server.cpu_seconds();
        outcome.add(&load::run(endpoint, &ours, slice, outcome.requests, Arc::clone(&call)).await);
        cpu += server.cpu_seconds() - before;
    }
    let mut row = Row::new(name, &outcome, cpu);
    row.http_alongside_per_second = Some(ceiling.per_second());
    row.errors += ceiling.errors;
    eprintln!(
        "{name}: {:.0}/s, p99 {:.2} ms, {} errors; HTTP ceiling alongside {:.0}/s",
        row.per_second,
        row.p99_ms,
        row.errors,
        ceiling.per_second()
    );
    row
}

/// The store's own operations, without HTTP, for the storage ceilings.
async fn store_ceilings(
    store: Arc<dyn Store>,
    merchant: MerchantId,
    ids: &[String],
    duration: Duration,
    concurrency: usize,
) -> Vec<Ceiling> {
    let ids: Arc<Vec<UserId>> = Arc::new(ids.iter().filter_map(|id| id.parse().ok()).collect());
    let get = {
        let (store, ids) = (Arc::clone(&store), Arc::clone(&ids));
        load::run_in_process(concurrency, duration, move |_, n| {
            let (store, ids) = (Arc::clone(&store), Arc::clone(&ids));
            async move {
                let Some(id) = ids.get(usize::try_from(n).unwrap_or(0) % ids.len().max(1)) else { return false };
                store.user(merchant, *id).await.is_ok()
            }
        })
        .await
    };
    let list = {
        let store = Arc::clone(&store);
        load::run_in_process(concurrency, duration, move |_, n| {
            let store = Arc::clone(&store);
            async move {
                let filter =
                    UserFilter { email_lookup: Some(format!("seed{}@example.com", n % 1000)), ..UserFilter::default() };
                store.list_users(merchant, &filter, PageRequest { after: None, limit: 20 }).await.is_ok()
            }
        })
        .await
    };
    let create = {
        let store = Arc::clone(&store);
        load::run_in_process(concurrency, duration, move |_, _| {
            let store = Arc::clone(&store);
            async move {
                let fields = UserFields {
                    given_name: PersonName::parse("n", "Ceiling").ok(),
                    email: Email::parse("e", "ceiling@example.com").ok(),
                    ..UserFields::default()
                };
                let user = User::new(fields, time::OffsetDateTime::now_utc());
                store.create_user(merchant, &user, None, &Origin::native(), &[], None).await.is_ok()
            }
        })
        .await
    };
    let ceiling = |name: &str, outcome: &Outcome| Ceiling { name: name.to_owned(), per_second: outcome.per_second() };
    vec![
        ceiling("store: user by id", &get),
        ceiling("store: users by email", &list),
        ceiling("store: create user", &create),
    ]
}

async fn open_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if let Some(path) = clientele_store_sqlite::path_from_url(url) {
        return Ok(Arc::new(clientele_store_sqlite::SqliteStore::open(&path, StoreMetrics::default())?));
    }
    Ok(Arc::new(clientele_store_postgres::PgStore::connect(url, 16, StoreMetrics::default()).await?))
}

pub async fn run_all(args: &Args) -> anyhow::Result<Report> {
    let (users, duration, concurrency) = args.settings();
    let database = Database::create(args.postgres.as_deref()).await?;
    let result = run_on(args, database.url(), users, duration, concurrency).await;
    database.drop_now().await?;
    result
}

async fn run_on(
    args: &Args,
    database: &str,
    users: u64,
    duration: Duration,
    concurrency: usize,
) -> anyhow::Result<Report> {
    let (key, merchant_id) = seed::merchant(&args.server, database).await?;
    let server = Server::start_with(&args.server, database, &["--webhooks-allow-private"]).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_rss_mib = server.memory_mib("VmRSS");
    let client = Client::builder().pool_max_idle_per_host(concurrency).build()?;
    let mut target = Target {
        client,
        url: server.url.clone(),
        key,
        ids: Arc::new(Vec::new()),
        users,
        full_ids: Arc::new(Vec::new()),
        tag: format!("{}", time::OffsetDateTime::now_utc().unix_timestamp() % 100_000),
    };
    let seeded = Instant::now();
    seed::light(&target, users).await?;
    target.ids = Arc::new(seed::user_ids(&target, 20_000).await?);
    let full = (users / 5).max(100);
    target.full_ids = Arc::new(seed::full(&target, full, concurrency).await?);
    eprintln!("seeded {users} users and {full} with full bodies in {:.1} s", seeded.elapsed().as_secs_f64());

    let endpoint = Endpoint {
        address: server.url.trim_start_matches("http://").to_owned(),
        authorization: format!("Bearer {}", target.key),
    };
    let wanted = |name: &str| args.only.as_deref().is_none_or(|only| name.contains(only));
    let mut rows = Vec::new();
    macro_rules! run {
        ($name:expr, |$t:ident, $n:ident| $body:expr) => {{
            let $t = target.clone();
            if wanted($name) {
                let call: Calls = Arc::new(move |$n| $body);
                rows.push(scenario(&server, &endpoint, concurrency, duration, $name, call).await);
            }
        }};
    }
    let json = "application/json";
    if wanted("http ceiling: GET /healthz") {
        let before = server.cpu_seconds();
        let connections = Connections::new(concurrency);
        let outcome =
            load::run(&endpoint, &connections, duration, 0, Arc::new(|_| Call::get("/healthz".to_owned()))).await;
        let row = Row::new("http ceiling: GET /healthz", &outcome, server.cpu_seconds() - before);
        eprintln!("{}: {:.0}/s, p99 {:.2} ms, {} errors", row.name, row.per_second, row.p99_ms, row.errors);
        rows.push(row);
    }
    let (realpay, patch) = ("/v1/realpay/BENCH/maintain/omni/users", "application/merge-patch+json");
    run!("native GET /v1/users/{id}", |t, n| Call::get(format!("/v1/users/{}", t.id(n))));
    run!("native GET /v1/users/{id} (full body)", |t, n| Call::get(format!("/v1/users/{}", t.full_id(n))));
    run!("native GET /v1/users?email=", |t, n| {
        Call::get(format!("/v1/users?email=seed{}@example.com", n % t.users.max(1)))
    });
    run!("native GET /v1/users?email= (full body)", |t, n| Call::get(format!("/v1/users?email={}", t.full_email(n))));
    run!("native POST /v1/users", |t, n| {
        let body = json!({"customer_ref": format!("N{}{n}", t.tag), "email": format!("n{n}@example.com")});
        Call::send(Method::POST, "/v1/users", json, body.to_string())
    });
    run!("native POST /v1/users (full body)", |t, n| {
        let body = bodies::native_user(Kind::Native, &format!("NF{}{n}", t.tag), &format!("thandi.{n}@example.com"), n);
        Call::send(Method::POST, "/v1/users", json, body.to_string())
    });
    run!("native PATCH /v1/users/{id}", |t, n| {
        let body = json!({"given_name": format!("P{n}")}).to_string();
        Call::send(Method::PATCH, &format!("/v1/users/{}", t.id(n)), patch, body)
    });
    run!("native PATCH /v1/users/{id} (full body)", |t, n| {
        Call::send(Method::PATCH, &format!("/v1/users/{}", t.full_id(n)), patch, bodies::native_patch(n).to_string())
    });
    run!("convercus POST /users", |_t, n| {
        Call::send(Method::POST, "/users", json, bodies::convercus_light(n).to_string())
    });
    run!("convercus POST /users (full body)", |_t, n| {
        Call::send(Method::POST, "/users", json, bodies::convercus_user(n).to_string())
    });
    run!("convercus GET /users/{id}", |t, n| Call::get(format!("/users/{}/", t.id(n))));
    run!("convercus GET /users/{id} (full body)", |t, n| Call::get(format!("/users/{}/", t.full_id(n))));
    run!("realpay GET by Email", |t, n| {
        Call::get(format!("{realpay}?Product=X&Email=seed{}@example.com", n % t.users.max(1)))
    });
    run!("realpay GET by Email (full body)", |t, n| {
        Call::get(format!("{realpay}?Product=X&Email={}", t.full_email(n)))
    });
    run!("realpay POST /users (full body)", |t, n| {
        let item = bodies::realpay_item(Kind::RealPay, &format!("{}r{n}", t.tag), n);
        Call::send(Method::POST, realpay, json, json!({"UserPostRequest": [item]}).to_string())
    });
    run!("duengage POST JSON", |t, n| {
        Call::send(Method::POST, "/onceoffpayment", json, bodies::duengage_json(&t.tag, n))
    });
    run!("duengage POST JSON (full body)", |t, n| {
        let body = bodies::duengage_full(Kind::DuEngageJson, &t.tag, n).to_string();
        Call::send(Method::POST, "/onceoffpayment", json, body)
    });
    run!("duengage POST JSV", |t, n| {
        Call::send(Method::POST, "/onceoffpayment.jsv", "text/jsv", bodies::duengage_jsv(&t.tag, n))
    });
    run!("duengage POST JSV (full body)", |t, n| {
        let body = clientele_jsv::write(&bodies::duengage_full(Kind::DuEngageJsv, &t.tag, n));
        Call::send(Method::POST, "/onceoffpayment.jsv", "text/jsv", body)
    });
    run!("native POST points earn", |t, n| {
        let body = json!({"kind": "earn", "points": 5, "reference": format!("E{}{n}", t.tag)});
        Call::send(Method::POST, &format!("/v1/users/{}/points", t.id(n)), json, body.to_string())
    });
    // Each spend takes 1 of the 5 points an earn of the same sequence number gave its user.
    let earned = rows.iter().find(|r| r.name == "native POST points earn").map_or(1, |r| r.requests.max(1));
    run!("native POST points spend", |t, n| {
        let body = json!({"kind": "spend", "points": 1}).to_string();
        Call::send(Method::POST, &format!("/v1/users/{}/points", t.id(n % earned)), json, body)
    });
    // Batches go one at a time: each is a thousand users with contracts.
    for full in [false, true] {
        let name = if full {
            "realpay POST 1000 users with contracts (full body)"
        } else {
            "realpay POST 1000 users with contracts"
        };
        if !wanted(name) {
            continue;
        }
        let t = target.clone();
        let before = server.cpu_seconds();
        let batch: Calls = Arc::new(move |n| {
            let tag = format!("{}{n}x", t.tag);
            let items: Vec<Value> = (0..1000)
                .map(|i| {
                    let reference = format!("{tag}{i}");
                    if full {
                        bodies::realpay_item(Kind::RealPayBatch, &reference, n * 1000 + i)
                    } else {
                        bodies::batch_item(&tag, i)
                    }
                })
                .collect();
            Call::send(Method::POST, realpay, json, json!({"UserPostRequest": items}).to_string())
        });
        let outcome = load::run(&endpoint, &Connections::new(1), duration.max(Duration::from_secs(2)), 0, batch).await;
        let row = Row::new(name, &outcome, server.cpu_seconds() - before);
        eprintln!("{}: p50 {:.1} ms", row.name, row.p50_ms);
        rows.push(row);
    }
    let mut goals = goals::of(&rows, args.postgres.is_some());
    if wanted("webhook") {
        let api = Api { client: &target.client, url: &target.url, key: &target.key };
        let (none, one, cost) =
            webhooks::create_cost(&api, &server, &endpoint, concurrency, duration, &target.tag).await?;
        rows.extend([none, one]);
        let backlog = if args.quick { 2_000 } else { 20_000 };
        let drained = webhooks::drain(&api, &endpoint, concurrency, backlog, &target.tag).await?;
        let (paced, lag) = webhooks::lag(&api, &server, &endpoint, 1_000, duration, &target.tag).await?;
        rows.push(paced);
        goals.extend([cost, drained, lag]);
    }
    let peak_rss_mib = server.memory_mib("VmHWM");
    let http = rows.iter().find(|r| r.name.starts_with("http ceiling")).map(|r| r.per_second);
    server.stop().await;

    let store = open_store(database).await?;
    // The creates answered 201 are there: the first, the middle and the last.
    for (name, prefix) in [("native POST /v1/users", "N"), ("native POST /v1/users (full body)", "NF")] {
        let Some(created) = rows.iter().find(|r| r.name == name) else { continue };
        for n in [0, created.requests / 2, created.requests.saturating_sub(1)] {
            let reference = format!("{prefix}{}{n}", target.tag);
            let filter = UserFilter { customer_ref: Some(reference), ..UserFilter::default() };
            let found = store.list_users(merchant_id, &filter, PageRequest { after: None, limit: 1 }).await?;
            anyhow::ensure!(found.len() == 1, "{name} {n} answered 201 but its user is not stored");
        }
    }
    // With `--only`, the HTTP ceiling on its own may not have run: it is left out, not a 0.
    let mut ceilings: Vec<Ceiling> =
        http.map(|per_second| Ceiling { name: "http: GET /healthz".to_owned(), per_second }).into_iter().collect();
    ceilings.extend(store_ceilings(store, merchant_id, &target.ids, duration, concurrency).await);
    let rate = |name: &str| ceilings.iter().find(|c| c.name == name).map_or(0.0, |c| c.per_second);
    for row in &mut rows {
        let ceiling = match row.name.trim_end_matches(" (full body)") {
            "native GET /v1/users/{id}" | "convercus GET /users/{id}" => Some("store: user by id"),
            "native GET /v1/users?email=" | "realpay GET by Email" => Some("store: users by email"),
            "native POST /v1/users" | "convercus POST /users" => Some("store: create user"),
            _ => None,
        };
        // The lower of the two ceilings bounds the scenario: the store's own operation, or the
        // HTTP stack measured alongside it.
        let store = ceiling.map(|name| (name.to_owned(), rate(name)));
        let alongside = row.http_alongside_per_second.map(|rate| ("HTTP alongside".to_owned(), rate));
        let bound =
            [store, alongside].into_iter().flatten().filter(|(_, rate)| *rate > 0.0).min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((name, rate)) = bound {
            row.fraction_of_ceiling = Some(row.per_second / rate);
            row.ceiling = Some(name);
        }
    }
    Ok(Report {
        database: if args.postgres.is_some() { "PostgreSQL".to_owned() } else { "SQLite".to_owned() },
        users,
        concurrency,
        seconds_per_scenario: duration.as_secs_f64(),
        idle_rss_mib,
        peak_rss_mib,
        ceilings,
        scenarios: rows,
        goals,
    })
}
