//! Documents of the built-in group-versions: the schemas of `k8s-openapi` (its `schemars`
//! implementations, named by OpenAPI definition name) for every kind served, everything they
//! reach, list kinds, the meta kinds of requests and responses, and the facts' extensions.
//!
//! ```text
//!  BUILTIN (group, version) ─► KINDS: kind ─► Rust type ─► SchemaGenerator (OpenAPI 3.0 refs)
//!      ─► + <Kind>List, DeleteOptions, Status, WatchEvent, Patch, subresource kinds
//!      ─► extensions::apply (facts) ─► wrap $ref siblings ─► paths ─► document
//! ```

use k8s_openapi::schemars::JsonSchema;
use k8s_openapi::schemars::generate::{SchemaGenerator, SchemaSettings};
use kubeplex_core::resource::BUILTIN;
use serde_json::{Map, Value, json};

use super::extensions;
use super::paths::{self, Resource};
use crate::registry::Def;

/// A schema generator writing OpenAPI 3.0 references (`#/components/schemas/<name>`).
pub(super) fn generator() -> SchemaGenerator {
    SchemaSettings::openapi3()
        .with(|s| {
            s.meta_schema = None;
        })
        .into_generator()
}

/// Adds `T` (and all it reaches) to the generator; returns its schema name.
fn add<T: JsonSchema>(generator: &mut SchemaGenerator) -> String {
    generator.subschema_for::<T>();
    T::schema_name().into_owned()
}

macro_rules! kinds {
    ($(($group:literal, $version:literal, $kind:literal) => $ty:ty;)*) => {
        /// Every built-in kind with a Rust type: (group, version, kind).
        #[cfg(test)]
        pub(super) const KINDS: &[(&str, &str, &str)] = &[$(($group, $version, $kind)),*];

        /// Adds the schema of built-in kind `group/version/kind` to the generator; its name.
        fn add_kind(generator: &mut SchemaGenerator, group: &str, version: &str, kind: &str) -> Option<String> {
            match (group, version, kind) {
                $(($group, $version, $kind) => Some(add::<$ty>(generator)),)*
                _ => None,
            }
        }
    };
}

use k8s_openapi::api;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;

