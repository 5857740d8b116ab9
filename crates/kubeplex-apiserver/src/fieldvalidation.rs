//! Server-side field validation (k8s-api.md §8, KEP-2885): the
//! `fieldValidation=Strict|Warn|Ignore` query parameter of create, update
//! and patch, and the strict-decoding problems it acts on — unknown fields
//! (not in the kind's schema, from the API facts table) and duplicate fields
//! (an object with the same key twice).
//!
//! The checks follow the Go decoders upstream uses, message for message:
//! - a JSON body decoded into its typed object reports, in document order,
//!   `unknown field "spec.foo"` (the value of an unknown field is skipped) and
//!   `duplicate field "spec.replicas"` for known fields, map keys and keys of
//!   free-form (`interface{}`) values; types with hand-written JSON (Time,
//!   Quantity, IntOrString, RawExtension, FieldsV1, …) are opaque;
//! - a YAML body first reports its duplicate keys as one
//!   `yaml: unmarshal errors:` error (line numbers of the repeated keys), then
//!   the unknown fields of its JSON form, whose keys are sorted;
//! - a patch reports the duplicates of the patch itself (a JSON patch also
//!   unknown members of its operations, prefixed `json patch `), then the
//!   unknown fields of the patched object (sorted by message for a strategic
//!   merge patch, in sorted-key order for the others).
//!
//! Errors are deduplicated and capped at 100 per decode, as upstream.
//! Unknown fields are dropped from what gets stored in every mode.
//!
//! Custom resources are checked against their version's OpenAPI schema
//! ([`Schema::Custom`]): duplicates as above, then the fields upstream's
//! pruning drops (`unknown field "spec.foo"`, unknown `metadata` fields
//! first, the rest sorted).

use std::collections::HashSet;

use http::HeaderMap;
use kubeplex_api_facts::{ApiFacts, TypeFacts, TypeRef};
use kubeplex_core::resource::ResourceDef;
use kubeplex_core::status::{ApiError, cause};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::http::{Query, content_type, decode_object};
use kubeplex_patch::go_quote;

/// Strict errors one decode keeps at most (upstream's limit).
const MAX_ERRORS: usize = 100;

/// What to do with unknown and duplicate fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Directive {
    /// Refuse the request.
    Strict,
    /// Accept it, with one `Warning` header per problem (the default).
    Warn,
    /// Accept it silently.
    Ignore,
}

impl Directive {
    /// The `fieldValidation` parameter; `options_kind` (`CreateOptions`,
    /// `UpdateOptions`, `PatchOptions`) names the options in the 422 an
    /// unsupported value gets.
    pub fn from_query(query: &Query, options_kind: &str) -> Result<Directive, ApiError> {
        match query.get("fieldValidation") {
            None | Some("") | Some("Warn") => Ok(Directive::Warn),
            Some("Strict") => Ok(Directive::Strict),
            Some("Ignore") => Ok(Directive::Ignore),
            Some(other) => Err(ApiError::invalid(
                options_kind,
                "meta.k8s.io",
                "",
                vec![cause::not_supported("fieldValidation", other, &["", "Ignore", "Strict", "Warn"])],
            )),
        }
    }

    /// Whether problems are looked for at all.
    pub fn checks(self) -> bool {
        self != Directive::Ignore
    }
}

/// A JSON or YAML value that keeps every member of an object, duplicates
/// included, in document order (with the line of each key, for YAML).
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Node>),
    Object(Vec<(String, u64, Node)>),
}

impl Node {
    /// The JSON value: of repeated keys the last value wins, at the first
    /// key's position (as serde_json and Go's decoders read them).
    pub fn into_value(self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(b),
            Node::Number(n) => Value::Number(n),
            Node::String(s) => Value::String(s),
            Node::Array(items) => Value::Array(items.into_iter().map(Node::into_value).collect()),
            Node::Object(entries) => {
                let mut map = Map::with_capacity(entries.len());
                for (k, _, v) in entries {
                    map.insert(k, v.into_value());
                }
                Value::Object(map)
            }
        }
    }

    /// A node of `value`, with object keys sorted when `sorted` (the order
    /// Go's encoder writes maps in).
    pub fn from_value(value: &Value, sorted: bool) -> Node {
        match value {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => Node::Number(n.clone()),
            Value::String(s) => Node::String(s.clone()),
            Value::Array(items) => Node::Array(items.iter().map(|v| Node::from_value(v, sorted)).collect()),
            Value::Object(map) => {
                let mut entries: Vec<(String, u64, Node)> =
                    map.iter().map(|(k, v)| (k.clone(), 0, Node::from_value(v, sorted))).collect();
                if sorted {
                    entries.sort_by(|a, b| a.0.cmp(&b.0));
                }
                Node::Object(entries)
            }
        }
    }
}

