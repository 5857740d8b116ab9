//! Turns parsed Go packages into the facts table: resolves field types across packages, reads tags
//! and markers, registrations and hand-written protobuf messages, and cross-checks every protobuf
//! tag against `generated.proto`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use kubeplex_api_facts::{
    AliasFacts, FactsFile, FieldFacts, GroupVersionKind, ListType, MapType, PatchStrategies, Primitive, ProtoLabel,
    ProtoMessageField, SpecialType, StructType, TypeFacts, TypeRef, WireType,
};
use serde::de::DeserializeOwned;

use crate::parser::{Field, GoFile, Import, TypeDecl, TypeExpr, parse_file};
use crate::proto::{ProtoMessages, parse_proto};
use crate::register::{GroupVersion, Registration, parse_register};
use crate::source::Source;
use crate::tags::{Markers, parse_json_tag, parse_protobuf_tag, tag_lookup};

/// How much of a package goes into the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Every exported struct (API group packages).
    Api,
    /// Exported structs that carry serialization tags, are empty, special, registered or referenced
    /// (apimachinery packages that also hold machinery).
    Lib,
    /// Only what other packages reference (`pkg/types`: `UID`, …).
    Support,
}

/// One Go package to read.
#[derive(Debug, Clone)]
pub struct PackageSpec {
    /// Directory relative to the module root.
    pub dir: String,
    pub role: Role,
}

/// A loaded package.
#[derive(Debug)]
pub struct Package {
    pub import_path: String,
    pub role: Role,
    pub name: String,
    pub files: Vec<(String, GoFile)>,
    /// The OpenAPI name prefix (`io.k8s.api.apps.v1`).
    pub model_package: String,
    pub group_marker: Option<String>,
    /// `+k8s:openapi-gen=` in doc.go: whether the package's types are published in OpenAPI.
    pub openapi_gen: Option<bool>,
    pub proto: ProtoMessages,
    pub registrations: Vec<Registration>,
    pub register_imports: Vec<Import>,
}

/// Files of a package that hold no type declarations worth reading.
fn is_skipped_file(name: &str) -> bool {
    !name.ends_with(".go")
        || name.ends_with("_test.go")
        || name == "generated.pb.go"
        || name.starts_with("zz_generated")
        || name == "types_swagger_doc_generated.go"
}

/// Reads a package from a module's source.
pub fn load_package(module: &str, source: &Source, spec: &PackageSpec) -> Result<Package, String> {
    let import_path = if spec.dir.is_empty() { module.to_owned() } else { format!("{module}/{}", spec.dir) };
    let mut files = Vec::new();
    let mut proto = ProtoMessages::new();
    let mut registrations = Vec::new();
    let mut register_imports = Vec::new();
    let mut model_package = None;
    let mut group_marker = None;
    let mut openapi_gen = None;
    let names = source.files_in(&spec.dir)?;
    if names.is_empty() {
        return Err(format!("{import_path}: no files"));
    }
    for name in names {
        let path = if spec.dir.is_empty() { name.clone() } else { format!("{}/{name}", spec.dir) };
        if name == "generated.proto" {
            let text = source.read(&path)?.unwrap_or_default();
            proto = parse_proto(&text).map_err(|e| format!("{import_path}/{name}: {e}"))?;
            continue;
        }
        if is_skipped_file(&name) {
            continue;
        }
        let text = source.read(&path)?.ok_or_else(|| format!("{path} vanished"))?;
        let file = parse_file(&text).map_err(|e| format!("{import_path}/{name}: {e}"))?;
        if let Some(constraint) = &file.build_constraint
            && !build_constraint_holds(constraint).map_err(|e| format!("{import_path}/{name}: {e}"))?
        {
            continue;
        }
        if name == "doc.go" {
            let markers = Markers::from_comments(&file.comment_lines);
            model_package = markers.get("k8s:openapi-model-package").map(str::to_owned);
            group_marker = markers.get("groupName").map(str::to_owned);
            openapi_gen = markers.get("k8s:openapi-gen").map(|v| v != "false");
        }
        if name == "register.go" {
            registrations = parse_register(&text).map_err(|e| format!("{import_path}/{name}: {e}"))?;
            register_imports.clone_from(&file.imports);
        }
        files.push((name, file));
    }
    let package_name = files.first().map(|(_, f)| f.package.clone()).unwrap_or_default();
    let model_package = model_package.unwrap_or_else(|| default_model_package(&import_path));
    Ok(Package {
        import_path,
        role: spec.role,
        name: package_name,
        files,
        model_package,
        group_marker,
        openapi_gen,
        proto,
        registrations,
        register_imports,
    })
}

/// The OpenAPI name prefix openapi-gen derives from an import path when no marker names one:
/// the host reversed, then the path (`k8s.io/apimachinery/pkg/api/resource` →
/// `io.k8s.apimachinery.pkg.api.resource`).
pub fn default_model_package(import_path: &str) -> String {
    let (host, path) = import_path.split_once('/').unwrap_or((import_path, ""));
    let mut parts: Vec<&str> = host.split('.').rev().collect();
    parts.extend(path.split('/').filter(|p| !p.is_empty()));
    parts.join(".")
}

