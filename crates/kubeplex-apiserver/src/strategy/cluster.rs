//! Cluster-level kinds: storage.k8s.io/v1 (StorageClass, CSIDriver, CSINode,
//! VolumeAttachment), scheduling.k8s.io/v1 PriorityClass, node.k8s.io/v1
//! RuntimeClass and certificates.k8s.io/v1 CertificateSigningRequest here;
//! admissionregistration.k8s.io/v1 in [`super::admission`] and
//! resource.k8s.io/v1 in [`super::dra`]. Defaults of `pkg/apis/<group>/v1`,
//! the strategies of `pkg/registry/<group>/<kind>/strategy.go` and the
//! validation of `pkg/apis/<group>/validation`, with upstream's messages.
//!
//! ```text
//!  strategy/mod.rs ─► ClusterKind ─► defaults / prepare_* / validate_*
//!                                     ├─ storage, scheduling, node, certificates (here)
//!                                     ├─ admission.rs
//!                                     └─ dra.rs
//! ```
//!
//! The CertificateSigningRequest subresources split the object as upstream:
//! the main resource changes neither spec nor status, `/status` keeps the
//! spec and the Approved/Denied conditions, `/approval` writes only
//! `status.conditions`.

use kubeplex_core::names::{
    NameValidator, is_dns1123_label, is_dns1123_subdomain, is_qualified_name, name_is_dns_subdomain,
};
use kubeplex_core::selector::{ApiLabelSelector, LabelSelectorValidationOptions, validate_api_label_selector};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::field::{
    Errs, Path, at, bool_at, duplicate, forbidden, immutable, int_at, invalid, invalid_int, invalid_json,
    invalid_rendered, list_at, map_at, not_supported, obj_path, render_ordered, required, s, set_default, sort_map,
    str_at, string_map, too_long,
};
use super::gojson::{fill_zero_values, internal_json};
use super::meta::{self, MetaRules};
use super::{admission, dra};

/// The kinds of this module and of `admission.rs` and `dra.rs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClusterKind {
    StorageClass,
    CsiDriver,
    CsiNode,
    VolumeAttachment,
    PriorityClass,
    RuntimeClass,
    MutatingWebhookConfiguration,
    ValidatingWebhookConfiguration,
    ValidatingAdmissionPolicy,
    ValidatingAdmissionPolicyBinding,
    CertificateSigningRequest,
    DeviceClass,
    ResourceClaim,
    ResourceClaimTemplate,
    ResourceSlice,
}

use ClusterKind as K;

/// The kind served at `group`/`kind`, if it is one of these.
pub(crate) fn kind_of(group: &str, kind: &str) -> Option<ClusterKind> {
    Some(match (group, kind) {
        ("storage.k8s.io", "StorageClass") => K::StorageClass,
        ("storage.k8s.io", "CSIDriver") => K::CsiDriver,
        ("storage.k8s.io", "CSINode") => K::CsiNode,
        ("storage.k8s.io", "VolumeAttachment") => K::VolumeAttachment,
        ("scheduling.k8s.io", "PriorityClass") => K::PriorityClass,
        ("node.k8s.io", "RuntimeClass") => K::RuntimeClass,
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration") => K::MutatingWebhookConfiguration,
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration") => K::ValidatingWebhookConfiguration,
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy") => K::ValidatingAdmissionPolicy,
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding") => K::ValidatingAdmissionPolicyBinding,
        ("certificates.k8s.io", "CertificateSigningRequest") => K::CertificateSigningRequest,
        ("resource.k8s.io", "DeviceClass") => K::DeviceClass,
        ("resource.k8s.io", "ResourceClaim") => K::ResourceClaim,
        ("resource.k8s.io", "ResourceClaimTemplate") => K::ResourceClaimTemplate,
        ("resource.k8s.io", "ResourceSlice") => K::ResourceSlice,
        _ => return None,
    })
}

/// `ValidateCertificateRequestName`: any name.
fn any_name(_: &str, _: bool) -> Vec<String> {
    Vec::new()
}

impl ClusterKind {
    /// The metadata name rule.
    pub(crate) fn name_validator(self) -> NameValidator {
        match self {
            K::CertificateSigningRequest => any_name,
            _ => name_is_dns_subdomain,
        }
    }

    /// Whether the kind is validated by apimachinery's `ValidateObjectMeta`
    /// (no Kubernetes finalizer-name rule) rather than core's.
    pub(crate) fn generic_finalizers(self) -> bool {
        matches!(
            self,
            K::RuntimeClass
                | K::MutatingWebhookConfiguration
                | K::ValidatingWebhookConfiguration
                | K::ValidatingAdmissionPolicy
                | K::ValidatingAdmissionPolicyBinding
        )
    }

    /// The OpenAPI definition name of the served (v1) type.
    fn type_name(self) -> &'static str {
        match self {
            K::StorageClass => "io.k8s.api.storage.v1.StorageClass",
            K::CsiDriver => "io.k8s.api.storage.v1.CSIDriver",
            K::CsiNode => "io.k8s.api.storage.v1.CSINode",
            K::VolumeAttachment => "io.k8s.api.storage.v1.VolumeAttachment",
            K::PriorityClass => "io.k8s.api.scheduling.v1.PriorityClass",
            K::RuntimeClass => "io.k8s.api.node.v1.RuntimeClass",
            K::MutatingWebhookConfiguration => "io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration",
            K::ValidatingWebhookConfiguration => "io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration",
            K::ValidatingAdmissionPolicy => "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicy",
            K::ValidatingAdmissionPolicyBinding => {
                "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBinding"
            }
            K::CertificateSigningRequest => "io.k8s.api.certificates.v1.CertificateSigningRequest",
            K::DeviceClass => "io.k8s.api.resource.v1.DeviceClass",
            K::ResourceClaim => "io.k8s.api.resource.v1.ResourceClaim",
            K::ResourceClaimTemplate => "io.k8s.api.resource.v1.ResourceClaimTemplate",
            K::ResourceSlice => "io.k8s.api.resource.v1.ResourceSlice",
        }
    }
}

// ------------------------------------------------------------- dispatch

