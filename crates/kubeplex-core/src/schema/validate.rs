//! Validation of custom objects against their version's schema, with the
//! messages of kube-openapi's validators as apiextensions-apiserver turns
//! them into field errors: `spec.replicas: Invalid value: "string":
//! spec.replicas in body must be of type integer: "string"`, `Required
//! value`, `Unsupported value`, `Too long`, `Too many`, and the embedded
//! resource checks (`apiVersion` and `kind` required).

use regex::Regex;
use serde_json::Value;

use super::{Additional, additional, flag, go_number, items, join, json_type, properties, type_of};
use crate::names::{FieldError, go_quote};

/// The errors of `object` (a resource root) against `schema`: those of
/// embedded resources first (as upstream's `objectmeta.Validate`), then the
/// schema's.
pub fn validate(object: &Value, schema: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    embedded(object, schema, "", &mut errs);
    node(object, schema, "", &mut errs);
    errs
}

/// The path of an error: upstream's `fldPath.Child(name)`, `<nil>` at the root.
fn field(path: &str) -> String {
    if path.is_empty() { "<nil>".to_owned() } else { path.to_owned() }
}

/// `field.Invalid` whose value is Go-rendered (strings quoted, numbers plain).
fn invalid(path: &str, value: &Value, detail: &str) -> FieldError {
    let rendered = match value {
        Value::String(s) => go_quote(s),
        Value::Number(_) => go_number(value),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_owned(),
        other => other.to_string(),
    };
    FieldError::invalid_rendered(field(path), &rendered, detail)
}

fn type_error(path: &str, expected: &str, actual: &str) -> FieldError {
    FieldError::invalid(
        field(path),
        actual,
        &format!("{path} in body must be of type {expected}: {}", go_quote(actual)),
    )
}

fn node(value: &Value, schema: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let ty = type_of(schema);
    let actual = json_type(value);
    if value.is_null() {
        if !ty.is_empty() && !flag(schema, "nullable") {
            errs.push(type_error(path, ty, "null"));
        }
        return;
    }
    if flag(schema, "x-kubernetes-int-or-string") && ty.is_empty() {
        if !matches!(actual, "integer" | "string") {
            errs.push(type_error(path, "integer,string", actual));
            return;
        }
    } else if !ty.is_empty() {
        let float_int = ty == "integer" && value.as_f64().is_some_and(|f| f.fract() == 0.0) && actual == "number";
        let int_number = ty == "number" && actual == "integer";
        if ty != actual && !float_int && !int_number {
            errs.push(type_error(path, ty, actual));
            return;
        }
    }
    match value {
        Value::String(s) => string(s, schema, path, errs),
        Value::Number(_) => number(value, schema, path, errs),
        _ => {}
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        let supported: Vec<String> =
            options.iter().map(|o| go_quote(&o.as_str().map(str::to_owned).unwrap_or_else(|| o.to_string()))).collect();
        let shown = match value {
            Value::String(s) => go_quote(s),
            other => invalid("", other, "").body.trim_start_matches("Invalid value: ").to_owned(),
        };
        errs.push(FieldError {
            reason: "FieldValueNotSupported",
            field: field(path),
            body: format!("Unsupported value: {shown}: supported values: {}", supported.join(", ")),
        });
    }
    match value {
        Value::Object(map) => {
            let props = properties(schema);
            if let Additional::Schema(extra) = additional(schema) {
                for (k, v) in map {
                    if props.is_none_or(|p| !p.contains_key(k)) {
                        node(v, extra, &join(path, k), errs);
                    }
                }
            }
            if let Some(props) = props {
                for (k, prop) in props {
                    if let Some(v) = map.get(k) {
                        node(v, prop, &join(path, k), errs);
                    }
                }
            }
            for k in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
                if !map.contains_key(k) {
                    errs.push(FieldError::required(join(path, k), ""));
                }
            }
        }
        Value::Array(list) => {
            if let Some(inner) = items(schema) {
                for (i, v) in list.iter().enumerate() {
                    node(v, inner, &format!("{path}[{i}]"), errs);
                }
            }
            let size = list.len() as u64;
            if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
                && size < min
            {
                errs.push(invalid(
                    path,
                    &Value::from(size),
                    &format!("{path} in body should have at least {min} items"),
                ));
            }
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
                && size > max
            {
                let noun = if max == 1 { "item" } else { "items" };
                errs.push(FieldError {
                    reason: "FieldValueTooMany",
                    field: field(path),
                    body: format!("Too many: {size}: must have at most {max} {noun}"),
                });
            }
            if flag(schema, "uniqueItems") && list.iter().enumerate().any(|(i, a)| list[..i].contains(a)) {
                errs.push(FieldError::invalid(
                    field(path),
                    "",
                    &format!("{path} in body shouldn't contain duplicates"),
                ));
            }
        }
        _ => {}
    }
}

