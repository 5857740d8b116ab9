//! Field paths, field errors and value rendering in the forms of
//! `k8s.io/apimachinery/pkg/util/validation/field` (v0.36), plus the JSON
//! accessors the strategies share.
//!
//! ```text
//!  Path::new("spec").child("containers").index(0).child("name")  ──► "spec.containers[0].name"
//!  Errs (Vec<FieldError>) ──► into_result ──► 422 `Kind.group "name" is invalid: ...`
//! ```
//!
//! Bad values render as upstream's `ErrorBody` does: strings quoted as Go's
//! `%q`, numbers and booleans plainly, everything else as Go's `json.Marshal`
//! (map keys sorted, `<`, `>` and `&` escaped).

use kubeplex_core::names::{FieldError, aggregate_message, go_quote};
use kubeplex_core::resource::ResourceDef;
use kubeplex_core::status::{ApiError, StatusCause, qualified};
use serde_json::{Map, Value};

/// A field path (`field.Path`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Path(String);

impl Path {
    /// `field.NewPath(name)`; dotted names give the same string as chained
    /// children.
    pub(crate) fn new(name: &str) -> Path {
        Path(name.to_owned())
    }

    /// `field.NewPath("")`, which upstream prints as `[]`.
    pub(crate) fn empty_root() -> Path {
        Path("[]".to_owned())
    }

    /// `Child(name)`.
    pub(crate) fn child(&self, name: &str) -> Path {
        Path(format!("{}.{name}", self.0))
    }

    /// `Index(i)`.
    pub(crate) fn index(&self, i: usize) -> Path {
        Path(format!("{}[{i}]", self.0))
    }

