//! `metav1.LabelSelector` (`{matchLabels, matchExpressions}` in Deployment,
//! ReplicaSet, Job, ... specs): conversion to a [`LabelSelector`] as
//! `LabelSelectorAsSelector` does it, and the field validation of
//! `ValidateLabelSelector` with upstream's paths and texts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::SelectorError;
use super::label::{LabelSelector, Operator, Requirement, requirement_errors_message};
use crate::names::{FieldError, go_quote, is_label_value, validate_label_name, validate_labels};

/// The wire form of `metav1.LabelSelector`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiLabelSelector {
    /// `matchLabels`: each pair is a `key=value` requirement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,
    /// `matchExpressions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_expressions: Option<Vec<ApiLabelSelectorRequirement>>,
}

/// The wire form of `metav1.LabelSelectorRequirement`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiLabelSelectorRequirement {
    /// The label key.
    #[serde(default)]
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    #[serde(default)]
    pub operator: String,
    /// Values for `In` and `NotIn`; none for `Exists` and `DoesNotExist`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

/// `LabelSelectorValidationOptions`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LabelSelectorValidationOptions {
    /// Accept values that are not valid label values (for updates of objects
    /// stored before validation was tightened).
    pub allow_invalid_label_value_in_selector: bool,
    /// Accept operators outside the four known ones.
    pub allow_unknown_operator_in_requirement: bool,
}

impl LabelSelector {
    /// `metav1.LabelSelectorAsSelector`: `None` (a nil selector) matches
    /// nothing, an empty selector everything; otherwise every `matchLabels` pair
    /// and expression becomes a validated [`Requirement`]. The first invalid
    /// one fails the conversion with upstream's text, e.g.
    /// `"Foo" is not a valid label selector operator` or
    /// `values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty`.
    /// `matchLabels` are visited in key order.
    pub fn from_api(selector: Option<&ApiLabelSelector>) -> Result<LabelSelector, SelectorError> {
        let Some(selector) = selector else {
            return Ok(LabelSelector::nothing());
        };
        let labels = selector.match_labels.iter().flatten();
        let expressions = selector.match_expressions.iter().flatten();
        if labels.clone().next().is_none() && expressions.clone().next().is_none() {
            return Ok(LabelSelector::everything());
        }
        let mut requirements = Vec::new();
        for (k, v) in labels {
            let r = Requirement::new_inner(k.clone(), Operator::Equals, vec![v.clone()], false)
                .map_err(|e| SelectorError::LabelSelector(requirement_errors_message(&e)))?;
            requirements.push(r);
        }
        for expr in expressions {
            let op = match expr.operator.as_str() {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                other => {
                    return Err(SelectorError::LabelSelector(format!(
                        "{} is not a valid label selector operator",
                        go_quote(other)
                    )));
                }
            };
            let values = expr.values.clone().unwrap_or_default();
            let r = Requirement::new_inner(expr.key.clone(), op, values, true)
                .map_err(|e| SelectorError::LabelSelector(requirement_errors_message(&e)))?;
            requirements.push(r);
        }
        Ok(LabelSelector::from_requirements(requirements))
    }

    /// [`LabelSelector::from_api`] on JSON: absent or `null` matches nothing;
    /// JSON that is not a label selector is refused with serde's message.
    pub fn from_api_json(selector: Option<&serde_json::Value>) -> Result<LabelSelector, SelectorError> {
        match selector {
            None | Some(serde_json::Value::Null) => Ok(LabelSelector::nothing()),
            Some(value) => {
                let parsed =
                    ApiLabelSelector::deserialize(value).map_err(|e| SelectorError::LabelSelector(e.to_string()))?;
                LabelSelector::from_api(Some(&parsed))
            }
        }
    }
}

