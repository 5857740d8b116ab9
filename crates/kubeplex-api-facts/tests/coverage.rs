//! The facts table against `k8s-openapi` (feature `v1_36`): every type and every field of
//! `k8s-openapi` must be in the table, with a matching type; every registered resource kind must be
//! found by `kind()`; and whatever the table has beyond `k8s-openapi` must be one of the documented
//! cases below.
//!
//! `k8s-openapi`'s fields are learned by deserializing each type from a recording deserializer
//! (`support/explore.rs`). The list of its types (`support/k8s_openapi_types.rs`) is checked against
//! the crate's source, found with `cargo metadata`; refresh it with
//! `KUBEPLEX_API_FACTS_BLESS=1 cargo test -p kubeplex-api-facts --test coverage`.

#[path = "support/explore.rs"]
mod explore;
#[path = "support/k8s_openapi_types.rs"]
#[macro_use]
mod k8s_openapi_types;

use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use explore::{Shape, field_shape, type_shape};
use kubeplex_api_facts::{ApiFacts, Primitive, TypeFacts, TypeRef, facts};
use serde::de::DeserializeOwned;

/// Packages (OpenAPI name prefixes) of the table that `k8s-openapi` has nothing of, and why.
/// (`k8s-openapi` is generated from the OpenAPI document of a 1.36 API server. Types marked
/// `+k8s:openapi-gen=false`, such as the whole of `admission/v1`, need no entry.)
const PACKAGES_NOT_IN_K8S_OPENAPI: &[(&str, &str)] = &[
    ("io.k8s.api.imagepolicy.v1alpha1", WEBHOOK),
    ("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1beta1", OLD_VERSION),
    ("io.k8s.api.apidiscovery.v2", DISCOVERY),
    ("io.k8s.api.apidiscovery.v2beta1", DISCOVERY),
    ("io.k8s.api.apps.v1beta1", OLD_VERSION),
    ("io.k8s.api.apps.v1beta2", OLD_VERSION),
    ("io.k8s.api.authentication.v1alpha1", OLD_VERSION),
    ("io.k8s.api.authentication.v1beta1", OLD_VERSION),
    ("io.k8s.api.authorization.v1beta1", OLD_VERSION),
    ("io.k8s.api.batch.v1beta1", OLD_VERSION),
    ("io.k8s.api.discovery.v1beta1", OLD_VERSION),
    ("io.k8s.api.events.v1beta1", OLD_VERSION),
    ("io.k8s.api.extensions.v1beta1", OLD_VERSION),
    ("io.k8s.api.flowcontrol.v1beta1", OLD_VERSION),
    ("io.k8s.api.flowcontrol.v1beta2", OLD_VERSION),
    ("io.k8s.api.flowcontrol.v1beta3", OLD_VERSION),
    ("io.k8s.api.node.v1alpha1", OLD_VERSION),
    ("io.k8s.api.node.v1beta1", OLD_VERSION),
    ("io.k8s.api.policy.v1beta1", OLD_VERSION),
    ("io.k8s.api.rbac.v1alpha1", OLD_VERSION),
    ("io.k8s.api.rbac.v1beta1", OLD_VERSION),
    ("io.k8s.api.scheduling.v1beta1", OLD_VERSION),
    ("io.k8s.api.storage.v1alpha1", OLD_VERSION),
    ("io.k8s.kube-aggregator.pkg.apis.apiregistration.v1beta1", OLD_VERSION),
];

const WEBHOOK: &str = "the image policy webhook payload (ImageReview), not an API resource";
const DISCOVERY: &str =
    "aggregated discovery documents, served by /api and /apis on content negotiation, not OpenAPI definitions";
const OLD_VERSION: &str =
    "an older version the 1.36 OpenAPI document does not publish; k8s.io/api keeps its Go types for clients";

