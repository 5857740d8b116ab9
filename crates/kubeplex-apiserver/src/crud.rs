//! Create, read, update and delete of resources, with Kubernetes' object
//! semantics: server-owned metadata, optimistic concurrency, namespace
//! lifecycle admission, finalizers and `deletionTimestamp`, `dryRun`, the
//! status/scale/finalize subresources, paginated lists over one snapshot.

use std::sync::Arc;

use crate::registry::Def;
use axum::body::Body;
use axum::response::Response;
use base64::Engine;
use http::{HeaderMap, StatusCode};
use kubeplex_core::resource::ResourceDef;
use kubeplex_core::status::{ApiError, cause};
use kubeplex_store::{RangeRequest, Revision, StoreError};
use serde_json::{Value, json};

use crate::api::{ApiServer, INITIAL_NAMESPACES};
use crate::fieldvalidation;
use crate::http::{Query, decode_object, json as json_response, read_body, with_warnings};
use crate::objects::{self, meta, meta_mut, meta_str};
use crate::path::ROOT_CLUSTER;
use crate::select::Selection;
use crate::table;
use crate::transport::ClientIdentity;
use crate::watchcache::Scope;
use crate::{convert, managed, strategy};

/// Tries of a create whose generated name collided.
const GENERATE_NAME_TRIES: usize = 8;
/// Tries of an unconditional update that keeps losing races.
const UPDATE_TRIES: usize = 16;

/// The resource a request addresses, owned.
#[derive(Clone, Debug)]
pub struct Target {
    /// How to answer when the client asked for a `Table` (kubectl get).
    pub table: Option<table::TableOptions>,
    pub cluster: String,
    pub def: Def,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

impl Target {
    pub fn key(&self) -> String {
        objects::key(&self.def, &self.cluster, self.namespace.as_deref(), self.name())
    }

    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    pub fn not_found(&self) -> ApiError {
        ApiError::not_found(&self.def.plural, &self.def.group, self.name())
    }

