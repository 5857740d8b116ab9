//! Printers of core/v1 kinds (besides Pod): Namespace, Service, Endpoints,
//! ConfigMap, Secret, ServiceAccount, Node, and Event in both of its API
//! versions (core/v1 and events.k8s.io/v1 print the same columns).

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde_json::Value;

use super::{AGE, Column, NAME, Row, age, col, format_labels, name, wide};
use crate::table::docs;
use crate::table::duration::since;
use crate::table::json::{bool_at, get, has, int_at, list_at, map_len, str_at, string_map, time_at};

pub(super) const NAMESPACE_COLUMNS: &[Column] = &[NAME, col("Status", "string", docs::NAMESPACE_STATUS), AGE];

/// Name, phase (`Active` when unset, as decoding defaults it), Age.
pub(super) fn namespace(obj: &Value, now: Timestamp) -> Row {
    let phase = match str_at(obj, &["status", "phase"]) {
        "" => "Active",
        phase => phase,
    };
    Row::new(vec![name(obj), Value::from(phase), age(obj, now)])
}

pub(super) const SERVICE_COLUMNS: &[Column] = &[
    NAME,
    col("Type", "string", docs::SERVICE_TYPE),
    col("Cluster-IP", "string", docs::SERVICE_CLUSTER_IP),
    col("External-IP", "string", docs::SERVICE_EXTERNAL_IPS),
    col("Port(s)", "string", docs::SERVICE_PORTS),
    AGE,
    wide("Selector", "string", docs::SERVICE_SELECTOR),
];

pub(super) fn service(obj: &Value, now: Timestamp) -> Row {
    let spec = get(obj, &["spec"]).unwrap_or(&Value::Null);
    let type_ = match str_at(spec, &["type"]) {
        "" => "ClusterIP",
        t => t,
    };
    // Decoding defaults clusterIPs from clusterIP.
    let cluster_ip = list_at(spec, &["clusterIPs"])
        .first()
        .and_then(Value::as_str)
        .or_else(|| Some(str_at(spec, &["clusterIP"])).filter(|ip| !ip.is_empty()))
        .unwrap_or("<none>");
    let ports: Vec<String> = list_at(spec, &["ports"])
        .iter()
        .map(|p| {
            let protocol = match str_at(p, &["protocol"]) {
                "" => "TCP",
                protocol => protocol,
            };
            let node_port = int_at(p, &["nodePort"]);
            if node_port > 0 {
                format!("{}:{node_port}/{protocol}", int_at(p, &["port"]))
            } else {
                format!("{}/{protocol}", int_at(p, &["port"]))
            }
        })
        .collect();
    let ports = if ports.is_empty() { "<none>".to_owned() } else { ports.join(",") };
    Row::new(vec![
        name(obj),
        Value::from(type_),
        Value::from(cluster_ip),
        Value::from(external_ip(obj, type_)),
        Value::from(ports),
        age(obj, now),
        Value::from(format_labels(obj, &["spec", "selector"])),
    ])
}

/// `getServiceExternalIP` in its wide form (the API server renders wide).
fn external_ip(obj: &Value, type_: &str) -> String {
    let external: Vec<&str> = list_at(obj, &["spec", "externalIPs"]).iter().filter_map(Value::as_str).collect();
    match type_ {
        "ClusterIP" | "NodePort" => {
            if external.is_empty() {
                "<none>".to_owned()
            } else {
                external.join(",")
            }
        }
        "LoadBalancer" => {
            let ingress: BTreeSet<&str> = list_at(obj, &["status", "loadBalancer", "ingress"])
                .iter()
                .filter_map(|i| match (str_at(i, &["ip"]), str_at(i, &["hostname"])) {
                    ("", "") => None,
                    ("", hostname) => Some(hostname),
                    (ip, _) => Some(ip),
                })
                .collect();
            let mut all: Vec<&str> = ingress.into_iter().collect();
            if all.is_empty() && external.is_empty() {
                return "<pending>".to_owned();
            }
            all.extend(external);
            all.join(",")
        }
        "ExternalName" => str_at(obj, &["spec", "externalName"]).to_owned(),
        _ => "<unknown>".to_owned(),
    }
}

