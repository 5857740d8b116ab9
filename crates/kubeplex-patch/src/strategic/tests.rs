//! Tests of strategic merge patch: what kubectl sends, the directives, list ordering and upstream's
//! error cases, against a small Kubernetes-like schema; plus property tests.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::error::PatchStatus;
use crate::merge_patch::apply_merge_patch;

const DEPLOYMENT: &str = "io.k8s.api.apps.v1.Deployment";

fn meta(ty: FieldType, strategy: &str, merge_key: &str) -> FieldMeta {
    match FieldMeta::with_tags(ty, strategy, merge_key) {
        Ok(meta) => meta,
        Err(e) => panic!("bad test schema: {e}"),
    }
}

fn st(id: &str) -> FieldType {
    FieldType::structure(format!("io.k8s.api.{id}"))
}

fn scalar() -> FieldMeta {
    FieldMeta::new(FieldType::Scalar)
}

fn object(id: &str) -> FieldMeta {
    FieldMeta::new(st(id))
}

fn map() -> FieldMeta {
    FieldMeta::new(FieldType::Map)
}

fn atomic_list(item: FieldType) -> FieldMeta {
    FieldMeta::new(FieldType::list(item))
}

fn keyed_list(item: &str, key: &str) -> FieldMeta {
    meta(FieldType::list(st(item)), "merge", key)
}

/// A slice of the Kubernetes types, with their real patch metadata.
fn k8s() -> StaticSchema {
    let mut s = StaticSchema::new();
    let t = |id: &str| format!("io.k8s.api.{id}");
    s.field(&t("apps.v1.Deployment"), "apiVersion", scalar())
        .field(&t("apps.v1.Deployment"), "kind", scalar())
        .field(&t("apps.v1.Deployment"), "metadata", object("meta.v1.ObjectMeta"))
        .field(&t("apps.v1.Deployment"), "spec", object("apps.v1.DeploymentSpec"))
        .field(&t("apps.v1.Deployment"), "status", object("apps.v1.DeploymentStatus"));
    let om = t("meta.v1.ObjectMeta");
    s.field(&om, "name", scalar())
        .field(&om, "namespace", scalar())
        .field(&om, "resourceVersion", scalar())
        .field(&om, "labels", map())
        .field(&om, "annotations", map())
        .field(&om, "finalizers", meta(FieldType::list(FieldType::Scalar), "merge", ""))
        .field(&om, "ownerReferences", keyed_list("meta.v1.OwnerReference", "uid"))
        .field(&om, "managedFields", atomic_list(st("meta.v1.ManagedFieldsEntry")));
    let ds = t("apps.v1.DeploymentSpec");
    s.field(&ds, "replicas", scalar())
        .field(&ds, "selector", object("meta.v1.LabelSelector"))
        .field(&ds, "template", object("core.v1.PodTemplateSpec"))
        .field(&ds, "strategy", meta(st("apps.v1.DeploymentStrategy"), "retainKeys", ""));
    s.field(&t("meta.v1.LabelSelector"), "matchLabels", map()).field(
        &t("meta.v1.LabelSelector"),
        "matchExpressions",
        atomic_list(st("meta.v1.LabelSelectorRequirement")),
    );
    s.field(&t("apps.v1.DeploymentStrategy"), "type", scalar()).field(
        &t("apps.v1.DeploymentStrategy"),
        "rollingUpdate",
        object("apps.v1.RollingUpdateDeployment"),
    );
    s.field(&t("apps.v1.RollingUpdateDeployment"), "maxSurge", scalar()).field(
        &t("apps.v1.RollingUpdateDeployment"),
        "maxUnavailable",
        scalar(),
    );
    s.field(&t("core.v1.PodTemplateSpec"), "metadata", object("meta.v1.ObjectMeta")).field(
        &t("core.v1.PodTemplateSpec"),
        "spec",
        object("core.v1.PodSpec"),
    );
    let ps = t("core.v1.PodSpec");
    s.field(&ps, "containers", keyed_list("core.v1.Container", "name"))
        .field(&ps, "initContainers", keyed_list("core.v1.Container", "name"))
        .field(&ps, "volumes", meta(FieldType::list(st("core.v1.Volume")), "merge,retainKeys", "name"))
        .field(&ps, "imagePullSecrets", keyed_list("core.v1.LocalObjectReference", "name"))
        .field(&ps, "nodeSelector", map())
        .field(&ps, "tolerations", atomic_list(st("core.v1.Toleration")))
        .field(&ps, "restartPolicy", scalar());
    let c = t("core.v1.Container");
    s.field(&c, "name", scalar())
        .field(&c, "image", scalar())
        .field(&c, "imagePullPolicy", scalar())
        .field(&c, "terminationMessagePath", scalar())
        .field(&c, "args", atomic_list(FieldType::Scalar))
        .field(&c, "command", atomic_list(FieldType::Scalar))
        .field(&c, "ports", keyed_list("core.v1.ContainerPort", "containerPort"))
        .field(&c, "env", keyed_list("core.v1.EnvVar", "name"))
        .field(&c, "volumeMounts", keyed_list("core.v1.VolumeMount", "mountPath"))
        .field(&c, "resources", object("core.v1.ResourceRequirements"));
    s.field(&t("core.v1.ContainerPort"), "containerPort", scalar())
        .field(&t("core.v1.ContainerPort"), "protocol", scalar())
        .field(&t("core.v1.ContainerPort"), "name", scalar());
    s.field(&t("core.v1.EnvVar"), "name", scalar()).field(&t("core.v1.EnvVar"), "value", scalar()).field(
        &t("core.v1.EnvVar"),
        "valueFrom",
        object("core.v1.EnvVarSource"),
    );
    s.field(&t("core.v1.EnvVarSource"), "fieldRef", object("core.v1.ObjectFieldSelector"));
    s.field(&t("core.v1.ObjectFieldSelector"), "fieldPath", scalar());
    s.field(&t("core.v1.VolumeMount"), "name", scalar()).field(&t("core.v1.VolumeMount"), "mountPath", scalar());
    s.field(&t("core.v1.ResourceRequirements"), "limits", map()).field(
        &t("core.v1.ResourceRequirements"),
        "requests",
        map(),
    );
    let v = t("core.v1.Volume");
    s.field(&v, "name", scalar())
        .field(&v, "configMap", object("core.v1.ConfigMapVolumeSource"))
        .field(&v, "emptyDir", object("core.v1.EmptyDirVolumeSource"))
        .field(&v, "secret", object("core.v1.SecretVolumeSource"));
    s.field(&t("core.v1.ConfigMapVolumeSource"), "name", scalar())
        .field(&t("core.v1.EmptyDirVolumeSource"), "medium", scalar())
        .field(&t("core.v1.SecretVolumeSource"), "secretName", scalar());
    s.field(&t("apps.v1.DeploymentStatus"), "replicas", scalar()).field(
        &t("apps.v1.DeploymentStatus"),
        "conditions",
        keyed_list("apps.v1.DeploymentCondition", "type"),
    );
    let dc = t("apps.v1.DeploymentCondition");
    s.field(&dc, "type", scalar()).field(&dc, "status", scalar()).field(&dc, "reason", scalar());
    // A free-form object, a replace-strategy field and a map of objects.
    s.declare("io.k8s.apimachinery.pkg.runtime.RawExtension");
    s.field(
        &t("apps.v1.ControllerRevision"),
        "data",
        FieldMeta::new(FieldType::structure("io.k8s.apimachinery.pkg.runtime.RawExtension")),
    )
    .field(
        &t("apps.v1.ControllerRevision"),
        "replaced",
        meta(FieldType::structure("io.k8s.apimachinery.pkg.runtime.RawExtension"), "replace", ""),
    )
    .field(&t("apps.v1.ControllerRevision"), "attributes", map())
    .field(&t("apps.v1.ControllerRevision"), "matrix", atomic_list(FieldType::list(FieldType::Scalar)))
    .field(&t("apps.v1.ControllerRevision"), "grid", meta(FieldType::list(FieldType::Scalar), "merge", ""));
    s
}

