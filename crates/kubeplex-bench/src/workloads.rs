//! The store workloads: each drives a `dyn Store` for a while, timing every
//! operation and counting every failure, and checks what it got back (a
//! wrong or missing answer is an error like a failed call).
//!
//! ```text
//!   sequential_create   1 task:  create /…/seq/<n>          until the deadline
//!   concurrent_create   W tasks: create /…/concurrent/<w>/<n>, then count them
//!   preload             W tasks: create /…/range/<n> for n < K  (untimed setup)
//!   random_get          R tasks: get /…/range/<random n < K>
//!   range               1 task:  range /…/range/  (all K keys, one page)
//!   watch               M watchers on /…/watch/ ◄── writers paced at E events/s,
//!                       each value carrying its send time; latency = receive − send
//! ```
//!
//! Keys live under `/registry/bench/<run>/`, so runs never collide, even on an
//! etcd that is reused between runs.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use kubeplex_store::{Event, RangeRequest, Store, StoreError, WatchStream};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::stats::Histogram;
use crate::table::group_thousands;

/// The sizes and durations of the workloads.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadParams {
    /// How long each timed workload (all but watch) runs.
    pub duration: Duration,
    /// Concurrent writers of the concurrent-create workload (and the preload).
    pub writers: usize,
    /// Concurrent readers of the random-get workload.
    pub readers: usize,
    /// Bytes per value.
    pub value_size: usize,
    /// Keys under the ranged prefix (also the keys random gets pick from).
    pub range_keys: usize,
    /// Watchers on the watched prefix.
    pub watchers: usize,
    /// Events written per second while watched.
    pub watch_rate: u32,
    /// How long events are written while watched.
    pub watch_duration: Duration,
    /// Tasks sharing the paced writes (enough to keep the pace when one
    /// write takes longer than the interval between writes).
    pub watch_writers: usize,
    /// How long watchers may take to catch up once the writes are done.
    pub drain_timeout: Duration,
    /// An operation taking longer than this counts as failed.
    pub op_timeout: Duration,
}

impl Default for WorkloadParams {
    fn default() -> Self {
        WorkloadParams {
            duration: Duration::from_secs(5),
            writers: 64,
            readers: 8,
            value_size: 1024,
            range_keys: 10_000,
            watchers: 100,
            watch_rate: 1000,
            watch_duration: Duration::from_secs(5),
            watch_writers: 16,
            drain_timeout: Duration::from_secs(10),
            op_timeout: Duration::from_secs(10),
        }
    }
}

/// The workloads, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Workload {
    SequentialCreate,
    ConcurrentCreate,
    RandomGet,
    Range,
    Watch,
}

impl Workload {
    /// Every workload, in the order they run.
    pub const ALL: [Workload; 5] =
        [Workload::SequentialCreate, Workload::ConcurrentCreate, Workload::RandomGet, Workload::Range, Workload::Watch];