pub(super) const ENDPOINTS_COLUMNS: &[Column] = &[NAME, col("Endpoints", "string", docs::ENDPOINTS_SUBSETS), AGE];

pub(super) fn endpoints(obj: &Value, now: Timestamp) -> Row {
    Row::new(vec![name(obj), Value::from(format_endpoints(obj)), age(obj, now)])
}

/// `formatEndpoints` for all ports: the first three `ip:port` (or bare IPs for
/// port-less subsets) and `+ N more...`; `<none>` without subsets.
fn format_endpoints(obj: &Value) -> String {
    const MAX: usize = 3;
    let subsets = list_at(obj, &["subsets"]);
    if subsets.is_empty() {
        return "<none>".to_owned();
    }
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0;
    for subset in subsets {
        let addresses = list_at(subset, &["addresses"]);
        let ports = list_at(subset, &["ports"]);
        if ports.is_empty() {
            count += addresses.len();
            for address in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(str_at(address, &["ip"]).to_owned());
            }
            continue;
        }
        for port in ports {
            count += addresses.len();
            for address in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(join_host_port(str_at(address, &["ip"]), int_at(port, &["port"])));
            }
        }
    }
    let joined = list.join(",");
    if more { format!("{joined} + {} more...", count.saturating_sub(MAX)) } else { joined }
}

/// `net.JoinHostPort`: IPv6 hosts in brackets.
fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}

pub(super) const CONFIG_MAP_COLUMNS: &[Column] = &[NAME, col("Data", "string", docs::CONFIG_MAP_DATA), AGE];

/// Name, number of `data` plus `binaryData` keys, Age.
pub(super) fn config_map(obj: &Value, now: Timestamp) -> Row {
    let count = map_len(obj, &["data"]) + map_len(obj, &["binaryData"]);
    Row::new(vec![name(obj), Value::from(count), age(obj, now)])
}

pub(super) const SECRET_COLUMNS: &[Column] =
    &[NAME, col("Type", "string", docs::SECRET_TYPE), col("Data", "string", docs::SECRET_DATA), AGE];

/// Name, type (`Opaque` when unset, as decoding defaults it), number of keys, Age.
pub(super) fn secret(obj: &Value, now: Timestamp) -> Row {
    let type_ = match str_at(obj, &["type"]) {
        "" => "Opaque",
        t => t,
    };
    Row::new(vec![name(obj), Value::from(type_), Value::from(map_len(obj, &["data"])), age(obj, now)])
}

pub(super) const SERVICE_ACCOUNT_COLUMNS: &[Column] =
    &[NAME, col("Secrets", "string", docs::SERVICE_ACCOUNT_SECRETS), AGE];

pub(super) fn service_account(obj: &Value, now: Timestamp) -> Row {
    Row::new(vec![name(obj), Value::from(list_at(obj, &["secrets"]).len()), age(obj, now)])
}

pub(super) const NODE_COLUMNS: &[Column] = &[
    NAME,
    col("Status", "string", docs::NODE_STATUS),
    col("Roles", "string", docs::NODE_ROLES),
    AGE,
    col("Version", "string", docs::NODE_KUBELET_VERSION),
    wide("Internal-IP", "string", docs::NODE_ADDRESSES),
    wide("External-IP", "string", docs::NODE_ADDRESSES),
    wide("OS-Image", "string", docs::NODE_OS_IMAGE),
    wide("Kernel-Version", "string", docs::NODE_KERNEL_VERSION),
    wide("Container-Runtime", "string", docs::NODE_CONTAINER_RUNTIME_VERSION),
];

