//! Strategic merge patch, applied as the API server applies it (k8s.io/apimachinery
//! `strategicpatch.StrategicMergeMapPatch`).
//!
//! A strategic merge patch is a merge patch whose list handling is chosen per field by patch metadata
//! (see [`schema`]): lists with strategy `merge` are merged — lists of objects by their merge key,
//! lists of scalars as sets — and other lists are replaced whole. Directives in the patch refine this:
//!
//! | directive | where | effect |
//! |---|---|---|
//! | `$patch: replace` | object | the object replaces the live one instead of merging |
//! | `$patch: delete` | object | the object becomes `{}` |
//! | `$patch: delete` | item of a keyed list | removes the items with that merge key |
//! | `$patch: replace` | item of a keyed list | the list (without the directive item) replaces the live one |
//! | `$deleteFromPrimitiveList/<f>: [..]` | object | removes these values from scalar list `f` |
//! | `$setElementOrder/<f>: [..]` | object | orders merged list `f` (items by merge key, or values) |
//! | `$retainKeys: [..]` | object | drops live fields not listed; every patch field must be listed |
//! | `null` | field value | deletes the field |
//!
//! ```text
//! apply_strategic_merge_patch(live, patch, schema, Some("io.k8s.api.apps.v1.Deployment"))
//!   └ merge_map(live, patch, Struct(Deployment))
//!       ├ $patch on the map           → replace / {} / error
//!       ├ $retainKeys                 → drop live fields not listed
//!       ├ $setElementOrder/<f>        → merge list f now, then order it
//!       └ each other patch field      → null: delete │ new: add │ kinds differ: replace
//!                                       object: lookup → merge_map (or replace)
//!                                       list:   lookup → merge_slice (strategy merge) or replace
//! ```
//!
//! Upstream iterates Go maps, so when a patch has both `$deleteFromPrimitiveList/<f>` and `<f>` its
//! processing order is random; here patch fields are processed in the order the client sent them.
//! Error texts are upstream's (see [`crate::error`] for how the API server reports them).

mod order;
pub mod schema;
#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

use crate::error::PatchError;
use crate::gofmt::{GoKind, fmt_s, fmt_v, go_eq, json_type_word, kind, quote};
use order::{MAP_TYPE, OrderIndex, SLICE_TYPE, bad_arg_type, is_delete_item, no_merge_key, normalize_element_order};
pub use schema::{FieldMeta, FieldType, PatchSchema, PatchStrategy, StaticSchema, parse_patch_strategy};

const DIRECTIVE_MARKER: &str = "$patch";
const RETAIN_KEYS_DIRECTIVE: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST_PREFIX: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER_PREFIX: &str = "$setElementOrder";

/// Applies strategic merge patch `patch` to the object `original` of struct type `type_id` (an OpenAPI
/// definition name such as `io.k8s.api.apps.v1.Deployment`) and returns the patched object.
///
/// `type_id` is `None` for types without patch metadata (custom resources): the patch is refused with
/// [`PatchError::StrategicMergeUnsupported`], which the API server answers with 415. A `null` patch
/// is an empty patch; a patch that is not an object is a decode error (400).
///
/// The result can still carry what upstream leaves for its typed decoding to handle: `null` members
/// inside newly added list items and values replaced whole, and directive keys inside objects that
/// were added rather than merged.
pub fn apply_strategic_merge_patch(
    original: &Value,
    patch: &Value,
    schema: &dyn PatchSchema,
    type_id: Option<&str>,
) -> Result<Value, PatchError> {
    let Some(type_id) = type_id else {
        return Err(PatchError::StrategicMergeUnsupported);
    };
    let patch = match patch {
        Value::Object(map) => map.clone(),
        Value::Null => Map::new(),
        other => {
            return Err(PatchError::StrategicPatchDecode(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_type_word(other)
            )));
        }
    };
    let Value::Object(original) = original else {
        return Err(PatchError::InvalidDocument);
    };
    let merger = Merger { schema };
    let merged = merger.merge_map(original.clone(), patch, &Node::Struct(type_id.to_string()))?;
    Ok(Value::Object(merged))
}

/// What the schema says about the value being merged.
#[derive(Debug, Clone)]
enum Node {
    Struct(String),
    Map,
    Slice,
    Scalar,
}

