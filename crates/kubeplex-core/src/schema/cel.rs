//! CEL validation rules of CRD schemas (`x-kubernetes-validations`), as
//! upstream's `apiextensions-apiserver/pkg/apiserver/schema/cel` applies them,
//! built on the `kube-cel` crate (its parser and Kubernetes function library).
//!
//! ```text
//!  crd::served_resources ─► Rules::compile(schema)   once per CRD version, shared
//!                            (Arc<Rules> in CustomResource::rules)
//!  object create/update ─► Rules::validate(object, old) ─► Vec<FieldError>
//!  CRD create/update ─► compile_errors(schema, path) ─► `...rule: Invalid value: ...: compilation failed: ...`
//!                                                      `...rule: Forbidden: estimated rule cost exceeds budget ...`
//! ```
//!
//! Why a field on `CustomResource` rather than a cache keyed by the schema's
//! `Arc`: the registry rebuilds a `CustomResource` exactly when a CRD changes,
//! so compiling there ties the programs' lifetime to the version they belong
//! to, with no lookup or lock on the write path and no stale entries.
//!
//! Only the schema nodes whose subtree holds rules are kept; evaluation
//! walks the object along them. As upstream: rules see `self` (and `oldSelf`
//! on update); `null` values are not validated; a rule that references
//! `oldSelf` (a transition rule) runs only when the old object has a value at
//! that node, old values being correlated through object properties, map
//! keys and `x-kubernetes-list-type: map` items (by their map keys), never
//! through other lists; `optionalOldSelf: true` rules also run on create,
//! with `oldSelf` bound to `null` (upstream binds an optional). Failures give
//! `field.Invalid` (value omitted for objects and arrays), `Forbidden`,
//! `Required` or `Duplicate` per `reason`, at the node's path plus the rule's
//! `fieldPath`; the detail is the evaluated `messageExpression` (when it is a
//! non-empty one-line string), else `message`, else `failed rule: <rule>`.
//!
//! At CRD creation (`compile_errors`), rules are parsed, then checked
//! against the node's schema by `cel_check`: a field the schema does not
//! declare (`undefined field 'nope'`, with cel-go's position and snippet),
//! an undeclared identifier, a result known not to be a `bool` (a
//! `messageExpression` not a string) are `Invalid`; a rule whose estimated
//! cost times its cardinality (the product of the `maxItems`/`maxProperties`
//! above it, else the request-size bound) exceeds `StaticEstimatedCostLimit`
//! (10⁷), or rules whose sum exceeds `StaticEstimatedCRDCostLimit` (10⁸), are
//! `Forbidden` with upstream's messages. At runtime every comprehension's
//! loop condition is wrapped in a metering call (`cel_check::meter`), so an
//! evaluation past `PerCallLimit` (10⁶) is cancelled mid-loop, and an object
//! whose rules spend `RuntimeCELCostBudget` (10⁷) stops being validated, with
//! upstream's messages; the per-object work is a thread-local counter. As
//! upstream, per-rule cost errors of a version whose schema an update leaves
//! unchanged are not reported (`ratcheted_cost_error`).
//!
//! Known gaps: the cost estimator approximates cel-go's (see `cel_check`;
//! values of unknown type are bounded by the request size where cel-go
//! takes them as unbounded, so a few CRDs upstream refuses may pass, and
//! function costs of the Kubernetes library are coarser); runtime cost
//! counts evaluated nodes and loop iterations but not the size-proportional
//! cost of string functions, so a rule without loops is never cancelled
//! (its time is linear in the object, itself bounded by the request size);
//! type checking knows only field names, result types and identifiers (a
//! wrong operand type, e.g. `self.name > 1`, fails at runtime rather than at
//! creation); parse error texts are the `cel` crate's, after upstream's `compilation failed: `
//! prefix; `format: date-time` and `duration` strings are plain strings to
//! rules (and unchecked `dyn` to the type checker).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use kube_cel::KubeCelExt;
use kube_cel::cel::objects::{Key, Map as CelMap};
use kube_cel::cel::parser::{Expression, Parser};
use kube_cel::cel::{Context, Value as CelValue};
use serde_json::{Value, json};

use super::cel_check::{self, COST_LIMIT_EXCEEDED, PER_CALL_LIMIT, RUNTIME_COST_BUDGET};
use super::{go_number, items, join, properties, type_of};
use crate::names::{FieldError, go_quote};

/// Longest message a `messageExpression` may produce (upstream's
/// `MaxEvaluatedMessageExpressionSizeBytes`).
const MAX_MESSAGE_BYTES: usize = 5 * 1024;

/// The compiled rules of one CRD version's schema.
pub struct Rules {
    root: Node,
    /// The rule texts, for `Debug` and equality.
    sources: Vec<String>,
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rules").field("sources", &self.sources).finish()
    }
}

impl PartialEq for Rules {
    fn eq(&self, other: &Self) -> bool {
        self.sources == other.sources
    }
}

impl Eq for Rules {}

