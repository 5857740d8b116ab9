//! The objects the apply benchmark creates: a realistic mix of ConfigMaps,
//! Services and Deployments (two containers each) spread over a few
//! namespaces, as JSON for the API and as one YAML file per object for
//! `kubectl apply -f DIR`.
//!
//! ```text
//!   object i ─► app i/3, namespace (i/3) % namespaces
//!     i % 3 == 0 ─► ConfigMap  app-N-config    (settings of the app)
//!     i % 3 == 1 ─► Service    app-N           (selects the app's pods, ports 80 and 9090)
//!     i % 3 == 2 ─► Deployment app-N           (app + log-shipper sidecar, probes, resources)
//!   write_dir(DIR) ─► DIR/NNNN-kind-name.yaml, one object each
//!   typical_deployment(i, NS, revision) ─► Deployment web-N for server-side
//!     apply: 3 containers (env, ports, mounts, resources), configMap and
//!     emptyDir volumes; `revision` changes one image tag and one env value
//! ```

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use serde_json::{Value, json};

/// Which kind an object is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    ConfigMap,
    Service,
    Deployment,
}

impl Kind {
    /// The lower-case kind as kubectl prints it (`deployment.apps/NAME`).
    pub fn kubectl_name(self) -> &'static str {
        match self {
            Kind::ConfigMap => "configmap",
            Kind::Service => "service",
            Kind::Deployment => "deployment.apps",
        }
    }

    fn collection(self) -> (&'static str, &'static str) {
        match self {
            Kind::ConfigMap => ("/api/v1", "configmaps"),
            Kind::Service => ("/api/v1", "services"),
            Kind::Deployment => ("/apis/apps/v1", "deployments"),
        }
    }
}

/// One object of the benchmark.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    /// The whole object (apiVersion, kind, metadata, …).
    pub object: Value,
}

impl Manifest {
    /// Where it is created: `/apis/apps/v1/namespaces/NS/deployments`.
    pub fn collection_path(&self) -> String {
        let (prefix, plural) = self.kind.collection();
        format!("{prefix}/namespaces/{}/{plural}", self.namespace)
    }
}

/// The name of namespace `i`.
pub fn namespace_name(i: usize) -> String {
    format!("bench-apply-{i}")
}

/// `objects` objects in `namespaces` namespaces (at least one).
pub fn manifests(objects: usize, namespaces: usize) -> Vec<Manifest> {
    let namespaces = namespaces.max(1);
    (0..objects)
        .map(|i| {
            let app = i / 3;
            let namespace = namespace_name(app % namespaces);
            match i % 3 {
                0 => config_map(app, namespace),
                1 => service(app, namespace),
                _ => deployment(app, namespace),
            }
        })
        .collect()
}

/// How many objects of each kind: (ConfigMaps, Services, Deployments).
pub fn counts(manifests: &[Manifest]) -> (usize, usize, usize) {
    let count = |kind| manifests.iter().filter(|m| m.kind == kind).count();
    (count(Kind::ConfigMap), count(Kind::Service), count(Kind::Deployment))
}

fn labels(app: usize) -> Value {
    json!({
        "app.kubernetes.io/name": format!("app-{app}"),
        "app.kubernetes.io/part-of": "bench",
        "tier": if app.is_multiple_of(2) { "frontend" } else { "backend" },
    })
}

fn config_map(app: usize, namespace: String) -> Manifest {
    let name = format!("app-{app}-config");
    let object = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(app)},
        "data": {
            "LOG_LEVEL": "info",
            "LISTEN_ADDR": ":8080",
            "UPSTREAM_URL": format!("http://app-{}.{namespace}.svc:80", app + 1),
            "app.properties": format!(
                "name=app-{app}\ncache.size=256\ncache.ttl=30s\nfeature.flags=search,export\nworkers=4\n"
            ),
        },
    });
    Manifest { kind: Kind::ConfigMap, namespace, name, object }
}

