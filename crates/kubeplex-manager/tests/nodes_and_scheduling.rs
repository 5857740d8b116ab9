//! The scheduler and the node simulator against an in-process API server on
//! a temporary SQLite store: simulated nodes register, a pod is bound and
//! runs with a pod IP, a pod asking for too many GPUs stays Pending with
//! upstream's FailedScheduling message, and logs/exec answer as simulated.

mod common;

use std::sync::Arc;
use std::time::Duration;

use http::Method;
use k8s_openapi::api::core::v1::Pod;
use kubeplex_manager::client::collection;
use kubeplex_manager::{Context, Error, ObjectKey, nodes, scheduler};
use serde_json::{Value, json};

/// Polls `check` until it returns something, for at most 20 s.
async fn eventually<T>(what: &str, check: impl FnMut() -> Option<T>) -> T {
    common::eventually_within(what, Duration::from_secs(20), check).await
}

async fn start() -> (Arc<Context>, std::path::PathBuf) {
    let (api, dir) = common::api_server("nodes", None).await;
    let ctx = Context::new(api);
    let config = kubeplex_nodesim::default_config();
    scheduler::register(&ctx);
    nodes::register(&ctx, config.clone());
    ctx.start_informers().await.unwrap();
    nodes::ensure_nodes(&ctx, &config).await.unwrap();
    (ctx, dir)
}

fn pod(name: &str, resources: Value) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"automountServiceAccountToken": false,
                 "containers": [{"name": "app", "image": "nginx:1.27", "resources": resources}]},
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_are_scheduled_and_run_on_simulated_nodes() {
    let (ctx, dir) = start().await;
    let pods = collection("root", "v1", Some("default"), "pods");

    // Nodes and their Leases exist.
    eventually("3 nodes", || (ctx.nodes.keys_in_cluster("root").len() == 3).then_some(())).await;
    let leases = collection("root", "coordination.k8s.io/v1", Some("kube-node-lease"), "leases");
    let lease: Value = ctx.client.get(&format!("{leases}/kubeplex-node-1")).await.unwrap();
    assert_eq!(lease["spec"]["holderIdentity"], "kubeplex-node-1");

    // A pod is bound and runs with a pod IP from its node's podCIDR.
    ctx.client.create(&pods, &pod("web", json!({}))).await.unwrap();
    let key = ObjectKey::new("root", "default", "web");
    let running = eventually("web Running", || {
        let p = ctx.pods.get(&key)?;
        let status = p.status.as_ref()?;
        (status.phase.as_deref() == Some("Running") && status.pod_ip.is_some()).then_some(p)
    })
    .await;
    let node_name = running.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap();
    let node = ctx.nodes.get(&ObjectKey::new("root", "", &node_name)).unwrap();
    let cidr = node.spec.as_ref().and_then(|s| s.pod_cidr.clone()).unwrap();
    let ip = running.status.as_ref().and_then(|s| s.pod_ip.clone()).unwrap();
    let allocator = kubeplex_nodesim::PodIpAllocator::from_cidr_text(&cidr).unwrap();
    assert!(allocator.cidr().contains(ip.parse().unwrap()), "{ip} in {cidr}");

    // Logs are simulated; exec is refused with a 400.
    let logs = ctx.client.send(Method::GET, &format!("{pods}/web/log"), "application/json", Vec::new()).await.unwrap();
    let logs = String::from_utf8(logs).unwrap();
    assert!(logs.starts_with("kubeplex: container \"app\" of pod \"default/web\" runs on simulated node"), "{logs}");
    let tail = ctx
        .client
        .send(Method::GET, &format!("{pods}/web/log?tailLines=1"), "application/json", Vec::new())
        .await
        .unwrap();
    assert_eq!(String::from_utf8(tail).unwrap().lines().count(), 1);
    let exec = ctx
        .client
        .send(Method::POST, &format!("{pods}/web/exec?command=sh&stdin=true"), "application/json", Vec::new())
        .await;
    match exec {
        Err(Error::Api { code: 400, message }) => {
            assert!(message.starts_with("cannot exec pod \"default/web\""), "{message}")
        }
        other => panic!("exec answered {other:?}"),
    }
    let missing = ctx.client.send(Method::GET, &format!("{pods}/nope/log"), "application/json", Vec::new()).await;
    assert!(matches!(missing, Err(Error::Api { code: 404, .. })), "{missing:?}");

    // A pod asking for 9 GPUs stays Pending, with upstream's message.
    let gpus = json!({"requests": {"nvidia.com/gpu": "9"}, "limits": {"nvidia.com/gpu": "9"}});
    ctx.client.create(&pods, &pod("greedy", gpus)).await.unwrap();
    let greedy = ObjectKey::new("root", "default", "greedy");
    let message = eventually("greedy Unschedulable", || {
        let p = ctx.pods.get(&greedy)?;
        let c = p.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == "PodScheduled")?.clone();
        (c.status == "False" && c.reason.as_deref() == Some("Unschedulable")).then_some(c.message.unwrap_or_default())
    })
    .await;
    assert!(message.starts_with("0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: "), "{message}");
    let events: Value = ctx.client.get(&collection("root", "v1", Some("default"), "events")).await.unwrap();
    let failed = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["reason"] == "FailedScheduling" && e["involvedObject"]["name"] == "greedy")
        .cloned()
        .expect("a FailedScheduling event");
    assert_eq!(failed["type"], "Warning");
    assert_eq!(failed["message"].as_str(), Some(message.as_str()));
    assert_eq!(failed["source"]["component"], "default-scheduler");
    assert!(ctx.pods.get(&greedy).unwrap().spec.as_ref().unwrap().node_name.is_none());

    // Deleting the running pod: containers stop, then the pod goes away.
    ctx.client.delete(&format!("{pods}/web"), &json!({})).await.unwrap();
    eventually("web deleted", || ctx.pods.get(&key).is_none().then_some(())).await;

    let _ = std::fs::remove_dir_all(dir);
}

