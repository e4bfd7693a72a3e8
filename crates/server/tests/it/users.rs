//! The native users API: validation, replace and merge, erasure, lookups and paging.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestApp, problem};

fn jack() -> Value {
    json!({
        "customer_ref": "FROST01",
        "given_name": "Jack",
        "family_name": "Frost",
        "email": "Jack.Frost@MyEmail.com",
        "phone": "082 764 8862",
        "birth_date": "1980-05-31",
        "gender": "MALE",
        "country": "ZA",
        "national_id": 123123123123u64,
        "address": {"street": "1 Main Road", "city": "Cape Town", "postal_code": 8001}
    })
}

async fn create(app: &TestApp, key: &str, body: Value) -> Value {
    let response = app.post("/v1/users", key, body).await;
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
    response.json().await.unwrap()
}

async fn user_count(app: &TestApp) -> usize {
    let page: Value = app.get("/v1/users?limit=100", &app.a.admin_key).await.json().await.unwrap();
    page["data"].as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_created_user_is_read_back_with_every_field() {
    let app = TestApp::spawn().await;
    let (_, client) = app.key_for_a("client").await;
    let response = app.post("/v1/users", &client, jack()).await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    assert_eq!(location, format!("/v1/users/{}", created["id"].as_str().unwrap()));
    assert_eq!(etag, "\"1\"");
    assert_eq!(created["national_id"], "123123123123");
    assert_eq!(created["address"]["postal_code"], "8001");
    assert_eq!(created["phone"], "082 764 8862");
    assert_eq!(created["phone_e164"], "+27827648862");
    assert_eq!(created["loyalty_points"], 0);
    assert_eq!(created["version"], 1);

    let read = app.get(&location, &client).await;
    assert_eq!(read.headers()["etag"], "\"1\"");
    let read: Value = read.json().await.unwrap();
    assert_eq!(read, created);
    for (field, value) in [
        ("customer_ref", "FROST01"),
        ("given_name", "Jack"),
        ("family_name", "Frost"),
        ("email", "Jack.Frost@MyEmail.com"),
        ("birth_date", "1980-05-31"),
        ("gender", "MALE"),
        ("country", "ZA"),
    ] {
        assert_eq!(read[field], value, "{field}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_invalid_field_is_named_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let key = &app.a.admin_key;
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({"email": "not-an-email"}), "email", "format"),
        (json!({"email": format!("{}@example.com", "a".repeat(250))}), "email", "too_long"),
        (json!({"country": "XX"}), "country", "format"),
        (json!({"gender": "M"}), "gender", "not_one_of"),
        (json!({"birth_date": "1981-02-29"}), "birth_date", "format"),
        (json!({"birth_date": "2999-01-01"}), "birth_date", "invalid"),
        (json!({"birth_date": "YYYY-MM-DD"}), "birth_date", "format"),
        (json!({"customer_ref": "r".repeat(101)}), "customer_ref", "too_long"),
        (json!({"given_name": "Ja\u{0}ck"}), "given_name", "control_character"),
        (json!({"phone": "call me maybe"}), "phone", "format"),
        (json!({"national_id": "12 34"}), "national_id", "format"),
        (json!({"passport_number": "A-1"}), "passport_number", "format"),
        (json!({"address": {"street": "s".repeat(513)}}), "address.street", "too_long"),
        (json!({"address": {"postal_code": "1".repeat(17)}}), "address.postal_code", "too_long"),
        (json!({"address": {"planet": "Mars"}}), "address.planet", "unknown_field"),
        (json!({"nickname": "Jacky"}), "nickname", "unknown_field"),
        (json!({"loyalty_points": 1000}), "loyalty_points", "read_only"),
        (json!({"id": "00000000-0000-0000-0000-000000000000"}), "id", "read_only"),
        (json!({"version": 7}), "version", "read_only"),
        (json!({"email": true}), "email", "invalid"),
        (json!({"custom_properties": [{"name": "undefined", "value": "1"}]}), "custom_properties[0].name", "invalid"),
    ];
    for (body, field, code) in cases {
        let (status, problem) = problem(app.post("/v1/users", key, body.clone()).await).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
        assert_eq!(problem["errors"][0]["code"], code, "{body}: {problem}");
    }
    // Several at once are all named.
    let (_, problem) =
        problem(app.post("/v1/users", key, json!({"email": "x", "country": "XX", "gender": "?"})).await).await;
    assert_eq!(problem["errors"].as_array().unwrap().len(), 3);
    assert_eq!(user_count(&app).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_replaces_and_patch_merges() {
    let app = TestApp::spawn().await;
    let key = &app.a.admin_key;
    app.post("/v1/properties", key, json!({"name": "tier"})).await;
    app.post("/v1/properties", key, json!({"name": "size", "value_type": "integer"})).await;
    let mut body = jack();
    body["custom_properties"] = json!([{"name": "tier", "value": "gold"}, {"name": "size", "value": 42}]);
    let user = create(&app, key, body).await;
    let path = format!("/v1/users/{}", user["id"].as_str().unwrap());
    assert_eq!(user["custom_properties"].as_array().unwrap().len(), 2);

    // PATCH: sent members change, null clears, the rest stays; custom properties are replaced whole.
    let patch = json!({"given_name": "Jackie", "address": {"postal_code": null}, "passport_number": null,
        "custom_properties": [{"name": "tier", "value": "silver"}]});
    let response = app
        .request(Method::PATCH, &path, key)
        .header("content-type", "application/merge-patch+json")
        .body(patch.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["etag"], "\"2\"");
    let patched: Value = response.json().await.unwrap();
    assert_eq!(patched["given_name"], "Jackie");
    assert_eq!(patched["family_name"], "Frost");
    assert_eq!(patched["address"]["postal_code"], Value::Null);
    assert_eq!(patched["address"]["street"], "1 Main Road");
    assert_eq!(
        patched["custom_properties"],
        json!([{"id": patched["custom_properties"][0]["id"], "name": "tier", "value": "silver"}])
    );

    // PATCH with custom_properties null clears them; address null clears the whole address.
    let cleared: Value = app
        .request(Method::PATCH, &path, key)
        .json(&json!({"custom_properties": null, "address": null}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["custom_properties"], json!([]));
    assert_eq!(
        cleared["address"],
        json!({"street": null, "suburb": null, "city": null, "region": null, "postal_code": null})
    );
    assert_eq!(cleared["email"], "Jack.Frost@MyEmail.com");

    // PUT: what is not sent is cleared.
    let replaced: Value = app
        .request(Method::PUT, &path, key)
        .json(&json!({"email": "jack@frost.example", "country": "DE"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(replaced["email"], "jack@frost.example");
    assert_eq!(replaced["country"], "DE");
    for cleared in ["customer_ref", "given_name", "family_name", "phone", "birth_date", "gender", "national_id"] {
        assert_eq!(replaced[cleared], Value::Null, "{cleared}");
    }
    assert_eq!(replaced["version"], 4);
    assert_eq!(replaced["id"], user["id"]);
    assert_eq!(replaced["created_at"], user["created_at"]);

    // An invalid patch changes nothing.
    let refused =
        app.request(Method::PATCH, &path, key).json(&json!({"given_name": "Ok", "email": "bad"})).send().await.unwrap();
    assert_eq!(problem(refused).await.0, 400);
    let read: Value = app.get(&path, key).await.json().await.unwrap();
    assert_eq!(read, replaced);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_if_match_is_refused_with_412() {
    let app = TestApp::spawn().await;
    let key = &app.a.admin_key;
    let user = create(&app, key, jack()).await;
    let path = format!("/v1/users/{}", user["id"].as_str().unwrap());
    let ok = app
        .request(Method::PATCH, &path, key)
        .header("if-match", "\"1\"")
        .json(&json!({"given_name": "A"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    for (method, body) in
        [(Method::PATCH, Some(json!({"given_name": "B"}))), (Method::PUT, Some(json!({}))), (Method::DELETE, None)]
    {
        let mut request = app.request(method.clone(), &path, key).header("if-match", "\"1\"");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let (status, body) = problem(request.send().await.unwrap()).await;
        assert_eq!(
            (status, body["type"].as_str()),
            (412, Some("urn:clientele:problem:precondition-failed")),
            "{method}"
        );
    }
    let read: Value = app.get(&path, key).await.json().await.unwrap();
    assert_eq!((read["given_name"].as_str(), read["version"].as_i64()), (Some("A"), Some(2)));
    let gone = app.request(Method::DELETE, &path, key).header("if-match", "W/\"2\"").send().await.unwrap();
    assert_eq!(gone.status(), 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_removes_personal_data_and_frees_the_keys() {
    let app = TestApp::spawn().await;
    let key = &app.a.admin_key;
    app.post("/v1/properties", key, json!({"name": "tier"})).await;
    let mut body = jack();
    body["custom_properties"] = json!([{"name": "tier", "value": "gold"}]);
    let user = create(&app, key, body.clone()).await;
    let path = format!("/v1/users/{}", user["id"].as_str().unwrap());
    assert_eq!(app.request(Method::DELETE, &path, key).send().await.unwrap().status(), 204);

    for method in [Method::GET, Method::DELETE] {
        assert_eq!(problem(app.request(method, &path, key).send().await.unwrap()).await.0, 404);
    }
    assert_eq!(problem(app.request(Method::PATCH, &path, key).json(&json!({})).send().await.unwrap()).await.0, 404);
    let listed: Value = app.get("/v1/users?email=jack.frost@myemail.com", key).await.json().await.unwrap();
    assert_eq!(listed["data"], json!([]));

    // The row stays (for the financial records tied to it), with nothing personal in it.
    let personal = "customer_ref, given_name, family_name, email, email_lower, phone, phone_e164, \
        CAST(birth_date AS TEXT), gender, country, national_id, passport_number, street, suburb, city, region, \
        postal_code, CAST(loyalty_points AS TEXT), CAST(erased_at IS NOT NULL AS TEXT)";
    let row = app
        .db
        .raw_row(
            &format!("SELECT {personal} FROM users WHERE id = ?1"),
            &format!("SELECT {personal} FROM users WHERE id = $1"),
            user["id"].as_str().unwrap(),
        )
        .await;
    let (fields, flags) = row.split_at(row.len() - 2);
    assert!(fields.iter().all(Option::is_none), "personal data left after erasure: {fields:?}");
    assert_eq!(flags[0].as_deref(), Some("0"));
    assert!(matches!(flags[1].as_deref(), Some("1" | "true")), "{flags:?}");
    let values = app.db.raw_row(
        "SELECT CAST(count(*) AS TEXT) FROM user_properties WHERE user_id = ?1",
        "SELECT CAST(count(*) AS TEXT) FROM user_properties WHERE user_id = $1",
        user["id"].as_str().unwrap(),
    );
    assert_eq!(values.await, vec![Some("0".to_owned())]);
    let merchant = app.a.merchant.id;
    let id: clientele_domain::user::UserId = user["id"].as_str().unwrap().parse().unwrap();
    assert!(matches!(app.store().user(merchant, id).await, Err(clientele_store::StoreError::NotFound)));

    // The same customer_ref, national id and email can be registered again.
    let again = create(&app, key, body).await;
    assert_ne!(again["id"], user["id"]);
    assert_eq!(again["custom_properties"][0]["value"], "gold");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_found_by_email_in_any_case_and_by_phone_in_either_form() {
    let app = TestApp::spawn().await;
    let key = &app.a.admin_key;
    let user = create(&app, key, jack()).await;
    let mut other = jack();
    other["customer_ref"] = json!("OTHER");
    other["national_id"] = json!("999");
    other["email"] = json!("someone@else.example");
    other["phone"] = json!("+49 30 901820");
    other["country"] = json!("DE");
    create(&app, key, other).await;

    for query in [
        "email=jack.frost@myemail.com",
        "email=JACK.FROST@MYEMAIL.COM",
        "phone=082%20764%208862",
        "phone=%2B27827648862",
        "phone=%2B27%2082%20764%208862",
        "phone=0827648862&country=ZA",
        "customer_ref=FROST01",
        "national_id=123123123123&country=ZA",
    ] {
        let page: Value = app.get(&format!("/v1/users?{query}"), key).await.json().await.unwrap();
        let ids: Vec<&Value> = page["data"].as_array().unwrap().iter().map(|u| &u["id"]).collect();
        assert_eq!(ids, vec![&user["id"]], "{query}");
    }
    let none: Value = app.get("/v1/users?national_id=123123123123&country=DE", key).await.json().await.unwrap();
    assert_eq!(none["data"], json!([]));
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("cursor=zzz", "cursor"),
        ("created_after=yesterday", "created_after"),
        ("colour=red", "colour"),
    ] {
        let (status, body) = problem(app.get(&format!("/v1/users?{query}"), key).await).await;
        assert_eq!((status, body["errors"][0]["field"].as_str()), (400, Some(field)), "{query}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_neither_skip_nor_repeat_while_users_are_added() {
    let app = TestApp::spawn().await;
    let key = &app.a.admin_key;
    let mut originals = Vec::new();
    for n in 0..25 {
        let user = create(&app, key, json!({"customer_ref": format!("C{n:02}")})).await;
        originals.push(user["id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut added = 0;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/v1/users?limit=7&cursor={cursor}"),
            None => "/v1/users?limit=7".to_owned(),
        };
        let page: Value = app.get(&path, key).await.json().await.unwrap();
        seen.extend(page["data"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_owned()));
        // Others keep registering while the list is read.
        create(&app, key, json!({"customer_ref": format!("NEW{added}")})).await;
        added += 1;
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(added < 20, "the list never ends");
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "a user was listed twice");
    for id in &originals {
        assert!(seen.contains(id), "a user was skipped");
    }
    assert_eq!(&seen[..25], &originals[..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_merchants_user_looks_exactly_like_a_missing_one() {
    let app = TestApp::spawn().await;
    let user = create(&app, &app.a.admin_key, jack()).await;
    let foreign = format!("/v1/users/{}", user["id"].as_str().unwrap());
    let missing = format!("/v1/users/{}", uuid::Uuid::now_v7());
    let b = &app.b.admin_key;
    for (method, body) in [
        (Method::GET, None),
        (Method::PUT, Some(json!({"given_name": "Mallory"}))),
        (Method::PATCH, Some(json!({"given_name": "Mallory"}))),
        (Method::DELETE, None),
    ] {
        let send = |path: String| {
            let mut request = app.request(method.clone(), &path, b);
            if let Some(body) = &body {
                request = request.json(body);
            }
            request.send()
        };
        let foreign_answer = problem(send(foreign.clone()).await.unwrap()).await;
        let missing_answer = problem(send(missing.clone()).await.unwrap()).await;
        assert_eq!(foreign_answer, missing_answer, "{method}");
        assert_eq!(foreign_answer.0, 404);
    }
    let listed: Value = app.get("/v1/users?customer_ref=FROST01", b).await.json().await.unwrap();
    assert_eq!(listed["data"], json!([]));
    let read: Value = app.get(&foreign, &app.a.admin_key).await.json().await.unwrap();
    assert_eq!((read["given_name"].as_str(), read["version"].as_i64()), (Some("Jack"), Some(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_readonly_key_reads_users_but_cannot_write_them() {
    let app = TestApp::spawn().await;
    let (_, readonly) = app.key_for_a("readonly").await;
    let user = create(&app, &app.a.admin_key, jack()).await;
    let path = format!("/v1/users/{}", user["id"].as_str().unwrap());
    assert_eq!(app.get(&path, &readonly).await.status(), 200);
    assert_eq!(app.get("/v1/users", &readonly).await.status(), 200);
    assert_eq!(problem(app.post("/v1/users", &readonly, json!({})).await).await.0, 403);
    assert_eq!(
        problem(app.request(Method::PATCH, &path, &readonly).json(&json!({})).send().await.unwrap()).await.0,
        403
    );
    assert_eq!(problem(app.request(Method::DELETE, &path, &readonly).send().await.unwrap()).await.0, 403);
    assert_eq!(user_count(&app).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_is_recorded_with_its_surface() {
    let app = TestApp::spawn().await;
    let key = &app.a.admin_key;
    let user = create(&app, key, jack()).await;
    let path = format!("/v1/users/{}", user["id"].as_str().unwrap());
    app.request(Method::PATCH, &path, key).json(&json!({"given_name": "Jill"})).send().await.unwrap();
    let refused = app.request(Method::PATCH, &path, key).json(&json!({"email": "bad"})).send().await.unwrap();
    assert_eq!(refused.status(), 400);
    let history: Value = app.get(&format!("{path}/changes"), key).await.json().await.unwrap();
    let changes: Vec<(i64, &str, &str)> = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["version"].as_i64().unwrap(), c["change"].as_str().unwrap(), c["surface"].as_str().unwrap()))
        .collect();
    assert_eq!(changes, vec![(1, "created", "native"), (2, "updated", "native")]);
    assert_eq!(history["data"][0]["interaction_point"], Value::Null);
    let foreign = app.get(&format!("{path}/changes"), &app.b.admin_key).await;
    assert_eq!(problem(foreign).await.0, 404);
}