/// Types of the table, in packages `k8s-openapi` has, that it lacks: (why, which).
/// `…List` kinds, `+k8s:openapi-gen=false` types and types only ever inlined into their parent
/// (TypeMeta, VolumeSource, …, which OpenAPI flattens) are recognised without being listed.
const TYPES_NOT_IN_K8S_OPENAPI: &[(&str, &[&str])] = &[
    (
        "older versions of kinds, in group versions that 1.36 publishes for other kinds only",
        &[
            "io.k8s.api.admissionregistration.v1alpha1.AuditAnnotation",
            "io.k8s.api.admissionregistration.v1alpha1.ExpressionWarning",
            "io.k8s.api.admissionregistration.v1alpha1.TypeChecking",
            "io.k8s.api.admissionregistration.v1alpha1.ValidatingAdmissionPolicy",
            "io.k8s.api.admissionregistration.v1alpha1.ValidatingAdmissionPolicyBinding",
            "io.k8s.api.admissionregistration.v1alpha1.ValidatingAdmissionPolicyBindingSpec",
            "io.k8s.api.admissionregistration.v1alpha1.ValidatingAdmissionPolicySpec",
            "io.k8s.api.admissionregistration.v1alpha1.ValidatingAdmissionPolicyStatus",
            "io.k8s.api.admissionregistration.v1alpha1.Validation",
            "io.k8s.api.admissionregistration.v1beta1.AuditAnnotation",
            "io.k8s.api.admissionregistration.v1beta1.ExpressionWarning",
            "io.k8s.api.admissionregistration.v1beta1.MutatingWebhook",
            "io.k8s.api.admissionregistration.v1beta1.MutatingWebhookConfiguration",
            "io.k8s.api.admissionregistration.v1beta1.ServiceReference",
            "io.k8s.api.admissionregistration.v1beta1.TypeChecking",
            "io.k8s.api.admissionregistration.v1beta1.ValidatingAdmissionPolicy",
            "io.k8s.api.admissionregistration.v1beta1.ValidatingAdmissionPolicyBinding",
            "io.k8s.api.admissionregistration.v1beta1.ValidatingAdmissionPolicyBindingSpec",
            "io.k8s.api.admissionregistration.v1beta1.ValidatingAdmissionPolicySpec",
            "io.k8s.api.admissionregistration.v1beta1.ValidatingAdmissionPolicyStatus",
            "io.k8s.api.admissionregistration.v1beta1.ValidatingWebhook",
            "io.k8s.api.admissionregistration.v1beta1.ValidatingWebhookConfiguration",
            "io.k8s.api.admissionregistration.v1beta1.Validation",
            "io.k8s.api.admissionregistration.v1beta1.WebhookClientConfig",
            "io.k8s.api.certificates.v1beta1.CertificateSigningRequest",
            "io.k8s.api.certificates.v1beta1.CertificateSigningRequestCondition",
            "io.k8s.api.certificates.v1beta1.CertificateSigningRequestSpec",
            "io.k8s.api.certificates.v1beta1.CertificateSigningRequestStatus",
            "io.k8s.api.coordination.v1beta1.Lease",
            "io.k8s.api.coordination.v1beta1.LeaseSpec",
            "io.k8s.api.networking.v1beta1.HTTPIngressPath",
            "io.k8s.api.networking.v1beta1.HTTPIngressRuleValue",
            "io.k8s.api.networking.v1beta1.Ingress",
            "io.k8s.api.networking.v1beta1.IngressBackend",
            "io.k8s.api.networking.v1beta1.IngressClass",
            "io.k8s.api.networking.v1beta1.IngressClassParametersReference",
            "io.k8s.api.networking.v1beta1.IngressClassSpec",
            "io.k8s.api.networking.v1beta1.IngressLoadBalancerIngress",
            "io.k8s.api.networking.v1beta1.IngressLoadBalancerStatus",
            "io.k8s.api.networking.v1beta1.IngressPortStatus",
            "io.k8s.api.networking.v1beta1.IngressRule",
            "io.k8s.api.networking.v1beta1.IngressSpec",
            "io.k8s.api.networking.v1beta1.IngressStatus",
            "io.k8s.api.networking.v1beta1.IngressTLS",
            "io.k8s.api.resource.v1alpha3.CELDeviceSelector",
            "io.k8s.api.resource.v1alpha3.DeviceSelector",
            "io.k8s.api.storage.v1beta1.CSIDriver",
            "io.k8s.api.storage.v1beta1.CSIDriverSpec",
            "io.k8s.api.storage.v1beta1.CSINode",
            "io.k8s.api.storage.v1beta1.CSINodeDriver",
            "io.k8s.api.storage.v1beta1.CSINodeSpec",
            "io.k8s.api.storage.v1beta1.CSIStorageCapacity",
            "io.k8s.api.storage.v1beta1.StorageClass",
            "io.k8s.api.storage.v1beta1.TokenRequest",
            "io.k8s.api.storage.v1beta1.VolumeAttachment",
            "io.k8s.api.storage.v1beta1.VolumeAttachmentSource",
            "io.k8s.api.storage.v1beta1.VolumeAttachmentSpec",
            "io.k8s.api.storage.v1beta1.VolumeAttachmentStatus",
            "io.k8s.api.storage.v1beta1.VolumeError",
            "io.k8s.api.storage.v1beta1.VolumeNodeResources",
        ],
    ),
    (
        "autoscaling/v1 metric types: no autoscaling/v1 kind refers to them (they carry autoscaling/v2 fields \
         through annotations in conversion)",
        &[
            "io.k8s.api.autoscaling.v1.ContainerResourceMetricSource",
            "io.k8s.api.autoscaling.v1.ContainerResourceMetricStatus",
            "io.k8s.api.autoscaling.v1.ExternalMetricSource",
            "io.k8s.api.autoscaling.v1.ExternalMetricStatus",
            "io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerCondition",
            "io.k8s.api.autoscaling.v1.MetricSpec",
            "io.k8s.api.autoscaling.v1.MetricStatus",
            "io.k8s.api.autoscaling.v1.ObjectMetricSource",
            "io.k8s.api.autoscaling.v1.ObjectMetricStatus",
            "io.k8s.api.autoscaling.v1.PodsMetricSource",
            "io.k8s.api.autoscaling.v1.PodsMetricStatus",
            "io.k8s.api.autoscaling.v1.ResourceMetricSource",
            "io.k8s.api.autoscaling.v1.ResourceMetricStatus",
        ],
    ),
    (
        "options kinds read from the query string, not request or response bodies",
        &[
            "io.k8s.api.core.v1.NodeProxyOptions",
            "io.k8s.api.core.v1.PodAttachOptions",
            "io.k8s.api.core.v1.PodExecOptions",
            "io.k8s.api.core.v1.PodLogOptions",
            "io.k8s.api.core.v1.PodPortForwardOptions",
            "io.k8s.api.core.v1.PodProxyOptions",
            "io.k8s.api.core.v1.ServiceProxyOptions",
            "io.k8s.apimachinery.pkg.apis.meta.v1.ApplyOptions",
            "io.k8s.apimachinery.pkg.apis.meta.v1.CreateOptions",
            "io.k8s.apimachinery.pkg.apis.meta.v1.GetOptions",
            "io.k8s.apimachinery.pkg.apis.meta.v1.ListOptions",
            "io.k8s.apimachinery.pkg.apis.meta.v1.PatchOptions",
            "io.k8s.apimachinery.pkg.apis.meta.v1.TableOptions",
            "io.k8s.apimachinery.pkg.apis.meta.v1.UpdateOptions",
        ],
    ),
    (
        "representations chosen by content negotiation (Accept: …;as=Table, as=PartialObjectMetadata)",
        &[
            "io.k8s.apimachinery.pkg.apis.meta.v1.PartialObjectMetadata",
            "io.k8s.apimachinery.pkg.apis.meta.v1.Table",
            "io.k8s.apimachinery.pkg.apis.meta.v1.TableColumnDefinition",
            "io.k8s.apimachinery.pkg.apis.meta.v1.TableRow",
            "io.k8s.apimachinery.pkg.apis.meta.v1.TableRowCondition",
        ],
    ),
    (
        "legacy or internal core kinds, and the types of the retired preferAvoidPods node annotation",
        &[
            "io.k8s.api.core.v1.AvoidPods",
            "io.k8s.api.core.v1.PodSignature",
            "io.k8s.api.core.v1.PodStatusResult",
            "io.k8s.api.core.v1.PreferAvoidPodsEntry",
            "io.k8s.api.core.v1.RangeAllocation",
            "io.k8s.api.core.v1.SerializedReference",
        ],
    ),
    (
        "wire-format and client helpers in no published object: the protobuf envelope (runtime.Unknown), Time's \
         protobuf form (Timestamp), group/version/kind/resource structs, the body of GET /, and the Duration \
         special type no 1.36 field uses",
        &[
            "io.k8s.apimachinery.pkg.apis.meta.v1.Duration",
            "io.k8s.apimachinery.pkg.apis.meta.v1.GroupKind",
            "io.k8s.apimachinery.pkg.apis.meta.v1.GroupVersion",
            "io.k8s.apimachinery.pkg.apis.meta.v1.GroupVersionKind",
            "io.k8s.apimachinery.pkg.apis.meta.v1.GroupVersionResource",
            "io.k8s.apimachinery.pkg.apis.meta.v1.RootPaths",
            "io.k8s.apimachinery.pkg.apis.meta.v1.Timestamp",
            "io.k8s.apimachinery.pkg.runtime.Unknown",
        ],
    ),
    (
        "the CRD conversion webhook payload",
        &[
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.ConversionRequest",
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.ConversionResponse",
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.ConversionReview",
        ],
    ),
];