fn smp(original: Value, patch: Value) -> Value {
    match apply_strategic_merge_patch(&original, &patch, &k8s(), Some(DEPLOYMENT)) {
        Ok(v) => v,
        Err(e) => panic!("patch failed: {e}\noriginal: {original}\npatch: {patch}"),
    }
}

fn smp_err(original: Value, patch: Value) -> PatchError {
    match apply_strategic_merge_patch(&original, &patch, &k8s(), Some(DEPLOYMENT)) {
        Ok(v) => panic!("patch unexpectedly succeeded: {v}"),
        Err(e) => e,
    }
}

fn on_revision(original: Value, patch: Value) -> Result<Value, PatchError> {
    apply_strategic_merge_patch(&original, &patch, &k8s(), Some("io.k8s.api.apps.v1.ControllerRevision"))
}

fn deployment(containers: Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "demo", "labels": {"app": "web"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": containers, "restartPolicy": "Always"}
            }
        }
    })
}

fn containers(doc: &Value) -> &Value {
    &doc["spec"]["template"]["spec"]["containers"]
}

// ---- what kubectl sends -------------------------------------------------------------------------

#[test]
fn kubectl_apply_update() {
    let live = deployment(json!([
        {"name": "web", "image": "nginx:1.25", "imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/termination-log"}
    ]));
    let patch = json!({
        "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"kind\":\"Deployment\"}\n"}},
        "spec": {"replicas": 3, "template": {"spec": {
            "$setElementOrder/containers": [{"name": "web"}],
            "containers": [{"image": "nginx:1.26", "name": "web"}]
        }}}
    });
    let out = smp(live, patch);
    assert_eq!(out["spec"]["replicas"], json!(3));
    assert_eq!(
        *containers(&out),
        json!([{"name": "web", "image": "nginx:1.26", "imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/termination-log"}])
    );
    assert_eq!(
        out["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"],
        json!("{\"kind\":\"Deployment\"}\n")
    );
    assert_eq!(out["metadata"]["labels"], json!({"app": "web"}));
}

