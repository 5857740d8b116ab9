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

mod apps;
mod batch;
mod core;
mod field;
mod meta;
mod other;
mod pod;
mod podspec;

use kubeplex_core::names::{NameValidator, name_is_dns_label, name_is_dns_subdomain, name_is_dns1035_label};
use kubeplex_core::resource::ResourceDef;
use kubeplex_core::status::ApiError;
use serde_json::Value;

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
    Other,
}

fn kind_of(def: &ResourceDef) -> Kind {
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
        _ => Kind::Other,
    }
}

/// The metadata rules of a kind: its name validator, scope and finalizer rule.
fn meta_rules(def: &ResourceDef, kind: Kind) -> MetaRules {
    let name: NameValidator = match kind {
        Kind::Namespace | Kind::LogicalCluster => name_is_dns_label,
        Kind::Service => name_is_dns1035_label,
        _ => name_is_dns_subdomain,
    };
    let finalizers = match kind {
        Kind::Lease | Kind::LogicalCluster | Kind::Other => Finalizers::Generic,
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
        Kind::EndpointSlice => other::endpoint_slice_defaults(object),
        Kind::ServiceAccount | Kind::LogicalCluster | Kind::Other => {}
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
        _ => {}
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
        _ => {}
    }
}

/// Validation of an update (after [`prepare_for_update`]): everything
/// [`validate_create`] checks on the new object plus the immutable fields
/// (`spec.selector: Invalid value: {...}: field is immutable`, a Pod's spec,
/// a Job's template, a Service's cluster IPs, a Secret's type, data under
/// `immutable: true`, an EndpointSlice's address type, ...).
pub fn validate_update(def: &ResourceDef, new: &Value, old: &Value) -> Result<(), ApiError> {
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
        Kind::Other => update_meta(),
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
