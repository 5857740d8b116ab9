//! The API server driven as users drive it: the real `kubeplex server`
//! binary on a free loopback port, real kubectl 1.32, 1.36 and 1.37.

use kubeplex_testing::{Kubectl, KubeplexServer};

fn server() -> KubeplexServer {
    KubeplexServer::start(env!("CARGO_BIN_EXE_kubeplex")).expect("start kubeplex server")
}

fn configmap(name: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  labels: {{app: {name}}}\ndata:\n  a: \"{value}\"\n"
    )
}

#[test]
fn discovery_and_version_for_every_kubectl() {
    let server = server();
    for k in Kubectl::all(&server.kubeconfig()).unwrap() {
        let version = k.ok(&["version", "-o", "json"]).unwrap();
        assert!(version.contains("\"gitVersion\": \"v1.36.0\""), "kubectl {}: {version}", k.version);
        let resources = k.ok(&["api-resources"]).unwrap();
        for row in ["deployments", "deploy", "apps/v1", "logicalclusters", "kubeplex.io/v1alpha1", "endpointslices"] {
            assert!(resources.contains(row), "kubectl {} api-resources lacks {row}:\n{resources}", k.version);
        }
        let all = k.ok(&["api-resources", "--categories=all", "-o", "name"]).unwrap();
        let mut names: Vec<&str> = all.lines().collect();
        names.sort();
        assert_eq!(
            names,
            [
                "cronjobs.batch",
                "daemonsets.apps",
                "deployments.apps",
                "horizontalpodautoscalers.autoscaling",
                "jobs.batch",
                "pods",
                "replicasets.apps",
                "replicationcontrollers",
                "services",
                "statefulsets.apps"
            ],
            "kubectl {}",
            k.version
        );
        let raw = k.ok(&["get", "--raw", "/api"]).unwrap();
        assert!(raw.contains("\"APIVersions\""), "{raw}");
        let raw = k.ok(&["get", "--raw", "/apis/apps/v1"]).unwrap();
        assert!(raw.contains("\"deployments/scale\""), "{raw}");
    }
}

#[test]
fn configmap_lifecycle_with_upstream_errors() {
    let server = server();
    for k in Kubectl::all(&server.kubeconfig()).unwrap() {
        let name = format!("web-{}", k.version.replace('.', "-"));
        let manifest = configmap(&name, "1");
        let created = k.ok_with_input(&["create", "-f", "-", "--validate=false"], Some(&manifest)).unwrap();
        assert_eq!(created.trim(), format!("configmap/{name} created"));
        let err = k.fails_with_input(&["create", "-f", "-", "--validate=false"], Some(&manifest)).unwrap();
        assert!(
            err.contains(&format!(
                "Error from server (AlreadyExists): error when creating \"STDIN\": configmaps \"{name}\" already exists"
            )),
            "{err}"
        );
        assert_eq!(k.ok(&["get", "cm", &name, "-o", "jsonpath={.data.a}"]).unwrap(), "1");
        assert_eq!(
            k.ok(&["get", "cm", "-l", &format!("app={name}"), "-o", "name"]).unwrap().trim(),
            format!("configmap/{name}")
        );
        let json = k.ok(&["get", "cm", &name, "-o", "json"]).unwrap();
        let object: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(object["metadata"]["namespace"], "default");
        assert!(object["metadata"]["uid"].as_str().is_some_and(|u| u.len() == 36));
        assert!(object["metadata"]["resourceVersion"].as_str().is_some_and(|rv| rv.parse::<u64>().is_ok()));
        let err = k.fails(&["get", "cm", "nope"]).unwrap();
        assert!(err.contains("Error from server (NotFound): configmaps \"nope\" not found"), "{err}");
        let err =
            k.fails_with_input(&["create", "-f", "-", "--validate=false", "-n", "missing"], Some(&manifest)).unwrap();
        assert!(err.contains("namespaces \"missing\" not found"), "{err}");
        // kubectl 1.36 and later add " from default namespace".
        let deleted = k.ok(&["delete", "cm", &name]).unwrap();
        assert!(deleted.starts_with(&format!("configmap \"{name}\" deleted")), "{deleted}");
        let err = k.fails(&["get", "cm", &name]).unwrap();
        assert!(err.contains("NotFound"), "{err}");
    }
}

