//! `POST pods/<name>/eviction` (policy/v1 `Eviction`): deletes a pod unless
//! that would break its PodDisruptionBudget, as
//! `pkg/registry/core/pod/storage/eviction.go` does; `kubectl drain` evicts
//! through it.
//!
//! ```text
//!  Eviction ─► pod terminal, Pending or deleting? ─► delete (graceful, deleteOptions honoured)
//!           └► PDBs selecting the pod:  none ─► delete
//!                                       >1   ─► Status Failure, code 500
//!                                       one  ─► not observed yet / 0 allowed ─► 429 + DisruptionBudget cause
//!                                                else status: allowed-1, disruptedPods[pod] ─► delete
//! ```
//!
//! Answers are a `Status` with code 201, as upstream's create handler writes
//! the `Status` the eviction returns.

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use kubeplex_core::selector::LabelSelector;
use kubeplex_core::status::{ApiError, StatusCause};
use kubeplex_store::{KeyValue, RangeRequest};
use serde_json::{Value, json};

use crate::api::ApiServer;
use crate::crud::{self, Target, store_error};
use crate::http::{Query, decode_object, json as json_response, read_body};
use crate::objects;

/// PDBs whose `disruptedPods` grew past this refuse evictions (the PDB
/// controller has fallen behind).
const MAX_DISRUPTED_POD_SIZE: usize = 2000;
/// Tries of a step that lost a race (upstream retries conflicts 20 times).
const TRIES: usize = 20;
/// The message of every 429 an eviction answers.
const VIOLATES_BUDGET: &str = "Cannot evict pod as it would violate the pod's disruption budget.";

/// `POST pods/<name>/eviction`.
pub async fn evict(
    api: &Arc<ApiServer>,
    t: &Target,
    query: &Query,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(body).await?;
    let eviction = decode_object(headers, &bytes, "policy/v1", "Eviction")?;
    if eviction["metadata"]["name"].as_str().unwrap_or("") != t.name() {
        return Err(ApiError::bad_request("name in URL does not match name in Eviction object"));
    }
    let options = delete_options(&eviction, query)?;
    let dry_run = options["dryRun"].as_array().is_some_and(|d| d.iter().any(|v| v == "All"));
    let has_rv_precondition = options["preconditions"]["resourceVersion"].is_string();
    let pod_target = Target { subresource: None, table: None, ..t.clone() };
    let pod_key = objects::key(&t.def, &t.cluster, t.namespace.as_deref(), t.name());

    // Terminal, Pending and terminating pods go without looking at budgets.
    let mut pod = Value::Null;
    for attempt in 0..TRIES {
        let kv = stored(api, &pod_key, "pods", "", t.name()).await?;
        pod = objects::decode(&kv)?;
        if !can_ignore_budget(&pod) {
            break;
        }
        let mut options = options.clone();
        if enforce_resource_version(&pod) && !has_rv_precondition {
            options["preconditions"]["resourceVersion"] = json!(kv.mod_revision.to_string());
        }
        match delete_pod(api, &pod_target, &options).await {
            Err(e) if e.code == 409 && !has_rv_precondition && attempt + 1 < TRIES => continue,
            Err(e) => return Err(e),
            Ok(()) => return Ok(success()),
        }
    }

    let budgets = matching_budgets(api, t, &pod).await?;
    let budget = match budgets.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        _ => {
            return Ok(json_response(
                StatusCode::CREATED,
                &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                        "message": "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
                        "code": 500}),
            ));
        }
    };
    let mut options = options;
    let mut unready_delete = false;
    if let Some(budget) = budget {
        let name = budget["metadata"]["name"].as_str().unwrap_or("").to_owned();
        let current = budget["status"]["currentHealthy"].as_i64().unwrap_or(0);
        let desired = budget["status"]["desiredHealthy"].as_i64().unwrap_or(0);
        if !pod_ready(&pod) && current >= desired && desired > 0 {
            // An unready pod does not count as healthy: no decrement, but the
            // pod must not have become ready meanwhile.
            unready_delete = true;
            if !has_rv_precondition {
                options["preconditions"]["resourceVersion"] = pod["metadata"]["resourceVersion"].clone();
            }
        } else {
            decrement(api, t, &name, dry_run).await?;
        }
        let result = delete_pod(api, &pod_target, &options).await;
        return match result {
            Err(e) if e.code == 409 && unready_delete && !has_rv_precondition => Err(still_processing(&name)),
            Err(e) => Err(e),
            Ok(()) => Ok(success()),
        };
    }
    delete_pod(api, &pod_target, &options).await?;
    Ok(success())
}

