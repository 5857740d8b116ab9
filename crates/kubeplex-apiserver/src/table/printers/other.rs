//! Printers of Lease, EndpointSlice and kubeplex's LogicalCluster, and the
//! default `Name` / `Created At` table of kinds without a printer.

use jiff::Timestamp;
use serde_json::Value;

use super::{AGE, Column, NAME, Row, age, col, name};
use crate::table::docs;
use crate::table::json::{get, list_at, opt_int_at, str_at, time_at};

pub(super) const LEASE_COLUMNS: &[Column] = &[NAME, col("Holder", "string", docs::LEASE_HOLDER_IDENTITY), AGE];

pub(super) fn lease(obj: &Value, now: Timestamp) -> Row {
    Row::new(vec![name(obj), Value::from(str_at(obj, &["spec", "holderIdentity"])), age(obj, now)])
}

pub(super) const ENDPOINT_SLICE_COLUMNS: &[Column] = &[
    NAME,
    col("AddressType", "string", docs::ENDPOINT_SLICE_ADDRESS_TYPE),
    col("Ports", "string", docs::ENDPOINT_SLICE_PORTS),
    col("Endpoints", "string", docs::ENDPOINT_SLICE_ENDPOINTS),
    AGE,
];

pub(super) fn endpoint_slice(obj: &Value, now: Timestamp) -> Row {
    // Ports: the number, else the name, else `*` (all ports).
    let ports = list_at(obj, &["ports"]).iter().map(|p| match opt_int_at(p, &["port"]) {
        Some(port) => port.to_string(),
        None if get(p, &["name"]).is_some() => str_at(p, &["name"]).to_owned(),
        None => "*".to_owned(),
    });
    let addresses = list_at(obj, &["endpoints"])
        .iter()
        .flat_map(|e| list_at(e, &["addresses"]))
        .map(|a| a.as_str().unwrap_or_default().to_owned());
    Row::new(vec![
        name(obj),
        Value::from(str_at(obj, &["addressType"])),
        Value::from(list_with_more(ports)),
        Value::from(list_with_more(addresses)),
        age(obj, now),
    ])
}

/// `listWithMoreString`: the first three joined by `,`, `+ N more...` for the
/// rest, `<unset>` for none.
fn list_with_more(items: impl Iterator<Item = String>) -> String {
    const MAX: usize = 3;
    let mut list = Vec::new();
    let mut count = 0;
    for item in items {
        if list.len() < MAX {
            list.push(item);
        }
        count += 1;
    }
    let joined = list.join(",");
    if count > MAX {
        format!("{joined} + {} more...", count - MAX)
    } else if joined.is_empty() {
        "<unset>".to_owned()
    } else {
        joined
    }
}

pub(super) const LOGICAL_CLUSTER_COLUMNS: &[Column] = &[NAME, col("Phase", "string", docs::LOGICAL_CLUSTER_PHASE), AGE];

/// Name, `status.phase` (empty until set), Age.
pub(super) fn logical_cluster(obj: &Value, now: Timestamp) -> Row {
    Row::new(vec![name(obj), Value::from(str_at(obj, &["status", "phase"])), age(obj, now)])
}

/// `rest.NewDefaultTableConvertor`: Name and the creation time in RFC 3339.
pub(super) const DEFAULT_COLUMNS: &[Column] = &[NAME, col("Created At", "date", docs::CREATION_TIMESTAMP)];

pub(super) fn default_row(obj: &Value, _now: Timestamp) -> Row {
    // Go formats the zero time too: 0001-01-01T00:00:00Z.
    let created = time_at(obj, &["metadata", "creationTimestamp"])
        .map_or_else(|| "0001-01-01T00:00:00Z".to_owned(), |t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
    Row::new(vec![name(obj), Value::from(created)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2025-06-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn lease_cells() {
        let l = json!({"metadata": {"name": "node-1", "creationTimestamp": "2025-05-31T00:00:00Z"},
                       "spec": {"holderIdentity": "node-1", "leaseDurationSeconds": 40}});
        assert_eq!(lease(&l, now()).cells, vec![json!("node-1"), json!("node-1"), json!("36h")]);
        assert_eq!(lease(&json!({"metadata": {"name": "x"}}), now()).cells[1], json!(""));
    }

    #[test]
    fn endpoint_slice_cells() {
        let s = json!({
            "metadata": {"name": "web-abc12", "creationTimestamp": "2025-06-01T11:59:59Z"},
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 80, "protocol": "TCP"}, {"name": "metrics"}, {}, {"port": 9090}],
            "endpoints": [{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2", "10.0.0.3"]}]
        });
        assert_eq!(
            endpoint_slice(&s, now()).cells,
            vec![
                json!("web-abc12"),
                json!("IPv4"),
                json!("80,metrics,* + 1 more..."),
                json!("10.0.0.1,10.0.0.2,10.0.0.3"),
                json!("1s")
            ]
        );
        let empty = json!({"metadata": {"name": "e"}, "addressType": "IPv6"});
        assert_eq!(endpoint_slice(&empty, now()).cells[2..4], [json!("<unset>"), json!("<unset>")]);
        let many = json!({"endpoints": [{"addresses": ["a", "b", "c", "d", "e"]}]});
        assert_eq!(endpoint_slice(&many, now()).cells[3], json!("a,b,c + 2 more..."));
    }

    #[test]
    fn logical_cluster_cells() {
        let lc = json!({"metadata": {"name": "team-a", "creationTimestamp": "2025-06-01T11:00:00Z"},
                        "status": {"phase": "Ready"}});
        assert_eq!(logical_cluster(&lc, now()).cells, vec![json!("team-a"), json!("Ready"), json!("60m")]);
        assert_eq!(logical_cluster(&json!({"metadata": {"name": "b"}}), now()).cells[1], json!(""));
    }

    #[test]
    fn default_cells() {
        let o = json!({"metadata": {"name": "thing", "creationTimestamp": "2025-06-01T13:04:05+02:00"}});
        assert_eq!(default_row(&o, now()).cells, vec![json!("thing"), json!("2025-06-01T11:04:05Z")]);
        assert_eq!(default_row(&json!({}), now()).cells, vec![json!(""), json!("0001-01-01T00:00:00Z")]);
    }
}
