//! CustomResourceDefinitions served live: one controller, for every logical
//! cluster, that accepts a CRD's names, marks it `Established`, keeps the
//! [`Registry`](crate::registry::Registry) serving its versions, and on
//! deletion removes its objects before lifting the cleanup finalizer.
//!
//! ```text
//!  store watch /registry/customresourcedefinitions/ (all clusters, one watch)
//!     ├► live CRD ─► check names against the group's other CRDs in the cluster
//!     │            ─► registry.set_custom(cluster, crd, served versions)
//!     │            ─► status: acceptedNames, NamesAccepted, Established
//!     ├► deleting ─► serve read/delete only ─► delete /registry/<crd>/<cluster>/…
//!     │            ─► remove the cleanup finalizer ─► CRD gone
//!     └► deleted  ─► registry forgets it (and its watch cache if unused)
//! ```
//!
//! The registry is filled from the store before the server listens, so
//! custom resources are served from the first request after a restart.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kubeplex_core::crd::{self, CLEANUP_FINALIZER, CrdNames};
use kubeplex_core::resource::ResourceDef;
use kubeplex_core::status::ApiError;
use kubeplex_store::{Event, KeyValue, RangeRequest, Revision};
use serde_json::{Map, Value, json};

use crate::api::ApiServer;
use crate::crud::{self, Target};
use crate::objects::{self, meta, meta_str};
use crate::registry::Def;

/// Where every cluster's CRDs are stored.
const PREFIX: &str = "/registry/customresourcedefinitions/";

/// The CRD resource.
fn crd_def(api: &ApiServer) -> Def {
    api.builtin(crd::GROUP, "v1", "customresourcedefinitions")
}

/// The logical cluster of a CRD's key.
fn cluster_of(key: &str) -> Option<&str> {
    key.strip_prefix(PREFIX)?.split('/').next()
}

/// Fills the registry from the stored CRDs, then starts the controller on
/// the changes after them.
pub async fn start(api: &Arc<ApiServer>) -> Result<(), ApiError> {
    let page = api.store.range(RangeRequest::prefix(PREFIX)).await.map_err(crud::store_error)?;
    let mut initial = Vec::with_capacity(page.kvs.len());
    for kv in &page.kvs {
        let (Some(cluster), object) = (cluster_of(&kv.key), objects::decode(kv)?) else { continue };
        serve(api, cluster, &object, &accepted(api, cluster, &object).0);
        initial.push((cluster.to_owned(), object));
    }
    let api = Arc::clone(api);
    tokio::spawn(async move {
        let mut revision = page.revision;
        for (cluster, object) in initial {
            reconcile_logged(&api, &cluster, &object).await;
        }
        loop {
            match follow(&api, revision).await {
                Ok(()) => return,
                Err(e) => tracing::warn!(error = %e, "CRD controller restarts"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            revision = match resync(&api).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(error = %e, "CRD controller resync failed");
                    continue;
                }
            };
        }
    });
    Ok(())
}

/// Re-reads every CRD after a broken watch; returns the revision read at.
async fn resync(api: &Arc<ApiServer>) -> Result<Revision, ApiError> {
    let page = api.store.range(RangeRequest::prefix(PREFIX)).await.map_err(crud::store_error)?;
    for kv in &page.kvs {
        handle_put(api, kv).await;
    }
    Ok(page.revision)
}

/// Follows CRD changes from `revision` until the store's watch ends.
async fn follow(api: &Arc<ApiServer>, revision: Revision) -> Result<(), ApiError> {
    let mut events = api.store.watch(PREFIX, revision).await.map_err(crud::store_error)?;
    while let Some(event) = events.next().await {
        match event.map_err(crud::store_error)? {
            Event::Put { kv, .. } => handle_put(api, &kv).await,
            Event::Delete { key, .. } => {
                if let Some(cluster) = cluster_of(&key) {
                    let name = key.rsplit('/').next().unwrap_or("");
                    api.registry.set_custom(cluster, name, Vec::new());
                    if !api.registry.storage_in_use(name) {
                        api.caches.remove(name).await;
                    }
                }
            }
        }
    }
    Ok(())
}

async fn handle_put(api: &Arc<ApiServer>, kv: &KeyValue) {
    let Some(cluster) = cluster_of(&kv.key) else { return };
    match objects::decode(kv) {
        Ok(object) => reconcile_logged(api, cluster, &object).await,
        Err(e) => tracing::warn!(key = %kv.key, error = %e, "undecodable CRD"),
    }
}

async fn reconcile_logged(api: &Arc<ApiServer>, cluster: &str, object: &Value) {
    if let Err(e) = reconcile(api, cluster, object).await {
        let name = meta_str(object, "name").unwrap_or("");
        tracing::warn!(cluster, crd = name, error = %e, "reconciling a CRD failed");
    }
}

