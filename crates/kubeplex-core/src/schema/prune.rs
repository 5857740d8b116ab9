//! Pruning of custom objects (upstream's `structuralpruning` and
//! `objectmeta` coercion): fields the schema does not declare are dropped,
//! unless `x-kubernetes-preserve-unknown-fields` keeps them; `apiVersion`,
//! `kind` and `metadata` of the resource root and of embedded resources stay;
//! `metadata` keeps only the fields of `ObjectMeta`; `null`s of non-nullable
//! fields without a default go. The paths of what was dropped come back for
//! server-side field validation (`unknown field "spec.foo"`).

use serde_json::{Map, Value};

use super::{Additional, META_FIELDS, OBJECT_META_FIELDS, additional, flag, items, properties};

/// Prunes `object` (a resource root) against `schema` and returns the
/// unknown field paths in upstream's order: those under `metadata`, then the
/// pruned ones (sorted), then those under embedded resources' `metadata`.
pub fn prune(object: &mut Value, schema: &Value) -> Vec<String> {
    let mut out = prune_metadata(object, "metadata");
    let mut pruned = Vec::new();
    walk(object, Some(schema), true, &mut String::new(), &mut pruned);
    pruned.sort();
    out.extend(pruned);
    let mut embedded = Vec::new();
    coerce_embedded(object, Some(schema), &mut String::new(), &mut embedded);
    out.extend(embedded);
    drop_nulls(object, schema);
    out
}

/// Drops the fields of `object.metadata` that `ObjectMeta` does not have,
/// returning their paths under `prefix` (sorted).
fn prune_metadata(object: &mut Value, prefix: &str) -> Vec<String> {
    let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) else { return Vec::new() };
    let mut unknown: Vec<String> =
        meta.keys().filter(|k| !OBJECT_META_FIELDS.contains(&k.as_str())).map(|k| format!("{prefix}.{k}")).collect();
    meta.retain(|k, _| OBJECT_META_FIELDS.contains(&k.as_str()));
    unknown.sort();
    unknown
}

fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
}

