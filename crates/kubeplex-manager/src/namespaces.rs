//! The namespace controller: a namespace being deleted is emptied of every
//! namespaced object of its logical cluster (built-in and custom resources
//! alike), its status conditions say what remains, and once nothing does,
//! the `kubernetes` finalizer is lifted (`PUT namespaces/NAME/finalize`) so
//! the API server removes it.
//!
//! ```text
//!  namespace with deletionTimestamp ─► per resource with objects: DELETE collection (Background)
//!        ▲                          ─► GET what remains ─► status conditions
//!        └── requeue while content remains (and on pod deletions)  ─► finalize when empty
//! ```
//!
//! Every resource the cluster serves is listed in that namespace through the
//! client (a store range each, only while a namespace is terminating); the
//! deletes and the final count go through the client too.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::client::collection;
use crate::{Context, Error, ObjectKey, WorkQueue, run_workers};

/// The finalizer the namespace controller lifts.
pub const FINALIZER: &str = "kubernetes";
/// Retry after a failed reconcile.
const RETRY: Duration = Duration::from_secs(1);
/// Look again while content remains.
const WAIT: Duration = Duration::from_secs(2);

/// Registers the namespace controller: its queue, handlers and workers.
pub fn register(ctx: &Arc<Context>) {
    let queue = WorkQueue::new("namespace");
    let q = Arc::clone(&queue);
    ctx.namespaces.on_change(move |key, _old, new| {
        if new.is_some_and(|ns| ns.metadata.deletion_timestamp.is_some()) {
            q.add(key.clone());
        }
    });
    let (q, namespaces) = (Arc::clone(&queue), Arc::clone(&ctx.namespaces));
    ctx.pods.on_change(move |key, _old, new| {
        // A pod of a terminating namespace went: look again sooner.
        if new.is_none() {
            let ns = ObjectKey::new(&key.cluster, "", &key.namespace);
            if namespaces.get(&ns).is_some_and(|n| n.metadata.deletion_timestamp.is_some()) {
                q.add(ns);
            }
        }
    });
    let q = Arc::clone(&queue);
    run_workers(ctx, &queue, 2, RETRY, move |ctx, key| {
        let queue = Arc::clone(&q);
        async move { reconcile(&ctx, &queue, &key).await }
    });
}

/// What deleting a namespace's content left.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Remaining {
    /// `resource.group` → objects still there.
    pub resources: BTreeMap<String, usize>,
    /// Finalizer → objects still there carrying it.
    pub finalizers: BTreeMap<String, usize>,
    /// Failed deletes, one message each.
    pub errors: Vec<String>,
}

impl Remaining {
    /// True when nothing is left and nothing failed.
    pub fn is_done(&self) -> bool {
        self.resources.values().all(|n| *n == 0) && self.errors.is_empty()
    }
}

/// One condition: (type, status, reason, message).
type Condition = (&'static str, &'static str, &'static str, String);

/// The five conditions upstream's namespace deleter keeps, from what remains.
pub fn conditions(remaining: &Remaining) -> Vec<Condition> {
    let ok = |t: &'static str, reason: &'static str, message: &str| (t, "False", reason, message.to_owned());
    let mut out = vec![
        ok("NamespaceDeletionDiscoveryFailure", "ResourcesDiscovered", "All resources successfully discovered"),
        ok(
            "NamespaceDeletionGroupVersionParsingFailure",
            "ParsedGroupVersions",
            "All legacy kube types successfully parsed",
        ),
    ];
    if remaining.errors.is_empty() {
        out.push(ok(
            "NamespaceDeletionContentFailure",
            "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization",
        ));
    } else {
        let mut msgs = remaining.errors.clone();
        msgs.sort();
        out.push((
            "NamespaceDeletionContentFailure",
            "True",
            "ContentDeletionFailed",
            format!("Failed to delete all resource types, {} remaining: {}", msgs.len(), msgs.join(", ")),
        ));
    }
    let resources: Vec<String> = remaining
        .resources
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(r, n)| format!("{r} has {n} resource instances"))
        .collect();
    if resources.is_empty() {
        out.push(ok("NamespaceContentRemaining", "ContentRemoved", "All content successfully removed"));
    } else {
        out.push((
            "NamespaceContentRemaining",
            "True",
            "SomeResourcesRemain",
            format!("Some resources are remaining: {}", sorted_join(resources)),
        ));
    }
    let finalizers: Vec<String> = remaining
        .finalizers
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(f, n)| format!("{f} in {n} resource instances"))
        .collect();
    if finalizers.is_empty() {
        out.push(ok("NamespaceFinalizersRemaining", "ContentRemoved", "All content successfully removed"));
    } else {
        out.push((
            "NamespaceFinalizersRemaining",
            "True",
            "SomeFinalizerRemain",
            format!("Some finalizers are remaining: {}", sorted_join(finalizers)),
        ));
    }
    out
}