fn service(app: usize, namespace: String) -> Manifest {
    let name = format!("app-{app}");
    let object = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(app)},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/name": format!("app-{app}")},
            "ports": [
                {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"},
                {"name": "metrics", "port": 9090, "targetPort": 9090, "protocol": "TCP"},
            ],
        },
    });
    Manifest { kind: Kind::Service, namespace, name, object }
}

fn deployment(app: usize, namespace: String) -> Manifest {
    let name = format!("app-{app}");
    let object = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(app)},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app.kubernetes.io/name": format!("app-{app}")}},
            "template": {
                "metadata": {"labels": labels(app), "annotations": {"prometheus.io/scrape": "true"}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": format!("registry.example.com/bench/app-{app}:1.4.2"),
                            "args": ["--config=/etc/app/app.properties"],
                            "ports": [
                                {"name": "http", "containerPort": 8080},
                                {"name": "metrics", "containerPort": 9090},
                            ],
                            "envFrom": [{"configMapRef": {"name": format!("app-{app}-config")}}],
                            "env": [
                                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                                {"name": "GOMAXPROCS", "value": "2"},
                            ],
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "128Mi"},
                                "limits": {"cpu": "500m", "memory": "256Mi"},
                            },
                            "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 5},
                            "volumeMounts": [{"name": "config", "mountPath": "/etc/app", "readOnly": true}],
                        },
                        {
                            "name": "log-shipper",
                            "image": "registry.example.com/bench/log-shipper:0.9.1",
                            "args": ["--source=/var/log/app", "--sink=http://logs.example.com"],
                            "resources": {
                                "requests": {"cpu": "10m", "memory": "32Mi"},
                                "limits": {"memory": "64Mi"},
                            },
                            "volumeMounts": [{"name": "logs", "mountPath": "/var/log/app"}],
                        },
                    ],
                    "volumes": [
                        {"name": "config", "configMap": {"name": format!("app-{app}-config")}},
                        {"name": "logs", "emptyDir": {}},
                    ],
                },
            },
        },
    });
    Manifest { kind: Kind::Deployment, namespace, name, object }
}

/// The name of the server-side apply benchmark's Deployment `index`.
pub fn typical_deployment_name(index: usize) -> String {
    format!("web-{index}")
}

/// The image of the main container at `revision`: the tag is what changes.
pub fn typical_image(revision: usize) -> String {
    format!("registry.example.com/bench/web:1.{revision}.0")
}

/// A typical Deployment as an applied configuration: 3 containers (app,
/// metrics exporter, log shipper), each with 4 env vars, ports, volume
/// mounts and resources; a configMap and an emptyDir volume; labels.
/// `revision` sets the app container's image tag and its `CONFIG_REVISION`
/// env value, so configurations of two revisions differ in two fields.
pub fn typical_deployment(index: usize, namespace: &str, revision: usize) -> Value {
    let name = typical_deployment_name(index);
    let labels = json!({
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/part-of": "bench-ssa",
        "app.kubernetes.io/managed-by": "kubeplex-bench",
        "tier": "frontend",
    });
    let env = |role: &str, extra: (&str, String)| {
        json!([
            {"name": "APP_NAME", "value": name},
            {"name": "ROLE", "value": role},
            {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": extra.0, "value": extra.1},
        ])
    };
    let resources = |cpu: &str, memory: &str| {
        let amounts = json!({"cpu": cpu, "memory": memory});
        json!({"requests": amounts, "limits": amounts})
    };
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": typical_image(revision),
                            "args": ["--config=/etc/web/app.properties", "--listen=:8080"],
                            "env": env("app", ("CONFIG_REVISION", format!("r{revision}"))),
                            "ports": [
                                {"name": "http", "containerPort": 8080, "protocol": "TCP"},
                                {"name": "admin", "containerPort": 8081, "protocol": "TCP"},
                            ],
                            "volumeMounts": [
                                {"name": "config", "mountPath": "/etc/web", "readOnly": true},
                                {"name": "scratch", "mountPath": "/var/cache/web"},
                            ],
                            "resources": resources("500m", "512Mi"),
                        },
                        {
                            "name": "metrics",
                            "image": "registry.example.com/bench/exporter:0.21.0",
                            "env": env("metrics", ("SCRAPE_INTERVAL", "15s".to_string())),
                            "ports": [{"name": "metrics", "containerPort": 9100, "protocol": "TCP"}],
                            "volumeMounts": [{"name": "config", "mountPath": "/etc/exporter", "readOnly": true}],
                            "resources": resources("50m", "64Mi"),
                        },
                        {
                            "name": "log-shipper",
                            "image": "registry.example.com/bench/log-shipper:0.9.1",
                            "env": env("logs", ("SINK_URL", "http://logs.example.com:9880".to_string())),
                            "ports": [{"name": "health", "containerPort": 2020, "protocol": "TCP"}],
                            "volumeMounts": [{"name": "scratch", "mountPath": "/var/log/web", "readOnly": true}],
                            "resources": resources("100m", "128Mi"),
                        },
                    ],
                    "volumes": [
                        {"name": "config", "configMap": {"name": format!("{name}-config")}},
                        {"name": "scratch", "emptyDir": {}},
                    ],
                },
            },
        },
    })
}