/// Throughput check, not run by default (`cargo test -- --ignored --nocapture`):
/// 1,000 nodes, 3,000 pods created at once, time until all are Running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn many_pods_start_quickly() {
    let (api, dir) = common::api_server("nodes-bench", None).await;
    let ctx = Context::new(api);
    let config = kubeplex_nodesim::parse_nodes_file(
        "clusters:\n  root:\n    podCIDR: 10.128.0.0/9\n    nodes:\n      - namePrefix: n-\n        count: 1000\n",
    )
    .unwrap();
    scheduler::register(&ctx);
    nodes::register(&ctx, config.clone());
    ctx.start_informers().await.unwrap();
    let started = std::time::Instant::now();
    nodes::ensure_nodes(&ctx, &config).await.unwrap();
    eprintln!("1000 nodes in {:?}", started.elapsed());
    let pods = collection("root", "v1", Some("default"), "pods");
    let started = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..3000 {
        let (ctx, pods) = (Arc::clone(&ctx), pods.clone());
        tasks.spawn(async move { ctx.client.create(&pods, &pod(&format!("p{i}"), json!({}))).await.map(drop) });
        if tasks.len() >= 32 {
            tasks.join_next().await.unwrap().unwrap().unwrap();
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap().unwrap();
    }
    eprintln!("3000 pods created in {:?}", started.elapsed());
    for _ in 0..1200 {
        let running = (0..3000)
            .filter(|i| {
                ctx.pods
                    .get(&ObjectKey::new("root", "default", &format!("p{i}")))
                    .and_then(|p| p.status.as_ref()?.phase.clone())
                    .as_deref()
                    == Some("Running")
            })
            .count();
        if running == 3000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("3000 pods Running in {:?}", started.elapsed());
    let _ = std::fs::remove_dir_all(dir);
}
