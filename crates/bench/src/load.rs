//! A fixed-concurrency load loop: `concurrency` workers send requests back to back until the
//! time is up, recording each latency.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

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

/// Runs `request` (given a sequence number, answering whether it succeeded) from
/// `concurrency` workers for `duration`.
pub async fn run<F, Fut>(concurrency: usize, duration: Duration, request: F) -> Outcome
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let request = Arc::new(request);
    let sequence = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (request, sequence, errors) = (Arc::clone(&request), Arc::clone(&sequence), Arc::clone(&errors));
        workers.spawn(async move {
            let mut latencies = histogram();
            while Instant::now() < deadline {
                let n = sequence.fetch_add(1, Ordering::Relaxed);
                let sent = Instant::now();
                let ok = request(n).await;
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