    fn conflict(&self) -> ApiError {
        ApiError::conflict(&self.def.plural, &self.def.group, self.name(), ApiError::MODIFIED)
    }
}

/// A stored object in the version `def` serves.
pub fn served(def: &ResourceDef, mut object: Value) -> Value {
    convert::to_served(def, &mut object);
    object
}

/// Maps store failures that no caller handles specially.
pub fn store_error(err: StoreError) -> ApiError {
    match err {
        StoreError::Compacted { requested, compacted } => ApiError::resource_version_too_old(requested, compacted),
        StoreError::ValueTooLarge { size, limit, .. } => {
            let mut e = ApiError::too_large(limit);
            e.message = format!("object is {size} bytes encoded, larger than the storage limit of {limit} bytes");
            e
        }
        other => ApiError::internal(other.to_string()),
    }
}

/// `GET` one object (or its status/scale subresource).
pub async fn get(api: &Arc<ApiServer>, t: &Target) -> Result<Response, ApiError> {
    let kv = api.store.get(&t.key(), None).await.map_err(store_error)?.ok_or_else(|| t.not_found())?;
    let object = served(&t.def, objects::decode(&kv)?);
    let body = match (t.subresource.as_deref(), &t.table) {
        (Some("scale"), _) => scale_of(&t.def, &object),
        (None, Some(opts)) => table::single(&t.def, &object, opts, jiff::Timestamp::now()),
        _ => object,
    };
    Ok(json_response(StatusCode::OK, &body))
}

/// A continue token: the snapshot revision and the last key returned.
fn encode_continue(revision: Revision, last_key: &str) -> String {
    let token = json!({"v": "meta.k8s.io/v1", "rv": revision, "start": last_key});
    base64::engine::general_purpose::STANDARD.encode(token.to_string())
}

fn decode_continue(token: &str, prefix: &str) -> Result<(Revision, String), ApiError> {
    let bad = || ApiError::bad_request(format!("invalid continue token {token:?}"));
    let bytes = base64::engine::general_purpose::STANDARD.decode(token).map_err(|_| bad())?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let rv = value["rv"].as_i64().ok_or_else(bad)?;
    let start = value["start"].as_str().ok_or_else(bad)?;
    if !start.starts_with(prefix) {
        return Err(bad());
    }
    Ok((rv, start.to_owned()))
}

fn list_options_invalid(field: &str, detail: &str) -> ApiError {
    ApiError::invalid("ListOptions", "meta.k8s.io", "", vec![cause::forbidden(field, detail)])
}

/// The revision a list reads at, from `resourceVersion` and
/// `resourceVersionMatch` (k8s-api.md §4.1–4.2). `None` is the latest.
pub fn list_revision(query: &Query, current: Revision) -> Result<Option<Revision>, ApiError> {
    let rv = query.get("resourceVersion").filter(|v| !v.is_empty());
    let rv_match = query.get("resourceVersionMatch").filter(|v| !v.is_empty());
    if rv_match.is_some() && rv.is_none() {
        return Err(list_options_invalid(
            "resourceVersionMatch",
            "resourceVersionMatch is forbidden unless resourceVersion is provided",
        ));
    }
    if rv_match.is_some() && query.get("continue").is_some_and(|c| !c.is_empty()) {
        return Err(list_options_invalid(
            "resourceVersionMatch",
            "resourceVersionMatch is forbidden when continue is provided",
        ));
    }
    let parsed = match rv {
        None => return Ok(None),
        Some(v) => v
            .parse::<Revision>()
            .map_err(|_| ApiError::bad_request(format!("invalid resource version {v:?}: must be an integer")))?,
    };
    match rv_match {
        Some("Exact") if parsed == 0 => Err(list_options_invalid(
            "resourceVersionMatch",
            "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
        )),
        Some("Exact") => Ok(Some(parsed)),
        None | Some("NotOlderThan") => {
            if parsed > current {
                Err(ApiError::timeout(format!("Too large resource version: {parsed}, current: {current}")))
            } else {
                Ok(None)
            }
        }
        Some(other) => Err(ApiError::invalid(
            "ListOptions",
            "meta.k8s.io",
            "",
            vec![cause::not_supported("resourceVersionMatch", other, &["Exact", "NotOlderThan", ""])],
        )),
    }
}

/// `GET` a collection: one page of it, from one snapshot, holding up to
/// `limit` objects the selectors select.
pub async fn list(api: &Arc<ApiServer>, t: &Target, query: &Query) -> Result<Response, ApiError> {
    if query.flag("sendInitialEvents") {
        return Err(list_options_invalid("sendInitialEvents", "sendInitialEvents is forbidden for list"));
    }
    let selection = Selection::from_query(&t.def, query)?;
    let prefix = objects::prefix(&t.def, &t.cluster, t.namespace.as_deref());
    let current = api.store.current_revision().await.map_err(store_error)?;
    let limit = query.uint("limit")?.map(|l| l as usize).filter(|l| *l > 0);
    let continue_token = query.get("continue").filter(|c| !c.is_empty());
    let (mut revision, mut start_after) = match continue_token {
        Some(token) => {
            let (rv, start) = decode_continue(token, &prefix)?;
            (Some(rv), Some(start))
        }
        None => (list_revision(query, current)?, None),
    };
    let single_scope = t.namespace.is_some() || !t.def.namespaced;
    let mut items = Vec::new();
    let mut more: Option<(String, u64)> = None;
    let any_version = query.get("resourceVersion") == Some("0") && continue_token.is_none();
    match selection.exact_name().filter(|_| single_scope && continue_token.is_none()) {
        // resourceVersion=0 means "any data": the watch cache answers; later
        // pages come from the store at the snapshot's revision.
        _ if any_version => {
            let cache = api.caches.get(&t.def.storage).await?;
            let scope = Scope { cluster: t.cluster.clone(), namespace: t.namespace.clone() };
            let snapshot = cache.snapshot(&scope)?;
            revision = Some(snapshot.revision);
            for (i, cached) in snapshot.objects.iter().enumerate() {
                if limit.is_some_and(|l| items.len() >= l) {
                    let last = &snapshot.objects[i - 1].key;
                    more = Some((last.clone(), (snapshot.objects.len() - i) as u64));
                    break;
                }
                let object = served(&t.def, cached.value()?);
                if selection.matches(&object) {
                    items.push(object);
                }
            }
        }
        // `metadata.name=X` in one namespace is one key: no scan.
        Some(name) => {
            let key = objects::key(&t.def, &t.cluster, t.namespace.as_deref(), name);
            let at = revision.unwrap_or(current);
            if let Some(kv) = api.store.get(&key, Some(at)).await.map_err(store_error)? {
                let object = served(&t.def, objects::decode(&kv)?);
                if selection.matches(&object) {
                    items.push(object);
                }
            }
            revision = Some(at);
        }
        None => loop {
            let request = RangeRequest { prefix: prefix.clone(), revision, start_after: start_after.clone(), limit };
            let page = api.store.range(request).await.map_err(|e| match e {
                StoreError::Compacted { .. } if continue_token.is_some() => ApiError::continue_expired(),
                other => store_error(other),
            })?;
            revision = Some(page.revision);
            for kv in &page.kvs {
                let object = served(&t.def, objects::decode(kv)?);
                if selection.matches(&object) {
                    items.push(object);
                }
            }
            let Some(last) = page.kvs.last() else { break };
            if !page.more() {
                break;
            }
            if limit.is_some_and(|l| items.len() >= l) {
                more = Some((last.key.clone(), page.remaining));
                break;
            }
            // Selectors filtered some out: read on from the same snapshot.
            start_after = Some(last.key.clone());
        },
    }
    for item in &mut items {
        if let Some(obj) = item.as_object_mut() {
            obj.shift_remove("kind");
            obj.shift_remove("apiVersion");
        }
    }
    let revision = revision.unwrap_or(current);
    let mut metadata = json!({"resourceVersion": revision.to_string()});
    if let Some((last_key, remaining)) = more {
        metadata["continue"] = json!(encode_continue(revision, &last_key));
        // Upstream counts what remains only when nothing is filtered.
        if selection.is_everything() {
            metadata["remainingItemCount"] = json!(remaining);
        }
    }
    if let Some(opts) = &t.table {
        return Ok(json_response(
            StatusCode::OK,
            &table::render(&t.def, &items, opts, &metadata, jiff::Timestamp::now()),
        ));
    }
    let mut list = json!({
        "kind": format!("{}List", t.def.kind),
        "apiVersion": t.def.api_version(),
        "metadata": metadata,
    });
    // Moved in, not copied (json! would serialize every item again).
    list["items"] = Value::Array(items);
    Ok(json_response(StatusCode::OK, &list))
}

/// Namespace lifecycle admission: new objects need an existing namespace
/// that is not being deleted (k8s-api.md §3.5).
async fn admit_namespace(api: &Arc<ApiServer>, t: &Target, name: &str) -> Result<(), ApiError> {
    let Some(ns) = t.namespace.as_deref() else { return Ok(()) };
    let namespaces = api.builtin("", "v1", "namespaces");
    let key = objects::key(&namespaces, &t.cluster, None, ns);
    let Some(terminating) = deletion_pending(api, &namespaces, &key).await? else {
        return Err(ApiError::not_found("namespaces", "", ns));
    };
    if terminating {
        return Err(ApiError::forbidden(
            &t.def.plural,
            &t.def.group,
            name,
            &format!("unable to create new content in namespace {ns} because it is being terminated"),
        ));
    }
    Ok(())
}

/// Whether the object at `key` exists and, if so, whether its deletion is
/// pending (`metadata.deletionTimestamp`, the only field read). From the
/// watch cache of its storage resource, or from the store when the cache
/// does not (yet) hold it: the cache may trail a write just acknowledged,
/// never the other way round.
pub async fn deletion_pending(api: &ApiServer, def: &ResourceDef, key: &str) -> Result<Option<bool>, ApiError> {
    #[derive(serde::Deserialize)]
    struct Object {
        #[serde(default)]
        metadata: Metadata,
    }
    #[derive(Default, serde::Deserialize)]
    struct Metadata {
        #[serde(default, rename = "deletionTimestamp")]
        deletion_timestamp: Option<serde::de::IgnoredAny>,
    }
    let pending = |bytes: &[u8]| {
        serde_json::from_slice::<Object>(bytes)
            .map(|o| o.metadata.deletion_timestamp.is_some())
            .map_err(|e| ApiError::internal(format!("stored object is not valid JSON: {e}")))
    };
    let cache = api.caches.get(&def.storage).await?;
    if let Some(object) = cache.get(key) {
        return pending(&object.json).map(Some);
    }
    match api.store.get(key, None).await.map_err(store_error)? {
        Some(kv) => pending(&kv.value).map(Some),
        None => Ok(None),
    }
}

/// What kubeplex's own kinds get on create (the built-in kinds get their
/// upstream defaults from [`strategy`]).
fn default_new(def: &ResourceDef, object: &mut Value) {
    if def.kind == "LogicalCluster" && def.group == "kubeplex.io" {
        meta_mut(object).insert("finalizers".into(), crate::clusters::initial_finalizers());
        object["status"] = json!({"phase": "Ready"});
    }
}

pub fn dry_run(query: &Query) -> Result<bool, ApiError> {
    match query.get("dryRun") {
        None | Some("") => Ok(false),
        Some("All") => Ok(true),
        Some(other) => {
            Err(ApiError::bad_request(format!("unsupported dryRun value {other:?}: only \"All\" is supported")))
        }
    }
}

/// `POST` to a collection, by `requester` (the client certificate's user,
/// when there is one).
pub async fn create(
    api: &Arc<ApiServer>,
    t: &Target,
    query: &Query,
    headers: &HeaderMap,
    requester: Option<&ClientIdentity>,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(body).await?;
    let directive = fieldvalidation::Directive::from_query(query, "CreateOptions")?;
    let manager = managed::manager_name(query, user_agent(headers), "CreateOptions")?;
    let schema = fieldvalidation::schema_for(&t.def, None);
    let fieldvalidation::Decoded { mut object, problems } =
        fieldvalidation::decode_body(headers, &bytes, &t.def.api_version(), &t.def.kind, schema, directive)?;
    let warnings = fieldvalidation::settle(directive, problems, |m| fieldvalidation::body_error(&object, &t.def, m))?;
    objects::check_type_and_namespace(&mut object, &t.def, t.namespace.as_deref())?;
    let (status, created) = create_object(api, t, object, dry_run(query)?, requester, Some(&manager)).await?;
    Ok(with_warnings(json_response(status, &created), &warnings))
}

/// The User-Agent of a request ("" without one).
pub fn user_agent(headers: &HeaderMap) -> &str {
    headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Creates `object` (decoded and checked against the target): names it,
/// defaults and validates it, records `manager` as the owner of its fields
/// (`None`: its managed fields are already set, by an apply) and stores it.
/// Returns the served object.
pub async fn create_object(
    api: &Arc<ApiServer>,
    t: &Target,
    object: Value,
    dry_run: bool,
    requester: Option<&ClientIdentity>,
    manager: Option<&str>,
) -> Result<(StatusCode, Value), ApiError> {
    let generated = meta_str(&object, "name").is_none_or(str::is_empty);
    for _ in 0..GENERATE_NAME_TRIES {
        let mut candidate = object.clone();
        let name = objects::name_for_create(&mut candidate, &t.def)?;
        let target = Target { name: Some(name.clone()), ..t.clone() };
        admit_namespace(api, &target, &name).await?;
        objects::init_new(&mut candidate);
        strategy::prepare_for_create(&t.def, &mut candidate);
        if let Some(who) = requester {
            strategy::set_requester(&t.def, &mut candidate, &who.user, &who.authenticated_groups());
        }
        default_new(&t.def, &mut candidate);
        if t.def.group.is_empty() && t.def.kind == "Pod" {
            strategy::admit_pod_create(&mut candidate);
        }
        strategy::validate_create(&t.def, &candidate)?;
        if let Some(manager) = manager {
            managed::record(&t.def, None, None, &mut candidate, manager);
        }
        if dry_run {
            return Ok((StatusCode::CREATED, candidate));
        }
        let claimed = if is_service(&t.def) {
            Some(crate::serviceips::allocate(api, &t.cluster, &mut candidate).await?)
        } else {
            None
        };
        convert::to_stored(&t.def, &mut candidate);
        let created = match objects::encode(&candidate) {
            Ok(value) => api.store.create(&target.key(), value, None).await.map_err(CreateError::Store),
            Err(e) => Err(CreateError::Api(e)),
        };
        if created.is_err()
            && let Some(claimed) = &claimed
        {
            crate::serviceips::release(api, &t.cluster, claimed).await?;
        }
        let created = match created {
            Ok(revision) => Ok(revision),
            Err(CreateError::Store(e)) => Err(e),
            Err(CreateError::Api(e)) => return Err(e),
        };
        match created {
            Ok(revision) => {
                objects::set_resource_version(&mut candidate, revision);
                after_create(api, &target, &candidate).await?;
                return Ok((StatusCode::CREATED, served(&t.def, candidate)));
            }
            Err(StoreError::AlreadyExists { .. }) if generated => continue,
            Err(StoreError::AlreadyExists { .. }) => {
                return Err(ApiError::already_exists(&t.def.plural, &t.def.group, &name));
            }
            Err(e) => return Err(store_error(e)),
        }
    }
    Err(ApiError::already_exists(&t.def.plural, &t.def.group, meta_str(&object, "generateName").unwrap_or("")))
}

/// Why storing a new object failed.
enum CreateError {
    Api(ApiError),
    Store(StoreError),
}

/// True for the core `Service` kind (whose cluster IP and node ports are
/// allocated in the write path).
fn is_service(def: &ResourceDef) -> bool {
    def.group.is_empty() && def.kind == "Service"
}

/// Frees the cluster IP and node ports of a Service just removed from the store.
async fn release_service(api: &ApiServer, t: &Target, def: &ResourceDef, removed: &Value) -> Result<(), ApiError> {
    if !is_service(def) {
        return Ok(());
    }
    crate::serviceips::release(api, &t.cluster, &crate::serviceips::claimed_by(removed)).await
}

/// What creating an object starts: a new logical cluster gets its initial
/// namespaces.
async fn after_create(api: &Arc<ApiServer>, t: &Target, object: &Value) -> Result<(), ApiError> {
    if t.cluster == ROOT_CLUSTER
        && t.def.kind == "LogicalCluster"
        && t.def.group == "kubeplex.io"
        && let Some(name) = meta_str(object, "name")
    {
        bootstrap_cluster(api, name).await?;
    }
    Ok(())
}

/// Creates the initial namespaces of a logical cluster (idempotent).
pub async fn bootstrap_cluster(api: &ApiServer, cluster: &str) -> Result<(), ApiError> {
    let namespaces = api.builtin("", "v1", "namespaces");
    for ns in INITIAL_NAMESPACES {
        let mut object = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
        objects::init_new(&mut object);
        strategy::prepare_for_create(&namespaces, &mut object);
        match api.store.create(&objects::key(&namespaces, cluster, None, ns), objects::encode(&object)?, None).await {
            Ok(_) | Err(StoreError::AlreadyExists { .. }) => {}
            Err(e) => return Err(store_error(e)),
        }
    }
    crate::serviceips::bootstrap_kubernetes_service(api, cluster).await
}

/// `POST pods/<name>/binding`: assigns the pod to a node, as a scheduler
/// does (k8s-api.md §10.7).
pub async fn bind(
    api: &Arc<ApiServer>,
    t: &Target,
    query: &Query,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(body).await?;
    let binding = decode_object(headers, &bytes, "v1", "Binding")?;
    let node = binding["target"]["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| ApiError::invalid("Binding", "", t.name(), vec![cause::required("target.name", "")]))?;
    if binding["target"]["kind"].as_str().is_some_and(|k| !k.is_empty() && k != "Node") {
        return Err(ApiError::invalid(
            "Binding",
            "",
            t.name(),
            vec![cause::not_supported(
                "target.kind",
                binding["target"]["kind"].as_str().unwrap_or(""),
                &["Node", "<empty>"],
            )],
        ));
    }
    let binding_conflict = |why: String| ApiError::conflict("pods/binding", "", t.name(), &why);
    let annotations = binding["metadata"]["annotations"].as_object().cloned().unwrap_or_default();
    let dry_run = dry_run(query)?;
    let pod = Target { subresource: None, ..t.clone() };
    write_object(api, &pod, None, dry_run, |old| {
        if meta(old).contains_key("deletionTimestamp") {
            return Err(binding_conflict(format!("pod {} is being deleted, cannot be assigned to a host", t.name())));
        }
        if let Some(bound) = old["spec"]["nodeName"].as_str().filter(|n| !n.is_empty()) {
            return Err(binding_conflict(format!("pod {} is already assigned to node {bound:?}", t.name())));
        }
        let mut new = old.clone();
        new["spec"]["nodeName"] = json!(node);
        if !annotations.is_empty() {
            let meta = meta_mut(&mut new);
            let target = meta.entry("annotations").or_insert_with(|| json!({}));
            if let Some(target) = target.as_object_mut() {
                target.extend(annotations.clone());
            }
        }
        let conditions = new["status"]["conditions"].as_array().cloned().unwrap_or_default();
        let mut conditions: Vec<Value> = conditions.into_iter().filter(|c| c["type"] != "PodScheduled").collect();
        conditions.push(json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": objects::now()}));
        new["status"]["conditions"] = json!(conditions);
        Ok(new)
    })
    .await?;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
    ))
}

/// Where a resource keeps what its `Scale` shows: the paths of a CRD's
/// scale subresource, or `.spec.replicas` and `.status.replicas`.
fn scale_paths(def: &ResourceDef) -> (&str, &str, Option<&str>) {
    match def.custom.as_ref().and_then(|c| c.scale.as_ref()) {
        Some(s) => (&s.spec_replicas, &s.status_replicas, s.label_selector.as_deref()),
        None => (".spec.replicas", ".status.replicas", None),
    }
}

/// The `Scale` of a resource with a scale subresource.
pub fn scale_of(def: &ResourceDef, object: &Value) -> Value {
    if def.custom.is_some() {
        return custom_scale_of(def, object);
    }
    let m = meta(object);
    let selector = scale_selector(def, &object["spec"]["selector"]);
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": m.get("name"),
            "namespace": m.get("namespace"),
            "uid": m.get("uid"),
            "resourceVersion": m.get("resourceVersion"),
            "creationTimestamp": m.get("creationTimestamp"),
        },
        "spec": {"replicas": object["spec"]["replicas"].as_i64().unwrap_or(1)},
        "status": {"replicas": object["status"]["replicas"].as_i64().unwrap_or(0), "selector": selector},
    })
}

