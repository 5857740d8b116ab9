//! Printers of cluster-level kinds: storage.k8s.io/v1 (StorageClass,
//! CSIDriver, CSINode, VolumeAttachment), scheduling.k8s.io/v1
//! PriorityClass, node.k8s.io/v1 RuntimeClass, admissionregistration.k8s.io/v1
//! (webhook configurations, ValidatingAdmissionPolicy and its binding),
//! certificates.k8s.io/v1 CertificateSigningRequest and resource.k8s.io/v1
//! (DeviceClass, ResourceClaim, ResourceClaimTemplate, ResourceSlice), as
//! `pkg/printers/internalversion` renders them for the API server.

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::{AGE, Column, NAME, Row, age, col, name};
use crate::table::duration::human_duration;
use crate::table::json::{get, int_at, list_at, opt_int_at, str_at};

/// The kinds whose upstream printer marks a second column with format `name`
/// (VolumeAttachment's `Attacher`).
#[cfg(test)]
pub(super) const SECOND_NAME_COLUMN_KINDS: &[(&str, &str)] = &[("storage.k8s.io", "VolumeAttachment")];

const STORAGE_CLASS_PROVISIONER: &str = "provisioner indicates the type of the provisioner.";
const STORAGE_CLASS_RECLAIM_POLICY: &str = "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete.";
const STORAGE_CLASS_VOLUME_BINDING_MODE: &str = "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature.";
const STORAGE_CLASS_ALLOW_VOLUME_EXPANSION: &str =
    "allowVolumeExpansion shows whether the storage class allow volume expand.";