impl Node {
    fn of(ty: &FieldType) -> Node {
        match ty {
            FieldType::Struct(id) => Node::Struct(id.clone()),
            FieldType::List(_) => Node::Slice,
            FieldType::Map => Node::Map,
            FieldType::Scalar => Node::Scalar,
        }
    }

    /// The Go kind name upstream prints for the type.
    fn kind_name(&self) -> &'static str {
        match self {
            Node::Struct(_) => "struct",
            Node::Map => "map",
            Node::Slice => "slice",
            Node::Scalar => "string",
        }
    }
}

/// The Go type name of a struct type id: its last dot-separated segment.
fn short_type_name(type_id: &str) -> &str {
    type_id.rsplit('.').next().unwrap_or(type_id)
}

fn failure(message: impl Into<String>) -> PatchError {
    PatchError::StrategicMerge(message.into())
}

/// Splits `<prefix>/<field>` and returns `<field>`.
fn extract_key(key: &str, prefix: &str) -> Option<String> {
    match key.split_once('/') {
        Some((head, rest)) if head == prefix => Some(rest.to_string()),
        _ => None,
    }
}

struct Merger<'s> {
    schema: &'s dyn PatchSchema,
}

impl Merger<'_> {
    /// Metadata of an object-valued field (upstream's `LookupPatchMetadataForStruct`).
    fn lookup_struct(&self, node: &Node, field: &str) -> Result<(Node, FieldMeta), PatchError> {
        match node {
            Node::Struct(type_id) => match self.schema.lookup(type_id, field) {
                Some(meta) => Ok((Node::of(&meta.ty), meta)),
                None => Err(failure(format!(
                    "unable to find api field in struct {} for the json field {}",
                    short_type_name(type_id),
                    quote(field)
                ))),
            },
            other => Err(failure(format!(
                "merging an object in json but data type is not struct, instead is: {}",
                other.kind_name()
            ))),
        }
    }

    /// Metadata of a list-valued field and its item type (upstream's `LookupPatchMetadataForSlice`).
    fn lookup_slice(&self, node: &Node, field: &str) -> Result<(Node, FieldMeta), PatchError> {
        let (_, meta) = self.lookup_struct(node, field)?;
        let item = match &meta.ty {
            FieldType::List(item) => match item.as_ref() {
                FieldType::List(_) => return Err(failure("unexpected slice of slice")),
                other => Node::of(other),
            },
            _ => return Err(failure("expected slice or array type, but got: struct")),
        };
        Ok((item, meta))
    }

    fn merge_map(
        &self,
        mut original: Map<String, Value>,
        mut patch: Map<String, Value>,
        node: &Node,
    ) -> Result<Map<String, Value>, PatchError> {
        if let Some(directive) = patch.get(DIRECTIVE_MARKER) {
            return match directive.as_str() {
                Some("replace") => {
                    patch.shift_remove(DIRECTIVE_MARKER);
                    Ok(patch)
                }
                Some("delete") => Ok(Map::new()),
                _ => Err(failure(format!(
                    "unknown patch type: {} in map: {}",
                    fmt_s(directive),
                    fmt_v(&Value::Object(patch.clone()))
                ))),
            };
        }
        apply_retain_keys(&mut original, &mut patch)?;
        self.merge_ordered_lists(&mut original, &mut patch, node)?;

        for (patch_key, value) in patch {
            let mut key = patch_key;
            let mut is_delete_list = false;
            if key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX) {
                let field = extract_key(&key, DELETE_FROM_PRIMITIVE_LIST_PREFIX)
                    .ok_or(PatchError::BadPrimitiveListDirective)?;
                is_delete_list = true;
                if !field.is_empty() {
                    key = field;
                }
            }
            if value.is_null() {
                original.shift_remove(&key);
                continue;
            }
            let Some(current_kind) = original.get(&key).map(kind) else {
                if !is_delete_list {
                    set_cleaned(&mut original, key, value);
                }
                continue;
            };
            if current_kind != kind(&value) {
                if !is_delete_list {
                    set_cleaned(&mut original, key, value);
                }
                continue;
            }
            match value {
                Value::Object(patch_map) => {
                    let (sub, meta) = self.lookup_struct(node, &key)?;
                    let merged = if meta.strategy == PatchStrategy::Replace {
                        patch_map
                    } else {
                        let current = take_object(original.get_mut(&key));
                        self.merge_map(current, patch_map, &sub)?
                    };
                    original.insert(key, Value::Object(merged));
                }
                Value::Array(patch_list) => {
                    let (item, meta) = self.lookup_slice(node, &key)?;
                    let current = take_array(original.get_mut(&key));
                    let merged = self.merge_slice_handler(current, patch_list, &item, &meta, is_delete_list)?;
                    original.insert(key, Value::Array(merged.merged));
                }
                scalar => {
                    original.insert(key, scalar);
                }
            }
        }
        Ok(original)
    }

    /// Handles the `$setElementOrder/<field>` directives of `patch`: merges each named list now and
    /// orders the result (upstream's `mergePatchIntoOriginal`). The directive and the list it covers
    /// leave `patch`.
    fn merge_ordered_lists(
        &self,
        original: &mut Map<String, Value>,
        patch: &mut Map<String, Value>,
        node: &Node,
    ) -> Result<(), PatchError> {
        let directives: Vec<String> =
            patch.keys().filter(|k| k.starts_with(SET_ELEMENT_ORDER_PREFIX)).cloned().collect();
        for directive in directives {
            let Some(order) = patch.shift_remove(&directive) else { continue };
            let order = match order {
                Value::Array(order) => order,
                other => return Err(bad_arg_type(SLICE_TYPE, &other)),
            };
            let field =
                extract_key(&directive, SET_ELEMENT_ORDER_PREFIX).ok_or(PatchError::BadSetElementOrderDirective)?;
            let original_list = list_field(original, &field)?;
            let patch_list = list_field(patch, &field)?;
            let (item, meta) = self.lookup_slice(node, &field)?;
            let merge_key = meta.merge_key.clone().unwrap_or_default();
            validate_patch_with_set_order_list(patch_list.as_deref().unwrap_or(&[]), &order, &merge_key)?;

            // `live_view` is what upstream's reference to the live list shows after the merge, which
            // may have changed it in place (see `SliceMerge`); it orders the server-only items.
            let (merged, live_view) = match (&original_list, &patch_list) {
                (Some(live), None) => (live.clone(), live.clone()),
                (None, Some(list)) => (list.iter().cloned().filter_map(remove_directives).collect(), Vec::new()),
                (Some(live), Some(list)) => {
                    let m = self.merge_slice_handler(live.clone(), list.clone(), &item, &meta, false)?;
                    (m.merged, m.live_view)
                }
                (None, None) => continue,
            };
            let (in_order, server_only) = partition(merged, &order, &merge_key)?;
            let live = original_list.unwrap_or_default();
            let element_kind = slice_element_type(&[&live, patch_list.as_deref().unwrap_or(&[])])?;
            let ordered = normalize_element_order(
                in_order,
                server_only,
                &order,
                &live_view,
                &merge_key,
                element_kind == GoKind::Map,
            )?;
            original.insert(field.clone(), Value::Array(ordered));
            patch.shift_remove(&field);
        }
        Ok(())
    }

    fn merge_slice_handler(
        &self,
        original: Vec<Value>,
        patch: Vec<Value>,
        item: &Node,
        meta: &FieldMeta,
        is_delete_list: bool,
    ) -> Result<SliceMerge, PatchError> {
        if meta.strategy == PatchStrategy::Merge || is_delete_list {
            self.merge_slice(original, patch, item, meta.merge_key.as_deref().unwrap_or(""), is_delete_list)
        } else {
            Ok(SliceMerge { merged: patch, live_view: original })
        }
    }

    /// Merges two lists (upstream's `mergeSlice`).
    fn merge_slice(
        &self,
        original: Vec<Value>,
        patch: Vec<Value>,
        item: &Node,
        merge_key: &str,
        is_delete_list: bool,
    ) -> Result<SliceMerge, PatchError> {
        if original.is_empty() && patch.is_empty() {
            return Ok(SliceMerge { merged: original, live_view: Vec::new() });
        }
        let element_kind = slice_element_type(&[&original, &patch])?;
        let (merged, server_order, patch_order, live_view) = if element_kind != GoKind::Map {
            if is_delete_list {
                let merged = delete_from_slice(original.clone(), &patch);
                return Ok(SliceMerge { merged, live_view: original });
            }
            if patch.is_empty() {
                // Upstream deduplicates the live list in place here: its reference to the live list
                // (also the reference order below) sees the rearranged items.
                let mut buffer = original;
                let len = deduplicate_in_place(&mut buffer);
                (buffer[..len].to_vec(), buffer.clone(), patch, buffer)
            } else {
                let mut both = original.clone();
                both.extend(patch.iter().cloned());
                let len = deduplicate_in_place(&mut both);
                both.truncate(len);
                (both, original.clone(), patch, original)
            }
        } else {
            if merge_key.is_empty() {
                return Err(failure(format!("cannot merge lists without merge key for {}", item.kind_name())));
            }
            let mut list = LiveList::new(original);
            let (replace, plain) = list.apply_special_elements(patch, merge_key)?;
            if replace {
                let merged = plain;
                (merged.clone(), merged, Vec::new(), list.view)
            } else {
                let server_order = list.items.clone();
                self.merge_into(&mut list, plain.clone(), merge_key, item)?;
                (list.items, server_order, plain, list.view)
            }
        };
        let (patch_items, server_only) = partition(merged, &patch_order, merge_key)?;
        let merged = normalize_element_order(
            patch_items,
            server_only,
            &patch_order,
            &server_order,
            merge_key,
            element_kind == GoKind::Map,
        )?;
        Ok(SliceMerge { merged, live_view })
    }

    /// Merges patch items into the live items with the same merge key value; appends the others
    /// (upstream's `mergeSliceWithoutSpecialElements`).
    fn merge_into(
        &self,
        list: &mut LiveList,
        patch: Vec<Value>,
        merge_key: &str,
        item: &Node,
    ) -> Result<(), PatchError> {
        for entry in patch {
            let Value::Object(entry) = entry else {
                return Err(bad_arg_type(MAP_TYPE, &entry));
            };
            let Some(key_value) = entry.get(merge_key).cloned() else {
                return Err(no_merge_key(&Value::Object(entry), merge_key));
            };
            match find_map_in_slice(&list.items, merge_key, &key_value)? {
                Some(i) => {
                    let current = take_object(list.items.get_mut(i));
                    list.items[i] = Value::Object(self.merge_map(current, entry, item)?);
                }
                None => list.push(Value::Object(entry)),
            }
        }
        Ok(())
    }
}

