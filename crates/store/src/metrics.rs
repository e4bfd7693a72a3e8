use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OperationLabels {
    backend: &'static str,
    operation: &'static str,
    outcome: &'static str,
}

fn store_buckets() -> Histogram {
    // 20 µs to about 10 s.
    Histogram::new(exponential_buckets(0.000_02, 2.0, 20))
}

/// Timings of store operations, by backend, operation and outcome. Cheap to clone; every
/// clone records into the same histograms.
#[derive(Debug, Clone)]
pub struct StoreMetrics {
    durations: Family<OperationLabels, Histogram, fn() -> Histogram>,
}

impl Default for StoreMetrics {
    fn default() -> Self {
        StoreMetrics { durations: Family::new_with_constructor(store_buckets) }
    }
}

impl StoreMetrics {
    /// Adds the histograms to `registry` (as `clientele_store_operation_duration_seconds`).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "clientele_store_operation_duration_seconds",
            "Time spent in store operations",
            self.durations.clone(),
        );
    }

    pub fn observe(&self, backend: &'static str, operation: &'static str, ok: bool, elapsed: Duration) {
        let outcome = if ok { "ok" } else { "error" };
        self.durations.get_or_create(&OperationLabels { backend, operation, outcome }).observe(elapsed.as_secs_f64());
    }
}
