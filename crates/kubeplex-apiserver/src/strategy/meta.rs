//! `ObjectMeta` validation on create and update (`ValidateObjectMeta`,
//! `ValidateObjectMetaUpdate` of `k8s.io/apimachinery/pkg/api/validation`,
//! plus the finalizer-name rule `pkg/apis/core/validation` adds).

use kubeplex_core::names::{
    NameValidator, is_qualified_name, name_is_dns_label, validate_annotations, validate_labels,
};
use serde_json::{Map, Value, json};

use super::field::{
    Errs, Path, at, forbidden, immutable, immutable_str, invalid, invalid_int, invalid_json, invalid_rendered, list_at,
    required, s, string_map,
};

/// Which finalizer-name rule applies on top of the generic one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Finalizers {
    /// Unqualified names must be `kubernetes`, `orphan` or `foregroundDeletion`
    /// (`validateKubeFinalizerName`, every kind validated through core).
    Kube,
    /// Only `IsQualifiedName` (kinds validated through apimachinery alone).
    Generic,
}

/// The rules for one kind's metadata.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MetaRules {
    pub name: NameValidator,
    pub namespaced: bool,
    pub finalizers: Finalizers,
}

const STANDARD_FINALIZERS: &[&str] = &["kubernetes", "orphan", "foregroundDeletion"];

/// `ValidateObjectMeta` (name generation already done).
pub(crate) fn validate_create(object: &Value, rules: MetaRules) -> Errs {
    let meta = Path::new("metadata");
    let mut errs = Errs::new();
    let generate_name = s(object, &["metadata", "generateName"]);
    if !generate_name.is_empty() {
        for msg in (rules.name)(generate_name, true) {
            errs.push(invalid(&meta.child("generateName"), generate_name, &msg));
        }
    }
    let name = s(object, &["metadata", "name"]);
    if name.is_empty() {
        errs.push(required(&meta.child("name"), "name or generateName is required"));
    } else {
        for msg in (rules.name)(name, false) {
            errs.push(invalid(&meta.child("name"), name, &msg));
        }
    }
    errs.extend(common(object, rules));
    kube_finalizer_names(&mut errs, object, rules);
    errs
}

/// The checks `ValidateObjectMeta` shares between its variants.
fn common(object: &Value, rules: MetaRules) -> Errs {
    let meta = Path::new("metadata");
    let mut errs = Errs::new();
    let namespace = s(object, &["metadata", "namespace"]);
    if rules.namespaced {
        if namespace.is_empty() {
            errs.push(required(&meta.child("namespace"), ""));
        } else {
            for msg in name_is_dns_label(namespace, false) {
                errs.push(invalid(&meta.child("namespace"), namespace, &msg));
            }
        }
    } else if !namespace.is_empty() {
        errs.push(forbidden(&meta.child("namespace"), "not allowed on this type"));
    }
    if let Some(g) = at(object, &["metadata", "generation"]).and_then(Value::as_i64)
        && g < 0
    {
        errs.push(invalid_int(&meta.child("generation"), g, "must be greater than or equal to 0"));
    }
    errs.extend(labels_and_annotations(object));
    errs.extend(owner_references(object));
    errs.extend(finalizers(object));
    errs
}

fn labels_and_annotations(object: &Value) -> Errs {
    let mut errs = validate_labels(string_map(object, &["metadata", "labels"]), "metadata.labels");
    errs.extend(validate_annotations(string_map(object, &["metadata", "annotations"]), "metadata.annotations"));
    errs
}