/// The `Scale` of a custom resource, read at its CRD's paths (absent
/// replicas read as 0, as upstream).
fn custom_scale_of(def: &ResourceDef, object: &Value) -> Value {
    let (spec, status, selector) = scale_paths(def);
    let m = meta(object);
    let replicas = |path: &str| crate::crds::value_at(object, path).and_then(Value::as_i64).unwrap_or(0);
    let selector = selector.and_then(|p| crate::crds::value_at(object, p)).and_then(Value::as_str).unwrap_or("");
    let mut status_json = json!({"replicas": replicas(status)});
    if !selector.is_empty() {
        status_json["selector"] = json!(selector);
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": m.get("name"),
            "namespace": m.get("namespace"),
            "uid": m.get("uid"),
            "resourceVersion": m.get("resourceVersion"),
            "creationTimestamp": m.get("creationTimestamp"),
        },
        "spec": {"replicas": replicas(spec)},
        "status": status_json,
    })
}

/// `status.selector` of a built-in kind's `Scale`: its `spec.selector` as a
/// selector string, a ReplicationController's plain label map included.
fn scale_selector(def: &ResourceDef, selector: &Value) -> String {
    if def.group.is_empty() && def.kind == "ReplicationController" {
        let pairs = selector.as_object().into_iter().flatten().filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)));
        return kubeplex_core::selector::LabelSelector::from_map(pairs).to_string();
    }
    let selector = Some(selector).filter(|s| !s.is_null());
    kubeplex_core::selector::LabelSelector::from_api_json(selector).map(|s| s.to_string()).unwrap_or_default()
}