    /// `Key(k)`.
    pub(crate) fn key(&self, k: &str) -> Path {
        Path(format!("{}[{k}]", self.0))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A list of field errors (`field.ErrorList`).
pub(crate) type Errs = Vec<FieldError>;

/// `field.Required`.
pub(crate) fn required(path: &Path, detail: &str) -> FieldError {
    FieldError::required(path.as_str(), detail)
}

/// `field.Invalid` with a Go `string` value.
pub(crate) fn invalid(path: &Path, value: &str, detail: &str) -> FieldError {
    FieldError::invalid(path.as_str(), value, detail)
}

/// `field.Invalid` with an integer value.
pub(crate) fn invalid_int(path: &Path, value: i64, detail: &str) -> FieldError {
    FieldError::invalid_rendered(path.as_str(), &value.to_string(), detail)
}

/// `field.Invalid` with a value rendered as Go's `json.Marshal` would.
pub(crate) fn invalid_json(path: &Path, value: &Value, detail: &str) -> FieldError {
    FieldError::invalid_rendered(path.as_str(), &render(value), detail)
}

/// `field.Invalid` with a value rendered by the caller.
pub(crate) fn invalid_rendered(path: &Path, rendered: &str, detail: &str) -> FieldError {
    FieldError::invalid_rendered(path.as_str(), rendered, detail)
}

/// `field.Forbidden`.
pub(crate) fn forbidden(path: &Path, detail: &str) -> FieldError {
    FieldError::forbidden(path.as_str(), detail)
}

/// `field.NotSupported` with a string value.
pub(crate) fn not_supported(path: &Path, value: &str, supported: &[&str]) -> FieldError {
    FieldError::not_supported(path.as_str(), value, supported)
}

/// `field.NotSupported` with a value that is not a string: a struct built in
/// Go's field order, rendered as JSON.
pub(crate) fn not_supported_json(path: &Path, value: &Value, supported: &[&str]) -> FieldError {
    let list: Vec<String> = supported.iter().map(|s| go_quote(s)).collect();
    FieldError {
        reason: "FieldValueNotSupported",
        field: path.as_str().to_owned(),
        body: format!("Unsupported value: {}: supported values: {}", render_ordered(value), list.join(", ")),
    }
}

/// `field.Duplicate` with a value already rendered.
pub(crate) fn duplicate_rendered(path: &Path, rendered: &str) -> FieldError {
    FieldError {
        reason: "FieldValueDuplicate",
        field: path.as_str().to_owned(),
        body: format!("Duplicate value: {rendered}"),
    }
}

/// `field.Duplicate` with a string value.
pub(crate) fn duplicate(path: &Path, value: &str) -> FieldError {
    duplicate_rendered(path, &go_quote(value))
}

/// `field.NotFound` with a string value.
pub(crate) fn not_found(path: &Path, value: &str) -> FieldError {
    FieldError {
        reason: "FieldValueNotFound",
        field: path.as_str().to_owned(),
        body: format!("Not found: {}", go_quote(value)),
    }
}

/// `field.TooLong` with a byte limit.
pub(crate) fn too_long(path: &Path, max_bytes: usize) -> FieldError {
    FieldError::too_long(path.as_str(), max_bytes)
}

/// `field.TooMany`.
pub(crate) fn too_many(path: &Path, actual: usize, max: usize) -> FieldError {
    let items = if max == 1 { "item" } else { "items" };
    FieldError {
        reason: "FieldValueTooMany",
        field: path.as_str().to_owned(),
        body: format!("Too many: {actual}: must have at most {max} {items}"),
    }
}

/// `ValidateNonnegativeField`: `must be greater than or equal to 0`.
pub(crate) fn nonnegative(errs: &mut Errs, value: Option<i64>, path: &Path) {
    if let Some(v) = value
        && v < 0
    {
        errs.push(invalid_int(path, v, "must be greater than or equal to 0"));
    }
}

/// `ValidateImmutableField` on JSON values: `field is immutable`, the new value
/// rendered as JSON (`null` when absent).
pub(crate) fn immutable(errs: &mut Errs, new: Option<&Value>, old: Option<&Value>, path: &Path) {
    if !semantic_eq(new, old) {
        errs.push(invalid_json(path, new.unwrap_or(&Value::Null), "field is immutable"));
    }
}

/// `ValidateImmutableField` for a Go `string` field (quoted as `%q`).
pub(crate) fn immutable_str(errs: &mut Errs, new: &str, old: &str, path: &Path) {
    if new != old {
        errs.push(invalid(path, new, "field is immutable"));
    }
}

/// Equality as `apiequality.Semantic.DeepEqual` sees the JSON forms: absent
/// and `null` are the same.
pub(crate) fn semantic_eq(a: Option<&Value>, b: Option<&Value>) -> bool {
    let a = a.filter(|v| !v.is_null());
    let b = b.filter(|v| !v.is_null());
    a == b
}

/// Go's `json.Marshal` of a value: map keys sorted, HTML characters escaped.
pub(crate) fn render(value: &Value) -> String {
    go_json_escape(&sorted(value).to_string())
}

/// Go's `json.Marshal` of a value whose object keys are already in Go's order
/// (a struct built field by field).
pub(crate) fn render_ordered(value: &Value) -> String {
    go_json_escape(&value.to_string())
}

/// A copy with every object's keys sorted (Go maps marshal sorted).
pub(crate) fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                out.insert(k.clone(), sorted(&map[k]));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Go's encoder escapes `<`, `>`, `&`, U+2028 and U+2029 inside strings; in
/// serialized JSON they can only occur inside strings.
fn go_json_escape(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// `errors.NewInvalid(kind.group, name, errs)`: causes as given, the message
/// from the aggregate (duplicates dropped).
pub(crate) fn into_result(def: &ResourceDef, name: &str, errs: Errs) -> Result<(), ApiError> {
    if errs.is_empty() {
        return Ok(());
    }
    Err(invalid_error(&def.kind, &def.group, name, &errs))
}

/// The 422 `Invalid` error for `errs` on `kind.group "name"`.
pub(crate) fn invalid_error(kind: &str, group: &str, name: &str, errs: &[FieldError]) -> ApiError {
    let causes = errs
        .iter()
        .map(|e| StatusCause { reason: e.reason.to_owned(), message: e.body.clone(), field: e.field.clone() })
        .collect();
    let mut err = ApiError::invalid(kind, group, name, causes);
    err.message = format!("{} {} is invalid: {}", qualified(kind, group), go_quote(name), aggregate_message(errs));
    err
}

/// The object's name (`metadata.name`), or "".
pub(crate) fn name_of(object: &Value) -> &str {
    str_at(object, &["metadata", "name"]).unwrap_or("")
}

/// The value at `path` (object keys), `None` when absent or `null`.
pub(crate) fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = value;
    for key in path {
        cur = cur.as_object()?.get(*key)?;
    }
    if cur.is_null() { None } else { Some(cur) }
}

/// The string at `path`.
pub(crate) fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(value, path).and_then(Value::as_str)
}

/// The string at `path`, "" when absent.
pub(crate) fn s<'a>(value: &'a Value, path: &[&str]) -> &'a str {
    str_at(value, path).unwrap_or("")
}

/// The integer at `path`.
pub(crate) fn int_at(value: &Value, path: &[&str]) -> Option<i64> {
    at(value, path).and_then(Value::as_i64)
}