    /// A short stable name (used in progress messages).
    pub fn name(self) -> &'static str {
        match self {
            Workload::SequentialCreate => "sequential-create",
            Workload::ConcurrentCreate => "concurrent-create",
            Workload::RandomGet => "random-get",
            Workload::Range => "range",
            Workload::Watch => "watch",
        }
    }

    /// The table's description of the workload with these parameters.
    pub fn label(self, p: &WorkloadParams) -> String {
        let kib = if p.value_size.is_multiple_of(1024) {
            format!("{} KiB", p.value_size / 1024)
        } else {
            format!("{} B", p.value_size)
        };
        match self {
            Workload::SequentialCreate => format!("create, 1 writer ({kib})"),
            Workload::ConcurrentCreate => format!("create, {} writers ({kib})", p.writers),
            Workload::RandomGet => format!("get random key, {} readers", p.readers),
            Workload::Range => format!("range {} keys", group_thousands(p.range_keys as u64)),
            Workload::Watch => {
                format!("watch: {} watchers, {} ev/s", p.watchers, group_thousands(u64::from(p.watch_rate)))
            }
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one workload measured on one backend.
#[derive(Clone, Debug)]
pub struct WorkloadResult {
    /// Operations that succeeded (for watch: events delivered to watchers).
    pub ops: u64,
    /// Operations that failed or returned a wrong answer, events missed,
    /// duplicated or out of order.
    pub errors: u64,
    /// The time over which `ops` were done.
    pub elapsed: Duration,
    /// Latency of each successful operation (for watch: send to receipt).
    pub latency: Histogram,
    /// The first failure, to say what went wrong.
    pub first_error: Option<String>,
    /// Further facts about the run (counts, achieved rates).
    pub detail: String,
}

impl WorkloadResult {
    /// Successful operations per second.
    pub fn ops_per_sec(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 { self.ops as f64 / secs } else { 0.0 }
    }
}

/// A store and where in it a run keeps its keys.
#[derive(Clone, Debug)]
pub struct BenchStore {
    pub store: Arc<dyn Store>,
    /// `/registry/bench/<run>/`.
    pub prefix: String,
}

/// Successes, latencies and failures collected by one task.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    pub(crate) latency: Histogram,
    pub(crate) ok: u64,
    pub(crate) errors: u64,
    pub(crate) first_error: Option<String>,
}

impl Recorder {
    pub(crate) fn ok(&mut self, latency: Duration) {
        self.ok += 1;
        self.latency.record(latency);
    }

    pub(crate) fn error(&mut self, what: impl fmt::Display) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(what.to_string());
        }
    }

    /// Counts `n` failures described by `what`.
    pub(crate) fn fail_many(&mut self, n: u64, what: impl fmt::Display) {
        if n > 0 {
            self.error(what);
            self.errors += n - 1;
        }
    }

    pub(crate) fn merge(&mut self, other: Recorder) {
        self.latency.merge(&other.latency);
        self.ok += other.ok;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    pub(crate) fn finish(self, elapsed: Duration, detail: String) -> WorkloadResult {
        WorkloadResult {
            ops: self.ok,
            errors: self.errors,
            elapsed,
            latency: self.latency,
            first_error: self.first_error,
            detail,
        }
    }
}

/// Runs `op`, failing it after `limit`; returns how long it took.
async fn timed<T>(limit: Duration, op: impl Future<Output = Result<T, StoreError>>) -> (Duration, Result<T, String>) {
    let start = Instant::now();
    let result = match tokio::time::timeout(limit, op).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("timed out after {limit:?}")),
    };
    (start.elapsed(), result)
}

/// A value of `size` bytes of printable filler.
fn filler(size: usize) -> Bytes {
    Bytes::from((0..size).map(|i| b'a' + (i % 26) as u8).collect::<Vec<u8>>())
}

/// Counts the keys under `prefix` with a one-key page, returning an error
/// message when the count is not `expected`.
async fn check_count(b: &BenchStore, prefix: &str, expected: u64, limit: Duration) -> Result<(), (u64, String)> {
    let request = RangeRequest { limit: Some(1), ..RangeRequest::prefix(prefix) };
    match timed(limit, b.store.range(request)).await.1 {
        Ok(page) => {
            let found = page.kvs.len() as u64 + page.remaining;
            if found == expected {
                Ok(())
            } else {
                Err((
                    found.abs_diff(expected),
                    format!("{found} keys under {prefix} after {expected} acknowledged creates"),
                ))
            }
        }
        Err(e) => Err((1, format!("counting keys under {prefix}: {e}"))),
    }
}