/// The result of merging a list: the merged list, and what upstream's reference to the live list
/// shows afterwards.
///
/// Upstream merges keyed lists in place in the live list's Go slice: a deletion shifts the later items
/// left (the last slot keeps a stale copy) and an appended item takes the first free slot. Its
/// `$setElementOrder` handling then orders server-only items by that slice, so the view matters.
/// Which slots the view shows does not depend on the slice's spare capacity: appends past the
/// original length are invisible to it either way.
#[derive(Debug)]
struct SliceMerge {
    merged: Vec<Value>,
    live_view: Vec<Value>,
}

/// A keyed live list being merged, with upstream's view of its original slots.
struct LiveList {
    items: Vec<Value>,
    view: Vec<Value>,
    /// How many slots of `view` the list occupies.
    used: usize,
}

impl LiveList {
    fn new(items: Vec<Value>) -> Self {
        let used = items.len();
        LiveList { view: items.clone(), items, used }
    }

    fn remove(&mut self, i: usize) {
        self.items.remove(i);
        if i < self.used {
            for k in i..self.used - 1 {
                self.view[k] = self.view[k + 1].clone();
            }
            self.used -= 1;
        }
    }

    fn push(&mut self, item: Value) {
        if self.used < self.view.len() && self.used == self.items.len() {
            self.view[self.used] = item.clone();
            self.used += 1;
        }
        self.items.push(item);
    }

