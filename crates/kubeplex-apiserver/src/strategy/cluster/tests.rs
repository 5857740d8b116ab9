//! The cluster-level kinds through the public strategy API: defaulted
//! shapes, upstream's error texts, the CSR subresource split.

use base64::Engine;
use kubeplex_core::resource::{BUILTIN, ResourceDef, find};
use serde_json::{Value, json};

use super::super::{
    prepare_for_create, prepare_for_subresource_update, prepare_for_update, validate_create,
    validate_subresource_update, validate_update,
};

fn def(group: &str, plural: &str) -> &'static ResourceDef {
    find(BUILTIN, group, "v1", plural).expect("built-in resource")
}

fn created(group: &str, plural: &str, mut object: Value) -> Value {
    let d = def(group, plural);
    object["metadata"]["uid"] = json!("00000000-0000-0000-0000-000000000001");
    if object.get("spec").is_some() {
        object["metadata"]["generation"] = json!(1);
    }
    if d.namespaced && object["metadata"]["namespace"].is_null() {
        object["metadata"]["namespace"] = json!("default");
    }
    prepare_for_create(d, &mut object);
    object
}

fn create_error(group: &str, plural: &str, object: Value) -> String {
    let object = created(group, plural, object);
    validate_create(def(group, plural), &object).expect_err("invalid").message
}

fn update_error(group: &str, plural: &str, old: &Value, mut new: Value) -> String {
    let d = def(group, plural);
    prepare_for_update(d, &mut new, old);
    validate_update(d, &new, old).expect_err("invalid").message
}

#[test]
fn storage_classes() {
    let sc = created(
        "storage.k8s.io",
        "storageclasses",
        json!({"metadata": {"name": "fast"}, "provisioner": "example.com/fast"}),
    );
    assert_eq!(sc["reclaimPolicy"], "Delete");
    assert_eq!(sc["volumeBindingMode"], "Immediate");
    assert!(sc["metadata"].get("generation").is_none());
    assert!(validate_create(def("storage.k8s.io", "storageclasses"), &sc).is_ok());
    assert_eq!(
        create_error(
            "storage.k8s.io",
            "storageclasses",
            json!({"metadata": {"name": "x"}, "reclaimPolicy": "Recycle"})
        ),
        "StorageClass.storage.k8s.io \"x\" is invalid: [provisioner: Required value, reclaimPolicy: Unsupported value: \"Recycle\": supported values: \"Delete\", \"Retain\"]"
    );
    let mut changed = sc.clone();
    changed["provisioner"] = json!("example.com/slow");
    changed["parameters"] = json!({"type": "ssd"});
    assert_eq!(
        update_error("storage.k8s.io", "storageclasses", &sc, changed),
        "StorageClass.storage.k8s.io \"fast\" is invalid: [parameters: Forbidden: updates to parameters are forbidden., provisioner: Forbidden: updates to provisioner are forbidden.]"
    );
}

#[test]
fn csi_drivers_nodes_and_attachments() {
    let driver = created("storage.k8s.io", "csidrivers", json!({"metadata": {"name": "csi.example.com"}, "spec": {}}));
    assert_eq!(
        driver["spec"],
        json!({"attachRequired": true, "podInfoOnMount": false, "storageCapacity": false,
               "fsGroupPolicy": "ReadWriteOnceWithFSType", "volumeLifecycleModes": ["Persistent"],
               "requiresRepublish": false, "seLinuxMount": false})
    );
    assert!(validate_create(def("storage.k8s.io", "csidrivers"), &driver).is_ok());
    let mut flipped = driver.clone();
    flipped["spec"]["attachRequired"] = json!(false);
    assert_eq!(
        update_error("storage.k8s.io", "csidrivers", &driver, flipped),
        "CSIDriver.storage.k8s.io \"csi.example.com\" is invalid: spec.attachedRequired: Invalid value: false: field is immutable"
    );
    assert_eq!(
        create_error(
            "storage.k8s.io",
            "csinodes",
            json!({"metadata": {"name": "n1"}, "spec": {"drivers": [{"name": "a.example.com", "nodeID": ""}]}})
        ),
        "CSINode.storage.k8s.io \"n1\" is invalid: spec.drivers[0].nodeID: Required value"
    );
    let va = created(
        "storage.k8s.io",
        "volumeattachments",
        json!({"metadata": {"name": "va"}, "spec": {"attacher": "csi.example.com", "nodeName": "n1",
               "source": {"persistentVolumeName": "pv1"}}, "status": {"attached": true}}),
    );
    assert_eq!(va["status"], json!({"attached": false}));
    assert!(va["metadata"].get("generation").is_none());
    assert!(validate_create(def("storage.k8s.io", "volumeattachments"), &va).is_ok());
    let mut moved = va.clone();
    moved["spec"]["nodeName"] = json!("n2");
    assert_eq!(
        update_error("storage.k8s.io", "volumeattachments", &va, moved),
        "VolumeAttachment.storage.k8s.io \"va\" is invalid: spec: Invalid value: {\"Attacher\":\"csi.example.com\",\"Source\":{\"PersistentVolumeName\":\"pv1\",\"InlineVolumeSpec\":null},\"NodeName\":\"n2\"}: field is immutable"
    );
    assert_eq!(
        create_error(
            "storage.k8s.io",
            "volumeattachments",
            json!({"metadata": {"name": "v"}, "spec": {"attacher": "a", "nodeName": "n"}})
        ),
        "VolumeAttachment.storage.k8s.io \"v\" is invalid: spec.source: Required value: must specify exactly one of inlineVolumeSpec and persistentVolumeName"
    );
}

