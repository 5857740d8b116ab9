//! The API handler: routes every request by its parsed path to discovery or
//! to the resource handlers, for any logical cluster.
//!
//! ```text
//!  request ─► path::parse ─► cluster known? ─► /version, /healthz…
//!                                           ├► discovery (aggregated | legacy)
//!                                           └► resources: crud / watch
//! ```

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode, header};
use kubeplex_core::status::ApiError;
use kubeplex_store::Store;
use serde_json::json;

use crate::discovery;
use crate::http::{Query, Reply, json, json_bytes};
use crate::path::{self, ROOT_CLUSTER, ResourcePath, Target};
use crate::registry::{Def, Registry};
use crate::transport::ClientIdentity;
use crate::watchcache::WatchCaches;
use crate::{crud, objects, patch, table, watch};

/// Everything the handlers share: one instance serves every logical cluster.
#[derive(Debug)]
pub struct ApiServer {
    pub store: Arc<dyn Store>,
    /// One watch cache per storage resource, shared by every cluster.
    pub caches: WatchCaches,
    /// What `/api` reports as the server address.
    pub server_address: String,
    /// The resources served, built-in and per-cluster custom ones.
    pub registry: Registry,
    /// OpenAPI v3 documents, built on first use.
    pub openapi: crate::openapi::OpenApi,
    /// The PEM of the CA that signs the serving certificate (set once the
    /// PKI is loaded; published in every namespace as `kube-root-ca.crt`).
    pub ca_cert_pem: std::sync::OnceLock<String>,
}

/// The namespaces every logical cluster starts with.
pub const INITIAL_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

impl ApiServer {
    pub fn new(store: Arc<dyn Store>, server_address: String) -> Self {
        ApiServer {
            caches: WatchCaches::new(Arc::clone(&store)),
            store,
            server_address,
            registry: Registry::new(),
            openapi: crate::openapi::OpenApi::new(),
            ca_cert_pem: std::sync::OnceLock::new(),
        }
    }

    /// A built-in resource (the name must be one of the built-in table).
    pub fn builtin(&self, group: &str, version: &str, plural: &str) -> Def {
        self.registry.builtin(group, version, plural).unwrap_or_else(|| panic!("{plural} is not built in"))
    }

    /// The `LogicalCluster` resource, stored in `root`.
    pub fn logical_clusters(&self) -> Def {
        self.builtin("kubeplex.io", "v1alpha1", "logicalclusters")
    }

    /// Whether `cluster` exists, and whether it is being deleted.
    async fn cluster_state(&self, cluster: &str) -> Result<Option<bool>, ApiError> {
        if cluster == ROOT_CLUSTER {
            return Ok(Some(false));
        }
        let def = self.logical_clusters();
        let key = objects::key(&def, ROOT_CLUSTER, None, cluster);
        crud::deletion_pending(self, &def, &key).await
    }
}

/// The axum router serving the whole API.
pub fn router(api: Arc<ApiServer>) -> Router {
    Router::new().fallback(handle).with_state(api)
}

async fn handle(State(api): State<Arc<ApiServer>>, request: Request) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let uri = request.uri().clone();
    let response = Reply(serve(&api, request).await).into_response();
    tracing::debug!(%method, %uri, status = response.status().as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "request");
    response
}

async fn serve(api: &Arc<ApiServer>, request: Request) -> Result<Response, ApiError> {
    let path = request.uri().path().to_owned();
    let parsed = path::parse(&path);
    match api.cluster_state(parsed.cluster).await? {
        None => return Err(ApiError::not_found("logicalclusters", "kubeplex.io", parsed.cluster)),
        Some(true) if request.method() == Method::POST => {
            return Err(ApiError::forbidden(
                "logicalclusters",
                "kubeplex.io",
                parsed.cluster,
                "unable to create new content in a logical cluster that is being deleted",
            ));
        }
        Some(_) => {}
    }
    let accept = request.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let get_only = |response: Response| {
        if request.method() == Method::GET {
            Ok(response)
        } else {
            Err(ApiError::method_not_supported("", "", request.method().as_str()))
        }
    };
    match parsed.target {
        Target::Version => get_only(json(StatusCode::OK, &version())),
        Target::Health(_) => get_only(plain_ok()),
        Target::CoreRoot | Target::GroupsRoot => {
            let core = parsed.target == Target::CoreRoot;
            let resources = api.registry.all(parsed.cluster);
            if discovery::wants_aggregated(&accept) {
                let doc = discovery::aggregated(&resources, core);
                let bytes = serde_json::to_vec(&doc).unwrap_or_default().into();
                get_only(json_bytes(StatusCode::OK, bytes, discovery::AGGREGATED_CONTENT_TYPE))
            } else if core {
                get_only(json(StatusCode::OK, &discovery::core_versions(&api.server_address)))
            } else {
                get_only(json(StatusCode::OK, &discovery::group_list(&resources)))
            }
        }
        Target::Group(group) => {
            let resources = api.registry.all(parsed.cluster);
            let doc = discovery::group(&resources, group).ok_or_else(ApiError::path_not_found)?;
            get_only(json(StatusCode::OK, &doc))
        }
        Target::GroupVersion { group, version } => {
            let resources = api.registry.all(parsed.cluster);
            let doc = discovery::resource_list(&resources, group, version).ok_or_else(ApiError::path_not_found)?;
            get_only(json(StatusCode::OK, &doc))
        }
        Target::Resource(rp) => {
            let def = api
                .registry
                .find(parsed.cluster, rp.group, rp.version, rp.resource)
                .ok_or_else(ApiError::path_not_found)?;
            let cluster = parsed.cluster.to_owned();
            resource_request(api, &cluster, def, &rp, request).await
        }
        Target::OpenApiV3(document) => {
            let prefix =
                if path.starts_with("/clusters/") { format!("/clusters/{}", parsed.cluster) } else { String::new() };
            let query = Query::parse(request.uri().query());
            let (registry, cluster, headers) = (&api.registry, parsed.cluster, request.headers());
            let served = crate::openapi::serve(&api.openapi, registry, cluster, &prefix, document, &query, headers);
            get_only(served?)
        }
        Target::Unknown => Err(ApiError::path_not_found()),
    }
}