pub(super) fn node(obj: &Value, now: Timestamp) -> Row {
    // The last Ready condition wins (upstream keys them by type in a map).
    let ready = list_at(obj, &["status", "conditions"]).iter().rfind(|c| str_at(c, &["type"]) == "Ready");
    let mut status = vec![match ready {
        Some(c) if str_at(c, &["status"]) == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if bool_at(obj, &["spec", "unschedulable"]) {
        status.push("SchedulingDisabled");
    }
    let roles = node_roles(obj);
    let info = |field: &str| match str_at(obj, &["status", "nodeInfo", field]) {
        "" => "<unknown>".to_owned(),
        value => value.to_owned(),
    };
    Row::new(vec![
        name(obj),
        Value::from(status.join(",")),
        Value::from(if roles.is_empty() { "<none>".to_owned() } else { roles.join(",") }),
        age(obj, now),
        Value::from(str_at(obj, &["status", "nodeInfo", "kubeletVersion"])),
        Value::from(node_address(obj, "InternalIP")),
        Value::from(node_address(obj, "ExternalIP")),
        Value::from(info("osImage")),
        Value::from(info("kernelVersion")),
        Value::from(info("containerRuntimeVersion")),
    ])
}

/// `findNodeRoles`: `node-role.kubernetes.io/<role>` keys and the value of
/// `kubernetes.io/role`, sorted and unique.
fn node_roles(obj: &Value) -> Vec<&str> {
    const PREFIX: &str = "node-role.kubernetes.io/";
    let mut roles = BTreeSet::new();
    for (key, value) in string_map(obj, &["metadata", "labels"]) {
        if let Some(role) = key.strip_prefix(PREFIX) {
            if !role.is_empty() {
                roles.insert(role);
            }
        } else if key == "kubernetes.io/role" && !value.is_empty() {
            roles.insert(value);
        }
    }
    roles.into_iter().collect()
}

/// The first address of type `kind`, `<none>` without one.
fn node_address<'a>(obj: &'a Value, kind: &str) -> &'a str {
    list_at(obj, &["status", "addresses"])
        .iter()
        .find(|a| str_at(a, &["type"]) == kind)
        .map_or("<none>", |a| str_at(a, &["address"]))
}

pub(super) const EVENT_COLUMNS: &[Column] = &[
    col("Last Seen", "string", docs::EVENT_LAST_TIMESTAMP),
    col("Type", "string", docs::EVENT_TYPE),
    col("Reason", "string", docs::EVENT_REASON),
    col("Object", "string", docs::EVENT_INVOLVED_OBJECT),
    wide("Subobject", "string", docs::OBJECT_REFERENCE_FIELD_PATH),
    wide("Source", "string", docs::EVENT_SOURCE),
    col("Message", "string", docs::EVENT_MESSAGE),
    wide("First Seen", "string", docs::EVENT_FIRST_TIMESTAMP),
    wide("Count", "string", docs::EVENT_COUNT),
    Column { priority: 1, ..NAME },
];

/// Where an Event's fields live in one API version.
struct EventFields {
    involved_object: &'static str,
    message: &'static str,
    source: &'static str,
    first_timestamp: &'static str,
    last_timestamp: &'static str,
    count: &'static str,
    reporting_controller: &'static str,
}

const CORE_EVENT: EventFields = EventFields {
    involved_object: "involvedObject",
    message: "message",
    source: "source",
    first_timestamp: "firstTimestamp",
    last_timestamp: "lastTimestamp",
    count: "count",
    reporting_controller: "reportingComponent",
};

const EVENTS_K8S_IO_EVENT: EventFields = EventFields {
    involved_object: "regarding",
    message: "note",
    source: "deprecatedSource",
    first_timestamp: "deprecatedFirstTimestamp",
    last_timestamp: "deprecatedLastTimestamp",
    count: "deprecatedCount",
    reporting_controller: "reportingController",
};

/// A core/v1 Event.
pub(super) fn event(obj: &Value, now: Timestamp) -> Row {
    event_row(obj, now, &CORE_EVENT)
}

/// An events.k8s.io/v1 Event (printed as its core/v1 form).
pub(super) fn events_k8s_io_event(obj: &Value, now: Timestamp) -> Row {
    event_row(obj, now, &EVENTS_K8S_IO_EVENT)
}

