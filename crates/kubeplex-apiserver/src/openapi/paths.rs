//! The `paths` of a group-version document: the operations of each served resource and its
//! subresources, with `x-kubernetes-action` and `x-kubernetes-group-version-kind`, the query
//! parameters upstream declares (kubectl looks for `fieldValidation` on the PATCH operation to
//! decide that the server validates) and the patch types accepted (strategic merge patch for
//! built-in kinds only: kubectl's client-side apply picks its patch type from them).
//!
//! ```text
//!  /api/v1/namespaces/{namespace}/pods              get (list) · post · delete (deletecollection)
//!  /api/v1/namespaces/{namespace}/pods/{name}       get · put · patch · delete
//!  /api/v1/namespaces/{namespace}/pods/{name}/status get · put · patch
//!  /api/v1/pods                                     get (list across namespaces)
//! ```

use serde_json::{Map, Value, json};

use crate::registry::Def;

use super::extensions::gvk;

/// What a document's operations need to know about one resource.
pub(super) struct Resource<'a> {
    pub def: &'a Def,
    /// The schema name of the kind (`io.k8s.api.apps.v1.Deployment`).
    pub schema: &'a str,
    /// The schema name of its list kind.
    pub list_schema: &'a str,
    /// Whether strategic merge patch applies (built-in kinds).
    pub strategic: bool,
}

const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1";

/// A query parameter as upstream declares it (a string, integer or boolean).
fn query(name: &str, ty: &str, description: &str) -> Value {
    json!({"description": description, "in": "query", "name": name, "schema": {"type": ty, "uniqueItems": true}})
}

fn path_param(name: &str, description: &str) -> Value {
    json!({"description": description, "in": "path", "name": name, "required": true,
           "schema": {"type": "string", "uniqueItems": true}})
}

fn dry_run() -> Value {
    query(
        "dryRun",
        "string",
        "When present, modifications are not persisted. Valid values are: - All: all dry run stages will be processed",
    )
}

fn field_manager() -> Value {
    query(
        "fieldManager",
        "string",
        "The name of the actor or entity making these changes (at most 128 printable characters).",
    )
}

fn field_validation() -> Value {
    query(
        "fieldValidation",
        "string",
        "How to handle unknown or duplicate fields in the request object: Ignore (drop them silently), Warn (drop \
         them with a warning header for each; the default) or Strict (fail the request with a BadRequest error).",
    )
}

fn write_parameters() -> Vec<Value> {
    vec![dry_run(), field_manager(), field_validation()]
}

fn list_parameters() -> Vec<Value> {
    vec![
        query("allowWatchBookmarks", "boolean", "Requests watch events of type BOOKMARK."),
        query("continue", "string", "The continue token of a previous paginated list call."),
        query("fieldSelector", "string", "A selector restricting the returned objects by their fields."),
        query("labelSelector", "string", "A selector restricting the returned objects by their labels."),
        query("limit", "integer", "The maximum number of items to return in one list call."),
        query("resourceVersion", "string", "Which resource versions the request may be served from."),
        query("resourceVersionMatch", "string", "How resourceVersion applies to list calls."),
        query("sendInitialEvents", "boolean", "With watch=true, start the watch with the current objects."),
        query("timeoutSeconds", "integer", "Timeout for the list/watch call."),
        query("watch", "boolean", "Watch for changes to the described resources."),
    ]
}

fn delete_parameters() -> Vec<Value> {
    vec![
        dry_run(),
        query("gracePeriodSeconds", "integer", "The duration in seconds before the object should be deleted."),
        query(
            "ignoreStoreReadErrorWithClusterBreakingPotential",
            "boolean",
            "Deletes an object that cannot be read from storage (unsafe).",
        ),
        query("orphanDependents", "boolean", "Deprecated: use propagationPolicy."),
        query(
            "propagationPolicy",
            "string",
            "Whether and how garbage collection is performed: Orphan, Background or Foreground.",
        ),
    ]
}

fn reference(schema: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{schema}")})
}

