//! Field ownership on the write path: every create, update and patch
//! records its field manager in `metadata.managedFields`, and server-side
//! apply (`PATCH` with `application/apply-patch+yaml`) merges a
//! configuration into the object, refusing to take fields others own unless
//! forced. The ownership logic is `kubeplex_managedfields`; this module ties
//! it to resources, requests and upstream's errors.
//!
//! Ownership is computed on the stored form of an object with the schema of
//! the resource's version; entries carry the request's API version.

use kubeplex_core::resource::ResourceDef;
use kubeplex_core::status::{ApiError, StatusCause};
use kubeplex_managedfields::{Error as FieldsError, FieldManager, Schema, Writer};
use serde_json::Value;

use crate::http::Query;
use crate::objects;

/// How ownership works for `def` written through `subresource`: the
/// schema, and the fields the endpoint never gives (upstream's reset
/// fields: `status` through the object when there is a status subresource;
/// `spec` through `status`, and `metadata` too for custom resources).
pub fn field_manager(def: &ResourceDef, subresource: Option<&str>) -> Option<FieldManager> {
    let schema = match &def.custom {
        Some(custom) => custom.fields.clone()?,
        None => {
            let ty = kubeplex_api_facts::facts().kind(&def.group, &def.version, &def.kind)?;
            Schema::builtin(&ty.name)?
        }
    };
    let reset: &[&str] = match subresource {
        None if def.subresource("status").is_some() => &["status"],
        Some("status") if def.custom.is_some() => &["spec", "metadata"],
        Some("status") => &["spec"],
        _ => &[],
    };
    Some(FieldManager::new(schema, reset))
}

/// The field manager of a write: `fieldManager`, checked as upstream checks
/// it (at most 128 bytes, printable), or the `User-Agent`'s first word.
/// `options` names the request's options kind in errors (`PatchOptions`).
pub fn manager_name(query: &Query, user_agent: &str, options: &str) -> Result<String, ApiError> {
    match requested_manager(query, options)? {
        Some(name) => Ok(name),
        None => Ok(kubeplex_managedfields::manager_from_user_agent(user_agent)),
    }
}

/// The `fieldManager` a request names, once checked.
fn requested_manager(query: &Query, options: &str) -> Result<Option<String>, ApiError> {
    let Some(name) = query.get("fieldManager").filter(|m| !m.is_empty()) else { return Ok(None) };
    check_manager(name, options)?;
    Ok(Some(name.to_owned()))
}

fn options_invalid(options: &str, causes: Vec<StatusCause>) -> ApiError {
    ApiError::invalid(options, "meta.k8s.io", "", causes)
}

fn check_manager(name: &str, options: &str) -> Result<(), ApiError> {
    if name.len() > kubeplex_managedfields::MAX_MANAGER_BYTES {
        return Err(options_invalid(
            options,
            vec![StatusCause {
                reason: "FieldValueTooLong".into(),
                message: format!("Too long: may not be more than {} bytes", kubeplex_managedfields::MAX_MANAGER_BYTES),
                field: "fieldManager".into(),
            }],
        ));
    }
    let causes: Vec<StatusCause> = name
        .char_indices()
        .filter(|(_, c)| c.is_control() || (c.is_whitespace() && *c != ' '))
        .map(|(at, c)| {
            kubeplex_core::status::cause::invalid(
                "fieldManager",
                &Value::String(name.to_owned()),
                &format!("invalid character U+{:04X} (at position {at})", c as u32),
            )
        })
        .collect();
    if causes.is_empty() { Ok(()) } else { Err(options_invalid(options, causes)) }
}

/// Records the write of `new` (over `live`; `None` for a create) by
/// `manager` in `new`'s managed fields.
pub fn record(def: &ResourceDef, subresource: Option<&str>, live: Option<&Value>, new: &mut Value, manager: &str) {
    let Some(fm) = field_manager(def, subresource) else { return };
    let now = objects::now();
    let api_version = def.api_version();
    let writer = Writer { manager, api_version: &api_version, subresource: subresource.unwrap_or(""), now: &now };
    fm.update(live, new, &writer);
}

