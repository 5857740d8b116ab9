//! JSON patch (RFC 6902) with the behaviour of the API server's implementation, evanphx/json-patch v4.
//!
//! The API server decodes the body as a list of operation objects (`400` if it is not one), refuses
//! more than [`MAX_OPERATIONS`] operations (`413`) and applies the operations in order; the first one
//! that fails fails the request (`422`). Where v4 differs from the RFC, this module follows v4, because
//! that is what clients of a real cluster see:
//!
//! - `replace` of a missing object member adds it (only array indexes are checked);
//! - array indexes may be negative, counting from the end (`-1` is the last item; for `add`, `-1`
//!   appends); `-` appends for `add`;
//! - a path that does not start with `/` has its first segment ignored, and the empty path (the whole
//!   document) works only for `replace` and `test`;
//! - `test` of `null` (or of an operation without `value`) passes when the target is missing or null;
//! - `copy` from a missing member of an existing object copies `null`;
//! - an operation with a missing or non-string `op` fails with `Unexpected kind: unknown`.
//!
//! Error texts are v4's, e.g. `testing value /metadata/resourceVersion failed: test failed`.

use serde_json::{Map, Value};

use crate::error::PatchError;
use crate::gofmt::{atoi, json_type_word};

/// The most operations one JSON patch may carry (`maxJSONPatchOperations` in the API server).
pub const MAX_OPERATIONS: usize = 10_000;

/// The most bytes the `copy` operations of one patch may add, counted as the compact JSON size of
/// each copied value (the API server's `JSONPatchMaxCopyBytes` default, 3 MiB).
pub const MAX_COPY_BYTES: u64 = 3 * 1024 * 1024;

/// A decoded JSON patch: its operations, each kept as the JSON object the client sent (`None` for a
/// `null` entry, which fails when applied, like upstream).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JsonPatch {
    ops: Vec<Option<Map<String, Value>>>,
}

impl JsonPatch {
    /// Decodes a patch body the way the API server does: it must be a JSON list (or `null`, an empty
    /// patch) of objects, and hold at most [`MAX_OPERATIONS`] operations.
    pub fn from_value(patch: &Value) -> Result<Self, PatchError> {
        let items = match patch {
            Value::Null => return Ok(JsonPatch::default()),
            Value::Array(items) => items,
            other => {
                return Err(PatchError::JsonPatchDecode(format!(
                    "json: cannot unmarshal {} into Go value of type jsonpatch.Patch",
                    json_type_word(other)
                )));
            }
        };
        let mut ops = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Value::Null => ops.push(None),
                Value::Object(op) => ops.push(Some(op.clone())),
                other => {
                    return Err(PatchError::JsonPatchDecode(format!(
                        "json: cannot unmarshal {} into Go value of type jsonpatch.Operation",
                        json_type_word(other)
                    )));
                }
            }
        }
        if ops.len() > MAX_OPERATIONS {
            return Err(PatchError::TooManyOperations { max: MAX_OPERATIONS, got: ops.len() });
        }
        Ok(JsonPatch { ops })
    }

    /// Decodes a patch body from bytes; a syntax error is a decode error (400).
    pub fn from_slice(body: &[u8]) -> Result<Self, PatchError> {
        let value: Value = serde_json::from_slice(body).map_err(|e| PatchError::JsonPatchDecode(e.to_string()))?;
        Self::from_value(&value)
    }

    /// The number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the patch has no operations.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Applies the operations in order to a copy of `doc` (an object or a list) and returns it, with
    /// the API server's limit of [`MAX_COPY_BYTES`] on copied data.
    pub fn apply(&self, doc: &Value) -> Result<Value, PatchError> {
        self.apply_with_copy_limit(doc, MAX_COPY_BYTES)
    }

    /// [`JsonPatch::apply`] with another limit on the bytes `copy` operations may add (0: none).
    pub fn apply_with_copy_limit(&self, doc: &Value, max_copy_bytes: u64) -> Result<Value, PatchError> {
        if !matches!(doc, Value::Object(_) | Value::Array(_)) {
            return Err(PatchError::JsonPatchApply(format!(
                "json: cannot unmarshal {} into Go value of type jsonpatch.partialDoc",
                json_type_word(doc)
            )));
        }
        let mut doc = doc.clone();
        let empty = Map::new();
        let mut copied: u64 = 0;
        for op in &self.ops {
            let op = Op(op.as_ref().unwrap_or(&empty));
            let result = match op.kind() {
                "add" => add(&mut doc, &op),
                "remove" => remove(&mut doc, &op),
                "replace" => replace(&mut doc, &op),
                "move" => move_op(&mut doc, &op),
                "test" => test(&doc, &op),
                "copy" => copy(&mut doc, &op, &mut copied, max_copy_bytes),
                other => Err(format!("Unexpected kind: {other}")),
            };
            result.map_err(PatchError::JsonPatchApply)?;
        }
        Ok(doc)
    }
}

