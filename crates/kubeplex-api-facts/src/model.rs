//! The facts themselves: types, fields, protobuf tags, list and map semantics.
//!
//! These are the serialized shapes of the data file (camelCase keys, defaults
//! omitted) and, after loading, the values [`crate::ApiFacts`] hands out.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::type_ref::{SpecialType, TypeRef};

fn is_false(value: &bool) -> bool {
    !*value
}

fn is_true(value: &bool) -> bool {
    *value
}

fn yes() -> bool {
    true
}

/// Group, version and kind under which a type is registered (`AddKnownTypes` in the
/// package's `register.go`). The core group is `""`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupVersionKind {
    /// API group, `""` for the core (legacy) group.
    pub group: String,
    /// API version (`v1`, `v1beta1`, …).
    pub version: String,
    /// Kind (`Deployment`).
    pub kind: String,
}

impl GroupVersionKind {
    /// The `apiVersion` string: `version` for the core group, else `group/version`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.clone() } else { format!("{}/{}", self.group, self.version) }
    }
}

/// Protobuf wire type named in a `protobuf:"…"` struct tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireType {
    /// Length-delimited (strings, bytes, messages, packed or unpacked repeated messages, maps).
    Bytes,
    /// Varint (int32, int64, bool, enums).
    Varint,
    /// 64-bit fixed (double).
    Fixed64,
    /// 32-bit fixed (float).
    Fixed32,
    /// Zigzag-encoded 32-bit varint (sint32).
    Zigzag32,
    /// Zigzag-encoded 64-bit varint (sint64).
    Zigzag64,
}

impl WireType {
    /// The tag's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            WireType::Bytes => "bytes",
            WireType::Varint => "varint",
            WireType::Fixed64 => "fixed64",
            WireType::Fixed32 => "fixed32",
            WireType::Zigzag32 => "zigzag32",
            WireType::Zigzag64 => "zigzag64",
        }
    }

    /// The protobuf wire-type number used in field keys (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32).
    pub fn wire_number(self) -> u8 {
        match self {
            WireType::Varint | WireType::Zigzag32 | WireType::Zigzag64 => 0,
            WireType::Fixed64 => 1,
            WireType::Bytes => 2,
            WireType::Fixed32 => 5,
        }
    }
}

impl FromStr for WireType {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s {
            "bytes" => WireType::Bytes,
            "varint" => WireType::Varint,
            "fixed64" => WireType::Fixed64,
            "fixed32" => WireType::Fixed32,
            "zigzag32" => WireType::Zigzag32,
            "zigzag64" => WireType::Zigzag64,
            other => return Err(Error::BadValue { what: "protobuf wire type", value: other.to_owned() }),
        })
    }
}

/// Protobuf cardinality named in a `protobuf:"…"` struct tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProtoLabel {
    /// `opt`: optional (proto2).
    Opt,
    /// `req`: required (proto2; still decoded leniently by Go).
    Req,
    /// `rep`: repeated (lists and maps).
    Rep,
}

impl FromStr for ProtoLabel {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s {
            "opt" => ProtoLabel::Opt,
            "req" => ProtoLabel::Req,
            "rep" => ProtoLabel::Rep,
            other => return Err(Error::BadValue { what: "protobuf label", value: other.to_owned() }),
        })
    }
}

/// A field's `protobuf:"wire,number,label,name=…,casttype=…"` struct tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProtoTag {
    /// Field number.
    #[serde(rename = "n")]
    pub number: u32,
    /// Wire type, as the package's `generated.proto` implies (the Go tags are sometimes stale, e.g.
    /// `bytes` on `*int32` fields that are varints on the wire).
    pub wire: WireType,
    /// Cardinality, as the package's `generated.proto` declares it (the Go tags are sometimes stale:
    /// `opt` on repeated fields, or no label at all).
    pub label: ProtoLabel,
    /// The protobuf field name (`name=`), usually the JSON name; absent for some embedded fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `casttype=`: the Go type the value is converted to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub casttype: Option<String>,
    /// `castkey=`: the Go type of map keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub castkey: Option<String>,
    /// `castvalue=`: the Go type of map values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub castvalue: Option<String>,
}