/// Keeps `old`'s managed fields in `new` when an apply changed nothing once
/// defaults are set and no manager's fields changed: the write is then a
/// no-op. (Upstream compares before defaulting, so re-applying a
/// configuration that omits a defaulted field of an atomic struct, such as
/// `fieldRef.apiVersion`, bumps its manager's time and writes.)
pub fn keep_if_unchanged(old: &Value, new: &mut Value) {
    if equal_except(old, new, "managedFields")
        && equal_except_time(&old["metadata"]["managedFields"], &new["metadata"]["managedFields"])
        && let Some(fields) = old["metadata"].get("managedFields")
    {
        objects::meta_mut(new).insert("managedFields".into(), fields.clone());
    }
}

/// True if two objects are equal but for metadata field `skip`.
fn equal_except(a: &Value, b: &Value, skip: &str) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else { return a == b };
    let meta_equal = || {
        let (Some(am), Some(bm)) =
            (a.get("metadata").and_then(Value::as_object), b.get("metadata").and_then(Value::as_object))
        else {
            return a.get("metadata") == b.get("metadata");
        };
        let count = |m: &serde_json::Map<String, Value>| m.keys().filter(|k| *k != skip).count();
        count(am) == count(bm) && am.iter().all(|(k, v)| k == skip || bm.get(k) == Some(v))
    };
    a.len() == b.len() && a.iter().all(|(k, v)| if k == "metadata" { meta_equal() } else { b.get(k) == Some(v) })
}

/// True if two `managedFields` lists differ at most in their times.
fn equal_except_time(a: &Value, b: &Value) -> bool {
    match (a.as_array(), b.as_array()) {
        (Some(a), Some(b)) => {
            a.len() == b.len()
                && a.iter().zip(b).all(|(x, y)| match (x.as_object(), y.as_object()) {
                    (Some(x), Some(y)) => {
                        let count = |m: &serde_json::Map<String, Value>| m.keys().filter(|k| *k != "time").count();
                        count(x) == count(y) && x.iter().all(|(k, v)| k == "time" || y.get(k) == Some(v))
                    }
                    _ => x == y,
                })
        }
        _ => a == b,
    }
}

/// The checks of an apply request's options: a field manager is required.
pub fn apply_manager(query: &Query) -> Result<String, ApiError> {
    requested_manager(query, "PatchOptions")?.ok_or_else(|| {
        options_invalid(
            "PatchOptions",
            vec![kubeplex_core::status::cause::required("fieldManager", "is required for apply patch")],
        )
    })
}

/// `force` is only for apply patches.
pub fn refuse_force(query: &Query) -> Result<(), ApiError> {
    if query.get("force").is_some() {
        return Err(options_invalid(
            "PatchOptions",
            vec![StatusCause {
                reason: "FieldValueForbidden".into(),
                message: "Forbidden: may not be specified for non-apply patch".into(),
                field: "force".into(),
            }],
        ));
    }
    Ok(())
}

/// `force=true`.
pub fn force(query: &Query) -> Result<bool, ApiError> {
    match query.get("force") {
        None | Some("" | "false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!("invalid force value {other:?}"))),
    }
}

/// Checks an applied configuration against the resource it is applied to
/// (upstream's 400s), filling in the name from the URL when absent.
pub fn check_config(def: &ResourceDef, name: &str, config: &mut Value) -> Result<(), ApiError> {
    let Some(object) = config.as_object_mut() else {
        return Err(ApiError::bad_request("error decoding YAML: the applied configuration must be an object"));
    };
    let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    if api_version != def.api_version() || kind != def.kind {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        return Err(ApiError::bad_request(format!("invalid object type: {group}/{version}, Kind={kind}")));
    }
    let meta = object.entry("metadata").or_insert_with(|| Value::Object(Default::default()));
    let Some(meta) = meta.as_object_mut() else {
        return Err(ApiError::bad_request("error decoding YAML: metadata must be an object"));
    };
    if meta.contains_key("managedFields") {
        return Err(ApiError::bad_request("metadata.managedFields must be nil"));
    }
    match meta.get("name").and_then(Value::as_str) {
        Some(n) if n == name => {}
        None | Some("") => {
            meta.insert("name".into(), Value::String(name.to_owned()));
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({other}) does not match the name on the URL ({name})"
            )));
        }
    }
    Ok(())
}

