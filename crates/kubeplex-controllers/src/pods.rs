//! Pod and ownership helpers shared by the controllers, as upstream's
//! `pkg/api/v1/pod` and `pkg/controller/controller_utils.go` define them:
//! whether a pod is active, terminating, ready or available; the controller
//! ownerReference of an object; the pod a controller creates from its
//! template; and the adopt/release decision of `ClaimObject` with the patches
//! that carry it out.
//!
//! ```text
//!  owner (ReplicaSet, Job, ...) ──pod_from_template──► Pod {generateName: "<owner>-", ownerReferences[controller]}
//!  any object + owner selector ──claim_decision──► Owned | Adopt (adopt_patch) | Release (release_patch) | Ignore
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector as K8sLabelSelector, ObjectMeta, OwnerReference};
use k8s_openapi::jiff::Timestamp;
use kubeplex_core::selector::{ApiLabelSelector, ApiLabelSelectorRequirement, LabelSelector};

use crate::Error;

/// Annotation that orders pods for scale-down: lower cost goes first.
pub const POD_DELETION_COST_ANNOTATION: &str = "controller.kubernetes.io/pod-deletion-cost";

/// The pod phase, `""` when unset.
pub fn pod_phase(pod: &Pod) -> &str {
    pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("")
}

/// Whether the pod reached `Succeeded` or `Failed`.
pub fn is_pod_terminal(pod: &Pod) -> bool {
    matches!(pod_phase(pod), "Succeeded" | "Failed")
}

/// `controller.IsPodActive`: not terminal and not being deleted.
pub fn is_pod_active(pod: &Pod) -> bool {
    !is_pod_terminal(pod) && pod.metadata.deletion_timestamp.is_none()
}

/// `controller.IsPodTerminating`: being deleted but not yet terminal (what
/// `status.terminatingReplicas` counts).
pub fn is_pod_terminating(pod: &Pod) -> bool {
    !is_pod_terminal(pod) && pod.metadata.deletion_timestamp.is_some()
}

/// The pod's `Ready` condition status is `True`.
pub fn is_pod_ready(pod: &Pod) -> bool {
    ready_condition_since(pod).is_some()
}

/// When the pod became ready: `Some(lastTransitionTime)` of a `Ready=True`
/// condition (`None` inside when the time is missing), `None` when not ready.
pub fn ready_condition_since(pod: &Pod) -> Option<Option<Timestamp>> {
    let conditions = pod.status.as_ref()?.conditions.as_ref()?;
    let ready = conditions.iter().find(|c| c.type_ == "Ready")?;
    (ready.status == "True").then(|| ready.last_transition_time.as_ref().map(|t| t.0))
}

/// `podutil.IsPodAvailable`: ready, and ready for more than
/// `min_ready_seconds` as of `now` (a zero `min_ready_seconds` means ready is
/// enough; a missing transition time never becomes available otherwise).
pub fn is_pod_available(pod: &Pod, min_ready_seconds: i32, now: Timestamp) -> bool {
    match ready_condition_since(pod) {
        None => false,
        Some(_) if min_ready_seconds <= 0 => true,
        Some(None) => false,
        Some(Some(since)) => since
            .checked_add(k8s_openapi::jiff::SignedDuration::from_secs(i64::from(min_ready_seconds)))
            .is_ok_and(|t| t < now),
    }
}

/// For a pod that is ready but not yet available: how long until it becomes
/// available (at least zero). `None` for pods that are not ready, already
/// available, or have no ready time.
pub fn time_until_available(pod: &Pod, min_ready_seconds: i32, now: Timestamp) -> Option<Duration> {
    if min_ready_seconds <= 0 || is_pod_available(pod, min_ready_seconds, now) {
        return None;
    }
    let since = ready_condition_since(pod)??;
    let at = since.checked_add(k8s_openapi::jiff::SignedDuration::from_secs(i64::from(min_ready_seconds))).ok()?;
    let left = at.duration_since(now);
    Some(Duration::try_from(left).unwrap_or(Duration::ZERO))
}

