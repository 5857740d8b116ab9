//! Tables of custom resources: the `Name` column, then the CRD version's
//! `additionalPrinterColumns` (or its `Age` default), each cell read with
//! the column's JSONPath and typed as upstream's CRD table convertor does.
//!
//! ```text
//!  ".status.conditions[?(@.type==\"Ready\")].status"
//!     ─► parse: Field(status) Field(conditions) Filter(type == "Ready") Field(status)
//!     ─► first match ─► cell by column type (string | integer | number | boolean | date)
//! ```
//!
//! The JSONPath subset is what printer columns use: fields (`.a`, `['a']`),
//! indexes (`[0]`, `[-1]`), wildcards (`[*]`, `.*`) and equality filters
//! (`[?(@.a.b=="x")]`), optionally wrapped in `{}`.

use jiff::Timestamp;
use kubeplex_core::resource::CustomResource;
use serde_json::{Value, json};

use super::duration::since;

/// One step of a parsed path.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Field(String),
    Index(i64),
    All,
    /// `[?(@.path == literal)]` (or `!=`).
    Filter {
        path: Vec<String>,
        equal: bool,
        value: Value,
    },
}

/// Parses a printer column's JSONPath; `None` for what the subset lacks.
fn parse(path: &str) -> Option<Vec<Step>> {
    let path = path.trim();
    let path = path.strip_prefix('{').and_then(|p| p.strip_suffix('}')).unwrap_or(path);
    let path = path.strip_prefix('$').unwrap_or(path);
    let chars: Vec<char> = path.chars().collect();
    let mut steps = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '.' => {
                let start = i + 1;
                let mut end = start;
                while end < chars.len() && chars[end] != '.' && chars[end] != '[' {
                    end += 1;
                }
                let name: String = chars[start..end].iter().collect();
                match name.as_str() {
                    "" => return None,
                    "*" => steps.push(Step::All),
                    _ => steps.push(Step::Field(name)),
                }
                i = end;
            }
            '[' => {
                let close = bracket_end(&chars, i)?;
                let inner: String = chars[i + 1..close].iter().collect();
                steps.push(parse_bracket(inner.trim())?);
                i = close + 1;
            }
            _ => return None,
        }
    }
    Some(steps)
}

/// The index of the `]` closing the bracket at `open`, skipping quotes.
fn bracket_end(chars: &[char], open: usize) -> Option<usize> {
    let mut quote = None;
    for (j, &c) in chars.iter().enumerate().skip(open + 1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, ']') => return Some(j),
            _ => {}
        }
    }
    None
}

fn unquote(s: &str) -> Option<&str> {
    let s = s.trim();
    s.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')).or_else(|| s.strip_prefix('"')?.strip_suffix('"'))
}

fn parse_bracket(inner: &str) -> Option<Step> {
    if inner == "*" {
        return Some(Step::All);
    }
    if let Some(name) = unquote(inner) {
        return Some(Step::Field(name.to_owned()));
    }
    if let Ok(index) = inner.parse::<i64>() {
        return Some(Step::Index(index));
    }
    let expr = inner.strip_prefix("?(")?.strip_suffix(')')?.trim();
    let (lhs, rhs, equal) = match (expr.split_once("=="), expr.split_once("!=")) {
        (Some((l, r)), _) => (l, r, true),
        (None, Some((l, r))) => (l, r, false),
        _ => return None,
    };
    let path: Vec<String> = lhs.trim().strip_prefix("@.")?.split('.').map(str::to_owned).collect();
    let rhs = rhs.trim();
    let value = match unquote(rhs) {
        Some(s) => Value::from(s),
        None => serde_json::from_str(rhs).ok()?,
    };
    Some(Step::Filter { path, equal, value })
}

/// Every value `steps` reaches in `root`, in order.
fn find<'a>(root: &'a Value, steps: &[Step]) -> Vec<&'a Value> {
    let mut current = vec![root];
    for step in steps {
        let mut next = Vec::new();
        for value in current {
            match step {
                Step::Field(name) => next.extend(value.get(name)),
                Step::Index(i) => {
                    if let Some(items) = value.as_array() {
                        let i = if *i < 0 { items.len() as i64 + i } else { *i };
                        next.extend(usize::try_from(i).ok().and_then(|i| items.get(i)));
                    }
                }
                Step::All => match value {
                    Value::Array(items) => next.extend(items.iter()),
                    Value::Object(map) => next.extend(map.values()),
                    _ => {}
                },
                Step::Filter { path, equal, value: wanted } => {
                    for item in value.as_array().into_iter().flatten() {
                        let got = path.iter().try_fold(item, |v, k| v.get(k));
                        if got.is_some_and(|g| (g == wanted) == *equal) {
                            next.push(item);
                        }
                    }
                }
            }
        }
        current = next;
    }
    current
}

