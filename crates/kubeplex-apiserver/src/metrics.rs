//! The API server's Prometheus metrics, served at `/metrics`: what a request
//! was (verb, resource, scope, logical cluster), how it ended and how long it
//! took, the watches open, the watch caches, the seats of the overload
//! limiters and the store's latency.
//!
//! ```text
//!  request ─► classify (method, path, query) ─► RequestInfo { kind, labels }
//!                                                   │ after the response
//!                                                   ▼
//!       apiserver_request_total, apiserver_request_duration_seconds,
//!       apiserver_longrunning_requests (watches, until their stream ends)
//!  scrape ─► gauges read now (watch caches, limiter peaks) ─► text exposition
//! ```
//!
//! Names, labels and buckets are upstream's where upstream has the metric
//! (`apiserver_request_total` and friends, from kube-apiserver's endpoint
//! metrics); every request metric also has a `cluster` label. Label values
//! never come from the raw request: a resource is named only if the cluster
//! serves it (built in, or defined by one of its CRDs), a cluster only if it
//! exists (else the value is empty), so random URLs cannot create series.
//!
//! Upstream exposes the Prometheus text format 0.0.4 by default and
//! OpenMetrics when the scraper asks for it; so does this module (the
//! `prometheus-client` crate encodes OpenMetrics; [`to_prometheus_text`]
//! turns that into 0.0.4).

use std::fmt::Write as _;

use http::{HeaderMap, Method, Uri, header};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::http::Query;
use crate::metered_store::StoreMetrics;
use crate::overload::RequestKind;
use crate::path::{self, ROOT_CLUSTER, Target};
use crate::registry::Registry as Resources;

/// The path metrics are served at (root only: a logical cluster's tenants
/// must not see the others' traffic).
pub const METRICS_PATH: &str = "/metrics";

/// Upstream's `apiserver_request_duration_seconds` buckets.
pub const REQUEST_DURATION_BUCKETS: [f64; 23] = [
    0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 20.0, 30.0,
    45.0, 60.0,
];

/// The content type of the Prometheus text format (the default).
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// The content type of OpenMetrics text (when the scraper asks for it).
pub const OPENMETRICS_TEXT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upstream's `component` label of the request metrics.
const COMPONENT: &str = "apiserver";

/// Subresources upstream reports as `CONNECT` and treats as long-running.
const CONNECT_SUBRESOURCES: &[&str] = &["attach", "exec", "log", "portforward", "proxy"];

/// `apiserver_request_total`. Fields in alphabetical order, as upstream's
/// exposition sorts label names.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub cluster: String,
    pub code: String,
    pub component: &'static str,
    pub dry_run: &'static str,
    pub group: String,
    pub resource: String,
    pub scope: &'static str,
    pub subresource: String,
    pub verb: &'static str,
    pub version: String,
}

/// `apiserver_request_duration_seconds`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DurationLabels {
    pub cluster: String,
    pub component: &'static str,
    pub dry_run: &'static str,
    pub group: String,
    pub resource: String,
    pub scope: &'static str,
    pub subresource: String,
    pub verb: &'static str,
    pub version: String,
}

/// `apiserver_longrunning_requests`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LongRunningLabels {
    pub cluster: String,
    pub component: &'static str,
    pub group: String,
    pub resource: String,
    pub scope: &'static str,
    pub subresource: String,
    pub verb: &'static str,
    pub version: String,
}

/// Metrics per storage resource (watch caches).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResourceLabel {
    pub resource: String,
}

/// The in-flight gauges: `readOnly` or `mutating`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestKindLabel {
    pub request_kind: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn request_histogram() -> Histogram {
    Histogram::new(REQUEST_DURATION_BUCKETS)
}