const VOLUME_ATTACHMENT_ATTACHER: &str = "attacher indicates the name of the volume driver that MUST handle this request. This is the name returned by GetPluginName().";
const VOLUME_ATTACHMENT_PV: &str = "persistentVolumeName represents the name of the persistent volume to attach.";
const VOLUME_ATTACHMENT_NODE: &str = "nodeName represents the node that the volume should be attached to.";
const VOLUME_ATTACHMENT_ATTACHED: &str = "attached indicates the volume is successfully attached. This field must only be set by the entity completing the attach operation, i.e. the external-attacher.";
const CSI_DRIVER_ATTACH_REQUIRED: &str = "attachRequired indicates this CSI volume driver requires an attach operation (because it implements the CSI ControllerPublishVolume() method), and that the Kubernetes attach detach controller should call the attach volume interface which checks the volumeattachment status and waits until the volume is attached before proceeding to mounting. The CSI external-attacher coordinates with CSI volume driver and updates the volumeattachment status when the attach operation is complete. If the value is specified to false, the attach operation will be skipped. Otherwise the attach operation will be called.\n\nThis field is immutable.";
const CSI_DRIVER_POD_INFO_ON_MOUNT: &str = "podInfoOnMount indicates this CSI volume driver requires additional pod information (like podName, podUID, etc.) during mount operations, if set to true. If set to false, pod information will not be passed on mount. Default is false.\n\nThe CSI driver specifies podInfoOnMount as part of driver deployment. If true, Kubelet will pass pod information as VolumeContext in the CSI NodePublishVolume() calls. The CSI driver is responsible for parsing and validating the information passed in as VolumeContext.\n\nThe following VolumeContext will be passed if podInfoOnMount is set to true. This list might grow, but the prefix will be used. \"csi.storage.k8s.io/pod.name\": pod.Name \"csi.storage.k8s.io/pod.namespace\": pod.Namespace \"csi.storage.k8s.io/pod.uid\": string(pod.UID) \"csi.storage.k8s.io/ephemeral\": \"true\" if the volume is an ephemeral inline volume\n                                defined by a CSIVolumeSource, otherwise \"false\"\n\n\"csi.storage.k8s.io/ephemeral\" is a new feature in Kubernetes 1.16. It is only required for drivers which support both the \"Persistent\" and \"Ephemeral\" VolumeLifecycleMode. Other drivers can leave pod info disabled and/or ignore this field. As Kubernetes 1.15 doesn't support this field, drivers can only support one mode when deployed on such a cluster and the deployment determines which mode that is, for example via a command line parameter of the driver.\n\nThis field was immutable in Kubernetes < 1.29 and now is mutable.";
const CSI_DRIVER_STORAGE_CAPACITY: &str = "storageCapacity indicates that the CSI volume driver wants pod scheduling to consider the storage capacity that the driver deployment will report by creating CSIStorageCapacity objects with capacity information, if set to true.\n\nThe check can be enabled immediately when deploying a driver. In that case, provisioning new volumes with late binding will pause until the driver deployment has published some suitable CSIStorageCapacity object.\n\nAlternatively, the driver can be deployed with the field unset or false and it can be flipped later when storage capacity information has been published.\n\nThis field was immutable in Kubernetes <= 1.22 and now is mutable.";
const CSI_DRIVER_TOKEN_REQUESTS: &str = "tokenRequests indicates the CSI driver needs pods' service account tokens it is mounting volume for to do necessary authentication. Kubelet will pass the tokens in VolumeContext in the CSI NodePublishVolume calls. The CSI driver should parse and validate the following VolumeContext: \"csi.storage.k8s.io/serviceAccount.tokens\": {\n  \"<audience>\": {\n    \"token\": <token>,\n    \"expirationTimestamp\": <expiration timestamp in RFC3339>,\n  },\n  ...\n}\n\nNote: Audience in each TokenRequest should be different and at most one token is empty string. To receive a new token after expiry, RequiresRepublish can be used to trigger NodePublishVolume periodically.";
const CSI_DRIVER_REQUIRES_REPUBLISH: &str = "requiresRepublish indicates the CSI driver wants `NodePublishVolume` being periodically called to reflect any possible change in the mounted volume. This field defaults to false.\n\nNote: After a successful initial NodePublishVolume call, subsequent calls to NodePublishVolume should only update the contents of the volume. New mount points will not be seen by a running container.";
const CSI_DRIVER_VOLUME_LIFECYCLE_MODES: &str = "volumeLifecycleModes defines what kind of volumes this CSI volume driver supports. The default if the list is empty is \"Persistent\", which is the usage defined by the CSI specification and implemented in Kubernetes via the usual PV/PVC mechanism.\n\nThe other mode is \"Ephemeral\". In this mode, volumes are defined inline inside the pod spec with CSIVolumeSource and their lifecycle is tied to the lifecycle of that pod. A driver has to be aware of this because it is only going to get a NodePublishVolume call for such a volume.\n\nFor more information about implementing this mode, see https://kubernetes-csi.github.io/docs/ephemeral-local-volumes.html A driver can support one or more of these modes and more modes may be added in the future.\n\nThis field is beta. This field is immutable.";
const PRIORITY_CLASS_VALUE: &str = "value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.";
const PRIORITY_CLASS_GLOBAL_DEFAULT: &str = "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority.";
const PRIORITY_CLASS_PREEMPTION_POLICY: &str = "preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.";
const CSR_SIGNER_NAME: &str = "Requested signer for the request. It is a qualified name in the form: `scope-hostname.io/name`. If empty, it will be defaulted:\n 1. If it's a kubelet client certificate, it is assigned\n    \"kubernetes.io/kube-apiserver-client-kubelet\".\n 2. If it's a kubelet serving certificate, it is assigned\n    \"kubernetes.io/kubelet-serving\".\n 3. Otherwise, it is assigned \"kubernetes.io/legacy-unknown\".\nDistribution of trust for signers happens out of band. You can select on this field using `spec.signerName`.";
const CSR_REQUEST: &str = "Base64-encoded PKCS#10 CSR data";
const CSR_EXPIRATION_SECONDS: &str = "expirationSeconds is the requested duration of validity of the issued certificate. The certificate signer may issue a certificate with a different validity duration so a client must check the delta between the notBefore and and notAfter fields in the issued certificate to determine the actual duration.\n\nThe v1.22+ in-tree implementations of the well-known Kubernetes signers will honor this field as long as the requested duration is not greater than the maximum duration they will honor per the --cluster-signing-duration CLI flag to the Kubernetes controller manager.\n\nCertificate signers may not honor this field for various reasons:\n\n  1. Old signer that is unaware of the field (such as the in-tree\n     implementations prior to v1.22)\n  2. Signer whose configured maximum is shorter than the requested duration\n  3. Signer whose configured minimum is longer than the requested duration\n\nThe minimum valid value for expirationSeconds is 600, i.e. 10 minutes.";
const CSR_CONDITIONS: &str = "Conditions applied to the request, such as approval or denial.";
const RESOURCE_SLICE_NODE_NAME: &str = "NodeName identifies the node which provides the resources in this pool. A field selector can be used to list only ResourceSlice objects belonging to a certain node.\n\nThis field can be used to limit access from nodes to ResourceSlices with the same node name. It also indicates to autoscalers that adding new nodes of the same type as some old node might also make new resources available.\n\nExactly one of NodeName, NodeSelector, AllNodes, and PerDeviceNodeSelection must be set. This field is immutable.";
const RESOURCE_SLICE_DRIVER: &str = "Driver identifies the DRA driver providing the capacity information. A field selector can be used to list only ResourceSlice objects with a certain driver name.\n\nMust be a DNS subdomain and should end with a DNS domain owned by the vendor of the driver. It should use only lower case characters. This field is immutable.";
const RESOURCE_POOL_NAME: &str = "Name is used to identify the pool. For node-local devices, this is often the node name, but this is not required.\n\nIt must not be longer than 253 characters and must consist of one or more DNS sub-domains separated by slashes. This field is immutable.";
const WEBHOOKS: &str = "Webhooks indicates the number of webhooks registered in this configuration";

