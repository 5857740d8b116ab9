//! `PATCH`: JSON patch, merge patch and strategic merge patch applied to the
//! stored object (or its `scale`/`status` view), then written like an
//! update. Strategic merge takes its per-field metadata from the API facts
//! table; kinds it does not know (custom resources) get 415, as upstream.

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use http::HeaderMap;
use kubeplex_api_facts::{ApiFacts, SpecialType, TypeRef};
use kubeplex_core::status::ApiError;
use kubeplex_patch::{FieldMeta, FieldType, PatchError, PatchSchema};
use serde_json::Value;

use crate::api::ApiServer;
use crate::crud::{self, Target};
use crate::fieldvalidation;
use crate::http::{Query, content_type, json as json_response, read_body, with_warnings};
use crate::managed;
use crate::objects::meta_str;
use kubeplex_managedfields::Writer;

/// The media types a PATCH may carry.
const PATCH_TYPES: &str = "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json";

/// The media types a PATCH of a custom resource may carry.
const CUSTOM_PATCH_TYPES: &str =
    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml";

/// The patch formats served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PatchKind {
    Json,
    Merge,
    Strategic,
}

/// Patch metadata from the API facts table, by OpenAPI definition name.
struct FactsSchema(&'static ApiFacts);

impl PatchSchema for FactsSchema {
    fn lookup(&self, type_id: &str, field: &str) -> Option<FieldMeta> {
        let facts = self.0.type_by_name(type_id)?.field(field)?;
        let strategy = facts.patch_strategy.as_ref().map(|s| s.to_string()).unwrap_or_default();
        let merge_key = facts.patch_merge_key.as_deref().unwrap_or("");
        FieldMeta::with_tags(field_type(&facts.ty), &strategy, merge_key).ok()
    }
}

fn field_type(ty: &TypeRef) -> FieldType {
    match ty.resolved() {
        TypeRef::Named(name) => FieldType::structure(name.clone()),
        TypeRef::Special { kind: SpecialType::RawExtension | SpecialType::FieldsV1 | SpecialType::Json, name } => {
            FieldType::structure(name.clone())
        }
        TypeRef::List(item) => FieldType::list(field_type(item)),
        TypeRef::Pointer(inner) => field_type(inner),
        TypeRef::Map { .. } => FieldType::Map,
        _ => FieldType::Scalar,
    }
}

fn patch_error(err: PatchError) -> ApiError {
    let status = err.status();
    match status.code {
        415 => ApiError::unsupported_media_type_list(PATCH_TYPES),
        400 => ApiError::bad_request(status.message),
        413 => {
            let mut e = ApiError::too_large(0);
            e.message = status.message;
            e
        }
        422 => ApiError::unprocessable(status.message),
        code => ApiError::unknown(code, status.message),
    }
}

/// Applies `patch` of `kind` to `document` of type `type_name`.
fn apply(kind: PatchKind, type_name: Option<&str>, document: &Value, patch: &Value) -> Result<Value, ApiError> {
    match kind {
        PatchKind::Json => kubeplex_patch::apply_json_patch(document, patch).map_err(patch_error),
        PatchKind::Merge => kubeplex_patch::apply_merge_patch(document, patch).map_err(patch_error),
        PatchKind::Strategic => {
            let schema = FactsSchema(kubeplex_api_facts::facts());
            let mut out = kubeplex_patch::apply_strategic_merge_patch(document, patch, &schema, type_name)
                .map_err(patch_error)?;
            // Typed decoding upstream reads `null` members as absent.
            drop_nulls(&mut out);
            Ok(out)
        }
    }
}

/// Removes `null` members of objects, at any depth.
fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// `PATCH` an object or its `status`/`scale` subresource.
pub async fn patch(
    api: &Arc<ApiServer>,
    t: &Target,
    query: &Query,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let kind = match content_type(headers).as_str() {
        "application/json-patch+json" => PatchKind::Json,
        "application/merge-patch+json" => PatchKind::Merge,
        // Custom resources have no patch strategies.
        "application/strategic-merge-patch+json" if t.def.custom.is_some() => {
            return Err(ApiError::unsupported_media_type_list(CUSTOM_PATCH_TYPES));
        }
        "application/strategic-merge-patch+json" => PatchKind::Strategic,
        "application/apply-patch+yaml" => return apply_patch(api, t, query, body).await,
        _ => return Err(ApiError::unsupported_media_type_list(PATCH_TYPES)),
    };
    managed::refuse_force(query)?;
    let directive = fieldvalidation::Directive::from_query(query, "PatchOptions")?;
    let manager = managed::manager_name(query, crud::user_agent(headers), "PatchOptions")?;
    let bytes = read_body(body).await?;
    let patch: Value =
        serde_json::from_slice(&bytes).map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    let scale = t.subresource.as_deref() == Some("scale");
    let type_name = if scale {
        Some("io.k8s.api.autoscaling.v1.Scale".to_owned())
    } else {
        kubeplex_api_facts::facts()
            .kind(&t.def.group, &t.def.version, &t.def.kind)
            .filter(|_| t.def.custom.is_none())
            .map(|ty| ty.name.clone())
    };
    let dry_run = crud::dry_run(query)?;
    let schema = fieldvalidation::schema_for(&t.def, t.subresource.as_deref());
    let patch_problems = match directive.checks().then(|| fieldvalidation::parse_json(&bytes)) {
        Some(Ok(node)) if kind == PatchKind::Json => fieldvalidation::json_patch_problems(&node),
        Some(Ok(node)) => fieldvalidation::duplicate_problems(&node),
        _ => Vec::new(),
    };
    let warnings = std::sync::Mutex::new(Vec::new());
    let (object, status) = crud::write_object(api, t, None, dry_run, |old| {
        let base = if scale { crud::scale_of(&t.def, old) } else { crud::served(&t.def, old.clone()) };
        let mut patched = apply(kind, type_name.as_deref(), &base, &patch)?;
        if directive.checks() {
            let found = check_patched(kind, schema, &base, &patched, patch_problems.clone());
            let shown = || match kind {
                PatchKind::Strategic => kubeplex_patch::go_format(&patch),
                _ => serde_json::to_string(&patched).unwrap_or_default(),
            };
            let found = fieldvalidation::settle(directive, found, |m| fieldvalidation::patch_error(shown(), m))?;
            if let Ok(mut w) = warnings.lock() {
                *w = found;
            }
        }
        fieldvalidation::prune(&mut patched, schema, Some(&base));
        // A resourceVersion in the patch is a precondition.
        if let Some(rv) = meta_str(&patched, "resourceVersion").filter(|rv| !rv.is_empty())
            && Some(rv) != meta_str(&base, "resourceVersion")
        {
            return Err(ApiError::conflict(&t.def.plural, &t.def.group, t.name(), ApiError::MODIFIED));
        }
        if !scale && meta_str(&patched, "name") != meta_str(old, "name") {
            return Err(ApiError::bad_request("metadata.name cannot be changed by a patch"));
        }
        if !scale {
            crate::convert::to_stored(&t.def, &mut patched);
        }
        let mut new = crud::replacement(t, old, &patched)?;
        managed::record(&t.def, t.subresource.as_deref(), Some(old), &mut new, &manager);
        Ok(new)
    })
    .await?;
    let reply = if scale { crud::scale_of(&t.def, &object) } else { crud::served(&t.def, object) };
    let warnings = warnings.into_inner().unwrap_or_default();
    Ok(with_warnings(json_response(status, &reply), &warnings))
}

/// Server-side apply: merges the applied configuration (YAML or JSON) into
/// the object, or creates it, as the field manager decides; conflicts are
/// 409s unless `force=true`.
async fn apply_patch(api: &Arc<ApiServer>, t: &Target, query: &Query, body: Body) -> Result<Response, ApiError> {
    let manager = managed::apply_manager(query)?;
    let directive = fieldvalidation::Directive::from_query(query, "PatchOptions")?;
    let force = managed::force(query)?;
    let dry_run = crud::dry_run(query)?;
    if !matches!(t.subresource.as_deref(), None | Some("status")) {
        return Err(ApiError::unsupported_media_type_list(PATCH_TYPES));
    }
    let bytes = read_body(body).await?;
    let text =
        std::str::from_utf8(&bytes).map_err(|_| ApiError::bad_request("error decoding YAML: body is not UTF-8"))?;
    // kubectl sends JSON, which the JSON parser reads much faster.
    let json = text.trim_start().starts_with('{').then(|| fieldvalidation::parse_json(&bytes).ok()).flatten();
    let node = match json {
        Some(node) => node,
        None => {
            fieldvalidation::parse_yaml(text).map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?
        }
    };
    let duplicates = fieldvalidation::yaml_duplicates(&node).into_iter().collect();
    let warnings = fieldvalidation::settle(directive, duplicates, |m| {
        ApiError::bad_request(format!(
            "error strict decoding YAML: {}",
            m.trim_start_matches("strict decoding error: ")
        ))
    })?;
    let mut config = node.into_value();
    managed::check_config(&t.def, t.name(), &mut config)?;
    crate::objects::check_type_and_namespace(&mut config, &t.def, t.namespace.as_deref())?;
    // A resourceVersion in the configuration is a precondition.
    let precondition = crate::objects::meta_mut(&mut config).shift_remove("resourceVersion");
    let precondition = precondition.as_ref().and_then(Value::as_str).filter(|v| !v.is_empty());
    let fm = managed::field_manager(&t.def, t.subresource.as_deref())
        .ok_or_else(|| ApiError::unsupported_media_type_list(CUSTOM_PATCH_TYPES))?;
    let api_version = t.def.api_version();
    let subresource = t.subresource.as_deref().unwrap_or("");
    let failed = |e| managed::apply_error(e, &t.def, t.namespace.as_deref(), t.name());
    let updated = crud::write_object(api, t, None, dry_run, |old| {
        let base = crud::served(&t.def, old.clone());
        if precondition.is_some_and(|rv| Some(rv) != meta_str(&base, "resourceVersion")) {
            return Err(ApiError::conflict(&t.def.plural, &t.def.group, t.name(), ApiError::MODIFIED));
        }
        let now = crate::objects::now();
        let writer = Writer { manager: &manager, api_version: &api_version, subresource, now: &now };
        let mut merged = fm.apply(Some(&base), &config, &writer, force).map_err(failed)?;
        drop_nulls(&mut merged);
        crate::convert::to_stored(&t.def, &mut merged);
        let mut new = crud::replacement(t, old, &merged)?;
        // A subresource's replacement starts from the stored object: the
        // apply's managed fields go in.
        if let Some(fields) = merged["metadata"].get("managedFields") {
            crate::objects::meta_mut(&mut new).insert("managedFields".into(), fields.clone());
        }
        managed::keep_if_unchanged(old, &mut new);
        Ok(new)
    })
    .await;
    let (object, status) = match updated {
        // No such object: the apply creates it (a precondition cannot hold).
        Err(e) if e.code == 404 && t.subresource.is_none() && precondition.is_none() => {
            let now = crate::objects::now();
            let writer = Writer { manager: &manager, api_version: &api_version, subresource, now: &now };
            let mut object = fm.apply(None, &config, &writer, force).map_err(failed)?;
            drop_nulls(&mut object);
            let (status, created) = crud::create_object(api, t, object, dry_run, None, None).await?;
            return Ok(with_warnings(json_response(status, &created), &warnings));
        }
        other => other?,
    };
    Ok(with_warnings(json_response(status, &crud::served(&t.def, object)), &warnings))
}

/// The strict errors of a patch: those of the patch itself, then the
/// unknown fields of the patched object that the stored one did not have
/// (a strategic merge patch's sorted by message, as upstream's unstructured
/// converter sorts them; the others in the key order of Go's re-encoding).
fn check_patched(
    kind: PatchKind,
    schema: Option<fieldvalidation::Schema<'_>>,
    base: &Value,
    patched: &Value,
    mut problems: Vec<String>,
) -> Vec<String> {
    let strategic = kind == PatchKind::Strategic;
    let unknown = fieldvalidation::unknown_fields(patched, schema, !strategic, strategic);
    if !unknown.is_empty() {
        let before = fieldvalidation::unknown_fields(base, schema, !strategic, strategic);
        problems.extend(unknown.into_iter().filter(|u| !before.contains(u)));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strategic_merge_uses_the_facts_table() {
        let deployment = json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": [
                {"name": "web", "image": "nginx:1.25"}, {"name": "sidecar", "image": "envoy"}
            ]}}}
        });
        let patch = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "web"}, {"name": "sidecar"}],
            "containers": [{"name": "web", "image": "nginx:1.27"}]
        }}}});
        let out = apply(PatchKind::Strategic, Some("io.k8s.api.apps.v1.Deployment"), &deployment, &patch).unwrap();
        let containers = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers[0]["image"], "nginx:1.27");
        assert_eq!(containers[1]["image"], "envoy");
        // Merge patch replaces the list whole.
        let merge = json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "x"}]}}}});
        let out = apply(PatchKind::Merge, None, &deployment, &merge).unwrap();
        assert_eq!(out["spec"]["template"]["spec"]["containers"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn strategic_merge_on_an_unknown_kind_is_415() {
        let err = apply(PatchKind::Strategic, None, &json!({}), &json!({})).unwrap_err();
        assert_eq!(err.code, 415);
    }
}
