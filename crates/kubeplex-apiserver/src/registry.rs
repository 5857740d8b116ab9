//! The resources each logical cluster serves: the built-in table, shared by
//! every cluster, plus the custom resources of the cluster's own
//! CustomResourceDefinitions.
//!
//! ```text
//!  find(cluster, group, version, plural)
//!     ├► built-in index (one HashMap for all clusters)
//!     └► custom: cluster ─► CRD name ─► served versions (kept by crds.rs)
//! ```
//!
//! A cluster without CRDs has no entry at all; one with CRDs holds only its
//! own resource descriptors. Two clusters may serve the same group and
//! resource with different versions or schemas: their entries are separate.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use kubeplex_core::resource::{BUILTIN, ResourceDef};

/// A served resource, shared by the requests that use it.
pub type Def = Arc<ResourceDef>;

/// Every resource the server serves, per logical cluster.
#[derive(Debug)]
pub struct Registry {
    builtin: Vec<Def>,
    index: HashMap<(&'static str, &'static str, &'static str), usize>,
    /// cluster ─► CRD name ─► its served versions, preferred first.
    custom: RwLock<HashMap<String, BTreeMap<String, Vec<Def>>>>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

impl Registry {
    pub fn new() -> Registry {
        let builtin: Vec<Def> = BUILTIN.iter().cloned().map(Arc::new).collect();
        let index = BUILTIN
            .iter()
            .enumerate()
            .map(|(i, r)| ((static_str(&r.group), static_str(&r.version), static_str(&r.plural)), i))
            .collect();
        Registry { builtin, index, custom: RwLock::new(HashMap::new()) }
    }

    /// A built-in resource; `None` only for a name that is not in the table.
    pub fn builtin(&self, group: &str, version: &str, plural: &str) -> Option<Def> {
        self.index.get(&(group, version, plural)).map(|&i| Arc::clone(&self.builtin[i]))
    }

    /// The resource served at `group/version/plural` in `cluster`.
    pub fn find(&self, cluster: &str, group: &str, version: &str, plural: &str) -> Option<Def> {
        if let Some(def) = self.builtin(group, version, plural) {
            return Some(def);
        }
        let custom = self.custom.read().unwrap_or_else(|e| e.into_inner());
        custom
            .get(cluster)?
            .values()
            .flatten()
            .find(|d| d.group == group && d.version == version && d.plural == plural)
            .cloned()
    }

    /// Everything `cluster` serves, built-in first, in discovery order:
    /// custom groups sorted by name, each group's versions preferred first.
    pub fn all(&self, cluster: &str) -> Vec<Def> {
        let mut out = self.builtin.clone();
        let custom = self.custom.read().unwrap_or_else(|e| e.into_inner());
        if let Some(crds) = custom.get(cluster) {
            let mut defs: Vec<&Def> = crds.values().flatten().collect();
            // Stable: a group's versions keep the preference order they
            // were registered in.
            defs.sort_by(|a, b| a.group.cmp(&b.group));
            out.extend(defs.into_iter().cloned());
        }
        out
    }

    /// The served versions of every CRD of `cluster`, by CRD name.
    pub fn custom(&self, cluster: &str) -> BTreeMap<String, Vec<Def>> {
        let custom = self.custom.read().unwrap_or_else(|e| e.into_inner());
        custom.get(cluster).cloned().unwrap_or_default()
    }

    /// Serves `defs` (preferred version first) for CRD `crd` of `cluster`,
    /// replacing what it served before; no versions removes it.
    pub fn set_custom(&self, cluster: &str, crd: &str, defs: Vec<Def>) {
        let mut custom = self.custom.write().unwrap_or_else(|e| e.into_inner());
        if defs.is_empty() {
            if let Some(crds) = custom.get_mut(cluster) {
                crds.remove(crd);
                if crds.is_empty() {
                    custom.remove(cluster);
                }
            }
        } else {
            custom.entry(cluster.to_owned()).or_default().insert(crd.to_owned(), defs);
        }
    }

    /// Whether any cluster still serves a custom resource stored as `storage`.
    pub fn storage_in_use(&self, storage: &str) -> bool {
        let custom = self.custom.read().unwrap_or_else(|e| e.into_inner());
        custom.values().any(|crds| crds.contains_key(storage))
    }
}

/// The `&'static str` inside a name of the built-in table.
fn static_str(name: &kubeplex_core::resource::Name) -> &'static str {
    match name {
        std::borrow::Cow::Borrowed(s) => s,
        std::borrow::Cow::Owned(_) => unreachable!("the built-in table holds only static names"),
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use kubeplex_core::resource::{CustomResource, Names, STANDARD_VERBS};

    use super::*;

    fn widget(group: &str, version: &str) -> Def {
        Arc::new(ResourceDef {
            group: Cow::Owned(group.into()),
            version: Cow::Owned(version.into()),
            kind: Cow::Borrowed("Widget"),
            plural: Cow::Borrowed("widgets"),
            singular: Cow::Borrowed("widget"),
            namespaced: true,
            short_names: Names::Owned(vec!["wd".into()]),
            categories: Names::Static(&[]),
            verbs: STANDARD_VERBS,
            subresources: &[],
            storage: Cow::Owned(format!("widgets.{group}")),
            custom: Some(Arc::new(CustomResource::default())),
        })
    }

    #[test]
    fn builtin_and_custom_per_cluster() {
        let registry = Registry::new();
        assert_eq!(registry.find("t1", "apps", "v1", "deployments").unwrap().kind, "Deployment");
        assert!(registry.find("t1", "example.com", "v1", "widgets").is_none());

        registry.set_custom("t1", "widgets.example.com", vec![widget("example.com", "v1")]);
        registry.set_custom(
            "t2",
            "widgets.example.com",
            vec![widget("example.com", "v2"), widget("example.com", "v1")],
        );
        assert!(registry.find("t1", "example.com", "v1", "widgets").is_some());
        assert!(registry.find("t1", "example.com", "v2", "widgets").is_none());
        assert!(registry.find("t2", "example.com", "v2", "widgets").is_some());
        assert!(registry.find("t3", "example.com", "v1", "widgets").is_none());
        let all = registry.all("t2");
        assert_eq!(all.len(), BUILTIN.len() + 2);
        assert_eq!(all[BUILTIN.len()].version, "v2");
        assert!(registry.storage_in_use("widgets.example.com"));

        registry.set_custom("t1", "widgets.example.com", vec![]);
        assert!(registry.find("t1", "example.com", "v1", "widgets").is_none());
        assert!(registry.custom("t1").is_empty());
        registry.set_custom("t2", "widgets.example.com", vec![]);
        assert!(!registry.storage_in_use("widgets.example.com"));
    }
}
