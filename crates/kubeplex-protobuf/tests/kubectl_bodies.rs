//! The protobuf bodies real kubectl 1.32 sends (captured by `tests/capture.rs` into `tests/fixtures/`,
//! commands in `tests/fixtures/README.md`), decoded and compared with what the same command prints with
//! `--dry-run=client -o json`, which is the object kubectl would send.
//!
//! kubectl prints the Go struct through `encoding/json`, which writes fields the protobuf transcoder
//! leaves out on purpose: Go zero values of non-pointer fields that are not `omitempty` or are structs
//! (`omitempty` never omits a struct). Across these commands that is `metadata.creationTimestamp: null`
//! (and the pod template's), empty structs (`status: {}`, `spec.strategy: {}`, `resources: {}`,
//! `status.loadBalancer: {}`), and, for the review kinds, zero scalars such as `status.allowed: false`.
//! [`minimize`] removes exactly those from kubectl's JSON, walking the API facts as the transcoder does,
//! and every test states the list of what it removed, so the difference is documented per command.

use std::path::{Path, PathBuf};

use kubeplex_api_facts::{TypeFacts, TypeRef, facts};
use serde_json::{Map, Value, json};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn is_zero(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// kubectl's JSON of a struct of type `ty` without the Go zero values of its non-pointer fields (and
/// without nulls and empty collections anywhere), recording each removal as `path: value`.
fn minimize(ty: &TypeFacts, object: &Map<String, Value>, path: &str, removed: &mut Vec<String>) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in object {
        let at = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
        if path.is_empty() && (key == "apiVersion" || key == "kind") {
            out.insert(key.clone(), value.clone());
            continue;
        }
        let field = ty.field(key).unwrap_or_else(|| panic!("{at}: not a field of {}", ty.name));
        let value = minimize_value(&field.ty, value, &at, removed);
        let drop = value.is_null()
            || matches!(&value, Value::Array(a) if a.is_empty())
            || matches!(&value, Value::Object(o) if o.is_empty() && field.ty.map_entry().is_some())
            || (!field.pointer && is_zero(&value));
        if drop {
            removed.push(format!("{at}: {value}"));
        } else {
            out.insert(key.clone(), value);
        }
    }
    out
}

fn minimize_value(ty: &TypeRef, value: &Value, path: &str, removed: &mut Vec<String>) -> Value {
    match (ty.resolved(), value) {
        (TypeRef::List(element), Value::Array(items)) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| minimize_value(element, v, &format!("{path}[{i}]"), removed))
                .collect(),
        ),
        (TypeRef::Map { value: value_ty, .. }, Value::Object(entries)) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), minimize_value(value_ty, v, &format!("{path}[{k}]"), removed)))
                .collect(),
        ),
        (TypeRef::Named(name), Value::Object(fields)) => {
            let ty = facts().type_by_name(name).unwrap_or_else(|| panic!("{name} not in the facts"));
            Value::Object(minimize(ty, fields, path, removed))
        }
        _ => value.clone(),
    }
}