/// The boolean at `path`.
pub(crate) fn bool_at(value: &Value, path: &[&str]) -> Option<bool> {
    at(value, path).and_then(Value::as_bool)
}

/// The list at `path` (empty when absent or not a list).
pub(crate) fn list_at<'a>(value: &'a Value, path: &[&str]) -> &'a [Value] {
    at(value, path).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

/// The object at `path`, if it is one.
pub(crate) fn map_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Map<String, Value>> {
    at(value, path).and_then(Value::as_object)
}

/// The `(key, value)` string pairs of a `map[string]string` at `path`
/// (non-string values are skipped).
pub(crate) fn string_map<'a>(value: &'a Value, path: &[&str]) -> Vec<(&'a str, &'a str)> {
    map_at(value, path)
        .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.as_str(), v))).collect())
        .unwrap_or_default()
}

/// The object under `key` of `map`, created when absent or `null`; `None` when
/// it holds something that is not an object (left alone: decoding rejects it).
pub(crate) fn child_obj<'a>(map: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Map<String, Value>> {
    let entry = map.entry(key.to_owned()).or_insert(Value::Null);
    if entry.is_null() {
        *entry = Value::Object(Map::new());
    }
    entry.as_object_mut()
}

/// The object at `path` inside `value`, creating objects on the way.
pub(crate) fn obj_path<'a>(value: &'a mut Value, path: &[&str]) -> Option<&'a mut Map<String, Value>> {
    if value.is_null() {
        *value = Value::Object(Map::new());
    }
    let mut cur = value.as_object_mut()?;
    for key in path {
        cur = child_obj(cur, key)?;
    }
    Some(cur)
}

/// Sets `key` to `default` when it is absent or `null`.
pub(crate) fn set_default(map: &mut Map<String, Value>, key: &str, default: Value) {
    match map.get(key) {
        None | Some(Value::Null) => {
            map.insert(key.to_owned(), default);
        }
        Some(_) => {}
    }
}

/// Sets a string field to `default` when it is absent, `null` or "" (a Go
/// string's zero value).
pub(crate) fn set_default_str(map: &mut Map<String, Value>, key: &str, default: &str) {
    match map.get(key) {
        None | Some(Value::Null) => {
            map.insert(key.to_owned(), Value::String(default.to_owned()));
        }
        Some(Value::String(s)) if s.is_empty() => {
            map.insert(key.to_owned(), Value::String(default.to_owned()));
        }
        Some(_) => {}
    }
}

/// Every element of the list under `key` that is an object.
pub(crate) fn each_obj_mut<'a>(
    map: &'a mut Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a mut Map<String, Value>> {
    map.get_mut(key).and_then(Value::as_array_mut).into_iter().flatten().filter_map(Value::as_object_mut)
}

/// Sorts the keys of the object under `key` (Go serializes maps sorted).
pub(crate) fn sort_map(map: &mut Map<String, Value>, key: &str) {
    if let Some(v) = map.get_mut(key)
        && v.is_object()
    {
        *v = sorted(v);
    }
}

/// The messages of `errs` as `ToString` prints them, for tests.
#[cfg(test)]
pub(crate) fn msgs(errs: &Errs) -> Vec<String> {
    errs.iter().map(ToString::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_print_as_upstream() {
        let p = Path::new("spec").child("containers").index(0).child("name");
        assert_eq!(p.as_str(), "spec.containers[0].name");
        assert_eq!(Path::new("metadata").child("labels").key("app").as_str(), "metadata.labels[app]");
        assert_eq!(Path::empty_root().as_str(), "[]");
    }

    #[test]
    fn values_render_as_go_json() {
        assert_eq!(render(&json!({"b": "1", "a": "<x>"})), r#"{"a":"\u003cx\u003e","b":"1"}"#);
        assert_eq!(render(&json!(["None"])), r#"["None"]"#);
        let e = invalid_json(&Path::new("spec.selector"), &json!(null), "field is immutable");
        assert_eq!(e.to_string(), "spec.selector: Invalid value: null: field is immutable");
    }

    #[test]
    fn invalid_error_message_deduplicates() {
        let def = kubeplex_core::resource::find(kubeplex_core::resource::BUILTIN, "apps", "v1", "deployments")
            .expect("deployments");
        let errs = vec![required(&Path::new("spec.selector"), ""), required(&Path::new("spec.selector"), "")];
        let err = into_result(def, "web", errs).expect_err("invalid");
        assert_eq!(err.message, "Deployment.apps \"web\" is invalid: spec.selector: Required value");
        assert_eq!(err.causes().len(), 2);
        assert_eq!(err.code, 422);
    }
}
