//! Ordering of merged lists, as upstream's strategic merge patch orders them.
//!
//! After a list merge the items are split into the ones the patch (or its `$setElementOrder` list)
//! names and the server-only ones. Each group is sorted by its own reference order — the patch's
//! order for the first, the live object's order for the second — and the two groups are then
//! interleaved: a server-only item goes before a patch item only when both appear in the live list
//! and it came first there. A new item (not in the live list) therefore goes before all server-only
//! items not yet placed.
//!
//! ```text
//! live:  [1, 2, 3]      patch: [3, 1]      →  patch items [3, 1], server-only [2]
//! interleave: 2 before 3 (both live, 2 first) → [2, 3, 1]
//! ```
//!
//! Upstream sorts with Go's `sort.SliceStable` and a comparison that is not a strict weak order when
//! an item is missing from the reference list (it then counts as "less"). To give the same result in
//! those cases too, [`go_stable_sort`] runs the same algorithm as Go's (insertion sort on blocks of 20,
//! then symmetric merging), with positions computed once so a comparison costs O(1).

use std::collections::HashMap;

use serde_json::Value;

use crate::error::PatchError;
use crate::gofmt::{GoKind, fmt_v, go_eq, kind, type_name};

/// The error upstream's `ErrNoMergeKey` gives.
pub(super) fn no_merge_key(item: &Value, merge_key: &str) -> PatchError {
    PatchError::StrategicMerge(format!("map: {} does not contain declared merge key: {}", fmt_v(item), merge_key))
}

/// The error upstream's `ErrBadArgType` gives, for an `expected` Go type name.
pub(super) fn bad_arg_type(expected: &str, actual: &Value) -> PatchError {
    PatchError::StrategicMerge(format!("expected a {}, but received a {}", expected, type_name(actual)))
}

pub(super) const MAP_TYPE: &str = "map[string]interface {}";
pub(super) const SLICE_TYPE: &str = "[]interface {}";

/// What identifies a list item for ordering: the merge key's value for lists of objects (`None` if
/// the item has none), the item itself for lists of scalars.
pub(super) fn item_key<'a>(item: &'a Value, merge_key: &str, maps: bool) -> Option<&'a Value> {
    if maps { item.as_object().and_then(|m| m.get(merge_key)) } else { Some(item) }
}

/// First positions of item keys in a reference list.
pub(super) struct OrderIndex<'a> {
    scalars: HashMap<(u8, String), usize>,
    missing: Option<usize>,
    composites: Vec<(usize, &'a Value)>,
}

fn scalar_slot(v: &Value) -> Option<(u8, String)> {
    let tag = match kind(v) {
        GoKind::Nil => 0,
        GoKind::Bool => 1,
        GoKind::Int => 2,
        GoKind::Float => 3,
        GoKind::String => 4,
        GoKind::Map | GoKind::Slice => return None,
    };
    Some((tag, v.to_string()))
}

impl<'a> OrderIndex<'a> {
    pub(super) fn new(list: &'a [Value], merge_key: &str, maps: bool) -> Self {
        let mut index = OrderIndex { scalars: HashMap::new(), missing: None, composites: Vec::new() };
        for (i, item) in list.iter().enumerate() {
            match item_key(item, merge_key, maps) {
                None => {
                    index.missing.get_or_insert(i);
                }
                Some(key) => match scalar_slot(key) {
                    Some(slot) => {
                        index.scalars.entry(slot).or_insert(i);
                    }
                    None => index.composites.push((i, key)),
                },
            }
        }
        index
    }

    /// The first position of an item with this key (Go's `index`).
    pub(super) fn position(&self, key: Option<&Value>) -> Option<usize> {
        match key {
            None => self.missing,
            Some(key) => match scalar_slot(key) {
                Some(slot) => self.scalars.get(&slot).copied(),
                None => self.composites.iter().find(|(_, v)| go_eq(v, key)).map(|(i, _)| *i),
            },
        }
    }
}

/// Checks that every item of every list is an object carrying the merge key.
fn validate_merge_key_in_lists(merge_key: &str, lists: &[&[Value]]) -> Result<(), PatchError> {
    for list in lists {
        for item in *list {
            let map = item.as_object().ok_or_else(|| bad_arg_type(MAP_TYPE, item))?;
            if !map.contains_key(merge_key) {
                return Err(no_merge_key(item, merge_key));
            }
        }
    }
    Ok(())
}

