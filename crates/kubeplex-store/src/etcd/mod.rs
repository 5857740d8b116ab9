//! The etcd v3 backend: kubeplex's store on an etcd cluster, for several
//! kubeplex replicas sharing one store.
//!
//! ```text
//!  EtcdStore ──┬── kv ops ───► etcd txns with revision preconditions
//!              ├── ttl ──────► LeaseManager: pooled leases (lease.rs)
//!              └── watch ────► WatchHub: one etcd watch per prefix,
//!                              fanned out locally (watch/)
//! ```
//!
//! Revisions are etcd's own revisions (a fresh etcd is at revision 1, so
//! its first write gets 2). Preconditions are etcd transactions: a failed
//! one writes nothing and consumes no revision.

mod client;
mod lease;
mod watch;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use etcd_client::{
    Compare, CompareOp, ConnectOptions, DeleteOptions, GetOptions, PutOptions, Txn, TxnOp, TxnOpResponse,
};

use crate::{
    KeyValue, RangeRequest, RangeResult, Result, Revision, Store, StoreError, WatchStream, prefix_end, validate_key,
    validate_prefix, validate_value,
};
use client::{Etcd, Failure, convert_kv, header_revision};
use lease::LeaseManager;
use watch::{HubConfig, WatchHub};

/// Options for [`EtcdStore::connect`].
#[derive(Clone, Debug)]
pub struct EtcdOptions {
    /// How long to wait for a connection to an endpoint; `connect` fails
    /// after this long if etcd cannot be reached.
    pub connect_timeout: Duration,
    /// How long any one request may take before it fails.
    pub request_timeout: Duration,
    /// The largest response accepted from etcd, in bytes (a range of many
    /// large values is one response).
    pub max_response_bytes: usize,
    /// HTTP/2 keep-alive pings while requests or watches are open, so a
    /// dead connection is noticed; etcd refuses pings more often than 5 s.
    pub keep_alive_interval: Duration,
    /// How long a keep-alive ping may go unanswered.
    pub keep_alive_timeout: Duration,
    /// Recent events kept per watched prefix for watchers that join late.
    pub watch_buffer_events: usize,
    /// Events queued per watcher before a slow watcher is moved to its own
    /// catch-up watch (never less than `watch_buffer_events`).
    pub watch_channel_capacity: usize,
    /// How long a broken etcd watch is retried before its watchers' streams
    /// end with an error.
    pub watch_reconnect_timeout: Duration,
    /// The most by which a key may outlive its ttl because it shares a
    /// lease with keys written a little earlier.
    pub lease_reuse_window: Duration,
}

impl Default for EtcdOptions {
    fn default() -> Self {
        EtcdOptions {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            max_response_bytes: i32::MAX as usize,
            keep_alive_interval: Duration::from_secs(10),
            keep_alive_timeout: Duration::from_secs(10),
            watch_buffer_events: 1024,
            watch_channel_capacity: 1024,
            watch_reconnect_timeout: Duration::from_secs(60),
            lease_reuse_window: Duration::from_secs(60),
        }
    }
}

/// A store on an etcd v3 cluster.
pub struct EtcdStore {
    etcd: Etcd,
    leases: LeaseManager,
    hub: WatchHub,
}

impl fmt::Debug for EtcdStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EtcdStore").field("endpoints", &self.etcd.endpoints()).finish_non_exhaustive()
    }
}

