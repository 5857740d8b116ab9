//! What the contract cases share: unique prefixes, a [`Recorder`] that
//! performs writes and remembers the events a watch must deliver, the state
//! those events imply at any revision, and watch helpers that give up after a
//! generous timeout so a bug fails a test instead of hanging it.
//!
//! ```text
//!   Recorder ── create/update/delete ──► Store
//!      │  (acknowledged results only)
//!      ▼
//!   expected events ──► expect_events(watch stream)
//!                   └─► state_at(revision) ──► compare with get/range
//! ```

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use bytes::Bytes;
use futures::StreamExt;
use kubeplex_store::{Event, KeyValue, RangeRequest, Revision, Store, WatchStream};

/// How long a watch may stay silent while an event is still expected. Only a
/// guard against hangs: nothing is asserted about how fast events arrive.
pub const WATCH_TIMEOUT: Duration = Duration::from_secs(20);

/// A prefix no other case (or earlier run against the same server) uses.
pub fn unique_prefix(case: &str) -> String {
    format!("/contract/{case}-{:016x}/", rand::random::<u64>())
}

/// Fails unless `$result` is an `Err` matching the pattern; yields the error.
macro_rules! expect_err {
    ($result:expr, $pattern:pat $(if $guard:expr)? $(,)?) => {{
        match $result {
            Ok(value) => ::anyhow::bail!(
                "{}: expected an error matching `{}`, got Ok({:?})",
                stringify!($result),
                stringify!($pattern $(if $guard)?),
                value
            ),
            Err(err) => {
                if !matches!(&err, $pattern $(if $guard)?) {
                    ::anyhow::bail!(
                        "{}: expected an error matching `{}`, got {:?} ({})",
                        stringify!($result),
                        stringify!($pattern $(if $guard)?),
                        err,
                        err
                    );
                }
                err
            }
        }
    }};
}
pub(crate) use expect_err;

/// A key/value version as the store should report it.
pub fn kv(key: &str, value: impl Into<Bytes>, create_revision: Revision, mod_revision: Revision) -> KeyValue {
    KeyValue { key: key.to_owned(), value: value.into(), create_revision, mod_revision }
}

/// Performs writes on keys it owns and records, from the acknowledged
/// results alone, the version each key has and the event each write must
/// produce. Several recorders may write concurrently on disjoint keys.
#[derive(Debug)]
pub struct Recorder {
    store: Arc<dyn Store>,
    /// The events of this recorder's writes, in the order they were made.
    pub events: Vec<Event>,
    /// The latest version of every key this recorder has and that exists.
    pub latest: BTreeMap<String, KeyValue>,
}

