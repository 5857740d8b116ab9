//! The `FailedScheduling` text, as upstream 1.36 prints it (`FitError.Error()`
//! in pkg/scheduler/framework/types.go, the DefaultPreemption PostFilter
//! message):
//!
//! ```text
//! 0/N nodes are available: <sorted "count reason" list>. preemption: 0/N nodes are available: <sorted list>.
//! ```
//!
//! Each entry is `"<count> <reason>"`, and the entries are sorted as strings
//! (so `"10 x"` sorts before `"2 y"`), exactly as upstream's `sort.Strings`.
//!
//! Preemption is not implemented yet; the suffix is what upstream's
//! DefaultPreemption prints when no node holds a pod of lower priority than the
//! incoming one: every node rejected only by NodeResourcesFit (status
//! `Unschedulable`) reports `No preemption victims found for incoming pod`, every
//! other node `Preemption is not helpful for scheduling`; a pod with
//! `preemptionPolicy: Never` gets `not eligible due to preemptionPolicy=Never.`

use std::collections::BTreeMap;

/// `ErrNoNodesAvailable`: the message when the cluster has no nodes (no
/// preemption suffix: upstream does not run PostFilter then).
pub const NO_NODES_AVAILABLE: &str = "no nodes available to schedule pods";
/// The `PodScheduled=False` condition reason for all of these failures.
pub const REASON_UNSCHEDULABLE: &str = "Unschedulable";
/// The event reason.
pub const EVENT_REASON_FAILED_SCHEDULING: &str = "FailedScheduling";
/// DefaultPreemption's reason for a node where no lower-priority pod runs.
pub const REASON_NO_PREEMPTION_VICTIMS: &str = "No preemption victims found for incoming pod";
/// DefaultPreemption's reason for nodes whose rejection preemption cannot fix.
pub const REASON_PREEMPTION_NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";
/// DefaultPreemption's message for `preemptionPolicy: Never`.
pub const PREEMPTION_POLICY_NEVER: &str = "not eligible due to preemptionPolicy=Never.";
/// NodeAffinity PreFilter's message when the pod's node-name terms exclude each other.
pub const REASON_AFFINITY_CONFLICT: &str = "pod affinity terms conflict";
/// Upstream's event note limit (`NoteLengthLimit`).
pub const NOTE_LENGTH_LIMIT: usize = 1024;

/// Counts of reasons over nodes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReasonHistogram(BTreeMap<String, usize>);

impl ReasonHistogram {
    /// An empty histogram.
    pub fn new() -> ReasonHistogram {
        ReasonHistogram::default()
    }

    /// Counts `reason` for `n` nodes.
    pub fn add(&mut self, reason: &str, n: usize) {
        if n == 0 {
            return;
        }
        match self.0.get_mut(reason) {
            Some(c) => *c += n,
            None => {
                self.0.insert(reason.to_owned(), n);
            }
        }
    }

    /// `"<count> <reason>"` entries sorted as strings, joined by `", "`.
    pub fn sorted(&self) -> String {
        let mut parts: Vec<String> = self.0.iter().map(|(r, c)| format!("{c} {r}")).collect();
        parts.sort();
        parts.join(", ")
    }
}

/// Upstream's `FitError.Error()`: the header, then the PreFilter message or the
/// filter histogram, then the PostFilter message.
pub fn fit_error(
    num_all_nodes: usize,
    pre_filter: Option<&str>,
    filters: &ReasonHistogram,
    post_filter: &str,
) -> String {
    let mut msg = format!("0/{num_all_nodes} nodes are available:");
    match pre_filter {
        Some(p) if !p.is_empty() => {
            msg.push(' ');
            msg.push_str(p);
            msg.push('.');
        }
        _ => {
            let sorted = filters.sorted();
            if !sorted.is_empty() {
                msg.push(' ');
                msg.push_str(&sorted);
                msg.push('.');
            }
        }
    }
    if !post_filter.is_empty() {
        msg.push(' ');
        msg.push_str(post_filter);
    }
    msg
}

/// DefaultPreemption's message when no lower-priority pod exists anywhere:
/// `victimless` nodes were rejected with status `Unschedulable` only.
pub fn preemption_without_victims(num_all_nodes: usize, victimless: usize, preemption_never: bool) -> String {
    if preemption_never {
        return format!("preemption: {PREEMPTION_POLICY_NEVER}");
    }
    let mut h = ReasonHistogram::new();
    h.add(REASON_NO_PREEMPTION_VICTIMS, victimless);
    h.add(REASON_PREEMPTION_NOT_HELPFUL, num_all_nodes.saturating_sub(victimless));
    format!("preemption: {}", fit_error(num_all_nodes, None, &h, ""))
}

/// The event note: the message cut to 1024 bytes with a `" ..."` suffix, as
/// upstream's `truncateMessage` (the condition keeps the full message).
pub fn truncate_event_message(message: &str) -> String {
    if message.len() <= NOTE_LENGTH_LIMIT {
        return message.to_owned();
    }
    let mut end = NOTE_LENGTH_LIMIT - 4;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{} ...", message.get(..end).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_sort_as_strings() {
        let mut h = ReasonHistogram::new();
        h.add("Insufficient nvidia.com/gpu", 2);
        h.add("node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }", 1);
        h.add("Insufficient cpu", 10);
        assert_eq!(
            h.sorted(),
            "1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, \
             10 Insufficient cpu, 2 Insufficient nvidia.com/gpu"
        );
    }

    #[test]
    fn fit_error_shapes() {
        let h = ReasonHistogram::new();
        assert_eq!(fit_error(0, None, &h, ""), "0/0 nodes are available:");
        assert_eq!(
            fit_error(3, Some(REASON_AFFINITY_CONFLICT), &h, "preemption: x"),
            "0/3 nodes are available: pod affinity terms conflict. preemption: x"
        );
        assert_eq!(
            preemption_without_victims(3, 3, false),
            "preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
        );
        assert_eq!(
            preemption_without_victims(4, 1, false),
            "preemption: 0/4 nodes are available: 1 No preemption victims found for incoming pod, \
             3 Preemption is not helpful for scheduling."
        );
        assert_eq!(preemption_without_victims(4, 1, true), "preemption: not eligible due to preemptionPolicy=Never.");
    }

    #[test]
    fn event_message_truncates() {
        let long = "x".repeat(2000);
        let t = truncate_event_message(&long);
        assert_eq!(t.len(), 1024);
        assert!(t.ends_with("x ..."));
        assert_eq!(truncate_event_message("short"), "short");
    }
}
