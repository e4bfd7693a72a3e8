//! The Convercus Users API, drop-in: the document's calls as written, its bodies as golden
//! files, its validation and header rules, and the same users through the native API.

use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};

use crate::harness::TestApp;

const TILL: &str = "POS-4711";
const PROPERTY_1: &str = "9f7e8b6d-d029-4ae2-86b7-2f551b96c5bc";
const PROPERTY_2: &str = "fc669654-5e06-42a7-a126-5ab1434debdb";

fn golden(name: &str) -> String {
    let path = format!("{}/tests/golden/convercus/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn golden_json(name: &str, user_id: &str) -> Value {
    serde_json::from_str(&golden(name).replace("{{userId}}", user_id)).unwrap()
}

/// A server with merchant A set up as a Convercus program: a till, the document's two
/// custom properties, and a JWT from the vendor's login.
struct Convercus {
    app: TestApp,
    jwt: String,
}

impl Convercus {
    async fn new() -> Convercus {
        let app = TestApp::spawn().await;
        let admin = &app.a.admin_key;
        assert_eq!(
            app.post("/v1/interaction-points", admin, json!({"id": TILL, "name": "Online shop"})).await.status(),
            201
        );
        for (id, name, value_type) in
            [(PROPERTY_1, "exampleCustomProperty 1", "string"), (PROPERTY_2, "exampleCustomProperty 2", "integer")]
        {
            let body = json!({"id": id, "name": name, "value_type": value_type});
            assert_eq!(app.post("/v1/properties", admin, body).await.status(), 201);
        }
        let (key_id, key) = app.key_for_a("client").await;
        let jwt = login(&app, "MERCHANT-A", &key_id, &key).await;
        assert_eq!(jwt.status(), 200);
        let jwt: Value = jwt.json().await.unwrap();
        assert_eq!((jwt["tokenType"].as_str(), jwt["expiresIn"].as_u64()), (Some("Bearer"), Some(86400)));
        let jwt = jwt["token"].as_str().unwrap().to_owned();
        app.secret(&jwt);
        Convercus { app, jwt }
    }

    /// A request as the document's curl sends it: the raw token, the interaction id, JSON.
    fn curl(&self, method: Method, path: &str) -> RequestBuilder {
        self.app
            .client
            .request(method, format!("{}{path}", self.app.url))
            .header("Authorization", &self.jwt)
            .header("interaction-id", TILL)
            .header("Content-Type", "application/json")
    }

    async fn create(&self, body: &str) -> (String, Value) {
        let response = self.curl(Method::POST, "/users").body(body.to_owned()).send().await.unwrap();
        assert_eq!(response.status(), 201);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let created: Value = response.json().await.unwrap();
        let id = created["userId"].as_str().unwrap().to_owned();
        assert_eq!(location, format!("{}/users/{id}", self.app.url));
        (id, created)
    }

    async fn native_count(&self) -> usize {
        let page: Value = self.app.get("/v1/users?limit=100", &self.app.a.admin_key).await.json().await.unwrap();
        page["data"].as_array().unwrap().len()
    }
}

async fn login(app: &TestApp, org: &str, user_name: &str, password: &str) -> Response {
    app.client
        .post(format!("{}/auth/login", app.url))
        .json(&json!({"org": org, "userName": user_name, "password": password}))
        .send()
        .await
        .unwrap()
}

/// Reads a Convercus error answer: its status, and the fields it names.
async fn error(response: Response) -> (u16, Vec<String>) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status, "{body}");
    assert!(body["message"].is_string() && body["timestamp"].is_string() && body["error"].is_string(), "{body}");
    let fields = body["errors"]
        .as_array()
        .map_or_else(Vec::new, |errors| errors.iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect());
    (status, fields)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_of_the_document_runs_as_written() {
    let c = Convercus::new().await;
    // Creating a new user.
    let (id, created) = c.create(&golden("create-user.request.json")).await;
    assert_eq!(created, golden_json("get-user.response.json", &id));

    // Displaying user properties, with the document's trailing slash.
    let shown = c.curl(Method::GET, &format!("/users/{id}/")).send().await.unwrap();
    assert_eq!(shown.status(), 200);
    assert_eq!(shown.json::<Value>().await.unwrap(), golden_json("get-user.response.json", &id));

    // Overwrite all user data (PUT).
    let put =
        c.curl(Method::PUT, &format!("/users/{id}")).body(golden("replace-user.request.json")).send().await.unwrap();
    assert_eq!(put.status(), 200);
    let replaced = golden_json("replace-user.response.json", &id);
    assert_eq!(put.json::<Value>().await.unwrap(), replaced);

    // Overwrite selected user data (PATCH), the zip code sent as a number.
    let patch =
        c.curl(Method::PATCH, &format!("/users/{id}")).body(golden("patch-zip.request.json")).send().await.unwrap();
    assert_eq!(patch.status(), 200);
    assert_eq!(patch.json::<Value>().await.unwrap(), replaced);

    // Deleting one property with null.
    let cleared = c
        .curl(Method::PATCH, &format!("/users/{id}"))
        .body(golden("patch-zip-null.request.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), 200);
    let mut expected = replaced.clone();
    expected.as_object_mut().unwrap().remove("zipCode");
    assert_eq!(cleared.json::<Value>().await.unwrap(), expected);

    // Deleting users.
    let deleted = c.curl(Method::DELETE, &format!("/users/{id}")).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    let gone = c.curl(Method::GET, &format!("/users/{id}/")).send().await.unwrap();
    assert_eq!(error(gone).await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_deletes_every_property_not_sent() {
    let c = Convercus::new().await;
    let (id, _) = c.create(&golden("create-user.request.json")).await;
    let put = c
        .curl(Method::PUT, &format!("/users/{id}"))
        .json(&json!({"emailAddress": "only@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    assert_eq!(
        put.json::<Value>().await.unwrap(),
        json!({"userId": id, "emailAddress": "only@example.com", "customProperties": []})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn convercus_and_native_see_the_same_users() {
    let c = Convercus::new().await;
    let admin = &c.app.a.admin_key;
    // Created here, read and edited natively.
    let (id, _) = c.create(&golden("create-user.request.json")).await;
    let native: Value = c.app.get(&format!("/v1/users/{id}"), admin).await.json().await.unwrap();
    assert_eq!(
        (native["email"].as_str(), native["address"]["postal_code"].as_str()),
        (Some("test.user@example.com"), Some("12345"))
    );
    assert_eq!(native["custom_properties"].as_array().unwrap().len(), 2);
    let patched = c
        .app
        .request(Method::PATCH, &format!("/v1/users/{id}"), admin)
        .json(&json!({"given_name": "Native"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let seen: Value = c.curl(Method::GET, &format!("/users/{id}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(seen["givenName"], "Native");

    // Changes record the surface and the interaction point.
    let history: Value = c.app.get(&format!("/v1/users/{id}/changes"), admin).await.json().await.unwrap();
    assert_eq!(history["data"][0]["surface"], "convercus");
    assert_eq!(history["data"][0]["interaction_point"], TILL);
    assert_eq!(history["data"][1]["surface"], "native");

    // Created natively (with fields Convercus does not know), edited and erased here.
    let created: Value = c
        .app
        .post("/v1/users", admin, json!({"customer_ref": "N-1", "email": "n@example.com", "national_id": "42"}))
        .await
        .json()
        .await
        .unwrap();
    let native_id = created["id"].as_str().unwrap();
    let put = c
        .curl(Method::PUT, &format!("/users/{native_id}"))
        .json(&json!({"emailAddress": "m@example.com", "givenName": "M"}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let after: Value = c.app.get(&format!("/v1/users/{native_id}"), admin).await.json().await.unwrap();
    assert_eq!((after["email"].as_str(), after["given_name"].as_str()), (Some("m@example.com"), Some("M")));
    assert_eq!(
        (after["customer_ref"].as_str(), after["national_id"].as_str()),
        (Some("N-1"), Some("42")),
        "a Convercus PUT keeps what Convercus cannot see"
    );
    assert_eq!(c.curl(Method::DELETE, &format!("/users/{native_id}")).send().await.unwrap().status(), 204);
    assert_eq!(c.app.get(&format!("/v1/users/{native_id}"), admin).await.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_documented_rule_refuses_bad_input_and_writes_nothing() {
    let c = Convercus::new().await;
    let valid = || serde_json::from_str::<Value>(&golden("create-user.request.json")).unwrap();
    let with = |field: &str, value: Value| {
        let mut body = valid();
        body[field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = valid();
        body.as_object_mut().unwrap().remove(field);
        body
    };
    let cases = [
        (without("emailAddress"), "emailAddress"),
        (with("emailAddress", json!("not-an-address")), "emailAddress"),
        (with("genderCode", json!("F")), "genderCode"),
        (with("countryCode", json!("GER")), "countryCode"),
        (with("birthDate", json!("01.01.1991")), "birthDate"),
        (with("customProperties", json!([{"name": "undefinedProperty", "value": "x"}])), "customProperties[0].name"),
        (with("customProperties", json!([{"id": PROPERTY_2, "value": "not a number"}])), "customProperties[0].value"),
        (with("loyaltyPoints", json!(500)), "loyaltyPoints"),
        (with("userId", json!("dd820ab2-6833-4ee3-9add-7bebf4dadddd")), "userId"),
        (with("favouriteColour", json!("blue")), "favouriteColour"),
    ];
    for (body, field) in cases {
        let response = c.curl(Method::POST, "/users").json(&body).send().await.unwrap();
        assert_eq!(error(response).await, (400, vec![field.to_owned()]), "{body}");
    }
    let malformed = c.curl(Method::POST, "/users").body("{\"emailAddress\": ").send().await.unwrap();
    assert_eq!(error(malformed).await.0, 400);
    let text = c
        .app
        .client
        .post(format!("{}/users", c.app.url))
        .header("Authorization", &c.jwt)
        .header("interaction-id", TILL)
        .header("Content-Type", "text/plain")
        .body(golden("create-user.request.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(error(text).await.0, 415);
    assert_eq!(c.native_count().await, 0);

    // PUT needs the e-mail address too, and PATCH cannot delete it; neither writes anything.
    let (id, created) = c.create(&golden("create-user.request.json")).await;
    let put = c.curl(Method::PUT, &format!("/users/{id}")).json(&without("emailAddress")).send().await.unwrap();
    assert_eq!(error(put).await, (400, vec!["emailAddress".to_owned()]));
    let patch = c
        .curl(Method::PATCH, &format!("/users/{id}"))
        .json(&json!({"emailAddress": null, "givenName": "X"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error(patch).await, (400, vec!["emailAddress".to_owned()]));
    let patch = c
        .curl(Method::PATCH, &format!("/users/{id}"))
        .json(&json!({"genderCode": "MAN", "zipCode": "1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error(patch).await, (400, vec!["genderCode".to_owned()]));
    let read: Value = c.curl(Method::GET, &format!("/users/{id}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(read, created);
    assert_eq!(c.native_count().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_header_rules_hold_and_refused_calls_write_nothing() {
    let c = Convercus::new().await;
    let body = golden("create-user.request.json");
    let post = |till: Option<&str>, authorization: Option<&str>| {
        let mut request = c
            .app
            .client
            .post(format!("{}/users", c.app.url))
            .header("Content-Type", "application/json")
            .body(body.clone());
        if let Some(till) = till {
            request = request.header("interaction-id", till);
        }
        if let Some(authorization) = authorization {
            request = request.header("Authorization", authorization);
        }
        request.send()
    };
    let bearer = format!("Bearer {}", c.jwt);
    assert_eq!(error(post(None, Some(&c.jwt)).await.unwrap()).await, (400, vec!["interaction-id".to_owned()]));
    assert_eq!(error(post(Some("POS-0000"), Some(&c.jwt)).await.unwrap()).await.0, 403);
    assert_eq!(error(post(Some("POS 4711"), Some(&c.jwt)).await.unwrap()).await.0, 403);
    assert_eq!(error(post(Some(TILL), None).await.unwrap()).await.0, 401);
    assert_eq!(error(post(Some(TILL), Some("not-a-token")).await.unwrap()).await.0, 401);
    // Another merchant's interaction point is not this merchant's.
    c.app.post("/v1/interaction-points", &c.app.b.admin_key, json!({"id": "B-TILL", "name": "B"})).await;
    assert_eq!(error(post(Some("B-TILL"), Some(&c.jwt)).await.unwrap()).await.0, 403);
    // A read-only key reads but does not write.
    let (_, readonly) = c.app.key_for_a("readonly").await;
    assert_eq!(error(post(Some(TILL), Some(&readonly)).await.unwrap()).await.0, 403);
    assert_eq!(c.native_count().await, 0);

    // The Bearer prefix works as well as the raw token; then deactivating the till locks it out.
    assert_eq!(post(Some(TILL), Some(&bearer)).await.unwrap().status(), 201);
    let deactivated = c
        .app
        .request(Method::POST, &format!("/v1/interaction-points/{TILL}/deactivate"), &c.app.a.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(deactivated.status(), 200);
    assert_eq!(error(post(Some(TILL), Some(&c.jwt)).await.unwrap()).await.0, 403);
    assert_eq!(c.native_count().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_checks_org_user_and_password() {
    let c = Convercus::new().await;
    let (key_id, key) = c.app.key_for_a("client").await;
    for (org, user, password) in [
        ("MERCHANT-B", key_id.as_str(), key.as_str()),
        ("MERCHANT-A", "01934f5e-8a61-7c7e-b6b1-3f2a9a6d0c11", key.as_str()),
        ("MERCHANT-A", key_id.as_str(), "clt_wrongwrongwrongwrongwrongwrongwrongwrongwro"),
        ("MERCHANT-A", key_id.as_str(), "password"),
    ] {
        assert_eq!(error(login(&c.app, org, user, password).await).await.0, 401, "{org} {user}");
    }
    let malformed = c
        .app
        .client
        .post(format!("{}/auth/login", c.app.url))
        .json(&json!({"org": "MERCHANT-A"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error(malformed).await.0, 400);
    // The login's token is a token like any other.
    assert_eq!(c.app.get("/v1/merchant", &c.jwt).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_merchants_user_is_not_found_and_keys_work_here_too() {
    let c = Convercus::new().await;
    let (id, _) = c.create(&golden("create-user.request.json")).await;
    c.app.post("/v1/interaction-points", &c.app.b.admin_key, json!({"id": "B-TILL", "name": "B"})).await;
    let as_b = |method: Method, path: String| {
        c.app
            .client
            .request(method, format!("{}{path}", c.app.url))
            .header("Authorization", &c.app.b.admin_key)
            .header("interaction-id", "B-TILL")
    };
    let missing = uuid::Uuid::now_v7();
    for method in [Method::GET, Method::DELETE] {
        let foreign = error(as_b(method.clone(), format!("/users/{id}")).send().await.unwrap()).await;
        let absent = error(as_b(method, format!("/users/{missing}")).send().await.unwrap()).await;
        assert_eq!((foreign.0, absent.0), (404, 404));
    }
    let patch =
        as_b(Method::PATCH, format!("/users/{id}")).json(&json!({"givenName": "Mallory"})).send().await.unwrap();
    assert_eq!(error(patch).await.0, 404);

    // Idempotency-Key works here as everywhere.
    let send = || {
        c.curl(Method::POST, "/users")
            .header("Idempotency-Key", "cvs-1")
            .body(golden("create-user.request.json").replace("test.user", "other.user"))
            .send()
    };
    let first: Value = send().await.unwrap().json().await.unwrap();
    let again = send().await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(c.native_count().await, 2);
}
