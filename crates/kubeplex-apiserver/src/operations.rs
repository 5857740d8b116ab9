//! The operations filter in front of the API handler: it classifies every
//! request, measures it, holds it to the overload limits, and serves
//! `/metrics`.
//!
//! ```text
//!  transport filters (TLS, authentication)
//!     ─► operations::filter ── /metrics ─► Metrics::encode
//!            │ classify ─► Overload::admit ── refused ─► 429 (counted)
//!            ▼                    │ seat
//!         api::router ─► response ┴─► counted; the seat (and a watch's
//!                                     gauge) is held until its body ends
//! ```
//!
//! A request's seat is given back when its response body has been sent or
//! dropped, so a large list holds its seat while it streams out, as
//! upstream's handler does while it writes. A watch holds no seat; it is
//! counted in `apiserver_longrunning_requests` while its stream is open and
//! in `apiserver_request_total` and the duration histogram when it ends, as
//! upstream does.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, StatusCode, header};
use http_body_util::BodyExt;
use kubeplex_core::status::ApiError;
use prometheus_client::metrics::gauge::Gauge;

use crate::api::ApiServer;
use crate::metrics::{METRICS_PATH, Metrics, RequestInfo};
use crate::objects;
use crate::overload::{InflightLimits, Overload, RequestKind, too_many_requests};
use crate::path::ROOT_CLUSTER;

/// The server's metrics and overload limiters.
#[derive(Debug)]
pub struct Operations {
    pub metrics: Metrics,
    pub overload: Overload,
}

impl Operations {
    pub fn new(limits: InflightLimits) -> Self {
        Operations { metrics: Metrics::new(), overload: Overload::new(limits) }
    }
}

#[derive(Clone, Debug)]
struct FilterState {
    api: Arc<ApiServer>,
    ops: Arc<Operations>,
}

/// `router` behind the operations filter.
pub fn layer(router: Router, api: Arc<ApiServer>, ops: Arc<Operations>) -> Router {
    router.layer(axum::middleware::from_fn_with_state(FilterState { api, ops }, filter))
}

async fn filter(State(state): State<FilterState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let info = RequestInfo::classify(&state.api.registry, request.method(), request.uri(), request.headers());
    let ops = &state.ops;
    if request.uri().path() == METRICS_PATH {
        let accept = request.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let response = serve_metrics(&state, request.method(), &accept).await;
        ops.metrics.record_request(&info, ROOT_CLUSTER, response.status().as_u16(), started.elapsed().as_secs_f64());
        return response;
    }
    let permit = match ops.overload.admit(info.kind, &info.cluster).await {
        Ok(permit) => permit,
        Err(_) => {
            let response = too_many_requests();
            let cluster = cluster_label(&state.api, &info.cluster, response.status()).await;
            ops.metrics.record_request(&info, &cluster, response.status().as_u16(), started.elapsed().as_secs_f64());
            return response;
        }
    };
    let response = next.run(request).await;
    let status = response.status();
    let cluster = cluster_label(&state.api, &info.cluster, status).await;
    if info.kind == RequestKind::LongRunning && status.is_success() {
        let gauge = ops.metrics.longrunning(&info, &cluster);
        gauge.inc();
        let stream = OpenStream { ops: Arc::clone(ops), info, cluster, code: status.as_u16(), started, gauge };
        return keep_until_sent(response, (permit, stream));
    }
    ops.metrics.record_request(&info, &cluster, status.as_u16(), started.elapsed().as_secs_f64());
    match permit {
        Some(permit) => keep_until_sent(response, permit),
        None => response,
    }
}

/// The `cluster` label: the cluster the path names, or empty when it does
/// not exist. A successful answer proves it exists; otherwise the watch
/// cache of logical clusters says (a miss means "no", as the label must not
/// cost a store read).
async fn cluster_label(api: &ApiServer, cluster: &str, status: StatusCode) -> String {
    if cluster == ROOT_CLUSTER || status.is_success() {
        return cluster.to_owned();
    }
    let def = api.logical_clusters();
    let key = objects::key(&def, ROOT_CLUSTER, None, cluster);
    match api.caches.get(&def.storage).await {
        Ok(cache) if cache.get(&key).is_some() => cluster.to_owned(),
        _ => String::new(),
    }
}

/// Keeps `guard` alive until the response body has been sent or dropped.
fn keep_until_sent<G: Send + 'static>(response: Response, guard: G) -> Response {
    let (parts, body) = response.into_parts();
    let body = body.map_frame(move |frame| {
        let _ = &guard;
        frame
    });
    Response::from_parts(parts, Body::new(body))
}

/// An open watch: counted as long-running until its stream ends.
struct OpenStream {
    ops: Arc<Operations>,
    info: RequestInfo,
    cluster: String,
    code: u16,
    started: Instant,
    gauge: Gauge,
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.gauge.dec();
        self.ops.metrics.record_request(&self.info, &self.cluster, self.code, self.started.elapsed().as_secs_f64());
    }
}

/// `GET /metrics`: the gauges read now, then the exposition.
async fn serve_metrics(state: &FilterState, method: &Method, accept: &str) -> Response {
    if !matches!(*method, Method::GET | Method::HEAD) {
        return crate::http::Reply(Err(ApiError::method_not_supported("", "", method.as_str()))).into_response();
    }
    let metrics = &state.ops.metrics;
    for (storage, cache) in state.api.caches.all().await {
        let stats = cache.stats();
        metrics.set_cache(&storage, stats.objects, stats.events, stats.watchers, stats.revision);
    }
    for kind in [RequestKind::ReadOnly, RequestKind::Mutating] {
        let (in_flight, queued) = state.ops.overload.take_peaks(kind);
        metrics.set_inflight(kind, in_flight, queued);
    }
    let (text, content_type) = metrics.encode(accept);
    let mut response = Response::new(Body::from(text));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
