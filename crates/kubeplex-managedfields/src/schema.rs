//! What ownership needs to know about a type: which values are replaced
//! whole (leaves), which are merged field by field, and how list items are
//! identified. Built once, from the API facts table for built-in kinds and
//! from a CRD version's `openAPIV3Schema` for custom resources, as upstream's
//! `schemaconv` and CRD type converter build structured-merge-diff schemas:
//!
//! - a list is a set or keyed by `+listType`/`x-kubernetes-list-type` and
//!   `+listMapKey`s; a built-in list with no list type but with
//!   `patchStrategy: merge` is keyed by its `patchMergeKey` (a set without
//!   one); every other list is atomic (a leaf);
//! - `+structType=atomic`, `+mapType=atomic` and `x-kubernetes-map-type:
//!   atomic` make leaves; so do scalars, `IntOrString`, `Quantity`, times and
//!   `RawExtension`;
//! - untyped values (`x-kubernetes-preserve-unknown-fields`, `JSON`) are
//!   deduced from the value: objects merge by key, lists are atomic.
//!
//! Types form a graph (types are recursive: `JSONSchemaProps`) of
//! [`Shape`]s indexed by [`TypeId`].

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use kubeplex_api_facts::{FieldFacts, ListType, MapType, PatchStrategy, SpecialType, StructType, TypeRef, facts};
use serde_json::Value;

/// A node of a [`Graph`].
pub type TypeId = usize;

/// Values replaced whole.
pub const LEAF: TypeId = 0;
/// Values whose shape is deduced from the value itself.
pub const UNTYPED: TypeId = 1;

/// How a type merges.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Replaced whole: scalars, atomic structs, maps and lists.
    Leaf,
    /// Deduced from the value: objects merge by key (values untyped), lists
    /// and scalars are leaves.
    Untyped,
    /// An object with declared fields, merged field by field; `rest` types
    /// undeclared fields (`None`: they are untyped).
    Struct { fields: HashMap<String, TypeId>, rest: Option<TypeId> },
    /// A map merged key by key.
    Map { values: TypeId },
    /// A list merged item by item.
    List { items: TypeId, kind: ListKind },
}

/// How the items of a merged list are identified.
#[derive(Debug, Clone, PartialEq)]
pub enum ListKind {
    /// By their (scalar) value.
    Set,
    /// By the values of these fields (with the default a missing key takes).
    Keyed(Vec<(String, Option<Value>)>),
}

/// A set of types.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    shapes: Vec<Shape>,
    named: HashMap<String, TypeId>,
}

impl Default for Graph {
    fn default() -> Graph {
        Graph { shapes: vec![Shape::Leaf, Shape::Untyped], named: HashMap::new() }
    }
}

impl Graph {
    /// The shape of `id`.
    pub fn shape(&self, id: TypeId) -> &Shape {
        self.shapes.get(id).unwrap_or(&Shape::Untyped)
    }

    /// The type of field `name` of an object of type `id`: its declared
    /// type, or what the object's undeclared fields are.
    pub fn field(&self, id: TypeId, name: &str) -> TypeId {
        match self.shape(id) {
            Shape::Struct { fields, rest } => fields.get(name).copied().or(*rest).unwrap_or(UNTYPED),
            Shape::Map { values } => *values,
            _ => UNTYPED,
        }
    }

    /// True if `name` is a declared field of type `id` (upstream's "named
    /// field").
    pub fn is_named_field(&self, id: TypeId, name: &str) -> bool {
        matches!(self.shape(id), Shape::Struct { fields, .. } if fields.contains_key(name))
    }

    fn push(&mut self, shape: Shape) -> TypeId {
        self.shapes.push(shape);
        self.shapes.len() - 1
    }
}

/// A type in its graph: what ownership of one kind is computed against.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// The graph holding the type.
    pub graph: Arc<Graph>,
    /// The type.
    pub root: TypeId,
    /// The type's empty object, what a create is compared with: a built-in
    /// type's Go zero value as Go encodes it (struct fields that are not
    /// pointers are present), `{}` for custom resources.
    pub zero: Arc<Value>,
}

// JSON values (defaults of list keys) hold no NaN: equality is reflexive.
impl Eq for Schema {}