/// Build tags that hold when Kubernetes is built normally (no custom `-tags`).
const BUILD_TAGS: &[&str] = &["linux", "amd64", "unix", "gc", "cgo"];

/// Evaluates a `//go:build` expression (`!a && (b || c)`) under [`BUILD_TAGS`].
pub fn build_constraint_holds(expr: &str) -> Result<bool, String> {
    fn tokens(expr: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut word = String::new();
        let chars: Vec<char> = expr.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            if two == "&&" || two == "||" {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
                out.push(two);
                i += 2;
                continue;
            }
            if matches!(c, '!' | '(' | ')') || c.is_whitespace() {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
                if !c.is_whitespace() {
                    out.push(c.to_string());
                }
            } else {
                word.push(c);
            }
            i += 1;
        }
        if !word.is_empty() {
            out.push(word);
        }
        out
    }
    fn or(t: &[String], pos: &mut usize) -> Result<bool, String> {
        let mut value = and(t, pos)?;
        while t.get(*pos).map(String::as_str) == Some("||") {
            *pos += 1;
            value |= and(t, pos)?;
        }
        Ok(value)
    }
    fn and(t: &[String], pos: &mut usize) -> Result<bool, String> {
        let mut value = unary(t, pos)?;
        while t.get(*pos).map(String::as_str) == Some("&&") {
            *pos += 1;
            value &= unary(t, pos)?;
        }
        Ok(value)
    }
    fn unary(t: &[String], pos: &mut usize) -> Result<bool, String> {
        let token = t.get(*pos).ok_or("incomplete build constraint")?;
        *pos += 1;
        match token.as_str() {
            "!" => Ok(!unary(t, pos)?),
            "(" => {
                let value = or(t, pos)?;
                if t.get(*pos).map(String::as_str) != Some(")") {
                    return Err("missing ')' in build constraint".to_owned());
                }
                *pos += 1;
                Ok(value)
            }
            "&&" | "||" | ")" => Err(format!("unexpected {token} in build constraint")),
            tag => Ok(BUILD_TAGS.contains(&tag) || tag.starts_with("go1.")),
        }
    }
    let t = tokens(expr);
    let mut pos = 0;
    let value = or(&t, &mut pos)?;
    if pos != t.len() {
        return Err(format!("trailing tokens in build constraint {expr:?}"));
    }
    Ok(value)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct DeclRef {
    pkg: usize,
    file: usize,
    decl: usize,
}

/// Builds the table from loaded packages.
pub struct Builder<'a> {
    packages: &'a [Package],
    by_path: HashMap<&'a str, usize>,
    decls: HashMap<(usize, &'a str), DeclRef>,
    types: BTreeMap<String, TypeFacts>,
    aliases: BTreeMap<String, AliasFacts>,
    needed: BTreeSet<DeclRef>,
    built: BTreeSet<DeclRef>,
    errors: Vec<String>,
    pub warnings: Vec<String>,
    /// Protobuf tags whose label generated.proto corrected.
    label_fixes: usize,
    /// Protobuf tags whose wire type generated.proto corrected.
    wire_fixes: usize,
}

impl<'a> Builder<'a> {
    pub fn new(packages: &'a [Package]) -> Builder<'a> {
        let mut by_path = HashMap::new();
        let mut decls = HashMap::new();
        for (p, package) in packages.iter().enumerate() {
            by_path.insert(package.import_path.as_str(), p);
            for (f, (_, file)) in package.files.iter().enumerate() {
                for (d, decl) in file.types.iter().enumerate() {
                    decls.insert((p, decl.name.as_str()), DeclRef { pkg: p, file: f, decl: d });
                }
            }
        }
        Builder {
            packages,
            by_path,
            decls,
            types: BTreeMap::new(),
            aliases: BTreeMap::new(),
            needed: BTreeSet::new(),
            built: BTreeSet::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
            label_fixes: 0,
            wire_fixes: 0,
        }
    }

    fn decl(&self, r: DeclRef) -> &'a TypeDecl {
        &self.packages[r.pkg].files[r.file].1.types[r.decl]
    }