#[test]
fn kubectl_apply_adds_and_removes_containers() {
    let live = deployment(json!([{"name": "web", "image": "nginx"}, {"name": "old", "image": "busybox"}]));
    // kubectl's three-way patch: a new container first, the old one deleted.
    let patch = json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "web"}],
        "containers": [{"name": "sidecar", "image": "envoy"}, {"$patch": "delete", "name": "old"}]
    }}}});
    let out = smp(live, patch);
    assert_eq!(*containers(&out), json!([{"name": "sidecar", "image": "envoy"}, {"name": "web", "image": "nginx"}]));
}

#[test]
fn kubectl_set_image() {
    let live = deployment(json!([{"name": "nginx", "image": "nginx:1.26"}, {"name": "log", "image": "fluent"}]));
    let patch = json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "nginx"}, {"name": "log"}],
        "containers": [{"image": "nginx:1.27", "name": "nginx"}]
    }}}});
    let out = smp(live, patch);
    assert_eq!(
        *containers(&out),
        json!([{"name": "nginx", "image": "nginx:1.27"}, {"name": "log", "image": "fluent"}])
    );
}

#[test]
fn kubectl_rollout_restart_and_edit() {
    let live = deployment(json!([{"name": "web", "image": "nginx"}]));
    let out = smp(
        live.clone(),
        json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-02T03:04:05Z"}}}}}),
    );
    assert_eq!(
        out["spec"]["template"]["metadata"],
        json!({"labels": {"app": "web"}, "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-02T03:04:05Z"}})
    );
    let again = smp(
        out,
        json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-03T00:00:00Z"}}}}}),
    );
    assert_eq!(
        again["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"],
        json!("2026-01-03T00:00:00Z")
    );

    let edited = smp(live.clone(), json!({"spec": {"replicas": 5}}));
    let mut expected = live;
    expected["spec"]["replicas"] = json!(5);
    assert_eq!(edited, expected);
}

#[test]
fn empty_patch_changes_nothing() {
    let live = deployment(json!([{"name": "web", "image": "nginx"}]));
    assert_eq!(smp(live.clone(), json!({})), live);
    assert_eq!(smp(live.clone(), Value::Null), live);
}

// ---- merging lists ------------------------------------------------------------------------------

#[test]
fn keyed_lists_merge_by_their_merge_key() {
    let live = deployment(json!([{
        "name": "web",
        "ports": [{"containerPort": 80, "protocol": "TCP"}],
        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
        "volumeMounts": [{"name": "data", "mountPath": "/data"}]
    }]));
    let patch = json!({"spec": {"template": {"spec": {"containers": [{
        "name": "web",
        "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443}],
        "env": [{"name": "B", "value": "two"}, {"name": "C", "value": "3"}],
        "volumeMounts": [{"name": "cache", "mountPath": "/data"}]
    }]}}}});
    let out = smp(live, patch);
    let c = &containers(&out)[0];
    assert_eq!(c["ports"], json!([{"containerPort": 80, "protocol": "TCP", "name": "http"}, {"containerPort": 443}]));
    // A is server-only and came before B in the live list; C is new and goes before what waits.
    assert_eq!(
        c["env"],
        json!([{"name": "A", "value": "1"}, {"name": "B", "value": "two"}, {"name": "C", "value": "3"}])
    );
    assert_eq!(c["volumeMounts"], json!([{"name": "cache", "mountPath": "/data"}]));
}

#[test]
fn lists_without_strategy_are_replaced() {
    let live = deployment(json!([{"name": "web", "args": ["a", "b"], "command": ["sh"]}]));
    let out = smp(live, json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "args": ["c"]}]}}}}));
    assert_eq!(containers(&out)[0], json!({"name": "web", "args": ["c"], "command": ["sh"]}));
}

#[test]
fn finalizers_merge_as_a_set() {
    let live = json!({"metadata": {"name": "x", "finalizers": ["a", "b"]}});
    let out = smp(live.clone(), json!({"metadata": {"finalizers": ["b", "c"]}}));
    assert_eq!(out["metadata"]["finalizers"], json!(["a", "b", "c"]));

    let out = smp(live.clone(), json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a", "zzz"]}}));
    assert_eq!(out["metadata"]["finalizers"], json!(["b"]));

    // a deletion list for a missing list adds nothing
    let out =
        smp(json!({"metadata": {"name": "x"}}), json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}));
    assert_eq!(out, json!({"metadata": {"name": "x"}}));

    // kubectl's patch adding c and removing a
    let out = smp(
        live,
        json!({"metadata": {"$setElementOrder/finalizers": ["b", "c"], "$deleteFromPrimitiveList/finalizers": ["a"], "finalizers": ["c"]}}),
    );
    assert_eq!(out["metadata"]["finalizers"], json!(["b", "c"]));
}

#[test]
fn a_new_item_goes_before_the_server_only_items_still_waiting() {
    // live [a, b, c]; the patch names only new item x: x first, then the live items.
    let live = json!({"metadata": {"finalizers": ["a", "b", "c"]}});
    let out = smp(live, json!({"metadata": {"finalizers": ["x"]}}));
    assert_eq!(out["metadata"]["finalizers"], json!(["x", "a", "b", "c"]));
}

