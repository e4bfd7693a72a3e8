//! After a restart: every write of the cycle found again, whole or not at all.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;

use super::*;

/// Checks the writes of the cycle before the restart; writes in doubt become acknowledged
/// (present) or are dropped (absent).
pub(crate) async fn settle(
    run: &Arc<Run>,
    url: &str,
    pending: &mut Vec<Written>,
    figures: &mut Figures,
) -> anyhow::Result<()> {
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
                    let read = text_at(&actual, pointer);
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

pub(crate) fn id_of(user: &Value) -> anyhow::Result<String> {
    Ok(user.get("id").and_then(Value::as_str).context("a user without id")?.to_owned())
}

/// Finds a written user and compares it: `Some(user)` when it is there whole, `None` when
/// it is absent, an error when it is there but not as written (half a write, or changed).
pub(crate) async fn verify(run: &Run, url: &str, written: &Written) -> anyhow::Result<Option<Value>> {
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
        let actual = text_at(&user, pointer);
        ensure!(
            allowed.contains(&actual),
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

pub(crate) fn authorized(run: &Run, request: RequestBuilder) -> RequestBuilder {
    request.bearer_auth(&run.key)
}

/// A native create sent again with its idempotency key; its user's id, and how many 409
/// answers came first (while a dead request's lease on the key held). It is sent again
/// after each 409, until the lease must be over.
pub(crate) async fn create(run: &Run, url: &str, key: &str, body: &Value) -> anyhow::Result<(String, u64)> {
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

pub(crate) async fn realpay_get(run: &Run, url: &str) -> anyhow::Result<Value> {
    let path = format!("{url}/v1/realpay/{MERCHANT}/maintain/omni/users?Product=X&Email=nobody@example.com");
    Ok(authorized(run, run.client.get(path)).send().await?.json().await?)
}

/// A field of an answer as text: a string as it is, a number as written ("" when absent).
fn text_at(answer: &Value, pointer: &str) -> String {
    match answer.pointer(pointer) {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}
