//! CustomResourceDefinitions as data: the names a CRD asks for and which of
//! them conflict with its neighbours in the same group, the order of API
//! versions, and the [`ResourceDef`]s a CRD's served versions become.
//!
//! ```text
//!  CRD JSON ─► requested_names ─► check_names(others in the group) ─► accepted
//!           └► served_resources(crd, accepted) ─► ResourceDef per served version
//!                                                 (preferred version first)
//! ```

use std::borrow::Cow;
use std::cmp::Ordering;
use std::sync::Arc;

use serde_json::Value;

use crate::resource::{
    CustomResource, Names, PrinterColumn, ResourceDef, STANDARD_VERBS, ScalePaths, custom_subresources,
};

/// The group of CustomResourceDefinitions.
pub const GROUP: &str = "apiextensions.k8s.io";
/// The finalizer that keeps a deleted CRD until its objects are gone.
pub const CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

/// `spec.names` / `status.acceptedNames`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CrdNames {
    pub plural: String,
    pub singular: String,
    pub short_names: Vec<String>,
    pub kind: String,
    pub list_kind: String,
    pub categories: Vec<String>,
}

impl CrdNames {
    /// Reads a `names` object, with the defaults of `SetDefaults_CustomResourceDefinitionSpec`
    /// (singular: the lower-case kind; listKind: kind + `List`).
    pub fn from_json(names: Option<&Value>) -> CrdNames {
        let s = |field: &str| names.and_then(|n| n.get(field)).and_then(Value::as_str).unwrap_or("").to_owned();
        let list = |field: &str| -> Vec<String> {
            names
                .and_then(|n| n.get(field))
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default()
        };
        let kind = s("kind");
        let mut singular = s("singular");
        if singular.is_empty() {
            singular = kind.to_lowercase();
        }
        let mut list_kind = s("listKind");
        if list_kind.is_empty() && !kind.is_empty() {
            list_kind = format!("{kind}List");
        }
        CrdNames {
            plural: s("plural"),
            singular,
            short_names: list("shortNames"),
            kind,
            list_kind,
            categories: list("categories"),
        }
    }

    /// The JSON of `status.acceptedNames` (empty fields left out, as Go's
    /// `omitempty` does).
    pub fn to_json(&self) -> Value {
        let mut out = serde_json::Map::new();
        out.insert("plural".into(), Value::from(self.plural.as_str()));
        if !self.singular.is_empty() {
            out.insert("singular".into(), Value::from(self.singular.as_str()));
        }
        if !self.short_names.is_empty() {
            out.insert("shortNames".into(), Value::from(self.short_names.clone()));
        }
        out.insert("kind".into(), Value::from(self.kind.as_str()));
        if !self.list_kind.is_empty() {
            out.insert("listKind".into(), Value::from(self.list_kind.as_str()));
        }
        if !self.categories.is_empty() {
            out.insert("categories".into(), Value::from(self.categories.clone()));
        }
        Value::Object(out)
    }
}

/// A conflict that keeps a CRD's names from being accepted: the
/// `NamesAccepted=False` condition's reason and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameConflict {
    pub reason: &'static str,
    pub message: String,
}

/// Checks `requested` against the accepted names of the other CRDs of the
/// same group in the same logical cluster, as upstream's naming controller
/// does: a plural or singular may not be another's plural or singular, a
/// short name not another's short name, a kind or list kind not another's
/// kind or list kind.
pub fn check_names(requested: &CrdNames, others: &[&CrdNames]) -> Result<(), NameConflict> {
    let in_use =
        |reason: &'static str, name: &str| NameConflict { reason, message: format!("{name:?} is already in use") };
    for other in others {
        if [&other.plural, &other.singular].contains(&&requested.plural) {
            return Err(in_use("PluralConflict", &requested.plural));
        }
        if !requested.singular.is_empty() && [&other.plural, &other.singular].contains(&&requested.singular) {
            return Err(in_use("SingularConflict", &requested.singular));
        }
        if let Some(short) = requested.short_names.iter().find(|s| other.short_names.contains(s)) {
            return Err(in_use("ShortNamesConflict", short));
        }
        if [&other.kind, &other.list_kind].contains(&&requested.kind) {
            return Err(in_use("KindConflict", &requested.kind));
        }
        if [&other.kind, &other.list_kind].contains(&&requested.list_kind) {
            return Err(in_use("ListKindConflict", &requested.list_kind));
        }
    }
    Ok(())
}

/// A version string as Kubernetes orders them: `v1` before `v1beta2`
/// before `v1beta1` before `v1alpha1`, higher majors first, and versions of
/// another shape after all of those, alphabetically.
#[derive(Debug, PartialEq, Eq)]
enum VersionKey<'a> {
    Kube { major: u64, stability: u8, minor: u64 },
    Other(&'a str),
}