#[test]
fn patch_order_wins_over_live_order() {
    // live [1, 2(b), 3]; patch [3(c), 1(a)] → [2, 3, 1]
    let live = json!({"status": {"conditions": [{"type": "1"}, {"type": "2", "reason": "b"}, {"type": "3"}]}});
    let out =
        smp(live, json!({"status": {"conditions": [{"type": "3", "reason": "c"}, {"type": "1", "reason": "a"}]}}));
    assert_eq!(
        out["status"]["conditions"],
        json!([{"type": "2", "reason": "b"}, {"type": "3", "reason": "c"}, {"type": "1", "reason": "a"}])
    );
    // the same with scalars
    let out =
        smp(json!({"metadata": {"finalizers": ["1", "2", "3"]}}), json!({"metadata": {"finalizers": ["3", "1"]}}));
    assert_eq!(out["metadata"]["finalizers"], json!(["2", "3", "1"]));
}

#[test]
fn duplicates_are_merged_away_in_scalar_sets() {
    let out =
        smp(json!({"metadata": {"finalizers": ["a", "a", "b"]}}), json!({"metadata": {"finalizers": ["b", "c", "c"]}}));
    assert_eq!(out["metadata"]["finalizers"], json!(["a", "b", "c"]));
}

// ---- $setElementOrder ---------------------------------------------------------------------------

fn conditions(types: &[&str]) -> Value {
    Value::Array(types.iter().map(|t| json!({"type": t})).collect())
}

fn types_of(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|items| items.iter().map(|i| i["type"].as_str().unwrap_or("?").to_string()).collect())
        .unwrap_or_default()
}

#[test]
fn set_element_order_reorders_without_changes() {
    let live = json!({"status": {"conditions": conditions(&["1", "3", "4", "2"])}});
    let out = smp(live, json!({"status": {"$setElementOrder/conditions": conditions(&["4", "2", "3", "1"])}}));
    assert_eq!(types_of(&out["status"]["conditions"]), ["4", "2", "3", "1"]);
}

#[test]
fn set_element_order_keeps_server_only_items_in_place() {
    // server-only 9 sits after 2 in the live list: it stays between 2's group and the rest.
    let live = json!({"status": {"conditions": conditions(&["1", "2", "9", "3", "4"])}});
    let out = smp(live, json!({"status": {"$setElementOrder/conditions": conditions(&["2", "1", "4", "3"])}}));
    assert_eq!(types_of(&out["status"]["conditions"]), ["2", "1", "9", "4", "3"]);

    let live = json!({"status": {"conditions": conditions(&["1", "2", "7", "9", "8", "3", "4"])}});
    let out = smp(live, json!({"status": {"$setElementOrder/conditions": conditions(&["2", "1", "4", "3"])}}));
    assert_eq!(types_of(&out["status"]["conditions"]), ["2", "1", "7", "9", "8", "4", "3"]);

    let live = json!({"status": {"conditions": conditions(&["1", "3", "4", "2", "9"])}});
    let out = smp(live, json!({"status": {"$setElementOrder/conditions": conditions(&["4", "2", "3", "1"])}}));
    assert_eq!(types_of(&out["status"]["conditions"]), ["4", "2", "3", "1", "9"]);
}

#[test]
fn set_element_order_sees_the_live_list_as_upstream_left_it() {
    // Upstream deletes a in place (b and d shift left) and appends c into the freed slot; the
    // server-only item d is then ordered against that slice [b, d, c], so it ends up before c.
    let live = json!({"status": {"conditions": conditions(&["a", "b", "d"])}});
    let out = smp(
        live,
        json!({"status": {
            "$setElementOrder/conditions": conditions(&["b", "c"]),
            "conditions": [{"type": "c"}, {"type": "a", "$patch": "delete"}]
        }}),
    );
    assert_eq!(types_of(&out["status"]["conditions"]), ["b", "d", "c"]);
}

#[test]
fn deduplicating_a_live_set_in_place_reorders_it_like_upstream() {
    // An empty patch list still deduplicates the live set; upstream does it in place, moving the
    // last item into the duplicate's slot, and orders by the result.
    let out = smp(json!({"metadata": {"finalizers": ["a", "a", "c", "b"]}}), json!({"metadata": {"finalizers": []}}));
    assert_eq!(out["metadata"]["finalizers"], json!(["a", "b", "c"]));
}

#[test]
fn set_element_order_with_duplicates_in_the_live_list() {
    let live = json!({"status": {"conditions": [
        {"type": "1"}, {"type": "2", "reason": "dup1"}, {"type": "3"}, {"type": "2", "reason": "dup2"}, {"type": "4"}
    ]}});
    let out = smp(live, json!({"status": {"$setElementOrder/conditions": conditions(&["2", "1", "4", "3", "2"])}}));
    assert_eq!(
        out["status"]["conditions"],
        json!([{"type": "2", "reason": "dup1"}, {"type": "2", "reason": "dup2"}, {"type": "1"}, {"type": "4"}, {"type": "3"}])
    );
    let out = smp(
        json!({"metadata": {"finalizers": ["1", "2", "3", "2", "4"]}}),
        json!({"metadata": {"$setElementOrder/finalizers": ["2", "1", "4", "3", "2"]}}),
    );
    assert_eq!(out["metadata"]["finalizers"], json!(["2", "2", "1", "4", "3"]));
}

