//! The Pod printer: Ready `n/m`, the aggregate Status (`Running`,
//! `Init:1/2`, `CrashLoopBackOff`, `Completed`, `Terminating`, ...), restarts
//! with the time of the last one, and the `Completed` row condition of
//! finished pods, following upstream's `printPod` step by step.

use std::collections::HashMap;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{AGE, Column, NAME, Row, age, col, name, wide};
use crate::table::docs;
use crate::table::duration::since;
use crate::table::json::{bool_at, get, has, int_at, list_at, str_at, time_at};

pub(super) const POD_COLUMNS: &[Column] = &[
    NAME,
    col("Ready", "string", docs::POD_READY),
    col("Status", "string", docs::POD_STATUS),
    col("Restarts", "string", docs::POD_RESTARTS),
    AGE,
    wide("IP", "string", docs::POD_IP),
    wide("Node", "string", docs::POD_NODE_NAME),
    wide("Nominated Node", "string", docs::POD_NOMINATED_NODE_NAME),
    wide("Readiness Gates", "string", docs::POD_READINESS_GATES),
];

/// The later of two restart times (`None` is Go's zero time).
fn later(current: Option<Timestamp>, candidate: Option<Timestamp>) -> Option<Timestamp> {
    match (current, candidate) {
        (Some(c), Some(t)) if t > c => Some(t),
        (None, Some(t)) => Some(t),
        _ => current,
    }
}

/// When a container last terminated (`lastState.terminated.finishedAt`).
fn last_termination(status: &Value) -> Option<Timestamp> {
    time_at(status, &["lastState", "terminated", "finishedAt"])
}

/// Whether the pod has a condition of `type_` with status `True`.
fn condition_true(pod: &Value, type_: &str) -> bool {
    list_at(pod, &["status", "conditions"])
        .iter()
        .any(|c| str_at(c, &["type"]) == type_ && str_at(c, &["status"]) == "True")
}

