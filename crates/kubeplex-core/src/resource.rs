//! What the API serves: one descriptor per resource (group, version, kind,
//! names, scope, verbs, subresources, storage), from which discovery,
//! routing and storage keys are all derived.
//!
//! Built-in resources are a static table ([`BUILTIN`]); the resources of
//! CustomResourceDefinitions are made at run time with owned names and
//! carry their [`CustomResource`] details.

use std::borrow::Cow;
use std::sync::Arc;

/// A name in a descriptor: static for built-in resources, owned for custom ones.
pub type Name = Cow<'static, str>;

/// The verbs of an ordinary resource.
pub const STANDARD_VERBS: &[&str] =
    &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
const NO_COLLECTION_DELETE: &[&str] = &["create", "delete", "get", "list", "patch", "update", "watch"];
/// The verbs of `status` and `scale` subresources.
pub const GET_PATCH_UPDATE: &[&str] = &["get", "patch", "update"];
const CREATE_ONLY: &[&str] = &["create"];
const UPDATE_ONLY: &[&str] = &["update"];

/// A list of names (short names, categories).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Names {
    Static(&'static [&'static str]),
    Owned(Vec<String>),
}

impl Names {
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let (statics, owned) = match self {
            Names::Static(names) => (*names, &[][..]),
            Names::Owned(names) => (&[][..], names.as_slice()),
        };
        statics.iter().copied().chain(owned.iter().map(String::as_str))
    }

    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.iter().any(|n| n == name)
    }
}

impl serde::Serialize for Names {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

/// A subresource such as `status` or `scale`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubresourceDef {
    pub name: &'static str,
    /// The kind served at the subresource (`Scale` for `scale`); all empty
    /// for the resource's own kind (the `status` of custom resources).
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub verbs: &'static [&'static str],
}

/// The subresources a custom resource can have.
pub mod custom_subresources {
    use super::{GET_PATCH_UPDATE, SCALE, SubresourceDef};

    const STATUS: SubresourceDef =
        SubresourceDef { name: "status", group: "", version: "", kind: "", verbs: GET_PATCH_UPDATE };

    /// The subresources of a CRD version with (or without) `status` and `scale`.
    pub fn of(status: bool, scale: bool) -> &'static [SubresourceDef] {
        match (status, scale) {
            (false, false) => &[],
            (true, false) => &[STATUS],
            (false, true) => &[SCALE],
            (true, true) => &[SCALE, STATUS],
        }
    }
}

/// A resource served by the API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceDef {
    pub group: Name,
    pub version: Name,
    pub kind: Name,
    pub plural: Name,
    pub singular: Name,
    pub namespaced: bool,
    pub short_names: Names,
    pub categories: Names,
    pub verbs: &'static [&'static str],
    pub subresources: &'static [SubresourceDef],
    /// The storage resource: the key segment `/registry/<storage>/…`. Kinds
    /// served under two groups share one (core and events.k8s.io Events);
    /// custom resources use their CRD's name (`<plural>.<group>`).
    pub storage: Name,
    /// What only custom resources have (printer columns, scale paths).
    pub custom: Option<Arc<CustomResource>>,
}

/// The parts of a CustomResourceDefinition a served version needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CustomResource {
    /// The CRD's name, `<plural>.<group>`.
    pub crd: String,
    pub list_kind: String,
    /// The version objects are stored in (`storage: true`); the others
    /// are served by rewriting `apiVersion` (conversion strategy `None`).
    pub storage_version: String,
    /// `additionalPrinterColumns` of this version (never empty: `Age` when
    /// the CRD gives none).
    pub columns: Vec<PrinterColumn>,
    /// The `scale` subresource's paths, when it has one.
    pub scale: Option<ScalePaths>,
    /// The CRD is being deleted: only reads and deletes are served.
    pub terminating: bool,
    /// `spec.versions[].deprecated` and its warning.
    pub deprecation_warning: Option<String>,
    /// `spec.versions[].schema.openAPIV3Schema` of this version, as given.
    pub schema: Option<Arc<serde_json::Value>>,
    /// The schema's `x-kubernetes-validations`, compiled once for this version.
    pub rules: Option<Arc<crate::schema::cel::Rules>>,
    /// How this version's fields merge and are owned (server-side apply),
    /// built once from the schema.
    pub fields: Option<kubeplex_managedfields::Schema>,
}