#[test]
fn set_element_order_may_name_items_that_do_not_exist() {
    let live = json!({"status": {"conditions": [{"type": "1"}, {"type": "3"}]}});
    let out = smp(
        live,
        json!({"status": {
            "$setElementOrder/conditions": conditions(&["3", "2", "1"]),
            "conditions": [{"type": "3", "status": "3"}, {"type": "1", "status": "1"}]
        }}),
    );
    assert_eq!(out["status"]["conditions"], json!([{"type": "3", "status": "3"}, {"type": "1", "status": "1"}]));
    let out = smp(
        json!({"metadata": {"finalizers": ["1", "3"]}}),
        json!({"metadata": {"$setElementOrder/finalizers": ["3", "2", "1"]}}),
    );
    assert_eq!(out["metadata"]["finalizers"], json!(["3", "1"]));
}

#[test]
fn set_element_order_on_a_missing_list_adds_the_patch_list_without_directives() {
    let out = smp(
        json!({"metadata": {"name": "hi"}}),
        json!({"metadata": {
            "$setElementOrder/ownerReferences": [{"uid": "b"}, {"uid": "a"}],
            "ownerReferences": [{"uid": "b"}, {"uid": "c", "$patch": "delete"}, {"uid": "a", "x": {"$patch": "delete"}}]
        }}),
    );
    assert_eq!(out["metadata"]["ownerReferences"], json!([{"uid": "b"}, {"uid": "a"}]));
}

#[test]
fn set_element_order_must_agree_with_the_patch_list() {
    let live = json!({"status": {"conditions": conditions(&["1", "3", "2"])}});
    let err = smp_err(
        live,
        json!({"status": {
            "$setElementOrder/conditions": conditions(&["1", "2", "3"]),
            "conditions": [{"type": "3", "status": "x"}, {"type": "1", "status": "y"}]
        }}),
    );
    assert_eq!(
        err.to_string(),
        "The order in patch list:\n[map[status:x type:3] map[status:y type:1]]\n doesn't match $setElementOrder list:\n[map[type:1] map[type:2] map[type:3]]\n"
    );
    assert_eq!(err.status().code, 500);

    let err = smp_err(
        json!({"metadata": {"finalizers": ["1", "3", "2"]}}),
        json!({"metadata": {"$setElementOrder/finalizers": ["1", "2", "3"], "finalizers": ["3", "1"]}}),
    );
    assert!(err.to_string().contains("doesn't match"), "{err}");
}

#[test]
fn malformed_set_element_order() {
    let live = json!({"status": {"conditions": conditions(&["1"])}});
    let err = smp_err(live.clone(), json!({"status": {"$setElementOrder/conditions": {"type": "1"}}}));
    assert_eq!(err.to_string(), "expected a []interface {}, but received a map[string]interface {}");
    let err = smp_err(live.clone(), json!({"status": {"$setElementOrderconditions": []}}));
    assert_eq!(err, PatchError::BadSetElementOrderDirective);
    assert_eq!(err.status().code, 400);
    let err = smp_err(live.clone(), json!({"status": {"$setElementOrder/conditions": [{"status": "x"}]}}));
    assert_eq!(err.to_string(), "map: map[status:x] does not contain declared merge key: type");
    let err = smp_err(live, json!({"status": {"$setElementOrder/bogus": [{"type": "1"}]}}));
    assert_eq!(err.to_string(), "unable to find api field in struct DeploymentStatus for the json field \"bogus\"");
}

// ---- $patch ----------------------------------------------------------------------------------------

#[test]
fn patch_delete_in_keyed_lists_removes_every_match() {
    let live = json!({"status": {"conditions": [{"type": "1"}, {"type": "1"}, {"type": "2", "reason": "a"}, {"type": "3"}, {"type": "3"}]}});
    let out = smp(
        live,
        json!({"status": {"conditions": [{"type": "1", "$patch": "delete"}, {"type": "3", "$patch": "delete"}]}}),
    );
    assert_eq!(out["status"]["conditions"], json!([{"type": "2", "reason": "a"}]));
    // deleting a missing item is fine
    let out = smp(
        json!({"status": {"conditions": [{"type": "1"}]}}),
        json!({"status": {"conditions": [{"type": "9", "$patch": "delete"}]}}),
    );
    assert_eq!(out["status"]["conditions"], json!([{"type": "1"}]));
}

#[test]
fn patch_replace_in_a_keyed_list_replaces_the_list() {
    let live = deployment(json!([{"name": "a", "image": "x"}, {"name": "b"}]));
    let out = smp(
        live.clone(),
        json!({"spec": {"template": {"spec": {"containers": [{"name": "c"}, {"$patch": "replace"}]}}}}),
    );
    assert_eq!(*containers(&out), json!([{"name": "c"}]));
    let out = smp(live, json!({"spec": {"template": {"spec": {"containers": [{"$patch": "replace"}]}}}}));
    assert_eq!(*containers(&out), json!([]));
}