/// Decodes `patch` and applies it to `doc`; see [`JsonPatch`].
pub fn apply_json_patch(doc: &Value, patch: &Value) -> Result<Value, PatchError> {
    JsonPatch::from_value(patch)?.apply(doc)
}

/// One operation object, read lazily like upstream does.
struct Op<'a>(&'a Map<String, Value>);

impl Op<'_> {
    fn kind(&self) -> &str {
        match self.0.get("op") {
            Some(Value::String(s)) => s,
            _ => "unknown",
        }
    }

    fn string_field(&self, name: &str, missing: &str) -> Result<&str, String> {
        match self.0.get(name) {
            None | Some(Value::Null) => Err(missing.to_string()),
            Some(Value::String(s)) => Ok(s),
            Some(other) => {
                Err(format!("json: cannot unmarshal {} into Go value of type string", json_type_word(other)))
            }
        }
    }

    fn path(&self) -> Result<&str, String> {
        self.string_field("path", "operation missing path field: missing value")
    }

    fn from(&self) -> Result<&str, String> {
        self.string_field("from", "operation, missing from field: missing value")
    }

    /// The operation's value; a missing `value` behaves as `null`.
    fn value(&self) -> Value {
        self.0.get("value").cloned().unwrap_or(Value::Null)
    }
}

