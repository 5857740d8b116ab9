//! CustomResourceDefinitions (apiextensions.k8s.io/v1) and the custom
//! resources they define: the CRD's defaults, status on create, stored
//! versions and the main rules of `ValidateCustomResourceDefinition`; a
//! custom object's generation and status handling; the structural checks of
//! each version's schema and, for custom objects, pruning, defaulting and
//! validation against their version's schema (`kubeplex_core::schema`),
//! then its CEL rules (`x-kubernetes-validations`, compiled once per CRD
//! version by `kubeplex_core::schema::cel`; rules that do not compile refuse
//! the CRD).

use kubeplex_core::crd::{CLEANUP_FINALIZER, CrdNames};
use kubeplex_core::names::{name_is_dns_subdomain, name_is_dns1035_label};
use kubeplex_core::resource::ResourceDef;
use serde_json::{Value, json};

use super::field::{
    Errs, Path, at, forbidden, immutable, invalid, invalid_json, invalid_rendered, list_at, not_supported, obj_path,
    render_ordered, required, s, set_default,
};

const SCOPES: &[&str] = &["Cluster", "Namespaced"];
const COLUMN_TYPES: &[&str] = &["boolean", "date", "integer", "number", "string"];
const COLUMN_FORMATS: &[&str] = &["byte", "date", "date-time", "double", "float", "int32", "int64", "name", "password"];

// ------------------------------------------------ CustomResourceDefinition

/// `SetDefaults_CustomResourceDefinition(Spec)`: `conversion.strategy: None`,
/// the singular and list kind names.
pub(crate) fn crd_defaults(object: &mut Value) {
    let names = CrdNames::from_json(at(object, &["spec", "names"]));
    if let Some(spec_names) = obj_path(object, &["spec", "names"]) {
        if !names.singular.is_empty() {
            set_default(spec_names, "singular", json!(names.singular));
        }
        if !names.list_kind.is_empty() {
            set_default(spec_names, "listKind", json!(names.list_kind));
        }
    }
    if let Some(spec) = obj_path(object, &["spec"]) {
        set_default(spec, "conversion", json!({"strategy": "None"}));
    }
}

/// The name of the version marked `storage: true`, if exactly one is.
fn storage_version(object: &Value) -> Option<&str> {
    let mut storage = list_at(object, &["spec", "versions"]).iter().filter(|v| v["storage"] == true);
    match (storage.next(), storage.next()) {
        (Some(v), None) => v["name"].as_str(),
        _ => None,
    }
}

/// `PrepareForCreate`: a fresh status holding the storage version.
pub(crate) fn crd_prepare_create(object: &mut Value) {
    let stored: Vec<&str> = storage_version(object).into_iter().collect();
    object["status"] = json!({"acceptedNames": {"plural": "", "kind": ""}, "storedVersions": stored});
}

/// `PrepareForUpdate`: a new storage version joins `status.storedVersions`;
/// spec changes bump the generation.
pub(crate) fn crd_prepare_update(new: &mut Value, old: &Value) {
    if let Some(version) = storage_version(new).map(str::to_owned)
        && let Some(stored) = obj_path(new, &["status"]).and_then(|s| {
            s.entry("storedVersions").or_insert_with(|| json!([]));
            s.get_mut("storedVersions").and_then(Value::as_array_mut)
        })
        && !stored.iter().any(|v| v == version.as_str())
    {
        stored.push(json!(version));
    }
    if new.get("spec") != old.get("spec") {
        bump_generation(new, old);
    }
}

/// What a DELETE does before the object goes: the cleanup finalizer that
/// lets the CRD controller remove its objects first, and the `Terminating`
/// condition.
pub(crate) fn crd_prepare_delete(object: &mut Value) {
    if let Some(meta) = obj_path(object, &["metadata"]) {
        let list = meta.entry("finalizers").or_insert_with(|| json!([]));
        if let Some(list) = list.as_array_mut()
            && !list.iter().any(|f| f == CLEANUP_FINALIZER)
        {
            list.push(json!(CLEANUP_FINALIZER));
        }
    }
    crate::crds::set_condition(
        object,
        "Terminating",
        "True",
        "InstanceDeletionInProgress",
        "CustomResource deletion is in progress",
    );
}