/// Whether an item carries `$patch: delete`.
pub(super) fn is_delete_item(item: &Value) -> bool {
    item.get("$patch").and_then(Value::as_str) == Some("delete")
}

/// Upstream's `less` on reference positions: ordered when both are present, otherwise "less".
fn position_less(a: Option<usize>, b: Option<usize>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a < b,
        _ => true,
    }
}

/// Sorts `items` by their positions in `order` (upstream's `normalizeSliceOrder`); for lists of
/// objects, items carrying `$patch: delete` go last.
fn normalize_slice_order(
    items: Vec<Value>,
    order: &[Value],
    merge_key: &str,
    maps: bool,
) -> Result<Vec<Value>, PatchError> {
    let (items, deletes) = if maps {
        validate_merge_key_in_lists(merge_key, &[&items, order])?;
        items.into_iter().partition::<Vec<_>, _>(|item| !is_delete_item(item))
    } else {
        (items, Vec::new())
    };
    let index = OrderIndex::new(order, merge_key, maps);
    let mut keyed: Vec<(Option<usize>, Value)> =
        items.into_iter().map(|item| (index.position(item_key(&item, merge_key, maps)), item)).collect();
    go_stable_sort(&mut keyed, |a, b| position_less(a.0, b.0));
    let mut sorted: Vec<Value> = keyed.into_iter().map(|(_, item)| item).collect();
    sorted.extend(deletes);
    Ok(sorted)
}

/// Orders a merged list: `patch_items` by `patch_order`, `server_only` by `server_order`, then the two
/// interleaved (upstream's `normalizeElementOrder` and `mergeSortedSlice`).
pub(super) fn normalize_element_order(
    patch_items: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: &str,
    maps: bool,
) -> Result<Vec<Value>, PatchError> {
    let patch_items = normalize_slice_order(patch_items, patch_order, merge_key, maps)?;
    let server_only = normalize_slice_order(server_only, server_order, merge_key, maps)?;
    let index = OrderIndex::new(server_order, merge_key, maps);
    let mut out = Vec::with_capacity(patch_items.len() + server_only.len());
    let mut left = server_only.into_iter().peekable();
    let mut right = patch_items.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => {
                let lp = index.position(item_key(l, merge_key, maps));
                let rp = index.position(item_key(r, merge_key, maps));
                matches!((lp, rp), (Some(lp), Some(rp)) if lp < rp)
            }
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
    Ok(out)
}

/// Go's `sort.SliceStable`: insertion sort on blocks of 20 items, then rounds of symmetric merges of
/// neighbouring blocks. Never panics, whatever `less` answers.
pub(super) fn go_stable_sort<T>(data: &mut [T], less: impl Fn(&T, &T) -> bool) {
    const BLOCK: usize = 20;
    let n = data.len();
    let mut block = BLOCK;
    let (mut a, mut b) = (0, block);
    while b <= n {
        insertion_sort(data, a, b, &less);
        a = b;
        b += block;
    }
    insertion_sort(data, a, n, &less);
    while block < n {
        let (mut a, mut b) = (0, 2 * block);
        while b <= n {
            sym_merge(data, a, a + block, b, &less);
            a = b;
            b += 2 * block;
        }
        if a + block < n {
            sym_merge(data, a, a + block, n, &less);
        }
        block *= 2;
    }
}

fn insertion_sort<T>(data: &mut [T], a: usize, b: usize, less: &impl Fn(&T, &T) -> bool) {
    for i in (a + 1)..b {
        let mut j = i;
        while j > a && less(&data[j], &data[j - 1]) {
            data.swap(j, j - 1);
            j -= 1;
        }
    }
}

