//! Printers of workload controllers: Deployment and ReplicaSet (apps/v1) and
//! Job (batch/v1) with its Status column.

use jiff::Timestamp;
use serde_json::Value;

use super::{AGE, Column, NAME, Row, age, col, containers, format_label_selector, name, selector_string, wide};
use crate::table::docs;
use crate::table::duration::human_duration;
use crate::table::json::{get, int_at, list_at, opt_int_at, str_at, time_at};

/// `spec.replicas`, 1 when unset (as decoding defaults it).
fn desired_replicas(obj: &Value) -> i64 {
    opt_int_at(obj, &["spec", "replicas"]).unwrap_or(1)
}

pub(super) const DEPLOYMENT_COLUMNS: &[Column] = &[
    NAME,
    col("Ready", "string", docs::DEPLOYMENT_READY),
    col("Up-to-date", "string", docs::DEPLOYMENT_UPDATED_REPLICAS),
    col("Available", "string", docs::DEPLOYMENT_AVAILABLE_REPLICAS),
    AGE,
    wide("Containers", "string", docs::CONTAINERS),
    wide("Images", "string", docs::IMAGES),
    wide("Selector", "string", docs::DEPLOYMENT_SELECTOR),
];

/// Name, `ready/desired`, updated, available, Age; the selector is the bare
/// selector string (empty for none, `<invalid>` when it does not convert).
pub(super) fn deployment(obj: &Value, now: Timestamp) -> Row {
    let ready = int_at(obj, &["status", "readyReplicas"]);
    let (names, images) = containers(get(obj, &["spec", "template", "spec"]));
    let selector = selector_string(get(obj, &["spec", "selector"])).unwrap_or_else(|()| "<invalid>".to_owned());
    Row::new(vec![
        name(obj),
        Value::from(format!("{ready}/{}", desired_replicas(obj))),
        Value::from(int_at(obj, &["status", "updatedReplicas"])),
        Value::from(int_at(obj, &["status", "availableReplicas"])),
        age(obj, now),
        names,
        images,
        Value::from(selector),
    ])
}

pub(super) const REPLICA_SET_COLUMNS: &[Column] = &[
    NAME,
    col("Desired", "integer", docs::REPLICA_SET_SPEC_REPLICAS),
    col("Current", "integer", docs::REPLICA_SET_STATUS_REPLICAS),
    col("Ready", "integer", docs::REPLICA_SET_STATUS_READY_REPLICAS),
    AGE,
    wide("Containers", "string", docs::CONTAINERS),
    wide("Images", "string", docs::IMAGES),
    wide("Selector", "string", docs::REPLICA_SET_SPEC_SELECTOR),
];

pub(super) fn replica_set(obj: &Value, now: Timestamp) -> Row {
    let (names, images) = containers(get(obj, &["spec", "template", "spec"]));
    Row::new(vec![
        name(obj),
        Value::from(desired_replicas(obj)),
        Value::from(int_at(obj, &["status", "replicas"])),
        Value::from(int_at(obj, &["status", "readyReplicas"])),
        age(obj, now),
        names,
        images,
        Value::from(format_label_selector(get(obj, &["spec", "selector"]))),
    ])
}

pub(super) const JOB_COLUMNS: &[Column] = &[
    NAME,
    col("Status", "string", docs::JOB_STATUS),
    col("Completions", "string", docs::JOB_SUCCEEDED),
    col("Duration", "string", docs::JOB_DURATION),
    AGE,
    wide("Containers", "string", docs::CONTAINERS),
    wide("Images", "string", docs::IMAGES),
    wide("Selector", "string", docs::JOB_SELECTOR),
];

/// `hasJobCondition`: the first condition of `type_` decides.
fn job_condition(obj: &Value, type_: &str) -> bool {
    list_at(obj, &["status", "conditions"])
        .iter()
        .find(|c| str_at(c, &["type"]) == type_)
        .is_some_and(|c| str_at(c, &["status"]) == "True")
}

/// The Status column of 1.36: the terminal conditions first, then
/// Terminating, Suspended, the interim SuccessCriteriaMet / FailureTarget
/// (which validation keeps apart), else Running.
fn job_status(obj: &Value) -> &'static str {
    if job_condition(obj, "Complete") {
        "Complete"
    } else if job_condition(obj, "Failed") {
        "Failed"
    } else if get(obj, &["metadata", "deletionTimestamp"]).is_some() {
        "Terminating"
    } else if job_condition(obj, "Suspended") {
        "Suspended"
    } else if job_condition(obj, "SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else if job_condition(obj, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    }
}

