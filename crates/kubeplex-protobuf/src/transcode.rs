//! The table-driven transcoder: walks a protobuf message with the API facts of its Go type and
//! builds the JSON object Go's `encoding/json` would give the decoded struct, minus the fields
//! that hold their Go zero value.
//!
//! ```text
//!  bytes ──Reader──▶ (field number, payload)* ──facts: FieldFacts by number──▶ per-field payloads
//!        ──TypeRef──▶ scalar │ []byte │ list │ map │ struct (recurse) │ special (Time, Quantity, …)
//!        ──zero rule──▶ JSON object in Go field order (inlined structs flattened)
//! ```
//!
//! Zero values: a Go client cannot leave a non-pointer field out, so it sends `generateName: ""`,
//! `generation: 0`, `creationTimestamp: {}`. Upstream decodes into Go structs, where those are the
//! same as absent, and defaulting fills them. To get the same result from a JSON pipeline the
//! transcoder drops every non-pointer field whose value is its Go zero value (`""`, `0`, `false`, a
//! struct whose fields are all zero, a zero `Time`, `IntOrString` or `Quantity`), every empty list
//! or map (protobuf cannot tell an empty one from nil), and every value Go writes as JSON `null`.
//! Pointer fields are kept even when zero (`replicas: 0`, `enableServiceLinks: false`,
//! `securityContext: {}`). List elements and map values are never dropped (`labels: {a: ""}`).
//!
//! Field numbers the facts do not know are collected as [`UnknownField`]s, never dropped silently.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine as _;
use kubeplex_api_facts::{ApiFacts, FieldFacts, Primitive, SpecialType, TypeFacts, TypeRef, WireType};
use serde_json::{Map, Value};

use crate::error::ProtobufError;
use crate::format::{GO_ZERO_TIME_SECONDS, float_value, go_duration, rfc3339, rfc3339_micro};
use crate::wire::{self, Payload, Reader, WireError};
use crate::{Decoded, MAGIC, UnknownField};

/// How deep structs may nest (each struct, special type or nested envelope is one level; lists and
/// maps add none). Built-in objects nest about fifteen levels; a CRD schema one per schema level.
pub(crate) const MAX_DEPTH: usize = 100;

/// The path label used for fields of the `runtime.Unknown` envelope.
pub(crate) const ENVELOPE_PATH: &str = "<envelope>";

type Result<T> = std::result::Result<T, ProtobufError>;

/// A decoded value and whether it is its Go type's zero value.
#[derive(Debug)]
struct Val {
    value: Value,
    zero: bool,
}

impl Val {
    fn new(value: Value, zero: bool) -> Val {
        Val { value, zero }
    }
}

/// The `runtime.Unknown` wrapper, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawEnvelope<'a> {
    pub(crate) api_version: String,
    pub(crate) kind: String,
    pub(crate) raw: &'a [u8],
    pub(crate) content_encoding: String,
    pub(crate) content_type: String,
    /// Field numbers of the wrapper (or its typeMeta) that are not known: (path, number, wire type).
    pub(crate) unknown: Vec<(String, u32, u8)>,
}

/// Converts a wire-level error at `path` into the crate's error.
fn wire_error(error: WireError, path: &str) -> ProtobufError {
    let path = path.to_owned();
    match error {
        WireError::Truncated => ProtobufError::Truncated { path },
        WireError::Overflow => ProtobufError::Overflow { path },
        WireError::IllegalTag { tag, wire_type } => ProtobufError::IllegalTag { path, tag, wire_type },
        WireError::IllegalWireType(wire_type) => ProtobufError::IllegalWireType { path, wire_type },
    }
}

/// Strips the `k8s\0` prefix, checking the cases upstream's protobuf serializer rejects.
pub(crate) fn strip_magic(bytes: &[u8]) -> Result<&[u8]> {
    if bytes.is_empty() {
        return Err(ProtobufError::Empty);
    }
    let Some(rest) = bytes.strip_prefix(&MAGIC) else {
        return Err(ProtobufError::NotProtobuf);
    };
    if rest.is_empty() {
        return Err(ProtobufError::EmptyEnvelope);
    }
    Ok(rest)
}

