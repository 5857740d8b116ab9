//! The workload kinds beside Deployments, ReplicaSets and Jobs: core/v1
//! PodTemplates and ReplicationControllers, apps/v1 StatefulSets, DaemonSets
//! and ControllerRevisions, batch/v1 CronJobs (`pkg/apis/{core,apps,batch}/v1`
//! defaults, `pkg/registry/{core,apps,batch}/<kind>/strategy.go`,
//! `pkg/apis/{core,apps,batch}/validation`).
//!
//! ```text
//!  pod templates ─► podspec::default_template / podspec::validate_template
//!                   (the same defaults and checks Deployments get)
//!  CronJob.jobTemplate.spec ─► batch::validate (a Job's spec checks, re-rooted)
//!  generation: 1 on create, +1 when the spec (a PodTemplate's template) changes
//! ```
//!
//! Also the helpers the other strategies share with these kinds:
//! `ValidatePositiveIntOrPercent` / `IsNotMoreThan100Percent` and the 422
//! value rendering of an `IntOrString`.

use kubeplex_core::names::{
    NameValidator, name_is_dns_label, name_is_dns_subdomain, validate_annotations, validate_labels,
};
use kubeplex_core::selector::LabelSelector;
use serde_json::{Map, Value, json};

use super::apps::{
    controller_template_rules, int_or_percent, positive_percent_at_most_100, render_int_or_string, render_selector,
    required_selector, selector_empty, selector_immutable, selector_of, template_labels_match,
};
use super::batch;
use super::field::{
    Errs, Path, at, child_obj, each_obj_mut, forbidden, immutable, int_at, invalid, invalid_rendered, list_at,
    nonnegative, not_supported, not_supported_json, obj_path, render_ordered, required, s, semantic_eq, set_default,
    set_default_str, sort_map, string_map,
};
use super::meta::{self, MetaRules};
use super::{podspec, volumes};

/// The kinds of this module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WorkloadKind {
    PodTemplate,
    ReplicationController,
    StatefulSet,
    DaemonSet,
    ControllerRevision,
    CronJob,
}

/// The kind of `(group, kind)`, if it is one of this module's.
pub(crate) fn kind_of(group: &str, kind: &str) -> Option<WorkloadKind> {
    Some(match (group, kind) {
        ("", "PodTemplate") => WorkloadKind::PodTemplate,
        ("", "ReplicationController") => WorkloadKind::ReplicationController,
        ("apps", "StatefulSet") => WorkloadKind::StatefulSet,
        ("apps", "DaemonSet") => WorkloadKind::DaemonSet,
        ("apps", "ControllerRevision") => WorkloadKind::ControllerRevision,
        ("batch", "CronJob") => WorkloadKind::CronJob,
        _ => return None,
    })
}

/// The name rule: StatefulSet names are DNS labels (they name pods' hosts),
/// the others DNS subdomains.
pub(crate) fn name_validator(kind: WorkloadKind) -> NameValidator {
    match kind {
        WorkloadKind::StatefulSet => name_is_dns_label,
        _ => name_is_dns_subdomain,
    }
}

/// The annotation apps/v1 DaemonSets carry their template generation in.
const TEMPLATE_GENERATION: &str = "deprecated.daemonset.template.generation";

// ------------------------------------------------------------------ defaults

/// Defaults of a `PodTemplateSpec` under `key` of `parent` (sorted maps,
/// `podspec` defaults); nothing when absent and `create` is false.
fn template_defaults(parent: &mut Map<String, Value>, key: &str, create: bool) {
    if !create && parent.get(key).is_none_or(Value::is_null) {
        return;
    }
    if let Some(template) = child_obj(parent, key) {
        podspec::default_template(template);
        if let Some(meta) = template.get_mut("metadata").and_then(Value::as_object_mut) {
            sort_map(meta, "labels");
            sort_map(meta, "annotations");
        }
    }
}

fn sort_selector(spec: &mut Map<String, Value>) {
    if let Some(selector) = spec.get_mut("selector").and_then(Value::as_object_mut) {
        sort_map(selector, "matchLabels");
    }
}

/// The defaults decoding applies.
pub(crate) fn defaults(kind: WorkloadKind, object: &mut Value) {
    match kind {
        WorkloadKind::PodTemplate => {
            if let Some(obj) = object.as_object_mut() {
                template_defaults(obj, "template", true);
            }
        }
        WorkloadKind::ReplicationController => replication_controller_defaults(object),
        WorkloadKind::StatefulSet => stateful_set_defaults(object),
        WorkloadKind::DaemonSet => daemon_set_defaults(object),
        WorkloadKind::ControllerRevision => {
            // `revision` is an int64 without omitempty.
            if let Some(obj) = object.as_object_mut() {
                set_default(obj, "revision", json!(0));
            }
        }
        WorkloadKind::CronJob => cron_job_defaults(object),
    }
}

/// `SetDefaults_ReplicationController`: a selector and labels from the
/// template's labels when unset, one replica.
fn replication_controller_defaults(object: &mut Value) {
    let template_labels = at(object, &["spec", "template", "metadata", "labels"]).cloned();
    let Some(spec) = obj_path(object, &["spec"]) else { return };
    if let Some(labels) = &template_labels
        && spec.get("selector").and_then(Value::as_object).is_none_or(Map::is_empty)
    {
        spec.insert("selector".into(), labels.clone());
    }
    set_default(spec, "replicas", json!(1));
    sort_map(spec, "selector");
    template_defaults(spec, "template", false);
    if let Some(labels) = template_labels
        && at(object, &["metadata", "labels"]).and_then(Value::as_object).is_none_or(Map::is_empty)
        && let Some(meta) = obj_path(object, &["metadata"])
    {
        meta.insert("labels".into(), labels);
        sort_map(meta, "labels");
    }
}

