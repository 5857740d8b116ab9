//! A working cluster end to end (k8s-api.md §10), with real kubectl against
//! `kubeplex server --nodes FILE` (controllers, scheduler, simulated nodes):
//! the walk-through (namespace, deployment, pods Running, expose and its
//! EndpointSlices, scale, rollout status, set image, rollout undo,
//! nodeSelector, `wait --for=condition=Available`, delete namespace), GPU
//! scheduling with the upstream FailedScheduling text, a Job completing (one with
//! `ttlSecondsAfterFinished` deleted once done),
//! foreground and orphan deletion, and the walk-through in a second logical
//! cluster with its own nodes; and `kubeplex up` with its default nodes.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kubeplex_testing::{Kubectl, KubeplexServer};

/// Two nodes in `root` (one with 8 GPUs and a pool label), one in `team-b`.
const NODES: &str = "\
clusters:
  root:
    nodes:
      - name: cpu-1
        cpu: 8
        memory: 32Gi
      - name: gpu-1
        cpu: 32
        memory: 256Gi
        gpus: 8
        gpuModel: NVIDIA-A100-SXM4-80GB
        labels:
          kubeplex.io/pool: gpu-a100
  team-b:
    nodes:
      - name: b-1
        cpu: 8
        memory: 32Gi
";

fn server() -> KubeplexServer {
    let dir = tempfile::tempdir().expect("temp dir").keep();
    let nodes = dir.join("nodes.yaml");
    std::fs::write(&nodes, NODES).expect("write the nodes file");
    let path = nodes.to_string_lossy().into_owned();
    KubeplexServer::start_cluster(env!("CARGO_BIN_EXE_kubeplex"), &["--nodes", &path]).expect("start kubeplex server")
}