pub(super) fn pod(pod: &Value, now: Timestamp) -> Row {
    let spec = get(pod, &["spec"]).unwrap_or(&Value::Null);
    let status = get(pod, &["status"]).unwrap_or(&Value::Null);
    let init_containers = list_at(spec, &["initContainers"]);
    // Sidecars: init containers with `restartPolicy: Always`.
    let restartable: HashMap<&str, bool> =
        init_containers.iter().map(|c| (str_at(c, &["name"]), str_at(c, &["restartPolicy"]) == "Always")).collect();

    let mut restarts = 0;
    let mut sidecar_restarts = 0;
    // Every sidecar of the spec counts as a container (a repeated name too).
    let total = list_at(spec, &["containers"]).len()
        + init_containers.iter().filter(|c| str_at(c, &["restartPolicy"]) == "Always").count();
    let mut ready = 0;
    let mut last_restart: Option<Timestamp> = None;
    let mut last_sidecar_restart: Option<Timestamp> = None;

    let phase = str_at(status, &["phase"]);
    let mut reason = match str_at(status, &["reason"]) {
        "" => phase.to_owned(),
        r => r.to_owned(),
    };
    if list_at(status, &["conditions"])
        .iter()
        .any(|c| str_at(c, &["type"]) == "PodScheduled" && str_at(c, &["reason"]) == "SchedulingGated")
    {
        reason = "SchedulingGated".to_owned();
    }

    let conditions = match phase {
        "Succeeded" => Some(json!([{"type": "Completed", "status": "True", "reason": "Succeeded",
                                    "message": "The pod has completed successfully."}])),
        "Failed" => Some(json!([{"type": "Completed", "status": "True", "reason": "Failed",
                                 "message": "The pod failed."}])),
        _ => None,
    };

    let mut initializing = false;
    for (i, cs) in list_at(status, &["initContainerStatuses"]).iter().enumerate() {
        let count = int_at(cs, &["restartCount"]);
        restarts += count;
        last_restart = later(last_restart, last_termination(cs));
        let sidecar = restartable.get(str_at(cs, &["name"])).copied().unwrap_or(false);
        if sidecar {
            sidecar_restarts += count;
            last_sidecar_restart = later(last_sidecar_restart, last_termination(cs));
        }
        let terminated = get(cs, &["state", "terminated"]);
        let waiting_reason = str_at(cs, &["state", "waiting", "reason"]);
        match terminated {
            Some(t) if int_at(t, &["exitCode"]) == 0 => continue,
            _ if sidecar && bool_at(cs, &["started"]) => {
                if bool_at(cs, &["ready"]) {
                    ready += 1;
                }
                continue;
            }
            Some(t) => {
                reason = match str_at(t, &["reason"]) {
                    "" if int_at(t, &["signal"]) != 0 => format!("Init:Signal:{}", int_at(t, &["signal"])),
                    "" => format!("Init:ExitCode:{}", int_at(t, &["exitCode"])),
                    r => format!("Init:{r}"),
                };
            }
            None if has(cs, &["state", "waiting"])
                && !waiting_reason.is_empty()
                && waiting_reason != "PodInitializing" =>
            {
                reason = format!("Init:{waiting_reason}");
            }
            None => reason = format!("Init:{i}/{}", init_containers.len()),
        }
        initializing = true;
        break;
    }

    if !initializing || condition_true(pod, "Initialized") {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        for cs in list_at(status, &["containerStatuses"]).iter().rev() {
            restarts += int_at(cs, &["restartCount"]);
            last_restart = later(last_restart, last_termination(cs));
            let waiting = str_at(cs, &["state", "waiting", "reason"]);
            let terminated = get(cs, &["state", "terminated"]);
            if has(cs, &["state", "waiting"]) && !waiting.is_empty() {
                reason = waiting.to_owned();
            } else if let Some(t) = terminated {
                reason = match str_at(t, &["reason"]) {
                    "" if int_at(t, &["signal"]) != 0 => format!("Signal:{}", int_at(t, &["signal"])),
                    "" => format!("ExitCode:{}", int_at(t, &["exitCode"])),
                    r => r.to_owned(),
                };
            } else if bool_at(cs, &["ready"]) && has(cs, &["state", "running"]) {
                has_running = true;
                ready += 1;
            }
        }
        // Back to Running while a container still runs.
        if reason == "Completed" && has_running {
            reason = if condition_true(pod, "Ready") { "Running" } else { "NotReady" }.to_owned();
        }
    }

    if has(pod, &["metadata", "deletionTimestamp"]) {
        if str_at(status, &["reason"]) == "NodeLost" {
            reason = "Unknown".to_owned();
        } else if phase != "Failed" && phase != "Succeeded" {
            reason = "Terminating".to_owned();
        }
    }

    let restarts_cell = match last_restart {
        Some(at) if restarts != 0 => format!("{restarts} ({} ago)", since(Some(at), now)),
        _ => restarts.to_string(),
    };

    let none_if_empty = |s: &str| if s.is_empty() { "<none>".to_owned() } else { s.to_owned() };
    let pod_ip = list_at(status, &["podIPs"]).first().map_or("", |ip| str_at(ip, &["ip"]));
    let gates = list_at(spec, &["readinessGates"]);
    let readiness_gates = if gates.is_empty() {
        "<none>".to_owned()
    } else {
        let conditions = list_at(status, &["conditions"]);
        let true_gates = gates
            .iter()
            .filter(|gate| {
                let type_ = str_at(gate, &["conditionType"]);
                conditions
                    .iter()
                    .find(|c| str_at(c, &["type"]) == type_)
                    .is_some_and(|c| str_at(c, &["status"]) == "True")
            })
            .count();
        format!("{true_gates}/{}", gates.len())
    };

    Row {
        cells: vec![
            name(pod),
            Value::from(format!("{ready}/{total}")),
            Value::from(reason),
            Value::from(restarts_cell),
            age(pod, now),
            Value::from(none_if_empty(pod_ip)),
            Value::from(none_if_empty(str_at(spec, &["nodeName"]))),
            Value::from(none_if_empty(str_at(status, &["nominatedNodeName"]))),
            Value::from(readiness_gates),
        ],
        conditions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2025-06-01T12:00:00Z".parse().unwrap()
    }

    fn running(name: &str, ready: bool, restarts: i64) -> Value {
        json!({"name": name, "ready": ready, "restartCount": restarts, "started": true,
               "state": {"running": {"startedAt": "2025-06-01T11:00:00Z"}}})
    }

    /// Ready, Status, Restarts.
    fn summary(p: &Value) -> (String, String, String) {
        let row = pod(p, now());
        let s = |i: usize| row.cells[i].as_str().unwrap_or_default().to_owned();
        (s(1), s(2), s(3))
    }

    fn strs(a: &str, b: &str, c: &str) -> (String, String, String) {
        (a.to_owned(), b.to_owned(), c.to_owned())
    }

    #[test]
    fn running_pod_all_columns() {
        let p = json!({
            "metadata": {"name": "web-7d9c-abcde", "namespace": "demo", "creationTimestamp": "2025-06-01T11:55:00Z"},
            "spec": {"nodeName": "node-1", "containers": [{"name": "web"}, {"name": "log"}],
                     "readinessGates": [{"conditionType": "example.com/lb"}, {"conditionType": "example.com/dns"}]},
            "status": {"phase": "Running", "podIP": "10.244.0.5", "podIPs": [{"ip": "10.244.0.5"}, {"ip": "fd00::5"}],
                       "conditions": [{"type": "Ready", "status": "True"}, {"type": "example.com/lb", "status": "True"},
                                      {"type": "example.com/dns", "status": "False"}],
                       "containerStatuses": [running("web", true, 0), running("log", true, 0)]}
        });
        let row = pod(&p, now());
        assert_eq!(
            row.cells,
            vec![
                json!("web-7d9c-abcde"),
                json!("2/2"),
                json!("Running"),
                json!("0"),
                json!("5m"),
                json!("10.244.0.5"),
                json!("node-1"),
                json!("<none>"),
                json!("1/2")
            ]
        );
        assert_eq!(row.conditions, None);
    }

    #[test]
    fn pending_pod_defaults() {
        let p = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]},
                       "status": {"phase": "Pending"}});
        let row = pod(&p, now());
        assert_eq!(
            row.cells,
            vec![
                json!("p"),
                json!("0/1"),
                json!("Pending"),
                json!("0"),
                json!("<unknown>"),
                json!("<none>"),
                json!("<none>"),
                json!("<none>"),
                json!("<none>")
            ]
        );
    }

    #[test]
    fn waiting_and_restarts_with_last_restart_time() {
        let p = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]},
                       "status": {"phase": "Running", "containerStatuses": [{
                           "name": "c", "ready": false, "restartCount": 4,
                           "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                           "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2025-06-01T11:57:00Z"}}}]}});
        assert_eq!(summary(&p), strs("0/1", "CrashLoopBackOff", "4 (3m ago)"));
    }

    #[test]
    fn restarts_without_termination_time() {
        let p = json!({"spec": {"containers": [{"name": "c"}]},
                       "status": {"phase": "Running", "containerStatuses": [running("c", true, 2)]}});
        assert_eq!(summary(&p), strs("1/1", "Running", "2"));
    }

    #[test]
    fn terminated_containers() {
        let completed = json!({"spec": {"containers": [{"name": "c"}]},
                               "status": {"phase": "Succeeded", "containerStatuses": [{"name": "c", "ready": false,
                                   "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}});
        assert_eq!(summary(&completed), strs("0/1", "Completed", "0"));
        assert_eq!(
            pod(&completed, now()).conditions,
            Some(json!([{"type": "Completed", "status": "True", "reason": "Succeeded",
                         "message": "The pod has completed successfully."}]))
        );
        let failed = json!({"spec": {"containers": [{"name": "c"}]},
                            "status": {"phase": "Failed", "containerStatuses": [{"name": "c",
                                "state": {"terminated": {"exitCode": 137, "signal": 9}}}]}});
        assert_eq!(summary(&failed), strs("0/1", "Signal:9", "0"));
        assert_eq!(pod(&failed, now()).conditions.unwrap()[0]["message"], "The pod failed.");
        let exit = json!({"spec": {"containers": [{"name": "c"}]},
                          "status": {"phase": "Failed", "containerStatuses": [{"name": "c",
                              "state": {"terminated": {"exitCode": 2}}}]}});
        assert_eq!(summary(&exit), strs("0/1", "ExitCode:2", "0"));
    }

    #[test]
    fn completed_container_with_one_still_running() {
        // The first container's state is the last written; Completed turns back
        // into Running (Ready condition) or NotReady.
        let mut p = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]},
                           "status": {"phase": "Running", "containerStatuses": [
                               {"name": "a", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                               running("b", true, 0)]}});
        assert_eq!(summary(&p), strs("1/2", "NotReady", "0"));
        p["status"]["conditions"] = json!([{"type": "Ready", "status": "True"}]);
        assert_eq!(summary(&p), strs("1/2", "Running", "0"));
    }

    #[test]
    fn init_containers() {
        let base = |statuses: Value| {
            json!({"spec": {"initContainers": [{"name": "i1"}, {"name": "i2"}], "containers": [{"name": "c"}]},
                   "status": {"phase": "Pending", "initContainerStatuses": statuses,
                              "containerStatuses": [{"name": "c", "state": {"waiting": {"reason": "PodInitializing"}}}]}})
        };
        let done = json!({"name": "i1", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}});
        let running_init = json!({"name": "i2", "state": {"running": {}}, "restartCount": 1});
        assert_eq!(summary(&base(json!([done, running_init]))), strs("0/1", "Init:1/2", "1"));
        let waiting = json!({"name": "i1", "state": {"waiting": {"reason": "ImagePullBackOff"}}});
        assert_eq!(summary(&base(json!([waiting]))), strs("0/1", "Init:ImagePullBackOff", "0"));
        let pod_init = json!({"name": "i1", "state": {"waiting": {"reason": "PodInitializing"}}});
        assert_eq!(summary(&base(json!([pod_init]))), strs("0/1", "Init:0/2", "0"));
        let crashed = json!({"name": "i1", "restartCount": 3, "state": {"terminated": {"exitCode": 1, "reason": "Error"}},
                             "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2025-06-01T11:59:00Z"}}});
        assert_eq!(summary(&base(json!([crashed]))), strs("0/1", "Init:Error", "3 (60s ago)"));
        let signal = json!({"name": "i1", "state": {"terminated": {"exitCode": 1, "signal": 15}}});
        assert_eq!(summary(&base(json!([signal]))), strs("0/1", "Init:Signal:15", "0"));
        let code = json!({"name": "i1", "state": {"terminated": {"exitCode": 3}}});
        assert_eq!(summary(&base(json!([code]))), strs("0/1", "Init:ExitCode:3", "0"));
        // All init containers done: the app containers decide.
        let both = json!([{"name": "i1", "state": {"terminated": {"exitCode": 0}}},
                          {"name": "i2", "state": {"terminated": {"exitCode": 0}}}]);
        assert_eq!(summary(&base(both)), strs("0/1", "PodInitializing", "0"));
    }

    #[test]
    fn sidecar_containers_count_and_restart() {
        let p = json!({
            "spec": {"initContainers": [{"name": "proxy", "restartPolicy": "Always"}, {"name": "setup"}],
                     "containers": [{"name": "app"}]},
            "status": {"phase": "Running",
                       "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
                       "initContainerStatuses": [
                           {"name": "proxy", "ready": true, "started": true, "restartCount": 2,
                            "state": {"running": {}},
                            "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2025-06-01T11:50:00Z"}}},
                           {"name": "setup", "restartCount": 5, "state": {"terminated": {"exitCode": 0}},
                            "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2025-06-01T11:59:00Z"}}}],
                       "containerStatuses": [running("app", true, 1)]}
        });
        // Sidecar ready counts; non-sidecar init restarts do not once initialized.
        assert_eq!(summary(&p), strs("2/2", "Running", "3 (10m ago)"));
    }

    #[test]
    fn sidecar_not_started_still_initializing() {
        let p = json!({
            "spec": {"initContainers": [{"name": "proxy", "restartPolicy": "Always"}], "containers": [{"name": "app"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [
                {"name": "proxy", "started": false, "state": {"running": {}}}]}
        });
        assert_eq!(summary(&p), strs("0/2", "Init:0/1", "0"));
    }

    #[test]
    fn terminating_unknown_and_gated() {
        let mut p = json!({"metadata": {"name": "p", "deletionTimestamp": "2025-06-01T11:59:00Z"},
                           "spec": {"containers": [{"name": "c"}]},
                           "status": {"phase": "Running", "containerStatuses": [running("c", true, 0)]}});
        assert_eq!(summary(&p), strs("1/1", "Terminating", "0"));
        p["status"]["reason"] = json!("NodeLost");
        assert_eq!(summary(&p).1, "Unknown");
        p["status"]["reason"] = json!(null);
        p["status"]["phase"] = json!("Succeeded");
        p["status"]["containerStatuses"] =
            json!([{"name": "c", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]);
        assert_eq!(summary(&p).1, "Completed");

        let gated = json!({"spec": {"containers": [{"name": "c"}], "schedulingGates": [{"name": "g"}]},
                           "status": {"phase": "Pending",
                                      "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}});
        assert_eq!(summary(&gated), strs("0/1", "SchedulingGated", "0"));
        let evicted =
            json!({"spec": {"containers": [{"name": "c"}]}, "status": {"phase": "Failed", "reason": "Evicted"}});
        assert_eq!(summary(&evicted).1, "Evicted");
    }

    #[test]
    fn nominated_node() {
        let p = json!({"spec": {"containers": []}, "status": {"phase": "Pending", "nominatedNodeName": "node-2"}});
        assert_eq!(pod(&p, now()).cells[7], json!("node-2"));
    }
}
