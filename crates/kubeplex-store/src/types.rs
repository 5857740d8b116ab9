//! The values the store hands out: stored versions, range pages, watch events.

use bytes::Bytes;
use futures::stream::BoxStream;

use crate::StoreError;

/// A position in the store's single global history. Starts at 1 with the
/// first write; 0 means "before any write".
pub type Revision = i64;

/// One version of a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: Bytes,
    /// The revision at which the key was created (most recently).
    pub create_revision: Revision,
    /// The revision of the write that produced this version.
    pub mod_revision: Revision,
}

/// A change to a key, as delivered by a watch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A create or update; `prev` is the version it replaced, if any.
    Put { kv: KeyValue, prev: Option<KeyValue> },
    /// A deletion at `revision`; `prev` is the deleted version.
    Delete { key: String, revision: Revision, prev: KeyValue },
}

impl Event {
    /// The revision of the write this event reports.
    pub fn revision(&self) -> Revision {
        match self {
            Event::Put { kv, .. } => kv.mod_revision,
            Event::Delete { revision, .. } => *revision,
        }
    }

    /// The key this event is about.
    pub fn key(&self) -> &str {
        match self {
            Event::Put { kv, .. } => &kv.key,
            Event::Delete { key, .. } => key,
        }
    }
}

/// A stream of watch events; it ends with an `Err` when the watch cannot
/// continue (compacted while lagging, backend unreachable).
pub type WatchStream = BoxStream<'static, Result<Event, StoreError>>;

/// A request for the keys under a prefix, one page at a time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RangeRequest {
    /// Must end with `/`.
    pub prefix: String,
    /// Read as of this revision; `None` reads the latest.
    pub revision: Option<Revision>,
    /// Continue after this key (the last key of the previous page).
    pub start_after: Option<String>,
    /// At most this many keys; `None` or `Some(0)` for all of them.
    pub limit: Option<usize>,
}

impl RangeRequest {
    /// All keys under `prefix`, latest revision.
    pub fn prefix(prefix: impl Into<String>) -> Self {
        RangeRequest { prefix: prefix.into(), ..Default::default() }
    }
}

/// One page of a range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeResult {
    pub kvs: Vec<KeyValue>,
    /// The revision the page was read at: the store's current revision when
    /// the request named none. Pass it back to read the next page from the
    /// same snapshot.
    pub revision: Revision,
    /// The store's current revision when the page was read.
    pub current_revision: Revision,
    /// How many keys follow this page (0 when it is the last).
    pub remaining: u64,
}

impl RangeResult {
    /// Whether more keys follow this page.
    pub fn more(&self) -> bool {
        self.remaining > 0
    }
}
