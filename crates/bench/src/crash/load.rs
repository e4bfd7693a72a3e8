//! The load of a cycle: writes through the native API (users and their points), Convercus
//! and RealPay, each recorded as acknowledged or in doubt until the server dies under it.

use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use reqwest::RequestBuilder;
use serde_json::{Value, json};

use super::settle::authorized;
use super::*;

/// Starts the load tasks of a cycle; each runs until the server dies under it.
pub(crate) async fn load(
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
        if !patched {
            return record(written, write);
        }
        let points = ledger(run, url, &id).await;
        let earned_and_spent = points.len() == 1 && points.first().is_some_and(|p| p == "7");
        write.fields.push(("/loyalty_points", points));
        record(written, write);
        if !earned_and_spent {
            return;
        }
    }
}

/// Earns 10 points for the user and spends 3; answers the balances it may have now (one when
/// both were acknowledged, more while one is in doubt).
async fn ledger(run: &Run, url: &str, id: &str) -> Vec<String> {
    let mut balances = vec!["0".to_owned()];
    for (body, after) in [(json!({"kind": "earn", "points": 10}), "10"), (json!({"kind": "spend", "points": 3}), "7")] {
        let sent = authorized(run, run.client.post(format!("{url}/v1/users/{id}/points"))).json(&body);
        match answered(run, sent).await {
            Reply::Written(_) => {
                acknowledge(run, 1);
                balances = vec![after.to_owned()];
            }
            Reply::Refused => return balances,
            Reply::None => {
                balances.push(after.to_owned());
                return balances;
            }
        }
    }
    balances
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

pub(crate) fn acknowledge(run: &Run, writes: u64) {
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