    fn file(&self, r: DeclRef) -> &'a GoFile {
        &self.packages[r.pkg].files[r.file].1
    }

    fn openapi_name(&self, r: DeclRef) -> String {
        format!("{}.{}", self.packages[r.pkg].model_package, self.decl(r).name)
    }

    fn go_name(&self, r: DeclRef) -> String {
        format!("{}.{}", self.packages[r.pkg].import_path, self.decl(r).name)
    }

    /// The import path a qualifier names in `file`.
    fn import_path(&self, imports: &'a [Import], qualifier: &str) -> Option<&'a str> {
        for import in imports {
            let matches = match &import.alias {
                Some(alias) => alias == qualifier,
                None => match self.by_path.get(import.path.as_str()) {
                    Some(&p) => self.packages[p].name == qualifier,
                    None => import.path.rsplit('/').next() == Some(qualifier),
                },
            };
            if matches {
                return Some(&import.path);
            }
        }
        None
    }

    /// Runs the whole build.
    pub fn build(
        mut self,
        kubernetes_version: &str,
        sources: BTreeMap<String, String>,
    ) -> Result<(FactsFile, Vec<String>), String> {
        // Roots: the structs each package contributes on its own.
        let mut refs: Vec<DeclRef> = self.decls.values().copied().collect();
        refs.sort();
        for r in &refs {
            let package = &self.packages[r.pkg];
            let decl = self.decl(*r);
            let in_types_go = package.files[r.file].0 == "types.go";
            if !is_exported(&decl.name) || decl.is_alias {
                continue;
            }
            match (&decl.ty, package.role) {
                (TypeExpr::Struct(fields), Role::Api) => {
                    let _ = fields;
                    self.needed.insert(*r);
                }
                (TypeExpr::Struct(fields), Role::Lib) => {
                    let tagged = fields.iter().any(|f| f.tag.is_some());
                    let special = SpecialType::for_go_type(&package.import_path, &decl.name).is_some();
                    // Empty structs count only in types.go (meta/v1 Patch), not machinery elsewhere.
                    if tagged || (fields.is_empty() && in_types_go) || special {
                        self.needed.insert(*r);
                    }
                }
                (TypeExpr::Struct(_), Role::Support) => {}
                (TypeExpr::Interface(_) | TypeExpr::Func | TypeExpr::Chan(_), _) => {}
                (_, Role::Api) => {
                    // Defined non-struct types of API packages are facts on their own (enums).
                    if let Err(e) = self.resolve_decl(*r) {
                        self.warnings.push(format!("{}: {e}", self.go_name(*r)));
                    }
                }
                _ => {}
            }
        }
        // Registrations.
        let mut kinds: BTreeMap<DeclRef, (BTreeSet<GroupVersionKind>, Option<String>)> = BTreeMap::new();
        for (p, package) in self.packages.iter().enumerate() {
            for reg in &package.registrations {
                let target_pkg = match &reg.qualifier {
                    None => Some(p),
                    Some(q) => {
                        self.import_path(&package.register_imports, q).and_then(|path| self.by_path.get(path).copied())
                    }
                };
                let Some(target) = target_pkg.and_then(|tp| self.decls.get(&(tp, reg.type_name.as_str())).copied())
                else {
                    self.errors.push(format!("{}: registered type {:?} not found", package.import_path, reg.type_name));
                    continue;
                };
                self.needed.insert(target);
                let entry = kinds.entry(target).or_default();
                match &reg.gv {
                    GroupVersion::One { group, version } => {
                        if let Some(marker) = &package.group_marker
                            && reg.qualifier.is_none()
                            && package.role == Role::Api
                            && marker != group
                        {
                            self.warnings.push(format!(
                                "{}: +groupName={marker} but register.go says {group}",
                                package.import_path
                            ));
                        }
                        entry.0.insert(GroupVersionKind {
                            group: group.clone(),
                            version: version.clone(),
                            kind: reg.kind.clone(),
                        });
                    }
                    GroupVersion::Every => entry.1 = Some(reg.kind.clone()),
                }
            }
        }
        // Build every needed struct, following references.
        while let Some(r) = self.needed.pop_first() {
            if !self.built.insert(r) {
                continue;
            }
            match self.build_struct(r) {
                Ok(mut facts) => {
                    if let Some((gvks, every)) = kinds.get(&r) {
                        facts.kinds = gvks.iter().cloned().collect();
                        facts.kind_in_every_group_version.clone_from(every);
                    }
                    let name = self.openapi_name(r);
                    if self.types.insert(name.clone(), facts).is_some() {
                        self.errors.push(format!("two types are named {name}"));
                    }
                }
                Err(e) => self.errors.push(format!("{}: {e}", self.go_name(r))),
            }
        }
        if !self.errors.is_empty() {
            return Err(self.errors.join("\n"));
        }
        if self.wire_fixes > 0 {
            self.warnings.push(format!(
                "{} protobuf tags name another wire type than generated.proto (e.g. `bytes` on *int32); \
                 the table follows generated.proto",
                self.wire_fixes
            ));
        }
        if self.label_fixes > 0 {
            self.warnings.push(format!(
                "{} protobuf tags name another label than generated.proto (missing, or `opt` on a repeated field); \
                 the table follows generated.proto",
                self.label_fixes
            ));
        }
        let file = FactsFile {
            kubernetes_version: kubernetes_version.to_owned(),
            sources,
            types: self.types,
            aliases: self.aliases,
        };
        Ok((file, self.warnings))
    }

    fn build_struct(&mut self, r: DeclRef) -> Result<TypeFacts, String> {
        let package = &self.packages[r.pkg];
        let decl = self.decl(r);
        let origin = self.struct_origin(r)?.ok_or("registered or referenced type is not a struct")?;
        let TypeExpr::Struct(go_fields) = &self.decl(origin).ty else {
            return Err("registered or referenced type is not a struct".to_owned());
        };
        let markers = Markers::from_comments(&decl.comments);
        let has_method = |names: &[&str]| {
            package
                .files
                .iter()
                .flat_map(|(_, f)| &f.methods)
                .any(|m| m.receiver == decl.name && names.contains(&m.name.as_str()))
        };
        let custom_json = has_method(&["MarshalJSON", "UnmarshalJSON"]);
        let custom_proto = has_method(&["Marshal", "Unmarshal"]);
        let mut facts = TypeFacts::new(self.openapi_name(r), self.go_name(r));
        facts.special = SpecialType::for_go_type(&package.import_path, &decl.name);
        facts.custom_json = custom_json;
        facts.custom_proto = custom_proto;
        facts.struct_type = parse_marker::<StructType>(&markers, "structType")?;
        facts.openapi = match markers.get("k8s:openapi-gen") {
            Some(value) => value != "false",
            None => package.openapi_gen.unwrap_or(true),
        };
        if facts.special.is_some() && !custom_json {
            return Err("a special type without hand-written JSON".to_owned());
        }
        if custom_json && facts.special.is_none() && !matches!(decl.name.as_str(), "Unknown" | "GroupVersion") {
            self.warnings.push(format!("{}: hand-written JSON but not a special type", facts.go));
        }
        if custom_proto {
            let message =
                package.proto.get(&decl.name).ok_or("hand-written protobuf but no generated.proto message")?;
            facts.proto_message = message
                .iter()
                .map(|f| ProtoMessageField {
                    name: f.name.clone(),
                    number: f.number,
                    proto_type: f.proto_type.clone(),
                    label: f.label.clone(),
                })
                .collect();
            if custom_json {
                // Private or foreign fields (time.Time, Quantity's internals): the message says it all.
                return Ok(facts);
            }
        }
        for field in go_fields {
            // Field types are resolved where the struct is written.
            let built = self.build_fields(origin, field)?;
            facts.fields.extend(built);
        }
        self.check_proto(r, &mut facts)?;
        Ok(facts)
    }

    fn build_fields(&mut self, r: DeclRef, field: &Field) -> Result<Vec<FieldFacts>, String> {
        let tag = field.tag.as_deref().unwrap_or("");
        let json_tag = tag_lookup(tag, "json")?.map(|v| parse_json_tag(&v));
        let proto = match tag_lookup(tag, "protobuf")? {
            Some(value) => parse_protobuf_tag(&value)?,
            None => None,
        };
        let markers = Markers::from_comments(&field.comments);
        let (pointer, inner) = match &field.ty {
            TypeExpr::Pointer(inner) => (true, inner.as_ref()),
            other => (false, other),
        };
        let embedded = field.names.is_empty();
        let names: Vec<String> = if embedded {
            match inner {
                TypeExpr::Named { name, .. } => vec![name.clone()],
                other => return Err(format!("embedded field of unexpected type {other:?}")),
            }
        } else {
            field.names.clone()
        };
        let mut out = Vec::new();
        for go in names {
            if !is_exported(&go) {
                continue;
            }
            let json_skip = json_tag.as_ref().is_some_and(|t| t.skip);
            if json_skip && proto.is_none() {
                continue;
            }
            let ty = self.resolve(r, inner).map_err(|e| format!("field {go}: {e}"))?;
            let tag_name = json_tag.as_ref().map(|t| t.name.clone()).unwrap_or_default();
            let is_struct = matches!(ty, TypeRef::Named(_));
            let inline = embedded && !json_skip && tag_name.is_empty() && is_struct;
            let json = if json_skip || inline {
                None
            } else if tag_name.is_empty() {
                Some(go.clone())
            } else {
                Some(tag_name)
            };
            let patch_strategy_tag = tag_lookup(tag, "patchStrategy")?;
            let patch_merge_key_tag = tag_lookup(tag, "patchMergeKey")?;
            let patch_strategy_marker = markers.get("patchStrategy").map(str::to_owned);
            let patch_merge_key_marker = markers.get("patchMergeKey").map(str::to_owned);
            let field_name = format!("{}.{go}", self.go_name(r));
            if patch_strategy_tag.is_some()
                && patch_strategy_marker.is_some()
                && patch_strategy_tag != patch_strategy_marker
            {
                self.warnings.push(format!("{field_name}: patchStrategy tag and marker differ"));
            }
            if patch_merge_key_tag.is_some()
                && patch_merge_key_marker.is_some()
                && patch_merge_key_tag != patch_merge_key_marker
            {
                self.warnings.push(format!("{field_name}: patchMergeKey tag and marker differ"));
            }
            let patch_strategy = patch_strategy_tag
                .or(patch_strategy_marker)
                .map(|s| s.parse::<PatchStrategies>().map_err(|e| format!("{field_name}: {e}")))
                .transpose()?;
            let list_type = match parse_marker::<ListType>(&markers, "listType")? {
                Some(t) => Some(t),
                None => tag_lookup(tag, "listType")?.map(|v| parse_word::<ListType>(&v)).transpose()?,
            };
            out.push(FieldFacts {
                go,
                json,
                omitempty: json_tag.as_ref().is_some_and(|t| t.omitempty),
                embedded,
                inline,
                pointer,
                ty,
                proto: proto.clone(),
                patch_strategy,
                patch_merge_key: patch_merge_key_tag.or(patch_merge_key_marker),
                list_type,
                list_map_keys: markers.all("listMapKey"),
                map_type: parse_marker::<MapType>(&markers, "mapType")?,
                struct_type: parse_marker::<StructType>(&markers, "structType")?,
                optional: markers.has("optional"),
                required: markers.has("required"),
                default: markers.get("default").map(str::to_owned),
                inlined_via: Vec::new(),
            });
        }
        Ok(out)
    }

    /// Compares the Go protobuf tags with the package's generated.proto message, and takes the label
    /// from generated.proto (some Go tags say `opt` for repeated fields, or have no label).
    fn check_proto(&mut self, r: DeclRef, facts: &mut TypeFacts) -> Result<(), String> {
        let package = &self.packages[r.pkg];
        let decl = self.decl(r);
        let tagged = facts.fields.iter().filter(|f| f.proto.is_some()).count();
        let Some(message) = package.proto.get(&decl.name) else {
            if tagged > 0 && !package.proto.is_empty() {
                return Err("protobuf tags but no message in generated.proto".to_owned());
            }
            return Ok(());
        };
        let mut numbers = BTreeSet::new();
        for field in &mut facts.fields {
            let Some(tag) = &mut field.proto else { continue };
            if !numbers.insert(tag.number) {
                return Err(format!("protobuf number {} is used twice", tag.number));
            }
            let Some(proto_field) = message.iter().find(|m| m.number == tag.number) else {
                return Err(format!(
                    "field {} has protobuf number {} missing from generated.proto",
                    field.go, tag.number
                ));
            };
            if let Some(name) = &tag.name
                && *name != proto_field.name
            {
                return Err(format!(
                    "field {}: protobuf name {name} but generated.proto says {}",
                    field.go, proto_field.name
                ));
            }
            let expected_wire = match proto_field.proto_type.as_str() {
                "int32" | "int64" | "uint32" | "uint64" | "bool" => WireType::Varint,
                "sint32" => WireType::Zigzag32,
                "sint64" => WireType::Zigzag64,
                "double" | "fixed64" | "sfixed64" => WireType::Fixed64,
                "float" | "fixed32" | "sfixed32" => WireType::Fixed32,
                _ => WireType::Bytes,
            };
            if expected_wire != tag.wire {
                self.wire_fixes += 1;
                tag.wire = expected_wire;
            }
            let declared = if proto_field.proto_type.starts_with("map<") {
                proto_field.proto_type.as_str()
            } else {
                proto_field.proto_type.rsplit('.').next().unwrap_or_default()
            };
            let element = match &field.ty {
                TypeRef::List(inner) if proto_field.label == "repeated" => inner.as_ref(),
                TypeRef::Alias { target, .. } if proto_field.label == "repeated" => match target.as_ref() {
                    TypeRef::List(inner) => inner.as_ref(),
                    other => other,
                },
                other => other,
            };
            if !proto_type_matches(element, declared) {
                return Err(format!(
                    "field {}: Go type {} but generated.proto declares {} {}",
                    field.go, field.ty, proto_field.label, proto_field.proto_type
                ));
            }
            let label = match proto_field.label.as_str() {
                "repeated" | "map" => ProtoLabel::Rep,
                "required" => ProtoLabel::Req,
                _ => ProtoLabel::Opt,
            };
            if label != tag.label {
                self.label_fixes += 1;
                tag.label = label;
            }
        }
        for proto_field in message {
            if !numbers.contains(&proto_field.number) {
                return Err(format!(
                    "generated.proto field {} = {} has no Go field",
                    proto_field.name, proto_field.number
                ));
            }
        }
        Ok(())
    }

    /// For a type defined from a struct type (`type List metav1.List`), the declaration holding the
    /// struct; for a struct declaration, itself; otherwise None.
    fn struct_origin(&self, r: DeclRef) -> Result<Option<DeclRef>, String> {
        let mut current = r;
        for _ in 0..8 {
            let decl = self.decl(current);
            match &decl.ty {
                TypeExpr::Struct(_) => return Ok(Some(current)),
                TypeExpr::Named { pkg, name } => {
                    let target_pkg = match pkg {
                        None => current.pkg,
                        Some(q) => match self.import_path(&self.file(current).imports, q) {
                            Some(path) => match self.by_path.get(path) {
                                Some(&p) => p,
                                None => return Ok(None),
                            },
                            None => return Err(format!("unknown import {q}")),
                        },
                    };
                    match self.decls.get(&(target_pkg, name.as_str())) {
                        Some(&next) => current = next,
                        None => return Ok(None),
                    }
                }
                _ => return Ok(None),
            }
        }
        Err(format!("{} is defined through too many types", self.go_name(r)))
    }

    /// Resolves a type expression appearing in the file of `r`.
    fn resolve(&mut self, r: DeclRef, expr: &TypeExpr) -> Result<TypeRef, String> {
        match expr {
            TypeExpr::Pointer(inner) => Ok(TypeRef::Pointer(Box::new(self.resolve(r, inner)?))),
            TypeExpr::Slice(inner) => {
                if let TypeExpr::Named { pkg: None, name } = inner.as_ref()
                    && (name == "byte" || name == "uint8")
                    && !self.decls.contains_key(&(r.pkg, name.as_str()))
                {
                    return Ok(TypeRef::Bytes);
                }
                Ok(TypeRef::List(Box::new(self.resolve(r, inner)?)))
            }
            TypeExpr::Map(key, value) => {
                Ok(TypeRef::Map { key: Box::new(self.resolve(r, key)?), value: Box::new(self.resolve(r, value)?) })
            }
            TypeExpr::Named { pkg: None, name } => {
                if let Some(&target) = self.decls.get(&(r.pkg, name.as_str())) {
                    return self.resolve_decl(target);
                }
                if name == "any" {
                    return Ok(TypeRef::Any);
                }
                let builtin = if name == "uint8" { Some(Primitive::Byte) } else { Primitive::from_go_name(name) };
                builtin.map(TypeRef::Primitive).ok_or_else(|| format!("unknown type {name}"))
            }
            TypeExpr::Named { pkg: Some(qualifier), name } => {
                let path = self
                    .import_path(&self.file(r).imports, qualifier)
                    .ok_or_else(|| format!("unknown import {qualifier}"))?;
                if path == "time" && name == "Duration" {
                    return Ok(TypeRef::Alias {
                        name: "time.Duration".to_owned(),
                        target: Box::new(TypeRef::Primitive(Primitive::Int64)),
                    });
                }
                let target_pkg = *self.by_path.get(path).ok_or_else(|| format!("package {path} is not read"))?;
                let target =
                    *self.decls.get(&(target_pkg, name.as_str())).ok_or_else(|| format!("{path}.{name} not found"))?;
                self.resolve_decl(target)
            }
            TypeExpr::Array(..) => Err("arrays are not supported".to_owned()),
            TypeExpr::Struct(_) => Err("anonymous structs are not supported".to_owned()),
            TypeExpr::Interface(true) => Ok(TypeRef::Any),
            TypeExpr::Interface(false) => Err("field of a non-empty interface type".to_owned()),
            TypeExpr::Func => Err("func-typed field".to_owned()),
            TypeExpr::Chan(_) => Err("chan-typed field".to_owned()),
            TypeExpr::Generic(..) => Err("generic-typed field".to_owned()),
        }
    }

    /// Resolves a reference to a declared type.
    fn resolve_decl(&mut self, r: DeclRef) -> Result<TypeRef, String> {
        let decl = self.decl(r);
        if decl.is_alias {
            return self.resolve(r, &decl.ty);
        }
        let name = self.openapi_name(r);
        match &decl.ty {
            TypeExpr::Struct(_) => {
                if !self.built.contains(&r) {
                    self.needed.insert(r);
                }
                Ok(TypeRef::Named(name))
            }
            TypeExpr::Interface(_) | TypeExpr::Func | TypeExpr::Chan(_) => {
                Err(format!("{} is not a data type", self.go_name(r)))
            }
            TypeExpr::Named { .. } if self.struct_origin(r)?.is_some() => {
                // `type MatchCondition v1.MatchCondition`: a struct type of its own with the same fields.
                if !self.built.contains(&r) {
                    self.needed.insert(r);
                }
                Ok(TypeRef::Named(name))
            }
            other => {
                if let Some(existing) = self.aliases.get(&name) {
                    return Ok(TypeRef::Alias { name, target: Box::new(existing.ty.clone()) });
                }
                let target = self.resolve(r, other)?;
                if target.struct_name().is_some() && !matches!(target, TypeRef::List(_) | TypeRef::Map { .. }) {
                    return Err(format!("{} is a struct defined from another struct", self.go_name(r)));
                }
                let markers = Markers::from_comments(&decl.comments);
                let alias = AliasFacts {
                    name: String::new(),
                    go: self.go_name(r),
                    ty: target.clone(),
                    r#enum: markers.has("enum"),
                    proto_wrapper: markers.get("protobuf.nullable") == Some("true"),
                    list_type: parse_marker::<ListType>(&markers, "listType")?,
                    map_type: parse_marker::<MapType>(&markers, "mapType")?,
                };
                self.aliases.insert(name.clone(), alias);
                Ok(TypeRef::Alias { name, target: Box::new(target) })
            }
        }
    }
}

