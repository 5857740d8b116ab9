//! Operating the server: `/metrics` as kubectl and Prometheus read it, and
//! overload protection that keeps a quiet logical cluster served while
//! another one floods the server.

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::client;
use futures::StreamExt;
use http_body_util::BodyExt;
use kube::Client;
use kubeplex_testing::{Kubectl, KubeplexServer};

fn server_with(args: &[&str]) -> KubeplexServer {
    KubeplexServer::start_with(env!("CARGO_BIN_EXE_kubeplex"), args).expect("start kubeplex server")
}

fn logical_cluster(name: &str) -> String {
    format!("apiVersion: kubeplex.io/v1alpha1\nkind: LogicalCluster\nmetadata:\n  name: {name}\n")
}

/// The sample line of `name` with exactly `labels`, if any.
fn sample<'a>(metrics: &'a str, name: &str, labels: &str) -> Option<&'a str> {
    let prefix = format!("{name}{{{labels}}} ");
    metrics.lines().find_map(|line| line.strip_prefix(&prefix))
}

fn request_total(cluster: &str, code: u16, verb: &str, resource: &str, scope: &str, dry_run: &str) -> String {
    format!(
        "cluster=\"{cluster}\",code=\"{code}\",component=\"apiserver\",dry_run=\"{dry_run}\",group=\"\",\
         resource=\"{resource}\",scope=\"{scope}\",subresource=\"\",verb=\"{verb}\",version=\"v1\""
    )
}

