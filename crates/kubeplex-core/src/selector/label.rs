//! The label selector matcher: requirements (key, operator, values) ANDed
//! together, as `k8s.io/apimachinery/pkg/labels.internalSelector`, plus the
//! [`LabelSet`] view of an object's labels that it matches against.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::BuildHasher;
use std::str::FromStr;

use super::SelectorError;
use crate::names::{FieldError, aggregate_message, is_label_value, is_qualified_name};

/// The relation a [`Requirement`] states between a label and its values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `k=v`
    Equals,
    /// `k==v`
    DoubleEquals,
    /// `k!=v` (also true when the label is absent)
    NotEquals,
    /// `k in (a,b)`
    In,
    /// `k notin (a,b)` (also true when the label is absent)
    NotIn,
    /// `k`
    Exists,
    /// `!k`
    DoesNotExist,
    /// `k>5` (integer comparison; false when absent or not an integer)
    GreaterThan,
    /// `k<5`
    LessThan,
}

impl Operator {
    /// Upstream's `selection.Operator` string (`=`, `==`, `!=`, `in`, `notin`,
    /// `exists`, `!`, `gt`, `lt`).
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => "in",
            Operator::NotIn => "notin",
            Operator::Exists => "exists",
            Operator::DoesNotExist => "!",
            Operator::GreaterThan => "gt",
            Operator::LessThan => "lt",
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Read access to an object's labels. Implemented for the usual maps and for
/// JSON (`metadata.labels` as a `serde_json` object; non-string values count as
/// absent; anything but an object has no labels).
pub trait LabelSet {
    /// The value of label `key`, if present.
    fn label(&self, key: &str) -> Option<&str>;
}

impl<S: BuildHasher> LabelSet for HashMap<String, String, S> {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

impl LabelSet for BTreeMap<String, String> {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

impl LabelSet for serde_json::Map<String, serde_json::Value> {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(serde_json::Value::as_str)
    }
}

impl LabelSet for serde_json::Value {
    fn label(&self, key: &str) -> Option<&str> {
        self.as_object().and_then(|m| m.label(key))
    }
}

impl<K: AsRef<str>, V: AsRef<str>> LabelSet for [(K, V)] {
    fn label(&self, key: &str) -> Option<&str> {
        self.iter().find(|(k, _)| k.as_ref() == key).map(|(_, v)| v.as_ref())
    }
}

impl<T: LabelSet + ?Sized> LabelSet for &T {
    fn label(&self, key: &str) -> Option<&str> {
        (**self).label(key)
    }
}

impl<T: LabelSet> LabelSet for Option<T> {
    fn label(&self, key: &str) -> Option<&str> {
        self.as_ref().and_then(|set| set.label(key))
    }
}

/// One condition of a label selector. Built by the parser, by
/// [`Requirement::new`] (upstream's `NewRequirement`, validating) or from a
/// `metav1.LabelSelector`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Requirement {
    key: String,
    operator: Operator,
    values: Vec<String>,
}

impl Requirement {
    /// `labels.NewRequirement`: validates the key (a qualified name), the number
    /// of values for the operator, integer values for `gt`/`lt`, and every value
    /// (a label value). Errors carry upstream's field paths (`key`, `values`,
    /// `values[0]`, `values[0][<key>]`).
    pub fn new(
        key: impl Into<String>,
        operator: Operator,
        values: Vec<String>,
    ) -> Result<Requirement, Vec<FieldError>> {
        Self::new_inner(key.into(), operator, values, false)
    }

