//! Prints the CPU cost of the field manager's steps for a typical Deployment
//! (3 containers with env, ports, mounts and resources, 2 volumes): a
//! profiling aid for the `apply` benchmark's server-side apply step.
//! `cargo run --release -p kubeplex-managedfields --example apply_cost`

use std::time::Instant;

use kubeplex_managedfields::{FieldManager, Schema, Writer};
use serde_json::{Value, json};

fn deployment(revision: usize) -> Value {
    let labels = json!({"app.kubernetes.io/name": "web-1", "app.kubernetes.io/part-of": "bench", "tier": "frontend"});
    let env = |role: &str, extra: (&str, String)| {
        json!([
            {"name": "APP_NAME", "value": "web-1"},
            {"name": "ROLE", "value": role},
            {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": extra.0, "value": extra.1},
        ])
    };
    let resources = |cpu: &str, memory: &str| {
        let amounts = json!({"cpu": cpu, "memory": memory});
        json!({"requests": amounts, "limits": amounts})
    };
    let container = |name: &str, image: String, extra: (&str, String), port: i64| {
        json!({"name": name, "image": image, "env": env(name, extra),
            "ports": [{"name": "p", "containerPort": port, "protocol": "TCP"}],
            "volumeMounts": [{"name": "config", "mountPath": format!("/etc/{name}"), "readOnly": true}],
            "resources": resources("100m", "128Mi")})
    };
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web-1", "namespace": "bench", "labels": labels},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app.kubernetes.io/name": "web-1"}},
            "template": {"metadata": {"labels": labels}, "spec": {
                "containers": [
                    container("app", format!("web:1.{revision}.0"), ("CONFIG_REVISION", format!("r{revision}")), 8080),
                    container("metrics", "exporter:0.21.0".into(), ("SCRAPE_INTERVAL", "15s".into()), 9100),
                    container("logs", "shipper:0.9.1".into(), ("SINK_URL", "http://logs:9880".into()), 2020),
                ],
                "volumes": [{"name": "config", "configMap": {"name": "web-config"}}, {"name": "scratch", "emptyDir": {}}]}}}})
}

fn main() {
    let schema = Schema::builtin("io.k8s.api.apps.v1.Deployment").expect("Deployment schema");
    let manager = FieldManager::new(schema, &["status"]);
    let writer = Writer { manager: "bench", api_version: "apps/v1", subresource: "", now: "2026-11-22T10:00:00Z" };
    let mut live = manager.apply(None, &deployment(0), &writer, false).expect("create");
    let rounds: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let start = Instant::now();
    for r in 1..=rounds {
        live = manager.apply(Some(&live), &deployment(r), &writer, false).expect("apply");
    }
    let change = start.elapsed().as_secs_f64() * 1e6 / rounds as f64;
    let config = deployment(rounds);
    let start = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(manager.apply(Some(&live), &config, &writer, false).expect("apply"));
    }
    let same = start.elapsed().as_secs_f64() * 1e6 / rounds as f64;
    let start = Instant::now();
    for r in 0..rounds {
        let mut new = live.clone();
        new["spec"]["replicas"] = json!(r % 7);
        manager.update(Some(&live), &mut new, &Writer { manager: "kubectl-scale", ..writer });
        std::hint::black_box(new);
    }
    let update = start.elapsed().as_secs_f64() * 1e6 / rounds as f64;
    let bytes = serde_json::to_vec(&live).map(|v| v.len()).unwrap_or(0);
    println!("typical Deployment, {bytes} bytes with managedFields");
    println!(
        "apply with a change: {change:.1} µs; apply unchanged: {same:.1} µs; update (clone + record): {update:.1} µs"
    );
}
