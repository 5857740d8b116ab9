//! The API workloads: each drives the server over HTTPS for a while, timing
//! every request and counting every failure; a wrong answer (status, count,
//! name, order) is an error like a failed request.
//!
//! ```text
//!   create       C clients: POST ConfigMap c-<client>-<n> in default     until the deadline, then count them
//!   get          C clients: GET a random one of those                     until the deadline
//!   crd-served   1 client:  POST CRD i (group g<i>.bench.example.com), then GET its collection in default
//!                every 1 ms until 200 (404 = not served yet); latency = POST sent → first 200, i < K
//!   create-custom, get-custom   the same as create and get, with objects of the first of those CRDs
//!   preload      C clients: POST ConfigMap l-<n> in bench-list, n < L    (untimed setup)
//!   list         1 client:  GET bench-list's ConfigMaps, one response     until the deadline (at least once)
//!   list-paged   1 client:  the same with limit=P, following `continue`   (one op = every page)
//!   watch        M watchers: GET …?watch=true&resourceVersion=<list rv> ◄── writers paced at E/s creating
//!                ConfigMaps whose data carries the send time; latency = receipt − send
//!   clusters     C clients: POST LogicalCluster lc-<n>, n < N
//! ```
//!
//! Every client owns one keep-alive connection, opened before the clock
//! starts.

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt as _;
use http::{Method, StatusCode};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde::Deserialize;
use serde_json::json;

use super::client::{Conn, Protocol, Tls, describe};
use crate::table::{format_ms, group_thousands};
use crate::workloads::{Recorder, WorkloadResult, join_all};

/// The namespace the create and get workloads use.
pub const CREATE_NAMESPACE: &str = "default";
/// The namespace the list workloads read.
pub const LIST_NAMESPACE: &str = "bench-list";
/// The namespace the watch workload watches.
pub const WATCH_NAMESPACE: &str = "bench-watch";

/// Connections opened at once.
const CONNECT_CONCURRENCY: usize = 64;
/// How often the crd-served workload asks for a new CRD's collection.
pub const CRD_POLL_INTERVAL: Duration = Duration::from_millis(1);

/// The sizes and durations of the API workloads.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiParams {
    /// How long the create, get and list workloads run.
    pub duration: Duration,
    /// Concurrent clients (one connection each) of the create, get, preload
    /// and logical-cluster workloads.
    pub clients: usize,
    /// Bytes of data in each ConfigMap.
    pub value_size: usize,
    /// ConfigMaps in the listed namespace.
    pub list_objects: usize,
    /// `limit` of the paginated list.
    pub page_size: usize,
    /// Watchers of the watched namespace.
    pub watchers: usize,
    /// Changes written per second while watched.
    pub watch_rate: u32,
    /// How long changes are written while watched.
    pub watch_duration: Duration,
    /// Clients sharing the paced writes.
    pub watch_writers: usize,
    /// Watches per connection: 1 is one HTTP/1.1 connection per watcher,
    /// more multiplexes them as HTTP/2 streams.
    pub watch_streams_per_connection: usize,
    /// Logical clusters created.
    pub clusters: usize,
    /// CustomResourceDefinitions created one after another (at least one:
    /// the custom-object workloads use the first).
    pub crds: usize,
    /// Pause before each memory reading, for the server to settle.
    pub settle: Duration,
    /// How long watchers may take to catch up once the writes are done.
    pub drain_timeout: Duration,
    /// A request taking longer than this counts as failed.
    pub op_timeout: Duration,
}

impl Default for ApiParams {
    fn default() -> Self {
        ApiParams {
            duration: Duration::from_secs(5),
            clients: 64,
            value_size: 128,
            list_objects: 10_000,
            page_size: 500,
            watchers: 1000,
            watch_rate: 100,
            watch_duration: Duration::from_secs(5),
            watch_writers: 16,
            watch_streams_per_connection: 1,
            clusters: 10_000,
            crds: 20,
            settle: Duration::from_secs(2),
            drain_timeout: Duration::from_secs(10),
            op_timeout: Duration::from_secs(10),
        }
    }
}

impl ApiParams {
    /// The connections the watch workload opens.
    pub fn watch_connections(&self) -> usize {
        self.watchers.div_ceil(self.watch_streams_per_connection.max(1))
    }

    /// The watch protocol: HTTP/1.1 with one watch per connection, HTTP/2 otherwise.
    pub fn watch_protocol(&self) -> Protocol {
        if self.watch_streams_per_connection > 1 { Protocol::Http2 } else { Protocol::Http1 }
    }
}

/// The API workloads, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ApiWorkload {
    Create,
    Get,
    CrdServed,
    CreateCustom,
    GetCustom,
    List,
    ListPaged,
    Watch,
    LogicalClusters,
}

impl ApiWorkload {
    /// Every workload, in the order they run.
    pub const ALL: [ApiWorkload; 9] = [
        ApiWorkload::Create,
        ApiWorkload::Get,
        ApiWorkload::CrdServed,
        ApiWorkload::CreateCustom,
        ApiWorkload::GetCustom,
        ApiWorkload::List,
        ApiWorkload::ListPaged,
        ApiWorkload::Watch,
        ApiWorkload::LogicalClusters,
    ];

