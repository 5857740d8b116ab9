//! Printers of PodTemplate and ReplicationController (core/v1), StatefulSet,
//! DaemonSet and ControllerRevision (apps/v1) and CronJob (batch/v1), with
//! the cells of `printPodTemplate`, `printReplicationController`,
//! `printStatefulSet`, `printDaemonSet`, `printControllerRevision` and
//! `printCronJob`.

use jiff::Timestamp;
use serde_json::Value;

use super::{AGE, Column, NAME, Row, age, col, containers, format_label_selector, format_labels, name, wide};
use crate::table::docs;
use crate::table::duration::since;
use crate::table::json::{bool_at, get, int_at, list_at, opt_int_at, str_at, time_at};

// Column descriptions: `SwaggerDoc()` of the types the printers name (k8s.io/api v0.36).
const POD_LABELS: &str = "The labels for the pod template.";
const RC_SPEC_REPLICAS: &str = "Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller";
const RC_STATUS_REPLICAS: &str = "Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller";
const RC_STATUS_READY: &str = "The number of ready replicas for this replication controller.";
const RC_SPEC_SELECTOR: &str = "Selector is a label query over pods that should match the Replicas count. If Selector is empty, it is defaulted to the labels present on the Pod template. Label keys and values that must match in order to be controlled by this replication controller, if empty defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors";
const DS_DESIRED: &str = "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/";
const DS_CURRENT: &str = "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/";
const DS_READY: &str = "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.";
const DS_UPDATED: &str = "The total number of nodes that are running updated daemon pod";
const DS_AVAILABLE: &str = "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)";
const POD_NODE_SELECTOR: &str = "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/";
const DS_SELECTOR: &str = "A label query over pods that are managed by the daemon set. Must match in order to be controlled. If empty, defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors";
const CONTROLLER: &str = "Controller of the object";
const REVISION: &str = "revision indicates the revision of the state represented by Data.";
const CRON_SCHEDULE: &str = "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.";
const CRON_TIME_ZONE: &str = "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to the time zone of the kube-controller-manager process. The set of valid time zone names and the time zone offset is loaded from the system-wide time zone database by the API server during CronJob validation and the controller manager during execution. If no system-wide time zone database can be found a bundled version of the database is used instead. If the time zone name becomes invalid during the lifetime of a CronJob or due to a change in host configuration, the controller will stop creating new new Jobs and will create a system event with the reason UnknownTimeZone. More information can be found in https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones";
const CRON_SUSPEND: &str = "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.";
const CRON_ACTIVE: &str = "A list of pointers to currently running jobs.";
const CRON_LAST_SCHEDULE: &str = "Information when was the last time the job was successfully scheduled.";

pub(super) const POD_TEMPLATE_COLUMNS: &[Column] = &[
    NAME,
    col("Containers", "string", docs::CONTAINERS),
    col("Images", "string", docs::IMAGES),
    col("Pod Labels", "string", POD_LABELS),
];

/// Name, containers, images, the template's labels.
pub(super) fn pod_template(obj: &Value, _now: Timestamp) -> Row {
    let (names, images) = containers(get(obj, &["template", "spec"]));
    Row::new(vec![name(obj), names, images, Value::from(format_labels(obj, &["template", "metadata", "labels"]))])
}

pub(super) const REPLICATION_CONTROLLER_COLUMNS: &[Column] = &[
    NAME,
    col("Desired", "integer", RC_SPEC_REPLICAS),
    col("Current", "integer", RC_STATUS_REPLICAS),
    col("Ready", "integer", RC_STATUS_READY),
    AGE,
    wide("Containers", "string", docs::CONTAINERS),
    wide("Images", "string", docs::IMAGES),
    wide("Selector", "string", RC_SPEC_SELECTOR),
];

/// Desired (1 when unset, as decoding defaults it), current and ready
/// replicas, Age; the selector is a plain label map.
pub(super) fn replication_controller(obj: &Value, now: Timestamp) -> Row {
    let (names, images) = containers(get(obj, &["spec", "template", "spec"]));
    Row::new(vec![
        name(obj),
        Value::from(opt_int_at(obj, &["spec", "replicas"]).unwrap_or(1)),
        Value::from(int_at(obj, &["status", "replicas"])),
        Value::from(int_at(obj, &["status", "readyReplicas"])),
        age(obj, now),
        names,
        images,
        Value::from(format_labels(obj, &["spec", "selector"])),
    ])
}

