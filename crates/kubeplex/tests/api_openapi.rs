//! OpenAPI v3 driven by real kubectl 1.32 and 1.37 with validation on (no `--validate=false`),
//! in a logical cluster reached through its `/clusters/<name>` prefix: `create -f`, client-side
//! `apply -f` (created, configured, unchanged), `explain` of a built-in and of a custom resource,
//! and documents served from cache.

use kubeplex_testing::{Kubectl, KubeplexServer};
use serde_json::Value;

const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: NAME
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - containerPort: 80
"#;

const CONFIG_MAP: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: NAME\n  labels: {tier: web}\ndata:\n  color: COLOR\n";

const WIDGET_CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        description: A widget for tests.
        properties:
          spec:
            type: object
            description: What the widget should be.
            properties:
              size:
                type: integer
                description: How big the widget is, in centimetres.
"#;

fn widget(name: &str, size: u32) -> String {
    format!("apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: {name}\nspec:\n  size: {size}\n")
}

#[test]
fn kubectl_validates_applies_and_explains_with_openapi() {
    let server = KubeplexServer::start(env!("CARGO_BIN_EXE_kubeplex")).expect("start kubeplex server");
    let root = Kubectl::v1_37(server.kubeconfig()).unwrap();
    // Validation on even for the LogicalCluster (kubeplex.io/v1alpha1 has its document too).
    let out = root
        .ok_with_input(
            &["create", "-f", "-"],
            Some("apiVersion: kubeplex.io/v1alpha1\nkind: LogicalCluster\nmetadata:\n  name: t1\n"),
        )
        .unwrap();
    assert!(out.contains("created"), "{out}");
    let t1 = server.kubeconfig_for_cluster("t1").unwrap();
    let kubectls = [Kubectl::v1_32(&t1).unwrap(), Kubectl::v1_37(&t1).unwrap()];

    for (i, k) in kubectls.iter().enumerate() {
        let suffix = k.version.replace('.', "");
        // create -f with validation: kubectl finds `fieldValidation` on the PATCH operation and leaves
        // validation to the server (`fieldValidation=Strict`).
        let deployment = DEPLOYMENT.replace("NAME", &format!("web-{suffix}"));
        let out = k.ok_with_input(&["create", "-f", "-"], Some(&deployment)).unwrap();
        assert!(out.contains("created"), "{out}");

        // Client-side apply: created, unchanged, configured (a strategic merge patch).
        let name = format!("settings-{suffix}");
        let cm = |color: &str| CONFIG_MAP.replace("NAME", &name).replace("COLOR", color);
        let out = k.ok_with_input(&["apply", "-f", "-"], Some(&cm("red"))).unwrap();
        assert!(out.contains("created"), "{out}");
        let out = k.ok_with_input(&["apply", "-f", "-"], Some(&cm("red"))).unwrap();
        assert!(out.contains("unchanged"), "{out}");
        let out = k.ok_with_input(&["apply", "-f", "-"], Some(&cm("blue"))).unwrap();
        assert!(out.contains("configured"), "{out}");
        assert_eq!(k.ok(&["get", "cm", &name, "-o", "jsonpath={.data.color}"]).unwrap(), "blue");

        let explained = k.ok(&["explain", "deployment.spec.template.spec.containers"]).unwrap();
        assert!(explained.contains("KIND:       Deployment"), "{explained}");
        assert!(explained.contains("containers <[]Container>"), "{explained}");
        assert!(explained.contains("List of containers belonging to the pod."), "{explained}");
        assert!(explained.contains("imagePullPolicy\t<string>"), "{explained}");

        // A CRD with a schema, applied with validation; its fields explained.
        let out = k.ok_with_input(&["apply", "-f", "-"], Some(WIDGET_CRD)).unwrap();
        assert!(out.contains(if i == 0 { "created" } else { "unchanged" }), "{out}");
        let out =
            k.ok(&["wait", "--for", "condition=established", "crd/widgets.example.com", "--timeout=30s"]).unwrap();
        assert!(out.contains("condition met"), "{out}");
        let explained = k.ok(&["explain", "widgets.spec.size"]).unwrap();
        assert!(explained.contains("How big the widget is, in centimetres."), "{explained}");
        assert!(explained.contains("size <integer>"), "{explained}");
        let explained = k.ok(&["explain", "widget"]).unwrap();
        assert!(explained.contains("A widget for tests."), "{explained}");
        let w = format!("w-{suffix}");
        let out = k.ok_with_input(&["apply", "-f", "-"], Some(&widget(&w, 1))).unwrap();
        assert!(out.contains("created"), "{out}");
        let out = k.ok_with_input(&["apply", "-f", "-"], Some(&widget(&w, 2))).unwrap();
        assert!(out.contains("configured"), "{out}");
        assert_eq!(k.ok(&["get", "widget", &w, "-o", "jsonpath={.spec.size}"]).unwrap(), "2");
    }

    // The index lists the cluster's custom group-version; the root cluster does not have it.
    let k = &kubectls[1];
    let index: Value = serde_json::from_str(&k.ok(&["get", "--raw", "/openapi/v3"]).unwrap()).unwrap();
    let url = index["paths"]["apis/example.com/v1"]["serverRelativeURL"].as_str().expect("listed in t1");
    assert!(url.starts_with("/openapi/v3/apis/example.com/v1?hash="), "{url}");
    let root_index: Value = serde_json::from_str(&root.ok(&["get", "--raw", "/openapi/v3"]).unwrap()).unwrap();
    assert!(root_index["paths"].get("apis/example.com/v1").is_none(), "{root_index}");

    // A group-version document is served from cache: the same bytes each time, in any cluster.
    let apps = index["paths"]["apis/apps/v1"]["serverRelativeURL"].as_str().expect("apps/v1").to_owned();
    assert_eq!(apps, root_index["paths"]["apis/apps/v1"]["serverRelativeURL"], "built-in documents are shared");
    let first = k.ok(&["get", "--raw", &apps]).unwrap();
    let second = k.ok(&["get", "--raw", &apps]).unwrap();
    let from_root = root.ok(&["get", "--raw", &apps]).unwrap();
    assert_eq!(first, second);
    assert_eq!(first, from_root);
    let doc: Value = serde_json::from_str(&first).unwrap();
    assert!(doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"].is_object());
}
