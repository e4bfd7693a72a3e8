//! Erasure forgets everything: users made through every surface, with idempotency keys,
//! custom values, metadata, payment requests and their maps, are erased; then no text or blob column
//! of any table holds one of their personal values, and no replay returns one.

use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};

use crate::harness::{TestApp, TestDb};

const TILL: &str = "till-7";

/// Every personal value the test sends, each distinctive enough to be found as a substring
/// (the invariants check the columns that hold only codes, such as the country).
const PERSONAL: &[&str] = &[
    // native
    "Zebediah",
    "Quillfeather",
    "zebediah.q@erasure.example",
    "0827648861",
    "+27827648861",
    "827648861",
    "8005315009087",
    "PX9911223",
    "17 Kloof Nek Road",
    "Tamboerskloof",
    "Oranjezicht",
    "EU-ZEB-01",
    "size-forty-three",
    "meta-branch-zebediah",
    // native payment request
    "Invoice for Zebediah's roof",
    "https://docs.erasure.example/zeb.pdf",
    "ZEB-ACCOUNT-778812",
    // convercus
    "Ottilie",
    "Brackenbury",
    "ottilie.b@erasure.example",
    "Brackenbury Lane 4",
    "Lindenhausen",
    "0301234567",
    "tier-platinum-ottilie",
    // realpay
    "Rutger",
    "Halvorsen",
    "rutger.h@erasure.example",
    "839876543",
    "7707075009081",
    "HALV-CLIENT-9",
    // gateway
    "GWCUSTOMER4471",
    "gw.customer@erasure.example",
    "0219876543",
    "Gateway Street 99",
    // duengage
    "Thandeka",
    "Mhlongo-Dube",
    "thandeka.md@erasure.example",
    "0835550199",
    "9202205009083",
    "PPTHANDEKA5",
    "21 Bree Street",
    "Hatfield",
    "DU-CUST-3301",
    "Mhlongo household account",
    "https://docs.erasure.example/thandeka.pdf",
    "Portfolio-Thandeka",
    "tier-gold-thandeka",
    "meta-branch-thandeka",
];

/// Every text and blob value of every column of every table, with where it is.
async fn every_text_value(db: &TestDb) -> Vec<(String, String)> {
    if db.is_postgres() {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url).await.unwrap();
        let columns: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND data_type IN ('text', 'bytea', 'character varying', 'json', 'jsonb')",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        assert!(columns.len() > 40, "found only {} text columns", columns.len());
        let mut values = Vec::new();
        for (table, column, data_type) in columns {
            let read = match data_type.as_str() {
                "bytea" => format!("encode({column}, 'escape')"),
                _ => format!("{column}::text"),
            };
            let rows: Vec<(Option<String>,)> =
                sqlx::query_as(&format!("SELECT {read} FROM {table}")).fetch_all(&mut conn).await.unwrap();
            values.extend(rows.into_iter().filter_map(|(v,)| v).map(|v| (format!("{table}.{column}"), v)));
        }
        values
    } else {
        let path = clientele_store_sqlite::path_from_url(&db.url).unwrap();
        let conn = rusqlite::Connection::open(path).unwrap();
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(tables.len() >= 12, "found only tables {tables:?}");
        let mut values = Vec::new();
        for table in tables {
            let mut statement = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
            let names: Vec<String> = statement.column_names().into_iter().map(str::to_owned).collect();
            let mut rows = statement.query([]).unwrap();
            while let Some(row) = rows.next().unwrap() {
                for (i, name) in names.iter().enumerate() {
                    let text = match row.get_ref(i).unwrap() {
                        rusqlite::types::ValueRef::Text(bytes) | rusqlite::types::ValueRef::Blob(bytes) => {
                            String::from_utf8_lossy(bytes).into_owned()
                        }
                        _ => continue,
                    };
                    values.push((format!("{table}.{name}"), text));
                }
            }
        }
        values
    }
}

/// Where each personal value is still found.
async fn found(db: &TestDb) -> Vec<String> {
    let values = every_text_value(db).await;
    PERSONAL
        .iter()
        .flat_map(|personal| {
            values.iter().filter(move |(_, v)| v.contains(personal)).map(move |(at, _)| format!("{personal:?} in {at}"))
        })
        .collect()
}

/// One idempotent request, to send again after erasure.
struct Sent {
    method: Method,
    path: String,
    key: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Value,
}

impl Sent {
    fn build(&self, app: &TestApp) -> RequestBuilder {
        let mut request = app.request(self.method.clone(), &self.path, &app.a.admin_key);
        for (name, value) in &self.headers {
            request = request.header(*name, value);
        }
        request.header("Idempotency-Key", self.key).json(&self.body)
    }

