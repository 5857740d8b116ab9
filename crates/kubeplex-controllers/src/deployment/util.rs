//! Deployment helpers as upstream's `pkg/controller/deployment/util` has
//! them: fenceposts (maxSurge/maxUnavailable), the replica annotations,
//! revisions, template comparison ignoring `pod-template-hash`, ReplicaSet
//! orderings, proportions for scaling mid-rollout, and conditions.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::Timestamp;

use super::{
    DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, POD_TEMPLATE_HASH_LABEL, REVISION_ANNOTATION,
    REVISION_HISTORY_ANNOTATION,
};
use crate::Error;
use crate::replicaset::truncate_to_seconds;

/// Upstream's `maxRevHistoryLengthInChars`.
pub(crate) const MAX_REV_HISTORY_LENGTH_IN_CHARS: usize = 2000;

/// Annotations never copied from a Deployment to its ReplicaSets.
const ANNOTATIONS_TO_SKIP: [&str; 6] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION_ANNOTATION,
    REVISION_HISTORY_ANNOTATION,
    DESIRED_REPLICAS_ANNOTATION,
    MAX_REPLICAS_ANNOTATION,
    "deprecated.deployment.rollback.to",
];

/// `spec.replicas` of a Deployment (default 1).
pub(crate) fn d_replicas(d: &Deployment) -> i32 {
    d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

/// `spec.replicas` of a ReplicaSet (default 1).
pub(crate) fn rs_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

/// Sets `spec.replicas` of a ReplicaSet.
pub(crate) fn set_rs_replicas(rs: &mut ReplicaSet, n: i32) {
    rs.spec.get_or_insert_with(Default::default).replicas = Some(n);
}

pub(crate) fn rs_status_replicas(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().map_or(0, |s| s.replicas)
}

pub(crate) fn rs_available(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().and_then(|s| s.available_replicas).unwrap_or(0)
}

pub(crate) fn rs_ready(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0)
}

/// The strategy type; an absent strategy is the defaulted `RollingUpdate`.
pub(crate) fn strategy_type(d: &Deployment) -> &str {
    d.spec.as_ref().and_then(|s| s.strategy.as_ref()).and_then(|s| s.type_.as_deref()).unwrap_or("RollingUpdate")
}

pub(crate) fn is_rolling_update(d: &Deployment) -> bool {
    strategy_type(d) == "RollingUpdate"
}

/// `intstr.GetScaledValueFromIntOrPercent`.
pub fn scaled_value(value: &IntOrString, total: i32, round_up: bool) -> Result<i32, Error> {
    match value {
        IntOrString::Int(n) => Ok(*n),
        IntOrString::String(s) => {
            let Some(number) = s.strip_suffix('%') else {
                return Err(Error::Invalid("invalid type: string is not a percentage".into()));
            };
            let v: i64 = number
                .parse()
                .map_err(|e| Error::Invalid(format!("invalid value for IntOrString: invalid value {s:?}: {e}")))?;
            #[allow(clippy::cast_precision_loss)]
            let exact = v as f64 * f64::from(total) / 100.0;
            let rounded = if round_up { exact.ceil() } else { exact.floor() };
            #[allow(clippy::cast_possible_truncation)]
            Ok(rounded.clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32)
        }
    }
}

/// `ResolveFenceposts` for a Deployment: (maxSurge rounded up, maxUnavailable
/// rounded down); both zero makes maxUnavailable 1. Not a rolling update: (0, 0).
/// An absent `rollingUpdate` is the defaulted 25%/25%.
pub fn resolve_fenceposts(d: &Deployment) -> Result<(i32, i32), Error> {
    if !is_rolling_update(d) {
        return Ok((0, 0));
    }
    let desired = d_replicas(d);
    let ru = d.spec.as_ref().and_then(|s| s.strategy.as_ref()).and_then(|s| s.rolling_update.as_ref());
    let quarter = IntOrString::String("25%".into());
    let (surge, unavailable) = match ru {
        Some(ru) => (
            ru.max_surge.clone().unwrap_or(IntOrString::Int(0)),
            ru.max_unavailable.clone().unwrap_or(IntOrString::Int(0)),
        ),
        None => (quarter.clone(), quarter),
    };
    let surge = scaled_value(&surge, desired, true)?;
    let mut unavailable = scaled_value(&unavailable, desired, false)?;
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    Ok((surge, unavailable))
}