#[test]
fn oversized_bodies_get_413() {
    let server = server();
    let k = Kubectl::v1_32(server.kubeconfig()).unwrap();
    let big = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  a: \"{}\"\n",
        "x".repeat(4 * 1024 * 1024)
    );
    let err = k.fails_with_input(&["create", "-f", "-", "--validate=false"], Some(&big)).unwrap();
    assert!(err.contains("Request entity too large: limit is 3145728"), "{err}");
}

#[test]
fn logical_clusters_are_isolated() {
    let server = server();
    let root = Kubectl::v1_32(server.kubeconfig()).unwrap();
    for name in ["team-a", "team-b"] {
        let lc = format!("apiVersion: kubeplex.io/v1alpha1\nkind: LogicalCluster\nmetadata:\n  name: {name}\n");
        root.ok_with_input(&["create", "-f", "-", "--validate=false"], Some(&lc)).unwrap();
    }
    let a = root.with_kubeconfig(server.kubeconfig_for_cluster("team-a").unwrap()).unwrap();
    let b = Kubectl::v1_37(server.kubeconfig_for_cluster("team-b").unwrap()).unwrap();
    for k in [&a, &b] {
        let namespaces = k.ok(&["get", "ns", "-o", "name"]).unwrap();
        assert_eq!(
            namespaces.lines().collect::<Vec<_>>(),
            ["namespace/default", "namespace/kube-node-lease", "namespace/kube-public", "namespace/kube-system"]
        );
        k.ok_with_input(&["create", "-f", "-", "--validate=false"], Some(&configmap("shared-name", k.version)))
            .unwrap();
    }
    assert_eq!(a.ok(&["get", "cm", "shared-name", "-o", "jsonpath={.data.a}"]).unwrap(), "1.32");
    assert_eq!(b.ok(&["get", "cm", "shared-name", "-o", "jsonpath={.data.a}"]).unwrap(), "1.37");
    let err = root.fails(&["get", "cm", "shared-name"]).unwrap();
    assert!(err.contains("configmaps \"shared-name\" not found"), "{err}");
    let nowhere = root.with_kubeconfig(server.kubeconfig_for_cluster("nowhere").unwrap()).unwrap();
    let err = nowhere.fails(&["get", "ns"]).unwrap();
    assert!(err.contains("the server could not find the requested resource"), "{err}");
}

#[test]
fn objects_and_resource_versions_survive_a_restart() {
    let mut server = server();
    let k = Kubectl::v1_32(server.kubeconfig()).unwrap();
    k.ok_with_input(&["create", "-f", "-", "--validate=false"], Some(&configmap("durable", "1"))).unwrap();
    let rv = k.ok(&["get", "cm", "durable", "-o", "jsonpath={.metadata.resourceVersion}"]).unwrap();
    server.restart().unwrap();
    assert_eq!(k.ok(&["get", "cm", "durable", "-o", "jsonpath={.metadata.resourceVersion}"]).unwrap(), rv);
    k.ok_with_input(&["create", "-f", "-", "--validate=false"], Some(&configmap("after", "2"))).unwrap();
    let after: u64 =
        k.ok(&["get", "cm", "after", "-o", "jsonpath={.metadata.resourceVersion}"]).unwrap().parse().unwrap();
    assert!(after > rv.parse().unwrap());
}

#[test]
fn kubectl_1_37_wait_uses_watch_list() {
    let server = server();
    let k = Kubectl::v1_37(server.kubeconfig()).unwrap();
    k.ok_with_input(&["create", "-f", "-", "--validate=false"], Some(&configmap("ready", "yes"))).unwrap();
    let out = k.ok(&["wait", "--for=jsonpath={.data.a}=yes", "cm/ready", "--timeout=20s"]).unwrap();
    assert_eq!(out.trim(), "configmap/ready condition met");
}