    /// A short stable name (used in progress messages).
    pub fn name(self) -> &'static str {
        match self {
            ApiWorkload::Create => "create",
            ApiWorkload::Get => "get",
            ApiWorkload::CrdServed => "crd-served",
            ApiWorkload::CreateCustom => "create-custom",
            ApiWorkload::GetCustom => "get-custom",
            ApiWorkload::List => "list",
            ApiWorkload::ListPaged => "list-paged",
            ApiWorkload::Watch => "watch",
            ApiWorkload::LogicalClusters => "logical-clusters",
        }
    }

    /// The table's description of the workload with these parameters.
    pub fn label(self, p: &ApiParams) -> String {
        let objects = group_thousands(p.list_objects as u64);
        match self {
            ApiWorkload::Create => format!("create ConfigMap, {} clients", p.clients),
            ApiWorkload::Get => format!("get ConfigMap, {} clients", p.clients),
            ApiWorkload::CrdServed => format!("CRD created until served, {} CRDs", p.crds.max(1)),
            ApiWorkload::CreateCustom => format!("create custom object, {} clients", p.clients),
            ApiWorkload::GetCustom => format!("get custom object, {} clients", p.clients),
            ApiWorkload::List => format!("list {objects} ConfigMaps"),
            ApiWorkload::ListPaged => format!("list {objects} ConfigMaps, limit={}", p.page_size),
            ApiWorkload::Watch => format!(
                "watch: {} watchers, {} changes/s",
                group_thousands(p.watchers as u64),
                group_thousands(u64::from(p.watch_rate))
            ),
            ApiWorkload::LogicalClusters => {
                format!("create LogicalCluster, {} clients", p.clients)
            }
        }
    }
}

impl fmt::Display for ApiWorkload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where the server is and how to talk to it.
#[derive(Clone, Debug)]
pub struct Target {
    pub addr: SocketAddr,
    pub tls: Tls,
}

impl Target {
    /// Opens one connection.
    pub async fn connect(&self, protocol: Protocol) -> Result<Conn, String> {
        Conn::connect(self.addr, &self.tls, protocol).await.map_err(|e| format!("connecting: {e:#}"))
    }

    /// Opens `n` connections, `CONNECT_CONCURRENCY` at a time.
    pub async fn connect_all(&self, n: usize, protocol: Protocol) -> Result<Vec<Conn>, String> {
        let connects =
            futures::stream::iter(0..n).map(|_| self.connect(protocol)).buffer_unordered(CONNECT_CONCURRENCY);
        connects.collect::<Vec<_>>().await.into_iter().collect()
    }
}

/// Runs one request, failing it after `limit`; returns how long it took.
async fn timed(
    limit: Duration,
    conn: &mut Conn,
    method: Method,
    path: &str,
    body: Option<Bytes>,
) -> (Duration, Result<(StatusCode, Bytes), String>) {
    let start = Instant::now();
    let result = match tokio::time::timeout(limit, conn.request(method.clone(), path, body)).await {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(e)) => Err(format!("{method} {path}: {e:#}")),
        Err(_) => Err(format!("{method} {path}: timed out after {limit:?}")),
    };
    (start.elapsed(), result)
}

/// Printable filler of `size` bytes.
fn filler(size: usize) -> String {
    (0..size).map(|i| char::from(b'a' + (i % 26) as u8)).collect()
}

/// The JSON of a ConfigMap named `name` with `data`.
fn configmap(name: &str, data: serde_json::Value) -> Bytes {
    ObjectKind::configmap().body(name, data)
}

fn configmaps_path(namespace: &str) -> String {
    format!("/api/v1/namespaces/{namespace}/configmaps")
}

/// What the create and get workloads write and read in namespace default:
/// ConfigMaps, or the objects of a custom resource.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectKind {
    /// `v1`, `g0.bench.example.com/v1`.
    pub api_version: String,
    /// `ConfigMap`, `Widget0`.
    pub kind: String,
    /// The field holding the object's values: `data` for a ConfigMap,
    /// `spec` for a custom object.
    pub field: &'static str,
    /// The collection in namespace default.
    pub collection: String,
}

impl ObjectKind {
    /// ConfigMaps.
    pub fn configmap() -> ObjectKind {
        ObjectKind {
            api_version: "v1".to_string(),
            kind: "ConfigMap".to_string(),
            field: "data",
            collection: configmaps_path(CREATE_NAMESPACE),
        }
    }

    /// The JSON of an object named `name` with `values` in its field.
    pub fn body(&self, name: &str, values: serde_json::Value) -> Bytes {
        let mut object = json!({"apiVersion": self.api_version, "kind": self.kind, "metadata": {"name": name}});
        object[self.field] = values;
        Bytes::from(serde_json::to_vec(&object).unwrap_or_default())
    }
}

/// A CustomResourceDefinition of the crd-served workload: namespaced, one
/// version `v1`, a small schema keeping whatever `spec` holds.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchCrd {
    pub group: String,
    pub plural: String,
    pub kind: String,
}

impl BenchCrd {
    /// The `i`-th: group `g<i>.bench.example.com`, plural `widget<i>s`, kind `Widget<i>`.
    pub fn numbered(i: usize) -> BenchCrd {
        BenchCrd { group: format!("g{i}.bench.example.com"), plural: format!("widget{i}s"), kind: format!("Widget{i}") }
    }

    /// `<plural>.<group>`.
    pub fn name(&self) -> String {
        format!("{}.{}", self.plural, self.group)
    }

    /// The JSON of the CRD.
    pub fn manifest(&self) -> Bytes {
        let crd = json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": self.name()},
            "spec": {
                "group": self.group,
                "scope": "Namespaced",
                "names": {"plural": self.plural, "singular": self.kind.to_lowercase(), "kind": self.kind},
                "versions": [{
                    "name": "v1",
                    "served": true,
                    "storage": true,
                    "schema": {"openAPIV3Schema": {
                        "type": "object",
                        "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                    }},
                }],
            },
        });
        Bytes::from(serde_json::to_vec(&crd).unwrap_or_default())
    }

    /// Its objects in namespace default.
    pub fn objects(&self) -> ObjectKind {
        ObjectKind {
            api_version: format!("{}/v1", self.group),
            kind: self.kind.clone(),
            field: "spec",
            collection: format!("/apis/{}/v1/namespaces/{CREATE_NAMESPACE}/{}", self.group, self.plural),
        }
    }
}

