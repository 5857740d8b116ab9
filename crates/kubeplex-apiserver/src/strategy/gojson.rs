//! Go's `encoding/json` view of API objects, driven by the API facts table:
//!
//! - [`fill_zero_values`]: the fields Go always serializes (no `omitempty`,
//!   or struct-typed) get their zero values when a client left them out, so a
//!   stored object reads back as kube-apiserver returns it (`rules: null` on an
//!   empty Role, `podSelector: {}` on a NetworkPolicy, `status.attached: false`
//!   on a VolumeAttachment); `null` members of `omitempty` pointers, lists and
//!   maps are dropped, as decoding into the typed object does.
//! - [`internal_json`]: an object as `json.Marshal` renders the *internal*
//!   Go type (no JSON tags: Go field names, every field present), the form
//!   upstream validation errors show for struct values
//!   (`roleRef: Invalid value: {"APIGroup":…,"Kind":…,"Name":…}`).
//!
//! ```text
//!  served JSON ─► TypeFacts (json_fields, omitempty, pointer, type) ─► zero-filled JSON
//!             └─► TypeFacts (fields, Go names)                     ─► internal rendering
//! ```
//! `ObjectMeta` is left alone (the generic metadata layer owns it), and the
//! `meta/v1` types, which have JSON tags even in internal types, render as
//! JSON.

use kubeplex_api_facts::{ApiFacts, FieldFacts, Primitive, SpecialType, TypeFacts, TypeRef};
use serde_json::{Map, Value, json};

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// Fills the zero values Go serializes for the type named `type_name` (an
/// OpenAPI definition name such as `io.k8s.api.rbac.v1.Role`), at any depth.
pub(crate) fn fill_zero_values(value: &mut Value, type_name: &str) {
    let facts = kubeplex_api_facts::facts();
    if let Some(ty) = facts.type_by_name(type_name) {
        fill(value, ty, facts);
    }
}

fn fill(value: &mut Value, ty: &TypeFacts, facts: &ApiFacts) {
    let Some(map) = value.as_object_mut() else { return };
    for field in ty.json_fields() {
        let Some(key) = field.json.as_deref() else { continue };
        if field.ty.struct_name() == Some(OBJECT_META) {
            continue;
        }
        match map.get_mut(key) {
            Some(v) if !v.is_null() => descend(v, &field.ty, facts),
            _ => match zero_value(field) {
                Some(mut zero) => {
                    descend(&mut zero, &field.ty, facts);
                    map.insert(key.to_owned(), zero);
                }
                None => {
                    map.remove(key);
                }
            },
        }
    }
}

fn descend(value: &mut Value, ty: &TypeRef, facts: &ApiFacts) {
    match ty.resolved() {
        TypeRef::Named(name) if name != OBJECT_META => {
            if let Some(ty) = facts.type_by_name(name) {
                fill(value, ty, facts);
            }
        }
        TypeRef::List(elem) => {
            if let Some(items) = value.as_array_mut() {
                for item in items {
                    descend(item, elem, facts);
                }
            }
        }
        TypeRef::Map { value: elem, .. } => {
            if let Some(map) = value.as_object_mut() {
                for item in map.values_mut() {
                    descend(item, elem, facts);
                }
            }
        }
        _ => {}
    }
}

/// What Go writes for an absent `field` (`None`: nothing, it is omitted).
fn zero_value(field: &FieldFacts) -> Option<Value> {
    if field.pointer {
        return if field.omitempty { None } else { Some(Value::Null) };
    }
    match field.ty.resolved() {
        // `omitempty` never applies to structs.
        TypeRef::Named(_) => Some(json!({})),
        TypeRef::Special { kind, .. } => match kind {
            SpecialType::Time | SpecialType::MicroTime | SpecialType::RawExtension => Some(Value::Null),
            SpecialType::Quantity => Some(json!("0")),
            SpecialType::IntOrString => Some(json!(0)),
            SpecialType::Duration => Some(json!("0s")),
            _ if field.omitempty => None,
            _ => Some(Value::Null),
        },
        _ if field.omitempty => None,
        TypeRef::Primitive(p) => Some(primitive_zero(*p)),
        _ => Some(Value::Null),
    }
}

fn primitive_zero(p: Primitive) -> Value {
    match p {
        Primitive::String => json!(""),
        Primitive::Bool => json!(false),
        _ => json!(0),
    }
}

/// The internal-type rendering of `value` (of the type named `type_name`),
/// as a JSON value in Go field order; render it with `field::render_ordered`.
pub(crate) fn internal_json(value: Option<&Value>, type_name: &str) -> Value {
    let facts = kubeplex_api_facts::facts();
    internal(value, &TypeRef::Named(type_name.to_owned()), false, facts)
}

