//! A webhook receiver on 127.0.0.1 for the crash harness and the benchmark: it answers every
//! delivery 204 and notes which events arrived, and how long after they occurred.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What arrived: each event's id once, with the lag from its occurrence to its first
/// arrival, and how many deliveries came in all (repeats included).
#[derive(Debug, Default)]
pub struct Arrivals {
    pub first: HashMap<String, f64>,
    pub deliveries: u64,
}

/// The receiver, listening until dropped.
#[derive(Debug)]
pub struct Receiver {
    pub url: String,
    arrivals: Arc<Mutex<Arrivals>>,
    task: JoinHandle<()>,
}

impl Receiver {
    pub async fn start() -> anyhow::Result<Receiver> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/hook", listener.local_addr()?);
        let arrivals = Arc::new(Mutex::new(Arrivals::default()));
        let noted = Arc::clone(&arrivals);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let noted = Arc::clone(&noted);
                tokio::spawn(async move {
                    let service = service_fn(move |request| note(Arc::clone(&noted), request));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        Ok(Receiver { url, arrivals, task })
    }

    /// What has arrived so far.
    pub fn with<T>(&self, read: impl FnOnce(&Arrivals) -> T) -> T {
        let arrivals = self.arrivals.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        read(&arrivals)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn note(
    arrivals: Arc<Mutex<Arrivals>>,
    request: Request<hyper::body::Incoming>,
) -> Result<Response<Empty<Bytes>>, Infallible> {
    let now = OffsetDateTime::now_utc();
    let id = request.headers().get("webhook-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let occurred = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|body| body.get("timestamp").and_then(|t| t.as_str()).map(str::to_owned))
        .and_then(|text| OffsetDateTime::parse(&text, &Rfc3339).ok());
    if let Ok(mut arrivals) = arrivals.lock() {
        arrivals.deliveries += 1;
        if let Some(id) = id {
            let lag = occurred.map_or(f64::NAN, |at| (now - at).as_seconds_f64());
            arrivals.first.entry(id).or_insert(lag);
        }
    }
    let mut answer = Response::new(Empty::new());
    *answer.status_mut() = StatusCode::NO_CONTENT;
    Ok(answer)
}
