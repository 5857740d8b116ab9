//! Watches: `{"type":…,"object":…}` lines, chunked and flushed one event at a
//! time (k8s-api.md §4.4–4.7).
//!
//! Where a watch starts: with no resourceVersion (or "0") it first sends an
//! ADDED event for every current object; with `sendInitialEvents=true` it
//! also ends those with a BOOKMARK annotated `k8s.io/initial-events-end`;
//! with a resourceVersion N it sends changes after N, or a single 410
//! ERROR event if N has been compacted.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use futures::{StreamExt, stream};
use http::{HeaderValue, StatusCode, header};
use kubeplex_core::status::{ApiError, cause};
use kubeplex_store::{Event, Revision, StoreError};
use serde_json::{Value, json};

use crate::api::ApiServer;
use crate::convert;
use crate::crud::{Target, store_error};
use crate::http::Query;
use crate::objects;
use crate::registry::Def;
use crate::select::Selection;
use crate::table::{self, TableOptions};
use crate::watchcache::{CacheWatch, CachedObject, EventType, Scope};

/// A watch with no `timeoutSeconds` ends after this long, as upstream's
/// default request timeout does (clients re-watch).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

fn line(kind: &str, object: &Value) -> Bytes {
    let mut bytes = serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

/// The watch event for a store event, if the selection shows it.
fn event_line(event: &Event, selection: &Selection, encoder: &Encoder) -> Result<Option<Bytes>, ApiError> {
    let (kind, object, before) = match event {
        Event::Put { kv, prev } => {
            let before = match prev {
                Some(p) => selection.matches(&objects::decode(p)?),
                None => false,
            };
            let kind = if prev.is_some() { EventType::Modified } else { EventType::Added };
            (kind, objects::decode(kv)?, before)
        }
        Event::Delete { revision, prev, .. } => {
            (EventType::Deleted, objects::decode_at(&prev.value, *revision)?, false)
        }
    };
    Ok(transition(kind, selection.matches(&object), before).map(|kind| encoder.value(kind.as_str(), &object)))
}

fn streaming(body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn watch_invalid(field: &str, detail: &str) -> ApiError {
    ApiError::invalid("ListOptions", "meta.k8s.io", "", vec![cause::forbidden(field, detail)])
}

/// `GET …?watch=true`.
pub async fn serve(api: &Arc<ApiServer>, t: &Target, query: &Query) -> Result<Response, ApiError> {
    let send_initial = query.get("sendInitialEvents").is_some_and(|v| v == "true" || v == "1");
    if send_initial {
        if query.get("resourceVersionMatch") != Some("NotOlderThan") {
            return Err(watch_invalid(
                "resourceVersionMatch",
                "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
            ));
        }
        if !query.flag("allowWatchBookmarks") {
            return Err(watch_invalid(
                "allowWatchBookmarks",
                "sendInitialEvents requires setting allowWatchBookmarks to true",
            ));
        }
    } else if query.get("resourceVersionMatch").is_some_and(|m| !m.is_empty()) {
        return Err(watch_invalid(
            "resourceVersionMatch",
            "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
        ));
    }
    let timeout = query.uint("timeoutSeconds")?.map_or(DEFAULT_TIMEOUT, Duration::from_secs);
    let rv = query.get("resourceVersion").filter(|v| !v.is_empty());
    let from: Option<Revision> = match rv {
        None | Some("0") => None,
        Some(v) => Some(
            v.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version {v:?}: must be an integer")))?,
        ),
    };

    let selection = Arc::new(Selection::from_query(&t.def, query)?);
    let encoder = Arc::new(Encoder { def: Arc::clone(&t.def), table: t.table, first: AtomicBool::new(true) });
    let cache = api.caches.get(&t.def.storage).await?;
    let scope = Scope { cluster: t.cluster.clone(), namespace: t.namespace.clone() };
    let mut initial: Vec<Bytes> = Vec::new();
    let (watch, after) = match from.filter(|_| !send_initial) {
        // Initial state: every current object as ADDED, then what follows.
        None => {
            let (snapshot, watch) = cache.snapshot_and_watch(&scope)?;
            initial.extend(
                snapshot
                    .objects
                    .iter()
                    .filter(|o| selected(&selection, o))
                    .map(|o| encoder.cached(EventType::Added, o)),
            );
            if send_initial {
                let bookmark = json!({
                    "kind": t.def.kind,
                    "apiVersion": t.def.api_version(),
                    "metadata": {
                        "resourceVersion": snapshot.revision.to_string(),
                        "annotations": {"k8s.io/initial-events-end": "true"},
                    },
                });
                initial.push(encoder.value("BOOKMARK", &bookmark));
            }
            (watch, snapshot.revision)
        }
        Some(after) => match cache.watch_from(&scope, after)? {
            Some(watch) => (watch, after),
            // Older than the cache's window (e.g. from before a restart):
            // the store still has it unless it was compacted.
            None => return store_watch(api, t, after, timeout, selection, encoder).await,
        },
    };
    let CacheWatch { replay, live } = watch;
    let live = stream::unfold(live, |mut rx| async move { rx.recv().await.map(|event| (event, rx)) });
    // The cache drops a watcher that falls behind (or loses the store): say
    // so, so the client lists and watches again.
    let fell_behind = stream::once(async {
        line(
            "ERROR",
            &ApiError::resource_version_too_old_message("the watch fell behind and was closed; list and watch again")
                .to_status(),
        )
    });
    let live_encoder = Arc::clone(&encoder);
    let changes = stream::iter(replay).chain(live).filter_map(move |e| {
        let line = (e.revision > after)
            .then(|| {
                let now = selected(&selection, &e.object);
                let before = e.prev.as_ref().is_some_and(|p| selected(&selection, p));
                transition(e.kind, now, before).map(|kind| live_encoder.cached(kind, &e.object))
            })
            .flatten();
        std::future::ready(line)
    });
    let body = stream::iter(initial)
        .chain(changes)
        .chain(fell_behind)
        .take_until(tokio::time::sleep(timeout))
        .map(Ok::<Bytes, Infallible>);
    Ok(streaming(Body::from_stream(body)))
}

/// Whether a cached object is selected (labels are kept parsed; fields need
/// the object).
fn selected(selection: &Selection, object: &CachedObject) -> bool {
    selection.matches_labels(&object.labels)
        && (!selection.needs_fields() || object.value().is_ok_and(|v| selection.matches_fields(&v)))
}

/// What a change is to a watcher with selectors: an object entering the
/// selection is ADDED, one leaving it DELETED (k8s-api.md §4.8).
fn transition(kind: EventType, now: bool, before: bool) -> Option<EventType> {
    match (kind, now, before) {
        (EventType::Deleted, true, _) | (EventType::Deleted, false, true) => Some(EventType::Deleted),
        (EventType::Deleted, false, false) => None,
        (EventType::Added, true, _) => Some(EventType::Added),
        (EventType::Added, false, _) => None,
        (EventType::Modified, true, true) => Some(EventType::Modified),
        (EventType::Modified, true, false) => Some(EventType::Added),
        (EventType::Modified, false, true) => Some(EventType::Deleted),
        (EventType::Modified, false, false) => None,
    }
}

/// Encodes watch events: JSON objects as stored, or one-row Tables for
/// `kubectl get -w` (column definitions on the first event only).
struct Encoder {
    def: Def,
    table: Option<TableOptions>,
    first: AtomicBool,
}

impl Encoder {
    fn cached(&self, kind: EventType, object: &CachedObject) -> Bytes {
        match &self.table {
            None if !convert::converts(&self.def) => cached_line(kind, object),
            _ => match object.value() {
                Ok(value) => self.value(kind.as_str(), &value),
                Err(e) => line("ERROR", &e.to_status()),
            },
        }
    }

    fn value(&self, kind: &str, object: &Value) -> Bytes {
        let converted;
        let object = if convert::converts(&self.def) && kind != "BOOKMARK" {
            converted = crate::crud::served(&self.def, object.clone());
            &converted
        } else {
            object
        };
        match &self.table {
            None => line(kind, object),
            Some(opts) => {
                let headers = self.first.swap(false, Ordering::Relaxed);
                let row =
                    table::watch_event_table(&self.def, object, opts.include_object, headers, jiff::Timestamp::now());
                line(kind, &row)
            }
        }
    }
}

/// A watch line around cached JSON, without re-encoding the object.
fn cached_line(kind: EventType, object: &CachedObject) -> Bytes {
    let mut out = Vec::with_capacity(object.json.len() + 32);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(kind.as_str().as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    out.extend_from_slice(&object.json);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

/// A watch served by the store itself, for resourceVersions the cache's
/// window no longer holds.
async fn store_watch(
    api: &Arc<ApiServer>,
    t: &Target,
    after: Revision,
    timeout: Duration,
    selection: Arc<Selection>,
    encoder: Arc<Encoder>,
) -> Result<Response, ApiError> {
    let prefix = objects::prefix(&t.def, &t.cluster, t.namespace.as_deref());
    let events = match api.store.watch(&prefix, after).await {
        Ok(events) => events,
        Err(StoreError::Compacted { requested, compacted }) => {
            let status = ApiError::resource_version_too_old(requested, compacted).to_status();
            return Ok(streaming(Body::from(line("ERROR", &status))));
        }
        Err(e) => return Err(store_error(e)),
    };
    let changes = events.filter_map(move |event| {
        let line = match event {
            Ok(event) => {
                event_line(&event, &selection, &encoder).unwrap_or_else(|e| Some(line("ERROR", &e.to_status())))
            }
            // A compacted revision maps to 410 Expired, as at the start.
            Err(e) => Some(line("ERROR", &store_error(e).to_status())),
        };
        std::future::ready(line)
    });
    let body = changes.take_until(tokio::time::sleep(timeout)).map(Ok::<Bytes, Infallible>);
    Ok(streaming(Body::from_stream(body)))
}