/// Whether a `status` write takes the body's metadata (all but name,
/// namespace, labels and the server's fields) rather than only its status:
/// apps/v1 Deployments, as upstream's `deploymentStatusStrategy`.
fn status_keeps_metadata(def: &ResourceDef) -> bool {
    def.group == "apps" && def.kind == "Deployment"
}

/// Builds the replacement of `old` from the body of a `PUT` to the object
/// or one of its subresources.
pub fn replacement(t: &Target, old: &Value, body: &Value) -> Result<Value, ApiError> {
    let mut new = match t.subresource.as_deref() {
        None => {
            let mut new = body.clone();
            if t.def.subresource("status").is_some() {
                // The main resource cannot change the status.
                match old.get("status") {
                    Some(status) => new["status"] = status.clone(),
                    None => {
                        new.as_object_mut().map(|o| o.shift_remove("status"));
                    }
                }
            }
            new
        }
        Some("status" | "approval") => {
            let mut new = old.clone();
            new["status"] = body.get("status").cloned().unwrap_or(Value::Null);
            if status_keeps_metadata(&t.def)
                && let Some(metadata) = body.get("metadata").filter(|m| m.is_object())
            {
                // Upstream's Deployment status strategy keeps the body's
                // metadata but its labels (the controller writes the revision
                // annotation with the status, which bumps no generation).
                new["metadata"] = metadata.clone();
                let m = meta_mut(&mut new);
                for field in ["name", "namespace", "labels"] {
                    match meta(old).get(field) {
                        Some(v) => m.insert(field.into(), v.clone()),
                        None => m.shift_remove(field),
                    };
                }
                objects::carry_over(&mut new, old);
            }
            meta_mut(&mut new).insert("resourceVersion".into(), body["metadata"]["resourceVersion"].clone());
            new
        }
        Some("finalize") => {
            let mut new = old.clone();
            new["spec"]["finalizers"] = body["spec"]["finalizers"].clone();
            meta_mut(&mut new).insert("resourceVersion".into(), body["metadata"]["resourceVersion"].clone());
            new
        }
        Some("scale") => {
            let replicas = body["spec"]["replicas"].as_i64().ok_or_else(|| {
                ApiError::invalid("Scale", "autoscaling", t.name(), vec![cause::required("spec.replicas", "")])
            })?;
            if replicas < 0 {
                return Err(ApiError::invalid(
                    "Scale",
                    "autoscaling",
                    t.name(),
                    vec![cause::invalid("spec.replicas", &json!(replicas), "must be greater than or equal to 0")],
                ));
            }
            let mut new = old.clone();
            crate::crds::set_value_at(&mut new, scale_paths(&t.def).0, json!(replicas));
            meta_mut(&mut new).insert("resourceVersion".into(), body["metadata"]["resourceVersion"].clone());
            new
        }
        Some(other) => {
            return Err(ApiError::method_not_supported(&format!("{}/{other}", t.def.plural), &t.def.group, "update"));
        }
    };
    objects::carry_over(&mut new, old);
    if matches!(t.subresource.as_deref(), None | Some("scale")) {
        // Strategies work on the served version.
        let old = served(&t.def, old.clone());
        let mut served_new = served(&t.def, new);
        strategy::prepare_for_update(&t.def, &mut served_new, &old);
        strategy::validate_update(&t.def, &served_new, &old)?;
        convert::to_stored(&t.def, &mut served_new);
        new = served_new;
    }
    if let Some(sub @ ("status" | "approval")) = t.subresource.as_deref() {
        // What the subresource may not change goes back (a CSR's approval).
        let old = served(&t.def, old.clone());
        let mut served_new = served(&t.def, new);
        strategy::prepare_for_subresource_update(&t.def, sub, &mut served_new, &old);
        strategy::validate_subresource_update(&t.def, sub, &served_new, &old)?;
        convert::to_stored(&t.def, &mut served_new);
        new = served_new;
    }
    // Status writes never change the generation.
    if matches!(t.subresource.as_deref(), Some("status" | "approval"))
        && let Some(g) = meta(old).get("generation").cloned()
    {
        meta_mut(&mut new).insert("generation".into(), g);
    }
    Ok(new)
}

