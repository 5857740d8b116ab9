//! Informers: the typed objects of one resource in every logical cluster,
//! kept current from the watch cache in-process, with the indexes the
//! controllers look things up by, and change handlers (which only enqueue
//! keys; the work happens in the controllers' workers).
//!
//! ```text
//!  WatchCache("pods").subscribe_all() ──► Informer<Pod> ──► objects, by namespace, by controller uid
//!                                                      └──► handlers: enqueue (cluster, ns, name)
//! ```
//!
//! One informer per resource serves every cluster: an idle cluster costs
//! only its objects.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, RwLock};

use k8s_openapi::Metadata;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kubeplex_apiserver::api::ApiServer;
use kubeplex_apiserver::watchcache::{CachedEvent, CachedObject, EventType};
use serde::de::DeserializeOwned;

use crate::Error;

/// An object's identity across logical clusters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    /// The logical cluster.
    pub cluster: Arc<str>,
    /// The namespace (empty for cluster-scoped objects).
    pub namespace: String,
    /// The name.
    pub name: String,
}

impl ObjectKey {
    /// A key in `cluster`.
    pub fn new(cluster: &str, namespace: &str, name: &str) -> ObjectKey {
        ObjectKey { cluster: cluster.into(), namespace: namespace.to_owned(), name: name.to_owned() }
    }

    /// The key of the object stored under `key` (`/registry/<storage>/<cluster>/[<ns>/]<name>`).
    fn from_storage_key(prefix: &str, key: &str) -> Option<ObjectKey> {
        let rest = key.strip_prefix(prefix)?;
        let mut parts = rest.split('/');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(c), Some(ns), Some(name), None) => Some(ObjectKey::new(c, ns, name)),
            (Some(c), Some(name), None, None) => Some(ObjectKey::new(c, "", name)),
            _ => None,
        }
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}/{}", self.cluster, self.name)
        } else {
            write!(f, "{}/{}/{}", self.cluster, self.namespace, self.name)
        }
    }
}

/// A change handler: the key, the object before (none when added) and
/// after (none when deleted).
pub type Handler<T> = Box<dyn Fn(&ObjectKey, Option<&T>, Option<&T>) + Send + Sync>;

struct State<T> {
    objects: HashMap<ObjectKey, Arc<T>>,
    /// (cluster, namespace) → names.
    by_namespace: HashMap<(Arc<str>, String), BTreeSet<String>>,
    /// The uid of an object's controller (ownerReference with
    /// `controller: true`) → the objects it controls.
    by_controller: HashMap<String, HashSet<ObjectKey>>,
}

/// The objects of one resource in every logical cluster.
pub struct Informer<T> {
    storage: String,
    state: RwLock<State<T>>,
    handlers: RwLock<Vec<Handler<T>>>,
}

impl<T> fmt::Debug for Informer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Informer").field("storage", &self.storage).finish_non_exhaustive()
    }
}

fn controller_uid(meta: &ObjectMeta) -> Option<&str> {
    meta.owner_references.as_ref()?.iter().find(|r| r.controller == Some(true)).map(|r| r.uid.as_str())
}

