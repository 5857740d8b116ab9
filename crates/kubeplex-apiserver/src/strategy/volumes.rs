//! core/v1 PersistentVolumes and PersistentVolumeClaims
//! (`pkg/apis/core/v1/defaults.go`, `pkg/registry/core/persistentvolume{,claim}/strategy.go`,
//! `pkg/apis/core/validation`): defaults, the status a new object starts
//! with, the volume source and claim checks, and what an update may change.
//!
//! ```text
//!  PV  spec: capacity (storage only) · access modes · one volume source · reclaim policy
//!      update: the volume source and volumeMode are immutable
//!  PVC spec: access modes · resources.requests.storage · class · data sources
//!      update: only volumeName (once) and, when bound, requests.storage may change
//! ```
//!
//! The claim helpers also serve StatefulSets' `volumeClaimTemplates`.

use kubeplex_core::names::{is_dns1123_label, is_dns1123_subdomain, name_is_dns_label};
use serde_json::{Map, Value, json};

use super::field::{
    Errs, Path, at, child_obj, forbidden, immutable, int_at, invalid, invalid_int, invalid_rendered, list_at, map_at,
    not_supported, obj_path, render, required, s, semantic_eq, set_default, set_default_str, sort_map, str_at,
    too_long,
};
use super::meta::{self, MetaRules};
use super::podspec::{self, quantity_value_errors};
use super::policy::{first_bad_quantity, quantity};

/// The kinds of this module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VolumeKind {
    PersistentVolume,
    PersistentVolumeClaim,
}

/// The kind of `(group, kind)`, if it is one of this module's.
pub(crate) fn kind_of(group: &str, kind: &str) -> Option<VolumeKind> {
    match (group, kind) {
        ("", "PersistentVolume") => Some(VolumeKind::PersistentVolume),
        ("", "PersistentVolumeClaim") => Some(VolumeKind::PersistentVolumeClaim),
        _ => None,
    }
}

