//! Printers of networking.k8s.io/v1: NetworkPolicy, Ingress and
//! IngressClass, as `printNetworkPolicy`, `printIngress` and
//! `printIngressClass` render them for the API server (always wide).

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde_json::Value;

use super::{AGE, Column, NAME, Row, age, col, format_label_selector, name};
use crate::table::json::{get, list_at, str_at};

const NETWORK_POLICY_POD_SELECTOR: &str = "Selects the pods to which this NetworkPolicy object applies.  The array of ingress rules is applied to any pods selected by this field. Multiple network policies can select the same set of pods.  In this case, the ingress rules for each are combined additively. This field is NOT optional and follows standard label selector semantics. An empty podSelector matches all pods in this namespace.";
const INGRESS_CLASS: &str = "The name of the IngressClass resource that should be used for additional configuration";
const INGRESS_HOSTS: &str = "Hosts that incoming requests are matched against before the ingress rule";
const INGRESS_ADDRESS: &str = "Address is a list containing ingress points for the load-balancer";
const INGRESS_PORTS: &str = "Ports of TLS configurations that open";
const INGRESS_CLASS_CONTROLLER: &str = "Controller that is responsible for handling this class";
const INGRESS_CLASS_PARAMETERS: &str = "A reference to a resource with additional parameters";

pub(super) const NETWORK_POLICY_COLUMNS: &[Column] =
    &[NAME, col("Pod-Selector", "string", NETWORK_POLICY_POD_SELECTOR), AGE];

/// Name, the pod selector (`<none>` when empty), Age.
pub(super) fn network_policy(obj: &Value, now: Timestamp) -> Row {
    // `spec.podSelector` is a struct, never nil: an absent one prints as empty.
    let selector = get(obj, &["spec", "podSelector"]).cloned().unwrap_or_else(|| Value::Object(Default::default()));
    Row::new(vec![name(obj), Value::from(format_label_selector(Some(&selector))), age(obj, now)])
}

pub(super) const INGRESS_COLUMNS: &[Column] = &[
    NAME,
    col("Class", "string", INGRESS_CLASS),
    col("Hosts", "string", INGRESS_HOSTS),
    col("Address", "string", INGRESS_ADDRESS),
    col("Ports", "string", INGRESS_PORTS),
    AGE,
];

/// `formatHosts`: the first three rule hosts, `+ N more...` counted over all
/// rules, `*` when no rule names a host.
fn format_hosts(rules: &[Value]) -> String {
    const MAX: usize = 3;
    let mut list: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules {
        if list.len() == MAX {
            more = true;
        }
        let host = str_at(rule, &["host"]);
        if !more && !host.is_empty() {
            list.push(host);
        }
    }
    if list.is_empty() {
        return "*".to_owned();
    }
    let joined = list.join(",");
    if more { format!("{joined} + {} more...", rules.len() - MAX) } else { joined }
}

/// `ingressLoadBalancerStatusStringer` (wide): the distinct IPs or host names,
/// sorted, joined by `,`.
fn ingress_address(obj: &Value) -> String {
    let mut set = BTreeSet::new();
    for ingress in list_at(obj, &["status", "loadBalancer", "ingress"]) {
        let ip = str_at(ingress, &["ip"]);
        let hostname = str_at(ingress, &["hostname"]);
        if !ip.is_empty() {
            set.insert(ip);
        } else if !hostname.is_empty() {
            set.insert(hostname);
        }
    }
    set.into_iter().collect::<Vec<_>>().join(",")
}

/// Name, class (`<none>`), hosts, address, `80` or `80, 443` (with TLS), Age.
pub(super) fn ingress(obj: &Value, now: Timestamp) -> Row {
    let class = get(obj, &["spec", "ingressClassName"]).and_then(Value::as_str).unwrap_or("<none>");
    let ports = if list_at(obj, &["spec", "tls"]).is_empty() { "80" } else { "80, 443" };
    Row::new(vec![
        name(obj),
        Value::from(class),
        Value::from(format_hosts(list_at(obj, &["spec", "rules"]))),
        Value::from(ingress_address(obj)),
        Value::from(ports),
        age(obj, now),
    ])
}

pub(super) const INGRESS_CLASS_COLUMNS: &[Column] = &[
    NAME,
    col("Controller", "string", INGRESS_CLASS_CONTROLLER),
    col("Parameters", "string", INGRESS_CLASS_PARAMETERS),
    AGE,
];

/// Name, controller, `Kind[.apiGroup]/name` of the parameters (`<none>`), Age.
pub(super) fn ingress_class(obj: &Value, now: Timestamp) -> Row {
    let parameters = match get(obj, &["spec", "parameters"]) {
        None => "<none>".to_owned(),
        Some(p) => {
            let mut out = str_at(p, &["kind"]).to_owned();
            if let Some(group) = get(p, &["apiGroup"]).and_then(Value::as_str) {
                out.push('.');
                out.push_str(group);
            }
            format!("{out}/{}", str_at(p, &["name"]))
        }
    };
    Row::new(vec![name(obj), Value::from(str_at(obj, &["spec", "controller"])), Value::from(parameters), age(obj, now)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2025-06-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn network_policy_cells() {
        let np = json!({"metadata": {"name": "deny", "creationTimestamp": "2025-06-01T11:00:00Z"},
                        "spec": {"podSelector": {"matchLabels": {"app": "web"}}}});
        assert_eq!(network_policy(&np, now()).cells, vec![json!("deny"), json!("app=web"), json!("60m")]);
        let all = json!({"metadata": {"name": "all"}, "spec": {"podSelector": {}}});
        assert_eq!(network_policy(&all, now()).cells[1], json!("<none>"));
    }

    #[test]
    fn ingress_cells() {
        let ing = json!({
            "metadata": {"name": "web", "creationTimestamp": "2025-06-01T11:59:00Z"},
            "spec": {"ingressClassName": "nginx",
                     "rules": [{"host": "a.example.com"}, {}, {"host": "b.example.com"}, {"host": "c.example.com"},
                               {"host": "d.example.com"}],
                     "tls": [{"hosts": ["a.example.com"]}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.2"}, {"hostname": "lb.example.com"}, {"ip": "10.0.0.1"}]}}
        });
        assert_eq!(
            ingress(&ing, now()).cells,
            vec![
                json!("web"),
                json!("nginx"),
                json!("a.example.com,b.example.com,c.example.com + 2 more..."),
                json!("10.0.0.1,10.0.0.2,lb.example.com"),
                json!("80, 443"),
                json!("60s")
            ]
        );
        let bare = json!({"metadata": {"name": "x"}, "spec": {"defaultBackend": {}}});
        assert_eq!(ingress(&bare, now()).cells[1..5], [json!("<none>"), json!("*"), json!(""), json!("80")]);
    }

    #[test]
    fn ingress_class_cells() {
        let ic = json!({"metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx",
            "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "external-lb"}}});
        assert_eq!(
            ingress_class(&ic, now()).cells[1..3],
            [json!("k8s.io/ingress-nginx"), json!("IngressParameters.k8s.example.com/external-lb")]
        );
        let plain = json!({"metadata": {"name": "n"}, "spec": {"controller": "c/d"}});
        assert_eq!(ingress_class(&plain, now()).cells[2], json!("<none>"));
    }
}
