//! A [`Store`] that measures another: the latency of every operation in
//! `kubeplex_store_request_duration_seconds{operation}` and the store's
//! faults (not its ordinary outcomes such as a conflict) in
//! `kubeplex_store_request_errors_total{operation}`.
//!
//! ```text
//!  ApiServer.store ─► MeteredStore ─► SQLite | etcd
//!                        └► histogram per operation
//! ```
//!
//! The buckets reach down to 100 µs: an embedded SQLite read takes far less
//! than the 5 ms at which upstream's etcd buckets start.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use kubeplex_store::{KeyValue, RangeRequest, RangeResult, Result, Revision, Store, StoreError, WatchStream};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The buckets of `kubeplex_store_request_duration_seconds`.
pub const STORE_DURATION_BUCKETS: [f64; 16] =
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The `operation` label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabel {
    pub operation: &'static str,
}

fn store_histogram() -> Histogram {
    Histogram::new(STORE_DURATION_BUCKETS)
}

/// The store's metric families (cheap to clone: they share their series).
#[derive(Clone, Debug)]
pub struct StoreMetrics {
    durations: Family<OperationLabel, Histogram, fn() -> Histogram>,
    errors: Family<OperationLabel, Counter>,
}

impl StoreMetrics {
    /// Creates the families and registers them in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let durations = Family::new_with_constructor(store_histogram as fn() -> Histogram);
        registry.register(
            "kubeplex_store_request_duration_seconds",
            "Store request latency in seconds for each operation",
            durations.clone(),
        );
        let errors = Family::<OperationLabel, Counter>::default();
        registry.register(
            "kubeplex_store_request_errors",
            "Store requests that failed for a fault of the store (not a conflict, a missing key or a compacted \
             revision), for each operation",
            errors.clone(),
        );
        StoreMetrics { durations, errors }
    }

    fn observe<T>(&self, operation: &'static str, started: Instant, result: &Result<T>) {
        let label = OperationLabel { operation };
        self.durations.get_or_create(&label).observe(started.elapsed().as_secs_f64());
        if let Err(e) = result
            && is_fault(e)
        {
            self.errors.get_or_create(&label).inc();
        }
    }
}

/// Whether an error is the store failing rather than an answer.
fn is_fault(err: &StoreError) -> bool {
    matches!(
        err,
        StoreError::Locked { .. }
            | StoreError::Corrupt { .. }
            | StoreError::Backend { .. }
            | StoreError::Etcd { .. }
            | StoreError::Closed
    )
}

/// Measures every operation of the store it wraps.
#[derive(Debug)]
pub struct MeteredStore {
    inner: Arc<dyn Store>,
    metrics: StoreMetrics,
}

impl MeteredStore {
    /// `inner`, measured into `metrics`.
    pub fn wrap(inner: Arc<dyn Store>, metrics: StoreMetrics) -> Arc<dyn Store> {
        Arc::new(MeteredStore { inner, metrics })
    }
}

#[async_trait]
impl Store for MeteredStore {
    async fn get(&self, key: &str, revision: Option<Revision>) -> Result<Option<KeyValue>> {
        let started = Instant::now();
        let result = self.inner.get(key, revision).await;
        self.metrics.observe("get", started, &result);
        result
    }

    async fn range(&self, req: RangeRequest) -> Result<RangeResult> {
        let started = Instant::now();
        let result = self.inner.range(req).await;
        self.metrics.observe("range", started, &result);
        result
    }

    async fn create(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<Revision> {
        let started = Instant::now();
        let result = self.inner.create(key, value, ttl).await;
        self.metrics.observe("create", started, &result);
        result
    }

    async fn update(&self, key: &str, value: Bytes, expected: Revision, ttl: Option<Duration>) -> Result<Revision> {
        let started = Instant::now();
        let result = self.inner.update(key, value, expected, ttl).await;
        self.metrics.observe("update", started, &result);
        result
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(Revision, KeyValue)> {
        let started = Instant::now();
        let result = self.inner.delete(key, expected).await;
        self.metrics.observe("delete", started, &result);
        result
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<WatchStream> {
        let started = Instant::now();
        let result = self.inner.watch(prefix, after).await;
        self.metrics.observe("watch", started, &result);
        result
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        let started = Instant::now();
        let result = self.inner.compact(revision).await;
        self.metrics.observe("compact", started, &result);
        result
    }

    async fn current_revision(&self) -> Result<Revision> {
        let started = Instant::now();
        let result = self.inner.current_revision().await;
        self.metrics.observe("current_revision", started, &result);
        result
    }

    async fn compacted_revision(&self) -> Result<Revision> {
        let started = Instant::now();
        let result = self.inner.compacted_revision().await;
        self.metrics.observe("compacted_revision", started, &result);
        result
    }
}

#[cfg(test)]
mod tests {
    use kubeplex_store::sqlite::{SqliteOptions, SqliteStore};

    use super::*;

    #[tokio::test]
    async fn every_operation_is_measured_and_only_faults_count_as_errors() {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = SqliteStore::open(dir.path().join("s.db"), SqliteOptions::default()).unwrap();
        let mut registry = Registry::default();
        let metrics = StoreMetrics::register(&mut registry);
        let store = MeteredStore::wrap(Arc::new(sqlite), metrics);
        let revision = store.create("/registry/a/c/x", Bytes::from_static(b"1"), None).await.unwrap();
        assert!(store.create("/registry/a/c/x", Bytes::from_static(b"1"), None).await.is_err());
        store.get("/registry/a/c/x", None).await.unwrap();
        store.update("/registry/a/c/x", Bytes::from_static(b"2"), revision, None).await.unwrap();
        store.range(RangeRequest::prefix("/registry/a/".to_owned())).await.unwrap();
        store.current_revision().await.unwrap();
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        for operation in ["create", "get", "update", "range", "current_revision"] {
            assert!(
                text.contains(&format!("kubeplex_store_request_duration_seconds_count{{operation=\"{operation}\"}}")),
                "{operation}: {text}"
            );
        }
        assert!(text.contains("kubeplex_store_request_duration_seconds_count{operation=\"create\"} 2\n"), "{text}");
        assert!(!text.contains("kubeplex_store_request_errors_total{"), "AlreadyExists is no fault: {text}");
    }
}
