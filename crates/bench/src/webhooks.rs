//! Webhooks under load, each figure beside its target: what one subscribed endpoint costs the
//! creates, how fast a backlog of events drains to an endpoint, and how soon an event arrives
//! after its write when writes come at a steady rate.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use hyper::Method;
use reqwest::Client;
use serde_json::{Value, json};

use clientele_bench::receiver::Receiver;

use crate::load::{self, Call, Calls, Connections, Endpoint, Outcome};
use crate::report::{Goal, Row};
use crate::server::Server;

/// The writes every figure here is made of: native creates.
fn create(tag: &str, n: u64) -> Call {
    let body = json!({"customer_ref": format!("W{tag}{n}"), "email": format!("w{n}@example.com")});
    Call::send(Method::POST, "/v1/users", "application/json", body.to_string())
}

/// The merchant's API, for endpoints.
pub struct Api<'a> {
    pub client: &'a Client,
    pub url: &'a str,
    pub key: &'a str,
}

impl Api<'_> {
    /// Subscribes `receiver` to `types` (every type when empty); answers the endpoint's id.
    async fn subscribe(&self, receiver: &str, types: &[&str]) -> anyhow::Result<String> {
        let response = self
            .client
            .post(format!("{}/v1/webhook-endpoints", self.url))
            .bearer_auth(self.key)
            .json(&json!({"url": receiver, "event_types": types, "description": "bench"}))
            .send()
            .await?;
        ensure!(response.status() == 201, "the webhook endpoint was refused: {}", response.text().await?);
        let body: Value = response.json().await?;
        Ok(body.get("id").and_then(Value::as_str).context("no endpoint id")?.to_owned())
    }

    async fn unsubscribe(&self, id: &str) -> anyhow::Result<()> {
        let response =
            self.client.delete(format!("{}/v1/webhook-endpoints/{id}", self.url)).bearer_auth(self.key).send().await?;
        ensure!(response.status().is_success(), "the webhook endpoint was not deleted: {}", response.status());
        Ok(())
    }
}

/// Waits until `receiver` has `count` events, as long as deliveries keep arriving (a second
/// without one ends it); answers when the last one came.
async fn delivered(receiver: &Receiver, count: usize) -> Instant {
    let (mut seen, mut last) = (receiver.with(|a| a.first.len()), Instant::now());
    while seen < count && last.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let now = receiver.with(|a| a.first.len());
        if now != seen {
            (seen, last) = (now, Instant::now());
        }
    }
    last
}

/// Native creates in slices, alternately with no endpoint and with one endpoint subscribed to
/// them; a with-slice's deliveries are all in before the next slice starts. Answers both
/// rows and the share the subscribed creates keep.
pub async fn create_cost(
    api: &Api<'_>,
    server: &Server,
    endpoint: &Endpoint,
    concurrency: usize,
    duration: Duration,
    tag: &str,
) -> anyhow::Result<(Row, Row, Goal)> {
    let receiver = Receiver::start().await?;
    let connections = Connections::new(concurrency);
    let slice = duration / 5;
    let (mut none, mut one, mut cpu_none, mut cpu_one) = (Outcome::empty(), Outcome::empty(), 0.0, 0.0);
    let mut sent = 0;
    for _ in 0..5 {
        for subscribed in [false, true] {
            let id = if subscribed { Some(api.subscribe(&receiver.url, &["user.created"]).await?) } else { None };
            let tag = tag.to_owned();
            let calls: Calls = Arc::new(move |n| create(&tag, n));
            let before = server.cpu_seconds();
            let outcome = load::run(endpoint, &connections, slice, sent, calls).await;
            sent += outcome.requests;
            let cpu = server.cpu_seconds() - before;
            if let Some(id) = id {
                let wanted = receiver.with(|a| a.first.len()) + usize::try_from(outcome.requests).unwrap_or(0);
                delivered(&receiver, wanted).await;
                api.unsubscribe(&id).await?;
                one.add(&outcome);
                cpu_one += cpu;
            } else {
                none.add(&outcome);
                cpu_none += cpu;
            }
        }
    }
    let missing = usize::try_from(one.requests).unwrap_or(0).saturating_sub(receiver.with(|a| a.first.len()));
    ensure!(missing == 0, "{missing} created users' events never arrived at the subscribed endpoint");
    let none = Row::new("native POST /v1/users, no webhook endpoint", &none, cpu_none);
    let one = Row::new("native POST /v1/users, one webhook endpoint", &one, cpu_one);
    let goal = Goal::at_least(
        "creates with one webhook endpoint, of creates with none",
        one.per_second / none.per_second.max(f64::EPSILON),
        0.85,
        "ratio",
    );
    eprintln!("{}: {:.0}/s against {:.0}/s without", one.name, one.per_second, none.per_second);
    Ok((none, one, goal))
}

