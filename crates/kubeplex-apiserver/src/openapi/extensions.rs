//! The `x-kubernetes-*` extensions of built-in schemas, from the API facts table: per field
//! `x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key`, `x-kubernetes-list-type`,
//! `x-kubernetes-list-map-keys` and `x-kubernetes-map-type`; per type `x-kubernetes-map-type`
//! (`+structType`) and `x-kubernetes-group-version-kind`.
//!
//! Also the final shape of references: a `$ref` with siblings (a description, an extension)
//! becomes `allOf: [{$ref}]` beside them, as OpenAPI 3.0 ignores a `$ref`'s siblings.

use kubeplex_api_facts::{FieldFacts, ListType, MapType, StructType, TypeFacts, TypeRef};
use serde_json::{Map, Value, json};

/// Adds the facts of type `name` to its schema `schema`: field extensions and the type's own.
pub(super) fn apply(name: &str, schema: &mut Value, group_versions: &[(&str, &str)]) {
    let Some(facts) = kubeplex_api_facts::try_facts().ok() else { return };
    let Some(ty) = facts.type_by_name(name) else { return };
    let Some(object) = schema.as_object_mut() else { return };
    if let Some(properties) = object.get_mut("properties").and_then(Value::as_object_mut) {
        for (json_name, property) in properties.iter_mut() {
            if let Some(field) = ty.field(json_name) {
                field_extensions(field, property);
            }
        }
    }
    if let Some(struct_type) = ty.struct_type {
        object.insert("x-kubernetes-map-type".into(), struct_type_name(struct_type).into());
    }
    let gvks = group_version_kinds(ty, group_versions);
    if !gvks.is_empty() {
        object.insert("x-kubernetes-group-version-kind".into(), Value::Array(gvks));
    }
}

/// `x-kubernetes-group-version-kind` of a type: its registrations; a kind registered into every
/// group-version (`DeleteOptions`, `WatchEvent`) once per group-version in `group_versions`.
fn group_version_kinds(ty: &TypeFacts, group_versions: &[(&str, &str)]) -> Vec<Value> {
    let mut out: Vec<Value> = ty.kinds.iter().map(|k| gvk(&k.group, &k.version, &k.kind)).collect();
    if let Some(kind) = &ty.kind_in_every_group_version {
        for (group, version) in group_versions {
            let entry = gvk(group, version, kind);
            if !out.contains(&entry) {
                out.push(entry);
            }
        }
    }
    out
}

/// One `x-kubernetes-group-version-kind` entry.
pub(super) fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "kind": kind, "version": version})
}

fn field_extensions(field: &FieldFacts, property: &mut Value) {
    let Some(object) = property.as_object_mut() else { return };
    if let Some(strategies) = &field.patch_strategy
        && !strategies.is_empty()
    {
        object.insert("x-kubernetes-patch-strategy".into(), strategies.to_string().into());
    }
    if let Some(key) = &field.patch_merge_key {
        object.insert("x-kubernetes-patch-merge-key".into(), key.clone().into());
    }
    let alias = alias_of(&field.ty);
    let list_type = field.list_type.or_else(|| alias.and_then(|a| a.list_type));
    if let Some(list_type) = list_type {
        object.insert("x-kubernetes-list-type".into(), list_type_name(list_type).into());
    }
    if !field.list_map_keys.is_empty() {
        object.insert("x-kubernetes-list-map-keys".into(), field.list_map_keys.clone().into());
    }
    let map_type = field
        .map_type
        .map(map_type_name)
        .or_else(|| field.struct_type.map(struct_type_name))
        .or_else(|| alias.and_then(|a| a.map_type).map(map_type_name));
    if let Some(map_type) = map_type {
        object.insert("x-kubernetes-map-type".into(), map_type.into());
    }
}

/// The defined type a field's type names (`type ExtraValue []string`), if any.
fn alias_of(ty: &TypeRef) -> Option<&'static kubeplex_api_facts::AliasFacts> {
    let facts = kubeplex_api_facts::try_facts().ok()?;
    match ty {
        TypeRef::Alias { name, .. } => facts.alias_by_name(name),
        _ => None,
    }
}

fn list_type_name(list_type: ListType) -> &'static str {
    match list_type {
        ListType::Atomic => "atomic",
        ListType::Set => "set",
        ListType::Map => "map",
    }
}

fn map_type_name(map_type: MapType) -> &'static str {
    match map_type {
        MapType::Atomic => "atomic",
        MapType::Granular => "granular",
    }
}

fn struct_type_name(struct_type: StructType) -> &'static str {
    match struct_type {
        StructType::Atomic => "atomic",
        StructType::Granular => "granular",
    }
}

/// Rewrites every `$ref` that has siblings into `allOf: [{"$ref": …}]`, in `schema` and its
/// subschemas (not in data such as `default`, nor in property names: a property may be named `$ref`).
pub(super) fn wrap_ref_siblings(schema: &mut Value) {
    let Value::Object(object) = schema else { return };
    for (key, value) in object.iter_mut() {
        match (key.as_str(), value) {
            ("properties" | "patternProperties" | "definitions", Value::Object(named)) => {
                named.values_mut().for_each(wrap_ref_siblings);
            }
            ("allOf" | "anyOf" | "oneOf" | "items", Value::Array(subs)) => subs.iter_mut().for_each(wrap_ref_siblings),
            ("items" | "additionalProperties" | "additionalItems" | "not", sub) => wrap_ref_siblings(sub),
            _ => {}
        }
    }
    if object.len() > 1
        && let Some(reference) = object.remove("$ref")
    {
        let mut wrapped = Map::new();
        wrapped.insert("$ref".into(), reference);
        let all_of = object.entry("allOf").or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(all_of) = all_of {
            all_of.insert(0, Value::Object(wrapped));
        }
    }
}

/// Every schema name `schema` refers to (`#/components/schemas/<name>`), at any depth.
pub(super) fn references<'a>(schema: &'a Value, out: &mut Vec<&'a str>) {
    match schema {
        Value::Object(object) => {
            for (key, value) in object {
                match (key.as_str(), value) {
                    ("$ref", Value::String(reference)) => {
                        if let Some(name) = reference.strip_prefix("#/components/schemas/") {
                            out.push(name);
                        }
                    }
                    _ => references(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_only_refs_with_siblings() {
        let mut schema = json!({"properties": {
            "a": {"$ref": "#/components/schemas/A"},
            "b": {"$ref": "#/components/schemas/B", "description": "b"},
        }});
        wrap_ref_siblings(&mut schema);
        assert_eq!(schema["properties"]["a"], json!({"$ref": "#/components/schemas/A"}));
        assert_eq!(
            schema["properties"]["b"],
            json!({"description": "b", "allOf": [{"$ref": "#/components/schemas/B"}]})
        );
        // A property named `$ref` beside one named `allOf` is no reference.
        let mut props = json!({"properties": {"$ref": {"type": "string"}, "allOf": {"type": "array"}}});
        let before = props.clone();
        wrap_ref_siblings(&mut props);
        assert_eq!(props, before);
        let mut refs = Vec::new();
        references(&schema, &mut refs);
        refs.sort_unstable();
        assert_eq!(refs, ["A", "B"]);
    }
}