/// `ValidateLabelSelector`: field errors for `matchLabels` and each
/// `matchExpressions[i]` under `field` (e.g. `spec.selector`). `None` is valid.
pub fn validate_api_label_selector(
    selector: Option<&ApiLabelSelector>,
    options: LabelSelectorValidationOptions,
    field: &str,
) -> Vec<FieldError> {
    let Some(selector) = selector else {
        return Vec::new();
    };
    let mut errs = Vec::new();
    if let Some(labels) = &selector.match_labels {
        errs.extend(validate_labels(
            labels.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            &format!("{field}.matchLabels"),
        ));
    }
    for (i, expr) in selector.match_expressions.iter().flatten().enumerate() {
        let path = format!("{field}.matchExpressions[{i}]");
        let values = expr.values.as_deref().unwrap_or_default();
        match expr.operator.as_str() {
            "In" | "NotIn" => {
                if values.is_empty() {
                    errs.push(FieldError::required(
                        format!("{path}.values"),
                        "must be specified when `operator` is 'In' or 'NotIn'",
                    ));
                }
            }
            "Exists" | "DoesNotExist" => {
                if !values.is_empty() {
                    errs.push(FieldError::forbidden(
                        format!("{path}.values"),
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    ));
                }
            }
            other => {
                if !options.allow_unknown_operator_in_requirement {
                    errs.push(FieldError::invalid(format!("{path}.operator"), other, "not a valid selector operator"));
                }
            }
        }
        errs.extend(validate_label_name(&expr.key, &format!("{path}.key")));
        if !options.allow_invalid_label_value_in_selector {
            for (j, value) in values.iter().enumerate() {
                for msg in is_label_value(value) {
                    errs.push(FieldError::invalid(format!("{path}.values[{j}]"), value, &msg));
                }
            }
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn api(v: serde_json::Value) -> ApiLabelSelector {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn nil_empty_and_full() {
        assert!(LabelSelector::from_api(None).unwrap().is_nothing());
        assert!(LabelSelector::from_api(Some(&ApiLabelSelector::default())).unwrap().is_empty());
        assert!(
            LabelSelector::from_api(Some(&api(json!({"matchLabels": {}, "matchExpressions": []})))).unwrap().is_empty()
        );
        assert!(LabelSelector::from_api_json(None).unwrap().is_nothing());
        assert!(LabelSelector::from_api_json(Some(&json!(null))).unwrap().is_nothing());
        assert!(LabelSelector::from_api_json(Some(&json!({}))).unwrap().is_empty());

        let sel = LabelSelector::from_api_json(Some(&json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["fe", "be"]},
                {"key": "env", "operator": "NotIn", "values": ["dev"]},
                {"key": "track", "operator": "Exists"},
                {"key": "legacy", "operator": "DoesNotExist"}
            ]
        })))
        .unwrap();
        assert_eq!(sel.to_string(), "app=web,env notin (dev),!legacy,tier in (be,fe),track");
        let l = json!({"app": "web", "tier": "fe", "track": "x"});
        assert!(sel.matches(&l));
        assert!(!sel.matches(&json!({"app": "web", "tier": "fe", "track": "x", "env": "dev"})));
        assert!(!sel.matches(&json!({"app": "web", "tier": "fe"})));
        assert_eq!(sel.requires_exact_match("app"), Some("web"));
    }

    #[test]
    fn conversion_errors() {
        let e = |v| LabelSelector::from_api(Some(&api(v))).unwrap_err().to_string();
        assert_eq!(
            e(json!({"matchExpressions": [{"key": "a", "operator": "Foo"}]})),
            "\"Foo\" is not a valid label selector operator"
        );
        assert_eq!(
            e(json!({"matchExpressions": [{"key": "a", "operator": "In"}]})),
            "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"
        );
        assert_eq!(
            e(json!({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]})),
            "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"
        );
        assert_eq!(
            e(json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]})),
            "values: Invalid value: [\"x\"]: values set must be empty for exists and does not exist"
        );
        assert!(e(json!({"matchLabels": {"a b": "x"}})).starts_with("key: Invalid value: \"a b\": name part"));
        assert!(
            e(json!({"matchLabels": {"a": "x y"}})).starts_with("values[0][a]: Invalid value: \"x y\": a valid label")
        );
        // Two problems in one requirement: an aggregate.
        let two = e(json!({"matchExpressions": [{"key": "a b", "operator": "In"}]}));
        assert!(two.starts_with("[key: Invalid value: \"a b\""), "{two}");
        assert!(
            two.ends_with(", values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty]")
        );
        assert!(LabelSelector::from_api_json(Some(&json!({"matchLabels": 3}))).is_err());
    }

    #[test]
    fn validation() {
        let sel = api(json!({
            "matchLabels": {"bad key": "v"},
            "matchExpressions": [
                {"key": "a", "operator": "In"},
                {"key": "b", "operator": "Exists", "values": ["x"]},
                {"key": "c", "operator": "Foo"},
                {"key": "d", "operator": "In", "values": ["ok", "-bad"]}
            ]
        }));
        let errs = validate_api_label_selector(Some(&sel), LabelSelectorValidationOptions::default(), "spec.selector");
        let texts: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(texts.len(), 5, "{texts:#?}");
        assert!(texts[0].starts_with("spec.selector.matchLabels: Invalid value: \"bad key\": name part"));
        assert_eq!(
            texts[1],
            "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"
        );
        assert_eq!(
            texts[2],
            "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
        );
        assert_eq!(
            texts[3],
            "spec.selector.matchExpressions[2].operator: Invalid value: \"Foo\": not a valid selector operator"
        );
        assert!(
            texts[4].starts_with("spec.selector.matchExpressions[3].values[1]: Invalid value: \"-bad\": a valid label")
        );
        assert_eq!(errs[1].reason, "FieldValueRequired");
        assert_eq!(errs[2].reason, "FieldValueForbidden");

        let lenient = LabelSelectorValidationOptions {
            allow_invalid_label_value_in_selector: true,
            allow_unknown_operator_in_requirement: true,
        };
        assert_eq!(validate_api_label_selector(Some(&sel), lenient, "spec.selector").len(), 3);
        assert!(validate_api_label_selector(None, LabelSelectorValidationOptions::default(), "s").is_empty());
    }

    #[test]
    fn wire_round_trip() {
        let v = json!({"matchLabels": {"a": "b"}, "matchExpressions": [{"key": "k", "operator": "Exists"}]});
        let parsed = api(v.clone());
        assert_eq!(serde_json::to_value(&parsed).unwrap(), v);
    }
}
