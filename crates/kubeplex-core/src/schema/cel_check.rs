//! Static checks of CRD validation rules when a CRD is created or updated,
//! and the runtime cost metering of their evaluation, after upstream's
//! `apiextensions-apiserver` (`pkg/apiserver/schema/cel/compilation.go`,
//! `pkg/apis/apiextensions/validation`) and cel-go's cost model.
//!
//! ```text
//!  schema node ─► decl_type ─► Ty (fields, max sizes as upstream's DeclType)
//!  parsed rule + Ty ─► check ─► (result type, worst-case cost) | cel-go style errors
//!  parsed rule ─► meter ─► same AST with `@kp_cost(weight, cond)` in every loop condition
//! ```
//!
//! `decl_type` mirrors `SchemaDeclType`: `maxItems`, `maxProperties` and
//! `maxLength` (×4, bytes per rune) bound lists, maps and strings; without
//! them a list holds as many items as fit in a 3 MiB request given the
//! items' minimum serialized size, a map likewise, a string 3 MiB − 2. At a
//! resource root only `apiVersion`, `kind`, `metadata.name` and
//! `metadata.generateName` are visible besides the declared properties.
//!
//! The estimator is an approximation of cel-go's `checker.Cost` (documented
//! in the crate's gaps): idents and selects cost 1, literals 0, list and
//! map literals 10 and 30, comprehensions `range × (condition + step)`,
//! equality and ordering `⌈0.1 × smaller size⌉`, `startsWith`/`endsWith`
//! `⌈0.1 × argument size⌉`, `contains` `⌈0.1 × size⌉ × ⌈0.1 × substring⌉`,
//! `matches` `⌈0.1 × (size + 1)⌉ × ⌈0.25 × regex size⌉`, `in` over a list
//! its size, string functions of the Kubernetes library `⌈0.1 × size⌉`,
//! list functions (`isSorted`, `sum`, `indexOf`, ...) the list's size, any
//! other call 1. Values of unknown type (`x-kubernetes-int-or-string`,
//! schemas without a type) are bounded by the request size, where cel-go
//! would take them as unbounded.
//!
//! Type checking is limited to what gives certain answers: a field selected
//! on an object whose schema does not declare it (and does not preserve
//! unknown fields) is `undefined field`, an identifier that is neither a
//! variable, a type name nor a function namespace is `undeclared reference`
//! (both located in the source as cel-go does: the `.` of a select, the
//! start of an identifier), and a result whose type is known not to be
//! `bool` (`string` for a `messageExpression`) is refused; any value of
//! unknown type passes.
//!
//! Runtime metering: `meter` wraps each comprehension's loop condition in
//! `@kp_cost(weight, condition)`, `weight` being the node count of one
//! iteration (condition and step, nested loops excluded as they charge
//! themselves); the function adds it to a thread-local counter and fails
//! the evaluation once the counter passes `PER_CALL_LIMIT`. The `cel`
//! crate has no cost tracking or cancellation of its own; this is the only
//! hook it offers (loops are the only work in CEL not linear in the object).

use std::cell::Cell;
use std::sync::Arc;

use kube_cel::cel::common::ast::{CallExpr, Expr, IdedExpr, LiteralValue, operators};
use kube_cel::cel::objects::Value as CelValue;
use kube_cel::cel::{ExecutionError, ResolveResult};
use serde_json::Value;

use super::{flag, items, properties, type_of};

/// Largest cost of one evaluation of one expression (upstream's `PerCallLimit`).
pub const PER_CALL_LIMIT: u64 = 1_000_000;
/// Cost budget of all rules on one object (`RuntimeCELCostBudget`).
pub const RUNTIME_COST_BUDGET: u64 = 10_000_000;
/// Largest estimated cost of one rule times its cardinality (`StaticEstimatedCostLimit`).
pub const STATIC_EXPRESSION_LIMIT: u64 = 10_000_000;
/// Largest estimated total cost of a CRD version's rules (`StaticEstimatedCRDCostLimit`).
pub const STATIC_CRD_LIMIT: u64 = 100_000_000;
/// `MaxRequestSizeBytes`.
const MAX_REQUEST: u64 = 3 * 1024 * 1024;
/// Longest string a request can hold (`estimateMaxStringLengthPerRequest`).
const UNBOUNDED_STRING: u64 = MAX_REQUEST - 2;
/// The name of the metering function `meter` inserts (not writable in CEL source).
pub const COST_FUNCTION: &str = "@kp_cost";
/// cel-go's text for a cancelled evaluation.
pub const COST_LIMIT_EXCEEDED: &str = "operation cancelled: actual cost limit exceeded";

