//! Facts about every built-in Kubernetes type at API level 1.36, generated from the Go type
//! definitions and committed as data (`data/api-facts-v1.36.json`).
//!
//! For every Go struct of `k8s.io/api` (every group and version, served or not), of the parts of
//! `k8s.io/apimachinery` the API uses (`meta/v1`, `api/resource`, `util/intstr`, `runtime`, `version`),
//! of `k8s.io/apiextensions-apiserver` (CustomResourceDefinition) and of `k8s.io/kube-aggregator`
//! (APIService), keyed by OpenAPI definition name (`io.k8s.api.apps.v1.Deployment`), the table holds:
//!
//! - each field's JSON name, `omitempty`, whether it is embedded and inlined (JSON flattening), whether
//!   the Go field is a pointer, and its type ([`TypeRef`]: primitives, `[]byte`, lists, maps with their
//!   key type, named structs, the [`SpecialType`]s, and defined types such as `Protocol` kept by name);
//! - the protobuf tag: field number, wire type, label, `casttype`/`castkey`/`castvalue`. Numbers and names
//!   come from the Go tags and are checked against the package's `generated.proto`; wire type and label
//!   are taken from `generated.proto`, because the Go tags are stale for about a hundred fields (`bytes`
//!   on `*int32`, `opt` on repeated fields, no label at all) and the wire follows `generated.proto`;
//! - `patchStrategy`/`patchMergeKey`, `+listType`, every `+listMapKey`, `+mapType`, `+structType`,
//!   `+optional`/`+required`, `+default`;
//! - per type: the (group, version, kind) registrations from `register.go`, hand-written JSON or
//!   protobuf (with the protobuf message from `generated.proto` for the latter), `+structType`;
//! - defined non-struct types (`type Protocol string`), with `+enum` and protobuf wrapping.
//!
//! Doc comments are not copied: facts only. Namespaced-ness is not in the Go types and is not here.
//!
//! ```
//! use kubeplex_api_facts::{facts, ListType, PatchStrategy};
//!
//! let deployment = facts().kind("apps", "v1", "Deployment").expect("Deployment");
//! assert_eq!(deployment.field("spec").and_then(|f| f.proto_number()), Some(2));
//! let container = facts().type_by_name("io.k8s.api.core.v1.Container").expect("Container");
//! let ports = container.field("ports").expect("ports");
//! assert!(ports.has_patch_strategy(PatchStrategy::Merge));
//! assert_eq!(ports.list_type, Some(ListType::Map));
//! assert_eq!(ports.list_map_keys, ["containerPort", "protocol"]);
//! ```
//!
//! # Regenerating the data
//!
//! The generator (`src/bin/generate-api-facts/`) reads the Go sources straight from git repositories
//! (`GITDIR@TAG`, read with `git ls-tree`/`git show`) or from checked-out directories. From the
//! workspace root, with the mirrors of `kubernetes/api`, `kubernetes/apimachinery`,
//! `kubernetes/apiextensions-apiserver` and `kubernetes/kube-aggregator`:
//!
//! ```text
//! M=/work/.mirror
//! cargo run -p kubeplex-api-facts --bin generate-api-facts -- \
//!     --api $M/kubernetes+api/repo@v0.36.3 \
//!     --apimachinery $M/kubernetes+apimachinery/repo@v0.36.3 \
//!     --apiextensions $M/kubernetes+apiextensions-apiserver/repo@v0.36.3 \
//!     --kube-aggregator $M/kubernetes+kube-aggregator/repo@v0.36.2 \
//!     --kubernetes-version v1.36 \
//!     --out crates/kubeplex-api-facts/data/api-facts-v1.36.json
//! ```
//!
//! (`kube-aggregator` has no `v0.36.3` tag; its API types are the same in every 0.36 patch release.)
//! The output is deterministic; the generator cross-checks every protobuf tag against the package's
//! `generated.proto` and fails on a mismatch. Then run `cargo test -p kubeplex-api-facts`:
//! `tests/coverage.rs` checks the table against every type and field of `k8s-openapi` (`v1_36`).
//! When `k8s-openapi` itself is upgraded, refresh that test's list of its types with
//! `KUBEPLEX_API_FACTS_BLESS=1 cargo test -p kubeplex-api-facts --test coverage`.

mod error;
mod model;
mod type_ref;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::LazyLock;

pub use error::Error;
pub use model::{
    AliasFacts, FactsFile, FieldFacts, GroupVersionKind, ListType, MapType, PatchStrategies, PatchStrategy, ProtoLabel,
    ProtoMessageField, ProtoTag, StructType, TypeFacts, WireType,
};
pub use type_ref::{Primitive, SpecialType, TypeRef};