/// Whether a Go type (a list's element for repeated fields) fits a protobuf field type (its last
/// dotted segment: `string`, `PodSpec`, `map<string, bytes>`).
fn proto_type_matches(ty: &TypeRef, declared: &str) -> bool {
    if let Some(entry) = declared.strip_prefix("map<").and_then(|d| d.strip_suffix('>')) {
        let Some((_, value)) = entry.split_once(',') else { return false };
        let value = value.trim().rsplit('.').next().unwrap_or_default();
        return match ty.resolved() {
            TypeRef::Map { value: v, .. } => proto_type_matches(v, value),
            _ => false,
        };
    }
    match ty {
        TypeRef::Primitive(p) => {
            let expected = match p {
                Primitive::String => "string",
                Primitive::Bool => "bool",
                Primitive::Int32 => "int32",
                Primitive::Int64 | Primitive::Int => "int64",
                Primitive::Uint32 => "uint32",
                Primitive::Uint64 => "uint64",
                Primitive::Float32 => "float",
                Primitive::Float64 => "double",
                Primitive::Byte => "int32",
            };
            expected == declared
        }
        TypeRef::Bytes => declared == "bytes",
        TypeRef::Named(name) | TypeRef::Special { name, .. } => name.rsplit('.').next() == Some(declared),
        // A defined type is either its own wrapper message (`ExtraValue`) or what it is defined as.
        TypeRef::Alias { name, target } => {
            name.rsplit('.').next() == Some(declared) || proto_type_matches(target, declared)
        }
        TypeRef::Pointer(inner) => proto_type_matches(inner, declared),
        TypeRef::Any | TypeRef::List(_) | TypeRef::Map { .. } => false,
    }
}