/// Percent-encodes a query parameter value (a continue token).
fn query_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[derive(Debug, Default, Deserialize)]
struct Meta {
    #[serde(default)]
    name: String,
    #[serde(default, rename = "resourceVersion")]
    resource_version: String,
}

#[derive(Debug, Default, Deserialize)]
struct ListMeta {
    #[serde(default, rename = "resourceVersion")]
    resource_version: String,
    #[serde(default, rename = "continue")]
    continue_token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Item {
    #[serde(default)]
    metadata: Meta,
}

#[derive(Debug, Deserialize)]
struct List {
    #[serde(default)]
    metadata: ListMeta,
    #[serde(default)]
    items: Vec<Item>,
}

fn parse_list(body: &[u8]) -> Result<List, String> {
    serde_json::from_slice(body).map_err(|e| format!("not a list: {e}"))
}

/// Creates namespace `name` in the root cluster (an existing one is fine).
pub async fn create_namespace(t: &Target, name: &str, limit: Duration) -> Result<(), String> {
    let mut conn = t.connect(Protocol::Http1).await?;
    let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
    let body = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
    match timed(limit, &mut conn, Method::POST, "/api/v1/namespaces", Some(body)).await.1? {
        (StatusCode::CREATED | StatusCode::CONFLICT, _) => Ok(()),
        (status, body) => Err(format!("creating namespace {name}: {}", describe(status, &body))),
    }
}

/// Lists a collection in one response (untimed helper).
async fn list_all(conn: &mut Conn, path: &str, limit: Duration) -> Result<List, String> {
    match timed(limit, conn, Method::GET, path, None).await.1? {
        (StatusCode::OK, body) => parse_list(&body),
        (status, body) => Err(format!("listing {path}: {}", describe(status, &body))),
    }
}

/// The result of a setup step that could not even start.
pub(crate) fn failed(what: String) -> WorkloadResult {
    let mut rec = Recorder::default();
    rec.error(what);
    rec.finish(Duration::ZERO, String::new())
}

/// What the create workload made: how many objects each client created.
#[derive(Clone, Debug, Default)]
pub struct Created {
    pub per_client: Vec<usize>,
}

fn created_name(client: usize, n: usize) -> String {
    format!("c-{client}-{n}")
}

/// `p.clients` clients each creating objects of `kind` one after another
/// until the deadline; then counts them with a list.
pub async fn create(t: &Target, p: &ApiParams, kind: &ObjectKind) -> (WorkloadResult, Created) {
    let conns = match t.connect_all(p.clients, Protocol::Http1).await {
        Ok(conns) => conns,
        Err(e) => return (failed(e), Created::default()),
    };
    let value = filler(p.value_size);
    let kind = Arc::new(kind.clone());
    let start = Instant::now();
    let deadline = start + p.duration;
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(client, mut conn)| {
            let (value, kind, limit) = (value.clone(), kind.clone(), p.op_timeout);
            tokio::spawn(async move {
                let mut rec = Recorder::default();
                let mut n = 0;
                while Instant::now() < deadline {
                    let name = created_name(client, n);
                    let body = kind.body(&name, json!({ "value": value }));
                    match timed(limit, &mut conn, Method::POST, &kind.collection, Some(body)).await {
                        (took, Ok((StatusCode::CREATED, _))) => {
                            rec.ok(took);
                            n += 1;
                        }
                        (_, Ok((status, body))) => rec.error(format!("create {name}: {}", describe(status, &body))),
                        (_, Err(e)) => rec.error(e),
                    }
                }
                (rec, n)
            })
        })
        .collect();
    let mut rec = Recorder::default();
    let mut per_client = Vec::with_capacity(tasks.len());
    for task in tasks {
        match task.await {
            Ok((r, n)) => {
                rec.merge(r);
                per_client.push(n);
            }
            Err(e) => {
                rec.error(format!("create task failed: {e}"));
                per_client.push(0);
            }
        }
    }
    let elapsed = start.elapsed();
    // Every acknowledged create must be in the list, and nothing else.
    let counted = match t.connect(Protocol::Http1).await {
        Ok(mut conn) => list_all(&mut conn, &kind.collection, p.op_timeout.max(Duration::from_secs(60))).await,
        Err(e) => Err(e),
    };
    match counted {
        Ok(list) => {
            let found = list.items.iter().filter(|i| i.metadata.name.starts_with("c-")).count() as u64;
            if found != rec.ok {
                rec.fail_many(
                    found.abs_diff(rec.ok),
                    format!("{found} {} objects listed after {} acknowledged creates", kind.kind, rec.ok),
                );
            }
        }
        Err(e) => rec.error(format!("counting the created {} objects: {e}", kind.kind)),
    }
    let detail = format!("{} creates", group_thousands(rec.ok));
    (rec.finish(elapsed, detail), Created { per_client })
}

