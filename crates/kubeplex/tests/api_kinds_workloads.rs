//! The workload, volume and policy kinds of issue 4 driven by real kubectl
//! 1.32 and 1.37: created from the manifests in `manifests/workloads/`,
//! listed with upstream's columns (`-o wide` too), described and deleted;
//! `kubectl scale` on ReplicationControllers and StatefulSets, upstream's 422
//! messages, and evictions (`kubectl drain`, PodDisruptionBudgets).

mod common;

use std::path::PathBuf;

use kubeplex_testing::{Kubectl, KubeplexServer};

fn server() -> KubeplexServer {
    KubeplexServer::start(env!("CARGO_BIN_EXE_kubeplex")).expect("start kubeplex server")
}

fn manifests() -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/manifests/workloads");
    dir.to_str().expect("UTF-8 path").to_owned()
}

/// The words of a line (kubectl pads columns with spaces).
fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// The tables of a multi-kind `kubectl get`: blocks of a header line and
/// its rows, separated by blank lines.
fn tables(output: &str) -> Vec<Vec<&str>> {
    output.split("\n\n").map(|block| block.lines().filter(|l| !l.trim().is_empty()).collect()).collect()
}

/// Asserts that some table has exactly `header` and a row starting with `row`.
fn assert_table(tables: &[Vec<&str>], header: &str, row: &[&str], kubectl: &str, output: &str) {
    let found = tables.iter().find(|t| t.first().is_some_and(|h| words(h) == words(header)));
    let Some(table) = found else {
        panic!("kubectl {kubectl}: no table with header {header:?} in:\n{output}");
    };
    assert!(
        table[1..].iter().any(|r| words(r).starts_with(row)),
        "kubectl {kubectl}: no row {row:?} under {header:?} in:\n{output}"
    );
}

/// The kinds of the manifests, as `kubectl get` takes them.
const KINDS: &str = "pv,pvc,quota,limits,podtemplates,rc,sts,ds,controllerrevisions,cronjobs,hpa,pdb";

#[test]
fn workload_kinds_get_describe_delete() {
    let server = server();
    let dir = manifests();
    for k in [Kubectl::v1_32(server.kubeconfig()).unwrap(), Kubectl::v1_37(server.kubeconfig()).unwrap()] {
        let created = k.ok(&["create", "-f", &dir, "--validate=false"]).unwrap();
        assert_eq!(created.lines().count(), 12, "kubectl {}: {created}", k.version);
        // The quota's status is the quota controller's: set some by hand.
        k.ok(&[
            "patch",
            "quota",
            "demo-quota",
            "--subresource=status",
            "--type=merge",
            "-p",
            r#"{"status":{"hard":{"pods":"10","limits.memory":"4Gi"},"used":{"pods":"1"}}}"#,
        ])
        .unwrap();

        let output = k.ok(&["get", KINDS]).unwrap();
        let t = tables(&output);
        let v = k.version;
        let check = |header: &str, row: &[&str]| assert_table(&t, header, row, v, &output);
        check(
            "NAME CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM STORAGECLASS VOLUMEATTRIBUTESCLASS REASON AGE",
            &["persistentvolume/demo-pv", "1Gi", "RWO", "Retain", "Pending", "manual", "<unset>"],
        );
        check(
            "NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE",
            &["persistentvolumeclaim/demo-pvc", "Pending", "manual", "<unset>"],
        );
        check("NAME REQUEST LIMIT AGE", &["resourcequota/demo-quota", "pods:", "1/10", "limits.memory:", "0/4Gi"]);
        check("NAME CREATED AT", &["limitrange/demo-limits"]);
        check("NAME CONTAINERS IMAGES POD LABELS", &["podtemplate/demo-template", "nginx", "nginx:1.27", "app=demo"]);
        check("NAME DESIRED CURRENT READY AGE", &["replicationcontroller/demo-rc", "2", "0", "0"]);
        check("NAME READY AGE", &["statefulset.apps/demo-sts", "0/2"]);
        check(
            "NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE",
            &["daemonset.apps/demo-ds", "0", "0", "0", "0", "0", "kubernetes.io/os=linux"],
        );
        check("NAME CONTROLLER REVISION AGE", &["controllerrevision.apps/demo-rev", "<none>", "1"]);
        check(
            "NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE",
            &["cronjob.batch/demo-cron", "*/5", "*", "*", "*", "*", "<none>", "false", "0", "<none>"],
        );
        check(
            "NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE",
            &[
                "horizontalpodautoscaler.autoscaling/demo-hpa",
                "Deployment/demo",
                "cpu:",
                "<unknown>/50%",
                "1",
                "5",
                "0",
            ],
        );
        check(
            "NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE",
            &["poddisruptionbudget.policy/demo-pdb", "1", "N/A", "0"],
        );

        let output = k.ok(&["get", KINDS, "-o", "wide"]).unwrap();
        let t = tables(&output);
        let check = |header: &str, row: &[&str]| assert_table(&t, header, row, v, &output);
        check(
            "NAME CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM STORAGECLASS VOLUMEATTRIBUTESCLASS REASON AGE VOLUMEMODE",
            &["persistentvolume/demo-pv"],
        );
        check(
            "NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE VOLUMEMODE",
            &["persistentvolumeclaim/demo-pvc"],
        );
        check("NAME DESIRED CURRENT READY AGE CONTAINERS IMAGES SELECTOR", &["replicationcontroller/demo-rc"]);
        check("NAME READY AGE CONTAINERS IMAGES", &["statefulset.apps/demo-sts"]);
        check(
            "NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE CONTAINERS IMAGES SELECTOR",
            &["daemonset.apps/demo-ds"],
        );
        check(
            "NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE CONTAINERS IMAGES SELECTOR",
            &["cronjob.batch/demo-cron"],
        );
        assert!(output.contains("app=demo-rc"), "kubectl {v}: {output}");
        assert!(output.contains("Filesystem"), "kubectl {v}: {output}");

        let described = k.ok(&["describe", "-f", &dir]).unwrap();
        for expected in [
            "demo-pv",
            "demo-pvc",
            "demo-quota",
            "demo-limits",
            "demo-template",
            "demo-rc",
            "demo-sts",
            "demo-ds",
            "demo-rev",
            "demo-cron",
            "demo-hpa",
            "demo-pdb",
            "*/5 * * * *",
            "Deployment/demo",
            "nginx:1.27",
        ] {
            assert!(described.contains(expected), "kubectl {v} describe lacks {expected:?}:\n{described}");
        }

        let deleted = k.ok(&["delete", "-f", &dir]).unwrap();
        assert_eq!(deleted.lines().count(), 12, "kubectl {v}: {deleted}");
        let left = k.ok(&["get", KINDS, "-o", "name"]).unwrap();
        assert_eq!(left.trim(), "", "kubectl {v}");
    }
}