    /// Handles the items of a keyed patch list that carry `$patch` (upstream's
    /// `mergeSliceWithSpecialElements`): `delete` removes live items with that merge key, `replace`
    /// makes the list replace the live one. Returns whether to replace, and the other patch items.
    fn apply_special_elements(&mut self, patch: Vec<Value>, merge_key: &str) -> Result<(bool, Vec<Value>), PatchError> {
        let mut replace = false;
        let mut plain = Vec::with_capacity(patch.len());
        for entry in patch {
            let Some(directive) = entry.get(DIRECTIVE_MARKER) else {
                plain.push(entry);
                continue;
            };
            match directive.as_str() {
                Some("delete") => {
                    let key_value = entry.get(merge_key).ok_or_else(|| no_merge_key(&entry, merge_key))?;
                    while let Some(i) = find_map_in_slice(&self.items, merge_key, key_value)? {
                        self.remove(i);
                    }
                }
                Some("replace") => replace = true,
                Some("merge") => return Err(failure("merging lists cannot yet be specified in the patch")),
                _ => {
                    return Err(failure(format!("unknown patch type: {} in map: {}", fmt_s(directive), fmt_v(&entry))));
                }
            }
        }
        Ok((replace, plain))
    }
}

/// Takes the object out of a slot (leaving `null`), or an empty object if the slot holds none.
fn take_object(slot: Option<&mut Value>) -> Map<String, Value> {
    match slot.map(Value::take) {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// Takes the list out of a slot (leaving `null`), or an empty list if the slot holds none.
fn take_array(slot: Option<&mut Value>) -> Vec<Value> {
    match slot.map(Value::take) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

/// A field that must hold a list if present.
fn list_field(map: &Map<String, Value>, field: &str) -> Result<Option<Vec<Value>>, PatchError> {
    match map.get(field) {
        None => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items.clone())),
        Some(other) => Err(bad_arg_type(SLICE_TYPE, other)),
    }
}

/// Writes a patch value where there is nothing to merge with: `null` members dropped, directive
/// objects removed (and the field with them if the value itself is one).
fn set_cleaned(original: &mut Map<String, Value>, key: String, mut value: Value) {
    discard_null_values(&mut value);
    match remove_directives(value) {
        Some(value) => {
            original.insert(key, value);
        }
        None => {
            original.shift_remove(&key);
        }
    }
}

/// Drops `null` object members, recursively through objects and lists (upstream's
/// `discardNullValuesFromPatch`).
fn discard_null_values(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(discard_null_values);
        }
        Value::Array(items) => items.iter_mut().for_each(discard_null_values),
        _ => {}
    }
}