/// Creates keys under `prefix` one at a time, each waiting for the last.
pub async fn sequential_create(b: &BenchStore, p: &WorkloadParams) -> WorkloadResult {
    let prefix = format!("{}seq/", b.prefix);
    let value = filler(p.value_size);
    let mut rec = Recorder::default();
    let start = Instant::now();
    let deadline = start + p.duration;
    let mut last_revision = 0;
    let mut n = 0u64;
    while Instant::now() < deadline {
        let key = format!("{prefix}{n:08}");
        n += 1;
        match timed(p.op_timeout, b.store.create(&key, value.clone(), None)).await {
            (took, Ok(revision)) if revision > last_revision => {
                last_revision = revision;
                rec.ok(took);
            }
            (_, Ok(revision)) => rec.error(format!("create {key} returned revision {revision} after {last_revision}")),
            (_, Err(e)) => rec.error(format!("create {key}: {e}")),
        }
    }
    let elapsed = start.elapsed();
    if let Err((n, what)) = check_count(b, &prefix, rec.ok, p.op_timeout).await {
        rec.fail_many(n, what);
    }
    let detail = format!("{} creates", group_thousands(rec.ok));
    rec.finish(elapsed, detail)
}

/// `p.writers` tasks each creating keys one after another until the deadline.
pub async fn concurrent_create(b: &BenchStore, p: &WorkloadParams) -> WorkloadResult {
    let prefix = format!("{}concurrent/", b.prefix);
    let value = filler(p.value_size);
    let start = Instant::now();
    let deadline = start + p.duration;
    let tasks: Vec<_> = (0..p.writers)
        .map(|w| {
            let (store, value, limit) = (b.store.clone(), value.clone(), p.op_timeout);
            let prefix = format!("{prefix}{w:03}/");
            tokio::spawn(async move {
                let mut rec = Recorder::default();
                let mut last_revision = 0;
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let key = format!("{prefix}{n:08}");
                    n += 1;
                    match timed(limit, store.create(&key, value.clone(), None)).await {
                        (took, Ok(revision)) if revision > last_revision => {
                            last_revision = revision;
                            rec.ok(took);
                        }
                        (_, Ok(revision)) => {
                            rec.error(format!("create {key} returned revision {revision} after {last_revision}"))
                        }
                        (_, Err(e)) => rec.error(format!("create {key}: {e}")),
                    }
                }
                rec
            })
        })
        .collect();
    let mut rec = join_all(tasks).await;
    let elapsed = start.elapsed();
    if let Err((n, what)) = check_count(b, &prefix, rec.ok, p.op_timeout).await {
        rec.fail_many(n, what);
    }
    let detail = format!("{} creates", group_thousands(rec.ok));
    rec.finish(elapsed, detail)
}

/// Joins recorder tasks, counting a task that panicked as one error.
pub(crate) async fn join_all(tasks: Vec<tokio::task::JoinHandle<Recorder>>) -> Recorder {
    let mut total = Recorder::default();
    for task in tasks {
        match task.await {
            Ok(rec) => total.merge(rec),
            Err(e) => total.error(format!("workload task failed: {e}")),
        }
    }
    total
}

/// The prefix the preload fills and the get and range workloads read.
pub fn range_prefix(b: &BenchStore) -> String {
    format!("{}range/", b.prefix)
}

fn range_key(prefix: &str, n: usize) -> String {
    format!("{prefix}{n:08}")
}

/// Creates the `p.range_keys` keys the get and range workloads read, with
/// `p.writers` concurrent writers (untimed setup; failures are reported).
pub async fn preload(b: &BenchStore, p: &WorkloadParams) -> WorkloadResult {
    let prefix = range_prefix(b);
    let value = filler(p.value_size);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..p.writers.max(1))
        .map(|_| {
            let (store, value, next, prefix) = (b.store.clone(), value.clone(), next.clone(), prefix.clone());
            let (total, limit) = (p.range_keys, p.op_timeout);
            tokio::spawn(async move {
                let mut rec = Recorder::default();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        break rec;
                    }
                    let key = range_key(&prefix, n);
                    match timed(limit, store.create(&key, value.clone(), None)).await {
                        (took, Ok(_)) => rec.ok(took),
                        (_, Err(e)) => rec.error(format!("preload: create {key}: {e}")),
                    }
                }
            })
        })
        .collect();
    let rec = join_all(tasks).await;
    let elapsed = start.elapsed();
    let detail = format!("{} keys", group_thousands(rec.ok));
    rec.finish(elapsed, detail)
}