/// Applies `manifest` (YAML) with kubectl, which must succeed.
fn create(k: &Kubectl, manifest: &str) {
    k.ok_with_input(&["create", "-f", "-", "--validate=false"], Some(manifest)).unwrap();
}

#[test]
fn scale_validation_and_eviction() {
    let server = server();
    let dir = manifests();
    let k32 = Kubectl::v1_32(server.kubeconfig()).unwrap();
    let k37 = Kubectl::v1_37(server.kubeconfig()).unwrap();
    for file in ["replicationcontroller.yaml", "statefulset.yaml"] {
        k32.ok(&["create", "-f", &format!("{dir}/{file}"), "--validate=false"]).unwrap();
    }

    // kubectl scale goes through the scale subresource; the generation follows the spec.
    for (k, replicas) in [(&k32, "3"), (&k37, "4")] {
        let out = k.ok(&["scale", "rc/demo-rc", "sts/demo-sts", &format!("--replicas={replicas}")]).unwrap();
        assert!(out.contains("replicationcontroller/demo-rc scaled"), "kubectl {}: {out}", k.version);
        assert!(out.contains("statefulset.apps/demo-sts scaled"), "kubectl {}: {out}", k.version);
        for kind in ["rc", "sts"] {
            let got = k.ok(&["get", kind, "-o", "jsonpath={.items[0].spec.replicas}"]).unwrap();
            assert_eq!(got, replicas, "kubectl {} {kind}", k.version);
        }
    }
    let scale = k32.ok(&["get", "--raw", "/api/v1/namespaces/default/replicationcontrollers/demo-rc/scale"]).unwrap();
    let scale: serde_json::Value = serde_json::from_str(&scale).unwrap();
    assert_eq!(scale["spec"]["replicas"], 4);
    assert_eq!(scale["status"]["selector"], "app=demo-rc");
    assert_eq!(k32.ok(&["get", "sts", "demo-sts", "-o", "jsonpath={.metadata.generation}"]).unwrap(), "3");
    let err = k37.fails(&["scale", "sts/demo-sts", "--replicas=-2"]).unwrap();
    assert!(err.contains("must be greater than or equal to 0"), "{err}");

    // Upstream's 422 messages.
    let bad_sts = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: bad\nspec:\n  podManagementPolicy: Sometimes\n  selector:\n    matchLabels: {app: bad}\n  template:\n    metadata:\n      labels: {app: bad}\n    spec:\n      containers: [{name: c, image: nginx}]\n";
    let err = k32.fails_with_input(&["create", "-f", "-", "--validate=false"], Some(bad_sts)).unwrap();
    assert!(
        err.contains(
            "The StatefulSet \"bad\" is invalid: spec.podManagementPolicy: Invalid value: \"Sometimes\": must be 'OrderedReady' or 'Parallel'"
        ),
        "{err}"
    );
    let bad_cron = "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: bad\nspec:\n  schedule: \"61 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers: [{name: c, image: busybox}]\n";
    let err = k37.fails_with_input(&["create", "-f", "-", "--validate=false"], Some(bad_cron)).unwrap();
    assert!(
        err.contains(
            "The CronJob \"bad\" is invalid: spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61"
        ),
        "{err}"
    );
    let err =
        k32.fails(&["patch", "sts", "demo-sts", "--type=merge", "-p", r#"{"spec":{"serviceName":"other"}}"#]).unwrap();
    assert!(err.contains("updates to statefulset spec for fields other than 'replicas'"), "{err}");

    // kubectl drain evicts the pods of a node without a budget.
    let node = "apiVersion: v1\nkind: Node\nmetadata:\n  name: node-1\n";
    create(&k32, node);
    let pod = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels: {{app: guarded}}\nspec:\n  nodeName: node-1\n  containers: [{{name: c, image: nginx}}]\n"
        )
    };
    create(&k32, &pod("free"));
    let out = k32.ok(&["drain", "node-1", "--force", "--grace-period=0", "--timeout=60s"]).unwrap();
    assert!(out.contains("pod/free evicted"), "{out}");
    assert!(out.contains("node/node-1 drained"), "{out}");
    let err = k32.fails(&["get", "pod", "free"]).unwrap();
    assert!(err.contains("pods \"free\" not found"), "{err}");

    // A budget that allows no disruption: 429, with upstream's message and cause.
    create(&k32, &pod("guarded"));
    k32.ok(&[
        "patch",
        "pod",
        "guarded",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}"#,
    ])
    .unwrap();
    let pdb = "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: guard\nspec:\n  minAvailable: 1\n  selector:\n    matchLabels: {app: guarded}\n";
    create(&k32, pdb);
    let eviction =
        r#"{"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "guarded", "namespace": "default"}}"#;
    let path = "/api/v1/namespaces/default/pods/guarded/eviction";
    // Not yet observed by the disruption controller: a 429 with Retry-After
    // (which client-go would wait for and retry, so not through kubectl).
    let status = raw_post(&server, path, eviction);
    assert_eq!(status["code"], 429, "{status}");
    assert_eq!(status["message"], "Cannot evict pod as it would violate the pod's disruption budget.");
    assert_eq!(status["details"]["retryAfterSeconds"], 10, "{status}");
    assert_eq!(
        status["details"]["causes"][0]["message"],
        "The disruption budget guard is still being processed by the server.",
        "{status}"
    );
    let set_status = |status: &str| {
        k32.ok(&["patch", "pdb", "guard", "--subresource=status", "--type=merge", "-p", status]).unwrap();
    };
    set_status(
        r#"{"status":{"observedGeneration":1,"disruptionsAllowed":0,"currentHealthy":1,"desiredHealthy":1,"expectedPods":1}}"#,
    );
    let err = k37.fails_with_input(&["create", "--raw", path, "-f", "-"], Some(eviction)).unwrap();
    assert!(err.contains("Cannot evict pod as it would violate the pod's disruption budget."), "{err}");
    let status = raw_post(&server, path, eviction);
    assert_eq!(status["code"], 429, "{status}");
    assert_eq!(status["reason"], "TooManyRequests", "{status}");
    assert_eq!(status["details"]["causes"][0]["reason"], "DisruptionBudget", "{status}");
    assert_eq!(
        status["details"]["causes"][0]["message"],
        "The disruption budget guard needs 1 healthy pods and has 1 currently",
        "{status}"
    );
    assert_eq!(k32.ok(&["get", "pod", "guarded", "-o", "name"]).unwrap().trim(), "pod/guarded");

    // Once it allows one, the eviction goes through and is counted.
    set_status(r#"{"status":{"disruptionsAllowed":1,"currentHealthy":2,"expectedPods":2}}"#);
    let out = k32.ok_with_input(&["create", "--raw", path, "-f", "-"], Some(eviction)).unwrap();
    assert!(out.contains("\"status\":\"Success\""), "{out}");
    let budget = k32.ok(&["get", "pdb", "guard", "-o", "json"]).unwrap();
    let budget: serde_json::Value = serde_json::from_str(&budget).unwrap();
    assert_eq!(budget["status"]["disruptionsAllowed"], 0);
    assert!(budget["status"]["disruptedPods"]["guarded"].is_string(), "{budget}");
    // The pod is bound to a node: it terminates gracefully.
    // Its deletion time is the request's plus the grace period (30 s by
    // default); a shorter grace period moves it earlier by the difference.
    let deletion = || {
        let out = k32
            .ok(&[
                "get",
                "pod",
                "guarded",
                "-o",
                "jsonpath={.metadata.deletionTimestamp} {.metadata.deletionGracePeriodSeconds}",
            ])
            .unwrap();
        let (at, grace) = out.trim().split_once(' ').unwrap_or_else(|| panic!("{out:?}"));
        (at.parse::<jiff::Timestamp>().unwrap_or_else(|e| panic!("{at}: {e}")), grace.to_owned())
    };
    let (at, grace) = deletion();
    assert_eq!(grace, "30");
    let ahead = at.duration_since(jiff::Timestamp::now()).as_secs();
    assert!((20..=31).contains(&ahead), "deletionTimestamp {at} is {ahead} s ahead");
    k32.ok(&["delete", "pod", "guarded", "--grace-period=5", "--wait=false"]).unwrap();
    let (sooner, grace) = deletion();
    assert_eq!(grace, "5");
    assert_eq!(at.duration_since(sooner).as_secs(), 25, "{at} then {sooner}");
    k32.ok(&["delete", "pod", "guarded", "--grace-period=10", "--wait=false"]).unwrap();
    assert_eq!(deletion(), (sooner, "5".to_owned()), "a longer grace period changes nothing");

    // Two budgets for one pod are refused; a missing pod is a 404.
    create(&k32, &pod("twice"));
    k32.ok(&[
        "patch",
        "pod",
        "twice",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"phase":"Running"}}"#,
    ])
    .unwrap();
    create(&k32, &pdb.replace("name: guard", "name: guard-2"));
    let status =
        raw_post(&server, "/api/v1/namespaces/default/pods/twice/eviction", &eviction.replace("guarded", "twice"));
    assert_eq!(status["status"], "Failure", "{status}");
    assert_eq!(status["code"], 500, "{status}");
    assert_eq!(
        status["message"],
        "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
    );
    let missing = eviction.replace("guarded", "nobody");
    let err = k32
        .fails_with_input(
            &["create", "--raw", "/api/v1/namespaces/default/pods/nobody/eviction", "-f", "-"],
            Some(&missing),
        )
        .unwrap();
    assert!(err.contains("pods \"nobody\" not found"), "{err}");
}

