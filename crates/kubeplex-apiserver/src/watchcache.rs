//! The watch cache: per storage resource, one store watch feeding every
//! watcher of every logical cluster.
//!
//! ```text
//!  store.watch("/registry/<storage>/") ──► ingest task ──► objects (BTreeMap key → object)
//!                                              │           window of recent events
//!                                              ▼
//!                    watchers indexed by (cluster, namespace): an event costs
//!                    only the watchers of its own cluster and namespace
//! ```
//!
//! Objects are held once, as shared JSON bytes with their resourceVersion
//! already set, so fan-out never re-encodes. A watcher's queue is bounded:
//! one that stops reading is dropped (its watch ends; clients re-watch from
//! their last resourceVersion) and never slows the others. Caches are made
//! on first use, one per storage resource, never one per logical cluster.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::StreamExt;
use kubeplex_core::status::ApiError;
use kubeplex_store::{Event, RangeRequest, Revision, Store, StoreError};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::crud::store_error;
use crate::objects;

/// Events kept for watches that resume from a past resourceVersion.
const WINDOW_EVENTS: usize = 50_000;
/// Events a watcher may have queued before it is dropped as too slow.
const WATCHER_QUEUE: usize = 1_024;

/// One object as cached: its JSON (with resourceVersion) and what
/// selectors need.
#[derive(Debug)]
pub struct CachedObject {
    pub key: String,
    pub revision: Revision,
    pub json: Bytes,
    pub labels: BTreeMap<String, String>,
}

impl CachedObject {
    /// The object stored as `stored` at `revision`.
    fn new(key: String, revision: Revision, stored: &[u8]) -> Result<Self, ApiError> {
        let (json, labels) = objects::served_bytes(stored, revision)?;
        Ok(CachedObject { key, revision, json, labels })
    }

    /// The object, parsed.
    pub fn value(&self) -> Result<Value, ApiError> {
        serde_json::from_slice(&self.json).map_err(|e| ApiError::internal(format!("cached object: {e}")))
    }
}

/// What happened to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// A change as the cache delivers it. For a deletion, `object` is the last
/// state with the deletion's resourceVersion.
#[derive(Debug)]
pub struct CachedEvent {
    pub revision: Revision,
    pub kind: EventType,
    pub object: Arc<CachedObject>,
    /// The state before (for selectors: an object leaving a selection).
    pub prev: Option<Arc<CachedObject>>,
}

/// Which objects a list or watch is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Scope {
    pub cluster: String,
    pub namespace: Option<String>,
}

type Sender = mpsc::Sender<Arc<CachedEvent>>;

#[derive(Debug, Default)]
struct State {
    objects: BTreeMap<String, Arc<CachedObject>>,
    /// Every event up to this revision is applied.
    revision: Revision,
    window: VecDeque<Arc<CachedEvent>>,
    /// The window holds every event after this revision.
    window_start: Revision,
    watchers: HashMap<Scope, Vec<Sender>>,
    /// In-process subscribers to every cluster's events (the controllers),
    /// never dropped for being slow.
    everything: Vec<mpsc::UnboundedSender<Arc<CachedEvent>>>,
    /// Set when the cache can no longer follow the store.
    failed: Option<String>,
}

/// The cache of one storage resource.
#[derive(Debug)]
pub struct WatchCache {
    prefix: String,
    /// The ingest task, stopped when the cache is dropped.
    ingest: std::sync::OnceLock<tokio::task::AbortHandle>,
    state: Mutex<State>,
}

/// A watch on the cache: events after the revision it started from.
#[derive(Debug)]
pub struct CacheWatch {
    /// Events from the window, then live ones.
    pub replay: Vec<Arc<CachedEvent>>,
    pub live: mpsc::Receiver<Arc<CachedEvent>>,
}

/// A point-in-time view of a scope.
#[derive(Debug)]
pub struct Snapshot {
    pub revision: Revision,
    pub objects: Vec<Arc<CachedObject>>,
}