kinds! {
    ("", "v1", "ConfigMap") => api::core::v1::ConfigMap;
    ("", "v1", "Endpoints") => api::core::v1::Endpoints;
    ("", "v1", "Event") => api::core::v1::Event;
    ("", "v1", "LimitRange") => api::core::v1::LimitRange;
    ("", "v1", "Namespace") => api::core::v1::Namespace;
    ("", "v1", "Node") => api::core::v1::Node;
    ("", "v1", "PersistentVolumeClaim") => api::core::v1::PersistentVolumeClaim;
    ("", "v1", "PersistentVolume") => api::core::v1::PersistentVolume;
    ("", "v1", "Pod") => api::core::v1::Pod;
    ("", "v1", "PodTemplate") => api::core::v1::PodTemplate;
    ("", "v1", "ReplicationController") => api::core::v1::ReplicationController;
    ("", "v1", "ResourceQuota") => api::core::v1::ResourceQuota;
    ("", "v1", "Secret") => api::core::v1::Secret;
    ("", "v1", "ServiceAccount") => api::core::v1::ServiceAccount;
    ("", "v1", "Service") => api::core::v1::Service;
    ("", "v1", "Binding") => api::core::v1::Binding;
    ("apps", "v1", "ControllerRevision") => api::apps::v1::ControllerRevision;
    ("apps", "v1", "DaemonSet") => api::apps::v1::DaemonSet;
    ("apps", "v1", "Deployment") => api::apps::v1::Deployment;
    ("apps", "v1", "ReplicaSet") => api::apps::v1::ReplicaSet;
    ("apps", "v1", "StatefulSet") => api::apps::v1::StatefulSet;
    ("events.k8s.io", "v1", "Event") => api::events::v1::Event;
    ("autoscaling", "v1", "Scale") => api::autoscaling::v1::Scale;
    ("autoscaling", "v2", "HorizontalPodAutoscaler") => api::autoscaling::v2::HorizontalPodAutoscaler;
    ("batch", "v1", "CronJob") => api::batch::v1::CronJob;
    ("batch", "v1", "Job") => api::batch::v1::Job;
    ("certificates.k8s.io", "v1", "CertificateSigningRequest") => api::certificates::v1::CertificateSigningRequest;
    ("networking.k8s.io", "v1", "IngressClass") => api::networking::v1::IngressClass;
    ("networking.k8s.io", "v1", "Ingress") => api::networking::v1::Ingress;
    ("networking.k8s.io", "v1", "NetworkPolicy") => api::networking::v1::NetworkPolicy;
    ("policy", "v1", "PodDisruptionBudget") => api::policy::v1::PodDisruptionBudget;
    ("policy", "v1", "Eviction") => api::policy::v1::Eviction;
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding") => api::rbac::v1::ClusterRoleBinding;
    ("rbac.authorization.k8s.io", "v1", "ClusterRole") => api::rbac::v1::ClusterRole;
    ("rbac.authorization.k8s.io", "v1", "RoleBinding") => api::rbac::v1::RoleBinding;
    ("rbac.authorization.k8s.io", "v1", "Role") => api::rbac::v1::Role;
    ("storage.k8s.io", "v1", "CSIDriver") => api::storage::v1::CSIDriver;
    ("storage.k8s.io", "v1", "CSINode") => api::storage::v1::CSINode;
    ("storage.k8s.io", "v1", "StorageClass") => api::storage::v1::StorageClass;
    ("storage.k8s.io", "v1", "VolumeAttachment") => api::storage::v1::VolumeAttachment;
    ("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration") =>
        api::admissionregistration::v1::MutatingWebhookConfiguration;
    ("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy") =>
        api::admissionregistration::v1::ValidatingAdmissionPolicy;
    ("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding") =>
        api::admissionregistration::v1::ValidatingAdmissionPolicyBinding;
    ("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration") =>
        api::admissionregistration::v1::ValidatingWebhookConfiguration;
    ("apiextensions.k8s.io", "v1", "CustomResourceDefinition") => apiextensions::CustomResourceDefinition;
    ("scheduling.k8s.io", "v1", "PriorityClass") => api::scheduling::v1::PriorityClass;
    ("coordination.k8s.io", "v1", "Lease") => api::coordination::v1::Lease;
    ("node.k8s.io", "v1", "RuntimeClass") => api::node::v1::RuntimeClass;
    ("discovery.k8s.io", "v1", "EndpointSlice") => api::discovery::v1::EndpointSlice;
    ("resource.k8s.io", "v1", "DeviceClass") => api::resource::v1::DeviceClass;
    ("resource.k8s.io", "v1", "ResourceClaim") => api::resource::v1::ResourceClaim;
    ("resource.k8s.io", "v1", "ResourceClaimTemplate") => api::resource::v1::ResourceClaimTemplate;
    ("resource.k8s.io", "v1", "ResourceSlice") => api::resource::v1::ResourceSlice;
}

/// The schema name of a subresource's kind (`autoscaling/v1` `Scale`), if it has a Rust type.
pub(super) fn subresource_schema(group: &str, version: &str, kind: &str) -> Option<String> {
    add_kind(&mut generator(), group, version, kind)
}

/// The schema of `kubeplex.io/v1alpha1` `LogicalCluster` (no upstream type: free-form spec and status).
fn logical_cluster_schema() -> Value {
    json!({
        "description": "LogicalCluster is a logical Kubernetes cluster served by kubeplex under /clusters/<name>.",
        "type": "object",
        "properties": {
            "apiVersion": {"description": API_VERSION_DOC, "type": "string"},
            "kind": {"description": KIND_DOC, "type": "string"},
            "metadata": {"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}],
                         "description": "Standard object's metadata."},
            "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
        },
    })
}