/// Every type of the facts table, built on first use.
static BUILTIN: LazyLock<Arc<Graph>> = LazyLock::new(|| {
    let mut graph = Graph::default();
    let mut builder = FactsBuilder { graph: &mut graph };
    for ty in facts().types() {
        builder.named(&ty.name);
    }
    Arc::new(graph)
});

impl Schema {
    /// The schema of a built-in type, by OpenAPI definition name
    /// (`io.k8s.api.apps.v1.Deployment`).
    pub fn builtin(type_name: &str) -> Option<Schema> {
        let graph = BUILTIN.clone();
        let root = *graph.named.get(type_name)?;
        let zero = ZEROS.get(type_name).cloned().unwrap_or_default();
        Some(Schema { graph, root, zero })
    }

    /// The schema of a custom resource version from its `openAPIV3Schema`
    /// (`None`: no schema, every field untyped). `metadata` is `ObjectMeta`.
    pub fn custom(schema: Option<&Value>) -> Schema {
        let mut graph = Graph::default();
        let meta = FactsBuilder { graph: &mut graph }.named("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
        let root = match schema {
            Some(s) => CrdBuilder { graph: &mut graph, meta }.resource(s),
            None => {
                let fields = HashMap::from([("metadata".to_owned(), meta)]);
                graph.push(Shape::Struct { fields, rest: Some(UNTYPED) })
            }
        };
        Schema { graph: Arc::new(graph), root, zero: Arc::new(Value::Object(Default::default())) }
    }
}

/// The zero value of every kind of the facts table.
static ZEROS: LazyLock<HashMap<String, Arc<Value>>> =
    LazyLock::new(|| facts().kinds().map(|(_, ty)| (ty.name.clone(), Arc::new(zero_struct(&ty.name)))).collect());

/// A struct's Go zero value as `encoding/json` writes it.
fn zero_struct(name: &str) -> Value {
    let mut out = serde_json::Map::new();
    let Some(ty) = facts().type_by_name(name) else { return Value::Object(out) };
    for field in ty.json_fields() {
        let Some(json) = &field.json else { continue };
        if field.pointer {
            if !field.omitempty {
                out.insert(json.clone(), Value::Null);
            }
            continue;
        }
        if let Some(v) = zero_of(strip(&field.ty), field.omitempty) {
            out.insert(json.clone(), v);
        }
    }
    Value::Object(out)
}

/// The zero value of a field of type `ty` (`None`: omitted).
fn zero_of(ty: &TypeRef, omitempty: bool) -> Option<Value> {
    use kubeplex_api_facts::Primitive;
    match ty {
        TypeRef::Named(name) => Some(zero_struct(name)),
        TypeRef::Special { kind, .. } => match kind {
            SpecialType::Quantity => Some(Value::String("0".into())),
            SpecialType::IntOrString => Some(Value::from(0)),
            SpecialType::Duration => Some(Value::String("0s".into())),
            _ => Some(Value::Null),
        },
        _ if omitempty => None,
        TypeRef::Primitive(Primitive::String) => Some(Value::String(String::new())),
        TypeRef::Primitive(Primitive::Bool) => Some(Value::Bool(false)),
        TypeRef::Primitive(_) => Some(Value::from(0)),
        _ => Some(Value::Null),
    }
}

/// Builds types from the facts table.
struct FactsBuilder<'g> {
    graph: &'g mut Graph,
}

