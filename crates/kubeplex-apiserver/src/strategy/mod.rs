//! Per-kind registry strategies: what kube-apiserver 1.36 does to an object
//! between decoding and storing it — the defaults of `pkg/apis/<group>/v1`
//! (applied on every decode upstream), the strategy's resets
//! (`pkg/registry/<group>/<kind>/strategy.go`) and validation
//! (`pkg/apis/<group>/validation`), with upstream's messages.
//!
//! ```text
//!  create: name/uid set ─► prepare_for_create ─► validate_create ─► store
//!  update: merged body  ─► prepare_for_update ─► validate_update ─► store
//!                          (defaults + resets)    (422 Invalid, or 400 for
//!                                                  what fails to decode)
//! ```
//!
//! Objects are JSON (`serde_json::Value`) in the version they are served in.
//! Kinds without a strategy here get metadata validation only.
//!
//! Where the served JSON of an object carries zero values Go always serializes
//! (a Service's `status.loadBalancer: {}`, a container's `resources: {}`, an
//! EndpointSlice's `endpoints: null`, an Event's `eventTime: null`), the
//! defaults add them, so objects read back as they do from kube-apiserver.

mod admission;
mod apps;
mod batch;
mod cluster;
mod core;
mod custom;
mod dra;
mod field;
mod gojson;
mod hpa_v1;
mod meta;
mod networking;
mod other;
mod pod;
mod podspec;
mod policy;
mod rbac;
mod volumes;
mod workloads;

use kubeplex_core::names::{NameValidator, name_is_dns_label, name_is_dns_subdomain, name_is_dns1035_label};
use kubeplex_core::resource::ResourceDef;
use kubeplex_core::status::ApiError;
use serde_json::Value;

pub use hpa_v1::{hpa_v1_from_v2, hpa_v2_from_v1};
pub use other::{core_event_from_events_v1, events_v1_from_core_event};

use field::{Errs, into_result, name_of};
use meta::{Finalizers, MetaRules};
use other::EventVersion;

/// The kinds with a strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Namespace,
    Pod,
    Service,
    Endpoints,
    ConfigMap,
    Secret,
    ServiceAccount,
    Node,
    Event(EventVersion),
    Deployment,
    ReplicaSet,
    Job,
    Lease,
    EndpointSlice,
    LogicalCluster,
    CustomResourceDefinition,
    /// An object of a CustomResourceDefinition.
    Custom,
    Volumes(volumes::VolumeKind),
    Workloads(workloads::WorkloadKind),
    Policy(policy::PolicyKind),
    Networking(networking::NetKind),
    Rbac(rbac::RbacKind),
    Cluster(cluster::ClusterKind),
    Other,
}

fn kind_of(def: &ResourceDef) -> Kind {
    if def.custom.is_some() {
        return Kind::Custom;
    }
    match (&*def.group, &*def.kind) {
        ("", "Namespace") => Kind::Namespace,
        ("", "Pod") => Kind::Pod,
        ("", "Service") => Kind::Service,
        ("", "Endpoints") => Kind::Endpoints,
        ("", "ConfigMap") => Kind::ConfigMap,
        ("", "Secret") => Kind::Secret,
        ("", "ServiceAccount") => Kind::ServiceAccount,
        ("", "Node") => Kind::Node,
        ("", "Event") => Kind::Event(EventVersion::Core),
        ("events.k8s.io", "Event") => Kind::Event(EventVersion::Events),
        ("apps", "Deployment") => Kind::Deployment,
        ("apps", "ReplicaSet") => Kind::ReplicaSet,
        ("batch", "Job") => Kind::Job,
        ("coordination.k8s.io", "Lease") => Kind::Lease,
        ("discovery.k8s.io", "EndpointSlice") => Kind::EndpointSlice,
        ("kubeplex.io", "LogicalCluster") => Kind::LogicalCluster,
        ("apiextensions.k8s.io", "CustomResourceDefinition") => Kind::CustomResourceDefinition,
        (group, kind) => {
            if let Some(k) = volumes::kind_of(group, kind) {
                Kind::Volumes(k)
            } else if let Some(k) = workloads::kind_of(group, kind) {
                Kind::Workloads(k)
            } else if let Some(k) = policy::kind_of(group, kind) {
                Kind::Policy(k)
            } else if let Some(k) = networking::kind_of(group, kind) {
                Kind::Networking(k)
            } else if let Some(k) = rbac::kind_of(group, kind) {
                Kind::Rbac(k)
            } else if let Some(k) = cluster::kind_of(group, kind) {
                Kind::Cluster(k)
            } else {
                Kind::Other
            }
        }
    }
}

