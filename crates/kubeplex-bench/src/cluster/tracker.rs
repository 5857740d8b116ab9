//! What the benchmark learns from its watch of pods: when each pod was
//! first seen, bound to a node and Running, kept as counts and the instants
//! of each first. Pure: fed one watch event line at a time with the instant
//! it arrived.
//!
//! ```text
//!  {"type":"ADDED","object":{metadata.uid, spec.nodeName, status.phase}} ──► line(bytes, now)
//!     ├─ new uid            ─► created += 1
//!     ├─ nodeName set first ─► bound_at.push(now)      (scheduler throughput, backlog)
//!     └─ Running first      ─► running_at.push(now)
//! ```

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Deserialize;

/// One watch event, only the fields the benchmark reads.
#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
    object: PodLite,
}

#[derive(Deserialize)]
struct PodLite {
    #[serde(default)]
    metadata: Meta,
    #[serde(default)]
    spec: Spec,
    #[serde(default)]
    status: Status,
}

#[derive(Default, Deserialize)]
struct Meta {
    #[serde(default)]
    uid: String,
    #[serde(default, rename = "resourceVersion")]
    resource_version: String,
}

#[derive(Default, Deserialize)]
struct Spec {
    #[serde(default, rename = "nodeName")]
    node_name: Option<String>,
}

#[derive(Default, Deserialize)]
struct Status {
    #[serde(default)]
    phase: Option<String>,
}

#[derive(Clone, Copy, Debug, Default)]
struct Seen {
    bound: bool,
    running: bool,
}

/// The pods seen so far and when each step happened.
#[derive(Debug, Default)]
pub struct PodTracker {
    pods: HashMap<String, Seen>,
    /// When each pod was first seen, in order.
    pub created_at: Vec<Instant>,
    /// When each pod was first seen bound to a node, in order.
    pub bound_at: Vec<Instant>,
    /// When each pod was first seen Running, in order.
    pub running_at: Vec<Instant>,
    /// Pods deleted (none are expected: every pod is wanted).
    pub deleted: u64,
    /// The most pods seen created but not yet bound at once.
    pub max_waiting: usize,
    /// The resourceVersion of the last event (to resume a watch).
    pub resource_version: String,
}

/// What a watch line was.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A pod event, counted.
    Pod,
    /// A BOOKMARK (its resourceVersion kept).
    Bookmark,
    /// An ERROR event: its text (the watch must be started again).
    Error(String),
}

impl PodTracker {
    /// Takes one watch event line received at `now`.
    pub fn line(&mut self, line: &[u8], now: Instant) -> Result<Line, String> {
        let event: Event<'_> = serde_json::from_slice(line).map_err(|e| {
            let text = String::from_utf8_lossy(&line[..line.len().min(300)]);
            format!("an unreadable watch event ({e}): {text}")
        })?;
        if event.kind == "ERROR" {
            return Ok(Line::Error(String::from_utf8_lossy(line).into_owned()));
        }
        let pod = event.object;
        if !pod.metadata.resource_version.is_empty() {
            self.resource_version = pod.metadata.resource_version;
        }
        if event.kind == "BOOKMARK" {
            return Ok(Line::Bookmark);
        }
        if event.kind == "DELETED" {
            if self.pods.remove(&pod.metadata.uid).is_some() {
                self.deleted += 1;
            }
            return Ok(Line::Pod);
        }
        let seen = self.pods.entry(pod.metadata.uid).or_insert_with(|| {
            self.created_at.push(now);
            Seen::default()
        });
        if !seen.bound && pod.spec.node_name.is_some_and(|n| !n.is_empty()) {
            seen.bound = true;
            self.bound_at.push(now);
        }
        if !seen.running && pod.status.phase.as_deref() == Some("Running") {
            seen.running = true;
            self.running_at.push(now);
        }
        self.max_waiting = self.max_waiting.max(self.created_at.len().saturating_sub(self.bound_at.len()));
        Ok(Line::Pod)
    }

    /// Pods seen Running.
    pub fn running(&self) -> usize {
        self.running_at.len()
    }
}

/// How fast a step went: `count` events from the first to the last.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Span {
    pub count: usize,
    /// From the start of the run to the first event.
    pub first: Duration,
    /// From the start of the run to the last event.
    pub last: Duration,
}