#[test]
fn get_watch_sees_changes() {
    let server = server();
    let k = Kubectl::v1_32(server.kubeconfig()).unwrap();
    let watcher = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(server.kubeconfig())
        .args(["get", "cm", "-w", "-o", "name", "--request-timeout=20s"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut child = scopeguard(watcher);
    std::thread::sleep(std::time::Duration::from_millis(800));
    k.ok_with_input(&["create", "-f", "-", "--validate=false"], Some(&configmap("watched", "1"))).unwrap();
    k.ok(&["delete", "cm", "watched"]).unwrap();
    use std::io::{BufRead, BufReader};
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    // The name printer prints one line per event (ADDED, then DELETED).
    assert_eq!(lines.next().unwrap().unwrap(), "configmap/watched");
    assert_eq!(lines.next().unwrap().unwrap(), "configmap/watched");
}

/// Kills the child (by PID) when dropped.
struct Guard(std::process::Child);
fn scopeguard(child: std::process::Child) -> Guard {
    Guard(child)
}
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn selectors_and_paging() {
    let server = server();
    let k = Kubectl::v1_32(server.kubeconfig()).unwrap();
    for (name, tier) in [("a", "web"), ("b", "web"), ("c", "db"), ("d", "cache"), ("e", "web")] {
        let manifest =
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  labels: {{tier: {tier}}}\n");
        k.ok_with_input(&["create", "-f", "-", "--validate=false"], Some(&manifest)).unwrap();
    }
    let names = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["get", "cm", "-o", "name"];
        all.extend_from_slice(args);
        k.ok(&all).unwrap().lines().map(str::to_owned).collect()
    };
    assert_eq!(names(&["-l", "tier=web"]), ["configmap/a", "configmap/b", "configmap/e"]);
    assert_eq!(names(&["-l", "tier in (db,cache)"]), ["configmap/c", "configmap/d"]);
    assert_eq!(names(&["-l", "tier!=web,tier"]), ["configmap/c", "configmap/d"]);
    assert_eq!(names(&["--field-selector", "metadata.name=d"]), ["configmap/d"]);
    assert_eq!(
        names(&["--field-selector", "metadata.name!=d", "-l", "tier=web"]),
        ["configmap/a", "configmap/b", "configmap/e"]
    );
    // Pages of two, with a selector filtering some out, from one snapshot.
    assert_eq!(names(&["--chunk-size=2", "-l", "tier=web"]), ["configmap/a", "configmap/b", "configmap/e"]);
    assert_eq!(names(&["--chunk-size=2"]).len(), 5);
    let err = k.fails(&["get", "cm", "-l", "tier in web"]).unwrap();
    assert!(err.contains("Error from server (BadRequest)"), "{err}");
    let err = k.fails(&["get", "cm", "--field-selector", "data.x=1"]).unwrap();
    assert!(err.contains("field label not supported: data.x"), "{err}");
    let raw = k.ok(&["get", "--raw", "/api/v1/namespaces/default/configmaps?limit=2"]).unwrap();
    let page: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["metadata"]["remainingItemCount"], 3);
    let token = page["metadata"]["continue"].as_str().unwrap();
    // A write between pages does not show on later pages of the same list.
    k.ok_with_input(
        &["create", "-f", "-", "--validate=false"],
        Some("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: z\n"),
    )
    .unwrap();
    let raw =
        k.ok(&["get", "--raw", &format!("/api/v1/namespaces/default/configmaps?limit=10&continue={token}")]).unwrap();
    let rest: serde_json::Value = serde_json::from_str(&raw).unwrap();
    let names: Vec<_> =
        rest["items"].as_array().unwrap().iter().map(|i| i["metadata"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["c", "d", "e"]);
}

const DEPLOYMENT: &str = r#"{"apiVersion": "apps/v1", "kind": "Deployment",
 "metadata": {"name": "web", "labels": {"app": "web"}},
 "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
  "template": {"metadata": {"labels": {"app": "web"}},
   "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}, {"name": "sidecar", "image": "envoy:1"}]}}}}"#;

#[test]
fn patches_as_kubectl_sends_them() {
    let server = server();
    for k in Kubectl::all(&server.kubeconfig()).unwrap() {
        let ns = format!("p{}", k.version.replace('.', ""));
        k.ok_with_input(
            &["create", "-f", "-", "--validate=false"],
            Some(&format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n")),
        )
        .unwrap();
        let n = ["-n", ns.as_str()];
        let run = |args: &[&str]| k.ok(&[args, &n[..]].concat()).unwrap();
        k.ok_with_input(&["create", "-f", "-", "--validate=false", "-n", &ns], Some(DEPLOYMENT)).unwrap();
        let get = |path: &str| run(&["get", "deploy", "web", "-o", &format!("jsonpath={path}")]);
        run(&["label", "deploy", "web", "tier=front"]);
        assert_eq!(get("{.metadata.labels.tier}"), "front");
        run(&["label", "deploy", "web", "tier-"]);
        assert_eq!(get("{.metadata.labels.tier}"), "");
        run(&["annotate", "deploy", "web", "note=hello"]);
        assert_eq!(get("{.metadata.annotations.note}"), "hello");

        // A spec change bumps the generation (for Deployments so do
        // annotation changes, as upstream).
        let generation: i64 = get("{.metadata.generation}").parse().unwrap();
        run(&["set", "image", "deploy/web", "web=nginx:1.27"]);
        assert_eq!(get("{.spec.template.spec.containers[*].image}"), "nginx:1.27 envoy:1");
        assert_eq!(get("{.metadata.generation}"), (generation + 1).to_string());

        run(&["scale", "deploy", "web", "--replicas=3"]);
        assert_eq!(get("{.spec.replicas}"), "3");

        run(&["patch", "deploy", "web", "--type=merge", "-p", r#"{"metadata":{"labels":{"merged":"yes"}}}"#]);
        assert_eq!(get("{.metadata.labels.merged}"), "yes");
        run(&[
            "patch",
            "deploy",
            "web",
            "--type=json",
            "-p",
            r#"[{"op":"replace","path":"/spec/replicas","value":2}]"#,
        ]);
        assert_eq!(get("{.spec.replicas}"), "2");
        run(&[
            "patch",
            "deploy",
            "web",
            "--type=strategic",
            "-p",
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"envoy:2"}]}}}}"#,
        ]);
        assert_eq!(get("{.spec.template.spec.containers[*].image}"), "nginx:1.27 envoy:2");
        let err = k
            .fails(&[
                "patch",
                "deploy",
                "web",
                "-n",
                &ns,
                "--type=json",
                "-p",
                r#"[{"op":"test","path":"/spec/replicas","value":9}]"#,
            ])
            .unwrap();
        assert!(err.contains("the server rejected our request due to an error in our request"), "{err}");

        run(&["rollout", "restart", "deploy/web"]);
        assert!(!get("{.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}").is_empty());

        // `edit` with an editor that changes the replicas.
        let editor = server.data_dir().join(format!("editor-{ns}.sh"));
        std::fs::write(&editor, "#!/bin/sh\nsed -i 's/replicas: 2/replicas: 5/' \"$1\"\n").unwrap();
        std::process::Command::new("chmod").arg("+x").arg(&editor).status().unwrap();
        let out = std::process::Command::new(if k.version == "1.32" {
            "kubectl".into()
        } else {
            std::env::var(format!("KUBECTL_{}", k.version.replace('.', "_"))).unwrap()
        })
        .arg("--kubeconfig")
        .arg(server.kubeconfig())
        .args(["edit", "deploy", "web", "-n", &ns, "--validate=false"])
        .env("EDITOR", &editor)
        .output()
        .unwrap();
        assert!(out.status.success(), "kubectl {} edit: {}", k.version, String::from_utf8_lossy(&out.stderr));
        assert_eq!(get("{.spec.replicas}"), "5");
    }
}