/// Reads a [`Node`]; `yaml` reads keys with their line (serde_saphyr only).
#[derive(Clone, Copy)]
struct NodeSeed {
    yaml: bool,
}

impl<'de> DeserializeSeed<'de> for NodeSeed {
    type Value = Node;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NodeSeed {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Number::from_f64(v).map_or(Node::Null, Node::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        loop {
            let key = if self.yaml {
                match map.next_key::<serde_saphyr::Spanned<KeyText>>()? {
                    Some(k) => (k.value.0, k.referenced.line()),
                    None => break,
                }
            } else {
                match map.next_key::<String>()? {
                    Some(k) => (k, 0),
                    None => break,
                }
            };
            let value = map.next_value_seed(self)?;
            entries.push((key.0, key.1, value));
        }
        Ok(Node::Object(entries))
    }
}

/// A YAML mapping key as text (`true`, `1` become `"true"`, `"1"`, as
/// upstream's YAML-to-JSON conversion makes them).
struct KeyText(String);

impl<'de> de::Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyText;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(v.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<KeyText, E> {
                Ok(KeyText("null".into()))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Parses JSON keeping duplicate keys.
pub fn parse_json(bytes: &[u8]) -> Result<Node, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let node = NodeSeed { yaml: false }.deserialize(&mut de)?;
    de.end()?;
    Ok(node)
}

/// Parses one YAML document keeping duplicate keys (with their lines).
pub fn parse_yaml(text: &str) -> Result<Node, serde_saphyr::Error> {
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::PassThrough,
    };
    serde_saphyr::from_str_with_options::<YamlRoot>(text, options).map(|r| r.0)
}

/// The root of a YAML document as a [`Node`].
struct YamlRoot(Node);

impl<'de> de::Deserialize<'de> for YamlRoot {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        NodeSeed { yaml: true }.deserialize(deserializer).map(YamlRoot)
    }
}

/// How the schema sees a value.
#[derive(Clone, Copy)]
enum Shape<'a> {
    Struct(&'a TypeFacts),
    List(&'a TypeRef),
    Map(&'a TypeRef),
    /// `interface{}` or a custom resource without schema: only duplicates.
    Free,
    /// Scalars and types with hand-written JSON: nothing to check.
    Opaque,
}

fn shape<'a>(facts: &'a ApiFacts, ty: &'a TypeRef) -> Shape<'a> {
    match ty.resolved() {
        TypeRef::Named(name) => match facts.type_by_name(name) {
            Some(t) if !t.custom_json && t.special.is_none() => Shape::Struct(t),
            _ => Shape::Opaque,
        },
        TypeRef::List(item) => Shape::List(item),
        TypeRef::Map { value, .. } => Shape::Map(value),
        TypeRef::Any => Shape::Free,
        _ => Shape::Opaque,
    }
}

/// What unknown fields are judged by.
#[derive(Clone, Copy, Debug)]
pub enum Schema<'a> {
    /// A built-in type of the facts table.
    Typed(&'static TypeFacts),
    /// A custom resource version's `openAPIV3Schema`.
    Custom(&'a Value),
}

/// The schema of what a request addresses: the kind's type (or `Scale`), a
/// custom resource's version schema; `None` for kinds not in the facts table
/// (kubeplex's own kinds, custom resources without a schema), which are
/// checked for duplicates only.
pub fn schema_for<'a>(def: &'a ResourceDef, subresource: Option<&str>) -> Option<Schema<'a>> {
    let facts = kubeplex_api_facts::facts();
    if subresource == Some("scale") {
        return facts.type_by_name("io.k8s.api.autoscaling.v1.Scale").map(Schema::Typed);
    }
    if let Some(custom) = &def.custom {
        return custom.schema.as_deref().map(Schema::Custom);
    }
    facts.kind(&def.group, &def.version, &def.kind).map(Schema::Typed)
}

/// The unknown fields of a custom object, as upstream's pruning reports them.
fn custom_unknown(value: &Value, schema: &Value) -> Vec<String> {
    let mut copy = value.clone();
    kubeplex_core::schema::prune(&mut copy, schema)
        .into_iter()
        .take(MAX_ERRORS)
        .map(|path| format!("unknown field {}", go_quote(&path)))
        .collect()
}

/// Collects strict errors as sigs.k8s.io/json does: a path stack, messages
/// deduplicated and capped.
struct Walker<'a> {
    facts: &'a ApiFacts,
    path: Vec<String>,
    errors: Vec<String>,
    seen: HashSet<String>,
}