impl WatchCache {
    /// Loads `/registry/<storage>/` and starts following the store.
    async fn start(store: Arc<dyn Store>, storage: &str) -> Result<Arc<Self>, ApiError> {
        let prefix = format!("/registry/{storage}/");
        let page = store.range(RangeRequest::prefix(prefix.clone())).await.map_err(store_error)?;
        let mut objects = BTreeMap::new();
        for kv in &page.kvs {
            objects.insert(kv.key.clone(), Arc::new(CachedObject::new(kv.key.clone(), kv.mod_revision, &kv.value)?));
        }
        let events = store.watch(&prefix, page.revision).await.map_err(store_error)?;
        let cache = Arc::new(WatchCache {
            prefix,
            ingest: std::sync::OnceLock::new(),
            state: Mutex::new(State {
                objects,
                revision: page.revision,
                window_start: page.revision,
                ..Default::default()
            }),
        });
        let weak = Arc::downgrade(&cache);
        let task = tokio::spawn(async move {
            let mut events = events;
            while let Some(event) = events.next().await {
                let Some(cache) = weak.upgrade() else { return };
                match event {
                    Ok(event) => {
                        if let Err(e) = cache.apply(event) {
                            tracing::error!(prefix = %cache.prefix, error = %e, "watch cache cannot decode an event");
                        }
                    }
                    Err(e) => {
                        cache.fail(e);
                        return;
                    }
                }
            }
        });
        let _ = cache.ingest.set(task.abort_handle());
        Ok(cache)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The scope (cluster, namespace) of a key under this cache's prefix:
    /// `<cluster>/<namespace>/<name>` or `<cluster>/<name>`. (Read from the
    /// key, since a custom resource may be namespaced in one cluster and
    /// cluster-scoped in another.)
    fn scope_of(&self, key: &str) -> Option<Scope> {
        let rest = key.strip_prefix(&self.prefix)?;
        let parts: Vec<&str> = rest.split('/').collect();
        match parts.as_slice() {
            [cluster, namespace, _] => {
                Some(Scope { cluster: (*cluster).to_owned(), namespace: Some((*namespace).to_owned()) })
            }
            [cluster, _] => Some(Scope { cluster: (*cluster).to_owned(), namespace: None }),
            _ => None,
        }
    }

    fn apply(&self, event: Event) -> Result<(), ApiError> {
        let (cached, key) = match &event {
            Event::Put { kv, prev } => {
                let object = Arc::new(CachedObject::new(kv.key.clone(), kv.mod_revision, &kv.value)?);
                let kind = if prev.is_some() { EventType::Modified } else { EventType::Added };
                (CachedEvent { revision: kv.mod_revision, kind, object, prev: None }, kv.key.clone())
            }
            Event::Delete { key, revision, prev } => {
                let object = Arc::new(CachedObject::new(key.clone(), *revision, &prev.value)?);
                (CachedEvent { revision: *revision, kind: EventType::Deleted, object, prev: None }, key.clone())
            }
        };
        let scope = self.scope_of(&key);
        let mut state = self.lock();
        let prev = match cached.kind {
            EventType::Deleted => state.objects.remove(&key),
            _ => state.objects.insert(key, Arc::clone(&cached.object)),
        };
        let event = Arc::new(CachedEvent { prev, ..cached });
        state.revision = event.revision;
        state.window.push_back(Arc::clone(&event));
        while state.window.len() > WINDOW_EVENTS {
            if let Some(old) = state.window.pop_front() {
                state.window_start = old.revision;
            }
        }
        state.everything.retain(|s| s.send(Arc::clone(&event)).is_ok());
        if let Some(scope) = scope {
            let all_namespaces = Scope { cluster: scope.cluster.clone(), namespace: None };
            let namespaced = scope.namespace.is_some();
            for s in [Some(scope), namespaced.then_some(all_namespaces)].into_iter().flatten() {
                if let Some(watchers) = state.watchers.get_mut(&s) {
                    // A full queue means the watcher stopped reading: drop it.
                    watchers.retain(|w| w.try_send(Arc::clone(&event)).is_ok());
                    if watchers.is_empty() {
                        state.watchers.remove(&s);
                    }
                }
            }
        }
        Ok(())
    }

    fn fail(&self, err: StoreError) {
        tracing::warn!(prefix = %self.prefix, error = %err, "watch cache lost the store watch; its watches end");
        let mut state = self.lock();
        state.failed = Some(err.to_string());
        state.watchers.clear();
        state.everything.clear();
    }

    fn check(&self, state: &State) -> Result<(), ApiError> {
        match &state.failed {
            Some(why) => Err(ApiError::internal(format!("watch cache of {} stopped: {why}", self.prefix))),
            None => Ok(()),
        }
    }

    /// The cached object stored under `key`, if any.
    pub fn get(&self, key: &str) -> Option<Arc<CachedObject>> {
        self.lock().objects.get(key).cloned()
    }

    /// The objects of `scope` now, at the cache's revision.
    pub fn snapshot(&self, scope: &Scope) -> Result<Snapshot, ApiError> {
        let state = self.lock();
        self.check(&state)?;
        let prefix = self.scope_prefix(scope);
        let objects = state
            .objects
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(_, o)| Arc::clone(o))
            .collect();
        Ok(Snapshot { revision: state.revision, objects })
    }