pub(super) fn job(obj: &Value, now: Timestamp) -> Row {
    let succeeded = int_at(obj, &["status", "succeeded"]);
    let completions = match opt_int_at(obj, &["spec", "completions"]) {
        Some(completions) => format!("{succeeded}/{completions}"),
        None => match opt_int_at(obj, &["spec", "parallelism"]).unwrap_or(0) {
            p if p > 1 => format!("{succeeded}/1 of {p}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let duration = match (time_at(obj, &["status", "startTime"]), time_at(obj, &["status", "completionTime"])) {
        (None, _) => String::new(),
        (Some(start), None) => human_duration(now.duration_since(start)),
        (Some(start), Some(end)) => human_duration(end.duration_since(start)),
    };
    let (names, images) = containers(get(obj, &["spec", "template", "spec"]));
    Row::new(vec![
        name(obj),
        Value::from(job_status(obj)),
        Value::from(completions),
        Value::from(duration),
        age(obj, now),
        names,
        images,
        Value::from(format_label_selector(get(obj, &["spec", "selector"]))),
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
        json!({"metadata": {"labels": {"app": "web"}},
               "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}, {"name": "sidecar", "image": "envoy:1"}]}})
    }

    #[test]
    fn deployment_cells() {
        let d = json!({
            "metadata": {"name": "web", "creationTimestamp": "2025-06-01T09:00:00Z"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": template()},
            "status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}
        });
        assert_eq!(
            deployment(&d, now()).cells,
            vec![
                json!("web"),
                json!("2/3"),
                json!(3),
                json!(2),
                json!("3h"),
                json!("nginx,sidecar"),
                json!("nginx:1.27,envoy:1"),
                json!("app=web")
            ]
        );
        let fresh = json!({"metadata": {"name": "new"}, "spec": {"selector": {}}});
        assert_eq!(
            deployment(&fresh, now()).cells,
            vec![json!("new"), json!("0/1"), json!(0), json!(0), json!("<unknown>"), json!(""), json!(""), json!("")]
        );
        let bad = json!({"spec": {"selector": {"matchExpressions": [{"key": "a", "operator": "In", "values": []}]}}});
        assert_eq!(deployment(&bad, now()).cells[7], json!("<invalid>"));
        let zero = json!({"spec": {"replicas": 0}});
        assert_eq!(deployment(&zero, now()).cells[1], json!("0/0"));
    }

    #[test]
    fn replica_set_cells() {
        let rs = json!({
            "metadata": {"name": "web-7d9c", "creationTimestamp": "2025-06-01T11:59:30Z"},
            "spec": {"replicas": 3, "template": template(),
                     "selector": {"matchLabels": {"app": "web", "pod-template-hash": "7d9c"}}},
            "status": {"replicas": 3, "readyReplicas": 1}
        });
        assert_eq!(
            replica_set(&rs, now()).cells,
            vec![
                json!("web-7d9c"),
                json!(3),
                json!(3),
                json!(1),
                json!("30s"),
                json!("nginx,sidecar"),
                json!("nginx:1.27,envoy:1"),
                json!("app=web,pod-template-hash=7d9c")
            ]
        );
        let empty = json!({});
        assert_eq!(
            replica_set(&empty, now()).cells,
            vec![json!(""), json!(1), json!(0), json!(0), json!("<unknown>"), json!(""), json!(""), json!("<none>")]
        );
    }

    #[test]
    fn job_cells() {
        let j = json!({
            "metadata": {"name": "pi", "creationTimestamp": "2025-06-01T11:00:00Z"},
            "spec": {"completions": 1, "parallelism": 1, "template": template(),
                     "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "abc"}}},
            "status": {"succeeded": 1, "startTime": "2025-06-01T11:00:02Z", "completionTime": "2025-06-01T11:00:47Z",
                       "conditions": [{"type": "SuccessCriteriaMet", "status": "True"}, {"type": "Complete", "status": "True"}]}
        });
        assert_eq!(
            job(&j, now()).cells,
            vec![
                json!("pi"),
                json!("Complete"),
                json!("1/1"),
                json!("45s"),
                json!("60m"),
                json!("nginx,sidecar"),
                json!("nginx:1.27,envoy:1"),
                json!("batch.kubernetes.io/controller-uid=abc")
            ]
        );
    }

    #[test]
    fn job_running_duration_and_completions() {
        let j = json!({"metadata": {"name": "work"}, "spec": {"parallelism": 3},
                       "status": {"succeeded": 2, "startTime": "2025-06-01T11:57:30Z"}});
        let c = job(&j, now()).cells;
        assert_eq!(c[1..4], [json!("Running"), json!("2/1 of 3"), json!("2m30s")]);
        let not_started = json!({"spec": {"completions": 5}});
        let c = job(&not_started, now()).cells;
        assert_eq!(c[1..4], [json!("Running"), json!("0/5"), json!("")]);
        assert_eq!(c[7], json!("<none>"));
        let single = json!({"spec": {"parallelism": 1}});
        assert_eq!(job(&single, now()).cells[2], json!("0/1"));
    }

    #[test]
    fn job_status_precedence() {
        let with = |conditions: Value, deleting: bool| {
            let mut j = json!({"metadata": {"name": "j"}, "status": {"conditions": conditions}});
            if deleting {
                j["metadata"]["deletionTimestamp"] = json!("2025-06-01T11:59:00Z");
            }
            job_status(&j)
        };
        let t = |type_: &str| json!({"type": type_, "status": "True"});
        assert_eq!(with(json!([t("Failed"), t("FailureTarget")]), true), "Failed");
        assert_eq!(with(json!([t("Complete")]), true), "Complete");
        assert_eq!(with(json!([t("Suspended")]), true), "Terminating");
        assert_eq!(with(json!([t("Suspended")]), false), "Suspended");
        assert_eq!(with(json!([t("FailureTarget")]), false), "FailureTarget");
        assert_eq!(with(json!([t("SuccessCriteriaMet")]), false), "SuccessCriteriaMet");
        assert_eq!(with(json!([{"type": "Suspended", "status": "False"}]), false), "Running");
        // The first condition of a type decides.
        assert_eq!(with(json!([{"type": "Complete", "status": "False"}, t("Complete")]), false), "Running");
        assert_eq!(with(json!(null), false), "Running");
    }
}