/// `p.clients` clients getting random created objects of `kind` until the
/// deadline, checking each is the one asked for.
pub async fn get(t: &Target, p: &ApiParams, kind: &ObjectKind, created: &Created) -> WorkloadResult {
    let made: Vec<(usize, usize)> =
        created.per_client.iter().copied().enumerate().filter(|(_, n)| *n > 0).collect::<Vec<_>>();
    if made.is_empty() {
        return failed(format!("no {} objects were created to get", kind.kind));
    }
    let made = Arc::new(made);
    let conns = match t.connect_all(p.clients, Protocol::Http1).await {
        Ok(conns) => conns,
        Err(e) => return failed(e),
    };
    let start = Instant::now();
    let deadline = start + p.duration;
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(r, mut conn)| {
            let (made, limit, collection) = (made.clone(), p.op_timeout, kind.collection.clone());
            tokio::spawn(async move {
                let mut rec = Recorder::default();
                let mut rng = StdRng::seed_from_u64(0x6b75_6265 + r as u64);
                while Instant::now() < deadline {
                    let (client, count) = made[rng.random_range(0..made.len())];
                    let name = created_name(client, rng.random_range(0..count));
                    let path = format!("{collection}/{name}");
                    let want = format!("\"name\":\"{name}\"");
                    match timed(limit, &mut conn, Method::GET, &path, None).await {
                        (took, Ok((StatusCode::OK, body))) => {
                            if contains(&body, want.as_bytes()) {
                                rec.ok(took)
                            } else {
                                rec.error(format!(
                                    "get {name}: the answer is not {name}: {}",
                                    describe(StatusCode::OK, &body)
                                ))
                            }
                        }
                        (_, Ok((status, body))) => rec.error(format!("get {name}: {}", describe(status, &body))),
                        (_, Err(e)) => rec.error(e),
                    }
                }
                rec
            })
        })
        .collect();
    let rec = join_all(tasks).await;
    let elapsed = start.elapsed();
    let total: usize = made.iter().map(|(_, n)| n).sum();
    let detail = format!("{} gets of {} {} objects", group_thousands(rec.ok), group_thousands(total as u64), kind.kind);
    rec.finish(elapsed, detail)
}

/// Creates `p.crds` CustomResourceDefinitions one after another, each
/// followed by GETs of its collection in namespace default every
/// [`CRD_POLL_INTERVAL`] until one answers 200 (404: not served yet); the
/// latency is from just before the CRD's POST is sent to that answer.
/// Returns the CRDs that became served, in order.
pub async fn crd_served(t: &Target, p: &ApiParams) -> (WorkloadResult, Vec<BenchCrd>) {
    let mut conn = match t.connect(Protocol::Http1).await {
        Ok(conn) => conn,
        Err(e) => return (failed(e), Vec::new()),
    };
    let crds_path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    let mut rec = Recorder::default();
    let mut posts = Recorder::default();
    let mut not_yet = 0u64;
    let mut served = Vec::new();
    let start = Instant::now();
    for i in 0..p.crds.max(1) {
        let crd = BenchCrd::numbered(i);
        let collection = crd.objects().collection;
        let sent = Instant::now();
        match timed(p.op_timeout, &mut conn, Method::POST, crds_path, Some(crd.manifest())).await {
            (took, Ok((StatusCode::CREATED, _))) => posts.ok(took),
            (_, Ok((status, body))) => {
                rec.error(format!("create CRD {}: {}", crd.name(), describe(status, &body)));
                continue;
            }
            (_, Err(e)) => {
                rec.error(e);
                continue;
            }
        }
        let deadline = sent + p.op_timeout;
        loop {
            match timed(p.op_timeout, &mut conn, Method::GET, &collection, None).await.1 {
                Ok((StatusCode::OK, body)) => {
                    let latency = sent.elapsed();
                    match parse_list(&body) {
                        Ok(_) => {
                            rec.ok(latency);
                            served.push(crd);
                        }
                        Err(e) => rec.error(format!("GET {collection}: {e}")),
                    }
                    break;
                }
                Ok((StatusCode::NOT_FOUND, _)) if Instant::now() < deadline => {
                    not_yet += 1;
                    tokio::time::sleep(CRD_POLL_INTERVAL).await;
                }
                Ok((StatusCode::NOT_FOUND, _)) => {
                    rec.error(format!("{collection} not served {:?} after creating CRD {}", p.op_timeout, crd.name()));
                    break;
                }
                Ok((status, body)) => {
                    rec.error(format!("GET {collection}: {}", describe(status, &body)));
                    break;
                }
                Err(e) => {
                    rec.error(e);
                    break;
                }
            }
        }
    }
    let elapsed = start.elapsed();
    let post_p50 = posts.latency.percentile(0.5).map(format_ms).unwrap_or_else(|| "-".into());
    let detail = format!(
        "{} CRDs served; CRD POST p50 {post_p50}; polled every {}: {} answers 404",
        group_thousands(rec.ok),
        format_ms(CRD_POLL_INTERVAL),
        group_thousands(not_yet)
    );
    (rec.finish(elapsed, detail), served)
}

/// A byte count in KiB below 1 MiB, in MiB above.
fn size(bytes: usize) -> String {
    if bytes < 1024 * 1024 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Creates the `p.list_objects` ConfigMaps the list workloads read, with
/// `p.clients` clients (untimed setup; failures are reported).
pub async fn preload(t: &Target, p: &ApiParams) -> WorkloadResult {
    let conns = match t.connect_all(p.clients, Protocol::Http1).await {
        Ok(conns) => conns,
        Err(e) => return failed(e),
    };
    let value = filler(p.value_size);
    let path = configmaps_path(LIST_NAMESPACE);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|mut conn| {
            let (value, path, next) = (value.clone(), path.clone(), next.clone());
            let (total, limit) = (p.list_objects, p.op_timeout);
            tokio::spawn(async move {
                let mut rec = Recorder::default();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        break rec;
                    }
                    let name = format!("l-{n:06}");
                    let body = configmap(&name, json!({ "value": value }));
                    match timed(limit, &mut conn, Method::POST, &path, Some(body)).await {
                        (took, Ok((StatusCode::CREATED, _))) => rec.ok(took),
                        (_, Ok((status, body))) => {
                            rec.error(format!("preload: create {name}: {}", describe(status, &body)))
                        }
                        (_, Err(e)) => rec.error(format!("preload: {e}")),
                    }
                }
            })
        })
        .collect();
    let rec = join_all(tasks).await;
    let elapsed = start.elapsed();
    let detail = format!("{} ConfigMaps", group_thousands(rec.ok));
    rec.finish(elapsed, detail)
}