/// The precondition a body's `metadata.resourceVersion` sets, if any.
fn body_precondition(body: &Value) -> Result<Option<Revision>, ApiError> {
    match body["metadata"]["resourceVersion"].as_str().filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| ApiError::bad_request(format!("invalid resourceVersion {v:?}"))),
    }
}

/// `PUT` an object or subresource.
pub async fn update(
    api: &Arc<ApiServer>,
    t: &Target,
    query: &Query,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(body).await?;
    let directive = fieldvalidation::Directive::from_query(query, "UpdateOptions")?;
    let schema = fieldvalidation::schema_for(&t.def, t.subresource.as_deref());
    let fieldvalidation::Decoded { object: mut body, problems } =
        fieldvalidation::decode_body(headers, &bytes, &t.def.api_version(), &t.def.kind, schema, directive)?;
    let warnings = fieldvalidation::settle(directive, problems, |m| fieldvalidation::body_error(&body, &t.def, m))?;
    if t.subresource.is_none() {
        objects::check_type_and_namespace(&mut body, &t.def, t.namespace.as_deref())?;
        match meta_str(&body, "name") {
            Some(name) if name == t.name() => {}
            None | Some("") => {
                meta_mut(&mut body).insert("name".into(), json!(t.name()));
            }
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({other}) does not match the name on the URL ({})",
                    t.name()
                )));
            }
        }
    }
    let precondition = body_precondition(&body)?;
    let dry_run = dry_run(query)?;
    let manager = managed::manager_name(query, user_agent(headers), "UpdateOptions")?;
    convert::to_stored(&t.def, &mut body);
    let (object, status) = write_object(api, t, precondition, dry_run, |old| {
        let mut new = replacement(t, old, &body)?;
        managed::record(&t.def, t.subresource.as_deref(), Some(old), &mut new, &manager);
        Ok(new)
    })
    .await?;
    let reply =
        if t.subresource.as_deref() == Some("scale") { scale_of(&t.def, &object) } else { served(&t.def, object) };
    Ok(with_warnings(json_response(status, &reply), &warnings))
}