fn string(s: &str, schema: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let chars = s.chars().count() as u64;
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
        && chars > max
    {
        errs.push(FieldError::too_long(field(path), usize::try_from(max).unwrap_or(usize::MAX)));
    }
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
        && chars < min
    {
        errs.push(FieldError::invalid(field(path), s, &format!("{path} in body should be at least {min} chars long")));
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
        && let Ok(re) = Regex::new(pattern)
        && !re.is_match(s)
    {
        errs.push(FieldError::invalid(field(path), s, &format!("{path} in body should match '{pattern}'")));
    }
    if let Some(format) = schema.get("format").and_then(Value::as_str)
        && !format_ok(format, s)
    {
        errs.push(FieldError::invalid(
            field(path),
            s,
            &format!("{path} in body must be of type {format}: {}", go_quote(s)),
        ));
    }
}

fn number(value: &Value, schema: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let Some(x) = value.as_f64() else { return };
    if let Some(m) = schema.get("multipleOf").and_then(Value::as_f64)
        && m > 0.0
        && (x / m).fract() != 0.0
    {
        errs.push(invalid(
            path,
            value,
            &format!("{path} in body should be a multiple of {}", go_number(&schema["multipleOf"])),
        ));
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
        let exclusive = flag(schema, "exclusiveMaximum");
        if x > max || (exclusive && x == max) {
            let shown = go_number(&schema["maximum"]);
            let detail = if exclusive {
                format!("{path} in body should be less than {shown}")
            } else {
                format!("{path} in body should be less than or equal to {shown}")
            };
            errs.push(invalid(path, value, &detail));
        }
    }
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
        let exclusive = flag(schema, "exclusiveMinimum");
        if x < min || (exclusive && x == min) {
            let shown = go_number(&schema["minimum"]);
            let detail = if exclusive {
                format!("{path} in body should be greater than {shown}")
            } else {
                format!("{path} in body should be greater than or equal to {shown}")
            };
            errs.push(invalid(path, value, &detail));
        }
    }
}

/// Whether a string is valid in one of the formats upstream supports
/// (formats it does not know pass).
fn format_ok(format: &str, s: &str) -> bool {
    let re = |pattern: &str| Regex::new(pattern).is_ok_and(|r| r.is_match(s));
    match format.replace('-', "").as_str() {
        "byte" => base64_ok(s),
        "date" => re(r"^\d{4}-\d{2}-\d{2}$"),
        "datetime" => re(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}(:?\d{2})?)?$"),
        "uuid" => re(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$"),
        "ipv4" => s.parse::<std::net::Ipv4Addr>().is_ok(),
        "ipv6" => s.parse::<std::net::Ipv6Addr>().is_ok(),
        "cidr" => s.split_once('/').is_some_and(|(ip, bits)| {
            let max = if ip.parse::<std::net::Ipv4Addr>().is_ok() {
                32
            } else if ip.parse::<std::net::Ipv6Addr>().is_ok() {
                128
            } else {
                return false;
            };
            bits.parse::<u8>().is_ok_and(|b| b <= max)
        }),
        "mac" => re(r"^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$"),
        "hostname" => {
            s.len() <= 255
                && re(
                    r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$",
                )
        }
        "email" => re(r"^[^@\s]+@[^@\s]+$"),
        "duration" => re(r"^(\d+(\.\d+)?\s*(ns|us|µs|ms|s|m|h|d|w)\s*)+$"),
        _ => true,
    }
}

/// Standard base64 (padding required), as Go's `base64.StdEncoding`.
fn base64_ok(s: &str) -> bool {
    let bytes = s.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return false;
    }
    let pad = bytes.iter().rev().take_while(|&&b| b == b'=').count();
    pad <= 2 && bytes[..bytes.len() - pad].iter().all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
}