/// One rule, parsed once per CRD version, its loops metered
/// (`cel_check::meter`).
struct Compiled {
    spec: kube_cel::Rule,
    expr: Expression,
    /// Cost of `expr` outside its loops, charged before each evaluation.
    base_cost: u64,
    /// The rule references `oldSelf`.
    transition: bool,
    /// The metered `messageExpression`, with its base cost.
    message: Option<(Expression, u64)>,
}

fn compile_rule(raw: &Value) -> Result<Compiled, String> {
    let spec: kube_cel::Rule =
        serde_json::from_value(raw.clone()).map_err(|e| format!("invalid rule definition: {e}"))?;
    let mut expr =
        Parser::new().parse(&spec.rule).map_err(|e| format!("failed to compile CEL rule \"{}\": {e}", spec.rule))?;
    let transition = expr.references().has_variable("oldSelf");
    let base_cost = cel_check::meter(&mut expr);
    let message = match spec.message_expression.as_deref().filter(|m| !m.trim().is_empty()) {
        Some(source) => {
            let mut message = Parser::new().parse(source).map_err(|e| {
                format!("failed to compile messageExpression \"{source}\" for rule \"{}\": {e}", spec.rule)
            })?;
            let base = cel_check::meter(&mut message);
            Some((message, base))
        }
        None => None,
    };
    Ok(Compiled { spec, expr, base_cost, transition, message })
}

/// One schema node on the way to a rule.
struct Node {
    type_: String,
    rules: Vec<Result<Compiled, String>>,
    properties: Vec<(String, Node)>,
    additional: Option<Box<Node>>,
    items: Option<Box<Node>>,
    all_of: Vec<Node>,
    /// `x-kubernetes-map-keys` of a `x-kubernetes-list-type: map` list.
    list_map_keys: Option<Vec<String>>,
    /// Old values of this map's entries are correlated (`x-kubernetes-map-type`
    /// absent, `granular` or `atomic`).
    correlatable: bool,
}

impl Rules {
    /// Compiles every rule of `schema`; `None` when it has none.
    pub fn compile(schema: &Value) -> Option<Arc<Rules>> {
        let mut sources = Vec::new();
        let root = build(schema, &mut sources, 0)?;
        Some(Arc::new(Rules { root, sources }))
    }

    /// Evaluates the rules on `object` (with `old` on update), giving
    /// upstream's field errors.
    pub fn validate(&self, object: &Value, old: Option<&Value>) -> Vec<FieldError> {
        self.validate_with_budget(object, old, RUNTIME_COST_BUDGET)
    }

    /// `validate` with a cost budget for the whole object.
    fn validate_with_budget(&self, object: &Value, old: Option<&Value>, budget: u64) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let mut remaining = budget.min(i64::MAX as u64) as i64;
        BASE.with(|base| walk(&self.root, "", object, old, &base.borrow(), &mut errs, &mut remaining));
        errs
    }
}

thread_local! {
    /// A context with the Kubernetes CEL library and the cost meter, built
    /// once per thread.
    static BASE: RefCell<Context<'static>> = RefCell::new({
        let mut ctx = Context::default().with_all();
        ctx.add_function(cel_check::COST_FUNCTION, cel_check::cost_function);
        ctx
    });
}

/// Upstream's detail when an object's rules spent `RUNTIME_COST_BUDGET`.
const OUT_OF_BUDGET: &str =
    "validation failed due to running out of cost budget, no further validation rules will be run";

/// Runs a metered expression, charging `remaining`; `Err(detail)` when it
/// exceeded the per-call limit or the budget (evaluation must stop).
fn run_metered(
    expr: &Expression,
    base_cost: u64,
    scope: &Context<'_>,
    remaining: &mut i64,
    per_call: impl FnOnce() -> String,
    out_of_budget: &str,
) -> Result<kube_cel::cel::ResolveResult, String> {
    cel_check::start_metering(base_cost);
    let result = CelValue::resolve(expr, scope);
    let spent = cel_check::spent();
    if spent > i64::MAX as u64 || spent as i64 > *remaining {
        *remaining = -1;
        return Err(out_of_budget.to_owned());
    }
    *remaining -= spent as i64;
    if spent > PER_CALL_LIMIT {
        *remaining = -1;
        return Err(per_call());
    }
    Ok(result)
}

/// Builds the node for `schema`, `None` when no rule is at or below it.
fn build(schema: &Value, sources: &mut Vec<String>, depth: usize) -> Option<Node> {
    if depth > 64 {
        return None;
    }
    let raw = schema.get("x-kubernetes-validations").and_then(Value::as_array).filter(|r| !r.is_empty());
    let rules = match raw {
        Some(raw) => {
            sources.extend(raw.iter().map(|r| r["rule"].as_str().unwrap_or("").to_owned()));
            raw.iter().map(compile_rule).collect()
        }
        None => Vec::new(),
    };
    let child = |s: &Value, sources: &mut Vec<String>| build(s, sources, depth + 1).map(Box::new);
    let properties: Vec<(String, Node)> = properties(schema)
        .into_iter()
        .flatten()
        .filter_map(|(k, s)| build(s, sources, depth + 1).map(|n| (k.clone(), n)))
        .collect();
    let additional = schema.get("additionalProperties").filter(|a| a.is_object()).and_then(|s| child(s, sources));
    let items = items(schema).and_then(|s| child(s, sources));
    let all_of: Vec<Node> = schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| build(s, sources, depth + 1))
        .collect();
    if rules.is_empty() && properties.is_empty() && additional.is_none() && items.is_none() && all_of.is_empty() {
        return None;
    }
    let list_map_keys = (schema.get("x-kubernetes-list-type").and_then(Value::as_str) == Some("map")).then(|| {
        schema
            .get("x-kubernetes-list-map-keys")
            .and_then(Value::as_array)
            .map(|keys| keys.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default()
    });
    let correlatable =
        matches!(schema.get("x-kubernetes-map-type").and_then(Value::as_str), None | Some("granular" | "atomic"));
    Some(Node {
        type_: type_of(schema).to_owned(),
        rules,
        properties,
        additional,
        items,
        all_of,
        list_map_keys,
        correlatable,
    })
}