/// Read-modify-write of one object: `change` builds the new version from
/// the stored one. With a precondition the write happens only at that
/// revision; without, lost races are retried. An object whose deletion is
/// pending and whose finalizers are gone is deleted.
pub async fn write_object(
    api: &Arc<ApiServer>,
    t: &Target,
    precondition: Option<Revision>,
    dry_run: bool,
    change: impl Fn(&Value) -> Result<Value, ApiError>,
) -> Result<(Value, StatusCode), ApiError> {
    let key = t.key();
    for _ in 0..UPDATE_TRIES {
        let kv = api.store.get(&key, None).await.map_err(store_error)?.ok_or_else(|| t.not_found())?;
        if precondition.is_some_and(|p| p != kv.mod_revision) {
            return Err(t.conflict());
        }
        let old = objects::decode(&kv)?;
        let mut new = change(&old)?;
        if meta(&old).contains_key("deletionTimestamp") {
            check_no_new_finalizers(t, &old, &new)?;
        }
        let service_spec = is_service(&t.def) && t.subresource.is_none() && !dry_run && new != old;
        let added = if service_spec {
            crate::serviceips::allocate_update(api, &t.cluster, &old, &mut new).await?
        } else {
            crate::serviceips::Claimed::default()
        };
        if dry_run {
            objects::set_resource_version(&mut new, kv.mod_revision);
            return Ok((new, StatusCode::OK));
        }
        if meta(&new).contains_key("deletionTimestamp") && finalizers(&new).is_empty() {
            return match api.store.delete(&key, Some(kv.mod_revision)).await {
                Ok(_) => {
                    release_service(api, t, &t.def, &new).await?;
                    Ok((new, StatusCode::OK))
                }
                Err(StoreError::Conflict { .. }) if precondition.is_none() => continue,
                Err(StoreError::Conflict { .. }) => Err(t.conflict()),
                Err(StoreError::NotFound { .. }) => Err(t.not_found()),
                Err(e) => Err(store_error(e)),
            };
        }
        if new == old {
            // Nothing changed: no write, the same resourceVersion (upstream's
            // GuaranteedUpdate skips identical objects too).
            return Ok((new, StatusCode::OK));
        }
        let written = match objects::encode(&new) {
            Ok(value) => api.store.update(&key, value, kv.mod_revision, None).await.map_err(CreateError::Store),
            Err(e) => Err(CreateError::Api(e)),
        };
        if service_spec {
            // Free what the write no longer holds: on success what the old
            // object had and the new has not, on failure what was just taken.
            let freed = match &written {
                Ok(_) => crate::serviceips::claimed_by(&old).minus(&crate::serviceips::claimed_by(&new)),
                Err(_) => added,
            };
            crate::serviceips::release(api, &t.cluster, &freed).await?;
        }
        let written = match written {
            Ok(revision) => Ok(revision),
            Err(CreateError::Store(e)) => Err(e),
            Err(CreateError::Api(e)) => return Err(e),
        };
        match written {
            Ok(revision) => {
                objects::set_resource_version(&mut new, revision);
                return Ok((new, StatusCode::OK));
            }
            Err(StoreError::Conflict { .. }) if precondition.is_none() => continue,
            Err(StoreError::Conflict { .. }) => return Err(t.conflict()),
            Err(StoreError::NotFound { .. }) => return Err(t.not_found()),
            Err(e) => return Err(store_error(e)),
        }
    }
    Err(t.conflict())
}