fn version_key(v: &str) -> VersionKey<'_> {
    let parse = || -> Option<VersionKey<'_>> {
        let rest = v.strip_prefix('v')?;
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 || rest.starts_with('0') {
            return None;
        }
        let major: u64 = rest[..digits].parse().ok()?;
        let tail = &rest[digits..];
        if tail.is_empty() {
            return Some(VersionKey::Kube { major, stability: 2, minor: 0 });
        }
        let (stability, minor) =
            if let Some(m) = tail.strip_prefix("beta") { (1, m) } else { (0, tail.strip_prefix("alpha")?) };
        if minor.is_empty() || !minor.bytes().all(|b| b.is_ascii_digit()) || minor.starts_with('0') {
            return None;
        }
        Some(VersionKey::Kube { major, stability, minor: minor.parse().ok()? })
    };
    parse().unwrap_or(VersionKey::Other(v))
}

/// Orders versions by priority, highest first (`sort_by(compare_versions)`).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    match (version_key(a), version_key(b)) {
        (
            VersionKey::Kube { major: ma, stability: sa, minor: na },
            VersionKey::Kube { major: mb, stability: sb, minor: nb },
        ) => sb.cmp(&sa).then(mb.cmp(&ma)).then(nb.cmp(&na)),
        (VersionKey::Kube { .. }, VersionKey::Other(_)) => Ordering::Less,
        (VersionKey::Other(_), VersionKey::Kube { .. }) => Ordering::Greater,
        (VersionKey::Other(x), VersionKey::Other(y)) => x.cmp(y),
    }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter().try_fold(v, |v, k| v.get(k)).and_then(Value::as_str).unwrap_or("")
}