#[test]
fn priority_and_runtime_classes() {
    let pc = created("scheduling.k8s.io", "priorityclasses", json!({"metadata": {"name": "high"}, "value": 1000}));
    assert_eq!(pc["preemptionPolicy"], "PreemptLowerPriority");
    assert!(pc.get("globalDefault").is_none());
    assert_eq!(pc["metadata"]["generation"], 1);
    assert!(validate_create(def("scheduling.k8s.io", "priorityclasses"), &pc).is_ok());
    assert_eq!(
        create_error("scheduling.k8s.io", "priorityclasses", json!({"metadata": {"name": "system-mine"}, "value": 1})),
        "PriorityClass.scheduling.k8s.io \"system-mine\" is invalid: metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class"
    );
    assert!(
        validate_create(
            def("scheduling.k8s.io", "priorityclasses"),
            &created(
                "scheduling.k8s.io",
                "priorityclasses",
                json!({"metadata": {"name": "system-node-critical"}, "value": 2000001000})
            )
        )
        .is_ok()
    );
    assert_eq!(
        create_error(
            "scheduling.k8s.io",
            "priorityclasses",
            json!({"metadata": {"name": "huge"}, "value": 2000000000})
        ),
        "PriorityClass.scheduling.k8s.io \"huge\" is invalid: value: Forbidden: maximum allowed value of a user defined priority is 1000000000"
    );
    let mut raised = pc.clone();
    raised["value"] = json!(2000);
    assert_eq!(
        update_error("scheduling.k8s.io", "priorityclasses", &pc, raised),
        "PriorityClass.scheduling.k8s.io \"high\" is invalid: value: Forbidden: may not be changed in an update."
    );
    let rc = created("node.k8s.io", "runtimeclasses", json!({"metadata": {"name": "gvisor"}, "handler": "runsc"}));
    assert!(validate_create(def("node.k8s.io", "runtimeclasses"), &rc).is_ok());
    let mut other = rc.clone();
    other["handler"] = json!("kata");
    assert_eq!(
        update_error("node.k8s.io", "runtimeclasses", &rc, other),
        "RuntimeClass.node.k8s.io \"gvisor\" is invalid: handler: Invalid value: \"kata\": field is immutable"
    );
    assert!(create_error("node.k8s.io", "runtimeclasses", json!({"metadata": {"name": "x"}})).starts_with(
        "RuntimeClass.node.k8s.io \"x\" is invalid: handler: Invalid value: \"\": a lowercase RFC 1123 label"
    ));
}

/// A PEM certificate request for `cn`, base64 as `spec.request` holds it.
fn csr_request(cn: &str) -> String {
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name.push(rcgen::DnType::CommonName, cn);
    let pem = params.serialize_request(&key).expect("csr").pem().expect("pem");
    base64::engine::general_purpose::STANDARD.encode(pem)
}

fn csr() -> Value {
    created(
        "certificates.k8s.io",
        "certificatesigningrequests",
        json!({"metadata": {"name": "jane"}, "spec": {"request": csr_request("jane"),
               "signerName": "kubernetes.io/kube-apiserver-client", "usages": ["client auth"],
               "username": "mallory"},
               "status": {"conditions": [{"type": "Approved", "status": "True"}]}}),
    )
}

