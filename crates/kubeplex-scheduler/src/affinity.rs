//! Node selectors read once: `nodeSelector`, required and preferred node
//! affinity terms (component-helpers/scheduling/corev1/nodeaffinity).
//!
//! Terms are ORed, requirements inside a term ANDed. A term that is empty or
//! cannot be parsed (wrong number of values, a non-integer for `Gt`/`Lt`, an
//! unknown operator) matches no node, as upstream's lazy-error selector.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{NodeSelectorRequirement, NodeSelectorTerm, PreferredSchedulingTerm};

/// The only field a `matchFields` requirement can name.
pub const FIELD_METADATA_NAME: &str = "metadata.name";

#[derive(Clone, Debug, PartialEq, Eq)]
enum LabelOp {
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    DoesNotExist,
    Gt(i64),
    Lt(i64),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct LabelRequirement {
    key: String,
    op: LabelOp,
}

impl LabelRequirement {
    fn parse(r: &NodeSelectorRequirement) -> Option<LabelRequirement> {
        let values = r.values.as_deref().unwrap_or_default();
        let op = match r.operator.as_str() {
            "In" if !values.is_empty() => LabelOp::In(values.to_vec()),
            "NotIn" if !values.is_empty() => LabelOp::NotIn(values.to_vec()),
            "Exists" if values.is_empty() => LabelOp::Exists,
            "DoesNotExist" if values.is_empty() => LabelOp::DoesNotExist,
            "Gt" | "Lt" => {
                let [v] = values else { return None };
                let n = v.parse::<i64>().ok()?;
                if r.operator == "Gt" { LabelOp::Gt(n) } else { LabelOp::Lt(n) }
            }
            _ => return None,
        };
        Some(LabelRequirement { key: r.key.clone(), op })
    }

    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.key);
        match &self.op {
            LabelOp::In(vs) => value.is_some_and(|v| vs.contains(v)),
            LabelOp::NotIn(vs) => !value.is_some_and(|v| vs.contains(v)),
            LabelOp::Exists => value.is_some(),
            LabelOp::DoesNotExist => value.is_none(),
            LabelOp::Gt(n) => value.and_then(|v| v.parse::<i64>().ok()).is_some_and(|v| v > *n),
            LabelOp::Lt(n) => value.and_then(|v| v.parse::<i64>().ok()).is_some_and(|v| v < *n),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct FieldRequirement {
    /// Whether the key is `metadata.name` (any other field reads as empty).
    is_name: bool,
    value: String,
    negate: bool,
}

impl FieldRequirement {
    fn parse(r: &NodeSelectorRequirement) -> Option<FieldRequirement> {
        let [value] = r.values.as_deref().unwrap_or_default() else { return None };
        let negate = match r.operator.as_str() {
            "In" => false,
            "NotIn" => true,
            _ => return None,
        };
        Some(FieldRequirement { is_name: r.key == FIELD_METADATA_NAME, value: value.clone(), negate })
    }

    fn matches(&self, node_name: &str) -> bool {
        let field = if self.is_name { node_name } else { "" };
        (field == self.value) != self.negate
    }
}

/// One parsed, non-empty node selector term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    labels: Vec<LabelRequirement>,
    fields: Vec<FieldRequirement>,
}

impl Term {
    /// Parses a term; `None` when it is empty or invalid (it then matches nothing).
    pub fn parse(t: &NodeSelectorTerm) -> Option<Term> {
        let exprs = t.match_expressions.as_deref().unwrap_or_default();
        let fields = t.match_fields.as_deref().unwrap_or_default();
        if exprs.is_empty() && fields.is_empty() {
            return None;
        }
        Some(Term {
            labels: exprs.iter().map(LabelRequirement::parse).collect::<Option<Vec<_>>>()?,
            fields: fields.iter().map(FieldRequirement::parse).collect::<Option<Vec<_>>>()?,
        })
    }

    /// Whether a node with this name and these labels matches.
    pub fn matches(&self, node_name: &str, labels: &BTreeMap<String, String>) -> bool {
        self.labels.iter().all(|r| r.matches(labels)) && self.fields.iter().all(|r| r.matches(node_name))
    }
}

/// A required node selector (ORed terms; no valid term matches nothing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequiredTerms {
    terms: Vec<Term>,
}

impl RequiredTerms {
    /// Parses `requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`.
    pub fn parse(terms: &[NodeSelectorTerm]) -> RequiredTerms {
        RequiredTerms { terms: terms.iter().filter_map(Term::parse).collect() }
    }

    /// Whether any term matches.
    pub fn matches(&self, node_name: &str, labels: &BTreeMap<String, String>) -> bool {
        self.terms.iter().any(|t| t.matches(node_name, labels))
    }
}

/// Preferred terms with their weights (weight 0 and invalid terms dropped).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PreferredTerms {
    terms: Vec<(i64, Term)>,
}

