//! OpenAPI v3: the discovery index `/openapi/v3` and one document per served
//! group-version (`/openapi/v3/api/v1`, `/openapi/v3/apis/<group>/<version>`),
//! which kubectl reads for validation (`fieldValidation` on PATCH), client-side
//! apply (patch metadata) and `explain`.
//!
//! ```text
//!  GET /openapi/v3 ─► index: every group-version ─► "/openapi/v3/<gv>?hash=<SHA-512 of its document>"
//!  GET /openapi/v3/<gv>[?hash=H] ─► cached bytes ─► 200 | 304 (If-None-Match) | 301 (stale hash)
//!
//!  built-in group-version ─► builtin::document (k8s-openapi schemas + facts extensions + paths),
//!                            built once per process on first use, shared by every logical cluster
//!  custom group-version   ─► custom::document (the CRDs' openAPIV3Schema), per logical cluster,
//!                            rebuilt when the cluster's CRDs of that group-version change
//! ```
//!
//! `serverRelativeURL`s are rooted at `/openapi/v3` as upstream's: clients (client-go since 1.28)
//! then keep their own path prefix, so a kubeconfig pointing at `https://HOST/clusters/t1` fetches
//! `https://HOST/clusters/t1/openapi/v3/apis/apps/v1?hash=…`.

mod builtin;
mod custom;
mod extensions;
mod paths;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use kubeplex_core::resource::BUILTIN;
use kubeplex_core::status::ApiError;
use serde_json::{Value, json};

use crate::http::Query;
use crate::registry::{Def, Registry};

/// One encoded document and the hash naming it (its ETag, without quotes).
#[derive(Clone, Debug)]
pub struct Doc {
    pub bytes: Bytes,
    pub hash: Arc<str>,
}

impl Doc {
    fn new(value: &Value) -> Doc {
        let bytes = Bytes::from(serde_json::to_vec(value).unwrap_or_default());
        let hash = hash(&bytes).into();
        Doc { bytes, hash }
    }
}

/// Upstream's hash: SHA-512 of the bytes, upper-case hex.
fn hash(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA512, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02X}")).collect()
}

/// A cluster's custom group-version document with the resources it was built from.
#[derive(Debug)]
struct CustomEntry {
    defs: Vec<Def>,
    doc: Doc,
}

/// The documents served, built on first use and kept as bytes.
#[derive(Debug, Default)]
pub struct OpenApi {
    /// Built-in group-version path (`apis/apps/v1`) ─► its document.
    builtin: Mutex<HashMap<String, Arc<OnceLock<Doc>>>>,
    /// (cluster, group-version path) ─► the document of the cluster's CRDs there.
    custom: Mutex<HashMap<(String, String), CustomEntry>>,
}

/// The index key of a group-version: `api/v1`, `apis/apps/v1`.
pub fn group_version_path(group: &str, version: &str) -> String {
    if group.is_empty() { format!("api/{version}") } else { format!("apis/{group}/{version}") }
}

/// The (group, version) an index key names.
fn parse_group_version(path: &str) -> Option<(&str, &str)> {
    match path.split('/').collect::<Vec<_>>().as_slice() {
        ["api", version] if !version.is_empty() => Some(("", version)),
        ["apis", group, version] if !group.is_empty() && !version.is_empty() => Some((group, version)),
        _ => None,
    }
}

impl OpenApi {
    pub fn new() -> OpenApi {
        OpenApi::default()
    }

    /// The built-in group-versions, in table order, without repeats.
    fn builtin_group_versions() -> Vec<(&'static str, &'static str)> {
        let mut out: Vec<(&'static str, &'static str)> = Vec::new();
        for def in BUILTIN {
            let gv = (static_str(&def.group), static_str(&def.version));
            if !out.contains(&gv) {
                out.push(gv);
            }
        }
        out
    }

    /// The document of built-in group-version `group`/`version`, built on first use.
    fn builtin_doc(&self, group: &str, version: &str) -> Option<Doc> {
        if !BUILTIN.iter().any(|d| d.group == group && d.version == version) {
            return None;
        }
        let cell = {
            let mut docs = self.builtin.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(docs.entry(group_version_path(group, version)).or_default())
        };
        // Built outside the map's lock: other group-versions are not held up.
        Some(cell.get_or_init(|| Doc::new(&builtin::document(group, version))).clone())
    }

    /// The document of `cluster`'s custom resources in `group`/`version`, if it serves any there.
    fn custom_doc(&self, registry: &Registry, cluster: &str, group: &str, version: &str) -> Option<Doc> {
        let defs: Vec<Def> = registry
            .custom(cluster)
            .into_values()
            .flatten()
            .filter(|d| d.group == group && d.version == version)
            .collect();
        let key = (cluster.to_owned(), group_version_path(group, version));
        let mut docs = self.custom.lock().unwrap_or_else(|e| e.into_inner());
        if defs.is_empty() {
            docs.remove(&key);
            return None;
        }
        if let Some(entry) = docs.get(&key)
            && entry.defs.len() == defs.len()
            && entry.defs.iter().zip(&defs).all(|(a, b)| Arc::ptr_eq(a, b))
        {
            return Some(entry.doc.clone());
        }
        let doc = Doc::new(&custom::document(group, version, &defs));
        docs.insert(key, CustomEntry { defs, doc: doc.clone() });
        Some(doc)
    }

