//! The cluster-level built-in kinds driven by real kubectl 1.32 and 1.37:
//! networking.k8s.io (NetworkPolicy, Ingress, IngressClass), RBAC, storage,
//! scheduling, node, admission registration, certificates and
//! resource.k8s.io. Each kind is created from `tests/manifests/cluster/`,
//! listed with upstream's columns (`-o wide` too), described and deleted;
//! then the `kubectl create` generators, `kubectl certificate approve` and
//! upstream's 422 texts.

use std::path::{Path, PathBuf};

use kubeplex_testing::{Kubectl, KubeplexServer};

fn server() -> KubeplexServer {
    KubeplexServer::start(env!("CARGO_BIN_EXE_kubeplex")).expect("start kubeplex server")
}

fn manifests() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/manifests/cluster")
}

/// One kind as `kubectl get` prints it: the row's name (with the kind
/// prefix kubectl adds when a listing mixes kinds), the header without and
/// with `-o wide`, and texts its row must contain.
struct Expected {
    row: &'static str,
    header: &'static str,
    wide: &'static str,
    cells: &'static [&'static str],
}

const EXPECTED: &[Expected] = &[
    Expected {
        row: "networkpolicy.networking.k8s.io/web-policy",
        header: "NAME POD-SELECTOR AGE",
        wide: "NAME POD-SELECTOR AGE",
        cells: &["app=web"],
    },
    Expected {
        row: "ingress.networking.k8s.io/web",
        header: "NAME CLASS HOSTS ADDRESS PORTS AGE",
        wide: "NAME CLASS HOSTS ADDRESS PORTS AGE",
        cells: &["nginx", "web.example.com", "80, 443"],
    },
    Expected {
        row: "ingressclass.networking.k8s.io/nginx",
        header: "NAME CONTROLLER PARAMETERS AGE",
        wide: "NAME CONTROLLER PARAMETERS AGE",
        cells: &["k8s.io/ingress-nginx", "IngressParameters.k8s.example.com/external-lb"],
    },
    Expected {
        row: "role.rbac.authorization.k8s.io/pod-reader",
        header: "NAME CREATED AT",
        wide: "NAME CREATED AT",
        cells: &["T"],
    },
    Expected {
        row: "clusterrole.rbac.authorization.k8s.io/health-reader",
        header: "NAME CREATED AT",
        wide: "NAME CREATED AT",
        cells: &["Z"],
    },
    Expected {
        row: "rolebinding.rbac.authorization.k8s.io/read-pods",
        header: "NAME ROLE AGE",
        wide: "NAME ROLE AGE USERS GROUPS SERVICEACCOUNTS",
        cells: &["Role/pod-reader"],
    },
    Expected {
        row: "clusterrolebinding.rbac.authorization.k8s.io/read-health",
        header: "NAME ROLE AGE",
        wide: "NAME ROLE AGE USERS GROUPS SERVICEACCOUNTS",
        cells: &["ClusterRole/health-reader"],
    },
    Expected {
        row: "storageclass.storage.k8s.io/fast (default)",
        header: "NAME PROVISIONER RECLAIMPOLICY VOLUMEBINDINGMODE ALLOWVOLUMEEXPANSION AGE",
        wide: "NAME PROVISIONER RECLAIMPOLICY VOLUMEBINDINGMODE ALLOWVOLUMEEXPANSION AGE",
        cells: &["csi.example.com", "Delete", "Immediate", "true"],
    },
    Expected {
        row: "csidriver.storage.k8s.io/csi.example.com",
        header: "NAME ATTACHREQUIRED PODINFOONMOUNT STORAGECAPACITY TOKENREQUESTS REQUIRESREPUBLISH MODES AGE",
        wide: "NAME ATTACHREQUIRED PODINFOONMOUNT STORAGECAPACITY TOKENREQUESTS REQUIRESREPUBLISH MODES AGE",
        cells: &["true", "<unset>", "Persistent"],
    },
    Expected {
        row: "csinode.storage.k8s.io/node-1",
        header: "NAME DRIVERS AGE",
        wide: "NAME DRIVERS AGE",
        cells: &[" 1 "],
    },
    Expected {
        row: "volumeattachment.storage.k8s.io/attach-pv1",
        header: "NAME ATTACHER PV NODE ATTACHED AGE",
        wide: "NAME ATTACHER PV NODE ATTACHED AGE",
        cells: &["csi.example.com", "pv1", "node-1", "false"],
    },
    Expected {
        row: "priorityclass.scheduling.k8s.io/batch-high",
        header: "NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY",
        wide: "NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY",
        cells: &["100000", "false", "PreemptLowerPriority"],
    },
    Expected {
        row: "runtimeclass.node.k8s.io/gvisor",
        header: "NAME HANDLER AGE",
        wide: "NAME HANDLER AGE",
        cells: &["runsc"],
    },
    Expected {
        row: "mutatingwebhookconfiguration.admissionregistration.k8s.io/inject-sidecar",
        header: "NAME WEBHOOKS AGE",
        wide: "NAME WEBHOOKS AGE",
        cells: &[" 1 "],
    },
    Expected {
        row: "validatingwebhookconfiguration.admissionregistration.k8s.io/check-labels",
        header: "NAME WEBHOOKS AGE",
        wide: "NAME WEBHOOKS AGE",
        cells: &[" 2 "],
    },
    Expected {
        row: "validatingadmissionpolicy.admissionregistration.k8s.io/max-replicas",
        header: "NAME VALIDATIONS PARAMKIND AGE",
        wide: "NAME VALIDATIONS PARAMKIND AGE",
        cells: &[" 1 ", "v1/ConfigMap"],
    },
    Expected {
        row: "validatingadmissionpolicybinding.admissionregistration.k8s.io/max-replicas-binding",
        header: "NAME POLICYNAME PARAMREF AGE",
        wide: "NAME POLICYNAME PARAMREF AGE",
        cells: &["max-replicas", "default/limits"],
    },
    Expected {
        row: "certificatesigningrequest.certificates.k8s.io/jane",
        header: "NAME AGE SIGNERNAME REQUESTOR REQUESTEDDURATION CONDITION",
        wide: "NAME AGE SIGNERNAME REQUESTOR REQUESTEDDURATION CONDITION",
        cells: &["kubernetes.io/kube-apiserver-client", "24h", "Pending"],
    },
    Expected { row: "deviceclass.resource.k8s.io/gpu.example.com", header: "NAME AGE", wide: "NAME AGE", cells: &[] },
    Expected {
        row: "resourceclaim.resource.k8s.io/one-gpu",
        header: "NAME STATE AGE",
        wide: "NAME STATE AGE",
        cells: &["pending"],
    },
    Expected {
        row: "resourceclaimtemplate.resource.k8s.io/gpu-template",
        header: "NAME AGE",
        wide: "NAME AGE",
        cells: &[],
    },
    Expected {
        row: "resourceslice.resource.k8s.io/node-1-gpu.example.com",
        header: "NAME NODE DRIVER POOL AGE",
        wide: "NAME NODE DRIVER POOL AGE",
        cells: &["node-1", "gpu.example.com"],
    },
];