fn event_row(obj: &Value, now: Timestamp, f: &EventFields) -> Row {
    let first_seen = match time_at(obj, &[f.first_timestamp]) {
        Some(first) => since(Some(first), now),
        None => since(time_at(obj, &["eventTime"]), now),
    };
    let mut last_seen = match time_at(obj, &[f.last_timestamp]) {
        Some(last) => since(Some(last), now),
        None => first_seen.clone(),
    };
    let mut count = int_at(obj, &[f.count]);
    if has(obj, &["series"]) {
        last_seen = since(time_at(obj, &["series", "lastObservedTime"]), now);
        count = int_at(obj, &["series", "count"]);
    } else if count == 0 {
        // Singleton events of the new API carry no count.
        count = 1;
    }
    let kind = str_at(obj, &[f.involved_object, "kind"]).to_lowercase();
    let target = match str_at(obj, &[f.involved_object, "name"]) {
        "" => kind,
        object => format!("{kind}/{object}"),
    };
    let component = first_non_empty(str_at(obj, &[f.source, "component"]), str_at(obj, &[f.reporting_controller]));
    let instance = first_non_empty(str_at(obj, &[f.source, "host"]), str_at(obj, &["reportingInstance"]));
    let source = if instance.is_empty() { component.to_owned() } else { format!("{component}, {instance}") };
    Row::new(vec![
        Value::from(last_seen),
        Value::from(str_at(obj, &["type"])),
        Value::from(str_at(obj, &["reason"])),
        Value::from(target),
        Value::from(str_at(obj, &[f.involved_object, "fieldPath"])),
        Value::from(source),
        Value::from(str_at(obj, &[f.message]).trim()),
        Value::from(first_seen),
        Value::from(count),
        name(obj),
    ])
}