pub(super) const STATEFUL_SET_COLUMNS: &[Column] = &[
    NAME,
    col("Ready", "string", docs::DEPLOYMENT_READY),
    AGE,
    wide("Containers", "string", docs::CONTAINERS),
    wide("Images", "string", docs::IMAGES),
];

/// Name, `ready/desired`, Age.
pub(super) fn stateful_set(obj: &Value, now: Timestamp) -> Row {
    let desired = opt_int_at(obj, &["spec", "replicas"]).unwrap_or(1);
    let (names, images) = containers(get(obj, &["spec", "template", "spec"]));
    Row::new(vec![
        name(obj),
        Value::from(format!("{}/{desired}", int_at(obj, &["status", "readyReplicas"]))),
        age(obj, now),
        names,
        images,
    ])
}

pub(super) const DAEMON_SET_COLUMNS: &[Column] = &[
    NAME,
    col("Desired", "integer", DS_DESIRED),
    col("Current", "integer", DS_CURRENT),
    col("Ready", "integer", DS_READY),
    col("Up-to-date", "integer", DS_UPDATED),
    col("Available", "integer", DS_AVAILABLE),
    col("Node Selector", "string", POD_NODE_SELECTOR),
    AGE,
    wide("Containers", "string", docs::CONTAINERS),
    wide("Images", "string", docs::IMAGES),
    wide("Selector", "string", DS_SELECTOR),
];

pub(super) fn daemon_set(obj: &Value, now: Timestamp) -> Row {
    let status = |key: &str| Value::from(int_at(obj, &["status", key]));
    let (names, images) = containers(get(obj, &["spec", "template", "spec"]));
    Row::new(vec![
        name(obj),
        status("desiredNumberScheduled"),
        status("currentNumberScheduled"),
        status("numberReady"),
        status("updatedNumberScheduled"),
        status("numberAvailable"),
        Value::from(format_labels(obj, &["spec", "template", "spec", "nodeSelector"])),
        age(obj, now),
        names,
        images,
        Value::from(format_label_selector(get(obj, &["spec", "selector"]))),
    ])
}

pub(super) const CONTROLLER_REVISION_COLUMNS: &[Column] =
    &[NAME, col("Controller", "string", CONTROLLER), col("Revision", "string", REVISION), AGE];

/// Name, the controlling owner as `kind.group/name` in lower case
/// (`<none>` without one), the revision number, Age.
pub(super) fn controller_revision(obj: &Value, now: Timestamp) -> Row {
    let owner = list_at(obj, &["metadata", "ownerReferences"]).iter().find(|r| bool_at(r, &["controller"]));
    let controller = match owner {
        None => "<none>".to_owned(),
        Some(r) => {
            let api_version = str_at(r, &["apiVersion"]);
            let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
            let kind = str_at(r, &["kind"]);
            let owner_name = str_at(r, &["name"]);
            match (group, kind) {
                ("", "") => owner_name.to_owned(),
                ("", kind) => format!("{}/{owner_name}", kind.to_lowercase()),
                (group, kind) => format!("{}.{}/{owner_name}", kind.to_lowercase(), group.to_lowercase()),
            }
        }
    };
    Row::new(vec![name(obj), Value::from(controller), Value::from(int_at(obj, &["revision"])), age(obj, now)])
}

pub(super) const CRON_JOB_COLUMNS: &[Column] = &[
    NAME,
    col("Schedule", "string", CRON_SCHEDULE),
    col("Timezone", "string", CRON_TIME_ZONE),
    col("Suspend", "boolean", CRON_SUSPEND),
    col("Active", "integer", CRON_ACTIVE),
    col("Last Schedule", "string", CRON_LAST_SCHEDULE),
    AGE,
    wide("Containers", "string", docs::CONTAINERS),
    wide("Images", "string", docs::IMAGES),
    wide("Selector", "string", docs::JOB_SELECTOR),
];

