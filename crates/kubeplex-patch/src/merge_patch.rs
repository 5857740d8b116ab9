//! JSON merge patch (RFC 7396) with the behaviour of the API server's implementation,
//! evanphx/json-patch v4 `MergePatch`.
//!
//! Objects merge member by member, `null` deletes a member, anything else (lists included) replaces
//! the target value whole. Where v4 differs from the RFC this module follows v4:
//!
//! - a patch that is `null` or a scalar is refused with `Invalid JSON Patch` (400); a patch that is a
//!   list becomes the result (with `null` members dropped from objects inside it);
//! - a value written where the target has no object to merge into has its `null` object members
//!   dropped, also inside lists (RFC 7396 leaves lists untouched); `null` list items stay;
//! - an object target replaced by a non-object patch value takes that value as it is.

use serde_json::{Map, Value};

use crate::error::PatchError;

/// Applies merge patch `patch` to `doc` and returns the result.
pub fn apply_merge_patch(doc: &Value, patch: &Value) -> Result<Value, PatchError> {
    match patch {
        Value::Object(patch) => match doc {
            Value::Null => Err(PatchError::InvalidDocument),
            Value::Object(doc) => {
                let mut doc = doc.clone();
                merge_objects(&mut doc, patch);
                Ok(Value::Object(doc))
            }
            // The document is not an object: the result is the patch without its nulls.
            _ => {
                let mut result = Value::Object(patch.clone());
                prune_nulls(&mut result);
                Ok(result)
            }
        },
        Value::Array(_) => {
            let mut result = patch.clone();
            prune_nulls(&mut result);
            Ok(result)
        }
        _ => Err(PatchError::InvalidMergePatch),
    }
}

fn merge_objects(doc: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (key, value) in patch {
        if value.is_null() {
            doc.shift_remove(key);
            continue;
        }
        match doc.get_mut(key) {
            Some(current) if !current.is_null() => merge_value(current, value),
            _ => {
                let mut value = value.clone();
                prune_nulls(&mut value);
                doc.insert(key.clone(), value);
            }
        }
    }
}

fn merge_value(current: &mut Value, patch: &Value) {
    match (current, patch) {
        (Value::Object(current), Value::Object(patch)) => merge_objects(current, patch),
        (current @ Value::Object(_), patch) => *current = patch.clone(),
        (current, patch) => {
            let mut value = patch.clone();
            prune_nulls(&mut value);
            *current = value;
        }
    }
}