/// The committed data, embedded at compile time.
pub const DATA: &str = include_str!("../data/api-facts-v1.36.json");

static FACTS: LazyLock<Result<ApiFacts, Error>> = LazyLock::new(|| ApiFacts::from_json(DATA));

/// The embedded table, loaded on first use, or the reason it could not be loaded.
pub fn try_facts() -> Result<&'static ApiFacts, &'static Error> {
    FACTS.as_ref()
}

/// The embedded table, loaded on first use.
///
/// # Panics
///
/// If the embedded data is invalid, which the crate's own tests rule out for every build of the
/// committed data; use [`try_facts`] to handle that case anyway.
pub fn facts() -> &'static ApiFacts {
    match try_facts() {
        Ok(facts) => facts,
        Err(e) => panic!("the embedded API facts do not load (run `cargo test -p kubeplex-api-facts`): {e}"),
    }
}

/// The whole table with its indexes.
#[derive(Debug)]
pub struct ApiFacts {
    kubernetes_version: String,
    sources: Vec<(String, String)>,
    types: HashMap<String, TypeFacts>,
    type_names: Vec<String>,
    aliases: HashMap<String, AliasFacts>,
    alias_names: Vec<String>,
    by_gvk: HashMap<(String, String, String), String>,
    every_group_version: HashMap<String, String>,
    group_versions: BTreeSet<(String, String)>,
    by_go: HashMap<String, String>,
}

impl ApiFacts {
    /// Loads a table from the data file's JSON text, checking that every type reference resolves.
    pub fn from_json(text: &str) -> Result<ApiFacts, Error> {
        let file: FactsFile = serde_json::from_str(text)?;
        ApiFacts::from_file(file)
    }

    /// Builds the indexes over a deserialized table.
    pub fn from_file(file: FactsFile) -> Result<ApiFacts, Error> {
        let FactsFile { kubernetes_version, sources, types: type_map, aliases: alias_map } = file;
        let specials: HashMap<String, SpecialType> =
            type_map.iter().filter_map(|(name, t)| t.special.map(|s| (name.clone(), s))).collect();
        let special_of = |name: &str| specials.get(name).copied();

        let mut types = HashMap::with_capacity(type_map.len());
        let mut type_names = Vec::with_capacity(type_map.len());
        for (name, mut ty) in type_map {
            ty.name.clone_from(&name);
            for field in &mut ty.fields {
                field.ty.mark_specials(&special_of);
            }
            type_names.push(name.clone());
            types.insert(name, ty);
        }
        let mut aliases = HashMap::with_capacity(alias_map.len());
        let mut alias_names = Vec::with_capacity(alias_map.len());
        for (name, mut alias) in alias_map {
            alias.name.clone_from(&name);
            alias.ty.mark_specials(&special_of);
            alias_names.push(name.clone());
            aliases.insert(name, alias);
        }

        // Every referenced struct exists.
        for ty in types.values() {
            for field in &ty.fields {
                for referenced in field.ty.struct_names() {
                    if !types.contains_key(referenced) {
                        return Err(Error::Inconsistent(format!(
                            "{}.{} refers to unknown type {referenced}",
                            ty.name, field.go
                        )));
                    }
                }
            }
        }

        // The JSON view, flattening inlined embedded structs.
        let mut flattened = HashMap::with_capacity(types.len());
        for name in &type_names {
            let mut out = Vec::new();
            flatten_json_fields(&types, name, &mut Vec::new(), &mut out)?;
            flattened.insert(name.clone(), out);
        }
        for (name, json_fields) in flattened {
            if let Some(ty) = types.get_mut(&name) {
                ty.json_fields = json_fields;
            }
        }

        let mut by_gvk = HashMap::new();
        let mut every_group_version = HashMap::new();
        let mut group_versions = BTreeSet::new();
        let mut by_go = HashMap::with_capacity(types.len());
        for ty in types.values() {
            for gvk in &ty.kinds {
                let key = (gvk.group.clone(), gvk.version.clone(), gvk.kind.clone());
                if let Some(previous) = by_gvk.insert(key, ty.name.clone()) {
                    return Err(Error::Inconsistent(format!(
                        "{} and {previous} are both registered as {}/{}",
                        ty.name,
                        gvk.api_version(),
                        gvk.kind
                    )));
                }
                group_versions.insert((gvk.group.clone(), gvk.version.clone()));
            }
            if let Some(kind) = &ty.kind_in_every_group_version {
                every_group_version.insert(kind.clone(), ty.name.clone());
            }
            by_go.insert(ty.go.clone(), ty.name.clone());
        }

        Ok(ApiFacts {
            kubernetes_version,
            sources: sources.into_iter().collect(),
            types,
            type_names,
            aliases,
            alias_names,
            by_gvk,
            every_group_version,
            group_versions,
            by_go,
        })
    }

