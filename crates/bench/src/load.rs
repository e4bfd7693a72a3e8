//! A fixed-concurrency load loop, as wrk does it: `concurrency` workers, each with one
//! keep-alive HTTP/1.1 connection (raw hyper, no client pool), send requests back to back
//! until the time is up, recording each latency.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;

/// What one scenario did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub requests: u64,
    pub errors: u64,
    pub elapsed: Duration,
    /// Latencies in microseconds.
    pub latencies: Histogram<u64>,
}

impl Outcome {
    /// Nothing yet, to [`Outcome::add`] slices to.
    pub fn empty() -> Outcome {
        Outcome { requests: 0, errors: 0, elapsed: Duration::ZERO, latencies: histogram() }
    }

    /// Adds a slice of the same load: its requests, errors, time and latencies.
    pub fn add(&mut self, slice: &Outcome) {
        self.requests += slice.requests;
        self.errors += slice.errors;
        self.elapsed += slice.elapsed;
        let _ = self.latencies.add(&slice.latencies);
    }

    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// A latency quantile in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        self.latencies.value_at_quantile(q) as f64 / 1000.0
    }
}

#[expect(clippy::expect_used, reason = "constant bounds that hdrhistogram accepts: 1 µs to 60 s, 3 digits")]
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

/// One request of a scenario.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    pub path: String,
    pub body: Option<(&'static str, Bytes)>,
}

impl Call {
    pub fn get(path: String) -> Call {
        Call { method: Method::GET, path, body: None }
    }

    pub fn send(method: Method, path: &str, content_type: &'static str, body: impl Into<Bytes>) -> Call {
        Call { method, path: path.to_owned(), body: Some((content_type, body.into())) }
    }
}

/// Where the load goes, and the headers every request carries.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `host:port`.
    pub address: String,
    pub authorization: String,
}

/// One keep-alive HTTP/1.1 connection of a worker, opened again after a failure.
struct Connection {
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Connection {
    async fn send(&mut self, endpoint: &Endpoint, call: Call) -> bool {
        let sender = match self.sender.take() {
            Some(sender) if !sender.is_closed() => sender,
            _ => match connect(&endpoint.address).await {
                Some(sender) => sender,
                None => return false,
            },
        };
        let mut sender = sender;
        let (content_type, body) = call.body.unwrap_or(("application/json", Bytes::new()));
        let request = Request::builder()
            .method(call.method)
            .uri(call.path)
            .header(HOST, endpoint.address.as_str())
            .header(AUTHORIZATION, endpoint.authorization.as_str())
            .header(CONTENT_TYPE, content_type)
            .header("interaction-id", "till-1")
            .body(Full::new(body));
        let Ok(request) = request else { return false };
        if sender.ready().await.is_err() {
            return false;
        }
        let Ok(response) = sender.send_request(request).await else { return false };
        let ok = response.status().is_success();
        // A request is answered when its whole answer has arrived.
        let read = response.into_body().collect().await.is_ok();
        self.sender = Some(sender);
        ok && read
    }
}

async fn connect(address: &str) -> Option<SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(address).await.ok()?;
    let _ = stream.set_nodelay(true);
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.ok()?;
    tokio::spawn(connection);
    Some(sender)
}

/// What a scenario sends: the call for each sequence number.
pub type Calls = Arc<dyn Fn(u64) -> Call + Send + Sync>;

/// The keep-alive connections of a load's workers, one each, kept from one run to the next.
#[derive(Clone)]
pub struct Connections(Arc<Vec<tokio::sync::Mutex<Connection>>>);

impl Connections {
    pub fn new(concurrency: usize) -> Connections {
        Connections(Arc::new((0..concurrency).map(|_| tokio::sync::Mutex::new(Connection { sender: None })).collect()))
    }
}

/// Sends the calls `call` makes (given a sequence number, from `first` on) from one worker
/// per connection, back to back for `duration`.
pub async fn run(
    endpoint: &Endpoint,
    connections: &Connections,
    duration: Duration,
    first: u64,
    call: Calls,
) -> Outcome {
    run_paced(endpoint, connections, duration, first, None, call).await
}

/// As [`run`], but at a steady rate when `interval` is given: call `n` is sent no sooner than
/// `interval` times its place after `first`, as an open-loop load generator paces its calls,
/// so a slow answer does not slow the rate.
pub async fn run_paced(
    endpoint: &Endpoint,
    connections: &Connections,
    duration: Duration,
    first: u64,
    interval: Option<Duration>,
    call: Calls,
) -> Outcome {
    let concurrency = connections.0.len();
    let connections = Arc::clone(&connections.0);
    let endpoint = Arc::new(endpoint.clone());
    run_from(concurrency, duration, first, interval, move |worker, n| {
        let (connections, endpoint, request) = (Arc::clone(&connections), Arc::clone(&endpoint), call(n));
        async move {
            match connections.get(worker) {
                Some(connection) => connection.lock().await.send(&endpoint, request).await,
                None => false,
            }
        }
    })
    .await
}

/// Runs `work` (given its worker's index and a sequence number, answering whether it
/// succeeded) from `concurrency` workers back to back for `duration`. The time of a call
/// is that of its future: what `work` does before it returns one is not counted.
pub async fn run_in_process<F, Fut>(concurrency: usize, duration: Duration, work: F) -> Outcome
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    run_from(concurrency, duration, 0, None, work).await
}

async fn run_from<F, Fut>(
    concurrency: usize,
    duration: Duration,
    first: u64,
    interval: Option<Duration>,
    work: F,
) -> Outcome
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let work = Arc::new(work);
    let sequence = Arc::new(AtomicU64::new(first));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..concurrency {
        let (work, sequence, errors) = (Arc::clone(&work), Arc::clone(&sequence), Arc::clone(&errors));
        workers.spawn(async move {
            let mut latencies = histogram();
            while Instant::now() < deadline {
                let n = sequence.fetch_add(1, Ordering::Relaxed);
                if let Some(interval) = interval {
                    let due = started + interval.saturating_mul(u32::try_from(n - first).unwrap_or(u32::MAX));
                    if due >= deadline {
                        break;
                    }
                    tokio::time::sleep_until(due.into()).await;
                }
                let pending = work(worker, n);
                let sent = Instant::now();
                let ok = pending.await;
                let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX).max(1);
                let _ = latencies.record(micros.min(60_000_000));
                if !ok {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            latencies
        });
    }
    let mut latencies = histogram();
    while let Some(worker) = workers.join_next().await {
        if let Ok(worker) = worker {
            let _ = latencies.add(worker);
        }
    }
    Outcome { requests: latencies.len(), errors: errors.load(Ordering::Relaxed), elapsed: started.elapsed(), latencies }
}
