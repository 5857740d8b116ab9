//! Objects as the API server handles them: JSON values, stored under
//! `/registry/<storage>/<cluster>/[<namespace>/]<name>`, with the server's
//! own metadata (uid, creationTimestamp, generation, resourceVersion).
//!
//! The stored bytes never hold `metadata.resourceVersion`: it is the store's
//! revision of the key, set when an object is read, so it cannot go stale.

use std::collections::BTreeMap;

use bytes::Bytes;
use kubeplex_core::names;
use kubeplex_core::resource::ResourceDef;
use kubeplex_core::status::{ApiError, cause};
use kubeplex_store::{KeyValue, Revision};
use rand::Rng;
use serde::de::IgnoredAny;
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

/// The key of one object.
pub fn key(def: &ResourceDef, cluster: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("/registry/{}/{cluster}/{ns}/{name}", def.storage),
        None => format!("/registry/{}/{cluster}/{name}", def.storage),
    }
}

/// The prefix of a collection: every object of a cluster, or of one
/// namespace of it.
pub fn prefix(def: &ResourceDef, cluster: &str, namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) => format!("/registry/{}/{cluster}/{ns}/", def.storage),
        None => format!("/registry/{}/{cluster}/", def.storage),
    }
}

/// The bytes stored for `object` (without its resourceVersion).
pub fn encode(object: &Value) -> Result<Bytes, ApiError> {
    serde_json::to_vec(&Stored(object))
        .map(Bytes::from)
        .map_err(|e| ApiError::internal(format!("encoding object: {e}")))
}

/// An object serialized as stored: every member but `metadata.resourceVersion`
/// (written without copying the object first).
struct Stored<'a>(&'a Value);

impl Serialize for Stored<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Value::Object(top) = self.0 else { return self.0.serialize(serializer) };
        let mut map = serializer.serialize_map(Some(top.len()))?;
        for (key, value) in top {
            match value {
                Value::Object(meta) if key == "metadata" => map.serialize_entry(key, &WithoutResourceVersion(meta))?,
                _ => map.serialize_entry(key, value)?,
            }
        }
        map.end()
    }
}

struct WithoutResourceVersion<'a>(&'a Map<String, Value>);

impl Serialize for WithoutResourceVersion<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in self.0.iter().filter(|(k, _)| *k != "resourceVersion") {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// The bytes of an object as served at `revision`, straight from its stored
/// bytes: `metadata.resourceVersion` is spliced in as the last member of
/// `metadata` (where [`decode_at`] puts it) without building a value; also
/// its labels. The same result as decoding, setting the revision and
/// encoding again, at the cost of one scan.
pub fn served_bytes(stored: &[u8], revision: Revision) -> Result<(Bytes, BTreeMap<String, String>), ApiError> {
    #[derive(Deserialize)]
    struct Top<'a> {
        #[serde(borrow, default)]
        metadata: Option<&'a RawValue>,
    }
    #[derive(Deserialize)]
    struct Meta {
        #[serde(default)]
        labels: Option<Map<String, Value>>,
        #[serde(default, rename = "resourceVersion")]
        resource_version: Option<IgnoredAny>,
    }
    let corrupt = |e: serde_json::Error| ApiError::internal(format!("stored object is not valid JSON: {e}"));
    let top: Top<'_> = serde_json::from_slice(stored).map_err(corrupt)?;
    let meta_text = top.metadata.map(RawValue::get).filter(|m| m.starts_with('{') && m.ends_with('}'));
    let parsed =
        meta_text.map(|m| serde_json::from_str::<Meta>(m).map(|meta| (m, meta))).transpose().map_err(corrupt)?;
    let Some((meta_text, meta)) = parsed.filter(|(_, meta)| meta.resource_version.is_none()) else {
        // No metadata object (or, from elsewhere, one with a version): the long way.
        let object = decode_at(stored, revision)?;
        let json = serde_json::to_vec(&object).map_err(|e| ApiError::internal(format!("encoding object: {e}")))?;
        return Ok((Bytes::from(json), labels(&object)));
    };
    // The closing brace of metadata, as an offset into `stored`.
    let close = meta_text.as_ptr() as usize - stored.as_ptr() as usize + meta_text.len() - 1;
    let empty = meta_text[1..meta_text.len() - 1].trim().is_empty();
    let member = format!("{}\"resourceVersion\":\"{revision}\"", if empty { "" } else { "," });
    let mut json = Vec::with_capacity(stored.len() + member.len());
    json.extend_from_slice(&stored[..close]);
    json.extend_from_slice(member.as_bytes());
    json.extend_from_slice(&stored[close..]);
    let labels = meta
        .labels
        .map(|l| l.into_iter().filter_map(|(k, v)| Some((k, v.as_str()?.to_owned()))).collect())
        .unwrap_or_default();
    Ok((Bytes::from(json), labels))
}