/// Decodes `NAME.pb`, checks it has no unknown fields, and returns the object.
fn decode(name: &str) -> Value {
    let body = read(&format!("{name}.pb"));
    assert!(kubeplex_protobuf::is_protobuf(&body), "{name}: not protobuf");
    let decoded = kubeplex_protobuf::decode_body(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(decoded.unknown_fields.is_empty(), "{name}: unknown fields {:?}", decoded.unknown_fields);
    assert_eq!(decoded.object["apiVersion"], json!(decoded.api_version));
    assert_eq!(decoded.object["kind"], json!(decoded.kind));
    decoded.object
}

/// Decodes `NAME.pb` and compares it with `NAME.json` minimized; `expected_removed` lists what
/// kubectl's JSON has beyond the decoded body.
fn check_against_dry_run(name: &str, expected_removed: &[&str]) -> Value {
    let decoded = decode(name);
    let printed: Value = serde_json::from_slice(&read(&format!("{name}.json"))).expect("dry-run JSON");
    let api_version = printed["apiVersion"].as_str().expect("apiVersion");
    let kind = printed["kind"].as_str().expect("kind");
    let ty = facts().kind_for_api_version(api_version, kind).expect("kind in facts");
    let mut removed = Vec::new();
    let minimized = Value::Object(minimize(ty, printed.as_object().expect("object"), "", &mut removed));
    assert_eq!(
        decoded,
        minimized,
        "{name}: decoded body (left) differs from `--dry-run=client -o json` minimized (right)\ndecoded: {}\nprinted: {}",
        serde_json::to_string_pretty(&decoded).unwrap_or_default(),
        serde_json::to_string_pretty(&minimized).unwrap_or_default()
    );
    let mut removed_sorted = removed.clone();
    removed_sorted.sort();
    let mut expected: Vec<String> = expected_removed.iter().map(|s| (*s).to_owned()).collect();
    expected.sort();
    assert_eq!(removed_sorted, expected, "{name}: fields of kubectl's JSON left out of the decoded body");
    decoded
}

const CREATION_TIMESTAMP: &str = "metadata.creationTimestamp: null";

#[test]
fn create_namespace() {
    let object = check_against_dry_run("namespace", &[CREATION_TIMESTAMP, "spec: {}", "status: {}"]);
    assert_eq!(object, json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}}));
}

#[test]
fn create_configmap() {
    let object = check_against_dry_run("configmap", &[CREATION_TIMESTAMP]);
    assert_eq!(object["data"], json!({"a": "1"}));
}

#[test]
fn create_configmap_from_binary_file_and_empty_literal() {
    let object = check_against_dry_run("configmap-binary", &[CREATION_TIMESTAMP]);
    // Map values are kept even when empty; []byte is base64.
    assert_eq!(object["data"], json!({"text": ""}));
    let blob = object["binaryData"]["blob"].as_str().expect("binaryData.blob");
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD.decode(blob).expect("base64");
    assert_eq!(bytes, (0..=255u8).collect::<Vec<_>>());
}

#[test]
fn create_secret_generic() {
    let object = check_against_dry_run("secret", &[CREATION_TIMESTAMP]);
    assert_eq!(object["data"], json!({"k": "dg=="}));
}

#[test]
fn create_secret_docker_registry() {
    let object = check_against_dry_run("secret-docker-registry", &[CREATION_TIMESTAMP]);
    assert_eq!(object["type"], json!("kubernetes.io/dockerconfigjson"));
    assert!(object["data"][".dockerconfigjson"].is_string());
}

const POD_TEMPLATE_ZEROS: [&str; 3] =
    ["spec.template.metadata.creationTimestamp: null", "spec.template.spec.containers[0].resources: {}", "status: {}"];

#[test]
fn create_deployment_keeps_zero_replicas() {
    let mut removed = vec![CREATION_TIMESTAMP, "spec.strategy: {}"];
    removed.extend(POD_TEMPLATE_ZEROS);
    let object = check_against_dry_run("deployment-replicas-0", &removed);
    // `replicas` is a pointer: zero is kept, so the default of 1 does not apply.
    assert_eq!(object["spec"]["replicas"], json!(0));
}

#[test]
fn create_deployment() {
    let mut removed = vec![CREATION_TIMESTAMP, "spec.strategy: {}"];
    removed.extend(POD_TEMPLATE_ZEROS);
    let object = check_against_dry_run("deployment", &removed);
    assert_eq!(
        object,
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx", "ports": [{"containerPort": 80}]}]}
                }
            }
        })
    );
}

