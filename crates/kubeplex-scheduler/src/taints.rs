//! Taints and tolerations, read once: upstream's `ToleratesTaint` and
//! `FindMatchingUntoleratedTaint` (component-helpers/scheduling/corev1).

use k8s_openapi::api::core::v1::{Taint, Toleration};

/// `NoSchedule`.
pub const EFFECT_NO_SCHEDULE: &str = "NoSchedule";
/// `PreferNoSchedule`.
pub const EFFECT_PREFER_NO_SCHEDULE: &str = "PreferNoSchedule";
/// `NoExecute`.
pub const EFFECT_NO_EXECUTE: &str = "NoExecute";
/// The taint a cordoned node is treated as having (`node.kubernetes.io/unschedulable`).
pub const TAINT_NODE_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";

/// A node's taint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeTaint {
    /// `key`.
    pub key: String,
    /// `value` (empty when unset).
    pub value: String,
    /// `effect`.
    pub effect: String,
}

impl NodeTaint {
    /// Reads a taint.
    pub fn from_api(t: &Taint) -> NodeTaint {
        NodeTaint { key: t.key.clone(), value: t.value.clone().unwrap_or_default(), effect: t.effect.clone() }
    }

    /// Whether the filter looks at this taint (`NoSchedule` or `NoExecute`).
    pub fn blocks_scheduling(&self) -> bool {
        self.effect == EFFECT_NO_SCHEDULE || self.effect == EFFECT_NO_EXECUTE
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Operator {
    Equal,
    Exists,
    /// An operator this level does not know (or a comparison operator behind
    /// an alpha gate): tolerates nothing, as upstream with the gate off.
    Other,
}

/// A pod's toleration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodToleration {
    key: String,
    operator: Operator,
    value: String,
    /// Empty = every effect.
    effect: String,
}

impl PodToleration {
    /// Reads a toleration.
    pub fn from_api(t: &Toleration) -> PodToleration {
        let operator = match t.operator.as_deref() {
            None | Some("") | Some("Equal") => Operator::Equal,
            Some("Exists") => Operator::Exists,
            Some(_) => Operator::Other,
        };
        PodToleration {
            key: t.key.clone().unwrap_or_default(),
            operator,
            value: t.value.clone().unwrap_or_default(),
            effect: t.effect.clone().unwrap_or_default(),
        }
    }

    /// Upstream's `ToleratesTaint`.
    pub fn tolerates(&self, key: &str, value: &str, effect: &str) -> bool {
        if !self.effect.is_empty() && self.effect != effect {
            return false;
        }
        if !self.key.is_empty() && self.key != key {
            return false;
        }
        match self.operator {
            Operator::Equal => self.value == value,
            Operator::Exists => true,
            Operator::Other => false,
        }
    }

    /// Whether TaintToleration's score counts this toleration (effect empty or `PreferNoSchedule`).
    pub fn applies_to_prefer_no_schedule(&self) -> bool {
        self.effect.is_empty() || self.effect == EFFECT_PREFER_NO_SCHEDULE
    }
}

/// Whether any toleration tolerates the taint.
pub fn tolerated(tolerations: &[PodToleration], key: &str, value: &str, effect: &str) -> bool {
    tolerations.iter().any(|t| t.tolerates(key, value, effect))
}

/// The index of the first `NoSchedule`/`NoExecute` taint no toleration tolerates.
pub fn first_untolerated(taints: &[NodeTaint], tolerations: &[PodToleration]) -> Option<usize> {
    taints.iter().position(|t| t.blocks_scheduling() && !tolerated(tolerations, &t.key, &t.value, &t.effect))
}

/// How many `PreferNoSchedule` taints the pod's (prefer-no-schedule) tolerations leave untolerated.
pub fn count_untolerated_prefer_no_schedule(taints: &[NodeTaint], tolerations: &[PodToleration]) -> i64 {
    let mut n = 0;
    for t in taints.iter().filter(|t| t.effect == EFFECT_PREFER_NO_SCHEDULE) {
        let ok = tolerations
            .iter()
            .filter(|tol| tol.applies_to_prefer_no_schedule())
            .any(|tol| tol.tolerates(&t.key, &t.value, &t.effect));
        if !ok {
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taint(key: &str, value: &str, effect: &str) -> NodeTaint {
        NodeTaint { key: key.into(), value: value.into(), effect: effect.into() }
    }

    fn tol(key: Option<&str>, op: Option<&str>, value: Option<&str>, effect: Option<&str>) -> PodToleration {
        PodToleration::from_api(&Toleration {
            key: key.map(Into::into),
            operator: op.map(Into::into),
            value: value.map(Into::into),
            effect: effect.map(Into::into),
            toleration_seconds: None,
        })
    }

    #[test]
    fn toleration_matching() {
        let t = taint("gpu", "true", EFFECT_NO_SCHEDULE);
        assert!(tol(Some("gpu"), None, Some("true"), None).tolerates(&t.key, &t.value, &t.effect));
        assert!(!tol(Some("gpu"), Some("Equal"), Some("false"), None).tolerates(&t.key, &t.value, &t.effect));
        assert!(tol(Some("gpu"), Some("Exists"), None, Some("NoSchedule")).tolerates(&t.key, &t.value, &t.effect));
        assert!(!tol(Some("gpu"), Some("Exists"), None, Some("NoExecute")).tolerates(&t.key, &t.value, &t.effect));
        assert!(tol(None, Some("Exists"), None, None).tolerates(&t.key, &t.value, &t.effect));
        assert!(!tol(Some("gpu"), Some("Gt"), Some("1"), None).tolerates(&t.key, &t.value, &t.effect));
    }

    #[test]
    fn first_untolerated_skips_prefer_no_schedule_and_tolerated() {
        let taints = vec![
            taint("soft", "", EFFECT_PREFER_NO_SCHEDULE),
            taint("a", "1", EFFECT_NO_SCHEDULE),
            taint("b", "", EFFECT_NO_EXECUTE),
        ];
        assert_eq!(first_untolerated(&taints, &[]), Some(1));
        let tols = vec![tol(Some("a"), None, Some("1"), None)];
        assert_eq!(first_untolerated(&taints, &tols), Some(2));
        assert_eq!(count_untolerated_prefer_no_schedule(&taints, &tols), 1);
        let tols = vec![tol(Some("soft"), Some("Exists"), None, Some(EFFECT_NO_SCHEDULE))];
        assert_eq!(count_untolerated_prefer_no_schedule(&taints, &tols), 1);
        let tols = vec![tol(Some("soft"), Some("Exists"), None, None)];
        assert_eq!(count_untolerated_prefer_no_schedule(&taints, &tols), 0);
    }
}