/// The object stored in `kv`, with its resourceVersion.
pub fn decode(kv: &KeyValue) -> Result<Value, ApiError> {
    decode_at(&kv.value, kv.mod_revision)
}

/// The object in `bytes`, with resourceVersion `revision`.
pub fn decode_at(bytes: &[u8], revision: Revision) -> Result<Value, ApiError> {
    let mut object: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::internal(format!("stored object is not valid JSON: {e}")))?;
    set_resource_version(&mut object, revision);
    Ok(object)
}

/// Sets `metadata.resourceVersion`.
pub fn set_resource_version(object: &mut Value, revision: Revision) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("resourceVersion".into(), json!(revision.to_string()));
    }
}

/// `metadata` of an object (an empty map if absent or not an object).
pub fn meta(object: &Value) -> &Map<String, Value> {
    static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
    object.get("metadata").and_then(Value::as_object).unwrap_or(&EMPTY)
}

/// `metadata.labels` (string values only).
pub fn labels(object: &Value) -> std::collections::BTreeMap<String, String> {
    meta(object)
        .get("labels")
        .and_then(Value::as_object)
        .map(|l| l.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
        .unwrap_or_default()
}

/// A string field of `metadata`.
pub fn meta_str<'a>(object: &'a Value, field: &str) -> Option<&'a str> {
    meta(object).get(field).and_then(Value::as_str)
}

/// `metadata`, created if needed.
pub fn meta_mut(object: &mut Value) -> &mut Map<String, Value> {
    if !object.get("metadata").is_some_and(Value::is_object) {
        object["metadata"] = json!({});
    }
    object["metadata"].as_object_mut().expect("metadata was just made an object")
}

/// The current time as Kubernetes writes timestamps (RFC 3339, seconds, UTC).
pub fn now() -> String {
    jiff::Timestamp::now().strftime(TIME_FORMAT).to_string()
}

/// Object times as upstream writes them: RFC 3339, whole seconds, UTC.
const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// `seconds` after the RFC 3339 time `from` (now when `None` or unreadable),
/// in the same whole-second form as [`now`].
pub fn time_after(from: Option<&str>, seconds: i64) -> String {
    let from = from.and_then(|t| t.parse::<jiff::Timestamp>().ok()).unwrap_or_else(jiff::Timestamp::now);
    let at = from.checked_add(jiff::SignedDuration::from_secs(seconds)).unwrap_or(from);
    at.strftime(TIME_FORMAT).to_string()
}

/// A random (version 4) UUID.
pub fn new_uid() -> String {
    let mut b: [u8; 16] = rand::rng().random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// Checks the body of a create or update against the endpoint it was sent
/// to: its kind and apiVersion (when given) and its namespace.
pub fn check_type_and_namespace(
    object: &mut Value,
    def: &ResourceDef,
    namespace: Option<&str>,
) -> Result<(), ApiError> {
    if !object.is_object() {
        return Err(ApiError::bad_request("the body of the request must be a JSON or YAML object"));
    }
    let api_version = def.api_version();
    match object.get("kind").and_then(Value::as_str) {
        None | Some("") => object["kind"] = json!(def.kind),
        Some(kind) if kind == def.kind => {}
        Some(kind) => {
            return Err(ApiError::bad_request(format!(
                "the kind \"{kind}\" in the request body does not match the expected kind \"{}\"",
                def.kind
            )));
        }
    }
    match object.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => object["apiVersion"] = json!(api_version),
        Some(v) if v == api_version => {}
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({api_version})"
            )));
        }
    }
    let meta = meta_mut(object);
    match (namespace, meta.get("namespace").and_then(Value::as_str)) {
        (Some(ns), None | Some("")) => {
            meta.insert("namespace".into(), json!(ns));
        }
        (Some(ns), Some(given)) if given != ns => {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        (None, Some(_)) => {
            meta.shift_remove("namespace");
        }
        _ => {}
    }
    Ok(())
}

