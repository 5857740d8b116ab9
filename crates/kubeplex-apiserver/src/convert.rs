//! Conversion between the stored form of an object and the version a
//! request is served in, for kinds served under two groups with one
//! storage: Events are stored as core/v1 and served as events.k8s.io/v1 by
//! renaming fields (upstream converts through the internal version the same
//! way).

use kubeplex_core::resource::ResourceDef;
use serde_json::Value;

use crate::strategy;

fn is_events_v1(def: &ResourceDef) -> bool {
    def.group == "events.k8s.io" && def.kind == "Event"
}

/// Whether objects of `def` are stored in another form than served.
pub fn converts(def: &ResourceDef) -> bool {
    is_events_v1(def)
}

/// Turns a stored object into the version `def` serves.
pub fn to_served(def: &ResourceDef, object: &mut Value) {
    if is_events_v1(def) {
        *object = strategy::events_v1_from_core_event(object);
    }
}

/// Turns an object of the version `def` serves into its stored form.
pub fn to_stored(def: &ResourceDef, object: &mut Value) {
    if is_events_v1(def) {
        *object = strategy::core_event_from_events_v1(object);
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
}