/// The CEL type of a schema node or an expression, with its size bound
/// (string length, list or map entries).
#[derive(Clone, Debug)]
pub enum Ty {
    /// Unknown type: never refused; its size bound.
    Dyn(u64),
    Bool,
    Int,
    Uint,
    Double,
    Null,
    /// Durations, timestamps, types, library objects.
    Opaque,
    Str(u64),
    Bytes(u64),
    List(Box<Ty>, u64),
    Map(Box<Ty>, u64),
    /// Declared (escaped) properties; `true` when unknown fields are kept.
    Object(Arc<Vec<(String, Ty)>>, bool),
}

const DYN: Ty = Ty::Dyn(UNBOUNDED_STRING);

impl Ty {
    /// cel-go's size estimate: length, entries, 1 for scalars.
    fn size(&self) -> u64 {
        match self {
            Ty::Dyn(n) | Ty::Str(n) | Ty::Bytes(n) | Ty::List(_, n) | Ty::Map(_, n) => *n,
            _ => 1,
        }
    }

    /// A type known not to be `bool`.
    fn not_bool(&self) -> bool {
        !matches!(self, Ty::Dyn(_) | Ty::Bool)
    }

    /// A type known not to be `string`.
    fn not_string(&self) -> bool {
        !matches!(self, Ty::Dyn(_) | Ty::Str(_))
    }
}

/// The type of values of `schema` and their minimum serialized size, as
/// upstream's `SchemaDeclType`; `root` for a resource root.
pub fn decl_type(schema: &Value, root: bool) -> (Ty, u64) {
    decl(schema, root, 0)
}

fn decl(schema: &Value, root: bool, depth: usize) -> (Ty, u64) {
    if depth > 64 {
        return (DYN, 1);
    }
    let bound = |key: &str| schema.get(key).and_then(Value::as_i64).map(|v| v.max(0) as u64);
    if flag(schema, "x-kubernetes-int-or-string") {
        return (Ty::Dyn(bound("maxLength").map_or(UNBOUNDED_STRING, |m| m.saturating_mul(4))), 1);
    }
    let root = root || flag(schema, "x-kubernetes-embedded-resource");
    match type_of(schema) {
        "array" => match items(schema) {
            Some(item) => {
                let (ty, min) = decl(item, false, depth + 1);
                let max = bound("maxItems").unwrap_or((MAX_REQUEST - 2) / (min + 1));
                (Ty::List(Box::new(ty), max), 2)
            }
            None => (DYN, 2),
        },
        "object" => {
            if let Some(additional) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                let (ty, min) = decl(additional, false, depth + 1);
                let max = bound("maxProperties").unwrap_or((MAX_REQUEST - 2) / (min + 6));
                return (Ty::Map(Box::new(ty), max), 2);
            }
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let mut fields = Vec::new();
            let mut min = 2u64;
            for (name, prop) in properties(schema).into_iter().flatten() {
                let (ty, size) = decl(prop, false, depth + 1);
                if required.contains(&name.as_str()) && prop.get("default").is_none() {
                    min = min.saturating_add(name.len() as u64 + size + 4);
                }
                fields.push((super::cel::escape(name), ty));
            }
            if root {
                fields.retain(|(name, _)| !matches!(name.as_str(), "apiVersion" | "kind" | "metadata"));
                let meta = vec![
                    ("name".to_owned(), Ty::Str(UNBOUNDED_STRING)),
                    ("generateName".to_owned(), Ty::Str(UNBOUNDED_STRING)),
                ];
                fields.push(("apiVersion".to_owned(), Ty::Str(UNBOUNDED_STRING)));
                fields.push(("kind".to_owned(), Ty::Str(UNBOUNDED_STRING)));
                fields.push(("metadata".to_owned(), Ty::Object(Arc::new(meta), false)));
            }
            let open = flag(schema, "x-kubernetes-preserve-unknown-fields")
                || schema.get("additionalProperties") == Some(&Value::Bool(true));
            (Ty::Object(Arc::new(fields), open), min)
        }
        "string" => {
            let max = bound("maxLength").map(|m| m.saturating_mul(4));
            match schema.get("format").and_then(Value::as_str).unwrap_or("") {
                "byte" => (Ty::Bytes(bound("maxLength").unwrap_or(UNBOUNDED_STRING)), 2),
                // Timestamps and durations to upstream; plain strings to this
                // crate's runtime, so left unchecked.
                "date" | "date-time" | "duration" => (Ty::Dyn(32), 2),
                _ => {
                    let enum_max = schema
                        .get("enum")
                        .and_then(Value::as_array)
                        .map(|e| e.iter().filter_map(Value::as_str).map(|s| s.len() as u64).max().unwrap_or(0));
                    (Ty::Str(max.or(enum_max).unwrap_or(UNBOUNDED_STRING)), 2)
                }
            }
        }
        "boolean" => (Ty::Bool, 4),
        "integer" => (Ty::Int, 1),
        "number" => (Ty::Double, 1),
        _ => (DYN, 1),
    }
}

