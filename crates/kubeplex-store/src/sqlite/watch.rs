//! Watch streams of the SQLite store.
//!
//! A watch first subscribes to the writer's live events, noting the revision
//! `at` it subscribed at, then reads the history `(after, at]` from the table
//! in pages, then follows live events, which all have revisions above `at`.
//! A watcher that falls too far behind the live stream (the broadcast buffer
//! overflowed) is not failed: it subscribes again and catches up from the
//! table, from the last revision it delivered. Nothing is polled.

use std::collections::VecDeque;
use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::broadcast::{self, error::RecvError};

use super::{Shared, read};
use crate::{Event, Result, Revision, StoreError, WatchStream};

/// Events read from the table per page while catching up.
const CATCH_UP_PAGE: usize = 1_000;

/// Starts a watch of `prefix` for revisions after `after`.
pub(super) fn start(shared: Arc<Shared>, prefix: String, after: Revision) -> Result<WatchStream> {
    shared.check_compacted(after)?;
    let (lo, hi) = read::bounds(&prefix);
    let (live, at) = shared.subscribe()?;
    let state =
        WatchState { shared, prefix, lo, hi, cursor: after, upto: at, live, pending: VecDeque::new(), done: false };
    Ok(futures::stream::unfold(state, |mut state| async move { state.next().await.map(|item| (item, state)) }).boxed())
}

struct WatchState {
    shared: Arc<Shared>,
    prefix: String,
    lo: Vec<u8>,
    hi: Vec<u8>,
    /// Every event up to this revision has been delivered or queued.
    cursor: Revision,
    /// History up to this revision comes from the table; later from `live`.
    upto: Revision,
    live: broadcast::Receiver<Arc<[Event]>>,
    pending: VecDeque<Event>,
    done: bool,
}

impl WatchState {
    async fn next(&mut self) -> Option<Result<Event>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(Ok(event));
            }
            if self.done {
                return None;
            }
            let step = if self.cursor < self.upto { self.catch_up().await } else { self.follow().await };
            if let Err(e) = step {
                self.done = true;
                return Some(Err(e));
            }
        }
    }

    /// Reads the next page of history from the table.
    async fn catch_up(&mut self) -> Result<()> {
        let (prefix, after, upto) = (self.prefix.clone(), self.cursor, self.upto);
        let events =
            self.shared.read(after, move |conn| read::events(conn, &prefix, after, upto, CATCH_UP_PAGE)).await?;
        self.cursor = if events.len() < CATCH_UP_PAGE { upto } else { events.last().map_or(upto, Event::revision) };
        self.pending.extend(events);
        Ok(())
    }

    /// Waits for the next batch of live events.
    async fn follow(&mut self) -> Result<()> {
        match self.live.recv().await {
            Ok(batch) => {
                for event in batch.iter() {
                    let key = event.key().as_bytes();
                    if event.revision() > self.cursor && key >= self.lo.as_slice() && key < self.hi.as_slice() {
                        self.pending.push_back(event.clone());
                    }
                }
                if let Some(last) = batch.last() {
                    self.cursor = self.cursor.max(last.revision());
                }
                self.upto = self.upto.max(self.cursor);
                Ok(())
            }
            Err(RecvError::Lagged(missed)) => {
                tracing::debug!(prefix = %self.prefix, missed, "watch fell behind; catching up from the table");
                let (live, at) = self.shared.subscribe()?;
                self.live = live;
                self.upto = at;
                Ok(())
            }
            Err(RecvError::Closed) => Err(StoreError::Closed),
        }
    }
}