/// Every metric of the server, and the registry that encodes them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: HistogramFamily<DurationLabels>,
    longrunning: Family<LongRunningLabels, Gauge>,
    registered_watchers: Family<ResourceLabel, Gauge>,
    cache_objects: Family<ResourceLabel, Gauge>,
    cache_events: Family<ResourceLabel, Gauge>,
    cache_revision: Family<ResourceLabel, Gauge>,
    inflight: Family<RequestKindLabel, Gauge>,
    inqueue: Family<RequestKindLabel, Gauge>,
    store: StoreMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "apiserver_request",
            "Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, \
             component, logical cluster, and HTTP response code",
            requests.clone(),
        );
        let durations = HistogramFamily::<DurationLabels>::new_with_constructor(request_histogram as fn() -> Histogram);
        registry.register(
            "apiserver_request_duration_seconds",
            "Response latency distribution in seconds for each verb, dry run value, group, version, resource, \
             subresource, scope, component and logical cluster",
            durations.clone(),
        );
        let longrunning = Family::<LongRunningLabels, Gauge>::default();
        registry.register(
            "apiserver_longrunning_requests",
            "Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope, \
             component and logical cluster",
            longrunning.clone(),
        );
        let registered_watchers = Family::<ResourceLabel, Gauge>::default();
        registry.register(
            "apiserver_registered_watchers",
            "Number of currently registered watchers for a given storage resource",
            registered_watchers.clone(),
        );
        let cache_objects = Family::<ResourceLabel, Gauge>::default();
        registry.register(
            "apiserver_watch_cache_objects",
            "Number of objects held by the watch cache of a storage resource, every logical cluster together",
            cache_objects.clone(),
        );
        let cache_events = Family::<ResourceLabel, Gauge>::default();
        registry.register(
            "apiserver_watch_cache_events",
            "Number of recent events the watch cache of a storage resource keeps for watches that resume",
            cache_events.clone(),
        );
        let cache_revision = Family::<ResourceLabel, Gauge>::default();
        registry.register(
            "apiserver_watch_cache_resource_version",
            "Current resource version of the watch cache of a storage resource",
            cache_revision.clone(),
        );
        let inflight = Family::<RequestKindLabel, Gauge>::default();
        registry.register(
            "apiserver_current_inflight_requests",
            "Maximal number of currently used inflight request limit of this apiserver per request kind since the \
             previous scrape",
            inflight.clone(),
        );
        let inqueue = Family::<RequestKindLabel, Gauge>::default();
        registry.register(
            "apiserver_current_inqueue_requests",
            "Maximal number of queued requests in this apiserver per request kind since the previous scrape",
            inqueue.clone(),
        );
        let store = StoreMetrics::register(&mut registry);
        Metrics {
            registry,
            requests,
            durations,
            longrunning,
            registered_watchers,
            cache_objects,
            cache_events,
            cache_revision,
            inflight,
            inqueue,
            store,
        }
    }

    /// The store's metrics, for [`crate::metered_store::MeteredStore`].
    pub fn store(&self) -> StoreMetrics {
        self.store.clone()
    }

    /// Counts a finished request.
    pub fn record_request(&self, info: &RequestInfo, cluster: &str, code: u16, seconds: f64) {
        let l = &info.labels;
        self.requests
            .get_or_create(&RequestLabels {
                cluster: cluster.to_owned(),
                code: code.to_string(),
                component: COMPONENT,
                dry_run: l.dry_run,
                group: l.group.clone(),
                resource: l.resource.clone(),
                scope: l.scope,
                subresource: l.subresource.clone(),
                verb: l.verb,
                version: l.version.clone(),
            })
            .inc();
        self.durations
            .get_or_create(&DurationLabels {
                cluster: cluster.to_owned(),
                component: COMPONENT,
                dry_run: l.dry_run,
                group: l.group.clone(),
                resource: l.resource.clone(),
                scope: l.scope,
                subresource: l.subresource.clone(),
                verb: l.verb,
                version: l.version.clone(),
            })
            .observe(seconds);
    }

    /// The gauge of open long-running requests like `info` in `cluster`.
    pub fn longrunning(&self, info: &RequestInfo, cluster: &str) -> Gauge {
        let l = &info.labels;
        self.longrunning
            .get_or_create(&LongRunningLabels {
                cluster: cluster.to_owned(),
                component: COMPONENT,
                group: l.group.clone(),
                resource: l.resource.clone(),
                scope: l.scope,
                subresource: l.subresource.clone(),
                verb: l.verb,
                version: l.version.clone(),
            })
            .clone()
    }

    /// Sets the gauges of one watch cache.
    pub fn set_cache(&self, storage: &str, objects: usize, events: usize, watchers: usize, revision: i64) {
        let label = ResourceLabel { resource: storage.to_owned() };
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.cache_objects.get_or_create(&label).set(count(objects));
        self.cache_events.get_or_create(&label).set(count(events));
        self.registered_watchers.get_or_create(&label).set(count(watchers));
        self.cache_revision.get_or_create(&label).set(revision);
    }

    /// Sets the in-flight gauges of one request kind.
    pub fn set_inflight(&self, kind: RequestKind, in_flight: usize, queued: usize) {
        if let Some(request_kind) = kind.label() {
            let label = RequestKindLabel { request_kind };
            self.inflight.get_or_create(&label).set(i64::try_from(in_flight).unwrap_or(i64::MAX));
            self.inqueue.get_or_create(&label).set(i64::try_from(queued).unwrap_or(i64::MAX));
        }
    }

    /// The exposition, in OpenMetrics text or (the default) the Prometheus
    /// text format, with its content type.
    pub fn encode(&self, accept: &str) -> (String, &'static str) {
        let mut text = String::new();
        if wants_openmetrics(accept) {
            if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
                tracing::warn!(error = %e, "encoding metrics failed");
            }
            (text, OPENMETRICS_TEXT)
        } else {
            if let Err(e) = prometheus_client::encoding::text::encode_registry(&mut text, &self.registry) {
                tracing::warn!(error = %e, "encoding metrics failed");
            }
            (to_prometheus_text(&text), PROMETHEUS_TEXT)
        }
    }
}