/// `ValidateOwnerReferences`.
fn owner_references(object: &Value) -> Errs {
    let path = Path::new("metadata.ownerReferences");
    let refs = list_at(object, &["metadata", "ownerReferences"]);
    let mut errs = Errs::new();
    let mut first_controller: Option<String> = None;
    for r in refs {
        let api_version = s(r, &["apiVersion"]);
        let kind = s(r, &["kind"]);
        let (group, version) = match api_version.split('/').collect::<Vec<_>>().as_slice() {
            [""] => (Some(""), ""),
            [v] => (Some(""), *v),
            [g, v] => (Some(*g), *v),
            _ => (None, ""),
        };
        if version.is_empty() {
            errs.push(invalid(&path.child("apiVersion"), api_version, "version must not be empty"));
        }
        if kind.is_empty() {
            errs.push(invalid(&path.child("kind"), kind, "must not be empty"));
        }
        if s(r, &["name"]).is_empty() {
            errs.push(invalid(&path.child("name"), "", "must not be empty"));
        }
        if s(r, &["uid"]).is_empty() {
            errs.push(invalid(&path.child("uid"), "", "must not be empty"));
        }
        if group == Some("") && version == "v1" && kind == "Event" {
            errs.push(invalid_rendered(
                &path,
                &super::field::render_ordered(&owner_reference_json(r)),
                "/v1, Kind=Event is disallowed from being an owner",
            ));
        }
        if at(r, &["controller"]).and_then(Value::as_bool) == Some(true) {
            let current = format!("{kind}/{}", s(r, &["name"]));
            match &first_controller {
                Some(first) => errs.push(invalid_rendered(
                    &path,
                    &super::field::render_ordered(&Value::Array(refs.iter().map(owner_reference_json).collect())),
                    &format!(
                        "Only one reference can have Controller set to true. Found \"true\" in references for {first} and {current}"
                    ),
                )),
                None => first_controller = Some(current),
            }
        }
    }
    errs
}

/// A `metav1.OwnerReference` in Go's field order.
fn owner_reference_json(r: &Value) -> Value {
    let mut out = Map::new();
    for key in ["apiVersion", "kind", "name", "uid"] {
        out.insert(key.into(), json!(s(r, &[key])));
    }
    for key in ["controller", "blockOwnerDeletion"] {
        if let Some(v) = at(r, &[key]) {
            out.insert(key.into(), v.clone());
        }
    }
    Value::Object(out)
}

fn finalizer_list(object: &Value) -> Vec<&str> {
    list_at(object, &["metadata", "finalizers"]).iter().filter_map(Value::as_str).collect()
}

/// `ValidateFinalizers`: qualified names, not both `orphan` and
/// `foregroundDeletion`.
fn finalizers(object: &Value) -> Errs {
    let path = Path::new("metadata.finalizers");
    let list = finalizer_list(object);
    let mut errs = Errs::new();
    for f in &list {
        for msg in is_qualified_name(f) {
            errs.push(invalid(&path, f, &msg));
        }
    }
    if list.contains(&"orphan") && list.contains(&"foregroundDeletion") {
        errs.push(invalid_json(&path, &json!(list), "finalizer orphan and foregroundDeletion cannot be both set"));
    }
    errs
}

/// `validateKubeFinalizerName` for every `metadata.finalizers[i]`.
fn kube_finalizer_names(errs: &mut Errs, object: &Value, rules: MetaRules) {
    if rules.finalizers != Finalizers::Kube {
        return;
    }
    for (i, f) in finalizer_list(object).iter().enumerate() {
        errs.extend(kube_finalizer_name(f, &Path::new("metadata.finalizers").index(i)));
    }
}

/// `validateKubeFinalizerName`: an unqualified finalizer must be a standard one.
pub(crate) fn kube_finalizer_name(name: &str, path: &Path) -> Errs {
    if !name.contains('/') && !STANDARD_FINALIZERS.contains(&name) {
        return vec![invalid(path, name, "name is neither a standard finalizer name nor is it fully qualified")];
    }
    Errs::new()
}

