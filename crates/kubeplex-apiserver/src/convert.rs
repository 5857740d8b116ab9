//! Conversion between the stored form of an object and the version a
//! request is served in: Events are stored as core/v1 and served as
//! events.k8s.io/v1 by renaming fields (upstream converts through the
//! internal version the same way); HorizontalPodAutoscalers are stored as
//! autoscaling/v2 and served as autoscaling/v1 too (`strategy::hpa_v1_from_v2`
//! and back, what v1 cannot express kept in annotations); custom resources are stored in their
//! CRD's storage version and served in any other by rewriting `apiVersion`
//! (conversion strategy `None`).

use kubeplex_core::resource::ResourceDef;
use serde_json::Value;

use crate::strategy;

fn is_events_v1(def: &ResourceDef) -> bool {
    def.group == "events.k8s.io" && def.kind == "Event"
}

fn is_hpa_v1(def: &ResourceDef) -> bool {
    def.custom.is_none() && def.group == "autoscaling" && def.kind == "HorizontalPodAutoscaler" && def.version == "v1"
}

/// The storage version of a custom resource served in another version.
fn other_storage_version(def: &ResourceDef) -> Option<&str> {
    def.custom.as_ref().map(|c| c.storage_version.as_str()).filter(|v| *v != def.version)
}

/// Whether objects of `def` are stored in another form than served.
pub fn converts(def: &ResourceDef) -> bool {
    is_events_v1(def) || is_hpa_v1(def) || other_storage_version(def).is_some()
}

/// Turns a stored object into the version `def` serves.
pub fn to_served(def: &ResourceDef, object: &mut Value) {
    if is_events_v1(def) {
        *object = strategy::events_v1_from_core_event(object);
    } else if is_hpa_v1(def) {
        *object = strategy::hpa_v1_from_v2(object);
    } else if other_storage_version(def).is_some() && object.is_object() {
        object["apiVersion"] = Value::from(def.api_version());
    }
}

/// Turns an object of the version `def` serves into its stored form.
pub fn to_stored(def: &ResourceDef, object: &mut Value) {
    if is_events_v1(def) {
        *object = strategy::core_event_from_events_v1(object);
    } else if is_hpa_v1(def) {
        *object = strategy::hpa_v2_from_v1(object);
    } else if let Some(storage) = other_storage_version(def)
        && object.is_object()
    {
        object["apiVersion"] = Value::from(format!("{}/{storage}", def.group));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubeplex_core::resource::{BUILTIN, find};
    use serde_json::json;

    #[test]
    fn events_round_trip_between_versions() {
        let events = find(BUILTIN, "events.k8s.io", "v1", "events").unwrap();
        let mut stored = json!({
            "apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"},
            "involvedObject": {"kind": "Pod", "name": "p"}, "message": "hi", "reason": "Started",
            "count": 2, "source": {"component": "kubelet"}, "reportingComponent": "kubelet",
        });
        let original = stored.clone();
        to_served(events, &mut stored);
        assert_eq!(stored["apiVersion"], "events.k8s.io/v1");
        assert_eq!(stored["regarding"]["name"], "p");
        assert_eq!(stored["note"], "hi");
        assert_eq!(stored["deprecatedCount"], 2);
        assert_eq!(stored["reportingController"], "kubelet");
        assert!(stored.get("message").is_none());
        to_stored(events, &mut stored);
        for field in [
            "apiVersion",
            "kind",
            "metadata",
            "involvedObject",
            "message",
            "reason",
            "count",
            "source",
            "reportingComponent",
        ] {
            assert_eq!(stored[field], original[field], "{field}");
        }
        let core = find(BUILTIN, "", "v1", "events").unwrap();
        assert!(!converts(core));
    }

    #[test]
    fn autoscalers_are_stored_as_v2() {
        let v1 = find(BUILTIN, "autoscaling", "v1", "horizontalpodautoscalers").unwrap();
        let v2 = find(BUILTIN, "autoscaling", "v2", "horizontalpodautoscalers").unwrap();
        assert!(converts(v1) && !converts(v2));
        let mut object = json!({
            "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 3,
                "targetCPUUtilizationPercentage": 50},
            "status": {"currentReplicas": 0, "desiredReplicas": 0},
        });
        let original = object.clone();
        to_stored(v1, &mut object);
        assert_eq!(object["apiVersion"], "autoscaling/v2");
        assert_eq!(object["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"], 50);
        to_served(v1, &mut object);
        assert_eq!(object, original);
    }
}