/// How many values a schema node with minimum serialized size `min_size`
/// may have in one object, when no bound is declared (`maxCardinality`).
pub fn unbounded_cardinality(min_size: u64) -> u64 {
    MAX_REQUEST / (min_size + 1)
}

/// `getCostErrorMessage`.
pub fn cost_error_message(name: &str, cost: u64, limit: u64) -> String {
    let factor = cost as f64 / limit as f64;
    let factor = if factor > 100.0 {
        "more than 100x".to_owned()
    } else if factor < 1.5 {
        format!("{factor:.6}x")
    } else {
        format!("{factor:.1}x")
    };
    format!(
        "{name} exceeds budget by factor of {factor} (try simplifying the rule, or adding maxItems, maxProperties, \
         and maxLength where arrays, maps, and strings are declared)"
    )
}

/// Checks one parsed expression (`source` its text) with `self` and
/// `oldSelf` of type `self_ty`: its result type and worst-case cost, or
/// cel-go style errors (`ERROR: <input>:1:5: undefined field 'nope'` with
/// the snippet), one a line.
pub fn check(expr: &IdedExpr, source: &str, self_ty: &Ty) -> Result<(Ty, u64), String> {
    let mut checker = Checker {
        scopes: vec![("self".into(), self_ty.clone()), ("oldSelf".into(), self_ty.clone())],
        ..Default::default()
    };
    let (ty, cost) = checker.visit(expr);
    if checker.problems.is_empty() {
        return Ok((ty, cost));
    }
    let tokens = ident_tokens(source);
    let mut located: Vec<(usize, String)> = checker
        .problems
        .iter()
        .map(|(name, nth, field)| {
            let offset = tokens
                .iter()
                .filter(|t| t.name == *name && t.after_dot == *field && !t.called)
                .nth(*nth)
                .map_or(0, |t| if *field { t.dot } else { t.start });
            let message = if *field {
                format!("undefined field '{name}'")
            } else {
                format!("undeclared reference to '{name}' (in container '')")
            };
            (offset, located_error(source, offset, &message))
        })
        .collect();
    located.sort_by_key(|(offset, _)| *offset);
    Err(located.into_iter().map(|(_, e)| e).collect::<Vec<_>>().join("\n"))
}

/// Identifiers CEL declares besides `self` and `oldSelf`: type names, and
/// namespaces of functions.
const DECLARED: &[&str] =
    &["int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type", "dyn", "google"];

/// Whether a checked rule's result may be a `bool` (else upstream's
/// `cel expression must evaluate to a bool`).
pub fn may_be_bool(ty: &Ty) -> bool {
    !ty.not_bool()
}

/// Whether a checked `messageExpression`'s result may be a string.
pub fn may_be_string(ty: &Ty) -> bool {
    !ty.not_string()
}

#[derive(Default)]
struct Checker {
    scopes: Vec<(String, Ty)>,
    /// Undefined fields (`true`) and undeclared identifiers (`false`): name
    /// and index among the selects (identifiers) of that name.
    problems: Vec<(String, usize, bool)>,
    /// Selects and identifiers seen so far, per name.
    seen: Vec<(String, bool, usize)>,
}

fn ceil_tenth(n: u64) -> u64 {
    n.div_ceil(10)
}

impl Checker {
    /// The index of this select (`field`) or identifier among those of its name.
    fn nth(&mut self, name: &str, field: bool) -> usize {
        match self.seen.iter_mut().find(|(n, f, _)| n == name && *f == field) {
            Some((_, _, n)) => {
                *n += 1;
                *n - 1
            }
            None => {
                self.seen.push((name.to_owned(), field, 1));
                0
            }
        }
    }

    fn ident(&mut self, name: &str, call_target: bool) -> Ty {
        let nth = self.nth(name, false);
        match self.scopes.iter().rev().find(|(n, _)| n == name) {
            Some((_, ty)) => ty.clone(),
            None => {
                if !call_target && !name.starts_with('@') && !DECLARED.contains(&name) {
                    self.problems.push((name.to_owned(), nth, false));
                }
                DYN
            }
        }
    }

