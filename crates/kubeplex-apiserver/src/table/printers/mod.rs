//! Per-kind printers: the columns of each kind and the cells of one object's
//! row, as `k8s.io/kubernetes/pkg/printers/internalversion` renders them for
//! the API server (always with the `-o wide` columns; clients hide the
//! `priority: 1` ones unless asked), and the `Name` / `Created At` default of
//! `k8s.io/apiserver/pkg/registry/rest` for kinds without a printer.
//!
//! ```text
//!  printer_for(def) ─► Printer { columns, row: fn(object, now) -> Row }
//!      core.rs   Namespace Service Endpoints ConfigMap Secret ServiceAccount Node Event
//!      pod.rs    Pod
//!      apps.rs   Deployment ReplicaSet Job
//!      other.rs  Lease EndpointSlice LogicalCluster, default
//!      networking.rs  NetworkPolicy Ingress IngressClass
//!      rbac.rs        RoleBinding ClusterRoleBinding (Roles: default)
//!      cluster.rs     storage, scheduling, node, admission, certificates, resource kinds
//!      volumes.rs     PersistentVolume PersistentVolumeClaim
//!      workloads.rs   PodTemplate ReplicationController StatefulSet DaemonSet ControllerRevision CronJob
//!      policy.rs      ResourceQuota PodDisruptionBudget HorizontalPodAutoscaler (LimitRange: default)
//! ```

mod apps;
mod cluster;
mod core;
mod networking;
mod other;
mod pod;
mod policy;
mod rbac;
mod volumes;
mod workloads;

use jiff::Timestamp;
use kubeplex_core::quantity::Quantity;
use kubeplex_core::resource::ResourceDef;
use kubeplex_core::selector::LabelSelector;
use serde_json::Value;

use super::duration::since;
use super::json::{get, list_at, str_at, time_at};

/// One column of a Table (`metav1.TableColumnDefinition`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    /// The header, e.g. `Name`, `Ready`, `Nominated Node`.
    pub name: &'static str,
    /// The OpenAPI type of the cells: `string`, `integer`, `date`, ...
    pub type_: &'static str,
    /// `name` for the column that holds the object name, else empty.
    pub format: &'static str,
    pub description: &'static str,
    /// 0 for the default columns, 1 for those `-o wide` adds.
    pub priority: i32,
}

/// A column of priority 0.
const fn col(name: &'static str, type_: &'static str, description: &'static str) -> Column {
    Column { name, type_, format: "", description, priority: 0 }
}

/// A column `-o wide` adds (priority 1).
const fn wide(name: &'static str, type_: &'static str, description: &'static str) -> Column {
    Column { name, type_, format: "", description, priority: 1 }
}

/// The `Name` column every printer starts with.
const NAME: Column =
    Column { name: "Name", type_: "string", format: "name", description: super::docs::NAME, priority: 0 };

/// The `Age` column of the printers.
const AGE: Column = col("Age", "string", super::docs::CREATION_TIMESTAMP);

/// The rendered row of one object.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// One cell per column: strings, integers or booleans.
    pub cells: Vec<Value>,
    /// `rows[].conditions` (the `Completed` condition of finished pods).
    pub conditions: Option<Value>,
}

impl Row {
    fn new(cells: Vec<Value>) -> Row {
        Row { cells, conditions: None }
    }
}

/// The printer of one kind.
#[derive(Clone, Copy, Debug)]
pub struct Printer {
    pub columns: &'static [Column],
    pub row: fn(&Value, Timestamp) -> Row,
    /// The default convertor (`rest.NewDefaultTableConvertor`), whose rows are
    /// `null` rather than `[]` when there are none.
    pub generic: bool,
}

