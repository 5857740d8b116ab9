//! Tests of the OpenAPI v3 documents and their serving.

use std::borrow::Cow;
use std::sync::Arc;

use http::{HeaderMap, HeaderValue, StatusCode, header};
use kubeplex_core::resource::{BUILTIN, CustomResource, Names, ResourceDef, STANDARD_VERBS, custom_subresources};
use serde_json::{Value, json};

use super::*;

fn parse(doc: &Doc) -> Value {
    serde_json::from_slice(&doc.bytes).expect("a document is JSON")
}

fn builtin(group: &str, version: &str) -> Value {
    parse(&OpenApi::new().builtin_doc(group, version).expect("served"))
}

/// Every `$ref` of `doc` names a schema of `doc`.
fn assert_refs_resolve(doc: &Value) {
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    let mut refs = Vec::new();
    extensions::references(doc, &mut refs);
    assert!(!refs.is_empty());
    for name in refs {
        assert!(schemas.contains_key(name), "unresolved reference {name}");
    }
}

/// The shape kube-openapi's parser needs: `$ref` a string, `allOf` & co. arrays of schemas,
/// `properties` an object of schemas, `type` a string, `required` strings.
fn assert_well_formed(schema: &Value, at: &str) {
    let object = schema.as_object().unwrap_or_else(|| panic!("{at}: not an object"));
    for (key, value) in object {
        let here = format!("{at}.{key}");
        match key.as_str() {
            "$ref" => assert!(value.is_string(), "{here}"),
            "type" => assert!(value.is_string(), "{here}"),
            "required" => assert!(value.as_array().is_some_and(|r| r.iter().all(Value::is_string)), "{here}"),
            "allOf" | "anyOf" | "oneOf" => {
                for (i, sub) in value.as_array().unwrap_or_else(|| panic!("{here}")).iter().enumerate() {
                    assert_well_formed(sub, &format!("{here}[{i}]"));
                }
            }
            "properties" => {
                for (name, sub) in value.as_object().unwrap_or_else(|| panic!("{here}")) {
                    assert_well_formed(sub, &format!("{here}.{name}"));
                }
            }
            "items" | "not" => assert_well_formed(value, &here),
            "additionalProperties" if !value.is_boolean() => assert_well_formed(value, &here),
            _ => {}
        }
    }
}

fn has_gvk(schema: &Value, group: &str, version: &str, kind: &str) -> bool {
    schema["x-kubernetes-group-version-kind"]
        .as_array()
        .is_some_and(|gvks| gvks.contains(&json!({"group": group, "kind": kind, "version": version})))
}

#[test]
fn every_builtin_kind_has_a_schema_with_its_gvk_and_paths() {
    for (group, version) in OpenApi::builtin_group_versions() {
        let doc = builtin(group, version);
        assert_eq!(doc["openapi"], "3.0.0");
        assert_refs_resolve(&doc);
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        for (name, schema) in schemas {
            assert_well_formed(schema, name);
        }
        for def in BUILTIN.iter().filter(|d| d.group == group && d.version == version) {
            let kind = &*def.kind;
            assert!(
                schemas.values().any(|s| has_gvk(s, group, version, kind)),
                "{group}/{version} {kind} has no schema with its GVK"
            );
            let list = def.list_kind();
            assert!(schemas.values().any(|s| has_gvk(s, group, version, &list)), "{group}/{version} {list}");
            // kubectl's server-side validation check: a PATCH for the GVK with `fieldValidation`.
            let patch = doc["paths"]
                .as_object()
                .expect("paths")
                .values()
                .filter_map(|p| p.get("patch"))
                .find(|op| {
                    op["x-kubernetes-group-version-kind"] == json!({"group": group, "kind": kind, "version": version})
                })
                .unwrap_or_else(|| panic!("{group}/{version} {kind} has no PATCH operation"));
            let params: Vec<&str> =
                patch["parameters"].as_array().expect("params").iter().filter_map(|p| p["name"].as_str()).collect();
            for name in ["dryRun", "fieldManager", "fieldValidation", "force"] {
                assert!(params.contains(&name), "{kind} PATCH lacks {name}");
            }
            assert!(patch["requestBody"]["content"].get("application/strategic-merge-patch+json").is_some());
        }
    }
    let crates_kinds = builtin::KINDS.len();
    assert!(crates_kinds >= BUILTIN.len() - 1);
}

