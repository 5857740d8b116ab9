//! `metadata.managedFields`: who owns which fields, kept on every write
//! ([`update`]) and enforced by server-side apply ([`apply`]), as upstream's
//! field manager chain does it (apimachinery `util/managedfields/internal`):
//!
//! ```text
//!  update: managed fields of the request (or the live object's) ─► compare(live, new)
//!          ─► others lose what changed ─► the writer owns what it added or changed
//!  apply:  merge(live, config) ─► prune what the applier dropped and nobody else owns
//!          ─► conflicts with others' fields (409 unless force) ─► the applier owns its config
//! ```
//!
//! An entry is identified by manager, operation, subresource and, for
//! updates, API version. Entries are sorted as upstream sorts them (applies
//! first, then by time). The metadata every object has (`apiVersion`, `kind`,
//! `metadata.name`, …) is never owned. Update failures never fail a write: the
//! object then loses its managed fields (upstream's `UpdateNoErrors`).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde_json::{Map, Value, json};

use crate::Error;
use crate::schema::{Graph, Schema, TypeId};
use crate::set::{FieldSet, PathElement, display};
use crate::typed::{compare, field_set, merge, remove, with_named_fields};

/// The manager upstream names for the fields of an object that predates
/// field tracking, on its first apply.
pub const BEFORE_FIRST_APPLY: &str = "before-first-apply";

/// The annotation client-side apply keeps.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Longest field manager name (bytes).
pub const MAX_MANAGER_BYTES: usize = 128;

/// Most update managers an object keeps before the oldest are merged.
const MAX_UPDATE_MANAGERS: usize = 10;

/// The entry older update managers are merged into.
const ANCIENT_CHANGES: &str = "ancient-changes";

/// How a manager wrote its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    /// Server-side apply.
    Apply,
    /// Any other write.
    Update,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// One entry of `metadata.managedFields`.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The field manager.
    pub manager: String,
    /// How it wrote.
    pub operation: Operation,
    /// The API version it wrote with.
    pub api_version: String,
    /// When its fields last changed (RFC 3339, seconds).
    pub time: Option<String>,
    /// The subresource it wrote through (`""` for the object itself).
    pub subresource: String,
    /// The fields it owns.
    pub fields: FieldSet,
    /// `fields` as the `fieldsV1` it was read from, while unchanged (saves
    /// re-encoding the entries a write does not touch).
    encoded: Option<Value>,
}

impl Entry {
    /// A new entry owning `fields`.
    pub fn new(manager: &str, operation: Operation, api_version: &str, subresource: &str, fields: FieldSet) -> Entry {
        Entry {
            manager: manager.to_owned(),
            operation,
            api_version: api_version.to_owned(),
            time: None,
            subresource: subresource.to_owned(),
            fields,
            encoded: None,
        }
    }

    /// Removes `other`'s paths from the fields owned.
    fn disown(&mut self, other: &FieldSet) {
        if self.fields.subtract(other) {
            self.encoded = None;
        }
    }

    /// Replaces the fields owned by `fields`, which may hold the identity
    /// fields no manager keeps (see [`Entry::strip_identity`]).
    fn own(&mut self, fields: FieldSet) {
        let mut kept = fields.clone();
        kept.subtract(&STRIPPED);
        if kept != self.fields {
            self.encoded = None;
        }
        self.fields = fields;
    }

    /// Drops the identity fields [`Entry::own`] took (the encoding of the
    /// entry does not hold them).
    fn strip_identity(&mut self) {
        self.fields.subtract(&STRIPPED);
    }