/// `+listType` (OpenAPI `x-kubernetes-list-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ListType {
    /// The list is replaced as a whole.
    Atomic,
    /// Items are unique scalars, merged as a set.
    Set,
    /// Items are objects identified by the `+listMapKey` fields.
    Map,
}

/// `+mapType` (OpenAPI `x-kubernetes-map-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MapType {
    /// The map is replaced as a whole.
    Atomic,
    /// Keys are merged separately (the default).
    Granular,
}

/// `+structType` (OpenAPI `x-kubernetes-map-type` on structs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StructType {
    /// The struct is replaced as a whole.
    Atomic,
    /// Fields are merged separately (the default).
    Granular,
}

/// One strategy named in `patchStrategy` (a field may carry several, comma-separated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchStrategy {
    /// `merge`: lists merge by `patchMergeKey` (or as sets for scalars).
    Merge,
    /// `retainKeys`: fields absent from the patch are cleared (unions such as volume sources).
    RetainKeys,
    /// `replace`: the value is replaced as a whole.
    Replace,
}

impl PatchStrategy {
    /// The tag's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PatchStrategy::Merge => "merge",
            PatchStrategy::RetainKeys => "retainKeys",
            PatchStrategy::Replace => "replace",
        }
    }
}

/// The `patchStrategy` of a field: one or more [`PatchStrategy`] values, written as the tag writes them
/// (`merge,retainKeys`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct PatchStrategies(pub Vec<PatchStrategy>);

impl PatchStrategies {
    /// True if `strategy` is among them.
    pub fn contains(&self, strategy: PatchStrategy) -> bool {
        self.0.contains(&strategy)
    }

    /// True if there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for PatchStrategies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<&str> = self.0.iter().map(|s| s.as_str()).collect();
        f.write_str(&parts.join(","))
    }
}

impl FromStr for PatchStrategies {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let mut out = Vec::new();
        for part in s.split(',').filter(|p| !p.is_empty()) {
            out.push(match part {
                "merge" => PatchStrategy::Merge,
                "retainKeys" => PatchStrategy::RetainKeys,
                "replace" => PatchStrategy::Replace,
                other => return Err(Error::BadValue { what: "patch strategy", value: other.to_owned() }),
            });
        }
        Ok(PatchStrategies(out))
    }
}

impl Serialize for PatchStrategies {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PatchStrategies {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One field of a Go struct, as Go's `encoding/json`, the protobuf tags and the markers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldFacts {
    /// The Go field name (for an embedded field, the embedded type's name).
    pub go: String,
    /// The JSON name. `None` when the field is not in JSON (`json:"-"`) or is flattened into its parent
    /// (`inline`). A field without a `json` tag gets its Go name, as `encoding/json` does (this only
    /// happens in types whose JSON is hand-written, see [`TypeFacts::custom_json`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<String>,
    /// `omitempty` in the `json` tag.
    #[serde(default, skip_serializing_if = "is_false")]
    pub omitempty: bool,
    /// A Go embedded (anonymous) field.
    #[serde(default, skip_serializing_if = "is_false")]
    pub embedded: bool,
    /// JSON flattens the field's own fields into the parent (embedded with no JSON name, e.g.
    /// `metav1.TypeMeta \`json:",inline"\``). Its protobuf form, if it has a `protobuf` tag, is still a
    /// nested message (e.g. `EphemeralContainer.ephemeralContainerCommon = 1`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub inline: bool,
    /// The Go field is a pointer (`*int32`, `*PodSpec`): a zero value is distinguishable from absence.
    #[serde(default, skip_serializing_if = "is_false")]
    pub pointer: bool,
    /// What the field holds (after the field's own pointer, see `pointer`).
    #[serde(rename = "type")]
    pub ty: TypeRef,
    /// The protobuf tag; `None` when the field is not in protobuf (TypeMeta inlined into objects,
    /// or `protobuf:"-"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proto: Option<ProtoTag>,
    /// `patchStrategy` (struct tag, or `+patchStrategy` marker when only that is present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch_strategy: Option<PatchStrategies>,
    /// `patchMergeKey` (struct tag, or `+patchMergeKey` marker when only that is present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch_merge_key: Option<String>,
    /// `+listType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_type: Option<ListType>,
    /// Every `+listMapKey`, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub list_map_keys: Vec<String>,
    /// `+mapType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map_type: Option<MapType>,
    /// `+structType` on the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub struct_type: Option<StructType>,
    /// `+optional` marker present.
    #[serde(default, skip_serializing_if = "is_false")]
    pub optional: bool,
    /// `+required` marker present.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// `+default=` marker, verbatim (a JSON value, or `ref(…)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// For a field reached through inlined embedded fields ([`TypeFacts::json_fields`]): the Go names of
    /// the embedded fields passed through, outermost first. Empty for a type's own fields.
    #[serde(skip)]
    pub inlined_via: Vec<String>,
}

impl FieldFacts {
    /// The patch strategies (empty if none).
    pub fn patch_strategies(&self) -> &[PatchStrategy] {
        self.patch_strategy.as_ref().map(|s| s.0.as_slice()).unwrap_or(&[])
    }