/// Name, schedule, time zone (`<none>`), suspended, active jobs, the time
/// since the last schedule (`<none>`), Age.
pub(super) fn cron_job(obj: &Value, now: Timestamp) -> Row {
    let time_zone = get(obj, &["spec", "timeZone"]).and_then(Value::as_str).unwrap_or("<none>");
    let last = if get(obj, &["status", "lastScheduleTime"]).is_some() {
        since(time_at(obj, &["status", "lastScheduleTime"]), now)
    } else {
        "<none>".to_owned()
    };
    let (names, images) = containers(get(obj, &["spec", "jobTemplate", "spec", "template", "spec"]));
    Row::new(vec![
        name(obj),
        Value::from(str_at(obj, &["spec", "schedule"])),
        Value::from(time_zone),
        Value::from(bool_at(obj, &["spec", "suspend"])),
        Value::from(list_at(obj, &["status", "active"]).len()),
        Value::from(last),
        age(obj, now),
        names,
        images,
        Value::from(format_label_selector(get(obj, &["spec", "jobTemplate", "spec", "selector"]))),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2025-06-01T12:00:00Z".parse().unwrap()
    }

    fn template() -> Value {
        json!({"metadata": {"labels": {"app": "web", "tier": "fe"}},
               "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}], "nodeSelector": {"disk": "ssd"}}})
    }

    #[test]
    fn pod_template_and_rc_cells() {
        let pt = json!({"metadata": {"name": "pt"}, "template": template()});
        assert_eq!(
            pod_template(&pt, now()).cells,
            vec![json!("pt"), json!("nginx"), json!("nginx:1.27"), json!("app=web,tier=fe")]
        );
        let rc = json!({"metadata": {"name": "rc", "creationTimestamp": "2025-06-01T11:00:00Z"},
                        "spec": {"replicas": 3, "selector": {"app": "web"}, "template": template()},
                        "status": {"replicas": 2, "readyReplicas": 1}});
        assert_eq!(
            replication_controller(&rc, now()).cells,
            vec![
                json!("rc"),
                json!(3),
                json!(2),
                json!(1),
                json!("60m"),
                json!("nginx"),
                json!("nginx:1.27"),
                json!("app=web")
            ]
        );
        assert_eq!(
            replication_controller(&json!({}), now()).cells,
            vec![json!(""), json!(1), json!(0), json!(0), json!("<unknown>"), json!(""), json!(""), json!("<none>")]
        );
    }

    #[test]
    fn stateful_and_daemon_set_cells() {
        let sts = json!({"metadata": {"name": "db", "creationTimestamp": "2025-06-01T11:59:00Z"},
                         "spec": {"replicas": 3, "template": template()}, "status": {"readyReplicas": 2}});
        assert_eq!(
            stateful_set(&sts, now()).cells,
            vec![json!("db"), json!("2/3"), json!("60s"), json!("nginx"), json!("nginx:1.27")]
        );
        let ds = json!({"metadata": {"name": "agent"}, "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template()},
                        "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2,
                                   "updatedNumberScheduled": 3, "numberAvailable": 2}});
        assert_eq!(
            daemon_set(&ds, now()).cells,
            vec![
                json!("agent"),
                json!(3),
                json!(3),
                json!(2),
                json!(3),
                json!(2),
                json!("disk=ssd"),
                json!("<unknown>"),
                json!("nginx"),
                json!("nginx:1.27"),
                json!("app=web")
            ]
        );
        let bare = daemon_set(&json!({"spec": {}}), now()).cells;
        assert_eq!(bare[6], json!("<none>"));
        assert_eq!(bare[10], json!("<none>"));
    }

    #[test]
    fn controller_revision_cells() {
        let cr = json!({"metadata": {"name": "web-7d9c", "ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "u", "controller": true}]}, "revision": 2});
        assert_eq!(
            controller_revision(&cr, now()).cells,
            vec![json!("web-7d9c"), json!("statefulset.apps/web"), json!(2), json!("<unknown>")]
        );
        let core = json!({"metadata": {"ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": "p", "controller": true}]}});
        assert_eq!(controller_revision(&core, now()).cells[1], json!("pod/p"));
        assert_eq!(controller_revision(&json!({}), now()).cells[1], json!("<none>"));
    }

    #[test]
    fn cron_job_cells() {
        let cj = json!({"metadata": {"name": "hello"},
                        "spec": {"schedule": "*/1 * * * *", "suspend": false,
                                 "jobTemplate": {"spec": {"template": template()}}},
                        "status": {"active": [{"name": "hello-1"}], "lastScheduleTime": "2025-06-01T11:59:00Z"}});
        assert_eq!(
            cron_job(&cj, now()).cells,
            vec![
                json!("hello"),
                json!("*/1 * * * *"),
                json!("<none>"),
                json!(false),
                json!(1),
                json!("60s"),
                json!("<unknown>"),
                json!("nginx"),
                json!("nginx:1.27"),
                json!("<none>")
            ]
        );
        let tz = json!({"spec": {"timeZone": "Etc/UTC", "suspend": true}});
        let cells = cron_job(&tz, now()).cells;
        assert_eq!(cells[2..6], [json!("Etc/UTC"), json!(true), json!(0), json!("<none>")]);
    }
}