/// Upstream's answer to a failed apply.
pub fn apply_error(err: FieldsError, def: &ResourceDef, namespace: Option<&str>, name: &str) -> ApiError {
    match err {
        FieldsError::Conflicts(conflicts) => {
            let causes = conflicts
                .0
                .iter()
                .map(|c| StatusCause {
                    reason: "FieldManagerConflict".into(),
                    message: format!("conflict with {}", c.manager),
                    field: c.path.clone(),
                })
                .collect();
            ApiError::apply_conflict(conflicts.to_string(), causes)
        }
        FieldsError::Typed(why) => {
            let (group, version) = match def.group.is_empty() {
                true => ("", &*def.version),
                false => (&*def.group, &*def.version),
            };
            ApiError::unknown(
                500,
                format!(
                    "failed to create typed patch object ({}/{name}; {group}/{version}, Kind={}): {why}",
                    namespace.unwrap_or(""),
                    def.kind
                ),
            )
        }
        FieldsError::BadManagedFields(why) => ApiError::unknown(500, why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn query(pairs: &[(&str, &str)]) -> Query {
        let text: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        Query::parse(Some(&text))
    }

    #[test]
    fn manager_names_and_their_errors() {
        assert_eq!(manager_name(&query(&[]), "kubectl/v1.37.1 (linux)", "CreateOptions").unwrap(), "kubectl");
        assert_eq!(manager_name(&query(&[("fieldManager", "me")]), "", "CreateOptions").unwrap(), "me");
        let long = "x".repeat(129);
        let err = manager_name(&query(&[("fieldManager", &long)]), "", "UpdateOptions").unwrap_err();
        assert_eq!(
            err.message,
            "UpdateOptions.meta.k8s.io \"\" is invalid: fieldManager: Too long: may not be more than 128 bytes"
        );
        let err = apply_manager(&query(&[])).unwrap_err();
        assert_eq!(err.code, 422);
        assert_eq!(
            err.message,
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
        );
        let err = refuse_force(&query(&[("force", "false")])).unwrap_err();
        assert_eq!(
            err.message,
            "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch"
        );
        let err = manager_name(&query(&[("fieldManager", "a\tb")]), "", "PatchOptions").unwrap_err();
        assert_eq!(
            err.message,
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Invalid value: \"a\\tb\": invalid character U+0009 (at position 1)"
        );
    }

    #[test]
    fn unchanged_applies_keep_their_times() {
        let old =
            json!({"metadata": {"name": "a", "managedFields": [{"manager": "m", "time": "1"}]}, "spec": {"x": 1}});
        let mut same =
            json!({"metadata": {"name": "a", "managedFields": [{"manager": "m", "time": "2"}]}, "spec": {"x": 1}});
        keep_if_unchanged(&old, &mut same);
        assert_eq!(same, old);
        let mut changed =
            json!({"metadata": {"name": "a", "managedFields": [{"manager": "m", "time": "2"}]}, "spec": {"x": 2}});
        keep_if_unchanged(&old, &mut changed);
        assert_eq!(changed["metadata"]["managedFields"][0]["time"], "2");
        let mut other =
            json!({"metadata": {"name": "a", "managedFields": [{"manager": "n", "time": "2"}]}, "spec": {"x": 1}});
        keep_if_unchanged(&old, &mut other);
        assert_eq!(other["metadata"]["managedFields"][0]["manager"], "n");
    }

    #[test]
    fn applied_configurations_are_checked() {
        let def = kubeplex_core::resource::BUILTIN.iter().find(|d| d.kind == "Deployment").unwrap();
        let mut ok = json!({"apiVersion": "apps/v1", "kind": "Deployment"});
        check_config(def, "web", &mut ok).unwrap();
        assert_eq!(ok["metadata"]["name"], "web");
        let mut wrong = json!({"apiVersion": "v1", "kind": "Deployment"});
        assert_eq!(
            check_config(def, "web", &mut wrong).unwrap_err().message,
            "invalid object type: /v1, Kind=Deployment"
        );
        let mut managed = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"managedFields": []}});
        assert_eq!(check_config(def, "web", &mut managed).unwrap_err().message, "metadata.managedFields must be nil");
        let mut other = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}});
        assert_eq!(check_config(def, "web", &mut other).unwrap_err().code, 400);
    }
}