/// A boolean pointer's value, `default` when unset.
fn bool_or(obj: &Value, path: &[&str], default: bool) -> Value {
    Value::from(get(obj, path).and_then(Value::as_bool).unwrap_or(default))
}

/// A string field, "" when unset.
fn string(obj: &Value, path: &[&str]) -> Value {
    Value::from(str_at(obj, path))
}

// ---------------------------------------------------------------- storage

pub(super) const STORAGE_CLASS_COLUMNS: &[Column] = &[
    NAME,
    col("Provisioner", "string", STORAGE_CLASS_PROVISIONER),
    col("ReclaimPolicy", "string", STORAGE_CLASS_RECLAIM_POLICY),
    col("VolumeBindingMode", "string", STORAGE_CLASS_VOLUME_BINDING_MODE),
    col("AllowVolumeExpansion", "string", STORAGE_CLASS_ALLOW_VOLUME_EXPANSION),
    AGE,
];

/// `storageutil.IsDefaultAnnotation`.
fn is_default_class(obj: &Value) -> bool {
    ["storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class"]
        .iter()
        .any(|key| str_at(obj, &["metadata", "annotations", key]) == "true")
}

/// Name (` (default)` for the default class), provisioner, reclaim policy
/// (Delete) and binding mode (Immediate) as defaulted, expansion, Age.
pub(super) fn storage_class(obj: &Value, now: Timestamp) -> Row {
    let mut class_name = str_at(obj, &["metadata", "name"]).to_owned();
    if is_default_class(obj) {
        class_name.push_str(" (default)");
    }
    let or = |path: &[&str], default: &'static str| -> Value {
        Value::from(get(obj, path).and_then(Value::as_str).unwrap_or(default))
    };
    Row::new(vec![
        Value::from(class_name),
        string(obj, &["provisioner"]),
        or(&["reclaimPolicy"], "Delete"),
        or(&["volumeBindingMode"], "Immediate"),
        bool_or(obj, &["allowVolumeExpansion"], false),
        age(obj, now),
    ])
}

