//! Events: every surface's changes reach the feed, which pages without skipping, even while
//! writers on several connections (several processes, on PostgreSQL) commit out of order.

use std::collections::BTreeSet;
use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};

use clientele_domain::DisplayName;
use clientele_domain::credential::{ApiKey, ApiKeySecret, KeyOwner, Role};
use clientele_domain::event::Event;
use clientele_domain::merchant::{Merchant, MerchantId, MerchantNumber};
use clientele_domain::user::{CustomerRef, Origin, User, UserFields};
use clientele_store::{EventCursor, EventQuery, NewUserRecord, Store, StoreMetrics};

use crate::harness::{TestApp, TestDb, problem};

async fn feed(app: &TestApp, key: &str, query: &str) -> Value {
    let response = app.get(&format!("/v1/events{query}"), key).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Waits until the feed shows `count` events: on PostgreSQL an event is read once every
/// transaction older than its own has ended, anywhere on the server.
async fn settled(app: &TestApp, key: &str, count: usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while feed(app, key, "?limit=100").await["data"].as_array().unwrap().len() < count
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Every event of merchant A, read a page of `limit` at a time.
async fn read_all(app: &TestApp, key: &str, filter: &str, limit: usize) -> Vec<Value> {
    let mut events = Vec::new();
    let mut after = String::new();
    loop {
        let page = feed(app, key, &format!("?limit={limit}{filter}{after}")).await;
        let data = page["data"].as_array().unwrap();
        assert!(data.len() <= limit);
        events.extend(data.iter().cloned());
        after = format!("&after={}", page["next_cursor"].as_str().unwrap());
        if !page["has_more"].as_bool().unwrap() {
            // The cursor at the end is where the next event follows: nothing is there yet.
            let rest = feed(app, key, &format!("?limit={limit}{filter}{after}")).await;
            assert_eq!(rest["data"], json!([]));
            assert_eq!(rest["next_cursor"], page["next_cursor"]);
            return events;
        }
    }
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|event| event["type"].as_str().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_surface_writes_its_events_and_the_feed_pages_them_without_personal_values() {
    let app = TestApp::spawn().await;
    let (client_id, client) = app.key_for_a("client").await;
    let (_, readonly) = app.key_for_a("readonly").await;
    let created = app
        .post(
            "/v1/users",
            &client,
            json!({"customer_ref": "C-1", "given_name": "Thandiwe", "email": "thandiwe@example.com",
                   "phone": "+27821234567", "national_id": "8001015009087", "country": "ZA"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let user: Value = created.json().await.unwrap();
    let id = user["id"].as_str().unwrap();
    let patched = app
        .request(Method::PATCH, &format!("/v1/users/{id}"), &client)
        .header("if-match", format!("\"{}\"", user["version"]))
        .json(&json!({"family_name": "Mokoena"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let realpay = json!({"UserPostRequest": [{"Name": "Sipho", "Surname": "Dube", "DOB": "1990-01-01", "Gender": "M",
        "DialCode": "+27", "Mobile": 831234567, "Email": "sipho@example.com", "Country": "ZA", "ID": 9001015009087u64,
        "ClientId": "RP-1", "Contract": {"ContractNumber": "K1", "InstalmentAmount": 99.99, "NumberOfInstalments": 12,
        "InstalmentStartDate": "2025-02-01 09:00", "TrackingCode": "00", "FrequencyCode": "MNTH", "CollectionDay": 1}}]});
    let response = app.post("/v1/realpay/MERCHANT-A/maintain/omni/users", &app.a.admin_key, realpay).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["APIResponse"]["Status"], "SUCCESS", "{answer}");
    let erased = app.request(Method::DELETE, &format!("/v1/users/{id}"), &client).send().await.unwrap();
    assert_eq!(erased.status(), 204);

    settled(&app, &readonly, 5).await;
    let events = read_all(&app, &readonly, "", 2).await;
    assert_eq!(types(&events), ["user.created", "user.updated", "user.created", "contract.created", "user.erased"]);
    let first = &events[0];
    assert_eq!(first["resource"], json!({"type": "user", "id": id}));
    assert_eq!(first["surface"], "native");
    assert_eq!(first["actor"], client_id);
    assert_eq!(first["version"], 1);
    assert_eq!(events[1]["data"]["changed_fields"], json!(["family_name"]));
    assert_eq!(events[2]["surface"], "realpay");
    assert_eq!(events[3]["data"]["contract_number"], "K1");
    assert_eq!(events[4]["resource"]["id"], id);
    let all = serde_json::to_string(&events).unwrap();
    for personal in ["Thandiwe", "thandiwe@", "821234567", "8001015009087", "Sipho", "Dube", "sipho@", "831234567"] {
        assert!(!all.contains(personal), "the feed holds {personal}: {all}");
    }

    // Filters, and merchant B's feed of its own.
    let of_user = read_all(&app, &readonly, &format!("&resource_id={id}"), 10).await;
    assert_eq!(types(&of_user), ["user.created", "user.updated", "user.erased"]);
    let creations = read_all(&app, &readonly, "&type=user.created", 10).await;
    assert_eq!(types(&creations), ["user.created", "user.created"]);
    assert_eq!(feed(&app, &app.b.admin_key, "").await["data"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_feed_queries_are_named_in_a_problem() {
    let app = TestApp::spawn().await;
    let bad = "/v1/events?after=nope&type=user.exploded&resource_id=42&limit=0";
    let (status, body) = problem(app.get(bad, &app.a.admin_key).await).await;
    assert_eq!(status, 400);
    let fields: BTreeSet<&str> =
        body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, BTreeSet::from(["after", "type", "resource_id", "limit"]), "{body}");
    assert_eq!(app.get("/v1/events", "not-a-key").await.status(), 401);
}

fn user(n: usize) -> User {
    let fields =
        UserFields { customer_ref: Some(CustomerRef::parse("r", &format!("R-{n}")).unwrap()), ..UserFields::default() };
    User::new(fields, time::OffsetDateTime::now_utc())
}

fn created(n: usize) -> NewUserRecord {
    let user = user(n);
    let events = vec![Event::user_created(&user, &Origin::native())];
    NewUserRecord { user, contract: None, events }
}

/// Two stores on one database (on PostgreSQL: two pools, as two processes have) write at
/// once: long batches whose transactions start first and commit last, and single creates
/// that commit in between. A reader paging with `after` all along sees every event once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reader_paging_with_after_misses_no_event_while_writers_commit_out_of_order() {
    const BATCHES: usize = 12;
    const BATCH: usize = 150;
    const SINGLES: usize = 300;
    let db = TestDb::new().await;
    let settings = db.settings();
    let open = || clientele_server::open_store(&settings, StoreMetrics::default());
    let (first, second): (Arc<dyn Store>, Arc<dyn Store>) = (open().await.unwrap(), open().await.unwrap());
    let merchant = Merchant::new(
        MerchantNumber::parse("n", "FEED").unwrap(),
        DisplayName::parse("n", "Feed").unwrap(),
        time::OffsetDateTime::now_utc(),
    );
    let owner = KeyOwner::Merchant { merchant: merchant.id, role: Role::Admin };
    let key = ApiKey::new(owner, None, &ApiKeySecret::generate(), time::OffsetDateTime::now_utc());
    first.create_merchant(&merchant, &key).await.unwrap();
    let id: MerchantId = merchant.id;

    let batches = tokio::spawn({
        let store = Arc::clone(&first);
        async move {
            for batch in 0..BATCHES {
                let items: Vec<NewUserRecord> = (0..BATCH).map(|n| created(100_000 + batch * BATCH + n)).collect();
                let results = store.create_users(id, &items, &Origin::native()).await.unwrap();
                assert!(results.iter().all(Result::is_ok));
            }
        }
    });
    let singles = tokio::spawn({
        let store = Arc::clone(&second);
        async move {
            for n in 0..SINGLES {
                let item = created(n);
                store.create_user(id, &item.user, None, &Origin::native(), &item.events, None).await.unwrap();
            }
        }
    });

    // Read all along; once the writers are done, until every event has been seen (on
    // PostgreSQL the newest become readable when no older transaction of the cluster runs).
    let total = BATCHES * BATCH + SINGLES;
    let mut seen = Vec::new();
    let mut after: Option<EventCursor> = None;
    let mut deadline = None;
    while seen.len() < total {
        let page = second.events(id, &EventQuery { after, limit: 37, ..EventQuery::default() }).await.unwrap();
        if let Some(last) = page.last() {
            after = Some(last.cursor);
        }
        seen.extend(page.into_iter().map(|stored| stored.event.id));
        if batches.is_finished() && singles.is_finished() {
            let deadline =
                *deadline.get_or_insert_with(|| std::time::Instant::now() + std::time::Duration::from_secs(30));
            if std::time::Instant::now() > deadline {
                break;
            }
        }
    }
    batches.await.unwrap();
    singles.await.unwrap();

    let written = first.events(id, &EventQuery { limit: 100_000, ..EventQuery::default() }).await.unwrap();
    assert_eq!(written.len(), total);
    let unique: BTreeSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "the reader saw an event twice");
    assert_eq!(seen, written.iter().map(|stored| stored.event.id).collect::<Vec<_>>(), "the reader missed events");
}
