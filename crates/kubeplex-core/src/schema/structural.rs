//! Structural-schema checks of a CRD version's `openAPIV3Schema`, the main
//! rules of upstream's `ValidateStructural` and of
//! `ValidateCustomResourceDefinitionOpenAPISchema`, with their texts: every
//! field has a `type` (unless `x-kubernetes-int-or-string` or
//! `x-kubernetes-preserve-unknown-fields`), arrays have `items`, the root is
//! an object without `additionalProperties`, `metadata` may restrict only
//! `name` and `generateName`, `anyOf`/`allOf`/`oneOf`/`not` carry value
//! validations only, `properties` and `additionalProperties` exclude each
//! other, `uniqueItems` and a root `nullable` are forbidden.

use regex::Regex;
use serde_json::Value;

use super::{Additional, additional, flag, items, properties, type_of};
use crate::names::FieldError;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Root,
    Item,
    Field,
}

/// The errors of `schema` (a version's `openAPIV3Schema`) at `path` (e.g.
/// `spec.versions[0].schema.openAPIV3Schema`): the structural ones sorted
/// by text, as upstream sorts them, then the OpenAPI rules'.
pub fn validate_structural(schema: &Value, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    invariants(schema, Level::Root, path, &mut errs);
    errs.sort_by_key(ToString::to_string);
    if flag(schema, "nullable") {
        errs.push(FieldError::forbidden(format!("{path}.nullable"), "nullable cannot be true at the root"));
    }
    openapi(schema, path, &mut errs);
    errs
}