/// Reads the `runtime.Unknown` message (after the magic prefix):
/// `{1 typeMeta{1 apiVersion, 2 kind}, 2 raw, 3 contentEncoding, 4 contentType}`.
pub(crate) fn read_envelope(data: &[u8]) -> Result<RawEnvelope<'_>> {
    let mut envelope = RawEnvelope {
        api_version: String::new(),
        kind: String::new(),
        raw: &[],
        content_encoding: String::new(),
        content_type: String::new(),
        unknown: Vec::new(),
    };
    let mut reader = Reader::new(data);
    while let Some(field) = reader.next_field().map_err(|e| wire_error(e, ENVELOPE_PATH))? {
        let name = match field.number {
            1 => "typeMeta",
            2 => "raw",
            3 => "contentEncoding",
            4 => "contentType",
            number => {
                envelope.unknown.push((ENVELOPE_PATH.to_owned(), number, field.payload.wire_type()));
                continue;
            }
        };
        let Payload::Len(bytes) = field.payload else {
            return Err(ProtobufError::WrongWireType {
                path: format!("{ENVELOPE_PATH}.{name}"),
                expected: wire::LEN,
                actual: field.payload.wire_type(),
            });
        };
        match field.number {
            1 => read_type_meta(bytes, &mut envelope)?,
            2 => envelope.raw = bytes,
            3 => envelope.content_encoding = lossy(bytes),
            _ => envelope.content_type = lossy(bytes),
        }
    }
    Ok(envelope)
}

fn read_type_meta(data: &[u8], envelope: &mut RawEnvelope<'_>) -> Result<()> {
    let path = format!("{ENVELOPE_PATH}.typeMeta");
    let mut reader = Reader::new(data);
    while let Some(field) = reader.next_field().map_err(|e| wire_error(e, &path))? {
        let target = match field.number {
            1 => &mut envelope.api_version,
            2 => &mut envelope.kind,
            number => {
                envelope.unknown.push((path.clone(), number, field.payload.wire_type()));
                continue;
            }
        };
        let Payload::Len(bytes) = field.payload else {
            let name = if field.number == 1 { "apiVersion" } else { "kind" };
            return Err(ProtobufError::WrongWireType {
                path: format!("{path}.{name}"),
                expected: wire::LEN,
                actual: field.payload.wire_type(),
            });
        };
        *target = lossy(bytes);
    }
    Ok(())
}

/// Go's `string(bytes)` as JSON writes it: invalid UTF-8 becomes U+FFFD.
fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Splits an `apiVersion` into group and version as `schema.ParseGroupVersion` does.
fn parse_group_version(api_version: &str) -> Result<(&str, &str)> {
    if api_version.is_empty() || api_version == "/" {
        return Ok(("", ""));
    }
    match api_version.split_once('/') {
        None => Ok(("", api_version)),
        Some((group, version)) if !version.contains('/') => Ok((group, version)),
        Some(_) => Err(ProtobufError::BadApiVersion { api_version: api_version.to_owned() }),
    }
}

/// One decoding pass: the facts and the unknown fields found so far.
#[derive(Debug)]
pub(crate) struct Run<'f> {
    facts: &'f ApiFacts,
    pub(crate) unknown: Vec<UnknownField>,
}

impl<'f> Run<'f> {
    pub(crate) fn new(facts: &'f ApiFacts) -> Run<'f> {
        Run { facts, unknown: Vec::new() }
    }

    fn unknown_field(&mut self, path: &str, number: u32, wire_type: u8) {
        self.unknown.push(UnknownField { path: path.to_owned(), number, wire_type });
    }

    fn type_named(&self, name: &str) -> Result<&'f TypeFacts> {
        self.facts
            .type_by_name(name)
            .ok_or_else(|| ProtobufError::Facts(format!("type {name} is referenced but not in the table")))
    }