fn sorted_join(mut items: Vec<String>) -> String {
    items.sort();
    items.join(", ")
}

/// `status.conditions` with `wanted` merged in as upstream does: a changed
/// condition gets a new lastTransitionTime only when its status changes.
/// `None` when nothing changes.
pub fn merge_conditions(current: &Value, wanted: &[Condition], now: &str) -> Option<Value> {
    let mut list: Vec<Value> = current.as_array().cloned().unwrap_or_default();
    let mut changed = false;
    for (t, status, reason, message) in wanted {
        match list.iter_mut().find(|c| c["type"] == *t) {
            None => {
                list.push(json!({"type": t, "status": status, "lastTransitionTime": now, "reason": reason,
                    "message": message}));
                changed = true;
            }
            Some(c) => {
                if c["status"] != *status || c["reason"] != *reason || c["message"] != message.as_str() {
                    if c["status"] != *status {
                        c["lastTransitionTime"] = json!(now);
                    }
                    c["status"] = json!(status);
                    c["reason"] = json!(reason);
                    c["message"] = json!(message);
                    changed = true;
                }
            }
        }
    }
    changed.then_some(Value::Array(list))
}

async fn reconcile(ctx: &Arc<Context>, queue: &Arc<WorkQueue>, key: &ObjectKey) -> Result<(), Error> {
    let Some(ns) = ctx.namespaces.get(key) else { return Ok(()) };
    if ns.metadata.deletion_timestamp.is_none() {
        return Ok(());
    }
    let pending =
        ns.spec.as_ref().and_then(|s| s.finalizers.as_ref()).is_some_and(|f| f.iter().any(|f| f == FINALIZER));
    if !pending {
        return Ok(());
    }
    let remaining = delete_content(ctx, &key.cluster, &key.name).await?;
    let path = format!("{}/{}", collection(&key.cluster, "v1", None, "namespaces"), key.name);
    let current: Value = match ctx.client.get(&path).await {
        Ok(v) => v,
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut current = current;
    if let Some(list) = merge_conditions(&current["status"]["conditions"], &conditions(&remaining), &now()) {
        current["status"]["conditions"] = list;
        current = ctx.client.replace(&format!("{path}/status"), &current).await?;
    }
    if !remaining.is_done() {
        ctx.timers.requeue(queue, key.clone(), WAIT);
        return Ok(());
    }
    let finalizers: Vec<Value> = current["spec"]["finalizers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f.as_str() != Some(FINALIZER))
        .cloned()
        .collect();
    current["spec"]["finalizers"] = Value::Array(finalizers);
    match ctx.client.replace::<Value>(&format!("{path}/finalize"), &current).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e),
    }
}