    fn select(&mut self, operand: &Ty, field: &str) -> Ty {
        let nth = self.nth(field, true);
        match operand {
            Ty::Object(fields, open) => match fields.iter().find(|(f, _)| f == field) {
                Some((_, ty)) => ty.clone(),
                None => {
                    if !open {
                        self.problems.push((field.to_owned(), nth, true));
                    }
                    DYN
                }
            },
            Ty::Map(value, _) => (**value).clone(),
            _ => DYN,
        }
    }

    fn visit(&mut self, e: &IdedExpr) -> (Ty, u64) {
        match &e.expr {
            Expr::Literal(lit) => (
                match lit {
                    LiteralValue::Boolean(_) => Ty::Bool,
                    LiteralValue::Int(_) => Ty::Int,
                    LiteralValue::UInt(_) => Ty::Uint,
                    LiteralValue::Double(_) => Ty::Double,
                    LiteralValue::Null => Ty::Null,
                    LiteralValue::String(s) => Ty::Str(s.inner().chars().count() as u64),
                    LiteralValue::Bytes(b) => Ty::Bytes(b.inner().len() as u64),
                },
                0,
            ),
            Expr::Ident(name) => (self.ident(name, false), 1),
            Expr::Select(sel) => {
                let (ty, cost) = self.visit(&sel.operand);
                let field = self.select(&ty, &sel.field);
                (if sel.test { Ty::Bool } else { field }, cost.saturating_add(1))
            }
            Expr::List(list) => {
                let mut cost = 10u64;
                let mut elem: Option<Ty> = None;
                for item in &list.elements {
                    let (ty, c) = self.visit(item);
                    cost = cost.saturating_add(c);
                    elem = Some(match elem {
                        None => ty,
                        Some(prev) => merge(&prev, &ty),
                    });
                }
                (Ty::List(Box::new(elem.unwrap_or(DYN)), list.elements.len() as u64), cost)
            }
            Expr::Map(map) => {
                let mut cost = 30u64;
                for entry in &map.entries {
                    if let kube_cel::cel::common::ast::EntryExpr::MapEntry(m) = &entry.expr {
                        cost = cost.saturating_add(self.visit(&m.key).1).saturating_add(self.visit(&m.value).1);
                    }
                }
                (Ty::Map(Box::new(DYN), map.entries.len() as u64), cost)
            }
            Expr::Struct(_) => (DYN, 40),
            Expr::Comprehension(c) => {
                let (range, range_cost) = self.visit(&c.iter_range);
                let count = range.size();
                let (first, second) = match (&range, &c.iter_var2) {
                    (Ty::List(elem, _), None) => ((**elem).clone(), None),
                    (Ty::List(elem, _), Some(_)) => (Ty::Int, Some((**elem).clone())),
                    (Ty::Map(..), None) => (Ty::Str(0), None),
                    (Ty::Map(value, _), Some(_)) => (Ty::Str(0), Some((**value).clone())),
                    (_, second) => (DYN, second.as_ref().map(|_| DYN)),
                };
                let (accu, init_cost) = self.visit(&c.accu_init);
                let accu = match accu {
                    Ty::List(elem, _) => Ty::List(elem, count),
                    Ty::Map(value, _) => Ty::Map(value, count),
                    other => other,
                };
                let depth = self.scopes.len();
                self.scopes.push((c.accu_var.clone(), accu));
                self.scopes.push((c.iter_var.clone(), first));
                if let (Some(name), Some(ty)) = (&c.iter_var2, second) {
                    self.scopes.push((name.clone(), ty));
                }
                let cond_cost = self.visit(&c.loop_cond).1;
                let step_cost = self.visit(&c.loop_step).1;
                self.scopes.truncate(depth + 1);
                let (result, result_cost) = self.visit(&c.result);
                self.scopes.truncate(depth);
                let cost = range_cost
                    .saturating_add(init_cost)
                    .saturating_add(count.saturating_mul(cond_cost.saturating_add(step_cost)))
                    .saturating_add(result_cost);
                (result, cost)
            }
            Expr::Call(call) => self.call(call),
            Expr::Unspecified => (DYN, 0),
        }
    }