/// The `columnDefinitions` of a custom resource's Tables.
pub(super) fn column_definitions(custom: &CustomResource) -> Value {
    let mut columns = vec![json!({"name": "Name", "type": "string", "format": "name",
                                  "description": super::docs::NAME, "priority": 0})];
    columns.extend(custom.columns.iter().map(|c| {
        json!({"name": c.name, "type": c.type_, "format": c.format, "description": c.description,
               "priority": c.priority})
    }));
    Value::Array(columns)
}

/// The cells of one custom object.
pub(super) fn cells(custom: &CustomResource, object: &Value, now: Timestamp) -> Vec<Value> {
    let mut cells = vec![Value::from(super::json::str_at(object, &["metadata", "name"]))];
    cells.extend(custom.columns.iter().map(|c| {
        let found = parse(&c.json_path).and_then(|steps| find(object, &steps).into_iter().next().cloned());
        match found {
            None => Value::Null,
            Some(value) => cell(&c.type_, value, now),
        }
    }));
    cells
}

/// A cell as upstream types it: strings printed as JSONPath prints them,
/// numbers and booleans kept when they have the column's type, dates as
/// ages; anything else is `null`.
fn cell(type_: &str, value: Value, now: Timestamp) -> Value {
    match (type_, value) {
        (_, Value::Null) => Value::Null,
        ("string", Value::String(s)) => Value::String(s),
        ("string", v @ (Value::Number(_) | Value::Bool(_))) => Value::String(v.to_string()),
        ("string", v) => Value::String(v.to_string()),
        ("integer", Value::Number(n)) => {
            n.as_i64().map(Value::from).or_else(|| n.as_f64().map(|f| Value::from(f as i64))).unwrap_or(Value::Null)
        }
        ("number", Value::Number(n)) => n.as_f64().map(Value::from).unwrap_or(Value::Null),
        ("boolean", Value::Bool(b)) => Value::Bool(b),
        ("date", Value::String(s)) => match s.parse::<Timestamp>() {
            Ok(at) => Value::from(since(Some(at), now)),
            Err(_) => Value::from("<invalid>"),
        },
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use kubeplex_core::resource::PrinterColumn;

    use super::*;

    fn first(object: &Value, path: &str) -> Option<Value> {
        find(object, &parse(path)?).into_iter().next().cloned()
    }

    #[test]
    fn paths() {
        let object = json!({"spec": {"cronSpec": "* * * * */5", "replicas": 3, "a.b": "dotted"},
                            "status": {"conditions": [{"type": "Synced", "status": "False"},
                                                      {"type": "Ready", "status": "True"}]}});
        assert_eq!(first(&object, ".spec.cronSpec"), Some(json!("* * * * */5")));
        assert_eq!(first(&object, "{.spec.replicas}"), Some(json!(3)));
        assert_eq!(first(&object, ".spec['a.b']"), Some(json!("dotted")));
        assert_eq!(first(&object, ".status.conditions[1].type"), Some(json!("Ready")));
        assert_eq!(first(&object, ".status.conditions[-1].type"), Some(json!("Ready")));
        assert_eq!(first(&object, ".status.conditions[*].type"), Some(json!("Synced")));
        assert_eq!(first(&object, r#".status.conditions[?(@.type=="Ready")].status"#), Some(json!("True")));
        assert_eq!(first(&object, ".status.conditions[?(@.type!='Ready')].status"), Some(json!("False")));
        assert_eq!(first(&object, ".spec.missing"), None);
        assert_eq!(first(&object, ".status.conditions[7]"), None);
        assert!(parse("spec.x").is_none());
        assert!(parse(".spec[").is_none());
    }

    #[test]
    fn typed_cells() {
        let now: Timestamp = "2025-06-01T12:00:00Z".parse().unwrap();
        let column = |name: &str, type_: &str, path: &str| PrinterColumn {
            name: name.into(),
            type_: type_.into(),
            format: String::new(),
            description: String::new(),
            priority: 0,
            json_path: path.into(),
        };
        let custom = CustomResource {
            columns: vec![
                column("Spec", "string", ".spec.cronSpec"),
                column("Replicas", "integer", ".spec.replicas"),
                column("Ratio", "number", ".spec.replicas"),
                column("On", "boolean", ".spec.on"),
                column("Age", "date", ".metadata.creationTimestamp"),
                column("Missing", "string", ".spec.none"),
                column("Mismatch", "integer", ".spec.cronSpec"),
                column("Count", "string", ".spec.replicas"),
            ],
            ..CustomResource::default()
        };
        let object = json!({"metadata": {"name": "c1", "creationTimestamp": "2025-06-01T11:55:00Z"},
                            "spec": {"cronSpec": "*/5", "replicas": 3, "on": true}});
        assert_eq!(
            cells(&custom, &object, now),
            [
                json!("c1"),
                json!("*/5"),
                json!(3),
                json!(3.0),
                json!(true),
                json!("5m"),
                Value::Null,
                Value::Null,
                json!("3")
            ]
        );
        let defs = column_definitions(&custom);
        assert_eq!(defs[0]["format"], "name");
        assert_eq!(defs[1]["name"], "Spec");
        assert_eq!(defs.as_array().unwrap().len(), 9);
    }
}