/// One of a CRD version's `additionalPrinterColumns`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrinterColumn {
    pub name: String,
    pub type_: String,
    pub format: String,
    pub description: String,
    pub priority: i32,
    pub json_path: String,
}

/// `subresources.scale` of a CRD version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScalePaths {
    pub spec_replicas: String,
    pub status_replicas: String,
    pub label_selector: Option<String>,
}

impl ResourceDef {
    /// `apps/v1`, or `v1` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.to_string() } else { format!("{}/{}", self.group, self.version) }
    }

    /// The subresource named `name`.
    pub fn subresource(&self, name: &str) -> Option<&'static SubresourceDef> {
        self.subresources.iter().find(|s| s.name == name)
    }

    /// The group, version and kind served at subresource `sub`.
    pub fn subresource_kind<'a>(&'a self, sub: &'a SubresourceDef) -> (&'a str, &'a str, &'a str) {
        if sub.kind.is_empty() { (&self.group, &self.version, &self.kind) } else { (sub.group, sub.version, sub.kind) }
    }

    /// Whether the resource supports `verb`.
    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.contains(&verb)
    }

    /// The kind of the resource's lists (`ConfigMapList`).
    pub fn list_kind(&self) -> String {
        match &self.custom {
            Some(custom) if !custom.list_kind.is_empty() => custom.list_kind.clone(),
            _ => format!("{}List", self.kind),
        }
    }
}

/// The category of admission and extension configuration.
const API_EXTENSIONS: &[&str] = &["api-extensions"];

/// A subresource of the built-in table.
const fn sub(
    name: &'static str,
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    verbs: &'static [&'static str],
) -> SubresourceDef {
    SubresourceDef { name, group, version, kind, verbs }
}

const fn status(group: &'static str, version: &'static str, kind: &'static str) -> SubresourceDef {
    sub("status", group, version, kind, GET_PATCH_UPDATE)
}

/// The `scale` subresource (built-in and custom resources alike).
pub const SCALE: SubresourceDef = sub("scale", "autoscaling", "v1", "Scale", GET_PATCH_UPDATE);

/// A resource with the standard verbs, no short names, categories or
/// subresources; the `with_*` methods add them.
const fn res(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
    namespaced: bool,
    storage: &'static str,
) -> ResourceDef {
    ResourceDef {
        group: Cow::Borrowed(group),
        version: Cow::Borrowed(version),
        kind: Cow::Borrowed(kind),
        plural: Cow::Borrowed(plural),
        singular: Cow::Borrowed(singular),
        namespaced,
        short_names: Names::Static(&[]),
        categories: Names::Static(&[]),
        verbs: STANDARD_VERBS,
        subresources: &[],
        storage: Cow::Borrowed(storage),
        custom: None,
    }
}

impl ResourceDef {
    const fn short(mut self, names: &'static [&'static str]) -> Self {
        // A const fn may not drop: the replaced value is static anyway.
        std::mem::forget(std::mem::replace(&mut self.short_names, Names::Static(names)));
        self
    }

    const fn in_all(mut self) -> Self {
        // A const fn may not drop: the replaced value is static anyway.
        std::mem::forget(std::mem::replace(&mut self.categories, Names::Static(&["all"])));
        self
    }

    const fn categories(mut self, categories: &'static [&'static str]) -> Self {
        // A const fn may not drop: the replaced value is static anyway.
        std::mem::forget(std::mem::replace(&mut self.categories, Names::Static(categories)));
        self
    }

    const fn subs(mut self, subresources: &'static [SubresourceDef]) -> Self {
        // A const fn may not drop: the replaced value is static anyway.
        self.subresources = subresources;
        self
    }

    const fn verbs(mut self, verbs: &'static [&'static str]) -> Self {
        self.verbs = verbs;
        self
    }
}