/// Merges the sorted runs `data[a..m]` and `data[m..b]` in place (the SymMerge algorithm of Kim and
/// Kutzner), as Go does.
fn sym_merge<T>(data: &mut [T], a: usize, m: usize, b: usize, less: &impl Fn(&T, &T) -> bool) {
    if m - a == 1 {
        // Insert data[a] into data[m..b]: find the first position whose item is not less than it.
        let (mut i, mut j) = (m, b);
        while i < j {
            let h = (i + j) / 2;
            if less(&data[h], &data[a]) {
                i = h + 1;
            } else {
                j = h;
            }
        }
        for k in a..(i - 1) {
            data.swap(k, k + 1);
        }
        return;
    }
    if b - m == 1 {
        // Insert data[m] into data[a..m]: find the first position whose item is greater than it.
        let (mut i, mut j) = (a, m);
        while i < j {
            let h = (i + j) / 2;
            if !less(&data[m], &data[h]) {
                i = h + 1;
            } else {
                j = h;
            }
        }
        let mut k = m;
        while k > i {
            data.swap(k, k - 1);
            k -= 1;
        }
        return;
    }
    let mid = (a + b) / 2;
    let n = mid + m;
    let (mut start, mut r) = if m > mid { (n - b, mid) } else { (a, m) };
    let p = n - 1;
    while start < r {
        let c = (start + r) / 2;
        if !less(&data[p - c], &data[c]) {
            start = c + 1;
        } else {
            r = c;
        }
    }
    let end = n - start;
    if start < m && m < end {
        rotate(data, start, m, end);
    }
    if a < start && start < mid {
        sym_merge(data, a, start, mid, less);
    }
    if mid < end && end < b {
        sym_merge(data, mid, end, b, less);
    }
}

/// Rotates `data[a..b]` so that `data[m..b]` comes before `data[a..m]`, by block swaps.
fn rotate<T>(data: &mut [T], a: usize, m: usize, b: usize) {
    let mut i = m - a;
    let mut j = b - m;
    while i != j {
        if i > j {
            swap_range(data, m - i, m, j);
            i -= j;
        } else {
            swap_range(data, m - i, m + j - i, i);
            j -= i;
        }
    }
    swap_range(data, m - i, m, i);
}

fn swap_range<T>(data: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        data.swap(a + i, b + i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    proptest! {
        #[test]
        fn go_stable_sort_sorts_stably(mut items in prop::collection::vec((0u8..8, any::<u16>()), 0..200)) {
            let mut expected = items.clone();
            expected.sort_by_key(|(k, _)| *k);
            go_stable_sort(&mut items, |a, b| a.0 < b.0);
            prop_assert_eq!(items, expected);
        }

        #[test]
        fn go_stable_sort_survives_inconsistent_orders(mut items in prop::collection::vec(prop::option::of(0usize..10), 0..100)) {
            let before = items.len();
            go_stable_sort(&mut items, |a, b| position_less(*a, *b));
            prop_assert_eq!(items.len(), before);
        }
    }

    #[test]
    fn inconsistent_order_matches_go_insertion_sort() {
        // With no item in the reference list every comparison says "less": Go's insertion sort
        // reverses a short list.
        let mut items = vec![(None::<usize>, 'a'), (None, 'b'), (None, 'c')];
        go_stable_sort(&mut items, |a, b| position_less(a.0, b.0));
        assert_eq!(items.iter().map(|x| x.1).collect::<String>(), "cba");
    }

    #[test]
    fn interleaving_puts_new_items_before_waiting_server_items() {
        let live = [json!({"name": "a"}), json!({"name": "b"}), json!({"name": "c"})];
        let patch_order = [json!({"name": "x"}), json!({"name": "c"})];
        let out = normalize_element_order(
            vec![json!({"name": "c"}), json!({"name": "x"})],
            vec![json!({"name": "b"}), json!({"name": "a"})],
            &patch_order,
            &live,
            "name",
            true,
        )
        .unwrap();
        let names: Vec<&str> = out.iter().map(|v| v["name"].as_str().unwrap_or("")).collect();
        // x is not in the live list, so nothing can go before it; c waits for the live items before it.
        assert_eq!(names, ["x", "a", "b", "c"]);
    }

    #[test]
    fn order_index_distinguishes_kinds() {
        let list = [json!(1), json!("1"), json!(1.5)];
        let index = OrderIndex::new(&list, "", false);
        assert_eq!(index.position(Some(&json!("1"))), Some(1));
        assert_eq!(index.position(Some(&json!(1))), Some(0));
        assert_eq!(index.position(Some(&json!(1.5))), Some(2));
        assert_eq!(index.position(Some(&json!(2))), None);
    }
}