    /// True if `self` and `other` are the same manager (apply entries do not
    /// depend on the API version).
    fn same_manager(&self, manager: &str, operation: Operation, api_version: &str, subresource: &str) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource == subresource
            && (operation == Operation::Apply || self.api_version == api_version)
    }

    /// The manager as upstream names it in conflicts.
    fn printed(&self) -> String {
        let mut out = kubeplex_patch::go_quote(&self.manager);
        if !self.subresource.is_empty() {
            out.push_str(&format!(" with subresource {}", kubeplex_patch::go_quote(&self.subresource)));
        }
        if self.operation == Operation::Update {
            out.push_str(&format!(" using {}", self.api_version));
        }
        out
    }

    /// Upstream's manager identifier, which orders conflicts.
    fn identifier(&self) -> String {
        let mut id = Map::new();
        id.insert("manager".into(), json!(self.manager));
        id.insert("operation".into(), json!(self.operation.as_str()));
        if self.operation == Operation::Update {
            id.insert("apiVersion".into(), json!(self.api_version));
        }
        if !self.subresource.is_empty() {
            id.insert("subresource".into(), json!(self.subresource));
        }
        Value::Object(id).to_string()
    }

    fn decode(index: usize, mut value: Value) -> Result<Entry, Error> {
        let text = |key: &str| value.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
        let operation = match value.get("operation").and_then(Value::as_str) {
            Some("Apply") => Operation::Apply,
            Some("Update") => Operation::Update,
            _ => return Err(Error::BadManagedFields("operation must be `Apply` or `Update`".to_owned())),
        };
        let api_version = text("apiVersion");
        if api_version.is_empty() {
            return Err(Error::BadManagedFields("apiVersion must not be empty".to_owned()));
        }
        match value.get("fieldsType").and_then(Value::as_str) {
            Some("FieldsV1") => {}
            None | Some("") => {
                return Err(Error::BadManagedFields(format!("missing fieldsType in managed fields entry {index}")));
            }
            Some(other) => {
                return Err(Error::BadManagedFields(format!(
                    "invalid fieldsType {other:?} in managed fields entry {index}"
                )));
            }
        }
        let (manager, subresource) = (text("manager"), text("subresource"));
        let time = value.get("time").and_then(Value::as_str).map(str::to_owned);
        let (fields, encoded) = match value.as_object_mut().and_then(|m| m.shift_remove("fieldsV1")) {
            None | Some(Value::Null) => (FieldSet::new(), None),
            Some(v) => (FieldSet::from_fields_v1(&v)?, Some(v)),
        };
        Ok(Entry { manager, operation, api_version, time, subresource, fields, encoded })
    }

    fn encode(self) -> Value {
        let mut out = Map::new();
        if !self.manager.is_empty() {
            out.insert("manager".into(), json!(self.manager));
        }
        out.insert("operation".into(), json!(self.operation.as_str()));
        out.insert("apiVersion".into(), json!(self.api_version));
        if let Some(time) = &self.time {
            out.insert("time".into(), json!(time));
        }
        out.insert("fieldsType".into(), json!("FieldsV1"));
        let fields = self.encoded.unwrap_or_else(|| self.fields.to_fields_v1());
        out.insert("fieldsV1".into(), fields);
        if !self.subresource.is_empty() {
            out.insert("subresource".into(), json!(self.subresource));
        }
        Value::Object(out)
    }
}

/// Reads a `managedFields` list (a later entry of the same manager replaces
/// an earlier one, as upstream).
pub fn decode(list: &Value) -> Result<Vec<Entry>, Error> {
    decode_owned(list.clone())
}

/// [`decode`] of a list the caller gives away.
fn decode_owned(list: Value) -> Result<Vec<Entry>, Error> {
    let items = match list {
        Value::Array(items) => items,
        Value::Null => return Ok(Vec::new()),
        _ => return Err(Error::BadManagedFields("must be a list".into())),
    };
    let mut out: Vec<Entry> = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let entry = Entry::decode(i, item)?;
        out.retain(|e| !e.same_manager(&entry.manager, entry.operation, &entry.api_version, &entry.subresource));
        out.push(entry);
    }
    Ok(out)
}