/// Whether an `Accept` header asks for OpenMetrics.
fn wants_openmetrics(accept: &str) -> bool {
    accept.split(',').any(|part| part.trim().to_ascii_lowercase().starts_with("application/openmetrics-text"))
}

/// OpenMetrics text (as `prometheus-client` writes it) in the Prometheus
/// text format 0.0.4: a counter's `HELP` and `TYPE` name its `_total`
/// samples, and `# UNIT` and `# EOF` go.
pub fn to_prometheus_text(openmetrics: &str) -> String {
    let lines: Vec<&str> = openmetrics.lines().collect();
    let mut out = String::with_capacity(openmetrics.len() + 256);
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let (Some(help), Some(next)) = (line.strip_prefix("# HELP "), lines.get(i + 1))
            && let Some((name, text)) = help.split_once(' ')
            && *next == format!("# TYPE {name} counter")
        {
            let _ = writeln!(out, "# HELP {name}_total {text}");
            let _ = writeln!(out, "# TYPE {name}_total counter");
            i += 2;
            continue;
        }
        if !(line.starts_with("# UNIT ") || line == "# EOF") {
            out.push_str(line);
            out.push('\n');
        }
        i += 1;
    }
    out
}

/// What the request metrics say about a request, apart from its outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Labels {
    pub verb: &'static str,
    pub dry_run: &'static str,
    pub group: String,
    pub version: String,
    pub resource: String,
    pub subresource: String,
    pub scope: &'static str,
}

/// A request as the metrics and the overload limiters see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestInfo {
    /// The logical cluster its path names (which may not exist).
    pub cluster: String,
    pub kind: RequestKind,
    pub labels: Labels,
}