/// Fields of `metadata` only the server sets, dropped from create bodies.
const SERVER_OWNED: &[&str] =
    &["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion", "selfLink"];

/// Sets the server-owned metadata of a new object: uid, creation time and
/// (for kinds with a spec) generation 1. The name must already be set.
pub fn init_new(object: &mut Value) {
    let has_spec = object.get("spec").is_some();
    let meta = meta_mut(object);
    for field in SERVER_OWNED {
        meta.shift_remove(*field);
    }
    meta.insert("uid".into(), json!(new_uid()));
    meta.insert("creationTimestamp".into(), json!(now()));
    if has_spec {
        meta.insert("generation".into(), json!(1));
    } else {
        meta.shift_remove("generation");
    }
}

/// Carries the server-owned metadata of `old` into its replacement `new`,
/// bumping `generation` when the spec changed.
pub fn carry_over(new: &mut Value, old: &Value) {
    let spec_changed = new.get("spec") != old.get("spec");
    let old_meta = meta(old).clone();
    let meta = meta_mut(new);
    for field in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"] {
        match old_meta.get(field) {
            Some(v) => meta.insert(field.into(), v.clone()),
            None => meta.shift_remove(field),
        };
    }
    meta.shift_remove("selfLink");
    match old_meta.get("generation").and_then(Value::as_i64) {
        Some(g) => {
            meta.insert("generation".into(), json!(if spec_changed { g + 1 } else { g }));
        }
        None => {
            meta.shift_remove("generation");
        }
    }
}