    /// Decodes a whole body (magic prefix, envelope, object), applying `defaults` (apiVersion, kind)
    /// where the envelope leaves them empty, as upstream's `copyKindDefaults` does.
    pub(crate) fn decode_body(
        &mut self,
        bytes: &[u8],
        defaults: Option<(&str, &str)>,
        path: &mut String,
        depth: usize,
    ) -> Result<Decoded> {
        let envelope = read_envelope(strip_magic(bytes)?)?;
        for (at, number, wire_type) in &envelope.unknown {
            let at = if path.is_empty() { at.clone() } else { format!("{path}.{at}") };
            self.unknown_field(&at, *number, *wire_type);
        }
        let mut api_version = envelope.api_version;
        let mut kind = envelope.kind;
        if let Some((default_api_version, default_kind)) = defaults {
            if kind.is_empty() {
                kind = default_kind.to_owned();
            }
            let (_, version) = parse_group_version(&api_version)?;
            if version.is_empty() && !parse_group_version(default_api_version)?.1.is_empty() {
                api_version = default_api_version.to_owned();
            }
        }
        if kind.is_empty() {
            return Err(ProtobufError::MissingKind { api_version });
        }
        let (group, version) = parse_group_version(&api_version)?;
        if version.is_empty() {
            return Err(ProtobufError::MissingVersion { kind });
        }
        let Some(ty) = self.facts.kind(group, version, &kind) else {
            return Err(ProtobufError::UnknownKind { api_version, kind });
        };
        let fields = self.decode_struct(ty, envelope.raw, path, depth)?;
        let mut object = Map::with_capacity(fields.len() + 2);
        object.insert("apiVersion".to_owned(), Value::String(api_version.clone()));
        object.insert("kind".to_owned(), Value::String(kind.clone()));
        object.extend(fields);
        Ok(Decoded { api_version, kind, object: Value::Object(object), unknown_fields: Vec::new() })
    }

    /// Decodes one message of struct type `ty` into its JSON object (zero fields dropped).
    pub(crate) fn decode_struct(
        &mut self,
        ty: &'f TypeFacts,
        data: &[u8],
        path: &mut String,
        depth: usize,
    ) -> Result<Map<String, Value>> {
        if depth > MAX_DEPTH {
            return Err(ProtobufError::TooDeep { path: path.clone(), limit: MAX_DEPTH });
        }
        if let Some(kind) = ty.special {
            // A special type asked for as a message of its own: give its JSON value under no key.
            return Err(ProtobufError::Facts(format!("{} is special ({kind:?}) and has no JSON object form", ty.name)));
        }
        let mut slots: Vec<Vec<Payload<'_>>> = vec![Vec::new(); ty.fields.len()];
        let mut reader = Reader::new(data);
        while let Some(field) = reader.next_field().map_err(|e| wire_error(e, path))? {
            let index = ty.fields.iter().position(|f| f.proto_number() == Some(field.number));
            let Some(index) = index else {
                self.unknown_field(path, field.number, field.payload.wire_type());
                continue;
            };
            let facts = &ty.fields[index];
            let actual = field.payload.wire_type();
            if !wire_allowed(facts, actual) {
                let name = facts.json.as_deref().unwrap_or(&facts.go);
                let mark = push_field(path, name);
                let error = ProtobufError::WrongWireType { path: path.clone(), expected: expected_wire(facts), actual };
                path.truncate(mark);
                return Err(error);
            }
            slots[index].push(field.payload);
        }

        let mut out = Map::new();
        for (facts, payloads) in ty.fields.iter().zip(&slots) {
            if payloads.is_empty() {
                continue;
            }
            if facts.inline {
                // JSON flattens the embedded struct's fields into this object; protobuf nests them.
                let Some(name) = facts.ty.struct_name() else {
                    return Err(ProtobufError::Facts(format!("{}.{} is inlined but not a struct", ty.name, facts.go)));
                };
                let inner_ty = self.type_named(name)?;
                let bytes = merged(payloads, path)?;
                let inner = self.decode_struct(inner_ty, &bytes, path, depth + 1)?;
                out.extend(inner);
                continue;
            }
            let Some(json) = facts.json.as_deref() else {
                // In protobuf but not in JSON (`json:"-"`): nothing to write.
                continue;
            };
            let mark = push_field(path, json);
            let wire = facts.proto.as_ref().map(|p| p.wire);
            let decoded = self.decode_value(&facts.ty, payloads, wire, path, depth);
            path.truncate(mark);
            let val = decoded?;
            if keep_field(facts, &val) {
                out.insert(json.to_owned(), val.value);
            }
        }
        Ok(out)
    }