/// The main rules of `ValidateCustomResourceDefinition`.
pub(crate) fn crd_validate(object: &Value) -> Errs {
    let mut errs = Errs::new();
    let spec = Path::new("spec");
    let group = s(object, &["spec", "group"]);
    let plural = s(object, &["spec", "names", "plural"]);
    let name = s(object, &["metadata", "name"]);
    if name != format!("{plural}.{group}") {
        errs.push(invalid(&Path::new("metadata.name"), name, r#"must be spec.names.plural+"."+spec.group"#));
    }
    if group.is_empty() {
        errs.push(required(&spec.child("group"), ""));
    } else if let problems = name_is_dns_subdomain(group, false)
        && !problems.is_empty()
    {
        errs.push(invalid(&spec.child("group"), group, &problems.join(",")));
    } else if !group.contains('.') {
        errs.push(invalid(&spec.child("group"), group, "should be a domain with at least one dot"));
    }
    match s(object, &["spec", "scope"]) {
        "" => errs.push(required(&spec.child("scope"), "")),
        scope if !SCOPES.contains(&scope) => errs.push(not_supported(&spec.child("scope"), scope, SCOPES)),
        _ => {}
    }
    let versions = list_at(object, &["spec", "versions"]);
    let vp = spec.child("versions");
    if versions.is_empty() {
        errs.push(required(&vp, ""));
    }
    let mut seen: Vec<&str> = Vec::new();
    for (i, version) in versions.iter().enumerate() {
        let path = vp.index(i);
        let vname = s(version, &["name"]);
        let problems = name_is_dns1035_label(vname, false);
        if !problems.is_empty() {
            errs.push(invalid(&path.child("name"), vname, &problems.join(",")));
        }
        match at(version, &["schema", "openAPIV3Schema"]) {
            None => errs.push(required(&path.child("schema").child("openAPIV3Schema"), "")),
            Some(schema) => {
                let schema_path = path.child("schema").child("openAPIV3Schema");
                errs.extend(kubeplex_core::schema::validate_structural(schema, schema_path.as_str()));
                for e in kubeplex_core::schema::cel::compile_errors(schema, schema_path.as_str()) {
                    if e.forbidden {
                        errs.push(forbidden(&Path::new(&e.field), &e.detail));
                    } else {
                        errs.push(invalid_rendered(&Path::new(&e.field), &render_ordered(&e.rule), &e.detail));
                    }
                }
            }
        }
        for (j, column) in list_at(version, &["additionalPrinterColumns"]).iter().enumerate() {
            errs.extend(validate_column(column, &path.child("additionalPrinterColumns").index(j)));
        }
        if let Some(scale) = at(version, &["subresources", "scale"]) {
            let sp = path.child("subresources").child("scale");
            for field in ["specReplicasPath", "statusReplicasPath"] {
                let value = s(scale, &[field]);
                if value.is_empty() {
                    errs.push(required(&sp.child(field), ""));
                } else if !simple_path(value) {
                    errs.push(invalid(&sp.child(field), value, "should be a json path under .spec or .status"));
                }
            }
        }
        seen.push(vname);
    }
    let mut unique = seen.clone();
    unique.sort_unstable();
    unique.dedup();
    if unique.len() != seen.len() {
        errs.push(invalid_json(&vp, &json!(seen), "must contain unique version names"));
    }
    if !versions.is_empty() && storage_version(object).is_none() {
        errs.push(invalid_json(&vp, &json!(seen), "must have exactly one version marked as storage version"));
    }
    let names = spec.child("names");
    for (field, value) in [("plural", plural), ("singular", s(object, &["spec", "names", "singular"]))] {
        if value.is_empty() {
            errs.push(required(&names.child(field), ""));
        } else if let problems = name_is_dns1035_label(value, false)
            && !problems.is_empty()
        {
            errs.push(invalid(&names.child(field), value, &problems.join(",")));
        }
    }
    let kind = s(object, &["spec", "names", "kind"]);
    let list_kind = s(object, &["spec", "names", "listKind"]);
    for (field, value) in [("kind", kind), ("listKind", list_kind)] {
        if value.is_empty() {
            errs.push(required(&names.child(field), ""));
        } else if let problems = name_is_dns1035_label(&value.to_lowercase(), false)
            && !problems.is_empty()
        {
            errs.push(invalid(
                &names.child(field),
                value,
                &format!("may have mixed case, but should otherwise match: {}", problems.join(",")),
            ));
        }
    }
    if !kind.is_empty() && kind == list_kind {
        errs.push(invalid(&names.child("listKind"), list_kind, "kind and listKind may not be the same"));
    }
    for (i, short) in list_at(object, &["spec", "names", "shortNames"]).iter().enumerate() {
        let short = short.as_str().unwrap_or("");
        let problems = name_is_dns1035_label(short, false);
        if !problems.is_empty() {
            errs.push(invalid(&names.child("shortNames").index(i), short, &problems.join(",")));
        }
    }
    let strategy = s(object, &["spec", "conversion", "strategy"]);
    if !["None", "Webhook"].contains(&strategy) {
        errs.push(not_supported(&spec.child("conversion").child("strategy"), strategy, &["None", "Webhook"]));
    }
    errs
}

fn validate_column(column: &Value, path: &Path) -> Errs {
    let mut errs = Errs::new();
    if s(column, &["name"]).is_empty() {
        errs.push(required(&path.child("name"), ""));
    }
    let type_ = s(column, &["type"]);
    let must_be = format!("must be one of {}", COLUMN_TYPES.join(","));
    if type_.is_empty() {
        errs.push(required(&path.child("type"), &must_be));
    } else if !COLUMN_TYPES.contains(&type_) {
        errs.push(invalid(&path.child("type"), type_, &must_be));
    }
    let format = s(column, &["format"]);
    if !format.is_empty() && !COLUMN_FORMATS.contains(&format) {
        errs.push(invalid(&path.child("format"), format, &format!("must be one of {}", COLUMN_FORMATS.join(","))));
    }
    if s(column, &["jsonPath"]).is_empty() {
        errs.push(required(&path.child("JSONPath"), ""));
    }
    errs
}

/// A scale path: `.spec.a.b` or `.status.a.b`, plain field names only.
fn simple_path(path: &str) -> bool {
    let mut segments = path.split('.');
    segments.next() == Some("")
        && matches!(segments.next(), Some("spec" | "status"))
        && segments.clone().next().is_some()
        && segments.all(|s| !s.is_empty() && !s.contains(['[', ']', '*']))
}

/// `ValidateCustomResourceDefinitionUpdate`'s immutable fields.
pub(crate) fn crd_validate_update(new: &Value, old: &Value) -> Errs {
    let mut errs = crd_validate(new);
    errs.retain(|e| !kubeplex_core::schema::cel::ratcheted_cost_error(&e.field, &e.body, new, old));
    immutable(&mut errs, at(new, &["spec", "group"]), at(old, &["spec", "group"]), &Path::new("spec.group"));
    immutable(&mut errs, at(new, &["spec", "scope"]), at(old, &["spec", "scope"]), &Path::new("spec.scope"));
    if new.pointer("/metadata/deletionTimestamp").is_some() && new.pointer("/spec/names") != old.pointer("/spec/names")
    {
        errs.push(forbidden(&Path::new("spec.names"), "may not change while the definition is terminating"));
    }
    errs
}

// ------------------------------------------------------- custom objects

/// `PrepareForCreate` of a custom object: with a status subresource the
/// status is not the creator's to set; then the schema's pruning and
/// defaults.
pub(crate) fn custom_prepare_create(def: &ResourceDef, object: &mut Value) {
    if def.subresource("status").is_some()
        && let Some(obj) = object.as_object_mut()
    {
        obj.shift_remove("status");
    }
    custom_prune_and_default(def, object);
}

/// What upstream's decoder does to a custom object before the strategy:
/// unknown fields (and unknown `metadata` fields) pruned, `default`s applied.
pub(crate) fn custom_prune_and_default(def: &ResourceDef, object: &mut Value) {
    if let Some(schema) = def.custom.as_ref().and_then(|c| c.schema.as_deref()) {
        kubeplex_core::schema::prune(object, schema);
        kubeplex_core::schema::apply_defaults(object, schema);
    }
}

/// Validation of a custom object against its version's schema, then its
/// `x-kubernetes-validations` rules (`old` on update, for transition rules),
/// which upstream skips when the schema found a wrong type or value.
pub(crate) fn custom_validate(def: &ResourceDef, object: &Value, old: Option<&Value>) -> Errs {
    let Some(custom) = def.custom.as_ref() else { return Errs::new() };
    let mut errs = match custom.schema.as_deref() {
        Some(schema) => kubeplex_core::schema::validate(object, schema),
        None => Errs::new(),
    };
    if let Some(rules) = custom.rules.as_deref() {
        // Upstream's `hasBlockingErr`: a type error (which the schema module
        // reports as `Invalid value` with `must be of type`) or an enum miss.
        let blocking = |e: &kubeplex_core::names::FieldError| {
            matches!(e.reason, "FieldValueTypeInvalid" | "FieldValueNotSupported")
                || e.body.contains(" in body must be of type ")
        };
        if errs.iter().any(blocking) {
            errs.push(invalid_rendered(
                &Path::new("<nil>"),
                "null",
                "some validation rules were not checked because the object was invalid; correct the existing errors \
                 to complete validation",
            ));
        } else {
            errs.extend(rules.validate(object, old));
        }
    }
    errs
}

/// `PrepareForUpdate` of a custom object: the generation counts changes
/// outside metadata (and outside status, which then has its own endpoint).
pub(crate) fn custom_prepare_update(def: &ResourceDef, new: &mut Value, old: &Value) {
    custom_prune_and_default(def, new);
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(obj) = v.as_object_mut() {
            obj.shift_remove("metadata");
            if def.subresource("status").is_some() {
                obj.shift_remove("status");
            }
        }
        v
    };
    if strip(new) != strip(old) {
        bump_generation(new, old);
    }
}

/// Sets `metadata.generation` to the old one plus one.
fn bump_generation(new: &mut Value, old: &Value) {
    let generation = at(old, &["metadata", "generation"]).and_then(Value::as_i64).unwrap_or(0) + 1;
    if let Some(meta) = obj_path(new, &["metadata"]) {
        meta.insert("generation".into(), json!(generation));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crd() -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "crontabs.stable.example.com"},
            "spec": {
                "group": "stable.example.com", "scope": "Namespaced",
                "names": {"plural": "crontabs", "kind": "CronTab"},
                "versions": [{"name": "v1", "served": true, "storage": true,
                              "schema": {"openAPIV3Schema": {"type": "object"}}}]
            }
        })
    }

    fn messages(errs: &Errs) -> Vec<String> {
        errs.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn defaults_and_status_on_create() {
        let mut object = crd();
        crd_defaults(&mut object);
        crd_prepare_create(&mut object);
        assert_eq!(object["spec"]["names"]["singular"], "crontab");
        assert_eq!(object["spec"]["names"]["listKind"], "CronTabList");
        assert_eq!(object["spec"]["conversion"], json!({"strategy": "None"}));
        assert_eq!(object["status"], json!({"acceptedNames": {"plural": "", "kind": ""}, "storedVersions": ["v1"]}));
        assert!(crd_validate(&object).is_empty(), "{:?}", messages(&crd_validate(&object)));
    }

    #[test]
    fn upstream_messages() {
        let mut object = crd();
        object["metadata"]["name"] = json!("crontabs.example.com");
        object["spec"]["group"] = json!("example");
        object["spec"]["scope"] = json!("Global");
        object["spec"]["versions"][0]["storage"] = json!(false);
        crd_defaults(&mut object);
        let errs = messages(&crd_validate(&object));
        assert!(
            errs.contains(
                &r#"metadata.name: Invalid value: "crontabs.example.com": must be spec.names.plural+"."+spec.group"#
                    .to_owned()
            ),
            "{errs:?}"
        );
        assert!(
            errs.contains(
                &r#"spec.group: Invalid value: "example": should be a domain with at least one dot"#.to_owned()
            ),
            "{errs:?}"
        );
        assert!(
            errs.contains(
                &r#"spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced""#.to_owned()
            ),
            "{errs:?}"
        );
        assert!(
            errs.iter().any(|e| e.ends_with("must have exactly one version marked as storage version")),
            "{errs:?}"
        );
    }

    #[test]
    fn stored_versions_generation_and_deletion() {
        let mut old = crd();
        crd_defaults(&mut old);
        crd_prepare_create(&mut old);
        old["metadata"]["generation"] = json!(1);
        let mut new = old.clone();
        new["spec"]["versions"] = json!([
            {"name": "v1", "served": true, "storage": false, "schema": {"openAPIV3Schema": {"type": "object"}}},
            {"name": "v2", "served": true, "storage": true, "schema": {"openAPIV3Schema": {"type": "object"}}}
        ]);
        crd_prepare_update(&mut new, &old);
        assert_eq!(new["status"]["storedVersions"], json!(["v1", "v2"]));
        assert_eq!(new["metadata"]["generation"], 2);
        let mut scoped = new.clone();
        scoped["spec"]["scope"] = json!("Cluster");
        assert!(
            messages(&crd_validate_update(&scoped, &new)).iter().any(|e| e.starts_with("spec.scope: Invalid value"))
        );

        crd_prepare_delete(&mut new);
        assert_eq!(new["metadata"]["finalizers"], json!([CLEANUP_FINALIZER]));
        assert_eq!(new["status"]["conditions"][0]["type"], "Terminating");
    }

    #[test]
    fn non_structural_schemas_are_refused() {
        let mut object = crd();
        object["spec"]["versions"][0]["schema"]["openAPIV3Schema"] = json!({"type": "object",
            "properties": {"spec": {"properties": {"a": {"type": "string"}}}}});
        crd_defaults(&mut object);
        assert_eq!(
            messages(&crd_validate(&object)),
            ["spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for \
              specified object fields"]
        );
    }

    #[test]
    fn cel_rules_compiled_and_evaluated() {
        let mut object = crd();
        object["spec"]["versions"][0]["schema"]["openAPIV3Schema"] = json!({"type": "object",
            "x-kubernetes-validations": [{"rule": "self.spec.a <", "message": "m"}],
            "properties": {"spec": {"type": "object", "properties": {"a": {"type": "integer"}}}}});
        crd_defaults(&mut object);
        let errs = messages(&crd_validate(&object));
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].starts_with(
                r#"spec.versions[0].schema.openAPIV3Schema.x-kubernetes-validations[0].rule: Invalid value: {"Rule":"self.spec.a \u003c","Message":"m","MessageExpression":"","Reason":null,"FieldPath":"","OptionalOldSelf":null}: compilation failed: "#
            ),
            "{errs:?}"
        );

        object["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["x-kubernetes-validations"] =
            json!([{"rule": "self.spec.a > 1", "message": "a too small"}]);
        assert!(crd_validate(&object).is_empty());
        let names = CrdNames::from_json(at(&object, &["spec", "names"]));
        let defs = kubeplex_core::crd::served_resources(&object, &names, false);
        let def = &defs[0];
        assert!(def.custom.as_ref().is_some_and(|c| c.rules.is_some()));
        let good = json!({"spec": {"a": 2}});
        assert!(custom_validate(def, &good, None).is_empty());
        assert_eq!(
            messages(&custom_validate(def, &json!({"spec": {"a": 1}}), None)),
            ["<nil>: Invalid value: a too small"]
        );
        // A type error blocks the rules, as upstream's `hasBlockingErr`.
        let errs = messages(&custom_validate(def, &json!({"spec": {"a": "x"}}), None));
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[1].starts_with("<nil>: Invalid value: null: some validation rules were not checked"), "{errs:?}");
    }

    #[test]
    fn scale_paths() {
        assert!(simple_path(".spec.replicas"));
        assert!(simple_path(".status.scale.replicas"));
        assert!(!simple_path("spec.replicas"));
        assert!(!simple_path(".metadata.name"));
        assert!(!simple_path(".spec"));
        assert!(!simple_path(".spec.items[0]"));
    }
}