/// The metadata rules of a kind: its name validator, scope and finalizer rule.
fn meta_rules(def: &ResourceDef, kind: Kind) -> MetaRules {
    let name: NameValidator = match kind {
        Kind::Namespace | Kind::LogicalCluster => name_is_dns_label,
        Kind::Service => name_is_dns1035_label,
        Kind::Workloads(k) => workloads::name_validator(k),
        Kind::Policy(k) => policy::name_validator(k),
        Kind::Networking(k) => k.name_validator(),
        Kind::Rbac(k) => k.name_validator(),
        Kind::Cluster(k) => k.name_validator(),
        _ => name_is_dns_subdomain,
    };
    let finalizers = match kind {
        Kind::Lease | Kind::LogicalCluster | Kind::Custom | Kind::CustomResourceDefinition | Kind::Other => {
            Finalizers::Generic
        }
        Kind::Policy(k) if policy::generic_finalizers(k) => Finalizers::Generic,
        Kind::Cluster(k) if k.generic_finalizers() => Finalizers::Generic,
        _ => Finalizers::Kube,
    };
    MetaRules { name, namespaced: def.namespaced, finalizers }
}

/// Labels and annotations serialize with sorted keys (Go maps).
fn sort_metadata_maps(object: &mut Value) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        field::sort_map(meta, "labels");
        field::sort_map(meta, "annotations");
    }
}

/// Applies the kind's defaults (what upstream's decoding applies).
fn defaults(kind: Kind, object: &mut Value) {
    sort_metadata_maps(object);
    match kind {
        Kind::Namespace => core::namespace_defaults(object),
        Kind::Pod => pod::defaults(object),
        Kind::Service => core::service_defaults(object),
        Kind::Endpoints => core::endpoints_defaults(object),
        Kind::ConfigMap => core::config_map_defaults(object),
        Kind::Secret => core::secret_defaults(object),
        Kind::Node => core::node_defaults(object),
        Kind::Event(EventVersion::Core) => other::event_core_defaults(object),
        Kind::Event(EventVersion::Events) => other::event_events_defaults(object),
        Kind::Deployment => apps::deployment_defaults(object),
        Kind::ReplicaSet => apps::replica_set_defaults(object),
        Kind::Job => {
            batch::defaults(object);
        }
        Kind::Lease => other::lease_defaults(object),
        Kind::CustomResourceDefinition => custom::crd_defaults(object),
        Kind::EndpointSlice => other::endpoint_slice_defaults(object),
        Kind::Volumes(k) => volumes::defaults(k, object),
        Kind::Workloads(k) => workloads::defaults(k, object),
        Kind::Policy(k) => policy::defaults(k, object),
        Kind::Networking(k) => networking::defaults(k, object),
        Kind::Rbac(k) => rbac::defaults(k, object),
        Kind::Cluster(k) => cluster::defaults(k, object),
        Kind::ServiceAccount | Kind::LogicalCluster | Kind::Custom | Kind::Other => {}
    }
}