/// The resolved fenceposts of one Deployment, computed once per sync.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fenceposts {
    pub(crate) surge: i32,
    /// `MaxUnavailable`: capped at the desired replicas, 0 when those are 0.
    pub(crate) unavailable: i32,
}

impl Fenceposts {
    pub(crate) fn of(d: &Deployment) -> Result<Fenceposts, Error> {
        let (surge, unavailable) = resolve_fenceposts(d)?;
        let desired = d_replicas(d);
        let unavailable = if !is_rolling_update(d) || desired == 0 { 0 } else { unavailable.min(desired) };
        Ok(Fenceposts { surge, unavailable })
    }
}

/// `Revision`: the revision annotation, 0 when absent, `None` when unparsable.
pub(crate) fn revision(rs: &ReplicaSet) -> Option<i64> {
    match rs.metadata.annotations.as_ref().and_then(|a| a.get(REVISION_ANNOTATION)) {
        None => Some(0),
        Some(v) => v.parse().ok(),
    }
}

/// `MaxRevision` of some ReplicaSets (unparsable ones skipped).
pub(crate) fn max_revision<'a>(rss: impl Iterator<Item = &'a ReplicaSet>) -> i64 {
    rss.filter_map(revision).max().unwrap_or(0).max(0)
}

fn int_annotation(rs: &ReplicaSet, key: &str) -> Option<i32> {
    rs.metadata.annotations.as_ref()?.get(key)?.parse().ok()
}

pub(crate) fn desired_replicas_annotation(rs: &ReplicaSet) -> Option<i32> {
    int_annotation(rs, DESIRED_REPLICAS_ANNOTATION)
}

/// `SetReplicasAnnotations`: returns whether anything changed.
pub(crate) fn set_replicas_annotations(rs: &mut ReplicaSet, desired: i32, max: i32) -> bool {
    let annotations = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let mut changed = false;
    for (key, value) in [(DESIRED_REPLICAS_ANNOTATION, desired), (MAX_REPLICAS_ANNOTATION, max)] {
        let value = value.to_string();
        if annotations.get(key) != Some(&value) {
            annotations.insert(key.to_owned(), value);
            changed = true;
        }
    }
    changed
}

/// `ReplicasAnnotationsNeedUpdate`.
pub(crate) fn replicas_annotations_need_update(rs: &ReplicaSet, desired: i32, max: i32) -> bool {
    let Some(a) = rs.metadata.annotations.as_ref() else { return true };
    a.get(DESIRED_REPLICAS_ANNOTATION) != Some(&desired.to_string())
        || a.get(MAX_REPLICAS_ANNOTATION) != Some(&max.to_string())
}

/// `SetNewReplicaSetAnnotations`: copies the Deployment's annotations (except
/// the skipped ones), raises the revision to `new_revision` keeping the old
/// one in `revision-history`, and for a ReplicaSet about to be created sets
/// the replica annotations. Returns whether anything changed.
pub(crate) fn set_new_replica_set_annotations(
    d: &Deployment,
    rs: &mut ReplicaSet,
    new_revision: i64,
    exists: bool,
    max_surge: i32,
) -> bool {
    let mut changed = false;
    let annotations = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    if let Some(da) = d.metadata.annotations.as_ref() {
        for (k, v) in da {
            if ANNOTATIONS_TO_SKIP.contains(&k.as_str()) || annotations.get(k) == Some(v) {
                continue;
            }
            annotations.insert(k.clone(), v.clone());
            changed = true;
        }
    }
    let old_revision = annotations.get(REVISION_ANNOTATION).cloned();
    let old_int = match old_revision.as_deref() {
        None | Some("") => 0,
        Some(v) => match v.parse::<i64>() {
            Ok(n) => n,
            // upstream gives up on a non-numeric revision
            Err(_) => return changed,
        },
    };
    if old_int < new_revision {
        annotations.insert(REVISION_ANNOTATION.to_owned(), new_revision.to_string());
        changed = true;
        if let Some(old) = old_revision {
            let history = annotations.get(REVISION_HISTORY_ANNOTATION).cloned().unwrap_or_default();
            if history.is_empty() {
                annotations.insert(REVISION_HISTORY_ANNOTATION.to_owned(), old);
            } else {
                let parts: Vec<&str> = history.split(',').collect();
                let mut total = history.len() + old.len() + 1;
                let mut start = 0;
                while total > MAX_REV_HISTORY_LENGTH_IN_CHARS && start < parts.len() {
                    total -= parts.get(start).map_or(0, |p| p.len()) + 1;
                    start += 1;
                }
                if total <= MAX_REV_HISTORY_LENGTH_IN_CHARS {
                    let mut kept: Vec<&str> = parts.get(start..).map(<[&str]>::to_vec).unwrap_or_default();
                    kept.push(&old);
                    annotations.insert(REVISION_HISTORY_ANNOTATION.to_owned(), kept.join(","));
                }
            }
        }
    }
    if !exists {
        let desired = d_replicas(d);
        changed |= set_replicas_annotations(rs, desired, desired + max_surge);
    }
    changed
}