impl<'a> Walker<'a> {
    fn new(facts: &'a ApiFacts) -> Self {
        Walker { facts, path: Vec::new(), errors: Vec::new(), seen: HashSet::new() }
    }

    fn save(&mut self, what: &str, field: &str) {
        if self.errors.len() >= MAX_ERRORS {
            return;
        }
        let path = if self.path.is_empty() { field.to_owned() } else { format!("{}.{field}", self.path.concat()) };
        let message = format!("{what} {}", go_quote(&path));
        if self.seen.insert(message.clone()) {
            self.errors.push(message);
        }
    }

    fn push_key(&mut self, key: &str) {
        if !self.path.is_empty() {
            self.path.push(".".into());
        }
        self.path.push(key.to_owned());
    }

    fn walk(&mut self, node: &Node, expected: Shape<'a>) {
        let depth = self.path.len();
        match (node, expected) {
            (Node::Object(entries), Shape::Struct(ty)) => {
                let mut seen = HashSet::new();
                for (key, _, value) in entries {
                    let Some(field) = ty.field(key) else {
                        self.save("unknown field", key);
                        continue;
                    };
                    if !seen.insert(key.as_str()) {
                        self.save("duplicate field", key);
                    }
                    self.push_key(key);
                    self.walk(value, shape_of_field(self.facts, field));
                    self.path.truncate(depth);
                }
            }
            (Node::Object(entries), Shape::Map(_) | Shape::Free) => {
                let inner = match expected {
                    Shape::Map(value) => shape(self.facts, value),
                    _ => Shape::Free,
                };
                let mut seen = HashSet::new();
                for (key, _, value) in entries {
                    if !seen.insert(key.as_str()) {
                        self.save("duplicate field", key);
                    }
                    self.push_key(key);
                    self.walk(value, inner);
                    self.path.truncate(depth);
                }
            }
            (Node::Array(items), Shape::List(_) | Shape::Free) => {
                let inner = match expected {
                    Shape::List(item) => shape(self.facts, item),
                    _ => Shape::Free,
                };
                for (i, item) in items.iter().enumerate() {
                    self.path.push(format!("[{i}]"));
                    self.walk(item, inner);
                    self.path.truncate(depth);
                }
            }
            _ => {}
        }
    }
}

fn shape_of_field<'a>(facts: &'a ApiFacts, field: &'a kubeplex_api_facts::FieldFacts) -> Shape<'a> {
    shape(facts, &field.ty)
}