#[test]
fn patch_directives_on_maps() {
    let live = json!({"metadata": {"labels": {"a": "1", "b": "2"}}});
    let out = smp(live.clone(), json!({"metadata": {"labels": {"$patch": "replace", "c": "3"}}}));
    assert_eq!(out["metadata"]["labels"], json!({"c": "3"}));
    let out = smp(live.clone(), json!({"metadata": {"labels": {"$patch": "delete"}}}));
    assert_eq!(out["metadata"]["labels"], json!({}));
    // a directive object where there is nothing to merge with vanishes
    let out = smp(json!({"metadata": {}}), json!({"metadata": {"labels": {"$patch": "delete"}}}));
    assert_eq!(out, json!({"metadata": {}}));
    // replacing the whole object
    let out = smp(live, json!({"$patch": "replace", "kind": "Deployment"}));
    assert_eq!(out, json!({"kind": "Deployment"}));
}

#[test]
fn unknown_and_unsupported_patch_directives() {
    let live = json!({"metadata": {"labels": {"a": "1"}}});
    let err = smp_err(live.clone(), json!({"metadata": {"labels": {"$patch": "frob", "b": "2"}}}));
    assert_eq!(err.to_string(), "unknown patch type: frob in map: map[$patch:frob b:2]");
    let err = smp_err(live.clone(), json!({"metadata": {"labels": {"$patch": "merge"}}}));
    assert_eq!(err.to_string(), "unknown patch type: merge in map: map[$patch:merge]");
    let err = smp_err(live, json!({"metadata": {"labels": {"$patch": 1}}}));
    assert_eq!(err.to_string(), "unknown patch type: %!s(int64=1) in map: map[$patch:1]");

    let list = json!({"status": {"conditions": [{"type": "1"}]}});
    let err = smp_err(list.clone(), json!({"status": {"conditions": [{"$patch": "merge"}]}}));
    assert_eq!(err.to_string(), "merging lists cannot yet be specified in the patch");
    let err = smp_err(list.clone(), json!({"status": {"conditions": [{"$patch": "frob", "type": "1"}]}}));
    assert_eq!(err.to_string(), "unknown patch type: frob in map: map[$patch:frob type:1]");
    let err = smp_err(list, json!({"status": {"conditions": [{"$patch": "delete"}]}}));
    assert_eq!(err.to_string(), "map: map[$patch:delete] does not contain declared merge key: type");
}

// ---- $retainKeys ----------------------------------------------------------------------------------

#[test]
fn retain_keys_switches_a_union() {
    // kubectl apply changing the strategy from RollingUpdate to Recreate
    let live = deployment(json!([{"name": "web"}]));
    let out =
        smp(live, json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": null, "type": "Recreate"}}}));
    assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
}

#[test]
fn retain_keys_on_list_items() {
    let mut live = deployment(json!([{"name": "web"}]));
    live["spec"]["template"]["spec"]["volumes"] =
        json!([{"name": "data", "emptyDir": {"medium": "Memory"}}, {"name": "cfg", "configMap": {"name": "c"}}]);
    let out = smp(
        live,
        json!({"spec": {"template": {"spec": {
            "$setElementOrder/volumes": [{"name": "data"}, {"name": "cfg"}],
            "volumes": [{"$retainKeys": ["name", "secret"], "name": "data", "secret": {"secretName": "s"}}]
        }}}}),
    );
    assert_eq!(
        out["spec"]["template"]["spec"]["volumes"],
        json!([{"name": "data", "secret": {"secretName": "s"}}, {"name": "cfg", "configMap": {"name": "c"}}])
    );
}

#[test]
fn retain_keys_must_list_every_patch_field() {
    let live = deployment(json!([{"name": "web"}]));
    let err = smp_err(
        live.clone(),
        json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {"maxSurge": 1}}}}),
    );
    assert_eq!(err, PatchError::BadRetainKeysDirective);
    assert_eq!(err.status().code, 400);
    let err = smp_err(live.clone(), json!({"spec": {"strategy": {"$retainKeys": "type"}}}));
    assert_eq!(err.to_string(), "invalid patch format of retainKeys");
    // an empty retainKeys clears everything
    let out = smp(live, json!({"spec": {"strategy": {"$retainKeys": []}}}));
    assert_eq!(out["spec"]["strategy"], json!({}));
}

// ---- nulls and values -----------------------------------------------------------------------------

#[test]
fn null_deletes_and_nulls_in_new_values_are_dropped() {
    let live = deployment(json!([{"name": "web", "image": "nginx", "resources": {"limits": {"cpu": "1"}}}]));
    let out = smp(
        live,
        json!({
            "metadata": {"labels": null, "annotations": {"a": null, "b": "1"}},
            "spec": {"strategy": {"rollingUpdate": {"maxSurge": null}}, "template": {"spec": {"containers": [{"name": "web", "resources": null}]}}}
        }),
    );
    assert!(out["metadata"].get("labels").is_none());
    assert_eq!(out["metadata"]["annotations"], json!({"b": "1"}));
    assert_eq!(out["spec"]["strategy"]["rollingUpdate"], json!({"maxUnavailable": "25%"}));
    assert_eq!(containers(&out)[0], json!({"name": "web", "image": "nginx"}));
}

#[test]
fn new_list_items_are_appended_as_sent() {
    // upstream appends new keyed items as they are: nulls inside stay for the typed decoding to drop.
    let live = deployment(json!([{"name": "web"}]));
    let out = smp(live, json!({"spec": {"template": {"spec": {"containers": [{"name": "new", "image": null}]}}}}));
    assert_eq!(*containers(&out), json!([{"name": "new", "image": null}, {"name": "web"}]));
}