/// `p.readers` tasks getting random preloaded keys until the deadline,
/// checking that each is there with its value.
pub async fn random_get(b: &BenchStore, p: &WorkloadParams) -> WorkloadResult {
    let prefix = range_prefix(b);
    let start = Instant::now();
    let deadline = start + p.duration;
    let tasks: Vec<_> = (0..p.readers)
        .map(|r| {
            let (store, prefix) = (b.store.clone(), prefix.clone());
            let (keys, size, limit) = (p.range_keys.max(1), p.value_size, p.op_timeout);
            tokio::spawn(async move {
                let mut rec = Recorder::default();
                let mut rng = StdRng::seed_from_u64(0x6b75_6265 + r as u64);
                while Instant::now() < deadline {
                    let key = range_key(&prefix, rng.random_range(0..keys));
                    match timed(limit, store.get(&key, None)).await {
                        (took, Ok(Some(kv))) if kv.key == key && kv.value.len() == size => rec.ok(took),
                        (_, Ok(Some(kv))) => {
                            rec.error(format!("get {key}: got key {} with {} bytes", kv.key, kv.value.len()))
                        }
                        (_, Ok(None)) => rec.error(format!("get {key}: not found")),
                        (_, Err(e)) => rec.error(format!("get {key}: {e}")),
                    }
                }
                rec
            })
        })
        .collect();
    let rec = join_all(tasks).await;
    let elapsed = start.elapsed();
    let detail = format!("{} gets of {} keys", group_thousands(rec.ok), group_thousands(p.range_keys as u64));
    rec.finish(elapsed, detail)
}

/// Reads all preloaded keys in one range, again and again until the
/// deadline (at least once), checking count and order.
pub async fn range(b: &BenchStore, p: &WorkloadParams) -> WorkloadResult {
    let prefix = range_prefix(b);
    let mut rec = Recorder::default();
    let start = Instant::now();
    let deadline = start + p.duration;
    let mut bytes = 0usize;
    loop {
        match timed(p.op_timeout, b.store.range(RangeRequest::prefix(&prefix))).await {
            (took, Ok(page)) => {
                let sorted = page.kvs.windows(2).all(|w| w[0].key < w[1].key);
                if page.kvs.len() != p.range_keys || page.remaining != 0 || !sorted {
                    rec.error(format!(
                        "range {prefix}: {} keys ({}), {} remaining; want {} keys in order",
                        page.kvs.len(),
                        if sorted { "in order" } else { "out of order" },
                        page.remaining,
                        p.range_keys
                    ));
                } else {
                    bytes = page.kvs.iter().map(|kv| kv.key.len() + kv.value.len()).sum();
                    rec.ok(took);
                }
            }
            (_, Err(e)) => rec.error(format!("range {prefix}: {e}")),
        }
        if Instant::now() >= deadline {
            break;
        }
    }
    let elapsed = start.elapsed();
    let detail = format!("{} ranges of {:.1} MiB", group_thousands(rec.ok), bytes as f64 / (1024.0 * 1024.0));
    rec.finish(elapsed, detail)
}

/// What one watcher saw.
#[derive(Debug)]
struct WatcherOutcome {
    rec: Recorder,
    /// Which event numbers arrived.
    seen: Vec<bool>,
}

/// A watch value: the send time (nanoseconds after `base`) in its first
/// eight bytes, little-endian, then filler.
fn stamped_value(base: Instant, size: usize) -> Bytes {
    let nanos = u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX);
    let mut value = Vec::with_capacity(size.max(8));
    value.extend_from_slice(&nanos.to_le_bytes());
    value.extend((8..size).map(|i| b'a' + (i % 26) as u8));
    Bytes::from(value)
}