    /// Decodes the value of type `ty` carried by `payloads` (every occurrence of one field: the
    /// elements of a list, the entries of a map, the parts of a message to merge, or the repeats of
    /// a scalar of which the last wins). No payload gives the type's zero value.
    fn decode_value(
        &mut self,
        ty: &TypeRef,
        payloads: &[Payload<'_>],
        wire: Option<WireType>,
        path: &mut String,
        depth: usize,
    ) -> Result<Val> {
        match ty {
            TypeRef::Alias { name, target } => {
                if self.facts.alias_by_name(name).is_some_and(|a| a.proto_wrapper) {
                    let bytes = merged(payloads, path)?;
                    return self.decode_wrapper(target, &bytes, path, depth);
                }
                self.decode_value(target, payloads, wire, path, depth)
            }
            TypeRef::Pointer(inner) => self.decode_value(inner, payloads, wire, path, depth),
            TypeRef::List(element) => self.decode_list(element, payloads, wire, path, depth),
            TypeRef::Map { key, value } => self.decode_map(key, value, payloads, path, depth),
            TypeRef::Bytes => {
                let bytes = match payloads.last() {
                    None => &[][..],
                    Some(Payload::Len(bytes)) => bytes,
                    Some(other) => return Err(wrong_wire(path, wire::LEN, other)),
                };
                let text = base64::engine::general_purpose::STANDARD.encode(bytes);
                Ok(Val::new(Value::String(text), bytes.is_empty()))
            }
            TypeRef::Primitive(primitive) => match payloads.last() {
                None => Ok(zero_scalar(*primitive)),
                Some(payload) => scalar(*primitive, wire, payload, path),
            },
            TypeRef::Named(name) => {
                let ty = self.type_named(name)?;
                let bytes = merged(payloads, path)?;
                let object = self.decode_struct(ty, &bytes, path, depth + 1)?;
                let zero = object.is_empty();
                Ok(Val::new(Value::Object(object), zero))
            }
            TypeRef::Special { kind, name } => {
                let bytes = merged(payloads, path)?;
                self.decode_special(*kind, name, &bytes, path, depth + 1)
            }
            TypeRef::Any => Err(ProtobufError::InvalidValue {
                path: path.clone(),
                message: "a field of Go type interface{} has no protobuf form".to_owned(),
            }),
        }
    }

    fn decode_list(
        &mut self,
        element: &TypeRef,
        payloads: &[Payload<'_>],
        wire: Option<WireType>,
        path: &mut String,
        depth: usize,
    ) -> Result<Val> {
        let packable = element.primitive().filter(|p| *p != Primitive::String);
        let mut items = Vec::with_capacity(payloads.len());
        for payload in payloads {
            if let (Some(primitive), Payload::Len(bytes)) = (packable, payload) {
                // Packed: the scalars back to back, without keys.
                let element_wire = scalar_wire(primitive, wire);
                let mut reader = Reader::new(bytes);
                while !reader.is_empty() {
                    let mark = push_index(path, items.len());
                    let read = match element_wire.wire_number() {
                        wire::FIXED64 => reader.fixed64().map(Payload::Fixed64),
                        wire::FIXED32 => reader.fixed32().map(Payload::Fixed32),
                        _ => reader.varint().map(Payload::Varint),
                    };
                    let item = read.map_err(|e| wire_error(e, path)).and_then(|p| scalar(primitive, wire, &p, path));
                    path.truncate(mark);
                    items.push(item?.value);
                }
                continue;
            }
            let mark = push_index(path, items.len());
            let item = self.decode_value(element, std::slice::from_ref(payload), wire, path, depth);
            path.truncate(mark);
            items.push(item?.value);
        }
        let zero = items.is_empty();
        Ok(Val::new(Value::Array(items), zero))
    }

    fn decode_map(
        &mut self,
        key_ty: &TypeRef,
        value_ty: &TypeRef,
        payloads: &[Payload<'_>],
        path: &mut String,
        depth: usize,
    ) -> Result<Val> {
        let mut entries = BTreeMap::new();
        for payload in payloads {
            let Payload::Len(entry) = payload else {
                return Err(wrong_wire(path, wire::LEN, payload));
            };
            let mut keys = Vec::new();
            let mut values = Vec::new();
            let mut reader = Reader::new(entry);
            while let Some(field) = reader.next_field().map_err(|e| wire_error(e, path))? {
                match field.number {
                    1 => keys.push(field.payload),
                    2 => values.push(field.payload),
                    number => self.unknown_field(path, number, field.payload.wire_type()),
                }
            }
            let mark = push_field(path, "key");
            let key = self.decode_value(key_ty, &keys, None, path, depth);
            path.truncate(mark);
            let key = match key?.value {
                Value::String(text) => text,
                // Go's encoding/json writes integer and boolean keys as their text.
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => {
                    return Err(ProtobufError::InvalidValue {
                        path: path.clone(),
                        message: format!("map key {other} cannot be a JSON object key"),
                    });
                }
            };
            let mark = push_key(path, &key);
            let value = self.decode_value(value_ty, &values, None, path, depth);
            path.truncate(mark);
            entries.insert(key, value?.value);
        }
        let zero = entries.is_empty();
        Ok(Val::new(Value::Object(entries.into_iter().collect()), zero))
    }

    /// A `+protobuf.nullable=true` slice type (`ExtraValue`, `Verbs`): message `{repeated items = 1}`.
    fn decode_wrapper(&mut self, target: &TypeRef, data: &[u8], path: &mut String, depth: usize) -> Result<Val> {
        let Some(element) = target.list_element() else {
            return Err(ProtobufError::Facts(format!("a protobuf wrapper at {path} is not a slice type")));
        };
        let mut items = Vec::new();
        let mut reader = Reader::new(data);
        while let Some(field) = reader.next_field().map_err(|e| wire_error(e, path))? {
            match field.number {
                1 => items.push(field.payload),
                number => self.unknown_field(path, number, field.payload.wire_type()),
            }
        }
        self.decode_list(element, &items, None, path, depth)
    }

    /// Reads a special type's message into its fields by number (unknown numbers recorded).
    fn special_fields<'b>(&mut self, data: &'b [u8], path: &str, known: &[(u32, u8)]) -> Result<Vec<Vec<Payload<'b>>>> {
        let mut slots = vec![Vec::new(); known.len()];
        let mut reader = Reader::new(data);
        while let Some(field) = reader.next_field().map_err(|e| wire_error(e, path))? {
            let Some(index) = known.iter().position(|(n, _)| *n == field.number) else {
                self.unknown_field(path, field.number, field.payload.wire_type());
                continue;
            };
            let expected = known[index].1;
            let actual = field.payload.wire_type();
            // Repeated scalars are never packed in these types; only exact wire types are allowed.
            if actual != expected {
                return Err(ProtobufError::WrongWireType { path: path.to_owned(), expected, actual });
            }
            slots[index].push(field.payload);
        }
        Ok(slots)
    }

    fn decode_special(
        &mut self,
        kind: SpecialType,
        name: &str,
        data: &[u8],
        path: &mut String,
        depth: usize,
    ) -> Result<Val> {
        if depth > MAX_DEPTH {
            return Err(ProtobufError::TooDeep { path: path.clone(), limit: MAX_DEPTH });
        }
        use wire::{LEN, VARINT};
        match kind {
            SpecialType::Time => {
                // Upstream keeps whole seconds only (`time.Unix(seconds, 0)`); an empty message is the zero time.
                if data.is_empty() {
                    return Ok(Val::new(Value::Null, true));
                }
                let fields = self.special_fields(data, path, &[(1, VARINT), (2, VARINT)])?;
                let seconds = last_varint(&fields[0]) as i64;
                if seconds == GO_ZERO_TIME_SECONDS {
                    return Ok(Val::new(Value::Null, true));
                }
                Ok(Val::new(Value::String(rfc3339(seconds)), false))
            }
            SpecialType::MicroTime => {
                if data.is_empty() {
                    return Ok(Val::new(Value::Null, true));
                }
                let fields = self.special_fields(data, path, &[(1, VARINT), (2, VARINT)])?;
                let seconds = last_varint(&fields[0]) as i64;
                let nanos = i64::from(last_varint(&fields[1]) as i32);
                // Truncated to microseconds (towards zero), as upstream does.
                let nanos = nanos - nanos % 1000;
                Ok(match rfc3339_micro(seconds, nanos) {
                    Some(text) => Val::new(Value::String(text), false),
                    None => Val::new(Value::Null, true),
                })
            }
            SpecialType::Duration => {
                let fields = self.special_fields(data, path, &[(1, VARINT)])?;
                let nanos = last_varint(&fields[0]) as i64;
                Ok(Val::new(Value::String(go_duration(nanos)), nanos == 0))
            }
            SpecialType::Quantity => {
                // Passed through as sent; the JSON pipeline parses and canonicalizes quantities.
                let fields = self.special_fields(data, path, &[(1, LEN)])?;
                Ok(match last_bytes(&fields[0]) {
                    Some(text) => Val::new(Value::String(lossy(text)), false),
                    None => Val::new(Value::String("0".to_owned()), true),
                })
            }
            SpecialType::IntOrString => {
                let fields = self.special_fields(data, path, &[(1, VARINT), (2, VARINT), (3, LEN)])?;
                let type_ = last_varint(&fields[0]) as i64;
                let int_val = last_varint(&fields[1]) as i32;
                let str_val = last_bytes(&fields[2]).map(lossy).unwrap_or_default();
                let zero = type_ == 0 && int_val == 0 && str_val.is_empty();
                match type_ {
                    0 => Ok(Val::new(Value::from(int_val), zero)),
                    1 => Ok(Val::new(Value::String(str_val), zero)),
                    other => Err(ProtobufError::InvalidValue {
                        path: path.clone(),
                        message: format!("impossible IntOrString.Type {other}"),
                    }),
                }
            }
            SpecialType::RawExtension | SpecialType::FieldsV1 | SpecialType::Json => {
                let fields = self.special_fields(data, path, &[(1, LEN)])?;
                match last_bytes(&fields[0]) {
                    None | Some([]) => Ok(Val::new(Value::Null, true)),
                    Some(raw) => {
                        let value = self.embedded_json(kind, raw, path, depth)?;
                        Ok(Val::new(value, false))
                    }
                }
            }
            SpecialType::JsonSchemaPropsOrBool => {
                let fields = self.special_fields(data, path, &[(1, VARINT), (2, LEN)])?;
                if !fields[1].is_empty() {
                    let schema = self.special_member(name, 2)?;
                    let bytes = merged(&fields[1], path)?;
                    let object = self.decode_struct(schema, &bytes, path, depth + 1)?;
                    return Ok(Val::new(Value::Object(object), false));
                }
                let allows = last_varint(&fields[0]) != 0;
                Ok(Val::new(Value::Bool(allows), !allows))
            }
            SpecialType::JsonSchemaPropsOrArray | SpecialType::JsonSchemaPropsOrStringArray => {
                let fields = self.special_fields(data, path, &[(1, LEN), (2, LEN)])?;
                if !fields[1].is_empty() {
                    // The array form wins when it has elements.
                    let element = self
                        .facts
                        .type_by_name(name)
                        .and_then(|t| t.field_by_proto_number(2))
                        .and_then(|f| f.ty.list_element().cloned())
                        .ok_or_else(|| ProtobufError::Facts(format!("{name} has no list field 2")))?;
                    let list = self.decode_list(&element, &fields[1], None, path, depth)?;
                    return Ok(Val::new(list.value, false));
                }
                if !fields[0].is_empty() {
                    let schema = self.special_member(name, 1)?;
                    let bytes = merged(&fields[0], path)?;
                    let object = self.decode_struct(schema, &bytes, path, depth + 1)?;
                    return Ok(Val::new(Value::Object(object), false));
                }
                Ok(Val::new(Value::Null, true))
            }
        }
    }

    /// The struct type of field `number` of the special type `name` (the `JSONSchemaProps` inside the
    /// `JSONSchemaPropsOr…` types).
    fn special_member(&self, name: &str, number: u32) -> Result<&'f TypeFacts> {
        let member = self
            .facts
            .type_by_name(name)
            .and_then(|t| t.field_by_proto_number(number))
            .and_then(|f| f.ty.struct_name())
            .ok_or_else(|| ProtobufError::Facts(format!("{name} has no struct field {number}")))?;
        self.type_named(member)
    }