#[test]
fn csr_create() {
    let d = def("certificates.k8s.io", "certificatesigningrequests");
    let object = csr();
    assert_eq!(object["status"], json!({}));
    assert!(object["spec"].get("username").is_none());
    assert!(object["metadata"].get("generation").is_none());
    assert!(validate_create(d, &object).is_ok(), "{:?}", validate_create(d, &object));
    let bad_pem = base64::engine::general_purpose::STANDARD.encode("not a pem");
    assert_eq!(
        create_error(
            "certificates.k8s.io",
            "certificatesigningrequests",
            json!({"metadata": {"name": "x"}, "spec": {"request": bad_pem, "signerName": "example.com", "usages": ["sign"]}})
        ),
        format!(
            "CertificateSigningRequest.certificates.k8s.io \"x\" is invalid: [spec.request: Invalid value: \"{bad_pem}\": PEM block type must be CERTIFICATE REQUEST, spec.usages[0]: Unsupported value: \"sign\": supported values: \"any\", \"cert sign\", \"client auth\", \"code signing\", \"content commitment\", \"crl sign\", \"data encipherment\", \"decipher only\", \"digital signature\", \"email protection\", \"encipher only\", \"ipsec end system\", \"ipsec tunnel\", \"ipsec user\", \"key agreement\", \"key encipherment\", \"microsoft sgc\", \"netscape sgc\", \"ocsp signing\", \"s/mime\", \"server auth\", \"signing\", \"timestamping\", spec.signerName: Invalid value: \"example.com\": must be a fully qualified domain and path of the form 'example.com/signer-name']"
        )
    );
    assert_eq!(
        create_error(
            "certificates.k8s.io",
            "certificatesigningrequests",
            json!({"metadata": {"name": "y"}, "spec": {"request": csr_request("y"), "usages": ["client auth"]}})
        ),
        "CertificateSigningRequest.certificates.k8s.io \"y\" is invalid: spec.signerName: Required value"
    );
    let mut undecodable = json!({"metadata": {"name": "z"}, "spec": {"request": "!!!"}});
    prepare_for_create(d, &mut undecodable);
    let err = validate_create(d, &undecodable).expect_err("bad base64");
    assert_eq!(err.code, 400);
    assert_eq!(
        err.message,
        "CertificateSigningRequest in version \"v1\" cannot be handled as a CertificateSigningRequest: illegal base64 data at input byte 0"
    );
}

#[test]
fn csr_requester() {
    let d = def("certificates.k8s.io", "certificatesigningrequests");
    let mut object = csr();
    super::super::set_requester(d, &mut object, "jane", &["devs".to_owned()]);
    assert_eq!(object["spec"]["username"], "jane");
    assert_eq!(object["spec"]["groups"], json!(["devs"]));
    let mut other = json!({"metadata": {"name": "x"}});
    super::super::set_requester(def("scheduling.k8s.io", "priorityclasses"), &mut other, "jane", &[]);
    assert!(other.get("spec").is_none());
}

#[test]
fn csr_subresources_split_the_object() {
    let d = def("certificates.k8s.io", "certificatesigningrequests");
    let old = csr();
    // The main resource changes neither spec nor status.
    let mut main = old.clone();
    main["spec"]["usages"] = json!(["server auth"]);
    main["metadata"]["labels"] = json!({"a": "b"});
    super::super::core::keep_status(&mut main, &old);
    prepare_for_update(d, &mut main, &old);
    assert_eq!(main["spec"], old["spec"]);
    assert!(validate_update(d, &main, &old).is_ok());
    // /approval takes only the conditions, with timestamps.
    let mut approval = old.clone();
    approval["status"] = json!({"conditions": [{"type": "Approved", "status": "True", "reason": "KubectlApprove"}],
                                "certificate": "Zm9v"});
    prepare_for_subresource_update(d, "approval", &mut approval, &old);
    assert!(approval["status"].get("certificate").is_none());
    let condition = &approval["status"]["conditions"][0];
    assert!(condition["lastUpdateTime"].is_string());
    assert!(condition["lastTransitionTime"].is_string());
    assert!(validate_subresource_update(d, "approval", &approval, &old).is_ok());
    // /status may not approve.
    let mut status = old.clone();
    status["status"] = json!({"conditions": [{"type": "Approved", "status": "True"}]});
    prepare_for_subresource_update(d, "status", &mut status, &old);
    assert_eq!(
        validate_subresource_update(d, "status", &status, &old).expect_err("no approval via status").message,
        "CertificateSigningRequest.certificates.k8s.io \"jane\" is invalid: status.conditions: Forbidden: updates may not add a condition of type \"Approved\""
    );
    // Approved and Denied exclude each other.
    let mut both = approval.clone();
    both["status"]["conditions"] =
        json!([{"type": "Approved", "status": "True"}, {"type": "Denied", "status": "True"}]);
    prepare_for_subresource_update(d, "approval", &mut both, &approval);
    assert_eq!(
        validate_subresource_update(d, "approval", &both, &approval).expect_err("both").message,
        "CertificateSigningRequest.certificates.k8s.io \"jane\" is invalid: status.conditions: Invalid value: \"Denied\": Approved and Denied conditions are mutually exclusive"
    );
}