/// The built-in resources, in discovery order (groups in upstream's
/// preference order, resources alphabetical within a group version).
pub static BUILTIN: &[ResourceDef] = &[
    // core/v1
    res("", "v1", "ConfigMap", "configmaps", "configmap", true, "configmaps").short(&["cm"]),
    res("", "v1", "Endpoints", "endpoints", "endpoints", true, "endpoints").short(&["ep"]),
    res("", "v1", "Event", "events", "event", true, "events").short(&["ev"]),
    res("", "v1", "LimitRange", "limitranges", "limitrange", true, "limitranges").short(&["limits"]),
    res("", "v1", "Namespace", "namespaces", "namespace", false, "namespaces")
        .short(&["ns"])
        .subs(&[sub("finalize", "", "v1", "Namespace", UPDATE_ONLY), status("", "v1", "Namespace")])
        .verbs(NO_COLLECTION_DELETE),
    res("", "v1", "Node", "nodes", "node", false, "nodes").short(&["no"]).subs(&[status("", "v1", "Node")]),
    res(
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        true,
        "persistentvolumeclaims",
    )
    .short(&["pvc"])
    .subs(&[status("", "v1", "PersistentVolumeClaim")]),
    res("", "v1", "PersistentVolume", "persistentvolumes", "persistentvolume", false, "persistentvolumes")
        .short(&["pv"])
        .subs(&[status("", "v1", "PersistentVolume")]),
    res("", "v1", "Pod", "pods", "pod", true, "pods").short(&["po"]).in_all().subs(&[
        sub("binding", "", "v1", "Binding", CREATE_ONLY),
        sub("eviction", "policy", "v1", "Eviction", CREATE_ONLY),
        status("", "v1", "Pod"),
    ]),
    res("", "v1", "PodTemplate", "podtemplates", "podtemplate", true, "podtemplates"),
    res("", "v1", "ReplicationController", "replicationcontrollers", "replicationcontroller", true, "controllers")
        .short(&["rc"])
        .in_all()
        .subs(&[SCALE, status("", "v1", "ReplicationController")]),
    res("", "v1", "ResourceQuota", "resourcequotas", "resourcequota", true, "resourcequotas")
        .short(&["quota"])
        .subs(&[status("", "v1", "ResourceQuota")]),
    res("", "v1", "Secret", "secrets", "secret", true, "secrets"),
    res("", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", true, "serviceaccounts").short(&["sa"]),
    res("", "v1", "Service", "services", "service", true, "services")
        .short(&["svc"])
        .in_all()
        .subs(&[status("", "v1", "Service")]),
    // apps/v1
    res("apps", "v1", "ControllerRevision", "controllerrevisions", "controllerrevision", true, "controllerrevisions"),
    res("apps", "v1", "DaemonSet", "daemonsets", "daemonset", true, "daemonsets")
        .short(&["ds"])
        .in_all()
        .subs(&[status("apps", "v1", "DaemonSet")]),
    res("apps", "v1", "Deployment", "deployments", "deployment", true, "deployments")
        .short(&["deploy"])
        .in_all()
        .subs(&[SCALE, status("apps", "v1", "Deployment")]),
    res("apps", "v1", "ReplicaSet", "replicasets", "replicaset", true, "replicasets")
        .short(&["rs"])
        .in_all()
        .subs(&[SCALE, status("apps", "v1", "ReplicaSet")]),
    res("apps", "v1", "StatefulSet", "statefulsets", "statefulset", true, "statefulsets")
        .short(&["sts"])
        .in_all()
        .subs(&[SCALE, status("apps", "v1", "StatefulSet")]),
    // events.k8s.io/v1: the same storage as core Events
    res("events.k8s.io", "v1", "Event", "events", "event", true, "events").short(&["ev"]),
    // autoscaling/v2
    res(
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        true,
        "horizontalpodautoscalers",
    )
    .short(&["hpa"])
    .in_all()
    .subs(&[status("autoscaling", "v2", "HorizontalPodAutoscaler")]),
    // autoscaling/v1: the same storage, converted (v2 stays preferred: listed first)
    res(
        "autoscaling",
        "v1",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        true,
        "horizontalpodautoscalers",
    )
    .short(&["hpa"])
    .in_all()
    .subs(&[status("autoscaling", "v1", "HorizontalPodAutoscaler")]),
    // batch/v1
    res("batch", "v1", "CronJob", "cronjobs", "cronjob", true, "cronjobs")
        .short(&["cj"])
        .in_all()
        .subs(&[status("batch", "v1", "CronJob")]),
    res("batch", "v1", "Job", "jobs", "job", true, "jobs").in_all().subs(&[status("batch", "v1", "Job")]),
    // certificates.k8s.io/v1
    res(
        "certificates.k8s.io",
        "v1",
        "CertificateSigningRequest",
        "certificatesigningrequests",
        "certificatesigningrequest",
        false,
        "certificatesigningrequests",
    )
    .short(&["csr"])
    .subs(&[
        sub("approval", "certificates.k8s.io", "v1", "CertificateSigningRequest", GET_PATCH_UPDATE),
        status("certificates.k8s.io", "v1", "CertificateSigningRequest"),
    ]),
    // networking.k8s.io/v1
    res("networking.k8s.io", "v1", "IngressClass", "ingressclasses", "ingressclass", false, "ingressclasses"),
    res("networking.k8s.io", "v1", "Ingress", "ingresses", "ingress", true, "ingress").short(&["ing"]).subs(&[status(
        "networking.k8s.io",
        "v1",
        "Ingress",
    )]),
    res("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", "networkpolicy", true, "networkpolicies")
        .short(&["netpol"]),
    // policy/v1
    res(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        "poddisruptionbudget",
        true,
        "poddisruptionbudgets",
    )
    .short(&["pdb"])
    .subs(&[status("policy", "v1", "PodDisruptionBudget")]),
    // rbac.authorization.k8s.io/v1
    res(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        "clusterrolebinding",
        false,
        "clusterrolebindings",
    ),
    res("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", "clusterrole", false, "clusterroles"),
    res("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", "rolebinding", true, "rolebindings"),
    res("rbac.authorization.k8s.io", "v1", "Role", "roles", "role", true, "roles"),
    // storage.k8s.io/v1
    res("storage.k8s.io", "v1", "CSIDriver", "csidrivers", "csidriver", false, "csidrivers"),
    res("storage.k8s.io", "v1", "CSINode", "csinodes", "csinode", false, "csinodes"),
    res("storage.k8s.io", "v1", "StorageClass", "storageclasses", "storageclass", false, "storageclasses")
        .short(&["sc"]),
    res(
        "storage.k8s.io",
        "v1",
        "VolumeAttachment",
        "volumeattachments",
        "volumeattachment",
        false,
        "volumeattachments",
    )
    .subs(&[status("storage.k8s.io", "v1", "VolumeAttachment")]),
    // admissionregistration.k8s.io/v1
    res(
        "admissionregistration.k8s.io",
        "v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        "mutatingwebhookconfiguration",
        false,
        "mutatingwebhookconfigurations",
    )
    .categories(API_EXTENSIONS),
    res(
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingAdmissionPolicy",
        "validatingadmissionpolicies",
        "validatingadmissionpolicy",
        false,
        "validatingadmissionpolicies",
    )
    .categories(API_EXTENSIONS)
    .subs(&[status("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy")]),
    res(
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
        "validatingadmissionpolicybinding",
        false,
        "validatingadmissionpolicybindings",
    )
    .categories(API_EXTENSIONS),
    res(
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        "validatingwebhookconfiguration",
        false,
        "validatingwebhookconfigurations",
    )
    .categories(API_EXTENSIONS),
    // apiextensions.k8s.io/v1
    res(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        "customresourcedefinition",
        false,
        "customresourcedefinitions",
    )
    .short(&["crd", "crds"])
    .categories(API_EXTENSIONS)
    .subs(&[status("apiextensions.k8s.io", "v1", "CustomResourceDefinition")]),
    // scheduling.k8s.io/v1
    res("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", "priorityclass", false, "priorityclasses")
        .short(&["pc"]),
    // coordination.k8s.io/v1
    res("coordination.k8s.io", "v1", "Lease", "leases", "lease", true, "leases"),
    // node.k8s.io/v1
    res("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", "runtimeclass", false, "runtimeclasses"),
    // discovery.k8s.io/v1
    res("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", true, "endpointslices"),
    // resource.k8s.io/v1
    res("resource.k8s.io", "v1", "DeviceClass", "deviceclasses", "deviceclass", false, "deviceclasses"),
    res("resource.k8s.io", "v1", "ResourceClaim", "resourceclaims", "resourceclaim", true, "resourceclaims")
        .subs(&[status("resource.k8s.io", "v1", "ResourceClaim")]),
    res(
        "resource.k8s.io",
        "v1",
        "ResourceClaimTemplate",
        "resourceclaimtemplates",
        "resourceclaimtemplate",
        true,
        "resourceclaimtemplates",
    ),
    res("resource.k8s.io", "v1", "ResourceSlice", "resourceslices", "resourceslice", false, "resourceslices"),
    // kubeplex.io/v1alpha1
    res("kubeplex.io", "v1alpha1", "LogicalCluster", "logicalclusters", "logicalcluster", false, "logicalclusters")
        .short(&["lc"])
        .subs(&[status("kubeplex.io", "v1alpha1", "LogicalCluster")]),
];

/// The served groups in preference order, each with its versions.
pub fn groups<'a, I>(resources: I) -> Vec<(&'a str, Vec<&'a str>)>
where
    I: IntoIterator<Item = &'a ResourceDef>,
{
    let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
    for r in resources {
        match out.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, versions)) if !versions.contains(&&*r.version) => versions.push(&r.version),
            Some(_) => {}
            None => out.push((&r.group, vec![&r.version])),
        }
    }
    out
}