impl EtcdStore {
    /// Connects to the etcd cluster at `endpoints` (`http://host:port`)
    /// and checks that it answers. Fails with [`StoreError::Etcd`], naming
    /// the endpoints and the cause, if it does not within the connect timeout
    /// (plus at most a moment to find out the cause).
    pub async fn connect(endpoints: &[String], options: EtcdOptions) -> Result<EtcdStore> {
        let label = endpoints.join(",");
        let fail = |message: String| StoreError::Etcd { endpoints: label.clone(), message };
        if endpoints.is_empty() {
            return Err(fail("no etcd endpoints given".into()));
        }
        let deadline = tokio::time::Instant::now() + options.connect_timeout;
        let connect_options = ConnectOptions::new()
            .with_connect_timeout(options.connect_timeout)
            .with_keep_alive(options.keep_alive_interval, options.keep_alive_timeout)
            .with_keep_alive_while_idle(false);
        let client =
            match tokio::time::timeout_at(deadline, etcd_client::Client::connect(endpoints, Some(connect_options)))
                .await
            {
                Ok(Ok(client)) => client,
                Ok(Err(e)) => return Err(fail(format!("cannot connect: {}", client::describe(&e)))),
                Err(_) => return Err(fail(format!("cannot connect within {:?}", options.connect_timeout))),
            };
        let etcd = Etcd::new(client, label.clone(), options.request_timeout, options.max_response_bytes);
        // The client connects lazily: one cheap read proves etcd answers.
        let mut kv = etcd.kv();
        let failure =
            match tokio::time::timeout_at(deadline, kv.get("/", Some(GetOptions::new().with_count_only()))).await {
                Ok(Ok(_)) => None,
                Ok(Err(e)) => Some(format!("cannot reach etcd: {}", client::describe(&e))),
                Err(_) => Some(format!("no answer within {:?}", options.connect_timeout)),
            };
        if let Some(failure) = failure {
            // gRPC's account of a failed connection is terse: a plain TCP
            // connect, in what is left of the timeout, tells how each endpoint fails.
            let left = deadline.saturating_duration_since(tokio::time::Instant::now()).max(PROBE_MIN);
            let cause = probe_endpoints(endpoints, left).await;
            return Err(fail(format!("{failure} ({cause})")));
        }
        let leases = LeaseManager::new(etcd.clone(), options.lease_reuse_window);
        let hub = WatchHub::new(
            etcd.clone(),
            HubConfig {
                buffer_events: options.watch_buffer_events,
                channel_capacity: options.watch_channel_capacity,
                reconnect_timeout: options.watch_reconnect_timeout,
            },
        );
        tracing::info!(endpoints = %label, "connected to etcd");
        Ok(EtcdStore { etcd, leases, hub })
    }

    /// The endpoints, comma-separated.
    pub fn endpoints(&self) -> &str {
        self.etcd.endpoints()
    }

    /// How many etcd watches this store holds open now: one per watched
    /// prefix, plus one per watcher that is catching up on its own.
    pub fn etcd_watches(&self) -> usize {
        self.hub.etcd_watches()
    }

    /// How many prefixes have a shared watch now.
    pub fn shared_watches(&self) -> usize {
        self.hub.shared_watches()
    }

    /// How many leases the ttl lease pool holds.
    pub async fn pooled_leases(&self) -> usize {
        self.leases.pooled().await
    }

    /// Turns a failure into the store's error; compaction and future
    /// revisions get their numbers filled in with a follow-up read.
    async fn read_error(&self, failure: Failure, requested: Revision) -> StoreError {
        match failure {
            Failure::Compacted => {
                let compacted = self.etcd.compacted_revision().await.unwrap_or(requested + 1);
                StoreError::Compacted { requested, compacted }
            }
            Failure::FutureRevision => {
                let current = self.etcd.current_revision().await.unwrap_or(requested - 1);
                StoreError::FutureRevision { requested, current }
            }
            other => self.etcd.error(other),
        }
    }

    /// A put of `key` (with a lease for `ttl`), run as the success branch of
    /// a transaction guarded by `when`; `or_else` runs otherwise. A lease
    /// that vanished under us is replaced once.
    async fn guarded_put(
        &self,
        key: &str,
        value: &Bytes,
        ttl: Option<Duration>,
        when: Vec<Compare>,
        or_else: Vec<TxnOp>,
    ) -> Result<etcd_client::TxnResponse> {
        for attempt in 0..2 {
            let lease = match ttl {
                Some(ttl) => self.leases.lease_for(ttl).await.map_err(|f| self.etcd.error(f))?,
                None => 0,
            };
            let put = TxnOp::put(key, value.to_vec(), Some(PutOptions::new().with_lease(lease)));
            let txn = Txn::new().when(when.clone()).and_then(vec![put]).or_else(or_else.clone());
            let mut kv = self.etcd.kv();
            match self.etcd.call(kv.txn(txn)).await {
                Ok(resp) => return Ok(resp),
                Err(Failure::LeaseNotFound) if attempt == 0 && lease != 0 => self.leases.forget(lease).await,
                Err(other) => return Err(self.etcd.error(other)),
            }
        }
        Err(self.etcd.error("lease not found twice in a row"))
    }

    /// The current version of `key` from a transaction's failure branch
    /// (a single get), or `None` if the key does not exist.
    fn current_from(&self, resp: &etcd_client::TxnResponse) -> Result<Option<KeyValue>> {
        for op in resp.op_responses() {
            if let TxnOpResponse::Get(mut get) = op {
                return match get.take_kvs().into_iter().next() {
                    Some(kv) => Ok(Some(convert_kv(kv).map_err(|f| self.etcd.error(f))?)),
                    None => Ok(None),
                };
            }
        }
        Ok(None)
    }