fn is_exported(name: &str) -> bool {
    name.chars().next().is_some_and(char::is_uppercase)
}

/// Parses a bare lowercase word (`atomic`) into one of the model's enums.
fn parse_word<T: DeserializeOwned>(word: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(word.to_owned())).map_err(|_| format!("unknown value {word:?}"))
}

fn parse_marker<T: DeserializeOwned>(markers: &Markers, key: &str) -> Result<Option<T>, String> {
    markers.get(key).map(|v| parse_word::<T>(v).map_err(|e| format!("+{key}: {e}"))).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluates_build_constraints() {
        assert!(!build_constraint_holds("fieldsv1string").unwrap());
        assert!(build_constraint_holds("!fieldsv1string").unwrap());
        assert!(build_constraint_holds("!notest").unwrap());
        assert!(build_constraint_holds("linux && (amd64 || arm64)").unwrap());
        assert!(!build_constraint_holds("linux && !(amd64 || arm64)").unwrap());
        assert!(build_constraint_holds("go1.21").unwrap());
        assert!(build_constraint_holds("a &&").is_err());
        assert!(build_constraint_holds("(a").is_err());
    }

    #[test]
    fn derives_model_packages_from_import_paths() {
        assert_eq!(
            default_model_package("k8s.io/apimachinery/pkg/api/resource"),
            "io.k8s.apimachinery.pkg.api.resource"
        );
        assert_eq!(default_model_package("k8s.io/api/apps/v1"), "io.k8s.api.apps.v1");
    }

    fn package(import_path: &str, role: Role, model_package: &str, files: &[&str], proto: &str) -> Package {
        Package {
            import_path: import_path.to_owned(),
            role,
            name: import_path.rsplit('/').next().unwrap_or_default().to_owned(),
            files: files
                .iter()
                .enumerate()
                .map(|(i, src)| (format!("f{i}.go"), parse_file(src).expect("parse")))
                .collect(),
            model_package: model_package.to_owned(),
            group_marker: None,
            openapi_gen: None,
            proto: parse_proto(proto).expect("proto"),
            registrations: Vec::new(),
            register_imports: Vec::new(),
        }
    }

    const META: &str = r#"package v1
import "time"
type TypeMeta struct {
	Kind string `json:"kind,omitempty" protobuf:"bytes,1,opt,name=kind"`
}
type Time struct {
	time.Time `protobuf:"-"`
}
func (t Time) MarshalJSON() ([]byte, error) { return nil, nil }
func (t *Time) UnmarshalJSON(b []byte) error { return nil }
func (m *Time) Unmarshal(data []byte) error { return nil }
type Helper struct { x int }
"#;

    const API: &str = r#"package v1
import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// +enum
type Protocol string

type Thing struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	// +listType=map
	// +listMapKey=port
	// +listMapKey=protocol
	Ports []Port `json:"ports,omitempty" patchStrategy:"merge" patchMergeKey:"port" protobuf:"bytes,1,rep,name=ports"`
	When *metav1.Time `json:"when,omitempty" protobuf:"bytes,2,opt,name=when"`
	Data map[string][]byte `json:"data,omitempty" protobuf:"bytes,3,rep,name=data"`
	Hidden string `json:"-"`
}