/// The `SetDefaults_*` of the kind, then Go's always-written zero values.
pub(crate) fn defaults(kind: ClusterKind, object: &mut Value) {
    match kind {
        K::StorageClass => storage_class_defaults(object),
        K::CsiDriver => csi_driver_defaults(object),
        K::PriorityClass => {
            if let Some(obj) = object.as_object_mut() {
                set_default(obj, "preemptionPolicy", json!("PreemptLowerPriority"));
            }
        }
        K::RuntimeClass => {
            if let Some(obj) = object.as_object_mut() {
                sort_map_at(obj, &["scheduling", "nodeSelector"]);
            }
        }
        K::MutatingWebhookConfiguration | K::ValidatingWebhookConfiguration => {
            admission::webhook_defaults(object, kind == K::MutatingWebhookConfiguration)
        }
        K::ValidatingAdmissionPolicy | K::ValidatingAdmissionPolicyBinding => {
            admission::policy_defaults(object, kind == K::ValidatingAdmissionPolicy)
        }
        K::DeviceClass | K::ResourceClaim | K::ResourceClaimTemplate | K::ResourceSlice => dra::defaults(object),
        K::CsiNode | K::VolumeAttachment | K::CertificateSigningRequest => {}
    }
    fill_zero_values(object, kind.type_name());
}

fn sort_map_at(obj: &mut Map<String, Value>, path: &[&str]) {
    let Some((last, parents)) = path.split_last() else { return };
    let mut cur = obj;
    for key in parents {
        match cur.get_mut(*key).and_then(Value::as_object_mut) {
            Some(next) => cur = next,
            None => return,
        }
    }
    sort_map(cur, last);
}

fn set_generation(object: &mut Value, generation: i64) {
    if let Some(meta) = obj_path(object, &["metadata"]) {
        meta.insert("generation".into(), json!(generation));
    }
}

fn remove_generation(object: &mut Value) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("generation");
    }
}

fn set_status(object: &mut Value, status: Value) {
    if let Some(obj) = object.as_object_mut() {
        obj.insert("status".into(), status);
    }
}

/// `PrepareForCreate` (after [`defaults`]).
pub(crate) fn prepare_for_create(kind: ClusterKind, object: &mut Value) {
    match kind {
        // Upstream sets generation 1 (even without a spec).
        K::PriorityClass
        | K::CsiDriver
        | K::MutatingWebhookConfiguration
        | K::ValidatingWebhookConfiguration
        | K::ValidatingAdmissionPolicyBinding
        | K::DeviceClass
        | K::ResourceSlice => set_generation(object, 1),
        K::ValidatingAdmissionPolicy => {
            set_generation(object, 1);
            set_status(object, json!({}));
        }
        K::VolumeAttachment => {
            remove_generation(object);
            set_status(object, json!({"attached": false}));
        }
        K::ResourceClaim => {
            remove_generation(object);
            set_status(object, json!({}));
        }
        K::CertificateSigningRequest => csr_prepare_create(object),
        K::StorageClass | K::CsiNode | K::RuntimeClass | K::ResourceClaimTemplate => remove_generation(object),
    }
}

/// `PrepareForUpdate` of the main resource (the stored status is already
/// kept by the caller): generations as upstream counts them, a CSR's spec.
pub(crate) fn prepare_for_update(kind: ClusterKind, new: &mut Value, old: &Value) {
    let old_generation = int_at(old, &["metadata", "generation"]).unwrap_or(0);
    let changed = |field: &str, new: &Value| !super::field::semantic_eq(at(new, &[field]), at(old, &[field]));
    match kind {
        K::MutatingWebhookConfiguration | K::ValidatingWebhookConfiguration => {
            let generation = if changed("webhooks", new) { old_generation + 1 } else { old_generation };
            set_generation(new, generation);
        }
        K::PriorityClass => set_generation(new, old_generation),
        K::CertificateSigningRequest => {
            if let Some(obj) = new.as_object_mut() {
                match at(old, &["spec"]) {
                    Some(spec) => obj.insert("spec".into(), spec.clone()),
                    None => obj.remove("spec"),
                };
            }
        }
        K::StorageClass
        | K::CsiNode
        | K::RuntimeClass
        | K::VolumeAttachment
        | K::ResourceClaim
        | K::ResourceClaimTemplate => {
            // No generation upstream: keep whatever the stored object has.
            match int_at(old, &["metadata", "generation"]) {
                Some(g) => set_generation(new, g),
                None => remove_generation(new),
            }
        }
        K::CsiDriver
        | K::ValidatingAdmissionPolicy
        | K::ValidatingAdmissionPolicyBinding
        | K::DeviceClass
        | K::ResourceSlice => {
            let generation = if changed("spec", new) { old_generation + 1 } else { old_generation };
            set_generation(new, generation);
        }
    }
}

/// Validation of a new object beyond `ObjectMeta`.
pub(crate) fn validate_create(kind: ClusterKind, object: &Value) -> Errs {
    match kind {
        K::StorageClass => storage_class_validate(object),
        K::CsiDriver => csi_driver_validate(object),
        K::CsiNode => csi_node_validate(object),
        K::VolumeAttachment => [volume_attachment_validate(object), volume_attachment_validate_v1(object)].concat(),
        K::PriorityClass => priority_class_validate(object),
        K::RuntimeClass => runtime_class_validate(object),
        K::MutatingWebhookConfiguration | K::ValidatingWebhookConfiguration => {
            admission::webhooks_validate(object, kind == K::MutatingWebhookConfiguration, None)
        }
        K::ValidatingAdmissionPolicy => admission::policy_validate(object),
        K::ValidatingAdmissionPolicyBinding => admission::binding_validate(object),
        K::CertificateSigningRequest => csr_validate(object, &CsrOptions::for_update(None)),
        K::DeviceClass => dra::device_class_validate(object, None),
        K::ResourceClaim => dra::claim_validate(object),
        K::ResourceClaimTemplate => dra::template_validate(object),
        K::ResourceSlice => dra::slice_validate(object, None),
    }
}