/// POSTs `body` to `path` with kube-rs (no retries) and returns the `Status`
/// answered.
fn raw_post(server: &KubeplexServer, path: &str, body: &str) -> serde_json::Value {
    common::send_blocking(server, http::Method::POST, path, "application/json", body).body
}

/// A Deployment's status write keeps the body's annotations (how the
/// controller records `deployment.kubernetes.io/revision`) but not its
/// labels, and bumps no generation (upstream's `deploymentStatusStrategy`).
#[test]
fn deployment_status_keeps_annotations_not_labels() {
    let server = server();
    let k = Kubectl::v1_37(server.kubeconfig()).unwrap();
    k.ok(&["create", "deployment", "web", "--image=nginx"]).unwrap();
    let before = k.ok(&["get", "deployment", "web", "-o", "jsonpath={.metadata.generation}"]).unwrap();
    let patch = r#"{"metadata":{"annotations":{"deployment.kubernetes.io/revision":"7"},"labels":{"extra":"no"}},"status":{"observedGeneration":1}}"#;
    k.ok(&["patch", "deployment", "web", "--subresource=status", "--type=merge", "-p", patch]).unwrap();
    let got = k
        .ok(&[
            "get",
            "deployment",
            "web",
            "-o",
            r#"jsonpath={.metadata.annotations.deployment\.kubernetes\.io/revision} {.metadata.labels.extra} {.metadata.generation} {.status.observedGeneration}"#,
        ])
        .unwrap();
    assert_eq!(got, format!("7  {before} 1"));
}