    /// `values_nil`: an empty `values` renders as JSON `null` (a nil Go slice)
    /// rather than `[]` in count errors.
    pub(crate) fn new_inner(
        key: String,
        operator: Operator,
        values: Vec<String>,
        values_nil: bool,
    ) -> Result<Requirement, Vec<FieldError>> {
        let mut errs = Vec::new();
        if let Some(err) = validate_label_key(&key, "key") {
            errs.push(err);
        }
        let rendered = || if values_nil && values.is_empty() { "null".to_owned() } else { go_json_strings(&values) };
        match operator {
            Operator::In | Operator::NotIn => {
                if values.is_empty() {
                    errs.push(FieldError::invalid_rendered(
                        "values",
                        &rendered(),
                        "for 'in', 'notin' operators, values set can't be empty",
                    ));
                }
            }
            Operator::Equals | Operator::DoubleEquals | Operator::NotEquals => {
                if values.len() != 1 {
                    errs.push(FieldError::invalid_rendered(
                        "values",
                        &rendered(),
                        "exact-match compatibility requires one single value",
                    ));
                }
            }
            Operator::Exists | Operator::DoesNotExist => {
                if !values.is_empty() {
                    errs.push(FieldError::invalid_rendered(
                        "values",
                        &rendered(),
                        "values set must be empty for exists and does not exist",
                    ));
                }
            }
            Operator::GreaterThan | Operator::LessThan => {
                if values.len() != 1 {
                    errs.push(FieldError::invalid_rendered(
                        "values",
                        &rendered(),
                        "for 'Gt', 'Lt' operators, exactly one value is required",
                    ));
                }
                for (i, v) in values.iter().enumerate() {
                    if v.parse::<i64>().is_err() {
                        errs.push(FieldError::invalid(
                            format!("values[{i}]"),
                            v,
                            "for 'Gt', 'Lt' operators, the value must be an integer",
                        ));
                    }
                }
            }
        }
        for (i, v) in values.iter().enumerate() {
            let problems = is_label_value(v);
            if !problems.is_empty() {
                errs.push(FieldError::invalid(format!("values[{i}][{key}]"), v, &problems.join("; ")));
            }
        }
        if errs.is_empty() { Ok(Requirement { key, operator, values }) } else { Err(errs) }
    }

    /// A requirement taken as given, without validation (upstream's
    /// `SelectorFromValidatedSet` path).
    pub(crate) fn unchecked(key: String, operator: Operator, values: Vec<String>) -> Requirement {
        Requirement { key, operator, values }
    }

    /// The label key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The operator.
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The values as given (the parser gives them sorted and without duplicates).
    pub fn values(&self) -> &[String] {
        &self.values
    }

    fn has_value(&self, value: &str) -> bool {
        self.values.iter().any(|v| v == value)
    }

    /// Whether `labels` satisfy this requirement. `!=` and `notin` match objects
    /// without the label; `gt`/`lt` compare as 64-bit integers and fail when the
    /// label is absent or not an integer.
    pub fn matches<L: LabelSet + ?Sized>(&self, labels: &L) -> bool {
        match self.operator {
            Operator::In | Operator::Equals | Operator::DoubleEquals => {
                labels.label(&self.key).is_some_and(|v| self.has_value(v))
            }
            Operator::NotIn | Operator::NotEquals => labels.label(&self.key).is_none_or(|v| !self.has_value(v)),
            Operator::Exists => labels.label(&self.key).is_some(),
            Operator::DoesNotExist => labels.label(&self.key).is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let Some(actual) = labels.label(&self.key).and_then(|v| v.parse::<i64>().ok()) else {
                    return false;
                };
                let [wanted] = self.values.as_slice() else {
                    return false;
                };
                let Ok(wanted) = wanted.parse::<i64>() else {
                    return false;
                };
                if self.operator == Operator::GreaterThan { actual > wanted } else { actual < wanted }
            }
        }
    }
}

impl fmt::Display for Requirement {
    /// Upstream `Requirement.String()`: `!k`, `k`, `k=v`, `k in (a,b)` (values sorted).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operator == Operator::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let op = match self.operator {
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => " in ",
            Operator::NotIn => " notin ",
            Operator::GreaterThan => ">",
            Operator::LessThan => "<",
            Operator::Exists | Operator::DoesNotExist => return Ok(()),
        };
        f.write_str(op)?;
        let set = matches!(self.operator, Operator::In | Operator::NotIn);
        if set {
            f.write_str("(")?;
        }
        if let [one] = self.values.as_slice() {
            f.write_str(one)?;
        } else {
            let mut sorted: Vec<&str> = self.values.iter().map(String::as_str).collect();
            sorted.sort_unstable();
            f.write_str(&sorted.join(","))?;
        }
        if set {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// `validateLabelKey`: one error, the details joined by `; `.
pub(crate) fn validate_label_key(key: &str, field: &str) -> Option<FieldError> {
    let problems = is_qualified_name(key);
    (!problems.is_empty()).then(|| FieldError::invalid(field, key, &problems.join("; ")))
}

/// A Go `json.Marshal` of a `[]string` (HTML-safe escaping as Go does it).
pub(crate) fn go_json_strings(values: &[String]) -> String {
    let mut out = String::from("[");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        for c in v.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push(']');
    out
}

/// A label selector: requirements ANDed together, or the selector that matches
/// nothing (what a nil `metav1.LabelSelector` becomes). The default value
/// matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
    nothing: bool,
}

