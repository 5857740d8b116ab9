//! Watches of the etcd store: one etcd watch per prefix, shared by every
//! local watcher of that prefix.
//!
//! ```text
//!                 ┌ SharedWatch "/registry/pods/" ────────────────────┐
//!  etcd watch ───►│ task: batches ─► EventBuffer (recent revisions)   │
//!  (from after+1, │                  │ fan-out under one lock         │
//!   prev_kv)      │   subscriber 1 ◄─┤ (Live: bounded channel)        │
//!                 │   subscriber 2 ◄─┘                                │
//!                 │   subscriber 3 ◄── catch-up task: its own etcd    │
//!                 │                    watch until it meets the buffer│
//!                 └───────────────────────────────────────────────────┘
//! ```
//!
//! A new subscriber whose `after` the buffer reaches back to is served from
//! the buffer and then joins the live fan-out, all under the shared state's
//! lock, so it misses nothing and sees nothing twice. One the buffer does not
//! reach back to gets a catch-up task: a temporary etcd watch from `after+1`
//! that feeds it until the events it has delivered meet the buffer, when it
//! switches to the fan-out and the temporary watch is dropped. A live
//! subscriber that does not keep up (its channel is full) is moved to a
//! catch-up task the same way instead of stalling the others.
//!
//! When the shared etcd watch breaks it is reopened from the last revision it
//! delivered plus one; if that revision was compacted, every subscriber's
//! stream ends with [`StoreError::Compacted`]. When the last subscriber goes,
//! the shared watch is dropped, and with it the etcd watch.

mod buffer;
mod source;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::client::Etcd;
use crate::{Event, Revision, StoreError, WatchStream};
pub(crate) use buffer::EventBuffer;
use source::EtcdWatch;

/// Sizes and limits of the hub.
#[derive(Debug, Clone, Copy)]
pub(super) struct HubConfig {
    /// Recent events kept per shared watch.
    pub(super) buffer_events: usize,
    /// Events queued per subscriber before it is moved to a catch-up task.
    pub(super) channel_capacity: usize,
    /// How long a broken etcd watch is retried before its streams end.
    pub(super) reconnect_timeout: Duration,
}

/// The watches of one store.
#[derive(Debug, Clone)]
pub(super) struct WatchHub {
    inner: Arc<HubInner>,
}

#[derive(Debug)]
struct HubInner {
    etcd: Etcd,
    config: HubConfig,
    /// The shared watch of each watched prefix. Lock order: this map, then
    /// a shared watch's state.
    prefixes: Mutex<HashMap<String, Arc<SharedWatch>>>,
    /// etcd watches open now (shared and catch-up).
    etcd_watches: Arc<AtomicUsize>,
}

#[derive(Debug)]
struct SharedWatch {
    prefix: String,
    state: Mutex<SharedState>,
}

#[derive(Debug)]
struct SharedState {
    buffer: EventBuffer,
    subscribers: HashMap<u64, Subscriber>,
    next_id: u64,
    /// The task reading the shared etcd watch.
    task: Option<AbortHandle>,
}

#[derive(Debug)]
struct Subscriber {
    tx: mpsc::Sender<Event>,
    /// Why the stream ended, read by the stream once its channel is drained.
    end: Arc<Mutex<Option<StoreError>>>,
    mode: Mode,
}

