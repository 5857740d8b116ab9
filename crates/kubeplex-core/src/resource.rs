//! What the API serves: one descriptor per resource (group, version, kind,
//! names, scope, verbs, subresources, storage), from which discovery,
//! routing and storage keys are all derived.

/// The verbs of an ordinary resource.
pub const STANDARD_VERBS: &[&str] = &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
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

const fn res(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    categories: &'static [&'static str],
    subresources: &'static [SubresourceDef],
    storage: &'static str,
) -> ResourceDef {
    ResourceDef {
        group,
        version,
        kind,
        plural,
        singular,
        namespaced,
        short_names,
        categories,
        verbs: STANDARD_VERBS,
        subresources,
        storage,
    }
}

/// The built-in resources, in discovery order (groups in preference order).
pub static BUILTIN: &[ResourceDef] = &[
    // core/v1
    ResourceDef {
        verbs: NO_COLLECTION_DELETE,
        ..res(
            "",
            "v1",
            "Namespace",
            "namespaces",
            "namespace",
            false,
            &["ns"],
            &[],
            &[
                status("", "v1", "Namespace"),
                SubresourceDef { name: "finalize", group: "", version: "v1", kind: "Namespace", verbs: UPDATE_ONLY },
            ],
            "namespaces",
        )
    },
    res("", "v1", "ConfigMap", "configmaps", "configmap", true, &["cm"], &[], &[], "configmaps"),
    res("", "v1", "Endpoints", "endpoints", "endpoints", true, &["ep"], &[], &[], "endpoints"),
    res("", "v1", "Event", "events", "event", true, &["ev"], &[], &[], "events"),
    res("", "v1", "Node", "nodes", "node", false, &["no"], &[], &[status("", "v1", "Node")], "nodes"),
    res(
        "",
        "v1",
        "Pod",
        "pods",
        "pod",
        true,
        &["po"],
        &["all"],
        &[
            SubresourceDef { name: "binding", group: "", version: "v1", kind: "Binding", verbs: CREATE_ONLY },
            status("", "v1", "Pod"),
        ],
        "pods",
    ),
    res("", "v1", "Secret", "secrets", "secret", true, &[], &[], &[], "secrets"),
    res("", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", true, &["sa"], &[], &[], "serviceaccounts"),
    res(
        "",
        "v1",
        "Service",
        "services",
        "service",
        true,
        &["svc"],
        &["all"],
        &[status("", "v1", "Service")],
        "services",
    ),
    // apps/v1
    res(
        "apps",
        "v1",
        "Deployment",
        "deployments",
        "deployment",
        true,
        &["deploy"],
        &["all"],
        &[SCALE, status("apps", "v1", "Deployment")],
        "deployments",
    ),
    res(
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        "replicaset",
        true,
        &["rs"],
        &["all"],
        &[SCALE, status("apps", "v1", "ReplicaSet")],
        "replicasets",
    ),
    // batch/v1
    res("batch", "v1", "Job", "jobs", "job", true, &[], &["all"], &[status("batch", "v1", "Job")], "jobs"),
    // coordination.k8s.io/v1
    res("coordination.k8s.io", "v1", "Lease", "leases", "lease", true, &[], &[], &[], "leases"),
    // discovery.k8s.io/v1
    res("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", true, &[], &[], &[], "endpointslices"),
    // events.k8s.io/v1: the same storage as core Events
    res("events.k8s.io", "v1", "Event", "events", "event", true, &["ev"], &[], &[], "events"),
    // kubeplex.io/v1alpha1
    res(
        "kubeplex.io",
        "v1alpha1",
        "LogicalCluster",
        "logicalclusters",
        "logicalcluster",
        false,
        &["lc"],
        &[],
        &[status("kubeplex.io", "v1alpha1", "LogicalCluster")],
        "logicalclusters",
    ),
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
pub fn find(resources: &'static [ResourceDef], group: &str, version: &str, plural: &str) -> Option<&'static ResourceDef> {
    resources.iter().find(|r| r.group == group && r.version == version && r.plural == plural)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_in_order() {
        let groups = groups(BUILTIN);
        let names: Vec<_> = groups.iter().map(|(g, _)| *g).collect();
        assert_eq!(names, ["", "apps", "batch", "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io", "kubeplex.io"]);
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