    /// The document of `group`/`version` as `cluster` serves it.
    pub fn document(&self, registry: &Registry, cluster: &str, group: &str, version: &str) -> Option<Doc> {
        self.builtin_doc(group, version).or_else(|| self.custom_doc(registry, cluster, group, version))
    }

    /// The index `{"paths": {"<gv>": {"serverRelativeURL": "/openapi/v3/<gv>?hash=<H>"}}}` of `cluster`.
    pub fn index(&self, registry: &Registry, cluster: &str) -> Value {
        let mut paths = BTreeMap::new();
        for (group, version) in OpenApi::builtin_group_versions() {
            if let Some(doc) = self.builtin_doc(group, version) {
                paths.insert(group_version_path(group, version), doc.hash);
            }
        }
        let mut custom: Vec<(String, String)> = Vec::new();
        for def in registry.custom(cluster).into_values().flatten() {
            let gv = (def.group.to_string(), def.version.to_string());
            if !custom.contains(&gv) {
                custom.push(gv);
            }
        }
        for (group, version) in custom {
            let path = group_version_path(&group, &version);
            if paths.contains_key(&path) {
                continue;
            }
            if let Some(doc) = self.custom_doc(registry, cluster, &group, &version) {
                paths.insert(path, doc.hash);
            }
        }
        let paths: serde_json::Map<String, Value> = paths
            .into_iter()
            .map(|(path, hash)| {
                let url = format!("/openapi/v3/{path}?hash={hash}");
                (path, json!({"serverRelativeURL": url}))
            })
            .collect();
        json!({"paths": paths})
    }
}

/// The `&'static str` inside a name of the built-in table.
fn static_str(name: &kubeplex_core::resource::Name) -> &'static str {
    match name {
        std::borrow::Cow::Borrowed(s) => s,
        std::borrow::Cow::Owned(_) => "",
    }
}

/// Serves `GET /openapi/v3` (`document` `None`) or `GET /openapi/v3/<document>` for `cluster`,
/// whose requests come under path `prefix` (`/clusters/t1`, or empty for the root cluster).
pub fn serve(
    openapi: &OpenApi,
    registry: &Registry,
    cluster: &str,
    prefix: &str,
    document: Option<&str>,
    query: &Query,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let Some(path) = document else {
        let doc = Doc::new(&openapi.index(registry, cluster));
        return Ok(content(&doc, headers, None));
    };
    let (group, version) = parse_group_version(path).ok_or_else(ApiError::path_not_found)?;
    let doc = openapi.document(registry, cluster, group, version).ok_or_else(ApiError::path_not_found)?;
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !accepts_json(accept) {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NOT_ACCEPTABLE;
        return Ok(response);
    }
    match query.get("hash") {
        Some(hash) if !hash.is_empty() && hash != &*doc.hash => {
            // A stale hash: redirect to the current document, as upstream does.
            let location = format!("{prefix}/openapi/v3/{path}?hash={}", doc.hash);
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::MOVED_PERMANENTLY;
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            Ok(response)
        }
        Some(hash) if !hash.is_empty() => Ok(content(&doc, headers, Some(()))),
        _ => Ok(content(&doc, headers, None)),
    }
}

/// Whether an `Accept` header admits JSON (the only encoding served; an empty header admits anything).
fn accepts_json(accept: &str) -> bool {
    accept.trim().is_empty()
        || accept.split(',').any(|clause| {
            let media = clause.split(';').next().unwrap_or("").trim();
            matches!(media, "application/json" | "application/*" | "*/*")
        })
}

/// A 200 with the document, or 304 when `If-None-Match` names its ETag; `immutable` for hashed URLs.
fn content(doc: &Doc, headers: &HeaderMap, immutable: Option<()>) -> Response {
    let etag = format!("\"{}\"", doc.hash);
    let not_modified =
        headers.get_all(header::IF_NONE_MATCH).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
            |tag| {
                let tag = tag.trim();
                tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag
            },
        );
    let mut response = if not_modified {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else {
        let mut response = Response::new(Body::from(doc.bytes.clone()));
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    };
    let out = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, value);
    }
    out.insert(header::VARY, HeaderValue::from_static("Accept"));
    if immutable.is_some() {
        out.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, immutable"));
        if let Ok(value) = HeaderValue::from_str(&expires()) {
            out.insert(header::EXPIRES, value);
        }
    }
    response
}

/// One year from now as an HTTP date (upstream's `Expires` for hashed URLs).
fn expires() -> String {
    let now = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC);
    let later = now.checked_add(jiff::Span::new().years(1)).unwrap_or(now);
    later.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[cfg(test)]
mod tests;