async fn resource_request(
    api: &Arc<ApiServer>,
    cluster: &str,
    def: Def,
    rp: &ResourcePath<'_>,
    request: Request,
) -> Result<Response, ApiError> {
    // Namespaced resources are addressed in a namespace, except collections
    // read across all of them; cluster-scoped ones never are.
    let scope_ok = match (def.namespaced, rp.namespace, rp.name) {
        (true, Some(_), _) | (false, None, _) => true,
        (true, None, None) => request.method() == Method::GET,
        _ => false,
    };
    if !scope_ok {
        return Err(ApiError::path_not_found());
    }
    if let (Some(name), Some(sub)) = (rp.name, rp.subresource)
        && def.group.is_empty()
        && def.plural == "pods"
        && crate::podstreams::SUBRESOURCES.contains(&sub)
    {
        let target = crud::Target {
            table: None,
            cluster: cluster.to_owned(),
            def,
            namespace: rp.namespace.map(str::to_owned),
            name: Some(name.to_owned()),
            subresource: Some(sub.to_owned()),
        };
        let query = Query::parse(request.uri().query());
        return crate::podstreams::serve(api, &target, request.method(), &query).await;
    }
    if let Some(sub) = rp.subresource
        && def.subresource(sub).is_none()
    {
        return Err(ApiError::path_not_found());
    }
    let query = Query::parse(request.uri().query());
    let accept = request.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let table = match table::table_version(accept) {
        Some(version) => Some(table::TableOptions {
            include_object: table::IncludeObject::from_query(query.get("includeObject"))?,
            version,
            headers: true,
        }),
        None => None,
    };
    let target = crud::Target {
        table,
        cluster: cluster.to_owned(),
        def,
        namespace: rp.namespace.map(str::to_owned),
        name: rp.name.map(str::to_owned),
        subresource: rp.subresource.map(str::to_owned),
    };
    let method = request.method().clone();
    if method == Method::POST
        && target.subresource.is_none()
        && target.def.custom.as_ref().is_some_and(|c| c.terminating)
    {
        let mut e = ApiError::method_not_supported(&target.def.plural, &target.def.group, "create");
        e.message = "create not allowed while custom resource definition is terminating".into();
        return Err(e);
    }
    let (parts, body) = request.into_parts();
    match (method, &target.name) {
        (Method::GET, None) if query.flag("watch") => watch::serve(api, &target, &query).await,
        (Method::GET, None) => crud::list(api, &target, &query).await,
        (Method::GET, Some(_)) => crud::get(api, &target).await,
        (Method::POST, None) => {
            let requester = parts.extensions.get::<ClientIdentity>();
            crud::create(api, &target, &query, &parts.headers, requester, body).await
        }
        (Method::POST, Some(_)) if target.subresource.as_deref() == Some("binding") => {
            crud::bind(api, &target, &query, &parts.headers, body).await
        }
        (Method::POST, Some(_)) if target.subresource.as_deref() == Some("eviction") => {
            crate::eviction::evict(api, &target, &query, &parts.headers, body).await
        }
        (Method::PUT, Some(_)) => crud::update(api, &target, &query, &parts.headers, body).await,
        (Method::PATCH, Some(_)) => patch::patch(api, &target, &query, &parts.headers, body).await,
        (Method::DELETE, Some(_)) => crud::delete(api, &target, &query, &parts.headers, body).await,
        (Method::DELETE, None) => crud::delete_collection(api, &target, &query).await,
        (method, _) => Err(ApiError::method_not_supported(&target.def.plural, &target.def.group, method.as_str())),
    }
}

fn plain_ok() -> Response {
    let mut response = Response::new(axum::body::Body::from("ok"));
    response.headers_mut().insert(header::CONTENT_TYPE, http::HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

/// `/version`: Kubernetes 1.36 (kubectl's dispatcher picks its client by it).
pub fn version() -> serde_json::Value {
    json!({
        "major": "1",
        "minor": "36",
        "emulationMajor": "1",
        "emulationMinor": "36",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "35",
        "gitVersion": "v1.36.0",
        "gitCommit": env!("CARGO_PKG_VERSION"),
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.25.0",
        "compiler": "gc",
        "platform": format!("{}/{}", std::env::consts::OS, if cfg!(target_arch = "x86_64") { "amd64" } else { std::env::consts::ARCH }),
    })
}
