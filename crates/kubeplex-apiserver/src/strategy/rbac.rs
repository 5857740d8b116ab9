//! rbac.authorization.k8s.io/v1: Role, ClusterRole, RoleBinding and
//! ClusterRoleBinding, stored and validated as kube-apiserver does
//! (`pkg/apis/rbac/v1` defaults, `pkg/apis/rbac/validation`). Enforcement
//! (authorization, escalation checks) belongs to the identity work.

use kubeplex_core::names::{NameValidator, name_is_dns_subdomain, validate_path_segment_name};
use serde_json::{Value, json};

use super::field::{
    Errs, Path, at, each_obj_mut, invalid, invalid_json, invalid_rendered, list_at, not_supported, required, s,
};
use super::gojson::{fill_zero_values, internal_json};
use super::meta::{self, MetaRules};

const GROUP: &str = "rbac.authorization.k8s.io";

/// The kinds of this module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RbacKind {
    Role,
    ClusterRole,
    RoleBinding,
    ClusterRoleBinding,
}

/// The kind served at `group`/`kind`, if it is one of these.
pub(crate) fn kind_of(group: &str, kind: &str) -> Option<RbacKind> {
    if group != GROUP {
        return None;
    }
    match kind {
        "Role" => Some(RbacKind::Role),
        "ClusterRole" => Some(RbacKind::ClusterRole),
        "RoleBinding" => Some(RbacKind::RoleBinding),
        "ClusterRoleBinding" => Some(RbacKind::ClusterRoleBinding),
        _ => None,
    }
}

impl RbacKind {
    /// `minimalNameRequirements`: a valid path segment.
    pub(crate) fn name_validator(self) -> NameValidator {
        validate_path_segment_name
    }

    fn namespaced(self) -> bool {
        matches!(self, RbacKind::Role | RbacKind::RoleBinding)
    }

    fn is_binding(self) -> bool {
        matches!(self, RbacKind::RoleBinding | RbacKind::ClusterRoleBinding)
    }

    fn type_name(self) -> &'static str {
        match self {
            RbacKind::Role => "io.k8s.api.rbac.v1.Role",
            RbacKind::ClusterRole => "io.k8s.api.rbac.v1.ClusterRole",
            RbacKind::RoleBinding => "io.k8s.api.rbac.v1.RoleBinding",
            RbacKind::ClusterRoleBinding => "io.k8s.api.rbac.v1.ClusterRoleBinding",
        }
    }
}

/// `SetDefaults_RoleBinding` / `SetDefaults_ClusterRoleBinding` (the role's
/// API group) and `SetDefaults_Subject` (User and Group subjects are RBAC's),
/// then the fields Go always writes (`rules: null`, `roleRef`).
pub(crate) fn defaults(kind: RbacKind, object: &mut Value) {
    if kind.is_binding()
        && let Some(obj) = object.as_object_mut()
    {
        if let Some(role_ref) = obj.get_mut("roleRef").and_then(Value::as_object_mut)
            && role_ref.get("apiGroup").and_then(Value::as_str).is_none_or(str::is_empty)
        {
            role_ref.insert("apiGroup".into(), json!(GROUP));
        }
        for subject in each_obj_mut(obj, "subjects") {
            if subject.get("apiGroup").and_then(Value::as_str).is_none_or(str::is_empty)
                && matches!(subject.get("kind").and_then(Value::as_str), Some("User" | "Group"))
            {
                subject.insert("apiGroup".into(), json!(GROUP));
            }
        }
    }
    fill_zero_values(object, kind.type_name());
}

/// `validatePolicyRule`.
fn policy_rule(rule: &Value, namespaced: bool, path: &Path) -> Errs {
    let mut errs = Errs::new();
    if list_at(rule, &["verbs"]).is_empty() {
        errs.push(required(&path.child("verbs"), "verbs must contain at least one value"));
    }
    let urls = list_at(rule, &["nonResourceURLs"]);
    if !urls.is_empty() {
        let urls_json = Value::Array(urls.to_vec());
        if namespaced {
            errs.push(invalid_json(
                &path.child("nonResourceURLs"),
                &urls_json,
                "namespaced rules cannot apply to non-resource URLs",
            ));
        }
        if ["apiGroups", "resources", "resourceNames"].iter().any(|k| !list_at(rule, &[k]).is_empty()) {
            errs.push(invalid_json(
                &path.child("nonResourceURLs"),
                &urls_json,
                "rules cannot apply to both regular resources and non-resource URLs",
            ));
        }
        return errs;
    }
    if list_at(rule, &["apiGroups"]).is_empty() {
        errs.push(required(&path.child("apiGroups"), "resource rules must supply at least one api group"));
    }
    let resources = list_at(rule, &["resources"]);
    if resources.is_empty() {
        errs.push(required(&path.child("resources"), "resource rules must supply at least one resource"));
    }
    if !list_at(rule, &["resourceNames"]).is_empty() && resources.len() > 1 {
        errs.push(required(&path.child("resourceNames"), "resource names cannot apply to multiple resources"));
    }
    errs
}

/// `ValidateRole` / `ValidateClusterRole` beyond metadata.
fn rules(object: &Value, namespaced: bool) -> Errs {
    let rp = Path::new("rules");
    list_at(object, &["rules"])
        .iter()
        .enumerate()
        .flat_map(|(i, rule)| policy_rule(rule, namespaced, &rp.index(i)))
        .collect()
}