/// Defaults and the strategy's `PrepareForCreate` for a new object whose
/// name, namespace and uid are already set (generation 1 is the caller's,
/// except where a kind sets it itself: Pods, Jobs, EndpointSlices).
///
/// Status resets: a new Pod is `{"phase":"Pending","qosClass":...}`, a
/// Namespace `{"phase":"Active"}`, a Service `{"loadBalancer":{}}`, a
/// Deployment or Job `{}`, a ReplicaSet `{"replicas":0}`; a Node keeps the
/// status it is created with; LogicalClusters are left to the caller.
pub fn prepare_for_create(def: &ResourceDef, object: &mut Value) {
    if hpa_v1::is_v1(def) {
        return hpa_v1::prepare_for_create(def, object);
    }
    let kind = kind_of(def);
    if kind == Kind::Job {
        let labels_from_template = batch::defaults(object);
        batch::prepare_for_create(object, labels_from_template);
        sort_metadata_maps(object);
        return;
    }
    defaults(kind, object);
    let set_status = |object: &mut Value, status: Value| {
        if let Some(obj) = object.as_object_mut() {
            obj.insert("status".into(), status);
        }
    };
    match kind {
        Kind::Namespace => {
            core::namespace_prepare_create(object);
            sort_metadata_maps(object);
        }
        Kind::Pod => pod::prepare_for_create(object),
        Kind::Service => core::service_prepare_create(object),
        Kind::ServiceAccount => core::service_account_prepare(object),
        Kind::Deployment => set_status(object, serde_json::json!({})),
        Kind::ReplicaSet => set_status(object, serde_json::json!({"replicas": 0})),
        Kind::EndpointSlice => other::endpoint_slice_generation(object, None),
        Kind::CustomResourceDefinition => custom::crd_prepare_create(object),
        Kind::Custom => custom::custom_prepare_create(def, object),
        Kind::Volumes(k) => volumes::prepare_for_create(k, object),
        Kind::Workloads(k) => workloads::prepare_for_create(k, object),
        Kind::Policy(k) => policy::prepare_for_create(k, object),
        Kind::Networking(k) => networking::prepare_for_create(k, object),
        Kind::Cluster(k) => cluster::prepare_for_create(k, object),
        _ => {}
    }
}

/// What a DELETE does to an object before it is marked for deletion (or
/// goes): a CustomResourceDefinition gets the finalizer under which its
/// objects are removed first.
pub fn prepare_for_delete(def: &ResourceDef, object: &mut Value) {
    if kind_of(def) == Kind::CustomResourceDefinition {
        custom::crd_prepare_delete(object);
    }
}

/// What two default admission plugins of kube-apiserver add to a new Pod
/// (`Priority` without PriorityClass lookups, `DefaultTolerationSeconds`):
/// `priority: 0` and `preemptionPolicy: PreemptLowerPriority` for a pod
/// without a priority class, and the 300-second not-ready/unreachable
/// tolerations. Not part of the strategy; for the create path of Pods, after
/// [`prepare_for_create`]. (The `ServiceAccount` plugin, which sets
/// `serviceAccountName: default` and mounts the token volume, needs the
/// ServiceAccount and is not here.)
pub fn admit_pod_create(object: &mut Value) {
    pod::admission_defaults(object);
}

/// Validation of a new object (after [`prepare_for_create`]): `Err` is the
/// 422 `Invalid` error upstream returns (`Deployment.apps "web" is invalid:
/// spec.selector: Required value`), or a 400 for values upstream cannot even
/// decode (a malformed quantity, bad base64 in a Secret).
pub fn validate_create(def: &ResourceDef, object: &Value) -> Result<(), ApiError> {
    if hpa_v1::is_v1(def) {
        return hpa_v1::validate_create(def, object);
    }
    let kind = kind_of(def);
    decode_errors(def, kind, object)?;
    let rules = meta_rules(def, kind);
    let mut errs: Errs = match kind {
        // Core Events are validated by the legacy rules only (no metadata).
        Kind::Event(EventVersion::Core) => Errs::new(),
        _ => meta::validate_create(object, rules),
    };
    errs.extend(match kind {
        Kind::Namespace => core::namespace_validate(object),
        Kind::Pod => pod::validate_create(object),
        Kind::Service => core::service_validate(object),
        Kind::Endpoints => core::endpoints_validate(object),
        Kind::ConfigMap => core::config_map_validate(object),
        Kind::Secret => core::secret_validate(object),
        Kind::Node => core::node_validate(object),
        Kind::Event(version) => other::event_validate_create(object, version),
        Kind::Deployment => apps::deployment_validate(object),
        Kind::ReplicaSet => apps::replica_set_validate(object),
        Kind::Job => batch::validate(object, batch::JobOpts { require_prefixed_labels: true }),
        Kind::Lease => other::lease_validate(object),
        Kind::EndpointSlice => other::endpoint_slice_validate(object),
        Kind::LogicalCluster => other::logical_cluster_validate(object),
        Kind::CustomResourceDefinition => custom::crd_validate(object),
        Kind::Volumes(k) => volumes::validate_create(k, object),
        Kind::Workloads(k) => workloads::validate_create(k, object),
        Kind::Policy(k) => policy::validate_create(k, object),
        Kind::Networking(k) => networking::validate_create(k, object),
        Kind::Rbac(k) => rbac::validate_create(k, object),
        Kind::Cluster(k) => cluster::validate_create(k, object),
        Kind::Custom => custom::custom_validate(def, object, None),
        Kind::ServiceAccount | Kind::Other => Errs::new(),
    });
    into_result(def, name_of(object), errs)
}

