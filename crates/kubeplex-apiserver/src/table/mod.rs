//! `meta.k8s.io` Tables for `kubectl get`: what kube-apiserver 1.36 answers
//! when the `Accept` header asks for `as=Table` (see `wants_table`), for a
//! list, a single object, and each event of a watch.
//!
//! ```text
//!  Accept ─► table_version / wants_table
//!  objects ─► printers::printer_for(def) ─► columns + one row per object
//!          ─► rows[].object per IncludeObject (None | Metadata | Object)
//!          ─► {"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{…},
//!              "columnDefinitions":[…],"rows":[{"cells":[…],"object":…}]}
//! ```
//!
//! Cells are rendered on the server (Age `5m`, pod Status `CrashLoopBackOff`)
//! and always include the `-o wide` columns (`priority: 1`); the client hides
//! them. A watch sends the column definitions with its first event only and
//! `"columnDefinitions": null` afterwards, as upstream does; `Status` objects
//! (watch `ERROR` events) are sent as they are, not as Tables.

mod accept;
mod custom;
mod docs;
mod duration;
mod json;
mod printers;

use jiff::Timestamp;
use kubeplex_core::resource::ResourceDef;
use kubeplex_core::status::ApiError;
use serde_json::{Map, Value, json};

pub use accept::{TableVersion, table_version, wants_table};
pub use duration::{human_duration, short_human_duration};
pub use printers::Column;

/// The annotation of the bookmark that ends a watch's initial events; its
/// row always carries the object's metadata so the client can see it.
const INITIAL_EVENTS_END: &str = "k8s.io/initial-events-end";

/// What each row carries in `rows[].object` (`?includeObject=`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum IncludeObject {
    /// `null`.
    None,
    /// A `PartialObjectMetadata` with the object's metadata (the default):
    /// kubectl builds NAMESPACE, `--show-labels` and `-L` from it.
    #[default]
    Metadata,
    /// The whole object (kubectl `--sort-by`).
    Object,
}

impl IncludeObject {
    /// Parses `?includeObject=`: absent or empty is `Metadata`; anything but
    /// `None`, `Metadata` or `Object` is upstream's 400.
    pub fn from_query(value: Option<&str>) -> Result<IncludeObject, ApiError> {
        match value.unwrap_or("") {
            "" | "Metadata" => Ok(IncludeObject::Metadata),
            "None" => Ok(IncludeObject::None),
            "Object" => Ok(IncludeObject::Object),
            other => Err(ApiError::bad_request(format!(
                "Unable to convert to Table as requested: includeObject: Invalid value: {}: must be 'Metadata', 'Object', 'None', or empty",
                go_json_string(other)
            ))),
        }
    }
}

impl std::str::FromStr for IncludeObject {
    type Err = ApiError;

    fn from_str(s: &str) -> Result<IncludeObject, ApiError> {
        IncludeObject::from_query(Some(s))
    }
}

/// A string as Go's `json.Marshal` writes it (HTML characters escaped), the
/// way upstream shows an invalid value of a string type.
fn go_json_string(s: &str) -> String {
    Value::from(s)
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// How to render a Table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TableOptions {
    pub include_object: IncludeObject,
    /// `meta.k8s.io/v1` or `v1beta1` (from [`table_version`]).
    pub version: TableVersion,
    /// Whether to send `columnDefinitions` (`false` for the events of a
    /// watch after the first, which then carry `null`).
    pub headers: bool,
}

impl Default for TableOptions {
    fn default() -> TableOptions {
        TableOptions { include_object: IncludeObject::Metadata, version: TableVersion::V1, headers: true }
    }
}

/// The Table of a list: one row per object, in order. `list_meta` is the
/// list's metadata (`resourceVersion`, `continue`, `remainingItemCount`);
/// empty or absent fields are left out.
pub fn table(
    def: &ResourceDef,
    objects: &[Value],
    include_object: IncludeObject,
    list_meta: Value,
    now: Timestamp,
) -> Value {
    let opts = TableOptions { include_object, ..TableOptions::default() };
    render(def, objects, &opts, &list_meta, now)
}

