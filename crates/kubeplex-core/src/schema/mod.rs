//! OpenAPI v3 schemas of CustomResourceDefinitions, as upstream's
//! apiextensions-apiserver applies them to custom objects: the structural
//! checks a CRD's schema must pass, and pruning, defaulting and validation
//! of the objects a version serves. Everything works on the schema as JSON
//! (`spec.versions[].schema.openAPIV3Schema`), with no I/O.
//!
//! ```text
//!  CRD create/update ─► structural::validate_structural ─► 422 causes
//!  object write ─► prune::prune (unknown field paths) ─► default::apply_defaults
//!               ─► validate::validate (422 causes, upstream texts)
//! ```

pub mod cel;
pub mod cel_check;
pub mod default;
pub mod prune;
pub mod structural;
pub mod validate;

use serde_json::{Map, Value};

pub use default::apply_defaults;
pub use prune::prune;
pub use structural::validate_structural;
pub use validate::validate;

/// The fields of `ObjectMeta` a custom object's `metadata` keeps.
pub const OBJECT_META_FIELDS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// The fields of a resource root (or an embedded resource) that its schema
/// need not declare.
pub(crate) const META_FIELDS: &[&str] = &["apiVersion", "kind", "metadata"];

/// The schema's `type` ("" when absent).
pub(crate) fn type_of(schema: &Value) -> &str {
    schema.get("type").and_then(Value::as_str).unwrap_or("")
}

/// A boolean keyword (`nullable`, `x-kubernetes-*`), false when absent.
pub(crate) fn flag(schema: &Value, key: &str) -> bool {
    schema.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// `properties`, when the schema has any.
pub(crate) fn properties(schema: &Value) -> Option<&Map<String, Value>> {
    schema.get("properties").and_then(Value::as_object)
}

/// `items` as one schema.
pub(crate) fn items(schema: &Value) -> Option<&Value> {
    schema.get("items").filter(|i| i.is_object())
}

/// What `additionalProperties` says.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Additional<'a> {
    /// Not given.
    Absent,
    /// `true` or `false`.
    Bool(bool),
    /// A schema for every other key.
    Schema(&'a Value),
}

/// The schema's `additionalProperties`.
pub(crate) fn additional(schema: &Value) -> Additional<'_> {
    match schema.get("additionalProperties") {
        Some(Value::Bool(b)) => Additional::Bool(*b),
        Some(s @ Value::Object(_)) => Additional::Schema(s),
        _ => Additional::Absent,
    }
}

/// A field path joined as upstream's validators print it (`spec.a`, `spec.a[0]`).
pub(crate) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() { key.to_owned() } else { format!("{parent}.{key}") }
}

/// The JSON type name of a value as kube-openapi infers it from decoded
/// JSON: integers `integer`, other numbers `number`.
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Go's `%v` of a float64 (shortest form; exponent from 1e21 and below 1e-4).
pub(crate) fn go_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-4..1e21).contains(&abs) {
        let text = format!("{f:e}");
        match text.split_once('e') {
            Some((mantissa, exp)) => {
                let (sign, digits) = exp.strip_prefix('-').map_or(("+", exp), |d| ("-", d));
                format!("{mantissa}e{sign}{digits:0>2}")
            }
            None => text,
        }
    } else {
        format!("{f}")
    }
}

/// A number as Go prints a decoded JSON number (`%v` of int64 or float64).
pub(crate) fn go_number(value: &Value) -> String {
    match value {
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (None, Some(u), _) => u.to_string(),
            (None, None, Some(f)) => go_float(f),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn helpers() {
        assert_eq!(join("", "spec"), "spec");
        assert_eq!(join("spec", "a"), "spec.a");
        assert_eq!(json_type(&json!(1)), "integer");
        assert_eq!(json_type(&json!(1.5)), "number");
        assert_eq!(json_type(&json!("x")), "string");
        assert_eq!(go_number(&json!(10.0)), "10");
        assert_eq!(go_number(&json!(1.5)), "1.5");
        assert_eq!(go_float(1e21), "1e+21");
        assert!(matches!(additional(&json!({"additionalProperties": false})), Additional::Bool(false)));
        assert!(matches!(additional(&json!({"additionalProperties": {}})), Additional::Schema(_)));
        assert_eq!(type_of(&json!({})), "");
        assert!(flag(&json!({"nullable": true}), "nullable"));
    }
}
