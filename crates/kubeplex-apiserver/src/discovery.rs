//! Discovery documents, built from the resources a logical cluster serves:
//! aggregated discovery (`apidiscovery.k8s.io/v2`, what kubectl asks for
//! first) and the legacy documents (`APIVersions`, `APIGroupList`,
//! `APIGroup`, `APIResourceList`), which kubectl still reads per version.

use kubeplex_core::resource::{ResourceDef, groups};

use crate::registry::Def;
use serde_json::{Value, json};

/// The exact Content-Type of aggregated discovery; client-go chooses its
/// parser from it (k8s-api.md §1.2).
pub const AGGREGATED_CONTENT_TYPE: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Whether an `Accept` header asks for aggregated discovery v2.
pub fn wants_aggregated(accept: &str) -> bool {
    accept.split(',').any(|media| {
        let params: Vec<&str> = media.split(';').map(str::trim).collect();
        params.contains(&"g=apidiscovery.k8s.io")
            && params.contains(&"v=v2")
            && params.contains(&"as=APIGroupDiscoveryList")
    })
}

/// `GET /api` or `/apis` as aggregated discovery: the core group alone, or
/// every other group.
pub fn aggregated(resources: &[Def], core: bool) -> Value {
    let items: Vec<Value> = groups(resources.iter().map(|r| &**r))
        .into_iter()
        .filter(|(group, _)| group.is_empty() == core)
        .map(|(group, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|version| {
                    let resources: Vec<Value> = resources
                        .iter()
                        .filter(|r| r.group == group && r.version == *version)
                        .map(|r| aggregated_resource(r))
                        .collect();
                    json!({"version": version, "resources": resources, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": group, "creationTimestamp": null}, "versions": versions})
        })
        .collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}

fn aggregated_resource(r: &ResourceDef) -> Value {
    let mut out = json!({
        "resource": r.plural,
        "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": r.singular,
        "verbs": r.verbs,
    });
    if !r.short_names.is_empty() {
        out["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        out["categories"] = json!(r.categories);
    }
    if !r.subresources.is_empty() {
        out["subresources"] = r
            .subresources
            .iter()
            .map(|s| {
                let (group, version, kind) = r.subresource_kind(s);
                json!({
                    "subresource": s.name,
                    "responseKind": {"group": group, "version": version, "kind": kind},
                    "verbs": s.verbs,
                })
            })
            .collect();
    }
    out
}

/// `GET /api` (legacy): `APIVersions`.
pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

/// `GET /apis` (legacy): `APIGroupList`.
pub fn group_list(resources: &[Def]) -> Value {
    let groups: Vec<Value> = groups(resources.iter().map(|r| &**r))
        .into_iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, versions)| api_group(g, &versions))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `GET /apis/<group>`: `APIGroup`, or `None` if the group is not served.
pub fn group(resources: &[Def], name: &str) -> Option<Value> {
    let (group, versions) =
        groups(resources.iter().map(|r| &**r)).into_iter().find(|(g, _)| !g.is_empty() && *g == name)?;
    let mut doc = api_group(group, &versions);
    doc["kind"] = json!("APIGroup");
    doc["apiVersion"] = json!("v1");
    Some(doc)
}

fn api_group(group: &str, versions: &[&str]) -> Value {
    let entries: Vec<Value> =
        versions.iter().map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v})).collect();
    let preferred = entries.first().cloned().unwrap_or(Value::Null);
    json!({"name": group, "versions": entries, "preferredVersion": preferred})
}

/// `GET /api/v1` or `/apis/<group>/<version>`: `APIResourceList`, or
/// `None` if nothing is served there.
pub fn resource_list(resources: &[Def], group: &str, version: &str) -> Option<Value> {
    let served: Vec<&ResourceDef> =
        resources.iter().map(|r| &**r).filter(|r| r.group == group && r.version == version).collect();
    if served.is_empty() {
        return None;
    }
    let mut entries = Vec::new();
    for r in served {
        let mut entry = json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": r.verbs,
        });
        if !r.short_names.is_empty() {
            entry["shortNames"] = json!(r.short_names);
        }
        if !r.categories.is_empty() {
            entry["categories"] = json!(r.categories);
        }
        entries.push(entry);
        for s in r.subresources {
            let (s_group, s_version, s_kind) = r.subresource_kind(s);
            let mut sub = json!({
                "name": format!("{}/{}", r.plural, s.name),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": s_kind,
                "verbs": s.verbs,
            });
            if (s_group, s_version) != (&*r.group, &*r.version) {
                sub["group"] = json!(s_group);
                sub["version"] = json!(s_version);
            }
            entries.push(sub);
        }
    }
    let group_version = if group.is_empty() { version.to_owned() } else { format!("{group}/{version}") };
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": entries}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    fn builtin() -> Vec<Def> {
        Registry::new().all("root")
    }

    const KUBECTL_ACCEPT: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

    #[test]
    fn negotiation() {
        assert!(wants_aggregated(KUBECTL_ACCEPT));
        assert!(!wants_aggregated("application/json, */*"));
    }

    #[test]
    fn aggregated_core_and_groups() {
        let core = aggregated(&builtin(), true);
        assert_eq!(core["items"].as_array().unwrap().len(), 1);
        assert_eq!(core["items"][0]["metadata"]["name"], "");
        let pods = core["items"][0]["versions"][0]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource"] == "pods")
            .unwrap()
            .clone();
        assert_eq!(pods["shortNames"], json!(["po"]));
        assert_eq!(pods["categories"], json!(["all"]));
        assert_eq!(pods["scope"], "Namespaced");
        let apps = aggregated(&builtin(), false);
        let apps_resources = apps["items"][0]["versions"][0]["resources"].as_array().unwrap();
        let deploy = apps_resources.iter().find(|r| r["resource"] == "deployments").unwrap();
        assert_eq!(deploy["resource"], "deployments");
        assert_eq!(deploy["subresources"][0]["responseKind"]["kind"], "Scale");
    }

    #[test]
    fn legacy_documents() {
        let list = resource_list(&builtin(), "apps", "v1").unwrap();
        assert_eq!(list["groupVersion"], "apps/v1");
        let names: Vec<_> = list["resources"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert!(names.contains(&"deployments/scale"));
        let scale = list["resources"].as_array().unwrap().iter().find(|r| r["name"] == "deployments/scale").unwrap();
        assert_eq!(scale["group"], "autoscaling");
        assert!(resource_list(&builtin(), "apps", "v2").is_none());
        assert_eq!(group(&builtin(), "apps").unwrap()["preferredVersion"]["groupVersion"], "apps/v1");
        assert!(group(&builtin(), "nope").is_none());
        assert_eq!(group_list(&builtin())["groups"][0]["name"], "apps");
    }
}
