//! The recent events of one shared watch, so a subscriber that arrives late
//! (or falls behind) is served from memory instead of from etcd.
//!
//! The buffer holds every event with a revision in `(from, last]`, in
//! order. It evicts whole revisions (a lease expiry deletes many keys at one
//! revision), so `from` always falls on a revision boundary.

use std::collections::VecDeque;

use crate::{Event, Revision};

#[derive(Debug)]
pub(crate) struct EventBuffer {
    events: VecDeque<Event>,
    /// Every event after this revision (up to `last`) is held.
    from: Revision,
    /// The revision the shared watch has delivered through.
    last: Revision,
    capacity: usize,
}

impl EventBuffer {
    /// An empty buffer for a watch that delivers events after `after`.
    pub(crate) fn new(after: Revision, capacity: usize) -> EventBuffer {
        EventBuffer { events: VecDeque::new(), from: after, last: after, capacity }
    }

    /// The revision through which every event has been seen.
    pub(crate) fn last(&self) -> Revision {
        self.last
    }

    /// Appends a batch of whole revisions, all newer than `last`, then
    /// evicts the oldest revisions while over capacity.
    pub(crate) fn push(&mut self, batch: &[Event]) {
        for event in batch {
            debug_assert!(event.revision() > self.from);
            self.last = self.last.max(event.revision());
            self.events.push_back(event.clone());
        }
        while self.events.len() > self.capacity {
            let Some(oldest) = self.events.pop_front() else { break };
            self.from = oldest.revision();
            while self.events.front().is_some_and(|e| e.revision() == self.from) {
                self.events.pop_front();
            }
        }
    }

    /// Whether every event after `after` (up to `last`) is held.
    pub(crate) fn covers(&self, after: Revision) -> bool {
        after >= self.from
    }

    /// The held events after `after`, oldest first.
    pub(crate) fn since(&self, after: Revision) -> impl Iterator<Item = &Event> {
        let start = self.events.partition_point(|e| e.revision() <= after);
        self.events.range(start..)
    }

    /// How many held events follow `after`.
    pub(crate) fn count_since(&self, after: Revision) -> usize {
        self.events.len() - self.events.partition_point(|e| e.revision() <= after)
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::KeyValue;

    fn put(key: &str, rev: Revision) -> Event {
        Event::Put {
            kv: KeyValue { key: key.into(), value: Bytes::from_static(b"v"), create_revision: rev, mod_revision: rev },
            prev: None,
        }
    }

    fn revs<'a>(events: impl Iterator<Item = &'a Event>) -> Vec<Revision> {
        events.map(Event::revision).collect()
    }

    #[test]
    fn serves_everything_after_a_covered_revision() {
        let mut buf = EventBuffer::new(10, 100);
        assert!(buf.covers(10));
        assert!(!buf.covers(9));
        buf.push(&[put("/a", 11), put("/b", 13)]);
        buf.push(&[put("/c", 14)]);
        assert_eq!(buf.last(), 14);
        assert_eq!(revs(buf.since(10)), vec![11, 13, 14]);
        assert_eq!(revs(buf.since(11)), vec![13, 14]);
        assert_eq!(revs(buf.since(12)), vec![13, 14]);
        assert_eq!(buf.count_since(12), 2);
        assert_eq!(buf.count_since(14), 0);
        assert_eq!(revs(buf.since(99)), Vec::<Revision>::new());
    }

    #[test]
    fn evicts_whole_revisions_and_stops_covering_them() {
        let mut buf = EventBuffer::new(0, 3);
        buf.push(&[put("/a", 1), put("/b", 1), put("/c", 1)]);
        assert!(buf.covers(0));
        buf.push(&[put("/a", 2)]);
        // Revision 1 went as a whole: a subscriber after 0 can't be served.
        assert!(!buf.covers(0));
        assert!(buf.covers(1));
        assert_eq!(revs(buf.since(1)), vec![2]);
        buf.push(&[put("/a", 3), put("/a", 4), put("/a", 5)]);
        assert!(!buf.covers(1));
        assert!(buf.covers(2));
        assert_eq!(revs(buf.since(2)), vec![3, 4, 5]);
    }

    #[test]
    fn a_revision_larger_than_the_buffer_empties_it() {
        let mut buf = EventBuffer::new(0, 2);
        buf.push(&[put("/a", 1)]);
        buf.push(&[put("/a", 2), put("/b", 2), put("/c", 2)]);
        assert_eq!(buf.last(), 2);
        assert!(buf.covers(2));
        assert!(!buf.covers(1));
        assert_eq!(buf.count_since(2), 0);
    }
}
