//! The public payment page in a real browser: headless Chromium loads it, the rendered
//! amount is read back, and a screenshot is kept as a test artefact.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use tokio::process::Command;

use crate::harness::TestApp;

/// Debian's Chromium, or the one `CLIENTELE_CHROMIUM` names.
fn chromium() -> Option<PathBuf> {
    let named = std::env::var_os("CLIENTELE_CHROMIUM").map(PathBuf::from);
    named.or_else(|| Some(PathBuf::from("/usr/bin/chromium"))).filter(|path| path.exists())
}

/// Chromium, or `None` after saying the test is skipped. CI installs Chromium and must run
/// the browser tests; elsewhere they are optional.
fn chromium_or_skip() -> Option<PathBuf> {
    let found = chromium();
    if found.is_none() {
        assert!(std::env::var_os("CI").is_none(), "Chromium is not installed; .ci/run installs Debian's chromium");
        eprintln!("skipped: no Chromium at /usr/bin/chromium (set CLIENTELE_CHROMIUM to run it)");
    }
    found
}

async fn headless(browser: &PathBuf, args: &[String]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let output = tokio::time::timeout(
        Duration::from_secs(90),
        Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(args)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("Chromium did not finish in time")
    .unwrap();
    assert!(output.status.success(), "Chromium failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_page_renders_the_amount_in_a_headless_browser() {
    let Some(browser) = chromium_or_skip() else { return };
    let app = TestApp::spawn().await;
    let body = std::fs::read_to_string(format!(
        "{}/tests/golden/duengage/onceoffpayment.request.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let answer: Value = app
        .request(Method::POST, "/onceoffpayment", &app.a.admin_key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = format!("{}/pay/{}", app.url, answer["PublicAccessGuid"].as_str().unwrap());

    let dom = headless(&browser, &["--dump-dom".to_owned(), url.clone()]).await;
    assert!(dom.contains("ZAR 1,520.75"), "the rendered page lacks the amount: {dom}");
    assert!(dom.contains("Payment request from MERCHANT-A Ltd"));

    let artefacts = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("artefacts");
    std::fs::create_dir_all(&artefacts).unwrap();
    let shot = artefacts.join("public-payment-page.png");
    headless(&browser, &[format!("--screenshot={}", shot.display()), "--window-size=412,915".to_owned(), url]).await;
    let png = std::fs::read(&shot).unwrap();
    assert!(png.len() > 1000 && png.starts_with(b"\x89PNG"), "no screenshot was taken");
    eprintln!("screenshot kept at {}", shot.display());
}

/// The width and height a PNG's header gives.
fn png_size(png: &[u8]) -> (u32, u32) {
    let number = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (number(16), number(20))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_payment_page_tells_the_debtor_how_to_pay_in_each_state_on_a_phone() {
    use crate::payment_page::{SETTINGS, move_to, put_settings, request_payment};
    let Some(browser) = chromium_or_skip() else { return };
    let app = TestApp::spawn().await;
    let settings: Value = serde_json::from_str(SETTINGS).unwrap();
    assert_eq!(put_settings(&app, &app.a.admin_key, &settings).await.status(), 200);
    let (_, due) = request_payment(&app, "INV-DUE").await;
    let (paid_id, paid) = request_payment(&app, "INV-PAID").await;
    move_to(&app, &paid_id, "mark-paid").await;
    let (cancelled_id, cancelled) = request_payment(&app, "INV-CANCELLED").await;
    move_to(&app, &cancelled_id, "cancel").await;
    // A merchant that has set up nothing: the page asks the debtor to contact it.
    let body = serde_json::json!({"customer": {"customer_ref": "B-1"}, "invoice_number": "INV-B", "segment": "Retail",
        "amount_outstanding": "99.50", "currency": "ZAR", "channel": "web"});
    let created: Value = app.post("/v1/payment-requests", &app.b.admin_key, body).await.json().await.unwrap();
    let unset = created["public_access_guid"].as_str().unwrap().to_owned();

    let phone = "--window-size=390,844".to_owned();
    let states: [(&str, &str, &[&str], &[&str]); 5] = [
        (
            "due",
            &due,
            &[
                "Payment request from Acme Stores",
                "accounts@acme.example",
                "Amount due",
                "ZAR 1,520.75",
                "Debt date",
                "2025-01-25",
                "View the invoice document",
                "Awaiting payment",
                "How to pay",
                "Pay ZAR 1,520.75 online",
                "pay.acme.example/checkout?invoice=INV-DUE&amp;amount=1520.75",
                "ACME INV-DUE",
                "62000000001",
            ],
            &["viewed"],
        ),
        // The same page opened again: the request is viewed now, and still reads the same.
        ("viewed", &due, &["Awaiting payment", "How to pay", "Pay ZAR 1,520.75 online"], &["viewed"]),
        (
            "paid",
            &paid,
            &["has been paid", "Amount paid", ">Paid<", "Debt date"],
            &["How to pay", "online", "62000000001"],
        ),
        (
            "cancelled",
            &cancelled,
            &["has been cancelled", ">Cancelled<", "Debt date"],
            &["How to pay", "online", "62000000001", "Amount due"],
        ),
        (
            "not-set-up",
            &unset,
            &["Payment request from MERCHANT-B", "Amount due", "Please contact MERCHANT-B"],
            &["online"],
        ),
    ];
    let artefacts = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("artefacts");
    std::fs::create_dir_all(&artefacts).unwrap();
    for (state, guid, shown, absent) in states {
        let url = format!("{}/pay/{guid}", app.url);
        let dom = headless(&browser, &["--dump-dom".to_owned(), phone.clone(), url.clone()]).await;
        for text in shown {
            assert!(dom.contains(text), "{state}: {text:?} is not on the rendered page: {dom}");
        }
        for text in absent {
            assert!(!dom.to_lowercase().contains(&text.to_lowercase()), "{state}: {text:?} is on the page: {dom}");
        }
        let shot = artefacts.join(format!("payment-page-{state}-390x844.png"));
        headless(&browser, &[format!("--screenshot={}", shot.display()), phone.clone(), url]).await;
        let png = std::fs::read(&shot).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 1000, "{state}: no screenshot was taken");
        assert_eq!(png_size(&png), (390, 844), "{state}: not a phone-sized screenshot");
        eprintln!("screenshot kept at {}", shot.display());
    }
}