/// The printer for objects of `def`.
pub fn printer_for(def: &ResourceDef) -> Printer {
    let p = |columns, row| Printer { columns, row, generic: false };
    match (&*def.group, &*def.kind) {
        ("", "Namespace") => p(core::NAMESPACE_COLUMNS, core::namespace),
        ("", "Pod") => p(pod::POD_COLUMNS, pod::pod),
        ("", "Service") => p(core::SERVICE_COLUMNS, core::service),
        ("", "Endpoints") => p(core::ENDPOINTS_COLUMNS, core::endpoints),
        ("", "ConfigMap") => p(core::CONFIG_MAP_COLUMNS, core::config_map),
        ("", "Secret") => p(core::SECRET_COLUMNS, core::secret),
        ("", "ServiceAccount") => p(core::SERVICE_ACCOUNT_COLUMNS, core::service_account),
        ("", "Node") => p(core::NODE_COLUMNS, core::node),
        ("", "Event") => p(core::EVENT_COLUMNS, core::event),
        ("events.k8s.io", "Event") => p(core::EVENT_COLUMNS, core::events_k8s_io_event),
        ("apps", "Deployment") => p(apps::DEPLOYMENT_COLUMNS, apps::deployment),
        ("apps", "ReplicaSet") => p(apps::REPLICA_SET_COLUMNS, apps::replica_set),
        ("batch", "Job") => p(apps::JOB_COLUMNS, apps::job),
        ("coordination.k8s.io", "Lease") => p(other::LEASE_COLUMNS, other::lease),
        ("discovery.k8s.io", "EndpointSlice") => p(other::ENDPOINT_SLICE_COLUMNS, other::endpoint_slice),
        ("kubeplex.io", "LogicalCluster") => p(other::LOGICAL_CLUSTER_COLUMNS, other::logical_cluster),
        ("networking.k8s.io", "NetworkPolicy") => p(networking::NETWORK_POLICY_COLUMNS, networking::network_policy),
        ("networking.k8s.io", "Ingress") => p(networking::INGRESS_COLUMNS, networking::ingress),
        ("networking.k8s.io", "IngressClass") => p(networking::INGRESS_CLASS_COLUMNS, networking::ingress_class),
        ("rbac.authorization.k8s.io", "RoleBinding") => p(rbac::ROLE_BINDING_COLUMNS, rbac::binding),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => p(rbac::CLUSTER_ROLE_BINDING_COLUMNS, rbac::binding),
        ("storage.k8s.io", "StorageClass") => p(cluster::STORAGE_CLASS_COLUMNS, cluster::storage_class),
        ("storage.k8s.io", "CSIDriver") => p(cluster::CSI_DRIVER_COLUMNS, cluster::csi_driver),
        ("storage.k8s.io", "CSINode") => p(cluster::CSI_NODE_COLUMNS, cluster::csi_node),
        ("storage.k8s.io", "VolumeAttachment") => p(cluster::VOLUME_ATTACHMENT_COLUMNS, cluster::volume_attachment),
        ("scheduling.k8s.io", "PriorityClass") => p(cluster::PRIORITY_CLASS_COLUMNS, cluster::priority_class),
        ("node.k8s.io", "RuntimeClass") => p(cluster::RUNTIME_CLASS_COLUMNS, cluster::runtime_class),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration") => {
            p(cluster::WEBHOOK_CONFIGURATION_COLUMNS, cluster::webhook_configuration)
        }
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy") => {
            p(cluster::VALIDATING_ADMISSION_POLICY_COLUMNS, cluster::validating_admission_policy)
        }
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding") => {
            p(cluster::VALIDATING_ADMISSION_POLICY_BINDING_COLUMNS, cluster::validating_admission_policy_binding)
        }
        ("certificates.k8s.io", "CertificateSigningRequest") => {
            p(cluster::CERTIFICATE_SIGNING_REQUEST_COLUMNS, cluster::certificate_signing_request)
        }
        ("resource.k8s.io", "DeviceClass" | "ResourceClaimTemplate") => p(cluster::NAME_AGE_COLUMNS, cluster::name_age),
        ("resource.k8s.io", "ResourceClaim") => p(cluster::RESOURCE_CLAIM_COLUMNS, cluster::resource_claim),
        ("resource.k8s.io", "ResourceSlice") => p(cluster::RESOURCE_SLICE_COLUMNS, cluster::resource_slice),
        ("", "PersistentVolume") => p(volumes::PERSISTENT_VOLUME_COLUMNS, volumes::persistent_volume),
        ("", "PersistentVolumeClaim") => p(volumes::PERSISTENT_VOLUME_CLAIM_COLUMNS, volumes::persistent_volume_claim),
        ("", "PodTemplate") => p(workloads::POD_TEMPLATE_COLUMNS, workloads::pod_template),
        ("", "ReplicationController") => {
            p(workloads::REPLICATION_CONTROLLER_COLUMNS, workloads::replication_controller)
        }
        ("apps", "StatefulSet") => p(workloads::STATEFUL_SET_COLUMNS, workloads::stateful_set),
        ("apps", "DaemonSet") => p(workloads::DAEMON_SET_COLUMNS, workloads::daemon_set),
        ("apps", "ControllerRevision") => p(workloads::CONTROLLER_REVISION_COLUMNS, workloads::controller_revision),
        ("batch", "CronJob") => p(workloads::CRON_JOB_COLUMNS, workloads::cron_job),
        ("", "ResourceQuota") => p(policy::RESOURCE_QUOTA_COLUMNS, policy::resource_quota),
        ("policy", "PodDisruptionBudget") => p(policy::POD_DISRUPTION_BUDGET_COLUMNS, policy::pod_disruption_budget),
        // autoscaling/v1: the v2 printer on the v2 form (upstream prints the internal object).
        ("autoscaling", "HorizontalPodAutoscaler") if &*def.version == "v1" => {
            p(policy::HORIZONTAL_POD_AUTOSCALER_COLUMNS, |obj, now| {
                policy::horizontal_pod_autoscaler(&crate::strategy::hpa_v2_from_v1(obj), now)
            })
        }
        ("autoscaling", "HorizontalPodAutoscaler") => {
            p(policy::HORIZONTAL_POD_AUTOSCALER_COLUMNS, policy::horizontal_pod_autoscaler)
        }
        _ => Printer { columns: other::DEFAULT_COLUMNS, row: other::default_row, generic: true },
    }
}

