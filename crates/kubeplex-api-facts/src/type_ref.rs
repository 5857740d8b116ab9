//! Type references: what a field holds, resolved from its Go type.
//!
//! In the data file a type reference is a short Go-like string (see [`TypeRef`]'s
//! `Display`), parsed once at load time. The grammar:
//!
//! ```text
//! T := '*' T                  pointer (only inside collections; a field's own
//!                              pointer is FieldFacts::pointer)
//!    | '[]' T                 list
//!    | 'map[' T ']' T         map (key, value)
//!    | 'bytes'                Go []byte (base64 in JSON, bytes in protobuf)
//!    | 'any'                  Go interface{} (any JSON value; meta/v1 TableRow cells)
//!    | PRIMITIVE              string bool int32 int64 float64 …
//!    | NAME                   a struct type of the table (its OpenAPI name)
//!    | NAME '(' T ')'         a defined non-struct type (`type Protocol string`),
//!                             keeping its name and what it resolves to
//! ```
//!
//! Names always contain a dot, primitives never do. References to the special
//! types (Time, Quantity, IntOrString, …) are written as plain names in the data
//! and become [`TypeRef::Special`] when the table is loaded.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A Go built-in scalar type, as it appears in the API types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Primitive {
    /// Go `string`: JSON string, protobuf `string` (wire type 2).
    String,
    /// Go `bool`: JSON boolean, protobuf `bool` (varint).
    Bool,
    /// Go `int32`: JSON number, protobuf `int32` (varint, negative values sign-extended to 64 bits).
    Int32,
    /// Go `int64`: JSON number, protobuf `int64` (varint).
    Int64,
    /// Go `int` (64 bits on every platform Kubernetes builds for; protobuf `int64`).
    Int,
    /// Go `uint32`.
    Uint32,
    /// Go `uint64`.
    Uint64,
    /// Go `float32`.
    Float32,
    /// Go `float64`: JSON number, protobuf `double` (fixed64).
    Float64,
    /// Go `byte` (alone, not in `[]byte`, which is [`TypeRef::Bytes`]).
    Byte,
}

impl Primitive {
    /// All primitives, in declaration order.
    pub const ALL: [Primitive; 10] = [
        Primitive::String,
        Primitive::Bool,
        Primitive::Int32,
        Primitive::Int64,
        Primitive::Int,
        Primitive::Uint32,
        Primitive::Uint64,
        Primitive::Float32,
        Primitive::Float64,
        Primitive::Byte,
    ];

    /// The Go spelling (`int32`, `string`, …).
    pub fn go_name(self) -> &'static str {
        match self {
            Primitive::String => "string",
            Primitive::Bool => "bool",
            Primitive::Int32 => "int32",
            Primitive::Int64 => "int64",
            Primitive::Int => "int",
            Primitive::Uint32 => "uint32",
            Primitive::Uint64 => "uint64",
            Primitive::Float32 => "float32",
            Primitive::Float64 => "float64",
            Primitive::Byte => "byte",
        }
    }

    /// The primitive spelled `name` in Go, if any.
    pub fn from_go_name(name: &str) -> Option<Primitive> {
        Primitive::ALL.into_iter().find(|p| p.go_name() == name)
    }
}

/// A type whose JSON (and in some cases protobuf) form is written by hand in Go
/// rather than derived from its struct fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SpecialType {
    /// `meta/v1.Time`: JSON RFC 3339 string with seconds precision (`null` when zero);
    /// protobuf `{int64 seconds = 1; int32 nanos = 2}`.
    Time,
    /// `meta/v1.MicroTime`: JSON RFC 3339 string with microseconds; protobuf like Time.
    MicroTime,
    /// `meta/v1.Duration`: JSON Go duration string (`"1h2m3s"`); protobuf `{int64 duration = 1}` (nanoseconds).
    Duration,
    /// `api/resource.Quantity`: JSON string (numbers accepted on input); protobuf `{string string = 1}`.
    Quantity,
    /// `util/intstr.IntOrString`: JSON number or string; protobuf `{int64 type = 1; int32 intVal = 2; string strVal = 3}`
    /// (type 0 = int, 1 = string).
    IntOrString,
    /// `runtime.RawExtension`: JSON any embedded object (kept verbatim); protobuf `{bytes raw = 1}` holding the
    /// embedded object's own serialization (JSON, or protobuf with the `k8s\0` envelope).
    RawExtension,
    /// `meta/v1.FieldsV1`: JSON any object (managed-fields set); protobuf `{bytes Raw = 1}` holding JSON.
    FieldsV1,
    /// `apiextensions/v1.JSON`: JSON any value; protobuf `{bytes raw = 1}` holding JSON.
    Json,
    /// `apiextensions/v1.JSONSchemaPropsOrArray`: JSON a schema object or an array of schemas.
    JsonSchemaPropsOrArray,
    /// `apiextensions/v1.JSONSchemaPropsOrBool`: JSON a boolean or a schema object.
    JsonSchemaPropsOrBool,
    /// `apiextensions/v1.JSONSchemaPropsOrStringArray`: JSON a schema object or an array of strings.
    JsonSchemaPropsOrStringArray,
}