/// The names `object` is served under, and the conflict that keeps its
/// requested names from being accepted, if any. A CRD established under
/// names it can no longer have keeps them.
fn accepted(api: &ApiServer, cluster: &str, object: &Value) -> (Option<CrdNames>, Option<crd::NameConflict>) {
    let name = meta_str(object, "name").unwrap_or("");
    let group = object.pointer("/spec/group").and_then(Value::as_str).unwrap_or("");
    let requested = CrdNames::from_json(object.pointer("/spec/names"));
    let custom = api.registry.custom(cluster);
    let others: Vec<CrdNames> = custom
        .iter()
        .filter(|(crd, _)| crd.as_str() != name)
        .filter_map(|(_, defs)| defs.first())
        .filter(|d| d.group == group)
        .map(|d| names_of(d))
        .collect();
    match crd::check_names(&requested, &others.iter().collect::<Vec<_>>()) {
        Ok(()) => (Some(requested), None),
        Err(conflict) => {
            let previous = object.pointer("/status/acceptedNames").map(|n| CrdNames::from_json(Some(n)));
            (previous.filter(|n| !n.plural.is_empty() && !n.kind.is_empty()), Some(conflict))
        }
    }
}

/// The names a served resource was registered under.
fn names_of(def: &ResourceDef) -> CrdNames {
    CrdNames {
        plural: def.plural.to_string(),
        singular: def.singular.to_string(),
        short_names: def.short_names.iter().map(str::to_owned).collect(),
        kind: def.kind.to_string(),
        list_kind: def.list_kind(),
        categories: def.categories.iter().map(str::to_owned).collect(),
    }
}

/// Serves the versions of `object` under `names` (nothing without names).
fn serve(api: &ApiServer, cluster: &str, object: &Value, names: &Option<CrdNames>) {
    let name = meta_str(object, "name").unwrap_or("");
    let terminating = meta(object).contains_key("deletionTimestamp");
    let defs = match names {
        Some(names) => crd::served_resources(object, names, terminating).into_iter().map(Arc::new).collect(),
        None => Vec::new(),
    };
    api.registry.set_custom(cluster, name, defs);
}

/// Brings the registry and the CRD's status in line with `object`, or
/// removes a deleted CRD's objects and lets it go.
async fn reconcile(api: &Arc<ApiServer>, cluster: &str, object: &Value) -> Result<(), ApiError> {
    let (names, conflict) = accepted(api, cluster, object);
    serve(api, cluster, object, &names);
    let name = meta_str(object, "name").unwrap_or("").to_owned();
    let target = Target {
        table: None,
        cluster: cluster.to_owned(),
        def: crd_def(api),
        namespace: None,
        name: Some(name.clone()),
        subresource: None,
    };
    if meta(object).contains_key("deletionTimestamp") {
        if !crud::finalizers(object).iter().any(|f| f == CLEANUP_FINALIZER) {
            return Ok(());
        }
        let deleted = crate::clusters::delete_prefix(api, &format!("/registry/{name}/{cluster}/")).await?;
        let lifted = crud::write_object(api, &target, None, false, |old| {
            let mut new = old.clone();
            if let Some(list) = objects::meta_mut(&mut new).get_mut("finalizers").and_then(Value::as_array_mut) {
                list.retain(|f| f != CLEANUP_FINALIZER);
            }
            set_condition(&mut new, "Terminating", "False", "InstanceDeletionCompleted", "removed all instances");
            Ok(new)
        })
        .await;
        return match lifted {
            Ok(_) => {
                tracing::info!(cluster, crd = %name, objects = deleted, "custom resource definition deleted");
                Ok(())
            }
            Err(e) if e.code == 404 => Ok(()),
            Err(e) => Err(e),
        };
    }
    let wanted = desired_status(object, names.as_ref(), conflict.as_ref());
    if status_matches(object, &wanted) {
        return Ok(());
    }
    let write = crud::write_object(api, &target, None, false, |old| {
        let mut new = old.clone();
        let (names, conflict) = (names.as_ref(), conflict.as_ref());
        apply_status(&mut new, &desired_status(old, names, conflict));
        Ok(new)
    })
    .await;
    match write {
        Ok(_) => Ok(()),
        Err(e) if e.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}

/// What the naming and establishing controllers want in `status`: the
/// accepted names and the `NamesAccepted` and `Established` conditions.
struct DesiredStatus {
    accepted_names: Value,
    conditions: [(&'static str, &'static str, &'static str, String); 2],
}

fn desired_status(object: &Value, names: Option<&CrdNames>, conflict: Option<&crd::NameConflict>) -> DesiredStatus {
    let accepted_names = match names {
        Some(names) => names.to_json(),
        None => object.pointer("/status/acceptedNames").cloned().unwrap_or_else(|| json!({"plural": "", "kind": ""})),
    };
    let names_accepted = match conflict {
        None => ("NamesAccepted", "True", "NoConflicts", "no conflicts found".to_owned()),
        Some(c) => ("NamesAccepted", "False", c.reason, c.message.clone()),
    };
    let established = if names.is_some() {
        ("Established", "True", "InitialNamesAccepted", "the initial names have been accepted".to_owned())
    } else {
        ("Established", "False", "NotAccepted", "not all names are accepted".to_owned())
    };
    DesiredStatus { accepted_names, conditions: [names_accepted, established] }
}

fn condition<'a>(object: &'a Value, type_: &str) -> Option<&'a Value> {
    object.pointer("/status/conditions")?.as_array()?.iter().find(|c| c["type"] == type_)
}

fn status_matches(object: &Value, wanted: &DesiredStatus) -> bool {
    object.pointer("/status/acceptedNames") == Some(&wanted.accepted_names)
        && wanted.conditions.iter().all(|(type_, status, reason, message)| {
            condition(object, type_)
                .is_some_and(|c| c["status"] == *status && c["reason"] == *reason && c["message"] == **message)
        })
}

fn apply_status(object: &mut Value, wanted: &DesiredStatus) {
    if !object.get("status").is_some_and(Value::is_object) {
        object["status"] = json!({});
    }
    object["status"]["acceptedNames"] = wanted.accepted_names.clone();
    for (type_, status, reason, message) in &wanted.conditions {
        set_condition(object, type_, status, reason, message);
    }
}

/// Sets condition `type_` in `status.conditions`, keeping its
/// `lastTransitionTime` unless its status changes.
pub fn set_condition(object: &mut Value, type_: &str, status: &str, reason: &str, message: &str) {
    if !object.get("status").is_some_and(Value::is_object) {
        object["status"] = json!({});
    }
    let conditions = object["status"].as_object_mut().map(|s| s.entry("conditions").or_insert_with(|| json!([])));
    let Some(list) = conditions.and_then(Value::as_array_mut) else { return };
    let now = objects::now();
    match list.iter_mut().find(|c| c["type"] == type_) {
        Some(c) => {
            if c["status"] != status {
                c["lastTransitionTime"] = json!(now);
            }
            c["status"] = json!(status);
            c["reason"] = json!(reason);
            c["message"] = json!(message);
        }
        None => {
            let mut c = Map::new();
            c.insert("type".into(), json!(type_));
            c.insert("status".into(), json!(status));
            c.insert("lastTransitionTime".into(), json!(now));
            c.insert("reason".into(), json!(reason));
            c.insert("message".into(), json!(message));
            list.push(Value::Object(c));
        }
    }
}

/// The value at a simple JSON path such as `.spec.replicas` (the paths of
/// a CRD's scale subresource).
pub fn value_at<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    path.strip_prefix('.')?.split('.').try_fold(object, |v, k| v.get(k))
}