impl RequestInfo {
    /// Classifies a request by its method, path, query and content type;
    /// `resources` says what each logical cluster serves.
    pub fn classify(resources: &Resources, method: &Method, uri: &Uri, headers: &HeaderMap) -> Self {
        let request_path = uri.path();
        let query = Query::parse(uri.query());
        let mut labels = Labels { dry_run: dry_run(uri.query()), ..Labels::default() };
        if request_path == METRICS_PATH {
            labels.subresource = METRICS_PATH.to_owned();
            labels.verb = verb(method, "", false, headers);
            return RequestInfo { cluster: ROOT_CLUSTER.to_owned(), kind: RequestKind::Exempt, labels };
        }
        let parsed = path::parse(request_path);
        let mut kind = None;
        let mut watch = false;
        let mut connect = false;
        match parsed.target {
            Target::Version => {
                labels.subresource = "/version".to_owned();
                kind = Some(RequestKind::Exempt);
            }
            Target::Health(name) => {
                labels.subresource = format!("/{name}");
                kind = Some(RequestKind::Exempt);
            }
            Target::CoreRoot => labels.subresource = "/api".to_owned(),
            Target::GroupsRoot => labels.subresource = "/apis".to_owned(),
            Target::OpenApiV3(_) => labels.subresource = "/openapi/v3".to_owned(),
            Target::Group(group) => {
                if resources.all(parsed.cluster).iter().any(|d| d.group == group) {
                    labels.group = group.to_owned();
                }
            }
            Target::GroupVersion { group, version } => {
                if resources.all(parsed.cluster).iter().any(|d| d.group == group && d.version == version) {
                    labels.group = group.to_owned();
                    labels.version = version.to_owned();
                }
            }
            Target::Resource(rp) => {
                if let Some(def) = resources.find(parsed.cluster, rp.group, rp.version, rp.resource) {
                    labels.group = def.group.to_string();
                    labels.version = def.version.to_string();
                    labels.resource = def.plural.to_string();
                    if let Some(sub) = rp.subresource.and_then(|s| def.subresource(s)) {
                        labels.subresource = sub.name.to_string();
                    }
                    // Upstream's installer: namespaced or cluster, an object
                    // or a create is a resource, across namespaces a cluster.
                    labels.scope = if rp.name.is_some() || method == Method::POST {
                        "resource"
                    } else if def.namespaced && rp.namespace.is_some() {
                        "namespace"
                    } else {
                        "cluster"
                    };
                }
                // As the handlers decide: a watch is a GET of a collection.
                watch = matches!(*method, Method::GET | Method::HEAD) && rp.name.is_none() && query.flag("watch");
                connect = rp.subresource.is_some_and(|s| CONNECT_SUBRESOURCES.contains(&s));
            }
            Target::Unknown => {}
        }
        labels.verb = if watch {
            "WATCH"
        } else if connect && !labels.subresource.is_empty() {
            "CONNECT"
        } else {
            verb(method, labels.scope, labels.scope == "resource", headers)
        };
        let kind = kind.unwrap_or(if watch || connect {
            RequestKind::LongRunning
        } else if matches!(*method, Method::GET | Method::HEAD) {
            RequestKind::ReadOnly
        } else {
            RequestKind::Mutating
        });
        RequestInfo { cluster: parsed.cluster.to_owned(), kind, labels }
    }
}

/// Upstream's reported verb: GET of a collection is a LIST, an apply patch
/// an APPLY, unknown methods `other`.
fn verb(method: &Method, scope: &str, object: bool, headers: &HeaderMap) -> &'static str {
    match *method {
        Method::GET | Method::HEAD if !object && !scope.is_empty() => "LIST",
        Method::GET | Method::HEAD => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => {
            let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
            let media = content_type.split(';').next().unwrap_or("").trim();
            if media.eq_ignore_ascii_case("application/apply-patch+yaml") { "APPLY" } else { "PATCH" }
        }
        _ => "other",
    }
}

/// Upstream's `dry_run` label: empty, `All`, or `invalid`.
fn dry_run(query: Option<&str>) -> &'static str {
    let Some(query) = query.filter(|q| q.contains("dryRun")) else { return "" };
    let mut values = form_urlencoded::parse(query.as_bytes()).filter(|(k, _)| k == "dryRun").peekable();
    if values.peek().is_none() {
        ""
    } else if values.all(|(_, v)| v == "All") {
        "All"
    } else {
        "invalid"
    }
}