/// Writes `entries` into `object`'s metadata, sorted as upstream sorts them;
/// none removes the field.
pub fn encode(object: &mut Value, mut entries: Vec<Entry>) {
    entries.sort_by(|a, b| {
        a.operation
            .cmp(&b.operation)
            .then_with(|| a.time.as_deref().unwrap_or("").cmp(b.time.as_deref().unwrap_or("")))
            .then_with(|| a.manager.cmp(&b.manager))
            .then_with(|| a.api_version.cmp(&b.api_version))
            .then_with(|| a.subresource.cmp(&b.subresource))
    });
    let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) else { return };
    if entries.is_empty() {
        meta.shift_remove("managedFields");
    } else {
        meta.insert("managedFields".into(), Value::Array(entries.into_iter().map(Entry::encode).collect()));
    }
}

/// True for `[]` and `[{}]`, which clear an object's managed fields.
fn is_reset(list: &Value) -> bool {
    match list.as_array().map(Vec::as_slice) {
        Some([]) => true,
        Some([only]) => only.as_object().is_some_and(Map::is_empty),
        _ => false,
    }
}

/// Who is writing, and how.
#[derive(Debug, Clone, Copy)]
pub struct Writer<'a> {
    /// The field manager.
    pub manager: &'a str,
    /// The API version of the request (`apps/v1`).
    pub api_version: &'a str,
    /// The subresource written (`""`, `status`, `scale`).
    pub subresource: &'a str,
    /// Now, RFC 3339 in seconds.
    pub now: &'a str,
}

/// The manager of a write that names none: the `User-Agent` up to its first
/// `/`, printable characters only, at most 128 bytes; `unknown` if that is
/// empty (upstream's `managerOrUserAgent` and `buildManagerInfo`).
pub fn manager_from_user_agent(user_agent: &str) -> String {
    let prefix = user_agent.split('/').next().unwrap_or("");
    let mut out = String::new();
    for c in prefix.chars().filter(|c| !c.is_control()) {
        if out.len() + c.len_utf8() > MAX_MANAGER_BYTES {
            break;
        }
        out.push(c);
    }
    if out.is_empty() { "unknown".to_owned() } else { out }
}

/// The paths no manager owns.
static STRIPPED: LazyLock<FieldSet> = LazyLock::new(|| {
    let mut set = FieldSet::new();
    set.insert(&[PathElement::field("apiVersion")]);
    set.insert(&[PathElement::field("kind")]);
    set.insert(&[PathElement::field("metadata")]);
    for name in [
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    ] {
        set.insert(&[PathElement::field("metadata"), PathElement::field(name)]);
    }
    set
});

/// What a type's schema and the request's reset fields give ownership.
#[derive(Debug, Clone)]
pub struct FieldManager {
    schema: Schema,
    /// Fields this endpoint never gives ownership of (`status` through the
    /// object, `spec` through `status`).
    reset: FieldSet,
}

impl FieldManager {
    /// A field manager for `schema`; `reset` lists top-level fields whose
    /// whole subtree is ignored.
    pub fn new(schema: Schema, reset: &[&str]) -> FieldManager {
        let mut set = FieldSet::new();
        for name in reset {
            set.insert(&[PathElement::field(name)]);
        }
        FieldManager { schema, reset: set }
    }

    fn graph(&self) -> &Graph {
        &self.schema.graph
    }

    fn root(&self) -> TypeId {
        self.schema.root
    }

    /// Records an update by `writer` of `live` (`None`: a create) into
    /// `new`'s managed fields. Never fails: when the managed fields cannot be
    /// worked out, `new` loses them.
    pub fn update(&self, live: Option<&Value>, new: &mut Value, writer: &Writer<'_>) {
        let requested =
            new.get_mut("metadata").and_then(Value::as_object_mut).and_then(|m| m.shift_remove("managedFields"));
        let from_live = || live.and_then(|l| l["metadata"].get("managedFields")).map(decode).and_then(Result::ok);
        let entries = match requested {
            _ if !writer.subresource.is_empty() => from_live().unwrap_or_default(),
            Some(list) if is_reset(&list) => Vec::new(),
            Some(list) => match decode_owned(list) {
                Ok(entries) if !entries.is_empty() => entries,
                _ => from_live().unwrap_or_default(),
            },
            None => from_live().unwrap_or_default(),
        };
        // An existing object nobody tracked stays untracked until it is applied.
        if entries.is_empty() && live.is_some() {
            return;
        }
        let entries = self.updated(entries, live, new, writer, writer.manager);
        encode(new, entries);
    }