/// The tables of a multi-kind `kubectl get`: (header with single spaces,
/// rows), split at blank lines.
fn tables(output: &str) -> Vec<(String, Vec<String>)> {
    output
        .split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let mut lines = block.lines().filter(|l| !l.trim().is_empty());
            let header = lines.next().unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ");
            (header, lines.map(str::to_owned).collect())
        })
        .collect()
}

fn check_tables(k: &Kubectl, output: &str, wide: bool) {
    let tables = tables(output);
    for expected in EXPECTED {
        let (header, row) = tables
            .iter()
            .find_map(|(h, rows)| rows.iter().find(|r| r.starts_with(expected.row)).map(|r| (h, r)))
            .unwrap_or_else(|| panic!("kubectl {}: no row {}:\n{output}", k.version, expected.row));
        let want = if wide { expected.wide } else { expected.header };
        assert_eq!(header, want, "kubectl {} {}", k.version, expected.row);
        let padded = format!("{row} ");
        for cell in expected.cells {
            assert!(padded.contains(cell), "kubectl {} {}: {cell:?} not in {row:?}", k.version, expected.row);
        }
    }
}

#[test]
fn every_cluster_kind_with_kubectl() {
    let server = server();
    let dir = manifests();
    let dir = dir.to_str().expect("utf-8 path");
    for k in [Kubectl::v1_32(server.kubeconfig()).unwrap(), Kubectl::v1_37(server.kubeconfig()).unwrap()] {
        let created = k.ok(&["create", "-f", dir, "--validate=false"]).unwrap();
        assert_eq!(created.lines().count(), EXPECTED.len(), "kubectl {}:\n{created}", k.version);
        assert!(created.contains("certificatesigningrequest.certificates.k8s.io/jane created"), "{created}");
        check_tables(&k, &k.ok(&["get", "-f", dir]).unwrap(), false);
        check_tables(&k, &k.ok(&["get", "-f", dir, "-o", "wide"]).unwrap(), true);
        // Server-side defaults as kube-apiserver fills them in.
        let json = k.ok(&["get", "-f", dir, "-o", "json"]).unwrap();
        let list: serde_json::Value = serde_json::from_str(&json).unwrap();
        let item = |kind: &str| {
            list["items"].as_array().unwrap().iter().find(|i| i["kind"] == kind).cloned().unwrap_or_default()
        };
        assert_eq!(item("NetworkPolicy")["spec"]["policyTypes"], serde_json::json!(["Ingress"]));
        assert_eq!(item("NetworkPolicy")["spec"]["ingress"][0]["ports"][0]["protocol"], "TCP");
        assert_eq!(item("IngressClass")["spec"]["parameters"]["scope"], "Cluster");
        assert_eq!(item("Ingress")["status"], serde_json::json!({"loadBalancer": {}}));
        assert_eq!(item("CSIDriver")["spec"]["attachRequired"], true);
        assert_eq!(item("VolumeAttachment")["status"], serde_json::json!({"attached": false}));
        assert_eq!(item("MutatingWebhookConfiguration")["webhooks"][0]["timeoutSeconds"], 10);
        assert_eq!(item("MutatingWebhookConfiguration")["webhooks"][0]["reinvocationPolicy"], "Never");
        assert_eq!(item("MutatingWebhookConfiguration")["webhooks"][0]["clientConfig"]["service"]["port"], 443);
        assert_eq!(item("ValidatingAdmissionPolicy")["spec"]["failurePolicy"], "Fail");
        assert_eq!(item("ResourceClaim")["spec"]["devices"]["requests"][0]["exactly"]["allocationMode"], "ExactCount");
        assert_eq!(item("CertificateSigningRequest")["status"], serde_json::json!({}));

        let described = k.ok(&["describe", "-f", dir]).unwrap();
        let described = described.split_whitespace().collect::<Vec<_>>().join(" ");
        for text in [
            "Name: web-policy",
            "Name: fast",
            "IsDefaultClass: Yes",
            "Provisioner: csi.example.com",
            "Name: pod-reader",
            "Role: Kind: Role Name: pod-reader",
            "Name: jane",
            "Signer: kubernetes.io/kube-apiserver-client",
            "Name: batch-high",
            "Name: gpu.example.com",
            "Name: node-1-gpu.example.com",
        ] {
            assert!(described.contains(text), "kubectl {} describe lacks {text:?}:\n{described}", k.version);
        }
        let deleted = k.ok(&["delete", "-f", dir]).unwrap();
        assert_eq!(deleted.lines().count(), EXPECTED.len(), "kubectl {}:\n{deleted}", k.version);
        let err = k.fails(&["get", "-f", dir]).unwrap();
        assert!(err.contains("NotFound"), "{err}");
    }
}