/// `metadata.finalizers` (plus a namespace's `spec.finalizers`).
pub fn finalizers(object: &Value) -> Vec<String> {
    let mut out: Vec<String> = meta(object)
        .get("finalizers")
        .and_then(Value::as_array)
        .map(|f| f.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    if object["kind"] == "Namespace" && object["apiVersion"] == "v1" {
        out.extend(
            object["spec"]["finalizers"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned),
        );
    }
    out
}

fn check_no_new_finalizers(t: &Target, old: &Value, new: &Value) -> Result<(), ApiError> {
    let before = finalizers(old);
    let added: Vec<String> = finalizers(new).into_iter().filter(|f| !before.contains(f)).collect();
    if added.is_empty() {
        return Ok(());
    }
    Err(ApiError::invalid(
        &t.def.kind,
        &t.def.group,
        t.name(),
        vec![cause::forbidden(
            "metadata.finalizers",
            &format!("no new finalizers can be added if the object is being deleted, found new finalizers {added:?}"),
        )],
    ))
}

/// DeleteOptions from the body or the query.
#[derive(Debug, Default)]
struct DeleteOptions {
    propagation: Option<String>,
    grace_period: Option<i64>,
    precondition_uid: Option<String>,
    precondition_rv: Option<Revision>,
    dry_run: bool,
}

fn delete_options(query: &Query, headers: &HeaderMap, body: &[u8]) -> Result<DeleteOptions, ApiError> {
    let value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        decode_object(headers, body, "meta.k8s.io/v1", "DeleteOptions")?
    };
    let mut opts = DeleteOptions {
        propagation: value["propagationPolicy"].as_str().map(str::to_owned),
        grace_period: value["gracePeriodSeconds"].as_i64(),
        precondition_uid: value["preconditions"]["uid"].as_str().map(str::to_owned),
        precondition_rv: match value["preconditions"]["resourceVersion"].as_str() {
            Some(v) => Some(
                v.parse().map_err(|_| ApiError::bad_request(format!("invalid resourceVersion precondition {v:?}")))?,
            ),
            None => None,
        },
        dry_run: value["dryRun"].as_array().is_some_and(|d| d.iter().any(|v| v == "All")) || dry_run(query)?,
    };
    if let Some(p) = query.get("propagationPolicy") {
        opts.propagation = Some(p.to_owned());
    }
    if let Some(g) = query.get("gracePeriodSeconds") {
        opts.grace_period =
            Some(g.parse().map_err(|_| ApiError::bad_request(format!("invalid gracePeriodSeconds {g:?}")))?);
    }
    if value["orphanDependents"] == json!(true) || query.flag("orphanDependents") {
        opts.propagation.get_or_insert_with(|| "Orphan".into());
    }
    if let Some(p) = opts.propagation.as_deref()
        && !matches!(p, "Orphan" | "Foreground" | "Background")
    {
        return Err(ApiError::invalid(
            "DeleteOptions",
            "meta.k8s.io",
            "",
            vec![cause::not_supported("propagationPolicy", p, &["Foreground", "Background", "Orphan", "nil"])],
        ));
    }
    Ok(opts)
}

/// `DELETE` one object.
pub async fn delete(
    api: &Arc<ApiServer>,
    t: &Target,
    query: &Query,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(body).await?;
    let opts = delete_options(query, headers, &bytes)?;
    if t.cluster == ROOT_CLUSTER
        && t.def.group.is_empty()
        && t.def.kind == "Namespace"
        && INITIAL_NAMESPACES[..3].contains(&t.name())
    {
        return Err(ApiError::forbidden(&t.def.plural, &t.def.group, t.name(), "this namespace may not be deleted"));
    }
    let object = delete_one(api, t, &opts).await?;
    Ok(json_response(StatusCode::OK, &served(&t.def, object)))
}