/// `validateRoleBindingSubject`.
fn subject(subject: &Value, namespaced: bool, path: &Path) -> Errs {
    let mut errs = Errs::new();
    let name = s(subject, &["name"]);
    if name.is_empty() {
        errs.push(required(&path.child("name"), ""));
    }
    let api_group = s(subject, &["apiGroup"]);
    match s(subject, &["kind"]) {
        "ServiceAccount" => {
            if !name.is_empty() {
                for msg in name_is_dns_subdomain(name, false) {
                    errs.push(invalid(&path.child("name"), name, &msg));
                }
            }
            if !api_group.is_empty() {
                errs.push(not_supported(&path.child("apiGroup"), api_group, &[""]));
            }
            if !namespaced && s(subject, &["namespace"]).is_empty() {
                errs.push(required(&path.child("namespace"), ""));
            }
        }
        kind @ ("User" | "Group") => {
            if name.is_empty() {
                let what = if kind == "User" { "user" } else { "group" };
                errs.push(invalid(&path.child("name"), name, &format!("{what} name cannot be empty")));
            }
            if api_group != GROUP {
                errs.push(not_supported(&path.child("apiGroup"), api_group, &[GROUP]));
            }
        }
        other => errs.push(not_supported(&path.child("kind"), other, &["ServiceAccount", "User", "Group"])),
    }
    errs
}

/// `ValidateRoleBinding` / `ValidateClusterRoleBinding` beyond metadata.
fn binding(object: &Value, namespaced: bool) -> Errs {
    let rr = Path::new("roleRef");
    let mut errs = Errs::new();
    let api_group = s(object, &["roleRef", "apiGroup"]);
    if api_group != GROUP {
        errs.push(not_supported(&rr.child("apiGroup"), api_group, &[GROUP]));
    }
    let kind = s(object, &["roleRef", "kind"]);
    let kinds: &[&str] = if namespaced { &["Role", "ClusterRole"] } else { &["ClusterRole"] };
    if !kinds.contains(&kind) {
        errs.push(not_supported(&rr.child("kind"), kind, kinds));
    }
    let name = s(object, &["roleRef", "name"]);
    if name.is_empty() {
        errs.push(required(&rr.child("name"), ""));
    } else {
        for msg in validate_path_segment_name(name, false) {
            errs.push(invalid(&rr.child("name"), name, &msg));
        }
    }
    let sp = Path::new("subjects");
    for (i, s) in list_at(object, &["subjects"]).iter().enumerate() {
        errs.extend(subject(s, namespaced, &sp.index(i)));
    }
    errs
}

/// Validation of a new object beyond metadata.
pub(crate) fn validate_create(kind: RbacKind, object: &Value) -> Errs {
    if kind.is_binding() { binding(object, kind.namespaced()) } else { rules(object, kind.namespaced()) }
}

/// Validation of an update, metadata included: the strategies run the
/// create validation and then the update validation, which repeats it.
pub(crate) fn validate_update(kind: RbacKind, new: &Value, old: &Value, rules: MetaRules) -> Errs {
    let full = || [meta::validate_create(new, rules), validate_create(kind, new)].concat();
    let mut errs = [full(), full(), meta::validate_update(new, old, rules)].concat();
    if kind.is_binding() && !super::field::semantic_eq(at(new, &["roleRef"]), at(old, &["roleRef"])) {
        errs.push(invalid_rendered(
            &Path::new("roleRef"),
            &super::field::render_ordered(&internal_json(at(new, &["roleRef"]), "io.k8s.api.rbac.v1.RoleRef")),
            "cannot change roleRef",
        ));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::field::msgs;

    #[test]
    fn roles() {
        let mut role = json!({"metadata": {"name": "r"}});
        defaults(RbacKind::Role, &mut role);
        assert_eq!(role["rules"], Value::Null);
        assert!(validate_create(RbacKind::Role, &role).is_empty());
        let bad = json!({"rules": [{"resources": ["pods"]}, {"verbs": ["get"], "nonResourceURLs": ["/healthz"]}]});
        assert_eq!(
            msgs(&validate_create(RbacKind::Role, &bad)),
            [
                "rules[0].verbs: Required value: verbs must contain at least one value",
                "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
                "rules[1].nonResourceURLs: Invalid value: [\"/healthz\"]: namespaced rules cannot apply to non-resource URLs",
            ]
        );
        let cluster = json!({"rules": [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}]});
        assert!(validate_create(RbacKind::ClusterRole, &cluster).is_empty());
    }

    #[test]
    fn bindings() {
        let mut rb = json!({"roleRef": {"kind": "Role", "name": "r"},
                            "subjects": [{"kind": "User", "name": "jane"}, {"kind": "ServiceAccount", "name": "sa"}]});
        defaults(RbacKind::RoleBinding, &mut rb);
        assert_eq!(rb["roleRef"]["apiGroup"], GROUP);
        assert_eq!(rb["subjects"][0]["apiGroup"], GROUP);
        assert!(rb["subjects"][1].get("apiGroup").is_none());
        assert!(validate_create(RbacKind::RoleBinding, &rb).is_empty());
        assert_eq!(
            msgs(&validate_create(RbacKind::ClusterRoleBinding, &rb)),
            [
                "roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\"",
                "subjects[1].namespace: Required value",
            ]
        );
        let bad = json!({"roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": ""},
                         "subjects": [{"kind": "Robot", "name": "x"}]});
        assert_eq!(
            msgs(&validate_create(RbacKind::RoleBinding, &bad)),
            [
                "roleRef.name: Required value",
                "subjects[0].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\"",
            ]
        );
    }
}