    fn call(&mut self, call: &CallExpr) -> (Ty, u64) {
        let target = call.target.as_ref().map(|t| match &t.expr {
            Expr::Ident(name) => (self.ident(name, true), 1),
            _ => self.visit(t),
        });
        let args: Vec<(Ty, u64)> = call.args.iter().map(|a| self.visit(a)).collect();
        let arg_cost = args.iter().fold(target.as_ref().map_or(0, |t| t.1), |s, a| s.saturating_add(a.1));
        let ty = |i: usize| args.get(i).map_or(DYN, |a| a.0.clone());
        let size = |i: usize| args.get(i).map_or(UNBOUNDED_STRING, |a| a.0.size());
        // The receiver: the target of a method, else the first argument.
        let (recv, recv_size, rest) = match &target {
            Some((t, _)) => (t.clone(), t.size(), 0),
            None => (ty(0), size(0), 1),
        };
        let (result, fn_cost) = match call.func_name.as_str() {
            operators::LOGICAL_AND | operators::LOGICAL_OR => return (Ty::Bool, arg_cost),
            operators::CONDITIONAL if args.len() == 3 => {
                return (merge(&args[1].0, &args[2].0), args[0].1.saturating_add(args[1].1.max(args[2].1)));
            }
            operators::LOGICAL_NOT | operators::NOT_STRICTLY_FALSE => (Ty::Bool, 1),
            operators::EQUALS
            | operators::NOT_EQUALS
            | operators::LESS
            | operators::LESS_EQUALS
            | operators::GREATER
            | operators::GREATER_EQUALS => (Ty::Bool, ceil_tenth(size(0).min(size(1))).max(1)),
            operators::IN => (
                Ty::Bool,
                match ty(1) {
                    Ty::List(_, n) | Ty::Dyn(n) => n.max(1),
                    _ => 1,
                },
            ),
            operators::ADD => match (ty(0), ty(1)) {
                (Ty::Str(a), Ty::Str(b)) => (Ty::Str(a.saturating_add(b)), ceil_tenth(a.saturating_add(b)).max(1)),
                (Ty::List(e, a), Ty::List(_, b)) => (Ty::List(e, a.saturating_add(b)), 1),
                (t @ (Ty::Int | Ty::Uint | Ty::Double | Ty::Opaque), _) => (t, 1),
                _ => (DYN, 1),
            },
            operators::SUBSTRACT | operators::MULTIPLY | operators::DIVIDE | operators::MODULO | operators::NEGATE => {
                match ty(0) {
                    t @ (Ty::Int | Ty::Uint | Ty::Double) => (t, 1),
                    _ => (DYN, 1),
                }
            }
            operators::INDEX | operators::OPT_INDEX => match ty(0) {
                Ty::List(e, _) | Ty::Map(e, _) if call.func_name == operators::INDEX => (*e, 1),
                _ => (DYN, 1),
            },
            "size" => (Ty::Int, 1),
            "contains" => (Ty::Bool, ceil_tenth(recv_size).max(1).saturating_mul(ceil_tenth(size(rest)).max(1))),
            "startsWith" | "endsWith" => (Ty::Bool, ceil_tenth(size(rest)).max(1)),
            "matches" | "find" | "findAll" => {
                let regex = ty(rest).size();
                let cost = ceil_tenth(recv_size.saturating_add(1)).saturating_mul(regex.div_ceil(4).max(1));
                let result = match call.func_name.as_str() {
                    "matches" => Ty::Bool,
                    "find" => Ty::Str(recv_size),
                    _ => Ty::List(Box::new(Ty::Str(recv_size)), recv_size),
                };
                (result, cost)
            }
            "lowerAscii" | "upperAscii" | "trim" | "replace" | "substring" | "charAt" | "reverse" | "quote"
            | "format" => (Ty::Str(recv_size), ceil_tenth(recv_size).max(1)),
            "split" => (Ty::List(Box::new(Ty::Str(recv_size)), recv_size), ceil_tenth(recv_size).max(1)),
            "join" => (Ty::Str(UNBOUNDED_STRING), recv_size.max(1)),
            "indexOf" | "lastIndexOf" => match recv {
                Ty::List(_, n) => (Ty::Int, n.max(1)),
                _ => (Ty::Int, ceil_tenth(recv_size).max(1)),
            },
            "isSorted" => (Ty::Bool, recv_size.max(1)),
            "sum" | "min" | "max" => match recv {
                Ty::List(e, n) => (*e, n.max(1)),
                _ => (DYN, recv_size.max(1)),
            },
            "url" | "ip" | "cidr" | "quantity" | "semver" => (Ty::Opaque, ceil_tenth(recv_size).max(1)),
            name if name.starts_with("is") && name.len() > 2 => (Ty::Bool, ceil_tenth(recv_size).max(1)),
            "int" => (Ty::Int, 1),
            "uint" => (Ty::Uint, 1),
            "double" => (Ty::Double, 1),
            "bool" => (Ty::Bool, 1),
            "string" => (Ty::Str(recv_size.max(32)), ceil_tenth(recv_size).max(1)),
            "bytes" => (Ty::Bytes(recv_size), ceil_tenth(recv_size).max(1)),
            "dyn" => (recv, 1),
            "type" | "duration" | "timestamp" => (Ty::Opaque, 1),
            _ => (DYN, 1),
        };
        (result, arg_cost.saturating_add(fn_cost))
    }
}