/// JSON fields of the table that `k8s-openapi`'s type of the same name lacks, and why.
const FIELDS_NOT_IN_K8S_OPENAPI: &[(&str, &str, &str)] = &[];

/// Fields whose k8s-openapi shape differs from the table's type on purpose: (type, field, why).
const SHAPE_EXCEPTIONS: &[(&str, &str, &str)] = &[(
    "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
    "object",
    "k8s-openapi buffers the object as serde_json::Value before choosing the event's variant; Go holds a RawExtension",
)];

/// One `k8s-openapi` type as its deserializer shows it.
#[derive(Debug)]
struct OpenApiType {
    definition: &'static str,
    rust_path: &'static str,
    shape: Shape,
    fields: Vec<(&'static str, Shape)>,
    /// (group, version, kind) for `Resource` types.
    resource: Option<(&'static str, &'static str, &'static str)>,
    /// `LIST_KIND` for `ListableResource` types.
    list_kind: Option<&'static str>,
}

// Autoref specialization: `(&&Probe::<T>(PhantomData)).gvk()` uses the `Resource` impl when T has one.
struct Probe<T>(PhantomData<T>);

trait ResourceProbe {
    fn gvk(&self) -> Option<(&'static str, &'static str, &'static str)>;
}
impl<T: k8s_openapi::Resource> ResourceProbe for &Probe<T> {
    fn gvk(&self) -> Option<(&'static str, &'static str, &'static str)> {
        Some((T::GROUP, T::VERSION, T::KIND))
    }
}
trait NotResource {
    fn gvk(&self) -> Option<(&'static str, &'static str, &'static str)> {
        None
    }
}
impl<T> NotResource for Probe<T> {}

trait ListProbe {
    fn list_kind(&self) -> Option<&'static str>;
}
impl<T: k8s_openapi::ListableResource> ListProbe for &Probe<T> {
    fn list_kind(&self) -> Option<&'static str> {
        Some(T::LIST_KIND)
    }
}
trait NotListable {
    fn list_kind(&self) -> Option<&'static str> {
        None
    }
}
impl<T> NotListable for Probe<T> {}

fn describe<T: DeserializeOwned>(
    definition: &'static str,
    rust_path: &'static str,
    resource: Option<(&'static str, &'static str, &'static str)>,
    list_kind: Option<&'static str>,
) -> OpenApiType {
    let shape = type_shape::<T>();
    let fields = match &shape {
        Shape::Struct { fields, .. } => fields.iter().map(|f| (*f, field_shape::<T>(f))).collect(),
        _ => Vec::new(),
    };
    OpenApiType { definition, rust_path, shape, fields, resource, list_kind }
}

macro_rules! collect_types {
    (deserializable { $($def:literal => $ty:ty,)* } other { $($odef:literal => $oty:ty,)* }) => {
        fn k8s_openapi_types() -> Vec<OpenApiType> {
            let described = [$(
                describe::<$ty>(
                    $def,
                    stringify!($ty),
                    (&&Probe::<$ty>(PhantomData)).gvk(),
                    (&&Probe::<$ty>(PhantomData)).list_kind(),
                ),
            )*];
            let others = [$(
                OpenApiType {
                    definition: $odef,
                    rust_path: stringify!($oty),
                    shape: Shape::Unknown,
                    fields: Vec::new(),
                    resource: (&&Probe::<$oty>(PhantomData)).gvk(),
                    list_kind: None,
                },
            )*];
            described.into_iter().chain(others).collect()
        }

        const LISTED: &[&str] = &[$($def,)* $($odef,)*];
    };
}

for_each_k8s_openapi_type!(collect_types);

fn package_of(definition: &str) -> &str {
    definition.rsplit_once('.').map_or("", |(p, _)| p)
}

/// Does the table's type reference fit what k8s-openapi deserializes?
fn fits(ty: &TypeRef, shape: &Shape, openapi: &BTreeMap<&str, &OpenApiType>) -> Result<(), String> {
    let shape = shape.unwrap_options();
    let ok = match ty {
        TypeRef::Alias { target, .. } => return fits(target, shape, openapi),
        TypeRef::Pointer(inner) => return fits(inner, shape, openapi),
        TypeRef::Primitive(p) => matches!(
            (p, shape),
            (Primitive::String, Shape::Str)
                | (Primitive::Bool, Shape::Bool)
                | (Primitive::Int32, Shape::I32)
                | (Primitive::Int64 | Primitive::Int, Shape::I64)
                | (Primitive::Float64, Shape::F64)
        ),
        // k8s_openapi::ByteString deserializes a (base64) string.
        TypeRef::Bytes => *shape == Shape::Str,
        TypeRef::Any => *shape == Shape::Any,
        TypeRef::List(inner) => match shape {
            Shape::Seq(element) => return fits(inner, element, openapi),
            _ => false,
        },
        TypeRef::Map { value, .. } => match shape {
            Shape::Map(v) => return fits(value, v, openapi),
            _ => false,
        },
        TypeRef::Named(name) | TypeRef::Special { name, .. } => match openapi.get(name.as_str()) {
            Some(target) => target.shape == *shape,
            None => return Err(format!("refers to {name}, which k8s-openapi lacks, where it has {shape:?}")),
        },
    };
    if ok { Ok(()) } else { Err(format!("table type {ty} but k8s-openapi deserializes {shape:?}")) }
}

fn is_list_kind(ty: &TypeFacts) -> bool {
    let names: BTreeSet<&str> = ty.json_fields().filter_map(|f| f.json.as_deref()).collect();
    ty.name.ends_with("List") && names == BTreeSet::from(["apiVersion", "kind", "metadata", "items"])
}

#[test]
fn every_k8s_openapi_type_and_field_is_in_the_table() {
    let facts: &ApiFacts = facts();
    let types = k8s_openapi_types();
    let openapi: BTreeMap<&str, &OpenApiType> = types.iter().map(|t| (t.definition, t)).collect();
    let mut failures = Vec::new();
    let mut checked_fields = 0;

    for t in &types {
        let Some(table) = facts.type_by_name(t.definition) else {
            failures.push(format!("{} ({}) is missing from the table", t.definition, t.rust_path));
            continue;
        };
        match &t.shape {
            Shape::Struct { name, .. } => {
                if *name != table.go_name() {
                    failures.push(format!("{}: k8s-openapi names it {name}, Go {}", t.definition, table.go_name()));
                }
                if table.custom_json {
                    failures.push(format!("{}: a plain struct in k8s-openapi, hand-written JSON in Go", t.definition));
                }
                for (json, shape) in &t.fields {
                    checked_fields += 1;
                    match table.field(json) {
                        None => failures.push(format!("{}.{json} is missing from the table", t.definition)),
                        Some(field) => {
                            let excepted = SHAPE_EXCEPTIONS.iter().any(|(ty, f, _)| *ty == t.definition && f == json);
                            if let Err(e) = fits(&field.ty, shape, &openapi)
                                && !excepted
                            {
                                failures.push(format!("{}.{json}: {e}", t.definition));
                            }
                        }
                    }
                }
            }
            Shape::Unknown => {} // not deserializable (meta/v1 Patch): presence is all we check
            // k8s-openapi models an empty struct as a newtype around a map.
            Shape::Newtype(name) if table.fields.is_empty() && !table.custom_json => {
                if *name != table.go_name() {
                    failures.push(format!("{}: k8s-openapi names it {name}, Go {}", t.definition, table.go_name()));
                }
            }
            other => {
                if table.special.is_none() {
                    failures.push(format!(
                        "{}: k8s-openapi deserializes {other:?} but the table has no special type",
                        t.definition
                    ));
                }
            }
        }
        if let Some((group, version, kind)) = t.resource {
            match facts.kind(group, version, kind) {
                Some(found) if found.name == t.definition => {}
                Some(found) => failures.push(format!(
                    "kind {group}/{version} {kind} is {} in the table, {} in k8s-openapi",
                    found.name, t.definition
                )),
                None => failures
                    .push(format!("kind {group}/{version} {kind} ({}) is not registered in the table", t.definition)),
            }
            if let Some(list_kind) = t.list_kind {
                match facts.kind(group, version, list_kind) {
                    Some(list) if is_list_kind(list) => {
                        let items = list.field("items").map(|f| f.ty.clone());
                        let element = items.as_ref().and_then(|ty| ty.list_element()).and_then(|e| e.struct_name());
                        if element != Some(t.definition) {
                            failures.push(format!("{}.items holds {items:?}, not {}", list.name, t.definition));
                        }
                    }
                    Some(other) => failures.push(format!("list kind {list_kind} is {}, not a list", other.name)),
                    None => {
                        failures.push(format!("list kind {group}/{version} {list_kind} is not registered in the table"))
                    }
                }
            }
        }
    }
    assert!(checked_fields > 2500, "only {checked_fields} fields checked: is the type list empty?");
    assert!(failures.is_empty(), "{} problems:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn what_the_table_has_beyond_k8s_openapi_is_documented() {
    let facts = facts();
    let types = k8s_openapi_types();
    let openapi: BTreeMap<&str, &OpenApiType> = types.iter().map(|t| (t.definition, t)).collect();
    let openapi_packages: BTreeSet<&str> = types.iter().map(|t| package_of(t.definition)).collect();
    let documented_packages: BTreeMap<&str, &str> = PACKAGES_NOT_IN_K8S_OPENAPI.iter().copied().collect();
    let documented_types: BTreeMap<&str, &str> =
        TYPES_NOT_IN_K8S_OPENAPI.iter().flat_map(|(why, names)| names.iter().map(move |n| (*n, *why))).collect();
    let inlined: BTreeSet<&str> =
        facts.types().flat_map(|t| t.fields()).filter(|f| f.inline).filter_map(|f| f.ty.struct_name()).collect();
    let documented_fields: BTreeSet<(&str, &str)> =
        FIELDS_NOT_IN_K8S_OPENAPI.iter().map(|(t, f, _)| (*t, *f)).collect();
    let mut undocumented = Vec::new();
    let mut missing_packages = BTreeSet::new();
    let mut used_types = BTreeSet::new();
    let mut used_fields = BTreeSet::new();

    for ty in facts.types() {
        let package = package_of(&ty.name);
        if !ty.openapi && !openapi.contains_key(ty.name.as_str()) {
            continue; // marked +k8s:openapi-gen=false (type or package)
        }
        match openapi.get(ty.name.as_str()) {
            None if !openapi_packages.contains(package) => {
                missing_packages.insert(package);
                if !documented_packages.contains_key(package) {
                    undocumented.push(format!("package {package} (e.g. {}) is not in k8s-openapi", ty.name));
                }
            }
            None => {
                if documented_types.contains_key(ty.name.as_str()) {
                    used_types.insert(ty.name.as_str());
                } else if !(is_list_kind(ty) || inlined.contains(ty.name.as_str())) {
                    undocumented.push(format!("type {} is not in k8s-openapi", ty.name));
                }
            }
            Some(t) => {
                let known: BTreeSet<&str> = t.fields.iter().map(|(f, _)| *f).collect();
                if !matches!(t.shape, Shape::Struct { .. }) {
                    continue;
                }
                for field in ty.json_fields() {
                    let Some(json) = field.json.as_deref() else { continue };
                    if known.contains(json) {
                        continue;
                    }
                    if documented_fields.contains(&(ty.name.as_str(), json)) {
                        used_fields.insert((ty.name.as_str(), json));
                    } else {
                        undocumented.push(format!("field {}.{json} is not in k8s-openapi", ty.name));
                    }
                }
            }
        }
    }
    for (package, _) in PACKAGES_NOT_IN_K8S_OPENAPI {
        if !missing_packages.contains(package) {
            undocumented.push(format!("documented package {package} is no longer missing from k8s-openapi"));
        }
    }
    for name in documented_types.keys() {
        if !used_types.contains(name) {
            undocumented.push(format!("documented type {name} is no longer an extra"));
        }
    }
    for (name, field, _) in FIELDS_NOT_IN_K8S_OPENAPI {
        if !used_fields.contains(&(*name, *field)) {
            undocumented.push(format!("documented field {name}.{field} is no longer an extra"));
        }
    }
    assert!(undocumented.is_empty(), "{} undocumented differences:\n{}", undocumented.len(), undocumented.join("\n"));
}

/// Finds k8s-openapi's `src/v1_36` through `cargo metadata`.
fn k8s_openapi_source() -> PathBuf {
    // Restricted to the host platform, `cargo metadata --offline` needs no package that is not
    // already downloaded.
    let version = std::process::Command::new(env!("CARGO")).arg("-vV").output().expect("run cargo -vV");
    let version = String::from_utf8_lossy(&version.stdout).into_owned();
    let host = version.lines().find_map(|l| l.strip_prefix("host: ")).expect("host in cargo -vV").trim().to_owned();
    let output = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--offline", "--filter-platform", &host, "--manifest-path"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .output()
        .expect("run cargo metadata");
    assert!(output.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("cargo metadata JSON");
    let manifest = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == "k8s-openapi")
        .and_then(|p| p["manifest_path"].as_str())
        .expect("k8s-openapi in cargo metadata");
    Path::new(manifest).parent().expect("manifest dir").join("src/v1_36")
}

/// (definition, Rust path, deserializable) of every type in k8s-openapi's source.
fn scan_k8s_openapi(root: &Path) -> Vec<(String, String, bool)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(dir).expect("read k8s-openapi source").map(|e| e.expect("entry").path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") && path.file_name().is_some_and(|n| n != "mod.rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(root, &mut files);
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source file");
        let Some(definition) = text.lines().next().and_then(|l| l.strip_prefix("// Generated from definition ")) else {
            continue;
        };
        let Some(name) = text.lines().find_map(|l| {
            l.strip_prefix("pub struct ").or_else(|| l.strip_prefix("pub enum ")).map(|rest| {
                rest.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or_default().to_owned()
            })
        }) else {
            continue;
        };
        let generic = text.contains(&format!("pub struct {name}<")) || text.contains(&format!("pub enum {name}<"));
        let module = file.parent().expect("parent").strip_prefix(root).expect("under root");
        let mut path = String::from("k8s_openapi");
        for part in module.components() {
            path.push_str("::");
            path.push_str(&part.as_os_str().to_string_lossy());
        }
        path.push_str("::");
        path.push_str(&name);
        if generic {
            // Only `List<T>` (k8s-openapi's own, no definition of the API) and `WatchEvent<T>`, whose
            // object is a RawExtension in Go.
            if name != "WatchEvent" {
                continue;
            }
            path.push_str("<k8s_openapi::apimachinery::pkg::runtime::RawExtension>");
        }
        let deserializable = text.contains("Deserialize<'de> for");
        out.push((definition.trim().to_owned(), path, deserializable));
    }
    out.sort();
    out
}

fn render_list(types: &[(String, String, bool)]) -> String {
    let mut text = String::from(
        "//! Every type of k8s-openapi (feature v1_36) with the OpenAPI definition it was generated from.\n\
         //! Generated by `KUBEPLEX_API_FACTS_BLESS=1 cargo test -p kubeplex-api-facts --test coverage`.\n\n\
         macro_rules! for_each_k8s_openapi_type {\n    ($callback:ident) => {\n        $callback! {\n            deserializable {\n",
    );
    for (definition, path, _) in types.iter().filter(|t| t.2) {
        text.push_str(&format!("                {definition:?} => {path},\n"));
    }
    text.push_str("            }\n            other {\n");
    for (definition, path, _) in types.iter().filter(|t| !t.2) {
        text.push_str(&format!("                {definition:?} => {path},\n"));
    }
    text.push_str("            }\n        }\n    };\n}\n");
    text
}

#[test]
fn the_type_list_matches_k8s_openapi_source() {
    let scanned = scan_k8s_openapi(&k8s_openapi_source());
    assert!(scanned.len() > 600, "only {} types found in k8s-openapi's source", scanned.len());
    let scanned_names: Vec<&str> = scanned.iter().map(|t| t.0.as_str()).collect();
    let mut listed: Vec<&str> = LISTED.to_vec();
    listed.sort_unstable();
    if scanned_names != listed {
        let list_file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/k8s_openapi_types.rs");
        if std::env::var_os("KUBEPLEX_API_FACTS_BLESS").is_some() {
            std::fs::write(list_file, render_list(&scanned)).expect("write the type list");
            panic!("rewrote {list_file}; run the tests again");
        }
        let scanned_set: BTreeSet<&str> = scanned_names.iter().copied().collect();
        let listed_set: BTreeSet<&str> = listed.iter().copied().collect();
        panic!(
            "the type list is stale (refresh it with KUBEPLEX_API_FACTS_BLESS=1):\nnew in k8s-openapi: {:?}\ngone: {:?}",
            scanned_set.difference(&listed_set).collect::<Vec<_>>(),
            listed_set.difference(&scanned_set).collect::<Vec<_>>()
        );
    }
}