/// Validation of an update of the main resource, metadata included, in
/// upstream's order.
pub(crate) fn validate_update(kind: ClusterKind, new: &Value, old: &Value, rules: MetaRules) -> Errs {
    let create_meta = || meta::validate_create(new, rules);
    let update_meta = || meta::validate_update(new, old, rules);
    match kind {
        K::StorageClass => {
            [create_meta(), storage_class_validate(new), update_meta(), storage_class_validate_update(new, old)]
                .concat()
        }
        K::CsiDriver => [
            create_meta(),
            csi_driver_validate(new),
            update_meta(),
            csi_driver_validate(new),
            csi_driver_validate_update(new, old),
        ]
        .concat(),
        K::CsiNode => [create_meta(), csi_node_validate(new), csi_node_validate_update(new, old)].concat(),
        K::VolumeAttachment => [
            create_meta(),
            volume_attachment_validate(new),
            create_meta(),
            volume_attachment_validate(new),
            volume_attachment_validate_update(new, old),
        ]
        .concat(),
        K::PriorityClass => [update_meta(), priority_class_validate_update(new, old)].concat(),
        K::RuntimeClass => {
            [create_meta(), runtime_class_validate(new), update_meta(), runtime_class_validate_update(new, old)]
                .concat()
        }
        K::MutatingWebhookConfiguration | K::ValidatingWebhookConfiguration => [
            create_meta(),
            admission::webhooks_validate(new, kind == K::MutatingWebhookConfiguration, Some(old)),
            update_meta(),
        ]
        .concat(),
        K::ValidatingAdmissionPolicy => [create_meta(), admission::policy_validate(new), update_meta()].concat(),
        K::ValidatingAdmissionPolicyBinding => {
            [create_meta(), admission::binding_validate(new), update_meta()].concat()
        }
        K::CertificateSigningRequest => csr_validate_update(new, old, rules, CsrWrite::Main),
        K::DeviceClass => [create_meta(), update_meta(), dra::device_class_validate(new, Some(old))].concat(),
        K::ResourceClaim => [create_meta(), update_meta(), dra::spec_immutable(new, old)].concat(),
        K::ResourceClaimTemplate => [update_meta(), dra::spec_immutable(new, old)].concat(),
        K::ResourceSlice => [update_meta(), dra::slice_validate(new, Some(old))].concat(),
    }
}

/// Values upstream cannot decode (a 400 before validation): a CSR's
/// `spec.request` / `status.certificate` that are not base64.
pub(crate) fn decode_error(kind: ClusterKind, object: &Value) -> Option<String> {
    if kind != K::CertificateSigningRequest {
        return None;
    }
    for path in [&["spec", "request"][..], &["status", "certificate"][..]] {
        if let Some(text) = str_at(object, path)
            && let Err(e) = base64_decode(text)
        {
            return Some(e);
        }
    }
    None
}

/// `PrepareForUpdate` of a subresource write (`status`, `approval`); the
/// caller has already put the stored spec and metadata back.
pub(crate) fn prepare_for_subresource_update(kind: ClusterKind, sub: &str, new: &mut Value, old: &Value) {
    if kind != K::CertificateSigningRequest {
        return;
    }
    match sub {
        "status" => csr_prepare_status(new, old),
        "approval" => csr_prepare_approval(new, old),
        _ => {}
    }
}

/// Validation of a subresource write.
pub(crate) fn validate_subresource_update(
    kind: ClusterKind,
    sub: &str,
    new: &Value,
    old: &Value,
    rules: MetaRules,
) -> Errs {
    match (kind, sub) {
        (K::CertificateSigningRequest, "status") => csr_validate_update(new, old, rules, CsrWrite::Status),
        (K::CertificateSigningRequest, "approval") => csr_validate_update(new, old, rules, CsrWrite::Approval),
        (K::VolumeAttachment, "status") => {
            [meta::validate_update(new, old, rules), volume_attachment_status(new)].concat()
        }
        (K::ValidatingAdmissionPolicy, "status") => admission::policy_status_validate(new),
        (K::ResourceClaim, "status") => {
            [meta::validate_update(new, old, rules), dra::claim_status_validate(new)].concat()
        }
        _ => Errs::new(),
    }
}

// ------------------------------------------------------ shared checks

/// `ValidateLabelSelector` of the selector at `selector` (absent: valid).
pub(super) fn label_selector(selector: Option<&Value>, path: &Path) -> Errs {
    let Some(raw) = selector else { return Errs::new() };
    match ApiLabelSelector::deserialize(raw) {
        Ok(parsed) => {
            validate_api_label_selector(Some(&parsed), LabelSelectorValidationOptions::default(), path.as_str())
        }
        Err(_) => vec![invalid_json(path, raw, "invalid label selector")],
    }
}

/// `ValidateDNS1123Label` / `ValidateDNS1123Subdomain` of core validation.
pub(super) fn dns_label(value: &str, path: &Path) -> Errs {
    is_dns1123_label(value).iter().map(|msg| invalid(path, value, msg)).collect()
}

pub(super) fn dns_subdomain(value: &str, path: &Path) -> Errs {
    is_dns1123_subdomain(value).iter().map(|msg| invalid(path, value, msg)).collect()
}

/// `ValidateQualifiedName`.
pub(super) fn qualified_name(value: &str, path: &Path) -> Errs {
    is_qualified_name(value).iter().map(|msg| invalid(path, value, msg)).collect()
}

/// Core's `ValidateCSIDriverName` (also DRA driver names).
pub(super) fn csi_driver_name(name: &str, path: &Path) -> Errs {
    let mut errs = Errs::new();
    if name.is_empty() {
        errs.push(required(path, ""));
    }
    if name.len() > 63 {
        errs.push(too_long(path, 63));
    }
    for msg in is_dns1123_subdomain(&name.to_lowercase()) {
        errs.push(invalid(path, name, &msg));
    }
    errs
}

/// `ValidateNodeSelector` (node affinity form).
pub(super) fn node_selector(selector: &Value, path: &Path) -> Errs {
    let terms_path = path.child("nodeSelectorTerms");
    let terms = list_at(selector, &["nodeSelectorTerms"]);
    if terms.is_empty() {
        return vec![required(&terms_path, "must have at least one node selector term")];
    }
    let mut errs = Errs::new();
    for (i, term) in terms.iter().enumerate() {
        let tp = terms_path.index(i);
        for (j, req) in list_at(term, &["matchExpressions"]).iter().enumerate() {
            let rp = tp.child("matchExpressions").index(j);
            let values = list_at(req, &["values"]);
            match s(req, &["operator"]) {
                "In" | "NotIn" => {
                    if values.is_empty() {
                        errs.push(required(
                            &rp.child("values"),
                            "must be specified when `operator` is 'In' or 'NotIn'",
                        ));
                    }
                }
                "Exists" | "DoesNotExist" => {
                    if !values.is_empty() {
                        errs.push(forbidden(
                            &rp.child("values"),
                            "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                        ));
                    }
                }
                "Gt" | "Lt" => {
                    if values.len() != 1 {
                        errs.push(required(
                            &rp.child("values"),
                            "must be specified single value when `operator` is 'Lt' or 'Gt'",
                        ));
                    }
                }
                other => errs.push(invalid(&rp.child("operator"), other, "not a valid selector operator")),
            }
            errs.extend(kubeplex_core::names::validate_label_name(s(req, &["key"]), rp.child("key").as_str()));
        }
        for (j, req) in list_at(term, &["matchFields"]).iter().enumerate() {
            let rp = tp.child("matchFields").index(j);
            match s(req, &["operator"]) {
                "In" | "NotIn" => {
                    if list_at(req, &["values"]).len() != 1 {
                        errs.push(required(
                            &rp.child("values"),
                            "must be only one value when `operator` is 'In' or 'NotIn' for node field selector",
                        ));
                    }
                }
                other => errs.push(invalid(&rp.child("operator"), other, "not a valid selector operator")),
            }
            let key = s(req, &["key"]);
            if key != "metadata.name" {
                errs.push(not_supported(&rp.child("key"), key, &["metadata.name"]));
            }
        }
    }
    errs
}

fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).map_err(|e| {
        let offset = match e {
            base64::DecodeError::InvalidByte(i, _) | base64::DecodeError::InvalidLastSymbol(i, _) => i,
            base64::DecodeError::InvalidLength(n) => n,
            base64::DecodeError::InvalidPadding => 0,
        };
        format!("illegal base64 data at input byte {offset}")
    })
}