/// Runs `args` until its output satisfies `done` (or panics after 60 s).
#[track_caller]
fn eventually(k: &Kubectl, args: &[&str], done: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let out = k.run(args, None).expect("run kubectl");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() && done(&text) {
            return text;
        }
        if start.elapsed() > Duration::from_secs(60) {
            panic!(
                "kubectl {args:?} never satisfied the condition; last output:\n{text}{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn words(text: &str) -> Vec<String> {
    let mut w: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
    w.sort();
    w
}

/// The walk-through of §10 in namespace `demo` of the cluster `k` talks to.
fn walk_through(k: &Kubectl) {
    k.ok(&["create", "namespace", "demo"]).unwrap();
    k.ok(&["create", "deployment", "web", "--image=nginx", "--replicas=2", "-n", "demo"]).unwrap();
    k.ok(&["wait", "--for=condition=Available", "deployment/web", "-n", "demo", "--timeout=60s"]).unwrap();
    let phases = eventually(k, &["get", "pods", "-n", "demo", "-o", "jsonpath={.items[*].status.phase}"], |t| {
        words(t) == ["Running", "Running"]
    });
    assert_eq!(words(&phases).len(), 2);
    let table = k.ok(&["get", "pods", "-n", "demo"]).unwrap();
    assert!(table.lines().skip(1).all(|l| l.contains("1/1") && l.contains("Running")), "{table}");

    k.ok(&["expose", "deployment", "web", "--port=80", "-n", "demo"]).unwrap();
    let ips = k.ok(&["get", "pods", "-n", "demo", "-o", "jsonpath={.items[*].status.podIP}"]).unwrap();
    let want = words(&ips);
    assert_eq!(want.len(), 2, "two pod IPs: {ips}");
    let slices = ["get", "endpointslices", "-n", "demo", "-l", "kubernetes.io/service-name=web", "-o"];
    let path = [&slices[..], &["jsonpath={.items[*].endpoints[*].addresses[*]}"]].concat();
    eventually(k, &path, |t| words(t) == want);
    let cluster_ip = k.ok(&["get", "service", "web", "-n", "demo", "-o", "jsonpath={.spec.clusterIP}"]).unwrap();
    let octets: Vec<u8> = cluster_ip.split('.').filter_map(|o| o.parse().ok()).collect();
    assert!(octets.len() == 4 && octets[0] == 10 && (96..112).contains(&octets[1]), "10.96.0.0/12: {cluster_ip}");

    k.ok(&["scale", "deployment", "web", "--replicas=6", "-n", "demo"]).unwrap();
    let status = k.ok(&["rollout", "status", "deployment/web", "-n", "demo", "--timeout=60s"]).unwrap();
    assert!(status.contains("successfully rolled out"), "{status}");
    k.ok(&["set", "image", "deployment/web", "nginx=nginx:1.27", "-n", "demo"]).unwrap();
    let status = k.ok(&["rollout", "status", "deployment/web", "-n", "demo", "--timeout=60s"]).unwrap();
    assert!(status.contains("successfully rolled out"), "{status}");
    k.ok(&["rollout", "undo", "deployment/web", "-n", "demo"]).unwrap();
    k.ok(&["rollout", "status", "deployment/web", "-n", "demo", "--timeout=60s"]).unwrap();
    let image = "jsonpath={.spec.template.spec.containers[0].image}";
    assert_eq!(k.ok(&["get", "deployment", "web", "-n", "demo", "-o", image]).unwrap(), "nginx");
    let images =
        eventually(k, &["get", "pods", "-n", "demo", "-o", "jsonpath={.items[*].spec.containers[0].image}"], |t| {
            words(t).len() == 6 && words(t).iter().all(|i| i == "nginx")
        });
    assert_eq!(words(&images).len(), 6);
    let revisions = k
        .ok(&[
            "get",
            "replicasets",
            "-n",
            "demo",
            "-o",
            "jsonpath={.items[*].metadata.annotations.deployment\\.kubernetes\\.io/revision}",
        ])
        .unwrap();
    assert_eq!(words(&revisions), ["2", "3"], "undo makes the first template revision 3");

    k.ok(&["delete", "namespace", "demo", "--timeout=60s"]).unwrap();
    let left = k.run(&["get", "namespace", "demo"], None).unwrap();
    assert!(!left.status.success(), "namespace demo is gone");
    assert_eq!(k.ok(&["get", "pods", "-n", "demo", "-o", "name"]).unwrap(), "");
}

#[test]
fn walk_through_gpus_jobs_and_deletion() {
    let server = server();
    let k = Kubectl::v1_37(server.kubeconfig()).unwrap();
    let nodes = eventually(&k, &["get", "nodes", "-o", "name"], |t| t.lines().count() == 2);
    assert_eq!(words(&nodes), ["node/cpu-1", "node/gpu-1"]);
    walk_through(&k);

    // GPUs: too many stays Pending with upstream's message; one fits on the GPU node.
    k.ok(&["create", "namespace", "gpu"]).unwrap();
    let gpu_pod = |name: &str, gpus: u32| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: gpu\nspec:\n  containers:\n  - name: c\n    image: cuda\n    resources:\n      limits:\n        nvidia.com/gpu: {gpus}\n"
        )
    };
    k.ok_with_input(&["apply", "-f", "-"], Some(&gpu_pod("too-big", 9))).unwrap();
    k.ok_with_input(&["apply", "-f", "-"], Some(&gpu_pod("fits", 1))).unwrap();
    let events = eventually(
        &k,
        &[
            "get",
            "events",
            "-n",
            "gpu",
            "--field-selector",
            "reason=FailedScheduling",
            "-o",
            "jsonpath={.items[*].message}",
        ],
        |t| !t.is_empty(),
    );
    assert!(
        events.starts_with(
            "0/2 nodes are available: 2 Insufficient nvidia.com/gpu. \
             preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."
        ),
        "{events}"
    );
    assert_eq!(k.ok(&["get", "pod", "too-big", "-n", "gpu", "-o", "jsonpath={.status.phase}"]).unwrap(), "Pending");
    eventually(&k, &["get", "pod", "fits", "-n", "gpu", "-o", "jsonpath={.status.phase} {.spec.nodeName}"], |t| {
        t == "Running gpu-1"
    });

    // nodeSelector: only the labelled node.
    k.ok(&["create", "deployment", "pinned", "--image=nginx", "--replicas=3", "-n", "gpu"]).unwrap();
    k.ok(&[
        "patch",
        "deployment",
        "pinned",
        "-n",
        "gpu",
        "-p",
        r#"{"spec":{"template":{"spec":{"nodeSelector":{"kubeplex.io/pool":"gpu-a100"}}}}}"#,
    ])
    .unwrap();
    k.ok(&["rollout", "status", "deployment/pinned", "-n", "gpu", "--timeout=60s"]).unwrap();
    let placed = eventually(
        &k,
        &["get", "pods", "-n", "gpu", "-l", "app=pinned", "-o", "jsonpath={.items[*].spec.nodeName}"],
        |t| words(t).len() == 3,
    );
    assert!(words(&placed).iter().all(|n| n == "gpu-1"), "{placed}");

    // A Job completes.
    k.ok(&["create", "job", "once", "--image=busybox", "-n", "gpu"]).unwrap();
    k.ok(&["wait", "--for=condition=complete", "job/once", "-n", "gpu", "--timeout=60s"]).unwrap();
    // One with ttlSecondsAfterFinished is deleted once finished, its pod too.
    let ttl_job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: brief, namespace: gpu}\nspec:\n  \
                   ttlSecondsAfterFinished: 0\n  template:\n    spec:\n      restartPolicy: Never\n      \
                   containers: [{name: c, image: busybox}]\n";
    k.ok_with_input(&["create", "-f", "-"], Some(ttl_job)).unwrap();
    k.ok(&["wait", "--for=delete", "job/brief", "-n", "gpu", "--timeout=60s"]).unwrap();
    k.ok(&["wait", "--for=delete", "pod", "-l", "job-name=brief", "-n", "gpu", "--timeout=60s"]).unwrap();
    assert_eq!(k.ok(&["get", "job", "once", "-n", "gpu", "-o", "name"]).unwrap().trim(), "job.batch/once");

    // Foreground deletion waits for the dependents; orphan keeps them.
    k.ok(&["create", "deployment", "fg", "--image=nginx", "-n", "gpu"]).unwrap();
    k.ok(&["create", "deployment", "orphaned", "--image=nginx", "-n", "gpu"]).unwrap();
    k.ok(&["rollout", "status", "deployment/fg", "-n", "gpu", "--timeout=60s"]).unwrap();
    k.ok(&["rollout", "status", "deployment/orphaned", "-n", "gpu", "--timeout=60s"]).unwrap();
    k.ok(&["delete", "deployment", "fg", "-n", "gpu", "--cascade=foreground", "--timeout=60s"]).unwrap();
    assert_eq!(k.ok(&["get", "replicasets", "-n", "gpu", "-l", "app=fg", "-o", "name"]).unwrap(), "");
    k.ok(&["delete", "deployment", "orphaned", "-n", "gpu", "--cascade=orphan"]).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let kept = k
        .ok(&[
            "get",
            "replicasets",
            "-n",
            "gpu",
            "-l",
            "app=orphaned",
            "-o",
            "jsonpath={.items[*].metadata.ownerReferences}",
        ])
        .unwrap();
    assert_eq!(kept, "", "the orphaned ReplicaSet stays, without its owner reference");
    assert_eq!(
        k.ok(&["get", "replicasets", "-n", "gpu", "-l", "app=orphaned", "-o", "name"]).unwrap().lines().count(),
        1
    );
}