/// `controller.kubernetes.io/pod-deletion-cost` as an int32; missing or
/// invalid is 0.
pub fn pod_deletion_cost(pod: &Pod) -> i32 {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(POD_DELETION_COST_ANNOTATION))
        .and_then(|v| v.parse::<i32>().ok())
        .unwrap_or(0)
}

/// The highest `restartCount` among the pod's container statuses.
pub fn max_container_restarts(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|cs| cs.iter().map(|c| c.restart_count).max())
        .unwrap_or(0)
}

/// `metav1.GetControllerOf`: the ownerReference with `controller: true`.
pub fn controller_ref(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references.as_ref()?.iter().find(|r| r.controller == Some(true))
}

/// Whether `meta`'s controller ownerReference points at the object with `owner_uid`.
pub fn is_controlled_by(meta: &ObjectMeta, owner_uid: &str) -> bool {
    controller_ref(meta).is_some_and(|r| r.uid == owner_uid)
}

/// `metav1.NewControllerRef`: an ownerReference to `owner` with
/// `controller: true` and `blockOwnerDeletion: true`.
pub fn new_controller_ref(owner: &ObjectMeta, api_version: &str, kind: &str) -> OwnerReference {
    OwnerReference {
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
        name: owner.name.clone().unwrap_or_default(),
        uid: owner.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// `controller.GetPodFromTemplate` plus the namespace `createPods` sets: a pod
/// with `generateName: "<owner>-"`, the owner's namespace, the template's
/// labels, annotations, finalizers and spec, and `controller_ref` as its only
/// ownerReference.
pub fn pod_from_template(template: &PodTemplateSpec, owner: &ObjectMeta, controller_ref: OwnerReference) -> Pod {
    let tmeta = template.metadata.as_ref();
    let non_empty = |m: Option<&BTreeMap<String, String>>| m.filter(|m| !m.is_empty()).cloned();
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}-", owner.name.as_deref().unwrap_or_default())),
            namespace: owner.namespace.clone(),
            labels: non_empty(tmeta.and_then(|m| m.labels.as_ref())),
            annotations: non_empty(tmeta.and_then(|m| m.annotations.as_ref())),
            finalizers: tmeta.and_then(|m| m.finalizers.clone()).filter(|f| !f.is_empty()),
            owner_references: Some(vec![controller_ref]),
            ..ObjectMeta::default()
        },
        spec: template.spec.clone(),
        status: None,
    }
}

/// `metav1.LabelSelectorAsSelector` over the k8s-openapi type: `None` matches
/// nothing, an empty selector everything.
pub fn selector_from_k8s(selector: Option<&K8sLabelSelector>) -> Result<LabelSelector, Error> {
    let api = selector.map(|s| ApiLabelSelector {
        match_labels: s.match_labels.clone(),
        match_expressions: s.match_expressions.as_ref().map(|exprs| {
            exprs
                .iter()
                .map(|e| ApiLabelSelectorRequirement {
                    key: e.key.clone(),
                    operator: e.operator.clone(),
                    values: e.values.clone(),
                })
                .collect()
        }),
    });
    LabelSelector::from_api(api.as_ref()).map_err(|e| Error::Invalid(e.to_string()))
}

/// What a controller does with an object its selector may match, as
/// `BaseControllerRefManager.ClaimObject` decides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimDecision {
    /// Already controlled by the owner and matching: it is the owner's.
    Owned,
    /// An orphan that matches: patch it with [`adopt_patch`]; once that
    /// succeeds it is the owner's.
    Adopt,
    /// Controlled by the owner but no longer matching: patch it with
    /// [`release_patch`]; it is not the owner's.
    Release,
    /// Not the owner's business (someone else's, a non-matching orphan, an
    /// orphan being deleted, another namespace, or owned while the owner is
    /// being deleted and no longer matching).
    Ignore,
}

impl ClaimDecision {
    /// Whether the object counts as the owner's after the decision is carried out.
    pub fn is_claimed(self) -> bool {
        matches!(self, ClaimDecision::Owned | ClaimDecision::Adopt)
    }
}