// ---------------------------------------------------------------- storage

fn storage_class_defaults(object: &mut Value) {
    let Some(obj) = object.as_object_mut() else { return };
    set_default(obj, "reclaimPolicy", json!("Delete"));
    set_default(obj, "volumeBindingMode", json!("Immediate"));
    sort_map(obj, "parameters");
}

/// `validateParameters`.
fn parameters(object: &Value, path: &Path) -> Errs {
    let params = map_at(object, &["parameters"]);
    let Some(params) = params else { return Errs::new() };
    if params.len() > 512 {
        return vec![too_long(path, 512)];
    }
    let mut errs = Errs::new();
    let mut size = 0;
    for (k, v) in params {
        if k.is_empty() {
            errs.push(invalid(path, k, "field can not be empty."));
        }
        size += k.len() + v.as_str().map_or(0, str::len);
    }
    if size > 256 * 1024 {
        errs.push(too_long(path, 256 * 1024));
    }
    errs
}

/// `ValidateStorageClass` beyond metadata.
fn storage_class_validate(object: &Value) -> Errs {
    let mut errs = Errs::new();
    let provisioner = s(object, &["provisioner"]);
    let pp = Path::new("provisioner");
    if provisioner.is_empty() {
        errs.push(required(&pp, ""));
    } else {
        errs.extend(qualified_name(&provisioner.to_lowercase(), &pp));
    }
    errs.extend(parameters(object, &Path::new("parameters")));
    let reclaim = s(object, &["reclaimPolicy"]);
    if !reclaim.is_empty() && reclaim != "Delete" && reclaim != "Retain" {
        errs.push(not_supported(&Path::new("reclaimPolicy"), reclaim, &["Delete", "Retain"]));
    }
    match str_at(object, &["volumeBindingMode"]) {
        None => errs.push(required(&Path::new("volumeBindingMode"), "")),
        Some("Immediate" | "WaitForFirstConsumer") => {}
        Some(other) => {
            errs.push(not_supported(&Path::new("volumeBindingMode"), other, &["Immediate", "WaitForFirstConsumer"]))
        }
    }
    errs
}

/// `ValidateStorageClassUpdate`.
fn storage_class_validate_update(new: &Value, old: &Value) -> Errs {
    let mut errs = Errs::new();
    if !super::field::semantic_eq(at(new, &["parameters"]), at(old, &["parameters"])) {
        errs.push(forbidden(&Path::new("parameters"), "updates to parameters are forbidden."));
    }
    if s(new, &["provisioner"]) != s(old, &["provisioner"]) {
        errs.push(forbidden(&Path::new("provisioner"), "updates to provisioner are forbidden."));
    }
    if s(new, &["reclaimPolicy"]) != s(old, &["reclaimPolicy"]) {
        errs.push(forbidden(&Path::new("reclaimPolicy"), "updates to reclaimPolicy are forbidden."));
    }
    immutable(
        &mut errs,
        at(new, &["volumeBindingMode"]),
        at(old, &["volumeBindingMode"]),
        &Path::new("volumeBindingMode"),
    );
    errs
}

fn csi_driver_defaults(object: &mut Value) {
    let Some(spec) = obj_path(object, &["spec"]) else { return };
    set_default(spec, "attachRequired", json!(true));
    set_default(spec, "podInfoOnMount", json!(false));
    set_default(spec, "storageCapacity", json!(false));
    set_default(spec, "fsGroupPolicy", json!("ReadWriteOnceWithFSType"));
    if list_at(&Value::Object(spec.clone()), &["volumeLifecycleModes"]).is_empty() {
        spec.insert("volumeLifecycleModes".into(), json!(["Persistent"]));
    }
    set_default(spec, "requiresRepublish", json!(false));
    set_default(spec, "seLinuxMount", json!(false));
}

/// `validateCSIDriverSpec`.
fn csi_driver_validate(object: &Value) -> Errs {
    let sp = Path::new("spec");
    let spec = at(object, &["spec"]).cloned().unwrap_or(Value::Null);
    let mut errs = Errs::new();
    for (field, path) in [
        ("attachRequired", "attachedRequired"),
        ("podInfoOnMount", "podInfoOnMount"),
        ("storageCapacity", "storageCapacity"),
    ] {
        if at(&spec, &[field]).is_none() {
            errs.push(required(&sp.child(path), ""));
        }
    }
    if let Some(policy) = str_at(&spec, &["fsGroupPolicy"])
        && !matches!(policy, "File" | "None" | "ReadWriteOnceWithFSType")
    {
        errs.push(not_supported(&sp.child("fsGroupPolicy"), policy, &["File", "None", "ReadWriteOnceWithFSType"]));
    }
    let mut audiences = std::collections::BTreeSet::new();
    for (i, request) in list_at(&spec, &["tokenRequests"]).iter().enumerate() {
        let rp = sp.child("tokenRequests").index(i);
        let audience = s(request, &["audience"]);
        if !audiences.insert(audience) {
            errs.push(duplicate(&rp.child("audience"), audience));
            continue;
        }
        if let Some(secs) = int_at(request, &["expirationSeconds"]) {
            super::podspec::token_expiration(secs, &rp.child("expirationSeconds"), &mut errs);
        }
    }
    for mode in list_at(&spec, &["volumeLifecycleModes"]) {
        let mode = mode.as_str().unwrap_or("");
        if mode != "Persistent" && mode != "Ephemeral" {
            errs.push(not_supported(&sp.child("volumeLifecycleModes"), mode, &["Persistent", "Ephemeral"]));
        }
    }
    if at(&spec, &["seLinuxMount"]).is_none() {
        errs.push(required(&sp.child("seLinuxMount"), ""));
    }
    if let Some(period) = int_at(&spec, &["nodeAllocatableUpdatePeriodSeconds"])
        && period < 10
    {
        errs.push(invalid_int(
            &sp.child("nodeAllocatableUpdatePeriodSeconds"),
            period,
            "must be greater than or equal to 10 seconds",
        ));
    }
    errs
}

