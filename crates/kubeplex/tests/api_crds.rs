//! CustomResourceDefinitions served live, driven by real kubectl 1.32 and
//! 1.37 against the real binary: discovery, custom objects with printer
//! columns, the status and scale subresources, per-cluster definitions, a
//! restart, and deletion taking the objects with it.

use kubeplex_testing::{Kubectl, KubeplexServer};

fn server() -> KubeplexServer {
    KubeplexServer::start(env!("CARGO_BIN_EXE_kubeplex")).expect("start kubeplex server")
}

const CRONTAB_CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names:
    plural: crontabs
    singular: crontab
    kind: CronTab
    shortNames: [ct]
    categories: [all]
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
    additionalPrinterColumns:
    - name: Spec
      type: string
      jsonPath: .spec.cronSpec
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    - name: Image
      type: string
      priority: 1
      jsonPath: .spec.image
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
  - name: v1beta1
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
"#;

/// The same CRD name as another team defines it.
const TEAM_CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Cluster
  names:
    plural: crontabs
    kind: CronTab
  versions:
  - name: v2
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
"#;

fn crontab(name: &str, replicas: u32) -> String {
    format!(
        "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata:\n  name: {name}\nspec:\n  cronSpec: \"*/5 * * * *\"\n  image: my-cron:{replicas}\n  replicas: {replicas}\nstatus:\n  replicas: 99\n"
    )
}

fn create(k: &Kubectl, manifest: &str) {
    k.ok_with_input(&["create", "-f", "-", "--validate=false"], Some(manifest)).unwrap();
}

fn wait_established(k: &Kubectl, crd: &str) {
    let out = k.ok(&["wait", "--for", "condition=established", &format!("crd/{crd}"), "--timeout=30s"]).unwrap();
    assert!(out.contains("condition met"), "{out}");
}