/// The `Status` an eviction answers on success.
fn success() -> Response {
    json_response(
        StatusCode::CREATED,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
    )
}

/// The Eviction's `deleteOptions` with the request's `dryRun` folded in
/// (`propagateDryRun`): conflicting values are a 400.
fn delete_options(eviction: &Value, query: &Query) -> Result<Value, ApiError> {
    let query_dry_run: Vec<Value> = match query.get("dryRun") {
        None | Some("") => Vec::new(),
        Some(v) => vec![json!(v)],
    };
    let mut options = match eviction.get("deleteOptions") {
        Some(o) if o.is_object() => o.clone(),
        _ => json!({}),
    };
    let body_dry_run: Vec<Value> = options["dryRun"].as_array().cloned().unwrap_or_default();
    if body_dry_run.is_empty() {
        if !query_dry_run.is_empty() {
            options["dryRun"] = Value::Array(query_dry_run);
        }
    } else if !query_dry_run.is_empty() && query_dry_run != body_dry_run {
        let list = |v: &[Value]| v.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" ");
        return Err(ApiError::bad_request(format!(
            "Non-matching dry-run options in request and content: [{}] and [{}]",
            list(&query_dry_run),
            list(&body_dry_run)
        )));
    }
    if let Some(o) = options.as_object_mut() {
        o.insert("kind".into(), json!("DeleteOptions"));
        o.insert("apiVersion".into(), json!("meta.k8s.io/v1"));
    }
    Ok(options)
}

/// `canIgnorePDB`: terminal, Pending or already terminating pods.
fn can_ignore_budget(pod: &Value) -> bool {
    matches!(pod["status"]["phase"].as_str(), Some("Succeeded" | "Failed" | "Pending"))
        || pod["metadata"]["deletionTimestamp"].is_string()
}

/// `shouldEnforceResourceVersion`: not for terminal or terminating pods.
fn enforce_resource_version(pod: &Value) -> bool {
    !matches!(pod["status"]["phase"].as_str(), Some("Succeeded" | "Failed"))
        && !pod["metadata"]["deletionTimestamp"].is_string()
}