/// The name of a new object: `metadata.name`, or one made from
/// `generateName`, validated as a DNS-1123 subdomain.
pub fn name_for_create(object: &mut Value, def: &ResourceDef) -> Result<String, ApiError> {
    let meta = meta_mut(object);
    let name = match (meta.get("name").and_then(Value::as_str), meta.get("generateName").and_then(Value::as_str)) {
        (Some(name), _) if !name.is_empty() => name.to_owned(),
        (_, Some(prefix)) if !prefix.is_empty() => names::generate_name(prefix),
        _ => {
            return Err(ApiError::invalid(
                &def.kind,
                &def.group,
                "",
                vec![cause::required("metadata.name", "name or generateName is required")],
            ));
        }
    };
    // Names become segments of storage keys; the kind's own name rules
    // (DNS subdomain, label, …) are checked by its strategy.
    let problems = names::validate_path_segment_name(&name, false);
    if !problems.is_empty() {
        let causes = problems.iter().map(|p| cause::invalid("metadata.name", &json!(name), p)).collect();
        return Err(ApiError::invalid(&def.kind, &def.group, &name, causes));
    }
    meta.insert("name".into(), json!(name));
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubeplex_core::resource::{BUILTIN, find};

    #[test]
    fn keys() {
        let pods = find(BUILTIN, "", "v1", "pods").unwrap();
        assert_eq!(key(pods, "t1", Some("demo"), "p"), "/registry/pods/t1/demo/p");
        assert_eq!(prefix(pods, "t1", None), "/registry/pods/t1/");
        let ns = find(BUILTIN, "", "v1", "namespaces").unwrap();
        assert_eq!(key(ns, "root", None, "demo"), "/registry/namespaces/root/demo");
    }

    #[test]
    fn times_after() {
        assert_eq!(time_after(Some("2026-01-01T00:00:30Z"), -20), "2026-01-01T00:00:10Z");
        assert_eq!(time_after(Some("2026-01-01T23:59:59Z"), 30), "2026-01-02T00:00:29Z");
        let soon: jiff::Timestamp = time_after(None, 30).parse().unwrap();
        let wait = soon.duration_since(jiff::Timestamp::now()).as_secs();
        assert!((28..=30).contains(&wait), "{wait}");
    }

    #[test]
    fn resource_version_is_never_stored() {
        let obj = json!({"metadata": {"name": "a", "resourceVersion": "7"}, "data": {"k": "v"}});
        let bytes = encode(&obj).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains("resourceVersion"));
        assert_eq!(decode_at(&bytes, 42).unwrap()["metadata"]["resourceVersion"], "42");
    }

    #[test]
    fn served_bytes_are_the_decoded_object_encoded_again() {
        let objects = [
            json!({"kind": "Pod", "metadata": {"name": "a", "labels": {"app": "web", "n": 1}, "uid": "u"},
                   "spec": {"x": "}\"{", "metadata": {}}}),
            json!({"metadata": {}, "data": {"k": "v"}}),
            json!({"metadata": {"name": "été \"q\""}, "z": [1, {"metadata": 2}]}),
            json!({"data": "no metadata"}),
            json!({"metadata": "not an object"}),
        ];
        for object in objects {
            let stored = encode(&object).unwrap();
            let (bytes, labels) = served_bytes(&stored, 42).unwrap();
            let decoded = decode_at(&stored, 42).unwrap();
            assert_eq!(bytes, serde_json::to_vec(&decoded).unwrap(), "{object}");
            assert_eq!(labels, super::labels(&decoded), "{object}");
        }
        // Whitespace around metadata's members, as another writer might store it.
        let spaced = br#"{ "metadata" : { } , "a" : 1 }"#;
        let (bytes, _) = served_bytes(spaced, 7).unwrap();
        assert_eq!(serde_json::from_slice::<Value>(&bytes).unwrap(), decode_at(spaced, 7).unwrap());
        // A stored resourceVersion (never written by kubeplex) is replaced, not repeated.
        let versioned = br#"{"metadata":{"resourceVersion":"3","name":"a"}}"#;
        let (bytes, _) = served_bytes(versioned, 9).unwrap();
        assert_eq!(bytes, serde_json::to_vec(&decode_at(versioned, 9).unwrap()).unwrap());
        assert!(served_bytes(b"{not json", 1).is_err());
    }

    #[test]
    fn names() {
        let cm = find(BUILTIN, "", "v1", "configmaps").unwrap();
        let mut obj = json!({"metadata": {"generateName": "web-"}});
        let name = name_for_create(&mut obj, cm).unwrap();
        assert!(name.starts_with("web-") && name.len() == 9, "{name}");
        let mut bad = json!({"metadata": {"name": "a/b"}});
        let err = name_for_create(&mut bad, cm).unwrap_err();
        assert_eq!(
            err.message,
            "ConfigMap \"a/b\" is invalid: metadata.name: Invalid value: \"a/b\": may not contain '/'"
        );
        let err = name_for_create(&mut json!({"metadata": {}}), cm).unwrap_err();
        assert_eq!(
            err.message,
            "ConfigMap \"\" is invalid: metadata.name: Required value: name or generateName is required"
        );
    }

    #[test]
    fn generation_follows_the_spec() {
        let mut new = json!({"metadata": {"name": "d"}, "spec": {"replicas": 1}});
        init_new(&mut new);
        assert_eq!(new["metadata"]["generation"], 1);
        let mut changed = json!({"metadata": {"name": "d"}, "spec": {"replicas": 2}});
        carry_over(&mut changed, &new);
        assert_eq!(changed["metadata"]["generation"], 2);
        assert_eq!(changed["metadata"]["uid"], new["metadata"]["uid"]);
        let mut same = json!({"metadata": {"name": "d"}, "spec": {"replicas": 2}, "status": {"x": 1}});
        carry_over(&mut same, &changed);
        assert_eq!(same["metadata"]["generation"], 2);
    }

    #[test]
    fn uids_look_like_uuids() {
        let uid = new_uid();
        assert_eq!(uid.len(), 36);
        assert_eq!(&uid[14..15], "4");
    }
}