    async fn send(&self, app: &TestApp) -> (u16, Value) {
        let response = self.build(app).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

async fn json_of(response: Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert!(status.is_success(), "{status}: {body}");
    body
}

async fn user_id_by_ref(app: &TestApp, customer_ref: &str) -> String {
    let page = json_of(app.get(&format!("/v1/users?customer_ref={customer_ref}"), &app.a.admin_key).await).await;
    page["data"][0]["id"].as_str().unwrap_or_else(|| panic!("no user {customer_ref}: {page}")).to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_through_every_surface_leaves_no_personal_value_in_any_row() {
    let app = TestApp::spawn().await;
    let admin = app.a.admin_key.clone();
    let merchant = app.a.merchant.id.to_string();
    for body in [json!({"name": "shoe size", "value_type": "string"}), json!({"name": "tier", "value_type": "string"})]
    {
        assert_eq!(app.post("/v1/properties", &admin, body).await.status(), 201);
    }
    assert_eq!(app.post("/v1/interaction-points", &admin, json!({"id": TILL, "name": "Till"})).await.status(), 201);

    let native = Sent {
        method: Method::POST,
        path: "/v1/users".into(),
        key: "erase-native-create",
        headers: Vec::new(),
        body: json!({"customer_ref": "EU-ZEB-01", "given_name": "Zebediah", "family_name": "Quillfeather",
            "email": "zebediah.q@erasure.example", "phone": "0827648861", "country": "ZA", "birth_date": "1980-05-31",
            "gender": "MALE", "national_id": "8005315009087", "passport_number": "PX9911223",
            "address": {"street": "17 Kloof Nek Road", "suburb": "Tamboerskloof", "city": "Oranjezicht",
                        "postal_code": "8001"},
            "custom_properties": [{"name": "shoe size", "value": "size-forty-three"}],
            "metadata": {"Branch": "meta-branch-zebediah"}}),
    };
    let (status, created) = native.send(&app).await;
    assert_eq!(status, 201, "{created}");
    let zeb = created["id"].as_str().unwrap().to_owned();
    let patch = Sent {
        method: Method::PATCH,
        path: format!("/v1/users/{zeb}"),
        key: "erase-native-patch",
        headers: vec![("content-type", "application/merge-patch+json".into())],
        body: json!({"address": {"region": "Western Cape"}}),
    };
    let (status, patched) = patch.send(&app).await;
    assert_eq!(status, 200, "{patched}");
    let payment = Sent {
        method: Method::POST,
        path: "/v1/payment-requests".into(),
        key: "erase-native-payment",
        headers: Vec::new(),
        body: json!({"customer": {"customer_ref": "EU-ZEB-01"}, "invoice_number": "INV-ZEB-1",
            "segment": "Invoice for Zebediah's roof", "amount_outstanding": "1520.75", "currency": "ZAR",
            "channel": "email", "url_to_document": "https://docs.erasure.example/zeb.pdf",
            "debt_meta": {"account": "ZEB-ACCOUNT-778812"}}),
    };
    let (status, requested) = payment.send(&app).await;
    assert_eq!(status, 201, "{requested}");

    let convercus = Sent {
        method: Method::POST,
        path: "/users".into(),
        key: "erase-convercus-create",
        headers: vec![("interaction-id", TILL.into())],
        body: json!({"emailAddress": "ottilie.b@erasure.example", "givenName": "Ottilie", "familyName": "Brackenbury",
            "streetHouseNo": "Brackenbury Lane 4", "zipCode": "10115", "city": "Lindenhausen", "countryCode": "DE",
            "genderCode": "FEMALE", "birthDate": "1991-01-01", "phone": "0301234567",
            "customProperties": [{"name": "tier", "value": "tier-platinum-ottilie"}]}),
    };
    let (status, created) = convercus.send(&app).await;
    assert_eq!(status, 201, "{created}");
    let ottilie = created["userId"].as_str().unwrap().to_owned();

    let realpay = json!({"UserPostRequest": [{"Name": "Rutger", "Surname": "Halvorsen", "DOB": "1977-07-07",
        "Gender": "M", "DialCode": "+27", "Mobile": 839876543, "Email": "rutger.h@erasure.example", "Country": "ZA",
        "ID": "7707075009081", "ClientId": "HALV-CLIENT-9",
        "Contract": {"ContractNumber": "CHALV1", "InstalmentAmount": 123.45, "NumberOfInstalments": 3,
            "InstalmentStartDate": "2025-01-25 08:00", "TrackingCode": "00", "FrequencyCode": "MNTH",
            "CollectionDay": 25}}]});
    let answer = json_of(app.post("/v1/realpay/MERCHANT-A/maintain/omni/users", &admin, realpay).await).await;
    assert_eq!(answer["APIResponse"]["Status"], "SUCCESS", "{answer}");

    let gateway = Sent {
        method: Method::POST,
        path: "/api/v1/create-user".into(),
        key: "erase-gateway-create",
        headers: Vec::new(),
        body: json!({"merchantId": merchant, "customerId": "GWCUSTOMER4471", "contractNumber": "GWC1",
            "contactInfo": {"email": "gw.customer@erasure.example", "phoneNumber": "0219876543",
                            "address": "Gateway Street 99", "zipCode": "7700"}}),
    };
    let (status, created) = gateway.send(&app).await;
    assert_eq!(status, 200, "{created}");

    let duengage = Sent {
        method: Method::POST,
        path: "/onceoffpayment".into(),
        key: "erase-duengage-payment",
        headers: Vec::new(),
        body: json!({"Segment": "Portfolio-Thandeka", "FirstName": "Thandeka", "LastName": "Mhlongo-Dube",
            "Address": "21 Bree Street", "City": "Pretoria", "Region": "Gauteng", "Suburb": "Hatfield",
            "PostalCode": "0083", "MobileNumber": "0835550199", "Email": "thandeka.md@erasure.example",
            "IdNumber": "9202205009083", "PassportNumber": "PPTHANDEKA5", "InvoiceNumber": "INV-THA-1",
            "DebtDate": "2025-01-25", "AmountOutstanding": 99.5, "CurrenciesId": 1, "ChannelsId": 2,
            "DebtMeta": {"Holder": "Mhlongo household account"}, "CustomersMeta": {"tier": "tier-gold-thandeka",
            "Branch": "meta-branch-thandeka"},
            "UrlToDocument": "https://docs.erasure.example/thandeka.pdf", "CustomerUniqueIdentifier": "DU-CUST-3301"}),
    };
    let (status, created) = duengage.send(&app).await;
    assert_eq!(status, 200, "{created}");

    // Everything sent is stored somewhere: the scan can find what it looks for.
    let before = found(&app.db).await;
    for personal in PERSONAL {
        assert!(before.iter().any(|f| f.starts_with(&format!("{personal:?} in "))), "{personal} was never stored");
    }

    // Erased through the native API, Convercus and (for the rest) the native API again.
    let realpay_user = user_id_by_ref(&app, "HALV-CLIENT-9").await;
    let gateway_user = user_id_by_ref(&app, "GWCUSTOMER4471").await;
    let duengage_user = user_id_by_ref(&app, "DU-CUST-3301").await;
    for id in [&zeb, &realpay_user, &gateway_user, &duengage_user] {
        let response = app.request(Method::DELETE, &format!("/v1/users/{id}"), &admin).send().await.unwrap();
        assert_eq!(response.status(), 204);
    }
    let response = app
        .request(Method::DELETE, &format!("/users/{ottilie}"), &admin)
        .header("interaction-id", TILL)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);

    let left = found(&app.db).await;
    assert!(left.is_empty(), "personal values left after erasure: {left:#?}");

    // No replay returns them: each is answered as its surface answers for a user that is gone.
    for sent in [&native, &patch, &payment, &convercus, &gateway, &duengage] {
        let (status, body) = sent.send(&app).await;
        let text = body.to_string();
        assert_eq!(status, 404, "{} {}: {text}", sent.method, sent.path);
        let shown: Vec<_> = PERSONAL.iter().filter(|p| text.contains(*p)).collect();
        assert!(shown.is_empty(), "{} {} replayed {shown:?}", sent.method, sent.path);
    }
    let (_, problem) = native.send(&app).await;
    assert_eq!(problem["status"], 404);
    let (_, convercus_error) = convercus.send(&app).await;
    assert_eq!(convercus_error["status"], 404);
    let (_, service_stack) = duengage.send(&app).await;
    assert_eq!(service_stack["ResponseStatus"]["ErrorCode"], "NotFound");
    let (_, gateway_error) = gateway.send(&app).await;
    assert_eq!(gateway_error["isSuccess"], false);

    // The payment requests stay as financial records, listed with their debtor, without
    // what the merchant sent as free text.
    for (debtor, invoice) in [(&zeb, "INV-ZEB-1"), (&duengage_user, "INV-THA-1")] {
        let page = json_of(app.get(&format!("/v1/payment-requests?user_id={debtor}"), &admin).await).await;
        assert_eq!(page["data"][0]["invoice_number"], invoice, "{page}");
        let text = page.to_string();
        assert!(PERSONAL.iter().all(|p| !text.contains(p)), "{text}");
    }
}