/// The type of either of two values (a conditional's branches).
fn merge(a: &Ty, b: &Ty) -> Ty {
    match (a, b) {
        (Ty::Bool, Ty::Bool) => Ty::Bool,
        (Ty::Int, Ty::Int) => Ty::Int,
        (Ty::Uint, Ty::Uint) => Ty::Uint,
        (Ty::Double, Ty::Double) => Ty::Double,
        (Ty::Str(x), Ty::Str(y)) => Ty::Str(*x.max(y)),
        (Ty::Bytes(x), Ty::Bytes(y)) => Ty::Bytes(*x.max(y)),
        (Ty::List(e, x), Ty::List(_, y)) => Ty::List(e.clone(), *x.max(y)),
        (Ty::Map(e, x), Ty::Map(_, y)) => Ty::Map(e.clone(), *x.max(y)),
        _ => Ty::Dyn(a.size().max(b.size())),
    }
}

/// An identifier token of a CEL source.
struct Token {
    name: String,
    /// Byte offset of the identifier.
    start: usize,
    /// Byte offset of the `.` before it, when it is selected.
    dot: usize,
    after_dot: bool,
    /// Followed by `(`: a function or method name.
    called: bool,
}

/// The identifier tokens of `source` in order, string literals skipped.
fn ident_tokens(source: &str) -> Vec<Token> {
    let bytes = source.as_bytes();
    let mut out = Vec::new();
    let mut last_dot: Option<usize> = None;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            q @ (b'\'' | b'"') => {
                let triple = bytes.get(i + 1) == Some(&q) && bytes.get(i + 2) == Some(&q);
                let raw = i > 0 && matches!(bytes[i - 1], b'r' | b'R');
                i += if triple { 3 } else { 1 };
                while i < bytes.len() {
                    if bytes[i] == b'\\' && !raw {
                        i += 2;
                        continue;
                    }
                    if bytes[i] == q && (!triple || (bytes.get(i + 1) == Some(&q) && bytes.get(i + 2) == Some(&q))) {
                        i += if triple { 3 } else { 1 };
                        break;
                    }
                    i += 1;
                }
                last_dot = None;
            }
            b'.' => {
                last_dot = Some(i);
                i += 1;
            }
            c if c.is_ascii_whitespace() => i += 1,
            c if c.is_ascii_digit() => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.') {
                    i += 1;
                }
                last_dot = None;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let mut j = i;
                while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                    j += 1;
                }
                let called = bytes.get(j) == Some(&b'(');
                let name = source[start..i].to_owned();
                out.push(Token { name, start, dot: last_dot.unwrap_or(start), after_dot: last_dot.is_some(), called });
                last_dot = None;
            }
            _ => {
                last_dot = None;
                i += 1;
            }
        }
    }
    out
}

/// cel-go's `Error.ToDisplayString` for an error at byte `offset`.
fn located_error(source: &str, offset: usize, message: &str) -> String {
    let before = source.get(..offset).unwrap_or("");
    let line_no = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    let line = source[line_start..].lines().next().unwrap_or("").replace('\t', " ");
    let prefix = &source[line_start..offset.max(line_start)];
    let column = prefix.chars().count();
    let mut indicator: String = prefix.chars().map(|c| if c.len_utf8() > 1 { '\u{ff0e}' } else { '.' }).collect();
    indicator.push(if source[offset..].chars().next().is_some_and(|c| c.len_utf8() > 1) { '\u{ff3e}' } else { '^' });
    format!("ERROR: <input>:{line_no}:{}: {message}\n | {line}\n | {indicator}", column + 1)
}

// ------------------------------------------------------------ runtime metering

thread_local! {
    /// Cost spent by the evaluation running on this thread.
    static SPENT: Cell<u64> = const { Cell::new(0) };
}

/// Starts metering an evaluation whose non-loop part costs `base`.
pub fn start_metering(base: u64) {
    SPENT.with(|s| s.set(base));
}

/// The cost spent since `start_metering`.
pub fn spent() -> u64 {
    SPENT.with(Cell::get)
}

/// The function `meter` calls in every loop condition: charges the
/// iteration's `weight`, fails the evaluation past `PER_CALL_LIMIT`, else
/// passes the condition through.
pub fn cost_function(weight: i64, cond: CelValue) -> ResolveResult {
    let spent = SPENT.with(|s| {
        let v = s.get().saturating_add(weight.max(0) as u64);
        s.set(v);
        v
    });
    if spent > PER_CALL_LIMIT {
        return Err(ExecutionError::function_error(COST_FUNCTION, COST_LIMIT_EXCEEDED));
    }
    Ok(cond)
}