/// `objectmeta.Validate` below the root: embedded resources need a string
/// `apiVersion` and `kind`.
fn embedded(value: &Value, schema: &Value, path: &str, errs: &mut Vec<FieldError>) {
    match value {
        Value::Object(map) => {
            if !path.is_empty() && flag(schema, "x-kubernetes-embedded-resource") {
                for key in ["apiVersion", "kind"] {
                    match map.get(key) {
                        None => errs.push(FieldError::required(join(path, key), "")),
                        Some(Value::String(s)) if s.is_empty() => {
                            errs.push(FieldError::invalid(join(path, key), s, "must not be empty"))
                        }
                        Some(Value::String(_)) => {}
                        Some(other) => errs.push(invalid(&join(path, key), other, "must be a string")),
                    }
                }
            }
            let props = properties(schema);
            let extra = additional(schema);
            for (k, v) in map {
                if path.is_empty() && super::META_FIELDS.contains(&k.as_str()) {
                    continue;
                }
                match (props.and_then(|p| p.get(k)), extra) {
                    (Some(p), _) => embedded(v, p, &join(path, k), errs),
                    (None, Additional::Schema(a)) => embedded(v, a, &join(path, k), errs),
                    _ => {}
                }
            }
        }
        Value::Array(list) => {
            if let Some(inner) = items(schema) {
                for (i, v) in list.iter().enumerate() {
                    embedded(v, inner, &format!("{path}[{i}]"), errs);
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

    fn schema() -> Value {
        json!({"type": "object", "properties": {"spec": {"type": "object", "required": ["cronSpec"], "properties": {
            "cronSpec": {"type": "string", "pattern": "^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$"},
            "replicas": {"type": "integer", "minimum": 1, "maximum": 10},
            "ratio": {"type": "number", "exclusiveMaximum": true, "maximum": 1.5},
            "mode": {"type": "string", "enum": ["a", "b"]},
            "name": {"type": "string", "minLength": 2, "maxLength": 5},
            "when": {"type": "string", "format": "date-time"},
            "data": {"type": "string", "format": "byte"},
            "port": {"x-kubernetes-int-or-string": true},
            "tags": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "string"}},
            "opt": {"type": "string", "nullable": true},
            "inner": {"type": "object", "x-kubernetes-embedded-resource": true,
                      "x-kubernetes-preserve-unknown-fields": true}
        }}}})
    }

    fn messages(object: Value) -> Vec<String> {
        validate(&object, &schema()).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn valid_objects_pass() {
        let object = json!({"apiVersion": "a/v1", "kind": "K", "metadata": {"name": "x"}, "spec": {
            "cronSpec": "* * * * */5", "replicas": 3, "ratio": 1, "mode": "a", "name": "abc",
            "when": "2024-01-02T03:04:05Z", "data": "aGk=", "port": "http", "tags": ["x"], "opt": null,
            "inner": {"apiVersion": "v1", "kind": "Pod"}
        }});
        assert!(messages(object).is_empty());
        assert!(messages(json!({"spec": {"cronSpec": "* * * * *", "replicas": 2.0, "port": 80}})).is_empty());
    }

    #[test]
    fn upstream_messages() {
        let errs = messages(json!({"spec": {
            "replicas": "string", "ratio": 1.5, "mode": "c", "name": "toolongname", "when": "yesterday",
            "data": "!!", "port": true, "tags": ["a", "b", "c"], "inner": {"kind": 3}
        }}));
        let expected = [
            "spec.inner.apiVersion: Required value",
            "spec.inner.kind: Invalid value: 3: must be a string",
            r#"spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string""#,
            "spec.ratio: Invalid value: 1.5: spec.ratio in body should be less than 1.5",
            r#"spec.mode: Unsupported value: "c": supported values: "a", "b""#,
            "spec.name: Too long: may not be more than 5 bytes",
            r#"spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday""#,
            r#"spec.data: Invalid value: "!!": spec.data in body must be of type byte: "!!""#,
            r#"spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean""#,
            "spec.tags: Too many: 3: must have at most 2 items",
            "spec.cronSpec: Required value",
        ];
        for e in expected {
            assert!(errs.contains(&e.to_owned()), "missing {e}: {errs:?}");
        }
        let errs = messages(json!({"spec": {"cronSpec": "bad", "replicas": 0, "name": "a", "tags": []}}));
        for e in [
            r#"spec.cronSpec: Invalid value: "bad": spec.cronSpec in body should match '^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$'"#,
            "spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1",
            r#"spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long"#,
            "spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items",
        ] {
            assert!(errs.contains(&e.to_owned()), "missing {e}: {errs:?}");
        }
        let errs = messages(json!({"spec": {"cronSpec": "* * * * *", "replicas": 11, "mode": null}}));
        assert!(errs.contains(
            &"spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10".to_owned()
        ));
        assert!(errs.contains(
            &r#"spec.mode: Invalid value: "null": spec.mode in body must be of type string: "null""#.to_owned()
        ));
    }

    #[test]
    fn unique_items_and_formats() {
        let schema = json!({"type": "array", "uniqueItems": true, "items": {"type": "integer"}});
        let errs: Vec<String> = validate(&json!([1, 2, 1]), &schema).iter().map(ToString::to_string).collect();
        assert_eq!(errs, vec![r#"<nil>: Invalid value: "":  in body shouldn't contain duplicates"#]);
        assert!(format_ok("uuid", "123e4567-e89b-12d3-a456-426614174000"));
        assert!(format_ok("ipv4", "10.0.0.1") && !format_ok("ipv4", "10.0.0"));
        assert!(format_ok("cidr", "10.0.0.0/8") && !format_ok("cidr", "10.0.0.0/40"));
        assert!(format_ok("date", "2024-01-02") && !format_ok("date", "2024-1-2"));
        assert!(format_ok("int32", "anything"));
    }
}