    /// The JSON value held in the raw bytes of a `RawExtension`, `FieldsV1` or `apiextensions` `JSON`:
    /// JSON text as is, or (`RawExtension` only) a nested protobuf object with its own envelope.
    fn embedded_json(&mut self, kind: SpecialType, raw: &[u8], path: &mut String, depth: usize) -> Result<Value> {
        if kind == SpecialType::RawExtension && raw.starts_with(&MAGIC) {
            let decoded = self.decode_body(raw, None, path, depth + 1)?;
            return Ok(decoded.object);
        }
        let first = raw.iter().copied().find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
        if let Some(byte) = first
            && (byte == 0xf6 || (0xa0..=0xbf).contains(&byte) || (0xc6..=0xdb).contains(&byte))
        {
            return Err(ProtobufError::InvalidValue {
                path: path.clone(),
                message: "embedded CBOR is not supported; send JSON".to_owned(),
            });
        }
        serde_json::from_slice(raw).map_err(|e| ProtobufError::InvalidValue {
            path: path.clone(),
            message: format!("embedded value is not valid JSON: {e}"),
        })
    }
}

/// Whether a decoded field is written into the JSON object.
fn keep_field(facts: &FieldFacts, val: &Val) -> bool {
    if val.value.is_null() {
        return false;
    }
    facts.pointer || !val.zero
}