fn walk(
    node: &Node,
    path: &str,
    obj: &Value,
    old: Option<&Value>,
    base: &Context<'_>,
    errs: &mut Vec<FieldError>,
    remaining: &mut i64,
) {
    if obj.is_null() || *remaining < 0 {
        return;
    }
    let old = old.filter(|o| !o.is_null());
    if !node.rules.is_empty() {
        evaluate(node, path, obj, old, base, errs, remaining);
    }
    for branch in &node.all_of {
        walk(branch, path, obj, old, base, errs, remaining);
    }
    match obj {
        Value::Object(map) => {
            let old_map = old.and_then(Value::as_object).filter(|_| node.correlatable);
            for (key, value) in map {
                let old_value = old_map.and_then(|m| m.get(key));
                if let Some((_, child)) = node.properties.iter().find(|(k, _)| k == key) {
                    walk(child, &join(path, key), value, old_value, base, errs, remaining);
                } else if let Some(child) = &node.additional {
                    let at = format!("{}[{key}]", display_path(path));
                    walk(child, &at, value, old_value, base, errs, remaining);
                }
            }
        }
        Value::Array(list) => {
            if let Some(child) = &node.items {
                let old_list = old.and_then(Value::as_array);
                for (i, item) in list.iter().enumerate() {
                    let old_item = match (&node.list_map_keys, old_list) {
                        (Some(keys), Some(old_list)) => old_list.iter().find(|o| same_keys(keys, o, item)),
                        _ => None,
                    };
                    let at = format!("{}[{i}]", display_path(path));
                    walk(child, &at, item, old_item, base, errs, remaining);
                }
            }
        }
        _ => {}
    }
}

/// Two items of a map list with equal values for every map key.
fn same_keys(keys: &[String], a: &Value, b: &Value) -> bool {
    keys.iter().all(|k| a.get(k) == b.get(k))
}

/// A path as upstream prints it; the root (a nil path) is `<nil>`.
fn display_path(path: &str) -> &str {
    if path.is_empty() { "<nil>" } else { path }
}

fn evaluate(
    node: &Node,
    path: &str,
    obj: &Value,
    old: Option<&Value>,
    base: &Context<'_>,
    errs: &mut Vec<FieldError>,
    remaining: &mut i64,
) {
    let type_quoted = go_quote(&node.type_);
    if *remaining <= 0 {
        errs.push(FieldError::invalid_rendered(display_path(path), &type_quoted, OUT_OF_BUDGET));
        *remaining = -1;
        return;
    }
    let mut ctx = base.new_inner_scope();
    ctx.add_variable_from_value("self", to_cel(obj));
    if let Some(old) = old {
        ctx.add_variable_from_value("oldSelf", to_cel(old));
    }
    for rule in &node.rules {
        let compiled = match rule {
            Ok(compiled) => compiled,
            Err(e) => {
                errs.push(FieldError::invalid_rendered(
                    display_path(path),
                    &type_quoted,
                    &format!("rule compile error: {e}"),
                ));
                continue;
            }
        };
        let spec = &compiled.spec;
        let optional_old_self = spec.optional_old_self == Some(true);
        let null_scope;
        let scope: &Context<'_> = if compiled.transition && old.is_none() {
            if !optional_old_self {
                continue;
            }
            null_scope = {
                let mut s = ctx.new_inner_scope();
                s.add_variable_from_value("oldSelf", CelValue::Null);
                s
            };
            &null_scope
        } else {
            &ctx
        };
        let per_call = || {
            format!(
                "'{COST_LIMIT_EXCEEDED}': no further validation rules will be run due to call cost exceeds limit \
                 for rule: {}",
                rule_error_string(spec)
            )
        };
        let outcome = match run_metered(&compiled.expr, compiled.base_cost, scope, remaining, per_call, OUT_OF_BUDGET) {
            Ok(outcome) => outcome,
            Err(detail) => {
                errs.push(FieldError::invalid_rendered(display_path(path), &type_quoted, &detail));
                return;
            }
        };
        match outcome {
            Ok(CelValue::Bool(true)) => continue,
            Ok(CelValue::Bool(false)) => {}
            Ok(_) => {
                let detail = format!("rule did not evaluate to a bool evaluating rule: {}", rule_error_string(spec));
                errs.push(FieldError::invalid_rendered(display_path(path), &type_quoted, &detail));
                continue;
            }
            Err(e) => {
                let detail = format!("{e} evaluating rule: {}", rule_error_string(spec));
                errs.push(FieldError::invalid_rendered(display_path(path), &type_quoted, &detail));
                continue;
            }
        }
        let field = match spec.field_path.as_deref().map(normalize_field_path).filter(|p| !p.is_empty()) {
            Some(relative) => join(path, &relative),
            None => display_path(path).to_owned(),
        };
        let mut detail = None;
        if let Some((message, message_base)) = &compiled.message {
            let source = spec.message_expression.as_deref().unwrap_or("");
            let per_call = || {
                format!(
                    "no further validation rules will be run due to call cost exceeds limit for messageExpression: {}",
                    go_quote(source)
                )
            };
            let out_of_budget = "messageExpression evaluation failed due to running out of cost budget, no further \
                                 validation rules will be run";
            match run_metered(message, *message_base, scope, remaining, per_call, out_of_budget) {
                Ok(Ok(CelValue::String(s))) => {
                    let s = s.trim();
                    if !s.is_empty() && !s.contains('\n') && s.len() <= MAX_MESSAGE_BYTES {
                        detail = Some(s.to_owned());
                    }
                }
                Ok(_) => {}
                Err(limit) => {
                    errs.push(FieldError::invalid_rendered(&field, &type_quoted, &limit));
                    return;
                }
            }
        }
        let detail = detail.unwrap_or_else(|| rule_message_or_default(spec));
        let rendered = match obj {
            Value::Object(_) | Value::Array(_) => None,
            Value::String(s) => Some(go_quote(s)),
            other => Some(go_number(other)),
        };
        errs.push(field_error(&field, rendered.as_deref(), &detail, spec.reason.as_deref()));
    }
}