/// `metadata.name`.
fn name(obj: &Value) -> Value {
    Value::from(str_at(obj, &["metadata", "name"]))
}

/// The Age cell: time since `metadata.creationTimestamp`, `<unknown>` without one.
fn age(obj: &Value, now: Timestamp) -> Value {
    Value::from(since(time_at(obj, &["metadata", "creationTimestamp"]), now))
}

/// `layoutContainerCells`: container names and images, each joined by `,`.
fn containers(pod_spec: Option<&Value>) -> (Value, Value) {
    let list = pod_spec.map_or(&[][..], |spec| list_at(spec, &["containers"]));
    let names: Vec<&str> = list.iter().map(|c| str_at(c, &["name"])).collect();
    let images: Vec<&str> = list.iter().map(|c| str_at(c, &["image"])).collect();
    (Value::from(names.join(",")), Value::from(images.join(",")))
}

/// `labels.FormatLabels`: `k=v` pairs sorted as strings and joined by `,`,
/// `<none>` when there are none.
fn format_labels(obj: &Value, path: &[&str]) -> String {
    let mut pairs: Vec<String> =
        super::json::string_map(obj, path).into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    if pairs.is_empty() {
        return "<none>".to_owned();
    }
    pairs.sort();
    pairs.join(",")
}

/// The quantity at `path` (a string or a number), `None` when unset or not
/// a quantity.
fn quantity_at(obj: &Value, path: &[&str]) -> Option<Quantity> {
    get(obj, path).and_then(|v| match v {
        Value::String(s) => Quantity::parse(s).ok(),
        Value::Number(n) => Quantity::parse(&n.to_string()).ok(),
        _ => None,
    })
}