impl Recorder {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Recorder { store, events: Vec::new(), latest: BTreeMap::new() }
    }

    /// The revision of this recorder's last write (0 before any).
    pub fn last_revision(&self) -> Revision {
        self.events.last().map_or(0, Event::revision)
    }

    fn check_increasing(&self, op: &str, key: &str, revision: Revision) -> Result<()> {
        let last = self.last_revision();
        ensure!(
            revision > last,
            "{op} {key:?} returned revision {revision}, not after this writer's previous write at {last}"
        );
        Ok(())
    }

    /// Creates `key` (which must not exist).
    pub async fn create(&mut self, key: &str, value: impl Into<Bytes>) -> Result<Revision> {
        ensure!(!self.latest.contains_key(key), "test bug: {key:?} already exists");
        let value = value.into();
        let revision = self.store.create(key, value.clone(), None).await.with_context(|| format!("create {key:?}"))?;
        self.check_increasing("create", key, revision)?;
        let kv = kv(key, value, revision, revision);
        self.latest.insert(key.to_owned(), kv.clone());
        self.events.push(Event::Put { kv, prev: None });
        Ok(revision)
    }

    /// Updates `key` (which must exist) at its known revision.
    pub async fn update(&mut self, key: &str, value: impl Into<Bytes>) -> Result<Revision> {
        let Some(prev) = self.latest.get(key).cloned() else { bail!("test bug: {key:?} does not exist") };
        let value = value.into();
        let revision = self
            .store
            .update(key, value.clone(), prev.mod_revision, None)
            .await
            .with_context(|| format!("update {key:?} at revision {}", prev.mod_revision))?;
        self.check_increasing("update", key, revision)?;
        let kv = kv(key, value, prev.create_revision, revision);
        self.latest.insert(key.to_owned(), kv.clone());
        self.events.push(Event::Put { kv, prev: Some(prev) });
        Ok(revision)
    }

    /// Deletes `key` (which must exist) at its known revision, checking that
    /// the store returns the deleted version.
    pub async fn delete(&mut self, key: &str) -> Result<Revision> {
        self.delete_checked(key, true).await
    }

    /// Deletes `key` (which must exist) without a revision precondition.
    pub async fn delete_unconditionally(&mut self, key: &str) -> Result<Revision> {
        self.delete_checked(key, false).await
    }

    async fn delete_checked(&mut self, key: &str, with_precondition: bool) -> Result<Revision> {
        let Some(prev) = self.latest.remove(key) else { bail!("test bug: {key:?} does not exist") };
        let expected = with_precondition.then_some(prev.mod_revision);
        let (revision, deleted) = self
            .store
            .delete(key, expected)
            .await
            .with_context(|| format!("delete {key:?} (precondition {expected:?})"))?;
        self.check_increasing("delete", key, revision)?;
        ensure!(
            deleted == prev,
            "delete {key:?} returned {}, expected the deleted version {}",
            show_kv(&deleted),
            show_kv(&prev)
        );
        self.events.push(Event::Delete { key: key.to_owned(), revision, prev });
        Ok(revision)
    }
}

/// The events of several writers, in revision order, checking that no two
/// writes were given the same revision.
pub fn merge_events<'a>(recorders: impl IntoIterator<Item = &'a Recorder>) -> Result<Vec<Event>> {
    let mut events: Vec<Event> = recorders.into_iter().flat_map(|r| r.events.iter().cloned()).collect();
    events.sort_by_key(Event::revision);
    let mut seen = HashSet::new();
    for event in &events {
        ensure!(seen.insert(event.revision()), "two acknowledged writes got revision {}", event.revision());
    }
    Ok(events)
}

/// The keys that exist as of `revision`, according to `events` (in revision
/// order, starting from an empty prefix).
pub fn state_at(events: &[Event], revision: Revision) -> BTreeMap<String, KeyValue> {
    let mut state = BTreeMap::new();
    for event in events.iter().take_while(|e| e.revision() <= revision) {
        match event {
            Event::Put { kv, .. } => {
                state.insert(kv.key.clone(), kv.clone());
            }
            Event::Delete { key, .. } => {
                state.remove(key);
            }
        }
    }
    state
}

/// The events after `revision`.
pub fn events_after(events: &[Event], revision: Revision) -> Vec<Event> {
    events.iter().filter(|e| e.revision() > revision).cloned().collect()
}

/// Reads every key under `prefix` at `revision`, `page` keys at a time,
/// checking the bookkeeping of each page; returns the keys and the revision
/// read.
pub async fn range_all(
    store: &dyn Store,
    prefix: &str,
    revision: Option<Revision>,
    page: usize,
) -> Result<(Vec<KeyValue>, Revision)> {
    let mut kvs: Vec<KeyValue> = Vec::new();
    let mut at = revision;
    let mut left: Option<u64> = None;
    loop {
        let req = RangeRequest {
            prefix: prefix.to_owned(),
            revision: at,
            start_after: kvs.last().map(|kv| kv.key.clone()),
            limit: Some(page),
        };
        let res = store.range(req.clone()).await.with_context(|| format!("{req:?}"))?;
        if let Some(r) = at {
            ensure!(res.revision == r, "{req:?} answered at revision {} instead", res.revision);
        }
        ensure!(res.kvs.len() <= page, "{req:?} returned {} keys", res.kvs.len());
        if let Some(left) = left {
            ensure!(
                res.remaining + res.kvs.len() as u64 == left,
                "{req:?}: {} keys and {} remaining, but the previous page said {left} remained",
                res.kvs.len(),
                res.remaining
            );
        }
        ensure!(res.more() || res.remaining == 0, "more() disagrees with remaining");
        ensure!(!res.kvs.is_empty() || res.remaining == 0, "{req:?}: an empty page with {} remaining", res.remaining);
        at = Some(res.revision);
        left = Some(res.remaining);
        kvs.extend(res.kvs);
        if res.remaining == 0 {
            return Ok((kvs, res.revision));
        }
    }
}