/// Drops `null` members of objects, recursively through objects and lists.
fn prune_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            for v in map.values_mut() {
                prune_nulls(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(prune_nulls),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn rfc7396_examples() {
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "b"}), json!({"b": "c"}), json!({"a": "b", "b": "c"})),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (json!({"a": "b", "b": "c"}), json!({"a": null}), json!({"b": "c"})),
            (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "c"}), json!({"a": ["b"]}), json!({"a": ["b"]})),
            (json!({"a": {"b": "c"}}), json!({"a": {"b": "d", "c": null}}), json!({"a": {"b": "d"}})),
            (json!({"a": [{"b": "c"}]}), json!({"a": [1]}), json!({"a": [1]})),
            (json!({"e": null}), json!({"a": 1}), json!({"e": null, "a": 1})),
            (json!({}), json!({"a": {"bb": {"ccc": null}}}), json!({"a": {"bb": {}}})),
        ];
        for (doc, patch, want) in cases {
            assert_eq!(apply_merge_patch(&doc, &patch).unwrap(), want, "doc {doc} patch {patch}");
        }
    }

    #[test]
    fn kubectl_label_and_scale() {
        let doc = json!({"metadata": {"name": "web", "labels": {"app": "web", "tier": "x"}}, "spec": {"replicas": 1}});
        let out = apply_merge_patch(&doc, &json!({"metadata": {"labels": {"tier": null, "env": "prod"}}})).unwrap();
        assert_eq!(out["metadata"]["labels"], json!({"app": "web", "env": "prod"}));
        let out = apply_merge_patch(&out, &json!({"spec": {"replicas": 3}})).unwrap();
        assert_eq!(out["spec"]["replicas"], json!(3));
    }

    #[test]
    fn lists_are_replaced_whole() {
        let doc = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
        let out = apply_merge_patch(&doc, &json!({"spec": {"containers": [{"name": "c", "x": null}]}})).unwrap();
        assert_eq!(out, json!({"spec": {"containers": [{"name": "c"}]}}));
    }

    #[test]
    fn v4_quirks() {
        assert_eq!(apply_merge_patch(&json!({}), &Value::Null), Err(PatchError::InvalidMergePatch));
        assert_eq!(apply_merge_patch(&json!({}), &json!("x")), Err(PatchError::InvalidMergePatch));
        assert_eq!(PatchError::InvalidMergePatch.status().code, 400);
        // a list patch is the result, nulls in its objects dropped, null items kept
        assert_eq!(apply_merge_patch(&json!({"a": 1}), &json!([{"x": null}, null])).unwrap(), json!([{}, null]));
        // an object replaced by a list keeps the list as sent
        assert_eq!(
            apply_merge_patch(&json!({"a": {"b": 1}}), &json!({"a": [{"x": null}]})).unwrap(),
            json!({"a": [{"x": null}]})
        );
        // a list replaced by a list drops nulls inside its objects
        assert_eq!(apply_merge_patch(&json!({"a": [1]}), &json!({"a": [{"x": null}]})).unwrap(), json!({"a": [{}]}));
        // a null member in the document is overwritten as if missing
        assert_eq!(
            apply_merge_patch(&json!({"a": null}), &json!({"a": {"b": null, "c": 1}})).unwrap(),
            json!({"a": {"c": 1}})
        );
    }

    /// A JSON value without nulls (merge patches cannot express nulls).
    fn value_without_nulls() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(|n| json!(n)),
            "[a-z]{0,3}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-d]{1,2}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn object_without_nulls() -> impl Strategy<Value = Value> {
        prop::collection::btree_map("[a-d]{1,2}", value_without_nulls(), 0..5)
            .prop_map(|m| Value::Object(m.into_iter().collect()))
    }

    /// The merge patch that turns `from` into `to` (both objects without nulls).
    fn diff(from: &Map<String, Value>, to: &Map<String, Value>) -> Map<String, Value> {
        let mut patch = Map::new();
        for key in from.keys() {
            if !to.contains_key(key) {
                patch.insert(key.clone(), Value::Null);
            }
        }
        for (key, value) in to {
            match (from.get(key), value) {
                (Some(Value::Object(a)), Value::Object(b)) => {
                    let sub = diff(a, b);
                    if !sub.is_empty() {
                        patch.insert(key.clone(), Value::Object(sub));
                    }
                }
                (Some(old), new) if old == new => {}
                (_, new) => {
                    patch.insert(key.clone(), new.clone());
                }
            }
        }
        patch
    }

    proptest! {
        #[test]
        fn empty_patch_is_identity(doc in object_without_nulls()) {
            prop_assert_eq!(apply_merge_patch(&doc, &json!({})).unwrap(), doc);
        }

        #[test]
        fn null_deletes(doc in object_without_nulls(), key in "[a-d]{1,2}") {
            let out = apply_merge_patch(&doc, &json!({ key.clone(): null })).unwrap();
            prop_assert!(out.get(&key).is_none());
            let mut expected = doc.as_object().cloned().unwrap_or_default();
            expected.shift_remove(&key);
            prop_assert_eq!(out, Value::Object(expected));
        }

        #[test]
        fn applying_the_difference_yields_the_target(from in object_without_nulls(), to in object_without_nulls()) {
            let (Value::Object(a), Value::Object(b)) = (&from, &to) else { unreachable!() };
            let patch = Value::Object(diff(a, b));
            prop_assert_eq!(apply_merge_patch(&from, &patch).unwrap(), to);
        }

        #[test]
        fn patching_twice_is_idempotent(doc in object_without_nulls(), patch in object_without_nulls()) {
            let once = apply_merge_patch(&doc, &patch).unwrap();
            let twice = apply_merge_patch(&once, &patch).unwrap();
            prop_assert_eq!(once, twice);
        }
    }
}