/// Finds the resource served at `group/version` under `plural`.
pub fn find(
    resources: &'static [ResourceDef],
    group: &str,
    version: &str,
    plural: &str,
) -> Option<&'static ResourceDef> {
    resources.iter().find(|r| r.group == group && r.version == version && r.plural == plural)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_in_order() {
        let groups = groups(BUILTIN);
        let names: Vec<_> = groups.iter().map(|(g, _)| *g).collect();
        assert_eq!(
            names,
            [
                "",
                "apps",
                "events.k8s.io",
                "autoscaling",
                "batch",
                "certificates.k8s.io",
                "networking.k8s.io",
                "policy",
                "rbac.authorization.k8s.io",
                "storage.k8s.io",
                "admissionregistration.k8s.io",
                "apiextensions.k8s.io",
                "scheduling.k8s.io",
                "coordination.k8s.io",
                "node.k8s.io",
                "discovery.k8s.io",
                "resource.k8s.io",
                "kubeplex.io"
            ]
        );
    }

    #[test]
    fn lookups() {
        let deploy = find(BUILTIN, "apps", "v1", "deployments").unwrap();
        assert_eq!(deploy.api_version(), "apps/v1");
        assert_eq!(deploy.subresource("scale").unwrap().kind, "Scale");
        assert!(find(BUILTIN, "", "v1", "namespaces").unwrap().supports("delete"));
        assert!(!find(BUILTIN, "", "v1", "namespaces").unwrap().supports("deletecollection"));
        let core_events = find(BUILTIN, "", "v1", "events").unwrap();
        let events = find(BUILTIN, "events.k8s.io", "v1", "events").unwrap();
        assert_eq!(core_events.storage, events.storage);
        let hpa_v1 = find(BUILTIN, "autoscaling", "v1", "horizontalpodautoscalers").unwrap();
        let hpa_v2 = find(BUILTIN, "autoscaling", "v2", "horizontalpodautoscalers").unwrap();
        assert_eq!(hpa_v1.storage, hpa_v2.storage);
        let groups = groups(BUILTIN);
        let autoscaling = groups.iter().find(|(g, _)| *g == "autoscaling").unwrap();
        assert_eq!(autoscaling.1, ["v2", "v1"]);
    }
}