    /// `entries` after `writer` changed `live` into `new`, the changes owned
    /// by `manager` (an update entry).
    fn updated(
        &self,
        mut entries: Vec<Entry>,
        live: Option<&Value>,
        new: &Value,
        writer: &Writer<'_>,
        manager: &str,
    ) -> Vec<Entry> {
        let c = compare(self.graph(), self.root(), live.unwrap_or(&self.schema.zero), new);
        let changed = c.added.union(&c.modified).recursive_difference(&self.reset);
        let removed = c.removed.recursive_difference(&self.reset);
        for e in &mut entries {
            e.disown(&changed);
            e.disown(&removed);
        }
        let mut mine = changed;
        mine.subtract(&STRIPPED);
        if !mine.is_empty() {
            let found = entries
                .iter()
                .position(|e| e.same_manager(manager, Operation::Update, writer.api_version, writer.subresource));
            let index = found.unwrap_or_else(|| {
                let fields = FieldSet::new();
                entries.push(Entry::new(manager, Operation::Update, writer.api_version, writer.subresource, fields));
                entries.len() - 1
            });
            let e = &mut entries[index];
            if e.fields.union_with(&mine) {
                e.encoded = None;
            }
            e.time = Some(writer.now.to_owned());
        }
        entries.retain(|e| !e.fields.is_empty());
        cap_update_managers(entries)
    }

    /// Server-side apply of `config` by `writer` to `live` (`None`: the
    /// object does not exist yet): the object to store, with its managed
    /// fields. `Error::Typed` is a configuration that does not fit the
    /// schema, `Error::Conflicts` fields others own (without `force`).
    pub fn apply(
        &self,
        live: Option<&Value>,
        config: &Value,
        writer: &Writer<'_>,
        force: bool,
    ) -> Result<Value, Error> {
        let config_set = field_set(self.graph(), self.root(), config, true)?;
        let mut live_object = live.cloned().unwrap_or_else(|| json!({}));
        let listed = live_object
            .get_mut("metadata")
            .and_then(Value::as_object_mut)
            .and_then(|m| m.shift_remove("managedFields"));
        let mut entries = match listed {
            Some(list) => decode_owned(list)
                .map_err(|e| Error::BadManagedFields(format!("failed to decode managed fields: {e}")))?,
            None => Vec::new(),
        };
        if entries.is_empty() && live.is_some() {
            entries = self.updated(Vec::new(), None, &live_object, writer, BEFORE_FIRST_APPLY);
        }
        // kubectl may retry with the same entries (below).
        let retry = (writer.manager == "kubectl").then(|| entries.clone());
        let outcome = match self.applied(&live_object, config, &config_set, entries, writer, force) {
            Err(Error::Conflicts(conflicts)) if let Some(entries) = retry => {
                // Fields client-side apply set to what the configuration says
                // are taken over (kubectl's move to server-side apply).
                let allowed = self.allowed_by_last_applied(&live_object, writer).unwrap_or_default();
                let rest: Vec<Conflict> = conflicts.0.iter().filter(|c| !allowed.contains(&c.path)).cloned().collect();
                if rest.is_empty() {
                    self.applied(&live_object, config, &config_set, entries, writer, true)
                } else {
                    Err(Error::Conflicts(Conflicts(rest)))
                }
            }
            other => other,
        };
        let (mut object, entries) = outcome?;
        if writer.manager == "kubectl" {
            update_last_applied(&mut object, config);
        }
        encode(&mut object, entries);
        Ok(object)
    }