/// Defaults and the strategy's `PrepareForUpdate` for a write to the main
/// resource (not to `/status`): the stored status is kept for kinds with a
/// status subresource, a Namespace keeps its `spec.finalizers`, a Service
/// gets back the allocated values a client left out; Deployments (spec or
/// annotation changes) and EndpointSlices (any change outside metadata) get
/// their new `generation` here, computed from `old`, so call this after the
/// generic metadata carry-over.
pub fn prepare_for_update(def: &ResourceDef, new: &mut Value, old: &Value) {
    if hpa_v1::is_v1(def) {
        return hpa_v1::prepare_for_update(def, new, old);
    }
    let kind = kind_of(def);
    defaults(kind, new);
    if def.subresource("status").is_some() && kind != Kind::LogicalCluster {
        core::keep_status(new, old);
    }
    match kind {
        Kind::Namespace => {
            core::namespace_prepare_update(new, old);
            core::namespace_defaults(new);
            sort_metadata_maps(new);
        }
        Kind::Service => core::service_prepare_update(new, old),
        Kind::ServiceAccount => core::service_account_prepare(new),
        Kind::Deployment => apps::deployment_generation(new, old),
        Kind::EndpointSlice => other::endpoint_slice_generation(new, Some(old)),
        Kind::CustomResourceDefinition => custom::crd_prepare_update(new, old),
        Kind::Custom => custom::custom_prepare_update(def, new, old),
        Kind::Workloads(k) => workloads::prepare_for_update(k, new, old),
        Kind::Policy(k) => policy::prepare_for_update(k, new, old),
        Kind::Cluster(k) => cluster::prepare_for_update(k, new, old),
        _ => {}
    }
}

/// Validation of an update (after [`prepare_for_update`]): everything
/// [`validate_create`] checks on the new object plus the immutable fields
/// (`spec.selector: Invalid value: {...}: field is immutable`, a Pod's spec,
/// a Job's template, a Service's cluster IPs, a Secret's type, data under
/// `immutable: true`, an EndpointSlice's address type, ...).
pub fn validate_update(def: &ResourceDef, new: &Value, old: &Value) -> Result<(), ApiError> {
    if hpa_v1::is_v1(def) {
        return hpa_v1::validate_update(def, new, old);
    }
    let kind = kind_of(def);
    decode_errors(def, kind, new)?;
    let rules = meta_rules(def, kind);
    // Upstream's update validators re-run parts of the create validation; the
    // order (and the duplicated causes, which the message drops) follow them.
    let create_meta = || meta::validate_create(new, rules);
    let update_meta = || meta::validate_update(new, old, rules);
    let errs: Errs = match kind {
        Kind::Namespace => [create_meta(), core::namespace_validate(new), update_meta()].concat(),
        Kind::Pod => [update_meta(), create_meta(), pod::validate_update(new, old)].concat(),
        Kind::Service => {
            [update_meta(), core::service_validate_update(new, old), create_meta(), core::service_validate(new)]
                .concat()
        }
        Kind::Endpoints => [update_meta(), create_meta(), core::endpoints_validate(new)].concat(),
        Kind::ConfigMap => {
            [update_meta(), core::config_map_validate_update(new, old), create_meta(), core::config_map_validate(new)]
                .concat()
        }
        Kind::Secret => {
            [update_meta(), core::secret_validate_update(new, old), create_meta(), core::secret_validate(new)].concat()
        }
        Kind::ServiceAccount => [update_meta(), create_meta()].concat(),
        Kind::Node => {
            [create_meta(), core::node_validate(new), update_meta(), core::node_validate_update(new, old)].concat()
        }
        Kind::Event(EventVersion::Core) => other::event_validate_update(new, old, EventVersion::Core),
        Kind::Event(EventVersion::Events) => {
            [update_meta(), other::event_validate_update(new, old, EventVersion::Events)].concat()
        }
        Kind::Deployment => {
            [update_meta(), apps::deployment_validate(new), apps::selector_immutable(new, old)].concat()
        }
        Kind::ReplicaSet => {
            [update_meta(), apps::replica_set_validate(new), apps::selector_immutable(new, old)].concat()
        }
        Kind::Job => [
            create_meta(),
            batch::validate(new, batch::update_opts(old)),
            update_meta(),
            batch::validate_update(new, old),
        ]
        .concat(),
        Kind::Lease => [update_meta(), other::lease_validate(new)].concat(),
        Kind::EndpointSlice => [
            update_meta(),
            create_meta(),
            other::endpoint_slice_validate(new),
            other::endpoint_slice_validate_update(new, old),
        ]
        .concat(),
        Kind::LogicalCluster => [update_meta(), other::logical_cluster_validate(new)].concat(),
        Kind::Volumes(k) => volumes::validate_update(k, new, old, rules),
        Kind::Workloads(k) => workloads::validate_update(k, new, old, rules),
        Kind::Policy(k) => policy::validate_update(k, new, old, rules),
        Kind::Networking(k) => networking::validate_update(k, new, old, rules),
        Kind::Rbac(k) => rbac::validate_update(k, new, old, rules),
        Kind::Cluster(k) => cluster::validate_update(k, new, old, rules),
        Kind::CustomResourceDefinition => [update_meta(), custom::crd_validate_update(new, old)].concat(),
        Kind::Custom => [update_meta(), custom::custom_validate(def, new, Some(old))].concat(),
        Kind::Other => update_meta(),
    };
    into_result(def, name_of(new), errs)
}