/// `SetDefaults_StatefulSet` (with `MaxUnavailableStatefulSet`, beta and on
/// since 1.35), the template's pod defaults and the claim templates' PVC
/// defaults (with the `apiVersion`/`kind` the v1 conversion sets on them).
fn stateful_set_defaults(object: &mut Value) {
    let Some(spec) = obj_path(object, &["spec"]) else { return };
    set_default_str(spec, "podManagementPolicy", "OrderedReady");
    if let Some(strategy) = child_obj(spec, "updateStrategy") {
        if strategy.get("type").and_then(Value::as_str).is_none_or(str::is_empty) {
            strategy.insert("type".into(), json!("RollingUpdate"));
            set_default(strategy, "rollingUpdate", json!({}));
        }
        if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate")
            && let Some(rolling) = strategy.get_mut("rollingUpdate").and_then(Value::as_object_mut)
        {
            set_default(rolling, "partition", json!(0));
            set_default(rolling, "maxUnavailable", json!(1));
        }
    }
    if let Some(policy) = child_obj(spec, "persistentVolumeClaimRetentionPolicy") {
        set_default_str(policy, "whenDeleted", "Retain");
        set_default_str(policy, "whenScaled", "Retain");
    }
    set_default(spec, "replicas", json!(1));
    set_default(spec, "revisionHistoryLimit", json!(10));
    // `serviceName` is a string without omitempty.
    set_default(spec, "serviceName", json!(""));
    sort_selector(spec);
    template_defaults(spec, "template", true);
    for claim in each_obj_mut(spec, "volumeClaimTemplates") {
        claim.insert("apiVersion".into(), json!("v1"));
        claim.insert("kind".into(), json!("PersistentVolumeClaim"));
        if let Some(meta) = claim.get_mut("metadata").and_then(Value::as_object_mut) {
            if meta.get("creationTimestamp").is_some_and(Value::is_null) {
                meta.remove("creationTimestamp");
            }
            sort_map(meta, "labels");
            sort_map(meta, "annotations");
        }
        let mut claim_value = Value::Object(std::mem::take(claim));
        volumes::claim_defaults(&mut claim_value);
        if let Value::Object(map) = claim_value {
            *claim = map;
        }
    }
}

/// `SetDefaults_DaemonSet` and the template's pod defaults.
fn daemon_set_defaults(object: &mut Value) {
    let Some(spec) = obj_path(object, &["spec"]) else { return };
    if let Some(strategy) = child_obj(spec, "updateStrategy") {
        set_default_str(strategy, "type", "RollingUpdate");
        if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate")
            && let Some(rolling) = child_obj(strategy, "rollingUpdate")
        {
            set_default(rolling, "maxUnavailable", json!(1));
            set_default(rolling, "maxSurge", json!(0));
        }
    }
    set_default(spec, "revisionHistoryLimit", json!(10));
    sort_selector(spec);
    template_defaults(spec, "template", true);
}

/// `SetDefaults_CronJob` and the pod defaults of the job template's pod
/// template (a job template gets no Job defaults).
fn cron_job_defaults(object: &mut Value) {
    let Some(spec) = obj_path(object, &["spec"]) else { return };
    set_default_str(spec, "concurrencyPolicy", "Allow");
    set_default(spec, "suspend", json!(false));
    set_default(spec, "successfulJobsHistoryLimit", json!(3));
    set_default(spec, "failedJobsHistoryLimit", json!(1));
    // `schedule` is a string without omitempty.
    set_default(spec, "schedule", json!(""));
    let Some(job_template) = child_obj(spec, "jobTemplate") else { return };
    // `metadata` is a struct: Go always serializes it.
    if let Some(meta) = child_obj(job_template, "metadata") {
        if meta.get("creationTimestamp").is_some_and(Value::is_null) {
            meta.remove("creationTimestamp");
        }
        sort_map(meta, "labels");
        sort_map(meta, "annotations");
    }
    if let Some(job_spec) = child_obj(job_template, "spec") {
        sort_selector(job_spec);
        template_defaults(job_spec, "template", true);
    }
}

// ------------------------------------------------------- create and update

fn set_generation(object: &mut Value, generation: i64) {
    if let Some(meta) = obj_path(object, &["metadata"]) {
        meta.insert("generation".into(), json!(generation));
    }
}

fn set_status(object: &mut Value, status: Value) {
    if let Some(obj) = object.as_object_mut() {
        obj.insert("status".into(), status);
    }
}