/// `metav1.LabelSelectorAsSelector(sel).String()`: `Err` for a selector that
/// does not convert (bad operator, invalid key or value).
fn selector_string(selector: Option<&Value>) -> Result<String, ()> {
    LabelSelector::from_api_json(selector).map(|s| s.to_string()).map_err(|_| ())
}

/// `metav1.FormatLabelSelector`: `<none>` for a nil or empty selector,
/// `<error>` for one that does not convert.
fn format_label_selector(selector: Option<&Value>) -> String {
    match selector_string(selector) {
        Err(()) => "<error>".to_owned(),
        Ok(s) if s.is_empty() => "<none>".to_owned(),
        Ok(s) => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubeplex_core::resource::BUILTIN;
    use serde_json::json;

    #[test]
    fn every_builtin_has_its_printer() {
        for def in BUILTIN {
            let printer = printer_for(def);
            // Roles and ClusterRoles use the default convertor upstream too.
            // CRDs are served by apiextensions-apiserver with the default one.
            let upstream_default = rbac::DEFAULT_CONVERTOR_KINDS.contains(&(&*def.group, &*def.kind))
                || policy::DEFAULT_CONVERTOR_KINDS.contains(&(&*def.group, &*def.kind))
                || (&*def.group, &*def.kind) == ("apiextensions.k8s.io", "CustomResourceDefinition");
            assert_eq!(printer.generic, upstream_default, "{} {} uses the generic printer", def.group, def.kind);
            assert_eq!(printer.columns[0].name, if def.kind == "Event" { "Last Seen" } else { "Name" });
            // Every printer fills one cell per column, even for an empty object.
            let row = (printer.row)(&json!({}), Timestamp::UNIX_EPOCH);
            assert_eq!(row.cells.len(), printer.columns.len(), "{}", def.kind);
            let row = (printer.row)(&json!(null), Timestamp::UNIX_EPOCH);
            assert_eq!(row.cells.len(), printer.columns.len(), "{}", def.kind);
        }
    }

    #[test]
    fn exactly_one_name_column() {
        for def in BUILTIN {
            let names = printer_for(def).columns.iter().filter(|c| c.format == "name").count();
            // VolumeAttachment's Attacher column has format `name` upstream.
            let expected = if cluster::SECOND_NAME_COLUMN_KINDS.contains(&(&*def.group, &*def.kind)) { 2 } else { 1 };
            assert_eq!(names, expected, "{}", def.kind);
        }
    }

    #[test]
    fn labels_and_selectors() {
        let obj = json!({"m": {"b": "2", "a-b": "1", "a": "3"}, "empty": {}});
        // Sorted as "k=v" strings: '-' sorts before '='.
        assert_eq!(format_labels(&obj, &["m"]), "a-b=1,a=3,b=2");
        assert_eq!(format_labels(&obj, &["empty"]), "<none>");
        assert_eq!(format_labels(&obj, &["missing"]), "<none>");

        assert_eq!(format_label_selector(None), "<none>");
        assert_eq!(format_label_selector(Some(&json!({}))), "<none>");
        assert_eq!(format_label_selector(Some(&json!({"matchLabels": {"app": "web"}}))), "app=web");
        let sel = json!({"matchLabels": {"tier": "fe", "app": "web"},
                         "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]},
                                              {"key": "legacy", "operator": "DoesNotExist"}]});
        assert_eq!(format_label_selector(Some(&sel)), "app=web,env in (dev,prod),!legacy,tier=fe");
        let bad = json!({"matchExpressions": [{"key": "a", "operator": "Near"}]});
        assert_eq!(format_label_selector(Some(&bad)), "<error>");
        assert_eq!(selector_string(None), Ok(String::new()));
        assert!(selector_string(Some(&bad)).is_err());
    }

    #[test]
    fn container_cells() {
        let spec = json!({"containers": [{"name": "web", "image": "nginx:1.27"}, {"name": "log", "image": "busybox"}]});
        assert_eq!(containers(Some(&spec)), (json!("web,log"), json!("nginx:1.27,busybox")));
        assert_eq!(containers(None), (json!(""), json!("")));
    }
}