/// Fails with both listings when `got` and `expected` differ.
pub fn ensure_same_kvs(got: &[KeyValue], expected: &[KeyValue], what: &str) -> Result<()> {
    if got == expected {
        return Ok(());
    }
    let mut msg = format!("{what}: got {} keys, expected {}", got.len(), expected.len());
    let first = got.iter().zip(expected).position(|(g, e)| g != e).unwrap_or(got.len().min(expected.len()));
    let _ = write!(msg, "; first difference at index {first}:");
    let _ = write!(msg, "\n  got:      {}", got.get(first).map_or("(nothing)".into(), show_kv));
    let _ = write!(msg, "\n  expected: {}", expected.get(first).map_or("(nothing)".into(), show_kv));
    bail!(msg)
}

/// Opens a watch, failing instead of waiting forever.
pub async fn open_watch(store: &dyn Store, prefix: &str, after: Revision) -> Result<WatchStream> {
    match tokio::time::timeout(WATCH_TIMEOUT, store.watch(prefix, after)).await {
        Ok(res) => res.with_context(|| format!("watch {prefix:?} after {after}")),
        Err(_) => bail!("watch {prefix:?} after {after} did not return within {WATCH_TIMEOUT:?}"),
    }
}

/// The next event, failing if the stream ends, errs, or stays silent.
pub async fn next_event(stream: &mut WatchStream, waiting_for: &str) -> Result<Event> {
    match tokio::time::timeout(WATCH_TIMEOUT, stream.next()).await {
        Err(_) => bail!("watch delivered nothing within {WATCH_TIMEOUT:?} while waiting for {waiting_for}"),
        Ok(None) => bail!("watch stream ended while waiting for {waiting_for}"),
        Ok(Some(Err(e))) => bail!("watch stream failed while waiting for {waiting_for}: {e}"),
        Ok(Some(Ok(event))) => Ok(event),
    }
}

/// Receives exactly `expected`, in order (more events may follow).
pub async fn expect_events(stream: &mut WatchStream, expected: &[Event], label: &str) -> Result<()> {
    for (i, want) in expected.iter().enumerate() {
        let n = expected.len();
        let got = next_event(stream, &format!("{label}: event {}/{n} ({})", i + 1, show_event(want))).await?;
        ensure!(
            &got == want,
            "{label}: event {}/{n} differs\n  got:      {}\n  expected: {}",
            i + 1,
            show_event(&got),
            show_event(want)
        );
    }
    Ok(())
}

/// A short description of a version (long values are summarised).
pub fn show_kv(kv: &KeyValue) -> String {
    format!("{:?} = {} (created {}, modified {})", kv.key, show_value(&kv.value), kv.create_revision, kv.mod_revision)
}

/// A short description of an event.
pub fn show_event(event: &Event) -> String {
    match event {
        Event::Put { kv, prev } => {
            format!("put@{} {} prev {}", kv.mod_revision, show_kv(kv), prev.as_ref().map_or("none".into(), show_kv))
        }
        Event::Delete { key, revision, prev } => format!("delete@{revision} {key:?} prev {}", show_kv(prev)),
    }
}

fn show_value(value: &[u8]) -> String {
    if value.len() <= 48 {
        format!("{:?}", String::from_utf8_lossy(value))
    } else {
        let sum = value.iter().fold(0u64, |acc, b| acc.wrapping_mul(31).wrapping_add(u64::from(*b)));
        format!("<{} bytes, checksum {sum:016x}>", value.len())
    }
}