/// The template as JSON with the `pod-template-hash` label removed and empty
/// values (null, "", [], {}) pruned, so nil and empty compare equal as in
/// `apiequality.Semantic.DeepEqual`.
pub(crate) fn normalized_template(t: Option<&PodTemplateSpec>) -> serde_json::Value {
    let mut v = t.and_then(|t| serde_json::to_value(t).ok()).unwrap_or(serde_json::Value::Null);
    if let Some(labels) = v.pointer_mut("/metadata/labels").and_then(|l| l.as_object_mut()) {
        labels.remove(POD_TEMPLATE_HASH_LABEL);
    }
    prune(&mut v);
    v
}

fn prune(v: &mut serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::String(s) => s.is_empty(),
        serde_json::Value::Array(items) => {
            for item in items.iter_mut() {
                prune(item);
            }
            items.is_empty()
        }
        serde_json::Value::Object(map) => {
            map.retain(|_, value| !prune(value));
            map.is_empty()
        }
        _ => false,
    }
}

/// `ReplicaSetsByCreationTimestamp`: older first, then by name.
pub(crate) fn by_creation(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    let ta = a.metadata.creation_timestamp.as_ref().map(|t| t.0);
    let tb = b.metadata.creation_timestamp.as_ref().map(|t| t.0);
    ta.cmp(&tb).then_with(|| a.metadata.name.cmp(&b.metadata.name))
}

/// `ReplicaSetsByRevision`: lower revision first; unparsable or equal by creation.
pub(crate) fn by_revision(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    match (revision(a), revision(b)) {
        (Some(ra), Some(rb)) if ra != rb => ra.cmp(&rb),
        _ => by_creation(a, b),
    }
}

/// `ReplicaSetsBySizeNewer`: larger first, ties newer first.
pub(crate) fn by_size_newer(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    rs_replicas(b).cmp(&rs_replicas(a)).then_with(|| by_creation(b, a))
}

/// `ReplicaSetsBySizeOlder`: larger first, ties older first.
pub(crate) fn by_size_older(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    rs_replicas(b).cmp(&rs_replicas(a)).then_with(|| by_creation(a, b))
}

/// `integer.RoundToInt32`.
fn round_to_i32(x: f64) -> i32 {
    #[allow(clippy::cast_possible_truncation)]
    if x < 0.0 { (x - 0.5) as i32 } else { (x + 0.5) as i32 }
}

/// `GetReplicaSetProportion`.
pub(crate) fn replica_set_proportion(
    rs: &ReplicaSet,
    d: &Deployment,
    status_replicas: i32,
    max_surge: i32,
    to_add: i32,
    added: i32,
) -> i32 {
    let size = rs_replicas(rs);
    if size == 0 || to_add == 0 || to_add == added {
        return 0;
    }
    let fraction = replica_set_fraction(rs, d, status_replicas, max_surge);
    let allowed = to_add - added;
    if to_add > 0 { fraction.min(allowed) } else { fraction.max(allowed) }
}