const ACCESS_MODES: &[&str] = &["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];
const VOLUME_MODES: &[&str] = &["Block", "Filesystem"];
const RECLAIM_POLICIES: &[&str] = &["Delete", "Recycle", "Retain"];
const HOST_PATH_TYPES: &[&str] =
    &["", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"];

/// The persistent volume sources: (JSON key, name in the "more than 1" error,
/// path its own checks report under). `flexVolume` is never reported as a
/// second source.
const PV_SOURCES: &[(&str, &str, &str)] = &[
    ("hostPath", "hostPath", "hostPath"),
    ("gcePersistentDisk", "gcePersistentDisk", "persistentDisk"),
    ("awsElasticBlockStore", "awsElasticBlockStore", "awsElasticBlockStore"),
    ("glusterfs", "glusterfs", "glusterfs"),
    ("flocker", "flocker", "flocker"),
    ("nfs", "nfs", "nfs"),
    ("rbd", "rbd", "rbd"),
    ("quobyte", "quobyte", "quobyte"),
    ("cephfs", "cephFS", "cephfs"),
    ("iscsi", "iscsi", "iscsi"),
    ("cinder", "cinder", "cinder"),
    ("fc", "fc", "fc"),
    ("flexVolume", "", "flexVolume"),
    ("azureFile", "azureFile", "azureFile"),
    ("vsphereVolume", "vsphereVolume", "vsphereVolume"),
    ("photonPersistentDisk", "photonPersistentDisk", "photonPersistentDisk"),
    ("portworxVolume", "portworxVolume", "portworxVolume"),
    ("azureDisk", "azureDisk", "azureDisk"),
    ("scaleIO", "scaleIO", "scaleIO"),
    ("local", "local", "local"),
    ("storageos", "storageos", "storageos"),
    ("csi", "csi", "csi"),
];

// ------------------------------------------------------------------ defaults

/// The defaults decoding applies.
pub(crate) fn defaults(kind: VolumeKind, object: &mut Value) {
    match kind {
        VolumeKind::PersistentVolume => volume_defaults(object),
        VolumeKind::PersistentVolumeClaim => claim_defaults(object),
    }
}

/// `SetDefaults_PersistentVolume`, its sources' defaults and the capacity
/// rounded as every resource list is.
fn volume_defaults(object: &mut Value) {
    if let Some(status) = obj_path(object, &["status"]) {
        set_default_str(status, "phase", "Pending");
    }
    let Some(spec) = obj_path(object, &["spec"]) else { return };
    set_default_str(spec, "persistentVolumeReclaimPolicy", "Retain");
    set_default(spec, "volumeMode", json!("Filesystem"));
    podspec::default_resource_list(spec, "capacity");
    sort_map(spec, "capacity");
    if let Some(host_path) = spec.get_mut("hostPath").and_then(Value::as_object_mut) {
        set_default(host_path, "type", json!(""));
    }
    if let Some(iscsi) = spec.get_mut("iscsi").and_then(Value::as_object_mut) {
        set_default_str(iscsi, "iscsiInterface", "default");
    }
    if let Some(rbd) = spec.get_mut("rbd").and_then(Value::as_object_mut) {
        set_default_str(rbd, "pool", "rbd");
        set_default_str(rbd, "user", "admin");
        set_default_str(rbd, "keyring", "/etc/ceph/keyring");
    }
    if let Some(disk) = spec.get_mut("azureDisk").and_then(Value::as_object_mut) {
        set_default(disk, "cachingMode", json!("ReadWrite"));
        set_default(disk, "fsType", json!("ext4"));
        set_default(disk, "readOnly", json!(false));
        set_default(disk, "kind", json!("Shared"));
    }
    if let Some(scale_io) = spec.get_mut("scaleIO").and_then(Value::as_object_mut) {
        set_default_str(scale_io, "storageMode", "ThinProvisioned");
        set_default_str(scale_io, "fsType", "xfs");
    }
}

/// `SetDefaults_PersistentVolumeClaim` and `..Spec`: phase `Pending`,
/// volume mode `Filesystem`, the resource lists rounded.
pub(crate) fn claim_defaults(object: &mut Value) {
    if let Some(status) = obj_path(object, &["status"]) {
        set_default_str(status, "phase", "Pending");
    }
    let Some(spec) = obj_path(object, &["spec"]) else { return };
    set_default(spec, "volumeMode", json!("Filesystem"));
    if let Some(selector) = spec.get_mut("selector").and_then(Value::as_object_mut) {
        sort_map(selector, "matchLabels");
    }
    if let Some(resources) = spec.get_mut("resources").and_then(Value::as_object_mut) {
        for key in ["limits", "requests"] {
            podspec::default_resource_list(resources, key);
            sort_map(resources, key);
        }
    }
}

// ------------------------------------------------------- create and update

/// `PrepareForCreate`: a PV starts `Pending` with its transition time, a
/// PVC `Pending`; neither has a generation.
pub(crate) fn prepare_for_create(kind: VolumeKind, object: &mut Value) {
    let status = match kind {
        VolumeKind::PersistentVolume => json!({"phase": "Pending", "lastPhaseTransitionTime": crate::objects::now()}),
        VolumeKind::PersistentVolumeClaim => json!({"phase": "Pending"}),
    };
    if let Some(obj) = object.as_object_mut() {
        obj.insert("status".into(), status);
    }
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.shift_remove("generation");
    }
}

// ---------------------------------------------------------------- validation

/// A malformed quantity, reported as a decode error.
pub(crate) fn decode_error(kind: VolumeKind, object: &Value) -> Option<String> {
    match kind {
        VolumeKind::PersistentVolume => first_bad_quantity([at(object, &["spec", "capacity"])].into_iter().flatten()),
        VolumeKind::PersistentVolumeClaim => claim_decode_error(object),
    }
}

/// A malformed quantity in a claim's resources.
pub(crate) fn claim_decode_error(claim: &Value) -> Option<String> {
    let lists = ["limits", "requests"].map(|k| at(claim, &["spec", "resources", k]));
    first_bad_quantity(lists.into_iter().flatten())
}

/// Validation of a new object beyond its metadata.
pub(crate) fn validate_create(kind: VolumeKind, object: &Value) -> Errs {
    match kind {
        VolumeKind::PersistentVolume => volume_validate(object),
        VolumeKind::PersistentVolumeClaim => claim_spec_errors(object, &Path::new("spec")),
    }
}

/// Validation of an update, metadata included, in upstream's order.
pub(crate) fn validate_update(kind: VolumeKind, new: &Value, old: &Value, rules: MetaRules) -> Errs {
    let update_meta = || meta::validate_update(new, old, rules);
    let create_meta = || meta::validate_create(new, rules);
    match kind {
        VolumeKind::PersistentVolume => {
            let mut errs =
                [update_meta(), create_meta(), volume_validate(new), create_meta(), volume_validate(new)].concat();
            volume_update(new, old, &mut errs);
            errs
        }
        VolumeKind::PersistentVolumeClaim => {
            let spec = || claim_spec_errors(new, &Path::new("spec"));
            let mut errs = [update_meta(), create_meta(), spec(), update_meta(), create_meta(), spec()].concat();
            claim_update(new, old, &mut errs);
            errs
        }
    }
}

/// `validatePathNoBacksteps`.
fn no_backsteps(path: &str, p: &Path, errs: &mut Errs) {
    if path.split('/').any(|part| part == "..") {
        errs.push(invalid(p, path, "must not contain '..'"));
    }
}

fn required_str(source: &Value, key: &str, p: &Path, errs: &mut Errs) -> bool {
    if s(source, &[key]).is_empty() {
        errs.push(required(&p.child(key), ""));
        return false;
    }
    true
}

/// `validatePVSecretReference`.
fn secret_reference(secret: &Value, p: &Path, errs: &mut Errs) {
    let name = s(secret, &["name"]);
    if name.is_empty() {
        errs.push(required(&p.child("name"), ""));
    } else {
        for msg in is_dns1123_subdomain(name) {
            errs.push(invalid(&p.child("name"), name, &msg));
        }
    }
    let namespace = s(secret, &["namespace"]);
    if namespace.is_empty() {
        errs.push(required(&p.child("namespace"), ""));
    } else {
        for msg in is_dns1123_label(namespace) {
            errs.push(invalid(&p.child("namespace"), namespace, &msg));
        }
    }
}

/// `ValidateCSIDriverName`.
fn csi_driver_name(driver: &str, p: &Path, errs: &mut Errs) {
    if driver.is_empty() {
        errs.push(required(p, ""));
    }
    if driver.len() > 63 {
        errs.push(too_long(p, 63));
    }
    for msg in is_dns1123_subdomain(&driver.to_ascii_lowercase()) {
        errs.push(invalid(p, driver, &msg));
    }
}

/// `validateHostPathVolumeSource`.
fn host_path_errors(source: &Value, p: &Path, errs: &mut Errs) {
    if !required_str(source, "path", p, errs) {
        return;
    }
    no_backsteps(s(source, &["path"]), &p.child("path"), errs);
    if let Some(t) = str_at(source, &["type"])
        && !HOST_PATH_TYPES.contains(&t)
    {
        errs.push(not_supported(&p.child("type"), t, HOST_PATH_TYPES));
    }
}

/// `validateLocalVolumeSource`.
fn local_path_errors(source: &Value, p: &Path, errs: &mut Errs) {
    if required_str(source, "path", p, errs) {
        no_backsteps(s(source, &["path"]), &p.child("path"), errs);
    }
}

/// Ceph sources need monitors.
fn monitors(source: &Value, p: &Path, errs: &mut Errs) {
    if list_at(source, &["monitors"]).is_empty() {
        errs.push(required(&p.child("monitors"), ""));
    }
}

/// The checks of one persistent volume source.
fn source_errors(key: &str, source: &Value, p: &Path) -> Errs {
    let mut errs = Errs::new();
    match key {
        "hostPath" => host_path_errors(source, p, &mut errs),
        "nfs" => {
            required_str(source, "server", p, &mut errs);
            if required_str(source, "path", p, &mut errs) && !s(source, &["path"]).starts_with('/') {
                errs.push(invalid(&p.child("path"), s(source, &["path"]), "must be an absolute path"));
            }
        }
        "local" => local_path_errors(source, p, &mut errs),
        "gcePersistentDisk" | "awsElasticBlockStore" => {
            required_str(source, if key == "gcePersistentDisk" { "pdName" } else { "volumeID" }, p, &mut errs);
            if let Some(partition) = int_at(source, &["partition"])
                && !(0..=255).contains(&partition)
            {
                errs.push(invalid_int(&p.child("partition"), partition, "must be between 1 and 255, inclusive"));
            }
        }
        "iscsi" => {
            required_str(source, "targetPortal", p, &mut errs);
            required_str(source, "iqn", p, &mut errs);
            if let Some(lun) = int_at(source, &["lun"])
                && !(0..=255).contains(&lun)
            {
                errs.push(invalid_int(&p.child("lun"), lun, "must be between 0 and 255, inclusive"));
            }
        }
        "cephfs" => monitors(source, p, &mut errs),
        "rbd" => {
            monitors(source, p, &mut errs);
            required_str(source, "image", p, &mut errs);
        }
        "cinder" => {
            required_str(source, "volumeID", p, &mut errs);
        }
        "fc" => {
            let wwns = list_at(source, &["targetWWNs"]);
            let wwids = list_at(source, &["wwids"]);
            if wwns.is_empty() && wwids.is_empty() {
                errs.push(required(&p.child("targetWWNs"), "must specify either targetWWNs or wwids, but not both"));
            }
            if !wwns.is_empty() && !wwids.is_empty() {
                errs.push(invalid_rendered(
                    &p.child("targetWWNs"),
                    &render(&json!(wwns)),
                    "targetWWNs and wwids can not be specified simultaneously",
                ));
            }
        }
        "flexVolume" => {
            required_str(source, "driver", p, &mut errs);
        }
        "azureFile" => {
            required_str(source, "secretName", p, &mut errs);
            required_str(source, "shareName", p, &mut errs);
        }
        "azureDisk" => {
            required_str(source, "diskName", p, &mut errs);
            required_str(source, "diskURI", p, &mut errs);
        }
        "vsphereVolume" => {
            required_str(source, "volumePath", p, &mut errs);
        }
        "glusterfs" => {
            required_str(source, "endpoints", p, &mut errs);
            required_str(source, "path", p, &mut errs);
        }
        "csi" => {
            csi_driver_name(s(source, &["driver"]), &p.child("driver"), &mut errs);
            required_str(source, "volumeHandle", p, &mut errs);
            for secret in [
                "controllerPublishSecretRef",
                "controllerExpandSecretRef",
                "nodePublishSecretRef",
                "nodeExpandSecretRef",
            ] {
                if let Some(reference) = at(source, &[secret]) {
                    secret_reference(reference, &p.child(secret), &mut errs);
                }
            }
        }
        _ => {}
    }
    errs
}

/// `ValidatePersistentVolumeSpec` (not inline).
fn volume_validate(object: &Value) -> Errs {
    let empty = json!({});
    let spec = at(object, &["spec"]).unwrap_or(&empty);
    let sp = Path::new("spec");
    let mut errs = Errs::new();
    access_modes(spec, &sp.child("accessModes"), "", &mut errs);
    let capacity = map_at(spec, &["capacity"]);
    let cap_path = sp.child("capacity");
    if capacity.is_none_or(Map::is_empty) {
        errs.push(required(&cap_path, ""));
    }
    if capacity.is_none_or(|c| !c.contains_key("storage") || c.len() > 1) {
        let rendered = capacity.map_or_else(|| "null".to_owned(), |c| render(&Value::Object(c.clone())));
        errs.push(kubeplex_core::names::FieldError {
            reason: "FieldValueNotSupported",
            field: cap_path.as_str().to_owned(),
            body: format!("Unsupported value: {rendered}: supported values: \"storage\""),
        });
    }
    for (name, value) in sorted(capacity) {
        let kp = cap_path.key(name);
        if let Some(q) = quantity(value) {
            if q.sign() == std::cmp::Ordering::Less {
                errs.push(invalid_int(&kp, q.value(), "must be a valid resource quantity"));
            }
            if q.sign() != std::cmp::Ordering::Greater {
                errs.push(invalid(&kp, &q.to_string(), "must be greater than zero"));
            }
        }
    }
    if let Some(policy) = str_at(spec, &["persistentVolumeReclaimPolicy"]).filter(|p| !p.is_empty())
        && !RECLAIM_POLICIES.contains(&policy)
    {
        errs.push(not_supported(&sp.child("persistentVolumeReclaimPolicy"), policy, RECLAIM_POLICIES));
    }
    let mut node_affinity = false;
    if let Some(affinity) = at(spec, &["nodeAffinity"]) {
        node_affinity = true;
        let ap = sp.child("nodeAffinity");
        match at(affinity, &["required"]) {
            None => errs.push(required(&ap.child("required"), "must specify required node constraints")),
            Some(req) => {
                if list_at(req, &["nodeSelectorTerms"]).is_empty() {
                    errs.push(required(
                        &ap.child("required.nodeSelectorTerms"),
                        "must have at least one node selector term",
                    ));
                }
            }
        }
    }
    let mut sources = 0;
    for (key, dup_name, path_name) in PV_SOURCES {
        let Some(source) = at(spec, &[key]) else { continue };
        if sources > 0 && !dup_name.is_empty() {
            errs.push(forbidden(&sp.child(dup_name), "may not specify more than 1 volume type"));
            continue;
        }
        sources += 1;
        errs.extend(source_errors(key, source, &sp.child(path_name)));
        if *key == "local" && !node_affinity {
            errs.push(required(&sp.child("nodeAffinity"), "Local volume requires node affinity"));
        }
    }
    if sources == 0 {
        errs.push(required(&sp, "must specify a volume type"));
    }
    if let Some(path) = str_at(spec, &["hostPath", "path"])
        && path.trim_end_matches('/').is_empty()
        && path.starts_with('/')
        && s(spec, &["persistentVolumeReclaimPolicy"]) == "Recycle"
    {
        errs.push(forbidden(
            &sp.child("persistentVolumeReclaimPolicy"),
            "may not be 'recycle' for a hostPath mount of '/'",
        ));
    }
    class_name(spec, "storageClassName", &sp, &mut errs);
    if let Some(mode) = str_at(spec, &["volumeMode"])
        && !VOLUME_MODES.contains(&mode)
    {
        errs.push(not_supported(&sp.child("volumeMode"), mode, VOLUME_MODES));
    }
    if let Some(class) = str_at(spec, &["volumeAttributesClassName"]) {
        if class.is_empty() {
            errs.push(required(&sp.child("volumeAttributesClassName"), "an empty string is disallowed"));
        } else {
            class_name(spec, "volumeAttributesClassName", &sp, &mut errs);
        }
        if at(spec, &["csi"]).is_none() {
            errs.push(required(&sp.child("csi"), "has to be specified when using volumeAttributesClassName"));
        }
    }
    errs
}

/// The entries of a map in Go's sorted order.
fn sorted(map: Option<&Map<String, Value>>) -> Vec<(&str, &Value)> {
    let mut entries: Vec<(&str, &Value)> = map.into_iter().flatten().map(|(k, v)| (k.as_str(), v)).collect();
    entries.sort_by_key(|(k, _)| *k);
    entries
}

/// A class name (`ValidateClassName`, a DNS subdomain) under `key`, if set.
fn class_name(spec: &Value, key: &str, sp: &Path, errs: &mut Errs) {
    if let Some(name) = str_at(spec, &[key]).filter(|n| !n.is_empty()) {
        for msg in is_dns1123_subdomain(name) {
            errs.push(invalid(&sp.child(key), name, &msg));
        }
    }
}

/// The access mode checks PVs and PVCs share; `required_detail` is the
/// detail of the error for none.
fn access_modes(spec: &Value, p: &Path, required_detail: &str, errs: &mut Errs) {
    let modes: Vec<&str> = list_at(spec, &["accessModes"]).iter().map(|m| m.as_str().unwrap_or("")).collect();
    if modes.is_empty() {
        errs.push(required(p, required_detail));
    }
    let (mut rwop, mut other) = (false, false);
    for mode in &modes {
        if !ACCESS_MODES.contains(mode) {
            errs.push(not_supported(p, mode, ACCESS_MODES));
        } else if *mode == "ReadWriteOncePod" {
            rwop = true;
        } else {
            other = true;
        }
    }
    if rwop && other {
        errs.push(forbidden(p, "may not use ReadWriteOncePod with other access modes"));
    }
}

/// The Go-like rendering of a changed struct for the "immutable" messages
/// (upstream prints a `cmp.Diff`, whose exact layout is not stable).
fn spec_diff(type_name: &str, old: &Map<String, Value>, new: &Map<String, Value>) -> String {
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = format!("  {type_name}{{\n");
    for key in keys {
        let (o, n) = (old.get(key), new.get(key));
        if semantic_eq(o, n) {
            continue;
        }
        if let Some(o) = o.filter(|v| !v.is_null()) {
            out.push_str(&format!("- \t{key}: {},\n", render(o)));
        }
        if let Some(n) = n.filter(|v| !v.is_null()) {
            out.push_str(&format!("+ \t{key}: {},\n", render(n)));
        }
    }
    out.push_str("  }\n");
    out
}

/// `ValidatePersistentVolumeUpdate` beyond the re-validation: the volume
/// source and the volume mode are immutable.
fn volume_update(new: &Value, old: &Value, errs: &mut Errs) {
    let source = |object: &Value| -> Map<String, Value> {
        let mut out = Map::new();
        for (key, _, _) in PV_SOURCES {
            if let Some(v) = at(object, &["spec", key]) {
                out.insert((*key).to_owned(), v.clone());
            }
        }
        out
    };
    let (mut new_source, old_source) = (source(new), source(old));
    // A CSI volume may gain a controllerExpandSecretRef.
    if at(old, &["spec", "csi"]).is_some()
        && at(old, &["spec", "csi", "controllerExpandSecretRef"]).is_none()
        && let Some(csi) = new_source.get_mut("csi").and_then(Value::as_object_mut)
    {
        csi.remove("controllerExpandSecretRef");
    }
    if new_source != old_source {
        errs.push(forbidden(
            &Path::new("spec.persistentvolumesource"),
            &format!(
                "spec.persistentvolumesource is immutable after creation\n{}",
                spec_diff("core.PersistentVolumeSource", &old_source, &new_source)
            ),
        ));
    }
    immutable(errs, at(new, &["spec", "volumeMode"]), at(old, &["spec", "volumeMode"]), &Path::new("volumeMode"));
    let (nc, oc) = (at(new, &["spec", "volumeAttributesClassName"]), at(old, &["spec", "volumeAttributesClassName"]));
    if oc.is_some() && nc.is_none() {
        errs.push(forbidden(
            &Path::new("spec.volumeAttributesClassName"),
            "update from non-nil value to nil is forbidden",
        ));
    }
}

/// `ValidatePersistentVolumeClaimSpec` of the claim (or claim template)
/// `claim`, reported under `sp`.
pub(crate) fn claim_spec_errors(claim: &Value, sp: &Path) -> Errs {
    let empty = json!({});
    let spec = at(claim, &["spec"]).unwrap_or(&empty);
    let mut errs = Errs::new();
    if list_at(spec, &["accessModes"]).is_empty() {
        errs.push(required(&sp.child("accessModes"), "at least 1 access mode is required"));
    }
    if at(spec, &["selector"]).is_some() {
        let _ = super::apps::selector_of(spec, &sp.child("selector"), &mut errs);
    }
    let mut modes = Errs::new();
    access_modes(spec, &sp.child("accessModes"), "", &mut modes);
    // The empty list was reported above, with its own detail.
    errs.extend(modes.into_iter().filter(|e| e.reason != "FieldValueRequired"));
    let storage_path = sp.child("resources").key("storage");
    match at(spec, &["resources", "requests", "storage"]) {
        None => errs.push(required(&storage_path, "")),
        Some(value) => {
            if let Some(q) = quantity(value) {
                if q.sign() != std::cmp::Ordering::Greater {
                    errs.push(invalid(&storage_path, &q.to_string(), "must be greater than zero"));
                } else {
                    errs.extend(quantity_value_errors("storage", &q, &storage_path));
                }
            }
        }
    }
    class_name(spec, "storageClassName", sp, &mut errs);
    if let Some(mode) = str_at(spec, &["volumeMode"])
        && !VOLUME_MODES.contains(&mode)
    {
        errs.push(not_supported(&sp.child("volumeMode"), mode, VOLUME_MODES));
    }
    for key in ["dataSource", "dataSourceRef"] {
        if let Some(source) = at(spec, &[key]) {
            data_source(source, &sp.child(key), key == "dataSourceRef", &mut errs);
        }
    }
    let source = at(spec, &["dataSource"]);
    let source_ref = at(spec, &["dataSourceRef"]);
    let ref_namespace = source_ref.map(|r| s(r, &["namespace"])).unwrap_or("");
    if !ref_namespace.is_empty() {
        if source.is_some() {
            errs.push(invalid_rendered(sp, "{}", "may not be specified when dataSourceRef.namespace is specified"));
        }
    } else if let (Some(a), Some(b)) = (source, source_ref) {
        let same = at(a, &["apiGroup"]) == at(b, &["apiGroup"])
            && s(a, &["kind"]) == s(b, &["kind"])
            && s(a, &["name"]) == s(b, &["name"]);
        if !same {
            errs.push(invalid_rendered(sp, "{}", "must match dataSourceRef"));
        }
    }
    if str_at(spec, &["volumeAttributesClassName"]).is_some_and(|c| !c.is_empty()) {
        class_name(spec, "volumeAttributesClassName", sp, &mut errs);
    }
    errs
}

/// `validateDataSource` / `validateDataSourceRef`.
fn data_source(source: &Value, p: &Path, is_ref: bool, errs: &mut Errs) {
    if s(source, &["name"]).is_empty() {
        errs.push(required(&p.child("name"), ""));
    }
    let kind = s(source, &["kind"]);
    if kind.is_empty() {
        errs.push(required(&p.child("kind"), ""));
    }
    let group = s(source, &["apiGroup"]);
    if group.is_empty() && kind != "PersistentVolumeClaim" {
        errs.push(invalid(p, kind, "must be 'PersistentVolumeClaim' when referencing the default apiGroup"));
    }
    if !group.is_empty() {
        for msg in is_dns1123_subdomain(group) {
            errs.push(invalid(&p.child("apiGroup"), group, &msg));
        }
    }
    if is_ref && let Some(ns) = str_at(source, &["namespace"]).filter(|n| !n.is_empty()) {
        for msg in name_is_dns_label(ns, false) {
            errs.push(invalid(&p.child("namespace"), ns, &msg));
        }
    }
}

/// `ValidatePersistentVolumeClaimUpdate` beyond the re-validation: the spec
/// is immutable except a first `volumeName`, a class for a claim without
/// one, and (bound claims) `requests.storage`, which may not shrink below
/// what the volume has.
fn claim_update(new: &Value, old: &Value, errs: &mut Errs) {
    let mut new_spec = at(new, &["spec"]).and_then(Value::as_object).cloned().unwrap_or_default();
    let mut old_spec = at(old, &["spec"]).and_then(Value::as_object).cloned().unwrap_or_default();
    if old_spec.get("volumeName").and_then(Value::as_str).is_none_or(str::is_empty) {
        match new_spec.get("volumeName") {
            Some(v) => old_spec.insert("volumeName".into(), v.clone()),
            None => old_spec.remove("volumeName"),
        };
    }
    let storage_annotation = "volume.beta.kubernetes.io/storage-class";
    let old_annotation = at(old, &["metadata", "annotations", storage_annotation]).and_then(Value::as_str);
    let new_annotation = at(new, &["metadata", "annotations", storage_annotation]).and_then(Value::as_str);
    let old_class = old_spec.get("storageClassName").and_then(Value::as_str);
    let new_class = new_spec.get("storageClassName").and_then(Value::as_str);
    let upgrade_from_annotation = old_annotation.is_some()
        && old_class.is_none()
        && new_class.is_some_and(|c| Some(c) == old_annotation)
        && new_annotation.is_none_or(|a| Some(a) == old_annotation);
    if upgrade_from_annotation {
        new_spec.remove("storageClassName");
    } else {
        if old_annotation != new_annotation {
            errs.push(invalid_rendered(
                &Path::new("metadata.annotations").key(storage_annotation),
                &super::field::render(&json!(new_annotation.unwrap_or(""))),
                "field is immutable",
            ));
        }
        if new_class.is_some() && old_class.is_none() && old_annotation.is_none_or(|a| Some(a) == new_class) {
            new_spec.remove("storageClassName");
        }
    }
    let bound = s(new, &["status", "phase"]) == "Bound";
    if bound && let Some(resources) = child_obj(&mut new_spec, "resources") {
        let old_storage = at(old, &["spec", "resources", "requests", "storage"]).cloned();
        if let Some(requests) = resources.get_mut("requests").and_then(Value::as_object_mut) {
            match old_storage {
                Some(v) => requests.insert("storage".into(), v),
                None => requests.remove("storage"),
            };
        }
    }
    match old_spec.get("volumeAttributesClassName").cloned() {
        Some(v) => new_spec.insert("volumeAttributesClassName".into(), v),
        None => new_spec.remove("volumeAttributesClassName"),
    };
    if !semantic_eq(Some(&Value::Object(new_spec.clone())), Some(&Value::Object(old_spec.clone()))) {
        errs.push(forbidden(
            &Path::new("spec"),
            &format!(
                "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n{}",
                spec_diff("core.PersistentVolumeClaimSpec", &old_spec, &new_spec)
            ),
        ));
    }
    let size = |object: &Value, path: &[&str]| at(object, path).and_then(quantity);
    let old_size = size(old, &["spec", "resources", "requests", "storage"]);
    let new_size = size(new, &["spec", "resources", "requests", "storage"]);
    if let (Some(n), Some(o)) = (&new_size, &old_size)
        && n < o
    {
        let capacity = size(old, &["status", "capacity", "storage"]).unwrap_or_default();
        if *n <= capacity {
            errs.push(forbidden(
                &Path::new("spec.resources.requests.storage"),
                "field can not be less than status.capacity",
            ));
        }
    }
    immutable(errs, at(new, &["spec", "volumeMode"]), at(old, &["spec", "volumeMode"]), &Path::new("volumeMode"));
    let (nc, oc) = (at(new, &["spec", "volumeAttributesClassName"]), at(old, &["spec", "volumeAttributesClassName"]));
    if oc.is_some() && !semantic_eq(nc, oc) {
        match nc.and_then(Value::as_str) {
            None => errs.push(forbidden(
                &Path::new("spec.volumeAttributesClassName"),
                "update from non-nil value to nil is forbidden",
            )),
            Some("") => errs.push(forbidden(
                &Path::new("spec.volumeAttributesClassName"),
                "update from non-nil value to an empty string is forbidden",
            )),
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::meta::Finalizers;
    use kubeplex_core::names::name_is_dns_subdomain;

    use crate::strategy::field::msgs;

    fn prepared(kind: VolumeKind, mut object: Value) -> Value {
        defaults(kind, &mut object);
        prepare_for_create(kind, &mut object);
        object
    }

    fn pv(spec: Value) -> Value {
        prepared(VolumeKind::PersistentVolume, json!({"metadata": {"name": "pv1", "generation": 1}, "spec": spec}))
    }

    fn pvc(spec: Value) -> Value {
        prepared(
            VolumeKind::PersistentVolumeClaim,
            json!({"metadata": {"name": "data", "namespace": "default", "generation": 1}, "spec": spec}),
        )
    }

    const PV_RULES: MetaRules =
        MetaRules { name: name_is_dns_subdomain, namespaced: false, finalizers: Finalizers::Kube };
    const PVC_RULES: MetaRules =
        MetaRules { name: name_is_dns_subdomain, namespaced: true, finalizers: Finalizers::Kube };

    #[test]
    fn volume_defaults_as_upstream() {
        let v = pv(
            json!({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/data"}}),
        );
        assert_eq!(v["spec"]["persistentVolumeReclaimPolicy"], "Retain");
        assert_eq!(v["spec"]["volumeMode"], "Filesystem");
        assert_eq!(v["spec"]["hostPath"], json!({"path": "/data", "type": ""}));
        assert_eq!(v["status"]["phase"], "Pending");
        assert!(v["status"]["lastPhaseTransitionTime"].is_string());
        assert!(v["metadata"].get("generation").is_none());
        assert!(validate_create(VolumeKind::PersistentVolume, &v).is_empty());
    }

    #[test]
    fn volume_errors() {
        let v = pv(
            json!({"capacity": {"cpu": "1"}, "accessModes": ["ReadWriteSometimes"], "nfs": {"server": "s", "path": "rel"},
                          "hostPath": {"path": "/x"}}),
        );
        assert_eq!(
            msgs(&validate_create(VolumeKind::PersistentVolume, &v)),
            [
                "spec.accessModes: Unsupported value: \"ReadWriteSometimes\": supported values: \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\"",
                "spec.capacity: Unsupported value: {\"cpu\":\"1\"}: supported values: \"storage\"",
                "spec.nfs: Forbidden: may not specify more than 1 volume type",
            ]
        );
        let v = pv(json!({}));
        assert_eq!(
            msgs(&validate_create(VolumeKind::PersistentVolume, &v)),
            [
                "spec.accessModes: Required value",
                "spec.capacity: Required value",
                "spec.capacity: Unsupported value: null: supported values: \"storage\"",
                "spec: Required value: must specify a volume type",
            ]
        );
        let old =
            pv(json!({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/a"}}));
        let mut new = old.clone();
        new["spec"]["hostPath"]["path"] = json!("/b");
        new["spec"]["capacity"]["storage"] = json!("2Gi");
        let errs = validate_update(VolumeKind::PersistentVolume, &new, &old, PV_RULES);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].body.starts_with("Forbidden: spec.persistentvolumesource is immutable after creation\n"));
        assert_eq!(errs[0].field, "spec.persistentvolumesource");
    }

    #[test]
    fn claims() {
        let c = pvc(json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1.5Gi"}}}));
        assert_eq!(c["spec"]["volumeMode"], "Filesystem");
        assert_eq!(c["spec"]["resources"]["requests"]["storage"], "1536Mi");
        assert_eq!(c["status"], json!({"phase": "Pending"}));
        assert!(c["metadata"].get("generation").is_none());
        assert!(validate_create(VolumeKind::PersistentVolumeClaim, &c).is_empty());
        let bad = pvc(json!({"resources": {"requests": {"storage": "0"}}, "storageClassName": "Fast_SSD"}));
        let errs = msgs(&validate_create(VolumeKind::PersistentVolumeClaim, &bad));
        assert_eq!(errs[0], "spec.accessModes: Required value: at least 1 access mode is required");
        assert_eq!(errs[1], "spec.resources[storage]: Invalid value: \"0\": must be greater than zero");
        assert!(
            errs[2].starts_with("spec.storageClassName: Invalid value: \"Fast_SSD\": a lowercase RFC 1123 subdomain")
        );
        let none = pvc(json!({"accessModes": ["ReadWriteOnce"]}));
        assert_eq!(
            msgs(&validate_create(VolumeKind::PersistentVolumeClaim, &none)),
            ["spec.resources[storage]: Required value"]
        );
        // Unbound claims cannot be resized; bound ones can grow.
        let mut new = c.clone();
        new["spec"]["resources"]["requests"]["storage"] = json!("2Gi");
        let errs = validate_update(VolumeKind::PersistentVolumeClaim, &new, &c, PVC_RULES);
        assert_eq!(errs.len(), 1);
        assert!(errs[0].body.starts_with(
            "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n"
        ));
        new["status"]["phase"] = json!("Bound");
        assert!(validate_update(VolumeKind::PersistentVolumeClaim, &new, &c, PVC_RULES).is_empty());
        let mut named = c.clone();
        named["spec"]["volumeName"] = json!("pv1");
        assert!(validate_update(VolumeKind::PersistentVolumeClaim, &named, &c, PVC_RULES).is_empty());
    }

    #[test]
    fn decode_errors() {
        let c = json!({"spec": {"resources": {"requests": {"storage": "lots"}}}});
        assert!(decode_error(VolumeKind::PersistentVolumeClaim, &c).is_some());
        let v = json!({"spec": {"capacity": {"storage": "1Gi"}}});
        assert!(decode_error(VolumeKind::PersistentVolume, &v).is_none());
    }
}