/// Rewrites `expr` so that every comprehension charges its iteration cost
/// through `COST_FUNCTION`; gives the cost of the expression outside loops.
pub fn meter(expr: &mut IdedExpr) -> u64 {
    let base = weight(expr);
    insert_ticks(expr);
    base
}

/// Node cost of `expr`, counting nested comprehensions' range, init and
/// result but not their iterations (those charge themselves).
fn weight(e: &IdedExpr) -> u64 {
    match &e.expr {
        Expr::Literal(_) | Expr::Unspecified => 0,
        Expr::Ident(_) => 1,
        Expr::Select(s) => 1 + weight(&s.operand),
        Expr::Call(c) => 1 + c.target.as_deref().map_or(0, weight) + c.args.iter().map(weight).sum::<u64>(),
        Expr::List(l) => 10 + l.elements.iter().map(weight).sum::<u64>(),
        Expr::Map(m) => {
            30 + m
                .entries
                .iter()
                .map(|entry| match &entry.expr {
                    kube_cel::cel::common::ast::EntryExpr::MapEntry(m) => weight(&m.key) + weight(&m.value),
                    kube_cel::cel::common::ast::EntryExpr::StructField(f) => weight(&f.value),
                })
                .sum::<u64>()
        }
        Expr::Struct(_) => 40,
        Expr::Comprehension(c) => weight(&c.iter_range) + weight(&c.accu_init) + weight(&c.result),
    }
}

