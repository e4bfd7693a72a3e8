//! Webhooks under kills: every committed change is delivered at least once.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use serde_json::{Value, json};

use clientele_bench::receiver::Receiver;

use crate::{Figures, Run};

/// Subscribes the receiver to every event of the merchant.
pub async fn subscribe(run: &Run, server: &str, receiver: &str) -> anyhow::Result<()> {
    let response = run
        .client
        .post(format!("{server}/v1/webhook-endpoints"))
        .bearer_auth(&run.key)
        .json(&json!({"url": receiver, "description": "crash harness"}))
        .send()
        .await?;
    ensure!(response.status() == 201, "the webhook endpoint was refused: {}", response.text().await?);
    Ok(())
}

/// Every event of the feed, by id.
async fn feed(run: &Run, server: &str) -> anyhow::Result<HashSet<String>> {
    let mut ids = HashSet::new();
    let mut after = String::new();
    loop {
        let page: Value = run
            .client
            .get(format!("{server}/v1/events?limit=100{after}"))
            .bearer_auth(&run.key)
            .send()
            .await?
            .json()
            .await?;
        let data = page.get("data").and_then(Value::as_array).context("no events page")?;
        ids.extend(data.iter().filter_map(|event| event.get("id").and_then(Value::as_str).map(str::to_owned)));
        let next = page.get("next_cursor").and_then(Value::as_str).context("no next_cursor")?;
        after = format!("&after={next}");
        if !page.get("has_more").and_then(Value::as_bool).unwrap_or(false) {
            return Ok(ids);
        }
    }
}

/// Waits until the receiver has every event of the feed: as long as deliveries keep
/// arriving (a run of many cycles leaves a backlog), and a minute past the last one (a
/// killed server's leases, on PostgreSQL, run out within that), 15 minutes at most.
pub async fn all_delivered(run: &Run, server: &str, receiver: &Receiver, figures: &mut Figures) -> anyhow::Result<()> {
    let committed = feed(run, server).await?;
    ensure!(!committed.is_empty(), "the feed is empty");
    let started = Instant::now();
    let (mut last_count, mut last_progress) = (0, Instant::now());
    let missing = loop {
        let (missing, deliveries) = receiver.with(|arrivals| {
            (committed.iter().filter(|id| !arrivals.first.contains_key(*id)).count(), arrivals.deliveries)
        });
        if deliveries != last_count {
            (last_count, last_progress) = (deliveries, Instant::now());
        }
        let stalled = last_progress.elapsed() > Duration::from_secs(60);
        if missing == 0 || stalled || started.elapsed() > Duration::from_secs(900) {
            break missing;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    figures.events_committed = committed.len() as u64;
    figures.events_delivered = (committed.len() - missing) as u64;
    figures.webhook_deliveries = receiver.with(|arrivals| arrivals.deliveries);
    ensure!(missing == 0, "{missing} of {} committed events were never delivered", committed.len());
    Ok(())
}