/// `prune`: `embedded` marks a resource root (upstream sets
/// `x-kubernetes-embedded-resource` on the root schema).
fn walk(value: &mut Value, schema: Option<&Value>, root: bool, path: &mut String, out: &mut Vec<String>) {
    if let Some(s) = schema
        && flag(s, "x-kubernetes-preserve-unknown-fields")
    {
        return skip(value, s, root, path, out);
    }
    let len = path.len();
    match value {
        Value::Object(map) => {
            let Some(s) = schema else {
                for k in map.keys() {
                    push_key(path, k);
                    out.push(path.clone());
                    path.truncate(len);
                }
                map.clear();
                return;
            };
            let embedded = root || flag(s, "x-kubernetes-embedded-resource");
            let props = properties(s);
            let extra = additional(s);
            let mut drop = Vec::new();
            for (k, v) in map.iter_mut() {
                if embedded && META_FIELDS.contains(&k.as_str()) {
                    continue;
                }
                if let Some(p) = props.and_then(|p| p.get(k)) {
                    push_key(path, k);
                    walk(v, Some(p), false, path, out);
                    path.truncate(len);
                } else if !matches!(extra, Additional::Absent) {
                    push_key(path, k);
                    let inner = if let Additional::Schema(a) = extra { Some(a) } else { None };
                    walk(v, inner, false, path, out);
                    path.truncate(len);
                } else {
                    if !META_FIELDS.contains(&k.as_str()) || !path.is_empty() {
                        push_key(path, k);
                        out.push(path.clone());
                        path.truncate(len);
                    }
                    drop.push(k.clone());
                }
            }
            map.retain(|k, _| !drop.contains(k));
        }
        Value::Array(list) => {
            let inner = schema.and_then(items);
            for (i, v) in list.iter_mut().enumerate() {
                path.push_str(&format!("[{i}]"));
                walk(v, inner, false, path, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// `skipPrune`: under `x-kubernetes-preserve-unknown-fields` only declared
/// fields are pruned further.
fn skip(value: &mut Value, schema: &Value, root: bool, path: &mut String, out: &mut Vec<String>) {
    let len = path.len();
    match value {
        Value::Object(map) => {
            let embedded = root || flag(schema, "x-kubernetes-embedded-resource");
            let props = properties(schema);
            let extra = additional(schema);
            for (k, v) in map.iter_mut() {
                if embedded && META_FIELDS.contains(&k.as_str()) {
                    continue;
                }
                if let Some(p) = props.and_then(|p| p.get(k)) {
                    push_key(path, k);
                    walk(v, Some(p), false, path, out);
                    path.truncate(len);
                } else if !matches!(extra, Additional::Absent) {
                    push_key(path, k);
                    let inner = if let Additional::Schema(a) = extra { Some(a) } else { None };
                    walk(v, inner, false, path, out);
                    path.truncate(len);
                }
            }
        }
        Value::Array(list) => {
            if let Some(inner) = items(schema) {
                for (i, v) in list.iter_mut().enumerate() {
                    path.push_str(&format!("[{i}]"));
                    skip(v, inner, false, path, out);
                    path.truncate(len);
                }
            }
        }
        _ => {}
    }
}

/// `objectmeta.Coerce` below the root: the `metadata` of embedded resources
/// keeps only `ObjectMeta` fields.
fn coerce_embedded(value: &mut Value, schema: Option<&Value>, path: &mut String, out: &mut Vec<String>) {
    let Some(s) = schema else { return };
    let len = path.len();
    match value {
        Value::Object(map) => {
            if !path.is_empty() && flag(s, "x-kubernetes-embedded-resource") {
                let prefix = format!("{path}.metadata");
                let mut wrapper = Value::Object(Map::new());
                if let Some(meta) = map.get("metadata") {
                    wrapper["metadata"] = meta.clone();
                    out.extend(prune_metadata(&mut wrapper, &prefix));
                    if let Some(meta) = wrapper.get_mut("metadata") {
                        map.insert("metadata".into(), meta.take());
                    }
                }
            }
            let props = properties(s);
            let extra = additional(s);
            for (k, v) in map.iter_mut() {
                let inner = match (props.and_then(|p| p.get(k)), extra) {
                    (Some(p), _) => Some(p),
                    (None, Additional::Schema(a)) => Some(a),
                    _ => None,
                };
                if inner.is_some() && !(path.is_empty() && META_FIELDS.contains(&k.as_str())) {
                    push_key(path, k);
                    coerce_embedded(v, inner, path, out);
                    path.truncate(len);
                }
            }
        }
        Value::Array(list) => {
            for (i, v) in list.iter_mut().enumerate() {
                path.push_str(&format!("[{i}]"));
                coerce_embedded(v, items(s), path, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// `PruneNonNullableNullsWithoutDefaults`: `null` values of fields that are
/// neither nullable nor defaulted are dropped.
fn drop_nulls(value: &mut Value, schema: &Value) {
    match value {
        Value::Object(map) => {
            let props = properties(schema);
            let extra = additional(schema);
            map.retain(|k, v| {
                let s = props.and_then(|p| p.get(k)).or(if let Additional::Schema(a) = extra { Some(a) } else { None });
                !(v.is_null() && s.is_some_and(|s| !flag(s, "nullable") && s.get("default").is_none()))
            });
            for (k, v) in map.iter_mut() {
                if let Some(p) = props.and_then(|p| p.get(k)) {
                    drop_nulls(v, p);
                } else if let Additional::Schema(a) = extra {
                    drop_nulls(v, a);
                }
            }
        }
        Value::Array(list) => {
            if let Some(inner) = items(schema) {
                list.iter_mut().for_each(|v| drop_nulls(v, inner));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "properties": {
            "spec": {"type": "object", "properties": {
                "replicas": {"type": "integer"},
                "items": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                         "properties": {"typed": {"type": "object", "properties": {"a": {"type": "string"}}}}},
                "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                             "properties": {"spec": {"type": "object"}}},
                "opt": {"type": "string"}
            }}
        }})
    }

    #[test]
    fn unknown_fields_are_dropped_and_reported() {
        let mut object = json!({
            "apiVersion": "stable.example.com/v1", "kind": "CronTab",
            "metadata": {"name": "x", "bogus": 1},
            "spec": {
                "replicas": 1, "foo": "bar",
                "items": [{"name": "a", "extra": true}],
                "labels": {"k": "v"},
                "free": {"any": {"thing": 1}, "typed": {"a": "x", "b": "y"}},
                "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "nope": 1}, "spec": {}},
                "opt": null
            },
            "status": {"x": 1}
        });
        let unknown = prune(&mut object, &schema());
        assert_eq!(
            unknown,
            vec![
                "metadata.bogus",
                "spec.foo",
                "spec.free.typed.b",
                "spec.items[0].extra",
                "status",
                "spec.template.metadata.nope"
            ]
        );
        assert_eq!(object["metadata"], json!({"name": "x"}));
        assert_eq!(object["spec"]["items"], json!([{"name": "a"}]));
        assert_eq!(object["spec"]["free"]["any"], json!({"thing": 1}));
        assert_eq!(object["spec"]["template"]["metadata"], json!({"name": "p"}));
        assert!(object["spec"].get("opt").is_none());
        assert!(object.get("status").is_none());
        assert_eq!(object["apiVersion"], "stable.example.com/v1");
    }

    #[test]
    fn preserve_at_the_root_keeps_everything_undeclared() {
        let mut object = json!({"apiVersion": "a/v1", "kind": "K", "metadata": {}, "anything": {"x": 1}});
        let unknown = prune(&mut object, &json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
        assert!(unknown.is_empty());
        assert_eq!(object["anything"], json!({"x": 1}));
    }
}