pub(super) const CSI_DRIVER_COLUMNS: &[Column] = &[
    NAME,
    col("AttachRequired", "boolean", CSI_DRIVER_ATTACH_REQUIRED),
    col("PodInfoOnMount", "boolean", CSI_DRIVER_POD_INFO_ON_MOUNT),
    col("StorageCapacity", "boolean", CSI_DRIVER_STORAGE_CAPACITY),
    col("TokenRequests", "string", CSI_DRIVER_TOKEN_REQUESTS),
    col("RequiresRepublish", "boolean", CSI_DRIVER_REQUIRES_REPUBLISH),
    col("Modes", "string", CSI_DRIVER_VOLUME_LIFECYCLE_MODES),
    AGE,
];

pub(super) fn csi_driver(obj: &Value, now: Timestamp) -> Row {
    let spec = get(obj, &["spec"]).unwrap_or(&Value::Null);
    let token_requests = match get(spec, &["tokenRequests"]).and_then(Value::as_array) {
        None => "<unset>".to_owned(),
        Some(list) => list.iter().map(|t| str_at(t, &["audience"])).collect::<Vec<_>>().join(","),
    };
    let modes: Vec<&str> = list_at(spec, &["volumeLifecycleModes"]).iter().filter_map(Value::as_str).collect();
    let modes = if modes.is_empty() { "<none>".to_owned() } else { modes.join(",") };
    Row::new(vec![
        name(obj),
        bool_or(spec, &["attachRequired"], true),
        bool_or(spec, &["podInfoOnMount"], false),
        bool_or(spec, &["storageCapacity"], false),
        Value::from(token_requests),
        bool_or(spec, &["requiresRepublish"], false),
        Value::from(modes),
        age(obj, now),
    ])
}

pub(super) const CSI_NODE_COLUMNS: &[Column] =
    &[NAME, col("Drivers", "integer", "Drivers indicates the number of CSI drivers registered on the node"), AGE];

pub(super) fn csi_node(obj: &Value, now: Timestamp) -> Row {
    Row::new(vec![name(obj), Value::from(list_at(obj, &["spec", "drivers"]).len()), age(obj, now)])
}

pub(super) const VOLUME_ATTACHMENT_COLUMNS: &[Column] = &[
    NAME,
    Column { name: "Attacher", type_: "string", format: "name", description: VOLUME_ATTACHMENT_ATTACHER, priority: 0 },
    col("PV", "string", VOLUME_ATTACHMENT_PV),
    col("Node", "string", VOLUME_ATTACHMENT_NODE),
    col("Attached", "boolean", VOLUME_ATTACHMENT_ATTACHED),
    AGE,
];

pub(super) fn volume_attachment(obj: &Value, now: Timestamp) -> Row {
    Row::new(vec![
        name(obj),
        string(obj, &["spec", "attacher"]),
        string(obj, &["spec", "source", "persistentVolumeName"]),
        string(obj, &["spec", "nodeName"]),
        bool_or(obj, &["status", "attached"], false),
        age(obj, now),
    ])
}

// ------------------------------------------------------ scheduling, node

pub(super) const PRIORITY_CLASS_COLUMNS: &[Column] = &[
    NAME,
    col("Value", "integer", PRIORITY_CLASS_VALUE),
    col("Global-Default", "boolean", PRIORITY_CLASS_GLOBAL_DEFAULT),
    AGE,
    col("PreemptionPolicy", "string", PRIORITY_CLASS_PREEMPTION_POLICY),
];

pub(super) fn priority_class(obj: &Value, now: Timestamp) -> Row {
    Row::new(vec![
        name(obj),
        Value::from(int_at(obj, &["value"])),
        bool_or(obj, &["globalDefault"], false),
        age(obj, now),
        string(obj, &["preemptionPolicy"]),
    ])
}

/// The Handler column's description is `ObjectMeta`'s doc of a field it does
/// not have: empty.
pub(super) const RUNTIME_CLASS_COLUMNS: &[Column] = &[NAME, col("Handler", "string", ""), AGE];