    /// The merged object and the entries after an apply.
    fn applied(
        &self,
        live: &Value,
        config: &Value,
        config_set: &FieldSet,
        mut entries: Vec<Entry>,
        writer: &Writer<'_>,
        force: bool,
    ) -> Result<(Value, Vec<Entry>), Error> {
        let (g, root) = (self.graph(), self.root());
        let mut merged = merge(g, root, live, config)?;
        let mine = |e: &Entry| e.same_manager(writer.manager, Operation::Apply, "", writer.subresource);
        let last = entries.iter().find(|e| mine(e)).map(|e| e.fields.clone()).unwrap_or_default();
        // The applier owns its identity fields (`metadata.name`, …) until
        // the end, so that pruning keeps them; they are stripped after.
        let applied = config_set.recursive_difference(&self.reset);
        match entries.iter_mut().find(|e| mine(e)) {
            Some(e) => {
                e.own(applied);
                e.api_version = writer.api_version.to_owned();
            }
            None => entries.push(Entry::new(
                writer.manager,
                Operation::Apply,
                writer.api_version,
                writer.subresource,
                applied,
            )),
        }
        // Only what the applier set last time and not now can go.
        let applied_now = entries.iter().find(|e| mine(e)).map(|e| &e.fields);
        if applied_now.is_some_and(|now| !last.difference(now).is_empty()) {
            self.prune(&mut merged, &entries, &last)?;
        }
        let c = compare(g, root, live, &merged);
        let changed = c.added.union(&c.modified).recursive_difference(&self.reset);
        let removed = c.removed.recursive_difference(&self.reset);
        let mut conflicts = Vec::new();
        for e in entries.iter_mut().filter(|e| !mine(e)) {
            let taken = e.fields.intersection(&changed);
            if !taken.is_empty() {
                for path in taken.paths() {
                    conflicts.push(Conflict { manager: e.printed(), identifier: e.identifier(), path: display(&path) });
                }
                e.disown(&taken);
            }
            e.disown(&removed);
        }
        if !conflicts.is_empty() && !force {
            conflicts.sort_by(|a, b| a.identifier.cmp(&b.identifier));
            return Err(Error::Conflicts(Conflicts(conflicts)));
        }
        let changed_object = &merged != live;
        for e in entries.iter_mut().filter(|e| mine(e)) {
            e.strip_identity();
            if changed_object || e.time.is_none() {
                e.time = Some(writer.now.to_owned());
            }
        }
        entries.retain(|e| !e.fields.is_empty());
        Ok((merged, entries))
    }

    /// Removes from `merged` what the applier set last time (`last`), no
    /// longer sets and nobody else owns (upstream's `prune`).
    fn prune(&self, merged: &mut Value, entries: &[Entry], last: &FieldSet) -> Result<(), Error> {
        let (g, root) = (self.graph(), self.root());
        let named = |set: &FieldSet| with_named_fields(g, root, set);
        let set_of = |v: &Value| field_set(g, root, v, false).map(|s| named(&s));
        let last = named(last);
        let mut without_last = merged.clone();
        remove(g, root, &mut without_last, &last);
        let mut owned = FieldSet::new();
        for e in entries {
            owned.union_with(&e.fields);
        }
        let merged_set = set_of(merged)?;
        let keep = set_of(&without_last)?.union(&named(&owned));
        let mut kept = merged.clone();
        remove(g, root, &mut kept, &merged_set.difference(&keep));
        let dropped = merged_set.difference(&set_of(&kept)?).intersection(&last);
        remove(g, root, merged, &dropped);
        Ok(())
    }

    /// The fields of the live object's `last-applied-configuration` that
    /// still hold the values it gives, as paths.
    fn allowed_by_last_applied(&self, live: &Value, writer: &Writer<'_>) -> Option<Vec<String>> {
        let text = live["metadata"]["annotations"][LAST_APPLIED].as_str()?;
        let last: Value = serde_json::from_str(text).ok()?;
        if last["apiVersion"].as_str() != Some(writer.api_version) {
            return None;
        }
        let (g, root) = (self.graph(), self.root());
        let set = field_set(g, root, &last, false).ok()?;
        let merged = merge(g, root, live, &last).ok()?;
        let c = compare(g, root, live, &merged);
        let differ = c.added.union(&c.modified).union(&c.removed);
        Some(set.difference(&differ).paths().iter().map(|p| display(p)).collect())
    }
}