/// The wire type a field's values are expected with (from `generated.proto`, via the facts).
fn expected_wire(facts: &FieldFacts) -> u8 {
    facts.proto.as_ref().map_or(wire::LEN, |p| p.wire.wire_number())
}

/// Whether `actual` is acceptable for the field: the declared wire type, or, for repeated numeric
/// and boolean fields, packed (length-delimited) or unpacked encoding alike, as protobuf requires.
fn wire_allowed(facts: &FieldFacts, actual: u8) -> bool {
    let Some(tag) = &facts.proto else {
        return false;
    };
    if actual == tag.wire.wire_number() {
        return true;
    }
    let element = match &facts.ty.resolved() {
        TypeRef::List(element) => element.primitive(),
        _ => None,
    };
    match element {
        Some(Primitive::String) | None => false,
        Some(primitive) => actual == wire::LEN || actual == scalar_wire(primitive, Some(tag.wire)).wire_number(),
    }
}

/// The wire type of one scalar: the tag's (unless it says length-delimited, as a packed list's
/// would), else the primitive's protobuf default.
fn scalar_wire(primitive: Primitive, tag: Option<WireType>) -> WireType {
    match tag {
        Some(WireType::Bytes) | None => match primitive {
            Primitive::String => WireType::Bytes,
            Primitive::Float64 => WireType::Fixed64,
            Primitive::Float32 => WireType::Fixed32,
            _ => WireType::Varint,
        },
        Some(other) => other,
    }
}