pub(super) fn runtime_class(obj: &Value, now: Timestamp) -> Row {
    Row::new(vec![name(obj), string(obj, &["handler"]), age(obj, now)])
}

// ------------------------------------------------------------- admission

pub(super) const WEBHOOK_CONFIGURATION_COLUMNS: &[Column] = &[NAME, col("Webhooks", "integer", WEBHOOKS), AGE];

pub(super) fn webhook_configuration(obj: &Value, now: Timestamp) -> Row {
    Row::new(vec![name(obj), Value::from(list_at(obj, &["webhooks"]).len()), age(obj, now)])
}

pub(super) const VALIDATING_ADMISSION_POLICY_COLUMNS: &[Column] = &[
    NAME,
    col("Validations", "integer", "Validations indicates the number of validation rules defined in this configuration"),
    col("ParamKind", "string", "ParamKind specifies the kind of resources used to parameterize this policy"),
    AGE,
];

pub(super) fn validating_admission_policy(obj: &Value, now: Timestamp) -> Row {
    let param_kind = match get(obj, &["spec", "paramKind"]) {
        None => "<unset>".to_owned(),
        Some(p) => format!("{}/{}", str_at(p, &["apiVersion"]), str_at(p, &["kind"])),
    };
    Row::new(vec![
        name(obj),
        Value::from(list_at(obj, &["spec", "validations"]).len()),
        Value::from(param_kind),
        age(obj, now),
    ])
}

pub(super) const VALIDATING_ADMISSION_POLICY_BINDING_COLUMNS: &[Column] = &[
    NAME,
    col("PolicyName", "string", "PolicyName indicates the policy definition which the policy binding binded to"),
    col("ParamRef", "string", "ParamRef indicates the param resource which sets the configration param"),
    AGE,
];

/// The generated `String()` of a `metav1.LabelSelector` (gogo protobuf form).
fn label_selector_go_string(selector: &Value) -> String {
    let mut labels: Vec<(&str, &str)> = crate::table::json::string_map(selector, &["matchLabels"]);
    labels.sort();
    let labels: String = labels.iter().map(|(k, v)| format!("{k}: {v},")).collect();
    let expressions: String = list_at(selector, &["matchExpressions"])
        .iter()
        .map(|e| {
            let values: Vec<&str> = list_at(e, &["values"]).iter().filter_map(Value::as_str).collect();
            format!(
                "LabelSelectorRequirement{{Key:{},Operator:{},Values:[{}],}},",
                str_at(e, &["key"]),
                str_at(e, &["operator"]),
                values.join(" ")
            )
        })
        .collect();
    format!(
        "&LabelSelector{{MatchLabels:map[string]string{{{labels}}},MatchExpressions:[]LabelSelectorRequirement{{{expressions}}},}}"
    )
}

/// Name, policy, the parameters (`namespace/name`, `*/name`, the selector,
/// or `<unset>`), Age.
pub(super) fn validating_admission_policy_binding(obj: &Value, now: Timestamp) -> Row {
    let param = match get(obj, &["spec", "paramRef"]) {
        None => "<unset>".to_owned(),
        Some(p) => {
            let param_name = str_at(p, &["name"]);
            let namespace = str_at(p, &["namespace"]);
            if !param_name.is_empty() {
                if namespace.is_empty() { format!("*/{param_name}") } else { format!("{namespace}/{param_name}") }
            } else if let Some(selector) = get(p, &["selector"]) {
                label_selector_go_string(selector)
            } else {
                "<unset>".to_owned()
            }
        }
    };
    Row::new(vec![name(obj), string(obj, &["spec", "policyName"]), Value::from(param), age(obj, now)])
}

// ----------------------------------------------------------- certificates

pub(super) const CERTIFICATE_SIGNING_REQUEST_COLUMNS: &[Column] = &[
    NAME,
    AGE,
    col("SignerName", "string", CSR_SIGNER_NAME),
    col("Requestor", "string", CSR_REQUEST),
    col("RequestedDuration", "string", CSR_EXPIRATION_SECONDS),
    col("Condition", "string", CSR_CONDITIONS),
];