impl SpecialType {
    /// The Go package (import path suffix) and type name that make a type special:
    /// `(package path ends with, type name, special)`.
    pub const GO_TYPES: [(&'static str, &'static str, SpecialType); 11] = [
        ("k8s.io/apimachinery/pkg/apis/meta/v1", "Time", SpecialType::Time),
        ("k8s.io/apimachinery/pkg/apis/meta/v1", "MicroTime", SpecialType::MicroTime),
        ("k8s.io/apimachinery/pkg/apis/meta/v1", "Duration", SpecialType::Duration),
        ("k8s.io/apimachinery/pkg/apis/meta/v1", "FieldsV1", SpecialType::FieldsV1),
        ("k8s.io/apimachinery/pkg/api/resource", "Quantity", SpecialType::Quantity),
        ("k8s.io/apimachinery/pkg/util/intstr", "IntOrString", SpecialType::IntOrString),
        ("k8s.io/apimachinery/pkg/runtime", "RawExtension", SpecialType::RawExtension),
        ("k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/", "JSON", SpecialType::Json),
        (
            "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/",
            "JSONSchemaPropsOrArray",
            SpecialType::JsonSchemaPropsOrArray,
        ),
        (
            "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/",
            "JSONSchemaPropsOrBool",
            SpecialType::JsonSchemaPropsOrBool,
        ),
        (
            "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/",
            "JSONSchemaPropsOrStringArray",
            SpecialType::JsonSchemaPropsOrStringArray,
        ),
    ];

    /// The special type for Go type `name` in package `go_package`, if it is one.
    pub fn for_go_type(go_package: &str, name: &str) -> Option<SpecialType> {
        SpecialType::GO_TYPES.iter().find_map(|(pkg, n, s)| {
            let pkg_matches = if pkg.ends_with('/') { go_package.starts_with(pkg) } else { go_package == *pkg };
            (pkg_matches && *n == name).then_some(*s)
        })
    }
}

/// What a field (or a list element, map key or value, alias target) holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TypeRef {
    /// A Go scalar.
    Primitive(Primitive),
    /// Go `[]byte`: base64 string in JSON, `bytes` in protobuf. Not a list.
    Bytes,
    /// Go `interface{}`: any JSON value, not in protobuf (only `meta/v1.TableRow.cells`).
    Any,
    /// A struct type of the table, by OpenAPI definition name.
    Named(String),
    /// A struct type with hand-written JSON (see [`SpecialType`]), by OpenAPI definition name.
    Special {
        /// Which special type.
        kind: SpecialType,
        /// Its OpenAPI definition name (`io.k8s.apimachinery.pkg.apis.meta.v1.Time`).
        name: String,
    },
    /// A defined non-struct type (`type Protocol string`, `type ResourceList map[ResourceName]Quantity`),
    /// keeping its name (OpenAPI-style, or `time.Duration` for the Go standard library) and its resolution.
    Alias {
        /// The defined type's name.
        name: String,
        /// What it is defined as.
        target: Box<TypeRef>,
    },
    /// A Go slice (other than `[]byte`): JSON array, protobuf repeated field.
    List(Box<TypeRef>),
    /// A Go map: JSON object, protobuf map (entries `{key = 1; value = 2}`).
    Map {
        /// The key type (always string-like in the API types).
        key: Box<TypeRef>,
        /// The value type.
        value: Box<TypeRef>,
    },
    /// A Go pointer inside a collection (`[]*T`). A field's own pointer is `FieldFacts::pointer`.
    Pointer(Box<TypeRef>),
}