/// Writes each manifest to `dir` (created) as `NNNN-kind-name.yaml`.
pub fn write_dir(dir: &Path, manifests: &[Manifest]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (i, m) in manifests.iter().enumerate() {
        let kind = m.kind.kubectl_name().split('.').next().unwrap_or("object");
        let path = dir.join(format!("{i:04}-{kind}-{}.yaml", m.name));
        std::fs::write(&path, to_yaml(&m.object)).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// A JSON value as a block-style YAML document. Strings are written
/// double-quoted (JSON's escapes are YAML's), so none is read back as a
/// number or a boolean; keys are written plain (every key here is a plain
/// scalar).
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        scalar => {
            out.push_str(&inline(scalar));
            out.push('\n');
        }
    }
    out
}

fn inline(value: &Value) -> String {
    match value {
        Value::Object(map) if map.is_empty() => "{}".to_string(),
        Value::Array(items) if items.is_empty() => "[]".to_string(),
        // Strings, numbers, booleans and null as JSON, which YAML reads alike.
        other => other.to_string(),
    }
}

fn is_block(value: &Value) -> bool {
    match value {
        Value::Object(map) => !map.is_empty(),
        Value::Array(items) => !items.is_empty(),
        _ => false,
    }
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, indent: usize) {
    for (key, value) in map {
        let _ = write!(out, "{:indent$}{key}:", "");
        write_value(out, value, indent + 2);
    }
}

fn write_seq(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        let _ = write!(out, "{:indent$}-", "");
        match item {
            // `- key: value` with the rest of the map under the first key.
            Value::Object(map) if !map.is_empty() => {
                let mut first = true;
                for (key, value) in map {
                    if first {
                        let _ = write!(out, " {key}:");
                        first = false;
                    } else {
                        let _ = write!(out, "{:width$}{key}:", "", width = indent + 2);
                    }
                    write_value(out, value, indent + 4);
                }
            }
            other => write_value(out, other, indent + 2),
        }
    }
}

