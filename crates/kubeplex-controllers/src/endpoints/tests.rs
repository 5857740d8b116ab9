//! Endpoints and EndpointSlice tests.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Container, ContainerPort, Pod, PodCondition, PodIP, PodSpec, PodStatus, Service, ServicePort, ServiceSpec,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::Timestamp;

use super::slices::{NodeLookup, SliceChanges, reconcile_endpoint_slices};
use super::*;

fn service() -> Service {
    Service {
        metadata: ObjectMeta {
            name: Some("web".into()),
            namespace: Some("demo".into()),
            uid: Some("svc-uid".into()),
            labels: Some(BTreeMap::from([("app".to_string(), "web".to_string())])),
            ..ObjectMeta::default()
        },
        spec: Some(ServiceSpec {
            selector: Some(BTreeMap::from([("app".to_string(), "web".to_string())])),
            cluster_ip: Some("10.96.10.10".into()),
            ip_families: Some(vec!["IPv4".into()]),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: 80,
                protocol: Some("TCP".into()),
                target_port: Some(IntOrString::String("web".into())),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

fn pod(n: usize, ready: bool) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(format!("web-{n}")),
            namespace: Some("demo".into()),
            uid: Some(format!("uid-{n}")),
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            node_name: Some("node-1".into()),
            containers: vec![Container {
                name: "c".into(),
                ports: Some(vec![ContainerPort {
                    name: Some("web".into()),
                    container_port: 8080,
                    protocol: Some("TCP".into()),
                    ..ContainerPort::default()
                }]),
                ..Container::default()
            }],
            ..PodSpec::default()
        }),
        status: Some(PodStatus {
            phase: Some("Running".into()),
            pod_ip: Some(format!("10.244.{}.{}", n / 250, n % 250 + 1)),
            pod_ips: Some(vec![PodIP { ip: format!("10.244.{}.{}", n / 250, n % 250 + 1) }]),
            conditions: Some(vec![PodCondition {
                type_: "Ready".into(),
                status: if ready { "True" } else { "False" }.into(),
                ..PodCondition::default()
            }]),
            ..PodStatus::default()
        }),
    }
}

fn zone_a(_: &str) -> NodeLookup<'_> {
    NodeLookup::Found(Some("zone-a"))
}

#[test]
fn endpoints_from_ready_and_not_ready_pods_with_named_port() {
    let p1 = pod(1, true);
    let p2 = pod(2, false);
    let mut p3 = pod(3, true);
    if let Some(s) = p3.status.as_mut() {
        s.phase = Some("Succeeded".into());
    }
    let svc = service();
    let t = Timestamp::from_second(1_700_000_000).unwrap_or(Timestamp::UNIX_EPOCH);
    let ep = desired_endpoints(&svc, &[&p1, &p2, &p3], Some(t)).unwrap_or_default();
    let labels = ep.metadata.labels.clone().unwrap_or_default();
    assert_eq!(labels.get("endpoints.kubernetes.io/managed-by").map(String::as_str), Some("endpoint-controller"));
    assert_eq!(labels.get("app").map(String::as_str), Some("web"));
    assert!(!labels.contains_key("service.kubernetes.io/headless"));
    assert_eq!(
        ep.metadata
            .annotations
            .unwrap_or_default()
            .get("endpoints.kubernetes.io/last-change-trigger-time")
            .map(String::as_str),
        Some("2023-11-14T22:13:20Z")
    );
    let subsets = ep.subsets.unwrap_or_default();
    assert_eq!(subsets.len(), 1);
    let s = &subsets[0];
    let ready = s.addresses.clone().unwrap_or_default();
    let not_ready = s.not_ready_addresses.clone().unwrap_or_default();
    assert_eq!(ready.len(), 1);
    assert_eq!(ready[0].ip, "10.244.0.2");
    assert_eq!(ready[0].node_name.as_deref(), Some("node-1"));
    let r = ready[0].target_ref.clone().unwrap_or_default();
    assert_eq!((r.kind.as_deref(), r.name.as_deref(), r.uid.as_deref()), (Some("Pod"), Some("web-1"), Some("uid-1")));
    assert_eq!(not_ready.len(), 1);
    assert_eq!(not_ready[0].ip, "10.244.0.3");
    let ports = s.ports.clone().unwrap_or_default();
    assert_eq!(ports.len(), 1);
    assert_eq!(
        (ports[0].name.as_deref(), ports[0].port, ports[0].protocol.as_deref()),
        (Some("http"), 8080, Some("TCP"))
    );
}

