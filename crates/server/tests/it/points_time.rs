//! The ledger over time and under load, on both stores: expiry counted to the second
//! before the sweep writes it off, erasure's reset on every surface, and concurrent spends
//! across two processes that never overdraw.

use reqwest::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::harness::{TestApp, problem};
use crate::points::{balance, entries, move_points, new_user};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_points_stop_counting_at_their_second_and_the_sweep_writes_them_off() {
    let app = TestApp::spawn().await;
    let (_, client) = app.key_for_a("client").await;
    let user = new_user(&app, &client).await;
    let expiry = OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let (status, _) = move_points(
        &app,
        &client,
        &user,
        json!({"kind": "earn", "points": 70, "expires_at": expiry.format(&Rfc3339).unwrap()}),
    )
    .await;
    assert_eq!(status, 201);
    move_points(&app, &client, &user, json!({"kind": "earn", "points": 5})).await;
    assert_eq!(balance(&app, &client, &user, "").await["expiring_within_30_days"], 70);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    // Before any sweep: the balance, the user's loyalty_points and a spend all count the expiry.
    assert_eq!(balance(&app, &client, &user, "").await["balance"], 5);
    let view: Value = app.get(&format!("/v1/users/{user}"), &client).await.json().await.unwrap();
    assert_eq!(view["loyalty_points"], 5);
    let before = (expiry - time::Duration::seconds(1)).format(&Rfc3339).unwrap();
    assert_eq!(balance(&app, &client, &user, &format!("?as_of={}", before.replace('+', "%2B"))).await["balance"], 75);
    let (status, _) =
        problem(app.post(&format!("/v1/users/{user}/points"), &client, json!({"kind": "spend", "points": 6})).await)
            .await;
    assert_eq!(status, 409);
    assert!(entries(&app, &client, &user, "?kind=expire").await.is_empty(), "a refused spend writes no expiry either");
    assert_eq!(app.registry.expire_points(10).await.unwrap(), 1);
    assert_eq!(app.registry.expire_points(10).await.unwrap(), 0, "a lot is written off once");
    let expired = entries(&app, &client, &user, "?kind=expire").await;
    assert_eq!(
        (expired.len(), expired[0]["points"].as_i64(), expired[0]["surface"].as_str()),
        (1, Some(-70), Some("system"))
    );
    assert_eq!(
        balance(&app, &client, &user, &format!("?as_of={}", before.replace('+', "%2B"))).await["balance"],
        75,
        "as of a past time, after the sweep too"
    );
    assert_eq!(balance(&app, &client, &user, "").await["balance"], 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_resets_the_balance_and_clears_descriptions_on_every_surface() {
    let app = TestApp::spawn().await;
    let (_, client) = app.key_for_a("client").await;
    let till = app.post("/v1/interaction-points", &app.a.admin_key, json!({"id": "till-1", "name": "Till"})).await;
    assert_eq!(till.status(), 201);
    for erase in ["native", "convercus"] {
        let user = new_user(&app, &client).await;
        let (_, earned) = move_points(
            &app,
            &client,
            &user,
            json!({"kind": "earn", "points": 60, "description": "Birthday bonus for Thandiwe"}),
        )
        .await;
        move_points(&app, &client, &user, json!({"kind": "spend", "points": 15, "description": "Coffee for Thandiwe"}))
            .await;
        let erased = match erase {
            "native" => app.request(Method::DELETE, &format!("/v1/users/{user}"), &client).send().await.unwrap(),
            _ => app
                .request(Method::DELETE, &format!("/users/{user}"), &client)
                .header("interaction-id", "till-1")
                .send()
                .await
                .unwrap(),
        };
        assert!(erased.status().is_success(), "{erase}: {}", erased.status());
        let description = app
            .db
            .raw_row(
                "SELECT description, CAST(points AS TEXT) FROM points_entries WHERE id = ?1",
                "SELECT description, points::text FROM points_entries WHERE id = $1",
                earned["id"].as_str().unwrap(),
            )
            .await;
        assert_eq!(description, [None, Some("60".to_owned())], "{erase}: the amount stays, the description goes");
        let user_row = app
            .db
            .raw_row(
                "SELECT CAST(loyalty_points AS TEXT) FROM users WHERE id = ?1",
                "SELECT loyalty_points::text FROM users WHERE id = $1",
                &user,
            )
            .await;
        assert_eq!(user_row, [Some("0".to_owned())], "{erase}");
    }
    assert!(!app.db.personal_values().iter().any(|v| v.contains("Thandiwe")), "no description survives erasure");
    let resets: Vec<Value> = app
        .get("/v1/events?type=points.reset&limit=100", &app.a.admin_key)
        .await
        .json::<Value>()
        .await
        .unwrap()["data"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(resets.len(), 2);
    assert_eq!(resets[0]["data"]["points"], -45);
    assert!(!resets[0].to_string().contains("Thandiwe"));
}

/// 1,000 concurrent spends of 1 point on a balance of 100, spread over two server processes
/// on one database: exactly 100 succeed, the rest are refused, and the balance ends at 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_spends_across_two_processes_never_overdraw() {
    use futures::StreamExt as _;

    use crate::harness::TestDb;
    use crate::processes::{Server, run_json};

    let db = TestDb::new().await;
    let merchant = run_json(&db, &["merchant", "create", "--name", "Spenders", "--number", "SPEND", "--json"]).await;
    let key = merchant["api_key"].as_str().unwrap().to_owned();
    let flags = ["--rate-limit", "0"];
    let (first, second) = tokio::join!(Server::start(&db, &flags), Server::start(&db, &flags));
    let urls = [first.url.clone(), second.url.clone()];
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
    let user: Value = http
        .post(format!("{}/v1/users", urls[0]))
        .bearer_auth(&key)
        .json(&json!({"customer_ref": "SPENDER"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user = user["id"].as_str().unwrap().to_owned();
    let earned = http
        .post(format!("{}/v1/users/{user}/points", urls[1]))
        .bearer_auth(&key)
        .json(&json!({"kind": "earn", "points": 100}))
        .send()
        .await
        .unwrap();
    assert_eq!(earned.status(), 201);
    let statuses: Vec<u16> = futures::stream::iter(0..1000)
        .map(|i| {
            let (http, key, url, user) = (http.clone(), key.clone(), urls[i % 2].clone(), user.clone());
            async move {
                http.post(format!("{url}/v1/users/{user}/points"))
                    .bearer_auth(&key)
                    .json(&json!({"kind": "spend", "points": 1}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 100, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 900, "{statuses:?}");
    for url in &urls {
        let balance: Value = http
            .get(format!("{url}/v1/users/{user}/points"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(balance["balance"], 0);
    }
    let entries: Value = http
        .get(format!("{}/v1/users/{user}/points/entries?limit=100&kind=spend", urls[0]))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(entries["data"].as_array().unwrap().len(), 100);
    assert!(entries["next_cursor"].is_null());
    assert!(db.violations().is_empty(), "{:?}", db.violations());
}

/// `clientele check` catches a balance that is not the sum of its entries, for a user with
/// entries and for one with none (the invariants' join must keep users without entries).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_balance_that_is_not_its_entries_breaks_the_ledger_invariants() {
    let app = TestApp::spawn().await;
    let (_, client) = app.key_for_a("client").await;
    let (with, without) = (new_user(&app, &client).await, new_user(&app, &client).await);
    move_points(&app, &client, &with, json!({"kind": "earn", "points": 10})).await;
    assert!(app.db.violations().is_empty(), "{:?}", app.db.violations());
    let shift = |user: String, by: &'static str| {
        let db = &app.db;
        async move {
            db.raw_row(
                &format!("UPDATE users SET loyalty_points = loyalty_points + {by} WHERE id = ?1 RETURNING id"),
                &format!("UPDATE users SET loyalty_points = loyalty_points + {by} WHERE id = $1 RETURNING id::text"),
                &user,
            )
            .await
        }
    };
    shift(with.clone(), "1").await;
    shift(without.clone(), "1").await;
    let violations = app.db.violations();
    for name in ["points.balance (2 row(s))", "points.lots (2 row(s))"] {
        assert!(violations.iter().any(|v| v.starts_with(name)), "{name} in {violations:?}");
    }
    shift(with, "-1").await;
    shift(without, "-1").await;
    assert!(app.db.violations().is_empty(), "{:?}", app.db.violations());
}