fn invariants(s: &Value, level: Level, path: &str, errs: &mut Vec<FieldError>) {
    let ty = type_of(s);
    if ty == "array" && items(s).is_none() {
        errs.push(FieldError::required(format!("{path}.items"), "must be specified"));
    }
    if let Some(item) = items(s) {
        invariants(item, Level::Item, &format!("{path}.items"), errs);
    }
    if let Some(props) = properties(s) {
        for (k, v) in props {
            invariants(v, Level::Field, &format!("{path}.properties[{k}]"), errs);
        }
    }
    if !matches!(additional(s), Additional::Absent) && level == Level::Root {
        errs.push(FieldError::forbidden(format!("{path}.additionalProperties"), "must not be used at the root"));
    }
    if let Additional::Schema(extra) = additional(s) {
        invariants(extra, Level::Field, &format!("{path}.additionalProperties"), errs);
    }
    let int_or_string = flag(s, "x-kubernetes-int-or-string");
    let preserve = flag(s, "x-kubernetes-preserve-unknown-fields");
    let embedded = flag(s, "x-kubernetes-embedded-resource");
    if int_or_string && preserve {
        errs.push(FieldError::invalid_rendered(
            format!("{path}.x-kubernetes-preserve-unknown-fields"),
            "true",
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
    if int_or_string && embedded {
        errs.push(FieldError::invalid_rendered(
            format!("{path}.x-kubernetes-embedded-resource"),
            "true",
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
    let int_or_string_any_of = is_int_or_string_any_of(s);
    if !int_or_string_any_of && let Some(list) = s.get("anyOf").and_then(Value::as_array) {
        for (i, v) in list.iter().enumerate() {
            nested(v, &format!("{path}.anyOf[{i}]"), errs);
        }
    }
    for (i, v) in s.get("allOf").and_then(Value::as_array).into_iter().flatten().enumerate() {
        if i == 0 && int_or_string && is_int_or_string_any_of(v) {
            nested_skip_any_of(v, &format!("{path}.allOf[{i}]"), errs);
        } else {
            nested(v, &format!("{path}.allOf[{i}]"), errs);
        }
    }
    for (i, v) in s.get("oneOf").and_then(Value::as_array).into_iter().flatten().enumerate() {
        nested(v, &format!("{path}.oneOf[{i}]"), errs);
    }
    if let Some(not) = s.get("not") {
        nested(not, &format!("{path}.not"), errs);
    }
    if let Some(pattern) = s.get("pattern").and_then(Value::as_str)
        && let Err(e) = Regex::new(pattern)
    {
        errs.push(FieldError::invalid(
            format!("{path}.pattern"),
            pattern,
            &format!("must be a valid regular expression, but isn't: {e}"),
        ));
    }
    if embedded && ty != "object" {
        if ty.is_empty() {
            errs.push(FieldError::required(
                format!("{path}.type"),
                "must be object if x-kubernetes-embedded-resource is true",
            ));
        } else {
            errs.push(FieldError::invalid(
                format!("{path}.type"),
                ty,
                "must be object if x-kubernetes-embedded-resource is true",
            ));
        }
    } else if ty.is_empty() && !int_or_string && !preserve {
        let detail = match level {
            Level::Root => "must not be empty at the root",
            Level::Item => "must not be empty for specified array items",
            Level::Field => "must not be empty for specified object fields",
        };
        errs.push(FieldError::required(format!("{path}.type"), detail));
    }
    if embedded && !matches!(additional(s), Additional::Absent) {
        errs.push(FieldError::forbidden(
            format!("{path}.additionalProperties"),
            "must not be used if x-kubernetes-embedded-resource is set",
        ));
    }
    if level == Level::Root && !ty.is_empty() && ty != "object" {
        errs.push(FieldError::invalid(format!("{path}.type"), ty, "must be object at the root"));
    }
    let check_metadata = level == Level::Root || embedded;
    let props = properties(s);
    for key in ["kind", "apiVersion"] {
        if let Some(p) = props.and_then(|p| p.get(key))
            && check_metadata
            && type_of(p) != "string"
        {
            errs.push(FieldError::invalid(format!("{path}.properties[{key}].type"), type_of(p), "must be string"));
        }
    }
    if let Some(meta) = props.and_then(|p| p.get("metadata")) {
        let mpath = format!("{path}.properties[metadata]");
        if check_metadata && type_of(meta) != "object" {
            errs.push(FieldError::invalid(format!("{mpath}.type"), type_of(meta), "must be object"));
        }
        if level == Level::Root && !metadata_is_plain(meta) {
            errs.push(FieldError::forbidden(
                mpath,
                "must not specify anything other than name and generateName, but metadata is implicitly specified",
            ));
        }
    }
    if embedded && !preserve && props.is_none_or(|p| p.is_empty()) {
        errs.push(FieldError::required(
            format!("{path}.properties"),
            "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
        ));
    }
}

/// The root's `metadata` schema says nothing but `type`, `default` and the
/// schemas of `name` and `generateName`.
fn metadata_is_plain(meta: &Value) -> bool {
    let Some(map) = meta.as_object() else { return true };
    map.iter().all(|(k, v)| match k.as_str() {
        "type" | "default" => true,
        "properties" => v.as_object().is_some_and(|p| p.keys().all(|k| k == "name" || k == "generateName")),
        _ => false,
    })
}

/// `anyOf: [{type: integer}, {type: string}]`, the int-or-string exception.
fn is_int_or_string_any_of(s: &Value) -> bool {
    let Some(list) = s.get("anyOf").and_then(Value::as_array) else { return false };
    list.len() == 2
        && list[0].as_object().is_some_and(|m| m.len() == 1)
        && list[1].as_object().is_some_and(|m| m.len() == 1)
        && type_of(&list[0]) == "integer"
        && type_of(&list[1]) == "string"
}

fn nested_skip_any_of(v: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let mut copy = v.clone();
    if let Some(map) = copy.as_object_mut() {
        map.remove("anyOf");
    }
    nested(&copy, path, errs);
}

/// `validateNestedValueValidation`: inside the logical junctors only value
/// validations are allowed.
fn nested(v: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let forbidden: &[(&str, &str)] = &[
        ("type", "must be empty to be structural"),
        ("additionalProperties", "must be undefined to be structural"),
        ("default", "must be undefined to be structural"),
        ("title", "must be empty to be structural"),
        ("description", "must be empty to be structural"),
        ("nullable", "must be false to be structural"),
        ("x-kubernetes-preserve-unknown-fields", "must be false to be structural"),
        ("x-kubernetes-embedded-resource", "must be false to be structural"),
        ("x-kubernetes-int-or-string", "must be false to be structural"),
        ("x-kubernetes-list-map-keys", "must be empty to be structural"),
        ("x-kubernetes-list-type", "must be undefined to be structural"),
        ("x-kubernetes-map-type", "must be undefined to be structural"),
        ("x-kubernetes-validations", "must be empty to be structural"),
    ];
    for (key, detail) in forbidden {
        let set = match v.get(*key) {
            None | Some(Value::Null) | Some(Value::Bool(false)) => false,
            Some(Value::String(s)) => !s.is_empty(),
            Some(Value::Array(a)) => !a.is_empty(),
            Some(_) => true,
        };
        if set {
            errs.push(FieldError::forbidden(format!("{path}.{key}"), detail));
        }
    }
    if properties(v).is_some_and(|p| p.contains_key("metadata")) {
        errs.push(FieldError::forbidden(
            format!("{path}.properties[metadata]"),
            "must not be specified in a nested context",
        ));
    }
    for key in ["anyOf", "allOf", "oneOf"] {
        for (i, inner) in v.get(key).and_then(Value::as_array).into_iter().flatten().enumerate() {
            nested(inner, &format!("{path}.{key}[{i}]"), errs);
        }
    }
    if let Some(props) = properties(v) {
        for (k, inner) in props {
            nested(inner, &format!("{path}.properties[{k}]"), errs);
        }
    }
    if let Some(item) = items(v) {
        nested(item, &format!("{path}.items"), errs);
    }
    if let Some(not) = v.get("not") {
        nested(not, &format!("{path}.not"), errs);
    }
}

/// The rules of `ValidateCustomResourceDefinitionOpenAPISchema` checked here.
fn openapi(s: &Value, path: &str, errs: &mut Vec<FieldError>) {
    if flag(s, "uniqueItems") {
        errs.push(FieldError::forbidden(
            format!("{path}.uniqueItems"),
            "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
        ));
    }
    let has_props = properties(s).is_some_and(|p| !p.is_empty());
    match additional(s) {
        Additional::Bool(false) | Additional::Schema(_) if has_props => errs.push(FieldError::forbidden(
            format!("{path}.additionalProperties"),
            "additionalProperties and properties are mutual exclusive",
        )),
        _ => {}
    }
    if s.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(false)) {
        errs.push(FieldError::invalid_rendered(
            format!("{path}.x-kubernetes-preserve-unknown-fields"),
            "false",
            "must be true or undefined",
        ));
    }
    if let Some(list_type) = s.get("x-kubernetes-list-type").and_then(Value::as_str) {
        if type_of(s) != "array" {
            if type_of(s).is_empty() {
                errs.push(FieldError::required(
                    format!("{path}.type"),
                    "must be array if x-kubernetes-list-type is specified",
                ));
            } else {
                errs.push(FieldError::invalid(
                    format!("{path}.type"),
                    type_of(s),
                    "must be array if x-kubernetes-list-type is specified",
                ));
            }
        }
        if !["atomic", "set", "map"].contains(&list_type) {
            errs.push(FieldError::not_supported(
                format!("{path}.x-kubernetes-list-type"),
                list_type,
                &["atomic", "set", "map"],
            ));
        }
    }
    if let Some(props) = properties(s) {
        for (k, v) in props {
            openapi(v, &format!("{path}.properties[{k}]"), errs);
        }
    }
    if let Additional::Schema(extra) = additional(s) {
        openapi(extra, &format!("{path}.additionalProperties"), errs);
    }
    if let Some(item) = items(s) {
        openapi(item, &format!("{path}.items"), errs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(schema: Value) -> Vec<String> {
        validate_structural(&schema, "spec.versions[0].schema.openAPIV3Schema")
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn structural_schemas_pass() {
        assert!(
            messages(json!({"type": "object", "properties": {
                "metadata": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 10}}},
                "spec": {"type": "object", "properties": {
                    "port": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
                    "free": {"x-kubernetes-preserve-unknown-fields": true},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "list": {"type": "array", "items": {"type": "string"}},
                    "choice": {"type": "string", "anyOf": [{"enum": ["a"]}, {"pattern": "^b"}]}
                }}
            }}))
            .is_empty()
        );
    }

    #[test]
    fn non_structural_schemas_fail_with_upstream_texts() {
        let p = "spec.versions[0].schema.openAPIV3Schema";
        let errs = messages(json!({"type": "object", "properties": {
            "metadata": {"type": "object", "properties": {"labels": {"type": "object"}}},
            "spec": {"properties": {
                "list": {"type": "array"},
                "both": {"type": "object", "properties": {"a": {"type": "string"}},
                         "additionalProperties": {"type": "string"}},
                "nested": {"type": "string", "anyOf": [{"type": "string"}]},
                "keep": {"type": "object", "x-kubernetes-preserve-unknown-fields": false}
            }}
        }}));
        for e in [
            format!("{p}.properties[spec].type: Required value: must not be empty for specified object fields"),
            format!("{p}.properties[spec].properties[list].items: Required value: must be specified"),
            format!(
                "{p}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, \
                 but metadata is implicitly specified"
            ),
            format!("{p}.properties[spec].properties[nested].anyOf[0].type: Forbidden: must be empty to be structural"),
            format!(
                "{p}.properties[spec].properties[both].additionalProperties: Forbidden: additionalProperties and \
                 properties are mutual exclusive"
            ),
            format!(
                "{p}.properties[spec].properties[keep].x-kubernetes-preserve-unknown-fields: Invalid value: false: \
                 must be true or undefined"
            ),
        ] {
            assert!(errs.contains(&e), "missing {e}: {errs:?}");
        }
        let errs = messages(json!({"type": "string", "additionalProperties": {"type": "string"}}));
        assert!(
            errs.contains(&format!(r#"{p}.type: Invalid value: "string": must be object at the root"#)),
            "{errs:?}"
        );
        assert!(errs.contains(&format!("{p}.additionalProperties: Forbidden: must not be used at the root")));
        let errs = messages(json!({}));
        assert_eq!(errs, vec![format!("{p}.type: Required value: must not be empty at the root")]);
        let errs = messages(json!({"type": "object", "properties": {"e": {"x-kubernetes-embedded-resource": true}}}));
        assert!(errs.contains(&format!(
            "{p}.properties[e].type: Required value: must be object if x-kubernetes-embedded-resource is true"
        )));
        assert!(errs.iter().any(|e| e.contains("must not be empty if x-kubernetes-embedded-resource is true")));
        let errs = messages(json!({"type": "object", "properties": {"u": {"type": "array", "uniqueItems": true,
                                                                          "items": {"type": "string"}}}}));
        assert!(
            errs.iter().any(
                |e| e.ends_with("uniqueItems cannot be set to true since the runtime complexity becomes quadratic")
            )
        );
    }
}
