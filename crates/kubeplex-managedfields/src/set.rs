//! Field paths and sets of them, and their `FieldsV1` encoding.
//!
//! A path element is kept in its `FieldsV1` spelling, which is also a total
//! order and a cheap hash key:
//!
//! | element | spelling | in a path ([`display`]) |
//! |---|---|---|
//! | struct or map field | `f:replicas` | `.replicas` |
//! | keyed list item | `k:{"containerPort":80,"protocol":"TCP"}` (keys sorted) | `[containerPort=80,protocol="TCP"]` |
//! | set item | `v:"foregroundDeletion"` | `[="foregroundDeletion"]` |
//! | list index | `i:0` | `[0]` |
//!
//! A [`FieldSet`] is a trie: at each node, the elements that are members (the
//! path ending there is in the set) and the children (longer paths). In
//! `FieldsV1` a member with no children is `{}`, and a node that is both a
//! member and a parent carries `".": {}`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::Error;

/// One step of a field path, in its `FieldsV1` spelling (shared: sets copy
/// elements often).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PathElement(Arc<str>);

impl PathElement {
    /// A field of a struct or a key of a map.
    pub fn field(name: &str) -> PathElement {
        let mut text = String::with_capacity(name.len() + 2);
        text.push_str("f:");
        text.push_str(name);
        PathElement(text.into())
    }

    /// The item of a keyed list whose key fields have these values.
    pub fn key<'a>(fields: impl IntoIterator<Item = (&'a str, &'a Value)>) -> PathElement {
        let mut sorted: Vec<(&str, &Value)> = fields.into_iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        let mut text = String::from("k:{");
        for (i, (name, value)) in sorted.into_iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            write_json(&mut text, &Value::String(name.to_owned()));
            text.push(':');
            write_json(&mut text, value);
        }
        text.push('}');
        PathElement(text.into())
    }

    /// The item of a set-like list with this value.
    pub fn value(v: &Value) -> PathElement {
        let mut text = String::from("v:");
        write_json(&mut text, v);
        PathElement(text.into())
    }

    /// An item of a list by position.
    pub fn index(i: usize) -> PathElement {
        PathElement(format!("i:{i}").into())
    }

    /// The field name, if this element is a field.
    pub fn as_field(&self) -> Option<&str> {
        self.0.strip_prefix("f:")
    }

    /// The `FieldsV1` spelling.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Reads a `FieldsV1` key, normalizing the JSON of keys and values so
    /// that equal elements are spelled alike.
    pub fn parse(text: &str) -> Result<PathElement, Error> {
        let bad = |why: &str| Error::BadManagedFields(format!("parsing path element {text:?}: {why}"));
        let (prefix, rest) = text.split_at_checked(2).ok_or_else(|| bad("too short"))?;
        match prefix {
            "f:" => Ok(PathElement(text.into())),
            "k:" if is_canonical_key(rest) => Ok(PathElement(text.into())),
            "k:" => match serde_json::from_str::<Value>(rest) {
                Ok(Value::Object(map)) => Ok(PathElement::key(map.iter().map(|(k, v)| (k.as_str(), v)))),
                _ => Err(bad("a key must be a JSON object")),
            },
            "v:" => serde_json::from_str::<Value>(rest)
                .map(|v| PathElement::value(&v))
                .map_err(|_| bad("a value must be JSON")),
            "i:" => rest.parse::<usize>().map(PathElement::index).map_err(|_| bad("an index must be a number")),
            _ => Err(bad("unknown prefix")),
        }
    }

    /// The element as upstream prints it in a path (`.spec`, `[name="web"]`).
    pub fn display(&self) -> String {
        let (prefix, rest) = self.0.split_at(2);
        match prefix {
            "f:" => format!(".{rest}"),
            "k:" => {
                let map = serde_json::from_str::<Map<String, Value>>(rest).unwrap_or_default();
                let parts: Vec<String> = map.iter().map(|(k, v)| format!("{k}={}", go_string(v))).collect();
                format!("[{}]", parts.join(","))
            }
            "v:" => format!("[={}]", serde_json::from_str::<Value>(rest).map(|v| go_string(&v)).unwrap_or_default()),
            _ => format!("[{rest}]"),
        }
    }
}