/// `fieldErrorForReason`.
fn field_error(field: &str, rendered: Option<&str>, detail: &str, reason: Option<&str>) -> FieldError {
    let with_value = |word: &str| match rendered {
        Some(v) => format!("{word}: {v}"),
        None => word.to_owned(),
    };
    match reason {
        Some("FieldValueForbidden") => FieldError::forbidden(field, detail),
        Some("FieldValueRequired") => FieldError::required(field, detail),
        Some("FieldValueDuplicate") => {
            FieldError { reason: "FieldValueDuplicate", field: field.to_owned(), body: with_value("Duplicate value") }
        }
        _ => {
            let head = with_value("Invalid value");
            let body = if detail.is_empty() { head } else { format!("{head}: {detail}") };
            FieldError { reason: "FieldValueInvalid", field: field.to_owned(), body }
        }
    }
}

/// `ruleMessageOrDefault`.
fn rule_message_or_default(rule: &kube_cel::Rule) -> String {
    match rule.message.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => m.to_owned(),
        None => format!("failed rule: {}", rule.rule.trim()),
    }
}

/// `ruleErrorString`.
fn rule_error_string(rule: &kube_cel::Rule) -> String {
    match rule.message.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => m.to_owned(),
        None => rule.rule.trim().to_owned(),
    }
}

/// A rule's `fieldPath` (`.spec.a`, `.m['k.x']`) as a relative field path
/// (`spec.a`, `m[k.x]`).
fn normalize_field_path(field_path: &str) -> String {
    let mut out = String::new();
    let mut rest = field_path.trim();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&r[..end]);
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix("['") {
            let end = r.find("']").unwrap_or(r.len());
            out.push_str(&format!("[{}]", &r[..end]));
            rest = r.get(end + 2..).unwrap_or("");
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').unwrap_or(r.len());
            out.push_str(&format!("[{}]", &r[..end]));
            rest = r.get(end + 1..).unwrap_or("");
        } else {
            out.push_str(rest);
            break;
        }
    }
    out
}

/// CEL's reserved words: property names must be escaped from them, and
/// they cannot name a variable.
pub const RESERVED: &[&str] = &[
    "true",
    "false",
    "null",
    "in",
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
    "while",
];

/// Upstream's property-name escaping: `__` → `__underscores__`, `.` →
/// `__dot__`, `-` → `__dash__`, `/` → `__slash__`, keywords → `__kw__`.
pub(super) fn escape(name: &str) -> String {
    if RESERVED.contains(&name) {
        return format!("__{name}__");
    }
    if !name.contains(['_', '.', '-', '/']) {
        return name.to_owned();
    }
    name.replace("__", "__underscores__").replace('.', "__dot__").replace('-', "__dash__").replace('/', "__slash__")
}

/// A JSON value as a CEL value.
fn to_cel(value: &Value) -> CelValue {
    match value {
        Value::Null => CelValue::Null,
        Value::Bool(b) => CelValue::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => CelValue::Int(i),
            (None, Some(u)) => CelValue::UInt(u),
            _ => CelValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => CelValue::String(Arc::new(s.clone())),
        Value::Array(list) => CelValue::List(Arc::new(list.iter().map(to_cel).collect())),
        Value::Object(map) => {
            let map: HashMap<Key, CelValue> =
                map.iter().map(|(k, v)| (Key::String(Arc::new(escape(k))), to_cel(v))).collect();
            CelValue::Map(CelMap { map: Arc::new(map) })
        }
    }
}

