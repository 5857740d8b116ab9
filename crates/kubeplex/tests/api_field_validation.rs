//! Server-side field validation (k8s-api.md §8): `fieldValidation=Strict`
//! refuses unknown and duplicate fields with upstream's messages, `Warn`
//! (the default) answers with `Warning: 299` headers, `Ignore` is silent;
//! unknown fields are never stored. Driven with raw requests (exact status,
//! message and headers) and with kubectl 1.32 and 1.37.

mod common;

use common::{Reply, client, send};
use kubeplex_testing::{Kubectl, KubeplexServer};
use serde_json::json;

fn server() -> KubeplexServer {
    KubeplexServer::start(env!("CARGO_BIN_EXE_kubeplex")).expect("start kubeplex server")
}

const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";

fn deployment_json(name: &str) -> String {
    format!(
        r#"{{"apiVersion":"apps/v1","kind":"Deployment","metadata":{{"name":"{name}"}},
        "spec":{{"replicas":1,"replicaz":2,"replicas":1,"selector":{{"matchLabels":{{"app":"{name}"}}}},
        "template":{{"metadata":{{"labels":{{"app":"{name}"}}}},
        "spec":{{"containers":[{{"name":"web","image":"nginx","imagee":"x"}}]}}}}}}}}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_warn_and_ignore_on_the_wire() {
    let server = server();
    let client = client(&server).await;
    let problems = [
        r#"unknown field "spec.replicaz""#,
        r#"duplicate field "spec.replicas""#,
        r#"unknown field "spec.template.spec.containers[0].imagee""#,
    ];

    // Strict: 400 with the typed decoder's errors in document order.
    let uri = format!("{DEPLOYMENTS}?fieldValidation=Strict");
    let Reply { status, body, .. } =
        send(&client, http::Method::POST, &uri, "application/json", &deployment_json("s")).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["reason"], "BadRequest");
    assert_eq!(
        body["message"],
        format!(
            "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: {}",
            problems.join(", ")
        )
    );

    // YAML: the duplicate keys with their lines, then the unknown fields in sorted-key order.
    let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: y\nspec:\n  replicas: 1\n  replicas: 2\n  zzz: 1\n  selector:\n    matchLabels: {app: y}\n  template:\n    metadata:\n      labels: {app: y}\n    spec:\n      containers:\n      - name: web\n        image: nginx\n        bogus: 1\n";
    let Reply { status, body, .. } = send(&client, http::Method::POST, &uri, "application/yaml", yaml).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["message"],
        "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: yaml: unmarshal errors:\n  line 7: key \"replicas\" already set in map, unknown field \"spec.template.spec.containers[0].bogus\", unknown field \"spec.zzz\""
    );

    // An unsupported value is a 422 on the options.
    let uri = format!("{DEPLOYMENTS}?fieldValidation=Bogus");
    let Reply { status, body, .. } =
        send(&client, http::Method::POST, &uri, "application/json", &deployment_json("b")).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["message"],
        r#"CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Bogus": supported values: "", "Ignore", "Strict", "Warn""#
    );

    // Warn (the default): created, one header per problem, unknown fields dropped.
    let Reply { status, warnings, body } =
        send(&client, http::Method::POST, DEPLOYMENTS, "application/json", &deployment_json("w")).await;
    assert_eq!(status, 201, "{body}");
    let expected: Vec<String> = problems.iter().map(|p| format!("299 - \"{}\"", p.replace('"', "\\\""))).collect();
    assert_eq!(warnings, expected);
    assert!(body["spec"].get("replicaz").is_none(), "{body}");
    assert!(body["spec"]["template"]["spec"]["containers"][0].get("imagee").is_none(), "{body}");

    // Ignore: created silently, still without the unknown fields.
    let uri = format!("{DEPLOYMENTS}?fieldValidation=Ignore");
    let Reply { status, warnings, body } =
        send(&client, http::Method::POST, &uri, "application/json", &deployment_json("i")).await;
    assert_eq!(status, 201, "{body}");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(body["spec"].get("replicaz").is_none(), "{body}");

    // PUT, Strict.
    let mut update = body.clone();
    update["spec"]["bogus"] = json!(1);
    let uri = format!("{DEPLOYMENTS}/i?fieldValidation=Strict");
    let Reply { status, body, .. } =
        send(&client, http::Method::PUT, &uri, "application/json", &update.to_string()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["message"],
        "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.bogus\""
    );

    // Merge patch, default Warn: the patch's duplicates, then the patched object's unknown fields.
    let uri = format!("{DEPLOYMENTS}/i");
    let patch = r#"{"spec":{"bogus":1,"paused":true,"paused":false}}"#;
    let Reply { status, warnings, body } =
        send(&client, http::Method::PATCH, &uri, "application/merge-patch+json", patch).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(warnings, [r#"299 - "duplicate field \"spec.paused\"""#, r#"299 - "unknown field \"spec.bogus\"""#]);
    assert!(body["spec"].get("bogus").is_none(), "{body}");

    // Strategic merge patch, Strict: 422 Invalid showing the patch as Go prints it.
    let uri = format!("{DEPLOYMENTS}/i?fieldValidation=Strict");
    let patch = r#"{"spec":{"template":{"spec":{"containers":[{"name":"web","imagee":"y"}]}}}}"#;
    let Reply { status, body, .. } =
        send(&client, http::Method::PATCH, &uri, "application/strategic-merge-patch+json", patch).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["message"],
        r#" "" is invalid: patch: Invalid value: "map[spec:map[template:map[spec:map[containers:[map[imagee:y name:web]]]]]]": strict decoding error: unknown field "spec.template.spec.containers[0].imagee""#
    );

    // JSON patch, Strict: the operations' own unknown members come first.
    let patch = r#"[{"op":"add","path":"/spec/bogus","value":1,"extra":true}]"#;
    let Reply { status, body, .. } =
        send(&client, http::Method::PATCH, &uri, "application/json-patch+json", patch).await;
    assert_eq!(status, 422, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.ends_with(r#"strict decoding error: json patch unknown field "[0].extra", unknown field "spec.bogus""#),
        "{message}"
    );

    // Custom resources have no schema here, but duplicates still count.
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    });
    let Reply { status, body, .. } = send(
        &client,
        http::Method::POST,
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        "application/json",
        &crd.to_string(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let widget =
        r#"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"a":1,"a":2,"free":1}}"#;
    let uri = "/apis/example.com/v1/namespaces/default/widgets?fieldValidation=Strict";
    let mut answer = send(&client, http::Method::POST, uri, "application/json", widget).await;
    for _ in 0..50 {
        if answer.status != 404 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        answer = send(&client, http::Method::POST, uri, "application/json", widget).await;
    }
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(
        answer.body["message"],
        r#"Widget in version "v1" cannot be handled as a Widget: strict decoding error: duplicate field "spec.a""#
    );
}

const MANIFEST: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: NAME\nspec:\n  replicaz: 2\n  selector:\n    matchLabels: {app: NAME}\n  template:\n    metadata:\n      labels: {app: NAME}\n    spec:\n      containers:\n      - name: web\n        image: nginx\n";

#[test]
fn kubectl_validation_modes() {
    let server = server();
    for k in [Kubectl::v1_32(server.kubeconfig()).unwrap(), Kubectl::v1_37(server.kubeconfig()).unwrap()] {
        let v = k.version.replace('.', "-");
        let manifest = |name: &str| MANIFEST.replace("NAME", &format!("{name}-{v}"));

        // --validate=strict: kubectl asks the server (fieldValidation=Strict).
        let out = k.run(&["create", "-f", "-", "--validate=strict"], Some(&manifest("strict"))).unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "kubectl {}: {stderr}", k.version);
        if stderr.contains("failed to download openapi") {
            // Without OpenAPI v3 kubectl cannot tell the server validates:
            // ask for it the way kubectl would.
            eprintln!("kubectl {}: no OpenAPI v3 yet, strict create checked with --raw", k.version);
            let path = format!("{DEPLOYMENTS}?fieldValidation=Strict");
            let body = manifest_json(&format!("strict-{v}"));
            let err = k.fails_with_input(&["create", "--raw", &path, "-f", "-"], Some(&body)).unwrap();
            assert!(
                err.contains(r#"strict decoding error: unknown field "spec.replicaz""#),
                "kubectl {}: {err}",
                k.version
            );
        } else {
            assert!(
                stderr.contains(
                    r#"Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replicaz""#
                ),
                "kubectl {}: {stderr}",
                k.version
            );
        }

        // --validate=false sends Ignore: created silently, the field not stored.
        let out = k.run(&["create", "-f", "-", "--validate=false"], Some(&manifest("ignore"))).unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "kubectl {}: {stderr}", k.version);
        assert!(!stderr.contains("Warning"), "kubectl {}: {stderr}", k.version);
        let stored = k.ok(&["get", "deploy", &format!("ignore-{v}"), "-o", "json"]).unwrap();
        assert!(!stored.contains("replicaz"), "{stored}");

        // A plain merge patch gets the default, Warn.
        let out = k
            .run(&["patch", "deploy", &format!("ignore-{v}"), "--type=merge", "-p", r#"{"spec":{"bogus":1}}"#], None)
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "kubectl {}: {stderr}", k.version);
        assert!(stderr.contains(r#"Warning: unknown field "spec.bogus""#), "kubectl {}: {stderr}", k.version);

        // Warnings reach kubectl's stderr (raw create with the default).
        let body = manifest_json(&format!("warn-{v}"));
        let out = k.run(&["create", "--raw", DEPLOYMENTS, "-f", "-"], Some(&body)).unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "kubectl {}: {stderr}", k.version);
        assert!(stderr.contains(r#"Warning: unknown field "spec.replicaz""#), "kubectl {}: {stderr}", k.version);
    }
}

/// [`MANIFEST`] as JSON.
fn manifest_json(name: &str) -> String {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicaz": 2, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}
    })
    .to_string()
}