    /// True if `patchStrategy` includes `strategy`.
    pub fn has_patch_strategy(&self, strategy: PatchStrategy) -> bool {
        self.patch_strategies().contains(&strategy)
    }

    /// The protobuf field number, if the field is in protobuf.
    pub fn proto_number(&self) -> Option<u32> {
        self.proto.as_ref().map(|p| p.number)
    }

    /// True if the field appears in JSON under its own name (not inlined, not `json:"-"`).
    pub fn in_json(&self) -> bool {
        self.json.is_some()
    }
}

/// A field of a protobuf message written by hand (for [`TypeFacts::proto_message`]), as the package's
/// `generated.proto` declares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProtoMessageField {
    /// Field name.
    pub name: String,
    /// Field number.
    #[serde(rename = "n")]
    pub number: u32,
    /// Protobuf scalar or message type (`int64`, `string`, `bytes`, …).
    #[serde(rename = "type")]
    pub proto_type: String,
    /// `optional` / `repeated`.
    pub label: String,
}

/// A Go struct type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TypeFacts {
    /// The OpenAPI definition name (`io.k8s.api.apps.v1.Deployment`); filled in from the table key.
    #[serde(skip)]
    pub name: String,
    /// The Go package and type (`k8s.io/api/apps/v1.Deployment`).
    pub go: String,
    /// Registrations under (group, version, kind), sorted. Empty for types that are not top-level kinds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<GroupVersionKind>,
    /// A kind registered into every group version (`metav1.AddToGroupVersion`: `WatchEvent`, the
    /// options kinds such as `DeleteOptions`): its kind name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind_in_every_group_version: Option<String>,
    /// A special type whose JSON is hand-written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub special: Option<SpecialType>,
    /// The Go type has its own `MarshalJSON`/`UnmarshalJSON`: its JSON is not derived from the fields.
    #[serde(default, skip_serializing_if = "is_false")]
    pub custom_json: bool,
    /// The Go type has hand-written protobuf `Marshal`/`Unmarshal`: see `proto_message`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub custom_proto: bool,
    /// For `custom_proto` types: the message as `generated.proto` declares it. The Go fields are then
    /// omitted (they are private or foreign, e.g. `time.Time`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub proto_message: Vec<ProtoMessageField>,
    /// `+structType` on the type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub struct_type: Option<StructType>,
    /// False when the type, or its package's doc.go, is marked `+k8s:openapi-gen=false` (not published
    /// in OpenAPI: e.g. `admission/v1` AdmissionReview).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub openapi: bool,
    /// The struct's fields in Go declaration order (unexported fields and fields neither in JSON nor
    /// in protobuf are left out).
    #[serde(default)]
    pub fields: Vec<FieldFacts>,
    /// The JSON view: own fields with a JSON name plus the fields of inlined embedded structs, flattened
    /// (those carry `inlined_via` and no `proto`: protobuf keeps embedded structs nested).
    #[serde(skip)]
    pub(crate) json_fields: Vec<FieldFacts>,
}

