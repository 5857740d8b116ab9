//! What the API serves: one descriptor per resource (group, version, kind,
//! names, scope, verbs, subresources, storage), from which discovery,
//! routing and storage keys are all derived.

/// The verbs of an ordinary resource.
pub const STANDARD_VERBS: &[&str] =
    &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
const NO_COLLECTION_DELETE: &[&str] = &["create", "delete", "get", "list", "patch", "update", "watch"];
const GET_PATCH_UPDATE: &[&str] = &["get", "patch", "update"];
const CREATE_ONLY: &[&str] = &["create"];
const UPDATE_ONLY: &[&str] = &["update"];

/// A subresource such as `status` or `scale`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubresourceDef {
    pub name: &'static str,
    /// The kind served at the subresource (`Scale` for `scale`).
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub verbs: &'static [&'static str],
}

/// A resource served by the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceDef {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub verbs: &'static [&'static str],
    pub subresources: &'static [SubresourceDef],
    /// The storage resource: the key segment `/registry/<storage>/…`. Kinds
    /// served under two groups share one (core and events.k8s.io Events).
    pub storage: &'static str,
}

impl ResourceDef {
    /// `apps/v1`, or `v1` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.to_owned() } else { format!("{}/{}", self.group, self.version) }
    }

    /// The subresource named `name`.
    pub fn subresource(&self, name: &str) -> Option<&'static SubresourceDef> {
        self.subresources.iter().find(|s| s.name == name)
    }

    /// Whether the resource supports `verb`.
    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.contains(&verb)
    }
}

const fn status(group: &'static str, version: &'static str, kind: &'static str) -> SubresourceDef {
    SubresourceDef { name: "status", group, version, kind, verbs: GET_PATCH_UPDATE }
}

const SCALE: SubresourceDef =
    SubresourceDef { name: "scale", group: "autoscaling", version: "v1", kind: "Scale", verbs: GET_PATCH_UPDATE };

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
        group,
        version,
        kind,
        plural,
        singular,
        namespaced,
        short_names: &[],
        categories: &[],
        verbs: STANDARD_VERBS,
        subresources: &[],
        storage,
    }
}

impl ResourceDef {
    const fn short(mut self, names: &'static [&'static str]) -> Self {
        self.short_names = names;
        self
    }

    const fn in_all(mut self) -> Self {
        self.categories = &["all"];
        self
    }

    const fn subs(mut self, subresources: &'static [SubresourceDef]) -> Self {
        self.subresources = subresources;
        self
    }

    const fn verbs(mut self, verbs: &'static [&'static str]) -> Self {
        self.verbs = verbs;
        self
    }
}

/// The built-in resources, in discovery order (groups in preference order).
pub static BUILTIN: &[ResourceDef] = &[
    // core/v1
    res("", "v1", "Namespace", "namespaces", "namespace", false, "namespaces")
        .short(&["ns"])
        .subs(&[
            status("", "v1", "Namespace"),
            SubresourceDef { name: "finalize", group: "", version: "v1", kind: "Namespace", verbs: UPDATE_ONLY },
        ])
        .verbs(NO_COLLECTION_DELETE),
    res("", "v1", "ConfigMap", "configmaps", "configmap", true, "configmaps").short(&["cm"]),
    res("", "v1", "Endpoints", "endpoints", "endpoints", true, "endpoints").short(&["ep"]),
    res("", "v1", "Event", "events", "event", true, "events").short(&["ev"]),
    res("", "v1", "Node", "nodes", "node", false, "nodes").short(&["no"]).subs(&[status("", "v1", "Node")]),
    res("", "v1", "Pod", "pods", "pod", true, "pods").short(&["po"]).in_all().subs(&[
        SubresourceDef { name: "binding", group: "", version: "v1", kind: "Binding", verbs: CREATE_ONLY },
        status("", "v1", "Pod"),
    ]),
    res("", "v1", "Secret", "secrets", "secret", true, "secrets"),
    res("", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", true, "serviceaccounts").short(&["sa"]),
    res("", "v1", "Service", "services", "service", true, "services")
        .short(&["svc"])
        .in_all()
        .subs(&[status("", "v1", "Service")]),
    // apps/v1
    res("apps", "v1", "Deployment", "deployments", "deployment", true, "deployments")
        .short(&["deploy"])
        .in_all()
        .subs(&[SCALE, status("apps", "v1", "Deployment")]),
    res("apps", "v1", "ReplicaSet", "replicasets", "replicaset", true, "replicasets")
        .short(&["rs"])
        .in_all()
        .subs(&[SCALE, status("apps", "v1", "ReplicaSet")]),
    // batch/v1
    res("batch", "v1", "Job", "jobs", "job", true, "jobs").in_all().subs(&[status("batch", "v1", "Job")]),
    // coordination.k8s.io/v1
    res("coordination.k8s.io", "v1", "Lease", "leases", "lease", true, "leases"),
    // discovery.k8s.io/v1
    res("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", true, "endpointslices"),
    // events.k8s.io/v1: the same storage as core Events
    res("events.k8s.io", "v1", "Event", "events", "event", true, "events").short(&["ev"]),
    // kubeplex.io/v1alpha1
    res("kubeplex.io", "v1alpha1", "LogicalCluster", "logicalclusters", "logicalcluster", false, "logicalclusters")
        .short(&["lc"])
        .subs(&[status("kubeplex.io", "v1alpha1", "LogicalCluster")]),
];

/// The served groups in preference order, each with its versions.
pub fn groups(resources: &[ResourceDef]) -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for r in resources {
        match out.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, versions)) if !versions.contains(&r.version) => versions.push(r.version),
            Some(_) => {}
            None => out.push((r.group, vec![r.version])),
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
            ["", "apps", "batch", "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io", "kubeplex.io"]
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
    }
}