fn insert_ticks(e: &mut IdedExpr) {
    match &mut e.expr {
        Expr::Select(s) => insert_ticks(&mut s.operand),
        Expr::Call(c) => {
            if let Some(t) = c.target.as_deref_mut() {
                insert_ticks(t);
            }
            c.args.iter_mut().for_each(insert_ticks);
        }
        Expr::List(l) => l.elements.iter_mut().for_each(insert_ticks),
        Expr::Map(m) => {
            for entry in &mut m.entries {
                match &mut entry.expr {
                    kube_cel::cel::common::ast::EntryExpr::MapEntry(m) => {
                        insert_ticks(&mut m.key);
                        insert_ticks(&mut m.value);
                    }
                    kube_cel::cel::common::ast::EntryExpr::StructField(f) => insert_ticks(&mut f.value),
                }
            }
        }
        Expr::Comprehension(c) => {
            for part in [&mut c.iter_range, &mut c.accu_init, &mut c.loop_cond, &mut c.loop_step, &mut c.result] {
                insert_ticks(part);
            }
            let per_iteration = (weight(&c.loop_cond) + weight(&c.loop_step)).max(1);
            let cond = std::mem::take(&mut c.loop_cond);
            let weight_literal =
                IdedExpr { id: cond.id, expr: Expr::Literal(LiteralValue::Int((per_iteration as i64).into())) };
            c.loop_cond = IdedExpr {
                id: cond.id,
                expr: Expr::Call(CallExpr {
                    func_name: COST_FUNCTION.to_owned(),
                    target: None,
                    args: vec![weight_literal, cond],
                }),
            };
        }
        Expr::Literal(_) | Expr::Ident(_) | Expr::Struct(_) | Expr::Unspecified => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube_cel::cel::parser::Parser;
    use serde_json::json;

    fn cost(schema: &Value, rule: &str) -> Result<(Ty, u64), String> {
        let expr = Parser::new().parse(rule).map_err(|e| e.to_string())?;
        check(&expr, rule, &decl_type(schema, false).0)
    }

    #[test]
    fn undefined_fields_with_positions() {
        let schema =
            json!({"type": "object", "properties": {"a": {"type": "object", "properties": {"x": {"type": "string"}}}}});
        assert_eq!(
            cost(&schema, "self.nope").unwrap_err(),
            "ERROR: <input>:1:5: undefined field 'nope'\n | self.nope\n | ....^"
        );
        assert_eq!(
            cost(&schema, "self.a.x == 'a.x' && has(self.a.y)").unwrap_err(),
            "ERROR: <input>:1:32: undefined field 'y'\n | self.a.x == 'a.x' && has(self.a.y)\n | ...............................^"
        );
        assert!(cost(&schema, "self.a.x.startsWith('b') && self.a.x.size() < 3").is_ok());
        assert_eq!(
            cost(&schema, "self.a.x == 'a' || foo > 1").unwrap_err(),
            "ERROR: <input>:1:20: undeclared reference to 'foo' (in container '')\n | self.a.x == 'a' || foo > 1\n \
             | ...................^"
        );
        assert_eq!(
            cost(&schema, "self.b.x == 1 && self.a.b == 2").unwrap_err(),
            "ERROR: <input>:1:5: undefined field 'b'\n | self.b.x == 1 && self.a.b == 2\n | ....^\n\
             ERROR: <input>:1:24: undefined field 'b'\n | self.b.x == 1 && self.a.b == 2\n | .......................^"
        );
        for fine in ["[1, 2].all(x, x > 0 && type(x) == int)", "optional.none() == optional.none()", "1.5e3 > 0.0"] {
            assert!(cost(&schema, fine).is_ok(), "{fine}");
        }
        let open = json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true});
        assert!(cost(&open, "self.anything == 1").is_ok());
        let map = json!({"type": "object", "additionalProperties": {"type": "string"}});
        assert!(cost(&map, "self.anything == 'x'").is_ok());
        // Resource roots see apiVersion, kind and metadata.name only.
        let root = decl_type(&json!({"type": "object"}), true).0;
        let e = Parser::new().parse("self.metadata.name == 'a' && self.metadata.labels.x == 'b'").unwrap();
        assert!(check(&e, "", &root).unwrap_err().contains("undefined field 'labels'"));
    }

    #[test]
    fn result_types() {
        let schema = json!({"type": "object", "properties": {"s": {"type": "string"}, "b": {"type": "boolean"},
            "i": {"type": "integer"}, "d": {"x-kubernetes-int-or-string": true}}});
        for (rule, boolean) in [
            ("self.s", false),
            ("self.i + 1", false),
            ("1", false),
            ("self.b", true),
            ("self.d", true),
            ("self.i > 1 ? true : false", true),
            ("[1].all(x, x > 0)", true),
            ("[1].map(x, x)", false),
        ] {
            assert_eq!(may_be_bool(&cost(&schema, rule).expect(rule).0), boolean, "{rule}");
        }
        assert!(may_be_string(&cost(&schema, "'x' + self.s").unwrap().0));
        assert!(!may_be_string(&cost(&schema, "self.i").unwrap().0));
    }

    #[test]
    fn costs_from_schema_bounds() {
        let unbounded = json!({"type": "array", "items": {"type": "string"}});
        let bounded = json!({"type": "array", "maxItems": 10, "items": {"type": "string", "maxLength": 10}});
        let nested = "self.all(x, self.all(y, x == y))";
        assert!(cost(&unbounded, nested).unwrap().1 > STATIC_EXPRESSION_LIMIT * 100);
        assert!(cost(&bounded, nested).unwrap().1 < 10_000);
        let regex = "self.all(x, x.matches('^[a-z]*$'))";
        assert!(cost(&unbounded, regex).unwrap().1 > STATIC_EXPRESSION_LIMIT);
        assert!(cost(&bounded, regex).unwrap().1 < 1000);
        let object =
            json!({"type": "object", "properties": {"replicas": {"type": "integer"}, "min": {"type": "integer"}}});
        assert!(cost(&object, "self.min <= self.replicas").unwrap().1 < 10);
        assert_eq!(decl_type(&unbounded, false).0.size(), (MAX_REQUEST - 2) / 3);
    }

    #[test]
    fn messages() {
        assert_eq!(
            cost_error_message("estimated rule cost", 20_000_000, STATIC_EXPRESSION_LIMIT),
            "estimated rule cost exceeds budget by factor of 2.0x (try simplifying the rule, or adding maxItems, \
             maxProperties, and maxLength where arrays, maps, and strings are declared)"
        );
        assert!(cost_error_message("x", u64::MAX, 1).contains("factor of more than 100x"));
        assert!(cost_error_message("x", 11, 10).contains("factor of 1.100000x"));
    }

    #[test]
    fn metering_stops_loops() {
        let mut expr = Parser::new().parse("[1, 2, 3].all(x, [1, 2].exists(y, y == x))").unwrap();
        let base = meter(&mut expr);
        assert!(base > 0);
        let mut ctx = kube_cel::cel::Context::default();
        ctx.add_function(COST_FUNCTION, cost_function);
        start_metering(base);
        assert!(CelValue::resolve(&expr, &ctx).is_ok());
        let small = spent();
        assert!(small > base && small < 1000, "{small}");
        start_metering(PER_CALL_LIMIT);
        let err = CelValue::resolve(&expr, &ctx).unwrap_err();
        assert!(err.to_string().contains(COST_LIMIT_EXCEEDED), "{err}");
    }
}