fn zero_scalar(primitive: Primitive) -> Val {
    match primitive {
        Primitive::String => Val::new(Value::String(String::new()), true),
        Primitive::Bool => Val::new(Value::Bool(false), true),
        _ => Val::new(Value::from(0), true),
    }
}

/// One scalar from its payload.
fn scalar(primitive: Primitive, tag: Option<WireType>, payload: &Payload<'_>, path: &str) -> Result<Val> {
    let wire = scalar_wire(primitive, tag);
    let mismatch = || wrong_wire(path, wire.wire_number(), payload);
    let value = match (primitive, *payload) {
        (Primitive::String, Payload::Len(bytes)) => {
            return Ok(Val::new(Value::String(lossy(bytes)), bytes.is_empty()));
        }
        (Primitive::Bool, Payload::Varint(v)) => return Ok(Val::new(Value::Bool(v != 0), v == 0)),
        (Primitive::Float64, Payload::Fixed64(bits)) => {
            let f = f64::from_bits(bits);
            return float(f, path);
        }
        (Primitive::Float32, Payload::Fixed32(bits)) => {
            let f = f64::from(f32::from_bits(bits));
            return float(f, path);
        }
        (Primitive::Int32, Payload::Varint(v)) => match wire {
            WireType::Zigzag32 | WireType::Zigzag64 => Value::from(unzigzag(v) as i32),
            _ => Value::from(v as i32),
        },
        (Primitive::Int32, Payload::Fixed32(v)) => Value::from(v as i32),
        (Primitive::Int64 | Primitive::Int, Payload::Varint(v)) => match wire {
            WireType::Zigzag32 | WireType::Zigzag64 => Value::from(unzigzag(v)),
            _ => Value::from(v as i64),
        },
        (Primitive::Int64 | Primitive::Int, Payload::Fixed64(v)) => Value::from(v as i64),
        (Primitive::Uint32, Payload::Varint(v)) => Value::from(v as u32),
        (Primitive::Uint32, Payload::Fixed32(v)) => Value::from(v),
        (Primitive::Uint64, Payload::Varint(v) | Payload::Fixed64(v)) => Value::from(v),
        (Primitive::Byte, Payload::Varint(v)) => Value::from(v as u8),
        _ => return Err(mismatch()),
    };
    let zero = value.as_i64() == Some(0) || value.as_u64() == Some(0);
    Ok(Val::new(value, zero))
}