/// Decodes one RFC 6901 reference token (`~1` is `/`, `~0` is `~`).
fn decode_token(token: &str) -> String {
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.peek() {
                Some('1') => {
                    chars.next();
                    out.push('/');
                }
                Some('0') => {
                    chars.next();
                    out.push('~');
                }
                _ => out.push('~'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn invalid_index(idx: i64) -> String {
    format!("Unable to access invalid index: {idx}: invalid index referenced")
}

/// Resolves an index into an existing item of a list of `len` items (negative counts from the end).
fn existing_index(len: usize, key: &str) -> Result<usize, String> {
    let idx = atoi(key)?;
    let len = len as i64;
    let mut i = idx;
    if i < 0 {
        if i < -len {
            return Err(invalid_index(idx));
        }
        i += len;
    }
    if i >= len {
        return Err(invalid_index(i));
    }
    Ok(i as usize)
}

/// Finds the container (object or list) holding the last segment of `path`, and that segment.
fn find_container<'a>(doc: &'a mut Value, path: &str) -> Option<(&'a mut Value, String)> {
    let segments: Vec<&str> = path.split('/').collect();
    if segments.len() < 2 {
        return None;
    }
    let key = decode_token(segments[segments.len() - 1]);
    let mut current = doc;
    for part in &segments[1..segments.len() - 1] {
        let part = decode_token(part);
        let next = match current {
            Value::Object(map) => map.get_mut(&part)?,
            Value::Array(items) => {
                let i = existing_index(items.len(), &part).ok()?;
                &mut items[i]
            }
            _ => return None,
        };
        if !matches!(next, Value::Object(_) | Value::Array(_)) {
            return None;
        }
        current = next;
    }
    Some((current, key))
}

/// [`find_container`] without mutable access, for `test`.
fn find_container_ref<'a>(doc: &'a Value, path: &str) -> Option<(&'a Value, String)> {
    let segments: Vec<&str> = path.split('/').collect();
    if segments.len() < 2 {
        return None;
    }
    let key = decode_token(segments[segments.len() - 1]);
    let mut current = doc;
    for part in &segments[1..segments.len() - 1] {
        let part = decode_token(part);
        let next = match current {
            Value::Object(map) => map.get(&part)?,
            Value::Array(items) => &items[existing_index(items.len(), &part).ok()?],
            _ => return None,
        };
        if !matches!(next, Value::Object(_) | Value::Array(_)) {
            return None;
        }
        current = next;
    }
    Some((current, key))
}

/// Reads a member: a missing object member reads as `null`; a bad list index is an error.
fn container_get(container: &Value, key: &str) -> Result<Value, String> {
    match container {
        Value::Object(map) => Ok(map.get(key).cloned().unwrap_or(Value::Null)),
        Value::Array(items) => existing_index(items.len(), key).map(|i| items[i].clone()),
        _ => Ok(Value::Null),
    }
}

fn container_add(container: &mut Value, key: &str, value: Value) -> Result<(), String> {
    match container {
        Value::Object(map) => {
            map.insert(key.to_string(), value);
            Ok(())
        }
        Value::Array(items) => {
            if key == "-" {
                items.push(value);
                return Ok(());
            }
            let idx = atoi(key).map_err(|e| format!("value was not a proper array index: '{key}': {e}"))?;
            let size = items.len() as i64 + 1;
            if idx >= size {
                return Err(invalid_index(idx));
            }
            let mut i = idx;
            if i < 0 {
                if i < -size {
                    return Err(invalid_index(idx));
                }
                i += size;
            }
            items.insert(i as usize, value);
            Ok(())
        }
        _ => Ok(()),
    }
}

fn container_remove(container: &mut Value, key: &str) -> Result<(), String> {
    match container {
        Value::Object(map) => match map.shift_remove(key) {
            Some(_) => Ok(()),
            None => Err(format!("Unable to remove nonexistent key: {key}: missing value")),
        },
        Value::Array(items) => {
            let idx = atoi(key)?;
            let len = items.len() as i64;
            if idx >= len {
                return Err(invalid_index(idx));
            }
            let mut i = idx;
            if i < 0 {
                if i < -len {
                    return Err(invalid_index(idx));
                }
                i += len;
            }
            items.remove(i as usize);
            Ok(())
        }
        _ => Ok(()),
    }
}

fn add(doc: &mut Value, op: &Op<'_>) -> Result<(), String> {
    let path = op.path().map_err(|_| "add operation failed to decode path: missing value".to_string())?;
    let (container, key) = find_container(doc, path)
        .ok_or_else(|| format!("add operation does not apply: doc is missing path: \"{path}\": missing value"))?;
    container_add(container, &key, op.value()).map_err(|e| format!("error in add for path: '{path}': {e}"))
}

fn remove(doc: &mut Value, op: &Op<'_>) -> Result<(), String> {
    let path = op.path().map_err(|_| "remove operation failed to decode path: missing value".to_string())?;
    let (container, key) = find_container(doc, path)
        .ok_or_else(|| format!("remove operation does not apply: doc is missing path: \"{path}\": missing value"))?;
    container_remove(container, &key).map_err(|e| format!("error in remove for path: '{path}': {e}"))
}

fn replace(doc: &mut Value, op: &Op<'_>) -> Result<(), String> {
    let path = op.path().map_err(|e| format!("replace operation failed to decode path: {e}"))?;
    if path.is_empty() {
        let value = op.value();
        if !matches!(value, Value::Object(_) | Value::Array(_)) {
            return Err("replace operation value must be object or array: %!w(<nil>)".to_string());
        }
        *doc = value;
        return Ok(());
    }
    let (container, key) = find_container(doc, path)
        .ok_or_else(|| format!("replace operation does not apply: doc is missing path: {path}: missing value"))?;
    match container {
        Value::Object(map) => {
            map.insert(key, op.value());
        }
        Value::Array(items) => {
            let i = existing_index(items.len(), &key)
                .map_err(|_| format!("replace operation does not apply: doc is missing key: {path}: missing value"))?;
            items[i] = op.value();
        }
        _ => {}
    }
    Ok(())
}

fn move_op(doc: &mut Value, op: &Op<'_>) -> Result<(), String> {
    let from = op.from().map_err(|e| format!("move operation failed to decode from: {e}"))?;
    let (container, key) = find_container(doc, from)
        .ok_or_else(|| format!("move operation does not apply: doc is missing from path: {from}: missing value"))?;
    let value = container_get(container, &key).map_err(|e| format!("error in move for path: '{key}': {e}"))?;
    container_remove(container, &key).map_err(|e| format!("error in move for path: '{key}': {e}"))?;
    let path = op.path().map_err(|e| format!("move operation failed to decode path: {e}"))?;
    let (container, key) = find_container(doc, path).ok_or_else(|| {
        format!("move operation does not apply: doc is missing destination path: {path}: missing value")
    })?;
    container_add(container, &key, value).map_err(|e| format!("error in move for path: '{path}': {e}"))
}

fn copy(doc: &mut Value, op: &Op<'_>, copied: &mut u64, limit: u64) -> Result<(), String> {
    let from = op.from().map_err(|e| format!("copy operation failed to decode from: {e}"))?;
    let (container, key) = find_container(doc, from)
        .ok_or_else(|| format!("copy operation does not apply: doc is missing from path: {from}: missing value"))?;
    let value = container_get(container, &key).map_err(|e| format!("error in copy for from: '{from}': {e}"))?;
    let path = op.path().map_err(|_| "copy operation failed to decode path: missing value".to_string())?;
    let (container, key) = find_container(doc, path).ok_or_else(|| {
        format!("copy operation does not apply: doc is missing destination path: {path}: missing value")
    })?;
    *copied += go_json_size(&value);
    if limit > 0 && *copied > limit {
        return Err(format!(
            "Unable to complete the copy, the accumulated size increase of copy is {copied}, exceeding the limit {limit}"
        ));
    }
    container_add(container, &key, value).map_err(|e| format!("error while adding value during copy: {e}"))
}

/// The size of `value` as Go's `json.Marshal` writes it (compact, `<`, `>`, `&`, U+2028 and U+2029
/// escaped); `null` counts 0 like upstream's copy of a nil node.
fn go_json_size(value: &Value) -> u64 {
    fn escapes(s: &str) -> u64 {
        s.chars()
            .map(|c| match c {
                '<' | '>' | '&' => 5,
                '\u{2028}' | '\u{2029}' => 3,
                _ => 0,
            })
            .sum()
    }
    fn extra(value: &Value) -> u64 {
        match value {
            Value::String(s) => escapes(s),
            Value::Array(items) => items.iter().map(extra).sum(),
            Value::Object(map) => map.iter().map(|(k, v)| escapes(k) + extra(v)).sum(),
            _ => 0,
        }
    }
    if value.is_null() {
        return 0;
    }
    value.to_string().len() as u64 + extra(value)
}

fn test(doc: &Value, op: &Op<'_>) -> Result<(), String> {
    let path = op.path().map_err(|e| format!("test operation failed to decode path: {e}"))?;
    let expected = op.value();
    if path.is_empty() {
        return if *doc == expected { Ok(()) } else { Err(format!("testing value {path} failed: test failed")) };
    }
    let (container, key) = find_container_ref(doc, path)
        .ok_or_else(|| format!("test operation does not apply: is missing path: {path}: missing value"))?;
    let actual = container_get(container, &key).map_err(|e| format!("error in test for path: '{path}': {e}"))?;
    if actual == expected { Ok(()) } else { Err(format!("testing value {path} failed: test failed")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn apply(doc: Value, patch: Value) -> Result<Value, PatchError> {
        apply_json_patch(&doc, &patch)
    }

    fn apply_err(doc: Value, patch: Value) -> String {
        match apply(doc, patch) {
            Err(PatchError::JsonPatchApply(m)) => m,
            other => panic!("expected an apply error, got {other:?}"),
        }
    }

    #[test]
    fn add_remove_replace_on_objects_and_lists() {
        let doc = json!({"metadata": {"name": "a", "labels": {"x": "1"}}, "spec": {"args": ["a", "b"]}});
        let out = apply(
            doc,
            json!([
                {"op": "add", "path": "/metadata/labels/y", "value": "2"},
                {"op": "remove", "path": "/metadata/labels/x"},
                {"op": "replace", "path": "/metadata/name", "value": "b"},
                {"op": "add", "path": "/spec/args/1", "value": "between"},
                {"op": "add", "path": "/spec/args/-", "value": "end"},
                {"op": "remove", "path": "/spec/args/0"},
            ]),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"metadata": {"name": "b", "labels": {"y": "2"}}, "spec": {"args": ["between", "b", "end"]}})
        );
    }

    #[test]
    fn kubectl_migration_to_server_side_apply() {
        // `kubectl apply --server-side` on an object last written by client-side apply.
        let doc = json!({"metadata": {"name": "web", "resourceVersion": "42", "managedFields": [{"manager": "kubectl-client-side-apply"}]}});
        let patch = json!([
            {"op": "test", "path": "/metadata/resourceVersion", "value": "42"},
            {"op": "replace", "path": "/metadata/managedFields", "value": [{"manager": "kubectl", "operation": "Apply"}]},
        ]);
        let out = apply(doc.clone(), patch).unwrap();
        assert_eq!(out["metadata"]["managedFields"], json!([{"manager": "kubectl", "operation": "Apply"}]));

        let stale = json!([
            {"op": "test", "path": "/metadata/resourceVersion", "value": "41"},
            {"op": "replace", "path": "/metadata/managedFields", "value": []},
        ]);
        let err = apply(doc, stale).unwrap_err();
        assert_eq!(
            err,
            PatchError::JsonPatchApply("testing value /metadata/resourceVersion failed: test failed".into())
        );
        assert_eq!(err.status().code, 422);
    }

    #[test]
    fn move_and_copy() {
        let doc = json!({"a": {"b": 1}, "list": [1, 2, 3]});
        let out = apply(
            doc,
            json!([
                {"op": "copy", "from": "/a", "path": "/c"},
                {"op": "move", "from": "/a/b", "path": "/d"},
                {"op": "move", "from": "/list/0", "path": "/list/-"},
            ]),
        )
        .unwrap();
        assert_eq!(out, json!({"a": {}, "list": [2, 3, 1], "c": {"b": 1}, "d": 1}));
    }

    #[test]
    fn upstream_v4_quirks() {
        // replace of a missing member adds it
        assert_eq!(apply(json!({}), json!([{"op": "replace", "path": "/x", "value": 1}])).unwrap(), json!({"x": 1}));
        // negative indexes count from the end
        assert_eq!(
            apply(json!({"l": [1, 2, 3]}), json!([{"op": "remove", "path": "/l/-1"}])).unwrap(),
            json!({"l": [1, 2]})
        );
        assert_eq!(
            apply(json!({"l": [1, 2]}), json!([{"op": "add", "path": "/l/-1", "value": 9}])).unwrap(),
            json!({"l": [1, 2, 9]})
        );
        // test of null passes on a missing member
        assert!(apply(json!({}), json!([{"op": "test", "path": "/x", "value": null}])).is_ok());
        assert!(apply(json!({"x": null}), json!([{"op": "test", "path": "/x"}])).is_ok());
        // copy from a missing member copies null
        assert_eq!(apply(json!({}), json!([{"op": "copy", "from": "/x", "path": "/y"}])).unwrap(), json!({"y": null}));
        // the first segment of a path without a leading slash is ignored
        assert_eq!(
            apply(json!({"a": 1}), json!([{"op": "replace", "path": "zzz/a", "value": 2}])).unwrap(),
            json!({"a": 2})
        );
        // escaped tokens
        assert_eq!(
            apply(
                json!({"metadata": {"labels": {}}}),
                json!([{"op": "add", "path": "/metadata/labels/app.kubernetes.io~1name", "value": "w"}])
            )
            .unwrap(),
            json!({"metadata": {"labels": {"app.kubernetes.io/name": "w"}}})
        );
        // replace of the whole document
        assert_eq!(
            apply(json!({"a": 1}), json!([{"op": "replace", "path": "", "value": {"b": 2}}])).unwrap(),
            json!({"b": 2})
        );
        // test of the whole document
        assert!(apply(json!({"a": 1}), json!([{"op": "test", "path": "", "value": {"a": 1}}])).is_ok());
    }

    #[test]
    fn failure_messages_are_upstreams() {
        assert_eq!(
            apply_err(json!({}), json!([{"op": "remove", "path": "/a/b"}])),
            "remove operation does not apply: doc is missing path: \"/a/b\": missing value"
        );
        assert_eq!(
            apply_err(json!({"a": {}}), json!([{"op": "remove", "path": "/a/b"}])),
            "error in remove for path: '/a/b': Unable to remove nonexistent key: b: missing value"
        );
        assert_eq!(
            apply_err(json!({}), json!([{"op": "add", "path": "/a/b", "value": 1}])),
            "add operation does not apply: doc is missing path: \"/a/b\": missing value"
        );
        assert_eq!(
            apply_err(json!({"l": [1]}), json!([{"op": "add", "path": "/l/5", "value": 1}])),
            "error in add for path: '/l/5': Unable to access invalid index: 5: invalid index referenced"
        );
        assert_eq!(
            apply_err(json!({"l": [1]}), json!([{"op": "add", "path": "/l/x", "value": 1}])),
            "error in add for path: '/l/x': value was not a proper array index: 'x': strconv.Atoi: parsing \"x\": invalid syntax"
        );
        assert_eq!(
            apply_err(json!({"l": [1]}), json!([{"op": "replace", "path": "/l/3", "value": 1}])),
            "replace operation does not apply: doc is missing key: /l/3: missing value"
        );
        assert_eq!(
            apply_err(json!({"l": [1]}), json!([{"op": "remove", "path": "/l/-2"}])),
            "error in remove for path: '/l/-2': Unable to access invalid index: -2: invalid index referenced"
        );
        assert_eq!(
            apply_err(json!({"a": 1}), json!([{"op": "test", "path": "/b/c", "value": 1}])),
            "test operation does not apply: is missing path: /b/c: missing value"
        );
        assert_eq!(
            apply_err(json!({"a": 1}), json!([{"op": "move", "from": "/b", "path": "/c"}])),
            "error in move for path: 'b': Unable to remove nonexistent key: b: missing value"
        );
        assert_eq!(
            apply_err(json!({"a": 1}), json!([{"op": "copy", "from": "/a", "path": "/x/y"}])),
            "copy operation does not apply: doc is missing destination path: /x/y: missing value"
        );
        assert_eq!(apply_err(json!({}), json!([{"op": "frob", "path": "/a"}])), "Unexpected kind: frob");
        assert_eq!(apply_err(json!({}), json!([{"path": "/a"}])), "Unexpected kind: unknown");
        assert_eq!(apply_err(json!({}), json!([null])), "Unexpected kind: unknown");
        assert_eq!(apply_err(json!({}), json!([{"op": "add"}])), "add operation failed to decode path: missing value");
        assert_eq!(
            apply_err(json!({}), json!([{"op": "replace", "path": 5}])),
            "replace operation failed to decode path: json: cannot unmarshal number into Go value of type string"
        );
        assert_eq!(
            apply_err(json!({}), json!([{"op": "move", "path": "/a"}])),
            "move operation failed to decode from: operation, missing from field: missing value"
        );
        assert_eq!(
            apply_err(json!({"a": 1}), json!([{"op": "replace", "path": "", "value": 3}])),
            "replace operation value must be object or array: %!w(<nil>)"
        );
    }

    #[test]
    fn a_failed_operation_leaves_no_partial_result() {
        let doc = json!({"a": 1});
        let err = apply(
            doc.clone(),
            json!([{"op": "add", "path": "/b", "value": 2}, {"op": "test", "path": "/a", "value": 2}]),
        );
        assert!(err.is_err());
        assert_eq!(doc, json!({"a": 1}));
    }

    #[test]
    fn decoding_follows_the_patch_handler() {
        assert_eq!(
            JsonPatch::from_value(&json!({"op": "add"})).unwrap_err(),
            PatchError::JsonPatchDecode("json: cannot unmarshal object into Go value of type jsonpatch.Patch".into())
        );
        assert_eq!(
            JsonPatch::from_value(&json!(["add"])).unwrap_err(),
            PatchError::JsonPatchDecode(
                "json: cannot unmarshal string into Go value of type jsonpatch.Operation".into()
            )
        );
        assert!(JsonPatch::from_value(&Value::Null).unwrap().is_empty());
        assert_eq!(apply(json!({"a": 1}), Value::Null).unwrap(), json!({"a": 1}));
        assert!(matches!(JsonPatch::from_slice(b"[{"), Err(PatchError::JsonPatchDecode(_))));
    }

    #[test]
    fn at_most_ten_thousand_operations() {
        let op = json!({"op": "test", "path": "/a", "value": 1});
        let ok = Value::Array(vec![op.clone(); MAX_OPERATIONS]);
        assert_eq!(JsonPatch::from_value(&ok).unwrap().len(), MAX_OPERATIONS);
        assert!(apply(json!({"a": 1}), ok).is_ok());
        let too_many = Value::Array(vec![op; MAX_OPERATIONS + 1]);
        let err = JsonPatch::from_value(&too_many).unwrap_err();
        assert_eq!(err, PatchError::TooManyOperations { max: 10_000, got: 10_001 });
        assert_eq!(err.status().code, 413);
    }

    #[test]
    fn copies_are_limited_in_size() {
        let doc = json!({"a": "<xx>", "b": null});
        let patch = JsonPatch::from_value(&json!([
            {"op": "copy", "from": "/a", "path": "/c"},
            {"op": "copy", "from": "/b", "path": "/d"},
            {"op": "copy", "from": "/a", "path": "/e"},
        ]))
        .unwrap();
        // "<xx>" is 16 bytes in Go's JSON ("\u003cxx\u003e"); null counts nothing
        assert!(patch.apply_with_copy_limit(&doc, 32).is_ok());
        assert_eq!(
            patch.apply_with_copy_limit(&doc, 31).unwrap_err(),
            PatchError::JsonPatchApply(
                "Unable to complete the copy, the accumulated size increase of copy is 32, exceeding the limit 31"
                    .into()
            )
        );
        assert!(patch.apply_with_copy_limit(&doc, 0).is_ok());
        assert!(patch.apply(&doc).is_ok());
    }

    #[test]
    fn test_compares_structurally_and_numbers_by_kind() {
        let doc = json!({"spec": {"ports": [{"port": 80, "name": "http"}], "ratio": 0.5}});
        assert!(
            apply(doc.clone(), json!([{"op": "test", "path": "/spec/ports", "value": [{"name": "http", "port": 80}]}]))
                .is_ok()
        );
        assert!(apply(doc.clone(), json!([{"op": "test", "path": "/spec/ports/0/port", "value": 80.0}])).is_err());
        assert!(apply(doc.clone(), json!([{"op": "test", "path": "/spec/ratio", "value": 0.5}])).is_ok());
        assert!(apply(doc, json!([{"op": "test", "path": "/spec/ports/0", "value": null}])).is_err());
    }
}