/// `ValidateCSIDriverUpdate` beyond the spec checks (its `attachedRequired`
/// path is upstream's).
fn csi_driver_validate_update(new: &Value, old: &Value) -> Errs {
    let mut errs = Errs::new();
    immutable(
        &mut errs,
        at(new, &["spec", "attachRequired"]),
        at(old, &["spec", "attachRequired"]),
        &Path::new("spec.attachedRequired"),
    );
    immutable(
        &mut errs,
        at(new, &["spec", "volumeLifecycleModes"]),
        at(old, &["spec", "volumeLifecycleModes"]),
        &Path::new("spec.volumeLifecycleModes"),
    );
    errs
}

/// `validateCSINodeSpec`.
fn csi_node_validate(object: &Value) -> Errs {
    let dp = Path::new("spec.drivers");
    let mut errs = Errs::new();
    let mut names = std::collections::BTreeSet::new();
    for (i, driver) in list_at(object, &["spec", "drivers"]).iter().enumerate() {
        let ip = dp.index(i);
        let driver_name = s(driver, &["name"]);
        errs.extend(csi_driver_name(driver_name, &ip.child("name")));
        let node_id = s(driver, &["nodeID"]);
        if node_id.is_empty() {
            errs.push(required(&ip.child("nodeID"), ""));
        }
        if node_id.len() > 192 {
            errs.push(invalid(&ip.child("nodeID"), node_id, "must be 192 characters or less"));
        }
        if let Some(count) = int_at(driver, &["allocatable", "count"])
            && count < 0
        {
            errs.push(invalid_int(
                &ip.child("allocatable").child("count"),
                count,
                "must be greater than or equal to 0",
            ));
        }
        if !names.insert(driver_name) {
            errs.push(duplicate(&ip.child("name"), driver_name));
        }
        let mut keys = std::collections::BTreeSet::new();
        for key in list_at(driver, &["topologyKeys"]) {
            let key = key.as_str().unwrap_or("");
            if key.is_empty() {
                errs.push(required(&ip, ""));
            }
            if !keys.insert(key) {
                errs.push(duplicate(&ip, key));
            }
            errs.extend(qualified_name(key, &ip));
        }
    }
    errs
}

/// `ValidateCSINodeUpdate`: a driver may not change but for `allocatable`.
fn csi_node_validate_update(new: &Value, old: &Value) -> Errs {
    let without_allocatable = |d: &Value| {
        let mut d = d.clone();
        if let Some(m) = d.as_object_mut() {
            m.remove("allocatable");
        }
        d
    };
    let mut errs = Errs::new();
    for old_driver in list_at(old, &["spec", "drivers"]) {
        for new_driver in list_at(new, &["spec", "drivers"]) {
            if s(old_driver, &["name"]) == s(new_driver, &["name"]) {
                let (n, o) = (without_allocatable(new_driver), without_allocatable(old_driver));
                if n != o {
                    errs.push(invalid_rendered(
                        &Path::new("spec.drivers"),
                        &render_ordered(&internal_json(Some(&n), "io.k8s.api.storage.v1.CSINodeDriver")),
                        "field is immutable",
                    ));
                }
            }
        }
    }
    errs
}

/// `ValidateVolumeAttachment` beyond metadata.
fn volume_attachment_validate(object: &Value) -> Errs {
    let sp = Path::new("spec");
    let mut errs = Errs::new();
    if s(object, &["spec", "attacher"]).is_empty() {
        errs.push(required(&sp.child("attacher"), ""));
    }
    let source = at(object, &["spec", "source"]).cloned().unwrap_or(Value::Null);
    let pv = at(&source, &["persistentVolumeName"]);
    let inline = at(&source, &["inlineVolumeSpec"]);
    let src = sp.child("source");
    match (pv, inline) {
        (None, None) => {
            errs.push(required(&src, "must specify exactly one of inlineVolumeSpec and persistentVolumeName"))
        }
        (Some(_), Some(_)) => {
            errs.push(forbidden(&src, "must specify exactly one of inlineVolumeSpec and persistentVolumeName"))
        }
        (Some(pv), None) => {
            if pv.as_str().unwrap_or("").is_empty() {
                errs.push(required(&src.child("persistentVolumeName"), "must specify non empty persistentVolumeName"));
            }
        }
        (None, Some(_)) => {}
    }
    let node = s(object, &["spec", "nodeName"]);
    for msg in name_is_dns_subdomain(node, false) {
        errs.push(invalid(&sp.child("nodeName"), node, &msg));
    }
    errs.extend(volume_attachment_status(object));
    errs
}

/// `validateVolumeAttachmentStatus`.
fn volume_attachment_status(object: &Value) -> Errs {
    let st = Path::new("status");
    let mut errs = Errs::new();
    let size: usize =
        string_map(object, &["status", "attachmentMetadata"]).iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > 256 * 1024 {
        errs.push(too_long(&st.child("attachmentMetadata"), 256 * 1024));
    }
    for field in ["attachError", "detachError"] {
        let Some(e) = at(object, &["status", field]) else { continue };
        if s(e, &["message"]).len() > 1024 {
            errs.push(too_long(&st.child(field).child("message"), 256 * 1024));
        }
        if let Some(code) = int_at(e, &["errorCode"])
            && code < 0
        {
            errs.push(invalid_int(
                &st.child(field).child("errorCode"),
                code,
                &format!("must be between 0 and {}, inclusive", i32::MAX),
            ));
        }
    }
    errs
}

/// `ValidateVolumeAttachmentV1`: a CSI driver name and a PV name.
fn volume_attachment_validate_v1(object: &Value) -> Errs {
    let mut errs = csi_driver_name(s(object, &["spec", "attacher"]), &Path::new("spec.attacher"));
    if let Some(pv) = str_at(object, &["spec", "source", "persistentVolumeName"]) {
        for msg in name_is_dns_subdomain(pv, false) {
            errs.push(invalid(&Path::new("spec.source.persistentVolumeName"), pv, &msg));
        }
    }
    errs
}

/// `ValidateVolumeAttachmentUpdate`: the spec is read-only.
fn volume_attachment_validate_update(new: &Value, old: &Value) -> Errs {
    let mut errs = Errs::new();
    if !super::field::semantic_eq(at(new, &["spec"]), at(old, &["spec"])) {
        errs.push(invalid_rendered(
            &Path::new("spec"),
            &render_ordered(&internal_json(at(new, &["spec"]), "io.k8s.api.storage.v1.VolumeAttachmentSpec")),
            "field is immutable",
        ));
    }
    errs
}