fn float(value: f64, path: &str) -> Result<Val> {
    match float_value(value) {
        Some(json) => Ok(Val::new(json, value == 0.0)),
        None => Err(ProtobufError::InvalidValue {
            path: path.to_owned(),
            message: format!("json: unsupported value: {value}"),
        }),
    }
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn wrong_wire(path: &str, expected: u8, payload: &Payload<'_>) -> ProtobufError {
    ProtobufError::WrongWireType { path: path.to_owned(), expected, actual: payload.wire_type() }
}

/// The bytes of a message field sent in one or more parts; protobuf merges repeated parts of a
/// singular message field, which is the same as decoding their concatenation.
fn merged<'a>(payloads: &[Payload<'a>], path: &str) -> Result<Cow<'a, [u8]>> {
    match payloads {
        [] => Ok(Cow::Borrowed(&[])),
        [Payload::Len(bytes)] => Ok(Cow::Borrowed(bytes)),
        _ => {
            let mut out = Vec::new();
            for payload in payloads {
                match payload {
                    Payload::Len(bytes) => out.extend_from_slice(bytes),
                    other => return Err(wrong_wire(path, wire::LEN, other)),
                }
            }
            Ok(Cow::Owned(out))
        }
    }
}

fn last_varint(payloads: &[Payload<'_>]) -> u64 {
    match payloads.last() {
        Some(Payload::Varint(v)) => *v,
        _ => 0,
    }
}

fn last_bytes<'a>(payloads: &[Payload<'a>]) -> Option<&'a [u8]> {
    match payloads.last() {
        Some(Payload::Len(bytes)) => Some(bytes),
        _ => None,
    }
}

fn push_field(path: &mut String, name: &str) -> usize {
    let mark = path.len();
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(name);
    mark
}

fn push_index(path: &mut String, index: usize) -> usize {
    let mark = path.len();
    let _ = write!(path, "[{index}]");
    mark
}

fn push_key(path: &mut String, key: &str) -> usize {
    let mark = path.len();
    path.push('[');
    path.push_str(key);
    path.push(']');
    mark
}