/// Reads `/metrics` with kubectl until `done` holds for it (at most 60 s).
fn metrics_until(k: &Kubectl, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let metrics = k.ok(&["get", "--raw", "/metrics"]).unwrap();
        if done(&metrics) {
            return metrics;
        }
        assert!(Instant::now() < deadline, "{what} never showed in /metrics:\n{metrics}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A kubectl child process, killed by its PID on drop.
struct Background(Child);

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn metrics_count_requests_by_verb_resource_scope_and_cluster() {
    let server = server_with(&[]);
    let root = Kubectl::v1_32(server.kubeconfig()).unwrap();
    root.ok_with_input(&["create", "-f", "-", "--validate=false"], Some(&logical_cluster("tenant-a"))).unwrap();
    let tenant = root.with_kubeconfig(server.kubeconfig_for_cluster("tenant-a").unwrap()).unwrap();
    root.ok(&["create", "configmap", "c1", "--from-literal=a=1"]).unwrap();
    root.ok(&["create", "configmap", "c2", "--from-literal=a=1", "--dry-run=server"]).unwrap();
    tenant.ok(&["get", "configmaps"]).unwrap();
    tenant.ok(&["get", "namespace", "default"]).unwrap();
    // Neither a missing cluster nor an unknown resource makes a series of its own.
    root.fails(&["get", "--raw", "/clusters/nowhere-xyz/api/v1/namespaces/default/configmaps"]).unwrap();
    root.fails(&["get", "--raw", "/apis/example.invalid/v1/widgets"]).unwrap();
    // Metrics are the platform's: a tenant's cluster has none (`--raw` paths
    // are absolute: kubectl does not prefix them with the kubeconfig's path).
    let err = tenant.fails(&["get", "--raw", "/clusters/tenant-a/metrics"]).unwrap();
    assert!(err.contains("NotFound"), "{err}");

    // A watch stays open in the background.
    let cache = tempfile::tempdir().unwrap();
    let mut watch = Command::new("kubectl");
    watch.arg("--kubeconfig").arg(server.kubeconfig()).arg("--cache-dir").arg(cache.path());
    watch.args(["get", "configmaps", "--watch", "-o", "name"]);
    let watch = Background(watch.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap());
    let watching = "cluster=\"root\",component=\"apiserver\",group=\"\",resource=\"configmaps\",scope=\"namespace\",\
                    subresource=\"\",verb=\"WATCH\",version=\"v1\"";
    let metrics = metrics_until(&root, "the open watch", |m| {
        sample(m, "apiserver_longrunning_requests", watching) == Some("1")
            && sample(m, "apiserver_registered_watchers", "resource=\"configmaps\"").is_some_and(|v| v != "0")
    });

    for (labels, what) in [
        (request_total("root", 201, "POST", "configmaps", "resource", ""), "create"),
        (request_total("root", 201, "POST", "configmaps", "resource", "All"), "server-side dry run"),
        (request_total("tenant-a", 200, "LIST", "configmaps", "namespace", ""), "list in the tenant"),
        (request_total("tenant-a", 200, "GET", "namespaces", "resource", ""), "get in the tenant"),
        (request_total("", 404, "LIST", "configmaps", "namespace", ""), "a missing cluster"),
    ] {
        let count = sample(&metrics, "apiserver_request_total", &labels);
        assert!(count.is_some_and(|c| c.parse::<u64>().is_ok_and(|c| c >= 1)), "{what}: {labels}\n{metrics}");
    }
    assert!(!metrics.contains("nowhere-xyz") && !metrics.contains("example.invalid"), "{metrics}");
    for line in [
        "# TYPE apiserver_request_total counter",
        "# TYPE apiserver_request_duration_seconds histogram",
        "# TYPE apiserver_longrunning_requests gauge",
        "# TYPE kubeplex_store_request_duration_seconds histogram",
        "# TYPE apiserver_current_inflight_requests gauge",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line}\n{metrics}");
    }
    let bucket = format!("le=\"+Inf\",{}", request_total("tenant-a", 200, "LIST", "configmaps", "namespace", ""));
    let bucket = bucket.replace("code=\"200\",", "");
    assert!(sample(&metrics, "apiserver_request_duration_seconds_bucket", &bucket).is_some(), "{bucket}\n{metrics}");
    for (name, labels) in [
        ("kubeplex_store_request_duration_seconds_count", "operation=\"create\""),
        ("apiserver_watch_cache_objects", "resource=\"configmaps\""),
        ("apiserver_current_inflight_requests", "request_kind=\"readOnly\""),
        ("apiserver_current_inflight_requests", "request_kind=\"mutating\""),
    ] {
        assert!(sample(&metrics, name, labels).is_some(), "{name}{{{labels}}}\n{metrics}");
    }

    // When the watch ends it is counted, and is no longer open.
    drop(watch);
    let watched = request_total("root", 200, "WATCH", "configmaps", "namespace", "");
    metrics_until(&root, "the ended watch", |m| {
        sample(m, "apiserver_longrunning_requests", watching) == Some("0")
            && sample(m, "apiserver_request_total", &watched).is_some()
    });
}

/// Status, `Retry-After` and body of one request.
async fn send(client: &Client, method: http::Method, path: &str, body: Vec<u8>) -> (u16, Option<String>, Vec<u8>) {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(kube::client::Body::from(body))
        .unwrap();
    let response = client.send(request).await.expect("send");
    let status = response.status().as_u16();
    let retry_after =
        response.headers().get(http::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = response.into_body().collect().await.expect("read the body").to_bytes().to_vec();
    (status, retry_after, body)
}

/// Sends until the answer is not a 429 (setup only).
async fn send_ok(client: &Client, method: http::Method, path: &str, body: serde_json::Value) -> u16 {
    loop {
        let (status, _, _) = send(client, method.clone(), path, body.to_string().into_bytes()).await;
        if status != 429 {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[derive(Debug, Default)]
struct FloodStats {
    ok: AtomicUsize,
    rejected: AtomicUsize,
    other: AtomicUsize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_cluster_is_refused_while_a_quiet_one_is_served() {
    let server = server_with(&["--max-requests-inflight", "4", "--max-mutating-requests-inflight", "4"]);
    let client = client(&server).await;
    for name in ["flood", "quiet"] {
        let lc = serde_json::json!({"apiVersion": "kubeplex.io/v1alpha1", "kind": "LogicalCluster", "metadata": {"name": name}});
        let status = send_ok(&client, http::Method::POST, "/apis/kubeplex.io/v1alpha1/logicalclusters", lc).await;
        assert_eq!(status, 201, "creating {name}");
    }
    // Lists of ~1.5 MB make slow requests in the flooded cluster.
    let filler = "x".repeat(8 * 1024);
    let creates = futures::stream::iter(0..180)
        .map(|i| {
            let (client, filler) = (client.clone(), filler.clone());
            async move {
                let cm = serde_json::json!({"metadata": {"name": format!("cm-{i:03}")}, "data": {"filler": filler}});
                send_ok(&client, http::Method::POST, "/clusters/flood/api/v1/namespaces/default/configmaps", cm).await
            }
        })
        .buffer_unordered(4)
        .collect::<Vec<_>>()
        .await;
    assert!(creates.iter().all(|s| *s == 201), "{creates:?}");
    for i in 0..5 {
        let cm = serde_json::json!({"metadata": {"name": format!("q{i}")}, "data": {"a": "b"}});
        let status = send_ok(&client, http::Method::POST, "/clusters/quiet/api/v1/namespaces/default/configmaps", cm);
        assert_eq!(status.await, 201);
    }

    // The flood: many clients listing at once, until the quiet cluster is done.
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(FloodStats::default());
    let flooders: Vec<_> = (0..24)
        .map(|_| {
            let (client, stop, stats) = (client.clone(), Arc::clone(&stop), Arc::clone(&stats));
            tokio::spawn(async move {
                let mut bad_429 = None;
                // Bounded: the quiet cluster's work ends far sooner.
                for _ in 0..5_000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let path = "/clusters/flood/api/v1/namespaces/default/configmaps";
                    let (status, retry_after, body) = send(&client, http::Method::GET, path, Vec::new()).await;
                    match status {
                        200 => stats.ok.fetch_add(1, Ordering::Relaxed),
                        429 => {
                            let text = String::from_utf8_lossy(&body);
                            if retry_after.as_deref() != Some("1")
                                || text.trim_end() != "Too many requests, please try again later."
                            {
                                bad_429 = Some(format!("Retry-After {retry_after:?}, body {text:?}"));
                            }
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            stats.rejected.fetch_add(1, Ordering::Relaxed)
                        }
                        _ => stats.other.fetch_add(1, Ordering::Relaxed),
                    };
                }
                bad_429
            })
        })
        .collect();
    // The server is saturated once the flood is refused.
    let deadline = Instant::now() + Duration::from_secs(120);
    while stats.rejected.load(Ordering::Relaxed) == 0 {
        assert!(Instant::now() < deadline, "the flood was never refused: {stats:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rejected_before = stats.rejected.load(Ordering::Relaxed);

    // The quiet cluster, meanwhile: two clients, every request answered.
    let quiet: Vec<_> = (0..2)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for i in 0..15 {
                    let path = if i % 2 == 0 {
                        "/clusters/quiet/api/v1/namespaces/default/configmaps"
                    } else {
                        "/clusters/quiet/api/v1/namespaces/default"
                    };
                    statuses.push(send(&client, http::Method::GET, path, Vec::new()).await.0);
                }
                statuses
            })
        })
        .collect();
    let mut quiet_statuses = Vec::new();
    for task in quiet {
        quiet_statuses.extend(task.await.unwrap());
    }
    let rejected_during = stats.rejected.load(Ordering::Relaxed) - rejected_before;
    stop.store(true, Ordering::Relaxed);
    for flooder in flooders {
        assert_eq!(flooder.await.unwrap(), None, "a 429 unlike upstream's");
    }

    eprintln!("flood: {stats:?}, refused while the quiet cluster was served: {rejected_during}");
    assert_eq!(quiet_statuses, vec![200; 30], "the quiet cluster must be served; flood: {stats:?}");
    assert!(rejected_during > 0, "the flood went on while the quiet cluster was served: {stats:?}");
    assert!(stats.ok.load(Ordering::Relaxed) > 0, "the flood is served its share: {stats:?}");
    assert_eq!(stats.other.load(Ordering::Relaxed), 0, "{stats:?}");

    // The refusals are counted, for the flooding cluster only.
    let (status, _, metrics) = send(&client, http::Method::GET, "/metrics", Vec::new()).await;
    let metrics = String::from_utf8(metrics).unwrap();
    assert_eq!(status, 200, "{metrics}");
    let refused = request_total("flood", 429, "LIST", "configmaps", "namespace", "");
    assert!(sample(&metrics, "apiserver_request_total", &refused).is_some(), "{refused}\n{metrics}");
    assert!(!metrics.lines().any(|l| l.contains("cluster=\"quiet\",code=\"429\"")), "{metrics}");
}
