//! Objects walked along their [`Graph`] type: the set of fields a value
//! sets, the comparison of two versions, the merge of an applied
//! configuration into a live object, and the removal of a set of fields —
//! upstream structured-merge-diff's `ToFieldSet`, `Compare`, `Merge`,
//! `RemoveItems` and `EnsureNamedFieldsAreMembers`, on `serde_json` values.
//!
//! As upstream: a granular object or merged list that is empty on both sides
//! compares as a leaf; an object or list item present on one side only is
//! itself added or removed, and so is everything below it; merged lists keep
//! the applied order for the items both sides have and the live position of
//! the others.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::Error;
use crate::schema::{Graph, ListKind, Shape, TypeId, UNTYPED};
use crate::set::{FieldSet, PathElement, display};

/// What changed between two versions of an object, as field sets.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// Fields (and items) only the new version has.
    pub added: FieldSet,
    /// Leaves both have, with different values.
    pub modified: FieldSet,
    /// Fields (and items) only the old version has.
    pub removed: FieldSet,
}

/// True if `id` merges part by part for a value like `v` (`null` is an
/// empty object or list, as upstream reads Go's nil maps and slices).
fn granular(graph: &Graph, id: TypeId, v: &Value) -> bool {
    matches!(
        (graph.shape(id), v),
        (Shape::Struct { .. } | Shape::Map { .. } | Shape::Untyped, Value::Object(_))
            | (Shape::List { .. }, Value::Array(_))
            | (Shape::Struct { .. } | Shape::Map { .. } | Shape::List { .. }, Value::Null)
    )
}