pub(super) const API_VERSION_DOC: &str = "APIVersion defines the versioned schema of this representation of an \
    object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized \
    values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
pub(super) const KIND_DOC: &str = "Kind is a string value representing the REST resource this object represents. \
    Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More \
    info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";

const LIST_METADATA_DOC: &str = "Standard list metadata. More info: \
    https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// The schema of a list kind holding items of schema `item`.
pub(super) fn list_schema(item: &str, group: &str, version: &str, kind: &str, list_kind: &str) -> Value {
    json!({
        "description": format!("{list_kind} is a list of {kind}."),
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": {"description": API_VERSION_DOC, "type": "string"},
            "items": {"description": format!("List of {kind} objects."), "type": "array",
                      "items": {"$ref": format!("#/components/schemas/{item}")}},
            "kind": {"description": KIND_DOC, "type": "string"},
            "metadata": {"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"}],
                         "description": LIST_METADATA_DOC},
        },
        "x-kubernetes-group-version-kind": [extensions::gvk(group, version, list_kind)],
    })
}

/// Adds the meta kinds every document refers to; their names.
pub(super) fn add_meta(generator: &mut SchemaGenerator) {
    add::<meta::DeleteOptions>(generator);
    add::<meta::Status>(generator);
    add::<meta::WatchEvent<serde_json::Value>>(generator);
    add::<meta::Patch>(generator);
    add::<meta::ListMeta>(generator);
    add::<meta::ObjectMeta>(generator);
}

/// The OpenAPI document of built-in group-version `group`/`version` (empty paths if none is served).
pub(super) fn document(group: &str, version: &str) -> Value {
    let defs: Vec<Def> = BUILTIN
        .iter()
        .filter(|d| d.group == group && d.version == version)
        .map(|d| std::sync::Arc::new(d.clone()))
        .collect();
    let mut generator = generator();
    add_meta(&mut generator);
    let mut names = Vec::new();
    for def in &defs {
        let name = add_kind(&mut generator, group, version, &def.kind);
        for sub in def.subresources {
            let (g, v, k) = def.subresource_kind(sub);
            add_kind(&mut generator, g, v, k);
        }
        names.push(name);
    }
    let mut schemas: Map<String, Value> = generator.take_definitions(true);
    let served: Vec<(&str, &str)> = super::OpenApi::builtin_group_versions();
    for (name, schema) in schemas.iter_mut() {
        extensions::apply(name, schema, &served);
    }
    let mut resources_names = Vec::new();
    for (def, name) in defs.iter().zip(names) {
        let name = match name {
            Some(name) => name,
            None => {
                // LogicalCluster: the only built-in kind without a Rust type.
                let name = format!("io.kubeplex.{version}.{}", def.kind);
                let mut schema = logical_cluster_schema();
                schema["x-kubernetes-group-version-kind"] = json!([extensions::gvk(group, version, &def.kind)]);
                schemas.insert(name.clone(), schema);
                name
            }
        };
        let list_name = format!("{name}List");
        let list_kind = def.list_kind();
        schemas.insert(list_name.clone(), list_schema(&name, group, version, &def.kind, &list_kind));
        resources_names.push((name, list_name));
    }
    for schema in schemas.values_mut() {
        extensions::wrap_ref_siblings(schema);
    }
    schemas.sort_keys();
    let resources: Vec<Resource<'_>> = defs
        .iter()
        .zip(&resources_names)
        .map(|(def, (schema, list_schema))| Resource { def, schema, list_schema, strategic: true })
        .collect();
    let paths = paths::paths(group, version, &resources);
    document_value(paths, schemas)
}

/// The envelope of a document.
pub(super) fn document_value(paths: Map<String, Value>, schemas: Map<String, Value>) -> Value {
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.36.0"},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "BearerToken": {"description": "Bearer Token authentication", "in": "header",
                                "name": "authorization", "type": "apiKey"},
            },
        },
        "security": [{"BearerToken": []}],
    })
}
