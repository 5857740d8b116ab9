//! Documents of a logical cluster's custom group-versions, from its CRDs: each served version's
//! `openAPIV3Schema` as the kind's schema (named as upstream: the group reversed, then version and
//! kind, `com.example.stable.v1.CronTab`), with `apiVersion`, `kind` and `metadata` (a reference to
//! `ObjectMeta`) added at the top and in every `x-kubernetes-embedded-resource`, its list kind, the
//! meta schemas they reach, and the paths of the resources (no strategic merge patch).

use std::sync::LazyLock;

use serde_json::{Map, Value, json};

use super::builtin::{self, API_VERSION_DOC, KIND_DOC};
use super::extensions::{self, gvk};
use super::paths::{self, Resource};
use crate::registry::Def;

const OBJECT_META: &str = "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const METADATA_DOC: &str = "Standard object's metadata. More info: \
    https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// The schemas every custom document shares: the meta kinds (ObjectMeta, ListMeta, Status,
/// DeleteOptions, WatchEvent, Patch) and `autoscaling/v1` Scale, with what they reach.
static SHARED: LazyLock<Map<String, Value>> = LazyLock::new(|| {
    let mut generator = builtin::generator();
    builtin::add_meta(&mut generator);
    generator.subschema_for::<k8s_openapi::api::autoscaling::v1::Scale>();
    let mut schemas = generator.take_definitions(true);
    for (name, schema) in schemas.iter_mut() {
        extensions::apply(name, schema, &[]);
        extensions::wrap_ref_siblings(schema);
    }
    schemas
});

/// The model name of a custom kind: `stable.example.com`, `v1`, `CronTab` ─► `com.example.stable.v1.CronTab`.
pub(super) fn model_name(group: &str, version: &str, kind: &str) -> String {
    let reversed: Vec<&str> = group.split('.').rev().collect();
    format!("{}.{version}.{kind}", reversed.join("."))
}

/// The document of the custom resources `defs`, all of `group`/`version`.
pub(super) fn document(group: &str, version: &str, defs: &[Def]) -> Value {
    let mut schemas = Map::new();
    let mut names = Vec::new();
    for def in defs {
        let name = model_name(group, version, &def.kind);
        let list_kind = def.list_kind();
        let list_name = model_name(group, version, &list_kind);
        let given = def.custom.as_ref().and_then(|c| c.schema.as_deref());
        schemas.insert(name.clone(), kind_schema(given, group, version, &def.kind));
        schemas.insert(list_name.clone(), builtin::list_schema(&name, group, version, &def.kind, &list_kind));
        names.push((name, list_name));
    }
    // The shared schemas this document reaches.
    let mut pending: Vec<String> = Vec::new();
    for schema in schemas.values() {
        let mut refs = Vec::new();
        extensions::references(schema, &mut refs);
        pending.extend(refs.into_iter().map(str::to_owned));
    }
    pending.extend(
        ["DeleteOptions", "Status", "WatchEvent", "Patch"]
            .iter()
            .map(|k| format!("io.k8s.apimachinery.pkg.apis.meta.v1.{k}")),
    );
    if defs.iter().any(|d| d.subresource("scale").is_some()) {
        pending.push("io.k8s.api.autoscaling.v1.Scale".into());
    }
    while let Some(name) = pending.pop() {
        if schemas.contains_key(&name) {
            continue;
        }
        if let Some(schema) = SHARED.get(&name) {
            let mut refs = Vec::new();
            extensions::references(schema, &mut refs);
            pending.extend(refs.into_iter().map(str::to_owned));
            schemas.insert(name, schema.clone());
        }
    }
    schemas.sort_keys();
    let resources: Vec<Resource<'_>> = defs
        .iter()
        .zip(&names)
        .map(|(def, (schema, list_schema))| Resource { def, schema, list_schema, strategic: false })
        .collect();
    let paths = paths::paths(group, version, &resources);
    builtin::document_value(paths, schemas)
}

/// The schema of a custom kind: the CRD's (or `{type: object}` without one) with the object's
/// own fields.
fn kind_schema(given: Option<&Value>, group: &str, version: &str, kind: &str) -> Value {
    let mut schema = match given {
        Some(Value::Object(object)) => Value::Object(object.clone()),
        _ => json!({"type": "object"}),
    };
    if given.is_some() {
        add_object_fields(&mut schema);
        embedded_resources(&mut schema, true);
    }
    if let Some(object) = schema.as_object_mut() {
        object.insert("x-kubernetes-group-version-kind".into(), json!([gvk(group, version, kind)]));
    }
    schema
}

/// Adds `apiVersion`, `kind` and `metadata` to an object schema's properties.
fn add_object_fields(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else { return };
    let properties = object.entry("properties").or_insert_with(|| Value::Object(Map::new()));
    if let Some(properties) = properties.as_object_mut() {
        properties.insert("apiVersion".into(), json!({"description": API_VERSION_DOC, "type": "string"}));
        properties.insert("kind".into(), json!({"description": KIND_DOC, "type": "string"}));
        properties.insert("metadata".into(), json!({"allOf": [{"$ref": OBJECT_META}], "description": METADATA_DOC}));
    }
}

/// Gives every `x-kubernetes-embedded-resource` schema below `schema` the object's own fields.
fn embedded_resources(schema: &mut Value, top: bool) {
    let Some(object) = schema.as_object_mut() else { return };
    if !top && object.get("x-kubernetes-embedded-resource").and_then(Value::as_bool) == Some(true) {
        add_object_fields(schema);
    }
    let Some(object) = schema.as_object_mut() else { return };
    if let Some(properties) = object.get_mut("properties").and_then(Value::as_object_mut) {
        for (name, property) in properties.iter_mut() {
            if top && name == "metadata" {
                continue;
            }
            embedded_resources(property, false);
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(sub) = object.get_mut(key) {
            embedded_resources(sub, false);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(subs)) = object.get_mut(key) {
            subs.iter_mut().for_each(|s| embedded_resources(s, false));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(model_name("stable.example.com", "v1", "CronTab"), "com.example.stable.v1.CronTab");
    }

    #[test]
    fn embedded() {
        let mut schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "template": {"type": "object", "x-kubernetes-embedded-resource": true}}}}});
        embedded_resources(&mut schema, true);
        let template = &schema["properties"]["spec"]["properties"]["template"];
        assert_eq!(template["properties"]["kind"]["type"], "string");
        assert!(template["properties"]["metadata"]["allOf"].is_array());
    }
}