/// Removes objects carrying `$patch` (upstream's `removeDirectives`); `None` if `value` is one.
fn remove_directives(value: Value) -> Option<Value> {
    match value {
        Value::Object(map) => {
            if map.contains_key(DIRECTIVE_MARKER) {
                return None;
            }
            Some(Value::Object(map.into_iter().filter_map(|(k, v)| remove_directives(v).map(|v| (k, v))).collect()))
        }
        Value::Array(items) => Some(Value::Array(items.into_iter().filter_map(remove_directives).collect())),
        other => Some(other),
    }
}

/// Applies `$retainKeys`: every non-null patch field must be listed; live fields not listed go.
fn apply_retain_keys(original: &mut Map<String, Value>, patch: &mut Map<String, Value>) -> Result<(), PatchError> {
    let Some(retain) = patch.shift_remove(RETAIN_KEYS_DIRECTIVE) else {
        return Ok(());
    };
    let Value::Array(retain) = retain else {
        return Err(PatchError::BadRetainKeysDirective);
    };
    let listed = |key: &str| retain.iter().any(|v| v.as_str() == Some(key));
    for (key, value) in patch.iter() {
        if value.is_null()
            || key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
            || key.starts_with(SET_ELEMENT_ORDER_PREFIX)
        {
            continue;
        }
        if !listed(key) {
            return Err(PatchError::BadRetainKeysDirective);
        }
    }
    original.retain(|key, _| listed(key));
    Ok(())
}

/// Checks that the patch list's items appear in the `$setElementOrder` list, in the same relative
/// order (items deleting or carrying directives aside).
fn validate_patch_with_set_order_list(patch: &[Value], order: &[Value], merge_key: &str) -> Result<(), PatchError> {
    if order.is_empty() || patch.is_empty() {
        return Ok(());
    }
    let mut kept: Vec<&Value> = Vec::with_capacity(patch.len());
    for item in patch {
        if merge_key.is_empty() {
            kept.push(item);
        } else {
            if !item.is_object() {
                return Err(bad_arg_type(MAP_TYPE, item));
            }
            if !is_delete_item(item) {
                kept.push(item);
            }
        }
    }
    let (mut p, mut o) = (0, 0);
    while p < kept.len() && o < order.len() {
        if kept[p].get(DIRECTIVE_MARKER).is_some() {
            p += 1;
            continue;
        }
        if merge_key_value_equal(kept[p], &order[o], merge_key)? {
            p += 1;
        }
        o += 1;
    }
    if p < kept.len() && o >= order.len() {
        return Err(failure(format!(
            "The order in patch list:\n{}\n doesn't match {} list:\n{}\n",
            fmt_v(&Value::Array(patch.to_vec())),
            SET_ELEMENT_ORDER_PREFIX,
            fmt_v(&Value::Array(order.to_vec()))
        )));
    }
    Ok(())
}