/// The Table of one object (a GET): one row, `metadata.resourceVersion` the
/// object's.
pub fn object_table(def: &ResourceDef, object: &Value, include_object: IncludeObject, now: Timestamp) -> Value {
    let opts = TableOptions { include_object, ..TableOptions::default() };
    single(def, object, &opts, now)
}

/// The object of one watch event as a one-row Table: `headers` for the first
/// event of the watch, `false` afterwards (`columnDefinitions: null`).
pub fn watch_event_table(
    def: &ResourceDef,
    object: &Value,
    include_object: IncludeObject,
    headers: bool,
    now: Timestamp,
) -> Value {
    let opts = TableOptions { include_object, headers, ..TableOptions::default() };
    single(def, object, &opts, now)
}

/// [`object_table`] / [`watch_event_table`] with every option.
pub fn single(def: &ResourceDef, object: &Value, opts: &TableOptions, now: Timestamp) -> Value {
    let rv = json::str_at(object, &["metadata", "resourceVersion"]);
    render(def, std::slice::from_ref(object), opts, &json!({ "resourceVersion": rv }), now)
}

/// The Table of `objects` with every option (see [`table`]).
pub fn render(def: &ResourceDef, objects: &[Value], opts: &TableOptions, list_meta: &Value, now: Timestamp) -> Value {
    let printer = printers::printer_for(def);
    let rows: Vec<Value> = objects.iter().map(|o| row_with(def, &printer, o, opts, now)).collect();
    let generic = printer.generic && def.custom.is_none();
    let rows = if rows.is_empty() && generic { Value::Null } else { Value::Array(rows) };
    let mut table = Map::new();
    table.insert("kind".into(), Value::from("Table"));
    table.insert("apiVersion".into(), Value::from(opts.version.api_version()));
    table.insert("metadata".into(), Value::Object(table_metadata(list_meta)));
    table.insert("columnDefinitions".into(), if opts.headers { column_definitions(def) } else { Value::Null });
    table.insert("rows".into(), rows);
    Value::Object(table)
}

/// The `columnDefinitions` of `def`'s Tables.
pub fn column_definitions(def: &ResourceDef) -> Value {
    if let Some(custom) = &def.custom {
        return custom::column_definitions(custom);
    }
    Value::Array(
        printers::printer_for(def)
            .columns
            .iter()
            .map(|c| {
                json!({"name": c.name, "type": c.type_, "format": c.format,
                       "description": c.description, "priority": c.priority})
            })
            .collect(),
    )
}

fn row_with(
    def: &ResourceDef,
    printer: &printers::Printer,
    object: &Value,
    opts: &TableOptions,
    now: Timestamp,
) -> Value {
    let printed = match &def.custom {
        Some(custom) => printers::Row { cells: custom::cells(custom, object, now), conditions: None },
        None => (printer.row)(object, now),
    };
    let mut row = Map::new();
    row.insert("cells".into(), Value::Array(printed.cells));
    if let Some(conditions) = printed.conditions {
        row.insert("conditions".into(), conditions);
    }
    row.insert("object".into(), row_object(def, object, opts));
    Value::Object(row)
}

/// `rows[].object`: the whole object (with its apiVersion and kind), its
/// metadata as `PartialObjectMetadata`, or `null`. The end-of-initial-events
/// bookmark always carries its metadata.
fn row_object(def: &ResourceDef, object: &Value, opts: &TableOptions) -> Value {
    let end_bookmark = json::str_at(object, &["metadata", "annotations", INITIAL_EVENTS_END]) == "true";
    match opts.include_object {
        IncludeObject::Object => {
            let mut full = Map::new();
            full.insert("kind".into(), Value::from(&*def.kind));
            full.insert("apiVersion".into(), Value::from(def.api_version()));
            if let Some(fields) = object.as_object() {
                for (k, v) in fields {
                    if k != "kind" && k != "apiVersion" {
                        full.insert(k.clone(), v.clone());
                    }
                }
            }
            Value::Object(full)
        }
        IncludeObject::None if !end_bookmark => Value::Null,
        IncludeObject::None | IncludeObject::Metadata => {
            let metadata =
                json::get(object, &["metadata"]).filter(|m| m.is_object()).cloned().unwrap_or_else(|| json!({}));
            json!({"kind": "PartialObjectMetadata", "apiVersion": opts.version.api_version(), "metadata": metadata})
        }
    }
}