impl LabelSelector {
    /// The selector with no requirements: matches every object.
    pub fn everything() -> LabelSelector {
        LabelSelector::default()
    }

    /// The selector that matches no object.
    pub fn nothing() -> LabelSelector {
        LabelSelector { requirements: Vec::new(), nothing: true }
    }

    /// Parses the `?labelSelector=` grammar (`labels.Parse`). The empty string
    /// (or only whitespace) matches everything. Errors are upstream's texts.
    pub fn parse(selector: &str) -> Result<LabelSelector, SelectorError> {
        super::label_parser::parse(selector).map(LabelSelector::from_requirements)
    }

    /// `labels.SelectorFromSet`: `key=value` for every pair, not validated
    /// (a Service's `spec.selector`). An empty map matches everything.
    pub fn from_map<'a, I>(labels: I) -> LabelSelector
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        LabelSelector::from_requirements(
            labels
                .into_iter()
                .map(|(k, v)| Requirement::unchecked(k.to_owned(), Operator::Equals, vec![v.to_owned()]))
                .collect(),
        )
    }

    /// A selector of these requirements, ordered by key (as `Selector.Add`).
    pub fn from_requirements(mut requirements: Vec<Requirement>) -> LabelSelector {
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        LabelSelector { requirements, nothing: false }
    }

    /// This selector with more requirements (still ordered by key). Adding to
    /// the nothing-selector leaves it matching nothing.
    pub fn with_requirements(mut self, more: impl IntoIterator<Item = Requirement>) -> LabelSelector {
        if self.nothing {
            return self;
        }
        self.requirements.extend(more);
        self.requirements.sort_by(|a, b| a.key.cmp(&b.key));
        self
    }

    /// Whether an object with these labels is selected.
    pub fn matches<L: LabelSet + ?Sized>(&self, labels: &L) -> bool {
        !self.nothing && self.requirements.iter().all(|r| r.matches(labels))
    }

    /// `Empty()`: true when the selector does not restrict anything.
    pub fn is_empty(&self) -> bool {
        !self.nothing && self.requirements.is_empty()
    }

    /// True for the selector that matches nothing.
    pub fn is_nothing(&self) -> bool {
        self.nothing
    }

    /// The requirements, ordered by key.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// `RequiresExactMatch`: the single value the first requirement on `key`
    /// demands (`=`, `==`, or `in` with one value), for index lookups.
    pub fn requires_exact_match(&self, key: &str) -> Option<&str> {
        let r = self.requirements.iter().find(|r| r.key == key)?;
        match (r.operator, r.values.as_slice()) {
            (Operator::Equals | Operator::DoubleEquals | Operator::In, [one]) => Some(one),
            _ => None,
        }
    }
}

impl fmt::Display for LabelSelector {
    /// Upstream `String()`: requirements joined by `,`; empty for everything and nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl FromStr for LabelSelector {
    type Err = SelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LabelSelector::parse(s)
    }
}