#[cfg(test)]
mod tests {
    use kubeplex_core::resource::BUILTIN;

    use super::*;

    fn classify(method: Method, uri: &str) -> RequestInfo {
        classify_with(method, uri, HeaderMap::new())
    }

    fn classify_with(method: Method, uri: &str, headers: HeaderMap) -> RequestInfo {
        RequestInfo::classify(&Resources::new(), &method, &uri.parse().unwrap(), &headers)
    }

    fn summary(info: &RequestInfo) -> (&str, &str, &str, &str, &str, &str, RequestKind) {
        let l = &info.labels;
        (
            info.cluster.as_str(),
            l.verb,
            l.group.as_str(),
            l.resource.as_str(),
            l.subresource.as_str(),
            l.scope,
            info.kind,
        )
    }

    #[test]
    fn verbs_and_scopes_as_upstream_reports_them() {
        use RequestKind::*;
        let cases = [
            (
                Method::GET,
                "/api/v1/namespaces/d/configmaps",
                ("root", "LIST", "", "configmaps", "", "namespace", ReadOnly),
            ),
            (Method::GET, "/api/v1/configmaps", ("root", "LIST", "", "configmaps", "", "cluster", ReadOnly)),
            (Method::GET, "/api/v1/namespaces", ("root", "LIST", "", "namespaces", "", "cluster", ReadOnly)),
            (Method::GET, "/api/v1/namespaces/d", ("root", "GET", "", "namespaces", "", "resource", ReadOnly)),
            (
                Method::GET,
                "/clusters/t1/api/v1/namespaces/d/pods?watch=true",
                ("t1", "WATCH", "", "pods", "", "namespace", LongRunning),
            ),
            (
                Method::GET,
                "/clusters/t1/api/v1/namespaces/d/pods?watch=1&resourceVersion=5",
                ("t1", "WATCH", "", "pods", "", "namespace", LongRunning),
            ),
            (
                Method::GET,
                "/api/v1/namespaces/d/pods/p?watch=true",
                ("root", "GET", "", "pods", "", "resource", ReadOnly),
            ),
            (
                Method::POST,
                "/api/v1/namespaces/d/configmaps",
                ("root", "POST", "", "configmaps", "", "resource", Mutating),
            ),
            (
                Method::PUT,
                "/apis/apps/v1/namespaces/d/deployments/w/scale",
                ("root", "PUT", "apps", "deployments", "scale", "resource", Mutating),
            ),
            (
                Method::DELETE,
                "/apis/apps/v1/namespaces/d/deployments",
                ("root", "DELETE", "apps", "deployments", "", "namespace", Mutating),
            ),
            (Method::GET, "/version", ("root", "GET", "", "", "/version", "", Exempt)),
            (Method::GET, "/clusters/t1/readyz/ping", ("t1", "GET", "", "", "/readyz", "", Exempt)),
            (Method::GET, "/metrics", ("root", "GET", "", "", "/metrics", "", Exempt)),
            (Method::GET, "/apis", ("root", "GET", "", "", "/apis", "", ReadOnly)),
            (Method::GET, "/apis/apps", ("root", "GET", "apps", "", "", "", ReadOnly)),
        ];
        for (method, uri, want) in cases {
            let info = classify(method, uri);
            assert_eq!(summary(&info), want, "{uri}");
        }
        // Connections are long-running; CONNECT once the subresource is served.
        let log = classify(Method::GET, "/api/v1/namespaces/d/pods/p/log");
        assert_eq!(log.kind, LongRunning);
        let served = BUILTIN.iter().any(|d| d.plural == "pods" && d.subresource("log").is_some());
        assert_eq!(log.labels.verb, if served { "CONNECT" } else { "GET" });
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, "application/apply-patch+yaml".parse().unwrap());
        let apply = classify_with(Method::PATCH, "/api/v1/namespaces/d/configmaps/c", headers);
        assert_eq!(apply.labels.verb, "APPLY");
        assert_eq!(classify(Method::PATCH, "/api/v1/namespaces/d/configmaps/c").labels.verb, "PATCH");
        assert_eq!(classify(Method::OPTIONS, "/api").labels.verb, "other");
    }

    #[test]
    fn label_values_come_only_from_what_is_served() {
        for uri in ["/apis/example.com/v1/namespaces/d/widgets", "/apis/nope.example", "/apis/apps/v9", "/x/y/z"] {
            let info = classify(Method::GET, uri);
            assert_eq!(info.labels, Labels { verb: "GET", ..Labels::default() }, "{uri}");
        }
        // A served resource with a subresource it does not have.
        let info = classify(Method::GET, "/api/v1/namespaces/d/configmaps/c/nonsense");
        assert_eq!((info.labels.resource.as_str(), info.labels.subresource.as_str()), ("configmaps", ""));
        // The cluster is the path's; whether it exists is decided later.
        assert_eq!(classify(Method::GET, "/clusters/whatever/api").cluster, "whatever");
    }

    #[test]
    fn dry_run_values() {
        assert_eq!(dry_run(None), "");
        assert_eq!(dry_run(Some("fieldManager=x")), "");
        assert_eq!(dry_run(Some("dryRun=All")), "All");
        assert_eq!(dry_run(Some("dryRun=All&dryRun=All")), "All");
        assert_eq!(dry_run(Some("dryRun=Some")), "invalid");
    }

    #[test]
    fn the_exposition_in_both_formats() {
        let metrics = Metrics::new();
        let info = classify(Method::GET, "/clusters/t1/api/v1/namespaces/d/configmaps");
        metrics.record_request(&info, "t1", 200, 0.01);
        metrics.set_cache("configmaps", 3, 7, 1, 42);
        metrics.set_inflight(RequestKind::ReadOnly, 2, 0);
        let (text, content_type) = metrics.encode("application/json, */*");
        assert_eq!(content_type, PROMETHEUS_TEXT);
        assert!(text.contains("# TYPE apiserver_request_total counter\n"), "{text}");
        assert!(
            text.contains(
                "apiserver_request_total{cluster=\"t1\",code=\"200\",component=\"apiserver\",dry_run=\"\",group=\"\",\
                 resource=\"configmaps\",scope=\"namespace\",subresource=\"\",verb=\"LIST\",version=\"v1\"} 1\n"
            ),
            "{text}"
        );
        assert!(text.contains("# TYPE apiserver_request_duration_seconds histogram\n"), "{text}");
        assert!(text.contains("le=\"0.005\""), "{text}");
        assert!(text.contains("apiserver_watch_cache_objects{resource=\"configmaps\"} 3\n"), "{text}");
        assert!(text.contains("apiserver_registered_watchers{resource=\"configmaps\"} 1\n"), "{text}");
        assert!(text.contains("apiserver_current_inflight_requests{request_kind=\"readOnly\"} 2\n"), "{text}");
        assert!(!text.contains("# EOF"), "{text}");
        let (open, content_type) = metrics.encode("application/openmetrics-text;version=1.0.0,text/plain;q=0.5");
        assert_eq!(content_type, OPENMETRICS_TEXT);
        assert!(open.contains("# TYPE apiserver_request counter\n") && open.ends_with("# EOF\n"), "{open}");
    }

    #[test]
    fn counters_are_renamed_for_the_prometheus_format() {
        let open = "# HELP a_b Help text.\n# TYPE a_b counter\na_b_total 1\n\
                    # HELP g A gauge.\n# TYPE g gauge\n# UNIT g seconds\ng 2\n# EOF\n";
        assert_eq!(
            to_prometheus_text(open),
            "# HELP a_b_total Help text.\n# TYPE a_b_total counter\na_b_total 1\n# HELP g A gauge.\n# TYPE g gauge\ng 2\n"
        );
    }
}