fn root_shape(schema: Option<Schema<'_>>) -> Shape<'static> {
    match schema {
        Some(Schema::Typed(t)) => Shape::Struct(t),
        _ => Shape::Free,
    }
}

/// The strict errors of decoding `node` into `schema` (a typed object), in
/// upstream's order; `None` decodes into a free-form map (duplicates only);
/// a custom schema adds the fields pruning drops.
pub fn typed_problems(node: &Node, schema: Option<Schema<'_>>) -> Vec<String> {
    let mut walker = Walker::new(kubeplex_api_facts::facts());
    walker.walk(node, root_shape(schema));
    let mut errors = walker.errors;
    if let Some(Schema::Custom(custom)) = schema {
        errors.extend(custom_unknown(&node.clone().into_value(), custom));
    }
    errors
}

/// The duplicate fields of a free-form value (a merge or strategic merge
/// patch decoded into a map).
pub fn duplicate_problems(node: &Node) -> Vec<String> {
    typed_problems(node, None)
}

/// The strict errors of a JSON patch decoded into its operations
/// (`op`, `path`, `from`, free-form `value`), each prefixed `json patch `.
pub fn json_patch_problems(node: &Node) -> Vec<String> {
    let mut walker = Walker::new(kubeplex_api_facts::facts());
    let Node::Array(ops) = node else { return Vec::new() };
    for (i, op) in ops.iter().enumerate() {
        walker.path.push(format!("[{i}]"));
        if let Node::Object(entries) = op {
            let mut seen = HashSet::new();
            for (key, _, value) in entries {
                if !matches!(key.as_str(), "op" | "path" | "from" | "value") {
                    walker.save("unknown field", key);
                    continue;
                }
                if !seen.insert(key.as_str()) {
                    walker.save("duplicate field", key);
                }
                if key == "value" {
                    walker.push_key(key);
                    walker.walk(value, Shape::Free);
                    walker.path.truncate(1);
                }
            }
        }
        walker.path.clear();
    }
    walker.errors.into_iter().map(|e| format!("json patch {e}")).collect()
}

/// The unknown fields of a decoded object (no duplicates are left in one).
/// `sorted_keys` walks keys in sorted order (a document Go re-encoded);
/// `sort_messages` sorts the result (upstream's unstructured converter).
pub fn unknown_fields(
    value: &Value,
    schema: Option<Schema<'_>>,
    sorted_keys: bool,
    sort_messages: bool,
) -> Vec<String> {
    let schema = match schema {
        None => return Vec::new(),
        Some(Schema::Custom(custom)) => return custom_unknown(value, custom),
        Some(typed) => typed,
    };
    let mut errors = typed_problems(&Node::from_value(value, sorted_keys), Some(schema));
    if sort_messages {
        errors.sort();
    }
    errors
}

/// The duplicate keys of a YAML document as upstream's strict YAML reader
/// reports them: one error listing `line N: key "k" already set in map`.
pub fn yaml_duplicates(node: &Node) -> Option<String> {
    fn collect(node: &Node, out: &mut Vec<String>) {
        match node {
            Node::Object(entries) => {
                let mut seen = HashSet::new();
                for (key, line, value) in entries {
                    if !seen.insert(key.as_str()) {
                        out.push(format!("line {line}: key {} already set in map", go_quote(key)));
                        continue;
                    }
                    collect(value, out);
                }
            }
            Node::Array(items) => items.iter().for_each(|i| collect(i, out)),
            _ => {}
        }
    }
    let mut lines = Vec::new();
    collect(node, &mut lines);
    (!lines.is_empty()).then(|| format!("yaml: unmarshal errors:\n  {}", lines.join("\n  ")))
}

/// Removes the unknown fields of `value` (at any depth), except those that
/// `base` (the stored object a patch started from) already has at the same
/// place: what the server itself stored stays. A custom object is pruned
/// as upstream prunes it, whatever it had.
pub fn prune(value: &mut Value, schema: Option<Schema<'_>>, base: Option<&Value>) {
    match schema {
        Some(Schema::Typed(schema)) => prune_shape(kubeplex_api_facts::facts(), value, Shape::Struct(schema), base),
        Some(Schema::Custom(schema)) => {
            kubeplex_core::schema::prune(value, schema);
        }
        None => {}
    }
}

fn prune_shape(facts: &ApiFacts, value: &mut Value, shape_now: Shape<'_>, base: Option<&Value>) {
    match (value, shape_now) {
        (Value::Object(map), Shape::Struct(ty)) => {
            let base_map = base.and_then(Value::as_object);
            map.retain(|k, _| ty.field(k).is_some() || base_map.is_some_and(|b| b.contains_key(k)));
            for (k, v) in map.iter_mut() {
                if let Some(field) = ty.field(k) {
                    prune_shape(facts, v, shape(facts, &field.ty), base_map.and_then(|b| b.get(k)));
                }
            }
        }
        (Value::Object(map), Shape::Map(item)) => {
            let base_map = base.and_then(Value::as_object);
            for (k, v) in map.iter_mut() {
                prune_shape(facts, v, shape(facts, item), base_map.and_then(|b| b.get(k)));
            }
        }
        (Value::Array(items), Shape::List(item)) => {
            let base_items = base.and_then(Value::as_array);
            for (i, v) in items.iter_mut().enumerate() {
                prune_shape(facts, v, shape(facts, item), base_items.and_then(|b| b.get(i)));
            }
        }
        _ => {}
    }
}

/// A request body decoded for create or update, with its strict errors.
#[derive(Debug)]
pub struct Decoded {
    /// The object, unknown fields removed.
    pub object: Value,
    /// Strict errors in upstream's order (empty under `Ignore`).
    pub problems: Vec<String>,
}

/// Decodes a create or update body (JSON, YAML or protobuf) and checks it
/// against `schema` as `directive` asks.
pub fn decode_body(
    headers: &HeaderMap,
    body: &[u8],
    api_version: &str,
    what: &str,
    schema: Option<Schema<'_>>,
    directive: Directive,
) -> Result<Decoded, ApiError> {
    let media = content_type(headers);
    let mut problems = Vec::new();
    let mut object = match media.as_str() {
        "application/json" | "*/*" if directive.checks() => {
            let node =
                parse_json(body).map_err(|e| ApiError::bad_request(format!("{what}: couldn't decode JSON: {e}")))?;
            problems = typed_problems(&node, schema);
            node.into_value()
        }
        "application/yaml" | "application/x-yaml" | "text/yaml" if directive.checks() => {
            let text =
                std::str::from_utf8(body).map_err(|_| ApiError::bad_request(format!("{what}: body is not UTF-8")))?;
            let node =
                parse_yaml(text).map_err(|e| ApiError::bad_request(format!("{what}: couldn't decode YAML: {e}")))?;
            problems.extend(yaml_duplicates(&node));
            let value = node.into_value();
            // Upstream converts YAML to JSON through a Go map: keys sorted.
            problems.extend(unknown_fields(&value, schema, true, false));
            value
        }
        _ => decode_object(headers, body, api_version, what)?,
    };
    prune(&mut object, schema, None);
    Ok(Decoded { object, problems })
}

/// What a request's problems come to: `Strict` turns them into `error`'s
/// result, `Warn` into the warnings to send (YAML errors one per line, as
/// upstream splits them), `Ignore` into nothing.
pub fn settle(
    directive: Directive,
    problems: Vec<String>,
    error: impl FnOnce(String) -> ApiError,
) -> Result<Vec<String>, ApiError> {
    if problems.is_empty() {
        return Ok(Vec::new());
    }
    match directive {
        Directive::Ignore => Ok(Vec::new()),
        Directive::Strict => Err(error(format!("strict decoding error: {}", problems.join(", ")))),
        Directive::Warn => Ok(problems.iter().flat_map(|p| warning_texts(p)).collect()),
    }
}

/// upstream's `parseYAMLWarnings`: a YAML error becomes one warning per line.
fn warning_texts(problem: &str) -> Vec<String> {
    let trimmed = problem
        .strip_prefix("yaml: unmarshal errors:\n")
        .or_else(|| problem.strip_prefix("error converting YAML to JSON: yaml: unmarshal errors:\n"));
    match trimmed {
        Some(rest) => rest.split('\n').map(|s| s.trim().to_owned()).collect(),
        None => vec![problem.to_owned()],
    }
}

/// The 400 of a create or update body under `Strict`:
/// `Deployment in version "v1" cannot be handled as a Deployment: …`.
pub fn body_error(body_object: &Value, def: &ResourceDef, message: String) -> ApiError {
    let kind = body_object["kind"].as_str().filter(|k| !k.is_empty()).unwrap_or(&def.kind);
    let version = body_object["apiVersion"]
        .as_str()
        .filter(|v| !v.is_empty())
        .map(|v| v.rsplit('/').next().unwrap_or(v))
        .unwrap_or(&def.version);
    ApiError::bad_request(format!(
        "{kind} in version {} cannot be handled as a {}: {message}",
        go_quote(version),
        def.kind
    ))
}

/// The 422 of a patch under `Strict`: `"" is invalid: patch: Invalid value:
/// "<shown>": strict decoding error: …`.
pub fn patch_error(shown: String, message: String) -> ApiError {
    ApiError::invalid("", "", "", vec![cause::invalid("patch", &Value::String(shown), &message)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> Option<Schema<'static>> {
        kubeplex_api_facts::facts().kind("apps", "v1", "Deployment").map(Schema::Typed)
    }

    fn problems(json: &str) -> Vec<String> {
        typed_problems(&parse_json(json.as_bytes()).unwrap(), deployment())
    }

    #[test]
    fn directives() {
        let q = |s: &str| Query::parse(Some(s));
        assert_eq!(Directive::from_query(&q(""), "CreateOptions").unwrap(), Directive::Warn);
        assert_eq!(Directive::from_query(&q("fieldValidation=Strict"), "CreateOptions").unwrap(), Directive::Strict);
        assert_eq!(Directive::from_query(&q("fieldValidation=Ignore"), "PatchOptions").unwrap(), Directive::Ignore);
        let err = Directive::from_query(&q("fieldValidation=strict"), "UpdateOptions").unwrap_err();
        assert_eq!(err.code, 422);
        assert_eq!(
            err.message,
            r#"UpdateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn""#
        );
    }

    #[test]
    fn unknown_and_duplicate_fields_in_document_order() {
        // upstream's integration test body (test/integration/apiserver/field_validation_test.go)
        let body = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x","labels":{"app":"nginx"}},
            "spec":{"unknown1":"val1","unknownDupe":"valDupe","unknownDupe":"valDupe2","paused":true,"paused":false,
            "selector":{"matchLabels":{"app":"nginx"}},
            "template":{"metadata":{"labels":{"app":"nginx"}},"spec":{"containers":[{"name":"nginx","image":"nginx:latest",
            "unknownNested":"val1","imagePullPolicy":"Always","imagePullPolicy":"Never"}]}}}}"#;
        assert_eq!(
            problems(body),
            [
                r#"unknown field "spec.unknown1""#,
                r#"unknown field "spec.unknownDupe""#,
                r#"duplicate field "spec.paused""#,
                r#"unknown field "spec.template.spec.containers[0].unknownNested""#,
                r#"duplicate field "spec.template.spec.containers[0].imagePullPolicy""#,
            ]
        );
    }

    #[test]
    fn maps_and_free_form_fields_are_not_unknown() {
        let body = r#"{"metadata":{"labels":{"a":"1","a":"2","b":"3"},"annotations":{"x":"y"},
            "managedFields":[{"manager":"m","fieldsV1":{"f:spec":{},"f:spec":{}}}],
            "creationTimestamp":"2024-01-01T00:00:00Z"},
            "spec":{"replicas":1,"replicaz":2,"strategy":{"rollingUpdate":{"maxSurge":"25%"}},
            "template":{"spec":{"containers":[{"name":"a","imagee":"x","resources":{"limits":{"cpu":"1","cpu":"2"}}},
            {"name":"b","ports":[{"containerPort":80,"bogus":1}]}],"nodeSelector":{"k":"v"}}}}}"#;
        assert_eq!(
            problems(body),
            [
                r#"duplicate field "metadata.labels.a""#,
                r#"unknown field "spec.replicaz""#,
                r#"unknown field "spec.template.spec.containers[0].imagee""#,
                r#"duplicate field "spec.template.spec.containers[0].resources.limits.cpu""#,
                r#"unknown field "spec.template.spec.containers[1].ports[0].bogus""#,
            ]
        );
        // A RawExtension holds any object.
        let list = kubeplex_api_facts::facts().type_by_name("io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent");
        let node = parse_json(br#"{"type":"ADDED","object":{"anything":{"goes":1}}}"#).unwrap();
        assert!(typed_problems(&node, list.map(Schema::Typed)).is_empty());
    }

    #[test]
    fn custom_schemas_report_pruned_fields() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "replicas": {"type": "integer"}}}}});
        let node =
            parse_json(br#"{"metadata":{"name":"x","bad":1},"spec":{"replicas":1,"foo":2,"replicas":3}}"#).unwrap();
        assert_eq!(
            typed_problems(&node, Some(Schema::Custom(&schema))),
            [r#"duplicate field "spec.replicas""#, r#"unknown field "metadata.bad""#, r#"unknown field "spec.foo""#]
        );
        let mut value = node.into_value();
        prune(&mut value, Some(Schema::Custom(&schema)), None);
        assert_eq!(value, json!({"metadata": {"name": "x"}, "spec": {"replicas": 3}}));
    }

    #[test]
    fn custom_resources_and_patches_get_duplicates_only() {
        let node = parse_json(br#"{"spec":{"a":1,"a":2,"list":[{"x":1,"x":1}]},"bogus":1}"#).unwrap();
        assert_eq!(duplicate_problems(&node), [r#"duplicate field "spec.a""#, r#"duplicate field "spec.list[0].x""#]);
        let ops = parse_json(br#"[{"op":"add","path":"/a","valuee":1},{"op":"add","op":"add","value":{"k":1,"k":2}}]"#)
            .unwrap();
        assert_eq!(
            json_patch_problems(&ops),
            [
                r#"json patch unknown field "[0].valuee""#,
                r#"json patch duplicate field "[1].op""#,
                r#"json patch duplicate field "[1].value.k""#,
            ]
        );
    }

    #[test]
    fn errors_are_deduplicated_and_capped() {
        let mut body = String::from(r#"{"spec":{"#);
        for i in 0..150 {
            body.push_str(&format!(r#""u{i}":1,"u0":1,"#));
        }
        body.push_str(r#""replicas":1}}"#);
        let found = problems(&body);
        assert_eq!(found.len(), 100);
        assert_eq!(found[0], r#"unknown field "spec.u0""#);
        assert_eq!(found[1], r#"unknown field "spec.u1""#);
    }

    #[test]
    fn yaml_duplicates_have_lines_and_unknowns_are_sorted() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  zzz: 1\n  paused: true\n  paused: false\n  template:\n    spec:\n      containers:\n      - name: a\n        bogus: 1\n";
        let node = parse_yaml(text).unwrap();
        assert_eq!(
            yaml_duplicates(&node).unwrap(),
            "yaml: unmarshal errors:\n  line 8: key \"paused\" already set in map"
        );
        let value = node.into_value();
        assert_eq!(value["spec"]["paused"], false);
        assert_eq!(
            unknown_fields(&value, deployment(), true, false),
            [r#"unknown field "spec.template.spec.containers[0].bogus""#, r#"unknown field "spec.zzz""#]
        );
        let warnings = settle(
            Directive::Warn,
            vec![yaml_duplicates(&parse_yaml("a: 1\na: 2\nb: 1\nb: 3\n").unwrap()).unwrap()],
            ApiError::bad_request,
        )
        .unwrap();
        assert_eq!(warnings, [r#"line 2: key "a" already set in map"#, r#"line 4: key "b" already set in map"#]);
    }

    #[test]
    fn pruning_keeps_what_the_base_has() {
        let mut value = json!({"spec": {"replicas": 1, "bogus": 1, "template": {"spec": {"containers": [
            {"name": "a", "imagee": "x", "serverThing": 1}
        ]}}}, "status": {"extra": 1}});
        let base =
            json!({"status": {"extra": 1}, "spec": {"template": {"spec": {"containers": [{"serverThing": 1}]}}}});
        prune(&mut value, deployment(), Some(&base));
        assert_eq!(
            value,
            json!({"spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "a", "serverThing": 1}]}}},
                "status": {"extra": 1}})
        );
    }

    #[test]
    fn messages() {
        let d = kubeplex_core::resource::BUILTIN.iter().find(|d| d.kind == "Deployment").unwrap();
        let err = settle(Directive::Strict, vec![r#"unknown field "spec.foo""#.into()], |m| {
            body_error(&json!({"apiVersion": "apps/v1", "kind": "Deployment"}), d, m)
        })
        .unwrap_err();
        assert_eq!(err.code, 400);
        assert_eq!(
            err.message,
            r#"Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo""#
        );
        let err = patch_error(
            kubeplex_patch::go_format(&json!({"spec": {"bogus": 1, "a": [1.5, "x", null, 1e22]}})),
            "m".into(),
        );
        assert_eq!(err.code, 422);
        assert_eq!(
            err.message,
            r#" "" is invalid: patch: Invalid value: "map[spec:map[a:[1.5 x <nil> 1e+22] bogus:1]]": m"#
        );
        assert_eq!(go_quote("a\"b\\c\n"), r#""a\"b\\c\n""#);
    }
}