#[test]
fn crd_lifecycle_with_each_kubectl() {
    let server = server();
    let k32 = Kubectl::v1_32(server.kubeconfig()).unwrap();
    let k37 = Kubectl::v1_37(server.kubeconfig()).unwrap();
    for k in [&k32, &k37] {
        create(k, CRONTAB_CRD);
        wait_established(k, "crontabs.stable.example.com");
        let crd = k.ok(&["get", "crd", "crontabs.stable.example.com", "-o", "json"]).unwrap();
        let crd: serde_json::Value = serde_json::from_str(&crd).unwrap();
        assert_eq!(crd["status"]["acceptedNames"]["listKind"], "CronTabList");
        assert_eq!(crd["status"]["storedVersions"], serde_json::json!(["v1"]));
        assert!(crd["metadata"].get("finalizers").is_none(), "{crd}");

        let crds = k.ok(&["get", "crd"]).unwrap();
        assert_eq!(crds.lines().next().unwrap().split_whitespace().collect::<Vec<_>>(), ["NAME", "CREATED", "AT"]);
        let described = k.ok(&["describe", "crd", "crontabs.stable.example.com"]).unwrap();
        assert!(described.contains("Accepted Names:") && described.contains("Established"), "{described}");

        let resources = k.ok(&["api-resources", "--api-group=stable.example.com"]).unwrap();
        assert!(
            resources.contains("crontabs") && resources.contains("ct") && resources.contains("CronTab"),
            "{resources}"
        );

        create(k, &crontab("nightly", 2));
        create(k, &crontab("hourly", 3));
        let table = k.ok(&["get", "ct"]).unwrap();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[0].split_whitespace().collect::<Vec<_>>(), ["NAME", "SPEC", "REPLICAS", "AGE"], "{table}");
        assert!(
            lines[1].starts_with("hourly") && lines[1].contains("*/5 * * * *") && lines[1].contains(" 3 "),
            "{table}"
        );
        let wide = k.ok(&["get", "crontabs.stable.example.com", "-o", "wide"]).unwrap();
        assert!(wide.lines().next().unwrap().contains("IMAGE") && wide.contains("my-cron:2"), "{wide}");
        // The other served version, with the default Age column.
        let beta = k.ok(&["get", "crontabs.v1beta1.stable.example.com"]).unwrap();
        assert_eq!(beta.lines().next().unwrap().split_whitespace().collect::<Vec<_>>(), ["NAME", "AGE"], "{beta}");
        // Objects are stored in the storage version and served in each.
        let beta_object = crontab("beta", 1).replace("stable.example.com/v1", "stable.example.com/v1beta1");
        create(k, &beta_object);
        assert_eq!(k.ok(&["get", "ct", "beta", "-o", "jsonpath={.apiVersion}"]).unwrap(), "stable.example.com/v1");
        let served = k.ok(&["get", "crontabs.v1beta1.stable.example.com", "nightly", "-o", "jsonpath={.apiVersion}"]);
        assert_eq!(served.unwrap(), "stable.example.com/v1beta1");
        k.ok(&["delete", "ct", "beta"]).unwrap();
        // `all` includes the category.
        let all = k.ok(&["get", "all", "-o", "name"]).unwrap();
        assert!(all.contains("crontab.stable.example.com/nightly"), "{all}");

        // The status subresource: a create cannot set status; /status can.
        assert_eq!(k.ok(&["get", "ct", "nightly", "-o", "jsonpath={.status}"]).unwrap(), "");
        k.ok(&["patch", "ct", "nightly", "--subresource=status", "--type=merge", "-p", r#"{"status":{"replicas":2}}"#])
            .unwrap();
        // Scale.
        k.ok(&["scale", "ct/nightly", "--replicas=5"]).unwrap();
        assert_eq!(k.ok(&["get", "ct", "nightly", "-o", "jsonpath={.spec.replicas}"]).unwrap(), "5");
        assert_eq!(k.ok(&["get", "ct", "nightly", "-o", "jsonpath={.status.replicas}"]).unwrap(), "2");
        assert_eq!(k.ok(&["get", "ct", "nightly", "-o", "jsonpath={.metadata.generation}"]).unwrap(), "2");
        // Patches: merge works, strategic merge is 415 as upstream.
        k.ok(&["patch", "ct", "hourly", "--type=merge", "-p", r#"{"spec":{"image":"other"}}"#]).unwrap();
        let err = k.fails(&["patch", "ct", "hourly", "-p", r#"{"spec":{"image":"x"}}"#]).unwrap();
        assert!(
            err.contains("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"),
            "{err}"
        );
        let described = k.ok(&["describe", "ct", "hourly"]).unwrap();
        assert!(
            described.contains("Name:") && described.contains("hourly") && described.contains("Cron Spec:"),
            "{described}"
        );

        // Deleting the CRD takes its objects with it.
        k.ok(&["delete", "crd", "crontabs.stable.example.com", "--timeout=60s"]).unwrap();
        let err = k.fails(&["get", "crontabs.stable.example.com"]).unwrap();
        assert!(err.contains("the server doesn't have a resource type"), "{err}");
        create(k, CRONTAB_CRD);
        wait_established(k, "crontabs.stable.example.com");
        let out = k.run(&["get", "ct"], None).unwrap();
        assert!(String::from_utf8_lossy(&out.stderr).contains("No resources found"), "{out:?}");
        k.ok(&["delete", "crd", "crontabs.stable.example.com"]).unwrap();
    }
}

#[test]
fn one_crd_name_two_clusters_and_a_restart() {
    let mut server = server();
    let root = Kubectl::v1_37(server.kubeconfig()).unwrap();
    let lc = "apiVersion: kubeplex.io/v1alpha1\nkind: LogicalCluster\nmetadata:\n  name: team-b\n";
    create(&root, lc);
    let team = Kubectl::v1_32(server.kubeconfig_for_cluster("team-b").unwrap()).unwrap();

    create(&root, CRONTAB_CRD);
    // The same CRD name in team-b: another version, cluster-scoped, no columns.
    let other = TEAM_CRD;
    create(&team, other);
    wait_established(&root, "crontabs.stable.example.com");
    wait_established(&team, "crontabs.stable.example.com");

    create(&root, &crontab("in-root", 1));
    let cluster_scoped = crontab("in-team", 4).replace("stable.example.com/v1", "stable.example.com/v2");
    create(&team, &cluster_scoped);
    let err = root.fails(&["get", "crontabs.v2.stable.example.com"]).unwrap();
    assert!(err.contains("the server doesn't have a resource type"), "{err}");
    assert_eq!(
        team.ok(&["get", "crontabs.v2.stable.example.com", "-o", "name"]).unwrap().trim(),
        "crontab.stable.example.com/in-team"
    );
    let err = team.fails(&["get", "crontabs.stable.example.com", "in-root"]).unwrap();
    assert!(err.contains(r#"crontabs.stable.example.com "in-root" not found"#), "{err}");
    assert_eq!(root.ok(&["get", "ct", "-o", "name"]).unwrap().trim(), "crontab.stable.example.com/in-root");
    // Cluster-scoped in team-b.
    let discovery = team.ok(&["api-resources", "--api-group=stable.example.com", "--namespaced=false"]).unwrap();
    assert!(discovery.contains("crontabs"), "{discovery}");

    server.restart().unwrap();
    assert_eq!(root.ok(&["get", "ct", "in-root", "-o", "jsonpath={.spec.replicas}"]).unwrap(), "1");
    assert_eq!(
        team.ok(&["get", "crontabs.v2.stable.example.com", "in-team", "-o", "jsonpath={.spec.replicas}"]).unwrap(),
        "4"
    );

    // Deleting team-b's CRD leaves root's alone.
    team.ok(&["delete", "crd", "crontabs.stable.example.com"]).unwrap();
    assert_eq!(root.ok(&["get", "ct", "-o", "name"]).unwrap().trim(), "crontab.stable.example.com/in-root");
    // A CRD in a cluster being deleted goes with it.
    create(&team, other);
    wait_established(&team, "crontabs.stable.example.com");
    create(&team, &cluster_scoped);
    root.ok(&["delete", "logicalcluster", "team-b", "--timeout=60s"]).unwrap();
    create(&root, lc);
    let listed = team.ok(&["get", "crd", "-o", "name"]).unwrap();
    assert_eq!(listed.trim(), "", "{listed}");
}

#[test]
fn invalid_definitions_and_terminating_rules() {
    let server = server();
    let k = Kubectl::v1_37(server.kubeconfig()).unwrap();
    let bad = CRONTAB_CRD
        .replace("name: crontabs.stable.example.com", "name: crontab.stable.example.com")
        .replace("scope: Namespaced", "scope: Global");
    let err = k.fails_with_input(&["create", "-f", "-", "--validate=false"], Some(&bad)).unwrap();
    assert!(err.contains(r#"The CustomResourceDefinition "crontab.stable.example.com" is invalid"#), "{err}");
    assert!(
        err.contains(
            r#"metadata.name: Invalid value: "crontab.stable.example.com": must be spec.names.plural+"."+spec.group"#
        ),
        "{err}"
    );
    assert!(
        err.contains(r#"spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced""#),
        "{err}"
    );

    // Two CRDs of one group asking for the same kind: the second's names are not accepted.
    create(&k, CRONTAB_CRD);
    let clash = CRONTAB_CRD
        .replace("crontabs.stable.example.com", "timers.stable.example.com")
        .replace("plural: crontabs", "plural: timers")
        .replace("singular: crontab", "singular: timer")
        .replace("shortNames: [ct]", "shortNames: [tm]");
    create(&k, &clash);
    let out = k
        .ok(&["wait", "--for=condition=NamesAccepted=false", "crd/timers.stable.example.com", "--timeout=30s"])
        .unwrap();
    assert!(out.contains("condition met"), "{out}");
    let reason = k
        .ok(&[
            "get",
            "crd",
            "timers.stable.example.com",
            "-o",
            r#"jsonpath={.status.conditions[?(@.type=="NamesAccepted")].reason}"#,
        ])
        .unwrap();
    assert_eq!(reason, "KindConflict");
}