/// The media types of responses carrying `schema`.
fn content(schema: &str, protobuf: bool, watch: bool) -> Value {
    let mut types = vec!["application/json", "application/yaml"];
    if protobuf {
        types.push("application/vnd.kubernetes.protobuf");
    }
    if watch {
        types.push("application/json;stream=watch");
        if protobuf {
            types.push("application/vnd.kubernetes.protobuf;stream=watch");
        }
    }
    let mut out = Map::new();
    for ty in types {
        out.insert(ty.into(), json!({"schema": reference(schema)}));
    }
    Value::Object(out)
}

fn responses(schema: &str, codes: &[(&str, &str)], protobuf: bool, watch: bool) -> Value {
    let mut out = Map::new();
    for (code, description) in codes {
        out.insert((*code).into(), json!({"content": content(schema, protobuf, watch), "description": description}));
    }
    out.insert("401".into(), json!({"description": "Unauthorized"}));
    Value::Object(out)
}

/// `apps` ─► `Apps`, `rbac.authorization.k8s.io` ─► `RbacAuthorization`, core ─► `Core`.
fn group_camel(group: &str) -> String {
    if group.is_empty() {
        return "Core".into();
    }
    let trimmed = group.strip_suffix(".k8s.io").unwrap_or(group);
    trimmed.split(['.', '-']).map(capitalize).collect()
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The tag of a group-version's operations (`apps_v1`, `core_v1`, `rbacAuthorization_v1`).
fn tag(group: &str, version: &str) -> String {
    let camel = group_camel(group);
    let mut chars = camel.chars();
    let lower: String = match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    };
    format!("{lower}_{version}")
}