fn now() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    // RFC 3339 in UTC, seconds precision.
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// The (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Deletes every namespaced object of `namespace` in `cluster` (background
/// propagation) and reports what is still there.
async fn delete_content(ctx: &Arc<Context>, cluster: &str, namespace: &str) -> Result<Remaining, Error> {
    let mut remaining = Remaining::default();
    let mut seen = BTreeSet::new();
    for def in ctx.api.registry.all(cluster) {
        if !def.namespaced || !def.supports("delete") || !def.supports("list") || !seen.insert(def.storage.to_string())
        {
            continue;
        }
        let path = collection(cluster, &def.api_version(), Some(namespace), &def.plural);
        let resource = format!("{}.{}", def.plural, def.group);
        let before: Value = match ctx.client.get(&path).await {
            Ok(list) => list,
            Err(e) => {
                remaining.errors.push(format!("{resource}: {e}"));
                continue;
            }
        };
        let names: Vec<&str> = before["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|o| o["metadata"]["deletionTimestamp"].is_null())
            .filter_map(|o| o["metadata"]["name"].as_str())
            .collect();
        if before["items"].as_array().is_none_or(Vec::is_empty) {
            continue;
        }
        let result = if names.is_empty() {
            Ok(())
        } else if def.supports("deletecollection") {
            ctx.client.delete(&format!("{path}?propagationPolicy=Background"), &json!({})).await
        } else {
            let mut result = Ok(());
            for name in names {
                let options = json!({"propagationPolicy": "Background"});
                if let Err(e) = ctx.client.delete(&format!("{path}/{name}"), &options).await {
                    result = Err(e);
                }
            }
            result
        };
        if let Err(e) = result {
            remaining.errors.push(format!("{resource}: {e}"));
        }
        // What is left, read from the API (the cache may lag the deletes).
        let list: Value = match ctx.client.get(&path).await {
            Ok(list) => list,
            Err(e) => {
                remaining.errors.push(format!("{resource}: {e}"));
                continue;
            }
        };
        let items = list["items"].as_array().map(Vec::as_slice).unwrap_or_default();
        if !items.is_empty() {
            remaining.resources.insert(resource, items.len());
        }
        for item in items {
            for f in item["metadata"]["finalizers"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                *remaining.finalizers.entry(f.to_owned()).or_default() += 1;
            }
        }
    }
    Ok(remaining)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_say_what_remains() {
        let mut remaining = Remaining::default();
        remaining.resources.insert("pods.".into(), 2);
        remaining.resources.insert("configmaps.".into(), 0);
        remaining.finalizers.insert("example.com/keep".into(), 1);
        let c = conditions(&remaining);
        assert_eq!(c.len(), 5);
        assert_eq!(
            c[3],
            (
                "NamespaceContentRemaining",
                "True",
                "SomeResourcesRemain",
                "Some resources are remaining: pods. has 2 resource instances".to_owned()
            )
        );
        assert_eq!(c[4].3, "Some finalizers are remaining: example.com/keep in 1 resource instances");
        assert_eq!(c[2].2, "ContentDeleted");
        assert!(!remaining.is_done());

        remaining.errors = vec!["b: x".into(), "a: y".into()];
        assert_eq!(conditions(&remaining)[2].3, "Failed to delete all resource types, 2 remaining: a: y, b: x");
        assert!(Remaining::default().is_done());
    }

    #[test]
    fn merging_keeps_transition_times_of_unchanged_statuses() {
        let wanted = conditions(&Remaining::default());
        let first = merge_conditions(&Value::Null, &wanted, "t1").unwrap();
        assert_eq!(first.as_array().unwrap().len(), 5);
        assert_eq!(merge_conditions(&first, &wanted, "t2"), None);
        let mut remaining = Remaining::default();
        remaining.resources.insert("pods.".into(), 1);
        let second = merge_conditions(&first, &conditions(&remaining), "t3").unwrap();
        assert_eq!(second[3]["lastTransitionTime"], "t3");
        assert_eq!(second[0]["lastTransitionTime"], "t1");
    }

    #[test]
    fn dates_are_civil() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