    /// The current objects of `scope` and a watch of everything after them,
    /// taken atomically.
    pub fn snapshot_and_watch(&self, scope: &Scope) -> Result<(Snapshot, CacheWatch), ApiError> {
        let mut state = self.lock();
        self.check(&state)?;
        let prefix = self.scope_prefix(scope);
        let objects = state
            .objects
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(_, o)| Arc::clone(o))
            .collect();
        let (tx, rx) = mpsc::channel(WATCHER_QUEUE);
        state.watchers.entry(scope.clone()).or_default().push(tx);
        Ok((Snapshot { revision: state.revision, objects }, CacheWatch { replay: Vec::new(), live: rx }))
    }

    /// Every object of every logical cluster now, and every event after
    /// them, taken atomically: what the in-process controllers follow. The
    /// receiver is unbounded (a controller is never dropped for being slow)
    /// and ends when the cache stops following the store.
    pub fn subscribe_all(&self) -> Result<(Snapshot, mpsc::UnboundedReceiver<Arc<CachedEvent>>), ApiError> {
        let mut state = self.lock();
        self.check(&state)?;
        let objects = state.objects.values().cloned().collect();
        let (tx, rx) = mpsc::unbounded_channel();
        state.everything.push(tx);
        Ok((Snapshot { revision: state.revision, objects }, rx))
    }

    /// A watch of `scope` for events after `after`, or `None` when the
    /// window no longer reaches back that far (the caller then asks the
    /// store).
    pub fn watch_from(&self, scope: &Scope, after: Revision) -> Result<Option<CacheWatch>, ApiError> {
        let mut state = self.lock();
        self.check(&state)?;
        if after < state.window_start {
            return Ok(None);
        }
        let replay = state
            .window
            .iter()
            .filter(|e| e.revision > after && self.scope_of(&e.object.key).is_some_and(|s| self.in_scope(&s, scope)))
            .cloned()
            .collect();
        let (tx, rx) = mpsc::channel(WATCHER_QUEUE);
        state.watchers.entry(scope.clone()).or_default().push(tx);
        Ok(Some(CacheWatch { replay, live: rx }))
    }

    fn in_scope(&self, event_scope: &Scope, watch_scope: &Scope) -> bool {
        event_scope.cluster == watch_scope.cluster
            && (watch_scope.namespace.is_none() || event_scope.namespace == watch_scope.namespace)
    }

    fn scope_prefix(&self, scope: &Scope) -> String {
        match &scope.namespace {
            Some(ns) => format!("{}{}/{ns}/", self.prefix, scope.cluster),
            None => format!("{}{}/", self.prefix, scope.cluster),
        }
    }

    /// Watchers registered now (for tests and metrics).
    pub fn watcher_count(&self) -> usize {
        self.lock().watchers.values().map(Vec::len).sum()
    }

    /// What the cache holds now (for metrics).
    pub fn stats(&self) -> CacheStats {
        let state = self.lock();
        CacheStats {
            objects: state.objects.len(),
            events: state.window.len(),
            // Watchers whose client left are dropped at their next event.
            watchers: state.watchers.values().flatten().filter(|w| !w.is_closed()).count(),
            revision: state.revision,
        }
    }
}

/// The size of one watch cache, as [`WatchCache::stats`] reads it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub objects: usize,
    /// Events kept for watches that resume.
    pub events: usize,
    pub watchers: usize,
    pub revision: Revision,
}

impl Drop for WatchCache {
    fn drop(&mut self) {
        if let Some(task) = self.ingest.get() {
            task.abort();
        }
    }
}

/// Every watch cache of the server, made on first use.
#[derive(Debug)]
pub struct WatchCaches {
    store: Arc<dyn Store>,
    caches: tokio::sync::Mutex<HashMap<String, Arc<WatchCache>>>,
}

impl WatchCaches {
    pub fn new(store: Arc<dyn Store>) -> Self {
        WatchCaches { store, caches: tokio::sync::Mutex::new(HashMap::new()) }
    }

    /// The cache of `storage`, started if needed. A cache whose store watch
    /// broke is replaced.
    pub async fn get(&self, storage: &str) -> Result<Arc<WatchCache>, ApiError> {
        let mut caches = self.caches.lock().await;
        if let Some(cache) = caches.get(storage)
            && cache.lock().failed.is_none()
        {
            return Ok(Arc::clone(cache));
        }
        let cache = WatchCache::start(Arc::clone(&self.store), storage).await?;
        caches.insert(storage.to_owned(), Arc::clone(&cache));
        Ok(cache)
    }

