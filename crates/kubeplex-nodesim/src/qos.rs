//! A pod's QoS class (`status.qosClass`) as upstream computes it
//! (`pkg/apis/core/v1/helper/qos`): only cpu and memory count; BestEffort
//! when nothing is requested or limited, Guaranteed when every container
//! limits both and requests equal limits, Burstable otherwise. Pod-level
//! resources (`spec.resources`, PodLevelResources, on by default in 1.36)
//! decide instead of the containers when set. A limit without a request
//! counts as requesting the limit, as API defaulting would have made it.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use kubeplex_core::quantity::Quantity;

/// `Guaranteed`.
pub const GUARANTEED: &str = "Guaranteed";
/// `Burstable`.
pub const BURSTABLE: &str = "Burstable";
/// `BestEffort`.
pub const BEST_EFFORT: &str = "BestEffort";

const QOS_RESOURCES: [&str; 2] = ["cpu", "memory"];

/// Adds the positive cpu/memory amounts of `list` into `sums`; returns which
/// of cpu/memory it had (positive).
fn add(sums: &mut BTreeMap<&'static str, Quantity>, list: Option<&BTreeMap<String, K8sQuantity>>) -> [bool; 2] {
    let mut found = [false; 2];
    let Some(list) = list else { return found };
    for (i, name) in QOS_RESOURCES.iter().enumerate() {
        let Some(q) = list.get(*name).and_then(|q| Quantity::parse(&q.0).ok()) else { continue };
        if q.sign() != std::cmp::Ordering::Greater {
            continue;
        }
        found[i] = true;
        match sums.get(name) {
            Some(sum) => {
                if let Some(total) = sum.checked_add(&q) {
                    sums.insert(name, total);
                }
            }
            None => {
                sums.insert(name, q);
            }
        }
    }
    found
}

/// The QoS class of `pod`: [`GUARANTEED`], [`BURSTABLE`] or [`BEST_EFFORT`].
pub fn pod_qos_class(pod: &Pod) -> &'static str {
    let mut requests = BTreeMap::new();
    let mut limits = BTreeMap::new();
    let mut guaranteed = true;
    let spec = pod.spec.as_ref();
    let pod_level = spec.and_then(|s| s.resources.as_ref()).filter(|r| has_qos_resource(r));
    if let Some(r) = pod_level {
        add(&mut requests, defaulted_requests(r).as_ref());
        let found = add(&mut limits, r.limits.as_ref());
        if !found.iter().all(|f| *f) {
            guaranteed = false;
        }
    } else if let Some(spec) = spec {
        let init = spec.init_containers.as_deref().unwrap_or(&[]);
        for c in spec.containers.iter().chain(init) {
            let r = c.resources.as_ref();
            add(&mut requests, r.and_then(defaulted_requests).as_ref());
            let found = add(&mut limits, r.and_then(|r| r.limits.as_ref()));
            if !found.iter().all(|f| *f) {
                guaranteed = false;
            }
        }
    }
    if requests.is_empty() && limits.is_empty() {
        return BEST_EFFORT;
    }
    if guaranteed && requests.iter().any(|(name, req)| limits.get(name) != Some(req)) {
        guaranteed = false;
    }
    if guaranteed && requests.len() == limits.len() { GUARANTEED } else { BURSTABLE }
}

/// Requests as API defaulting leaves them: a limit without a request
/// requests the limit.
fn defaulted_requests(r: &ResourceRequirements) -> Option<BTreeMap<String, K8sQuantity>> {
    let mut out = r.requests.clone().unwrap_or_default();
    for (name, q) in r.limits.iter().flatten() {
        out.entry(name.clone()).or_insert_with(|| q.clone());
    }
    Some(out)
}

fn has_qos_resource(r: &ResourceRequirements) -> bool {
    [r.requests.as_ref(), r.limits.as_ref()]
        .into_iter()
        .flatten()
        .any(|list| QOS_RESOURCES.iter().any(|name| list.contains_key(*name)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, PodSpec};

    fn list(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, K8sQuantity>> {
        (!pairs.is_empty())
            .then(|| pairs.iter().map(|(k, v)| ((*k).to_owned(), K8sQuantity((*v).to_owned()))).collect())
    }

    fn container(requests: &[(&str, &str)], limits: &[(&str, &str)]) -> Container {
        Container {
            name: "c".into(),
            resources: Some(ResourceRequirements { requests: list(requests), limits: list(limits), claims: None }),
            ..Container::default()
        }
    }

    fn pod(containers: Vec<Container>) -> Pod {
        Pod { spec: Some(PodSpec { containers, ..PodSpec::default() }), ..Pod::default() }
    }

    #[test]
    fn best_effort() {
        assert_eq!(pod_qos_class(&pod(vec![Container::default()])), BEST_EFFORT);
        assert_eq!(pod_qos_class(&pod(vec![container(&[("cpu", "0")], &[("nvidia.com/gpu", "1")])])), BEST_EFFORT);
        assert_eq!(pod_qos_class(&Pod::default()), BEST_EFFORT);
    }

    #[test]
    fn guaranteed() {
        let both = [("cpu", "500m"), ("memory", "128Mi")];
        assert_eq!(pod_qos_class(&pod(vec![container(&both, &both)])), GUARANTEED);
        let limits = [("cpu", "0.5"), ("memory", "128Mi")];
        assert_eq!(pod_qos_class(&pod(vec![container(&both, &limits)])), GUARANTEED, "500m equals 0.5");
        assert_eq!(
            pod_qos_class(&pod(vec![container(&both, &both), container(&both, &both)])),
            GUARANTEED,
            "sums compare"
        );
        // Limits alone: requests default to them, as API defaulting does.
        assert_eq!(pod_qos_class(&pod(vec![container(&[], &both)])), GUARANTEED);
    }

    #[test]
    fn burstable() {
        assert_eq!(pod_qos_class(&pod(vec![container(&[("cpu", "100m")], &[])])), BURSTABLE);
        let both = [("cpu", "500m"), ("memory", "128Mi")];
        assert_eq!(pod_qos_class(&pod(vec![container(&both, &[("cpu", "500m")])])), BURSTABLE);
        assert_eq!(pod_qos_class(&pod(vec![container(&both, &[("cpu", "1"), ("memory", "128Mi")])])), BURSTABLE);
        assert_eq!(pod_qos_class(&pod(vec![container(&both, &both), Container::default()])), BURSTABLE);
    }

    #[test]
    fn pod_level_resources_decide() {
        let both = [("cpu", "1"), ("memory", "1Gi")];
        let mut p = pod(vec![Container::default()]);
        if let Some(spec) = p.spec.as_mut() {
            spec.resources = Some(ResourceRequirements { requests: list(&both), limits: list(&both), claims: None });
        }
        assert_eq!(pod_qos_class(&p), GUARANTEED);
        if let Some(spec) = p.spec.as_mut() {
            spec.resources = Some(ResourceRequirements { requests: list(&both), limits: None, claims: None });
        }
        assert_eq!(pod_qos_class(&p), BURSTABLE);
    }
}