#[derive(Debug)]
enum Mode {
    /// Fed by the shared watch; every event through `through` is queued.
    Live { through: Revision },
    /// Fed by its own catch-up task.
    CatchingUp { task: AbortHandle },
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl WatchHub {
    pub(super) fn new(etcd: Etcd, config: HubConfig) -> WatchHub {
        let config = HubConfig {
            buffer_events: config.buffer_events.max(1),
            // A subscriber's channel must hold a whole buffer to switch over.
            channel_capacity: config.channel_capacity.max(config.buffer_events).max(1),
            reconnect_timeout: config.reconnect_timeout,
        };
        WatchHub {
            inner: Arc::new(HubInner {
                etcd,
                config,
                prefixes: Mutex::new(HashMap::new()),
                etcd_watches: Arc::new(AtomicUsize::new(0)),
            }),
        }
    }

    /// How many etcd watches are open now.
    pub(super) fn etcd_watches(&self) -> usize {
        self.inner.etcd_watches.load(Ordering::SeqCst)
    }

    /// How many prefixes have a shared watch.
    pub(super) fn shared_watches(&self) -> usize {
        lock(&self.inner.prefixes).len()
    }

    /// A stream of the events under `prefix` after `after`. The caller has
    /// checked that `after` is not compacted.
    pub(super) fn subscribe(&self, prefix: &str, after: Revision) -> WatchStream {
        let hub = &self.inner;
        let (tx, rx) = mpsc::channel(hub.config.channel_capacity);
        let end = Arc::new(Mutex::new(None));
        let mut prefixes = lock(&hub.prefixes);
        let shared = match prefixes.get(prefix) {
            Some(shared) => Arc::clone(shared),
            None => {
                let shared = Arc::new(SharedWatch {
                    prefix: prefix.to_owned(),
                    state: Mutex::new(SharedState {
                        buffer: EventBuffer::new(after, hub.config.buffer_events),
                        subscribers: HashMap::new(),
                        next_id: 0,
                        task: None,
                    }),
                });
                let task = tokio::spawn(run_shared(Arc::clone(hub), Arc::clone(&shared), after));
                lock(&shared.state).task = Some(task.abort_handle());
                prefixes.insert(prefix.to_owned(), Arc::clone(&shared));
                tracing::debug!(prefix, after, "opened shared etcd watch");
                shared
            }
        };
        let mut state = lock(&shared.state);
        let id = state.next_id;
        state.next_id += 1;
        let mode = if after >= state.buffer.last() {
            Mode::Live { through: after }
        } else if state.buffer.covers(after) {
            // A new channel holds a whole buffer (see `new`).
            for event in state.buffer.since(after) {
                let _ = tx.try_send(event.clone());
            }
            Mode::Live { through: state.buffer.last() }
        } else {
            let task = tokio::spawn(catch_up(Arc::clone(hub), Arc::clone(&shared), id, after, tx.clone()));
            Mode::CatchingUp { task: task.abort_handle() }
        };
        state.subscribers.insert(id, Subscriber { tx, end: Arc::clone(&end), mode });
        drop(state);
        drop(prefixes);
        Box::pin(SubscriberStream {
            rx,
            end,
            finished: false,
            _subscription: Subscription { hub: Arc::clone(hub), shared, id },
        })
    }
}

/// Removes a subscriber (ending its stream with `error`, if any); when it
/// was the last one, drops the shared watch and its etcd watch.
fn remove_subscriber(hub: &HubInner, shared: &Arc<SharedWatch>, id: u64, error: Option<StoreError>) {
    let mut prefixes = lock(&hub.prefixes);
    let mut state = lock(&shared.state);
    let Some(sub) = state.subscribers.remove(&id) else { return };
    if let Some(error) = error {
        *lock(&sub.end) = Some(error);
    }
    if let Mode::CatchingUp { task } = &sub.mode {
        task.abort();
    }
    if state.subscribers.is_empty() {
        if let Some(task) = state.task.take() {
            task.abort();
        }
        if prefixes.get(&shared.prefix).is_some_and(|s| Arc::ptr_eq(s, shared)) {
            prefixes.remove(&shared.prefix);
            tracing::debug!(prefix = %shared.prefix, "closed shared etcd watch: no subscribers left");
        }
    }
}

/// Reads the shared etcd watch and fans its events out.
async fn run_shared(hub: Arc<HubInner>, shared: Arc<SharedWatch>, after: Revision) {
    let mut source = EtcdWatch::new(
        hub.etcd.clone(),
        shared.prefix.clone(),
        after,
        Arc::clone(&hub.etcd_watches),
        hub.config.reconnect_timeout,
    );
    loop {
        match source.next_batch().await {
            Ok(batch) => fan_out(&hub, &shared, &batch),
            Err(error) => {
                fail_all(&hub, &shared, &error);
                return;
            }
        }
    }
}

/// Buffers a batch and queues it for every live subscriber; one whose
/// channel cannot take its part is moved to a catch-up task.
fn fan_out(hub: &Arc<HubInner>, shared: &Arc<SharedWatch>, batch: &[Event]) {
    let mut state = lock(&shared.state);
    state.buffer.push(batch);
    let SharedState { subscribers, .. } = &mut *state;
    for (&id, sub) in subscribers.iter_mut() {
        let Mode::Live { through } = &mut sub.mode else { continue };
        let start = batch.partition_point(|e| e.revision() <= *through);
        let part = &batch[start..];
        let Some(last) = part.last() else { continue };
        // Only this task sends to a live subscriber, so the free capacity
        // can only grow between this check and the sends.
        if sub.tx.capacity() >= part.len() {
            for event in part {
                let _ = sub.tx.try_send(event.clone());
            }
            *through = last.revision();
        } else if !sub.tx.is_closed() {
            tracing::debug!(prefix = %shared.prefix, through = *through, "watcher fell behind; catching up on its own");
            let task = tokio::spawn(catch_up(Arc::clone(hub), Arc::clone(shared), id, *through, sub.tx.clone()));
            sub.mode = Mode::CatchingUp { task: task.abort_handle() };
        }
    }
}

/// Ends every subscriber's stream with `error` and forgets the shared watch.
fn fail_all(hub: &HubInner, shared: &Arc<SharedWatch>, error: &StoreError) {
    tracing::warn!(prefix = %shared.prefix, %error, "shared etcd watch ended");
    let mut prefixes = lock(&hub.prefixes);
    if prefixes.get(&shared.prefix).is_some_and(|s| Arc::ptr_eq(s, shared)) {
        prefixes.remove(&shared.prefix);
    }
    let mut state = lock(&shared.state);
    state.task = None;
    for (_, sub) in state.subscribers.drain() {
        *lock(&sub.end) = Some(copy_error(hub, error));
        if let Mode::CatchingUp { task } = sub.mode {
            task.abort();
        }
    }
}

/// `StoreError` is not `Clone`; the errors a watch ends with are rebuilt.
fn copy_error(hub: &HubInner, error: &StoreError) -> StoreError {
    match error {
        StoreError::Compacted { requested, compacted } => {
            StoreError::Compacted { requested: *requested, compacted: *compacted }
        }
        StoreError::Etcd { endpoints, message } => {
            StoreError::Etcd { endpoints: endpoints.clone(), message: message.clone() }
        }
        other => hub.etcd.error(other),
    }
}

/// The outcome of an attempt to move a catching-up subscriber to the fan-out.
enum Rejoin {
    Joined,
    /// The subscriber is gone.
    Gone,
    /// Its channel needs this much free room for the buffered events.
    NeedRoom(usize),
    /// The buffer does not reach back to what it has delivered.
    NeedHistory,
}

fn try_rejoin(shared: &SharedWatch, id: u64, through: Revision) -> Rejoin {
    let mut state = lock(&shared.state);
    let SharedState { buffer, subscribers, .. } = &mut *state;
    let Some(sub) = subscribers.get_mut(&id) else { return Rejoin::Gone };
    if !buffer.covers(through) {
        return Rejoin::NeedHistory;
    }
    let needed = buffer.count_since(through);
    if sub.tx.capacity() < needed {
        return Rejoin::NeedRoom(needed);
    }
    for event in buffer.since(through) {
        let _ = sub.tx.try_send(event.clone());
    }
    sub.mode = Mode::Live { through: through.max(buffer.last()) };
    Rejoin::Joined
}

/// Feeds one subscriber that is behind the shared watch: from the buffer if
/// it still reaches back far enough, else from a temporary etcd watch until
/// what it has delivered meets the buffer; then hands it to the fan-out.
async fn catch_up(
    hub: Arc<HubInner>,
    shared: Arc<SharedWatch>,
    id: u64,
    mut through: Revision,
    tx: mpsc::Sender<Event>,
) {
    let mut source: Option<EtcdWatch> = None;
    loop {
        match try_rejoin(&shared, id, through) {
            Rejoin::Joined => {
                if source.is_some() {
                    tracing::debug!(prefix = %shared.prefix, through, "caught-up watcher joined the shared watch");
                }
                return;
            }
            Rejoin::Gone => return,
            Rejoin::NeedRoom(n) => {
                // Wait until the subscriber has read enough, then retry.
                if tx.reserve_many(n).await.is_err() {
                    return;
                }
                continue;
            }
            Rejoin::NeedHistory => {}
        }
        let watch = source.get_or_insert_with(|| {
            EtcdWatch::new(
                hub.etcd.clone(),
                shared.prefix.clone(),
                through,
                Arc::clone(&hub.etcd_watches),
                hub.config.reconnect_timeout,
            )
        });
        match watch.next_batch().await {
            Ok(batch) => {
                for event in batch {
                    if event.revision() <= through {
                        continue;
                    }
                    let revision = event.revision();
                    if tx.send(event).await.is_err() {
                        return;
                    }
                    through = revision;
                }
            }
            Err(error) => {
                remove_subscriber(&hub, &shared, id, Some(error));
                return;
            }
        }
    }
}

/// Keeps a subscriber registered for as long as its stream lives.
#[derive(Debug)]
struct Subscription {
    hub: Arc<HubInner>,
    shared: Arc<SharedWatch>,
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        remove_subscriber(&self.hub, &self.shared, self.id, None);
    }
}

/// The stream a caller of `watch` reads.
#[derive(Debug)]
struct SubscriberStream {
    rx: mpsc::Receiver<Event>,
    end: Arc<Mutex<Option<StoreError>>>,
    finished: bool,
    _subscription: Subscription,
}

impl Stream for SubscriberStream {
    type Item = Result<Event, StoreError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.finished {
            return Poll::Ready(None);
        }
        match this.rx.poll_recv(cx) {
            Poll::Ready(Some(event)) => Poll::Ready(Some(Ok(event))),
            Poll::Ready(None) => {
                this.finished = true;
                let error = lock(&this.end).take();
                Poll::Ready(error.map(Err))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