#[test]
fn endpoints_sync_is_noop_when_unchanged_and_skips_selectorless() {
    let svc = service();
    let p1 = pod(1, true);
    let EndpointsAction::Create(created) = sync_endpoints(&svc, &[&p1], None, None) else {
        panic!("expected a create");
    };
    assert_eq!(sync_endpoints(&svc, &[&p1], Some(&created), None), EndpointsAction::None);
    let p2 = pod(2, true);
    assert!(matches!(sync_endpoints(&svc, &[&p1, &p2], Some(&created), None), EndpointsAction::Update(_)));
    let mut manual = service();
    if let Some(s) = manual.spec.as_mut() {
        s.selector = None;
    }
    assert_eq!(sync_endpoints(&manual, &[&p1], None, None), EndpointsAction::None);
}

#[test]
fn headless_and_hostname() {
    let mut svc = service();
    if let Some(s) = svc.spec.as_mut() {
        s.cluster_ip = Some("None".into());
    }
    let mut p = pod(1, true);
    if let Some(s) = p.spec.as_mut() {
        s.hostname = Some("h1".into());
        s.subdomain = Some("web".into());
    }
    let ep = desired_endpoints(&svc, &[&p], None).unwrap_or_default();
    assert_eq!(
        ep.metadata.labels.unwrap_or_default().get("service.kubernetes.io/headless").map(String::as_str),
        Some("")
    );
    let addr = &ep.subsets.unwrap_or_default()[0].addresses.clone().unwrap_or_default()[0];
    assert_eq!(addr.hostname.as_deref(), Some("h1"));
    let changes = reconcile_endpoint_slices(&svc, &[&p], &[], &zone_a, None);
    let slice = &changes.create[0];
    assert_eq!(
        slice.metadata.labels.clone().unwrap_or_default().get("service.kubernetes.io/headless").map(String::as_str),
        Some("")
    );
    assert_eq!(slice.endpoints.clone().unwrap_or_default()[0].hostname.as_deref(), Some("h1"));
}

/// Apply changes to a list of slices, naming created ones.
fn apply(slices: &mut Vec<EndpointSlice>, changes: &SliceChanges, next: &mut usize) {
    for d in &changes.delete {
        slices.retain(|s| s.metadata.name != d.metadata.name);
    }
    for u in &changes.update {
        if let Some(s) = slices.iter_mut().find(|s| s.metadata.name == u.metadata.name) {
            *s = u.clone();
        }
    }
    for c in &changes.create {
        let mut c = c.clone();
        *next += 1;
        c.metadata.name = Some(format!("web-{next}"));
        slices.push(c);
    }
}

fn sync(svc: &Service, pods: &[Pod], slices: &mut Vec<EndpointSlice>, next: &mut usize) -> SliceChanges {
    let pod_refs: Vec<&Pod> = pods.iter().collect();
    let existing: Vec<EndpointSlice> = slices.clone();
    let refs: Vec<&EndpointSlice> = existing.iter().collect();
    let changes = reconcile_endpoint_slices(svc, &pod_refs, &refs, &zone_a, None);
    apply(slices, &changes, next);
    changes
}