impl<T> Informer<T>
where
    T: Metadata<Ty = ObjectMeta> + DeserializeOwned + Send + Sync + 'static,
{
    /// An informer of the storage resource `storage` (`pods`,
    /// `deployments`); call [`Informer::on_change`], then [`Informer::start`].
    pub fn new(storage: &str) -> Arc<Informer<T>> {
        Arc::new(Informer {
            storage: storage.to_owned(),
            state: RwLock::new(State {
                objects: HashMap::new(),
                by_namespace: HashMap::new(),
                by_controller: HashMap::new(),
            }),
            handlers: RwLock::new(Vec::new()),
        })
    }

    /// Adds a handler, called for every object at start and every change after.
    pub fn on_change(&self, handler: impl Fn(&ObjectKey, Option<&T>, Option<&T>) + Send + Sync + 'static) {
        self.handlers.write().unwrap_or_else(|e| e.into_inner()).push(Box::new(handler));
    }

    /// Loads every cluster's objects and follows the watch cache in a task
    /// (one per resource, whatever the number of clusters).
    pub async fn start(self: &Arc<Self>, api: &ApiServer) -> Result<(), Error> {
        let cache = api.caches.get(&self.storage).await.map_err(|e| Error::Request(e.message))?;
        let (snapshot, mut events) = cache.subscribe_all().map_err(|e| Error::Request(e.message))?;
        let prefix = format!("/registry/{}/", self.storage);
        for object in &snapshot.objects {
            self.apply(&prefix, EventType::Added, object);
        }
        let me = Arc::clone(self);
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                me.apply_event(&prefix, &event);
            }
            tracing::warn!(storage = %me.storage, "informer stopped: the watch cache ended");
        });
        Ok(())
    }

    fn apply_event(&self, prefix: &str, event: &CachedEvent) {
        self.apply(prefix, event.kind, &event.object);
    }

    fn apply(&self, prefix: &str, kind: EventType, cached: &CachedObject) {
        let Some(key) = ObjectKey::from_storage_key(prefix, &cached.key) else { return };
        let new = match kind {
            EventType::Deleted => None,
            _ => match serde_json::from_slice::<T>(&cached.json) {
                Ok(object) => Some(Arc::new(object)),
                Err(e) => {
                    tracing::warn!(storage = %self.storage, key = %key, error = %e, "informer cannot read an object");
                    return;
                }
            },
        };
        let old = {
            let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
            let old = match &new {
                Some(object) => state.objects.insert(key.clone(), Arc::clone(object)),
                None => state.objects.remove(&key),
            };
            if let Some(uid) = old.as_deref().and_then(|o| controller_uid(o.metadata()))
                && new.as_deref().and_then(|o| controller_uid(o.metadata())) != Some(uid)
                && let Some(set) = state.by_controller.get_mut(uid)
            {
                set.remove(&key);
                if set.is_empty() {
                    state.by_controller.remove(uid);
                }
            }
            if let Some(uid) = new.as_deref().and_then(|o| controller_uid(o.metadata())) {
                state.by_controller.entry(uid.to_owned()).or_default().insert(key.clone());
            }
            let scope = (Arc::clone(&key.cluster), key.namespace.clone());
            match &new {
                Some(_) => {
                    state.by_namespace.entry(scope).or_default().insert(key.name.clone());
                }
                None => {
                    if let Some(names) = state.by_namespace.get_mut(&scope) {
                        names.remove(&key.name);
                        if names.is_empty() {
                            state.by_namespace.remove(&scope);
                        }
                    }
                }
            }
            old
        };
        let handlers = self.handlers.read().unwrap_or_else(|e| e.into_inner());
        for handler in handlers.iter() {
            handler(&key, old.as_deref(), new.as_deref());
        }
    }

    /// The object under `key`, if any.
    pub fn get(&self, key: &ObjectKey) -> Option<Arc<T>> {
        self.state.read().unwrap_or_else(|e| e.into_inner()).objects.get(key).cloned()
    }

    /// The objects of one namespace of a cluster (`""`: cluster-scoped ones).
    pub fn in_namespace(&self, cluster: &str, namespace: &str) -> Vec<Arc<T>> {
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        let Some(names) = state.by_namespace.get(&(Arc::from(cluster), namespace.to_owned())) else {
            return Vec::new();
        };
        names.iter().filter_map(|name| state.objects.get(&ObjectKey::new(cluster, namespace, name)).cloned()).collect()
    }

    /// The objects whose controller has `uid`.
    pub fn controlled_by(&self, uid: &str) -> Vec<Arc<T>> {
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        state
            .by_controller
            .get(uid)
            .map(|keys| keys.iter().filter_map(|k| state.objects.get(k).cloned()).collect())
            .unwrap_or_default()
    }

    /// The keys of every object of `cluster`.
    pub fn keys_in_cluster(&self, cluster: &str) -> Vec<ObjectKey> {
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        state.objects.keys().filter(|k| &*k.cluster == cluster).cloned().collect()
    }

    /// How many objects the informer holds.
    pub fn len(&self) -> usize {
        self.state.read().unwrap_or_else(|e| e.into_inner()).objects.len()
    }

    /// True if the informer holds no object.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_from_storage_keys() {
        let prefix = "/registry/pods/";
        assert_eq!(
            ObjectKey::from_storage_key(prefix, "/registry/pods/root/demo/web"),
            Some(ObjectKey::new("root", "demo", "web"))
        );
        assert_eq!(
            ObjectKey::from_storage_key(prefix, "/registry/pods/t1/node-1"),
            Some(ObjectKey::new("t1", "", "node-1"))
        );
        assert_eq!(ObjectKey::from_storage_key(prefix, "/registry/nodes/t1/node-1"), None);
        assert_eq!(ObjectKey::new("t1", "demo", "web").to_string(), "t1/demo/web");
    }
}