/// Keeps at most ten update entries: the oldest of an API version that has
/// several are merged into `ancient-changes` (upstream's `capManagers`).
fn cap_update_managers(mut entries: Vec<Entry>) -> Vec<Entry> {
    let updates = entries.iter().filter(|e| e.operation == Operation::Update).count();
    if updates <= MAX_UPDATE_MANAGERS {
        return entries;
    }
    let mut order: Vec<usize> = (0..entries.len()).filter(|&i| entries[i].operation == Operation::Update).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&entries[a], &entries[b]);
        a.time
            .as_deref()
            .unwrap_or("")
            .cmp(b.time.as_deref().unwrap_or(""))
            .then_with(|| a.identifier().cmp(&b.identifier()))
    });
    let mut excess = updates - MAX_UPDATE_MANAGERS;
    let mut first_of_version: BTreeMap<String, usize> = BTreeMap::new();
    let mut gone = vec![false; entries.len()];
    for i in order {
        if excess == 0 {
            break;
        }
        let version = entries[i].api_version.clone();
        let Some(&first) = first_of_version.get(&version) else {
            first_of_version.insert(version, i);
            continue;
        };
        let bucket = &mut entries[first];
        if bucket.manager != ANCIENT_CHANGES || !bucket.subresource.is_empty() {
            bucket.manager = ANCIENT_CHANGES.to_owned();
            bucket.subresource.clear();
        }
        let (fields, time) = (entries[i].fields.clone(), entries[i].time.clone());
        let bucket = &mut entries[first];
        if bucket.fields.union_with(&fields) {
            bucket.encoded = None;
        }
        bucket.time = time;
        gone[i] = true;
        excess -= 1;
    }
    let mut index = 0;
    entries.retain(|_| {
        index += 1;
        !gone[index - 1]
    });
    entries
}

/// Sets the `last-applied-configuration` annotation, when the object keeps
/// one, to the applied configuration (what server-side apply by kubectl
/// does, so that a later client-side apply sees it).
fn update_last_applied(object: &mut Value, config: &Value) {
    let present = object["metadata"]["annotations"][LAST_APPLIED].as_str().is_some_and(|s| !s.is_empty());
    if !present {
        return;
    }
    let mut applied = config.clone();
    if let Some(annotations) =
        applied.get_mut("metadata").and_then(|m| m.get_mut("annotations")).and_then(Value::as_object_mut)
    {
        annotations.shift_remove(LAST_APPLIED);
        if annotations.is_empty()
            && let Some(meta) = applied.get_mut("metadata").and_then(Value::as_object_mut)
        {
            meta.shift_remove("annotations");
        }
    }
    let text = format!("{}\n", sorted(&applied));
    object["metadata"]["annotations"][LAST_APPLIED] = Value::String(text);
}

/// `v` with object keys sorted, as Go encodes maps.
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let ordered: BTreeMap<&String, Value> = map.iter().map(|(k, v)| (k, sorted(v))).collect();
            Value::Object(ordered.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// A field an apply would take from another manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The other manager, as upstream prints it (`"kubectl-edit" using apps/v1`).
    pub manager: String,
    identifier: String,
    /// The field (`.spec.replicas`).
    pub path: String,
}

/// The conflicts of an apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflicts(pub Vec<Conflict>);

impl std::fmt::Display for Conflicts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let [only] = self.0.as_slice() {
            return write!(f, "Apply failed with 1 conflict: conflict with {}: {}", only.manager, only.path);
        }
        let mut lines = Vec::new();
        let mut current: Option<&str> = None;
        for c in &self.0 {
            if current != Some(&c.identifier) {
                lines.push(format!("conflicts with {}:", c.manager));
                current = Some(&c.identifier);
            }
            lines.push(format!("- {}", c.path));
        }
        write!(f, "Apply failed with {} conflicts: {}", self.0.len(), lines.join("\n"))
    }
}

#[cfg(test)]
#[path = "manager_tests.rs"]
mod tests;