/// `ValidateObjectMetaUpdate`.
pub(crate) fn validate_update(new: &Value, old: &Value, rules: MetaRules) -> Errs {
    let meta = Path::new("metadata");
    let mut errs = Errs::new();
    if at(old, &["metadata", "deletionTimestamp"]).is_some() {
        let before = finalizer_list(old);
        let mut added: Vec<&str> = finalizer_list(new).into_iter().filter(|f| !before.contains(f)).collect();
        added.sort_unstable();
        added.dedup();
        if !added.is_empty() {
            let list = added.iter().map(|f| kubeplex_core::names::go_quote(f)).collect::<Vec<_>>().join(", ");
            errs.push(forbidden(
                &meta.child("finalizers"),
                &format!(
                    "no new finalizers can be added if the object is being deleted, found new finalizers []string{{{list}}}"
                ),
            ));
        }
    }
    let new_gen = at(new, &["metadata", "generation"]).and_then(Value::as_i64).unwrap_or(0);
    let old_gen = at(old, &["metadata", "generation"]).and_then(Value::as_i64).unwrap_or(0);
    if new_gen < old_gen {
        errs.push(invalid_int(&meta.child("generation"), new_gen, "must not be decremented"));
    }
    immutable_str(&mut errs, s(new, &["metadata", "name"]), s(old, &["metadata", "name"]), &meta.child("name"));
    immutable_str(
        &mut errs,
        s(new, &["metadata", "namespace"]),
        s(old, &["metadata", "namespace"]),
        &meta.child("namespace"),
    );
    immutable_str(&mut errs, s(new, &["metadata", "uid"]), s(old, &["metadata", "uid"]), &meta.child("uid"));
    for field in ["creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"] {
        immutable(&mut errs, at(new, &["metadata", field]), at(old, &["metadata", field]), &meta.child(field));
    }
    errs.extend(labels_and_annotations(new));
    errs.extend(owner_references(new));
    kube_finalizer_names(&mut errs, new, rules);
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubeplex_core::names::{name_is_dns_label, name_is_dns_subdomain};

    const POD: MetaRules = MetaRules { name: name_is_dns_subdomain, namespaced: true, finalizers: Finalizers::Kube };

    fn messages(errs: &Errs) -> Vec<String> {
        errs.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn names_and_namespaces() {
        let errs = validate_create(&json!({"metadata": {"namespace": "demo"}}), POD);
        assert_eq!(messages(&errs), ["metadata.name: Required value: name or generateName is required"]);
        let errs = validate_create(&json!({"metadata": {"name": "Web", "namespace": "demo"}}), POD);
        assert_eq!(errs[0].field, "metadata.name");
        assert!(errs[0].body.starts_with("Invalid value: \"Web\": a lowercase RFC 1123 subdomain"));
        let errs = validate_create(&json!({"metadata": {"name": "web"}}), POD);
        assert_eq!(messages(&errs), ["metadata.namespace: Required value"]);
        let ns = MetaRules { name: name_is_dns_label, namespaced: false, finalizers: Finalizers::Kube };
        let errs = validate_create(&json!({"metadata": {"name": "a", "namespace": "b"}}), ns);
        assert_eq!(messages(&errs), ["metadata.namespace: Forbidden: not allowed on this type"]);
        let errs = validate_create(&json!({"metadata": {"name": "a.b"}}), ns);
        assert_eq!(messages(&errs), ["metadata.name: Invalid value: \"a.b\": must not contain dots"]);
    }

    #[test]
    fn labels_annotations_finalizers_owners() {
        let object = json!({"metadata": {
            "name": "web", "namespace": "demo",
            "labels": {"app": "bad value"},
            "finalizers": ["custom", "example.com/ok"],
            "ownerReferences": [{"apiVersion": "v1", "kind": "Event", "name": "e", "uid": "u"}],
        }});
        let errs = messages(&validate_create(&object, POD));
        assert!(
            errs[0].starts_with("metadata.labels: Invalid value: \"bad value\": a valid label must be"),
            "{errs:?}"
        );
        assert_eq!(
            errs[1],
            r#"metadata.ownerReferences: Invalid value: {"apiVersion":"v1","kind":"Event","name":"e","uid":"u"}: /v1, Kind=Event is disallowed from being an owner"#
        );
        assert_eq!(
            errs[2],
            "metadata.finalizers[0]: Invalid value: \"custom\": name is neither a standard finalizer name nor is it fully qualified"
        );
    }

    #[test]
    fn immutable_metadata() {
        let old = json!({"metadata": {"name": "web", "namespace": "demo", "uid": "1", "deletionTimestamp": "2024-01-01T00:00:00Z"}});
        let new = json!({"metadata": {"name": "web2", "namespace": "demo", "uid": "1", "deletionTimestamp": "2024-01-01T00:00:00Z", "finalizers": ["example.com/x"]}});
        let errs = messages(&validate_update(&new, &old, POD));
        assert_eq!(
            errs,
            [
                "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"example.com/x\"}",
                "metadata.name: Invalid value: \"web2\": field is immutable",
            ]
        );
    }
}
