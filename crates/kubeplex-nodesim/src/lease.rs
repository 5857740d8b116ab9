//! The node Lease a kubelet keeps in `kube-node-lease` (name = node name),
//! and its renewal, as the kubelet's lease controller does it: holder = node
//! name, 40 s duration, renewed every 10 s (a quarter of the duration), owned
//! by the Node (an ownerReference without `controller`, so the garbage
//! collector removes the Lease with its Node).

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, OwnerReference};
use serde_json::{Value, json};

/// The namespace node Leases live in.
pub const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";
/// `spec.leaseDurationSeconds` (the kubelet's `nodeLeaseDurationSeconds` default).
pub const LEASE_DURATION_SECONDS: i32 = 40;
/// How often the Lease is renewed (a quarter of its duration, as the kubelet).
pub const LEASE_RENEW_INTERVAL: SignedDuration = SignedDuration::from_secs(10);

/// A timestamp as `metav1.MicroTime` holds it: whole microseconds.
fn micro(now: Timestamp) -> MicroTime {
    MicroTime(Timestamp::from_microsecond(now.as_microsecond()).unwrap_or(now))
}

/// The ownerReference to the Node, when its UID is known (the kubelet adds
/// it only once it has seen its Node).
fn owner(node_name: &str, node_uid: Option<&str>) -> Option<Vec<OwnerReference>> {
    let uid = node_uid.filter(|u| !u.is_empty())?;
    Some(vec![OwnerReference {
        api_version: "v1".to_owned(),
        kind: "Node".to_owned(),
        name: node_name.to_owned(),
        uid: uid.to_owned(),
        controller: None,
        block_owner_deletion: None,
    }])
}

/// The Lease of node `node_name` (UID `node_uid`, if known) renewed at `now`.
pub fn node_lease(node_name: &str, node_uid: Option<&str>, now: Timestamp) -> Lease {
    Lease {
        metadata: ObjectMeta {
            name: Some(node_name.to_owned()),
            namespace: Some(NODE_LEASE_NAMESPACE.to_owned()),
            owner_references: owner(node_name, node_uid),
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(node_name.to_owned()),
            lease_duration_seconds: Some(LEASE_DURATION_SECONDS),
            renew_time: Some(micro(now)),
            ..LeaseSpec::default()
        }),
    }
}

/// `lease` renewed at `now` (for an update with its resourceVersion, as the
/// kubelet does): renewTime now, holder and duration restored if someone
/// changed them, the ownerReference added if it was missing and the Node's
/// UID is known. Everything else (metadata included) kept.
pub fn renew_lease(lease: &Lease, node_name: &str, node_uid: Option<&str>, now: Timestamp) -> Lease {
    let mut renewed = lease.clone();
    let spec = renewed.spec.get_or_insert_with(LeaseSpec::default);
    spec.holder_identity = Some(node_name.to_owned());
    spec.lease_duration_seconds = Some(LEASE_DURATION_SECONDS);
    spec.renew_time = Some(micro(now));
    if renewed.metadata.owner_references.as_ref().is_none_or(Vec::is_empty) {
        renewed.metadata.owner_references = owner(node_name, node_uid);
    }
    renewed
}

/// A merge patch that renews a Lease at `now` (cheaper than an update when
/// the Lease is known to be ours): `{"spec":{"renewTime":…}}`.
pub fn lease_renew_patch(now: Timestamp) -> Value {
    json!({"spec": {"renewTime": micro(now)}})
}

/// When `lease` is next due for renewal ([`LEASE_RENEW_INTERVAL`] after its
/// renewTime); `None` (due now) if it was never renewed.
pub fn next_lease_renewal(lease: &Lease) -> Option<Timestamp> {
    let renewed = lease.spec.as_ref()?.renew_time.as_ref()?.0;
    renewed.checked_add(LEASE_RENEW_INTERVAL).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn lease_as_the_kubelet_creates_it() {
        let now = ts("2026-03-01T10:00:00.123456789Z");
        let lease = node_lease("kubeplex-node-1", Some("uid-1"), now);
        let json = serde_json::to_value(&lease).unwrap();
        assert_eq!(json["metadata"]["name"], "kubeplex-node-1");
        assert_eq!(json["metadata"]["namespace"], "kube-node-lease");
        assert_eq!(
            json["metadata"]["ownerReferences"],
            json!([{"apiVersion": "v1", "kind": "Node", "name": "kubeplex-node-1", "uid": "uid-1"}])
        );
        assert_eq!(json["spec"]["holderIdentity"], "kubeplex-node-1");
        assert_eq!(json["spec"]["leaseDurationSeconds"], 40);
        assert_eq!(json["spec"]["renewTime"], "2026-03-01T10:00:00.123456Z");
        assert!(node_lease("n", None, now).metadata.owner_references.is_none());
        assert!(node_lease("n", Some(""), now).metadata.owner_references.is_none());
    }

    #[test]
    fn renewal() {
        let t0 = ts("2026-03-01T10:00:00Z");
        let t1 = ts("2026-03-01T10:00:10Z");
        let mut lease = node_lease("n1", None, t0);
        lease.metadata.resource_version = Some("42".into());
        lease.spec.as_mut().unwrap().holder_identity = Some("someone".into());
        assert_eq!(next_lease_renewal(&lease), Some(t1));
        let renewed = renew_lease(&lease, "n1", Some("uid-9"), t1);
        assert_eq!(renewed.metadata.resource_version.as_deref(), Some("42"));
        let spec = renewed.spec.as_ref().unwrap();
        assert_eq!(spec.holder_identity.as_deref(), Some("n1"));
        assert_eq!(spec.renew_time, Some(MicroTime(t1)));
        assert_eq!(renewed.metadata.owner_references.as_ref().unwrap()[0].uid, "uid-9");
        assert_eq!(next_lease_renewal(&renewed), Some(ts("2026-03-01T10:00:20Z")));
        assert_eq!(lease_renew_patch(t1), json!({"spec": {"renewTime": "2026-03-01T10:00:10.000000Z"}}));
        assert_eq!(next_lease_renewal(&Lease::default()), None);
    }
}
