//! HorizontalPodAutoscalers in autoscaling/v1 and autoscaling/v2, one
//! storage: `kubectl autoscale` (kubectl 1.32 posts v1), both versions read
//! back the same object, v2 stays the preferred version, what v1 cannot
//! express survives v1 writes through its annotations, and a watch through v1
//! sees v1 objects.

use kubeplex_testing::{Kubectl, KubeplexServer};
use serde_json::Value;

/// The resources of each version (kubectl expands a short name such as
/// `hpa.v1.autoscaling` to the preferred version, so the plural is spelled out).
const V1: &str = "horizontalpodautoscalers.v1.autoscaling";
const V2: &str = "horizontalpodautoscalers.v2.autoscaling";

fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

#[test]
fn autoscale_serves_v1_and_v2_from_one_storage() {
    let server = KubeplexServer::start(env!("CARGO_BIN_EXE_kubeplex")).expect("start kubeplex server");
    let first = Kubectl::v1_32(server.kubeconfig()).unwrap();

    // Discovery: both versions, v2 preferred.
    let versions = first.ok(&["api-versions"]).unwrap();
    assert!(versions.lines().any(|l| l == "autoscaling/v1"), "{versions}");
    assert!(versions.lines().any(|l| l == "autoscaling/v2"), "{versions}");
    let group: Value = serde_json::from_str(&first.ok(&["get", "--raw", "/apis/autoscaling"]).unwrap()).unwrap();
    assert_eq!(group["preferredVersion"]["version"], "v2", "{group}");
    assert_eq!(group["versions"][0]["version"], "v2", "{group}");
    assert_eq!(group["versions"][1]["version"], "v1", "{group}");

    for k in [first, Kubectl::v1_37(server.kubeconfig()).unwrap()] {
        let v = k.version;
        let ns = format!("hpa-{}", v.replace('.', "-"));
        let n = ["-n", ns.as_str()];
        k.ok(&["create", "namespace", &ns]).unwrap();
        k.ok(&[&["create", "deployment", "web", "--image=nginx"][..], &n].concat()).unwrap();
        let out =
            k.ok(&[&["autoscale", "deployment", "web", "--min=2", "--max=5", "--cpu-percent=80"][..], &n].concat());
        let out = out.unwrap();
        assert!(out.contains("horizontalpodautoscaler.autoscaling/web autoscaled"), "kubectl {v}: {out}");

        // Upstream's columns, through the preferred version and through v1.
        for resource in ["hpa", V1, V2] {
            let table = k.ok(&[&["get", resource][..], &n].concat()).unwrap();
            let lines: Vec<&str> = table.lines().collect();
            assert_eq!(
                words(lines[0]),
                ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"],
                "kubectl {v} get {resource}: {table}"
            );
            assert!(
                words(lines[1]).starts_with(&["web", "Deployment/web", "cpu:", "<unknown>/80%", "2", "5", "0"]),
                "kubectl {v} get {resource}: {table}"
            );
        }

        let get = |resource: &str, path: &str| {
            k.ok(&[&["get", resource, "web", "-o", &format!("jsonpath={{{path}}}")][..], &n].concat()).unwrap()
        };
        assert_eq!(get(V1, ".spec.targetCPUUtilizationPercentage"), "80", "kubectl {v}");
        assert_eq!(get(V1, ".apiVersion"), "autoscaling/v1", "kubectl {v}");
        assert_eq!(get(V2, ".spec.metrics[0].resource.target.averageUtilization"), "80");
        assert_eq!(get(V2, ".apiVersion"), "autoscaling/v2", "kubectl {v}");
        assert_eq!(get(V2, ".spec.minReplicas"), "2", "kubectl {v}");

        // A v2-only field survives a write through v1 (in the behavior annotation).
        k.ok(&[
            &["patch", V2, "web", "--type=merge"][..],
            &["-p", r#"{"spec":{"behavior":{"scaleDown":{"stabilizationWindowSeconds":30}}}}"#],
            &n,
        ]
        .concat())
            .unwrap();
        let annotation = get(V1, ".metadata.annotations.autoscaling\\.alpha\\.kubernetes\\.io/behavior");
        assert!(annotation.contains(r#""StabilizationWindowSeconds":30"#), "kubectl {v}: {annotation}");
        let rv = get(V1, ".metadata.resourceVersion");
        k.ok(&[
            &["patch", V1, "web", "--type=merge"][..],
            &["-p", r#"{"spec":{"targetCPUUtilizationPercentage":60,"maxReplicas":6}}"#],
            &n,
        ]
        .concat())
            .unwrap();
        assert_eq!(get(V2, ".spec.metrics[0].resource.target.averageUtilization"), "60");
        assert_eq!(get(V2, ".spec.behavior.scaleDown.stabilizationWindowSeconds"), "30");
        assert_eq!(get(V2, ".metadata.annotations"), "", "kubectl {v}: annotations stored");

        // Validation through v1 is the v2 strategy's, with upstream's message.
        let err = k
            .fails(&[&["patch", V1, "web", "--type=merge", "-p", r#"{"spec":{"maxReplicas":0}}"#][..], &n].concat())
            .unwrap();
        assert!(err.contains(r#"The HorizontalPodAutoscaler "web" is invalid"#), "kubectl {v}: {err}");
        assert!(err.contains("spec.maxReplicas: Invalid value: 0: must be greater than 0"), "kubectl {v}: {err}");

        // A watch through v1 sees v1 objects.
        let query = format!("watch=true&resourceVersion={rv}&timeoutSeconds=1");
        let path = format!("/apis/autoscaling/v1/namespaces/{ns}/horizontalpodautoscalers?{query}");
        let events = k.ok(&["get", "--raw", &path]).unwrap();
        let events: Vec<Value> = events.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
        let modified = events.iter().find(|e| e["type"] == "MODIFIED").unwrap_or_else(|| panic!("{events:?}"));
        assert_eq!(modified["object"]["apiVersion"], "autoscaling/v1", "kubectl {v}");
        assert_eq!(modified["object"]["spec"]["targetCPUUtilizationPercentage"], 60, "kubectl {v}");
        assert_eq!(modified["object"]["spec"]["maxReplicas"], 6, "kubectl {v}");
        assert!(events.iter().all(|e| e["object"]["apiVersion"] == "autoscaling/v1"), "{events:?}");

        // The status subresource through v1: the current CPU percentage is a v2 current metric.
        k.ok(&[
            &["patch", V1, "web", "--subresource=status", "--type=merge"][..],
            &["-p", r#"{"status":{"currentCPUUtilizationPercentage":40,"currentReplicas":2,"desiredReplicas":2}}"#],
            &n,
        ]
        .concat())
            .unwrap();
        assert_eq!(get(V2, ".status.currentMetrics[0].resource.current.averageUtilization"), "40", "kubectl {v}");
        assert_eq!(get(V1, ".status.currentCPUUtilizationPercentage"), "40", "kubectl {v}");
        let table = k.ok(&[&["get", "hpa", "--no-headers"][..], &n].concat()).unwrap();
        assert!(words(&table).starts_with(&["web", "Deployment/web", "cpu:", "40%/60%", "2", "6", "2"]), "{table}");

        k.ok(&[&["delete", V1, "web"][..], &n].concat()).unwrap();
        assert_eq!(k.ok(&[&["get", "hpa", "-o", "name"][..], &n].concat()).unwrap(), "");
    }
}
