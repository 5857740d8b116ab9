//! Services against an in-process API server on a temporary SQLite store:
//! cluster IPs and node ports are allocated on create (a taken IP is
//! refused with upstream's 422) and released on delete; the `kubernetes`
//! Service exists at 10.96.0.1; a Service selecting a Ready pod gets
//! Endpoints and an EndpointSlice listing the pod's IP, which go away with
//! the Service; a Service turned NodePort gets a node port; a new
//! namespace gets the `default` ServiceAccount (again when deleted) and the
//! `kube-root-ca.crt` ConfigMap.

mod common;

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Endpoints, Namespace, Node, Pod, Service, ServiceAccount};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kubeplex_manager::client::collection;
use kubeplex_manager::{Context, Error, ObjectKey, endpoints, serviceaccounts};
use serde_json::json;

const CA: &str = "-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n";

/// Polls `check` until it returns something, for at most 30 s.
async fn eventually<T>(what: &str, check: impl FnMut() -> Option<T>) -> T {
    common::eventually_within(what, Duration::from_secs(30), check).await
}

async fn start() -> (Arc<Context>, std::path::PathBuf) {
    let (api, dir) = common::api_server("services", Some(CA)).await;
    let ctx = Context::new(api);
    endpoints::register(&ctx);
    serviceaccounts::register(&ctx);
    ctx.start_informers().await.unwrap();
    (ctx, dir)
}