/// `IsPodReady`: the `Ready` condition is `True`.
fn pod_ready(pod: &Value) -> bool {
    pod["status"]["conditions"]
        .as_array()
        .is_some_and(|c| c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
}

/// Deletes the pod through the ordinary delete path with `options`.
async fn delete_pod(api: &Arc<ApiServer>, pod: &Target, options: &Value) -> Result<(), ApiError> {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let body = Body::from(serde_json::to_vec(options).unwrap_or_default());
    crud::delete(api, pod, &Query::default(), &headers, body).await.map(|_| ())
}

/// The PodDisruptionBudgets of the pod's namespace whose (valid, non-empty)
/// selector selects it.
async fn matching_budgets(api: &Arc<ApiServer>, t: &Target, pod: &Value) -> Result<Vec<Value>, ApiError> {
    let pdbs = api.builtin("policy", "v1", "poddisruptionbudgets");
    let prefix = objects::prefix(&pdbs, &t.cluster, t.namespace.as_deref());
    let page = api.store.range(RangeRequest::prefix(prefix)).await.map_err(store_error)?;
    let labels = pod["metadata"]["labels"].clone();
    let mut out = Vec::new();
    for kv in &page.kvs {
        let budget = objects::decode(kv)?;
        let Ok(selector) = LabelSelector::from_api_json(budget["spec"].get("selector")) else { continue };
        if selector.is_empty() || selector.is_nothing() || !selector.matches(&labels) {
            continue;
        }
        out.push(budget);
    }
    Ok(out)
}

/// A 429 of an eviction with a `DisruptionBudget` cause.
fn too_many_requests(retry_after: u32, cause: String) -> ApiError {
    let mut err = ApiError::too_many_requests(retry_after);
    err.message = VIOLATES_BUDGET.to_owned();
    if let Some(details) = err.details.as_mut() {
        details.retry_after_seconds = Some(retry_after).filter(|s| *s > 0);
        details.causes.push(StatusCause { reason: "DisruptionBudget".into(), message: cause, field: String::new() });
    }
    err
}

/// `createTooManyRequestsError`: the budget has not caught up yet.
fn still_processing(name: &str) -> ApiError {
    too_many_requests(10, format!("The disruption budget {name} is still being processed by the server."))
}

/// The stored object at `key`; a `404` names it as `plural` of `group`.
async fn stored(api: &ApiServer, key: &str, plural: &str, group: &str, name: &str) -> Result<KeyValue, ApiError> {
    api.store.get(key, None).await.map_err(store_error)?.ok_or_else(|| ApiError::not_found(plural, group, name))
}

/// `checkAndDecrement`, retried on conflicts with a fresh budget: one
/// disruption fewer allowed, the pod recorded in `disruptedPods`.
async fn decrement(api: &Arc<ApiServer>, t: &Target, name: &str, dry_run: bool) -> Result<(), ApiError> {
    let pdbs = api.builtin("policy", "v1", "poddisruptionbudgets");
    let target = Target {
        table: None,
        cluster: t.cluster.clone(),
        def: pdbs.clone(),
        namespace: t.namespace.clone(),
        name: Some(name.to_owned()),
        subresource: Some("status".to_owned()),
    };
    let key = objects::key(&pdbs, &t.cluster, t.namespace.as_deref(), name);
    let pod_name = t.name().to_owned();
    for _ in 0..TRIES {
        let kv = stored(api, &key, "poddisruptionbudgets", "policy", name).await?;
        let budget = objects::decode(&kv)?;
        let mut status = checked_status(&budget, name)?;
        if dry_run {
            return Ok(());
        }
        status["disruptedPods"][&pod_name] = json!(objects::now());
        let change = |old: &Value| {
            let mut new = old.clone();
            new["status"] = status.clone();
            Ok(new)
        };
        match crud::write_object(api, &target, Some(kv.mod_revision), false, change).await {
            Ok(_) => return Ok(()),
            Err(e) if e.code == 409 => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::timeout(format!("couldn't update PodDisruptionBudget {name:?} due to conflicts")))
}

/// The status of `budget` after one more disruption, or why it allows none.
fn checked_status(budget: &Value, name: &str) -> Result<Value, ApiError> {
    let status = &budget["status"];
    let observed = status["observedGeneration"].as_i64().unwrap_or(0);
    if observed < budget["metadata"]["generation"].as_i64().unwrap_or(0) {
        return Err(still_processing(name));
    }
    let allowed = status["disruptionsAllowed"].as_i64().unwrap_or(0);
    if allowed < 0 {
        return Err(ApiError::forbidden("poddisruptionbudget", "policy", name, "pdb disruptions allowed is negative"));
    }
    if status["disruptedPods"].as_object().is_some_and(|m| m.len() > MAX_DISRUPTED_POD_SIZE) {
        return Err(ApiError::forbidden(
            "poddisruptionbudget",
            "policy",
            name,
            "DisruptedPods map too big - too many evictions not confirmed by PDB controller",
        ));
    }
    if allowed == 0 {
        let desired = status["desiredHealthy"].as_i64().unwrap_or(0);
        let current = status["currentHealthy"].as_i64().unwrap_or(0);
        return Err(too_many_requests(
            0,
            format!("The disruption budget {name} needs {desired} healthy pods and has {current} currently"),
        ));
    }
    let mut status = status.clone();
    status["disruptionsAllowed"] = json!(allowed - 1);
    if allowed - 1 == 0 {
        set_condition(&mut status, observed);
    }
    if !status["disruptedPods"].is_object() {
        status["disruptedPods"] = json!({});
    }
    Ok(status)
}

/// `UpdateDisruptionAllowedCondition` with no disruption left:
/// `DisruptionAllowed=False` (`InsufficientPods`), its transition time
/// kept unless the status changes.
fn set_condition(status: &mut Value, observed: i64) {
    if !status["conditions"].is_array() {
        status["conditions"] = json!([]);
    }
    let Some(conditions) = status["conditions"].as_array_mut() else { return };
    let condition = match conditions.iter_mut().find(|c| c["type"] == "DisruptionAllowed") {
        Some(c) => c,
        None => {
            conditions.push(json!({"type": "DisruptionAllowed", "status": "", "lastTransitionTime": objects::now()}));
            let Some(last) = conditions.last_mut() else { return };
            last
        }
    };
    if condition["status"] != "False" {
        condition["status"] = json!("False");
        condition["lastTransitionTime"] = json!(objects::now());
    }
    condition["reason"] = json!("InsufficientPods");
    condition["message"] = json!("");
    condition["observedGeneration"] = json!(observed);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(generation: i64, observed: Option<i64>, allowed: i64) -> Value {
        let mut status =
            json!({"disruptionsAllowed": allowed, "currentHealthy": 2, "desiredHealthy": 2, "expectedPods": 2});
        if let Some(o) = observed {
            status["observedGeneration"] = json!(o);
        }
        json!({"metadata": {"name": "web", "generation": generation}, "status": status})
    }

    #[test]
    fn budgets_not_observed_or_exhausted_refuse() {
        let err = checked_status(&budget(1, None, 1), "web").unwrap_err();
        assert_eq!((err.code, err.reason, err.message.as_str()), (429, "TooManyRequests", VIOLATES_BUDGET));
        assert_eq!(err.retry_after_seconds(), Some(10));
        assert_eq!(err.causes()[0].reason, "DisruptionBudget");
        assert_eq!(err.causes()[0].message, "The disruption budget web is still being processed by the server.");
        let err = checked_status(&budget(1, Some(1), 0), "web").unwrap_err();
        assert_eq!(err.code, 429);
        assert_eq!(err.retry_after_seconds(), None);
        assert_eq!(err.causes()[0].message, "The disruption budget web needs 2 healthy pods and has 2 currently");
        let err = checked_status(&budget(1, Some(1), -1), "web").unwrap_err();
        assert_eq!(err.message, "poddisruptionbudget.policy \"web\" is forbidden: pdb disruptions allowed is negative");
    }

    #[test]
    fn budgets_with_room_are_decremented() {
        let status = checked_status(&budget(2, Some(2), 1), "web").unwrap();
        assert_eq!(status["disruptionsAllowed"], 0);
        assert_eq!(status["conditions"][0]["type"], "DisruptionAllowed");
        assert_eq!(status["conditions"][0]["status"], "False");
        assert_eq!(status["conditions"][0]["reason"], "InsufficientPods");
        assert_eq!(status["conditions"][0]["observedGeneration"], 2);
        let status = checked_status(&budget(2, Some(2), 3), "web").unwrap();
        assert_eq!(status["disruptionsAllowed"], 2);
        assert!(status.get("conditions").is_none());
    }

    #[test]
    fn dry_run_is_propagated() {
        let eviction = json!({"metadata": {"name": "p"}});
        let options = delete_options(&eviction, &Query::parse(Some("dryRun=All"))).unwrap();
        assert_eq!(options["dryRun"], json!(["All"]));
        let eviction =
            json!({"metadata": {"name": "p"}, "deleteOptions": {"gracePeriodSeconds": 0, "dryRun": ["All"]}});
        let options = delete_options(&eviction, &Query::parse(None)).unwrap();
        assert_eq!(options["gracePeriodSeconds"], 0);
        assert_eq!(options["kind"], "DeleteOptions");
        let eviction = json!({"metadata": {"name": "p"}, "deleteOptions": {"dryRun": ["Other"]}});
        let err = delete_options(&eviction, &Query::parse(Some("dryRun=All"))).unwrap_err();
        assert_eq!(err.message, "Non-matching dry-run options in request and content: [All] and [Other]");
    }

    #[test]
    fn pod_states() {
        assert!(can_ignore_budget(&json!({"status": {"phase": "Pending"}})));
        assert!(can_ignore_budget(
            &json!({"status": {"phase": "Running"}, "metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}})
        ));
        assert!(!can_ignore_budget(&json!({"status": {"phase": "Running"}})));
        assert!(enforce_resource_version(&json!({"status": {"phase": "Pending"}})));
        assert!(!enforce_resource_version(&json!({"status": {"phase": "Failed"}})));
        assert!(pod_ready(&json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}})));
        assert!(!pod_ready(&json!({"status": {}})));
    }
}