/// The printer columns of a version: its `additionalPrinterColumns`, or
/// `Age` when it has none (upstream serves that default).
fn printer_columns(version: &Value) -> Vec<PrinterColumn> {
    let columns: Vec<PrinterColumn> = version
        .get("additionalPrinterColumns")
        .and_then(Value::as_array)
        .map(|cols| {
            cols.iter()
                .map(|c| PrinterColumn {
                    name: str_at(c, &["name"]).to_owned(),
                    type_: str_at(c, &["type"]).to_owned(),
                    format: str_at(c, &["format"]).to_owned(),
                    description: str_at(c, &["description"]).to_owned(),
                    priority: c.get("priority").and_then(Value::as_i64).unwrap_or(0) as i32,
                    json_path: str_at(c, &["jsonPath"]).to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    if !columns.is_empty() {
        return columns;
    }
    vec![PrinterColumn {
        name: "Age".into(),
        type_: "date".into(),
        format: String::new(),
        description: "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata".into(),
        priority: 0,
        json_path: ".metadata.creationTimestamp".into(),
    }]
}

/// The resources a CRD serves under `names` (its accepted names): one per
/// served version, the preferred (highest-priority) version first.
pub fn served_resources(crd: &Value, names: &CrdNames, terminating: bool) -> Vec<ResourceDef> {
    let group = str_at(crd, &["spec", "group"]);
    let crd_name = str_at(crd, &["metadata", "name"]);
    let namespaced = str_at(crd, &["spec", "scope"]) != "Cluster";
    let mut versions: Vec<&Value> = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .map(|vs| vs.iter().filter(|v| v.get("served").and_then(Value::as_bool).unwrap_or(false)).collect())
        .unwrap_or_default();
    let storage_version = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .and_then(|vs| vs.iter().find(|v| v.get("storage").and_then(Value::as_bool) == Some(true)))
        .map(|v| str_at(v, &["name"]))
        .unwrap_or("");
    versions.sort_by(|a, b| compare_versions(str_at(a, &["name"]), str_at(b, &["name"])));
    versions
        .into_iter()
        .map(|version| {
            let subresources = version.get("subresources");
            let status = subresources.and_then(|s| s.get("status")).is_some_and(|s| !s.is_null());
            let scale = subresources.and_then(|s| s.get("scale")).filter(|s| s.is_object()).map(|s| ScalePaths {
                spec_replicas: str_at(s, &["specReplicasPath"]).to_owned(),
                status_replicas: str_at(s, &["statusReplicasPath"]).to_owned(),
                label_selector: s.get("labelSelectorPath").and_then(Value::as_str).map(str::to_owned),
            });
            let deprecated = version.get("deprecated").and_then(Value::as_bool).unwrap_or(false);
            let name = str_at(version, &["name"]);
            let deprecation_warning =
                deprecated.then(|| match version.get("deprecationWarning").and_then(Value::as_str) {
                    Some(w) => w.to_owned(),
                    None => format!("{group}/{name} {} is deprecated", names.kind),
                });
            ResourceDef {
                group: Cow::Owned(group.to_owned()),
                version: Cow::Owned(name.to_owned()),
                kind: Cow::Owned(names.kind.clone()),
                plural: Cow::Owned(names.plural.clone()),
                singular: Cow::Owned(names.singular.clone()),
                namespaced,
                short_names: Names::Owned(names.short_names.clone()),
                categories: Names::Owned(names.categories.clone()),
                verbs: STANDARD_VERBS,
                subresources: custom_subresources::of(status, scale.is_some()),
                storage: Cow::Owned(crd_name.to_owned()),
                custom: Some(Arc::new(CustomResource {
                    crd: crd_name.to_owned(),
                    list_kind: names.list_kind.clone(),
                    storage_version: storage_version.to_owned(),
                    columns: printer_columns(version),
                    scale,
                    terminating,
                    deprecation_warning,
                    schema: version.pointer("/schema/openAPIV3Schema").cloned().map(Arc::new),
                    rules: version.pointer("/schema/openAPIV3Schema").and_then(crate::schema::cel::Rules::compile),
                    fields: Some(kubeplex_managedfields::Schema::custom(version.pointer("/schema/openAPIV3Schema"))),
                })),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn crontab() -> Value {
        json!({
            "metadata": {"name": "crontabs.stable.example.com"},
            "spec": {
                "group": "stable.example.com",
                "scope": "Namespaced",
                "names": {"plural": "crontabs", "kind": "CronTab", "shortNames": ["ct"]},
                "versions": [
                    {"name": "v1beta1", "served": true, "storage": false},
                    {"name": "v1", "served": true, "storage": true,
                     "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                                                              "statusReplicasPath": ".status.replicas"}},
                     "additionalPrinterColumns": [{"name": "Spec", "type": "string", "jsonPath": ".spec.cronSpec"}]},
                    {"name": "v2alpha1", "served": false, "storage": false}
                ]
            }
        })
    }

    #[test]
    fn names_with_defaults() {
        let names = CrdNames::from_json(crontab().pointer("/spec/names"));
        assert_eq!(names.singular, "crontab");
        assert_eq!(names.list_kind, "CronTabList");
        assert_eq!(
            names.to_json(),
            json!({"plural": "crontabs", "singular": "crontab", "shortNames": ["ct"], "kind": "CronTab", "listKind": "CronTabList"})
        );
    }

    #[test]
    fn conflicts_in_a_group() {
        let mine = CrdNames::from_json(crontab().pointer("/spec/names"));
        let other = CrdNames::from_json(Some(&json!({"plural": "timers", "kind": "Timer", "shortNames": ["ct"]})));
        let conflict = check_names(&mine, &[&other]).unwrap_err();
        assert_eq!(conflict.reason, "ShortNamesConflict");
        assert_eq!(conflict.message, "\"ct\" is already in use");
        let other = CrdNames::from_json(Some(&json!({"plural": "crontab", "kind": "Other"})));
        assert_eq!(check_names(&mine, &[&other]).unwrap_err().reason, "SingularConflict");
        let other = CrdNames::from_json(Some(&json!({"plural": "others", "kind": "CronTabList"})));
        assert_eq!(check_names(&mine, &[&other]).unwrap_err().reason, "ListKindConflict");
        let other = CrdNames::from_json(Some(&json!({"plural": "others", "kind": "Other"})));
        assert!(check_names(&mine, &[&other]).is_ok());
    }

    #[test]
    fn version_priority() {
        let mut versions =
            vec!["v11alpha2", "foo1", "v10beta3", "v1", "v2", "v1beta1", "v12alpha1", "foo10", "v10", "v3beta1"];
        versions.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(
            versions,
            ["v10", "v2", "v1", "v10beta3", "v3beta1", "v1beta1", "v12alpha1", "v11alpha2", "foo1", "foo10"]
        );
    }

    #[test]
    fn resources_of_served_versions() {
        let crd = crontab();
        let names = CrdNames::from_json(crd.pointer("/spec/names"));
        let defs = served_resources(&crd, &names, false);
        let versions: Vec<&str> = defs.iter().map(|d| &*d.version).collect();
        assert_eq!(versions, ["v1", "v1beta1"]);
        let v1 = &defs[0];
        assert_eq!(v1.storage, "crontabs.stable.example.com");
        assert!(v1.namespaced);
        assert_eq!(v1.list_kind(), "CronTabList");
        assert_eq!(defs[1].custom.as_ref().unwrap().storage_version, "v1");
        assert!(v1.subresource("status").is_some() && v1.subresource("scale").is_some());
        assert_eq!(v1.subresource_kind(v1.subresource("status").unwrap()), ("stable.example.com", "v1", "CronTab"));
        let custom = v1.custom.as_ref().unwrap();
        assert_eq!(custom.columns[0].json_path, ".spec.cronSpec");
        assert_eq!(custom.scale.as_ref().unwrap().status_replicas, ".status.replicas");
        // No columns: the Age default.
        assert_eq!(defs[1].custom.as_ref().unwrap().columns[0].name, "Age");
        assert!(defs[1].subresources.is_empty());
    }
}