    /// NotFound or Conflict from a failed precondition.
    fn precondition_error(&self, key: &str, expected: Revision, resp: &etcd_client::TxnResponse) -> StoreError {
        match self.current_from(resp) {
            Ok(Some(current)) => StoreError::Conflict { key: key.to_owned(), expected, current: Box::new(current) },
            Ok(None) => StoreError::NotFound { key: key.to_owned() },
            Err(e) => e,
        }
    }
}

/// The least time given to naming the cause of a failed connect.
const PROBE_MIN: Duration = Duration::from_millis(200);

/// When etcd does not answer, a plain TCP connect to each endpoint tells
/// "refused" from "unreachable" from "accepts connections but no etcd".
/// The endpoints share `budget`.
async fn probe_endpoints(endpoints: &[String], budget: Duration) -> String {
    let timeout = (budget / u32::try_from(endpoints.len()).unwrap_or(u32::MAX).max(1)).max(Duration::from_millis(50));
    let endpoints = endpoints.to_vec();
    let probe = tokio::task::spawn_blocking(move || {
        endpoints
            .iter()
            .map(|endpoint| format!("{endpoint}: {}", probe_endpoint(endpoint, timeout)))
            .collect::<Vec<_>>()
            .join("; ")
    });
    probe.await.unwrap_or_else(|e| format!("endpoint probe failed: {e}"))
}

fn probe_endpoint(endpoint: &str, timeout: Duration) -> String {
    use std::net::ToSocketAddrs;
    let authority = endpoint.split("://").last().unwrap_or(endpoint).split('/').next().unwrap_or_default();
    let addrs = match authority.to_socket_addrs() {
        Ok(addrs) => addrs.collect::<Vec<_>>(),
        Err(e) => return format!("cannot resolve {authority}: {e}"),
    };
    let mut last = format!("{authority} resolves to no address");
    for addr in addrs {
        match std::net::TcpStream::connect_timeout(&addr, timeout) {
            Ok(_) => return "accepts TCP connections but does not answer as etcd".to_owned(),
            Err(e) => last = format!("cannot connect to {addr}: {e}"),
        }
    }
    last
}

/// etcd's reading of a revision: `None` (latest) is 0; revisions before the
/// first write read etcd's empty initial revision 1.
fn etcd_revision(revision: Option<Revision>) -> i64 {
    revision.map_or(0, |r| r.max(1))
}

#[async_trait]
impl Store for EtcdStore {
    async fn get(&self, key: &str, revision: Option<Revision>) -> Result<Option<KeyValue>> {
        validate_key(key)?;
        let mut kv = self.etcd.kv();
        let options = GetOptions::new().with_revision(etcd_revision(revision));
        let mut resp = match self.etcd.call(kv.get(key, Some(options))).await {
            Ok(resp) => resp,
            Err(f) => return Err(self.read_error(f, revision.unwrap_or(0)).await),
        };
        match resp.take_kvs().into_iter().next() {
            Some(kv) => Ok(Some(convert_kv(kv).map_err(|f| self.etcd.error(f))?)),
            None => Ok(None),
        }
    }