fn is_empty_container(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// The path element of `item` in a list of `kind` at `path`, item `index`.
/// A key field the item lacks takes its default, or is left out of the
/// key; only an item with none of its keys is refused (as upstream).
fn item_element(kind: &ListKind, item: &Value, path: &[PathElement], index: usize) -> Result<PathElement, Error> {
    let error = |why: String| Error::Typed(format!("{}: element {index}: {why}", display(path)));
    match kind {
        ListKind::Set => match item {
            Value::Object(_) => Err(error("associative list without keys has an element that's a map type".to_owned())),
            Value::Array(_) => Err(error("not supported: associative list with lists as elements".to_owned())),
            Value::Null => {
                Err(error("associative list without keys has an element that's an explicit null".to_owned()))
            }
            _ => Ok(PathElement::value(item)),
        },
        ListKind::Keyed(keys) => {
            let fields = match item {
                Value::Object(fields) => fields,
                Value::Null => return Err(error("associative list with keys may not have a null element".to_owned())),
                _ => return Err(error("associative list with keys may not have non-map elements".to_owned())),
            };
            let pairs: Vec<(&str, &Value)> = keys
                .iter()
                .filter_map(|(key, default)| Some((key.as_str(), fields.get(key).or(default.as_ref())?)))
                .collect();
            if pairs.is_empty() {
                let names: Vec<String> = keys.iter().map(|(k, _)| kubeplex_patch::go_quote(k)).collect();
                return Err(error(format!(
                    "associative list with keys has an element that omits all key fields [{}] (and doesn't have default values for any key fields)",
                    names.join(" ")
                )));
            }
            Ok(PathElement::key(pairs))
        }
    }
}

/// The type of the child `pe` of a value of type `id`.
fn child_type(graph: &Graph, id: TypeId, pe: &PathElement) -> TypeId {
    match (pe.as_field(), graph.shape(id)) {
        (Some(name), _) => graph.field(id, name),
        (None, Shape::List { items, .. }) => *items,
        _ => UNTYPED,
    }
}

/// The fields `value` sets (upstream's `ToFieldSet`): its leaves, the items
/// of keyed lists and sets, and the keys of maps. `strict` refuses what an
/// applied configuration may not hold: fields the type does not declare,
/// keyed items without keys, duplicate items.
pub fn field_set(graph: &Graph, id: TypeId, value: &Value, strict: bool) -> Result<FieldSet, Error> {
    let mut path = Vec::new();
    node_set(graph, id, value, strict, &mut path)
}

fn node_set(
    graph: &Graph,
    id: TypeId,
    value: &Value,
    strict: bool,
    path: &mut Vec<PathElement>,
) -> Result<FieldSet, Error> {
    let mut out = FieldSet::new();
    match (graph.shape(id), value) {
        (Shape::List { items, kind }, Value::Array(list)) => {
            let mut seen = HashMap::new();
            for (i, item) in list.iter().enumerate() {
                let pe = match item_element(kind, item, path, i) {
                    Ok(pe) => pe,
                    Err(e) if strict => return Err(e),
                    Err(_) => continue,
                };
                if seen.insert(pe.clone(), ()).is_some() && strict {
                    return Err(Error::Typed(format!("{}: duplicate entries for key {}", display(path), pe.display())));
                }
                out.insert_member(pe.clone());
                if granular(graph, *items, item) {
                    path.push(pe.clone());
                    let child = node_set(graph, *items, item, strict, path)?;
                    path.pop();
                    out.set_child(pe, child);
                }
            }
        }
        (shape, Value::Object(map)) if granular(graph, id, value) => {
            for (name, child) in map {
                let pe = PathElement::field(name);
                let named = graph.is_named_field(id, name);
                if strict && !named && matches!(shape, Shape::Struct { rest: None, .. }) {
                    path.push(pe);
                    let err = Error::Typed(format!("{}: field not declared in schema", display(path)));
                    path.pop();
                    return Err(err);
                }
                let ty = graph.field(id, name);
                if granular(graph, ty, child) && !is_empty_container(child) {
                    if !named {
                        out.insert_member(pe.clone());
                    }
                    path.push(pe.clone());
                    let sub = node_set(graph, ty, child, strict, path)?;
                    path.pop();
                    out.set_child(pe, sub);
                } else if !(child.as_array().is_some_and(Vec::is_empty) && granular(graph, ty, child)) {
                    out.insert_member(pe);
                }
            }
        }
        _ => {}
    }
    Ok(out)
}

/// What changed from `old` to `new` (upstream's `Compare`).
pub fn compare(graph: &Graph, id: TypeId, old: &Value, new: &Value) -> Comparison {
    let mut out = Comparison::default();
    if old != new {
        compare_children(graph, id, Some(old), Some(new), &mut out);
    }
    out
}

/// Compares the children of two versions of one node (either may be absent).
fn compare_children(graph: &Graph, id: TypeId, old: Option<&Value>, new: Option<&Value>, out: &mut Comparison) {
    let either = new.or(old).unwrap_or(&Value::Null);
    match graph.shape(id) {
        Shape::List { items, kind } => {
            let olds = index_items(kind, old);
            let news = index_items(kind, new);
            let old_map: HashMap<&PathElement, &Value> = olds.iter().map(|(p, v)| (p, *v)).collect();
            let new_map: HashMap<&PathElement, &Value> = news.iter().map(|(p, v)| (p, *v)).collect();
            for (pe, o) in &olds {
                let n = new_map.get(pe).copied();
                if n != Some(*o) {
                    compare_child(graph, *items, pe, Some(o), n, out);
                }
            }
            for (pe, n) in &news {
                if !old_map.contains_key(pe) {
                    compare_child(graph, *items, pe, None, Some(n), out);
                }
            }
        }
        _ if either.is_object() => {
            let empty = Map::new();
            let o = old.and_then(Value::as_object).unwrap_or(&empty);
            let n = new.and_then(Value::as_object).unwrap_or(&empty);
            for (name, ov) in o {
                let nv = n.get(name);
                if nv == Some(ov) {
                    continue; // equal values hold no change
                }
                let pe = PathElement::field(name);
                compare_child(graph, graph.field(id, name), &pe, Some(ov), nv, out);
            }
            for (name, nv) in n {
                if !o.contains_key(name) {
                    let pe = PathElement::field(name);
                    compare_child(graph, graph.field(id, name), &pe, None, Some(nv), out);
                }
            }
        }
        _ => {}
    }
}

/// The identified items of a list, the first of duplicates only.
fn index_items<'v>(kind: &ListKind, list: Option<&'v Value>) -> Vec<(PathElement, &'v Value)> {
    let items = list.and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if let Ok(pe) = item_element(kind, item, &[], i)
            && seen.insert(pe.clone(), ()).is_none()
        {
            out.push((pe, item));
        }
    }
    out
}

