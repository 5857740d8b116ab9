//! Printers of PersistentVolume and PersistentVolumeClaim (core/v1), with
//! the cells of `printPersistentVolume` and `printPersistentVolumeClaim`:
//! capacity as a quantity, access modes as `RWO,ROX,RWX,RWOP`, the class
//! from the beta annotation first, `Terminating` while deletion is pending.

use jiff::Timestamp;
use serde_json::Value;

use super::{AGE, Column, NAME, Row, age, col, name, quantity_at, wide};
use crate::table::json::{get, has, list_at, str_at};

// Column descriptions: `SwaggerDoc()` of core/v1 (k8s.io/api v0.36) and the printers' own texts.
const PV_CAPACITY: &str = "capacity is the description of the persistent volume's resources and capacity. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity";
const PV_ACCESS_MODES: &str = "accessModes contains all ways the volume can be mounted. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes";
const PV_RECLAIM_POLICY: &str = "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim. Valid options are Retain (default for manually created PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), and Recycle (deprecated). Recycle must be supported by the volume plugin underlying this PersistentVolume. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming";
const PV_PHASE: &str = "phase indicates if a volume is available, bound to a claim, or released by a claim. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase";
const PV_CLAIM_REF: &str = "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the authoritative bind between PV and PVC. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding";
const PV_REASON: &str = "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.";
const PV_VOLUME_MODE: &str = "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state. Value of Filesystem is implied when not included in spec.";
const PVC_PHASE: &str = "phase represents the current phase of PersistentVolumeClaim.";
const PVC_VOLUME_NAME: &str = "volumeName is the binding reference to the PersistentVolume backing this claim.";
const PVC_CAPACITY: &str = "capacity represents the actual resources of the underlying volume.";
const PVC_ACCESS_MODES: &str = "accessModes contains the actual access modes the volume backing the PVC has. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1";
const PVC_VOLUME_MODE: &str = "volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied when not included in claim spec.";

/// The annotation that named a volume's class before `storageClassName`.
const BETA_STORAGE_CLASS: &str = "volume.beta.kubernetes.io/storage-class";

pub(super) const PERSISTENT_VOLUME_COLUMNS: &[Column] = &[
    NAME,
    col("Capacity", "string", PV_CAPACITY),
    col("Access Modes", "string", PV_ACCESS_MODES),
    col("Reclaim Policy", "string", PV_RECLAIM_POLICY),
    col("Status", "string", PV_PHASE),
    col("Claim", "string", PV_CLAIM_REF),
    col("StorageClass", "string", "StorageClass of the pv"),
    col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
    col("Reason", "string", PV_REASON),
    AGE,
    wide("VolumeMode", "string", PV_VOLUME_MODE),
];

/// `Quantity.String()` of `list[storage]` (`0` when absent).
fn storage(obj: &Value, path: &[&str]) -> String {
    quantity_at(obj, path).map_or_else(|| "0".to_owned(), |q| q.to_string())
}

/// `GetAccessModesAsString`: each mode once, in the fixed order.
fn access_modes(obj: &Value, path: &[&str]) -> String {
    let modes: Vec<&str> = list_at(obj, path).iter().filter_map(Value::as_str).collect();
    [("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"), ("ReadWriteOncePod", "RWOP")]
        .iter()
        .filter(|(mode, _)| modes.contains(mode))
        .map(|(_, short)| *short)
        .collect::<Vec<_>>()
        .join(",")
}

/// The phase, or `Terminating` while deletion is pending.
fn phase(obj: &Value) -> &str {
    if has(obj, &["metadata", "deletionTimestamp"]) { "Terminating" } else { str_at(obj, &["status", "phase"]) }
}

/// The class: the beta annotation if present, else `spec.storageClassName`.
fn storage_class(obj: &Value) -> &str {
    match get(obj, &["metadata", "annotations", BETA_STORAGE_CLASS]).and_then(Value::as_str) {
        Some(class) => class,
        None => str_at(obj, &["spec", "storageClassName"]),
    }
}

fn unset_or(obj: &Value, path: &[&str]) -> Value {
    Value::from(get(obj, path).and_then(Value::as_str).unwrap_or("<unset>"))
}