/// Lists every preloaded ConfigMap in one response, again and again until
/// the deadline (at least once), checking the count. The time is to the
/// last byte of the response; parsing it is not timed.
pub async fn list(t: &Target, p: &ApiParams) -> WorkloadResult {
    let mut conn = match t.connect(Protocol::Http1).await {
        Ok(conn) => conn,
        Err(e) => return failed(e),
    };
    let path = configmaps_path(LIST_NAMESPACE);
    let mut rec = Recorder::default();
    let start = Instant::now();
    let deadline = start + p.duration;
    let mut bytes = 0;
    loop {
        match timed(p.op_timeout, &mut conn, Method::GET, &path, None).await {
            (took, Ok((StatusCode::OK, body))) => match parse_list(&body) {
                Ok(list) if list.items.len() == p.list_objects => {
                    bytes = body.len();
                    rec.ok(took);
                }
                Ok(list) => rec.error(format!("list {path}: {} items, want {}", list.items.len(), p.list_objects)),
                Err(e) => rec.error(format!("list {path}: {e}")),
            },
            (_, Ok((status, body))) => rec.error(format!("list {path}: {}", describe(status, &body))),
            (_, Err(e)) => rec.error(e),
        }
        if Instant::now() >= deadline {
            break;
        }
    }
    let elapsed = start.elapsed();
    let detail = format!("{} lists of {}", group_thousands(rec.ok), size(bytes));
    rec.finish(elapsed, detail)
}

/// Lists every preloaded ConfigMap page by page (`limit`, `continue`),
/// again and again until the deadline (at least once); one operation is the
/// whole walk, checked for every name exactly once.
pub async fn list_paged(t: &Target, p: &ApiParams) -> WorkloadResult {
    let mut conn = match t.connect(Protocol::Http1).await {
        Ok(conn) => conn,
        Err(e) => return failed(e),
    };
    let base = format!("{}?limit={}", configmaps_path(LIST_NAMESPACE), p.page_size);
    let mut rec = Recorder::default();
    let start = Instant::now();
    let deadline = start + p.duration;
    let mut pages = 0;
    'walks: loop {
        let walk_start = Instant::now();
        let mut names = HashSet::with_capacity(p.list_objects);
        let mut token: Option<String> = None;
        let mut walk_pages = 0;
        loop {
            let path = match &token {
                Some(token) => format!("{base}&continue={}", query_escape(token)),
                None => base.clone(),
            };
            let list = match timed(p.op_timeout, &mut conn, Method::GET, &path, None).await.1 {
                Ok((StatusCode::OK, body)) => match parse_list(&body) {
                    Ok(list) => list,
                    Err(e) => {
                        rec.error(format!("list {path}: {e}"));
                        break;
                    }
                },
                Ok((status, body)) => {
                    rec.error(format!("list {path}: {}", describe(status, &body)));
                    break;
                }
                Err(e) => {
                    rec.error(e);
                    break;
                }
            };
            walk_pages += 1;
            if list.items.len() > p.page_size {
                rec.error(format!("list {path}: {} items on a page of limit {}", list.items.len(), p.page_size));
            }
            let duplicates = list.items.iter().filter(|i| !names.insert(i.metadata.name.clone())).count();
            if duplicates > 0 {
                rec.error(format!("list {path}: {duplicates} items seen on an earlier page"));
            }
            match list.metadata.continue_token.filter(|c| !c.is_empty()) {
                Some(next) => token = Some(next),
                None => {
                    if names.len() == p.list_objects {
                        rec.ok(walk_start.elapsed());
                        pages = walk_pages;
                    } else {
                        rec.error(format!("paginated list: {} items, want {}", names.len(), p.list_objects));
                    }
                    break;
                }
            }
            if walk_start.elapsed() > p.op_timeout {
                rec.error(format!("paginated list: not done after {:?}", p.op_timeout));
                break 'walks;
            }
        }
        if Instant::now() >= deadline {
            break;
        }
    }
    let elapsed = start.elapsed();
    let detail = format!("{} walks of {pages} pages", group_thousands(rec.ok));
    rec.finish(elapsed, detail)
}

#[derive(Debug, Default, Deserialize)]
struct WatchData {
    #[serde(default)]
    sent: String,
}

#[derive(Debug, Default, Deserialize)]
struct WatchObject {
    #[serde(default)]
    metadata: Meta,
    #[serde(default)]
    data: WatchData,
}

#[derive(Debug, Deserialize)]
struct WatchLine {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    object: WatchObject,
}

fn watch_name(n: usize) -> String {
    format!("w-{n:06}")
}

/// What one watcher saw.
#[derive(Debug)]
struct WatcherOutcome {
    rec: Recorder,
    /// Which change numbers arrived.
    seen: Vec<bool>,
}

/// A watcher's state between lines.
struct Watcher {
    rec: Recorder,
    seen: Vec<bool>,
    last_revision: u64,
    base: Instant,
    received: Arc<AtomicUsize>,
}

impl Watcher {
    /// Checks one watch event line (an ADDED of a fresh change, in
    /// resourceVersion order) and records its delay.
    fn line(&mut self, line: &[u8], now: Instant) {
        let event: WatchLine = match serde_json::from_slice(line) {
            Ok(event) => event,
            Err(e) => {
                let text = String::from_utf8_lossy(&line[..line.len().min(200)]).into_owned();
                self.rec.error(format!("watch: bad event line ({e}): {text}"));
                return;
            }
        };
        let meta = &event.object.metadata;
        match event.kind.as_str() {
            "ADDED" => {}
            "BOOKMARK" => return,
            other => {
                self.rec.error(format!("watch: unexpected {other} event for {:?}", meta.name));
                return;
            }
        }
        match meta.resource_version.parse::<u64>() {
            Ok(rv) if rv > self.last_revision => self.last_revision = rv,
            Ok(rv) => self.rec.error(format!("watch: resourceVersion {rv} after {}", self.last_revision)),
            Err(_) => self.rec.error(format!("watch: bad resourceVersion {:?}", meta.resource_version)),
        }
        let number =
            meta.name.strip_prefix("w-").and_then(|n| n.parse::<usize>().ok()).filter(|&n| n < self.seen.len());
        let Some(number) = number else {
            self.rec.error(format!("watch: unexpected object {:?}", meta.name));
            return;
        };
        if self.seen[number] {
            self.rec.error(format!("watch: {} delivered twice", meta.name));
            return;
        }
        self.seen[number] = true;
        self.received.fetch_add(1, Ordering::Relaxed);
        let sent =
            event.object.data.sent.parse::<u64>().ok().and_then(|n| self.base.checked_add(Duration::from_nanos(n)));
        match sent {
            Some(sent) => self.rec.ok(now.saturating_duration_since(sent)),
            None => self.rec.error(format!("watch: {} has no send time", meta.name)),
        }
    }
}