/// `extractCSRStatus`: Denied, else Approved, else Pending; then `,Failed`
/// and `,Issued`.
fn csr_condition(obj: &Value) -> String {
    let types: Vec<&str> = list_at(obj, &["status", "conditions"]).iter().map(|c| str_at(c, &["type"])).collect();
    let mut status = if types.contains(&"Denied") {
        "Denied".to_owned()
    } else if types.contains(&"Approved") {
        "Approved".to_owned()
    } else {
        "Pending".to_owned()
    };
    if types.contains(&"Failed") {
        status.push_str(",Failed");
    }
    if !str_at(obj, &["status", "certificate"]).is_empty() {
        status.push_str(",Issued");
    }
    status
}

/// Name, Age, signer (`<none>`), the requesting user, the requested
/// duration (`<none>`), the condition.
pub(super) fn certificate_signing_request(obj: &Value, now: Timestamp) -> Row {
    let signer = match str_at(obj, &["spec", "signerName"]) {
        "" => "<none>",
        signer => signer,
    };
    let duration = match opt_int_at(obj, &["spec", "expirationSeconds"]) {
        None => "<none>".to_owned(),
        Some(secs) => human_duration(SignedDuration::from_secs(secs)),
    };
    Row::new(vec![
        name(obj),
        age(obj, now),
        Value::from(signer),
        string(obj, &["spec", "username"]),
        Value::from(duration),
        Value::from(csr_condition(obj)),
    ])
}

// ----------------------------------------------------------------- resource

/// DeviceClass and ResourceClaimTemplate: Name and Age.
pub(super) const NAME_AGE_COLUMNS: &[Column] = &[NAME, AGE];

pub(super) fn name_age(obj: &Value, now: Timestamp) -> Row {
    Row::new(vec![name(obj), age(obj, now)])
}

pub(super) const RESOURCE_CLAIM_COLUMNS: &[Column] =
    &[NAME, col("State", "string", "A summary of the current state (allocated, pending, reserved, etc.)."), AGE];

/// `resourceClaimState`: `deleted`, `pending` or `allocated[,reserved]`.
fn resource_claim_state(obj: &Value) -> String {
    let deleted = get(obj, &["metadata", "deletionTimestamp"]).is_some();
    let mut states = Vec::new();
    if deleted {
        states.push("deleted");
    }
    if get(obj, &["status", "allocation"]).is_none() {
        if !deleted {
            states.push("pending");
        }
    } else {
        states.push("allocated");
        if !list_at(obj, &["status", "reservedFor"]).is_empty() {
            states.push("reserved");
        }
    }
    states.join(",")
}

pub(super) fn resource_claim(obj: &Value, now: Timestamp) -> Row {
    Row::new(vec![name(obj), Value::from(resource_claim_state(obj)), age(obj, now)])
}

pub(super) const RESOURCE_SLICE_COLUMNS: &[Column] = &[
    NAME,
    col("Node", "string", RESOURCE_SLICE_NODE_NAME),
    col("Driver", "string", RESOURCE_SLICE_DRIVER),
    col("Pool", "string", RESOURCE_POOL_NAME),
    AGE,
];