impl TypeFacts {
    /// A type with no fields, kinds or markers (for building tables).
    pub fn new(name: impl Into<String>, go: impl Into<String>) -> TypeFacts {
        TypeFacts {
            name: name.into(),
            go: go.into(),
            kinds: Vec::new(),
            kind_in_every_group_version: None,
            special: None,
            custom_json: false,
            custom_proto: false,
            proto_message: Vec::new(),
            struct_type: None,
            openapi: true,
            fields: Vec::new(),
            json_fields: Vec::new(),
        }
    }

    /// The struct's own fields, in Go declaration order.
    pub fn fields(&self) -> impl Iterator<Item = &FieldFacts> {
        self.fields.iter()
    }

    /// The fields as JSON sees them: own named fields and those of inlined embedded structs
    /// (`TypeMeta`'s `apiVersion`/`kind` in every object), in Go order. Fields reached through an
    /// inlined struct have `inlined_via` set and `proto` cleared; read protobuf from [`Self::fields`].
    pub fn json_fields(&self) -> impl Iterator<Item = &FieldFacts> {
        self.json_fields.iter()
    }

    /// The field with JSON name `json_name`, looking through inlined embedded structs (see
    /// [`Self::json_fields`]).
    pub fn field(&self, json_name: &str) -> Option<&FieldFacts> {
        self.json_fields.iter().find(|f| f.json.as_deref() == Some(json_name))
    }

    /// The own field with Go name `go_name`.
    pub fn field_by_go_name(&self, go_name: &str) -> Option<&FieldFacts> {
        self.fields.iter().find(|f| f.go == go_name)
    }

    /// The own field with protobuf number `number` (protobuf does not flatten embedded fields).
    pub fn field_by_proto_number(&self, number: u32) -> Option<&FieldFacts> {
        self.fields.iter().find(|f| f.proto_number() == Some(number))
    }

    /// The own fields that are in protobuf, by field number.
    pub fn proto_fields(&self) -> impl Iterator<Item = &FieldFacts> {
        self.fields.iter().filter(|f| f.proto.is_some())
    }

    /// The Go package (`k8s.io/api/apps/v1`).
    pub fn go_package(&self) -> &str {
        self.go.rsplit_once('.').map(|(pkg, _)| pkg).unwrap_or("")
    }

    /// The Go type name (`Deployment`).
    pub fn go_name(&self) -> &str {
        self.go.rsplit_once('.').map(|(_, name)| name).unwrap_or(&self.go)
    }

    /// True if the type is registered as a kind somewhere.
    pub fn is_kind(&self) -> bool {
        !self.kinds.is_empty() || self.kind_in_every_group_version.is_some()
    }
}

/// A defined non-struct type (`type Protocol string`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AliasFacts {
    /// The OpenAPI-style name; filled in from the table key.
    #[serde(skip)]
    pub name: String,
    /// The Go package and type (`k8s.io/api/core/v1.Protocol`).
    pub go: String,
    /// What it is defined as.
    #[serde(rename = "type")]
    pub ty: TypeRef,
    /// `+enum` marker present (its values are Go constants, not recorded here).
    #[serde(default, skip_serializing_if = "is_false")]
    pub r#enum: bool,
    /// `+protobuf.nullable=true`: in protobuf this slice type is a message `{repeated items = 1}` (so that
    /// nil and empty differ), e.g. `authentication/v1.ExtraValue` as a map value.
    #[serde(default, skip_serializing_if = "is_false")]
    pub proto_wrapper: bool,
    /// `+listType` on the type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_type: Option<ListType>,
    /// `+mapType` on the type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map_type: Option<MapType>,
}

/// The serialized form of the whole table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FactsFile {
    /// The Kubernetes minor version the facts describe (`v1.36`).
    pub kubernetes_version: String,
    /// Go module → git tag the facts were read from.
    pub sources: BTreeMap<String, String>,
    /// Struct types by OpenAPI definition name.
    pub types: BTreeMap<String, TypeFacts>,
    /// Defined non-struct types by OpenAPI-style name.
    pub aliases: BTreeMap<String, AliasFacts>,
}