#[test]
fn create_service_clusterip() {
    let object =
        check_against_dry_run("service-clusterip", &[CREATION_TIMESTAMP, "status.loadBalancer: {}", "status: {}"]);
    assert_eq!(
        object["spec"]["ports"],
        json!([{"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080}])
    );
}

#[test]
fn create_service_nodeport() {
    let object =
        check_against_dry_run("service-nodeport", &[CREATION_TIMESTAMP, "status.loadBalancer: {}", "status: {}"]);
    // IntOrString in its string form.
    assert_eq!(object["spec"]["ports"][0]["targetPort"], json!("https"));
    assert_eq!(object["spec"]["ports"][0]["nodePort"], json!(30443));
}

#[test]
fn create_job() {
    let removed = [
        CREATION_TIMESTAMP,
        "spec.template.metadata.creationTimestamp: null",
        "spec.template.metadata: {}",
        "spec.template.spec.containers[0].resources: {}",
        "status: {}",
    ];
    let object = check_against_dry_run("job", &removed);
    assert_eq!(object["spec"]["template"]["spec"]["restartPolicy"], json!("Never"));
    assert_eq!(object["spec"]["template"]["spec"]["containers"][0]["command"], json!(["echo", "hi"]));
}

#[test]
fn create_cronjob() {
    let removed = [
        CREATION_TIMESTAMP,
        "spec.jobTemplate.metadata.creationTimestamp: null",
        "spec.jobTemplate.spec.template.metadata.creationTimestamp: null",
        "spec.jobTemplate.spec.template.metadata: {}",
        "spec.jobTemplate.spec.template.spec.containers[0].resources: {}",
        "status: {}",
    ];
    let object = check_against_dry_run("cronjob", &removed);
    assert_eq!(object["spec"]["schedule"], json!("*/5 * * * *"));
}

#[test]
fn create_serviceaccount() {
    let object = check_against_dry_run("serviceaccount", &[CREATION_TIMESTAMP]);
    assert_eq!(object, json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa"}}));
}

#[test]
fn create_role() {
    let object = check_against_dry_run("role", &[CREATION_TIMESTAMP]);
    // A list element that is the empty string (the core group) is kept.
    assert_eq!(object["rules"], json!([{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}]));
}

#[test]
fn create_clusterrole() {
    let object = check_against_dry_run("clusterrole", &[CREATION_TIMESTAMP]);
    assert_eq!(object["rules"], json!([{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}]));
}

#[test]
fn create_rolebinding() {
    let object = check_against_dry_run("rolebinding", &[CREATION_TIMESTAMP]);
    assert_eq!(object["roleRef"], json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"}));
}

#[test]
fn create_quota() {
    let object = check_against_dry_run("quota", &[CREATION_TIMESTAMP, "status: {}"]);
    // Quantities as the client wrote them.
    assert_eq!(object["spec"]["hard"], json!({"cpu": "1", "memory": "1Gi", "pods": "10"}));
}

#[test]
fn create_pdb() {
    // PodDisruptionBudgetStatus has four int32 fields without omitempty: kubectl prints them as 0.
    let removed = [
        CREATION_TIMESTAMP,
        "status.currentHealthy: 0",
        "status.desiredHealthy: 0",
        "status.disruptionsAllowed: 0",
        "status.expectedPods: 0",
        "status: {}",
    ];
    let object = check_against_dry_run("pdb", &removed);
    // A pointer IntOrString in its string form.
    assert_eq!(object["spec"]["minAvailable"], json!("50%"));
}

#[test]
fn create_priorityclass() {
    let object = check_against_dry_run("priorityclass", &[CREATION_TIMESTAMP]);
    assert_eq!(object["value"], json!(1000));
    // `preemptionPolicy` is a pointer kubectl sets.
    assert_eq!(object["preemptionPolicy"], json!("PreemptLowerPriority"));
}

#[test]
fn create_ingress() {
    let object = check_against_dry_run("ingress", &[CREATION_TIMESTAMP, "status.loadBalancer: {}", "status: {}"]);
    assert_eq!(object["spec"]["ingressClassName"], json!("nginx"));
}

#[test]
fn create_token() {
    // `kubectl create token` has no --dry-run; the TokenRequest it sends.
    let object = decode("token");
    assert_eq!(
        object,
        json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"audiences": ["api"], "expirationSeconds": 600}
        })
    );
}

#[test]
fn auth_can_i() {
    let object = decode("can-i");
    assert_eq!(
        object,
        json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"namespace": "default", "verb": "create", "resource": "pods"}}
        })
    );
}

#[test]
fn auth_can_i_list() {
    let object = decode("can-i-list");
    assert_eq!(
        object,
        json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectRulesReview",
            "spec": {"namespace": "default"}
        })
    );
}

#[test]
fn auth_whoami() {
    let object = decode("whoami");
    assert_eq!(object, json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}));
}
