//! One etcd watch of a prefix that survives lost connections: it hands out
//! batches of whole revisions and, when the stream breaks, opens a new etcd
//! watch from the revision after the last one it handed out.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use etcd_client::EventType;

use crate::etcd::client::{Etcd, Failure, convert_kv_ref};
use crate::{Event, Revision, StoreError};

const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Counts the etcd watches open at a time.
#[derive(Debug)]
struct Counted {
    stream: etcd_client::WatchStream,
    counter: Arc<AtomicUsize>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::SeqCst);
    }
}

/// An etcd watch of `prefix` with previous values, reopened on failure.
#[derive(Debug)]
pub(crate) struct EtcdWatch {
    etcd: Etcd,
    prefix: String,
    /// The revision to (re)start from: one past the last one handed out.
    next: Revision,
    open: Option<Counted>,
    counter: Arc<AtomicUsize>,
    reconnect_timeout: Duration,
    /// Since when the watch has failed without a successful answer.
    failing_since: Option<Instant>,
    backoff: Duration,
}

impl EtcdWatch {
    /// A watch of the events after `after`; etcd is contacted on the first
    /// call to [`EtcdWatch::next_batch`].
    pub(crate) fn new(
        etcd: Etcd,
        prefix: String,
        after: Revision,
        counter: Arc<AtomicUsize>,
        reconnect_timeout: Duration,
    ) -> Self {
        EtcdWatch {
            etcd,
            prefix,
            next: after + 1,
            open: None,
            counter,
            reconnect_timeout,
            failing_since: None,
            backoff: FIRST_BACKOFF,
        }
    }

    /// The next events: one or more whole revisions, in order. An error is
    /// final: the start revision was compacted, or etcd stayed unreachable
    /// for the reconnect timeout.
    pub(crate) async fn next_batch(&mut self) -> Result<Vec<Event>, StoreError> {
        loop {
            let Some(open) = self.open.as_mut() else {
                match self.etcd.open_watch(&self.prefix, self.next).await {
                    Ok(stream) => {
                        self.counter.fetch_add(1, Ordering::SeqCst);
                        self.open = Some(Counted { stream, counter: Arc::clone(&self.counter) });
                    }
                    Err(failure) => self.failed(failure.to_string()).await?,
                }
                continue;
            };
            let resp = match open.stream.message().await {
                Ok(Some(resp)) => resp,
                Ok(None) => {
                    self.failed("etcd closed the watch stream".into()).await?;
                    continue;
                }
                Err(e) => {
                    self.failed(Failure::classify(e).to_string()).await?;
                    continue;
                }
            };
            if resp.compact_revision() > 0 {
                self.open = None;
                self.etcd.note_compacted(resp.compact_revision());
                return Err(StoreError::Compacted { requested: self.next - 1, compacted: resp.compact_revision() });
            }
            if resp.canceled() {
                self.failed(format!("etcd canceled the watch: {}", resp.cancel_reason())).await?;
                continue;
            }
            self.failing_since = None;
            self.backoff = FIRST_BACKOFF;
            if resp.events().is_empty() {
                continue;
            }
            let batch = self.convert(resp.events()).await?;
            if let Some(last) = batch.last() {
                self.next = last.revision() + 1;
            }
            if !batch.is_empty() {
                return Ok(batch);
            }
        }
    }

    /// Drops the broken stream and waits before the next attempt, or gives
    /// up once the watch has failed for the reconnect timeout.
    async fn failed(&mut self, cause: String) -> Result<(), StoreError> {
        self.open = None;
        let since = *self.failing_since.get_or_insert_with(Instant::now);
        if since.elapsed() >= self.reconnect_timeout {
            return Err(self.etcd.error(format_args!(
                "watch of {} from revision {} lost and not re-established within {:?}: {cause}",
                self.prefix, self.next, self.reconnect_timeout
            )));
        }
        tracing::debug!(prefix = %self.prefix, next = self.next, %cause, "etcd watch failed; reopening");
        tokio::time::sleep(self.backoff).await;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        Ok(())
    }

    /// Converts etcd's events. A missing previous value (etcd omits it when
    /// it was compacted away) ends the watch as compacted: a delete without
    /// the deleted value, or an update looking like a create, would mislead.
    async fn convert(&self, events: &[etcd_client::Event]) -> Result<Vec<Event>, StoreError> {
        let mut out = Vec::with_capacity(events.len());
        for ev in events {
            let Some(kv) = ev.kv() else { continue };
            let revision = kv.mod_revision();
            if revision < self.next {
                // Already handed out (etcd resends nothing, but be safe).
                continue;
            }
            let prev = ev.prev_kv().map(convert_kv_ref).transpose().map_err(|f| self.etcd.error(f))?;
            let missing_prev = match ev.event_type() {
                EventType::Delete => prev.is_none(),
                EventType::Put => prev.is_none() && kv.version() > 1,
            };
            if missing_prev {
                let compacted = self.etcd.compacted_revision().await.unwrap_or(revision);
                return Err(StoreError::Compacted { requested: revision - 1, compacted });
            }
            let event = match (ev.event_type(), prev) {
                (EventType::Delete, Some(prev)) => Event::Delete { key: prev.key.clone(), revision, prev },
                (_, prev) => Event::Put { kv: convert_kv_ref(kv).map_err(|f| self.etcd.error(f))?, prev },
            };
            out.push(event);
        }
        Ok(out)
    }
}