pub(super) fn persistent_volume(obj: &Value, now: Timestamp) -> Row {
    let claim = if has(obj, &["spec", "claimRef"]) {
        format!("{}/{}", str_at(obj, &["spec", "claimRef", "namespace"]), str_at(obj, &["spec", "claimRef", "name"]))
    } else {
        String::new()
    };
    Row::new(vec![
        name(obj),
        Value::from(storage(obj, &["spec", "capacity", "storage"])),
        Value::from(access_modes(obj, &["spec", "accessModes"])),
        Value::from(str_at(obj, &["spec", "persistentVolumeReclaimPolicy"])),
        Value::from(phase(obj)),
        Value::from(claim),
        Value::from(storage_class(obj)),
        unset_or(obj, &["spec", "volumeAttributesClassName"]),
        Value::from(str_at(obj, &["status", "reason"])),
        age(obj, now),
        unset_or(obj, &["spec", "volumeMode"]),
    ])
}

pub(super) const PERSISTENT_VOLUME_CLAIM_COLUMNS: &[Column] = &[
    NAME,
    col("Status", "string", PVC_PHASE),
    col("Volume", "string", PVC_VOLUME_NAME),
    col("Capacity", "string", PVC_CAPACITY),
    col("Access Modes", "string", PVC_ACCESS_MODES),
    col("StorageClass", "string", "StorageClass of the pvc"),
    col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
    AGE,
    wide("VolumeMode", "string", PVC_VOLUME_MODE),
];

/// Capacity and access modes show only once the claim names its volume.
pub(super) fn persistent_volume_claim(obj: &Value, now: Timestamp) -> Row {
    let volume = str_at(obj, &["spec", "volumeName"]);
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (storage(obj, &["status", "capacity", "storage"]), access_modes(obj, &["status", "accessModes"]))
    };
    Row::new(vec![
        name(obj),
        Value::from(phase(obj)),
        Value::from(volume),
        Value::from(capacity),
        Value::from(modes),
        Value::from(storage_class(obj)),
        unset_or(obj, &["spec", "volumeAttributesClassName"]),
        age(obj, now),
        unset_or(obj, &["spec", "volumeMode"]),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2025-06-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn persistent_volume_cells() {
        let pv = json!({"metadata": {"name": "pv1", "creationTimestamp": "2025-06-01T11:00:00Z"},
                        "spec": {"capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteMany", "ReadWriteOnce", "ReadWriteOnce"],
                                 "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "slow",
                                 "claimRef": {"namespace": "demo", "name": "data"}, "volumeMode": "Filesystem"},
                        "status": {"phase": "Bound"}});
        assert_eq!(
            persistent_volume(&pv, now()).cells,
            vec![
                json!("pv1"),
                json!("10Gi"),
                json!("RWO,RWX"),
                json!("Retain"),
                json!("Bound"),
                json!("demo/data"),
                json!("slow"),
                json!("<unset>"),
                json!(""),
                json!("60m"),
                json!("Filesystem")
            ]
        );
        let mut deleting = pv.clone();
        deleting["metadata"]["deletionTimestamp"] = json!("2025-06-01T11:59:00Z");
        deleting["metadata"]["annotations"] = json!({BETA_STORAGE_CLASS: "fast"});
        let cells = persistent_volume(&deleting, now()).cells;
        assert_eq!((&cells[4], &cells[6]), (&json!("Terminating"), &json!("fast")));
        let empty = persistent_volume(&json!({}), now()).cells;
        assert_eq!(empty[1], json!("0"));
        assert_eq!(empty[10], json!("<unset>"));
    }

    #[test]
    fn persistent_volume_claim_cells() {
        let pending = json!({"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"],
                             "resources": {"requests": {"storage": "1Gi"}}, "volumeMode": "Filesystem"},
                             "status": {"phase": "Pending"}});
        assert_eq!(
            persistent_volume_claim(&pending, now()).cells,
            vec![
                json!("data"),
                json!("Pending"),
                json!(""),
                json!(""),
                json!(""),
                json!(""),
                json!("<unset>"),
                json!("<unknown>"),
                json!("Filesystem")
            ]
        );
        let bound = json!({"metadata": {"name": "data"}, "spec": {"volumeName": "pv1", "storageClassName": "slow"},
                           "status": {"phase": "Bound", "capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"]}});
        let cells = persistent_volume_claim(&bound, now()).cells;
        assert_eq!(cells[1..6], [json!("Bound"), json!("pv1"), json!("10Gi"), json!("RWO"), json!("slow")]);
    }
}