// ------------------------------------------------------ scheduling, node

const HIGHEST_USER_DEFINABLE_PRIORITY: i64 = 1_000_000_000;
const SYSTEM_PRIORITY_CLASSES: &[(&str, i64)] =
    &[("system-node-critical", 2_000_001_000), ("system-cluster-critical", 2_000_000_000)];

/// `IsKnownSystemPriorityClass`.
fn known_system_priority_class(name: &str, value: i64, global_default: bool) -> Result<(), String> {
    match SYSTEM_PRIORITY_CLASSES.iter().find(|(n, _)| *n == name) {
        None => Err(format!("{name} is not a known system priority class")),
        Some((n, v)) if *v != value => Err(format!("value of {n} PriorityClass must be {v}")),
        Some((n, _)) if global_default => Err(format!("globalDefault of {n} PriorityClass must be false")),
        Some(_) => Ok(()),
    }
}

/// `ValidatePreemptionPolicy`.
fn preemption_policy(object: &Value, path: &Path) -> Errs {
    match at(object, &["preemptionPolicy"]).and_then(Value::as_str) {
        None | Some("PreemptLowerPriority" | "Never") => Errs::new(),
        Some("") => vec![required(path, "")],
        Some(other) => vec![not_supported(path, other, &["PreemptLowerPriority", "Never"])],
    }
}

/// `ValidatePriorityClass` beyond metadata.
fn priority_class_validate(object: &Value) -> Errs {
    let mut errs = Errs::new();
    let name = super::field::name_of(object);
    let value = int_at(object, &["value"]).unwrap_or(0);
    if name.starts_with("system-") {
        if let Err(why) = known_system_priority_class(name, value, bool_at(object, &["globalDefault"]).unwrap_or(false))
        {
            errs.push(forbidden(
                &Path::new("metadata.name"),
                &format!("priority class names with 'system-' prefix are reserved for system use only. error: {why}"),
            ));
        }
    } else if value > HIGHEST_USER_DEFINABLE_PRIORITY {
        errs.push(forbidden(
            &Path::new("value"),
            &format!("maximum allowed value of a user defined priority is {HIGHEST_USER_DEFINABLE_PRIORITY}"),
        ));
    }
    errs.extend(preemption_policy(object, &Path::new("preemptionPolicy")));
    errs
}

/// `ValidatePriorityClassUpdate` beyond metadata.
fn priority_class_validate_update(new: &Value, old: &Value) -> Errs {
    let mut errs = Errs::new();
    if int_at(new, &["value"]).unwrap_or(0) != int_at(old, &["value"]).unwrap_or(0) {
        errs.push(forbidden(&Path::new("value"), "may not be changed in an update."));
    }
    immutable(
        &mut errs,
        at(new, &["preemptionPolicy"]),
        at(old, &["preemptionPolicy"]),
        &Path::new("preemptionPolicy"),
    );
    errs
}

/// `ValidateRuntimeClass` beyond metadata.
fn runtime_class_validate(object: &Value) -> Errs {
    let handler = s(object, &["handler"]);
    let mut errs = dns_label(handler, &Path::new("handler"));
    if let Some(scheduling) = at(object, &["scheduling"]) {
        let sp = Path::new("scheduling");
        errs.extend(kubeplex_core::names::validate_labels(
            string_map(scheduling, &["nodeSelector"]),
            sp.child("nodeSelector").as_str(),
        ));
        super::podspec::validate_tolerations(
            list_at(scheduling, &["tolerations"]),
            &sp.child("tolerations"),
            &mut errs,
        );
    }
    errs
}

fn runtime_class_validate_update(new: &Value, old: &Value) -> Errs {
    let mut errs = Errs::new();
    super::field::immutable_str(&mut errs, s(new, &["handler"]), s(old, &["handler"]), &Path::new("handler"));
    errs
}

// ----------------------------------------------------------- certificates

const LEGACY_UNKNOWN_SIGNER: &str = "kubernetes.io/legacy-unknown";

/// `allValidUsages`, sorted as `sets.List` returns them.
const VALID_USAGES: &[&str] = &[
    "any",
    "cert sign",
    "client auth",
    "code signing",
    "content commitment",
    "crl sign",
    "data encipherment",
    "decipher only",
    "digital signature",
    "email protection",
    "encipher only",
    "ipsec end system",
    "ipsec tunnel",
    "ipsec user",
    "key agreement",
    "key encipherment",
    "microsoft sgc",
    "netscape sgc",
    "ocsp signing",
    "s/mime",
    "server auth",
    "signing",
    "timestamping",
];

/// `PrepareForCreate`: no user info from the client (the requesting user's
/// is upstream's; kubeplex does not pass it to strategies yet), no status.
fn csr_prepare_create(object: &mut Value) {
    remove_generation(object);
    if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
        for field in ["username", "uid", "groups", "extra"] {
            spec.remove(field);
        }
    }
    set_status(object, json!({}));
}

/// Records the requesting user in a new CSR's spec, as upstream's
/// `PrepareForCreate` does from the request context.
pub(crate) fn csr_set_requester(object: &mut Value, user: &str, groups: &[String]) {
    if let Some(spec) = obj_path(object, &["spec"]) {
        if !user.is_empty() {
            spec.insert("username".into(), json!(user));
        }
        if !groups.is_empty() {
            spec.insert("groups".into(), json!(groups));
        }
    }
}

fn conditions_of<'a>(object: &'a Value, type_: &str) -> Vec<&'a Value> {
    list_at(object, &["status", "conditions"]).iter().filter(|c| s(c, &["type"]) == type_).collect()
}

/// `populateConditionTimestamps`.
fn populate_condition_timestamps(new: &mut Value, old: &Value) {
    let now = crate::objects::now();
    let old_conditions = list_at(old, &["status", "conditions"]).to_vec();
    let Some(conditions) = new.pointer_mut("/status/conditions").and_then(Value::as_array_mut) else { return };
    for condition in conditions.iter_mut().filter_map(Value::as_object_mut) {
        if condition.get("lastUpdateTime").is_none_or(Value::is_null) {
            condition.insert("lastUpdateTime".into(), json!(now));
        }
        if condition.get("lastTransitionTime").is_none_or(Value::is_null) {
            let type_ = condition.get("type").cloned().unwrap_or(Value::Null);
            let status = condition.get("status").cloned().unwrap_or(Value::Null);
            let previous = old_conditions
                .iter()
                .find(|c| c.get("type") == Some(&type_) && c.get("status") == Some(&status))
                .and_then(|c| at(c, &["lastTransitionTime"]).cloned());
            condition.insert("lastTransitionTime".into(), previous.unwrap_or_else(|| json!(now)));
        }
    }
}