fn merge_key_value_equal(left: &Value, right: &Value, merge_key: &str) -> Result<bool, PatchError> {
    if merge_key.is_empty() {
        return Ok(go_eq(left, right));
    }
    let l = left.as_object().ok_or_else(|| bad_arg_type(MAP_TYPE, left))?;
    let r = right.as_object().ok_or_else(|| bad_arg_type(MAP_TYPE, right))?;
    let lv = l.get(merge_key).ok_or_else(|| no_merge_key(left, merge_key))?;
    let rv = r.get(merge_key).ok_or_else(|| no_merge_key(right, merge_key))?;
    Ok(go_eq(lv, rv))
}

/// The common Go type of the items of `lists` (upstream's `sliceElementType`).
fn slice_element_type(lists: &[&[Value]]) -> Result<GoKind, PatchError> {
    let mut seen: Option<GoKind> = None;
    for list in lists {
        for item in *list {
            let k = kind(item);
            match seen {
                None => {
                    if k == GoKind::Slice {
                        return Err(PatchError::ListOfLists);
                    }
                    seen = Some(k);
                }
                Some(s) if s != k => {
                    let all = Value::Array(lists.iter().map(|l| Value::Array(l.to_vec())).collect());
                    return Err(failure(format!("list element types are not identical: {}", fmt_v(&all))));
                }
                Some(_) => {}
            }
        }
    }
    seen.ok_or_else(|| failure("no elements in any of the given slices"))
}

/// The first item of `list` whose merge key has `value`; every item must be an object.
fn find_map_in_slice(list: &[Value], merge_key: &str, value: &Value) -> Result<Option<usize>, PatchError> {
    for (i, item) in list.iter().enumerate() {
        let Some(map) = item.as_object() else {
            return Err(failure(format!("value for key {i} is not a map")));
        };
        if map.get(merge_key).is_some_and(|v| go_eq(v, value)) {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// Splits merged items into those named by `by` and the server-only rest.
fn partition(merged: Vec<Value>, by: &[Value], merge_key: &str) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut named = Vec::with_capacity(merged.len());
    let mut server_only = Vec::with_capacity(merged.len());
    if merge_key.is_empty() {
        let index = OrderIndex::new(by, "", false);
        for item in merged {
            if index.position(Some(&item)).is_some() { named.push(item) } else { server_only.push(item) }
        }
    } else {
        for item in merged {
            let map = item.as_object().ok_or_else(|| bad_arg_type(MAP_TYPE, &item))?;
            let key_value = map.get(merge_key).ok_or_else(|| no_merge_key(&item, merge_key))?;
            if find_map_in_slice(by, merge_key, key_value)?.is_some() {
                named.push(item);
            } else {
                server_only.push(item);
            }
        }
    }
    Ok((named, server_only))
}

/// Removes duplicate scalars the way upstream does, in place: a duplicate's slot is overwritten by
/// the last item of the shrinking list. Returns the new length; the slots after it keep what they
/// held, as upstream's slice does.
fn deduplicate_in_place(items: &mut [Value]) -> usize {
    let mut last = items.len() as isize - 1;
    let mut i: isize = 0;
    while i < last {
        let mut j = i + 1;
        while j <= last {
            if go_eq(&items[i as usize], &items[j as usize]) {
                items[j as usize] = items[last as usize].clone();
                last -= 1;
                j -= 1;
            }
            j += 1;
        }
        i += 1;
    }
    (last + 1) as usize
}

/// Removes every value of `to_delete` from `current`.
fn delete_from_slice(current: Vec<Value>, to_delete: &[Value]) -> Vec<Value> {
    let index = OrderIndex::new(to_delete, "", false);
    current.into_iter().filter(|v| index.position(Some(v)).is_none()).collect()
}