/// `PrepareForCreate`: the status reset to its zero value (as Go serializes
/// it), generation 1; a DaemonSet's template generation 1 unless given.
pub(crate) fn prepare_for_create(kind: WorkloadKind, object: &mut Value) {
    match kind {
        WorkloadKind::PodTemplate => set_generation(object, 1),
        WorkloadKind::ReplicationController => {
            set_status(object, json!({"replicas": 0}));
            set_generation(object, 1);
        }
        WorkloadKind::StatefulSet => {
            set_status(object, json!({"replicas": 0, "availableReplicas": 0}));
            set_generation(object, 1);
        }
        WorkloadKind::DaemonSet => {
            set_status(
                object,
                json!({"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0, "numberReady": 0}),
            );
            set_generation(object, 1);
            let generation = template_generation(object).filter(|g| *g >= 1).unwrap_or(1);
            set_template_generation(object, generation);
        }
        WorkloadKind::ControllerRevision => {}
        WorkloadKind::CronJob => {
            set_status(object, json!({}));
            set_generation(object, 1);
        }
    }
}

fn template_generation(object: &Value) -> Option<i64> {
    at(object, &["metadata", "annotations", TEMPLATE_GENERATION]).and_then(Value::as_str).and_then(|v| v.parse().ok())
}

fn set_template_generation(object: &mut Value, generation: i64) {
    if let Some(annotations) = obj_path(object, &["metadata", "annotations"]) {
        annotations.insert(TEMPLATE_GENERATION.into(), json!(generation.to_string()));
    }
    if let Some(meta) = obj_path(object, &["metadata"]) {
        sort_map(meta, "annotations");
    }
}

/// `PrepareForUpdate` (after the stored status is kept): the generation
/// moves with the spec (a PodTemplate's with its template); a DaemonSet's
/// template generation is the stored one, plus one when the template changed.
pub(crate) fn prepare_for_update(kind: WorkloadKind, new: &mut Value, old: &Value) {
    let old_generation = int_at(old, &["metadata", "generation"]).unwrap_or(0);
    let changed = |new: &Value, key: &str| !semantic_eq(at(new, &[key]), at(old, &[key]));
    match kind {
        WorkloadKind::PodTemplate => {
            let bump = changed(new, "template");
            set_generation(new, old_generation + i64::from(bump));
        }
        WorkloadKind::ReplicationController | WorkloadKind::StatefulSet | WorkloadKind::CronJob => {
            let bump = changed(new, "spec");
            set_generation(new, old_generation + i64::from(bump));
        }
        WorkloadKind::DaemonSet => {
            let template_changed = !semantic_eq(at(new, &["spec", "template"]), at(old, &["spec", "template"]));
            let bump = changed(new, "spec");
            set_generation(new, old_generation + i64::from(bump));
            let stored = template_generation(old).unwrap_or(0);
            if stored > 0 || template_changed {
                set_template_generation(new, stored + i64::from(template_changed));
            }
        }
        WorkloadKind::ControllerRevision => {}
    }
}

// ---------------------------------------------------------------- validation

/// A decode failure upstream reports before validation (a malformed
/// quantity in a pod template or claim template).
pub(crate) fn decode_error(kind: WorkloadKind, object: &Value) -> Option<String> {
    let template_spec = |path: &[&str]| at(object, path).and_then(podspec::bad_quantity);
    match kind {
        WorkloadKind::PodTemplate => template_spec(&["template", "spec"]),
        WorkloadKind::ReplicationController | WorkloadKind::DaemonSet => template_spec(&["spec", "template", "spec"]),
        WorkloadKind::StatefulSet => template_spec(&["spec", "template", "spec"]).or_else(|| {
            list_at(object, &["spec", "volumeClaimTemplates"]).iter().find_map(volumes::claim_decode_error)
        }),
        WorkloadKind::CronJob => template_spec(&["spec", "jobTemplate", "spec", "template", "spec"]),
        WorkloadKind::ControllerRevision => None,
    }
}

/// Validation of a new object beyond its metadata.
pub(crate) fn validate_create(kind: WorkloadKind, object: &Value) -> Errs {
    match kind {
        WorkloadKind::PodTemplate => podspec::validate_template(template_or_empty(object), &Path::new("template")),
        WorkloadKind::ReplicationController => replication_controller_validate(object),
        WorkloadKind::StatefulSet => stateful_set_validate(object, true),
        WorkloadKind::DaemonSet => daemon_set_validate(object),
        WorkloadKind::ControllerRevision => controller_revision_validate(object),
        WorkloadKind::CronJob => {
            let mut errs = cron_job_validate(object, None);
            let name = s(object, &["metadata", "name"]);
            // The controller appends an 11-character suffix to Job names.
            if name.len() > 63 - 11 {
                errs.push(invalid(&Path::new("metadata.name"), name, "must be no more than 52 characters"));
            }
            errs
        }
    }
}

/// Validation of an update, metadata included, in upstream's order
/// (`BeforeUpdate`'s metadata checks first, then the strategy's).
pub(crate) fn validate_update(kind: WorkloadKind, new: &Value, old: &Value, rules: MetaRules) -> Errs {
    let update_meta = || meta::validate_update(new, old, rules);
    let create_meta = || meta::validate_create(new, rules);
    match kind {
        WorkloadKind::PodTemplate => {
            [update_meta(), update_meta(), podspec::validate_template(template_or_empty(new), &Path::new("template"))]
                .concat()
        }
        WorkloadKind::ReplicationController => [
            update_meta(),
            create_meta(),
            replication_controller_validate(new),
            update_meta(),
            replication_controller_validate(new),
        ]
        .concat(),
        WorkloadKind::StatefulSet => {
            // The pod template check is ratcheting: an object stored before
            // it existed may keep its template.
            let template_ok = stateful_set_template_errors(old).is_empty();
            [update_meta(), update_meta(), stateful_set_validate(new, template_ok), stateful_set_update(new, old)]
                .concat()
        }
        WorkloadKind::DaemonSet => [
            update_meta(),
            create_meta(),
            daemon_set_validate(new),
            update_meta(),
            daemon_set_validate(new),
            selector_immutable(new, old),
        ]
        .concat(),
        WorkloadKind::ControllerRevision => {
            let mut errs = [update_meta(), update_meta(), create_meta(), controller_revision_validate(new)].concat();
            immutable(&mut errs, at(new, &["data"]), at(old, &["data"]), &Path::new("data"));
            errs
        }
        WorkloadKind::CronJob => [update_meta(), update_meta(), cron_job_validate(new, Some(old))].concat(),
    }
}

fn template_or_empty(object: &Value) -> &Value {
    static EMPTY: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| json!({}));
    at(object, &["template"]).unwrap_or(&EMPTY)
}

/// `ValidateReadOnlyPersistentDisks`: GCE PDs of a template with more than
/// one replica must be read-only.
fn read_only_persistent_disks(template: &Value, p: &Path, errs: &mut Errs) {
    for (i, volume) in list_at(template, &["spec", "volumes"]).iter().enumerate() {
        if let Some(pd) = at(volume, &["gcePersistentDisk"])
            && at(pd, &["readOnly"]).and_then(Value::as_bool) != Some(true)
        {
            errs.push(invalid_rendered(
                &p.child("spec.volumes").index(i).child("gcePersistentDisk.readOnly"),
                "false",
                "must be true for replicated pods > 1; GCE PD can only be mounted on multiple machines if it is read-only",
            ));
        }
    }
}

/// `ValidateReplicationControllerSpec`.
fn replication_controller_validate(object: &Value) -> Errs {
    let empty = json!({});
    let spec = at(object, &["spec"]).unwrap_or(&empty);
    let sp = Path::new("spec");
    let mut errs = Errs::new();
    nonnegative(&mut errs, int_at(spec, &["minReadySeconds"]), &sp.child("minReadySeconds"));
    let selector: Vec<(&str, &str)> = string_map(spec, &["selector"]);
    if selector.is_empty() {
        errs.push(required(&sp.child("selector"), ""));
    }
    let replicas = int_at(spec, &["replicas"]).unwrap_or(0);
    nonnegative(&mut errs, Some(replicas), &sp.child("replicas"));
    let tp = sp.child("template");
    match at(spec, &["template"]) {
        None => errs.push(required(&tp, "")),
        Some(template) => {
            if !selector.is_empty() {
                let selector = LabelSelector::from_map(selector.iter().copied());
                template_labels_match(spec, &selector, &sp, &mut errs);
            }
            errs.extend(podspec::validate_template(template, &tp));
            if replicas > 1 {
                read_only_persistent_disks(template, &tp, &mut errs);
            }
            controller_template_rules(template, &tp, "ReplicationController", &mut errs);
        }
    }
    errs
}

/// A label selector's own checks (`ValidateLabelSelector`) and its
/// conversion: `Err` for one that does not convert.
fn checked_selector(spec: &Value, p: &Path, errs: &mut Errs) -> Result<LabelSelector, ()> {
    selector_of(spec, p, errs).map(|s| s.unwrap_or_else(LabelSelector::nothing))
}

/// The internal (untagged) `StatefulSetUpdateStrategy` as Go renders it.
fn stateful_set_strategy_struct(strategy: &Value) -> Value {
    json!({"Type": s(strategy, &["type"]), "RollingUpdate": rolling_update_struct(at(strategy, &["rollingUpdate"]))})
}

fn rolling_update_struct(rolling: Option<&Value>) -> Value {
    rolling.map_or(Value::Null, |r| {
        json!({"Partition": int_at(r, &["partition"]).unwrap_or(0),
               "MaxUnavailable": at(r, &["maxUnavailable"]).cloned().unwrap_or(Value::Null)})
    })
}

/// `ValidateStatefulSetSpec`; `validate_template` is false on updates of an
/// object whose stored template already fails the pod template checks.
fn stateful_set_validate(object: &Value, validate_template: bool) -> Errs {
    let empty = json!({});
    let spec = at(object, &["spec"]).unwrap_or(&empty);
    let sp = Path::new("spec");
    let mut errs = Errs::new();
    match s(spec, &["podManagementPolicy"]) {
        "" => errs.push(required(&sp.child("podManagementPolicy"), "")),
        "OrderedReady" | "Parallel" => {}
        other => errs.push(invalid(&sp.child("podManagementPolicy"), other, "must be 'OrderedReady' or 'Parallel'")),
    }
    let strategy = at(spec, &["updateStrategy"]).unwrap_or(&empty);
    let usp = sp.child("updateStrategy");
    match s(strategy, &["type"]) {
        "" => errs.push(required(&usp, "")),
        "OnDelete" => {
            if let Some(rolling) = at(strategy, &["rollingUpdate"]) {
                errs.push(invalid_rendered(
                    &usp.child("rollingUpdate"),
                    &render_ordered(&rolling_update_struct(Some(rolling))),
                    "only allowed for updateStrategy 'RollingUpdate'",
                ));
            }
        }
        "RollingUpdate" => {
            if let Some(rolling) = at(strategy, &["rollingUpdate"]) {
                let rp = usp.child("rollingUpdate");
                nonnegative(&mut errs, int_at(rolling, &["partition"]), &rp.child("partition"));
                if let Some(max) = at(rolling, &["maxUnavailable"]) {
                    let mp = rp.child("maxUnavailable");
                    let mut local = Errs::new();
                    positive_percent_at_most_100(Some(max), &mp, &mut local);
                    // `IsNotMoreThan100Percent` comes after the zero check.
                    let over = local.iter().position(|e| e.body.ends_with("must not be greater than 100%"));
                    let over = over.map(|i| local.remove(i));
                    errs.extend(local);
                    if int_or_percent(Some(max)) == 0 {
                        errs.push(invalid_rendered(&mp, &render_int_or_string(Some(max)), "cannot be 0"));
                    }
                    errs.extend(over);
                }
            }
        }
        _ => errs.push(invalid_rendered(
            &usp,
            &render_ordered(&stateful_set_strategy_struct(strategy)),
            "must be 'RollingUpdate' or 'OnDelete'",
        )),
    }
    if let Some(policy) = at(spec, &["persistentVolumeClaimRetentionPolicy"]) {
        let pp = sp.child("persistentVolumeClaimRetentionPolicy");
        for key in ["whenDeleted", "whenScaled"] {
            let value = s(policy, &[key]);
            if value != "Retain" && value != "Delete" {
                errs.push(not_supported(&pp.child(key), value, &["Retain", "Delete"]));
            }
        }
    }
    for (i, claim) in list_at(spec, &["volumeClaimTemplates"]).iter().enumerate() {
        errs.extend(volumes::claim_spec_errors(claim, &sp.child("volumeClaimTemplates").index(i).child("spec")));
    }
    nonnegative(&mut errs, int_at(spec, &["replicas"]), &sp.child("replicas"));
    nonnegative(&mut errs, int_at(spec, &["minReadySeconds"]), &sp.child("minReadySeconds"));
    if let Some(start) = int_at(spec, &["ordinals", "start"]) {
        nonnegative(&mut errs, Some(start), &sp.child("ordinals.start"));
    }
    let sel_path = sp.child("selector");
    let selector = required_selector(spec, &sel_path, Some("statefulset"), &mut errs)
        .map(|s| s.unwrap_or_else(LabelSelector::nothing));
    let tp = sp.child("template");
    match selector {
        Err(()) => errs.push(invalid_rendered(&sel_path, &render_selector(at(spec, &["selector"])), "")),
        Ok(selector) => {
            if !selector.is_empty() {
                template_labels_match(spec, &selector, &sp, &mut errs);
            }
            if validate_template {
                errs.extend(stateful_set_template_errors(object));
            } else {
                let template = at(spec, &["template"]).unwrap_or(&empty);
                errs.extend(validate_labels(
                    string_map(template, &["metadata", "labels"]),
                    tp.child("labels").as_str(),
                ));
                errs.extend(validate_annotations(
                    string_map(template, &["metadata", "annotations"]),
                    tp.child("annotations").as_str(),
                ));
            }
        }
    }
    controller_template_rules(at(spec, &["template"]).unwrap_or(&empty), &tp, "StatefulSet", &mut errs);
    errs
}

/// The pod template checks of a StatefulSet: `ValidatePodTemplateSpec` on
/// the template with a volume for each claim template (the pods get them).
fn stateful_set_template_errors(object: &Value) -> Errs {
    let mut template = at(object, &["spec", "template"]).cloned().unwrap_or_else(|| json!({}));
    let claims: Vec<String> = list_at(object, &["spec", "volumeClaimTemplates"])
        .iter()
        .map(|c| s(c, &["metadata", "name"]).to_owned())
        .collect();
    if !claims.is_empty()
        && let Some(spec) = obj_path(&mut template, &["spec"])
    {
        let volumes = spec.entry("volumes").or_insert_with(|| json!([]));
        if let Some(list) = volumes.as_array_mut() {
            for name in claims {
                if !list.iter().any(|v| s(v, &["name"]) == name) {
                    list.push(json!({"name": name, "persistentVolumeClaim": {"claimName": name}}));
                }
            }
        }
    }
    podspec::validate_template(&template, &Path::new("spec.template"))
}

/// `ValidateStatefulSetUpdate`: only some spec fields may change.
fn stateful_set_update(new: &Value, old: &Value) -> Errs {
    let mut new_spec = at(new, &["spec"]).cloned().unwrap_or_else(|| json!({}));
    let old_spec = at(old, &["spec"]).cloned().unwrap_or_else(|| json!({}));
    if let Some(spec) = new_spec.as_object_mut() {
        for key in [
            "replicas",
            "template",
            "updateStrategy",
            "minReadySeconds",
            "ordinals",
            "persistentVolumeClaimRetentionPolicy",
        ] {
            match at(&old_spec, &[key]) {
                Some(v) => spec.insert(key.to_owned(), v.clone()),
                None => spec.remove(key),
            };
        }
    }
    if semantic_eq(Some(&new_spec), Some(&old_spec)) {
        return Errs::new();
    }
    vec![forbidden(
        &Path::new("spec"),
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    )]
}

/// `ValidateDaemonSetSpec`.
fn daemon_set_validate(object: &Value) -> Errs {
    let empty = json!({});
    let spec = at(object, &["spec"]).unwrap_or(&empty);
    let sp = Path::new("spec");
    let mut errs = Errs::new();
    // A nil selector converts to one that selects nothing.
    if let Ok(selector) = checked_selector(spec, &sp.child("selector"), &mut errs) {
        template_labels_match(spec, &selector, &sp, &mut errs);
    }
    if at(spec, &["selector"]).is_some() && selector_empty(spec) {
        errs.push(invalid_rendered(
            &sp.child("selector"),
            &render_selector(at(spec, &["selector"])),
            "empty selector is invalid for daemonset",
        ));
    }
    let template = at(spec, &["template"]).unwrap_or(&empty);
    let tp = sp.child("template");
    errs.extend(podspec::validate_template(template, &tp));
    controller_template_rules(template, &tp, "DaemonSet", &mut errs);
    nonnegative(&mut errs, int_at(spec, &["minReadySeconds"]), &sp.child("minReadySeconds"));
    let strategy = at(spec, &["updateStrategy"]).unwrap_or(&empty);
    let usp = sp.child("updateStrategy");
    match s(strategy, &["type"]) {
        "OnDelete" => {}
        "RollingUpdate" => match at(strategy, &["rollingUpdate"]) {
            None => errs.push(required(&usp.child("rollingUpdate"), "")),
            Some(rolling) => {
                let rp = usp.child("rollingUpdate");
                let unavailable = at(rolling, &["maxUnavailable"]);
                let surge = at(rolling, &["maxSurge"]);
                let mut over = Errs::new();
                for (v, key) in [(unavailable, "maxUnavailable"), (surge, "maxSurge")] {
                    let mut local = Errs::new();
                    positive_percent_at_most_100(v, &rp.child(key), &mut local);
                    for e in local {
                        if e.body.ends_with("must not be greater than 100%") { over.push(e) } else { errs.push(e) }
                    }
                }
                errs.extend(over);
                let has_unavailable = int_or_percent(unavailable) != 0;
                let has_surge = int_or_percent(surge) != 0;
                if has_unavailable && has_surge {
                    errs.push(invalid_rendered(
                        &rp.child("maxSurge"),
                        &render_int_or_string(surge),
                        "may not be set when maxUnavailable is non-zero",
                    ));
                } else if !has_unavailable && !has_surge {
                    errs.push(required(&rp.child("maxUnavailable"), "cannot be 0 when maxSurge is 0"));
                }
            }
        },
        _ => {
            // The internal DaemonSetUpdateStrategy has no JSON tags.
            let rolling = at(strategy, &["rollingUpdate"]).map_or(Value::Null, |r| {
                json!({"MaxUnavailable": at(r, &["maxUnavailable"]).cloned().unwrap_or(json!(0)),
                       "MaxSurge": at(r, &["maxSurge"]).cloned().unwrap_or(json!(0))})
            });
            errs.push(not_supported_json(
                &usp,
                &json!({"Type": s(strategy, &["type"]), "RollingUpdate": rolling}),
                &["OnDelete", "RollingUpdate"],
            ));
        }
    }
    nonnegative(&mut errs, int_at(spec, &["revisionHistoryLimit"]), &sp.child("revisionHistoryLimit"));
    errs
}

/// `ValidateControllerRevision` beyond metadata.
fn controller_revision_validate(object: &Value) -> Errs {
    let mut errs = Errs::new();
    if at(object, &["data"]).is_none() {
        errs.push(required(&Path::new("data"), "data is mandatory"));
    }
    nonnegative(&mut errs, int_at(object, &["revision"]), &Path::new("revision"));
    errs
}

/// `validateCronJobSpec`; `old` on updates.
fn cron_job_validate(object: &Value, old: Option<&Value>) -> Errs {
    let empty = json!({});
    let spec = at(object, &["spec"]).unwrap_or(&empty);
    let sp = Path::new("spec");
    let mut errs = Errs::new();
    let schedule = s(spec, &["schedule"]);
    let time_zone = at(spec, &["timeZone"]).and_then(Value::as_str);
    if schedule.is_empty() {
        errs.push(required(&sp.child("schedule"), ""));
    } else {
        let allow_tz = old.is_some_and(|o| s(o, &["spec", "schedule"]).contains("TZ"));
        let schp = sp.child("schedule");
        if let Err(why) = parse_cron_standard(schedule) {
            errs.push(invalid(&schp, schedule, &why));
        }
        if allow_tz && schedule.contains("TZ") && time_zone.is_some() {
            errs.push(invalid(&schp, schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"));
        } else if !allow_tz && schedule.contains("TZ") {
            errs.push(invalid(&schp, schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"));
        }
    }
    nonnegative(&mut errs, int_at(spec, &["startingDeadlineSeconds"]), &sp.child("startingDeadlineSeconds"));
    let tz_changed = old.is_none_or(|o| at(o, &["spec", "timeZone"]) != at(spec, &["timeZone"]));
    if tz_changed && let Some(tz) = time_zone {
        errs.extend(time_zone_errors(tz, &sp.child("timeZone")));
    }
    let policy = s(spec, &["concurrencyPolicy"]);
    match policy {
        "Allow" | "Forbid" | "Replace" => {}
        "" => errs.push(required(&sp.child("concurrencyPolicy"), "")),
        other => errs.push(not_supported(&sp.child("concurrencyPolicy"), other, &["Allow", "Forbid", "Replace"])),
    }
    errs.extend(job_template_errors(at(spec, &["jobTemplate"]).unwrap_or(&empty), &sp.child("jobTemplate")));
    for key in ["successfulJobsHistoryLimit", "failedJobsHistoryLimit"] {
        nonnegative(&mut errs, int_at(spec, &[key]), &sp.child(key));
    }
    errs
}

/// `ValidateJobTemplateSpec`: a Job's spec checks (those of `batch`, minus
/// the selector a template never has) under `jobTemplate.spec`, and no
/// selector of its own.
fn job_template_errors(job_template: &Value, p: &Path) -> Errs {
    let mut job_spec = at(job_template, &["spec"]).cloned().unwrap_or_else(|| json!({}));
    if let Some(spec) = job_spec.as_object_mut() {
        spec.remove("selector");
        spec.remove("manualSelector");
    }
    let job = json!({"metadata": {"name": "job"}, "spec": job_spec});
    let spec_path = p.child("spec");
    let mut errs: Errs = batch::validate(&job, batch::JobOpts { require_prefixed_labels: false })
        .into_iter()
        .filter(|e| e.field.starts_with("spec.") && e.field != "spec.selector")
        .filter(|e| !e.body.ends_with("`selector` does not match template `labels`"))
        .map(|mut e| {
            e.field = format!("{}{}", spec_path.as_str(), &e.field["spec".len()..]);
            e
        })
        .collect();
    if let Some(selector) = at(job_template, &["spec", "selector"]) {
        errs.push(invalid_rendered(
            &spec_path.child("selector"),
            &render_selector(Some(selector)),
            "`selector` will be auto-generated",
        ));
    }
    if at(job_template, &["spec", "manualSelector"]).and_then(Value::as_bool) == Some(true) {
        errs.push(not_supported_json(&spec_path.child("manualSelector"), &json!(true), &["nil", "false"]));
    }
    errs
}

/// `validateTimeZone`.
fn time_zone_errors(tz: &str, p: &Path) -> Errs {
    if tz.is_empty() {
        return vec![invalid(p, tz, "timeZone must be nil or non-empty string")];
    }
    let part_ok = |part: &str| {
        part != "."
            && part != ".."
            && !part.starts_with('-')
            && (1..=14).contains(&part.len())
            && part.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+'))
    };
    if !tz.split('/').all(part_ok) {
        return vec![invalid(p, tz, &format!("unknown time zone {tz}"))];
    }
    let mut errs = Errs::new();
    if tz.eq_ignore_ascii_case("Local") {
        errs.push(invalid(
            p,
            tz,
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
        ));
    }
    if tz != "UTC" && jiff::tz::TimeZone::get(tz).is_err() {
        errs.push(invalid(p, tz, &format!("unknown time zone {tz}")));
    }
    errs
}

/// The field bounds of a standard cron schedule (robfig/cron's
/// `ParseStandard`): minute, hour, day of month, month, day of week.
const CRON_FIELDS: [(u32, u32, &[&str]); 5] = [
    (0, 59, &[]),
    (0, 23, &[]),
    (1, 31, &[]),
    (1, 12, &["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]),
    (0, 6, &["sun", "mon", "tue", "wed", "thu", "fri", "sat"]),
];

/// robfig/cron v3 `ParseStandard`, as CronJob validation runs it: `Err` is
/// the parser's message.
pub(crate) fn parse_cron_standard(spec: &str) -> Result<(), String> {
    if spec.is_empty() {
        return Err("empty spec string".to_owned());
    }
    let mut spec = spec;
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        let space = spec.find(' ').unwrap_or(spec.len());
        let eq = spec.find('=').unwrap_or(0);
        let name = &spec[eq + 1..space];
        if name != "UTC" && !name.is_empty() && jiff::tz::TimeZone::get(name).is_err() {
            return Err(format!("provided bad location {name}: unknown time zone {name}"));
        }
        spec = spec[space..].trim();
    }
    if let Some(descriptor) = spec.strip_prefix('@') {
        return match descriptor {
            "yearly" | "annually" | "monthly" | "weekly" | "daily" | "midnight" | "hourly" => Ok(()),
            _ => match descriptor.strip_prefix("every ") {
                Some(duration) if go_duration_ok(duration) => Ok(()),
                Some(duration) => {
                    Err(format!("failed to parse duration {spec}: time: invalid duration \"{duration}\""))
                }
                None => Err(format!("unrecognized descriptor: {spec}")),
            },
        };
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!("expected exactly 5 fields, found {}: [{}]", fields.len(), fields.join(" ")));
    }
    for (field, (min, max, names)) in fields.iter().zip(CRON_FIELDS) {
        for expr in field.split(',').filter(|e| !e.is_empty()) {
            cron_range(expr, min, max, names)?;
        }
    }
    Ok(())
}

/// `getRange` of robfig/cron.
fn cron_range(expr: &str, min: u32, max: u32, names: &[&str]) -> Result<(), String> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_and_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_and_high.len() == 1;
    let (start, mut end) = if low_and_high[0] == "*" || low_and_high[0] == "?" {
        (min, max)
    } else {
        let start = cron_int_or_name(low_and_high[0], names)?;
        match low_and_high.len() {
            1 => (start, start),
            2 => (start, cron_int_or_name(low_and_high[1], names)?),
            _ => return Err(format!("too many hyphens: {expr}")),
        }
    };
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = cron_int(range_and_step[1])?;
            if single {
                end = max;
            }
            step
        }
        _ => return Err(format!("too many slashes: {expr}")),
    };
    if start < min {
        return Err(format!("beginning of range ({start}) below minimum ({min}): {expr}"));
    }
    if end > max {
        return Err(format!("end of range ({end}) above maximum ({max}): {expr}"));
    }
    if start > end {
        return Err(format!("beginning of range ({start}) beyond end of range ({end}): {expr}"));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    Ok(())
}

fn cron_int_or_name(expr: &str, names: &[&str]) -> Result<u32, String> {
    let lower = expr.to_ascii_lowercase();
    match names.iter().position(|n| *n == lower) {
        // Months count from 1, weekdays from 0.
        Some(i) => Ok(i as u32 + u32::from(names.len() == 12)),
        None => cron_int(expr),
    }
}

/// `mustParseInt`: Go's `strconv.Atoi`, then no negatives.
fn cron_int(expr: &str) -> Result<u32, String> {
    let digits = expr.strip_prefix(['+', '-']).unwrap_or(expr);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("failed to parse int from {expr}: strconv.Atoi: parsing \"{expr}\": invalid syntax"));
    }
    let value: i64 = expr.parse().map_err(|_| {
        format!("failed to parse int from {expr}: strconv.Atoi: parsing \"{expr}\": value out of range")
    })?;
    if value < 0 {
        return Err(format!("negative number ({value}) not allowed: {expr}"));
    }
    u32::try_from(value).map_err(|_| format!("end of range ({value}) above maximum: {expr}"))
}

/// Whether Go's `time.ParseDuration` accepts `d` (`1h30m`, `90s`, `1.5h`).
fn go_duration_ok(d: &str) -> bool {
    let d = d.strip_prefix(['+', '-']).unwrap_or(d);
    if d == "0" {
        return true;
    }
    let mut rest = d;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let number_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if number_end == 0 || rest[..number_end] == *"." {
            return false;
        }
        rest = &rest[number_end..];
        let unit = ["ns", "us", "µs", "μs", "ms", "s", "m", "h"]
            .iter()
            .filter(|u| rest.starts_with(*u))
            .max_by_key(|u| u.len());
        match unit {
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::meta::Finalizers;

    use crate::strategy::field::msgs;

    fn template(labels: Value) -> Value {
        json!({"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}})
    }

    fn prepared(kind: WorkloadKind, mut object: Value) -> Value {
        defaults(kind, &mut object);
        prepare_for_create(kind, &mut object);
        object
    }

    const RULES: MetaRules = MetaRules { name: name_is_dns_subdomain, namespaced: true, finalizers: Finalizers::Kube };

    #[test]
    fn replication_controller_defaults_from_template() {
        let rc = prepared(
            WorkloadKind::ReplicationController,
            json!({"metadata": {"name": "rc"}, "spec": {"template": template(json!({"app": "web"}))}}),
        );
        assert_eq!(rc["spec"]["selector"], json!({"app": "web"}));
        assert_eq!(rc["metadata"]["labels"], json!({"app": "web"}));
        assert_eq!(rc["spec"]["replicas"], 1);
        assert_eq!(rc["status"], json!({"replicas": 0}));
        assert_eq!(rc["metadata"]["generation"], 1);
        assert_eq!(rc["spec"]["template"]["spec"]["restartPolicy"], "Always");
        assert_eq!(rc["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"], "IfNotPresent");
        assert!(validate_create(WorkloadKind::ReplicationController, &rc).is_empty());
    }

    #[test]
    fn replication_controller_errors() {
        let rc = prepared(
            WorkloadKind::ReplicationController,
            json!({"metadata": {"name": "rc"}, "spec": {"replicas": -1, "selector": {"app": "x"},
                   "template": template(json!({"app": "y"}))}}),
        );
        assert_eq!(
            msgs(&validate_create(WorkloadKind::ReplicationController, &rc)),
            [
                "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
                "spec.template.metadata.labels: Invalid value: {\"app\":\"y\"}: `selector` does not match template `labels`",
            ]
        );
        let rc = prepared(WorkloadKind::ReplicationController, json!({"metadata": {"name": "rc"}, "spec": {}}));
        assert_eq!(
            msgs(&validate_create(WorkloadKind::ReplicationController, &rc)),
            ["spec.selector: Required value", "spec.template: Required value"]
        );
        let mut t = template(json!({"app": "x"}));
        t["spec"]["activeDeadlineSeconds"] = json!(5);
        let rc =
            prepared(WorkloadKind::ReplicationController, json!({"metadata": {"name": "rc"}, "spec": {"template": t}}));
        assert_eq!(
            msgs(&validate_create(WorkloadKind::ReplicationController, &rc)),
            [
                "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicationController is not Supported"
            ]
        );
    }

    #[test]
    fn generation_follows_spec() {
        let old = prepared(
            WorkloadKind::ReplicationController,
            json!({"metadata": {"name": "rc", "generation": 1}, "spec": {"template": template(json!({"app": "web"}))}}),
        );
        let mut same = old.clone();
        same["metadata"]["labels"]["extra"] = json!("x");
        prepare_for_update(WorkloadKind::ReplicationController, &mut same, &old);
        assert_eq!(same["metadata"]["generation"], 1);
        let mut scaled = old.clone();
        scaled["spec"]["replicas"] = json!(3);
        prepare_for_update(WorkloadKind::ReplicationController, &mut scaled, &old);
        assert_eq!(scaled["metadata"]["generation"], 2);
        let pt =
            prepared(WorkloadKind::PodTemplate, json!({"metadata": {"name": "pt"}, "template": template(json!({}))}));
        assert_eq!(pt["metadata"]["generation"], 1);
        let mut changed = pt.clone();
        changed["template"]["spec"]["containers"][0]["image"] = json!("nginx:2");
        prepare_for_update(WorkloadKind::PodTemplate, &mut changed, &pt);
        assert_eq!(changed["metadata"]["generation"], 2);
    }

    fn stateful_set() -> Value {
        prepared(
            WorkloadKind::StatefulSet,
            json!({"metadata": {"name": "web"}, "spec": {
                "selector": {"matchLabels": {"app": "web"}}, "serviceName": "web",
                "template": template(json!({"app": "web"})),
                "volumeClaimTemplates": [{"metadata": {"name": "data", "creationTimestamp": null},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
            }}),
        )
    }

    #[test]
    fn stateful_set_defaults_as_upstream() {
        let sts = stateful_set();
        let spec = &sts["spec"];
        assert_eq!(spec["podManagementPolicy"], "OrderedReady");
        assert_eq!(
            spec["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0, "maxUnavailable": 1}})
        );
        assert_eq!(
            spec["persistentVolumeClaimRetentionPolicy"],
            json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
        );
        assert_eq!(spec["replicas"], 1);
        assert_eq!(spec["revisionHistoryLimit"], 10);
        assert_eq!(
            spec["volumeClaimTemplates"][0],
            json!({"metadata": {"name": "data"}, "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                   "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                            "volumeMode": "Filesystem"},
                   "status": {"phase": "Pending"}})
        );
        assert_eq!(sts["status"], json!({"replicas": 0, "availableReplicas": 0}));
        assert!(
            validate_create(WorkloadKind::StatefulSet, &sts).is_empty(),
            "{:?}",
            validate_create(WorkloadKind::StatefulSet, &sts)
        );
    }

    #[test]
    fn stateful_set_rules() {
        let mut sts = stateful_set();
        sts["spec"]["podManagementPolicy"] = json!("Random");
        sts["spec"]["updateStrategy"] = json!({"type": "Sometimes"});
        sts["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] = json!([{"name": "data", "mountPath": "/d"}]);
        assert_eq!(
            msgs(&validate_create(WorkloadKind::StatefulSet, &sts)),
            [
                "spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'",
                "spec.updateStrategy: Invalid value: {\"Type\":\"Sometimes\",\"RollingUpdate\":null}: must be 'RollingUpdate' or 'OnDelete'",
            ]
        );
        let old = stateful_set();
        let mut new = old.clone();
        new["spec"]["serviceName"] = json!("other");
        new["spec"]["replicas"] = json!(3);
        assert_eq!(
            msgs(&validate_update(WorkloadKind::StatefulSet, &new, &old, RULES)),
            [
                "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
            ]
        );
        let mut sts = stateful_set();
        sts["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] = json!(0);
        assert_eq!(
            msgs(&validate_create(WorkloadKind::StatefulSet, &sts)),
            ["spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0: cannot be 0"]
        );
    }

    #[test]
    fn daemon_sets() {
        let ds = prepared(
            WorkloadKind::DaemonSet,
            json!({"metadata": {"name": "agent"}, "spec": {"selector": {"matchLabels": {"app": "agent"}},
                   "template": template(json!({"app": "agent"}))}}),
        );
        assert_eq!(
            ds["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
        );
        assert_eq!(ds["metadata"]["annotations"][TEMPLATE_GENERATION], "1");
        assert_eq!(
            ds["status"],
            json!({"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0, "numberReady": 0})
        );
        assert!(validate_create(WorkloadKind::DaemonSet, &ds).is_empty());
        let mut new = ds.clone();
        new["metadata"]["generation"] = json!(1);
        new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("agent:2");
        let mut old = ds.clone();
        old["metadata"]["generation"] = json!(1);
        prepare_for_update(WorkloadKind::DaemonSet, &mut new, &old);
        assert_eq!(new["metadata"]["annotations"][TEMPLATE_GENERATION], "2");
        assert_eq!(new["metadata"]["generation"], 2);
        let mut both = ds.clone();
        both["spec"]["updateStrategy"]["rollingUpdate"] = json!({"maxUnavailable": 1, "maxSurge": "150%"});
        assert_eq!(
            msgs(&validate_create(WorkloadKind::DaemonSet, &both)),
            [
                "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: \"150%\": must not be greater than 100%",
                "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: \"150%\": may not be set when maxUnavailable is non-zero",
            ]
        );
        let none = prepared(
            WorkloadKind::DaemonSet,
            json!({"metadata": {"name": "x"}, "spec": {"template": template(json!({"a": "b"}))}}),
        );
        assert_eq!(
            msgs(&validate_create(WorkloadKind::DaemonSet, &none)),
            [
                "spec.template.metadata.labels: Invalid value: {\"a\":\"b\"}: `selector` does not match template `labels`"
            ]
        );
    }

    #[test]
    fn controller_revisions() {
        let cr = prepared(WorkloadKind::ControllerRevision, json!({"metadata": {"name": "r"}}));
        assert_eq!(cr["revision"], 0);
        assert_eq!(
            msgs(&validate_create(WorkloadKind::ControllerRevision, &cr)),
            ["data: Required value: data is mandatory"]
        );
        let old = prepared(
            WorkloadKind::ControllerRevision,
            json!({"metadata": {"name": "r", "namespace": "default"}, "data": {"a": 1}, "revision": 1}),
        );
        let mut new = old.clone();
        new["data"] = json!({"a": 2});
        assert_eq!(
            msgs(&validate_update(WorkloadKind::ControllerRevision, &new, &old, RULES)),
            ["data: Invalid value: {\"a\":2}: field is immutable"]
        );
    }

    fn cron_job(schedule: &str) -> Value {
        let mut t = template(json!({}));
        t["spec"]["restartPolicy"] = json!("OnFailure");
        prepared(
            WorkloadKind::CronJob,
            json!({"metadata": {"name": "hello"}, "spec": {"schedule": schedule,
                   "jobTemplate": {"metadata": {"creationTimestamp": null}, "spec": {"template": t}}}}),
        )
    }

    #[test]
    fn cron_job_defaults_and_schedule() {
        let cj = cron_job("*/5 * * * *");
        assert_eq!(cj["spec"]["concurrencyPolicy"], "Allow");
        assert_eq!(cj["spec"]["suspend"], false);
        assert_eq!(cj["spec"]["successfulJobsHistoryLimit"], 3);
        assert_eq!(cj["spec"]["failedJobsHistoryLimit"], 1);
        assert_eq!(cj["spec"]["jobTemplate"]["metadata"], json!({}));
        assert!(cj["spec"]["jobTemplate"]["spec"].get("backoffLimit").is_none());
        assert_eq!(cj["status"], json!({}));
        assert!(validate_create(WorkloadKind::CronJob, &cj).is_empty());
        assert_eq!(
            msgs(&validate_create(WorkloadKind::CronJob, &cron_job("61 * * * *"))),
            ["spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61"]
        );
        assert_eq!(
            msgs(&validate_create(WorkloadKind::CronJob, &cron_job("bogus"))),
            ["spec.schedule: Invalid value: \"bogus\": expected exactly 5 fields, found 1: [bogus]"]
        );
        assert_eq!(parse_cron_standard("0 0 * JAN-mar MON-FRI"), Ok(()));
        assert_eq!(parse_cron_standard("@every 1h30m"), Ok(()));
        assert_eq!(parse_cron_standard("@often"), Err("unrecognized descriptor: @often".to_owned()));
        assert_eq!(
            parse_cron_standard("x * * * *"),
            Err("failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax".to_owned())
        );
        assert_eq!(
            parse_cron_standard("5-1 * * * *"),
            Err("beginning of range (5) beyond end of range (1): 5-1".to_owned())
        );
    }

    #[test]
    fn cron_job_template_rules() {
        let mut cj = cron_job("@daily");
        cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] = json!("Always");
        cj["spec"]["jobTemplate"]["spec"]["parallelism"] = json!(-1);
        cj["spec"]["jobTemplate"]["spec"]["selector"] = json!({"matchLabels": {"a": "b"}});
        cj["spec"]["concurrencyPolicy"] = json!("Sometimes");
        cj["spec"]["timeZone"] = json!("Mars/Olympus");
        assert_eq!(
            msgs(&validate_create(WorkloadKind::CronJob, &cj)),
            [
                "spec.timeZone: Invalid value: \"Mars/Olympus\": unknown time zone Mars/Olympus",
                "spec.concurrencyPolicy: Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\"",
                "spec.jobTemplate.spec.parallelism: Invalid value: -1: must be greater than or equal to 0",
                "spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"",
                "spec.jobTemplate.spec.selector: Invalid value: {\"matchLabels\":{\"a\":\"b\"}}: `selector` will be auto-generated",
            ]
        );
        let mut long = cron_job("@hourly");
        long["metadata"]["name"] = json!("a".repeat(53));
        assert_eq!(
            msgs(&validate_create(WorkloadKind::CronJob, &long))[0],
            format!("metadata.name: Invalid value: \"{}\": must be no more than 52 characters", "a".repeat(53))
        );
        let mut tz = cron_job("CRON_TZ=UTC 0 * * * *");
        assert_eq!(
            msgs(&validate_create(WorkloadKind::CronJob, &tz)),
            [
                "spec.schedule: Invalid value: \"CRON_TZ=UTC 0 * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
            ]
        );
        tz["spec"]["schedule"] = json!("0 * * * *");
        tz["spec"]["timeZone"] = json!("Europe/Berlin");
        assert!(validate_create(WorkloadKind::CronJob, &tz).is_empty());
    }
}