/// After `key:` or `-`: a scalar on the same line, or a block below.
fn write_value(out: &mut String, value: &Value, indent: usize) {
    if !is_block(value) {
        out.push(' ');
        out.push_str(&inline(value));
        out.push('\n');
        return;
    }
    out.push('\n');
    match value {
        Value::Object(map) => write_map(out, map, indent),
        Value::Array(items) => write_seq(out, items, indent),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mix_of_kinds_in_every_namespace() {
        let all = manifests(1000, 4);
        assert_eq!(all.len(), 1000);
        assert_eq!(counts(&all), (334, 333, 333));
        for ns in 0..4 {
            assert!(all.iter().any(|m| m.namespace == namespace_name(ns)));
        }
        let names: std::collections::HashSet<_> = all.iter().map(|m| (m.kind, &m.namespace, &m.name)).collect();
        assert_eq!(names.len(), 1000, "names are unique per kind and namespace");
        let deployment = all.iter().find(|m| m.kind == Kind::Deployment).expect("a deployment");
        assert_eq!(deployment.object["spec"]["template"]["spec"]["containers"].as_array().map(Vec::len), Some(2));
        assert_eq!(deployment.collection_path(), "/apis/apps/v1/namespaces/bench-apply-0/deployments");
        assert_eq!(all[0].collection_path(), "/api/v1/namespaces/bench-apply-0/configmaps");
    }

    #[test]
    fn a_typical_deployment() {
        let d = typical_deployment(7, "ns", 3);
        assert_eq!(d["metadata"]["name"], "web-7");
        assert_eq!(d["metadata"]["namespace"], "ns");
        let pod = &d["spec"]["template"]["spec"];
        let containers = pod["containers"].as_array().expect("containers");
        assert_eq!(containers.len(), 3);
        for c in containers {
            assert_eq!(c["env"].as_array().map(Vec::len), Some(4), "{c}");
            for field in ["ports", "volumeMounts"] {
                assert!(c[field].as_array().is_some_and(|a| !a.is_empty()), "{field} of {c}");
            }
            assert!(c["resources"]["requests"].is_object() && c["resources"]["limits"].is_object(), "{c}");
            // Every mount names a volume of the pod.
            for mount in c["volumeMounts"].as_array().into_iter().flatten() {
                assert!(pod["volumes"].as_array().into_iter().flatten().any(|v| v["name"] == mount["name"]));
            }
        }
        let volumes = pod["volumes"].as_array().expect("volumes");
        assert!(volumes[0]["configMap"].is_object() && volumes[1]["emptyDir"].is_object());
        assert_eq!(d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"], "web-7");
        assert_eq!(d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"], "web-7");
        assert_eq!(containers[0]["image"], typical_image(3));

        // Another revision differs in the image and one env value only.
        let next = typical_deployment(7, "ns", 4);
        assert_ne!(d, next);
        let mut back = next.clone();
        let app = &mut back["spec"]["template"]["spec"]["containers"][0];
        app["image"] = json!(typical_image(3));
        app["env"][3]["value"] = json!("r3");
        assert_eq!(back, d);
        assert_eq!(typical_deployment(7, "ns", 3), d, "deterministic");
    }

    #[test]
    fn yaml_blocks() {
        let value = json!({
            "a": {"b": "x: y", "n": 2, "t": true, "e": {}, "l": []},
            "list": [{"name": "c", "ports": [{"p": 1}, {"p": 2}]}, "plain", 3],
        });
        let expected = "a:\n  b: \"x: y\"\n  n: 2\n  t: true\n  e: {}\n  l: []\nlist:\n  - name: \"c\"\n    ports:\n\
                        \x20     - p: 1\n      - p: 2\n  - \"plain\"\n  - 3\n";
        assert_eq!(to_yaml(&value), expected);
        assert_eq!(to_yaml(&json!("s")), "\"s\"\n");
        assert_eq!(to_yaml(&json!({"k": "line\nbreak"})), "k: \"line\\nbreak\"\n");
    }

    #[test]
    fn writes_one_file_per_object() {
        let dir = tempfile::tempdir().expect("temp dir");
        let all = manifests(7, 2);
        write_dir(dir.path(), &all).expect("written");
        let mut files: Vec<_> = std::fs::read_dir(dir.path())
            .expect("listed")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(files.len(), 7);
        assert_eq!(files[0], "0000-configmap-app-0-config.yaml");
        assert_eq!(files[2], "0002-deployment-app-0.yaml");
    }
}