impl TypeRef {
    /// Follows aliases (and nested pointers) to the type they are defined as.
    pub fn resolved(&self) -> &TypeRef {
        match self {
            TypeRef::Alias { target, .. } => target.resolved(),
            TypeRef::Pointer(inner) => inner.resolved(),
            other => other,
        }
    }

    /// The primitive this resolves to, if any (through aliases).
    pub fn primitive(&self) -> Option<Primitive> {
        match self.resolved() {
            TypeRef::Primitive(p) => Some(*p),
            _ => None,
        }
    }

    /// The struct definition name this resolves to (named or special), if any.
    pub fn struct_name(&self) -> Option<&str> {
        match self.resolved() {
            TypeRef::Named(name) | TypeRef::Special { name, .. } => Some(name),
            _ => None,
        }
    }

    /// The special type this resolves to, if any.
    pub fn special(&self) -> Option<SpecialType> {
        match self.resolved() {
            TypeRef::Special { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    /// The element type if this resolves to a list.
    pub fn list_element(&self) -> Option<&TypeRef> {
        match self.resolved() {
            TypeRef::List(elem) => Some(elem),
            _ => None,
        }
    }

    /// The (key, value) types if this resolves to a map.
    pub fn map_entry(&self) -> Option<(&TypeRef, &TypeRef)> {
        match self.resolved() {
            TypeRef::Map { key, value } => Some((key, value)),
            _ => None,
        }
    }

    /// True if this resolves to `[]byte`.
    pub fn is_bytes(&self) -> bool {
        matches!(self.resolved(), TypeRef::Bytes)
    }

    /// Every struct name this reference mentions (named and special), outermost first.
    pub fn struct_names(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_names(&mut out);
        out
    }

    fn collect_names<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            TypeRef::Named(name) | TypeRef::Special { name, .. } => out.push(name),
            TypeRef::Alias { target, .. } => target.collect_names(out),
            TypeRef::List(inner) | TypeRef::Pointer(inner) => inner.collect_names(out),
            TypeRef::Map { key, value } => {
                key.collect_names(out);
                value.collect_names(out);
            }
            TypeRef::Primitive(_) | TypeRef::Bytes | TypeRef::Any => {}
        }
    }

    /// Turns `Named` references into `Special` ones where `special_of` says the name is special.
    pub(crate) fn mark_specials(&mut self, special_of: &dyn Fn(&str) -> Option<SpecialType>) {
        match self {
            TypeRef::Named(name) => {
                if let Some(kind) = special_of(name) {
                    *self = TypeRef::Special { kind, name: std::mem::take(name) };
                }
            }
            TypeRef::Alias { target, .. } => target.mark_specials(special_of),
            TypeRef::List(inner) | TypeRef::Pointer(inner) => inner.mark_specials(special_of),
            TypeRef::Map { key, value } => {
                key.mark_specials(special_of);
                value.mark_specials(special_of);
            }
            TypeRef::Primitive(_) | TypeRef::Bytes | TypeRef::Any | TypeRef::Special { .. } => {}
        }
    }

    /// Parses the data file's string form.
    pub fn parse(text: &str) -> Result<TypeRef, Error> {
        let mut parser = Parser { text, pos: 0 };
        let ty = parser.parse_type()?;
        if parser.pos != text.len() {
            return Err(parser.error("trailing characters"));
        }
        Ok(ty)
    }
}

impl fmt::Display for TypeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeRef::Primitive(p) => f.write_str(p.go_name()),
            TypeRef::Bytes => f.write_str("bytes"),
            TypeRef::Any => f.write_str("any"),
            TypeRef::Named(name) | TypeRef::Special { name, .. } => f.write_str(name),
            TypeRef::Alias { name, target } => write!(f, "{name}({target})"),
            TypeRef::List(inner) => write!(f, "[]{inner}"),
            TypeRef::Map { key, value } => write!(f, "map[{key}]{value}"),
            TypeRef::Pointer(inner) => write!(f, "*{inner}"),
        }
    }
}