pub(super) fn resource_slice(obj: &Value, now: Timestamp) -> Row {
    Row::new(vec![
        name(obj),
        string(obj, &["spec", "nodeName"]),
        string(obj, &["spec", "driver"]),
        string(obj, &["spec", "pool", "name"]),
        age(obj, now),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2025-06-01T12:00:00Z".parse().unwrap()
    }

    /// The kinds of these printers (and of networking.rs and rbac.rs) each
    /// have their printer, with a cell per column.
    #[test]
    fn every_kind_here_has_its_printer() {
        let kinds = [
            ("networking.k8s.io", "networkpolicies"),
            ("networking.k8s.io", "ingresses"),
            ("networking.k8s.io", "ingressclasses"),
            ("rbac.authorization.k8s.io", "rolebindings"),
            ("rbac.authorization.k8s.io", "clusterrolebindings"),
            ("storage.k8s.io", "storageclasses"),
            ("storage.k8s.io", "csidrivers"),
            ("storage.k8s.io", "csinodes"),
            ("storage.k8s.io", "volumeattachments"),
            ("scheduling.k8s.io", "priorityclasses"),
            ("node.k8s.io", "runtimeclasses"),
            ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"),
            ("admissionregistration.k8s.io", "validatingwebhookconfigurations"),
            ("admissionregistration.k8s.io", "validatingadmissionpolicies"),
            ("admissionregistration.k8s.io", "validatingadmissionpolicybindings"),
            ("certificates.k8s.io", "certificatesigningrequests"),
            ("resource.k8s.io", "deviceclasses"),
            ("resource.k8s.io", "resourceclaims"),
            ("resource.k8s.io", "resourceclaimtemplates"),
            ("resource.k8s.io", "resourceslices"),
        ];
        for (group, plural) in kinds {
            let def = kubeplex_core::resource::find(kubeplex_core::resource::BUILTIN, group, "v1", plural).unwrap();
            let printer = super::super::printer_for(def);
            assert!(!printer.generic, "{plural}");
            assert_eq!((printer.row)(&json!({}), now()).cells.len(), printer.columns.len(), "{plural}");
            assert_eq!((printer.row)(&Value::Null, now()).cells.len(), printer.columns.len(), "{plural}");
        }
        for plural in ["roles", "clusterroles"] {
            let def = kubeplex_core::resource::find(
                kubeplex_core::resource::BUILTIN,
                "rbac.authorization.k8s.io",
                "v1",
                plural,
            )
            .unwrap();
            assert!(super::super::printer_for(def).generic, "{plural}");
        }
    }

    #[test]
    fn storage_cells() {
        let sc = json!({"metadata": {"name": "fast", "creationTimestamp": "2025-06-01T11:00:00Z",
                                     "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
                        "provisioner": "example.com/fast", "allowVolumeExpansion": true});
        assert_eq!(
            storage_class(&sc, now()).cells,
            vec![
                json!("fast (default)"),
                json!("example.com/fast"),
                json!("Delete"),
                json!("Immediate"),
                json!(true),
                json!("60m")
            ]
        );
        let driver = json!({"metadata": {"name": "csi.example.com"},
                            "spec": {"tokenRequests": [{"audience": "a"}, {"audience": "b"}],
                                     "volumeLifecycleModes": ["Persistent", "Ephemeral"]}});
        assert_eq!(
            csi_driver(&driver, now()).cells[1..7],
            [json!(true), json!(false), json!(false), json!("a,b"), json!(false), json!("Persistent,Ephemeral")]
        );
        let bare = csi_driver(&json!({"metadata": {"name": "d"}}), now());
        assert_eq!(bare.cells[4], json!("<unset>"));
        assert_eq!(bare.cells[6], json!("<none>"));
        let node = json!({"metadata": {"name": "n1"}, "spec": {"drivers": [{"name": "a"}, {"name": "b"}]}});
        assert_eq!(csi_node(&node, now()).cells[1], json!(2));
        let va = json!({"metadata": {"name": "va"}, "spec": {"attacher": "csi.example.com", "nodeName": "n1",
                         "source": {"persistentVolumeName": "pv1"}}, "status": {"attached": true}});
        assert_eq!(
            volume_attachment(&va, now()).cells[1..5],
            [json!("csi.example.com"), json!("pv1"), json!("n1"), json!(true)]
        );
    }

    #[test]
    fn scheduling_node_admission_cells() {
        let pc = json!({"metadata": {"name": "high"}, "value": 1000, "globalDefault": true,
                        "preemptionPolicy": "Never"});
        assert_eq!(
            priority_class(&pc, now()).cells[1..],
            [json!(1000), json!(true), json!("<unknown>"), json!("Never")]
        );
        let rc = json!({"metadata": {"name": "gvisor"}, "handler": "runsc"});
        assert_eq!(runtime_class(&rc, now()).cells[1], json!("runsc"));
        let hooks = json!({"metadata": {"name": "w"}, "webhooks": [{}, {}]});
        assert_eq!(webhook_configuration(&hooks, now()).cells[1], json!(2));
        let vap = json!({"metadata": {"name": "p"}, "spec": {"validations": [{"expression": "true"}],
                          "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"}}});
        assert_eq!(validating_admission_policy(&vap, now()).cells[1..3], [json!(1), json!("v1/ConfigMap")]);
        let binding = |param: Value| {
            validating_admission_policy_binding(
                &json!({"metadata": {"name": "b"}, "spec": {"policyName": "p", "paramRef": param}}),
                now(),
            )
            .cells[2]
                .clone()
        };
        assert_eq!(binding(json!({"name": "x", "namespace": "ns"})), json!("ns/x"));
        assert_eq!(binding(json!({"name": "x"})), json!("*/x"));
        assert_eq!(
            binding(json!({"selector": {"matchLabels": {"b": "2", "a": "1"},
                                        "matchExpressions": [{"key": "k", "operator": "In", "values": ["x", "y"]}]}})),
            json!(
                "&LabelSelector{MatchLabels:map[string]string{a: 1,b: 2,},MatchExpressions:[]LabelSelectorRequirement{LabelSelectorRequirement{Key:k,Operator:In,Values:[x y],},},}"
            )
        );
        assert_eq!(binding(Value::Null), json!("<unset>"));
    }

    #[test]
    fn csr_cells() {
        let csr = json!({"metadata": {"name": "jane", "creationTimestamp": "2025-06-01T11:59:00Z"},
                         "spec": {"signerName": "kubernetes.io/kube-apiserver-client", "username": "admin",
                                  "expirationSeconds": 86400},
                         "status": {"conditions": [{"type": "Approved", "status": "True"}], "certificate": "Zm9v"}});
        assert_eq!(
            certificate_signing_request(&csr, now()).cells,
            vec![
                json!("jane"),
                json!("60s"),
                json!("kubernetes.io/kube-apiserver-client"),
                json!("admin"),
                json!("24h"),
                json!("Approved,Issued")
            ]
        );
        let pending = certificate_signing_request(&json!({"metadata": {"name": "p"}}), now());
        assert_eq!(pending.cells[2..], [json!("<none>"), json!(""), json!("<none>"), json!("Pending")]);
        let denied = json!({"status": {"conditions": [{"type": "Approved"}, {"type": "Denied"}, {"type": "Failed"}]}});
        assert_eq!(csr_condition(&denied), "Denied,Failed");
    }

    #[test]
    fn resource_cells() {
        let claim = json!({"metadata": {"name": "gpu"}, "status": {"allocation": {}, "reservedFor": [{"uid": "1"}]}});
        assert_eq!(resource_claim(&claim, now()).cells[1], json!("allocated,reserved"));
        assert_eq!(resource_claim(&json!({"metadata": {"name": "c"}}), now()).cells[1], json!("pending"));
        let deleted = json!({"metadata": {"name": "c", "deletionTimestamp": "2025-06-01T11:00:00Z"}});
        assert_eq!(resource_claim(&deleted, now()).cells[1], json!("deleted"));
        let slice = json!({"metadata": {"name": "s"}, "spec": {"nodeName": "n1", "driver": "gpu.example.com",
                                                                "pool": {"name": "n1", "generation": 1, "resourceSliceCount": 1}}});
        assert_eq!(resource_slice(&slice, now()).cells[1..4], [json!("n1"), json!("gpu.example.com"), json!("n1")]);
        assert_eq!(name_age(&json!({"metadata": {"name": "gpu"}}), now()).cells.len(), 2);
    }
}