/// Appends `v` as compact JSON, as serde_json writes it; plain strings and
/// integers (nearly every key) without the formatting machinery.
fn write_json(out: &mut String, v: &Value) {
    match v {
        Value::String(s) if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') => {
            out.push('"');
            out.push_str(s);
            out.push('"');
        }
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) if n.is_i64() => write_integer(out, n.as_i64().unwrap_or_default()),
        // serde_json's `Display` cannot fail writing to a `String`.
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// Appends `n` in decimal.
fn write_integer(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    let mut digits = [0u8; 20];
    let mut len = 0;
    let mut rest = n.unsigned_abs();
    loop {
        digits[len] = b'0' + (rest % 10) as u8;
        len += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend(digits[..len].iter().rev().map(|&d| char::from(d)));
}

/// True if `text` is a key object exactly as [`PathElement::key`] writes it:
/// `{"a":1,"b":"x"}` with names in order, plain strings (no escapes) and
/// integers. Such a key needs no normalizing.
fn is_canonical_key(text: &str) -> bool {
    let Some(inner) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) else { return false };
    let mut rest = inner.as_bytes();
    let mut previous: Option<&[u8]> = None;
    let plain_string = |bytes: &[u8]| -> Option<usize> {
        // Length of `"…"` at the start of `bytes`, escapes and controls refused.
        let body = bytes.strip_prefix(b"\"")?;
        let end = body.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        (body[end] == b'"').then_some(end + 2)
    };
    loop {
        let Some(name_len) = plain_string(rest) else { return false };
        let name = &rest[1..name_len - 1];
        if previous.is_some_and(|p| p >= name) {
            return false;
        }
        previous = Some(name);
        rest = &rest[name_len..];
        let Some(after_colon) = rest.strip_prefix(b":") else { return false };
        rest = after_colon;
        let value_len = match rest.first() {
            Some(b'"') => match plain_string(rest) {
                Some(len) => len,
                None => return false,
            },
            Some(b'-' | b'0'..=b'9') => {
                let digits_start = usize::from(rest[0] == b'-');
                let len = digits_start + rest[digits_start..].iter().take_while(|b| b.is_ascii_digit()).count();
                let digits = &rest[digits_start..len];
                let negative_zero = digits_start == 1 && digits == b"0";
                if digits.is_empty() || (digits.len() > 1 && digits[0] == b'0') || digits.len() > 18 || negative_zero {
                    return false;
                }
                len
            }
            _ => return false,
        };
        rest = &rest[value_len..];
        match rest.first() {
            None => return true,
            Some(b',') => rest = &rest[1..],
            Some(_) => return false,
        }
    }
}

/// A value as upstream's `value.ToString` prints it: strings quoted as Go
/// quotes them, everything else as `%v`.
fn go_string(v: &Value) -> String {
    match v {
        Value::String(s) => kubeplex_patch::go_quote(s),
        other => kubeplex_patch::go_format(other),
    }
}

/// Prints a path as upstream does: `.spec.containers[name="web"].image`.
pub fn display(path: &[PathElement]) -> String {
    path.iter().map(PathElement::display).collect()
}

/// A set of field paths.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSet {
    members: BTreeSet<PathElement>,
    /// Never holds an empty set.
    children: BTreeMap<PathElement, FieldSet>,
}

impl FieldSet {
    /// The empty set.
    pub fn new() -> FieldSet {
        FieldSet::default()
    }