type Port struct {
	Port int32 `json:"port" protobuf:"varint,1,opt,name=port"`
	Protocol Protocol `json:"protocol,omitempty" protobuf:"bytes,2,opt,name=protocol,casttype=Protocol"`
}
"#;

    const API_PROTO: &str = "message Thing {\n  repeated Port ports = 1;\n  optional Time when = 2;\n  map<string, bytes> data = 3;\n}\nmessage Port {\n  optional int32 port = 1;\n  optional string protocol = 2;\n}\n";

    #[test]
    fn builds_types_fields_and_aliases() {
        let packages = [
            package(
                "k8s.io/apimachinery/pkg/apis/meta/v1",
                Role::Lib,
                "io.k8s.apimachinery.pkg.apis.meta.v1",
                &[META],
                "message TypeMeta {\n optional string kind = 1;\n}\nmessage Time {\n optional int64 seconds = 1;\n optional int32 nanos = 2;\n}\n",
            ),
            package("k8s.io/api/x/v1", Role::Api, "io.k8s.api.x.v1", &[API], API_PROTO),
        ];
        let (file, warnings) = Builder::new(&packages).build("v1.36", BTreeMap::new()).expect("build");
        assert!(warnings.is_empty(), "{warnings:?}");
        let names: Vec<&str> = file.types.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "io.k8s.api.x.v1.Port",
                "io.k8s.api.x.v1.Thing",
                "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
                "io.k8s.apimachinery.pkg.apis.meta.v1.TypeMeta"
            ]
        );
        let thing = &file.types["io.k8s.api.x.v1.Thing"];
        assert_eq!(thing.fields.len(), 4, "json:\"-\" without protobuf is left out");
        let type_meta = &thing.fields[0];
        assert!(type_meta.embedded && type_meta.inline && type_meta.json.is_none() && type_meta.proto.is_none());
        let ports = &thing.fields[1];
        assert_eq!(ports.json.as_deref(), Some("ports"));
        assert_eq!(ports.ty.to_string(), "[]io.k8s.api.x.v1.Port");
        assert_eq!(ports.list_type, Some(ListType::Map));
        assert_eq!(ports.list_map_keys, ["port", "protocol"]);
        assert_eq!(ports.patch_merge_key.as_deref(), Some("port"));
        assert!(ports.optional && ports.omitempty && !ports.pointer);
        let when = &thing.fields[2];
        assert!(when.pointer);
        assert_eq!(when.ty.to_string(), "io.k8s.apimachinery.pkg.apis.meta.v1.Time");
        assert_eq!(thing.fields[3].ty.to_string(), "map[string]bytes");
        let port = &file.types["io.k8s.api.x.v1.Port"];
        assert_eq!(port.fields[1].ty.to_string(), "io.k8s.api.x.v1.Protocol(string)");
        assert_eq!(port.fields[1].proto.as_ref().and_then(|p| p.casttype.as_deref()), Some("Protocol"));
        let time = &file.types["io.k8s.apimachinery.pkg.apis.meta.v1.Time"];
        assert_eq!(time.special, Some(SpecialType::Time));
        assert!(time.custom_json && time.custom_proto && time.fields.is_empty());
        assert_eq!(time.proto_message.len(), 2);
        let protocol = &file.aliases["io.k8s.api.x.v1.Protocol"];
        assert!(protocol.r#enum);
        assert!(!file.types.contains_key("io.k8s.apimachinery.pkg.apis.meta.v1.Helper"));
    }

    #[test]
    fn fails_when_protobuf_tags_disagree_with_generated_proto() {
        let bad_proto = API_PROTO.replace("optional int32 port = 1;", "optional int32 port = 7;");
        let packages = [
            package(
                "k8s.io/apimachinery/pkg/apis/meta/v1",
                Role::Lib,
                "io.k8s.apimachinery.pkg.apis.meta.v1",
                &[META],
                "message TypeMeta {\n optional string kind = 1;\n}\nmessage Time {\n optional int64 seconds = 1;\n}\n",
            ),
            package("k8s.io/api/x/v1", Role::Api, "io.k8s.api.x.v1", &[API], &bad_proto),
        ];
        let err = Builder::new(&packages).build("v1.36", BTreeMap::new()).expect_err("mismatch");
        assert!(err.contains("Port") && err.contains("protobuf number 1"), "{err}");
    }

    #[test]
    fn fails_on_unknown_types() {
        let packages = [package(
            "k8s.io/api/x/v1",
            Role::Api,
            "io.k8s.api.x.v1",
            &["package v1\ntype A struct {\n B Missing `json:\"b\"`\n}\n"],
            "",
        )];
        let err = Builder::new(&packages).build("v1.36", BTreeMap::new()).expect_err("unknown");
        assert!(err.contains("unknown type Missing"), "{err}");
    }
}