/// Sets the value at a simple JSON path, creating objects on the way.
pub fn set_value_at(object: &mut Value, path: &str, value: Value) {
    let Some(path) = path.strip_prefix('.') else { return };
    let mut segments: Vec<&str> = path.split('.').collect();
    let Some(last) = segments.pop() else { return };
    let mut at = object;
    for segment in segments {
        if !at.get(segment).is_some_and(Value::is_object) {
            at[segment] = json!({});
        }
        at = &mut at[segment];
    }
    at[last] = value;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_keep_their_transition_time() {
        let mut crd = json!({"metadata": {"name": "a.b.c"}});
        set_condition(&mut crd, "Established", "True", "InitialNamesAccepted", "the initial names have been accepted");
        let first = crd["status"]["conditions"][0]["lastTransitionTime"].clone();
        set_condition(&mut crd, "Established", "True", "Other", "again");
        assert_eq!(crd["status"]["conditions"][0]["lastTransitionTime"], first);
        assert_eq!(crd["status"]["conditions"][0]["reason"], "Other");
        assert_eq!(crd["status"]["conditions"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn desired_status_of_accepted_and_conflicting_names() {
        let crd = json!({"spec": {"names": {"plural": "crontabs", "kind": "CronTab"}}});
        let names = CrdNames::from_json(crd.pointer("/spec/names"));
        let wanted = desired_status(&crd, Some(&names), None);
        let mut object = crd.clone();
        assert!(!status_matches(&object, &wanted));
        apply_status(&mut object, &wanted);
        assert!(status_matches(&object, &wanted));
        assert_eq!(object["status"]["acceptedNames"]["listKind"], "CronTabList");
        assert_eq!(condition(&object, "Established").unwrap()["status"], "True");

        let conflict = crd::NameConflict { reason: "KindConflict", message: "\"CronTab\" is already in use".into() };
        let wanted = desired_status(&crd, None, Some(&conflict));
        assert_eq!(wanted.accepted_names, json!({"plural": "", "kind": ""}));
        apply_status(&mut object, &wanted);
        assert_eq!(condition(&object, "NamesAccepted").unwrap()["reason"], "KindConflict");
        assert_eq!(condition(&object, "Established").unwrap()["status"], "False");
    }

    #[test]
    fn simple_paths() {
        let mut object = json!({"spec": {"replicas": 3}});
        assert_eq!(value_at(&object, ".spec.replicas"), Some(&json!(3)));
        assert_eq!(value_at(&object, ".status.replicas"), None);
        set_value_at(&mut object, ".status.scale.replicas", json!(2));
        assert_eq!(object["status"]["scale"]["replicas"], 2);
        assert_eq!(cluster_of("/registry/customresourcedefinitions/t1/a.b.c"), Some("t1"));
    }
}