#[test]
fn walk_through_in_a_second_logical_cluster_with_kubectl_1_32() {
    let server = server();
    let kubeconfig = server.kubeconfig_for_cluster("team-b").expect("kubeconfig of team-b");
    let k = Kubectl::v1_32(kubeconfig).unwrap();
    let nodes = eventually(&k, &["get", "nodes", "-o", "name"], |t| !t.is_empty());
    assert_eq!(words(&nodes), ["node/b-1"], "team-b sees only its own node");
    walk_through(&k);
}

#[test]
fn up_starts_three_simulated_nodes_and_resumes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
    let listen = format!("127.0.0.1:{port}");
    let data = dir.path().join("data");
    let run_up = || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kubeplex"))
            .args(["up", "--data-dir", &data.to_string_lossy(), "--listen", &listen])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start kubeplex up");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let mut said = String::new();
        for line in lines.by_ref() {
            let line = line.expect("read stderr");
            said.push_str(&line);
            said.push('\n');
            if line.contains("Stop it with Ctrl-C") {
                break;
            }
        }
        // Keep reading, so the server never writes to a closed pipe.
        std::thread::spawn(move || lines.for_each(drop));
        (child, said)
    };
    let (mut child, said) = run_up();
    assert!(said.contains("kubeplex is up on https://127.0.0.1:"), "{said}");
    assert!(said.contains("with 3 simulated nodes"), "{said}");
    assert!(said.contains(&format!("export KUBECONFIG={}", data.join("admin.kubeconfig").display())), "{said}");
    let k = Kubectl::v1_37(data.join("admin.kubeconfig")).unwrap();
    let nodes =
        eventually(&k, &["get", "nodes", "-o", "jsonpath={.items[*].status.allocatable.nvidia\\.com/gpu}"], |t| {
            !t.is_empty()
        });
    assert_eq!(words(&nodes), ["8", "8"], "two GPU nodes of 8");
    assert_eq!(k.ok(&["get", "nodes", "-o", "name"]).unwrap().lines().count(), 3);
    k.ok(&["create", "configmap", "kept", "--from-literal=a=b"]).unwrap();
    // Stop (SIGTERM) and start again: the same state.
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
    let (mut child, _) = run_up();
    assert_eq!(k.ok(&["get", "configmap", "kept", "-o", "jsonpath={.data.a}"]).unwrap(), "b");
    assert_eq!(k.ok(&["get", "nodes", "-o", "name"]).unwrap().lines().count(), 3);
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
}