#[test]
fn get_prints_upstream_table_columns() {
    let server = server();
    for k in Kubectl::all(&server.kubeconfig()).unwrap() {
        let ns = format!("t{}", k.version.replace('.', ""));
        k.ok_with_input(
            &["create", "-f", "-", "--validate=false"],
            Some(&format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n")),
        )
        .unwrap();
        k.ok_with_input(&["create", "-f", "-", "--validate=false", "-n", &ns], Some(DEPLOYMENT)).unwrap();
        let out = k.ok(&["get", "deploy", "-n", &ns]).unwrap();
        let header: Vec<&str> = out.lines().next().unwrap().split_whitespace().collect();
        assert_eq!(header, ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"], "kubectl {}:\n{out}", k.version);
        assert!(out.lines().nth(1).unwrap().starts_with("web "), "{out}");
        let wide = k.ok(&["get", "deploy", "-n", &ns, "-o", "wide"]).unwrap();
        assert!(wide.lines().next().unwrap().contains("CONTAINERS"), "{wide}");
        assert!(wide.contains("nginx:1.25,envoy:1"), "{wide}");
        assert!(wide.contains("app=web"), "{wide}");
        let namespaces = k.ok(&["get", "ns", ns.as_str()]).unwrap();
        assert!(namespaces.lines().next().unwrap().contains("STATUS"), "{namespaces}");
        assert!(namespaces.contains("Active"), "{namespaces}");
        let all = k.ok(&["get", "deploy", "-A", "--show-labels"]).unwrap();
        assert!(all.lines().next().unwrap().starts_with("NAMESPACE"), "{all}");
        assert!(all.contains("app=web"), "{all}");
        k.ok_with_input(&["create", "-f", "-", "--validate=false", "-n", &ns], Some(&configmap("labelled", "1")))
            .unwrap();
        let cms = k.ok(&["get", "cm", "labelled", "-n", &ns, "-L", "app"]).unwrap();
        let header: Vec<&str> = cms.lines().next().unwrap().split_whitespace().collect();
        assert_eq!(header, ["NAME", "DATA", "AGE", "APP"], "{cms}");
        let row: Vec<&str> = cms.lines().nth(1).unwrap().split_whitespace().collect();
        assert_eq!((row[0], row[1], row[3]), ("labelled", "1", "labelled"), "{cms}");
    }
}

#[test]
fn deleting_a_logical_cluster_removes_everything_it_holds() {
    let server = server();
    let root = Kubectl::v1_32(server.kubeconfig()).unwrap();
    let lc = "apiVersion: kubeplex.io/v1alpha1\nkind: LogicalCluster\nmetadata:\n  name: doomed\n";
    root.ok_with_input(&["create", "-f", "-", "--validate=false"], Some(lc)).unwrap();
    assert_eq!(
        root.ok(&["get", "logicalcluster", "doomed", "-o", "jsonpath={.metadata.finalizers}"]).unwrap(),
        r#"["kubeplex.io/logical-cluster"]"#
    );
    let inner = root.with_kubeconfig(server.kubeconfig_for_cluster("doomed").unwrap()).unwrap();
    for i in 0..30 {
        inner
            .ok_with_input(&["create", "-f", "-", "--validate=false"], Some(&configmap(&format!("cm{i}"), "x")))
            .unwrap();
    }
    inner.ok_with_input(&["create", "-f", "-", "--validate=false"], Some(DEPLOYMENT)).unwrap();
    // kubectl delete waits until the finalizer is lifted and the object gone.
    let out = root.ok(&["delete", "logicalcluster", "doomed", "--timeout=60s"]).unwrap();
    assert!(out.contains("deleted"), "{out}");
    let err = inner.fails(&["get", "ns"]).unwrap();
    assert!(err.contains("logicalclusters.kubeplex.io \"doomed\" not found"), "{err}");
    // A new cluster of the same name starts empty.
    root.ok_with_input(&["create", "-f", "-", "--validate=false"], Some(lc)).unwrap();
    let fresh = root.with_kubeconfig(server.kubeconfig_for_cluster("doomed").unwrap()).unwrap();
    assert_eq!(fresh.ok(&["get", "cm", "-A", "-o", "name"]).unwrap(), "");
    assert_eq!(fresh.ok(&["get", "deploy", "-A", "-o", "name"]).unwrap(), "");
    assert_eq!(fresh.ok(&["get", "ns", "-o", "name"]).unwrap().lines().count(), 4);
}

#[test]
fn events_are_one_storage_served_in_both_versions() {
    let server = server();
    let k = Kubectl::v1_37(server.kubeconfig()).unwrap();
    let core = r#"{"apiVersion": "v1", "kind": "Event", "metadata": {"name": "core-made"},
        "involvedObject": {"kind": "Pod", "name": "p1", "namespace": "default"},
        "reason": "Started", "message": "from core", "type": "Normal", "count": 3}"#;
    let new = r#"{"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "new-made"},
        "regarding": {"kind": "Pod", "name": "p2", "namespace": "default"},
        "reason": "Pulled", "note": "from events.k8s.io", "type": "Normal", "action": "Pull",
        "reportingController": "kubelet", "reportingInstance": "node-1", "eventTime": "2026-11-22T03:00:00.000000Z"}"#;
    k.ok_with_input(&["create", "-f", "-", "--validate=false"], Some(core)).unwrap();
    k.ok_with_input(&["create", "-f", "-", "--validate=false"], Some(new)).unwrap();
    let as_new = k.ok(&["get", "events.v1.events.k8s.io", "core-made", "-o", "json"]).unwrap();
    let as_new: serde_json::Value = serde_json::from_str(&as_new).unwrap();
    assert_eq!(as_new["apiVersion"], "events.k8s.io/v1");
    assert_eq!(as_new["note"], "from core");
    assert_eq!(as_new["regarding"]["name"], "p1");
    assert_eq!(as_new["deprecatedCount"], 3);
    let as_core = k.ok(&["get", "events.v1.", "new-made", "-o", "json"]).unwrap();
    let as_core: serde_json::Value = serde_json::from_str(&as_core).unwrap();
    assert_eq!(as_core["apiVersion"], "v1");
    assert_eq!(as_core["message"], "from events.k8s.io");
    assert_eq!(as_core["involvedObject"]["name"], "p2");
    assert_eq!(as_core["reportingComponent"], "kubelet");
    let names = k.ok(&["get", "events.v1.events.k8s.io", "-o", "jsonpath={.items[*].note}"]).unwrap();
    assert_eq!(names, "from core from events.k8s.io");
}