impl FactsBuilder<'_> {
    fn named(&mut self, name: &str) -> TypeId {
        if let Some(id) = self.graph.named.get(name) {
            return *id;
        }
        let Some(ty) = facts().type_by_name(name) else {
            return UNTYPED;
        };
        if let Some(special) = ty.special {
            let id = special_type(special);
            self.graph.named.insert(name.to_owned(), id);
            return id;
        }
        if ty.struct_type == Some(StructType::Atomic) {
            self.graph.named.insert(name.to_owned(), LEAF);
            return LEAF;
        }
        // Registered before its fields: types may be recursive.
        let id = self.graph.push(Shape::Struct { fields: HashMap::new(), rest: None });
        self.graph.named.insert(name.to_owned(), id);
        let mut fields = HashMap::new();
        for field in ty.json_fields() {
            if let Some(json) = &field.json {
                fields.insert(json.clone(), self.field(field));
            }
        }
        self.graph.shapes[id] = Shape::Struct { fields, rest: None };
        id
    }

    fn field(&mut self, field: &FieldFacts) -> TypeId {
        if field.struct_type == Some(StructType::Atomic) || field.map_type == Some(MapType::Atomic) {
            return LEAF;
        }
        match strip(&field.ty) {
            TypeRef::List(item) => {
                let keys = match field.list_type {
                    Some(ListType::Atomic) => return LEAF,
                    Some(ListType::Set) => None,
                    Some(ListType::Map) => Some(field.list_map_keys.clone()),
                    None if field.has_patch_strategy(PatchStrategy::Merge) => {
                        field.patch_merge_key.clone().map(|k| vec![k])
                    }
                    None => return LEAF,
                };
                let items = self.type_ref(item);
                let kind = match keys {
                    None => ListKind::Set,
                    Some(keys) => {
                        ListKind::Keyed(keys.into_iter().map(|k| (k.clone(), key_default(item, &k))).collect())
                    }
                };
                self.graph.push(Shape::List { items, kind })
            }
            other => self.type_ref(other),
        }
    }

    fn type_ref(&mut self, ty: &TypeRef) -> TypeId {
        match strip(ty) {
            TypeRef::Named(name) => self.named(name),
            TypeRef::Special { kind, .. } => special_type(*kind),
            TypeRef::Any => UNTYPED,
            TypeRef::Map { value, .. } => {
                let values = self.type_ref(value);
                self.graph.push(Shape::Map { values })
            }
            // Lists inside lists or maps have no list type: atomic.
            _ => LEAF,
        }
    }
}

/// A type without pointers and aliases.
fn strip(ty: &TypeRef) -> &TypeRef {
    match ty {
        TypeRef::Pointer(inner) => strip(inner),
        TypeRef::Alias { target, .. } => strip(target),
        other => other,
    }
}

fn special_type(special: SpecialType) -> TypeId {
    match special {
        SpecialType::Json
        | SpecialType::JsonSchemaPropsOrArray
        | SpecialType::JsonSchemaPropsOrBool
        | SpecialType::JsonSchemaPropsOrStringArray => UNTYPED,
        _ => LEAF,
    }
}

/// The `+default` of key field `key` of the items of a list.
fn key_default(item: &TypeRef, key: &str) -> Option<Value> {
    let TypeRef::Named(name) = strip(item) else { return None };
    let default = facts().type_by_name(name)?.field(key)?.default.as_deref()?;
    serde_json::from_str(default).ok()
}

/// Builds types from a CRD's structural schema.
struct CrdBuilder<'g> {
    graph: &'g mut Graph,
    meta: TypeId,
}