    /// The Kubernetes version the facts describe (`v1.36`).
    pub fn kubernetes_version(&self) -> &str {
        &self.kubernetes_version
    }

    /// The Go modules and git tags the facts were generated from, sorted by module.
    pub fn sources(&self) -> impl Iterator<Item = (&str, &str)> {
        self.sources.iter().map(|(m, t)| (m.as_str(), t.as_str()))
    }

    /// The struct type with OpenAPI definition name `name` (`io.k8s.api.core.v1.PodSpec`).
    pub fn type_by_name(&self, name: &str) -> Option<&TypeFacts> {
        self.types.get(name)
    }

    /// The struct type `name` of Go package `go_package` (`k8s.io/api/core/v1`, `PodSpec`).
    pub fn type_by_go(&self, go_package: &str, name: &str) -> Option<&TypeFacts> {
        self.by_go.get(&format!("{go_package}.{name}")).and_then(|n| self.types.get(n))
    }

    /// The type registered as `kind` in `group`/`version` (core group `""`). Kinds that
    /// `metav1.AddToGroupVersion` registers into every group version (`DeleteOptions`, `WatchEvent`, …)
    /// are found in any group version that has kinds of its own.
    pub fn kind(&self, group: &str, version: &str, kind: &str) -> Option<&TypeFacts> {
        let key = (group.to_owned(), version.to_owned(), kind.to_owned());
        if let Some(name) = self.by_gvk.get(&key) {
            return self.types.get(name);
        }
        if self.group_versions.contains(&(key.0, key.1)) {
            return self.every_group_version.get(kind).and_then(|n| self.types.get(n));
        }
        None
    }

    /// The type for an `apiVersion` (`apps/v1`, `v1`) and kind.
    pub fn kind_for_api_version(&self, api_version: &str, kind: &str) -> Option<&TypeFacts> {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        self.kind(group, version, kind)
    }

    /// Every struct type, sorted by name.
    pub fn types(&self) -> impl Iterator<Item = &TypeFacts> {
        self.type_names.iter().filter_map(|n| self.types.get(n))
    }

    /// Every (group, version, kind) registration with its type, in no particular order.
    pub fn kinds(&self) -> impl Iterator<Item = (&GroupVersionKind, &TypeFacts)> {
        self.types().flat_map(|t| t.kinds.iter().map(move |gvk| (gvk, t)))
    }

    /// Every (group, version) that registers kinds, sorted.
    pub fn group_versions(&self) -> impl Iterator<Item = (&str, &str)> {
        self.group_versions.iter().map(|(g, v)| (g.as_str(), v.as_str()))
    }

    /// The defined non-struct type `name` (`io.k8s.api.core.v1.Protocol`).
    pub fn alias_by_name(&self, name: &str) -> Option<&AliasFacts> {
        self.aliases.get(name)
    }

    /// Every defined non-struct type, sorted by name.
    pub fn aliases(&self) -> impl Iterator<Item = &AliasFacts> {
        self.alias_names.iter().filter_map(|n| self.aliases.get(n))
    }

    /// The struct a type reference resolves to (through aliases and pointers), if it is one.
    pub fn resolve(&self, ty: &TypeRef) -> Option<&TypeFacts> {
        ty.struct_name().and_then(|n| self.types.get(n))
    }
}

fn flatten_json_fields(
    types: &HashMap<String, TypeFacts>,
    name: &str,
    via: &mut Vec<String>,
    out: &mut Vec<FieldFacts>,
) -> Result<(), Error> {
    let Some(ty) = types.get(name) else {
        return Err(Error::Inconsistent(format!("inlined type {name} is missing")));
    };
    if via.len() > 8 {
        return Err(Error::Inconsistent(format!("inlined fields nest too deep at {name}")));
    }
    for field in &ty.fields {
        if field.inline {
            let Some(inner) = field.ty.struct_name() else {
                return Err(Error::Inconsistent(format!("{name}.{} is inlined but not a struct", field.go)));
            };
            via.push(field.go.clone());
            flatten_json_fields(types, inner, via, out)?;
            via.pop();
        } else if field.json.is_some() {
            let mut flat = field.clone();
            flat.inlined_via.clone_from(via);
            if !via.is_empty() {
                // Protobuf does not flatten: the tag belongs to the embedded struct's own message.
                flat.proto = None;
            }
            out.push(flat);
        }
    }
    let mut seen = HashSet::new();
    for field in out.iter() {
        if let Some(json) = &field.json
            && !seen.insert(json.clone())
            && via.is_empty()
        {
            return Err(Error::Inconsistent(format!("{name} has JSON field {json} twice")));
        }
    }
    Ok(())
}