fn internal(value: Option<&Value>, ty: &TypeRef, pointer: bool, facts: &ApiFacts) -> Value {
    let value = value.filter(|v| !v.is_null());
    match ty.resolved() {
        TypeRef::Named(name) => {
            if value.is_none() && pointer {
                return Value::Null;
            }
            let Some(facts_ty) = facts.type_by_name(name) else { return value.cloned().unwrap_or(json!({})) };
            if name.starts_with("io.k8s.apimachinery.") {
                // meta/v1 types keep their JSON tags.
                return tagged(value.unwrap_or(&json!({})), facts_ty, facts);
            }
            let empty = Map::new();
            let object = value.and_then(Value::as_object).unwrap_or(&empty);
            let mut out = Map::new();
            for field in facts_ty.fields() {
                let Some(json_name) = field.json.as_deref() else { continue };
                let rendered = internal(object.get(json_name), &field.ty, field.pointer, facts);
                out.insert(field.go.clone(), rendered);
            }
            Value::Object(out)
        }
        TypeRef::Special { .. } => value.cloned().unwrap_or_else(|| special_zero(ty)),
        TypeRef::Primitive(p) => match value {
            Some(v) => v.clone(),
            None if pointer => Value::Null,
            None => primitive_zero(*p),
        },
        TypeRef::List(elem) => match value.and_then(Value::as_array) {
            Some(items) => Value::Array(items.iter().map(|item| internal(Some(item), elem, false, facts)).collect()),
            None => Value::Null,
        },
        TypeRef::Map { value: elem, .. } => match value.and_then(Value::as_object) {
            Some(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let mut out = Map::new();
                for key in keys {
                    out.insert(key.clone(), internal(map.get(key), elem, false, facts));
                }
                Value::Object(out)
            }
            None => Value::Null,
        },
        _ => value.cloned().unwrap_or(Value::Null),
    }
}

/// A value of a type with JSON tags as `json.Marshal` writes it: fields in Go
/// order, zero values where Go writes them, map keys sorted.
fn tagged(value: &Value, ty: &TypeFacts, facts: &ApiFacts) -> Value {
    let Some(object) = value.as_object() else { return value.clone() };
    let mut out = Map::new();
    for field in ty.json_fields() {
        let Some(key) = field.json.as_deref() else { continue };
        match object.get(key).filter(|v| !v.is_null()) {
            Some(v) => {
                out.insert(key.to_owned(), tagged_value(v, &field.ty, facts));
            }
            None => {
                if let Some(zero) = zero_value(field) {
                    out.insert(key.to_owned(), zero);
                }
            }
        }
    }
    Value::Object(out)
}

fn tagged_value(value: &Value, ty: &TypeRef, facts: &ApiFacts) -> Value {
    match (ty.resolved(), value) {
        (TypeRef::Named(name), _) => match facts.type_by_name(name) {
            Some(facts_ty) => tagged(value, facts_ty, facts),
            None => value.clone(),
        },
        (TypeRef::List(elem), Value::Array(items)) => {
            Value::Array(items.iter().map(|item| tagged_value(item, elem, facts)).collect())
        }
        (TypeRef::Map { value: elem, .. }, Value::Object(map)) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), tagged_value(&map[k], elem, facts))).collect())
        }
        _ => value.clone(),
    }
}

fn special_zero(ty: &TypeRef) -> Value {
    match ty.special() {
        Some(SpecialType::Quantity) => json!("0"),
        Some(SpecialType::IntOrString) => json!(0),
        Some(SpecialType::Duration) => json!("0s"),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_values_go_always_writes() {
        let mut role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r"}});
        fill_zero_values(&mut role, "io.k8s.api.rbac.v1.Role");
        assert_eq!(role["rules"], Value::Null);
        assert!(role.as_object().unwrap().contains_key("rules"));
        let mut va =
            json!({"spec": {"attacher": "a", "source": {"persistentVolumeName": "pv", "inlineVolumeSpec": null}}});
        fill_zero_values(&mut va, "io.k8s.api.storage.v1.VolumeAttachment");
        assert_eq!(va["status"], json!({"attached": false}));
        assert_eq!(va["spec"]["nodeName"], "");
        assert!(!va["spec"]["source"].as_object().unwrap().contains_key("inlineVolumeSpec"));
        let mut np = json!({"spec": {}});
        fill_zero_values(&mut np, "io.k8s.api.networking.v1.NetworkPolicy");
        assert_eq!(np["spec"], json!({"podSelector": {}}));
    }

    #[test]
    fn internal_rendering_uses_go_names() {
        let role_ref = json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"});
        assert_eq!(
            super::super::field::render_ordered(&internal_json(Some(&role_ref), "io.k8s.api.rbac.v1.RoleRef")),
            r#"{"APIGroup":"rbac.authorization.k8s.io","Kind":"ClusterRole","Name":"view"}"#
        );
        let spec = json!({"attacher": "a", "source": {"persistentVolumeName": "pv"}, "nodeName": "n"});
        assert_eq!(
            super::super::field::render_ordered(&internal_json(
                Some(&spec),
                "io.k8s.api.storage.v1.VolumeAttachmentSpec"
            )),
            r#"{"Attacher":"a","Source":{"PersistentVolumeName":"pv","InlineVolumeSpec":null},"NodeName":"n"}"#
        );
    }
}