/// The message of an aggregate of requirement errors (used by the parser and
/// the `metav1.LabelSelector` conversion).
pub(crate) fn requirement_errors_message(errors: &[FieldError]) -> String {
    aggregate_message(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn requirement_matching() {
        let l = labels(&[("app", "web"), ("n", "5")]);
        let req =
            |k: &str, op, vals: &[&str]| Requirement::new(k, op, vals.iter().map(|s| s.to_string()).collect()).unwrap();
        assert!(req("app", Operator::Equals, &["web"]).matches(&l));
        assert!(!req("app", Operator::Equals, &["db"]).matches(&l));
        assert!(!req("tier", Operator::Equals, &["x"]).matches(&l));
        assert!(req("tier", Operator::NotEquals, &["x"]).matches(&l));
        assert!(!req("app", Operator::NotEquals, &["web"]).matches(&l));
        assert!(req("app", Operator::In, &["a", "web"]).matches(&l));
        assert!(!req("tier", Operator::In, &["a"]).matches(&l));
        assert!(req("tier", Operator::NotIn, &["a"]).matches(&l));
        assert!(!req("app", Operator::NotIn, &["web"]).matches(&l));
        assert!(req("app", Operator::Exists, &[]).matches(&l));
        assert!(!req("app", Operator::DoesNotExist, &[]).matches(&l));
        assert!(req("tier", Operator::DoesNotExist, &[]).matches(&l));
        assert!(req("n", Operator::GreaterThan, &["4"]).matches(&l));
        assert!(!req("n", Operator::GreaterThan, &["5"]).matches(&l));
        assert!(req("n", Operator::LessThan, &["6"]).matches(&l));
        assert!(!req("app", Operator::LessThan, &["6"]).matches(&l));
        assert!(!req("missing", Operator::LessThan, &["6"]).matches(&l));
    }

    #[test]
    fn new_requirement_errors() {
        let errs = Requirement::new("a b", Operator::Exists, vec![]).unwrap_err();
        assert_eq!(errs[0].field, "key");
        assert!(errs[0].to_string().starts_with("key: Invalid value: \"a b\": name part must consist"));
        let errs = Requirement::new("k", Operator::In, vec![]).unwrap_err();
        assert_eq!(
            errs[0].to_string(),
            "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty"
        );
        let errs = Requirement::new_inner("k".into(), Operator::In, vec![], true).unwrap_err();
        assert_eq!(
            errs[0].to_string(),
            "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"
        );
        let errs = Requirement::new("k", Operator::Equals, vec!["a".into(), "b".into()]).unwrap_err();
        assert_eq!(
            errs[0].to_string(),
            "values: Invalid value: [\"a\",\"b\"]: exact-match compatibility requires one single value"
        );
        let errs = Requirement::new("k", Operator::Exists, vec!["<a>".into()]).unwrap_err();
        assert_eq!(
            errs[0].to_string(),
            "values: Invalid value: [\"\\u003ca\\u003e\"]: values set must be empty for exists and does not exist"
        );
        let errs = Requirement::new("k", Operator::GreaterThan, vec!["x".into()]).unwrap_err();
        assert_eq!(
            errs[0].to_string(),
            "values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer"
        );
        let errs = Requirement::new("k", Operator::LessThan, vec![]).unwrap_err();
        assert_eq!(
            errs[0].to_string(),
            "values: Invalid value: []: for 'Gt', 'Lt' operators, exactly one value is required"
        );
        let errs = Requirement::new("k", Operator::Equals, vec!["a b".into()]).unwrap_err();
        assert!(errs[0].to_string().starts_with("values[0][k]: Invalid value: \"a b\": a valid label must be"));
    }

    #[test]
    fn selector_basics() {
        let everything = LabelSelector::everything();
        assert!(everything.is_empty());
        assert!(everything.matches(&labels(&[])));
        let nothing = LabelSelector::nothing();
        assert!(!nothing.is_empty());
        assert!(nothing.is_nothing());
        assert!(!nothing.matches(&labels(&[])));
        assert_eq!(nothing.to_string(), "");
        assert!(
            nothing.clone().with_requirements([Requirement::new("a", Operator::Exists, vec![]).unwrap()]).is_nothing()
        );

        let s = LabelSelector::from_map([("tier", "db"), ("app", "web")]);
        assert_eq!(s.to_string(), "app=web,tier=db");
        assert!(s.matches(&labels(&[("app", "web"), ("tier", "db"), ("x", "y")])));
        assert!(!s.matches(&labels(&[("app", "web")])));
        assert_eq!(s.requires_exact_match("app"), Some("web"));
        assert_eq!(s.requires_exact_match("x"), None);
        assert!(LabelSelector::from_map([]).is_empty());
    }

    #[test]
    fn label_sets() {
        let json = serde_json::json!({"app": "web", "n": 3});
        let sel = LabelSelector::parse("app=web").unwrap();
        assert!(sel.matches(&json));
        assert!(LabelSelector::parse("!n").unwrap().matches(&json));
        assert!(!sel.matches(&serde_json::Value::Null));
        let none: Option<&BTreeMap<String, String>> = None;
        assert!(LabelSelector::parse("app!=web").unwrap().matches(&none));
        let pairs: &[(&str, &str)] = &[("app", "web")];
        assert!(sel.matches(pairs));
        let mut hm = HashMap::new();
        hm.insert("app".to_owned(), "web".to_owned());
        assert!(sel.matches(&hm));
    }

    #[test]
    fn requirement_strings() {
        let r = Requirement::new("k", Operator::NotIn, vec!["b".into(), "a".into()]).unwrap();
        assert_eq!(r.to_string(), "k notin (a,b)");
        assert_eq!(r.values(), ["b", "a"]);
        assert_eq!(Requirement::new("k", Operator::DoesNotExist, vec![]).unwrap().to_string(), "!k");
        assert_eq!(Requirement::new("k", Operator::GreaterThan, vec!["1".into()]).unwrap().to_string(), "k>1");
        assert_eq!(Operator::NotIn.to_string(), "notin");
    }
}