#[test]
fn kinds_that_differ_are_replaced() {
    let live = json!({"metadata": {"name": "x", "labels": {"a": "1"}}, "spec": {"replicas": 1}});
    let out = smp(live, json!({"metadata": {"labels": "oops"}, "spec": {"replicas": 1.5}}));
    assert_eq!(out["metadata"]["labels"], json!("oops"));
    assert_eq!(out["spec"]["replicas"], json!(1.5));
}

#[test]
fn unknown_fields_are_added_but_not_merged() {
    let live = deployment(json!([{"name": "web"}]));
    let out = smp(live.clone(), json!({"spec": {"template": {"spec": {"bogus": {"x": 1}}}}}));
    assert_eq!(out["spec"]["template"]["spec"]["bogus"], json!({"x": 1}));
    let err = smp_err(out, json!({"spec": {"template": {"spec": {"bogus": {"y": 2}}}}}));
    assert_eq!(err.to_string(), "unable to find api field in struct PodSpec for the json field \"bogus\"");
    assert_eq!(err.status(), PatchStatus { code: 500, reason: "", message: err.to_string() });
}

#[test]
fn free_form_replace_and_map_fields() {
    // a free-form object can be added or replaced, but not merged into
    let live = json!({"data": {"spec": {"a": 1}}, "replaced": {"a": {"b": 1}}, "attributes": {"x": {"int": 1}}});
    let err = on_revision(live.clone(), json!({"data": {"spec": {"b": 2}}})).unwrap_err();
    assert_eq!(err.to_string(), "unable to find api field in struct RawExtension for the json field \"spec\"");
    assert_eq!(
        on_revision(live.clone(), json!({"data": {"other": 1}})).unwrap()["data"],
        json!({"spec": {"a": 1}, "other": 1})
    );
    // strategy replace: the object is replaced whole
    assert_eq!(on_revision(live.clone(), json!({"replaced": {"c": 1}})).unwrap()["replaced"], json!({"c": 1}));
    // a map whose values are objects cannot be merged into (upstream looks fields up in a map type)
    let err = on_revision(live, json!({"attributes": {"x": {"string": "s"}}})).unwrap_err();
    assert_eq!(err.to_string(), "merging an object in json but data type is not struct, instead is: map");
}

#[test]
fn list_shapes_upstream_refuses() {
    let err = on_revision(json!({"grid": [["a"]]}), json!({"grid": [["b"]]})).unwrap_err();
    assert_eq!(err, PatchError::ListOfLists);
    assert_eq!(err.status().code, 422);
    // upstream refuses a list-of-lists field even without merge strategy when both sides have it
    let err = on_revision(json!({"matrix": [["a"]]}), json!({"matrix": [["b"]]})).unwrap_err();
    assert_eq!(err.to_string(), "unexpected slice of slice");
    assert_eq!(on_revision(json!({}), json!({"matrix": [["b"]]})).unwrap(), json!({"matrix": [["b"]]}));
    let err = on_revision(json!({"grid": ["a"]}), json!({"grid": [1]})).unwrap_err();
    assert_eq!(err.to_string(), "list element types are not identical: [[a] [1]]");
    let err = smp_err(
        json!({"status": {"conditions": []}}),
        json!({"status": {"$setElementOrder/conditions": [], "conditions": []}}),
    );
    assert_eq!(err.to_string(), "no elements in any of the given slices");
}

#[test]
fn missing_merge_key_in_a_merged_list() {
    let mut live = deployment(json!([{"name": "web"}]));
    live["spec"]["template"]["spec"]["volumes"] = json!([{"name": "data", "emptyDir": {}}]);
    let err = smp_err(
        live,
        json!({"spec": {"template": {"spec": {"volumes": [{"hostPath": {"path": "/var/lib/kubelet/pods"}}]}}}}),
    );
    assert_eq!(
        err.to_string(),
        "map: map[hostPath:map[path:/var/lib/kubelet/pods]] does not contain declared merge key: name"
    );
    assert_eq!(err.status().code, 500);
}

#[test]
fn malformed_delete_from_primitive_list() {
    let live = json!({"metadata": {"finalizers": ["a"]}});
    let err = smp_err(live.clone(), json!({"metadata": {"$deleteFromPrimitiveListfinalizers": ["a"]}}));
    assert_eq!(err, PatchError::BadPrimitiveListDirective);
    assert_eq!(err.status().message, "invalid patch format of primitive list");
    // `null` as the deletion list deletes the list itself, as upstream does
    let out = smp(live, json!({"metadata": {"$deleteFromPrimitiveList/finalizers": null}}));
    assert_eq!(out, json!({"metadata": {}}));
    // on a list without merge strategy the values are deleted too
    let out = smp(
        deployment(json!([{"name": "web", "args": ["a", "b", "c"]}])),
        json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "$deleteFromPrimitiveList/args": ["b"]}]}}}}),
    );
    assert_eq!(containers(&out)[0]["args"], json!(["a", "c"]));
}