/// A rule of `x-kubernetes-validations` refused when a CRD is created or
/// updated: it does not compile or type-check (`Invalid`), or costs too much
/// (`Forbidden`).
#[derive(Clone, Debug, PartialEq)]
pub struct CompileError {
    /// `<schema path>.x-kubernetes-validations[i].rule` (or `.messageExpression`),
    /// or the schema path itself for the CRD's total cost.
    pub field: String,
    /// The rule as upstream's internal `ValidationRule` marshals (Go field
    /// order, names capitalised), for the error's value (unused when forbidden).
    pub rule: Value,
    /// `compilation failed: ...`, or the cost message.
    pub detail: String,
    /// `field.Forbidden` (cost limits) rather than `field.Invalid`.
    pub forbidden: bool,
}

/// Every rule of `schema` (at `path`) that does not compile, does not
/// type-check, or exceeds upstream's cost limits, in upstream's order (the
/// CRD-wide total last).
pub fn compile_errors(schema: &Value, path: &str) -> Vec<CompileError> {
    let mut out = Vec::new();
    let mut total = TotalCost::default();
    collect_errors(schema, path, Some((true, Some(1))), &mut out, &mut total, 0);
    if total.sum > cel_check::STATIC_CRD_LIMIT {
        for (field, _) in &total.most_expensive {
            let detail = "contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema";
            out.push(CompileError {
                field: field.clone(),
                rule: Value::Null,
                detail: detail.to_owned(),
                forbidden: true,
            });
        }
        let detail = cel_check::cost_error_message(
            "x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema",
            total.sum,
            cel_check::STATIC_CRD_LIMIT,
        );
        out.push(CompileError { field: path.to_owned(), rule: Value::Null, detail, forbidden: true });
    }
    out
}

/// On a CRD update, whether an error of `compile_errors` (its `field` and
/// rendered `body`) is a per-expression cost error of a version whose schema
/// the update leaves unchanged: upstream does not report those
/// (`suppressPerExpressionCost`), so rules accepted before keep working.
pub fn ratcheted_cost_error(field: &str, body: &str, new: &Value, old: &Value) -> bool {
    if !body.starts_with("Forbidden: estimated rule cost exceeds budget")
        && !body.starts_with("Forbidden: estimated messageExpression cost exceeds budget")
    {
        return false;
    }
    let Some(index) = field
        .strip_prefix("spec.versions[")
        .and_then(|rest| rest.split_once("].schema.openAPIV3Schema"))
        .and_then(|(i, _)| i.parse::<usize>().ok())
    else {
        return false;
    };
    let versions = |crd: &Value| crd.pointer("/spec/versions").and_then(Value::as_array).cloned().unwrap_or_default();
    let Some(version) = versions(new).get(index).cloned() else {
        return false;
    };
    let schema = version.pointer("/schema/openAPIV3Schema");
    versions(old).iter().any(|v| v.get("name") == version.get("name") && v.pointer("/schema/openAPIV3Schema") == schema)
}

/// `TotalCost`: the sum of a schema's rule costs and its (up to 4) most
/// expensive rules costing at least 1% of the CRD limit.
#[derive(Default)]
struct TotalCost {
    sum: u64,
    most_expensive: Vec<(String, u64)>,
}

impl TotalCost {
    fn observe(&mut self, field: &str, cost: u64) {
        self.sum = self.sum.saturating_add(cost);
        if cost < cel_check::STATIC_CRD_LIMIT / 100 {
            return;
        }
        self.most_expensive.push((field.to_owned(), cost));
        self.most_expensive.sort_by_key(|e| std::cmp::Reverse(e.1));
        self.most_expensive.truncate(4);
    }
}

/// By how much a node multiplies the number of values of its children
/// (`extractMaxElements`); `None` when unbounded.
fn max_elements(schema: &Value) -> Option<u64> {
    let bound = |key: &str| schema.get(key).and_then(Value::as_i64).map(|v| v.max(0) as u64);
    match type_of(schema) {
        "object" if schema.get("additionalProperties").is_some_and(|a| a.is_object() || a == &Value::Bool(true)) => {
            bound("maxProperties")
        }
        "array" => bound("maxItems"),
        _ => Some(1),
    }
}