/// Writes a backlog of `events` user.created events (one endpoint subscribed, its deliveries
/// running meanwhile), then times the rest of the backlog's delivery.
pub async fn drain(
    api: &Api<'_>,
    endpoint: &Endpoint,
    concurrency: usize,
    events: u64,
    tag: &str,
) -> anyhow::Result<Goal> {
    let receiver = Receiver::start().await?;
    let id = api.subscribe(&receiver.url, &["user.created"]).await?;
    let connections = Connections::new(concurrency);
    let (tag, mut written) = (format!("{tag}d"), 0);
    while written < events {
        let tag = tag.clone();
        let calls: Calls = Arc::new(move |n| create(&tag, n));
        let outcome = load::run(endpoint, &connections, Duration::from_millis(200), written, calls).await;
        ensure!(outcome.errors == 0, "creates failed while the backlog was written");
        written += outcome.requests;
    }
    let (start, backlog) = (Instant::now(), receiver.with(|a| a.first.len()));
    let total = usize::try_from(written).unwrap_or(usize::MAX);
    let last = delivered(&receiver, total).await;
    let arrived = receiver.with(|a| a.first.len());
    api.unsubscribe(&id).await?;
    ensure!(arrived == total, "{} of {total} events never arrived", total - arrived);
    let rate = (total - backlog) as f64 / last.duration_since(start).as_secs_f64().max(f64::EPSILON);
    eprintln!(
        "webhook backlog: {written} events written, {} left when the writes ended, drained at {rate:.0}/s",
        total - backlog
    );
    Ok(Goal::at_least("webhook deliveries of a backlog", rate, 2_000.0, "per second"))
}

/// Creates at `rate` a second for `duration`, one endpoint subscribed; answers the creates'
/// row and the 99th percentile of the time from each event's occurrence (before its commit)
/// to its first arrival.
pub async fn lag(
    api: &Api<'_>,
    server: &Server,
    endpoint: &Endpoint,
    rate: u32,
    duration: Duration,
    tag: &str,
) -> anyhow::Result<(Row, Goal)> {
    let receiver = Receiver::start().await?;
    let id = api.subscribe(&receiver.url, &["user.created"]).await?;
    let tag = format!("{tag}l");
    let calls: Calls = Arc::new(move |n| create(&tag, n));
    let before = server.cpu_seconds();
    let interval = Duration::from_secs(1) / rate.max(1);
    let outcome = load::run_paced(endpoint, &Connections::new(64), duration, 0, Some(interval), calls).await;
    let cpu = server.cpu_seconds() - before;
    let total = usize::try_from(outcome.requests).unwrap_or(usize::MAX);
    delivered(&receiver, total).await;
    api.unsubscribe(&id).await?;
    let mut lags: Vec<f64> = receiver.with(|a| a.first.values().copied().collect());
    ensure!(lags.len() == total, "{} of {total} events never arrived", total - lags.len());
    lags.sort_by(f64::total_cmp);
    let p99 = lags.get((lags.len() * 99).div_ceil(100).saturating_sub(1)).copied().unwrap_or(f64::NAN);
    let row = Row::new(&format!("native POST /v1/users at {rate}/s, one webhook endpoint"), &outcome, cpu);
    eprintln!("{}: {:.0}/s sent; delivery lag p99 {:.0} ms", row.name, row.per_second, p99 * 1000.0);
    Ok((row, Goal::at_most(&format!("p99 write-to-delivery lag at {rate} writes/s"), p99 * 1000.0, 1000.0, "ms")))
}