#[test]
fn facts_extensions_are_present() {
    let core = builtin("", "v1");
    let schemas = &core["components"]["schemas"];
    let containers = &schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
    assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
    assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
    assert_eq!(containers["type"], "array");
    let ports = &schemas["io.k8s.api.core.v1.Container"]["properties"]["ports"];
    assert_eq!(ports["x-kubernetes-list-type"], "map");
    assert_eq!(ports["x-kubernetes-list-map-keys"], json!(["containerPort", "protocol"]));
    let volumes = &schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["volumes"];
    assert_eq!(volumes["x-kubernetes-patch-strategy"], "merge,retainKeys");
    assert_eq!(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"]["x-kubernetes-map-type"], "atomic");
    let finalizers = &schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]["properties"]["finalizers"];
    assert_eq!(finalizers["x-kubernetes-list-type"], "set");
    // A described reference is wrapped, as OpenAPI 3.0 ignores a $ref's siblings.
    let metadata = &schemas["io.k8s.api.core.v1.Pod"]["properties"]["metadata"];
    assert_eq!(metadata["allOf"][0]["$ref"], "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
    assert!(metadata.get("$ref").is_none());
    assert!(has_gvk(&schemas["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"], "apps", "v1", "DeleteOptions"));

    let apps = builtin("apps", "v1");
    let strategy = &apps["components"]["schemas"]["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"];
    assert_eq!(strategy["x-kubernetes-patch-strategy"], "retainKeys");
    assert!(has_gvk(&apps["components"]["schemas"]["io.k8s.api.autoscaling.v1.Scale"], "autoscaling", "v1", "Scale"));
    let scale = &apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["patch"];
    assert_eq!(scale["x-kubernetes-group-version-kind"]["kind"], "Scale");
    assert_eq!(scale["operationId"], "patchAppsV1NamespacedDeploymentScale");
}

fn widget_crd(version: &str, schema: Option<Value>) -> Def {
    Arc::new(ResourceDef {
        group: Cow::Owned("example.com".into()),
        version: Cow::Owned(version.into()),
        kind: Cow::Borrowed("Widget"),
        plural: Cow::Borrowed("widgets"),
        singular: Cow::Borrowed("widget"),
        namespaced: true,
        short_names: Names::Owned(vec![]),
        categories: Names::Static(&[]),
        verbs: STANDARD_VERBS,
        subresources: custom_subresources::of(true, true),
        storage: Cow::Borrowed("widgets.example.com"),
        custom: Some(Arc::new(CustomResource {
            crd: "widgets.example.com".into(),
            list_kind: "WidgetList".into(),
            schema: schema.map(Arc::new),
            ..CustomResource::default()
        })),
    })
}

#[test]
fn crd_documents_per_cluster() {
    let registry = Registry::new();
    let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "description": "The spec.",
        "properties": {"size": {"type": "integer", "description": "How big."},
                       "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                                    "x-kubernetes-preserve-unknown-fields": true}}}}});
    registry.set_custom("t1", "widgets.example.com", vec![widget_crd("v1", Some(schema))]);
    let openapi = OpenApi::new();
    let doc = openapi.document(&registry, "t1", "example.com", "v1").expect("served in t1");
    assert!(openapi.document(&registry, "t2", "example.com", "v1").is_none());
    let value = parse(&doc);
    assert_refs_resolve(&value);
    for (name, schema) in value["components"]["schemas"].as_object().expect("schemas") {
        assert_well_formed(schema, name);
    }
    let widget = &value["components"]["schemas"]["com.example.v1.Widget"];
    assert!(has_gvk(widget, "example.com", "v1", "Widget"));
    assert_eq!(widget["properties"]["spec"]["properties"]["size"]["description"], "How big.");
    assert_eq!(
        widget["properties"]["metadata"]["allOf"][0]["$ref"],
        format!("#/components/schemas/{}", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
    );
    assert_eq!(widget["properties"]["spec"]["properties"]["template"]["properties"]["kind"]["type"], "string");
    assert!(has_gvk(&value["components"]["schemas"]["com.example.v1.WidgetList"], "example.com", "v1", "WidgetList"));
    let patch = &value["paths"]["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"]["patch"];
    assert!(patch["parameters"].as_array().expect("params").iter().any(|p| p["name"] == "fieldValidation"));
    assert!(patch["requestBody"]["content"].get("application/strategic-merge-patch+json").is_none());
    assert!(value["paths"].get("/apis/example.com/v1/namespaces/{namespace}/widgets/{name}/scale").is_some());

    // Cached until the CRD changes.
    let again = openapi.document(&registry, "t1", "example.com", "v1").expect("served");
    assert_eq!(again.bytes.as_ptr(), doc.bytes.as_ptr());
    registry.set_custom("t1", "widgets.example.com", vec![widget_crd("v1", None)]);
    let changed = openapi.document(&registry, "t1", "example.com", "v1").expect("served");
    assert_ne!(changed.hash, doc.hash);
    assert_eq!(parse(&changed)["components"]["schemas"]["com.example.v1.Widget"]["type"], "object");

    let index = openapi.index(&registry, "t1");
    let url = index["paths"]["apis/example.com/v1"]["serverRelativeURL"].as_str().expect("listed");
    assert_eq!(url, format!("/openapi/v3/apis/example.com/v1?hash={}", changed.hash));
    assert!(openapi.index(&registry, "t2")["paths"].get("apis/example.com/v1").is_none());
}

#[test]
fn serving_hashes_etags_and_redirects() {
    let registry = Registry::new();
    let openapi = OpenApi::new();
    let index = openapi.index(&registry, "root");
    let url = index["paths"]["apis/apps/v1"]["serverRelativeURL"].as_str().expect("apps/v1 listed").to_owned();
    assert!(index["paths"].get("api/v1").is_some());
    let hash = url.split_once("?hash=").expect("hashed").1.to_owned();
    assert_eq!(hash.len(), 128);

    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    let query = Query::parse(Some(&format!("hash={hash}")));
    let response = serve(&openapi, &registry, "root", "", Some("apis/apps/v1"), &query, &headers).expect("served");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "public, immutable");
    assert_eq!(response.headers()[header::ETAG], format!("\"{hash}\""));

    headers.insert(header::IF_NONE_MATCH, HeaderValue::from_str(&format!("\"{hash}\"")).expect("header"));
    let response = serve(&openapi, &registry, "root", "", Some("apis/apps/v1"), &query, &headers).expect("served");
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);

    let stale = Query::parse(Some("hash=0123"));
    let response = serve(&openapi, &registry, "t1", "/clusters/t1", Some("apis/apps/v1"), &stale, &HeaderMap::new())
        .expect("served");
    assert_eq!(response.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(response.headers()[header::LOCATION], format!("/clusters/t1/openapi/v3/apis/apps/v1?hash={hash}"));

    let none = Query::parse(None);
    assert!(serve(&openapi, &registry, "root", "", Some("apis/nope/v1"), &none, &HeaderMap::new()).is_err());
    assert!(serve(&openapi, &registry, "root", "", Some("apis/apps"), &none, &HeaderMap::new()).is_err());
    let mut protobuf = HeaderMap::new();
    protobuf
        .insert(header::ACCEPT, HeaderValue::from_static("application/com.github.proto-openapi.spec.v3.v1.0+protobuf"));
    let response = serve(&openapi, &registry, "root", "", Some("apis/apps/v1"), &none, &protobuf).expect("answered");
    assert_eq!(response.status(), StatusCode::NOT_ACCEPTABLE);

    // Built once: the same bytes every time.
    let first = openapi.builtin_doc("apps", "v1").expect("served");
    let second = openapi.builtin_doc("apps", "v1").expect("served");
    assert_eq!(first.bytes.as_ptr(), second.bytes.as_ptr());

    // Micro-benchmark (printed, never asserted): serving a cached document.
    let rounds: u32 = 1000;
    let started = std::time::Instant::now();
    for _ in 0..rounds {
        let response = serve(&openapi, &registry, "root", "", Some("apis/apps/v1"), &query, &HeaderMap::new());
        assert!(response.is_ok());
    }
    eprintln!(
        "openapi: cached apps/v1 document ({} bytes) served in {:?} each",
        first.bytes.len(),
        started.elapsed() / rounds
    );
}