/// Records who asked for a new object where upstream's `PrepareForCreate`
/// takes it from the request (a CertificateSigningRequest's
/// `spec.username` and `spec.groups`); call after [`prepare_for_create`].
/// Other kinds are left alone.
pub fn set_requester(def: &ResourceDef, object: &mut Value, user: &str, groups: &[String]) {
    if kind_of(def) == Kind::Cluster(cluster::ClusterKind::CertificateSigningRequest) {
        cluster::csr_set_requester(object, user, groups);
    }
}

/// The strategy of a write to a subresource that carries the object
/// (`status`, `approval`), after the caller rebuilt the object from the
/// stored one and the request's status: what the subresource may not change
/// is put back (a CertificateSigningRequest keeps its Approved/Denied
/// conditions through `/status` and everything but its conditions through
/// `/approval`). Kinds without such a strategy keep the request's status.
pub fn prepare_for_subresource_update(def: &ResourceDef, subresource: &str, new: &mut Value, old: &Value) {
    if let Kind::Cluster(k) = kind_of(def) {
        cluster::prepare_for_subresource_update(k, subresource, new, old);
    }
}

/// Validation of a subresource write (after
/// [`prepare_for_subresource_update`]); kinds without rules accept it.
pub fn validate_subresource_update(
    def: &ResourceDef,
    subresource: &str,
    new: &Value,
    old: &Value,
) -> Result<(), ApiError> {
    let kind = kind_of(def);
    let rules = meta_rules(def, kind);
    let errs = match kind {
        Kind::Cluster(k) => cluster::validate_subresource_update(k, subresource, new, old, rules),
        Kind::Networking(k) if subresource == "status" => networking::validate_status_update(k, new, old, rules),
        _ => Errs::new(),
    };
    into_result(def, name_of(new), errs)
}

/// Values upstream fails to decode, reported before validation as
/// `<Kind> in version "<v>" cannot be handled as a <Kind>: <why>` (400).
fn decode_errors(def: &ResourceDef, kind: Kind, object: &Value) -> Result<(), ApiError> {
    let problem = match kind {
        Kind::Pod => object.get("spec").and_then(podspec::bad_quantity),
        Kind::Deployment | Kind::ReplicaSet | Kind::Job => object
            .get("spec")
            .and_then(|s| s.get("template"))
            .and_then(|t| t.get("spec"))
            .and_then(podspec::bad_quantity),
        Kind::Secret => core::secret_decode_error(object),
        Kind::ConfigMap => core::config_map_decode_error(object),
        Kind::Volumes(k) => volumes::decode_error(k, object),
        Kind::Workloads(k) => workloads::decode_error(k, object),
        Kind::Policy(k) => policy::decode_error(k, object),
        Kind::Cluster(k) => cluster::decode_error(k, object),
        _ => None,
    };
    match problem {
        None => Ok(()),
        Some(why) => Err(ApiError::bad_request(format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: {why}",
            kind = def.kind,
            version = def.version
        ))),
    }
}

#[cfg(test)]
mod tests;