/// Follows one watch response body line by line until stopped or it ends.
async fn run_watcher(
    mut body: Incoming,
    mut watcher: Watcher,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> WatcherOutcome {
    let mut buffer: Vec<u8> = Vec::new();
    loop {
        let frame = tokio::select! {
            biased;
            frame = body.frame() => frame,
            _ = stop.changed() => break,
        };
        let now = Instant::now();
        match frame {
            Some(Ok(frame)) => {
                let Ok(data) = frame.into_data() else { continue };
                buffer.extend_from_slice(&data);
                let mut consumed = 0;
                while let Some(end) = buffer[consumed..].iter().position(|&b| b == b'\n') {
                    let line = &buffer[consumed..consumed + end];
                    if !line.iter().all(u8::is_ascii_whitespace) {
                        watcher.line(line, now);
                    }
                    consumed += end + 1;
                }
                buffer.drain(..consumed);
            }
            Some(Err(e)) => {
                watcher.rec.error(format!("watch ended: {e}"));
                break;
            }
            None => {
                watcher.rec.error("watch ended by the server".to_string());
                break;
            }
        }
    }
    WatcherOutcome { rec: watcher.rec, seen: watcher.seen }
}

/// `p.watchers` watchers of one namespace (from the resourceVersion of a
/// list) while paced writers create `p.watch_rate` ConfigMaps per second for
/// `p.watch_duration`, each carrying its send time; measures each delivery's
/// delay from just before the create was sent.
pub async fn watch(t: &Target, p: &ApiParams) -> WorkloadResult {
    let rate = p.watch_rate.max(1);
    let events = ((p.watch_duration.as_secs_f64() * f64::from(rate)).round() as usize).max(1);
    let base = Instant::now();
    let mut rec = Recorder::default();
    let path = configmaps_path(WATCH_NAMESPACE);

    let rv = match t.connect(Protocol::Http1).await {
        Ok(mut conn) => list_all(&mut conn, &path, p.op_timeout).await.map(|l| l.metadata.resource_version),
        Err(e) => Err(e),
    };
    let rv = match rv {
        Ok(rv) => rv,
        Err(e) => return failed(format!("the list before the watch: {e}")),
    };
    let per_connection = p.watch_streams_per_connection.max(1);
    let conns = match t.connect_all(p.watch_connections(), p.watch_protocol()).await {
        Ok(conns) => conns,
        Err(e) => return failed(format!("watch connections: {e}")),
    };
    let mut handles = Vec::with_capacity(p.watchers);
    for conn in conns {
        match conn.share() {
            Some(_) => {
                for _ in 1..per_connection {
                    if let Some(shared) = conn.share() {
                        handles.push(shared);
                    }
                }
                handles.push(conn);
            }
            None => handles.push(conn),
        }
    }
    handles.truncate(p.watchers);

    let watch_path = format!("{path}?watch=true&resourceVersion={rv}");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<Result<(), String>>(handles.len().max(1));
    let mut watchers = Vec::with_capacity(handles.len());
    let mut counters = Vec::with_capacity(handles.len());
    for mut conn in handles {
        let received = Arc::new(AtomicUsize::new(0));
        counters.push(received.clone());
        let (watch_path, stop, ready, limit) = (watch_path.clone(), stop_rx.clone(), ready_tx.clone(), p.op_timeout);
        let watcher = Watcher { rec: Recorder::default(), seen: vec![false; events], last_revision: 0, base, received };
        watchers.push(tokio::spawn(async move {
            let opened = match tokio::time::timeout(limit, conn.stream(&watch_path)).await {
                Ok(Ok((StatusCode::OK, body))) => Ok(body),
                Ok(Ok((status, body))) => {
                    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                    Err(format!("watch {watch_path}: {}", describe(status, &body)))
                }
                Ok(Err(e)) => Err(format!("watch {watch_path}: {e:#}")),
                Err(_) => Err(format!("watch {watch_path}: no response after {limit:?}")),
            };
            match opened {
                Ok(body) => {
                    let _ = ready.send(Ok(())).await;
                    // The connection stays open as long as `conn` lives.
                    let outcome = run_watcher(body, watcher, stop).await;
                    drop(conn);
                    outcome
                }
                Err(e) => {
                    let _ = ready.send(Err(e.clone())).await;
                    let mut watcher = watcher;
                    watcher.rec.error(e);
                    WatcherOutcome { rec: watcher.rec, seen: watcher.seen }
                }
            }
        }));
    }
    drop(ready_tx);
    // Wait until every watch has its response headers.
    let (mut open, mut answered) = (0u64, 0usize);
    let ready_deadline = Instant::now() + p.op_timeout * 2;
    while answered < watchers.len() {
        match tokio::time::timeout_at(ready_deadline.into(), ready_rx.recv()).await {
            Ok(Some(Ok(()))) => open += 1,
            Ok(Some(Err(_))) => {} // counted by the watcher itself
            Ok(None) | Err(_) => break,
        }
        answered += 1;
    }
    let open_watchers = open;
    // Let the watches settle so that what is measured is steady-state delivery.
    tokio::time::sleep(Duration::from_millis(250)).await;

    // Change n is due at t0 + n/rate; writers take the next number, wait
    // for its time, stamp it and send it.
    let writer_conns = match t.connect_all(p.watch_writers.max(1), Protocol::Http1).await {
        Ok(conns) => conns,
        Err(e) => {
            let _ = stop_tx.send(true);
            return failed(format!("watch writers: {e}"));
        }
    };
    let period = Duration::from_secs_f64(1.0 / f64::from(rate));
    let t0 = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = writer_conns
        .into_iter()
        .map(|mut conn| {
            let (next, path, limit) = (next.clone(), path.clone(), p.op_timeout);
            tokio::spawn(async move {
                let mut rec = Recorder::default();
                let mut written = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= events {
                        break;
                    }
                    tokio::time::sleep_until((t0 + period * n as u32).into()).await;
                    let name = watch_name(n);
                    let sent = u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX);
                    let body = configmap(&name, json!({ "sent": sent.to_string() }));
                    match timed(limit, &mut conn, Method::POST, &path, Some(body)).await {
                        (took, Ok((StatusCode::CREATED, _))) => {
                            rec.ok(took);
                            written.push(n);
                        }
                        (_, Ok((status, body))) => rec.error(format!("create {name}: {}", describe(status, &body))),
                        (_, Err(e)) => rec.error(e),
                    }
                }
                (rec, written)
            })
        })
        .collect();
    let mut writes = Recorder::default();
    let mut written = Vec::new();
    for task in writers {
        match task.await {
            Ok((r, w)) => {
                writes.merge(r);
                written.extend(w);
            }
            Err(e) => writes.error(format!("watch writer failed: {e}")),
        }
    }
    let write_elapsed = t0.elapsed();

    // Wait for every watcher to have every acknowledged change (or give up).
    let drain_deadline = Instant::now() + p.drain_timeout;
    while counters.iter().any(|c| c.load(Ordering::Relaxed) < written.len()) && Instant::now() < drain_deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let delivery_elapsed = t0.elapsed();
    let _ = stop_tx.send(true);

    let mut missing = 0u64;
    let mut latency = Recorder::default();
    for task in watchers {
        match task.await {
            Ok(outcome) => {
                missing += written.iter().filter(|&&n| !outcome.seen[n]).count() as u64;
                latency.merge(outcome.rec);
            }
            Err(e) => latency.error(format!("watcher failed: {e}")),
        }
    }
    let write_p99 = writes.latency.percentile(0.99).map(format_ms).unwrap_or_else(|| "-".into());
    let achieved = written.len() as f64 / write_elapsed.as_secs_f64().max(f64::MIN_POSITIVE);
    let connections = match p.watch_protocol() {
        Protocol::Http1 => format!("{} HTTP/1.1 connections", group_thousands(p.watch_connections() as u64)),
        Protocol::Http2 => format!("{} HTTP/2 connections", group_thousands(p.watch_connections() as u64)),
    };
    let detail = format!(
        "{} changes at {achieved:.0}/s to {} watchers ({connections}), write p99 {write_p99}",
        group_thousands(written.len() as u64),
        group_thousands(open_watchers),
    );
    rec.merge(latency);
    rec.errors += writes.errors;
    if rec.first_error.is_none() {
        rec.first_error = writes.first_error;
    }
    rec.fail_many(missing, format!("{missing} acknowledged changes never reached their watchers"));
    rec.finish(delivery_elapsed, detail)
}