async fn delete_one(api: &Arc<ApiServer>, t: &Target, opts: &DeleteOptions) -> Result<Value, ApiError> {
    let key = t.key();
    for _ in 0..UPDATE_TRIES {
        let kv = api.store.get(&key, None).await.map_err(store_error)?.ok_or_else(|| t.not_found())?;
        let mut object = objects::decode(&kv)?;
        if let Some(uid) = &opts.precondition_uid
            && meta_str(&object, "uid") != Some(uid.as_str())
        {
            return Err(ApiError::conflict(
                &t.def.plural,
                &t.def.group,
                t.name(),
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    meta_str(&object, "uid").unwrap_or("")
                ),
            ));
        }
        if let Some(rv) = opts.precondition_rv
            && rv != kv.mod_revision
        {
            return Err(ApiError::conflict(
                &t.def.plural,
                &t.def.group,
                t.name(),
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                    kv.mod_revision
                ),
            ));
        }
        // The garbage collector acts on Foreground and Orphan through
        // finalizers, as upstream records them.
        let gc_finalizer = match opts.propagation.as_deref() {
            Some("Foreground") => Some("foregroundDeletion"),
            Some("Orphan") => Some("orphan"),
            _ => None,
        };
        if !meta(&object).contains_key("deletionTimestamp") {
            strategy::prepare_for_delete(&t.def, &mut object);
        }
        let mut pending = finalizers(&object);
        if let Some(f) = gc_finalizer
            && !pending.iter().any(|p| p == f)
        {
            let list = meta_mut(&mut object).entry("finalizers").or_insert_with(|| json!([]));
            if let Some(list) = list.as_array_mut() {
                list.push(json!(f));
            }
            pending.push(f.to_owned());
        }
        let graceful = graceful_seconds(&t.def, &object, opts.grace_period);
        if pending.is_empty() && graceful == 0 {
            if opts.dry_run {
                return Ok(object);
            }
            return match api.store.delete(&key, Some(kv.mod_revision)).await {
                Ok((_, prev)) => {
                    let removed = objects::decode(&prev)?;
                    release_service(api, t, &t.def, &removed).await?;
                    Ok(removed)
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(StoreError::NotFound { .. }) => Err(t.not_found()),
                Err(e) => Err(store_error(e)),
            };
        }
        // Deletion is pending: finalizers or a grace period must run out.
        // The deletion time is the request's plus the grace period; a
        // pending deletion changes only for a shorter grace period, which
        // moves its time earlier by the difference (upstream's BeforeDelete).
        let pending_since = meta_str(&object, "deletionTimestamp").map(str::to_owned);
        let current_grace = meta(&object).get("deletionGracePeriodSeconds").and_then(Value::as_i64).unwrap_or(0);
        let m = meta_mut(&mut object);
        match pending_since {
            None => {
                m.insert("deletionTimestamp".into(), json!(objects::time_after(None, graceful)));
                m.insert("deletionGracePeriodSeconds".into(), json!(graceful));
            }
            Some(since) if opts.grace_period.is_some() && graceful < current_grace => {
                m.insert(
                    "deletionTimestamp".into(),
                    json!(objects::time_after(Some(&since), graceful - current_grace)),
                );
                m.insert("deletionGracePeriodSeconds".into(), json!(graceful));
            }
            Some(_) if gc_finalizer.is_some() => {}
            Some(_) => return Ok(object),
        }
        if object["kind"] == "Namespace" && object["apiVersion"] == "v1" {
            object["status"]["phase"] = json!("Terminating");
        }
        if opts.dry_run {
            return Ok(object);
        }
        match api.store.update(&key, objects::encode(&object)?, kv.mod_revision, None).await {
            Ok(revision) => {
                objects::set_resource_version(&mut object, revision);
                return Ok(object);
            }
            Err(StoreError::Conflict { .. }) => continue,
            Err(StoreError::NotFound { .. }) => return Err(t.not_found()),
            Err(e) => return Err(store_error(e)),
        }
    }
    Err(t.conflict())
}

/// Seconds a deletion waits: pods bound to a node get their grace period
/// (from the request or `spec.terminationGracePeriodSeconds`, default 30)
/// for the node to stop them; everything else goes at once.
fn graceful_seconds(def: &ResourceDef, object: &Value, requested: Option<i64>) -> i64 {
    if def.kind != "Pod" || !def.group.is_empty() {
        return 0;
    }
    if object["spec"]["nodeName"].as_str().is_none_or(str::is_empty) {
        return 0;
    }
    let phase = object["status"]["phase"].as_str().unwrap_or("");
    if matches!(phase, "Succeeded" | "Failed") {
        return 0;
    }
    requested.unwrap_or_else(|| object["spec"]["terminationGracePeriodSeconds"].as_i64().unwrap_or(30)).max(0)
}

/// `DELETE` a collection (`deletecollection`): every object of the
/// collection, one at a time.
pub async fn delete_collection(api: &Arc<ApiServer>, t: &Target, query: &Query) -> Result<Response, ApiError> {
    if !t.def.supports("deletecollection") {
        return Err(ApiError::method_not_supported(&t.def.plural, &t.def.group, "deletecollection"));
    }
    let opts = DeleteOptions {
        dry_run: dry_run(query)?,
        propagation: query.get("propagationPolicy").map(str::to_owned),
        ..Default::default()
    };
    let prefix = objects::prefix(&t.def, &t.cluster, t.namespace.as_deref());
    let page = api.store.range(RangeRequest::prefix(prefix)).await.map_err(store_error)?;
    let mut items = Vec::new();
    for kv in &page.kvs {
        let object = objects::decode(kv)?;
        let name = meta_str(&object, "name").unwrap_or_default().to_owned();
        let one =
            Target { name: Some(name), namespace: meta_str(&object, "namespace").map(str::to_owned), ..t.clone() };
        match delete_one(api, &one, &opts).await {
            Ok(deleted) => items.push(served(&t.def, deleted)),
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    let list = json!({
        "kind": format!("{}List", t.def.kind),
        "apiVersion": t.def.api_version(),
        "metadata": {"resourceVersion": page.revision.to_string()},
        "items": items,
    });
    Ok(json_response(StatusCode::OK, &list))
}