impl Serialize for TypeRef {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TypeRef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        TypeRef::parse(&text).map_err(serde::de::Error::custom)
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> Error {
        Error::BadTypeRef { text: self.text.to_owned(), position: self.pos, message: what.to_owned() }
    }

    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    fn parse_type(&mut self) -> Result<TypeRef, Error> {
        if self.eat("*") {
            return Ok(TypeRef::Pointer(Box::new(self.parse_type()?)));
        }
        if self.eat("[]") {
            return Ok(TypeRef::List(Box::new(self.parse_type()?)));
        }
        if self.eat("map[") {
            let key = self.parse_type()?;
            if !self.eat("]") {
                return Err(self.error("expected ']' after map key"));
            }
            let value = self.parse_type()?;
            return Ok(TypeRef::Map { key: Box::new(key), value: Box::new(value) });
        }
        let word_len = self
            .rest()
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
            .unwrap_or(self.rest().len());
        if word_len == 0 {
            return Err(self.error("expected a type"));
        }
        let word = &self.text[self.pos..self.pos + word_len];
        self.pos += word_len;
        if self.eat("(") {
            let target = self.parse_type()?;
            if !self.eat(")") {
                return Err(self.error("expected ')' after alias target"));
            }
            return Ok(TypeRef::Alias { name: word.to_owned(), target: Box::new(target) });
        }
        if word == "bytes" {
            return Ok(TypeRef::Bytes);
        }
        if word == "any" {
            return Ok(TypeRef::Any);
        }
        if let Some(p) = Primitive::from_go_name(word) {
            return Ok(TypeRef::Primitive(p));
        }
        if word.contains('.') {
            return Ok(TypeRef::Named(word.to_owned()));
        }
        Err(self.error("unknown primitive (names of types contain a dot)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> TypeRef {
        let parsed = TypeRef::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(parsed.to_string(), text);
        parsed
    }

    #[test]
    fn parses_and_prints_every_form() {
        assert_eq!(round_trip("string"), TypeRef::Primitive(Primitive::String));
        assert_eq!(round_trip("bytes"), TypeRef::Bytes);
        assert_eq!(round_trip("[]any"), TypeRef::List(Box::new(TypeRef::Any)));
        assert_eq!(round_trip("[]int32"), TypeRef::List(Box::new(TypeRef::Primitive(Primitive::Int32))));
        let list_map = round_trip(
            "io.k8s.api.core.v1.ResourceList(map[io.k8s.api.core.v1.ResourceName(string)]io.k8s.apimachinery.pkg.api.resource.Quantity)",
        );
        let (key, value) = list_map.map_entry().expect("map");
        assert_eq!(key.primitive(), Some(Primitive::String));
        assert_eq!(value.struct_name(), Some("io.k8s.apimachinery.pkg.api.resource.Quantity"));
        let ptrs = round_trip("[]*io.k8s.api.core.v1.Pod");
        assert_eq!(ptrs.list_element().and_then(TypeRef::struct_name), Some("io.k8s.api.core.v1.Pod"));
        assert_eq!(
            round_trip("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON").struct_name(),
            Some("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON")
        );
        assert_eq!(round_trip("time.Duration(int64)").primitive(), Some(Primitive::Int64));
    }

    #[test]
    fn rejects_malformed_text() {
        for bad in ["", "[]", "map[string", "map[string]", "Foo", "string)", "a.B(string", "int33"] {
            assert!(TypeRef::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn marks_specials() {
        let mut ty = TypeRef::parse("[]io.k8s.apimachinery.pkg.apis.meta.v1.Time").expect("parse");
        ty.mark_specials(&|name| name.ends_with(".Time").then_some(SpecialType::Time));
        assert_eq!(ty.special(), None, "a list is not special itself");
        assert_eq!(ty.list_element().and_then(TypeRef::special), Some(SpecialType::Time));
        assert_eq!(ty.to_string(), "[]io.k8s.apimachinery.pkg.apis.meta.v1.Time");
    }

    #[test]
    fn finds_special_go_types() {
        assert_eq!(
            SpecialType::for_go_type("k8s.io/apimachinery/pkg/api/resource", "Quantity"),
            Some(SpecialType::Quantity)
        );
        assert_eq!(
            SpecialType::for_go_type("k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1beta1", "JSON"),
            Some(SpecialType::Json)
        );
        assert_eq!(SpecialType::for_go_type("k8s.io/api/core/v1", "Time"), None);
    }
}