/// `ClaimObject`: whether `owner` (with `selector`) keeps, adopts, releases or
/// ignores the object with metadata `obj`.
pub fn claim_decision(owner: &ObjectMeta, selector: &LabelSelector, obj: &ObjectMeta) -> ClaimDecision {
    let matches = selector.matches(&obj.labels);
    let owner_deleting = owner.deletion_timestamp.is_some();
    if let Some(cref) = controller_ref(obj) {
        if Some(cref.uid.as_str()) != owner.uid.as_deref() {
            return ClaimDecision::Ignore;
        }
        if matches {
            return ClaimDecision::Owned;
        }
        return if owner_deleting { ClaimDecision::Ignore } else { ClaimDecision::Release };
    }
    if owner_deleting || !matches || obj.deletion_timestamp.is_some() {
        return ClaimDecision::Ignore;
    }
    let owner_ns = owner.namespace.as_deref().unwrap_or("");
    if !owner_ns.is_empty() && owner.namespace != obj.namespace {
        return ClaimDecision::Ignore;
    }
    ClaimDecision::Adopt
}

/// The strategic-merge patch upstream sends to adopt an object: adds the
/// controller ownerReference, guarded by the object's UID.
pub fn adopt_patch(controller_ref: &OwnerReference, obj_uid: &str) -> serde_json::Value {
    serde_json::json!({
        "metadata": {
            "ownerReferences": [{
                "apiVersion": controller_ref.api_version,
                "kind": controller_ref.kind,
                "name": controller_ref.name,
                "uid": controller_ref.uid,
                "controller": true,
                "blockOwnerDeletion": true,
            }],
            "uid": obj_uid,
        }
    })
}

/// The strategic-merge patch upstream sends to release an object: deletes the
/// ownerReference with `owner_uid`, guarded by the object's UID.
pub fn release_patch(owner_uid: &str, obj_uid: &str) -> serde_json::Value {
    serde_json::json!({
        "metadata": {
            "ownerReferences": [{"$patch": "delete", "uid": owner_uid}],
            "uid": obj_uid,
        }
    })
}

#[cfg(test)]
pub(crate) mod testing {
    //! Pod builders for the tests of this crate.