fn replica_set_fraction(rs: &ReplicaSet, d: &Deployment, status_replicas: i32, max_surge: i32) -> i32 {
    let size = rs_replicas(rs);
    let desired = d_replicas(d);
    if desired == 0 {
        return -size;
    }
    let max_now = desired + max_surge;
    let mut before = int_annotation(rs, MAX_REPLICAS_ANNOTATION).unwrap_or(0);
    if before == 0 {
        before = status_replicas;
        if before == 0 {
            return 0;
        }
    }
    let new_size = f64::from(size) * f64::from(max_now) / f64::from(before);
    round_to_i32(new_size) - size
}

/// `NewDeploymentCondition` at `now` (seconds precision, as stored).
pub(crate) fn new_condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: String,
    now: Timestamp,
) -> DeploymentCondition {
    let at = Some(Time(truncate_to_seconds(now)));
    DeploymentCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message),
        last_update_time: at.clone(),
        last_transition_time: at,
    }
}

pub(crate) fn get_condition<'a>(status: &'a DeploymentStatus, type_: &str) -> Option<&'a DeploymentCondition> {
    status.conditions.as_ref()?.iter().find(|c| c.type_ == type_)
}

/// `SetDeploymentCondition`: no change when status and reason are the same;
/// keeps `lastTransitionTime` when only the reason changes; moves the
/// condition to the end.
pub(crate) fn set_condition(status: &mut DeploymentStatus, mut cond: DeploymentCondition) {
    if let Some(current) = get_condition(status, &cond.type_) {
        if current.status == cond.status && current.reason == cond.reason {
            return;
        }
        if current.status == cond.status {
            cond.last_transition_time = current.last_transition_time.clone();
        }
    }
    remove_condition(status, &cond.type_);
    status.conditions.get_or_insert_with(Vec::new).push(cond);
}

/// `RemoveDeploymentCondition`.
pub(crate) fn remove_condition(status: &mut DeploymentStatus, type_: &str) {
    if let Some(cs) = status.conditions.as_mut() {
        cs.retain(|c| c.type_ != type_);
        if cs.is_empty() {
            status.conditions = None;
        }
    }
}

/// `HasProgressDeadline`.
pub(crate) fn has_progress_deadline(d: &Deployment) -> bool {
    d.spec.as_ref().and_then(|s| s.progress_deadline_seconds).is_some_and(|p| p != i32::MAX)
}

/// `HasRevisionHistoryLimit`.
pub(crate) fn revision_history_limit(d: &Deployment) -> Option<i32> {
    d.spec.as_ref().and_then(|s| s.revision_history_limit).filter(|l| *l != i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_as_upstream() {
        let p = |s: &str| IntOrString::String(s.into());
        assert_eq!(scaled_value(&p("25%"), 10, true), Ok(3));
        assert_eq!(scaled_value(&p("25%"), 10, false), Ok(2));
        assert_eq!(scaled_value(&p("25%"), 4, true), Ok(1));
        assert_eq!(scaled_value(&p("25%"), 1, false), Ok(0));
        assert_eq!(scaled_value(&IntOrString::Int(7), 1, false), Ok(7));
        assert_eq!(
            scaled_value(&p("25"), 4, true),
            Err(Error::Invalid("invalid type: string is not a percentage".into()))
        );
        assert!(scaled_value(&p("x%"), 4, true).is_err());
    }

    #[test]
    fn revision_history_keeps_old_revisions() {
        let d = Deployment::default();
        let mut rs = ReplicaSet::default();
        rs.metadata.annotations = Some(BTreeMap::from([(REVISION_ANNOTATION.to_owned(), "1".to_owned())]));
        assert!(set_new_replica_set_annotations(&d, &mut rs, 3, true, 0));
        let a = rs.metadata.annotations.clone().unwrap_or_default();
        assert_eq!(a.get(REVISION_ANNOTATION).map(String::as_str), Some("3"));
        assert_eq!(a.get(REVISION_HISTORY_ANNOTATION).map(String::as_str), Some("1"));
        assert!(set_new_replica_set_annotations(&d, &mut rs, 5, true, 0));
        let a = rs.metadata.annotations.clone().unwrap_or_default();
        assert_eq!(a.get(REVISION_HISTORY_ANNOTATION).map(String::as_str), Some("1,3"));
        assert!(!set_new_replica_set_annotations(&d, &mut rs, 4, true, 0));
    }
}