/// The Table's `ListMeta`: `resourceVersion` and `continue` when not empty,
/// `remainingItemCount` when set.
fn table_metadata(list_meta: &Value) -> Map<String, Value> {
    let mut meta = Map::new();
    for key in ["resourceVersion", "continue"] {
        let value = json::str_at(list_meta, &[key]);
        if !value.is_empty() {
            meta.insert(key.into(), Value::from(value));
        }
    }
    if let Some(count) = json::get(list_meta, &["remainingItemCount"]).filter(|c| c.is_number()) {
        meta.insert("remainingItemCount".into(), count.clone());
    }
    meta
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubeplex_core::resource::{BUILTIN, find};

    fn def(group: &str, version: &str, plural: &str) -> &'static ResourceDef {
        find(BUILTIN, group, version, plural).unwrap()
    }

    fn now() -> Timestamp {
        "2025-06-01T12:00:00Z".parse().unwrap()
    }

    /// A ResourceDef without a printer.
    fn widgets() -> ResourceDef {
        use std::borrow::Cow::Borrowed;
        ResourceDef {
            group: Borrowed("example.com"),
            version: Borrowed("v1"),
            kind: Borrowed("Widget"),
            plural: Borrowed("widgets"),
            singular: Borrowed("widget"),
            namespaced: true,
            short_names: kubeplex_core::resource::Names::Static(&[]),
            categories: kubeplex_core::resource::Names::Static(&[]),
            verbs: kubeplex_core::resource::STANDARD_VERBS,
            subresources: &[],
            storage: Borrowed("widgets"),
            custom: None,
        }
    }

    fn configmap(name: &str, rv: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": name, "namespace": "demo", "resourceVersion": rv, "uid": "u-1",
                            "labels": {"app": "web"}, "creationTimestamp": "2025-06-01T11:55:00Z"},
               "data": {"k": "v"}})
    }

    #[test]
    fn list_table_shape() {
        let objects = [configmap("a", "10"), configmap("b", "11")];
        let t = table(
            def("", "v1", "configmaps"),
            &objects,
            IncludeObject::Metadata,
            json!({"resourceVersion": "812", "continue": "tok", "remainingItemCount": 3}),
            now(),
        );
        let keys: Vec<&str> = t.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["kind", "apiVersion", "metadata", "columnDefinitions", "rows"]);
        assert_eq!(t["kind"], "Table");
        assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
        assert_eq!(t["metadata"], json!({"resourceVersion": "812", "continue": "tok", "remainingItemCount": 3}));
        assert_eq!(
            t["columnDefinitions"][0],
            json!({"name": "Name", "type": "string", "format": "name", "description": docs::NAME, "priority": 0})
        );
        assert_eq!(t["columnDefinitions"][1]["name"], "Data");
        assert_eq!(t["columnDefinitions"][2]["format"], "");
        assert_eq!(t["rows"][0]["cells"], json!(["a", 1, "5m"]));
        assert_eq!(
            t["rows"][1]["object"],
            json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": objects[1]["metadata"]})
        );
        assert!(t["rows"][0].get("conditions").is_none());
    }

    #[test]
    fn empty_metadata_and_rows() {
        let t = table(
            def("", "v1", "configmaps"),
            &[],
            IncludeObject::Metadata,
            json!({"resourceVersion": "", "continue": ""}),
            now(),
        );
        assert_eq!(t["metadata"], json!({}));
        assert_eq!(t["rows"], json!([]));
        let t = table(def("", "v1", "configmaps"), &[], IncludeObject::Metadata, Value::Null, now());
        assert_eq!(t["metadata"], json!({}));
        // The default convertor has `null` rows when there are none.
        let t = table(&widgets(), &[], IncludeObject::Metadata, json!({"resourceVersion": "5"}), now());
        assert_eq!(t["rows"], Value::Null);
        assert_eq!(t["metadata"], json!({"resourceVersion": "5"}));
    }

    #[test]
    fn include_object_variants() {
        let cm = configmap("a", "10");
        let d = def("", "v1", "configmaps");
        let none = object_table(d, &cm, IncludeObject::None, now());
        assert_eq!(none["rows"][0]["object"], Value::Null);
        assert!(none["rows"][0].as_object().unwrap().contains_key("object"));
        let full = object_table(d, &cm, IncludeObject::Object, now());
        assert_eq!(full["rows"][0]["object"], cm);
        // The full object carries the served apiVersion and kind even when stored without them.
        let bare = json!({"metadata": {"name": "x"}, "data": {}});
        let full = object_table(d, &bare, IncludeObject::Object, now());
        assert_eq!(
            full["rows"][0]["object"],
            json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "x"}, "data": {}})
        );
        let no_meta = object_table(d, &json!({}), IncludeObject::Metadata, now());
        assert_eq!(no_meta["rows"][0]["object"]["metadata"], json!({}));
        let beta = single(d, &cm, &TableOptions { version: TableVersion::V1beta1, ..TableOptions::default() }, now());
        assert_eq!(beta["apiVersion"], "meta.k8s.io/v1beta1");
        assert_eq!(beta["rows"][0]["object"]["apiVersion"], "meta.k8s.io/v1beta1");
    }

    #[test]
    fn initial_events_end_bookmark_keeps_metadata() {
        let bookmark = json!({"kind": "ConfigMap", "apiVersion": "v1",
                              "metadata": {"resourceVersion": "99", "annotations": {"k8s.io/initial-events-end": "true"}}});
        let t = watch_event_table(def("", "v1", "configmaps"), &bookmark, IncludeObject::None, false, now());
        assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(t["rows"][0]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"], "true");
        let t = watch_event_table(def("", "v1", "configmaps"), &bookmark, IncludeObject::Object, false, now());
        assert_eq!(t["rows"][0]["object"]["kind"], "ConfigMap");
    }

    #[test]
    fn single_object_and_watch_tables() {
        let cm = configmap("a", "42");
        let d = def("", "v1", "configmaps");
        let get = object_table(d, &cm, IncludeObject::Metadata, now());
        assert_eq!(get["metadata"], json!({"resourceVersion": "42"}));
        assert_eq!(get["rows"].as_array().unwrap().len(), 1);
        assert!(get["columnDefinitions"].is_array());
        let first = watch_event_table(d, &cm, IncludeObject::Metadata, true, now());
        assert_eq!(first, get);
        let later = watch_event_table(d, &cm, IncludeObject::Metadata, false, now());
        assert_eq!(later["columnDefinitions"], Value::Null);
        assert_eq!(later["rows"], get["rows"]);
        assert_eq!(later["metadata"], json!({"resourceVersion": "42"}));
    }

    #[test]
    fn pod_rows_carry_completed_condition() {
        let pod = json!({"metadata": {"name": "done"}, "spec": {"containers": [{"name": "c"}]},
                         "status": {"phase": "Succeeded"}});
        let t = table(def("", "v1", "pods"), &[pod], IncludeObject::None, json!({}), now());
        let row = t["rows"][0].as_object().unwrap();
        let keys: Vec<&str> = row.keys().map(String::as_str).collect();
        assert_eq!(keys, ["cells", "conditions", "object"]);
        assert_eq!(row["conditions"][0]["type"], "Completed");
    }

    #[test]
    fn default_table_for_kinds_without_printer() {
        let w = json!({"metadata": {"name": "w1", "creationTimestamp": "2025-06-01T10:00:00Z"}});
        let t = table(&widgets(), &[w], IncludeObject::Metadata, json!({"resourceVersion": "7"}), now());
        assert_eq!(
            t["columnDefinitions"],
            json!([
                {"name": "Name", "type": "string", "format": "name", "description": docs::NAME, "priority": 0},
                {"name": "Created At", "type": "date", "format": "", "description": docs::CREATION_TIMESTAMP, "priority": 0}
            ])
        );
        assert_eq!(t["rows"][0]["cells"], json!(["w1", "2025-06-01T10:00:00Z"]));
    }

    #[test]
    fn wide_columns_have_priority_one() {
        let wide = |plural: &str, group: &str| -> Vec<String> {
            let d = find(BUILTIN, group, "v1", plural).unwrap();
            printers::printer_for(d).columns.iter().filter(|c| c.priority == 1).map(|c| c.name.to_owned()).collect()
        };
        assert_eq!(wide("pods", ""), ["IP", "Node", "Nominated Node", "Readiness Gates"]);
        assert_eq!(wide("services", ""), ["Selector"]);
        assert_eq!(
            wide("nodes", ""),
            ["Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime"]
        );
        assert_eq!(wide("deployments", "apps"), ["Containers", "Images", "Selector"]);
        assert_eq!(wide("replicasets", "apps"), ["Containers", "Images", "Selector"]);
        assert_eq!(wide("jobs", "batch"), ["Containers", "Images", "Selector"]);
        assert_eq!(wide("events", ""), ["Subobject", "Source", "First Seen", "Count", "Name"]);
        assert!(wide("configmaps", "").is_empty());
        let names = |plural: &str, group: &str, version: &str| -> Vec<&str> {
            printers::printer_for(find(BUILTIN, group, version, plural).unwrap())
                .columns
                .iter()
                .filter(|c| c.priority == 0)
                .map(|c| c.name)
                .collect()
        };
        assert_eq!(names("pods", "", "v1"), ["Name", "Ready", "Status", "Restarts", "Age"]);
        assert_eq!(names("deployments", "apps", "v1"), ["Name", "Ready", "Up-to-date", "Available", "Age"]);
        assert_eq!(names("jobs", "batch", "v1"), ["Name", "Status", "Completions", "Duration", "Age"]);
        assert_eq!(names("events", "events.k8s.io", "v1"), ["Last Seen", "Type", "Reason", "Object", "Message"]);
        assert_eq!(names("logicalclusters", "kubeplex.io", "v1alpha1"), ["Name", "Phase", "Age"]);
        assert_eq!(
            names("endpointslices", "discovery.k8s.io", "v1"),
            ["Name", "AddressType", "Ports", "Endpoints", "Age"]
        );
    }

    #[test]
    fn include_object_parsing() {
        assert_eq!(IncludeObject::from_query(None), Ok(IncludeObject::Metadata));
        assert_eq!(IncludeObject::from_query(Some("")), Ok(IncludeObject::Metadata));
        assert_eq!(IncludeObject::from_query(Some("Metadata")), Ok(IncludeObject::Metadata));
        assert_eq!(IncludeObject::from_query(Some("None")), Ok(IncludeObject::None));
        assert_eq!("Object".parse::<IncludeObject>(), Ok(IncludeObject::Object));
        let err = IncludeObject::from_query(Some("object")).unwrap_err();
        assert_eq!(err.code, 400);
        assert_eq!(err.reason, "BadRequest");
        assert_eq!(
            err.message,
            "Unable to convert to Table as requested: includeObject: Invalid value: \"object\": must be 'Metadata', 'Object', 'None', or empty"
        );
        let err = IncludeObject::from_query(Some("<a&b>")).unwrap_err();
        assert!(err.message.contains("Invalid value: \"\\u003ca\\u0026b\\u003e\""), "{}", err.message);
    }

    #[test]
    fn every_kind_renders_robustly() {
        let odd = [json!(null), json!([]), json!("x"), json!({"metadata": 5, "spec": [], "status": "s"})];
        for d in BUILTIN {
            let t = table(d, &odd, IncludeObject::Metadata, json!({"resourceVersion": 3}), now());
            let cols = t["columnDefinitions"].as_array().unwrap().len();
            for row in t["rows"].as_array().unwrap() {
                assert_eq!(row["cells"].as_array().unwrap().len(), cols, "{}", d.kind);
                assert_eq!(row["object"]["metadata"], json!({}));
            }
            // A resourceVersion that is not a string is left out.
            assert_eq!(t["metadata"], json!({}));
        }
    }
}