    /// True if the set holds no path.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.is_empty()
    }

    /// Adds `path` (the empty path is not a member of anything).
    pub fn insert(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [last] => {
                self.members.insert(last.clone());
            }
            [first, rest @ ..] => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    /// True if `path` is in the set.
    pub fn contains(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [last] => self.members.contains(last),
            [first, rest @ ..] => self.children.get(first).is_some_and(|c| c.contains(rest)),
        }
    }

    /// True if `element` is a member at this node.
    pub fn has_member(&self, element: &PathElement) -> bool {
        self.members.contains(element)
    }

    /// The set of paths below `element`.
    pub fn child(&self, element: &PathElement) -> Option<&FieldSet> {
        self.children.get(element)
    }

    /// The members at this node.
    pub fn members(&self) -> impl Iterator<Item = &PathElement> {
        self.members.iter()
    }

    /// The children of this node.
    pub fn children(&self) -> impl Iterator<Item = (&PathElement, &FieldSet)> {
        self.children.iter()
    }

    /// Marks `element` a member at this node.
    pub(crate) fn insert_member(&mut self, element: PathElement) {
        self.members.insert(element);
    }

    /// Sets the paths below `element` (dropped when empty).
    pub(crate) fn set_child(&mut self, element: PathElement, child: FieldSet) {
        if child.is_empty() {
            self.children.remove(&element);
        } else {
            self.children.insert(element, child);
        }
    }

    /// Removes the paths below `element` and `element` itself.
    pub fn remove_element(&mut self, element: &PathElement) {
        self.members.remove(element);
        self.children.remove(element);
    }

    /// Every path in the set, members of a node before its children's, each
    /// in order (upstream's `Set.Iterate`).
    pub fn paths(&self) -> Vec<Vec<PathElement>> {
        let mut out = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Vec<PathElement>, out: &mut Vec<Vec<PathElement>>) {
        for m in &self.members {
            let mut path = prefix.clone();
            path.push(m.clone());
            out.push(path);
        }
        for (pe, child) in &self.children {
            prefix.push(pe.clone());
            child.collect_paths(prefix, out);
            prefix.pop();
        }
    }

    /// `self ∪ other`.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.union_with(other);
        out
    }

    /// Adds every path of `other`; true if any was new.
    pub fn union_with(&mut self, other: &FieldSet) -> bool {
        let mut added = false;
        for m in &other.members {
            if !self.members.contains(m) {
                self.members.insert(m.clone());
                added = true;
            }
        }
        for (pe, child) in &other.children {
            match self.children.get_mut(pe) {
                Some(mine) => added |= mine.union_with(child),
                None => {
                    self.children.insert(pe.clone(), child.clone());
                    added = true;
                }
            }
        }
        added
    }

    /// `self ∖ other`: the paths of `self` not in `other` (a path's
    /// descendants stay unless `other` holds them too).
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.difference(&other.members).cloned().collect();
        let mut children = BTreeMap::new();
        for (pe, child) in &self.children {
            let rest = match other.children.get(pe) {
                Some(theirs) => child.difference(theirs),
                None => child.clone(),
            };
            if !rest.is_empty() {
                children.insert(pe.clone(), rest);
            }
        }
        FieldSet { members, children }
    }

    /// Removes every path of `other` (a path's descendants stay unless
    /// `other` holds them too): `self ∖ other` in place, costing the size of
    /// `other`. True if anything was removed.
    pub fn subtract(&mut self, other: &FieldSet) -> bool {
        let mut removed = false;
        for m in &other.members {
            removed |= self.members.remove(m);
        }
        for (pe, theirs) in &other.children {
            if let Some(mine) = self.children.get_mut(pe)
                && mine.subtract(theirs)
            {
                removed = true;
                if mine.is_empty() {
                    self.children.remove(pe);
                }
            }
        }
        removed
    }

    /// `self ∩ other`, costing the size of the smaller set.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let (small, large) = if self.len_hint() <= other.len_hint() { (self, other) } else { (other, self) };
        let members = small.members.iter().filter(|m| large.members.contains(*m)).cloned().collect();
        let mut children = BTreeMap::new();
        for (pe, child) in &small.children {
            if let Some(theirs) = large.children.get(pe) {
                let both = child.intersection(theirs);
                if !both.is_empty() {
                    children.insert(pe.clone(), both);
                }
            }
        }
        FieldSet { members, children }
    }

    /// The elements at this node: a cheap measure of size.
    fn len_hint(&self) -> usize {
        self.members.len() + self.children.len()
    }

    /// The paths of `self` that are neither in `other` nor below one of its
    /// paths (upstream's `RecursiveDifference`, used to ignore whole subtrees).
    pub fn recursive_difference(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.iter().filter(|m| !other.members.contains(*m)).cloned().collect();
        let mut children = BTreeMap::new();
        for (pe, child) in &self.children {
            if other.members.contains(pe) {
                continue;
            }
            let rest = match other.children.get(pe) {
                Some(theirs) => child.recursive_difference(theirs),
                None => child.clone(),
            };
            if !rest.is_empty() {
                children.insert(pe.clone(), rest);
            }
        }
        FieldSet { members, children }
    }

    /// Reads a `fieldsV1` value.
    pub fn from_fields_v1(value: &Value) -> Result<FieldSet, Error> {
        let map =
            value.as_object().ok_or_else(|| Error::BadManagedFields("fieldsV1 must be a JSON object".to_owned()))?;
        let mut out = FieldSet::new();
        for (key, child) in map {
            if key == "." {
                continue;
            }
            let pe = PathElement::parse(key)?;
            let inner = child
                .as_object()
                .ok_or_else(|| Error::BadManagedFields(format!("fieldsV1 entry {key:?} must be a JSON object")))?;
            if inner.is_empty() || inner.contains_key(".") {
                out.members.insert(pe.clone());
            }
            let sub = FieldSet::from_fields_v1(child)?;
            out.set_child(pe, sub);
        }
        Ok(out)
    }

    /// The `fieldsV1` value of the set.
    pub fn to_fields_v1(&self) -> Value {
        let mut map = Map::new();
        let mut keys: BTreeSet<&PathElement> = self.members.iter().collect();
        keys.extend(self.children.keys());
        for pe in keys {
            let mut inner = match self.children.get(pe) {
                Some(child) => match child.to_fields_v1() {
                    Value::Object(m) => m,
                    _ => Map::new(),
                },
                None => Map::new(),
            };
            if self.members.contains(pe) && !inner.is_empty() {
                let mut with_dot = Map::new();
                with_dot.insert(".".to_owned(), Value::Object(Map::new()));
                with_dot.extend(inner);
                inner = with_dot;
            }
            map.insert(pe.as_str().to_owned(), Value::Object(inner));
        }
        Value::Object(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(name: &str) -> PathElement {
        PathElement::field(name)
    }

    #[test]
    fn elements_are_spelled_and_displayed_as_upstream() {
        let key = PathElement::key([("protocol", &json!("TCP")), ("containerPort", &json!(80))]);
        assert_eq!(key.as_str(), r#"k:{"containerPort":80,"protocol":"TCP"}"#);
        assert_eq!(key.display(), r#"[containerPort=80,protocol="TCP"]"#);
        assert_eq!(PathElement::value(&json!("a\"b")).display(), r#"[="a\"b"]"#);
        assert_eq!(PathElement::index(3).display(), "[3]");
        let path = vec![f("spec"), PathElement::key([("name", &json!("web"))]), f("image")];
        assert_eq!(display(&path), r#".spec[name="web"].image"#);
        assert_eq!(PathElement::parse(r#"k:{"protocol":"TCP","containerPort":80}"#).unwrap(), key);
        assert!(PathElement::parse("x:1").is_err());
        assert!(PathElement::parse("k:[1]").is_err());
    }

    #[test]
    fn canonical_keys_are_recognized() {
        for text in [r#"{"name":"web"}"#, r#"{"containerPort":80,"protocol":"TCP"}"#, r#"{"a":-1,"b":"x y"}"#] {
            assert!(is_canonical_key(text), "{text}");
            assert_eq!(PathElement::parse(&format!("k:{text}")).unwrap().as_str(), format!("k:{text}"));
        }
        for text in [
            r#"{"protocol":"TCP","containerPort":80}"#,
            r#"{"name": "web"}"#,
            r#"{"a":01}"#,
            r#"{"a":-0}"#,
            r#"{"a":"x\"y"}"#,
            r#"{"a":1.5}"#,
            r#"{"a":true}"#,
            r#"{"a":1,"a":2}"#,
            r#"{"a":1,}"#,
            r#"{}"#,
            r#"{"a""#,
        ] {
            assert!(!is_canonical_key(text), "{text}");
        }
        let mut out = String::new();
        for n in [0, 7, -42, i64::MIN, i64::MAX] {
            out.clear();
            write_integer(&mut out, n);
            assert_eq!(out, n.to_string());
        }
    }

    #[test]
    fn fields_v1_round_trips() {
        let doc = json!({
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
                "k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}
            }}}},
            "f:finalizers": {"v:\"a\"": {}}
        });
        let set = FieldSet::from_fields_v1(&doc).unwrap();
        assert!(set.contains(&[f("spec"), f("replicas")]));
        assert!(set.contains(&[f("metadata"), f("labels")]));
        assert!(!set.contains(&[f("metadata")]));
        assert_eq!(set.to_fields_v1(), doc);
        assert!(FieldSet::from_fields_v1(&json!({"f:a": 1})).is_err());
        assert!(FieldSet::from_fields_v1(&json!([])).is_err());
    }

    #[test]
    fn set_algebra() {
        let mut a = FieldSet::new();
        a.insert(&[f("spec"), f("replicas")]);
        a.insert(&[f("spec"), f("paused")]);
        a.insert(&[f("metadata"), f("labels"), f("app")]);
        let mut b = FieldSet::new();
        b.insert(&[f("spec"), f("replicas")]);
        b.insert(&[f("metadata"), f("labels")]);
        let d = a.difference(&b);
        assert!(!d.contains(&[f("spec"), f("replicas")]));
        assert!(d.contains(&[f("spec"), f("paused")]));
        assert!(d.contains(&[f("metadata"), f("labels"), f("app")]));
        let r = a.recursive_difference(&b);
        assert!(!r.contains(&[f("metadata"), f("labels"), f("app")]));
        let i = a.intersection(&b);
        assert_eq!(i.paths(), vec![vec![f("spec"), f("replicas")]]);
        let u = a.union(&b);
        assert!(u.contains(&[f("metadata"), f("labels")]) && u.contains(&[f("spec"), f("paused")]));
        assert!(a.difference(&a).is_empty());
        assert_eq!(
            a.paths().iter().map(|p| display(p)).collect::<Vec<_>>(),
            [".metadata.labels.app", ".spec.paused", ".spec.replicas"]
        );
    }
}