#[test]
fn custom_resources_and_bad_bodies_are_refused() {
    let err = apply_strategic_merge_patch(&json!({}), &json!({}), &k8s(), None).unwrap_err();
    assert_eq!(err, PatchError::StrategicMergeUnsupported);
    assert_eq!(err.status().code, 415);
    let err = smp_err(json!({}), json!([1]));
    assert_eq!(err.to_string(), "json: cannot unmarshal array into Go value of type map[string]interface {}");
    assert_eq!(err.status().code, 400);
}

// ---- properties ---------------------------------------------------------------------------------

/// A schema where type `Any` has every field, without strategy: fields named `l…` are lists of `Any`,
/// the others are `Any` objects. The generators below put lists only under `l…` keys.
struct AnySchema;

impl PatchSchema for AnySchema {
    fn lookup(&self, type_id: &str, field: &str) -> Option<FieldMeta> {
        let any = FieldType::structure("Any");
        (type_id == "Any").then(|| FieldMeta::new(if field.starts_with('l') { FieldType::list(any) } else { any }))
    }
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        any::<i16>().prop_map(|n| json!(n)),
        (-4i16..4).prop_map(|n| json!(f64::from(n) + 0.5)),
        "[a-c]{0,2}".prop_map(Value::String),
    ]
}

/// Object members without nulls: lists under `l…` keys, objects or scalars under the others.
fn plain_members(inner: BoxedStrategy<Value>) -> impl Strategy<Value = Value> {
    let lists = prop::collection::btree_map("l[a-b]", prop::collection::vec(inner.clone(), 0..4), 0..2);
    let others = prop::collection::btree_map("[a-d]", inner, 0..4);
    (lists, others).prop_map(|(lists, others)| {
        let mut map = serde_json::Map::new();
        for (k, v) in lists {
            map.insert(k, Value::Array(v));
        }
        for (k, v) in others {
            map.insert(k, v);
        }
        Value::Object(map)
    })
}

/// Values without nulls.
fn plain_value() -> BoxedStrategy<Value> {
    leaf().prop_recursive(3, 32, 4, |inner| plain_members(inner.boxed())).boxed()
}

fn plain_object() -> impl Strategy<Value = Value> {
    plain_members(plain_value())
}

/// Patch objects: like [`plain_object`], but members may be `null` (never inside lists) and a list
/// key may also hold a scalar.
fn patch_members(inner: BoxedStrategy<Value>) -> impl Strategy<Value = Value> {
    let list_or_scalar = prop_oneof![prop::collection::vec(plain_value(), 0..4).prop_map(Value::Array), leaf()];
    let lists = prop::collection::btree_map("l[a-b]", prop::option::weighted(0.8, list_or_scalar), 0..2);
    let others = prop::collection::btree_map("[a-d]", prop::option::weighted(0.8, inner), 0..4);
    (lists, others).prop_map(|(lists, others)| {
        let mut map = serde_json::Map::new();
        for (k, v) in lists.into_iter().chain(others) {
            map.insert(k, v.unwrap_or(Value::Null));
        }
        Value::Object(map)
    })
}

fn patch_value() -> BoxedStrategy<Value> {
    leaf().prop_recursive(3, 32, 4, |inner| patch_members(inner.boxed())).boxed()
}

fn patch_object() -> impl Strategy<Value = Value> {
    patch_members(patch_value())
}

proptest! {
    #[test]
    fn empty_patch_is_identity(doc in plain_object()) {
        prop_assert_eq!(apply_strategic_merge_patch(&doc, &json!({}), &AnySchema, Some("Any")).unwrap(), doc.clone());
        prop_assert_eq!(apply_strategic_merge_patch(&doc, &json!({}), &k8s(), Some(DEPLOYMENT)).unwrap(), doc);
    }

    #[test]
    fn without_strategies_it_is_a_merge_patch(doc in plain_object(), patch in patch_object()) {
        let smp = apply_strategic_merge_patch(&doc, &patch, &AnySchema, Some("Any")).unwrap();
        let merge = apply_merge_patch(&doc, &patch).unwrap();
        prop_assert_eq!(smp, merge);
    }

    #[test]
    fn merging_a_keyed_list_with_itself_changes_nothing(types in prop::collection::vec("[a-e]", 0..8)) {
        let mut seen = std::collections::HashSet::new();
        let list: Vec<Value> = types.into_iter().filter(|t| seen.insert(t.clone()))
            .map(|t| json!({"type": t, "status": "True"})).collect();
        let doc = json!({"status": {"conditions": list.clone()}});
        let out = apply_strategic_merge_patch(&doc, &json!({"status": {"conditions": list}}), &k8s(), Some(DEPLOYMENT)).unwrap();
        prop_assert_eq!(out, doc);
    }

    #[test]
    fn set_element_order_puts_named_items_in_its_order(perm in Just(vec!["a", "b", "c", "d"]).prop_shuffle(), live in Just(vec!["a", "b", "c", "d"]).prop_shuffle()) {
        let doc = json!({"metadata": {"finalizers": live}});
        let out = apply_strategic_merge_patch(&doc, &json!({"metadata": {"$setElementOrder/finalizers": perm.clone()}}), &k8s(), Some(DEPLOYMENT)).unwrap();
        prop_assert_eq!(&out["metadata"]["finalizers"], &json!(perm));
    }
}