fn service(name: &str, spec: serde_json::Value) -> Service {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default"}, "spec": spec
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_get_ips_and_endpoints() {
    let (ctx, dir) = start().await;
    let services = collection("root", "v1", Some("default"), "services");

    let kubernetes: Service = ctx.client.get(&format!("{services}/kubernetes")).await.unwrap();
    let spec = kubernetes.spec.unwrap();
    assert_eq!(spec.cluster_ip.as_deref(), Some("10.96.0.1"));
    let port = &spec.ports.unwrap()[0];
    assert_eq!((port.name.as_deref(), port.port), (Some("https"), 443));
    let kube_eps: Endpoints =
        ctx.client.get(&collection("root", "v1", Some("default"), "endpoints/kubernetes")).await.unwrap();
    assert_eq!(kube_eps.subsets.unwrap()[0].addresses.as_ref().unwrap()[0].ip, "127.0.0.1");

    // Allocation: a random IP in 10.96.0.0/12, a taken one refused, node ports in range.
    let web = ctx
        .client
        .create(
            &services,
            &service("web", json!({"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]})),
        )
        .await
        .unwrap();
    let web_ip = web.spec.as_ref().unwrap().cluster_ip.clone().unwrap();
    assert!(web_ip.starts_with("10.9") || web_ip.starts_with("10.10") || web_ip.starts_with("10.11"), "{web_ip}");
    let taken = ctx
        .client
        .create(&services, &service("taken", json!({"clusterIP": "10.96.0.1", "ports": [{"port": 80}]})))
        .await
        .unwrap_err();
    assert_eq!(
        taken,
        Error::Api {
            code: 422,
            message: "Service \"taken\" is invalid: spec.clusterIPs: Invalid value: []string{\"10.96.0.1\"}: failed to allocate IP 10.96.0.1: provided IP is already allocated".into()
        }
    );
    let np = ctx
        .client
        .create(
            &services,
            &service("np", json!({"type": "NodePort", "ports": [{"name": "a", "port": 80, "nodePort": 30080}, {"name": "b", "port": 81}]})),
        )
        .await
        .unwrap();
    let ports = np.spec.unwrap().ports.unwrap();
    assert_eq!(ports[0].node_port, Some(30080));
    assert!(ports[1].node_port.is_some_and(|p| (30000..=32767).contains(&p)));
    let clash = ctx
        .client
        .create(&services, &service("clash", json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]})))
        .await
        .unwrap_err();
    assert_eq!(
        clash,
        Error::Api {
            code: 422,
            message: "Service \"clash\" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated".into()
        }
    );
    ctx.client.delete(&format!("{services}/np"), &json!({})).await.unwrap();
    ctx.client
        .create(&services, &service("clash", json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]})))
        .await
        .expect("the node port was released with its Service");

    // A Ready pod on a node shows up in the Endpoints and an EndpointSlice.
    let node: Node = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "n1", "labels": {"topology.kubernetes.io/zone": "zone-a"}}
    }))
    .unwrap();
    ctx.client.create(&collection("root", "v1", None, "nodes"), &node).await.unwrap();
    let pods = collection("root", "v1", Some("default"), "pods");
    let pod: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-1", "namespace": "default", "labels": {"app": "web"}},
        "spec": {"nodeName": "n1", "automountServiceAccountToken": false,
                 "containers": [{"name": "app", "image": "nginx", "ports": [{"containerPort": 8080}]}]}
    }))
    .unwrap();
    let mut pod = ctx.client.create(&pods, &pod).await.unwrap();
    pod.status = Some(
        serde_json::from_value(json!({
            "phase": "Running", "podIP": "10.244.0.7", "podIPs": [{"ip": "10.244.0.7"}],
            "conditions": [{"type": "Ready", "status": "True"}]
        }))
        .unwrap(),
    );
    ctx.client.replace(&format!("{pods}/web-1/status"), &pod).await.unwrap();

    let key = ObjectKey::new("root", "default", "web");
    eventually("Endpoints listing the pod", || {
        let eps = ctx.endpoints.get(&key)?;
        let subset = eps.subsets.as_ref()?.first()?.clone();
        let ready = subset.addresses.unwrap_or_default();
        (ready.len() == 1 && ready[0].ip == "10.244.0.7" && subset.ports.as_ref()?[0].port == 8080).then_some(())
    })
    .await;
    let slice: Arc<EndpointSlice> = eventually("an EndpointSlice listing the pod", || {
        ctx.endpoint_slices.in_namespace("root", "default").into_iter().find(|s| {
            s.metadata.labels.as_ref().and_then(|l| l.get("kubernetes.io/service-name")).map(String::as_str)
                == Some("web")
                && s.endpoints.iter().flatten().any(|e| e.addresses == ["10.244.0.7"])
        })
    })
    .await;
    let endpoint = &slice.endpoints.as_ref().unwrap()[0];
    assert_eq!(endpoint.zone.as_deref(), Some("zone-a"));
    assert_eq!(endpoint.conditions.as_ref().and_then(|c| c.ready), Some(true));

    // The Service goes: so do its Endpoints and slices, and its IP is free again.
    ctx.client.delete(&format!("{services}/web"), &json!({})).await.unwrap();
    eventually("the Endpoints and slices gone", || {
        let slices = ctx.endpoint_slices.in_namespace("root", "default");
        let left = slices.iter().any(|s| {
            s.metadata.labels.as_ref().and_then(|l| l.get("kubernetes.io/service-name")).map(String::as_str)
                == Some("web")
        });
        (ctx.endpoints.get(&key).is_none() && !left).then_some(())
    })
    .await;
    ctx.client
        .create(&services, &service("again", json!({"clusterIP": web_ip, "ports": [{"port": 80}]})))
        .await
        .expect("the IP was released with its Service");
    // Turned NodePort, it gets a node port and keeps its IP.
    let patched: Service =
        ctx.client.merge_patch(&format!("{services}/again"), &json!({"spec": {"type": "NodePort"}})).await.unwrap();
    let spec = patched.spec.unwrap();
    assert_eq!(spec.cluster_ip.as_deref(), Some(web_ip.as_str()));
    assert!(spec.ports.unwrap()[0].node_port.is_some_and(|p| (30000..=32767).contains(&p)));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_get_the_default_service_account_and_the_root_ca() {
    let (ctx, dir) = start().await;
    let ns: Namespace =
        serde_json::from_value(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})).unwrap();
    ctx.client.create(&collection("root", "v1", None, "namespaces"), &ns).await.unwrap();
    let sa_key = ObjectKey::new("root", "team", "default");
    let first = eventually("the default ServiceAccount", || ctx.service_accounts.get(&sa_key)).await;
    let cm_path = format!("{}/kube-root-ca.crt", collection("root", "v1", Some("team"), "configmaps"));
    let mut cm: Option<ConfigMap> = None;
    for _ in 0..600 {
        if let Ok(found) = ctx.client.get::<ConfigMap>(&cm_path).await {
            cm = Some(found);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cm = cm.expect("kube-root-ca.crt");
    assert_eq!(cm.data.unwrap().get("ca.crt").map(String::as_str), Some(CA));
    assert_eq!(
        cm.metadata.annotations.unwrap().get("kubernetes.io/description").map(String::as_str),
        Some(serviceaccounts::ROOT_CA_DESCRIPTION)
    );
    // The initial namespaces have them too.
    eventually("kube-system's default ServiceAccount", || {
        ctx.service_accounts.get(&ObjectKey::new("root", "kube-system", "default"))
    })
    .await;

    // So do the namespaces of a new logical cluster, and it has its own `kubernetes` Service.
    let lc = json!({"apiVersion": "kubeplex.io/v1alpha1", "kind": "LogicalCluster", "metadata": {"name": "t1"}});
    ctx.client.create(&collection("root", "kubeplex.io/v1alpha1", None, "logicalclusters"), &lc).await.unwrap();
    eventually("t1's default ServiceAccount", || ctx.service_accounts.get(&ObjectKey::new("t1", "default", "default")))
        .await;
    let kubernetes: Service =
        ctx.client.get(&format!("{}/kubernetes", collection("t1", "v1", Some("default"), "services"))).await.unwrap();
    assert_eq!(kubernetes.spec.unwrap().cluster_ip.as_deref(), Some("10.96.0.1"));

    // Deleted, the ServiceAccount comes back (a new object).
    let sa_path = format!("{}/default", collection("root", "v1", Some("team"), "serviceaccounts"));
    ctx.client.delete(&sa_path, &json!({})).await.unwrap();
    let second: Arc<ServiceAccount> = eventually("the default ServiceAccount again", || {
        ctx.service_accounts.get(&sa_key).filter(|sa| sa.metadata.uid != first.metadata.uid)
    })
    .await;
    assert_eq!(second.metadata.name.as_deref(), Some("default"));
    let _ = std::fs::remove_dir_all(dir);
}
