//! The API server on a real etcd (`--store etcd://…`): the same objects,
//! watches, logical clusters and restarts as on SQLite.

use kubeplex_testing::{EtcdServer, Kubectl, KubeplexServer};

#[test]
fn the_api_works_on_etcd() {
    let etcd = EtcdServer::start().expect("start etcd (install Debian's etcd-server)");
    let spec = format!("etcd://{}", etcd.endpoint().trim_start_matches("http://"));
    let mut server = KubeplexServer::start_with(env!("CARGO_BIN_EXE_kubeplex"), &["--store", &spec]).unwrap();
    let k = Kubectl::v1_37(server.kubeconfig()).unwrap();
    assert_eq!(k.ok(&["get", "ns", "-o", "name"]).unwrap().lines().count(), 4);
    k.ok(&["create", "deployment", "web", "--image=nginx", "--replicas=2"]).unwrap();
    k.ok(&["scale", "deploy", "web", "--replicas=5"]).unwrap();
    k.ok(&["label", "deploy", "web", "tier=front"]).unwrap();
    assert_eq!(k.ok(&["get", "deploy", "-l", "tier=front", "-o", "jsonpath={.items[0].spec.replicas}"]).unwrap(), "5");
    let out = k.ok(&["wait", "--for=jsonpath={.spec.replicas}=5", "deploy/web", "--timeout=20s"]).unwrap();
    assert!(out.contains("condition met"), "{out}");
    k.ok_with_input(
        &["create", "-f", "-", "--validate=false"],
        Some("apiVersion: kubeplex.io/v1alpha1\nkind: LogicalCluster\nmetadata:\n  name: on-etcd\n"),
    )
    .unwrap();
    let inner = k.with_kubeconfig(server.kubeconfig_for_cluster("on-etcd").unwrap()).unwrap();
    inner.ok(&["create", "configmap", "inside", "--from-literal=a=1"]).unwrap();
    assert!(k.fails(&["get", "cm", "inside"]).unwrap().contains("not found"));
    let rv = k.ok(&["get", "deploy", "web", "-o", "jsonpath={.metadata.resourceVersion}"]).unwrap();
    server.restart().unwrap();
    assert_eq!(k.ok(&["get", "deploy", "web", "-o", "jsonpath={.metadata.resourceVersion}"]).unwrap(), rv);
    assert_eq!(inner.ok(&["get", "cm", "inside", "-o", "jsonpath={.data.a}"]).unwrap(), "1");
    k.ok(&["delete", "logicalcluster", "on-etcd", "--timeout=60s"]).unwrap();
    assert!(inner.fails(&["get", "cm"]).unwrap().contains("not found"));
}