    /// Drops the cache of `storage` (a custom resource no cluster serves
    /// any more); its store watch ends with it.
    pub async fn remove(&self, storage: &str) {
        self.caches.lock().await.remove(storage);
    }

    /// Every cache started so far, by storage resource (for metrics).
    pub async fn all(&self) -> Vec<(String, Arc<WatchCache>)> {
        self.caches.lock().await.iter().map(|(storage, cache)| (storage.clone(), Arc::clone(cache))).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use kubeplex_store::sqlite::{SqliteOptions, SqliteStore};
    use serde_json::json;

    use super::*;

    async fn store() -> (tempfile::TempDir, Arc<dyn Store>) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("s.db"), SqliteOptions::default()).unwrap();
        (dir, Arc::new(store))
    }

    async fn put(store: &Arc<dyn Store>, cluster: &str, ns: &str, name: &str) -> Revision {
        let object = json!({"metadata": {"name": name, "namespace": ns, "labels": {"app": name}}});
        store
            .create(&format!("/registry/configmaps/{cluster}/{ns}/{name}"), objects::encode(&object).unwrap(), None)
            .await
            .unwrap()
    }

    fn scope(cluster: &str, ns: Option<&str>) -> Scope {
        Scope { cluster: cluster.into(), namespace: ns.map(Into::into) }
    }

    async fn next(watch: &mut CacheWatch) -> Arc<CachedEvent> {
        tokio::time::timeout(Duration::from_secs(5), watch.live.recv())
            .await
            .expect("event in time")
            .expect("watch open")
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn events_reach_only_their_own_cluster_and_namespace() {
        let (_dir, store) = store().await;
        put(&store, "t1", "a", "before").await;
        let caches = WatchCaches::new(Arc::clone(&store));
        let cache = caches.get("configmaps").await.unwrap();
        let (snapshot, mut t1_a) = cache.snapshot_and_watch(&scope("t1", Some("a"))).unwrap();
        assert_eq!(snapshot.objects.len(), 1);
        assert_eq!(snapshot.objects[0].labels.get("app").map(String::as_str), Some("before"));
        let (_, mut t1_all) = cache.snapshot_and_watch(&scope("t1", None)).unwrap();
        let (_, mut t10) = cache.snapshot_and_watch(&scope("t10", None)).unwrap();

        put(&store, "t1", "b", "other-ns").await;
        let rev = put(&store, "t1", "a", "mine").await;
        assert_eq!(next(&mut t1_all).await.object.key, "/registry/configmaps/t1/b/other-ns");
        let event = next(&mut t1_a).await;
        assert_eq!((event.kind, event.revision), (EventType::Added, rev));
        assert_eq!(event.object.key, "/registry/configmaps/t1/a/mine");
        assert!(t10.live.try_recv().is_err(), "t10 must not see t1's events");
        assert!(t1_a.live.try_recv().is_err(), "namespace a must not see namespace b");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn watches_resume_from_the_window() {
        let (_dir, store) = store().await;
        let caches = WatchCaches::new(Arc::clone(&store));
        let cache = caches.get("configmaps").await.unwrap();
        let first = put(&store, "c", "n", "one").await;
        put(&store, "c", "n", "two").await;
        // Wait until the cache has seen both.
        while cache.snapshot(&scope("c", None)).unwrap().objects.len() < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let watch = cache.watch_from(&scope("c", Some("n")), first).unwrap().unwrap();
        let replayed: Vec<_> = watch.replay.iter().map(|e| e.object.key.as_str()).collect();
        assert_eq!(replayed, ["/registry/configmaps/c/n/two"]);
        assert!(cache.watch_from(&scope("c", None), first - 1).unwrap().is_some());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_stalled_watcher_is_dropped_and_blocks_nobody() {
        let (_dir, store) = store().await;
        let caches = WatchCaches::new(Arc::clone(&store));
        let cache = caches.get("configmaps").await.unwrap();
        let (_, stalled) = cache.snapshot_and_watch(&scope("c", None)).unwrap();
        let (_, mut reader) = cache.snapshot_and_watch(&scope("c", None)).unwrap();
        assert_eq!(cache.watcher_count(), 2);
        for i in 0..(WATCHER_QUEUE + 10) {
            put(&store, "c", "n", &format!("o{i}")).await;
            next(&mut reader).await;
        }
        assert_eq!(cache.watcher_count(), 1, "the stalled watcher is gone");
        // Its queue holds what it got before it was dropped, then it ends.
        let mut stalled = stalled;
        let mut got = 0;
        while stalled.live.recv().await.is_some() {
            got += 1;
        }
        assert_eq!(got, WATCHER_QUEUE);
    }
}