fn compare_child(
    graph: &Graph,
    id: TypeId,
    pe: &PathElement,
    old: Option<&Value>,
    new: Option<&Value>,
    out: &mut Comparison,
) {
    let container = old.is_none_or(|v| granular(graph, id, v))
        && new.is_none_or(|v| granular(graph, id, v))
        && !(old.is_none_or(is_empty_container) && new.is_none_or(is_empty_container));
    match (old, new) {
        (None, None) => {}
        (None, Some(_)) => out.added.insert_member(pe.clone()),
        (Some(_), None) => out.removed.insert_member(pe.clone()),
        (Some(o), Some(n)) => {
            if !container && o != n {
                out.modified.insert_member(pe.clone());
            }
        }
    }
    if container {
        let mut sub = Comparison::default();
        compare_children(graph, id, old, new, &mut sub);
        out.added.set_child(pe.clone(), sub.added);
        out.modified.set_child(pe.clone(), sub.modified);
        out.removed.set_child(pe.clone(), sub.removed);
    }
}

/// `config` merged into `live` (upstream's `Merge`): objects field by field,
/// keyed lists and sets item by item, everything else replaced.
pub fn merge(graph: &Graph, id: TypeId, live: &Value, config: &Value) -> Result<Value, Error> {
    let mut out = live.clone();
    merge_into(graph, id, &mut out, config, &mut Vec::new())?;
    Ok(out)
}

/// Merges `config` into `live` in place.
fn merge_into(
    graph: &Graph,
    id: TypeId,
    live: &mut Value,
    config: &Value,
    path: &mut Vec<PathElement>,
) -> Result<(), Error> {
    if !granular(graph, id, live) || !granular(graph, id, config) {
        *live = config.clone();
        return Ok(());
    }
    match (graph.shape(id), &mut *live, config) {
        (Shape::List { items, kind }, Value::Array(l), Value::Array(r)) => {
            let merged = merge_list(graph, *items, kind, std::mem::take(l), r, path)?;
            *l = merged;
        }
        (_, Value::Object(l), Value::Object(r)) => {
            for (name, rv) in r {
                match l.get_mut(name) {
                    Some(lv) => {
                        path.push(PathElement::field(name));
                        merge_into(graph, graph.field(id, name), lv, rv, path)?;
                        path.pop();
                    }
                    None => {
                        l.insert(name.clone(), rv.clone());
                    }
                }
            }
        }
        _ => *live = config.clone(),
    }
    Ok(())
}

/// Merges two lists: the items the applied list has come in its order, at
/// the place of the live items they match; live-only items keep their
/// place among them.
fn merge_list(
    graph: &Graph,
    items: TypeId,
    kind: &ListKind,
    live: Vec<Value>,
    config: &[Value],
    path: &mut Vec<PathElement>,
) -> Result<Vec<Value>, Error> {
    let live_pes: Vec<Option<PathElement>> =
        live.iter().enumerate().map(|(i, v)| item_element(kind, v, path, i).ok()).collect();
    let config_pes: Vec<PathElement> =
        config.iter().enumerate().map(|(i, v)| item_element(kind, v, path, i)).collect::<Result<_, _>>()?;
    let mut live_index: HashMap<&PathElement, usize> = HashMap::new();
    for (i, pe) in live_pes.iter().enumerate() {
        if let Some(pe) = pe {
            live_index.entry(pe).or_insert(i);
        }
    }
    let config_index: HashMap<&PathElement, usize> = config_pes.iter().enumerate().map(|(i, p)| (p, i)).collect();
    let mut live: Vec<Option<Value>> = live.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(live.len().max(config.len()));
    let mut next = 0;
    // Places config item `j`, merged into the live item it matches; true if
    // there was one.
    let take = |j: usize, live: &mut [Option<Value>], out: &mut Vec<Value>, path: &mut Vec<PathElement>| {
        let pe = &config_pes[j];
        match live_index.get(pe).and_then(|&i| live[i].take()) {
            Some(mut item) => {
                path.push(pe.clone());
                merge_into(graph, items, &mut item, &config[j], path)?;
                path.pop();
                out.push(item);
                Ok::<bool, Error>(true)
            }
            None => {
                out.push(config[j].clone());
                Ok(false)
            }
        }
    };
    for i in 0..live.len() {
        match &live_pes[i] {
            Some(pe) if config_index.contains_key(pe) => {
                // Up to and including the next item both lists have.
                while next < config.len() {
                    let j = next;
                    next += 1;
                    if take(j, &mut live, &mut out, path)? {
                        break;
                    }
                }
            }
            _ => out.extend(live[i].take()),
        }
    }
    while next < config.len() {
        take(next, &mut live, &mut out, path)?;
        next += 1;
    }
    Ok(out)
}