impl CrdBuilder<'_> {
    /// The root of a resource (or an embedded one): `apiVersion`, `kind`,
    /// `metadata` whatever the schema says.
    fn resource(&mut self, schema: &Value) -> TypeId {
        let id = match self.node(schema) {
            id if matches!(self.graph.shape(id), Shape::Struct { .. }) => id,
            _ => self.graph.push(Shape::Struct { fields: HashMap::new(), rest: Some(UNTYPED) }),
        };
        if let Some(Shape::Struct { fields, .. }) = self.graph.shapes.get_mut(id) {
            fields.insert("apiVersion".to_owned(), LEAF);
            fields.insert("kind".to_owned(), LEAF);
            fields.insert("metadata".to_owned(), self.meta);
        }
        id
    }

    fn node(&mut self, schema: &Value) -> TypeId {
        let flag = |key: &str| schema.get(key).and_then(Value::as_bool).unwrap_or(false);
        let text = |key: &str| schema.get(key).and_then(Value::as_str).unwrap_or("");
        if flag("x-kubernetes-int-or-string") {
            return LEAF;
        }
        if flag("x-kubernetes-embedded-resource") {
            let mut inner = schema.clone();
            if let Some(o) = inner.as_object_mut() {
                o.remove("x-kubernetes-embedded-resource");
            }
            return self.resource(&inner);
        }
        let preserve = flag("x-kubernetes-preserve-unknown-fields");
        match text("type") {
            "object" if text("x-kubernetes-map-type") == "atomic" => LEAF,
            "object" => {
                let properties = schema.get("properties").and_then(Value::as_object);
                let additional = schema.get("additionalProperties").filter(|a| a.is_object());
                match (properties, additional) {
                    (None, Some(values)) => {
                        let values = self.node(values);
                        self.graph.push(Shape::Map { values })
                    }
                    (None, None) if preserve => UNTYPED,
                    _ => {
                        let mut fields = HashMap::new();
                        for (name, sub) in properties.into_iter().flatten() {
                            fields.insert(name.clone(), self.node(sub));
                        }
                        let rest = match additional {
                            Some(values) => Some(self.node(values)),
                            None => preserve.then_some(UNTYPED),
                        };
                        self.graph.push(Shape::Struct { fields, rest })
                    }
                }
            }
            "array" => {
                let items_schema = schema.get("items").unwrap_or(&Value::Null);
                let kind = match text("x-kubernetes-list-type") {
                    "set" => ListKind::Set,
                    "map" => {
                        let keys = schema.get("x-kubernetes-list-map-keys").and_then(Value::as_array);
                        let keys = keys.into_iter().flatten().filter_map(Value::as_str);
                        ListKind::Keyed(
                            keys.map(|k| {
                                let default = items_schema.get("properties").and_then(|p| p.get(k)?.get("default"));
                                (k.to_owned(), default.cloned())
                            })
                            .collect(),
                        )
                    }
                    _ => return LEAF,
                };
                let items = self.node(items_schema);
                self.graph.push(Shape::List { items, kind })
            }
            "" if preserve => UNTYPED,
            _ => LEAF,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(schema: &Schema, fields: &[&str]) -> TypeId {
        fields.iter().fold(schema.root, |id, f| match schema.graph.shape(id) {
            Shape::List { items, .. } if *f == "[]" => *items,
            _ => schema.graph.field(id, f),
        })
    }

    #[test]
    fn builtin_lists_follow_list_types_and_merge_keys() {
        let s = Schema::builtin("io.k8s.api.apps.v1.Deployment").unwrap();
        let containers = path(&s, &["spec", "template", "spec", "containers"]);
        assert!(
            matches!(s.graph.shape(containers), Shape::List { kind: ListKind::Keyed(k), .. } if k == &[("name".to_owned(), None)])
        );
        let ports = path(&s, &["spec", "template", "spec", "containers", "[]", "ports"]);
        let Shape::List { kind: ListKind::Keyed(keys), .. } = s.graph.shape(ports) else { panic!("ports") };
        assert_eq!(keys, &[("containerPort".to_owned(), None), ("protocol".to_owned(), Some(json!("TCP")))]);
        let finalizers = path(&s, &["metadata", "finalizers"]);
        assert!(matches!(s.graph.shape(finalizers), Shape::List { kind: ListKind::Set, .. }));
        // A plain list is atomic; so are atomic structs and int-or-string.
        assert_eq!(path(&s, &["spec", "template", "spec", "containers", "[]", "args"]), LEAF);
        assert_eq!(path(&s, &["spec", "selector"]), LEAF);
        assert_eq!(path(&s, &["spec", "strategy", "rollingUpdate", "maxSurge"]), LEAF);
        assert!(matches!(s.graph.shape(path(&s, &["metadata", "labels"])), Shape::Map { values: LEAF }));
        assert!(s.graph.is_named_field(s.root, "spec"));
        assert!(!s.graph.is_named_field(path(&s, &["metadata", "labels"]), "app"));
    }

    #[test]
    fn crd_schemas() {
        let schema = json!({"type": "object", "properties": {
            "spec": {"type": "object", "properties": {
                "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["port"],
                    "items": {"type": "object", "properties": {"port": {"type": "integer"}, "name": {"type": "string"}}}},
                "tags": {"type": "array", "items": {"type": "string"}},
                "sel": {"type": "object", "x-kubernetes-map-type": "atomic", "properties": {"a": {"type": "string"}}},
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}}
            }}
        }});
        let s = Schema::custom(Some(&schema));
        assert!(matches!(s.graph.shape(path(&s, &["spec", "ports"])), Shape::List { kind: ListKind::Keyed(_), .. }));
        assert_eq!(path(&s, &["spec", "tags"]), LEAF);
        assert_eq!(path(&s, &["spec", "sel"]), LEAF);
        assert_eq!(path(&s, &["spec", "extra"]), UNTYPED);
        assert!(matches!(s.graph.shape(path(&s, &["spec", "labels"])), Shape::Map { values: LEAF }));
        assert!(matches!(s.graph.shape(path(&s, &["metadata", "labels"])), Shape::Map { .. }));
        let none = Schema::custom(None);
        assert_eq!(path(&none, &["spec"]), UNTYPED);
    }
}
