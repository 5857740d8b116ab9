//! Printers of rbac.authorization.k8s.io/v1: RoleBinding and
//! ClusterRoleBinding (`printRoleBinding`, `printClusterRoleBinding`).
//! Roles and ClusterRoles have no printer upstream: their storage uses the
//! default `Name` / `Created At` convertor, and so do they here.

use jiff::Timestamp;
use serde_json::Value;

use super::{AGE, Column, NAME, Row, age, col, name, wide};
use crate::table::json::{list_at, str_at};

const ROLE_BINDING_ROLE_REF: &str = "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.";
const CLUSTER_ROLE_BINDING_ROLE_REF: &str = "RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.";

/// The kinds whose upstream storage uses `rest.NewDefaultTableConvertor`.
#[cfg(test)]
pub(super) const DEFAULT_CONVERTOR_KINDS: &[(&str, &str)] =
    &[("rbac.authorization.k8s.io", "Role"), ("rbac.authorization.k8s.io", "ClusterRole")];

pub(super) const ROLE_BINDING_COLUMNS: &[Column] = &[
    NAME,
    col("Role", "string", ROLE_BINDING_ROLE_REF),
    AGE,
    wide("Users", "string", "Users in the roleBinding"),
    wide("Groups", "string", "Groups in the roleBinding"),
    wide("ServiceAccounts", "string", "ServiceAccounts in the roleBinding"),
];

pub(super) const CLUSTER_ROLE_BINDING_COLUMNS: &[Column] = &[
    NAME,
    col("Role", "string", CLUSTER_ROLE_BINDING_ROLE_REF),
    AGE,
    wide("Users", "string", "Users in the clusterRoleBinding"),
    wide("Groups", "string", "Groups in the clusterRoleBinding"),
    wide("ServiceAccounts", "string", "ServiceAccounts in the clusterRoleBinding"),
];

/// Name, `Kind/name` of the role, Age, then users, groups and
/// `namespace/name` service accounts, each joined by `, `
/// (`rbac.SubjectsStrings`; other kinds are not shown).
pub(super) fn binding(obj: &Value, now: Timestamp) -> Row {
    let role = format!("{}/{}", str_at(obj, &["roleRef", "kind"]), str_at(obj, &["roleRef", "name"]));
    let (mut users, mut groups, mut sas) = (Vec::new(), Vec::new(), Vec::new());
    for subject in list_at(obj, &["subjects"]) {
        let subject_name = str_at(subject, &["name"]);
        match str_at(subject, &["kind"]) {
            "ServiceAccount" => sas.push(format!("{}/{subject_name}", str_at(subject, &["namespace"]))),
            "User" => users.push(subject_name.to_owned()),
            "Group" => groups.push(subject_name.to_owned()),
            _ => {}
        }
    }
    Row::new(vec![
        name(obj),
        Value::from(role),
        age(obj, now),
        Value::from(users.join(", ")),
        Value::from(groups.join(", ")),
        Value::from(sas.join(", ")),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn binding_cells() {
        let now: Timestamp = "2025-06-01T12:00:00Z".parse().unwrap();
        let rb = json!({
            "metadata": {"name": "read", "creationTimestamp": "2025-06-01T11:00:00Z"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [
                {"kind": "User", "name": "jane"}, {"kind": "User", "name": "joe"},
                {"kind": "Group", "name": "devs"},
                {"kind": "ServiceAccount", "name": "builder", "namespace": "ci"}
            ]
        });
        assert_eq!(
            binding(&rb, now).cells,
            vec![
                json!("read"),
                json!("ClusterRole/view"),
                json!("60m"),
                json!("jane, joe"),
                json!("devs"),
                json!("ci/builder")
            ]
        );
        let empty = binding(&json!({"metadata": {"name": "e"}}), now);
        assert_eq!(empty.cells[1], json!("/"));
        assert_eq!(empty.cells[3..], [json!(""), json!(""), json!("")]);
    }
}
