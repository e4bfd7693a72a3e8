//! The loyalty points ledger through the native API, on both stores: movements, lots used
//! oldest expiry first, references, reversals, exact expiry before the sweep, erasure's
//! reset, refusals that write nothing, and concurrent spends that never overdraw.

use reqwest::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::harness::{TestApp, problem};

pub(crate) async fn new_user(app: &TestApp, key: &str) -> String {
    let created = app.post("/v1/users", key, json!({"customer_ref": format!("P-{}", uuid::Uuid::new_v4())})).await;
    assert_eq!(created.status(), 201);
    created.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

pub(crate) async fn move_points(app: &TestApp, key: &str, user: &str, body: Value) -> (u16, Value) {
    let response = app.post(&format!("/v1/users/{user}/points"), key, body).await;
    (response.status().as_u16(), response.json().await.unwrap())
}

pub(crate) async fn balance(app: &TestApp, key: &str, user: &str, query: &str) -> Value {
    let response = app.get(&format!("/v1/users/{user}/points{query}"), key).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

pub(crate) async fn entries(app: &TestApp, key: &str, user: &str, query: &str) -> Vec<Value> {
    let response = app.get(&format!("/v1/users/{user}/points/entries{query}"), key).await;
    assert_eq!(response.status(), 200);
    response.json::<Value>().await.unwrap()["data"].as_array().unwrap().clone()
}

pub(crate) fn at(offset: time::Duration) -> String {
    (OffsetDateTime::now_utc() + offset).format(&Rfc3339).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn points_move_from_the_lots_that_expire_first_and_never_below_zero() {
    let app = TestApp::spawn().await;
    let (_, client) = app.key_for_a("client").await;
    let (_, readonly) = app.key_for_a("readonly").await;
    let user = new_user(&app, &client).await;
    let late = time::Duration::days(90);
    let (status, earned) = move_points(
        &app,
        &client,
        &user,
        json!({"kind": "earn", "points": 100,
        "expires_at": at(late), "reference": "R-1", "description": "Purchase at Canal Walk"}),
    )
    .await;
    assert_eq!(status, 201, "{earned}");
    assert_eq!(
        (earned["kind"].as_str(), earned["points"].as_i64(), earned["balance_after"].as_i64()),
        (Some("earn"), Some(100), Some(100))
    );
    let (status, _) = move_points(
        &app,
        &client,
        &user,
        json!({"kind": "earn", "points": 50, "expires_at": at(time::Duration::days(10))}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) =
        move_points(&app, &client, &user, json!({"kind": "adjust", "points": 25, "description": "goodwill"})).await;
    assert_eq!(status, 201);
    // 60 points: the 50 that expire in 10 days first, then 10 of the 100.
    let (status, spent) = move_points(&app, &client, &user, json!({"kind": "spend", "points": 60})).await;
    assert_eq!((status, spent["points"].as_i64(), spent["balance_after"].as_i64()), (201, Some(-60), Some(115)));
    let now = balance(&app, &readonly, &user, "").await;
    assert_eq!(now["balance"], 115);
    let lots: Vec<i64> = now["lots"].as_array().unwrap().iter().map(|l| l["points"].as_i64().unwrap()).collect();
    assert_eq!(lots, [90, 25], "the lot that expires in 10 days is used up; the one without expiry comes last");
    assert_eq!(now["expiring_within_30_days"], 0);
    let user_view: Value = app.get(&format!("/v1/users/{user}"), &readonly).await.json().await.unwrap();
    assert_eq!(user_view["loyalty_points"], 115);

    // Too much: refused with its own problem type, and nothing is written.
    let before = entries(&app, &readonly, &user, "?limit=100").await;
    let (status, body) =
        problem(app.post(&format!("/v1/users/{user}/points"), &client, json!({"kind": "spend", "points": 116})).await)
            .await;
    assert_eq!((status, body["type"].as_str()), (409, Some("urn:clientele:problem:insufficient-points")));
    let (status, body) = problem(
        app.post(&format!("/v1/users/{user}/points"), &client, json!({"kind": "adjust", "points": -116})).await,
    )
    .await;
    assert_eq!((status, body["type"].as_str()), (409, Some("urn:clientele:problem:insufficient-points")));
    assert_eq!(entries(&app, &readonly, &user, "?limit=100").await, before);
    assert_eq!(balance(&app, &readonly, &user, "").await["balance"], 115);

    // Entries page oldest first, and filter by kind.
    let page =
        app.get(&format!("/v1/users/{user}/points/entries?limit=2"), &readonly).await.json::<Value>().await.unwrap();
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = entries(&app, &readonly, &user, &format!("?cursor={cursor}")).await;
    let kinds: Vec<&str> = rest.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["adjust", "spend"]);
    assert_eq!(entries(&app, &readonly, &user, "?kind=earn").await.len(), 2);
    // Readonly keys read, and only read.
    let (status, _) =
        problem(app.post(&format!("/v1/users/{user}/points"), &readonly, json!({"kind": "earn", "points": 1})).await)
            .await;
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_movement_names_each_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let (_, client) = app.key_for_a("client").await;
    let user = new_user(&app, &client).await;
    for (body, fields) in [
        (json!({"kind": "reset", "points": 5}), vec!["kind"]),
        (json!({"kind": "spend", "points": 0}), vec!["points"]),
        (json!({"kind": "earn"}), vec!["points"]),
        (json!({"kind": "adjust", "points": 0}), vec!["points"]),
        (json!({"kind": "spend", "points": 5, "expires_at": at(time::Duration::days(1))}), vec!["expires_at"]),
        (json!({"kind": "earn", "points": 5, "expires_at": at(-time::Duration::days(1))}), vec!["expires_at"]),
        (json!({"kind": "earn", "points": 5, "expires_at": "tomorrow"}), vec!["expires_at"]),
        (
            json!({"kind": "earn", "points": 5, "description": "x".repeat(201), "reference": ""}),
            vec!["reference", "description"],
        ),
    ] {
        let (status, problem) =
            problem(app.post(&format!("/v1/users/{user}/points"), &client, body.clone()).await).await;
        assert_eq!(status, 400, "{body}");
        let named: Vec<&str> =
            problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(named, fields, "{body}");
    }
    let (status, _) = problem(
        app.post(&format!("/v1/users/{user}/points"), &client, json!({"kind": "earn", "points": 5, "bonus": 1})).await,
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = problem(
        app.post(&format!("/v1/users/{}/points", uuid::Uuid::new_v4()), &client, json!({"kind": "earn", "points": 5}))
            .await,
    )
    .await;
    assert_eq!(status, 404);
    assert!(entries(&app, &client, &user, "").await.is_empty());
    assert_eq!(balance(&app, &client, &user, "").await["balance"], 0);
    // Another merchant's user is not found, for writes and reads alike.
    let (status, _) = problem(
        app.post(&format!("/v1/users/{user}/points"), &app.b.admin_key, json!({"kind": "earn", "points": 5})).await,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = problem(app.get(&format!("/v1/users/{user}/points"), &app.b.admin_key).await).await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reference_answers_its_first_entry_and_idempotency_keys_replay() {
    let app = TestApp::spawn().await;
    let (_, client) = app.key_for_a("client").await;
    let user = new_user(&app, &client).await;
    let body = json!({"kind": "earn", "points": 40, "reference": "receipt-77"});
    let (status, first) = move_points(&app, &client, &user, body.clone()).await;
    assert_eq!(status, 201);
    let (status, again) = move_points(&app, &client, &user, body).await;
    assert_eq!((status, &again), (200, &first), "the same content under the reference answers the first entry");
    let (status, taken) = problem(
        app.post(
            &format!("/v1/users/{user}/points"),
            &client,
            json!({"kind": "earn", "points": 41, "reference": "receipt-77"}),
        )
        .await,
    )
    .await;
    assert_eq!((status, taken["type"].as_str()), (409, Some("urn:clientele:problem:conflict")));
    assert_eq!(balance(&app, &client, &user, "").await["balance"], 40);

    let send = || {
        app.request(Method::POST, &format!("/v1/users/{user}/points"), &client)
            .header("Idempotency-Key", "spend-once")
            .json(&json!({"kind": "spend", "points": 15}))
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let replayed = send().await.unwrap();
    assert_eq!(replayed.status(), 201);
    assert_eq!(replayed.headers().get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    assert_eq!(replayed.json::<Value>().await.unwrap(), first);
    assert_eq!(balance(&app, &client, &user, "").await["balance"], 25, "spent once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reversals_give_back_exactly_once() {
    let app = TestApp::spawn().await;
    let (_, client) = app.key_for_a("client").await;
    let user = new_user(&app, &client).await;
    let (_, earn) = move_points(&app, &client, &user, json!({"kind": "earn", "points": 30})).await;
    let (_, spend) = move_points(&app, &client, &user, json!({"kind": "spend", "points": 20})).await;
    let reverse = |id: &str| app.request(Method::POST, &format!("/v1/points-entries/{id}/reverse"), &client).send();
    let back = reverse(spend["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(back.status(), 201);
    let back: Value = back.json().await.unwrap();
    assert_eq!(
        (back["kind"].as_str(), back["points"].as_i64(), back["balance_after"].as_i64()),
        (Some("reverse"), Some(20), Some(30))
    );
    assert_eq!(back["reverses"], spend["id"]);
    let (status, again) = problem(reverse(spend["id"].as_str().unwrap()).await.unwrap()).await;
    assert_eq!((status, again["type"].as_str()), (409, Some("urn:clientele:problem:conflict")));
    let (status, _) = problem(reverse(back["id"].as_str().unwrap()).await.unwrap()).await;
    assert_eq!(status, 409, "a reversal is not reversed");
    let (_, spend) = move_points(&app, &client, &user, json!({"kind": "spend", "points": 12})).await;
    let earn_back: Value = app
        .post(
            &format!("/v1/points-entries/{}/reverse", earn["id"].as_str().unwrap()),
            &client,
            json!({"reference": "undo-earn", "description": "wrong till"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (earn_back["points"].as_i64(), earn_back["balance_after"].as_i64()),
        (Some(-18), Some(0)),
        "only what is left of the earn"
    );
    assert_eq!(earn_back["reference"], "undo-earn");
    // The spend's points go back to the lot they came from, reversed earn or not.
    let returned = reverse(spend["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(returned.status(), 201);
    let returned: Value = returned.json().await.unwrap();
    assert_eq!((returned["points"].as_i64(), returned["balance_after"].as_i64()), (Some(12), Some(12)));
    let (status, _) = problem(app.get(&format!("/v1/points-entries/{}", uuid::Uuid::new_v4()), &client).await).await;
    assert_eq!(status, 404);
    let read: Value = app
        .get(&format!("/v1/points-entries/{}", earn_back["id"].as_str().unwrap()), &client)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read, earn_back);
}
