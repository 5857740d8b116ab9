//! The patch metadata strategic merge patch needs, and the oracle trait that supplies it.
//!
//! Types are named by their OpenAPI definition names (`io.k8s.api.apps.v1.Deployment`). For each
//! field of a struct type the oracle tells the field's shape (struct, list, map or scalar, with the
//! type of the struct or of the list items), its patch strategy and its merge key — the facts upstream
//! keeps in the `patchStrategy` / `patchMergeKey` struct tags and in the OpenAPI extensions
//! `x-kubernetes-patch-strategy` / `x-kubernetes-patch-merge-key`.
//!
//! ```text
//! PatchSchema::lookup("io.k8s.api.core.v1.PodSpec", "containers")
//!   → FieldMeta { ty: List(Struct("io.k8s.api.core.v1.Container")), strategy: Merge, merge_key: Some("name") }
//! PatchSchema::lookup("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "finalizers")
//!   → FieldMeta { ty: List(Scalar), strategy: Merge, merge_key: None }
//! ```

use std::collections::HashMap;

use crate::error::PatchError;

/// The shape of a field's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    /// An object with declared fields, named by its type id (an OpenAPI definition name). Free-form
    /// objects such as `io.k8s.apimachinery.pkg.runtime.RawExtension` are structs without fields.
    Struct(String),
    /// A list; the item type.
    List(Box<FieldType>),
    /// A map with string keys (`labels`, `annotations`, resource lists, `data`).
    Map,
    /// A scalar: string, number, boolean, or a type encoded as one (`IntOrString`, `Quantity`, `Time`).
    Scalar,
}

impl FieldType {
    /// A struct type.
    pub fn structure(type_id: impl Into<String>) -> Self {
        FieldType::Struct(type_id.into())
    }

    /// A list of `item`.
    pub fn list(item: FieldType) -> Self {
        FieldType::List(Box::new(item))
    }
}

/// How a field is merged (the part of `patchStrategy` other than `retainKeys`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PatchStrategy {
    /// No strategy: objects merge, lists are replaced whole (atomic).
    #[default]
    Default,
    /// `merge`: lists merge, by merge key for lists of objects, as sets for lists of scalars.
    Merge,
    /// `replace`: the value is replaced whole, also for objects.
    Replace,
}

/// Patch metadata of one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMeta {
    /// The shape of the field's value.
    pub ty: FieldType,
    /// The merge strategy.
    pub strategy: PatchStrategy,
    /// Whether the strategy includes `retainKeys` (used when building patches; applying honours the
    /// `$retainKeys` directive whatever the schema says).
    pub retain_keys: bool,
    /// The merge key of a list of objects with strategy `merge` (`name`, `containerPort`, `type`, …).
    pub merge_key: Option<String>,
}

impl FieldMeta {
    /// A field without patch strategy.
    pub fn new(ty: FieldType) -> Self {
        FieldMeta { ty, strategy: PatchStrategy::Default, retain_keys: false, merge_key: None }
    }

    /// A field with the given `patchStrategy` tag value (`""`, `merge`, `replace`, `retainKeys`,
    /// `merge,retainKeys`) and merge key (`""` for none).
    pub fn with_tags(ty: FieldType, patch_strategy: &str, merge_key: &str) -> Result<Self, PatchError> {
        let (strategy, retain_keys) = parse_patch_strategy(patch_strategy)?;
        let merge_key = (!merge_key.is_empty()).then(|| merge_key.to_string());
        Ok(FieldMeta { ty, strategy, retain_keys, merge_key })
    }
}