impl Span {
    /// The instants of a step, relative to `start` (`None` when empty).
    pub fn of(times: &[Instant], start: Instant) -> Option<Span> {
        let (first, last) = (times.first()?, times.last()?);
        Some(Span {
            count: times.len(),
            first: first.saturating_duration_since(start),
            last: last.saturating_duration_since(start),
        })
    }

    /// Events per second from the start of the run to the last event.
    pub fn rate_from_start(&self) -> f64 {
        per_second(self.count, self.last)
    }

    /// Events per second from the first event to the last.
    pub fn rate_while_busy(&self) -> f64 {
        per_second(self.count.saturating_sub(1), self.last.saturating_sub(self.first))
    }
}

fn per_second(count: usize, over: Duration) -> f64 {
    if over.is_zero() { 0.0 } else { count as f64 / over.as_secs_f64() }
}

/// The most events within any `window` (a sliding window over sorted instants).
pub fn peak_rate(times: &[Instant], window: Duration) -> f64 {
    let mut best = 0;
    let mut start = 0;
    for (end, t) in times.iter().enumerate() {
        while t.saturating_duration_since(times[start]) > window {
            start += 1;
        }
        best = best.max(end + 1 - start);
    }
    per_second(best, window)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, uid: &str, node: Option<&str>, phase: &str, rv: u32) -> Vec<u8> {
        let spec = match node {
            Some(n) => serde_json::json!({"nodeName": n, "containers": [{"name": "c", "image": "i"}]}),
            None => serde_json::json!({"containers": [{"name": "c", "image": "i"}]}),
        };
        serde_json::to_vec(&serde_json::json!({
            "type": kind,
            "object": {"kind": "Pod", "metadata": {"uid": uid, "name": uid, "resourceVersion": rv.to_string()},
                       "spec": spec, "status": {"phase": phase}}
        }))
        .expect("json")
    }

    #[test]
    fn counts_each_step_once() {
        let mut t = PodTracker::default();
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        assert_eq!(t.line(&event("ADDED", "a", None, "Pending", 1), at(0)), Ok(Line::Pod));
        t.line(&event("ADDED", "b", None, "Pending", 2), at(1)).expect("b");
        assert_eq!(t.max_waiting, 2);
        t.line(&event("MODIFIED", "a", Some("n1"), "Pending", 3), at(10)).expect("a bound");
        t.line(&event("MODIFIED", "a", Some("n1"), "Running", 4), at(20)).expect("a running");
        t.line(&event("MODIFIED", "a", Some("n1"), "Running", 5), at(30)).expect("a again");
        t.line(&event("MODIFIED", "b", Some("n2"), "Running", 6), at(40)).expect("b both");
        assert_eq!((t.created_at.len(), t.bound_at.len(), t.running()), (2, 2, 2));
        assert_eq!(t.resource_version, "6");
        let bookmark = br#"{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"9"}}}"#;
        assert_eq!(t.line(bookmark, at(50)), Ok(Line::Bookmark));
        assert_eq!(t.resource_version, "9");
        t.line(&event("DELETED", "b", Some("n2"), "Running", 10), at(60)).expect("deleted");
        assert_eq!(t.deleted, 1);
        let error = br#"{"type":"ERROR","object":{"kind":"Status","code":410}}"#;
        assert!(matches!(t.line(error, at(70)), Ok(Line::Error(_))));
        assert!(t.line(b"{not json", at(80)).is_err());

        let span = Span::of(&t.bound_at, t0).expect("bound");
        assert_eq!(span, Span { count: 2, first: Duration::from_millis(10), last: Duration::from_millis(40) });
        assert!((span.rate_from_start() - 50.0).abs() < 1e-9);
        assert!((span.rate_while_busy() - 1.0 / 0.03).abs() < 1e-6);
        assert_eq!(Span::of(&[], t0), None);
    }

    #[test]
    fn peak_rate_is_the_busiest_window() {
        let t0 = Instant::now();
        let times: Vec<Instant> =
            [0, 100, 1500, 1600, 1700, 1800, 3000].iter().map(|ms| t0 + Duration::from_millis(*ms)).collect();
        assert!((peak_rate(&times, Duration::from_secs(1)) - 4.0).abs() < 1e-9);
        assert_eq!(peak_rate(&[], Duration::from_secs(1)), 0.0);
    }
}