impl PreferredTerms {
    /// Parses `preferredDuringSchedulingIgnoredDuringExecution`.
    pub fn parse(terms: &[PreferredSchedulingTerm]) -> PreferredTerms {
        PreferredTerms {
            terms: terms
                .iter()
                .filter(|t| t.weight != 0)
                .filter_map(|t| Term::parse(&t.preference).map(|term| (i64::from(t.weight), term)))
                .collect(),
        }
    }

    /// Whether there is nothing to score.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// NodeAffinity's raw score: the sum of the weights of matching terms.
    pub fn score(&self, node_name: &str, labels: &BTreeMap<String, String>) -> i64 {
        self.terms.iter().filter(|(_, t)| t.matches(node_name, labels)).map(|(w, _)| *w).sum()
    }
}

/// NodeAffinity's PreFilter: the node names the required terms pin the pod to
/// through `matchFields metadata.name In` (as DaemonSet pods do). `None` when
/// some term does not pin names (every node is a candidate); `Some(empty)`
/// when the terms conflict.
pub fn pinned_node_names(terms: &[NodeSelectorTerm]) -> Option<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    for t in terms {
        let mut term_names: Option<Vec<String>> = None;
        for r in t.match_fields.iter().flatten() {
            if r.key == FIELD_METADATA_NAME && r.operator == "In" {
                let values = r.values.clone().unwrap_or_default();
                term_names = Some(match term_names {
                    None => values,
                    Some(prev) => prev.into_iter().filter(|n| values.contains(n)).collect(),
                });
            }
        }
        names.extend(term_names?);
    }
    names.sort();
    names.dedup();
    Some(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn term(v: serde_json::Value) -> NodeSelectorTerm {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn operators() {
        let l = labels(&[("zone", "a"), ("cores", "8")]);
        let m = |expr: serde_json::Value| {
            Term::parse(&term(json!({"matchExpressions": [expr]}))).is_some_and(|t| t.matches("n1", &l))
        };
        assert!(m(json!({"key": "zone", "operator": "In", "values": ["a", "b"]})));
        assert!(!m(json!({"key": "zone", "operator": "In", "values": ["b"]})));
        assert!(m(json!({"key": "zone", "operator": "NotIn", "values": ["b"]})));
        assert!(m(json!({"key": "missing", "operator": "NotIn", "values": ["b"]})));
        assert!(m(json!({"key": "zone", "operator": "Exists"})));
        assert!(m(json!({"key": "missing", "operator": "DoesNotExist"})));
        assert!(!m(json!({"key": "zone", "operator": "DoesNotExist"})));
        assert!(m(json!({"key": "cores", "operator": "Gt", "values": ["4"]})));
        assert!(!m(json!({"key": "cores", "operator": "Lt", "values": ["4"]})));
        assert!(!m(json!({"key": "zone", "operator": "Gt", "values": ["4"]})));
        // Invalid: Exists with values, Gt without an integer, unknown operator.
        assert!(!m(json!({"key": "zone", "operator": "Exists", "values": ["a"]})));
        assert!(!m(json!({"key": "cores", "operator": "Gt", "values": ["x"]})));
        assert!(!m(json!({"key": "zone", "operator": "Like", "values": ["a"]})));
    }

    #[test]
    fn match_fields_and_terms_or() {
        let l = labels(&[]);
        let req = RequiredTerms::parse(&[
            term(json!({"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n2"]}]})),
            term(json!({})),
        ]);
        assert!(req.matches("n2", &l));
        assert!(!req.matches("n1", &l));
        let not_in = RequiredTerms::parse(&[term(
            json!({"matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["n2"]}]}),
        )]);
        assert!(not_in.matches("n1", &l));
        assert!(!RequiredTerms::parse(&[]).matches("n1", &l));
    }

    #[test]
    fn pinned_names() {
        let pin = |n: &str| term(json!({"matchFields": [{"key": "metadata.name", "operator": "In", "values": [n]}]}));
        assert_eq!(pinned_node_names(&[pin("b"), pin("a")]), Some(vec!["a".to_owned(), "b".to_owned()]));
        let both = term(json!({"matchFields": [
            {"key": "metadata.name", "operator": "In", "values": ["a"]},
            {"key": "metadata.name", "operator": "In", "values": ["b"]}
        ]}));
        assert_eq!(pinned_node_names(&[both]), Some(vec![]));
        let labels_only = term(json!({"matchExpressions": [{"key": "k", "operator": "Exists"}]}));
        assert_eq!(pinned_node_names(&[pin("a"), labels_only]), None);
    }

    #[test]
    fn preferred_scores_sum_matching_weights() {
        let terms: Vec<PreferredSchedulingTerm> = serde_json::from_value(json!([
            {"weight": 5, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}},
            {"weight": 3, "preference": {"matchExpressions": [{"key": "disk", "operator": "Exists"}]}},
            {"weight": 0, "preference": {"matchExpressions": [{"key": "zone", "operator": "Exists"}]}},
            {"weight": 7, "preference": {}}
        ]))
        .unwrap();
        let p = PreferredTerms::parse(&terms);
        assert_eq!(p.score("n", &labels(&[("zone", "a"), ("disk", "ssd")])), 8);
        assert_eq!(p.score("n", &labels(&[("zone", "b")])), 0);
    }
}