/// Removes from `value` every path of `set` (with what is below it).
pub fn remove(graph: &Graph, id: TypeId, value: &mut Value, set: &FieldSet) {
    match (graph.shape(id), value) {
        (Shape::List { items, kind }, Value::Array(list)) => {
            let pes: Vec<Option<PathElement>> =
                list.iter().enumerate().map(|(i, v)| item_element(kind, v, &[], i).ok()).collect();
            let mut keep = pes.iter().map(|pe| pe.as_ref().is_none_or(|pe| !set.has_member(pe)));
            list.retain(|_| keep.next().unwrap_or(true));
            for item in list.iter_mut() {
                let Some(pe) = item_element(kind, item, &[], 0).ok() else { continue };
                if let Some(child) = set.child(&pe) {
                    remove(graph, *items, item, child);
                }
            }
        }
        (_, Value::Object(map)) => {
            for pe in set.members() {
                if let Some(name) = pe.as_field() {
                    map.shift_remove(name);
                }
            }
            for (pe, child) in set.children() {
                if let Some(name) = pe.as_field()
                    && let Some(v) = map.get_mut(name)
                {
                    remove(graph, graph.field(id, name), v, child);
                }
            }
        }
        _ => {}
    }
}

/// `set` with every declared struct field that has paths below it made a
/// member too (upstream's `EnsureNamedFieldsAreMembers`).
pub fn with_named_fields(graph: &Graph, id: TypeId, set: &FieldSet) -> FieldSet {
    let mut out = FieldSet::new();
    for m in set.members() {
        out.insert_member(m.clone());
    }
    for (pe, child) in set.children() {
        if pe.as_field().is_some_and(|name| graph.is_named_field(id, name)) {
            out.insert_member(pe.clone());
        }
        out.set_child(pe.clone(), with_named_fields(graph, child_type(graph, id, pe), child));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;
    use serde_json::json;

    fn deployment() -> Schema {
        Schema::builtin("io.k8s.api.apps.v1.Deployment").unwrap()
    }

    fn paths(set: &FieldSet) -> Vec<String> {
        set.paths().iter().map(|p| display(p)).collect()
    }

    #[test]
    fn field_sets_hold_leaves_and_keyed_items() {
        let s = deployment();
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {}, "finalizers": []},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                "template": {"spec": {"containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]}}}});
        let set = field_set(&s.graph, s.root, &d, true).unwrap();
        assert_eq!(
            paths(&set),
            [
                ".apiVersion",
                ".kind",
                ".metadata.labels",
                ".metadata.name",
                ".spec.replicas",
                ".spec.selector",
                r#".spec.template.spec.containers[name="web"]"#,
                r#".spec.template.spec.containers[name="web"].image"#,
                r#".spec.template.spec.containers[name="web"].name"#,
                r#".spec.template.spec.containers[name="web"].ports[containerPort=80,protocol="TCP"]"#,
                r#".spec.template.spec.containers[name="web"].ports[containerPort=80,protocol="TCP"].containerPort"#,
            ]
        );
        let bad = json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}});
        assert_eq!(
            field_set(&s.graph, s.root, &bad, true).unwrap_err().to_string(),
            ".spec.template.spec.containers: element 0: associative list with keys has an element that omits all key fields [\"name\"] (and doesn't have default values for any key fields)"
        );
        let dup = json!({"spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "a"}]}}}});
        assert_eq!(
            field_set(&s.graph, s.root, &dup, true).unwrap_err().to_string(),
            ".spec.template.spec.containers: duplicate entries for key [name=\"a\"]"
        );
    }

    #[test]
    fn comparison_marks_new_containers_and_their_leaves() {
        let s = deployment();
        let old = json!({"metadata": {"name": "a"}, "spec": {"replicas": 1, "paused": false}});
        let new = json!({"metadata": {"name": "a", "labels": {"x": "1"}}, "spec": {"replicas": 2}});
        let c = compare(&s.graph, s.root, &old, &new);
        assert_eq!(paths(&c.added), [".metadata.labels", ".metadata.labels.x"]);
        assert_eq!(paths(&c.modified), [".spec.replicas"]);
        assert_eq!(paths(&c.removed), [".spec.paused"]);
        // Empty on both sides: a leaf, unchanged.
        let c = compare(&s.graph, s.root, &json!({"metadata": {"labels": {}}}), &json!({"metadata": {}}));
        assert_eq!(paths(&c.removed), [".metadata.labels"]);
        assert!(compare(&s.graph, s.root, &new, &new) == Comparison::default());
    }

    #[test]
    fn merge_keeps_live_items_and_applied_order() {
        let s = deployment();
        let live = json!({"spec": {"replicas": 1, "template": {"spec": {"containers": [
            {"name": "a", "image": "a:1", "imagePullPolicy": "Always"}, {"name": "x", "image": "x"}, {"name": "b", "image": "b:1"}
        ]}}}});
        let config = json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [
            {"name": "b", "image": "b:2"}, {"name": "c", "image": "c"}, {"name": "a", "image": "a:2"}
        ]}}}});
        let out = merge(&s.graph, s.root, &live, &config).unwrap();
        let names: Vec<&str> = out["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["b", "x", "c", "a"]);
        assert_eq!(out["spec"]["replicas"], 3);
        assert_eq!(out["spec"]["template"]["spec"]["containers"][3]["imagePullPolicy"], "Always");
        assert_eq!(out["spec"]["template"]["spec"]["containers"][3]["image"], "a:2");
    }

    #[test]
    fn remove_and_named_fields() {
        let s = deployment();
        let mut v = json!({"metadata": {"labels": {"a": "1", "b": "2"}, "finalizers": ["x", "y"]},
            "spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}}});
        let mut set = FieldSet::new();
        set.insert(&[PathElement::field("metadata"), PathElement::field("labels"), PathElement::field("a")]);
        set.insert(&[
            PathElement::field("metadata"),
            PathElement::field("finalizers"),
            PathElement::value(&json!("y")),
        ]);
        let containers = [PathElement::field("spec"), PathElement::field("template"), PathElement::field("spec")];
        let mut p = containers.to_vec();
        p.extend([PathElement::field("containers"), PathElement::key([("name", &json!("a"))])]);
        set.insert(&p);
        remove(&s.graph, s.root, &mut v, &set);
        assert_eq!(
            v,
            json!({"metadata": {"labels": {"b": "2"}, "finalizers": ["x"]},
                "spec": {"template": {"spec": {"containers": [{"name": "b"}]}}}})
        );
        let named = with_named_fields(&s.graph, s.root, &set);
        assert!(named.contains(&[PathElement::field("metadata"), PathElement::field("labels")]));
        assert!(named.contains(&[PathElement::field("spec")]));
        assert!(!named.contains(&[
            PathElement::field("metadata"),
            PathElement::field("labels"),
            PathElement::field("b")
        ]));
    }
}