/// `typed`: whether the node is a resource root and how many values it may
/// have (`None` unbounded), for type and cost checks; `None` under
/// `allOf`/`anyOf`/`oneOf`/`not`, where upstream has no CEL context and
/// rules are only parsed. Children first, as upstream reports.
fn collect_errors(
    schema: &Value,
    path: &str,
    typed: Option<(bool, Option<u64>)>,
    out: &mut Vec<CompileError>,
    total: &mut TotalCost,
    depth: usize,
) {
    if depth > 64 || !schema.is_object() {
        return;
    }
    let child = typed.map(|(_, card)| (false, card.zip(max_elements(schema)).map(|(c, m)| c.saturating_mul(m))));
    if let Some(sub) = schema.get("additionalProperties").filter(|a| a.is_object()) {
        collect_errors(sub, &format!("{path}.additionalProperties"), child, out, total, depth + 1);
    }
    for (key, sub) in properties(schema).into_iter().flatten() {
        collect_errors(sub, &format!("{path}.properties[{key}]"), child, out, total, depth + 1);
    }
    if let Some(sub) = schema.get("not") {
        collect_errors(sub, &format!("{path}.not"), None, out, total, depth + 1);
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        for (i, sub) in schema.get(key).and_then(Value::as_array).into_iter().flatten().enumerate() {
            collect_errors(sub, &format!("{path}.{key}[{i}]"), None, out, total, depth + 1);
        }
    }
    if let Some(sub) = items(schema) {
        collect_errors(sub, &format!("{path}.items"), child, out, total, depth + 1);
    }
    if let Some(raw) = schema.get("x-kubernetes-validations").and_then(Value::as_array).filter(|r| !r.is_empty()) {
        let (root, cardinality) = typed.unwrap_or((false, None));
        let (self_ty, min_size) = cel_check::decl_type(schema, root);
        let cardinality = cardinality.unwrap_or_else(|| cel_check::unbounded_cardinality(min_size));
        for (i, rule) in raw.iter().enumerate() {
            let text = |k: &str| rule.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            let go_rule = json!({
                "Rule": text("rule"), "Message": text("message"), "MessageExpression": text("messageExpression"),
                "Reason": rule.get("reason").cloned().unwrap_or(Value::Null), "FieldPath": text("fieldPath"),
                "OptionalOldSelf": rule.get("optionalOldSelf").cloned().unwrap_or(Value::Null),
            });
            let at = format!("{path}.x-kubernetes-validations[{i}]");
            let invalid =
                |field: String, detail: String| CompileError { field, rule: go_rule.clone(), detail, forbidden: false };
            let forbidden =
                |field: String, detail: String| CompileError { field, rule: Value::Null, detail, forbidden: true };
            let source = text("rule");
            match Parser::new().parse(&source) {
                Err(e) => out.push(invalid(format!("{at}.rule"), format!("compilation failed: {e}"))),
                Ok(_) if typed.is_none() => {}
                Ok(expr) => match cel_check::check(&expr, &source, &self_ty) {
                    Err(e) => out.push(invalid(format!("{at}.rule"), format!("compilation failed: {e}"))),
                    Ok((ty, _)) if !cel_check::may_be_bool(&ty) => {
                        out.push(invalid(format!("{at}.rule"), "cel expression must evaluate to a bool".to_owned()));
                    }
                    Ok((_, cost)) => {
                        let cost = if cost == 0 { 0 } else { cost.saturating_mul(cardinality) };
                        let field = format!("{at}.rule");
                        if cost > cel_check::STATIC_EXPRESSION_LIMIT {
                            let limit = cel_check::STATIC_EXPRESSION_LIMIT;
                            let detail = cel_check::cost_error_message("estimated rule cost", cost, limit);
                            out.push(forbidden(field.clone(), detail));
                        }
                        total.observe(&field, cost);
                    }
                },
            }
            let message_expression = text("messageExpression");
            if message_expression.trim().is_empty() {
                continue;
            }
            let field = format!("{at}.messageExpression");
            match Parser::new().parse(&message_expression) {
                Err(e) => out.push(invalid(field, format!("messageExpression compilation failed: {e}"))),
                Ok(_) if typed.is_none() => {}
                Ok(expr) => match cel_check::check(&expr, &message_expression, &self_ty) {
                    Err(e) => out.push(invalid(field, format!("messageExpression compilation failed: {e}"))),
                    Ok((ty, _)) if !cel_check::may_be_string(&ty) => {
                        out.push(invalid(field, "messageExpression must evaluate to a string".to_owned()));
                    }
                    Ok((_, cost)) => {
                        if cost > cel_check::STATIC_EXPRESSION_LIMIT {
                            let limit = cel_check::STATIC_EXPRESSION_LIMIT;
                            let detail = cel_check::cost_error_message("estimated messageExpression cost", cost, limit);
                            out.push(forbidden(field.clone(), detail));
                        }
                        total.observe(&field, cost);
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Value {
        json!({"type": "object", "properties": {"spec": {"type": "object",
        "x-kubernetes-validations": [
            {"rule": "self.minReplicas <= self.replicas", "message": "replicas must be at least minReplicas"},
            {"rule": "self.replicas < 100", "messageExpression": "'replicas is ' + string(self.replicas)"},
            {"rule": "!has(self.forbidden)", "reason": "FieldValueForbidden", "fieldPath": ".forbidden"}
        ],
        "properties": {
            "replicas": {"type": "integer"}, "minReplicas": {"type": "integer"},
            "forbidden": {"type": "string"},
            "name": {"type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "Value is immutable"}]},
            "items": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["k"],
                      "items": {"type": "object", "properties": {"k": {"type": "string"}, "v": {"type": "integer",
                          "x-kubernetes-validations": [{"rule": "self >= oldSelf"}]}}}}
        }}}})
    }

    fn msgs(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn rules_messages_and_reasons() {
        let rules = Rules::compile(&schema()).expect("rules");
        let ok = json!({"spec": {"replicas": 3, "minReplicas": 1, "name": "a"}});
        assert!(rules.validate(&ok, None).is_empty());
        let bad = json!({"spec": {"replicas": 100, "minReplicas": 101, "forbidden": "x"}});
        assert_eq!(
            msgs(&rules.validate(&bad, None)),
            [
                "spec: Invalid value: replicas must be at least minReplicas",
                "spec: Invalid value: replicas is 100",
                "spec.forbidden: Forbidden: failed rule: !has(self.forbidden)",
            ]
        );
        assert!(Rules::compile(&json!({"type": "object"})).is_none());
    }

    #[test]
    fn transition_rules() {
        let rules = Rules::compile(&schema()).expect("rules");
        let old = json!({"spec": {"replicas": 1, "minReplicas": 1, "name": "a", "items": [{"k": "x", "v": 5}]}});
        let mut new = old.clone();
        new["spec"]["name"] = json!("b");
        new["spec"]["items"] = json!([{"k": "y", "v": 1}, {"k": "x", "v": 4}]);
        assert_eq!(
            msgs(&rules.validate(&new, Some(&old))),
            [
                r#"spec.name: Invalid value: "b": Value is immutable"#,
                "spec.items[1].v: Invalid value: 4: failed rule: self >= oldSelf"
            ]
        );
        // Without an old value, transition rules do not run.
        assert!(rules.validate(&new, None).is_empty());
    }

    #[test]
    fn compile_errors_at_crd_creation() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
            "x-kubernetes-validations": [{"rule": "self.a <= "}]}}});
        let errs = compile_errors(&schema, "spec.versions[0].schema.openAPIV3Schema");
        assert_eq!(errs.len(), 1);
        assert_eq!(
            errs[0].field,
            "spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule"
        );
        assert!(errs[0].detail.starts_with("compilation failed: "), "{}", errs[0].detail);
        println!("{}", errs[0].detail);
        assert_eq!(errs[0].rule["Rule"], "self.a <= ");
        assert!(compile_errors(&super::super::cel::tests::schema(), "x").is_empty());
    }

    fn crd_errors(schema: &Value) -> Vec<String> {
        compile_errors(schema, "s")
            .iter()
            .map(|e| format!("{} {}: {}", if e.forbidden { "Forbidden" } else { "Invalid" }, e.field, e.detail))
            .collect()
    }

    #[test]
    fn cost_limits_at_crd_creation() {
        let strings = |bounds: Value| {
            let mut list = json!({"type": "array", "items": {"type": "string"},
                "x-kubernetes-validations": [{"rule": "self.all(x, self.exists(y, x == y))"}]});
            list.as_object_mut().unwrap().extend(bounds.as_object().unwrap().clone());
            json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {"l": list}}}})
        };
        let errs = crd_errors(&strings(json!({})));
        assert_eq!(
            errs,
            [
                "Forbidden s.properties[spec].properties[l].x-kubernetes-validations[0].rule: estimated rule cost exceeds \
              budget by factor of more than 100x (try simplifying the rule, or adding maxItems, maxProperties, and \
              maxLength where arrays, maps, and strings are declared)",
                "Forbidden s.properties[spec].properties[l].x-kubernetes-validations[0].rule: contributed to estimated \
              rule cost total exceeding cost limit for entire OpenAPIv3 schema",
                "Forbidden s: x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema exceeds \
              budget by factor of more than 100x (try simplifying the rule, or adding maxItems, maxProperties, and \
              maxLength where arrays, maps, and strings are declared)"
            ]
        );
        // Bounding the list is not enough: comparing unbounded strings costs.
        assert_eq!(crd_errors(&strings(json!({"maxItems": 100}))).len(), 3);
        let bounded = strings(json!({"maxItems": 100, "items": {"type": "string", "maxLength": 64}}));
        assert!(crd_errors(&bounded).is_empty(), "{:?}", crd_errors(&bounded));
        // A cheap rule evaluated once per item of an unbounded list of
        // unbounded strings is refused for its cardinality.
        let per_item = json!({"type": "object", "properties": {"l": {"type": "array", "items": {"type": "string",
            "x-kubernetes-validations": [{"rule": "self.startsWith('a') && self.contains('b')"}]}}}});
        assert!(crd_errors(&per_item)[0].contains("estimated rule cost exceeds budget"), "{:?}", crd_errors(&per_item));
        // The ordinary rules of the tests above pass.
        assert!(crd_errors(&schema()).is_empty());
        // Many rules under the per-rule limit can exceed the CRD's total.
        let rule = json!({"rule": "self.all(x, x.startsWith('a'))"});
        let list = json!({"type": "array", "items": {"type": "string"}, "x-kubernetes-validations": [rule]});
        let one = json!({"type": "object", "properties": {"p": list}});
        assert!(crd_errors(&one).is_empty(), "{:?}", crd_errors(&one));
        let props: serde_json::Map<String, Value> = (0..25).map(|i| (format!("p{i:02}"), list.clone())).collect();
        let errs = crd_errors(&json!({"type": "object", "properties": props}));
        assert_eq!(errs.len(), 5, "{errs:?}");
        assert_eq!(
            errs[0],
            "Forbidden s.properties[p00].x-kubernetes-validations[0].rule: contributed to estimated rule cost total \
             exceeding cost limit for entire OpenAPIv3 schema"
        );
        assert!(
            errs[4].starts_with(
                "Forbidden s: x-kubernetes-validations estimated rule cost total for entire \
                 OpenAPIv3 schema exceeds budget by factor of 1."
            ),
            "{errs:?}"
        );
    }

    #[test]
    fn cost_errors_ratchet_on_unchanged_schemas() {
        let schema = json!({"type": "array", "items": {"type": "string"}});
        let crd = |s: &Value| json!({"spec": {"versions": [{"name": "v1", "schema": {"openAPIV3Schema": s}}]}});
        let field = "spec.versions[0].schema.openAPIV3Schema.x-kubernetes-validations[0].rule";
        let body = "Forbidden: estimated rule cost exceeds budget by factor of more than 100x";
        assert!(ratcheted_cost_error(field, body, &crd(&schema), &crd(&schema)));
        assert!(!ratcheted_cost_error(field, body, &crd(&schema), &crd(&json!({"type": "array"}))));
        assert!(!ratcheted_cost_error(
            field,
            "Forbidden: x-kubernetes-validations estimated",
            &crd(&schema),
            &crd(&schema)
        ));
    }

    #[test]
    fn type_errors_at_crd_creation() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
        "properties": {"a": {"type": "integer"}, "s": {"type": "string"}},
        "x-kubernetes-validations": [
            {"rule": "self.nope > 1"}, {"rule": "self.s"}, {"rule": "self.a > 1", "messageExpression": "self.a"},
            {"rule": "has(self.s) && self.s.size() > self.a"}
        ]}}});
        assert_eq!(
            crd_errors(&schema),
            [
                "Invalid s.properties[spec].x-kubernetes-validations[0].rule: compilation failed: ERROR: <input>:1:5: \
                 undefined field 'nope'\n | self.nope > 1\n | ....^",
                "Invalid s.properties[spec].x-kubernetes-validations[1].rule: cel expression must evaluate to a bool",
                "Invalid s.properties[spec].x-kubernetes-validations[2].messageExpression: messageExpression must \
                 evaluate to a string",
            ]
        );
    }

    #[test]
    fn runtime_cost_limits() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "l": {"type": "array", "items": {"type": "integer"}, "x-kubernetes-validations": [
                {"rule": "self.all(x, self.all(y, x + y >= 0))"}]},
            "n": {"type": "integer", "x-kubernetes-validations": [{"rule": "self >= 0"}]}}}}});
        let rules = Rules::compile(&schema).expect("rules");
        let small = json!({"spec": {"l": [1, 2, 3], "n": 1}});
        assert!(rules.validate(&small, None).is_empty());
        // 1000 × 1000 iterations: stopped past the per-call limit, later rules
        // not run.
        let big = json!({"spec": {"l": (0..1000).collect::<Vec<i64>>(), "n": -1}});
        assert_eq!(
            msgs(&rules.validate(&big, None)),
            ["spec.l: Invalid value: \"array\": 'operation cancelled: actual cost limit exceeded': no further \
              validation rules will be run due to call cost exceeds limit for rule: self.all(x, self.all(y, x + y >= 0))"]
        );
        // The per-object budget.
        assert_eq!(
            msgs(&rules.validate_with_budget(&small, None, 10)),
            ["spec.l: Invalid value: \"array\": validation failed due to running out of cost budget, no further \
              validation rules will be run"]
        );
    }

    #[test]
    fn helpers() {
        assert_eq!(normalize_field_path(".spec.a"), "spec.a");
        assert_eq!(normalize_field_path(".m['k.x'].b"), "m[k.x].b");
        assert_eq!(escape("a-b"), "a__dash__b");
        assert_eq!(escape("namespace"), "__namespace__");
        assert_eq!(escape("plain"), "plain");
    }

    #[test]
    fn evaluation_time_with_five_rules() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
            "x-kubernetes-validations": [
                {"rule": "self.minReplicas <= self.replicas"}, {"rule": "self.replicas < 1000"},
                {"rule": "size(self.name) < 64"}, {"rule": "self.name.startsWith('a')"},
                {"rule": "self.tags.all(t, size(t) < 10)"}
            ],
            "properties": {"replicas": {"type": "integer"}, "minReplicas": {"type": "integer"},
                           "name": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}}}}});
        let rules = Rules::compile(&schema).expect("rules");
        let object = json!({"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "a"},
            "spec": {"replicas": 3, "minReplicas": 1, "name": "abc", "tags": ["a", "b", "c"]}});
        assert!(rules.validate(&object, Some(&object)).is_empty());
        let n = 2000u32;
        let start = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(rules.validate(std::hint::black_box(&object), None));
        }
        let build = if cfg!(debug_assertions) { "debug" } else { "release" };
        println!("CEL: {:?} per object (5 rules, {build} build)", start.elapsed() / n);
    }
}