/// Parses a `patchStrategy` tag value: at most two comma-separated strategies, one of which must be
/// `retainKeys` if there are two; returns the other strategy and whether `retainKeys` was present.
pub fn parse_patch_strategy(tag: &str) -> Result<(PatchStrategy, bool), PatchError> {
    let parts: Vec<&str> = tag.split(',').collect();
    let unexpected = || PatchError::UnexpectedPatchStrategy(format!("[{}]", parts.join(" ")));
    let (other, retain_keys) = match parts.as_slice() {
        [single] if *single == "retainKeys" => ("", true),
        [single] => (*single, false),
        [first, second] if *first == "retainKeys" => (*second, true),
        [first, second] if *second == "retainKeys" => (*first, true),
        _ => return Err(unexpected()),
    };
    // Like upstream, a strategy other than `merge` and `replace` merges objects and replaces lists.
    let strategy = match other {
        "merge" => PatchStrategy::Merge,
        "replace" => PatchStrategy::Replace,
        _ => PatchStrategy::Default,
    };
    Ok((strategy, retain_keys))
}

/// The oracle strategic merge patch asks for field metadata.
pub trait PatchSchema {
    /// Metadata of field `field` (its JSON name) of struct type `type_id`, or `None` if the type has
    /// no such field (or is unknown).
    fn lookup(&self, type_id: &str, field: &str) -> Option<FieldMeta>;
}

/// A [`PatchSchema`] held in memory: struct types and their fields. Useful for tests and for small
/// fixed schemas.
#[derive(Debug, Clone, Default)]
pub struct StaticSchema {
    types: HashMap<String, HashMap<String, FieldMeta>>,
}

impl StaticSchema {
    /// An empty schema.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares struct type `type_id` (possibly without fields, e.g. a free-form object).
    pub fn declare(&mut self, type_id: &str) -> &mut Self {
        self.types.entry(type_id.to_string()).or_default();
        self
    }

    /// Adds field `field` to struct type `type_id`.
    pub fn field(&mut self, type_id: &str, field: &str, meta: FieldMeta) -> &mut Self {
        self.types.entry(type_id.to_string()).or_default().insert(field.to_string(), meta);
        self
    }

    /// Whether struct type `type_id` is declared.
    pub fn has_type(&self, type_id: &str) -> bool {
        self.types.contains_key(type_id)
    }
}

impl PatchSchema for StaticSchema {
    fn lookup(&self, type_id: &str, field: &str) -> Option<FieldMeta> {
        self.types.get(type_id)?.get(field).cloned()
    }
}

impl<T: PatchSchema + ?Sized> PatchSchema for &T {
    fn lookup(&self, type_id: &str, field: &str) -> Option<FieldMeta> {
        (**self).lookup(type_id, field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategy_tags_parse_like_upstream() {
        assert_eq!(parse_patch_strategy("").unwrap(), (PatchStrategy::Default, false));
        assert_eq!(parse_patch_strategy("merge").unwrap(), (PatchStrategy::Merge, false));
        assert_eq!(parse_patch_strategy("replace").unwrap(), (PatchStrategy::Replace, false));
        assert_eq!(parse_patch_strategy("retainKeys").unwrap(), (PatchStrategy::Default, true));
        assert_eq!(parse_patch_strategy("merge,retainKeys").unwrap(), (PatchStrategy::Merge, true));
        assert_eq!(parse_patch_strategy("retainKeys,merge").unwrap(), (PatchStrategy::Merge, true));
        assert_eq!(
            parse_patch_strategy("merge,replace").unwrap_err().to_string(),
            "unexpected patch strategy: [merge replace]"
        );
        assert!(parse_patch_strategy("a,b,c").is_err());
    }

    #[test]
    fn static_schema_lookup() {
        let mut s = StaticSchema::new();
        s.field(
            "T",
            "items",
            FieldMeta::with_tags(FieldType::list(FieldType::structure("I")), "merge", "name").unwrap(),
        );
        s.declare("Empty");
        let meta = s.lookup("T", "items").unwrap();
        assert_eq!(meta.merge_key.as_deref(), Some("name"));
        assert_eq!(meta.strategy, PatchStrategy::Merge);
        assert!(s.lookup("T", "other").is_none());
        assert!(s.lookup("Empty", "x").is_none());
        assert!(s.has_type("Empty"));
    }
}