/// The send time stamped into a watch value.
fn stamp_of(base: Instant, value: &[u8]) -> Option<Instant> {
    let nanos = u64::from_le_bytes(value.get(..8)?.try_into().ok()?);
    base.checked_add(Duration::from_nanos(nanos))
}

/// Follows one watch stream, checking each event is a create of a fresh
/// event number in revision order, until stopped or the stream ends.
async fn run_watcher(
    mut stream: WatchStream,
    prefix: String,
    base: Instant,
    events: usize,
    received: Arc<AtomicUsize>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> WatcherOutcome {
    let mut rec = Recorder::default();
    let mut seen = vec![false; events];
    let mut last_revision = 0;
    loop {
        let item = tokio::select! {
            biased;
            item = stream.next() => item,
            _ = stop.changed() => break,
        };
        let now = Instant::now();
        let event = match item {
            Some(Ok(event)) => event,
            Some(Err(e)) => {
                rec.error(format!("watch {prefix} ended: {e}"));
                break;
            }
            None => {
                rec.error(format!("watch {prefix} ended without an error"));
                break;
            }
        };
        let revision = event.revision();
        if revision <= last_revision {
            rec.error(format!("watch {prefix}: revision {revision} after {last_revision}"));
        }
        last_revision = last_revision.max(revision);
        let Event::Put { kv, prev } = event else {
            rec.error(format!("watch {prefix}: unexpected delete of {}", event.key()));
            continue;
        };
        let number = kv.key.strip_prefix(&prefix).and_then(|n| n.parse::<usize>().ok()).filter(|&n| n < events);
        let Some(number) = number else {
            rec.error(format!("watch {prefix}: unexpected key {}", kv.key));
            continue;
        };
        if prev.is_some() {
            rec.error(format!("watch {prefix}: create of {} carries a previous value", kv.key));
        }
        if seen[number] {
            rec.error(format!("watch {prefix}: {} delivered twice", kv.key));
            continue;
        }
        seen[number] = true;
        received.fetch_add(1, Ordering::Relaxed);
        match stamp_of(base, &kv.value) {
            Some(sent) => rec.ok(now.saturating_duration_since(sent)),
            None => rec.error(format!("watch {prefix}: {} has no send time", kv.key)),
        }
    }
    WatcherOutcome { rec, seen }
}

/// `p.watchers` watchers on one prefix while paced writers create
/// `p.watch_rate` keys per second for `p.watch_duration`; measures each
/// delivery's latency from just before the write was sent.
pub async fn watch(b: &BenchStore, p: &WorkloadParams) -> WorkloadResult {
    let prefix = format!("{}watch/", b.prefix);
    let rate = p.watch_rate.max(1);
    let events = ((p.watch_duration.as_secs_f64() * f64::from(rate)).round() as usize).max(1);
    let base = Instant::now();
    let mut rec = Recorder::default();

    let after = match timed(p.op_timeout, b.store.current_revision()).await.1 {
        Ok(revision) => revision,
        Err(e) => {
            rec.error(format!("current_revision: {e}"));
            return rec.finish(Duration::ZERO, String::new());
        }
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut watchers = Vec::with_capacity(p.watchers);
    let mut counters = Vec::with_capacity(p.watchers);
    for _ in 0..p.watchers {
        match timed(p.op_timeout, b.store.watch(&prefix, after)).await.1 {
            Ok(stream) => {
                let received = Arc::new(AtomicUsize::new(0));
                counters.push(received.clone());
                let task = run_watcher(stream, prefix.clone(), base, events, received, stop_rx.clone());
                watchers.push(tokio::spawn(task));
            }
            Err(e) => rec.error(format!("watch {prefix} from {after}: {e}")),
        }
    }
    // Let the watches settle (an etcd watch is set up asynchronously), so
    // what is measured is steady-state delivery.
    tokio::time::sleep(Duration::from_millis(250)).await;

    // Event n is due at t0 + n/rate; writers take the next number, wait for
    // its time, stamp it and write it.
    let period = Duration::from_secs_f64(1.0 / f64::from(rate));
    let t0 = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..p.watch_writers.max(1))
        .map(|_| {
            let (store, next, prefix) = (b.store.clone(), next.clone(), prefix.clone());
            let (size, limit) = (p.value_size, p.op_timeout);
            tokio::spawn(async move {
                let mut rec = Recorder::default();
                let mut written = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= events {
                        break;
                    }
                    tokio::time::sleep_until((t0 + period * n as u32).into()).await;
                    let key = range_key(&prefix, n);
                    let value = stamped_value(base, size);
                    match timed(limit, store.create(&key, value, None)).await {
                        (took, Ok(_)) => {
                            rec.ok(took);
                            written.push(n);
                        }
                        (_, Err(e)) => rec.error(format!("create {key}: {e}")),
                    }
                }
                (rec, written)
            })
        })
        .collect();
    let mut writes = Recorder::default();
    let mut written = Vec::new();
    for task in writers {
        match task.await {
            Ok((r, w)) => {
                writes.merge(r);
                written.extend(w);
            }
            Err(e) => writes.error(format!("watch writer failed: {e}")),
        }
    }
    let write_elapsed = t0.elapsed();

    // Wait for every watcher to have every acknowledged event (or give up).
    let drain_deadline = Instant::now() + p.drain_timeout;
    while counters.iter().any(|c| c.load(Ordering::Relaxed) < written.len()) && Instant::now() < drain_deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let delivery_elapsed = t0.elapsed();
    let _ = stop_tx.send(true);

    let mut missing = 0u64;
    let mut latency = Recorder::default();
    for task in watchers {
        match task.await {
            Ok(outcome) => {
                missing += written.iter().filter(|&&n| !outcome.seen[n]).count() as u64;
                latency.merge(outcome.rec);
            }
            Err(e) => latency.error(format!("watcher failed: {e}")),
        }
    }
    let write_p99 = writes.latency.percentile(0.99).map(crate::table::format_ms).unwrap_or_else(|| "-".into());
    let achieved = written.len() as f64 / write_elapsed.as_secs_f64().max(f64::MIN_POSITIVE);
    let detail = format!(
        "{} events at {:.0}/s to {} watchers, write p99 {write_p99}",
        group_thousands(written.len() as u64),
        achieved,
        counters.len()
    );
    // The latencies are the deliveries'; failures are everyone's.
    rec.merge(latency);
    rec.errors += writes.errors;
    if rec.first_error.is_none() {
        rec.first_error = writes.first_error;
    }
    rec.fail_many(missing, format!("{missing} acknowledged events never reached their watchers"));
    rec.finish(delivery_elapsed, detail)
}

/// Runs `workload` (for the get and range workloads the preload must have
/// run first).
pub async fn run(workload: Workload, b: &BenchStore, p: &WorkloadParams) -> WorkloadResult {
    match workload {
        Workload::SequentialCreate => sequential_create(b, p).await,
        Workload::ConcurrentCreate => concurrent_create(b, p).await,
        Workload::RandomGet => random_get(b, p).await,
        Workload::Range => range(b, p).await,
        Workload::Watch => watch(b, p).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_round_trip() {
        let base = Instant::now();
        let value = stamped_value(base, 1024);
        assert_eq!(value.len(), 1024);
        let sent = stamp_of(base, &value).expect("stamped");
        assert!(sent >= base && sent <= Instant::now());
        assert_eq!(stamp_of(base, b"short"), None);
    }

    #[test]
    fn labels() {
        let p = WorkloadParams::default();
        assert_eq!(Workload::ConcurrentCreate.label(&p), "create, 64 writers (1 KiB)");
        assert_eq!(Workload::Range.label(&p), "range 10,000 keys");
        assert_eq!(Workload::Watch.label(&p), "watch: 100 watchers, 1,000 ev/s");
    }
}