#[test]
fn webhook_configurations_and_policies() {
    let hook = json!({"name": "check.example.com", "sideEffects": "None", "admissionReviewVersions": ["v1"],
                      "clientConfig": {"url": "https://example.com/check"}});
    let config = created(
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
        json!({"metadata": {"name": "checks"}, "webhooks": [hook.clone()]}),
    );
    assert_eq!(config["metadata"]["generation"], 1);
    assert_eq!(config["webhooks"][0]["timeoutSeconds"], 10);
    assert!(validate_create(def("admissionregistration.k8s.io", "validatingwebhookconfigurations"), &config).is_ok());
    assert_eq!(
        create_error(
            "admissionregistration.k8s.io",
            "mutatingwebhookconfigurations",
            json!({"metadata": {"name": "m"}, "webhooks": [{"name": "a.b.c", "clientConfig": {"url": "https://x"}}]})
        ),
        "MutatingWebhookConfiguration.admissionregistration.k8s.io \"m\" is invalid: [webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun, webhooks[0].admissionReviewVersions: Required value: must specify one of v1, v1beta1]"
    );
    let d = def("admissionregistration.k8s.io", "validatingwebhookconfigurations");
    let mut two = config.clone();
    two["webhooks"] = json!([hook.clone(), hook]);
    prepare_for_update(d, &mut two, &config);
    assert_eq!(two["metadata"]["generation"], 2);
    assert_eq!(
        validate_update(d, &two, &config).expect_err("duplicate").message,
        "ValidatingWebhookConfiguration.admissionregistration.k8s.io \"checks\" is invalid: webhooks[1].name: Duplicate value: \"check.example.com\""
    );
    let policy = created(
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
        json!({"metadata": {"name": "replicas"}, "spec": {"matchConstraints": {"resourceRules": [
            {"operations": ["CREATE", "UPDATE"], "apiGroups": ["apps"], "apiVersions": ["v1"], "resources": ["deployments"]}]},
            "validations": [{"expression": "object.spec.replicas <= 5"}]}}),
    );
    assert_eq!(policy["status"], json!({}));
    assert_eq!(policy["spec"]["failurePolicy"], "Fail");
    assert!(validate_create(def("admissionregistration.k8s.io", "validatingadmissionpolicies"), &policy).is_ok());
}

#[test]
fn resource_kinds() {
    let claim = created(
        "resource.k8s.io",
        "resourceclaims",
        json!({"metadata": {"name": "gpu"}, "spec": {"devices": {"requests": [{"name": "gpu", "exactly": {"deviceClassName": "gpu.example.com"}}]}},
               "status": {"reservedFor": [{"resource": "pods", "name": "p", "uid": "1"}]}}),
    );
    assert_eq!(claim["status"], json!({}));
    assert_eq!(claim["spec"]["devices"]["requests"][0]["exactly"]["count"], 1);
    assert!(validate_create(def("resource.k8s.io", "resourceclaims"), &claim).is_ok());
    let mut changed = claim.clone();
    changed["spec"]["devices"]["requests"][0]["exactly"]["count"] = json!(2);
    assert!(
        update_error("resource.k8s.io", "resourceclaims", &claim, changed)
            .starts_with("ResourceClaim.resource.k8s.io \"gpu\" is invalid: spec: Invalid value: {\"Devices\":")
    );
    let d = def("resource.k8s.io", "resourceclaims");
    let mut status = claim.clone();
    status["status"] = json!({"reservedFor": [{"resource": "pods", "name": "p", "uid": "1"}]});
    assert_eq!(
        validate_subresource_update(d, "status", &status, &claim).expect_err("no allocation").message,
        "ResourceClaim.resource.k8s.io \"gpu\" is invalid: status.reservedFor: Forbidden: may not be specified when `allocated` is not set"
    );
    assert_eq!(
        create_error(
            "resource.k8s.io",
            "resourceslices",
            json!({"metadata": {"name": "s"}, "spec": {"driver": "gpu.example.com",
            "pool": {"name": "p", "resourceSliceCount": 1}}})
        ),
        "ResourceSlice.resource.k8s.io \"s\" is invalid: spec: Required value: exactly one of `nodeName`, `nodeSelector`, `allNodes`, `perDeviceNodeSelection` is required"
    );
    let class =
        created("resource.k8s.io", "deviceclasses", json!({"metadata": {"name": "gpu.example.com"}, "spec": {}}));
    assert_eq!(class["metadata"]["generation"], 1);
    assert!(validate_create(def("resource.k8s.io", "deviceclasses"), &class).is_ok());
}