/// The status strategy: the Approved/Denied conditions stay as stored
/// (adding or removing them fails validation), timestamps filled.
fn csr_prepare_status(new: &mut Value, old: &Value) {
    for type_ in ["Approved", "Denied"] {
        let old_instances: Vec<Value> = conditions_of(old, type_).into_iter().cloned().collect();
        let Some(conditions) = new.pointer_mut("/status/conditions").and_then(Value::as_array_mut) else { continue };
        let positions: Vec<usize> =
            conditions.iter().enumerate().filter(|(_, c)| s(c, &["type"]) == type_).map(|(i, _)| i).collect();
        if positions.len() == old_instances.len() {
            for (position, old_condition) in positions.into_iter().zip(old_instances) {
                conditions[position] = old_condition;
            }
        }
    }
    populate_condition_timestamps(new, old);
}

/// The approval strategy: only `status.conditions` comes from the request.
fn csr_prepare_approval(new: &mut Value, old: &Value) {
    populate_condition_timestamps(new, old);
    let conditions = new.pointer("/status/conditions").cloned();
    let mut status = at(old, &["status"]).cloned().unwrap_or_else(|| json!({}));
    if let Some(map) = status.as_object_mut() {
        match conditions {
            Some(c) if !c.is_null() => map.insert("conditions".into(), c),
            _ => map.remove("conditions"),
        };
    }
    set_status(new, status);
}

/// Which write a CSR update is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CsrWrite {
    Main,
    Status,
    Approval,
}

/// `certificateValidationOptions`: what an update may keep of a stored
/// object that is invalid by today's rules.
struct CsrOptions {
    allow_both_approved_and_denied: bool,
    allow_legacy_signer: bool,
    allow_duplicate_condition_types: bool,
    allow_empty_condition_type: bool,
    allow_arbitrary_certificate: bool,
    allow_unknown_usages: bool,
    allow_duplicate_usages: bool,
}

impl CsrOptions {
    /// `getValidationOptions(new, old)` (`old` is `None` on create).
    fn for_update(old: Option<(&Value, &Value)>) -> CsrOptions {
        let Some((new, old)) = old else {
            return CsrOptions {
                allow_both_approved_and_denied: false,
                allow_legacy_signer: false,
                allow_duplicate_condition_types: false,
                allow_empty_condition_type: false,
                allow_arbitrary_certificate: false,
                allow_unknown_usages: false,
                allow_duplicate_usages: false,
            };
        };
        let types: Vec<&str> = list_at(old, &["status", "conditions"]).iter().map(|c| s(c, &["type"])).collect();
        let usages: Vec<&str> = list_at(old, &["spec", "usages"]).iter().map(|u| u.as_str().unwrap_or("")).collect();
        let same_certificate = s(new, &["status", "certificate"]) == s(old, &["status", "certificate"]);
        CsrOptions {
            allow_both_approved_and_denied: types.contains(&"Approved") && types.contains(&"Denied"),
            allow_legacy_signer: s(old, &["spec", "signerName"]) == LEGACY_UNKNOWN_SIGNER,
            allow_duplicate_condition_types: has_duplicates(&types),
            allow_empty_condition_type: types.contains(&""),
            allow_arbitrary_certificate: same_certificate || certificate_error(old).is_some(),
            allow_unknown_usages: usages.iter().any(|u| !VALID_USAGES.contains(u)),
            allow_duplicate_usages: has_duplicates(&usages),
        }
    }
}

fn has_duplicates(items: &[&str]) -> bool {
    let mut seen = std::collections::BTreeSet::new();
    items.iter().any(|i| !seen.insert(*i))
}

/// `validateCSR`: the PEM-encoded PKCS#10 request, signature checked.
fn request_error(object: &Value) -> Option<String> {
    let bytes = base64_decode(s(object, &["spec", "request"])).ok()?;
    let pem = match x509_parser::pem::parse_x509_pem(&bytes) {
        Ok((_, pem)) if pem.label == "CERTIFICATE REQUEST" => pem,
        _ => return Some("PEM block type must be CERTIFICATE REQUEST".to_owned()),
    };
    use x509_parser::prelude::FromDer;
    let request = match x509_parser::certification_request::X509CertificationRequest::from_der(&pem.contents) {
        Ok((_, request)) => request,
        Err(_) => return Some("x509: malformed certificate request".to_owned()),
    };
    match request.verify_signature() {
        Ok(()) => None,
        Err(_) => {
            let oid = request.signature_algorithm.algorithm.to_id_string();
            Some(
                if oid.starts_with("1.2.840.10045") {
                    "x509: ECDSA verification failure"
                } else if oid == "1.3.101.112" {
                    "x509: Ed25519 verification failure"
                } else {
                    "crypto/rsa: verification error"
                }
                .to_owned(),
            )
        }
    }
}

/// `validateCertificate` of `status.certificate` (empty is valid).
fn certificate_error(object: &Value) -> Option<String> {
    let text = s(object, &["status", "certificate"]);
    if text.is_empty() {
        return None;
    }
    let Ok(bytes) = base64_decode(text) else { return None };
    let mut rest: &[u8] = &bytes;
    let mut blocks = 0;
    while let Ok((remaining, pem)) = x509_parser::pem::parse_x509_pem(rest) {
        if pem.label != "CERTIFICATE" {
            return Some(format!(
                "only CERTIFICATE PEM blocks are allowed, found {}",
                kubeplex_core::names::go_quote(&pem.label)
            ));
        }
        if x509_parser::parse_x509_certificate(&pem.contents).is_err() {
            return Some("x509: malformed certificate".to_owned());
        }
        blocks += 1;
        rest = remaining;
    }
    if blocks == 0 {
        return Some("must contain at least one CERTIFICATE PEM block".to_owned());
    }
    None
}