#[test]
fn dry_run_generate_name_finalizers_and_deletecollection() {
    let server = server();
    let k = Kubectl::v1_32(server.kubeconfig()).unwrap();
    // dryRun=All validates and answers but writes nothing.
    let out = k
        .ok_with_input(&["create", "-f", "-", "--validate=false", "--dry-run=server"], Some(&configmap("dry", "1")))
        .unwrap();
    assert!(out.contains("configmap/dry created (server dry run)"), "{out}");
    assert!(k.fails(&["get", "cm", "dry"]).unwrap().contains("not found"));
    // generateName: the prefix plus five random characters.
    let generated = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: gen-\n";
    let out = k.ok_with_input(&["create", "-f", "-", "--validate=false", "-o", "name"], Some(generated)).unwrap();
    let name = out.trim().strip_prefix("configmap/").unwrap().to_owned();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");
    // A finalizer holds the deletion until it is removed.
    let held = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  finalizers: [example.com/hold]\n";
    k.ok_with_input(&["create", "-f", "-", "--validate=false"], Some(held)).unwrap();
    k.ok(&["delete", "cm", "held", "--wait=false"]).unwrap();
    assert!(!k.ok(&["get", "cm", "held", "-o", "jsonpath={.metadata.deletionTimestamp}"]).unwrap().is_empty());
    let err = k
        .fails(&[
            "patch",
            "cm",
            "held",
            "--type=json",
            "-p",
            r#"[{"op":"add","path":"/metadata/finalizers/-","value":"example.com/more"}]"#,
        ])
        .unwrap();
    assert!(err.contains("no new finalizers can be added if the object is being deleted"), "{err}");
    k.ok(&["patch", "cm", "held", "--type=merge", "-p", r#"{"metadata":{"finalizers":null}}"#]).unwrap();
    assert!(k.fails(&["get", "cm", "held"]).unwrap().contains("not found"));
    // Preconditions in DeleteOptions, and deletecollection.
    k.ok_with_input(&["create", "-f", "-", "--validate=false"], Some(&configmap("one", "1"))).unwrap();
    let uid = k.ok(&["get", "cm", "one", "-o", "jsonpath={.metadata.uid}"]).unwrap();
    assert_ne!(uid, "");
    let raw = k.ok(&["delete", "--raw", "/api/v1/namespaces/default/configmaps"]).unwrap();
    let deleted: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(deleted["kind"], "ConfigMapList");
    assert_eq!(deleted["items"].as_array().unwrap().len(), 2);
    assert_eq!(k.ok(&["get", "cm", "-o", "name"]).unwrap(), "");
    let err = k.fails(&["delete", "--raw", "/api/v1/namespaces/default"]).unwrap();
    assert!(err.contains("may not be deleted"), "{err}");
}

#[test]
fn create_generators_send_protobuf() {
    let server = server();
    for k in Kubectl::all(&server.kubeconfig()).unwrap() {
        let ns = format!("gen{}", k.version.replace('.', ""));
        assert_eq!(k.ok(&["create", "namespace", &ns]).unwrap().trim(), format!("namespace/{ns} created"));
        let n = ["-n", ns.as_str()];
        let run = |args: &[&str]| k.ok(&[&n[..], args].concat()).unwrap();
        assert_eq!(
            run(&["create", "configmap", "cfg", "--from-literal=a=1", "--from-literal=b=two"]).trim(),
            "configmap/cfg created"
        );
        run(&["create", "secret", "generic", "sec", "--from-literal=k=v"]);
        run(&["create", "deployment", "zero", "--image=nginx", "--replicas=0"]);
        run(&["create", "deployment", "web", "--image=nginx:1.27", "--replicas=3", "--port=80"]);
        run(&["create", "service", "clusterip", "svc", "--tcp=80:8080"]);
        run(&["create", "job", "once", "--image=busybox", "--", "echo", "hi"]);
        run(&["create", "serviceaccount", "robot"]);
        let get = |kind: &str, name: &str, path: &str| run(&["get", kind, name, "-o", &format!("jsonpath={path}")]);
        assert_eq!(get("cm", "cfg", "{.data.a},{.data.b}"), "1,two");
        assert_eq!(get("secret", "sec", "{.data.k}"), "dg==");
        // A pointer zero (replicas: 0) survives the protobuf decoding.
        assert_eq!(get("deploy", "zero", "{.spec.replicas}"), "0");
        assert_eq!(
            get(
                "deploy",
                "web",
                "{.spec.replicas} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].ports[0].containerPort}"
            ),
            "3 nginx:1.27 80"
        );
        assert_eq!(get("svc", "svc", "{.spec.ports[0].port}:{.spec.ports[0].targetPort}"), "80:8080");
        assert_eq!(get("job", "once", "{.spec.template.spec.containers[0].command}"), r#"["echo","hi"]"#);
        assert_eq!(get("sa", "robot", "{.metadata.name}"), "robot");
        let err = k.fails(&["create", "configmap", "cfg", "-n", &ns]).unwrap();
        assert!(err.contains("configmaps \"cfg\" already exists"), "{err}");
    }
}

#[test]
fn upstream_defaults_and_validation_errors() {
    let server = server();
    let k = Kubectl::v1_32(server.kubeconfig()).unwrap();
    k.ok(&["create", "deployment", "web", "--image=nginx"]).unwrap();
    let get = |path: &str| k.ok(&["get", "deploy", "web", "-o", &format!("jsonpath={path}")]).unwrap();
    assert_eq!(
        get(
            "{.spec.strategy.type} {.spec.strategy.rollingUpdate.maxSurge} {.spec.revisionHistoryLimit} {.spec.progressDeadlineSeconds}"
        ),
        "RollingUpdate 25% 10 600"
    );
    assert_eq!(
        get(
            "{.spec.template.spec.restartPolicy} {.spec.template.spec.dnsPolicy} {.spec.template.spec.containers[0].imagePullPolicy}"
        ),
        "Always ClusterFirst Always"
    );
    let no_selector = r#"{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "bad"},
        "spec": {"template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}}"#;
    let err = k.fails_with_input(&["create", "-f", "-", "--validate=false"], Some(no_selector)).unwrap();
    // kubectl renders an Invalid error from its causes, as against Kubernetes.
    assert!(err.contains("The Deployment \"bad\" is invalid"), "{err}");
    assert!(err.contains("* spec.selector: Required value"), "{err}");
    let err = k.fails(&["scale", "deploy", "web", "--replicas=-1"]).unwrap();
    assert!(err.contains("must be greater than or equal to 0"), "{err}");
    let err = k.fails(&["patch", "deploy", "web", "--type=merge", "-p", r#"{"spec":{"selector":{"matchLabels":{"app":"other"}},"template":{"metadata":{"labels":{"app":"other"}}}}}"#]).unwrap();
    assert!(err.contains("field is immutable"), "{err}");
    let err = k.fails(&["create", "namespace", "Not_A_Label"]).unwrap();
    assert!(err.contains("a lowercase RFC 1123 label must consist of lower case alphanumeric characters"), "{err}");
    let bad_key = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  bad key: \"1\"\n";
    let err = k.fails_with_input(&["create", "-f", "-", "--validate=false"], Some(bad_key)).unwrap();
    assert!(err.contains("The ConfigMap \"x\" is invalid"), "{err}");
    assert!(err.contains("a valid config key must consist of alphanumeric characters"), "{err}");
}

#[test]
fn binding_cache_lists_and_describe() {
    let server = server();
    let k = Kubectl::v1_32(server.kubeconfig()).unwrap();
    k.ok(&["run", "p", "--image=nginx"]).unwrap();
    let binding = r#"{"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"}, "target": {"kind": "Node", "name": "node-1"}}"#;
    let out = k
        .ok_with_input(&["create", "--raw", "/api/v1/namespaces/default/pods/p/binding", "-f", "-"], Some(binding))
        .unwrap();
    assert!(out.contains("\"status\":\"Success\""), "{out}");
    assert_eq!(k.ok(&["get", "pod", "p", "-o", "jsonpath={.spec.nodeName}"]).unwrap(), "node-1");
    let err = k
        .fails_with_input(&["create", "--raw", "/api/v1/namespaces/default/pods/p/binding", "-f", "-"], Some(binding))
        .unwrap();
    assert!(err.contains("pod p is already assigned to node \"node-1\""), "{err}");

    // resourceVersion=0 lists come from the watch cache, later pages from the store.
    for i in 0..5 {
        k.ok(&["create", "configmap", &format!("c{i}")]).unwrap();
    }
    let raw = k.ok(&["get", "--raw", "/api/v1/namespaces/default/configmaps?resourceVersion=0&limit=2"]).unwrap();
    let page: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let token = page["metadata"]["continue"].as_str().unwrap();
    let raw =
        k.ok(&["get", "--raw", &format!("/api/v1/namespaces/default/configmaps?limit=10&continue={token}")]).unwrap();
    let rest: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(rest["items"].as_array().unwrap().len(), 3);

    let described = k.ok(&["describe", "pod", "p"]).unwrap();
    assert!(described.contains("Node:") && described.contains("node-1"), "{described}");
    let described = k.ok(&["describe", "configmap", "c0"]).unwrap();
    assert!(described.contains("Name:         c0"), "{described}");
}
