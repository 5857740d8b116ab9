//! Defaulting of custom objects (upstream's `structuraldefaulting.Default`):
//! a field that is absent, or `null` without `nullable: true`, gets a copy of
//! its schema's `default`; then the object's fields, map values and list
//! items are defaulted in turn, a default's own content included.

use serde_json::Value;

use super::{Additional, additional, flag, items, properties};

/// Applies the `default`s of `schema` to `value`, in place.
pub fn apply_defaults(value: &mut Value, schema: &Value) {
    match value {
        Value::Object(map) => {
            if let Some(props) = properties(schema) {
                for (k, prop) in props {
                    let Some(default) = prop.get("default") else { continue };
                    let missing = match map.get(k) {
                        None => true,
                        Some(Value::Null) => !flag(prop, "nullable"),
                        Some(_) => false,
                    };
                    if missing {
                        map.insert(k.clone(), default.clone());
                    }
                }
            }
            let extra = additional(schema);
            for (k, v) in map.iter_mut() {
                if let Some(prop) = properties(schema).and_then(|p| p.get(k)) {
                    apply_defaults(v, prop);
                } else if let Additional::Schema(a) = extra {
                    if v.is_null()
                        && !flag(a, "nullable")
                        && let Some(default) = a.get("default")
                    {
                        *v = default.clone();
                    }
                    apply_defaults(v, a);
                }
            }
        }
        Value::Array(list) => {
            if let Some(inner) = items(schema) {
                for v in list.iter_mut() {
                    if v.is_null()
                        && !flag(inner, "nullable")
                        && let Some(default) = inner.get("default")
                    {
                        *v = default.clone();
                    }
                    apply_defaults(v, inner);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn absent_and_null_fields_get_defaults() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "default": {}, "properties": {
            "replicas": {"type": "integer", "default": 1},
            "mode": {"type": "string", "default": "auto"},
            "keep": {"type": "string", "nullable": true, "default": "x"},
            "ports": {"type": "array", "items": {"type": "object", "properties": {
                "protocol": {"type": "string", "default": "TCP"}}}},
            "labels": {"type": "object", "additionalProperties": {"type": "string", "default": "v"}}
        }}}});
        let mut object = json!({"spec": {"mode": null, "keep": null, "ports": [{}, {"protocol": "UDP"}],
                                          "labels": {"a": null}}});
        apply_defaults(&mut object, &schema);
        assert_eq!(
            object["spec"],
            json!({"mode": "auto", "keep": null, "ports": [{"protocol": "TCP"}, {"protocol": "UDP"}],
                   "labels": {"a": "v"}, "replicas": 1})
        );
        let mut empty = json!({});
        apply_defaults(&mut empty, &schema);
        assert_eq!(empty, json!({"spec": {"replicas": 1, "mode": "auto", "keep": "x"}}));
    }
}
