//! The users every lookup finds: light ones, seeded in RealPay batches, and users with full
//! bodies (phone, address, custom properties, a contract), created one by one as a native
//! client does.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context as _;
use reqwest::Client;
use serde_json::{Value, json};

use clientele_domain::merchant::MerchantId;

use crate::bodies::{self, Kind, PROPERTIES};
use crate::server::admin;

/// What every request of a scenario needs.
#[derive(Clone)]
pub struct Target {
    pub client: Client,
    pub url: String,
    pub key: String,
    /// The light seeded users' ids.
    pub ids: Arc<Vec<String>>,
    pub users: u64,
    /// The seeded users with full bodies' ids, the `n`th being `full{n}@example.com`.
    pub full_ids: Arc<Vec<String>>,
    /// Makes this run's new records unique.
    pub tag: String,
}

/// Spreads sequence numbers over `ids`, so that consecutive requests go to different users.
fn spread(ids: &[String], n: u64) -> &str {
    let index = usize::try_from(n.wrapping_mul(2_654_435_761) % (ids.len().max(1) as u64)).unwrap_or(0);
    ids.get(index).map_or("", String::as_str)
}

impl Target {
    pub fn id(&self, n: u64) -> &str {
        spread(&self.ids, n)
    }

    pub fn full_id(&self, n: u64) -> &str {
        spread(&self.full_ids, n)
    }

    /// The e-mail address of one of the seeded users with full bodies.
    pub fn full_email(&self, n: u64) -> String {
        format!("full{}@example.com", n % (self.full_ids.len().max(1) as u64))
    }
}

/// Makes the bench merchant (number `BENCH`) with the administrative commands: its till, and
/// the two custom properties the full bodies set. Answers its API key and id.
pub async fn merchant(server: &Path, database: &str) -> anyhow::Result<(String, MerchantId)> {
    let merchant =
        admin(server, database, &["merchant", "create", "--name", "Bench", "--number", "BENCH", "--json"]).await?;
    admin(
        server,
        database,
        &["interaction-point", "create", "--merchant", "BENCH", "--id", "till-1", "--name", "Till", "--json"],
    )
    .await?;
    for (id, name, value_type, _) in PROPERTIES {
        let property = ["property", "create", "--merchant", "BENCH", "--name", name, "--value-type", value_type];
        admin(server, database, &[&property[..], &["--id", id, "--json"]].concat()).await?;
    }
    let key = merchant.get("api_key").and_then(Value::as_str).context("no key")?.to_owned();
    let id = merchant.get("id").and_then(Value::as_str).context("no merchant id")?.parse()?;
    Ok((key, id))
}

/// Seeds `users` light users, a thousand to a RealPay batch.
pub async fn light(target: &Target, users: u64) -> anyhow::Result<()> {
    let mut from = 0;
    while from < users {
        let to = (from + 1000).min(users);
        let items: Vec<Value> = (from..to).map(bodies::seed_item).collect();
        let response = target
            .client
            .post(format!("{}/v1/realpay/BENCH/maintain/omni/users", target.url))
            .bearer_auth(&target.key)
            .json(&json!({"UserPostRequest": items}))
            .send()
            .await?;
        let body: Value = response.json().await?;
        let status = body.pointer("/APIResponse/Status").and_then(Value::as_str);
        anyhow::ensure!(status == Some("SUCCESS"), "seeding failed: {body}");
        from = to;
    }
    Ok(())
}

/// A native POST of `body` to `path`, answering the created record's id.
async fn create(target: &Target, path: &str, body: &Value) -> anyhow::Result<String> {
    let response =
        target.client.post(format!("{}{path}", target.url)).bearer_auth(&target.key).json(body).send().await?;
    let status = response.status();
    let answer: Value = response.json().await?;
    anyhow::ensure!(status.is_success(), "seeding {path} failed: {status} {answer}");
    Ok(answer.get("id").and_then(Value::as_str).context("no id in the answer")?.to_owned())
}

/// Seeds `count` users with full bodies, each with a contract, from `concurrency` clients;
/// answers their ids in order.
pub async fn full(target: &Target, count: u64, concurrency: usize) -> anyhow::Result<Vec<String>> {
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (target, next) = (target.clone(), Arc::clone(&next));
        workers.spawn(async move {
            let mut made = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    return anyhow::Ok(made);
                }
                let body = bodies::native_user(Kind::Seeded, &format!("F{n}"), &format!("full{n}@example.com"), n);
                let id = create(&target, "/v1/users", &body).await?;
                create(&target, &format!("/v1/users/{id}/contracts"), &bodies::native_contract(&format!("F{n}")))
                    .await?;
                made.push((n, id));
            }
        });
    }
    let mut made = Vec::new();
    while let Some(worker) = workers.join_next().await {
        made.extend(worker??);
    }
    made.sort_unstable();
    Ok(made.into_iter().map(|(_, id)| id).collect())
}

/// Up to `most` user ids, from the native list.
pub async fn user_ids(target: &Target, most: usize) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    while ids.len() < most {
        let path = match &cursor {
            Some(cursor) => format!("{}/v1/users?limit=100&cursor={cursor}", target.url),
            None => format!("{}/v1/users?limit=100", target.url),
        };
        let page: Value = target.client.get(path).bearer_auth(&target.key).send().await?.json().await?;
        let data = page.get("data").and_then(Value::as_array).context("no user list")?;
        ids.extend(data.iter().filter_map(|u| u.get("id").and_then(Value::as_str).map(str::to_owned)));
        match page.get("next_cursor").and_then(Value::as_str) {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    Ok(ids)
}