/// Every path of the resources of one group-version, sorted.
pub(super) fn paths(group: &str, version: &str, resources: &[Resource<'_>]) -> Map<String, Value> {
    let mut out = Map::new();
    for resource in resources {
        add_resource(&mut out, group, version, resource);
    }
    out.sort_keys();
    out
}

fn add_resource(out: &mut Map<String, Value>, group: &str, version: &str, resource: &Resource<'_>) {
    let def = resource.def;
    let root = if group.is_empty() { format!("/api/{version}") } else { format!("/apis/{group}/{version}") };
    let plural = &*def.plural;
    let collection =
        if def.namespaced { format!("{root}/namespaces/{{namespace}}/{plural}") } else { format!("{root}/{plural}") };
    let item = format!("{collection}/{{name}}");
    let op =
        Ops { group, version, kind_group: group, kind_version: version, kind: &def.kind, protobuf: resource.strategic };
    let kind = &*def.kind;
    let scope = if def.namespaced { "Namespaced" } else { "" };
    let schema = resource.schema;
    let list_schema = resource.list_schema;

    let mut scope_params = Vec::new();
    if def.namespaced {
        scope_params.push(path_param("namespace", "object name and auth scope, such as for teams and projects"));
    }
    let pretty = query("pretty", "string", "If 'true', the output is pretty printed.");

    // The collection.
    let mut item_ops = Map::new();
    if def.supports("list") {
        item_ops.insert(
            "get".into(),
            op.operation("list", &format!("list{scope}{kind}"), &format!("list or watch objects of kind {kind}"))
                .parameters(list_parameters())
                .responses(responses(list_schema, &[("200", "OK")], op.protobuf, true))
                .build(),
        );
    }
    if def.supports("create") {
        item_ops.insert(
            "post".into(),
            op.operation("post", &format!("create{scope}{kind}"), &format!("create a {kind}"))
                .parameters(write_parameters())
                .body(json!({"content": {"*/*": {"schema": reference(schema)}}, "required": true}))
                .responses(responses(
                    schema,
                    &[("200", "OK"), ("201", "Created"), ("202", "Accepted")],
                    op.protobuf,
                    false,
                ))
                .build(),
        );
    }
    if def.supports("deletecollection") {
        let mut parameters = list_parameters();
        parameters.retain(|p| !matches!(p["name"].as_str(), Some("allowWatchBookmarks" | "watch")));
        parameters.extend(delete_parameters());
        parameters.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        parameters.dedup_by(|a, b| a["name"] == b["name"]);
        item_ops.insert(
            "delete".into(),
            op.operation(
                "deletecollection",
                &format!("deleteCollection{scope}{kind}"),
                &format!("delete collection of {kind}"),
            )
            .parameters(parameters)
            .body(json!({"content": {"*/*": {"schema": reference(&format!("{META}.DeleteOptions"))}}}))
            .responses(responses(&format!("{META}.Status"), &[("200", "OK")], op.protobuf, false))
            .build(),
        );
    }
    if !item_ops.is_empty() {
        let mut params = scope_params.clone();
        params.push(pretty.clone());
        item_ops.insert("parameters".into(), Value::Array(params));
        out.insert(collection.clone(), Value::Object(item_ops));
    }

    // Across namespaces.
    if def.namespaced && def.supports("list") {
        let mut ops = Map::new();
        ops.insert(
            "get".into(),
            op.operation(
                "list",
                &format!("list{kind}ForAllNamespaces"),
                &format!("list or watch objects of kind {kind}"),
            )
            .parameters(list_parameters())
            .responses(responses(list_schema, &[("200", "OK")], op.protobuf, true))
            .build(),
        );
        ops.insert("parameters".into(), Value::Array(vec![pretty.clone()]));
        out.insert(format!("{root}/{plural}"), Value::Object(ops));
    }

    // The object.
    let mut ops = Map::new();
    if def.supports("get") {
        ops.insert(
            "get".into(),
            op.operation("get", &format!("read{scope}{kind}"), &format!("read the specified {kind}"))
                .responses(responses(schema, &[("200", "OK")], op.protobuf, false))
                .build(),
        );
    }
    if def.supports("update") {
        ops.insert(
            "put".into(),
            op.operation("put", &format!("replace{scope}{kind}"), &format!("replace the specified {kind}"))
                .parameters(write_parameters())
                .body(json!({"content": {"*/*": {"schema": reference(schema)}}, "required": true}))
                .responses(responses(schema, &[("200", "OK"), ("201", "Created")], op.protobuf, false))
                .build(),
        );
    }
    if def.supports("patch") {
        ops.insert("patch".into(), op.patch(&format!("patch{scope}{kind}"), kind, schema, resource.strategic));
    }
    if def.supports("delete") {
        ops.insert(
            "delete".into(),
            op.operation("delete", &format!("delete{scope}{kind}"), &format!("delete a {kind}"))
                .parameters(delete_parameters())
                .body(json!({"content": {"*/*": {"schema": reference(&format!("{META}.DeleteOptions"))}}}))
                .responses(responses(schema, &[("200", "OK"), ("202", "Accepted")], op.protobuf, false))
                .build(),
        );
    }
    let mut item_params = vec![path_param("name", &format!("name of the {kind}"))];
    item_params.extend(scope_params.iter().cloned());
    item_params.push(pretty.clone());
    ops.insert("parameters".into(), Value::Array(item_params.clone()));
    out.insert(item.clone(), Value::Object(ops));

    // Subresources.
    for sub in def.subresources {
        let (sub_group, sub_version, sub_kind) = def.subresource_kind(sub);
        let sub_schema = match sub.name {
            "status" => schema.to_owned(),
            _ => super::builtin::subresource_schema(sub_group, sub_version, sub_kind)
                .unwrap_or_else(|| schema.to_owned()),
        };
        let sub_op = Ops { kind_group: sub_group, kind_version: sub_version, kind: sub_kind, ..op };
        let suffix = capitalize(sub.name);
        let mut ops = Map::new();
        for verb in sub.verbs {
            let (method, value) = match *verb {
                "get" => (
                    "get",
                    sub_op
                        .operation(
                            "get",
                            &format!("read{scope}{kind}{suffix}"),
                            &format!("read {} of the specified {kind}", sub.name),
                        )
                        .responses(responses(&sub_schema, &[("200", "OK")], op.protobuf, false))
                        .build(),
                ),
                "update" => (
                    "put",
                    sub_op
                        .operation(
                            "put",
                            &format!("replace{scope}{kind}{suffix}"),
                            &format!("replace {} of the specified {kind}", sub.name),
                        )
                        .parameters(write_parameters())
                        .body(json!({"content": {"*/*": {"schema": reference(&sub_schema)}}, "required": true}))
                        .responses(responses(&sub_schema, &[("200", "OK"), ("201", "Created")], op.protobuf, false))
                        .build(),
                ),
                "patch" => (
                    "patch",
                    sub_op.patch(&format!("patch{scope}{kind}{suffix}"), kind, &sub_schema, resource.strategic),
                ),
                "create" => (
                    "post",
                    sub_op
                        .operation(
                            "post",
                            &format!("create{scope}{kind}{suffix}"),
                            &format!("create {} of a {kind}", sub.name),
                        )
                        .parameters(write_parameters())
                        .body(json!({"content": {"*/*": {"schema": reference(&sub_schema)}}, "required": true}))
                        .responses(responses(
                            &sub_schema,
                            &[("200", "OK"), ("201", "Created"), ("202", "Accepted")],
                            op.protobuf,
                            false,
                        ))
                        .build(),
                ),
                _ => continue,
            };
            ops.insert(method.into(), value);
        }
        if !ops.is_empty() {
            let mut params = vec![path_param("name", &format!("name of the {}", sub_kind))];
            params.extend(scope_params.iter().cloned());
            params.push(pretty.clone());
            ops.insert("parameters".into(), Value::Array(params));
            out.insert(format!("{item}/{}", sub.name), Value::Object(ops));
        }
    }
}

/// Builds the operations of one resource (or subresource) kind.
#[derive(Clone, Copy)]
struct Ops<'a> {
    /// The document's group-version (operation ids, tags).
    group: &'a str,
    version: &'a str,
    /// The kind sent and returned (`autoscaling/v1` `Scale` for `scale`).
    kind_group: &'a str,
    kind_version: &'a str,
    kind: &'a str,
    protobuf: bool,
}

