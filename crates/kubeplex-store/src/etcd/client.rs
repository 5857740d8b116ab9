//! The etcd connection shared by the store, its lease pool and its watches:
//! every unary request bounded by the request timeout, etcd's errors sorted
//! into the few the store branches on, and etcd's key-values converted.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use etcd_client::{GetOptions, KvClient, LeaseClient, WatchClient, WatchOptions};

use crate::{KeyValue, Revision, StoreError};

/// An etcd request's failure, sorted by what the store does about it.
#[derive(Debug)]
pub(super) enum Failure {
    /// The revision asked for has been compacted.
    Compacted,
    /// The revision asked for is newer than the store's.
    FutureRevision,
    /// A put named a lease that has expired or been revoked.
    LeaseNotFound,
    /// Anything else: unreachable, timed out, refused; the message says what.
    Fault(String),
}

impl Failure {
    /// Sorts an etcd client error by etcd's error messages (etcd reports
    /// these conditions as gRPC statuses whose codes are shared with others).
    pub(super) fn classify(e: etcd_client::Error) -> Failure {
        if let etcd_client::Error::GRpcStatus(status) = &e {
            let message = status.message();
            if message.contains("required revision has been compacted") {
                return Failure::Compacted;
            }
            if message.contains("required revision is a future revision") {
                return Failure::FutureRevision;
            }
            if message.contains("requested lease not found") {
                return Failure::LeaseNotFound;
            }
        }
        Failure::Fault(describe(&e))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Compacted => f.write_str("required revision has been compacted"),
            Failure::FutureRevision => f.write_str("required revision is a future revision"),
            Failure::LeaseNotFound => f.write_str("requested lease not found"),
            Failure::Fault(message) => f.write_str(message),
        }
    }
}

/// A readable account of an etcd client error and its causes.
pub(super) fn describe(e: &etcd_client::Error) -> String {
    let mut out = match e {
        etcd_client::Error::GRpcStatus(status) => format!("{:?}: {}", status.code(), status.message()),
        other => other.to_string(),
    };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

/// The clients of one etcd connection, cheap to clone.
#[derive(Clone)]
pub(super) struct Etcd {
    inner: Arc<EtcdInner>,
}

struct EtcdInner {
    /// Kept so the connection's endpoint set lives as long as the store.
    _client: etcd_client::Client,
    kv: KvClient,
    watch: WatchClient,
    lease: LeaseClient,
    /// The endpoints, comma-separated, for error messages.
    endpoints: String,
    request_timeout: Duration,
    /// The highest compacted revision learnt so far (compaction only grows).
    compacted: AtomicI64,
}

impl fmt::Debug for Etcd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Etcd")
            .field("endpoints", &self.inner.endpoints)
            .field("request_timeout", &self.inner.request_timeout)
            .finish_non_exhaustive()
    }
}

impl Etcd {
    pub(super) fn new(
        client: etcd_client::Client,
        endpoints: String,
        request_timeout: Duration,
        max_response_bytes: usize,
    ) -> Etcd {
        Etcd {
            inner: Arc::new(EtcdInner {
                _client: client.clone(),
                kv: client.kv_client().max_decoding_message_size(max_response_bytes),
                watch: client.watch_client().max_decoding_message_size(max_response_bytes),
                lease: client.lease_client(),
                endpoints,
                request_timeout,
                compacted: AtomicI64::new(0),
            }),
        }
    }

    /// The endpoints, comma-separated.
    pub(super) fn endpoints(&self) -> &str {
        &self.inner.endpoints
    }

    pub(super) fn kv(&self) -> KvClient {
        self.inner.kv.clone()
    }

    pub(super) fn lease(&self) -> LeaseClient {
        self.inner.lease.clone()
    }

    /// A [`StoreError::Etcd`] naming the endpoints.
    pub(super) fn error(&self, message: impl fmt::Display) -> StoreError {
        StoreError::Etcd { endpoints: self.inner.endpoints.clone(), message: message.to_string() }
    }