#[test]
fn slice_contents_and_reconcile_noop_then_update() {
    let svc = service();
    let mut pods = vec![pod(1, true), pod(2, false)];
    let mut slices = Vec::new();
    let mut next = 0;
    let first = sync(&svc, &pods, &mut slices, &mut next);
    assert_eq!((first.create.len(), first.update.len(), first.delete.len()), (1, 0, 0));
    let s = &first.create[0];
    assert_eq!(s.metadata.generate_name.as_deref(), Some("web-"));
    assert_eq!(s.address_type, "IPv4");
    let labels = s.metadata.labels.clone().unwrap_or_default();
    assert_eq!(labels.get("kubernetes.io/service-name").map(String::as_str), Some("web"));
    assert_eq!(
        labels.get("endpointslice.kubernetes.io/managed-by").map(String::as_str),
        Some("endpointslice-controller.k8s.io")
    );
    assert_eq!(labels.get("app").map(String::as_str), Some("web"));
    let owner = &s.metadata.owner_references.clone().unwrap_or_default()[0];
    assert_eq!((owner.kind.as_str(), owner.uid.as_str(), owner.controller), ("Service", "svc-uid", Some(true)));
    let ports = s.ports.clone().unwrap_or_default();
    assert_eq!(
        (ports[0].name.as_deref(), ports[0].port, ports[0].protocol.as_deref()),
        (Some("http"), Some(8080), Some("TCP"))
    );
    let eps = s.endpoints.clone().unwrap_or_default();
    assert_eq!(eps.len(), 2);
    let c0 = eps[0].conditions.clone().unwrap_or_default();
    assert_eq!((c0.ready, c0.serving, c0.terminating), (Some(true), Some(true), Some(false)));
    let c1 = eps[1].conditions.clone().unwrap_or_default();
    assert_eq!((c1.ready, c1.serving, c1.terminating), (Some(false), Some(false), Some(false)));
    assert_eq!(eps[0].zone.as_deref(), Some("zone-a"));
    assert_eq!(eps[0].node_name.as_deref(), Some("node-1"));

    // Unchanged: nothing to write.
    assert!(sync(&svc, &pods, &mut slices, &mut next).is_empty());

    // A pod becomes ready: one update of the same slice.
    pods[1] = pod(2, true);
    let upd = sync(&svc, &pods, &mut slices, &mut next);
    assert_eq!((upd.create.len(), upd.update.len(), upd.delete.len()), (0, 1, 0));
    assert_eq!(upd.update[0].metadata.name.as_deref(), Some("web-1"));
    assert!(
        upd.update[0].endpoints.iter().flatten().all(|e| e.conditions.as_ref().and_then(|c| c.ready) == Some(true))
    );

    // A terminating pod stays, serving but not ready.
    pods[0].metadata.deletion_timestamp = Some(Time(Timestamp::UNIX_EPOCH));
    let term = sync(&svc, &pods, &mut slices, &mut next);
    let ep =
        term.update[0].endpoints.iter().flatten().find(|e| e.addresses == ["10.244.0.2"]).cloned().unwrap_or_default();
    let c = ep.conditions.unwrap_or_default();
    assert_eq!((c.ready, c.serving, c.terminating), (Some(false), Some(true), Some(true)));
}

#[test]
fn slices_split_past_100_and_shrink_to_placeholder() {
    let svc = service();
    let pods: Vec<Pod> = (0..250).map(|n| pod(n, true)).collect();
    let mut slices = Vec::new();
    let mut next = 0;
    let first = sync(&svc, &pods, &mut slices, &mut next);
    let mut sizes: Vec<usize> = first.create.iter().map(|s| s.endpoints.as_ref().map_or(0, Vec::len)).collect();
    sizes.sort();
    assert_eq!(sizes, vec![50, 100, 100]);
    assert!(sync(&svc, &pods, &mut slices, &mut next).is_empty());
    // One more pod fits in the partly full slice.
    let mut more = pods.clone();
    more.push(pod(250, true));
    let grow = sync(&svc, &more, &mut slices, &mut next);
    assert_eq!((grow.create.len(), grow.update.len()), (0, 1));
    // No pods: one empty placeholder slice remains, reused from an existing one.
    let empty = sync(&svc, &[], &mut slices, &mut next);
    assert_eq!(slices.len(), 1, "{empty:?}");
    assert!(slices[0].endpoints.as_ref().is_none_or(Vec::is_empty));
    assert!(slices[0].ports.as_ref().is_none_or(Vec::is_empty));
    assert!(sync(&svc, &[], &mut slices, &mut next).is_empty(), "placeholder is stable");
}

#[test]
fn missing_node_skips_pod_and_requeues() {
    let svc = service();
    let p = pod(1, true);
    let changes = reconcile_endpoint_slices(&svc, &[&p], &[], &|_| NodeLookup::Missing, None);
    assert!(changes.requeue);
    assert_eq!(changes.create.len(), 1);
    assert!(changes.create[0].endpoints.as_ref().is_none_or(Vec::is_empty));
}

#[test]
fn numeric_and_unresolvable_target_ports() {
    let mut svc = service();
    let p = pod(1, true);
    if let Some(s) = svc.spec.as_mut() {
        s.ports =
            Some(vec![ServicePort { port: 80, target_port: Some(IntOrString::Int(9090)), ..ServicePort::default() }]);
    }
    assert_eq!(find_port(&p, &svc.spec.clone().unwrap_or_default().ports.unwrap_or_default()[0]), Some(9090));
    let missing =
        ServicePort { port: 80, target_port: Some(IntOrString::String("nope".into())), ..ServicePort::default() };
    assert_eq!(find_port(&p, &missing), None);
}