    async fn range(&self, req: RangeRequest) -> Result<RangeResult> {
        validate_prefix(&req.prefix)?;
        let end = prefix_end(req.prefix.as_bytes()).unwrap_or_else(|| vec![0]);
        let start = match &req.start_after {
            Some(after) if after.as_str() >= req.prefix.as_str() => {
                let mut start = after.as_bytes().to_vec();
                start.push(0);
                start
            }
            _ => req.prefix.as_bytes().to_vec(),
        };
        let requested = req.revision.unwrap_or(0);
        let mut kv = self.etcd.kv();
        if start >= end {
            // Past the prefix: nothing follows, but the revision still counts.
            let options = GetOptions::new().with_count_only().with_revision(etcd_revision(req.revision));
            let resp = match self.etcd.call(kv.get(req.prefix.as_bytes(), Some(options))).await {
                Ok(resp) => resp,
                Err(f) => return Err(self.read_error(f, requested).await),
            };
            let current = header_revision(resp.header()).map_err(|f| self.etcd.error(f))?;
            return Ok(RangeResult {
                kvs: Vec::new(),
                revision: req.revision.unwrap_or(current),
                current_revision: current,
                remaining: 0,
            });
        }
        let limit = req.limit.map_or(0, |l| i64::try_from(l).unwrap_or(i64::MAX));
        let options = GetOptions::new().with_range(end).with_limit(limit).with_revision(etcd_revision(req.revision));
        let mut resp = match self.etcd.call(kv.get(start, Some(options))).await {
            Ok(resp) => resp,
            Err(f) => return Err(self.read_error(f, requested).await),
        };
        // The header carries the store's current revision, whatever was read.
        let current = header_revision(resp.header()).map_err(|f| self.etcd.error(f))?;
        let count = u64::try_from(resp.count()).unwrap_or(0);
        let kvs = resp
            .take_kvs()
            .into_iter()
            .map(convert_kv)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|f| self.etcd.error(f))?;
        let remaining = count.saturating_sub(kvs.len() as u64);
        Ok(RangeResult { kvs, revision: req.revision.unwrap_or(current), current_revision: current, remaining })
    }

    async fn create(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<Revision> {
        validate_key(key)?;
        validate_value(key, &value)?;
        let when = vec![Compare::create_revision(key, CompareOp::Equal, 0)];
        let resp = self.guarded_put(key, &value, ttl, when, Vec::new()).await?;
        if !resp.succeeded() {
            return Err(StoreError::AlreadyExists { key: key.to_owned() });
        }
        header_revision(resp.header()).map_err(|f| self.etcd.error(f))
    }

    async fn update(&self, key: &str, value: Bytes, expected: Revision, ttl: Option<Duration>) -> Result<Revision> {
        validate_key(key)?;
        validate_value(key, &value)?;
        // A missing key has mod_revision 0 in a compare: require it to exist.
        let when =
            vec![Compare::version(key, CompareOp::Greater, 0), Compare::mod_revision(key, CompareOp::Equal, expected)];
        let resp = self.guarded_put(key, &value, ttl, when, vec![TxnOp::get(key, None)]).await?;
        if !resp.succeeded() {
            return Err(self.precondition_error(key, expected, &resp));
        }
        header_revision(resp.header()).map_err(|f| self.etcd.error(f))
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(Revision, KeyValue)> {
        validate_key(key)?;
        let mut when = vec![Compare::version(key, CompareOp::Greater, 0)];
        if let Some(expected) = expected {
            when.push(Compare::mod_revision(key, CompareOp::Equal, expected));
        }
        let delete = TxnOp::delete(key, Some(DeleteOptions::new().with_prev_key()));
        let txn = Txn::new().when(when).and_then(vec![delete]).or_else(vec![TxnOp::get(key, None)]);
        let mut kv = self.etcd.kv();
        let resp = self.etcd.call(kv.txn(txn)).await.map_err(|f| self.etcd.error(f))?;
        if !resp.succeeded() {
            return Err(self.precondition_error(key, expected.unwrap_or(0), &resp));
        }
        let revision = header_revision(resp.header()).map_err(|f| self.etcd.error(f))?;
        for op in resp.op_responses() {
            if let TxnOpResponse::Delete(mut deleted) = op
                && let Some(prev) = deleted.take_prev_kvs().into_iter().next()
            {
                return Ok((revision, convert_kv(prev).map_err(|f| self.etcd.error(f))?));
            }
        }
        // The key existed when compared, so etcd deleted it: it must say what.
        Err(self.etcd.error(format!("delete of {key} succeeded without returning the deleted value")))
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<WatchStream> {
        validate_prefix(prefix)?;
        // Fail now rather than in the stream: etcd would only cancel the watch later.
        let readable = self.etcd.readable_at(after + 1).await.map_err(|f| self.etcd.error(f))?;
        if !readable {
            let compacted = self.etcd.compacted_revision().await.unwrap_or(after + 2);
            return Err(StoreError::Compacted { requested: after, compacted });
        }
        Ok(self.hub.subscribe(prefix, after))
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        if revision < 1 {
            return Ok(());
        }
        let mut kv = self.etcd.kv();
        match self.etcd.call(kv.compact(revision, None)).await {
            Ok(_) => {
                self.etcd.note_compacted(revision);
                tracing::debug!(revision, "compacted etcd");
                Ok(())
            }
            // Already compacted this far (or further): nothing to do.
            Err(Failure::Compacted) => Ok(()),
            Err(Failure::FutureRevision) => {
                let current = self.etcd.current_revision().await.unwrap_or(revision - 1);
                Err(StoreError::FutureRevision { requested: revision, current })
            }
            Err(other) => Err(self.etcd.error(other)),
        }
    }

    async fn current_revision(&self) -> Result<Revision> {
        self.etcd.current_revision().await.map_err(|f| self.etcd.error(f))
    }

    async fn compacted_revision(&self) -> Result<Revision> {
        self.etcd.compacted_revision().await.map_err(|f| self.etcd.error(f))
    }
}