#[test]
fn generators_approval_and_upstream_errors() {
    let server = server();
    for k in [Kubectl::v1_32(server.kubeconfig()).unwrap(), Kubectl::v1_37(server.kubeconfig()).unwrap()] {
        let v = k.version.replace('.', "-");
        let (role, crole, rb, crb, pc, ing) = (
            format!("reader-{v}"),
            format!("viewer-{v}"),
            format!("read-{v}"),
            format!("view-{v}"),
            format!("high-{v}"),
            format!("web-{v}"),
        );
        // The generators send protobuf bodies.
        for (args, expected) in [
            (
                vec!["create", "role", &role, "--verb=get", "--verb=list", "--resource=pods"],
                format!("role.rbac.authorization.k8s.io/{role} created"),
            ),
            (
                vec!["create", "clusterrole", &crole, "--verb=get", "--resource=nodes", "--resource-name=n1"],
                format!("clusterrole.rbac.authorization.k8s.io/{crole} created"),
            ),
            (
                vec!["create", "rolebinding", &rb, "--role", &role, "--user=jane", "--serviceaccount=default:builder"],
                format!("rolebinding.rbac.authorization.k8s.io/{rb} created"),
            ),
            (
                vec!["create", "clusterrolebinding", &crb, "--clusterrole", &crole, "--group=devs"],
                format!("clusterrolebinding.rbac.authorization.k8s.io/{crb} created"),
            ),
            (
                vec!["create", "priorityclass", &pc, "--value=1000", "--preemption-policy=Never"],
                format!("priorityclass.scheduling.k8s.io/{pc} created"),
            ),
            (
                vec!["create", "ingress", &ing, "--class=nginx", "--rule=web.example.com/=web:80,tls=web-tls"],
                format!("ingress.networking.k8s.io/{ing} created"),
            ),
        ] {
            assert_eq!(k.ok(&args).unwrap().trim(), expected, "kubectl {}", k.version);
        }
        let wide = k.ok(&["get", "rolebinding", &rb, "-o", "wide"]).unwrap();
        let row = wide.lines().nth(1).unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(row.starts_with(&format!("{rb} Role/{role} ")), "{wide}");
        assert!(row.ends_with(" jane default/builder"), "{wide}");
        assert_eq!(
            k.ok(&["get", "clusterrole", &crole, "-o", "jsonpath={.rules[0].resourceNames}"]).unwrap(),
            "[\"n1\"]"
        );
        assert_eq!(
            k.ok(&["get", "clusterrolebinding", &crb, "-o", "jsonpath={.subjects[0].apiGroup}"]).unwrap(),
            "rbac.authorization.k8s.io"
        );
        let ingress = k.ok(&["get", "ingress", &ing]).unwrap();
        assert!(ingress.contains("web.example.com") && ingress.contains("80, 443"), "{ingress}");
        let priority = k.ok(&["get", "priorityclass", &pc]).unwrap();
        assert!(priority.split_whitespace().collect::<Vec<_>>().ends_with(&["Never"]), "{priority}");

        // roleRef may not change.
        let err =
            k.fails(&["patch", "rolebinding", &rb, "--type=merge", "-p", r#"{"roleRef":{"name":"other"}}"#]).unwrap();
        assert!(
            err.contains(&format!(
                "The RoleBinding \"{rb}\" is invalid: roleRef: Invalid value: {{\"APIGroup\":\"rbac.authorization.k8s.io\",\"Kind\":\"Role\",\"Name\":\"other\"}}: cannot change roleRef"
            )),
            "{err}"
        );

        // A CSR approved by kubectl: /approval takes the condition.
        let csr = std::fs::read_to_string(manifests().join("certificatesigningrequest.yaml"))
            .unwrap()
            .replace("name: jane", &format!("name: jane-{v}"));
        k.ok_with_input(&["create", "-f", "-", "--validate=false"], Some(&csr)).unwrap();
        // The requester is recorded from the client certificate.
        let requester = k.ok(&["get", "csr", &format!("jane-{v}"), "-o", "jsonpath={.spec.username} {.spec.groups}"]);
        assert_eq!(requester.unwrap(), r#"kubeplex-admin ["system:masters","system:authenticated"]"#);
        assert_eq!(
            k.ok(&["certificate", "approve", &format!("jane-{v}")]).unwrap().trim(),
            format!("certificatesigningrequest.certificates.k8s.io/jane-{v} approved")
        );
        let listed =
            k.ok(&["get", "csr", "--field-selector", "spec.signerName=kubernetes.io/kube-apiserver-client"]).unwrap();
        let row = listed.lines().find(|l| l.starts_with(&format!("jane-{v} "))).unwrap_or_default();
        assert!(row.trim_end().ends_with("Approved"), "{listed}");
        assert_eq!(
            k.ok(&["get", "csr", &format!("jane-{v}"), "-o", "jsonpath={.status.conditions[0].reason}"]).unwrap(),
            "KubectlApprove"
        );
    }

    // Invalid objects get upstream's 422 texts.
    let k = Kubectl::v1_37(server.kubeconfig()).unwrap();
    let cases = [
        (
            "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: system-mine}\nvalue: 10\n",
            "The PriorityClass \"system-mine\" is invalid: metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class",
        ),
        (
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: no-verbs}\nrules:\n- apiGroups: [\"\"]\n  resources: [pods]\n",
            "The Role \"no-verbs\" is invalid: rules[0].verbs: Required value: verbs must contain at least one value",
        ),
        (
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: urls}\nrules:\n- nonResourceURLs: [/healthz]\n  verbs: [get]\n",
            "The Role \"urls\" is invalid: rules[0].nonResourceURLs: Invalid value: [\"/healthz\"]: namespaced rules cannot apply to non-resource URLs",
        ),
        (
            "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: bad}\nprovisioner: example.com/x\nvolumeBindingMode: Later\n",
            "The StorageClass \"bad\" is invalid: volumeBindingMode: Unsupported value: \"Later\": supported values: \"Immediate\", \"WaitForFirstConsumer\"",
        ),
    ];
    for (manifest, expected) in cases {
        let err = k.fails_with_input(&["create", "-f", "-", "--validate=false"], Some(manifest)).unwrap();
        assert!(err.contains(expected), "{err}");
    }
}