/// `p.clients` clients creating the logical clusters `lc-0` … `lc-<N-1>`;
/// then checks that the first and the last have their namespaces.
pub async fn logical_clusters(t: &Target, p: &ApiParams) -> WorkloadResult {
    let conns = match t.connect_all(p.clients, Protocol::Http1).await {
        Ok(conns) => conns,
        Err(e) => return failed(e),
    };
    let path = "/apis/kubeplex.io/v1alpha1/logicalclusters";
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|mut conn| {
            let next = next.clone();
            let (total, limit) = (p.clusters, p.op_timeout);
            tokio::spawn(async move {
                let mut rec = Recorder::default();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        break rec;
                    }
                    let name = format!("lc-{n}");
                    let body = json!({"apiVersion": "kubeplex.io/v1alpha1", "kind": "LogicalCluster", "metadata": {"name": name}});
                    let body = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
                    match timed(limit, &mut conn, Method::POST, path, Some(body)).await {
                        (took, Ok((StatusCode::CREATED, _))) => rec.ok(took),
                        (_, Ok((status, body))) => {
                            rec.error(format!("create LogicalCluster {name}: {}", describe(status, &body)))
                        }
                        (_, Err(e)) => rec.error(e),
                    }
                }
            })
        })
        .collect();
    let mut rec = join_all(tasks).await;
    let elapsed = start.elapsed();
    if p.clusters > 0 {
        match t.connect(Protocol::Http1).await {
            Ok(mut conn) => {
                for n in [0, p.clusters - 1] {
                    let path = format!("/clusters/lc-{n}/api/v1/namespaces");
                    match timed(p.op_timeout, &mut conn, Method::GET, &path, None).await.1 {
                        Ok((StatusCode::OK, body)) => match parse_list(&body) {
                            Ok(list) if list.items.iter().any(|i| i.metadata.name == "default") => {}
                            Ok(list) => rec.error(format!(
                                "lc-{n} has no namespace default (namespaces: {:?})",
                                list.items.iter().map(|i| i.metadata.name.as_str()).collect::<Vec<_>>()
                            )),
                            Err(e) => rec.error(format!("GET {path}: {e}")),
                        },
                        Ok((status, body)) => rec.error(format!("GET {path}: {}", describe(status, &body))),
                        Err(e) => rec.error(e),
                    }
                }
            }
            Err(e) => rec.error(e),
        }
    }
    let detail = format!("{} logical clusters", group_thousands(rec.ok));
    rec.finish(elapsed, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        let p = ApiParams::default();
        assert_eq!(ApiWorkload::Create.label(&p), "create ConfigMap, 64 clients");
        assert_eq!(ApiWorkload::List.label(&p), "list 10,000 ConfigMaps");
        assert_eq!(ApiWorkload::ListPaged.label(&p), "list 10,000 ConfigMaps, limit=500");
        assert_eq!(ApiWorkload::Watch.label(&p), "watch: 1,000 watchers, 100 changes/s");
        assert_eq!(ApiWorkload::LogicalClusters.label(&p), "create LogicalCluster, 64 clients");
        assert_eq!(ApiWorkload::CrdServed.label(&p), "CRD created until served, 20 CRDs");
        assert_eq!(ApiWorkload::CreateCustom.label(&p), "create custom object, 64 clients");
        assert_eq!(ApiWorkload::GetCustom.label(&p), "get custom object, 64 clients");
        assert_eq!(ApiWorkload::ALL.len(), ApiWorkload::ALL.iter().map(|w| w.name()).collect::<HashSet<_>>().len());
    }

    #[test]
    fn object_bodies() {
        let body = |kind: &ObjectKind| -> serde_json::Value {
            serde_json::from_slice(&kind.body("c-0-1", json!({"value": "abc"}))).expect("JSON")
        };
        let cm = ObjectKind::configmap();
        assert_eq!(cm.collection, "/api/v1/namespaces/default/configmaps");
        assert_eq!(
            body(&cm),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c-0-1"}, "data": {"value": "abc"}})
        );
        let crd = BenchCrd::numbered(3);
        assert_eq!(crd.name(), "widget3s.g3.bench.example.com");
        let custom = crd.objects();
        assert_eq!(custom.collection, "/apis/g3.bench.example.com/v1/namespaces/default/widget3s");
        assert_eq!(
            body(&custom),
            json!({
                "apiVersion": "g3.bench.example.com/v1",
                "kind": "Widget3",
                "metadata": {"name": "c-0-1"},
                "spec": {"value": "abc"},
            })
        );
        let manifest: serde_json::Value = serde_json::from_slice(&crd.manifest()).expect("JSON");
        assert_eq!(manifest["metadata"]["name"], "widget3s.g3.bench.example.com");
        assert_eq!(manifest["spec"]["group"], "g3.bench.example.com");
        assert_eq!(manifest["spec"]["names"]["singular"], "widget3");
        assert_eq!(manifest["spec"]["versions"][0]["name"], "v1");
        let schema = &manifest["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
        assert_eq!(schema["properties"]["spec"]["x-kubernetes-preserve-unknown-fields"], true);
    }

    #[test]
    fn watch_connections() {
        let mut p = ApiParams { watchers: 1000, ..ApiParams::default() };
        assert_eq!((p.watch_connections(), p.watch_protocol()), (1000, Protocol::Http1));
        p.watch_streams_per_connection = 300;
        assert_eq!((p.watch_connections(), p.watch_protocol()), (4, Protocol::Http2));
    }

    #[test]
    fn escapes_tokens() {
        assert_eq!(query_escape("abc-_.~"), "abc-_.~");
        assert_eq!(query_escape("a+b/c="), "a%2Bb%2Fc%3D");
    }

    fn watcher(events: usize) -> Watcher {
        Watcher {
            rec: Recorder::default(),
            seen: vec![false; events],
            last_revision: 0,
            base: Instant::now(),
            received: Arc::new(AtomicUsize::new(0)),
        }
    }

    #[test]
    fn watch_lines_are_checked() {
        let mut w = watcher(3);
        let line = |name: &str, rv: u64| {
            format!(
                r#"{{"type":"ADDED","object":{{"kind":"ConfigMap","metadata":{{"name":"{name}","resourceVersion":"{rv}"}},"data":{{"sent":"5"}}}}}}"#
            )
        };
        let now = Instant::now() + Duration::from_millis(3);
        w.line(line("w-000001", 10).as_bytes(), now);
        assert_eq!((w.rec.ok, w.rec.errors), (1, 0));
        assert!(w.rec.latency.percentile(0.5).is_some_and(|l| l >= Duration::from_millis(2)));
        w.line(line("w-000002", 11).as_bytes(), now);
        assert_eq!((w.rec.ok, w.rec.errors), (2, 0));
        // Twice, out of order, unknown, bad.
        w.line(line("w-000002", 12).as_bytes(), now);
        assert_eq!(w.rec.errors, 1);
        w.line(line("w-000000", 9).as_bytes(), now);
        assert_eq!((w.rec.ok, w.rec.errors), (3, 2));
        w.line(line("other", 20).as_bytes(), now);
        w.line(b"{not json", now);
        w.line(br#"{"type":"ERROR","object":{"kind":"Status","code":410}}"#, now);
        assert_eq!((w.rec.ok, w.rec.errors), (3, 5));
        w.line(br#"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"30"}}}"#, now);
        assert_eq!((w.rec.ok, w.rec.errors), (3, 5));
        assert_eq!(w.received.load(Ordering::Relaxed), 3);
        assert_eq!(w.seen, [true, true, true]);
    }

    #[test]
    fn lists_parse() {
        let list = parse_list(
            br#"{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"7","continue":"abc"},"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}"#,
        )
        .expect("a list");
        assert_eq!(list.metadata.resource_version, "7");
        assert_eq!(list.metadata.continue_token.as_deref(), Some("abc"));
        assert_eq!(list.items.len(), 2);
        assert!(parse_list(b"{\"items\":3}").is_err());
        assert!(parse_list(b"not json").is_err());
    }
}