    /// Runs one request, bounded by the request timeout.
    pub(super) async fn call<T>(
        &self,
        request: impl Future<Output = Result<T, etcd_client::Error>>,
    ) -> Result<T, Failure> {
        match tokio::time::timeout(self.inner.request_timeout, request).await {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(e)) => Err(Failure::classify(e)),
            Err(_) => Err(Failure::Fault(format!("no answer within {:?}", self.inner.request_timeout))),
        }
    }

    /// Opens an etcd watch of every key under `prefix` from revision `start`,
    /// with previous values.
    pub(super) async fn open_watch(&self, prefix: &str, start: Revision) -> Result<etcd_client::WatchStream, Failure> {
        let end = crate::prefix_end(prefix.as_bytes()).unwrap_or_else(|| vec![0]);
        let options = WatchOptions::new().with_range(end).with_start_revision(start).with_prev_key();
        let mut client = self.inner.watch.clone();
        self.call(client.watch(prefix.as_bytes(), Some(options))).await
    }

    /// The store's current revision, from the header of a cheap read.
    pub(super) async fn current_revision(&self) -> Result<Revision, Failure> {
        let mut kv = self.kv();
        let resp = self.call(kv.get("/", Some(GetOptions::new().with_count_only()))).await?;
        header_revision(resp.header())
    }

    /// Whether reading at `revision` works (`Ok(true)`), is compacted
    /// (`Ok(false)`), or is in the future (also `Ok(true)`: not compacted).
    pub(super) async fn readable_at(&self, revision: Revision) -> Result<bool, Failure> {
        let mut kv = self.kv();
        let options = GetOptions::new().with_count_only().with_revision(revision.max(1));
        match self.call(kv.get("/", Some(options))).await {
            Ok(_) | Err(Failure::FutureRevision) => Ok(true),
            Err(Failure::Compacted) => Ok(false),
            Err(other) => Err(other),
        }
    }

    /// Records that etcd has been compacted at least to `revision`.
    pub(super) fn note_compacted(&self, revision: Revision) {
        self.inner.compacted.fetch_max(revision, Ordering::SeqCst);
    }

    /// etcd's compacted revision. etcd has no request for it, so: a read at
    /// the highest compacted revision known here tells whether it is still
    /// current (the usual case: one cheap read); only when it is not, a watch
    /// from revision 1 is refused with the compacted revision in its answer.
    pub(super) async fn compacted_revision(&self) -> Result<Revision, Failure> {
        let known = self.inner.compacted.load(Ordering::SeqCst);
        if self.readable_at(known.max(1)).await? {
            return Ok(known);
        }
        let revision = self.compacted_by_watch().await?;
        self.note_compacted(revision);
        Ok(self.inner.compacted.load(Ordering::SeqCst))
    }

    async fn compacted_by_watch(&self) -> Result<Revision, Failure> {
        let timeout = self.inner.request_timeout;
        let probe = async {
            let mut stream = self.open_watch("/", 1).await?;
            loop {
                match stream.message().await {
                    Ok(Some(resp)) if resp.compact_revision() > 0 => return Ok(resp.compact_revision()),
                    Ok(Some(resp)) if resp.canceled() => {
                        return Err(Failure::Fault(format!(
                            "compaction probe watch canceled: {}",
                            resp.cancel_reason()
                        )));
                    }
                    Ok(Some(_)) => continue,
                    Ok(None) => return Err(Failure::Fault("compaction probe watch closed by etcd".into())),
                    Err(e) => return Err(Failure::classify(e)),
                }
            }
        };
        match tokio::time::timeout(timeout, probe).await {
            Ok(out) => out,
            Err(_) => Err(Failure::Fault(format!("no compacted revision reported within {timeout:?}"))),
        }
    }
}

/// The revision in a response header (etcd always sends one).
pub(super) fn header_revision(header: Option<&etcd_client::ResponseHeader>) -> Result<Revision, Failure> {
    header.map(|h| h.revision()).ok_or_else(|| Failure::Fault("etcd response without a header".into()))
}

/// Converts an etcd key-value (keys are bytes in etcd, strings here).
pub(super) fn convert_kv(kv: etcd_client::KeyValue) -> Result<KeyValue, Failure> {
    let (create_revision, mod_revision) = (kv.create_revision(), kv.mod_revision());
    let (key, value) = kv.into_key_value();
    let key = String::from_utf8(key)
        .map_err(|e| Failure::Fault(format!("etcd holds a key that is not UTF-8: {:?}", e.as_bytes())))?;
    Ok(KeyValue { key, value: Bytes::from(value), create_revision, mod_revision })
}

/// Converts a borrowed etcd key-value (as watch events hand them out).
pub(super) fn convert_kv_ref(kv: &etcd_client::KeyValue) -> Result<KeyValue, Failure> {
    let key = std::str::from_utf8(kv.key())
        .map_err(|_| Failure::Fault(format!("etcd holds a key that is not UTF-8: {:?}", kv.key())))?
        .to_owned();
    Ok(KeyValue {
        key,
        value: Bytes::copy_from_slice(kv.value()),
        create_revision: kv.create_revision(),
        mod_revision: kv.mod_revision(),
    })
}