/// Core's `ValidateSignerName`.
fn signer_name(name: &str, path: &Path) -> Errs {
    if name.is_empty() {
        return vec![required(path, "")];
    }
    let segments: Vec<&str> = name.split('/').collect();
    let [domain, signer] = segments.as_slice() else {
        return vec![invalid(
            path,
            name,
            "must be a fully qualified domain and path of the form 'example.com/signer-name'",
        )];
    };
    let mut errs = Errs::new();
    if domain.len() > 253 {
        errs.push(too_long(path, 253));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    for label in &labels {
        let msgs = is_dns1123_label(label);
        if !msgs.is_empty() {
            for msg in msgs {
                errs.push(invalid(
                    path,
                    domain,
                    &format!("validating label {}: {msg}", kubeplex_core::names::go_quote(label)),
                ));
            }
            break;
        }
    }
    if labels.len() < 2 {
        errs.push(invalid(path, domain, "should be a domain with at least two segments separated by dots"));
    }
    for label in signer.split('.') {
        let msgs = is_dns1123_subdomain(label);
        if !msgs.is_empty() {
            for msg in msgs {
                errs.push(invalid(
                    path,
                    signer,
                    &format!("validating label {}: {msg}", kubeplex_core::names::go_quote(label)),
                ));
            }
            break;
        }
    }
    let max = 253 + (253 + 63 + 1) + 1;
    if name.len() > max {
        errs.push(too_long(path, max));
    }
    errs
}

/// `validateCertificateSigningRequest` beyond metadata.
fn csr_validate(object: &Value, opts: &CsrOptions) -> Errs {
    let sp = Path::new("spec");
    let mut errs = Errs::new();
    if let Some(why) = request_error(object) {
        let request = at(object, &["spec", "request"]).cloned().unwrap_or(Value::Null);
        errs.push(invalid_json(&sp.child("request"), &request, &why));
    }
    let usages = list_at(object, &["spec", "usages"]);
    if usages.is_empty() {
        errs.push(required(&sp.child("usages"), ""));
    }
    if !opts.allow_unknown_usages {
        for (i, usage) in usages.iter().enumerate() {
            let usage = usage.as_str().unwrap_or("");
            if !VALID_USAGES.contains(&usage) {
                errs.push(not_supported(&sp.child("usages").index(i), usage, VALID_USAGES));
            }
        }
    }
    if !opts.allow_duplicate_usages {
        let mut seen = std::collections::BTreeSet::new();
        for (i, usage) in usages.iter().enumerate() {
            let usage = usage.as_str().unwrap_or("");
            if !seen.insert(usage) {
                errs.push(duplicate(&sp.child("usages").index(i), usage));
            }
        }
    }
    let signer = s(object, &["spec", "signerName"]);
    if !opts.allow_legacy_signer && signer == LEGACY_UNKNOWN_SIGNER {
        errs.push(invalid(
            &sp.child("signerName"),
            signer,
            "the legacy signerName is not allowed via this API version",
        ));
    } else {
        errs.extend(signer_name(signer, &sp.child("signerName")));
    }
    if let Some(secs) = int_at(object, &["spec", "expirationSeconds"])
        && secs < 600
    {
        errs.push(invalid_int(
            &sp.child("expirationSeconds"),
            secs,
            "may not specify a duration less than 600 seconds (10 minutes)",
        ));
    }
    errs.extend(csr_conditions(object, opts));
    if !opts.allow_arbitrary_certificate
        && let Some(why) = certificate_error(object)
    {
        errs.push(invalid(&Path::new("status.certificate"), "<certificate data>", &why));
    }
    errs
}

/// `validateConditions`.
fn csr_conditions(object: &Value, opts: &CsrOptions) -> Errs {
    let cp = Path::new("status.conditions");
    let mut errs = Errs::new();
    let mut seen = std::collections::BTreeSet::new();
    let (mut approved, mut denied) = (false, false);
    for (i, condition) in list_at(object, &["status", "conditions"]).iter().enumerate() {
        let type_ = s(condition, &["type"]);
        if !opts.allow_empty_condition_type && type_.is_empty() {
            errs.push(required(&cp.index(i).child("type"), ""));
        }
        let true_only = matches!(type_, "Approved" | "Denied" | "Failed");
        match s(condition, &["status"]) {
            "" => errs.push(required(&cp.index(i).child("status"), "")),
            "True" => {}
            "False" | "Unknown" if !true_only => {}
            other if true_only => errs.push(not_supported(&cp.index(i).child("status"), other, &["True"])),
            other => errs.push(not_supported(&cp.index(i).child("status"), other, &["False", "True", "Unknown"])),
        }
        if !opts.allow_both_approved_and_denied {
            match type_ {
                "Approved" => {
                    approved = true;
                    if denied {
                        errs.push(invalid(&cp, type_, "Approved and Denied conditions are mutually exclusive"));
                    }
                }
                "Denied" => {
                    denied = true;
                    if approved {
                        errs.push(invalid(&cp, type_, "Approved and Denied conditions are mutually exclusive"));
                    }
                }
                _ => {}
            }
        }
        if !opts.allow_duplicate_condition_types && !seen.insert(type_) {
            errs.push(duplicate(&cp.index(i).child("type"), type_));
        }
    }
    errs
}

/// `validateCertificateSigningRequestUpdate` for the main resource,
/// `/status` (may set the certificate) or `/approval` (may set
/// Approved/Denied).
fn csr_validate_update(new: &Value, old: &Value, rules: MetaRules, write: CsrWrite) -> Errs {
    let opts = CsrOptions::for_update(Some((new, old)));
    let mut errs = [meta::validate_create(new, rules), csr_validate(new, &opts)].concat();
    let cp = Path::new("status.conditions");
    for type_ in ["Approved", "Denied", "Failed"] {
        if conditions_of(new, type_).len() < conditions_of(old, type_).len() {
            errs.push(forbidden(
                &cp,
                &format!("updates may not remove a condition of type {}", kubeplex_core::names::go_quote(type_)),
            ));
        }
    }
    if write != CsrWrite::Approval {
        for type_ in ["Approved", "Denied"] {
            let (new_c, old_c) = (conditions_of(new, type_), conditions_of(old, type_));
            let quoted = kubeplex_core::names::go_quote(type_);
            if new_c.len() > old_c.len() {
                errs.push(forbidden(&cp, &format!("updates may not add a condition of type {quoted}")));
            } else if new_c.len() == old_c.len() && new_c != old_c {
                errs.push(forbidden(&cp, &format!("updates may not modify a condition of type {quoted}\n")));
            }
        }
    }
    let (new_cert, old_cert) = (s(new, &["status", "certificate"]), s(old, &["status", "certificate"]));
    if new_cert != old_cert {
        if write != CsrWrite::Status {
            errs.push(forbidden(&Path::new("status.certificate"), "updates may not set certificate content"));
        } else if !old_cert.is_empty() {
            errs.push(forbidden(
                &Path::new("status.certificate"),
                "updates may not modify existing certificate content",
            ));
        }
    }
    errs.extend(meta::validate_update(new, old, rules));
    errs
}

#[cfg(test)]
mod tests;