fn first_non_empty<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.is_empty() { b } else { a }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2025-06-01T12:00:00Z".parse().unwrap()
    }

    fn cells(row: Row) -> Vec<Value> {
        row.cells
    }

    #[test]
    fn namespace_cells() {
        let ns = json!({"metadata": {"name": "demo", "creationTimestamp": "2025-06-01T11:00:00Z"},
                        "status": {"phase": "Terminating"}});
        assert_eq!(cells(namespace(&ns, now())), vec![json!("demo"), json!("Terminating"), json!("60m")]);
        let fresh = json!({"metadata": {"name": "new"}});
        assert_eq!(cells(namespace(&fresh, now())), vec![json!("new"), json!("Active"), json!("<unknown>")]);
    }

    #[test]
    fn cluster_ip_service() {
        let svc = json!({
            "metadata": {"name": "web", "creationTimestamp": "2025-06-01T11:58:00Z"},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.12", "clusterIPs": ["10.96.0.12"],
                     "ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080},
                               {"port": 53, "protocol": "UDP"}],
                     "selector": {"app": "web", "tier": "fe"}}
        });
        assert_eq!(
            cells(service(&svc, now())),
            vec![
                json!("web"),
                json!("ClusterIP"),
                json!("10.96.0.12"),
                json!("<none>"),
                json!("80/TCP,53/UDP"),
                json!("2m"),
                json!("app=web,tier=fe")
            ]
        );
    }

    #[test]
    fn node_port_and_headless_and_external_name_services() {
        let np = json!({"metadata": {"name": "np"},
                        "spec": {"type": "NodePort", "clusterIPs": ["10.0.0.1"], "externalIPs": ["1.2.3.4", "5.6.7.8"],
                                 "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}]}});
        let c = cells(service(&np, now()));
        assert_eq!(c[1..5], [json!("NodePort"), json!("10.0.0.1"), json!("1.2.3.4,5.6.7.8"), json!("80:30080/TCP")]);
        assert_eq!(c[6], json!("<none>"));

        let headless = json!({"metadata": {"name": "db"}, "spec": {"clusterIP": "None", "ports": [{"port": 5432}]}});
        let c = cells(service(&headless, now()));
        assert_eq!(c[1..5], [json!("ClusterIP"), json!("None"), json!("<none>"), json!("5432/TCP")]);

        let ext = json!({"metadata": {"name": "ext"}, "spec": {"type": "ExternalName", "externalName": "example.com"}});
        let c = cells(service(&ext, now()));
        assert_eq!(c[1..5], [json!("ExternalName"), json!("<none>"), json!("example.com"), json!("<none>")]);

        let odd = json!({"metadata": {"name": "odd"}, "spec": {"type": "Weird"}});
        assert_eq!(cells(service(&odd, now()))[3], json!("<unknown>"));
    }

    #[test]
    fn load_balancer_service() {
        let pending = json!({"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "clusterIPs": ["10.0.0.2"]}});
        assert_eq!(cells(service(&pending, now()))[3], json!("<pending>"));
        let ready = json!({"metadata": {"name": "lb"},
                           "spec": {"type": "LoadBalancer", "externalIPs": ["9.9.9.9"]},
                           "status": {"loadBalancer": {"ingress": [
                               {"ip": "203.0.113.9"}, {"hostname": "lb.example.com"}, {"ip": "203.0.113.1"},
                               {"ip": "203.0.113.1"}]}}});
        // Ingress addresses sorted and unique, never clipped (wide), then externalIPs.
        assert_eq!(cells(service(&ready, now()))[3], json!("203.0.113.1,203.0.113.9,lb.example.com,9.9.9.9"));
    }

    #[test]
    fn endpoints_cells() {
        let none = json!({"metadata": {"name": "e"}});
        assert_eq!(cells(endpoints(&none, now()))[1], json!("<none>"));
        let two = json!({"metadata": {"name": "web"}, "subsets": [{
            "addresses": [{"ip": "10.244.0.5"}, {"ip": "fd00::5"}],
            "ports": [{"port": 8080, "name": "http"}]}]});
        assert_eq!(cells(endpoints(&two, now()))[1], json!("10.244.0.5:8080,[fd00::5]:8080"));
        let many = json!({"metadata": {"name": "web"}, "subsets": [
            {"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "ports": [{"port": 80}, {"port": 443}]},
            {"addresses": [{"ip": "10.0.0.3"}]}]});
        // 2 addresses x 2 ports + 1 port-less address = 5, three shown.
        assert_eq!(cells(endpoints(&many, now()))[1], json!("10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 2 more..."));
        let empty_subset =
            json!({"metadata": {"name": "web"}, "subsets": [{"notReadyAddresses": [{"ip": "1.1.1.1"}]}]});
        assert_eq!(cells(endpoints(&empty_subset, now()))[1], json!(""));
    }

    #[test]
    fn config_map_secret_service_account_cells() {
        let cm = json!({"metadata": {"name": "cfg", "creationTimestamp": "2025-05-30T12:00:00Z"},
                        "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}});
        assert_eq!(cells(config_map(&cm, now())), vec![json!("cfg"), json!(3), json!("2d")]);
        let s =
            json!({"metadata": {"name": "tls"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}});
        assert_eq!(cells(secret(&s, now()))[..3], [json!("tls"), json!("kubernetes.io/tls"), json!(2)]);
        let opaque = json!({"metadata": {"name": "o"}});
        assert_eq!(cells(secret(&opaque, now()))[..3], [json!("o"), json!("Opaque"), json!(0)]);
        let sa = json!({"metadata": {"name": "default"}, "secrets": [{"name": "t"}]});
        assert_eq!(cells(service_account(&sa, now()))[..2], [json!("default"), json!(1)]);
    }

    #[test]
    fn node_cells() {
        let n = json!({
            "metadata": {"name": "node-1", "creationTimestamp": "2025-05-01T12:00:00Z",
                         "labels": {"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/": "",
                                    "kubernetes.io/role": "gpu", "node-role.kubernetes.io/worker": "true"}},
            "spec": {"unschedulable": true},
            "status": {
                "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
                "addresses": [{"type": "Hostname", "address": "node-1"}, {"type": "InternalIP", "address": "192.168.1.10"}],
                "nodeInfo": {"kubeletVersion": "v1.36.0", "osImage": "Debian GNU/Linux 13 (trixie)",
                             "kernelVersion": "6.12.0", "containerRuntimeVersion": "containerd://2.1.0"}}
        });
        assert_eq!(
            cells(node(&n, now())),
            vec![
                json!("node-1"),
                json!("Ready,SchedulingDisabled"),
                json!("control-plane,gpu,worker"),
                json!("31d"),
                json!("v1.36.0"),
                json!("192.168.1.10"),
                json!("<none>"),
                json!("Debian GNU/Linux 13 (trixie)"),
                json!("6.12.0"),
                json!("containerd://2.1.0")
            ]
        );
        let bare = json!({"metadata": {"name": "n"}});
        assert_eq!(
            cells(node(&bare, now())),
            vec![
                json!("n"),
                json!("Unknown"),
                json!("<none>"),
                json!("<unknown>"),
                json!(""),
                json!("<none>"),
                json!("<none>"),
                json!("<unknown>"),
                json!("<unknown>"),
                json!("<unknown>")
            ]
        );
        let not_ready = json!({"status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}});
        assert_eq!(cells(node(&not_ready, now()))[1], json!("NotReady"));
    }

    #[test]
    fn core_event_cells() {
        let ev = json!({
            "metadata": {"name": "web-7d9c.17f0", "namespace": "demo"},
            "involvedObject": {"kind": "Pod", "name": "web-7d9c", "fieldPath": "spec.containers{web}"},
            "reason": "Pulled", "type": "Normal", "message": "  Successfully pulled image \"nginx\"\n",
            "source": {"component": "kubelet", "host": "node-1"},
            "firstTimestamp": "2025-06-01T11:50:00Z", "lastTimestamp": "2025-06-01T11:59:00Z", "count": 3
        });
        assert_eq!(
            cells(event(&ev, now())),
            vec![
                json!("60s"),
                json!("Normal"),
                json!("Pulled"),
                json!("pod/web-7d9c"),
                json!("spec.containers{web}"),
                json!("kubelet, node-1"),
                json!("Successfully pulled image \"nginx\""),
                json!("10m"),
                json!(3),
                json!("web-7d9c.17f0")
            ]
        );
    }

    #[test]
    fn new_style_core_event_uses_event_time_and_series() {
        let ev = json!({
            "metadata": {"name": "e1"},
            "involvedObject": {"kind": "Node"},
            "reason": "Starting", "type": "Normal", "message": "m",
            "eventTime": "2025-06-01T11:00:00.000000Z",
            "reportingComponent": "kubelet", "reportingInstance": "node-1",
        });
        let c = cells(event(&ev, now()));
        assert_eq!(c[0], json!("60m"));
        assert_eq!(c[3], json!("node"));
        assert_eq!(c[5], json!("kubelet, node-1"));
        assert_eq!(c[7], json!("60m"));
        assert_eq!(c[8], json!(1));

        let series = json!({"metadata": {"name": "e2"}, "involvedObject": {"kind": "Pod", "name": "p"},
                            "eventTime": "2025-06-01T11:00:00.000000Z", "count": 9,
                            "series": {"count": 4, "lastObservedTime": "2025-06-01T11:59:30.500000Z"}});
        let c = cells(event(&series, now()));
        assert_eq!(c[0], json!("29s"));
        assert_eq!(c[8], json!(4));

        let empty = json!({});
        let c = cells(event(&empty, now()));
        assert_eq!(c[0], json!("<unknown>"));
        assert_eq!(c[3], json!(""));
        assert_eq!(c[7], json!("<unknown>"));
    }

    #[test]
    fn events_k8s_io_event_cells() {
        let ev = json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "web.1"},
            "eventTime": "2025-06-01T11:58:00.000000Z",
            "reportingController": "deployment-controller", "reportingInstance": "",
            "action": "Scale", "reason": "ScalingReplicaSet", "type": "Normal",
            "regarding": {"kind": "Deployment", "name": "web"},
            "note": "Scaled up replica set web-7d9c to 3",
            "deprecatedCount": 2, "deprecatedFirstTimestamp": "2025-06-01T11:40:00Z",
            "deprecatedLastTimestamp": "2025-06-01T11:58:00Z",
            "deprecatedSource": {"component": ""}
        });
        assert_eq!(
            cells(events_k8s_io_event(&ev, now())),
            vec![
                json!("2m"),
                json!("Normal"),
                json!("ScalingReplicaSet"),
                json!("deployment/web"),
                json!(""),
                json!("deployment-controller"),
                json!("Scaled up replica set web-7d9c to 3"),
                json!("20m"),
                json!(2),
                json!("web.1")
            ]
        );
    }
}