struct Operation(Map<String, Value>);

impl<'a> Ops<'a> {
    fn operation(&self, action: &str, id: &str, description: &str) -> Operation {
        let mut map = Map::new();
        map.insert("description".into(), description.into());
        let (verb, rest) = split_verb(id);
        map.insert(
            "operationId".into(),
            format!("{verb}{}{}{rest}", group_camel(self.group), capitalize(self.version)).into(),
        );
        map.insert("tags".into(), json!([tag(self.group, self.version)]));
        map.insert("x-kubernetes-action".into(), action.into());
        map.insert("x-kubernetes-group-version-kind".into(), gvk(self.kind_group, self.kind_version, self.kind));
        Operation(map)
    }

    fn patch(&self, id: &str, kind: &str, schema: &str, strategic: bool) -> Value {
        let mut types =
            vec!["application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json"];
        if strategic {
            types.push("application/strategic-merge-patch+json");
        }
        let mut body = Map::new();
        for ty in types {
            body.insert(ty.into(), json!({"schema": reference(&format!("{META}.Patch"))}));
        }
        let mut parameters = write_parameters();
        parameters.push(query(
            "force",
            "boolean",
            "Force is going to \"force\" Apply requests: re-acquire conflicting fields owned by other people. Only \
             for apply patch requests.",
        ));
        parameters.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        self.operation("patch", id, &format!("partially update the specified {kind}"))
            .parameters(parameters)
            .body(json!({"content": body, "required": true}))
            .responses(responses(schema, &[("200", "OK"), ("201", "Created")], self.protobuf, false))
            .build()
    }
}

/// `createNamespacedPod` ─► (`create`, `NamespacedPod`).
fn split_verb(id: &str) -> (&str, &str) {
    let at = id.find(|c: char| c.is_ascii_uppercase()).unwrap_or(id.len());
    id.split_at(at)
}

impl Operation {
    fn parameters(mut self, parameters: Vec<Value>) -> Operation {
        self.0.insert("parameters".into(), Value::Array(parameters));
        self
    }

    fn body(mut self, body: Value) -> Operation {
        self.0.insert("requestBody".into(), body);
        self
    }

    fn responses(mut self, responses: Value) -> Operation {
        self.0.insert("responses".into(), responses);
        self
    }

    fn build(mut self) -> Value {
        self.0.sort_keys();
        Value::Object(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(group_camel(""), "Core");
        assert_eq!(group_camel("rbac.authorization.k8s.io"), "RbacAuthorization");
        assert_eq!(group_camel("stable.example.com"), "StableExampleCom");
        assert_eq!(tag("rbac.authorization.k8s.io", "v1"), "rbacAuthorization_v1");
        assert_eq!(split_verb("deleteCollectionNamespacedPod"), ("delete", "CollectionNamespacedPod"));
    }
}