    use k8s_openapi::api::core::v1::{Pod, PodCondition, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
    use k8s_openapi::jiff::Timestamp;

    /// A timestamp `secs` seconds after a fixed origin.
    pub fn ts(secs: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + secs).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// A pod named `name` in phase `phase` on `node` (empty: unscheduled),
    /// ready since `ready_since` when given.
    pub fn pod(name: &str, node: &str, phase: &str, ready_since: Option<i64>) -> Pod {
        let mut conditions = Vec::new();
        if let Some(since) = ready_since {
            conditions.push(PodCondition {
                type_: "Ready".into(),
                status: "True".into(),
                last_transition_time: Some(Time(ts(since))),
                ..PodCondition::default()
            });
        }
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("demo".into()),
                uid: Some(format!("uid-{name}")),
                creation_timestamp: Some(Time(ts(0))),
                ..ObjectMeta::default()
            },
            spec: Some(k8s_openapi::api::core::v1::PodSpec {
                node_name: (!node.is_empty()).then(|| node.to_owned()),
                ..Default::default()
            }),
            status: Some(PodStatus { phase: Some(phase.into()), conditions: Some(conditions), ..PodStatus::default() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{pod, ts};
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn owner() -> ObjectMeta {
        ObjectMeta {
            name: Some("web-abc".into()),
            namespace: Some("demo".into()),
            uid: Some("rs-uid".into()),
            ..ObjectMeta::default()
        }
    }

    #[test]
    fn activity_and_readiness() {
        let mut p = pod("a", "n1", "Running", Some(10));
        assert!(is_pod_active(&p) && is_pod_ready(&p) && !is_pod_terminating(&p));
        p.metadata.deletion_timestamp = Some(Time(ts(20)));
        assert!(!is_pod_active(&p) && is_pod_terminating(&p));
        let done = pod("b", "n1", "Succeeded", None);
        assert!(!is_pod_active(&done) && !is_pod_terminating(&done) && !is_pod_ready(&done));
    }

    #[test]
    fn availability_needs_min_ready_seconds_strictly_elapsed() {
        let p = pod("a", "n1", "Running", Some(10));
        assert!(is_pod_available(&p, 0, ts(10)));
        assert!(!is_pod_available(&p, 5, ts(15)));
        assert!(is_pod_available(&p, 5, ts(16)));
        assert_eq!(time_until_available(&p, 5, ts(12)), Some(Duration::from_secs(3)));
        assert_eq!(time_until_available(&p, 5, ts(16)), None);
        assert!(!is_pod_available(&pod("b", "n1", "Running", None), 0, ts(10)));
    }

    #[test]
    fn pod_from_template_sets_owner_and_generate_name() {
        let template: PodTemplateSpec = serde_json::from_value(serde_json::json!({
            "metadata": {"labels": {"app": "web"}, "annotations": {"a": "b"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}
        }))
        .unwrap_or_default();
        let cref = new_controller_ref(&owner(), "apps/v1", "ReplicaSet");
        let p = pod_from_template(&template, &owner(), cref);
        let v = serde_json::to_value(&p).unwrap_or_default();
        assert_eq!(v["metadata"]["generateName"], "web-abc-");
        assert_eq!(v["metadata"]["namespace"], "demo");
        assert_eq!(v["metadata"]["labels"]["app"], "web");
        assert_eq!(v["metadata"]["annotations"]["a"], "b");
        assert_eq!(
            v["metadata"]["ownerReferences"],
            serde_json::json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-abc",
                "uid": "rs-uid", "controller": true, "blockOwnerDeletion": true}])
        );
        assert_eq!(v["spec"]["containers"][0]["image"], "nginx");
    }

    #[test]
    fn claim_decisions_follow_claim_object() {
        let sel = LabelSelector::from_map([("app", "web")]);
        let labels = |v: &str| Some(BTreeMap::from([("app".to_owned(), v.to_owned())]));
        let mut orphan = ObjectMeta { labels: labels("web"), namespace: Some("demo".into()), ..Default::default() };
        assert_eq!(claim_decision(&owner(), &sel, &orphan), ClaimDecision::Adopt);
        orphan.labels = labels("db");
        assert_eq!(claim_decision(&owner(), &sel, &orphan), ClaimDecision::Ignore);
        let cref = new_controller_ref(&owner(), "apps/v1", "ReplicaSet");
        let mut mine = ObjectMeta { labels: labels("web"), owner_references: Some(vec![cref]), ..Default::default() };
        assert_eq!(claim_decision(&owner(), &sel, &mine), ClaimDecision::Owned);
        mine.labels = labels("db");
        assert_eq!(claim_decision(&owner(), &sel, &mine), ClaimDecision::Release);
        let mut deleting = owner();
        deleting.deletion_timestamp = Some(Time(ts(1)));
        assert_eq!(claim_decision(&deleting, &sel, &mine), ClaimDecision::Ignore);
        let mut other_ns = ObjectMeta { labels: labels("web"), namespace: Some("x".into()), ..Default::default() };
        assert_eq!(claim_decision(&owner(), &sel, &other_ns), ClaimDecision::Ignore);
        other_ns.namespace = Some("demo".into());
        other_ns.deletion_timestamp = Some(Time(ts(1)));
        assert_eq!(claim_decision(&owner(), &sel, &other_ns), ClaimDecision::Ignore);
        assert_eq!(
            release_patch("rs-uid", "p1"),
            serde_json::json!({"metadata": {"ownerReferences": [{"$patch": "delete", "uid": "rs-uid"}], "uid": "p1"}})
        );
    }

    #[test]
    fn selector_conversion() {
        let sel = K8sLabelSelector {
            match_labels: Some(BTreeMap::from([("app".to_owned(), "web".to_owned())])),
            match_expressions: None,
        };
        let s = selector_from_k8s(Some(&sel)).unwrap_or_else(|_| LabelSelector::nothing());
        assert!(s.matches(&BTreeMap::from([("app".to_owned(), "web".to_owned())])));
        assert!(selector_from_k8s(None).is_ok_and(|s| s.is_nothing()));
    }
}
